// SPDX-License-Identifier: GPL-2.0
#include "process_metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* utime, stime, starttime (clock ticks since boot), vsize, rss (pages). */
static bool read_stat(unsigned long long *ticks, unsigned long long *start,
		      unsigned long long *vsize, long long *rss)
{
	char buf[1024], *p;
	unsigned long long utime, stime;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the comm may hold spaces and parentheses */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
			 "%*d %*d %*d %*d %llu %llu %lld", &utime, &stime, start, vsize, rss) != 5)
		return false;
	*ticks = utime + stime;
	return true;
}

static bool boot_time(unsigned long long *btime)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "btime %llu", btime) == 1;
	fclose(f);
	return found;
}

static uint64_t count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n ? n - 1 : 0; /* not the directory's own descriptor */
}

bool hm_process_stats_read(struct hm_process_stats *st)
{
	unsigned long long ticks, start, vsize, btime;
	long long rss;
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit lim;

	if (hz <= 0 || page <= 0 || !read_stat(&ticks, &start, &vsize, &rss) || !boot_time(&btime))
		return false;
	st->cpu_seconds = (double)ticks / (double)hz;
	st->resident_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
	st->virtual_bytes = vsize;
	st->start_time_seconds = (double)btime + (double)start / (double)hz;
	st->open_fds = count_fds();
	st->max_fds = getrlimit(RLIMIT_NOFILE, &lim) || lim.rlim_cur == RLIM_INFINITY ? 0 :
		      (uint64_t)lim.rlim_cur;
	return true;
}

static void gauge(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void hm_process_stats_write(const struct hm_process_stats *st, FILE *out)
{
	gauge(out, "process_cpu_seconds_total", "counter",
	      "Total user and system CPU time spent in seconds.");
	fprintf(out, "process_cpu_seconds_total %.2f\n", st->cpu_seconds);
	gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	fprintf(out, "process_resident_memory_bytes %" PRIu64 "\n", st->resident_bytes);
	gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	fprintf(out, "process_virtual_memory_bytes %" PRIu64 "\n", st->virtual_bytes);
	gauge(out, "process_start_time_seconds", "gauge",
	      "Start time of the process since unix epoch in seconds.");
	fprintf(out, "process_start_time_seconds %.2f\n", st->start_time_seconds);
	gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.");
	fprintf(out, "process_open_fds %" PRIu64 "\n", st->open_fds);
	if (st->max_fds) {
		gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		fprintf(out, "process_max_fds %" PRIu64 "\n", st->max_fds);
	}
}
