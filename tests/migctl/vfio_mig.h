/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VFIO calls migctl makes, in the order a VMM makes them: container and
 * group (type1 IOMMU), device fd, migration feature, state changes, data fd
 * I/O, device reset and the request (unplug) eventfd.
 */
#ifndef MIGCTL_VFIO_MIG_H
#define MIGCTL_VFIO_MIG_H

#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

struct vfio_dev {
	char bdf[32];
	int group;
	int group_fd;
	int fd;
	int data_fd;		/* from the last state change that returned one */
	int req_fd;		/* eventfd for VFIO_PCI_REQ_IRQ_INDEX, or -1 */
	uint64_t mig_flags;	/* VFIO_MIGRATION_* */
};

/* Opens BDF through the (shared) container. 0 or -errno. */
int vfio_dev_open(struct vfio_dev *dev, const char *bdf);
void vfio_dev_close(struct vfio_dev *dev);

/* Fills dev->mig_flags; -errno if the device does not migrate. */
int vfio_mig_probe(struct vfio_dev *dev);
/* SET the state; a returned data fd replaces dev->data_fd. 0 or -errno. */
int vfio_mig_set(struct vfio_dev *dev, enum vfio_device_mig_state state);
/* GET the state. 0 or -errno. */
int vfio_mig_get(struct vfio_dev *dev, enum vfio_device_mig_state *state);
void vfio_mig_close_data(struct vfio_dev *dev);

/* Reads the data fd to EOF into *buf (grown as needed). Bytes or -errno. */
long vfio_mig_read_all(struct vfio_dev *dev, uint8_t **buf, size_t *cap);
/* Writes len bytes to the data fd. Bytes or -errno. */
long vfio_mig_write_all(struct vfio_dev *dev, const uint8_t *buf, size_t len);

int vfio_dev_reset(struct vfio_dev *dev);
/* Arms the request eventfd. 0 or -errno. */
int vfio_dev_arm_request(struct vfio_dev *dev);
/* Waits up to ms for a request; 1 if one came, 0 if not, -errno. */
int vfio_dev_wait_request(struct vfio_dev *dev, long ms);

const char *mig_state_name(enum vfio_device_mig_state state);
/* State by name (case-insensitive) or number; -1 if unknown. */
int mig_state_parse(const char *name);

#endif /* MIGCTL_VFIO_MIG_H */
