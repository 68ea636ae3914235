/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loss accounting of a live run: records the BPF side could not reserve in
 * the ring buffer (per CPU, the shared `lost` map) and program runs the
 * kernel skipped become LOST records in the session, each counted once.
 */
#ifndef HM_RING_LOSS_H
#define HM_RING_LOSS_H

#include <stdint.h>
#include "session.h"

struct hm_ring_loss;

/* lost_fd: the per-CPU `lost` map; s is borrowed. NULL: out of memory. */
struct hm_ring_loss *hm_ring_loss_new(int lost_fd, struct hm_session *s);
void hm_ring_loss_free(struct hm_ring_loss *l);

/* Reserve failures since the last report become LOST records stamped now_ns;
 * so do skipped runs, when skipped_total (all so far) is given and grew. */
void hm_ring_loss_report(struct hm_ring_loss *l, uint64_t now_ns, const uint64_t *skipped_total);
/* Records the ring buffer refused so far (skipped runs are not counted:
 * one may have written nothing). */
uint64_t hm_ring_loss_refused(const struct hm_ring_loss *l);

#endif
