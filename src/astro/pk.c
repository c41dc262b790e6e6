/* Power spectrum estimator of a periodic grid field (include/ard/astro.h). */
#include "astro_int.h"

#include <math.h>
#include <string.h>

static ard_status check(const double *delta, int32_t n, double box, int32_t nbins,
                        const double *k_mean, const double *power, const int64_t *modes,
                        ard_error *err) {
    if (!delta || !k_mean || !power || !modes) {
        return ard_error_set(err, ARD_EINVAL, "ard_power_measure: NULL argument");
    }
    ard_status st = ard__grid_check(n, box, 0, 0, "ard_power_measure", err);
    if (st != ARD_OK) {
        return st;
    }
    if (nbins < 1 || nbins > n / 2) {
        return ard_error_set(err, ARD_EINVAL, "ard_power_measure: nbins = %d outside 1 .. n/2 = %d",
                             (int)nbins, (int)(n / 2));
    }
    return ARD_OK;
}

#if ARD_HAVE_FFTW

static void accumulate(const fftw_complex *dk, int32_t n, double box, int32_t nbins, double *k_mean,
                       double *power, int64_t *modes) {
    int32_t nh = n / 2 + 1;
    double kf = 2.0 * M_PI / box, pnorm = box * box * box / ((double)n * n * n * (double)n * n * n);
    for (int32_t i = 0; i < n; i++) {
        int32_t wi = ard__wave_index(i, n);
        for (int32_t j = 0; j < n; j++) {
            int32_t wj = ard__wave_index(j, n);
            for (int32_t l = 0; l < nh; l++) {
                double kk = sqrt((double)wi * wi + (double)wj * wj + (double)l * l);
                int32_t b = (int32_t)floor(kk - 0.5); /* shell b: b + 0.5 <= |k|/kf < b + 1.5 */
                if (kk < 0.5 || b >= nbins) {
                    continue;
                }
                int w = (l == 0 || l == n / 2) ? 1 : 2; /* the half-space stands for +-k */
                const double *c = dk[((size_t)i * n + j) * nh + l];
                power[b] += w * (c[0] * c[0] + c[1] * c[1]) * pnorm;
                k_mean[b] += w * kk * kf;
                modes[b] += w;
            }
        }
    }
}

ard_status ard_power_measure(const double *delta, int32_t n, double box, int32_t nbins,
                             double *k_mean, double *power, int64_t *modes, ard_error *err) {
    ard_status st = check(delta, n, box, nbins, k_mean, power, modes, err);
    if (st != ARD_OK) {
        return st;
    }
    size_t cells = (size_t)n * n * n, nc = (size_t)n * n * (n / 2 + 1);
    ard__abuf real = {0}, dk = {0};
    double *rp = ard__abuf_alloc(&real, cells * sizeof(double));
    fftw_complex *dkp = ard__abuf_alloc(&dk, nc * sizeof(fftw_complex));
    if (!rp || !dkp) {
        st = ard_error_set(err, ARD_ENOMEM, "ard_power_measure: out of memory (n = %d)", (int)n);
    }
    if (st == ARD_OK) {
        memcpy(rp, delta, cells * sizeof(double));
        st = ard__fft_r2c(n, rp, dkp, err);
    }
    if (st == ARD_OK) {
        memset(k_mean, 0, (size_t)nbins * sizeof *k_mean);
        memset(power, 0, (size_t)nbins * sizeof *power);
        memset(modes, 0, (size_t)nbins * sizeof *modes);
        accumulate(dkp, n, box, nbins, k_mean, power, modes);
        for (int32_t b = 0; b < nbins; b++) {
            if (modes[b] > 0) {
                power[b] /= (double)modes[b];
                k_mean[b] /= (double)modes[b];
            }
        }
    }
    ard__abuf_free(&real);
    ard__abuf_free(&dk);
    return st;
}

#else

ard_status ard_power_measure(const double *delta, int32_t n, double box, int32_t nbins,
                             double *k_mean, double *power, int64_t *modes, ard_error *err) {
    ard_status st = check(delta, n, box, nbins, k_mean, power, modes, err);
    return st != ARD_OK ? st
                        : ard_error_set(err, ARD_ENOTSUP, "ard_power_measure: built without FFTW");
}

#endif
