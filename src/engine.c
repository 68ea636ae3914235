// SPDX-License-Identifier: GPL-2.0
#include "engine.h"

#include <stdlib.h>

#include "analyzers/work_locks.h"
#include "event.h"
#include "model.h"
#include "u64map.h"

static const struct hm_analyzer_ops *const all_analyzers[] = {
	&hm_lock_order_analyzer,
	&hm_deadlock_analyzer,
	&hm_lifetime_analyzer,
	&hm_migration_analyzer,
	&hm_loss_analyzer,
	&hm_work_deps_analyzer,
};
#define NR_ANALYZERS (sizeof(all_analyzers) / sizeof(all_analyzers[0]))

struct hm_engine {
	struct hm_model model;        /* derived once per record, read by all */
	struct hm_model_change change; /* what the last fed record changed */
	void *state[NR_ANALYZERS];
	struct hm_limits outside;     /* hm_engine_set_limit() */
	struct hm_emitter sink;
	struct hm_emitter dedup;      /* what analyzers emit into */
	struct u64map seen;           /* fingerprints already reported */
	struct wl_expander work_locks; /* work items and workqueues as pseudo-locks */
	struct hm_engine_stats stats;
	uint64_t expired_to;          /* the latest hm_engine_advance() time */
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
	if (e->seen.count >= HM_ENGINE_MAX_FINGERPRINTS) {
		u64map_free(&e->seen);
		e->outside.count[HM_LIMIT_FINGERPRINTS]++;
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
	wl_init(&e->work_locks);
	hm_model_init(&e->model);
	for (size_t i = 0; i < NR_ANALYZERS; i++) {
		e->state[i] = all_analyzers[i]->create(cfg, &e->model);
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
	wl_free(&e->work_locks);
	hm_model_free(&e->model);
	free(e);
}

/* Analyzers meet the state before the record, then the model takes it. */
static void feed_analyzers(void *ctx, const union hm_event *ev)
{
	struct hm_engine *e = ctx;

	for (size_t i = 0; i < NR_ANALYZERS; i++)
		all_analyzers[i]->feed(e->state[i], ev, &e->dedup);
	hm_model_apply(&e->model, ev, &e->change);
	for (size_t i = 0; i < NR_ANALYZERS; i++)
		if (all_analyzers[i]->settle)
			all_analyzers[i]->settle(e->state[i], ev, &e->change, &e->dedup);
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
	/* the lock records a work record stands for come first: analyzers
	 * of the work record itself then see the pseudo-locks in place */
	if (wl_is_work_record(ev->hdr.type))
		wl_expand(&e->work_locks, ev, feed_analyzers, e);
	feed_analyzers(e, ev);
	return true;
}

static const struct {
	const char *name, *description;
} limit_text[HM_LIMIT_NR] = {
	[HM_LIMIT_GRAPH_EDGES] = { "graph-edges", "lock-order edges not stored (graph full)" },
	[HM_LIMIT_SEARCH_VISITS] = { "search-visits",
				     "cycle searches stopped at their node budget" },
	[HM_LIMIT_SEARCH_PATHS] = { "search-paths",
				    "cycle searches that did not look past the longest path" },
	[HM_LIMIT_HELD_LOCKS] = { "held-locks", "acquisitions beyond a task's held-lock stack" },
	[HM_LIMIT_TASKS] = { "tasks", "tasks in lock sections beyond the task table" },
	[HM_LIMIT_STALE_HOLDS] = { "stale-holds", "holds dropped because their release was lost" },
	[HM_LIMIT_LOCK_NAMES] = { "lock-names", "lock names not stored (table full)" },
	[HM_LIMIT_DEVICES] = { "devices", "devices not tracked (table full)" },
	[HM_LIMIT_STACKS] = { "stacks", "kernel stacks not stored (table full)" },
	[HM_LIMIT_SYMBOLS] = { "symbols", "frame symbols not stored (table full)" },
	[HM_LIMIT_FINGERPRINTS] = { "fingerprints",
				    "finding fingerprints forgotten (a repeat may show again)" },
	[HM_LIMIT_READERS] = { "readers", "read holds of one rwsem beyond its reader table" },
};

const char *hm_limit_name(enum hm_limit limit)
{
	return limit < HM_LIMIT_NR ? limit_text[limit].name : "unknown";
}

const char *hm_limit_describe(enum hm_limit limit)
{
	return limit < HM_LIMIT_NR ? limit_text[limit].description : "unknown";
}

void hm_engine_set_limit(struct hm_engine *e, enum hm_limit limit, uint64_t count)
{
	if (limit < HM_LIMIT_NR)
		e->outside.count[limit] = count;
}

const struct hm_limits *hm_engine_limits(struct hm_engine *e)
{
	e->stats.limits = e->outside;
	hm_model_limits(&e->model, &e->stats.limits);
	for (size_t i = 0; i < NR_ANALYZERS; i++)
		if (all_analyzers[i]->limits)
			all_analyzers[i]->limits(e->state[i], &e->stats.limits);
	e->stats.limits_total = 0;
	for (int i = 0; i < HM_LIMIT_NR; i++)
		e->stats.limits_total += e->stats.limits.count[i];
	return &e->stats.limits;
}

void hm_engine_advance(struct hm_engine *e, uint64_t now_ns)
{
	if (!e->stats.events || now_ns <= e->stats.last_ts || now_ns <= e->expired_to)
		return;
	e->expired_to = now_ns;
	for (size_t i = 0; i < NR_ANALYZERS; i++)
		if (all_analyzers[i]->expire)
			all_analyzers[i]->expire(e->state[i], now_ns, &e->dedup);
}

void hm_engine_finish(struct hm_engine *e, uint64_t end_ts)
{
	uint64_t end = e->stats.last_ts;

	if (e->stats.events && end_ts > end)
		end = end_ts;
	for (size_t i = 0; i < NR_ANALYZERS; i++)
		all_analyzers[i]->finish(e->state[i], end, &e->dedup);
	hm_loss_report_limits(hm_engine_limits(e), end, &e->dedup);
}

const struct hm_model_change *hm_engine_last_change(const struct hm_engine *e)
{
	return &e->change;
}

const struct hm_model *hm_engine_model(const struct hm_engine *e)
{
	return &e->model;
}

const struct hm_engine_stats *hm_engine_stats(const struct hm_engine *e)
{
	return &e->stats;
}
