// SPDX-License-Identifier: GPL-2.0
#include "find_util.h"

#include <stdio.h>

#include "finding.h"

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
