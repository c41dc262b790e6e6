/* nn losses (weighted softmax cross-entropy, weighted squared error) and the Adam optimiser. Sums run
 * in a fixed order (double, or float lanes folded into double in fixed blocks): the same inputs give
 * the same bits whatever the thread count. */
#include "ard/nn.h"
#include "science_int.h"

#include <math.h>

static ard_status check_weight(const float *weights, int64_t i, const char *what, ard_error *err) {
    if (weights && !(weights[i] >= 0.0f && isfinite(weights[i]))) {
        return ard_error_set(err, ARD_EINVAL, "nn: %s: weight %g of element %lld (>= 0 and finite)",
                             what, (double)weights[i], (long long)i);
    }
    return ARD_OK;
}

/* One row: softmax into p (or nothing), returns -log p[label] in double. */
static double xent_row(const float *z, int64_t classes, int32_t label, double *p) {
    double mx = z[0];
    for (int64_t k = 1; k < classes; k++) {
        mx = z[k] > mx ? z[k] : mx;
    }
    double sum = 0.0;
    for (int64_t k = 0; k < classes; k++) {
        p[k] = exp((double)z[k] - mx);
        sum += p[k];
    }
    for (int64_t k = 0; k < classes; k++) {
        p[k] /= sum;
    }
    return log(sum) + mx - (double)z[label];
}

#define XENT_MAX_CLASSES 4096

ard_status ard_nn_softmax_xent(const float *logits, int64_t n, int64_t classes,
                               const int32_t *labels, const float *weights, float scale,
                               double *loss, float *dlogits, float *probs, ard_error *err) {
    ard_status st = ard__nn_need_blas("softmax cross-entropy", err);
    if (st != ARD_OK) {
        return st;
    }
    if (n < 0 || classes < 1 || classes > XENT_MAX_CLASSES || !loss ||
        (n > 0 && (!logits || !labels))) {
        return ard_error_set(err, ARD_EINVAL,
                             "nn: softmax cross-entropy: bad sizes (n %lld, classes %lld in 1..%d) "
                             "or a missing array",
                             (long long)n, (long long)classes, XENT_MAX_CLASSES);
    }
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= classes) {
            return ard_error_set(err, ARD_EINVAL,
                                 "nn: softmax cross-entropy: label %d of sample %lld outside [0, "
                                 "%lld)",
                                 (int)labels[i], (long long)i, (long long)classes);
        }
        st = check_weight(weights, i, "softmax cross-entropy", err);
        if (st != ARD_OK) {
            return st;
        }
        for (int64_t k = 0; k < classes; k++) {
            if (!isfinite(logits[i * classes + k])) {
                return ard_error_set(err, ARD_EINVAL,
                                     "nn: softmax cross-entropy: non-finite logit of sample %lld",
                                     (long long)i);
            }
        }
    }
    double p[XENT_MAX_CLASSES];
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double w = weights ? weights[i] : 1.0;
        total += w * xent_row(logits + i * classes, classes, labels[i], p);
        for (int64_t k = 0; k < classes; k++) {
            if (probs) {
                probs[i * classes + k] = (float)p[k];
            }
            if (dlogits) {
                double y = k == labels[i] ? 1.0 : 0.0;
                dlogits[i * classes + k] = (float)((double)scale * w * (p[k] - y));
            }
        }
    }
    *loss = (double)scale * total;
    return ARD_OK;
}

/* 1 when a weight is negative, NaN or infinite (sign bit, or exponent all ones): branch-free, so
 * the scan vectorises. */
NN_INLINE uint32_t bad_weight(float v) {
    union {
        float f;
        uint32_t u;
    } b = {.f = v};
    return (b.u >> 31) | ((b.u & 0x7f800000u) == 0x7f800000u);
}

/* v where w != 0, else +0 (also when v is NaN): a bit mask, so that the loop vectorises. */
NN_INLINE float keep_if(float v, float w) {
    union {
        float f;
        uint32_t u;
    } b = {.f = v};
    b.u &= 0u - (uint32_t)(w != 0.0f);
    return b.f;
}

/* The weighted loss with weights and a gradient, in float: eight lanes (independent sums the
 * compiler vectorises without reassociating) folded into double every 64 elements, so the order of
 * the additions is fixed. A masked element (w = 0) contributes nothing even when its values are not
 * finite. */
NN_INLINE double wsq_body(const float *pred, const float *target, const float *weights,
                          int64_t count, float two_scale, float *dpred) {
    double total = 0.0;
    int64_t j = 0;
    for (; j + 64 <= count; j += 64) {
        float acc[8] = {0};
        for (int64_t b = j; b < j + 64; b += 8) {
            for (int l = 0; l < 8; l++) {
                float w = weights[b + l], d = pred[b + l] - target[b + l];
                acc[l] += keep_if(w * d * d, w);
                dpred[b + l] = keep_if(two_scale * w * d, w);
            }
        }
        for (int l = 0; l < 8; l++) {
            total += acc[l];
        }
    }
    for (; j < count; j++) {
        float w = weights[j], d = pred[j] - target[j];
        total += keep_if(w * d * d, w);
        dpred[j] = keep_if(two_scale * w * d, w);
    }
    return total;
}

NN_AVX2 static double wsq_avx2(const float *pred, const float *target, const float *weights,
                               int64_t count, float two_scale, float *dpred) {
    return wsq_body(pred, target, weights, count, two_scale, dpred);
}

static double wsq_base(const float *pred, const float *target, const float *weights, int64_t count,
                       float two_scale, float *dpred) {
    return wsq_body(pred, target, weights, count, two_scale, dpred);
}

ard_status ard_nn_weighted_sq_error(const float *pred, const float *target, const float *weights,
                                    int64_t count, float scale, double *loss, float *dpred,
                                    ard_error *err) {
    ard_status st = ard__nn_need_blas("weighted squared error", err);
    if (st != ARD_OK) {
        return st;
    }
    if (count < 0 || !loss || (count > 0 && (!pred || !target))) {
        return ard_error_set(err, ARD_EINVAL, "nn: weighted squared error: bad size or array");
    }
    uint32_t bad = 0;
    for (int64_t j = 0; weights && j < count; j++) {
        bad |= bad_weight(weights[j]);
    }
    for (int64_t j = 0; bad && j < count; j++) { /* rare: name the first bad weight */
        st = check_weight(weights, j, "weighted squared error", err);
        if (st != ARD_OK) {
            return st;
        }
    }
    if (weights && dpred) { /* the training path */
        *loss = (double)scale * (NN_HAVE_AVX2() ? wsq_avx2 : wsq_base)(pred, target, weights, count,
                                                                       2.0f * scale, dpred);
        return ARD_OK;
    }
    double total = 0.0;
    for (int64_t j = 0; j < count; j++) {
        double w = weights ? weights[j] : 1.0;
        double d = (double)pred[j] - (double)target[j];
        if (w != 0.0) {
            total += w * d * d;
        }
        if (dpred) {
            dpred[j] = w != 0.0 ? (float)(2.0 * (double)scale * w * d) : 0.0f;
        }
    }
    *loss = (double)scale * total;
    return ARD_OK;
}

/* ---- Adam ---- */

void ard_nn_adam_init(ard_nn_adam *adam) {
    adam->lr = 1e-3f;
    adam->beta1 = 0.9f;
    adam->beta2 = 0.999f;
    adam->eps = 1e-8f;
    adam->weight_decay = 0.0f;
    adam->step = 0;
    adam->pool = NULL;
}

static ard_status adam_moments(ard_nn_tensor *t, ard_error *err) {
    if (t->adam_m && t->adam_v) {
        return ARD_OK;
    }
    size_t n = (size_t)(t->count ? t->count : 1);
    if (!t->adam_m) {
        t->adam_m = ard_calloc(n, sizeof(float));
    }
    if (!t->adam_v) {
        t->adam_v = ard_calloc(n, sizeof(float));
    }
    if (!t->adam_m || !t->adam_v) {
        return ard_error_set(err, ARD_ENOMEM, "nn: out of memory for the Adam moments of '%s'",
                             t->name);
    }
    return ARD_OK;
}

/* The update runs in float on fixed chunks of the parameters laid end to end (the same chunks
 * for any pool, and each element is updated on its own, so the result does not depend on the thread
 * count); the loop vectorises (this file is built with -fno-math-errno). */
#define NN_ADAM_CHUNK 65536

typedef struct nn_adam_run {
    ard_nn_params *params;
    int64_t count, total;
    float b1, b2, step, inv_sqrt_c2, eps, decay;
} nn_adam_run;

NN_INLINE void adam_span_body(const nn_adam_run *r, ard_nn_tensor *t, int64_t lo, int64_t hi) {
    float b1 = r->b1, b2 = r->b2, step = r->step, isc2 = r->inv_sqrt_c2, eps = r->eps;
    float decay = r->decay, nb1 = 1.0f - b1, nb2 = 1.0f - b2;
    float *restrict value = t->value, *restrict mom = t->adam_m, *restrict var = t->adam_v;
    const float *restrict grad = t->grad;
    for (int64_t j = lo; j < hi; j++) {
        float g = grad[j];
        float m = b1 * mom[j] + nb1 * g;
        float v = b2 * var[j] + nb2 * g * g;
        mom[j] = m;
        var[j] = v;
        value[j] -= step * m / (sqrtf(v) * isc2 + eps) + decay * value[j];
    }
}

NN_AVX2 static void adam_span_avx2(const nn_adam_run *r, ard_nn_tensor *t, int64_t lo, int64_t hi) {
    adam_span_body(r, t, lo, hi);
}

static void adam_span_base(const nn_adam_run *r, ard_nn_tensor *t, int64_t lo, int64_t hi) {
    adam_span_body(r, t, lo, hi);
}

static void adam_span(const nn_adam_run *r, ard_nn_tensor *t, int64_t lo, int64_t hi) {
    (NN_HAVE_AVX2() ? adam_span_avx2 : adam_span_base)(r, t, lo, hi);
}

static void adam_chunk(void *arg, int64_t index, int thread_id) {
    (void)thread_id;
    const nn_adam_run *r = arg;
    int64_t lo = index * NN_ADAM_CHUNK, hi = lo + NN_ADAM_CHUNK, base = 0;
    for (int64_t i = 0; i < r->count && base < hi; i++) {
        ard_nn_tensor *t = ard_nn_params_at(r->params, i);
        int64_t a = lo > base ? lo - base : 0, b = hi - base < t->count ? hi - base : t->count;
        if (a < b) {
            adam_span(r, t, a, b);
        }
        base += t->count;
    }
}

ard_status ard_nn_adam_step(ard_nn_adam *adam, ard_nn_params *params, ard_error *err) {
    ard_status st = ard__nn_need_blas("Adam", err);
    if (st != ARD_OK) {
        return st;
    }
    if (!adam || !params || !(adam->lr > 0.0f) || !(adam->beta1 >= 0.0f && adam->beta1 < 1.0f) ||
        !(adam->beta2 >= 0.0f && adam->beta2 < 1.0f) || !(adam->eps > 0.0f) ||
        !(adam->weight_decay >= 0.0f)) {
        return ard_error_set(err, ARD_EINVAL,
                             "nn: Adam needs lr > 0, betas in [0, 1), eps > 0, weight_decay >= 0");
    }
    int64_t count = ard_nn_params_count(params);
    for (int64_t i = 0; i < count; i++) {
        st = adam_moments(ard_nn_params_at(params, i), err);
        if (st != ARD_OK) {
            return st;
        }
    }
    adam->step++;
    nn_adam_run run = {.params = params, .count = count};
    double b1 = adam->beta1, b2 = adam->beta2;
    double c1 = 1.0 - pow(b1, (double)adam->step), c2 = 1.0 - pow(b2, (double)adam->step);
    run.b1 = adam->beta1;
    run.b2 = adam->beta2;
    run.step = (float)(adam->lr / c1);
    run.inv_sqrt_c2 = (float)(1.0 / sqrt(c2));
    run.eps = adam->eps;
    run.decay = adam->lr * adam->weight_decay;
    for (int64_t i = 0; i < count; i++) {
        run.total += ard_nn_params_at(params, i)->count;
    }
    int64_t chunks = (run.total + NN_ADAM_CHUNK - 1) / NN_ADAM_CHUNK;
    if (adam->pool && chunks > 1) {
        ard_pool_for(adam->pool, chunks, adam_chunk, &run);
    } else {
        for (int64_t c = 0; c < chunks; c++) {
            adam_chunk(&run, c, 0);
        }
    }
    return ARD_OK;
}
