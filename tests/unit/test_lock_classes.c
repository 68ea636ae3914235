// SPDX-License-Identifier: GPL-2.0
/*
 * Locks beyond device mutexes: named classes (globals, driver fields, mmap_lock),
 * rwsem read/write semantics, trylocks, and cycles and deadlocks that pass
 * through a VFIO user (vfio_unregister_group_dev's wait).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "scenarios.h"
#include "unit.h"

#define PF_BDF "0000:01:00.0"
#define MS 1000000ULL

struct world {
	struct scenario *s;
	struct hm_device pf, vf1;
	struct scn_task shell, qemu, vcpu, kworker;
	struct scn_named_lock a, b, state;
	int32_t st;
	struct collected found;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->s = scn_new();
	assert_non_null(w->s);
	w->pf = scn_device(PF_BDF, HM_ROLE_PF, NULL, "nvme");
	w->vf1 = scn_device("0000:01:00.1", HM_ROLE_VF, PF_BDF, "vfio-pci");
	w->shell = scn_task(812, "bash");
	w->qemu = scn_task(2201, "qemu-system-x86");
	w->vcpu = scn_task(2205, "CPU 0/KVM");
	w->vcpu.pid = w->qemu.pid;
	w->kworker = scn_task(97, "kworker/1:2");
	w->a = scn_named_lock(w->s, "pci_rescan_remove_lock", HM_LOCK_ORIGIN_GLOBAL,
			      0xffffffff82a1c0a0ULL);
	w->b = scn_named_lock(w->s, "pci_bus_sem", HM_LOCK_ORIGIN_GLOBAL, 0xffffffff82a1c120ULL);
	w->state = scn_named_lock(w->s, "hmtest_vf:state_mutex", HM_LOCK_ORIGIN_LEARNED,
				  0xffff888104a3d5a8ULL);
	w->st = scn_stack(w->s, "mutex_lock", "remove_store", NULL);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	return unit_fixture_free(&w->found, w->s, w);
}

static void run_engine(struct world *w)
{
	unit_run_engine(w->s, NULL, &w->found);
}

static void build_named(struct world *w, const char *name)
{
	const struct hm_named_scenario *named = hm_scenario_find(name);

	assert_non_null(named);
	named->build(w->s);
}

/* Two tasks take two named globals in both orders, seconds apart. */
static void abba_named(struct world *w, enum hm_lock_type first, enum hm_lock_type second)
{
	scn_nlock(w->s, &w->shell, &w->a, first, w->st);
	scn_nlock(w->s, &w->shell, &w->b, second, w->st);
	scn_nunlock(w->s, &w->shell, &w->b, second);
	scn_nunlock(w->s, &w->shell, &w->a, first);
	scn_advance(w->s, 2000 * MS);
	scn_nlock(w->s, &w->kworker, &w->b, first, w->st);
	scn_nlock(w->s, &w->kworker, &w->a, second, w->st);
}

static void cycle_through_globals_named_by_symbol(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	abba_named(w, HM_LOCK_MUTEX, HM_LOCK_RWSEM_WRITE);
	run_engine(w);
	f = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "pci_rescan_remove_lock"));
	assert_non_null(strstr(f->summary, "pci_bus_sem"));
	assert_null(strstr(f->summary, "0xffffffff82a1c0a0"));
}

/* Without a LOCK_CLASS record a lock is still a node, named by address. */
static void unnamed_locks_are_classes_by_address(void **state)
{
	struct world *w = *state;
	struct scn_named_lock x = { .addr = 0xffff888100001000ULL };
	const struct hm_finding *f;

	scn_nlock(w->s, &w->shell, &x, HM_LOCK_MUTEX, w->st);
	scn_lock(w->s, &w->shell, &w->vf1, w->st);
	scn_unlock(w->s, &w->shell, &w->vf1);
	scn_nunlock(w->s, &w->shell, &x, HM_LOCK_MUTEX);
	scn_lock(w->s, &w->kworker, &w->vf1, w->st);
	scn_nlock(w->s, &w->kworker, &x, HM_LOCK_MUTEX, w->st);
	run_engine(w);
	f = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "mutex@0xffff888100001000"));
}

/* Two anonymous locks (full mode's untracked ones) in both orders: no edge
 * between them, so no cycle; the same pair around a device lock still
 * cycles (above). Their addresses may be freed objects reused. */
static void anonymous_pair_adds_no_edge(void **state)
{
	struct world *w = *state;
	struct scn_named_lock x = { .addr = 0xffff888100001000ULL };
	struct scn_named_lock y = { .addr = 0xffff888100002000ULL };

	scn_nlock(w->s, &w->shell, &x, HM_LOCK_RWSEM_WRITE, w->st);
	scn_nlock(w->s, &w->shell, &y, HM_LOCK_RWSEM_WRITE, w->st);
	scn_nunlock(w->s, &w->shell, &y, HM_LOCK_RWSEM_WRITE);
	scn_nunlock(w->s, &w->shell, &x, HM_LOCK_RWSEM_WRITE);
	scn_nlock(w->s, &w->kworker, &y, HM_LOCK_RWSEM_WRITE, w->st);
	scn_nlock(w->s, &w->kworker, &x, HM_LOCK_RWSEM_WRITE, w->st);
	run_engine(w);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 0);
}

/* Readers never exclude each other: an all-read cycle needs writers never seen. */
static void read_only_cycle_is_silent(void **state)
{
	struct world *w = *state;

	abba_named(w, HM_LOCK_RWSEM_READ, HM_LOCK_RWSEM_READ);
	run_engine(w);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 0);
}

/* A reader still waits behind a queued writer: read + write orders do cycle. */
static void read_write_cycle_is_reported(void **state)
{
	struct world *w = *state;

	abba_named(w, HM_LOCK_RWSEM_READ, HM_LOCK_RWSEM_WRITE);
	run_engine(w);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 1);
}

/* lockdep: a trylock can be taken in any order, it adds no edge. */
static void trylock_of_driver_mutex_adds_no_edge(void **state)
{
	struct world *w = *state;

	scn_nlock(w->s, &w->qemu, &w->state, HM_LOCK_MUTEX, w->st);
	scn_lock(w->s, &w->qemu, &w->vf1, w->st);
	scn_unlock(w->s, &w->qemu, &w->vf1);
	scn_nunlock(w->s, &w->qemu, &w->state, HM_LOCK_MUTEX);
	scn_lock(w->s, &w->kworker, &w->vf1, w->st);
	scn_ntrylock(w->s, &w->kworker, &w->state, HM_LOCK_MUTEX, 1, w->st);
	run_engine(w);
	assert_int_equal(w->found.n, 0);
}

/* The same with a blocking mutex_lock (hisi_acc_vfio_pci's reset_done since 6.9). */
static void driver_mutex_cycle_names_driver_and_field(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	scn_nlock(w->s, &w->qemu, &w->state, HM_LOCK_MUTEX, w->st);
	scn_lock(w->s, &w->qemu, &w->vf1, w->st);
	scn_unlock(w->s, &w->qemu, &w->vf1);
	scn_nunlock(w->s, &w->qemu, &w->state, HM_LOCK_MUTEX);
	scn_lock(w->s, &w->kworker, &w->vf1, w->st);
	scn_nlock(w->s, &w->kworker, &w->state, HM_LOCK_MUTEX, w->st);
	run_engine(w);
	f = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "hmtest_vf:state_mutex"));
	assert_non_null(strstr(f->summary, "vf:vfio-pci"));
}

static void rescan_cycle_scenario_reports_one_cycle(void **state)
{
	struct world *w = *state;

	build_named(w, "rescan-cycle");
	run_engine(w);
	assert_int_equal(w->found.n, 1);
	assert_non_null(strstr(w->found.items[0].summary, "pci_rescan_remove_lock"));
}

/* Predicted across the boundary: no task ever blocked. */
static void vfio_user_cycle_is_predicted_once(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	build_named(w, "vfio-user-cycle");
	run_engine(w);
	assert_int_equal(w->found.n, 1);
	f = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "vfio_user(vf:vfio-pci)"));
	assert_non_null(strstr(f->summary, "pf:nvme"));
}

/* The user closed the device before taking the PF lock: no dependency. */
static void user_lock_after_close_adds_nothing(void **state)
{
	struct world *w = *state;

	scn_vfio(w->s, &w->qemu, HM_EV_VFIO_OPEN, &w->vf1, 0);
	scn_vfio(w->s, &w->qemu, HM_EV_VFIO_CLOSE, &w->vf1, 0);
	scn_lock(w->s, &w->qemu, &w->pf, w->st);
	scn_unlock(w->s, &w->qemu, &w->pf);
	scn_vfio(w->s, &w->qemu, HM_EV_VFIO_OPEN, &w->vf1, 0);
	scn_lock(w->s, &w->shell, &w->pf, w->st);
	scn_lock(w->s, &w->shell, &w->vf1, w->st);
	scn_vfio(w->s, &w->shell, HM_EV_VFIO_UNREGISTER_BEGIN, &w->vf1, 0);
	scn_vfio(w->s, &w->qemu, HM_EV_VFIO_CLOSE, &w->vf1, 0);
	scn_vfio(w->s, &w->shell, HM_EV_VFIO_UNREGISTER_END, &w->vf1, 0);
	run_engine(w);
	assert_int_equal(w->found.n, 0);
}

static void vfio_user_deadlock_names_the_user(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	build_named(w, "vfio-user-deadlock");
	unit_run_analyzer(&hm_deadlock_analyzer, w->s, NULL, &w->found);
	assert_int_equal(w->found.n, 1);
	f = &w->found.items[0];
	assert_int_equal(f->kind, HM_FIND_DEADLOCK);
	assert_non_null(strstr(f->summary, "across the kernel/user boundary"));
	assert_non_null(strstr(f->summary, "CPU 0/KVM/2205"));
	assert_non_null(strstr(f->summary, "VFIO user of 0000:01:00.1"));
	assert_non_null(strstr(f->detail, "thread of that VFIO user"));
}

/* The user's thread waits for a lock held by a third task, which waits for
 * the VF lock the unregistering task holds: the chain still closes. */
static void boundary_deadlock_through_a_third_task(void **state)
{
	struct world *w = *state;

	scn_vfio(w->s, &w->qemu, HM_EV_VFIO_OPEN, &w->vf1, 0);
	scn_lock(w->s, &w->shell, &w->vf1, w->st);
	scn_vfio(w->s, &w->shell, HM_EV_VFIO_UNREGISTER_BEGIN, &w->vf1, 0);
	scn_nlock(w->s, &w->kworker, &w->a, HM_LOCK_MUTEX, w->st);
	scn_lock_wait(w->s, &w->kworker, &w->vf1, w->st);
	scn_nlock_wait(w->s, &w->vcpu, &w->a, HM_LOCK_MUTEX, w->st);
	unit_run_analyzer(&hm_deadlock_analyzer, w->s, NULL, &w->found);
	assert_int_equal(w->found.n, 1);
	assert_non_null(strstr(w->found.items[0].summary, "3 tasks deadlocked"));
}

/* Blocked, but on a lock whose owner runs: the wait ends, no deadlock. */
static void user_blocked_on_unrelated_lock_is_no_deadlock(void **state)
{
	struct world *w = *state;

	scn_vfio(w->s, &w->qemu, HM_EV_VFIO_OPEN, &w->vf1, 0);
	scn_lock(w->s, &w->shell, &w->vf1, w->st);
	scn_vfio(w->s, &w->shell, HM_EV_VFIO_UNREGISTER_BEGIN, &w->vf1, 0);
	scn_nlock(w->s, &w->kworker, &w->a, HM_LOCK_MUTEX, w->st);
	scn_nlock_wait(w->s, &w->vcpu, &w->a, HM_LOCK_MUTEX, w->st);
	unit_run_analyzer(&hm_deadlock_analyzer, w->s, NULL, &w->found);
	assert_int_equal(w->found.n, 0);
}

/* VF unbind (not SR-IOV disable) waits 12 s: say who the kernel waits for. */
static void long_unbind_wait_names_user_and_its_state(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	scn_vfio(w->s, &w->qemu, HM_EV_VFIO_OPEN, &w->vf1, 0);
	scn_nlock(w->s, &w->kworker, &w->a, HM_LOCK_MUTEX, w->st);
	scn_nlock_wait(w->s, &w->vcpu, &w->a, HM_LOCK_MUTEX, w->st);
	scn_lock(w->s, &w->shell, &w->vf1, w->st);
	scn_vfio(w->s, &w->shell, HM_EV_VFIO_UNREGISTER_BEGIN, &w->vf1, 0);
	scn_advance(w->s, 12000 * MS);
	scn_vfio(w->s, &w->qemu, HM_EV_VFIO_CLOSE, &w->vf1, 0);
	scn_vfio(w->s, &w->shell, HM_EV_VFIO_UNREGISTER_END, &w->vf1, 0);
	unit_run_engine(w->s, NULL, &w->found);
	f = unit_find_kind(&w->found, HM_FIND_VFIO_USER_WAIT);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "\"qemu-system-x86\" (pid 2201)"));
	assert_non_null(strstr(f->detail, "blocked on pci_rescan_remove_lock, held by kworker/1:2/97"));
}

static void clean_orders_repeated_are_silent(void **state)
{
	struct world *w = *state;

	build_named(w, "locks-clean");
	run_engine(w);
	assert_int_equal(w->found.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(cycle_through_globals_named_by_symbol),
		T(unnamed_locks_are_classes_by_address),
		T(anonymous_pair_adds_no_edge),
		T(read_only_cycle_is_silent),
		T(read_write_cycle_is_reported),
		T(trylock_of_driver_mutex_adds_no_edge),
		T(driver_mutex_cycle_names_driver_and_field),
		T(rescan_cycle_scenario_reports_one_cycle),
		T(vfio_user_cycle_is_predicted_once),
		T(user_lock_after_close_adds_nothing),
		T(vfio_user_deadlock_names_the_user),
		T(boundary_deadlock_through_a_third_task),
		T(user_blocked_on_unrelated_lock_is_no_deadlock),
		T(long_unbind_wait_names_user_and_its_state),
		T(clean_orders_repeated_are_silent),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
