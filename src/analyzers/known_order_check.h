/* SPDX-License-Identifier: GPL-2.0 */
/* The lock-order analyzer's one call into the known-order table (known_order.h). */
#ifndef HM_KNOWN_ORDER_CHECK_H
#define HM_KNOWN_ORDER_CHECK_H

#include "analyzer.h"
#include "analyzers/lock_track.h"

/* A new class dependency held -> next: report it when it reverses a known
 * order (the engine reports each pair of classes once). */
void hm_check_known_order(const struct lt_tracker *t, const struct hm_known_orders *orders,
			  const struct hm_lock_event *held, const struct hm_lock_event *next,
			  const struct hm_emitter *out);

#endif
