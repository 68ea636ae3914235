// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs-loop: the mutex-heavy workload of `make bench`. Reads one sysfs
 * attribute N times with pread (one open: no fork/exec noise); each read of
 * a PF's sriov_numvfs takes kernfs's of->mutex and device_lock(PF).
 *
 *   sysfs-loop N PATH      prints "ops=N ns=T ns_per_op=X"
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc == 3 ? strtol(argv[1], NULL, 10) : 0;
	char buf[64];
	long long t0;
	int fd;

	if (n <= 0) {
		fprintf(stderr, "usage: sysfs-loop N PATH\n");
		return 2;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (pread(fd, buf, sizeof(buf), 0) < 0) {
			perror("pread");
			return 1;
		}
	t0 = now_ns() - t0;
	printf("ops=%ld ns=%lld ns_per_op=%.0f\n", n, t0, (double)t0 / n);
	close(fd);
	return 0;
}
