// SPDX-License-Identifier: GPL-2.0
/*
 * Scenarios modelled on the 6.1 kernel paths (drivers/pci/iov.c, drivers/base/dd.c,
 * drivers/vfio): the PF at 0000:01:00.0 is an NVMe controller with two VFs.
 */
#include "scenario_catalog.h"

#include <string.h>

#define MS 1000000ULL

struct topo {
	struct hm_device pf, vf1, vf2;
	struct scn_task shell, qemu, kworker;
};

static struct topo topo_new(const char *vf_driver)
{
	return (struct topo){
		.pf = scn_device("0000:01:00.0", HM_ROLE_PF, NULL, "nvme"),
		.vf1 = scn_device("0000:01:00.1", HM_ROLE_VF, "0000:01:00.0", vf_driver),
		.vf2 = scn_device("0000:01:00.2", HM_ROLE_VF, "0000:01:00.0", vf_driver),
		.shell = scn_task(812, "bash"),
		.qemu = scn_task(2201, "qemu-system-x86"),
		.kworker = scn_task(97, "kworker/1:2"),
	};
}

/* Stacks of the kernel paths, innermost first. */
static int32_t stack_sriov_numvfs(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "sriov_numvfs_store", "dev_attr_store",
			 "sysfs_kf_write", "kernfs_fop_write_iter", "vfs_write", "ksys_write",
			 "do_syscall_64", "entry_SYSCALL_64_after_hwframe", NULL);
}

static int32_t stack_vf_remove(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "device_release_driver_internal",
			 "pci_stop_bus_device", "pci_stop_and_remove_bus_device",
			 "pci_iov_remove_virtfn", "sriov_disable", "pci_sriov_configure_simple",
			 "sriov_numvfs_store", "kernfs_fop_write_iter", "vfs_write", NULL);
}

static int32_t stack_vf_probe_lock(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "__device_attach", "device_initial_probe",
			 "bus_rescan_devices_helper", "drivers_probe_store", "kernfs_fop_write_iter",
			 "vfs_write", "ksys_write", "do_syscall_64", NULL);
}

/* The seed bug: the VF driver reaches the PF by locking it. */
static int32_t stack_vf_driver_locks_pf(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "hisi_acc_get_pf_qm", "hisi_acc_vfio_pci_probe",
			 "local_pci_probe", "pci_device_probe", "really_probe",
			 "__driver_probe_device", "driver_probe_device", "__device_attach_driver",
			 "bus_for_each_drv", "__device_attach", NULL);
}

static int32_t stack_vf_trylocks_pf(struct scenario *s)
{
	return scn_stack(s, "mutex_trylock", "hisi_acc_get_pf_qm", "hisi_acc_vfio_pci_probe",
			 "local_pci_probe", "pci_device_probe", "really_probe", NULL);
}

static int32_t stack_vf_migration_locks_vf(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "hisi_acc_vfio_pci_set_device_state",
			 "vfio_ioctl_device_feature_mig_device_state", "vfio_device_fops_unl_ioctl",
			 "__x64_sys_ioctl", "do_syscall_64", NULL);
}

static int32_t stack_vf_migration_locks_pf(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "vf_qm_get_match_data", "hisi_acc_vf_stop_copy",
			 "hisi_acc_vfio_pci_set_device_state",
			 "vfio_ioctl_device_feature_mig_device_state", "vfio_device_fops_unl_ioctl",
			 "__x64_sys_ioctl", "do_syscall_64", NULL);
}

static void sriov_enable(struct scenario *s, struct topo *t)
{
	scn_lock(s, &t->shell, &t->pf, stack_sriov_numvfs(s));
	scn_sriov(s, &t->shell, HM_EV_SRIOV_ENABLE_BEGIN, &t->pf, 2, 0);
	scn_vf(s, &t->shell, HM_EV_VF_ADDED, &t->vf1);
	scn_vf(s, &t->shell, HM_EV_VF_ADDED, &t->vf2);
	scn_sriov(s, &t->shell, HM_EV_SRIOV_ENABLE_END, &t->pf, 2, 0);
	scn_unlock(s, &t->shell, &t->pf);
}

static void remove_vf(struct scenario *s, struct scn_task *task, const struct hm_device *vf)
{
	scn_lock(s, task, vf, stack_vf_remove(s));
	if (vf->driver[0]) {
		scn_bind(s, task, HM_EV_UNBIND_BEGIN, vf, 0);
		scn_bind(s, task, HM_EV_UNBIND_END, vf, 0);
	}
	scn_unlock(s, task, vf);
	scn_vf(s, task, HM_EV_VF_REMOVED, vf);
}

/* echo 0 > sriov_numvfs: PF lock first, then each VF's lock (PF -> VF). */
static void sriov_disable(struct scenario *s, struct topo *t)
{
	scn_lock(s, &t->shell, &t->pf, stack_sriov_numvfs(s));
	scn_sriov(s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	remove_vf(s, &t->shell, &t->vf1);
	remove_vf(s, &t->shell, &t->vf2);
	scn_advance(s, 1000 * MS); /* the spec's 1 s wait after clearing VF Enable */
	scn_sriov(s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	scn_unlock(s, &t->shell, &t->pf);
}

/* The device as __device_attach() locks it: dev->driver is still NULL
 * (really_probe() sets it under the lock, just before the probe). */
static struct hm_device unbound(const struct hm_device *dev)
{
	struct hm_device bare = *dev;

	bare.driver[0] = '\0';
	return bare;
}

static void bind_vf(struct scenario *s, struct topo *t, const struct hm_device *vf,
		    void (*inside_probe)(struct scenario *, struct topo *))
{
	struct hm_device attaching = unbound(vf);

	scn_lock(s, &t->shell, &attaching, stack_vf_probe_lock(s));
	scn_bind(s, &t->shell, HM_EV_BIND_BEGIN, vf, 0);
	if (inside_probe)
		inside_probe(s, t);
	scn_drvdata(s, &t->shell, vf, &t->pf, HM_DRVDATA_FETCH, 0, "pci_iov_get_pf_drvdata");
	scn_bind(s, &t->shell, HM_EV_BIND_END, vf, 0);
	scn_unlock(s, &t->shell, vf);
}

static void build_sriov_clean(struct scenario *s)
{
	struct topo t = topo_new("");

	for (int cycle = 0; cycle < 3; cycle++) {
		sriov_enable(s, &t);
		scn_advance(s, 200 * MS);
		sriov_disable(s, &t);
		scn_advance(s, 200 * MS);
	}
}

static void probe_locks_pf(struct scenario *s, struct topo *t)
{
	scn_lock(s, &t->shell, &t->pf, stack_vf_driver_locks_pf(s));
	scn_unlock(s, &t->shell, &t->pf);
}

static void probe_trylocks_pf(struct scenario *s, struct topo *t)
{
	scn_trylock(s, &t->shell, &t->pf, 1, stack_vf_trylocks_pf(s));
	scn_unlock(s, &t->shell, &t->pf);
}

/* A VF driver's probe locks the PF; later SR-IOV disable takes PF then VF. */
static void build_seed_bug(struct scenario *s)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");

	sriov_enable(s, &t);
	scn_advance(s, 100 * MS);
	bind_vf(s, &t, &t.vf1, probe_locks_pf);
	scn_advance(s, 500 * MS);
	sriov_disable(s, &t);
}

static void build_trylock(struct scenario *s)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");

	sriov_enable(s, &t);
	bind_vf(s, &t, &t.vf1, probe_trylocks_pf);
	sriov_disable(s, &t);
}

/* The live deadlock: SR-IOV disable holds the PF and waits for the VF while the
 * VF's migration path holds the VF and waits for the PF. */
static void build_abba(struct scenario *s)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");

	sriov_enable(s, &t);
	bind_vf(s, &t, &t.vf1, NULL);
	scn_vfio(s, &t.qemu, HM_EV_VFIO_OPEN, &t.vf1, 0);
	scn_advance(s, 300 * MS);
	scn_lock(s, &t.qemu, &t.vf1, stack_vf_migration_locks_vf(s));
	scn_lock(s, &t.shell, &t.pf, stack_sriov_numvfs(s));
	scn_sriov(s, &t.shell, HM_EV_SRIOV_DISABLE_BEGIN, &t.pf, 0, 0);
	scn_lock_wait(s, &t.shell, &t.vf1, stack_vf_remove(s));
	scn_lock_wait(s, &t.qemu, &t.pf, stack_vf_migration_locks_pf(s));
}

static const enum hm_mig_state path_stop[] = { HM_MIG_RUNNING, HM_MIG_STOP };
static const enum hm_mig_state path_stop_copy[] = { HM_MIG_STOP, HM_MIG_STOP_COPY };
static const enum hm_mig_state path_copy_done[] = { HM_MIG_STOP_COPY, HM_MIG_STOP };
static const enum hm_mig_state path_resuming[] = { HM_MIG_STOP, HM_MIG_RESUMING };
static const enum hm_mig_state path_resumed[] = { HM_MIG_RESUMING, HM_MIG_STOP };
static const enum hm_mig_state path_run[] = { HM_MIG_STOP, HM_MIG_RUNNING };
#define PATH(p) (p), (sizeof(p) / sizeof((p)[0]))

/* Source VF1 saves, destination VF2 resumes: what QEMU does for one device. */
static void migrate_once(struct scenario *s, struct topo *t, uint64_t stop_copy_ns)
{
	const uint8_t caps = HM_MIG_CAP_STOP_COPY;

	scn_vfio(s, &t->qemu, HM_EV_VFIO_OPEN, &t->vf1, 0);
	scn_vfio(s, &t->qemu, HM_EV_VFIO_OPEN, &t->vf2, 0);
	scn_advance(s, 50 * MS);
	scn_mig_set_state(s, &t->qemu, &t->vf1, caps, PATH(path_stop), 0);
	scn_mig_set_state(s, &t->qemu, &t->vf1, caps, PATH(path_stop_copy), 0);
	scn_advance(s, stop_copy_ns);
	scn_mig_data(s, &t->qemu, &t->vf1, HM_MIG_DATA_SAVE, 4096);
	scn_mig_set_state(s, &t->qemu, &t->vf1, caps, PATH(path_copy_done), 0);
	scn_mig_set_state(s, &t->qemu, &t->vf2, caps, PATH(path_stop), 0);
	scn_mig_set_state(s, &t->qemu, &t->vf2, caps, PATH(path_resuming), 0);
	scn_mig_data(s, &t->qemu, &t->vf2, HM_MIG_DATA_LOAD, 4096);
	scn_mig_set_state(s, &t->qemu, &t->vf2, caps, PATH(path_resumed), 0);
	scn_mig_set_state(s, &t->qemu, &t->vf2, caps, PATH(path_run), 0);
	scn_advance(s, 50 * MS);
	scn_vfio(s, &t->qemu, HM_EV_VFIO_CLOSE, &t->vf1, 0);
	scn_vfio(s, &t->qemu, HM_EV_VFIO_CLOSE, &t->vf2, 0);
}

static void bind_both(struct scenario *s, struct topo *t)
{
	sriov_enable(s, t);
	bind_vf(s, t, &t->vf1, NULL);
	bind_vf(s, t, &t->vf2, NULL);
}

static void build_migration_clean(struct scenario *s)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");

	bind_both(s, &t);
	for (int i = 0; i < 5; i++)
		migrate_once(s, &t, 20 * MS);
	sriov_disable(s, &t);
}

/* A failing arc leaves the device in ERROR; then an arc the FSM forbids. */
static void build_migration_broken(struct scenario *s)
{
	static const enum hm_mig_state forbidden[] = { HM_MIG_STOP_COPY, HM_MIG_PRE_COPY };
	struct topo t = topo_new("hisi_acc_vfio_pci");
	const uint8_t caps = HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_PRE_COPY;

	bind_both(s, &t);
	scn_vfio(s, &t.qemu, HM_EV_VFIO_OPEN, &t.vf1, 0);
	scn_mig_set_state(s, &t.qemu, &t.vf1, caps, PATH(path_stop), 0);
	scn_mig_set_state(s, &t.qemu, &t.vf1, caps, PATH(path_stop_copy), 0);
	scn_mig_set_state(s, &t.qemu, &t.vf1, caps, PATH(forbidden), -22);
	scn_vfio(s, &t.qemu, HM_EV_VFIO_OPEN, &t.vf2, 0);
	scn_mig_set_state(s, &t.qemu, &t.vf2, caps, PATH(path_stop), -5);
}

/* The VF driver keeps using the PF's hisi_qm after the PF driver began unbinding. */
static void build_use_after_unbind(struct scenario *s)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");

	bind_both(s, &t);
	scn_bind(s, &t.kworker, HM_EV_UNBIND_BEGIN, &t.pf, 0);
	scn_drvdata(s, &t.qemu, &t.vf1, &t.pf, HM_DRVDATA_USE, 0, "vf_qm_get_match_data");
	/* then its remove() disables SR-IOV (hisi_qm_sriov_disable), too late */
	scn_sriov(s, &t.kworker, HM_EV_SRIOV_DISABLE_BEGIN, &t.pf, 0, 0);
	remove_vf(s, &t.kworker, &t.vf1);
	remove_vf(s, &t.kworker, &t.vf2);
	scn_sriov(s, &t.kworker, HM_EV_SRIOV_DISABLE_END, &t.pf, 0, 0);
	scn_bind(s, &t.kworker, HM_EV_UNBIND_END, &t.pf, 0);
}

/* SR-IOV disable waits 12 s for QEMU to release an open VF. */
static void build_sriov_blocked(struct scenario *s)
{
	struct topo t = topo_new("vfio-pci");

	bind_both(s, &t);
	scn_vfio(s, &t.qemu, HM_EV_VFIO_OPEN, &t.vf1, 0);
	scn_lock(s, &t.shell, &t.pf, stack_sriov_numvfs(s));
	scn_sriov(s, &t.shell, HM_EV_SRIOV_DISABLE_BEGIN, &t.pf, 0, 0);
	scn_lock(s, &t.shell, &t.vf1, stack_vf_remove(s));
	scn_bind(s, &t.shell, HM_EV_UNBIND_BEGIN, &t.vf1, 0);
	scn_vfio(s, &t.shell, HM_EV_VFIO_UNREGISTER_BEGIN, &t.vf1, 0);
	scn_advance(s, 12000 * MS);
	scn_vfio(s, &t.qemu, HM_EV_VFIO_CLOSE, &t.vf1, 0);
	scn_vfio(s, &t.shell, HM_EV_VFIO_UNREGISTER_END, &t.vf1, 0);
	scn_bind(s, &t.shell, HM_EV_UNBIND_END, &t.vf1, 0);
	scn_unlock(s, &t.shell, &t.vf1);
	scn_vf(s, &t.shell, HM_EV_VF_REMOVED, &t.vf1);
	remove_vf(s, &t.shell, &t.vf2);
	scn_advance(s, 1000 * MS);
	scn_sriov(s, &t.shell, HM_EV_SRIOV_DISABLE_END, &t.pf, 0, 0);
	scn_unlock(s, &t.shell, &t.pf);
}

/* ---- beyond device mutexes ----------------------------------------------- */

/* Globals at kernel data addresses, as kallsyms would name them. */
#define RESCAN_REMOVE_LOCK_ADDR 0xffffffff82a1c0a0ULL
#define PCI_BUS_SEM_ADDR 0xffffffff82a1c120ULL
#define STATE_MUTEX_ADDR 0xffff888104a3d5a8ULL /* in the VF's hisi_acc_vf_core_device */
#define MMAP_LOCK_ADDR 0xffff888103f0e0b8ULL   /* QEMU's mm */

static struct scn_named_lock rescan_remove_lock(struct scenario *s)
{
	return scn_named_lock(s, "pci_rescan_remove_lock", HM_LOCK_ORIGIN_GLOBAL,
			      RESCAN_REMOVE_LOCK_ADDR);
}

static int32_t stack_remove_store(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "pci_stop_and_remove_bus_device_locked", "remove_store",
			 "dev_attr_store", "kernfs_fop_write_iter", "vfs_write", "ksys_write",
			 "do_syscall_64", NULL);
}

static int32_t stack_remove_vf_driver(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "device_release_driver_internal", "pci_stop_bus_device",
			 "pci_stop_and_remove_bus_device_locked", "remove_store", "vfs_write",
			 NULL);
}

static int32_t stack_reset_done_rescan(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "pci_lock_rescan_remove", "hmtest_vf_reset_done",
			 "pci_dev_restore", "pci_reset_function", "reset_store", "kernfs_fop_write_iter",
			 "vfs_write", NULL);
}

static int32_t stack_reset_store(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "pci_reset_function", "reset_store",
			 "kernfs_fop_write_iter", "vfs_write", "ksys_write", NULL);
}

static int32_t stack_numvfs_show(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "sriov_numvfs_show", "dev_attr_show", "sysfs_kf_seq_show",
			 "seq_read_iter", "vfs_read", "ksys_read", "do_syscall_64", NULL);
}

/* echo 1 > VF/remove: pci_rescan_remove_lock, then the VF's device lock. */
static void remove_vf_via_sysfs(struct scenario *s, struct topo *t,
				const struct scn_named_lock *rescan, const struct hm_device *vf)
{
	scn_nlock(s, &t->shell, rescan, HM_LOCK_MUTEX, stack_remove_store(s));
	scn_lock(s, &t->shell, vf, stack_remove_vf_driver(s));
	scn_unlock(s, &t->shell, vf);
	scn_vf(s, &t->shell, HM_EV_VF_REMOVED, vf);
	scn_nunlock(s, &t->shell, rescan, HM_LOCK_MUTEX);
}

/* echo 1 > VF/reset while the VF driver's reset_done takes the rescan lock:
 * VF lock -> pci_rescan_remove_lock, the reverse of sysfs remove. No hang:
 * the two orders are seen seconds apart. */
static void build_rescan_cycle(struct scenario *s)
{
	struct topo t = topo_new("hmtest_vf");
	struct scn_named_lock rescan = rescan_remove_lock(s);

	sriov_enable(s, &t);
	bind_vf(s, &t, &t.vf1, NULL);
	scn_lock(s, &t.kworker, &t.vf1, stack_reset_store(s));
	scn_reset(s, &t.kworker, &t.vf1, HM_RESET_DONE);
	scn_nlock(s, &t.kworker, &rescan, HM_LOCK_MUTEX, stack_reset_done_rescan(s));
	scn_nunlock(s, &t.kworker, &rescan, HM_LOCK_MUTEX);
	scn_unlock(s, &t.kworker, &t.vf1);
	scn_advance(s, 2000 * MS);
	remove_vf_via_sysfs(s, &t, &rescan, &t.vf1);
}

/* SR-IOV disable while QEMU holds VF1 open: the unregister waits 100 ms until
 * QEMU closes it on request. */
static void sriov_disable_releasing_vf1(struct scenario *s, struct topo *t)
{
	scn_lock(s, &t->shell, &t->pf, stack_sriov_numvfs(s));
	scn_sriov(s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	scn_lock(s, &t->shell, &t->vf1, stack_vf_remove(s));
	scn_vfio(s, &t->shell, HM_EV_VFIO_UNREGISTER_BEGIN, &t->vf1, 0);
	scn_advance(s, 100 * MS);
	scn_vfio(s, &t->qemu, HM_EV_VFIO_CLOSE, &t->vf1, 0);
	scn_vfio(s, &t->shell, HM_EV_VFIO_UNREGISTER_END, &t->vf1, 0);
	scn_unlock(s, &t->shell, &t->vf1);
	scn_vf(s, &t->shell, HM_EV_VF_REMOVED, &t->vf1);
	remove_vf(s, &t->shell, &t->vf2);
	scn_sriov(s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	scn_unlock(s, &t->shell, &t->pf);
}

/* A VFIO user (pid 2201) holding VF1 open reads the PF's sriov_numvfs (PF
 * lock); later SR-IOV disable waits for it under the PF lock. The user
 * closes on request this time: the cycle is predicted, nothing hangs. */
static void build_vfio_user_cycle(struct scenario *s)
{
	struct topo t = topo_new("vfio-pci");

	bind_both(s, &t);
	scn_vfio(s, &t.qemu, HM_EV_VFIO_OPEN, &t.vf1, 0);
	scn_lock(s, &t.qemu, &t.pf, stack_numvfs_show(s));
	scn_unlock(s, &t.qemu, &t.pf);
	scn_advance(s, 500 * MS);
	sriov_disable_releasing_vf1(s, &t);
}

/* The same, live: SR-IOV disable waits for the VFIO user while the user's
 * thread waits for the PF lock the disabling task holds. */
static void build_vfio_user_deadlock(struct scenario *s)
{
	struct topo t = topo_new("vfio-pci");
	struct scn_task qemu_vcpu = scn_task(2205, "CPU 0/KVM");

	qemu_vcpu.pid = t.qemu.pid;
	bind_both(s, &t);
	scn_vfio(s, &t.qemu, HM_EV_VFIO_OPEN, &t.vf1, 0);
	scn_advance(s, 300 * MS);
	scn_lock(s, &t.shell, &t.pf, stack_sriov_numvfs(s));
	scn_sriov(s, &t.shell, HM_EV_SRIOV_DISABLE_BEGIN, &t.pf, 0, 0);
	scn_lock(s, &t.shell, &t.vf1, stack_vf_remove(s));
	scn_vfio(s, &t.shell, HM_EV_VFIO_UNREGISTER_BEGIN, &t.vf1, 0);
	scn_lock_wait(s, &qemu_vcpu, &t.pf, stack_numvfs_show(s));
}

/* Correct orders of every lock kind, many times: PF -> VF, the rescan lock
 * before device locks, pci_bus_sem read under it, a VFIO user that takes its
 * VF's state mutex and mmap_lock but no lock the unregister path holds, and
 * a state_mutex only trylocked under the VF lock (reset_done, 6.1). */
static void locks_clean_round(struct scenario *s, struct topo *t, const struct scn_named_lock *l)
{
	const struct scn_named_lock *rescan = &l[0], *bus_sem = &l[1], *state = &l[2], *mm = &l[3];

	sriov_enable(s, t);
	bind_vf(s, t, &t->vf1, NULL);
	scn_nlock(s, &t->shell, rescan, HM_LOCK_MUTEX, stack_remove_store(s));
	scn_nlock(s, &t->shell, bus_sem, HM_LOCK_RWSEM_READ, -1);
	scn_nunlock(s, &t->shell, bus_sem, HM_LOCK_RWSEM_READ);
	scn_lock(s, &t->shell, &t->vf2, stack_remove_vf_driver(s));
	scn_unlock(s, &t->shell, &t->vf2);
	scn_nunlock(s, &t->shell, rescan, HM_LOCK_MUTEX);
	scn_vfio(s, &t->qemu, HM_EV_VFIO_OPEN, &t->vf1, 0);
	scn_nlock(s, &t->qemu, mm, HM_LOCK_RWSEM_READ, -1);
	scn_nunlock(s, &t->qemu, mm, HM_LOCK_RWSEM_READ);
	scn_nlock(s, &t->qemu, state, HM_LOCK_MUTEX, stack_vf_migration_locks_vf(s));
	scn_mig_set_state(s, &t->qemu, &t->vf1, HM_MIG_CAP_STOP_COPY, PATH(path_stop), 0);
	scn_mig_set_state(s, &t->qemu, &t->vf1, HM_MIG_CAP_STOP_COPY, PATH(path_run), 0);
	scn_nunlock(s, &t->qemu, state, HM_LOCK_MUTEX);
	scn_vfio(s, &t->qemu, HM_EV_VFIO_CLOSE, &t->vf1, 0);
	scn_lock(s, &t->kworker, &t->vf1, stack_reset_store(s));
	scn_ntrylock(s, &t->kworker, state, HM_LOCK_MUTEX, 1, -1);
	scn_nunlock(s, &t->kworker, state, HM_LOCK_MUTEX);
	scn_unlock(s, &t->kworker, &t->vf1);
	sriov_disable(s, t);
}

static void build_locks_clean_n(struct scenario *s, size_t rounds)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");
	const struct scn_named_lock locks[] = {
		rescan_remove_lock(s),
		scn_named_lock(s, "pci_bus_sem", HM_LOCK_ORIGIN_GLOBAL, PCI_BUS_SEM_ADDR),
		scn_named_lock(s, "hisi_acc_vfio_pci:state_mutex", HM_LOCK_ORIGIN_LEARNED,
			       STATE_MUTEX_ADDR),
		scn_named_lock(s, "mmap_lock", HM_LOCK_ORIGIN_MMAP, MMAP_LOCK_ADDR),
	};

	for (size_t i = 0; i < rounds || (s->target_events && s->count < s->target_events); i++) {
		locks_clean_round(s, &t, locks);
		scn_advance(s, 10 * MS);
	}
}

static void build_locks_clean(struct scenario *s)
{
	build_locks_clean_n(s, 50);
}

/* The analysis engine's throughput: locks-clean repeated to --events N. */
static void build_bench(struct scenario *s)
{
	if (!s->target_events)
		s->target_events = 100000;
	build_locks_clean_n(s, 0);
}

/* ---- rwsem orders, readers, instances, longer cycles -------------------- */

#define MEMORY_LOCK_ADDR 0xffff888104a3d2c0ULL /* the VF's vfio_pci_core_device */

static int32_t stack_walk_bus(struct scenario *s)
{
	return scn_stack(s, "down_read", "pci_walk_bus", "pcie_do_recovery", "aer_process_err_devices",
			 "aer_isr", "irq_thread_fn", "irq_thread", "kthread", NULL);
}

static int32_t stack_walk_bus_device_lock(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "report_error_detected", "pci_walk_bus", "pcie_do_recovery",
			 "aer_process_err_devices", "aer_isr", "irq_thread_fn", NULL);
}

static int32_t stack_device_add(struct scenario *s)
{
	return scn_stack(s, "down_write", "pci_device_add", "pci_iov_add_virtfn", "sriov_add_vfs",
			 "sriov_enable", "pci_enable_sriov", "sriov_numvfs_store",
			 "kernfs_fop_write_iter", "vfs_write", NULL);
}

static int32_t stack_memory_lock(struct scenario *s, const char *how)
{
	return scn_stack(s, how, "vfio_pci_memory_lock_and_enable", "vfio_pci_core_write",
			 "vfs_write", "ksys_write", "do_syscall_64", NULL);
}

/* T1 reads pci_bus_sem then memory_lock; T2 writes both in that order; T3
 * reads memory_lock then pci_bus_sem. T2 and T3 deadlock without any other
 * writer: the write order seen after the read one of the same pair counts. */
static void build_rwsem_abba(struct scenario *s)
{
	struct topo t = topo_new("vfio-pci");
	struct scn_named_lock a = scn_named_lock(s, "pci_bus_sem", HM_LOCK_ORIGIN_GLOBAL,
						 PCI_BUS_SEM_ADDR);
	struct scn_named_lock b = scn_named_lock(s, "vfio_pci_core_device.memory_lock",
						 HM_LOCK_ORIGIN_LEARNED, MEMORY_LOCK_ADDR);
	struct scn_task t3 = scn_task(3301, "aer-recovery");
	const enum hm_lock_type rd = HM_LOCK_RWSEM_READ, wr = HM_LOCK_RWSEM_WRITE;

	scn_nlock(s, &t.shell, &a, rd, stack_walk_bus(s));
	scn_nlock(s, &t.shell, &b, rd, stack_memory_lock(s, "down_read"));
	scn_nunlock(s, &t.shell, &b, rd);
	scn_nunlock(s, &t.shell, &a, rd);
	scn_advance(s, 100 * MS);
	scn_nlock(s, &t.kworker, &a, wr, stack_device_add(s));
	scn_nlock(s, &t.kworker, &b, wr, stack_memory_lock(s, "down_write"));
	scn_nunlock(s, &t.kworker, &b, wr);
	scn_nunlock(s, &t.kworker, &a, wr);
	scn_advance(s, 100 * MS);
	scn_nlock(s, &t3, &b, rd, stack_memory_lock(s, "down_read"));
	scn_nlock(s, &t3, &a, rd, stack_walk_bus(s));
	scn_nunlock(s, &t3, &a, rd);
	scn_nunlock(s, &t3, &b, rd);
}

/* AER recovery walks the bus (pci_bus_sem read) and locks the PF; SR-IOV
 * enable holds the PF lock and adds a VF (pci_bus_sem write). */
static void build_rwsem_reader_deadlock(struct scenario *s)
{
	struct topo t = topo_new("vfio-pci");
	struct scn_named_lock bus_sem = scn_named_lock(s, "pci_bus_sem", HM_LOCK_ORIGIN_GLOBAL,
						       PCI_BUS_SEM_ADDR);
	struct scn_task aer = scn_task(141, "irq/25-aerdrv");

	scn_nlock(s, &aer, &bus_sem, HM_LOCK_RWSEM_READ, stack_walk_bus(s));
	scn_lock(s, &t.shell, &t.pf, stack_sriov_numvfs(s));
	scn_sriov(s, &t.shell, HM_EV_SRIOV_ENABLE_BEGIN, &t.pf, 2, 0);
	scn_lock_wait(s, &aer, &t.pf, stack_walk_bus_device_lock(s));
	scn_nlock_wait(s, &t.shell, &bus_sem, HM_LOCK_RWSEM_WRITE, stack_device_add(s));
}

/* QEMU's vCPU thread faults (mmap_lock read) into a handler that reads
 * mmap_lock again while another QEMU thread's mmap() queued to write it. */
static void build_rwsem_recursive_read(struct scenario *s)
{
	struct topo t = topo_new("vfio-pci");
	struct scn_named_lock mm = scn_named_lock(s, "mmap_lock", HM_LOCK_ORIGIN_MMAP,
						  MMAP_LOCK_ADDR);
	struct scn_task vcpu = scn_task(2205, "CPU 0/KVM");
	int32_t fault = scn_stack(s, "down_read", "do_user_addr_fault", "exc_page_fault",
				  "asm_exc_page_fault", NULL);
	int32_t again = scn_stack(s, "down_read", "mmap_read_lock", "vfio_pci_mmap_fault",
				  "__do_fault", "handle_mm_fault", "do_user_addr_fault", NULL);
	int32_t mmap = scn_stack(s, "down_write", "vm_mmap_pgoff", "ksys_mmap_pgoff",
				 "do_syscall_64", NULL);

	vcpu.pid = t.qemu.pid;
	scn_nlock(s, &vcpu, &mm, HM_LOCK_RWSEM_READ, fault);
	scn_nlock_wait(s, &t.qemu, &mm, HM_LOCK_RWSEM_WRITE, mmap);
	scn_nlock_wait(s, &vcpu, &mm, HM_LOCK_RWSEM_READ, again);
}

static int32_t stack_bus_reset_lock(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "pci_dev_lock", "pci_bus_lock", "pci_bus_reset",
			 "pci_reset_bus", "reset_store", "kernfs_fop_write_iter", "vfs_write", NULL);
}

/* A bus reset locks every device of the bus in list order: VF1, then VF2. */
static void lock_vfs_in_bus_order(struct scenario *s, struct topo *t)
{
	scn_lock(s, &t->kworker, &t->vf1, stack_bus_reset_lock(s));
	scn_lock(s, &t->kworker, &t->vf2, stack_bus_reset_lock(s));
	scn_unlock(s, &t->kworker, &t->vf2);
	scn_unlock(s, &t->kworker, &t->vf1);
}

/* Two SR-IOV cycles; the second allocates each VF's struct device where the
 * other VF's was: the same correct order by BDF is the reverse by address. */
static void build_vf_readdress(struct scenario *s)
{
	struct topo t = topo_new("");
	uint64_t first = t.vf1.dev_addr;

	sriov_enable(s, &t);
	lock_vfs_in_bus_order(s, &t);
	sriov_disable(s, &t);
	scn_advance(s, 200 * MS);
	t.vf1.dev_addr = t.vf2.dev_addr;
	t.vf2.dev_addr = first;
	sriov_enable(s, &t);
	lock_vfs_in_bus_order(s, &t);
	sriov_disable(s, &t);
}

/* A VFIO user of a VF of one PF reads another PF's sriov_numvfs; that PF's
 * SR-IOV disable then waits for the users of its own VFs: no cycle. */
static void build_vfio_user_two_pfs(struct scenario *s)
{
	struct topo a = topo_new("vfio-pci");
	struct topo b = {
		.pf = scn_device("0000:02:00.0", HM_ROLE_PF, NULL, "nvme"),
		.vf1 = scn_device("0000:02:00.1", HM_ROLE_VF, "0000:02:00.0", "vfio-pci"),
		.vf2 = scn_device("0000:02:00.2", HM_ROLE_VF, "0000:02:00.0", "vfio-pci"),
		.shell = scn_task(813, "bash"),
		.qemu = scn_task(2301, "qemu-system-x86"),
		.kworker = scn_task(98, "kworker/0:1"),
	};

	bind_both(s, &a);
	bind_both(s, &b);
	scn_vfio(s, &a.qemu, HM_EV_VFIO_OPEN, &a.vf1, 0);
	scn_vfio(s, &b.qemu, HM_EV_VFIO_OPEN, &b.vf1, 0);
	scn_lock(s, &a.qemu, &b.pf, stack_numvfs_show(s));
	scn_unlock(s, &a.qemu, &b.pf);
	scn_advance(s, 500 * MS);
	sriov_disable_releasing_vf1(s, &b);
}

static int32_t stack_msix_count(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "sriov_vf_msix_count_store", "dev_attr_store",
			 "kernfs_fop_write_iter", "vfs_write", NULL);
}

static int32_t stack_pf_configure_rescan(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "pci_lock_rescan_remove", "hmtest_pf_sriov_configure",
			 "sriov_numvfs_store", "kernfs_fop_write_iter", "vfs_write", NULL);
}

/* PF -> VF: a VF's MSI-X count set through its PF. */
static void set_vf_msix_count(struct scenario *s, struct topo *t)
{
	scn_lock(s, &t->shell, &t->pf, stack_msix_count(s));
	scn_lock(s, &t->shell, &t->vf1, stack_msix_count(s));
	scn_unlock(s, &t->shell, &t->vf1);
	scn_unlock(s, &t->shell, &t->pf);
}

/* PF -> rescan lock: a PF driver's sriov_configure. */
static void pf_configure_takes_rescan(struct scenario *s, struct topo *t,
				      const struct scn_named_lock *rescan)
{
	scn_lock(s, &t->shell, &t->pf, stack_sriov_numvfs(s));
	scn_nlock(s, &t->shell, rescan, HM_LOCK_MUTEX, stack_pf_configure_rescan(s));
	scn_nunlock(s, &t->shell, rescan, HM_LOCK_MUTEX);
	scn_unlock(s, &t->shell, &t->pf);
}

/* PF -> VF, PF -> rescan lock and rescan lock -> VF (sysfs remove of VF2) are
 * seen first; then VF1's probe locks the PF: the one new edge closes
 * VF -> PF -> VF and VF -> PF -> rescan -> VF. */
static void build_longer_cycle(struct scenario *s)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");
	struct scn_named_lock rescan = rescan_remove_lock(s);

	sriov_enable(s, &t);
	set_vf_msix_count(s, &t);
	pf_configure_takes_rescan(s, &t, &rescan);
	remove_vf_via_sysfs(s, &t, &rescan, &t.vf2);
	scn_advance(s, 100 * MS);
	bind_vf(s, &t, &t.vf1, probe_locks_pf);
}

/* The same orders, the PF driver's rescan lock last: VF -> PF -> VF is
 * reported, then PF -> rescan closes PF -> rescan -> VF -> PF through it. */
static void build_longer_cycle_later(struct scenario *s)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");
	struct scn_named_lock rescan = rescan_remove_lock(s);

	sriov_enable(s, &t);
	set_vf_msix_count(s, &t);
	remove_vf_via_sysfs(s, &t, &rescan, &t.vf2);
	bind_vf(s, &t, &t.vf1, probe_locks_pf);
	scn_advance(s, 100 * MS);
	pf_configure_takes_rescan(s, &t, &rescan);
}

/* ---- waits on other tasks: work items and completions ------------------- */

#define VF_WORK_ADDR 0xffff888104a3d700ULL   /* in the VF driver's per-device data */
#define PF_WORK_ADDR 0xffff888102c1e300ULL
#define SYSTEM_WQ_ADDR 0xffff888100051c00ULL
#define DONE_ADDR 0xffffc90000b3fd20ULL      /* an on-stack completion */

static const struct scn_work vf_pf_work = { VF_WORK_ADDR, SYSTEM_WQ_ADDR, "hmtest_vf_pf_work",
					    "events" };
static const struct scn_work pf_vf_work = { PF_WORK_ADDR, SYSTEM_WQ_ADDR, "hmtest_pf_vf_work",
					    "events" };
static const struct scn_work done = { DONE_ADDR, 0, NULL, NULL };

static int32_t stack_vf_store_locks_vf(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "pf_work_store", "dev_attr_store", "sysfs_kf_write",
			 "kernfs_fop_write_iter", "vfs_write", "ksys_write", "do_syscall_64", NULL);
}

static int32_t stack_flush_work(struct scenario *s)
{
	return scn_stack(s, "flush_work", "pf_work_store", "dev_attr_store", "sysfs_kf_write",
			 "kernfs_fop_write_iter", "vfs_write", "ksys_write", "do_syscall_64", NULL);
}

static int32_t stack_work_locks_pf(struct scenario *s)
{
	return scn_stack(s, "mutex_lock", "hmtest_vf_pf_work", "process_one_work",
			 "worker_thread", "kthread", "ret_from_fork", NULL);
}

static int32_t stack_wait_done(struct scenario *s)
{
	return scn_stack(s, "wait_for_completion", "pf_work_store",
			 "dev_attr_store", "kernfs_fop_write_iter", "vfs_write", NULL);
}

/* The VF's sysfs store holds device_lock(VF), queues work on the system
 * workqueue and flushes it; the work takes device_lock(PF) in a kworker. */
static void vf_store_flushes(struct scenario *s, struct topo *t, bool worker_first)
{
	scn_lock(s, &t->shell, &t->vf1, stack_vf_store_locks_vf(s));
	if (worker_first) {
		scn_work_event(s, &t->kworker, HM_EV_WORK_RUN_BEGIN, &vf_pf_work, 0,
			       stack_work_locks_pf(s));
		scn_lock(s, &t->kworker, &t->pf, stack_work_locks_pf(s));
		scn_unlock(s, &t->kworker, &t->pf);
		scn_work_event(s, &t->kworker, HM_EV_WORK_RUN_END, &vf_pf_work, 0, -1);
	}
	scn_work_event(s, &t->shell, HM_EV_WORK_FLUSH_BEGIN, &vf_pf_work, 0, stack_flush_work(s));
	if (!worker_first) {
		scn_work_event(s, &t->kworker, HM_EV_WORK_RUN_BEGIN, &vf_pf_work, 0,
			       stack_work_locks_pf(s));
		scn_lock(s, &t->kworker, &t->pf, stack_work_locks_pf(s));
		scn_unlock(s, &t->kworker, &t->pf);
		scn_work_event(s, &t->kworker, HM_EV_WORK_RUN_END, &vf_pf_work, 0, -1);
	}
	scn_work_event(s, &t->shell, HM_EV_WORK_FLUSH_END, &vf_pf_work, 1, -1);
	scn_unlock(s, &t->shell, &t->vf1);
}

/* Flushed after the work ran, then again before it runs: one finding; later
 * SR-IOV disable (PF -> VF) closes the cycle through the work item. */
static void build_flush_work_order(struct scenario *s)
{
	struct topo t = topo_new("hmtest_vf");

	sriov_enable(s, &t);
	bind_vf(s, &t, &t.vf1, NULL);
	scn_advance(s, 100 * MS);
	vf_store_flushes(s, &t, true);
	scn_advance(s, 100 * MS);
	vf_store_flushes(s, &t, false);
	scn_advance(s, 500 * MS);
	sriov_disable(s, &t);
}

/* Live: the flusher holds VF1 and waits for the work, the work waits for
 * the PF lock, SR-IOV disable holds the PF lock and waits for VF1. */
static void build_flush_work_deadlock(struct scenario *s)
{
	struct topo t = topo_new("hmtest_vf");
	struct scn_task disabler = scn_task(1420, "sh");

	sriov_enable(s, &t);
	bind_vf(s, &t, &t.vf1, NULL);
	scn_advance(s, 100 * MS);
	scn_lock(s, &t.shell, &t.vf1, stack_vf_store_locks_vf(s));
	scn_lock(s, &disabler, &t.pf, stack_sriov_numvfs(s));
	scn_sriov(s, &disabler, HM_EV_SRIOV_DISABLE_BEGIN, &t.pf, 0, 0);
	scn_work_event(s, &t.kworker, HM_EV_WORK_RUN_BEGIN, &vf_pf_work, 0, stack_work_locks_pf(s));
	scn_lock_wait_owner(s, &t.kworker, &t.pf, disabler.tid, stack_work_locks_pf(s));
	scn_work_event(s, &t.shell, HM_EV_WORK_FLUSH_BEGIN, &vf_pf_work, 0, stack_flush_work(s));
	scn_lock_wait_owner(s, &disabler, &t.vf1, t.shell.tid, stack_vf_remove(s));
}

/* The PF's store holds device_lock(PF) and flushes work that takes VF
 * locks (PF -> work -> VF: the PCI core's order), and cancels a work item
 * that is not running. No finding. */
static void build_flush_work_clean(struct scenario *s)
{
	struct topo t = topo_new("hmtest_vf");

	sriov_enable(s, &t);
	bind_vf(s, &t, &t.vf1, NULL);
	for (int i = 0; i < 3; i++) {
		scn_lock(s, &t.shell, &t.pf, stack_sriov_numvfs(s));
		scn_work_event(s, &t.shell, HM_EV_WORK_FLUSH_BEGIN, &pf_vf_work, 0, -1);
		scn_work_event(s, &t.kworker, HM_EV_WORK_RUN_BEGIN, &pf_vf_work, 0, -1);
		scn_lock(s, &t.kworker, &t.vf1, -1);
		scn_unlock(s, &t.kworker, &t.vf1);
		scn_work_event(s, &t.kworker, HM_EV_WORK_RUN_END, &pf_vf_work, 0, -1);
		scn_work_event(s, &t.shell, HM_EV_WORK_FLUSH_END, &pf_vf_work, 1, -1);
		scn_unlock(s, &t.shell, &t.pf);
		/* cancel_work_sync() of an idle item under the VF lock waits for nothing */
		scn_lock(s, &t.shell, &t.vf1, -1);
		scn_work_event(s, &t.shell, HM_EV_WORK_FLUSH_BEGIN, &vf_pf_work, 1, -1);
		scn_work_event(s, &t.shell, HM_EV_WORK_FLUSH_END, &vf_pf_work, 0, -1);
		scn_unlock(s, &t.shell, &t.vf1);
		scn_work_event(s, &t.kworker, HM_EV_WORK_RUN_BEGIN, &vf_pf_work, 0, -1);
		scn_lock(s, &t.kworker, &t.pf, -1);
		scn_unlock(s, &t.kworker, &t.pf);
		scn_work_event(s, &t.kworker, HM_EV_WORK_RUN_END, &vf_pf_work, 0, -1);
		scn_advance(s, 50 * MS);
	}
	sriov_disable(s, &t);
}

/* The VF's store waits for a completion under device_lock(VF); the work
 * that completes it took device_lock(PF) first. */
static void build_completion_order(struct scenario *s)
{
	struct topo t = topo_new("hmtest_vf");

	sriov_enable(s, &t);
	bind_vf(s, &t, &t.vf1, NULL);
	scn_lock(s, &t.shell, &t.vf1, stack_vf_store_locks_vf(s));
	scn_work_event(s, &t.shell, HM_EV_COMPLETION_WAIT_BEGIN, &done, 0, stack_wait_done(s));
	scn_work_event(s, &t.kworker, HM_EV_WORK_RUN_BEGIN, &vf_pf_work, 0, stack_work_locks_pf(s));
	scn_lock(s, &t.kworker, &t.pf, stack_work_locks_pf(s));
	scn_unlock(s, &t.kworker, &t.pf);
	scn_work_event(s, &t.kworker, HM_EV_COMPLETE, &done, 0, -1);
	scn_work_event(s, &t.kworker, HM_EV_WORK_RUN_END, &vf_pf_work, 0, -1);
	scn_work_event(s, &t.shell, HM_EV_COMPLETION_WAIT_END, &done, 0, -1);
	scn_unlock(s, &t.shell, &t.vf1);
	/* the same address, reused by another wait with no VF lock held */
	scn_work_event(s, &t.qemu, HM_EV_COMPLETION_WAIT_BEGIN, &done, 0, -1);
	scn_lock(s, &t.kworker, &t.pf, -1);
	scn_work_event(s, &t.kworker, HM_EV_COMPLETE, &done, 0, -1);
	scn_unlock(s, &t.kworker, &t.pf);
	scn_work_event(s, &t.qemu, HM_EV_COMPLETION_WAIT_END, &done, 0, -1);
}

/* ---- PFs that go while their VFs stay --------------------------------- */

static int32_t stack_unbind_store(struct scenario *s)
{
	return scn_stack(s, "pci_device_remove", "device_release_driver_internal", "unbind_store",
			 "drv_attr_store", "kernfs_fop_write_iter", "vfs_write", "ksys_write",
			 "do_syscall_64", NULL);
}

static int32_t stack_pf_remove(struct scenario *s)
{
	return scn_stack(s, "pci_stop_and_remove_bus_device",
			 "pci_stop_and_remove_bus_device_locked", "remove_store", "dev_attr_store",
			 "kernfs_fop_write_iter", "vfs_write", "ksys_write", "do_syscall_64", NULL);
}

/* The PF's driver unbinds; its remove() leaves SR-IOV enabled (nvme does). */
static void unbind_pf_leaving_vfs(struct scenario *s, struct topo *t)
{
	scn_lock(s, &t->shell, &t->pf, stack_unbind_store(s));
	scn_bind(s, &t->shell, HM_EV_UNBIND_BEGIN, &t->pf, 0);
	scn_append(s, &t->shell, HM_EV_UNBIND_END, stack_unbind_store(s))->bind.dev = t->pf;
	scn_unlock(s, &t->shell, &t->pf);
}

/* nvme unbound from the PF with two (driverless) VFs enabled; rebound, its
 * probe's pci_enable_sriov() fails while the old VFs are there. */
static void build_pf_unbind_sriov_left(struct scenario *s)
{
	struct topo t = topo_new("");

	sriov_enable(s, &t);
	scn_advance(s, 100 * MS);
	unbind_pf_leaving_vfs(s, &t);
	scn_advance(s, 100 * MS);
	scn_lock(s, &t.shell, &t.pf, stack_vf_probe_lock(s));
	scn_bind(s, &t.shell, HM_EV_BIND_BEGIN, &t.pf, 0);
	scn_sriov(s, &t.shell, HM_EV_SRIOV_ENABLE_BEGIN, &t.pf, 2, 0);
	scn_sriov(s, &t.shell, HM_EV_SRIOV_ENABLE_END, &t.pf, 2, -22);
	scn_bind(s, &t.shell, HM_EV_BIND_END, &t.pf, 0);
	scn_unlock(s, &t.shell, &t.pf);
}

/* echo 1 > PF/remove while VF1's driver holds the PF's drvdata: nvme's
 * remove() leaves SR-IOV enabled, then the PF leaves the bus. */
static void build_pf_remove_vfs_bound(struct scenario *s)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");
	struct scn_named_lock rescan = rescan_remove_lock(s);
	union hm_event *removed;

	sriov_enable(s, &t);
	bind_vf(s, &t, &t.vf1, NULL);
	scn_advance(s, 100 * MS);
	scn_nlock(s, &t.shell, &rescan, HM_LOCK_MUTEX, stack_remove_store(s));
	unbind_pf_leaving_vfs(s, &t);
	removed = scn_append(s, &t.shell, HM_EV_PF_REMOVED, stack_pf_remove(s));
	removed->sriov.pf = t.pf;
	removed->sriov.num_vfs = 2;
	scn_nunlock(s, &t.shell, &rescan, HM_LOCK_MUTEX);
}

/* A PF driver whose remove() disables SR-IOV first: no finding. */
static void build_pf_unbind_disables(struct scenario *s)
{
	struct topo t = topo_new("hisi_acc_vfio_pci");

	sriov_enable(s, &t);
	bind_vf(s, &t, &t.vf1, NULL);
	scn_lock(s, &t.shell, &t.pf, stack_unbind_store(s));
	scn_bind(s, &t.shell, HM_EV_UNBIND_BEGIN, &t.pf, 0);
	scn_sriov(s, &t.shell, HM_EV_SRIOV_DISABLE_BEGIN, &t.pf, 0, 0);
	remove_vf(s, &t.shell, &t.vf1);
	remove_vf(s, &t.shell, &t.vf2);
	scn_sriov(s, &t.shell, HM_EV_SRIOV_DISABLE_END, &t.pf, 0, 0);
	scn_bind(s, &t.shell, HM_EV_UNBIND_END, &t.pf, 0);
	scn_unlock(s, &t.shell, &t.pf);
}

static const struct hm_named_scenario scenarios[] = {
	{ "sriov-clean", "SR-IOV enable/disable cycles in the PCI core's order (no finding)",
	  build_sriov_clean },
	{ "seed-bug", "a VF driver's probe locks its PF; SR-IOV disable locks PF then VF",
	  build_seed_bug },
	{ "trylock", "a VF driver's probe trylocks its PF", build_trylock },
	{ "abba", "SR-IOV disable and a VF migration ioctl deadlock on PF/VF locks",
	  build_abba },
	{ "migration-clean", "five clean stop-copy migrations VF1 -> VF2 (no finding)",
	  build_migration_clean },
	{ "migration-broken", "an illegal arc and a failing transition into ERROR",
	  build_migration_broken },
	{ "use-after-unbind", "a VF driver uses PF driver data while the PF unbinds",
	  build_use_after_unbind },
	{ "sriov-blocked", "SR-IOV disable blocked 12 s by an open VFIO device",
	  build_sriov_blocked },
	{ "rescan-cycle", "sysfs remove (rescan lock -> VF) vs reset_done taking the rescan lock",
	  build_rescan_cycle },
	{ "vfio-user-cycle", "a VFIO user takes the PF lock; later SR-IOV disable waits for it",
	  build_vfio_user_cycle },
	{ "vfio-user-deadlock", "SR-IOV disable waits for a VFIO user blocked on the PF lock",
	  build_vfio_user_deadlock },
	{ "locks-clean", "50 rounds of correct orders over device, global, driver and mm locks",
	  build_locks_clean },
	{ "bench", "locks-clean repeated to --events N (default 100000): replay throughput",
	  build_bench },
	{ "rwsem-abba", "read-read, then write-write and reverse read-read orders of two rwsems",
	  build_rwsem_abba },
	{ "rwsem-reader-deadlock", "AER reads pci_bus_sem and waits for the PF; SR-IOV enable "
	  "holds the PF and waits to write it", build_rwsem_reader_deadlock },
	{ "rwsem-recursive-read", "a task reads mmap_lock again while a writer is queued",
	  build_rwsem_recursive_read },
	{ "vf-readdress", "two SR-IOV cycles, VFs swap struct device addresses, correct order "
	  "(no finding)", build_vf_readdress },
	{ "vfio-user-two-pfs", "a VFIO user of PF A's VF reads PF B; PF B's SR-IOV disable "
	  "(no finding)", build_vfio_user_two_pfs },
	{ "longer-cycle", "one new edge closes VF->PF->VF and VF->PF->rescan->VF",
	  build_longer_cycle },
	{ "longer-cycle-later", "VF->PF->VF reported, then PF->rescan closes a cycle through it",
	  build_longer_cycle_later },
	{ "flush-work-order", "a VF store flushes work that takes the PF lock; then SR-IOV disable",
	  build_flush_work_order },
	{ "flush-work-deadlock", "VF store flushes work waiting for the PF lock SR-IOV disable holds",
	  build_flush_work_deadlock },
	{ "flush-work-clean", "PF -> work -> VF flushes, an idle cancel under the VF lock (no finding)",
	  build_flush_work_clean },
	{ "completion-order", "a VF store waits for a completion signalled after the PF lock",
	  build_completion_order },
	{ "pf-unbind-sriov-left", "nvme unbound from a PF with VFs enabled; SR-IOV enable then fails",
	  build_pf_unbind_sriov_left },
	{ "pf-remove-vfs-bound", "a PF removed with VFs enabled, one bound to a driver using its data",
	  build_pf_remove_vfs_bound },
	{ "pf-unbind-disables", "a PF driver that disables SR-IOV in remove() (no finding)",
	  build_pf_unbind_disables },
};

const struct hm_named_scenario *hm_scenarios(size_t *count)
{
	*count = sizeof(scenarios) / sizeof(scenarios[0]);
	return scenarios;
}

const struct hm_named_scenario *hm_scenario_find(const char *name)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}
