// SPDX-License-Identifier: GPL-2.0
/* VFIO migration analyzer: FSM arcs, failures, timing, concurrency, resets, removal. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/mig_fsm.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

#define SC HM_MIG_CAP_STOP_COPY
#define SC_P2P (HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_P2P)
#define SC_PRE (HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_PRE_COPY)
#define ALL_CAPS (HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_P2P | HM_MIG_CAP_PRE_COPY)

#define ERR HM_MIG_ERROR
#define STOP HM_MIG_STOP
#define RUN HM_MIG_RUNNING
#define SCOPY HM_MIG_STOP_COPY
#define RESUME HM_MIG_RESUMING
#define RUNP2P HM_MIG_RUNNING_P2P
#define PRE HM_MIG_PRE_COPY

/* A set-state call along an explicit path of states. */
#define PATH(...) (const enum hm_mig_state[]){ __VA_ARGS__ }, \
	sizeof((enum hm_mig_state[]){ __VA_ARGS__ }) / sizeof(enum hm_mig_state)

struct fx {
	struct scenario *s;
	struct hm_device pf, src, dst, other_pf_vf;
	struct scn_task qemu, qemu2, shell;
	struct collected out;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->s = scn_new();
	assert_non_null(x->s);
	x->pf = scn_device("0000:75:00.0", HM_ROLE_PF, NULL, "hisi_zip");
	x->src = scn_device("0000:75:00.1", HM_ROLE_VF, "0000:75:00.0", "hisi_acc_vfio_pci");
	x->dst = scn_device("0000:75:00.2", HM_ROLE_VF, "0000:75:00.0", "hisi_acc_vfio_pci");
	x->other_pf_vf = scn_device("0000:76:00.1", HM_ROLE_VF, "0000:76:00.0",
				    "hisi_acc_vfio_pci");
	x->qemu = scn_task(4242, "qemu-system-aarch64");
	x->qemu2 = scn_task(4343, "qemu-dst");
	x->shell = scn_task(812, "bash");
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	return unit_fixture_free(&x->out, x->s, x);
}

/* A successful set-state call along the path the FSM takes for these caps. */
static void request(struct fx *x, const struct hm_device *dev, uint8_t caps, int from, int to)
{
	enum hm_mig_state path[HM_MIG_NR_STATES + 1];
	size_t n = hm_mig_path(caps, (unsigned)from, (unsigned)to, path, HM_MIG_NR_STATES + 1);

	assert_true(n > 0);
	scn_mig_set_state(x->s, &x->qemu, dev, caps, path, n, 0);
}

static void open_dev(struct fx *x, const struct hm_device *dev)
{
	scn_vfio(x->s, &x->qemu, HM_EV_VFIO_OPEN, dev, 0);
}

static void close_dev(struct fx *x, const struct hm_device *dev)
{
	scn_vfio(x->s, &x->qemu, HM_EV_VFIO_CLOSE, dev, 0);
}

/* Source: RUNNING -> STOP -> STOP_COPY (save) -> STOP, then QEMU exits. */
static void source_migration(struct fx *x, uint8_t caps)
{
	open_dev(x, &x->src);
	request(x, &x->src, caps, RUN, STOP);
	request(x, &x->src, caps, STOP, SCOPY);
	scn_mig_data(x->s, &x->qemu, &x->src, HM_MIG_DATA_SAVE, 1 << 20);
	scn_advance(x->s, 50 * MS);
	request(x, &x->src, caps, SCOPY, STOP);
	close_dev(x, &x->src);
}

/* Destination: STOP -> RESUMING (load) -> STOP -> RUNNING. */
static void destination_migration(struct fx *x, uint8_t caps)
{
	open_dev(x, &x->dst);
	request(x, &x->dst, caps, RUN, STOP);
	request(x, &x->dst, caps, STOP, RESUME);
	scn_mig_data(x->s, &x->qemu, &x->dst, HM_MIG_DATA_LOAD, 1 << 20);
	scn_advance(x->s, 50 * MS);
	request(x, &x->dst, caps, RESUME, STOP);
	request(x, &x->dst, caps, STOP, RUN);
}

/* Source with pre-copy: RUNNING -> PRE_COPY -> STOP_COPY -> STOP. */
static void precopy_source_migration(struct fx *x, uint8_t caps)
{
	open_dev(x, &x->src);
	request(x, &x->src, caps, RUN, PRE);
	scn_mig_data(x->s, &x->qemu, &x->src, HM_MIG_DATA_SAVE, 8 << 20);
	scn_advance(x->s, 2 * SEC);
	request(x, &x->src, caps, PRE, SCOPY);
	scn_mig_data(x->s, &x->qemu, &x->src, HM_MIG_DATA_SAVE, 1 << 20);
	request(x, &x->src, caps, SCOPY, STOP);
	close_dev(x, &x->src);
}

static void run(struct fx *x)
{
	unit_run_analyzer(&hm_migration_analyzer, x->s, NULL, &x->out);
}

static union hm_event *last_event(struct fx *x)
{
	return &x->s->events[x->s->count - 1];
}

/* ---- clean migrations ------------------------------------------------------ */

static void clean_migrations_repeated_give_no_findings(void **state)
{
	struct fx *x = *state;
	static const uint8_t caps[] = { SC, SC_P2P, SC_PRE, ALL_CAPS };

	for (int i = 0; i < 50; i++) {
		uint8_t c = caps[i % 4];

		source_migration(x, c);
		destination_migration(x, c);
		if (c & HM_MIG_CAP_PRE_COPY)
			precopy_source_migration(x, c);
		close_dev(x, &x->dst);
		scn_advance(x->s, 100 * MS);
	}
	unit_run_engine(x->s, NULL, &x->out);
	assert_int_equal(x->out.n, 0);
}

/* Migration states are fine when quick, even with data and resets while RUNNING. */
static void running_device_is_never_migrating(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	scn_advance(x->s, 60 * SEC);
	scn_reset(x->s, &x->qemu, &x->src, HM_RESET_FLR);
	scn_sriov(x->s, &x->shell, HM_EV_SRIOV_DISABLE_BEGIN, &x->pf, 0, 0);
	scn_bind(x->s, &x->shell, HM_EV_UNBIND_BEGIN, &x->src, 0);
	run(x);
	assert_int_equal(x->out.n, 0);
}

/* ---- illegal arcs ----------------------------------------------------------- */

static void stop_copy_to_pre_copy_is_illegal(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	open_dev(x, &x->src);
	request(x, &x->src, SC_PRE, RUN, PRE);
	request(x, &x->src, SC_PRE, PRE, SCOPY);
	/* QEMU asks for PRE_COPY again; the core refuses, the driver stays put */
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_BEGIN, &x->src, SCOPY, PRE, HM_MIG_UNKNOWN, 0);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_STEP, &x->src, SCOPY, PRE, ERR, -EINVAL);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_END, &x->src, SCOPY, PRE, SCOPY, -EINVAL);
	run(x);

	assert_int_equal(x->out.n, 2);
	f = unit_find_kind(&x->out, HM_FIND_MIG_ILLEGAL_ARC);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_int_equal(f->devices[0].dev_addr, x->src.dev_addr);
	assert_non_null(strstr(f->summary, "STOP_COPY -> PRE_COPY"));
	assert_non_null(strstr(f->summary, "blocks"));
	/* caps learnt from earlier calls */
	assert_non_null(strstr(f->summary, "STOP_COPY|PRE_COPY"));
	assert_int_equal(unit_count_kind(&x->out, HM_FIND_MIG_FAILED), 1);
	assert_int_equal(unit_count_kind(&x->out, HM_FIND_MIG_ERROR_STATE), 0);
}

static void request_for_unsupported_state_is_illegal(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	open_dev(x, &x->src);
	scn_mig_set_state(x->s, &x->qemu, &x->src, SC, PATH(RUN, STOP), 0);
	scn_mig_set_state(x->s, &x->qemu, &x->src, SC, PATH(STOP, RUNP2P), 0);
	run(x);
	f = unit_find_kind(&x->out, HM_FIND_MIG_ILLEGAL_ARC);
	assert_non_null(f);
	assert_int_equal(unit_count_kind(&x->out, HM_FIND_MIG_ILLEGAL_ARC), 1);
	assert_non_null(strstr(f->summary, "RUNNING_P2P is not a state"));
}

/* With P2P the core never hands RUNNING -> STOP to a driver directly. */
static void step_skipping_p2p_is_illegal(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	open_dev(x, &x->src);
	scn_mig_set_state(x->s, &x->qemu, &x->src, ALL_CAPS, PATH(RUN, STOP), 0);
	run(x);
	assert_int_equal(x->out.n, 1);
	f = &x->out.items[0];
	assert_int_equal(f->kind, HM_FIND_MIG_ILLEGAL_ARC);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_non_null(strstr(f->summary, "RUNNING -> STOP"));
	assert_non_null(strstr(f->summary, "STOP_COPY|P2P|PRE_COPY"));
}

static void unknown_caps_are_assumed_and_said(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	scn_mig_set_state(x->s, &x->qemu, &x->src, 0, PATH(RUN, STOP), 0);
	run(x);
	assert_int_equal(unit_count_kind(&x->out, HM_FIND_MIG_ILLEGAL_ARC), 1);
	assert_non_null(strstr(x->out.items[0].summary, "unknown, assumed"));
}

static void same_illegal_arc_reported_once(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	for (int i = 0; i < 10; i++) {
		scn_mig_set_state(x->s, &x->qemu, &x->src, ALL_CAPS, PATH(RUN, STOP), 0);
		scn_mig_set_state(x->s, &x->qemu, &x->src, ALL_CAPS, PATH(STOP, RUNP2P, RUN), 0);
	}
	unit_run_engine(x->s, NULL, &x->out);
	assert_int_equal(x->out.n, 1);
	assert_int_equal(x->out.items[0].kind, HM_FIND_MIG_ILLEGAL_ARC);
}

/* ---- failed transitions ----------------------------------------------------- */

static void failed_transition_into_error(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *failed, *error;

	open_dev(x, &x->src);
	scn_mig_set_state(x->s, &x->qemu, &x->src, SC, PATH(RUN, STOP), -EIO);
	run(x);
	assert_int_equal(x->out.n, 2);
	failed = unit_find_kind(&x->out, HM_FIND_MIG_FAILED);
	error = unit_find_kind(&x->out, HM_FIND_MIG_ERROR_STATE);
	assert_non_null(failed);
	assert_non_null(error);
	assert_int_equal(failed->severity, HM_SEV_ERROR);
	assert_int_equal(error->severity, HM_SEV_ERROR);
	assert_int_equal(failed->devices[0].dev_addr, x->src.dev_addr);
	assert_non_null(strstr(failed->summary, "RUNNING -> STOP failed (-5)"));
}

/* Set-state events as the live hooks make them: the driver callback does not
 * show where the call began or ended, only vfio_mig_get_next_state() does. */
static void as_live(struct fx *x)
{
	for (size_t i = 0; i < x->s->count; i++) {
		struct hm_mig_event *e = &x->s->events[i].mig;

		if (e->hdr.type == HM_EV_MIG_SET_STATE_BEGIN || e->hdr.type == HM_EV_MIG_SET_STATE_END)
			e->from = e->next = HM_MIG_UNKNOWN;
	}
}

/* QEMU after a failed transition: back to RUNNING, which the core refuses
 * from ERROR (the driver hands it its state), then a device reset. */
static void recover_from_error(struct fx *x, const struct hm_device *dev)
{
	union hm_event *ev;

	ev = scn_append(x->s, &x->qemu, HM_EV_MIG_SET_STATE_BEGIN, -1);
	ev->mig = (struct hm_mig_event){ .hdr = ev->hdr, .dev = *dev, .from = HM_MIG_UNKNOWN,
					 .to = RUN, .next = HM_MIG_UNKNOWN, .caps = SC };
	ev = scn_append(x->s, &x->qemu, HM_EV_MIG_STEP, -1);
	ev->mig = (struct hm_mig_event){ .hdr = ev->hdr, .dev = *dev, .from = ERR, .to = RUN,
					 .next = HM_MIG_UNKNOWN, .caps = SC, .ret = -EINVAL };
	ev = scn_append(x->s, &x->qemu, HM_EV_MIG_SET_STATE_END, -1);
	ev->mig = (struct hm_mig_event){ .hdr = ev->hdr, .dev = *dev, .from = HM_MIG_UNKNOWN,
					 .to = RUN, .next = HM_MIG_UNKNOWN, .caps = SC,
					 .ret = -EINVAL };
	scn_reset(x->s, &x->qemu, dev, HM_RESET_FLR);
}

/* Live, ERROR shows when the driver passes it to the core: one failed
 * transition, one ERROR finding, and the refused way out adds nothing. */
static void live_failure_into_error_seen_at_next_step(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *failed, *error;

	open_dev(x, &x->src);
	scn_mig_set_state(x->s, &x->qemu, &x->src, SC, PATH(RUN, STOP, SCOPY), -EIO);
	as_live(x);
	recover_from_error(x, &x->src);
	run(x);
	assert_int_equal(x->out.n, 2);
	failed = unit_find_kind(&x->out, HM_FIND_MIG_FAILED);
	error = unit_find_kind(&x->out, HM_FIND_MIG_ERROR_STATE);
	assert_non_null(failed);
	assert_non_null(error);
	assert_non_null(strstr(failed->summary, "set-state RUNNING -> STOP_COPY failed (-5)"));
	assert_null(strstr(failed->summary, "left in"));
	assert_non_null(strstr(error->summary, "set-state RUNNING -> STOP_COPY returned -5"));
	assert_int_equal(error->nevidence, 2);
}

static void failed_transition_keeping_state(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	request(x, &x->src, SC, RUN, STOP);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_BEGIN, &x->src, STOP, SCOPY, HM_MIG_UNKNOWN, 0);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_STEP, &x->src, STOP, SCOPY, SCOPY, 0);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_END, &x->src, STOP, SCOPY, STOP, -ENOMEM);
	run(x);
	assert_int_equal(x->out.n, 1);
	assert_int_equal(x->out.items[0].kind, HM_FIND_MIG_FAILED);
	assert_non_null(strstr(x->out.items[0].summary, "left in STOP"));
}

/* ---- timing ------------------------------------------------------------------- */

static void resuming_held_too_long(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	open_dev(x, &x->dst);
	request(x, &x->dst, SC, RUN, STOP);
	request(x, &x->dst, SC, STOP, RESUME);
	scn_advance(x->s, 40 * SEC);
	request(x, &x->dst, SC, RESUME, STOP);
	request(x, &x->dst, SC, STOP, RUN);
	run(x);
	assert_int_equal(x->out.n, 1);
	f = unit_find_kind(&x->out, HM_FIND_MIG_STATE_TOO_LONG);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_WARNING);
	assert_true(f->duration_ns >= 40 * SEC && f->duration_ns < 40 * SEC + 1 * MS);
	assert_non_null(strstr(f->summary, "RESUMING"));
}

/* A device parked in RESUMING makes no records: the clock reports it. */
static void held_state_reported_when_only_the_clock_moves(void **state)
{
	struct fx *x = *state;
	struct hm_engine *e;
	uint64_t entered;

	open_dev(x, &x->dst);
	request(x, &x->dst, SC, RUN, STOP);
	request(x, &x->dst, SC, STOP, RESUME);
	entered = x->s->events[x->s->count - 1].hdr.ts_ns;
	e = unit_engine_fed(x->s, NULL, &x->out);
	assert_non_null(strstr(unit_reported_when_the_clock_passes(e, &x->out, entered, 30 * SEC,
								   HM_FIND_MIG_STATE_TOO_LONG)->summary,
			       "RESUMING"));
	hm_engine_free(e);
}

static void state_limit_comes_from_config(void **state)
{
	struct fx *x = *state;
	struct hm_config cfg;

	hm_config_defaults(&cfg);
	cfg.mig_state_max_ns = 1 * SEC;
	open_dev(x, &x->dst);
	request(x, &x->dst, SC, RUN, STOP);
	scn_advance(x->s, 900 * MS);
	request(x, &x->dst, SC, STOP, RESUME);
	scn_advance(x->s, 2 * SEC);
	request(x, &x->dst, SC, RESUME, STOP);
	request(x, &x->dst, SC, STOP, RUN);
	unit_run_analyzer(&hm_migration_analyzer, x->s, &cfg, &x->out);
	assert_int_equal(x->out.n, 1);
	assert_int_equal(x->out.items[0].kind, HM_FIND_MIG_STATE_TOO_LONG);
	assert_non_null(strstr(x->out.items[0].summary, "RESUMING"));
}

/* Still stopped when the stream ends: finish() reports it. */
static void state_still_held_at_finish(void **state)
{
	struct fx *x = *state;
	struct hm_config cfg;
	struct hm_emitter em = { .emit = unit_collect, .ctx = &x->out };
	struct unit_rig rig;
	uint64_t stopped;

	hm_config_defaults(&cfg);
	open_dev(x, &x->src);
	request(x, &x->src, SC, RUN, STOP);
	stopped = last_event(x)->hdr.ts_ns;
	unit_rig_open(&rig, &hm_migration_analyzer, &cfg, em);
	for (size_t i = 0; i < x->s->count; i++)
		unit_rig_feed(&rig, &x->s->events[i]);
	unit_rig_close(&rig, stopped + 31 * SEC);
	assert_int_equal(x->out.n, 1);
	assert_int_equal(x->out.items[0].kind, HM_FIND_MIG_STATE_TOO_LONG);
	assert_true(x->out.items[0].duration_ns >= 31 * SEC - 1 * MS);
}

static void stop_copy_downtime_over_budget(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	open_dev(x, &x->src);
	request(x, &x->src, SC, RUN, STOP);
	request(x, &x->src, SC, STOP, SCOPY);
	scn_mig_data(x->s, &x->qemu, &x->src, HM_MIG_DATA_SAVE, 1000);
	scn_mig_data(x->s, &x->qemu, &x->src, HM_MIG_DATA_SAVE, 1000);
	scn_advance(x->s, 800 * MS);
	request(x, &x->src, SC, SCOPY, STOP);
	run(x);
	assert_int_equal(x->out.n, 1);
	f = unit_find_kind(&x->out, HM_FIND_MIG_DOWNTIME);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_WARNING);
	assert_true(f->duration_ns >= 800 * MS && f->duration_ns < 801 * MS);
	assert_non_null(strstr(f->summary, "2000 bytes"));
	assert_non_null(strstr(f->summary, "leaving RUNNING"));
	assert_int_equal(f->nevidence, 2);
}

static void stop_copy_within_budget_is_fine(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	request(x, &x->src, SC_P2P, RUN, STOP);
	request(x, &x->src, SC_P2P, STOP, SCOPY);
	scn_advance(x->s, 400 * MS);
	request(x, &x->src, SC_P2P, SCOPY, STOP);
	run(x);
	assert_int_equal(x->out.n, 0);
}

/* Pre-copy time is not downtime; only the stop-copy part counts. */
static void precopy_downtime_counts_from_stop_copy(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	request(x, &x->src, SC_PRE, RUN, PRE);
	scn_advance(x->s, 10 * SEC);
	request(x, &x->src, SC_PRE, PRE, SCOPY);
	scn_advance(x->s, 600 * MS);
	request(x, &x->src, SC_PRE, SCOPY, STOP);
	run(x);
	assert_int_equal(x->out.n, 1);
	assert_int_equal(x->out.items[0].kind, HM_FIND_MIG_DOWNTIME);
	assert_true(x->out.items[0].duration_ns >= 600 * MS &&
		    x->out.items[0].duration_ns < 601 * MS);
	assert_non_null(strstr(x->out.items[0].summary, "leaving PRE_COPY"));
}

/* ---- concurrency ---------------------------------------------------------------- */

static void two_tasks_in_set_state_at_once(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	open_dev(x, &x->src);
	/* caps are learnt from this first call; the hand-made events carry none */
	request(x, &x->src, SC, RUN, STOP);
	request(x, &x->src, SC, STOP, RUN);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_BEGIN, &x->src, RUN, STOP, HM_MIG_UNKNOWN, 0);
	scn_mig(x->s, &x->qemu2, HM_EV_MIG_SET_STATE_BEGIN, &x->src, RUN, STOP, HM_MIG_UNKNOWN, 0);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_STEP, &x->src, RUN, STOP, STOP, 0);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_END, &x->src, RUN, STOP, STOP, 0);
	scn_mig(x->s, &x->qemu2, HM_EV_MIG_SET_STATE_END, &x->src, STOP, STOP, STOP, 0);
	run(x);
	assert_int_equal(x->out.n, 1);
	f = unit_find_kind(&x->out, HM_FIND_MIG_CONCURRENT);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_int_equal(f->nevidence, 2);
	assert_int_equal(f->evidence[0].tid, 4242);
	assert_int_equal(f->evidence[1].tid, 4343);
}

/* hisi_acc_vfio_pci and hmtest take their state_mutex first thing in the
 * callback: the second caller waits inside it, then takes its turn. */
static void overlap_serialised_by_the_state_mutex_is_fine(void **state)
{
	struct fx *x = *state;
	struct scn_named_lock mutex = scn_named_lock(x->s, "hisi_acc_vfio_pci:state_mutex",
						     HM_LOCK_ORIGIN_LEARNED, 0xffff888104a3d5a8ULL);

	open_dev(x, &x->src);
	request(x, &x->src, SC, RUN, STOP);
	request(x, &x->src, SC, STOP, RUN);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_BEGIN, &x->src, RUN, STOP, HM_MIG_UNKNOWN, 0);
	scn_nlock(x->s, &x->qemu, &mutex, HM_LOCK_MUTEX, -1);
	scn_mig(x->s, &x->qemu2, HM_EV_MIG_SET_STATE_BEGIN, &x->src, RUN, STOP, HM_MIG_UNKNOWN, 0);
	scn_nlock_wait(x->s, &x->qemu2, &mutex, HM_LOCK_MUTEX, -1);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_STEP, &x->src, RUN, STOP, STOP, 0);
	scn_nunlock(x->s, &x->qemu, &mutex, HM_LOCK_MUTEX);
	scn_nlock(x->s, &x->qemu2, &mutex, HM_LOCK_MUTEX, -1);
	/* the first call has not returned yet: still overlapping, but serialised */
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_END, &x->src, RUN, STOP, STOP, 0);
	scn_nunlock(x->s, &x->qemu2, &mutex, HM_LOCK_MUTEX);
	scn_mig(x->s, &x->qemu2, HM_EV_MIG_SET_STATE_END, &x->src, STOP, STOP, STOP, 0);
	run(x);
	assert_int_equal(x->out.n, 0);
}

/* A driver that skips the core's FSM helper takes no steps: overlapping
 * calls that never take a state mutex race all the same. */
static void overlap_without_steps_or_mutex_is_an_error(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_BEGIN, &x->src, RUN, STOP, HM_MIG_UNKNOWN, 0);
	scn_mig(x->s, &x->qemu2, HM_EV_MIG_SET_STATE_BEGIN, &x->src, RUN, STOP, HM_MIG_UNKNOWN, 0);
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_END, &x->src, RUN, STOP, STOP, 0);
	scn_mig(x->s, &x->qemu2, HM_EV_MIG_SET_STATE_END, &x->src, STOP, STOP, STOP, 0);
	run(x);
	assert_int_equal(x->out.n, 1);
	assert_int_equal(unit_find_kind(&x->out, HM_FIND_MIG_CONCURRENT)->severity, HM_SEV_ERROR);
}

static void sequential_tasks_are_fine(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	request(x, &x->src, SC, RUN, STOP);
	scn_mig_set_state(x->s, &x->qemu2, &x->src, SC, PATH(STOP, RUN), 0);
	/* a lost END: the same task starting again is not a second task */
	scn_mig(x->s, &x->qemu, HM_EV_MIG_SET_STATE_BEGIN, &x->src, RUN, STOP, HM_MIG_UNKNOWN, 0);
	request(x, &x->src, SC, RUN, STOP);
	run(x);
	assert_int_equal(x->out.n, 0);
}

/* ---- resets, removal, SR-IOV disable ---------------------------------------------- */

static void reset_during_migration(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	open_dev(x, &x->src);
	request(x, &x->src, SC, RUN, STOP);
	request(x, &x->src, SC, STOP, SCOPY);
	scn_reset(x->s, &x->qemu, &x->src, HM_RESET_DONE);
	/* back in RUNNING: a new migration starts cleanly */
	request(x, &x->src, SC, RUN, STOP);
	request(x, &x->src, SC, STOP, RUN);
	run(x);
	assert_int_equal(x->out.n, 1);
	f = unit_find_kind(&x->out, HM_FIND_MIG_RESET);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_WARNING);
	assert_non_null(strstr(f->summary, "STOP_COPY"));
}

/* Only a reset leaves ERROR: the recovery itself is not reported. */
static void reset_out_of_error_is_recovery(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	scn_mig_set_state(x->s, &x->qemu, &x->src, SC, PATH(RUN, STOP), -EIO);
	scn_reset(x->s, &x->qemu, &x->src, HM_RESET_FLR);
	request(x, &x->src, SC, RUN, STOP);
	request(x, &x->src, SC, STOP, RUN);
	run(x);
	assert_int_equal(x->out.n, 2);
	assert_int_equal(unit_count_kind(&x->out, HM_FIND_MIG_FAILED), 1);
	assert_int_equal(unit_count_kind(&x->out, HM_FIND_MIG_ERROR_STATE), 1);
}

static void vf_unbound_mid_migration(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	open_dev(x, &x->src);
	request(x, &x->src, SC, RUN, STOP);
	scn_bind(x->s, &x->shell, HM_EV_UNBIND_BEGIN, &x->src, 0);
	scn_bind(x->s, &x->shell, HM_EV_UNBIND_END, &x->src, 0);
	scn_vf(x->s, &x->shell, HM_EV_VF_REMOVED, &x->src);
	run(x);
	assert_int_equal(x->out.n, 1);
	f = unit_find_kind(&x->out, HM_FIND_MIG_DEVICE_GONE);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_int_equal(f->devices[0].dev_addr, x->src.dev_addr);
	assert_non_null(strstr(f->summary, "unbound"));
}

static void vf_removed_mid_migration(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->dst);
	request(x, &x->dst, SC, RUN, STOP);
	request(x, &x->dst, SC, STOP, RESUME);
	scn_vf(x->s, &x->shell, HM_EV_VF_REMOVED, &x->dst);
	run(x);
	assert_int_equal(x->out.n, 1);
	assert_int_equal(x->out.items[0].kind, HM_FIND_MIG_DEVICE_GONE);
	assert_non_null(strstr(x->out.items[0].summary, "removed"));
	assert_non_null(strstr(x->out.items[0].summary, "RESUMING"));
}

static void sriov_disable_while_vf_migrates(void **state)
{
	struct fx *x = *state;
	const struct hm_finding *f;

	open_dev(x, &x->src);
	open_dev(x, &x->other_pf_vf);
	request(x, &x->src, SC, RUN, STOP);
	request(x, &x->src, SC, STOP, SCOPY);
	request(x, &x->other_pf_vf, SC, RUN, STOP);
	scn_sriov(x->s, &x->shell, HM_EV_SRIOV_DISABLE_BEGIN, &x->pf, 0, 0);
	/* the removal that follows is the same story: not reported again */
	scn_bind(x->s, &x->shell, HM_EV_UNBIND_BEGIN, &x->src, 0);
	scn_vf(x->s, &x->shell, HM_EV_VF_REMOVED, &x->src);
	run(x);
	assert_int_equal(x->out.n, 1);
	f = unit_find_kind(&x->out, HM_FIND_MIG_SRIOV_DISABLE);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_int_equal(f->ndevices, 2);
	assert_int_equal(f->devices[0].dev_addr, x->pf.dev_addr);
	assert_int_equal(f->devices[1].dev_addr, x->src.dev_addr);
	assert_non_null(strstr(f->summary, "STOP_COPY"));
}

static void closed_device_is_not_migrating(void **state)
{
	struct fx *x = *state;

	open_dev(x, &x->src);
	request(x, &x->src, SC, RUN, STOP);
	close_dev(x, &x->src);
	scn_advance(x->s, 60 * SEC);
	scn_sriov(x->s, &x->shell, HM_EV_SRIOV_DISABLE_BEGIN, &x->pf, 0, 0);
	scn_bind(x->s, &x->shell, HM_EV_UNBIND_BEGIN, &x->src, 0);
	scn_vf(x->s, &x->shell, HM_EV_VF_REMOVED, &x->src);
	run(x);
	assert_int_equal(x->out.n, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(clean_migrations_repeated_give_no_findings),
		T(running_device_is_never_migrating),
		T(stop_copy_to_pre_copy_is_illegal),
		T(request_for_unsupported_state_is_illegal),
		T(step_skipping_p2p_is_illegal),
		T(unknown_caps_are_assumed_and_said),
		T(same_illegal_arc_reported_once),
		T(failed_transition_into_error),
		T(live_failure_into_error_seen_at_next_step),
		T(failed_transition_keeping_state),
		T(resuming_held_too_long),
		T(held_state_reported_when_only_the_clock_moves),
		T(state_limit_comes_from_config),
		T(state_still_held_at_finish),
		T(stop_copy_downtime_over_budget),
		T(stop_copy_within_budget_is_fine),
		T(precopy_downtime_counts_from_stop_copy),
		T(two_tasks_in_set_state_at_once),
		T(sequential_tasks_are_fine),
		T(overlap_serialised_by_the_state_mutex_is_fine),
		T(overlap_without_steps_or_mutex_is_an_error),
		T(reset_during_migration),
		T(reset_out_of_error_is_recovery),
		T(vf_unbound_mid_migration),
		T(vf_removed_mid_migration),
		T(sriov_disable_while_vf_migrates),
		T(closed_device_is_not_migrating),
	};

	return cmocka_run_group_tests_name("migration", tests, NULL, NULL);
}
