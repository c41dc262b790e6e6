/* Cosmic-web truth for the synthetic survey, at every galaxy's real-space position (RA, Dec,
 * Z_COSMO: no peculiar velocities, no redshift errors), in comoving Mpc/h. With large-scale
 * structure (lss = 1): the grid T-web of the Zel'dovich-evolved field (astro), eigenvalues scaled
 * by D(Z_COSMO) along the light cone. Without (lss = 0): the point-mass T-web (ard_tweb_eval) of
 * every group's halo at its centre and every field galaxy as a halo of ARD__FIELD_LOG_MASS. */
#include "survey_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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
        ard__sky_to_xyz(cosmo, gr->ra[k], gr->dec[k], gr->z[k], mxyz + 3 * k);
        q[k] = pow(10.0, gr->log_mass[k]) / rho;
    }
    int64_t m = gr->n;
    for (int64_t i = 0; st == ARD_OK && i < g->n; i++) {
        ard__sky_to_xyz(cosmo, g->ra[i], g->dec[i], g->z_cosmo[i], pts + 3 * i);
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

int ard__web_grid_params_format(const ard__lss *lss, const ard_generate_options *o, char *buf,
                                size_t cap) {
    int len = snprintf(buf, cap,
                       "method=tweb-grid;smoothing_mpc_h=%.17g;lambda_th=%.17g;grid_cells=%d;"
                       "box_mpc_h=%.17g;cell_mpc_h=%.17g;field=%s cic z=0 seed=%llu, "
                       "eigenvalues scaled by D(z);power=EH98 wiggles planck18 sigma8=0.81;"
                       "positions=real-space comoving Mpc/h at Z_COSMO, box replicated;"
                       "placement_smoothing_mpc_h=%.17g",
                       lss->truth_opts.smoothing, lss->truth_opts.lambda_th, (int)o->lss_cells,
                       o->lss_box, o->lss_box / o->lss_cells,
                       o->lss_lpt_order == 2 ? "2lpt" : "zeldovich", (unsigned long long)o->seed,
                       lss->web_opts.smoothing);
    return len >= 0 && (size_t)len < cap;
}

typedef struct grid_web_run {
    const ard__galaxies *g;
    const ard_cosmology *cosmo;
    const ard__lss *lss;
    ard__web_truth *out;
} grid_web_run;

#define WEB_PER_TASK 4096

static void grid_web_task(void *arg, int64_t task, int thread_id) {
    (void)thread_id;
    grid_web_run *r = arg;
    const ard__galaxies *g = r->g;
    double th = r->lss->truth_opts.lambda_th;
    int64_t end = (task + 1) * WEB_PER_TASK;
    end = end < g->n ? end : g->n;
    for (int64_t i = task * WEB_PER_TASK; i < end; i++) {
        double x[3];
        float lam[3], d;
        ard__sky_to_xyz(r->cosmo, g->ra[i], g->dec[i], g->z_cosmo[i], x);
        ard_tweb_grid_sample(r->lss->truth, x, 1, lam, &d, NULL, NULL); /* x is finite */
        double grow = ard__lss_growth(r->lss, g->z_cosmo[i]);
        uint8_t cls = 0;
        for (int k = 0; k < 3; k++) {
            r->out->lambda[3 * i + k] = (float)(grow * lam[k]);
            cls = (uint8_t)(cls + (grow * lam[k] > th));
        }
        r->out->delta[i] = (float)(grow * d);
        r->out->cls[i] = cls;
    }
}

ard_status ard__gen_cosmic_web_grid(const ard__galaxies *g, const ard_cosmology *cosmo,
                                    const ard__lss *lss, ard_pool *pool, ard__web_truth *out,
                                    ard_error *err) {
    memset(out, 0, sizeof *out);
    size_t np = (size_t)(g->n > 0 ? g->n : 1);
    out->lambda = ard_malloc(np * 3 * sizeof(float));
    out->delta = ard_malloc(np * sizeof(float));
    out->cls = ard_malloc(np);
    if (!out->lambda || !out->delta || !out->cls) {
        ard__web_truth_free(out);
        return ard_error_set(err, ARD_ENOMEM, "generate: no memory for the cosmic-web truth");
    }
    grid_web_run r = {g, cosmo, lss, out};
    ard_pool_for(pool, (g->n + WEB_PER_TASK - 1) / WEB_PER_TASK, grid_web_task, &r);
    return ARD_OK;
}
