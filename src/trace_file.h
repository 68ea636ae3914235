/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The trace file: a versioned header, then records. Stacks and the symbols of
 * their frames are written just before the first event that references them,
 * so any prefix of a file (a cut-off recording) replays with names on another
 * machine.
 *
 *   header  : struct hm_trace_header
 *   record  : format 2: kind u8, payload length varint, payload
 *             format 1: struct hm_record_header { kind, len }, payload
 *     EVENT : format 2: the compact encoding of trace_codec.h; format 1: one ABI
 *             event (struct hm_event_header first)
 *     RAW_EVENT: format 2: an event the codec cannot encode, as ABI bytes
 *     STACK : int32 id, uint32 depth, uint64 ips[depth]
 *     SYMBOL: uint64 addr, NUL-terminated name
 *     META  : NUL-terminated "key=value" text (attach status, options)
 *     END   : struct hm_trace_end (absent when the recording was cut)
 *
 * Readers hand out every event as ABI bytes (kind HM_REC_EVENT), whatever the
 * format; they read sequentially, so a pipe or "-" (stdin) works.
 */
#ifndef HM_TRACE_FILE_H
#define HM_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "hisimig/events.h"
#include "stacks.h"

#define HM_TRACE_MAGIC "HMTRACE\0"
#define HM_TRACE_VERSION 2             /* written */
#define HM_TRACE_VERSION_OLDEST 1      /* still read */
#define HM_TRACE_MAX_HEADER 65536
#define HM_TRACE_ENDIAN_MARK 0x01020304u
#define HM_TRACE_MAX_RECORD (1u << 20)

struct hm_trace_header {
	char magic[8];
	uint32_t endian_mark;         /* reads back as 0x04030201 on the other endianness */
	uint16_t version;             /* HM_TRACE_VERSION */
	uint16_t abi_version;         /* HM_ABI_VERSION of the events */
	uint32_t header_size;
	uint32_t clock_id;            /* CLOCK_MONOTONIC: event timestamps */
	uint64_t start_mono_ns;
	uint64_t start_realtime_ns;   /* wall clock at start_mono_ns */
	char kernel_release[65];
	char hostname[65];
	char tool_version[22];
};

enum hm_record_kind {
	HM_REC_EVENT = 1,
	HM_REC_STACK = 2,
	HM_REC_SYMBOL = 3,
	HM_REC_META = 4,
	HM_REC_END = 5,
	HM_REC_RAW_EVENT = 6,         /* format 2 only; read back as HM_REC_EVENT */
};

struct hm_record_header {
	uint32_t kind;
	uint32_t len;
};

struct hm_trace_end {
	uint64_t events;
	uint64_t lost;
	uint64_t end_mono_ns;
};

/* Fill a header for a recording starting now on this machine. */
void hm_trace_header_for_host(struct hm_trace_header *h);

struct hm_trace_writer;

/* Writes PATH.partial (outfile.h), renamed to PATH by hm_trace_writer_close;
 * errors: one line in err, NULL return */
struct hm_trace_writer *hm_trace_writer_open(const char *path, const struct hm_trace_header *h,
					     char *err, size_t errlen);
/* Writes the event's stack (and its frames' symbols) first if not yet written. */
bool hm_trace_write_event(struct hm_trace_writer *w, const void *ev, size_t len,
			  const struct hm_stacks *stacks);
bool hm_trace_write_meta(struct hm_trace_writer *w, const char *key, const char *value);
/* Push buffered records to the file (called after each batch of live events). */
bool hm_trace_writer_flush(struct hm_trace_writer *w);
/* Writes END, flushes, closes and renames PATH.partial to PATH; false if any
 * write failed along the way (PATH untouched, PATH.partial kept). */
bool hm_trace_writer_close(struct hm_trace_writer *w, uint64_t lost, uint64_t end_mono_ns);
/* Drop a recording that should not exist (setup failed): PATH.partial removed. */
void hm_trace_writer_discard(struct hm_trace_writer *w);

enum hm_read_status {
	HM_READ_OK = 0,
	HM_READ_EOF,                  /* clean end of file */
	HM_READ_TRUNCATED,            /* a record was cut at the end of the file */
	HM_READ_CORRUPT,              /* impossible record: stop here */
};

/* Writers remember which stacks and symbols they wrote up to these counts,
 * then forget (and write again on next use): bounded memory on endless runs. */
#define HM_TRACE_WRITTEN_STACKS_MAX 65536
#define HM_TRACE_WRITTEN_SYMBOLS_MAX 262144

struct hm_trace_record {
	uint32_t kind;
	uint32_t len;
	const void *data;             /* valid until the next read */
};

struct hm_trace_reader;

/* path "-" reads stdin. */
struct hm_trace_reader *hm_trace_reader_open(const char *path, char *err, size_t errlen);
const struct hm_trace_header *hm_trace_reader_header(const struct hm_trace_reader *r);
enum hm_read_status hm_trace_read(struct hm_trace_reader *r, struct hm_trace_record *rec);
/* Apply a STACK or SYMBOL record to a store; false if the record is malformed. */
bool hm_trace_apply_table_record(const struct hm_trace_record *rec, struct hm_stacks *stacks);
uint64_t hm_trace_reader_offset(const struct hm_trace_reader *r);   /* end of last whole record */
uint64_t hm_trace_reader_size(const struct hm_trace_reader *r);     /* file size, 0 for a pipe */
/* Why the last read returned TRUNCATED or CORRUPT, one line. */
const char *hm_trace_reader_error(const struct hm_trace_reader *r);
void hm_trace_reader_close(struct hm_trace_reader *r);

#endif
