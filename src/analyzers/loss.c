// SPDX-License-Identifier: GPL-2.0
/*
 * Lost events: the BPF side reports ring-buffer drops as HM_EV_LOST records.
 * Every other analyzer may be wrong after a loss, so loss is never silent: one
 * finding at the end of the stream gives the total and where it happened.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "finding.h"

/* Beyond this a CPU number is implausible; such losses are still counted. */
#define MAX_TRACKED_CPU 8192

struct loss {
	uint64_t total;
	uint64_t *by_cpu;            /* records lost per CPU */
	size_t ncpus;                /* entries in by_cpu */
	uint64_t unattributed;       /* implausible CPU numbers, or no memory */
	uint64_t skipped;            /* hook runs the kernel skipped (HM_LOST_SKIPPED_RUNS) */
	struct hm_event_header first, last;
};

static void *loss_create(const struct hm_config *cfg,
			     const struct hm_model *model __attribute__((unused)))
{
	(void)cfg;
	return calloc(1, sizeof(struct loss));
}

static void loss_destroy(void *self)
{
	struct loss *l = self;

	free(l->by_cpu);
	free(l);
}

static bool grow_to_cpu(struct loss *l, uint32_t cpu)
{
	size_t want = l->ncpus ? l->ncpus : 16;
	uint64_t *grown;

	while (want <= cpu)
		want *= 2;
	grown = realloc(l->by_cpu, want * sizeof(*grown));
	if (!grown)
		return false;
	memset(grown + l->ncpus, 0, (want - l->ncpus) * sizeof(*grown));
	l->by_cpu = grown;
	l->ncpus = want;
	return true;
}

static void count_loss(struct loss *l, uint32_t cpu, uint64_t lost)
{
	if (cpu == HM_LOST_SKIPPED_RUNS)
		l->skipped += lost;
	else if (cpu < MAX_TRACKED_CPU && (cpu < l->ncpus || grow_to_cpu(l, cpu)))
		l->by_cpu[cpu] += lost;
	else
		l->unattributed += lost;
}

static void loss_feed(void *self, const union hm_event *ev, const struct hm_emitter *out)
{
	struct loss *l = self;

	(void)out;
	if (ev->hdr.type != HM_EV_LOST || ev->lost.lost == 0)
		return;
	if (!l->total)
		l->first = ev->hdr;
	l->last = ev->hdr;
	l->total += ev->lost.lost;
	count_loss(l, ev->lost.lost_cpu, ev->lost.lost);
}

/* "cpu0 150, cpu3 23" into buf; returns false if it did not all fit. */
static bool format_by_cpu(const struct loss *l, char *buf, size_t len)
{
	size_t used = 0;
	int w;

	buf[0] = '\0';
	for (size_t cpu = 0; cpu < l->ncpus; cpu++) {
		if (!l->by_cpu[cpu])
			continue;
		w = snprintf(buf + used, len - used, "%scpu%zu %" PRIu64, used ? ", " : "", cpu,
			     l->by_cpu[cpu]);
		if (w < 0 || (size_t)w >= len - used)
			return false;
		used += (size_t)w;
	}
	if (l->unattributed) {
		w = snprintf(buf + used, len - used, "%sother CPUs %" PRIu64, used ? ", " : "",
			     l->unattributed);
		if (w < 0 || (size_t)w >= len - used)
			return false;
		used += (size_t)w;
	}
	if (l->skipped) {
		w = snprintf(buf + used, len - used, "%shook runs the kernel skipped %" PRIu64,
			     used ? ", " : "", l->skipped);
		if (w < 0 || (size_t)w >= len - used)
			return false;
	}
	return true;
}

static void loss_finish(void *self, uint64_t end_ts, const struct hm_emitter *out)
{
	struct loss *l = self;
	struct hm_finding f;
	char list[HM_FINDING_SUMMARY_LEN / 2];
	char *full;
	size_t full_len;

	if (!l->total)
		return;
	hm_finding_init(&f, HM_FIND_LOST_EVENTS, end_ts);
	/* Only skipped hook runs (a preemptible kernel): most would have
	 * filtered their lock out and written nothing, so this cannot say a
	 * record is missing: info, with the count. A full ring buffer is. */
	if (l->skipped == l->total)
		f.severity = HM_SEV_INFO;
	if (!format_by_cpu(l, list, sizeof(list))) {
		/* the summary gets a prefix; the detail gets the whole list */
		full_len = (l->ncpus + 1) * 32;
		full = malloc(full_len);
		if (full && format_by_cpu(l, full, full_len))
			hm_finding_detail(&f, "records lost per CPU: %s", full);
		free(full);
		strcpy(list + sizeof(list) - 5, "...");
	}
	hm_finding_summary(&f, "%" PRIu64 " event records lost (%s); findings may be missing "
			   "or wrong", l->total, list);
	hm_finding_add_evidence(&f, &l->first, "first loss reported");
	if (l->last.ts_ns != l->first.ts_ns)
		hm_finding_add_evidence(&f, &l->last, "last loss reported");
	hm_emit(out, &f);
	hm_finding_release(&f);
}

void hm_loss_report_limits(const struct hm_limits *limits, uint64_t end_ts,
			   const struct hm_emitter *out)
{
	char list[HM_FINDING_SUMMARY_LEN / 2] = "";
	uint64_t total = 0;
	struct hm_finding f;
	size_t used = 0;

	for (int i = 0; i < HM_LIMIT_NR; i++)
		total += limits->count[i];
	if (!total)
		return;
	/* info: a bound met is a fact about this run, not a kernel bug; the
	 * summary and the metrics carry the counts */
	hm_finding_init(&f, HM_FIND_LOST_EVENTS, end_ts);
	f.severity = HM_SEV_INFO;
	f.fingerprint = hm_hash_str(f.fingerprint, "analysis limits");
	for (int i = 0; i < HM_LIMIT_NR; i++) {
		int w;

		if (!limits->count[i])
			continue;
		f.fingerprint = hm_hash_bytes(f.fingerprint, &i, sizeof(i));
		hm_finding_detail(&f, "%s: %" PRIu64, hm_limit_describe((enum hm_limit)i),
				  limits->count[i]);
		w = snprintf(list + used, sizeof(list) - used, "%s%s %" PRIu64, used ? ", " : "",
			     hm_limit_name((enum hm_limit)i), limits->count[i]);
		if (w > 0)
			used += (size_t)w < sizeof(list) - used ? (size_t)w : sizeof(list) - used - 1;
	}
	hm_finding_summary(&f, "analysis incomplete: bounded tables or searches were exceeded "
			   "(%s); findings may be missing", list);
	hm_emit(out, &f);
	hm_finding_release(&f);
}

const struct hm_analyzer_ops hm_loss_analyzer = {
	.name = "loss",
	.create = loss_create,
	.feed = loss_feed,
	.finish = loss_finish,
	.destroy = loss_destroy,
};
