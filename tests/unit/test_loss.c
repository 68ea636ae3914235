// SPDX-License-Identifier: GPL-2.0
/* Loss analyzer: lost records are always reported, once, with per-CPU counts. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

struct fx {
	struct scenario *s;
	struct collected out;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->s = scn_new();
	assert_non_null(x->s);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	return unit_fixture_free(&x->out, x->s, x);
}

static void some_traffic(struct fx *x)
{
	struct scn_task t = scn_task(10, "kworker/0:1");
	struct hm_device pf = scn_device("0000:75:00.0", HM_ROLE_PF, NULL, "hisi_zip");

	scn_bind(x->s, &t, HM_EV_BIND_BEGIN, &pf, 0);
	scn_bind(x->s, &t, HM_EV_BIND_END, &pf, 0);
}

static void no_loss_no_finding(void **state)
{
	struct fx *x = *state;

	some_traffic(x);
	scn_lost(x->s, 0, 1); /* an empty report is not a loss */
	unit_run_analyzer(&hm_loss_analyzer, x->s, NULL, &x->out);
	assert_int_equal(x->out.n, 0);
}

static void losses_summed_per_cpu_in_one_finding(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;
	uint64_t end;

	some_traffic(x);
	scn_lost(x->s, 100, 0);
	some_traffic(x);
	scn_lost(x->s, 23, 3);
	scn_lost(x->s, 50, 0);
	some_traffic(x);
	end = x->s->events[x->s->count - 1].hdr.ts_ns;
	unit_run_engine(x->s, NULL, &x->out);

	assert_int_equal(x->out.n, 1);
	f = unit_find_kind(&x->out, HM_FIND_LOST_EVENTS);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_WARNING);
	assert_int_equal(f->duration_ns, 0);
	assert_int_equal(f->ts_ns, end);
	assert_non_null(strstr(f->summary, "173 event records lost"));
	assert_non_null(strstr(f->summary, "cpu0 150, cpu3 23"));
	assert_int_equal(f->nevidence, 2);
	assert_true(f->evidence[0].ts_ns < f->evidence[1].ts_ns);
}

static void implausible_cpu_still_counted(void **state)
{
	struct fx *x = *state;

	scn_lost(x->s, 7, 4000000000u);
	scn_lost(x->s, 5, 2);
	unit_run_analyzer(&hm_loss_analyzer, x->s, NULL, &x->out);
	assert_int_equal(x->out.n, 1);
	assert_non_null(strstr(x->out.items[0].summary, "12 event records lost"));
	assert_non_null(strstr(x->out.items[0].summary, "cpu2 5, other CPUs 7"));
}

/* Too many CPUs for the summary: the detail lists them all. */
/* Runs the kernel skipped are counted apart: they have no CPU. */
static void skipped_hook_runs_named_apart(void **state)
{
	struct fx *x = *state;

	some_traffic(x);
	scn_lost(x->s, 7, 1);
	scn_lost(x->s, 5, HM_LOST_SKIPPED_RUNS);
	unit_run_analyzer(&hm_loss_analyzer, x->s, NULL, &x->out);
	assert_int_equal(x->out.n, 1);
	assert_non_null(strstr(x->out.items[0].summary,
			       "12 event records lost (cpu1 7, hook runs the kernel skipped 5)"));
	assert_int_equal(x->out.items[0].severity, HM_SEV_WARNING);
}

/* Skipped runs alone may have lost nothing (most filter their lock out). */
static void skipped_runs_alone_are_info(void **state)
{
	struct fx *x = *state;

	some_traffic(x);
	scn_lost(x->s, 5, HM_LOST_SKIPPED_RUNS);
	unit_run_analyzer(&hm_loss_analyzer, x->s, NULL, &x->out);
	assert_int_equal(x->out.n, 1);
	assert_int_equal(x->out.items[0].severity, HM_SEV_INFO);
}

static void many_cpus_listed_in_detail(void **state)
{
	struct fx *x = *state;

	for (uint32_t cpu = 0; cpu < 256; cpu++)
		scn_lost(x->s, 1000 + cpu, cpu);
	unit_run_analyzer(&hm_loss_analyzer, x->s, NULL, &x->out);
	assert_int_equal(x->out.n, 1);
	assert_non_null(strstr(x->out.items[0].summary, "..."));
	assert_non_null(x->out.items[0].detail);
	assert_non_null(strstr(x->out.items[0].detail, "cpu255 1255"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(no_loss_no_finding),
		T(losses_summed_per_cpu_in_one_finding),
		T(implausible_cpu_still_counted),
		T(skipped_hook_runs_named_apart),
		T(skipped_runs_alone_are_info),
		T(many_cpus_listed_in_detail),
	};

	return cmocka_run_group_tests_name("loss", tests, NULL, NULL);
}
