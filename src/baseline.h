/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A baseline: findings a project has accepted, by fingerprint (the same
 * value the engine de-duplicates on: kind plus lock classes or devices,
 * never addresses or times, so it is stable across runs and hosts).
 *
 * The file is text, one accepted finding per line:
 *
 *     # comment
 *     <16 hex digits>  <kind>  <summary>
 *
 * Only the fingerprint counts; the rest of the line says what it was.
 */
#ifndef HM_BASELINE_H
#define HM_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hisimig/findings.h"

struct hm_baseline;
struct hm_finding_set;

/* An empty baseline (for --update-baseline of a file not there yet). */
struct hm_baseline *hm_baseline_new(void);
/* NULL with a one-line reason ("FILE:3: ...") in err. */
struct hm_baseline *hm_baseline_load(const char *path, char *err, size_t errlen);
void hm_baseline_free(struct hm_baseline *b);
size_t hm_baseline_count(const struct hm_baseline *b);
/* false for a NULL baseline */
bool hm_baseline_accepts(const struct hm_baseline *b, const struct hm_finding *f);
/* Write the baseline back with every finding of set added (entries not seen
 * this run are kept: a run need not reach every path). Replaces path whole
 * (temporary file + rename). false with a reason in err. */
bool hm_baseline_write(const struct hm_baseline *b, const struct hm_finding_set *set,
		       const char *path, char *err, size_t errlen);

#endif
