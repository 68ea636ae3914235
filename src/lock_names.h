/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names of the non-device locks of a live run, for replays: a known global's
 * symbol, "mmap_lock", or a learned lock's (<driver>:state_mutex, the VFIO
 * core's field), each sent once as a LOCK_CLASS record before the lock's
 * first record. Learned locks whose owner went are forgotten here and in
 * the BPF map, so a new lock at that address is named afresh.
 */
#ifndef HM_LOCK_NAMES_H
#define HM_LOCK_NAMES_H

#include <stdbool.h>
#include <stdint.h>
#include "hisimig/lockcfg.h"

struct hm_lock_names;

/* learned_fd: the learned_locks map; known: hm_known_locks[i]'s address, 0
 * absent. NULL: out of memory. */
struct hm_lock_names *hm_lock_names_new(int learned_fd, const uint64_t known[HM_MAX_KNOWN_LOCKS]);
void hm_lock_names_free(struct hm_lock_names *n);

/* The first record of a lock with a name: true with its LOCK_CLASS record
 * in *rec. false for device mutexes (the record names the device), locks
 * seen before and nameless ones (the analyzers say "mutex@0x..."). */
bool hm_lock_names_first(struct hm_lock_names *n, const struct hm_lock_event *e,
			 struct hm_lock_class_event *rec);

/* Forget the learned locks `bdf` owns (its driver left, or it went away:
 * the memory may become anything); NULL: the released ones (a migration
 * file's mutex), once the records before their release are named. */
void hm_lock_names_forget(struct hm_lock_names *n, const struct hm_bdf *bdf);

#endif
