/* SPDX-License-Identifier: GPL-2.0 */
/* The lock-order analyzer's one call into the known-order table (known_order.h). */
#ifndef HM_KNOWN_ORDER_CHECK_H
#define HM_KNOWN_ORDER_CHECK_H

#include <stdbool.h>
#include "analyzer.h"
#include "analyzers/lock_track.h"

/* What a rule sees of a lock: a device mutex's role and driver, any other
 * lock's class (its key stands for the class name). */
struct hm_rule_lock {
	uint64_t class_key;             /* 0 for a device mutex */
	uint8_t role;
	char driver[HM_DRIVER_LEN];     /* zero-filled after the name */
};

#define HM_KNOWN_ORDER_MEMO_SLOTS 64    /* direct mapped */

/* The table's verdicts on pairs of locks already judged: the same pair of
 * classes comes back each time a device goes and returns, and matching
 * rules (formatting names, fnmatch) costs more than the rest of the edge. */
struct hm_known_order_memo {
	struct {
		bool used;
		struct hm_rule_lock held, next;
		const struct hm_order_rule *rule; /* NULL: no rule reversed */
	} slot[HM_KNOWN_ORDER_MEMO_SLOTS];
};

/* A new class dependency held -> next: report it when it reverses a known
 * order (the engine reports each pair of classes once). The orders must not
 * change while memo is in use; a zeroed memo is empty. */
void hm_check_known_order(struct hm_known_order_memo *memo, const struct lt_tracker *t,
			  const struct hm_known_orders *orders,
			  const struct hm_lock_event *held, const struct hm_lock_event *next,
			  const struct hm_emitter *out);

#endif
