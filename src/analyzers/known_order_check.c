// SPDX-License-Identifier: GPL-2.0
#include "analyzers/known_order_check.h"

#include <stdio.h>
#include <string.h>

#include "event.h"
#include "finding.h"
#include "known_order.h"

/* The name rules match: a device mutex by role and driver ("other:pcieport",
 * rules may need the driver though lock classes do not), other locks by class. */
static const char *rule_name(const struct lt_tracker *t, const struct hm_lock_event *ev,
			     char buf[LT_NAME_LEN])
{
	char cls[HM_CLASS_STR_LEN];

	if (ev->lock_type != HM_LOCK_DEVICE_MUTEX)
		return lt_class_name(t, ev, buf);
	snprintf(buf, LT_NAME_LEN, "%s", hm_device_class(&ev->dev, cls));
	return buf;
}

/* Everything rule_name() depends on, in a form compared byte for byte. */
static struct hm_rule_lock rule_lock(const struct lt_tracker *t, const struct hm_lock_event *ev)
{
	struct hm_rule_lock r;

	memset(&r, 0, sizeof(r));
	if (ev->lock_type != HM_LOCK_DEVICE_MUTEX) {
		r.class_key = lt_class_key(t, ev);
		return r;
	}
	r.role = ev->dev.role;
	memcpy(r.driver, ev->dev.driver, strnlen(ev->dev.driver, sizeof(ev->dev.driver)));
	return r;
}

static size_t memo_slot(const struct hm_rule_lock *held, const struct hm_rule_lock *next)
{
	uint64_t h = held->class_key ^ next->class_key * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)held->role << 8 ^ (uint64_t)next->role << 16 ^
	     (uint64_t)(unsigned char)held->driver[0] << 24 ^
	     (uint64_t)(unsigned char)next->driver[0] << 32;
	return (size_t)((h * 0xff51afd7ed558ccdULL) >> 58) % HM_KNOWN_ORDER_MEMO_SLOTS;
}

/* The rule held -> next reverses, NULL if none: hm_known_orders_reversed()
 * on their rule names, remembered. */
static const struct hm_order_rule *reversed_rule(struct hm_known_order_memo *memo,
						 const struct lt_tracker *t,
						 const struct hm_known_orders *orders,
						 const struct hm_lock_event *held,
						 const struct hm_lock_event *next)
{
	struct hm_rule_lock h = rule_lock(t, held), n = rule_lock(t, next);
	char held_class[LT_NAME_LEN], next_class[LT_NAME_LEN];
	size_t i = memo_slot(&h, &n);

	if (memo->slot[i].used && !memcmp(&memo->slot[i].held, &h, sizeof(h)) &&
	    !memcmp(&memo->slot[i].next, &n, sizeof(n)))
		return memo->slot[i].rule;
	memo->slot[i].used = true;
	memo->slot[i].held = h;
	memo->slot[i].next = n;
	memo->slot[i].rule = hm_known_orders_reversed(orders, rule_name(t, held, held_class),
						      rule_name(t, next, next_class));
	return memo->slot[i].rule;
}

void hm_check_known_order(struct hm_known_order_memo *memo, const struct lt_tracker *t,
			  const struct hm_known_orders *orders,
			  const struct hm_lock_event *held, const struct hm_lock_event *next,
			  const struct hm_emitter *out)
{
	char held_class[LT_NAME_LEN], next_class[LT_NAME_LEN], task[LT_NAME_LEN];
	char held_lock[LT_NAME_LEN], next_lock[LT_NAME_LEN];
	char where_held[LT_WHERE_LEN], where_next[LT_WHERE_LEN];
	const struct hm_order_rule *rule = reversed_rule(memo, t, orders, held, next);
	struct hm_finding f;

	if (!rule || rule->reported_as != HM_FIND_KIND_MAX)
		return;
	rule_name(t, held, held_class);
	rule_name(t, next, next_class);
	hm_finding_init(&f, HM_FIND_KNOWN_ORDER_REVERSAL, next->hdr.ts_ns);
	f.fingerprint = hm_hash_str(f.fingerprint, held_class);
	f.fingerprint = hm_hash_str(f.fingerprint, next_class);
	lt_task_name(&next->hdr, task);
	lt_lock_name(t, held, held_lock);
	lt_lock_name(t, next, next_lock);
	hm_finding_summary(&f, "task %s takes %s while holding %s: the known order is %s before %s",
			   task, next_lock, held_lock, rule->first, rule->second);
	lt_add_lock_device(&f, held);
	lt_add_lock_device(&f, next);
	hm_finding_add_evidence(&f, &held->hdr, "%s taken", held_lock);
	hm_finding_add_evidence(&f, &next->hdr, "%s taken while it is held", next_lock);
	hm_finding_detail(&f, "task %s holds %s [taken at %s]", task, held_lock,
			  lt_where(&held->hdr, where_held));
	hm_finding_detail(&f, "and takes %s [at %s],", next_lock, lt_where(&next->hdr, where_next));
	hm_finding_detail(&f, "against the known order %s before %s:", rule->first, rule->second);
	hm_finding_detail(&f, "  %s", rule->source);
	hm_emit(out, &f);
	hm_finding_release(&f);
}
