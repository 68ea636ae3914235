// SPDX-License-Identifier: GPL-2.0
/* Waits on other tasks: work items, workqueues, completions (work_deps, and
 * the work pseudo-locks the lock-order and deadlock analyzers see). */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#define WORK 0xffff888104a3d700ULL
#define OTHER_WORK 0xffff888104a3d900ULL
#define WQ 0xffff888100051c00ULL
#define DONE 0xffffc90000b3fd20ULL

struct fx {
	struct scenario *s;
	struct hm_device pf, vf1, vf2;
	struct scn_task store, worker, disabler;
	struct scn_work work, wq_only, done;
	struct collected out;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->s = scn_new();
	assert_non_null(x->s);
	x->pf = scn_device("0000:01:00.0", HM_ROLE_PF, NULL, "hmtest_pf");
	x->vf1 = scn_device("0000:01:00.1", HM_ROLE_VF, "0000:01:00.0", "hmtest_vf");
	x->vf2 = scn_device("0000:01:00.2", HM_ROLE_VF, "0000:01:00.0", "hmtest_vf");
	x->store = scn_task(812, "bash");
	x->worker = scn_task(97, "kworker/1:2");
	x->disabler = scn_task(1420, "sh");
	x->work = (struct scn_work){ WORK, WQ, "hmtest_vf_pf_work", "hmtest" };
	x->wq_only = (struct scn_work){ 0, WQ, NULL, "hmtest" };
	x->done = (struct scn_work){ DONE, 0, NULL, NULL };
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	return unit_fixture_free(&x->out, x->s, x);
}

static void ev(struct fx *x, const struct scn_task *t, enum hm_event_type type,
	       const struct scn_work *w, int ret)
{
	scn_work_event(x->s, t, type, w, ret, -1);
}

/* A kworker runs the work, which takes and drops `dev`'s lock. */
static void work_runs_taking(struct fx *x, const struct scn_work *w, const struct hm_device *dev)
{
	ev(x, &x->worker, HM_EV_WORK_RUN_BEGIN, w, 0);
	scn_lock(x->s, &x->worker, dev, -1);
	scn_unlock(x->s, &x->worker, dev);
	ev(x, &x->worker, HM_EV_WORK_RUN_END, w, 0);
}

static void flush_under(struct fx *x, const struct hm_device *held, enum hm_event_type begin,
			const struct scn_work *w, int how)
{
	scn_lock(x->s, &x->store, held, -1);
	ev(x, &x->store, begin, w, how);
	ev(x, &x->store, begin + 1, w, 1);
	scn_unlock(x->s, &x->store, held);
}

/* SR-IOV disable: PF lock, then the VF's. */
static void pf_then_vf(struct fx *x)
{
	scn_lock(x->s, &x->disabler, &x->pf, -1);
	scn_lock(x->s, &x->disabler, &x->vf1, -1);
	scn_unlock(x->s, &x->disabler, &x->vf1);
	scn_unlock(x->s, &x->disabler, &x->pf);
}

static void run(struct fx *x)
{
	unit_run_engine(x->s, NULL, &x->out);
}

static const struct hm_finding *only_order_finding(struct fx *x)
{
	const struct hm_finding *f = unit_find_kind(&x->out, HM_FIND_VF_PF_ORDER);

	assert_int_equal(unit_count_kind(&x->out, HM_FIND_VF_PF_ORDER), 1);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_true(unit_has_device(f, &x->vf1));
	assert_true(unit_has_device(f, &x->pf));
	return f;
}

/* Both tasks and the work function are named in one finding. */
static void assert_names_both_tasks(const struct hm_finding *f, const char *object)
{
	assert_non_null(strstr(f->summary, "bash/812"));
	assert_non_null(strstr(f->summary, "kworker/1:2/97"));
	assert_non_null(strstr(f->summary, object));
}

static void flush_after_the_work_ran(void **state)
{
	struct fx *x = *state;

	work_runs_taking(x, &x->work, &x->pf);
	flush_under(x, &x->vf1, HM_EV_WORK_FLUSH_BEGIN, &x->work, 0);
	run(x);
	assert_int_equal(x->out.n, 1);
	assert_names_both_tasks(only_order_finding(x), "work:hmtest_vf_pf_work");
}

static void flush_before_the_work_runs(void **state)
{
	struct fx *x = *state;

	scn_lock(x->s, &x->store, &x->vf1, -1);
	ev(x, &x->store, HM_EV_WORK_FLUSH_BEGIN, &x->work, 0);
	work_runs_taking(x, &x->work, &x->pf);
	ev(x, &x->store, HM_EV_WORK_FLUSH_END, &x->work, 1);
	scn_unlock(x->s, &x->store, &x->vf1);
	/* repeats are one finding */
	flush_under(x, &x->vf1, HM_EV_WORK_FLUSH_BEGIN, &x->work, 0);
	work_runs_taking(x, &x->work, &x->pf);
	run(x);
	assert_int_equal(x->out.n, 1);
	assert_names_both_tasks(only_order_finding(x), "work:hmtest_vf_pf_work");
}

/* With SR-IOV disable's PF -> VF the lock-order analyzer closes the cycle
 * through the work item. */
static void sriov_disable_closes_a_cycle_through_the_work(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *cycle;

	flush_under(x, &x->vf1, HM_EV_WORK_FLUSH_BEGIN, &x->work, 0);
	work_runs_taking(x, &x->work, &x->pf);
	pf_then_vf(x);
	run(x);
	assert_int_equal(x->out.n, 2);
	only_order_finding(x);
	cycle = unit_find_kind(&x->out, HM_FIND_LOCK_CYCLE);
	assert_non_null(cycle);
	assert_non_null(strstr(cycle->summary, "work:hmtest_vf_pf_work"));
}

/* cancel_work_sync() of an item that is not running waits for nothing. */
static void cancel_of_an_idle_item_is_fine(void **state)
{
	struct fx *x = *state;

	flush_under(x, &x->vf1, HM_EV_WORK_FLUSH_BEGIN, &x->work, 1);
	work_runs_taking(x, &x->work, &x->pf);
	pf_then_vf(x);
	run(x);
	assert_int_equal(x->out.n, 0);
}

/* ... but waits for a running one. */
static void cancel_of_a_running_item_is_a_violation(void **state)
{
	struct fx *x = *state;

	ev(x, &x->worker, HM_EV_WORK_RUN_BEGIN, &x->work, 0);
	scn_lock_wait(x->s, &x->worker, &x->pf, -1);
	flush_under(x, &x->vf1, HM_EV_WORK_FLUSH_BEGIN, &x->work, 1);
	run(x);
	assert_names_both_tasks(only_order_finding(x), "work:hmtest_vf_pf_work");
}

/* flush_workqueue() waits for every item on it: any function's PF lock. */
static void workqueue_flush_is_a_violation(void **state)
{
	struct fx *x = *state;

	work_runs_taking(x, &x->work, &x->pf);
	flush_under(x, &x->vf1, HM_EV_WQ_FLUSH_BEGIN, &x->wq_only, 0);
	run(x);
	assert_int_equal(x->out.n, 1);
	assert_names_both_tasks(only_order_finding(x), "wq:hmtest");
}

/* PF lock, then flush work that takes VF locks: the PCI core's order. */
static void pf_before_work_taking_vf_is_fine(void **state)
{
	struct fx *x = *state;

	flush_under(x, &x->pf, HM_EV_WORK_FLUSH_BEGIN, &x->work, 0);
	work_runs_taking(x, &x->work, &x->vf1);
	pf_then_vf(x);
	/* and another work function taking the PF is flushed by nobody */
	x->work.addr = OTHER_WORK;
	x->work.func = "hmtest_other_work";
	work_runs_taking(x, &x->work, &x->pf);
	run(x);
	assert_int_equal(x->out.n, 0);
}

static void live_deadlock_through_the_worker(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	scn_lock(x->s, &x->store, &x->vf1, -1);
	scn_lock(x->s, &x->disabler, &x->pf, -1);
	ev(x, &x->worker, HM_EV_WORK_RUN_BEGIN, &x->work, 0);
	scn_lock_wait_owner(x->s, &x->worker, &x->pf, x->disabler.tid, -1);
	ev(x, &x->store, HM_EV_WORK_FLUSH_BEGIN, &x->work, 0);
	scn_lock_wait_owner(x->s, &x->disabler, &x->vf1, x->store.tid, -1);
	run(x);
	only_order_finding(x);
	f = unit_find_kind(&x->out, HM_FIND_DEADLOCK);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "kworker/1:2/97"));
	assert_non_null(strstr(f->summary, "work:hmtest_vf_pf_work"));
}

static void completion_signalled_after_the_pf_lock(void **state)
{
	struct fx *x = *state;

	scn_lock(x->s, &x->store, &x->vf1, -1);
	ev(x, &x->store, HM_EV_COMPLETION_WAIT_BEGIN, &x->done, 0);
	ev(x, &x->worker, HM_EV_WORK_RUN_BEGIN, &x->work, 0);
	scn_lock(x->s, &x->worker, &x->pf, -1);
	scn_unlock(x->s, &x->worker, &x->pf);
	ev(x, &x->worker, HM_EV_COMPLETE, &x->done, 0);
	ev(x, &x->worker, HM_EV_WORK_RUN_END, &x->work, 0);
	ev(x, &x->store, HM_EV_COMPLETION_WAIT_END, &x->done, 0);
	scn_unlock(x->s, &x->store, &x->vf1);
	run(x);
	assert_int_equal(x->out.n, 1);
	assert_names_both_tasks(only_order_finding(x), "completion@");
}

/* An on-stack completion's address reused by a wait that holds no VF lock. */
static void completion_address_reused_is_fine(void **state)
{
	struct fx *x = *state;

	scn_lock(x->s, &x->store, &x->vf1, -1);
	ev(x, &x->store, HM_EV_COMPLETION_WAIT_BEGIN, &x->done, 0);
	ev(x, &x->disabler, HM_EV_COMPLETE, &x->done, 0);
	ev(x, &x->store, HM_EV_COMPLETION_WAIT_END, &x->done, 0);
	scn_unlock(x->s, &x->store, &x->vf1);
	ev(x, &x->store, HM_EV_COMPLETION_WAIT_BEGIN, &x->done, 0);
	scn_lock(x->s, &x->disabler, &x->pf, -1);
	ev(x, &x->disabler, HM_EV_COMPLETE, &x->done, 0);
	scn_unlock(x->s, &x->disabler, &x->pf);
	ev(x, &x->store, HM_EV_COMPLETION_WAIT_END, &x->done, 0);
	run(x);
	assert_int_equal(x->out.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(flush_after_the_work_ran, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_before_the_work_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(sriov_disable_closes_a_cycle_through_the_work, setup,
						teardown),
		cmocka_unit_test_setup_teardown(cancel_of_an_idle_item_is_fine, setup, teardown),
		cmocka_unit_test_setup_teardown(cancel_of_a_running_item_is_a_violation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(workqueue_flush_is_a_violation, setup, teardown),
		cmocka_unit_test_setup_teardown(pf_before_work_taking_vf_is_fine, setup, teardown),
		cmocka_unit_test_setup_teardown(live_deadlock_through_the_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(completion_signalled_after_the_pf_lock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(completion_address_reused_is_fine, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
