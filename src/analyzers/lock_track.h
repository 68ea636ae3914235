/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Held-lock bookkeeping shared by the lock analyzers: which locks each task
 * holds (with the event that took them), who owns each exclusive lock, and
 * which lock a task is blocked on, and which tasks hold each rwsem for read
 * (readers are holders for the wait-for graph: a writer waits for all of
 * them). Also the names locks are reported under.
 *
 * Tracing may start mid-way and ring buffers drop records, so every update
 * tolerates the unknown: releases of locks never seen taken are ignored, and
 * a lock taken by a new owner is dropped from its stale previous owner.
 */
#ifndef HM_LOCK_TRACK_H
#define HM_LOCK_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include "hisimig/events.h"
#include "hisimig/findings.h"
#include "u64map.h"

#define LT_MAX_HELD 32          /* per task, as deep as lockdep's MAX_LOCK_DEPTH/1.5 */
#define LT_MAX_TASKS 65536      /* tasks holding or waiting for a lock at once */
#define LT_MAX_NAMES 65536      /* named (LOCK_CLASS) lock addresses remembered */
#define LT_NAME_LEN 96
#define LT_WHERE_LEN 64
#define LT_MAX_READERS 16       /* read holds of one rwsem tracked (per hold, so a
				 * recursive read counts twice) */
#define LT_MAX_BLOCKERS (LT_MAX_READERS + 8) /* tasks one wait is found to wait for */
#define LT_MAX_REACH 64         /* waiting tasks lt_wait_reaches() follows */

/* What one record does to a lock's state. */
enum lt_action {
	LT_IGNORE = 0,          /* not a lock record */
	LT_WAIT,                /* the task starts to acquire and may block */
	LT_TAKEN,               /* blocking acquisition succeeded */
	LT_INTERRUPTED,         /* blocking acquisition returned an error: not held */
	LT_TRY_TAKEN,
	LT_TRY_BUSY,
	LT_RELEASED,
};

struct lt_hold {
	struct hm_lock_event acq;       /* the record that took it */
	uint64_t class_key;             /* lt_class_key(&acq), computed once */
};

struct lt_task {
	uint32_t tid;
	unsigned int depth;
	struct lt_hold held[LT_MAX_HELD]; /* oldest first */
	bool waiting;
	struct hm_lock_event wait;        /* the LOCK_WAIT record, while waiting */
};

struct lt_stats {
	uint64_t held_overflow;         /* acquisitions beyond LT_MAX_HELD, not tracked */
	uint64_t task_overflow;         /* tasks beyond LT_MAX_TASKS, not tracked */
	uint64_t stale_holds;           /* holds dropped: another task took the lock, or a wait
					 * record's kernel-read owner denied them */
	uint64_t reader_overflow;       /* read holds beyond LT_MAX_READERS on one rwsem */
	uint64_t name_overflow;         /* LOCK_CLASS names beyond LT_MAX_NAMES, not stored */
};

/* The tasks holding one rwsem for read, one entry per hold. */
struct lt_readers {
	unsigned int n;
	uint32_t tid[LT_MAX_READERS];
};

#define LT_SPARE_TASKS 8

struct lt_class_cache;

struct lt_tracker {
	struct u64map tasks;            /* tid + 1 -> struct lt_task * */
	struct u64map owners;           /* lock_addr -> struct lt_task * (exclusive holders) */
	struct u64map readers;          /* lock_addr -> struct lt_readers * (read holders) */
	struct u64map names;            /* lock_addr -> struct lt_lock_class * (LOCK_CLASS records) */
	struct lt_stats stats;
	/* Records were lost (a full ring buffer, or hook runs the kernel
	 * skipped): a release may be missing, so a read hold the same task
	 * takes again is taken for a stale one, not for recursive locking. */
	bool releases_lost;
	/* speed only, no state of the analysis: */
	struct lt_class_cache *class_cache; /* lt_class_key() memo, NULL if none */
	struct lt_task *recent;         /* the task lt_apply() last found or added */
	struct lt_task *spare[LT_SPARE_TASKS]; /* idle tasks kept for reuse */
	unsigned int nspare;
};

/* The name of a non-device lock, from its HM_EV_LOCK_CLASS record. */
struct lt_lock_class {
	uint8_t origin;                 /* enum hm_lock_origin */
	char name[HM_FUNC_LEN + 1];
};

void lt_init(struct lt_tracker *t);
void lt_free(struct lt_tracker *t);
/* Raise out to this tracker's overflow and repair counts. */
struct hm_limits;
void lt_limits(const struct lt_tracker *t, struct hm_limits *out);

enum lt_action lt_classify(const union hm_event *ev);
/* Update the state with one record (LOCK_CLASS records name locks); returns
 * its classification. Task pointers obtained before the call may be freed by it. */
enum lt_action lt_apply(struct lt_tracker *t, const union hm_event *ev);
/* A task's read hold of a lock it reads again is real (recursive down_read):
 * true until the stream reports lost records. */
static inline bool lt_read_holds_trusted(const struct lt_tracker *t)
{
	return !t->releases_lost;
}

struct lt_task *lt_task_find(const struct lt_tracker *t, uint32_t tid);
/* The task holding lock_addr exclusively, NULL if free or unknown. */
struct lt_task *lt_owner(const struct lt_tracker *t, uint64_t lock_addr);
const struct lt_hold *lt_task_hold(const struct lt_task *task, uint64_t lock_addr);
/* The tasks that can end waiter's wait, at most max: the exclusive owner;
 * for a write wait every reader; for a read wait the writers queued before
 * it (rwsems are fair: a reader queues behind a waiting writer, even one
 * that holds the lock for read already). Returns how many. */
size_t lt_blockers(const struct lt_tracker *t, const struct lt_task *waiter,
		   const struct lt_task **out, size_t max);
/* Whether the wait's blocker is only queued ahead of it, not holding the lock. */
bool lt_is_queued_ahead(const struct lt_task *waiter, const struct lt_task *blocker);
/* Whether from's wait leads to target: target can end it, or can end the
 * wait of a task that can end it, and so on (from == target: a wait cycle).
 * Follows at most LT_MAX_REACH waiting tasks. */
bool lt_wait_reaches(const struct lt_tracker *t, const struct lt_task *from,
		     const struct lt_task *target);
/* Forget a lock's name: the lock went away and its address may be reused. */
void lt_forget_name(struct lt_tracker *t, uint64_t lock_addr);
/* An instance: "device_lock(0000:01:00.1 vf:vfio-pci)", "pci_rescan_remove_lock"
 * (a global is its own class), "mmap_lock@0xffff8881...", "VFIO user of
 * 0000:01:00.1", or "mutex@0xffff888100001000" for a lock with no name. */
char *lt_lock_name(const struct lt_tracker *t, const struct hm_lock_event *ev,
		   char buf[LT_NAME_LEN]);
/* The lockdep-style class: "device_lock(vf)" for a device mutex, by its SR-IOV
 * role only ("pf", "vf", "other"; "/1" appended for a nested subclass): the
 * driver changes with bind state (NULL while __device_attach() holds the lock
 * for probe), so it is only a label of instances; the LOCK_CLASS name of a
 * named lock ("pci_bus_sem", "mmap_lock": one class for every lock of that
 * name); "vfio_user(0000:01:00.1)" for the release of one VFIO device by its
 * user (per device: a user of one VF waits for nothing another VF's release
 * needs); else "mutex@0x..." (the instance is its own class). */
char *lt_class_name(const struct lt_tracker *t, const struct hm_lock_event *ev,
		    char buf[LT_NAME_LEN]);
/* A hash made usable as a u64map key (0 and ~0 are reserved there). */
static inline uint64_t lt_map_key(uint64_t h)
{
	return h > 1 && h != UINT64_MAX ? h : 2;
}

/* The name a LOCK_CLASS record gave the lock's address, NULL if none. */
const char *lt_given_name(const struct lt_tracker *t, const struct hm_lock_event *ev);
/* A lock nobody identified (no device, no LOCK_CLASS name): its class is
 * its address, which the kernel may free and reuse for another lock. */
bool lt_is_anonymous(const struct lt_tracker *t, const struct hm_lock_event *ev);
/* A hash of lt_class_name(), usable as a u64map key. */
uint64_t lt_class_key(const struct lt_tracker *t, const struct hm_lock_event *ev);
/* "bash/812" */
char *lt_task_name(const struct hm_event_header *hdr, char buf[LT_NAME_LEN]);
/* The device of a device mutex (or the VF of a VFIO-user wait), NULL for other locks. */
const struct hm_device *lt_lock_device(const struct hm_lock_event *ev);
/* Add the device of a device mutex to a finding; other locks have none. */
void lt_add_lock_device(struct hm_finding *f, const struct hm_lock_event *ev);
/* When and from where a record came: "1.000020s, stack #4" */
char *lt_where(const struct hm_event_header *hdr, char buf[LT_WHERE_LEN]);
bool lt_is_role(const struct hm_lock_event *ev, enum hm_role role);

#endif
