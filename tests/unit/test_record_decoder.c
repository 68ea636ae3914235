// SPDX-License-Identifier: GPL-2.0
/*
 * The live record path below the ring buffer: malformed records never reach
 * the session, a named lock's LOCK_CLASS record comes before its first
 * record and only then, device mutexes and nameless locks get none; an
 * ACQUIRED record without a stack gets the stack of its task's WAIT.
 */
#include <stdio.h>
#include <string.h>

#include "kfeatures.h"
#include "lock_names.h"
#include "record_decoder.h"
#include "session.h"
#include "targets.h"
#include "unit.h"

#define MAX_SEEN 16

struct seen {
	unsigned int types[MAX_SEEN];
	char names[MAX_SEEN][HM_FUNC_LEN];   /* a LOCK_CLASS record's name */
	int32_t stacks[MAX_SEEN];
	size_t n;
};

static void on_event(void *ctx, const union hm_event *ev,
		     const struct hm_model_change *change __attribute__((unused)))
{
	struct seen *s = ctx;

	assert_true(s->n < MAX_SEEN);
	if (ev->hdr.type == HM_EV_LOCK_CLASS)
		snprintf(s->names[s->n], sizeof(s->names[s->n]), "%s", ev->lock_class.name);
	s->stacks[s->n] = ev->hdr.stack_id;
	s->types[s->n++] = ev->hdr.type;
}

struct fx {
	struct seen seen;
	struct hm_session_opts opts;
	struct hm_session *session;
	struct hm_kernel *kernel;
	struct hm_lock_names *names;
	struct hm_record_decoder *decoder;
	char *text;
	size_t len;
};

#define KNOWN_ADDR 0xffffffff82001000ULL /* hm_known_locks[1] */

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	uint64_t known[HM_MAX_KNOWN_LOCKS] = { [1] = KNOWN_ADDR };
	struct hm_observer obs = { .on_event = on_event };
	char err[256];

	assert_non_null(x);
	obs.ctx = &x->seen;
	hm_session_opts_defaults(&x->opts);
	x->opts.out = open_memstream(&x->text, &x->len);
	x->session = hm_session_new(&x->opts, err, sizeof(err));
	assert_non_null(x->session);
	assert_true(hm_session_add_observer(x->session, &obs));
	x->kernel = hm_kernel_open();
	/* no BPF maps here: a learned lock's owner is never found */
	x->names = hm_lock_names_new(-1, known);
	x->decoder = hm_record_decoder_new(x->session, x->kernel, -1, x->names);
	assert_non_null(x->kernel);
	assert_non_null(x->decoder);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	hm_session_finish(x->session, "unit", 0, 0);
	hm_session_free(x->session);
	fclose(x->opts.out);
	free(x->text);
	hm_record_decoder_free(x->decoder);
	hm_lock_names_free(x->names);
	hm_kernel_free(x->kernel);
	free(x);
	return 0;
}

static struct hm_lock_event lock_record(unsigned int type, uint64_t addr, unsigned int lock_type,
					unsigned int origin)
{
	struct hm_lock_event e = { 0 };

	e.hdr = (struct hm_event_header){ .type = type, .size = sizeof(e), .cpu = 1,
					  .ts_ns = 1000, .pid = 7, .tid = 7, .stack_id = -1 };
	e.lock_addr = addr;
	e.lock_type = lock_type;
	e.origin = origin;
	return e;
}

static void decode(struct fx *x, const void *rec, size_t len)
{
	char copy[sizeof(union hm_event) + 8];

	memcpy(copy, rec, len);
	assert_int_equal(hm_record_decode(x->decoder, copy, len), 0);
}

static void malformed_records_are_dropped(void **state)
{
	struct fx *x = *state;
	struct hm_lock_event e = lock_record(HM_EV_LOCK_ACQUIRED, KNOWN_ADDR, HM_LOCK_MUTEX,
					     HM_LOCK_ORIGIN_GLOBAL);

	decode(x, &e, sizeof(e) - 8);             /* shorter than its type */
	e.hdr.type = 200;                          /* no such type */
	decode(x, &e, sizeof(e));
	assert_int_equal(x->seen.n, 0);
}

static void a_known_global_is_named_before_its_first_record(void **state)
{
	struct fx *x = *state;
	struct hm_lock_event wait = lock_record(HM_EV_LOCK_WAIT, KNOWN_ADDR, HM_LOCK_MUTEX,
						HM_LOCK_ORIGIN_GLOBAL);
	struct hm_lock_event acquired = wait;

	acquired.hdr.type = HM_EV_LOCK_ACQUIRED;
	decode(x, &wait, sizeof(wait));
	decode(x, &acquired, sizeof(acquired));
	assert_int_equal(x->seen.n, 3);
	assert_int_equal(x->seen.types[0], HM_EV_LOCK_CLASS);
	assert_string_equal(x->seen.names[0], hm_known_locks[1].symbol);
	assert_int_equal(x->seen.types[1], HM_EV_LOCK_WAIT);
	assert_int_equal(x->seen.types[2], HM_EV_LOCK_ACQUIRED);
}

static void names_by_origin(void **state)
{
	struct fx *x = *state;
	struct hm_lock_event device = lock_record(HM_EV_LOCK_WAIT, 0x1000, HM_LOCK_DEVICE_MUTEX,
						  HM_LOCK_ORIGIN_DEVICE);
	struct hm_lock_event mmap = lock_record(HM_EV_LOCK_WAIT, 0x2000, HM_LOCK_RWSEM_READ,
						HM_LOCK_ORIGIN_MMAP);
	struct hm_lock_event learned = lock_record(HM_EV_LOCK_WAIT, 0x3000, HM_LOCK_MUTEX,
						   HM_LOCK_ORIGIN_LEARNED);
	struct hm_lock_event nested = lock_record(HM_EV_LOCK_WAIT, 0x4000, HM_LOCK_MUTEX,
						  HM_LOCK_ORIGIN_NESTED);

	decode(x, &device, sizeof(device));
	decode(x, &mmap, sizeof(mmap));
	decode(x, &learned, sizeof(learned));
	decode(x, &nested, sizeof(nested));
	assert_int_equal(x->seen.n, 6);
	assert_int_equal(x->seen.types[0], HM_EV_LOCK_WAIT);
	assert_string_equal(x->seen.names[1], "mmap_lock");
	assert_string_equal(x->seen.names[3], "vfio learned lock");
	assert_int_equal(x->seen.types[5], HM_EV_LOCK_WAIT);
}

/* bpf/locks.bpf.c walks an acquisition's stack at its WAIT only */
static void an_acquisition_gets_the_stack_of_its_wait(void **state)
{
	struct fx *x = *state;
	struct hm_lock_event wait = lock_record(HM_EV_LOCK_WAIT, 0x1000, HM_LOCK_DEVICE_MUTEX,
						HM_LOCK_ORIGIN_DEVICE);
	struct hm_lock_event acquired = wait, other_task, no_wait;

	wait.hdr.stack_id = 5;
	acquired.hdr.type = HM_EV_LOCK_ACQUIRED;
	other_task = acquired;
	other_task.hdr.tid = 8;
	no_wait = acquired;
	no_wait.lock_addr = 0x2000;
	decode(x, &wait, sizeof(wait));
	decode(x, &other_task, sizeof(other_task)); /* not the waiting task */
	decode(x, &no_wait, sizeof(no_wait));       /* not the lock it waited for */
	decode(x, &acquired, sizeof(acquired));
	decode(x, &acquired, sizeof(acquired));     /* the wait is used up */
	assert_int_equal(x->seen.n, 5);
	assert_int_equal(x->seen.stacks[0], 5);
	assert_int_equal(x->seen.stacks[1], -1);
	assert_int_equal(x->seen.stacks[2], -1);
	assert_int_equal(x->seen.stacks[3], 5);
	assert_int_equal(x->seen.stacks[4], -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(malformed_records_are_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(a_known_global_is_named_before_its_first_record,
						setup, teardown),
		cmocka_unit_test_setup_teardown(names_by_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(an_acquisition_gets_the_stack_of_its_wait, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
