// SPDX-License-Identifier: GPL-2.0
/* Text findings in the shape kernel engineers know from lockdep splats. */
#include <inttypes.h>
#include <string.h>

#include "event.h"
#include "finding.h"
#include "report.h"

#define RULE "======================================================"

/* Event times are CLOCK_MONOTONIC, i.e. seconds since boot: the same clock as
 * dmesg timestamps, so findings line up with the kernel log. */
static double mono_seconds(uint64_t ts)
{
	return (double)ts / 1e9;
}

static void print_stack(const struct hm_report_ctx *ctx, int32_t stack_id)
{
	const struct hm_stack *st = ctx->stacks ? hm_stacks_get(ctx->stacks, stack_id) : NULL;

	if (!st) {
		fprintf(ctx->out, "       (no stack)\n");
		return;
	}
	for (unsigned int i = 0; i < st->depth; i++) {
		const char *sym = hm_stacks_symbol(ctx->stacks, st->ips[i]);

		if (sym)
			fprintf(ctx->out, "       %s\n", sym);
		else
			fprintf(ctx->out, "       0x%016" PRIx64 "\n", st->ips[i]);
	}
}

static void text_finding(const struct hm_report_ctx *ctx, const struct hm_finding *f)
{
	FILE *out = ctx->out;
	char dev[HM_DEVICE_STR_LEN];

	fprintf(out, "\n%s\n%s: %s\n", RULE,
		f->severity == HM_SEV_ERROR ? "ERROR" : f->severity == HM_SEV_WARNING ? "WARNING" : "INFO",
		hm_finding_kind_title(f->kind));
	fprintf(out, "[%s] %s at %.6fs", hm_severity_name(f->severity),
		hm_finding_kind_name(f->kind), mono_seconds(f->ts_ns));
	if (f->duration_ns)
		fprintf(out, ", lasting %.3fs", (double)f->duration_ns / 1e9);
	fprintf(out, "\n------------------------------------------------------\n%s\n", f->summary);
	if (f->ndevices) {
		fprintf(out, "\ndevices:\n");
		for (unsigned int i = 0; i < f->ndevices; i++)
			fprintf(out, "  %s\n", hm_device_format(&f->devices[i], dev));
	}
	if (f->detail)
		fprintf(out, "\n%s", f->detail);
	for (unsigned int i = 0; i < f->nevidence; i++) {
		const struct hm_evidence *e = &f->evidence[i];

		fprintf(out, "\n%s:\n  task %s pid %u tid %u at %.6fs\n", e->label, e->comm, e->pid,
			e->tid, mono_seconds(e->ts_ns));
		print_stack(ctx, e->stack_id);
	}
	fprintf(out, "\nwhy: %s\nfix: %s\n", hm_finding_kind_explanation(f->kind),
		hm_finding_kind_fix(f->kind));
	fflush(out);
}

static void text_summary(const struct hm_report_ctx *ctx, const struct hm_engine_stats *st,
			 const char *source)
{
	fprintf(ctx->out,
		"\nhisimig-trace: %s: %" PRIu64 " events over %.3fs, %" PRIu64 " findings "
		"(%" PRIu64 " error, %" PRIu64 " warning, %" PRIu64 " info)",
		source, st->events,
		st->last_ts > st->first_ts ? (double)(st->last_ts - st->first_ts) / 1e9 : 0.0,
		st->findings, st->by_severity[HM_SEV_ERROR], st->by_severity[HM_SEV_WARNING],
		st->by_severity[HM_SEV_INFO]);
	if (st->duplicates)
		fprintf(ctx->out, ", %" PRIu64 " repeats suppressed", st->duplicates);
	if (st->malformed)
		fprintf(ctx->out, ", %" PRIu64 " malformed records skipped", st->malformed);
	fprintf(ctx->out, "\n");
	for (int i = 0; st->limits_total && i < HM_LIMIT_NR; i++)
		if (st->limits.count[i])
			fprintf(ctx->out, "hisimig-trace: analysis limit %s: %" PRIu64 " %s\n",
				hm_limit_name((enum hm_limit)i), st->limits.count[i],
				hm_limit_describe((enum hm_limit)i));
	fflush(ctx->out);
}

const struct hm_reporter_ops hm_text_reporter = {
	.finding = text_finding,
	.summary = text_summary,
};

const struct hm_reporter_ops *hm_reporter_for(enum hm_report_format fmt)
{
	return fmt == HM_REPORT_JSON ? &hm_json_reporter : &hm_text_reporter;
}
