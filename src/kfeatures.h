/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel offers a BPF tracer: lockdown, privileges, BTF
 * (vmlinux and modules) and symbols. Read-only: used by `probe` to describe
 * the kernel and by the loader to choose how each function is hooked.
 */
#ifndef HM_KFEATURES_H
#define HM_KFEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include "kallsyms.h"

#define HM_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* "none", "integrity", "confidentiality", or "unknown (...)" (no securityfs). */
const char *hm_lockdown_mode(char *buf, size_t len);

struct hm_privileges {
	bool root;                /* euid 0 */
	bool cap_bpf, cap_perfmon, cap_sys_admin;
};
void hm_privileges_get(struct hm_privileges *p);
/* Enough to load tracing programs and read kernel addresses. */
bool hm_privileges_enough(const struct hm_privileges *p);

struct hm_kernel;

/* Never fails for lack of BTF or symbols: lookups then answer "absent". */
struct hm_kernel *hm_kernel_open(void);
void hm_kernel_free(struct hm_kernel *k);
/* Re-read kallsyms when the set of loaded modules changed; true if it did. */
bool hm_kernel_refresh(struct hm_kernel *k);
/* Re-read /proc/kallsyms: attaching creates BPF trampolines and programs,
 * which then appear in stacks and must resolve to their own names. */
void hm_kernel_reload_symbols(struct hm_kernel *k);
bool hm_kernel_has_vmlinux_btf(const struct hm_kernel *k);
const struct hm_ksyms *hm_kernel_ksyms(const struct hm_kernel *k); /* may be NULL */
/* Number of modules with BTF (/sys/kernel/btf/ minus vmlinux). */
int hm_kernel_module_btf_count(void);
/* MODULE is Live in the /proc/modules snapshot taken with kallsyms: /sys/module
 * appears while it is still loading, before its symbols and BTF are final. */
bool hm_kernel_module_live(const struct hm_kernel *k, const char *module);

/* A BTF FUNC in vmlinux or (module != NULL) in that module's BTF. */
bool hm_kernel_btf_has_func(struct hm_kernel *k, const char *func, const char *module);
/* Load (not attach) a trivial fentry program on a vmlinux function: 0 or -errno
 * (-EPERM as root: lockdown or an LSM forbids tracing programs). */
int hm_kernel_trial_fentry(const struct hm_kernel *k, const char *func);
/* Whether fentry programs can be attached, not only loaded: arm64 before
 * Linux 6.4 (no ftrace direct calls) refuses with ENOTSUPP (524). Tried
 * once, on a function nothing else calls; false only for that refusal. */
bool hm_kernel_fentry_attaches(struct hm_kernel *k);
/* A PREEMPT_RT kernel (/sys/kernel/realtime): BPF programs are preemptible. */
bool hm_kernel_preempt_rt(struct hm_kernel *k);
/* A vmlinux/module data symbol (needs CONFIG_KALLSYMS_ALL; none when
 * kptr_restrict hides addresses); *addr gets its address. */
bool hm_kernel_data_symbol(const struct hm_kernel *k, const char *name, uint64_t *addr);
/* A text symbol; *module is its module ("" for vmlinux). */
bool hm_kernel_has_symbol(const struct hm_kernel *k, const char *func, const char **module);

#endif
