// SPDX-License-Identifier: GPL-2.0
#include "devtable.h"

#include <stdlib.h>

void hm_devtable_init(struct hm_devtable *t, size_t rec_size)
{
	u64map_init(&t->map);
	t->rec_size = rec_size;
	t->overflow = 0;
}

void hm_devtable_free(struct hm_devtable *t)
{
	u64map_free_all(&t->map);
}

void *hm_devtable_get(const struct hm_devtable *t, uint64_t dev_addr)
{
	return dev_addr ? u64map_get(&t->map, dev_addr) : NULL;
}

void *hm_devtable_get_or_add(struct hm_devtable *t, uint64_t dev_addr)
{
	void *rec = hm_devtable_get(t, dev_addr);

	if (rec || !dev_addr)
		return rec;
	if (t->map.count >= HM_DEVTABLE_MAX) {
		t->overflow++;
		return NULL;
	}
	rec = calloc(1, t->rec_size);
	if (rec && !u64map_put(&t->map, dev_addr, rec)) {
		free(rec);
		rec = NULL;
	}
	return rec;
}

void hm_devtable_remove(struct hm_devtable *t, uint64_t dev_addr)
{
	if (dev_addr)
		free(u64map_del(&t->map, dev_addr));
}

void *hm_devtable_next(const struct hm_devtable *t, size_t *it)
{
	uint64_t key;
	void *rec;

	return u64map_next(&t->map, it, &key, &rec) ? rec : NULL;
}
