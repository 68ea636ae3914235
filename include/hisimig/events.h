/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hisimig-trace event ABI: the records BPF programs put in the ring buffer and
 * the trace file stores. Shared verbatim by bpf/ (with vmlinux.h) and src/.
 *
 * Rules that keep it stable:
 *  - every record starts with struct hm_event_header (type tag + total size);
 *  - fixed-width types only, naturally aligned, explicit padding;
 *  - new event types are appended; a layout change bumps HM_ABI_VERSION.
 */
#ifndef HISIMIG_EVENTS_H
#define HISIMIG_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HM_ABI_VERSION 2
#define HM_COMM_LEN 16
#define HM_DRIVER_LEN 24
#define HM_FUNC_LEN 48            /* kernel function names (accessors) */
#define HM_MAX_STACK_DEPTH 32

enum hm_event_type {
	HM_EV_NONE = 0,
	/* device mutex (device_lock) and, later, other sleeping locks */
	HM_EV_LOCK_WAIT = 1,      /* task starts to acquire (may block) */
	HM_EV_LOCK_ACQUIRED = 2,  /* blocking acquisition returned (ret) */
	HM_EV_LOCK_TRYLOCK = 3,   /* ret: 1 taken, 0 busy */
	HM_EV_LOCK_RELEASED = 4,
	HM_EV_LOCK_CLASS = 5,     /* userspace, at record time: a non-device lock's name */
	/* SR-IOV (device = the PF) */
	HM_EV_SRIOV_ENABLE_BEGIN = 10,
	HM_EV_SRIOV_ENABLE_END = 11,
	HM_EV_SRIOV_DISABLE_BEGIN = 12,
	HM_EV_SRIOV_DISABLE_END = 13,
	HM_EV_VF_ADDED = 14,      /* device = the VF, device.pf_* = its PF */
	HM_EV_VF_REMOVED = 15,
	HM_EV_PF_REMOVED = 16,    /* a PF device removed (sriov event: num_vfs at removal) */
	/* driver core, per device */
	HM_EV_BIND_BEGIN = 20,
	HM_EV_BIND_END = 21,
	HM_EV_UNBIND_BEGIN = 22,
	HM_EV_UNBIND_END = 23,
	/* a VF driver reaching its PF's driver data */
	HM_EV_PF_DRVDATA = 30,
	/* VFIO */
	HM_EV_VFIO_OPEN = 40,
	HM_EV_VFIO_CLOSE = 41,
	HM_EV_VFIO_UNREGISTER_BEGIN = 42, /* may wait for the VFIO user */
	HM_EV_VFIO_UNREGISTER_END = 43,
	HM_EV_MIG_SET_STATE_BEGIN = 50,
	HM_EV_MIG_SET_STATE_END = 51,
	HM_EV_MIG_STEP = 52,      /* one arc chosen by vfio_mig_get_next_state */
	HM_EV_MIG_DATA = 53,      /* bytes saved (stop-copy) or loaded (resume) */
	HM_EV_DEVICE_RESET = 54,
	/* cross-task waits (struct hm_work_event): a task waiting for work a
	 * kworker runs, or for a completion another task signals */
	HM_EV_WORK_RUN_BEGIN = 60,   /* the worker runs work; sent before its first traced lock */
	HM_EV_WORK_RUN_END = 61,     /* only after a RUN_BEGIN was sent */
	HM_EV_WORK_FLUSH_BEGIN = 62, /* flush_work()/cancel_work_sync(): ret 1 for a cancel */
	HM_EV_WORK_FLUSH_END = 63,   /* ret: 1 it waited, 0 the work was idle */
	HM_EV_WQ_FLUSH_BEGIN = 64,   /* flush_workqueue(): work_addr 0 */
	HM_EV_WQ_FLUSH_END = 65,
	HM_EV_COMPLETION_WAIT_BEGIN = 66, /* wait_for_completion*(): work_addr = the completion */
	HM_EV_COMPLETION_WAIT_END = 67,   /* ret: the wait's result (timeout left, -ERESTARTSYS) */
	HM_EV_COMPLETE = 68,         /* complete()/complete_all() of a completion being waited for */
	/* accounting */
	HM_EV_LOST = 90,
	HM_EV_TYPE_MAX
};

enum hm_role {
	HM_ROLE_OTHER = 0,
	HM_ROLE_PF = 1,
	HM_ROLE_VF = 2,
};

enum hm_lock_type {
	HM_LOCK_DEVICE_MUTEX = 0, /* &dev->mutex, i.e. device_lock() */
	HM_LOCK_MUTEX = 1,
	HM_LOCK_RWSEM_READ = 2,
	HM_LOCK_RWSEM_WRITE = 3,
	/* analyzer-internal, never in a trace: "the VFIO user of dev releases it",
	 * held by the user process from open to close, waited for by
	 * vfio_unregister_group_dev() */
	HM_LOCK_VFIO_USER = 4,
};

/* Why a non-device lock is traced, and so how userspace names its class. */
enum hm_lock_origin {
	HM_LOCK_ORIGIN_DEVICE = 0,    /* a device mutex (lock_type says so) */
	HM_LOCK_ORIGIN_GLOBAL = 1,    /* a known global (focused set): kallsyms names it */
	HM_LOCK_ORIGIN_MMAP = 2,      /* current->mm->mmap_lock */
	HM_LOCK_ORIGIN_NESTED = 3,    /* any mutex/rwsem taken or held with a tracked one
					 (full mode): named by symbol if global */
	HM_LOCK_ORIGIN_LEARNED = 4,   /* learned from VFIO hooks: a variant driver's state mutex
					 (its set_state's first mutex), the VFIO core's device
					 set and group mutexes of an opened device */
};

/* How the lock was asked for: matters for interruptible waits in deadlocks. */
enum hm_lock_call {
	HM_LOCK_CALL_PLAIN = 0,
	HM_LOCK_CALL_INTERRUPTIBLE = 1,
	HM_LOCK_CALL_KILLABLE = 2,
	HM_LOCK_CALL_NESTED = 3,
	HM_LOCK_CALL_IO = 4,
};

/* VFIO migration uAPI v2 states (include/uapi/linux/vfio.h) */
enum hm_mig_state {
	HM_MIG_ERROR = 0,
	HM_MIG_STOP = 1,
	HM_MIG_RUNNING = 2,
	HM_MIG_STOP_COPY = 3,
	HM_MIG_RESUMING = 4,
	HM_MIG_RUNNING_P2P = 5,
	HM_MIG_PRE_COPY = 6,
	HM_MIG_PRE_COPY_P2P = 7,
	HM_MIG_NR_STATES = 8,
	HM_MIG_UNKNOWN = 0xff,    /* not observed yet */
};

/* VFIO_MIGRATION_* capability flags */
#define HM_MIG_CAP_STOP_COPY (1u << 0)
#define HM_MIG_CAP_P2P (1u << 1)
#define HM_MIG_CAP_PRE_COPY (1u << 2)

enum hm_drvdata_access {
	HM_DRVDATA_FETCH = 0,     /* pci_iov_get_pf_drvdata() and the like */
	HM_DRVDATA_USE = 1,       /* a driver path dereferencing a cached copy */
};

enum hm_mig_data_dir {
	HM_MIG_DATA_SAVE = 0,
	HM_MIG_DATA_LOAD = 1,
};

enum hm_reset_kind {
	HM_RESET_FLR = 0,         /* pci_reset_function() and friends */
	HM_RESET_DONE = 1,        /* driver's err_handler->reset_done */
	HM_RESET_BUS = 2,
};

/* PCI address as domain:bus:dev.fn */
struct hm_bdf {
	__u32 domain;
	__u8 bus;
	__u8 devfn;               /* PCI_DEVFN(slot, fn) */
	__u16 valid;              /* 0: not a PCI device / unknown */
};

/* Who a device is. Every device-bearing event carries the whole identity,
 * so a trace replays without any side table of the recording machine. */
struct hm_device {
	__u64 dev_addr;           /* struct device *: identity within one boot */
	struct hm_bdf bdf;
	struct hm_bdf pf_bdf;     /* for a VF: its PF */
	__u8 role;                /* enum hm_role */
	__u8 pad[3];
	__s32 vf_id;              /* for a VF: its index, else -1 */
	char driver[HM_DRIVER_LEN];
};

struct hm_event_header {
	__u16 type;               /* enum hm_event_type */
	__u16 size;               /* whole record, header included */
	__u32 cpu;
	__u64 ts_ns;              /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 pid;                /* tgid */
	__u32 tid;
	__s32 stack_id;           /* kernel stack; -1 none */
	__u32 pad;
	char comm[HM_COMM_LEN];
};

struct hm_lock_event {
	struct hm_event_header hdr;
	__u64 lock_addr;
	__u64 owner_tid;          /* observed owner at wait time, 0 unknown */
	__s32 ret;                /* acquired: 0 or -errno; trylock: 1/0 */
	__u8 lock_type;           /* enum hm_lock_type */
	__u8 call;                /* enum hm_lock_call */
	__u16 subclass;           /* mutex_lock_nested() subclass */
	struct hm_device dev;     /* zeroed for locks not in a struct device */
	__u8 origin;              /* enum hm_lock_origin (ABI 2) */
	__u8 flags;               /* HM_LOCK_F_* (0 in older traces) */
	__u8 pad2[6];
};

/* hm_lock_event.flags */
#define HM_LOCK_F_OWNER_READ 0x01 /* a wait's owner_tid is the kernel's exclusive owner
				     at that moment, 0 = none (free or readers): without
				     it owner_tid 0 means unknown */

/* Written by userspace before the first event of a non-device lock, so a
 * replay elsewhere names it: "pci_rescan_remove_lock", "vfio+0x10", "mmap_lock".
 * Every lock of one name is one class (lockdep: one class per global). */
struct hm_lock_class_event {
	struct hm_event_header hdr;
	__u64 lock_addr;
	__u8 origin;              /* enum hm_lock_origin */
	__u8 pad[7];
	char name[HM_FUNC_LEN];
};

struct hm_sriov_event {
	struct hm_event_header hdr;
	struct hm_device pf;
	__s32 num_vfs;            /* requested (begin) or in effect (end) */
	__s32 ret;
};

struct hm_vf_event {
	struct hm_event_header hdr;
	struct hm_device vf;      /* vf.pf_bdf names the PF */
	__u64 pf_dev_addr;
};

struct hm_bind_event {
	struct hm_event_header hdr;
	struct hm_device dev;     /* dev.driver = the driver binding/unbinding */
	__s32 ret;
	__u32 pad;
};

struct hm_drvdata_event {
	struct hm_event_header hdr;
	struct hm_device vf;      /* caller: the VF whose driver asks */
	struct hm_device pf;
	__u64 result;             /* pointer returned / used; 0 if error */
	__s32 ret;                /* 0 or -errno (ERR_PTR) */
	__u8 access;              /* enum hm_drvdata_access */
	__u8 pad[3];
	char accessor[HM_FUNC_LEN]; /* function that fetched/used it */
};

struct hm_vfio_event {
	struct hm_event_header hdr;
	struct hm_device dev;
	__s32 ret;
	__u32 open_count;         /* after the call, when known */
};

struct hm_mig_event {
	struct hm_event_header hdr;
	struct hm_device dev;
	__u8 from;                /* enum hm_mig_state; HM_MIG_UNKNOWN if unseen */
	__u8 to;                  /* requested target (set-state) or arc target (step) */
	__u8 next;                /* step: arc chosen by the core */
	__u8 caps;                /* HM_MIG_CAP_* of the device, 0 unknown */
	__s32 ret;
};

struct hm_mig_data_event {
	struct hm_event_header hdr;
	struct hm_device dev;
	__u64 bytes;
	__u8 dir;                 /* enum hm_mig_data_dir */
	__u8 pad[7];
};

struct hm_reset_event {
	struct hm_event_header hdr;
	struct hm_device dev;
	__u8 kind;                /* enum hm_reset_kind */
	__u8 pad[3];
	__s32 ret;
};

/* Work items, workqueues and completions. The function is named by
 * userspace from kallsyms when the record is read (BPF has only its address). */
struct hm_work_event {
	struct hm_event_header hdr;
	__u64 work_addr;          /* struct work_struct * (struct completion * for those) */
	__u64 wq_addr;            /* struct workqueue_struct *, 0 unknown */
	__u64 func;               /* the work function's address, 0 unknown */
	__s32 ret;
	__u32 pad;
	char func_name[HM_FUNC_LEN]; /* "" until named */
	char wq_name[HM_DRIVER_LEN];
};

struct hm_lost_event {
	struct hm_event_header hdr;
	__u64 lost;               /* records dropped since the previous report */
	__u32 lost_cpu;           /* or HM_LOST_SKIPPED_RUNS */
	__u32 pad;
};

/* lost_cpu of hook runs the kernel skipped (BPF recursion guard: the same
 * program still running on that CPU, e.g. preempted), each maybe a record. */
#define HM_LOST_SKIPPED_RUNS 0xffffffffu

#ifndef __VMLINUX_H__
/* Userspace view of any record: pick the member by hdr.type. */
union hm_event {
	struct hm_event_header hdr;
	struct hm_lock_event lock;
	struct hm_lock_class_event lock_class;
	struct hm_sriov_event sriov;
	struct hm_vf_event vf;
	struct hm_bind_event bind;
	struct hm_drvdata_event drvdata;
	struct hm_vfio_event vfio;
	struct hm_mig_event mig;
	struct hm_mig_data_event data;
	struct hm_reset_event reset;
	struct hm_work_event work;
	struct hm_lost_event lost;
};
#endif

#endif /* HISIMIG_EVENTS_H */
