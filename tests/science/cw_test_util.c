/* Pieces the cosmic-web SAGE tests share: see cw_test_util.h. */
#include "cw_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ard/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cwt_prepare(ard_cosmicweb_model *m, const cw_graph *g, float *features, int64_t n, int32_t nf,
                 const int32_t *labels, float class_weight[4], cw_sampler *s) {
    for (int j = 0; j < nf; j++) {
        double sum = 0, sum2 = 0;
        for (int64_t i = 0; i < n; i++) {
            sum += features[i * nf + j];
            sum2 += (double)features[i * nf + j] * features[i * nf + j];
        }
        double mean = sum / (double)n, var = sum2 / (double)n - mean * mean;
        m->mean->value[j] = (float)mean;
        m->std->value[j] = (float)(var > 1e-12 ? sqrt(var) : 1.0);
    }
    ard__cw_normalise(m, features, n);
    class_weight[0] = 0.5f, class_weight[1] = 1.0f, class_weight[2] = 1.5f;
    class_weight[3] = 2.0f;
    *s = (cw_sampler){.g = g,
                      .features = features,
                      .nf = nf,
                      .labels = labels,
                      .class_weight = class_weight,
                      .fanout1 = 5,
                      .fanout2 = 3,
                      .seed = 11};
}

static double batch_loss(ard_cosmicweb_model *m, const cw_batch *b, cw_work *w) {
    double loss = 0.0;
    assert_int_equal(ard__cw_batch_grad(m, b, 0.1f, NULL, w, &loss, NULL), ARD_OK);
    return loss;
}

void cwt_kinkless_batch(const cw_sampler *s, ard_cosmicweb_model *m, int64_t n, int32_t hidden,
                        cw_batch *b, cw_work *w) {
    int trial = 0;
    for (; trial < 50; trial++) {
        int64_t seeds[7] = {3, 50, 77, 120, 121, 300, 399};
        for (int i = 0; i < 7; i++) {
            seeds[i] = (seeds[i] + 17 * trial) % n;
        }
        assert_int_equal(ard__cw_sample_batch(s, 2, seeds, 7, b, NULL), ARD_OK);
        ard_nn_params_zero_grad(m->params);
        batch_loss(m, b, w);
        int kink = 0;
        for (int64_t i = 0; i < b->n1 * hidden; i++) {
            kink |= fabsf(w->z1[i]) < 0.015f;
        }
        if (!kink) {
            return;
        }
    }
    fail_msg("no seed set without a first-hop node at a ReLU kink in 50 trials");
}

void cwt_check_gradients(ard_cosmicweb_model *m, const cw_batch *b, cw_work *w,
                         ard_nn_tensor *const *ts, int nt) {
    float **grads = malloc((size_t)nt * sizeof *grads);
    assert_non_null(grads);
    for (int t = 0; t < nt; t++) { /* before the evaluations below add to the gradients */
        grads[t] = malloc((size_t)ts[t]->count * sizeof *grads[t]);
        assert_non_null(grads[t]);
        memcpy(grads[t], ts[t]->grad, (size_t)ts[t]->count * sizeof *grads[t]);
    }
    for (int t = 0; t < nt; t++) {
        const float *analytic = grads[t];
        int64_t bad = 0;
        for (int64_t i = 0; i < ts[t]->count; i++) {
            float saved = ts[t]->value[i];
            double h = 2e-3;
            ts[t]->value[i] = (float)(saved + h);
            double lp = batch_loss(m, b, w);
            ts[t]->value[i] = (float)(saved - h);
            double lm = batch_loss(m, b, w);
            ts[t]->value[i] = saved;
            double num = (lp - lm) / ((double)(float)(saved + h) - (double)(float)(saved - h));
            /* a ReLU kink inside [w - h, w + h] may spoil a few entries; count them */
            if (fabs(num - analytic[i]) > 2e-3 * (1.0 + fabs(num)) + 1e-4) {
                bad++;
                print_message("%s[%lld]: analytic %g, numeric %g\n", ts[t]->name, (long long)i,
                              (double)analytic[i], num);
            }
        }
        assert_true(bad <= ts[t]->count / 50);
        double norm = 0.0;
        for (int64_t i = 0; i < ts[t]->count; i++) {
            norm = fmax(norm, fabs(analytic[i]));
        }
        assert_true(norm > 1e-5); /* the tensor takes part in the loss: not vacuous */
        free(grads[t]);
    }
    free(grads);
}

/* Every parameter's gradient, in order, into dst. */
static void copy_grads(const ard_cosmicweb_model *m, float *dst) {
    for (int64_t i = 0, at = 0; i < ard_nn_params_count(m->params); i++) {
        const ard_nn_tensor *t = ard_nn_params_at(m->params, i);
        memcpy(dst + at, t->grad, (size_t)t->count * sizeof *dst);
        at += t->count;
    }
}

float *cwt_check_accumulation(ard_cosmicweb_model *m, const cw_sampler *s, const int64_t *seeds,
                              int32_t total, int32_t per, float scale, cw_batch *b, cw_work *w,
                              double *norm) {
    int64_t size = ard_nn_params_size(m->params);
    float *one = malloc((size_t)size * sizeof *one), *many = malloc((size_t)size * sizeof *many);
    assert_true(one && many);
    double loss_one = 0.0, loss_many = 0.0, l;
    ard_nn_params_zero_grad(m->params);
    assert_int_equal(ard__cw_sample_batch(s, 1, seeds, total, b, NULL), ARD_OK);
    assert_int_equal(ard__cw_batch_grad(m, b, scale, NULL, w, &loss_one, NULL), ARD_OK);
    copy_grads(m, one);
    ard_nn_params_zero_grad(m->params);
    for (int32_t first = 0; first < total; first += per) {
        int32_t count = total - first < per ? total - first : per;
        assert_int_equal(ard__cw_sample_batch(s, 1, seeds + first, count, b, NULL), ARD_OK);
        assert_int_equal(ard__cw_batch_grad(m, b, scale, NULL, w, &l, NULL), ARD_OK);
        loss_many += l;
    }
    copy_grads(m, many);
    assert_true(fabs(loss_one - loss_many) <= 1e-5 * fabs(loss_one));
    *norm = 0.0;
    for (int64_t i = 0; i < size; i++) {
        *norm = fmax(*norm, fabs(one[i]));
    }
    assert_true(*norm > 1e-4); /* not vacuous */
    for (int64_t i = 0; i < size; i++) {
        if (fabs(one[i] - many[i]) > 1e-5 * *norm) {
            fail_msg("gradient %lld: one batch %g, accumulated %g", (long long)i, (double)one[i],
                     (double)many[i]);
        }
    }
    free(many);
    return one;
}
