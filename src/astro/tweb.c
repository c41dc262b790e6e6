/* T-web classification from point masses (see include/ard/astro.h): the tidal tensor of each
 * Gaussian-smoothed mass summed analytically over the masses within reach (halo_grid.c), its
 * eigenvalues in closed form, and the count above the threshold. */
#include "astro_int.h"

#include <math.h>
#include <string.h>

#define POINTS_PER_TASK 4096
#define GAUSS_REACH 6.0 /* in units of R: exp(-18) ~ 1.5e-8 of the peak density beyond it */

const char *ard_web_class_name(int32_t cls) {
    static const char *const names[ARD_WEB_COUNT] = {"void", "sheet", "filament", "knot"};
    return cls >= 0 && cls < ARD_WEB_COUNT ? names[cls] : "unknown";
}

void ard_tweb_params_default(ard_tweb_params *p) {
    p->smoothing = 2.0;
    p->lambda_th = 0.2;
    p->tolerance = 0.005;
}

typedef struct tweb_run {
    const ard_tweb_params *p;
    const double *pts;
    const int64_t *order; /* points in cell order */
    int64_t n_points;
    double min_reach, w0, inv_2r2; /* see add_tide */
    ard__halo_grid grid;
    float *lambda, *delta;
    uint8_t *cls;
} tweb_run;

/* The 27 cells around a query cell of one bucket, remembered while queries stay in that cell. */
typedef struct cell_cache {
    int valid;
    int64_t cx, cy, cz;
    int64_t start[27], count[27];
} cell_cache;

/* Adds the tide of a unit-weight Gaussian (radius R) at separation d to t (xx yy zz xy xz yz). */
/* w0 = W(0) = 1 / ((2 pi)^(3/2) R^3), inv_2r2 = 1 / (2 R^2): per run, not per pair. */
static void add_tide(double t[6], const double d[3], double q, double w0, double inv_2r2) {
    double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    double u2 = r2 * inv_2r2, u = sqrt(u2), r = sqrt(r2);
    double tang, rad; /* eigenvalues per unit q: tangential (twice) and radial */
    if (u < 1e-3) {   /* series of m(r) / (4 pi r^3): no cancellation near the centre */
        tang = w0 / 3.0 * (1.0 - 0.6 * u2);
        rad = w0 * (1.0 - u2) - 2.0 * tang;
    } else {
        int core = u < GAUSS_REACH / M_SQRT2;
        double e = core ? exp(-u2) : 0.0;
        double w = w0 * e, m = core ? erf(u) - M_2_SQRTPI * u * e : 1.0;
        tang = m / (4.0 * M_PI * r2 * r);
        rad = w - 2.0 * tang;
    }
    /* T = tang I + (rad - tang) n n^T */
    double k = r2 > 0.0 ? q * (rad - tang) / r2 : 0.0;
    t[0] += q * tang + k * d[0] * d[0];
    t[1] += q * tang + k * d[1] * d[1];
    t[2] += q * tang + k * d[2] * d[2];
    t[3] += k * d[0] * d[1];
    t[4] += k * d[0] * d[2];
    t[5] += k * d[1] * d[2];
}

/* Eigenvalues of a symmetric 3x3 matrix (xx yy zz xy xz yz), descending (trigonometric form). */
void ard__eigen3_sym(const double t[6], double e[3]) {
    double off = t[3] * t[3] + t[4] * t[4] + t[5] * t[5];
    double mean = (t[0] + t[1] + t[2]) / 3.0;
    double a = t[0] - mean, b = t[1] - mean, c = t[2] - mean;
    double p2 = a * a + b * b + c * c + 2.0 * off;
    if (p2 <= 1e-300) {
        e[0] = e[1] = e[2] = mean;
        return;
    }
    double p = sqrt(p2 / 6.0);
    /* det((T - mean I) / p) / 2 */
    double det = a * (b * c - t[5] * t[5]) - t[3] * (t[3] * c - t[5] * t[4]) +
                 t[4] * (t[3] * t[5] - b * t[4]);
    double r = det / (2.0 * p * p * p);
    r = r < -1.0 ? -1.0 : (r > 1.0 ? 1.0 : r);
    double phi = acos(r) / 3.0;
    e[0] = mean + 2.0 * p * cos(phi);
    e[2] = mean + 2.0 * p * cos(phi + 2.0 * M_PI / 3.0);
    e[1] = 3.0 * mean - e[0] - e[2];
}

static void eval_point(const tweb_run *run, int64_t i, cell_cache *cache) {
    const double *pt = run->pts + 3 * i;
    double t[6] = {0, 0, 0, 0, 0, 0};
    for (int b = 0; b < run->grid.n_buckets; b++) {
        const ard__halo_bucket *bk = &run->grid.bucket[b];
        cell_cache *cc = &cache[b];
        if (bk->n == 0) {
            continue;
        }
        int64_t cx = (int64_t)floor(pt[0] / bk->cell), cy = (int64_t)floor(pt[1] / bk->cell),
                cz = (int64_t)floor(pt[2] / bk->cell);
        if (!cc->valid || cc->cx != cx || cc->cy != cy || cc->cz != cz) {
            int c = 0;
            for (int64_t ix = cx - 1; ix <= cx + 1; ix++) {
                for (int64_t iy = cy - 1; iy <= cy + 1; iy++) {
                    for (int64_t iz = cz - 1; iz <= cz + 1; iz++, c++) {
                        cc->count[c] = ard__halo_grid_cell(bk, ix, iy, iz, &cc->start[c]);
                    }
                }
            }
            cc->valid = 1;
            cc->cx = cx;
            cc->cy = cy;
            cc->cz = cz;
        }
        for (int c = 0; c < 27; c++) {
            const ard__halo_mass *m = bk->mass + cc->start[c];
            for (int64_t k = 0; k < cc->count[c]; k++, m++) {
                double d[3] = {pt[0] - m->x, pt[1] - m->y, pt[2] - m->z};
                if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= m->reach2) {
                    add_tide(t, d, m->weight, run->w0, run->inv_2r2);
                }
            }
        }
    }
    double e[3];
    ard__eigen3_sym(t, e);
    if (run->lambda) {
        for (int j = 0; j < 3; j++) {
            run->lambda[3 * i + j] = (float)e[j];
        }
    }
    if (run->delta) {
        run->delta[i] = (float)(t[0] + t[1] + t[2]);
    }
    if (run->cls) {
        run->cls[i] = (uint8_t)((e[0] > run->p->lambda_th) + (e[1] > run->p->lambda_th) +
                                (e[2] > run->p->lambda_th));
    }
}

static void eval_task(void *arg, int64_t task, int thread_id) {
    (void)thread_id;
    const tweb_run *run = arg;
    cell_cache cache[ARD__HALO_BUCKETS_MAX + 1];
    memset(cache, 0, sizeof cache);
    int64_t end = (task + 1) * POINTS_PER_TASK;
    end = end < run->n_points ? end : run->n_points;
    for (int64_t k = task * POINTS_PER_TASK; k < end; k++) {
        eval_point(run, run->order[k], cache);
    }
}

static ard_status check_inputs(const ard_tweb_params *p, const double *xyz, const double *q,
                               int64_t n_masses, const double *pts, int64_t n_points,
                               ard_error *err) {
    if (!p || n_masses < 0 || n_points < 0 || (n_masses > 0 && (!xyz || !q)) ||
        (n_points > 0 && !pts)) {
        return ard_error_set(err, ARD_EINVAL, "cosmic web: NULL input or negative count");
    }
    if (!(p->smoothing > 0.0) || !(p->lambda_th > 0.0) || !(p->tolerance > 0.0) ||
        !isfinite(p->smoothing) || !isfinite(p->tolerance)) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmic web: smoothing %g, lambda_th %g and tolerance %g must be "
                             "positive and finite",
                             p->smoothing, p->lambda_th, p->tolerance);
    }
    for (int64_t i = 0; i < n_masses; i++) {
        if (!(q[i] >= 0.0) || !isfinite(q[i])) {
            return ard_error_set(err, ARD_EINVAL, "cosmic web: mass %lld has weight %g",
                                 (long long)i, q[i]);
        }
    }
    for (int64_t i = 0; i < n_points; i++) {
        if (!ard__halo_grid_in_range(pts + 3 * i, GAUSS_REACH * p->smoothing)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "cosmic web: point %lld has a non-finite or out-of-range position",
                                 (long long)i);
        }
    }
    return ARD_OK;
}

ard_status ard_tweb_eval(const ard_tweb_params *params, const double *mass_xyz,
                         const double *mass_q, int64_t n_masses, const double *points,
                         int64_t n_points, ard_pool *pool, float *lambda, float *delta,
                         uint8_t *cls, ard_error *err) {
    ard_status st = check_inputs(params, mass_xyz, mass_q, n_masses, points, n_points, err);
    if (st != ARD_OK) {
        return st;
    }
    tweb_run run;
    memset(&run, 0, sizeof run);
    run.p = params;
    run.pts = points;
    run.n_points = n_points;
    run.lambda = lambda;
    run.delta = delta;
    run.cls = cls;
    run.min_reach = GAUSS_REACH * params->smoothing;
    run.w0 =
        1.0 / (pow(2.0 * M_PI, 1.5) * params->smoothing * params->smoothing * params->smoothing);
    run.inv_2r2 = 1.0 / (2.0 * params->smoothing * params->smoothing);
    double *reach = ard_malloc((size_t)(n_masses > 0 ? n_masses : 1) * sizeof *reach);
    int64_t *order = ard_malloc((size_t)(n_points > 0 ? n_points : 1) * sizeof *order);
    if (!reach || !order) {
        st = ard_error_set(err, ARD_ENOMEM, "cosmic web: no memory for %lld masses",
                           (long long)n_masses);
    }
    for (int64_t i = 0; st == ARD_OK && i < n_masses; i++) {
        double far = cbrt(2.0 * mass_q[i] / (4.0 * M_PI * params->tolerance));
        reach[i] = far > run.min_reach ? far : run.min_reach;
    }
    st =
        st ? st
           : ard__halo_grid_build(&run.grid, mass_xyz, reach, mass_q, n_masses, run.min_reach, err);
    ard_free(reach);
    st = st ? st : ard__halo_order_points(points, n_points, run.min_reach, order, err);
    run.order = order;
    if (st == ARD_OK) {
        int64_t tasks = (n_points + POINTS_PER_TASK - 1) / POINTS_PER_TASK;
        if (pool) {
            ard_pool_for(pool, tasks, eval_task, &run);
        } else {
            for (int64_t t = 0; t < tasks; t++) {
                eval_task(&run, t, 0);
            }
        }
    }
    ard__halo_grid_free(&run.grid);
    ard_free(order);
    return st;
}
