/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The embedded BPF objects (bpftool skeletons), opened by id and used
 * through their skeleton types: a hooked function's programs, the maps
 * every object shares and the read-only configuration are skeleton fields,
 * so a renamed program, map or variable breaks the build instead of leaving
 * a hook unattached.
 */
#ifndef HM_BPF_OBJECTS_H
#define HM_BPF_OBJECTS_H

#include <stdint.h>
#include "hisimig/lockcfg.h"
#include "targets.h"

struct bpf_object;
struct bpf_program;
struct bpf_map;
struct hm_locks_bpf;
struct hm_pci_bpf;
struct hm_vfio_bpf;
struct hm_driver_bpf;

struct hm_bpf_skel {
	enum hm_bpf_obj_id id;
	struct bpf_object *obj;
	union {                       /* the skeleton of id */
		struct hm_locks_bpf *locks;
		struct hm_pci_bpf *pci;
		struct hm_vfio_bpf *vfio;
		struct hm_driver_bpf *driver;
	};
};

/* false with errno set when libbpf cannot open the embedded object */
bool hm_bpf_skel_open(enum hm_bpf_obj_id id, struct hm_bpf_skel *out);
void hm_bpf_skel_destroy(struct hm_bpf_skel *s);
const char *hm_bpf_obj_name(enum hm_bpf_obj_id id);

/* The programs of a hooked function (hm_target.progs) for one attach mode:
 * [0] at entry (fentry, kprobe), [1] at exit (fexit, kretprobe), NULL where
 * it has none. false: the object has no programs of that name. */
bool hm_bpf_hook_progs(const struct hm_bpf_skel *s, const char *progs, enum hm_attach_mode mode,
		       struct bpf_program *out[2]);

/* Maps every object uses together (bpf/common.bpf.h): the first loaded
 * object owns them, the others reuse them. */
enum hm_shared_map {
	HM_MAP_EVENTS,
	HM_MAP_STACKS,
	HM_MAP_LOST,
	HM_MAP_LEARN_COUNTS,
	HM_MAP_LEARN_TASKS,
	HM_MAP_LEARNED,
	HM_MAP_VFIO_USERS,
	HM_MAP_MIG_FILES,
	HM_SHARED_MAPS,
};
void hm_bpf_shared_maps(const struct hm_bpf_skel *s, struct bpf_map *out[HM_SHARED_MAPS]);

/* Before load: what the lock hooks trace (locks.bpf.c's .rodata). */
void hm_bpf_locks_configure(struct hm_bpf_skel *s, const uint64_t known[HM_MAX_KNOWN_LOCKS],
			    unsigned int lock_mode);
/* Before load: the function a driver-callback object hooks (events name it). */
void hm_bpf_driver_set_func(struct hm_bpf_skel *s, const char *func, const char *module);

#endif
