// SPDX-License-Identifier: GPL-2.0
#include "analyzers/lock_graph.h"

#include <stdbool.h>
#include <stdlib.h>

#include "finding.h"

struct lg_node {
	struct lg_edge **out;
	unsigned int nout, cap;
};

struct bfs_entry {
	uint64_t key;
	const struct lg_edge *via;      /* edge that reached it, NULL for the start */
	int parent;                     /* index in the queue */
	unsigned int depth;
};

/* Allocated once: a search runs for every new edge. */
struct lg_search {
	struct bfs_entry queue[LG_MAX_VISIT];
	struct u64map seen;             /* keys queued */
};

static bool valid_key(uint64_t key)
{
	return key != 0 && key != UINT64_MAX; /* reserved by u64map */
}

static uint64_t edge_key(uint64_t from, uint64_t to)
{
	uint64_t h = u64map_mix(u64map_mix(HM_HASH_INIT, from), to);

	return valid_key(h) ? h : 1;
}

static void edge_free(struct lg_edge *e)
{
	for (unsigned int t = 0; t < LG_DEP_TYPES; t++)
		free(e->dep[t]);
	free(e);
}

static enum lg_dep dep_type(const struct hm_lock_event *held, const struct hm_lock_event *next)
{
	return (enum lg_dep)((held->lock_type == HM_LOCK_RWSEM_READ) << 1 |
			     (next->lock_type == HM_LOCK_RWSEM_READ));
}

void lg_init(struct lock_graph *g, size_t max_edges)
{
	*g = (struct lock_graph){ .max_edges = max_edges };
	u64map_init(&g->nodes);
	u64map_init(&g->index);
}

void lg_free(struct lock_graph *g)
{
	size_t it = 0;
	uint64_t key;
	void *val;

	while (u64map_next(&g->nodes, &it, &key, &val)) {
		struct lg_node *node = val;

		for (unsigned int i = 0; i < node->nout; i++)
			edge_free(node->out[i]);
		free(node->out);
		free(node);
	}
	u64map_free(&g->nodes);
	u64map_free(&g->index);
	if (g->search)
		u64map_free(&g->search->seen);
	free(g->search);
	g->search = NULL;
}

static struct lg_edge *find_edge(const struct lock_graph *g, uint64_t from, uint64_t to)
{
	struct lg_edge *e = u64map_get(&g->index, edge_key(from, to));
	const struct lg_node *node;

	if (e && e->from == from && e->to == to)
		return e;
	/* a hash collision in the index (or its entry went with a removed
	 * node): the node's own list is authoritative */
	node = u64map_get(&g->nodes, from);
	for (unsigned int i = 0; node && i < node->nout; i++)
		if (node->out[i]->to == to)
			return node->out[i];
	return NULL;
}

const struct lg_edge *lg_find(const struct lock_graph *g, uint64_t from, uint64_t to)
{
	return valid_key(from) && valid_key(to) ? find_edge(g, from, to) : NULL;
}

static struct lg_node *node_get_or_add(struct lock_graph *g, uint64_t key)
{
	struct lg_node *node = u64map_get(&g->nodes, key);

	if (node)
		return node;
	node = calloc(1, sizeof(*node));
	if (node && !u64map_put(&g->nodes, key, node)) {
		free(node);
		node = NULL;
	}
	return node;
}

static bool node_append(struct lg_node *node, struct lg_edge *e)
{
	if (node->nout == node->cap) {
		unsigned int cap = node->cap ? node->cap * 2 : 4;
		struct lg_edge **grown = realloc(node->out, cap * sizeof(*grown));

		if (!grown)
			return false;
		node->out = grown;
		node->cap = cap;
	}
	node->out[node->nout++] = e;
	return true;
}

/* The first pair of a type: a new edge's, or a known edge's new type. */
static bool edge_set_dep(struct lg_edge *e, enum lg_dep type, const struct hm_lock_event *held,
			 const struct hm_lock_event *next)
{
	struct lg_pair *pair = malloc(sizeof(*pair));

	if (!pair)
		return false;
	*pair = (struct lg_pair){ .held = *held, .next = *next };
	e->dep[type] = pair;
	return true;
}

const struct lg_edge *lg_add(struct lock_graph *g, uint64_t from, uint64_t to,
			     const struct hm_lock_event *held, const struct hm_lock_event *next)
{
	enum lg_dep type = dep_type(held, next);
	struct lg_node *node;
	struct lg_edge *e;
	uint64_t ikey;

	if (!valid_key(from) || !valid_key(to))
		return NULL;
	e = find_edge(g, from, to);
	if (e)
		return !e->dep[type] && edge_set_dep(e, type, held, next) ? e : NULL;
	if (g->nedges >= g->max_edges) {
		g->edge_overflow++;
		return NULL;
	}
	node = node_get_or_add(g, from);
	e = node ? calloc(1, sizeof(*e)) : NULL;
	if (!e || !edge_set_dep(e, type, held, next) || !node_append(node, e)) {
		if (e)
			edge_free(e);
		g->edge_overflow++;
		return NULL;
	}
	e->from = from;
	e->to = to;
	e->first = type;
	g->nedges++;
	ikey = edge_key(from, to);
	if (!u64map_get(&g->index, ikey))
		u64map_put(&g->index, ikey, e);
	return e;
}

static void edge_unindex(struct lock_graph *g, struct lg_edge *e)
{
	uint64_t ikey = edge_key(e->from, e->to);

	if (u64map_get(&g->index, ikey) == e)
		u64map_del(&g->index, ikey);
	edge_free(e);
	g->nedges--;
}

void lg_remove_node(struct lock_graph *g, uint64_t key)
{
	struct lg_node *node = valid_key(key) ? u64map_del(&g->nodes, key) : NULL;
	size_t it = 0;
	uint64_t other;
	void *val;

	for (unsigned int i = 0; node && i < node->nout; i++)
		edge_unindex(g, node->out[i]);
	if (node) {
		free(node->out);
		free(node);
	}
	/* edges into it: rare (a device or lock went away), so a full scan */
	while (valid_key(key) && u64map_next(&g->nodes, &it, &other, &val)) {
		struct lg_node *from = val;

		for (unsigned int i = 0; i < from->nout;) {
			if (from->out[i]->to != key) {
				i++;
				continue;
			}
			edge_unindex(g, from->out[i]);
			from->out[i] = from->out[--from->nout];
		}
	}
}

static size_t bfs_unwind(const struct bfs_entry *q, int at, const struct lg_edge **path)
{
	size_t len = q[at].depth;

	for (size_t i = len; i > 0; i--, at = q[at].parent)
		path[i - 1] = q[at].via;
	return len;
}

/* Breadth-first like lockdep's check_noncircular(): the shortest cycle is the
 * easiest to read and fix. */
size_t lg_find_path(struct lock_graph *g, uint64_t from, uint64_t to,
		    const struct lg_edge **path, size_t max_len)
{
	struct bfs_entry *q;
	struct u64map *seen;
	size_t head = 0, tail = 0, found = 0;
	bool cut = false;

	if (max_len > LG_MAX_PATH)
		max_len = LG_MAX_PATH;
	if (!valid_key(from) || !max_len)
		return 0;
	if (!g->search)
		g->search = calloc(1, sizeof(*g->search));
	if (!g->search)
		return 0;
	q = g->search->queue;
	seen = &g->search->seen;
	u64map_clear(seen);
	q[tail++] = (struct bfs_entry){ .key = from, .parent = -1 };
	u64map_put(seen, from, q);
	while (head < tail && !found) {
		const struct bfs_entry cur = q[head];
		const struct lg_node *node = u64map_get(&g->nodes, cur.key);

		if (node && node->nout && cur.depth == LG_MAX_PATH)
			cut = true; /* a longer path may exist */
		for (unsigned int i = 0; node && cur.depth < max_len && i < node->nout; i++) {
			const struct lg_edge *e = node->out[i];

			if (u64map_get(seen, e->to))
				continue;
			if (tail == LG_MAX_VISIT) {
				g->search_truncated++;
				break;
			}
			q[tail] = (struct bfs_entry){ .key = e->to, .via = e, .parent = (int)head,
						      .depth = cur.depth + 1 };
			u64map_put(seen, e->to, q);
			if (e->to == to) {
				found = bfs_unwind(q, (int)tail, path);
				break;
			}
			tail++;
		}
		head++;
	}
	if (cut && !found)
		g->path_cut++;
	return found;
}

struct path_walk {
	struct lock_graph *g;
	uint64_t to;
	size_t max_len, given, steps;
	const struct lg_edge *path[LG_MAX_PATH];
	lg_path_fn each;
	void *ctx;
};

static bool on_walk(const struct path_walk *w, size_t len, uint64_t key)
{
	for (size_t i = 0; i < len; i++)
		if (w->path[i]->from == key)
			return true;
	return false;
}

/* Depth-first from key with len edges walked; false stops the walk. */
static bool walk_from(struct path_walk *w, uint64_t key, size_t len)
{
	const struct lg_node *node = u64map_get(&w->g->nodes, key);

	for (unsigned int i = 0; node && len < w->max_len && i < node->nout; i++) {
		const struct lg_edge *e = node->out[i];

		if (++w->steps > LG_MAX_VISIT) {
			w->g->search_truncated++;
			return false;
		}
		w->path[len] = e;
		if (e->to == w->to) {
			w->given++;
			if (!w->each(w->path, len + 1, w->ctx))
				return false;
			continue;
		}
		if (!on_walk(w, len, e->to) && !walk_from(w, e->to, len + 1))
			return false;
	}
	return true;
}

size_t lg_each_path(struct lock_graph *g, uint64_t from, uint64_t to, size_t max_len,
		    lg_path_fn each, void *ctx)
{
	struct path_walk w = { .g = g, .to = to, .each = each, .ctx = ctx,
			       .max_len = max_len > LG_MAX_PATH ? LG_MAX_PATH : max_len };

	if (valid_key(from) && valid_key(to) && from != to)
		walk_from(&w, from, 0);
	return w.given;
}
