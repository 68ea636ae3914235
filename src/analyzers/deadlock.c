// SPDX-License-Identifier: GPL-2.0
/*
 * Deadlock: a live wait-for graph. When a task starts to wait for a lock,
 * follow task -> lock it waits for -> owner -> lock the owner waits for ...
 * A chain that comes back to the task is a deadlock now, not a possibility:
 * report it at once rather than after a hung-task timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "analyzers/lock_track.h"
#include "finding.h"

#define DL_MAX_CHAIN 64         /* tasks followed from one wait */

struct deadlock {
	struct lt_tracker locks;
};

/* chain[i] waits for chain[i]->wait.lock_addr, held by chain[i + 1 mod n] */
struct wait_cycle {
	const struct lt_task *task[DL_MAX_CHAIN];
	size_t n;
};

static void *dl_create(const struct hm_config *cfg)
{
	struct deadlock *d = calloc(1, sizeof(*d));

	(void)cfg;
	if (d)
		lt_init(&d->locks);
	return d;
}

static void dl_destroy(void *self)
{
	struct deadlock *d = self;

	lt_free(&d->locks);
	free(d);
}

static void dl_finish(void *self, uint64_t end_ts, const struct hm_emitter *out)
{
	(void)self;
	(void)end_ts;
	(void)out; /* deadlocks are reported when they form; long waits are not ours */
}

static const struct lt_task *holder_of_wanted(const struct wait_cycle *c, size_t i)
{
	return c->task[(i + 1) % c->n];
}

/* Returns true and fills c if the waits starting at `start` lead back to it. */
static bool find_wait_cycle(const struct lt_tracker *locks, const struct lt_task *start,
			    struct wait_cycle *c)
{
	const struct lt_task *cur = start;

	c->n = 0;
	while (c->n < DL_MAX_CHAIN) {
		const struct lt_task *owner = lt_owner(locks, cur->wait.lock_addr);

		c->task[c->n++] = cur;
		if (owner == start)
			return true;
		/* free, unknown or running owner: the wait will end */
		if (!owner || !owner->waiting)
			return false;
		/* a cycle that does not pass through start was reported when it closed */
		for (size_t i = 0; i < c->n; i++)
			if (c->task[i] == owner)
				return false;
		cur = owner;
	}
	return false;
}

/* The same deadlock seen from any of its tasks gets one fingerprint: hash the
 * lock names from the smallest. Names (BDF + class) are stable across boots,
 * unlike lock addresses. */
static uint64_t cycle_fingerprint(const struct wait_cycle *c, uint64_t h)
{
	char name[DL_MAX_CHAIN][LT_NAME_LEN];
	size_t first = 0;

	for (size_t i = 0; i < c->n; i++) {
		lt_lock_name(&c->task[i]->wait, name[i]);
		if (strcmp(name[i], name[first]) < 0)
			first = i;
	}
	for (size_t i = 0; i < c->n; i++)
		h = hm_hash_str(h, name[(first + i) % c->n]);
	return h;
}

/* "bash/812 -> device_lock(...) -> kworker/0:1/123 -> device_lock(...) -> bash/812" */
static void summarize(struct hm_finding *f, const struct wait_cycle *c)
{
	char text[HM_FINDING_SUMMARY_LEN], task[LT_NAME_LEN], lock[LT_NAME_LEN];
	size_t used = 0;

	text[0] = '\0';
	for (size_t i = 0; i < c->n && used < sizeof(text); i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s -> %s -> ",
					 lt_task_name(&c->task[i]->wait.hdr, task),
					 lt_lock_name(&c->task[i]->wait, lock));
	if (used < sizeof(text))
		snprintf(text + used, sizeof(text) - used, "%s",
			 lt_task_name(&c->task[0]->wait.hdr, task));
	hm_finding_summary(f, "%zu task%s deadlocked: %s", c->n, c->n == 1 ? "" : "s", text);
}

static void describe_task(struct hm_finding *f, const struct wait_cycle *c, size_t i)
{
	const struct lt_task *t = c->task[i];
	/* what t holds that the previous task in the cycle waits for */
	const struct lt_task *waiter = c->task[(i + c->n - 1) % c->n];
	const struct lt_hold *hold = lt_task_hold(t, waiter->wait.lock_addr);
	char task[LT_NAME_LEN], held[LT_NAME_LEN], wanted[LT_NAME_LEN];
	char held_at[LT_WHERE_LEN], wait_at[LT_WHERE_LEN];

	lt_task_name(&t->wait.hdr, task);
	lt_lock_name(&t->wait, wanted);
	lt_where(&t->wait.hdr, wait_at);
	if (hold)
		hm_finding_detail(f, "task %s holds %s [acquired at %s] and waits for %s [waiting since %s]",
				  task, lt_lock_name(&hold->acq, held), lt_where(&hold->acq.hdr, held_at),
				  wanted, wait_at);
	else
		hm_finding_detail(f, "task %s waits for %s [waiting since %s]", task, wanted, wait_at);
}

static void add_evidence(struct hm_finding *f, const struct wait_cycle *c)
{
	char task[LT_NAME_LEN], lock[LT_NAME_LEN], owner[LT_NAME_LEN];

	/* the waits first: they are the deadlock, and evidence slots are few */
	for (size_t i = 0; i < c->n; i++) {
		const struct lt_task *t = c->task[i];

		hm_finding_add_evidence(f, &t->wait.hdr, "%s waits for %s held by %s",
					lt_task_name(&t->wait.hdr, task), lt_lock_name(&t->wait, lock),
					lt_task_name(&holder_of_wanted(c, i)->wait.hdr, owner));
		lt_add_lock_device(f, &t->wait);
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct lt_task *t = c->task[i];
		const struct lt_hold *hold = lt_task_hold(holder_of_wanted(c, i), t->wait.lock_addr);

		if (hold)
			hm_finding_add_evidence(f, &hold->acq.hdr, "%s acquired %s",
						lt_task_name(&hold->acq.hdr, owner),
						lt_lock_name(&hold->acq, lock));
	}
}

static void report_deadlock(const struct wait_cycle *c, uint64_t ts_ns,
			    const struct hm_emitter *out)
{
	struct hm_finding f;

	hm_finding_init(&f, HM_FIND_DEADLOCK, ts_ns);
	f.fingerprint = cycle_fingerprint(c, f.fingerprint);
	summarize(&f, c);
	add_evidence(&f, c);
	for (size_t i = 0; i < c->n; i++)
		describe_task(&f, c, i);
	hm_emit(out, &f);
	hm_finding_release(&f);
}

static void dl_feed(void *self, const union hm_event *ev, const struct hm_emitter *out)
{
	struct deadlock *d = self;
	const struct lt_task *waiter;
	struct wait_cycle c;

	if (lt_apply(&d->locks, ev) != LT_WAIT)
		return;
	/* only a new wait can close a cycle: every other task in it already waits */
	waiter = lt_task_find(&d->locks, ev->hdr.tid);
	if (waiter && waiter->waiting && find_wait_cycle(&d->locks, waiter, &c))
		report_deadlock(&c, ev->hdr.ts_ns, out);
}

const struct hm_analyzer_ops hm_deadlock_analyzer = {
	.name = "deadlock",
	.create = dl_create,
	.feed = dl_feed,
	.finish = dl_finish,
	.destroy = dl_destroy,
};
