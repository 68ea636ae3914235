// SPDX-License-Identifier: GPL-2.0
#include "ring_loss.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>

#include "event.h"

struct hm_ring_loss {
	struct hm_session *session;
	int lost_fd;
	int ncpus;
	uint64_t refused;             /* records the ring buffer refused (the trailer's) */
	uint64_t skipped_seen;        /* skipped program runs, as last reported */
	uint64_t seen[];              /* per CPU, as last reported */
};

struct hm_ring_loss *hm_ring_loss_new(int lost_fd, struct hm_session *s)
{
	int ncpus = libbpf_num_possible_cpus();
	struct hm_ring_loss *l = ncpus > 0 ? calloc(1, sizeof(*l) + ncpus * sizeof(l->seen[0]))
					   : NULL;

	if (l)
		*l = (struct hm_ring_loss){ .session = s, .lost_fd = lost_fd, .ncpus = ncpus };
	return l;
}

void hm_ring_loss_free(struct hm_ring_loss *l)
{
	free(l);
}

static void record_loss(struct hm_ring_loss *l, uint64_t now_ns, uint32_t lost_cpu, uint64_t lost)
{
	struct hm_lost_event ev = { 0 };

	ev.hdr = hm_event_own_header(HM_EV_LOST, lost_cpu == HM_LOST_SKIPPED_RUNS ? 0 : lost_cpu,
				     now_ns);
	ev.lost = lost;
	ev.lost_cpu = lost_cpu;
	if (lost_cpu != HM_LOST_SKIPPED_RUNS)
		l->refused += lost;
	hm_session_event(l->session, &ev, sizeof(ev));
}

void hm_ring_loss_report(struct hm_ring_loss *l, uint64_t now_ns, const uint64_t *skipped_total)
{
	uint64_t now[l->ncpus];
	uint32_t zero = 0;

	if (!bpf_map_lookup_elem(l->lost_fd, &zero, now))
		for (int cpu = 0; cpu < l->ncpus; cpu++)
			if (now[cpu] > l->seen[cpu]) {
				record_loss(l, now_ns, cpu, now[cpu] - l->seen[cpu]);
				l->seen[cpu] = now[cpu];
			}
	if (skipped_total && *skipped_total > l->skipped_seen) {
		record_loss(l, now_ns, HM_LOST_SKIPPED_RUNS, *skipped_total - l->skipped_seen);
		l->skipped_seen = *skipped_total;
	}
}

uint64_t hm_ring_loss_refused(const struct hm_ring_loss *l)
{
	return l->refused;
}
