/* Friends-of-friends linking over a built KD-tree.
 *
 * Every leaf L looks for leaves M at or after it in tree order whose boxes may hold a linked pair;
 * each such (L, M) is handled once. Tasks own contiguous position ranges (the top subtrees): pairs
 * inside a task are united at once by that task's thread, touching only its own union-find slice, so
 * no locks are needed; pairs that cross into a later task are recorded and united serially
 * afterwards. The components are therefore exactly those of linking every pair. Whole-box shortcuts:
 * when the largest distance between two boxes satisfies the rule, every pair links. */
#include "science_int.h"

#include <math.h>
#include <string.h>

typedef struct leaf_pair {
    int64_t a;
    int64_t b;
} leaf_pair;

typedef struct pair_list {
    leaf_pair *items;
    int64_t len;
    int64_t cap;
    int failed;
} pair_list;

typedef struct link_ctx {
    const sci_tree *t;
    int32_t mode;
    double l2;
    double *ang; /* by position */
    double *los; /* by position */
    double *ext; /* per node: ang min, ang max, los min, los max */
    sci_uf uf;
    pair_list *cross; /* one list per task */
} link_ctx;

static void pair_push(pair_list *list, int64_t a, int64_t b) {
    if (list->len == list->cap) {
        int64_t cap = list->cap ? 2 * list->cap : 256;
        leaf_pair *items = ard_realloc(list->items, (size_t)cap * sizeof *items);
        if (!items) {
            list->failed = 1;
            return;
        }
        list->items = items;
        list->cap = cap;
    }
    list->items[list->len++] = (leaf_pair){a, b};
}

/* ---- the pair rule ---- */

static inline int linked_iso(const double *p, const double *q, double l2) {
    double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
    return dx * dx + dy * dy + dz * dz <= l2;
}

static inline int linked_z(const link_ctx *c, int64_t i, int64_t j) {
    const double *p = c->t->pts + 4 * i, *q = c->t->pts + 4 * j;
    double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
    double ta = 0.5 * (c->ang[i] + c->ang[j]);
    double tl = 0.5 * (c->los[i] + c->los[j]);
    return dx * dx + dy * dy + dz * dz <= ta * ta && fabs(p[3] - q[3]) <= tl;
}

/* Could any pair of boxes a, b link (0 = certainly not)? */
static int may_link(const link_ctx *c, int64_t a, int64_t b) {
    const sci_node *na = &c->t->nodes[a], *nb = &c->t->nodes[b];
    if (c->mode == ARD_FOF_ISOTROPIC) {
        return ard__box_min_d2(na, nb, 3) <= c->l2;
    }
    const double *ea = c->ext + 4 * a, *eb = c->ext + 4 * b;
    double ta = 0.5 * (ea[1] + eb[1]), tl = 0.5 * (ea[3] + eb[3]);
    double gap = 0.0;
    if (nb->lo[3] > na->hi[3]) {
        gap = nb->lo[3] - na->hi[3];
    } else if (na->lo[3] > nb->hi[3]) {
        gap = na->lo[3] - nb->hi[3];
    }
    return gap <= tl && ard__box_min_d2(na, nb, 3) <= ta * ta;
}

/* Does every pair of boxes a, b link? */
static int all_link(const link_ctx *c, int64_t a, int64_t b) {
    const sci_node *na = &c->t->nodes[a], *nb = &c->t->nodes[b];
    if (c->mode == ARD_FOF_ISOTROPIC) {
        return ard__box_max_d2(na, nb, 3) <= c->l2;
    }
    const double *ea = c->ext + 4 * a, *eb = c->ext + 4 * b;
    double ta = 0.5 * (ea[0] + eb[0]), tl = 0.5 * (ea[2] + eb[2]);
    double u = nb->hi[3] - na->lo[3], v = na->hi[3] - nb->lo[3];
    double span = u > v ? u : v;
    return span <= tl && ard__box_max_d2(na, nb, 3) <= ta * ta;
}

static int linked(const link_ctx *c, int64_t i, int64_t j) {
    if (c->mode == ARD_FOF_ISOTROPIC) {
        return linked_iso(c->t->pts + 4 * i, c->t->pts + 4 * j, c->l2);
    }
    return linked_z(c, i, j);
}

static void link_leaves(const link_ctx *c, int64_t a, int64_t b) {
    const sci_node *na = &c->t->nodes[a], *nb = &c->t->nodes[b];
    if (all_link(c, a, b)) {
        for (int64_t i = na->begin + 1; i < na->end; i++) {
            ard__uf_union(&c->uf, na->begin, i);
        }
        for (int64_t j = nb->begin; j < nb->end; j++) {
            ard__uf_union(&c->uf, na->begin, j);
        }
        return;
    }
    for (int64_t i = na->begin; i < na->end; i++) {
        int64_t j0 = a == b ? i + 1 : nb->begin;
        for (int64_t j = j0; j < nb->end; j++) {
            if (linked(c, i, j)) {
                ard__uf_union(&c->uf, i, j);
            }
        }
    }
}

/* Finds the partner leaves of leaf node `leaf` (at or after it) and links or records them. */
static void visit_leaf(link_ctx *c, int64_t leaf, const sci_task *task, pair_list *cross) {
    const sci_node *nodes = c->t->nodes;
    int64_t start = nodes[leaf].begin;
    int64_t stack[2 * SCI_MAX_DEPTH + 2];
    int32_t top = 0;
    stack[top++] = 0;
    while (top > 0) {
        int64_t at = stack[--top];
        const sci_node *node = &nodes[at];
        if (node->end <= start || !may_link(c, leaf, at)) {
            continue;
        }
        if (node->right >= 0) {
            stack[top++] = node->right;
            stack[top++] = at + 1;
            continue;
        }
        if (node->begin < task->end) {
            link_leaves(c, leaf, at);
        } else {
            pair_push(cross, leaf, at);
        }
    }
}

typedef struct task_job {
    link_ctx *c;
    int64_t *leaf_first; /* per task: index into t->leaves of its first leaf */
} task_job;

static void link_task(void *arg, int64_t k, int thread_id) {
    (void)thread_id;
    task_job *job = arg;
    const sci_tree *t = job->c->t;
    const sci_task *task = &t->tasks[k];
    for (int64_t l = job->leaf_first[k]; l < t->num_leaves; l++) {
        int64_t leaf = t->leaves[l];
        if (t->nodes[leaf].begin >= task->end) {
            break;
        }
        visit_leaf(job->c, leaf, task, &job->c->cross[k]);
    }
}

/* Per-node bounds of the per-galaxy linking lengths, children before parents (reverse preorder). */
static void node_ext(link_ctx *c) {
    const sci_tree *t = c->t;
    for (int64_t at = t->num_nodes - 1; at >= 0; at--) {
        const sci_node *node = &t->nodes[at];
        double *e = c->ext + 4 * at;
        if (node->right >= 0) {
            const double *l = c->ext + 4 * (at + 1), *r = c->ext + 4 * node->right;
            e[0] = fmin(l[0], r[0]);
            e[1] = fmax(l[1], r[1]);
            e[2] = fmin(l[2], r[2]);
            e[3] = fmax(l[3], r[3]);
            continue;
        }
        e[0] = e[1] = c->ang[node->begin];
        e[2] = e[3] = c->los[node->begin];
        for (int64_t i = node->begin + 1; i < node->end; i++) {
            e[0] = fmin(e[0], c->ang[i]);
            e[1] = fmax(e[1], c->ang[i]);
            e[2] = fmin(e[2], c->los[i]);
            e[3] = fmax(e[3], c->los[i]);
        }
    }
}

static ard_status prepare(link_ctx *c, const sci_link_input *in, ard_error *err) {
    const sci_tree *t = c->t;
    c->mode = in->mode;
    c->l2 = in->link * in->link;
    c->cross = ard_calloc((size_t)(t->num_tasks > 0 ? t->num_tasks : 1), sizeof *c->cross);
    if (!c->cross) {
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    ard_status st = ard__uf_init(&c->uf, t->n, err);
    if (st != ARD_OK || in->mode == ARD_FOF_ISOTROPIC) {
        return st;
    }
    c->ang = ard_malloc((size_t)t->n * sizeof *c->ang);
    c->los = ard_malloc((size_t)t->n * sizeof *c->los);
    c->ext = ard_malloc((size_t)t->num_nodes * 4 * sizeof *c->ext);
    if (!c->ang || !c->los || !c->ext) {
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory for linking lengths");
    }
    for (int64_t i = 0; i < t->n; i++) {
        c->ang[i] = in->ang[t->idx[i]];
        c->los[i] = in->los[t->idx[i]];
    }
    node_ext(c);
    return ARD_OK;
}

static ard_status run_tasks(link_ctx *c, ard_pool *pool, ard_error *err) {
    const sci_tree *t = c->t;
    int64_t *leaf_first = ard_malloc((size_t)(t->num_tasks + 1) * sizeof *leaf_first);
    if (!leaf_first) {
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    for (int64_t k = 0, l = 0; k < t->num_tasks; k++) {
        while (l < t->num_leaves && t->nodes[t->leaves[l]].begin < t->tasks[k].begin) {
            l++;
        }
        leaf_first[k] = l;
    }
    task_job job = {c, leaf_first};
    if (pool) {
        ard_pool_for(pool, t->num_tasks, link_task, &job);
    } else {
        for (int64_t k = 0; k < t->num_tasks; k++) {
            link_task(&job, k, 0);
        }
    }
    ard_free(leaf_first);
    for (int64_t k = 0; k < t->num_tasks; k++) {
        if (c->cross[k].failed) {
            return ard_error_set(err, ARD_ENOMEM, "fof: out of memory for boundary pairs");
        }
        for (int64_t p = 0; p < c->cross[k].len; p++) {
            link_leaves(c, c->cross[k].items[p].a, c->cross[k].items[p].b);
        }
    }
    return ARD_OK;
}

/* labels[original] = smallest original index in the component. The union-find array is consumed:
 * members point straight at their root, and each root then holds -1 - (smallest original index). */
static void write_labels(const link_ctx *c, int64_t *labels) {
    const sci_tree *t = c->t;
    int64_t *parent = c->uf.parent;
    for (int64_t i = 0; i < t->n; i++) {
        if (parent[i] >= 0) {
            parent[i] = ard__uf_find(&c->uf, i);
        }
    }
    for (int64_t i = 0; i < t->n; i++) {
        if (parent[i] < 0) {
            parent[i] = -1 - t->n; /* roots: no member seen yet */
        }
    }
    for (int64_t i = 0; i < t->n; i++) {
        int64_t r = parent[i] >= 0 ? parent[i] : i;
        int64_t code = -1 - t->idx[i];
        parent[r] = code > parent[r] ? code : parent[r];
    }
    for (int64_t i = 0; i < t->n; i++) {
        int64_t r = parent[i] >= 0 ? parent[i] : i;
        labels[t->idx[i]] = -1 - parent[r];
    }
}

ard_status ard__fof_link_tree(const sci_tree *t, const sci_link_input *in, ard_pool *pool,
                              int64_t *labels, ard_error *err) {
    link_ctx c;
    memset(&c, 0, sizeof c);
    c.t = t;
    ard_status st = prepare(&c, in, err);
    if (st == ARD_OK) {
        st = run_tasks(&c, pool, err);
    }
    if (st == ARD_OK) {
        write_labels(&c, labels);
    }
    for (int64_t k = 0; c.cross && k < t->num_tasks; k++) {
        ard_free(c.cross[k].items);
    }
    ard_free(c.cross);
    ard_free(c.ang);
    ard_free(c.los);
    ard_free(c.ext);
    ard__uf_reset(&c.uf);
    return st;
}
