// SPDX-License-Identifier: GPL-2.0
/*
 * Device mutexes: device_lock() is an inline mutex_lock(&dev->mutex), so we
 * hook the mutex API and keep the mutexes that are a PCI device's
 * struct device.mutex, plus the known global mutexes userspace lists in
 * lock_cfg (focused mode), or every mutex (full mode). Each function has fentry/fexit and kprobe/kretprobe
 * twins sharing one body; userspace picks one pair per function and turns
 * the programs of absent functions (the *_nested ones outside lockdep kernels)
 * off before load.
 */
#include "common.bpf.h"

/* Set by userspace before load (src/loader.c configure_locks, by name):
 * constants to the verifier, so the hot path pays no map lookup. */
const volatile __u64 known_locks[HM_MAX_KNOWN_LOCKS] = {}; /* global mutexes, 0 unused */
const volatile __u32 lock_mode = HM_LOCKS_FOCUSED;         /* enum hm_lock_mode */

#define ORIGIN_UNTRACKED 0xff

enum lock_func {
	F_LOCK = 1,
	F_LOCK_INTERRUPTIBLE,
	F_LOCK_KILLABLE,
	F_LOCK_NESTED,
	F_LOCK_INTERRUPTIBLE_NESTED,
	F_LOCK_KILLABLE_NESTED,
	F_LOCK_IO_NESTED,
	F_TRYLOCK,
};

#define MUTEX_FLAGS 0x07ul /* low bits of mutex.owner are flags */
#define RT_MUTEX_HAS_WAITERS 0x01ul /* low bit of rt_mutex_base.owner */

/*
 * PREEMPT_RT (the -rt-amd64 kernels): struct mutex is an rtmutex,
 * { struct rt_mutex_base rtmutex; } with a plain task pointer as owner
 * (kernel/locking/rtmutex_api.c), and no mutex.owner. These CO-RE flavours
 * let one object read either layout: the branch for the other kernel's
 * layout is dead code the verifier never sees.
 */
struct rt_mutex_base___hm {
	struct task_struct *owner;
} __attribute__((preserve_access_index));

struct mutex___rt {
	struct rt_mutex_base___hm rtmutex;
} __attribute__((preserve_access_index));

static __always_inline __u64 mutex_owner_tid(struct mutex *lock)
{
	struct mutex___rt *rt = (void *)lock;
	struct task_struct *owner;

	if (bpf_core_field_exists(lock->owner))
		owner = (void *)(BPF_CORE_READ(lock, owner.counter) & ~MUTEX_FLAGS);
	else
		owner = (void *)((unsigned long)BPF_CORE_READ(rt, rtmutex.owner) &
				 ~RT_MUTEX_HAS_WAITERS);
	return owner ? BPF_CORE_READ(owner, pid) : 0;
}

/*
 * Is this the state mutex of a variant driver? A task inside a hooked
 * migration_set_state callback teaches us its first mutex (a device mutex
 * only ends the lesson); later the learned address is looked up. Nothing is
 * looked up while no callback runs and nothing was learned.
 */
static __always_inline bool learned_lock(struct mutex *lock, bool is_device, bool may_learn)
{
	struct hm_learn_counts *counts = hm_learn_counts();
	__u64 addr = (__u64)lock;
	struct hm_learner *learner;
	__u32 tid;

	if (!counts)
		return false;
	if (may_learn && counts->learning) {
		tid = (__u32)bpf_get_current_pid_tgid();
		learner = bpf_map_lookup_elem(&learn_tasks, &tid);
		if (learner && !learner->done) {
			learner->done = 1;
			if (is_device)
				return false;
			hm_learn_lock(addr, &learner->lock);
			return true;
		}
	}
	return !is_device && counts->learned && bpf_map_lookup_elem(&learned_locks, &addr);
}

/* Why this mutex is traced (enum hm_lock_origin), or ORIGIN_UNTRACKED. A
 * device mutex costs one probe read; a known global a few compares against
 * constants, a learned one an array lookup (a hash lookup once any was
 * learned); in focused mode anything else stops here. may_learn: a lock
 * attempt (not a release) that may teach a state mutex. */
static __always_inline __u8 mutex_origin(struct mutex *lock, struct device **dev, bool may_learn)
{
	*dev = hm_mutex_pci_device(lock);
	if (learned_lock(lock, *dev, may_learn))
		return HM_LOCK_ORIGIN_LEARNED;
	if (*dev)
		return HM_LOCK_ORIGIN_DEVICE;
#pragma unroll
	for (int i = 0; i < HM_MAX_KNOWN_LOCKS; i++)
		if (known_locks[i] && known_locks[i] == (__u64)lock)
			return HM_LOCK_ORIGIN_GLOBAL;
	return lock_mode == HM_LOCKS_FULL ? HM_LOCK_ORIGIN_NESTED : ORIGIN_UNTRACKED;
}

static __always_inline int lock_event(void *ctx, __u16 type, struct mutex *lock, __u8 call,
				      __u16 subclass, __s32 ret)
{
	struct device *dev;
	__u8 origin = mutex_origin(lock, &dev, type != HM_EV_LOCK_RELEASED);
	struct hm_lock_event *e;

	if (origin == ORIGIN_UNTRACKED || !HM_RESERVE(e, ctx, type, type != HM_EV_LOCK_RELEASED))
		return 0;
	e->lock_addr = (__u64)lock;
	e->owner_tid = type == HM_EV_LOCK_WAIT ? mutex_owner_tid(lock) : 0;
	e->ret = ret;
	e->lock_type = dev ? HM_LOCK_DEVICE_MUTEX : HM_LOCK_MUTEX;
	e->call = call;
	e->subclass = subclass;
	hm_fill_device(&e->dev, dev); /* zeroed (vf_id -1) for other mutexes */
	e->origin = origin;
	__builtin_memset(e->pad2, 0, sizeof(e->pad2));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* kprobe entry: stash only traced mutexes, so the return probe of any other
 * mutex finds nothing and stays silent. */
static __always_inline int lock_wait_stash(void *ctx, __u16 func, struct mutex *lock, __u8 call,
					   __u16 subclass, bool emit_wait)
{
	struct device *dev;

	if (mutex_origin(lock, &dev, true) == ORIGIN_UNTRACKED)
		return 0;
	hm_stash_push(func, (__u64)lock, call, subclass, 0);
	return emit_wait ? lock_event(ctx, HM_EV_LOCK_WAIT, lock, call, subclass, 0) : 0;
}

static __always_inline int lock_ret_stashed(void *ctx, __u16 func, __u16 type, __s32 ret)
{
	struct hm_args a;

	if (!hm_stash_pop(func, &a))
		return 0;
	return lock_event(ctx, type, (struct mutex *)a.a[0], a.a[1], a.a[2], ret);
}

/*
 * Blocking acquisitions: WAIT at entry, ACQUIRED (with ret) at exit. fentry and
 * fexit may only name the arguments the function has, hence one macro per
 * shape: 1 = (lock), 2 = (lock, subclass); INT/VOID = return type.
 */
#define LOCK_FENTRY1(fn, call)                                                    \
	SEC("fentry/" #fn)                                                        \
	int BPF_PROG(fn##_fentry, struct mutex *lock)                             \
	{                                                                         \
		return lock_event(ctx, HM_EV_LOCK_WAIT, lock, call, 0, 0);        \
	}
#define LOCK_FENTRY2(fn, call)                                                    \
	SEC("fentry/" #fn)                                                        \
	int BPF_PROG(fn##_fentry, struct mutex *lock, unsigned int sub)           \
	{                                                                         \
		return lock_event(ctx, HM_EV_LOCK_WAIT, lock, call, sub, 0);      \
	}
#define LOCK_FEXIT_VOID1(fn, call)                                                \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, struct mutex *lock)                              \
	{                                                                         \
		return lock_event(ctx, HM_EV_LOCK_ACQUIRED, lock, call, 0, 0);    \
	}
#define LOCK_FEXIT_INT1(fn, call)                                                 \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, struct mutex *lock, int ret)                     \
	{                                                                         \
		return lock_event(ctx, HM_EV_LOCK_ACQUIRED, lock, call, 0, ret);  \
	}
#define LOCK_FEXIT_VOID2(fn, call)                                                \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, struct mutex *lock, unsigned int sub)            \
	{                                                                         \
		return lock_event(ctx, HM_EV_LOCK_ACQUIRED, lock, call, sub, 0);  \
	}
#define LOCK_FEXIT_INT2(fn, call)                                                 \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, struct mutex *lock, unsigned int sub, int ret)   \
	{                                                                         \
		return lock_event(ctx, HM_EV_LOCK_ACQUIRED, lock, call, sub, ret); \
	}
/* kprobes read registers: a missing subclass or return value is masked out. */
#define LOCK_KPROBES(fn, func_id, call, has_sub, has_ret)                              \
	SEC("kprobe/" #fn)                                                             \
	int BPF_KPROBE(fn##_kprobe, struct mutex *lock, unsigned int sub)              \
	{                                                                              \
		return lock_wait_stash(ctx, func_id, lock, call, has_sub ? sub : 0, true); \
	}                                                                              \
	SEC("kretprobe/" #fn)                                                          \
	int BPF_KRETPROBE(fn##_kretprobe, long ret)                                    \
	{                                                                              \
		return lock_ret_stashed(ctx, func_id, HM_EV_LOCK_ACQUIRED,             \
					has_ret ? (__s32)ret : 0);                     \
	}

LOCK_FENTRY1(mutex_lock, HM_LOCK_CALL_PLAIN)
LOCK_FEXIT_VOID1(mutex_lock, HM_LOCK_CALL_PLAIN)
LOCK_KPROBES(mutex_lock, F_LOCK, HM_LOCK_CALL_PLAIN, 0, 0)

LOCK_FENTRY1(mutex_lock_interruptible, HM_LOCK_CALL_INTERRUPTIBLE)
LOCK_FEXIT_INT1(mutex_lock_interruptible, HM_LOCK_CALL_INTERRUPTIBLE)
LOCK_KPROBES(mutex_lock_interruptible, F_LOCK_INTERRUPTIBLE, HM_LOCK_CALL_INTERRUPTIBLE, 0, 1)

LOCK_FENTRY1(mutex_lock_killable, HM_LOCK_CALL_KILLABLE)
LOCK_FEXIT_INT1(mutex_lock_killable, HM_LOCK_CALL_KILLABLE)
LOCK_KPROBES(mutex_lock_killable, F_LOCK_KILLABLE, HM_LOCK_CALL_KILLABLE, 0, 1)

/* CONFIG_DEBUG_LOCK_ALLOC kernels: mutex_lock() and friends are macros for
 * these. (mutex_lock_io() is not hooked: elsewhere it just calls mutex_lock().) */
LOCK_FENTRY2(mutex_lock_nested, HM_LOCK_CALL_NESTED)
LOCK_FEXIT_VOID2(mutex_lock_nested, HM_LOCK_CALL_NESTED)
LOCK_KPROBES(mutex_lock_nested, F_LOCK_NESTED, HM_LOCK_CALL_NESTED, 1, 0)

LOCK_FENTRY2(mutex_lock_interruptible_nested, HM_LOCK_CALL_INTERRUPTIBLE)
LOCK_FEXIT_INT2(mutex_lock_interruptible_nested, HM_LOCK_CALL_INTERRUPTIBLE)
LOCK_KPROBES(mutex_lock_interruptible_nested, F_LOCK_INTERRUPTIBLE_NESTED,
	     HM_LOCK_CALL_INTERRUPTIBLE, 1, 1)

LOCK_FENTRY2(mutex_lock_killable_nested, HM_LOCK_CALL_KILLABLE)
LOCK_FEXIT_INT2(mutex_lock_killable_nested, HM_LOCK_CALL_KILLABLE)
LOCK_KPROBES(mutex_lock_killable_nested, F_LOCK_KILLABLE_NESTED, HM_LOCK_CALL_KILLABLE, 1, 1)

LOCK_FENTRY2(mutex_lock_io_nested, HM_LOCK_CALL_IO)
LOCK_FEXIT_VOID2(mutex_lock_io_nested, HM_LOCK_CALL_IO)
LOCK_KPROBES(mutex_lock_io_nested, F_LOCK_IO_NESTED, HM_LOCK_CALL_IO, 1, 0)

/* Trylock never waits: one TRYLOCK event at exit (ret 1 taken, 0 busy). */
SEC("fexit/mutex_trylock")
int BPF_PROG(mutex_trylock_fexit, struct mutex *lock, int ret)
{
	return lock_event(ctx, HM_EV_LOCK_TRYLOCK, lock, HM_LOCK_CALL_PLAIN, 0, ret);
}

SEC("kprobe/mutex_trylock")
int BPF_KPROBE(mutex_trylock_kprobe, struct mutex *lock)
{
	return lock_wait_stash(ctx, F_TRYLOCK, lock, HM_LOCK_CALL_PLAIN, 0, false);
}

SEC("kretprobe/mutex_trylock")
int BPF_KRETPROBE(mutex_trylock_kretprobe, int ret)
{
	return lock_ret_stashed(ctx, F_TRYLOCK, HM_EV_LOCK_TRYLOCK, ret);
}

SEC("fentry/mutex_unlock")
int BPF_PROG(mutex_unlock_fentry, struct mutex *lock)
{
	return lock_event(ctx, HM_EV_LOCK_RELEASED, lock, HM_LOCK_CALL_PLAIN, 0, 0);
}

SEC("kprobe/mutex_unlock")
int BPF_KPROBE(mutex_unlock_kprobe, struct mutex *lock)
{
	return lock_event(ctx, HM_EV_LOCK_RELEASED, lock, HM_LOCK_CALL_PLAIN, 0, 0);
}
