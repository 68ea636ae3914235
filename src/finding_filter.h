/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --pid, --device, --driver: which findings a run reports. Analysis always
 * sees every event (dropping events would break lock tracking: a cycle runs
 * through tasks and devices the user did not name); the filter chooses the
 * findings that are printed, counted for the exit status, and passed on to
 * the timeline, metrics and reports. A finding is reported when it matches
 * every kind of filter given, and a kind matches when any of its values does.
 */
#ifndef HM_FINDING_FILTER_H
#define HM_FINDING_FILTER_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include "hisimig/findings.h"

#define HM_FILTER_MAX 8

enum hm_filter_opt {
	OPT_FILTER_PID = 420,
	OPT_FILTER_DEVICE,
	OPT_FILTER_DRIVER,
};

#define HM_FILTER_LONG_OPTIONS                                           \
	{ "pid", required_argument, NULL, OPT_FILTER_PID },              \
	{ "device", required_argument, NULL, OPT_FILTER_DEVICE },        \
	{ "driver", required_argument, NULL, OPT_FILTER_DRIVER }

#define HM_FILTER_HELP                                                                   \
	"      --pid PID               report only findings a task of process PID is in\n"    \
	"      --device BDF            ... that name this PCI device (a PF: also its VFs)\n" \
	"      --driver NAME           ... that name a device bound to driver NAME\n"         \
	"                              (repeatable; analysis still sees every event)\n"

struct hm_finding_filter {
	unsigned int pids[HM_FILTER_MAX];
	size_t npids;
	struct hm_bdf devices[HM_FILTER_MAX];
	size_t ndevices;
	const char *drivers[HM_FILTER_MAX];
	size_t ndrivers;
};

/* Apply one of the options above; false (after printing why) if invalid;
 * *handled tells whether opt was one of them. */
bool hm_finding_filter_option(struct hm_finding_filter *flt, int opt, const char *arg,
			      bool *handled);
bool hm_finding_filter_empty(const struct hm_finding_filter *flt);
/* true for a NULL or empty filter */
bool hm_finding_filter_matches(const struct hm_finding_filter *flt, const struct hm_finding *f);

#endif
