// SPDX-License-Identifier: GPL-2.0
/* The trace file: round trip, stack/symbol tables, truncation, bad headers. */
#include "unit.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "scenario_catalog.h"
#include "trace_codec.h"
#include "trace_file.h"

static void temp_path(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/hm-unit-%d-%p.hmt", (int)getpid(), (void *)buf);
}

/* Writes a scenario with two stacks and returns the number of events written. */
static size_t write_sample(const char *path, struct scenario *s)
{
	struct hm_trace_header h;
	struct hm_trace_writer *w;
	char err[256];
	struct hm_device pf = scn_device("0000:01:00.0", HM_ROLE_PF, NULL, "nvme");
	struct hm_device vf = scn_device("0000:01:00.1", HM_ROLE_VF, "0000:01:00.0", "vfio-pci");
	struct scn_task t = scn_task(7, "bash");
	int32_t st1 = scn_stack(s, "mutex_lock", "sriov_numvfs_store", NULL);
	int32_t st2 = scn_stack(s, "mutex_lock", "device_release_driver_internal", NULL);

	scn_lock(s, &t, &pf, st1);
	scn_lock(s, &t, &vf, st2);
	scn_unlock(s, &t, &vf);
	scn_unlock(s, &t, &pf);
	hm_trace_header_for_host(&h);
	w = hm_trace_writer_open(path, &h, err, sizeof(err));
	assert_non_null(w);
	for (size_t i = 0; i < s->count; i++)
		assert_true(hm_trace_write_event(w, &s->events[i], scn_size(s, i), s->stacks));
	assert_true(hm_trace_write_meta(w, "attach.mutex_lock", "fentry"));
	assert_true(hm_trace_writer_close(w, 3, 42));
	return s->count;
}

struct read_back {
	size_t events, stacks, symbols, metas, ends;
	uint64_t lost;
	enum hm_read_status status;
};

static struct read_back read_all(const char *path, struct hm_stacks *store)
{
	struct read_back rb = { 0 };
	struct hm_trace_record rec;
	char err[256];
	struct hm_trace_reader *r = hm_trace_reader_open(path, err, sizeof(err));

	assert_non_null(r);
	while ((rb.status = hm_trace_read(r, &rec)) == HM_READ_OK) {
		switch (rec.kind) {
		case HM_REC_EVENT:
			assert_true(hm_event_valid(rec.data, rec.len));
			rb.events++;
			break;
		case HM_REC_STACK:
			rb.stacks++;
			assert_true(hm_trace_apply_table_record(&rec, store));
			break;
		case HM_REC_SYMBOL:
			rb.symbols++;
			assert_true(hm_trace_apply_table_record(&rec, store));
			break;
		case HM_REC_META:
			rb.metas++;
			assert_string_equal(rec.data, "attach.mutex_lock=fentry");
			break;
		case HM_REC_END: {
			struct hm_trace_end end;

			memcpy(&end, rec.data, sizeof(end));
			rb.lost = end.lost;
			rb.ends++;
			break;
		}
		}
	}
	hm_trace_reader_close(r);
	return rb;
}

static void round_trip_keeps_events_stacks_and_symbols(void **state)
{
	char path[128];
	struct scenario *s = scn_new();
	struct hm_stacks *store = hm_stacks_new();
	const struct hm_stack *st;
	size_t written;
	struct read_back rb;

	(void)state;
	temp_path(path, sizeof(path));
	written = write_sample(path, s);
	rb = read_all(path, store);
	assert_int_equal(rb.status, HM_READ_EOF);
	assert_int_equal(rb.events, written);
	/* each stack and each frame's symbol is stored once, however often used */
	assert_int_equal(rb.stacks, 2);
	assert_int_equal(rb.symbols, 4);
	assert_int_equal(rb.metas, 1);
	assert_int_equal(rb.ends, 1);
	assert_int_equal(rb.lost, 3);
	st = hm_stacks_get(store, 1);
	assert_non_null(st);
	assert_int_equal(st->depth, 2);
	assert_string_equal(hm_stacks_symbol(store, st->ips[1]),
			    "device_release_driver_internal+0x1c/0x90");
	unlink(path);
	hm_stacks_free(store);
	scn_free(s);
}

static void truncated_file_reads_up_to_last_whole_record(void **state)
{
	char path[128];
	struct scenario *s = scn_new();
	struct hm_stacks *store = hm_stacks_new();
	struct read_back rb;
	FILE *f;
	long size;

	(void)state;
	temp_path(path, sizeof(path));
	write_sample(path, s);
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	/* cut into the END record: every event is whole, the end is gone */
	assert_int_equal(ftruncate(fileno(f), size - 10), 0);
	fclose(f);
	rb = read_all(path, store);
	assert_int_equal(rb.status, HM_READ_TRUNCATED);
	assert_int_equal(rb.events, s->count);
	assert_int_equal(rb.ends, 0);
	unlink(path);
	hm_stacks_free(store);
	scn_free(s);
}

static void open_error(const char *content, size_t len, const char *expected)
{
	char path[128], err[256] = "";
	FILE *f;

	temp_path(path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(content, 1, len, f);
	fclose(f);
	assert_null(hm_trace_reader_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, expected));
	unlink(path);
}

static void bad_headers_are_rejected_with_a_reason(void **state)
{
	struct hm_trace_header h;

	(void)state;
	open_error("GARBAGE!", 8, "bad magic");
	hm_trace_header_for_host(&h);
	open_error((const char *)&h, 20, "trace header truncated");
	h.version = 7;
	open_error((const char *)&h, sizeof(h), "trace format version 7 is not supported");
	hm_trace_header_for_host(&h);
	h.endian_mark = 0x04030201;
	open_error((const char *)&h, sizeof(h), "other byte order");
	hm_trace_header_for_host(&h);
	h.abi_version = HM_ABI_VERSION + 1;
	open_error((const char *)&h, sizeof(h), "event ABI");
}

static void malformed_table_records_are_refused(void **state)
{
	struct hm_stacks *store = hm_stacks_new();
	unsigned char bad_stack[12] = { 0 };
	struct hm_trace_record rec = { .kind = HM_REC_STACK, .len = sizeof(bad_stack),
				       .data = bad_stack };
	uint32_t depth = 5; /* claims 5 frames, carries none */

	(void)state;
	memcpy(bad_stack + 4, &depth, sizeof(depth));
	assert_false(hm_trace_apply_table_record(&rec, store));
	rec = (struct hm_trace_record){ .kind = HM_REC_SYMBOL, .len = 9, .data = "12345678x" };
	assert_false(hm_trace_apply_table_record(&rec, store)); /* not NUL-terminated */
	hm_stacks_free(store);
}

/* Every event read back is byte for byte the event written. */
static void expect_same_events(const char *path, const struct scenario *s)
{
	struct hm_trace_record rec;
	enum hm_read_status st;
	char err[256];
	size_t i = 0;
	struct hm_trace_reader *r = hm_trace_reader_open(path, err, sizeof(err));

	assert_non_null(r);
	while ((st = hm_trace_read(r, &rec)) == HM_READ_OK) {
		if (rec.kind != HM_REC_EVENT)
			continue;
		assert_true(i < s->count);
		assert_int_equal(rec.len, scn_size(s, i));
		assert_memory_equal(rec.data, &s->events[i], rec.len);
		i++;
	}
	assert_int_equal(st, HM_READ_EOF);
	assert_int_equal(i, s->count);
	hm_trace_reader_close(r);
}

static void write_events(const char *path, const struct scenario *s)
{
	struct hm_trace_header h;
	char err[256];
	struct hm_trace_writer *w;

	hm_trace_header_for_host(&h);
	w = hm_trace_writer_open(path, &h, err, sizeof(err));
	assert_non_null(w);
	for (size_t i = 0; i < s->count; i++)
		assert_true(hm_trace_write_event(w, &s->events[i], scn_size(s, i), s->stacks));
	assert_true(hm_trace_writer_close(w, 0, 0));
}

/* Every scenario's events, and enough distinct tasks and bodies to empty the
 * codec's tables several times, come back exactly. */
static void compact_events_round_trip_exactly(void **state)
{
	char path[128];
	size_t n;
	const struct hm_named_scenario *all = hm_scenarios(&n);
	struct scenario *s = scn_new();
	struct hm_device pf = scn_device("0000:01:00.0", HM_ROLE_PF, NULL, "nvme");

	(void)state;
	temp_path(path, sizeof(path));
	for (size_t i = 0; i < n; i++)
		if (strcmp(all[i].name, "bench"))
			all[i].build(s);
	for (uint32_t i = 0; i < 3 * HM_CODEC_BODIES; i++) {
		struct scn_task t = scn_task(1000 + i, i % 2 ? "kworker/0:1" : "qemu");

		pf.dev_addr += 0x1000; /* a new body each time */
		scn_lock_wait_owner(s, &t, &pf, i, -1);
		scn_advance(s, i % 7 ? 1 : UINT64_C(1) << 40); /* small and huge deltas */
		scn_lost(s, i, i % 4);
	}
	write_events(path, s);
	expect_same_events(path, s);
	unlink(path);
	scn_free(s);
}

/* A day of focused tracing must fit on a disk: the bench mix (device,
 * global, driver and mm locks, VFIO, migrations) is at most 48 bytes an event. */
static void bench_mix_is_at_most_48_bytes_an_event(void **state)
{
	char path[128];
	struct scenario *s = scn_new();
	FILE *f;
	long size;

	(void)state;
	temp_path(path, sizeof(path));
	s->target_events = 20000;
	hm_scenario_find("bench")->build(s);
	write_events(path, s);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	assert_true((size_t)size <= 48 * s->count);
	unlink(path);
	scn_free(s);
}

/* Format 1 (fixed record headers, ABI events as they are) still replays. */
static void format_1_files_still_read(void **state)
{
	char path[128];
	struct scenario *s = scn_new();
	struct hm_trace_header h;
	struct hm_stacks *store = hm_stacks_new();
	struct hm_device pf = scn_device("0000:01:00.0", HM_ROLE_PF, NULL, "nvme");
	struct scn_task t = scn_task(7, "bash");
	int32_t stack = scn_stack(s, "mutex_lock", "sriov_numvfs_store", NULL);
	const struct hm_stack *st = hm_stacks_get(s->stacks, stack);
	struct hm_record_header rh;
	FILE *f;

	(void)state;
	temp_path(path, sizeof(path));
	scn_lock(s, &t, &pf, stack);
	scn_unlock(s, &t, &pf);
	hm_trace_header_for_host(&h);
	h.version = 1;
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(&h, sizeof(h), 1, f);
	rh = (struct hm_record_header){ .kind = HM_REC_STACK, .len = 8 + 8 * st->depth };
	fwrite(&rh, sizeof(rh), 1, f);
	fwrite(&stack, 4, 1, f);
	fwrite(&st->depth, 4, 1, f);
	fwrite(st->ips, 8, st->depth, f);
	for (size_t i = 0; i < s->count; i++) {
		rh = (struct hm_record_header){ .kind = HM_REC_EVENT, .len = (uint32_t)scn_size(s, i) };
		fwrite(&rh, sizeof(rh), 1, f);
		fwrite(&s->events[i], scn_size(s, i), 1, f);
	}
	fclose(f);
	expect_same_events(path, s);
	assert_int_equal(read_all(path, store).stacks, 1);
	unlink(path);
	hm_stacks_free(store);
	scn_free(s);
}

/* A record the codec cannot encode (its size disagrees with its type) is
 * kept byte for byte, so replay counts it as malformed as live analysis did. */
static void malformed_events_are_kept_as_written(void **state)
{
	char path[128], err[256];
	struct hm_trace_header h;
	struct hm_trace_writer *w;
	struct hm_trace_reader *r;
	struct hm_trace_record rec;
	unsigned char odd[sizeof(struct hm_event_header) + 5];
	struct hm_event_header hdr = { .type = HM_EV_LOCK_WAIT, .size = sizeof(odd), .tid = 9 };

	(void)state;
	temp_path(path, sizeof(path));
	memset(odd, 0xa5, sizeof(odd));
	memcpy(odd, &hdr, sizeof(hdr));
	hm_trace_header_for_host(&h);
	w = hm_trace_writer_open(path, &h, err, sizeof(err));
	assert_non_null(w);
	assert_true(hm_trace_write_event(w, odd, sizeof(odd), NULL));
	assert_true(hm_trace_writer_close(w, 0, 0));
	r = hm_trace_reader_open(path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(hm_trace_read(r, &rec), HM_READ_OK);
	assert_int_equal(rec.kind, HM_REC_EVENT);
	assert_int_equal(rec.len, sizeof(odd));
	assert_memory_equal(rec.data, odd, sizeof(odd));
	assert_false(hm_event_valid(rec.data, rec.len));
	hm_trace_reader_close(r);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_keeps_events_stacks_and_symbols),
		cmocka_unit_test(truncated_file_reads_up_to_last_whole_record),
		cmocka_unit_test(bad_headers_are_rejected_with_a_reason),
		cmocka_unit_test(malformed_table_records_are_refused),
		cmocka_unit_test(compact_events_round_trip_exactly),
		cmocka_unit_test(bench_mix_is_at_most_48_bytes_an_event),
		cmocka_unit_test(format_1_files_still_read),
		cmocka_unit_test(malformed_events_are_kept_as_written),
	};

	return cmocka_run_group_tests_name("trace_file", tests, NULL, NULL);
}
