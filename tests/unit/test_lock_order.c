// SPDX-License-Identifier: GPL-2.0
/* Lock order analyzer: the PF-before-VF rule, lock-order cycles, bookkeeping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "unit.h"

#define PF_BDF "0000:01:00.0"

struct world {
	struct scenario *s;
	struct hm_device pf, vf1, vf2;
	struct scn_task disabler, vf_driver;
	int32_t st_pf, st_vf;           /* PCI core: sriov_numvfs_store -> pci_disable_sriov */
	int32_t st_vf_own, st_vf_pf;    /* VF driver: its own lock, then the PF's */
	struct collected found;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->s = scn_new();
	assert_non_null(w->s);
	w->pf = scn_device(PF_BDF, HM_ROLE_PF, NULL, "hisi_zip");
	w->vf1 = scn_device("0000:01:00.1", HM_ROLE_VF, PF_BDF, "hisi-test-vf");
	w->vf2 = scn_device("0000:01:00.2", HM_ROLE_VF, PF_BDF, "hisi-test-vf");
	w->disabler = scn_task(812, "bash");
	w->vf_driver = scn_task(123, "kworker/0:1");
	w->st_pf = scn_stack(w->s, "mutex_lock", "sriov_numvfs_store", "kernfs_fop_write_iter",
			     NULL);
	w->st_vf = scn_stack(w->s, "mutex_lock", "device_release_driver_internal",
			     "pci_stop_bus_device", "pci_iov_remove_virtfn", "sriov_disable",
			     "sriov_numvfs_store", NULL);
	w->st_vf_own = scn_stack(w->s, "mutex_lock", "vfio_pci_core_ioctl", NULL);
	w->st_vf_pf = scn_stack(w->s, "mutex_lock", "hisi_acc_get_pf_locked",
				"vfio_pci_core_ioctl", NULL);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	return unit_fixture_free(&w->found, w->s, w);
}

static void run(struct world *w)
{
	unit_run_analyzer(&hm_lock_order_analyzer, w->s, NULL, &w->found);
}

/* The PCI core's legal order: PF, then each VF (pci_disable_sriov()). */
static void sriov_disable(struct world *w, const struct scn_task *t)
{
	scn_lock(w->s, t, &w->pf, w->st_pf);
	scn_lock(w->s, t, &w->vf1, w->st_vf);
	scn_unlock(w->s, t, &w->vf1);
	scn_lock(w->s, t, &w->vf2, w->st_vf);
	scn_unlock(w->s, t, &w->vf2);
	scn_unlock(w->s, t, &w->pf);
}

/* The seed bug: a VF driver path locks its PF while holding its own lock. */
static void vf_locks_pf(struct world *w, const struct scn_task *t, const struct hm_device *vf,
			const struct hm_device *pf)
{
	scn_lock(w->s, t, vf, w->st_vf_own);
	scn_lock(w->s, t, pf, w->st_vf_pf);
	scn_unlock(w->s, t, pf);
	scn_unlock(w->s, t, vf);
}

static void test_seed_bug_under_sriov_disable(void **state)
{
	struct world *w = *state;
	const struct hm_finding *order, *cycle;

	sriov_disable(w, &w->disabler);
	scn_advance(w->s, 1000000);
	vf_locks_pf(w, &w->vf_driver, &w->vf1, &w->pf);
	run(w);

	assert_int_equal(w->found.n, 2);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_VF_PF_ORDER), 1);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 1);

	order = unit_find_kind(&w->found, HM_FIND_VF_PF_ORDER);
	assert_int_equal(order->severity, HM_SEV_ERROR);
	assert_int_equal(order->ndevices, 2);
	assert_true(unit_has_device(order, &w->vf1));
	assert_true(unit_has_device(order, &w->pf));
	assert_int_equal(order->nevidence, 2);
	assert_int_equal(order->evidence[0].stack_id, w->st_vf_own);
	assert_int_equal(order->evidence[1].stack_id, w->st_vf_pf);
	assert_int_equal(order->evidence[1].tid, w->vf_driver.tid);
	assert_non_null(strstr(order->summary, "task kworker/0:1/123 takes "
					       "device_lock(0000:01:00.0 pf:hisi_zip) while holding "
					       "device_lock(0000:01:00.1 vf:hisi-test-vf)"));
	assert_non_null(strstr(order->summary, "its own PF"));
	/* the detail points at the PCI core's order seen earlier */
	assert_non_null(strstr(order->detail, "PCI core order was also seen: task bash/812"));

	cycle = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_int_equal(cycle->severity, HM_SEV_ERROR);
	assert_int_equal(cycle->nevidence, 2);
	/* edge #1 pf -> vf made by SR-IOV disable, edge #2 vf -> pf by the VF driver */
	assert_int_equal(cycle->evidence[0].stack_id, w->st_vf);
	assert_int_equal(cycle->evidence[0].tid, w->disabler.tid);
	assert_int_equal(cycle->evidence[1].stack_id, w->st_vf_pf);
	assert_string_equal(cycle->evidence[0].label,
			    "#1 device_lock(pf) -> device_lock(vf): task 'bash'/812 0000:01:00.0 then "
			    "0000:01:00.1");
	assert_true(unit_has_device(cycle, &w->vf1));
	assert_true(unit_has_device(cycle, &w->pf));
	assert_non_null(strstr(cycle->detail, "Chain exists of:\n"
					      "  device_lock(pf) --> device_lock(vf) --> device_lock(pf)\n"));
	assert_non_null(strstr(cycle->detail,
			       "       CPU0                    CPU1\n"
			       "       ----                    ----\n"
			       "  lock(device_lock(vf));\n"
			       "                               lock(device_lock(pf));\n"
			       "                               lock(device_lock(vf));\n"
			       "  lock(device_lock(pf));\n"
			       "\n"
			       " *** DEADLOCK ***\n"));
}

static void test_seed_bug_alone_is_order_violation_without_cycle(void **state)
{
	struct world *w = *state;

	vf_locks_pf(w, &w->vf_driver, &w->vf1, &w->pf);
	run(w);

	assert_int_equal(w->found.n, 1);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_VF_PF_ORDER), 1);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 0);
}

static void test_vf_locking_a_foreign_pf_says_so(void **state)
{
	struct world *w = *state;
	struct hm_device other_pf = scn_device("0000:02:00.0", HM_ROLE_PF, NULL, "nvme");
	const struct hm_finding *f;

	vf_locks_pf(w, &w->vf_driver, &w->vf1, &other_pf);
	run(w);

	f = unit_find_kind(&w->found, HM_FIND_VF_PF_ORDER);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "not its PF"));
	assert_true(unit_has_device(f, &other_pf));
}

static void test_clean_sriov_cycles_have_no_findings(void **state)
{
	struct world *w = *state;
	struct hm_device vfs[4];
	int32_t probe = scn_stack(w->s, "mutex_lock", "pci_bus_add_device", "sriov_enable", NULL);

	for (int i = 0; i < 4; i++) {
		char bdf[32];

		snprintf(bdf, sizeof(bdf), "0000:01:00.%d", i + 1);
		vfs[i] = scn_device(bdf, HM_ROLE_VF, PF_BDF, "vfio-pci");
	}
	for (int round = 0; round < 100; round++) {
		struct scn_task t = scn_task(1000 + (uint32_t)round, "bash");

		/* enable: PF held while each VF is probed */
		scn_lock(w->s, &t, &w->pf, w->st_pf);
		for (int i = 0; i < 4; i++) {
			scn_lock(w->s, &t, &vfs[i], probe);
			scn_unlock(w->s, &t, &vfs[i]);
		}
		scn_unlock(w->s, &t, &w->pf);
		/* the VF drivers use only their own locks */
		for (int i = 0; i < 4; i++) {
			scn_lock(w->s, &w->vf_driver, &vfs[i], w->st_vf_own);
			scn_unlock(w->s, &w->vf_driver, &vfs[i]);
		}
		/* disable: PF held while each VF is removed */
		scn_lock(w->s, &t, &w->pf, w->st_pf);
		for (int i = 0; i < 4; i++) {
			scn_lock(w->s, &t, &vfs[i], w->st_vf);
			scn_unlock(w->s, &t, &vfs[i]);
		}
		scn_unlock(w->s, &t, &w->pf);
	}
	run(w);

	assert_int_equal(w->found.n, 0);
}

static void test_pf_trylock_under_vf_warns_without_edge(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	/* taken once, busy once: one warning for the pair */
	scn_lock(w->s, &w->vf_driver, &w->vf1, w->st_vf_own);
	scn_trylock(w->s, &w->vf_driver, &w->pf, 1, w->st_vf_pf);
	scn_unlock(w->s, &w->vf_driver, &w->pf);
	scn_trylock(w->s, &w->vf_driver, &w->pf, 0, w->st_vf_pf);
	scn_unlock(w->s, &w->vf_driver, &w->vf1);
	/* with the PCI core's PF -> VF order a vf -> pf edge would close a cycle */
	sriov_disable(w, &w->disabler);
	run(w);

	assert_int_equal(w->found.n, 1);
	f = unit_find_kind(&w->found, HM_FIND_VF_PF_TRYLOCK);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_WARNING);
	assert_int_equal(f->nevidence, 2);
	assert_int_equal(f->evidence[0].stack_id, w->st_vf_own);
	assert_int_equal(f->evidence[1].stack_id, w->st_vf_pf);
	assert_true(unit_has_device(f, &w->vf1));
	assert_true(unit_has_device(f, &w->pf));
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 0);
}

/* A trylocked lock is held: what is taken under it depends on it. */
static void test_trylocked_lock_orders_later_acquisitions(void **state)
{
	struct world *w = *state;
	struct hm_device nvme = scn_device("0000:02:00.0", HM_ROLE_PF, NULL, "nvme");

	scn_trylock(w->s, &w->disabler, &w->pf, 1, w->st_pf);
	scn_lock(w->s, &w->disabler, &nvme, w->st_pf);
	scn_unlock(w->s, &w->disabler, &nvme);
	scn_unlock(w->s, &w->disabler, &w->pf);
	scn_lock(w->s, &w->vf_driver, &nvme, w->st_pf);
	scn_lock(w->s, &w->vf_driver, &w->pf, w->st_pf);
	run(w);

	assert_int_equal(w->found.n, 1);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 1);
}

static void test_abba_between_two_pfs_over_time(void **state)
{
	struct world *w = *state;
	struct hm_device nvme = scn_device("0000:02:00.0", HM_ROLE_PF, NULL, "nvme");
	struct scn_task later = scn_task(4242, "udevd");
	const struct hm_finding *f;

	scn_lock(w->s, &w->disabler, &w->pf, w->st_pf);
	scn_lock(w->s, &w->disabler, &nvme, w->st_pf);
	scn_unlock(w->s, &w->disabler, &nvme);
	scn_unlock(w->s, &w->disabler, &w->pf);
	scn_advance(w->s, 10ULL * 1000000000ULL); /* never concurrent */
	scn_lock(w->s, &later, &nvme, w->st_vf_own);
	scn_lock(w->s, &later, &w->pf, w->st_vf_pf);
	scn_unlock(w->s, &later, &w->pf);
	scn_unlock(w->s, &later, &nvme);
	run(w);

	assert_int_equal(w->found.n, 1);
	f = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_non_null(f);
	assert_int_equal(f->nevidence, 2);
	assert_int_equal(f->evidence[0].tid, w->disabler.tid);
	assert_int_equal(f->evidence[1].tid, later.tid);
	assert_int_equal(f->ndevices, 2);
	assert_true(unit_has_device(f, &nvme));
	/* two PFs are one class: the instances, named with their drivers, cycle */
	assert_non_null(strstr(f->detail, "  device_lock(0000:01:00.0 pf:hisi_zip) --> "
					  "device_lock(0000:02:00.0 pf:nvme) --> "
					  "device_lock(0000:01:00.0 pf:hisi_zip)\n"));
}

/* Baselines compare fingerprints across runs: a cycle must get the same one
 * whichever of its edges happened to close it. */
static uint64_t abba_fingerprint(bool reversed)
{
	struct scenario *s = scn_new();
	struct hm_device zip = scn_device(PF_BDF, HM_ROLE_PF, NULL, "hisi_zip");
	struct hm_device nvme = scn_device("0000:02:00.0", HM_ROLE_PF, NULL, "nvme");
	const struct hm_device *first = reversed ? &nvme : &zip, *second = reversed ? &zip : &nvme;
	struct scn_task t1 = scn_task(1, "t1"), t2 = scn_task(2, "t2");
	struct collected c = { .n = 0 };
	uint64_t fingerprint;

	scn_lock(s, &t1, first, -1);
	scn_lock(s, &t1, second, -1);
	scn_unlock(s, &t1, second);
	scn_unlock(s, &t1, first);
	scn_lock(s, &t2, second, -1);
	scn_lock(s, &t2, first, -1);
	unit_run_analyzer(&hm_lock_order_analyzer, s, NULL, &c);
	assert_int_equal(c.n, 1);
	fingerprint = c.items[0].fingerprint;
	unit_release(&c);
	scn_free(s);
	return fingerprint;
}

static void test_cycle_fingerprint_ignores_closing_edge(void **state)
{
	(void)state;
	assert_true(abba_fingerprint(false) == abba_fingerprint(true));
}

static void test_three_class_cycle(void **state)
{
	struct world *w = *state;
	struct hm_device port = scn_device("0000:00:01.0", HM_ROLE_OTHER, NULL, "pcieport");
	struct hm_device nvme = scn_device("0000:02:00.0", HM_ROLE_PF, NULL, "nvme");
	struct hm_device vf = scn_device("0000:02:00.1", HM_ROLE_VF, "0000:02:00.0", "vfio-pci");
	struct scn_task t1 = scn_task(1, "t1"), t2 = scn_task(2, "t2"), t3 = scn_task(3, "t3");
	int32_t s1 = scn_stack(w->s, "mutex_lock", "first_edge", NULL);
	int32_t s2 = scn_stack(w->s, "mutex_lock", "second_edge", NULL);
	int32_t s3 = scn_stack(w->s, "mutex_lock", "third_edge", NULL);
	const struct hm_finding *f;

	scn_lock(w->s, &t1, &nvme, -1);         /* pf -> vf */
	scn_lock(w->s, &t1, &vf, s1);
	scn_unlock(w->s, &t1, &vf);
	scn_unlock(w->s, &t1, &nvme);
	scn_lock(w->s, &t2, &vf, -1);           /* vf -> other */
	scn_lock(w->s, &t2, &port, s2);
	scn_unlock(w->s, &t2, &port);
	scn_unlock(w->s, &t2, &vf);
	scn_lock(w->s, &t3, &port, -1);         /* other -> pf closes it */
	scn_lock(w->s, &t3, &nvme, s3);
	run(w);

	/* and the VF's lock held while its bridge's is taken reverses the
	 * PCI core's parent-before-child order (known_order.c) */
	assert_int_equal(w->found.n, 2);
	assert_non_null(unit_find_kind(&w->found, HM_FIND_KNOWN_ORDER_REVERSAL));
	f = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_non_null(f);
	assert_int_equal(f->nevidence, 3);
	assert_int_equal(f->evidence[0].stack_id, s1);
	assert_int_equal(f->evidence[1].stack_id, s2);
	assert_int_equal(f->evidence[2].stack_id, s3);
	assert_int_equal(f->ndevices, 3);
	assert_non_null(strstr(f->detail, "Chain exists of:\n"
					  "  device_lock(pf) --> device_lock(vf) --> device_lock(other) --> "
					  "device_lock(pf)\n"));
	/* one CPU per edge; CPU0 is the task closing the cycle */
	assert_non_null(strstr(f->detail, "CPU0                    CPU1                    CPU2\n"));
	assert_non_null(strstr(f->detail, "  lock(device_lock(other));\n"));
	assert_non_null(strstr(f->detail, "  lock(device_lock(pf));\n\n *** DEADLOCK ***"));
}

static void test_same_class_instance_abba(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	scn_lock(w->s, &w->disabler, &w->vf1, -1);
	scn_lock(w->s, &w->disabler, &w->vf2, w->st_vf);
	scn_unlock(w->s, &w->disabler, &w->vf2);
	scn_unlock(w->s, &w->disabler, &w->vf1);
	scn_lock(w->s, &w->vf_driver, &w->vf2, -1);
	scn_lock(w->s, &w->vf_driver, &w->vf1, w->st_vf_own);
	run(w);

	assert_int_equal(w->found.n, 1);
	f = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_non_null(f);
	assert_int_equal(f->nevidence, 2);
	assert_int_equal(f->evidence[0].stack_id, w->st_vf);
	assert_int_equal(f->evidence[1].stack_id, w->st_vf_own);
	assert_true(unit_has_device(f, &w->vf1));
	assert_true(unit_has_device(f, &w->vf2));
	assert_non_null(strstr(f->detail, "device_lock(0000:01:00.1 vf:hisi-test-vf) --> "
					  "device_lock(0000:01:00.2 vf:hisi-test-vf) --> "
					  "device_lock(0000:01:00.1 vf:hisi-test-vf)"));
}

static void test_same_class_nesting_in_one_order_is_fine(void **state)
{
	struct world *w = *state;

	for (int i = 0; i < 3; i++) {
		scn_lock(w->s, &w->disabler, &w->vf1, -1);
		scn_lock(w->s, &w->disabler, &w->vf2, -1);
		scn_unlock(w->s, &w->disabler, &w->vf2);
		scn_unlock(w->s, &w->disabler, &w->vf1);
	}
	run(w);

	assert_int_equal(w->found.n, 0);
}

static void test_repeated_violations_reported_once(void **state)
{
	struct world *w = *state;

	for (uint32_t i = 0; i < 5; i++) {
		struct scn_task t = scn_task(200 + i, "qemu-kvm");

		sriov_disable(w, &w->disabler);
		vf_locks_pf(w, &t, i % 2 ? &w->vf2 : &w->vf1, &w->pf);
	}
	unit_run_engine(w->s, NULL, &w->found);

	assert_int_equal(unit_count_kind(&w->found, HM_FIND_VF_PF_ORDER), 1);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 1);
}

static void test_release_of_unknown_lock_is_ignored(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	/* releases from before the trace started */
	scn_unlock(w->s, &w->vf_driver, &w->pf);
	scn_unlock(w->s, &w->vf_driver, &w->vf2);
	/* and one in the middle: it must not drop the VF lock still held */
	scn_lock(w->s, &w->vf_driver, &w->vf1, w->st_vf_own);
	scn_unlock(w->s, &w->vf_driver, &w->vf2);
	scn_lock(w->s, &w->vf_driver, &w->pf, w->st_vf_pf);
	run(w);

	assert_int_equal(w->found.n, 1);
	f = unit_find_kind(&w->found, HM_FIND_VF_PF_ORDER);
	assert_non_null(f);
	assert_int_equal(f->evidence[0].stack_id, w->st_vf_own);
}

static void test_locks_released_out_of_order(void **state)
{
	struct world *w = *state;

	scn_lock(w->s, &w->vf_driver, &w->pf, -1);
	scn_lock(w->s, &w->vf_driver, &w->vf1, -1);
	scn_unlock(w->s, &w->vf_driver, &w->pf); /* not the innermost */
	scn_lock(w->s, &w->vf_driver, &w->vf2, -1);
	scn_unlock(w->s, &w->vf_driver, &w->vf2);
	scn_unlock(w->s, &w->vf_driver, &w->vf1);
	/* VF1 is gone too: the PF lock after it is fine */
	scn_lock(w->s, &w->vf_driver, &w->pf, -1);
	run(w);

	assert_int_equal(w->found.n, 0);
}

static void test_interrupted_acquisition_does_not_hold(void **state)
{
	struct world *w = *state;

	scn_lock(w->s, &w->vf_driver, &w->vf1, w->st_vf_own);
	w->s->events[w->s->count - 1].lock.ret = -4; /* -EINTR: mutex_lock_interruptible */
	scn_lock(w->s, &w->vf_driver, &w->pf, w->st_vf_pf);
	run(w);

	assert_int_equal(w->found.n, 0);
}

static void test_deep_nesting_is_capped(void **state)
{
	struct world *w = *state;
	struct hm_device devs[40];

	for (int i = 0; i < 40; i++) {
		char bdf[32];

		snprintf(bdf, sizeof(bdf), "0000:%02x:00.0", 0x10 + i);
		devs[i] = scn_device(bdf, HM_ROLE_OTHER, NULL, "pcieport");
		scn_lock(w->s, &w->disabler, &devs[i], -1);
	}
	/* beyond the cap: not tracked, so no finding, but no crash either */
	scn_lock(w->s, &w->disabler, &w->vf1, -1);
	scn_lock(w->s, &w->disabler, &w->pf, -1);
	for (int i = 39; i >= 0; i--)
		scn_unlock(w->s, &w->disabler, &devs[i]);
	/* tracking still works afterwards */
	vf_locks_pf(w, &w->vf_driver, &w->vf1, &w->pf);
	run(w);

	assert_int_equal(unit_count_kind(&w->found, HM_FIND_VF_PF_ORDER), 1);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_seed_bug_under_sriov_disable),
		T(test_seed_bug_alone_is_order_violation_without_cycle),
		T(test_vf_locking_a_foreign_pf_says_so),
		T(test_clean_sriov_cycles_have_no_findings),
		T(test_pf_trylock_under_vf_warns_without_edge),
		T(test_trylocked_lock_orders_later_acquisitions),
		T(test_abba_between_two_pfs_over_time),
		T(test_cycle_fingerprint_ignores_closing_edge),
		T(test_three_class_cycle),
		T(test_same_class_instance_abba),
		T(test_same_class_nesting_in_one_order_is_fine),
		T(test_repeated_violations_reported_once),
		T(test_release_of_unknown_lock_is_ignored),
		T(test_locks_released_out_of_order),
		T(test_interrupted_acquisition_does_not_hold),
		T(test_deep_nesting_is_capped),
	};

	return cmocka_run_group_tests_name("lock_order", tests, NULL, NULL);
}
