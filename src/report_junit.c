// SPDX-License-Identifier: GPL-2.0
#include "report_junit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "finding.h"
#include "outfile.h"

/* XML 1.0 text: the five entities; control characters it forbids become '?'. */
static void xml_text(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default:
			if (*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
				fputc('?', out);
			else
				fputc(*p, out);
		}
	}
}

static size_t count_kind(const struct hm_finding_set *set, enum hm_finding_kind kind,
			 enum hm_severity fail_on, bool failing)
{
	size_t n = 0;

	for (size_t i = 0; i < set->count; i++) {
		const struct hm_kept_finding *k = &set->items[i];
		bool fails = !k->accepted && k->finding.severity >= fail_on;

		n += k->finding.kind == kind && fails == failing;
	}
	return n;
}

static void write_failure(FILE *out, const struct hm_kept_finding *k)
{
	fputs("      <failure message=\"", out);
	xml_text(out, k->finding.summary);
	fprintf(out, "\" type=\"%s\">", hm_severity_name(k->finding.severity));
	xml_text(out, k->text ? k->text : k->finding.summary);
	fputs("</failure>\n", out);
}

/* Findings of this kind that do not fail: accepted by the baseline, or
 * below --fail-on. */
static void write_passing(FILE *out, const struct hm_finding_set *set, enum hm_finding_kind kind,
			  enum hm_severity fail_on)
{
	fputs("      <system-out>", out);
	for (size_t i = 0; i < set->count; i++) {
		const struct hm_kept_finding *k = &set->items[i];

		if (k->finding.kind != kind || (!k->accepted && k->finding.severity >= fail_on))
			continue;
		xml_text(out, k->accepted ? "accepted by the baseline:" : "below --fail-on:");
		xml_text(out, k->text ? k->text : k->finding.summary);
		fputc('\n', out);
	}
	fputs("</system-out>\n", out);
}

static void write_kind(FILE *out, const struct hm_finding_set *set, enum hm_finding_kind kind,
		       enum hm_severity fail_on)
{
	fprintf(out, "    <testcase name=\"%s\" classname=\"hisimig-trace\" time=\"0\">\n",
		hm_finding_kind_name(kind));
	for (size_t i = 0; i < set->count; i++) {
		const struct hm_kept_finding *k = &set->items[i];

		if (k->finding.kind == kind && !k->accepted && k->finding.severity >= fail_on)
			write_failure(out, k);
	}
	if (count_kind(set, kind, fail_on, false))
		write_passing(out, set, kind, fail_on);
	fputs("    </testcase>\n", out);
}

static void write_report(FILE *out, const struct hm_finding_set *set,
			 const struct hm_junit_run *run)
{
	size_t tests = HM_FIND_KIND_MAX + (run->command_error ? 1 : 0);
	size_t failures = 0;
	char host[256] = "localhost", when[32] = "1970-01-01T00:00:00";
	time_t now = time(NULL);
	struct tm tm;

	for (int kind = 0; kind < HM_FIND_KIND_MAX; kind++)
		failures += count_kind(set, kind, run->fail_on, true) != 0;
	if (gethostname(host, sizeof(host) - 1))
		strcpy(host, "localhost");
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", out);
	fputs("  <testsuite name=\"", out);
	xml_text(out, run->suite);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" skipped=\"0\" "
		     "time=\"%.3f\" timestamp=\"%s\" hostname=\"",
		tests, failures, run->command_error ? 1 : 0, run->seconds, when);
	xml_text(out, host);
	fputs("\">\n", out);
	if (run->command_error) {
		fputs("    <testcase name=\"command\" classname=\"hisimig-trace\" time=\"0\">\n"
		      "      <error message=\"", out);
		xml_text(out, run->command_error);
		fputs("\" type=\"command\"/>\n    </testcase>\n", out);
	}
	for (int kind = 0; kind < HM_FIND_KIND_MAX; kind++)
		write_kind(out, set, kind, run->fail_on);
	fputs("  </testsuite>\n</testsuites>\n", out);
}

struct junit_job {
	const struct hm_finding_set *set;
	const struct hm_junit_run *run;
};

static void write_job(FILE *out, const void *ctx)
{
	const struct junit_job *job = ctx;

	write_report(out, job->set, job->run);
}

bool hm_junit_write(const char *path, const struct hm_finding_set *set,
		    const struct hm_junit_run *run, char *err, size_t errlen)
{
	struct junit_job job = { set, run };

	return hm_outfile_write(path, write_job, &job, err, errlen);
}
