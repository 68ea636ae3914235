// SPDX-License-Identifier: GPL-2.0
#include "timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "finding.h"
#include "json.h"
#include "model.h"
#include "outfile.h"
#include "report.h"
#include "u64map.h"

/* Device tracks live in one synthetic process, apart from the tasks. */
#define DEVICES_PID 0

struct open_span {
	uint64_t start_ns;
	uint32_t pid, tid;
	char name[96];
	const char *cat;
};

struct hm_timeline {
	struct hm_outfile *file;
	FILE *out;
	bool first_record;
	uint64_t last_ts;
	struct u64map spans;          /* span key -> struct open_span * */
	struct u64map device_tracks;  /* dev_addr -> track id (as pointer) */
	struct u64map named_threads;  /* tid + 1 -> non-NULL once its thread_name is out */
	struct u64map named_procs;    /* pid + 1 -> PROC_NAMED_* */
	uintptr_t next_track;
};

static void begin_record(struct hm_timeline *tl)
{
	fputs(tl->first_record ? "\n" : ",\n", tl->out);
	tl->first_record = false;
}

/* Trace-event times are microseconds. */
static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static void write_complete(struct hm_timeline *tl, const struct open_span *sp, uint64_t end_ns,
			   bool unfinished)
{
	begin_record(tl);
	fprintf(tl->out, "{\"ph\":\"X\",\"cat\":\"%s\",\"name\":", sp->cat);
	hm_json_string(tl->out, sp->name);
	fprintf(tl->out, ",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%u,\"tid\":%u%s}", us(sp->start_ns),
		us(end_ns - sp->start_ns), sp->pid, sp->tid,
		unfinished ? ",\"args\":{\"unfinished\":true}" : "");
}

static uint64_t span_key(const char *cat, uint64_t a, uint64_t b)
{
	uint64_t h = hm_hash_str(HM_HASH_INIT, cat);

	h = hm_hash_bytes(h, &a, sizeof(a));
	h = hm_hash_bytes(h, &b, sizeof(b));
	return h ? h : 1;
}

static void span_open(struct hm_timeline *tl, uint64_t key, const char *cat, uint64_t ts,
		      uint32_t pid, uint32_t tid, const char *name)
{
	struct open_span *sp = u64map_get(&tl->spans, key);

	if (!sp) {
		sp = calloc(1, sizeof(*sp));
		if (!sp || !u64map_put(&tl->spans, key, sp)) {
			free(sp);
			return;
		}
	}
	*sp = (struct open_span){ .start_ns = ts, .pid = pid, .tid = tid, .cat = cat };
	snprintf(sp->name, sizeof(sp->name), "%s", name);
}

static void span_close(struct hm_timeline *tl, uint64_t key, uint64_t ts)
{
	struct open_span *sp = u64map_del(&tl->spans, key);

	if (sp) {
		write_complete(tl, sp, ts, false);
		free(sp);
	}
}

static void lock_name(const struct hm_lock_event *e, char *buf, size_t len)
{
	char bdf[HM_BDF_STR_LEN], cls[HM_CLASS_STR_LEN];

	if (e->lock_type == HM_LOCK_DEVICE_MUTEX)
		snprintf(buf, len, "device_lock %s %s", hm_bdf_format(&e->dev.bdf, bdf),
			 hm_device_class(&e->dev, cls));
	else
		snprintf(buf, len, "%s 0x%llx", hm_lock_type_name(e->lock_type),
			 (unsigned long long)e->lock_addr);
}

static void on_lock(struct hm_timeline *tl, const struct hm_lock_event *e)
{
	const struct hm_event_header *h = &e->hdr;
	uint64_t hold = span_key("lock", h->tid, e->lock_addr);
	uint64_t wait = span_key("lock-wait", h->tid, e->lock_addr);
	char name[96];

	lock_name(e, name, sizeof(name));
	switch (h->type) {
	case HM_EV_LOCK_WAIT:
		span_open(tl, wait, "lock-wait", h->ts_ns, h->pid, h->tid, name);
		break;
	case HM_EV_LOCK_ACQUIRED:
		span_close(tl, wait, h->ts_ns);
		if (e->ret == 0)
			span_open(tl, hold, "lock", h->ts_ns, h->pid, h->tid, name);
		break;
	case HM_EV_LOCK_TRYLOCK:
		if (e->ret == 1)
			span_open(tl, hold, "lock", h->ts_ns, h->pid, h->tid, name);
		break;
	case HM_EV_LOCK_RELEASED:
		span_close(tl, hold, h->ts_ns);
		break;
	}
}

/* Task tracks are named as Perfetto shows them: the process by its main
 * thread's comm ("pid N" until that thread is seen), each thread "comm/tid". */
enum { PROC_NAMED_BY_PID = 1, PROC_NAMED_BY_COMM = 2 };

static void name_metadata(struct hm_timeline *tl, const char *what, uint32_t pid, uint32_t tid,
			  const char *name)
{
	begin_record(tl);
	fprintf(tl->out, "{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%u,\"tid\":%u,\"args\":{\"name\":",
		what, pid, tid);
	hm_json_string(tl->out, name);
	fputs("}}", tl->out);
}

static void name_task(struct hm_timeline *tl, const struct hm_event_header *h)
{
	uintptr_t proc = (uintptr_t)u64map_get(&tl->named_procs, (uint64_t)h->pid + 1);
	char name[HM_COMM_LEN + 16];

	if (!u64map_get(&tl->named_threads, (uint64_t)h->tid + 1) &&
	    u64map_put(&tl->named_threads, (uint64_t)h->tid + 1, (void *)1)) {
		snprintf(name, sizeof(name), "%.*s/%u", HM_COMM_LEN, h->comm, h->tid);
		name_metadata(tl, "thread_name", h->pid, h->tid, name);
	}
	if (proc == PROC_NAMED_BY_COMM || (proc == PROC_NAMED_BY_PID && h->tid != h->pid))
		return;
	if (h->tid == h->pid)
		snprintf(name, sizeof(name), "%.*s (pid %u)", HM_COMM_LEN, h->comm, h->pid);
	else
		snprintf(name, sizeof(name), "pid %u", h->pid);
	if (u64map_put(&tl->named_procs, (uint64_t)h->pid + 1,
		       (void *)(uintptr_t)(h->tid == h->pid ? PROC_NAMED_BY_COMM : PROC_NAMED_BY_PID)))
		name_metadata(tl, "process_name", h->pid, 0, name);
}

/* Begin/end event pairs that become one span on the calling task. */
static bool task_span_of(unsigned int type, const char **cat, bool *begins)
{
	switch (type) {
	case HM_EV_SRIOV_ENABLE_BEGIN: *cat = "sriov-enable"; *begins = true; return true;
	case HM_EV_SRIOV_ENABLE_END: *cat = "sriov-enable"; *begins = false; return true;
	case HM_EV_SRIOV_DISABLE_BEGIN: *cat = "sriov-disable"; *begins = true; return true;
	case HM_EV_SRIOV_DISABLE_END: *cat = "sriov-disable"; *begins = false; return true;
	case HM_EV_BIND_BEGIN: *cat = "bind"; *begins = true; return true;
	case HM_EV_BIND_END: *cat = "bind"; *begins = false; return true;
	case HM_EV_UNBIND_BEGIN: *cat = "unbind"; *begins = true; return true;
	case HM_EV_UNBIND_END: *cat = "unbind"; *begins = false; return true;
	case HM_EV_VFIO_UNREGISTER_BEGIN: *cat = "vfio-unregister"; *begins = true; return true;
	case HM_EV_VFIO_UNREGISTER_END: *cat = "vfio-unregister"; *begins = false; return true;
	case HM_EV_MIG_SET_STATE_BEGIN: *cat = "mig-set-state"; *begins = true; return true;
	case HM_EV_MIG_SET_STATE_END: *cat = "mig-set-state"; *begins = false; return true;
	default: return false;
	}
}

static uint32_t device_track(struct hm_timeline *tl, const struct hm_device *dev)
{
	uintptr_t track = (uintptr_t)u64map_get(&tl->device_tracks, dev->dev_addr);
	char name[HM_DEVICE_STR_LEN];

	if (track)
		return (uint32_t)track;
	track = ++tl->next_track;
	if (!u64map_put(&tl->device_tracks, dev->dev_addr, (void *)track))
		return 0;
	begin_record(tl);
	fprintf(tl->out, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%u,"
			 "\"args\":{\"name\":", DEVICES_PID, (uint32_t)track);
	hm_json_string(tl->out, hm_device_format(dev, name));
	fputs("}}", tl->out);
	return (uint32_t)track;
}

/* The device's migration state as a run of spans on its own track. */
static void on_mig_state(struct hm_timeline *tl, const struct hm_device *dev, uint64_t ts,
			 unsigned int state)
{
	uint32_t track = device_track(tl, dev);
	uint64_t key = span_key("mig-state", dev->dev_addr, 0);

	span_close(tl, key, ts);
	if (state < HM_MIG_NR_STATES)
		span_open(tl, key, "mig-state", ts, DEVICES_PID, track, hm_mig_state_name(state));
}

static void on_event(void *ctx, const union hm_event *ev, const struct hm_model_change *change)
{
	struct hm_timeline *tl = ctx;
	const struct hm_device *dev = hm_event_device(ev);
	const char *cat;
	bool begins;

	tl->last_ts = ev->hdr.ts_ns;
	if (ev->hdr.type >= HM_EV_LOCK_WAIT && ev->hdr.type <= HM_EV_LOCK_RELEASED) {
		name_task(tl, &ev->hdr);
		on_lock(tl, &ev->lock);
	} else if (task_span_of(ev->hdr.type, &cat, &begins) && dev) {
		name_task(tl, &ev->hdr);
		uint64_t key = span_key(cat, ev->hdr.tid, dev->dev_addr);
		char name[96], bdf[HM_BDF_STR_LEN];

		snprintf(name, sizeof(name), "%s %s", cat, hm_bdf_format(&dev->bdf, bdf));
		if (begins)
			span_open(tl, key, cat, ev->hdr.ts_ns, ev->hdr.pid, ev->hdr.tid, name);
		else
			span_close(tl, key, ev->hdr.ts_ns);
	}
	/* the state track follows the model's transitions, as the analyzers do */
	if (change->mig_changed)
		on_mig_state(tl, &change->mig.dev, ev->hdr.ts_ns, change->mig.to);
}

static void on_finding(void *ctx, const struct hm_finding *f)
{
	struct hm_timeline *tl = ctx;

	begin_record(tl);
	fprintf(tl->out, "{\"ph\":\"i\",\"s\":\"g\",\"cat\":\"finding\",\"name\":\"%s: %s\","
			 "\"ts\":%.3f,\"pid\":%d,\"tid\":0,\"args\":{\"summary\":",
		hm_severity_name(f->severity), hm_finding_kind_name(f->kind), us(f->ts_ns),
		DEVICES_PID);
	hm_json_string(tl->out, f->summary);
	fputs("}}", tl->out);
}

struct hm_observer hm_timeline_observer(struct hm_timeline *tl)
{
	return (struct hm_observer){ .on_event = on_event, .on_finding = on_finding, .ctx = tl };
}

struct hm_timeline *hm_timeline_open(const char *path, char *err, size_t errlen)
{
	struct hm_timeline *tl = calloc(1, sizeof(*tl));

	if (!tl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tl->file = hm_outfile_open(path, err, errlen);
	if (!tl->file) {
		free(tl);
		return NULL;
	}
	tl->out = hm_outfile_stream(tl->file);
	tl->first_record = true;
	u64map_init(&tl->spans);
	u64map_init(&tl->device_tracks);
	u64map_init(&tl->named_threads);
	u64map_init(&tl->named_procs);
	fprintf(tl->out, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
	begin_record(tl);
	fprintf(tl->out, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,"
			 "\"args\":{\"name\":\"PCI devices (migration state)\"}}", DEVICES_PID);
	return tl;
}

bool hm_timeline_close(struct hm_timeline *tl)
{
	size_t it = 0;
	uint64_t key;
	void *val;
	char why[256];
	bool ok;

	if (!tl)
		return true;
	/* a deadlock leaves waits and holds open: show them up to the end */
	while (u64map_next(&tl->spans, &it, &key, &val))
		write_complete(tl, val, tl->last_ts, true);
	fputs("\n]}\n", tl->out);
	ok = hm_outfile_commit(tl->file, why, sizeof(why));
	tl->file = NULL;
	hm_timeline_discard(tl);
	return ok;
}

void hm_timeline_discard(struct hm_timeline *tl)
{
	size_t it = 0;
	uint64_t key;
	void *val;

	if (!tl)
		return;
	while (u64map_next(&tl->spans, &it, &key, &val))
		free(val);
	hm_outfile_discard(tl->file);
	u64map_free(&tl->spans);
	u64map_free(&tl->device_tracks);
	u64map_free(&tl->named_threads);
	u64map_free(&tl->named_procs);
	free(tl);
}
