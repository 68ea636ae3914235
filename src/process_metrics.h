/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracer's own cost as the standard process_* metrics of Prometheus
 * clients (CPU, memory, file descriptors, start time), read from /proc.
 */
#ifndef HM_PROCESS_METRICS_H
#define HM_PROCESS_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct hm_process_stats {
	double cpu_seconds;           /* user + system */
	uint64_t resident_bytes;
	uint64_t virtual_bytes;
	double start_time_seconds;    /* since the Unix epoch */
	uint64_t open_fds;
	uint64_t max_fds;             /* RLIMIT_NOFILE soft limit */
};

/* false if /proc could not be read (the metrics are then left out). */
bool hm_process_stats_read(struct hm_process_stats *st);
void hm_process_stats_write(const struct hm_process_stats *st, FILE *out);

#endif
