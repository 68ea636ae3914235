// SPDX-License-Identifier: GPL-2.0
#include "lock_names.h"

#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "targets.h"
#include "u64map.h"

struct hm_lock_names {
	int learned_fd;
	uint64_t known[HM_MAX_KNOWN_LOCKS];
	struct u64map named;          /* lock addresses seen (named or not) */
};

struct hm_lock_names *hm_lock_names_new(int learned_fd, const uint64_t known[HM_MAX_KNOWN_LOCKS])
{
	struct hm_lock_names *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->learned_fd = learned_fd;
	memcpy(n->known, known, sizeof(n->known));
	u64map_init(&n->named);
	return n;
}

void hm_lock_names_free(struct hm_lock_names *n)
{
	if (!n)
		return;
	u64map_free(&n->named);
	free(n);
}

static const char *learned_name(const struct hm_lock_names *n, uint64_t addr, char *buf, size_t len)
{
	static const char *const names[] = {
		[HM_LEARNED_VFIO_DEV_SET] = "vfio_device_set.lock",
		[HM_LEARNED_VFIO_GROUP] = "vfio_group.group_lock",
		[HM_LEARNED_VFIO_GROUP_DEVS] = "vfio_group.device_lock",
		[HM_LEARNED_VFIO_MEMORY] = "vfio_pci_core_device.memory_lock",
		[HM_LEARNED_VFIO_VMA] = "vfio_pci_core_device.vma_lock",
		[HM_LEARNED_MIG_FILE] = NULL, /* <driver>:migf.lock */
	};
	struct hm_learned owner;

	/* forgotten already (its device unbound), or a kind newer than us */
	if (bpf_map_lookup_elem(n->learned_fd, &addr, &owner) ||
	    owner.kind >= sizeof(names) / sizeof(names[0]))
		return "vfio learned lock";
	if (owner.kind != HM_LEARNED_STATE_MUTEX && owner.kind != HM_LEARNED_MIG_FILE)
		return names[owner.kind];
	snprintf(buf, len, "%.*s:%s", HM_DRIVER_LEN,
		 owner.dev.driver[0] ? owner.dev.driver : "migration",
		 owner.kind == HM_LEARNED_MIG_FILE ? "migf.lock" : "state_mutex");
	return buf;
}

static const char *class_name(const struct hm_lock_names *n, const struct hm_lock_event *e,
			      char *buf, size_t len)
{
	if (e->origin == HM_LOCK_ORIGIN_MMAP)
		return "mmap_lock";
	if (e->origin == HM_LOCK_ORIGIN_LEARNED)
		return learned_name(n, e->lock_addr, buf, len);
	for (size_t i = 0; i < hm_known_lock_count && i < HM_MAX_KNOWN_LOCKS; i++)
		if (n->known[i] && n->known[i] == e->lock_addr)
			return hm_known_locks[i].symbol;
	return NULL;
}

bool hm_lock_names_first(struct hm_lock_names *n, const struct hm_lock_event *e,
			 struct hm_lock_class_event *rec)
{
	const char *name;
	char buf[sizeof(rec->name)];

	if (e->lock_type == HM_LOCK_DEVICE_MUTEX || u64map_get(&n->named, e->lock_addr))
		return false;
	u64map_put(&n->named, e->lock_addr, n);
	name = class_name(n, e, buf, sizeof(buf));
	if (!name)
		return false;
	*rec = (struct hm_lock_class_event){
		.hdr = hm_event_own_header(HM_EV_LOCK_CLASS, e->hdr.cpu, e->hdr.ts_ns),
		.lock_addr = e->lock_addr,
		.origin = e->origin,
	};
	snprintf(rec->name, sizeof(rec->name), "%s", name);
	return true;
}

void hm_lock_names_forget(struct hm_lock_names *n, const struct hm_bdf *bdf)
{
	uint64_t addr, next, gone[HM_MAX_LEARNED_LOCKS];
	struct hm_learned owner;
	int count = 0;

	if (bdf && !bdf->valid)
		return;
	for (int more = !bpf_map_get_next_key(n->learned_fd, NULL, &next); more;) {
		addr = next;
		more = !bpf_map_get_next_key(n->learned_fd, &addr, &next);
		if (count < HM_MAX_LEARNED_LOCKS && !bpf_map_lookup_elem(n->learned_fd, &addr, &owner) &&
		    (bdf ? !memcmp(&owner.dev.bdf, bdf, sizeof(*bdf)) : owner.released))
			gone[count++] = addr;
	}
	for (int i = 0; i < count; i++) {
		bpf_map_delete_elem(n->learned_fd, &gone[i]);
		u64map_del(&n->named, gone[i]);
	}
}
