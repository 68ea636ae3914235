/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommand table and the analysis options shared by replay, run and ci. */
#ifndef HM_CLI_H
#define HM_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include "session.h"

/* Exit statuses of every subcommand. */
#define HM_EXIT_CLEAN 0
#define HM_EXIT_FINDINGS 1
#define HM_EXIT_USAGE 2

struct hm_command {
	const char *name;
	const char *summary;          /* NULL: hidden from --help */
	int (*run)(int argc, char **argv);
};

/* Options understood by every analysing subcommand; ids above 256 are long-only.
 * --metrics and --timeline are outputs: hm_outputs_option() (outputs.h)
 * takes them. */
enum hm_analysis_opt {
	OPT_JSON = 'j',
	OPT_FAIL_ON = 256,
	OPT_QUIET,
	OPT_SRIOV_WARN,
	OPT_STATE_MAX,
	OPT_DOWNTIME_MAX,
	OPT_METRICS,
	OPT_TIMELINE,
	/* ids from here on are free for a subcommand's own long options */
	HM_OPT_COMMAND_BASE = 512,
};

#define HM_ANALYSIS_LONG_OPTIONS                                            \
	{ "json", no_argument, NULL, OPT_JSON },                            \
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },                \
	{ "quiet", no_argument, NULL, OPT_QUIET },                          \
	{ "sriov-disable-warn-ms", required_argument, NULL, OPT_SRIOV_WARN }, \
	{ "mig-state-max-ms", required_argument, NULL, OPT_STATE_MAX },     \
	{ "mig-downtime-max-ms", required_argument, NULL, OPT_DOWNTIME_MAX }, \
	{ "metrics", required_argument, NULL, OPT_METRICS },                \
	{ "timeline", required_argument, NULL, OPT_TIMELINE }

#define HM_ANALYSIS_HELP                                                          \
	"  -j, --json                  findings as JSON lines (NDJSON)\n"             \
	"      --fail-on SEVERITY      exit 1 on findings at or above info|warning|error\n" \
	"                              (default: warning)\n"                          \
	"      --quiet                 print only the summary\n"                      \
	"      --sriov-disable-warn-ms N  SR-IOV disable blocked longer: warning (5000)\n" \
	"      --mig-state-max-ms N    migration state held longer: warning (30000)\n" \
	"      --mig-downtime-max-ms N stop-copy downtime budget (500)\n"             \
	"      --metrics ADDR:PORT     serve Prometheus metrics at http://ADDR:PORT/metrics\n" \
	"                              (e.g. 127.0.0.1:9478, :9478 for every address)\n" \
	"      --timeline FILE         also write a Perfetto/Chrome trace-event timeline\n"

/* Apply one analysis option (not an output's); returns false (after printing
 * why) if invalid, and sets *handled when opt was one of them. */
bool hm_cli_analysis_option(int opt, const char *arg, struct hm_session_opts *o, bool *handled);

/* A decimal count in 0..max, the whole of arg (digits only: no sign, no
 * space): true and *out set, else false and nothing printed (the caller names
 * the option). */
bool hm_cli_parse_count(const char *arg, unsigned long long max, unsigned long long *out);
/* A finite decimal number in [min, max] ("0.5", "2", "1e3"; no sign, space,
 * hex, nan or inf): true and *out set, else false and nothing printed. */
bool hm_cli_parse_real(const char *arg, double min, double max, double *out);
/* May --OPTION PATH be written (outfile.h)? false after printing one line. */
bool hm_cli_output_ok(const char *option, const char *path);

/* The option string every subcommand hands getopt_long: a leading ':' so that
 * getopt prints nothing and hm_cli_option_error says it in one line. */
#define HM_GETOPT(shortopts) ":" shortopts
/* After getopt_long returned '?' or ':': "hisimig-trace: CMD: unrecognized
 * option '--frob'; try 'hisimig-trace CMD --help'". Returns HM_EXIT_USAGE. */
int hm_cli_option_error(const char *command, int opt, char **argv);

/* SIGINT and SIGTERM ask the command to stop: hm_cli_stop_signal() turns
 * from 0 to the signal's number; the command finishes its outputs. */
void hm_cli_stop_on_signals(void);
int hm_cli_stop_signal(void);
const volatile sig_atomic_t *hm_cli_stop_flag(void);

/* Flush and close stdout; false after one line if any write to it failed
 * (a full disk, /dev/full, a closed pipe reader). */
bool hm_cli_close_stdout(void);

/* "hisimig-trace: " + message to stderr, one line. */
void hm_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int hm_cmd_replay(int argc, char **argv);
int hm_cmd_gen(int argc, char **argv);
int hm_cmd_run(int argc, char **argv);
int hm_cmd_record(int argc, char **argv);
int hm_cmd_probe(int argc, char **argv);
int hm_cmd_dump(int argc, char **argv);
int hm_cmd_ci(int argc, char **argv);

#endif
