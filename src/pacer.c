// SPDX-License-Identifier: GPL-2.0
#include "pacer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

void hm_pacer_init(struct hm_pacer *p, double speed)
{
	*p = (struct hm_pacer){ .speed = speed };
}

void hm_pacer_wait(struct hm_pacer *p, uint64_t ts)
{
	struct timespec due;
	uint64_t offset_ns;

	if (p->speed <= 0)
		return;
	if (!p->started) {
		p->started = true;
		p->first_ts = ts;
		clock_gettime(CLOCK_MONOTONIC, &p->start);
		return;
	}
	if (ts <= p->first_ts)
		return;
	offset_ns = (uint64_t)((double)(ts - p->first_ts) / p->speed);
	due.tv_sec = p->start.tv_sec + (time_t)(offset_ns / 1000000000ULL);
	due.tv_nsec = p->start.tv_nsec + (long)(offset_ns % 1000000000ULL);
	if (due.tv_nsec >= 1000000000L) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
		;
}

bool hm_pacer_parse_speed(const char *text, double *speed)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v) || v <= 0 || v > 1e6)
		return false;
	*speed = v;
	return true;
}
