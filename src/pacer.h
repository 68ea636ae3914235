/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replaying a trace at the pace it was recorded (or a multiple of it), so a
 * scraper or a human watching sees values change as they did live.
 */
#ifndef HM_PACER_H
#define HM_PACER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct hm_pacer {
	double speed;                 /* 1.0 realtime, 2.0 twice as fast; 0: no pacing */
	bool started;
	uint64_t first_ts;            /* trace time of the first event */
	struct timespec start;        /* CLOCK_MONOTONIC when it was replayed */
};

void hm_pacer_init(struct hm_pacer *p, double speed);
/* Sleep until the event at trace time ts is due. Deadlines are absolute from
 * the first event, so sleeping late never accumulates drift. */
void hm_pacer_wait(struct hm_pacer *p, uint64_t ts);
/* "0.5" -> 0.5; false unless a finite number in (0, 1e6]. */
bool hm_pacer_parse_speed(const char *text, double *speed);

#endif
