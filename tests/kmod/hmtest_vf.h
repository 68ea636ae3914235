/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The functions of hmtest_vf a tracer hooks (fentry/kprobe). They are global
 * and noinline so that each exists as its own symbol in kallsyms and in the
 * module's BTF whatever the compiler would rather do; the names mirror the
 * roles of hisi_acc_vfio_pci's functions (see tests/kmod/README.md).
 */
#ifndef HMTEST_VF_H
#define HMTEST_VF_H

#include <linux/fs.h>
#include <linux/pci.h>
#include <linux/vfio.h>

struct hmtest_vf_device;
struct hmtest_vf_migf;

/* vfio_migration_ops, vfio_device_ops, pci_driver and err_handler entries */
struct file *hmtest_vf_set_device_state(struct vfio_device *vdev,
					enum vfio_device_mig_state new_state);
int hmtest_vf_get_device_state(struct vfio_device *vdev,
			       enum vfio_device_mig_state *curr_state);
int hmtest_vf_get_data_size(struct vfio_device *vdev, unsigned long *stop_copy_length);
int hmtest_vf_init_dev(struct vfio_device *core_vdev);
void hmtest_vf_release_dev(struct vfio_device *core_vdev);
int hmtest_vf_open_device(struct vfio_device *core_vdev);
void hmtest_vf_close_device(struct vfio_device *core_vdev);
int hmtest_vf_probe(struct pci_dev *pdev, const struct pci_device_id *id);
void hmtest_vf_remove(struct pci_dev *pdev);
void hmtest_vf_reset_done(struct pci_dev *pdev);
void hmtest_vf_pf_work(struct work_struct *work);

/* FSM internals (state_mutex held) */
struct file *hmtest_vf_step_state(struct hmtest_vf_device *hvdev, u32 new);
int hmtest_vf_stop_device(struct hmtest_vf_device *hvdev);
int hmtest_vf_start_device(struct hmtest_vf_device *hvdev);
struct file *hmtest_vf_stop_copy(struct hmtest_vf_device *hvdev);
struct file *hmtest_vf_resume_begin(struct hmtest_vf_device *hvdev);
int hmtest_vf_load_state(struct hmtest_vf_device *hvdev);
void hmtest_vf_reset_state(struct hmtest_vf_device *hvdev);
void hmtest_vf_state_mutex_unlock(struct hmtest_vf_device *hvdev);
void hmtest_vf_disable_fds(struct hmtest_vf_device *hvdev);
void hmtest_vf_disable_fd(struct hmtest_vf_migf *migf);

/* data file fops */
ssize_t hmtest_vf_save_read(struct file *filp, char __user *buf, size_t len,
			    loff_t *pos);
ssize_t hmtest_vf_resume_write(struct file *filp, const char __user *buf,
			       size_t len, loff_t *pos);
int hmtest_vf_release_file(struct inode *inode, struct file *filp);

/* PF access and the injected lock-order bug */
int hmtest_vf_use_pf_data(struct hmtest_vf_device *hvdev, u64 *cookie);
void hmtest_vf_lock_pf(struct hmtest_vf_device *hvdev, bool take_vf_lock,
		       bool trylock);

#endif /* HMTEST_VF_H */
