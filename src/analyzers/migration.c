// SPDX-License-Identifier: GPL-2.0
/* PLACEHOLDER: replaced by the real analyzer. */
#include <stdlib.h>
#include "analyzer.h"

static void *create(const struct hm_config *cfg) { (void)cfg; return calloc(1, 1); }
static void feed(void *self, const union hm_event *ev, const struct hm_emitter *out)
{ (void)self; (void)ev; (void)out; }
static void finish(void *self, uint64_t end_ts, const struct hm_emitter *out)
{ (void)self; (void)end_ts; (void)out; }
static void destroy(void *self) { free(self); }

const struct hm_analyzer_ops hm_migration_analyzer = {
	.name = "migration", .create = create, .feed = feed, .finish = finish, .destroy = destroy,
};
