// SPDX-License-Identifier: GPL-2.0
#include "session.h"

#include <stdlib.h>

#include "baseline.h"
#include "engine.h"
#include "finding_filter.h"
#include "outfile.h"

struct hm_session {
	struct hm_session_opts opts;
	struct hm_stacks *stacks;
	struct hm_engine *engine;
	struct hm_trace_writer *writer;
	struct hm_report_ctx report;
	const struct hm_reporter_ops *reporter;
	bool record_failed;
	enum hm_severity worst;
	bool any_finding;
	size_t accepted;              /* by opts.baseline */
	size_t filtered;              /* outside opts.filter */
	struct hm_observer observers[HM_SESSION_MAX_OBSERVERS];
	size_t nobservers;
};

void hm_session_opts_defaults(struct hm_session_opts *o)
{
	*o = (struct hm_session_opts){ .format = HM_REPORT_TEXT, .fail_on = HM_SEV_WARNING,
				       .out = stdout };
	hm_config_defaults(&o->config);
}

static void on_finding(void *ctx, const struct hm_finding *f)
{
	struct hm_session *s = ctx;

	if (!hm_finding_filter_matches(s->opts.filter, f)) {
		s->filtered++;
		return;
	}
	if (hm_baseline_accepts(s->opts.baseline, f)) {
		s->accepted++;
	} else {
		if (!s->any_finding || f->severity > s->worst)
			s->worst = f->severity;
		s->any_finding = true;
		if (!s->opts.quiet)
			s->reporter->finding(&s->report, f);
	}
	for (size_t i = 0; i < s->nobservers; i++)
		if (s->observers[i].on_finding)
			s->observers[i].on_finding(s->observers[i].ctx, f);
}

bool hm_session_add_observer(struct hm_session *s, const struct hm_observer *obs)
{
	if (s->nobservers == HM_SESSION_MAX_OBSERVERS)
		return false;
	s->observers[s->nobservers++] = *obs;
	return true;
}

struct hm_session *hm_session_new(const struct hm_session_opts *o, char *err, size_t errlen)
{
	struct hm_session *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->opts = *o;
	s->stacks = hm_stacks_new();
	s->engine = hm_engine_new(&o->config, (struct hm_emitter){ .emit = on_finding, .ctx = s });
	if (!s->stacks || !s->engine) {
		snprintf(err, errlen, "out of memory");
		hm_session_free(s);
		return NULL;
	}
	if (o->record_path) {
		struct hm_trace_header host;

		if (!o->record_header)
			hm_trace_header_for_host(&host);
		s->writer = hm_trace_writer_open(o->record_path,
						 o->record_header ? o->record_header : &host, err,
						 errlen);
		if (!s->writer) {
			hm_session_free(s);
			return NULL;
		}
	}
	s->reporter = hm_reporter_for(o->format);
	s->report = (struct hm_report_ctx){ .out = o->out, .stacks = s->stacks };
	return s;
}

const struct hm_engine_stats *hm_session_stats(const struct hm_session *s)
{
	return hm_engine_stats(s->engine);
}

size_t hm_session_accepted(const struct hm_session *s)
{
	return s->accepted;
}

struct hm_stacks *hm_session_stacks(struct hm_session *s)
{
	return s->stacks;
}

void hm_session_event(struct hm_session *s, const void *rec, size_t len)
{
	/* record first: a crash in analysis must not lose the event */
	if (s->writer && !s->record_failed && !hm_trace_write_event(s->writer, rec, len, s->stacks))
		s->record_failed = true;
	if (!hm_engine_feed(s->engine, rec, len))
		return;
	for (size_t i = 0; i < s->nobservers; i++)
		if (s->observers[i].on_event)
			s->observers[i].on_event(s->observers[i].ctx, rec,
						 hm_engine_last_change(s->engine));
}

void hm_session_advance(struct hm_session *s, uint64_t now_ns)
{
	hm_engine_advance(s->engine, now_ns);
}

void hm_session_meta(struct hm_session *s, const char *key, const char *value)
{
	if (s->writer && !hm_trace_write_meta(s->writer, key, value))
		s->record_failed = true;
	for (size_t i = 0; i < s->nobservers; i++)
		if (s->observers[i].on_meta)
			s->observers[i].on_meta(s->observers[i].ctx, key, value);
}

/* The stack table is the session's, not an analyzer's: its caps join theirs. */
static void note_stack_limits(struct hm_session *s)
{
	hm_engine_set_limit(s->engine, HM_LIMIT_STACKS, hm_stacks_dropped(s->stacks));
	hm_engine_set_limit(s->engine, HM_LIMIT_SYMBOLS, hm_stacks_symbols_dropped(s->stacks));
}

static void publish_limits(struct hm_session *s)
{
	const struct hm_limits *limits;

	note_stack_limits(s);
	limits = hm_engine_limits(s->engine);
	for (size_t i = 0; i < s->nobservers; i++)
		if (s->observers[i].on_limits)
			s->observers[i].on_limits(s->observers[i].ctx, limits);
}

void hm_session_flush(struct hm_session *s)
{
	if (s->writer && !hm_trace_writer_flush(s->writer))
		s->record_failed = true;
	publish_limits(s);
}

int hm_session_finish(struct hm_session *s, const char *source, uint64_t lost_total,
		      uint64_t end_ts)
{
	int status;

	note_stack_limits(s);
	hm_engine_finish(s->engine, end_ts);
	publish_limits(s);
	s->reporter->summary(&s->report, hm_engine_stats(s->engine), source);
	if (s->writer) {
		if (!hm_trace_writer_close(s->writer, lost_total, end_ts))
			s->record_failed = true;
		s->writer = NULL;
	}
	status = s->any_finding && s->worst >= s->opts.fail_on ? 1 : 0;
	if (s->filtered)
		fprintf(stderr, "hisimig-trace: %zu finding%s outside --pid/--device/--driver not "
			"reported\n", s->filtered, s->filtered == 1 ? "" : "s");
	if (s->record_failed) {
		fprintf(stderr, "hisimig-trace: writing %s failed; what was recorded is in %s"
				HM_OUTFILE_SUFFIX "\n", s->opts.record_path, s->opts.record_path);
		status = 2;
	}
	return status;
}

void hm_session_free(struct hm_session *s)
{
	if (!s)
		return;
	/* not finished: setup failed, nothing to keep */
	hm_trace_writer_discard(s->writer);
	hm_engine_free(s->engine);
	hm_stacks_free(s->stacks);
	free(s);
}
