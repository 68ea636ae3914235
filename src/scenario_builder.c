// SPDX-License-Identifier: GPL-2.0
#include "scenario_builder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "finding.h"

struct scenario *scn_new(void)
{
	struct scenario *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->stacks = hm_stacks_new();
	if (!s->stacks) {
		free(s);
		return NULL;
	}
	s->now_ns = 1000000000ULL;
	s->step_ns = 10000;
	s->next_symbol_addr = 0xffffffff81000000ULL;
	u64map_init(&s->stack_ids);
	return s;
}

/* Events a streaming scenario keeps before handing them over. */
#define SCN_STREAM_BATCH 4096

struct scenario *scn_new_streaming(struct scn_sink sink)
{
	struct scenario *s = scn_new();

	if (!s)
		return NULL;
	s->events = calloc(SCN_STREAM_BATCH, sizeof(*s->events));
	if (!s->events) {
		scn_free(s);
		return NULL;
	}
	s->cap = SCN_STREAM_BATCH;
	s->sink = sink;
	return s;
}

bool scn_flush(struct scenario *s)
{
	for (; s->flushed < s->count && !s->sink_failed; s->flushed++) {
		const union hm_event *ev = &s->events[s->flushed % s->cap];

		if (!s->sink.event(s->sink.ctx, ev, ev->hdr.size))
			s->sink_failed = true;
	}
	return !s->sink_failed;
}

void scn_free(struct scenario *s)
{
	if (!s)
		return;
	hm_stacks_free(s->stacks);
	u64map_free(&s->stack_ids);
	free(s->events);
	free(s);
}

struct scn_task scn_task(uint32_t tid, const char *comm)
{
	struct scn_task t = { .pid = tid, .tid = tid, .cpu = tid % 2 };

	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	return t;
}

/* A stable, kernel-looking struct device address per BDF. */
static uint64_t synthetic_dev_addr(const struct hm_bdf *bdf)
{
	return 0xffff888100000000ULL | (uint64_t)bdf->domain << 24 | (uint64_t)bdf->bus << 16 |
	       (uint64_t)bdf->devfn << 8;
}

struct hm_device scn_device(const char *bdf, enum hm_role role, const char *pf_bdf,
			    const char *driver)
{
	struct hm_device dev = { .role = (uint8_t)role, .vf_id = -1 };

	if (!hm_bdf_parse(bdf, &dev.bdf))
		abort(); /* scenario code bug, not input */
	if (pf_bdf) {
		if (!hm_bdf_parse(pf_bdf, &dev.pf_bdf))
			abort();
		dev.vf_id = (dev.bdf.devfn - dev.pf_bdf.devfn) - 1;
	}
	dev.dev_addr = synthetic_dev_addr(&dev.bdf);
	snprintf(dev.driver, sizeof(dev.driver), "%s", driver ? driver : "");
	return dev;
}

uint64_t scn_lock_addr(const struct hm_device *dev)
{
	return dev->dev_addr + SCN_DEV_MUTEX_OFFSET;
}

void scn_advance(struct scenario *s, uint64_t ns)
{
	s->now_ns += ns;
}

/* The frames' identity: their names in order. */
static uint64_t frames_key(const char *frame, va_list ap)
{
	char names[HM_MAX_STACK_DEPTH * 64];
	size_t len = 0;
	unsigned int depth = 0;

	for (const char *name = frame; name && depth < HM_MAX_STACK_DEPTH;
	     name = va_arg(ap, const char *), depth++) {
		int n = snprintf(names + len, sizeof(names) - len, "%s;", name);

		if (n > 0)
			len += (size_t)n < sizeof(names) - len ? (size_t)n : sizeof(names) - len - 1;
	}
	return u64map_hash_bytes(names, len);
}

int32_t scn_stack(struct scenario *s, const char *frame, ...)
{
	uint64_t ips[HM_MAX_STACK_DEPTH];
	unsigned int depth = 0;
	uint64_t key;
	int32_t id;
	va_list ap;

	va_start(ap, frame);
	key = frames_key(frame, ap);
	va_end(ap);
	id = (int32_t)(intptr_t)u64map_get(&s->stack_ids, key) - 1;
	if (id >= 0)
		return id;
	id = s->next_stack_id++;
	u64map_put(&s->stack_ids, key, (void *)(intptr_t)(id + 1));
	va_start(ap, frame);
	for (const char *name = frame; name && depth < HM_MAX_STACK_DEPTH;
	     name = va_arg(ap, const char *)) {
		char sym[128];

		/* each frame gets its own address, like a return address would */
		ips[depth] = s->next_symbol_addr + 0x1c;
		snprintf(sym, sizeof(sym), "%s+0x1c/0x%x", name, 0x80 + 0x10 * (unsigned)depth);
		hm_stacks_add_symbol(s->stacks, ips[depth], sym);
		s->next_symbol_addr += 0x100;
		depth++;
	}
	va_end(ap);
	hm_stacks_add(s->stacks, id, ips, depth);
	return id;
}

union hm_event *scn_append(struct scenario *s, const struct scn_task *t,
			   enum hm_event_type type, int32_t stack_id)
{
	union hm_event *ev;

	if (s->sink.event) {
		/* every event before this one is complete: hand over a full batch */
		if (s->count - s->flushed == s->cap)
			scn_flush(s);
		ev = &s->events[s->count++ % s->cap];
	} else {
		if (s->count == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			union hm_event *grown = realloc(s->events, cap * sizeof(*grown));

			if (!grown)
				abort();
			s->events = grown;
			s->cap = cap;
		}
		ev = &s->events[s->count++];
	}
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)type;
	ev->hdr.size = (uint16_t)hm_event_size(type);
	ev->hdr.ts_ns = s->now_ns;
	ev->hdr.stack_id = stack_id;
	if (t) {
		ev->hdr.cpu = t->cpu;
		ev->hdr.pid = t->pid;
		ev->hdr.tid = t->tid;
		memcpy(ev->hdr.comm, t->comm, sizeof(ev->hdr.comm));
	}
	s->now_ns += s->step_ns;
	return ev;
}

size_t scn_size(const struct scenario *s, size_t i)
{
	return s->events[i].hdr.size;
}

static union hm_event *lock_event(struct scenario *s, const struct scn_task *t,
				  enum hm_event_type type, const struct hm_device *dev, int ret,
				  int32_t stack_id)
{
	union hm_event *ev = scn_append(s, t, type, stack_id);

	ev->lock.lock_addr = scn_lock_addr(dev);
	ev->lock.lock_type = HM_LOCK_DEVICE_MUTEX;
	ev->lock.ret = ret;
	ev->lock.dev = *dev;
	return ev;
}

void scn_lock_wait(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
		   int32_t stack_id)
{
	lock_event(s, t, HM_EV_LOCK_WAIT, dev, 0, stack_id);
}

/* As the live side records a wait: with the exclusive owner it read. */
static void set_owner_read(union hm_event *wait, uint32_t owner_tid)
{
	wait->lock.owner_tid = owner_tid;
	wait->lock.flags = HM_LOCK_F_OWNER_READ;
}

void scn_lock_wait_owner(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
			 uint32_t owner_tid, int32_t stack_id)
{
	set_owner_read(lock_event(s, t, HM_EV_LOCK_WAIT, dev, 0, stack_id), owner_tid);
}

void scn_lock_acquired(struct scenario *s, const struct scn_task *t,
		       const struct hm_device *dev, int32_t stack_id)
{
	lock_event(s, t, HM_EV_LOCK_ACQUIRED, dev, 0, stack_id);
}

void scn_lock(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
	      int32_t stack_id)
{
	scn_lock_wait(s, t, dev, stack_id);
	scn_lock_acquired(s, t, dev, stack_id);
}

void scn_trylock(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
		 int taken, int32_t stack_id)
{
	lock_event(s, t, HM_EV_LOCK_TRYLOCK, dev, taken ? 1 : 0, stack_id);
}

void scn_unlock(struct scenario *s, const struct scn_task *t, const struct hm_device *dev)
{
	lock_event(s, t, HM_EV_LOCK_RELEASED, dev, 0, -1);
}

struct scn_named_lock scn_named_lock(struct scenario *s, const char *name,
				     enum hm_lock_origin origin, uint64_t addr)
{
	struct scn_named_lock l = { .addr = addr, .origin = origin };
	union hm_event *ev = scn_append(s, NULL, HM_EV_LOCK_CLASS, -1);

	ev->lock_class.lock_addr = addr;
	ev->lock_class.origin = origin;
	snprintf(ev->lock_class.name, sizeof(ev->lock_class.name), "%s", name);
	return l;
}

static union hm_event *named_lock_event(struct scenario *s, const struct scn_task *t,
					enum hm_event_type type, const struct scn_named_lock *l,
					enum hm_lock_type kind, int ret, int32_t stack_id)
{
	union hm_event *ev = scn_append(s, t, type, stack_id);

	ev->lock.lock_addr = l->addr;
	ev->lock.lock_type = kind;
	ev->lock.origin = l->origin;
	ev->lock.ret = ret;
	ev->lock.dev.vf_id = -1;
	return ev;
}

void scn_nlock_wait(struct scenario *s, const struct scn_task *t, const struct scn_named_lock *l,
		    enum hm_lock_type kind, int32_t stack_id)
{
	named_lock_event(s, t, HM_EV_LOCK_WAIT, l, kind, 0, stack_id);
}

void scn_nlock_wait_owner(struct scenario *s, const struct scn_task *t,
			  const struct scn_named_lock *l, enum hm_lock_type kind, uint32_t owner_tid,
			  int32_t stack_id)
{
	set_owner_read(named_lock_event(s, t, HM_EV_LOCK_WAIT, l, kind, 0, stack_id), owner_tid);
}

void scn_nlock(struct scenario *s, const struct scn_task *t, const struct scn_named_lock *l,
	       enum hm_lock_type kind, int32_t stack_id)
{
	named_lock_event(s, t, HM_EV_LOCK_WAIT, l, kind, 0, stack_id);
	named_lock_event(s, t, HM_EV_LOCK_ACQUIRED, l, kind, 0, stack_id);
}

void scn_ntrylock(struct scenario *s, const struct scn_task *t, const struct scn_named_lock *l,
		  enum hm_lock_type kind, int taken, int32_t stack_id)
{
	named_lock_event(s, t, HM_EV_LOCK_TRYLOCK, l, kind, taken ? 1 : 0, stack_id);
}

void scn_nunlock(struct scenario *s, const struct scn_task *t, const struct scn_named_lock *l,
		 enum hm_lock_type kind)
{
	named_lock_event(s, t, HM_EV_LOCK_RELEASED, l, kind, 0, -1);
}

void scn_sriov(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	       const struct hm_device *pf, int num_vfs, int ret)
{
	union hm_event *ev = scn_append(s, t, type, -1);

	ev->sriov.pf = *pf;
	ev->sriov.num_vfs = num_vfs;
	ev->sriov.ret = ret;
}

void scn_vf(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	    const struct hm_device *vf)
{
	union hm_event *ev = scn_append(s, t, type, -1);

	ev->vf.vf = *vf;
	ev->vf.pf_dev_addr = synthetic_dev_addr(&vf->pf_bdf);
}

void scn_bind(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	      const struct hm_device *dev, int ret)
{
	union hm_event *ev = scn_append(s, t, type, -1);

	ev->bind.dev = *dev;
	ev->bind.ret = ret;
}

void scn_work_event(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
		    const struct scn_work *w, int ret, int32_t stack_id)
{
	union hm_event *ev = scn_append(s, t, type, stack_id);

	ev->work.work_addr = w->addr;
	ev->work.wq_addr = w->wq;
	ev->work.ret = ret;
	if (w->func) {
		/* a stable fake text address per name, as kallsyms would give */
		ev->work.func = 0xffffffffc0a00000ULL + (hm_hash_str(HM_HASH_INIT, w->func) & 0xffff0);
		snprintf(ev->work.func_name, sizeof(ev->work.func_name), "%s", w->func);
	}
	if (w->wq_name)
		snprintf(ev->work.wq_name, sizeof(ev->work.wq_name), "%s", w->wq_name);
}

void scn_drvdata(struct scenario *s, const struct scn_task *t, const struct hm_device *vf,
		 const struct hm_device *pf, enum hm_drvdata_access access, int ret,
		 const char *accessor)
{
	union hm_event *ev = scn_append(s, t, HM_EV_PF_DRVDATA, -1);

	ev->drvdata.vf = *vf;
	ev->drvdata.pf = *pf;
	ev->drvdata.access = (uint8_t)access;
	ev->drvdata.ret = ret;
	ev->drvdata.result = ret ? 0 : pf->dev_addr + 0x4000;
	snprintf(ev->drvdata.accessor, sizeof(ev->drvdata.accessor), "%s", accessor);
}

void scn_vfio(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	      const struct hm_device *dev, int ret)
{
	union hm_event *ev = scn_append(s, t, type, -1);

	ev->vfio.dev = *dev;
	ev->vfio.ret = ret;
}

void scn_mig(struct scenario *s, const struct scn_task *t, enum hm_event_type type,
	     const struct hm_device *dev, enum hm_mig_state from, enum hm_mig_state to,
	     enum hm_mig_state next, int ret)
{
	union hm_event *ev = scn_append(s, t, type, -1);

	ev->mig.dev = *dev;
	ev->mig.from = (uint8_t)from;
	ev->mig.to = (uint8_t)to;
	ev->mig.next = (uint8_t)next;
	ev->mig.ret = ret;
}

void scn_mig_set_state(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
		       uint8_t caps, const enum hm_mig_state *path, size_t path_len, int ret)
{
	enum hm_mig_state target = path[path_len - 1];
	union hm_event *ev;

	ev = scn_append(s, t, HM_EV_MIG_SET_STATE_BEGIN, -1);
	ev->mig = (struct hm_mig_event){ .hdr = ev->hdr, .dev = *dev, .from = (uint8_t)path[0],
					 .to = (uint8_t)target, .next = HM_MIG_UNKNOWN,
					 .caps = caps };
	for (size_t i = 0; i + 1 < path_len; i++) {
		ev = scn_append(s, t, HM_EV_MIG_STEP, -1);
		ev->mig = (struct hm_mig_event){ .hdr = ev->hdr, .dev = *dev,
						 .from = (uint8_t)path[i], .to = (uint8_t)target,
						 .next = (uint8_t)path[i + 1], .caps = caps };
	}
	ev = scn_append(s, t, HM_EV_MIG_SET_STATE_END, -1);
	/* a failing driver here reports ERROR, the state userspace then reads back */
	ev->mig = (struct hm_mig_event){ .hdr = ev->hdr, .dev = *dev, .from = (uint8_t)path[0],
					 .to = (uint8_t)target,
					 .next = (uint8_t)(ret ? HM_MIG_ERROR : target),
					 .caps = caps, .ret = ret };
}

void scn_mig_data(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
		  enum hm_mig_data_dir dir, uint64_t bytes)
{
	union hm_event *ev = scn_append(s, t, HM_EV_MIG_DATA, -1);

	ev->data.dev = *dev;
	ev->data.dir = (uint8_t)dir;
	ev->data.bytes = bytes;
}

void scn_reset(struct scenario *s, const struct scn_task *t, const struct hm_device *dev,
	       enum hm_reset_kind kind)
{
	union hm_event *ev = scn_append(s, t, HM_EV_DEVICE_RESET, -1);

	ev->reset.dev = *dev;
	ev->reset.kind = (uint8_t)kind;
}

void scn_lost(struct scenario *s, uint64_t lost, uint32_t cpu)
{
	union hm_event *ev = scn_append(s, NULL, HM_EV_LOST, -1);

	ev->lost.lost = lost;
	ev->lost.lost_cpu = cpu;
}
