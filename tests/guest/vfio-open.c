// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-open: open a PCI device bound to vfio-pci the way a VMM does
 * (container, group, VFIO_GROUP_GET_DEVICE_FD) and optionally keep it open.
 *
 *   vfio-open [--hold SECONDS] [--read PATH] [--touch-bar N] [--reset COUNT]
 *             DOMAIN:BUS:DEV.FN
 *
 * Prints one line "device=BDF group=N fd=FD regions=R irqs=I" once the device
 * fd is open (flushed, so a test reading it knows the device is held), then
 * reads PATH once if asked (a sysfs file: the kernel locks of its show()
 * are then taken by a VFIO user holding the device), maps BAR N and reads
 * its first word (a page fault into vfio-pci-core: mmap_lock, then the
 * device's memory_lock), resets the device COUNT times (VFIO_DEVICE_RESET:
 * memory_lock for write, then the driver's reset_done), then
 * holds it for SECONDS (0: until SIGTERM/SIGINT). Exit 0 on success, 1 on any
 * VFIO error (with the failing step and errno), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int fail(const char *step, const char *what)
{
	fprintf(stderr, "vfio-open: %s %s: %s\n", step, what, strerror(errno));
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: vfio-open [--hold SECONDS] [--read PATH] [--touch-bar N] "
			"[--reset COUNT] DOMAIN:BUS:DEV.FN\n");
	return 2;
}

/* The IOMMU group number is the name the iommu_group link points to. */
static int iommu_group(const char *bdf)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	char *end;
	long group;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	errno = 0;
	group = strtol(basename(target), &end, 10);
	if (errno || *end || group < 0 || group > INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	return (int)group;
}

/* A non-negative decimal option value, or -1. */
static long count_arg(const char *text)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	return errno || *text == '\0' || *end || v < 0 || v > INT_MAX ? -1 : v;
}

/* Fault on the first page of BAR `bar` through a shared mapping, as a VMM's
 * guest touching a passed-through BAR does. */
static int touch_bar(int device, long bar)
{
	struct vfio_region_info region = { .argsz = sizeof(region), .index = (__u32)bar };
	volatile uint32_t *map;
	long page = sysconf(_SC_PAGESIZE);

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &region) < 0)
		return fail("VFIO_DEVICE_GET_REGION_INFO", "BAR");
	if (!(region.flags & VFIO_REGION_INFO_FLAG_MMAP) || region.size < (__u64)page) {
		errno = ENOTSUP;
		return fail("mmap", "BAR (not mappable)");
	}
	map = mmap(NULL, page, PROT_READ, MAP_SHARED, device, (off_t)region.offset);
	if (map == MAP_FAILED)
		return fail("mmap", "BAR");
	printf("bar %ld word0=0x%x\n", bar, map[0]);
	fflush(stdout);
	munmap((void *)map, page);
	return 0;
}

int main(int argc, char **argv)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char path[64];
	long hold = -1, bar = -1, resets = 0;
	const char *bdf, *read_path = NULL;
	int container, group_fd, device, group, i;

	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--hold") == 0) {
			hold = count_arg(argv[i + 1]);
			if (hold < 0)
				return usage();
		} else if (strcmp(argv[i], "--read") == 0) {
			read_path = argv[i + 1];
		} else if (strcmp(argv[i], "--touch-bar") == 0) {
			bar = count_arg(argv[i + 1]);
			if (bar < 0 || bar > VFIO_PCI_BAR5_REGION_INDEX)
				return usage();
		} else if (strcmp(argv[i], "--reset") == 0) {
			resets = count_arg(argv[i + 1]);
			if (resets < 0)
				return usage();
		} else {
			return usage();
		}
	}
	if (i != argc - 1)
		return usage();
	bdf = argv[i];

	group = iommu_group(bdf);
	if (group < 0)
		return fail("iommu_group of", bdf);

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		return fail("open", "/dev/vfio/vfio");
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		errno = EPROTO;
		return fail("VFIO_GET_API_VERSION", "/dev/vfio/vfio");
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (group_fd < 0)
		return fail("open", path);
	if (ioctl(group_fd, VFIO_GROUP_GET_STATUS, &status) < 0)
		return fail("VFIO_GROUP_GET_STATUS", path);
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		return fail("group not viable (another device of the group not bound to vfio?)", path);
	}
	if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container) < 0)
		return fail("VFIO_GROUP_SET_CONTAINER", path);
	/* A group has no device fds until its container has an IOMMU model. */
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		return fail("VFIO_SET_IOMMU(TYPE1v2)", path);
	device = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (device < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD", bdf);
	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0)
		return fail("VFIO_DEVICE_GET_INFO", bdf);

	printf("device=%s group=%d fd=%d regions=%u irqs=%u\n",
	       bdf, group, device, info.num_regions, info.num_irqs);
	fflush(stdout);

	if (read_path) {
		char buf[256];
		FILE *f = fopen(read_path, "re");

		if (!f || !fgets(buf, sizeof(buf), f))
			return fail("read", read_path);
		fclose(f);
		printf("read %s: %s", read_path, buf);
		fflush(stdout);
	}
	if (bar >= 0 && touch_bar(device, bar))
		return 1;
	for (long n = 0; n < resets; n++)
		if (ioctl(device, VFIO_DEVICE_RESET) < 0)
			return fail("VFIO_DEVICE_RESET", bdf);
	if (resets) {
		printf("reset %ld times\n", resets);
		fflush(stdout);
	}
	if (hold >= 0) {
		struct sigaction sa = { .sa_handler = on_signal };

		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		/* sleep() returns early when a signal arrives; hold 0 = forever. */
		for (long left = hold; !stop && (hold == 0 || left > 0); left--)
			sleep(1);
	}
	close(device);
	close(group_fd);
	close(container);
	return 0;
}
