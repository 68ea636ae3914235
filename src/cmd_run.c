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
#include "exporter.h"
#include "live.h"
#include "loader.h"

enum live_opt {
	OPT_OUTPUT = 'o',
	OPT_VERBOSE = 'v',
	OPT_DURATION = HM_OPT_COMMAND_BASE,
	OPT_ATTACH,
	OPT_SET_STATE_FUNC,
	OPT_LOCKS,
	OPT_RINGBUF_KB,
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
		"      --attach MODE           auto (fentry, else kprobe), fentry or kprobe only\n"
		"      --locks focused|full    focused (default): device mutexes, the known global\n"
		"                              locks, learned VFIO/driver locks, VFIO users'\n"
		"                              mmap_lock: cheap enough for production; full: every\n"
		"                              mutex and rwsem, for CI (docs/bench.md has the costs)\n"
		"      --set-state-func NAME   also hook this variant driver's migration_set_state\n"
		"                              callback (repeatable; attaches when its module loads)\n"
		"      --ringbuf-kb N          BPF ring buffer size in KiB, a power of 2 >= 4\n"
		"                              (default 8192, 65536 with --locks full); a full\n"
		"                              buffer loses records, which are counted and\n"
		"                              reported, never silent\n"
		"  -v, --verbose               libbpf's messages\n"
		"%s"
		"  -h, --help                  this help\n\n"
		"Needs root (CAP_BPF, CAP_PERFMON), BTF and no kernel lockdown.\n"
		"Exit status: 0 no findings at --fail-on, 1 findings, 2 error.\n",
		spec->name, spec->require_output ? "-o FILE " : "[-o FILE] ", spec->summary,
		spec->require_output ? "write the trace here (required)"
				     : "also record the trace into FILE",
		spec->quiet ? "" : HM_ANALYSIS_HELP);
}

/* KiB, a power of 2 of at least a page (4 KiB here) and at most 1 GiB. */
static bool parse_ringbuf_kb(const char *arg, uint32_t *bytes)
{
	unsigned long long kb;

	if (!hm_cli_parse_count(arg, 1ull << 20, &kb) || kb < 4 || (kb & (kb - 1)))
		return false;
	*bytes = (uint32_t)(kb * 1024);
	return true;
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
	struct hm_session_opts session;
	struct hm_loader_opts loader;
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
		{ "attach", required_argument, NULL, OPT_ATTACH },
		{ "set-state-func", required_argument, NULL, OPT_SET_STATE_FUNC },
		{ "locks", required_argument, NULL, OPT_LOCKS },
		{ "ringbuf-kb", required_argument, NULL, OPT_RINGBUF_KB },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	hm_session_opts_defaults(&a->session);
	a->session.quiet = spec->quiet;
	while ((opt = getopt_long(argc, argv, HM_GETOPT("jo:vh"), long_options, NULL)) != -1) {
		bool handled;

		switch (opt) {
		case 'h':
			live_usage(stdout, spec);
			return 1;
		case OPT_OUTPUT:
			/* refused before anything is set up: no file is created */
			if (!hm_cli_output_ok("-o", optarg))
				return 2;
			a->session.record_path = optarg;
			continue;
		case OPT_DURATION:
			if (!parse_seconds(optarg, &a->duration_s))
				return 2;
			continue;
		case OPT_ATTACH:
			if (hm_attach_pref_parse(optarg, &a->loader.pref))
				continue;
			hm_cli_error("--attach: '%s' is not one of auto, fentry, kprobe", optarg);
			return 2;
		case OPT_LOCKS:
			if (hm_lock_mode_parse(optarg, &a->loader.lock_mode))
				continue;
			hm_cli_error("--locks: '%s' is not one of focused, full", optarg);
			return 2;
		case OPT_RINGBUF_KB:
			if (parse_ringbuf_kb(optarg, &a->loader.ringbuf_bytes))
				continue;
			hm_cli_error("--ringbuf-kb: '%s' is not a power of 2 from 4 to 1048576", optarg);
			return 2;
		case OPT_SET_STATE_FUNC:
			if (a->loader.n_set_state_funcs == HM_LOADER_MAX_SET_STATE) {
				hm_cli_error("--set-state-func: at most %d functions",
					     HM_LOADER_MAX_SET_STATE);
				return 2;
			}
			a->loader.set_state_funcs[a->loader.n_set_state_funcs++] = optarg;
			continue;
		case OPT_VERBOSE:
			a->loader.verbose = true;
			continue;
		}
		if (!hm_cli_analysis_option(opt, optarg, &a->session, &handled))
			return 2;
		if (!handled) {
			hm_cli_option_error(spec->name, opt, argv);
			return 2;
		}
	}
	if (optind != argc) {
		hm_cli_error("%s takes no arguments: '%s' (see --help)", spec->name, argv[optind]);
		return 2;
	}
	if (spec->require_output && !a->session.record_path) {
		hm_cli_error("%s needs -o FILE (see --help)", spec->name);
		return 2;
	}
	return 0;
}

int hm_live_command(int argc, char **argv, const struct hm_live_spec *spec)
{
	struct live_args a = { 0 };
	struct hm_session *session;
	struct hm_loader *loader;
	struct hm_exporter *exporter = NULL;
	uint64_t deadline = 0;
	char err[256], summary[128], skipped_by[512];
	int status, perr = 0;

	status = parse_live_args(argc, argv, spec, &a);
	if (status)
		return status == 1 ? HM_EXIT_CLEAN : HM_EXIT_USAGE;
	if (!hm_loader_check_env(err, sizeof(err))) {
		hm_cli_error("%s", err);
		return HM_EXIT_USAGE;
	}
	session = hm_session_new(&a.session, err, sizeof(err));
	if (!session) {
		hm_cli_error("%s", err);
		return HM_EXIT_USAGE;
	}
	if (a.session.metrics_listen) {
		exporter = hm_exporter_attach(session, a.session.metrics_listen, &a.session.config,
					      err, sizeof(err));
		if (!exporter) {
			hm_cli_error("%s", err);
			hm_session_free(session);
			return HM_EXIT_USAGE;
		}
		fprintf(stderr, "hisimig-trace: serving metrics at %s\n", hm_exporter_url(exporter));
	}
	hm_session_meta(session, "command", spec->name);
	hm_cli_stop_on_signals();
	loader = hm_loader_start(&a.loader, session, err, sizeof(err));
	if (!loader) {
		hm_cli_error("%s", err);
		hm_exporter_stop(exporter);
		hm_session_free(session); /* drops FILE.partial: FILE is as it was */
		return HM_EXIT_USAGE;
	}
	hm_loader_summary(loader, summary, sizeof(summary));
	fprintf(stderr, "hisimig-trace: tracing: %s hooks; %s\n", summary,
		a.duration_s ? "stops after --duration" : "Ctrl-C to stop");
	if (a.duration_s)
		deadline = hm_mono_ns() + (uint64_t)(a.duration_s * 1e9);
	while (!hm_cli_stop_signal() && (!deadline || hm_mono_ns() < deadline)) {
		perr = hm_loader_poll(loader, 100);
		if (perr < 0)
			break;
	}
	/* drain what is already in the ring buffer */
	if (!perr)
		perr = hm_loader_poll(loader, 0);
	status = hm_session_finish(session, spec->name, hm_loader_lost(loader), hm_mono_ns());
	/* the lost-events finding counts them; this says where (PREEMPT_RT) */
	if (hm_loader_skipped_by(loader, skipped_by, sizeof(skipped_by)))
		fprintf(stderr, "hisimig-trace: hook runs the kernel skipped: %s\n", skipped_by);
	if (perr < 0) {
		hm_cli_error("reading the ring buffer failed: %s", strerror(-perr));
		status = HM_EXIT_USAGE;
	}
	hm_exporter_stop(exporter);
	hm_loader_free(loader);
	hm_session_free(session);
	return status;
}

int hm_cmd_run(int argc, char **argv)
{
	static const struct hm_live_spec spec = {
		.name = "run",
		.summary = "Trace this kernel live: report findings as they happen, a summary at exit.",
	};

	return hm_live_command(argc, argv, &spec);
}
