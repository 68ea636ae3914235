// SPDX-License-Identifier: GPL-2.0
#include "finding_set.h"

#include <stdlib.h>

#include "baseline.h"

void hm_finding_set_init(struct hm_finding_set *set, const struct hm_stacks *stacks,
			 const struct hm_baseline *baseline)
{
	*set = (struct hm_finding_set){ .stacks = stacks, .baseline = baseline };
}

void hm_finding_set_free(struct hm_finding_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		hm_finding_release(&set->items[i].finding);
		free(set->items[i].text);
	}
	free(set->items);
	set->items = NULL;
	set->count = set->cap = 0;
}

/* The text reporter's output for one finding, as a string. */
static char *render_text(const struct hm_finding_set *set, const struct hm_finding *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct hm_report_ctx ctx = { .stacks = set->stacks };

	if (!mem)
		return NULL;
	ctx.out = mem;
	hm_text_reporter.finding(&ctx, f);
	if (fclose(mem)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void keep_finding(void *ctx, const struct hm_finding *f)
{
	struct hm_finding_set *set = ctx;
	struct hm_kept_finding *k;

	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct hm_kept_finding *items = realloc(set->items, cap * sizeof(*items));

		if (!items)
			return; /* the live report already showed it; only the file lacks it */
		set->items = items;
		set->cap = cap;
	}
	k = &set->items[set->count++];
	hm_finding_copy(&k->finding, f);
	k->text = render_text(set, f);
	k->accepted = hm_baseline_accepts(set->baseline, f);
}

struct hm_observer hm_finding_set_observer(struct hm_finding_set *set)
{
	return (struct hm_observer){ .on_finding = keep_finding, .ctx = set };
}

size_t hm_finding_set_failing(const struct hm_finding_set *set, enum hm_severity fail_on)
{
	size_t n = 0;

	for (size_t i = 0; i < set->count; i++)
		n += !set->items[i].accepted && set->items[i].finding.severity >= fail_on;
	return n;
}
