// SPDX-License-Identifier: GPL-2.0
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"

/* The one piece of global state: what SIGINT/SIGTERM told the command. */
static volatile sig_atomic_t stop_signal;

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

	if (!isdigit((unsigned char)arg[0]))
		return false;
	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno || *end || n > max)
		return false;
	*out = n;
	return true;
}

bool hm_cli_parse_real(const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	/* strtod alone would take " 5", "+5", "0x10", "nan" and "inf" */
	if (!isdigit((unsigned char)arg[0]) && !(arg[0] == '.' && isdigit((unsigned char)arg[1])))
		return false;
	if (strspn(arg, "0123456789.eE+-") != strlen(arg))
		return false;
	errno = 0;
	v = strtod(arg, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool hm_cli_output_ok(const char *option, const char *path)
{
	char err[512];

	if (hm_outfile_check(path, err, sizeof(err)))
		return true;
	hm_cli_error("%s: %s", option, err);
	return false;
}

int hm_cli_option_error(const char *command, int opt, char **argv)
{
	const char *text = argv[optind - 1];
	bool is_long = !strncmp(text, "--", 2);
	char what[160];

	if (opt == ':' && is_long)
		snprintf(what, sizeof(what), "option '%s' needs an argument", text);
	else if (opt == ':')
		snprintf(what, sizeof(what), "option '-%c' needs an argument", optopt);
	else if (is_long && optopt)
		snprintf(what, sizeof(what), "option '%.*s' takes no argument",
			 (int)strcspn(text, "="), text);
	else if (is_long)
		snprintf(what, sizeof(what), "unrecognized option '%.*s'", (int)strcspn(text, "="),
			 text);
	else
		snprintf(what, sizeof(what), "invalid option '-%c'", optopt);
	hm_cli_error("%s: %s; try 'hisimig-trace %s --help'", command, what, command);
	return HM_EXIT_USAGE;
}

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

void hm_cli_stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int hm_cli_stop_signal(void)
{
	return stop_signal;
}

const volatile sig_atomic_t *hm_cli_stop_flag(void)
{
	return &stop_signal;
}

bool hm_cli_close_stdout(void)
{
	int error = 0;
	bool failed_before = ferror(stdout); /* errno of that write is long gone */

	if (fflush(stdout))
		error = errno;
	if (fclose(stdout) && !error)
		error = errno;
	if (!error && !failed_before)
		return true;
	if (error)
		hm_cli_error("writing standard output failed: %s", strerror(error));
	else
		hm_cli_error("writing standard output failed");
	return false;
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
	default:
		*handled = false;
		return true;
	}
}
