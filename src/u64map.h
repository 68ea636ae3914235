/* SPDX-License-Identifier: GPL-2.0 */
/* Open-addressing hash map from a non-zero u64 key to a pointer value. */
#ifndef HM_U64MAP_H
#define HM_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map {
	uint64_t *keys;              /* 0: empty slot, UINT64_MAX: tombstone */
	void **vals;
	size_t cap;                  /* power of two */
	size_t used;                 /* live + tombstones */
	size_t count;                /* live */
};

void u64map_init(struct u64map *m);
void u64map_free(struct u64map *m);
/* Remove every entry but keep the memory, for a map refilled often. */
void u64map_clear(struct u64map *m);
void *u64map_get(const struct u64map *m, uint64_t key);
/* Insert or replace; false only on allocation failure. */
bool u64map_put(struct u64map *m, uint64_t key, void *val);
/* Remove and return the value (NULL if absent). */
void *u64map_del(struct u64map *m, uint64_t key);

/* A key for content of any length (never 0 or the tombstone): equal bytes,
 * equal keys; the caller compares content on a hit. */
uint64_t u64map_hash_bytes(const void *data, size_t len);

/* Chain one value into a key built from several (a word at a time, where
 * hm_hash_bytes() goes byte by byte): for keys that never leave the
 * process. Fingerprints, which baselines store, keep hm_hash_bytes(). */
static inline uint64_t u64map_mix(uint64_t h, uint64_t value)
{
	h = (h ^ value) * 0x9e3779b97f4a7c15ULL;
	return h ^ h >> 29;
}

/* free() every value, then the map itself. */
void u64map_free_all(struct u64map *m);

/* Iterate: for (size_t it = 0; u64map_next(m, &it, &k, &v);) */
bool u64map_next(const struct u64map *m, size_t *it, uint64_t *key, void **val);

#endif
