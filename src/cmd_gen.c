// SPDX-License-Identifier: GPL-2.0
/* hisimig-trace gen NAME -o FILE: write a scenario as a trace file (for tests). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scenarios.h"

static const char gen_usage[] =
	"Usage: hisimig-trace gen --list | NAME -o FILE [--events N]\n"
	"Write a built-in scenario as a trace file (used by the tests and the demo).\n\n"
	"Examples:\n"
	"  hisimig-trace gen --list\n"
	"  hisimig-trace gen seed-bug -o seed.hmt && hisimig-trace replay seed.hmt\n";

static int write_scenario(const struct hm_named_scenario *named, const char *path,
			  size_t events)
{
	struct hm_trace_header header;
	struct hm_trace_writer *w;
	struct scenario *s = scn_new();
	char err[256];
	bool ok = true;

	if (!s) {
		hm_cli_error("out of memory");
		return HM_EXIT_USAGE;
	}
	s->target_events = events;
	named->build(s);
	hm_trace_header_for_host(&header);
	snprintf(header.hostname, sizeof(header.hostname), "scenario:%s", named->name);
	snprintf(header.kernel_release, sizeof(header.kernel_release), "synthetic (6.1 paths)");
	header.start_mono_ns = s->count ? s->events[0].hdr.ts_ns : 0;
	w = hm_trace_writer_open(path, &header, err, sizeof(err));
	if (!w) {
		hm_cli_error("%s", err);
		scn_free(s);
		return HM_EXIT_USAGE;
	}
	for (size_t i = 0; i < s->count && ok; i++)
		ok = hm_trace_write_event(w, &s->events[i], scn_size(s, i), s->stacks);
	ok = hm_trace_writer_close(w, 0, s->now_ns) && ok;
	scn_free(s);
	if (!ok) {
		hm_cli_error("writing %s failed", path);
		return HM_EXIT_USAGE;
	}
	return HM_EXIT_CLEAN;
}

int hm_cmd_gen(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "events", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hm_named_scenario *named;
	const char *output = NULL;
	size_t events = 0;
	unsigned long long count;
	int opt;

	while ((opt = getopt_long(argc, argv, "lo:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'l': {
			size_t n;
			const struct hm_named_scenario *all = hm_scenarios(&n);

			for (size_t i = 0; i < n; i++)
				printf("%-18s %s\n", all[i].name, all[i].description);
			return HM_EXIT_CLEAN;
		}
		case 'o':
			output = optarg;
			break;
		case 'n':
			if (!hm_cli_parse_count(optarg, 50000000, &count) || !count) {
				hm_cli_error("--events: '%s' is not a count in 1..50000000", optarg);
				return HM_EXIT_USAGE;
			}
			events = (size_t)count;
			break;
		case 'h':
			fputs(gen_usage, stdout);
			return HM_EXIT_CLEAN;
		default:
			fputs(gen_usage, stderr);
			return HM_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !output) {
		hm_cli_error("gen needs a scenario NAME and -o FILE (see --help)");
		return HM_EXIT_USAGE;
	}
	named = hm_scenario_find(argv[optind]);
	if (!named) {
		hm_cli_error("no scenario named '%s' (see gen --list)", argv[optind]);
		return HM_EXIT_USAGE;
	}
	return write_scenario(named, output, events);
}
