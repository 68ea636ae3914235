// SPDX-License-Identifier: GPL-2.0
#include "live_trace.h"

#include <string.h>
#include <unistd.h>

#include "cli.h"

/* KiB, a power of 2 of at least a page (4 KiB here) and at most 1 GiB. */
static bool parse_ringbuf_kb(const char *arg, uint32_t *bytes)
{
	unsigned long long kb;

	if (!hm_cli_parse_count(arg, 1ull << 20, &kb) || kb < 4 || (kb & (kb - 1)))
		return false;
	*bytes = (uint32_t)(kb * 1024);
	return true;
}

bool hm_live_loader_option(int opt, const char *arg, struct hm_loader_opts *lo, bool *handled)
{
	*handled = true;
	switch (opt) {
	case HM_OPT_ATTACH:
		if (hm_attach_pref_parse(arg, &lo->pref))
			return true;
		hm_cli_error("--attach: '%s' is not one of auto, fentry, kprobe", arg);
		return false;
	case HM_OPT_LOCKS:
		if (hm_lock_mode_parse(arg, &lo->lock_mode))
			return true;
		hm_cli_error("--locks: '%s' is not one of focused, full", arg);
		return false;
	case HM_OPT_RINGBUF_KB:
		if (parse_ringbuf_kb(arg, &lo->ringbuf_bytes))
			return true;
		hm_cli_error("--ringbuf-kb: '%s' is not a power of 2 from 4 to 1048576", arg);
		return false;
	case HM_OPT_SET_STATE_FUNC:
		if (lo->n_set_state_funcs == HM_LOADER_MAX_SET_STATE) {
			hm_cli_error("--set-state-func: at most %d functions",
				     HM_LOADER_MAX_SET_STATE);
			return false;
		}
		lo->set_state_funcs[lo->n_set_state_funcs++] = arg;
		return true;
	case HM_OPT_VERBOSE:
		lo->verbose = true;
		return true;
	default:
		*handled = false;
		return true;
	}
}

void hm_live_opts_init(struct hm_live_opts *o)
{
	*o = (struct hm_live_opts){ 0 };
	hm_session_opts_defaults(&o->session);
	o->session.filter = &o->filter;
}

bool hm_live_common_option(const char *command, int opt, const char *arg, char **argv,
			   struct hm_live_opts *o)
{
	bool handled;

	if (!hm_live_loader_option(opt, arg, &o->loader, &handled))
		return false;
	if (!handled && !hm_finding_filter_option(&o->filter, opt, arg, &handled))
		return false;
	if (!handled && !hm_cli_analysis_option(opt, arg, &o->session, &handled))
		return false;
	if (!handled && !hm_outputs_option(&o->outputs, opt, arg, &handled))
		return false;
	if (!handled)
		hm_cli_option_error(command, opt, argv);
	return handled;
}

enum hm_live_status hm_live_trace_open(struct hm_live_trace *t, const char *command,
				       struct hm_live_opts *o)
{
	char err[256];

	*t = (struct hm_live_trace){ .command = command, .opts = o };
	if (!hm_loader_check_env(err, sizeof(err))) {
		hm_cli_error("%s", err);
		return HM_LIVE_CANNOT_TRACE;
	}
	t->session = hm_session_new(&o->session, err, sizeof(err));
	if (!t->session) {
		hm_cli_error("%s", err);
		return HM_LIVE_BAD_OUTPUT;
	}
	if (!hm_outputs_open(&o->outputs, t->session, &o->session.config))
		return HM_LIVE_BAD_OUTPUT;
	hm_session_meta(t->session, "command", command);
	return HM_LIVE_OK;
}

enum hm_live_status hm_live_trace_attach(struct hm_live_trace *t, const char *until)
{
	char err[256], summary[128];

	t->loader = hm_loader_start(&t->opts->loader, t->session, err, sizeof(err));
	if (!t->loader) {
		hm_cli_error("%s", err);
		/* closing the session drops FILE.partial: FILE stays as it was */
		return HM_LIVE_CANNOT_TRACE;
	}
	hm_loader_summary(t->loader, summary, sizeof(summary));
	fprintf(stderr, "hisimig-trace: tracing: %s hooks; %s\n", summary, until);
	return HM_LIVE_OK;
}

/* A record is stamped when its hook reserves it and committed microseconds
 * later: once a poll drained the ring, every record stamped this long before
 * the poll began has been read. */
#define LIVE_COMMIT_LAG_NS 10000000ULL

bool hm_live_trace_poll(struct hm_live_trace *t, int timeout_ms)
{
	uint64_t began = hm_mono_ns();

	if (!t->poll_error)
		t->poll_error = hm_loader_poll(t->loader, timeout_ms);
	if (t->poll_error)
		return false;
	/* a hang makes no records: deadlines are judged by the clock too */
	if (began > LIVE_COMMIT_LAG_NS)
		hm_session_advance(t->session, began - LIVE_COMMIT_LAG_NS);
	return true;
}

int hm_live_trace_finish(struct hm_live_trace *t)
{
	char skipped_by[512];
	int status;

	/* drain what is already in the ring buffer */
	hm_live_trace_poll(t, 0);
	status = hm_session_finish(t->session, t->command, hm_loader_lost(t->loader),
				   hm_mono_ns());
	status = hm_outputs_finish(&t->opts->outputs, status);
	/* the lost-events finding counts them; this says where (PREEMPT_RT) */
	if (hm_loader_skipped_by(t->loader, skipped_by, sizeof(skipped_by)))
		fprintf(stderr, "hisimig-trace: hook runs the kernel skipped: %s\n", skipped_by);
	if (t->poll_error < 0) {
		hm_cli_error("reading the ring buffer failed: %s", strerror(-t->poll_error));
		status = HM_EXIT_USAGE;
	}
	return status;
}

void hm_live_trace_close(struct hm_live_trace *t)
{
	if (t->opts)
		hm_outputs_close(&t->opts->outputs);
	hm_loader_free(t->loader);
	hm_session_free(t->session);
	*t = (struct hm_live_trace){ 0 };
}
