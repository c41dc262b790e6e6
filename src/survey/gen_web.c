/* Cosmic-web truth for the synthetic survey: the T-web (tweb.c) of the survey's true mass field —
 * every group's halo at its centre with its mass, every field galaxy as a halo of
 * ARD__FIELD_LOG_MASS at its own position — evaluated at every galaxy's real-space position
 * (RA, Dec, Z_COSMO: no peculiar velocities, no redshift errors), in comoving Mpc/h. */
#include "survey_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void to_xyz(const ard_cosmology *c, double ra, double dec, double z, double *out) {
    double d = ard_cosmology_comoving_distance(c, z) * ard_cosmology_h(c);
    double a = ra * M_PI / 180.0, b = dec * M_PI / 180.0;
    out[0] = d * cos(b) * cos(a);
    out[1] = d * cos(b) * sin(a);
    out[2] = d * sin(b);
}

void ard__web_truth_free(ard__web_truth *w) {
    ard_free(w->lambda);
    ard_free(w->delta);
    ard_free(w->cls);
    memset(w, 0, sizeof *w);
}

int ard__web_params_format(const ard_tweb_params *p, char *buf, size_t cap) {
    int len = snprintf(buf, cap,
                       "method=tweb;smoothing_mpc_h=%.17g;lambda_th=%.17g;tolerance=%.17g;"
                       "field_log_mass=%.17g;positions=real-space comoving Mpc/h at Z_COSMO;"
                       "masses=groups.parquet LOG_MASS at the group centre and field galaxies",
                       p->smoothing, p->lambda_th, p->tolerance, ARD__FIELD_LOG_MASS);
    return len >= 0 && (size_t)len < cap;
}

ard_status ard__gen_cosmic_web(const ard__galaxies *g, const ard__groups *gr,
                               const ard_cosmology *cosmo, const ard_tweb_params *params,
                               ard_pool *pool, ard__web_truth *out, ard_error *err) {
    memset(out, 0, sizeof *out);
    int64_t field = 0;
    for (int64_t i = 0; i < g->n; i++) {
        field += g->group_id[i] < 0;
    }
    int64_t n_mass = gr->n + field;
    size_t nm = (size_t)(n_mass > 0 ? n_mass : 1), np = (size_t)(g->n > 0 ? g->n : 1);
    double *mxyz = ard_malloc(nm * 3 * sizeof(double)), *q = ard_malloc(nm * sizeof(double));
    double *pts = ard_malloc(np * 3 * sizeof(double));
    out->lambda = ard_malloc(np * 3 * sizeof(float));
    out->delta = ard_malloc(np * sizeof(float));
    out->cls = ard_malloc(np);
    ard_status st = ARD_OK;
    if (!mxyz || !q || !pts || !out->lambda || !out->delta || !out->cls) {
        st = ard_error_set(err, ARD_ENOMEM, "generate: no memory for the cosmic web (%lld masses)",
                           (long long)n_mass);
    }
    double rho = ARD_RHO_CRIT_H2 * ard_cosmology_omega_m(cosmo);
    for (int64_t k = 0; st == ARD_OK && k < gr->n; k++) {
        to_xyz(cosmo, gr->ra[k], gr->dec[k], gr->z[k], mxyz + 3 * k);
        q[k] = pow(10.0, gr->log_mass[k]) / rho;
    }
    int64_t m = gr->n;
    for (int64_t i = 0; st == ARD_OK && i < g->n; i++) {
        to_xyz(cosmo, g->ra[i], g->dec[i], g->z_cosmo[i], pts + 3 * i);
        if (g->group_id[i] < 0) {
            memcpy(mxyz + 3 * m, pts + 3 * i, 3 * sizeof(double));
            q[m++] = pow(10.0, ARD__FIELD_LOG_MASS) / rho;
        }
    }
    st = st ? st
            : ard_tweb_eval(params, mxyz, q, n_mass, pts, g->n, pool, out->lambda, out->delta,
                            out->cls, err);
    ard_free(mxyz);
    ard_free(q);
    ard_free(pts);
    if (st != ARD_OK) {
        ard__web_truth_free(out);
    }
    return st;
}
