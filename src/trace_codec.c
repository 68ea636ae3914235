// SPDX-License-Identifier: GPL-2.0
#include "trace_codec.h"

#include <stdlib.h>
#include <string.h>

#include "event.h"

#define HDR_LEN sizeof(struct hm_event_header)
/* equal bytes shorter than this between two changed runs join them: cheaper
 * than a new run's two varints */
#define PATCH_JOIN_GAP 3

_Static_assert(HM_CODEC_BODY_MAX / 2 < 128, "a patch's run count fits in one varint byte");

bool hm_codec_init(struct hm_codec *c)
{
	*c = (struct hm_codec){ 0 };
	c->tasks = calloc(HM_CODEC_TASKS, sizeof(*c->tasks));
	c->bodies = calloc(HM_CODEC_BODIES, sizeof(*c->bodies));
	u64map_init(&c->task_index);
	u64map_init(&c->body_index);
	if (!c->tasks || !c->bodies) {
		hm_codec_free(c);
		return false;
	}
	return true;
}

void hm_codec_free(struct hm_codec *c)
{
	free(c->tasks);
	free(c->bodies);
	u64map_free(&c->task_index);
	u64map_free(&c->body_index);
	*c = (struct hm_codec){ 0 };
}

size_t hm_codec_put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

bool hm_codec_get_varint_long(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	uint64_t result = 0;

	for (unsigned int shift = 0; shift < 64 && *p < end; shift += 7) {
		unsigned char b = *(*p)++;

		result |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = result;
			return true;
		}
	}
	return false;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* The slot the next table entry goes to; a full table starts over (both
 * sides do this at the same record, so references stay in step). */
static size_t table_append(size_t *count, size_t cap, struct u64map *index, uint64_t *resets)
{
	if (*count == cap) {
		*count = 0;
		u64map_free(index);
		(*resets)++;
	}
	return (*count)++;
}

static size_t index_lookup(const struct u64map *index, uint64_t key)
{
	return (size_t)(uintptr_t)u64map_get(index, key);
}

static void index_store(struct u64map *index, uint64_t key, size_t slot)
{
	/* a failed insert only costs a literal next time */
	u64map_put(index, key, (void *)(uintptr_t)(slot + 1));
}

bool hm_codec_encodable(const void *ev, size_t len)
{
	return hm_event_valid(ev, len) && len <= sizeof(union hm_event);
}

static struct hm_codec_task task_of(const struct hm_event_header *h)
{
	struct hm_codec_task t;

	memset(&t, 0, sizeof(t));
	t.pid = h->pid;
	t.tid = h->tid;
	t.pad = h->pad;
	memcpy(t.comm, h->comm, sizeof(t.comm));
	return t;
}

static unsigned char *encode_task(struct hm_codec *c, const struct hm_event_header *h,
				  unsigned char *p)
{
	struct hm_codec_task t = task_of(h);
	uint64_t key = u64map_hash_bytes(&t, sizeof(t));
	size_t ref = index_lookup(&c->task_index, key), slot, n;

	if (ref && !memcmp(&c->tasks[ref - 1], &t, sizeof(t)))
		return p + hm_codec_put_varint(p, ref);
	*p++ = 0;
	p += hm_codec_put_varint(p, t.pid);
	p += hm_codec_put_varint(p, t.tid);
	p += hm_codec_put_varint(p, t.pad);
	for (n = sizeof(t.comm); n && !t.comm[n - 1]; n--)
		;
	*p++ = (unsigned char)n;
	memcpy(p, t.comm, n);
	p += n;
	slot = table_append(&c->ntasks, HM_CODEC_TASKS, &c->task_index, &c->table_resets);
	c->tasks[slot] = t;
	index_store(&c->task_index, key, slot);
	return p;
}

static bool decode_task(struct hm_codec *c, const unsigned char **p, const unsigned char *end,
			struct hm_event_header *h)
{
	const struct hm_codec_task *t;
	uint64_t ref, pid, tid, pad;
	size_t n;

	if (!hm_codec_get_varint(p, end, &ref))
		return false;
	if (ref) {
		if (ref > c->ntasks)
			return false;
		t = &c->tasks[ref - 1];
	} else {
		struct hm_codec_task *added;

		if (!hm_codec_get_varint(p, end, &pid) || !hm_codec_get_varint(p, end, &tid) ||
		    !hm_codec_get_varint(p, end, &pad) || *p >= end)
			return false;
		n = *(*p)++;
		if (pid > UINT32_MAX || tid > UINT32_MAX || pad > UINT32_MAX ||
		    n > sizeof(added->comm) || (size_t)(end - *p) < n)
			return false;
		added = &c->tasks[table_append(&c->ntasks, HM_CODEC_TASKS, &c->task_index,
					       &c->table_resets)];
		memset(added, 0, sizeof(*added));
		added->pid = (uint32_t)pid;
		added->tid = (uint32_t)tid;
		added->pad = (uint32_t)pad;
		memcpy(added->comm, *p, n);
		*p += n;
		t = added;
	}
	/* field by field from the table: a copy of the whole entry through
	 * the stack stalled every record on store forwarding */
	h->pid = t->pid;
	h->tid = t->tid;
	h->pad = t->pad;
	memcpy(h->comm, t->comm, sizeof(h->comm));
	return true;
}

/* Runs of bytes where body differs from base, as the patch format says. */
static unsigned char *encode_patch(const unsigned char *base, const unsigned char *body,
				   size_t len, unsigned char *p)
{
	unsigned char *count = p++;
	size_t runs = 0, done = 0, i = 0;

	while (i < len) {
		size_t start = i, stop = i + 1, j = i + 1;

		if (base[i] == body[i]) {
			i++;
			continue;
		}
		while (j < len) {
			size_t k = j;

			if (base[j] != body[j]) {
				stop = ++j;
				continue;
			}
			while (k < len && base[k] == body[k] && k - j < PATCH_JOIN_GAP)
				k++;
			if (k - j >= PATCH_JOIN_GAP || k == len)
				break;
			j = k; /* a short gap: one run */
		}
		p += hm_codec_put_varint(p, start - done);
		p += hm_codec_put_varint(p, stop - start);
		memcpy(p, body + start, stop - start);
		p += stop - start;
		done = i = stop;
		runs++;
	}
	*count = (unsigned char)runs;
	return p;
}

static bool decode_patch(const unsigned char **p, const unsigned char *end, unsigned char *body,
			 size_t len)
{
	uint64_t runs, skip, run;
	size_t at = 0;

	if (!hm_codec_get_varint(p, end, &runs))
		return false;
	while (runs--) {
		if (!hm_codec_get_varint(p, end, &skip) || !hm_codec_get_varint(p, end, &run) || skip > len - at ||
		    run > len - at - skip || run > (size_t)(end - *p))
			return false;
		at += skip;
		memcpy(body + at, *p, run);
		at += run;
		*p += run;
	}
	return true;
}

static const unsigned char *last_body(const struct hm_codec *c, unsigned int type)
{
	static const unsigned char zeros[HM_CODEC_BODY_MAX];

	return c->last_slot[type] ? c->bodies[c->last_slot[type] - 1] : zeros;
}

static unsigned char *encode_body(struct hm_codec *c, unsigned int type,
				  const unsigned char *body, size_t len, unsigned char *p)
{
	uint64_t key = u64map_hash_bytes(body, len) ^ ((uint64_t)type << 56);
	size_t ref = index_lookup(&c->body_index, key), slot;

	if (ref && !memcmp(c->bodies[ref - 1], body, len)) {
		p += hm_codec_put_varint(p, ref);
		*p++ = 0; /* no patch */
	} else {
		*p++ = 0;
		p = encode_patch(last_body(c, type), body, len, p);
		slot = table_append(&c->nbodies, HM_CODEC_BODIES, &c->body_index, &c->table_resets);
		memcpy(c->bodies[slot], body, len);
		index_store(&c->body_index, key, slot);
		ref = slot + 1;
	}
	c->last_slot[type] = (uint32_t)ref;
	return p;
}

size_t hm_codec_encode(struct hm_codec *c, const union hm_event *ev, unsigned char *out)
{
	const struct hm_event_header *h = &ev->hdr;
	unsigned char *p = out;

	*p++ = (unsigned char)h->type;
	p += hm_codec_put_varint(p, zigzag((int64_t)(h->ts_ns - c->prev_ts)));
	c->prev_ts = h->ts_ns;
	p += hm_codec_put_varint(p, h->cpu);
	p = encode_task(c, h, p);
	p += hm_codec_put_varint(p, zigzag(h->stack_id));
	p = encode_body(c, h->type, (const unsigned char *)ev + HDR_LEN, h->size - HDR_LEN, p);
	return (size_t)(p - out);
}

bool hm_codec_decode(struct hm_codec *c, const unsigned char *p, size_t len, union hm_event *ev)
{
	const unsigned char *end = p + len;
	unsigned char *body = (unsigned char *)ev + HDR_LEN;
	uint64_t delta, cpu, stack, ref;
	unsigned int type;
	size_t size;

	if (!len)
		return false;
	type = *p++;
	size = hm_event_size(type);
	if (!size || size > sizeof(*ev) || !hm_codec_get_varint(&p, end, &delta) ||
	    !hm_codec_get_varint(&p, end, &cpu) || cpu > UINT32_MAX)
		return false;
	/* every header field is set below */
	ev->hdr.type = (uint16_t)type;
	ev->hdr.size = (uint16_t)size;
	ev->hdr.ts_ns = c->prev_ts + (uint64_t)unzigzag(delta);
	ev->hdr.cpu = (uint32_t)cpu;
	if (!decode_task(c, &p, end, &ev->hdr) || !hm_codec_get_varint(&p, end, &stack) ||
	    !hm_codec_get_varint(&p, end, &ref) || ref > c->nbodies)
		return false;
	ev->hdr.stack_id = (int32_t)unzigzag(stack);
	/* a copy of constant size is a few vector moves where one of the
	 * record's size was a rep movs; bytes past the record's size are
	 * undefined either way (they held an earlier record) */
	memcpy(body, ref ? c->bodies[ref - 1] : last_body(c, type), HM_CODEC_BODY_MAX);
	if (!decode_patch(&p, end, body, size - HDR_LEN) || p != end)
		return false;
	if (!ref) {
		ref = table_append(&c->nbodies, HM_CODEC_BODIES, &c->body_index, &c->table_resets) + 1;
		memcpy(c->bodies[ref - 1], body, size - HDR_LEN);
	}
	c->last_slot[type] = (uint32_t)ref;
	c->prev_ts = ev->hdr.ts_ns;
	return true;
}
