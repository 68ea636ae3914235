/* SPDX-License-Identifier: GPL-2.0 */
/* Runs every analyzer over one event stream and de-duplicates their findings. */
#ifndef HM_ENGINE_H
#define HM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include "analyzer.h"

struct hm_engine;

/* Findings reach `sink` once per fingerprint, as soon as they are known. */
struct hm_engine *hm_engine_new(const struct hm_config *cfg, struct hm_emitter sink);
void hm_engine_free(struct hm_engine *e);
/* Feed one record; malformed records are counted, skipped, and return false. */
bool hm_engine_feed(struct hm_engine *e, const union hm_event *ev, size_t len);
/* Time reached now_ns with no record since the last: deadlines that passed
 * are reported (a blocked SR-IOV disable makes no records). */
void hm_engine_advance(struct hm_engine *e, uint64_t now_ns);
/* End of stream at end_ts (the recording's end; the last record's time if
 * earlier or 0): spans still open are judged at that time. */
void hm_engine_finish(struct hm_engine *e, uint64_t end_ts);
/* The state model after the last record fed (model.h), and what that record
 * changed in it: for outputs that follow the same state as the analyzers. */
struct hm_model;
struct hm_model_change;
const struct hm_model *hm_engine_model(const struct hm_engine *e);
const struct hm_model_change *hm_engine_last_change(const struct hm_engine *e);

struct hm_engine_stats {
	uint64_t events;
	uint64_t malformed;
	uint64_t findings;           /* distinct */
	uint64_t duplicates;         /* suppressed repeats of a known fingerprint */
	uint64_t by_severity[HM_SEV_ERROR + 1];
	uint64_t first_ts, last_ts;
	struct hm_limits limits;     /* as of the last hm_engine_limits()/finish */
	uint64_t limits_total;       /* sum of limits.count[] */
};
const struct hm_engine_stats *hm_engine_stats(const struct hm_engine *e);
/* Collect every analyzer's limits now (also done by hm_engine_finish). */
const struct hm_limits *hm_engine_limits(struct hm_engine *e);
/* Limits met outside the analyzers (the stack table): replaces that count. */
void hm_engine_set_limit(struct hm_engine *e, enum hm_limit limit, uint64_t count);

/* Distinct fingerprints remembered for de-duplication; then the memory starts over. */
#define HM_ENGINE_MAX_FINGERPRINTS 65536

#endif
