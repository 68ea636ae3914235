// SPDX-License-Identifier: GPL-2.0
#include "targets.h"

#include <stdio.h>
#include <string.h>

#define LOCKS(fn, why) { fn, NULL, HM_OBJ_LOCKS, fn, why, false }
#define RELEASE(fn, why) { fn, NULL, HM_OBJ_LOCKS, fn, why, true }
#define PCI(fn, why) { fn, NULL, HM_OBJ_PCI, fn, why, false }
#define VFIO(fn, mod, why) { fn, mod, HM_OBJ_VFIO, fn, why, false }

const struct hm_target hm_targets[] = {
	RELEASE("mutex_unlock", "device mutex released"),
	RELEASE("up_read", "rwsem read side released"),
	RELEASE("up_write", "rwsem write side released"),
	RELEASE("downgrade_write", "rwsem write side turned read"),
	LOCKS("process_one_work", "a kworker runs a work item (holds it, lockdep-style)"),
	LOCKS("flush_work", "flush_work(): waits for a work item"),
	LOCKS("__flush_work", "cancel_work_sync(): waits for a running work item"),
	LOCKS("__flush_workqueue", "flush_workqueue(): waits for a workqueue"),
	LOCKS("wait_for_completion", "waits for another task's complete()"),
	LOCKS("wait_for_completion_io", "waits for another task's complete()"),
	LOCKS("wait_for_completion_interruptible", "waits for another task's complete()"),
	LOCKS("wait_for_completion_killable", "waits for another task's complete()"),
	LOCKS("wait_for_completion_timeout", "waits for another task's complete()"),
	LOCKS("wait_for_completion_io_timeout", "waits for another task's complete()"),
	LOCKS("wait_for_completion_interruptible_timeout", "waits for another task's complete()"),
	LOCKS("wait_for_completion_killable_timeout", "waits for another task's complete()"),
	LOCKS("complete", "completes a completion someone waits for"),
	LOCKS("complete_all", "completes a completion for every waiter"),
	LOCKS("mutex_trylock", "device mutex trylock"),
	LOCKS("mutex_lock", "device_lock(): wait and acquire"),
	LOCKS("mutex_lock_interruptible", "device mutex, interruptible"),
	LOCKS("mutex_lock_killable", "device mutex, killable"),
	LOCKS("mutex_lock_nested", "mutex_lock() on lockdep kernels"),
	LOCKS("mutex_lock_interruptible_nested", "interruptible, lockdep kernels"),
	LOCKS("mutex_lock_killable_nested", "killable, lockdep kernels"),
	LOCKS("mutex_lock_io_nested", "mutex_lock_io(), lockdep kernels"),
	LOCKS("down_read", "rwsem read: pci_bus_sem, memory_lock, mmap_lock"),
	LOCKS("down_read_interruptible", "rwsem read, interruptible"),
	LOCKS("down_read_killable", "rwsem read, killable (mmap_read_lock_killable)"),
	LOCKS("down_read_trylock", "rwsem read trylock (page faults)"),
	LOCKS("down_write", "rwsem write: bus add/remove, reset vs BAR access"),
	LOCKS("down_write_killable", "rwsem write, killable (mmap_write_lock_killable)"),
	LOCKS("down_write_trylock", "rwsem write trylock"),
	PCI("sriov_enable", "SR-IOV enable on a PF (pci_enable_sriov)"),
	PCI("sriov_disable", "SR-IOV disable on a PF (pci_disable_sriov)"),
	PCI("pci_iov_add_virtfn", "VF added"),
	PCI("pci_device_add", "names the VF being added"),
	PCI("pci_iov_remove_virtfn", "VF removed"),
	PCI("pci_stop_and_remove_bus_device", "names the VF being removed; a PF removed"),
	PCI("pci_device_probe", "driver bind"),
	PCI("pci_device_remove", "driver unbind"),
	PCI("pci_iov_get_pf_drvdata", "VF driver fetching its PF's drvdata"),
	PCI("pci_reset_function", "function reset"),
	VFIO("vfio_pci_core_enable", "vfio_pci_core", "VFIO device open"),
	VFIO("vfio_pci_core_close_device", "vfio_pci_core", "VFIO device close"),
	VFIO("vfio_unregister_group_dev", "vfio", "VFIO unregister (waits for the user)"),
	VFIO("vfio_mig_get_next_state", "vfio", "migration FSM step"),
};
const size_t hm_target_count = sizeof(hm_targets) / sizeof(hm_targets[0]);

#define SET_STATE(fn, mod) { fn, mod, HM_OBJ_DRIVER, "set_state", "migration set_state callback", false }
#define RESET_DONE(fn, mod) { fn, mod, HM_OBJ_DRIVER, "reset_done", "driver reset_done callback", false }
#define MIG_FILE_IO(fn, mod) { fn, mod, HM_OBJ_DRIVER, "mig_file_io", "migration file read/write: its mutex", false }
#define MIG_FILE_RELEASE(fn, mod) { fn, mod, HM_OBJ_DRIVER, "mig_file_release", "migration file release: its mutex freed", false }
/* int fn(variant core device *, x): dereferences the PF drvdata cached at probe */
#define PF_DATA_USE(fn, mod) { fn, mod, HM_OBJ_DRIVER, "use_pf_data", "VF driver using cached PF drvdata", false }

const struct hm_target hm_driver_targets[] = {
	SET_STATE("hisi_acc_vfio_pci_set_device_state", "hisi_acc_vfio_pci"),
	SET_STATE("mlx5vf_pci_set_device_state", "mlx5_vfio_pci"),
	SET_STATE("pds_vfio_set_device_state", "pds_vfio_pci"),
	SET_STATE("virtiovf_pci_set_device_state", "virtio_vfio_pci"),
	SET_STATE("hmtest_vf_set_device_state", "hmtest_vf"), /* tests/kmod */
	RESET_DONE("hisi_acc_vf_pci_aer_reset_done", "hisi_acc_vfio_pci"),
	RESET_DONE("hmtest_vf_reset_done", "hmtest_vf"),
	MIG_FILE_IO("hisi_acc_vf_save_read", "hisi_acc_vfio_pci"),
	MIG_FILE_IO("hisi_acc_vf_resume_write", "hisi_acc_vfio_pci"),
	MIG_FILE_RELEASE("hisi_acc_vf_release_file", "hisi_acc_vfio_pci"),
	MIG_FILE_IO("mlx5vf_save_read", "mlx5_vfio_pci"),
	MIG_FILE_IO("mlx5vf_resume_write", "mlx5_vfio_pci"),
	MIG_FILE_RELEASE("mlx5vf_release_file", "mlx5_vfio_pci"),
	MIG_FILE_IO("pds_vfio_save_read", "pds_vfio_pci"),
	MIG_FILE_IO("pds_vfio_restore_write", "pds_vfio_pci"),
	MIG_FILE_RELEASE("pds_vfio_release_file", "pds_vfio_pci"),
	MIG_FILE_IO("hmtest_vf_save_read", "hmtest_vf"),
	MIG_FILE_IO("hmtest_vf_resume_write", "hmtest_vf"),
	MIG_FILE_RELEASE("hmtest_vf_release_file", "hmtest_vf"),
	/* hisi_acc_vdev->pf_qm readers (6.1, 6.12); inlined in most builds */
	PF_DATA_USE("vf_qm_get_match_data", "hisi_acc_vfio_pci"),
	PF_DATA_USE("vf_qm_check_match", "hisi_acc_vfio_pci"),
	PF_DATA_USE("hmtest_vf_use_pf_data", "hmtest_vf"),
};
const size_t hm_driver_target_count = sizeof(hm_driver_targets) / sizeof(hm_driver_targets[0]);

struct hm_target hm_driver_set_state_target(const char *func)
{
	return (struct hm_target)SET_STATE(func, "");
}

const struct hm_known_lock hm_known_locks[] = {
	{ "pci_rescan_remove_lock", "pci_lock_rescan_remove(): sysfs remove/rescan, hotplug" },
	{ "pci_slot_mutex", "PCI slot list" },
	{ "device_hotplug_lock", "lock_device_hotplug(): device online/offline" },
	{ "pci_bus_sem", "rwsem: PCI bus and device lists (pci_walk_bus, bus add/remove)" },
};
const size_t hm_known_lock_count = sizeof(hm_known_locks) / sizeof(hm_known_locks[0]);

static const char *const lock_mode_names[] = { "focused", "full" };

bool hm_lock_mode_parse(const char *text, unsigned int *mode)
{
	for (unsigned int i = 0; i < sizeof(lock_mode_names) / sizeof(lock_mode_names[0]); i++)
		if (!strcmp(text, lock_mode_names[i])) {
			*mode = i;
			return true;
		}
	return false;
}

const char *hm_lock_mode_name(unsigned int mode)
{
	return mode < sizeof(lock_mode_names) / sizeof(lock_mode_names[0]) ? lock_mode_names[mode]
									   : "unknown";
}

bool hm_attach_pref_parse(const char *text, enum hm_attach_pref *out)
{
	static const char *const names[] = { "auto", "fentry", "kprobe" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(text, names[i])) {
			*out = (enum hm_attach_pref)i;
			return true;
		}
	return false;
}

const char *hm_attach_mode_name(enum hm_attach_mode mode)
{
	return mode == HM_MODE_FENTRY ? "fentry" : mode == HM_MODE_KPROBE ? "kprobe" : "missing";
}

static void missing(struct hm_plan *p, bool later, const char *fmt, const char *arg)
{
	p->mode = HM_MODE_MISSING;
	p->later = later;
	snprintf(p->reason, sizeof(p->reason), fmt, arg);
}

void hm_plan_target(struct hm_kernel *k, const struct hm_target *t, enum hm_attach_pref pref,
		    struct hm_plan *out)
{
	const char *module = t->module;
	bool in_btf, in_syms;

	*out = (struct hm_plan){ .mode = HM_MODE_MISSING };
	if (module && *module && !hm_kernel_module_live(k, module)) {
		missing(out, true, "module %s not loaded (or still loading)", module);
		return;
	}
	in_syms = hm_kernel_has_symbol(k, t->func, module && !*module ? &module : NULL);
	if (!in_syms) {
		if (module && !*module)
			missing(out, true, "%s", "not loaded or not in this kernel");
		else
			missing(out, false, "%s", "not in this kernel (inlined or not built)");
		return;
	}
	in_btf = hm_kernel_btf_has_func(k, t->func, module);
	/* On PREEMPT_RT a preempted fentry program makes the kernel skip the
	 * next runs of that program on its CPU (recursion guard), and a skipped
	 * release leaves a phantom holder; kprobe programs run with preemption
	 * off, so releases never skip there. */
	if (pref == HM_PREF_AUTO && t->release && hm_kernel_preempt_rt(k))
		pref = HM_PREF_KPROBE;
	if (pref != HM_PREF_KPROBE && in_btf && hm_kernel_fentry_attaches(k))
		out->mode = HM_MODE_FENTRY;
	else if (pref != HM_PREF_FENTRY)
		out->mode = HM_MODE_KPROBE;
	else if (in_btf)
		missing(out, false, "%s", "this kernel cannot attach fentry (ENOTSUPP)");
	else
		missing(out, false, "%s", "no BTF for it (fentry needs BTF)");
}

void hm_plan_describe(const struct hm_plan *p, char *buf, size_t len)
{
	if (p->mode == HM_MODE_MISSING)
		snprintf(buf, len, "missing: %s", p->reason);
	else
		snprintf(buf, len, "%s", hm_attach_mode_name(p->mode));
}
