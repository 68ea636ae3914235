// SPDX-License-Identifier: GPL-2.0
#include "event.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct type_info {
	const char *name;
	size_t size;
};

static const struct type_info type_table[HM_EV_TYPE_MAX] = {
	[HM_EV_LOCK_WAIT] = { "lock-wait", sizeof(struct hm_lock_event) },
	[HM_EV_LOCK_ACQUIRED] = { "lock-acquired", sizeof(struct hm_lock_event) },
	[HM_EV_LOCK_TRYLOCK] = { "lock-trylock", sizeof(struct hm_lock_event) },
	[HM_EV_LOCK_RELEASED] = { "lock-released", sizeof(struct hm_lock_event) },
	[HM_EV_LOCK_CLASS] = { "lock-class", sizeof(struct hm_lock_class_event) },
	[HM_EV_SRIOV_ENABLE_BEGIN] = { "sriov-enable-begin", sizeof(struct hm_sriov_event) },
	[HM_EV_SRIOV_ENABLE_END] = { "sriov-enable-end", sizeof(struct hm_sriov_event) },
	[HM_EV_SRIOV_DISABLE_BEGIN] = { "sriov-disable-begin", sizeof(struct hm_sriov_event) },
	[HM_EV_SRIOV_DISABLE_END] = { "sriov-disable-end", sizeof(struct hm_sriov_event) },
	[HM_EV_VF_ADDED] = { "vf-added", sizeof(struct hm_vf_event) },
	[HM_EV_VF_REMOVED] = { "vf-removed", sizeof(struct hm_vf_event) },
	[HM_EV_PF_REMOVED] = { "pf-removed", sizeof(struct hm_sriov_event) },
	[HM_EV_BIND_BEGIN] = { "bind-begin", sizeof(struct hm_bind_event) },
	[HM_EV_BIND_END] = { "bind-end", sizeof(struct hm_bind_event) },
	[HM_EV_UNBIND_BEGIN] = { "unbind-begin", sizeof(struct hm_bind_event) },
	[HM_EV_UNBIND_END] = { "unbind-end", sizeof(struct hm_bind_event) },
	[HM_EV_PF_DRVDATA] = { "pf-drvdata", sizeof(struct hm_drvdata_event) },
	[HM_EV_VFIO_OPEN] = { "vfio-open", sizeof(struct hm_vfio_event) },
	[HM_EV_VFIO_CLOSE] = { "vfio-close", sizeof(struct hm_vfio_event) },
	[HM_EV_VFIO_UNREGISTER_BEGIN] = { "vfio-unregister-begin", sizeof(struct hm_vfio_event) },
	[HM_EV_VFIO_UNREGISTER_END] = { "vfio-unregister-end", sizeof(struct hm_vfio_event) },
	[HM_EV_MIG_SET_STATE_BEGIN] = { "mig-set-state-begin", sizeof(struct hm_mig_event) },
	[HM_EV_MIG_SET_STATE_END] = { "mig-set-state-end", sizeof(struct hm_mig_event) },
	[HM_EV_MIG_STEP] = { "mig-step", sizeof(struct hm_mig_event) },
	[HM_EV_MIG_DATA] = { "mig-data", sizeof(struct hm_mig_data_event) },
	[HM_EV_DEVICE_RESET] = { "device-reset", sizeof(struct hm_reset_event) },
	[HM_EV_WORK_RUN_BEGIN] = { "work-run-begin", sizeof(struct hm_work_event) },
	[HM_EV_WORK_RUN_END] = { "work-run-end", sizeof(struct hm_work_event) },
	[HM_EV_WORK_FLUSH_BEGIN] = { "work-flush-begin", sizeof(struct hm_work_event) },
	[HM_EV_WORK_FLUSH_END] = { "work-flush-end", sizeof(struct hm_work_event) },
	[HM_EV_WQ_FLUSH_BEGIN] = { "wq-flush-begin", sizeof(struct hm_work_event) },
	[HM_EV_WQ_FLUSH_END] = { "wq-flush-end", sizeof(struct hm_work_event) },
	[HM_EV_COMPLETION_WAIT_BEGIN] = { "completion-wait-begin", sizeof(struct hm_work_event) },
	[HM_EV_COMPLETION_WAIT_END] = { "completion-wait-end", sizeof(struct hm_work_event) },
	[HM_EV_COMPLETE] = { "complete", sizeof(struct hm_work_event) },
	[HM_EV_LOST] = { "lost", sizeof(struct hm_lost_event) },
};

const char *hm_event_type_name(unsigned int type)
{
	if (type >= HM_EV_TYPE_MAX || !type_table[type].name)
		return "unknown";
	return type_table[type].name;
}

size_t hm_event_size(unsigned int type)
{
	return type < HM_EV_TYPE_MAX ? type_table[type].size : 0;
}

bool hm_event_valid(const void *rec, size_t len)
{
	struct hm_event_header hdr;

	if (len < sizeof(hdr))
		return false;
	memcpy(&hdr, rec, sizeof(hdr));
	return hdr.size == len && hm_event_size(hdr.type) == len;
}

struct hm_event_header hm_event_own_header(unsigned int type, uint32_t cpu, uint64_t ts_ns)
{
	struct hm_event_header hdr = { .type = (__u16)type, .size = (__u16)hm_event_size(type),
				       .cpu = cpu, .ts_ns = ts_ns, .pid = (__u32)getpid(),
				       .tid = (__u32)getpid(), .stack_id = -1 };

	snprintf(hdr.comm, sizeof(hdr.comm), "hisimig-trace");
	return hdr;
}

static const char *const mig_state_names[HM_MIG_NR_STATES] = {
	[HM_MIG_ERROR] = "ERROR",       [HM_MIG_STOP] = "STOP",
	[HM_MIG_RUNNING] = "RUNNING",   [HM_MIG_STOP_COPY] = "STOP_COPY",
	[HM_MIG_RESUMING] = "RESUMING", [HM_MIG_RUNNING_P2P] = "RUNNING_P2P",
	[HM_MIG_PRE_COPY] = "PRE_COPY", [HM_MIG_PRE_COPY_P2P] = "PRE_COPY_P2P",
};

const char *hm_mig_state_name(unsigned int state)
{
	return state < HM_MIG_NR_STATES ? mig_state_names[state] : "UNKNOWN";
}

unsigned int hm_mig_state_parse(const char *name)
{
	for (unsigned int s = 0; s < HM_MIG_NR_STATES; s++)
		if (strcasecmp(name, mig_state_names[s]) == 0)
			return s;
	return HM_MIG_UNKNOWN;
}

const char *hm_role_name(unsigned int role)
{
	switch (role) {
	case HM_ROLE_PF: return "pf";
	case HM_ROLE_VF: return "vf";
	default: return "other";
	}
}

const char *hm_lock_type_name(unsigned int lock_type)
{
	switch (lock_type) {
	case HM_LOCK_DEVICE_MUTEX: return "device_lock";
	case HM_LOCK_MUTEX: return "mutex";
	case HM_LOCK_RWSEM_READ: return "rwsem(read)";
	case HM_LOCK_RWSEM_WRITE: return "rwsem(write)";
	default: return "lock";
	}
}

const struct hm_device *hm_event_device(const union hm_event *ev)
{
	switch (ev->hdr.type) {
	case HM_EV_LOCK_WAIT:
	case HM_EV_LOCK_ACQUIRED:
	case HM_EV_LOCK_TRYLOCK:
	case HM_EV_LOCK_RELEASED:
		return ev->lock.lock_type == HM_LOCK_DEVICE_MUTEX ? &ev->lock.dev : NULL;
	case HM_EV_SRIOV_ENABLE_BEGIN:
	case HM_EV_SRIOV_ENABLE_END:
	case HM_EV_SRIOV_DISABLE_BEGIN:
	case HM_EV_SRIOV_DISABLE_END:
	case HM_EV_PF_REMOVED:
		return &ev->sriov.pf;
	case HM_EV_VF_ADDED:
	case HM_EV_VF_REMOVED:
		return &ev->vf.vf;
	case HM_EV_BIND_BEGIN:
	case HM_EV_BIND_END:
	case HM_EV_UNBIND_BEGIN:
	case HM_EV_UNBIND_END:
		return &ev->bind.dev;
	case HM_EV_PF_DRVDATA:
		return &ev->drvdata.vf;
	case HM_EV_VFIO_OPEN:
	case HM_EV_VFIO_CLOSE:
	case HM_EV_VFIO_UNREGISTER_BEGIN:
	case HM_EV_VFIO_UNREGISTER_END:
		return &ev->vfio.dev;
	case HM_EV_MIG_SET_STATE_BEGIN:
	case HM_EV_MIG_SET_STATE_END:
	case HM_EV_MIG_STEP:
		return &ev->mig.dev;
	case HM_EV_MIG_DATA:
		return &ev->data.dev;
	case HM_EV_DEVICE_RESET:
		return &ev->reset.dev;
	default:
		return NULL;
	}
}

char *hm_bdf_format(const struct hm_bdf *bdf, char buf[HM_BDF_STR_LEN])
{
	if (!bdf->valid)
		snprintf(buf, HM_BDF_STR_LEN, "-");
	else
		snprintf(buf, HM_BDF_STR_LEN, "%04x:%02x:%02x.%u", bdf->domain & 0xffff,
			 bdf->bus, bdf->devfn >> 3, bdf->devfn & 7);
	return buf;
}

bool hm_bdf_equal(const struct hm_bdf *a, const struct hm_bdf *b)
{
	return a->valid && b->valid && a->domain == b->domain && a->bus == b->bus &&
	       a->devfn == b->devfn;
}

bool hm_bdf_parse(const char *text, struct hm_bdf *out)
{
	unsigned int domain, bus, slot, fn;
	int used = 0;

	if (sscanf(text, "%x:%x:%x.%u%n", &domain, &bus, &slot, &fn, &used) != 4 ||
	    text[used] || bus > 0xff || slot > 0x1f || fn > 7)
		return false;
	*out = (struct hm_bdf){ .domain = domain, .bus = (__u8)bus,
				.devfn = (__u8)(slot << 3 | fn), .valid = 1 };
	return true;
}

char *hm_device_class(const struct hm_device *dev, char buf[HM_CLASS_STR_LEN])
{
	snprintf(buf, HM_CLASS_STR_LEN, "%s:%.*s", hm_role_name(dev->role), HM_DRIVER_LEN,
		 dev->driver[0] ? dev->driver : "(no driver)");
	return buf;
}

char *hm_device_format(const struct hm_device *dev, char buf[HM_DEVICE_STR_LEN])
{
	char bdf[HM_BDF_STR_LEN], pf[HM_BDF_STR_LEN], cls[HM_CLASS_STR_LEN];

	hm_bdf_format(&dev->bdf, bdf);
	hm_device_class(dev, cls);
	if (dev->role == HM_ROLE_VF && dev->pf_bdf.valid)
		snprintf(buf, HM_DEVICE_STR_LEN, "%s (%s of %s)", bdf, cls,
			 hm_bdf_format(&dev->pf_bdf, pf));
	else
		snprintf(buf, HM_DEVICE_STR_LEN, "%s (%s)", bdf, cls);
	return buf;
}
