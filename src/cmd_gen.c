// SPDX-License-Identifier: GPL-2.0
/* hisimig-trace gen NAME -o FILE: write a scenario as a trace file (for tests). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scenario_catalog.h"

static const char gen_usage[] =
	"Usage: hisimig-trace gen --list | NAME -o FILE [--events N]\n"
	"Write a built-in scenario as a trace file (used by the tests and the demo).\n\n"
	"Examples:\n"
	"  hisimig-trace gen --list\n"
	"  hisimig-trace gen seed-bug -o seed.hmt && hisimig-trace replay seed.hmt\n";

/* The trace file of a scenario, opened at its first event (whose time
 * starts the recording), written as the scenario streams. */
struct gen_output {
	const char *path;
	struct hm_trace_header header;
	struct hm_trace_writer *writer;
	const struct hm_stacks *stacks;
	char err[256];
};

static bool gen_open(struct gen_output *out, uint64_t start_ns)
{
	out->header.start_mono_ns = start_ns;
	out->writer = hm_trace_writer_open(out->path, &out->header, out->err, sizeof(out->err));
	return out->writer != NULL;
}

static bool gen_event(void *ctx, const union hm_event *ev, size_t len)
{
	struct gen_output *out = ctx;

	if (!out->writer && !gen_open(out, ev->hdr.ts_ns))
		return false;
	return hm_trace_write_event(out->writer, ev, len, out->stacks);
}

static int write_scenario(const struct hm_named_scenario *named, const char *path,
			  size_t events)
{
	struct gen_output out = { .path = path };
	struct scenario *s = scn_new_streaming((struct scn_sink){ .event = gen_event,
								  .ctx = &out });
	bool ok;

	if (!s) {
		hm_cli_error("out of memory");
		return HM_EXIT_USAGE;
	}
	out.stacks = s->stacks;
	hm_trace_header_for_host(&out.header);
	snprintf(out.header.hostname, sizeof(out.header.hostname), "scenario:%s", named->name);
	snprintf(out.header.kernel_release, sizeof(out.header.kernel_release),
		 "synthetic (6.1 paths)");
	s->target_events = events;
	named->build(s);
	ok = scn_flush(s) && (out.writer || gen_open(&out, 0));
	if (out.writer)
		ok = hm_trace_writer_close(out.writer, 0, s->now_ns) && ok;
	scn_free(s);
	if (!ok) {
		if (out.err[0])
			hm_cli_error("%s", out.err);
		else
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

	while ((opt = getopt_long(argc, argv, HM_GETOPT("lo:h"), long_options, NULL)) != -1) {
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
			if (!hm_cli_parse_count(optarg, 1000000000, &count) || !count) {
				hm_cli_error("--events: '%s' is not a count in 1..1000000000", optarg);
				return HM_EXIT_USAGE;
			}
			events = (size_t)count;
			break;
		case 'h':
			fputs(gen_usage, stdout);
			return HM_EXIT_CLEAN;
		default:
			return hm_cli_option_error("gen", opt, argv);
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
