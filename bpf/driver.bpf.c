// SPDX-License-Identifier: GPL-2.0
/*
 * Variant-driver callbacks, one object per callback function: userspace
 * opens this object once per name it hooks (a configurable list, modules that
 * may load late), points the programs at it and enables one pair.
 *   set_state:  struct file *(*migration_set_state)(struct vfio_device *, enum state)
 *   reset_done: void (*reset_done)(struct pci_dev *)
 * The SEC() targets are placeholders replaced before load.
 */
#include "common.bpf.h"
#include "vfio_types.h"

enum driver_func {
	F_SET_STATE = 1,
};

SEC("fentry/vfio_pci_core_close_device")
int BPF_PROG(set_state_fentry, struct vfio_device___hm *vdev, __u32 new_state)
{
	return mig_event(ctx, HM_EV_MIG_SET_STATE_BEGIN, vdev, HM_MIG_UNKNOWN, new_state,
			 HM_MIG_UNKNOWN, 0);
}

SEC("fexit/vfio_pci_core_close_device")
int BPF_PROG(set_state_fexit, struct vfio_device___hm *vdev, __u32 new_state, void *file)
{
	return mig_event(ctx, HM_EV_MIG_SET_STATE_END, vdev, HM_MIG_UNKNOWN, new_state,
			 HM_MIG_UNKNOWN, hm_ptr_ret(file));
}

SEC("kprobe/vfio_pci_core_close_device")
int BPF_KPROBE(set_state_kprobe, struct vfio_device___hm *vdev, __u32 new_state)
{
	hm_stash_push(F_SET_STATE, (__u64)vdev, new_state, 0, 0);
	return mig_event(ctx, HM_EV_MIG_SET_STATE_BEGIN, vdev, HM_MIG_UNKNOWN, new_state,
			 HM_MIG_UNKNOWN, 0);
}

SEC("kretprobe/vfio_pci_core_close_device")
int BPF_KRETPROBE(set_state_kretprobe, void *file)
{
	struct hm_args a;

	if (!hm_stash_pop(F_SET_STATE, &a))
		return 0;
	return mig_event(ctx, HM_EV_MIG_SET_STATE_END, (void *)a.a[0], HM_MIG_UNKNOWN, a.a[1],
			 HM_MIG_UNKNOWN, hm_ptr_ret(file));
}

static __always_inline int reset_done_event(void *ctx, struct pci_dev *pdev)
{
	struct hm_reset_event *e;

	if (!HM_RESERVE(e, ctx, HM_EV_DEVICE_RESET, true))
		return 0;
	hm_fill_pci_device(&e->dev, pdev);
	e->kind = HM_RESET_DONE;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	e->ret = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/vfio_pci_core_close_device")
int BPF_PROG(reset_done_fentry, struct pci_dev *pdev)
{
	return reset_done_event(ctx, pdev);
}

SEC("kprobe/vfio_pci_core_close_device")
int BPF_KPROBE(reset_done_kprobe, struct pci_dev *pdev)
{
	return reset_done_event(ctx, pdev);
}
