// SPDX-License-Identifier: GPL-2.0
/* hisimig-trace replay FILE: analyse a recorded trace, anywhere. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "event.h"

static const char replay_usage[] =
	"Usage: hisimig-trace replay [OPTIONS] FILE\n"
	"Analyse a trace recorded by 'hisimig-trace record' or 'run -o'.\n\n" HM_ANALYSIS_HELP
	"  -h, --help                  this help\n\n"
	"Exit status: 0 no findings at --fail-on, 1 findings, 2 usage or input error.\n";

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

/* Feed every whole record to the session; returns the reader's final status. */
static enum hm_read_status replay_records(struct hm_trace_reader *r, struct hm_session *s,
					  struct replay_totals *t)
{
	struct hm_trace_record rec;
	enum hm_read_status st;

	while ((st = hm_trace_read(r, &rec)) == HM_READ_OK) {
		t->records++;
		switch (rec.kind) {
		case HM_REC_EVENT:
			hm_session_event(s, rec.data, rec.len);
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
			break; /* META and kinds from newer writers */
		}
	}
	return st;
}

int hm_cmd_replay(int argc, char **argv)
{
	static const struct option long_options[] = {
		HM_ANALYSIS_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hm_session_opts opts;
	struct replay_totals totals = { 0 };
	struct hm_trace_reader *reader;
	struct hm_session *session;
	enum hm_read_status st;
	char err[256];
	int opt, status;

	hm_session_opts_defaults(&opts);
	while ((opt = getopt_long(argc, argv, "jh", long_options, NULL)) != -1) {
		bool handled;

		if (opt == 'h') {
			fputs(replay_usage, stdout);
			return HM_EXIT_CLEAN;
		}
		if (!hm_cli_analysis_option(opt, optarg, &opts, &handled))
			return HM_EXIT_USAGE;
		if (!handled) {
			fputs(replay_usage, stderr);
			return HM_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		hm_cli_error("replay needs exactly one trace FILE (see --help)");
		return HM_EXIT_USAGE;
	}
	reader = hm_trace_reader_open(argv[optind], err, sizeof(err));
	if (!reader) {
		hm_cli_error("%s: %s", argv[optind], err);
		return HM_EXIT_USAGE;
	}
	session = hm_session_new(&opts, err, sizeof(err));
	if (!session) {
		hm_cli_error("%s", err);
		hm_trace_reader_close(reader);
		return HM_EXIT_USAGE;
	}
	if (opts.format == HM_REPORT_TEXT)
		describe_origin(opts.out, hm_trace_reader_header(reader), argv[optind]);
	st = replay_records(reader, session, &totals);
	status = hm_session_finish(session, argv[optind], totals.lost, totals.end_ts);
	if (st == HM_READ_TRUNCATED)
		hm_cli_error("%s: truncated: replayed %" PRIu64 " whole records (%" PRIu64
			     " of %" PRIu64 " bytes); the tail was cut (%s)",
			     argv[optind], totals.records, hm_trace_reader_offset(reader),
			     hm_trace_reader_size(reader), hm_trace_reader_error(reader));
	else if (st == HM_READ_CORRUPT)
		hm_cli_error("%s: %s; replayed the %" PRIu64 " records before it", argv[optind],
			     hm_trace_reader_error(reader), totals.records);
	else if (!totals.saw_end)
		hm_cli_error("%s: no end record: the recording was interrupted; replayed all "
			     "%" PRIu64 " records", argv[optind], totals.records);
	if (totals.bad_tables)
		hm_cli_error("%s: %" PRIu64 " malformed stack/symbol records skipped", argv[optind],
			     totals.bad_tables);
	hm_session_free(session);
	hm_trace_reader_close(reader);
	return st == HM_READ_CORRUPT ? HM_EXIT_USAGE : status;
}
