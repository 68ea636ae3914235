/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-device analyzer state: one zero-initialised record of a fixed size per
 * struct device address. Analyzers keep their own table (their records differ)
 * but share this code.
 */
#ifndef HM_DEVTABLE_H
#define HM_DEVTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "u64map.h"

#define HM_DEVTABLE_MAX 65536         /* devices tracked at once */

struct hm_devtable {
	struct u64map map;           /* dev_addr -> record */
	size_t rec_size;
	uint64_t overflow;           /* devices not tracked: table full */
};

void hm_devtable_init(struct hm_devtable *t, size_t rec_size);
void hm_devtable_free(struct hm_devtable *t);
/* The record of dev_addr, NULL if there is none (or dev_addr is 0). */
void *hm_devtable_get(const struct hm_devtable *t, uint64_t dev_addr);
/* The record of dev_addr, created zeroed on first use; NULL if dev_addr is 0,
 * the table is full (counted in overflow) or memory ran out. */
void *hm_devtable_get_or_add(struct hm_devtable *t, uint64_t dev_addr);
/* Forget dev_addr (the device went away; the address may be reused). */
void hm_devtable_remove(struct hm_devtable *t, uint64_t dev_addr);
/* Iterate: for (size_t it = 0; (rec = hm_devtable_next(t, &it));) — do not
 * add or remove records while iterating. */
void *hm_devtable_next(const struct hm_devtable *t, size_t *it);

#endif
