// SPDX-License-Identifier: GPL-2.0
/* hisimig-trace replay FILE: analyse a recorded trace, anywhere. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "event.h"
#include "exporter.h"
#include "finding_filter.h"
#include "outputs.h"
#include "pacer.h"

static const char replay_usage[] =
	"Usage: hisimig-trace replay [OPTIONS] FILE\n"
	"Analyse a trace recorded by 'hisimig-trace record' or 'run -o'.\n"
	"FILE may be - (stdin) or a pipe: the trace is read once, front to back.\n\n"
	HM_ANALYSIS_HELP
	HM_REPORTS_HELP
	HM_FILTER_HELP
	"      --metrics-linger SECONDS  keep serving --metrics after the replay ended\n"
	"                              (Ctrl-C or SIGTERM ends it early)\n"
	"      --metrics-await-scrape  start replaying once /metrics was scraped, so\n"
	"                              counters rise from 0 where the scraper sees them\n"
	"      --replay-speed X        replay at X times the recorded pace (1 = realtime,\n"
	"                              0.001 to 1000000) instead of as fast as possible;\n"
	"                              a pause longer than 5 s in the trace waits 5 s\n"
	"  -h, --help                  this help\n\n"
	"--timeline FILE is written as FILE.partial and renamed to FILE at the end.\n"
	"SIGINT or SIGTERM stops the replay early: the outputs are finished for the\n"
	"records replayed so far (summary, complete timeline) and the exit status is\n"
	"128 + the signal (130, 143).\n"
	"Exit status: 0 no findings at --fail-on, 1 findings, 2 usage or input error.\n\n"
	"Examples:\n"
	"  hisimig-trace replay migrate.hmt\n"
	"  hisimig-trace replay --json migrate.hmt | jq 'select(.type == \"finding\")'\n"
	"  hisimig-trace replay --junit report.xml --baseline accepted.txt migrate.hmt\n"
	"  hisimig-trace replay --metrics :9478 --replay-speed 1 migrate.hmt\n";

enum replay_opt {
	OPT_METRICS_LINGER = HM_OPT_COMMAND_BASE,
	OPT_REPLAY_SPEED,
	OPT_METRICS_AWAIT_SCRAPE,
};

struct replay_totals {
	uint64_t records;
	uint64_t bad_tables;
	uint64_t lost;
	uint64_t end_ts;
	bool saw_end;
};

static void describe_origin(FILE *out, const struct hm_trace_header *h, const char *path)
{
	time_t start = (time_t)(h->start_realtime_ns / 1000000000ULL);
	char when[64] = "unknown time";
	struct tm tm;

	if (start && gmtime_r(&start, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(out, "hisimig-trace: replaying %s (recorded on %.65s, kernel %.65s, %s)\n", path,
		h->hostname[0] ? h->hostname : "?", h->kernel_release[0] ? h->kernel_release : "?",
		when);
}

/* "key=value" as the writer stores it; malformed records are skipped. */
static void replay_meta(struct hm_session *s, const struct hm_trace_record *rec)
{
	const char *text = rec->data;
	char *copy, *eq;

	if (!rec->len || text[rec->len - 1] != '\0')
		return;
	copy = strdup(text);
	eq = copy ? strchr(copy, '=') : NULL;
	if (eq) {
		*eq = '\0';
		hm_session_meta(s, copy, eq + 1);
	}
	free(copy);
}

static uint64_t event_ts(const struct hm_trace_record *rec)
{
	struct hm_event_header hdr;

	if (rec->len < sizeof(hdr))
		return 0;
	memcpy(&hdr, rec->data, sizeof(hdr));
	return hdr.ts_ns;
}

/* Feed every whole record to the session; returns the reader's final status. */
static enum hm_read_status replay_records(struct hm_trace_reader *r, struct hm_session *s,
					  struct hm_pacer *pacer, struct replay_totals *t)
{
	struct hm_trace_record rec;
	enum hm_read_status st = HM_READ_OK;

	while (!hm_cli_stop_signal() && (st = hm_trace_read(r, &rec)) == HM_READ_OK) {
		t->records++;
		switch (rec.kind) {
		case HM_REC_EVENT:
			hm_pacer_wait(pacer, event_ts(&rec));
			hm_session_event(s, rec.data, rec.len);
			break;
		case HM_REC_META:
			replay_meta(s, &rec);
			break;
		case HM_REC_STACK:
		case HM_REC_SYMBOL:
			if (!hm_trace_apply_table_record(&rec, hm_session_stacks(s)))
				t->bad_tables++;
			break;
		case HM_REC_END: {
			struct hm_trace_end end;

			if (rec.len >= sizeof(end)) {
				memcpy(&end, rec.data, sizeof(end));
				t->lost = end.lost;
				t->end_ts = end.end_mono_ns;
			}
			t->saw_end = true;
			break;
		}
		default:
			break; /* kinds from newer writers */
		}
	}
	return st;
}

/* Serve the final values a while for a scraper; a termination signal ends it. */
static void linger(const struct hm_exporter *exporter, unsigned long seconds)
{
	struct timespec timeout = { .tv_sec = (time_t)seconds };
	sigset_t stop, old;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	fprintf(stderr, "hisimig-trace: replay done; serving %s for %lu s more\n",
		hm_exporter_url(exporter), seconds);
	while (sigtimedwait(&stop, NULL, &timeout) < 0 && errno == EINTR)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static bool parse_linger(const char *arg, unsigned long *seconds)
{
	unsigned long long n;

	if (!hm_cli_parse_count(arg, 31536000ULL, &n)) {
		hm_cli_error("--metrics-linger: '%s' is not a number of seconds", arg);
		return false;
	}
	*seconds = (unsigned long)n;
	return true;
}

struct replay_args {
	struct hm_session_opts session;
	struct hm_finding_filter filter;
	struct hm_outputs outputs;
	unsigned long linger_s;
	double speed;
	const char *path;
};

/* What was wrong with the trace, after the summary: one line each. */
static void report_input(const struct replay_args *a, struct hm_trace_reader *r,
			 enum hm_read_status st, const struct replay_totals *t, int stop)
{
	if (st == HM_READ_TRUNCATED && hm_trace_reader_size(r))
		hm_cli_error("%s: truncated: replayed %" PRIu64 " whole records (%" PRIu64
			     " of %" PRIu64 " bytes); the tail was cut (%s)",
			     a->path, t->records, hm_trace_reader_offset(r),
			     hm_trace_reader_size(r), hm_trace_reader_error(r));
	else if (st == HM_READ_TRUNCATED) /* a pipe: no size to compare with */
		hm_cli_error("%s: truncated: replayed %" PRIu64 " whole records (%" PRIu64
			     " bytes); the tail was cut (%s)",
			     a->path, t->records, hm_trace_reader_offset(r), hm_trace_reader_error(r));
	else if (st == HM_READ_CORRUPT)
		hm_cli_error("%s: %s; replayed the %" PRIu64 " records before it", a->path,
			     hm_trace_reader_error(r), t->records);
	else if (!t->saw_end && !stop)
		hm_cli_error("%s: no end record: the recording was interrupted; replayed all "
			     "%" PRIu64 " records", a->path, t->records);
	if (t->bad_tables)
		hm_cli_error("%s: %" PRIu64 " malformed stack/symbol records skipped", a->path,
			     t->bad_tables);
}

/* Replay the trace through a session and its outputs, then close them all:
 * the exit status. */
static int replay_file(struct replay_args *a)
{
	struct replay_totals totals = { 0 };
	struct hm_session *session = NULL;
	struct hm_trace_reader *reader;
	struct hm_pacer pacer;
	enum hm_read_status st;
	char err[256];
	int status = HM_EXIT_USAGE, stop;

	reader = hm_trace_reader_open(a->path, err, sizeof(err));
	if (!reader) {
		hm_cli_error("%s: %s", a->path, err);
		goto out;
	}
	session = hm_session_new(&a->session, err, sizeof(err));
	if (!session) {
		hm_cli_error("%s", err);
		goto out;
	}
	if (!hm_outputs_open(&a->outputs, session, &a->session.config))
		goto out;
	if (a->session.format == HM_REPORT_TEXT)
		describe_origin(a->session.out, hm_trace_reader_header(reader), a->path);
	hm_cli_stop_on_signals();
	hm_pacer_init(&pacer, a->speed, hm_cli_stop_flag());
	st = replay_records(reader, session, &pacer, &totals);
	stop = hm_cli_stop_signal();
	if (stop)
		hm_cli_error("%s: stopped by %s after %" PRIu64 " records; the outputs cover "
			     "those", a->path, strsignal(stop), totals.records);
	status = hm_session_finish(session, a->path, totals.lost, totals.end_ts);
	status = hm_outputs_finish(&a->outputs, status);
	report_input(a, reader, st, &totals, stop);
	status = hm_outputs_write_reports(&a->outputs, session,
					  &(struct hm_junit_run){ .suite = a->path,
								  .fail_on = a->session.fail_on },
					  status);
	if (a->linger_s && !stop) {
		fflush(a->session.out); /* the summary before a long wait */
		linger(a->outputs.exporter, a->linger_s);
	}
	if (stop)
		status = 128 + stop;
	else if (st == HM_READ_CORRUPT)
		status = HM_EXIT_USAGE;
out:
	hm_outputs_close(&a->outputs);
	hm_session_free(session);
	hm_trace_reader_close(reader);
	return status;
}

/* 0 parsed, 1 --help printed, 2 usage error */
static int parse_replay_args(int argc, char **argv, struct replay_args *a)
{
	static const struct option long_options[] = {
		HM_ANALYSIS_LONG_OPTIONS,
		HM_REPORTS_LONG_OPTIONS,
		HM_FILTER_LONG_OPTIONS,
		{ "metrics-linger", required_argument, NULL, OPT_METRICS_LINGER },
		{ "replay-speed", required_argument, NULL, OPT_REPLAY_SPEED },
		{ "metrics-await-scrape", no_argument, NULL, OPT_METRICS_AWAIT_SCRAPE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	hm_session_opts_defaults(&a->session);
	a->session.filter = &a->filter;
	while ((opt = getopt_long(argc, argv, HM_GETOPT("jh"), long_options, NULL)) != -1) {
		bool handled;

		if (opt == 'h') {
			fputs(replay_usage, stdout);
			return 1;
		}
		if (opt == OPT_METRICS_LINGER) {
			if (!parse_linger(optarg, &a->linger_s))
				return 2;
			continue;
		}
		if (opt == OPT_METRICS_AWAIT_SCRAPE) {
			a->outputs.metrics_await_scrape = true;
			continue;
		}
		if (opt == OPT_REPLAY_SPEED) {
			if (!hm_cli_parse_real(optarg, HM_PACER_MIN_SPEED, HM_PACER_MAX_SPEED,
					       &a->speed)) {
				hm_cli_error("--replay-speed: '%s' is not a factor from 0.001 to "
					     "1000000 (1 = realtime)", optarg);
				return 2;
			}
			continue;
		}
		if (!hm_cli_analysis_option(opt, optarg, &a->session, &handled))
			return 2;
		if (!handled && !hm_outputs_option(&a->outputs, opt, optarg, &handled))
			return 2;
		if (!handled && !hm_finding_filter_option(&a->filter, opt, optarg, &handled))
			return 2;
		if (!handled)
			return hm_cli_option_error("replay", opt, argv);
	}
	if (optind != argc - 1) {
		hm_cli_error("replay needs exactly one trace FILE (see --help)");
		return 2;
	}
	a->path = argv[optind];
	if ((a->linger_s || a->outputs.metrics_await_scrape) && !a->outputs.metrics_listen) {
		hm_cli_error("--metrics-%s needs --metrics ADDR:PORT",
			     a->linger_s ? "linger" : "await-scrape");
		return 2;
	}
	return hm_outputs_prepare(&a->outputs, &a->session) ? 0 : 2;
}

int hm_cmd_replay(int argc, char **argv)
{
	struct replay_args a = { 0 };
	int status = parse_replay_args(argc, argv, &a);

	if (status) {
		hm_outputs_close(&a.outputs);
		return status == 1 ? HM_EXIT_CLEAN : HM_EXIT_USAGE;
	}
	return replay_file(&a);
}
