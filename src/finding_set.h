/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every finding of a session, kept for the reports written at the end
 * (JUnit, a baseline): a session observer that copies each finding and
 * renders its text report while the stacks it names are at hand.
 */
#ifndef HM_FINDING_SET_H
#define HM_FINDING_SET_H

#include <stdbool.h>
#include <stddef.h>
#include "session.h"

struct hm_kept_finding {
	struct hm_finding finding;    /* a copy (its detail is owned) */
	char *text;                   /* the text report of it, NULL if out of memory */
	bool accepted;                /* in the baseline: reported, does not fail */
};

struct hm_finding_set {
	struct hm_kept_finding *items;
	size_t count, cap;
	const struct hm_stacks *stacks;
	const struct hm_baseline *baseline; /* marks accepted findings, or NULL */
};

void hm_finding_set_init(struct hm_finding_set *set, const struct hm_stacks *stacks,
			 const struct hm_baseline *baseline);
void hm_finding_set_free(struct hm_finding_set *set);
/* The observer that fills the set (add it with hm_session_add_observer). */
struct hm_observer hm_finding_set_observer(struct hm_finding_set *set);
/* Findings at or above fail_on that no baseline accepted. */
size_t hm_finding_set_failing(const struct hm_finding_set *set, enum hm_severity fail_on);

#endif
