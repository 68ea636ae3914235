/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The compact event encoding of trace format 2. An event record is
 *
 *   type u8, ts delta (zigzag varint, from the previous event), cpu varint,
 *   task ref varint, stack id (zigzag varint), body ref varint, body patch
 *
 * The task (pid, tid, comm) and the body (every byte after the header: lock
 * address, device identity, driver and lock names...) are interned in tables
 * both sides build the same way from the records seen so far, so a repeated
 * task or body costs one varint: ref n > 0 names entry n - 1; ref 0 means a
 * new one follows (a task literal; a body given as a patch against the table
 * slot of the last body of the same type) and is appended to the table. A full table is
 * emptied before the next append, on both sides: memory stays bounded and
 * any prefix of a stream still decodes.
 *
 * The patch is: varint run count, then per run: bytes to skip (varint), run
 * length (varint), the run's bytes; it replaces bytes of the base body.
 */
#ifndef HM_TRACE_CODEC_H
#define HM_TRACE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hisimig/events.h"
#include "u64map.h"

#define HM_CODEC_TASKS 4096
#define HM_CODEC_BODIES 4096
#define HM_CODEC_BODY_MAX (sizeof(union hm_event) - sizeof(struct hm_event_header))
/* worst case encoded event: header fields plus a body patched in full */
#define HM_CODEC_MAX_EVENT (64 + HM_COMM_LEN + 2 * sizeof(union hm_event))

struct hm_codec_task {
	uint32_t pid, tid, pad;
	char comm[HM_COMM_LEN];
};

struct hm_codec {
	uint64_t prev_ts;
	struct hm_codec_task *tasks;
	size_t ntasks;
	unsigned char (*bodies)[HM_CODEC_BODY_MAX];
	size_t nbodies;
	/* per event type: the table slot + 1 of its last body, 0 none (zeros).
	 * Both sides' tables change identically, so a slot reused since still
	 * reads the same on both. */
	uint32_t last_slot[HM_EV_TYPE_MAX];
	/* encoder only: content hash -> index + 1 */
	struct u64map task_index, body_index;
	uint64_t table_resets;        /* tables emptied because they were full */
};

/* LEB128 unsigned varints, also the record framing of format 2. */
#define HM_VARINT_MAX 10
size_t hm_codec_put_varint(unsigned char *p, uint64_t v);
/* Advances *p; false if the varint runs past end or over 64 bits. */
bool hm_codec_get_varint_long(const unsigned char **p, const unsigned char *end, uint64_t *v);

static inline bool hm_codec_get_varint(const unsigned char **p, const unsigned char *end,
				       uint64_t *v)
{
	if (*p < end && !(**p & 0x80)) { /* most fields fit one byte */
		*v = *(*p)++;
		return true;
	}
	return hm_codec_get_varint_long(p, end, v);
}

bool hm_codec_init(struct hm_codec *c);
void hm_codec_free(struct hm_codec *c);

/* Can this record be encoded compactly (known type, consistent size)? */
bool hm_codec_encodable(const void *ev, size_t len);
/* Encode a record hm_codec_encodable() accepted into out (HM_CODEC_MAX_EVENT
 * bytes); returns the encoded length. */
size_t hm_codec_encode(struct hm_codec *c, const union hm_event *ev, unsigned char *out);
/* Decode one record's payload into ev; false if it is malformed. */
bool hm_codec_decode(struct hm_codec *c, const unsigned char *p, size_t len, union hm_event *ev);

#endif
