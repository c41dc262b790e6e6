/* Sampling of the shipped DR1 tables (class shares, n(z)), and the generator's wall clock. */
#include "survey_int.h"

#include <time.h>

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
