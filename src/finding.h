/* SPDX-License-Identifier: GPL-2.0 */
/* Building findings, and the per-kind text (name, explanation, fix). */
#ifndef HM_FINDING_H
#define HM_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include "hisimig/findings.h"

const char *hm_severity_name(enum hm_severity sev); /* "info"|"warning"|"error" */
bool hm_severity_parse(const char *name, enum hm_severity *out);

const char *hm_finding_kind_name(enum hm_finding_kind kind);   /* "vf-pf-lock-order" */
const char *hm_finding_kind_title(enum hm_finding_kind kind);  /* lockdep-style headline */
const char *hm_finding_kind_explanation(enum hm_finding_kind kind);
const char *hm_finding_kind_fix(enum hm_finding_kind kind);
enum hm_severity hm_finding_kind_severity(enum hm_finding_kind kind);

/* Zero a finding and set kind, default severity and time. */
void hm_finding_init(struct hm_finding *f, enum hm_finding_kind kind, uint64_t ts_ns);
void hm_finding_summary(struct hm_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hm_finding_add_device(struct hm_finding *f, const struct hm_device *dev);
/* Evidence from an event header (task, time, stack) and a printf label. */
void hm_finding_add_evidence(struct hm_finding *f, const struct hm_event_header *hdr,
			     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Append a line to the finding's detail text. */
void hm_finding_detail(struct hm_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hm_finding_release(struct hm_finding *f);
/* Copy including detail; the copy is released separately. */
void hm_finding_copy(struct hm_finding *dst, const struct hm_finding *src);

/* FNV-1a, for fingerprints: chain values with hm_hash_mix(). */
uint64_t hm_hash_bytes(uint64_t h, const void *data, size_t len);
uint64_t hm_hash_str(uint64_t h, const char *s);
#define HM_HASH_INIT 0xcbf29ce484222325ULL
/* Mix a device into a fingerprint: its BDF when it has one (stable across
 * boots, so CI baselines keep matching), else its struct device address. */
uint64_t hm_fp_device(uint64_t h, const struct hm_device *dev);
uint64_t hm_fp_u32(uint64_t h, uint32_t value);

#define HM_DURATION_STR_LEN 32
/* For summaries: "12.000 s", "350.000 ms", "15.000 us", "900 ns" */
char *hm_format_duration(uint64_t ns, char buf[HM_DURATION_STR_LEN]);

#endif
