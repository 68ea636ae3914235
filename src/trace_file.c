// SPDX-License-Identifier: GPL-2.0
#include "trace_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "outfile.h"
#include "u64map.h"
#include "version.h"

struct hm_trace_writer {
	struct hm_outfile *out;       /* PATH.partial until closed */
	FILE *file;
	struct u64map written_stacks; /* stack id + 1 -> (void *)1 */
	struct u64map written_symbols;/* address -> (void *)1 */
	uint64_t events;
	bool failed;
};

struct hm_trace_reader {
	FILE *file;
	struct hm_trace_header header;
	uint64_t offset;
	uint64_t size;
	unsigned char *buf;
	char error[160];
};

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void hm_trace_header_for_host(struct hm_trace_header *h)
{
	struct utsname uts;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, HM_TRACE_MAGIC, sizeof(h->magic));
	h->endian_mark = HM_TRACE_ENDIAN_MARK;
	h->version = HM_TRACE_VERSION;
	h->abi_version = HM_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->clock_id = CLOCK_MONOTONIC;
	h->start_mono_ns = clock_ns(CLOCK_MONOTONIC);
	h->start_realtime_ns = clock_ns(CLOCK_REALTIME);
	if (uname(&uts) == 0) {
		snprintf(h->kernel_release, sizeof(h->kernel_release), "%s", uts.release);
		snprintf(h->hostname, sizeof(h->hostname), "%s", uts.nodename);
	}
	snprintf(h->tool_version, sizeof(h->tool_version), "%s", HM_VERSION);
}

static bool write_record(struct hm_trace_writer *w, uint32_t kind, const void *a, size_t alen,
			 const void *b, size_t blen)
{
	struct hm_record_header rh = { .kind = kind, .len = (uint32_t)(alen + blen) };

	if (w->failed)
		return false;
	if (fwrite(&rh, sizeof(rh), 1, w->file) != 1 || (alen && fwrite(a, alen, 1, w->file) != 1) ||
	    (blen && fwrite(b, blen, 1, w->file) != 1))
		w->failed = true;
	return !w->failed;
}

struct hm_trace_writer *hm_trace_writer_open(const char *path, const struct hm_trace_header *h,
					     char *err, size_t errlen)
{
	struct hm_trace_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->out = hm_outfile_open(path, err, errlen);
	if (!w->out) {
		free(w);
		return NULL;
	}
	w->file = hm_outfile_stream(w->out);
	u64map_init(&w->written_stacks);
	u64map_init(&w->written_symbols);
	/* the header on disk at once: a run killed now leaves a replayable file */
	if (fwrite(h, sizeof(*h), 1, w->file) != 1 || fflush(w->file)) {
		snprintf(err, errlen, "cannot write %s: %s", hm_outfile_partial(w->out),
			 strerror(errno));
		hm_trace_writer_discard(w);
		return NULL;
	}
	return w;
}

static bool write_stack(struct hm_trace_writer *w, int32_t id, const struct hm_stacks *stacks)
{
	const struct hm_stack *st = hm_stacks_get(stacks, id);
	uint64_t key = (uint64_t)(uint32_t)id + 1;
	struct {
		int32_t id;
		uint32_t depth;
	} head;

	if (!st || u64map_get(&w->written_stacks, key))
		return true;
	for (unsigned int i = 0; i < st->depth; i++) {
		const char *name = hm_stacks_symbol(stacks, st->ips[i]);

		if (!name || u64map_get(&w->written_symbols, st->ips[i]))
			continue;
		if (!write_record(w, HM_REC_SYMBOL, &st->ips[i], sizeof(st->ips[i]), name,
				  strlen(name) + 1))
			return false;
		u64map_put(&w->written_symbols, st->ips[i], (void *)1);
	}
	head.id = id;
	head.depth = st->depth;
	if (!write_record(w, HM_REC_STACK, &head, sizeof(head), st->ips,
			  st->depth * sizeof(st->ips[0])))
		return false;
	u64map_put(&w->written_stacks, key, (void *)1);
	return true;
}

bool hm_trace_write_event(struct hm_trace_writer *w, const void *ev, size_t len,
			  const struct hm_stacks *stacks)
{
	struct hm_event_header hdr;

	if (len < sizeof(hdr))
		return false;
	memcpy(&hdr, ev, sizeof(hdr));
	if (stacks && hdr.stack_id >= 0 && !write_stack(w, hdr.stack_id, stacks))
		return false;
	if (!write_record(w, HM_REC_EVENT, ev, len, NULL, 0))
		return false;
	w->events++;
	return true;
}

bool hm_trace_write_meta(struct hm_trace_writer *w, const char *key, const char *value)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "%s=%s", key, value);

	if (n < 0 || (size_t)n >= sizeof(line))
		return false;
	return write_record(w, HM_REC_META, line, (size_t)n + 1, NULL, 0);
}

bool hm_trace_writer_flush(struct hm_trace_writer *w)
{
	if (fflush(w->file) != 0)
		w->failed = true;
	return !w->failed;
}

bool hm_trace_writer_close(struct hm_trace_writer *w, uint64_t lost, uint64_t end_mono_ns)
{
	struct hm_trace_end end = { .events = w->events, .lost = lost, .end_mono_ns = end_mono_ns };
	char why[256];
	bool ok;

	write_record(w, HM_REC_END, &end, sizeof(end), NULL, 0);
	hm_trace_writer_flush(w);
	/* on failure PATH.partial keeps what was written */
	ok = hm_outfile_commit(w->out, why, sizeof(why)) && !w->failed;
	w->out = NULL;
	hm_trace_writer_discard(w);
	return ok;
}

void hm_trace_writer_discard(struct hm_trace_writer *w)
{
	if (!w)
		return;
	hm_outfile_discard(w->out);
	u64map_free(&w->written_stacks);
	u64map_free(&w->written_symbols);
	free(w);
}

static bool header_problem(const struct hm_trace_header *h, size_t got, char *err, size_t errlen)
{
	if (got < sizeof(h->magic) || memcmp(h->magic, HM_TRACE_MAGIC, sizeof(h->magic)) != 0)
		snprintf(err, errlen, "not a hisimig-trace file (bad magic)");
	else if (got < sizeof(*h))
		snprintf(err, errlen, "trace header truncated (%zu of %zu bytes)", got, sizeof(*h));
	else if (h->endian_mark != HM_TRACE_ENDIAN_MARK)
		snprintf(err, errlen, "trace was recorded with the other byte order; replay it on a "
				      "machine of the same endianness");
	else if (h->version != HM_TRACE_VERSION)
		snprintf(err, errlen, "trace format version %u is not supported (this build reads %u)",
			 h->version, HM_TRACE_VERSION);
	else if (h->abi_version != HM_ABI_VERSION)
		snprintf(err, errlen, "trace event ABI %u is not supported (this build reads %u)",
			 h->abi_version, HM_ABI_VERSION);
	else if (h->header_size < sizeof(*h))
		snprintf(err, errlen, "trace header size %u is too small", h->header_size);
	else
		return false;
	return true;
}

struct hm_trace_reader *hm_trace_reader_open(const char *path, char *err, size_t errlen)
{
	struct hm_trace_reader *r = calloc(1, sizeof(*r));
	struct stat sb;
	size_t got;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->file = fopen(path, "rb");
	if (!r->file) {
		snprintf(err, errlen, "cannot open trace file %s: %s", path, strerror(errno));
		free(r);
		return NULL;
	}
	if (fstat(fileno(r->file), &sb) == 0)
		r->size = (uint64_t)sb.st_size;
	got = fread(&r->header, 1, sizeof(r->header), r->file);
	r->buf = malloc(HM_TRACE_MAX_RECORD);
	if (!r->buf || header_problem(&r->header, got, err, errlen) ||
	    fseek(r->file, r->header.header_size, SEEK_SET) != 0) {
		if (!r->buf)
			snprintf(err, errlen, "out of memory");
		hm_trace_reader_close(r);
		return NULL;
	}
	r->offset = r->header.header_size;
	return r;
}

const struct hm_trace_header *hm_trace_reader_header(const struct hm_trace_reader *r)
{
	return &r->header;
}

enum hm_read_status hm_trace_read(struct hm_trace_reader *r, struct hm_trace_record *rec)
{
	struct hm_record_header rh;
	size_t got = fread(&rh, 1, sizeof(rh), r->file);

	if (got == 0 && feof(r->file))
		return HM_READ_EOF;
	if (got < sizeof(rh)) {
		snprintf(r->error, sizeof(r->error), "record header cut at offset %llu",
			 (unsigned long long)r->offset);
		return HM_READ_TRUNCATED;
	}
	if (rh.len > HM_TRACE_MAX_RECORD || rh.kind == 0) {
		snprintf(r->error, sizeof(r->error),
			 "corrupt record at offset %llu (kind %u, length %u)",
			 (unsigned long long)r->offset, rh.kind, rh.len);
		return HM_READ_CORRUPT;
	}
	if (fread(r->buf, 1, rh.len, r->file) != rh.len) {
		snprintf(r->error, sizeof(r->error), "record at offset %llu cut (%u bytes expected)",
			 (unsigned long long)r->offset, rh.len);
		return HM_READ_TRUNCATED;
	}
	r->offset += sizeof(rh) + rh.len;
	*rec = (struct hm_trace_record){ .kind = rh.kind, .len = rh.len, .data = r->buf };
	return HM_READ_OK;
}

bool hm_trace_apply_table_record(const struct hm_trace_record *rec, struct hm_stacks *stacks)
{
	const unsigned char *p = rec->data;

	if (rec->kind == HM_REC_SYMBOL) {
		uint64_t addr;

		if (rec->len <= sizeof(addr) || p[rec->len - 1] != '\0')
			return false;
		memcpy(&addr, p, sizeof(addr));
		return hm_stacks_add_symbol(stacks, addr, (const char *)p + sizeof(addr));
	}
	if (rec->kind == HM_REC_STACK) {
		uint64_t ips[HM_MAX_STACK_DEPTH];
		int32_t id;
		uint32_t depth;

		if (rec->len < 8)
			return false;
		memcpy(&id, p, sizeof(id));
		memcpy(&depth, p + 4, sizeof(depth));
		if (depth > HM_MAX_STACK_DEPTH || rec->len != 8 + depth * sizeof(uint64_t))
			return false;
		memcpy(ips, p + 8, depth * sizeof(uint64_t));
		return hm_stacks_add(stacks, id, ips, depth);
	}
	return false;
}

uint64_t hm_trace_reader_offset(const struct hm_trace_reader *r) { return r->offset; }
uint64_t hm_trace_reader_size(const struct hm_trace_reader *r) { return r->size; }
const char *hm_trace_reader_error(const struct hm_trace_reader *r) { return r->error; }

void hm_trace_reader_close(struct hm_trace_reader *r)
{
	if (!r)
		return;
	if (r->file)
		fclose(r->file);
	free(r->buf);
	free(r);
}
