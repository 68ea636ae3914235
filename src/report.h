/* SPDX-License-Identifier: GPL-2.0 */
/* Reporters turn findings into text (lockdep-like) or JSON lines. */
#ifndef HM_REPORT_H
#define HM_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "engine.h"
#include "stacks.h"

enum hm_report_format {
	HM_REPORT_TEXT,
	HM_REPORT_JSON,
};

struct hm_report_ctx {
	FILE *out;
	const struct hm_stacks *stacks;
};

struct hm_reporter_ops {
	void (*finding)(const struct hm_report_ctx *ctx, const struct hm_finding *f);
	void (*summary)(const struct hm_report_ctx *ctx, const struct hm_engine_stats *stats,
			const char *source);
};

/* The NDJSON schema (docs/json.md), in every summary record: bumped when a
 * field is renamed, removed or changes meaning; new fields do not bump it. */
#define HM_JSON_SCHEMA_VERSION 1

extern const struct hm_reporter_ops hm_text_reporter;
extern const struct hm_reporter_ops hm_json_reporter;

const struct hm_reporter_ops *hm_reporter_for(enum hm_report_format fmt);

#endif
