/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ring-buffer records to session events: each record is validated once
 * (known type, exact size), its kernel stack is read from the stack map and
 * symbolized with kallsyms the first time its id is seen (an ACQUIRED record,
 * which the BPF side sends without one, gets its WAIT's), a named lock gets
 * its LOCK_CLASS record first (lock_names.h), a work function its name; then
 * the record goes to hm_session_event(). Malformed records are dropped.
 */
#ifndef HM_RECORD_DECODER_H
#define HM_RECORD_DECODER_H

#include <stddef.h>
#include "kfeatures.h"
#include "lock_names.h"
#include "session.h"

struct hm_record_decoder;

/* All borrowed: stacks_fd is the shared stack map, k's kallsyms names the
 * frames (re-read as modules come), names the lock names. NULL: out of memory. */
struct hm_record_decoder *hm_record_decoder_new(struct hm_session *s, const struct hm_kernel *k,
						int stacks_fd, struct hm_lock_names *names);
void hm_record_decoder_free(struct hm_record_decoder *d);

/* One record (a libbpf ring_buffer_sample_fn: ctx is the decoder); 0 always. */
int hm_record_decode(void *ctx, void *data, size_t len);

#endif
