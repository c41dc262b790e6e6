/* The geometric aggregator of the cosmic-web GraphSAGE layers: a learned, per-neighbour weighted
 * tidal-like tensor of the unit offsets to the neighbours, summarised by rotation invariants. The
 * node features are distances (isotropic); the T-web class counts the tidal tensor's eigenvalues
 * above a threshold, i.e. the anisotropy, which only the neighbours' directions can show. */
#include "science_int.h"

#include <math.h>
#include <string.h>

/* The traceless tensor 3 e e^T - I of the offset from a to b as a full 3 x 3 matrix, and log10 of
 * the distance; 0 (and a 1 kpc distance) for coincident points. */
static double offset_tensor(const double *a, const double *b, double m[3][3]) {
    double d[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            m[i][j] = r > 0.0 ? 3.0 * d[i] * d[j] / (r * r) - (i == j) : 0.0;
        }
    }
    return log10(r > 1e-3 ? r : 1e-3);
}

/* w = p_g [h, log10 r, 1] (p_g[dim + 2], when present, weighs the neighbour's own tensor) */
static double neighbour_weight(const float *pg, int64_t dim, const float *h, double log_r) {
    double w = pg[dim] * log_r + pg[dim + 1];
    for (int64_t d = 0; d < dim; d++) {
        w += (double)pg[d] * h[d];
    }
    return w;
}

static void full_matrix(const float *t6, double m[3][3]) {
    m[0][0] = t6[0], m[1][1] = t6[1], m[2][2] = t6[2];
    m[0][1] = m[1][0] = t6[3];
    m[0][2] = m[2][0] = t6[4];
    m[1][2] = m[2][1] = t6[5];
}

static void square(const double a[3][3], double out[3][3]) {
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            out[i][j] = a[i][0] * a[0][j] + a[i][1] * a[1][j] + a[i][2] * a[2][j];
        }
    }
}

static double dot9(const double a[3][3], const double b[3][3]) {
    double s = 0.0;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            s += a[i][j] * b[i][j];
        }
    }
    return s;
}

/* The unit line of sight of a position (0 at the origin). */
static void line_of_sight(const double *x, double l[3]) {
    double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    for (int i = 0; i < 3; i++) {
        l[i] = r > 0.0 ? x[i] / r : 0.0;
    }
}

void ard__cw_geo_forward(const float *p, int32_t geo, int64_t dim, const float *h, const float *tin,
                         const double *pos, int64_t self, const int64_t *nbr, int32_t count,
                         float *t, float *out) {
    double acc[64][6];
    memset(acc, 0, (size_t)geo * sizeof acc[0]); /* not all 64: this runs for every node */
    const double *at = pos + 3 * self;
    int64_t stride = dim + 2 + (tin != NULL);
    for (int32_t j = 0; j < count; j++) {
        double m[3][3];
        double log_r = offset_tensor(at, pos + 3 * nbr[j], m);
        const float *hj = h + nbr[j] * dim;
        for (int32_t g = 0; g < geo; g++) {
            const float *pg = p + g * stride;
            double w = neighbour_weight(pg, dim, hj, log_r);
            acc[g][0] += w * m[0][0], acc[g][1] += w * m[1][1], acc[g][2] += w * m[2][2];
            acc[g][3] += w * m[0][1], acc[g][4] += w * m[0][2], acc[g][5] += w * m[1][2];
            for (int c = 0; tin && c < 6; c++) {
                acc[g][c] += (double)pg[dim + 2] * tin[(nbr[j] * geo + g) * 6 + c];
            }
        }
    }
    double l[3];
    line_of_sight(at, l);
    for (int32_t g = 0; g < geo; g++) {
        for (int c = 0; c < 6; c++) {
            t[g * 6 + c] = count > 0 ? (float)(acc[g][c] / count) : 0.0f;
        }
        double m[3][3], m2[3][3];
        full_matrix(t + g * 6, m);
        square(m, m2);
        double q = m2[0][0] + m2[1][1] + m2[2][2], c3 = dot9(m2, m);
        double ll = 0.0;
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                ll += l[a] * m[a][b] * l[b];
            }
        }
        out[3 * g] = (float)log1p(q);
        out[3 * g + 1] = (float)asinh(c3);
        out[3 * g + 2] = (float)ll;
    }
}

void ard__cw_geo_backward(const float *p, int32_t geo, int64_t dim, const float *h,
                          const float *tin, const double *pos, int64_t self, const int64_t *nbr,
                          int32_t count, const float *t, const float *dout, const float *dt,
                          float *dp, float *dh, float *dtin) {
    if (count < 1) {
        return;
    }
    /* dL/dT of every channel (full symmetric matrices), already divided by the count */
    double gm[64][3][3];
    double l[3];
    const double *at = pos + 3 * self;
    line_of_sight(at, l);
    for (int32_t g = 0; g < geo; g++) {
        double m[3][3], m2[3][3];
        full_matrix(t + g * 6, m);
        square(m, m2);
        double q = m2[0][0] + m2[1][1] + m2[2][2], c3 = dot9(m2, m);
        double aq = dout[3 * g] / (1.0 + q) * 2.0, ac = dout[3 * g + 1] / sqrt(1.0 + c3 * c3) * 3.0;
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                gm[g][a][b] =
                    (aq * m[a][b] + ac * m2[a][b] + dout[3 * g + 2] * l[a] * l[b]) / count;
            }
        }
        if (dt) { /* the layer above's gradient of this tensor (full-matrix convention) */
            double e[3][3];
            full_matrix(dt + g * 6, e);
            for (int a = 0; a < 3; a++) {
                for (int b = 0; b < 3; b++) {
                    gm[g][a][b] += e[a][b] / count;
                }
            }
        }
    }
    int64_t stride = dim + 2 + (tin != NULL);
    for (int32_t j = 0; j < count; j++) {
        double m[3][3];
        double log_r = offset_tensor(at, pos + 3 * nbr[j], m);
        const float *hj = h + nbr[j] * dim;
        float *dhj = dh ? dh + nbr[j] * dim : NULL;
        for (int32_t g = 0; g < geo; g++) {
            double dw = dot9(gm[g], m);
            float *dpg = dp + g * stride;
            const float *pg = p + g * stride;
            for (int64_t d = 0; d < dim; d++) {
                dpg[d] += (float)(dw * hj[d]);
            }
            dpg[dim] += (float)(dw * log_r);
            dpg[dim + 1] += (float)dw;
            for (int64_t d = 0; dhj && d < dim; d++) {
                dhj[d] += (float)(dw * pg[d]);
            }
            if (tin) {
                const float *tj = tin + (nbr[j] * geo + g) * 6;
                double e[3][3];
                full_matrix(tj, e);
                dpg[dim + 2] += (float)dot9(gm[g], e);
                float *dtj = dtin + (nbr[j] * geo + g) * 6;
                dtj[0] += (float)(pg[dim + 2] * gm[g][0][0]);
                dtj[1] += (float)(pg[dim + 2] * gm[g][1][1]);
                dtj[2] += (float)(pg[dim + 2] * gm[g][2][2]);
                dtj[3] += (float)(pg[dim + 2] * gm[g][0][1]);
                dtj[4] += (float)(pg[dim + 2] * gm[g][0][2]);
                dtj[5] += (float)(pg[dim + 2] * gm[g][1][2]);
            }
        }
    }
}
