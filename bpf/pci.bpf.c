// SPDX-License-Identifier: GPL-2.0
/*
 * SR-IOV and PCI device lifetimes: SR-IOV enable/disable on the PF, VFs added
 * and removed, driver bind/unbind, a VF driver reaching its PF's drvdata, and
 * function resets. fentry/fexit and kprobe/kretprobe twins share one body.
 */
#include "common.bpf.h"
#include "drvdata.bpf.h"

enum pci_func {
	F_SRIOV_ENABLE = 1,
	F_SRIOV_DISABLE,
	F_ADD_VIRTFN,
	F_REMOVE_VIRTFN,
	F_PROBE,
	F_REMOVE,
	F_PF_DRVDATA,
	F_RESET,
};

/* ---- SR-IOV enable/disable (device = the PF) ---- */

static __always_inline __s32 num_vfs(struct pci_dev *pf)
{
	return BPF_CORE_READ(pf, sriov, num_VFs);
}

static __always_inline int sriov_event(void *ctx, __u16 type, struct pci_dev *pf, __s32 nr,
				       __s32 ret)
{
	struct hm_sriov_event *e;

	if (!HM_RESERVE(e, ctx, type, true))
		return 0;
	hm_fill_pci_device(&e->pf, pf);
	e->num_vfs = nr;
	e->ret = ret;
	hm_submit(e);
	return 0;
}

SEC("fentry/sriov_enable")
int BPF_PROG(sriov_enable_fentry, struct pci_dev *pf, int nr)
{
	return sriov_event(ctx, HM_EV_SRIOV_ENABLE_BEGIN, pf, nr, 0);
}

SEC("fexit/sriov_enable")
int BPF_PROG(sriov_enable_fexit, struct pci_dev *pf, int nr, int ret)
{
	return sriov_event(ctx, HM_EV_SRIOV_ENABLE_END, pf, ret ? num_vfs(pf) : nr, ret);
}

SEC("kprobe/sriov_enable")
int BPF_KPROBE(sriov_enable_kprobe, struct pci_dev *pf, int nr)
{
	hm_stash_push(F_SRIOV_ENABLE, (__u64)pf, nr, 0, 0);
	return sriov_event(ctx, HM_EV_SRIOV_ENABLE_BEGIN, pf, nr, 0);
}

SEC("kretprobe/sriov_enable")
int BPF_KRETPROBE(sriov_enable_kretprobe, int ret)
{
	struct hm_args a;
	struct pci_dev *pf;

	if (!hm_stash_pop(F_SRIOV_ENABLE, &a))
		return 0;
	pf = (void *)a.a[0];
	return sriov_event(ctx, HM_EV_SRIOV_ENABLE_END, pf, ret ? num_vfs(pf) : (__s32)a.a[1],
			   ret);
}

SEC("fentry/sriov_disable")
int BPF_PROG(sriov_disable_fentry, struct pci_dev *pf)
{
	return sriov_event(ctx, HM_EV_SRIOV_DISABLE_BEGIN, pf, num_vfs(pf), 0);
}

SEC("fexit/sriov_disable")
int BPF_PROG(sriov_disable_fexit, struct pci_dev *pf)
{
	return sriov_event(ctx, HM_EV_SRIOV_DISABLE_END, pf, num_vfs(pf), 0);
}

SEC("kprobe/sriov_disable")
int BPF_KPROBE(sriov_disable_kprobe, struct pci_dev *pf)
{
	hm_stash_push(F_SRIOV_DISABLE, (__u64)pf, 0, 0, 0);
	return sriov_event(ctx, HM_EV_SRIOV_DISABLE_BEGIN, pf, num_vfs(pf), 0);
}

SEC("kretprobe/sriov_disable")
int BPF_KRETPROBE(sriov_disable_kretprobe)
{
	struct hm_args a;
	struct pci_dev *pf;

	if (!hm_stash_pop(F_SRIOV_DISABLE, &a))
		return 0;
	pf = (void *)a.a[0];
	return sriov_event(ctx, HM_EV_SRIOV_DISABLE_END, pf, num_vfs(pf), 0);
}

/*
 * ---- VFs added and removed ----
 * pci_iov_add_virtfn(pf, id) allocates the VF inside; pci_iov_remove_virtfn
 * looks it up inside. Their inner pci_device_add() / pci_stop_and_remove_bus_device()
 * calls name the VF: remember it per task, report at the outer function's exit
 * (removal: with the identity taken while the VF still existed).
 */
struct vf_pending {
	__u64 pf;
	__u64 vf;
	struct hm_device ident;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tid */
	__type(value, struct vf_pending);
} vf_pending SEC(".maps");

static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

static __always_inline int vf_begin(struct pci_dev *pf)
{
	struct vf_pending p = { .pf = (__u64)pf };

	bpf_map_update_elem(&vf_pending, &(__u32){ current_tid() }, &p, BPF_ANY);
	return 0;
}

/* Inner call: the VF being added or removed by this task, if any. */
static __always_inline int vf_seen(struct pci_dev *dev, bool removing)
{
	struct vf_pending *p = bpf_map_lookup_elem(&vf_pending, &(__u32){ current_tid() });

	if (!p || p->vf || !BPF_CORE_READ_BITFIELD_PROBED(dev, is_virtfn))
		return 0;
	p->vf = (__u64)dev;
	if (removing)
		hm_fill_pci_device(&p->ident, dev);
	return 0;
}

static __always_inline int vf_end(void *ctx, __u16 type, __s32 ret)
{
	__u32 tid = current_tid();
	struct vf_pending *p = bpf_map_lookup_elem(&vf_pending, &tid);
	struct hm_vf_event *e;

	if (!p)
		return 0;
	if (!ret && p->vf && HM_RESERVE(e, ctx, type, true)) {
		if (type == HM_EV_VF_ADDED)
			hm_fill_pci_device(&e->vf, (void *)p->vf);
		else
			e->vf = p->ident;
		e->pf_dev_addr = (__u64)hm_pci_dev_device((void *)p->pf);
		hm_submit(e);
	}
	bpf_map_delete_elem(&vf_pending, &tid);
	return 0;
}

SEC("fentry/pci_iov_add_virtfn")
int BPF_PROG(pci_iov_add_virtfn_fentry, struct pci_dev *pf)
{
	return vf_begin(pf);
}

SEC("fexit/pci_iov_add_virtfn")
int BPF_PROG(pci_iov_add_virtfn_fexit, struct pci_dev *pf, int id, int ret)
{
	return vf_end(ctx, HM_EV_VF_ADDED, ret);
}

SEC("kprobe/pci_iov_add_virtfn")
int BPF_KPROBE(pci_iov_add_virtfn_kprobe, struct pci_dev *pf)
{
	return vf_begin(pf);
}

SEC("kretprobe/pci_iov_add_virtfn")
int BPF_KRETPROBE(pci_iov_add_virtfn_kretprobe, int ret)
{
	return vf_end(ctx, HM_EV_VF_ADDED, ret);
}

SEC("fentry/pci_device_add")
int BPF_PROG(pci_device_add_fentry, struct pci_dev *dev)
{
	return vf_seen(dev, false);
}

SEC("kprobe/pci_device_add")
int BPF_KPROBE(pci_device_add_kprobe, struct pci_dev *dev)
{
	return vf_seen(dev, false);
}

SEC("fentry/pci_iov_remove_virtfn")
int BPF_PROG(pci_iov_remove_virtfn_fentry, struct pci_dev *pf)
{
	return vf_begin(pf);
}

SEC("fexit/pci_iov_remove_virtfn")
int BPF_PROG(pci_iov_remove_virtfn_fexit, struct pci_dev *pf)
{
	return vf_end(ctx, HM_EV_VF_REMOVED, 0);
}

SEC("kprobe/pci_iov_remove_virtfn")
int BPF_KPROBE(pci_iov_remove_virtfn_kprobe, struct pci_dev *pf)
{
	return vf_begin(pf);
}

SEC("kretprobe/pci_iov_remove_virtfn")
int BPF_KRETPROBE(pci_iov_remove_virtfn_kretprobe)
{
	return vf_end(ctx, HM_EV_VF_REMOVED, 0);
}

/*
 * A PF removed from its bus (sysfs remove, hot-unplug): who it was and how
 * many VFs it had enabled, read at entry; sent at exit, when its driver's
 * remove() has run (and removed the VFs, or not). A VF's removal is the
 * inner call of pci_iov_remove_virtfn above.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* tid */
	__type(value, struct hm_sriov_event);
} pf_removing SEC(".maps");

static __always_inline int device_removing(void *ctx, struct pci_dev *dev)
{
	struct hm_sriov_event pending = {};

	vf_seen(dev, true);
	if (!BPF_CORE_READ_BITFIELD_PROBED(dev, is_physfn))
		return 0;
	hm_header(ctx, &pending.hdr, HM_EV_PF_REMOVED, sizeof(pending), true);
	hm_fill_pci_device(&pending.pf, dev);
	pending.num_vfs = num_vfs(dev);
	bpf_map_update_elem(&pf_removing, &(__u32){ current_tid() }, &pending, BPF_ANY);
	return 0;
}

static __always_inline int device_removed(void)
{
	__u32 tid = current_tid();
	struct hm_sriov_event *pending = bpf_map_lookup_elem(&pf_removing, &tid);
	struct hm_sriov_event *e;

	if (!pending)
		return 0;
	e = hm_reserve(sizeof(*e));
	if (e) {
		__builtin_memcpy(e, pending, sizeof(*e));
		e->hdr.ts_ns = bpf_ktime_get_ns();
		hm_submit(e);
	}
	bpf_map_delete_elem(&pf_removing, &tid);
	return 0;
}

SEC("fentry/pci_stop_and_remove_bus_device")
int BPF_PROG(pci_stop_and_remove_bus_device_fentry, struct pci_dev *dev)
{
	return device_removing(ctx, dev);
}

SEC("fexit/pci_stop_and_remove_bus_device")
int BPF_PROG(pci_stop_and_remove_bus_device_fexit, struct pci_dev *dev)
{
	return device_removed();
}

SEC("kprobe/pci_stop_and_remove_bus_device")
int BPF_KPROBE(pci_stop_and_remove_bus_device_kprobe, struct pci_dev *dev)
{
	return device_removing(ctx, dev);
}

SEC("kretprobe/pci_stop_and_remove_bus_device")
int BPF_KRETPROBE(pci_stop_and_remove_bus_device_kretprobe)
{
	return device_removed();
}

/* ---- driver bind/unbind (dev->driver is set before probe and kept until
 * remove returns, so the driver name is known at both ends) ---- */

static __always_inline int bind_event(void *ctx, __u16 type, struct device *dev, __s32 ret)
{
	struct hm_bind_event *e;

	if (!HM_RESERVE(e, ctx, type, true))
		return 0;
	hm_fill_device(&e->dev, dev);
	e->ret = ret;
	e->pad = 0;
	hm_submit(e);
	return 0;
}

static __always_inline int bind_ret_stashed(void *ctx, __u16 func, __u16 type, __s32 ret)
{
	struct hm_args a;

	return hm_stash_pop(func, &a) ? bind_event(ctx, type, (void *)a.a[0], ret) : 0;
}

SEC("fentry/pci_device_probe")
int BPF_PROG(pci_device_probe_fentry, struct device *dev)
{
	return bind_event(ctx, HM_EV_BIND_BEGIN, dev, 0);
}

SEC("fexit/pci_device_probe")
int BPF_PROG(pci_device_probe_fexit, struct device *dev, int ret)
{
	return bind_event(ctx, HM_EV_BIND_END, dev, ret);
}

SEC("kprobe/pci_device_probe")
int BPF_KPROBE(pci_device_probe_kprobe, struct device *dev)
{
	hm_stash_push(F_PROBE, (__u64)dev, 0, 0, 0);
	return bind_event(ctx, HM_EV_BIND_BEGIN, dev, 0);
}

SEC("kretprobe/pci_device_probe")
int BPF_KRETPROBE(pci_device_probe_kretprobe, int ret)
{
	return bind_ret_stashed(ctx, F_PROBE, HM_EV_BIND_END, ret);
}

SEC("fentry/pci_device_remove")
int BPF_PROG(pci_device_remove_fentry, struct device *dev)
{
	return bind_event(ctx, HM_EV_UNBIND_BEGIN, dev, 0);
}

SEC("fexit/pci_device_remove")
int BPF_PROG(pci_device_remove_fexit, struct device *dev)
{
	return bind_event(ctx, HM_EV_UNBIND_END, dev, 0);
}

SEC("kprobe/pci_device_remove")
int BPF_KPROBE(pci_device_remove_kprobe, struct device *dev)
{
	hm_stash_push(F_REMOVE, (__u64)dev, 0, 0, 0);
	return bind_event(ctx, HM_EV_UNBIND_BEGIN, dev, 0);
}

SEC("kretprobe/pci_device_remove")
int BPF_KRETPROBE(pci_device_remove_kretprobe)
{
	return bind_ret_stashed(ctx, F_REMOVE, HM_EV_UNBIND_END, 0);
}

/* ---- pci_iov_get_pf_drvdata(vf, pf_driver): what the VF driver got ---- */

const char drvdata_fetcher[HM_FUNC_LEN] = "pci_iov_get_pf_drvdata";

static __always_inline int drvdata_event(void *ctx, struct pci_dev *vf, void *result)
{
	__s32 ret = hm_ptr_ret(result);

	return hm_drvdata_event(ctx, vf, HM_DRVDATA_FETCH, ret ? 0 : (__u64)result, ret,
				drvdata_fetcher);
}

SEC("fexit/pci_iov_get_pf_drvdata")
int BPF_PROG(pci_iov_get_pf_drvdata_fexit, struct pci_dev *vf, void *pf_driver, void *ret)
{
	return drvdata_event(ctx, vf, ret);
}

SEC("kprobe/pci_iov_get_pf_drvdata")
int BPF_KPROBE(pci_iov_get_pf_drvdata_kprobe, struct pci_dev *vf)
{
	hm_stash_push(F_PF_DRVDATA, (__u64)vf, 0, 0, 0);
	return 0;
}

SEC("kretprobe/pci_iov_get_pf_drvdata")
int BPF_KRETPROBE(pci_iov_get_pf_drvdata_kretprobe, void *ret)
{
	struct hm_args a;

	return hm_stash_pop(F_PF_DRVDATA, &a) ? drvdata_event(ctx, (void *)a.a[0], ret) : 0;
}

/* ---- function reset (pci_reset_function takes the device lock itself) ---- */

static __always_inline int reset_event(void *ctx, struct pci_dev *pdev, __u8 kind, __s32 ret)
{
	struct hm_reset_event *e;

	if (!HM_RESERVE(e, ctx, HM_EV_DEVICE_RESET, true))
		return 0;
	hm_fill_pci_device(&e->dev, pdev);
	e->kind = kind;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	e->ret = ret;
	hm_submit(e);
	return 0;
}

SEC("fexit/pci_reset_function")
int BPF_PROG(pci_reset_function_fexit, struct pci_dev *pdev, int ret)
{
	return reset_event(ctx, pdev, HM_RESET_FLR, ret);
}

SEC("kprobe/pci_reset_function")
int BPF_KPROBE(pci_reset_function_kprobe, struct pci_dev *pdev)
{
	hm_stash_push(F_RESET, (__u64)pdev, 0, 0, 0);
	return 0;
}

SEC("kretprobe/pci_reset_function")
int BPF_KRETPROBE(pci_reset_function_kretprobe, int ret)
{
	struct hm_args a;

	return hm_stash_pop(F_RESET, &a) ? reset_event(ctx, (void *)a.a[0], HM_RESET_FLR, ret) : 0;
}
