/* Rest-frame tokens: the rest-frame log-lambda grid, the integer shift of a spectrum at redshift z
 * and its placement on that grid (see stream.h). */
#include "stream_int.h"

#include <math.h>

ard_status ard_rest_grid_make(const char *grid_text, int64_t n, double zmin, double zmax,
                              ard_rest_grid *out, ard_error *err) {
    grid_spec g = {1, 3600.0, 9824.0, 4096};
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "rest grid: NULL output");
    }
    if (grid_text) {
        ard_status st = ard__grid_parse(grid_text, &g, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    if (!g.log) {
        return ard_error_set(err, ARD_EINVAL,
                             "rest frame needs a log-lambda grid (ard.grid is linear)");
    }
    if (n != g.n) {
        return ard_error_set(err, ARD_EINVAL, "ard.grid has %lld bins, spectra have %lld",
                             (long long)g.n, (long long)n);
    }
    if (!isfinite(zmin) || !isfinite(zmax) || zmin <= -1.0 || zmax < zmin) {
        return ard_error_set(err, ARD_EINVAL, "rest frame: redshift range [%g, %g] is invalid",
                             zmin, zmax);
    }
    double d = log10(g.stop / g.start) / (double)(n - 1);
    double extra = ceil((log10(1.0 + zmax) - log10(1.0 + zmin)) / d - 1e-9);
    if (!(extra >= 0.0) || (double)n + extra > (double)(1 << 24)) {
        return ard_error_set(err, ARD_EINVAL, "rest frame: the grid for z in [%g, %g] is too long",
                             zmin, zmax);
    }
    out->n_obs = n;
    out->n_rest = n + (int64_t)extra;
    out->dloglam = d;
    out->loglam0 = log10(g.start) - log10(1.0 + zmax);
    out->zmin = zmin;
    out->zmax = zmax;
    return ARD_OK;
}

int64_t ard_rest_shift(const ard_rest_grid *g, double z) {
    if (!isfinite(z) || z <= -1.0) {
        return INT64_MIN;
    }
    double s = nearbyint((log10(1.0 + g->zmax) - log10(1.0 + z)) / g->dloglam);
    if (s > 4e18 || s < -4e18) {
        return INT64_MIN;
    }
    return (int64_t)s;
}

void ard_rest_place(const ard_rest_grid *g, int64_t shift, const float *flux, const float *ivar,
                    float *out_flux, float *out_ivar) {
    int64_t lo = 0, hi = 0; /* rest bins [lo, hi) receive observed bins [lo - shift, hi - shift) */
    if (shift != INT64_MIN && shift < g->n_rest && shift > -g->n_obs) {
        lo = shift > 0 ? shift : 0;
        hi = shift + g->n_obs < g->n_rest ? shift + g->n_obs : g->n_rest;
    }
    for (int64_t j = 0; j < lo; j++) {
        out_flux[j] = out_ivar[j] = NAN;
    }
    for (int64_t j = lo; j < hi; j++) {
        out_flux[j] = flux[j - shift];
        out_ivar[j] = ivar[j - shift];
    }
    for (int64_t j = hi > lo ? hi : lo; j < g->n_rest; j++) {
        out_flux[j] = out_ivar[j] = NAN;
    }
}

ard_status ard_rest_wavelengths(const ard_rest_grid *g, int32_t patch, float *out, ard_error *err) {
    if (!g || !out || patch <= 0 || g->n_rest <= 0) {
        return ard_error_set(err, ARD_EINVAL, "rest wavelengths: bad grid, patch or output");
    }
    int64_t np = ard_tokenize_num_patches(g->n_rest, patch);
    for (int64_t p = 0; p < np; p++) {
        int64_t first = p * patch;
        int64_t last = first + patch - 1 < g->n_rest - 1 ? first + patch - 1 : g->n_rest - 1;
        out[p] = (float)pow(10.0, g->loglam0 + g->dloglam * (double)(first + last) / 2.0);
    }
    return ARD_OK;
}
