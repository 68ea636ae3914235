/* SPDX-License-Identifier: GPL-2.0 */
/* The catalogue of named scenarios of the bug class, as the kernel would emit
 * them: what `hisimig-trace gen` writes and unit tests replay. Each is built
 * with scenario_builder.h. */
#ifndef HM_SCENARIO_CATALOG_H
#define HM_SCENARIO_CATALOG_H

#include <stddef.h>
#include "scenario_builder.h"

struct hm_named_scenario {
	const char *name;
	const char *description;
	void (*build)(struct scenario *s);
};

const struct hm_named_scenario *hm_scenarios(size_t *count);
const struct hm_named_scenario *hm_scenario_find(const char *name);

#endif
