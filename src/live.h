/* SPDX-License-Identifier: GPL-2.0 */
/* The live command shared by run and record (src/cmd_run.c). */
#ifndef HM_LIVE_H
#define HM_LIVE_H

#include <stdbool.h>

struct hm_live_spec {
	const char *name;
	const char *summary;
	bool require_output;          /* record: -o is the point */
	bool quiet;                   /* summary only, no per-finding output */
	const char *examples;         /* --help's Examples section */
};

int hm_live_command(int argc, char **argv, const struct hm_live_spec *spec);

#endif
