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
#include "scenario_catalog.h"
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

/* Replay a named scenario through the engine: exactly `findings` findings. */
static void run_named(struct world *w, const char *name, size_t findings)
{
	build_named(w, name);
	run_engine(w);
	assert_int_equal(w->found.n, findings);
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

/* down_read() is not recursive for ordering: an all-read cycle deadlocks once
 * a writer queues between the reads, an error that names the condition. */
static void read_only_cycle_needs_a_queued_writer(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	abba_named(w, HM_LOCK_RWSEM_READ, HM_LOCK_RWSEM_READ);
	run_engine(w);
	/* the cycle, and the reversal of rescan lock before pci_bus_sem */
	assert_int_equal(w->found.n, 2);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_KNOWN_ORDER_REVERSAL), 1);
	f = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_non_null(strstr(f->summary, "(deadlocks with a queued writer)"));
	assert_non_null(strstr(f->detail, "once any writer of"));
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
	assert_non_null(strstr(f->summary, "device_lock(0000:01:00.1 vf:vfio-pci)"));
}

static void rescan_cycle_scenario_reports_one_cycle(void **state)
{
	struct world *w = *state;

	run_named(w, "rescan-cycle", 1);
	assert_non_null(strstr(w->found.items[0].summary, "pci_rescan_remove_lock"));
}

/* Predicted across the boundary: no task ever blocked. */
static void vfio_user_cycle_is_predicted_once(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	run_named(w, "vfio-user-cycle", 1);
	f = unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "vfio_user(0000:01:00.1)"));
	assert_non_null(strstr(f->summary, "device_lock(pf)"));
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

/* The same wait with nothing after it: the clock past the threshold reports it. */
static void long_unbind_wait_reported_when_only_the_clock_moves(void **state)
{
	struct world *w = *state;
	struct hm_engine *e;
	uint64_t began;

	scn_vfio(w->s, &w->qemu, HM_EV_VFIO_OPEN, &w->vf1, 0);
	scn_lock(w->s, &w->shell, &w->vf1, w->st);
	scn_vfio(w->s, &w->shell, HM_EV_VFIO_UNREGISTER_BEGIN, &w->vf1, 0);
	began = w->s->events[w->s->count - 1].hdr.ts_ns;
	e = unit_engine_fed(w->s, NULL, &w->found);
	unit_reported_when_the_clock_passes(e, &w->found, began, 5000 * MS, HM_FIND_VFIO_USER_WAIT);
	hm_engine_free(e);
}

static void clean_orders_repeated_are_silent(void **state)
{
	struct world *w = *state;

	run_named(w, "locks-clean", 0);
}

/* ---- rwsem dependency types, readers, instances, longer cycles ---------- */

static const struct hm_finding *only_cycle(const struct world *w)
{
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 1);
	return unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE);
}

/* A read -> read order, then write -> write, then the reverse read -> read:
 * the writer and the last reader deadlock alone, an error naming the writer. */
static void write_order_after_read_order_closes_cycle(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	run_named(w, "rwsem-abba", 1);
	f = only_cycle(w);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_non_null(strstr(f->detail, "task kworker/1:2/97 took pci_bus_sem (write)"));
	assert_non_null(strstr(f->detail, "task aer-recovery/3301 took "
					  "vfio_pci_core_device.memory_lock@0xffff888104a3d2c0 (read)"));
	assert_null(strstr(f->detail, "task bash/812 took"));
	/* the writer makes it a deadlock of these tasks alone */
	assert_null(strstr(f->summary, "queued writer"));
}

/* The write order seen after a reader-only cycle was reported is the same
 * cycle: one cycle finding (next to the known-order reversal). */
static void write_order_after_reader_only_cycle_is_the_same_cycle(void **state)
{
	struct world *w = *state;

	abba_named(w, HM_LOCK_RWSEM_READ, HM_LOCK_RWSEM_READ);
	scn_nunlock(w->s, &w->kworker, &w->a, HM_LOCK_RWSEM_READ);
	scn_nunlock(w->s, &w->kworker, &w->b, HM_LOCK_RWSEM_READ);
	scn_nlock(w->s, &w->shell, &w->a, HM_LOCK_RWSEM_WRITE, w->st);
	scn_nlock(w->s, &w->shell, &w->b, HM_LOCK_RWSEM_WRITE, w->st);
	run_engine(w);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 1);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_KNOWN_ORDER_REVERSAL), 1);
	assert_int_equal(w->found.n, 2);
	assert_int_equal(unit_find_kind(&w->found, HM_FIND_LOCK_CYCLE)->severity, HM_SEV_ERROR);
}

/* A task reads pci_bus_sem and waits for the PF lock; the PF lock's holder
 * waits to write pci_bus_sem: the reader is a holder, so a deadlock. */
static void reader_held_rwsem_closes_deadlock(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	run_named(w, "rwsem-reader-deadlock", 2);
	f = unit_find_kind(&w->found, HM_FIND_DEADLOCK);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "bash/812 -> pci_bus_sem -> irq/25-aerdrv/141 -> "
					   "device_lock(0000:01:00.0 pf:nvme) -> bash/812"));
	assert_non_null(strstr(f->detail, "task irq/25-aerdrv/141 holds pci_bus_sem"));
	assert_int_equal(only_cycle(w)->severity, HM_SEV_ERROR);
}

/* Read held, a writer queued, the same task reads again: reported as
 * recursive locking, and the wait is a deadlock with the queued writer. */
static void recursive_read_with_queued_writer(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	run_named(w, "rwsem-recursive-read", 2);
	f = only_cycle(w);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_non_null(strstr(f->summary, "possible recursive locking: task CPU 0/KVM/2205 takes "
					   "mmap_lock@0xffff888103f0e0b8 for read while holding it "
					   "for read"));
	assert_non_null(strstr(f->detail, "down_read() is not recursive"));
	f = unit_find_kind(&w->found, HM_FIND_DEADLOCK);
	assert_non_null(f);
	assert_non_null(strstr(f->detail, "task qemu-system-x86/2201 is queued to write "
					  "mmap_lock@0xffff888103f0e0b8 ahead of it"));
}

/* Without a writer it is still reported (lockdep does too), not a deadlock. */
static void recursive_read_alone_is_reported_once(void **state)
{
	struct world *w = *state;

	for (int i = 0; i < 2; i++) {
		scn_nlock(w->s, &w->shell, &w->b, HM_LOCK_RWSEM_READ, w->st);
		scn_nlock(w->s, &w->shell, &w->b, HM_LOCK_RWSEM_READ, w->st);
		scn_nunlock(w->s, &w->shell, &w->b, HM_LOCK_RWSEM_READ);
		scn_nunlock(w->s, &w->shell, &w->b, HM_LOCK_RWSEM_READ);
	}
	run_engine(w);
	assert_int_equal(w->found.n, 1);
	assert_non_null(strstr(only_cycle(w)->summary, "possible recursive locking"));
}

/* After lost records (here hook runs the kernel skipped, as on PREEMPT_RT), a
 * read hold read again or waited on by its own task is a lost up_read(): a
 * stale hold repaired and counted, neither recursive locking nor a
 * self-deadlock. */
static void lost_up_read_is_a_stale_hold_not_recursion(void **state)
{
	struct world *w = *state;
	bool repaired = false;

	scn_lost(w->s, 3, HM_LOST_SKIPPED_RUNS);
	scn_nlock(w->s, &w->shell, &w->b, HM_LOCK_RWSEM_READ, w->st); /* up_read lost */
	scn_nlock(w->s, &w->shell, &w->b, HM_LOCK_RWSEM_READ, w->st); /* up_read lost */
	scn_nlock_wait(w->s, &w->shell, &w->b, HM_LOCK_RWSEM_WRITE, w->st);
	run_engine(w);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 0);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_DEADLOCK), 0);
	/* a lost-events finding says what was lost and repaired */
	for (size_t i = 0; i < w->found.n; i++)
		repaired |= w->found.items[i].kind == HM_FIND_LOST_EVENTS &&
			    strstr(w->found.items[i].summary, "stale-holds") != NULL;
	assert_true(repaired);
}

/* VF1 and VF2 are locked in bus order in two SR-IOV cycles, their struct
 * devices swapped the second time: the removed VFs were forgotten. */
static void readdressed_vfs_are_new_instances(void **state)
{
	struct world *w = *state;

	run_named(w, "vf-readdress", 0);
}

/* The VFIO-user pseudo-lock is per device: a user of one PF's VF and another
 * PF's SR-IOV disable share no lock. */
static void vfio_user_of_another_pf_is_no_cycle(void **state)
{
	struct world *w = *state;

	run_named(w, "vfio-user-two-pfs", 0);
}

/* One new edge closes two cycles: the shortest is the error, the longer one
 * listed in it. */
static void longer_cycle_is_listed_in_the_shortest(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	run_named(w, "longer-cycle", 2);
	f = only_cycle(w);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_non_null(strstr(f->detail, "Chain exists of:\n"
					  "  device_lock(pf) --> device_lock(vf) --> device_lock(pf)\n"));
	assert_non_null(strstr(f->detail, "Longer cycles this acquisition closes too:\n"
					  "  device_lock(pf) --> pci_rescan_remove_lock --> "
					  "device_lock(vf) --> device_lock(pf)\n"));
}

/* 6.1's sriov_numvfs_store() takes pci_rescan_remove_lock under the PF lock,
 * then each VF's lock: after a VF path locked the PF, that one acquisition
 * closes VF -> PF -> VF and VF -> PF -> rescan -> VF: one error, both listed. */
static void one_acquisition_closing_two_cycles_is_one_finding(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	scn_lock(w->s, &w->kworker, &w->vf1, w->st);
	scn_lock(w->s, &w->kworker, &w->pf, w->st);
	scn_unlock(w->s, &w->kworker, &w->pf);
	scn_unlock(w->s, &w->kworker, &w->vf1);
	scn_lock(w->s, &w->shell, &w->pf, w->st);
	scn_nlock(w->s, &w->shell, &w->a, HM_LOCK_MUTEX, w->st);
	scn_lock(w->s, &w->shell, &w->vf1, w->st);
	unit_run_analyzer(&hm_lock_order_analyzer, w->s, NULL, &w->found);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 1);
	f = only_cycle(w);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_non_null(strstr(f->summary, "device_lock(vf) --> device_lock(pf) --> device_lock(vf)"));
	assert_non_null(strstr(f->detail, "Longer cycles this acquisition closes too:\n"
					  "  device_lock(vf) --> device_lock(pf) --> "
					  "pci_rescan_remove_lock --> device_lock(vf)\n"));
}

/* A longer cycle closed later through a reported one is an info naming it. */
static void longer_cycle_found_later_is_info(void **state)
{
	struct world *w = *state;

	run_named(w, "longer-cycle-later", 3);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_LOCK_CYCLE), 2);
	assert_int_equal(w->found.items[2].kind, HM_FIND_LOCK_CYCLE);
	assert_int_equal(w->found.items[2].severity, HM_SEV_INFO);
	assert_non_null(strstr(w->found.items[2].summary,
			       "through the reported cycle device_lock(pf) --> device_lock(vf) --> "
			       "device_lock(pf)"));
}

/* The seed bug as the kernel runs it: __device_attach() locks the VF before
 * dev->driver is set, SR-IOV disable locks it bound: one class, a cycle. */
static void probe_time_vf_lock_is_the_class_of_the_bound_vf(void **state)
{
	struct world *w = *state;

	run_named(w, "seed-bug", 2);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_VF_PF_ORDER), 1);
	assert_int_equal(only_cycle(w)->severity, HM_SEV_ERROR);
	assert_non_null(strstr(only_cycle(w)->summary,
			       "device_lock(vf) --> device_lock(pf) --> device_lock(vf)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(cycle_through_globals_named_by_symbol),
		T(unnamed_locks_are_classes_by_address),
		T(anonymous_pair_adds_no_edge),
		T(read_only_cycle_needs_a_queued_writer),
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
		T(long_unbind_wait_reported_when_only_the_clock_moves),
		T(clean_orders_repeated_are_silent),
		T(write_order_after_read_order_closes_cycle),
		T(write_order_after_reader_only_cycle_is_the_same_cycle),
		T(reader_held_rwsem_closes_deadlock),
		T(recursive_read_with_queued_writer),
		T(recursive_read_alone_is_reported_once),
		T(lost_up_read_is_a_stale_hold_not_recursion),
		T(readdressed_vfs_are_new_instances),
		T(vfio_user_of_another_pf_is_no_cycle),
		T(longer_cycle_is_listed_in_the_shortest),
		T(longer_cycle_found_later_is_info),
		T(one_acquisition_closing_two_cycles_is_one_finding),
		T(probe_time_vf_lock_is_the_class_of_the_bound_vf),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
