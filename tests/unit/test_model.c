// SPDX-License-Identifier: GPL-2.0
/* The engine's state model: one set of migration-state rules, lock waits, and
 * the outputs (metrics) following the same transitions as the analyzers. */
#include "unit.h"

#include <errno.h>

#include "metrics.h"
#include "model.h"

#define SEC 1000000000ULL
#define SC HM_MIG_CAP_STOP_COPY

struct fx {
	struct scenario *s;
	struct scn_task qemu;
	struct hm_device vf;
	struct hm_model model;
	struct hm_model_change change;
	size_t applied;              /* records of s given to the model so far */
	unsigned int transitions;    /* changes of migration state seen */
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->s = scn_new();
	assert_non_null(x->s);
	x->qemu = scn_task(400, "qemu");
	x->vf = scn_device("0000:01:00.1", HM_ROLE_VF, "0000:01:00.0", "hisi_acc_vfio_pci");
	hm_model_init(&x->model);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	hm_model_free(&x->model);
	scn_free(x->s);
	free(x);
	return 0;
}

/* Apply the records appended since the last call. */
static void apply_new(struct fx *x)
{
	for (; x->applied < x->s->count; x->applied++) {
		hm_model_apply(&x->model, &x->s->events[x->applied], &x->change);
		x->transitions += x->change.mig_changed;
	}
}

static unsigned int vf_state(const struct fx *x)
{
	return hm_model_mig_state(&x->model, x->vf.dev_addr);
}

static void stop_the_vf(struct fx *x)
{
	static const enum hm_mig_state to_stop[] = { HM_MIG_RUNNING, HM_MIG_STOP };

	scn_vfio(x->s, &x->qemu, HM_EV_VFIO_OPEN, &x->vf, 0);
	scn_mig_set_state(x->s, &x->qemu, &x->vf, SC, to_stop, 2, 0);
	apply_new(x);
	assert_int_equal(vf_state(x), HM_MIG_STOP);
}

static void every_reset_kind_returns_to_running(void **state)
{
	struct fx *x = *state;
	static const enum hm_reset_kind kinds[] = { HM_RESET_FLR, HM_RESET_DONE, HM_RESET_BUS };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		stop_the_vf(x);
		scn_reset(x->s, &x->qemu, &x->vf, kinds[i]);
		apply_new(x);
		assert_true(x->change.mig_changed);
		assert_int_equal(x->change.mig.from, HM_MIG_STOP);
		assert_int_equal(x->change.mig.to, HM_MIG_RUNNING);
		assert_int_equal(vf_state(x), HM_MIG_RUNNING);
	}
}

static void a_failed_reset_changes_nothing(void **state)
{
	struct fx *x = *state;

	stop_the_vf(x);
	scn_reset(x->s, &x->qemu, &x->vf, HM_RESET_FLR);
	x->s->events[x->s->count - 1].reset.ret = -EIO;
	apply_new(x);
	assert_false(x->change.mig_changed);
	assert_int_equal(vf_state(x), HM_MIG_STOP);
}

/* Live set-state ends do not read the driver's state: success means the target. */
static void a_successful_call_leaves_its_target(void **state)
{
	struct fx *x = *state;

	scn_vfio(x->s, &x->qemu, HM_EV_VFIO_OPEN, &x->vf, 0);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_BEGIN, &x->vf, HM_MIG_UNKNOWN, HM_MIG_STOP,
		HM_MIG_UNKNOWN, 0);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_END, &x->vf, HM_MIG_UNKNOWN, HM_MIG_STOP,
		HM_MIG_UNKNOWN, 0);
	apply_new(x);
	assert_int_equal(vf_state(x), HM_MIG_STOP);
	assert_int_equal(x->transitions, 2); /* open: RUNNING; end: STOP */

	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_END, &x->vf, HM_MIG_UNKNOWN,
		HM_MIG_STOP_COPY, HM_MIG_UNKNOWN, -EIO);
	apply_new(x);
	assert_false(x->change.mig_changed); /* a failure says nothing of the state */
	assert_int_equal(vf_state(x), HM_MIG_STOP);
}

static void a_step_out_of_error_stays_in_error(void **state)
{
	struct fx *x = *state;

	stop_the_vf(x);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_STEP, &x->vf, HM_MIG_ERROR, HM_MIG_RUNNING,
		HM_MIG_ERROR, -EINVAL);
	apply_new(x);
	assert_int_equal(vf_state(x), HM_MIG_ERROR);
}

static void removal_forgets_the_device(void **state)
{
	struct fx *x = *state;

	stop_the_vf(x);
	scn_vf(x->s, &x->qemu, HM_EV_VF_REMOVED, &x->vf);
	apply_new(x);
	assert_true(x->change.mig_changed);
	assert_int_equal(x->change.mig.to, HM_MIG_UNKNOWN);
	assert_null(x->change.mig_device);
	assert_null(hm_model_device(&x->model, x->vf.dev_addr));
}

static void an_unbind_of_an_unseen_device_adds_nothing(void **state)
{
	struct fx *x = *state;

	scn_bind(x->s, &x->qemu, HM_EV_UNBIND_BEGIN, &x->vf, 0);
	apply_new(x);
	assert_false(x->change.mig_changed);
	assert_null(x->change.mig_device);
	assert_null(hm_model_device(&x->model, x->vf.dev_addr));
}

static void the_transition_is_known_before_it_is_applied(void **state)
{
	struct fx *x = *state;
	struct hm_mig_transition t;

	stop_the_vf(x);
	scn_reset(x->s, &x->qemu, &x->vf, HM_RESET_DONE);
	assert_true(hm_model_mig_transition(&x->model, &x->s->events[x->s->count - 1], &t));
	assert_int_equal(t.from, HM_MIG_STOP);
	assert_int_equal(t.to, HM_MIG_RUNNING);
	assert_int_equal(vf_state(x), HM_MIG_STOP); /* nothing applied yet */
	apply_new(x);
	assert_int_equal(x->change.mig.to, t.to);
}

static void a_wait_ends_with_its_acquisition(void **state)
{
	struct fx *x = *state;
	uint64_t began;

	scn_lock_wait(x->s, &x->qemu, &x->vf, -1);
	began = x->s->events[x->s->count - 1].hdr.ts_ns;
	scn_advance(x->s, 3 * SEC);
	scn_lock_acquired(x->s, &x->qemu, &x->vf, -1);
	apply_new(x);
	assert_int_equal(x->change.lock, LT_TAKEN);
	assert_true(x->change.wait_ended);
	assert_int_equal(x->change.wait_began_ns, began);

	scn_unlock(x->s, &x->qemu, &x->vf);
	scn_trylock(x->s, &x->qemu, &x->vf, 1, -1);
	apply_new(x);
	assert_int_equal(x->change.lock, LT_TRY_TAKEN);
	assert_false(x->change.wait_ended);
}

/* The metrics follow the model: a function reset ends STOP for the state
 * series as it does for the analyzers (it reports the migration lost). */
static void metrics_and_analyzers_see_one_state(void **state)
{
	struct fx *x = *state;
	struct collected found = { 0 };
	struct hm_config cfg;
	struct hm_metrics *m;
	struct hm_engine *e;
	const struct hm_metrics_values *v;

	stop_the_vf(x);
	scn_advance(x->s, SEC);
	scn_reset(x->s, &x->qemu, &x->vf, HM_RESET_FLR);
	hm_config_defaults(&cfg);
	m = hm_metrics_new(&cfg);
	e = hm_engine_new(&cfg, (struct hm_emitter){ .emit = unit_collect, .ctx = &found });
	assert_non_null(m);
	assert_non_null(e);
	for (size_t i = 0; i < x->s->count; i++)
		if (hm_engine_feed(e, &x->s->events[i], scn_size(x->s, i)))
			hm_metrics_event(m, &x->s->events[i], hm_engine_last_change(e));
	v = hm_metrics_values(m);
	assert_int_equal(v->nmig_devices, 1);
	assert_int_equal(v->mig_devices[0].state, HM_MIG_RUNNING);
	assert_int_equal(v->state_time[HM_MIG_STOP].count, 1);
	assert_int_equal(hm_model_mig_state(hm_engine_model(e), x->vf.dev_addr), HM_MIG_RUNNING);
	assert_int_equal(found.n, 1);
	assert_int_equal(found.items[0].kind, HM_FIND_MIG_RESET);
	hm_engine_finish(e, 0);
	hm_engine_free(e);
	hm_metrics_free(m);
	unit_release(&found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_reset_kind_returns_to_running, setup, teardown),
		cmocka_unit_test_setup_teardown(a_failed_reset_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(a_successful_call_leaves_its_target, setup, teardown),
		cmocka_unit_test_setup_teardown(a_step_out_of_error_stays_in_error, setup, teardown),
		cmocka_unit_test_setup_teardown(removal_forgets_the_device, setup, teardown),
		cmocka_unit_test_setup_teardown(an_unbind_of_an_unseen_device_adds_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(the_transition_is_known_before_it_is_applied, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_wait_ends_with_its_acquisition, setup, teardown),
		cmocka_unit_test_setup_teardown(metrics_and_analyzers_see_one_state, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
