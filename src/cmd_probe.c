// SPDX-License-Identifier: GPL-2.0
/* hisimig-trace probe: what this kernel offers us, like `bpftool feature probe`. */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli.h"
#include "json.h"
#include "loader.h"
#include "targets.h"

static const char probe_usage[] =
	"Usage: hisimig-trace probe [-j] [--attach auto|fentry|kprobe]\n"
	"Describe what this kernel offers hisimig-trace: lockdown, privileges, BTF, and how\n"
	"each hooked function would attach (fentry, kprobe, or missing and why).\n\n"
	"  -j, --json                  one JSON object\n"
	"      --attach MODE           plan for this preference (default auto)\n"
	"  -h, --help                  this help\n\n"
	"Examples:\n"
	"  sudo hisimig-trace probe\n"
	"  sudo hisimig-trace probe -j | jq .tracing\n";

struct probe_facts {
	char release[65];
	char lockdown[96];
	struct hm_privileges priv;
	bool vmlinux_btf;
	int module_btfs;
	bool can_trace;
	char why_not[256];
};

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

static void print_text(FILE *out, const struct probe_facts *f, enum hm_attach_pref pref)
{
	static const char *const prefs[] = { "auto", "fentry", "kprobe" };

	fprintf(out, "kernel: %s\n", f->release);
	fprintf(out, "lockdown: %s\n", f->lockdown);
	fprintf(out, "privileges: %s (CAP_BPF %s, CAP_PERFMON %s, CAP_SYS_ADMIN %s)\n",
		f->priv.root ? "root" : "not root", yes(f->priv.cap_bpf), yes(f->priv.cap_perfmon),
		yes(f->priv.cap_sys_admin));
	fprintf(out, "btf: vmlinux %s, %d modules\n", yes(f->vmlinux_btf), f->module_btfs);
	fprintf(out, "tracing: %s%s\n", f->can_trace ? "possible" : "not possible: ",
		f->can_trace ? "" : f->why_not);
	fprintf(out, "attach points (--attach %s):\n", prefs[pref]);
}

static void print_json_head(FILE *out, const struct probe_facts *f)
{
	fprintf(out, "{\"kernel\":");
	hm_json_string(out, f->release);
	fprintf(out, ",\"lockdown\":");
	hm_json_string(out, f->lockdown);
	fprintf(out, ",\"privileges\":{\"root\":%s,\"cap_bpf\":%s,\"cap_perfmon\":%s,"
		     "\"cap_sys_admin\":%s}",
		f->priv.root ? "true" : "false", f->priv.cap_bpf ? "true" : "false",
		f->priv.cap_perfmon ? "true" : "false", f->priv.cap_sys_admin ? "true" : "false");
	fprintf(out, ",\"btf\":{\"vmlinux\":%s,\"modules\":%d}", f->vmlinux_btf ? "true" : "false",
		f->module_btfs);
	fprintf(out, ",\"tracing\":{\"possible\":%s", f->can_trace ? "true" : "false");
	if (!f->can_trace) {
		fprintf(out, ",\"reason\":");
		hm_json_string(out, f->why_not);
	}
	fprintf(out, "},\"attach\":[");
}

static void print_target(FILE *out, bool json, bool first, const struct hm_target *t,
			 const struct hm_plan *p)
{
	const char *mode = hm_attach_mode_name(p->mode);

	if (!json) {
		fprintf(out, "  %-36s %-8s %s%s%s%s\n", t->func, mode, t->why,
			p->mode == HM_MODE_MISSING ? " -- " : "",
			p->mode == HM_MODE_MISSING ? p->reason : "",
			p->later ? " (attaches when it loads)" : "");
		return;
	}
	fprintf(out, "%s{\"function\":", first ? "" : ",");
	hm_json_string(out, t->func);
	fprintf(out, ",\"module\":");
	hm_json_string(out, t->module ? t->module : "vmlinux");
	fprintf(out, ",\"mode\":\"%s\"", mode);
	if (p->mode == HM_MODE_MISSING) {
		fprintf(out, ",\"reason\":");
		hm_json_string(out, p->reason);
		fprintf(out, ",\"later\":%s", p->later ? "true" : "false");
	}
	fprintf(out, ",\"what\":");
	hm_json_string(out, t->why);
	fputc('}', out);
}

int hm_cmd_probe(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "attach", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum hm_attach_pref pref = HM_PREF_AUTO;
	struct probe_facts f = { 0 };
	struct hm_kernel *k;
	struct utsname uts;
	bool json = false;
	int opt, n = 0;

	while ((opt = getopt_long(argc, argv, HM_GETOPT("jh"), long_options, NULL)) != -1) {
		if (opt == 'j') {
			json = true;
		} else if (opt == 'a' && hm_attach_pref_parse(optarg, &pref)) {
			continue;
		} else if (opt == 'h') {
			fputs(probe_usage, stdout);
			return HM_EXIT_CLEAN;
		} else if (opt == 'a') {
			hm_cli_error("--attach: '%s' is not one of auto, fentry, kprobe", optarg);
			return HM_EXIT_USAGE;
		} else {
			return hm_cli_option_error("probe", opt, argv);
		}
	}
	if (optind != argc) {
		hm_cli_error("probe takes no arguments (see --help)");
		return HM_EXIT_USAGE;
	}
	uname(&uts);
	snprintf(f.release, sizeof(f.release), "%s", uts.release);
	hm_lockdown_mode(f.lockdown, sizeof(f.lockdown));
	hm_privileges_get(&f.priv);
	f.can_trace = hm_loader_check_env(f.why_not, sizeof(f.why_not));
	k = hm_kernel_open();
	if (!k) {
		hm_cli_error("out of memory");
		return HM_EXIT_USAGE;
	}
	f.vmlinux_btf = hm_kernel_has_vmlinux_btf(k);
	if (f.can_trace && hm_kernel_trial_fentry(k, "mutex_unlock") == -EPERM) {
		f.can_trace = false;
		snprintf(f.why_not, sizeof(f.why_not), HM_LOADER_EPERM_MSG);
	}
	f.module_btfs = hm_kernel_module_btf_count();
	if (json)
		print_json_head(stdout, &f);
	else
		print_text(stdout, &f, pref);
	for (size_t i = 0; i < hm_target_count + hm_driver_target_count; i++) {
		const struct hm_target *t = i < hm_target_count ? &hm_targets[i]
								: &hm_driver_targets[i - hm_target_count];
		struct hm_plan p;

		hm_plan_target(k, t, pref, &p);
		print_target(stdout, json, n++ == 0, t, &p);
	}
	if (json)
		printf("]}\n");
	hm_kernel_free(k);
	return HM_EXIT_CLEAN;
}
