/* SPDX-License-Identifier: GPL-2.0 */
/* What the analyzers conclude: the public types of a finding. */
#ifndef HISIMIG_FINDINGS_H
#define HISIMIG_FINDINGS_H

#include <stdint.h>
#include "hisimig/events.h"

enum hm_severity {
	HM_SEV_INFO = 0,
	HM_SEV_WARNING = 1,
	HM_SEV_ERROR = 2,
};

/* Append only: kinds are part of JSON output, metrics labels and baselines. */
enum hm_finding_kind {
	HM_FIND_VF_PF_ORDER = 0,       /* VF lock held, PF lock taken: the seed bug */
	HM_FIND_VF_PF_TRYLOCK,         /* same with a trylock of the PF */
	HM_FIND_LOCK_CYCLE,            /* circular lock-order dependency */
	HM_FIND_DEADLOCK,              /* live wait-for cycle */
	HM_FIND_DRVDATA_AFTER_PF_UNBIND,
	HM_FIND_DRVDATA_OUTSIDE_BIND,
	HM_FIND_VF_OUTLIVES_SRIOV,
	HM_FIND_SRIOV_DISABLE_BLOCKED,
	HM_FIND_MIG_ILLEGAL_ARC,
	HM_FIND_MIG_FAILED,
	HM_FIND_MIG_ERROR_STATE,
	HM_FIND_MIG_STATE_TOO_LONG,
	HM_FIND_MIG_DOWNTIME,
	HM_FIND_MIG_CONCURRENT,
	HM_FIND_MIG_RESET,
	HM_FIND_MIG_DEVICE_GONE,
	HM_FIND_MIG_SRIOV_DISABLE,
	HM_FIND_LOST_EVENTS,
	HM_FIND_VFIO_USER_WAIT,        /* the kernel waits long for a VFIO user, no cycle */
	HM_FIND_SRIOV_LEFT_ENABLED,    /* PF driver unbound while its VFs exist */
	HM_FIND_PF_REMOVED_WITH_VFS,   /* PF device removed while its VFs exist */
	HM_FIND_SRIOV_ENABLE_FAILED,   /* SR-IOV enable failed: VFs left by a removed driver */
	HM_FIND_KNOWN_ORDER_REVERSAL,  /* a lock taken against a known good order */
	HM_FIND_KIND_MAX
};

#define HM_FINDING_MAX_DEVICES 4
#define HM_FINDING_MAX_EVIDENCE 8
#define HM_FINDING_SUMMARY_LEN 256
#define HM_EVIDENCE_LABEL_LEN 160

/* One observed fact backing a finding: who did what, when, from where. */
struct hm_evidence {
	char label[HM_EVIDENCE_LABEL_LEN];
	uint64_t ts_ns;
	uint32_t pid;
	uint32_t tid;
	int32_t stack_id;             /* -1: no stack */
	char comm[HM_COMM_LEN];
};

struct hm_finding {
	enum hm_finding_kind kind;
	enum hm_severity severity;
	uint64_t ts_ns;               /* when it became known */
	uint64_t duration_ns;         /* blocked/held/downtime spans; 0 if n/a */
	uint64_t fingerprint;         /* kind + classes/devices: dedup and baselines */
	char summary[HM_FINDING_SUMMARY_LEN];
	struct hm_device devices[HM_FINDING_MAX_DEVICES];
	unsigned int ndevices;
	struct hm_evidence evidence[HM_FINDING_MAX_EVIDENCE];
	unsigned int nevidence;
	char *detail;                 /* optional multi-line text (chain, scenario) */
};

#endif
