/* SPDX-License-Identifier: GPL-2.0 */
/* The embedded BPF objects (bpftool skeletons), opened by id. */
#ifndef HM_BPF_OBJECTS_H
#define HM_BPF_OBJECTS_H

#include "targets.h"

struct bpf_object;

struct hm_bpf_skel {
	void *skel;
	struct bpf_object *obj;
	enum hm_bpf_obj_id id;
};

/* false with errno set when libbpf cannot open the embedded object */
bool hm_bpf_skel_open(enum hm_bpf_obj_id id, struct hm_bpf_skel *out);
void hm_bpf_skel_destroy(struct hm_bpf_skel *s);
const char *hm_bpf_obj_name(enum hm_bpf_obj_id id);
/* Before load: the function a driver-callback object hooks (events name it). */
void hm_bpf_driver_set_func(struct hm_bpf_skel *s, const char *func, const char *module);

#endif
