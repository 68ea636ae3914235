// SPDX-License-Identifier: GPL-2.0
/*
 * hmtest_pf: companion PF driver for hmtest_vf, bound (through
 * driver_override) to QEMU's SR-IOV capable NVMe controller. It only does
 * what a PF driver owes its VFs' variant driver: SR-IOV configuration and a
 * drvdata that the VF driver reads through pci_iov_get_pf_drvdata().
 *
 * Fault injection (runtime writable, off by default):
 *   fault_keep_vfs_on_remove  remove() skips pci_disable_sriov(): the VFs
 *                             outlive the PF driver's drvdata, breaking the
 *                             rule pci_iov_get_pf_drvdata() relies on.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "hmtest.h"

static bool fault_keep_vfs_on_remove;
module_param(fault_keep_vfs_on_remove, bool, 0644);
MODULE_PARM_DESC(fault_keep_vfs_on_remove,
		 "remove() leaves SR-IOV enabled (VFs outlive the PF drvdata)");

static struct pci_driver hmtest_pf_driver;

struct pci_driver *hmtest_pf_get_driver(void)
{
	return &hmtest_pf_driver;
}
EXPORT_SYMBOL_GPL(hmtest_pf_get_driver);

static void hmtest_pf_data_release(struct kref *ref)
{
	kfree(container_of(ref, struct hmtest_pf_data, ref));
}

void hmtest_pf_data_get(struct hmtest_pf_data *data)
{
	kref_get(&data->ref);
}
EXPORT_SYMBOL_GPL(hmtest_pf_data_get);

void hmtest_pf_data_put(struct hmtest_pf_data *data)
{
	kref_put(&data->ref, hmtest_pf_data_release);
}
EXPORT_SYMBOL_GPL(hmtest_pf_data_put);

/* Same contract as pci_sriov_configure_simple(), but out of line here. */
noinline int hmtest_pf_sriov_configure(struct pci_dev *pdev, int num_vfs)
{
	int ret;

	if (!num_vfs) {
		if (pci_vfs_assigned(pdev))
			return -EPERM;
		pci_disable_sriov(pdev);
		return 0;
	}
	ret = pci_enable_sriov(pdev, num_vfs);
	return ret ? ret : num_vfs;
}

noinline int hmtest_pf_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct hmtest_pf_data *data;

	if (pdev->is_virtfn || !pdev->sriov)
		return -ENODEV;
	data = kzalloc(sizeof(*data), GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	kref_init(&data->ref);
	data->pdev = pdev;
	data->cookie = get_random_u64();
	data->bound = true;
	pci_set_drvdata(pdev, data);
	pci_info(pdev, "hmtest_pf bound, cookie %#llx\n", data->cookie);
	return 0;
}

noinline void hmtest_pf_remove(struct pci_dev *pdev)
{
	struct hmtest_pf_data *data = pci_get_drvdata(pdev);

	/*
	 * The kernel-doc of pci_iov_get_pf_drvdata(): disable SR-IOV before
	 * destroying the drvdata, so that no VF driver can still use it.
	 */
	if (fault_keep_vfs_on_remove)
		pci_warn(pdev, "fault: leaving %d VFs behind\n", pci_num_vf(pdev));
	else
		pci_disable_sriov(pdev);
	data->bound = false;
	pci_set_drvdata(pdev, NULL);
	hmtest_pf_data_put(data);
}

/* Only through driver_override: the controller normally belongs to nvme. */
static const struct pci_device_id hmtest_pf_ids[] = {
	{ PCI_DEVICE_DRIVER_OVERRIDE(PCI_VENDOR_ID_REDHAT, 0x0010, 1) },
	{}
};
MODULE_DEVICE_TABLE(pci, hmtest_pf_ids);

static struct pci_driver hmtest_pf_driver = {
	.name = "hmtest_pf",
	.id_table = hmtest_pf_ids,
	.probe = hmtest_pf_probe,
	.remove = hmtest_pf_remove,
	.sriov_configure = hmtest_pf_sriov_configure,
};
module_pci_driver(hmtest_pf_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hisimig-trace test PF driver (SR-IOV companion of hmtest_vf)");
