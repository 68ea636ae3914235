// SPDX-License-Identifier: GPL-2.0
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "analyzers/mig_fsm.h"
#include "event.h"
#include "finding.h"
#include "model.h"

const struct hm_hist_layout hm_lock_wait_layout = { 1000ULL, 4, 13 };
const struct hm_hist_layout hm_downtime_layout = { 1000000ULL, 2, 17 };
const struct hm_hist_layout hm_state_time_layout = { 1000000ULL, 4, 12 };

/* Lock waits and migration states are the engine model's (model.h): metrics
 * count what its changes say. */
struct hm_metrics {
	struct hm_metrics_values v;
};

uint64_t hm_hist_bound_ns(const struct hm_hist_layout *l, unsigned int i)
{
	uint64_t b = l->first_ns;

	while (i--)
		b *= l->factor;
	return b;
}

void hm_hist_observe(struct hm_histogram *h, const struct hm_hist_layout *l, uint64_t ns)
{
	uint64_t bound = l->first_ns;

	h->count++;
	h->sum_ns += ns;
	for (unsigned int i = 0; i < l->nbuckets; i++, bound *= l->factor) {
		if (ns <= bound) {
			h->buckets[i]++;
			return;
		}
	}
	/* above the last bound: only in count, i.e. the +Inf bucket */
}

struct hm_metrics *hm_metrics_new(const struct hm_config *cfg)
{
	struct hm_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->v.downtime_budget_ns = cfg->mig_downtime_max_ns;
	return m;
}

void hm_metrics_free(struct hm_metrics *m)
{
	free(m);
}

const struct hm_metrics_values *hm_metrics_values(const struct hm_metrics *m)
{
	return &m->v;
}

static unsigned int role_index(const struct hm_device *dev)
{
	return dev->role < HM_ROLES ? dev->role : HM_ROLE_OTHER;
}

static struct hm_pf_metrics *pf_entry(struct hm_metrics_values *v, const struct hm_bdf *bdf)
{
	if (!bdf->valid)
		return NULL;
	for (unsigned int i = 0; i < v->npfs; i++)
		if (hm_bdf_equal(&v->pfs[i].bdf, bdf))
			return &v->pfs[i];
	if (v->npfs == HM_METRICS_MAX_PFS) {
		v->untracked_device_events++;
		return NULL;
	}
	v->pfs[v->npfs].bdf = *bdf;
	return &v->pfs[v->npfs++];
}

static struct hm_mig_device_metrics *mig_entry(struct hm_metrics_values *v,
					       const struct hm_bdf *bdf, bool create)
{
	struct hm_mig_device_metrics *d;

	if (!bdf->valid)
		return NULL;
	for (unsigned int i = 0; i < v->nmig_devices; i++)
		if (hm_bdf_equal(&v->mig_devices[i].bdf, bdf))
			return &v->mig_devices[i];
	if (!create)
		return NULL;
	if (v->nmig_devices == HM_METRICS_MAX_MIG_DEVICES) {
		v->untracked_device_events++;
		return NULL;
	}
	d = &v->mig_devices[v->nmig_devices++];
	*d = (struct hm_mig_device_metrics){ .bdf = *bdf, .state = HM_MIG_UNKNOWN,
					     .request_from = HM_MIG_UNKNOWN };
	return d;
}

/* Leaving a known state closes its span: state time, and downtime for STOP_COPY. */
static void mig_set_state(struct hm_metrics_values *v, struct hm_mig_device_metrics *d,
			  unsigned int state, uint64_t ts)
{
	d->present = true;
	if (state == d->state)
		return;
	if (d->state < HM_MIG_NR_STATES) {
		uint64_t held = ts > d->since_ns ? ts - d->since_ns : 0;

		hm_hist_observe(&v->state_time[d->state], &hm_state_time_layout, held);
		if (d->state == HM_MIG_STOP_COPY) {
			hm_hist_observe(&v->downtime, &hm_downtime_layout, held);
			if (held > v->downtime_budget_ns)
				d->over_budget++;
		}
	}
	d->state = (uint8_t)state;
	d->since_ns = ts;
}

static void on_lock(struct hm_metrics *m, const struct hm_lock_event *e,
		    const struct hm_model_change *change)
{
	unsigned int role = role_index(&e->dev);

	if (e->lock_type != HM_LOCK_DEVICE_MUTEX)
		return;
	switch (e->hdr.type) {
	case HM_EV_LOCK_ACQUIRED:
		if (e->ret != 0)
			break; /* interrupted or killed: no acquisition */
		m->v.lock_acquisitions[role]++;
		if (change->wait_ended)
			hm_hist_observe(&m->v.lock_wait[role], &hm_lock_wait_layout,
					e->hdr.ts_ns > change->wait_began_ns
						? e->hdr.ts_ns - change->wait_began_ns : 0);
		break;
	case HM_EV_LOCK_TRYLOCK:
		if (e->ret == 1)
			m->v.lock_acquisitions[role]++;
		break;
	default:
		break;
	}
}

static void on_sriov(struct hm_metrics_values *v, const struct hm_sriov_event *e)
{
	struct hm_pf_metrics *pf = pf_entry(v, &e->pf.bdf);
	bool failed = e->ret != 0;

	if (!pf)
		return;
	switch (e->hdr.type) {
	case HM_EV_SRIOV_ENABLE_END:
		pf->changes[HM_SRIOV_OP_ENABLE][failed]++;
		if (!failed && e->num_vfs >= 0)
			pf->vfs = (uint32_t)e->num_vfs;
		break;
	case HM_EV_SRIOV_DISABLE_END:
		pf->changes[HM_SRIOV_OP_DISABLE][failed]++;
		if (!failed)
			pf->vfs = 0;
		break;
	default:
		break; /* BEGIN: the PF's series exist from now on */
	}
}

static void on_vf(struct hm_metrics_values *v, const struct hm_vf_event *e)
{
	struct hm_pf_metrics *pf = pf_entry(v, &e->vf.pf_bdf);
	struct hm_mig_device_metrics *d;

	if (e->hdr.type == HM_EV_VF_ADDED) {
		if (pf)
			pf->vfs++;
		return;
	}
	if (pf && pf->vfs)
		pf->vfs--;
	d = mig_entry(v, &e->vf.bdf, false);
	if (d) {
		d->present = false;
		d->state = HM_MIG_UNKNOWN;
	}
}

/* Live set-state events cannot read the driver's state: the call's start is
 * the first arc's cur_fsm (vfio_mig_get_next_state), else the modelled state. */
static unsigned int request_start(const struct hm_mig_device_metrics *d,
				  const struct hm_mig_event *e)
{
	if (e->from < HM_MIG_NR_STATES)
		return e->from;
	if (d && d->request_from < HM_MIG_NR_STATES)
		return d->request_from;
	return HM_MIG_NR_STATES;
}

static void on_set_state_end(struct hm_metrics_values *v, const struct hm_mig_event *e)
{
	struct hm_mig_device_metrics *d = mig_entry(v, &e->dev.bdf, false);
	unsigned int from = request_start(d, e);
	enum hm_mig_result result = e->ret ? HM_MIG_RESULT_ERROR : HM_MIG_RESULT_OK;

	if (e->to >= HM_MIG_NR_STATES)
		return;
	if (from < HM_MIG_NR_STATES && !hm_mig_request_legal(e->caps, from, e->to))
		result = HM_MIG_RESULT_ILLEGAL;
	v->mig_transitions[from][e->to][result]++;
}

static void on_mig(struct hm_metrics_values *v, const struct hm_mig_event *e)
{
	struct hm_mig_device_metrics *d;

	switch (e->hdr.type) {
	case HM_EV_MIG_SET_STATE_BEGIN:
		d = mig_entry(v, &e->dev.bdf, false);
		if (d)
			d->request_from = d->state; /* the model took the core's from */
		break;
	case HM_EV_MIG_STEP:
		d = mig_entry(v, &e->dev.bdf, false);
		if (d && d->request_from >= HM_MIG_NR_STATES && e->from < HM_MIG_NR_STATES)
			d->request_from = e->from;
		break;
	case HM_EV_MIG_SET_STATE_END:
		on_set_state_end(v, e);
		break;
	default:
		break;
	}
}

/* State series exist for devices seen in set-state calls; they follow the
 * model's transitions (and start from its state when first seen). */
static void follow_mig_state(struct hm_metrics_values *v, const union hm_event *ev,
			     const struct hm_model_change *change)
{
	const struct hm_model_device *md = change->mig_device;
	/* a call's ends (not its steps): a trace may start inside a call */
	bool call_end = ev->hdr.type == HM_EV_MIG_SET_STATE_BEGIN ||
			ev->hdr.type == HM_EV_MIG_SET_STATE_END;
	struct hm_mig_device_metrics *d;

	if (change->mig_changed)
		d = mig_entry(v, &change->mig.dev.bdf, call_end);
	else if (md)
		d = mig_entry(v, &md->dev.bdf, call_end);
	else
		return;
	if (!d)
		return;
	if (change->mig_changed)
		mig_set_state(v, d, change->mig.to, ev->hdr.ts_ns);
	else if (d->state == HM_MIG_UNKNOWN && md->mig_state < HM_MIG_NR_STATES)
		mig_set_state(v, d, md->mig_state, md->mig_entered.ts_ns);
}

void hm_metrics_event(struct hm_metrics *m, const union hm_event *ev,
		      const struct hm_model_change *change)
{
	struct hm_metrics_values *v = &m->v;
	unsigned int type = ev->hdr.type;

	if (type < HM_EV_TYPE_MAX)
		v->events[type]++;
	follow_mig_state(v, ev, change);
	switch (type) {
	case HM_EV_LOCK_WAIT:
	case HM_EV_LOCK_ACQUIRED:
	case HM_EV_LOCK_TRYLOCK:
		on_lock(m, &ev->lock, change);
		break;
	case HM_EV_SRIOV_ENABLE_BEGIN:
	case HM_EV_SRIOV_ENABLE_END:
	case HM_EV_SRIOV_DISABLE_BEGIN:
	case HM_EV_SRIOV_DISABLE_END:
		on_sriov(v, &ev->sriov);
		break;
	case HM_EV_VF_ADDED:
	case HM_EV_VF_REMOVED:
		on_vf(v, &ev->vf);
		break;
	case HM_EV_BIND_END:
	case HM_EV_UNBIND_END:
		v->driver_ops[type == HM_EV_BIND_END ? HM_DRIVER_OP_BIND : HM_DRIVER_OP_UNBIND]
			     [role_index(&ev->bind.dev)][ev->bind.ret != 0]++;
		break;
	case HM_EV_MIG_SET_STATE_BEGIN:
	case HM_EV_MIG_SET_STATE_END:
	case HM_EV_MIG_STEP:
		on_mig(v, &ev->mig);
		break;
	case HM_EV_MIG_DATA:
		if (ev->data.dir <= HM_MIG_DATA_LOAD)
			v->mig_bytes[ev->data.dir] += ev->data.bytes;
		break;
	case HM_EV_LOST:
		v->lost_events += ev->lost.lost;
		break;
	default:
		break;
	}
}

void hm_metrics_finding(struct hm_metrics *m, const struct hm_finding *f)
{
	if ((unsigned int)f->kind < HM_FIND_KIND_MAX && (unsigned int)f->severity <= HM_SEV_ERROR)
		m->v.findings[f->kind][f->severity]++;
}

/* Loader words for "tried, not attached". */
static bool mode_is_attached(const char *mode)
{
	static const char *const not_attached[] = { "", "failed", "error", "none", "off",
						    "pending", "skipped", "unavailable",
						    "missing", "detached" };

	for (size_t i = 0; i < sizeof(not_attached) / sizeof(not_attached[0]); i++)
		if (!strcmp(mode, not_attached[i]))
			return false;
	return true;
}

/* The first word of value, [A-Za-z0-9_-]: "failed: -ENOENT" is mode "failed". */
static void copy_mode(char *dst, const char *value)
{
	size_t n = 0;

	while (n + 1 < HM_ATTACH_MODE_LEN && value[n] &&
	       (strchr("_-", value[n]) || (value[n] >= '0' && value[n] <= '9') ||
		((value[n] | 0x20) >= 'a' && (value[n] | 0x20) <= 'z'))) {
		dst[n] = value[n];
		n++;
	}
	dst[n] = '\0';
}

void hm_metrics_meta(struct hm_metrics *m, const char *key, const char *value)
{
	static const char prefix[] = "attach.";
	struct hm_metrics_values *v = &m->v;
	struct hm_attach_metrics *a = NULL;
	const char *target;

	if (strncmp(key, prefix, sizeof(prefix) - 1) || !key[sizeof(prefix) - 1])
		return;
	target = key + sizeof(prefix) - 1;
	if (!strcmp(target, "preference"))
		return; /* the loader's --attach setting, not an attach point */
	for (unsigned int i = 0; i < v->nattach && !a; i++)
		if (!strncmp(v->attach[i].target, target, HM_ATTACH_TARGET_LEN - 1))
			a = &v->attach[i];
	if (!a) {
		if (v->nattach == HM_METRICS_MAX_ATTACH)
			return;
		a = &v->attach[v->nattach++];
		snprintf(a->target, sizeof(a->target), "%s", target);
	}
	copy_mode(a->mode, value);
	a->attached = mode_is_attached(a->mode);
}

const char *hm_result_name(unsigned int failed)
{
	return failed ? "error" : "ok";
}

const char *hm_mig_result_name(enum hm_mig_result r)
{
	static const char *const names[HM_MIG_RESULTS] = { "ok", "error", "illegal" };

	return (unsigned int)r < HM_MIG_RESULTS ? names[r] : "unknown";
}

const char *hm_sriov_op_name(enum hm_sriov_op op)
{
	return op == HM_SRIOV_OP_ENABLE ? "enable" : "disable";
}

const char *hm_driver_op_name(enum hm_driver_op op)
{
	return op == HM_DRIVER_OP_BIND ? "bind" : "unbind";
}

void hm_metrics_limits(struct hm_metrics *m, const struct hm_limits *limits)
{
	m->v.limits = *limits;
}
