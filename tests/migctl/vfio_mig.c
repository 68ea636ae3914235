// SPDX-License-Identifier: GPL-2.0
#include "vfio_mig.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* One container for every device migctl opens, as in one VMM. */
static int container_fd = -1;
static int container_has_iommu;

static const char *const state_names[] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
};
#define NSTATES (int)(sizeof(state_names) / sizeof(state_names[0]))

const char *mig_state_name(enum vfio_device_mig_state state)
{
	if ((int)state >= 0 && (int)state < NSTATES && state_names[state])
		return state_names[state];
	return "?";
}

int mig_state_parse(const char *name)
{
	char *end;
	long n;

	for (int i = 0; i < NSTATES; i++)
		if (state_names[i] && !strcasecmp(name, state_names[i]))
			return i;
	n = strtol(name, &end, 10);
	if (*name && !*end && n >= 0 && n < 256)
		return (int)n;
	return -1;
}

static int iommu_group_of(const char *bdf)
{
	char link[PATH_MAX], target[PATH_MAX];
	char *end;
	ssize_t n;
	long group;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	group = strtol(basename(target), &end, 10);
	if (*end || group < 0 || group > INT_MAX)
		return -EINVAL;
	return (int)group;
}

static int container_open(void)
{
	if (container_fd >= 0)
		return 0;
	container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container_fd < 0)
		return -errno;
	if (ioctl(container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return -EPROTO;
	if (!ioctl(container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU))
		return -ENOTSUP;
	return 0;
}

/* Attaches a group to the container; the first one selects the IOMMU. */
static int group_attach(int group, int *group_fd)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status) < 0)
		goto fail;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		goto fail;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET) &&
	    ioctl(fd, VFIO_GROUP_SET_CONTAINER, &container_fd) < 0)
		goto fail;
	if (!container_has_iommu) {
		if (ioctl(container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
			goto fail;
		container_has_iommu = 1;
	}
	*group_fd = fd;
	return 0;
fail:
	{
		int err = -errno;

		close(fd);
		return err;
	}
}

int vfio_dev_open(struct vfio_dev *dev, const char *bdf)
{
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->group_fd = dev->fd = dev->data_fd = dev->req_fd = -1;
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	ret = container_open();
	if (ret)
		return ret;
	dev->group = iommu_group_of(bdf);
	if (dev->group < 0)
		return dev->group;
	ret = group_attach(dev->group, &dev->group_fd);
	if (ret)
		return ret;
	dev->fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev->fd < 0)
		return -errno;
	return 0;
}

void vfio_dev_close(struct vfio_dev *dev)
{
	vfio_mig_close_data(dev);
	if (dev->req_fd >= 0)
		close(dev->req_fd);
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	dev->req_fd = dev->fd = dev->group_fd = -1;
}

/* struct vfio_device_feature followed by its payload, suitably aligned. */
union feature_buf {
	struct vfio_device_feature hdr;
	uint8_t bytes[sizeof(struct vfio_device_feature) + 64];
	uint64_t align;
};

static int device_feature(struct vfio_dev *dev, uint32_t flags, void *payload,
			  size_t len)
{
	union feature_buf buf;

	memset(&buf, 0, sizeof(buf));
	buf.hdr.argsz = sizeof(buf.hdr) + len;
	buf.hdr.flags = flags;
	memcpy(buf.hdr.data, payload, len);
	if (ioctl(dev->fd, VFIO_DEVICE_FEATURE, &buf) < 0)
		return -errno;
	memcpy(payload, buf.hdr.data, len);
	return 0;
}

int vfio_mig_probe(struct vfio_dev *dev)
{
	struct vfio_device_feature_migration mig = { 0 };
	int ret;

	ret = device_feature(dev, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
			     &mig, sizeof(mig));
	if (ret)
		return ret;
	dev->mig_flags = mig.flags;
	return (mig.flags & VFIO_MIGRATION_STOP_COPY) ? 0 : -ENOTSUP;
}

void vfio_mig_close_data(struct vfio_dev *dev)
{
	if (dev->data_fd >= 0)
		close(dev->data_fd);
	dev->data_fd = -1;
}

int vfio_mig_set(struct vfio_dev *dev, enum vfio_device_mig_state state)
{
	struct vfio_device_feature_mig_state mig = { .device_state = state, .data_fd = -1 };
	int ret;

	ret = device_feature(dev, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			     &mig, sizeof(mig));
	if (ret)
		return ret;
	if (mig.data_fd >= 0) {
		vfio_mig_close_data(dev);
		dev->data_fd = mig.data_fd;
	}
	return 0;
}

int vfio_mig_get(struct vfio_dev *dev, enum vfio_device_mig_state *state)
{
	struct vfio_device_feature_mig_state mig = { 0 };
	int ret;

	ret = device_feature(dev, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			     &mig, sizeof(mig));
	if (!ret)
		*state = mig.device_state;
	return ret;
}

long vfio_mig_read_all(struct vfio_dev *dev, uint8_t **buf, size_t *cap)
{
	size_t len = 0;
	ssize_t n;

	if (dev->data_fd < 0)
		return -EBADF;
	for (;;) {
		if (len == *cap) {
			size_t ncap = *cap ? *cap * 2 : 65536;
			uint8_t *nbuf = realloc(*buf, ncap);

			if (!nbuf)
				return -ENOMEM;
			*buf = nbuf;
			*cap = ncap;
		}
		n = read(dev->data_fd, *buf + len, *cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return (long)len;
		len += (size_t)n;
	}
}

long vfio_mig_write_all(struct vfio_dev *dev, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	if (dev->data_fd < 0)
		return -EBADF;
	while (done < len) {
		/* Chunks the size QEMU uses for its migration buffer. */
		size_t chunk = len - done < 16384 ? len - done : 16384;

		n = write(dev->data_fd, buf + done, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return (long)done;
}

int vfio_dev_reset(struct vfio_dev *dev)
{
	return ioctl(dev->fd, VFIO_DEVICE_RESET) < 0 ? -errno : 0;
}

int vfio_dev_arm_request(struct vfio_dev *dev)
{
	union {
		struct vfio_irq_set set;
		uint8_t bytes[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} irq;
	int32_t efd;

	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return -errno;
	memset(&irq, 0, sizeof(irq));
	irq.set.argsz = sizeof(irq);
	irq.set.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq.set.index = VFIO_PCI_REQ_IRQ_INDEX;
	irq.set.start = 0;
	irq.set.count = 1;
	memcpy(irq.set.data, &efd, sizeof(efd));
	if (ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &irq) < 0) {
		int err = -errno;

		close(efd);
		return err;
	}
	dev->req_fd = efd;
	return 0;
}

int vfio_dev_wait_request(struct vfio_dev *dev, long ms)
{
	struct pollfd pfd = { .fd = dev->req_fd, .events = POLLIN };
	uint64_t count;
	int n;

	if (dev->req_fd < 0)
		return 0;
	do {
		n = poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (read(dev->req_fd, &count, sizeof(count)) < 0)
		return -errno;
	return 1;
}
