/* Merging DESI's b/r/z arms onto the ARD grid: flux-conserving rebinning (each input pixel spreads
 * its flux over the output pixels it overlaps), variance propagated, inverse-variance weighting in
 * the arm overlaps, masked inputs left out and fully masked outputs kept masked. */
#include "survey_int.h"

#include <string.h>

/* Edge k of input pixel grid w[0..n) (midpoints; outer edges mirror the first/last half step). */
static double in_edge(const double *w, int64_t n, int64_t k) {
    if (k <= 0) {
        return w[0] - 0.5 * (w[1] - w[0]);
    }
    if (k >= n) {
        return w[n - 1] + 0.5 * (w[n - 1] - w[n - 2]);
    }
    return 0.5 * (w[k - 1] + w[k]);
}

/* One arm: accumulates into sum_f (ivar-weighted flux) and sum_i (ivar) and flags coverage. */
static void add_arm(const ard__coadd *c, int a, int64_t row, const ard_grid *grid,
                    const double *edges, double *sum_f, double *sum_i, uint8_t *covered) {
    int64_t nin = c->nwave[a];
    const double *w = c->wave[a];
    const float *f = c->flux[a] + row * nin;
    const float *iv = c->ivar[a] + row * nin;
    const uint8_t *bad = c->bad[a] + row * nin;
    int64_t k = 0;
    for (int64_t j = 0; j < grid->n; j++) {
        double e0 = edges[j], e1 = edges[j + 1];
        if (e1 <= in_edge(w, nin, 0) || e0 >= in_edge(w, nin, nin)) {
            continue;
        }
        while (k < nin && in_edge(w, nin, k + 1) <= e0) {
            k++;
        }
        double wsum = 0.0, fsum = 0.0, vsum = 0.0, span = 0.0;
        for (int64_t q = k; q < nin; q++) {
            double lo = in_edge(w, nin, q), hi = in_edge(w, nin, q + 1);
            if (lo >= e1) {
                break;
            }
            double ov = (hi < e1 ? hi : e1) - (lo > e0 ? lo : e0);
            if (ov <= 0.0) {
                continue;
            }
            span += ov;
            if (bad[q] || !(iv[q] > 0.0f) || !isfinite(f[q])) {
                continue;
            }
            wsum += ov;
            fsum += ov * f[q];
            vsum += ov * ov / iv[q];
        }
        if (span > 0.0) {
            covered[j] = 1;
        }
        if (wsum >= 0.5 * (e1 - e0) && vsum > 0.0) {
            double flux = fsum / wsum, var = vsum / (wsum * wsum);
            sum_f[j] += flux / var;
            sum_i[j] += 1.0 / var;
        }
    }
}

void ard__resample_row(const ard__coadd *c, int64_t row, const ard_grid *grid, const double *edges,
                       double *work, float *flux, float *ivar, uint8_t *mask) {
    double *sum_f = work, *sum_i = work + grid->n;
    memset(work, 0, (size_t)(2 * grid->n) * sizeof(double));
    memset(mask, 0, (size_t)grid->n);
    for (int a = 0; a < 3; a++) {
        add_arm(c, a, row, grid, edges, sum_f, sum_i, mask);
    }
    for (int64_t j = 0; j < grid->n; j++) {
        uint8_t covered = mask[j];
        if (sum_i[j] > 0.0) {
            flux[j] = (float)(sum_f[j] / sum_i[j]);
            ivar[j] = (float)sum_i[j];
            mask[j] = 0;
        } else {
            flux[j] = 0.0f;
            ivar[j] = 0.0f;
            mask[j] = covered ? ARD_MASK_BADPIX : ARD_MASK_NODATA;
        }
    }
}
