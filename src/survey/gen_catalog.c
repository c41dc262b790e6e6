/* Synthetic catalog: halos with a mass function and their members (fingers of god), a field
 * population, sky positions drawn from the DR1 density per NSIDE-64 pixel, redshifts from DR1 n(z)
 * per class, photometry, redshift errors and injected anomalies. Units (a group or a field galaxy)
 * are laid out serially (cheap), then filled in parallel from counter-based randoms. */
#include "survey_int.h"

#include <string.h>

#define C_KMS 299792.458
#define TARGETID_BASE INT64_C(39000000000000000)
#define PIX_SHIFT 20

typedef struct gen_unit {
    int64_t first;    /* first galaxy (pre-sort index) */
    int64_t group_id; /* -1 for field */
    int32_t n;
    uint8_t cls;
    double log_mass;
} gen_unit;

typedef struct sky_cdf {
    int32_t npix;
    double *cdf; /* cumulative density per pixel */
} sky_cdf;

typedef struct gen_ctx {
    const ard_generate_options *opts;
    const ard_cosmology *cosmo;
    const gen_unit *units;
    int64_t n_units;
    sky_cdf sky[2]; /* 0 bright (BGS), 1 dark */
    ard__galaxies *gal;
    ard__groups *groups;
} gen_ctx;

#define UNITS_PER_TASK 2048

static int64_t pick_class(const int64_t *counts, int64_t total_after, int allow_qso) {
    int64_t best = 0;
    double best_deficit = -1e300;
    for (int c = 0; c < ARD_CLASS_COUNT; c++) {
        if (c == ARD_CLASS_QSO && !allow_qso) {
            continue;
        }
        double deficit = ard__dr1_class_share(c) * (double)total_after - (double)counts[c];
        if (deficit > best_deficit) {
            best_deficit = deficit;
            best = c;
        }
    }
    return best;
}

/* log10 halo mass (Msun/h) from dn/dlogM ~ M^-0.9 on [12.5, 15]. */
static double sample_log_mass(double u) {
    const double a = 0.9, x0 = 12.5, x1 = 15.0;
    double p0 = pow(10.0, -a * x0), p1 = pow(10.0, -a * x1);
    return -log10(p0 - u * (p0 - p1)) / a;
}

/* Serial layout of units so that the galaxy count is exact and the class/group mix follows the
 * targets; everything random is drawn from the unit's own stream. */
static ard_status layout_units(const ard_generate_options *o, gen_unit **out, int64_t *n_out,
                               int64_t *n_groups, ard_error *err) {
    int64_t cap = o->galaxies + 1, n = 0, total = 0, grouped = 0, groups = 0;
    int64_t counts[ARD_CLASS_COUNT] = {0};
    gen_unit *units = ard_malloc((size_t)cap * sizeof *units);
    if (!units) {
        return ard_error_set(err, ARD_ENOMEM, "generate: no memory for %lld units", (long long)cap);
    }
    while (total < o->galaxies) {
        ard_rng r;
        ard_rng_init(&r, o->seed, ARD__S_UNIT, (uint64_t)n);
        gen_unit *u = &units[n];
        int64_t left = o->galaxies - total;
        u->first = total;
        u->group_id = -1;
        u->log_mass = 0.0;
        u->n = 1;
        if (left >= 2 && (double)grouped < o->group_fraction * (double)(total + 1)) {
            u->log_mass = sample_log_mass(ard_rng_u01(&r));
            double lambda = 1.2 * pow(10.0, 0.85 * (u->log_mass - 13.0));
            int64_t members = 2 + ard_rng_poisson(&r, lambda);
            u->n = (int32_t)(members < left ? members : left);
            u->group_id = groups++;
            grouped += u->n;
        }
        u->cls = (uint8_t)pick_class(counts, total + u->n, u->group_id < 0);
        counts[u->cls] += u->n;
        total += u->n;
        n++;
    }
    *out = units;
    *n_out = n;
    *n_groups = groups;
    return ARD_OK;
}

static ard_status sky_init(sky_cdf *s, const float *density, ard_error *err) {
    s->npix = ard__dr1_density_npix;
    s->cdf = ard_malloc((size_t)s->npix * sizeof(double));
    if (!s->cdf) {
        return ard_error_set(err, ARD_ENOMEM, "generate: no memory for the sky table");
    }
    double acc = 0.0;
    for (int32_t i = 0; i < s->npix; i++) {
        acc += density[i] > 0.0f ? (double)density[i] : 0.0;
        s->cdf[i] = acc;
    }
    return ARD_OK;
}

static int32_t sky_sample_pixel(const sky_cdf *s, double u) {
    double target = u * s->cdf[s->npix - 1];
    int32_t lo = 0, hi = s->npix - 1;
    while (lo < hi) {
        int32_t mid = (lo + hi) / 2;
        if (s->cdf[mid] < target) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return ard__dr1_density_pix[lo];
}

/* Uniform point inside pixel pix (rejection sampling in a box around its centre). */
static void point_in_pixel(int32_t pix, ard_rng *r, double *ra, double *dec) {
    double ra0 = 0.0, dec0 = 0.0;
    ard_healpix_pix2ang_nest(ARD_NSIDE, pix, &ra0, &dec0, NULL);
    double cosd = cos(dec0 * M_PI / 180.0);
    double half_ra = cosd > 0.01 ? 0.8 / cosd : 180.0;
    half_ra = half_ra > 180.0 ? 180.0 : half_ra;
    for (int attempt = 0; attempt < 200; attempt++) {
        double d = dec0 + 0.8 * (2.0 * ard_rng_u01(r) - 1.0);
        double a = ra0 + half_ra * (2.0 * ard_rng_u01(r) - 1.0);
        d = d > 90.0 ? 180.0 - d : (d < -90.0 ? -180.0 - d : d);
        a = fmod(a + 360.0, 360.0);
        if (ard_healpix_ang2pix_nest(ARD_NSIDE, a, d) == pix) {
            *ra = a;
            *dec = d;
            return;
        }
    }
    *ra = ra0;
    *dec = dec0;
}

/* Per-galaxy observables that depend only on class and redshift. */
static void observe(const ard_generate_options *o, ard__galaxies *g, int64_t i, ard_rng *r) {
    int cls = g->cls[i];
    double z = g->z_true[i];
    static const double zerr_base[4] = {2.0e-5, 5.0e-5, 3.0e-5, 4.0e-4};
    double zerr = zerr_base[cls] * (1.0 + z) * exp(0.4 * ard_rng_normal(r));
    g->zerr[i] = zerr;
    g->z_obs[i] = z + zerr * ard_rng_normal(r);
    g->deltachi2[i] = exp(log(cls == ARD_CLASS_ELG ? 60.0 : 400.0) + 1.2 * ard_rng_normal(r));
    g->zwarn[i] = g->deltachi2[i] < 25.0 ? 4 : 0; /* SMALL_DELTA_CHI2 */
    /* magnitudes: r for BGS/QSO, z for LRG, g for ELG; colours by class */
    static const double m0[4] = {17.2, 19.3, 22.6, 20.6}, slope[4] = {5.0, 2.0, 0.6, 0.8};
    static const double gr[4] = {0.8, 1.6, 0.3, 0.2}, rz[4] = {0.5, 1.1, 0.4, 0.3};
    double m = m0[cls] + slope[cls] * log10(1.0 + z) * 2.0 + 0.35 * ard_rng_normal(r);
    double mr = cls == ARD_CLASS_LRG ? m + rz[cls] : (cls == ARD_CLASS_ELG ? m - gr[cls] : m);
    g->flux_r[i] = (float)pow(10.0, (22.5 - mr) / 2.5);
    g->flux_g[i] = (float)pow(10.0, (22.5 - mr - gr[cls]) / 2.5);
    g->flux_z[i] = (float)pow(10.0, (22.5 - mr + rz[cls]) / 2.5);
    double ebv = 0.02 + 0.08 * pow(cos(g->dec[i] * M_PI / 180.0), 8.0) *
                            (0.5 + 0.5 * cos(g->ra[i] * M_PI / 90.0));
    g->ebv[i] = (float)ebv;
    /* a spectra subset takes whole tiles (pixels), so its tiles keep DR1's density */
    uint64_t pick = ard_rng_hash4(o->seed, ARD__S_SELECT, (uint64_t)g->healpix[i], 0);
    g->has_spectrum[i] =
        (uint8_t)(o->spectra_fraction >= 1.0 || ard_rng_to_u01(pick) < o->spectra_fraction);
    g->anomaly[i] = ARD_ANOMALY_NONE;
    double ua = ard_rng_u01(r), uk = ard_rng_u01(r);
    if (g->has_spectrum[i] && ua < o->anomaly_fraction) {
        g->anomaly[i] = (uint8_t)(1 + (int)(uk * (ARD_ANOMALY_COUNT - 1)));
        if (g->anomaly[i] >= ARD_ANOMALY_COUNT) {
            g->anomaly[i] = ARD_ANOMALY_COUNT - 1;
        }
    }
    if (g->anomaly[i] == ARD_ANOMALY_Z_BLUNDER) {
        double zb = ard__dr1_sample_z(ARD_CLASS_QSO, ard_rng_u01(r));
        g->z_obs[i] = fabs(zb - z) > 0.2 ? zb : z + 0.5;
    }
}

static void fill_unit(gen_ctx *c, int64_t ui) {
    const gen_unit *u = &c->units[ui];
    const ard_generate_options *o = c->opts;
    ard__galaxies *g = c->gal;
    ard_rng r;
    ard_rng_init(&r, o->seed, ARD__S_PLACE, (uint64_t)ui);
    int prog = u->cls == ARD_CLASS_BGS ? 0 : 1;
    int32_t pix = sky_sample_pixel(&c->sky[prog], ard_rng_u01(&r));
    double ra0, dec0;
    point_in_pixel(pix, &r, &ra0, &dec0);
    double z0 = ard__dr1_sample_z(u->cls, ard_rng_u01(&r));
    double mass = pow(10.0, u->log_mass);
    /* R200 in physical Mpc/h (rho_crit = 2.775e11 h^2 Msun/Mpc^3), sigma_v from virial scaling */
    double r_vir = u->group_id >= 0 ? cbrt(3.0 * mass / (4.0 * M_PI * 200.0 * 2.775e11)) : 0.0;
    double sigma_v = u->group_id >= 0 ? 476.0 * pow(mass / 1e14, 0.336) : 0.0;
    double dc_h = ard_cosmology_comoving_distance(c->cosmo, z0) * ard_cosmology_h(c->cosmo);
    for (int32_t k = 0; k < u->n; k++) {
        int64_t i = u->first + k;
        ard_rng m;
        ard_rng_init(&m, o->seed, ARD__S_MEMBER, (uint64_t)i);
        double ra = ra0, dec = dec0, v = 0.0;
        if (k > 0) {
            double rp = 0.45 * r_vir * sqrt(-2.0 * log(ard_rng_u01(&m)));
            rp = rp > 1.5 * r_vir ? 1.5 * r_vir * ard_rng_u01(&m) : rp;
            double theta = rp * (1.0 + z0) / (dc_h > 1.0 ? dc_h : 1.0) * 180.0 / M_PI;
            double phi = 2.0 * M_PI * ard_rng_u01(&m);
            dec = dec0 + theta * sin(phi);
            dec = dec > 89.999 ? 89.999 : (dec < -89.999 ? -89.999 : dec);
            ra = fmod(ra0 + theta * cos(phi) / cos(dec0 * M_PI / 180.0) + 720.0, 360.0);
            v = sigma_v * ard_rng_normal(&m);
        } else if (u->group_id >= 0) {
            v = 0.1 * sigma_v * ard_rng_normal(&m);
        }
        g->ra[i] = ra;
        g->dec[i] = dec;
        g->cls[i] = u->cls;
        g->z_cosmo[i] = z0;
        double zt = z0 + (1.0 + z0) * v / C_KMS;
        g->z_true[i] = zt > 0.0005 ? zt : 0.0005;
        g->group_id[i] = u->group_id;
        g->log_mass[i] = u->log_mass;
        g->is_central[i] = (uint8_t)(u->group_id >= 0 && k == 0);
        g->healpix[i] = (int32_t)ard_healpix_ang2pix_nest(ARD_NSIDE, ra, dec);
        observe(o, g, i, &m);
    }
    if (u->group_id >= 0) {
        ard__groups *gr = c->groups;
        int64_t gi = u->group_id;
        gr->ra[gi] = ra0;
        gr->dec[gi] = dec0;
        gr->z[gi] = z0;
        gr->log_mass[gi] = u->log_mass;
        gr->r_vir[gi] = r_vir;
        gr->sigma_v[gi] = sigma_v;
        gr->n_members[gi] = u->n;
    }
}

static void fill_task(void *arg, int64_t task, int thread_id) {
    (void)thread_id;
    gen_ctx *c = arg;
    int64_t end = (task + 1) * UNITS_PER_TASK;
    end = end < c->n_units ? end : c->n_units;
    for (int64_t ui = task * UNITS_PER_TASK; ui < end; ui++) {
        fill_unit(c, ui);
    }
}

/* ---- table allocation and sorting by TARGETID ---- */

// clang-format off
#define GAL_FIELDS(X)                                                                              \
    X(targetid) X(ra) X(dec) X(z_cosmo) X(z_true) X(z_obs) X(zerr) X(deltachi2) X(zwarn)           \
    X(group_id) X(log_mass) X(healpix) X(cls) X(anomaly) X(is_central) X(has_spectrum) X(flux_g)   \
    X(flux_r) X(flux_z) X(ebv)
// clang-format on

ard_status ard__galaxies_alloc(ard__galaxies *g, int64_t n, ard_error *err) {
    memset(g, 0, sizeof *g);
    g->n = n;
    int failed = 0;
#define ALLOC(f)                                                                                   \
    g->f = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *g->f);                                     \
    failed |= (g->f == NULL);
    GAL_FIELDS(ALLOC)
#undef ALLOC
    if (failed) {
        ard__galaxies_free(g);
        return ard_error_set(err, ARD_ENOMEM, "generate: no memory for %lld galaxies",
                             (long long)n);
    }
    return ARD_OK;
}

void ard__galaxies_free(ard__galaxies *g) {
#define FREE(f)                                                                                    \
    ard_free(g->f);                                                                                \
    g->f = NULL;
    GAL_FIELDS(FREE)
#undef FREE
    g->n = 0;
}

static ard_status groups_alloc(ard__groups *g, int64_t n, ard_error *err) {
    memset(g, 0, sizeof *g);
    g->n = n;
    size_t cnt = (size_t)(n > 0 ? n : 1);
    g->ra = ard_malloc(cnt * sizeof(double));
    g->dec = ard_malloc(cnt * sizeof(double));
    g->z = ard_malloc(cnt * sizeof(double));
    g->log_mass = ard_malloc(cnt * sizeof(double));
    g->r_vir = ard_malloc(cnt * sizeof(double));
    g->sigma_v = ard_malloc(cnt * sizeof(double));
    g->n_members = ard_malloc(cnt * sizeof(int32_t));
    if (!g->ra || !g->dec || !g->z || !g->log_mass || !g->r_vir || !g->sigma_v || !g->n_members) {
        ard__groups_free(g);
        return ard_error_set(err, ARD_ENOMEM, "generate: no memory for %lld groups", (long long)n);
    }
    return ARD_OK;
}

void ard__groups_free(ard__groups *g) {
    ard_free(g->ra);
    ard_free(g->dec);
    ard_free(g->z);
    ard_free(g->log_mass);
    ard_free(g->r_vir);
    ard_free(g->sigma_v);
    ard_free(g->n_members);
    memset(g, 0, sizeof *g);
}

/* Stable counting sort by HEALPix pixel; TARGETID = base + pixel << 20 + rank in pixel. */
static ard_status sort_by_pixel(ard__galaxies *g, ard_error *err) {
    int64_t *start = ard_calloc(ARD_NPIX_64 + 1, sizeof *start);
    int64_t *perm = ard_malloc((size_t)(g->n > 0 ? g->n : 1) * sizeof *perm);
    ard__galaxies sorted;
    ard_status st = (start && perm) ? ard__galaxies_alloc(&sorted, g->n, err)
                                    : ard_error_set(err, ARD_ENOMEM, "generate: sort: no memory");
    if (st != ARD_OK) {
        ard_free(start);
        ard_free(perm);
        return st;
    }
    for (int64_t i = 0; i < g->n; i++) {
        start[g->healpix[i] + 1]++;
    }
    for (int32_t p = 0; p < ARD_NPIX_64; p++) {
        if (start[p + 1] >= (INT64_C(1) << PIX_SHIFT)) {
            st = ard_error_set(err, ARD_ELIMIT, "generate: pixel %d holds more than %lld galaxies",
                               p, (long long)(INT64_C(1) << PIX_SHIFT));
        }
        start[p + 1] += start[p];
    }
    for (int64_t i = 0; i < g->n && st == ARD_OK; i++) {
        int32_t p = g->healpix[i];
        int64_t dst = start[p]++;
        perm[dst] = i;
    }
    for (int64_t j = 0; j < g->n && st == ARD_OK; j++) {
        int64_t i = perm[j];
#define MOVE(f) sorted.f[j] = g->f[i];
        GAL_FIELDS(MOVE)
#undef MOVE
    }
    /* rank within pixel: start[p] now points past pixel p */
    for (int64_t j = 0; j < g->n && st == ARD_OK; j++) {
        int32_t p = sorted.healpix[j];
        int64_t first = p > 0 ? start[p - 1] : 0;
        sorted.targetid[j] = TARGETID_BASE + ((int64_t)p << PIX_SHIFT) + (j - first);
    }
    ard_free(start);
    ard_free(perm);
    if (st != ARD_OK) {
        ard__galaxies_free(&sorted);
        return st;
    }
    ard__galaxies_free(g);
    *g = sorted;
    return ARD_OK;
}

ard_status ard__gen_catalog(const ard_generate_options *opts, ard_pool *pool,
                            const ard_cosmology *cosmo, ard__galaxies *gal, ard__groups *groups,
                            ard_error *err) {
    gen_ctx c;
    memset(&c, 0, sizeof c);
    memset(gal, 0, sizeof *gal);
    memset(groups, 0, sizeof *groups);
    c.opts = opts;
    c.cosmo = cosmo;
    c.gal = gal;
    c.groups = groups;
    gen_unit *units = NULL;
    int64_t n_groups = 0;
    ard_status st = layout_units(opts, &units, &c.n_units, &n_groups, err);
    if (st == ARD_OK) {
        st = sky_init(&c.sky[0], ard__dr1_density_bright, err);
    }
    if (st == ARD_OK) {
        st = sky_init(&c.sky[1], ard__dr1_density_dark, err);
    }
    if (st == ARD_OK) {
        st = ard__galaxies_alloc(gal, opts->galaxies, err);
    }
    if (st == ARD_OK) {
        st = groups_alloc(groups, n_groups, err);
    }
    if (st == ARD_OK) {
        c.units = units;
        ard_pool_for(pool, (c.n_units + UNITS_PER_TASK - 1) / UNITS_PER_TASK, fill_task, &c);
        st = sort_by_pixel(gal, err);
    }
    ard_free(units);
    ard_free(c.sky[0].cdf);
    ard_free(c.sky[1].cdf);
    if (st != ARD_OK) {
        ard__galaxies_free(gal);
        ard__groups_free(groups);
    }
    return st;
}
