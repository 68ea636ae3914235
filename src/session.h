/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One analysis run. Live tracing and replay differ only in where events come
 * from: both hand each record to hm_session_event(), which records it (when
 * asked) and feeds the analyzers; findings are reported as they appear.
 */
#ifndef HM_SESSION_H
#define HM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "analyzer.h"
#include "finding.h"
#include "observer.h"
#include "report.h"
#include "stacks.h"
#include "trace_file.h"

struct hm_session_opts {
	enum hm_report_format format;
	enum hm_severity fail_on;     /* exit 1 when a finding is at least this severe */
	struct hm_config config;
	FILE *out;                    /* findings and summary */
	const char *record_path;      /* also write a trace file, or NULL */
	const struct hm_trace_header *record_header;
	bool quiet;                   /* summary only, no per-finding output */
	const struct hm_baseline *baseline; /* accepted findings: not printed, do
					       not fail; observers still see them */
	const struct hm_finding_filter *filter; /* --pid/--device/--driver: findings
						   outside it are dropped whole */
};

void hm_session_opts_defaults(struct hm_session_opts *o);

struct hm_session;

struct hm_session *hm_session_new(const struct hm_session_opts *o, char *err, size_t errlen);
/* The stack store: live loaders add stacks/symbols here before the event. */
struct hm_stacks *hm_session_stacks(struct hm_session *s);
void hm_session_event(struct hm_session *s, const void *rec, size_t len);
void hm_session_meta(struct hm_session *s, const char *key, const char *value);
/* Outputs (timeline, metrics, reports: outputs.h) watch the session through
 * observers (observer.h); add them before the first event or meta pair.
 * false when HM_SESSION_MAX_OBSERVERS are already there. */
#define HM_SESSION_MAX_OBSERVERS 4
bool hm_session_add_observer(struct hm_session *s, const struct hm_observer *obs);

/* The analysis totals so far (final after hm_session_finish). */
const struct hm_engine_stats *hm_session_stats(const struct hm_session *s);
/* Findings a baseline accepted so far. */
size_t hm_session_accepted(const struct hm_session *s);

/* Push recorded data to disk (after each live batch). */
void hm_session_flush(struct hm_session *s);
/* The clock reached now_ns (CLOCK_MONOTONIC, as records are stamped) and
 * every record stamped before it was handed over: report passed deadlines. */
void hm_session_advance(struct hm_session *s, uint64_t now_ns);
/* Finish analysis, print the summary, close the recording. Returns the exit
 * status for the findings: 0 clean, 1 at or above fail_on; 2 if recording failed. */
int hm_session_finish(struct hm_session *s, const char *source, uint64_t lost_total,
		      uint64_t end_ts);
void hm_session_free(struct hm_session *s);

#endif
