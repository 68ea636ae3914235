// SPDX-License-Identifier: GPL-2.0
#include "pacer.h"

#include <errno.h>

void hm_pacer_init(struct hm_pacer *p, double speed, const volatile sig_atomic_t *stop)
{
	*p = (struct hm_pacer){ .speed = speed, .stop = stop };
}

static uint64_t scaled_ns(const struct hm_pacer *p, uint64_t trace_ns)
{
	double ns = (double)trace_ns / p->speed;

	return ns >= 1.8e19 ? UINT64_MAX : (uint64_t)ns;
}

void hm_pacer_wait(struct hm_pacer *p, uint64_t ts)
{
	struct timespec due;
	uint64_t due_ns;

	if (p->speed <= 0)
		return;
	if (!p->started) {
		p->started = true;
		p->base_ts = p->last_ts = ts;
		clock_gettime(CLOCK_MONOTONIC, &p->start);
		return;
	}
	if (ts > p->last_ts && scaled_ns(p, ts - p->last_ts) > HM_PACER_MAX_GAP_NS) {
		/* a capped pause: pace from here on relative to this event */
		p->base_ts = ts;
		p->base_due_ns = p->last_due_ns + HM_PACER_MAX_GAP_NS;
	}
	if (ts < p->base_ts)
		return; /* out of order: due at once */
	due_ns = p->base_due_ns + scaled_ns(p, ts - p->base_ts);
	if (ts >= p->last_ts) {
		p->last_ts = ts;
		p->last_due_ns = due_ns;
	}
	due.tv_sec = p->start.tv_sec + (time_t)(due_ns / 1000000000ULL);
	due.tv_nsec = p->start.tv_nsec + (long)(due_ns % 1000000000ULL);
	if (due.tv_nsec >= 1000000000L) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
		if (p->stop && *p->stop)
			return;
}
