// SPDX-License-Identifier: GPL-2.0
#include "stacks.h"

#include <stdlib.h>
#include <string.h>

#include "u64map.h"

struct hm_stacks {
	struct u64map by_id;          /* (id + 1) -> struct hm_stack * */
	struct u64map symbols;        /* address -> char * */
	uint64_t dropped, symbols_dropped;
};

struct hm_stacks *hm_stacks_new(void)
{
	struct hm_stacks *st = calloc(1, sizeof(*st));

	if (st) {
		u64map_init(&st->by_id);
		u64map_init(&st->symbols);
	}
	return st;
}

void hm_stacks_free(struct hm_stacks *st)
{
	if (!st)
		return;
	u64map_free_all(&st->by_id);
	u64map_free_all(&st->symbols);
	free(st);
}

/* Stack ids start at 0; the map reserves key 0. */
static uint64_t id_key(int32_t id)
{
	return (uint64_t)(uint32_t)id + 1;
}

bool hm_stacks_add(struct hm_stacks *st, int32_t id, const uint64_t *ips, unsigned int depth)
{
	struct hm_stack *stack;

	if (id < 0 || hm_stacks_get(st, id))
		return id >= 0;
	if (st->by_id.count >= HM_STACKS_MAX) {
		st->dropped++;
		return true; /* well formed, just not kept */
	}
	stack = calloc(1, sizeof(*stack));
	if (!stack)
		return false;
	stack->depth = depth > HM_MAX_STACK_DEPTH ? HM_MAX_STACK_DEPTH : depth;
	memcpy(stack->ips, ips, stack->depth * sizeof(ips[0]));
	if (!u64map_put(&st->by_id, id_key(id), stack)) {
		free(stack);
		return false;
	}
	return true;
}

const struct hm_stack *hm_stacks_get(const struct hm_stacks *st, int32_t id)
{
	return id < 0 ? NULL : u64map_get(&st->by_id, id_key(id));
}

bool hm_stacks_add_symbol(struct hm_stacks *st, uint64_t addr, const char *name)
{
	char *copy;

	if (!addr || u64map_get(&st->symbols, addr))
		return addr != 0;
	if (st->symbols.count >= HM_STACKS_MAX_SYMBOLS) {
		st->symbols_dropped++;
		return true;
	}
	copy = strdup(name);
	if (!copy || !u64map_put(&st->symbols, addr, copy)) {
		free(copy);
		return false;
	}
	return true;
}

const char *hm_stacks_symbol(const struct hm_stacks *st, uint64_t addr)
{
	return u64map_get(&st->symbols, addr);
}

uint64_t hm_stacks_dropped(const struct hm_stacks *st)
{
	return st->dropped;
}

uint64_t hm_stacks_symbols_dropped(const struct hm_stacks *st)
{
	return st->symbols_dropped;
}
