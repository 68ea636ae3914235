// SPDX-License-Identifier: GPL-2.0
/* Bounded memory: every table has a cap, and what a cap or a search bound
 * leaves out is counted, reported in the engine's limits and one finding. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "analyzers/devtable.h"
#include "analyzers/lock_track.h"
#include "metrics.h"
#include "session.h"
#include "scenario_catalog.h"
#include "stacks.h"
#include "u64map.h"

static struct hm_limits engine_limits(const struct scenario *s, struct collected *out)
{
	struct hm_config cfg;
	struct hm_limits limits;
	struct hm_engine *e;

	hm_config_defaults(&cfg);
	e = hm_engine_new(&cfg, (struct hm_emitter){ .emit = unit_collect, .ctx = out });
	assert_non_null(e);
	for (size_t i = 0; i < s->count; i++)
		hm_engine_feed(e, &s->events[i], scn_size(s, i));
	hm_engine_finish(e, 0);
	limits = hm_engine_stats(e)->limits;
	assert_int_equal(hm_engine_stats(e)->limits_total, limits.count[HM_LIMIT_HELD_LOCKS] +
								   limits.count[HM_LIMIT_STALE_HOLDS]);
	hm_engine_free(e);
	return limits;
}

static const struct hm_finding *limits_finding(const struct collected *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].kind == HM_FIND_LOST_EVENTS &&
		    strstr(c->items[i].summary, "analysis incomplete"))
			return &c->items[i];
	return NULL;
}

/* One task nesting more locks than its held-lock stack: the extra ones are
 * not analysed, which the summary's limits and an info finding say. */
static void held_lock_overflow_is_counted_and_reported(void **state)
{
	struct scenario *s = scn_new();
	struct scn_task t = scn_task(42, "deep");
	struct collected c = { 0 };
	struct hm_limits limits;
	const struct hm_finding *f;

	(void)state;
	for (unsigned int i = 0; i < LT_MAX_HELD + 3; i++) {
		char name[32];
		struct scn_named_lock l;

		snprintf(name, sizeof(name), "nest_%u", i);
		l = scn_named_lock(s, name, HM_LOCK_ORIGIN_GLOBAL, 0xffffffff83000000ULL + i * 64);
		scn_nlock(s, &t, &l, HM_LOCK_MUTEX, -1);
	}
	limits = engine_limits(s, &c);
	assert_int_equal(limits.count[HM_LIMIT_HELD_LOCKS], 3);
	f = limits_finding(&c);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_INFO);
	assert_non_null(strstr(f->summary, "held-locks 3"));
	unit_release(&c);
	scn_free(s);
}

/* A clean run meets no bound: no limits, no such finding. */
static void clean_run_has_no_limits(void **state)
{
	struct scenario *s = scn_new();
	struct collected c = { 0 };
	struct hm_limits limits;

	(void)state;
	hm_scenario_find("locks-clean")->build(s);
	limits = engine_limits(s, &c);
	for (int i = 0; i < HM_LIMIT_NR; i++)
		assert_int_equal(limits.count[i], 0);
	assert_null(limits_finding(&c));
	unit_release(&c);
	scn_free(s);
}

/* Stack and symbol tables stop growing at their caps and count the rest. */
static void stack_tables_are_capped(void **state)
{
	struct hm_stacks *st = hm_stacks_new();
	uint64_t ip = 0xffffffff81000000ULL;

	(void)state;
	for (int32_t id = 0; id < HM_STACKS_MAX + 5; id++)
		assert_true(hm_stacks_add(st, id, &ip, 1));
	assert_int_equal(hm_stacks_dropped(st), 5);
	assert_non_null(hm_stacks_get(st, 0));
	assert_null(hm_stacks_get(st, HM_STACKS_MAX + 1));
	for (uint64_t a = 1; a <= HM_STACKS_MAX_SYMBOLS + 2; a++)
		assert_true(hm_stacks_add_symbol(st, a, "f+0x1/0x10"));
	assert_int_equal(hm_stacks_symbols_dropped(st), 2);
	hm_stacks_free(st);
}

/* Devices beyond the device table are not tracked, and counted. */
static void device_tables_are_capped(void **state)
{
	struct scenario *s = scn_new();
	struct scn_task t = scn_task(7, "bash");
	struct hm_device dev = scn_device("0000:01:00.0", HM_ROLE_PF, NULL, "nvme");
	struct collected c = { 0 };
	struct hm_config cfg;
	struct hm_engine *e;

	(void)state;
	hm_config_defaults(&cfg);
	e = hm_engine_new(&cfg, (struct hm_emitter){ .emit = unit_collect, .ctx = &c });
	assert_non_null(e);
	for (int i = 0; i < HM_DEVTABLE_MAX + 4; i++) {
		s->count = 0; /* one event at a time: memory stays small */
		dev.dev_addr += 0x1000;
		scn_bind(s, &t, HM_EV_BIND_END, &dev, 0);
		hm_engine_feed(e, &s->events[0], scn_size(s, 0));
	}
	assert_int_equal(hm_engine_limits(e)->count[HM_LIMIT_DEVICES], 4);
	hm_engine_free(e);
	unit_release(&c);
	scn_free(s);
}

/* VFIO devices opened and never closed (lost close records) stop at the
 * deadlock analyzer's table size, counted. */
static void opened_devices_are_capped(void **state)
{
	struct scenario *s = scn_new();
	struct scn_task t = scn_task(300, "qemu");
	struct hm_device vf = scn_device("0000:01:00.1", HM_ROLE_VF, "0000:01:00.0", "vfio-pci");
	struct hm_limits limits = { 0 };
	struct collected c = { 0 };
	struct hm_emitter em = { .emit = unit_collect, .ctx = &c };
	struct hm_config cfg;
	struct unit_rig rig;

	(void)state;
	hm_config_defaults(&cfg);
	unit_rig_open(&rig, &hm_deadlock_analyzer, &cfg, em);
	for (int i = 0; i < 65536 + 3; i++) {
		s->count = 0;
		vf.dev_addr += 0x1000;
		scn_vfio(s, &t, HM_EV_VFIO_OPEN, &vf, 0);
		unit_rig_feed(&rig, &s->events[0]);
	}
	hm_deadlock_analyzer.limits(rig.self, &limits);
	assert_int_equal(limits.count[HM_LIMIT_DEVICES], 3);
	assert_int_equal(c.n, 0);
	unit_rig_close(&rig, 0);
	scn_free(s);
}

/* Insert/delete churn (a lock section per event) keeps every lookup right
 * while tombstones are reclaimed. */
static void map_churn_keeps_lookups_right(void **state)
{
	struct u64map m;
	uint64_t x = 88172645463325252ULL;
	static unsigned char present[4096];

	(void)state;
	u64map_init(&m);
	memset(present, 0, sizeof(present));
	for (int i = 0; i < 200000; i++) {
		uint64_t k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x % 4096;
		if (present[k]) {
			assert_ptr_equal(u64map_del(&m, k + 1), (void *)(uintptr_t)(k + 1));
			present[k] = 0;
		} else {
			assert_true(u64map_put(&m, k + 1, (void *)(uintptr_t)(k + 1)));
			present[k] = 1;
		}
		if (i % 997 == 0)
			for (uint64_t j = 0; j < 4096; j++)
				assert_true((u64map_get(&m, j + 1) != NULL) == present[j]);
		/* dead slots are reclaimed as they go, not left for a rehash */
		assert_true(m.used - m.count <= m.count / 2 + 16);
	}
	assert_true(m.cap <= 16384);
	u64map_free(&m);
}

/* A session's full stack table shows in its summary, with the analyzers'
 * limits, and reaches observers (the metrics exporter). */
static void stack_table_overflow_reaches_the_summary(void **state)
{
	struct hm_session_opts opts;
	struct hm_session *session;
	struct scenario *s = scn_new();
	struct scn_task t = scn_task(7, "bash");
	struct hm_device pf = scn_device("0000:01:00.0", HM_ROLE_PF, NULL, "nvme");
	uint64_t ip = 0xffffffff81000000ULL;
	char err[256], *text = NULL;
	size_t len = 0;

	(void)state;
	hm_session_opts_defaults(&opts);
	opts.out = open_memstream(&text, &len);
	assert_non_null(opts.out);
	session = hm_session_new(&opts, err, sizeof(err));
	assert_non_null(session);
	for (int32_t id = 0; id < HM_STACKS_MAX + 2; id++)
		hm_stacks_add(hm_session_stacks(session), id, &ip, 1);
	scn_lock(s, &t, &pf, 0);
	for (size_t i = 0; i < s->count; i++)
		hm_session_event(session, &s->events[i], scn_size(s, i));
	assert_int_equal(hm_session_finish(session, "unit", 0, 0), 0);
	hm_session_free(session);
	fclose(opts.out);
	assert_non_null(strstr(text, "analysis limit stacks: 2 kernel stacks not stored"));
	assert_non_null(strstr(text, "1 info"));
	free(text);
	scn_free(s);
}

/* Operators see the limits as a metric. */
static void limits_are_a_metric(void **state)
{
	struct hm_config cfg;
	struct hm_metrics *m;
	struct hm_limits limits = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	hm_config_defaults(&cfg);
	m = hm_metrics_new(&cfg);
	assert_non_null(m);
	assert_non_null(out);
	limits.count[HM_LIMIT_GRAPH_EDGES] = 12;
	hm_metrics_limits(m, &limits);
	assert_true(hm_metrics_write_text(hm_metrics_values(m), out));
	fclose(out);
	assert_non_null(strstr(text, "hisimig_analysis_limit_total{limit=\"graph-edges\"} 12\n"));
	assert_non_null(strstr(text, "hisimig_analysis_limit_total{limit=\"stale-holds\"} 0\n"));
	free(text);
	hm_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(held_lock_overflow_is_counted_and_reported),
		cmocka_unit_test(clean_run_has_no_limits),
		cmocka_unit_test(stack_tables_are_capped),
		cmocka_unit_test(device_tables_are_capped),
		cmocka_unit_test(opened_devices_are_capped),
		cmocka_unit_test(map_churn_keeps_lookups_right),
		cmocka_unit_test(limits_are_a_metric),
		cmocka_unit_test(stack_table_overflow_reaches_the_summary),
	};

	return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
