/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bounded lock dependency graph: nodes are u64 keys (a class hash or a
 * lock address), an edge A -> B means "B was taken while A was held", and
 * each edge keeps the two acquisitions that first created it.
 */
#ifndef HM_LOCK_GRAPH_H
#define HM_LOCK_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include "hisimig/events.h"
#include "u64map.h"

#define LG_MAX_PATH 16          /* longest dependency path searched */
#define LG_MAX_VISIT 4096       /* nodes a search may visit */

struct lg_edge {
	uint64_t from, to;
	struct hm_lock_event held;      /* acquisition of the lock already held */
	struct hm_lock_event next;      /* acquisition that created the dependency */
};

struct lock_graph {
	struct u64map nodes;            /* key -> struct lg_node * */
	struct u64map index;            /* edge_key(from, to) -> struct lg_edge * */
	size_t nedges, max_edges;
	uint64_t edge_overflow;         /* new edges not stored (graph full) */
	uint64_t search_truncated;      /* searches stopped by LG_MAX_VISIT */
	uint64_t path_cut;              /* searches without a path that did not look past
					 * LG_MAX_PATH edges */
};

void lg_init(struct lock_graph *g, size_t max_edges);
void lg_free(struct lock_graph *g);

/* Add from -> to. Returns the new edge, or NULL when it was already known
 * or there is no room (counted in edge_overflow). */
const struct lg_edge *lg_add(struct lock_graph *g, uint64_t from, uint64_t to,
			     const struct hm_lock_event *held, const struct hm_lock_event *next);

/* The edge from -> to, NULL if never seen. */
const struct lg_edge *lg_find(const struct lock_graph *g, uint64_t from, uint64_t to);

/* Shortest path from -> ... -> to of at most max_len (<= LG_MAX_PATH) edges:
 * fills path[] in order and returns its length, 0 if there is none. */
size_t lg_find_path(struct lock_graph *g, uint64_t from, uint64_t to,
		    const struct lg_edge **path, size_t max_len);

#endif
