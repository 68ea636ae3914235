// SPDX-License-Identifier: GPL-2.0
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpf_objects.h"
#include "event.h"
#include "hisimig/lockcfg.h"
#include "kfeatures.h"
#include "u64map.h"

#define MAX_HOOKS 80   /* hm_targets + hm_driver_targets + --set-state-func */
#define MAX_OBJECTS 32 /* locks, pci, vfio + one per variant-driver function present */
#define MAX_LINKS 48 /* locks: 19 functions, entry + exit each */
#define LATE_CHECK_NS (2ULL * 1000000000ULL)

/* One hooked function: what it is, how it attached (or why not). */
struct hook {
	struct hm_target target;
	struct hm_plan plan;
	bool settled;                 /* attached, or missing for good */
	bool waited;                  /* was waiting for its module: announce the late attach */
};

struct loaded {
	struct hm_bpf_skel skel;
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
};

/* Maps every object uses together (bpf/common.bpf.h); objs[0] owns them. */
enum shared_map { MAP_EVENTS, MAP_STACKS, MAP_LOST, MAP_LEARN_COUNTS, MAP_LEARN_TASKS,
		  MAP_LEARNED, MAP_VFIO_USERS, MAP_MIG_FILES, SHARED_MAPS };
static const char *const shared_map_names[SHARED_MAPS] = {
	[MAP_EVENTS] = "events",	   [MAP_STACKS] = "stacks",
	[MAP_LOST] = "lost",		   [MAP_LEARN_COUNTS] = "learn_counts",
	[MAP_LEARN_TASKS] = "learn_tasks", [MAP_LEARNED] = "learned_locks",
	[MAP_VFIO_USERS] = "vfio_users",	   [MAP_MIG_FILES] = "mig_files",
};

struct hm_loader {
	struct hm_session *session;
	struct hm_kernel *kernel;
	enum hm_attach_pref pref;
	struct hook hooks[MAX_HOOKS];
	int nhooks;
	struct loaded objs[MAX_OBJECTS];
	int nobjs;
	int fds[SHARED_MAPS];                /* maps owned by objs[0] (locks), -1 before */
	struct ring_buffer *rb;
	bool verbose;
	int ncpus;
	uint64_t *lost_seen;          /* per CPU, as last reported */
	uint64_t lost_total;          /* records the ring buffer refused (the trailer's) */
	uint64_t skipped_seen;        /* skipped program runs, as last reported */
	uint64_t next_late_check;
	uint64_t malformed;
	unsigned int lock_mode;       /* enum hm_lock_mode */
	uint32_t ringbuf_bytes;       /* 0: the objects' own size */
	uint64_t known_addr[HM_MAX_KNOWN_LOCKS]; /* hm_known_locks[i]'s address, 0 absent */
	struct u64map named;          /* lock addresses given a LOCK_CLASS record */
};

uint64_t hm_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int libbpf_to_stderr(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

bool hm_loader_check_env(char *err, size_t errlen)
{
	struct hm_privileges priv;
	char lockdown[96];

	hm_privileges_get(&priv);
	if (!hm_privileges_enough(&priv)) {
		snprintf(err, errlen, "must run as root (CAP_BPF and CAP_PERFMON; " HM_HOST_GUIDE ")");
		return false;
	}
	if (!strncmp(hm_lockdown_mode(lockdown, sizeof(lockdown)), "confidentiality", 15)) {
		snprintf(err, errlen, "kernel lockdown (confidentiality) forbids BPF tracing "
				      "programs: boot with lockdown=none, which Secure Boot may forbid ("
				      HM_HOST_GUIDE ")");
		return false;
	}
	if (access(HM_VMLINUX_BTF, R_OK)) {
		snprintf(err, errlen, "%s is missing: need CONFIG_DEBUG_INFO_BTF=y (" HM_HOST_GUIDE ")",
			 HM_VMLINUX_BTF);
		return false;
	}
	return true;
}

/* ---- loading and attaching ---- */

static void record_status(struct hm_loader *l, const struct hook *h)
{
	char key[96], val[128];

	snprintf(key, sizeof(key), "attach.%s", h->target.func);
	hm_plan_describe(&h->plan, val, sizeof(val));
	hm_session_meta(l->session, key, val);
}

static void set_missing(struct hook *h, const char *what, int error)
{
	h->plan.mode = HM_MODE_MISSING;
	h->plan.later = false;
	snprintf(h->plan.reason, sizeof(h->plan.reason), "%s: %s", what, strerror(error));
}

static struct bpf_program *hook_prog(struct bpf_object *obj, const struct hook *h,
				     const char *suffix)
{
	char name[128];

	snprintf(name, sizeof(name), "%s_%s", h->target.progs, suffix);
	return bpf_object__find_program_by_name(obj, name);
}

static const char *const fentry_suffixes[] = { "fentry", "fexit" };
static const char *const kprobe_suffixes[] = { "kprobe", "kretprobe" };

/* Turn on the programs of the hooks' chosen mode, aimed at their functions. */
static int enable_programs(struct bpf_object *obj, struct hook **hooks, int n)
{
	struct bpf_program *prog;
	int enabled = 0;

	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, false);
	for (int i = 0; i < n; i++) {
		bool fentry = hooks[i]->plan.mode == HM_MODE_FENTRY;
		const char *const *sfx = fentry ? fentry_suffixes : kprobe_suffixes;

		if (hooks[i]->plan.mode == HM_MODE_MISSING)
			continue;
		for (int s = 0; s < 2; s++) {
			prog = hook_prog(obj, hooks[i], sfx[s]);
			if (!prog)
				continue;
			bpf_program__set_autoload(prog, true);
			if (fentry && bpf_program__set_attach_target(prog, 0, hooks[i]->target.func))
				return -errno;
			enabled++;
		}
	}
	return enabled;
}

static int attach_hook(struct loaded *lo, struct hook *h)
{
	bool fentry = h->plan.mode == HM_MODE_FENTRY;
	const char *const *sfx = fentry ? fentry_suffixes : kprobe_suffixes;

	for (int s = 0; s < 2; s++) {
		struct bpf_program *prog = hook_prog(lo->skel.obj, h, sfx[s]);
		struct bpf_link *link;

		if (!prog)
			continue;
		link = fentry ? bpf_program__attach(prog)
			      : bpf_program__attach_kprobe(prog, s == 1, h->target.func);
		if (!link || lo->nlinks == MAX_LINKS)
			return link ? -E2BIG : -errno;
		lo->links[lo->nlinks++] = link;
	}
	return 0;
}

static int share_maps(struct hm_loader *l, struct bpf_object *obj)
{
	for (size_t i = 0; i < SHARED_MAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, shared_map_names[i]);

		if (!m || bpf_map__reuse_fd(m, l->fds[i]))
			return m ? -errno : -ENOENT;
	}
	return 0;
}

static void own_maps(struct hm_loader *l, struct bpf_object *obj)
{
	for (size_t i = 0; i < SHARED_MAPS; i++)
		l->fds[i] = bpf_map__fd(bpf_object__find_map_by_name(obj, shared_map_names[i]));
}

/* ---- lock classes ---- */

/* The offset of a .rodata variable of obj (by BTF), -1 if absent. */
static long rodata_offset(struct bpf_object *obj, const char *name, size_t size)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *v;
	const struct btf_type *sec;
	int id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;

	if (id <= 0)
		return -1;
	sec = btf__type_by_id(btf, id);
	v = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, v++)
		if (!strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, v->type)->name_off), name) &&
		    v->size == size)
			return v->offset;
	return -1;
}

static struct bpf_map *rodata_map(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
		if (strstr(bpf_map__name(map), ".rodata"))
			return map;
	return NULL;
}

/* Before load: the lock mode and the addresses of the known global mutexes,
 * written into locks.bpf.c's .rodata (known_locks[], lock_mode). */
static int configure_locks(struct hm_loader *l, struct bpf_object *obj)
{
	long known = rodata_offset(obj, "known_locks", sizeof(l->known_addr));
	long mode = rodata_offset(obj, "lock_mode", sizeof(uint32_t));
	struct bpf_map *map = rodata_map(obj);
	const void *init;
	size_t size = 0;
	char *data;
	int err;

	init = map ? bpf_map__initial_value(map, &size) : NULL;
	if (!init || known < 0 || mode < 0 || (size_t)known + sizeof(l->known_addr) > size ||
	    (size_t)mode + sizeof(uint32_t) > size)
		return -ENOENT;
	for (size_t i = 0; i < hm_known_lock_count && i < HM_MAX_KNOWN_LOCKS; i++)
		l->known_addr[i] = hm_kernel_data_symbol_addr(hm_known_locks[i].symbol);
	data = malloc(size);
	if (!data)
		return -ENOMEM;
	memcpy(data, init, size);
	memcpy(data + known, l->known_addr, sizeof(l->known_addr));
	memcpy(data + mode, &(uint32_t){ l->lock_mode }, sizeof(uint32_t));
	err = bpf_map__set_initial_value(map, data, size);
	free(data);
	return err;
}

/* Load one object for these hooks and attach them; the hooks record how it
 * went. Returns 0 when nothing was to load, <0 when the object failed. */
static int load_hooks(struct hm_loader *l, enum hm_bpf_obj_id id, struct hook **hooks, int n)
{
	struct loaded *lo;
	int err, enabled;

	if (l->nobjs == MAX_OBJECTS)
		return -E2BIG;
	lo = &l->objs[l->nobjs];
	*lo = (struct loaded){ 0 };
	if (!hm_bpf_skel_open(id, &lo->skel))
		return -errno;
	if (id == HM_OBJ_DRIVER)
		hm_bpf_driver_set_func(&lo->skel, hooks[0]->target.func, hooks[0]->target.module);
	if (id == HM_OBJ_LOCKS && configure_locks(l, lo->skel.obj)) {
		hm_bpf_skel_destroy(&lo->skel);
		return -ENOENT;
	}
	enabled = enable_programs(lo->skel.obj, hooks, n);
	err = enabled < 0 ? enabled : 0;
	if (!err && !enabled)
		goto out;
	if (!err && l->fds[MAP_EVENTS] >= 0)
		err = share_maps(l, lo->skel.obj);
	else if (!err && l->ringbuf_bytes &&
		 bpf_map__set_max_entries(bpf_object__find_map_by_name(lo->skel.obj,
								       shared_map_names[MAP_EVENTS]),
					  l->ringbuf_bytes))
		err = -EINVAL;
	if (!err && bpf_object__load(lo->skel.obj))
		err = -errno;
	if (err) {
		for (int i = 0; i < n; i++)
			if (hooks[i]->plan.mode != HM_MODE_MISSING)
				set_missing(hooks[i], "BPF load failed", -err);
		goto out;
	}
	if (l->fds[MAP_EVENTS] < 0)
		own_maps(l, lo->skel.obj);
	for (int i = 0; i < n; i++) {
		int aerr;

		if (hooks[i]->plan.mode == HM_MODE_MISSING)
			continue;
		aerr = attach_hook(lo, hooks[i]);
		if (aerr)
			set_missing(hooks[i], "attach failed", -aerr);
	}
	l->nobjs++;
	return enabled;
out:
	hm_bpf_skel_destroy(&lo->skel);
	return err;
}

static bool add_hook(struct hm_loader *l, const struct hm_target *t)
{
	if (l->nhooks == MAX_HOOKS)
		return false;
	l->hooks[l->nhooks++] = (struct hook){ .target = *t };
	return true;
}

/* Plan, load and attach every unsettled hook of one object; hooks of modules
 * not loaded yet stay unsettled for the next check. Driver callbacks get
 * an object each (one program pair per function). */
static int settle(struct hm_loader *l, enum hm_bpf_obj_id id)
{
	struct hook *batch[MAX_HOOKS];
	int n = 0, err = 0;
	bool waiting = false;

	for (int i = 0; i < l->nhooks; i++) {
		struct hook *h = &l->hooks[i];

		if (h->target.obj != id || h->settled)
			continue;
		hm_plan_target(l->kernel, &h->target, l->pref, &h->plan);
		waiting |= h->plan.later;
		batch[n++] = h;
	}
	/* VFIO structures come from both modules' BTF: load once both are in. */
	if (!n || (id == HM_OBJ_VFIO && waiting))
		goto record;
	if (id == HM_OBJ_DRIVER) {
		for (int i = 0; i < n; i++)
			if (!batch[i]->plan.later)
				err = load_hooks(l, id, &batch[i], 1) < 0 ? -1 : err;
	} else {
		err = load_hooks(l, id, batch, n);
	}
record:
	for (int i = 0; i < n; i++) {
		struct hook *h = batch[i];
		bool later = h->plan.later || (id == HM_OBJ_VFIO && waiting);

		h->settled = !later;
		record_status(l, h);
		if (h->waited && h->settled)
			fprintf(stderr, "hisimig-trace: late attach: %s: %s\n", h->target.func,
				h->plan.mode == HM_MODE_MISSING ? h->plan.reason
								: hm_attach_mode_name(h->plan.mode));
		h->waited |= later;
	}
	return err < 0 ? err : 0;
}

/* An acquisition hook (not only unlock/trylock) attached: else nothing to analyse.
 * Returns NULL when there is one, else why mutex_lock is missing. */
static const char *no_lock_hook(const struct hm_loader *l)
{
	const char *why = "no mutex_lock hook";

	for (int i = 0; i < l->nhooks; i++) {
		const struct hook *h = &l->hooks[i];

		if (h->target.obj != HM_OBJ_LOCKS || strncmp(h->target.func, "mutex_lock", 10))
			continue;
		if (h->plan.mode != HM_MODE_MISSING)
			return NULL;
		if (!strcmp(h->target.func, "mutex_lock"))
			why = h->plan.reason;
	}
	return why;
}

static void late_attach(struct hm_loader *l)
{
	if (!hm_kernel_refresh(l->kernel))
		return;
	settle(l, HM_OBJ_VFIO);
	settle(l, HM_OBJ_DRIVER);
	hm_kernel_reload_symbols(l->kernel);
}

/* ---- records ---- */

static bool is_bpf_frame(const char *sym)
{
	size_t n = strlen(sym);

	return n > 6 && !strcmp(sym + n - 6, " [bpf]");
}

static void add_stack(struct hm_loader *l, int32_t id)
{
	struct hm_stacks *st = hm_session_stacks(l->session);
	const struct hm_ksyms *ks = hm_kernel_ksyms(l->kernel);
	uint64_t ips[HM_MAX_STACK_DEPTH] = { 0 };
	unsigned int depth = 0;
	char sym[256];

	unsigned int skip = 0;

	if (bpf_map_lookup_elem(l->fds[MAP_STACKS], &id, ips))
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

/* The name a replay will show for a non-device lock: the known global's
 * symbol, "mmap_lock", a learned lock's (<driver>:state_mutex, the VFIO core's
 * field), or none (the analyzers then say "mutex@0x..."). */
static const char *lock_class_name(const struct hm_loader *l, const struct hm_lock_event *e,
				   char *buf, size_t len)
{
	static const char *const learned_names[] = {
		[HM_LEARNED_VFIO_DEV_SET] = "vfio_device_set.lock",
		[HM_LEARNED_VFIO_GROUP] = "vfio_group.group_lock",
		[HM_LEARNED_VFIO_GROUP_DEVS] = "vfio_group.device_lock",
		[HM_LEARNED_VFIO_MEMORY] = "vfio_pci_core_device.memory_lock",
		[HM_LEARNED_VFIO_VMA] = "vfio_pci_core_device.vma_lock",
		[HM_LEARNED_MIG_FILE] = NULL, /* <driver>:migf.lock */
	};
	struct hm_learned owner;

	if (e->origin == HM_LOCK_ORIGIN_MMAP)
		return "mmap_lock";
	if (e->origin == HM_LOCK_ORIGIN_LEARNED) {
		/* forgotten already (its device unbound), or a kind newer than us */
		if (bpf_map_lookup_elem(l->fds[MAP_LEARNED], &e->lock_addr, &owner) ||
		    owner.kind >= sizeof(learned_names) / sizeof(learned_names[0]))
			return "vfio learned lock";
		if (owner.kind != HM_LEARNED_STATE_MUTEX && owner.kind != HM_LEARNED_MIG_FILE)
			return learned_names[owner.kind];
		snprintf(buf, len, "%.*s:%s", HM_DRIVER_LEN,
			 owner.dev.driver[0] ? owner.dev.driver : "migration",
			 owner.kind == HM_LEARNED_MIG_FILE ? "migf.lock" : "state_mutex");
		return buf;
	}
	for (size_t i = 0; i < hm_known_lock_count && i < HM_MAX_KNOWN_LOCKS; i++)
		if (l->known_addr[i] && l->known_addr[i] == e->lock_addr)
			return hm_known_locks[i].symbol;
	return NULL;
}

/* Before the first event of a named lock: its LOCK_CLASS record. */
static void name_lock(struct hm_loader *l, const struct hm_lock_event *e)
{
	struct hm_lock_class_event rec = { 0 };
	char buf[sizeof(rec.name)];
	const char *name;

	if (e->lock_type == HM_LOCK_DEVICE_MUTEX || u64map_get(&l->named, e->lock_addr))
		return;
	u64map_put(&l->named, e->lock_addr, l);
	name = lock_class_name(l, e, buf, sizeof(buf));
	if (!name)
		return;
	rec.hdr = (struct hm_event_header){ .type = HM_EV_LOCK_CLASS, .size = sizeof(rec),
					    .cpu = e->hdr.cpu, .ts_ns = e->hdr.ts_ns,
					    .pid = getpid(), .tid = getpid(), .stack_id = -1 };
	snprintf(rec.hdr.comm, sizeof(rec.hdr.comm), "hisimig-trace");
	rec.lock_addr = e->lock_addr;
	rec.origin = e->origin;
	snprintf(rec.name, sizeof(rec.name), "%s", name);
	hm_session_event(l->session, &rec, sizeof(rec));
}

/* Forget the learned locks `bdf` owns (NULL: the released ones): delete
 * them from the map, and from the named set so a new lock at that address
 * is named afresh. A VF's driver left (unbind) or the VF went away: the
 * memory of its state mutex may become anything. A released migration
 * file's mutex: the records before its release are read and named by now. */
static void forget_learned(struct hm_loader *l, const struct hm_bdf *bdf)
{
	uint64_t addr, next, gone[HM_MAX_LEARNED_LOCKS];
	struct hm_learned owner;
	int n = 0;

	if (bdf && !bdf->valid)
		return;
	for (int more = !bpf_map_get_next_key(l->fds[MAP_LEARNED], NULL, &next); more;) {
		addr = next;
		more = !bpf_map_get_next_key(l->fds[MAP_LEARNED], &addr, &next);
		if (n < HM_MAX_LEARNED_LOCKS && !bpf_map_lookup_elem(l->fds[MAP_LEARNED], &addr, &owner) &&
		    (bdf ? !memcmp(&owner.dev.bdf, bdf, sizeof(*bdf)) : owner.released))
			gone[n++] = addr;
	}
	for (int i = 0; i < n; i++) {
		bpf_map_delete_elem(l->fds[MAP_LEARNED], &gone[i]);
		u64map_del(&l->named, gone[i]);
	}
}

/* A work function's name for the replay: "hmtest_vf_pf_work" out of
 * "hmtest_vf_pf_work+0x0/0x40 [hmtest_vf]". */
static void name_work_func(const struct hm_loader *l, struct hm_work_event *e)
{
	const struct hm_ksyms *ks = hm_kernel_ksyms(l->kernel);
	char sym[256];

	if (!e->func || e->func_name[0] || !ks || !hm_ksyms_format(ks, e->func, sym, sizeof(sym)))
		return;
	sym[strcspn(sym, "+ ")] = '\0';
	snprintf(e->func_name, sizeof(e->func_name), "%.*s", (int)sizeof(e->func_name) - 1, sym);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct hm_loader *l = ctx;
	struct hm_event_header hdr;

	if (!hm_event_valid(data, len)) {
		l->malformed++;
		return 0;
	}
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.stack_id >= 0 && !hm_stacks_get(hm_session_stacks(l->session), hdr.stack_id))
		add_stack(l, hdr.stack_id);
	if (hdr.type >= HM_EV_LOCK_WAIT && hdr.type <= HM_EV_LOCK_RELEASED)
		name_lock(l, data);
	if (len == sizeof(struct hm_work_event) && hdr.type >= HM_EV_WORK_RUN_BEGIN &&
	    hdr.type <= HM_EV_COMPLETE) {
		struct hm_work_event work;

		memcpy(&work, data, sizeof(work));
		name_work_func(l, &work);
		hm_session_event(l->session, &work, sizeof(work));
	} else {
		hm_session_event(l->session, data, len);
	}
	if (hdr.type == HM_EV_UNBIND_END)
		forget_learned(l, &((const struct hm_bind_event *)data)->dev.bdf);
	else if (hdr.type == HM_EV_VF_REMOVED)
		forget_learned(l, &((const struct hm_vf_event *)data)->vf.bdf);
	return 0;
}

static void record_loss(struct hm_loader *l, uint32_t lost_cpu, uint64_t lost)
{
	struct hm_lost_event ev = { 0 };

	ev.hdr = (struct hm_event_header){ .type = HM_EV_LOST, .size = sizeof(ev),
					   .cpu = lost_cpu == HM_LOST_SKIPPED_RUNS ? 0 : lost_cpu,
					   .ts_ns = hm_mono_ns(), .pid = getpid(), .tid = getpid(),
					   .stack_id = -1 };
	snprintf(ev.hdr.comm, sizeof(ev.hdr.comm), "hisimig-trace");
	ev.lost = lost;
	ev.lost_cpu = lost_cpu;
	/* the trailer counts records the ring buffer refused; a skipped run
	 * may have written nothing */
	if (lost_cpu != HM_LOST_SKIPPED_RUNS)
		l->lost_total += lost;
	hm_session_event(l->session, &ev, sizeof(ev));
}

/* Runs of our programs the kernel skipped: a program still running on that
 * CPU (preempted, on a preemptible kernel) makes the next one skip. With
 * `who`, also which programs: "prog count, prog count". */
static uint64_t skipped_runs(const struct hm_loader *l, char *who, size_t wholen)
{
	struct bpf_program *prog;
	uint64_t sum = 0;
	size_t used = 0;

	for (int i = 0; i < l->nobjs; i++)
		bpf_object__for_each_program(prog, l->objs[i].skel.obj) {
			struct bpf_prog_info info = { 0 };
			__u32 len = sizeof(info);
			int fd = bpf_program__fd(prog);

			if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
			    !info.recursion_misses)
				continue;
			sum += info.recursion_misses;
			if (who && used < wholen)
				used += (size_t)snprintf(who + used, wholen - used, "%s%s %llu",
							 used ? ", " : "", bpf_program__name(prog),
							 (unsigned long long)info.recursion_misses);
		}
	return sum;
}

bool hm_loader_skipped_by(const struct hm_loader *l, char *who, size_t wholen)
{
	who[0] = '\0';
	return skipped_runs(l, who, wholen) > 0;
}

/* Per-CPU reserve failures (and, when asked, skipped runs) since the last
 * report become LOST records. */
static void report_loss(struct hm_loader *l, bool with_skipped)
{
	uint64_t now[l->ncpus], skipped;
	uint32_t zero = 0;

	if (!bpf_map_lookup_elem(l->fds[MAP_LOST], &zero, now))
		for (int cpu = 0; cpu < l->ncpus; cpu++)
			if (now[cpu] > l->lost_seen[cpu]) {
				record_loss(l, cpu, now[cpu] - l->lost_seen[cpu]);
				l->lost_seen[cpu] = now[cpu];
			}
	skipped = with_skipped ? skipped_runs(l, NULL, 0) : 0;
	if (skipped > l->skipped_seen) {
		record_loss(l, HM_LOST_SKIPPED_RUNS, skipped - l->skipped_seen);
		l->skipped_seen = skipped;
	}
}

int hm_loader_poll(struct hm_loader *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms);

	bool periodic = hm_mono_ns() >= l->next_late_check;

	if (n == -EINTR)
		n = 0;
	/* skipped runs cost a syscall per program: every 2 s, and at the
	 * final drain (timeout 0) */
	report_loss(l, periodic || timeout_ms == 0);
	if (periodic) {
		/* after the drain above: the records of a released lock are named */
		forget_learned(l, NULL);
		late_attach(l);
		l->next_late_check = hm_mono_ns() + LATE_CHECK_NS;
	}
	hm_session_flush(l->session);
	return n < 0 ? n : 0;
}

/* ---- life cycle ---- */

static void phase(const struct hm_loader *l, const char *what, uint64_t t0)
{
	if (l->verbose)
		fprintf(stderr, "hisimig-trace: %8.1f ms: %s\n", (hm_mono_ns() - t0) / 1e6, what);
}

struct hm_loader *hm_loader_start(const struct hm_loader_opts *o, struct hm_session *s,
				  char *err, size_t errlen)
{
	struct hm_loader *l = calloc(1, sizeof(*l));
	uint64_t t0 = hm_mono_ns();
	char ms[32];
	bool hooks_fit = true;
	int lerr;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	libbpf_set_print(o->verbose ? libbpf_to_stderr : NULL);
	*l = (struct hm_loader){ .session = s, .pref = o->pref, .verbose = o->verbose,
				 .lock_mode = o->lock_mode, .ringbuf_bytes = o->ringbuf_bytes };
	/* full mode's bursts (an exec: hundreds of mutex and rwsem records in
	 * a millisecond) outrun the reader of the objects' 8 MiB */
	if (!l->ringbuf_bytes && l->lock_mode == HM_LOCKS_FULL)
		l->ringbuf_bytes = HM_FULL_RINGBUF_BYTES;
	for (size_t i = 0; i < SHARED_MAPS; i++)
		l->fds[i] = -1;
	u64map_init(&l->named);
	l->kernel = hm_kernel_open();
	phase(l, "BTF and kallsyms read", t0);
	l->ncpus = libbpf_num_possible_cpus();
	l->lost_seen = l->ncpus > 0 ? calloc(l->ncpus, sizeof(*l->lost_seen)) : NULL;
	if (!l->kernel || !l->lost_seen) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!hm_kernel_has_vmlinux_btf(l->kernel)) {
		snprintf(err, errlen, "cannot read %s: unsupported kernel (" HM_HOST_GUIDE ")",
			 HM_VMLINUX_BTF);
		goto fail;
	}
	for (size_t i = 0; i < hm_target_count; i++)
		hooks_fit = hooks_fit && add_hook(l, &hm_targets[i]);
	for (size_t i = 0; i < hm_driver_target_count; i++)
		hooks_fit = hooks_fit && add_hook(l, &hm_driver_targets[i]);
	for (size_t i = 0; i < o->n_set_state_funcs; i++) {
		struct hm_target t = hm_driver_set_state_target(o->set_state_funcs[i]);

		hooks_fit = hooks_fit && add_hook(l, &t);
	}
	if (!hooks_fit) { /* a build with more targets than room: never drop one silently */
		snprintf(err, errlen, "too many hooks: more than %d attach points", MAX_HOOKS);
		goto fail;
	}
	hm_session_meta(s, "locks.mode", hm_lock_mode_name(o->lock_mode));
	hm_session_meta(s, "attach.preference",
			o->pref == HM_PREF_KPROBE ? "kprobe" : o->pref == HM_PREF_FENTRY ? "fentry" : "auto");
	lerr = settle(l, HM_OBJ_LOCKS);
	if (lerr == -EPERM) {
		/* privileged, yet refused: lockdown without securityfs to say so */
		snprintf(err, errlen, HM_LOADER_EPERM_MSG);
		goto fail;
	}
	/* pci_bus_type comes from kallsyms, or (no CONFIG_KALLSYMS_ALL, as in
	 * Debian's arm64 kernels) the BPF side finds the bus by its name. */
	if (!hm_kernel_has_data_symbol("pci_bus_type") &&
	    !hm_kernel_btf_has_func(l->kernel, "pci_device_probe", NULL)) {
		snprintf(err, errlen, "unsupported kernel: no PCI bus (needs CONFIG_PCI; " HM_HOST_GUIDE ")");
		goto fail;
	}
	if (lerr || no_lock_hook(l) || l->fds[MAP_EVENTS] < 0) {
		snprintf(err, errlen, "unsupported kernel: no device-mutex hook could attach (%s; "
			 HM_HOST_GUIDE ")",
			 no_lock_hook(l) ? no_lock_hook(l) : strerror(-lerr));
		goto fail;
	}
	phase(l, "locks loaded and attached", t0);
	settle(l, HM_OBJ_PCI);
	phase(l, "pci loaded and attached", t0);
	settle(l, HM_OBJ_VFIO);
	settle(l, HM_OBJ_DRIVER);
	phase(l, "vfio and driver hooks done", t0);
	hm_kernel_reload_symbols(l->kernel);
	l->rb = ring_buffer__new(l->fds[MAP_EVENTS], on_record, l, NULL);
	if (!l->rb) {
		snprintf(err, errlen, "failed to create the ring buffer: %s", strerror(errno));
		goto fail;
	}
	l->next_late_check = hm_mono_ns() + LATE_CHECK_NS;
	snprintf(ms, sizeof(ms), "%.1f", (hm_mono_ns() - t0) / 1e6);
	hm_session_meta(s, "load.ms", ms);
	return l;
fail:
	hm_loader_free(l);
	return NULL;
}

void hm_loader_summary(const struct hm_loader *l, char *buf, size_t len)
{
	int count[3] = { 0 }, later = 0;

	for (int i = 0; i < l->nhooks; i++) {
		count[l->hooks[i].plan.mode]++;
		later += l->hooks[i].plan.later;
	}
	snprintf(buf, len, "%d fentry, %d kprobe, %d missing (%d waiting for their module)",
		 count[HM_MODE_FENTRY], count[HM_MODE_KPROBE], count[HM_MODE_MISSING], later);
}

uint64_t hm_loader_lost(const struct hm_loader *l)
{
	return l->lost_total;
}

void hm_loader_free(struct hm_loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	/* detach everything before freeing the objects that own the shared maps */
	for (int i = l->nobjs - 1; i >= 0; i--)
		for (int j = 0; j < l->objs[i].nlinks; j++)
			bpf_link__destroy(l->objs[i].links[j]);
	for (int i = l->nobjs - 1; i >= 0; i--)
		hm_bpf_skel_destroy(&l->objs[i].skel);
	hm_kernel_free(l->kernel);
	u64map_free(&l->named);
	free(l->lost_seen);
	free(l);
}
