/* Distributions over the counter-based generator, and sampling of the shipped DR1 tables. */
#include "survey_int.h"

#include <time.h>

double ard__rng_normal(ard__rng *r) {
    double u1 = ard__rng_u01(r), u2 = ard__rng_u01(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int64_t ard__rng_poisson(ard__rng *r, double mean) {
    if (!(mean > 0.0)) {
        return 0;
    }
    if (mean > 50.0) {
        double v = floor(mean + sqrt(mean) * ard__rng_normal(r) + 0.5);
        return v < 0.0 ? 0 : (int64_t)v;
    }
    double limit = exp(-mean), prod = ard__rng_u01(r);
    int64_t k = 0;
    while (prod > limit) {
        prod *= ard__rng_u01(r);
        k++;
    }
    return k;
}

double ard__dr1_class_share(int32_t cls) {
    int64_t total = 0;
    for (int i = 0; i < 4; i++) {
        total += ard__dr1_class_totals[i];
    }
    return (cls >= 0 && cls < 4) ? (double)ard__dr1_class_totals[cls] / (double)total : 0.0;
}

/* Inverse CDF, piecewise uniform within each bin; bins below z = 0.001 are clipped. */
double ard__dr1_sample_z(int32_t cls, double u) {
    const int32_t *counts = ard__dr1_nofz_counts[cls];
    int32_t n = ard__dr1_nofz_nbins;
    double target = u * (double)ard__dr1_class_totals[cls], acc = 0.0;
    for (int32_t i = 0; i < n; i++) {
        if (acc + counts[i] >= target && counts[i] > 0) {
            double frac = (target - acc) / counts[i];
            double lo = ard__dr1_nofz_z0 + (i - 0.5) * ard__dr1_nofz_dz;
            double z = lo + frac * ard__dr1_nofz_dz;
            return z < 0.001 ? 0.001 + 0.01 * frac : z;
        }
        acc += counts[i];
    }
    return ard__dr1_nofz_z0 + (n - 0.5) * ard__dr1_nofz_dz;
}

double ard__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
