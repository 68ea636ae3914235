/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the cmocka unit tests: run a scenario through analyzers, collect findings. */
#ifndef HM_UNIT_H
#define HM_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "analyzer.h"
#include "engine.h"
#include "event.h"
#include "finding.h"
#include "model.h"
#include "scenario_builder.h"

#define UNIT_MAX_FINDINGS 64

struct collected {
	struct hm_finding items[UNIT_MAX_FINDINGS];
	size_t n;
};

static inline void unit_collect(void *ctx, const struct hm_finding *f)
{
	struct collected *c = ctx;

	assert_true(c->n < UNIT_MAX_FINDINGS);
	hm_finding_copy(&c->items[c->n++], f);
}

static inline void unit_release(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++)
		hm_finding_release(&c->items[i]);
	c->n = 0;
}

/* One analyzer alone, fed as the engine feeds it (the state model applied
 * between feed and settle) but without its de-duplication. Keep the rig in
 * place while open: the analyzer reads its model. */
struct unit_rig {
	const struct hm_analyzer_ops *ops;
	struct hm_model model;
	struct hm_model_change change;
	struct hm_emitter em;
	void *self;
};

static inline void unit_rig_open(struct unit_rig *r, const struct hm_analyzer_ops *ops,
				 const struct hm_config *cfg, struct hm_emitter em)
{
	struct hm_config defaults;

	hm_config_defaults(&defaults);
	r->ops = ops;
	r->em = em;
	hm_model_init(&r->model);
	r->self = ops->create(cfg ? cfg : &defaults, &r->model);
	assert_non_null(r->self);
}

static inline void unit_rig_feed(struct unit_rig *r, const union hm_event *ev)
{
	r->ops->feed(r->self, ev, &r->em);
	hm_model_apply(&r->model, ev, &r->change);
	if (r->ops->settle)
		r->ops->settle(r->self, ev, &r->change, &r->em);
}

/* finish() at end_ts, then destroy */
static inline void unit_rig_close(struct unit_rig *r, uint64_t end_ts)
{
	r->ops->finish(r->self, end_ts, &r->em);
	r->ops->destroy(r->self);
	hm_model_free(&r->model);
}

static inline void unit_run_analyzer(const struct hm_analyzer_ops *ops, const struct scenario *s,
				     const struct hm_config *cfg, struct collected *out)
{
	struct unit_rig rig;

	unit_rig_open(&rig, ops, cfg, (struct hm_emitter){ .emit = unit_collect, .ctx = out });
	for (size_t i = 0; i < s->count; i++)
		unit_rig_feed(&rig, &s->events[i]);
	unit_rig_close(&rig, s->count ? s->events[s->count - 1].hdr.ts_ns : 0);
}

/* An engine with default limits fed the whole scenario, not finished: for
 * a test that moves its clock. */
static inline struct hm_engine *unit_engine_fed(const struct scenario *s,
						const struct hm_config *cfg, struct collected *out)
{
	struct hm_config defaults;
	struct hm_engine *e;

	hm_config_defaults(&defaults);
	e = hm_engine_new(cfg ? cfg : &defaults,
			  (struct hm_emitter){ .emit = unit_collect, .ctx = out });
	assert_non_null(e);
	for (size_t i = 0; i < s->count; i++)
		hm_engine_feed(e, &s->events[i], scn_size(s, i));
	return e;
}

/* Move e's clock to a second before since + limit, then a second past it:
 * one finding of `kind` comes at the second time, none at the first. */
static inline const struct hm_finding *
unit_reported_when_the_clock_passes(struct hm_engine *e, struct collected *out, uint64_t since,
				    uint64_t limit, enum hm_finding_kind kind)
{
	const uint64_t second = 1000000000ULL;
	size_t before = out->n;

	hm_engine_advance(e, since + limit - second);
	assert_int_equal(out->n, before);
	hm_engine_advance(e, since + limit + second);
	assert_int_equal(out->n, before + 1);
	assert_int_equal(out->items[before].kind, kind);
	assert_int_equal(out->items[before].ts_ns, since + limit + second);
	return &out->items[before];
}

/* The whole engine, as replay runs it. */
static inline void unit_run_engine(const struct scenario *s, const struct hm_config *cfg,
				   struct collected *out)
{
	struct hm_engine *e = unit_engine_fed(s, cfg, out);

	hm_engine_finish(e, 0);
	hm_engine_free(e);
}

static inline size_t unit_count_kind(const struct collected *c, enum hm_finding_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->items[i].kind == kind;
	return n;
}

/* Whether a finding names the device (by BDF). */
static inline bool unit_has_device(const struct hm_finding *f, const struct hm_device *dev)
{
	for (unsigned int i = 0; i < f->ndevices; i++)
		if (hm_bdf_equal(&f->devices[i].bdf, &dev->bdf))
			return true;
	return false;
}

/* The end of every fixture: its findings, its scenario, itself. */
static inline int unit_fixture_free(struct collected *found, struct scenario *s, void *fixture)
{
	unit_release(found);
	scn_free(s);
	free(fixture);
	return 0;
}

static inline const struct hm_finding *unit_find_kind(const struct collected *c,
						      enum hm_finding_kind kind)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].kind == kind)
			return &c->items[i];
	return NULL;
}

#endif
