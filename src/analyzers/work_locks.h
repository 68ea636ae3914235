/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Work items and workqueues as lock-like objects, as lockdep models them with
 * the lockdep_map of kernel/workqueue.c: the worker running work W holds W
 * (and, shared, W's workqueue) for the run; flush_work(W) and
 * cancel_work_sync(W) wait for W; flush_workqueue(Q) waits for every run on
 * Q. wl_expand() turns those records into the lock records the lock-order
 * and deadlock analyzers already understand, so "L held, flush W" and "W
 * takes M" make the dependency L -> W -> M, and a flusher blocked on a
 * running W waits for its worker.
 */
#ifndef HM_WORK_LOCKS_H
#define HM_WORK_LOCKS_H

#include <stdbool.h>
#include <stdint.h>
#include "hisimig/events.h"
#include "u64map.h"

/* Pseudo-lock addresses: never a mutex's (8-byte aligned) nor a VFIO
 * user's (device address | 1). */
#define WL_WORK_TAG 2u
#define WL_WQ_TAG 3u

struct wl_expander {
	struct u64map named;            /* pseudo address -> hash of the name it was given */
	struct u64map running;          /* work_addr -> worker tid + 1 */
};

typedef void (*wl_sink)(void *ctx, const union hm_event *ev);

void wl_init(struct wl_expander *x);
void wl_free(struct wl_expander *x);
/* Feed one record; the lock records it stands for go to sink (none for
 * other records). */
void wl_expand(struct wl_expander *x, const union hm_event *ev, wl_sink sink, void *ctx);

/* "work:hmtest_vf_pf_work" (or "work:0x..." when unnamed) */
void wl_work_name(const struct hm_work_event *e, char *buf, size_t len);
/* "wq:events_unbound" */
void wl_wq_name(const struct hm_work_event *e, char *buf, size_t len);
bool wl_is_work_record(unsigned int type);

#endif
