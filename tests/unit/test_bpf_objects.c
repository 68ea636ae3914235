// SPDX-License-Identifier: GPL-2.0
/*
 * The skeletons and the hook tables agree: every hooked function has its
 * programs in its object for both attach modes, and every program of every
 * object serves a hooked function (none left out of the program tables).
 */
#include <bpf/libbpf.h>
#include <string.h>

#include "bpf_objects.h"
#include "targets.h"
#include "unit.h"

static void check_target(const struct hm_bpf_skel *s, const struct hm_target *t)
{
	struct bpf_program *fentry[2], *kprobe[2];

	if (!hm_bpf_hook_progs(s, t->progs, HM_MODE_FENTRY, fentry) ||
	    !hm_bpf_hook_progs(s, t->progs, HM_MODE_KPROBE, kprobe))
		fail_msg("%s: no programs %s_* in the %s object", t->func, t->progs,
			 hm_bpf_obj_name(t->obj));
	assert_true(fentry[0] || fentry[1]);
	/* a kretprobe alone would not see the arguments: an entry probe always */
	assert_non_null(kprobe[0]);
	assert_false(hm_bpf_hook_progs(s, t->progs, HM_MODE_MISSING, fentry));
}

/* Is prog one of the programs some target of this object uses? */
static bool used_by_a_target(const struct hm_bpf_skel *s, const struct bpf_program *prog)
{
	const struct hm_target *tables[] = { hm_targets, hm_driver_targets };
	const size_t counts[] = { hm_target_count, hm_driver_target_count };
	struct bpf_program *p[2];

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < counts[k]; i++) {
			const struct hm_target *t = &tables[k][i];

			if (t->obj != s->id)
				continue;
			for (int mode = HM_MODE_FENTRY; mode <= HM_MODE_KPROBE; mode++)
				if (hm_bpf_hook_progs(s, t->progs, (enum hm_attach_mode)mode, p) &&
				    (p[0] == prog || p[1] == prog))
					return true;
		}
	return false;
}

static void skeletons_and_targets_agree(void **state)
{
	(void)state;
	for (int id = 0; id < HM_OBJ_COUNT; id++) {
		struct hm_bpf_skel s;
		struct bpf_program *prog;

		assert_true(hm_bpf_skel_open((enum hm_bpf_obj_id)id, &s));
		for (size_t i = 0; i < hm_target_count; i++)
			if (hm_targets[i].obj == s.id)
				check_target(&s, &hm_targets[i]);
		for (size_t i = 0; i < hm_driver_target_count; i++)
			if (hm_driver_targets[i].obj == s.id)
				check_target(&s, &hm_driver_targets[i]);
		bpf_object__for_each_program(prog, s.obj)
			if (!used_by_a_target(&s, prog))
				fail_msg("program %s of the %s object hooks nothing",
					 bpf_program__name(prog), hm_bpf_obj_name(s.id));
		hm_bpf_skel_destroy(&s);
	}
}

/* Every object shares the same maps under the same names. */
static void shared_maps_are_the_same_in_every_object(void **state)
{
	static const char *const names[HM_SHARED_MAPS] = {
		"events", "stacks", "lost", "learn_counts", "learn_tasks", "learned_locks",
		"vfio_users", "mig_files",
	};

	(void)state;
	for (int id = 0; id < HM_OBJ_COUNT; id++) {
		struct bpf_map *maps[HM_SHARED_MAPS];
		struct hm_bpf_skel s;

		assert_true(hm_bpf_skel_open((enum hm_bpf_obj_id)id, &s));
		hm_bpf_shared_maps(&s, maps);
		for (int m = 0; m < HM_SHARED_MAPS; m++)
			assert_string_equal(bpf_map__name(maps[m]), names[m]);
		hm_bpf_skel_destroy(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(skeletons_and_targets_agree),
		cmocka_unit_test(shared_maps_are_the_same_in_every_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
