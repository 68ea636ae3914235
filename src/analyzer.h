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

struct hm_analyzer_ops {
	const char *name;
	void *(*create)(const struct hm_config *cfg);
	/* ev is a validated record (hm_event_valid) */
	void (*feed)(void *self, const union hm_event *ev, const struct hm_emitter *out);
	/* End of stream at end_ts: report what is still pending (e.g. blocked spans). */
	void (*finish)(void *self, uint64_t end_ts, const struct hm_emitter *out);
	void (*destroy)(void *self);
};

extern const struct hm_analyzer_ops hm_lock_order_analyzer;
extern const struct hm_analyzer_ops hm_deadlock_analyzer;
extern const struct hm_analyzer_ops hm_lifetime_analyzer;
extern const struct hm_analyzer_ops hm_migration_analyzer;
extern const struct hm_analyzer_ops hm_loss_analyzer;

#endif
