/* Friends-of-friends on a galaxy catalog: (RA, Dec, z) -> unit vectors and comoving distances
 * (ard_cosmology of ard/survey.h), the survey's n(z) and footprint, per-galaxy linking lengths, the
 * linker, then group numbering and the group catalog (fof_groups.c). */
#include "science_int.h"

#include "ard/astro.h"

#include <math.h>
#include <string.h>

#define DEG (M_PI / 180.0)

void ard_fof_params_init(ard_fof_params *p) {
    memset(p, 0, sizeof *p);
    p->mode = ARD_FOF_REDSHIFT;
    p->b = 0.2;
    p->b_perp = 0.14;
    p->b_par = 0.75;
    p->h = 0.6766;
    p->omega_m = 0.3111;
    p->nz_bin_mpc = 25.0;
}

static ard_status check_params(const ard_fof_params *p, ard_error *err) {
    if (p->mode != ARD_FOF_ISOTROPIC && p->mode != ARD_FOF_REDSHIFT) {
        return ard_error_set(err, ARD_EINVAL, "fof: unknown mode %d", (int)p->mode);
    }
    const double v[] = {p->link_mpc,     p->b,           p->b_perp,   p->b_par,
                        p->max_perp_mpc, p->max_par_mpc, p->area_deg2};
    const char *names[] = {"link", "b", "b_perp", "b_par", "max_perp", "max_par", "area"};
    for (int k = 0; k < 7; k++) {
        if (!(v[k] >= 0.0) || v[k] > 1e12) {
            return ard_error_set(err, ARD_EINVAL, "fof: %s = %g must be finite and >= 0", names[k],
                                 v[k]);
        }
    }
    if (p->area_deg2 > 41253.0 || !(p->nz_bin_mpc > 0.0) || p->nz_bin_mpc > 1e6) {
        return ard_error_set(err, ARD_EINVAL, "fof: area %g deg^2 or n(z) bin %g Mpc out of range",
                             p->area_deg2, p->nz_bin_mpc);
    }
    if (p->nz_len == 1 || p->nz_len < 0 || (p->nz_len > 0 && (!p->nz_z || !p->nz_density))) {
        return ard_error_set(err, ARD_EINVAL, "fof: an n(z) table needs >= 2 entries");
    }
    for (int64_t i = 0; i < p->nz_len; i++) {
        if (!(p->nz_density[i] > 0.0) || !isfinite(p->nz_density[i]) || !isfinite(p->nz_z[i]) ||
            (i > 0 && !(p->nz_z[i] > p->nz_z[i - 1]))) {
            return ard_error_set(err, ARD_EINVAL,
                                 "fof: n(z) table entry %lld: z must increase, density > 0",
                                 (long long)i);
        }
    }
    return ARD_OK;
}

static ard_status check_galaxies(const double *ra, const double *dec, const double *z,
                                 const int64_t *targetid, int64_t n, double *zmax, ard_error *err) {
    *zmax = 0.0;
    for (int64_t i = 0; i < n; i++) {
        long long tid = targetid ? (long long)targetid[i] : (long long)i;
        if (!isfinite(ra[i]) || !isfinite(dec[i]) || fabs(dec[i]) > 90.0) {
            return ard_error_set(err, ARD_EINVAL,
                                 "fof: row %lld (TARGETID %lld): bad RA/Dec (%g, %g)", (long long)i,
                                 tid, ra[i], dec[i]);
        }
        if (!(z[i] > 0.0) || z[i] > 20.0) {
            return ard_error_set(err, ARD_EINVAL,
                                 "fof: row %lld (TARGETID %lld): redshift %g outside (0, 20] "
                                 "(select galaxies, e.g. --where \"Z > 0\")",
                                 (long long)i, tid, z[i]);
        }
        *zmax = z[i] > *zmax ? z[i] : *zmax;
    }
    return ARD_OK;
}

typedef struct coord_job {
    const double *ra, *dec, *z;
    const ard_cosmology *cosmo;
    fof_sample *s;
} coord_job;

enum { COORD_CHUNK = 65536 };

static void coord_chunk(void *arg, int64_t chunk, int thread_id) {
    (void)thread_id;
    coord_job *job = arg;
    fof_sample *s = job->s;
    int64_t end = (chunk + 1) * COORD_CHUNK < s->n ? (chunk + 1) * COORD_CHUNK : s->n;
    for (int64_t i = chunk * COORD_CHUNK; i < end; i++) {
        double a = job->ra[i] * DEG, d = job->dec[i] * DEG;
        s->unit[3 * i] = cos(d) * cos(a);
        s->unit[3 * i + 1] = cos(d) * sin(a);
        s->unit[3 * i + 2] = sin(d);
        s->dist[i] = ard_cosmology_comoving_distance(job->cosmo, job->z[i]);
    }
}

/* Footprint area from occupied cells of an equal-area grid (bands uniform in sin(dec), 2 nb cells
 * per band): the finest grid (nb = 512 down to 4) whose occupied cells hold >= 8 galaxies on average.
 * Each galaxy's finest cell is computed once; coarser grids drop low bits. */
enum { AREA_BITS = 9 }; /* nb = 512 */

static ard_status estimate_area(const fof_sample *s, double *area_deg2, ard_error *err) {
    const double full_sky = 4.0 * M_PI / (DEG * DEG);
    const int64_t nb_max = (int64_t)1 << AREA_BITS;
    uint32_t *cell = ard_malloc((size_t)s->n * sizeof *cell);
    uint8_t *seen = ard_malloc((size_t)(2 * nb_max * nb_max));
    if (!cell || !seen) {
        ard_free(cell);
        ard_free(seen);
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory for the footprint grid");
    }
    for (int64_t i = 0; i < s->n; i++) {
        const double *u = s->unit + 3 * i;
        int64_t band = (int64_t)((u[2] + 1.0) * 0.5 * (double)nb_max);
        int64_t col = (int64_t)((atan2(u[1], u[0]) + M_PI) / (2.0 * M_PI) * (double)(2 * nb_max));
        band = band < 0 ? 0 : (band >= nb_max ? nb_max - 1 : band);
        col = col < 0 ? 0 : (col >= 2 * nb_max ? 2 * nb_max - 1 : col);
        cell[i] = (uint32_t)(band << (AREA_BITS + 1) | col);
    }
    for (int shift = 0; shift <= AREA_BITS - 2; shift++) {
        int64_t nb = nb_max >> shift, occupied = 0;
        memset(seen, 0, (size_t)(2 * nb * nb));
        for (int64_t i = 0; i < s->n; i++) {
            int64_t band = (int64_t)(cell[i] >> (AREA_BITS + 1)) >> shift;
            int64_t col = (int64_t)(cell[i] & ((1u << (AREA_BITS + 1)) - 1)) >> shift;
            occupied += !seen[band * 2 * nb + col];
            seen[band * 2 * nb + col] = 1;
        }
        *area_deg2 = full_sky * (double)occupied / (double)(2 * nb * nb);
        if ((double)s->n >= 8.0 * (double)occupied) {
            break;
        }
    }
    ard_free(cell);
    ard_free(seen);
    return ARD_OK;
}

static ard_status make_sample(const double *ra, const double *dec, const double *z, int64_t n,
                              double zmax, const ard_fof_params *p, ard_pool *pool, fof_sample *s,
                              ard_error *err) {
    s->n = n;
    s->unit = ard_malloc((size_t)(n > 0 ? n : 1) * 3 * sizeof *s->unit);
    s->dist = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *s->dist);
    if (!s->unit || !s->dist) {
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory for %lld galaxies", (long long)n);
    }
    ard_cosmo_params cp = {p->h, p->omega_m, 0.0};
    ard_cosmology *cosmo = NULL;
    ard_status st = ard_cosmology_new(&cp, zmax > 0.0 ? zmax : 1.0, &cosmo, err);
    if (st != ARD_OK) {
        return st;
    }
    coord_job job = {ra, dec, z, cosmo, s};
    ard_pool_for(pool, (n + COORD_CHUNK - 1) / COORD_CHUNK, coord_chunk, &job);
    ard_cosmology_free(cosmo);
    s->dmin = INFINITY;
    s->dmax = 0.0;
    for (int64_t i = 0; i < n; i++) {
        s->dmin = s->dist[i] < s->dmin ? s->dist[i] : s->dmin;
        s->dmax = s->dist[i] > s->dmax ? s->dist[i] : s->dmax;
    }
    s->area_deg2 = p->area_deg2;
    if (s->area_deg2 == 0.0 && n > 0) {
        st = estimate_area(s, &s->area_deg2, err);
    }
    s->fsky = s->area_deg2 * DEG * DEG / (4.0 * M_PI);
    return st;
}

void ard__fof_sample_reset(fof_sample *s) {
    ard_free(s->unit);
    ard_free(s->dist);
    memset(s, 0, sizeof *s);
}

static ard_status link_isotropic(const fof_sample *s, const ard_fof_params *p, ard_pool *pool,
                                 ard_fof_result *r, int64_t *labels, ard_error *err) {
    double link = p->link_mpc;
    if (link == 0.0) {
        double volume = s->fsky * 4.0 / 3.0 * M_PI * (pow(s->dmax, 3) - pow(s->dmin, 3));
        link = s->n > 0 && volume > 0.0 ? p->b * cbrt(volume / (double)s->n) : 0.0;
    }
    r->link_used = link;
    r->par_used = link;
    double *pts = ard_malloc((size_t)s->n * 4 * sizeof *pts);
    if (!pts) {
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory for %lld points",
                             (long long)s->n);
    }
    for (int64_t i = 0; i < s->n; i++) {
        for (int k = 0; k < 3; k++) {
            pts[4 * i + k] = s->dist[i] * s->unit[3 * i + k];
        }
        pts[4 * i + 3] = 0.0;
    }
    if (p->linker) {
        for (int64_t i = 0; i < s->n; i++) {
            memmove(pts + 3 * i, pts + 4 * i, 3 * sizeof *pts); /* packed x, y, z */
        }
        ard_status st = p->linker->isotropic(p->linker->ctx, pts, s->n, link,
                                             ard_pool_threads(pool), labels, err);
        ard_free(pts);
        return st;
    }
    static const double scale[4] = {1.0, 1.0, 1.0, 0.0};
    sci_link_input in = {ARD_FOF_ISOTROPIC, link, NULL, NULL};
    return ard__fof_link_built(pts, s->n, 3, scale, &in, pool, labels, err);
}

/* The median (upper middle), reordering v. */
static double median_of(double *v, int64_t n) {
    if (n == 0) {
        return 0.0;
    }
    ard_select_kth_f64(v, n, n / 2);
    return v[n / 2];
}

static ard_status link_redshift(const fof_sample *s, const double *z, const ard_fof_params *p,
                                ard_pool *pool, ard_fof_result *r, int64_t *labels,
                                ard_error *err) {
    double *ang = ard_malloc((size_t)s->n * sizeof *ang);
    double *los = ard_malloc((size_t)s->n * sizeof *los);
    double *pts = ard_malloc((size_t)s->n * 4 * sizeof *pts);
    ard_status st = ARD_ENOMEM;
    if (!ang || !los || !pts) {
        ard_free(pts);
        ard_error_set(err, ARD_ENOMEM, "fof: out of memory for %lld galaxies", (long long)s->n);
        goto done;
    }
    st = ard__fof_mean_separation(s, z, p, ang, err); /* ang <- l(z) for now */
    if (st != ARD_OK) {
        ard_free(pts);
        goto done;
    }
    for (int64_t i = 0; i < s->n; i++) {
        double perp = p->b_perp * ang[i], par = p->b_par * ang[i];
        perp = p->max_perp_mpc > 0.0 && perp > p->max_perp_mpc ? p->max_perp_mpc : perp;
        par = p->max_par_mpc > 0.0 && par > p->max_par_mpc ? p->max_par_mpc : par;
        ang[i] = perp / s->dist[i];
        los[i] = par;
        memcpy(pts + 4 * i, s->unit + 3 * i, 3 * sizeof *pts);
        pts[4 * i + 3] = s->dist[i];
    }
    double mean_ang = 0.0, mean_los = 0.0;
    for (int64_t i = 0; i < s->n; i++) {
        mean_ang += ang[i] / (double)s->n;
        mean_los += los[i] / (double)s->n;
    }
    double sa = mean_ang > 0.0 ? 1.0 / mean_ang : 1.0, sl = mean_los > 0.0 ? 1.0 / mean_los : 1.0;
    double scale[4] = {sa, sa, sa, sl};
    sci_link_input in = {ARD_FOF_REDSHIFT, 0.0, ang, los};
    if (p->linker) {
        ard_free(pts);
        st = p->linker->redshift(p->linker->ctx, s->unit, s->dist, ang, los, s->n,
                                 ard_pool_threads(pool), labels, err);
    } else {
        st = ard__fof_link_built(pts, s->n, 4, scale, &in, pool, labels, err);
    }
    if (st == ARD_OK) {
        for (int64_t i = 0; i < s->n; i++) {
            ang[i] *= s->dist[i]; /* back to r_perp for the summary */
        }
        r->link_used = median_of(ang, s->n);
        r->par_used = median_of(los, s->n);
    }
done:
    ard_free(ang);
    ard_free(los);
    return st;
}

static ard_status run_stages(const double *ra, const double *dec, const double *z,
                             const int64_t *targetid, int64_t n, const ard_fof_params *p,
                             ard_pool *pool, ard_fof_result *r, ard_error *err) {
    double zmax;
    fof_sample s;
    memset(&s, 0, sizeof s);
    int64_t *labels = NULL;
    ard_status st = check_galaxies(ra, dec, z, targetid, n, &zmax, err);
    if (st == ARD_OK) {
        st = make_sample(ra, dec, z, n, zmax, p, pool, &s, err);
    }
    r->area_used = s.area_deg2;
    if (st == ARD_OK) {
        labels = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *labels);
        st = labels ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    if (st == ARD_OK && n > 0) {
        double t0 = ard__sci_now();
        st = p->mode == ARD_FOF_ISOTROPIC ? link_isotropic(&s, p, pool, r, labels, err)
                                          : link_redshift(&s, z, p, pool, r, labels, err);
        r->seconds_link = ard__sci_now() - t0;
    }
    if (st == ARD_OK) {
        st = ard__fof_groups(r, labels, targetid, z, &s, err);
    }
    ard_free(labels);
    ard__fof_sample_reset(&s);
    return st;
}

ard_status ard_fof_run(const double *ra, const double *dec, const double *z,
                       const int64_t *targetid, int64_t n, const ard_fof_params *params,
                       ard_fof_result **out, ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "fof: out is NULL");
    }
    *out = NULL;
    if (!params || n < 0 || (n > 0 && (!ra || !dec || !z))) {
        return ard_error_set(err, ARD_EINVAL, "fof: bad arguments (n = %lld)", (long long)n);
    }
    ard_status st = check_params(params, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_fof_result *r = ard_calloc(1, sizeof *r);
    ard_pool *pool = NULL;
    if (!r) {
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    r->params = *params;
    r->params.nz_z = NULL;
    r->params.nz_density = NULL;
    r->params.linker = NULL;
    r->n = n;
    st = ard__sci_pool(params->threads, &pool, err);
    if (st == ARD_OK) {
        st = run_stages(ra, dec, z, targetid, n, params, pool, r, err);
    }
    ard_pool_free(pool);
    if (st != ARD_OK) {
        ard_fof_result_free(r);
        return st;
    }
    *out = r;
    return ARD_OK;
}
