/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel functions hisimig-trace hooks, which BPF object holds their
 * programs, and how each would attach on this kernel (the plan shared by
 * `probe` and the loader).
 */
#ifndef HM_TARGETS_H
#define HM_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include "kfeatures.h"

enum hm_bpf_obj_id {
	HM_OBJ_LOCKS,             /* bpf/locks.bpf.c: device mutexes (required) */
	HM_OBJ_PCI,               /* bpf/pci.bpf.c: SR-IOV, VFs, bind, drvdata, reset */
	HM_OBJ_VFIO,              /* bpf/vfio.bpf.c: vfio + vfio_pci_core modules */
	HM_OBJ_DRIVER,            /* bpf/driver.bpf.c: one per variant-driver callback */
	HM_OBJ_COUNT,
};

struct hm_target {
	const char *func;         /* kernel function */
	const char *module;       /* its module, NULL for vmlinux, "" if unknown */
	enum hm_bpf_obj_id obj;
	const char *progs;        /* program name prefix: <progs>_fentry, _fexit, _kprobe, _kretprobe */
	const char *why;          /* one line for `probe` */
	bool release;             /* a lock release: kprobe on PREEMPT_RT (hm_plan_target) */
};

/* The fixed hooks, in attach order (unlock before lock: no phantom holders). */
extern const struct hm_target hm_targets[];
extern const size_t hm_target_count;

/* Variant-driver callbacks with a known name: migration set_state and reset_done. */
extern const struct hm_target hm_driver_targets[];
extern const size_t hm_driver_target_count;
/* A user-named set_state callback (--set-state-func): module from kallsyms. */
struct hm_target hm_driver_set_state_target(const char *func);

enum hm_attach_pref { HM_PREF_AUTO, HM_PREF_FENTRY, HM_PREF_KPROBE };
enum hm_attach_mode { HM_MODE_MISSING, HM_MODE_FENTRY, HM_MODE_KPROBE };

struct hm_plan {
	enum hm_attach_mode mode;
	bool later;               /* missing only because its module is not loaded yet */
	char reason[96];          /* for HM_MODE_MISSING */
};

/* Global mutexes of the SR-IOV/VFIO paths that focused mode traces besides
 * device mutexes (resolved in /proc/kallsyms at start, named by symbol). */
struct hm_known_lock {
	const char *symbol;
	const char *why;
};
extern const struct hm_known_lock hm_known_locks[];
extern const size_t hm_known_lock_count;

bool hm_lock_mode_parse(const char *text, unsigned int *mode);
const char *hm_lock_mode_name(unsigned int mode);

bool hm_attach_pref_parse(const char *text, enum hm_attach_pref *out);
const char *hm_attach_mode_name(enum hm_attach_mode mode);
void hm_plan_target(struct hm_kernel *k, const struct hm_target *t, enum hm_attach_pref pref,
		    struct hm_plan *out);
/* "fentry", "kprobe" or "missing: <reason>": the attach.<func> trace metadata. */
void hm_plan_describe(const struct hm_plan *p, char *buf, size_t len);

#endif
