// SPDX-License-Identifier: GPL-2.0
#include "analyzers/lock_track.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "event.h"
#include "finding.h"

static uint64_t task_key(uint32_t tid)
{
	return (uint64_t)tid + 1; /* u64map keys must be non-zero */
}

/* lt_class_key() memoized: a class is a function of these fields alone (and
 * of the LOCK_CLASS names, whose change empties the memo), while formatting
 * and hashing its name costs more than the rest of a record's analysis. */
struct lt_class_input {
	uint64_t lock_addr;             /* 0 for device mutexes: not part of their class */
	struct hm_bdf bdf;              /* a VFIO user's device, else zero */
	uint16_t subclass;
	uint8_t lock_type, role;
	uint32_t pad;
};

#define LT_CLASS_CACHE_SIZE 1024        /* direct mapped */

struct lt_class_cache {
	uint64_t generation;            /* bumped when names change */
	struct {
		struct lt_class_input in;
		uint64_t generation;    /* 0: empty */
		uint64_t key;
	} slot[LT_CLASS_CACHE_SIZE];
};

void lt_init(struct lt_tracker *t)
{
	memset(t, 0, sizeof(*t));
	u64map_init(&t->tasks);
	u64map_init(&t->owners);
	u64map_init(&t->readers);
	u64map_init(&t->names);
	t->class_cache = calloc(1, sizeof(*t->class_cache));
	if (t->class_cache)
		t->class_cache->generation = 1;
}

void lt_free(struct lt_tracker *t)
{
	u64map_free_all(&t->tasks);
	t->recent = NULL;
	u64map_free(&t->owners);
	u64map_free_all(&t->readers);
	u64map_free_all(&t->names);
	while (t->nspare)
		free(t->spare[--t->nspare]);
	free(t->class_cache);
	t->class_cache = NULL;
}

void lt_limits(const struct lt_tracker *t, struct hm_limits *out)
{
	hm_limits_raise(out, HM_LIMIT_HELD_LOCKS, t->stats.held_overflow);
	hm_limits_raise(out, HM_LIMIT_TASKS, t->stats.task_overflow);
	hm_limits_raise(out, HM_LIMIT_STALE_HOLDS, t->stats.stale_holds);
	hm_limits_raise(out, HM_LIMIT_LOCK_NAMES, t->stats.name_overflow);
	hm_limits_raise(out, HM_LIMIT_READERS, t->stats.reader_overflow);
}

enum lt_action lt_classify(const union hm_event *ev)
{
	switch (ev->hdr.type) {
	case HM_EV_LOCK_WAIT:
		return LT_WAIT;
	case HM_EV_LOCK_ACQUIRED:
		return ev->lock.ret == 0 ? LT_TAKEN : LT_INTERRUPTED;
	case HM_EV_LOCK_TRYLOCK:
		return ev->lock.ret == 1 ? LT_TRY_TAKEN : LT_TRY_BUSY;
	case HM_EV_LOCK_RELEASED:
		return LT_RELEASED;
	default:
		return LT_IGNORE;
	}
}

/* Readers share an rwsem: none of them owns it alone. */
static bool is_exclusive(const struct hm_lock_event *ev)
{
	return ev->lock_type != HM_LOCK_RWSEM_READ;
}

/* A task's records come in runs (take, release, take...): the last task
 * found is checked before the map. */
struct lt_task *lt_task_find(const struct lt_tracker *t, uint32_t tid)
{
	if (t->recent && t->recent->tid == tid)
		return t->recent;
	return u64map_get(&t->tasks, task_key(tid));
}

struct lt_task *lt_owner(const struct lt_tracker *t, uint64_t lock_addr)
{
	return lock_addr ? u64map_get(&t->owners, lock_addr) : NULL;
}

static int hold_index(const struct lt_task *task, uint64_t lock_addr)
{
	for (unsigned int i = 0; i < task->depth; i++)
		if (task->held[i].acq.lock_addr == lock_addr)
			return (int)i;
	return -1;
}

static void readers_add(struct lt_tracker *t, uint64_t lock_addr, uint32_t tid)
{
	struct lt_readers *r = u64map_get(&t->readers, lock_addr);

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || !u64map_put(&t->readers, lock_addr, r)) {
			free(r);
			return;
		}
	}
	if (r->n == LT_MAX_READERS) {
		t->stats.reader_overflow++;
		return;
	}
	r->tid[r->n++] = tid;
}

/* One read hold of tid less; the record goes with the last reader. */
static void readers_remove(struct lt_tracker *t, uint64_t lock_addr, uint32_t tid)
{
	struct lt_readers *r = u64map_get(&t->readers, lock_addr);

	for (unsigned int i = 0; r && i < r->n; i++) {
		if (r->tid[i] != tid)
			continue;
		r->tid[i] = r->tid[--r->n];
		break;
	}
	if (r && !r->n)
		free(u64map_del(&t->readers, lock_addr));
}

const struct lt_hold *lt_task_hold(const struct lt_task *task, uint64_t lock_addr)
{
	int i = hold_index(task, lock_addr);

	return i < 0 ? NULL : &task->held[i];
}

static struct lt_task *task_get_or_add(struct lt_tracker *t, uint32_t tid)
{
	struct lt_task *task = lt_task_find(t, tid);

	if (task)
		return t->recent = task;
	if (t->tasks.count >= LT_MAX_TASKS) {
		t->stats.task_overflow++;
		return NULL;
	}
	if (t->nspare) {
		/* only tid, depth and the wait are read before being written */
		task = t->spare[--t->nspare];
		task->depth = 0;
		task->waiting = false;
		memset(&task->wait, 0, sizeof(task->wait));
	} else {
		task = calloc(1, sizeof(*task));
		if (!task)
			return NULL;
	}
	task->tid = tid;
	if (!u64map_put(&t->tasks, task_key(tid), task)) {
		free(task);
		return NULL;
	}
	return t->recent = task;
}

/* Tasks that neither hold nor wait are forgotten, so memory follows the
 * number of tasks inside lock sections, not every task ever seen. */
static void task_drop_if_idle(struct lt_tracker *t, struct lt_task *task)
{
	if (task->depth || task->waiting)
		return;
	u64map_del(&t->tasks, task_key(task->tid));
	if (t->recent == task)
		t->recent = NULL;
	if (t->nspare < LT_SPARE_TASKS)
		t->spare[t->nspare++] = task;
	else
		free(task);
}

/* Remove a hold wherever it is in the stack: locks need not be released in
 * reverse order. */
static bool task_remove_hold(struct lt_tracker *t, struct lt_task *task, uint64_t lock_addr)
{
	int i = hold_index(task, lock_addr);

	if (i < 0)
		return false;
	if (!is_exclusive(&task->held[i].acq))
		readers_remove(t, lock_addr, task->tid);
	memmove(&task->held[i], &task->held[i + 1],
		(task->depth - (unsigned int)i - 1) * sizeof(task->held[0]));
	task->depth--;
	if (lt_owner(t, lock_addr) == task)
		u64map_del(&t->owners, lock_addr);
	return true;
}

/* Forget an exclusive hold the tracker believes in but the kernel denies:
 * its release was lost (a hook run the kernel skipped: on PREEMPT_RT a
 * preempted fentry program makes the next run of it on that CPU skip) or
 * predates the trace. `current` is the task whose event showed it. */
static void drop_stale_hold(struct lt_tracker *t, struct lt_task *stale, uint64_t lock_addr,
			    const struct lt_task *current)
{
	task_remove_hold(t, stale, lock_addr);
	/* a stale reader leaves a writer's ownership alone */
	if (lt_owner(t, lock_addr) == stale)
		u64map_del(&t->owners, lock_addr);
	t->stats.stale_holds++;
	if (stale != current)
		task_drop_if_idle(t, stale);
}

/* A mutex has one owner: if someone else still appears to hold it when a
 * task takes it, that one's release was lost. */
static void drop_stale_owner(struct lt_tracker *t, struct lt_task *taker, uint64_t lock_addr)
{
	struct lt_task *old = lt_owner(t, lock_addr);

	if (old && old != taker)
		drop_stale_hold(t, old, lock_addr, taker);
}

/* A wait carries the exclusive owner the kernel read (a mutex's owner, an
 * rwsem's writer, for read and write waits alike; 0 = none). If the tracker
 * believes another task (or the waiter itself) owns the lock, that hold is
 * stale: an unrepaired one would close a false deadlock through it. Only
 * when the kernel names the believed owner does the hold stand (the waiter
 * itself: a task deadlocking on itself). Ordering makes this safe: releases
 * are recorded at unlock entry, before the kernel clears the owner. */
/* Every read hold of an rwsem but keep's: a writer has it now, so their
 * releases were lost. Readers are not named by the kernel's owner field, so
 * only a writer's acquisition, or a wait whose kernel-read owner is a writer,
 * shows this. */
static void drop_stale_readers(struct lt_tracker *t, uint64_t lock_addr, const struct lt_task *keep,
			       const struct lt_task *current)
{
	struct lt_readers *r;
	unsigned int i = 0;

	while ((r = u64map_get(&t->readers, lock_addr)) && i < r->n) {
		struct lt_task *reader = r->tid[i] == (keep ? keep->tid : 0) ? NULL
										: lt_task_find(t, r->tid[i]);

		if (!reader) {
			i++;
			continue;
		}
		drop_stale_hold(t, reader, lock_addr, current);
	}
}

static void drop_hold_the_kernel_denies(struct lt_tracker *t, struct lt_task *waiter,
					const struct hm_lock_event *wait)
{
	struct lt_task *believed = lt_owner(t, wait->lock_addr);

	if (!(wait->flags & HM_LOCK_F_OWNER_READ))
		return;
	if (believed && wait->owner_tid != believed->tid)
		drop_stale_hold(t, believed, wait->lock_addr, waiter);
	if (wait->owner_tid)
		drop_stale_readers(t, wait->lock_addr, NULL, waiter);
}

/* A task waits for a lock it believes it reads already: a real self-deadlock
 * (or recursive read), unless records were lost, when that read hold's
 * release is the likelier loss. */
static void drop_own_read_if_lost(struct lt_tracker *t, struct lt_task *waiter,
				  const struct hm_lock_event *wait)
{
	const struct lt_hold *held = lt_task_hold(waiter, wait->lock_addr);

	if (t->releases_lost && held && !is_exclusive(&held->acq))
		drop_stale_hold(t, waiter, wait->lock_addr, waiter);
}

/* The task holds lock_addr for read already and reads it again. */
static bool is_recursive_read(const struct lt_task *task, const struct hm_lock_event *ev)
{
	const struct lt_hold *held = lt_task_hold(task, ev->lock_addr);

	return held && !is_exclusive(&held->acq) && !is_exclusive(ev);
}

static void task_push_hold(struct lt_tracker *t, struct lt_task *task,
			   const struct hm_lock_event *ev)
{
	/* a writer excludes everyone, a reader excludes writers: whoever
	 * else appears to hold it lost a release */
	drop_stale_owner(t, task, ev->lock_addr);
	if (is_exclusive(ev))
		drop_stale_readers(t, ev->lock_addr, task, task);
	/* the same lock twice in one task: its release was lost, unless both
	 * are reads (a recursive down_read holds it twice: lock_order reports
	 * it) in a stream that lost no records */
	if (!is_recursive_read(task, ev))
		task_remove_hold(t, task, ev->lock_addr);
	else if (t->releases_lost)
		drop_stale_hold(t, task, ev->lock_addr, task);
	if (task->depth >= LT_MAX_HELD) {
		t->stats.held_overflow++;
		return;
	}
	task->held[task->depth].acq = *ev;
	task->held[task->depth].class_key = lt_class_key(t, ev);
	task->depth++;
	if (!ev->lock_addr)
		return;
	if (is_exclusive(ev))
		u64map_put(&t->owners, ev->lock_addr, task);
	else
		readers_add(t, ev->lock_addr, task->tid);
}

/* A lock's name: the latest record for its address wins (a freed and reused
 * address gets a new record from the live side). */
static void name_lock(struct lt_tracker *t, const struct hm_lock_class_event *e)
{
	struct lt_lock_class *cls = u64map_get(&t->names, e->lock_addr);

	if (!e->lock_addr)
		return;
	if (!cls) {
		if (t->names.count >= LT_MAX_NAMES) {
			t->stats.name_overflow++;
			return;
		}
		cls = calloc(1, sizeof(*cls));
		if (!cls || !u64map_put(&t->names, e->lock_addr, cls)) {
			free(cls);
			return;
		}
	}
	cls->origin = e->origin;
	memcpy(cls->name, e->name, HM_FUNC_LEN);
	cls->name[HM_FUNC_LEN] = '\0';
	if (t->class_cache)
		t->class_cache->generation++;
}

enum lt_action lt_apply(struct lt_tracker *t, const union hm_event *ev)
{
	enum lt_action action = lt_classify(ev);
	struct lt_task *task;

	if (ev->hdr.type == HM_EV_LOCK_CLASS)
		name_lock(t, &ev->lock_class);
	if (ev->hdr.type == HM_EV_LOST && ev->lost.lost)
		t->releases_lost = true;
	if (action == LT_IGNORE)
		return action;
	task = action == LT_WAIT || action == LT_TAKEN || action == LT_TRY_TAKEN
		       ? task_get_or_add(t, ev->hdr.tid)
		       : lt_task_find(t, ev->hdr.tid);
	if (!task)
		return action;
	/* a task that reports anything but a wait is running, so not blocked */
	task->waiting = false;
	switch (action) {
	case LT_WAIT:
		drop_hold_the_kernel_denies(t, task, &ev->lock);
		drop_own_read_if_lost(t, task, &ev->lock);
		task->waiting = true;
		task->wait = ev->lock;
		break;
	case LT_TAKEN:
	case LT_TRY_TAKEN:
		task_push_hold(t, task, &ev->lock);
		break;
	case LT_RELEASED:
		task_remove_hold(t, task, ev->lock.lock_addr);
		break;
	default:
		break;
	}
	task_drop_if_idle(t, task);
	return action;
}

static bool blocker_add(const struct lt_task **out, size_t *n, size_t max,
			const struct lt_task *task)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i] == task)
			return true;
	if (*n == max)
		return false;
	out[(*n)++] = task;
	return true;
}

bool lt_is_queued_ahead(const struct lt_task *waiter, const struct lt_task *blocker)
{
	return blocker->waiting && blocker != waiter &&
	       blocker->wait.lock_addr == waiter->wait.lock_addr &&
	       blocker->wait.lock_type == HM_LOCK_RWSEM_WRITE &&
	       blocker->wait.hdr.ts_ns <= waiter->wait.hdr.ts_ns &&
	       !lt_task_hold(blocker, waiter->wait.lock_addr);
}

size_t lt_blockers(const struct lt_tracker *t, const struct lt_task *waiter,
		   const struct lt_task **out, size_t max)
{
	uint64_t lock = waiter->wait.lock_addr;
	const struct lt_readers *r = lock ? u64map_get(&t->readers, lock) : NULL;
	const struct lt_task *owner = lt_owner(t, lock);
	size_t n = 0, it = 0;
	uint64_t key;
	void *val;

	if (!waiter->waiting)
		return 0;
	if (owner)
		blocker_add(out, &n, max, owner);
	if (!is_exclusive(&waiter->wait)) {
		/* a writer queued ahead keeps it waiting while readers hold it */
		while (r && u64map_next(&t->tasks, &it, &key, &val))
			if (lt_is_queued_ahead(waiter, val) && !blocker_add(out, &n, max, val))
				break;
		return n;
	}
	for (unsigned int i = 0; waiter->wait.lock_type == HM_LOCK_RWSEM_WRITE && r && i < r->n; i++) {
		const struct lt_task *reader = lt_task_find(t, r->tid[i]);

		if (reader && !blocker_add(out, &n, max, reader))
			break;
	}
	return n;
}

bool lt_wait_reaches(const struct lt_tracker *t, const struct lt_task *from,
		     const struct lt_task *target)
{
	const struct lt_task *visit[LT_MAX_REACH], *blocker[LT_MAX_BLOCKERS];
	size_t nvisit = 0;

	blocker_add(visit, &nvisit, LT_MAX_REACH, from);
	/* breadth-first over waiting tasks, each once: a fan-out of readers
	 * cannot make it exponential */
	for (size_t next = 0; next < nvisit; next++) {
		size_t n = lt_blockers(t, visit[next], blocker, LT_MAX_BLOCKERS);

		for (size_t i = 0; i < n; i++) {
			if (blocker[i] == target)
				return true;
			if (blocker[i]->waiting)
				blocker_add(visit, &nvisit, LT_MAX_REACH, blocker[i]);
		}
	}
	return false;
}

void lt_forget_name(struct lt_tracker *t, uint64_t lock_addr)
{
	if (lock_addr)
		free(u64map_del(&t->names, lock_addr));
}

const struct hm_device *lt_lock_device(const struct hm_lock_event *ev)
{
	return ev->lock_type == HM_LOCK_DEVICE_MUTEX || ev->lock_type == HM_LOCK_VFIO_USER
		       ? &ev->dev
		       : NULL;
}

bool lt_is_role(const struct hm_lock_event *ev, enum hm_role role)
{
	return ev->lock_type == HM_LOCK_DEVICE_MUTEX && ev->dev.role == role;
}

static const struct lt_lock_class *lock_class(const struct lt_tracker *t,
					      const struct hm_lock_event *ev)
{
	return ev->lock_addr ? u64map_get(&t->names, ev->lock_addr) : NULL;
}

const char *lt_given_name(const struct lt_tracker *t, const struct hm_lock_event *ev)
{
	const struct lt_lock_class *named = lock_class(t, ev);

	return named ? named->name : NULL;
}

/* Read and write sides of one rwsem are one lock. */
static const char *lock_kind_name(unsigned int lock_type)
{
	switch (lock_type) {
	case HM_LOCK_RWSEM_READ:
	case HM_LOCK_RWSEM_WRITE:
		return "rwsem";
	default:
		return hm_lock_type_name(lock_type);
	}
}

char *lt_lock_name(const struct lt_tracker *t, const struct hm_lock_event *ev,
		   char buf[LT_NAME_LEN])
{
	const struct lt_lock_class *named = lock_class(t, ev);
	char bdf[HM_BDF_STR_LEN], cls[HM_CLASS_STR_LEN];

	if (ev->lock_type == HM_LOCK_DEVICE_MUTEX)
		snprintf(buf, LT_NAME_LEN, "device_lock(%s %s)", hm_bdf_format(&ev->dev.bdf, bdf),
			 hm_device_class(&ev->dev, cls));
	else if (ev->lock_type == HM_LOCK_VFIO_USER)
		snprintf(buf, LT_NAME_LEN, "VFIO user of %s", hm_bdf_format(&ev->dev.bdf, bdf));
	else if (named && named->origin == HM_LOCK_ORIGIN_GLOBAL)
		snprintf(buf, LT_NAME_LEN, "%s", named->name); /* one instance: its class */
	else if (named)
		snprintf(buf, LT_NAME_LEN, "%s@%#llx", named->name,
			 (unsigned long long)ev->lock_addr);
	else
		snprintf(buf, LT_NAME_LEN, "%s@%#llx", lock_kind_name(ev->lock_type),
			 (unsigned long long)ev->lock_addr);
	return buf;
}

char *lt_class_name(const struct lt_tracker *t, const struct hm_lock_event *ev,
		    char buf[LT_NAME_LEN])
{
	const struct lt_lock_class *named = lock_class(t, ev);
	char bdf[HM_BDF_STR_LEN], role[32];
	const char *base;

	if (ev->lock_type == HM_LOCK_VFIO_USER) {
		if (ev->dev.bdf.valid)
			snprintf(buf, LT_NAME_LEN, "vfio_user(%s)", hm_bdf_format(&ev->dev.bdf, bdf));
		else
			snprintf(buf, LT_NAME_LEN, "vfio_user(dev@%#llx)",
				 (unsigned long long)ev->dev.dev_addr);
		return buf;
	}
	if (ev->lock_type == HM_LOCK_DEVICE_MUTEX) {
		snprintf(role, sizeof(role), "device_lock(%s)", hm_role_name(ev->dev.role));
		base = role;
	} else if (named)
		base = named->name;
	else
		return lt_lock_name(t, ev, buf);
	/* mutex_lock_nested() subclasses are distinct classes, as in lockdep */
	if (ev->subclass)
		snprintf(buf, LT_NAME_LEN, "%s/%u", base, ev->subclass);
	else
		snprintf(buf, LT_NAME_LEN, "%s", base);
	return buf;
}

bool lt_is_anonymous(const struct lt_tracker *t, const struct hm_lock_event *ev)
{
	return ev->lock_type != HM_LOCK_VFIO_USER && ev->lock_type != HM_LOCK_DEVICE_MUTEX &&
	       !lock_class(t, ev);
}

static uint64_t class_key_of_name(const struct lt_tracker *t, const struct hm_lock_event *ev)
{
	char name[LT_NAME_LEN];

	return lt_map_key(hm_hash_str(HM_HASH_INIT, lt_class_name(t, ev, name)));
}

/* A cheap slot choice: the address or the BDF tell most inputs apart; the
 * full compare decides. */
static size_t class_slot(const struct lt_class_input *in)
{
	uint64_t bdf = (uint64_t)in->bdf.domain << 16 | in->bdf.bus << 8 | in->bdf.devfn, h;

	h = (in->lock_addr ^ bdf << 24 ^ ((uint64_t)in->lock_type << 8 | in->role) ^
	     (uint64_t)in->subclass << 16) * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 54) % LT_CLASS_CACHE_SIZE;
}

uint64_t lt_class_key(const struct lt_tracker *t, const struct hm_lock_event *ev)
{
	struct lt_class_cache *cache = t->class_cache;
	struct lt_class_input in;
	size_t i;

	if (!cache)
		return class_key_of_name(t, ev);
	memset(&in, 0, sizeof(in));
	in.lock_type = ev->lock_type;
	in.subclass = ev->subclass;
	if (ev->lock_type == HM_LOCK_VFIO_USER) {
		/* one class per device: its BDF, else its struct device */
		in.lock_addr = ev->dev.dev_addr;
		in.bdf = ev->dev.bdf;
	} else if (lt_lock_device(ev)) {
		in.role = ev->dev.role;
	} else {
		in.lock_addr = ev->lock_addr;
	}
	i = class_slot(&in);
	if (cache->slot[i].generation != cache->generation ||
	    memcmp(&cache->slot[i].in, &in, sizeof(in))) {
		cache->slot[i].in = in;
		cache->slot[i].key = class_key_of_name(t, ev);
		cache->slot[i].generation = cache->generation;
	}
	return cache->slot[i].key;
}

char *lt_task_name(const struct hm_event_header *hdr, char buf[LT_NAME_LEN])
{
	snprintf(buf, LT_NAME_LEN, "%.*s/%u", HM_COMM_LEN, hdr->comm, hdr->tid);
	return buf;
}

void lt_add_lock_device(struct hm_finding *f, const struct hm_lock_event *ev)
{
	const struct hm_device *dev = lt_lock_device(ev);

	if (dev)
		hm_finding_add_device(f, dev);
}

char *lt_where(const struct hm_event_header *hdr, char buf[LT_WHERE_LEN])
{
	uint64_t sec = hdr->ts_ns / UINT64_C(1000000000);
	uint64_t usec = hdr->ts_ns % UINT64_C(1000000000) / 1000;

	if (hdr->stack_id >= 0)
		snprintf(buf, LT_WHERE_LEN, "%" PRIu64 ".%06" PRIu64 "s, stack #%d", sec, usec,
			 hdr->stack_id);
	else
		snprintf(buf, LT_WHERE_LEN, "%" PRIu64 ".%06" PRIu64 "s, no stack", sec, usec);
	return buf;
}
