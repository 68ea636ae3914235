/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HM_EV_PF_DRVDATA, shared by the fetch hook (pci_iov_get_pf_drvdata() in
 * pci.bpf.c) and the use hooks (a variant driver's function dereferencing
 * PF data it cached, in driver.bpf.c).
 */
#ifndef HM_DRVDATA_BPF_H
#define HM_DRVDATA_BPF_H

#include "common.bpf.h"

static __always_inline struct pci_dev *hm_physfn(struct pci_dev *vf)
{
	return BPF_CORE_READ_BITFIELD_PROBED(vf, is_virtfn) ? BPF_CORE_READ(vf, physfn) : NULL;
}

/* @accessor: HM_FUNC_LEN bytes naming the fetching or using function (the
 * caller's driver is in vf.driver). volatile: it may be rodata the loader
 * fills, which the compiler would otherwise fold to its zero initializer. */
static __always_inline int hm_drvdata_event(void *ctx, struct pci_dev *vf, __u8 access,
					    __u64 result, __s32 ret,
					    const volatile char *accessor)
{
	struct hm_drvdata_event *e;

	if (!HM_RESERVE(e, ctx, HM_EV_PF_DRVDATA, true))
		return 0;
	hm_fill_pci_device(&e->vf, vf);
	hm_fill_pci_device(&e->pf, hm_physfn(vf));
	e->ret = ret;
	e->result = result;
	e->access = access;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
#pragma unroll
	for (int i = 0; i < HM_FUNC_LEN; i++)
		e->accessor[i] = accessor[i];
	hm_submit(e);
	return 0;
}

#endif
