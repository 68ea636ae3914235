/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /proc/kallsyms (vmlinux and modules), read once per load into one table:
 * functions to symbolize kernel addresses and find hook targets, data
 * symbols to find kernel globals (the known mutexes, pci_bus_type).
 */
#ifndef HM_KALLSYMS_H
#define HM_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hm_ksyms;

/* NULL with a one-line reason in err (e.g. addresses hidden by kptr_restrict). */
struct hm_ksyms *hm_ksyms_load(const char *path, char *err, size_t errlen);
void hm_ksyms_free(struct hm_ksyms *ks);

/* "func+0x1c/0x90 [module]" into buf; false if addr is in no known function. */
bool hm_ksyms_format(const struct hm_ksyms *ks, uint64_t addr, char *buf, size_t len);

/* Is name a text symbol? *module gets its module ("" for vmlinux) when found. */
bool hm_ksyms_find(const struct hm_ksyms *ks, const char *name, const char **module);

/* Is name a data symbol (data, bss or read-only data; needs
 * CONFIG_KALLSYMS_ALL)? *addr gets the first one's address when found. */
bool hm_ksyms_find_data(const struct hm_ksyms *ks, const char *name, uint64_t *addr);

#endif
