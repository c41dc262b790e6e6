/* The cosmic-web GraphSAGE model: parameters, the minibatch forward/backward pass (two mean-
 * aggregator layers on a sampled neighbourhood), full-neighbourhood inference, and the model file. */
#include "science_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CW_GEO_MAX 64
#define CW_FEATURE_NAMES "log10_d1,log10_d2,log10_d4,log10_d8,log10_d16,log10_dk,z,bgs,lrg,elg,qso"
enum { CW_INFER_CHUNK = 2048 };

void ard_cosmicweb_model_free(ard_cosmicweb_model *model) {
    if (model) {
        ard_nn_params_free(model->params);
        ard_free(model);
    }
}

/* The reach settings of a model (channels 0: none). */
typedef struct cw_reach_cfg {
    int32_t channels, bins, fanout, randoms;
    float radius;
    uint64_t seed;
} cw_reach_cfg;

/* Width of the first layer's input. */
static int64_t in1_width(const ard_cosmicweb_model *m) {
    return 2 * (int64_t)m->nf + 3 * m->geo + CW_REACH_OUT * m->reach;
}

static ard_status model_alloc(int32_t k, int32_t hidden, int32_t geo, int32_t latent,
                              const cw_reach_cfg *rc, ard_cosmicweb_model **out, ard_error *err) {
    *out = NULL;
    ard_cosmicweb_model *m = ard_calloc(1, sizeof *m);
    if (!m) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for a model");
    }
    m->k = k;
    m->hidden = hidden;
    m->geo = geo;
    m->latent = latent;
    m->nf = CW_NF(latent);
    m->reach = rc->channels;
    m->reach_bins = rc->channels > 0 ? rc->bins : 0;
    m->reach_fanout = rc->fanout;
    m->reach_randoms = rc->randoms;
    m->reach_mpc = rc->radius;
    m->reach_seed = rc->seed;
    int64_t nf = m->nf;
    ard_status st = ard_nn_params_new(&m->params, err);
    if (st == ARD_OK) {
        st = ard_nn_params_add(m->params, "sage1.weight", 2, (int64_t[]){hidden, in1_width(m)},
                               &m->w1, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_params_add(m->params, "sage1.bias", 1, (int64_t[]){hidden}, &m->b1, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_params_add(m->params, "sage2.weight", 2,
                               (int64_t[]){CW_C, 2 * hidden + 3 * geo}, &m->w2, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_params_add(m->params, "sage2.bias", 1, (int64_t[]){CW_C}, &m->b2, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_params_add(m->params, "features.mean", 1, (int64_t[]){nf}, &m->mean, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_params_add(m->params, "features.std", 1, (int64_t[]){nf}, &m->std, err);
    }
    if (st == ARD_OK && geo > 0) {
        st = ard_nn_params_add(m->params, "sage1.geo", 2, (int64_t[]){geo, nf + 2}, &m->p1, err);
    }
    if (st == ARD_OK && geo > 0) {
        st =
            ard_nn_params_add(m->params, "sage2.geo", 2, (int64_t[]){geo, hidden + 3}, &m->p2, err);
    }
    if (st == ARD_OK && m->reach > 0) {
        st = ard_nn_params_add(m->params, "sage1.reach", 2,
                               (int64_t[]){m->reach, 2 * m->reach_bins}, &m->pr, err);
    }
    if (st == ARD_OK && m->reach > 0) {
        st = ard_nn_params_add(m->params, "reach.scale", 1, (int64_t[]){2 * m->reach_bins},
                               &m->rscale, err);
    }
    if (st != ARD_OK) {
        ard_cosmicweb_model_free(m);
        return st;
    }
    ard_nn_fill(m->std, 1.0f);
    if (m->rscale) {
        ard_nn_fill(m->rscale, 1.0f);
    }
    *out = m;
    return ARD_OK;
}

ard_status ard__cw_model_new(int32_t k, int32_t hidden, int32_t geo, int32_t latent,
                             int32_t fanout1, int32_t fanout2, uint64_t seed,
                             const ard_cosmicweb_options *o, ard_cosmicweb_model **out,
                             ard_error *err) {
    cw_reach_cfg rc = {0, 0, 0, 0, 0.0f, 0};
    if (o && o->reach > 0) {
        rc = (cw_reach_cfg){o->reach,         o->reach_bins, o->reach_fanout,
                            o->reach_randoms, o->reach_mpc,  seed};
    }
    ard_status st = model_alloc(k, hidden, geo, latent, &rc, out, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_cosmicweb_model *m = *out;
    m->fanout1 = fanout1;
    m->fanout2 = fanout2;
    st = ard_nn_init_kaiming(m->w1, in1_width(m), ard_nn_seed_for(seed, "sage1.weight"), err);
    if (st == ARD_OK && m->reach > 0) {
        st = ard_nn_init_kaiming(m->pr, 2 * m->reach_bins, ard_nn_seed_for(seed, "sage1.reach"),
                                 err);
    }
    if (st == ARD_OK) {
        st = ard_nn_init_xavier(m->w2, 2 * hidden + 3 * geo, CW_C,
                                ard_nn_seed_for(seed, "sage2.weight"), err);
    }
    if (st == ARD_OK && geo > 0) {
        st = ard_nn_init_kaiming(m->p1, m->nf + 2, ard_nn_seed_for(seed, "sage1.geo"), err);
    }
    if (st == ARD_OK && geo > 0) {
        st = ard_nn_init_kaiming(m->p2, hidden + 2, ard_nn_seed_for(seed, "sage2.geo"), err);
    }
    for (int32_t g = 0; st == ARD_OK && g < geo; g++) {
        m->p2->value[g * (hidden + 3) + hidden + 2] =
            1.0f; /* the neighbours' tensors, as they are */
    }
    if (st != ARD_OK) {
        ard_cosmicweb_model_free(m);
        *out = NULL;
    }
    return st;
}

void ard__cw_normalise(const ard_cosmicweb_model *m, float *features, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < m->nf; j++) {
            float *v = &features[i * m->nf + j];
            *v = (*v - m->mean->value[j]) / m->std->value[j];
        }
    }
}

/* ---- workspace ---- */

static ard_status grow(float **bufs[], const int64_t *sizes, int count, ard_error *err) {
    int failed = 0;
    for (int i = 0; i < count; i++) {
        float *q = ard_realloc(*bufs[i], (size_t)(sizes[i] > 0 ? sizes[i] : 1) * sizeof(float));
        failed |= !q;
        *bufs[i] = q ? q : *bufs[i];
    }
    return failed ? ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for activations")
                  : ARD_OK;
}

/* Buffers for n1 first-hop rows and `rows` seeds of model m (a workspace serves one model). */
static ard_status work_reserve(cw_work *w, const ard_cosmicweb_model *m, int64_t n1, int64_t rows,
                               ard_error *err) {
    int64_t h = m->hidden, nf = m->nf, in1 = in1_width(m), in2 = 2 * h + 3 * m->geo;
    ard_status st = ARD_OK;
    if (n1 > w->cap1) {
        float **bufs[] = {&w->c1, &w->z1, &w->h1, &w->dh1, &w->agg, &w->dc1, &w->t1, &w->dt1};
        int64_t sizes[] = {
            n1 * in1, n1 * h,          n1 * h,         n1 * h, n1 * (h > nf ? h : nf),
            n1 * in1, n1 * 6 * m->geo, n1 * 6 * m->geo};
        st = grow(bufs, sizes, 8, err);
        if (st == ARD_OK) {
            double *v = ard_realloc(w->rvec, (size_t)(n1 * 9 * m->reach + 1) * sizeof *v);
            if (v) {
                w->rvec = v;
            } else {
                st = ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for activations");
            }
        }
        w->cap1 = st == ARD_OK ? n1 : 0;
    }
    if (st == ARD_OK && rows > w->cap2) {
        float **bufs[] = {&w->c2, &w->dc2, &w->logits, &w->dlogits, &w->t2};
        int64_t sizes[] = {rows * in2, rows * in2, rows * CW_C, rows * CW_C, rows * 6 * m->geo};
        st = grow(bufs, sizes, 5, err);
        w->cap2 = st == ARD_OK ? rows : 0;
    }
    return st;
}

void ard__cw_work_reset(cw_work *w) {
    float *bufs[] = {w->c1,      w->z1,  w->h1,  w->dh1, w->c2, w->dc2, w->logits,
                     w->dlogits, w->agg, w->dc1, w->t1,  w->t2, w->dt1};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        ard_free(bufs[i]);
    }
    ard_free(w->rvec);
    memset(w, 0, sizeof *w);
}

/* The layer input c[i] = [x[i] (dim), mean[i] (dim), geo(i) (3 G)] of `rows` destination nodes
 * whose neighbour lists are index[offsets[i] .. offsets[i + 1]) (geo tensors into t). */
static void layer_input(const ard_cosmicweb_model *m, const ard_nn_tensor *p, const float *x,
                        const float *tin, const float *mean, int64_t dim, const double *pos,
                        const int64_t *offsets, const int64_t *index, int64_t rows, float *c,
                        float *t, int64_t extra) {
    int64_t width = 2 * dim + 3 * m->geo + extra;
    for (int64_t i = 0; i < rows; i++) {
        float *row = c + i * width;
        memcpy(row, x + i * dim, (size_t)dim * sizeof *row);
        memcpy(row + dim, mean + i * dim, (size_t)dim * sizeof *row);
        if (m->geo > 0) {
            ard__cw_geo_forward(p->value, m->geo, dim, x, tin, pos, i, index + offsets[i],
                                (int32_t)(offsets[i + 1] - offsets[i]), t + i * 6 * m->geo,
                                row + 2 * dim);
        }
    }
}

/* tin / dtin: the layer-1 tensors and their gradient (layer 2); dt: this layer's tensors'
 * gradient from above (layer 1), NULL otherwise. */
static void geo_backward(const ard_cosmicweb_model *m, ard_nn_tensor *p, const float *x,
                         const float *tin, int64_t dim, const double *pos, const int64_t *offsets,
                         const int64_t *index, int64_t rows, const float *t, const float *dc,
                         const float *dt, float *dx, float *dtin, int64_t extra) {
    int64_t width = 2 * dim + 3 * m->geo + extra, tw = 6 * m->geo;
    for (int64_t i = 0; i < rows && m->geo > 0; i++) {
        ard__cw_geo_backward(p->value, m->geo, dim, x, tin, pos, i, index + offsets[i],
                             (int32_t)(offsets[i + 1] - offsets[i]), t + i * tw,
                             dc + i * width + 2 * dim, dt ? dt + i * tw : NULL, p->grad, dx, dtin);
    }
}

ard_status ard__cw_batch_grad(ard_cosmicweb_model *m, const cw_batch *b, float scale,
                              ard_pool *pool, cw_work *w, double *loss, ard_error *err) {
    int64_t n1 = b->n1, n0 = b->n0, s = b->seeds, h = m->hidden;
    int64_t nf = m->nf, in1 = in1_width(m), in2 = 2 * h + 3 * m->geo;
    int64_t rcol = 2 * nf + 3 * m->geo, rb = CW_RB(m->reach_bins);
    ard_status st = work_reserve(w, m, n1, s, err);
    if (st == ARD_OK && m->reach > 0 && !b->reach) {
        st = ard_error_set(err, ARD_EINVAL, "cosmicweb: a reach model without the reach basis");
    }
    /* layer 1 on the first-hop nodes */
    if (st == ARD_OK) {
        st = ard_nn_mean_gather(b->x, n0, nf, b->off1, b->idx1, n1, w->agg, err);
    }
    if (st == ARD_OK) {
        layer_input(m, m->p1, b->x, NULL, w->agg, nf, b->pos, b->off1, b->idx1, n1, w->c1, w->t1,
                    in1 - rcol);
        for (int64_t i = 0; i < n1 && m->reach > 0; i++) {
            ard__cw_reach_forward(m->pr->value, m->reach, m->reach_bins,
                                  b->reach + b->nodes[i] * rb, b->pos + 3 * i,
                                  w->c1 + i * in1 + rcol, w->rvec + i * 9 * m->reach);
        }
        st = ard_nn_dense_forward(pool, w->c1, n1, in1, m->w1->value, m->b1->value, h, w->z1, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_relu_forward(w->z1, n1 * h, w->h1, err);
    }
    /* layer 2 on the seeds */
    if (st == ARD_OK) {
        st = ard_nn_mean_gather(w->h1, n1, h, b->off2, b->idx2, s, w->agg, err);
    }
    if (st == ARD_OK) {
        layer_input(m, m->p2, w->h1, w->t1, w->agg, h, b->pos, b->off2, b->idx2, s, w->c2, w->t2,
                    0);
        st = ard_nn_dense_forward(pool, w->c2, s, in2, m->w2->value, m->b2->value, CW_C, w->logits,
                                  err);
    }
    if (st == ARD_OK) {
        st = ard_nn_softmax_xent(w->logits, s, CW_C, b->labels, b->weights, scale, loss, w->dlogits,
                                 NULL, err);
    }
    /* backward */
    if (st == ARD_OK) {
        st = ard_nn_dense_backward(pool, w->c2, s, in2, m->w2->value, CW_C, w->dlogits, w->dc2,
                                   m->w2->grad, m->b2->grad, err);
    }
    if (st == ARD_OK) {
        memset(w->dh1, 0, (size_t)(n1 * h) * sizeof *w->dh1);
        for (int64_t i = 0; i < s; i++) {
            memcpy(w->dh1 + i * h, w->dc2 + i * in2, (size_t)h * sizeof *w->dh1);
            memcpy(w->agg + i * h, w->dc2 + i * in2 + h, (size_t)h * sizeof *w->agg);
        }
        st = ard_nn_mean_scatter(w->agg, s, h, b->off2, b->idx2, n1, w->dh1, err);
    }
    if (st == ARD_OK) {
        memset(w->dt1, 0, (size_t)(n1 * 6 * m->geo) * sizeof *w->dt1);
        geo_backward(m, m->p2, w->h1, w->t1, h, b->pos, b->off2, b->idx2, s, w->t2, w->dc2, NULL,
                     w->dh1, w->dt1, 0);
        st = ard_nn_relu_backward(w->z1, w->dh1, n1 * h, w->dh1, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_dense_backward(pool, w->c1, n1, in1, m->w1->value, h, w->dh1,
                                   m->geo > 0 || m->reach > 0 ? w->dc1 : NULL, m->w1->grad,
                                   m->b1->grad, err);
    }
    if (st == ARD_OK) {
        geo_backward(m, m->p1, b->x, NULL, nf, b->pos, b->off1, b->idx1, n1, w->t1, w->dc1, w->dt1,
                     NULL, NULL, in1 - rcol);
        for (int64_t i = 0; i < n1 && m->reach > 0; i++) {
            ard__cw_reach_backward(m->reach, m->reach_bins, b->reach + b->nodes[i] * rb,
                                   b->pos + 3 * i, w->dc1 + i * in1 + rcol,
                                   w->rvec + i * 9 * m->reach, m->pr->grad);
        }
    }
    return st;
}

/* ---- full-neighbourhood inference ---- */

typedef struct infer_job {
    const ard_cosmicweb_model *m;
    const ard_nn_tensor *p; /* the layer's geo weights */
    const cw_graph *g;
    const float *x;   /* n x dim */
    const float *tin; /* layer 2: every node's layer-1 tensors (n x 6 geo); layer 1: NULL */
    float *tout;      /* layer 1: receives them; layer 2: NULL */
    int64_t dim, first, rows;
    float *c;   /* rows x (2 dim + 3 geo [+ 5 reach on layer 1]) */
    int layer1; /* 1: the first layer (its input has the reach invariants) */
} infer_job;

enum { CW_INFER_PART = 128 };

/* c[i] = [x[node], mean over the k graph neighbours of x, geo over them] for a part of the rows. */
static void infer_part(void *arg, int64_t part, int thread_id) {
    (void)thread_id;
    const infer_job *job = arg;
    const cw_graph *g = job->g;
    const ard_cosmicweb_model *m = job->m;
    int reach = job->layer1 && m->reach > 0;
    int64_t dim = job->dim, width = 2 * dim + 3 * m->geo + (reach ? CW_REACH_OUT * m->reach : 0);
    int64_t rb = CW_RB(m->reach_bins);
    int64_t a = part * CW_INFER_PART;
    int64_t end = a + CW_INFER_PART < job->rows ? a + CW_INFER_PART : job->rows;
    float inv = 1.0f / (float)g->k;
    int64_t nbr[256];
    float scratch[6 * 64];
    for (int64_t i = a; i < end; i++) {
        int64_t node = job->first + i;
        float *row = job->c + i * width, *mean = row + dim;
        memcpy(row, job->x + node * dim, (size_t)dim * sizeof *row);
        memset(mean, 0, (size_t)dim * sizeof *mean);
        for (int32_t j = 0; j < g->k; j++) {
            nbr[j] = g->nbr[node * g->k + j];
            const float *src = job->x + nbr[j] * dim;
            for (int64_t d = 0; d < dim; d++) {
                mean[d] += src[d];
            }
        }
        for (int64_t d = 0; d < dim; d++) {
            mean[d] *= inv;
        }
        if (job->m->geo > 0) {
            float *t = job->tout ? job->tout + node * 6 * job->m->geo : scratch;
            ard__cw_geo_forward(job->p->value, job->m->geo, dim, job->x, job->tin, g->xyz, node,
                                nbr, g->k, t, row + 2 * dim);
        }
        if (reach && g->reach_inv) { /* prediction: computed block by block beforehand */
            int64_t w = CW_REACH_OUT * (int64_t)m->reach;
            memcpy(row + 2 * dim + 3 * m->geo, g->reach_inv + node * w, (size_t)w * sizeof *row);
        } else if (reach) {
            ard__cw_reach_forward(m->pr->value, m->reach, m->reach_bins, g->reach + node * rb,
                                  g->xyz + 3 * node, row + 2 * dim + 3 * m->geo, NULL);
        }
    }
}

static void full_input(const ard_cosmicweb_model *m, const ard_nn_tensor *p, const cw_graph *g,
                       const float *x, const float *tin, float *tout, int64_t dim, int64_t first,
                       int64_t rows, ard_pool *pool, float *c, int layer1) {
    infer_job job = {m, p, g, x, tin, tout, dim, first, rows, c, layer1};
    int64_t parts = (rows + CW_INFER_PART - 1) / CW_INFER_PART;
    if (pool) {
        ard_pool_for(pool, parts, infer_part, &job);
    } else {
        for (int64_t i = 0; i < parts; i++) {
            infer_part(&job, i, 0);
        }
    }
}

static void softmax_rows(float *z, int64_t rows) {
    for (int64_t i = 0; i < rows; i++) {
        float *r = z + i * CW_C;
        double mx = r[0], sum = 0.0, e[CW_C];
        for (int c = 1; c < CW_C; c++) {
            mx = r[c] > mx ? r[c] : mx;
        }
        for (int c = 0; c < CW_C; c++) {
            e[c] = exp((double)r[c] - mx);
            sum += e[c];
        }
        for (int c = 0; c < CW_C; c++) {
            r[c] = (float)(e[c] / sum);
        }
    }
}

void ard__cw_share_bounds(int64_t n, int32_t size, int64_t *bounds) {
    int64_t chunks = (n + CW_INFER_CHUNK - 1) / CW_INFER_CHUNK;
    for (int32_t r = 0; r <= size; r++) {
        int64_t row = chunks * r / size * CW_INFER_CHUNK;
        bounds[r] = row < n ? row : n;
    }
}

/* The exchange of one per-row array (no-op without a share). */
static ard_status exchange(const ard_cosmicweb_share *share, ard_status st, void *rows,
                           int64_t row_bytes, const int64_t *bounds, ard_error *err) {
    return share ? share->exchange(share->ctx, st, rows, row_bytes, bounds, err) : st;
}

ard_status ard__cw_infer(const ard_cosmicweb_model *m, const cw_graph *g, const float *features,
                         ard_pool *pool, float *prob, ard_error *err) {
    int64_t bounds[2] = {0, g->n};
    return ard__cw_infer_share(m, g, features, pool, NULL, bounds, ARD_OK, prob, err);
}

ard_status ard__cw_infer_share(const ard_cosmicweb_model *m, const cw_graph *g,
                               const float *features, ard_pool *pool,
                               const ard_cosmicweb_share *share, const int64_t *bounds,
                               ard_status st, float *prob, ard_error *err) {
    int64_t n = g->n, h = m ? m->hidden : 1; /* no model: st failed, only the exchanges run */
    int64_t nf = m ? m->nf : CW_F;
    int64_t geo = m ? m->geo : 0;
    int64_t width = 2 * (h > nf ? h : nf) + 3 * geo + (m ? CW_REACH_OUT * m->reach : 0);
    if (st == ARD_OK && m && m->reach > 0 && !g->reach && !g->reach_inv) {
        st = ard_error_set(err, ARD_EINVAL, "cosmicweb: a reach model without the reach basis");
    }
    int32_t rank = share ? share->rank : 0;
    int64_t first = bounds[rank], end = bounds[rank + 1];
    float *h1 = ard_malloc((size_t)(n * h) * sizeof *h1);
    float *c = ard_malloc((size_t)CW_INFER_CHUNK * (size_t)width * sizeof *c);
    float *t1 = ard_malloc((size_t)(geo > 0 ? n * 6 * geo : 1) * sizeof *t1);
    if (st == ARD_OK && (!h1 || !c || !t1)) {
        st = ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for inference");
    }
    for (int64_t a = first; a < end && st == ARD_OK; a += CW_INFER_CHUNK) {
        int64_t rows = end - a < CW_INFER_CHUNK ? end - a : CW_INFER_CHUNK;
        full_input(m, m->p1, g, features, NULL, geo > 0 ? t1 : NULL, nf, a, rows, pool, c, 1);
        st = ard_nn_dense_forward(pool, c, rows, in1_width(m), m->w1->value, m->b1->value, h,
                                  h1 + a * h, err);
        if (st == ARD_OK) {
            st = ard_nn_relu_forward(h1 + a * h, rows * h, h1 + a * h, err);
        }
    }
    st = exchange(share, st, h1, h * (int64_t)sizeof *h1, bounds, err);
    /* always called (a process without a model has failed: the agreement ends the exchange) */
    st = exchange(share, st, geo > 0 ? t1 : NULL, 6 * geo * (int64_t)sizeof *t1, bounds, err);
    for (int64_t a = first; a < end && st == ARD_OK; a += CW_INFER_CHUNK) {
        int64_t rows = end - a < CW_INFER_CHUNK ? end - a : CW_INFER_CHUNK;
        full_input(m, m->p2, g, h1, geo > 0 ? t1 : NULL, NULL, h, a, rows, pool, c, 0);
        st = ard_nn_dense_forward(pool, c, rows, 2 * h + 3 * geo, m->w2->value, m->b2->value, CW_C,
                                  prob + a * CW_C, err);
        if (st == ARD_OK) {
            softmax_rows(prob + a * CW_C, rows);
        }
    }
    st = exchange(share, st, prob, CW_C * (int64_t)sizeof *prob, bounds, err);
    ard_free(h1);
    ard_free(c);
    ard_free(t1);
    return st;
}

/* ---- files ---- */

int32_t ard_cosmicweb_model_latent_dim(const ard_cosmicweb_model *model) {
    return model ? model->latent : 0;
}

/* The "features" metadata of a model with `latent` latents: the node features' names, then
 * latent_0..latent_S-1,has_latent. out holds at least 1024 bytes. */
static void feature_names(int32_t latent, char *out, size_t cap) {
    size_t at = (size_t)snprintf(out, cap, "%s", CW_FEATURE_NAMES);
    for (int32_t j = 0; j < latent && at < cap; j++) {
        at += (size_t)snprintf(out + at, cap - at, ",latent_%d", (int)j);
    }
    if (latent > 0 && at < cap) {
        snprintf(out + at, cap - at, ",has_latent");
    }
}

ard_status ard_cosmicweb_model_save(const ard_cosmicweb_model *model, const char *path,
                                    ard_error *err) {
    if (!model || !path) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: saving needs a model and a path");
    }
    char num[64], names[1024];
    feature_names(model->latent, names, sizeof names);
    ard_status st = ard_nn_params_set_meta(model->params, "ard.stage", "cosmicweb", err);
    if (st == ARD_OK) {
        st = ard_nn_params_set_meta(model->params, "features", names, err);
    }
    if (st == ARD_OK && model->latent > 0) {
        snprintf(num, sizeof num, "%d", (int)model->latent);
        st = ard_nn_params_set_meta(model->params, "latent", num, err);
    }
    if (st == ARD_OK) {
        snprintf(num, sizeof num, "%d", (int)model->k);
        st = ard_nn_params_set_meta(model->params, "k", num, err);
    }
    if (st == ARD_OK) {
        snprintf(num, sizeof num, "%d", (int)model->geo);
        st = ard_nn_params_set_meta(model->params, "geo", num, err);
    }
    if (st == ARD_OK) {
        snprintf(num, sizeof num, "%d,%d", (int)model->fanout1, (int)model->fanout2);
        st = ard_nn_params_set_meta(model->params, "fanout", num, err);
    }
    if (st == ARD_OK && model->reach > 0) {
        snprintf(num, sizeof num, "%d,%d,%.9g,%d,%d,%llu", (int)model->reach,
                 (int)model->reach_bins, (double)model->reach_mpc, (int)model->reach_fanout,
                 (int)model->reach_randoms, (unsigned long long)model->reach_seed);
        st = ard_nn_params_set_meta(model->params, "reach", num, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_save_safetensors(model->params, path, err);
    }
    return st;
}

static int parse_int(const char *s, int32_t lo, int32_t hi, int32_t *out) {
    if (!s) {
        return 0;
    }
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || (*end != '\0' && *end != ',') || v < lo || v > hi) {
        return 0;
    }
    *out = (int32_t)v;
    return 1;
}

/* The "reach" metadata "channels,bins,radius,fanout,randoms,seed" (absent: no reach). */
static int parse_reach(const char *s, cw_reach_cfg *rc) {
    memset(rc, 0, sizeof *rc);
    if (!s) {
        return 1;
    }
    char *end = NULL;
    long v[2];
    const char *at = s;
    for (int i = 0; i < 2; i++) {
        v[i] = strtol(at, &end, 10);
        if (end == at || *end != ',') {
            return 0;
        }
        at = end + 1;
    }
    double radius = strtod(at, &end);
    if (end == at || *end != ',') {
        return 0;
    }
    at = end + 1;
    long f = strtol(at, &end, 10);
    if (end == at || *end != ',') {
        return 0;
    }
    at = end + 1;
    long r = strtol(at, &end, 10);
    if (end == at || *end != ',') {
        return 0;
    }
    at = end + 1;
    unsigned long long seed = strtoull(at, &end, 10);
    if (end == at || *end != '\0') {
        return 0;
    }
    *rc = (cw_reach_cfg){(int32_t)v[0], (int32_t)v[1], (int32_t)f,
                         (int32_t)r,    (float)radius, (uint64_t)seed};
    return v[0] >= 1 && v[1] >= 1 && f >= 0 && r >= 1 && v[0] <= INT32_MAX && v[1] <= INT32_MAX &&
           f <= INT32_MAX && r <= INT32_MAX &&
           ard__cw_reach_check(rc->channels, rc->bins, rc->radius, rc->fanout, rc->randoms, NULL) ==
               ARD_OK;
}

/* Every weight finite and every feature scale > 0: a damaged file must not turn into NaN classes. */
static ard_status check_values(const ard_cosmicweb_model *m, const char *path, ard_error *err) {
    for (int64_t i = 0; i < ard_nn_params_count(m->params); i++) {
        const ard_nn_tensor *t = ard_nn_params_at(m->params, i);
        for (int64_t j = 0; j < t->count; j++) {
            if (!isfinite(t->value[j]) ||
                ((t == m->std || t == m->rscale) && !(t->value[j] > 0.0f))) {
                return ard_error_set(err, ARD_EINVAL, "%s: tensor '%s' element %lld is %g", path,
                                     t->name, (long long)j, (double)t->value[j]);
            }
        }
    }
    return ARD_OK;
}

ard_status ard_cosmicweb_model_load(const char *path, ard_cosmicweb_model **out, ard_error *err) {
    if (!out || !path) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: loading needs a path and out");
    }
    *out = NULL;
    ard_nn_params *file = NULL;
    ard_status st = ard_nn_load_safetensors(path, &file, err);
    if (st != ARD_OK) {
        return st;
    }
    const char *stage = ard_nn_params_get_meta(file, "ard.stage");
    const char *features = ard_nn_params_get_meta(file, "features");
    const ard_nn_tensor *b1 = ard_nn_params_find(file, "sage1.bias");
    const ard_nn_tensor *p1 = ard_nn_params_find(file, "sage1.geo"); /* absent: geo 0 */
    int32_t k = 0, f1 = 0, f2 = 0, latent = 0;
    const char *fan = ard_nn_params_get_meta(file, "fanout");
    const char *lat = ard_nn_params_get_meta(file, "latent");  /* absent: no latents */
    const char *reach = ard_nn_params_get_meta(file, "reach"); /* absent: no reach */
    cw_reach_cfg rc;
    char names[1024];
    int lat_ok = !lat || parse_int(lat, 1, ARD_COSMICWEB_LATENT_MAX, &latent);
    feature_names(latent, names, sizeof names);
    if (!stage || strcmp(stage, "cosmicweb") != 0) {
        st = ard_error_set(err, ARD_EINVAL, "%s: not a cosmicweb model (ard.stage is %s)", path,
                           stage ? stage : "missing");
    } else if (!lat_ok) {
        st = ard_error_set(err, ARD_EINVAL, "%s: cosmicweb model with a bad latent size '%s'", path,
                           lat);
    } else if (!features || strcmp(features, names) != 0) {
        st = ard_error_set(err, ARD_EINVAL,
                           "%s: a model for other features (%s; this ard computes %s)", path,
                           features ? features : "none recorded", names);
    } else if (!parse_int(ard_nn_params_get_meta(file, "k"), 16, 256, &k) || !b1 || b1->ndim != 1 ||
               b1->shape[0] < 1 || b1->shape[0] > 4096 || !fan || !parse_int(fan, 1, 256, &f1) ||
               !strchr(fan, ',') || !parse_int(strchr(fan, ',') + 1, 1, 256, &f2)) {
        st = ard_error_set(err, ARD_EINVAL,
                           "%s: cosmicweb model without valid k, fanout or "
                           "sage1.bias",
                           path);
    } else if (p1 && (p1->ndim != 2 || p1->shape[0] < 1 || p1->shape[0] > CW_GEO_MAX)) {
        st = ard_error_set(err, ARD_EINVAL, "%s: tensor sage1.geo has a bad shape", path);
    } else if (!parse_reach(reach, &rc)) {
        st = ard_error_set(err, ARD_EINVAL, "%s: cosmicweb model with bad reach settings '%s'",
                           path, reach);
    }
    ard_cosmicweb_model *m = NULL;
    if (st == ARD_OK) {
        st = model_alloc(k, (int32_t)b1->shape[0], p1 ? (int32_t)p1->shape[0] : 0, latent, &rc, &m,
                         err);
    }
    ard_nn_params_free(file);
    if (st == ARD_OK) {
        m->fanout1 = f1;
        m->fanout2 = f2;
        st = ard_nn_params_load_into(m->params, path, err);
    }
    if (st == ARD_OK) {
        st = check_values(m, path, err);
    }
    if (st != ARD_OK) {
        ard_cosmicweb_model_free(m);
        return st;
    }
    *out = m;
    return ARD_OK;
}
