// SPDX-License-Identifier: GPL-2.0
/*
 * Variant-driver callbacks, one object per callback function: userspace
 * opens this object once per name it hooks (a configurable list, modules that
 * may load late), points the programs at it and enables one pair.
 *   set_state:  struct file *(*migration_set_state)(struct vfio_device *, enum state)
 *   reset_done: void (*reset_done)(struct pci_dev *)
 *   use_pf_data: int f(struct <variant>_core_device *, void *): a function that
 *               dereferences the PF drvdata the VF driver cached (returns 0
 *               when it did); the variant struct begins with its
 *               vfio_pci_core_device, as vfio_pci_core requires
 *   mig_file_io: ssize_t f(struct file *, char __user *, size_t, loff_t *): a
 *               migration file's read() or write(); its first mutex is the
 *               file's own
 *   mig_file_release: int f(struct inode *, struct file *): that file's
 *               release(), which frees the mutex
 * The SEC() names carry no target: the function is known only at run time,
 * so the loader names it (bpf_program__set_attach_target() for fentry/fexit,
 * the kprobe's function for kprobe/kretprobe) in each copy of the object.
 */
#include "common.bpf.h"
#include "drvdata.bpf.h"
#include "vfio_types.h"

enum driver_func {
	F_SET_STATE = 1,
	F_USE_PF_DATA,
};

/* The hooked function's name and module, set by the loader: a use event's
 * accessor, a migration file mutex's owner. */
const volatile char hooked_func[HM_FUNC_LEN];
const volatile char hooked_module[HM_DRIVER_LEN];

/* The task's first mutex from now on will be `learner`'s (locks.bpf.c). */
static __always_inline void learn_next_mutex(const struct hm_learner *learner)
{
	struct hm_learn_counts *counts = hm_learn_counts();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (counts && !bpf_map_update_elem(&learn_tasks, &tid, learner, BPF_NOEXIST))
		__sync_fetch_and_add(&counts->learning, 1);
}

/* The callback's first mutex will be its state mutex. */
static __always_inline void learn_begin(struct vfio_device___hm *vdev)
{
	struct hm_learner learner = { .lock.kind = HM_LEARNED_STATE_MUTEX };

	hm_fill_device(&learner.lock.dev, vfio_parent(vdev));
	hm_learn_vfio_locks(vdev, &learner.lock.dev);
	learn_next_mutex(&learner);
}

static __always_inline void learn_end(void)
{
	struct hm_learn_counts *counts = hm_learn_counts();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	/* a callback entered before we attached has no entry: no count either */
	if (counts && !bpf_map_delete_elem(&learn_tasks, &tid))
		__sync_fetch_and_sub(&counts->learning, 1);
}

SEC("fentry")
int BPF_PROG(set_state_fentry, struct vfio_device___hm *vdev, __u32 new_state)
{
	learn_begin(vdev);
	return mig_event(ctx, HM_EV_MIG_SET_STATE_BEGIN, vdev, HM_MIG_UNKNOWN, new_state,
			 HM_MIG_UNKNOWN, 0);
}

SEC("fexit")
int BPF_PROG(set_state_fexit, struct vfio_device___hm *vdev, __u32 new_state, void *file)
{
	learn_end();
	return mig_event(ctx, HM_EV_MIG_SET_STATE_END, vdev, HM_MIG_UNKNOWN, new_state,
			 HM_MIG_UNKNOWN, hm_ptr_ret(file));
}

SEC("kprobe")
int BPF_KPROBE(set_state_kprobe, struct vfio_device___hm *vdev, __u32 new_state)
{
	hm_stash_push(F_SET_STATE, (__u64)vdev, new_state, 0, 0);
	learn_begin(vdev);
	return mig_event(ctx, HM_EV_MIG_SET_STATE_BEGIN, vdev, HM_MIG_UNKNOWN, new_state,
			 HM_MIG_UNKNOWN, 0);
}

SEC("kretprobe")
int BPF_KRETPROBE(set_state_kretprobe, void *file)
{
	struct hm_args a;

	learn_end();
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
	hm_submit(e);
	return 0;
}

SEC("fentry")
int BPF_PROG(reset_done_fentry, struct pci_dev *pdev)
{
	return reset_done_event(ctx, pdev);
}

SEC("kprobe")
int BPF_KPROBE(reset_done_kprobe, struct pci_dev *pdev)
{
	return reset_done_event(ctx, pdev);
}

/* The PF drvdata as the PCI core has it now: NULL once the PF driver is gone,
 * whatever pointer the VF driver kept. */
static __always_inline int use_pf_data_event(void *ctx, struct vfio_pci_core_device___hm *core,
					     int ret)
{
	struct pci_dev *vf = BPF_CORE_READ(core, pdev);
	struct pci_dev *pf = hm_physfn(vf);
	__u64 now = pf ? (__u64)BPF_CORE_READ(pf, dev.driver_data) : 0;

	return hm_drvdata_event(ctx, vf, HM_DRVDATA_USE, now, ret, hooked_func);
}

SEC("fexit")
int BPF_PROG(use_pf_data_fexit, struct vfio_pci_core_device___hm *core, void *arg, int ret)
{
	return use_pf_data_event(ctx, core, ret);
}

SEC("kprobe")
int BPF_KPROBE(use_pf_data_kprobe, struct vfio_pci_core_device___hm *core)
{
	hm_stash_push(F_USE_PF_DATA, (__u64)core, 0, 0, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(use_pf_data_kretprobe, int ret)
{
	struct hm_args a;

	if (!hm_stash_pop(F_USE_PF_DATA, &a))
		return 0;
	return use_pf_data_event(ctx, (void *)a.a[0], ret);
}

/* A migration file's read()/write(): its first mutex is the file's. The
 * device is not at hand (the file's private data is the driver's), so the
 * owner is the driver's module; the learned lock lives as long as the file. */
static __always_inline void mig_file_learn(struct file *filp)
{
	struct hm_learner learner = { .lock.kind = HM_LEARNED_MIG_FILE, .file = (__u64)filp };

	hm_fill_device(&learner.lock.dev, NULL);
#pragma unroll
	for (int i = 0; i < HM_DRIVER_LEN; i++)
		learner.lock.dev.driver[i] = hooked_module[i];
	learn_next_mutex(&learner);
}

SEC("fentry")
int BPF_PROG(mig_file_io_fentry, struct file *filp)
{
	mig_file_learn(filp);
	return 0;
}

SEC("fexit")
int BPF_PROG(mig_file_io_fexit, struct file *filp)
{
	learn_end();
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(mig_file_io_kprobe, struct file *filp)
{
	mig_file_learn(filp);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(mig_file_io_kretprobe)
{
	learn_end();
	return 0;
}

/* The file goes, and its mutex with it: no longer traced. The entry stays,
 * marked, until userspace has named the records before (it deletes it). */
static __always_inline int mig_file_forget(struct file *filp)
{
	__u64 key = (__u64)filp, lock, *learned = bpf_map_lookup_elem(&mig_files, &key);
	struct hm_learned *what;

	if (!learned)
		return 0;
	lock = *learned;
	what = bpf_map_lookup_elem(&learned_locks, &lock);
	if (what)
		what->released = 1;
	bpf_map_delete_elem(&mig_files, &key);
	return 0;
}

SEC("fentry")
int BPF_PROG(mig_file_release_fentry, struct inode *inode, struct file *filp)
{
	return mig_file_forget(filp);
}

SEC("kprobe")
int BPF_KPROBE(mig_file_release_kprobe, struct inode *inode, struct file *filp)
{
	return mig_file_forget(filp);
}
