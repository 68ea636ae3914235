/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One live tracing session, the path run, record and ci share: check the
 * kernel lets us trace, open the session and its outputs (outputs.h), load
 * and attach every hook, poll the ring buffer, then drain and finish.
 */
#ifndef HM_LIVE_TRACE_H
#define HM_LIVE_TRACE_H

#include <getopt.h>
#include <stdbool.h>
#include "finding_filter.h"
#include "loader.h"
#include "outputs.h"
#include "session.h"

/* How to trace: the options run, record and ci share. */
enum hm_live_opt {
	HM_OPT_VERBOSE = 'v',
	HM_OPT_ATTACH = 450,
	HM_OPT_SET_STATE_FUNC,
	HM_OPT_LOCKS,
	HM_OPT_RINGBUF_KB,
};

#define HM_LIVE_LONG_OPTIONS                                                    \
	{ "attach", required_argument, NULL, HM_OPT_ATTACH },                   \
	{ "set-state-func", required_argument, NULL, HM_OPT_SET_STATE_FUNC },   \
	{ "locks", required_argument, NULL, HM_OPT_LOCKS },                     \
	{ "ringbuf-kb", required_argument, NULL, HM_OPT_RINGBUF_KB },           \
	{ "verbose", no_argument, NULL, HM_OPT_VERBOSE }

#define HM_LIVE_HELP                                                                    \
	"      --attach MODE           auto (fentry, else kprobe), fentry or kprobe only\n"   \
	"      --locks focused|full    focused (default): device mutexes, the known global\n" \
	"                              locks, learned VFIO/driver locks, VFIO users'\n"        \
	"                              mmap_lock: cheap enough for production; full: every\n" \
	"                              mutex and rwsem, for CI (docs/bench.md has the costs)\n" \
	"      --set-state-func NAME   also hook this variant driver's migration_set_state\n"  \
	"                              callback (repeatable; attaches when its module loads)\n" \
	"      --ringbuf-kb N          BPF ring buffer size in KiB, a power of 2 >= 4\n"       \
	"                              (default 8192, 65536 with --locks full); a full\n"     \
	"                              buffer loses records, which are counted and\n"         \
	"                              reported, never silent\n"                              \
	"  -v, --verbose               libbpf's messages\n"

/* The long options of a live command beyond the analysis ones (which run and
 * ci list differently): how to trace and which findings to report. */
#define HM_LIVE_COMMAND_LONG_OPTIONS HM_LIVE_LONG_OPTIONS, HM_FILTER_LONG_OPTIONS

/* Apply one of the options above; false (after printing why) if invalid;
 * *handled tells whether opt was one of them. */
bool hm_live_loader_option(int opt, const char *arg, struct hm_loader_opts *lo, bool *handled);

/* What a live command's options set. */
struct hm_live_opts {
	struct hm_loader_opts loader;
	struct hm_finding_filter filter;
	struct hm_session_opts session; /* .filter points at filter */
	struct hm_outputs outputs;
};

/* Zero options, the session's defaults; o is not to be copied after this. */
void hm_live_opts_init(struct hm_live_opts *o);
/* An option of any group a live command shares: how to trace (above), which
 * findings to report (finding_filter.h), how to analyse (cli.h), what to
 * write or serve besides (outputs.h). false after printing one line if it is
 * invalid or none of them (getopt's '?' and ':' too: hm_cli_option_error). */
bool hm_live_common_option(const char *command, int opt, const char *arg, char **argv,
			   struct hm_live_opts *o);

struct hm_live_trace {
	const char *command;          /* "run", "record", "ci": the session's meta */
	struct hm_live_opts *opts;
	struct hm_session *session;
	struct hm_loader *loader;
	int poll_error;               /* <0: -errno of a failed ring-buffer read */
};

enum hm_live_status {
	HM_LIVE_OK,
	HM_LIVE_BAD_OUTPUT,           /* an output file or the metrics address */
	HM_LIVE_CANNOT_TRACE,         /* privileges, lockdown, BTF, hooks */
};

/* Checks this kernel, opens the session and its outputs; the error is
 * printed. */
enum hm_live_status hm_live_trace_open(struct hm_live_trace *t, const char *command,
				       struct hm_live_opts *o);
/* Loads and attaches every hook: once it returns HM_LIVE_OK the core lock
 * hooks are live. Prints the hook summary line, ending with until (what
 * ends the trace). */
enum hm_live_status hm_live_trace_attach(struct hm_live_trace *t, const char *until);
/* One batch of records (waits up to timeout_ms); false once reading failed. */
bool hm_live_trace_poll(struct hm_live_trace *t, int timeout_ms);
/* Drain, analyse to the end, print the summary, finish the timeline: the
 * session's exit status (HM_EXIT_USAGE if reading the ring buffer or writing
 * an output failed). The reports are the command's to write (outputs.h). */
int hm_live_trace_finish(struct hm_live_trace *t);
/* Closes the outputs too. */
void hm_live_trace_close(struct hm_live_trace *t);

#endif
