/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metrics registry: events, findings and session meta in; counters,
 * gauges and histograms out. Pure and single-threaded (no clocks, no I/O,
 * no locks): the exporter serialises access and formats a copy of the values
 * (hm_metrics_write_text), so a scrape never holds up event consumption.
 *
 * Every label is bounded: roles, states, kinds and severities are enums;
 * devices are PCI BDFs in fixed-size tables (overflow is counted, not
 * stored); task ids and kernel addresses never become labels.
 */
#ifndef HM_METRICS_H
#define HM_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "analyzer.h"
#include "hisimig/events.h"
#include "hisimig/findings.h"

/* Log-scale bucket bounds: first_ns, then times factor, nbuckets of them. */
struct hm_hist_layout {
	uint64_t first_ns;
	unsigned int factor;
	unsigned int nbuckets;
};

#define HM_HIST_MAX_BUCKETS 17
extern const struct hm_hist_layout hm_lock_wait_layout;    /* 1 us .. 16.8 s, x4 */
extern const struct hm_hist_layout hm_downtime_layout;     /* 1 ms .. 65.5 s, x2 */
extern const struct hm_hist_layout hm_state_time_layout;   /* 1 ms .. 70 min, x4 */

uint64_t hm_hist_bound_ns(const struct hm_hist_layout *l, unsigned int i);

struct hm_histogram {
	uint64_t buckets[HM_HIST_MAX_BUCKETS]; /* per bucket, not cumulative */
	uint64_t count;                        /* including those above the last bound */
	uint64_t sum_ns;
};

void hm_hist_observe(struct hm_histogram *h, const struct hm_hist_layout *l, uint64_t ns);

#define HM_ROLES 3                      /* enum hm_role */
#define HM_RESULTS 2                    /* ok, error */
#define HM_MIG_STATE_SLOTS (HM_MIG_NR_STATES + 1) /* + "UNKNOWN" as a from label */
#define HM_MIG_RESULTS 3                /* ok, error, illegal */

#define HM_METRICS_MAX_PFS 64
#define HM_METRICS_MAX_MIG_DEVICES 256
#define HM_METRICS_MAX_ATTACH 64
#define HM_ATTACH_TARGET_LEN 64
#define HM_ATTACH_MODE_LEN 24

enum hm_sriov_op { HM_SRIOV_OP_ENABLE, HM_SRIOV_OP_DISABLE, HM_SRIOV_OPS };
enum hm_driver_op { HM_DRIVER_OP_BIND, HM_DRIVER_OP_UNBIND, HM_DRIVER_OPS };
enum hm_mig_result { HM_MIG_RESULT_OK, HM_MIG_RESULT_ERROR, HM_MIG_RESULT_ILLEGAL };

struct hm_pf_metrics {
	struct hm_bdf bdf;
	uint32_t vfs;
	uint64_t changes[HM_SRIOV_OPS][HM_RESULTS];
};

struct hm_mig_device_metrics {
	struct hm_bdf bdf;
	bool present;                 /* false once the VF is removed: state series go */
	uint8_t state;                /* enum hm_mig_state, HM_MIG_UNKNOWN until seen */
	uint8_t request_from;         /* state the set-state call in progress started in */
	uint64_t since_ns;            /* when it entered state */
	uint64_t over_budget;         /* stop-copy stays longer than the downtime budget */
};

struct hm_attach_metrics {
	char target[HM_ATTACH_TARGET_LEN];
	char mode[HM_ATTACH_MODE_LEN];
	bool attached;
};

/* Everything /metrics shows: plain data, copied whole for a scrape. */
struct hm_metrics_values {
	uint64_t events[HM_EV_TYPE_MAX];
	uint64_t lost_events;
	uint64_t untracked_device_events; /* about devices beyond the fixed tables */

	uint64_t lock_acquisitions[HM_ROLES];
	struct hm_histogram lock_wait[HM_ROLES];

	uint64_t findings[HM_FIND_KIND_MAX][HM_SEV_ERROR + 1];

	struct hm_pf_metrics pfs[HM_METRICS_MAX_PFS];
	unsigned int npfs;
	uint64_t driver_ops[HM_DRIVER_OPS][HM_ROLES][HM_RESULTS];

	uint64_t mig_transitions[HM_MIG_STATE_SLOTS][HM_MIG_NR_STATES][HM_MIG_RESULTS];
	struct hm_mig_device_metrics mig_devices[HM_METRICS_MAX_MIG_DEVICES];
	unsigned int nmig_devices;
	struct hm_histogram downtime;
	struct hm_histogram state_time[HM_MIG_NR_STATES];
	uint64_t downtime_budget_ns;
	uint64_t mig_bytes[2];        /* enum hm_mig_data_dir */

	struct hm_attach_metrics attach[HM_METRICS_MAX_ATTACH];
	unsigned int nattach;

	struct hm_limits limits;      /* where the analysis is incomplete */
};

struct hm_metrics;

/* cfg supplies the downtime budget, as the analyzers use it. */
struct hm_metrics *hm_metrics_new(const struct hm_config *cfg);
void hm_metrics_free(struct hm_metrics *m);

/* ev is a valid record (the session only passes those on). */
struct hm_model_change;
/* One record and what it changed in the engine's state model (model.h). */
void hm_metrics_event(struct hm_metrics *m, const union hm_event *ev,
		      const struct hm_model_change *change);
void hm_metrics_finding(struct hm_metrics *m, const struct hm_finding *f);
/* Session meta; "attach.<target>" = "<mode>" feeds hisimig_attach_status. */
void hm_metrics_meta(struct hm_metrics *m, const char *key, const char *value);
void hm_metrics_limits(struct hm_metrics *m, const struct hm_limits *limits);

const struct hm_metrics_values *hm_metrics_values(const struct hm_metrics *m);

/* Prometheus text exposition format 0.0.4 (metrics_text.c); false on a write error. */
bool hm_metrics_write_text(const struct hm_metrics_values *v, FILE *out);
#define HM_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Label values of the enums above. */
const char *hm_result_name(unsigned int failed);              /* "ok", "error" */
const char *hm_mig_result_name(enum hm_mig_result r);          /* + "illegal" */
const char *hm_sriov_op_name(enum hm_sriov_op op);
const char *hm_driver_op_name(enum hm_driver_op op);

#endif
