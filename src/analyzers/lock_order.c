// SPDX-License-Identifier: GPL-2.0
/*
 * Lock order: lockdep's dependency graph for the locks lockdep does not
 * validate (device mutexes). Every blocking acquisition made while other
 * locks are held adds "held -> new" edges between lock classes; an edge that
 * closes a cycle is reported with the stack that created each edge. The
 * PCI rule "PF lock first, VF lock second" is checked on the spot.
 *
 * Classes: device mutexes by SR-IOV role (pf, vf, other; the driver is only
 * a label: it is NULL while __device_attach() holds a VF's lock for probe and
 * set when SR-IOV disable takes it, and both are one lock), named locks by
 * their LOCK_CLASS name (a global is one class; every mmap_lock is one
 * class), others by address (an edge between two such anonymous locks is not
 * added: see add_dependency).
 *
 * rwsems: read and write sides are one lock, and each edge keeps how both
 * ends were taken (lockdep's dependency types). down_read() is not recursive
 * for ordering: a reader queues behind a waiting writer, so every
 * acquisition adds edges, as lockdep does for non-recursive readers (its
 * "strong dependency path" only skips recursive-read junctions, which
 * rwsems never have). Every cycle is an error. The edge types are chosen so
 * that at as many locks of it as seen the task that wants the lock and the
 * task that holds it conflict (one of them writes): then its tasks deadlock
 * alone. A cycle with a lock only ever read on both sides deadlocks once a
 * writer queues on that rwsem between the two reads (for mmap_lock, any
 * mmap() of the process): the finding says which rwsem. A task that reads an rwsem it
 * holds for read (recursive down_read) is the one-lock case of the same:
 * reported as a cycle of one lock.
 *
 * Cycles: the shortest one an acquisition's new edges close is reported, with
 * the longer ones they close listed in it; a longer cycle found later that
 * runs through every lock of a reported one and shares an edge with it is
 * an info pointing at it, not a second error.
 *
 * Instances: same-class nesting is checked between instances (device mutexes
 * by struct device, other locks by address); a removed VF's instance and its
 * VFIO-user pseudo-lock, and a lock whose address is named anew, are
 * forgotten: the address may come back as another device or lock.
 *
 * The kernel/user boundary: vfio_unregister_group_dev() waits until the
 * device's user closes it, so a VFIO user process "holds" the pseudo-lock
 * vfio_user(<VF>) from open to close (every thread of it: whichever
 * thread would close the device), and the unregistering task "acquires" it
 * under the PF/VF locks it holds. A user thread that takes lock L while the
 * device is open adds vfio_user -> L; an unregister under L adds L ->
 * vfio_user (one pseudo-lock per device): the cycle is found from orders seen at different times, before
 * the release wait ever meets a blocked user.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "model.h"
#include "analyzers/known_order_check.h"
#include "analyzers/lock_graph.h"
#include "analyzers/lock_track.h"
#include "event.h"
#include "finding.h"

#define LO_MAX_CLASS_EDGES 16384
#define LO_MAX_INSTANCE_EDGES 16384
#define LO_MAX_CHAINS 65536     /* held-lock chains remembered as validated */
#define USER_CHAIN_SEED 0x75736572ULL /* "user": a VFIO user's chain, not a task's */
#define LO_MAX_REPORTED 65536   /* fingerprints remembered as reported */
#define LO_MAX_CYCLE (LG_MAX_PATH + 1)
#define LO_MAX_USER_DEVICES 8   /* VFIO devices one process holds open, tracked */
#define LO_MAX_LONGER 4         /* longer cycles listed in a cycle finding */
#define LO_MAX_CYCLES_KEPT 256  /* reported cycles remembered to recognise longer ones */

/* A reported cycle: its nodes (graph keys) in order. */
struct reported_cycle {
	const struct lock_graph *g;
	size_t n;
	uint64_t node[LO_MAX_CYCLE];
	char chain[LO_MAX_CYCLE * (LT_NAME_LEN + 5)];
};

/* A process with VFIO devices open: it holds their vfio_user pseudo-locks. */
struct vfio_user {
	unsigned int n;
	struct {
		struct hm_device dev;
		struct hm_event_header opened;  /* the first open: the pseudo-lock's "acquisition" */
		unsigned int opens;
		uint64_t class_key;             /* of the pseudo-lock: one per device */
	} held[LO_MAX_USER_DEVICES];
};

struct lock_order {
	const struct lt_tracker *locks; /* the engine model's (model.h) */
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
	struct reported_cycle *cycles;  /* the first LO_MAX_CYCLES_KEPT reported */
	size_t ncycles;
	const struct hm_known_orders *known_orders;
	struct hm_known_order_memo known_order_memo; /* speed only */
};

/* Names a node of a graph from an acquisition of it. */
typedef char *(*node_namer)(const struct lt_tracker *t, const struct hm_lock_event *ev,
			    char buf[LT_NAME_LEN]);

static void *lo_create(const struct hm_config *cfg, const struct hm_model *model)
{
	struct lock_order *lo = calloc(1, sizeof(*lo));

	if (!lo)
		return NULL;
	lo->locks = &model->locks;
	lo->known_orders = cfg->known_orders;
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

	lg_free(&lo->classes);
	lg_free(&lo->instances);
	u64map_free(&lo->reported);
	u64map_free(&lo->chains);
	u64map_free_all(&lo->users);
	free(lo->cycles);
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
	if (lo->reported.count >= LO_MAX_REPORTED)
		u64map_free(&lo->reported); /* a speed-up only: the engine de-duplicates */
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
	const struct lg_edge *e = lg_find(&lo->classes, lt_class_key(lo->locks, pf),
					  lt_class_key(lo->locks, vf));
	const struct lg_pair *p = e ? lg_first(e) : NULL;
	char task[LT_NAME_LEN], first[LT_NAME_LEN], second[LT_NAME_LEN], where[LT_WHERE_LEN];

	if (!p)
		return;
	hm_finding_detail(f, "The PCI core order was also seen: task %s took %s then %s [at %s].",
			  lt_task_name(&p->next.hdr, task), lt_lock_name(lo->locks, &p->held, first),
			  lt_lock_name(lo->locks, &p->next, second), lt_where(&p->next.hdr, where));
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
	f.fingerprint = hm_hash_str(f.fingerprint, lt_class_name(lo->locks, vf, vf_class));
	f.fingerprint = hm_hash_str(f.fingerprint, lt_class_name(lo->locks, pf, pf_class));
	/* classes are roles: one report per PF, whatever the VF's bind state */
	f.fingerprint = hm_fp_device(f.fingerprint, &pf->dev);
	if (!first_report(lo, f.fingerprint))
		return;
	lt_task_name(&pf->hdr, task);
	lt_lock_name(lo->locks, vf, vf_lock);
	lt_lock_name(lo->locks, pf, pf_lock);
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
	const struct lock_graph *g;
	node_namer namer;
	const struct lg_edge *edge[LO_MAX_CYCLE]; /* edge[i]: node i -> node i+1 */
	const struct lg_pair *pair[LO_MAX_CYCLE]; /* the acquisitions chosen for edge[i] */
	char name[LO_MAX_CYCLE][LT_NAME_LEN];     /* node i, named from pair[i]->held */
	size_t n;
	size_t read_junction;                     /* a node only read on both sides, or n */
};

/* At node k the task of edge k-1 wants it and the task of edge k holds it:
 * they exclude each other unless both read. */
static bool junction_conflicts(enum lg_dep wanting, enum lg_dep holding)
{
	return !(lg_dep_next_read(wanting) && lg_dep_held_read(holding));
}

/* Pick one dependency type per edge so that as many junctions conflict as
 * possible (all of them: a deadlock of these tasks alone), by dynamic
 * programming around the cycle for each type of edge 0. */
static void choose_pairs(struct cycle *c)
{
	size_t best_cost = SIZE_MAX;
	enum lg_dep best[LO_MAX_CYCLE] = { 0 };

	for (unsigned int t0 = 0; t0 < LG_DEP_TYPES; t0++) {
		size_t cost[LO_MAX_CYCLE][LG_DEP_TYPES];
		uint8_t from[LO_MAX_CYCLE][LG_DEP_TYPES];
		enum lg_dep pick[LO_MAX_CYCLE];
		size_t total = SIZE_MAX;

		if (!c->edge[0]->dep[t0])
			continue;
		for (unsigned int t = 0; t < LG_DEP_TYPES; t++)
			cost[0][t] = t == t0 ? 0 : SIZE_MAX;
		for (size_t i = 1; i < c->n; i++)
			for (unsigned int t = 0; t < LG_DEP_TYPES; t++) {
				cost[i][t] = SIZE_MAX;
				for (unsigned int p = 0; c->edge[i]->dep[t] && p < LG_DEP_TYPES; p++) {
					size_t v = cost[i - 1][p];

					if (v == SIZE_MAX)
						continue;
					v += !junction_conflicts(p, t);
					if (v < cost[i][t]) {
						cost[i][t] = v;
						from[i][t] = (uint8_t)p;
					}
				}
			}
		for (unsigned int t = 0; t < LG_DEP_TYPES; t++) {
			size_t v = cost[c->n - 1][t];

			if (v == SIZE_MAX)
				continue;
			v += !junction_conflicts(t, t0);
			if (v < total) {
				total = v;
				pick[c->n - 1] = t;
			}
		}
		if (total >= best_cost)
			continue;
		for (size_t i = c->n - 1; i > 0; i--)
			pick[i - 1] = from[i][pick[i]];
		best_cost = total;
		memcpy(best, pick, sizeof(pick[0]) * c->n);
	}
	c->read_junction = c->n;
	for (size_t i = 0; i < c->n; i++) {
		c->pair[i] = c->edge[i]->dep[best[i]];
		if (c->read_junction == c->n &&
		    !junction_conflicts(best[(i + c->n - 1) % c->n], best[i]))
			c->read_junction = i;
	}
}

static bool needs_queued_writer(const struct cycle *c)
{
	return c->read_junction < c->n;
}

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

/* "device_lock(pf) --> device_lock(vf) --> device_lock(pf)" */
static void format_chain(const struct cycle *c, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i <= c->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " --> " : "",
					 c->name[i % c->n]);
}

static void name_nodes(struct cycle *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->namer(c->locks, &c->pair[i]->held, c->name[i]);
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

static const char *held_how(const struct hm_lock_event *ev)
{
	return ev->lock_type == HM_LOCK_RWSEM_READ ? " (read)"
	       : ev->lock_type == HM_LOCK_RWSEM_WRITE ? " (write)" : "";
}

static void add_cycle_edge_evidence(struct hm_finding *f, const struct cycle *c, size_t i)
{
	const struct lg_pair *e = c->pair[i];
	char first[LT_NAME_LEN], second[LT_NAME_LEN], task[LT_NAME_LEN];
	char held_lock[LT_NAME_LEN], next_lock[LT_NAME_LEN];
	char where_held[LT_WHERE_LEN], where_next[LT_WHERE_LEN];

	instance_label(c->locks, &e->held, first);
	instance_label(c->locks, &e->next, second);
	hm_finding_add_evidence(f, &e->next.hdr, "#%zu %s -> %s: task '%.*s'/%u %s then %s", i + 1,
				c->name[i], c->name[(i + 1) % c->n], HM_COMM_LEN, e->next.hdr.comm,
				e->next.hdr.tid, first, second);
	hm_finding_detail(f, "-> #%zu %s --> %s: task %s took %s%s [at %s] then %s%s [at %s]", i + 1,
			  c->name[i], c->name[(i + 1) % c->n], lt_task_name(&e->next.hdr, task),
			  lt_lock_name(c->locks, &e->held, held_lock), held_how(&e->held),
			  lt_where(&e->held.hdr, where_held),
			  lt_lock_name(c->locks, &e->next, next_lock), held_how(&e->next),
			  lt_where(&e->next.hdr, where_next));
	lt_add_lock_device(f, &e->held);
	lt_add_lock_device(f, &e->next);
}

/* The edges one acquisition added (one per lock held), with their graphs:
 * the cycles they close are reported together. */
struct new_edges {
	size_t n;
	const struct lg_edge *edge[LT_MAX_HELD + 1];
	struct lock_graph *g[LT_MAX_HELD + 1];
	node_namer namer[LT_MAX_HELD + 1];
};

/* The longer cycles the new edges close too, besides the shortest. */
struct longer_cycles {
	struct cycle *shortest;
	const struct lg_edge *closing;  /* the new edge whose paths are walked */
	struct hm_finding *f;
	size_t listed;
};

static bool is_shortest_path(const struct cycle *c, const struct lg_edge *closing,
			     const struct lg_edge *const *path, size_t len)
{
	if (len != c->n - 1 || closing != c->edge[c->n - 1])
		return false;
	for (size_t i = 0; i < len; i++)
		if (path[i] != c->edge[i])
			return false;
	return true;
}

static bool list_longer(const struct lg_edge *const *path, size_t len, void *ctx)
{
	struct longer_cycles *lc = ctx;
	const struct cycle *c = lc->shortest;
	struct cycle longer = { .locks = c->locks, .g = c->g, .namer = c->namer, .n = len + 1 };
	char chain[LO_MAX_CYCLE * (LT_NAME_LEN + 5)];

	if (is_shortest_path(c, lc->closing, path, len))
		return true;
	if (!lc->listed++) {
		hm_finding_detail(lc->f, "%s", "");
		hm_finding_detail(lc->f, "Longer cycles this acquisition closes too:");
	}
	memcpy(longer.edge, path, len * sizeof(path[0]));
	longer.edge[len] = lc->closing;
	choose_pairs(&longer);
	name_nodes(&longer);
	format_chain(&longer, chain, sizeof(chain));
	hm_finding_detail(lc->f, "  %s", chain);
	return lc->listed < LO_MAX_LONGER;
}

static void detail_reader_junction(struct hm_finding *f, const struct cycle *c)
{
	hm_finding_detail(f, "%s", "");
	hm_finding_detail(f, "Every task seen taking or holding %s in this cycle only read it. "
			  "down_read() is not recursive: a reader queues behind a waiting writer, "
			  "so the cycle deadlocks once any writer of %s queues between the two "
			  "reads (lockdep reports this order too).",
			  c->name[c->read_junction], c->name[c->read_junction]);
}

static void remember_cycle(struct lock_order *lo, const struct cycle *c)
{
	struct reported_cycle *r;

	if (!lo->cycles)
		lo->cycles = calloc(LO_MAX_CYCLES_KEPT, sizeof(*lo->cycles));
	if (!lo->cycles || lo->ncycles == LO_MAX_CYCLES_KEPT)
		return;
	r = &lo->cycles[lo->ncycles++];
	r->g = c->g;
	r->n = c->n;
	for (size_t i = 0; i < c->n; i++)
		r->node[i] = c->edge[i]->from;
	format_chain(c, r->chain, sizeof(r->chain));
}

static bool cycle_has_node(const struct cycle *c, uint64_t key)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->edge[i]->from == key)
			return true;
	return false;
}

static bool cycle_has_edge(const struct cycle *c, uint64_t from, uint64_t to)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->edge[i]->from == from && c->edge[i]->to == to)
			return true;
	return false;
}

/* A reported shorter cycle all of whose locks this one goes through, sharing
 * at least one of its dependencies. */
static const struct reported_cycle *contained_cycle(const struct lock_order *lo,
						    const struct cycle *c)
{
	for (size_t k = 0; k < lo->ncycles; k++) {
		const struct reported_cycle *r = &lo->cycles[k];
		bool nodes = r->g == c->g && r->n < c->n, shared = false;

		for (size_t i = 0; nodes && i < r->n; i++) {
			nodes = cycle_has_node(c, r->node[i]);
			shared = shared || cycle_has_edge(c, r->node[i], r->node[(i + 1) % r->n]);
		}
		if (nodes && shared)
			return r;
	}
	return NULL;
}

static void forget_cycles_through(struct lock_order *lo, const struct lock_graph *g, uint64_t key)
{
	for (size_t k = 0; k < lo->ncycles;) {
		bool through = false;

		for (size_t i = 0; lo->cycles[k].g == g && i < lo->cycles[k].n; i++)
			through = through || lo->cycles[k].node[i] == key;
		if (through)
			lo->cycles[k] = lo->cycles[--lo->ncycles];
		else
			k++;
	}
}

/* List in f the other cycles the acquisition's new edges of c's graph close. */
static void list_longer_cycles(struct hm_finding *f, struct cycle *c, const struct new_edges *ne)
{
	struct longer_cycles longer = { .shortest = c, .f = f };

	for (size_t j = 0; j < ne->n && longer.listed < LO_MAX_LONGER; j++) {
		if (ne->g[j] != c->g)
			continue;
		longer.closing = ne->edge[j];
		lg_each_path(ne->g[j], ne->edge[j]->to, ne->edge[j]->from, LO_MAX_CYCLE - 1,
			     list_longer, &longer);
	}
}

static void report_cycle(struct lock_order *lo, struct cycle *c, const struct new_edges *ne,
			 const struct hm_emitter *out)
{
	const struct lg_pair *closing = c->pair[c->n - 1];
	const struct reported_cycle *inner = contained_cycle(lo, c);
	char chain[LO_MAX_CYCLE * (LT_NAME_LEN + 5)], task[LT_NAME_LEN];
	char held_lock[LT_NAME_LEN], next_lock[LT_NAME_LEN];
	struct hm_finding f;

	hm_finding_init(&f, HM_FIND_LOCK_CYCLE, closing->next.hdr.ts_ns);
	f.fingerprint = cycle_fingerprint(c, f.fingerprint);
	if (!first_report(lo, f.fingerprint))
		return;
	if (inner)
		f.severity = HM_SEV_INFO;
	format_chain(c, chain, sizeof(chain));
	lt_task_name(&closing->next.hdr, task);
	lt_lock_name(lo->locks, &closing->held, held_lock);
	lt_lock_name(lo->locks, &closing->next, next_lock);
	if (inner)
		hm_finding_summary(&f, "longer lock order cycle %s through the reported cycle %s",
				   chain, inner->chain);
	else
		hm_finding_summary(&f, "lock order cycle %s: task %s takes %s while holding %s%s",
				   chain, task, next_lock, held_lock,
				   needs_queued_writer(c) ? " (deadlocks with a queued writer)" : "");
	hm_finding_detail(&f, "task %s is trying to acquire %s%s", task, next_lock,
			  held_how(&closing->next));
	hm_finding_detail(&f, "but already holds %s%s,", held_lock, held_how(&closing->held));
	hm_finding_detail(&f, "which already depends on the new lock.");
	hm_finding_detail(&f, "%s", "");
	hm_finding_detail(&f, "the dependency chain, each edge as first seen:");
	for (size_t i = 0; i < c->n; i++)
		add_cycle_edge_evidence(&f, c, i);
	hm_finding_detail(&f, "%s", "");
	hm_finding_detail(&f, "Chain exists of:");
	hm_finding_detail(&f, "  %s", chain);
	if (inner) {
		hm_finding_detail(&f, "%s", "");
		hm_finding_detail(&f, "It runs through every lock of the cycle %s reported before "
				  "and shares a dependency with it: fix that one first.", inner->chain);
	} else {
		list_longer_cycles(&f, c, ne);
	}
	if (needs_queued_writer(c))
		detail_reader_junction(&f, c);
	hm_finding_detail(&f, "%s", "");
	detail_scenario(&f, c);
	if (!inner)
		remember_cycle(lo, c);
	hm_emit(out, &f);
	hm_finding_release(&f);
}

/* The shortest cycle through a new edge held -> next (next already reaches
 * held), its length 0 if there is none. */
static size_t find_cycle(struct lock_order *lo, const struct new_edges *ne, size_t i,
			 struct cycle *c)
{
	*c = (struct cycle){ .locks = lo->locks, .g = ne->g[i], .namer = ne->namer[i] };
	c->n = lg_find_path(ne->g[i], ne->edge[i]->to, ne->edge[i]->from, c->edge,
			    LO_MAX_CYCLE - 1);
	if (!c->n)
		return 0;
	c->edge[c->n++] = ne->edge[i];
	choose_pairs(c);
	name_nodes(c);
	return c->n;
}

/* The cycles an acquisition's new edges close, shortest first: one that
 * runs through a cycle reported for this same acquisition is listed in it,
 * not reported again. Returns true when any cycle closed. */
static bool report_new_cycles(struct lock_order *lo, const struct new_edges *ne,
			      const struct hm_emitter *out)
{
	size_t len[LT_MAX_HELD + 1], first_new = lo->ncycles;
	bool done[LT_MAX_HELD + 1] = { false }, any = false;
	struct cycle c;

	for (size_t i = 0; i < ne->n; i++) {
		len[i] = find_cycle(lo, ne, i, &c);
		any = any || len[i];
	}
	for (;;) {
		const struct reported_cycle *inner;
		size_t best = ne->n;

		for (size_t i = 0; i < ne->n; i++)
			if (len[i] && !done[i] && (best == ne->n || len[i] < len[best]))
				best = i;
		if (best == ne->n)
			return any;
		done[best] = true;
		find_cycle(lo, ne, best, &c);
		inner = contained_cycle(lo, &c);
		if (inner && (size_t)(inner - lo->cycles) >= first_new)
			continue;
		report_cycle(lo, &c, ne, out);
	}
}

/* The node of a lock in the same-class instance graph: a device mutex is its
 * device (a removed VF is forgotten by its struct device), others their address. */
static uint64_t instance_key(const struct hm_lock_event *ev)
{
	return ev->lock_type == HM_LOCK_DEVICE_MUTEX && ev->dev.dev_addr ? ev->dev.dev_addr
									 : ev->lock_addr;
}

/* Add held -> next to the class graph, or to the instance graph for two
 * locks of one class (e.g. two VFs: legal nesting unless two instances are
 * taken in both orders). Records a new edge in ne. */
static void add_edge(struct lock_order *lo, const struct lt_hold *held,
		     const struct hm_lock_event *next, uint64_t next_class, struct new_edges *ne,
		     const struct hm_emitter *out)
{
	bool same = held->class_key == next_class;
	struct lock_graph *g = same ? &lo->instances : &lo->classes;
	const struct lg_edge *added;

	/* Full mode's untracked locks matter next to a tracked one; between
	 * themselves (the mm's anon_vma and i_mmap rwsems...) they are
	 * lockdep's domain, and an address class may be a freed and reused
	 * object: no edge, so no cycle made of them alone. */
	if (lt_is_anonymous(lo->locks, &held->acq) && lt_is_anonymous(lo->locks, next))
		return;
	added = same ? lg_add(g, instance_key(&held->acq), instance_key(next), &held->acq, next)
		     : lg_add(g, held->class_key, next_class, &held->acq, next);
	if (added && !same)
		hm_check_known_order(&lo->known_order_memo, lo->locks, lo->known_orders,
				     &held->acq, next, out);
	if (!added || ne->n == sizeof(ne->edge) / sizeof(ne->edge[0]))
		return;
	ne->edge[ne->n] = added;
	ne->g[ne->n] = g;
	ne->namer[ne->n++] = same ? lt_lock_name : lt_class_name;
}

/* One dependency alone; returns true when it closes a cycle. */
static bool add_dependency(struct lock_order *lo, const struct lt_hold *held,
			   const struct hm_lock_event *next, uint64_t next_class,
			   const struct hm_emitter *out)
{
	struct new_edges ne = { .n = 0 };

	add_edge(lo, held, next, next_class, &ne, out);
	return report_new_cycles(lo, &ne, out);
}

/* ---- recursive down_read ------------------------------------------------ */

static void report_recursive_read(struct lock_order *lo, const struct lt_hold *held,
				  const struct hm_lock_event *again, const struct hm_emitter *out)
{
	char lock[LT_NAME_LEN], cls[LT_NAME_LEN], task[LT_NAME_LEN];
	char where_held[LT_WHERE_LEN], where_again[LT_WHERE_LEN];
	char text[LT_NAME_LEN + 16], line[LT_NAME_LEN + 64];
	struct hm_finding f;

	hm_finding_init(&f, HM_FIND_LOCK_CYCLE, again->hdr.ts_ns);
	f.fingerprint = hm_hash_str(f.fingerprint, "recursive read");
	f.fingerprint = hm_hash_str(f.fingerprint, lt_class_name(lo->locks, again, cls));
	if (!first_report(lo, f.fingerprint))
		return;
	lt_task_name(&again->hdr, task);
	lt_lock_name(lo->locks, again, lock);
	hm_finding_summary(&f, "possible recursive locking: task %s takes %s for read while "
			   "holding it for read", task, lock);
	hm_finding_add_evidence(&f, &held->acq.hdr, "%s taken for read", lock);
	hm_finding_add_evidence(&f, &again->hdr, "%s read again by the same task", lock);
	hm_finding_detail(&f, "task %s is trying to acquire %s (read) [at %s]", task, lock,
			  lt_where(&again->hdr, where_again));
	hm_finding_detail(&f, "but already holds it (read) [taken at %s].",
			  lt_where(&held->acq.hdr, where_held));
	hm_finding_detail(&f, "%s", "");
	hm_finding_detail(&f, "down_read() is not recursive: when a writer queues on %s between "
			  "the two reads, the second down_read() waits behind the writer, and "
			  "the writer waits for the first read hold to end: a deadlock. Hold "
			  "it once (pass it down, or use a _nested/lockless path).", lock);
	hm_finding_detail(&f, "%s", "");
	hm_finding_detail(&f, " Possible unsafe locking scenario:");
	hm_finding_detail(&f, "%s", "");
	put_header(&f, 2, false);
	put_header(&f, 2, true);
	put_lock_row(&f, 0, cls);
	snprintf(text, sizeof(text), "lock(%s); (write)", cls);
	put_cell(line, sizeof(line), 1, text);
	hm_finding_detail(&f, "%s", line);
	put_lock_row(&f, 0, cls);
	hm_finding_detail(&f, "%s", "");
	hm_finding_detail(&f, " *** DEADLOCK ***");
	hm_emit(out, &f);
	hm_finding_release(&f);
}

static bool is_read(const struct hm_lock_event *ev)
{
	return ev->lock_type == HM_LOCK_RWSEM_READ;
}

static void check_against_held(struct lock_order *lo, const struct lt_task *task,
			       const struct hm_lock_event *next, uint64_t next_class,
			       enum lt_action action, const struct hm_emitter *out)
{
	struct new_edges ne = { .n = 0 };

	for (unsigned int i = 0; i < task->depth; i++) {
		const struct lt_hold *held = &task->held[i];

		if (held->acq.lock_addr == next->lock_addr) {
			/* a read hold read again stays held; anything else
			 * is a stale hold, dropped by lt_apply() */
			if (is_read(&held->acq) && is_read(next) && is_blocking_attempt(action) &&
			    lt_read_holds_trusted(lo->locks))
				report_recursive_read(lo, held, next, out);
			continue;
		}
		if (lt_is_role(&held->acq, HM_ROLE_VF) && lt_is_role(next, HM_ROLE_PF))
			report_vf_pf(lo, &held->acq, next, action, out);
		/* lockdep: a trylock can be taken in any order, it adds no edge */
		if (is_blocking_attempt(action))
			add_edge(lo, held, next, next_class, &ne, out);
	}
	report_new_cycles(lo, &ne, out);
}

/* Everything this acquisition can add depends on the held classes, the new
 * class, whether it blocks, and (for same-class nesting) the instances. */
static uint64_t chain_key(const struct lt_task *task, const struct hm_lock_event *next,
			  uint64_t next_class, enum lt_action action)
{
	bool same_class = false;
	uint64_t h = u64map_mix(HM_HASH_INIT, is_blocking_attempt(action));

	/* read or write matters: each edge keeps its dependency type */
	for (unsigned int i = 0; i < task->depth; i++) {
		const struct lt_hold *held = &task->held[i];

		h = u64map_mix(u64map_mix(h, held->class_key), held->acq.lock_type);
		if (held->class_key == next_class) {
			h = u64map_mix(h, instance_key(&held->acq));
			same_class = true;
		}
	}
	h = u64map_mix(u64map_mix(h, next_class), next->lock_type);
	if (same_class)
		h = u64map_mix(h, instance_key(next));
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
		struct hm_lock_event pseudo = vfio_user_lock(&e->dev, &e->hdr);

		if (u->n == LO_MAX_USER_DEVICES)
			return;
		i = (int)u->n++;
		u->held[i].dev = e->dev;
		u->held[i].opened = e->hdr;
		u->held[i].opens = 0;
		u->held[i].class_key = lt_class_key(lo->locks, &pseudo);
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

/* A thread of a VFIO user blocks on `next` while its process holds devices.
 * As for held locks, a chain of the user's devices and `next` is checked
 * once: the same chain again adds no edge. */
static void user_acquires(struct lock_order *lo, const struct hm_lock_event *next,
			  uint64_t next_class, const struct hm_emitter *out)
{
	const struct vfio_user *u = u64map_get(&lo->users, user_key(next->hdr.pid));
	uint64_t chain = USER_CHAIN_SEED;
	bool same_class = false;

	if (!u)
		return;
	for (unsigned int i = 0; i < u->n; i++) {
		chain = u64map_mix(chain, u->held[i].class_key);
		if (u->held[i].class_key == next_class) {
			chain = u64map_mix(chain, u->held[i].dev.dev_addr | 1);
			same_class = true;
		}
	}
	chain = u64map_mix(u64map_mix(chain, next_class), next->lock_type);
	if (same_class)
		chain = u64map_mix(chain, instance_key(next));
	if (!chain_is_new(lo, lt_map_key(chain)))
		return;
	for (unsigned int i = 0; i < u->n; i++) {
		struct lt_hold pseudo = { .acq = vfio_user_lock(&u->held[i].dev,
								&u->held[i].opened),
					  .class_key = u->held[i].class_key };

		add_dependency(lo, &pseudo, next, next_class, out);
	}
}

/* vfio_unregister_group_dev() starts waiting for the user, under its locks. */
static void unregister_waits(struct lock_order *lo, const struct hm_vfio_event *e,
			     const struct hm_emitter *out)
{
	const struct lt_task *task = lt_task_find(lo->locks, e->hdr.tid);
	struct hm_lock_event wait = vfio_user_lock(&e->dev, &e->hdr);
	uint64_t wait_class = lt_class_key(lo->locks, &wait);

	/* the first cycle says it all: the PF and VF locks held both lead to
	 * the user, and a second report would repeat the first with one more hop */
	for (unsigned int i = 0; task && i < task->depth; i++)
		if (add_dependency(lo, &task->held[i], &wait, wait_class, out))
			break;
}

/* ---- forgetting what went away ---------------------------------------- */

static void forget_node(struct lock_order *lo, struct lock_graph *g, uint64_t key)
{
	lg_remove_node(g, key);
	forget_cycles_through(lo, g, key);
	/* cached chains may stand for edges of the forgotten node */
	u64map_clear(&lo->chains);
}

/* A removed VF: its struct device (and so its mutex) may come back as another
 * VF, with the other's BDF; its VFIO-user pseudo-lock goes with it. */
static void forget_device(struct lock_order *lo, const struct hm_device *dev)
{
	struct hm_event_header none = { 0 };
	struct hm_lock_event user = vfio_user_lock(dev, &none);

	forget_node(lo, &lo->instances, dev->dev_addr);
	forget_node(lo, &lo->classes, lt_class_key(lo->locks, &user));
}

/* A LOCK_CLASS record for an address named before: the live side forgot the
 * old lock (its device unbound, its file released) and names a new one. */
static void on_lock_named(struct lock_order *lo, const struct hm_lock_class_event *e)
{
	struct hm_lock_event old = { .lock_addr = e->lock_addr, .lock_type = HM_LOCK_MUTEX };

	if (!lt_is_anonymous(lo->locks, &old))
		forget_node(lo, &lo->instances, e->lock_addr);
}

static void on_lock_attempt(struct lock_order *lo, const struct hm_lock_event *next,
			    enum lt_action action, const struct hm_emitter *out)
{
	const struct lt_task *task = lt_task_find(lo->locks, next->hdr.tid);
	uint64_t next_class = lt_class_key(lo->locks, next);

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
	case HM_EV_VF_REMOVED:
		forget_device(lo, &ev->vf.vf);
		break;
	case HM_EV_LOCK_CLASS:
		on_lock_named(lo, &ev->lock_class);
		break;
	default:
		break;
	}
}

static void lo_limits(const void *self, struct hm_limits *out)
{
	const struct lock_order *lo = self;

	hm_limits_raise(out, HM_LIMIT_GRAPH_EDGES,
			lo->classes.edge_overflow + lo->instances.edge_overflow);
	hm_limits_raise(out, HM_LIMIT_SEARCH_VISITS,
			lo->classes.search_truncated + lo->instances.search_truncated);
	hm_limits_raise(out, HM_LIMIT_SEARCH_PATHS, lo->classes.path_cut + lo->instances.path_cut);
}

const struct hm_analyzer_ops hm_lock_order_analyzer = {
	.name = "lock_order",
	.create = lo_create,
	.feed = lo_feed,
	.finish = lo_finish,
	.destroy = lo_destroy,
	.limits = lo_limits,
};
