// SPDX-License-Identifier: GPL-2.0
#include "outputs.h"

#include "cli.h"
#include "exporter.h"
#include "outfile.h"
#include "timeline.h"

bool hm_outputs_option(struct hm_outputs *o, int opt, const char *arg, bool *handled)
{
	*handled = true;
	switch (opt) {
	case OPT_METRICS: {
		struct sockaddr_storage addr;
		socklen_t len;
		char err[200];

		if (!hm_listen_parse(arg, &addr, &len, err, sizeof(err))) {
			hm_cli_error("--metrics: %s", err);
			return false;
		}
		o->metrics_listen = arg;
		return true;
	}
	case OPT_TIMELINE:
		if (!hm_cli_output_ok("--timeline", arg))
			return false;
		o->timeline_path = arg;
		return true;
	default:
		return hm_ci_reports_option(&o->reports, opt, arg, handled);
	}
}

bool hm_outputs_prepare(struct hm_outputs *o, struct hm_session_opts *so)
{
	return hm_ci_reports_prepare(&o->reports, so);
}

static bool add_observer(struct hm_session *s, struct hm_observer obs, const char *output)
{
	if (hm_session_add_observer(s, &obs))
		return true;
	hm_cli_error("%s: too many session observers", output);
	return false;
}

static bool open_exporter(struct hm_outputs *o, struct hm_session *s,
			  const struct hm_config *cfg)
{
	char err[256];

	o->exporter = hm_exporter_start(o->metrics_listen, cfg, err, sizeof(err));
	if (!o->exporter) {
		hm_cli_error("%s", err);
		return false;
	}
	if (!add_observer(s, hm_exporter_observer(o->exporter), "--metrics"))
		return false;
	fprintf(stderr, "hisimig-trace: serving metrics at %s\n", hm_exporter_url(o->exporter));
	if (o->metrics_await_scrape)
		hm_exporter_await_scrape(o->exporter);
	return true;
}

bool hm_outputs_open(struct hm_outputs *o, struct hm_session *s, const struct hm_config *cfg)
{
	char err[256];

	if (o->timeline_path) {
		o->timeline = hm_timeline_open(o->timeline_path, err, sizeof(err));
		if (!o->timeline) {
			hm_cli_error("%s", err);
			return false;
		}
		if (!add_observer(s, hm_timeline_observer(o->timeline), "--timeline"))
			return false;
	}
	if (o->metrics_listen && !open_exporter(o, s, cfg))
		return false;
	if (!hm_ci_reports_attach(&o->reports, s)) {
		hm_cli_error("reports: too many session observers");
		return false;
	}
	return true;
}

int hm_outputs_finish(struct hm_outputs *o, int status)
{
	bool written = hm_timeline_close(o->timeline);

	o->timeline = NULL;
	if (written)
		return status;
	hm_cli_error("writing %s failed; the timeline is incomplete (%s" HM_OUTFILE_SUFFIX ")",
		     o->timeline_path, o->timeline_path);
	return HM_EXIT_USAGE;
}

int hm_outputs_write_reports(struct hm_outputs *o, const struct hm_session *s,
			     const struct hm_junit_run *run, int status)
{
	return hm_ci_reports_finish(&o->reports, s, run, status);
}

void hm_outputs_close(struct hm_outputs *o)
{
	hm_exporter_stop(o->exporter);
	o->exporter = NULL;
	hm_timeline_discard(o->timeline);
	o->timeline = NULL;
	hm_ci_reports_free(&o->reports);
}
