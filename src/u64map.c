// SPDX-License-Identifier: GPL-2.0
#include "u64map.h"

#include <stdlib.h>
#include <string.h>

#define TOMBSTONE UINT64_MAX

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

void u64map_init(struct u64map *m)
{
	*m = (struct u64map){ 0 };
}

void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	u64map_init(m);
}

void u64map_clear(struct u64map *m)
{
	if (m->cap)
		memset(m->keys, 0, m->cap * sizeof(*m->keys));
	m->used = 0;
	m->count = 0;
}

static long find(const struct u64map *m, uint64_t key)
{
	if (!m->cap || key == 0 || key == TOMBSTONE)
		return -1;
	for (size_t i = slot_of(key, m->cap), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
		if (m->keys[i] == key)
			return (long)i;
		if (m->keys[i] == 0)
			return -1;
	}
	return -1;
}

void u64map_free_all(struct u64map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] && m->keys[i] != TOMBSTONE)
			free(m->vals[i]);
	u64map_free(m);
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
	long i = find(m, key);

	return i < 0 ? NULL : m->vals[i];
}

static bool grow(struct u64map *m)
{
	struct u64map bigger = { 0 };
	size_t it = 0;
	uint64_t k;
	void *v;

	bigger.cap = m->cap ? m->cap * 2 : 16;
	/* rehash in place of tombstones when most slots are dead */
	if (m->count * 4 < m->cap)
		bigger.cap = m->cap;
	bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
	bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
	if (!bigger.keys || !bigger.vals) {
		free(bigger.keys);
		free(bigger.vals);
		return false;
	}
	while (u64map_next(m, &it, &k, &v)) {
		size_t i = slot_of(k, bigger.cap);

		while (bigger.keys[i])
			i = (i + 1) & (bigger.cap - 1);
		bigger.keys[i] = k;
		bigger.vals[i] = v;
		bigger.used++;
		bigger.count++;
	}
	u64map_free(m);
	*m = bigger;
	return true;
}

bool u64map_put(struct u64map *m, uint64_t key, void *val)
{
	long found = find(m, key);
	size_t i;

	if (key == 0 || key == TOMBSTONE)
		return false;
	if (found >= 0) {
		m->vals[found] = val;
		return true;
	}
	if ((m->used + 1) * 4 > m->cap * 3 && !grow(m))
		return false;
	i = slot_of(key, m->cap);
	while (m->keys[i] && m->keys[i] != TOMBSTONE)
		i = (i + 1) & (m->cap - 1);
	if (m->keys[i] == 0)
		m->used++;
	m->keys[i] = key;
	m->vals[i] = val;
	m->count++;
	return true;
}

void *u64map_del(struct u64map *m, uint64_t key)
{
	long i = find(m, key);
	void *val;

	if (i < 0)
		return NULL;
	val = m->vals[i];
	m->vals[i] = NULL;
	m->count--;
	if (m->keys[(size_t)(i + 1) & (m->cap - 1)]) {
		m->keys[i] = TOMBSTONE;
		return val;
	}
	/* no probe chain runs past i: free it and the tombstones just before it,
	 * so insert/delete churn does not fill the table with them (nothing moves:
	 * deleting while iterating stays safe) */
	for (size_t j = (size_t)i;; j = (j - 1) & (m->cap - 1)) {
		m->keys[j] = 0;
		m->used--;
		if (m->keys[(j - 1) & (m->cap - 1)] != TOMBSTONE)
			break;
	}
	return val;
}

bool u64map_next(const struct u64map *m, size_t *it, uint64_t *key, void **val)
{
	while (*it < m->cap) {
		size_t i = (*it)++;

		if (m->keys[i] && m->keys[i] != TOMBSTONE) {
			*key = m->keys[i];
			*val = m->vals[i];
			return true;
		}
	}
	return false;
}

uint64_t u64map_hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, word;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&word, p, 8);
		h = (h ^ word) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	for (; len; p++, len--)
		h = (h ^ *p) * 0x100000001b3ULL;
	h ^= h >> 32;
	/* top bit clear: never the tombstone; low bit set: never 0 */
	return (h >> 1) | 1;
}
