/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything a command makes of a session besides the findings and summary
 * on its output stream, built in this one place for run, record, ci and
 * replay: the Perfetto timeline (--timeline), the Prometheus exporter
 * (--metrics) and the reports written at the end (--junit, ci's --json FILE,
 * --baseline, --blessed: ci_reports.h). Each is a session observer.
 *
 * A command sets the options (hm_outputs_option), prepares them before it
 * creates the session, opens them on the session before its first meta pair
 * or event, finishes the timeline right after hm_session_finish(), writes the
 * reports last and closes them before freeing the session.
 */
#ifndef HM_OUTPUTS_H
#define HM_OUTPUTS_H

#include <stdbool.h>
#include "ci_reports.h"
#include "session.h"

struct hm_timeline;
struct hm_exporter;

struct hm_outputs {
	/* options */
	const char *timeline_path;    /* --timeline FILE, or NULL */
	const char *metrics_listen;   /* --metrics ADDR:PORT, or NULL */
	bool metrics_await_scrape;    /* start once /metrics was scraped (replay) */
	struct hm_ci_reports reports;
	/* what hm_outputs_open built */
	struct hm_timeline *timeline;
	struct hm_exporter *exporter;
};

/* Apply --timeline, --metrics or a report option; false (after printing why)
 * if invalid; *handled tells whether opt was one of them. */
bool hm_outputs_option(struct hm_outputs *o, int opt, const char *arg, bool *handled);
/* After parsing: read the baseline and blessed orders the session options
 * then point at. false after printing why. */
bool hm_outputs_prepare(struct hm_outputs *o, struct hm_session_opts *so);
/* Create the timeline's FILE.partial, start the exporter (says where it
 * serves; waits for a first scrape if asked) and add every output's observer
 * to s. false after printing one line; hm_outputs_close() undoes it. */
bool hm_outputs_open(struct hm_outputs *o, struct hm_session *s, const struct hm_config *cfg);
/* After hm_session_finish(): complete the timeline and put it in place.
 * Returns status, or HM_EXIT_USAGE (after one line) if it could not be
 * written. */
int hm_outputs_finish(struct hm_outputs *o, int status);
/* Last: write the reports (ci_reports.h); returns status adjusted. */
int hm_outputs_write_reports(struct hm_outputs *o, const struct hm_session *s,
			     const struct hm_junit_run *run, int status);
/* Stop the exporter, drop an unfinished timeline's FILE.partial, free the
 * reports. Safe at any point, also after a failed open or none at all. */
void hm_outputs_close(struct hm_outputs *o);

#endif
