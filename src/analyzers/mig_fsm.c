// SPDX-License-Identifier: GPL-2.0
#include "mig_fsm.h"

#include <errno.h>
#include <stdio.h>

#define ERR HM_MIG_ERROR
#define STOP HM_MIG_STOP
#define RUN HM_MIG_RUNNING
#define SCOPY HM_MIG_STOP_COPY
#define RESUME HM_MIG_RESUMING
#define RUNP2P HM_MIG_RUNNING_P2P
#define PRE HM_MIG_PRE_COPY
#define PREP2P HM_MIG_PRE_COPY_P2P

/* vfio_from_fsm_table[cur][new] = next, copied from the kernel. */
static const uint8_t fsm_table[HM_MIG_NR_STATES][HM_MIG_NR_STATES] = {
	[STOP] = {
		[STOP] = STOP, [RUN] = RUNP2P, [PRE] = RUNP2P, [PREP2P] = RUNP2P,
		[SCOPY] = SCOPY, [RESUME] = RESUME, [RUNP2P] = RUNP2P, [ERR] = ERR,
	},
	[RUN] = {
		[STOP] = RUNP2P, [RUN] = RUN, [PRE] = PRE, [PREP2P] = RUNP2P,
		[SCOPY] = RUNP2P, [RESUME] = RUNP2P, [RUNP2P] = RUNP2P, [ERR] = ERR,
	},
	[PRE] = {
		[STOP] = RUN, [RUN] = RUN, [PRE] = PRE, [PREP2P] = PREP2P,
		[SCOPY] = PREP2P, [RESUME] = RUN, [RUNP2P] = RUN, [ERR] = ERR,
	},
	[PREP2P] = {
		[STOP] = RUNP2P, [RUN] = RUNP2P, [PRE] = PRE, [PREP2P] = PREP2P,
		[SCOPY] = SCOPY, [RESUME] = RUNP2P, [RUNP2P] = RUNP2P, [ERR] = ERR,
	},
	[SCOPY] = {
		[STOP] = STOP, [RUN] = STOP, [PRE] = ERR, [PREP2P] = ERR,
		[SCOPY] = SCOPY, [RESUME] = STOP, [RUNP2P] = STOP, [ERR] = ERR,
	},
	[RESUME] = {
		[STOP] = STOP, [RUN] = STOP, [PRE] = STOP, [PREP2P] = STOP,
		[SCOPY] = STOP, [RESUME] = RESUME, [RUNP2P] = STOP, [ERR] = ERR,
	},
	[RUNP2P] = {
		[STOP] = STOP, [RUN] = RUN, [PRE] = RUN, [PREP2P] = PREP2P,
		[SCOPY] = STOP, [RESUME] = STOP, [RUNP2P] = RUNP2P, [ERR] = ERR,
	},
	[ERR] = { ERR, ERR, ERR, ERR, ERR, ERR, ERR, ERR },
};

/* state_flags_table: the caps a state needs. ERROR needs every bit, so no
 * device supports it. */
static unsigned int caps_needed(unsigned int state)
{
	switch (state) {
	case STOP:
	case RUN:
	case SCOPY:
	case RESUME:
		return HM_MIG_CAP_STOP_COPY;
	case RUNP2P:
		return HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_P2P;
	case PRE:
		return HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_PRE_COPY;
	case PREP2P:
		return HM_MIG_CAP_STOP_COPY | HM_MIG_CAP_P2P | HM_MIG_CAP_PRE_COPY;
	default:
		return ~0u;
	}
}

uint8_t hm_mig_caps_effective(uint8_t caps)
{
	return caps ? caps : HM_MIG_CAPS_ASSUMED;
}

bool hm_mig_state_supported(uint8_t caps, unsigned int state)
{
	unsigned int need = caps_needed(state);

	return (hm_mig_caps_effective(caps) & need) == need;
}

int hm_mig_next_step(uint8_t caps, unsigned int cur, unsigned int target, unsigned int *next)
{
	unsigned int step;

	if (!hm_mig_state_supported(caps, cur) || !hm_mig_state_supported(caps, target))
		return -EINVAL;
	/* Skip unsupported optional states as the kernel does. Stop at ERROR: the
	 * unpatched kernel loop spins there forever on a blocked arc such as
	 * STOP_COPY -> PRE_COPY; the walk is bounded for the same reason. */
	step = fsm_table[cur][target];
	for (unsigned int hops = 0; step != ERR && !hm_mig_state_supported(caps, step) &&
				    hops < HM_MIG_NR_STATES; hops++)
		step = fsm_table[step][target];
	if (!hm_mig_state_supported(caps, step))
		step = ERR;
	*next = step;
	return step != ERR ? 0 : -EINVAL;
}

size_t hm_mig_path(uint8_t caps, unsigned int cur, unsigned int target,
		   enum hm_mig_state out[], size_t max)
{
	size_t n = 0;

	if (max == 0 || !hm_mig_state_supported(caps, cur))
		return 0;
	out[n++] = (enum hm_mig_state)cur;
	while (cur != target) {
		unsigned int next;

		/* every legal walk is shorter than the number of states */
		if (n == max || n > HM_MIG_NR_STATES || hm_mig_next_step(caps, cur, target, &next))
			return 0;
		out[n++] = (enum hm_mig_state)next;
		cur = next;
	}
	return n;
}

bool hm_mig_request_legal(uint8_t caps, unsigned int cur, unsigned int target)
{
	enum hm_mig_state path[HM_MIG_NR_STATES + 1];

	return hm_mig_state_supported(caps, target) &&
	       hm_mig_path(caps, cur, target, path, HM_MIG_NR_STATES + 1) > 0;
}

bool hm_mig_arc_legal(uint8_t caps, unsigned int from, unsigned int next)
{
	for (unsigned int target = 0; target < HM_MIG_NR_STATES; target++) {
		unsigned int step;

		if (hm_mig_next_step(caps, from, target, &step) == 0 && step == next)
			return true;
	}
	return false;
}

static size_t format_cap_bits(uint8_t caps, char *buf, size_t len)
{
	static const struct { uint8_t bit; const char *name; } bits[] = {
		{ HM_MIG_CAP_STOP_COPY, "STOP_COPY" },
		{ HM_MIG_CAP_P2P, "P2P" },
		{ HM_MIG_CAP_PRE_COPY, "PRE_COPY" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		int w;

		if (!(caps & bits[i].bit))
			continue;
		w = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", bits[i].name);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	return used;
}

char *hm_mig_caps_format(uint8_t caps, char buf[HM_MIG_CAPS_STR_LEN])
{
	static const char assumed[] = "unknown, assumed ";

	if (caps) {
		if (!format_cap_bits(caps, buf, HM_MIG_CAPS_STR_LEN))
			snprintf(buf, HM_MIG_CAPS_STR_LEN, "none (%#x)", caps);
		return buf;
	}
	snprintf(buf, HM_MIG_CAPS_STR_LEN, "%s", assumed);
	format_cap_bits(HM_MIG_CAPS_ASSUMED, buf + sizeof(assumed) - 1,
			HM_MIG_CAPS_STR_LEN - (sizeof(assumed) - 1));
	return buf;
}
