/* SPDX-License-Identifier: GPL-2.0 */
/* Small pieces the analyzers share when they build findings. */
#ifndef HM_FIND_UTIL_H
#define HM_FIND_UTIL_H

#include <stdint.h>
#include "hisimig/findings.h"

/* Mix a device into a fingerprint: its BDF when it has one (stable across
 * boots, so CI baselines keep matching), else its struct device address. */
uint64_t hm_fp_device(uint64_t h, const struct hm_device *dev);
uint64_t hm_fp_u32(uint64_t h, uint32_t value);

#define HM_DURATION_STR_LEN 32
/* "12.000 s", "350.000 ms", "15.000 us", "900 ns" */
char *hm_format_duration(uint64_t ns, char buf[HM_DURATION_STR_LEN]);

#endif
