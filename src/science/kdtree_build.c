/* KD-tree construction: points are reordered in place into tree order (median splits on the widest
 * weighted axis with core's ard_select_kth_rows_f64, the point's index travelling with it), nodes
 * are laid out in preorder in one array whose size is known in advance, so the top subtrees can be
 * built by different threads into disjoint slices. */
#include "science_int.h"

#include <string.h>

/* Node counts of a subtree by size: at depth d every node holds floor(n / 2^d) or that plus one
 * points, so two counts per depth describe the whole tree. */
typedef struct tree_shape {
    int64_t lo[SCI_MAX_DEPTH + 1];
    int64_t count[SCI_MAX_DEPTH + 1][2];
    int32_t depth_max;
} tree_shape;

static void shape_init(tree_shape *s, int64_t n) {
    int32_t d = 0;
    s->lo[0] = n;
    while (s->lo[d] > SCI_LEAF_SIZE && d < SCI_MAX_DEPTH) {
        s->lo[d + 1] = s->lo[d] / 2;
        d++;
    }
    s->depth_max = d;
    for (int32_t k = d; k >= 0; k--) {
        for (int32_t j = 0; j < 2; j++) {
            int64_t size = s->lo[k] + j;
            if (size <= SCI_LEAF_SIZE || k == d) {
                s->count[k][j] = 1;
                continue;
            }
            int64_t a = size / 2, b = size - a;
            s->count[k][j] =
                1 + s->count[k + 1][a - s->lo[k + 1]] + s->count[k + 1][b - s->lo[k + 1]];
        }
    }
}

static int64_t shape_count(const tree_shape *s, int32_t depth, int64_t size) {
    return s->count[depth][size - s->lo[depth]];
}

static void node_box(const sci_tree *t, sci_node *node) {
    for (int32_t d = 0; d < 4; d++) {
        node->lo[d] = 0.0;
        node->hi[d] = 0.0;
    }
    const double *p = t->pts + 4 * node->begin;
    for (int32_t d = 0; d < t->dims; d++) {
        node->lo[d] = node->hi[d] = p[d];
    }
    for (int64_t i = node->begin + 1; i < node->end; i++) {
        p = t->pts + 4 * i;
        for (int32_t d = 0; d < t->dims; d++) {
            node->lo[d] = p[d] < node->lo[d] ? p[d] : node->lo[d];
            node->hi[d] = p[d] > node->hi[d] ? p[d] : node->hi[d];
        }
    }
}

static int32_t split_axis(const sci_tree *t, const sci_node *node) {
    int32_t best = 0;
    double widest = -1.0;
    for (int32_t d = 0; d < t->dims; d++) {
        double w = (node->hi[d] - node->lo[d]) * t->scale[d];
        if (w > widest) {
            widest = w;
            best = d;
        }
    }
    return best;
}

/* Splits node `at` over [begin, end) at `depth` (a leaf: computes its tight box and returns 0).
 * On entry the node's lo/hi hold a loose box (the parent's box cut at the split value), which picks
 * the split axis without a scan; internal boxes are made tight in tighten_boxes afterwards. Returns
 * the number of points in the left child. */
static int64_t split_node(sci_tree *t, const tree_shape *s, int64_t at, int64_t begin, int64_t end,
                          int32_t depth) {
    sci_node *node = &t->nodes[at];
    node->begin = begin;
    node->end = end;
    node->right = -1;
    if (end - begin <= SCI_LEAF_SIZE || depth == s->depth_max) {
        node_box(t, node);
        return 0;
    }
    int64_t half = (end - begin) / 2;
    int32_t axis = split_axis(t, node);
    ard_select_kth_rows_f64(t->pts + 4 * begin, 4, axis, t->idx + begin, end - begin, half);
    double cut = t->pts[4 * (begin + half) + axis];
    int64_t right = at + 1 + shape_count(s, depth + 1, half);
    node->right = right;
    sci_node *left_node = &t->nodes[at + 1], *right_node = &t->nodes[right];
    memcpy(left_node->lo, node->lo, sizeof node->lo);
    memcpy(left_node->hi, node->hi, sizeof node->hi);
    memcpy(right_node->lo, node->lo, sizeof node->lo);
    memcpy(right_node->hi, node->hi, sizeof node->hi);
    left_node->hi[axis] = cut;
    right_node->lo[axis] = cut;
    return half;
}

static void build_node(sci_tree *t, const tree_shape *s, int64_t at, int64_t begin, int64_t end,
                       int32_t depth) {
    int64_t half = split_node(t, s, at, begin, end, depth);
    if (half > 0) {
        build_node(t, s, at + 1, begin, begin + half, depth + 1);
        build_node(t, s, t->nodes[at].right, begin + half, end, depth + 1);
    }
}

/* The top levels, one level at a time with the nodes of a level split in parallel; the nodes at
 * SCI_TASK_DEPTH (and leaves met above it) become the tasks. */
typedef struct level_job {
    sci_tree *t;
    const tree_shape *shape;
    const sci_task *cur;
    sci_task *next; /* 2 per current entry; node -1 = none */
} level_job;

static void split_task(void *arg, int64_t k, int thread_id) {
    (void)thread_id;
    level_job *job = arg;
    const sci_task *c = &job->cur[k];
    int64_t half = split_node(job->t, job->shape, c->node, c->begin, c->end, c->depth);
    if (half == 0) { /* a leaf stays a (finished) task */
        job->next[2 * k] = *c;
        job->next[2 * k + 1] = (sci_task){-1, 0, 0, 0};
        return;
    }
    job->next[2 * k] = (sci_task){c->node + 1, c->begin, c->begin + half, c->depth + 1};
    job->next[2 * k + 1] =
        (sci_task){job->t->nodes[c->node].right, c->begin + half, c->end, c->depth + 1};
}

static ard_status build_top(sci_tree *t, const tree_shape *shape, ard_pool *pool, ard_error *err) {
    size_t cap = (size_t)1 << SCI_TASK_DEPTH;
    sci_task *next = ard_malloc(cap * sizeof *next);
    if (!next) {
        return ard_error_set(err, ARD_ENOMEM, "kd-tree: out of memory");
    }
    t->tasks[0] = (sci_task){0, 0, t->n, 0};
    t->num_tasks = 1;
    for (int32_t level = 0; level < SCI_TASK_DEPTH; level++) {
        level_job job = {t, shape, t->tasks, next};
        if (pool) {
            ard_pool_for(pool, t->num_tasks, split_task, &job);
        } else {
            for (int64_t k = 0; k < t->num_tasks; k++) {
                split_task(&job, k, 0);
            }
        }
        int64_t count = 0;
        for (int64_t k = 0; k < 2 * t->num_tasks; k++) {
            if (next[k].node >= 0) {
                t->tasks[count++] = next[k];
            }
        }
        t->num_tasks = count;
    }
    ard_free(next);
    return ARD_OK;
}

/* Internal boxes = union of the children's (tight) boxes; children come after parents in preorder. */
static void tighten_boxes(sci_tree *t) {
    for (int64_t at = t->num_nodes - 1; at >= 0; at--) {
        sci_node *node = &t->nodes[at];
        if (node->right < 0) {
            continue;
        }
        const sci_node *l = &t->nodes[at + 1], *r = &t->nodes[node->right];
        for (int32_t d = 0; d < 4; d++) {
            node->lo[d] = l->lo[d] < r->lo[d] ? l->lo[d] : r->lo[d];
            node->hi[d] = l->hi[d] > r->hi[d] ? l->hi[d] : r->hi[d];
        }
    }
}

typedef struct build_job {
    sci_tree *t;
    const tree_shape *shape;
} build_job;

static void build_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    build_job *job = arg;
    const sci_task *task = &job->t->tasks[i];
    build_node(job->t, job->shape, task->node, task->begin, task->end, task->depth);
}

static ard_status collect_leaves(sci_tree *t, ard_error *err) {
    int64_t count = 0;
    for (int64_t i = 0; i < t->num_nodes; i++) {
        count += t->nodes[i].right < 0;
    }
    t->leaves = ard_malloc((size_t)count * sizeof *t->leaves);
    if (!t->leaves) {
        return ard_error_set(err, ARD_ENOMEM, "kd-tree: out of memory for %lld leaves",
                             (long long)count);
    }
    t->num_leaves = 0;
    for (int64_t i = 0; i < t->num_nodes; i++) {
        if (t->nodes[i].right < 0) {
            t->leaves[t->num_leaves++] = i;
        }
    }
    return ARD_OK;
}

static ard_status alloc_tree(sci_tree *t, int64_t n, const tree_shape *s, ard_error *err) {
    t->num_nodes = n > 0 ? shape_count(s, 0, n) : 0;
    t->idx = ard_malloc((size_t)n * sizeof *t->idx);
    t->nodes = ard_malloc((size_t)t->num_nodes * sizeof *t->nodes);
    t->tasks = ard_malloc(((size_t)1 << SCI_TASK_DEPTH) * sizeof *t->tasks);
    if (!t->idx || !t->nodes || !t->tasks) {
        return ard_error_set(err, ARD_ENOMEM, "kd-tree: out of memory for %lld points",
                             (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        t->idx[i] = i;
    }
    return ARD_OK;
}

ard_status ard__tree_build(sci_tree *t, double *pts, int64_t n, int32_t dims, const double scale[4],
                           ard_pool *pool, ard_error *err) {
    memset(t, 0, sizeof *t);
    t->pts = pts;
    t->n = n;
    t->dims = dims;
    memcpy(t->scale, scale, sizeof t->scale);
    tree_shape *shape = ard_malloc(sizeof *shape);
    if (!shape) {
        return ard_error_set(err, ARD_ENOMEM, "kd-tree: out of memory");
    }
    shape_init(shape, n);
    ard_status st = alloc_tree(t, n, shape, err);
    if (st == ARD_OK && n > 0) {
        t->nodes[0].begin = 0;
        t->nodes[0].end = n;
        node_box(t, &t->nodes[0]);
        st = build_top(t, shape, pool, err);
    }
    if (st == ARD_OK && n > 0) {
        build_job job = {t, shape};
        if (pool) {
            ard_pool_for(pool, t->num_tasks, build_task, &job);
        } else {
            for (int64_t i = 0; i < t->num_tasks; i++) {
                build_task(&job, i, 0);
            }
        }
        tighten_boxes(t);
        st = collect_leaves(t, err);
    }
    ard_free(shape);
    return st;
}

void ard__tree_reset(sci_tree *t) {
    ard_free(t->pts);
    ard_free(t->idx);
    ard_free(t->nodes);
    ard_free(t->leaves);
    ard_free(t->tasks);
    memset(t, 0, sizeof *t);
}

double ard__box_min_d2(const sci_node *a, const sci_node *b, int32_t dims) {
    double d2 = 0.0;
    for (int32_t d = 0; d < dims; d++) {
        double gap = 0.0;
        if (b->lo[d] > a->hi[d]) {
            gap = b->lo[d] - a->hi[d];
        } else if (a->lo[d] > b->hi[d]) {
            gap = a->lo[d] - b->hi[d];
        }
        d2 += gap * gap;
    }
    return d2;
}

double ard__box_max_d2(const sci_node *a, const sci_node *b, int32_t dims) {
    double d2 = 0.0;
    for (int32_t d = 0; d < dims; d++) {
        double u = b->hi[d] - a->lo[d], v = a->hi[d] - b->lo[d];
        double m = u > v ? u : v;
        d2 += m * m;
    }
    return d2;
}
