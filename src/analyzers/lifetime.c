// SPDX-License-Identifier: GPL-2.0
/*
 * PF/VF lifetime: which VFs exist, which drivers are bound, when SR-IOV is
 * being disabled, and whether a VF driver reaches its PF's driver data
 * (pci_iov_get_pf_drvdata()) only while both drivers are bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "devtable.h"
#include "event.h"
#include "finding.h"
#include "lock_track.h"
#include "model.h"

/* Driver binding as seen from the driver core's probe/remove. */
enum bind_state {
	BIND_UNKNOWN = 0,            /* nothing seen: assume bound (trace began late) */
	BIND_PROBING,                /* inside probe(): drvdata use is allowed */
	BIND_BOUND,
	BIND_UNBINDING,              /* inside remove() */
	BIND_UNBOUND,
};

struct life_device {
	struct hm_device dev;        /* latest identity; driver = last driver seen */
	enum bind_state bind;
	bool unbind_seen;            /* a driver unbind of this device was observed */
	struct hm_event_header bind_hdr; /* the event behind `bind`: evidence */
	uint16_t bind_event;         /* its type */
	int32_t bind_ret;
	/* as a VF */
	bool vf_present;             /* added and not removed */
	struct hm_event_header added_hdr; /* VF_ADDED: evidence */
	bool holds_pf_drvdata;       /* its bound driver fetched the PF's drvdata */
	struct hm_event_header drvdata_hdr;
	uint64_t pf_addr;            /* its PF's struct device, 0 if unknown */
	unsigned int vfio_opens;     /* VFIO opens not yet closed */
	struct hm_event_header vfio_open_hdr; /* the latest opener: the VFIO user */
	bool vfio_unregistering;     /* vfio_unregister_group_dev() waiting */
	struct hm_event_header unregister_hdr;
	/* as a PF */
	bool disabling;              /* inside pci_disable_sriov() */
	bool disable_reported;       /* blocked warning given for this span */
	struct hm_event_header disable_hdr;
	bool vfs_orphaned;           /* its driver left with VFs enabled; they are still there */
	struct hm_event_header orphaned_hdr; /* that driver's unbind end */
};

struct lifetime {
	struct hm_config cfg;
	const struct lt_tracker *locks; /* the engine model's: what a blocked disable waits for */
	struct hm_devtable devices;  /* dev_addr -> struct life_device */
	unsigned int open_disables;  /* PFs inside pci_disable_sriov(): 0 skips the scan */
	/* no open disable span is overdue before this time: a scan per event
	 * would otherwise walk every device while any span is open */
	uint64_t disables_due;
};

#define MAX_LISTED_VFS 8

static void *lifetime_create(const struct hm_config *cfg, const struct hm_model *model)
{
	struct lifetime *lt = calloc(1, sizeof(*lt));

	if (!lt)
		return NULL;
	lt->cfg = *cfg;
	lt->locks = &model->locks;
	lt->disables_due = UINT64_MAX;
	hm_devtable_init(&lt->devices, sizeof(struct life_device));
	return lt;
}

static void lifetime_destroy(void *self)
{
	struct lifetime *lt = self;

	hm_devtable_free(&lt->devices);
	free(lt);
}

/* The device's record with its identity refreshed; an event without a driver
 * name (e.g. after unbind) keeps the last name seen. */
static struct life_device *device_seen(struct lifetime *lt, const struct hm_device *dev)
{
	struct life_device *d = hm_devtable_get_or_add(&lt->devices, dev->dev_addr);
	char driver[HM_DRIVER_LEN];

	if (!d)
		return NULL;
	memcpy(driver, d->dev.driver, sizeof(driver));
	d->dev = *dev;
	if (!dev->driver[0])
		memcpy(d->dev.driver, driver, sizeof(driver));
	return d;
}

static const char *driver_name(const struct life_device *d)
{
	return d->dev.driver[0] ? d->dev.driver : "(unknown driver)";
}

static bool vf_belongs_to(const struct life_device *vf, const struct life_device *pf)
{
	if (vf == pf || vf->dev.role != HM_ROLE_VF)
		return false;
	if (vf->pf_addr && vf->pf_addr == pf->dev.dev_addr)
		return true;
	return hm_bdf_equal(&vf->dev.pf_bdf, &pf->dev.bdf);
}

static bool vf_present(const struct life_device *vf)
{
	return vf->vf_present;
}

/* What pci_disable_sriov() can wait for: a VF a VFIO user still holds. */
static bool vf_holds_vfio(const struct life_device *vf)
{
	return vf->vfio_opens > 0 || vf->vfio_unregistering;
}

static size_t collect_vfs(const struct lifetime *lt, const struct life_device *pf,
			  bool (*wanted)(const struct life_device *),
			  const struct life_device **out, size_t max)
{
	const struct life_device *d;
	size_t n = 0;

	for (size_t it = 0; (d = hm_devtable_next(&lt->devices, &it));)
		if (vf_belongs_to(d, pf) && wanted(d) && n < max)
			out[n++] = d;
	return n;
}

static void format_bdf_list(const struct life_device *const *vfs, size_t n, char *buf,
			    size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		char bdf[HM_BDF_STR_LEN];
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 hm_bdf_format(&vfs[i]->dev.bdf, bdf));

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* The VFs of a PF still present (at most MAX_LISTED_VFS), and their list. */
struct present_vfs {
	const struct life_device *vf[MAX_LISTED_VFS];
	size_t n;
	char list[MAX_LISTED_VFS * (HM_BDF_STR_LEN + 2)];
};

static bool find_present_vfs(const struct lifetime *lt, const struct life_device *pf,
			     struct present_vfs *p)
{
	p->n = collect_vfs(lt, pf, vf_present, p->vf, MAX_LISTED_VFS);
	format_bdf_list(p->vf, p->n, p->list, sizeof(p->list));
	return p->n > 0;
}

/* A finding about PF `pf`, fingerprinted by it. */
static void pf_finding_init(struct hm_finding *f, enum hm_finding_kind kind, uint64_t ts,
			    const struct life_device *pf)
{
	hm_finding_init(f, kind, ts);
	f->fingerprint = hm_fp_device(f->fingerprint, &pf->dev);
	hm_finding_add_device(f, &pf->dev);
}

/* ---- SR-IOV disable blocked ------------------------------------------- */

/* The VF the disable waits for: one in the VFIO request loop if any. */
static const struct life_device *blocking_vf(const struct life_device *const *holders, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (holders[i]->vfio_unregistering)
			return holders[i];
	return n ? holders[0] : NULL;
}

static void describe_vfio_user(struct hm_finding *f, const struct life_device *pf,
			       const struct life_device *vf, const char *held)
{
	char pfs[HM_BDF_STR_LEN], vfs[HM_BDF_STR_LEN];

	hm_bdf_format(&pf->dev.bdf, pfs);
	hm_bdf_format(&vf->dev.bdf, vfs);
	if (vf->vfio_opens > 0)
		hm_finding_summary(f, "SR-IOV disable on PF %s blocked for %s: VF %s is still "
				   "open by VFIO user \"%.*s\" (pid %u)%s", pfs, held, vfs,
				   HM_COMM_LEN, vf->vfio_open_hdr.comm, vf->vfio_open_hdr.pid,
				   vf->vfio_unregistering ?
				   "; vfio_unregister_group_dev() keeps asking it to release" : "");
	else
		hm_finding_summary(f, "SR-IOV disable on PF %s blocked for %s: "
				   "vfio_unregister_group_dev() waits for the VFIO user of VF %s "
				   "(its open was not traced)", pfs, held, vfs);
}

/* The disabling task waits for a lock: name it and who holds it. */
static void describe_lock_wait(const struct lifetime *lt, struct hm_finding *f,
			       const struct life_device *pf, const struct lt_task *disabler,
			       const char *held)
{
	const struct lt_task *blocker[LT_MAX_BLOCKERS];
	size_t n = lt_blockers(lt->locks, disabler, blocker, LT_MAX_BLOCKERS);
	const struct lt_hold *hold = n ? lt_task_hold(blocker[0], disabler->wait.lock_addr) : NULL;
	char pfs[HM_BDF_STR_LEN], lock[LT_NAME_LEN], task[LT_NAME_LEN], owner[LT_NAME_LEN];

	hm_bdf_format(&pf->dev.bdf, pfs);
	lt_lock_name(lt->locks, &disabler->wait, lock);
	lt_task_name(&disabler->wait.hdr, task);
	lt_add_lock_device(f, &disabler->wait);
	hm_finding_add_evidence(f, &disabler->wait.hdr, "%s began waiting for %s", task, lock);
	if (hold) {
		lt_task_name(&hold->acq.hdr, owner);
		hm_finding_summary(f, "SR-IOV disable on PF %s blocked for %s: the disabling task "
				   "%s waits for %s, which %s holds", pfs, held, task, lock, owner);
		hm_finding_add_evidence(f, &hold->acq.hdr, "%s acquired %s", owner, lock);
	} else {
		hm_finding_summary(f, "SR-IOV disable on PF %s blocked for %s: the disabling task "
				   "%s waits for %s (its holder was not traced)", pfs, held, task, lock);
	}
}

static void report_disable_blocked(struct lifetime *lt, struct life_device *pf,
				   const struct life_device *vf, const struct lt_task *disabler,
				   uint64_t now, const struct hm_emitter *out)
{
	char held[HM_DURATION_STR_LEN], pfs[HM_BDF_STR_LEN];
	struct hm_finding f;

	hm_finding_init(&f, HM_FIND_SRIOV_DISABLE_BLOCKED, now);
	f.duration_ns = now - pf->disable_hdr.ts_ns;
	f.fingerprint = hm_fp_device(f.fingerprint, &pf->dev);
	hm_format_duration(f.duration_ns, held);
	hm_finding_add_device(&f, &pf->dev);
	hm_finding_add_evidence(&f, &pf->disable_hdr, "pci_disable_sriov() began on PF %s",
				hm_bdf_format(&pf->dev.bdf, pfs));
	if (disabler && disabler->waiting) {
		describe_lock_wait(lt, &f, pf, disabler, held);
	} else if (vf) {
		hm_finding_add_device(&f, &vf->dev);
		describe_vfio_user(&f, pf, vf, held);
		if (vf->vfio_opens > 0)
			hm_finding_add_evidence(&f, &vf->vfio_open_hdr, "VFIO user opened the VF");
		if (vf->vfio_unregistering)
			hm_finding_add_evidence(&f, &vf->unregister_hdr,
						"vfio_unregister_group_dev() began waiting");
	} else {
		hm_finding_summary(&f, "SR-IOV disable on PF %s blocked for %s (no VFIO user of "
				   "its VFs seen; see the disabling task's stack)", pfs, held);
	}
	hm_emit(out, &f);
	hm_finding_release(&f);
}

/* Whether the disable is one of the tasks of a deadlock: its own lock wait
 * comes back to it, or a thread of the VFIO user it waits for is blocked on
 * a chain that ends at it. The deadlock analyzer reported that when it
 * formed; a blocked warning later would repeat it, and only if some record
 * happened to come after the threshold. */
static bool disable_deadlocked(const struct lifetime *lt, const struct lt_task *disabler,
			       const struct life_device *vf)
{
	size_t it = 0;
	uint64_t key;
	void *val;

	if (!disabler)
		return false;
	if (disabler->waiting)
		return lt_wait_reaches(lt->locks, disabler, disabler);
	if (!vf || !vf->vfio_unregistering || !vf->vfio_opens)
		return false;
	while (u64map_next(&lt->locks->tasks, &it, &key, &val)) {
		const struct lt_task *t = val;

		if (t->waiting && t->wait.hdr.pid == vf->vfio_open_hdr.pid &&
		    lt_wait_reaches(lt->locks, t, disabler))
			return true;
	}
	return false;
}

/* A disable past the threshold: reported once per span, unless a deadlock
 * already explains it. */
static void judge_overdue_disable(struct lifetime *lt, struct life_device *pf, uint64_t now,
				  const struct hm_emitter *out)
{
	const struct life_device *holders[MAX_LISTED_VFS];
	const struct life_device *vf =
		blocking_vf(holders, collect_vfs(lt, pf, vf_holds_vfio, holders, MAX_LISTED_VFS));
	/* the task that began the disable: its lock wait, if any, is the cause */
	const struct lt_task *disabler = lt_task_find(lt->locks, pf->disable_hdr.tid);

	if (!disable_deadlocked(lt, disabler, vf))
		report_disable_blocked(lt, pf, vf, disabler, now, out);
	pf->disable_reported = true;
}

static bool disable_overdue(const struct lifetime *lt, const struct life_device *pf, uint64_t now)
{
	return pf->disabling && !pf->disable_reported && now > pf->disable_hdr.ts_ns &&
	       now - pf->disable_hdr.ts_ns > lt->cfg.sriov_disable_warn_ns;
}

/* The first time disable_overdue() can hold for pf: UINT64_MAX for never. */
static uint64_t disable_due(const struct lifetime *lt, const struct life_device *pf)
{
	uint64_t start = pf->disable_hdr.ts_ns, warn = lt->cfg.sriov_disable_warn_ns;

	if (!pf->disabling || pf->disable_reported || start > UINT64_MAX - warn)
		return UINT64_MAX;
	return start + warn;
}

/* Any event's time tells whether an open disable span passed the threshold. */
static void report_overdue_disables(struct lifetime *lt, uint64_t now,
				    const struct hm_emitter *out)
{
	struct life_device *d;

	if (now <= lt->disables_due)
		return;
	lt->disables_due = UINT64_MAX;
	for (size_t it = 0; (d = hm_devtable_next(&lt->devices, &it));) {
		if (disable_overdue(lt, d, now))
			judge_overdue_disable(lt, d, now, out);
		if (disable_due(lt, d) < lt->disables_due)
			lt->disables_due = disable_due(lt, d);
	}
}

static void on_disable_begin(struct lifetime *lt, const struct hm_sriov_event *e)
{
	struct life_device *pf = device_seen(lt, &e->pf);

	if (!pf || pf->disabling)
		return;
	pf->disabling = true;
	pf->disable_reported = false;
	pf->disable_hdr = e->hdr;
	lt->open_disables++;
	if (disable_due(lt, pf) < lt->disables_due)
		lt->disables_due = disable_due(lt, pf);
}

static void report_vfs_outlive(struct lifetime *lt, const struct life_device *pf,
			       const struct hm_sriov_event *e, const struct hm_emitter *out)
{
	struct present_vfs vfs;
	char pfs[HM_BDF_STR_LEN];
	struct hm_finding f;

	if (!find_present_vfs(lt, pf, &vfs))
		return;
	pf_finding_init(&f, HM_FIND_VF_OUTLIVES_SRIOV, e->hdr.ts_ns, pf);
	for (size_t i = 0; i < vfs.n; i++)
		hm_finding_add_device(&f, &vfs.vf[i]->dev);
	hm_finding_summary(&f, "SR-IOV disable on PF %s returned while %zu%s VF(s) were still "
			   "present: %s", hm_bdf_format(&pf->dev.bdf, pfs), vfs.n,
			   vfs.n == MAX_LISTED_VFS ? " or more" : "", vfs.list);
	hm_finding_add_evidence(&f, &e->hdr, "pci_disable_sriov() returned");
	hm_emit(out, &f);
	hm_finding_release(&f);
}

static void on_disable_end(struct lifetime *lt, const struct hm_sriov_event *e,
			   const struct hm_emitter *out)
{
	struct life_device *pf = device_seen(lt, &e->pf);

	if (!pf)
		return;
	if (pf->disabling) {
		pf->disabling = false;
		lt->open_disables--;
	}
	pf->vfs_orphaned = false;
	report_vfs_outlive(lt, pf, e, out);
}

/* ---- VFs and driver binding -------------------------------------------- */

static void on_vf_added(struct lifetime *lt, const struct hm_vf_event *e)
{
	struct life_device *vf = device_seen(lt, &e->vf);

	if (!vf)
		return;
	vf->vf_present = true;
	vf->pf_addr = e->pf_dev_addr;
	vf->added_hdr = e->hdr;
	/* A new VF has no driver yet; keep what its auto-probe already showed
	 * if the probe was reported before the add. */
	if (vf->bind == BIND_UNKNOWN) {
		vf->bind = BIND_UNBOUND;
		vf->bind_hdr = e->hdr;
		vf->bind_event = e->hdr.type;
	}
}

static void on_vf_removed(struct lifetime *lt, const struct hm_vf_event *e)
{
	/* the struct device is gone; its address may come back as a new VF */
	hm_devtable_remove(&lt->devices, e->vf.dev_addr);
}

static enum bind_state bind_state_after(const struct hm_bind_event *e)
{
	switch (e->hdr.type) {
	case HM_EV_BIND_BEGIN:
		return BIND_PROBING;
	case HM_EV_BIND_END:
		return e->ret == 0 ? BIND_BOUND : BIND_UNBOUND;
	case HM_EV_UNBIND_BEGIN:
		return BIND_UNBINDING;
	default:
		return BIND_UNBOUND;
	}
}

static void on_bind(struct lifetime *lt, const struct hm_bind_event *e)
{
	struct life_device *d = device_seen(lt, &e->dev);

	if (!d)
		return;
	d->bind = bind_state_after(e);
	d->bind_hdr = e->hdr;
	d->bind_event = e->hdr.type;
	d->bind_ret = e->ret;
	if (e->hdr.type == HM_EV_UNBIND_BEGIN)
		d->unbind_seen = true;
	if (e->hdr.type == HM_EV_UNBIND_END || e->hdr.type == HM_EV_BIND_BEGIN)
		d->holds_pf_drvdata = false;
}

/* ---- PF driver data ----------------------------------------------------- */

/* The PF driver is leaving or gone. A PF never seen unbinding counts as bound
 * (the trace may have started after it probed). While the PF's remove() is
 * inside pci_disable_sriov() its drvdata is still intact: the interlock the
 * kernel-doc of pci_iov_get_pf_drvdata() promises lets the VF drivers being
 * removed there use it. */
static bool pf_driver_gone(const struct life_device *pf)
{
	if (pf->disabling)
		return false;
	return pf->bind == BIND_UNBINDING || (pf->bind == BIND_UNBOUND && pf->unbind_seen);
}

/* Outside [BIND_BEGIN, UNBIND_END] of the VF; unknown counts as inside. */
static bool vf_driver_outside_bind(const struct life_device *vf)
{
	return vf->bind == BIND_UNBOUND;
}

/* Why a device is in its bind state: "the <role> <phrase>" reads as a sentence. */
static void describe_bind_state(const struct life_device *d, char *buf, size_t len)
{
	switch (d->bind_event) {
	case HM_EV_UNBIND_BEGIN:
		snprintf(buf, len, "driver %s began unbinding", driver_name(d));
		break;
	case HM_EV_UNBIND_END:
		snprintf(buf, len, "driver %s finished unbinding", driver_name(d));
		break;
	case HM_EV_BIND_END:
		snprintf(buf, len, "probe by %s failed (%d)", driver_name(d), d->bind_ret);
		break;
	case HM_EV_VF_ADDED:
		snprintf(buf, len, "was added and no driver probed it yet");
		break;
	default:
		snprintf(buf, len, "driver is %s", driver_name(d));
		break;
	}
}

static const char *access_verb(const struct hm_drvdata_event *e)
{
	return e->access == HM_DRVDATA_USE ? "used" : "fetched";
}

static void report_drvdata(enum hm_finding_kind kind, const struct hm_drvdata_event *e,
			   const struct life_device *culprit, const char *role,
			   const struct hm_emitter *out)
{
	char vfs[HM_BDF_STR_LEN], pfs[HM_BDF_STR_LEN], culprit_bdf[HM_BDF_STR_LEN];
	char why[HM_EVIDENCE_LABEL_LEN / 2];
	struct hm_finding f;

	hm_bdf_format(&e->vf.bdf, vfs);
	hm_bdf_format(&e->pf.bdf, pfs);
	describe_bind_state(culprit, why, sizeof(why));
	hm_finding_init(&f, kind, e->hdr.ts_ns);
	f.fingerprint = hm_fp_device(f.fingerprint, &e->vf);
	f.fingerprint = hm_fp_device(f.fingerprint, &e->pf);
	f.fingerprint = hm_hash_bytes(f.fingerprint, e->accessor,
				      strnlen(e->accessor, sizeof(e->accessor)));
	hm_finding_add_device(&f, &e->vf);
	hm_finding_add_device(&f, &e->pf);
	hm_finding_summary(&f, "%.*s on VF %s %s the driver data of PF %s, but the %s %s",
			   HM_FUNC_LEN, e->accessor, vfs, access_verb(e), pfs, role, why);
	if (e->access == HM_DRVDATA_USE)
		hm_finding_add_evidence(&f, &e->hdr, "%.*s used PF %s driver data cached by the "
					"VF (the PF's drvdata is now %#llx)", HM_FUNC_LEN,
					e->accessor, pfs, (unsigned long long)e->result);
	else
		hm_finding_add_evidence(&f, &e->hdr, "%.*s fetched PF %s driver data (%#llx)",
					HM_FUNC_LEN, e->accessor, pfs,
					(unsigned long long)e->result);
	hm_finding_add_evidence(&f, &culprit->bind_hdr, "%s %s: %s", role,
				hm_bdf_format(&culprit->dev.bdf, culprit_bdf), why);
	hm_emit(out, &f);
	hm_finding_release(&f);
}

static void on_drvdata(struct lifetime *lt, const struct hm_drvdata_event *e,
		       const struct hm_emitter *out)
{
	const struct life_device *pf = hm_devtable_get(&lt->devices, e->pf.dev_addr);
	const struct life_device *vf = hm_devtable_get(&lt->devices, e->vf.dev_addr);

	/* A refused fetch (ERR_PTR) reached nothing, nor did a use that failed.
	 * A use's result is the PF drvdata the PCI core has now, NULL once the PF
	 * driver is gone: the VF's cached copy is what is being used. */
	if (e->ret != 0 || (e->access == HM_DRVDATA_FETCH && !e->result))
		return;
	if (vf && e->access == HM_DRVDATA_FETCH && !vf_driver_outside_bind(vf)) {
		struct life_device *holder = hm_devtable_get(&lt->devices, e->vf.dev_addr);

		holder->holds_pf_drvdata = true;
		holder->drvdata_hdr = e->hdr;
	}
	if (pf && pf_driver_gone(pf))
		report_drvdata(HM_FIND_DRVDATA_AFTER_PF_UNBIND, e, pf, "PF", out);
	if (vf && vf_driver_outside_bind(vf))
		report_drvdata(HM_FIND_DRVDATA_OUTSIDE_BIND, e, vf, "VF", out);
}

/* ---- PFs that go while their VFs stay ----------------------------------- */

static bool vf_holds_pf_drvdata(const struct life_device *vf)
{
	return vf->vf_present && vf->holds_pf_drvdata && vf->bind != BIND_UNBOUND;
}

/* The VFs left behind, with the first VF driver still holding PF drvdata. */
static void add_left_vfs(struct hm_finding *f, const struct present_vfs *left)
{
	const struct life_device *const *vfs = left->vf;
	size_t n = left->n;
	char bdf[HM_BDF_STR_LEN];

	for (size_t i = 0; i < n; i++) {
		hm_finding_add_device(f, &vfs[i]->dev);
		if (i < 2)
			hm_finding_add_evidence(f, &vfs[i]->added_hdr, "VF %s added (still present)",
						hm_bdf_format(&vfs[i]->dev.bdf, bdf));
	}
	for (size_t i = 0; i < n; i++)
		if (vf_holds_pf_drvdata(vfs[i])) {
			hm_finding_add_evidence(f, &vfs[i]->drvdata_hdr, "VF %s driver %s fetched the "
						"PF's driver data (still bound)",
						hm_bdf_format(&vfs[i]->dev.bdf, bdf),
						driver_name(vfs[i]));
			break;
		}
}

static void emit_with_left_vfs(struct hm_finding *f, const struct present_vfs *left,
			       const struct hm_emitter *out)
{
	add_left_vfs(f, left);
	hm_emit(out, f);
	hm_finding_release(f);
}

static size_t count_drvdata_holders(const struct present_vfs *left)
{
	size_t holders = 0;

	for (size_t i = 0; i < left->n; i++)
		holders += vf_holds_pf_drvdata(left->vf[i]);
	return holders;
}

/* UNBIND_END of a PF whose remove() did not disable SR-IOV. A warning, as
 * the kernel's own; an error when a bound VF driver took the PF's drvdata,
 * which the PF driver has just freed. */
static void on_pf_unbound(struct lifetime *lt, struct life_device *pf, const struct hm_bind_event *e,
			  const struct hm_emitter *out)
{
	struct present_vfs left;
	char pfs[HM_BDF_STR_LEN];
	struct hm_finding f;
	size_t holders;

	/* not tracked (no struct device address, or the table is full), or no VF left */
	if (!pf || !find_present_vfs(lt, pf, &left))
		return;
	pf->vfs_orphaned = true;
	pf->orphaned_hdr = e->hdr;
	holders = count_drvdata_holders(&left);
	pf_finding_init(&f, HM_FIND_SRIOV_LEFT_ENABLED, e->hdr.ts_ns, pf);
	if (holders)
		f.severity = HM_SEV_ERROR;
	hm_finding_summary(&f, "PF %s driver %s unbound with SR-IOV enabled: %zu VF(s) remain (%s)%s",
			   hm_bdf_format(&pf->dev.bdf, pfs), driver_name(pf), left.n, left.list,
			   holders ? "; a VF driver still holds the PF's freed driver data" : "");
	hm_finding_add_evidence(&f, &e->hdr, "PF driver %s remove() returned", driver_name(pf));
	emit_with_left_vfs(&f, &left, out);
}

static void on_pf_removed(struct lifetime *lt, const struct hm_sriov_event *e,
			  const struct hm_emitter *out)
{
	struct life_device *pf = device_seen(lt, &e->pf);
	struct present_vfs left;
	char pfs[HM_BDF_STR_LEN];
	struct hm_finding f;

	if (!pf)
		return;
	if (find_present_vfs(lt, pf, &left)) {
		pf_finding_init(&f, HM_FIND_PF_REMOVED_WITH_VFS, e->hdr.ts_ns, pf);
		hm_finding_summary(&f, "PF %s removed while %zu VF(s) still exist (%s)",
				   hm_bdf_format(&pf->dev.bdf, pfs), left.n, left.list);
		hm_finding_add_evidence(&f, &e->hdr, "PF %s removed from its bus", pfs);
		emit_with_left_vfs(&f, &left, out);
	}
	/* the struct device is going; a rescan makes a new one */
	hm_devtable_remove(&lt->devices, e->pf.dev_addr);
}

static void on_enable_end(struct lifetime *lt, const struct hm_sriov_event *e,
			  const struct hm_emitter *out)
{
	struct life_device *pf = device_seen(lt, &e->pf);
	struct present_vfs left;
	char pfs[HM_BDF_STR_LEN];
	struct hm_finding f;

	if (!pf || !e->ret || !pf->vfs_orphaned || !find_present_vfs(lt, pf, &left))
		return;
	pf_finding_init(&f, HM_FIND_SRIOV_ENABLE_FAILED, e->hdr.ts_ns, pf);
	hm_finding_summary(&f, "SR-IOV enable on PF %s failed (%d): %zu VF(s) left enabled by the "
			   "previous PF driver still exist (%s)", hm_bdf_format(&pf->dev.bdf, pfs),
			   e->ret, left.n, left.list);
	hm_finding_add_evidence(&f, &e->hdr, "sriov_enable() returned %d", e->ret);
	hm_finding_add_evidence(&f, &pf->orphaned_hdr, "the previous PF driver left SR-IOV enabled");
	emit_with_left_vfs(&f, &left, out);
}

/* ---- VFIO users ----------------------------------------------------------- */

static void on_vfio(struct lifetime *lt, const struct hm_vfio_event *e)
{
	struct life_device *d = device_seen(lt, &e->dev);

	if (!d)
		return;
	switch (e->hdr.type) {
	case HM_EV_VFIO_OPEN:
		if (e->ret == 0) {
			d->vfio_opens++;
			d->vfio_open_hdr = e->hdr;
		}
		break;
	case HM_EV_VFIO_CLOSE:
		if (d->vfio_opens > 0)
			d->vfio_opens--;
		break;
	case HM_EV_VFIO_UNREGISTER_BEGIN:
		d->vfio_unregistering = true;
		d->unregister_hdr = e->hdr;
		break;
	default:
		d->vfio_unregistering = false;
		break;
	}
}

static void lifetime_feed(void *self, const union hm_event *ev, const struct hm_emitter *out)
{
	struct lifetime *lt = self;

	if (lt->open_disables)
		report_overdue_disables(lt, ev->hdr.ts_ns, out);
	switch (ev->hdr.type) {
	case HM_EV_SRIOV_DISABLE_BEGIN:
		on_disable_begin(lt, &ev->sriov);
		break;
	case HM_EV_SRIOV_DISABLE_END:
		on_disable_end(lt, &ev->sriov, out);
		break;
	case HM_EV_VF_ADDED:
		on_vf_added(lt, &ev->vf);
		break;
	case HM_EV_VF_REMOVED:
		on_vf_removed(lt, &ev->vf);
		break;
	case HM_EV_BIND_BEGIN:
	case HM_EV_BIND_END:
	case HM_EV_UNBIND_BEGIN:
	case HM_EV_UNBIND_END:
		on_bind(lt, &ev->bind);
		if (ev->hdr.type == HM_EV_UNBIND_END && ev->bind.dev.role == HM_ROLE_PF)
			on_pf_unbound(lt, hm_devtable_get(&lt->devices, ev->bind.dev.dev_addr),
				      &ev->bind, out);
		break;
	case HM_EV_PF_REMOVED:
		on_pf_removed(lt, &ev->sriov, out);
		break;
	case HM_EV_SRIOV_ENABLE_END:
		on_enable_end(lt, &ev->sriov, out);
		break;
	case HM_EV_PF_DRVDATA:
		on_drvdata(lt, &ev->drvdata, out);
		break;
	case HM_EV_VFIO_OPEN:
	case HM_EV_VFIO_CLOSE:
	case HM_EV_VFIO_UNREGISTER_BEGIN:
	case HM_EV_VFIO_UNREGISTER_END:
		on_vfio(lt, &ev->vfio);
		break;
	default:
		break;
	}
}

/* Also the end of the stream: disables still open are judged then. */
static void lifetime_expire(void *self, uint64_t now, const struct hm_emitter *out)
{
	struct lifetime *lt = self;

	if (lt->open_disables)
		report_overdue_disables(lt, now, out);
}

static void lifetime_limits(const void *self, struct hm_limits *out)
{
	const struct lifetime *lt = self;

	hm_limits_raise(out, HM_LIMIT_DEVICES, lt->devices.overflow);
}

const struct hm_analyzer_ops hm_lifetime_analyzer = {
	.name = "lifetime",
	.create = lifetime_create,
	.feed = lifetime_feed,
	.expire = lifetime_expire,
	.finish = lifetime_expire,
	.destroy = lifetime_destroy,
	.limits = lifetime_limits,
};
