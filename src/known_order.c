// SPDX-License-Identifier: GPL-2.0
#include "known_order.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line_reader.h"

/*
 * The orders of Linux 6.1 (checked against its source: file:function that
 * takes the second lock while holding the first). Later kernels may add
 * paths against them; a reversal reported on such a kernel is a real
 * inversion between two kernel paths, worth a look upstream.
 *
 * Not in the table: device_lock and pci_rescan_remove_lock. Sysfs remove
 * (drivers/pci/remove.c:pci_stop_and_remove_bus_device_locked()) holds the
 * rescan lock while unbinding drivers (device_lock()), but 6.1 stable (from
 * the backport of "PCI/IOV: Add PCI rescan-remove locking when
 * enabling/disabling SR-IOV") and later take it in sriov_numvfs_store()
 * under device_lock(PF): both orders are the kernel's own. A cycle through
 * them is still reported (lock-order-cycle) when both are seen.
 *
 * Nor device_lock and pci_bus_sem. 6.1 takes both orders:
 * sriov_numvfs_store() holds device_lock(PF) while pci_device_add() takes
 * pci_bus_sem for writing, and AER recovery (drivers/pci/pcie/err.c:
 * report_error_detected() and its siblings) takes device_lock() in
 * pci_walk_bus() callbacks, under pci_bus_sem for reading.
 */
static const struct hm_order_rule builtin_rules[] = {
	/* drivers/pci/iov.c:sriov_numvfs_store() holds device_lock(PF) while
	 * sriov_configure() -> pci_disable_sriov() -> sriov_disable() ->
	 * pci_iov_remove_virtfn() -> pci_stop_and_remove_bus_device() ->
	 * device_release_driver() takes device_lock(VF) */
	{ "pf:*", "vf:*",
	  "drivers/pci/iov.c:sriov_numvfs_store() locks the PF, SR-IOV disable then each VF",
	  HM_FIND_VF_PF_ORDER },
	/* drivers/pci/pci.c:pci_bus_lock(): pci_dev_lock() of a bridge, then
	 * pci_bus_lock() of its subordinate bus (bus and slot resets) */
	{ "other:pcieport*", "device_lock",
	  "drivers/pci/pci.c:pci_bus_lock() locks a bridge before the devices below it "
	  "(parent before child)",
	  HM_FIND_KIND_MAX },
	/* drivers/pci/pci-sysfs.c:rescan_store() holds the rescan lock across
	 * pci_rescan_bus() -> drivers/pci/probe.c:pci_device_add(), which
	 * takes down_write(&pci_bus_sem) */
	{ "pci_rescan_remove_lock", "pci_bus_sem",
	  "drivers/pci/pci-sysfs.c:rescan_store() holds the rescan lock while "
	  "drivers/pci/probe.c:pci_device_add() takes pci_bus_sem",
	  HM_FIND_KIND_MAX },
	/* drivers/base/core.c:online_store() takes lock_device_hotplug_sysfs(),
	 * then device_online()/device_offline() take device_lock() */
	{ "device_hotplug_lock", "device_lock",
	  "drivers/base/core.c:online_store() holds device_hotplug_lock while "
	  "device_online() takes device_lock()",
	  HM_FIND_KIND_MAX },
};
#define N_BUILTIN (sizeof(builtin_rules) / sizeof(builtin_rules[0]))

struct hm_known_orders {
	const struct hm_order_rule *builtin;
	size_t nbuiltin;
	struct hm_order_rule *blessed;   /* strings owned */
	size_t nblessed;
};

static const struct hm_known_orders builtin_only = { builtin_rules, N_BUILTIN, NULL, 0 };

const struct hm_known_orders *hm_known_orders_builtin(void)
{
	return &builtin_only;
}

void hm_known_orders_free(struct hm_known_orders *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nblessed; i++) {
		free((char *)o->blessed[i].first);
		free((char *)o->blessed[i].second);
		free((char *)o->blessed[i].source);
	}
	free(o->blessed);
	free(o);
}

static bool add_blessed(struct hm_known_orders *o, const char *first, const char *second,
			const char *path, size_t lineno)
{
	struct hm_order_rule *r = realloc(o->blessed, (o->nblessed + 1) * sizeof(*r));
	char *source;

	if (!r)
		return false;
	o->blessed = r;
	if (asprintf(&source, "blessed in %s:%zu", path, lineno) < 0)
		return false;
	r = &o->blessed[o->nblessed];
	*r = (struct hm_order_rule){ strdup(first), strdup(second), source, HM_FIND_KIND_MAX };
	o->nblessed++;
	return r->first && r->second;
}

static bool load_line(void *ctx, char *line, const char *path, size_t lineno, char *err,
		      size_t errlen)
{
	char first[128], second[128], extra[2];
	char *hash = strchr(line, '#');

	if (hash)
		*hash = '\0'; /* a comment after the pair */
	if (sscanf(line, "%127s %127s %1s", first, second, extra) != 2) {
		snprintf(err, errlen, "%s:%zu: want 'FIRST SECOND' (two lock classes, "
			 "FIRST taken before SECOND)", path, lineno);
		return false;
	}
	if (!add_blessed(ctx, first, second, path, lineno)) {
		snprintf(err, errlen, "%s: out of memory", path);
		return false;
	}
	return true;
}

struct hm_known_orders *hm_known_orders_load(const char *path, char *err, size_t errlen)
{
	struct hm_known_orders *o = calloc(1, sizeof(*o));

	if (!o) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	o->builtin = builtin_rules;
	o->nbuiltin = N_BUILTIN;
	if (!hm_read_lines(path, load_line, o, err, errlen)) {
		hm_known_orders_free(o);
		return NULL;
	}
	return o;
}

static bool is_device_class(const char *cls)
{
	return !strncmp(cls, "pf:", 3) || !strncmp(cls, "vf:", 3) || !strncmp(cls, "other:", 6);
}

static bool class_matches(const char *pattern, const char *cls)
{
	if (!strcmp(pattern, "device_lock"))
		return is_device_class(cls);
	return !fnmatch(pattern, cls, 0);
}

static const struct hm_order_rule *find_reversed(const struct hm_order_rule *rules, size_t n,
						 const char *held, const char *next)
{
	for (size_t i = 0; i < n; i++)
		/* (two classes that both match FIRST are not ordered by it) */
		if (class_matches(rules[i].first, next) && class_matches(rules[i].second, held) &&
		    !class_matches(rules[i].first, held))
			return &rules[i];
	return NULL;
}

const struct hm_order_rule *hm_known_orders_reversed(const struct hm_known_orders *o,
						     const char *held_class,
						     const char *next_class)
{
	const struct hm_order_rule *r;

	if (!o)
		o = &builtin_only;
	/* a blessed pair is expected, whatever the built-in table says */
	for (size_t i = 0; i < o->nblessed; i++)
		if (class_matches(o->blessed[i].first, held_class) &&
		    class_matches(o->blessed[i].second, next_class))
			return NULL;
	r = find_reversed(o->blessed, o->nblessed, held_class, next_class);
	return r ? r : find_reversed(o->builtin, o->nbuiltin, held_class, next_class);
}
