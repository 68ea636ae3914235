// SPDX-License-Identifier: GPL-2.0
/* The only file that includes the generated skeletons. */
#include "bpf_objects.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "driver.skel.h"
#include "locks.skel.h"
#include "pci.skel.h"
#include "vfio.skel.h"

#define OPEN(out, name) ((out)->name = hm_##name##_bpf__open()) ? (out)->name->obj : NULL

bool hm_bpf_skel_open(enum hm_bpf_obj_id id, struct hm_bpf_skel *out)
{
	*out = (struct hm_bpf_skel){ .id = id };
	switch (id) {
	case HM_OBJ_LOCKS:
		out->obj = OPEN(out, locks);
		break;
	case HM_OBJ_PCI:
		out->obj = OPEN(out, pci);
		break;
	case HM_OBJ_VFIO:
		out->obj = OPEN(out, vfio);
		break;
	default:
		out->obj = OPEN(out, driver);
		break;
	}
	if (!out->obj && !errno)
		errno = ENOMEM;
	return out->obj != NULL;
}

void hm_bpf_skel_destroy(struct hm_bpf_skel *s)
{
	switch (s->id) {
	case HM_OBJ_LOCKS:
		hm_locks_bpf__destroy(s->locks);
		break;
	case HM_OBJ_PCI:
		hm_pci_bpf__destroy(s->pci);
		break;
	case HM_OBJ_VFIO:
		hm_vfio_bpf__destroy(s->vfio);
		break;
	default:
		hm_driver_bpf__destroy(s->driver);
		break;
	}
	*s = (struct hm_bpf_skel){ 0 };
}

const char *hm_bpf_obj_name(enum hm_bpf_obj_id id)
{
	static const char *const names[HM_OBJ_COUNT] = {
		[HM_OBJ_LOCKS] = "locks", [HM_OBJ_PCI] = "pci",
		[HM_OBJ_VFIO] = "vfio",	  [HM_OBJ_DRIVER] = "driver",
	};

	return names[id];
}

/* A hooked function's programs: [fentry|kprobe][entry|exit]. */
struct hook_progs {
	const char *name;             /* hm_target.progs */
	struct bpf_program *mode[2][2];
};

/* The three shapes of a hook: entry and exit, entry only, exit only (whose
 * kprobe twin still has an entry probe: it stashes the arguments). */
#define BOTH(s, fn)                                                                     \
	{ #fn, { { (s)->progs.fn##_fentry, (s)->progs.fn##_fexit },                   \
		 { (s)->progs.fn##_kprobe, (s)->progs.fn##_kretprobe } } }
#define ENTRY(s, fn) { #fn, { { (s)->progs.fn##_fentry, NULL }, { (s)->progs.fn##_kprobe, NULL } } }
#define EXIT(s, fn)                                                                     \
	{ #fn, { { NULL, (s)->progs.fn##_fexit },                                      \
		 { (s)->progs.fn##_kprobe, (s)->progs.fn##_kretprobe } } }

static bool find_progs(const struct hook_progs *all, size_t n, const char *name,
		       enum hm_attach_mode mode, struct bpf_program *out[2])
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].name, name)) {
			memcpy(out, all[i].mode[mode == HM_MODE_KPROBE], sizeof(all[i].mode[0]));
			return true;
		}
	return false;
}

#define FIND_PROGS(all, name, mode, out) find_progs(all, sizeof(all) / sizeof(all[0]), name, mode, out)

static bool locks_progs(const struct hm_locks_bpf *s, const char *name, enum hm_attach_mode mode,
			struct bpf_program *out[2])
{
	const struct hook_progs all[] = {
		ENTRY(s, mutex_unlock), ENTRY(s, up_read), ENTRY(s, up_write),
		ENTRY(s, downgrade_write), BOTH(s, process_one_work), BOTH(s, flush_work),
		BOTH(s, __flush_work), BOTH(s, __flush_workqueue), BOTH(s, wait_for_completion),
		BOTH(s, wait_for_completion_io), BOTH(s, wait_for_completion_interruptible),
		BOTH(s, wait_for_completion_killable), BOTH(s, wait_for_completion_timeout),
		BOTH(s, wait_for_completion_io_timeout),
		BOTH(s, wait_for_completion_interruptible_timeout),
		BOTH(s, wait_for_completion_killable_timeout), ENTRY(s, complete),
		ENTRY(s, complete_all), EXIT(s, mutex_trylock), BOTH(s, mutex_lock),
		BOTH(s, mutex_lock_interruptible), BOTH(s, mutex_lock_killable),
		BOTH(s, mutex_lock_nested), BOTH(s, mutex_lock_interruptible_nested),
		BOTH(s, mutex_lock_killable_nested), BOTH(s, mutex_lock_io_nested), BOTH(s, down_read),
		BOTH(s, down_read_interruptible), BOTH(s, down_read_killable),
		EXIT(s, down_read_trylock), BOTH(s, down_write), BOTH(s, down_write_killable),
		EXIT(s, down_write_trylock),
	};

	return FIND_PROGS(all, name, mode, out);
}

static bool pci_progs(const struct hm_pci_bpf *s, const char *name, enum hm_attach_mode mode,
		      struct bpf_program *out[2])
{
	const struct hook_progs all[] = {
		BOTH(s, sriov_enable), BOTH(s, sriov_disable), BOTH(s, pci_iov_add_virtfn),
		ENTRY(s, pci_device_add), BOTH(s, pci_iov_remove_virtfn),
		BOTH(s, pci_stop_and_remove_bus_device), BOTH(s, pci_device_probe),
		BOTH(s, pci_device_remove), EXIT(s, pci_iov_get_pf_drvdata),
		EXIT(s, pci_reset_function),
	};

	return FIND_PROGS(all, name, mode, out);
}

static bool vfio_progs(const struct hm_vfio_bpf *s, const char *name, enum hm_attach_mode mode,
		       struct bpf_program *out[2])
{
	const struct hook_progs all[] = {
		EXIT(s, vfio_pci_core_enable), ENTRY(s, vfio_pci_core_close_device),
		BOTH(s, vfio_unregister_group_dev), EXIT(s, vfio_mig_get_next_state),
	};

	return FIND_PROGS(all, name, mode, out);
}

static bool driver_progs(const struct hm_driver_bpf *s, const char *name, enum hm_attach_mode mode,
			 struct bpf_program *out[2])
{
	const struct hook_progs all[] = {
		BOTH(s, set_state), ENTRY(s, reset_done), EXIT(s, use_pf_data), BOTH(s, mig_file_io),
		ENTRY(s, mig_file_release),
	};

	return FIND_PROGS(all, name, mode, out);
}

bool hm_bpf_hook_progs(const struct hm_bpf_skel *s, const char *progs, enum hm_attach_mode mode,
		       struct bpf_program *out[2])
{
	if (mode == HM_MODE_MISSING)
		return false;
	switch (s->id) {
	case HM_OBJ_LOCKS:
		return locks_progs(s->locks, progs, mode, out);
	case HM_OBJ_PCI:
		return pci_progs(s->pci, progs, mode, out);
	case HM_OBJ_VFIO:
		return vfio_progs(s->vfio, progs, mode, out);
	default:
		return driver_progs(s->driver, progs, mode, out);
	}
}

#define SHARED_MAPS(out, s)                                                                  \
	memcpy(out,                                                                          \
	       (struct bpf_map *[HM_SHARED_MAPS]){                                           \
		       [HM_MAP_EVENTS] = (s)->maps.events,                                   \
		       [HM_MAP_STACKS] = (s)->maps.stacks,                                   \
		       [HM_MAP_LOST] = (s)->maps.lost,                                       \
		       [HM_MAP_LEARN_COUNTS] = (s)->maps.learn_counts,                       \
		       [HM_MAP_LEARN_TASKS] = (s)->maps.learn_tasks,                         \
		       [HM_MAP_LEARNED] = (s)->maps.learned_locks,                           \
		       [HM_MAP_VFIO_USERS] = (s)->maps.vfio_users,                           \
		       [HM_MAP_MIG_FILES] = (s)->maps.mig_files },                           \
	       HM_SHARED_MAPS * sizeof(*(out)))

void hm_bpf_shared_maps(const struct hm_bpf_skel *s, struct bpf_map *out[HM_SHARED_MAPS])
{
	switch (s->id) {
	case HM_OBJ_LOCKS:
		SHARED_MAPS(out, s->locks);
		break;
	case HM_OBJ_PCI:
		SHARED_MAPS(out, s->pci);
		break;
	case HM_OBJ_VFIO:
		SHARED_MAPS(out, s->vfio);
		break;
	default:
		SHARED_MAPS(out, s->driver);
		break;
	}
}

void hm_bpf_locks_configure(struct hm_bpf_skel *s, const uint64_t known[HM_MAX_KNOWN_LOCKS],
			    unsigned int lock_mode)
{
	_Static_assert(sizeof(s->locks->rodata->known_locks) == HM_MAX_KNOWN_LOCKS * sizeof(known[0]),
		       "known_locks[] is HM_MAX_KNOWN_LOCKS addresses");
	memcpy(s->locks->rodata->known_locks, known, sizeof(s->locks->rodata->known_locks));
	s->locks->rodata->lock_mode = lock_mode;
}

void hm_bpf_driver_set_func(struct hm_bpf_skel *s, const char *func, const char *module)
{
	struct hm_driver_bpf__rodata *rodata = s->driver->rodata;

	snprintf(rodata->hooked_func, sizeof(rodata->hooked_func), "%s", func);
	snprintf(rodata->hooked_module, sizeof(rodata->hooked_module), "%s", module ? module : "");
}
