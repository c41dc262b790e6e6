/* Distributed friends-of-friends linking: slabs along one axis (equal point counts per rank), each
 * extended by a ghost zone of one linking length on both faces; every rank links its slab and
 * ghosts with the science module's kernel; the components of the ranks are merged by a union-find
 * over global point indexes (smallest index wins, as in one process).
 *
 * Why it is exact: a linked pair (i, j) has |key_i - key_j| <= ghost on the slab axis, so the rank
 * owning i also holds j (owned or ghost) and links the pair itself; each rank's components are
 * therefore unions of true components' pieces, glued through the points that several ranks hold. */
#include "cluster_int.h"

#include "ard/science.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if ARD_HAVE_MPI

typedef struct fof_input {
    int32_t mode; /* 0 isotropic, 1 redshift */
    const double *xyz;
    double link;
    const double *unit, *dist, *ang, *los;
    int64_t n;
    int32_t threads;
} fof_input;

typedef struct keyed {
    double key;
    int64_t index;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    return (x->index > y->index) - (x->index < y->index);
}

/* Slab axis values and the ghost width: isotropic, the axis of largest extent and the link;
 * redshift, comoving distance (ghost: the largest los length) or the unit vector's component of
 * largest extent (ghost: the largest angular length, a bound on the chord), whichever gives the
 * thinner ghosts relative to the extent. */
static ard_status choose_axis(const fof_input *in, double **keys, double *ghost, ard_error *err) {
    int64_t n = in->n;
    const double *base = in->mode == 0 ? in->xyz : in->unit;
    double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (int64_t i = 0; i < n; i++) {
        for (int d = 0; d < 3; d++) {
            double v = base[3 * i + d];
            if (!isfinite(v)) {
                return ard_error_set(err, ARD_EINVAL, "fof: point %lld has a non-finite coordinate",
                                     (long long)i);
            }
            lo[d] = v < lo[d] ? v : lo[d];
            hi[d] = v > hi[d] ? v : hi[d];
        }
    }
    int axis = 0;
    for (int d = 1; d < 3; d++) {
        axis = hi[d] - lo[d] > hi[axis] - lo[axis] ? d : axis;
    }
    double width = in->link;
    int use_dist = 0;
    if (in->mode == 1) {
        double max_ang = 0, max_los = 0, dlo = INFINITY, dhi = -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            if (!isfinite(in->dist[i]) || !isfinite(in->ang[i]) || !isfinite(in->los[i]) ||
                in->ang[i] < 0 || in->los[i] < 0) {
                return ard_error_set(err, ARD_EINVAL,
                                     "fof: galaxy %lld has a non-finite distance or a negative or "
                                     "non-finite linking length",
                                     (long long)i);
            }
            max_ang = in->ang[i] > max_ang ? in->ang[i] : max_ang;
            max_los = in->los[i] > max_los ? in->los[i] : max_los;
            dlo = in->dist[i] < dlo ? in->dist[i] : dlo;
            dhi = in->dist[i] > dhi ? in->dist[i] : dhi;
        }
        double by_dist = (dhi - dlo) / (max_los > 0 ? max_los : 1e-300);
        double by_unit = (hi[axis] - lo[axis]) / (max_ang > 0 ? max_ang : 1e-300);
        use_dist = n > 0 && by_dist > by_unit;
        width = use_dist ? max_los : max_ang;
    }
    *keys = ard_malloc((size_t)n * sizeof **keys + 8);
    if (!*keys) {
        return ard_error_set(err, ARD_ENOMEM, "fof: slab keys");
    }
    for (int64_t i = 0; i < n; i++) {
        (*keys)[i] = use_dist ? in->dist[i] : base[3 * i + axis];
    }
    *ghost = width * (1 + 1e-9); /* a hair wider: extra ghosts are harmless, missing ones not */
    return ARD_OK;
}

/* First position in sorted[0..n) whose key is >= v (after_equal 0) or > v (after_equal 1). */
static int64_t bound(const keyed *sorted, int64_t n, double v, int after_equal) {
    int64_t a = 0, b = n;
    while (a < b) {
        int64_t m = a + (b - a) / 2;
        int below = after_equal ? sorted[m].key <= v : sorted[m].key < v;
        if (below) {
            a = m + 1;
        } else {
            b = m;
        }
    }
    return a;
}

/* Links the points sorted[a..b) with the science kernel; edges (point, its local root) with
 * point != root are appended to *edges (pairs of int64). */
static ard_status link_local(const fof_input *in, const keyed *sorted, int64_t a, int64_t b,
                             int64_t **edges, int64_t *num_edges, ard_error *err) {
    int64_t m = b - a;
    *edges = NULL;
    *num_edges = 0;
    if (m <= 0) {
        return ARD_OK;
    }
    int per = in->mode == 0 ? 3 : 6;
    double *buf = ard_malloc((size_t)m * (size_t)per * sizeof *buf);
    int64_t *labels = ard_malloc((size_t)m * sizeof *labels);
    *edges = ard_malloc((size_t)m * 2 * sizeof **edges);
    if (!buf || !labels || !*edges) {
        ard_free(buf);
        ard_free(labels);
        ard_free(*edges);
        *edges = NULL;
        return ard_error_set(err, ARD_ENOMEM, "fof: %lld local points", (long long)m);
    }
    for (int64_t k = 0; k < m; k++) {
        int64_t i = sorted[a + k].index;
        const double *src = in->mode == 0 ? in->xyz : in->unit;
        memcpy(buf + 3 * k, src + 3 * i, 3 * sizeof *buf);
        if (in->mode == 1) {
            buf[3 * m + k] = in->dist[i];
            buf[4 * m + k] = in->ang[i];
            buf[5 * m + k] = in->los[i];
        }
    }
    ard_status st = in->mode == 0
                        ? ard_fof_link_isotropic(buf, m, in->link, in->threads, labels, err)
                        : ard_fof_link_redshift(buf, buf + 3 * m, buf + 4 * m, buf + 5 * m, m,
                                                in->threads, labels, err);
    for (int64_t k = 0; st == ARD_OK && k < m; k++) {
        int64_t i = sorted[a + k].index, root = sorted[a + labels[k]].index;
        if (i != root) {
            (*edges)[2 * *num_edges] = i;
            (*edges)[2 * *num_edges + 1] = root;
            (*num_edges)++;
        }
    }
    ard_free(buf);
    ard_free(labels);
    return st;
}

static int64_t uf_find(int64_t *parent, int64_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* Every rank's edges on every rank, then components with the smallest index as label. */
static ard_status merge(ard_cluster *cl, const int64_t *edges, int64_t num_edges, int64_t n,
                        int64_t *labels, ard_error *err) {
    int32_t size = cl->size;
    int mine = num_edges * 2 > INT32_MAX ? -1 : (int)(num_edges * 2);
    int *counts = ard_calloc((size_t)size, sizeof *counts);
    int *displs = ard_calloc((size_t)size, sizeof *displs);
    ard_status st = counts && displs ? ARD_OK : ARD_ENOMEM;
    int ok = st == ARD_OK && mine >= 0, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, cl->comm);
    if (all_ok && MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, cl->comm) != MPI_SUCCESS) {
        all_ok = 0;
    }
    int64_t total = 0;
    for (int32_t r = 0; all_ok && r < size; r++) {
        displs[r] = (int)total;
        total += counts[r];
    }
    int64_t *all = NULL;
    if (all_ok) {
        all = total <= INT32_MAX ? ard_malloc((size_t)total * sizeof *all + 8) : NULL;
        ok = all != NULL;
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, cl->comm);
    }
    if (all_ok && MPI_Allgatherv(edges, mine, MPI_INT64_T, all, counts, displs, MPI_INT64_T,
                                 cl->comm) != MPI_SUCCESS) {
        all_ok = 0;
    }
    if (all_ok) {
        for (int64_t i = 0; i < n; i++) {
            labels[i] = i;
        }
        for (int64_t e = 0; e < total / 2; e++) {
            int64_t a = uf_find(labels, all[2 * e]), b = uf_find(labels, all[2 * e + 1]);
            if (a != b) {
                labels[a > b ? a : b] = a < b ? a : b; /* the smaller index stays the root */
            }
        }
        for (int64_t i = 0; i < n; i++) {
            labels[i] = uf_find(labels, i);
        }
    }
    ard_free(all);
    ard_free(counts);
    ard_free(displs);
    return all_ok ? ARD_OK
                  : ard_error_set(err, ARD_ELIMIT,
                                  "fof: merging the ranks' components (memory, "
                                  "or more than 2^31 boundary links)");
}

static ard_status link_distributed(ard_cluster *cl, const fof_input *in, int64_t *labels,
                                   ard_error *err) {
    double *keys = NULL, ghost = 0;
    keyed *sorted = NULL;
    int64_t *edges = NULL, num_edges = 0;
    /* progress: the points each rank linked (its own slab, ghosts not counted), summed on rank 0 */
    ard_cluster_progress *meter = NULL;
    ard_cluster_progress_new(cl, "fof", cl->rank == 0 ? in->n : 0, 1, &meter, NULL);
    ard_status st = choose_axis(in, &keys, &ghost, err);
    if (st == ARD_OK) {
        sorted = ard_malloc((size_t)in->n * sizeof *sorted + 16);
        st = sorted ? ARD_OK
                    : ard_error_set(err, ARD_ENOMEM, "fof: sorting %lld points", (long long)in->n);
    }
    if (st == ARD_OK) {
        for (int64_t i = 0; i < in->n; i++) {
            sorted[i] = (keyed){keys[i], i};
        }
        qsort(sorted, (size_t)in->n, sizeof *sorted, cmp_keyed);
        int64_t lo = in->n * cl->rank / cl->size, hi = in->n * (cl->rank + 1) / cl->size;
        int64_t a = lo, b = hi;
        if (hi > lo) {
            a = bound(sorted, in->n, sorted[lo].key - ghost, 0);
            b = bound(sorted, in->n, sorted[hi - 1].key + ghost, 1);
        }
        st = link_local(in, sorted, a, b, &edges, &num_edges, err);
        ard_cluster_progress_add(meter, st == ARD_OK ? hi - lo : 0);
    }
    ard_cluster_progress_finish(meter);
    ard_free(keys);
    ard_free(sorted);
    st = ard_cluster_agree(cl, st, err, NULL);
    if (st == ARD_OK) {
        st = merge(cl, edges, num_edges, in->n, labels, err);
    }
    ard_free(edges);
    return st;
}

ard_status ard_cluster_fof_link_isotropic(ard_cluster *cluster, const double *xyz, int64_t n,
                                          double link, int32_t threads, int64_t *labels,
                                          ard_error *err) {
    if (!cluster || n < 0 || (n > 0 && (!xyz || !labels)) || !(link >= 0) || !isfinite(link)) {
        return ard_error_set(err, ARD_EINVAL, "fof: bad arguments (n %lld, link %g)", (long long)n,
                             link);
    }
    fof_input in = {0, xyz, link, NULL, NULL, NULL, NULL, n, threads};
    return link_distributed(cluster, &in, labels, err);
}

ard_status ard_cluster_fof_link_redshift(ard_cluster *cluster, const double *unit,
                                         const double *dist, const double *ang, const double *los,
                                         int64_t n, int32_t threads, int64_t *labels,
                                         ard_error *err) {
    if (!cluster || n < 0 || (n > 0 && (!unit || !dist || !ang || !los || !labels))) {
        return ard_error_set(err, ARD_EINVAL, "fof: bad arguments (n %lld)", (long long)n);
    }
    fof_input in = {1, NULL, 0, unit, dist, ang, los, n, threads};
    return link_distributed(cluster, &in, labels, err);
}

#else

ard_status ard_cluster_fof_link_isotropic(ard_cluster *cluster, const double *xyz, int64_t n,
                                          double link, int32_t threads, int64_t *labels,
                                          ard_error *err) {
    (void)cluster;
    (void)xyz;
    (void)n;
    (void)link;
    (void)threads;
    (void)labels;
    return ard_error_set(err, ARD_ENOTSUP, "fof: this ard was built without MPI");
}

ard_status ard_cluster_fof_link_redshift(ard_cluster *cluster, const double *unit,
                                         const double *dist, const double *ang, const double *los,
                                         int64_t n, int32_t threads, int64_t *labels,
                                         ard_error *err) {
    (void)cluster;
    (void)unit;
    (void)dist;
    (void)ang;
    (void)los;
    (void)n;
    (void)threads;
    (void)labels;
    return ard_error_set(err, ARD_ENOTSUP, "fof: this ard was built without MPI");
}

#endif
