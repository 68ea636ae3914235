/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VFIO migration uAPI v2 state machine, as the kernel's
 * vfio_mig_get_next_state() (drivers/vfio/vfio_main.c) computes it. Pure
 * functions: the migration analyzer, a migration client and metrics share them.
 *
 * caps are VFIO_MIGRATION_* flags (HM_MIG_CAP_*). caps == 0 means "unknown":
 * every function then assumes HM_MIG_CAPS_ASSUMED (the most permissive set);
 * callers should say so when they report on that basis.
 */
#ifndef HM_MIG_FSM_H
#define HM_MIG_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hisimig/events.h"

#define HM_MIG_CAPS_ASSUMED (HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_P2P | HM_MIG_CAP_PRE_COPY)

/* caps, or HM_MIG_CAPS_ASSUMED when caps is 0 (unknown). */
uint8_t hm_mig_caps_effective(uint8_t caps);
/* A state exists for a device with these caps (ERROR never does). */
bool hm_mig_state_supported(uint8_t caps, unsigned int state);
/* One step as the kernel chooses it: 0 and *next, or -EINVAL when cur or
 * target is unsupported or the walk hits ERROR (*next is then ERROR). */
int hm_mig_next_step(uint8_t caps, unsigned int cur, unsigned int target, unsigned int *next);
/* A set-state request cur -> target succeeds in the core (cur == target too). */
bool hm_mig_request_legal(uint8_t caps, unsigned int cur, unsigned int target);
/* from -> next is a step the core hands a driver for some target. */
bool hm_mig_arc_legal(uint8_t caps, unsigned int from, unsigned int next);
/* The states a request walks through, cur first and target last. Returns how
 * many were written, 0 if the request is illegal or out[] is too small. */
size_t hm_mig_path(uint8_t caps, unsigned int cur, unsigned int target,
		   enum hm_mig_state out[], size_t max);

#define HM_MIG_CAPS_STR_LEN 64
/* "STOP_COPY|PRE_COPY", or "unknown, assumed STOP_COPY|P2P|PRE_COPY" for 0. */
char *hm_mig_caps_format(uint8_t caps, char buf[HM_MIG_CAPS_STR_LEN]);

#endif
