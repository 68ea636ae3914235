// SPDX-License-Identifier: GPL-2.0
#include "trace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "outfile.h"
#include "trace_codec.h"
#include "u64map.h"
#include "version.h"

struct hm_trace_writer {
	struct hm_outfile *out;       /* PATH.partial until closed */
	FILE *file;
	struct u64map written_stacks; /* stack id + 1 -> (void *)1 */
	struct u64map written_symbols;/* address -> (void *)1 */
	struct hm_codec codec;
	uint64_t events;
	bool failed;
};

/* Room for the largest record; reads of READ_CHUNK, large enough that a
 * replay spends its time decoding, not in read(2), small enough to stay in
 * the cache. */
#define READ_BUFFER_SIZE (2 * HM_TRACE_MAX_RECORD)
#define READ_CHUNK (64u << 10)

struct hm_trace_reader {
	int fd;
	struct hm_trace_header header;
	uint64_t offset;
	uint64_t size;
	unsigned char *buf;
	size_t pos, end;              /* unread bytes: buf[pos..end) */
	bool eof;
	int read_errno;
	struct hm_codec codec;
	union hm_event event;         /* the last event, aligned for the analyzers */
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

static bool write_bytes(struct hm_trace_writer *w, const void *p, size_t len)
{
	if (len && fwrite_unlocked(p, len, 1, w->file) != 1)
		w->failed = true;
	return !w->failed;
}

static bool write_record(struct hm_trace_writer *w, uint32_t kind, const void *a, size_t alen,
			 const void *b, size_t blen)
{
	unsigned char head[1 + HM_VARINT_MAX];
	size_t n = 1;

	if (w->failed)
		return false;
	head[0] = (unsigned char)kind;
	n += hm_codec_put_varint(head + 1, alen + blen);
	return write_bytes(w, head, n) && write_bytes(w, a, alen) && write_bytes(w, b, blen);
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
	if (!hm_codec_init(&w->codec)) {
		snprintf(err, errlen, "out of memory");
		hm_trace_writer_discard(w);
		return NULL;
	}
	/* the header on disk at once: a run killed now leaves a replayable file */
	if (fwrite(h, sizeof(*h), 1, w->file) != 1 || fflush(w->file)) {
		snprintf(err, errlen, "cannot write %s: %s", hm_outfile_partial(w->out),
			 strerror(errno));
		hm_trace_writer_discard(w);
		return NULL;
	}
	return w;
}

/* Remember a written table entry; a full set starts over (entries are then
 * written again on next use, which readers ignore as known). */
static void remember(struct u64map *written, size_t max, uint64_t key)
{
	if (written->count >= max)
		u64map_free(written);
	u64map_put(written, key, (void *)1);
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
		remember(&w->written_symbols, HM_TRACE_WRITTEN_SYMBOLS_MAX, st->ips[i]);
	}
	head.id = id;
	head.depth = st->depth;
	if (!write_record(w, HM_REC_STACK, &head, sizeof(head), st->ips,
			  st->depth * sizeof(st->ips[0])))
		return false;
	remember(&w->written_stacks, HM_TRACE_WRITTEN_STACKS_MAX, key);
	return true;
}

/* One compact EVENT record, framed in place in front of its payload: one write. */
static bool write_encoded_event(struct hm_trace_writer *w, const union hm_event *ev)
{
	unsigned char rec[1 + HM_VARINT_MAX + HM_CODEC_MAX_EVENT], lenbuf[HM_VARINT_MAX];
	unsigned char *payload = rec + 1 + HM_VARINT_MAX, *start;
	size_t n = hm_codec_encode(&w->codec, ev, payload);
	size_t ln = hm_codec_put_varint(lenbuf, n);

	if (w->failed)
		return false;
	start = payload - ln - 1;
	start[0] = HM_REC_EVENT;
	memcpy(start + 1, lenbuf, ln);
	return write_bytes(w, start, 1 + ln + n);
}

bool hm_trace_write_event(struct hm_trace_writer *w, const void *ev, size_t len,
			  const struct hm_stacks *stacks)
{
	union hm_event copy;
	bool ok;

	if (len < sizeof(struct hm_event_header))
		return false;
	memcpy(&copy.hdr, ev, sizeof(copy.hdr));
	if (stacks && copy.hdr.stack_id >= 0 && !write_stack(w, copy.hdr.stack_id, stacks))
		return false;
	if (hm_codec_encodable(ev, len)) {
		memcpy(&copy, ev, len);
		ok = write_encoded_event(w, &copy);
	} else {
		/* kept byte for byte: replay counts it as malformed, as live did */
		ok = write_record(w, HM_REC_RAW_EVENT, ev, len, NULL, 0);
	}
	if (ok)
		w->events++;
	return ok;
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
	if (fflush_unlocked(w->file) != 0)
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
	hm_codec_free(&w->codec);
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
	else if (h->version < HM_TRACE_VERSION_OLDEST || h->version > HM_TRACE_VERSION)
		snprintf(err, errlen,
			 "trace format version %u is not supported (this build reads %u to %u)",
			 h->version, HM_TRACE_VERSION_OLDEST, HM_TRACE_VERSION);
	else if (h->abi_version != HM_ABI_VERSION)
		snprintf(err, errlen, "trace event ABI %u is not supported (this build reads %u)",
			 h->abi_version, HM_ABI_VERSION);
	else if (h->header_size < sizeof(*h) || h->header_size > HM_TRACE_MAX_HEADER)
		snprintf(err, errlen, "trace header size %u is out of range", h->header_size);
	else
		return false;
	return true;
}

/* fill() when the buffer holds too little. The unread bytes (less than a
 * record) move to the buffer's start and reads come in chunks of
 * READ_CHUNK unless a record needs more: decoding then works on a few
 * pages that stay in the cache, not on a window that sweeps all of it. */
static size_t refill(struct hm_trace_reader *r, size_t want)
{
	memmove(r->buf, r->buf + r->pos, r->end - r->pos);
	r->end -= r->pos;
	r->pos = 0;
	while (r->end < want && !r->eof) {
		size_t chunk = want - r->end > READ_CHUNK ? want - r->end : READ_CHUNK;
		size_t room = READ_BUFFER_SIZE - r->end;
		ssize_t n = read(r->fd, r->buf + r->end, chunk < room ? chunk : room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->eof = true;
			r->read_errno = n < 0 ? errno : 0;
		} else {
			r->end += (size_t)n;
		}
	}
	return r->end;
}

/* Make at least `want` unread bytes available unless the input ends first;
 * returns how many are. Reads sequentially: pipes work. Inline: most
 * records are in the buffer already. */
static inline size_t fill(struct hm_trace_reader *r, size_t want)
{
	return r->end - r->pos >= want ? r->end - r->pos : refill(r, want);
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
	r->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (r->fd < 0) {
		snprintf(err, errlen, "cannot open trace file %s: %s", path, strerror(errno));
		free(r);
		return NULL;
	}
	if (fstat(r->fd, &sb) == 0 && S_ISREG(sb.st_mode))
		r->size = (uint64_t)sb.st_size;
	r->buf = malloc(READ_BUFFER_SIZE);
	if (!r->buf || !hm_codec_init(&r->codec)) {
		snprintf(err, errlen, "out of memory");
		hm_trace_reader_close(r);
		return NULL;
	}
	got = fill(r, sizeof(r->header));
	if (got > sizeof(r->header))
		got = sizeof(r->header);
	memcpy(&r->header, r->buf, got);
	if (header_problem(&r->header, got, err, errlen)) {
		hm_trace_reader_close(r);
		return NULL;
	}
	if (fill(r, r->header.header_size) < r->header.header_size) {
		snprintf(err, errlen, "trace header truncated (%zu of %u bytes)", r->end - r->pos,
			 r->header.header_size);
		hm_trace_reader_close(r);
		return NULL;
	}
	r->pos += r->header.header_size;
	r->offset = r->header.header_size;
	return r;
}

const struct hm_trace_header *hm_trace_reader_header(const struct hm_trace_reader *r)
{
	return &r->header;
}

static enum hm_read_status cut(struct hm_trace_reader *r, const char *what, uint64_t need)
{
	if (r->read_errno)
		snprintf(r->error, sizeof(r->error), "read error at offset %llu: %s",
			 (unsigned long long)r->offset, strerror(r->read_errno));
	else
		snprintf(r->error, sizeof(r->error), "%s at offset %llu cut (%llu bytes expected)",
			 what, (unsigned long long)r->offset, (unsigned long long)need);
	return HM_READ_TRUNCATED;
}

static enum hm_read_status corrupt(struct hm_trace_reader *r, uint32_t kind, uint64_t len)
{
	snprintf(r->error, sizeof(r->error), "corrupt record at offset %llu (kind %u, length %llu)",
		 (unsigned long long)r->offset, kind, (unsigned long long)len);
	return HM_READ_CORRUPT;
}

/* Frame of the next record: kind, payload length and the frame's own size. */
static enum hm_read_status read_frame(struct hm_trace_reader *r, uint32_t *kind, uint64_t *len,
				      size_t *head)
{
	size_t avail = fill(r, r->header.version == 1 ? sizeof(struct hm_record_header)
							: 1 + HM_VARINT_MAX);
	const unsigned char *p = r->buf + r->pos;

	if (!avail)
		return r->read_errno ? cut(r, "record header", 1) : HM_READ_EOF;
	if (r->header.version == 1) {
		struct hm_record_header rh;

		if (avail < sizeof(rh))
			return cut(r, "record header", sizeof(rh));
		memcpy(&rh, p, sizeof(rh));
		*kind = rh.kind;
		*len = rh.len;
		*head = sizeof(rh);
	} else {
		const unsigned char *q = p + 1;

		*kind = p[0];
		if (!hm_codec_get_varint(&q, p + avail, len))
			return avail < 1 + HM_VARINT_MAX ? cut(r, "record header", 1 + HM_VARINT_MAX)
							 : corrupt(r, *kind, 0);
		*head = (size_t)(q - p);
	}
	if (*len > HM_TRACE_MAX_RECORD || *kind == 0)
		return corrupt(r, *kind, *len);
	return HM_READ_OK;
}

enum hm_read_status hm_trace_read(struct hm_trace_reader *r, struct hm_trace_record *rec)
{
	enum hm_read_status st;
	const unsigned char *payload;
	uint64_t len = 0;
	uint32_t kind = 0;
	size_t head = 0;

	st = read_frame(r, &kind, &len, &head);
	if (st != HM_READ_OK)
		return st;
	if (fill(r, head + len) < head + len)
		return cut(r, "record", head + len);
	payload = r->buf + r->pos + head;
	*rec = (struct hm_trace_record){ .kind = kind, .len = (uint32_t)len, .data = payload };
	if (kind == HM_REC_EVENT && r->header.version >= 2) {
		if (!hm_codec_decode(&r->codec, payload, len, &r->event))
			return corrupt(r, kind, len);
		rec->len = r->event.hdr.size;
		rec->data = &r->event;
	} else if ((kind == HM_REC_EVENT || kind == HM_REC_RAW_EVENT) &&
		   len <= sizeof(r->event)) {
		/* analyzers read events in place: give them an aligned copy */
		memcpy(&r->event, payload, len);
		rec->kind = HM_REC_EVENT;
		rec->data = &r->event;
	} else if (kind == HM_REC_RAW_EVENT) {
		rec->kind = HM_REC_EVENT;
	}
	r->pos += head + len;
	r->offset += head + len;
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
	if (r->fd > STDIN_FILENO)
		close(r->fd);
	hm_codec_free(&r->codec);
	free(r->buf);
	free(r);
}
