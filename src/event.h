/* SPDX-License-Identifier: GPL-2.0 */
/* Names, sizes and formatting of ABI events: the one place that knows them. */
#ifndef HM_EVENT_H
#define HM_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hisimig/events.h"

/* "lock-acquired", ... ; "unknown" for out-of-range values */
const char *hm_event_type_name(unsigned int type);
const char *hm_mig_state_name(unsigned int state);
const char *hm_role_name(unsigned int role); /* "pf", "vf", "other" */
const char *hm_lock_type_name(unsigned int lock_type);
/* Parse "STOP_COPY"/"stop_copy"; returns HM_MIG_UNKNOWN when not a state. */
unsigned int hm_mig_state_parse(const char *name);

/* The exact record size of a type, 0 if the type is unknown. */
size_t hm_event_size(unsigned int type);
/* A record is well formed when its type is known and its size matches. */
bool hm_event_valid(const void *rec, size_t len);

/* The header of a record this process writes itself (LOCK_CLASS, LOST):
 * its size, our pid and comm, no stack. */
struct hm_event_header hm_event_own_header(unsigned int type, uint32_t cpu, uint64_t ts_ns);

/* The device a record is about (the VF for drvdata), NULL if none. */
const struct hm_device *hm_event_device(const union hm_event *ev);

#define HM_BDF_STR_LEN 16
/* "0000:01:00.1", or "-" when not a PCI device. */
char *hm_bdf_format(const struct hm_bdf *bdf, char buf[HM_BDF_STR_LEN]);
bool hm_bdf_equal(const struct hm_bdf *a, const struct hm_bdf *b);
bool hm_bdf_parse(const char *text, struct hm_bdf *out);

#define HM_CLASS_STR_LEN 40
/* A lock class of a device mutex: "vf:vfio-pci", "pf:nvme", "other:pcieport";
 * "(no driver)" stands in for an unbound device. */
char *hm_device_class(const struct hm_device *dev, char buf[HM_CLASS_STR_LEN]);

#define HM_DEVICE_STR_LEN 80
/* "0000:01:00.1 (vf:vfio-pci of 0000:01:00.0)" */
char *hm_device_format(const struct hm_device *dev, char buf[HM_DEVICE_STR_LEN]);

#endif
