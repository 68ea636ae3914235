/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replaying a trace at the pace it was recorded (or a multiple of it), so a
 * scraper or a human watching sees values change as they did live.
 */
#ifndef HM_PACER_H
#define HM_PACER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define HM_PACER_MIN_SPEED 1e-3
#define HM_PACER_MAX_SPEED 1e6
/* A pause in the trace longer than this (after scaling) waits only this long:
 * a clock jump or a corrupt timestamp must not stall a replay for days. */
#define HM_PACER_MAX_GAP_NS 5000000000ULL

struct hm_pacer {
	double speed;                 /* 1.0 realtime, 2.0 twice as fast; 0: no pacing */
	const volatile sig_atomic_t *stop; /* nonzero: stop waiting (a signal came) */
	bool started;
	uint64_t base_ts;             /* trace time of the event at base_due_ns */
	uint64_t base_due_ns;         /* its due time, ns after start */
	uint64_t last_ts, last_due_ns;
	struct timespec start;        /* CLOCK_MONOTONIC when the first event was replayed */
};

/* speed 0: no pacing; stop may be NULL. */
void hm_pacer_init(struct hm_pacer *p, double speed, const volatile sig_atomic_t *stop);
/* Sleep until the event at trace time ts is due. Deadlines are absolute from
 * the first event (or the last capped pause), so sleeping late never
 * accumulates drift. Returns early once *stop is set. */
void hm_pacer_wait(struct hm_pacer *p, uint64_t ts);

#endif
