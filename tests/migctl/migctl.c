// SPDX-License-Identifier: GPL-2.0
/*
 * migctl: drives the VFIO live migration uAPI (v2) on VFs the way QEMU does.
 *
 *   migctl migrate [--cycles N] [--hold MS] [--pingpong] SRC DST
 *       Per cycle: SRC RUNNING -> STOP -> STOP_COPY, read the data fd to EOF,
 *       -> STOP; DST -> RESUMING, write the data, -> STOP -> RUNNING; SRC back
 *       to RUNNING (a VMM would discard it; we keep it for the next cycle).
 *       --hold MS keeps SRC in STOP_COPY that long before reading;
 *       --pingpong swaps SRC and DST after each cycle.
 *
 *   migctl run BDF ACTION...
 *       One device, the actions in order:
 *         --set STATE      request STATE (name or number; any arc, legal or not)
 *         --arc FROM:TO    --set FROM, then --set TO (the arc under test)
 *         --read           read the data fd to EOF (bytes kept for --write)
 *         --write          write the bytes last read to the data fd
 *         --close-data     close the data fd
 *         --get            GET the state
 *         --reset          VFIO_DEVICE_RESET
 *         --wait-request   arm the request eventfd (device unplug / SR-IOV off)
 *         --hold MS        wait MS ms; with --wait-request armed, a request
 *                          ends the run: everything is closed, exit 0
 *       A failing action is reported and the run goes on; the exit status
 *       is then 1.
 *
 * Every step prints one line of key=value pairs, e.g.
 *   set dev=0000:01:00.1 from=RUNNING to=STOP_COPY rc=0 data_fd=yes ms=3 state=STOP_COPY
 * (state= is a GET after the step). Exit: 0 all steps succeeded, 1 a step
 * failed, 2 usage, 3 the device could not be opened or does not migrate.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vfio_mig.h"

#define EXIT_STEP	1
#define EXIT_USAGE	2
#define EXIT_DEVICE	3

static int failures;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: migctl migrate [--cycles N] [--hold MS] [--pingpong] SRC_BDF DST_BDF\n"
		"       migctl run BDF [--set STATE | --arc FROM:TO | --read | --write |\n"
		"                       --close-data | --get | --reset | --wait-request |\n"
		"                       --hold MS]...\n"
		"STATE: ERROR STOP RUNNING STOP_COPY RESUMING RUNNING_P2P or a number\n");
	return EXIT_USAGE;
}

static long parse_num(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || !*s || *end || n < 0)
		return -1;
	return n;
}

/* Records a failed step (rc < 0) for the exit status; returns rc. */
static int note(int rc)
{
	if (rc < 0)
		failures++;
	return rc;
}

static const char *current_state(struct vfio_dev *dev)
{
	enum vfio_device_mig_state state;

	if (vfio_mig_get(dev, &state))
		return "?";
	return mig_state_name(state);
}

static int open_migratable(struct vfio_dev *dev, const char *bdf)
{
	int ret;

	ret = vfio_dev_open(dev, bdf);
	if (ret) {
		printf("open dev=%s rc=%d err=\"%s\"\n", bdf, ret, strerror(-ret));
		return ret;
	}
	ret = vfio_mig_probe(dev);
	printf("open dev=%s group=%d rc=%d migration_flags=%#llx state=%s\n", bdf,
	       dev->group, ret, (unsigned long long)dev->mig_flags, current_state(dev));
	return ret;
}

/* --- steps; each prints its line ---------------------------------------- */

static int step_set(struct vfio_dev *dev, int state)
{
	const char *from = current_state(dev);
	uint64_t start = now_ms();
	int ret;

	ret = note(vfio_mig_set(dev, (enum vfio_device_mig_state)state));
	printf("set dev=%s from=%s to=%s rc=%d%s%s data_fd=%s ms=%llu state=%s\n",
	       dev->bdf, from, mig_state_name(state), ret, ret ? " err=" : "",
	       ret ? strerror(-ret) : "", dev->data_fd >= 0 ? "yes" : "no",
	       (unsigned long long)(now_ms() - start), current_state(dev));
	fflush(stdout);
	return ret;
}

static long step_read(struct vfio_dev *dev, uint8_t **buf, size_t *cap)
{
	uint64_t start = now_ms();
	long n;

	n = vfio_mig_read_all(dev, buf, cap);
	note(n < 0 ? (int)n : 0);
	printf("read dev=%s rc=%ld bytes=%ld ms=%llu\n", dev->bdf, n < 0 ? n : 0,
	       n < 0 ? 0 : n, (unsigned long long)(now_ms() - start));
	fflush(stdout);
	return n;
}

static long step_write(struct vfio_dev *dev, const uint8_t *buf, size_t len)
{
	long n;

	n = vfio_mig_write_all(dev, buf, len);
	note(n < 0 ? (int)n : 0);
	printf("write dev=%s rc=%ld bytes=%ld\n", dev->bdf, n < 0 ? n : 0, n < 0 ? 0 : n);
	fflush(stdout);
	return n;
}

/* Returns 1 if a device release request arrived during the hold. */
static int step_hold(struct vfio_dev *dev, long ms)
{
	uint64_t start = now_ms();
	int got;

	if (dev->req_fd < 0) {
		usleep((useconds_t)ms * 1000);
		printf("hold dev=%s ms=%ld\n", dev->bdf, ms);
		fflush(stdout);
		return 0;
	}
	got = vfio_dev_wait_request(dev, ms);
	printf("hold dev=%s ms=%llu request=%s\n", dev->bdf,
	       (unsigned long long)(now_ms() - start), got > 0 ? "yes" : "no");
	fflush(stdout);
	return got > 0;
}

/* --- migrate ------------------------------------------------------------ */

struct migrate_opts {
	long cycles;
	long hold_ms;
	bool pingpong;
};

static int migrate_cycle(struct vfio_dev *src, struct vfio_dev *dst,
			 const struct migrate_opts *o, long cycle,
			 uint8_t **buf, size_t *cap)
{
	uint64_t downtime_start;
	long n;

	if (step_set(src, VFIO_DEVICE_STATE_STOP))
		return -1;
	downtime_start = now_ms();
	if (step_set(src, VFIO_DEVICE_STATE_STOP_COPY))
		return -1;
	if (o->hold_ms)
		step_hold(src, o->hold_ms);
	n = step_read(src, buf, cap);
	if (n < 0)
		return -1;
	if (step_set(src, VFIO_DEVICE_STATE_STOP))
		return -1;
	if (step_set(dst, VFIO_DEVICE_STATE_RESUMING))
		return -1;
	if (step_write(dst, *buf, (size_t)n) < 0)
		return -1;
	if (step_set(dst, VFIO_DEVICE_STATE_STOP) || step_set(dst, VFIO_DEVICE_STATE_RUNNING))
		return -1;
	printf("cycle=%ld src=%s dst=%s bytes=%ld downtime_ms=%llu\n", cycle, src->bdf,
	       dst->bdf, n, (unsigned long long)(now_ms() - downtime_start));
	if (step_set(src, VFIO_DEVICE_STATE_RUNNING))
		return -1;
	return 0;
}

static int cmd_migrate(int argc, char **argv)
{
	struct migrate_opts o = { .cycles = 1 };
	struct vfio_dev a, b, *src = &a, *dst = &b, *tmp;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int i, ret = 0;

	for (i = 0; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--pingpong")) {
			o.pingpong = true;
		} else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) {
			o.cycles = parse_num(argv[++i]);
			if (o.cycles < 1)
				return usage();
		} else if (!strcmp(argv[i], "--hold") && i + 1 < argc) {
			o.hold_ms = parse_num(argv[++i]);
			if (o.hold_ms < 0)
				return usage();
		} else {
			return usage();
		}
	}
	if (argc - i != 2)
		return usage();
	if (open_migratable(&a, argv[i]) || open_migratable(&b, argv[i + 1]))
		return EXIT_DEVICE;

	for (long c = 1; c <= o.cycles; c++) {
		if (migrate_cycle(src, dst, &o, c, &buf, &cap)) {
			ret = EXIT_STEP;
			break;
		}
		if (o.pingpong) {
			tmp = src;
			src = dst;
			dst = tmp;
		}
	}
	printf("result=%s cycles=%ld\n", ret ? "fail" : "ok", o.cycles);
	free(buf);
	vfio_dev_close(&a);
	vfio_dev_close(&b);
	return ret;
}

/* --- run ---------------------------------------------------------------- */

static int parse_arc(const char *arg, int *from, int *to)
{
	char name[64];
	const char *colon = strchr(arg, ':');

	if (!colon || (size_t)(colon - arg) >= sizeof(name))
		return -1;
	memcpy(name, arg, (size_t)(colon - arg));
	name[colon - arg] = '\0';
	*from = mig_state_parse(name);
	*to = mig_state_parse(colon + 1);
	return *from < 0 || *to < 0 ? -1 : 0;
}

/* Checks the action list before the device is touched. */
static int validate_actions(int argc, char **argv)
{
	int from, to;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--set")) {
			if (++i >= argc || mig_state_parse(argv[i]) < 0)
				return -1;
		} else if (!strcmp(a, "--arc")) {
			if (++i >= argc || parse_arc(argv[i], &from, &to))
				return -1;
		} else if (!strcmp(a, "--hold")) {
			if (++i >= argc || parse_num(argv[i]) < 0)
				return -1;
		} else if (strcmp(a, "--read") && strcmp(a, "--write") &&
			   strcmp(a, "--close-data") && strcmp(a, "--get") &&
			   strcmp(a, "--reset") && strcmp(a, "--wait-request")) {
			return -1;
		}
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct vfio_dev dev;
	uint8_t *buf = NULL;
	size_t cap = 0;
	long len = 0;
	int from, to, ret;
	bool released = false;

	if (argc < 1 || argv[0][0] == '-' || validate_actions(argc - 1, argv + 1))
		return usage();
	if (open_migratable(&dev, argv[0]))
		return EXIT_DEVICE;

	for (int i = 1; i < argc && !released; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--set")) {
			step_set(&dev, mig_state_parse(argv[++i]));
		} else if (!strcmp(a, "--arc")) {
			parse_arc(argv[++i], &from, &to);
			step_set(&dev, from);
			printf("arc dev=%s from=%s to=%s\n", dev.bdf, mig_state_name(from),
			       mig_state_name(to));
			step_set(&dev, to);
		} else if (!strcmp(a, "--read")) {
			long n = step_read(&dev, &buf, &cap);

			len = n < 0 ? 0 : n;
		} else if (!strcmp(a, "--write")) {
			step_write(&dev, buf, (size_t)len);
		} else if (!strcmp(a, "--close-data")) {
			vfio_mig_close_data(&dev);
			printf("close-data dev=%s\n", dev.bdf);
		} else if (!strcmp(a, "--get")) {
			enum vfio_device_mig_state state = VFIO_DEVICE_STATE_ERROR;

			ret = note(vfio_mig_get(&dev, &state));
			printf("get dev=%s rc=%d state=%s\n", dev.bdf, ret,
			       ret ? "?" : mig_state_name(state));
		} else if (!strcmp(a, "--reset")) {
			ret = note(vfio_dev_reset(&dev));
			printf("reset dev=%s rc=%d state=%s\n", dev.bdf, ret, current_state(&dev));
		} else if (!strcmp(a, "--wait-request")) {
			ret = note(vfio_dev_arm_request(&dev));
			printf("wait-request dev=%s rc=%d\n", dev.bdf, ret);
		} else if (!strcmp(a, "--hold")) {
			released = step_hold(&dev, parse_num(argv[++i]));
		}
		fflush(stdout);
	}
	/* On a release request QEMU unplugs the device: close it all now. */
	vfio_dev_close(&dev);
	if (released)
		printf("released dev=%s reason=request\n", argv[0]);
	printf("result=%s failures=%d\n", failures ? "fail" : "ok", failures);
	free(buf);
	return failures ? EXIT_STEP : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "migrate"))
		return cmd_migrate(argc - 2, argv + 2);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	return usage();
}
