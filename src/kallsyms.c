// SPDX-License-Identifier: GPL-2.0
#include "kallsyms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module;           /* "" for vmlinux */
};

struct hm_ksyms {
	struct ksym *syms;            /* text symbols sorted by address */
	size_t count, cap;
	char **strings;               /* owned names, one allocation per line */
	size_t nstrings;
};

static bool is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool add(struct hm_ksyms *ks, uint64_t addr, const char *name, const char *module)
{
	char *s;
	size_t nlen = strlen(name) + 1;

	if (ks->count == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 65536;
		struct ksym *syms = realloc(ks->syms, cap * sizeof(*syms));
		char **strings = realloc(ks->strings, cap * sizeof(*strings));

		if (syms)
			ks->syms = syms;
		if (strings)
			ks->strings = strings;
		if (!syms || !strings)
			return false;
		ks->cap = cap;
	}
	s = malloc(nlen + strlen(module) + 1);
	if (!s)
		return false;
	memcpy(s, name, nlen);
	strcpy(s + nlen, module);
	ks->strings[ks->nstrings++] = s;
	ks->syms[ks->count++] = (struct ksym){ .addr = addr, .name = s, .module = s + nlen };
	return true;
}

struct hm_ksyms *hm_ksyms_load(const char *path, char *err, size_t errlen)
{
	struct hm_ksyms *ks = calloc(1, sizeof(*ks));
	FILE *f = fopen(path, "re");
	char line[512];
	bool any_addr = false;

	if (!ks || !f) {
		snprintf(err, errlen, "%s: %s", path, strerror(f ? ENOMEM : errno));
		goto fail;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[256], module[128] = "", type;
		uint64_t addr;

		/* "ffffffffc0a01000 t vfio_pci_core_enable\t[vfio_pci_core]" */
		if (sscanf(line, "%" SCNx64 " %c %255s [%127[^]]]", &addr, &type, name, module) < 3)
			continue;
		if (!is_text(type))
			continue;
		any_addr |= addr != 0;
		if (!add(ks, addr, name, module)) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
	}
	fclose(f);
	f = NULL;
	if (!any_addr) {
		snprintf(err, errlen, "%s: addresses are hidden (kptr_restrict): run as root", path);
		goto fail;
	}
	qsort(ks->syms, ks->count, sizeof(*ks->syms), by_addr);
	return ks;
fail:
	if (f)
		fclose(f);
	hm_ksyms_free(ks);
	return NULL;
}

void hm_ksyms_free(struct hm_ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->nstrings; i++)
		free(ks->strings[i]);
	free(ks->strings);
	free(ks->syms);
	free(ks);
}

/* The last symbol at or below addr. */
static const struct ksym *lookup(const struct hm_ksyms *ks, uint64_t addr, size_t *index)
{
	size_t lo = 0, hi = ks->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	*index = lo - 1;
	return &ks->syms[lo - 1];
}

bool hm_ksyms_format(const struct hm_ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	size_t i;
	const struct ksym *s = lookup(ks, addr, &i);
	uint64_t size;

	if (!s)
		return false;
	/* the next symbol bounds this one; the last one's size is unknown */
	size = i + 1 < ks->count ? ks->syms[i + 1].addr - s->addr : 0;
	if (size && addr - s->addr >= size)
		return false;
	snprintf(buf, len, "%s+0x%" PRIx64 "/0x%" PRIx64 "%s%s%s", s->name, addr - s->addr, size,
		 *s->module ? " [" : "", s->module, *s->module ? "]" : "");
	return true;
}

bool hm_ksyms_find(const struct hm_ksyms *ks, const char *name, const char **module)
{
	for (size_t i = 0; i < ks->count; i++)
		if (!strcmp(ks->syms[i].name, name)) {
			if (module)
				*module = ks->syms[i].module;
			return true;
		}
	return false;
}
