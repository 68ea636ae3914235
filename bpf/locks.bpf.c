// SPDX-License-Identifier: GPL-2.0
/*
 * Device mutexes: device_lock() is an inline mutex_lock(&dev->mutex), so we
 * hook the mutex API and keep the mutexes that are a PCI device's
 * struct device.mutex; with them the other sleeping locks of the SR-IOV and
 * VFIO paths: the known globals userspace lists in known_locks (mutexes such
 * as pci_rescan_remove_lock, rwsems such as pci_bus_sem), locks learned from
 * the VFIO hooks (state mutexes, VFIO core mutexes, memory_lock) and a VFIO
 * user's mmap_lock (focused mode), or every mutex and rwsem (full mode).
 * Each function has fentry/fexit and kprobe/kretprobe twins sharing one body;
 * userspace picks one pair per function and turns the programs of absent
 * functions (the *_nested ones outside lockdep kernels) off before load.
 */
#include "common.bpf.h"

/* Set by userspace before load (the skeleton's rodata, src/bpf_objects.c):
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
	F_DOWN_READ,
	F_DOWN_READ_INTERRUPTIBLE,
	F_DOWN_READ_KILLABLE,
	F_DOWN_WRITE,
	F_DOWN_WRITE_KILLABLE,
	F_DOWN_READ_TRYLOCK,
	F_DOWN_WRITE_TRYLOCK,
	F_FLUSH_WORK,
	F_CANCEL_WORK,
	F_FLUSH_WQ,
	F_WAIT_COMPLETION,
};

#include "work.bpf.h"

#define MUTEX_FLAGS 0x07ul /* low bits of mutex.owner are flags */
#define RT_MUTEX_HAS_WAITERS 0x01ul /* low bit of rt_mutex_base.owner */

/*
 * PREEMPT_RT (the -rt-amd64 kernels): struct mutex is an rtmutex,
 * { struct rt_mutex_base rtmutex; } with a plain task pointer as owner
 * (kernel/locking/rtmutex_api.c), and no mutex.owner. These CO-RE flavours
 * let one object read either layout: the branch for the other kernel's
 * layout is dead code the verifier never sees. Both layouts are flavours,
 * so the object also compiles against either kernel's vmlinux.h.
 */
struct mutex___generic {
	atomic_long_t owner;
} __attribute__((preserve_access_index));

struct rt_mutex_base___hm {
	struct task_struct *owner;
} __attribute__((preserve_access_index));

struct mutex___rt {
	struct rt_mutex_base___hm rtmutex;
} __attribute__((preserve_access_index));

static __always_inline __u64 mutex_owner_tid(struct mutex *lock)
{
	struct mutex___generic *generic = (void *)lock;
	struct mutex___rt *rt = (void *)lock;
	struct task_struct *owner;

	if (bpf_core_field_exists(generic->owner))
		owner = (void *)(BPF_CORE_READ(generic, owner.counter) & ~MUTEX_FLAGS);
	else
		owner = (void *)((unsigned long)BPF_CORE_READ(rt, rtmutex.owner) &
				 ~RT_MUTEX_HAS_WAITERS);
	return owner ? BPF_CORE_READ(owner, pid) : 0;
}

/*
 * Is this a variant driver's state (or migration file) mutex? A task inside
 * a hooked migration_set_state callback (or migration file read/write)
 * teaches us its first mutex (a device mutex only ends the lesson); later
 * the learned address is looked up. Nothing is looked up while no callback
 * runs and nothing was learned. counts: the hook's one look at the learn
 * counters (an inlined array lookup), shared by every check it makes.
 */
static __always_inline bool learned_lock(const struct hm_learn_counts *counts, struct mutex *lock,
					 bool is_device, bool may_learn)
{
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
			if (learner->file)
				bpf_map_update_elem(&mig_files, &learner->file, &addr, BPF_ANY);
			return true;
		}
	}
	return !is_device && hm_counted_learned(counts, addr);
}

static __always_inline bool known_global(__u64 addr)
{
#pragma unroll
	for (int i = 0; i < HM_MAX_KNOWN_LOCKS; i++)
		if (known_locks[i] && known_locks[i] == addr)
			return true;
	return false;
}

/* Why this mutex is traced (enum hm_lock_origin), or ORIGIN_UNTRACKED. A
 * device mutex costs one probe read; a known global a few compares against
 * constants, a learned one an array lookup (a hash lookup once any was
 * learned); in focused mode anything else stops here. may_learn: a lock
 * attempt (not a release) that may teach a state mutex. */
static __always_inline __u8 mutex_origin(struct mutex *lock, struct device **dev, bool may_learn)
{
	*dev = hm_mutex_pci_device(lock);
	if (learned_lock(hm_learn_counts(), lock, *dev, may_learn))
		return HM_LOCK_ORIGIN_LEARNED;
	if (*dev)
		return HM_LOCK_ORIGIN_DEVICE;
	if (known_global((__u64)lock))
		return HM_LOCK_ORIGIN_GLOBAL;
	return lock_mode == HM_LOCKS_FULL ? HM_LOCK_ORIGIN_NESTED : ORIGIN_UNTRACKED;
}

/* The current task's mm->mmap_lock, where a page fault or a driver's
 * get_user_pages() takes it; NULL for kernel threads. */
static __always_inline void *current_mmap_lock(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);

	return mm ? (void *)mm + bpf_core_field_offset(struct mm_struct, mmap_lock) : NULL;
}

/* Is sem the mmap_lock of a task whose mmap_lock is traced: any task in
 * full mode, a VFIO user in focused mode (its BAR faults and ioctls are where
 * mmap_lock meets the device's locks)? Page faults take mmap_lock all the
 * time: while no VFIO device is open, focused mode neither reads
 * current->mm nor looks the task up. */
static __always_inline bool traced_mmap_lock(const struct hm_learn_counts *counts, void *sem)
{
	__u32 tgid;

	if (lock_mode == HM_LOCKS_FULL)
		return sem == current_mmap_lock();
	if (!counts || !counts->vfio_users || sem != current_mmap_lock())
		return false;
	tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&vfio_users, &tgid);
}

/* The same for an rwsem: a known global (pci_bus_sem), mmap_lock, a learned
 * one (vfio-pci-core's memory_lock), or any in full mode. */
static __always_inline __u8 rwsem_origin(struct rw_semaphore *sem)
{
	struct hm_learn_counts *counts;
	__u64 addr = (__u64)sem;

	if (known_global(addr))
		return HM_LOCK_ORIGIN_GLOBAL;
	counts = hm_learn_counts();
	if (traced_mmap_lock(counts, sem))
		return HM_LOCK_ORIGIN_MMAP;
	if (hm_counted_learned(counts, addr))
		return HM_LOCK_ORIGIN_LEARNED;
	return lock_mode == HM_LOCKS_FULL ? HM_LOCK_ORIGIN_NESTED : ORIGIN_UNTRACKED;
}

#define RWSEM_READER_OWNED 0x01ul /* rw_semaphore.owner: a reader (a hint), not a writer */
#define RWSEM_OWNER_FLAGS 0x03ul

struct rwbase_rt___hm {
	struct rt_mutex_base___hm rtmutex;
} __attribute__((preserve_access_index));

struct rw_semaphore___rt {
	struct rwbase_rt___hm rwbase;
} __attribute__((preserve_access_index));

struct rw_semaphore___generic {
	atomic_long_t owner;
} __attribute__((preserve_access_index));

/* The writer holding an rwsem, 0 when readers (or nobody) hold it: a reader
 * owner is only the last reader's hint, useless for who-waits-for-whom. */
static __always_inline __u64 rwsem_writer_tid(struct rw_semaphore *sem)
{
	struct rw_semaphore___generic *generic = (void *)sem;
	struct rw_semaphore___rt *rt = (void *)sem;
	unsigned long owner;

	if (bpf_core_field_exists(generic->owner)) {
		owner = BPF_CORE_READ(generic, owner.counter);
		if (owner & RWSEM_READER_OWNED)
			return 0;
		owner &= ~RWSEM_OWNER_FLAGS;
	} else {
		owner = (unsigned long)BPF_CORE_READ(rt, rwbase.rtmutex.owner) &
			~RT_MUTEX_HAS_WAITERS;
	}
	return owner ? BPF_CORE_READ((struct task_struct *)owner, pid) : 0;
}

static __always_inline int emit_lock(void *ctx, __u16 type, __u64 addr, __u8 lock_type,
				     __u8 origin, struct device *dev, __u64 owner_tid, __u8 call,
				     __u16 subclass, __s32 ret)
{
	struct hm_lock_event *e;

	if (type != HM_EV_LOCK_RELEASED)
		hm_work_note(ctx); /* a worker's run goes first */
	/* A stack walk is the dearest part of a record. An acquisition's
	 * stack is its WAIT's (same call, same caller chain): userspace gives
	 * the ACQUIRED record the stack of the WAIT before it
	 * (src/record_decoder.c), so only WAIT and TRYLOCK walk it. */
	if (!HM_RESERVE(e, ctx, type, type == HM_EV_LOCK_WAIT || type == HM_EV_LOCK_TRYLOCK))
		return 0;
	e->lock_addr = addr;
	e->owner_tid = owner_tid;
	e->ret = ret;
	e->lock_type = lock_type;
	e->call = call;
	e->subclass = subclass;
	hm_fill_device(&e->dev, dev); /* zeroed (vf_id -1) for other locks */
	e->origin = origin;
	e->flags = type == HM_EV_LOCK_WAIT ? HM_LOCK_F_OWNER_READ : 0;
	__builtin_memset(e->pad2, 0, sizeof(e->pad2));
	hm_submit(e);
	return 0;
}

/*
 * One event function per lock kind K, K_event(ctx, type, lock, call,
 * subclass, ret), and its filter K_tracked(lock): the hook macros below are
 * shared by mutexes and both sides of rwsems.
 */
static __always_inline int mutex_event(void *ctx, __u16 type, void *lock, __u8 call,
				       __u16 subclass, __s32 ret)
{
	struct device *dev;
	__u8 origin = mutex_origin(lock, &dev, type != HM_EV_LOCK_RELEASED);

	if (origin == ORIGIN_UNTRACKED)
		return 0;
	return emit_lock(ctx, type, (__u64)lock, dev ? HM_LOCK_DEVICE_MUTEX : HM_LOCK_MUTEX, origin,
			 dev, type == HM_EV_LOCK_WAIT ? mutex_owner_tid(lock) : 0, call, subclass,
			 ret);
}

static __always_inline bool mutex_tracked(void *lock)
{
	struct device *dev;

	return mutex_origin(lock, &dev, true) != ORIGIN_UNTRACKED;
}

static __always_inline int rwsem_event(void *ctx, __u16 type, void *sem, __u8 lock_type,
				       __u8 call, __s32 ret)
{
	__u8 origin = rwsem_origin(sem);

	if (origin == ORIGIN_UNTRACKED)
		return 0;
	return emit_lock(ctx, type, (__u64)sem, lock_type, origin, NULL,
			 type == HM_EV_LOCK_WAIT ? rwsem_writer_tid(sem) : 0, call, 0, ret);
}

static __always_inline int rwsem_read_event(void *ctx, __u16 type, void *sem, __u8 call,
					    __u16 subclass, __s32 ret)
{
	return rwsem_event(ctx, type, sem, HM_LOCK_RWSEM_READ, call, ret);
}

static __always_inline int rwsem_write_event(void *ctx, __u16 type, void *sem, __u8 call,
					     __u16 subclass, __s32 ret)
{
	return rwsem_event(ctx, type, sem, HM_LOCK_RWSEM_WRITE, call, ret);
}

static __always_inline bool rwsem_tracked(void *sem)
{
	return rwsem_origin(sem) != ORIGIN_UNTRACKED;
}
#define rwsem_read_tracked rwsem_tracked
#define rwsem_write_tracked rwsem_tracked

/*
 * Blocking acquisitions: WAIT at entry, ACQUIRED (with ret) at exit. fentry and
 * fexit may only name the arguments the function has, hence one macro per
 * shape: 1 = (lock), 2 = (lock, subclass); INT/VOID = return type.
 */
#define LOCK_FENTRY1(fn, K, call)                                                 \
	SEC("fentry/" #fn)                                                        \
	int BPF_PROG(fn##_fentry, void *lock)                                     \
	{                                                                         \
		return K##_event(ctx, HM_EV_LOCK_WAIT, lock, call, 0, 0);         \
	}
#define LOCK_FENTRY2(fn, K, call)                                                 \
	SEC("fentry/" #fn)                                                        \
	int BPF_PROG(fn##_fentry, void *lock, unsigned int sub)                   \
	{                                                                         \
		return K##_event(ctx, HM_EV_LOCK_WAIT, lock, call, sub, 0);       \
	}
#define LOCK_FEXIT_VOID1(fn, K, call)                                             \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, void *lock)                                      \
	{                                                                         \
		return K##_event(ctx, HM_EV_LOCK_ACQUIRED, lock, call, 0, 0);     \
	}
#define LOCK_FEXIT_INT1(fn, K, call)                                              \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, void *lock, int ret)                             \
	{                                                                         \
		return K##_event(ctx, HM_EV_LOCK_ACQUIRED, lock, call, 0, ret);   \
	}
#define LOCK_FEXIT_VOID2(fn, K, call)                                             \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, void *lock, unsigned int sub)                    \
	{                                                                         \
		return K##_event(ctx, HM_EV_LOCK_ACQUIRED, lock, call, sub, 0);   \
	}
#define LOCK_FEXIT_INT2(fn, K, call)                                              \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, void *lock, unsigned int sub, int ret)           \
	{                                                                         \
		return K##_event(ctx, HM_EV_LOCK_ACQUIRED, lock, call, sub, ret); \
	}
/* kprobes read registers: a missing subclass or return value is masked out.
 * The entry stashes only traced locks, so the return probe of any other lock
 * finds nothing and stays silent. */
#define LOCK_KPROBES(fn, func_id, K, call, has_sub, has_ret)                      \
	SEC("kprobe/" #fn)                                                        \
	int BPF_KPROBE(fn##_kprobe, void *lock, unsigned int sub)                 \
	{                                                                         \
		if (!K##_tracked(lock))                                           \
			return 0;                                                 \
		hm_stash_push(func_id, (__u64)lock, call, has_sub ? sub : 0, 0);  \
		return K##_event(ctx, HM_EV_LOCK_WAIT, lock, call, has_sub ? sub : 0, 0); \
	}                                                                         \
	SEC("kretprobe/" #fn)                                                     \
	int BPF_KRETPROBE(fn##_kretprobe, long ret)                               \
	{                                                                         \
		struct hm_args a;                                                 \
                                                                                  \
		if (!hm_stash_pop(func_id, &a))                                   \
			return 0;                                                 \
		return K##_event(ctx, HM_EV_LOCK_ACQUIRED, (void *)a.a[0], a.a[1], a.a[2], \
				 has_ret ? (__s32)ret : 0);                        \
	}
/* Trylock never waits: one TRYLOCK event at exit (ret 1 taken, 0 busy). */
#define TRYLOCK_HOOKS(fn, func_id, K)                                             \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_fexit, void *lock, int ret)                             \
	{                                                                         \
		return K##_event(ctx, HM_EV_LOCK_TRYLOCK, lock, HM_LOCK_CALL_PLAIN, 0, ret); \
	}                                                                         \
	SEC("kprobe/" #fn)                                                        \
	int BPF_KPROBE(fn##_kprobe, void *lock)                                   \
	{                                                                         \
		if (K##_tracked(lock))                                            \
			hm_stash_push(func_id, (__u64)lock, 0, 0, 0);             \
		return 0;                                                         \
	}                                                                         \
	SEC("kretprobe/" #fn)                                                     \
	int BPF_KRETPROBE(fn##_kretprobe, int ret)                                \
	{                                                                         \
		struct hm_args a;                                                 \
                                                                                  \
		if (!hm_stash_pop(func_id, &a))                                   \
			return 0;                                                 \
		return K##_event(ctx, HM_EV_LOCK_TRYLOCK, (void *)a.a[0], HM_LOCK_CALL_PLAIN, 0, ret); \
	}
#define UNLOCK_HOOKS(fn, K)                                                       \
	SEC("fentry/" #fn)                                                        \
	int BPF_PROG(fn##_fentry, void *lock)                                     \
	{                                                                         \
		return K##_event(ctx, HM_EV_LOCK_RELEASED, lock, HM_LOCK_CALL_PLAIN, 0, 0); \
	}                                                                         \
	SEC("kprobe/" #fn)                                                        \
	int BPF_KPROBE(fn##_kprobe, void *lock)                                   \
	{                                                                         \
		return K##_event(ctx, HM_EV_LOCK_RELEASED, lock, HM_LOCK_CALL_PLAIN, 0, 0); \
	}

/* One blocking function, all four programs: SHAPE is 1 (lock) or 2 (lock,
 * subclass), RET VOID or INT. */
#define BLOCKING_HOOKS(fn, func_id, K, call, shape, ret)                         \
	LOCK_FENTRY##shape(fn, K, call)                                           \
	LOCK_FEXIT_##ret##shape(fn, K, call)                                      \
	LOCK_KPROBES(fn, func_id, K, call, shape == 2, HOOK_RET_##ret)
#define HOOK_RET_VOID 0
#define HOOK_RET_INT 1

BLOCKING_HOOKS(mutex_lock, F_LOCK, mutex, HM_LOCK_CALL_PLAIN, 1, VOID)
BLOCKING_HOOKS(mutex_lock_interruptible, F_LOCK_INTERRUPTIBLE, mutex, HM_LOCK_CALL_INTERRUPTIBLE,
	       1, INT)
BLOCKING_HOOKS(mutex_lock_killable, F_LOCK_KILLABLE, mutex, HM_LOCK_CALL_KILLABLE, 1, INT)
/* CONFIG_DEBUG_LOCK_ALLOC kernels: mutex_lock() and friends are macros for
 * these. (mutex_lock_io() is not hooked: elsewhere it just calls mutex_lock().) */
BLOCKING_HOOKS(mutex_lock_nested, F_LOCK_NESTED, mutex, HM_LOCK_CALL_NESTED, 2, VOID)
BLOCKING_HOOKS(mutex_lock_interruptible_nested, F_LOCK_INTERRUPTIBLE_NESTED, mutex,
	       HM_LOCK_CALL_INTERRUPTIBLE, 2, INT)
BLOCKING_HOOKS(mutex_lock_killable_nested, F_LOCK_KILLABLE_NESTED, mutex, HM_LOCK_CALL_KILLABLE,
	       2, INT)
BLOCKING_HOOKS(mutex_lock_io_nested, F_LOCK_IO_NESTED, mutex, HM_LOCK_CALL_IO, 2, VOID)
TRYLOCK_HOOKS(mutex_trylock, F_TRYLOCK, mutex)
UNLOCK_HOOKS(mutex_unlock, mutex)

/*
 * rwsems (kernel/locking/rwsem.c, out of line on every config, PREEMPT_RT
 * included). The lockdep-only *_nested variants are not hooked: Debian's
 * kernels have no lockdep, and there down_read_nested() is down_read().
 */
BLOCKING_HOOKS(down_read, F_DOWN_READ, rwsem_read, HM_LOCK_CALL_PLAIN, 1, VOID)
BLOCKING_HOOKS(down_read_interruptible, F_DOWN_READ_INTERRUPTIBLE, rwsem_read,
	       HM_LOCK_CALL_INTERRUPTIBLE, 1, INT)
BLOCKING_HOOKS(down_read_killable, F_DOWN_READ_KILLABLE, rwsem_read, HM_LOCK_CALL_KILLABLE, 1, INT)
BLOCKING_HOOKS(down_write, F_DOWN_WRITE, rwsem_write, HM_LOCK_CALL_PLAIN, 1, VOID)
BLOCKING_HOOKS(down_write_killable, F_DOWN_WRITE_KILLABLE, rwsem_write, HM_LOCK_CALL_KILLABLE, 1,
	       INT)
TRYLOCK_HOOKS(down_read_trylock, F_DOWN_READ_TRYLOCK, rwsem_read)
TRYLOCK_HOOKS(down_write_trylock, F_DOWN_WRITE_TRYLOCK, rwsem_write)
UNLOCK_HOOKS(up_read, rwsem_read)
UNLOCK_HOOKS(up_write, rwsem_write)

/* The writer becomes a reader without letting go: a release of the write
 * side and an acquisition of the read side, back to back. */
static __always_inline int downgrade_event(void *ctx, void *sem)
{
	rwsem_write_event(ctx, HM_EV_LOCK_RELEASED, sem, HM_LOCK_CALL_PLAIN, 0, 0);
	return rwsem_read_event(ctx, HM_EV_LOCK_TRYLOCK, sem, HM_LOCK_CALL_PLAIN, 0, 1);
}

SEC("fentry/downgrade_write")
int BPF_PROG(downgrade_write_fentry, void *sem)
{
	return downgrade_event(ctx, sem);
}

SEC("kprobe/downgrade_write")
int BPF_KPROBE(downgrade_write_kprobe, void *sem)
{
	return downgrade_event(ctx, sem);
}
