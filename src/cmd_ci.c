// SPDX-License-Identifier: GPL-2.0
/*
 * hisimig-trace ci -- CMD [ARGS...]: trace this kernel around one command,
 * the way a CI job wraps a test. Tracing starts first; CMD runs only once
 * every core lock hook is live; when CMD exits the ring buffer is drained
 * and analysed, and the reports are written. The exit status tells a CI
 * job which of four things happened (see ci_usage).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "live_trace.h"

/* Exit statuses of ci beyond the common ones. */
#define HM_EXIT_CMD_FAILED 3
#define HM_EXIT_CANNOT_TRACE 4

static const char ci_usage[] =
	"Usage: hisimig-trace ci [OPTIONS] -- CMD [ARGS...]\n"
	"Trace this kernel while CMD runs (a test, a migration), then report. CMD's\n"
	"stdout and stderr pass through; SIGINT, SIGTERM, SIGHUP and SIGQUIT are\n"
	"forwarded to it. Findings print as they happen, a summary after CMD exits.\n\n"
	"  -o, --output FILE           also record the trace into FILE (replayable)\n"
	"      --json FILE             write the findings and summary as NDJSON to FILE\n"
	"      --timeline FILE         write a Perfetto/Chrome trace-event timeline\n"
	HM_REPORTS_HELP
	"      --fail-on SEVERITY      findings at or above info|warning|error fail the run\n"
	"                              (default: warning)\n"
	"      --quiet                 print only the summary\n"
	"      --sriov-disable-warn-ms N, --mig-state-max-ms N, --mig-downtime-max-ms N\n"
	"                              thresholds, as for run\n"
	HM_LIVE_HELP
	HM_FILTER_HELP
	"  -h, --help                  this help\n\n"
	"Exit status:\n"
	"  0  CMD succeeded and no finding at or above --fail-on (outside the baseline)\n"
	"  1  findings at or above --fail-on (whatever CMD's status)\n"
	"  2  usage or input error (options, baseline file, output files)\n"
	"  3  CMD failed (non-zero exit, killed by a signal, or not startable), no finding\n"
	"  4  could not trace: not root, kernel lockdown, no BTF, hooks failed to attach\n"
	"     (CMD was not run), or the trace broke off while CMD ran\n\n"
	"Examples:\n"
	"  hisimig-trace ci --junit report.xml -- ./migrate-vf.sh 0000:3b:00.1\n"
	"  hisimig-trace ci --locks full --baseline accepted.txt -- bats tests/sriov.bats\n"
	"  hisimig-trace ci --baseline accepted.txt --update-baseline -- ./suite.sh\n";

enum ci_opt {
	OPT_CI_OUTPUT = 'o',
	OPT_CI_JSON = HM_OPT_COMMAND_BASE,
};

struct ci_args {
	struct hm_live_opts live;
	char **cmd;
};

/* 0 parsed, 1 --help printed, 2 usage error */
static int parse_ci_args(int argc, char **argv, struct ci_args *a)
{
	static const struct option long_options[] = {
		{ "output", required_argument, NULL, OPT_CI_OUTPUT },
		{ "json", required_argument, NULL, OPT_CI_JSON },
		{ "timeline", required_argument, NULL, OPT_TIMELINE },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "sriov-disable-warn-ms", required_argument, NULL, OPT_SRIOV_WARN },
		{ "mig-state-max-ms", required_argument, NULL, OPT_STATE_MAX },
		{ "mig-downtime-max-ms", required_argument, NULL, OPT_DOWNTIME_MAX },
		HM_REPORTS_LONG_OPTIONS,
		HM_LIVE_COMMAND_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	hm_live_opts_init(&a->live);
	/* '+': options end at CMD, whose own options are its own */
	while ((opt = getopt_long(argc, argv, "+" HM_GETOPT("o:vh"), long_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(ci_usage, stdout);
			return 1;
		case OPT_CI_OUTPUT:
			a->live.session.record_path = optarg;
			continue;
		case OPT_CI_JSON:
			a->live.outputs.reports.json_path = optarg;
			continue;
		}
		if (!hm_live_common_option("ci", opt, optarg, argv, &a->live))
			return 2;
	}
	if (optind == argc) {
		hm_cli_error("ci needs a command to run: hisimig-trace ci [OPTIONS] -- CMD [ARGS...]");
		return 2;
	}
	a->cmd = argv + optind;
	return hm_outputs_prepare(&a->live.outputs, &a->live.session) ? 0 : 2;
}

/* The running command, for the forwarding handler: the one global of ci. */
static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_FORWARDED (sizeof(forwarded_signals) / sizeof(forwarded_signals[0]))

static void set_forwarding(bool on)
{
	struct sigaction sa = { .sa_handler = on ? forward_signal : SIG_DFL };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded_signals[i], &sa, NULL);
}

/* fork + exec CMD; -1 (after printing why) if fork failed. An exec failure
 * is the child's exit status 127, as for a shell. */
static pid_t start_command(char **cmd)
{
	pid_t pid;

	fflush(NULL); /* nothing buffered twice */
	pid = fork();
	if (pid == 0) {
		set_forwarding(false);
		execvp(cmd[0], cmd);
		fprintf(stderr, "hisimig-trace: ci: cannot run '%s': %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		hm_cli_error("ci: fork: %s", strerror(errno));
	return pid;
}

/* Trace until CMD exits; its wait status in *wstatus. */
static void trace_until_exit(struct hm_live_trace *t, pid_t pid, int *wstatus)
{
	for (;;) {
		pid_t done;

		if (!hm_live_trace_poll(t, 100)) {
			/* the trace broke: stop reading, still wait for CMD */
			while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
				;
			return;
		}
		done = waitpid(pid, wstatus, WNOHANG);
		if (done == pid || (done < 0 && errno != EINTR))
			return;
	}
}

/* "exited with status 3", "killed by signal 9 (Killed)", or NULL on success. */
static const char *describe_failure(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus) && !WEXITSTATUS(wstatus))
		return NULL;
	if (WIFEXITED(wstatus))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(wstatus),
			 strsignal(WTERMSIG(wstatus)));
	else
		snprintf(buf, len, "ended with wait status %#x", wstatus);
	return buf;
}

int hm_cmd_ci(int argc, char **argv)
{
	struct ci_args a = { 0 };
	struct hm_live_trace t;
	struct hm_junit_run run = { .suite = "hisimig-trace ci" };
	enum hm_live_status live;
	char why[96];
	int status, wstatus = 0;
	uint64_t t0;
	pid_t pid;

	status = parse_ci_args(argc, argv, &a);
	if (status) {
		hm_outputs_close(&a.live.outputs);
		return status == 1 ? HM_EXIT_CLEAN : HM_EXIT_USAGE;
	}
	live = hm_live_trace_open(&t, "ci", &a.live);
	if (live == HM_LIVE_OK)
		live = hm_live_trace_attach(&t, "running the command");
	if (live != HM_LIVE_OK) {
		hm_live_trace_close(&t);
		return live == HM_LIVE_CANNOT_TRACE ? HM_EXIT_CANNOT_TRACE : HM_EXIT_USAGE;
	}
	hm_session_meta(t.session, "ci.command", a.cmd[0]);
	set_forwarding(true);
	t0 = hm_mono_ns();
	pid = start_command(a.cmd);
	if (pid > 0) {
		child_pid = pid;
		trace_until_exit(&t, pid, &wstatus);
		child_pid = 0;
	} else {
		wstatus = 127 << 8;
	}
	set_forwarding(false);
	run.seconds = (double)(hm_mono_ns() - t0) / 1e9;
	run.command_error = describe_failure(wstatus, why, sizeof(why));
	run.fail_on = a.live.session.fail_on;
	if (run.command_error)
		fprintf(stderr, "hisimig-trace: ci: %s %s\n", a.cmd[0], run.command_error);
	status = hm_live_trace_finish(&t);
	status = hm_outputs_write_reports(&a.live.outputs, t.session, &run, status);
	if (t.poll_error)
		status = HM_EXIT_CANNOT_TRACE;
	else if (status == HM_EXIT_CLEAN && run.command_error)
		status = HM_EXIT_CMD_FAILED;
	hm_live_trace_close(&t);
	return status;
}
