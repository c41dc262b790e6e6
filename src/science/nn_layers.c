/* nn layers: dense (on cblas_sgemm), ReLU, GELU (tanh approximation), PReLU, layer norm, and the
 * GraphSAGE mean aggregation with its scatter-add backward. Every loop outside sgemm is serial with
 * a fixed order, so results are the same for any BLAS thread count. */
#include "ard/nn.h"
#include "science_int.h"

#include <limits.h>
#include <math.h>
#include <string.h>

static ard_status check_sizes(const char *what, int64_t a, int64_t b, int64_t c, ard_error *err) {
    ard_status st = ard__nn_need_blas(what, err);
    if (st != ARD_OK) {
        return st;
    }
    if (a < 0 || b < 0 || c < 0) {
        return ard_error_set(err, ARD_EINVAL, "nn: %s: negative size", what);
    }
    if (a > INT_MAX || b > INT_MAX || c > INT_MAX) {
        return ard_error_set(err, ARD_ELIMIT, "nn: %s: a dimension above 2^31 - 1", what);
    }
    return ARD_OK;
}

#define NN_NEED(cond, what)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return ard_error_set(err, ARD_EINVAL, "nn: %s: missing array", what);                  \
        }                                                                                          \
    } while (0)

/* ---- dense: sgemm over a fixed block partition ----
 * OpenBLAS's own threading splits the output by thread count, and its edge kernels round
 * differently from its main kernel, so results would change with the thread count. Instead BLAS runs
 * single-threaded and the output is cut into blocks chosen from the shape alone (never from the
 * thread count); each block is one sgemm, run on the caller's pool. Every output element is computed
 * by the same kernel path whatever the number of threads. */

#define NN_BLOCK_MIN 128     /* no split below this many rows/columns */
#define NN_BLOCK_MAX_PARTS 8 /* each block packs the shared operand again: few, large blocks */
#define NN_BLOCK_ALIGN 16

typedef struct nn_gemm {
    int trans_a, trans_b; /* 1: op(X) = X^T (X stored row-major as its transpose) */
    int64_t m, n, k;
    const float *a, *b;
    int64_t lda, ldb, ldc;
    float beta;
    float *c;
    int split_n; /* split the n columns of C instead of the m rows */
    int64_t block;
} nn_gemm;

static void gemm_block(void *arg, int64_t index, int thread_id) {
    (void)thread_id;
    const nn_gemm *g = arg;
    int64_t dim = g->split_n ? g->n : g->m;
    int64_t lo = index * g->block, len = dim - lo < g->block ? dim - lo : g->block;
    const float *a = g->a, *b = g->b;
    float *c = g->c;
    int64_t m = g->m, n = g->n;
    if (g->split_n) {
        b += g->trans_b ? lo * g->ldb : lo;
        c += lo;
        n = len;
    } else {
        a += g->trans_a ? lo : lo * g->lda;
        c += lo * g->ldc;
        m = len;
    }
    ard__nn_sgemm(g->trans_a, g->trans_b, (int)m, (int)n, (int)g->k, a, (int)g->lda, b, (int)g->ldb,
                  g->beta, c, (int)g->ldc);
}

/* C = op(A) op(B) + beta C over the fixed partition. */
static void gemm_run(ard_pool *pool, nn_gemm *g) {
    if (g->m == 0 || g->n == 0 || g->k == 0) {
        return; /* callers have filled C already (beta 0 outputs are pre-zeroed) */
    }
    ard__nn_blas_one_thread();
    g->split_n = g->n > g->m;
    int64_t dim = g->split_n ? g->n : g->m;
    int64_t parts = dim / NN_BLOCK_MIN;
    parts = parts < 1 ? 1 : parts > NN_BLOCK_MAX_PARTS ? NN_BLOCK_MAX_PARTS : parts;
    int64_t block = (dim + parts - 1) / parts;
    g->block = (block + NN_BLOCK_ALIGN - 1) / NN_BLOCK_ALIGN * NN_BLOCK_ALIGN;
    int64_t count = (dim + g->block - 1) / g->block;
    if (pool && count > 1) {
        ard_pool_for(pool, count, gemm_block, g);
    } else {
        for (int64_t i = 0; i < count; i++) {
            gemm_block(g, i, 0);
        }
    }
}

ard_status ard_nn_dense_forward(ard_pool *pool, const float *x, int64_t n, int64_t in,
                                const float *w, const float *b, int64_t out, float *y,
                                ard_error *err) {
    ard_status st = check_sizes("dense forward", n, in, out, err);
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((x || n * in == 0) && (w || in * out == 0) && (y || n * out == 0), "dense forward");
    if (n == 0 || out == 0) {
        return ARD_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        float *row = y + i * out;
        if (b) {
            memcpy(row, b, (size_t)out * sizeof *row);
        } else {
            memset(row, 0, (size_t)out * sizeof *row);
        }
    }
    if (in > 0) {
        nn_gemm g = {.trans_b = 1,
                     .m = n,
                     .n = out,
                     .k = in,
                     .a = x,
                     .lda = in,
                     .b = w,
                     .ldb = in,
                     .beta = 1.0f,
                     .c = y,
                     .ldc = out};
        gemm_run(pool, &g);
    }
    return ARD_OK;
}

ard_status ard_nn_dense_backward(ard_pool *pool, const float *x, int64_t n, int64_t in,
                                 const float *w, int64_t out, const float *dy, float *dx, float *dw,
                                 float *db, ard_error *err) {
    ard_status st = check_sizes("dense backward", n, in, out, err);
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((dy || n * out == 0) && (!dw || x || n * in == 0) && (!dx || w || in * out == 0),
            "dense backward");
    if (dx && n * in > 0) {
        memset(dx, 0, (size_t)(n * in) * sizeof *dx);
    }
    if (n == 0) {
        return ARD_OK;
    }
    if (dx) {
        nn_gemm g = {.m = n,
                     .n = in,
                     .k = out,
                     .a = dy,
                     .lda = out,
                     .b = w,
                     .ldb = in,
                     .beta = 0.0f,
                     .c = dx,
                     .ldc = in};
        gemm_run(pool, &g);
    }
    if (dw) {
        nn_gemm g = {.trans_a = 1,
                     .m = out,
                     .n = in,
                     .k = n,
                     .a = dy,
                     .lda = out,
                     .b = x,
                     .ldb = in,
                     .beta = 1.0f,
                     .c = dw,
                     .ldc = in};
        gemm_run(pool, &g);
    }
    if (db) {
        for (int64_t i = 0; i < n; i++) {
            const float *row = dy + i * out;
            for (int64_t j = 0; j < out; j++) {
                db[j] += row[j];
            }
        }
    }
    return ARD_OK;
}

/* ---- activations ---- */

ard_status ard_nn_relu_forward(const float *x, int64_t count, float *y, ard_error *err) {
    ard_status st = check_sizes("relu", count, 0, 0, err);
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((x && y) || count == 0, "relu");
    for (int64_t i = 0; i < count; i++) {
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    }
    return ARD_OK;
}

ard_status ard_nn_relu_backward(const float *x, const float *dy, int64_t count, float *dx,
                                ard_error *err) {
    ard_status st = check_sizes("relu backward", count, 0, 0, err);
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((x && dy && dx) || count == 0, "relu backward");
    for (int64_t i = 0; i < count; i++) {
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
    }
    return ARD_OK;
}

/* tanh in float without a libm call, so that the activation loops vectorise (SSE2 suffices):
 * tanh(a) = (1 - e) / (1 + e) with e = exp(-2 |a|), exp by range reduction to [-ln2/2, ln2/2] and
 * Cephes' degree-6 polynomial (relative error ~1e-7); absolute error of tanh below 2e-7. */
NN_INLINE float nn_tanhf(float u) {
    /* |u| clamped at 9 (tanh(9) rounds to 1.0f, as every larger |u| does) by an integer min on
     * its bits (monotonic for floats >= 0): a float compare would be a branch under
     * -ftrapping-math and keep the loop from vectorising. NaN stays NaN in the caller's v. */
    union {
        float f;
        uint32_t u;
    } ab = {.f = fabsf(u)};
    ab.u = ab.u < 0x41100000u ? ab.u : 0x41100000u; /* 9.0f */
    float x = -2.0f * ab.f;
    float k = (x * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = x - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union {
        int32_t i;
        float f;
    } scale = {.i = ((int32_t)k + 127) * (1 << 23)};
    float e = p * scale.f;
    return copysignf((1.0f - e) / (1.0f + e), u);
}

#define GELU_C 0.7978845608028654 /* sqrt(2 / pi) */
#define GELU_A 0.044715

NN_INLINE void gelu_forward_body(const float *x, int64_t count, float *y) {
    for (int64_t i = 0; i < count; i++) {
        float v = x[i];
        float u = (float)GELU_C * (v + (float)GELU_A * v * v * v);
        y[i] = 0.5f * v * (1.0f + nn_tanhf(u));
    }
}

NN_INLINE void gelu_backward_body(const float *x, const float *dy, int64_t count, float *dx) {
    for (int64_t i = 0; i < count; i++) {
        float v = x[i];
        float th = nn_tanhf((float)GELU_C * (v + (float)GELU_A * v * v * v));
        float du = (float)GELU_C * (1.0f + 3.0f * (float)GELU_A * v * v);
        float grad = 0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du;
        dx[i] = grad * dy[i];
    }
}

NN_AVX2 static void gelu_forward_avx2(const float *x, int64_t count, float *y) {
    gelu_forward_body(x, count, y);
}

static void gelu_forward_base(const float *x, int64_t count, float *y) {
    gelu_forward_body(x, count, y);
}

NN_AVX2 static void gelu_backward_avx2(const float *x, const float *dy, int64_t count, float *dx) {
    gelu_backward_body(x, dy, count, dx);
}

static void gelu_backward_base(const float *x, const float *dy, int64_t count, float *dx) {
    gelu_backward_body(x, dy, count, dx);
}

ard_status ard_nn_gelu_forward(const float *x, int64_t count, float *y, ard_error *err) {
    ard_status st = check_sizes("gelu", count, 0, 0, err);
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((x && y) || count == 0, "gelu");
    (NN_HAVE_AVX2() ? gelu_forward_avx2 : gelu_forward_base)(x, count, y);
    return ARD_OK;
}

ard_status ard_nn_gelu_backward(const float *x, const float *dy, int64_t count, float *dx,
                                ard_error *err) {
    ard_status st = check_sizes("gelu backward", count, 0, 0, err);
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((x && dy && dx) || count == 0, "gelu backward");
    /* dx may alias dy (the anomaly model does so): element i is read before it is written */
    (NN_HAVE_AVX2() ? gelu_backward_avx2 : gelu_backward_base)(x, dy, count, dx);
    return ARD_OK;
}

static ard_status check_prelu(int64_t n, int64_t c, const float *a, int64_t slopes,
                              ard_error *err) {
    ard_status st = check_sizes("prelu", n, c, slopes, err);
    if (st != ARD_OK) {
        return st;
    }
    if (!a || (slopes != 1 && slopes != c)) {
        return ard_error_set(err, ARD_EINVAL,
                             "nn: prelu: %lld slopes for %lld channels (1 or one per channel)",
                             (long long)slopes, (long long)c);
    }
    return ARD_OK;
}

ard_status ard_nn_prelu_forward(const float *x, int64_t n, int64_t c, const float *a,
                                int64_t slopes, float *y, ard_error *err) {
    ard_status st = check_prelu(n, c, a, slopes, err);
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((x && y) || n * c == 0, "prelu");
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < c; j++) {
            float v = x[i * c + j];
            y[i * c + j] = v > 0.0f ? v : a[slopes == 1 ? 0 : j] * v;
        }
    }
    return ARD_OK;
}

ard_status ard_nn_prelu_backward(const float *x, const float *dy, int64_t n, int64_t c,
                                 const float *a, int64_t slopes, float *dx, float *da,
                                 ard_error *err) {
    ard_status st = check_prelu(n, c, a, slopes, err);
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((x && dy) || n * c == 0, "prelu backward");
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < c; j++) {
            int64_t k = i * c + j, s = slopes == 1 ? 0 : j;
            float v = x[k], g = dy[k];
            if (da && v <= 0.0f) {
                da[s] += g * v;
            }
            if (dx) {
                dx[k] = v > 0.0f ? g : a[s] * g;
            }
        }
    }
    return ARD_OK;
}

/* ---- layer norm ---- */

ard_status ard_nn_layernorm_forward(const float *x, int64_t n, int64_t c, const float *gamma,
                                    const float *beta, float eps, float *y, float *mean,
                                    float *rstd, ard_error *err) {
    ard_status st = check_sizes("layer norm", n, c, 0, err);
    if (st != ARD_OK) {
        return st;
    }
    if (!(eps > 0.0f) || c == 0) {
        return ard_error_set(err, ARD_EINVAL, "nn: layer norm needs eps > 0 and c > 0");
    }
    NN_NEED((x && gamma && beta && y && mean && rstd) || n == 0, "layer norm");
    for (int64_t i = 0; i < n; i++) {
        const float *row = x + i * c;
        double sum = 0.0, sq = 0.0;
        for (int64_t j = 0; j < c; j++) {
            sum += row[j];
        }
        double mu = sum / (double)c;
        for (int64_t j = 0; j < c; j++) {
            double d = row[j] - mu;
            sq += d * d;
        }
        double r = 1.0 / sqrt(sq / (double)c + eps);
        mean[i] = (float)mu;
        rstd[i] = (float)r;
        for (int64_t j = 0; j < c; j++) {
            y[i * c + j] = (float)((row[j] - mu) * r) * gamma[j] + beta[j];
        }
    }
    return ARD_OK;
}

ard_status ard_nn_layernorm_backward(const float *x, const float *dy, int64_t n, int64_t c,
                                     const float *gamma, const float *mean, const float *rstd,
                                     float *dx, float *dgamma, float *dbeta, ard_error *err) {
    ard_status st = check_sizes("layer norm backward", n, c, 0, err);
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((x && dy && gamma && mean && rstd) || n == 0, "layer norm backward");
    for (int64_t i = 0; i < n; i++) {
        const float *row = x + i * c, *g = dy + i * c;
        double mu = mean[i], r = rstd[i], sum_g = 0.0, sum_gx = 0.0;
        for (int64_t j = 0; j < c; j++) {
            double xhat = (row[j] - mu) * r, gj = (double)g[j] * gamma[j];
            sum_g += gj;
            sum_gx += gj * xhat;
            if (dgamma) {
                dgamma[j] += (float)(g[j] * xhat);
            }
            if (dbeta) {
                dbeta[j] += g[j];
            }
        }
        if (!dx) {
            continue;
        }
        double mean_g = sum_g / (double)c, mean_gx = sum_gx / (double)c;
        for (int64_t j = 0; j < c; j++) {
            double xhat = (row[j] - mu) * r, gj = (double)g[j] * gamma[j];
            dx[i * c + j] = (float)(r * (gj - mean_g - xhat * mean_gx));
        }
    }
    return ARD_OK;
}

/* ---- mean aggregation ---- */

static ard_status check_lists(const char *what, const int64_t *offsets, const int64_t *index,
                              int64_t rows, int64_t x_rows, ard_error *err) {
    if (!offsets || offsets[0] != 0) {
        return ard_error_set(err, ARD_EINVAL, "nn: %s: offsets must start at 0", what);
    }
    for (int64_t i = 0; i < rows; i++) {
        if (offsets[i + 1] < offsets[i]) {
            return ard_error_set(err, ARD_EINVAL, "nn: %s: offsets decrease at row %lld", what,
                                 (long long)i);
        }
        for (int64_t j = offsets[i]; j < offsets[i + 1]; j++) {
            if (!index || index[j] < 0 || index[j] >= x_rows) {
                return ard_error_set(
                    err, ARD_EINVAL, "nn: %s: row %lld lists index %lld outside [0, %lld)", what,
                    (long long)i, (long long)(index ? index[j] : -1), (long long)x_rows);
            }
        }
    }
    return ARD_OK;
}

ard_status ard_nn_mean_gather(const float *x, int64_t x_rows, int64_t dim, const int64_t *offsets,
                              const int64_t *index, int64_t rows, float *out, ard_error *err) {
    ard_status st = check_sizes("mean gather", x_rows, dim, rows, err);
    if (st == ARD_OK) {
        st = check_lists("mean gather", offsets, index, rows, x_rows, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((out || rows * dim == 0) && (x || x_rows * dim == 0), "mean gather");
    for (int64_t i = 0; i < rows; i++) {
        float *o = out + i * dim;
        memset(o, 0, (size_t)dim * sizeof *o);
        int64_t len = offsets[i + 1] - offsets[i];
        if (len == 0) {
            continue;
        }
        for (int64_t j = offsets[i]; j < offsets[i + 1]; j++) {
            const float *src = x + index[j] * dim;
            for (int64_t d = 0; d < dim; d++) {
                o[d] += src[d];
            }
        }
        float inv = 1.0f / (float)len;
        for (int64_t d = 0; d < dim; d++) {
            o[d] *= inv;
        }
    }
    return ARD_OK;
}

ard_status ard_nn_mean_scatter(const float *dout, int64_t rows, int64_t dim, const int64_t *offsets,
                               const int64_t *index, int64_t x_rows, float *dx, ard_error *err) {
    ard_status st = check_sizes("mean scatter", x_rows, dim, rows, err);
    if (st == ARD_OK) {
        st = check_lists("mean scatter", offsets, index, rows, x_rows, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    NN_NEED((dout || rows * dim == 0) && (dx || x_rows * dim == 0), "mean scatter");
    for (int64_t i = 0; i < rows; i++) {
        int64_t len = offsets[i + 1] - offsets[i];
        if (len == 0) {
            continue;
        }
        float inv = 1.0f / (float)len;
        const float *g = dout + i * dim;
        for (int64_t j = offsets[i]; j < offsets[i + 1]; j++) {
            float *dst = dx + index[j] * dim;
            for (int64_t d = 0; d < dim; d++) {
                dst[d] += g[d] * inv;
            }
        }
    }
    return ARD_OK;
}
