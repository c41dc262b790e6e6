/* The reference every cosmic-web training reports beside its own score: a density-only baseline,
 * multinomial logistic regression on the same standardised node features (k-NN distances,
 * redshift, target class) without the graph, with the training's class weights. Convex, started
 * at zero and optimised full-batch with Adam, so it needs no seed and gives the same answer for any
 * thread count. At most CW_BASE_ROWS training rows (an even stride through them) keep it to a few
 * seconds at any survey size. */
#include "science_int.h"

#include <math.h>
#include <string.h>

#define CW_BASE_ROWS 200000
#define CW_BASE_STEPS 300
#define CW_BASE_LR 0.05

static void softmax_row(const double *w, int32_t nf, const float *x, double *p) {
    double mx = -INFINITY;
    for (int c = 0; c < CW_C; c++) {
        double s = w[c * (nf + 1) + nf];
        for (int j = 0; j < nf; j++) {
            s += w[c * (nf + 1) + j] * x[j];
        }
        p[c] = s;
        mx = s > mx ? s : mx;
    }
    double z = 0.0;
    for (int c = 0; c < CW_C; c++) {
        p[c] = exp(p[c] - mx);
        z += p[c];
    }
    for (int c = 0; c < CW_C; c++) {
        p[c] /= z;
    }
}

void ard__cw_baseline(const float *features, int32_t nf, int64_t n, const int64_t *train,
                      int64_t train_count, const int32_t *label, const float *class_weight,
                      float *prob) {
    enum { P_MAX = CW_C * (CW_NF_MAX + 1) };
    double w[P_MAX], g[P_MAX], m1[P_MAX], m2[P_MAX];
    int P = CW_C * (nf + 1);
    memset(w, 0, sizeof w);
    memset(m1, 0, sizeof m1);
    memset(m2, 0, sizeof m2);
    int64_t stride =
        train_count > CW_BASE_ROWS ? (train_count + CW_BASE_ROWS - 1) / CW_BASE_ROWS : 1;
    for (int step = 1; step <= CW_BASE_STEPS && train_count > 0; step++) {
        memset(g, 0, sizeof(double) * (size_t)P);
        double wsum = 0.0;
        for (int64_t t = 0; t < train_count; t += stride) {
            int64_t i = train[t];
            const float *x = features + i * nf;
            double p[CW_C], wi = class_weight[label[i]];
            softmax_row(w, nf, x, p);
            p[label[i]] -= 1.0;
            for (int c = 0; c < CW_C; c++) {
                double d = wi * p[c];
                for (int j = 0; j < nf; j++) {
                    g[c * (nf + 1) + j] += d * x[j];
                }
                g[c * (nf + 1) + nf] += d;
            }
            wsum += wi;
        }
        double b1 = 1.0 - pow(0.9, step), b2 = 1.0 - pow(0.999, step);
        for (int k = 0; k < P; k++) {
            double gk = wsum > 0.0 ? g[k] / wsum : 0.0;
            m1[k] = 0.9 * m1[k] + 0.1 * gk;
            m2[k] = 0.999 * m2[k] + 0.001 * gk * gk;
            w[k] -= CW_BASE_LR * (m1[k] / b1) / (sqrt(m2[k] / b2) + 1e-8);
        }
    }
    for (int64_t i = 0; i < n; i++) {
        double p[CW_C];
        softmax_row(w, nf, features + i * nf, p);
        for (int c = 0; c < CW_C; c++) {
            prob[i * CW_C + c] = (float)p[c];
        }
    }
}
