/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bounded lock dependency graph: nodes are u64 keys (a class hash or a
 * lock address), an edge A -> B means "B was taken while A was held". Like
 * lockdep's dependency types, an edge keeps how each end was taken (an
 * rwsem read or anything exclusive) and, per combination, the two
 * acquisitions that first created it: a write -> write order seen after a
 * read -> read one of the same locks is new information.
 */
#ifndef HM_LOCK_GRAPH_H
#define HM_LOCK_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hisimig/events.h"
#include "u64map.h"

#define LG_MAX_PATH 16          /* longest dependency path searched */
#define LG_MAX_VISIT 4096       /* nodes a search may visit */

/* How the two ends were taken: bit 1 the held lock was read, bit 0 the new one. */
enum lg_dep {
	LG_DEP_EXCL_EXCL = 0,
	LG_DEP_EXCL_READ = 1,
	LG_DEP_READ_EXCL = 2,
	LG_DEP_READ_READ = 3,
	LG_DEP_TYPES
};

struct lg_pair {
	struct hm_lock_event held;      /* acquisition of the lock already held */
	struct hm_lock_event next;      /* acquisition that created the dependency */
};

struct lg_edge {
	uint64_t from, to;
	enum lg_dep first;              /* the type seen first: dep[first] is set */
	struct lg_pair *dep[LG_DEP_TYPES]; /* the first pair of each type seen, else NULL */
};

static inline bool lg_dep_held_read(enum lg_dep t)
{
	return t & 2;
}

static inline bool lg_dep_next_read(enum lg_dep t)
{
	return t & 1;
}

/* The pair that first created the edge. */
static inline const struct lg_pair *lg_first(const struct lg_edge *e)
{
	return e->dep[e->first];
}

struct lg_search;

struct lock_graph {
	struct u64map nodes;            /* key -> struct lg_node * */
	struct u64map index;            /* edge_key(from, to) -> struct lg_edge * */
	size_t nedges, max_edges;
	uint64_t edge_overflow;         /* new edges not stored (graph full) */
	uint64_t search_truncated;      /* searches stopped by LG_MAX_VISIT */
	uint64_t path_cut;              /* searches without a path that did not look past
					 * LG_MAX_PATH edges */
	struct lg_search *search;       /* lg_find_path()'s queue and visited set, kept
					 * for the next search; NULL until one ran */
};

void lg_init(struct lock_graph *g, size_t max_edges);
void lg_free(struct lock_graph *g);

/* Add from -> to. Returns the edge when it or its type (lg_dep of held,
 * next) is new, NULL when both were known or there is no room (counted in
 * edge_overflow). */
const struct lg_edge *lg_add(struct lock_graph *g, uint64_t from, uint64_t to,
			     const struct hm_lock_event *held, const struct hm_lock_event *next);

/* The edge from -> to, NULL if never seen. */
const struct lg_edge *lg_find(const struct lock_graph *g, uint64_t from, uint64_t to);

/* Forget a node and every edge into or out of it (the lock or device it
 * stands for went away; its key may be reused for another one). */
void lg_remove_node(struct lock_graph *g, uint64_t key);

/* Shortest path from -> ... -> to of at most max_len (<= LG_MAX_PATH) edges:
 * fills path[] in order and returns its length, 0 if there is none. */
size_t lg_find_path(struct lock_graph *g, uint64_t from, uint64_t to,
		    const struct lg_edge **path, size_t max_len);

/* Every simple path from -> ... -> to of at most max_len (<= LG_MAX_PATH)
 * edges, depth first within LG_MAX_VISIT steps (a cut search counts in
 * search_truncated): calls each(path, len, ctx) until it returns false.
 * Returns the number of paths given. */
typedef bool (*lg_path_fn)(const struct lg_edge *const *path, size_t len, void *ctx);
size_t lg_each_path(struct lock_graph *g, uint64_t from, uint64_t to, size_t max_len,
		    lg_path_fn each, void *ctx);

#endif
