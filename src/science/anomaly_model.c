/* The anomaly autoencoder (see science.h): patch embedding (linear patch -> embed, plus a fixed
 * sinusoidal encoding of the patch's log wavelength, zeroed for patches without a valid pixel), an
 * MLP encoder over the flattened patch tokens to the latent, an MLP decoder back to every token
 * value; the loss is the IVAR-weighted squared error in token units. Built on the nn layer. */
#include "science_int.h"

#include "ard/stream.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_WE, T_BE, T_W1, T_B1, T_W2, T_B2, T_W3, T_B3, T_W4, T_B4, T_COUNT };
static const char *const k_names[T_COUNT] = {
    "embed.weight", "embed.bias",  "enc1.weight", "enc1.bias",   "enc2.weight",
    "enc2.bias",    "dec1.weight", "dec1.bias",   "dec2.weight", "dec2.bias"};

void ard_anomaly_arch_init(ard_anomaly_arch *a) {
    memset(a, 0, sizeof *a);
    a->patch = 64;
    a->embed = 16;
    a->hidden = 256;
    a->latent = 8;
}

static ard_status check_arch(const ard_anomaly_arch *a, ard_error *err) {
    if (a->num_patches < 1 || a->num_patches > 65536 || a->patch < ARD_PATCH_MIN ||
        a->patch > ARD_PATCH_MAX || a->embed < 2 || a->embed % 2 || a->embed > 1024 ||
        a->hidden < 1 || a->hidden > 65536 || a->latent < 1 || a->latent > 1024 ||
        (int64_t)a->num_patches * a->embed > (1 << 24)) {
        return ard_error_set(err, ARD_EINVAL,
                             "anomaly model: num_patches %d, patch %d, embed %d (even), hidden %d, "
                             "latent %d out of range",
                             a->num_patches, a->patch, a->embed, a->hidden, a->latent);
    }
    return ARD_OK;
}

/* Shapes of the tensors: [out, in] for weights. */
static void shapes(const ard_anomaly_arch *a, int64_t sh[T_COUNT][2], int32_t nd[T_COUNT]) {
    int64_t pd = (int64_t)a->num_patches * a->embed, pl = (int64_t)a->num_patches * a->patch;
    int64_t dims[T_COUNT / 2][2] = {{a->embed, a->patch},
                                    {a->hidden, pd},
                                    {a->latent, a->hidden},
                                    {a->hidden, a->latent},
                                    {pl, a->hidden}};
    for (int k = 0; k < T_COUNT / 2; k++) {
        sh[2 * k][0] = dims[k][0];
        sh[2 * k][1] = dims[k][1];
        nd[2 * k] = 2;
        sh[2 * k + 1][0] = dims[k][0];
        nd[2 * k + 1] = 1;
    }
}

void ard__anomaly_posenc(const float *wave, int32_t num_patches, int32_t embed, float *pe) {
    for (int32_t p = 0; p < num_patches; p++) {
        double x = wave[p] > 0.0f ? 1000.0 * log((double)wave[p] / 3000.0) : 0.0;
        for (int32_t i = 0; i < embed / 2; i++) {
            double freq = pow(10000.0, -2.0 * i / (double)embed);
            pe[(int64_t)p * embed + 2 * i] = (float)sin(x * freq);
            pe[(int64_t)p * embed + 2 * i + 1] = (float)cos(x * freq);
        }
    }
}

static void model_free_work(ard_anomaly_model *m) {
    float **bufs[] = {&m->e,   &m->a1,    &m->h1,   &m->z,   &m->a2,   &m->h2,
                      &m->rec, &m->d_rec, &m->d_h2, &m->d_z, &m->d_h1, &m->d_e};
    for (size_t k = 0; k < sizeof bufs / sizeof *bufs; k++) {
        ard_free(*bufs[k]);
        *bufs[k] = NULL;
    }
    m->cap = 0;
}

void ard_anomaly_model_free(ard_anomaly_model *m) {
    if (!m) {
        return;
    }
    model_free_work(m);
    ard_free(m->pe);
    ard_nn_params_free(m->params);
    ard_pool_free(m->pool);
    ard_free(m);
}

/* Finds (or adds) every tensor of the architecture in m->params; add = 1 creates them. */
static ard_status bind(ard_anomaly_model *m, int add, ard_error *err) {
    int64_t sh[T_COUNT][2];
    int32_t nd[T_COUNT];
    shapes(&m->a, sh, nd);
    for (int k = 0; k < T_COUNT; k++) {
        ard_nn_tensor *t = NULL;
        if (add) {
            ard_status st = ard_nn_params_add(m->params, k_names[k], nd[k], sh[k], &t, err);
            if (st != ARD_OK) {
                return st;
            }
        } else {
            t = ard_nn_params_find(m->params, k_names[k]);
            if (!t || t->ndim != nd[k] || t->shape[0] != sh[k][0] ||
                (nd[k] == 2 && t->shape[1] != sh[k][1])) {
                return ard_error_set(err, ARD_EINVAL,
                                     "anomaly model: tensor %s missing or of another shape than "
                                     "the architecture in the file's metadata",
                                     k_names[k]);
            }
        }
        m->t[k] = t;
    }
    int64_t wsh[1] = {m->a.num_patches};
    ard_nn_tensor *wave = add ? NULL : ard_nn_params_find(m->params, "wave");
    if (add) {
        ard_status st = ard_nn_params_add(m->params, "wave", 1, wsh, &wave, err);
        if (st != ARD_OK) {
            return st;
        }
    } else if (!wave || wave->ndim != 1 || wave->shape[0] != m->a.num_patches) {
        return ard_error_set(err, ARD_EINVAL, "anomaly model: tensor wave missing or mis-shaped");
    }
    m->wave = wave;
    return ARD_OK;
}

static ard_status model_alloc(const ard_anomaly_arch *a, int32_t threads, ard_anomaly_model **out,
                              ard_error *err) {
    *out = NULL;
    ard_status st = check_arch(a, err);
    if (st != ARD_OK) {
        return st;
    }
    st = ard__nn_need_blas("anomaly model", err);
    if (st != ARD_OK) {
        return st;
    }
    ard_anomaly_model *m = ard_calloc(1, sizeof *m);
    if (!m) {
        return ard_error_set(err, ARD_ENOMEM, "anomaly model");
    }
    m->a = *a;
    m->knn_k = 10;
    m->density_weight = 0.5f;
    m->sd_chi2 = m->sd_dens = 1.0;
    ard_nn_adam_init(&m->adam);
    st = ard_pool_new(threads > 0 ? threads : 1, &m->pool, err);
    if (st != ARD_OK) {
        ard_free(m);
        return st;
    }
    m->adam.pool = m->pool;
    *out = m;
    return ARD_OK;
}

ard_status ard_anomaly_model_new(const ard_anomaly_arch *a, const float *wave, uint64_t seed,
                                 int32_t threads, ard_anomaly_model **out, ard_error *err) {
    ard_anomaly_model *m = NULL;
    ard_status st = model_alloc(a, threads, &m, err);
    if (st != ARD_OK) {
        return st;
    }
    st = ard_nn_params_new(&m->params, err);
    if (st == ARD_OK) {
        st = bind(m, 1, err);
    }
    for (int k = 0; st == ARD_OK && k < T_COUNT; k += 2) { /* weights; biases stay 0 */
        ard_nn_tensor *t = m->t[k];
        uint64_t s = ard_nn_seed_for(seed, k_names[k]);
        st = (k == T_W2 || k == T_W4)
                 ? ard_nn_init_xavier(t, t->shape[1], t->shape[0], s, err) /* linear outputs */
                 : ard_nn_init_kaiming(t, t->shape[1], s, err);
    }
    if (st == ARD_OK) {
        for (int32_t p = 0; p < a->num_patches; p++) {
            m->wave->value[p] = wave ? wave[p] : 0.0f;
        }
    }
    if (st != ARD_OK) {
        ard_anomaly_model_free(m);
        return st;
    }
    *out = m;
    return ARD_OK;
}

ard_nn_params *ard__anomaly_params(ard_anomaly_model *m) {
    return m->params;
}

void ard_anomaly_model_arch(const ard_anomaly_model *m, ard_anomaly_arch *out) {
    *out = m->a;
}

const float *ard_anomaly_model_wave(const ard_anomaly_model *m) {
    return m->wave->value;
}

static ard_status reserve(ard_anomaly_model *m, int64_t n, ard_error *err) {
    if (n <= m->cap) {
        return ARD_OK;
    }
    model_free_work(m);
    const ard_anomaly_arch *a = &m->a;
    int64_t pd = (int64_t)a->num_patches * a->embed, pl = (int64_t)a->num_patches * a->patch;
    int64_t sizes[] = {pd, a->hidden, a->hidden, a->latent, a->hidden, a->hidden,
                       pl, pl,        a->hidden, a->latent, a->hidden, pd};
    float **bufs[] = {&m->e,   &m->a1,    &m->h1,   &m->z,   &m->a2,   &m->h2,
                      &m->rec, &m->d_rec, &m->d_h2, &m->d_z, &m->d_h1, &m->d_e};
    for (size_t k = 0; k < sizeof bufs / sizeof *bufs; k++) {
        *bufs[k] = ard_malloc((size_t)(n * sizes[k]) * sizeof(float) + 64);
        if (!*bufs[k]) {
            model_free_work(m);
            return ard_error_set(err, ARD_ENOMEM, "anomaly model: workspace for %lld spectra",
                                 (long long)n);
        }
    }
    m->cap = n;
    return ARD_OK;
}

/* 1 when a value is NaN or infinite (exponent all ones), without a branch (the scan vectorises). */
NN_INLINE uint32_t not_finite(float v) {
    union {
        float f;
        uint32_t u;
    } b = {.f = v};
    return (b.u & 0x7f800000u) == 0x7f800000u;
}

NN_INLINE uint32_t scan_body(const float *tokens, const float *weights, int64_t count) {
    uint32_t bad = 0;
    for (int64_t j = 0; j < count; j++) {
        bad |= not_finite(tokens[j]);
    }
    for (int64_t j = 0; weights && j < count; j++) {
        bad |= not_finite(weights[j]) | (weights[j] < 0.0f);
    }
    return bad;
}

NN_AVX2 static uint32_t scan_avx2(const float *tokens, const float *weights, int64_t count) {
    return scan_body(tokens, weights, count);
}

static uint32_t scan_base(const float *tokens, const float *weights, int64_t count) {
    return scan_body(tokens, weights, count);
}

static ard_status check_input(const ard_anomaly_model *m, const float *tokens, const float *weights,
                              int64_t n, ard_error *err) {
    int64_t pl = (int64_t)m->a.num_patches * m->a.patch;
    uint32_t bad = (NN_HAVE_AVX2() ? scan_avx2 : scan_base)(tokens, weights, n * pl);
    for (int64_t i = 0; bad && i < n; i++) { /* rare: find the first bad value for the message */
        for (int64_t j = 0; j < pl; j++) {
            float x = tokens[i * pl + j], w = weights ? weights[i * pl + j] : 1.0f;
            if (!isfinite(x) || !isfinite(w) || w < 0.0f) {
                return ard_error_set(err, ARD_EINVAL,
                                     "anomaly model: spectrum %lld of the batch has a non-finite "
                                     "token or a negative / non-finite weight at value %lld",
                                     (long long)i, (long long)j);
            }
        }
    }
    return ARD_OK;
}

/* chi2 of one spectrum: sum w (r - x)^2 / valid pixels. Eight float lanes (independent sums the
 * compiler vectorises without reassociating), folded into double every 64 values. NaN without a
 * valid pixel. */
NN_INLINE double spectrum_chi2_body(const float *rec, const float *tokens, const float *weights,
                                    int64_t pl) {
    double total = 0.0;
    int64_t valid = 0, j = 0;
    for (; j + 64 <= pl; j += 64) {
        float acc[8] = {0};
        int32_t cnt[8] = {0};
        for (int64_t b = j; b < j + 64; b += 8) {
            for (int l = 0; l < 8; l++) {
                float r = rec[b + l] - tokens[b + l];
                acc[l] += weights[b + l] * r * r;
                cnt[l] += weights[b + l] > 0.0f;
            }
        }
        for (int l = 0; l < 8; l++) {
            total += acc[l];
            valid += cnt[l];
        }
    }
    for (; j < pl; j++) {
        double r = (double)rec[j] - tokens[j];
        total += weights[j] * r * r;
        valid += weights[j] > 0.0f;
    }
    return valid > 0 ? total / (double)valid : NAN;
}

NN_AVX2 static double spectrum_chi2_avx2(const float *rec, const float *tokens,
                                         const float *weights, int64_t pl) {
    return spectrum_chi2_body(rec, tokens, weights, pl);
}

static double spectrum_chi2_base(const float *rec, const float *tokens, const float *weights,
                                 int64_t pl) {
    return spectrum_chi2_body(rec, tokens, weights, pl);
}

/* The positional encoding of the model's wave, computed once (wave does not change). */
static ard_status posenc(ard_anomaly_model *m, ard_error *err) {
    if (m->pe) {
        return ARD_OK;
    }
    m->pe = ard_malloc((size_t)m->a.num_patches * (size_t)m->a.embed * sizeof(float));
    if (!m->pe) {
        return ard_error_set(err, ARD_ENOMEM, "anomaly model: positional encoding");
    }
    ard__anomaly_posenc(m->wave->value, m->a.num_patches, m->a.embed, m->pe);
    return ARD_OK;
}

/* Forward pass of n spectra into the workspace (e, a1, h1, z, a2, h2, rec). */
static ard_status forward(ard_anomaly_model *m, const float *tokens, const uint8_t *mask, int64_t n,
                          ard_error *err) {
    const ard_anomaly_arch *a = &m->a;
    int64_t np = a->num_patches, d = a->embed, pd = np * d, pl = np * a->patch;
    ard_status st = posenc(m, err);
    if (st == ARD_OK) {
        st = ard_nn_dense_forward(m->pool, tokens, n * np, a->patch, m->t[T_WE]->value,
                                  m->t[T_BE]->value, d, m->e, err);
    }
    const float *pe = m->pe;
    for (int64_t r = 0; st == ARD_OK && r < n * np; r++) {
        float on = !mask || mask[r] != 0 ? 1.0f : 0.0f;
        float *row = m->e + r * d;
        const float *pr = pe + (r % np) * d;
        for (int64_t k = 0; k < d; k++) {
            row[k] = on * (row[k] + pr[k]);
        }
    }
    if (st == ARD_OK) {
        st = ard_nn_dense_forward(m->pool, m->e, n, pd, m->t[T_W1]->value, m->t[T_B1]->value,
                                  a->hidden, m->a1, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_gelu_forward(m->a1, n * a->hidden, m->h1, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_dense_forward(m->pool, m->h1, n, a->hidden, m->t[T_W2]->value,
                                  m->t[T_B2]->value, a->latent, m->z, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_dense_forward(m->pool, m->z, n, a->latent, m->t[T_W3]->value, m->t[T_B3]->value,
                                  a->hidden, m->a2, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_gelu_forward(m->a2, n * a->hidden, m->h2, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_dense_forward(m->pool, m->h2, n, a->hidden, m->t[T_W4]->value,
                                  m->t[T_B4]->value, pl, m->rec, err);
    }
    return st;
}

ard_status ard_anomaly_model_forward(ard_anomaly_model *m, const float *tokens, const uint8_t *mask,
                                     const float *weights, int64_t n, float *latent, float *recon,
                                     double *chi2, ard_error *err) {
    if (!m || !tokens || n < 0 || (chi2 && !weights)) {
        return ard_error_set(err, ARD_EINVAL,
                             "anomaly forward: NULL model/tokens, n < 0, or chi2 "
                             "without weights");
    }
    if (n == 0) {
        return ARD_OK;
    }
    ard_status st = check_input(m, tokens, weights, n, err);
    if (st == ARD_OK) {
        st = reserve(m, n, err);
    }
    if (st == ARD_OK) {
        st = forward(m, tokens, mask, n, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    int64_t pl = (int64_t)m->a.num_patches * m->a.patch;
    if (latent) {
        memcpy(latent, m->z, (size_t)(n * m->a.latent) * sizeof(float));
    }
    if (recon) {
        memcpy(recon, m->rec, (size_t)(n * pl) * sizeof(float));
    }
    double (*chi2_of)(const float *, const float *, const float *, int64_t) =
        NN_HAVE_AVX2() ? spectrum_chi2_avx2 : spectrum_chi2_base;
    for (int64_t i = 0; chi2 && i < n; i++) {
        chi2[i] = chi2_of(m->rec + i * pl, tokens + i * pl, weights + i * pl, pl);
    }
    return ARD_OK;
}

ard_status ard__anomaly_loss_grad(ard_anomaly_model *m, const float *tokens, const uint8_t *mask,
                                  const float *weights, int64_t n, double *loss, ard_error *err) {
    if (!m || !tokens || !weights || n <= 0) {
        return ard_error_set(err, ARD_EINVAL, "anomaly step: NULL input or empty batch");
    }
    ard_status st = check_input(m, tokens, weights, n, err);
    if (st == ARD_OK) {
        st = reserve(m, n, err);
    }
    if (st == ARD_OK) {
        st = forward(m, tokens, mask, n, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    const ard_anomaly_arch *a = &m->a;
    int64_t np = a->num_patches, d = a->embed, pd = np * d, pl = np * a->patch;
    int64_t valid = 0;
    for (int64_t j = 0; j < n * pl; j++) {
        valid += weights[j] > 0.0f;
    }
    float scale = 1.0f / (float)(valid > 0 ? valid : 1);
    st = ard_nn_weighted_sq_error(m->rec, tokens, weights, n * pl, scale, loss, m->d_rec, err);
    if (st == ARD_OK) {
        st = ard_nn_dense_backward(m->pool, m->h2, n, a->hidden, m->t[T_W4]->value, pl, m->d_rec,
                                   m->d_h2, m->t[T_W4]->grad, m->t[T_B4]->grad, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_gelu_backward(m->a2, m->d_h2, n * a->hidden, m->d_h2, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_dense_backward(m->pool, m->z, n, a->latent, m->t[T_W3]->value, a->hidden,
                                   m->d_h2, m->d_z, m->t[T_W3]->grad, m->t[T_B3]->grad, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_dense_backward(m->pool, m->h1, n, a->hidden, m->t[T_W2]->value, a->latent,
                                   m->d_z, m->d_h1, m->t[T_W2]->grad, m->t[T_B2]->grad, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_gelu_backward(m->a1, m->d_h1, n * a->hidden, m->d_h1, err);
    }
    if (st == ARD_OK) {
        st = ard_nn_dense_backward(m->pool, m->e, n, pd, m->t[T_W1]->value, a->hidden, m->d_h1,
                                   m->d_e, m->t[T_W1]->grad, m->t[T_B1]->grad, err);
    }
    for (int64_t r = 0; st == ARD_OK && mask && r < n * np; r++) {
        if (mask[r] == 0) {
            memset(m->d_e + r * d, 0, (size_t)d * sizeof(float));
        }
    }
    if (st == ARD_OK) {
        st = ard_nn_dense_backward(m->pool, tokens, n * np, a->patch, m->t[T_WE]->value, d, m->d_e,
                                   NULL, m->t[T_WE]->grad, m->t[T_BE]->grad, err);
    }
    return st;
}

ard_status ard_anomaly_model_train_step(ard_anomaly_model *m, const float *tokens,
                                        const uint8_t *mask, const float *weights, int64_t n,
                                        float lr, double *loss, ard_error *err) {
    if (!m || n < 1 || !(lr > 0.0f)) {
        return ard_error_set(err, ARD_EINVAL, "anomaly train step: NULL model, n < 1 or lr <= 0");
    }
    double batch_loss = 0.0;
    ard_nn_params_zero_grad(m->params);
    ard_status st = ard__anomaly_loss_grad(m, tokens, mask, weights, n, &batch_loss, err);
    if (st == ARD_OK && !isfinite(batch_loss)) {
        st = ard_error_set(err, ARD_ECORRUPT, "anomaly train step: the loss became %g", batch_loss);
    }
    if (st == ARD_OK) {
        m->adam.lr = lr;
        st = ard_nn_adam_step(&m->adam, m->params, err);
    }
    if (loss) {
        *loss = batch_loss;
    }
    return st;
}

/* ---- files ---- */

static ard_status set_meta_num(ard_nn_params *p, const char *key, double v, ard_error *err) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    return ard_nn_params_set_meta(p, key, buf, err);
}

ard_status ard_anomaly_model_save(ard_anomaly_model *m, const char *path, ard_error *err) {
    if (!m || !path) {
        return ard_error_set(err, ARD_EINVAL, "anomaly model save: NULL model or path");
    }
    const char *keys[] = {
        "ard.anomaly.num_patches",    "ard.anomaly.patch",      "ard.anomaly.embed",
        "ard.anomaly.hidden",         "ard.anomaly.latent",     "ard.anomaly.knn_k",
        "ard.anomaly.density_weight", "ard.anomaly.mu_chi2",    "ard.anomaly.sd_chi2",
        "ard.anomaly.mu_density",     "ard.anomaly.sd_density", "ard.anomaly.frame",
        "ard.anomaly.rest_zmin",      "ard.anomaly.rest_zmax"};
    const double vals[] = {m->a.num_patches, m->a.patch,  m->a.embed,        m->a.hidden,
                           m->a.latent,      m->knn_k,    m->density_weight, m->mu_chi2,
                           m->sd_chi2,       m->mu_dens,  m->sd_dens,        m->frame,
                           m->rest_zmin,     m->rest_zmax};
    ard_status st = ARD_OK;
    for (size_t k = 0; st == ARD_OK && k < sizeof vals / sizeof *vals; k++) {
        st = set_meta_num(m->params, keys[k], vals[k], err);
    }
    if (st == ARD_OK) {
        st = ard_nn_params_set_meta(m->params, "ard.anomaly.format", "1", err);
    }
    return st == ARD_OK ? ard_nn_save_safetensors(m->params, path, err) : st;
}

static int meta_num(const ard_nn_params *p, const char *key, double *out) {
    const char *v = ard_nn_params_get_meta(p, key);
    char *end = NULL;
    if (!v) {
        return -1;
    }
    *out = strtod(v, &end);
    return end != v && *end == '\0' ? 0 : -1;
}

ard_status ard_anomaly_model_load(const char *path, int32_t threads, ard_anomaly_model **out,
                                  ard_error *err) {
    *out = NULL;
    ard_nn_params *p = NULL;
    ard_status st = ard_nn_load_safetensors(path, &p, err);
    if (st != ARD_OK) {
        return st;
    }
    double v[14];
    const char *keys[] = {
        "ard.anomaly.num_patches",    "ard.anomaly.patch",      "ard.anomaly.embed",
        "ard.anomaly.hidden",         "ard.anomaly.latent",     "ard.anomaly.knn_k",
        "ard.anomaly.density_weight", "ard.anomaly.mu_chi2",    "ard.anomaly.sd_chi2",
        "ard.anomaly.mu_density",     "ard.anomaly.sd_density", "ard.anomaly.frame",
        "ard.anomaly.rest_zmin",      "ard.anomaly.rest_zmax"};
    for (int k = 0; k < 14; k++) {
        if (meta_num(p, keys[k], &v[k]) != 0) {
            ard_nn_params_free(p);
            return ard_error_set(err, ARD_EINVAL,
                                 "%s: not an ard anomaly model (metadata %s missing or not a "
                                 "number)",
                                 path, keys[k]);
        }
    }
    ard_anomaly_arch a = {(int32_t)v[0], (int32_t)v[1], (int32_t)v[2], (int32_t)v[3],
                          (int32_t)v[4]};
    ard_anomaly_model *m = NULL;
    st = model_alloc(&a, threads, &m, err);
    if (st != ARD_OK) {
        ard_nn_params_free(p);
        ard_error_prefix(err, "%s: ", path);
        return st;
    }
    m->params = p;
    m->knn_k = (int32_t)v[5];
    m->density_weight = (float)v[6];
    m->mu_chi2 = v[7];
    m->sd_chi2 = v[8];
    m->mu_dens = v[9];
    m->sd_dens = v[10];
    m->frame = (int32_t)v[11];
    m->rest_zmin = v[12];
    m->rest_zmax = v[13];
    st = bind(m, 0, err);
    if (st == ARD_OK) {
        m->ref = ard_nn_params_find(p, "ref.latent");
        if (m->ref && (m->ref->ndim != 2 || m->ref->shape[1] != a.latent)) {
            st = ard_error_set(err, ARD_EINVAL, "tensor ref.latent has another latent size");
        }
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "%s: ", path);
        ard_anomaly_model_free(m);
        return st;
    }
    *out = m;
    return ARD_OK;
}
