/* The nn layer: finite-difference gradient checks of every layer and loss, Adam against a step
 * computed by hand, deterministic initialisation, bit-identical results at 1 and 2 BLAS threads, and
 * the rejected inputs with their exact status. */
#include "sci_test_util.h"
#include "sci_tests.h"

#include "ard/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* |a - b| <= tol in double (cmocka's assert_float_equal works in float). */
#define assert_near(a, b, tol) near_check((double)(a), (double)(b), (tol), #a, __LINE__)
static void near_check(double a, double b, double tol, const char *what, int line) {
    if (!(fabs(a - b) <= tol)) {
        fail_msg("line %d: %s = %.9g, want %.9g (tolerance %g)", line, what, a, b, tol);
    }
}

#define NN_SKIP_WITHOUT_BLAS()                                                                     \
    do {                                                                                           \
        if (!ard_nn_available()) {                                                                 \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static float *rand_floats(test_rng *r, int64_t n, double lo, double hi) {
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        v[i] = (float)(lo + (hi - lo) * test_rng_uniform(r));
    }
    return v;
}

/* Values in [-hi, -lo] U [lo, hi]: away from the kinks of ReLU / PReLU. */
static float *rand_away_from_zero(test_rng *r, int64_t n, double lo, double hi) {
    float *v = rand_floats(r, n, lo, hi);
    for (int64_t i = 0; i < n; i++) {
        if (test_rng_uniform(r) < 0.5) {
            v[i] = -v[i];
        }
    }
    return v;
}

static double dot(const float *a, const float *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        s += (double)a[i] * b[i];
    }
    return s;
}

typedef double (*objective_fn)(void *ctx);

/* Central differences of f over every element of param against `analytic`. */
static void check_grad(const char *what, float *param, const float *analytic, int64_t count,
                       objective_fn f, void *ctx, double h, double tol) {
    for (int64_t i = 0; i < count; i++) {
        float saved = param[i];
        float up = (float)(saved + h), down = (float)(saved - h);
        param[i] = up;
        double lp = f(ctx);
        param[i] = down;
        double lm = f(ctx);
        param[i] = saved;
        double numeric = (lp - lm) / ((double)up - (double)down);
        double diff = fabs(numeric - analytic[i]);
        if (diff > tol * (1.0 + fabs(numeric))) {
            fail_msg("%s[%lld]: analytic %.7g, finite difference %.7g", what, (long long)i,
                     (double)analytic[i], numeric);
        }
    }
}

/* ---- dense ---- */

typedef struct dense_ctx {
    float *x, *w, *b, *r, *y;
    int64_t n, in, out;
} dense_ctx;

static double dense_obj(void *p) {
    dense_ctx *c = p;
    assert_int_equal(ard_nn_dense_forward(NULL, c->x, c->n, c->in, c->w, c->b, c->out, c->y, NULL),
                     ARD_OK);
    return dot(c->y, c->r, c->n * c->out);
}

static void test_dense_grad(void **state) {
    (void)state;
    NN_SKIP_WITHOUT_BLAS();
    test_rng rng = {101};
    dense_ctx c = {.n = 5, .in = 7, .out = 4};
    c.x = rand_floats(&rng, c.n * c.in, -1, 1);
    c.w = rand_floats(&rng, c.out * c.in, -1, 1);
    c.b = rand_floats(&rng, c.out, -1, 1);
    c.r = rand_floats(&rng, c.n * c.out, -1, 1);
    c.y = calloc((size_t)(c.n * c.out), sizeof(float));
    float *dx = calloc((size_t)(c.n * c.in), sizeof(float));
    float *dw = calloc((size_t)(c.out * c.in), sizeof(float));
    float *db = calloc((size_t)c.out, sizeof(float));
    /* forward against a plain triple loop */
    dense_obj(&c);
    for (int64_t i = 0; i < c.n; i++) {
        for (int64_t o = 0; o < c.out; o++) {
            double s = c.b[o];
            for (int64_t k = 0; k < c.in; k++) {
                s += (double)c.x[i * c.in + k] * c.w[o * c.in + k];
            }
            assert_near(c.y[i * c.out + o], s, 1e-5);
        }
    }
    /* backward twice: parameter gradients accumulate, dx is overwritten */
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(
            ard_nn_dense_backward(NULL, c.x, c.n, c.in, c.w, c.out, c.r, dx, dw, db, NULL), ARD_OK);
    }
    for (int64_t i = 0; i < c.out * c.in; i++) {
        dw[i] *= 0.5f;
    }
    for (int64_t i = 0; i < c.out; i++) {
        db[i] *= 0.5f;
    }
    check_grad("dense dx", c.x, dx, c.n * c.in, dense_obj, &c, 1e-2, 2e-3);
    check_grad("dense dW", c.w, dw, c.out * c.in, dense_obj, &c, 1e-2, 2e-3);
    check_grad("dense db", c.b, db, c.out, dense_obj, &c, 1e-2, 2e-3);
    free(c.x), free(c.w), free(c.b), free(c.r), free(c.y), free(dx), free(dw), free(db);
}

/* ---- activations ---- */

typedef struct act_ctx {
    int kind; /* 0 relu, 1 gelu, 2 prelu */
    float *x, *a, *r, *y;
    int64_t n, c, slopes;
} act_ctx;

static double act_obj(void *p) {
    act_ctx *c = p;
    int64_t count = c->n * c->c;
    ard_status st = c->kind == 0 ? ard_nn_relu_forward(c->x, count, c->y, NULL)
                    : c->kind == 1
                        ? ard_nn_gelu_forward(c->x, count, c->y, NULL)
                        : ard_nn_prelu_forward(c->x, c->n, c->c, c->a, c->slopes, c->y, NULL);
    assert_int_equal(st, ARD_OK);
    return dot(c->y, c->r, count);
}

static void check_activation(int kind, int64_t slopes) {
    test_rng rng = {(uint64_t)(200 + kind * 10 + slopes)};
    act_ctx c = {.kind = kind, .n = 6, .c = 5, .slopes = slopes};
    int64_t count = c.n * c.c;
    c.x = rand_away_from_zero(&rng, count, 0.05, 3.0);
    c.a = rand_floats(&rng, 5, 0.05, 0.4);
    c.r = rand_floats(&rng, count, -1, 1);
    c.y = calloc((size_t)count, sizeof(float));
    float *dx = calloc((size_t)count, sizeof(float));
    float da[5] = {0};
    ard_status st = kind == 0 ? ard_nn_relu_backward(c.x, c.r, count, dx, NULL)
                    : kind == 1
                        ? ard_nn_gelu_backward(c.x, c.r, count, dx, NULL)
                        : ard_nn_prelu_backward(c.x, c.r, c.n, c.c, c.a, slopes, dx, da, NULL);
    assert_int_equal(st, ARD_OK);
    const char *names[] = {"relu dx", "gelu dx", "prelu dx"};
    check_grad(names[kind], c.x, dx, count, act_obj, &c, 1e-3, 2e-3);
    if (kind == 2) {
        check_grad("prelu da", c.a, da, slopes, act_obj, &c, 1e-3, 2e-3);
    }
    free(c.x), free(c.a), free(c.r), free(c.y), free(dx);
}

static void test_activation_grads(void **state) {
    (void)state;
    NN_SKIP_WITHOUT_BLAS();
    check_activation(0, 1);
    check_activation(1, 1);
    check_activation(2, 5);
    check_activation(2, 1);
    /* GELU values: torch.nn.functional.gelu(x, approximate="tanh") */
    const float x[3] = {-1.0f, 0.5f, 2.0f};
    const float want[3] = {-0.158808f, 0.345714f, 1.954598f};
    float y[3];
    assert_int_equal(ard_nn_gelu_forward(x, 3, y, NULL), ARD_OK);
    for (int i = 0; i < 3; i++) {
        assert_near(y[i], want[i], 1e-5);
    }
    ard_error err;
    ard_error_init(&err);
    float a[2] = {0.1f, 0.2f};
    assert_int_equal(ard_nn_prelu_forward(x, 1, 3, a, 2, y, &err), ARD_EINVAL);
}

/* ---- layer norm ---- */

typedef struct ln_ctx {
    float *x, *g, *b, *r, *y, *mean, *rstd;
    int64_t n, c;
} ln_ctx;

static double ln_obj(void *p) {
    ln_ctx *c = p;
    assert_int_equal(
        ard_nn_layernorm_forward(c->x, c->n, c->c, c->g, c->b, 1e-5f, c->y, c->mean, c->rstd, NULL),
        ARD_OK);
    return dot(c->y, c->r, c->n * c->c);
}

static void test_layernorm_grad(void **state) {
    (void)state;
    NN_SKIP_WITHOUT_BLAS();
    test_rng rng = {301};
    ln_ctx c = {.n = 4, .c = 9};
    int64_t count = c.n * c.c;
    c.x = rand_floats(&rng, count, -2, 2);
    c.g = rand_floats(&rng, c.c, 0.5, 1.5);
    c.b = rand_floats(&rng, c.c, -0.5, 0.5);
    c.r = rand_floats(&rng, count, -1, 1);
    c.y = calloc((size_t)count, sizeof(float));
    c.mean = calloc((size_t)c.n, sizeof(float));
    c.rstd = calloc((size_t)c.n, sizeof(float));
    ln_obj(&c);
    /* each output row has mean beta-ish: check normalisation with gamma 1, beta 0 directly */
    for (int64_t i = 0; i < c.n; i++) {
        double s = 0.0, s2 = 0.0;
        for (int64_t j = 0; j < c.c; j++) {
            double xh = (c.y[i * c.c + j] - c.b[j]) / c.g[j];
            s += xh;
            s2 += xh * xh;
        }
        assert_near(s / (double)c.c, 0.0, 1e-5);
        assert_near(s2 / (double)c.c, 1.0, 1e-3);
    }
    float *dx = calloc((size_t)count, sizeof(float));
    float *dg = calloc((size_t)c.c, sizeof(float));
    float *db = calloc((size_t)c.c, sizeof(float));
    assert_int_equal(
        ard_nn_layernorm_backward(c.x, c.r, c.n, c.c, c.g, c.mean, c.rstd, dx, dg, db, NULL),
        ARD_OK);
    check_grad("layernorm dx", c.x, dx, count, ln_obj, &c, 1e-2, 3e-3);
    check_grad("layernorm dgamma", c.g, dg, c.c, ln_obj, &c, 1e-2, 2e-3);
    check_grad("layernorm dbeta", c.b, db, c.c, ln_obj, &c, 1e-2, 2e-3);
    assert_int_equal(
        ard_nn_layernorm_forward(c.x, c.n, c.c, c.g, c.b, 0.0f, c.y, c.mean, c.rstd, NULL),
        ARD_EINVAL);
    free(c.x), free(c.g), free(c.b), free(c.r), free(c.y), free(c.mean), free(c.rstd);
    free(dx), free(dg), free(db);
}

/* ---- mean aggregation ---- */

typedef struct agg_ctx {
    float *x, *r, *out;
    const int64_t *offsets, *index;
    int64_t x_rows, dim, rows;
} agg_ctx;

static double agg_obj(void *p) {
    agg_ctx *c = p;
    assert_int_equal(
        ard_nn_mean_gather(c->x, c->x_rows, c->dim, c->offsets, c->index, c->rows, c->out, NULL),
        ARD_OK);
    return dot(c->out, c->r, c->rows * c->dim);
}

static void test_mean_aggregation(void **state) {
    (void)state;
    NN_SKIP_WITHOUT_BLAS();
    test_rng rng = {401};
    /* row 0: 3 neighbours, row 1: none, row 2: one node twice, row 3: one */
    static const int64_t offsets[] = {0, 3, 3, 5, 6};
    static const int64_t index[] = {0, 4, 2, 1, 1, 5};
    agg_ctx c = {.offsets = offsets, .index = index, .x_rows = 6, .dim = 3, .rows = 4};
    c.x = rand_floats(&rng, 18, -1, 1);
    c.r = rand_floats(&rng, 12, -1, 1);
    c.out = calloc(12, sizeof(float));
    agg_obj(&c);
    for (int d = 0; d < 3; d++) {
        assert_near(c.out[d], (c.x[d] + c.x[12 + d] + c.x[6 + d]) / 3.0, 1e-6);
        assert_near(c.out[3 + d], 0.0, 0.0);
        assert_near(c.out[6 + d], c.x[3 + d], 1e-6);
    }
    float *dx = calloc(18, sizeof(float));
    assert_int_equal(ard_nn_mean_scatter(c.r, 4, 3, offsets, index, 6, dx, NULL), ARD_OK);
    check_grad("mean aggregation dx", c.x, dx, 18, agg_obj, &c, 1e-2, 1e-3);
    for (int d = 0; d < 3; d++) {
        assert_near(dx[9 + d], 0.0, 0.0); /* node 3 is nobody's neighbour */
    }
    ard_error err;
    ard_error_init(&err);
    static const int64_t bad_index[] = {0, 6, 2, 1, 1, 5};
    assert_int_equal(ard_nn_mean_gather(c.x, 6, 3, offsets, bad_index, 4, c.out, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "row 0"));
    static const int64_t bad_offsets[] = {0, 3, 2, 5, 6};
    assert_int_equal(ard_nn_mean_scatter(c.r, 4, 3, bad_offsets, index, 6, dx, NULL), ARD_EINVAL);
    free(c.x), free(c.r), free(c.out), free(dx);
}

/* ---- losses ---- */

typedef struct xent_ctx {
    float *logits, *w;
    int32_t *labels;
    int64_t n, k;
    float scale;
} xent_ctx;

static double xent_obj(void *p) {
    xent_ctx *c = p;
    double loss = 0.0;
    assert_int_equal(ard_nn_softmax_xent(c->logits, c->n, c->k, c->labels, c->w, c->scale, &loss,
                                         NULL, NULL, NULL),
                     ARD_OK);
    return loss;
}

static void test_softmax_xent(void **state) {
    (void)state;
    NN_SKIP_WITHOUT_BLAS();
    /* by hand: logits (0, ln 3) label 1 -> p = (1/4, 3/4), loss -ln(3/4); weight 2, scale 0.5 */
    float logits1[2] = {0.0f, (float)log(3.0)}, w1 = 2.0f, d1[2], p1[2];
    int32_t label1 = 1;
    double loss = 0.0;
    assert_int_equal(ard_nn_softmax_xent(logits1, 1, 2, &label1, &w1, 0.5f, &loss, d1, p1, NULL),
                     ARD_OK);
    assert_near(loss, -log(0.75), 1e-6);
    assert_near(p1[0], 0.25, 1e-6);
    assert_near(d1[0], 0.25, 1e-6);  /* 0.5 * 2 * (1/4 - 0) */
    assert_near(d1[1], -0.25, 1e-6); /* 0.5 * 2 * (3/4 - 1) */

    test_rng rng = {501};
    xent_ctx c = {.n = 7, .k = 4, .scale = 1.0f / 9.0f};
    c.logits = rand_floats(&rng, c.n * c.k, -3, 3);
    c.w = rand_floats(&rng, c.n, 0.2, 2.0);
    c.w[3] = 0.0f;
    c.labels = malloc((size_t)c.n * sizeof *c.labels);
    for (int64_t i = 0; i < c.n; i++) {
        c.labels[i] = (int32_t)(test_rng_next(&rng) % 4);
    }
    float *dl = calloc((size_t)(c.n * c.k), sizeof(float));
    assert_int_equal(
        ard_nn_softmax_xent(c.logits, c.n, c.k, c.labels, c.w, c.scale, &loss, dl, NULL, NULL),
        ARD_OK);
    check_grad("xent dlogits", c.logits, dl, c.n * c.k, xent_obj, &c, 1e-2, 2e-3);
    for (int64_t k = 0; k < c.k; k++) {
        assert_near(dl[3 * c.k + k], 0.0, 0.0); /* weight 0 */
    }
    ard_error err;
    ard_error_init(&err);
    c.labels[2] = 4;
    assert_int_equal(
        ard_nn_softmax_xent(c.logits, c.n, c.k, c.labels, c.w, 1.0f, &loss, dl, NULL, &err),
        ARD_EINVAL);
    assert_non_null(strstr(err.msg, "sample 2"));
    c.labels[2] = 0;
    c.w[1] = -1.0f;
    assert_int_equal(
        ard_nn_softmax_xent(c.logits, c.n, c.k, c.labels, c.w, 1.0f, &loss, dl, NULL, NULL),
        ARD_EINVAL);
    c.w[1] = 1.0f;
    c.logits[5] = NAN;
    assert_int_equal(
        ard_nn_softmax_xent(c.logits, c.n, c.k, c.labels, c.w, 1.0f, &loss, dl, NULL, NULL),
        ARD_EINVAL);
    free(c.logits), free(c.w), free(c.labels), free(dl);
}

typedef struct sq_ctx {
    float *pred, *target, *w;
    int64_t n;
} sq_ctx;

static double sq_obj(void *p) {
    sq_ctx *c = p;
    double loss = 0.0;
    assert_int_equal(
        ard_nn_weighted_sq_error(c->pred, c->target, c->w, c->n, 0.25f, &loss, NULL, NULL), ARD_OK);
    return loss;
}

static void test_weighted_sq_error(void **state) {
    (void)state;
    NN_SKIP_WITHOUT_BLAS();
    /* by hand: w (1, 4, 0), diff (1, 0.5, 7): 0.25 * (1 + 1 + 0) = 0.5 */
    float pred[3] = {2.0f, 1.0f, 9.0f}, target[3] = {1.0f, 0.5f, 2.0f}, w[3] = {1, 4, 0}, d[3];
    double loss = 0.0;
    assert_int_equal(ard_nn_weighted_sq_error(pred, target, w, 3, 0.25f, &loss, d, NULL), ARD_OK);
    assert_near(loss, 0.5, 1e-7);
    assert_near(d[0], 0.5, 1e-7); /* 2 * 0.25 * 1 * 1 */
    assert_near(d[1], 1.0, 1e-7); /* 2 * 0.25 * 4 * 0.5 */
    assert_near(d[2], 0.0, 0.0);
    /* a masked pixel may hold NaN: it weighs nothing */
    target[2] = NAN;
    assert_int_equal(ard_nn_weighted_sq_error(pred, target, w, 3, 0.25f, &loss, d, NULL), ARD_OK);
    assert_near(loss, 0.5, 1e-7);
    test_rng rng = {601};
    sq_ctx c = {.n = 11};
    c.pred = rand_floats(&rng, c.n, -2, 2);
    c.target = rand_floats(&rng, c.n, -2, 2);
    c.w = rand_floats(&rng, c.n, 0, 3);
    float *dp = calloc((size_t)c.n, sizeof(float));
    assert_int_equal(ard_nn_weighted_sq_error(c.pred, c.target, c.w, c.n, 0.25f, &loss, dp, NULL),
                     ARD_OK);
    check_grad("sq error dpred", c.pred, dp, c.n, sq_obj, &c, 1e-2, 1e-3);
    c.w[4] = INFINITY;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_nn_weighted_sq_error(c.pred, c.target, c.w, c.n, 1.0f, &loss, dp, &err),
                     ARD_EINVAL);
    assert_non_null(strstr(err.msg, "element 4"));
    free(c.pred), free(c.target), free(c.w), free(dp);
}

/* ---- Adam ---- */

static void test_adam_by_hand(void **state) {
    (void)state;
    NN_SKIP_WITHOUT_BLAS();
    ard_nn_params *p = NULL;
    assert_int_equal(ard_nn_params_new(&p, NULL), ARD_OK);
    ard_nn_tensor *t = NULL;
    int64_t shape[1] = {2};
    assert_int_equal(ard_nn_params_add(p, "w", 1, shape, &t, NULL), ARD_OK);
    ard_nn_fill(t, 1.0f);
    ard_nn_adam adam;
    ard_nn_adam_init(&adam);
    adam.lr = 0.1f;
    /* step 1, g = (0.5, -2): m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2, so each value moves
     * by lr * sign(g) (up to eps): (0.9, 1.1). */
    t->grad[0] = 0.5f;
    t->grad[1] = -2.0f;
    assert_int_equal(ard_nn_adam_step(&adam, p, NULL), ARD_OK);
    assert_near(t->value[0], 0.9, 1e-6);
    assert_near(t->value[1], 1.1, 1e-6);
    /* step 2, g = (0.25, 1): m = (0.07, -0.08), v = (0.00031225, 0.004996), bias corrections
     * 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999:
     * w0 = 0.9 - 0.1 * (0.07 / 0.19) / sqrt(0.00031225 / 0.001999) = 0.80678204
     * w1 = 1.1 + 0.1 * (0.08 / 0.19) / sqrt(0.004996 / 0.001999) = 1.1266337 */
    t->grad[0] = 0.25f;
    t->grad[1] = 1.0f;
    assert_int_equal(ard_nn_adam_step(&adam, p, NULL), ARD_OK);
    assert_int_equal(adam.step, 2);
    assert_near(t->value[0], 0.80678204, 2e-6);
    assert_near(t->value[1], 1.1266337, 2e-6);
    assert_near(t->adam_m[1], -0.08, 1e-7);
    assert_near(t->adam_v[0], 0.00031225, 1e-8); /* float betas: 0.999f != 0.999 */
    adam.beta1 = 1.0f;
    assert_int_equal(ard_nn_adam_step(&adam, p, NULL), ARD_EINVAL);
    ard_nn_params_free(p);
}

/* ---- parameters and initialisation ---- */

static void test_params_and_init(void **state) {
    (void)state;
    ard_nn_params *p = NULL;
    assert_int_equal(ard_nn_params_new(&p, NULL), ARD_OK);
    ard_nn_tensor *w = NULL, *w2 = NULL, *x = NULL;
    int64_t shape[2] = {400, 250};
    assert_int_equal(ard_nn_params_add(p, "layer.w", 2, shape, &w, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "layer.w2", 2, shape, &w2, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "xavier", 2, shape, &x, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "layer.w", 2, shape, NULL, NULL), ARD_EINVAL);
    int64_t neg[1] = {-1};
    assert_int_equal(ard_nn_params_add(p, "neg", 1, neg, NULL, NULL), ARD_EINVAL);
    int64_t huge[2] = {1 << 20, 1 << 20};
    assert_int_equal(ard_nn_params_add(p, "huge", 2, huge, NULL, NULL), ARD_ELIMIT);
    assert_int_equal(ard_nn_params_add(p, "five", 5, huge, NULL, NULL), ARD_EINVAL);
    assert_int_equal(ard_nn_params_count(p), 3);
    assert_int_equal(ard_nn_params_size(p), 3 * 100000);
    assert_ptr_equal(ard_nn_params_find(p, "xavier"), x);
    assert_null(ard_nn_params_find(p, "nope"));

    uint64_t s1 = ard_nn_seed_for(42, "layer.w"), s2 = ard_nn_seed_for(42, "layer.w2");
    assert_true(s1 != s2);
    assert_int_equal(ard_nn_seed_for(42, "layer.w"), s1);
    assert_int_equal(ard_nn_init_kaiming(w, 250, s1, NULL), ARD_OK);
    assert_int_equal(ard_nn_init_kaiming(w2, 250, s1, NULL), ARD_OK);
    assert_memory_equal(w->value, w2->value, 100000 * sizeof(float)); /* same seed, same values */
    assert_int_equal(ard_nn_init_kaiming(w2, 250, s2, NULL), ARD_OK);
    assert_memory_not_equal(w->value, w2->value, 100000 * sizeof(float));
    double s = 0.0, s2sum = 0.0;
    for (int64_t i = 0; i < w->count; i++) {
        s += w->value[i];
        s2sum += (double)w->value[i] * w->value[i];
    }
    /* N(0, 2/250): the mean within 5 sigma of its error, the variance within 2% */
    assert_true(fabs(s / 1e5) < 5.0 * sqrt(2.0 / 250.0 / 1e5));
    assert_near(s2sum / 1e5 / (2.0 / 250.0), 1.0, 0.02);
    assert_int_equal(ard_nn_init_xavier(x, 250, 400, 7, NULL), ARD_OK);
    double a = sqrt(6.0 / 650.0), mx = 0.0, xs2 = 0.0;
    for (int64_t i = 0; i < x->count; i++) {
        mx = fabs(x->value[i]) > mx ? fabs(x->value[i]) : mx;
        xs2 += (double)x->value[i] * x->value[i];
    }
    assert_true(mx <= a && mx > 0.99 * a);
    assert_near(xs2 / 1e5 / (a * a / 3.0), 1.0, 0.02); /* U(-a, a) has variance a^2 / 3 */
    assert_int_equal(ard_nn_init_kaiming(w, 0, 1, NULL), ARD_EINVAL);
    w->grad[7] = 3.0f;
    ard_nn_params_zero_grad(p);
    assert_near(w->grad[7], 0.0, 0.0);
    ard_nn_params_free(p);
}

/* ---- determinism across BLAS thread counts ---- */

/* A few Adam steps of a dense-GELU-dense-softmax net; returns the final weights (malloc'd). */
static float *train_tiny(ard_pool *pool, int64_t *count_out) {
    const int64_t n = 96, in = 160, hid = 192, k = 5;
    ard_nn_params *p = NULL;
    assert_int_equal(ard_nn_params_new(&p, NULL), ARD_OK);
    ard_nn_tensor *w1, *b1, *w2, *b2;
    assert_int_equal(ard_nn_params_add(p, "w1", 2, (int64_t[]){hid, in}, &w1, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "b1", 1, (int64_t[]){hid}, &b1, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "w2", 2, (int64_t[]){k, hid}, &w2, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "b2", 1, (int64_t[]){k}, &b2, NULL), ARD_OK);
    assert_int_equal(ard_nn_init_kaiming(w1, in, ard_nn_seed_for(9, "w1"), NULL), ARD_OK);
    assert_int_equal(ard_nn_init_xavier(w2, hid, k, ard_nn_seed_for(9, "w2"), NULL), ARD_OK);
    test_rng rng = {77};
    float *x = rand_floats(&rng, n * in, -1, 1);
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    for (int64_t i = 0; i < n; i++) {
        labels[i] = (int32_t)(test_rng_next(&rng) % (uint64_t)k);
    }
    float *h = malloc((size_t)(n * hid) * sizeof *h), *a = malloc((size_t)(n * hid) * sizeof *a);
    float *z = malloc((size_t)(n * k) * sizeof *z), *dz = malloc((size_t)(n * k) * sizeof *dz);
    float *da = malloc((size_t)(n * hid) * sizeof *da);
    ard_nn_adam adam;
    ard_nn_adam_init(&adam);
    for (int step = 0; step < 4; step++) {
        double loss;
        ard_nn_params_zero_grad(p);
        assert_int_equal(ard_nn_dense_forward(pool, x, n, in, w1->value, b1->value, hid, h, NULL),
                         ARD_OK);
        assert_int_equal(ard_nn_gelu_forward(h, n * hid, a, NULL), ARD_OK);
        assert_int_equal(ard_nn_dense_forward(pool, a, n, hid, w2->value, b2->value, k, z, NULL),
                         ARD_OK);
        assert_int_equal(
            ard_nn_softmax_xent(z, n, k, labels, NULL, 1.0f / (float)n, &loss, dz, NULL, NULL),
            ARD_OK);
        assert_int_equal(
            ard_nn_dense_backward(pool, a, n, hid, w2->value, k, dz, da, w2->grad, b2->grad, NULL),
            ARD_OK);
        assert_int_equal(ard_nn_gelu_backward(h, da, n * hid, da, NULL), ARD_OK);
        assert_int_equal(ard_nn_dense_backward(pool, x, n, in, w1->value, hid, da, NULL, w1->grad,
                                               b1->grad, NULL),
                         ARD_OK);
        assert_int_equal(ard_nn_adam_step(&adam, p, NULL), ARD_OK);
    }
    int64_t total = ard_nn_params_size(p), at = 0;
    float *out = malloc((size_t)total * sizeof *out);
    for (int64_t i = 0; i < ard_nn_params_count(p); i++) {
        ard_nn_tensor *t = ard_nn_params_at(p, i);
        memcpy(out + at, t->value, (size_t)t->count * sizeof *out);
        at += t->count;
    }
    *count_out = total;
    free(x), free(labels), free(h), free(a), free(z), free(dz), free(da);
    ard_nn_params_free(p);
    return out;
}

static void test_threads_deterministic(void **state) {
    (void)state;
    NN_SKIP_WITHOUT_BLAS();
    ard_pool *one = NULL, *two = NULL;
    assert_int_equal(ard_pool_new(1, &one, NULL), ARD_OK);
    assert_int_equal(ard_pool_new(2, &two, NULL), ARD_OK);
    int64_t c0 = 0, c1 = 0, c2 = 0;
    float *w0 = train_tiny(NULL, &c0), *w1 = train_tiny(one, &c1), *w2 = train_tiny(two, &c2);
    assert_int_equal(c0, c1);
    assert_int_equal(c1, c2);
    assert_memory_equal(w0, w1, (size_t)c1 * sizeof(float));
    assert_memory_equal(w1, w2, (size_t)c1 * sizeof(float));
    /* large products, split into several blocks, both split directions */
    test_rng rng = {88};
    const int64_t shapes[2][3] = {{300, 257, 211}, {70, 333, 1031}};
    for (int s = 0; s < 2; s++) {
        int64_t n = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        float *x = rand_floats(&rng, n * in, -1, 1), *w = rand_floats(&rng, out * in, -1, 1);
        float *y[2], *g[2], *dx[2];
        ard_pool *pools[2] = {one, two};
        for (int p = 0; p < 2; p++) {
            y[p] = malloc((size_t)(n * out) * sizeof(float));
            g[p] = calloc((size_t)(out * in), sizeof(float));
            dx[p] = malloc((size_t)(n * in) * sizeof(float));
            assert_int_equal(ard_nn_dense_forward(pools[p], x, n, in, w, NULL, out, y[p], NULL),
                             ARD_OK);
            assert_int_equal(
                ard_nn_dense_backward(pools[p], x, n, in, w, out, y[p], dx[p], g[p], NULL, NULL),
                ARD_OK);
        }
        assert_memory_equal(y[0], y[1], (size_t)(n * out) * sizeof(float));
        assert_memory_equal(g[0], g[1], (size_t)(out * in) * sizeof(float));
        assert_memory_equal(dx[0], dx[1], (size_t)(n * in) * sizeof(float));
        /* and the blocked product is right: spot-check against a double loop */
        for (int64_t i = 0; i < n; i += 37) {
            for (int64_t o = 0; o < out; o += 41) {
                double acc = 0.0;
                for (int64_t k = 0; k < in; k++) {
                    acc += (double)x[i * in + k] * w[o * in + k];
                }
                assert_near(y[0][i * out + o], acc, 1e-3);
            }
        }
        for (int p = 0; p < 2; p++) {
            free(y[p]), free(g[p]), free(dx[p]);
        }
        free(x), free(w);
    }
    free(w0), free(w1), free(w2);
    ard_pool_free(one);
    ard_pool_free(two);
}

static void test_bad_sizes(void **state) {
    (void)state;
    NN_SKIP_WITHOUT_BLAS();
    float v[4] = {0};
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_nn_dense_forward(NULL, v, -1, 2, v, NULL, 2, v, &err), ARD_EINVAL);
    assert_int_equal(ard_nn_dense_forward(NULL, NULL, 2, 2, v, NULL, 2, v, NULL), ARD_EINVAL);
    assert_int_equal(ard_nn_relu_forward(v, -3, v, NULL), ARD_EINVAL);
    /* empty batches are fine */
    assert_int_equal(ard_nn_dense_forward(NULL, NULL, 0, 2, v, NULL, 2, NULL, NULL), ARD_OK);
    assert_int_equal(ard_nn_dense_backward(NULL, NULL, 0, 2, v, 2, NULL, NULL, v, v, NULL), ARD_OK);
}

int sci_run_nn_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_grad),
        cmocka_unit_test(test_activation_grads),
        cmocka_unit_test(test_layernorm_grad),
        cmocka_unit_test(test_mean_aggregation),
        cmocka_unit_test(test_softmax_xent),
        cmocka_unit_test(test_weighted_sq_error),
        cmocka_unit_test(test_adam_by_hand),
        cmocka_unit_test(test_params_and_init),
        cmocka_unit_test(test_threads_deterministic),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests_name("nn", tests, NULL, NULL);
}
