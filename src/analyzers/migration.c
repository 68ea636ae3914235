// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO live migration: follows each device through the uAPI v2 state machine
 * and reports arcs the FSM forbids, failed or concurrent set-state calls,
 * states held too long, stop-copy downtime over budget, and resets, removals
 * or SR-IOV disables in the middle of a migration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "model.h"
#include "analyzers/lock_track.h"
#include "devtable.h"
#include "event.h"
#include "finding.h"
#include "mig_fsm.h"

/* One migration_set_state() call in progress. */
struct mig_call {
	struct hm_event_header begin;
	uint8_t from, target;
	bool flagged;                /* an illegal arc was reported for this call */
	bool locked;                 /* its task held the driver's state mutex in the call */
	bool stepped;                /* the core chose an arc in it */
	bool overlapped;             /* another task's call ran at the same time */
	bool concurrency_reported;
};

#define MAX_CALLS 2              /* the one in progress and a concurrent one */

/* What this analyzer adds to the model's device (model.h: its state, caps
 * and the record that entered the state). */
struct mig_device {
	struct hm_device dev;
	bool state_reported;         /* too-long warning given for this stay */
	struct mig_call calls[MAX_CALLS];
	unsigned int ncalls;
	/* stop-copy downtime: from the device stopping to STOP_COPY being left */
	bool stopped;
	struct hm_event_header stop;
	uint8_t stopped_from;
	uint64_t saved_bytes;
	bool gone_explained;         /* SR-IOV disable already reported its end */
	struct hm_mig_event failure; /* the last failed set-state, from = where it began */
};

struct migration {
	struct hm_config cfg;
	const struct hm_model *model; /* the engine's: migration states, lock holds */
	struct hm_devtable devices;  /* dev_addr -> struct mig_device */
	unsigned int migrating;      /* devices in a non-RUNNING state: 0 skips scans */
	const struct lt_tracker *locks; /* the model's: who holds a driver's state mutex */
	unsigned int open_calls;     /* set-state calls in progress: 0 skips lock checks */
};

static void *migration_create(const struct hm_config *cfg, const struct hm_model *model)
{
	struct migration *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->locks = &model->locks;
	m->cfg = *cfg;
	m->model = model;
	hm_devtable_init(&m->devices, sizeof(struct mig_device));
	return m;
}

static void migration_destroy(void *self)
{
	struct migration *m = self;

	hm_devtable_free(&m->devices);
	free(m);
}

static bool state_known(unsigned int state)
{
	return state < HM_MIG_NR_STATES;
}

/* A migration is in progress while the device is known and not RUNNING. */
static bool migrating_in(unsigned int state)
{
	return state_known(state) && state != HM_MIG_RUNNING;
}

/* The device's state as the model has it: before the record being fed. */
static unsigned int state_of(const struct migration *m, const struct mig_device *d)
{
	return hm_model_mig_state(m->model, d->dev.dev_addr);
}

static bool migrating(const struct migration *m, const struct mig_device *d)
{
	return migrating_in(state_of(m, d));
}

static bool device_running(unsigned int state)
{
	return state == HM_MIG_RUNNING || state == HM_MIG_RUNNING_P2P ||
	       state == HM_MIG_PRE_COPY || state == HM_MIG_PRE_COPY_P2P;
}

static bool device_stopped(unsigned int state)
{
	return state == HM_MIG_STOP || state == HM_MIG_STOP_COPY;
}

static struct mig_device *device_seen(struct migration *m, const struct hm_device *dev)
{
	struct mig_device *d = hm_devtable_get_or_add(&m->devices, dev->dev_addr);

	if (d)
		d->dev = *dev;
	return d;
}

static const char *bdf_of(const struct mig_device *d, char buf[HM_BDF_STR_LEN])
{
	return hm_bdf_format(&d->dev.bdf, buf);
}

/* ---- building findings ---------------------------------------------------- */

static void finding_about(struct hm_finding *f, enum hm_finding_kind kind,
			  const struct mig_device *d, uint64_t ts)
{
	hm_finding_init(f, kind, ts);
	f->fingerprint = hm_fp_device(f->fingerprint, &d->dev);
	hm_finding_add_device(f, &d->dev);
}

static void add_state_evidence(const struct migration *m, struct hm_finding *f,
			       const struct mig_device *d)
{
	const struct hm_model_device *md = hm_model_device(m->model, d->dev.dev_addr);

	if (md && state_known(md->mig_state))
		hm_finding_add_evidence(f, &md->mig_entered, "device entered %s",
					hm_mig_state_name(md->mig_state));
}

static void emit_finding(const struct hm_emitter *out, struct hm_finding *f)
{
	hm_emit(out, f);
	hm_finding_release(f);
}

/* ---- state changes --------------------------------------------------------- */

/* The model moves the device from t->from to t->to with the record being
 * fed: the one place this analyzer follows it, so the count of migrating
 * devices stays right. */
static void follow_state(struct migration *m, struct mig_device *d,
			 const struct hm_mig_transition *t)
{
	bool was = migrating_in(t->from), now = migrating_in(t->to);

	d->state_reported = false;
	if (was != now) {
		if (was)
			m->migrating--;
		else
			m->migrating++;
	}
	if (!now)
		d->gone_explained = false;
}

static void report_downtime(struct migration *m, struct mig_device *d, uint64_t now,
			    const struct hm_event_header *end, const struct hm_emitter *out)
{
	char bdf[HM_BDF_STR_LEN], took[HM_DURATION_STR_LEN], budget[HM_DURATION_STR_LEN];
	struct hm_finding f;

	finding_about(&f, HM_FIND_MIG_DOWNTIME, d, now);
	f.duration_ns = now - d->stop.ts_ns;
	hm_finding_summary(&f, "%s was stopped for %s (budget %s), from leaving %s until "
			   "STOP_COPY ended; %llu bytes saved meanwhile", bdf_of(d, bdf),
			   hm_format_duration(f.duration_ns, took),
			   hm_format_duration(m->cfg.mig_downtime_max_ns, budget),
			   hm_mig_state_name(d->stopped_from),
			   (unsigned long long)d->saved_bytes);
	hm_finding_add_evidence(&f, &d->stop, "device stopped (left %s)",
				hm_mig_state_name(d->stopped_from));
	if (end)
		hm_finding_add_evidence(&f, end, "STOP_COPY left");
	emit_finding(out, &f);
}

static bool downtime_over_budget(const struct migration *m, const struct mig_device *d,
				 uint64_t now)
{
	return now > d->stop.ts_ns && now - d->stop.ts_ns > m->cfg.mig_downtime_max_ns;
}

/* Downtime runs from leaving a running state into STOP/STOP_COPY until
 * STOP_COPY is left (the state is saved). */
static void track_downtime(struct migration *m, struct mig_device *d,
			   const struct hm_mig_transition *t, const struct hm_event_header *hdr,
			   const struct hm_emitter *out)
{
	if (d->stopped && t->from == HM_MIG_STOP_COPY) {
		if (downtime_over_budget(m, d, hdr->ts_ns))
			report_downtime(m, d, hdr->ts_ns, hdr, out);
		d->stopped = false;
	}
	if (device_running(t->from) && device_stopped(t->to)) {
		d->stopped = true;
		d->stop = *hdr;
		d->stopped_from = t->from;
		d->saved_bytes = 0;
	} else if (!device_stopped(t->to)) {
		d->stopped = false;
	}
}

/* @seen: the event that showed ERROR, when not the failed set-state itself */
static void report_error_state(struct mig_device *d, const struct hm_mig_event *cause,
			       const struct hm_mig_event *seen, const struct hm_emitter *out)
{
	char bdf[HM_BDF_STR_LEN];
	struct hm_finding f;

	finding_about(&f, HM_FIND_MIG_ERROR_STATE, d, (seen ? seen : cause)->hdr.ts_ns);
	hm_finding_summary(&f, "%s entered the VFIO migration ERROR state (set-state %s -> %s "
			   "returned %d)", bdf_of(d, bdf), hm_mig_state_name(cause->from),
			   hm_mig_state_name(cause->to), cause->ret);
	hm_finding_add_evidence(&f, &cause->hdr, "set-state returned %d", cause->ret);
	if (seen)
		hm_finding_add_evidence(&f, &seen->hdr, "the driver passed ERROR as its state to "
					"vfio_mig_get_next_state() (towards %s: refused, %d)",
					hm_mig_state_name(seen->to), seen->ret);
	emit_finding(out, &f);
}

/* A set-state call moves the device (t: the model's transition, NULL if none). */
static void enter_state(struct migration *m, struct mig_device *d,
			const struct hm_mig_transition *t, const struct hm_event_header *hdr,
			const struct hm_emitter *out)
{
	if (!t)
		return;
	track_downtime(m, d, t, hdr, out);
	follow_state(m, d, t);
}

/* The device left the FSM by a reset, open, close or removal: no downtime runs. */
static void leave_fsm(struct migration *m, struct mig_device *d, const struct hm_mig_transition *t)
{
	d->stopped = false;
	if (t)
		follow_state(m, d, t);
}

/* The device's migration state is gone (closed, unbound, removed). */
static void forget_state(struct migration *m, struct mig_device *d,
			 const struct hm_mig_transition *t)
{
	d->ncalls = 0;
	leave_fsm(m, d, t);
}

/* ---- state held too long ---------------------------------------------------- */

static bool state_overdue(const struct migration *m, const struct mig_device *d, uint64_t now)
{
	const struct hm_model_device *md = hm_model_device(m->model, d->dev.dev_addr);

	/* ERROR is reported on its own; it only ends with a reset */
	return md && migrating_in(md->mig_state) && md->mig_state != HM_MIG_ERROR &&
	       !d->state_reported && now > md->mig_entered.ts_ns &&
	       now - md->mig_entered.ts_ns > m->cfg.mig_state_max_ns;
}

static void report_state_too_long(struct migration *m, struct mig_device *d, uint64_t now,
				  const struct hm_emitter *out)
{
	const struct hm_model_device *md = hm_model_device(m->model, d->dev.dev_addr);
	char bdf[HM_BDF_STR_LEN], held[HM_DURATION_STR_LEN], limit[HM_DURATION_STR_LEN];
	struct hm_finding f;

	finding_about(&f, HM_FIND_MIG_STATE_TOO_LONG, d, now);
	f.fingerprint = hm_fp_u32(f.fingerprint, md->mig_state);
	f.duration_ns = now - md->mig_entered.ts_ns;
	hm_finding_summary(&f, "%s stayed in %s for %s (limit %s) during a migration",
			   bdf_of(d, bdf), hm_mig_state_name(md->mig_state),
			   hm_format_duration(f.duration_ns, held),
			   hm_format_duration(m->cfg.mig_state_max_ns, limit));
	add_state_evidence(m, &f, d);
	emit_finding(out, &f);
	d->state_reported = true;
}

/* Any event's time tells whether a state has been held too long. */
static void report_overdue_states(struct migration *m, uint64_t now,
				  const struct hm_emitter *out)
{
	struct mig_device *d;

	for (size_t it = 0; (d = hm_devtable_next(&m->devices, &it));)
		if (state_overdue(m, d, now))
			report_state_too_long(m, d, now, out);
}

/* ---- set-state calls ------------------------------------------------------- */

static struct mig_call *find_call(struct mig_device *d, uint32_t tid)
{
	for (unsigned int i = 0; i < d->ncalls; i++)
		if (d->calls[i].begin.tid == tid)
			return &d->calls[i];
	return NULL;
}

/* A variant driver's state mutex, as the live side names it when it learns
 * it (the first mutex its set_state callback takes): "<driver>:state_mutex". */
static bool is_state_mutex(const struct migration *m, const struct hm_lock_event *l)
{
	/* a named mutex's class name is its given name, with "/N" for a
	 * subclass, which cannot complete the match: no need to format it */
	const char *name = l->lock_type == HM_LOCK_MUTEX ? lt_given_name(m->locks, l) : NULL;

	return name && strstr(name, "state_mutex");
}

static bool holds_state_mutex(const struct migration *m, uint32_t tid)
{
	const struct lt_task *task = lt_task_find(m->locks, tid);

	for (unsigned int i = 0; task && i < task->depth; i++)
		if (is_state_mutex(m, &task->held[i].acq))
			return true;
	return false;
}

/* Two tasks in one device's set-state callback are fine when the driver
 * serialises them with its state mutex (they then take turns inside); an
 * error when an arc is taken, or a whole call runs, without it while
 * another task's call is in progress. */
static void report_concurrent(struct mig_device *d, const struct hm_event_header *unlocked,
			      const char *what, const struct hm_emitter *out)
{
	const struct hm_event_header *a = &d->calls[0].begin, *b = &d->calls[1].begin;
	char bdf[HM_BDF_STR_LEN];
	struct hm_finding f;

	finding_about(&f, HM_FIND_MIG_CONCURRENT, d, unlocked->ts_ns);
	hm_finding_summary(&f, "tasks \"%.*s\" (tid %u) and \"%.*s\" (tid %u) changed the "
			   "migration state of %s at once, %s", HM_COMM_LEN, a->comm, a->tid,
			   HM_COMM_LEN, b->comm, b->tid, bdf_of(d, bdf), what);
	hm_finding_add_evidence(&f, a, "set-state %s -> %s began",
				hm_mig_state_name(d->calls[0].from),
				hm_mig_state_name(d->calls[0].target));
	hm_finding_add_evidence(&f, b, "set-state %s -> %s began while the first ran",
				hm_mig_state_name(d->calls[1].from),
				hm_mig_state_name(d->calls[1].target));
	hm_finding_detail(&f, "task %.*s/%u was inside the callback without holding the "
			  "driver's state mutex (none traced) while the other call was in "
			  "progress.", HM_COMM_LEN, unlocked->comm, unlocked->tid);
	emit_finding(out, &f);
	d->calls[0].concurrency_reported = d->calls[1].concurrency_reported = true;
}

static struct mig_call *start_call(struct migration *m, struct mig_device *d,
				   const struct hm_mig_event *e)
{
	struct mig_call *call = find_call(d, e->hdr.tid);

	/* the same task again: its END was lost, the new call replaces it */
	if (!call) {
		call = &d->calls[d->ncalls < MAX_CALLS ? d->ncalls++ : MAX_CALLS - 1];
		m->open_calls++;
	}
	*call = (struct mig_call){ .begin = e->hdr, .target = e->to,
				   .from = (uint8_t)hm_model_request_start(m->model, e),
				   .locked = holds_state_mutex(m, e->hdr.tid) };
	if (d->ncalls > 1)
		d->calls[0].overlapped = d->calls[1].overlapped = true;
	return call;
}

static void end_call(struct migration *m, struct mig_device *d, uint32_t tid)
{
	struct mig_call *call = find_call(d, tid);

	if (!call)
		return;
	*call = d->calls[--d->ncalls];
	m->open_calls--;
}

/* The calling task takes its driver's state mutex inside a call. */
static void call_locks(struct migration *m, const struct hm_lock_event *l)
{
	struct mig_device *d;
	struct mig_call *call;

	if (!is_state_mutex(m, l))
		return;
	for (size_t it = 0; (d = hm_devtable_next(&m->devices, &it));)
		if (d->ncalls && (call = find_call(d, l->hdr.tid)))
			call->locked = true;
}

/* An arc taken while another call runs: serialised only under the mutex. */
static void check_step_serialised(struct migration *m, struct mig_device *d,
				  struct mig_call *call, const struct hm_mig_event *e,
				  const struct hm_emitter *out)
{
	call->stepped = true;
	if (d->ncalls > 1 && !call->concurrency_reported && !holds_state_mutex(m, e->hdr.tid))
		report_concurrent(d, &e->hdr, "an arc taken without the state mutex", out);
}

/* A call that took no arc (a driver that skips the core's FSM helper) ran
 * next to another one, and never held the state mutex. */
static void check_call_serialised(struct mig_device *d, const struct mig_call *call,
				  const struct hm_mig_event *e, const struct hm_emitter *out)
{
	if (call->overlapped && !call->stepped && !call->locked && !call->concurrency_reported &&
	    d->ncalls > 1)
		report_concurrent(d, &e->hdr, "neither serialised by a state mutex", out);
}

/* ---- illegal arcs ----------------------------------------------------------- */

static void explain_refusal(uint8_t caps, unsigned int from, unsigned int to, char *buf,
			    size_t len)
{
	if (!hm_mig_state_supported(caps, from))
		snprintf(buf, len, "%s is not a state of this device", hm_mig_state_name(from));
	else if (!hm_mig_state_supported(caps, to))
		snprintf(buf, len, "%s is not a state of this device", hm_mig_state_name(to));
	else
		/* only blocked arcs reach ERROR with both ends supported */
		snprintf(buf, len, "the FSM blocks it; kernels without the fix \"vfio: prevent "
			 "infinite loop in vfio_mig_get_next_state() on blocked arc\" spin there");
}

static void report_illegal_request(struct mig_device *d, const struct hm_mig_event *e,
				   unsigned int cur, uint8_t caps, const struct hm_emitter *out)
{
	char bdf[HM_BDF_STR_LEN], capstr[HM_MIG_CAPS_STR_LEN], why[160];
	struct hm_finding f;

	explain_refusal(caps, cur, e->to, why, sizeof(why));
	finding_about(&f, HM_FIND_MIG_ILLEGAL_ARC, d, e->hdr.ts_ns);
	f.fingerprint = hm_fp_u32(f.fingerprint, cur << 16 | (uint32_t)e->to << 8);
	hm_finding_summary(&f, "%s: set-state %s -> %s is not allowed for caps %s: %s",
			   bdf_of(d, bdf), hm_mig_state_name(cur), hm_mig_state_name(e->to),
			   hm_mig_caps_format(caps, capstr), why);
	hm_finding_add_evidence(&f, &e->hdr, "set-state %s -> %s requested",
				hm_mig_state_name(cur), hm_mig_state_name(e->to));
	emit_finding(out, &f);
}

static void report_illegal_step(struct mig_device *d, const struct hm_mig_event *e,
				uint8_t caps, const struct hm_emitter *out)
{
	char bdf[HM_BDF_STR_LEN], capstr[HM_MIG_CAPS_STR_LEN];
	struct hm_finding f;

	finding_about(&f, HM_FIND_MIG_ILLEGAL_ARC, d, e->hdr.ts_ns);
	/* bit 0 tells steps from requests */
	f.fingerprint = hm_fp_u32(f.fingerprint, (uint32_t)e->from << 16 | (uint32_t)e->next << 8 | 1);
	bdf_of(d, bdf);
	hm_mig_caps_format(caps, capstr);
	if (e->ret != 0)
		hm_finding_summary(&f, "%s: vfio_mig_get_next_state() refused %s towards %s (%d, "
				   "caps %s)", bdf, hm_mig_state_name(e->from),
				   hm_mig_state_name(e->to), e->ret, capstr);
	else
		hm_finding_summary(&f, "%s: the driver was handed the arc %s -> %s (towards %s), "
				   "not a single FSM step for caps %s", bdf,
				   hm_mig_state_name(e->from), hm_mig_state_name(e->next),
				   hm_mig_state_name(e->to), capstr);
	hm_finding_add_evidence(&f, &e->hdr, "step %s -> %s (target %s) ret %d",
				hm_mig_state_name(e->from), hm_mig_state_name(e->next),
				hm_mig_state_name(e->to), e->ret);
	emit_finding(out, &f);
}

static void on_set_state_begin(struct migration *m, const struct hm_mig_event *e,
			       const struct hm_mig_transition *t, const struct hm_emitter *out)
{
	struct mig_device *d = device_seen(m, &e->dev);
	uint8_t caps = hm_model_mig_caps(m->model, e);
	unsigned int cur = hm_model_request_start(m->model, e);
	struct mig_call *call;

	if (!d)
		return;
	enter_state(m, d, t, &e->hdr, out);
	call = start_call(m, d, e);
	if (state_known(cur) && !hm_mig_request_legal(caps, cur, e->to)) {
		report_illegal_request(d, e, cur, caps, out);
		call->flagged = true;
	}
}

static bool step_legal(uint8_t caps, const struct hm_mig_event *e)
{
	return e->ret == 0 && state_known(e->next) && e->next != HM_MIG_ERROR &&
	       hm_mig_arc_legal(caps, e->from, e->next);
}

static void on_step(struct migration *m, const struct hm_mig_event *e,
		    const struct hm_mig_transition *t, const struct hm_emitter *out)
{
	struct mig_device *d = device_seen(m, &e->dev);
	uint8_t caps = hm_model_mig_caps(m->model, e);
	struct mig_call *call;

	if (!d)
		return;
	call = find_call(d, e->hdr.tid);
	if (call)
		check_step_serialised(m, d, call, e, out);
	/* The driver hands the core its own state: ERROR means an earlier failure
	 * left the device there, and the core refusing every arc out of it is the
	 * FSM working (only a reset leaves ERROR), not an illegal arc. */
	if (e->from == HM_MIG_ERROR) {
		if (state_of(m, d) != HM_MIG_ERROR && d->failure.ret)
			report_error_state(d, &d->failure, e, out);
		enter_state(m, d, t, &e->hdr, out);
		return;
	}
	/* one report per call: a refused request also shows up as a refused step */
	if (!step_legal(caps, e) && !(call && call->flagged)) {
		report_illegal_step(d, e, caps, out);
		if (call)
			call->flagged = true;
	}
	enter_state(m, d, t, &e->hdr, out);
}

static void report_failed(struct mig_device *d, const struct hm_mig_event *e,
			  const struct hm_emitter *out)
{
	char bdf[HM_BDF_STR_LEN];
	struct hm_finding f;

	finding_about(&f, HM_FIND_MIG_FAILED, d, e->hdr.ts_ns);
	f.fingerprint = hm_fp_u32(f.fingerprint, (uint32_t)e->from << 8 | e->to);
	if (state_known(e->next))
		hm_finding_summary(&f, "%s: set-state %s -> %s failed (%d); device left in %s",
				   bdf_of(d, bdf), hm_mig_state_name(e->from),
				   hm_mig_state_name(e->to), e->ret, hm_mig_state_name(e->next));
	else
		hm_finding_summary(&f, "%s: set-state %s -> %s failed (%d)", bdf_of(d, bdf),
				   hm_mig_state_name(e->from), hm_mig_state_name(e->to), e->ret);
	hm_finding_add_evidence(&f, &e->hdr, "migration_set_state() returned %d", e->ret);
	emit_finding(out, &f);
}

static void on_set_state_end(struct migration *m, const struct hm_mig_event *e,
			     const struct hm_mig_transition *t, const struct hm_emitter *out)
{
	struct mig_device *d = device_seen(m, &e->dev);
	struct mig_call *call;
	bool was_error;

	if (!d)
		return;
	call = find_call(d, e->hdr.tid);
	was_error = state_of(m, d) == HM_MIG_ERROR;
	/* a call refused because the device is in ERROR adds nothing to that finding */
	if (e->ret != 0 && !was_error) {
		/* live events do not carry where the call began: the call does */
		d->failure = *e;
		if (!state_known(e->from) && call)
			d->failure.from = call->from;
		report_failed(d, &d->failure, out);
	}
	enter_state(m, d, t, &e->hdr, out);
	if (e->next == HM_MIG_ERROR && !was_error)
		report_error_state(d, &d->failure, NULL, out);
	if (call)
		check_call_serialised(d, call, e, out);
	end_call(m, d, e->hdr.tid);
}

static void on_data(struct migration *m, const struct hm_mig_data_event *e)
{
	struct mig_device *d = device_seen(m, &e->dev);

	if (d && d->stopped && e->dir == HM_MIG_DATA_SAVE)
		d->saved_bytes += e->bytes;
}

/* ---- resets, opens, removal, SR-IOV disable ----------------------------------- */

static const char *reset_name(unsigned int kind)
{
	switch (kind) {
	case HM_RESET_FLR: return "function reset";
	case HM_RESET_DONE: return "reset_done";
	case HM_RESET_BUS: return "bus reset";
	default: return "reset";
	}
}

static void on_reset(struct migration *m, const struct hm_reset_event *e,
		     const struct hm_mig_transition *t, const struct hm_emitter *out)
{
	struct mig_device *d = device_seen(m, &e->dev);
	char bdf[HM_BDF_STR_LEN];
	struct hm_finding f;

	if (!d)
		return;
	/* a reset is how a device leaves ERROR: that is recovery, not a loss */
	if (migrating(m, d) && state_of(m, d) != HM_MIG_ERROR) {
		finding_about(&f, HM_FIND_MIG_RESET, d, e->hdr.ts_ns);
		hm_finding_summary(&f, "%s: %s during a migration, in state %s; the migration "
				   "is lost", bdf_of(d, bdf), reset_name(e->kind),
				   hm_mig_state_name(state_of(m, d)));
		add_state_evidence(m, &f, d);
		hm_finding_add_evidence(&f, &e->hdr, "%s (ret %d)", reset_name(e->kind), e->ret);
		emit_finding(out, &f);
	}
	/* back in RUNNING (the model's rule) */
	if (e->ret == 0)
		leave_fsm(m, d, t);
}

static void on_vfio(struct migration *m, const struct hm_vfio_event *e,
		    const struct hm_mig_transition *t)
{
	struct mig_device *d = device_seen(m, &e->dev);

	if (!d)
		return;
	if (e->hdr.type == HM_EV_VFIO_OPEN && e->ret == 0)
		forget_state(m, d, t); /* a new FSM, in RUNNING */
	else if (e->hdr.type == HM_EV_VFIO_CLOSE)
		forget_state(m, d, t);
}

static void report_device_gone(const struct migration *m, struct mig_device *d,
			       const struct hm_event_header *hdr, const char *how,
			       const struct hm_emitter *out)
{
	char bdf[HM_BDF_STR_LEN];
	struct hm_finding f;

	finding_about(&f, HM_FIND_MIG_DEVICE_GONE, d, hdr->ts_ns);
	hm_finding_summary(&f, "VF %s was %s in the middle of a migration (state %s)",
			   bdf_of(d, bdf), how, hm_mig_state_name(state_of(m, d)));
	add_state_evidence(m, &f, d);
	hm_finding_add_evidence(&f, hdr, "VF %s", how);
	emit_finding(out, &f);
}

static void device_going(struct migration *m, const struct hm_device *dev,
			 const struct hm_event_header *hdr, const char *how,
			 const struct hm_mig_transition *t, const struct hm_emitter *out)
{
	struct mig_device *d = hm_devtable_get(&m->devices, dev->dev_addr);

	if (!d)
		return;
	if (migrating(m, d) && !d->gone_explained)
		report_device_gone(m, d, hdr, how, out);
	forget_state(m, d, t);
}

static void on_vf_removed(struct migration *m, const struct hm_vf_event *e,
			  const struct hm_mig_transition *t, const struct hm_emitter *out)
{
	device_going(m, &e->vf, &e->hdr, "removed", t, out);
	hm_devtable_remove(&m->devices, e->vf.dev_addr);
}

static void report_sriov_disable(const struct migration *m, const struct hm_sriov_event *e,
				 struct mig_device *vf, const struct hm_emitter *out)
{
	char pf[HM_BDF_STR_LEN], bdf[HM_BDF_STR_LEN];
	struct hm_finding f;

	hm_finding_init(&f, HM_FIND_MIG_SRIOV_DISABLE, e->hdr.ts_ns);
	f.fingerprint = hm_fp_device(f.fingerprint, &e->pf);
	f.fingerprint = hm_fp_device(f.fingerprint, &vf->dev);
	hm_finding_add_device(&f, &e->pf);
	hm_finding_add_device(&f, &vf->dev);
	hm_finding_summary(&f, "SR-IOV disable on PF %s began while its VF %s migrates "
			   "(state %s)", hm_bdf_format(&e->pf.bdf, pf), bdf_of(vf, bdf),
			   hm_mig_state_name(state_of(m, vf)));
	hm_finding_add_evidence(&f, &e->hdr, "pci_disable_sriov() began");
	add_state_evidence(m, &f, vf);
	emit_finding(out, &f);
	vf->gone_explained = true;
}

static void on_sriov_disable(struct migration *m, const struct hm_sriov_event *e,
			     const struct hm_emitter *out)
{
	struct mig_device *d;

	if (!m->migrating)
		return;
	for (size_t it = 0; (d = hm_devtable_next(&m->devices, &it));)
		if (migrating(m, d) && d->dev.role == HM_ROLE_VF &&
		    hm_bdf_equal(&d->dev.pf_bdf, &e->pf.bdf))
			report_sriov_disable(m, e, d, out);
}

static void migration_feed(void *self, const union hm_event *ev, const struct hm_emitter *out)
{
	struct migration *m = self;
	struct hm_mig_transition transition;
	const struct hm_mig_transition *t =
		hm_model_mig_transition(m->model, ev, &transition) ? &transition : NULL;

	if (m->migrating)
		report_overdue_states(m, ev->hdr.ts_ns, out);
	switch (ev->hdr.type) {
	case HM_EV_MIG_SET_STATE_BEGIN:
		on_set_state_begin(m, &ev->mig, t, out);
		break;
	case HM_EV_MIG_STEP:
		on_step(m, &ev->mig, t, out);
		break;
	case HM_EV_MIG_SET_STATE_END:
		on_set_state_end(m, &ev->mig, t, out);
		break;
	case HM_EV_MIG_DATA:
		on_data(m, &ev->data);
		break;
	case HM_EV_DEVICE_RESET:
		on_reset(m, &ev->reset, t, out);
		break;
	case HM_EV_VFIO_OPEN:
	case HM_EV_VFIO_CLOSE:
		on_vfio(m, &ev->vfio, t);
		break;
	case HM_EV_UNBIND_BEGIN:
		device_going(m, &ev->bind.dev, &ev->hdr, "unbound", t, out);
		break;
	case HM_EV_VF_REMOVED:
		on_vf_removed(m, &ev->vf, t, out);
		break;
	case HM_EV_SRIOV_DISABLE_BEGIN:
		on_sriov_disable(m, &ev->sriov, out);
		break;
	default:
		break;
	}
	if (m->open_calls && (lt_classify(ev) == LT_TAKEN || lt_classify(ev) == LT_TRY_TAKEN))
		call_locks(m, &ev->lock);
}

static void migration_expire(void *self, uint64_t now, const struct hm_emitter *out)
{
	struct migration *m = self;

	if (m->migrating)
		report_overdue_states(m, now, out);
}

/* The stream ended: states still held and a save still running count too
 * (downtime is judged once, when the save ends or the stream does). */
static void migration_finish(void *self, uint64_t end_ts, const struct hm_emitter *out)
{
	struct migration *m = self;
	struct mig_device *d;

	if (!m->migrating)
		return;
	migration_expire(m, end_ts, out);
	for (size_t it = 0; (d = hm_devtable_next(&m->devices, &it));)
		if (d->stopped && state_of(m, d) == HM_MIG_STOP_COPY &&
		    downtime_over_budget(m, d, end_ts))
			report_downtime(m, d, end_ts, NULL, out);
}

static void migration_limits(const void *self, struct hm_limits *out)
{
	const struct migration *m = self;

	hm_limits_raise(out, HM_LIMIT_DEVICES, m->devices.overflow);
}

const struct hm_analyzer_ops hm_migration_analyzer = {
	.name = "migration",
	.create = migration_create,
	.feed = migration_feed,
	.expire = migration_expire,
	.finish = migration_finish,
	.destroy = migration_destroy,
	.limits = migration_limits,
};
