// SPDX-License-Identifier: GPL-2.0
/* Deadlock analyzer: live wait-for cycles over device locks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "unit.h"

#define PF_BDF "0000:01:00.0"

struct world {
	struct scenario *s;
	struct hm_device pf, vf1, vf2;
	struct scn_task a, b, c;
	int32_t st_a, st_b, st_c, st_wait_a, st_wait_b, st_wait_c;
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
	w->a = scn_task(812, "bash");
	w->b = scn_task(123, "kworker/0:1");
	w->c = scn_task(777, "qemu-kvm");
	w->st_a = scn_stack(w->s, "mutex_lock", "sriov_numvfs_store", NULL);
	w->st_b = scn_stack(w->s, "mutex_lock", "vfio_pci_core_ioctl", NULL);
	w->st_c = scn_stack(w->s, "mutex_lock", "vfio_pci_core_open", NULL);
	w->st_wait_a = scn_stack(w->s, "__mutex_lock_slowpath", "pci_iov_remove_virtfn", NULL);
	w->st_wait_b = scn_stack(w->s, "__mutex_lock_slowpath", "hisi_acc_get_pf_locked", NULL);
	w->st_wait_c = scn_stack(w->s, "__mutex_lock_slowpath", "vfio_pci_core_reset", NULL);
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
	unit_run_analyzer(&hm_deadlock_analyzer, w->s, NULL, &w->found);
}

static uint64_t last_ts(const struct world *w)
{
	return w->s->events[w->s->count - 1].hdr.ts_ns;
}

/* SR-IOV disable (a) holds the PF and waits for VF1; the VF driver (b)
 * holds VF1 and waits for the PF. Returns the closing wait's timestamp. */
static uint64_t abba_closed_by(struct world *w, const struct scn_task *a,
			       const struct scn_task *b, bool a_waits_last)
{
	scn_lock(w->s, a, &w->pf, w->st_a);
	scn_lock(w->s, b, &w->vf1, w->st_b);
	if (a_waits_last) {
		scn_lock_wait(w->s, b, &w->pf, w->st_wait_b);
		scn_lock_wait(w->s, a, &w->vf1, w->st_wait_a);
	} else {
		scn_lock_wait(w->s, a, &w->vf1, w->st_wait_a);
		scn_lock_wait(w->s, b, &w->pf, w->st_wait_b);
	}
	return last_ts(w);
}

static uint64_t abba(struct world *w, const struct scn_task *a, const struct scn_task *b)
{
	return abba_closed_by(w, a, b, false);
}

/* Both waits end with -EINTR (killable), and the locks are released. */
static void abba_interrupted(struct world *w, const struct scn_task *a, const struct scn_task *b)
{
	scn_lock_acquired(w->s, b, &w->pf, w->st_wait_b);
	w->s->events[w->s->count - 1].lock.ret = -4;
	scn_unlock(w->s, b, &w->vf1);
	scn_lock_acquired(w->s, a, &w->vf1, w->st_wait_a);
	scn_unlock(w->s, a, &w->vf1);
	scn_unlock(w->s, a, &w->pf);
}

static void test_abba_reported_at_the_closing_wait(void **state)
{
	struct world *w = *state;
	struct hm_emitter em = { .emit = unit_collect, .ctx = &w->found };
	struct hm_config cfg;
	uint64_t closing_ts = abba(w, &w->a, &w->b);
	const struct hm_finding *f;
	struct unit_rig rig;

	/* fed by hand: the finding must exist before finish() */
	hm_config_defaults(&cfg);
	unit_rig_open(&rig, &hm_deadlock_analyzer, &cfg, em);
	for (size_t i = 0; i + 1 < w->s->count; i++)
		unit_rig_feed(&rig, &w->s->events[i]);
	assert_int_equal(w->found.n, 0);
	unit_rig_feed(&rig, &w->s->events[w->s->count - 1]);
	assert_int_equal(w->found.n, 1);
	unit_rig_close(&rig, closing_ts);
	assert_int_equal(w->found.n, 1);

	f = &w->found.items[0];
	assert_int_equal(f->kind, HM_FIND_DEADLOCK);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_int_equal(f->ts_ns, closing_ts);
	assert_int_equal(f->ndevices, 2);
	assert_true(unit_has_device(f, &w->pf));
	assert_true(unit_has_device(f, &w->vf1));
	/* both waits, then where each wanted lock was taken */
	assert_int_equal(f->nevidence, 4);
	assert_int_equal(f->evidence[0].tid, w->b.tid);
	assert_int_equal(f->evidence[0].stack_id, w->st_wait_b);
	assert_int_equal(f->evidence[1].tid, w->a.tid);
	assert_int_equal(f->evidence[1].stack_id, w->st_wait_a);
	assert_int_equal(f->evidence[2].tid, w->a.tid);
	assert_int_equal(f->evidence[2].stack_id, w->st_a);
	assert_int_equal(f->evidence[3].tid, w->b.tid);
	assert_int_equal(f->evidence[3].stack_id, w->st_b);
	assert_non_null(strstr(f->summary, "2 tasks deadlocked: "));
	assert_non_null(strstr(f->detail, "task bash/812 holds device_lock(0000:01:00.0 pf:hisi_zip) "
					  "[acquired at 1.000010s, stack #0]"));
	assert_non_null(strstr(f->detail, "and waits for device_lock(0000:01:00.1 vf:hisi-test-vf)"));
	assert_non_null(strstr(f->detail, "task kworker/0:1/123 holds "
					  "device_lock(0000:01:00.1 vf:hisi-test-vf)"));
}

static void test_three_task_cycle(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;
	uint64_t closing_ts;

	scn_lock(w->s, &w->a, &w->pf, w->st_a);
	scn_lock(w->s, &w->b, &w->vf1, w->st_b);
	scn_lock(w->s, &w->c, &w->vf2, w->st_c);
	scn_lock_wait(w->s, &w->a, &w->vf1, w->st_wait_a);
	scn_lock_wait(w->s, &w->b, &w->vf2, w->st_wait_b);
	scn_lock_wait(w->s, &w->c, &w->pf, w->st_wait_c);
	closing_ts = last_ts(w);
	run(w);

	assert_int_equal(w->found.n, 1);
	f = &w->found.items[0];
	assert_int_equal(f->kind, HM_FIND_DEADLOCK);
	assert_int_equal(f->ts_ns, closing_ts);
	assert_int_equal(f->ndevices, 3);
	assert_int_equal(f->nevidence, 6);
	assert_int_equal(f->evidence[0].stack_id, w->st_wait_c);
	assert_int_equal(f->evidence[1].stack_id, w->st_wait_a);
	assert_int_equal(f->evidence[2].stack_id, w->st_wait_b);
	assert_int_equal(f->evidence[3].stack_id, w->st_a); /* pf, wanted by c */
	assert_int_equal(f->evidence[4].stack_id, w->st_b);
	assert_int_equal(f->evidence[5].stack_id, w->st_c);
	assert_non_null(strstr(f->summary, "3 tasks deadlocked: qemu-kvm/777 -> "
					   "device_lock(0000:01:00.0 pf:hisi_zip) -> bash/812"));
	assert_non_null(strstr(f->detail, "task qemu-kvm/777 holds "
					  "device_lock(0000:01:00.2 vf:hisi-test-vf)"));
}

static void test_waits_that_resolve_are_fine(void **state)
{
	struct world *w = *state;

	/* b lets go of VF1 before it waits for the PF */
	scn_lock(w->s, &w->a, &w->pf, w->st_a);
	scn_lock(w->s, &w->b, &w->vf1, w->st_b);
	scn_lock_wait(w->s, &w->a, &w->vf1, w->st_wait_a);
	scn_unlock(w->s, &w->b, &w->vf1);
	scn_lock_acquired(w->s, &w->a, &w->vf1, w->st_wait_a);
	scn_lock_wait(w->s, &w->b, &w->pf, w->st_wait_b);
	scn_unlock(w->s, &w->a, &w->vf1);
	scn_unlock(w->s, &w->a, &w->pf);
	scn_lock_acquired(w->s, &w->b, &w->pf, w->st_wait_b);
	scn_unlock(w->s, &w->b, &w->pf);
	/* an interrupted wait is no longer a wait */
	scn_lock(w->s, &w->a, &w->pf, w->st_a);
	scn_lock(w->s, &w->b, &w->vf1, w->st_b);
	scn_lock_wait(w->s, &w->a, &w->vf1, w->st_wait_a);
	scn_lock_acquired(w->s, &w->a, &w->vf1, w->st_wait_a);
	w->s->events[w->s->count - 1].lock.ret = -4;
	scn_lock_wait(w->s, &w->b, &w->pf, w->st_wait_b);
	run(w);

	assert_int_equal(w->found.n, 0);
}

static void test_wait_for_a_free_lock_is_fine(void **state)
{
	struct world *w = *state;

	scn_lock_wait(w->s, &w->a, &w->pf, w->st_wait_a);
	/* owned before the trace started: released, so unknown, so free */
	scn_unlock(w->s, &w->b, &w->vf1);
	scn_lock(w->s, &w->a, &w->vf1, w->st_a);
	scn_lock_wait(w->s, &w->b, &w->pf, w->st_wait_b);
	run(w);

	assert_int_equal(w->found.n, 0);
}

static void test_task_waiting_for_its_own_lock(void **state)
{
	struct world *w = *state;
	const struct hm_finding *f;

	scn_lock(w->s, &w->b, &w->vf1, w->st_b);
	scn_lock_wait(w->s, &w->b, &w->vf1, w->st_wait_b);
	run(w);

	assert_int_equal(w->found.n, 1);
	f = &w->found.items[0];
	assert_int_equal(f->kind, HM_FIND_DEADLOCK);
	assert_non_null(strstr(f->summary, "1 task deadlocked: kworker/0:1/123 -> "));
	assert_int_equal(f->nevidence, 2);
}

/* The same, with the owner the kernel read at the wait: it is the task. */
static void test_kernel_owner_confirms_self_deadlock(void **state)
{
	struct world *w = *state;

	scn_lock(w->s, &w->b, &w->vf1, w->st_b);
	scn_lock_wait_owner(w->s, &w->b, &w->vf1, w->b.tid, w->st_wait_b);
	run(w);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_DEADLOCK), 1);
}

/* The kernel says the lock is free: its release was lost (a skipped hook
 * run), not a deadlock; the stale hold goes. */
static void test_lost_release_is_no_self_deadlock(void **state)
{
	struct world *w = *state;

	scn_lock(w->s, &w->b, &w->vf1, w->st_b);
	scn_lock_wait_owner(w->s, &w->b, &w->vf1, 0, w->st_wait_b);
	scn_lock_acquired(w->s, &w->b, &w->vf1, w->st_b);
	run(w);
	assert_int_equal(w->found.n, 0);
}

/* PREEMPT_RT, 6.12: up_write(&pci_bus_sem) skipped, then down_read of it in
 * the same task (pci_destroy_dev, then pcie_aspm_exit_link_state). The
 * kernel read no writer at the read wait: the write hold is stale. */
static void test_lost_up_write_before_down_read(void **state)
{
	struct world *w = *state;
	struct scn_named_lock sem =
		scn_named_lock(w->s, "pci_bus_sem", HM_LOCK_ORIGIN_GLOBAL, 0xffffffff82a1c120ULL);

	scn_nlock(w->s, &w->a, &sem, HM_LOCK_RWSEM_WRITE, w->st_a);
	scn_nlock_wait_owner(w->s, &w->a, &sem, HM_LOCK_RWSEM_READ, 0, w->st_wait_a);
	run(w);
	assert_int_equal(w->found.n, 0);
}

/* A lost release in one task, then ABBA with another: B waits for the lock
 * A seems to hold, but the kernel read no owner, so no deadlock. */
static void test_lost_release_of_another_task_closes_no_deadlock(void **state)
{
	struct world *w = *state;

	scn_lock(w->s, &w->a, &w->vf1, w->st_a); /* its unlock was skipped */
	scn_lock(w->s, &w->b, &w->pf, w->st_b);
	scn_lock_wait_owner(w->s, &w->a, &w->pf, w->b.tid, w->st_wait_a);
	scn_lock_wait_owner(w->s, &w->b, &w->vf1, 0, w->st_wait_b);
	run(w);
	assert_int_equal(w->found.n, 0);
}

/* The same read wait while the kernel names the task as the writer: a real
 * self-deadlock (down_read under one's own down_write). */
static void test_down_read_under_own_down_write(void **state)
{
	struct world *w = *state;
	struct scn_named_lock sem =
		scn_named_lock(w->s, "pci_bus_sem", HM_LOCK_ORIGIN_GLOBAL, 0xffffffff82a1c120ULL);

	scn_nlock(w->s, &w->a, &sem, HM_LOCK_RWSEM_WRITE, w->st_a);
	scn_nlock_wait_owner(w->s, &w->a, &sem, HM_LOCK_RWSEM_READ, w->a.tid, w->st_wait_a);
	run(w);
	assert_int_equal(unit_count_kind(&w->found, HM_FIND_DEADLOCK), 1);
}

static void test_same_deadlock_reported_once(void **state)
{
	struct world *w = *state;

	for (uint32_t i = 0; i < 4; i++) {
		struct scn_task a = scn_task(900 + i, "bash");
		struct scn_task b = scn_task(950 + i, "kworker/0:1");

		/* closed from either side, it is the same deadlock */
		abba_closed_by(w, &a, &b, i % 2);
		abba_interrupted(w, &a, &b);
	}
	unit_run_engine(w->s, NULL, &w->found);

	assert_int_equal(unit_count_kind(&w->found, HM_FIND_DEADLOCK), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_abba_reported_at_the_closing_wait),
		T(test_three_task_cycle),
		T(test_waits_that_resolve_are_fine),
		T(test_wait_for_a_free_lock_is_fine),
		T(test_task_waiting_for_its_own_lock),
		T(test_kernel_owner_confirms_self_deadlock),
		T(test_lost_release_is_no_self_deadlock),
		T(test_lost_up_write_before_down_read),
		T(test_down_read_under_own_down_write),
		T(test_lost_release_of_another_task_closes_no_deadlock),
		T(test_same_deadlock_reported_once),
	};

	return cmocka_run_group_tests_name("deadlock", tests, NULL, NULL);
}
