// SPDX-License-Identifier: GPL-2.0
#include "attacher.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OBJECTS 32 /* locks, pci, vfio + one per variant-driver function present */
#define MAX_LINKS 48 /* locks: 19 functions, entry + exit each */

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

struct hm_attacher {
	struct hm_attacher_opts opts;
	struct hm_kernel *kernel;
	struct hm_session *session;
	struct hook hooks[HM_ATTACHER_MAX_HOOKS];
	int nhooks;
	struct loaded objs[MAX_OBJECTS];
	int nobjs;
	int fds[HM_SHARED_MAPS];      /* maps owned by objs[0] (locks), -1 before */
};

struct hm_attacher *hm_attacher_new(const struct hm_attacher_opts *o, struct hm_kernel *k,
				    struct hm_session *s)
{
	struct hm_attacher *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->opts = *o;
	a->kernel = k;
	a->session = s;
	for (size_t i = 0; i < HM_SHARED_MAPS; i++)
		a->fds[i] = -1;
	return a;
}

void hm_attacher_free(struct hm_attacher *a)
{
	if (!a)
		return;
	/* detach everything before freeing the objects that own the shared maps */
	for (int i = a->nobjs - 1; i >= 0; i--)
		for (int j = 0; j < a->objs[i].nlinks; j++)
			bpf_link__destroy(a->objs[i].links[j]);
	for (int i = a->nobjs - 1; i >= 0; i--)
		hm_bpf_skel_destroy(&a->objs[i].skel);
	free(a);
}

bool hm_attacher_add(struct hm_attacher *a, const struct hm_target *t)
{
	if (a->nhooks == HM_ATTACHER_MAX_HOOKS)
		return false;
	a->hooks[a->nhooks++] = (struct hook){ .target = *t };
	return true;
}

static void record_status(struct hm_attacher *a, const struct hook *h)
{
	char key[96], val[128];

	snprintf(key, sizeof(key), "attach.%s", h->target.func);
	hm_plan_describe(&h->plan, val, sizeof(val));
	hm_session_meta(a->session, key, val);
}

static void set_missing(struct hook *h, const char *what, int error)
{
	h->plan.mode = HM_MODE_MISSING;
	h->plan.later = false;
	snprintf(h->plan.reason, sizeof(h->plan.reason), "%s: %s", what, strerror(error));
}

/* Turn on the programs of the hooks' chosen mode, aimed at their functions. */
static int enable_programs(const struct hm_bpf_skel *skel, struct hook **hooks, int n)
{
	struct bpf_program *prog, *progs[2];
	int enabled = 0;

	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	for (int i = 0; i < n; i++) {
		if (!hm_bpf_hook_progs(skel, hooks[i]->target.progs, hooks[i]->plan.mode, progs))
			continue;
		for (int side = 0; side < 2; side++) {
			if (!progs[side])
				continue;
			bpf_program__set_autoload(progs[side], true);
			if (hooks[i]->plan.mode == HM_MODE_FENTRY &&
			    bpf_program__set_attach_target(progs[side], 0, hooks[i]->target.func))
				return -errno;
			enabled++;
		}
	}
	return enabled;
}

static int attach_hook(struct loaded *lo, struct hook *h)
{
	struct bpf_program *progs[2];

	if (!hm_bpf_hook_progs(&lo->skel, h->target.progs, h->plan.mode, progs))
		return 0;
	for (int side = 0; side < 2; side++) {
		struct bpf_link *link;

		if (!progs[side])
			continue;
		link = h->plan.mode == HM_MODE_FENTRY
			       ? bpf_program__attach(progs[side])
			       : bpf_program__attach_kprobe(progs[side], side == 1, h->target.func);
		if (!link || lo->nlinks == MAX_LINKS)
			return link ? -E2BIG : -errno;
		lo->links[lo->nlinks++] = link;
	}
	return 0;
}

/* Before load: the first object sizes the ring buffer, the others reuse
 * its maps. */
static int prepare_maps(struct hm_attacher *a, const struct hm_bpf_skel *skel)
{
	struct bpf_map *maps[HM_SHARED_MAPS];

	hm_bpf_shared_maps(skel, maps);
	if (a->fds[HM_MAP_EVENTS] < 0)
		return a->opts.ringbuf_bytes &&
		       bpf_map__set_max_entries(maps[HM_MAP_EVENTS], a->opts.ringbuf_bytes) ? -EINVAL : 0;
	for (size_t i = 0; i < HM_SHARED_MAPS; i++)
		if (bpf_map__reuse_fd(maps[i], a->fds[i]))
			return -errno;
	return 0;
}

static void own_maps(struct hm_attacher *a, const struct hm_bpf_skel *skel)
{
	struct bpf_map *maps[HM_SHARED_MAPS];

	hm_bpf_shared_maps(skel, maps);
	for (size_t i = 0; i < HM_SHARED_MAPS; i++)
		a->fds[i] = bpf_map__fd(maps[i]);
}

/* Before load: what the object's read-only configuration says. */
static void configure(const struct hm_attacher *a, struct hm_bpf_skel *skel, const struct hook *first)
{
	if (skel->id == HM_OBJ_LOCKS)
		hm_bpf_locks_configure(skel, a->opts.known_locks, a->opts.lock_mode);
	else if (skel->id == HM_OBJ_DRIVER)
		hm_bpf_driver_set_func(skel, first->target.func, first->target.module);
}

/* Load one object for these hooks and attach them; the hooks record how it
 * went. Returns 0 when nothing was to load, <0 when the object failed. */
static int load_hooks(struct hm_attacher *a, enum hm_bpf_obj_id id, struct hook **hooks, int n)
{
	struct loaded *lo;
	int err, enabled;

	if (a->nobjs == MAX_OBJECTS)
		return -E2BIG;
	lo = &a->objs[a->nobjs];
	*lo = (struct loaded){ 0 };
	if (!hm_bpf_skel_open(id, &lo->skel))
		return -errno;
	configure(a, &lo->skel, hooks[0]);
	enabled = enable_programs(&lo->skel, hooks, n);
	err = enabled < 0 ? enabled : 0;
	if (!err && !enabled)
		goto out;
	if (!err)
		err = prepare_maps(a, &lo->skel);
	if (!err && bpf_object__load(lo->skel.obj))
		err = -errno;
	if (err) {
		for (int i = 0; i < n; i++)
			if (hooks[i]->plan.mode != HM_MODE_MISSING)
				set_missing(hooks[i], "BPF load failed", -err);
		goto out;
	}
	if (a->fds[HM_MAP_EVENTS] < 0)
		own_maps(a, &lo->skel);
	for (int i = 0; i < n; i++) {
		int aerr;

		if (hooks[i]->plan.mode == HM_MODE_MISSING)
			continue;
		aerr = attach_hook(lo, hooks[i]);
		if (aerr)
			set_missing(hooks[i], "attach failed", -aerr);
	}
	a->nobjs++;
	return enabled;
out:
	hm_bpf_skel_destroy(&lo->skel);
	return err;
}

/* Hooks of modules not loaded yet stay unsettled for the next check. Driver
 * callbacks get an object each (one program pair per function). */
int hm_attacher_settle(struct hm_attacher *a, enum hm_bpf_obj_id id)
{
	struct hook *batch[HM_ATTACHER_MAX_HOOKS];
	int n = 0, err = 0;
	bool waiting = false;

	for (int i = 0; i < a->nhooks; i++) {
		struct hook *h = &a->hooks[i];

		if (h->target.obj != id || h->settled)
			continue;
		hm_plan_target(a->kernel, &h->target, a->opts.pref, &h->plan);
		waiting |= h->plan.later;
		batch[n++] = h;
	}
	/* VFIO structures come from both modules' BTF: load once both are in. */
	if (!n || (id == HM_OBJ_VFIO && waiting))
		goto record;
	if (id == HM_OBJ_DRIVER) {
		for (int i = 0; i < n; i++)
			if (!batch[i]->plan.later)
				err = load_hooks(a, id, &batch[i], 1) < 0 ? -1 : err;
	} else {
		err = load_hooks(a, id, batch, n);
	}
record:
	for (int i = 0; i < n; i++) {
		struct hook *h = batch[i];
		bool later = h->plan.later || (id == HM_OBJ_VFIO && waiting);

		h->settled = !later;
		record_status(a, h);
		if (h->waited && h->settled)
			fprintf(stderr, "hisimig-trace: late attach: %s: %s\n", h->target.func,
				h->plan.mode == HM_MODE_MISSING ? h->plan.reason
								: hm_attach_mode_name(h->plan.mode));
		h->waited |= later;
	}
	return err < 0 ? err : 0;
}

void hm_attacher_late(struct hm_attacher *a)
{
	if (!hm_kernel_refresh(a->kernel))
		return;
	hm_attacher_settle(a, HM_OBJ_VFIO);
	hm_attacher_settle(a, HM_OBJ_DRIVER);
	hm_kernel_reload_symbols(a->kernel);
}

/* An acquisition hook (not only unlock/trylock) attached: else nothing to analyse. */
const char *hm_attacher_no_lock_hook(const struct hm_attacher *a)
{
	const char *why = "no mutex_lock hook";

	for (int i = 0; i < a->nhooks; i++) {
		const struct hook *h = &a->hooks[i];

		if (h->target.obj != HM_OBJ_LOCKS || strncmp(h->target.func, "mutex_lock", 10))
			continue;
		if (h->plan.mode != HM_MODE_MISSING)
			return NULL;
		if (!strcmp(h->target.func, "mutex_lock"))
			why = h->plan.reason;
	}
	return why;
}

int hm_attacher_map_fd(const struct hm_attacher *a, enum hm_shared_map m)
{
	return a->fds[m];
}

/* A program still running on a CPU (preempted, on a preemptible kernel)
 * makes the kernel skip its next run there. */
uint64_t hm_attacher_skipped_runs(const struct hm_attacher *a, char *who, size_t wholen)
{
	struct bpf_program *prog;
	uint64_t sum = 0;
	size_t used = 0;

	for (int i = 0; i < a->nobjs; i++)
		bpf_object__for_each_program(prog, a->objs[i].skel.obj) {
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

void hm_attacher_summary(const struct hm_attacher *a, char *buf, size_t len)
{
	int count[3] = { 0 }, later = 0;

	for (int i = 0; i < a->nhooks; i++) {
		count[a->hooks[i].plan.mode]++;
		later += a->hooks[i].plan.later;
	}
	snprintf(buf, len, "%d fentry, %d kprobe, %d missing (%d waiting for their module)",
		 count[HM_MODE_FENTRY], count[HM_MODE_KPROBE], count[HM_MODE_MISSING], later);
}
