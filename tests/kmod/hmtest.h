/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared between hmtest_pf (the companion PF driver) and hmtest_vf (the
 * vfio-pci migration variant driver for its VFs).
 */
#ifndef HMTEST_H
#define HMTEST_H

#include <linux/kref.h>
#include <linux/pci.h>
#include <linux/types.h>

/*
 * The PF driver's drvdata. hmtest_vf reaches it with pci_iov_get_pf_drvdata()
 * the way hisi_acc_vfio_pci reaches the PF's hisi_qm. It is reference counted
 * only so that the use-after-unbind fault of hmtest_vf (fault_cache_pf_data)
 * reads memory that is still allocated: the kernel's contract gives no such
 * guarantee, and correct VF code never takes a reference.
 */
struct hmtest_pf_data {
	struct kref ref;
	struct pci_dev *pdev;
	/* Compatibility data a VF's migration stream carries (cf. qp_num). */
	u64 cookie;
	/* False once hmtest_pf's remove() ran: the drvdata is dead. */
	bool bound;
};

struct pci_driver *hmtest_pf_get_driver(void);
void hmtest_pf_data_get(struct hmtest_pf_data *data);
void hmtest_pf_data_put(struct hmtest_pf_data *data);

/* hmtest_pf's traceable entry points (global, noinline) */
int hmtest_pf_probe(struct pci_dev *pdev, const struct pci_device_id *id);
void hmtest_pf_remove(struct pci_dev *pdev);
int hmtest_pf_sriov_configure(struct pci_dev *pdev, int num_vfs);

#endif /* HMTEST_H */
