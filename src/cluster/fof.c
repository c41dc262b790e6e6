/* Distributed friends-of-friends linking: slabs along one axis (equal point counts per rank), each
 * extended by a ghost zone of one linking length on both faces. Rank 0 holds the points: it cuts
 * the slabs and sends every other rank its slab and ghosts (point-to-point, in chunks, so no rank
 * but 0 ever holds more than its slab); every rank links its points with the science module's
 * kernel and sends rank 0 its (point, local root) pairs, which rank 0 merges with one union-find
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

#define FOF_TAG_SLAB 41
#define FOF_TAG_LABELS 42
#define FOF_CHUNK ((int64_t)1 << 16) /* points per message */

/* Doubles per point on the wire: x, y, z (isotropic) or ux, uy, uz, dist, ang, los. */
static int per_point(int32_t mode) {
    return mode == 0 ? 3 : 6;
}

/* A rank's points: global indexes and the kernel's arrays (isotropic: xyz; redshift: unit, then
 * dist, ang, los, each of m). */
typedef struct slab {
    int64_t m, own; /* points held; of which owned (not ghosts) */
    int64_t *index;
    double *coords;
} slab;

static void slab_reset(slab *sl) {
    ard_free(sl->index);
    ard_free(sl->coords);
    memset(sl, 0, sizeof *sl);
}

static ard_status slab_alloc(slab *sl, int32_t mode, int64_t m, int64_t own, ard_error *err) {
    sl->m = m;
    sl->own = own;
    sl->index = ard_malloc((size_t)m * sizeof *sl->index + 8);
    sl->coords = ard_malloc((size_t)m * (size_t)per_point(mode) * sizeof *sl->coords + 8);
    if (!sl->index || !sl->coords) {
        slab_reset(sl);
        return ard_error_set(err, ARD_ENOMEM, "fof: %lld local points", (long long)m);
    }
    return ARD_OK;
}

/* Rank 0: point i of the input as it travels (per_point doubles). */
static void pack_point(const fof_input *in, int64_t i, double *rec) {
    if (in->mode == 0) {
        memcpy(rec, in->xyz + 3 * i, 3 * sizeof *rec);
        return;
    }
    memcpy(rec, in->unit + 3 * i, 3 * sizeof *rec);
    rec[3] = in->dist[i];
    rec[4] = in->ang[i];
    rec[5] = in->los[i];
}

/* A travelling point into slab position k. */
static void unpack_point(int32_t mode, const double *rec, slab *sl, int64_t k) {
    memcpy(sl->coords + 3 * k, rec, 3 * sizeof *rec);
    if (mode == 1) {
        sl->coords[3 * sl->m + k] = rec[3];
        sl->coords[4 * sl->m + k] = rec[4];
        sl->coords[5 * sl->m + k] = rec[5];
    }
}

/* Rank 0: the slab of rank r, sorted[a[r] .. b[r]), owned sorted[lo .. hi). */
static void slab_range(const keyed *sorted, int64_t n, double ghost, int32_t r, int32_t size,
                       int64_t *a, int64_t *b, int64_t *own) {
    int64_t lo = n * r / size, hi = n * (r + 1) / size;
    *a = lo;
    *b = hi;
    *own = hi - lo;
    if (hi > lo) {
        *a = bound(sorted, n, sorted[lo].key - ghost, 0);
        *b = bound(sorted, n, sorted[hi - 1].key + ghost, 1);
    }
}

/* Rank 0: sends rank r its points, {count, own} then chunks of {indexes} and {points}. */
static int send_slab(ard_cluster *cl, const fof_input *in, const keyed *sorted, int64_t a,
                     int64_t b, int64_t own, int32_t r, int64_t *idx, double *rec) {
    int64_t head[2] = {b - a, own};
    int ok = MPI_Send(head, 2, MPI_INT64_T, r, FOF_TAG_SLAB, cl->comm) == MPI_SUCCESS;
    int per = per_point(in->mode);
    for (int64_t at = a; ok && at < b; at += FOF_CHUNK) {
        int64_t c = b - at < FOF_CHUNK ? b - at : FOF_CHUNK;
        for (int64_t k = 0; k < c; k++) {
            idx[k] = sorted[at + k].index;
            pack_point(in, idx[k], rec + per * k);
        }
        ok = MPI_Send(idx, (int)c, MPI_INT64_T, r, FOF_TAG_SLAB, cl->comm) == MPI_SUCCESS &&
             MPI_Send(rec, (int)(c * per), MPI_DOUBLE, r, FOF_TAG_SLAB, cl->comm) == MPI_SUCCESS;
    }
    return ok;
}

/* Ranks other than 0: receives the slab rank 0 sends. Out of memory for the slab, the chunks are
 * still taken (and dropped) so that rank 0 never waits. */
static ard_status recv_slab(ard_cluster *cl, int32_t mode, slab *sl, int64_t *idx, double *rec,
                            ard_error *err) {
    int64_t head[2] = {0, 0};
    if (MPI_Recv(head, 2, MPI_INT64_T, 0, FOF_TAG_SLAB, cl->comm, MPI_STATUS_IGNORE) !=
        MPI_SUCCESS) {
        return ard_error_set(err, ARD_EIO, "fof: receiving the slab failed (MPI)");
    }
    ard_status st = slab_alloc(sl, mode, head[0], head[1], err);
    int per = per_point(mode), ok = 1;
    for (int64_t at = 0; ok && at < head[0]; at += FOF_CHUNK) {
        int64_t c = head[0] - at < FOF_CHUNK ? head[0] - at : FOF_CHUNK;
        ok = MPI_Recv(idx, (int)c, MPI_INT64_T, 0, FOF_TAG_SLAB, cl->comm, MPI_STATUS_IGNORE) ==
                 MPI_SUCCESS &&
             MPI_Recv(rec, (int)(c * per), MPI_DOUBLE, 0, FOF_TAG_SLAB, cl->comm,
                      MPI_STATUS_IGNORE) == MPI_SUCCESS;
        for (int64_t k = 0; ok && st == ARD_OK && k < c; k++) {
            sl->index[at + k] = idx[k];
            unpack_point(mode, rec + per * k, sl, at + k);
        }
    }
    if (!ok && st == ARD_OK) {
        st = ard_error_set(err, ARD_EIO, "fof: receiving the slab failed (MPI)");
    }
    return st;
}

/* Rank 0: its own slab, filled from the input. */
static ard_status own_slab(const fof_input *in, const keyed *sorted, int64_t a, int64_t b,
                           int64_t own, slab *sl, ard_error *err) {
    ard_status st = slab_alloc(sl, in->mode, b - a, own, err);
    double rec[6];
    for (int64_t k = 0; st == ARD_OK && k < b - a; k++) {
        sl->index[k] = sorted[a + k].index;
        pack_point(in, sl->index[k], rec);
        unpack_point(in->mode, rec, sl, k);
    }
    return st;
}

/* Links a slab with the science kernel; edges (point, its local root) with point != root, as
 * global indexes, are appended to *edges (pairs of int64). */
static ard_status link_slab(int32_t mode, double link, int32_t threads, const slab *sl,
                            int64_t **edges, int64_t *num_edges, ard_error *err) {
    int64_t m = sl->m;
    *edges = NULL;
    *num_edges = 0;
    if (m <= 0) {
        return ARD_OK;
    }
    int64_t *labels = ard_malloc((size_t)m * sizeof *labels);
    *edges = ard_malloc((size_t)m * 2 * sizeof **edges);
    if (!labels || !*edges) {
        ard_free(labels);
        ard_free(*edges);
        *edges = NULL;
        return ard_error_set(err, ARD_ENOMEM, "fof: %lld local points", (long long)m);
    }
    const double *c = sl->coords;
    ard_status st = mode == 0 ? ard_fof_link_isotropic(c, m, link, threads, labels, err)
                              : ard_fof_link_redshift(c, c + 3 * m, c + 4 * m, c + 5 * m, m,
                                                      threads, labels, err);
    for (int64_t k = 0; st == ARD_OK && k < m; k++) {
        int64_t i = sl->index[k], root = sl->index[labels[k]];
        if (i != root) {
            (*edges)[2 * *num_edges] = i;
            (*edges)[2 * *num_edges + 1] = root;
            (*num_edges)++;
        }
    }
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

/* Every rank's edges to rank 0, which finds the components (smallest index as label) into
 * labels[0..n). Collective; the status is agreed by the caller. */
static ard_status merge(ard_cluster *cl, const int64_t *edges, int64_t num_edges, int64_t n,
                        int64_t *labels, ard_error *err) {
    int32_t size = cl->size, root = cl->rank == 0;
    int mine = num_edges * 2 > INT32_MAX ? -1 : (int)(num_edges * 2);
    int *counts = root ? ard_calloc((size_t)size, sizeof *counts) : NULL;
    int *displs = root ? ard_calloc((size_t)size, sizeof *displs) : NULL;
    int ok = mine >= 0 && (!root || (counts && displs)), all_ok = 0;
    static int scratch[1];
    if (MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, cl->comm) != MPI_SUCCESS ||
        (all_ok && MPI_Gather(&mine, 1, MPI_INT, root ? counts : scratch, 1, MPI_INT, 0,
                              cl->comm) != MPI_SUCCESS)) {
        all_ok = 0;
    }
    int64_t total = 0;
    for (int32_t r = 0; all_ok && root && r < size; r++) {
        displs[r] = (int)total;
        total += counts[r];
    }
    int64_t *all = NULL;
    if (all_ok) {
        ok = !root ||
             (total <= INT32_MAX && (all = ard_malloc((size_t)total * sizeof *all + 8)) != NULL);
        if (MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, cl->comm) != MPI_SUCCESS) {
            all_ok = 0;
        }
    }
    if (all_ok && MPI_Gatherv(edges, mine, MPI_INT64_T, all, counts, displs, MPI_INT64_T, 0,
                              cl->comm) != MPI_SUCCESS) {
        all_ok = 0;
    }
    if (all_ok && root) {
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

/* Rank 0 sends the labels to every rank that asked (want[r]); those receive them. */
static ard_status share_labels(ard_cluster *cl, const int *want, int64_t n, int64_t *labels,
                               ard_error *err) {
    int ok = 1;
    for (int32_t r = 1; cl->rank == 0 && r < cl->size; r++) {
        for (int64_t at = 0; ok && want[r] && at < n; at += FOF_CHUNK * 16) {
            int c = (int)(n - at < FOF_CHUNK * 16 ? n - at : FOF_CHUNK * 16);
            ok = MPI_Send(labels + at, c, MPI_INT64_T, r, FOF_TAG_LABELS, cl->comm) == MPI_SUCCESS;
        }
    }
    for (int64_t at = 0; cl->rank != 0 && labels && ok && at < n; at += FOF_CHUNK * 16) {
        int c = (int)(n - at < FOF_CHUNK * 16 ? n - at : FOF_CHUNK * 16);
        ok = MPI_Recv(labels + at, c, MPI_INT64_T, 0, FOF_TAG_LABELS, cl->comm,
                      MPI_STATUS_IGNORE) == MPI_SUCCESS;
    }
    return ok ? ARD_OK : ard_error_set(err, ARD_EIO, "fof: sharing the labels failed (MPI)");
}

/* Rank 0: validates its input, chooses the slab axis and sorts the points along it. */
static ard_status prepare(const fof_input *in, keyed **sorted, double *ghost, ard_error *err) {
    if (in->n < 0 ||
        (in->n > 0 &&
         (in->mode == 0 ? !in->xyz : !in->unit || !in->dist || !in->ang || !in->los)) ||
        (in->mode == 0 && (!(in->link >= 0) || !isfinite(in->link)))) {
        return ard_error_set(err, ARD_EINVAL, "fof: bad arguments (n %lld, link %g)",
                             (long long)in->n, in->link);
    }
    double *keys = NULL;
    ard_status st = choose_axis(in, &keys, ghost, err);
    if (st == ARD_OK) {
        *sorted = ard_malloc((size_t)in->n * sizeof **sorted + 16);
        st = *sorted ? ARD_OK
                     : ard_error_set(err, ARD_ENOMEM, "fof: sorting %lld points", (long long)in->n);
    }
    if (st == ARD_OK) {
        for (int64_t i = 0; i < in->n; i++) {
            (*sorted)[i] = (keyed){keys[i], i};
        }
        qsort(*sorted, (size_t)in->n, sizeof **sorted, cmp_keyed);
    }
    ard_free(keys);
    return st;
}

/* Every rank's slab: rank 0 cuts and sends them (then frees the sort), the others receive. */
static ard_status distribute(ard_cluster *cl, const fof_input *in, keyed **sorted, double ghost,
                             int32_t mode, slab *sl, ard_error *err) {
    int64_t *idx = ard_malloc((size_t)FOF_CHUNK * sizeof *idx);
    double *rec = ard_malloc((size_t)FOF_CHUNK * 6 * sizeof *rec);
    ard_status st = idx && rec ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "fof: slab buffers");
    st = ard_cluster_agree(cl, st, err, NULL);
    if (st == ARD_OK && cl->rank == 0) {
        int64_t n = in->n, a, b, own;
        int ok = 1;
        for (int32_t r = 1; ok && r < cl->size; r++) {
            slab_range(*sorted, n, ghost, r, cl->size, &a, &b, &own);
            ok = send_slab(cl, in, *sorted, a, b, own, r, idx, rec);
        }
        slab_range(*sorted, n, ghost, 0, cl->size, &a, &b, &own);
        st = ok ? own_slab(in, *sorted, a, b, own, sl, err)
                : ard_error_set(err, ARD_EIO, "fof: sending the slabs failed (MPI)");
    } else if (st == ARD_OK) {
        st = recv_slab(cl, mode, sl, idx, rec, err);
    }
    ard_free(*sorted);
    *sorted = NULL;
    ard_free(idx);
    ard_free(rec);
    return st;
}

/* The collective linking: rank 0's input (in; NULL elsewhere), labels where non-NULL (rank 0's
 * required). */
static ard_status link_distributed(ard_cluster *cl, const fof_input *in, int32_t threads,
                                   int64_t *labels, ard_error *err) {
    keyed *sorted = NULL;
    double ghost = 0;
    ard_status st = ARD_OK;
    if (cl->rank == 0) {
        st = labels || in->n == 0 ? prepare(in, &sorted, &ghost, err)
                                  : ard_error_set(err, ARD_EINVAL, "fof: rank 0 needs labels");
    }
    st = ard_cluster_agree(cl, st, err, NULL);
    if (st != ARD_OK) {
        ard_free(sorted);
        return st;
    }
    /* {mode, n, link} from rank 0; who wants the labels, to rank 0 */
    double link = cl->rank == 0 ? in->link : 0.0;
    int64_t head[2] = {cl->rank == 0 ? in->mode : 0, cl->rank == 0 ? in->n : 0};
    int want = labels != NULL;
    int *wants = cl->rank == 0 ? ard_calloc((size_t)cl->size, sizeof *wants) : NULL;
    static int scratch[1];
    int mpi_ok = MPI_Bcast(head, 2, MPI_INT64_T, 0, cl->comm) == MPI_SUCCESS &&
                 MPI_Bcast(&link, 1, MPI_DOUBLE, 0, cl->comm) == MPI_SUCCESS &&
                 MPI_Gather(&want, 1, MPI_INT, wants ? wants : scratch, wants ? 1 : 0, MPI_INT, 0,
                            cl->comm) == MPI_SUCCESS;
    st = mpi_ok ? ARD_OK : ard_error_set(err, ARD_EIO, "fof: sharing the header failed (MPI)");
    st = cl->rank == 0 && !wants ? ard_error_set(err, ARD_ENOMEM, "out of memory") : st;
    st = ard_cluster_agree(cl, st, err, NULL);
    int32_t mode = (int32_t)head[0];
    int64_t n = head[1];
    slab sl;
    memset(&sl, 0, sizeof sl);
    if (st == ARD_OK) {
        st = distribute(cl, in, &sorted, ghost, mode, &sl, err);
    }
    ard_free(sorted);
    /* progress: the points each rank linked (its own, not its ghosts), summed on rank 0 */
    ard_cluster_progress *meter = NULL;
    ard_cluster_progress_new(cl, "fof", cl->rank == 0 ? n : 0, 1, &meter, NULL);
    int64_t *edges = NULL, num_edges = 0;
    if (st == ARD_OK) {
        st = link_slab(mode, link, threads, &sl, &edges, &num_edges, err);
        ard_cluster_progress_add(meter, st == ARD_OK ? sl.own : 0);
    }
    ard_cluster_progress_finish(meter);
    slab_reset(&sl);
    st = ard_cluster_agree(cl, st, err, NULL);
    if (st == ARD_OK) {
        st = merge(cl, edges, num_edges, n, labels, err);
    }
    ard_free(edges);
    if (st == ARD_OK) {
        st = share_labels(cl, wants, n, labels, err);
    }
    ard_free(wants);
    return st;
}

ard_status ard_cluster_fof_link_isotropic(ard_cluster *cluster, const double *xyz, int64_t n,
                                          double link, int32_t threads, int64_t *labels,
                                          ard_error *err) {
    if (!cluster) {
        return ard_error_set(err, ARD_EINVAL, "fof: NULL cluster");
    }
    fof_input in = {0, xyz, link, NULL, NULL, NULL, NULL, n, threads};
    return link_distributed(cluster, &in, threads, labels, err);
}

ard_status ard_cluster_fof_link_redshift(ard_cluster *cluster, const double *unit,
                                         const double *dist, const double *ang, const double *los,
                                         int64_t n, int32_t threads, int64_t *labels,
                                         ard_error *err) {
    if (!cluster) {
        return ard_error_set(err, ARD_EINVAL, "fof: NULL cluster");
    }
    fof_input in = {1, NULL, 0, unit, dist, ang, los, n, threads};
    return link_distributed(cluster, &in, threads, labels, err);
}

ard_status ard_cluster_fof_link_serve(ard_cluster *cluster, int32_t threads, ard_error *err) {
    if (!cluster) {
        return ard_error_set(err, ARD_EINVAL, "fof: NULL cluster");
    }
    if (cluster->rank == 0) {
        return ard_error_set(err, ARD_EINVAL, "fof: rank 0 holds the points (it cannot serve)");
    }
    fof_input none;
    memset(&none, 0, sizeof none);
    return link_distributed(cluster, &none, threads, NULL, err);
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
    return ard__cl_no_mpi("fof", NULL, err);
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
    return ard__cl_no_mpi("fof", NULL, err);
}

ard_status ard_cluster_fof_link_serve(ard_cluster *cluster, int32_t threads, ard_error *err) {
    (void)cluster;
    (void)threads;
    return ard__cl_no_mpi("fof", NULL, err);
}

#endif
