/* The public 3-D KD-tree: build over caller points and exact radius queries. */
#include "science_int.h"

#include <math.h>
#include <string.h>

struct ard_kdtree {
    sci_tree tree;
};

ard_status ard_kdtree_build(const double *xyz, int64_t n, int32_t threads, ard_kdtree **out,
                            ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "kdtree: out is NULL");
    }
    *out = NULL;
    if (n < 0 || (n > 0 && !xyz)) {
        return ard_error_set(err, ARD_EINVAL, "kdtree: bad points (n = %lld)", (long long)n);
    }
    ard_status st = ard__check_finite(xyz, n, 3, "coordinate", err);
    if (st != ARD_OK) {
        return st;
    }
    ard_kdtree *kd = ard_calloc(1, sizeof *kd);
    double *pts = ard_malloc((size_t)(n > 0 ? n : 1) * 4 * sizeof *pts);
    ard_pool *pool = NULL;
    if (!kd || !pts) {
        ard_free(kd);
        ard_free(pts);
        return ard_error_set(err, ARD_ENOMEM, "kdtree: out of memory for %lld points",
                             (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        memcpy(pts + 4 * i, xyz + 3 * i, 3 * sizeof *pts);
        pts[4 * i + 3] = 0.0;
    }
    static const double scale[4] = {1.0, 1.0, 1.0, 0.0};
    st = ard__sci_pool(threads, &pool, err);
    if (st == ARD_OK) {
        st = ard__tree_build(&kd->tree, pts, n, 3, scale, pool, err);
    } else {
        ard_free(pts);
    }
    ard_pool_free(pool);
    if (st != ARD_OK) {
        ard_kdtree_free(kd);
        return st;
    }
    *out = kd;
    return ARD_OK;
}

void ard_kdtree_free(ard_kdtree *tree) {
    if (tree) {
        ard__tree_reset(&tree->tree);
        ard_free(tree);
    }
}

int64_t ard_kdtree_size(const ard_kdtree *tree) {
    return tree ? tree->tree.n : 0;
}

ard_status ard_kdtree_query_radius(const ard_kdtree *tree, const double q[3], double r,
                                   int64_t *out, int64_t cap, int64_t *count, ard_error *err) {
    if (!tree || !q || !count || (cap > 0 && !out) || cap < 0) {
        return ard_error_set(err, ARD_EINVAL, "kdtree query: NULL argument or negative cap");
    }
    if (!(r >= 0.0) || !isfinite(q[0]) || !isfinite(q[1]) || !isfinite(q[2])) {
        return ard_error_set(err, ARD_EINVAL, "kdtree query: bad radius %g or query point", r);
    }
    const sci_tree *t = &tree->tree;
    double r2 = r * r;
    sci_node probe;
    memset(&probe, 0, sizeof probe);
    memcpy(probe.lo, q, 3 * sizeof *q);
    memcpy(probe.hi, q, 3 * sizeof *q);
    int64_t found = 0, stack[2 * SCI_MAX_DEPTH + 2];
    int32_t top = 0;
    if (t->num_nodes > 0) {
        stack[top++] = 0;
    }
    while (top > 0) {
        const sci_node *node = &t->nodes[stack[--top]];
        if (ard__box_min_d2(&probe, node, 3) > r2) {
            continue;
        }
        if (node->right >= 0) {
            stack[top++] = node->right;
            stack[top++] = (node - t->nodes) + 1;
            continue;
        }
        for (int64_t i = node->begin; i < node->end; i++) {
            const double *p = t->pts + 4 * i;
            double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
            if (dx * dx + dy * dy + dz * dz <= r2) {
                if (found < cap) {
                    out[found] = t->idx[i];
                }
                found++;
            }
        }
    }
    *count = found;
    return ARD_OK;
}

const sci_tree *ard__kdtree_tree(const ard_kdtree *tree) {
    return &tree->tree;
}
