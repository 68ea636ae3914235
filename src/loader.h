/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live side: check the kernel lets us trace, attach every hook the best
 * way this kernel offers (attacher.h), then poll the ring buffer: records go
 * through the decoder (record_decoder.h), loss counts become records
 * (ring_loss.h), hooks in modules that load later attach late.
 */
#ifndef HM_LOADER_H
#define HM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "session.h"
#include "targets.h"

#define HM_LOADER_MAX_SET_STATE 8

#define HM_FULL_RINGBUF_BYTES (64u << 20)

struct hm_loader_opts {
	enum hm_attach_pref pref;
	bool verbose;                 /* libbpf's own messages to stderr */
	const char *set_state_funcs[HM_LOADER_MAX_SET_STATE]; /* extra set_state callbacks */
	size_t n_set_state_funcs;
	unsigned int lock_mode;       /* enum hm_lock_mode (hisimig/lockcfg.h) */
	uint32_t ringbuf_bytes;       /* ring buffer size (power of 2, >= page); 0: built-in,
					 HM_FULL_RINGBUF_BYTES in full lock mode */
};

/* Can this process trace this kernel? false with one line saying what to do. */
bool hm_loader_check_env(char *err, size_t errlen);

/* Where a host's error messages send the user: kernel config, lockdown,
 * Secure Boot, troubleshooting. */
#define HM_HOST_GUIDE "see docs/host.md"

/* The one line for a kernel that refuses tracing programs to root. */
#define HM_LOADER_EPERM_MSG                                                              \
	"the kernel refuses BPF tracing programs (EPERM as root): kernel lockdown? check " \
	"/sys/kernel/security/lockdown and Secure Boot (" HM_HOST_GUIDE ")"

struct hm_loader;

/* Loads and attaches; records every hook's status with hm_session_meta(). */
struct hm_loader *hm_loader_start(const struct hm_loader_opts *o, struct hm_session *s,
				  char *err, size_t errlen);
/* One batch: wait up to timeout_ms for records, feed them, account for loss,
 * flush the session, attach hooks of newly loaded modules. <0: -errno. */
int hm_loader_poll(struct hm_loader *l, int timeout_ms);
/* Hooks attached now, and a one-line summary of them ("12 fentry, 2 kprobe, 3 missing"). */
void hm_loader_summary(const struct hm_loader *l, char *buf, size_t len);
/* Records the ring buffer refused so far (skipped hook runs are not counted). */
uint64_t hm_loader_lost(const struct hm_loader *l);
/* Which programs' runs the kernel skipped ("prog count, ..."); false: none */
bool hm_loader_skipped_by(const struct hm_loader *l, char *who, size_t wholen);
void hm_loader_free(struct hm_loader *l);

/* CLOCK_MONOTONIC now, the clock of bpf_ktime_get_ns(). */
uint64_t hm_mono_ns(void);

#endif
