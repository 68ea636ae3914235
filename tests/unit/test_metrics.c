// SPDX-License-Identifier: GPL-2.0
/* The metrics registry and its text exposition, without HTTP. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "exporter.h"
#include "metrics.h"
#include "scenario_catalog.h"
#include "version.h"

#define MS 1000000ULL

static struct hm_metrics *new_metrics(void)
{
	struct hm_config cfg;
	struct hm_metrics *m;

	hm_config_defaults(&cfg);
	m = hm_metrics_new(&cfg);
	assert_non_null(m);
	return m;
}

static void count_finding(void *ctx, const struct hm_finding *f)
{
	hm_metrics_finding(ctx, f);
}

/* Events and (engine-deduplicated) findings of a scenario, as a session feeds them. */
static void feed(struct hm_metrics *m, const struct scenario *s)
{
	struct hm_config cfg;
	struct hm_engine *e;

	hm_config_defaults(&cfg);
	e = hm_engine_new(&cfg, (struct hm_emitter){ .emit = count_finding, .ctx = m });
	assert_non_null(e);
	for (size_t i = 0; i < s->count; i++)
		if (hm_engine_feed(e, &s->events[i], scn_size(s, i)))
			hm_metrics_event(m, &s->events[i], hm_engine_last_change(e));
	hm_engine_finish(e, 0);
	hm_engine_free(e);
}

static struct hm_metrics *metrics_of_scenario(const char *name)
{
	const struct hm_named_scenario *named = hm_scenario_find(name);
	struct hm_metrics *m = new_metrics();
	struct scenario *s = scn_new();

	assert_non_null(named);
	assert_non_null(s);
	named->build(s);
	feed(m, s);
	scn_free(s);
	return m;
}

/* The exposition text; the caller frees it. */
static char *exposition(const struct hm_metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_true(hm_metrics_write_text(hm_metrics_values(m), out));
	assert_int_equal(fclose(out), 0);
	return text;
}

static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("no line '%s' in the exposition", line);
}

static size_t occurrences(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static const struct hm_mig_device_metrics *mig_device(const struct hm_metrics_values *v,
						      const char *bdf)
{
	struct hm_bdf want;

	assert_true(hm_bdf_parse(bdf, &want));
	for (unsigned int i = 0; i < v->nmig_devices; i++)
		if (hm_bdf_equal(&v->mig_devices[i].bdf, &want))
			return &v->mig_devices[i];
	return NULL;
}

static void test_histogram_buckets(void **state)
{
	struct hm_histogram h = { 0 };

	(void)state;
	assert_int_equal(hm_hist_bound_ns(&hm_lock_wait_layout, 0), 1000);
	assert_int_equal(hm_hist_bound_ns(&hm_lock_wait_layout, 2), 16000);
	assert_int_equal(hm_hist_bound_ns(&hm_downtime_layout, 9), 512 * MS);
	assert_true(hm_lock_wait_layout.nbuckets <= HM_HIST_MAX_BUCKETS);
	assert_true(hm_downtime_layout.nbuckets <= HM_HIST_MAX_BUCKETS);
	assert_true(hm_state_time_layout.nbuckets <= HM_HIST_MAX_BUCKETS);

	hm_hist_observe(&h, &hm_downtime_layout, 0);            /* le 0.001 */
	hm_hist_observe(&h, &hm_downtime_layout, 1 * MS);       /* bounds are inclusive */
	hm_hist_observe(&h, &hm_downtime_layout, 1 * MS + 1);   /* le 0.002 */
	hm_hist_observe(&h, &hm_downtime_layout, 600000 * MS);  /* above all: +Inf only */
	assert_int_equal(h.buckets[0], 2);
	assert_int_equal(h.buckets[1], 1);
	assert_int_equal(h.count, 4);
	assert_int_equal(h.sum_ns, 600002 * MS + 1);
}

static void test_seed_bug_locks_and_findings(void **state)
{
	struct hm_metrics *m = metrics_of_scenario("seed-bug");
	const struct hm_metrics_values *v = hm_metrics_values(m);
	char *text;

	(void)state;
	assert_true(v->lock_acquisitions[HM_ROLE_PF] > 0);
	assert_true(v->lock_acquisitions[HM_ROLE_VF] > 0);
	/* every blocking acquisition of a device mutex had a wait before it */
	assert_int_equal(v->lock_wait[HM_ROLE_PF].count + v->lock_wait[HM_ROLE_VF].count,
			 v->events[HM_EV_LOCK_ACQUIRED]);
	assert_int_equal(v->findings[HM_FIND_VF_PF_ORDER][HM_SEV_ERROR], 1);
	assert_int_equal(v->findings[HM_FIND_LOCK_CYCLE][HM_SEV_ERROR], 1);

	text = exposition(m);
	assert_line(text, "hisimig_lock_order_violations_total{kind=\"vf-pf-lock-order\"} 1");
	assert_line(text, "hisimig_lock_order_violations_total{kind=\"vf-pf-trylock\"} 0");
	assert_line(text, "hisimig_lock_cycles_total 1");
	assert_line(text, "hisimig_deadlocks_total 0");
	assert_line(text, "hisimig_findings_total{kind=\"vf-pf-lock-order\",severity=\"error\"} 1");
	/* initialised at each kind's usual severity, others only once seen */
	assert_line(text, "hisimig_findings_total{kind=\"lost-events\",severity=\"warning\"} 0");
	assert_null(strstr(text, "kind=\"deadlock\",severity=\"info\""));
	free(text);
	hm_metrics_free(m);
}

static void test_sriov_vfs_and_binds(void **state)
{
	struct hm_metrics *m = metrics_of_scenario("sriov-blocked");
	const struct hm_metrics_values *v = hm_metrics_values(m);
	char *text;

	(void)state;
	assert_int_equal(v->npfs, 1);
	assert_int_equal(v->pfs[0].vfs, 0);
	assert_int_equal(v->pfs[0].changes[HM_SRIOV_OP_ENABLE][0], 1);
	assert_int_equal(v->pfs[0].changes[HM_SRIOV_OP_DISABLE][0], 1);
	assert_int_equal(v->driver_ops[HM_DRIVER_OP_BIND][HM_ROLE_VF][0], 2);
	assert_int_equal(v->driver_ops[HM_DRIVER_OP_UNBIND][HM_ROLE_VF][0], 2);
	text = exposition(m);
	assert_line(text, "hisimig_sriov_vfs{pf=\"0000:01:00.0\"} 0");
	assert_line(text, "hisimig_sriov_changes_total{pf=\"0000:01:00.0\",op=\"enable\","
			  "result=\"ok\"} 1");
	assert_line(text, "hisimig_sriov_changes_total{pf=\"0000:01:00.0\",op=\"disable\","
			  "result=\"error\"} 0");
	assert_line(text, "hisimig_driver_operations_total{op=\"unbind\",role=\"pf\","
			  "result=\"error\"} 0");
	free(text);
	hm_metrics_free(m);
}

/* The VF count follows VF_ADDED/REMOVED inside an enable/disable too. */
static void test_vf_count_follows_vfs(void **state)
{
	struct hm_metrics *m = new_metrics();
	struct scenario *s = scn_new();
	struct scn_task t = scn_task(1, "bash");
	struct hm_device pf = scn_device("0000:02:00.0", HM_ROLE_PF, NULL, "nvme");
	struct hm_device vf = scn_device("0000:02:00.1", HM_ROLE_VF, "0000:02:00.0", "");

	(void)state;
	scn_sriov(s, &t, HM_EV_SRIOV_ENABLE_BEGIN, &pf, 1, 0);
	scn_vf(s, &t, HM_EV_VF_ADDED, &vf);
	feed(m, s);
	assert_int_equal(hm_metrics_values(m)->pfs[0].vfs, 1);
	scn_free(s);
	s = scn_new();
	scn_vf(s, &t, HM_EV_VF_REMOVED, &vf);
	scn_vf(s, &t, HM_EV_VF_REMOVED, &vf); /* more removals than seen: stays at 0 */
	feed(m, s);
	assert_int_equal(hm_metrics_values(m)->pfs[0].vfs, 0);
	scn_free(s);
	hm_metrics_free(m);
}

static void test_clean_migrations(void **state)
{
	struct hm_metrics *m = metrics_of_scenario("migration-clean");
	const struct hm_metrics_values *v = hm_metrics_values(m);
	const struct hm_mig_device_metrics *vf1 = mig_device(v, "0000:01:00.1");
	char *text;

	(void)state;
	assert_int_equal(v->downtime.count, 5);
	/* 20 ms in STOP_COPY each time, plus the events' own steps */
	assert_true(v->downtime.sum_ns >= 100 * MS && v->downtime.sum_ns < 110 * MS);
	assert_int_equal(v->mig_transitions[HM_MIG_RUNNING][HM_MIG_STOP][HM_MIG_RESULT_OK], 10);
	assert_int_equal(v->mig_transitions[HM_MIG_STOP][HM_MIG_STOP_COPY][HM_MIG_RESULT_OK], 5);
	assert_int_equal(v->mig_bytes[HM_MIG_DATA_SAVE], 5 * 4096);
	assert_non_null(vf1);
	assert_false(vf1->present); /* SR-IOV disabled at the end: its state series go */
	assert_int_equal(vf1->over_budget, 0);

	text = exposition(m);
	assert_line(text, "hisimig_migration_transitions_total{from=\"STOP\",to=\"STOP_COPY\","
			  "result=\"ok\"} 5");
	assert_line(text, "hisimig_migration_downtime_seconds_bucket{le=\"0.016\"} 0");
	assert_line(text, "hisimig_migration_downtime_seconds_bucket{le=\"0.032\"} 5");
	assert_line(text, "hisimig_migration_downtime_seconds_bucket{le=\"+Inf\"} 5");
	assert_line(text, "hisimig_migration_downtime_seconds_count 5");
	assert_line(text, "hisimig_migration_downtime_budget_seconds 0.5");
	assert_null(strstr(text, "hisimig_migration_state{"));
	free(text);
	hm_metrics_free(m);
}

static void test_broken_migration_state_and_illegal(void **state)
{
	struct hm_metrics *m = metrics_of_scenario("migration-broken");
	const struct hm_metrics_values *v = hm_metrics_values(m);
	char *text;

	(void)state;
	assert_int_equal(mig_device(v, "0000:01:00.1")->state, HM_MIG_ERROR);
	assert_int_equal(mig_device(v, "0000:01:00.2")->state, HM_MIG_ERROR);
	text = exposition(m);
	assert_line(text, "hisimig_migration_state{device=\"0000:01:00.1\",state=\"ERROR\"} 1");
	assert_line(text, "hisimig_migration_state{device=\"0000:01:00.1\",state=\"STOP_COPY\"} 0");
	assert_line(text, "hisimig_migration_transitions_total{from=\"STOP_COPY\",to=\"PRE_COPY\","
			  "result=\"illegal\"} 1");
	assert_line(text, "hisimig_migration_transitions_total{from=\"RUNNING\",to=\"STOP\","
			  "result=\"error\"} 1");
	free(text);
	hm_metrics_free(m);
}

/* Stop-copy over the budget, and a device first seen mid-life. */
static void test_downtime_over_budget(void **state)
{
	static const enum hm_mig_state to_stop_copy[] = { HM_MIG_STOP, HM_MIG_STOP_COPY };
	static const enum hm_mig_state to_stop[] = { HM_MIG_STOP_COPY, HM_MIG_STOP };
	struct hm_metrics *m = new_metrics();
	struct scenario *s = scn_new();
	struct scn_task qemu = scn_task(7, "qemu");
	struct hm_device vf = scn_device("0000:03:00.1", HM_ROLE_VF, "0000:03:00.0", "hisi");
	const struct hm_metrics_values *v = hm_metrics_values(m);
	char *text;

	(void)state;
	scn_mig_set_state(s, &qemu, &vf, HM_MIG_CAP_STOP_COPY, to_stop_copy, 2, 0);
	scn_advance(s, 600 * MS);
	scn_mig_set_state(s, &qemu, &vf, HM_MIG_CAP_STOP_COPY, to_stop, 2, 0);
	feed(m, s);
	assert_int_equal(v->downtime.count, 1);
	assert_int_equal(mig_device(v, "0000:03:00.1")->over_budget, 1);
	assert_int_equal(mig_device(v, "0000:03:00.1")->state, HM_MIG_STOP);
	assert_int_equal(v->state_time[HM_MIG_STOP].count, 1); /* seeded by the first BEGIN */
	text = exposition(m);
	assert_line(text, "hisimig_migration_downtime_over_budget_total{device=\"0000:03:00.1\"} 1");
	assert_line(text, "hisimig_migration_state{device=\"0000:03:00.1\",state=\"STOP\"} 1");
	free(text);
	scn_free(s);
	hm_metrics_free(m);
}

static void test_lost_events(void **state)
{
	struct hm_metrics *m = new_metrics();
	struct scenario *s = scn_new();
	char *text;

	(void)state;
	scn_lost(s, 5, 0);
	scn_lost(s, 7, 1);
	feed(m, s);
	text = exposition(m);
	assert_line(text, "hisimig_lost_events_total 12");
	assert_line(text, "hisimig_events_total{type=\"lost\"} 2");
	free(text);
	scn_free(s);
	hm_metrics_free(m);
}

static void test_attach_status_from_meta(void **state)
{
	struct hm_metrics *m = new_metrics();
	char *text;

	(void)state;
	hm_metrics_meta(m, "attach.preference", "auto");
	hm_metrics_meta(m, "attach.mutex_lock", "fentry");
	hm_metrics_meta(m, "attach.hisi_acc_vfio_pci_set_device_state",
			"missing: module hisi_acc_vfio_pci not loaded");
	hm_metrics_meta(m, "attach.we\"ird", "kprobe");
	hm_metrics_meta(m, "command", "run");
	hm_metrics_meta(m, "attach.", "fentry");
	assert_int_equal(hm_metrics_values(m)->nattach, 3);
	/* a late attach replaces the series of its target */
	hm_metrics_meta(m, "attach.mutex_lock", "kprobe");
	assert_int_equal(hm_metrics_values(m)->nattach, 3);

	text = exposition(m);
	assert_line(text, "hisimig_attach_status{target=\"mutex_lock\",mode=\"kprobe\"} 1");
	assert_line(text, "hisimig_attach_status{target=\"hisi_acc_vfio_pci_set_device_state\","
			  "mode=\"missing\"} 0");
	assert_line(text, "hisimig_attach_status{target=\"we\\\"ird\",mode=\"kprobe\"} 1");
	assert_null(strstr(text, "preference"));
	free(text);
	hm_metrics_free(m);
}

/* More devices than the table holds: counted, never unbounded. */
static void test_device_table_is_bounded(void **state)
{
	static const enum hm_mig_state path[] = { HM_MIG_RUNNING, HM_MIG_STOP };
	struct hm_metrics *m = new_metrics();
	struct scenario *s = scn_new();
	struct scn_task qemu = scn_task(7, "qemu");

	(void)state;
	for (int i = 0; i < HM_METRICS_MAX_MIG_DEVICES + 10; i++) {
		char bdf[HM_BDF_STR_LEN];
		struct hm_device vf;

		snprintf(bdf, sizeof(bdf), "0000:%02x:%02x.%d", 0x10 + i / 64, (i / 8) % 8, i % 8);
		vf = scn_device(bdf, HM_ROLE_VF, "0000:10:00.0", "hisi");
		scn_mig_set_state(s, &qemu, &vf, HM_MIG_CAP_STOP_COPY, path, 2, 0);
	}
	feed(m, s);
	assert_int_equal(hm_metrics_values(m)->nmig_devices, HM_METRICS_MAX_MIG_DEVICES);
	assert_int_equal(hm_metrics_values(m)->untracked_device_events, 20); /* begin + end */
	scn_free(s);
	hm_metrics_free(m);
}

/* One HELP and TYPE per family; histogram buckets cumulative and closed by +Inf. */
static void test_exposition_shape(void **state)
{
	struct hm_metrics *m = metrics_of_scenario("migration-clean");
	char *text = exposition(m);

	(void)state;
	assert_int_equal(occurrences(text, "# TYPE hisimig_findings_total counter\n"), 1);
	assert_int_equal(occurrences(text, "# HELP hisimig_findings_total "), 1);
	assert_int_equal(occurrences(text, "# TYPE hisimig_device_lock_wait_seconds histogram\n"), 1);
	assert_line(text, "hisimig_build_info{version=\"" HM_VERSION "\",abi=\"2\"} 1");
	assert_int_equal(occurrences(text, "hisimig_device_lock_wait_seconds_bucket{role=\"pf\","),
			 hm_lock_wait_layout.nbuckets + 1);
	assert_line(text, "hisimig_device_lock_wait_seconds_bucket{role=\"pf\",le=\"0.000001\"} 0");
	assert_line(text, "hisimig_device_lock_wait_seconds_bucket{role=\"pf\",le=\"16.777216\"} 2");
	assert_line(text, "hisimig_device_lock_wait_seconds_bucket{role=\"pf\",le=\"+Inf\"} 2");
	assert_line(text, "hisimig_events_total{type=\"lock-trylock\"} 0");
	assert_true(text[strlen(text) - 1] == '\n');
	free(text);
	hm_metrics_free(m);
}

static void test_listen_parse(void **state)
{
	static const char *const good[] = { "127.0.0.1:9478", "[::1]:9478", ":9478",
					    "localhost:0", "0.0.0.0:65535" };
	static const char *const bad[] = { "9478", "127.0.0.1:", "127.0.0.1:65536",
					   "127.0.0.1:-1", "127.0.0.1:http", "[::1]:+80" };
	struct sockaddr_storage addr;
	socklen_t len;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!hm_listen_parse(good[i], &addr, &len, err, sizeof(err)))
			fail_msg("'%s' rejected: %s", good[i], err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (hm_listen_parse(bad[i], &addr, &len, err, sizeof(err)))
			fail_msg("'%s' accepted", bad[i]);
}

/* Live set-state events carry no start state (the driver's is not readable):
 * transitions are labelled by the first arc's cur_fsm, then the tracked state. */
static void test_live_transitions_get_their_start_state(void **state)
{
	struct hm_metrics *m = new_metrics();
	struct scenario *s = scn_new();
	struct scn_task t = scn_task(7, "migctl");
	struct hm_device vf = scn_device("0000:01:00.1", HM_ROLE_VF, "0000:01:00.0", "hmtest_vf");
	const struct hm_metrics_values *v = hm_metrics_values(m);
	const enum hm_mig_state run_stop[] = { HM_MIG_RUNNING, HM_MIG_STOP };
	const enum hm_mig_state stop_copy[] = { HM_MIG_STOP, HM_MIG_STOP_COPY };

	(void)state;
	scn_mig_set_state(s, &t, &vf, HM_MIG_CAP_STOP_COPY, run_stop, 2, 0);
	scn_mig_set_state(s, &t, &vf, HM_MIG_CAP_STOP_COPY, stop_copy, 2, 0);
	for (size_t i = 0; i < s->count; i++)
		if (s->events[i].hdr.type != HM_EV_MIG_STEP)
			s->events[i].mig.from = HM_MIG_UNKNOWN; /* as the BPF side sends them */
	feed(m, s);
	assert_int_equal(v->mig_transitions[HM_MIG_RUNNING][HM_MIG_STOP][HM_MIG_RESULT_OK], 1);
	assert_int_equal(v->mig_transitions[HM_MIG_STOP][HM_MIG_STOP_COPY][HM_MIG_RESULT_OK], 1);
	assert_int_equal(v->mig_transitions[HM_MIG_NR_STATES][HM_MIG_STOP][HM_MIG_RESULT_OK], 0);
	scn_free(s);
	hm_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_seed_bug_locks_and_findings),
		cmocka_unit_test(test_sriov_vfs_and_binds),
		cmocka_unit_test(test_vf_count_follows_vfs),
		cmocka_unit_test(test_clean_migrations),
		cmocka_unit_test(test_broken_migration_state_and_illegal),
		cmocka_unit_test(test_downtime_over_budget),
		cmocka_unit_test(test_lost_events),
		cmocka_unit_test(test_attach_status_from_meta),
		cmocka_unit_test(test_device_table_is_bounded),
		cmocka_unit_test(test_exposition_shape),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_live_transitions_get_their_start_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
