/* Flat LambdaCDM comoving distance: tabulated once with Simpson's rule, cubic Hermite interpolation
 * (the derivative c/H(z) is known exactly), Newton inversion for z(D). */
#include "astro_int.h"

#include <math.h>

#define COSMO_DZ 0.002
#define C_KMS 299792.458

struct ard_cosmology {
    ard_cosmo_params p;
    double omega_l, dh, zmax;
    int64_t n;  /* table points */
    double *dc; /* D_C at z = i * COSMO_DZ, Mpc */
};

void ard_cosmo_params_planck18(ard_cosmo_params *out) {
    out->h = 0.6766;
    out->omega_m = 0.3111;
    out->omega_r = 0.0;
}

static double efunc(const ard_cosmo_params *p, double omega_l, double z) {
    double a = 1.0 + z;
    return sqrt(p->omega_m * a * a * a + p->omega_r * a * a * a * a + omega_l);
}

/* integral of 1/E over [z0, z1] by Simpson with 8 panels (error ~1e-13 for this smooth integrand).
 */
static double integrate(const ard_cosmo_params *p, double omega_l, double z0, double z1) {
    const int panels = 8;
    double h = (z1 - z0) / panels, sum = 0.0;
    for (int i = 0; i <= panels; i++) {
        double w = (i == 0 || i == panels) ? 1.0 : ((i & 1) ? 4.0 : 2.0);
        sum += w / efunc(p, omega_l, z0 + h * i);
    }
    return sum * h / 3.0;
}

ard_status ard_cosmology_new(const ard_cosmo_params *params, double zmax, ard_cosmology **out,
                             ard_error *err) {
    *out = NULL;
    ard_cosmo_params p;
    if (params) {
        p = *params;
    } else {
        ard_cosmo_params_planck18(&p);
    }
    if (!(p.h > 0.0) || !(p.omega_m > 0.0) || p.omega_m > 1.0 || !(p.omega_r >= 0.0) ||
        p.omega_m + p.omega_r > 1.0 || !(zmax > 0.0) || zmax > 20.0) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmology: need h > 0, 0 < Om <= 1, Or >= 0, Om + Or <= 1, "
                             "0 < zmax <= 20 (h=%g Om=%g Or=%g zmax=%g)",
                             p.h, p.omega_m, p.omega_r, zmax);
    }
    ard_cosmology *c = ard_calloc(1, sizeof *c);
    int64_t n = (int64_t)ceil(zmax / COSMO_DZ) + 2;
    if (c) {
        c->dc = ard_malloc((size_t)n * sizeof(double));
    }
    if (!c || !c->dc) {
        ard_cosmology_free(c);
        return ard_error_set(err, ARD_ENOMEM, "cosmology: out of memory");
    }
    c->p = p;
    c->omega_l = 1.0 - p.omega_m - p.omega_r;
    c->dh = C_KMS / (100.0 * p.h);
    c->zmax = zmax;
    c->n = n;
    c->dc[0] = 0.0;
    for (int64_t i = 1; i < n; i++) {
        c->dc[i] = c->dc[i - 1] + c->dh * integrate(&p, c->omega_l, (double)(i - 1) * COSMO_DZ,
                                                    (double)i * COSMO_DZ);
    }
    *out = c;
    return ARD_OK;
}

void ard_cosmology_free(ard_cosmology *c) {
    if (c) {
        ard_free(c->dc);
        ard_free(c);
    }
}

double ard_cosmology_efunc(const ard_cosmology *c, double z) {
    return efunc(&c->p, c->omega_l, z);
}

double ard_cosmology_comoving_distance(const ard_cosmology *c, double z) {
    if (!(z > 0.0)) {
        return 0.0;
    }
    if (z > c->zmax) {
        z = c->zmax;
    }
    int64_t i = (int64_t)(z / COSMO_DZ);
    if (i > c->n - 2) {
        i = c->n - 2;
    }
    double z0 = (double)i * COSMO_DZ, t = (z - z0) / COSMO_DZ;
    double d0 = c->dc[i], d1 = c->dc[i + 1];
    double m0 = COSMO_DZ * c->dh / ard_cosmology_efunc(c, z0);
    double m1 = COSMO_DZ * c->dh / ard_cosmology_efunc(c, z0 + COSMO_DZ);
    double t2 = t * t, t3 = t2 * t;
    return (2 * t3 - 3 * t2 + 1) * d0 + (t3 - 2 * t2 + t) * m0 + (-2 * t3 + 3 * t2) * d1 +
           (t3 - t2) * m1;
}

double ard_cosmology_z_at_distance(const ard_cosmology *c, double d_mpc) {
    if (!(d_mpc > 0.0)) {
        return 0.0;
    }
    if (d_mpc >= ard_cosmology_comoving_distance(c, c->zmax)) {
        return c->zmax;
    }
    int64_t lo = 0, hi = c->n - 1;
    while (hi - lo > 1) {
        int64_t mid = (lo + hi) / 2;
        if (c->dc[mid] <= d_mpc) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    double z =
        (double)lo * COSMO_DZ + COSMO_DZ * (d_mpc - c->dc[lo]) / (c->dc[hi] - c->dc[lo] + 1e-300);
    for (int it = 0; it < 4; it++) {
        double f = ard_cosmology_comoving_distance(c, z) - d_mpc;
        z -= f * ard_cosmology_efunc(c, z) / c->dh;
    }
    return z < 0.0 ? 0.0 : (z > c->zmax ? c->zmax : z);
}

double ard_cosmology_hubble_distance(const ard_cosmology *c) {
    return c->dh;
}

double ard_cosmology_h(const ard_cosmology *c) {
    return c->p.h;
}
double ard_cosmology_omega_m(const ard_cosmology *c) {
    return c->p.omega_m;
}
double ard_cosmology_zmax(const ard_cosmology *c) {
    return c->zmax;
}
