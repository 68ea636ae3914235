// SPDX-License-Identifier: GPL-2.0
/*
 * hisimig-trace run / record: trace this kernel live. Both are this one loop;
 * record only insists on -o and prints the summary alone.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "live.h"
#include "live_trace.h"

enum live_opt {
	OPT_OUTPUT = 'o',
	OPT_DURATION = HM_OPT_COMMAND_BASE,
};

static void live_usage(FILE *out, const struct hm_live_spec *spec)
{
	fprintf(out,
		"Usage: hisimig-trace %s %s[--duration S] [--attach auto|fentry|kprobe] [OPTIONS]\n"
		"%s\n\n"
		"  -o, --output FILE           %s\n"
		"                              (FILE.partial, flushed as it goes, becomes FILE\n"
		"                              at the end; an existing FILE stays until then)\n"
		"      --duration S            stop after S seconds (default: until SIGINT/SIGTERM)\n"
		HM_LIVE_HELP
		HM_FILTER_HELP
		"%s"
		"  -h, --help                  this help\n\n"
		"Needs root (CAP_BPF, CAP_PERFMON), BTF and no kernel lockdown (docs/host.md).\n"
		"Exit status: 0 no findings at --fail-on, 1 findings, 2 error.\n\n"
		"Examples:\n%s",
		spec->name, spec->require_output ? "-o FILE " : "[-o FILE] ", spec->summary,
		spec->require_output ? "write the trace here (required)"
				     : "also record the trace into FILE",
		spec->quiet ? "" : HM_ANALYSIS_HELP, spec->examples);
}

/* From a millisecond to about 115 days. */
static bool parse_seconds(const char *arg, double *out)
{
	if (hm_cli_parse_real(arg, 1e-3, 1e7, out))
		return true;
	hm_cli_error("--duration: '%s' is not a number of seconds from 0.001 to 10000000", arg);
	return false;
}

struct live_args {
	struct hm_live_opts live;
	double duration_s;
};

/* 0 parsed, 1 --help printed, 2 usage error */
static int parse_live_args(int argc, char **argv, const struct hm_live_spec *spec,
			   struct live_args *a)
{
	static const struct option long_options[] = {
		HM_ANALYSIS_LONG_OPTIONS,
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "duration", required_argument, NULL, OPT_DURATION },
		HM_LIVE_COMMAND_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	hm_live_opts_init(&a->live);
	a->live.session.quiet = spec->quiet;
	while ((opt = getopt_long(argc, argv, HM_GETOPT("jo:vh"), long_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			live_usage(stdout, spec);
			return 1;
		case OPT_OUTPUT:
			/* refused before anything is set up: no file is created */
			if (!hm_cli_output_ok("-o", optarg))
				return 2;
			a->live.session.record_path = optarg;
			continue;
		case OPT_DURATION:
			if (!parse_seconds(optarg, &a->duration_s))
				return 2;
			continue;
		}
		if (!hm_live_common_option(spec->name, opt, optarg, argv, &a->live))
			return 2;
	}
	if (optind != argc) {
		hm_cli_error("%s takes no arguments: '%s' (see --help)", spec->name, argv[optind]);
		return 2;
	}
	if (spec->require_output && !a->live.session.record_path) {
		hm_cli_error("%s needs -o FILE (see --help)", spec->name);
		return 2;
	}
	return 0;
}

int hm_live_command(int argc, char **argv, const struct hm_live_spec *spec)
{
	struct live_args a = { 0 };
	struct hm_live_trace t;
	uint64_t deadline = 0;
	int status;

	status = parse_live_args(argc, argv, spec, &a);
	if (status)
		return status == 1 ? HM_EXIT_CLEAN : HM_EXIT_USAGE;
	hm_cli_stop_on_signals();
	if (hm_live_trace_open(&t, spec->name, &a.live) != HM_LIVE_OK ||
	    hm_live_trace_attach(&t, a.duration_s ? "stops after --duration" : "Ctrl-C to stop") !=
		    HM_LIVE_OK) {
		hm_live_trace_close(&t);
		return HM_EXIT_USAGE;
	}
	if (a.duration_s)
		deadline = hm_mono_ns() + (uint64_t)(a.duration_s * 1e9);
	while (!hm_cli_stop_signal() && (!deadline || hm_mono_ns() < deadline))
		if (!hm_live_trace_poll(&t, 100))
			break;
	status = hm_live_trace_finish(&t);
	hm_live_trace_close(&t);
	return status;
}

int hm_cmd_run(int argc, char **argv)
{
	static const struct hm_live_spec spec = {
		.name = "run",
		.summary = "Trace this kernel live: report findings as they happen, a summary at exit.",
		.examples =
			"  hisimig-trace run                          # until Ctrl-C\n"
			"  hisimig-trace run --duration 600 -o sriov.hmt --json > findings.ndjson\n"
			"  hisimig-trace run --quiet --metrics 127.0.0.1:9478   # an exporter\n"
			"  hisimig-trace run --locks full --set-state-func mlx5vf_pci_set_device_state\n",
	};

	return hm_live_command(argc, argv, &spec);
}
