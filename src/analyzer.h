/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The analyzer interface. An analyzer is a pure function of the event stream:
 * it sees events in time order and emits findings; it never reads files, BPF
 * maps or clocks, so live runs, replays and unit tests drive it the same way.
 */
#ifndef HM_ANALYZER_H
#define HM_ANALYZER_H

#include <stdint.h>
#include "hisimig/events.h"
#include "hisimig/findings.h"

struct hm_known_orders;
struct hm_model;
struct hm_model_change;

/* Thresholds and switches shared by all analyzers. */
struct hm_config {
	uint64_t sriov_disable_warn_ns; /* SR-IOV disable blocked longer: warning */
	uint64_t mig_state_max_ns;      /* non-RUNNING state held longer: warning */
	uint64_t mig_downtime_max_ns;   /* stop-copy downtime budget */
	/* NULL: the built-in table (known_order.h); last, so positional
	 * initialisers of the thresholds stay valid */
	const struct hm_known_orders *known_orders;
};

void hm_config_defaults(struct hm_config *cfg);

/* Where findings go. The engine de-duplicates by fingerprint before the sink. */
struct hm_emitter {
	void (*emit)(void *ctx, const struct hm_finding *f);
	void *ctx;
};

static inline void hm_emit(const struct hm_emitter *out, const struct hm_finding *f)
{
	out->emit(out->ctx, f);
}

/* Where an analysis is incomplete: records not analysed because a table was
 * full, searches cut at their bound, state repaired after lost records.
 * Counts since the start of the stream. */
enum hm_limit {
	HM_LIMIT_GRAPH_EDGES,           /* lock-order edges not stored: graph full */
	HM_LIMIT_SEARCH_VISITS,         /* cycle searches stopped at their node budget */
	HM_LIMIT_SEARCH_PATHS,          /* cycle searches that did not look past the longest path */
	HM_LIMIT_HELD_LOCKS,            /* acquisitions beyond a task's held-lock stack */
	HM_LIMIT_TASKS,                 /* tasks in lock sections beyond the task table */
	HM_LIMIT_STALE_HOLDS,           /* holds dropped: their release was lost */
	HM_LIMIT_LOCK_NAMES,            /* lock names not stored: table full */
	HM_LIMIT_DEVICES,               /* devices not tracked: table full */
	HM_LIMIT_STACKS,                /* kernel stacks not stored: table full */
	HM_LIMIT_SYMBOLS,               /* frame symbols not stored: table full */
	HM_LIMIT_FINGERPRINTS,          /* finding fingerprints forgotten: a repeat may show again */
	HM_LIMIT_READERS,               /* read holds of one rwsem beyond its reader table */
	HM_LIMIT_NR
};

struct hm_limits {
	uint64_t count[HM_LIMIT_NR];
};

/* "graph-edges", ...: a metric label and the summary's name */
const char *hm_limit_name(enum hm_limit limit);
/* "lock-order edges not stored (graph full)" */
const char *hm_limit_describe(enum hm_limit limit);

/*
 * Each record reaches every analyzer's feed() while the engine's state model
 * (model.h, given at create) still shows the state the record meets; the
 * engine then applies it to the model and calls settle(), for analyzers that
 * judge the state a record leaves behind.
 */
struct hm_analyzer_ops {
	const char *name;
	void *(*create)(const struct hm_config *cfg, const struct hm_model *model);
	/* ev is a validated record (hm_event_valid) */
	void (*feed)(void *self, const union hm_event *ev, const struct hm_emitter *out);
	/* Optional: after the model applied ev (change says what it did). */
	void (*settle)(void *self, const union hm_event *ev, const struct hm_model_change *change,
		       const struct hm_emitter *out);
	/* Optional: no record came until now (past the last record's time):
	 * report the spans overdue by now. A hang makes no records, so a live
	 * run calls this while the kernel is quiet. */
	void (*expire)(void *self, uint64_t now, const struct hm_emitter *out);
	/* End of stream at end_ts: report what is still pending (e.g. blocked spans). */
	void (*finish)(void *self, uint64_t end_ts, const struct hm_emitter *out);
	void (*destroy)(void *self);
	/* Optional: raise out->count[] to at least this analyzer's counts (two
	 * analyzers tracking the same locks count the same repairs once). */
	void (*limits)(const void *self, struct hm_limits *out);
};

static inline void hm_limits_raise(struct hm_limits *out, enum hm_limit limit, uint64_t count)
{
	if (count > out->count[limit])
		out->count[limit] = count;
}

extern const struct hm_analyzer_ops hm_lock_order_analyzer;
extern const struct hm_analyzer_ops hm_deadlock_analyzer;
extern const struct hm_analyzer_ops hm_lifetime_analyzer;
extern const struct hm_analyzer_ops hm_migration_analyzer;
extern const struct hm_analyzer_ops hm_loss_analyzer;
extern const struct hm_analyzer_ops hm_work_deps_analyzer;

/* The lost-events finding for analysis limits (info), if any count is set. */
void hm_loss_report_limits(const struct hm_limits *limits, uint64_t end_ts,
			   const struct hm_emitter *out);

#endif
