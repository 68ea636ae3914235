/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Known good lock orders, as FreeBSD's witness(4) keeps them: a built-in
 * table of the orders the kernel itself uses for the locks hisimig-trace
 * traces, plus the pairs a project blesses in a file (--blessed FILE).
 *
 * A rule "FIRST before SECOND" means: taking SECOND while holding FIRST is
 * expected; taking FIRST while holding SECOND reverses the order and is
 * reported (known-order-reversal) the first time it is seen, with the rule
 * and where it comes from, even when the expected direction never ran in
 * this trace (a cycle needs both; a reversal of a known order does not).
 * A blessed pair also overrides the built-in table: its direction is never
 * reported as a reversal.
 *
 * FIRST and SECOND are lock class names as reports print them, with shell
 * wildcards (fnmatch): "pci_bus_sem", "pf:*", "hisi_acc_vfio_pci:state_mutex";
 * "device_lock" stands for every device mutex (classes "pf:...", "vf:...",
 * "other:...").
 */
#ifndef HM_KNOWN_ORDER_H
#define HM_KNOWN_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include "hisimig/findings.h"

struct hm_order_rule {
	const char *first;
	const char *second;
	const char *source;           /* where the kernel (or the blessing file) says so */
	/* a rule another check already reports (PF before VF: vf-pf-lock-order);
	 * HM_FIND_KIND_MAX: reported as known-order-reversal */
	enum hm_finding_kind reported_as;
};

struct hm_known_orders;

/* The built-in table alone. */
const struct hm_known_orders *hm_known_orders_builtin(void);
/* The built-in table plus the pairs of a blessing file: one "FIRST SECOND"
 * per line, '#' starts a comment. NULL with a one-line reason in err. */
struct hm_known_orders *hm_known_orders_load(const char *path, char *err, size_t errlen);
void hm_known_orders_free(struct hm_known_orders *o);

/* The rule that the new dependency held_class -> next_class reverses, or
 * NULL. o NULL: the built-in table. */
const struct hm_order_rule *hm_known_orders_reversed(const struct hm_known_orders *o,
						     const char *held_class,
						     const char *next_class);

#endif
