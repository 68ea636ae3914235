// SPDX-License-Identifier: GPL-2.0
/*
 * cpu-time: run a command and write "wall_s cpu_s maxrss_kib" of it to
 * OUT, in microseconds where GNU time prints hundredths: a replay of a
 * million events takes a tenth of a second, so hundredths would quantize
 * the events/s figure of `make bench-replay` to 10%.
 *
 *   cpu-time OUT CMD [ARG...]
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	double start;
	FILE *out;
	pid_t pid;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: cpu-time OUT CMD [ARG...]\n");
		return 2;
	}
	start = now_s();
	pid = fork();
	if (pid < 0) {
		perror("cpu-time: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("cpu-time: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("cpu-time: wait4");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (!out || fprintf(out, "%.6f %.6f %ld\n", now_s() - start,
			    seconds(ru.ru_utime) + seconds(ru.ru_stime), ru.ru_maxrss) < 0 ||
	    fclose(out)) {
		perror(argv[1]);
		return 2;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
