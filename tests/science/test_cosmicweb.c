/* The cosmic-web GraphSAGE stage: k-NN queries against brute force, the graph, sampler fan-out and
 * uniformity, SAGE gradients against finite differences, gradient accumulation over m minibatches ==
 * one minibatch of m b seeds (with a short last one), determinism across thread counts, a learnable
 * synthetic web, the model file, the pixel split, and the rejected inputs. */
#include "cw_test_util.h"
#include "sci_test_util.h"
#include "sci_tests.h"

#include "ard/nn.h"
#include "ard/science.h"
#include "science_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SKIP_WITHOUT_BLAS()                                                                        \
    do {                                                                                           \
        if (!ard_nn_available()) {                                                                 \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- a synthetic web: knots (tight blobs), filaments (lines), sheets (planes), voids ---- */

typedef struct web {
    int64_t n;
    double *xyz, *z;
    int32_t *cls, *label, *split;
    int32_t latent_dim; /* web_add_latent */
    float *latent;
    uint8_t *has;
} web;

static void web_free(web *w) {
    free(w->xyz), free(w->z), free(w->cls), free(w->label), free(w->split);
    free(w->latent), free(w->has);
    memset(w, 0, sizeof *w);
}

/* "Spectra" that know the web class: latent j = [j == label mod dim] + noise(sigma) for 3 of 4
 * galaxies (has = 1); the 4th has none (has = 0, its row filled with garbage that must not be
 * read). */
static void web_add_latent(web *w, int32_t dim, double sigma, uint64_t seed) {
    test_rng r = {seed};
    w->latent_dim = dim;
    w->latent = malloc((size_t)w->n * (size_t)dim * sizeof *w->latent);
    w->has = malloc((size_t)w->n * sizeof *w->has);
    for (int64_t i = 0; i < w->n; i++) {
        w->has[i] = i % 4 != 3;
        for (int32_t j = 0; j < dim; j++) {
            w->latent[i * dim + j] =
                w->has[i] ? (float)((j == w->label[i] % dim) + sigma * test_rng_normal(&r)) : NAN;
        }
    }
}

static web make_web(uint64_t seed, int64_t n) {
    web w = {.n = n};
    w.xyz = malloc((size_t)n * 3 * sizeof *w.xyz);
    w.z = malloc((size_t)n * sizeof *w.z);
    w.cls = malloc((size_t)n * sizeof *w.cls);
    w.label = malloc((size_t)n * sizeof *w.label);
    w.split = malloc((size_t)n * sizeof *w.split);
    test_rng r = {seed};
    const double box = 150.0;
    double knots[12][3];
    for (int c = 0; c < 12; c++) {
        for (int d = 0; d < 3; d++) {
            knots[c][d] = box * test_rng_uniform(&r);
        }
    }
    for (int64_t i = 0; i < n; i++) {
        double *p = w.xyz + 3 * i, u = test_rng_uniform(&r);
        int label;
        if (u < 0.2) { /* knot: 1 Mpc blobs */
            int c = (int)(test_rng_next(&r) % 12);
            for (int d = 0; d < 3; d++) {
                p[d] = knots[c][d] + 1.0 * test_rng_normal(&r);
            }
            label = 3;
        } else if (u < 0.5) { /* filament: between two knots, 1.5 Mpc thick */
            int a = (int)(test_rng_next(&r) % 12), b = (a + 1) % 12;
            double t = test_rng_uniform(&r);
            for (int d = 0; d < 3; d++) {
                p[d] = knots[a][d] + t * (knots[b][d] - knots[a][d]) + 1.5 * test_rng_normal(&r);
            }
            label = 2;
        } else if (u < 0.8) { /* sheet: the planes z = 40 and z = 110, 2 Mpc thick */
            p[0] = box * test_rng_uniform(&r);
            p[1] = box * test_rng_uniform(&r);
            p[2] = (test_rng_uniform(&r) < 0.5 ? 40.0 : 110.0) + 2.0 * test_rng_normal(&r);
            label = 1;
        } else { /* void: uniform */
            for (int d = 0; d < 3; d++) {
                p[d] = box * test_rng_uniform(&r);
            }
            label = 0;
        }
        p[0] += 1000.0; /* a survey-like distance */
        w.z[i] = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]) / 4300.0;
        w.cls[i] = (int32_t)(test_rng_next(&r) % 4);
        w.label[i] = label;
        /* split by a coarse sky cell: 25 Mpc cells on (y, z) */
        int64_t pix = (int64_t)floor(p[1] / 25.0) * 100 + (int64_t)floor(p[2] / 25.0);
        assert_int_equal(ard_cosmicweb_split_by_pixel(&pix, 1, 0.2, 0.2, 3, &w.split[i], NULL),
                         ARD_OK);
    }
    return w;
}

static ard_cosmicweb_input web_input(const web *w) {
    ard_cosmicweb_input in = {w->n,     w->xyz,        w->z,      w->cls, w->label,
                              w->split, w->latent_dim, w->latent, w->has};
    return in;
}

/* ---- k-NN ---- */

static void test_knn_brute(void **state) {
    (void)state;
    double *xyz = test_points(21, 3000, 50.0, 0.5, 20, 1.0);
    /* a few exact duplicates and a grid of ties */
    memcpy(xyz + 3 * 10, xyz + 3 * 11, 3 * sizeof *xyz);
    for (int i = 0; i < 27; i++) {
        xyz[3 * (100 + i)] = 200.0 + i % 3;
        xyz[3 * (100 + i) + 1] = 200.0 + (i / 3) % 3;
        xyz[3 * (100 + i) + 2] = 200.0 + i / 9;
    }
    ard_kdtree *tree = NULL;
    assert_int_equal(ard_kdtree_build(xyz, 3000, 2, &tree, NULL), ARD_OK);
    int64_t idx[40], want[40];
    double dist[40];
    for (int64_t q = 0; q < 3000; q += 7) {
        int32_t count = 0;
        assert_int_equal(ard_kdtree_query_knn(tree, xyz + 3 * q, 40, idx, dist, &count, NULL),
                         ARD_OK);
        assert_int_equal(count, 40);
        /* brute force: selection of the 40 smallest (d2, index) */
        double *d2 = malloc(3000 * sizeof *d2);
        for (int64_t i = 0; i < 3000; i++) {
            double dx = xyz[3 * i] - xyz[3 * q], dy = xyz[3 * i + 1] - xyz[3 * q + 1],
                   dz = xyz[3 * i + 2] - xyz[3 * q + 2];
            d2[i] = dx * dx + dy * dy + dz * dz;
        }
        for (int j = 0; j < 40; j++) {
            int64_t best = -1;
            for (int64_t i = 0; i < 3000; i++) {
                int used = 0;
                for (int t = 0; t < j; t++) {
                    used |= want[t] == i;
                }
                if (!used && (best < 0 || d2[i] < d2[best])) {
                    best = i;
                }
            }
            want[j] = best;
        }
        for (int j = 0; j < 40; j++) {
            if (idx[j] != want[j]) {
                fail_msg("query %lld rank %d: %lld, brute force %lld", (long long)q, j,
                         (long long)idx[j], (long long)want[j]);
            }
            assert_true(fabs(dist[j] - sqrt(d2[want[j]])) < 1e-12);
        }
        free(d2);
    }
    int32_t count = 0;
    assert_int_equal(ard_kdtree_query_knn(tree, xyz, -1, idx, dist, &count, NULL), ARD_EINVAL);
    ard_kdtree_free(tree);
    free(xyz);
}

/* ---- sampler ---- */

static void test_sampler(void **state) {
    (void)state;
    web w = make_web(5, 600);
    cw_graph g;
    assert_int_equal(ard__cw_graph_build(w.xyz, w.n, 32, NULL, &g, NULL), ARD_OK);
    for (int64_t i = 0; i < w.n; i++) {
        for (int32_t j = 0; j < 32; j++) {
            assert_int_not_equal(g.nbr[i * 32 + j], i);
            assert_true(j == 0 || g.dist[i * 32 + j] >= g.dist[i * 32 + j - 1]);
        }
    }
    /* fan-out 25 of 32: 25 distinct members of the neighbour list; the same draw again */
    int64_t a[256], b[256];
    int64_t counts[32] = {0};
    const int64_t draws = 4000;
    for (int64_t e = 0; e < draws; e++) {
        int32_t got = ard__cw_sample_neighbors(&g, 9, e, 1, 17, 25, a);
        assert_int_equal(got, 25);
        assert_int_equal(ard__cw_sample_neighbors(&g, 9, e, 1, 17, 25, b), 25);
        assert_memory_equal(a, b, 25 * sizeof *a);
        for (int32_t j = 0; j < 25; j++) {
            int pos = -1;
            for (int t = 0; t < 32; t++) {
                pos = g.nbr[17 * 32 + t] == a[j] ? t : pos;
            }
            assert_true(pos >= 0);
            counts[pos]++;
            for (int32_t t = 0; t < j; t++) {
                assert_int_not_equal(a[t], a[j]);
            }
        }
    }
    /* uniform: each neighbour is drawn with probability 25/32; binomial sd = sqrt(n p (1-p)) */
    double p = 25.0 / 32.0, mean = (double)draws * p, sd = sqrt((double)draws * p * (1 - p));
    for (int t = 0; t < 32; t++) {
        if (fabs((double)counts[t] - mean) > 5 * sd) {
            fail_msg("neighbour %d drawn %lld times (expected %.0f +- %.0f)", t,
                     (long long)counts[t], mean, sd);
        }
    }
    /* other hop, other node, other seed: other draws; fan-out >= k: the whole list */
    ard__cw_sample_neighbors(&g, 9, 0, 2, 17, 25, b);
    ard__cw_sample_neighbors(&g, 9, 0, 1, 17, 25, a);
    assert_memory_not_equal(a, b, 25 * sizeof *a);
    assert_int_equal(ard__cw_sample_neighbors(&g, 9, 0, 1, 17, 40, a), 32);
    for (int t = 0; t < 32; t++) {
        assert_int_equal(a[t], g.nbr[17 * 32 + t]);
    }
    /* a minibatch: seeds first, lists within range, sizes bounded by the fan-outs */
    float *features = NULL;
    ard_cosmicweb_input in = web_input(&w);
    assert_int_equal(ard__cw_features(&g, &in, &features, NULL), ARD_OK);
    float cw[4] = {1, 1, 1, 1};
    cw_sampler s = {.g = &g,
                    .features = features,
                    .nf = CW_F,
                    .labels = w.label,
                    .class_weight = cw,
                    .fanout1 = 25,
                    .fanout2 = 10,
                    .seed = 9};
    cw_batch batch;
    memset(&batch, 0, sizeof batch);
    int64_t seeds[64];
    for (int i = 0; i < 64; i++) {
        seeds[i] = i * 9;
    }
    assert_int_equal(ard__cw_sample_batch(&s, 0, seeds, 64, &batch, NULL), ARD_OK);
    assert_int_equal(batch.seeds, 64);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(batch.nodes[i], seeds[i]);
        assert_int_equal(batch.off2[i + 1] - batch.off2[i], 25);
    }
    assert_true(batch.n1 <= 64 * 26 && batch.n0 <= batch.n1 * 11);
    for (int64_t i = 0; i < batch.n1; i++) {
        assert_int_equal(batch.off1[i + 1] - batch.off1[i], 10);
    }
    for (int64_t j = 0; j < batch.off2[64]; j++) {
        assert_true(batch.idx2[j] >= 0 && batch.idx2[j] < batch.n1);
    }
    for (int64_t j = 0; j < batch.off1[batch.n1]; j++) {
        assert_true(batch.idx1[j] >= 0 && batch.idx1[j] < batch.n0);
    }
    ard__cw_batch_reset(&batch);
    free(features);
    ard__cw_graph_reset(&g);
    web_free(&w);
}

/* ---- SAGE gradients and accumulation ---- */

typedef struct sage_fixture {
    web w;
    cw_graph g;
    float *features;
    float class_weight[4];
    cw_sampler s;
    ard_cosmicweb_model *m;
} sage_fixture;

/* latent > 0: the anomaly latents as node features too (web_add_latent). */
static void fixture_open(sage_fixture *f, int64_t n, int32_t hidden, int32_t geo, int32_t latent) {
    memset(f, 0, sizeof *f);
    f->w = make_web(31, n);
    if (latent > 0) {
        web_add_latent(&f->w, latent, 0.5, 8);
    }
    ard_cosmicweb_input in = web_input(&f->w);
    int32_t nf = CW_NF(latent);
    assert_int_equal(ard__cw_graph_build(f->w.xyz, n, 16, NULL, &f->g, NULL), ARD_OK);
    assert_int_equal(ard__cw_features(&f->g, &in, &f->features, NULL), ARD_OK);
    assert_int_equal(ard__cw_model_new(16, hidden, geo, latent, 5, 3, 4, NULL, &f->m, NULL),
                     ARD_OK);
    assert_int_equal(f->m->nf, nf);
    cwt_prepare(f->m, &f->g, f->features, n, nf, f->w.label, f->class_weight, &f->s);
}

static void fixture_close(sage_fixture *f) {
    ard_cosmicweb_model_free(f->m);
    free(f->features);
    ard__cw_graph_reset(&f->g);
    web_free(&f->w);
}

static void check_sage_gradients(int32_t geo, int32_t latent) {
    sage_fixture f;
    fixture_open(&f, 400, 6, geo, latent);
    cw_batch b;
    memset(&b, 0, sizeof b);
    cw_work work;
    memset(&work, 0, sizeof work);
    cwt_kinkless_batch(&f.s, f.m, 400, 6, &b, &work);
    ard_nn_tensor *ts[6] = {f.m->w1, f.m->b1, f.m->w2, f.m->b2, f.m->p1, f.m->p2};
    cwt_check_gradients(f.m, &b, &work, ts, geo > 0 ? 6 : 4);
    ard__cw_batch_reset(&b);
    ard__cw_work_reset(&work);
    fixture_close(&f);
}

/* Gradients of every parameter, the geometric aggregators' weights included (geo 3), and of the
 * plain mean-aggregator model (geo 0), against central finite differences. */
static void test_sage_gradients(void **state) {
    (void)state;
    SKIP_WITHOUT_BLAS();
    check_sage_gradients(3, 0);
    check_sage_gradients(0, 0);
    check_sage_gradients(3, 4); /* with anomaly latents as node features */
}

/* The geometric aggregator with w = 1 (p = [0, ..., 0, 0, 1]) on neighbour sets of known shape:
 * a line (3 e e^T - I = diag(2, -1, -1): tr T^2 = 6, tr T^3 = 6), a ring in a plane (diag(1/2, 1/2,
 * -1): 1.5 and -0.75) and the six axis directions (T = 0); l^T T l with the line of sight along x. */
static void test_geo_shapes(void **state) {
    (void)state;
    enum { D = 2 };
    double pos[16 * 3];
    float h[16 * D] = {0}, p[2 * (D + 2)] = {0}, t[2 * 6], out[2 * 3];
    p[D + 1] = 1.0f;                          /* channel 0: w = 1 */
    p[(D + 2) + D + 1] = 2.0f;                /* channel 1: w = 2 */
    const double self[3] = {100.0, 0.0, 0.0}; /* line of sight = x */
    int64_t nbr[15];
    for (int i = 0; i < 16; i++) {
        memcpy(pos + 3 * i, self, sizeof self);
    }
    /* a line along x: 4 neighbours at +-1, +-3 */
    const double line[4] = {1, -1, 3, -3};
    for (int i = 0; i < 4; i++) {
        pos[3 * (i + 1)] += line[i];
        nbr[i] = i + 1;
    }
    ard__cw_geo_forward(p, 2, D, h, NULL, pos, 0, nbr, 4, t, out);
    assert_float_equal(t[0], 2.0, 1e-6);
    assert_float_equal(t[1], -1.0, 1e-6);
    assert_float_equal(out[0], log1p(6.0), 1e-5);
    assert_float_equal(out[1], asinh(6.0), 1e-5);
    assert_float_equal(out[2], 2.0, 1e-6);
    assert_float_equal(out[3], log1p(24.0), 1e-5); /* w = 2: T doubles */
    assert_float_equal(out[4], asinh(48.0), 1e-5);
    assert_float_equal(out[5], 4.0, 1e-6);
    /* a ring of 8 in the x-y plane */
    for (int i = 0; i < 8; i++) {
        double a = 2.0 * M_PI * i / 8.0;
        double *q = pos + 3 * (i + 1);
        q[0] = self[0] + 5.0 * cos(a), q[1] = 5.0 * sin(a), q[2] = 0.0;
        nbr[i] = i + 1;
    }
    ard__cw_geo_forward(p, 2, D, h, NULL, pos, 0, nbr, 8, t, out);
    assert_float_equal(out[0], log1p(1.5), 1e-5);
    assert_float_equal(out[1], asinh(-0.75), 1e-5);
    assert_float_equal(out[2], 0.5, 1e-6);
    /* isotropic: the six axis directions */
    for (int i = 0; i < 6; i++) {
        double *q = pos + 3 * (i + 1);
        memcpy(q, self, sizeof self);
        q[i / 2] += i % 2 ? -2.0 : 2.0;
    }
    ard__cw_geo_forward(p, 2, D, h, NULL, pos, 0, nbr, 6, t, out);
    for (int i = 0; i < 6; i++) {
        assert_float_equal(out[i], 0.0, 1e-6);
    }
    /* layer 2: no edge weight (w = 0), the neighbours' own tensors with weight 1 (one channel):
     * a line tensor and a zero one average to half the line */
    float p2[D + 3] = {0}, tin[7 * 6] = {0};
    p2[D + 2] = 1.0f;
    tin[1 * 6 + 0] = 2.0f, tin[1 * 6 + 1] = -1.0f, tin[1 * 6 + 2] = -1.0f;
    ard__cw_geo_forward(p2, 1, D, h, tin, pos, 0, nbr, 2, t, out);
    assert_float_equal(t[0], 1.0, 1e-6);
    assert_float_equal(out[0], log1p(1.5), 1e-5);
    assert_float_equal(out[1], asinh(0.75), 1e-5);
    assert_float_equal(out[2], 1.0, 1e-6);
}

/* Gradients of all seeds at once vs the same seeds cut into minibatches of `per` (the last one
 * short), each scaled by 1 / (total weight). */
static void check_accumulation(int32_t latent) {
    sage_fixture f;
    fixture_open(&f, 800, 8, 3, latent);
    const int32_t total = 29, per = 8; /* 8 + 8 + 8 + 5 */
    int64_t seeds[29];
    double weight = 0.0;
    for (int i = 0; i < total; i++) {
        seeds[i] = (i * 97 + 13) % 800;
        weight += f.class_weight[f.w.label[seeds[i]]];
    }
    float scale = (float)(1.0 / weight);
    cw_batch b;
    memset(&b, 0, sizeof b);
    cw_work work;
    memset(&work, 0, sizeof work);
    double norm = 0.0, l;
    float *one = cwt_check_accumulation(f.m, &f.s, seeds, total, per, scale, &b, &work, &norm);
    /* the pitfall: averaging per minibatch (scale 1 / minibatch weight) and then over minibatches
     * weighs the short last batch's seeds more; that differs */
    ard_nn_params_zero_grad(f.m->params);
    for (int32_t first = 0; first < total; first += per) {
        int32_t count = total - first < per ? total - first : per;
        double wb = 0.0;
        for (int32_t i = 0; i < count; i++) {
            wb += f.class_weight[f.w.label[seeds[first + i]]];
        }
        assert_int_equal(ard__cw_sample_batch(&f.s, 1, seeds + first, count, &b, NULL), ARD_OK);
        assert_int_equal(
            ard__cw_batch_grad(f.m, &b, (float)(1.0 / wb / 4.0), NULL, &work, &l, NULL), ARD_OK);
    }
    double maxdiff = 0.0;
    for (int64_t i = 0, at = 0; i < ard_nn_params_count(f.m->params); i++) {
        ard_nn_tensor *t = ard_nn_params_at(f.m->params, i);
        for (int64_t j = 0; j < t->count; j++) {
            maxdiff = fmax(maxdiff, fabs(t->grad[j] - one[at + j]));
        }
        at += t->count;
    }
    assert_true(maxdiff > 1e-3 * norm);
    free(one);
    ard__cw_batch_reset(&b);
    ard__cw_work_reset(&work);
    fixture_close(&f);
}

static void test_accumulation(void **state) {
    (void)state;
    SKIP_WITHOUT_BLAS();
    check_accumulation(0);
    check_accumulation(3); /* with anomaly latents as node features */
}

/* ---- training end to end ---- */

static ard_cosmicweb_options small_options(int32_t threads) {
    ard_cosmicweb_options o;
    ard_cosmicweb_options_init(&o);
    o.k = 16;
    o.fanout1 = 10;
    o.fanout2 = 5;
    o.hidden = 32;
    o.batch = 64;
    o.accum = 4;
    o.epochs = 4;
    o.lr = 1e-2f;
    o.seed = 5;
    o.threads = threads;
    o.queue = 4;
    o.geo = 4;   /* the geometric aggregator too (the default is 0) */
    o.reach = 0; /* the reach aggregator (the default) has its own tests: test_cosmicweb_reach.c */
    return o;
}

static void test_train_deterministic_and_learns(void **state) {
    (void)state;
    SKIP_WITHOUT_BLAS();
    web w = make_web(77, 5000);
    ard_cosmicweb_input in = web_input(&w);
    ard_cosmicweb_model *m1 = NULL, *m2 = NULL;
    ard_cosmicweb_report r1, r2;
    ard_cosmicweb_options o1 = small_options(1), o2 = small_options(2);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o1, &m1, &r1, &err), ARD_OK);
    assert_int_equal(ard_cosmicweb_train(&in, &o2, &m2, &r2, &err), ARD_OK);
    for (int64_t i = 0; i < ard_nn_params_count(m1->params); i++) {
        ard_nn_tensor *a = ard_nn_params_at(m1->params, i), *b = ard_nn_params_at(m2->params, i);
        assert_memory_equal(a->value, b->value, (size_t)a->count * sizeof(float));
    }
    int64_t batches = (r1.train_nodes + 63) / 64;
    assert_int_equal(r1.steps, 4 * ((batches + 3) / 4));
    assert_true(r1.val_nodes > 0 && r1.test_nodes > 0);
    print_message("cosmicweb synthetic web: train %lld val %lld test %lld, loss %.3f, balanced "
                  "accuracy val %.3f test %.3f, %.0f nodes/s\n",
                  (long long)r1.train_nodes, (long long)r1.val_nodes, (long long)r1.test_nodes,
                  r1.final_loss, r1.val_balanced_accuracy, r1.test_balanced_accuracy,
                  r1.train_nodes_per_s);
    assert_true(r1.test_balanced_accuracy > 0.6); /* chance is 0.25 */
    /* predictions: the same at 1 and 2 threads, and from the saved-and-loaded model */
    int32_t *c1 = malloc((size_t)w.n * sizeof *c1), *c2 = malloc((size_t)w.n * sizeof *c2);
    float *p1 = malloc((size_t)w.n * 4 * sizeof *p1), *p2 = malloc((size_t)w.n * 4 * sizeof *p2);
    assert_int_equal(ard_cosmicweb_predict(m1, &in, 1, c1, p1, NULL), ARD_OK);
    assert_int_equal(ard_cosmicweb_predict(m1, &in, 2, c2, p2, NULL), ARD_OK);
    assert_memory_equal(p1, p2, (size_t)w.n * 4 * sizeof *p1);
    char path[] = "/tmp/ard_cw_model_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ard_cosmicweb_model_save(m1, path, &err), ARD_OK);
    ard_cosmicweb_model *m3 = NULL;
    assert_int_equal(ard_cosmicweb_model_load(path, &m3, &err), ARD_OK);
    assert_int_equal(ard_cosmicweb_predict(m3, &in, 2, c2, p2, NULL), ARD_OK);
    assert_memory_equal(p1, p2, (size_t)w.n * 4 * sizeof *p1);
    assert_memory_equal(c1, c2, (size_t)w.n * sizeof *c1);
    for (int64_t i = 0; i < w.n; i++) {
        double s = p1[4 * i] + p1[4 * i + 1] + p1[4 * i + 2] + p1[4 * i + 3];
        assert_true(fabs(s - 1.0) < 1e-5);
    }
    /* a model for other features */
    ard_nn_params_set_meta(m3->params, "features", "log10_d1,z", NULL);
    assert_int_equal(ard_nn_save_safetensors(m3->params, path, NULL), ARD_OK);
    ard_cosmicweb_model *m4 = NULL;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_model_load(path, &m4, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "other features"));
    assert_non_null(strstr(err.msg, path));
    assert_null(m4);
    /* a safetensors file that is not a cosmicweb model */
    ard_nn_params_set_meta(m3->params, "ard.stage", "anomaly", NULL);
    assert_int_equal(ard_nn_save_safetensors(m3->params, path, NULL), ARD_OK);
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_model_load(path, &m4, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "not a cosmicweb model"));
    unlink(path);
    free(c1), free(c2), free(p1), free(p2);
    ard_cosmicweb_model_free(m1);
    ard_cosmicweb_model_free(m2);
    ard_cosmicweb_model_free(m3);
    web_free(&w);
}

static void test_bad_input(void **state) {
    (void)state;
    SKIP_WITHOUT_BLAS();
    web w = make_web(3, 300);
    ard_cosmicweb_input in = web_input(&w);
    ard_cosmicweb_options o = small_options(1);
    o.epochs = 1;
    ard_cosmicweb_model *m = NULL;
    ard_error err;
    /* no truth */
    in.label = NULL;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "no truth"));
    for (int64_t i = 0; i < w.n; i++) {
        w.label[i] = -1;
    }
    in.label = w.label;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "no truth"));
    assert_null(m);
    /* a bad label, a bad split */
    w.label[7] = 4;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "galaxy 7"));
    w.label[7] = 0;
    w.split[9] = 3;
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, NULL), ARD_EINVAL);
    w.split[9] = 0;
    /* empty selection */
    in.n = 0;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "empty selection"));
    ard_cosmicweb_model *model = NULL;
    /* both architectures round-trip through a file: geo 0 (the earlier model files) and geo 4 */
    char path[] = "/tmp/ard_cw_geo_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int32_t geo = 0; geo <= 4; geo += 4) {
        ard_cosmicweb_model *saved = NULL, *loaded = NULL;
        assert_int_equal(ard__cw_model_new(16, 8, geo, 0, 5, 3, 1, NULL, &saved, NULL), ARD_OK);
        assert_int_equal(ard_cosmicweb_model_save(saved, path, NULL), ARD_OK);
        assert_int_equal(ard_cosmicweb_model_load(path, &loaded, NULL), ARD_OK);
        assert_int_equal(loaded->geo, geo);
        assert_true((loaded->p1 != NULL) == (geo > 0) && (loaded->p2 != NULL) == (geo > 0));
        assert_int_equal(loaded->w1->shape[1], 2 * CW_F + 3 * geo);
        ard_cosmicweb_model_free(saved);
        ard_cosmicweb_model_free(loaded);
    }
    unlink(path);
    assert_int_equal(ard__cw_model_new(16, 8, 4, 0, 5, 3, 1, NULL, &model, NULL), ARD_OK);
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_predict(model, &in, 1, NULL, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "empty selection"));
    /* fewer galaxies than k + 1 */
    in.n = 10;
    assert_int_equal(ard_cosmicweb_predict(model, &in, 1, NULL, NULL, NULL), ARD_EINVAL);
    /* a NaN coordinate */
    in.n = w.n;
    w.xyz[3 * 5 + 1] = NAN;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_predict(model, &in, 1, NULL, NULL, &err), ARD_EINVAL);
    /* options */
    o.k = 8;
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, NULL), ARD_EINVAL);
    o = small_options(1);
    o.geo = 65;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "geo 0..64"));
    ard_cosmicweb_model_free(model);
    web_free(&w);
}

/* ---- the anomaly latents as node features ---- */

/* The feature rows carry the latents after the 11 node features, then the has-latent flag; a
 * galaxy without a latent gets zeros and flag 0 (its NaN row is never read). */
static void test_latent_features(void **state) {
    (void)state;
    web w = make_web(41, 600);
    web_add_latent(&w, 5, 0.3, 2);
    ard_cosmicweb_input in = web_input(&w);
    cw_graph g;
    assert_int_equal(ard__cw_graph_build(w.xyz, w.n, 16, NULL, &g, NULL), ARD_OK);
    float *plain = NULL, *f = NULL;
    assert_int_equal(ard__cw_features(&g, &in, &f, NULL), ARD_OK);
    in.latent_dim = 0;
    assert_int_equal(ard__cw_features(&g, &in, &plain, NULL), ARD_OK);
    int32_t nf = CW_NF(5);
    assert_int_equal(nf, CW_F + 6);
    for (int64_t i = 0; i < w.n; i++) {
        assert_memory_equal(f + i * nf, plain + i * CW_F, CW_F * sizeof *f);
        for (int32_t j = 0; j < 5; j++) {
            assert_true(f[i * nf + CW_F + j] == (w.has[i] ? w.latent[i * 5 + j] : 0.0f));
        }
        assert_true(f[i * nf + CW_F + 5] == (w.has[i] ? 1.0f : 0.0f));
    }
    /* has_latent NULL: every galaxy has one */
    for (int64_t i = 0; i < w.n * 5; i++) {
        w.latent[i] = isfinite(w.latent[i]) ? w.latent[i] : 7.0f;
    }
    free(f);
    in = web_input(&w);
    in.has_latent = NULL;
    assert_int_equal(ard__cw_features(&g, &in, &f, NULL), ARD_OK);
    assert_true(f[3 * nf + CW_F] == 7.0f && f[3 * nf + CW_F + 5] == 1.0f);
    free(f);
    free(plain);
    ard__cw_graph_reset(&g);
    web_free(&w);
}

/* Labels that only the latents know (positions uniform, classes drawn independently of them): a
 * model trained with the latents learns them, one trained without cannot; the same at 1 and 2
 * threads; the model file records the latents and predict refuses an input without them. */
static void test_latent_learns(void **state) {
    (void)state;
    SKIP_WITHOUT_BLAS();
    web w = make_web(55, 3000);
    test_rng r = {99};
    for (int64_t i = 0; i < w.n; i++) {
        w.label[i] = (int32_t)(test_rng_next(&r) % 4);
    }
    web_add_latent(&w, 4, 0.3, 17);
    ard_cosmicweb_input in = web_input(&w);
    ard_cosmicweb_options o = small_options(1);
    o.geo = 0;
    o.epochs = 3;
    ard_cosmicweb_model *with = NULL, *with2 = NULL, *without = NULL;
    ard_cosmicweb_report rw, rn;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &with, &rw, &err), ARD_OK);
    assert_int_equal(ard_cosmicweb_model_latent_dim(with), 4);
    assert_int_equal(with->w1->shape[1], 2 * (CW_F + 5));
    o.threads = 2;
    assert_int_equal(ard_cosmicweb_train(&in, &o, &with2, NULL, &err), ARD_OK);
    for (int64_t i = 0; i < ard_nn_params_count(with->params); i++) {
        ard_nn_tensor *a = ard_nn_params_at(with->params, i),
                      *b = ard_nn_params_at(with2->params, i);
        assert_memory_equal(a->value, b->value, (size_t)a->count * sizeof(float));
    }
    ard_cosmicweb_input plain = in;
    plain.latent_dim = 0;
    plain.latent = NULL;
    plain.has_latent = NULL;
    assert_int_equal(ard_cosmicweb_train(&plain, &o, &without, &rn, &err), ARD_OK);
    print_message("cosmicweb latent-only labels: balanced accuracy with latents %.3f (baseline "
                  "%.3f), without %.3f (baseline %.3f)\n",
                  rw.test_balanced_accuracy, rw.baseline_test_balanced_accuracy,
                  rn.test_balanced_accuracy, rn.baseline_test_balanced_accuracy);
    /* 3 of 4 galaxies carry a clean latent: ~0.75 + 0.25 / 4 reachable; chance 0.25 */
    assert_true(rw.test_balanced_accuracy > 0.6);
    assert_true(rw.baseline_test_balanced_accuracy > 0.6);
    assert_true(rn.test_balanced_accuracy < 0.4);
    /* the file keeps the latents; predict needs them, of the same size */
    char path[] = "/tmp/ard_cw_latent_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ard_cosmicweb_model_save(with, path, &err), ARD_OK);
    ard_cosmicweb_model *loaded = NULL;
    assert_int_equal(ard_cosmicweb_model_load(path, &loaded, &err), ARD_OK);
    assert_int_equal(ard_cosmicweb_model_latent_dim(loaded), 4);
    const char *names = ard_nn_params_get_meta(loaded->params, "features");
    assert_non_null(strstr(names, ",latent_0,latent_1,latent_2,latent_3,has_latent"));
    float *p1 = malloc((size_t)w.n * 4 * sizeof *p1), *p2 = malloc((size_t)w.n * 4 * sizeof *p2);
    assert_int_equal(ard_cosmicweb_predict(with, &in, 1, NULL, p1, &err), ARD_OK);
    assert_int_equal(ard_cosmicweb_predict(loaded, &in, 2, NULL, p2, &err), ARD_OK);
    assert_memory_equal(p1, p2, (size_t)w.n * 4 * sizeof *p1);
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_predict(loaded, &plain, 1, NULL, p2, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "trained with 4 anomaly latents"));
    ard_cosmicweb_input other = in;
    other.latent_dim = 3;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_predict(loaded, &other, 1, NULL, p2, &err), ARD_EINVAL);
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_predict(without, &in, 1, NULL, p2, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "without anomaly latents"));
    /* a file whose latent size disagrees with its feature list */
    ard_nn_params_set_meta(loaded->params, "latent", "3", NULL);
    assert_int_equal(ard_nn_save_safetensors(loaded->params, path, NULL), ARD_OK);
    ard_cosmicweb_model *bad = NULL;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_model_load(path, &bad, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "other features"));
    assert_null(bad);
    unlink(path);
    free(p1), free(p2);
    ard_cosmicweb_model_free(with);
    ard_cosmicweb_model_free(with2);
    ard_cosmicweb_model_free(without);
    ard_cosmicweb_model_free(loaded);
    web_free(&w);
}

/* Rejected latent inputs: a size out of range, no array, a non-finite latent of a galaxy that has
 * one (one that has none may hold anything). */
static void test_latent_bad_input(void **state) {
    (void)state;
    SKIP_WITHOUT_BLAS();
    web w = make_web(5, 300);
    web_add_latent(&w, 2, 0.3, 1);
    ard_cosmicweb_input in = web_input(&w);
    ard_cosmicweb_options o = small_options(1);
    o.epochs = 0;
    ard_cosmicweb_model *m = NULL;
    ard_error err;
    in.latent_dim = ARD_COSMICWEB_LATENT_MAX + 1;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "latent_dim"));
    in = web_input(&w);
    in.latent = NULL;
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, NULL), ARD_EINVAL);
    in = web_input(&w);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, NULL), ARD_OK); /* NaN rows: has 0 */
    ard_cosmicweb_model_free(m);
    m = NULL;
    w.latent[2 * 5 + 1] = INFINITY; /* galaxy 5 has a latent */
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "galaxy 5: non-finite latent 1"));
    assert_null(m);
    web_free(&w);
}

static void test_split_by_pixel(void **state) {
    (void)state;
    const int64_t n = 20000;
    int64_t *pix = malloc((size_t)n * sizeof *pix);
    int32_t *split = malloc((size_t)n * sizeof *split);
    for (int64_t i = 0; i < n; i++) {
        pix[i] = (i * 7919) % 2000; /* 2000 pixels of 10 galaxies */
    }
    assert_int_equal(ard_cosmicweb_split_by_pixel(pix, n, 0.1, 0.2, 4, split, NULL), ARD_OK);
    int32_t first[2000];
    int64_t per[3] = {0};
    for (int64_t i = 0; i < 2000; i++) {
        first[i] = -1;
    }
    for (int64_t i = 0; i < n; i++) {
        if (first[pix[i]] < 0) {
            first[pix[i]] = split[i];
            per[split[i]]++;
        }
        assert_int_equal(split[i], first[pix[i]]); /* a pixel never straddles splits */
    }
    /* binomial over 2000 pixels: 200 +- 13 validation, 400 +- 18 test */
    assert_true(per[1] > 140 && per[1] < 260);
    assert_true(per[2] > 310 && per[2] < 490);
    assert_int_equal(ard_cosmicweb_split_by_pixel(pix, n, 0.6, 0.6, 4, split, NULL), ARD_EINVAL);
    free(pix), free(split);
}

/* The density-only baseline: on features where the class is the band of feature 0 (plus noise in
 * the others) it recovers the bands, gives rows that sum to 1, and is the same twice. */
static void test_baseline_learns_bands(void **state) {
    (void)state;
    enum { N = 4000 };
    float *f = calloc((size_t)N * CW_F, sizeof *f);
    float *p = calloc((size_t)N * CW_C, sizeof *p), *q = calloc((size_t)N * CW_C, sizeof *q);
    int32_t *label = calloc(N, sizeof *label);
    int64_t *train = calloc(N, sizeof *train);
    assert_non_null(f);
    assert_non_null(p);
    assert_non_null(q);
    assert_non_null(label);
    assert_non_null(train);
    uint64_t x = 12345;
    for (int64_t i = 0; i < N; i++) {
        double v = -2.0 + 4.0 * (double)i / N;
        label[i] = v < -1.0 ? 0 : v < 0.0 ? 1 : v < 1.0 ? 2 : 3;
        f[i * CW_F] = (float)v;
        for (int j = 1; j < CW_F; j++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            f[i * CW_F + j] = (float)((double)(x >> 11) * 0x1.0p-53 - 0.5);
        }
        train[i] = i;
    }
    const float weight[CW_C] = {1.0f, 1.0f, 1.0f, 1.0f};
    ard__cw_baseline(f, CW_F, N, train, N / 2 * 2, label, weight, p);
    ard__cw_baseline(f, CW_F, N, train, N / 2 * 2, label, weight, q);
    assert_memory_equal(p, q, (size_t)N * CW_C * sizeof *p);
    int64_t right = 0;
    for (int64_t i = 0; i < N; i++) {
        int best = 0;
        double sum = 0.0;
        for (int c = 0; c < CW_C; c++) {
            best = p[i * CW_C + c] > p[i * CW_C + best] ? c : best;
            sum += p[i * CW_C + c];
        }
        assert_true(fabs(sum - 1.0) < 1e-5);
        right += best == label[i];
    }
    /* bands are linearly separable in a softmax of feature 0: only the borders are missed */
    assert_true((double)right > (double)N * 0.9);
    free(f);
    free(p);
    free(q);
    free(label);
    free(train);
}

int sci_run_cosmicweb_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_knn_brute),
        cmocka_unit_test(test_sampler),
        cmocka_unit_test(test_sage_gradients),
        cmocka_unit_test(test_geo_shapes),
        cmocka_unit_test(test_accumulation),
        cmocka_unit_test(test_train_deterministic_and_learns),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_split_by_pixel),
        cmocka_unit_test(test_baseline_learns_bands),
        cmocka_unit_test(test_latent_features),
        cmocka_unit_test(test_latent_learns),
        cmocka_unit_test(test_latent_bad_input),
    };
    return cmocka_run_group_tests_name("cosmicweb", tests, NULL, NULL);
}
