// SPDX-License-Identifier: GPL-2.0
#include "finding_filter.h"

#include <string.h>

#include "cli.h"
#include "event.h"

bool hm_finding_filter_option(struct hm_finding_filter *flt, int opt, const char *arg,
			      bool *handled)
{
	unsigned long long pid;

	*handled = opt == OPT_FILTER_PID || opt == OPT_FILTER_DEVICE || opt == OPT_FILTER_DRIVER;
	if (!*handled)
		return true;
	if ((opt == OPT_FILTER_PID && flt->npids == HM_FILTER_MAX) ||
	    (opt == OPT_FILTER_DEVICE && flt->ndevices == HM_FILTER_MAX) ||
	    (opt == OPT_FILTER_DRIVER && flt->ndrivers == HM_FILTER_MAX)) {
		hm_cli_error("at most %d of each of --pid, --device, --driver", HM_FILTER_MAX);
		return false;
	}
	switch (opt) {
	case OPT_FILTER_PID:
		if (!hm_cli_parse_count(arg, 4194304, &pid) || !pid) {
			hm_cli_error("--pid: '%s' is not a process id", arg);
			return false;
		}
		flt->pids[flt->npids++] = (unsigned int)pid;
		return true;
	case OPT_FILTER_DEVICE:
		if (!hm_bdf_parse(arg, &flt->devices[flt->ndevices])) {
			hm_cli_error("--device: '%s' is not a PCI address (0000:3b:00.1)", arg);
			return false;
		}
		flt->ndevices++;
		return true;
	default:
		flt->drivers[flt->ndrivers++] = arg;
		return true;
	}
}

bool hm_finding_filter_empty(const struct hm_finding_filter *flt)
{
	return !flt || (!flt->npids && !flt->ndevices && !flt->ndrivers);
}

static bool pid_matches(const struct hm_finding_filter *flt, const struct hm_finding *f)
{
	for (size_t i = 0; i < flt->npids; i++)
		for (unsigned int e = 0; e < f->nevidence; e++)
			if (f->evidence[e].pid == flt->pids[i])
				return true;
	return !flt->npids;
}

/* A PF named selects its VFs too. */
static bool device_matches(const struct hm_finding_filter *flt, const struct hm_finding *f)
{
	for (size_t i = 0; i < flt->ndevices; i++)
		for (unsigned int d = 0; d < f->ndevices; d++)
			if (hm_bdf_equal(&f->devices[d].bdf, &flt->devices[i]) ||
			    (f->devices[d].role == HM_ROLE_VF &&
			     hm_bdf_equal(&f->devices[d].pf_bdf, &flt->devices[i])))
				return true;
	return !flt->ndevices;
}

static bool driver_matches(const struct hm_finding_filter *flt, const struct hm_finding *f)
{
	for (size_t i = 0; i < flt->ndrivers; i++)
		for (unsigned int d = 0; d < f->ndevices; d++)
			if (!strncmp(f->devices[d].driver, flt->drivers[i], HM_DRIVER_LEN) &&
			    strlen(flt->drivers[i]) <= HM_DRIVER_LEN)
				return true;
	return !flt->ndrivers;
}

bool hm_finding_filter_matches(const struct hm_finding_filter *flt, const struct hm_finding *f)
{
	if (hm_finding_filter_empty(flt))
		return true;
	return pid_matches(flt, f) && device_matches(flt, f) && driver_matches(flt, f);
}
