/* The cosmic-web graph: k nearest neighbours of every galaxy on the KD-tree (built and queried in
 * parallel, memory n k (4 + 4) bytes), the node features, and the seeded neighbour sampler. */
#include "science_int.h"

#include <math.h>
#include <string.h>

enum { CW_GRAPH_CHUNK = 4096 };

typedef struct graph_job {
    const sci_tree *tree;
    const double *xyz;
    cw_graph *g;
    sci_knn_hit *hits; /* per thread: k + 1 slots */
    int32_t slots;
    int64_t first, end; /* the rows to find neighbours for */
} graph_job;

static void graph_chunk(void *arg, int64_t chunk, int thread_id) {
    graph_job *job = arg;
    cw_graph *g = job->g;
    sci_knn_hit *hits = job->hits + (int64_t)thread_id * job->slots;
    int64_t at = job->first + chunk * CW_GRAPH_CHUNK;
    int64_t end = at + CW_GRAPH_CHUNK < job->end ? at + CW_GRAPH_CHUNK : job->end;
    for (int64_t i = at; i < end; i++) {
        int32_t found = ard__tree_knn(job->tree, job->xyz + 3 * i, g->k + 1, hits);
        int32_t out = 0;
        for (int32_t j = 0; j < found && out < g->k; j++) {
            if (hits[j].idx == i) {
                continue; /* itself (a duplicate position may come first: it stays a neighbour) */
            }
            g->nbr[i * g->k + out] = (int32_t)hits[j].idx;
            g->dist[i * g->k + out] = (float)sqrt(hits[j].d2);
            out++;
        }
    }
}

ard_status ard__cw_graph_build(const double *xyz, int64_t n, int32_t k, ard_pool *pool, cw_graph *g,
                               ard_error *err) {
    return ard__cw_graph_build_rows(xyz, n, k, 0, n, pool, g, err);
}

ard_status ard__cw_graph_build_rows(const double *xyz, int64_t n, int32_t k, int64_t first,
                                    int64_t end, ard_pool *pool, cw_graph *g, ard_error *err) {
    memset(g, 0, sizeof *g);
    if (n >= INT32_MAX) {
        return ard_error_set(err, ARD_ELIMIT, "cosmicweb: %lld galaxies (at most 2^31 - 2)",
                             (long long)n);
    }
    if (k < 1 || n <= k) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: %lld galaxies for a %d-neighbour graph (need more than k)",
                             (long long)n, (int)k);
    }
    ard_status st = ard__check_finite(xyz, n, 3, "coordinate", err);
    if (st != ARD_OK) {
        return st;
    }
    double *pts = ard_malloc((size_t)n * 4 * sizeof *pts);
    int32_t threads = pool ? ard_pool_threads(pool) : 1;
    sci_knn_hit *hits = ard_malloc((size_t)threads * (size_t)(k + 1) * sizeof *hits);
    g->nbr = ard_malloc((size_t)n * (size_t)k * sizeof *g->nbr);
    g->dist = ard_malloc((size_t)n * (size_t)k * sizeof *g->dist);
    if (!pts || !hits || !g->nbr || !g->dist) {
        ard_free(pts);
        ard_free(hits);
        ard__cw_graph_reset(g);
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for the graph of %lld",
                             (long long)n);
    }
    g->n = n;
    g->k = k;
    g->xyz = xyz;
    for (int64_t i = 0; i < n; i++) {
        memcpy(pts + 4 * i, xyz + 3 * i, 3 * sizeof *pts);
        pts[4 * i + 3] = 0.0;
    }
    static const double scale[4] = {1.0, 1.0, 1.0, 0.0};
    sci_tree tree;
    st = ard__tree_build(&tree, pts, n, 3, scale, pool, err);
    if (st == ARD_OK) {
        graph_job job = {&tree, xyz, g, hits, k + 1, first, end};
        int64_t chunks = (end - first + CW_GRAPH_CHUNK - 1) / CW_GRAPH_CHUNK;
        if (pool) {
            ard_pool_for(pool, chunks, graph_chunk, &job);
        } else {
            for (int64_t c = 0; c < chunks; c++) {
                graph_chunk(&job, c, 0);
            }
        }
    }
    ard__tree_reset(&tree);
    ard_free(hits);
    if (st != ARD_OK) {
        ard__cw_graph_reset(g);
    }
    return st;
}

void ard__cw_graph_reset(cw_graph *g) {
    ard_free(g->nbr);
    ard_free(g->dist);
    memset(g, 0, sizeof *g);
}

ard_status ard__cw_features(const cw_graph *g, const ard_cosmicweb_input *in, float **out,
                            ard_error *err) {
    *out = NULL;
    if (g->k < 16) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: k = %d (the features need k >= 16)",
                             (int)g->k);
    }
    int32_t s = in->latent_dim, nf = CW_NF(s);
    float *f = ard_malloc((size_t)g->n * (size_t)nf * sizeof *f);
    if (!f) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for features");
    }
    const int32_t ranks[6] = {1, 2, 4, 8, 16, g->k};
    for (int64_t i = 0; i < g->n; i++) {
        float *row = f + i * nf;
        for (int r = 0; r < 6; r++) {
            double d = g->dist[i * g->k + ranks[r] - 1];
            row[r] = (float)log10(d > 1e-3 ? d : 1e-3); /* duplicates: 1 kpc floor */
        }
        row[6] = (float)in->z[i];
        for (int c = 0; c < 4; c++) {
            row[7 + c] = in->target_class && in->target_class[i] == c ? 1.0f : 0.0f;
        }
        if (s > 0) { /* the spectrum's latent and the has-latent flag (zeros without one) */
            int has = !in->has_latent || in->has_latent[i];
            for (int32_t j = 0; j < s; j++) {
                row[CW_F + j] = has ? in->latent[i * s + j] : 0.0f;
            }
            row[CW_F + s] = has ? 1.0f : 0.0f;
        }
    }
    *out = f;
    return ARD_OK;
}

int32_t ard__cw_sample_neighbors(const cw_graph *g, uint64_t seed, int64_t epoch, int32_t hop,
                                 int64_t node, int32_t fanout, int64_t *out) {
    const int32_t *nbr = g->nbr + node * g->k;
    if (g->k <= fanout) {
        for (int32_t j = 0; j < g->k; j++) {
            out[j] = nbr[j];
        }
        return g->k;
    }
    /* partial Fisher-Yates over positions 0..k-1: the first `fanout` of a uniform permutation */
    int32_t pos[256];
    int32_t k = g->k < 256 ? g->k : 256;
    for (int32_t j = 0; j < k; j++) {
        pos[j] = j;
    }
    sci_rng r;
    uint64_t key = ard__sci_mix64(ard__sci_mix64(seed) ^ (uint64_t)epoch);
    key = ard__sci_mix64(key ^ ((uint64_t)hop << 56) ^ (uint64_t)node);
    ard__sci_rng_seed(&r, key);
    for (int32_t j = 0; j < fanout; j++) {
        int32_t pick = j + (int32_t)ard__sci_rng_below(&r, (uint64_t)(k - j));
        int32_t tmp = pos[j];
        pos[j] = pos[pick];
        pos[pick] = tmp;
        out[j] = nbr[pos[j]];
    }
    return fanout;
}
