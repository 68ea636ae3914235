// SPDX-License-Identifier: GPL-2.0
/*
 * The hook tables: attach order is table order, and the locks object must
 * see releases (flagged: kprobes on PREEMPT_RT) before acquisitions (an acquisition hooked first, while its
 * release is not yet, leaves a phantom holder: false cycles and deadlocks
 * in the first seconds of a run).
 */
#include <string.h>

#include "targets.h"
#include "unit.h"

static bool is_release(const char *func)
{
	return !strcmp(func, "mutex_unlock") || !strncmp(func, "up_", 3) ||
	       !strcmp(func, "downgrade_write");
}

static void releases_attach_before_acquisitions(void **state)
{
	size_t last_release = 0, first_acquire = hm_target_count, releases = 0;

	(void)state;
	for (size_t i = 0; i < hm_target_count; i++) {
		if (hm_targets[i].obj != HM_OBJ_LOCKS)
			continue;
		assert_int_equal(hm_targets[i].release, is_release(hm_targets[i].func));
		if (hm_targets[i].release) {
			last_release = i;
			releases++;
		} else if (first_acquire == hm_target_count) {
			first_acquire = i;
		}
	}
	assert_int_equal(releases, 4); /* mutex_unlock, up_read, up_write, downgrade_write */
	assert_true(last_release < first_acquire);
}

static void every_target_is_named_once(void **state)
{
	(void)state;
	for (size_t i = 0; i < hm_target_count; i++)
		for (size_t j = i + 1; j < hm_target_count; j++)
			assert_string_not_equal(hm_targets[i].func, hm_targets[j].func);
	for (size_t i = 0; i < hm_driver_target_count; i++)
		for (size_t j = i + 1; j < hm_driver_target_count; j++)
			assert_string_not_equal(hm_driver_targets[i].func, hm_driver_targets[j].func);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(releases_attach_before_acquisitions),
		cmocka_unit_test(every_target_is_named_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
