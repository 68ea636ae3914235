// SPDX-License-Identifier: GPL-2.0
#include "record_decoder.h"

#include <bpf/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "u64map.h"

/* Lock WAITs whose ACQUIRED has not come yet, beyond which the oldest are
 * forgotten (a lost ACQUIRED, a task that died waiting). */
#define MAX_PENDING_WAITS 65536
#define WAIT_KEY_SEED 0x77616974ULL /* "wait" */

struct hm_record_decoder {
	struct hm_session *session;
	const struct hm_kernel *kernel;
	int stacks_fd;
	struct hm_lock_names *names;
	struct u64map pending_waits; /* wait_key() -> stack id + 1 of the WAIT */
};

struct hm_record_decoder *hm_record_decoder_new(struct hm_session *s, const struct hm_kernel *k,
						int stacks_fd, struct hm_lock_names *names)
{
	struct hm_record_decoder *d = calloc(1, sizeof(*d));

	if (d) {
		*d = (struct hm_record_decoder){ .session = s, .kernel = k, .stacks_fd = stacks_fd,
						 .names = names };
		u64map_init(&d->pending_waits);
	}
	return d;
}

void hm_record_decoder_free(struct hm_record_decoder *d)
{
	if (d)
		u64map_free(&d->pending_waits);
	free(d);
}

static uint64_t wait_key(const struct hm_lock_event *e)
{
	uint64_t h = u64map_mix(u64map_mix(WAIT_KEY_SEED, e->hdr.tid), e->lock_addr);

	return h && h != UINT64_MAX ? h : 1;
}

/* The BPF side walks the stack of a blocking acquisition once, at its WAIT
 * (bpf/locks.bpf.c): the ACQUIRED record that ends the wait gets the same
 * stack here, before anything records or analyzes it. */
static void share_wait_stack(struct hm_record_decoder *d, struct hm_lock_event *e)
{
	uintptr_t stack;

	if (e->hdr.type == HM_EV_LOCK_WAIT && e->hdr.stack_id >= 0) {
		if (d->pending_waits.count >= MAX_PENDING_WAITS)
			u64map_clear(&d->pending_waits);
		u64map_put(&d->pending_waits, wait_key(e), (void *)(uintptr_t)(e->hdr.stack_id + 1));
	} else if (e->hdr.type == HM_EV_LOCK_ACQUIRED) {
		stack = (uintptr_t)u64map_del(&d->pending_waits, wait_key(e));
		if (stack && e->hdr.stack_id < 0)
			e->hdr.stack_id = (int32_t)(stack - 1);
	}
}

static bool is_bpf_frame(const char *sym)
{
	size_t n = strlen(sym);

	return n > 6 && !strcmp(sym + n - 6, " [bpf]");
}

static void add_stack(struct hm_record_decoder *d, int32_t id)
{
	struct hm_stacks *st = hm_session_stacks(d->session);
	const struct hm_ksyms *ks = hm_kernel_ksyms(d->kernel);
	uint64_t ips[HM_MAX_STACK_DEPTH] = { 0 };
	unsigned int depth = 0, skip = 0;
	char sym[256];

	if (bpf_map_lookup_elem(d->stacks_fd, &id, ips))
		return;
	while (depth < HM_MAX_STACK_DEPTH && ips[depth])
		depth++;
	/* the innermost frames are our own program and its trampoline: a report
	 * starts, like lockdep's, at the traced function (mutex_lock...) */
	while (skip < depth && ks && hm_ksyms_format(ks, ips[skip], sym, sizeof(sym)) &&
	       is_bpf_frame(sym))
		skip++;
	hm_stacks_add(st, id, ips + skip, depth - skip);
	for (unsigned int i = skip; i < depth; i++)
		if (!hm_stacks_symbol(st, ips[i]) && ks && hm_ksyms_format(ks, ips[i], sym, sizeof(sym)))
			hm_stacks_add_symbol(st, ips[i], sym);
}

/* A work function's name for the replay: "hmtest_vf_pf_work" out of
 * "hmtest_vf_pf_work+0x0/0x40 [hmtest_vf]". */
static void name_work_func(const struct hm_record_decoder *d, struct hm_work_event *e)
{
	const struct hm_ksyms *ks = hm_kernel_ksyms(d->kernel);
	char sym[256];

	if (!e->func || e->func_name[0] || !ks || !hm_ksyms_format(ks, e->func, sym, sizeof(sym)))
		return;
	sym[strcspn(sym, "+ ")] = '\0';
	snprintf(e->func_name, sizeof(e->func_name), "%.*s", (int)sizeof(e->func_name) - 1, sym);
}

int hm_record_decode(void *ctx, void *data, size_t len)
{
	struct hm_record_decoder *d = ctx;
	struct hm_lock_class_event lock_class;
	union hm_event ev;
	unsigned int type;

	/* from here on the type says which member of ev the record is */
	if (!hm_event_valid(data, len))
		return 0;
	memcpy(&ev, data, len);
	type = ev.hdr.type;
	if (type == HM_EV_LOCK_WAIT || type == HM_EV_LOCK_ACQUIRED)
		share_wait_stack(d, &ev.lock);
	if (ev.hdr.stack_id >= 0 && !hm_stacks_get(hm_session_stacks(d->session), ev.hdr.stack_id))
		add_stack(d, ev.hdr.stack_id);
	if (type >= HM_EV_LOCK_WAIT && type <= HM_EV_LOCK_RELEASED &&
	    hm_lock_names_first(d->names, &ev.lock, &lock_class))
		hm_session_event(d->session, &lock_class, sizeof(lock_class));
	if (type >= HM_EV_WORK_RUN_BEGIN && type <= HM_EV_COMPLETE)
		name_work_func(d, &ev.work);
	hm_session_event(d->session, &ev, len);
	if (type == HM_EV_UNBIND_END)
		hm_lock_names_forget(d->names, &ev.bind.dev.bdf);
	else if (type == HM_EV_VF_REMOVED)
		hm_lock_names_forget(d->names, &ev.vf.vf.bdf);
	return 0;
}
