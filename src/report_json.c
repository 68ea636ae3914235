// SPDX-License-Identifier: GPL-2.0
/* NDJSON: one {"type": ..., "data": {...}} object per line (bpftrace's envelope). */
#include <inttypes.h>

#include "event.h"
#include "finding.h"
#include "json.h"
#include "report.h"

static void json_device(FILE *out, const struct hm_device *d)
{
	char bdf[HM_BDF_STR_LEN], pf[HM_BDF_STR_LEN], cls[HM_CLASS_STR_LEN];

	fprintf(out, "{\"bdf\":\"%s\",\"role\":\"%s\",\"pf\":\"%s\",\"driver\":",
		hm_bdf_format(&d->bdf, bdf), hm_role_name(d->role), hm_bdf_format(&d->pf_bdf, pf));
	hm_json_string_n(out, d->driver, sizeof(d->driver));
	fprintf(out, ",\"class\":");
	hm_json_string(out, hm_device_class(d, cls));
	fprintf(out, "}");
}

static void json_stack(const struct hm_report_ctx *ctx, int32_t stack_id)
{
	const struct hm_stack *st = ctx->stacks ? hm_stacks_get(ctx->stacks, stack_id) : NULL;

	fputc('[', ctx->out);
	for (unsigned int i = 0; st && i < st->depth; i++) {
		const char *sym = hm_stacks_symbol(ctx->stacks, st->ips[i]);
		char addr[24];

		if (i)
			fputc(',', ctx->out);
		snprintf(addr, sizeof(addr), "0x%" PRIx64, st->ips[i]);
		hm_json_string(ctx->out, sym ? sym : addr);
	}
	fputc(']', ctx->out);
}

static void json_finding(const struct hm_report_ctx *ctx, const struct hm_finding *f)
{
	FILE *out = ctx->out;

	fprintf(out, "{\"type\":\"finding\",\"data\":{\"kind\":\"%s\",\"severity\":\"%s\","
		     "\"ts_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64 ",\"fingerprint\":\"%016" PRIx64
		     "\",\"title\":",
		hm_finding_kind_name(f->kind), hm_severity_name(f->severity), f->ts_ns,
		f->duration_ns, f->fingerprint);
	hm_json_string(out, hm_finding_kind_title(f->kind));
	fprintf(out, ",\"summary\":");
	hm_json_string(out, f->summary);
	fprintf(out, ",\"devices\":[");
	for (unsigned int i = 0; i < f->ndevices; i++) {
		if (i)
			fputc(',', out);
		json_device(out, &f->devices[i]);
	}
	fprintf(out, "],\"evidence\":[");
	for (unsigned int i = 0; i < f->nevidence; i++) {
		const struct hm_evidence *e = &f->evidence[i];

		fprintf(out, "%s{\"label\":", i ? "," : "");
		hm_json_string(out, e->label);
		fprintf(out, ",\"comm\":");
		hm_json_string_n(out, e->comm, sizeof(e->comm));
		fprintf(out, ",\"pid\":%u,\"tid\":%u,\"ts_ns\":%" PRIu64 ",\"stack\":", e->pid,
			e->tid, e->ts_ns);
		json_stack(ctx, e->stack_id);
		fputc('}', out);
	}
	fprintf(out, "],\"detail\":");
	hm_json_string(out, f->detail ? f->detail : "");
	fprintf(out, ",\"explanation\":");
	hm_json_string(out, hm_finding_kind_explanation(f->kind));
	fprintf(out, ",\"fix\":");
	hm_json_string(out, hm_finding_kind_fix(f->kind));
	fprintf(out, "}}\n");
	fflush(out);
}

static void json_summary(const struct hm_report_ctx *ctx, const struct hm_engine_stats *st,
			 const char *source)
{
	fprintf(ctx->out, "{\"type\":\"summary\",\"data\":{\"schema_version\":%d,\"source\":",
		HM_JSON_SCHEMA_VERSION);
	hm_json_string(ctx->out, source);
	fprintf(ctx->out,
		",\"events\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"findings\":%" PRIu64
		",\"duplicates\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"warnings\":%" PRIu64
		",\"infos\":%" PRIu64 ",\"limits\":{",
		st->events, st->malformed, st->findings, st->duplicates,
		st->by_severity[HM_SEV_ERROR], st->by_severity[HM_SEV_WARNING],
		st->by_severity[HM_SEV_INFO]);
	for (int i = 0, n = 0; i < HM_LIMIT_NR; i++)
		if (st->limits.count[i])
			fprintf(ctx->out, "%s\"%s\":%" PRIu64, n++ ? "," : "",
				hm_limit_name((enum hm_limit)i), st->limits.count[i]);
	fprintf(ctx->out, "}}}\n");
	fflush(ctx->out);
}

const struct hm_reporter_ops hm_json_reporter = {
	.finding = json_finding,
	.summary = json_summary,
};
