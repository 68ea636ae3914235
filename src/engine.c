// SPDX-License-Identifier: GPL-2.0
#include "engine.h"

#include <stdlib.h>

#include "event.h"
#include "u64map.h"

static const struct hm_analyzer_ops *const all_analyzers[] = {
	&hm_lock_order_analyzer,
	&hm_deadlock_analyzer,
	&hm_lifetime_analyzer,
	&hm_migration_analyzer,
	&hm_loss_analyzer,
};
#define NR_ANALYZERS (sizeof(all_analyzers) / sizeof(all_analyzers[0]))

struct hm_engine {
	void *state[NR_ANALYZERS];
	struct hm_emitter sink;
	struct hm_emitter dedup;      /* what analyzers emit into */
	struct u64map seen;           /* fingerprints already reported */
	struct hm_engine_stats stats;
};

void hm_config_defaults(struct hm_config *cfg)
{
	cfg->sriov_disable_warn_ns = 5ULL * 1000000000ULL;
	cfg->mig_state_max_ns = 30ULL * 1000000000ULL;
	cfg->mig_downtime_max_ns = 500ULL * 1000000ULL;
	cfg->known_orders = NULL;
}

static void emit_once(void *ctx, const struct hm_finding *f)
{
	struct hm_engine *e = ctx;
	uint64_t key = f->fingerprint ? f->fingerprint : 1;

	if (u64map_get(&e->seen, key)) {
		e->stats.duplicates++;
		return;
	}
	u64map_put(&e->seen, key, (void *)1);
	e->stats.findings++;
	e->stats.by_severity[f->severity]++;
	hm_emit(&e->sink, f);
}

struct hm_engine *hm_engine_new(const struct hm_config *cfg, struct hm_emitter sink)
{
	struct hm_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->sink = sink;
	e->dedup = (struct hm_emitter){ .emit = emit_once, .ctx = e };
	u64map_init(&e->seen);
	for (size_t i = 0; i < NR_ANALYZERS; i++) {
		e->state[i] = all_analyzers[i]->create(cfg);
		if (!e->state[i]) {
			hm_engine_free(e);
			return NULL;
		}
	}
	return e;
}

void hm_engine_free(struct hm_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < NR_ANALYZERS; i++)
		if (e->state[i])
			all_analyzers[i]->destroy(e->state[i]);
	u64map_free(&e->seen);
	free(e);
}

bool hm_engine_feed(struct hm_engine *e, const union hm_event *ev, size_t len)
{
	if (!hm_event_valid(ev, len)) {
		e->stats.malformed++;
		return false;
	}
	if (!e->stats.events)
		e->stats.first_ts = ev->hdr.ts_ns;
	e->stats.events++;
	e->stats.last_ts = ev->hdr.ts_ns;
	for (size_t i = 0; i < NR_ANALYZERS; i++)
		all_analyzers[i]->feed(e->state[i], ev, &e->dedup);
	return true;
}

void hm_engine_finish(struct hm_engine *e)
{
	for (size_t i = 0; i < NR_ANALYZERS; i++)
		all_analyzers[i]->finish(e->state[i], e->stats.last_ts, &e->dedup);
}

const struct hm_engine_stats *hm_engine_stats(const struct hm_engine *e)
{
	return &e->stats;
}
