// SPDX-License-Identifier: GPL-2.0
#include "ci_reports.h"

#include <errno.h>
#include <unistd.h>

#include "cli.h"
#include "outfile.h"

bool hm_ci_reports_option(struct hm_ci_reports *r, int opt, const char *arg, bool *handled)
{
	*handled = true;
	switch (opt) {
	case OPT_JUNIT:
		r->junit_path = arg;
		return true;
	case OPT_BASELINE:
		r->baseline_path = arg;
		return true;
	case OPT_UPDATE_BASELINE:
		r->update_baseline = true;
		return true;
	case OPT_BLESSED:
		r->blessed_path = arg;
		return true;
	default:
		*handled = false;
		return true;
	}
}

bool hm_ci_reports_prepare(struct hm_ci_reports *r, struct hm_session_opts *so)
{
	char err[512];

	if (r->update_baseline && !r->baseline_path) {
		hm_cli_error("--update-baseline needs --baseline FILE");
		return false;
	}
	if (r->blessed_path) {
		r->known_orders = hm_known_orders_load(r->blessed_path, err, sizeof(err));
		if (!r->known_orders) {
			hm_cli_error("--blessed: %s", err);
			return false;
		}
		so->config.known_orders = r->known_orders;
	}
	if (!r->baseline_path)
		return true;
	/* a first --update-baseline creates the file */
	if (r->update_baseline && access(r->baseline_path, F_OK) && errno == ENOENT)
		r->baseline = hm_baseline_new();
	else
		r->baseline = hm_baseline_load(r->baseline_path, err, sizeof(err));
	if (!r->baseline) {
		hm_cli_error("--baseline: %s", r->baseline_path ? err : "out of memory");
		return false;
	}
	so->baseline = r->baseline;
	return true;
}

bool hm_ci_reports_attach(struct hm_ci_reports *r, struct hm_session *s)
{
	struct hm_observer obs;

	/* the set costs memory for every finding: only a report written at the
	 * end reads it (a live run without reports may run for days) */
	if (!r->junit_path && !r->json_path && !r->update_baseline)
		return true;
	hm_finding_set_init(&r->set, hm_session_stacks(s), r->baseline);
	obs = hm_finding_set_observer(&r->set);
	return hm_session_add_observer(s, &obs);
}

struct json_job {
	const struct hm_finding_set *set;
	const struct hm_engine_stats *stats;
	const char *source;
};

static void write_json(FILE *out, const void *ctx)
{
	const struct json_job *job = ctx;
	struct hm_report_ctx report = { .out = out, .stacks = job->set->stacks };

	for (size_t i = 0; i < job->set->count; i++)
		hm_json_reporter.finding(&report, &job->set->items[i].finding);
	hm_json_reporter.summary(&report, job->stats, job->source);
}

int hm_ci_reports_finish(struct hm_ci_reports *r, const struct hm_session *s,
			 const struct hm_junit_run *run, int status)
{
	char err[512];

	if (r->baseline && hm_session_accepted(s))
		fprintf(stderr, "hisimig-trace: %zu finding%s accepted by the baseline %s\n",
			hm_session_accepted(s), hm_session_accepted(s) == 1 ? "" : "s",
			r->baseline_path);
	if (r->update_baseline) {
		if (hm_baseline_write(r->baseline, &r->set, r->baseline_path, err, sizeof(err))) {
			fprintf(stderr, "hisimig-trace: baseline %s: %zu findings accepted\n",
				r->baseline_path, r->set.count + hm_baseline_count(r->baseline) -
				hm_session_accepted(s));
			/* every finding is now accepted */
			for (size_t i = 0; i < r->set.count; i++)
				r->set.items[i].accepted = true;
			if (status == HM_EXIT_FINDINGS)
				status = HM_EXIT_CLEAN;
		} else {
			hm_cli_error("--update-baseline: %s", err);
			status = HM_EXIT_USAGE;
		}
	}
	if (r->json_path) {
		struct json_job job = { &r->set, hm_session_stats(s), run->suite };

		if (!hm_outfile_write(r->json_path, write_json, &job, err, sizeof(err))) {
			hm_cli_error("--json: %s", err);
			status = HM_EXIT_USAGE;
		}
	}
	if (r->junit_path && !hm_junit_write(r->junit_path, &r->set, run, err, sizeof(err))) {
		hm_cli_error("--junit: %s", err);
		status = HM_EXIT_USAGE;
	}
	return status;
}

void hm_ci_reports_free(struct hm_ci_reports *r)
{
	hm_finding_set_free(&r->set);
	hm_baseline_free(r->baseline);
	r->baseline = NULL;
	hm_known_orders_free(r->known_orders);
	r->known_orders = NULL;
}
