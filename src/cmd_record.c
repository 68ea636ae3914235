// SPDX-License-Identifier: GPL-2.0
/* hisimig-trace record -o FILE: `run` that keeps quiet and insists on a file. */
#include "cli.h"
#include "live.h"

int hm_cmd_record(int argc, char **argv)
{
	static const struct hm_live_spec spec = {
		.name = "record",
		.summary = "Record a trace for 'hisimig-trace replay' (findings: summary only).",
		.require_output = true,
		.quiet = true,
		.examples = "  hisimig-trace record -o migrate.hmt --duration 120\n"
			    "  hisimig-trace replay migrate.hmt      # later, anywhere\n",
	};

	return hm_live_command(argc, argv, &spec);
}
