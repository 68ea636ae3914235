// SPDX-License-Identifier: GPL-2.0
/*
 * PF/VF lock order through another task: a task holding a VF's device lock
 * waits for work a kworker runs (flush_work, cancel_work_sync of a running
 * item, flush_workqueue) or for a completion, and that work (or the task
 * completing it) takes a PF's device lock. The PCI core takes the PF lock
 * first and the VF lock second (SR-IOV disable), so the waiter, the worker
 * and SR-IOV disable can wait for each other in a circle, though no single
 * task ever holds both locks. Reported as one finding naming both tasks and
 * the work function; the lock-order analyzer sees the same dependency as a
 * cycle through the work pseudo-lock (work_locks.h).
 *
 * The two halves may be seen in any order and at different times (the
 * dependency is between classes, as in lockdep): the flushes of a work
 * function and the PF locks its runs took are remembered per function (per
 * workqueue for workqueue flushes). A completion is keyed by its address,
 * which is often on a stack: only waits in progress count, checked when
 * it is completed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "model.h"
#include "analyzers/lock_track.h"
#include "analyzers/work_locks.h"
#include "event.h"
#include "finding.h"

#define WD_MAX_SIDES 4          /* distinct lock classes remembered per half */
#define WD_MAX_OBJECTS 4096     /* work functions, workqueues, completions waited for */
#define WD_MAX_RUN_LOCKS 4      /* PF locks one work run took, for its completes */

enum wd_kind { WD_WORK, WD_WQ, WD_COMPLETION };

/* One half of a dependency: a lock, and the record that ties it to the object. */
struct wd_side {
	struct hm_lock_event lock;      /* the VF lock held, or the PF lock taken */
	struct hm_event_header via;     /* flush/wait begin, or the worker's run begin */
	uint64_t class_key;
};

struct wd_object {
	enum wd_kind kind;
	char name[HM_FUNC_LEN + 8];
	struct wd_side vf[WD_MAX_SIDES]; /* waiters holding a VF lock */
	unsigned int nvf;
	struct wd_side pf[WD_MAX_SIDES]; /* runs taking a PF lock */
	unsigned int npf;
};

struct wd_run {
	struct hm_work_event begin;
	struct wd_side pf[WD_MAX_RUN_LOCKS];
	unsigned int npf;
};

struct work_deps {
	const struct lt_tracker *locks; /* the engine model's (model.h) */
	struct u64map objects;          /* object key -> struct wd_object * */
	struct u64map runs;             /* worker tid + 1 -> struct wd_run * */
};

static void *wd_create(const struct hm_config *cfg, const struct hm_model *model)
{
	struct work_deps *wd = calloc(1, sizeof(*wd));

	(void)cfg;
	if (!wd)
		return NULL;
	wd->locks = &model->locks;
	u64map_init(&wd->objects);
	u64map_init(&wd->runs);
	return wd;
}

static void wd_destroy(void *self)
{
	struct work_deps *wd = self;

	u64map_free_all(&wd->objects);
	u64map_free_all(&wd->runs);
	free(wd);
}

static void wd_finish(void *self, uint64_t end_ts, const struct hm_emitter *out)
{
	(void)self;
	(void)end_ts;
	(void)out; /* reported when both halves are seen */
}

static uint64_t object_key(enum wd_kind kind, const struct hm_work_event *e)
{
	char name[HM_FUNC_LEN + 8];

	if (kind == WD_COMPLETION)
		return lt_map_key(hm_hash_bytes(HM_HASH_INIT + 1, &e->work_addr, sizeof(e->work_addr)));
	if (kind == WD_WQ)
		wl_wq_name(e, name, sizeof(name));
	else
		wl_work_name(e, name, sizeof(name));
	return lt_map_key(hm_hash_str(HM_HASH_INIT, name));
}

static struct wd_object *object_get(struct work_deps *wd, enum wd_kind kind,
				    const struct hm_work_event *e)
{
	uint64_t key = object_key(kind, e);
	struct wd_object *o = u64map_get(&wd->objects, key);

	if (o || wd->objects.count >= WD_MAX_OBJECTS)
		return o;
	o = calloc(1, sizeof(*o));
	if (!o || !u64map_put(&wd->objects, key, o)) {
		free(o);
		return NULL;
	}
	o->kind = kind;
	if (kind == WD_WQ)
		wl_wq_name(e, o->name, sizeof(o->name));
	else if (kind == WD_WORK)
		wl_work_name(e, o->name, sizeof(o->name));
	else
		snprintf(o->name, sizeof(o->name), "completion@%#llx",
			 (unsigned long long)e->work_addr);
	return o;
}

/* Remember a half unless one of the same lock class is already there. */
static const struct wd_side *side_add(struct wd_side *sides, unsigned int *n,
				      const struct wd_side *s)
{
	for (unsigned int i = 0; i < *n; i++)
		if (sides[i].class_key == s->class_key)
			return NULL;
	if (*n == WD_MAX_SIDES)
		return NULL;
	sides[*n] = *s;
	return &sides[(*n)++];
}

static const char *object_verb(const struct wd_object *o)
{
	switch (o->kind) {
	case WD_WQ: return "flushes workqueue";
	case WD_COMPLETION: return "waits for";
	default: return "flushes";
	}
}

static void report(struct work_deps *wd, const struct wd_object *o, const struct wd_side *vf,
		   const struct wd_side *pf, const struct hm_emitter *out)
{
	char waiter[LT_NAME_LEN], worker[LT_NAME_LEN], vf_lock[LT_NAME_LEN], pf_lock[LT_NAME_LEN];
	char vf_class[LT_NAME_LEN], pf_class[LT_NAME_LEN], where[LT_WHERE_LEN], bdf[HM_BDF_STR_LEN];
	bool own_pf = hm_bdf_equal(&vf->lock.dev.pf_bdf, &pf->lock.dev.bdf);
	struct hm_finding f;

	hm_finding_init(&f, HM_FIND_VF_PF_ORDER, vf->via.ts_ns > pf->lock.hdr.ts_ns
							 ? vf->via.ts_ns : pf->lock.hdr.ts_ns);
	f.fingerprint = hm_hash_str(f.fingerprint, lt_class_name(wd->locks, &vf->lock, vf_class));
	f.fingerprint = hm_hash_str(f.fingerprint, lt_class_name(wd->locks, &pf->lock, pf_class));
	f.fingerprint = hm_hash_str(f.fingerprint, o->kind == WD_COMPLETION ? "completion" : o->name);
	lt_task_name(&vf->via, waiter);
	lt_task_name(&pf->lock.hdr, worker);
	lt_lock_name(wd->locks, &vf->lock, vf_lock);
	lt_lock_name(wd->locks, &pf->lock, pf_lock);
	if (o->kind == WD_COMPLETION)
		hm_finding_summary(&f, "task %s waits for %s while holding %s; task %s completes it "
				   "after taking %s (%s)", waiter, o->name, vf_lock, worker, pf_lock,
				   own_pf ? "its own PF" : "not its PF");
	else
		hm_finding_summary(&f, "task %s %s %s while holding %s; the work, run by %s, takes %s "
				   "(%s)", waiter, object_verb(o), o->name, vf_lock, worker, pf_lock,
				   own_pf ? "its own PF" : "not its PF");
	hm_finding_add_device(&f, &vf->lock.dev);
	hm_finding_add_device(&f, &pf->lock.dev);
	hm_finding_add_evidence(&f, &vf->lock.hdr, "%s taken (VF lock held from here)", vf_lock);
	hm_finding_add_evidence(&f, &vf->via, "%s %s under the VF lock", object_verb(o), o->name);
	if (o->kind != WD_COMPLETION)
		hm_finding_add_evidence(&f, &pf->via, "%s starts running %s", worker, o->name);
	hm_finding_add_evidence(&f, &pf->lock.hdr, "%s taken by %s", pf_lock,
				o->kind == WD_COMPLETION ? "the completing task" : "the work");
	hm_finding_detail(&f, "task %s holds %s [taken at %s]", waiter, vf_lock,
			  lt_where(&vf->lock.hdr, where));
	hm_finding_detail(&f, "and %s %s [at %s];", object_verb(o), o->name, lt_where(&vf->via, where));
	hm_finding_detail(&f, "task %s takes %s [at %s] %s.", worker, pf_lock,
			  lt_where(&pf->lock.hdr, where),
			  o->kind == WD_COMPLETION ? "before it completes that" : "while it runs that work");
	hm_finding_detail(&f, "%s", "");
	hm_finding_detail(&f, "Chain exists of:");
	hm_finding_detail(&f, "  %s --> %s --> %s", vf_class, o->kind == WD_COMPLETION ? "completion" : o->name,
			  pf_class);
	hm_finding_detail(&f, "%s", "");
	if (own_pf)
		hm_finding_detail(&f, "%s is this VF's own PF: SR-IOV disable holds its lock while "
				  "taking the VF's lock, so SR-IOV disable waits for %s, %s waits "
				  "for %s, and %s waits for SR-IOV disable.",
				  hm_bdf_format(&pf->lock.dev.bdf, bdf), waiter, waiter, worker, worker);
	else
		hm_finding_detail(&f, "%s is not this VF's PF, but the order still inverts "
				  "PF-before-VF for these lock classes.",
				  hm_bdf_format(&pf->lock.dev.bdf, bdf));
	hm_emit(out, &f);
	hm_finding_release(&f);
}

static void check_new_vf(struct work_deps *wd, const struct wd_object *o, const struct wd_side *vf,
			 const struct hm_emitter *out)
{
	for (unsigned int i = 0; i < o->npf; i++)
		report(wd, o, vf, &o->pf[i], out);
}

static void check_new_pf(struct work_deps *wd, const struct wd_object *o, const struct wd_side *pf,
			 const struct hm_emitter *out)
{
	for (unsigned int i = 0; i < o->nvf; i++)
		report(wd, o, &o->vf[i], pf, out);
}

static bool is_vf_lock(const struct hm_lock_event *l)
{
	return lt_is_role(l, HM_ROLE_VF);
}

/* The VF locks the waiter holds become waiting halves of o. */
static void waiter_holds(struct work_deps *wd, struct wd_object *o, const struct hm_work_event *e,
			 const struct hm_emitter *out)
{
	const struct lt_task *task = lt_task_find(wd->locks, e->hdr.tid);

	for (unsigned int i = 0; task && i < task->depth; i++) {
		struct wd_side s = { .lock = task->held[i].acq, .via = e->hdr,
				     .class_key = task->held[i].class_key };
		const struct wd_side *added;

		if (!is_vf_lock(&s.lock))
			continue;
		added = side_add(o->vf, &o->nvf, &s);
		if (added && o->kind != WD_COMPLETION)
			check_new_vf(wd, o, added, out);
	}
}

static bool work_running(const struct work_deps *wd, uint64_t work_addr)
{
	size_t it = 0;
	uint64_t key;
	void *val;

	while (u64map_next(&wd->runs, &it, &key, &val))
		if (((const struct wd_run *)val)->begin.work_addr == work_addr)
			return true;
	return false;
}

static void on_flush(struct work_deps *wd, enum wd_kind kind, const struct hm_work_event *e,
		     const struct hm_emitter *out)
{
	struct wd_object *o;

	/* cancel_work_sync() waits only for a running item (see work_locks.c) */
	if (kind == WD_WORK && e->ret == 1 && !work_running(wd, e->work_addr))
		return;
	o = object_get(wd, kind, e);
	if (o)
		waiter_holds(wd, o, e, out);
}

static void on_run_begin(struct work_deps *wd, const struct hm_work_event *e)
{
	uint64_t key = (uint64_t)e->hdr.tid + 1;
	struct wd_run *r = u64map_get(&wd->runs, key);

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || !u64map_put(&wd->runs, key, r)) {
			free(r);
			return;
		}
	}
	memset(r, 0, sizeof(*r));
	r->begin = *e;
}

static void on_run_end(struct work_deps *wd, const struct hm_work_event *e)
{
	free(u64map_del(&wd->runs, (uint64_t)e->hdr.tid + 1));
}

/* A worker blocks on a PF lock: a half of its work function and workqueue. */
static void worker_takes(struct work_deps *wd, const struct hm_lock_event *l,
			 const struct hm_emitter *out)
{
	struct wd_run *r = u64map_get(&wd->runs, (uint64_t)l->hdr.tid + 1);
	struct wd_side s;
	const enum wd_kind kinds[] = { WD_WORK, WD_WQ };

	if (!r || !lt_is_role(l, HM_ROLE_PF))
		return;
	s = (struct wd_side){ .lock = *l, .via = r->begin.hdr,
			      .class_key = lt_class_key(wd->locks, l) };
	side_add(r->pf, &r->npf, &s);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct wd_object *o;
		const struct wd_side *added;

		if (kinds[k] == WD_WQ && !r->begin.wq_addr)
			continue;
		o = object_get(wd, kinds[k], &r->begin);
		added = o ? side_add(o->pf, &o->npf, &s) : NULL;
		if (added)
			check_new_pf(wd, o, added, out);
	}
}

/* complete(C): the PF locks the completer holds, or took in the work run
 * that completes C, against the VF locks of the tasks waiting for C. */
static void on_complete(struct work_deps *wd, const struct hm_work_event *e,
			const struct hm_emitter *out)
{
	struct wd_object *o = u64map_get(&wd->objects, object_key(WD_COMPLETION, e));
	const struct lt_task *task = lt_task_find(wd->locks, e->hdr.tid);
	const struct wd_run *r = u64map_get(&wd->runs, (uint64_t)e->hdr.tid + 1);

	if (!o || !o->nvf)
		return;
	for (unsigned int i = 0; task && i < task->depth; i++)
		if (lt_is_role(&task->held[i].acq, HM_ROLE_PF)) {
			struct wd_side s = { .lock = task->held[i].acq, .via = e->hdr,
					     .class_key = task->held[i].class_key };

			check_new_pf(wd, o, &s, out);
		}
	for (unsigned int i = 0; r && i < r->npf; i++)
		check_new_pf(wd, o, &r->pf[i], out);
}

/* A wait on a completion is over: its halves go (the address may be a
 * stack slot, soon something else). */
static void on_wait_end(struct work_deps *wd, const struct hm_work_event *e)
{
	struct wd_object *o = u64map_get(&wd->objects, object_key(WD_COMPLETION, e));

	for (unsigned int i = 0; o && i < o->nvf;)
		if (o->vf[i].via.tid == e->hdr.tid)
			o->vf[i] = o->vf[--o->nvf];
		else
			i++;
	if (o && !o->nvf)
		free(u64map_del(&wd->objects, object_key(WD_COMPLETION, e)));
}

static void wd_feed(void *self, const union hm_event *ev, const struct hm_emitter *out)
{
	struct work_deps *wd = self;
	enum lt_action action = lt_classify(ev);

	if (action == LT_WAIT || action == LT_TAKEN)
		worker_takes(wd, &ev->lock, out);
	switch (ev->hdr.type) {
	case HM_EV_WORK_RUN_BEGIN:
		on_run_begin(wd, &ev->work);
		break;
	case HM_EV_WORK_RUN_END:
		on_run_end(wd, &ev->work);
		break;
	case HM_EV_WORK_FLUSH_BEGIN:
		on_flush(wd, WD_WORK, &ev->work, out);
		break;
	case HM_EV_WQ_FLUSH_BEGIN:
		on_flush(wd, WD_WQ, &ev->work, out);
		break;
	case HM_EV_COMPLETION_WAIT_BEGIN:
		on_flush(wd, WD_COMPLETION, &ev->work, out);
		break;
	case HM_EV_COMPLETION_WAIT_END:
		on_wait_end(wd, &ev->work);
		break;
	case HM_EV_COMPLETE:
		on_complete(wd, &ev->work, out);
		break;
	default:
		break;
	}
}

const struct hm_analyzer_ops hm_work_deps_analyzer = {
	.name = "work_deps",
	.create = wd_create,
	.feed = wd_feed,
	.finish = wd_finish,
	.destroy = wd_destroy,
};
