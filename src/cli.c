// SPDX-License-Identifier: GPL-2.0
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "exporter.h"

void hm_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hisimig-trace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool hm_cli_parse_count(const char *arg, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || n > max)
		return false;
	*out = n;
	return true;
}

static bool parse_ms(const char *arg, const char *name, uint64_t *out_ns)
{
	unsigned long long ms;

	if (!hm_cli_parse_count(arg, 1000000000ULL, &ms)) {
		hm_cli_error("--%s: '%s' is not a number of milliseconds", name, arg);
		return false;
	}
	*out_ns = ms * 1000000ULL;
	return true;
}

bool hm_cli_analysis_option(int opt, const char *arg, struct hm_session_opts *o, bool *handled)
{
	*handled = true;
	switch (opt) {
	case OPT_JSON:
		o->format = HM_REPORT_JSON;
		return true;
	case OPT_QUIET:
		o->quiet = true;
		return true;
	case OPT_FAIL_ON:
		if (hm_severity_parse(arg, &o->fail_on))
			return true;
		hm_cli_error("--fail-on: '%s' is not one of info, warning, error", arg);
		return false;
	case OPT_SRIOV_WARN:
		return parse_ms(arg, "sriov-disable-warn-ms", &o->config.sriov_disable_warn_ns);
	case OPT_STATE_MAX:
		return parse_ms(arg, "mig-state-max-ms", &o->config.mig_state_max_ns);
	case OPT_DOWNTIME_MAX:
		return parse_ms(arg, "mig-downtime-max-ms", &o->config.mig_downtime_max_ns);
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
		o->timeline_path = arg;
		return true;
	default:
		*handled = false;
		return true;
	}
}
