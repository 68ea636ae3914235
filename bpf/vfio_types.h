/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VFIO structures we read, which live in module BTF (vfio, vfio_pci_core),
 * not in vmlinux.h. Only the fields used; CO-RE matches them by name (the
 * ___hm suffix is ignored) against the loaded modules' BTF.
 */
#ifndef HM_VFIO_TYPES_H
#define HM_VFIO_TYPES_H

struct vfio_device_set___hm {
	struct mutex lock;
} __attribute__((preserve_access_index));

struct vfio_group___hm {
	struct mutex device_lock;
	struct mutex group_lock;
} __attribute__((preserve_access_index));

struct vfio_device___hm {
	struct vfio_device_set___hm *dev_set;
	struct vfio_group___hm *group;    /* CONFIG_VFIO_GROUP (always before 6.6) */
	struct device *dev;               /* the parent: the PCI function's device */
	unsigned int migration_flags;     /* VFIO_MIGRATION_* */
	unsigned int open_count;
} __attribute__((preserve_access_index));

struct vfio_pci_core_device___hm {
	struct vfio_device___hm vdev;
	struct pci_dev *pdev;
	struct rw_semaphore memory_lock;
	struct mutex vma_lock;            /* until 6.9 (replaced by a fault-time zap) */
} __attribute__((preserve_access_index));

/* Migration capability bits we report (HM_MIG_CAP_* mirror VFIO_MIGRATION_*). */
#define HM_MIG_CAP_MASK (HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_P2P | HM_MIG_CAP_PRE_COPY)

static __always_inline struct device *vfio_parent(struct vfio_device___hm *vdev)
{
	return BPF_CORE_READ(vdev, dev);
}

static __always_inline __u8 vfio_caps(struct vfio_device___hm *vdev)
{
	return BPF_CORE_READ(vdev, migration_flags) & HM_MIG_CAP_MASK;
}

static __always_inline __u32 vfio_open_count(struct vfio_device___hm *vdev)
{
	return bpf_core_field_exists(vdev->open_count) ? BPF_CORE_READ(vdev, open_count) : 0;
}

static __always_inline int mig_event(void *ctx, __u16 type, struct vfio_device___hm *vdev,
				     __u8 from, __u8 to, __u8 next, __s32 ret)
{
	struct hm_mig_event *e;

	if (!HM_RESERVE(e, ctx, type, true))
		return 0;
	hm_fill_device(&e->dev, vfio_parent(vdev));
	e->from = from;
	e->to = to;
	e->next = next;
	e->caps = vfio_caps(vdev);
	e->ret = ret;
	hm_submit(e);
	return 0;
}

/* The VFIO core's mutexes of this device, traced (focused mode too) and named
 * from now on: device set lock, group lock, group device-list lock. */
static __always_inline void hm_learn_vfio_locks(struct vfio_device___hm *vdev,
						const struct hm_device *dev)
{
	struct hm_learned what = { .dev = *dev, .kind = HM_LEARNED_VFIO_DEV_SET };
	struct vfio_device_set___hm *dev_set = BPF_CORE_READ(vdev, dev_set);
	struct vfio_group___hm *group = NULL;

	if (dev_set) /* addresses only: CO-RE offsets, nothing read */
		hm_learn_lock((__u64)&dev_set->lock, &what);
	if (bpf_core_field_exists(vdev->group))
		group = BPF_CORE_READ(vdev, group);
	if (!group)
		return;
	what.kind = HM_LEARNED_VFIO_GROUP;
	if (bpf_core_field_exists(group->group_lock))
		hm_learn_lock((__u64)&group->group_lock, &what);
	what.kind = HM_LEARNED_VFIO_GROUP_DEVS;
	if (bpf_core_field_exists(group->device_lock))
		hm_learn_lock((__u64)&group->device_lock, &what);
}

/* vfio-pci-core's locks of an opened device: memory_lock (BAR faults read
 * it under mmap_lock; reset and config writes take it for write) and, where
 * it exists, vma_lock. */
static __always_inline void hm_learn_vfio_pci_locks(struct vfio_pci_core_device___hm *cdev,
						    const struct hm_device *dev)
{
	struct hm_learned what = { .dev = *dev, .kind = HM_LEARNED_VFIO_MEMORY };

	if (bpf_core_field_exists(cdev->memory_lock))
		hm_learn_lock((__u64)&cdev->memory_lock, &what);
	what.kind = HM_LEARNED_VFIO_VMA;
	if (bpf_core_field_exists(cdev->vma_lock))
		hm_learn_lock((__u64)&cdev->vma_lock, &what);
}

#endif
