// SPDX-License-Identifier: GPL-2.0
/* The lock graph's dependency types, node removal and path enumeration, and
 * the tracker's read holds (readers as holders, recursive reads, stale readers). */
#include <stdlib.h>
#include <string.h>

#include "analyzers/lock_graph.h"
#include "analyzers/lock_track.h"
#include "unit.h"

static struct hm_lock_event acq(uint64_t addr, enum hm_lock_type type, uint32_t tid)
{
	struct hm_lock_event ev = { .lock_addr = addr, .lock_type = type };

	ev.hdr.type = HM_EV_LOCK_ACQUIRED;
	ev.hdr.tid = tid;
	ev.hdr.pid = tid;
	return ev;
}

static void edge_keeps_each_dependency_type(void **state)
{
	struct hm_lock_event ar = acq(0x10, HM_LOCK_RWSEM_READ, 1), br = acq(0x20, HM_LOCK_RWSEM_READ, 1);
	struct hm_lock_event aw = acq(0x10, HM_LOCK_RWSEM_WRITE, 2), bw = acq(0x20, HM_LOCK_RWSEM_WRITE, 2);
	const struct lg_edge *e;
	struct lock_graph g;

	(void)state;
	lg_init(&g, 16);
	e = lg_add(&g, 0x10, 0x20, &ar, &br);
	assert_non_null(e);
	assert_int_equal(e->first, LG_DEP_READ_READ);
	assert_null(lg_add(&g, 0x10, 0x20, &ar, &br));        /* known type: nothing new */
	assert_ptr_equal(lg_add(&g, 0x10, 0x20, &aw, &bw), e); /* a new type of a known edge */
	assert_non_null(e->dep[LG_DEP_EXCL_EXCL]);
	assert_int_equal(e->dep[LG_DEP_EXCL_EXCL]->held.hdr.tid, 2);
	assert_ptr_equal(lg_first(e), e->dep[LG_DEP_READ_READ]);
	assert_int_equal(g.nedges, 1);
	lg_free(&g);
}

static void removed_node_takes_its_edges(void **state)
{
	struct hm_lock_event x = acq(0x10, HM_LOCK_MUTEX, 1);
	const struct lg_edge *path[LG_MAX_PATH];
	struct lock_graph g;

	(void)state;
	lg_init(&g, 16);
	assert_non_null(lg_add(&g, 1, 2, &x, &x));
	assert_non_null(lg_add(&g, 2, 3, &x, &x));
	assert_non_null(lg_add(&g, 3, 2, &x, &x));
	assert_int_equal(lg_find_path(&g, 1, 3, path, LG_MAX_PATH), 2);
	lg_remove_node(&g, 2);
	assert_int_equal(g.nedges, 0);
	assert_null(lg_find(&g, 1, 2));
	assert_null(lg_find(&g, 3, 2));
	assert_int_equal(lg_find_path(&g, 1, 3, path, LG_MAX_PATH), 0);
	/* the key can come back as a new node */
	assert_non_null(lg_add(&g, 3, 2, &x, &x));
	lg_free(&g);
}

static bool count_path(const struct lg_edge *const *path, size_t len, void *ctx)
{
	size_t *lens = ctx;

	(void)path;
	lens[len]++;
	return true;
}

static void every_simple_path_is_given(void **state)
{
	struct hm_lock_event x = acq(0x10, HM_LOCK_MUTEX, 1);
	size_t lens[LG_MAX_PATH + 1] = { 0 };
	struct lock_graph g;

	(void)state;
	lg_init(&g, 16);
	lg_add(&g, 1, 4, &x, &x);       /* 1 -> 4 */
	lg_add(&g, 1, 2, &x, &x);       /* 1 -> 2 -> 4 */
	lg_add(&g, 2, 4, &x, &x);
	lg_add(&g, 2, 3, &x, &x);       /* 1 -> 2 -> 3 -> 4 */
	lg_add(&g, 3, 4, &x, &x);
	lg_add(&g, 3, 1, &x, &x);       /* back to the start: not a path to 4 */
	assert_int_equal(lg_each_path(&g, 1, 4, LG_MAX_PATH, count_path, lens), 3);
	assert_int_equal(lens[1], 1);
	assert_int_equal(lens[2], 1);
	assert_int_equal(lens[3], 1);
	memset(lens, 0, sizeof(lens));
	assert_int_equal(lg_each_path(&g, 1, 4, 2, count_path, lens), 2);
	lg_free(&g);
}

/* ---- the tracker's read holds ---------------------------------------------- */

struct tracked {
	struct scenario *s;
	struct lt_tracker t;
	struct scn_named_lock sem;
	struct scn_task a, b;
};

static int setup(void **state)
{
	struct tracked *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	k->s = scn_new();
	assert_non_null(k->s);
	lt_init(&k->t);
	k->sem = scn_named_lock(k->s, "pci_bus_sem", HM_LOCK_ORIGIN_GLOBAL, 0xffffffff82a1c120ULL);
	k->a = scn_task(10, "reader");
	k->b = scn_task(20, "writer");
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	struct tracked *k = *state;

	lt_free(&k->t);
	scn_free(k->s);
	free(k);
	return 0;
}

static void apply_all(struct tracked *k)
{
	for (size_t i = 0; i < k->s->count; i++)
		lt_apply(&k->t, &k->s->events[i]);
	k->s->count = 0;
}

static unsigned int depth_of(const struct tracked *k, const struct scn_task *task)
{
	const struct lt_task *found = lt_task_find(&k->t, task->tid);

	return found ? found->depth : 0;
}

static void recursive_read_holds_twice(void **state)
{
	struct tracked *k = *state;

	scn_nlock(k->s, &k->a, &k->sem, HM_LOCK_RWSEM_READ, -1);
	scn_nlock(k->s, &k->a, &k->sem, HM_LOCK_RWSEM_READ, -1);
	apply_all(k);
	assert_int_equal(depth_of(k, &k->a), 2);
	scn_nunlock(k->s, &k->a, &k->sem, HM_LOCK_RWSEM_READ);
	apply_all(k);
	assert_int_equal(depth_of(k, &k->a), 1);
	assert_int_equal(k->t.stats.stale_holds, 0);
}

/* A writer waiting for a reader is blocked by it; a later reader waits for
 * the queued writer. */
static void readers_block_writers_and_queued_writers_block_readers(void **state)
{
	struct tracked *k = *state;
	struct scn_task c = scn_task(30, "late reader");
	const struct lt_task *out[LT_MAX_BLOCKERS];

	scn_nlock(k->s, &k->a, &k->sem, HM_LOCK_RWSEM_READ, -1);
	scn_nlock_wait(k->s, &k->b, &k->sem, HM_LOCK_RWSEM_WRITE, -1);
	scn_nlock_wait(k->s, &c, &k->sem, HM_LOCK_RWSEM_READ, -1);
	apply_all(k);
	assert_int_equal(lt_blockers(&k->t, lt_task_find(&k->t, k->b.tid), out, LT_MAX_BLOCKERS), 1);
	assert_int_equal(out[0]->tid, k->a.tid);
	assert_int_equal(lt_blockers(&k->t, lt_task_find(&k->t, c.tid), out, LT_MAX_BLOCKERS), 1);
	assert_int_equal(out[0]->tid, k->b.tid);
}

/* A writer took it, so the reader's up_read was lost: its hold goes. */
static void writer_acquisition_drops_stale_readers(void **state)
{
	struct tracked *k = *state;

	scn_nlock(k->s, &k->a, &k->sem, HM_LOCK_RWSEM_READ, -1);
	scn_nlock(k->s, &k->b, &k->sem, HM_LOCK_RWSEM_WRITE, -1);
	apply_all(k);
	assert_int_equal(depth_of(k, &k->a), 0);
	assert_int_equal(depth_of(k, &k->b), 1);
	assert_int_equal(k->t.stats.stale_holds, 1);
	assert_null(u64map_get(&k->t.readers, k->sem.addr));
}

/* A wait whose kernel-read owner is a writer: no reader can hold it. */
static void wait_owned_by_a_writer_drops_stale_readers(void **state)
{
	struct tracked *k = *state;
	struct scn_task c = scn_task(30, "third");

	scn_nlock(k->s, &k->a, &k->sem, HM_LOCK_RWSEM_READ, -1);
	scn_nlock_wait_owner(k->s, &c, &k->sem, HM_LOCK_RWSEM_READ, k->b.tid, -1);
	apply_all(k);
	assert_int_equal(depth_of(k, &k->a), 0);
	assert_int_equal(k->t.stats.stale_holds, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(edge_keeps_each_dependency_type),
		cmocka_unit_test(removed_node_takes_its_edges),
		cmocka_unit_test(every_simple_path_is_given),
		cmocka_unit_test_setup_teardown(recursive_read_holds_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(readers_block_writers_and_queued_writers_block_readers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(writer_acquisition_drops_stale_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(wait_owned_by_a_writer_drops_stale_readers, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("lock_graph", tests, NULL, NULL);
}
