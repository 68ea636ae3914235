// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: a trace replayed through a whole session: the analyzers, the
 * text and the JSON reporter, the timeline and the metrics observer with its
 * exposition text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "metrics.h"
#include "session.h"
#include "timeline.h"
#include "trace_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void metrics_event(void *ctx, const union hm_event *ev,
			  const struct hm_model_change *change)
{
	hm_metrics_event(ctx, ev, change);
}

static void metrics_finding(void *ctx, const struct hm_finding *f)
{
	hm_metrics_finding(ctx, f);
}

static void metrics_meta(void *ctx, const char *key, const char *value)
{
	hm_metrics_meta(ctx, key, value);
}

static void replay(struct hm_trace_reader *r, struct hm_session *s)
{
	struct hm_trace_record rec;
	uint64_t lost = 0, end_ts = 0;

	while (hm_trace_read(r, &rec) == HM_READ_OK) {
		if (rec.kind == HM_REC_EVENT) {
			hm_session_event(s, rec.data, rec.len);
		} else if (rec.kind == HM_REC_STACK || rec.kind == HM_REC_SYMBOL) {
			hm_trace_apply_table_record(&rec, hm_session_stacks(s));
		} else if (rec.kind == HM_REC_META && rec.len &&
			   memchr(rec.data, '\0', rec.len)) {
			char *copy = strdup(rec.data), *eq = copy ? strchr(copy, '=') : NULL;

			if (eq) {
				*eq = '\0';
				hm_session_meta(s, copy, eq + 1);
			}
			free(copy);
		} else if (rec.kind == HM_REC_END && rec.len >= sizeof(struct hm_trace_end)) {
			struct hm_trace_end end;

			memcpy(&end, rec.data, sizeof(end));
			lost = end.lost;
			end_ts = end.end_mono_ns;
		}
	}
	hm_session_finish(s, "fuzz", lost, end_ts);
}

static void run_session(const char *path, enum hm_report_format format, const char *timeline,
			FILE *sink)
{
	struct hm_session_opts opts;
	struct hm_trace_reader *r;
	struct hm_session *s;
	struct hm_metrics *m;
	struct hm_timeline *tl = NULL;
	char err[256];

	hm_session_opts_defaults(&opts);
	opts.format = format;
	opts.out = sink;
	r = hm_trace_reader_open(path, err, sizeof(err));
	if (!r)
		return;
	s = hm_session_new(&opts, err, sizeof(err));
	m = hm_metrics_new(&opts.config);
	if (timeline)
		tl = hm_timeline_open(timeline, err, sizeof(err));
	if (s && m && (tl || !timeline)) {
		if (tl) {
			struct hm_observer timeline_obs = hm_timeline_observer(tl);

			hm_session_add_observer(s, &timeline_obs);
		}
		hm_session_add_observer(s, &(struct hm_observer){ .on_event = metrics_event,
								  .on_finding = metrics_finding,
								  .on_meta = metrics_meta,
								  .ctx = m });
		replay(r, s);
		hm_timeline_close(tl);
		tl = NULL;
		hm_metrics_write_text(hm_metrics_values(m), sink);
	}
	hm_timeline_discard(tl);
	hm_metrics_free(m);
	hm_session_free(s);
	hm_trace_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char timeline[64];
	static FILE *sink;
	char path[64];
	int fd;

	if (!sink) {
		sink = fopen("/dev/null", "w");
		/* memory-backed: the timeline's commit fsyncs */
		snprintf(timeline, sizeof(timeline), "/dev/shm/hisimig-fuzz-timeline-%d.json",
			 (int)getpid());
	}
	fd = fuzz_input_file(data, size, path, sizeof(path));
	if (fd < 0 || !sink)
		return 0;
	run_session(path, HM_REPORT_TEXT, timeline, sink);
	run_session(path, HM_REPORT_JSON, NULL, sink);
	unlink(timeline);
	close(fd);
	return 0;
}
