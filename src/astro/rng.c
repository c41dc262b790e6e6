/* Distributions over the counter-based generator (include/ard/astro.h). */
#include "astro_int.h"

double ard_rng_normal(ard_rng *r) {
    double u1 = ard_rng_u01(r), u2 = ard_rng_u01(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int64_t ard_rng_poisson(ard_rng *r, double mean) {
    if (!(mean > 0.0)) {
        return 0;
    }
    if (mean > 50.0) {
        double v = floor(mean + sqrt(mean) * ard_rng_normal(r) + 0.5);
        return v < 0.0 ? 0 : (int64_t)v;
    }
    double limit = exp(-mean), prod = ard_rng_u01(r);
    int64_t k = 0;
    while (prod > limit) {
        prod *= ard_rng_u01(r);
        k++;
    }
    return k;
}
