/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reports a CI job asks for, shared by ci and replay (outputs.h builds
 * them): a JUnit XML file, an NDJSON file and a baseline of accepted findings
 * (read, and rewritten on request).
 */
#ifndef HM_CI_REPORTS_H
#define HM_CI_REPORTS_H

#include <getopt.h>
#include <stdbool.h>
#include "baseline.h"
#include "finding_set.h"
#include "known_order.h"
#include "report_junit.h"
#include "session.h"

enum hm_reports_opt {
	OPT_JUNIT = 400,
	OPT_BASELINE,
	OPT_UPDATE_BASELINE,
	OPT_BLESSED,
};

#define HM_REPORTS_LONG_OPTIONS                                           \
	{ "junit", required_argument, NULL, OPT_JUNIT },                  \
	{ "baseline", required_argument, NULL, OPT_BASELINE },            \
	{ "update-baseline", no_argument, NULL, OPT_UPDATE_BASELINE },   \
	{ "blessed", required_argument, NULL, OPT_BLESSED }

#define HM_REPORTS_HELP                                                           \
	"      --junit FILE            also write a JUnit XML report (one test case per\n" \
	"                              check, a failure per finding)\n"               \
	"      --baseline FILE         findings listed there (by fingerprint) are accepted:\n" \
	"                              not printed, never fail; new ones still do\n"  \
	"      --update-baseline       add this run's findings to the --baseline FILE\n" \
	"                              (created if missing); they no longer fail\n"  \
	"      --blessed FILE          lock orders this project declares good, one\n" \
	"                              'FIRST SECOND' pair of lock classes a line: taking\n" \
	"                              FIRST while holding SECOND is reported\n"

struct hm_ci_reports {
	const char *junit_path;
	const char *json_path;        /* ci --json FILE: NDJSON findings and summary */
	const char *baseline_path;
	bool update_baseline;
	struct hm_baseline *baseline;
	struct hm_finding_set set;
	const char *blessed_path;
	struct hm_known_orders *known_orders; /* built-in + blessed, when --blessed */
};

/* Apply one of the options above; false (after printing why) if invalid;
 * *handled tells whether opt was one of them. */
bool hm_ci_reports_option(struct hm_ci_reports *r, int opt, const char *arg, bool *handled);
/* After parsing: read the baseline and blessed orders and point the session
 * options at them.
 * false after printing why (a usage or input error). */
bool hm_ci_reports_prepare(struct hm_ci_reports *r, struct hm_session_opts *so);
/* Collect the session's findings (before any event) when a report needs
 * them; false if the session has no room for another observer. */
bool hm_ci_reports_attach(struct hm_ci_reports *r, struct hm_session *s);
/* After hm_session_finish(): write the files and say what the baseline did.
 * source names the run in the summaries.
 * Returns the exit status adjusted: findings only this run accepted into
 * the baseline no longer fail; a file that cannot be written is 2. */
int hm_ci_reports_finish(struct hm_ci_reports *r, const struct hm_session *s,
			 const struct hm_junit_run *run, int status);
void hm_ci_reports_free(struct hm_ci_reports *r);

#endif
