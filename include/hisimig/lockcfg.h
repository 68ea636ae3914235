/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the lock hooks trace: locks.bpf.c's .rodata variables known_locks[]
 * and lock_mode, set by userspace before load.
 */
#ifndef HISIMIG_LOCKCFG_H
#define HISIMIG_LOCKCFG_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "hisimig/events.h"

#define HM_MAX_KNOWN_LOCKS 8

/* Locks learned from the VFIO hooks (map learned_locks: mutex address ->
 * struct hm_learned; userspace drops a device's entries when its driver
 * unbinds or it is removed, and released ones after naming their records),
 * and tasks inside a set_state callback. */
#define HM_MAX_LEARNED_LOCKS 256
#define HM_MAX_LEARNERS 1024

/* A value of the learned_locks map: who owns the lock, and what it is. */
struct hm_learned {
	struct hm_device dev; /* the device whose driver / VFIO core owns it */
	__u32 kind;           /* enum hm_learned_kind */
	__u32 released;       /* its owner went (a migration file's release()): no
				 longer traced; userspace deletes the entry once it
				 has read the records before, so they keep the name */
};

/* What a learned lock is: its name (src/lock_names.c). */
enum hm_learned_kind {
	HM_LEARNED_STATE_MUTEX = 0, /* a variant driver's: its set_state's first mutex */
	HM_LEARNED_VFIO_DEV_SET,    /* vfio_device.dev_set->lock (open/close, reset) */
	HM_LEARNED_VFIO_GROUP,      /* vfio_device.group->group_lock */
	HM_LEARNED_VFIO_GROUP_DEVS, /* vfio_device.group->device_lock (its device list) */
	HM_LEARNED_VFIO_MEMORY,     /* vfio_pci_core_device.memory_lock (rwsem: BAR access
				       vs reset and power state) */
	HM_LEARNED_VFIO_VMA,        /* vfio_pci_core_device.vma_lock (mmap zap, up to 6.9) */
	HM_LEARNED_MIG_FILE,        /* a variant driver's migration file mutex: the first
				       mutex of its file's read()/write(); dev has only
				       the driver's name */
};

/* Migration files whose mutex was learned (map mig_files: struct file * ->
 * mutex address), so the driver's release() forgets it with the file. */
#define HM_MAX_MIG_FILES 256

/* Processes with an open VFIO device (map vfio_users, tgid -> opens): their
 * mmap_lock is traced in focused mode, where a VFIO user's page faults and
 * ioctls meet the device's locks. */
#define HM_MAX_VFIO_USERS 256

enum hm_lock_mode {
	/* production: PCI device mutexes, the known globals (mutexes and
	 * rwsems), learned VFIO/driver locks and VFIO users' mmap_lock; a
	 * non-matching lock costs a probe read, a few compares and a lookup */
	HM_LOCKS_FOCUSED = 0,
	/* CI: every mutex and rwsem, so cycles through locks nobody listed are
	 * found; every such operation of the system goes through the ring buffer */
	HM_LOCKS_FULL = 1,
};

#endif
