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
void hm_engine_finish(struct hm_engine *e);

struct hm_engine_stats {
	uint64_t events;
	uint64_t malformed;
	uint64_t findings;           /* distinct */
	uint64_t duplicates;         /* suppressed repeats of a known fingerprint */
	uint64_t by_severity[HM_SEV_ERROR + 1];
	uint64_t first_ts, last_ts;
};
const struct hm_engine_stats *hm_engine_stats(const struct hm_engine *e);

#endif
