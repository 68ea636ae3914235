/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cross-task waits, included by locks.bpf.c (the lock hooks report which
 * worker runs): a kworker running a work item (process_one_work), a task
 * flushing one (flush_work) or cancelling it (__flush_work from
 * cancel_work_sync()), flushing a workqueue (__flush_workqueue), waiting for
 * a completion (the exported wait_for_completion*()) and completing one
 * (complete, complete_all).
 *
 * Work runs are many and nearly all irrelevant: a run is sent only when
 * its worker first reports a traced lock (hm_work_note() from the lock
 * hooks), its end only then. complete() is sent only for a completion a
 * task is waiting for.
 */
#ifndef HM_WORK_BPF_H
#define HM_WORK_BPF_H

#include "common.bpf.h"

#define HM_MAX_WORK_RUNS 4096
#define HM_MAX_COMPLETION_WAITS 4096

struct hm_work_run {
	__u64 work;
	__u64 worker;
	__u64 func;             /* set when sent */
	__u64 wq;
	__u8 sent;
	char wq_name[HM_DRIVER_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HM_MAX_WORK_RUNS);
	__type(key, __u32); /* worker tid */
	__type(value, struct hm_work_run);
} work_runs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HM_MAX_COMPLETION_WAITS);
	__type(key, __u64);   /* struct completion * */
	__type(value, __u32); /* tasks waiting */
} completion_waits SEC(".maps");

/* Work runs in progress: the lock hooks skip the lookup while none runs. */
static __u64 hm_work_runs_active;

static __always_inline struct hm_work_event *work_reserve(void *ctx, __u16 type, bool stack)
{
	struct hm_work_event *e;

	if (!HM_RESERVE(e, ctx, type, stack))
		return NULL;
	e->work_addr = 0;
	e->wq_addr = 0;
	e->func = 0;
	e->ret = 0;
	e->pad = 0;
	__builtin_memset(e->func_name, 0, sizeof(e->func_name));
	__builtin_memset(e->wq_name, 0, sizeof(e->wq_name));
	return e;
}

static __always_inline void work_read_wq_name(char *dst, struct workqueue_struct *wq)
{
	if (wq)
		bpf_probe_read_kernel_str(dst, HM_DRIVER_LEN, &wq->name);
}

/* From the lock hooks, before a lock record: the worker's run, once. */
static __always_inline void hm_work_note(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct hm_work_run *r;
	struct hm_work_event *e;
	struct worker *worker;
	struct workqueue_struct *wq;

	if (!hm_work_runs_active)
		return;
	r = bpf_map_lookup_elem(&work_runs, &tid);
	if (!r || r->sent)
		return;
	worker = (void *)r->worker;
	/* process_one_work() has set them by the time the function runs */
	r->func = (__u64)BPF_CORE_READ(worker, current_func);
	wq = BPF_CORE_READ(worker, current_pwq, wq);
	r->wq = (__u64)wq;
	work_read_wq_name(r->wq_name, wq);
	e = work_reserve(ctx, HM_EV_WORK_RUN_BEGIN, true);
	if (!e)
		return;
	r->sent = 1;
	e->work_addr = r->work;
	e->wq_addr = r->wq;
	e->func = r->func;
	__builtin_memcpy(e->wq_name, r->wq_name, sizeof(e->wq_name));
	hm_submit(e);
}

static __always_inline int work_run_begin(struct worker *worker, struct work_struct *work)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct hm_work_run r = { .work = (__u64)work, .worker = (__u64)worker };

	if (!bpf_map_update_elem(&work_runs, &tid, &r, BPF_ANY))
		__sync_fetch_and_add(&hm_work_runs_active, 1);
	return 0;
}

static __always_inline int work_run_end(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct hm_work_run *r = bpf_map_lookup_elem(&work_runs, &tid);
	struct hm_work_event *e;

	if (!r)
		return 0;
	if (r->sent && (e = work_reserve(ctx, HM_EV_WORK_RUN_END, false))) {
		e->work_addr = r->work;
		e->wq_addr = r->wq;
		e->func = r->func;
		__builtin_memcpy(e->wq_name, r->wq_name, sizeof(e->wq_name));
		hm_submit(e);
	}
	bpf_map_delete_elem(&work_runs, &tid);
	__sync_fetch_and_add(&hm_work_runs_active, -1);
	return 0;
}

SEC("fentry/process_one_work")
int BPF_PROG(process_one_work_fentry, struct worker *worker, struct work_struct *work)
{
	return work_run_begin(worker, work);
}

SEC("fexit/process_one_work")
int BPF_PROG(process_one_work_fexit, struct worker *worker, struct work_struct *work)
{
	return work_run_end(ctx);
}

SEC("kprobe/process_one_work")
int BPF_KPROBE(process_one_work_kprobe, struct worker *worker, struct work_struct *work)
{
	return work_run_begin(worker, work);
}

SEC("kretprobe/process_one_work")
int BPF_KRETPROBE(process_one_work_kretprobe)
{
	return work_run_end(ctx);
}

/*
 * ---- flush_work() and cancel_work_sync() ----
 * flush_work() is exported, so always out of line; Debian's 6.1 inlines
 * __flush_work() into it and keeps an out-of-line copy for the cancel
 * path (__cancel_work_timer), so the cancel is hooked there, from_cancel
 * set. Where __flush_work() is not inlined its flush_work() call
 * (from_cancel false) is skipped: one record per flush.
 */

static __always_inline int flush_work_event(void *ctx, __u16 type, struct work_struct *work,
					    __s32 ret)
{
	struct hm_work_event *e = work_reserve(ctx, type, type == HM_EV_WORK_FLUSH_BEGIN);

	if (!e)
		return 0;
	e->work_addr = (__u64)work;
	if (type == HM_EV_WORK_FLUSH_BEGIN)
		e->func = (__u64)BPF_CORE_READ(work, func);
	e->ret = ret;
	hm_submit(e);
	return 0;
}

SEC("fentry/flush_work")
int BPF_PROG(flush_work_fentry, struct work_struct *work)
{
	return flush_work_event(ctx, HM_EV_WORK_FLUSH_BEGIN, work, 0);
}

SEC("fexit/flush_work")
int BPF_PROG(flush_work_fexit, struct work_struct *work, bool ret)
{
	return flush_work_event(ctx, HM_EV_WORK_FLUSH_END, work, ret);
}

SEC("kprobe/flush_work")
int BPF_KPROBE(flush_work_kprobe, struct work_struct *work)
{
	hm_stash_push(F_FLUSH_WORK, (__u64)work, 0, 0, 0);
	return flush_work_event(ctx, HM_EV_WORK_FLUSH_BEGIN, work, 0);
}

SEC("kretprobe/flush_work")
int BPF_KRETPROBE(flush_work_kretprobe, bool ret)
{
	struct hm_args a;

	if (!hm_stash_pop(F_FLUSH_WORK, &a))
		return 0;
	return flush_work_event(ctx, HM_EV_WORK_FLUSH_END, (void *)a.a[0], ret);
}

SEC("fentry/__flush_work")
int BPF_PROG(__flush_work_fentry, struct work_struct *work, bool from_cancel)
{
	return from_cancel ? flush_work_event(ctx, HM_EV_WORK_FLUSH_BEGIN, work, 1) : 0;
}

SEC("fexit/__flush_work")
int BPF_PROG(__flush_work_fexit, struct work_struct *work, bool from_cancel, bool ret)
{
	return from_cancel ? flush_work_event(ctx, HM_EV_WORK_FLUSH_END, work, ret) : 0;
}

SEC("kprobe/__flush_work")
int BPF_KPROBE(__flush_work_kprobe, struct work_struct *work, bool from_cancel)
{
	if (!from_cancel)
		return 0;
	hm_stash_push(F_CANCEL_WORK, (__u64)work, 0, 0, 0);
	return flush_work_event(ctx, HM_EV_WORK_FLUSH_BEGIN, work, 1);
}

SEC("kretprobe/__flush_work")
int BPF_KRETPROBE(__flush_work_kretprobe, bool ret)
{
	struct hm_args a;

	if (!hm_stash_pop(F_CANCEL_WORK, &a))
		return 0;
	return flush_work_event(ctx, HM_EV_WORK_FLUSH_END, (void *)a.a[0], ret);
}

/* ---- flush_workqueue(): __flush_workqueue(wq) ---- */

static __always_inline int flush_wq_event(void *ctx, __u16 type, struct workqueue_struct *wq)
{
	struct hm_work_event *e = work_reserve(ctx, type, type == HM_EV_WQ_FLUSH_BEGIN);

	if (!e)
		return 0;
	e->wq_addr = (__u64)wq;
	work_read_wq_name(e->wq_name, wq);
	hm_submit(e);
	return 0;
}

SEC("fentry/__flush_workqueue")
int BPF_PROG(__flush_workqueue_fentry, struct workqueue_struct *wq)
{
	return flush_wq_event(ctx, HM_EV_WQ_FLUSH_BEGIN, wq);
}

SEC("fexit/__flush_workqueue")
int BPF_PROG(__flush_workqueue_fexit, struct workqueue_struct *wq)
{
	return flush_wq_event(ctx, HM_EV_WQ_FLUSH_END, wq);
}

SEC("kprobe/__flush_workqueue")
int BPF_KPROBE(__flush_workqueue_kprobe, struct workqueue_struct *wq)
{
	hm_stash_push(F_FLUSH_WQ, (__u64)wq, 0, 0, 0);
	return flush_wq_event(ctx, HM_EV_WQ_FLUSH_BEGIN, wq);
}

SEC("kretprobe/__flush_workqueue")
int BPF_KRETPROBE(__flush_workqueue_kretprobe)
{
	struct hm_args a;

	if (!hm_stash_pop(F_FLUSH_WQ, &a))
		return 0;
	return flush_wq_event(ctx, HM_EV_WQ_FLUSH_END, (void *)a.a[0]);
}

/* ---- completions ---- */

static __always_inline int completion_event(void *ctx, __u16 type, __u64 x, __s32 ret)
{
	struct hm_work_event *e = work_reserve(ctx, type, type != HM_EV_COMPLETION_WAIT_END);

	if (!e)
		return 0;
	e->work_addr = x;
	e->ret = ret;
	hm_submit(e);
	return 0;
}

static __always_inline int wait_begin(void *ctx, struct completion *x)
{
	__u64 addr = (__u64)x;
	__u32 one = 1, *n = bpf_map_lookup_elem(&completion_waits, &addr);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&completion_waits, &addr, &one, BPF_ANY);
	return completion_event(ctx, HM_EV_COMPLETION_WAIT_BEGIN, addr, 0);
}

static __always_inline int wait_end(void *ctx, __u64 addr, long ret)
{
	__u32 *n = bpf_map_lookup_elem(&completion_waits, &addr);

	if (n && *n > 1)
		__sync_fetch_and_add(n, -1);
	else if (n)
		bpf_map_delete_elem(&completion_waits, &addr);
	return completion_event(ctx, HM_EV_COMPLETION_WAIT_END, addr, (__s32)ret);
}

static __always_inline int completed(void *ctx, struct completion *x)
{
	__u64 addr = (__u64)x;

	if (!bpf_map_lookup_elem(&completion_waits, &addr))
		return 0;
	return completion_event(ctx, HM_EV_COMPLETE, addr, 0);
}

/*
 * The exported waits (__wait_for_common() is inlined into them on Debian's
 * 6.1). SHAPE: 1 (x) or 2 (x, timeout); RET: VOID or the return type.
 */
#define WAIT_FEXIT_VOID1(fn)                                                      \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, struct completion *x)                            \
	{                                                                         \
		return wait_end(ctx, (__u64)x, 0);                                \
	}
#define WAIT_FEXIT_RET1(fn)                                                       \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, struct completion *x, long ret)                  \
	{                                                                         \
		return wait_end(ctx, (__u64)x, ret);                              \
	}
#define WAIT_FEXIT_RET2(fn)                                                       \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, struct completion *x, unsigned long timeout, long ret) \
	{                                                                         \
		return wait_end(ctx, (__u64)x, ret);                              \
	}
#define WAIT_HOOKS(fn, fexit)                                                     \
	SEC("fentry/" #fn)                                                        \
	int BPF_PROG(fn##_fentry, struct completion *x)                           \
	{                                                                         \
		return wait_begin(ctx, x);                                        \
	}                                                                         \
	fexit(fn)                                                                 \
	SEC("kprobe/" #fn)                                                        \
	int BPF_KPROBE(fn##_kprobe, struct completion *x)                         \
	{                                                                         \
		hm_stash_push(F_WAIT_COMPLETION, (__u64)x, 0, 0, 0);              \
		return wait_begin(ctx, x);                                        \
	}                                                                         \
	SEC("kretprobe/" #fn)                                                     \
	int BPF_KRETPROBE(fn##_kretprobe, long ret)                               \
	{                                                                         \
		struct hm_args a;                                                 \
                                                                                  \
		if (!hm_stash_pop(F_WAIT_COMPLETION, &a))                         \
			return 0;                                                 \
		return wait_end(ctx, a.a[0], ret);                                \
	}

WAIT_HOOKS(wait_for_completion, WAIT_FEXIT_VOID1)
WAIT_HOOKS(wait_for_completion_io, WAIT_FEXIT_VOID1)
WAIT_HOOKS(wait_for_completion_interruptible, WAIT_FEXIT_RET1)
WAIT_HOOKS(wait_for_completion_killable, WAIT_FEXIT_RET1)
WAIT_HOOKS(wait_for_completion_timeout, WAIT_FEXIT_RET2)
WAIT_HOOKS(wait_for_completion_io_timeout, WAIT_FEXIT_RET2)
WAIT_HOOKS(wait_for_completion_interruptible_timeout, WAIT_FEXIT_RET2)
WAIT_HOOKS(wait_for_completion_killable_timeout, WAIT_FEXIT_RET2)

SEC("fentry/complete")
int BPF_PROG(complete_fentry, struct completion *x)
{
	return completed(ctx, x);
}

SEC("kprobe/complete")
int BPF_KPROBE(complete_kprobe, struct completion *x)
{
	return completed(ctx, x);
}

SEC("fentry/complete_all")
int BPF_PROG(complete_all_fentry, struct completion *x)
{
	return completed(ctx, x);
}

SEC("kprobe/complete_all")
int BPF_KPROBE(complete_all_kprobe, struct completion *x)
{
	return completed(ctx, x);
}

#endif
