// SPDX-License-Identifier: GPL-2.0
#include "analyzers/work_locks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "finding.h"

void wl_init(struct wl_expander *x)
{
	u64map_init(&x->named);
	u64map_init(&x->running);
}

void wl_free(struct wl_expander *x)
{
	u64map_free(&x->named);
	u64map_free(&x->running);
}

bool wl_is_work_record(unsigned int type)
{
	return type >= HM_EV_WORK_RUN_BEGIN && type <= HM_EV_COMPLETE;
}

void wl_work_name(const struct hm_work_event *e, char *buf, size_t len)
{
	if (e->func_name[0])
		snprintf(buf, len, "work:%.*s", HM_FUNC_LEN, e->func_name);
	else
		snprintf(buf, len, "work:%#llx", (unsigned long long)e->func);
}

void wl_wq_name(const struct hm_work_event *e, char *buf, size_t len)
{
	if (e->wq_name[0])
		snprintf(buf, len, "wq:%.*s", HM_DRIVER_LEN, e->wq_name);
	else
		snprintf(buf, len, "wq:%#llx", (unsigned long long)e->wq_addr);
}

static uint64_t map_key(uint64_t h)
{
	return h > 1 && h != UINT64_MAX ? h : 2;
}

/* A LOCK_CLASS record before the first use of a pseudo-lock under a name
 * (again when the address comes back under another name). The name is a
 * global's: one class per work function or workqueue, as lockdep keys them. */
static void name_pseudo(struct wl_expander *x, const struct hm_work_event *e, uint64_t addr,
			const char *name, wl_sink sink, void *ctx)
{
	uint64_t h = map_key(hm_hash_str(HM_HASH_INIT, name));
	union hm_event rec;

	if ((uint64_t)(uintptr_t)u64map_get(&x->named, addr) == h)
		return;
	u64map_put(&x->named, addr, (void *)(uintptr_t)h);
	memset(&rec, 0, sizeof(rec));
	rec.lock_class.hdr = e->hdr;
	rec.lock_class.hdr.type = HM_EV_LOCK_CLASS;
	rec.lock_class.hdr.size = sizeof(rec.lock_class);
	rec.lock_class.lock_addr = addr;
	rec.lock_class.origin = HM_LOCK_ORIGIN_GLOBAL;
	snprintf(rec.lock_class.name, sizeof(rec.lock_class.name), "%s", name);
	sink(ctx, &rec);
}

static void emit_lock(const struct hm_work_event *e, uint16_t type, uint64_t addr,
		      uint8_t lock_type, int32_t ret, wl_sink sink, void *ctx)
{
	union hm_event rec;

	memset(&rec, 0, sizeof(rec));
	rec.lock.hdr = e->hdr;
	rec.lock.hdr.type = type;
	rec.lock.hdr.size = sizeof(rec.lock);
	rec.lock.lock_addr = addr;
	rec.lock.lock_type = lock_type;
	rec.lock.ret = ret;
	rec.lock.origin = HM_LOCK_ORIGIN_GLOBAL;
	rec.lock.dev.vf_id = -1;
	sink(ctx, &rec);
}

static uint64_t work_lock(const struct hm_work_event *e)
{
	return e->work_addr | WL_WORK_TAG;
}

static uint64_t wq_lock(const struct hm_work_event *e)
{
	return e->wq_addr | WL_WQ_TAG;
}

static void run_begins(struct wl_expander *x, const struct hm_work_event *e, wl_sink sink,
		       void *ctx)
{
	char name[HM_FUNC_LEN + 8];

	if (e->wq_addr) {
		wl_wq_name(e, name, sizeof(name));
		name_pseudo(x, e, wq_lock(e), name, sink, ctx);
		/* many workers run a workqueue's items at once: a shared hold */
		emit_lock(e, HM_EV_LOCK_ACQUIRED, wq_lock(e), HM_LOCK_RWSEM_READ, 0, sink, ctx);
	}
	wl_work_name(e, name, sizeof(name));
	name_pseudo(x, e, work_lock(e), name, sink, ctx);
	emit_lock(e, HM_EV_LOCK_ACQUIRED, work_lock(e), HM_LOCK_MUTEX, 0, sink, ctx);
	u64map_put(&x->running, e->work_addr, (void *)(uintptr_t)(e->hdr.tid + 1ull));
}

static void run_ends(struct wl_expander *x, const struct hm_work_event *e, wl_sink sink,
		     void *ctx)
{
	emit_lock(e, HM_EV_LOCK_RELEASED, work_lock(e), HM_LOCK_MUTEX, 0, sink, ctx);
	if (e->wq_addr)
		emit_lock(e, HM_EV_LOCK_RELEASED, wq_lock(e), HM_LOCK_RWSEM_READ, 0, sink, ctx);
	u64map_del(&x->running, e->work_addr);
}

/* flush_work() depends on W whether or not W is queued (lockdep acquires
 * its map unconditionally); cancel_work_sync() removes a pending W and
 * waits only for a running one (lockdep skips it), so only then. */
static void flush_begins(struct wl_expander *x, const struct hm_work_event *e, wl_sink sink,
			 void *ctx)
{
	char name[HM_FUNC_LEN + 8];
	bool cancel = e->ret == 1;

	if (cancel && !u64map_get(&x->running, e->work_addr))
		return;
	wl_work_name(e, name, sizeof(name));
	name_pseudo(x, e, work_lock(e), name, sink, ctx);
	emit_lock(e, HM_EV_LOCK_WAIT, work_lock(e), HM_LOCK_MUTEX, 0, sink, ctx);
}

static void wq_flush_begins(struct wl_expander *x, const struct hm_work_event *e, wl_sink sink,
			    void *ctx)
{
	char name[HM_FUNC_LEN + 8];

	wl_wq_name(e, name, sizeof(name));
	name_pseudo(x, e, wq_lock(e), name, sink, ctx);
	emit_lock(e, HM_EV_LOCK_WAIT, wq_lock(e), HM_LOCK_RWSEM_WRITE, 0, sink, ctx);
}

void wl_expand(struct wl_expander *x, const union hm_event *ev, wl_sink sink, void *ctx)
{
	const struct hm_work_event *e = &ev->work;

	switch (ev->hdr.type) {
	case HM_EV_WORK_RUN_BEGIN:
		run_begins(x, e, sink, ctx);
		break;
	case HM_EV_WORK_RUN_END:
		run_ends(x, e, sink, ctx);
		break;
	case HM_EV_WORK_FLUSH_BEGIN:
		flush_begins(x, e, sink, ctx);
		break;
	case HM_EV_WQ_FLUSH_BEGIN:
		wq_flush_begins(x, e, sink, ctx);
		break;
	/* the wait is over and nothing stays held: an acquisition that failed */
	case HM_EV_WORK_FLUSH_END:
		emit_lock(e, HM_EV_LOCK_ACQUIRED, work_lock(e), HM_LOCK_MUTEX, -EAGAIN, sink, ctx);
		break;
	case HM_EV_WQ_FLUSH_END:
		emit_lock(e, HM_EV_LOCK_ACQUIRED, wq_lock(e), HM_LOCK_RWSEM_WRITE, -EAGAIN, sink,
			  ctx);
		break;
	default:
		break;
	}
}
