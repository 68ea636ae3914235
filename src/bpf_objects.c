// SPDX-License-Identifier: GPL-2.0
/* The only file that includes the generated skeletons. */
#include "bpf_objects.h"

#include <errno.h>
#include <stdio.h>

#include "driver.skel.h"
#include "locks.skel.h"
#include "pci.skel.h"
#include "vfio.skel.h"

#define SKEL_OPS(name)                                                       \
	static struct bpf_object *open_##name(void **skel)                   \
	{                                                                    \
		struct hm_##name##_bpf *s = hm_##name##_bpf__open();         \
		*skel = s;                                                   \
		return s ? s->obj : NULL;                                    \
	}                                                                    \
	static void destroy_##name(void *skel)                               \
	{                                                                    \
		hm_##name##_bpf__destroy(skel);                              \
	}

SKEL_OPS(locks)
SKEL_OPS(pci)
SKEL_OPS(vfio)
SKEL_OPS(driver)

static const struct {
	const char *name;
	struct bpf_object *(*open)(void **skel);
	void (*destroy)(void *skel);
} skel_ops[HM_OBJ_COUNT] = {
	[HM_OBJ_LOCKS] = { "locks", open_locks, destroy_locks },
	[HM_OBJ_PCI] = { "pci", open_pci, destroy_pci },
	[HM_OBJ_VFIO] = { "vfio", open_vfio, destroy_vfio },
	[HM_OBJ_DRIVER] = { "driver", open_driver, destroy_driver },
};

bool hm_bpf_skel_open(enum hm_bpf_obj_id id, struct hm_bpf_skel *out)
{
	*out = (struct hm_bpf_skel){ .id = id };
	out->obj = skel_ops[id].open(&out->skel);
	if (!out->obj && !errno)
		errno = ENOMEM;
	return out->obj != NULL;
}

void hm_bpf_skel_destroy(struct hm_bpf_skel *s)
{
	if (s->skel)
		skel_ops[s->id].destroy(s->skel);
	*s = (struct hm_bpf_skel){ 0 };
}

const char *hm_bpf_obj_name(enum hm_bpf_obj_id id)
{
	return skel_ops[id].name;
}

void hm_bpf_driver_set_func(struct hm_bpf_skel *s, const char *func, const char *module)
{
	struct hm_driver_bpf *d = s->skel;

	snprintf((char *)d->rodata->hooked_func, sizeof(d->rodata->hooked_func), "%s", func);
	snprintf((char *)d->rodata->hooked_module, sizeof(d->rodata->hooked_module), "%s",
		 module ? module : "");
}
