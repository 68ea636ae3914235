// SPDX-License-Identifier: GPL-2.0
/* The FSM mirror against the transitions documented in vfio_mig_get_next_state(). */
#include "unit.h"

#include <errno.h>

#include "analyzers/mig_fsm.h"
#include "event.h"

#define ALL_CAPS (HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_P2P | HM_MIG_CAP_PRE_COPY)
#define SC HM_MIG_CAP_STOP_COPY
#define MAX_PATH 8
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { ERR = HM_MIG_ERROR, STOP = HM_MIG_STOP, RUN = HM_MIG_RUNNING,
       SCOPY = HM_MIG_STOP_COPY, RESUME = HM_MIG_RESUMING, RUNP2P = HM_MIG_RUNNING_P2P,
       PRE = HM_MIG_PRE_COPY, PREP2P = HM_MIG_PRE_COPY_P2P, END = -1 };

/* A path written as states up to END, e.g. { RUN, RUNP2P, STOP, END }. */
static void assert_path(uint8_t caps, const int *expected)
{
	enum hm_mig_state got[MAX_PATH];
	size_t n = 0, len;

	while (expected[n] != END)
		n++;
	len = hm_mig_path(caps, (unsigned int)expected[0], (unsigned int)expected[n - 1], got,
			  MAX_PATH);
	if (len != n)
		fail_msg("caps %#x %s -> %s: path of %zu states, expected %zu", caps,
			 hm_mig_state_name((unsigned)expected[0]),
			 hm_mig_state_name((unsigned)expected[n - 1]), len, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], expected[i]);
	assert_true(hm_mig_request_legal(caps, (unsigned)expected[0], (unsigned)expected[n - 1]));
}

/* The kernel comment's list of combination transitions with all features. */
static void test_combination_transitions_all_caps(void **state)
{
	static const int paths[][MAX_PATH] = {
		{ PRE, PREP2P, SCOPY, END },
		{ PRE, RUN, RUNP2P, END },
		{ PRE, RUN, RUNP2P, STOP, END },
		{ PRE, RUN, RUNP2P, STOP, RESUME, END },
		{ PREP2P, RUNP2P, RUN, END },
		{ PREP2P, RUNP2P, STOP, END },
		{ PREP2P, RUNP2P, STOP, RESUME, END },
		{ RESUME, STOP, RUNP2P, END },
		{ RESUME, STOP, RUNP2P, PREP2P, END },
		{ RESUME, STOP, RUNP2P, RUN, END },
		{ RESUME, STOP, RUNP2P, RUN, PRE, END },
		{ RESUME, STOP, SCOPY, END },
		{ RUN, RUNP2P, PREP2P, END },
		{ RUN, RUNP2P, STOP, END },
		{ RUN, RUNP2P, STOP, RESUME, END },
		{ RUN, RUNP2P, STOP, SCOPY, END },
		{ RUNP2P, RUN, PRE, END },
		{ RUNP2P, STOP, RESUME, END },
		{ RUNP2P, STOP, SCOPY, END },
		{ STOP, RUNP2P, PREP2P, END },
		{ STOP, RUNP2P, RUN, END },
		{ STOP, RUNP2P, RUN, PRE, END },
		{ SCOPY, STOP, RESUME, END },
		{ SCOPY, STOP, RUNP2P, END },
		{ SCOPY, STOP, RUNP2P, RUN, END },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(paths); i++)
		assert_path(ALL_CAPS, paths[i]);
}

/* Unknown caps (0) are treated as all features. */
static void test_unknown_caps_assume_all(void **state)
{
	static const int path[] = { RUN, RUNP2P, STOP, END };

	(void)state;
	assert_int_equal(hm_mig_caps_effective(0), ALL_CAPS);
	assert_int_equal(hm_mig_caps_effective(SC), SC);
	assert_path(0, path);
}

/* Without P2P the optional states are skipped over. */
static void test_stop_copy_only_paths(void **state)
{
	static const int paths[][MAX_PATH] = {
		{ RUN, STOP, END },
		{ STOP, RUN, END },
		{ RESUME, STOP, RUN, END },
		{ RUN, STOP, SCOPY, END },
		{ SCOPY, STOP, RUN, END },
		{ RUN, STOP, RESUME, END },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(paths); i++)
		assert_path(SC, paths[i]);
}

/* hisi_acc_vfio_pci on 6.2+: STOP_COPY | PRE_COPY, no P2P. */
static void test_precopy_without_p2p_paths(void **state)
{
	static const int paths[][MAX_PATH] = {
		{ RUN, PRE, END },
		{ PRE, SCOPY, END },
		{ PRE, RUN, STOP, END },
		{ SCOPY, STOP, END },
		{ STOP, RUN, PRE, END },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(paths); i++)
		assert_path(SC | HM_MIG_CAP_PRE_COPY, paths[i]);
}

static void test_blocked_requests(void **state)
{
	unsigned int next = 77;

	(void)state;
	/* the table blocks these even though the device supports PRE_COPY */
	assert_false(hm_mig_request_legal(ALL_CAPS, SCOPY, PRE));
	assert_false(hm_mig_request_legal(ALL_CAPS, SCOPY, PREP2P));
	assert_false(hm_mig_request_legal(SC | HM_MIG_CAP_PRE_COPY, SCOPY, PRE));
	assert_int_equal(hm_mig_next_step(ALL_CAPS, SCOPY, PRE, &next), -EINVAL);
	assert_int_equal(next, ERR);
	/* ERROR is never supported: nothing leaves it and nothing may target it */
	for (unsigned int s = 0; s < HM_MIG_NR_STATES; s++) {
		assert_false(hm_mig_request_legal(ALL_CAPS, ERR, s));
		assert_false(hm_mig_request_legal(ALL_CAPS, s, ERR));
	}
	/* states the device lacks */
	assert_false(hm_mig_request_legal(SC, RUN, RUNP2P));
	assert_false(hm_mig_request_legal(SC, RUN, PRE));
	assert_false(hm_mig_request_legal(SC, PRE, RUN));
	assert_int_equal(hm_mig_next_step(SC, RUN, PRE, &next), -EINVAL);
	/* a path that does not fit is refused, not truncated */
	{
		enum hm_mig_state out[2];

		assert_int_equal(hm_mig_path(ALL_CAPS, RUN, SCOPY, out, 2), 0);
	}
}

static void test_next_step_mirrors_kernel(void **state)
{
	unsigned int next;

	(void)state;
	assert_int_equal(hm_mig_next_step(ALL_CAPS, RUN, STOP, &next), 0);
	assert_int_equal(next, RUNP2P);
	assert_int_equal(hm_mig_next_step(SC, RUN, STOP, &next), 0);
	assert_int_equal(next, STOP);
	assert_int_equal(hm_mig_next_step(SC, RESUME, RUN, &next), 0);
	assert_int_equal(next, STOP);
	assert_int_equal(hm_mig_next_step(ALL_CAPS, STOP, STOP, &next), 0);
	assert_int_equal(next, STOP);
	assert_int_equal(hm_mig_next_step(SC, 9, STOP, &next), -EINVAL);
}

struct arc {
	int from, next;
};

/* The legal single arcs (from != next) are exactly the ones the kernel comment
 * says a driver with these caps must implement. */
static void assert_arcs(uint8_t caps, const struct arc *want, size_t nwant)
{
	size_t legal = 0;

	for (size_t i = 0; i < nwant; i++)
		if (!hm_mig_arc_legal(caps, (unsigned)want[i].from, (unsigned)want[i].next))
			fail_msg("caps %#x: %s -> %s should be a legal arc", caps,
				 hm_mig_state_name((unsigned)want[i].from),
				 hm_mig_state_name((unsigned)want[i].next));
	for (unsigned int from = 0; from < HM_MIG_NR_STATES; from++)
		for (unsigned int next = 0; next < HM_MIG_NR_STATES; next++)
			legal += from != next && hm_mig_arc_legal(caps, from, next);
	assert_int_equal(legal, nwant);
}

static void test_required_arcs_per_caps(void **state)
{
	static const struct arc stop_copy[] = {
		{ RESUME, STOP }, { STOP, RESUME }, { STOP, SCOPY }, { SCOPY, STOP },
		{ RUN, STOP }, { STOP, RUN },
	};
	static const struct arc p2p[] = {
		{ RESUME, STOP }, { STOP, RESUME }, { STOP, SCOPY }, { SCOPY, STOP },
		{ RUN, RUNP2P }, { RUNP2P, RUN }, { RUNP2P, STOP }, { STOP, RUNP2P },
	};
	static const struct arc precopy[] = {
		{ RESUME, STOP }, { STOP, RESUME }, { STOP, SCOPY }, { SCOPY, STOP },
		{ RUN, STOP }, { STOP, RUN },
		{ RUN, PRE }, { PRE, RUN }, { PRE, SCOPY },
	};
	static const struct arc all[] = {
		{ RESUME, STOP }, { STOP, RESUME }, { STOP, SCOPY }, { SCOPY, STOP },
		{ RUN, RUNP2P }, { RUNP2P, RUN }, { RUNP2P, STOP }, { STOP, RUNP2P },
		{ PRE, RUN }, { PRE, PREP2P }, { PREP2P, PRE }, { PREP2P, RUNP2P },
		{ PREP2P, SCOPY }, { RUN, PRE }, { RUNP2P, PREP2P },
	};

	(void)state;
	assert_arcs(SC, stop_copy, ARRAY_LEN(stop_copy));
	assert_arcs(SC | HM_MIG_CAP_P2P, p2p, ARRAY_LEN(p2p));
	assert_arcs(SC | HM_MIG_CAP_PRE_COPY, precopy, ARRAY_LEN(precopy));
	assert_arcs(ALL_CAPS, all, ARRAY_LEN(all));
	/* with P2P the direct RUNNING <-> STOP arcs are not handed out */
	assert_false(hm_mig_arc_legal(ALL_CAPS, RUN, STOP));
	assert_false(hm_mig_arc_legal(ALL_CAPS, SCOPY, RESUME));
	assert_false(hm_mig_arc_legal(ALL_CAPS, SCOPY, ERR));
	/* a state the device has maps to itself (cur == target) */
	assert_true(hm_mig_arc_legal(SC, STOP, STOP));
}

static void test_caps_format(void **state)
{
	char buf[HM_MIG_CAPS_STR_LEN];

	(void)state;
	assert_string_equal(hm_mig_caps_format(SC, buf), "STOP_COPY");
	assert_string_equal(hm_mig_caps_format(ALL_CAPS, buf), "STOP_COPY|P2P|PRE_COPY");
	assert_string_equal(hm_mig_caps_format(0, buf), "unknown, assumed STOP_COPY|P2P|PRE_COPY");
	assert_string_equal(hm_mig_caps_format(0x80, buf), "none (0x80)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_combination_transitions_all_caps),
		cmocka_unit_test(test_unknown_caps_assume_all),
		cmocka_unit_test(test_stop_copy_only_paths),
		cmocka_unit_test(test_precopy_without_p2p_paths),
		cmocka_unit_test(test_blocked_requests),
		cmocka_unit_test(test_next_step_mirrors_kernel),
		cmocka_unit_test(test_required_arcs_per_caps),
		cmocka_unit_test(test_caps_format),
	};

	return cmocka_run_group_tests_name("mig_fsm", tests, NULL, NULL);
}
