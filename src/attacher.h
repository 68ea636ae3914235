/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hooks to programs: plan how each target function attaches on this kernel
 * (fentry, else kprobe, else missing), load the BPF objects through their
 * skeletons with only the chosen programs, attach them, and record every
 * hook's status as attach.<func> session metadata. Hooks in modules that
 * load later attach late.
 */
#ifndef HM_ATTACHER_H
#define HM_ATTACHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bpf_objects.h"
#include "kfeatures.h"
#include "session.h"
#include "targets.h"

/* hm_targets + hm_driver_targets + --set-state-func */
#define HM_ATTACHER_MAX_HOOKS 80

struct hm_attacher_opts {
	enum hm_attach_pref pref;
	unsigned int lock_mode;       /* enum hm_lock_mode */
	uint32_t ringbuf_bytes;       /* 0: the objects' own size */
	uint64_t known_locks[HM_MAX_KNOWN_LOCKS]; /* hm_known_locks[i]'s address, 0 absent */
};

struct hm_attacher;

/* k and s are borrowed; NULL: out of memory. */
struct hm_attacher *hm_attacher_new(const struct hm_attacher_opts *o, struct hm_kernel *k,
				    struct hm_session *s);
void hm_attacher_free(struct hm_attacher *a);

/* false: no room for another hook (HM_ATTACHER_MAX_HOOKS) */
bool hm_attacher_add(struct hm_attacher *a, const struct hm_target *t);
/* Plan, load and attach the unsettled hooks of one object. <0: -errno of a
 * failed load (-EPERM: the kernel refuses tracing programs). */
int hm_attacher_settle(struct hm_attacher *a, enum hm_bpf_obj_id id);
/* Modules came or went: attach the hooks waiting for them. */
void hm_attacher_late(struct hm_attacher *a);

/* NULL when a lock acquisition hook attached, else why mutex_lock is missing. */
const char *hm_attacher_no_lock_hook(const struct hm_attacher *a);
/* A shared map's fd, -1 before the first object loaded. */
int hm_attacher_map_fd(const struct hm_attacher *a, enum hm_shared_map m);
/* Runs of our programs the kernel skipped, in all; with `who`, also which
 * programs ("prog count, prog count"). */
uint64_t hm_attacher_skipped_runs(const struct hm_attacher *a, char *who, size_t wholen);
/* "12 fentry, 2 kprobe, 3 missing (1 waiting for their module)" */
void hm_attacher_summary(const struct hm_attacher *a, char *buf, size_t len);

#endif
