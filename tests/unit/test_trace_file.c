// SPDX-License-Identifier: GPL-2.0
/* The trace file: round trip, stack/symbol tables, truncation, bad headers. */
#include "unit.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_keeps_events_stacks_and_symbols),
		cmocka_unit_test(truncated_file_reads_up_to_last_whole_record),
		cmocka_unit_test(bad_headers_are_rejected_with_a_reason),
		cmocka_unit_test(malformed_table_records_are_refused),
	};

	return cmocka_run_group_tests_name("trace_file", tests, NULL, NULL);
}
