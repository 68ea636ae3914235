/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building event streams by hand: unit tests feed them to analyzers directly,
 * `hisimig-trace gen` writes them as trace files. Each helper appends events
 * exactly as the BPF programs would emit them for that kernel action.
 */
#ifndef HM_SCENARIO_BUILDER_H
#define HM_SCENARIO_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hisimig/events.h"
#include "stacks.h"
#include "u64map.h"

/* Offset of `mutex` in struct device used for synthetic lock addresses. */
#define SCN_DEV_MUTEX_OFFSET 0x78

struct scn_task {
	uint32_t pid, tid, cpu;
	char comm[HM_COMM_LEN];
};

/* Where a streaming scenario's events go (gen: the trace file). */
struct scn_sink {
	bool (*event)(void *ctx, const union hm_event *ev, size_t len);
	void *ctx;
};

struct scenario {
	union hm_event *events;       /* all of them; with a sink, the last `cap` */
	size_t count, cap;            /* count: every event appended so far */
	struct scn_sink sink;
	size_t flushed;               /* events handed to the sink */
	bool sink_failed;
	uint64_t now_ns;              /* timestamp of the next event */
	uint64_t step_ns;             /* added after each event */
	struct hm_stacks *stacks;
	int32_t next_stack_id;
	uint64_t next_symbol_addr;
	size_t target_events;         /* scalable scenarios: about this many events (gen --events) */
	struct u64map stack_ids;      /* frame names' hash -> stack id + 1 */
};

struct scenario *scn_new(void);
void scn_free(struct scenario *s);
/* Stream events to sink in batches instead of keeping them all (memory stays
 * bounded for any --events); scn_flush() hands over the rest. */
struct scenario *scn_new_streaming(struct scn_sink sink);
bool scn_flush(struct scenario *s);

struct scn_task scn_task(uint32_t tid, const char *comm);
/* bdf "0000:01:00.1"; pf_bdf only for a VF (NULL otherwise); driver may be "". */
struct hm_device scn_device(const char *bdf, enum hm_role role, const char *pf_bdf,
			    const char *driver);
uint64_t scn_lock_addr(const struct hm_device *dev);

void scn_advance(struct scenario *s, uint64_t ns);
/* Register a stack from innermost to outermost frame names, NULL-terminated.
 * The same frames give the same id, as the kernel's stack map does. */
int32_t scn_stack(struct scenario *s, const char *frame, ...) __attribute__((sentinel));

/* Append a raw record (header fields from task, time, stack) and return it. */
union hm_event *scn_append(struct scenario *s, const struct scn_task *t,
			   enum hm_event_type type, int32_t stack_id);

/* device_lock(): a wait then the acquisition */
void scn_lock(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
	      int32_t stack_id);
void scn_lock_wait(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
		   int32_t stack_id);
/* A wait whose owner the kernel read (as the BPF hooks do): owner_tid 0 = free. */
void scn_lock_wait_owner(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
			 uint32_t owner_tid, int32_t stack_id);
void scn_lock_acquired(struct scenario *s, const struct scn_task *t,
		       const struct hm_device *dev, int32_t stack_id);
void scn_trylock(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
		 int taken, int32_t stack_id);
void scn_unlock(struct scenario *s, const struct scn_task *t, const struct hm_device *dev);

/* A lock that is not a device mutex, named by a LOCK_CLASS record appended
 * now (as the live side does before the lock's first event). */
struct scn_named_lock {
	uint64_t addr;
	uint8_t origin;               /* enum hm_lock_origin */
};
struct scn_named_lock scn_named_lock(struct scenario *s, const char *name,
				     enum hm_lock_origin origin, uint64_t addr);
/* kind: HM_LOCK_MUTEX, HM_LOCK_RWSEM_READ or HM_LOCK_RWSEM_WRITE */
void scn_nlock_wait(struct scenario *s, const struct scn_task *t, const struct scn_named_lock *l,
		    enum hm_lock_type kind, int32_t stack_id);
/* a wait with the exclusive owner the kernel read (0: none) */
void scn_nlock_wait_owner(struct scenario *s, const struct scn_task *t,
			  const struct scn_named_lock *l, enum hm_lock_type kind, uint32_t owner_tid,
			  int32_t stack_id);
void scn_nlock(struct scenario *s, const struct scn_task *t, const struct scn_named_lock *l,
	       enum hm_lock_type kind, int32_t stack_id);
void scn_ntrylock(struct scenario *s, const struct scn_task *t, const struct scn_named_lock *l,
		  enum hm_lock_type kind, int taken, int32_t stack_id);
void scn_nunlock(struct scenario *s, const struct scn_task *t, const struct scn_named_lock *l,
		 enum hm_lock_type kind);

void scn_sriov(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	       const struct hm_device *pf, int num_vfs, int ret);
void scn_vf(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	    const struct hm_device *vf);
void scn_bind(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	      const struct hm_device *dev, int ret);
void scn_drvdata(struct scenario *s, const struct scn_task *t, const struct hm_device *vf,
		 const struct hm_device *pf, enum hm_drvdata_access access, int ret,
		 const char *accessor);
void scn_vfio(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	      const struct hm_device *dev, int ret);
void scn_mig(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	     const struct hm_device *dev, enum hm_mig_state from, enum hm_mig_state to,
	     enum hm_mig_state next, int ret);
/* A whole set-state call as the core and a driver emit it: begin, one step per
 * arc along the FSM path given (from, via..., to), end. caps as HM_MIG_CAP_*. */
void scn_mig_set_state(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
		       uint8_t caps, const enum hm_mig_state *path, size_t path_len, int ret);
void scn_mig_data(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
		  enum hm_mig_data_dir dir, uint64_t bytes);
void scn_reset(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
	       enum hm_reset_kind kind);
void scn_lost(struct scenario *s, uint64_t lost, uint32_t cpu);
/* A work item, workqueue or completion record (HM_EV_WORK_* .. HM_EV_COMPLETE):
 * addr the work_struct (or completion), wq its workqueue (0 none). */
struct scn_work {
	uint64_t addr;
	uint64_t wq;
	const char *func;             /* the work function, NULL for a completion */
	const char *wq_name;
};
void scn_work_event(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
		    const struct scn_work *w, int ret, int32_t stack_id);

/* Record size of event i (for feeding hm_engine_feed / analyzers; not streaming). */
size_t scn_size(const struct scenario *s, size_t i);

#endif
