// SPDX-License-Identifier: GPL-2.0
/*
 * Known good lock orders (known_order.c): the built-in PCI table, blessed
 * pairs from a file, and what the lock-order analyzer reports with them.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "known_order.h"
#include "scenario_catalog.h"
#include "unit.h"

static const struct hm_order_rule *rev(const struct hm_known_orders *o, const char *held,
				       const char *next)
{
	return hm_known_orders_reversed(o, held, next);
}

static void builtin_pci_core_global_locks(void **state)
{
	const struct hm_order_rule *r;

	(void)state;
	r = rev(NULL, "pci_bus_sem", "pci_rescan_remove_lock");
	assert_non_null(r);
	assert_string_equal(r->first, "pci_rescan_remove_lock");
	assert_non_null(strstr(r->source, "rescan_store"));
	assert_int_equal(r->reported_as, HM_FIND_KIND_MAX);
	/* the kernel's own direction is no reversal */
	assert_null(rev(NULL, "pci_rescan_remove_lock", "pci_bus_sem"));
	assert_non_null(rev(NULL, "pf:nvme", "device_hotplug_lock"));
	assert_null(rev(NULL, "device_hotplug_lock", "pf:nvme"));
	/* both orders exist in 6.1 (stable): not in the table */
	assert_null(rev(NULL, "vf:hmtest_vf", "pci_rescan_remove_lock"));
	assert_null(rev(NULL, "pci_rescan_remove_lock", "vf:hmtest_vf"));
	assert_null(rev(NULL, "pci_bus_sem", "pf:nvme"));
	assert_null(rev(NULL, "pf:nvme", "pci_bus_sem"));
}

static void builtin_pf_before_vf_is_left_to_vf_pf_lock_order(void **state)
{
	const struct hm_order_rule *r;

	(void)state;
	r = rev(NULL, "vf:vfio-pci", "pf:nvme");
	assert_non_null(r);
	assert_int_equal(r->reported_as, HM_FIND_VF_PF_ORDER);
	assert_null(rev(NULL, "pf:nvme", "vf:vfio-pci"));
}

static void builtin_parent_before_child(void **state)
{
	(void)state;
	assert_non_null(rev(NULL, "pf:nvme", "other:pcieport"));
	assert_null(rev(NULL, "other:pcieport", "pf:nvme"));
	/* two bridges (a nested subclass) are not ordered by the rule */
	assert_null(rev(NULL, "other:pcieport", "other:pcieport/1"));
}

static char *write_file(const char *text)
{
	static char path[] = "/tmp/hm-blessed-XXXXXX";
	int fd;

	strcpy(path, "/tmp/hm-blessed-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void blessed_pairs_are_loaded_and_cited(void **state)
{
	const char *path = write_file("# our driver\n\n"
				      "mydrv:state_mutex   mmap_lock  # state, then the mm\n");
	struct hm_known_orders *o;
	const struct hm_order_rule *r;
	char err[256], where[300];

	(void)state;
	o = hm_known_orders_load(path, err, sizeof(err));
	assert_non_null(o);
	r = rev(o, "mmap_lock", "mydrv:state_mutex");
	assert_non_null(r);
	snprintf(where, sizeof(where), "blessed in %s:3", path);
	assert_string_equal(r->source, where);
	assert_null(rev(o, "mydrv:state_mutex", "mmap_lock"));
	/* the built-in table still applies */
	assert_non_null(rev(o, "vf:x", "device_hotplug_lock"));
	hm_known_orders_free(o);
	unlink(path);
}

static void blessed_pair_overrides_the_builtin_table(void **state)
{
	const char *path = write_file("pci_bus_sem pci_rescan_remove_lock\n");
	struct hm_known_orders *o;
	char err[256];

	(void)state;
	o = hm_known_orders_load(path, err, sizeof(err));
	assert_non_null(o);
	assert_null(rev(o, "pci_bus_sem", "pci_rescan_remove_lock"));
	/* and now the PCI core's own direction reverses the blessed one */
	assert_non_null(rev(o, "pci_rescan_remove_lock", "pci_bus_sem"));
	assert_non_null(strstr(rev(o, "pci_rescan_remove_lock", "pci_bus_sem")->source, "blessed in"));
	hm_known_orders_free(o);
	unlink(path);
}

static void malformed_blessed_file_names_the_line(void **state)
{
	const char *path = write_file("a b\nonly-one\n");
	char err[256];

	(void)state;
	assert_null(hm_known_orders_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, ":2: want 'FIRST SECOND'"));
	unlink(path);
	assert_null(hm_known_orders_load("/nonexistent/blessed", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

/* Through the analyzers: a blessed order the clean scenario reverses is
 * reported once, citing the file; without it the scenario stays clean. */
static void analyzer_reports_a_reversed_blessed_order(void **state)
{
	const char *path = write_file("pci_bus_sem pci_rescan_remove_lock\n");
	struct scenario *s = scn_new();
	struct collected found = { 0 };
	struct hm_config cfg;
	struct hm_known_orders *o;
	char err[256];

	(void)state;
	assert_non_null(s);
	assert_non_null(hm_scenario_find("locks-clean"));
	hm_scenario_find("locks-clean")->build(s);
	hm_config_defaults(&cfg);
	unit_run_engine(s, &cfg, &found);
	assert_int_equal(found.n, 0);
	o = hm_known_orders_load(path, err, sizeof(err));
	assert_non_null(o);
	cfg.known_orders = o;
	unit_run_engine(s, &cfg, &found);
	assert_int_equal(found.n, 1);
	assert_int_equal(found.items[0].kind, HM_FIND_KNOWN_ORDER_REVERSAL);
	assert_non_null(strstr(found.items[0].detail, "blessed in"));
	unit_release(&found);
	hm_known_orders_free(o);
	scn_free(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin_pci_core_global_locks),
		cmocka_unit_test(builtin_pf_before_vf_is_left_to_vf_pf_lock_order),
		cmocka_unit_test(builtin_parent_before_child),
		cmocka_unit_test(blessed_pairs_are_loaded_and_cited),
		cmocka_unit_test(blessed_pair_overrides_the_builtin_table),
		cmocka_unit_test(malformed_blessed_file_names_the_line),
		cmocka_unit_test(analyzer_reports_a_reversed_blessed_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
