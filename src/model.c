// SPDX-License-Identifier: GPL-2.0
#include "model.h"

#include "analyzer.h"
#include "event.h"

void hm_model_init(struct hm_model *m)
{
	lt_init(&m->locks);
	hm_devtable_init(&m->devices, sizeof(struct hm_model_device));
}

void hm_model_free(struct hm_model *m)
{
	lt_free(&m->locks);
	hm_devtable_free(&m->devices);
}

void hm_model_limits(const struct hm_model *m, struct hm_limits *out)
{
	lt_limits(&m->locks, out);
	hm_limits_raise(out, HM_LIMIT_DEVICES, m->devices.overflow);
}

static bool state_known(unsigned int state)
{
	return state < HM_MIG_NR_STATES;
}

unsigned int hm_model_request_start(const struct hm_model *m, const struct hm_mig_event *e)
{
	return state_known(e->from) ? e->from : hm_model_mig_state(m, e->dev.dev_addr);
}

uint8_t hm_model_mig_caps(const struct hm_model *m, const struct hm_mig_event *e)
{
	const struct hm_model_device *d = hm_model_device(m, e->dev.dev_addr);

	return e->caps ? e->caps : d ? d->mig_caps : 0;
}

/* How a record concerns the migration path: not at all, or about a device
 * it starts tracking, or (an unbind, a removal) only one already tracked. */
enum mig_reach { MIG_NONE, MIG_ADDS, MIG_TRACKED_ONLY };

static enum mig_reach mig_reach_of(unsigned int type)
{
	switch (type) {
	case HM_EV_MIG_SET_STATE_BEGIN:
	case HM_EV_MIG_STEP:
	case HM_EV_MIG_SET_STATE_END:
	case HM_EV_MIG_DATA:
	case HM_EV_DEVICE_RESET:
	case HM_EV_VFIO_OPEN:
	case HM_EV_VFIO_CLOSE:
		return MIG_ADDS;
	case HM_EV_UNBIND_BEGIN:
	case HM_EV_VF_REMOVED:
		return MIG_TRACKED_ONLY;
	default:
		return MIG_NONE;
	}
}

/* The record's device for the migration path, NULL if it has none there. */
static const struct hm_device *mig_device_of(const union hm_event *ev, bool *adds)
{
	enum mig_reach reach = mig_reach_of(ev->hdr.type);

	*adds = reach == MIG_ADDS;
	return reach == MIG_NONE ? NULL : hm_event_device(ev);
}

/* The rules, in one place: the state a record leaves its device in. */
static unsigned int mig_state_after(unsigned int cur, const union hm_event *ev)
{
	const struct hm_mig_event *e = &ev->mig;

	switch (ev->hdr.type) {
	case HM_EV_MIG_SET_STATE_BEGIN:
		/* the core read the driver's state: trust it over what we inferred */
		return state_known(e->from) ? e->from : cur;
	case HM_EV_MIG_STEP:
		/* the driver handed the core ERROR: an earlier failure left it there */
		if (e->from == HM_MIG_ERROR)
			return HM_MIG_ERROR;
		return e->ret == 0 && state_known(e->next) ? e->next : cur;
	case HM_EV_MIG_SET_STATE_END:
		if (state_known(e->next))
			return e->next;
		/* the uAPI: a call that succeeded left the device in its target */
		return e->ret == 0 && state_known(e->to) ? e->to : cur;
	case HM_EV_DEVICE_RESET:
		/* every migration driver returns to RUNNING on a reset (hisi: reset_done) */
		return ev->reset.ret == 0 ? HM_MIG_RUNNING : cur;
	case HM_EV_VFIO_OPEN:
		/* open_device() starts the FSM in RUNNING */
		return ev->vfio.ret == 0 ? HM_MIG_RUNNING : cur;
	case HM_EV_VFIO_CLOSE:
	case HM_EV_UNBIND_BEGIN:
	case HM_EV_VF_REMOVED:
		return HM_MIG_UNKNOWN; /* the device's migration state is gone */
	default:
		return cur;
	}
}

bool hm_model_mig_transition(const struct hm_model *m, const union hm_event *ev,
			     struct hm_mig_transition *t)
{
	bool adds;
	const struct hm_device *dev = mig_device_of(ev, &adds);
	const struct hm_model_device *d;

	if (!dev || !dev->dev_addr)
		return false;
	d = hm_model_device(m, dev->dev_addr);
	if (!d && !adds)
		return false;
	t->dev = *dev;
	t->from = d ? d->mig_state : HM_MIG_UNKNOWN;
	t->to = (uint8_t)mig_state_after(t->from, ev);
	return t->to != t->from;
}

static void apply_mig(struct hm_model *m, const union hm_event *ev, struct hm_model_change *c)
{
	bool adds;
	const struct hm_device *dev = mig_device_of(ev, &adds);
	struct hm_model_device *d;

	if (!dev || !dev->dev_addr)
		return;
	c->mig_changed = hm_model_mig_transition(m, ev, &c->mig);
	d = adds ? hm_devtable_get_or_add(&m->devices, dev->dev_addr)
		 : hm_devtable_get(&m->devices, dev->dev_addr);
	if (!d)
		return;
	if (!d->dev.dev_addr) /* a new record: zero would read as ERROR */
		d->mig_state = HM_MIG_UNKNOWN;
	d->dev = *dev;
	if (ev->hdr.type >= HM_EV_MIG_SET_STATE_BEGIN && ev->hdr.type <= HM_EV_MIG_STEP &&
	    ev->mig.caps)
		d->mig_caps = ev->mig.caps;
	if (c->mig_changed) {
		d->mig_state = c->mig.to;
		d->mig_entered = ev->hdr;
	}
	if (ev->hdr.type == HM_EV_VF_REMOVED)
		hm_devtable_remove(&m->devices, dev->dev_addr); /* its address may be reused */
	else
		c->mig_device = d;
}

void hm_model_apply(struct hm_model *m, const union hm_event *ev, struct hm_model_change *c)
{
	enum lt_action action = lt_classify(ev);
	const struct lt_task *task;

	*c = (struct hm_model_change){ .lock = action };
	if (action == LT_TAKEN || action == LT_INTERRUPTED) {
		task = lt_task_find(&m->locks, ev->hdr.tid);
		if (task && task->waiting) {
			c->wait_ended = true;
			c->wait_began_ns = task->wait.hdr.ts_ns;
		}
	}
	lt_apply(&m->locks, ev);
	apply_mig(m, ev, c);
}
