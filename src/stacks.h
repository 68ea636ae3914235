/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel stacks by id, and the symbol of every frame address seen. Live runs
 * fill it from the BPF stack map and /proc/kallsyms, replays from the trace
 * file's stack and symbol tables, tests from hand-written frames.
 */
#ifndef HM_STACKS_H
#define HM_STACKS_H

#include <stdbool.h>
#include <stdint.h>
#include "hisimig/events.h"

struct hm_stack {
	unsigned int depth;
	uint64_t ips[HM_MAX_STACK_DEPTH];
};

struct hm_stacks;

/* Bounds on an endless run: a kernel stack map holds far fewer ids, a kernel
 * far fewer call sites; beyond them, adds are refused and counted. */
#define HM_STACKS_MAX 65536
#define HM_STACKS_MAX_SYMBOLS 262144

struct hm_stacks *hm_stacks_new(void);
void hm_stacks_free(struct hm_stacks *st);

/* Keep the first stack seen for an id; later adds of the same id are ignored. */
bool hm_stacks_add(struct hm_stacks *st, int32_t id, const uint64_t *ips, unsigned int depth);
const struct hm_stack *hm_stacks_get(const struct hm_stacks *st, int32_t id);

bool hm_stacks_add_symbol(struct hm_stacks *st, uint64_t addr, const char *name);
/* The symbol of a frame address ("func+0x1c/0x90 [mod]"), NULL if unknown. */
const char *hm_stacks_symbol(const struct hm_stacks *st, uint64_t addr);

/* Stacks and symbols refused because their table was full. */
uint64_t hm_stacks_dropped(const struct hm_stacks *st);
uint64_t hm_stacks_symbols_dropped(const struct hm_stacks *st);

#endif
