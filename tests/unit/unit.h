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

/* One analyzer alone, without the engine's de-duplication. */
static inline void unit_run_analyzer(const struct hm_analyzer_ops *ops, const struct scenario *s,
				     const struct hm_config *cfg, struct collected *out)
{
	struct hm_config defaults;
	struct hm_emitter em = { .emit = unit_collect, .ctx = out };
	void *self;

	hm_config_defaults(&defaults);
	self = ops->create(cfg ? cfg : &defaults);
	assert_non_null(self);
	for (size_t i = 0; i < s->count; i++)
		ops->feed(self, &s->events[i], &em);
	ops->finish(self, s->count ? s->events[s->count - 1].hdr.ts_ns : 0, &em);
	ops->destroy(self);
}

/* The whole engine, as replay runs it. */
static inline void unit_run_engine(const struct scenario *s, const struct hm_config *cfg,
				   struct collected *out)
{
	struct hm_config defaults;
	struct hm_engine *e;

	hm_config_defaults(&defaults);
	e = hm_engine_new(cfg ? cfg : &defaults,
			  (struct hm_emitter){ .emit = unit_collect, .ctx = out });
	assert_non_null(e);
	for (size_t i = 0; i < s->count; i++)
		hm_engine_feed(e, &s->events[i], scn_size(s, i));
	hm_engine_finish(e);
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
