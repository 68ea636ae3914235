// SPDX-License-Identifier: GPL-2.0
/*
 * Deadlock: a live wait-for graph. When a task starts to wait, follow what it
 * waits for to who can end the wait, and on: a chain that comes back to the
 * task is a deadlock now, not a possibility. Report it at once rather than
 * after a hung-task timeout.
 *
 * Two kinds of wait:
 *  - for a lock: ended by its owner; a writer's wait on an rwsem by every
 *    task holding it for read, a reader's by the writers queued before it
 *    (rwsems are fair: a reader waits behind a queued writer, even when it
 *    holds the rwsem for read already);
 *  - across the kernel/user boundary: vfio_unregister_group_dev() waits until
 *    the device's VFIO user closes it; any thread of that process could, so
 *    the wait leads to every thread of it that is itself blocked on a lock. If
 *    one of those chains returns to the unregistering task, the user cannot
 *    act on the kernel's request and nothing ends the wait.
 * A release wait that lasts long without a cycle is reported too, naming the
 * user the kernel waits for and what that user is doing (inside SR-IOV disable
 * the lifetime analyzer's sriov-disable-blocked finding says it instead).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "model.h"
#include "analyzers/lock_track.h"
#include "event.h"
#include "finding.h"

#define DL_MAX_CHAIN 64         /* hops followed from one wait */
#define DL_MAX_USERS 8          /* processes with one device open, tracked */
#define DL_MAX_DEVICES 65536    /* opened VFIO devices tracked at once */

/* A VFIO device and the processes that hold it open. */
struct vfio_device {
	struct hm_device dev;
	unsigned int n;
	struct {
		uint32_t tgid;
		unsigned int opens;
		struct hm_event_header opened;
	} user[DL_MAX_USERS];
};

/* A task inside vfio_unregister_group_dev(), waiting for the device's users. */
struct release_wait {
	struct hm_vfio_event begin;
	bool reported;                /* long-wait finding given */
};

struct deadlock {
	const struct lt_tracker *locks; /* the engine model's (model.h) */
	struct u64map devices;        /* dev_addr -> struct vfio_device * */
	struct u64map releases;       /* tid + 1 -> struct release_wait * */
	struct u64map disabling;      /* tid + 1 of tasks in SR-IOV disable (lifetime reports those waits) */
	uint64_t device_overflow;     /* opened devices beyond DL_MAX_DEVICES, not tracked */
	uint64_t long_wait_ns;
};

/* hop[i].task waits for hop[i].lock (NULL: for a VFIO user to release
 * hop[i].release's device); hop[i + 1 mod n].task is who it waits for. */
struct hop {
	const struct lt_task *task;
	const struct hm_lock_event *lock;
	const struct release_wait *release;
};

struct wait_cycle {
	struct hop hop[DL_MAX_CHAIN];
	size_t n;
};

static uint64_t tid_key(uint32_t tid)
{
	return (uint64_t)tid + 1;
}

static void *dl_create(const struct hm_config *cfg, const struct hm_model *model)
{
	struct deadlock *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->locks = &model->locks;
	u64map_init(&d->devices);
	u64map_init(&d->releases);
	u64map_init(&d->disabling);
	d->long_wait_ns = cfg ? cfg->sriov_disable_warn_ns : 0;
	return d;
}

static void dl_destroy(void *self)
{
	struct deadlock *d = self;

	u64map_free_all(&d->devices);
	u64map_free_all(&d->releases);
	u64map_free(&d->disabling);
	free(d);
}

/* ---- VFIO users ----------------------------------------------------------- */

static struct vfio_device *device_get(struct deadlock *d, const struct hm_device *dev, bool add)
{
	struct vfio_device *v = u64map_get(&d->devices, dev->dev_addr);

	if (v || !add || !dev->dev_addr)
		return v;
	if (d->devices.count >= DL_MAX_DEVICES) {
		d->device_overflow++;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v || !u64map_put(&d->devices, dev->dev_addr, v)) {
		free(v);
		return NULL;
	}
	v->dev = *dev;
	return v;
}

static int user_index(const struct vfio_device *v, uint32_t tgid)
{
	for (unsigned int i = 0; i < v->n; i++)
		if (v->user[i].tgid == tgid)
			return (int)i;
	return -1;
}

static void on_open(struct deadlock *d, const struct hm_vfio_event *e)
{
	struct vfio_device *v = device_get(d, &e->dev, true);
	int i;

	if (!v || e->ret)
		return;
	i = user_index(v, e->hdr.pid);
	if (i < 0) {
		if (v->n == DL_MAX_USERS)
			return;
		i = (int)v->n++;
		v->user[i].tgid = e->hdr.pid;
		v->user[i].opens = 0;
		v->user[i].opened = e->hdr;
	}
	v->user[i].opens++;
}

/* The last close may run in another process (fput from a kworker): drop
 * the latest opener first, it is the one the kernel is waiting for. */
static void on_close(struct deadlock *d, const struct hm_vfio_event *e)
{
	struct vfio_device *v = device_get(d, &e->dev, false);
	int i;

	if (!v || !v->n)
		return;
	i = user_index(v, e->hdr.pid);
	if (i < 0)
		i = (int)v->n - 1;
	if (--v->user[i].opens)
		return;
	v->user[i] = v->user[--v->n];
	if (!v->n) {
		u64map_del(&d->devices, e->dev.dev_addr);
		free(v);
	}
}

static bool is_user_of(const struct vfio_device *v, uint32_t tgid)
{
	return v && user_index(v, tgid) >= 0;
}

static const struct release_wait *release_of(const struct deadlock *d, uint32_t tid)
{
	return u64map_get(&d->releases, tid_key(tid));
}

/* ---- cycle search --------------------------------------------------------- */

static bool on_path(const struct wait_cycle *c, const struct lt_task *t)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->hop[i].task == t)
			return true;
	return false;
}

static bool follow(const struct deadlock *d, const struct lt_task *start,
		   const struct lt_task *cur, struct wait_cycle *c);

/* cur waits for the VFIO user: try each of its blocked threads. */
static bool follow_user(const struct deadlock *d, const struct lt_task *start,
			const struct release_wait *rw, struct wait_cycle *c)
{
	const struct vfio_device *v = u64map_get(&d->devices, rw->begin.dev.dev_addr);
	size_t it = 0;
	uint64_t key;
	void *val;

	while (v && u64map_next(&d->locks->tasks, &it, &key, &val)) {
		const struct lt_task *t = val;

		if (t->waiting && is_user_of(v, t->wait.hdr.pid) && follow(d, start, t, c))
			return true;
	}
	return false;
}

/* Depth-first from cur; c holds the hops up to cur. */
static bool follow(const struct deadlock *d, const struct lt_task *start,
		   const struct lt_task *cur, struct wait_cycle *c)
{
	const struct release_wait *rw = release_of(d, cur->tid);
	const struct lt_task *blocker[LT_MAX_BLOCKERS];
	size_t nblockers;

	if (cur == start && c->n)
		return true;
	if (on_path(c, cur) || c->n == DL_MAX_CHAIN)
		return false; /* a cycle not through start was reported when it closed */
	if (cur->waiting) {
		nblockers = lt_blockers(d->locks, cur, blocker, LT_MAX_BLOCKERS);
		c->hop[c->n++] = (struct hop){ .task = cur, .lock = &cur->wait };
		/* free, unknown or running blockers: the wait will end */
		for (size_t i = 0; i < nblockers; i++) {
			const struct lt_task *b = blocker[i];

			if ((b == start || b->waiting || release_of(d, b->tid)) &&
			    follow(d, start, b, c))
				return true;
		}
	} else if (rw) {
		c->hop[c->n++] = (struct hop){ .task = cur, .release = rw };
		if (follow_user(d, start, rw, c))
			return true;
	} else {
		return false;
	}
	c->n--;
	return false;
}

static bool find_wait_cycle(const struct deadlock *d, const struct lt_task *start,
			    struct wait_cycle *c)
{
	c->n = 0;
	return follow(d, start, start, c);
}

/* ---- reporting ------------------------------------------------------------ */

/* "the VFIO user of 0000:01:00.1" */
static char *release_name(const struct release_wait *rw, char buf[LT_NAME_LEN])
{
	char bdf[HM_BDF_STR_LEN];

	snprintf(buf, LT_NAME_LEN, "the VFIO user of %s to release it",
		 hm_bdf_format(&rw->begin.dev.bdf, bdf));
	return buf;
}

static char *awaited_name(const struct deadlock *d, const struct hop *h, char buf[LT_NAME_LEN])
{
	return h->lock ? lt_lock_name(d->locks, h->lock, buf) : release_name(h->release, buf);
}

static const struct hm_event_header *hop_hdr(const struct hop *h)
{
	return h->lock ? &h->lock->hdr : &h->release->begin.hdr;
}

/* The same deadlock seen from any of its tasks gets one fingerprint: hash the
 * awaited names from the smallest. Names (BDF + class) are stable across
 * boots, unlike lock addresses. */
static uint64_t cycle_fingerprint(const struct deadlock *d, const struct wait_cycle *c,
				  uint64_t h)
{
	char name[DL_MAX_CHAIN][LT_NAME_LEN];
	size_t first = 0;

	for (size_t i = 0; i < c->n; i++) {
		awaited_name(d, &c->hop[i], name[i]);
		if (strcmp(name[i], name[first]) < 0)
			first = i;
	}
	for (size_t i = 0; i < c->n; i++)
		h = hm_hash_str(h, name[(first + i) % c->n]);
	return h;
}

static const struct hop *next_hop(const struct wait_cycle *c, size_t i)
{
	return &c->hop[(i + 1) % c->n];
}

static bool crosses_boundary(const struct wait_cycle *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->hop[i].release)
			return true;
	return false;
}

/* "bash/812 -> device_lock(...) -> kworker/0:1/123 -> ... -> bash/812" */
static void summarize(const struct deadlock *d, struct hm_finding *f, const struct wait_cycle *c)
{
	char text[HM_FINDING_SUMMARY_LEN], task[LT_NAME_LEN], what[LT_NAME_LEN];
	size_t used = 0;

	text[0] = '\0';
	for (size_t i = 0; i < c->n && used < sizeof(text); i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s -> %s -> ",
					 lt_task_name(hop_hdr(&c->hop[i]), task),
					 awaited_name(d, &c->hop[i], what));
	if (used < sizeof(text))
		snprintf(text + used, sizeof(text) - used, "%s",
			 lt_task_name(hop_hdr(&c->hop[0]), task));
	hm_finding_summary(f, "%zu task%s deadlocked%s: %s", c->n, c->n == 1 ? "" : "s",
			   crosses_boundary(c) ? " across the kernel/user boundary" : "", text);
}

static void describe_hop(const struct deadlock *d, struct hm_finding *f,
			 const struct wait_cycle *c, size_t i)
{
	const struct hop *h = &c->hop[i];
	const struct hop *waiter = &c->hop[(i + c->n - 1) % c->n];
	const struct lt_hold *hold = waiter->lock ? lt_task_hold(h->task, waiter->lock->lock_addr)
						  : NULL;
	char task[LT_NAME_LEN], held[LT_NAME_LEN], wanted[LT_NAME_LEN];
	char held_at[LT_WHERE_LEN], wait_at[LT_WHERE_LEN];

	lt_task_name(hop_hdr(h), task);
	awaited_name(d, h, wanted);
	lt_where(hop_hdr(h), wait_at);
	if (hold)
		hm_finding_detail(f, "task %s holds %s [acquired at %s] and waits for %s [waiting since %s]",
				  task, lt_lock_name(d->locks, &hold->acq, held),
				  lt_where(&hold->acq.hdr, held_at), wanted, wait_at);
	else if (waiter->lock && lt_is_queued_ahead(waiter->task, h->task))
		hm_finding_detail(f, "task %s is queued to write %s ahead of it (rwsems are fair: a "
				  "reader waits behind a queued writer) and waits for %s [waiting since %s]",
				  task, lt_lock_name(d->locks, waiter->lock, held), wanted, wait_at);
	else if (!waiter->lock)
		hm_finding_detail(f, "task %s (pid %u) is a thread of that VFIO user and waits for "
				  "%s [waiting since %s]: it cannot close the device",
				  task, hop_hdr(h)->pid, wanted, wait_at);
	else
		hm_finding_detail(f, "task %s waits for %s [waiting since %s]", task, wanted, wait_at);
}

static void add_evidence(const struct deadlock *d, struct hm_finding *f, const struct wait_cycle *c)
{
	char task[LT_NAME_LEN], what[LT_NAME_LEN], owner[LT_NAME_LEN];

	/* the waits first: they are the deadlock, and evidence slots are few */
	for (size_t i = 0; i < c->n; i++) {
		const struct hop *h = &c->hop[i];

		hm_finding_add_evidence(f, hop_hdr(h), "%s waits for %s, which %s can end",
					lt_task_name(hop_hdr(h), task), awaited_name(d, h, what),
					lt_task_name(hop_hdr(next_hop(c, i)), owner));
		if (h->lock)
			lt_add_lock_device(f, h->lock);
		else
			hm_finding_add_device(f, &h->release->begin.dev);
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct hop *h = &c->hop[i];
		const struct lt_hold *hold =
			h->lock ? lt_task_hold(next_hop(c, i)->task, h->lock->lock_addr) : NULL;

		if (hold)
			hm_finding_add_evidence(f, &hold->acq.hdr, "%s acquired %s",
						lt_task_name(&hold->acq.hdr, owner),
						lt_lock_name(d->locks, &hold->acq, what));
	}
}

static void report_deadlock(const struct deadlock *d, const struct wait_cycle *c, uint64_t ts_ns,
			    const struct hm_emitter *out)
{
	struct hm_finding f;

	hm_finding_init(&f, HM_FIND_DEADLOCK, ts_ns);
	f.fingerprint = cycle_fingerprint(d, c, f.fingerprint);
	summarize(d, &f, c);
	add_evidence(d, &f, c);
	for (size_t i = 0; i < c->n; i++)
		describe_hop(d, &f, c, i);
	if (crosses_boundary(c))
		hm_finding_detail(&f, "vfio_unregister_group_dev() keeps asking the user to release "
				  "the device; the user's thread above is blocked on the kernel side "
				  "of that same wait, so it never will (unless another thread of it "
				  "closes the device).");
	hm_emit(out, &f);
	hm_finding_release(&f);
}

static void check_from(const struct deadlock *d, uint32_t tid, uint64_t ts_ns,
		       const struct hm_emitter *out)
{
	const struct lt_task *start = lt_task_find(d->locks, tid);
	struct wait_cycle c;

	if (start && find_wait_cycle(d, start, &c))
		report_deadlock(d, &c, ts_ns, out);
}

/* ---- long release waits --------------------------------------------------- */

/* What the user's threads are doing, as far as the trace shows. */
static void describe_user_state(const struct deadlock *d, struct hm_finding *f,
				const struct vfio_device *v)
{
	char task[LT_NAME_LEN], lock[LT_NAME_LEN], owner[LT_NAME_LEN];
	bool blocked = false;
	size_t it = 0;
	uint64_t key;
	void *val;

	while (v && u64map_next(&d->locks->tasks, &it, &key, &val)) {
		const struct lt_task *t = val;
		const struct lt_task *o;

		if (!t->waiting || !is_user_of(v, t->wait.hdr.pid))
			continue;
		o = lt_owner(d->locks, t->wait.lock_addr);
		hm_finding_detail(f, "user thread %s is blocked on %s, held by %s",
				  lt_task_name(&t->wait.hdr, task), lt_lock_name(d->locks, &t->wait, lock),
				  o ? lt_task_name(o->depth ? &o->held[0].acq.hdr : &o->wait.hdr, owner)
				    : "an unknown task");
		blocked = true;
	}
	if (!blocked)
		hm_finding_detail(f, "no thread of the user is blocked on a traced lock: it is "
				  "running and ignoring (or not registered for) the request");
}

static void report_long_wait(const struct deadlock *d, struct release_wait *rw, uint64_t now,
			     const struct hm_emitter *out)
{
	const struct vfio_device *v = u64map_get(&d->devices, rw->begin.dev.dev_addr);
	const struct lt_task *task = lt_task_find(d->locks, rw->begin.hdr.tid);
	char name[LT_NAME_LEN], bdf[HM_BDF_STR_LEN], lock[LT_NAME_LEN], users[128] = "";
	struct hm_finding f;
	size_t used = 0;

	rw->reported = true;
	for (unsigned int i = 0; v && i < v->n && used < sizeof(users); i++)
		used += (size_t)snprintf(users + used, sizeof(users) - used, "%s\"%.*s\" (pid %u)",
					 i ? ", " : "", HM_COMM_LEN, v->user[i].opened.comm,
					 v->user[i].tgid);
	hm_finding_init(&f, HM_FIND_VFIO_USER_WAIT, now);
	f.fingerprint = hm_hash_str(f.fingerprint, hm_bdf_format(&rw->begin.dev.bdf, bdf));
	hm_finding_summary(&f, "task %s has waited %.1f s in vfio_unregister_group_dev() for VFIO "
			   "user %s to release %s", lt_task_name(&rw->begin.hdr, name),
			   (double)(now - rw->begin.hdr.ts_ns) / 1e9, users[0] ? users : "(unknown)",
			   bdf);
	hm_finding_add_device(&f, &rw->begin.dev);
	hm_finding_add_evidence(&f, &rw->begin.hdr, "vfio_unregister_group_dev() began waiting");
	for (unsigned int i = 0; v && i < v->n; i++)
		hm_finding_add_evidence(&f, &v->user[i].opened, "VFIO user opened the device");
	for (unsigned int i = 0; task && i < task->depth; i++) {
		hm_finding_detail(&f, "the waiting task holds %s",
				  lt_lock_name(d->locks, &task->held[i].acq, lock));
		lt_add_lock_device(&f, &task->held[i].acq);
	}
	describe_user_state(d, &f, v);
	hm_emit(out, &f);
	hm_finding_release(&f);
}

static void report_long_waits(struct deadlock *d, uint64_t now, const struct hm_emitter *out)
{
	size_t it = 0;
	uint64_t key;
	void *val;

	while (u64map_next(&d->releases, &it, &key, &val)) {
		struct release_wait *rw = val;

		if (!rw->reported && d->long_wait_ns &&
		    !u64map_get(&d->disabling, tid_key(rw->begin.hdr.tid)) && now > rw->begin.hdr.ts_ns &&
		    now - rw->begin.hdr.ts_ns > d->long_wait_ns)
			report_long_wait(d, rw, now, out);
	}
}

static void on_unregister(struct deadlock *d, const struct hm_vfio_event *e,
			  const struct hm_emitter *out)
{
	struct release_wait *rw = u64map_get(&d->releases, tid_key(e->hdr.tid));

	if (e->hdr.type == HM_EV_VFIO_UNREGISTER_END) {
		if (rw)
			u64map_del(&d->releases, tid_key(e->hdr.tid));
		free(rw);
		return;
	}
	if (!rw) {
		rw = calloc(1, sizeof(*rw));
		if (!rw || !u64map_put(&d->releases, tid_key(e->hdr.tid), rw)) {
			free(rw);
			return;
		}
	}
	*rw = (struct release_wait){ .begin = *e };
	check_from(d, e->hdr.tid, e->hdr.ts_ns, out);
}

static void dl_feed(void *self, const union hm_event *ev, const struct hm_emitter *out)
{
	struct deadlock *d = self;

	/* before the event: a close that ends a long wait still finds the user */
	if (d->releases.count)
		report_long_waits(d, ev->hdr.ts_ns, out);
	switch (ev->hdr.type) {
	case HM_EV_VFIO_OPEN:
		on_open(d, &ev->vfio);
		break;
	case HM_EV_VFIO_CLOSE:
		on_close(d, &ev->vfio);
		break;
	case HM_EV_VFIO_UNREGISTER_BEGIN:
	case HM_EV_VFIO_UNREGISTER_END:
		on_unregister(d, &ev->vfio, out);
		break;
	case HM_EV_SRIOV_DISABLE_BEGIN:
		u64map_put(&d->disabling, tid_key(ev->hdr.tid), d);
		break;
	case HM_EV_SRIOV_DISABLE_END:
		u64map_del(&d->disabling, tid_key(ev->hdr.tid));
		break;
	default:
		break;
	}
}

/* Only a new wait can close a cycle: every other task in it already waits. */
static void dl_settle(void *self, const union hm_event *ev, const struct hm_model_change *change,
		      const struct hm_emitter *out)
{
	if (change->lock == LT_WAIT)
		check_from(self, ev->hdr.tid, ev->hdr.ts_ns, out);
}

/* Also the end of the stream: release waits still open are judged then. */
static void dl_expire(void *self, uint64_t now, const struct hm_emitter *out)
{
	struct deadlock *d = self;

	if (d->releases.count)
		report_long_waits(d, now, out);
}

static void dl_limits(const void *self, struct hm_limits *out)
{
	const struct deadlock *d = self;

	hm_limits_raise(out, HM_LIMIT_DEVICES, d->device_overflow);
}

const struct hm_analyzer_ops hm_deadlock_analyzer = {
	.name = "deadlock",
	.create = dl_create,
	.feed = dl_feed,
	.settle = dl_settle,
	.expire = dl_expire,
	.finish = dl_expire,
	.destroy = dl_destroy,
	.limits = dl_limits,
};
