// SPDX-License-Identifier: GPL-2.0
#include "baseline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "finding_set.h"
#include "line_reader.h"
#include "outfile.h"

#define FINGERPRINT_DIGITS 16

struct baseline_entry {
	uint64_t fingerprint;
	char *comment;                /* the rest of its line, for writing it back */
};

struct hm_baseline {
	struct baseline_entry *entries; /* sorted by fingerprint once loaded */
	size_t count, cap;
};

struct hm_baseline *hm_baseline_new(void)
{
	return calloc(1, sizeof(struct hm_baseline));
}

void hm_baseline_free(struct hm_baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->count; i++)
		free(b->entries[i].comment);
	free(b->entries);
	free(b);
}

size_t hm_baseline_count(const struct hm_baseline *b)
{
	return b ? b->count : 0;
}

static int by_fingerprint(const void *a, const void *b)
{
	uint64_t x = ((const struct baseline_entry *)a)->fingerprint;
	uint64_t y = ((const struct baseline_entry *)b)->fingerprint;

	return x < y ? -1 : x > y;
}

static bool add_entry(struct hm_baseline *b, uint64_t fingerprint, const char *comment)
{
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		struct baseline_entry *e = realloc(b->entries, cap * sizeof(*e));

		if (!e)
			return false;
		b->entries = e;
		b->cap = cap;
	}
	b->entries[b->count].fingerprint = fingerprint;
	b->entries[b->count].comment = strdup(comment);
	if (!b->entries[b->count].comment)
		return false;
	b->count++;
	return true;
}

/* "<16 hex digits>[ whitespace comment]": true and the parts set. */
static bool parse_line(char *line, uint64_t *fingerprint, char **comment)
{
	char *end;

	if (strspn(line, "0123456789abcdefABCDEF") != FINGERPRINT_DIGITS)
		return false;
	end = line + FINGERPRINT_DIGITS;
	if (*end && *end != ' ' && *end != '\t')
		return false;
	errno = 0;
	*fingerprint = strtoull(line, NULL, 16);
	if (errno)
		return false;
	*comment = end + strspn(end, " \t");
	return true;
}

static bool load_line(void *ctx, char *line, const char *path, size_t lineno, char *err,
		      size_t errlen)
{
	uint64_t fp;
	char *comment;

	if (!parse_line(line, &fp, &comment)) {
		snprintf(err, errlen, "%s:%zu: not a baseline line (16 hex digits of a "
			 "fingerprint, then an optional comment)", path, lineno);
		return false;
	}
	if (!add_entry(ctx, fp, comment)) {
		snprintf(err, errlen, "%s: out of memory", path);
		return false;
	}
	return true;
}

struct hm_baseline *hm_baseline_load(const char *path, char *err, size_t errlen)
{
	struct hm_baseline *b = hm_baseline_new();

	if (!b) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	if (!hm_read_lines(path, load_line, b, err, errlen)) {
		hm_baseline_free(b);
		return NULL;
	}
	qsort(b->entries, b->count, sizeof(*b->entries), by_fingerprint);
	return b;
}

static const struct baseline_entry *find(const struct hm_baseline *b, uint64_t fingerprint)
{
	struct baseline_entry key = { .fingerprint = fingerprint };

	if (!b || !b->count)
		return NULL;
	return bsearch(&key, b->entries, b->count, sizeof(key), by_fingerprint);
}

bool hm_baseline_accepts(const struct hm_baseline *b, const struct hm_finding *f)
{
	return find(b, f->fingerprint) != NULL;
}

static bool seen_in(const struct hm_finding_set *set, uint64_t fingerprint)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->items[i].finding.fingerprint == fingerprint)
			return true;
	return false;
}

static void write_entries(FILE *out, const struct hm_baseline *b, const struct hm_finding_set *set)
{
	fprintf(out, "# hisimig-trace baseline: accepted findings, one per line:\n"
		     "# fingerprint (16 hex digits), then the finding's kind and summary.\n"
		     "# Findings listed here are reported but do not fail the run.\n");
	/* the engine reports each fingerprint once: one line each */
	for (size_t i = 0; i < set->count; i++) {
		const struct hm_finding *f = &set->items[i].finding;

		fprintf(out, "%016" PRIx64 "  %s  %s\n", f->fingerprint,
			hm_finding_kind_name(f->kind), f->summary);
	}
	for (size_t i = 0; b && i < b->count; i++)
		if (!seen_in(set, b->entries[i].fingerprint))
			fprintf(out, "%016" PRIx64 "  %s\n", b->entries[i].fingerprint,
				b->entries[i].comment);
}

struct baseline_job {
	const struct hm_baseline *b;
	const struct hm_finding_set *set;
};

static void write_job(FILE *out, const void *ctx)
{
	const struct baseline_job *job = ctx;

	write_entries(out, job->b, job->set);
}

bool hm_baseline_write(const struct hm_baseline *b, const struct hm_finding_set *set,
		       const char *path, char *err, size_t errlen)
{
	struct baseline_job job = { b, set };

	return hm_outfile_write(path, write_job, &job, err, errlen);
}
