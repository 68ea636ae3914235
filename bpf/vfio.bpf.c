// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO core (modules vfio and vfio_pci_core): device open/close, unregister
 * (which waits for the VFIO user to let go) and each migration FSM arc chosen
 * by vfio_mig_get_next_state(). Loaded once both modules are (late if needed).
 */
#include "common.bpf.h"
#include "vfio_types.h"

enum vfio_func {
	F_ENABLE = 1,
	F_UNREGISTER,
	F_NEXT_STATE,
};

static __always_inline int vfio_event(void *ctx, __u16 type, struct vfio_device___hm *vdev,
				      struct device *dev, __s32 ret)
{
	struct hm_vfio_event *e;

	if (!HM_RESERVE(e, ctx, type, true))
		return 0;
	hm_fill_device(&e->dev, dev);
	e->ret = ret;
	e->open_count = vfio_open_count(vdev);
	hm_submit(e);
	return 0;
}

/* The opener is a VFIO user until it closes (vfio_users: its mmap_lock is
 * traced). A device closed by another process than its opener leaves the
 * count alone: it is dropped when the map is (end of the run). */
static __always_inline void vfio_user_count(bool open)
{
	struct hm_learn_counts *counts = hm_learn_counts();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *opens;

	if (!counts)
		return;
	opens = bpf_map_lookup_elem(&vfio_users, &tgid);
	if (open && opens)
		__sync_fetch_and_add(opens, 1);
	else if (open && !bpf_map_update_elem(&vfio_users, &tgid, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&counts->vfio_users, 1);
	else if (!open && opens && *opens > 1)
		__sync_fetch_and_add(opens, -1);
	else if (!open && opens && !bpf_map_delete_elem(&vfio_users, &tgid))
		__sync_fetch_and_add(&counts->vfio_users, -1);
}

/* open: vfio_pci_core_enable() is the first step of every vfio-pci(-variant) open */
static __always_inline int enable_event(void *ctx, struct vfio_pci_core_device___hm *cdev, int ret)
{
	struct device *dev = hm_pci_dev_device(BPF_CORE_READ(cdev, pdev));
	struct hm_device who;

	hm_fill_device(&who, dev);
	hm_learn_vfio_locks(&cdev->vdev, &who);
	hm_learn_vfio_pci_locks(cdev, &who);
	if (!ret)
		vfio_user_count(true);
	return vfio_event(ctx, HM_EV_VFIO_OPEN, &cdev->vdev, dev, ret);
}

SEC("fexit/vfio_pci_core_enable")
int BPF_PROG(vfio_pci_core_enable_fexit, struct vfio_pci_core_device___hm *cdev, int ret)
{
	return enable_event(ctx, cdev, ret);
}

SEC("kprobe/vfio_pci_core_enable")
int BPF_KPROBE(vfio_pci_core_enable_kprobe, struct vfio_pci_core_device___hm *cdev)
{
	hm_stash_push(F_ENABLE, (__u64)cdev, 0, 0, 0);
	return 0;
}

SEC("kretprobe/vfio_pci_core_enable")
int BPF_KRETPROBE(vfio_pci_core_enable_kretprobe, int ret)
{
	struct hm_args a;

	return hm_stash_pop(F_ENABLE, &a) ? enable_event(ctx, (void *)a.a[0], ret) : 0;
}

static __always_inline int close_event(void *ctx, struct vfio_device___hm *vdev)
{
	vfio_user_count(false);
	return vfio_event(ctx, HM_EV_VFIO_CLOSE, vdev, vfio_parent(vdev), 0);
}

SEC("fentry/vfio_pci_core_close_device")
int BPF_PROG(vfio_pci_core_close_device_fentry, struct vfio_device___hm *vdev)
{
	return close_event(ctx, vdev);
}

SEC("kprobe/vfio_pci_core_close_device")
int BPF_KPROBE(vfio_pci_core_close_device_kprobe, struct vfio_device___hm *vdev)
{
	return close_event(ctx, vdev);
}

static __always_inline int unregister_event(void *ctx, __u16 type, struct vfio_device___hm *vdev)
{
	return vfio_event(ctx, type, vdev, vfio_parent(vdev), 0);
}

SEC("fentry/vfio_unregister_group_dev")
int BPF_PROG(vfio_unregister_group_dev_fentry, struct vfio_device___hm *vdev)
{
	return unregister_event(ctx, HM_EV_VFIO_UNREGISTER_BEGIN, vdev);
}

SEC("fexit/vfio_unregister_group_dev")
int BPF_PROG(vfio_unregister_group_dev_fexit, struct vfio_device___hm *vdev)
{
	return unregister_event(ctx, HM_EV_VFIO_UNREGISTER_END, vdev);
}

SEC("kprobe/vfio_unregister_group_dev")
int BPF_KPROBE(vfio_unregister_group_dev_kprobe, struct vfio_device___hm *vdev)
{
	hm_stash_push(F_UNREGISTER, (__u64)vdev, 0, 0, 0);
	return unregister_event(ctx, HM_EV_VFIO_UNREGISTER_BEGIN, vdev);
}

SEC("kretprobe/vfio_unregister_group_dev")
int BPF_KRETPROBE(vfio_unregister_group_dev_kretprobe)
{
	struct hm_args a;

	return hm_stash_pop(F_UNREGISTER, &a) ?
		       unregister_event(ctx, HM_EV_VFIO_UNREGISTER_END, (void *)a.a[0]) : 0;
}

/* vfio_mig_get_next_state(device, cur_fsm, new_fsm, *next_fsm): one arc */
static __always_inline int step_event(void *ctx, struct vfio_device___hm *vdev, __u32 cur,
				      __u32 new, __u32 *next_p, int ret)
{
	__u32 next = HM_MIG_UNKNOWN;

	if (!ret)
		bpf_probe_read_kernel(&next, sizeof(next), next_p);
	return mig_event(ctx, HM_EV_MIG_STEP, vdev, cur, new, next, ret);
}

/* 6.1's verifier refuses ctx access to a pointer-to-enum argument (next_fsm):
 * name only the first three and fetch the pointer and the return value with
 * the helpers, which do not type-check. */
SEC("fexit/vfio_mig_get_next_state")
int BPF_PROG(vfio_mig_get_next_state_fexit, struct vfio_device___hm *vdev, __u32 cur, __u32 new)
{
	__u64 next = 0, ret = 0;

	bpf_get_func_arg(ctx, 3, &next);
	bpf_get_func_ret(ctx, &ret);
	return step_event(ctx, vdev, cur, new, (__u32 *)next, (int)ret);
}

SEC("kprobe/vfio_mig_get_next_state")
int BPF_KPROBE(vfio_mig_get_next_state_kprobe, struct vfio_device___hm *vdev, __u32 cur,
	       __u32 new, __u32 *next)
{
	hm_stash_push(F_NEXT_STATE, (__u64)vdev, cur, new, (__u64)next);
	return 0;
}

SEC("kretprobe/vfio_mig_get_next_state")
int BPF_KRETPROBE(vfio_mig_get_next_state_kretprobe, int ret)
{
	struct hm_args a;

	return hm_stash_pop(F_NEXT_STATE, &a) ?
		       step_event(ctx, (void *)a.a[0], a.a[1], a.a[2], (void *)a.a[3], ret) : 0;
}
