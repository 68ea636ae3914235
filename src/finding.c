// SPDX-License-Identifier: GPL-2.0
#include "finding.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kind_info {
	const char *name;
	enum hm_severity severity;
	const char *title;
	const char *explanation;
	const char *fix;
};

static const struct kind_info kinds[HM_FIND_KIND_MAX] = {
	[HM_FIND_VF_PF_ORDER] = {
		"vf-pf-lock-order", HM_SEV_ERROR,
		"PF/VF device lock order violation: VF lock held while taking the PF lock",
		"The PCI core takes device_lock(PF) first and device_lock(VF) second: "
		"sriov_numvfs_store() and PF driver remove() hold the PF lock while "
		"pci_disable_sriov() takes each VF's lock to unbind its driver. A VF path "
		"that takes device_lock(PF) while its own lock is held deadlocks against "
		"SR-IOV disable.",
		"Do not lock the PF from a VF driver. Reach the PF's driver data with "
		"pci_iov_get_pf_drvdata(), whose lifetime is guaranteed by the SR-IOV "
		"enable/disable interlock (the PF driver calls pci_disable_sriov() before it "
		"frees its drvdata)." },
	[HM_FIND_VF_PF_TRYLOCK] = {
		"vf-pf-trylock", HM_SEV_WARNING,
		"PF device lock trylocked while a VF lock is held",
		"A trylock cannot deadlock, but the VF path now fails or skips its work "
		"whenever the PF lock is busy (e.g. during SR-IOV disable), so it only hides "
		"the ordering problem. This approach was rejected upstream.",
		"Replace the trylock with pci_iov_get_pf_drvdata(); if the VF needs the PF "
		"to stay bound, rely on the SR-IOV disable interlock, not on the PF lock." },
	[HM_FIND_LOCK_CYCLE] = {
		"lock-order-cycle", HM_SEV_ERROR,
		"possible circular locking dependency detected",
		"The lock classes below were taken in an order that forms a cycle. Each edge "
		"was observed at some point; if the paths run concurrently they deadlock. "
		"Lockdep cannot see this because device mutexes are in its no-validate class.",
		"Pick one global order for these locks (for PCI devices: PF before VF, "
		"parent before child) and change the path that takes them the other way." },
	[HM_FIND_DEADLOCK] = {
		"deadlock", HM_SEV_ERROR,
		"DEADLOCK: tasks wait for each other's locks",
		"Every task below waits for a lock held by the next one; none of them can "
		"proceed.",
		"Break the cycle by taking the locks in one global order (PF before VF)." },
	[HM_FIND_DRVDATA_AFTER_PF_UNBIND] = {
		"pf-drvdata-after-unbind", HM_SEV_ERROR,
		"PF driver data used after the PF driver began to unbind",
		"The VF driver fetched or used its PF's driver data while the PF driver was "
		"unbinding or gone; that memory may be freed.",
		"Fetch PF driver data only with pci_iov_get_pf_drvdata() while the VF driver "
		"is bound, and make the PF driver call pci_disable_sriov() before it tears "
		"down its drvdata so that VF drivers are removed first." },
	[HM_FIND_DRVDATA_OUTSIDE_BIND] = {
		"pf-drvdata-outside-bind", HM_SEV_ERROR,
		"PF driver data reached outside the VF driver's bound span",
		"pci_iov_get_pf_drvdata() is only valid between the VF driver's probe() and "
		"the end of its remove(); outside that span the PF may be unbound at any "
		"time.",
		"Fetch the PF data in probe() (or later, while bound) and stop using it "
		"before remove() returns." },
	[HM_FIND_VF_OUTLIVES_SRIOV] = {
		"vf-outlives-sriov", HM_SEV_ERROR,
		"VF still present after SR-IOV disable finished",
		"SR-IOV disable returned while a VF of that PF was still registered.",
		"Make sure every VF is removed (pci_iov_remove_virtfn) before VF Enable is "
		"cleared." },
	[HM_FIND_SRIOV_DISABLE_BLOCKED] = {
		"sriov-disable-blocked", HM_SEV_WARNING,
		"SR-IOV disable blocked for a long time",
		"pci_disable_sriov() holds the PF's device lock while it waits, typically for "
		"a VFIO user to release a VF (vfio_unregister_group_dev's request loop).",
		"Have the VFIO user (e.g. QEMU) close the VF's device fd when it is asked, or "
		"detach the VF from its user before disabling SR-IOV." },
	[HM_FIND_MIG_ILLEGAL_ARC] = {
		"mig-illegal-arc", HM_SEV_ERROR,
		"illegal VFIO migration state transition",
		"The VFIO migration uAPI v2 state machine (vfio_mig_get_next_state) does "
		"not allow this arc for a device with these capabilities.",
		"Request only arcs the FSM allows; drivers must act on the single-step arcs "
		"the core hands them." },
	[HM_FIND_MIG_FAILED] = {
		"mig-transition-failed", HM_SEV_ERROR,
		"VFIO migration state transition failed",
		"The driver's migration_set_state() returned an error.",
		"Check the driver's arc handler for this transition; userspace must reset "
		"the device if it is left in ERROR." },
	[HM_FIND_MIG_ERROR_STATE] = {
		"mig-error-state", HM_SEV_ERROR,
		"device entered the VFIO migration ERROR state",
		"Only a device reset leaves ERROR; the migration is lost.",
		"Find the failing arc (see the transition above) and reset the device." },
	[HM_FIND_MIG_STATE_TOO_LONG] = {
		"mig-state-too-long", HM_SEV_WARNING,
		"device stayed in a migration state too long",
		"A device held a non-RUNNING migration state longer than the threshold.",
		"Check the migration client: it may have stalled between arcs." },
	[HM_FIND_MIG_DOWNTIME] = {
		"mig-downtime", HM_SEV_WARNING,
		"stop-copy downtime over budget",
		"The device was stopped (not running) for longer than the downtime budget "
		"while its state was saved.",
		"Use PRE_COPY to move state before stopping, or shorten the stop-copy save." },
	[HM_FIND_MIG_CONCURRENT] = {
		"mig-concurrent-set-state", HM_SEV_ERROR,
		"two tasks changed one device's migration state at once",
		"Migration state changes of one device must be serialised (the driver's "
		"state mutex); concurrent callers race on the FSM.",
		"Serialise set-state calls per device in the driver and in the client." },
	[HM_FIND_MIG_RESET] = {
		"mig-reset-during-migration", HM_SEV_WARNING,
		"device reset during a migration",
		"A reset returns the device to RUNNING and invalidates open migration data "
		"files; the migration in progress is lost.",
		"Do not reset a device mid-migration; drivers must handle reset_done by "
		"resetting their FSM (as hisi_acc_vfio_pci's deferred reset does)." },
	[HM_FIND_MIG_DEVICE_GONE] = {
		"mig-device-gone", HM_SEV_ERROR,
		"VF removed or unbound in the middle of a migration",
		"The device under migration went away before its migration finished.",
		"Finish or cancel the migration (back to RUNNING) before unbinding or "
		"removing the VF." },
	[HM_FIND_MIG_SRIOV_DISABLE] = {
		"mig-sriov-disable", HM_SEV_ERROR,
		"SR-IOV disabled on the PF while one of its VFs migrates",
		"Disabling SR-IOV removes the VF that is being migrated.",
		"Block SR-IOV disable (or PF unbind) while VFs are assigned or migrating." },
	[HM_FIND_LOST_EVENTS] = {
		"lost-events", HM_SEV_WARNING,
		"events were lost",
		"The ring buffer was full; the analysis is missing events and may miss or "
		"misreport findings.",
		"Increase the ring buffer (--ringbuf-kb) or trace less (--locks focused)." },
	[HM_FIND_VFIO_USER_WAIT] = {
		"vfio-user-wait", HM_SEV_WARNING,
		"the kernel has waited long for a VFIO user to release a device",
		"vfio_unregister_group_dev() (VF unbind, SR-IOV disable) asks the device's "
		"user to close it and waits, holding the device locks of its callers; "
		"every task that needs those locks waits too.",
		"Have the VFIO user close the device when its request eventfd fires, or "
		"detach the device from its user before unbinding it." },
	[HM_FIND_SRIOV_LEFT_ENABLED] = {
		"sriov-left-enabled", HM_SEV_WARNING,
		"PF driver unbound while its VFs still exist (SR-IOV left enabled)",
		"pci_device_remove() only warns \"driver left SR-IOV enabled after remove\" "
		"(pci_iov_remove): the VFs stay, still bound to their drivers, with no PF "
		"driver behind them. A VF driver that took the PF's driver data "
		"(pci_iov_get_pf_drvdata) now holds a pointer into freed memory, and a new "
		"PF driver cannot enable SR-IOV until the VFs go.",
		"Call pci_disable_sriov() in the PF driver's remove() (unless the VFs are "
		"meant to outlive it: then no VF driver may use the PF's driver data)." },
	[HM_FIND_PF_REMOVED_WITH_VFS] = {
		"pf-removed-with-vfs", HM_SEV_ERROR,
		"PF device removed while its VFs still exist",
		"The PF's struct pci_dev was removed from the bus while VF Enable was still "
		"set: the VFs keep a physfn pointer to a removed device, their config "
		"accesses and a later rescan (which finds the PF with VFs still enabled) "
		"can oops.",
		"Disable SR-IOV (echo 0 > sriov_numvfs, or pci_disable_sriov() in the PF "
		"driver's remove()) before removing the PF." },
	[HM_FIND_SRIOV_ENABLE_FAILED] = {
		"sriov-enable-failed", HM_SEV_WARNING,
		"SR-IOV enable failed: VFs left by a removed PF driver still exist",
		"sriov_enable() refuses while num_VFs is non-zero (-EINVAL; sriov_numvfs_store "
		"says -EBUSY): the VFs a previous PF driver left enabled block every new "
		"enable until they are removed.",
		"Disable SR-IOV first (echo 0 > sriov_numvfs), and fix the PF driver that "
		"left it enabled." },
	[HM_FIND_KNOWN_ORDER_REVERSAL] = {
		"known-order-reversal", HM_SEV_ERROR,
		"lock order reversal: a lock taken against a known good order",
		"The kernel (or this project, in its --blessed file) takes these two locks in "
		"the other order, as cited below. This path reverses it: when both run at once "
		"they deadlock, even if this trace never saw the other order run.",
		"Take the locks in the known order, or drop the held lock first. If the new "
		"order is intended, bless it in a --blessed file and change the other paths." },
};

static const struct kind_info *kind_info(enum hm_finding_kind kind)
{
	static const struct kind_info unknown = { "unknown", HM_SEV_ERROR, "unknown finding",
						  "", "" };
	return (unsigned int)kind < HM_FIND_KIND_MAX ? &kinds[kind] : &unknown;
}

const char *hm_finding_kind_name(enum hm_finding_kind kind) { return kind_info(kind)->name; }
const char *hm_finding_kind_title(enum hm_finding_kind kind) { return kind_info(kind)->title; }
const char *hm_finding_kind_explanation(enum hm_finding_kind kind)
{
	return kind_info(kind)->explanation;
}
const char *hm_finding_kind_fix(enum hm_finding_kind kind) { return kind_info(kind)->fix; }
enum hm_severity hm_finding_kind_severity(enum hm_finding_kind kind)
{
	return kind_info(kind)->severity;
}

static const char *const severity_names[] = { "info", "warning", "error" };

const char *hm_severity_name(enum hm_severity sev)
{
	return (unsigned int)sev <= HM_SEV_ERROR ? severity_names[sev] : "unknown";
}

bool hm_severity_parse(const char *name, enum hm_severity *out)
{
	for (unsigned int s = 0; s <= HM_SEV_ERROR; s++) {
		if (strcmp(name, severity_names[s]) == 0) {
			*out = (enum hm_severity)s;
			return true;
		}
	}
	return false;
}

void hm_finding_init(struct hm_finding *f, enum hm_finding_kind kind, uint64_t ts_ns)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->severity = hm_finding_kind_severity(kind);
	f->ts_ns = ts_ns;
	f->fingerprint = hm_hash_bytes(HM_HASH_INIT, &kind, sizeof(kind));
}

void hm_finding_summary(struct hm_finding *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->summary, sizeof(f->summary), fmt, ap);
	va_end(ap);
}

void hm_finding_add_device(struct hm_finding *f, const struct hm_device *dev)
{
	for (unsigned int i = 0; i < f->ndevices; i++)
		if (f->devices[i].dev_addr == dev->dev_addr)
			return;
	if (f->ndevices < HM_FINDING_MAX_DEVICES)
		f->devices[f->ndevices++] = *dev;
}

void hm_finding_add_evidence(struct hm_finding *f, const struct hm_event_header *hdr,
			     const char *fmt, ...)
{
	struct hm_evidence *e;
	va_list ap;

	if (f->nevidence >= HM_FINDING_MAX_EVIDENCE)
		return;
	e = &f->evidence[f->nevidence++];
	va_start(ap, fmt);
	vsnprintf(e->label, sizeof(e->label), fmt, ap);
	va_end(ap);
	e->ts_ns = hdr->ts_ns;
	e->pid = hdr->pid;
	e->tid = hdr->tid;
	e->stack_id = hdr->stack_id;
	memcpy(e->comm, hdr->comm, sizeof(e->comm));
	e->comm[sizeof(e->comm) - 1] = '\0';
}

void hm_finding_detail(struct hm_finding *f, const char *fmt, ...)
{
	size_t old = f->detail ? strlen(f->detail) : 0;
	va_list ap;
	int add;
	char *grown;

	va_start(ap, fmt);
	add = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (add < 0)
		return;
	grown = realloc(f->detail, old + (size_t)add + 2);
	if (!grown)
		return;
	va_start(ap, fmt);
	vsnprintf(grown + old, (size_t)add + 1, fmt, ap);
	va_end(ap);
	grown[old + (size_t)add] = '\n';
	grown[old + (size_t)add + 1] = '\0';
	f->detail = grown;
}

void hm_finding_release(struct hm_finding *f)
{
	free(f->detail);
	f->detail = NULL;
}

void hm_finding_copy(struct hm_finding *dst, const struct hm_finding *src)
{
	*dst = *src;
	dst->detail = src->detail ? strdup(src->detail) : NULL;
}

uint64_t hm_hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t hm_hash_str(uint64_t h, const char *s)
{
	return hm_hash_bytes(h, s, strlen(s) + 1);
}

uint64_t hm_fp_device(uint64_t h, const struct hm_device *dev)
{
	if (dev->bdf.valid) {
		uint32_t bdf[3] = { dev->bdf.domain, dev->bdf.bus, dev->bdf.devfn };

		return hm_hash_bytes(h, bdf, sizeof(bdf));
	}
	return hm_hash_bytes(h, &dev->dev_addr, sizeof(dev->dev_addr));
}

uint64_t hm_fp_u32(uint64_t h, uint32_t value)
{
	return hm_hash_bytes(h, &value, sizeof(value));
}

char *hm_format_duration(uint64_t ns, char buf[HM_DURATION_STR_LEN])
{
	if (ns >= 1000000000ULL)
		snprintf(buf, HM_DURATION_STR_LEN, "%.3f s", (double)ns / 1e9);
	else if (ns >= 1000000ULL)
		snprintf(buf, HM_DURATION_STR_LEN, "%.3f ms", (double)ns / 1e6);
	else if (ns >= 1000ULL)
		snprintf(buf, HM_DURATION_STR_LEN, "%.3f us", (double)ns / 1e3);
	else
		snprintf(buf, HM_DURATION_STR_LEN, "%llu ns", (unsigned long long)ns);
	return buf;
}
