// SPDX-License-Identifier: GPL-2.0
/*
 * Lock order: lockdep's dependency graph for the locks lockdep does not
 * validate (device mutexes). Every blocking acquisition made while other
 * locks are held adds "held -> new" edges between lock classes; an edge that
 * closes a cycle is reported with the stack that created each edge. The
 * PCI rule "PF lock first, VF lock second" is checked on the spot.
 *
 * Classes: device mutexes by (role, driver), named locks by their LOCK_CLASS
 * name (a global is one class; every mmap_lock is one class), others by
 * address (an edge between two such anonymous locks is not added: see
 * add_dependency). rwsems: read and write sides are one lock; a reader waits behind
 * a queued writer (rwsems are fair, not recursive for readers), so read
 * acquisitions add edges like writes do, as lockdep does for non-recursive
 * readers; a cycle whose every acquisition is a read needs writers that were
 * never seen and is not reported.
 *
 * The kernel/user boundary: vfio_unregister_group_dev() waits until the
 * device's user closes it, so a VFIO user process "holds" the pseudo-lock
 * vfio_user(<VF class>) from open to close (every thread of it: whichever
 * thread would close the device), and the unregistering task "acquires" it
 * under the PF/VF locks it holds. A user thread that takes lock L while the
 * device is open adds vfio_user -> L; an unregister under L adds L ->
 * vfio_user: the cycle is found from orders seen at different times, before
 * the release wait ever meets a blocked user.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "analyzers/known_order_check.h"
#include "analyzers/lock_graph.h"
#include "analyzers/lock_track.h"
#include "event.h"
#include "finding.h"

#define LO_MAX_CLASS_EDGES 16384
#define LO_MAX_INSTANCE_EDGES 16384
#define LO_MAX_CHAINS 65536     /* held-lock chains remembered as validated */
#define LO_MAX_CYCLE (LG_MAX_PATH + 1)
#define LO_MAX_USER_DEVICES 8   /* VFIO devices one process holds open, tracked */

/* A process with VFIO devices open: it holds their vfio_user pseudo-locks. */
struct vfio_user {
	unsigned int n;
	struct {
		struct hm_device dev;
		struct hm_event_header opened;  /* the first open: the pseudo-lock's "acquisition" */
		unsigned int opens;
	} held[LO_MAX_USER_DEVICES];
};

struct lock_order {
	struct lt_tracker locks;
	/* class hash -> class hash; a class is named by lt_class_name() */
	struct lock_graph classes;
	/* lock address -> lock address, for nesting within one class only: a
	 * cycle through two or more classes is already a class-level cycle */
	struct lock_graph instances;
	struct u64map reported;         /* fingerprints emitted, to skip rebuilding them */
	/* lockdep's chain cache: a held-locks + new-lock combination already
	 * checked adds nothing new, so steady state costs one hash lookup */
	struct u64map chains;
	struct u64map users;            /* tgid + 1 -> struct vfio_user * */
	const struct hm_known_orders *known_orders;
};

/* Names a node of a graph from an acquisition of it. */
typedef char *(*node_namer)(const struct lt_tracker *t, const struct hm_lock_event *ev,
			    char buf[LT_NAME_LEN]);

static void *lo_create(const struct hm_config *cfg)
{
	struct lock_order *lo = calloc(1, sizeof(*lo));

	if (!lo)
		return NULL;
	lo->known_orders = cfg->known_orders;
	lt_init(&lo->locks);
	lg_init(&lo->classes, LO_MAX_CLASS_EDGES);
	lg_init(&lo->instances, LO_MAX_INSTANCE_EDGES);
	u64map_init(&lo->reported);
	u64map_init(&lo->chains);
	u64map_init(&lo->users);
	return lo;
}

static void lo_destroy(void *self)
{
	struct lock_order *lo = self;

	lt_free(&lo->locks);
	lg_free(&lo->classes);
	lg_free(&lo->instances);
	u64map_free(&lo->reported);
	u64map_free(&lo->chains);
	u64map_free_all(&lo->users);
	free(lo);
}

static void lo_finish(void *self, uint64_t end_ts, const struct hm_emitter *out)
{
	(void)self;
	(void)end_ts;
	(void)out; /* everything is reported when it is seen */
}

/* True the first time a fingerprint is seen: the engine de-duplicates too,
 * but this keeps a hot violation from rebuilding its report every time. */
static bool first_report(struct lock_order *lo, uint64_t fingerprint)
{
	uint64_t key = lt_map_key(fingerprint);

	if (u64map_get(&lo->reported, key))
		return false;
	u64map_put(&lo->reported, key, lo);
	return true;
}

/* "0000:01:00.1" for a device mutex, the lock's name otherwise. */
static const char *instance_label(const struct lt_tracker *t, const struct hm_lock_event *ev,
				  char buf[LT_NAME_LEN])
{
	if (ev->lock_type == HM_LOCK_DEVICE_MUTEX && ev->dev.bdf.valid)
		return hm_bdf_format(&ev->dev.bdf, buf);
	return lt_lock_name(t, ev, buf);
}

/* ---- VF lock held while taking its PF's lock ---------------------------- */

static void detail_pf_order_seen(struct lock_order *lo, struct hm_finding *f,
				 const struct hm_lock_event *vf, const struct hm_lock_event *pf)
{
	const struct lg_edge *e = lg_find(&lo->classes, lt_class_key(&lo->locks, pf),
					  lt_class_key(&lo->locks, vf));
	char task[LT_NAME_LEN], first[LT_NAME_LEN], second[LT_NAME_LEN], where[LT_WHERE_LEN];

	if (!e)
		return;
	hm_finding_detail(f, "The PCI core order was also seen: task %s took %s then %s [at %s].",
			  lt_task_name(&e->next.hdr, task), lt_lock_name(&lo->locks, &e->held, first),
			  lt_lock_name(&lo->locks, &e->next, second), lt_where(&e->next.hdr, where));
}

/* Like lockdep, judge a blocking acquisition when it is attempted: in a real
 * deadlock the acquisition never completes, only the wait is seen. */
static bool is_blocking_attempt(enum lt_action action)
{
	return action == LT_WAIT || action == LT_TAKEN;
}

static void report_vf_pf(struct lock_order *lo, const struct hm_lock_event *vf,
			 const struct hm_lock_event *pf, enum lt_action action,
			 const struct hm_emitter *out)
{
	enum hm_finding_kind kind = is_blocking_attempt(action) ? HM_FIND_VF_PF_ORDER
								: HM_FIND_VF_PF_TRYLOCK;
	const char *verb = is_blocking_attempt(action) ? "takes"
			   : action == LT_TRY_TAKEN ? "trylocks (and gets)"
						    : "trylocks (busy)";
	bool own_pf = hm_bdf_equal(&vf->dev.pf_bdf, &pf->dev.bdf);
	char vf_class[LT_NAME_LEN], pf_class[LT_NAME_LEN], task[LT_NAME_LEN];
	char vf_lock[LT_NAME_LEN], pf_lock[LT_NAME_LEN], bdf[HM_BDF_STR_LEN];
	char where_vf[LT_WHERE_LEN], where_pf[LT_WHERE_LEN], own_bdf[HM_BDF_STR_LEN];
	struct hm_finding f;

	hm_finding_init(&f, kind, pf->hdr.ts_ns);
	f.fingerprint = hm_hash_str(f.fingerprint, lt_class_name(&lo->locks, vf, vf_class));
	f.fingerprint = hm_hash_str(f.fingerprint, lt_class_name(&lo->locks, pf, pf_class));
	if (!first_report(lo, f.fingerprint))
		return;
	lt_task_name(&pf->hdr, task);
	lt_lock_name(&lo->locks, vf, vf_lock);
	lt_lock_name(&lo->locks, pf, pf_lock);
	hm_finding_summary(&f, "task %s %s %s while holding %s (%s)", task, verb, pf_lock, vf_lock,
			   own_pf ? "its own PF" : "not its PF");
	hm_finding_add_device(&f, &vf->dev);
	hm_finding_add_device(&f, &pf->dev);
	hm_finding_add_evidence(&f, &vf->hdr, "%s taken (VF lock held from here)", vf_lock);
	hm_finding_add_evidence(&f, &pf->hdr, "%s %s under the VF lock", pf_lock,
				is_blocking_attempt(action) ? "taken" : "trylocked");
	hm_finding_detail(&f, "task %s holds %s [taken at %s]", task, vf_lock, lt_where(&vf->hdr, where_vf));
	hm_finding_detail(&f, "and %s %s [at %s].", verb, pf_lock, lt_where(&pf->hdr, where_pf));
	if (own_pf)
		hm_finding_detail(&f, "%s is this VF's own PF: SR-IOV disable holds its lock while "
				  "taking the VF's lock, so this path and SR-IOV disable wait "
				  "for each other.", hm_bdf_format(&pf->dev.bdf, bdf));
	else
		hm_finding_detail(&f, "%s is not this VF's PF (that is %s), but the order still "
				  "inverts PF-before-VF for these lock classes.",
				  hm_bdf_format(&pf->dev.bdf, bdf),
				  hm_bdf_format(&vf->dev.pf_bdf, own_bdf));
	detail_pf_order_seen(lo, &f, vf, pf);
	hm_emit(out, &f);
	hm_finding_release(&f);
}

/* ---- cycles ------------------------------------------------------------- */

struct cycle {
	const struct lt_tracker *locks;           /* names the locks */
	const struct lg_edge *edge[LO_MAX_CYCLE]; /* edge[i]: node i -> node i+1 */
	char name[LO_MAX_CYCLE][LT_NAME_LEN];     /* node i, named from edge[i]->held */
	size_t n;
};

/* The same cycle is found from any of its edges: hash it from its smallest
 * name so every rotation gets one fingerprint. */
static uint64_t cycle_fingerprint(const struct cycle *c, uint64_t h)
{
	size_t first = 0;

	for (size_t i = 1; i < c->n; i++)
		if (strcmp(c->name[i], c->name[first]) < 0)
			first = i;
	for (size_t i = 0; i < c->n; i++)
		h = hm_hash_str(h, c->name[(first + i) % c->n]);
	return h;
}

/* "pf:nvme --> vf:vfio-pci --> pf:nvme" */
static void format_chain(const struct cycle *c, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i <= c->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " --> " : "",
					 c->name[i % c->n]);
}

static void put_cell(char *line, size_t len, unsigned int cpu, const char *text)
{
	/* lockdep's columns: CPU0 locks at 2, CPU1 at 31, headers 24 apart */
	size_t col = cpu ? 7 + 24 * (size_t)cpu : 2;

	snprintf(line, len, "%*s%s", (int)col, "", text);
}

static void put_header(struct hm_finding *f, unsigned int ncpus, bool underline)
{
	char line[LO_MAX_CYCLE * 24 + 16];
	size_t used = 0;

	for (unsigned int cpu = 0; cpu < ncpus; cpu++) {
		size_t col = 7 + 24 * (size_t)cpu;

		if (underline)
			snprintf(line + used, sizeof(line) - used, "%*s----", (int)(col - used), "");
		else
			snprintf(line + used, sizeof(line) - used, "%*sCPU%u", (int)(col - used), "",
				 cpu);
		used = strlen(line);
	}
	hm_finding_detail(f, "%s", line);
}

static void put_lock_row(struct hm_finding *f, unsigned int cpu, const char *name)
{
	char text[LT_NAME_LEN + 8], line[LO_MAX_CYCLE * 24 + LT_NAME_LEN + 16];

	snprintf(text, sizeof(text), "lock(%s);", name);
	put_cell(line, sizeof(line), cpu, text);
	hm_finding_detail(f, "%s", line);
}

/* One CPU per edge. CPU0 is the task closing the cycle: it holds the last
 * node and wants node 0; CPU k holds node k-1 and wants node k. Everyone
 * takes its first lock, then all ask for their second: for two locks this
 * prints exactly lockdep's table. */
static void detail_scenario(struct hm_finding *f, const struct cycle *c)
{
	unsigned int n = (unsigned int)c->n;

	hm_finding_detail(f, " Possible unsafe locking scenario:");
	hm_finding_detail(f, "%s", "");
	put_header(f, n, false);
	put_header(f, n, true);
	for (unsigned int cpu = 0; cpu < n; cpu++)
		put_lock_row(f, cpu, c->name[(cpu + n - 1) % n]);
	for (unsigned int cpu = n; cpu-- > 0;)
		put_lock_row(f, cpu, c->name[cpu]);
	hm_finding_detail(f, "%s", "");
	hm_finding_detail(f, " *** DEADLOCK ***");
}

static void add_cycle_edge_evidence(struct hm_finding *f, const struct cycle *c, size_t i)
{
	const struct lg_edge *e = c->edge[i];
	char first[LT_NAME_LEN], second[LT_NAME_LEN], task[LT_NAME_LEN];
	char held_lock[LT_NAME_LEN], next_lock[LT_NAME_LEN];
	char where_held[LT_WHERE_LEN], where_next[LT_WHERE_LEN];

	instance_label(c->locks, &e->held, first);
	instance_label(c->locks, &e->next, second);
	hm_finding_add_evidence(f, &e->next.hdr, "#%zu %s -> %s: task '%.*s'/%u %s then %s", i + 1,
				c->name[i], c->name[(i + 1) % c->n], HM_COMM_LEN, e->next.hdr.comm,
				e->next.hdr.tid, first, second);
	hm_finding_detail(f, "-> #%zu %s --> %s: task %s took %s [at %s] then %s [at %s]", i + 1, c->name[i],
			  c->name[(i + 1) % c->n], lt_task_name(&e->next.hdr, task),
			  lt_lock_name(c->locks, &e->held, held_lock), lt_where(&e->held.hdr, where_held),
			  lt_lock_name(c->locks, &e->next, next_lock), lt_where(&e->next.hdr, where_next));
	lt_add_lock_device(f, &e->held);
	lt_add_lock_device(f, &e->next);
}

static void report_cycle(struct lock_order *lo, const struct cycle *c, const struct hm_emitter *out)
{
	const struct lg_edge *closing = c->edge[c->n - 1];
	char chain[LO_MAX_CYCLE * (LT_NAME_LEN + 5)], task[LT_NAME_LEN];
	char held_lock[LT_NAME_LEN], next_lock[LT_NAME_LEN];
	struct hm_finding f;

	hm_finding_init(&f, HM_FIND_LOCK_CYCLE, closing->next.hdr.ts_ns);
	f.fingerprint = cycle_fingerprint(c, f.fingerprint);
	if (!first_report(lo, f.fingerprint))
		return;
	format_chain(c, chain, sizeof(chain));
	lt_task_name(&closing->next.hdr, task);
	lt_lock_name(&lo->locks, &closing->held, held_lock);
	lt_lock_name(&lo->locks, &closing->next, next_lock);
	hm_finding_summary(&f, "lock order cycle %s: task %s takes %s while holding %s", chain,
			   task, next_lock, held_lock);
	hm_finding_detail(&f, "task %s is trying to acquire %s", task, next_lock);
	hm_finding_detail(&f, "but already holds %s,", held_lock);
	hm_finding_detail(&f, "which already depends on the new lock.");
	hm_finding_detail(&f, "%s", "");
	hm_finding_detail(&f, "the dependency chain, each edge as first seen:");
	for (size_t i = 0; i < c->n; i++)
		add_cycle_edge_evidence(&f, c, i);
	hm_finding_detail(&f, "%s", "");
	hm_finding_detail(&f, "Chain exists of:");
	hm_finding_detail(&f, "  %s", chain);
	hm_finding_detail(&f, "%s", "");
	detail_scenario(&f, c);
	hm_emit(out, &f);
	hm_finding_release(&f);
}

static bool is_read(const struct hm_lock_event *ev)
{
	return ev->lock_type == HM_LOCK_RWSEM_READ;
}

/* Readers alone never exclude each other: see the top of the file. */
static bool all_reads(const struct cycle *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (!is_read(&c->edge[i]->held) || !is_read(&c->edge[i]->next))
			return false;
	return true;
}

/* A new edge held -> next closes a cycle if next already reaches held.
 * Returns true when it does (reported now or before). */
static bool check_cycle(struct lock_order *lo, struct lock_graph *g, const struct lg_edge *added,
			node_namer name, const struct hm_emitter *out)
{
	struct cycle c;

	c.n = lg_find_path(g, added->to, added->from, c.edge, LO_MAX_CYCLE - 1);
	if (!c.n)
		return false;
	c.edge[c.n++] = added;
	if (all_reads(&c))
		return false;
	c.locks = &lo->locks;
	for (size_t i = 0; i < c.n; i++)
		name(&lo->locks, &c.edge[i]->held, c.name[i]);
	report_cycle(lo, &c, out);
	return true;
}

/* Returns true when the new dependency closes a cycle. */
static bool add_dependency(struct lock_order *lo, const struct lt_hold *held,
			   const struct hm_lock_event *next, uint64_t next_class,
			   const struct hm_emitter *out)
{
	const struct lg_edge *added;

	/* Full mode's untracked locks matter next to a tracked one; between
	 * themselves (the mm's anon_vma and i_mmap rwsems...) they are
	 * lockdep's domain, and an address class may be a freed and reused
	 * object: no edge, so no cycle made of them alone. */
	if (lt_is_anonymous(&lo->locks, &held->acq) && lt_is_anonymous(&lo->locks, next))
		return false;
	if (held->class_key != next_class) {
		added = lg_add(&lo->classes, held->class_key, next_class, &held->acq, next);
		if (added)
			hm_check_known_order(&lo->locks, lo->known_orders, &held->acq, next, out);
		return added && check_cycle(lo, &lo->classes, added, lt_class_name, out);
	}
	/* same class (e.g. two VFs of one driver): legal nesting unless two
	 * instances are taken in both orders */
	added = lg_add(&lo->instances, held->acq.lock_addr, next->lock_addr, &held->acq, next);
	return added && check_cycle(lo, &lo->instances, added, lt_lock_name, out);
}

static void check_against_held(struct lock_order *lo, const struct lt_task *task,
			       const struct hm_lock_event *next, uint64_t next_class,
			       enum lt_action action, const struct hm_emitter *out)
{
	for (unsigned int i = 0; i < task->depth; i++) {
		const struct lt_hold *held = &task->held[i];

		if (held->acq.lock_addr == next->lock_addr)
			continue; /* stale hold, dropped by lt_apply() */
		if (lt_is_role(&held->acq, HM_ROLE_VF) && lt_is_role(next, HM_ROLE_PF))
			report_vf_pf(lo, &held->acq, next, action, out);
		/* lockdep: a trylock can be taken in any order, it adds no edge */
		if (is_blocking_attempt(action))
			add_dependency(lo, held, next, next_class, out);
	}
}

/* Everything this acquisition can add depends on the held classes, the new
 * class, whether it blocks, and (for same-class nesting) the instances. */
static uint64_t chain_key(const struct lt_task *task, const struct hm_lock_event *next,
			  uint64_t next_class, enum lt_action action)
{
	bool blocking = is_blocking_attempt(action), same_class = false;
	uint64_t h = hm_hash_bytes(HM_HASH_INIT, &blocking, sizeof(blocking));

	for (unsigned int i = 0; i < task->depth; i++) {
		const struct lt_hold *held = &task->held[i];

		h = hm_hash_bytes(h, &held->class_key, sizeof(held->class_key));
		if (held->class_key == next_class) {
			h = hm_hash_bytes(h, &held->acq.lock_addr, sizeof(held->acq.lock_addr));
			same_class = true;
		}
	}
	h = hm_hash_bytes(h, &next_class, sizeof(next_class));
	if (same_class)
		h = hm_hash_bytes(h, &next->lock_addr, sizeof(next->lock_addr));
	return lt_map_key(h);
}

static bool chain_is_new(struct lock_order *lo, uint64_t key)
{
	if (u64map_get(&lo->chains, key))
		return false;
	if (lo->chains.count < LO_MAX_CHAINS)
		u64map_put(&lo->chains, key, lo);
	return true;
}

/* ---- the VFIO user pseudo-lock ---------------------------------------- */

static uint64_t user_key(uint32_t tgid)
{
	return (uint64_t)tgid + 1;
}

/* The pseudo-lock of dev's release: its own address space (dev_addr | 1 is
 * never a mutex, which is 8-byte aligned), the VF as its device. */
static struct hm_lock_event vfio_user_lock(const struct hm_device *dev,
					   const struct hm_event_header *hdr)
{
	struct hm_lock_event ev = { .hdr = *hdr, .lock_type = HM_LOCK_VFIO_USER, .dev = *dev };

	ev.hdr.type = HM_EV_LOCK_ACQUIRED;
	ev.hdr.size = sizeof(ev);
	ev.lock_addr = dev->dev_addr | 1;
	return ev;
}

static int user_device_index(const struct vfio_user *u, const struct hm_device *dev)
{
	for (unsigned int i = 0; i < u->n; i++)
		if (u->held[i].dev.dev_addr == dev->dev_addr)
			return (int)i;
	return -1;
}

static void on_vfio_open(struct lock_order *lo, const struct hm_vfio_event *e)
{
	struct vfio_user *u = u64map_get(&lo->users, user_key(e->hdr.pid));
	int i;

	if (e->ret)
		return;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u || !u64map_put(&lo->users, user_key(e->hdr.pid), u)) {
			free(u);
			return;
		}
	}
	i = user_device_index(u, &e->dev);
	if (i < 0) {
		if (u->n == LO_MAX_USER_DEVICES)
			return;
		i = (int)u->n++;
		u->held[i].dev = e->dev;
		u->held[i].opened = e->hdr;
		u->held[i].opens = 0;
	}
	u->held[i].opens++;
}

/* The close may come from any task (a kworker's fput): match the device. */
static void on_vfio_close(struct lock_order *lo, const struct hm_vfio_event *e)
{
	size_t it = 0;
	uint64_t key;
	void *val;

	while (u64map_next(&lo->users, &it, &key, &val)) {
		struct vfio_user *u = val;
		int i = user_device_index(u, &e->dev);

		if (i < 0 || --u->held[i].opens)
			continue;
		u->held[i] = u->held[--u->n];
		if (!u->n) {
			u64map_del(&lo->users, key);
			free(u);
		}
		return;
	}
}

/* A thread of a VFIO user blocks on `next` while its process holds devices. */
static void user_acquires(struct lock_order *lo, const struct hm_lock_event *next,
			  uint64_t next_class, const struct hm_emitter *out)
{
	const struct vfio_user *u = u64map_get(&lo->users, user_key(next->hdr.pid));

	for (unsigned int i = 0; u && i < u->n; i++) {
		struct lt_hold pseudo = { .acq = vfio_user_lock(&u->held[i].dev,
								&u->held[i].opened) };

		pseudo.class_key = lt_class_key(&lo->locks, &pseudo.acq);
		add_dependency(lo, &pseudo, next, next_class, out);
	}
}

/* vfio_unregister_group_dev() starts waiting for the user, under its locks. */
static void unregister_waits(struct lock_order *lo, const struct hm_vfio_event *e,
			     const struct hm_emitter *out)
{
	const struct lt_task *task = lt_task_find(&lo->locks, e->hdr.tid);
	struct hm_lock_event wait = vfio_user_lock(&e->dev, &e->hdr);
	uint64_t wait_class = lt_class_key(&lo->locks, &wait);

	/* the first cycle says it all: the PF and VF locks held both lead to
	 * the user, and a second report would repeat the first with one more hop */
	for (unsigned int i = 0; task && i < task->depth; i++)
		if (add_dependency(lo, &task->held[i], &wait, wait_class, out))
			break;
}

static void on_lock_attempt(struct lock_order *lo, const struct hm_lock_event *next,
			    enum lt_action action, const struct hm_emitter *out)
{
	const struct lt_task *task = lt_task_find(&lo->locks, next->hdr.tid);
	uint64_t next_class = lt_class_key(&lo->locks, next);

	if (task && task->depth &&
	    chain_is_new(lo, chain_key(task, next, next_class, action)))
		check_against_held(lo, task, next, next_class, action, out);
	if (is_blocking_attempt(action) && lo->users.count)
		user_acquires(lo, next, next_class, out);
}

static void lo_feed(void *self, const union hm_event *ev, const struct hm_emitter *out)
{
	struct lock_order *lo = self;
	enum lt_action action = lt_classify(ev);

	switch (action) {
	case LT_WAIT:
	case LT_TAKEN:
	case LT_TRY_TAKEN:
	case LT_TRY_BUSY:
		on_lock_attempt(lo, &ev->lock, action, out);
		break;
	default:
		break;
	}
	switch (ev->hdr.type) {
	case HM_EV_VFIO_OPEN:
		on_vfio_open(lo, &ev->vfio);
		break;
	case HM_EV_VFIO_CLOSE:
		on_vfio_close(lo, &ev->vfio);
		break;
	case HM_EV_VFIO_UNREGISTER_BEGIN:
		unregister_waits(lo, &ev->vfio, out);
		break;
	default:
		break;
	}
	lt_apply(&lo->locks, ev);
}

const struct hm_analyzer_ops hm_lock_order_analyzer = {
	.name = "lock_order",
	.create = lo_create,
	.feed = lo_feed,
	.finish = lo_finish,
	.destroy = lo_destroy,
};
