// SPDX-License-Identifier: GPL-2.0
#include "kallsyms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ksym {
	uint64_t addr;
	char *name;                   /* owned; the module's name follows it */
	const char *module;           /* "" for vmlinux */
};

struct sym_list {
	struct ksym *syms;
	size_t count, cap;
};

struct hm_ksyms {
	struct sym_list text;         /* functions, sorted by address */
	struct sym_list data;         /* data symbols, in file order (first match wins) */
};

static bool is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

static bool is_data(char type)
{
	return strchr("dDbBrR", type) != NULL;
}

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool add(struct sym_list *list, uint64_t addr, const char *name, const char *module)
{
	char *s;
	size_t nlen = strlen(name) + 1;

	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 65536;
		struct ksym *syms = realloc(list->syms, cap * sizeof(*syms));

		if (!syms)
			return false;
		list->syms = syms;
		list->cap = cap;
	}
	s = malloc(nlen + strlen(module) + 1);
	if (!s)
		return false;
	memcpy(s, name, nlen);
	strcpy(s + nlen, module);
	list->syms[list->count++] = (struct ksym){ .addr = addr, .name = s, .module = s + nlen };
	return true;
}

static void free_list(struct sym_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->syms[i].name);
	free(list->syms);
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
		struct sym_list *list;
		uint64_t addr;

		/* "ffffffffc0a01000 t vfio_pci_core_enable\t[vfio_pci_core]" */
		if (sscanf(line, "%" SCNx64 " %c %255s [%127[^]]]", &addr, &type, name, module) < 3)
			continue;
		list = is_text(type) ? &ks->text : is_data(type) ? &ks->data : NULL;
		if (!list)
			continue;
		any_addr |= addr != 0;
		if (!add(list, addr, name, module)) {
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
	qsort(ks->text.syms, ks->text.count, sizeof(*ks->text.syms), by_addr);
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
	free_list(&ks->text);
	free_list(&ks->data);
	free(ks);
}

/* The last function at or below addr. */
static const struct ksym *lookup(const struct sym_list *text, uint64_t addr, size_t *index)
{
	size_t lo = 0, hi = text->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (text->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	*index = lo - 1;
	return &text->syms[lo - 1];
}

bool hm_ksyms_format(const struct hm_ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	size_t i;
	const struct ksym *s = lookup(&ks->text, addr, &i);
	uint64_t size;

	if (!s)
		return false;
	/* the next symbol bounds this one; the last one's size is unknown */
	size = i + 1 < ks->text.count ? ks->text.syms[i + 1].addr - s->addr : 0;
	if (size && addr - s->addr >= size)
		return false;
	snprintf(buf, len, "%s+0x%" PRIx64 "/0x%" PRIx64 "%s%s%s", s->name, addr - s->addr, size,
		 *s->module ? " [" : "", s->module, *s->module ? "]" : "");
	return true;
}

static const struct ksym *by_name(const struct sym_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (!strcmp(list->syms[i].name, name))
			return &list->syms[i];
	return NULL;
}

bool hm_ksyms_find(const struct hm_ksyms *ks, const char *name, const char **module)
{
	const struct ksym *s = by_name(&ks->text, name);

	if (s && module)
		*module = s->module;
	return s != NULL;
}

bool hm_ksyms_find_data(const struct hm_ksyms *ks, const char *name, uint64_t *addr)
{
	const struct ksym *s = by_name(&ks->data, name);

	if (s && addr)
		*addr = s->addr;
	return s != NULL;
}
