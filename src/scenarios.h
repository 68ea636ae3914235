/* SPDX-License-Identifier: GPL-2.0 */
/* Named scenarios of the bug class, as the kernel would emit them. */
#ifndef HM_SCENARIOS_H
#define HM_SCENARIOS_H

#include <stddef.h>
#include "scenario.h"

struct hm_named_scenario {
	const char *name;
	const char *description;
	void (*build)(struct scenario *s);
};

const struct hm_named_scenario *hm_scenarios(size_t *count);
const struct hm_named_scenario *hm_scenario_find(const char *name);

#endif
