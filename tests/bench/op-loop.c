// SPDX-License-Identifier: GPL-2.0
/*
 * op-loop: the workloads of `make bench-guest`, N operations of one kind,
 * timed as a whole (one process: no fork/exec noise).
 *
 *   op-loop N PATH     pread() of one open file (a sysfs attribute): kernfs's
 *                      of->mutex, plus device_lock(PF) for a PF's sriov_numvfs
 *   op-loop N faults   map one anonymous page, fault it in, unmap it: mmap_lock
 *                      for write twice (mmap, munmap) and a page fault's
 *                      mmap_lock read trylock, no mutex
 *   op-loop N WHAT RATE  the same, paced to RATE operations per second (a
 *                      sustained event rate; 0 = as fast as possible)
 *
 * Prints "ops=N ns=T ns_per_op=X".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Operation i of a loop paced to rate ops/s starts at start + i / rate: sleep
 * until then (absolute, so oversleeping once does not slow the rest). */
static void pace(long long start, long i, long rate)
{
	long long due;
	struct timespec ts;

	if (rate <= 0)
		return;
	due = start + i * 1000000000LL / rate;
	ts.tv_sec = due / 1000000000LL;
	ts.tv_nsec = due % 1000000000LL;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int pread_loop(long n, const char *path, long rate)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long long start = now_ns();

	if (fd < 0) {
		perror(path);
		return -1;
	}
	for (long i = 0; i < n; i++) {
		pace(start, i, rate);
		if (pread(fd, buf, sizeof(buf), 0) < 0) {
			perror("pread");
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static int fault_loop(long n, long rate)
{
	long page = sysconf(_SC_PAGESIZE);
	long long start = now_ns();

	for (long i = 0; i < n; i++) {
		volatile char *p;

		pace(start, i, rate);
		p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("mmap");
			return -1;
		}
		p[0] = 1; /* the page fault */
		munmap((void *)p, page);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc == 3 || argc == 4 ? strtol(argv[1], NULL, 10) : 0;
	long rate = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
	long long t0;
	int err;

	if (n <= 0 || rate < 0) {
		fprintf(stderr, "usage: op-loop N PATH|faults [RATE]\n");
		return 2;
	}
	t0 = now_ns();
	err = strcmp(argv[2], "faults") ? pread_loop(n, argv[2], rate) : fault_loop(n, rate);
	t0 = now_ns() - t0;
	if (err)
		return 1;
	printf("ops=%ld ns=%lld ns_per_op=%.0f\n", n, t0, (double)t0 / n);
	return 0;
}
