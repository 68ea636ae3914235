// SPDX-License-Identifier: GPL-2.0
/*
 * Lock order: lockdep's dependency graph for the locks lockdep does not
 * validate (device mutexes). Every blocking acquisition made while other
 * locks are held adds "held -> new" edges between lock classes; an edge that
 * closes a cycle is reported with the stack that created each edge. The
 * PCI rule "PF lock first, VF lock second" is checked on the spot.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "analyzers/lock_graph.h"
#include "analyzers/lock_track.h"
#include "event.h"
#include "finding.h"

#define LO_MAX_CLASS_EDGES 16384
#define LO_MAX_INSTANCE_EDGES 16384
#define LO_MAX_CHAINS 65536     /* held-lock chains remembered as validated */
#define LO_MAX_CYCLE (LG_MAX_PATH + 1)

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
};

/* Names a node of a graph from an acquisition of it. */
typedef char *(*node_namer)(const struct hm_lock_event *ev, char buf[LT_NAME_LEN]);

static void *lo_create(const struct hm_config *cfg)
{
	struct lock_order *lo = calloc(1, sizeof(*lo));

	(void)cfg;
	if (!lo)
		return NULL;
	lt_init(&lo->locks);
	lg_init(&lo->classes, LO_MAX_CLASS_EDGES);
	lg_init(&lo->instances, LO_MAX_INSTANCE_EDGES);
	u64map_init(&lo->reported);
	u64map_init(&lo->chains);
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

/* "0000:01:00.1" for a device mutex, the address otherwise. */
static const char *instance_label(const struct hm_lock_event *ev, char buf[LT_NAME_LEN])
{
	const struct hm_device *dev = lt_lock_device(ev);

	if (dev && dev->bdf.valid)
		return hm_bdf_format(&dev->bdf, buf);
	snprintf(buf, LT_NAME_LEN, "%#" PRIx64, (uint64_t)ev->lock_addr);
	return buf;
}

/* ---- VF lock held while taking its PF's lock ---------------------------- */

static void detail_pf_order_seen(struct lock_order *lo, struct hm_finding *f,
				 const struct hm_lock_event *vf, const struct hm_lock_event *pf)
{
	const struct lg_edge *e = lg_find(&lo->classes, lt_class_key(pf), lt_class_key(vf));
	char task[LT_NAME_LEN], first[LT_NAME_LEN], second[LT_NAME_LEN], where[LT_WHERE_LEN];

	if (!e)
		return;
	hm_finding_detail(f, "The PCI core order was also seen: task %s took %s then %s [at %s].",
			  lt_task_name(&e->next.hdr, task), lt_lock_name(&e->held, first),
			  lt_lock_name(&e->next, second), lt_where(&e->next.hdr, where));
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
	f.fingerprint = hm_hash_str(f.fingerprint, lt_class_name(vf, vf_class));
	f.fingerprint = hm_hash_str(f.fingerprint, lt_class_name(pf, pf_class));
	if (!first_report(lo, f.fingerprint))
		return;
	lt_task_name(&pf->hdr, task);
	lt_lock_name(vf, vf_lock);
	lt_lock_name(pf, pf_lock);
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

	instance_label(&e->held, first);
	instance_label(&e->next, second);
	hm_finding_add_evidence(f, &e->next.hdr, "#%zu %s -> %s: task '%.*s'/%u %s then %s", i + 1,
				c->name[i], c->name[(i + 1) % c->n], HM_COMM_LEN, e->next.hdr.comm,
				e->next.hdr.tid, first, second);
	hm_finding_detail(f, "-> #%zu %s --> %s: task %s took %s [at %s] then %s [at %s]", i + 1, c->name[i],
			  c->name[(i + 1) % c->n], lt_task_name(&e->next.hdr, task),
			  lt_lock_name(&e->held, held_lock), lt_where(&e->held.hdr, where_held),
			  lt_lock_name(&e->next, next_lock), lt_where(&e->next.hdr, where_next));
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
	lt_lock_name(&closing->held, held_lock);
	lt_lock_name(&closing->next, next_lock);
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

/* A new edge held -> next closes a cycle if next already reaches held. */
static void check_cycle(struct lock_order *lo, struct lock_graph *g, const struct lg_edge *added,
			node_namer name, const struct hm_emitter *out)
{
	struct cycle c;

	c.n = lg_find_path(g, added->to, added->from, c.edge, LO_MAX_CYCLE - 1);
	if (!c.n)
		return;
	c.edge[c.n++] = added;
	for (size_t i = 0; i < c.n; i++)
		name(&c.edge[i]->held, c.name[i]);
	report_cycle(lo, &c, out);
}

static void add_dependency(struct lock_order *lo, const struct lt_hold *held,
			   const struct hm_lock_event *next, uint64_t next_class,
			   const struct hm_emitter *out)
{
	const struct lg_edge *added;

	if (held->class_key != next_class) {
		added = lg_add(&lo->classes, held->class_key, next_class, &held->acq, next);
		if (added)
			check_cycle(lo, &lo->classes, added, lt_class_name, out);
		return;
	}
	/* same class (e.g. two VFs of one driver): legal nesting unless two
	 * instances are taken in both orders */
	added = lg_add(&lo->instances, held->acq.lock_addr, next->lock_addr, &held->acq, next);
	if (added)
		check_cycle(lo, &lo->instances, added, lt_lock_name, out);
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

static void lo_feed(void *self, const union hm_event *ev, const struct hm_emitter *out)
{
	struct lock_order *lo = self;
	enum lt_action action = lt_classify(ev);

	if (action == LT_WAIT || action == LT_TAKEN || action == LT_TRY_TAKEN ||
	    action == LT_TRY_BUSY) {
		const struct lt_task *task = lt_task_find(&lo->locks, ev->hdr.tid);
		uint64_t next_class;

		if (task && task->depth) {
			next_class = lt_class_key(&ev->lock);
			if (chain_is_new(lo, chain_key(task, &ev->lock, next_class, action)))
				check_against_held(lo, task, &ev->lock, next_class, action, out);
		}
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
