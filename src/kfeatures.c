// SPDX-License-Identifier: GPL-2.0
#include "kfeatures.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39
#define MAX_MODULE_BTFS 16

/* Can a BPF program read kernel memory? Lockdown (confidentiality) removes
 * bpf_probe_read_kernel() from tracing programs; a trivial program still
 * loads. 1: yes, 0: refused, -1: cannot tell (no BPF at all, e.g. no privilege). */
static int bpf_may_read_kernel(void)
{
	const struct bpf_insn trivial[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	const struct bpf_insn reader[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_1, .imm = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_probe_read_kernel },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", trivial, 2, NULL);

	if (fd < 0)
		return -1;
	close(fd);
	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", reader, 7, NULL);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

const char *hm_lockdown_mode(char *buf, size_t len)
{
	/* "none integrity [confidentiality]": the bracketed word is in force */
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");
	char line[128] = "", *open, *close;

	snprintf(buf, len, "unknown");
	if (!f) {
		int reads = bpf_may_read_kernel();

		/* without securityfs only a refused kernel read proves confidentiality */
		snprintf(buf, len, "%s", reads == 0 ? "confidentiality (inferred: BPF may not read kernel memory)"
						    : "unknown (securityfs not mounted)");
		return buf;
	}
	if (fgets(line, sizeof(line), f) && (open = strchr(line, '[')) &&
	    (close = strchr(open, ']'))) {
		*close = '\0';
		snprintf(buf, len, "%s", open + 1);
	}
	fclose(f);
	return buf;
}

void hm_privileges_get(struct hm_privileges *p)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	uint64_t caps = 0;

	*p = (struct hm_privileges){ .root = geteuid() == 0 };
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &caps) == 1)
			break;
	if (f)
		fclose(f);
	p->cap_sys_admin = caps >> CAP_SYS_ADMIN_BIT & 1;
	p->cap_perfmon = caps >> CAP_PERFMON_BIT & 1;
	p->cap_bpf = caps >> CAP_BPF_BIT & 1;
}

bool hm_privileges_enough(const struct hm_privileges *p)
{
	return p->cap_sys_admin || (p->cap_bpf && p->cap_perfmon);
}

struct module_btf {
	char name[64];
	struct btf *btf;          /* NULL: tried, none */
};

struct hm_kernel {
	struct btf *vmlinux;
	struct module_btf modules[MAX_MODULE_BTFS];
	int nmodules;
	struct hm_ksyms *ksyms;
	char *modules_seen;       /* /proc/modules names at the last kallsyms read */
	int fentry_attach;        /* 0: not tried yet, 1: attaches, else -errno */
	int preempt_rt;           /* 0: not read yet, 1: PREEMPT_RT, -1: not */
};

/*
 * "name state" of each /proc/modules line: what changes when a module comes,
 * finishes loading ("Loading" -> "Live") or goes. A module's kallsyms and
 * BTF are complete once it is Live, so kallsyms is re-read on each change.
 */
static char *module_list(void)
{
	FILE *f = fopen("/proc/modules", "re");
	char line[512], name[128], state[16], *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	while (f && mem && fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %*s %*s %*s %15s", name, state) == 2)
			fprintf(mem, "%s %s\n", name, state);
	if (f)
		fclose(f);
	if (mem)
		fclose(mem);
	return out;
}

static void load_ksyms(struct hm_kernel *k)
{
	char err[256];

	hm_ksyms_free(k->ksyms);
	k->ksyms = hm_ksyms_load("/proc/kallsyms", err, sizeof(err));
}

/* Modules first: one Live in this list has all its symbols in the kallsyms
 * read after it (the other order races with a module load). */
static void load_modules_and_ksyms(struct hm_kernel *k)
{
	free(k->modules_seen);
	k->modules_seen = module_list();
	load_ksyms(k);
}

/* kallsyms only: the module list stays as the last refresh saw it, so a
 * module that came or went since is still a change for the next refresh. */
void hm_kernel_reload_symbols(struct hm_kernel *k)
{
	load_ksyms(k);
}

struct hm_kernel *hm_kernel_open(void)
{
	struct hm_kernel *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->vmlinux = btf__load_vmlinux_btf();
	if (libbpf_get_error(k->vmlinux))
		k->vmlinux = NULL;
	load_modules_and_ksyms(k);
	return k;
}

void hm_kernel_free(struct hm_kernel *k)
{
	if (!k)
		return;
	for (int i = 0; i < k->nmodules; i++)
		btf__free(k->modules[i].btf);
	btf__free(k->vmlinux);
	hm_ksyms_free(k->ksyms);
	free(k->modules_seen);
	free(k);
}

bool hm_kernel_refresh(struct hm_kernel *k)
{
	char *now = module_list();
	bool changed = !now || !k->modules_seen || strcmp(now, k->modules_seen);

	free(now);
	if (!changed)
		return false;
	load_modules_and_ksyms(k);
	/* module BTF loaded before the module came (or went) is stale */
	for (int i = 0; i < k->nmodules; i++)
		btf__free(k->modules[i].btf);
	k->nmodules = 0;
	return true;
}

bool hm_kernel_has_vmlinux_btf(const struct hm_kernel *k)
{
	return k->vmlinux != NULL;
}

const struct hm_ksyms *hm_kernel_ksyms(const struct hm_kernel *k)
{
	return k->ksyms;
}

int hm_kernel_module_btf_count(void)
{
	DIR *d = opendir("/sys/kernel/btf");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.' && strcmp(e->d_name, "vmlinux");
	if (d)
		closedir(d);
	return n;
}

bool hm_kernel_module_live(const struct hm_kernel *k, const char *module)
{
	char want[160];
	const char *p = k->modules_seen;
	size_t n = (size_t)snprintf(want, sizeof(want), "%s Live\n", module);

	for (; p && *p; p = strchr(p, '\n') + 1)
		if (!strncmp(p, want, n))
			return true;
	return false;
}

static struct btf *module_btf(struct hm_kernel *k, const char *module)
{
	struct module_btf *m;

	for (int i = 0; i < k->nmodules; i++)
		if (!strcmp(k->modules[i].name, module))
			return k->modules[i].btf;
	if (!k->vmlinux || k->nmodules == MAX_MODULE_BTFS)
		return NULL;
	m = &k->modules[k->nmodules++];
	snprintf(m->name, sizeof(m->name), "%s", module);
	m->btf = btf__load_module_btf(module, k->vmlinux);
	if (libbpf_get_error(m->btf))
		m->btf = NULL;
	return m->btf;
}

bool hm_kernel_btf_has_func(struct hm_kernel *k, const char *func, const char *module)
{
	struct btf *btf = module && *module ? module_btf(k, module) : k->vmlinux;

	return btf && btf__find_by_name_kind(btf, func, BTF_KIND_FUNC) > 0;
}

bool hm_kernel_has_symbol(const struct hm_kernel *k, const char *func, const char **module)
{
	return k->ksyms && hm_ksyms_find(k->ksyms, func, module);
}

bool hm_kernel_data_symbol(const struct hm_kernel *k, const char *name, uint64_t *addr)
{
	return k->ksyms && hm_ksyms_find_data(k->ksyms, name, addr);
}

#define HM_ENOTSUPP 524 /* the kernel's own ENOTSUPP, not in <errno.h> */

/* A trivial fentry program on a vmlinux function, loaded: its fd or -errno. */
static int trivial_fentry(const struct hm_kernel *k, const char *func)
{
	const struct bpf_insn trivial[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	int id = k->vmlinux ? btf__find_by_name_kind(k->vmlinux, func, BTF_KIND_FUNC) : -1;
	int fd;

	if (id <= 0)
		return -ENOENT;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", trivial, 2, &opts);
	return fd < 0 ? -errno : fd;
}

int hm_kernel_trial_fentry(const struct hm_kernel *k, const char *func)
{
	int fd = trivial_fentry(k, func);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

bool hm_kernel_fentry_attaches(struct hm_kernel *k)
{
	int fd, link;

	if (!k->fentry_attach) {
		/* bpf_fentry_test1 runs only under BPF_PROG_TEST_RUN: patching it
		 * disturbs nothing. */
		fd = trivial_fentry(k, "bpf_fentry_test1");
		link = fd < 0 ? fd : bpf_raw_tracepoint_open(NULL, fd);
		k->fentry_attach = fd < 0 ? fd : link >= 0 ? 1 : link;
		if (link >= 0)
			close(link);
		if (fd >= 0)
			close(fd);
	}
	/* Only "not supported" is an answer: no test function, no privileges
	 * or lockdown leave the choice to the BTF (and the load says why). */
	return k->fentry_attach != -HM_ENOTSUPP && k->fentry_attach != -EOPNOTSUPP;
}

bool hm_kernel_preempt_rt(struct hm_kernel *k)
{
	if (!k->preempt_rt)
		k->preempt_rt = access("/sys/kernel/realtime", F_OK) ? -1 : 1;
	return k->preempt_rt > 0;
}
