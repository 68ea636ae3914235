/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every hisimig BPF object shares: the maps userspace reads (ring buffer,
 * kernel stacks, per-CPU loss counter: one set, the first loaded object owns
 * them and the others reuse them), the event header, the PCI device identity
 * and the argument stash that lets kretprobe twins see their entry arguments.
 */
#ifndef HM_COMMON_BPF_H
#define HM_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hisimig/events.h"
#include "hisimig/lockcfg.h"

char LICENSE[] SEC("license") = "GPL";

#define HM_RINGBUF_BYTES (8u << 20)
#define HM_STACK_ENTRIES 16384
#define HM_MAX_ERRNO 4095

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HM_RINGBUF_BYTES);
} events SEC(".maps");

/* No BPF_F_STACK_BUILD_ID/REUSE: an id names one stack for the whole run. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, HM_STACK_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, HM_MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* Records that did not fit in the ring buffer, per CPU: never silent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * Locks learned from the VFIO hooks, shared by every object: driver.bpf.c
 * marks a task inside migration_set_state (learn_tasks), locks.bpf.c takes
 * the first mutex it then locks, unless a device mutex, as the driver's state
 * mutex; vfio.bpf.c and driver.bpf.c add the VFIO core's mutexes of the device
 * (hm_learn_vfio_locks). All go to learned_locks. The counts let the mutex
 * hot path skip both hash lookups while nothing is learning or learned.
 */
struct hm_learn_counts {
	__u64 learning;   /* tasks inside a hooked set_state callback */
	__u64 learned;    /* locks ever put in learned_locks */
	__u64 vfio_users; /* entries in vfio_users */
};

struct hm_learner {
	struct hm_learned lock; /* what its first mutex will be */
	__u64 done;             /* its first mutex was seen */
	__u64 file;             /* a migration file's struct file *, else 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hm_learn_counts);
} learn_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HM_MAX_LEARNERS);
	__type(key, __u32); /* tid */
	__type(value, struct hm_learner);
} learn_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HM_MAX_LEARNED_LOCKS);
	__type(key, __u64); /* mutex address */
	__type(value, struct hm_learned);
} learned_locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HM_MAX_MIG_FILES);
	__type(key, __u64);   /* struct file * */
	__type(value, __u64); /* its learned mutex */
} mig_files SEC(".maps");

/* tgid -> VFIO devices it opened (vfio.bpf.c): whose mmap_lock is traced */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HM_MAX_VFIO_USERS);
	__type(key, __u32);
	__type(value, __u64);
} vfio_users SEC(".maps");

static __always_inline struct hm_learn_counts *hm_learn_counts(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&learn_counts, &zero);
}

/* Learn a lock whose address a hook can compute (VFIO core mutexes). */
static __always_inline void hm_learn_lock(__u64 addr, const struct hm_learned *what)
{
	struct hm_learn_counts *counts = hm_learn_counts();
	struct hm_learned *old;

	if (!counts || !addr)
		return;
	/* a released lock's memory may come back as a new one */
	old = bpf_map_lookup_elem(&learned_locks, &addr);
	if (old && old->released)
		bpf_map_update_elem(&learned_locks, &addr, what, BPF_EXIST);
	else if (!bpf_map_update_elem(&learned_locks, &addr, what, BPF_NOEXIST))
		__sync_fetch_and_add(&counts->learned, 1);
}

/* Is addr a learned lock still traced (not released)? counts: the learn
 * counters the caller looked up (NULL: nothing learned). */
static __always_inline bool hm_counted_learned(const struct hm_learn_counts *counts, __u64 addr)
{
	struct hm_learned *what;

	if (!counts || !counts->learned)
		return false;
	what = bpf_map_lookup_elem(&learned_locks, &addr);
	return what && !what->released;
}

/* The PCI bus: a struct device on it is embedded in a struct pci_dev. An
 * untyped ksym, resolved from kallsyms (data symbols have no BTF); weak so
 * that a kernel without it loads and userspace says why nothing matches. */
extern const void pci_bus_type __ksym __weak;

static __always_inline void *hm_reserve(__u32 size)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);

	if (!rec) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&lost, &zero);

		if (n)
			*n += 1;
	}
	return rec;
}

static __always_inline void hm_header(void *ctx, struct hm_event_header *h, __u16 type,
				      __u16 size, bool want_stack)
{
	__u64 id = bpf_get_current_pid_tgid();

	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->stack_id = want_stack ? bpf_get_stackid(ctx, &stacks, 0) : -1;
	h->pad = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* Hand a record to the reader. The reader drains the ring every 100 ms
 * anyway (src/loader.c), so it is woken early only once a batch has piled up
 * (1/HM_WAKEUP_SHARE of the ring): a wakeup per record is a context switch
 * per lock operation, the largest cost of tracing a busy device lock. */
#define HM_WAKEUP_SHARE 64

static __always_inline void hm_submit(void *rec)
{
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 batch = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / HM_WAKEUP_SHARE;

	bpf_ringbuf_submit(rec, pending >= batch ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

#define HM_RESERVE(var, ctx, type, with_stack)                                   \
	({                                                                       \
		var = hm_reserve(sizeof(*var));                                  \
		if (var)                                                         \
			hm_header(ctx, &var->hdr, type, sizeof(*var), with_stack); \
		var != NULL;                                                     \
	})

/* A kernel without CONFIG_KALLSYMS_ALL (Debian's arm64 ones) has no data
 * symbols in kallsyms, so pci_bus_type resolves to 0: there the PCI bus is
 * recognised by its name, "pci", once; from then on by its address. */
static __u64 hm_pci_bus_seen;

static __always_inline bool hm_is_pci_bus(const struct bus_type *bus)
{
	char name[5]; /* "pci" and its NUL; "pci_express" does not fit */

	if (&pci_bus_type)
		return bus == &pci_bus_type;
	if (!bus)
		return false;
	if (hm_pci_bus_seen)
		return (__u64)bus == hm_pci_bus_seen;
	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(bus, name)) != 4 ||
	    name[0] != 'p' || name[1] != 'c' || name[2] != 'i')
		return false;
	hm_pci_bus_seen = (__u64)bus;
	return true;
}

static __always_inline struct device *hm_pci_device(struct device *dev)
{
	if (!dev)
		return NULL;
	return hm_is_pci_bus(BPF_CORE_READ(dev, bus)) ? dev : NULL;
}

static __always_inline struct pci_dev *hm_to_pci_dev(struct device *dev)
{
	return (void *)dev - bpf_core_field_offset(struct pci_dev, dev);
}

static __always_inline struct device *hm_pci_dev_device(struct pci_dev *pdev)
{
	return (void *)pdev + bpf_core_field_offset(struct pci_dev, dev);
}

/* The struct device whose ->mutex this is, if it is a PCI device's; other
 * mutexes (the vast majority) cost one probe read and emit nothing. */
static __always_inline struct device *hm_mutex_pci_device(struct mutex *lock)
{
	return hm_pci_device((void *)lock - bpf_core_field_offset(struct device, mutex));
}

static __always_inline int hm_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The PCI domain: the hex digits before the first ':' of the device name
 * ("0000:01:00.1"); arch-neutral, unlike bus->sysdata. */
static __always_inline __u32 hm_pci_domain(struct device *dev)
{
	char name[9] = {};
	const char *p = BPF_CORE_READ(dev, kobj.name);
	__u32 domain = 0;

	bpf_probe_read_kernel_str(name, sizeof(name), p);
#pragma unroll
	for (int i = 0; i < 8; i++) {
		int v = hm_hex(name[i]);

		if (v < 0)
			break;
		domain = domain << 4 | v;
	}
	return domain;
}

static __always_inline void hm_pci_bdf(struct pci_dev *pdev, struct hm_bdf *bdf)
{
	bdf->domain = hm_pci_domain(hm_pci_dev_device(pdev));
	bdf->bus = BPF_CORE_READ(pdev, bus, number);
	bdf->devfn = BPF_CORE_READ(pdev, devfn);
	bdf->valid = 1;
}

/* pci_iov_vf_id(): the VF's routing ID relative to the PF's first VF. */
static __always_inline __s32 hm_vf_id(struct pci_dev *vf, struct pci_dev *pf)
{
	__u32 stride = BPF_CORE_READ(pf, sriov, stride);
	__u32 first = (BPF_CORE_READ(pf, bus, number) << 8) + BPF_CORE_READ(pf, devfn) +
		      BPF_CORE_READ(pf, sriov, offset);
	__u32 rid = (BPF_CORE_READ(vf, bus, number) << 8) + BPF_CORE_READ(vf, devfn);

	if (!stride || rid < first)
		return -1;
	return (rid - first) / stride;
}

/* Everything an analyzer needs to know about a device, resolved now: the
 * trace then replays without the recording machine's sysfs. */
static __always_inline void hm_fill_device(struct hm_device *out, struct device *dev)
{
	struct pci_dev *pdev, *pf;

	__builtin_memset(out, 0, sizeof(*out));
	out->vf_id = -1;
	if (!dev)
		return;
	out->dev_addr = (__u64)dev;
	bpf_probe_read_kernel_str(out->driver, sizeof(out->driver),
				  BPF_CORE_READ(dev, driver, name));
	if (!hm_pci_device(dev))
		return;
	pdev = hm_to_pci_dev(dev);
	hm_pci_bdf(pdev, &out->bdf);
	if (BPF_CORE_READ_BITFIELD_PROBED(pdev, is_virtfn)) {
		out->role = HM_ROLE_VF;
		pf = BPF_CORE_READ(pdev, physfn);
		if (pf) {
			hm_pci_bdf(pf, &out->pf_bdf);
			out->vf_id = hm_vf_id(pdev, pf);
		}
	} else if (BPF_CORE_READ_BITFIELD_PROBED(pdev, is_physfn)) {
		out->role = HM_ROLE_PF;
	}
}

static __always_inline void hm_fill_pci_device(struct hm_device *out, struct pci_dev *pdev)
{
	hm_fill_device(out, pdev ? hm_pci_dev_device(pdev) : NULL);
}

static __always_inline __s32 hm_ptr_ret(const void *p)
{
	unsigned long v = (unsigned long)p;

	return v >= (unsigned long)-HM_MAX_ERRNO ? (__s32)v : 0;
}

/*
 * kretprobe twins cannot see their entry arguments: the kprobe twin stashes
 * them per task, function and nesting depth (a PF probe may probe VFs).
 * fentry/fexit programs have their arguments and never touch these maps.
 */
struct hm_stash_key {
	__u32 tid;
	__u16 func;
	__u16 depth;
};

struct hm_args {
	__u64 a[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct hm_stash_key);
	__type(value, struct hm_args);
} stash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct hm_stash_key); /* depth unused (0) */
	__type(value, __u16);
} stash_depth SEC(".maps");

static __always_inline void hm_stash_push(__u16 func, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	struct hm_stash_key key = { .tid = (__u32)bpf_get_current_pid_tgid(), .func = func };
	struct hm_args args = { .a = { a0, a1, a2, a3 } };
	__u16 depth = 0, *d = bpf_map_lookup_elem(&stash_depth, &key);

	if (d)
		depth = *d;
	bpf_map_update_elem(&stash_depth, &key, &(__u16){ depth + 1 }, BPF_ANY);
	key.depth = depth;
	bpf_map_update_elem(&stash, &key, &args, BPF_ANY);
}

/* false when the entry was not seen (attached between entry and return) */
static __always_inline bool hm_stash_pop(__u16 func, struct hm_args *out)
{
	struct hm_stash_key key = { .tid = (__u32)bpf_get_current_pid_tgid(), .func = func };
	__u16 *d = bpf_map_lookup_elem(&stash_depth, &key);
	struct hm_args *args;
	__u16 depth;

	if (!d || !*d)
		return false;
	depth = *d - 1;
	if (depth)
		*d = depth;
	else
		bpf_map_delete_elem(&stash_depth, &key);
	key.depth = depth;
	args = bpf_map_lookup_elem(&stash, &key);
	if (!args)
		return false;
	*out = *args;
	bpf_map_delete_elem(&stash, &key);
	return true;
}

#endif /* HM_COMMON_BPF_H */
