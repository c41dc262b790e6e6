/* k-nearest-neighbour queries on the KD-tree: a bounded max-heap ordered by (squared distance,
 * original index), so the answer is exact and unique (ties broken by the smaller index) whatever the
 * traversal order. */
#include "science_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int worse(const sci_knn_hit *a, const sci_knn_hit *b) {
    return a->d2 > b->d2 || (a->d2 == b->d2 && a->idx > b->idx);
}

static void heap_down(sci_knn_hit *h, int32_t n, int32_t i) {
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, top = i;
        if (l < n && worse(&h[l], &h[top])) {
            top = l;
        }
        if (r < n && worse(&h[r], &h[top])) {
            top = r;
        }
        if (top == i) {
            return;
        }
        sci_knn_hit tmp = h[i];
        h[i] = h[top];
        h[top] = tmp;
        i = top;
    }
}

static void heap_push(sci_knn_hit *h, int32_t *n, int32_t k, sci_knn_hit hit) {
    if (*n < k) {
        int32_t i = (*n)++;
        h[i] = hit;
        while (i > 0 && worse(&h[i], &h[(i - 1) / 2])) {
            sci_knn_hit tmp = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = tmp;
            i = (i - 1) / 2;
        }
    } else if (worse(&h[0], &hit)) {
        h[0] = hit;
        heap_down(h, *n, 0);
    }
}

static int hit_cmp(const void *a, const void *b) {
    const sci_knn_hit *x = a, *y = b;
    return worse(x, y) - worse(y, x);
}

int32_t ard__tree_knn(const sci_tree *t, const double q[3], int32_t k, sci_knn_hit *out) {
    if (k <= 0 || t->num_nodes == 0) {
        return 0;
    }
    sci_node probe;
    memset(&probe, 0, sizeof probe);
    memcpy(probe.lo, q, 3 * sizeof *q);
    memcpy(probe.hi, q, 3 * sizeof *q);
    int64_t stack[2 * SCI_MAX_DEPTH + 2];
    int32_t top = 0, found = 0;
    stack[top++] = 0;
    while (top > 0) {
        const sci_node *node = &t->nodes[stack[--top]];
        if (found == k && ard__box_min_d2(&probe, node, 3) > out[0].d2) {
            continue;
        }
        if (node->right >= 0) {
            int64_t left = (node - t->nodes) + 1, right = node->right;
            double dl = ard__box_min_d2(&probe, &t->nodes[left], 3);
            double dr = ard__box_min_d2(&probe, &t->nodes[right], 3);
            /* the nearer child is popped first */
            stack[top++] = dl <= dr ? right : left;
            stack[top++] = dl <= dr ? left : right;
            continue;
        }
        for (int64_t i = node->begin; i < node->end; i++) {
            const double *p = t->pts + 4 * i;
            double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
            sci_knn_hit hit = {dx * dx + dy * dy + dz * dz, t->idx[i]};
            heap_push(out, &found, k, hit);
        }
    }
    qsort(out, (size_t)found, sizeof *out, hit_cmp);
    return found;
}

ard_status ard_kdtree_query_knn(const ard_kdtree *tree, const double q[3], int32_t k, int64_t *idx,
                                double *dist, int32_t *count, ard_error *err) {
    if (!tree || !q || !count || k < 0 || (k > 0 && !idx)) {
        return ard_error_set(err, ARD_EINVAL, "kdtree knn: NULL argument or negative k");
    }
    if (!isfinite(q[0]) || !isfinite(q[1]) || !isfinite(q[2])) {
        return ard_error_set(err, ARD_EINVAL, "kdtree knn: non-finite query point");
    }
    sci_knn_hit *hits = ard_malloc((size_t)(k > 0 ? k : 1) * sizeof *hits);
    if (!hits) {
        return ard_error_set(err, ARD_ENOMEM, "kdtree knn: out of memory for k = %d", (int)k);
    }
    int32_t found = ard__tree_knn(ard__kdtree_tree(tree), q, k, hits);
    for (int32_t i = 0; i < found; i++) {
        idx[i] = hits[i].idx;
        if (dist) {
            dist[i] = sqrt(hits[i].d2);
        }
    }
    *count = found;
    ard_free(hits);
    return ARD_OK;
}
