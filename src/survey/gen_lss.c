/* The generator's large-scale structure: a Zel'dovich-evolved Gaussian random field (astro) and
 * its grid T-web, sampled along the light cone (growth D(z) and velocities a H f D psi), and the
 * sky region option. */
#include "survey_int.h"

#include <math.h>
#include <string.h>

#define LSS_DZ 0.005
#define LSS_MAX_BYTES (INT64_C(8) << 30)

void ard__sky_to_xyz(const ard_cosmology *c, double ra, double dec, double z, double *out) {
    double d = ard_cosmology_comoving_distance(c, z) * ard_cosmology_h(c);
    double a = ra * M_PI / 180.0, b = dec * M_PI / 180.0;
    out[0] = d * cos(b) * cos(a);
    out[1] = d * cos(b) * sin(a);
    out[2] = d * sin(b);
}

static double angular_distance_deg(double ra1, double dec1, double ra2, double dec2) {
    double d2r = M_PI / 180.0;
    double s = sin(0.5 * (dec2 - dec1) * d2r), t = sin(0.5 * (ra2 - ra1) * d2r);
    double h = s * s + cos(dec1 * d2r) * cos(dec2 * d2r) * t * t;
    return 2.0 * asin(sqrt(h < 1.0 ? h : 1.0)) / d2r;
}

int ard__in_region(const ard_generate_options *o, double ra, double dec) {
    return !(o->region_radius > 0.0) ||
           angular_distance_deg(o->region_ra, o->region_dec, ra, dec) <= o->region_radius;
}

/* DR1 good-z density (bright + dark, per deg^2) of the pixel holding (ra, dec); 0 outside. */
static double density_at(double ra, double dec) {
    int64_t pix = ard_healpix_ang2pix_nest(ARD_NSIDE, ra, dec);
    int32_t lo = 0, hi = ard__dr1_density_npix - 1;
    while (lo < hi) {
        int32_t mid = (lo + hi) / 2;
        if (ard__dr1_density_pix[mid] < pix) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (ard__dr1_density_pix[lo] != pix) {
        return 0.0;
    }
    return (double)ard__dr1_density_bright[lo] + (double)ard__dr1_density_dark[lo];
}

/* The cap's area times its mean DR1 density, the mean taken over 40 x 100 points on equal-area
 * rings (exact for caps far larger than a pixel, and right on average for small ones). */
int64_t ard__region_galaxies(const ard_generate_options *o) {
    if (!(o->region_radius > 0.0)) {
        return 0;
    }
    const int rings = 40, spokes = 100;
    double d2r = M_PI / 180.0, r = o->region_radius * d2r, sum = 0.0;
    double ra0 = o->region_ra * d2r, dec0 = o->region_dec * d2r;
    for (int i = 0; i < rings; i++) {
        double rho = r * sqrt((i + 0.5) / rings);
        for (int j = 0; j < spokes; j++) {
            double phi = 2.0 * M_PI * (j + 0.5) / spokes;
            double sd = sin(dec0) * cos(rho) + cos(dec0) * sin(rho) * cos(phi);
            double dec = asin(sd > 1.0 ? 1.0 : (sd < -1.0 ? -1.0 : sd));
            double ra = ra0 + atan2(sin(phi) * sin(rho) * cos(dec0), cos(rho) - sin(dec0) * sd);
            sum += density_at(fmod(ra / d2r + 720.0, 360.0), dec / d2r);
        }
    }
    double area_deg2 = 2.0 * M_PI * (1.0 - cos(r)) / (d2r * d2r);
    return (int64_t)llround(area_deg2 * sum / (rings * spokes));
}

static ard_status build_web(const ard_generate_options *o, ard__lss *l, ard_error *err) {
    int32_t n = o->lss_cells;
    size_t cells = (size_t)n * n * n;
    double *rho = ard_malloc(cells * sizeof *rho);
    if (!rho) {
        return ard_error_set(err, ARD_ENOMEM, "generate: no memory for the evolved field");
    }
    ard_status st = ard_field_evolved_density(l->field, rho, err);
    if (st == ARD_OK) {
        st = ard_tweb_grid_new(rho, n, o->lss_box, &l->web_opts, &l->web, err);
    }
    if (st == ARD_OK && l->truth_opts.smoothing != l->web_opts.smoothing) {
        st = ard_tweb_grid_new(rho, n, o->lss_box, &l->truth_opts, &l->truth, err);
    } else if (st == ARD_OK) {
        l->truth = l->web;
    }
    ard_free(rho);
    return st;
}

ard_status ard__lss_new(const ard_generate_options *o, ard__lss *l, ard_error *err) {
    memset(l, 0, sizeof *l);
    if (o->lss_cells < 16 || o->lss_cells > 512) {
        return ard_error_set(err, ARD_EINVAL, "generate: lss_cells = %d outside 16 .. 512",
                             (int)o->lss_cells);
    }
    /* peak: field 48 + evolved 8 + T-web 73 bytes per cell, all three alive at once, plus the
     * truth's T-web (41 kept) when its R differs from the placement's */
    int64_t per_cell = o->web_smoothing != ARD__LSS_PLACEMENT_R ? 170 : 129;
    int64_t need = per_cell * o->lss_cells * o->lss_cells * o->lss_cells;
    if (need > LSS_MAX_BYTES) {
        return ard_error_set(err, ARD_ELIMIT,
                             "generate: lss_cells = %d needs %lld bytes (limit %lld)",
                             (int)o->lss_cells, (long long)need, (long long)LSS_MAX_BYTES);
    }
    ard_field_options fo;
    ard_field_options_init(&fo);
    fo.n = o->lss_cells;
    fo.box = o->lss_box;
    fo.seed = o->seed;
    fo.lpt_order = o->lss_lpt_order;
    fo.threads = o->threads;
    fo.max_bytes = LSS_MAX_BYTES;
    ard_tweb_grid_options_init(&l->web_opts);
    l->web_opts.threads = o->threads;
    l->web_opts.max_bytes = LSS_MAX_BYTES;
    l->web_opts.smoothing = ARD__LSS_PLACEMENT_R;
    l->truth_opts = l->web_opts;
    l->truth_opts.smoothing = o->web_smoothing;
    l->truth_opts.lambda_th = o->web_lambda_th;
    l->box = o->lss_box;
    ard_power_params pp;
    ard_power_params_planck18(&pp);
    for (int i = 0; i <= ARD__LSS_ZTAB; i++) {
        double z = i * LSS_DZ;
        l->growth[i] = ard_growth_factor(pp.omega_m, z);
        l->vfac[i] =
            100.0 * ard_hubble_efunc(pp.omega_m, z) * ard_growth_rate(pp.omega_m, z) / (1.0 + z);
    }
    ard_status st = ard_field_new(&fo, &l->field, err);
    if (st == ARD_OK) {
        st = build_web(o, l, err);
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "generate: large-scale structure: ");
        ard__lss_free(l);
    }
    return st;
}

void ard__lss_free(ard__lss *l) {
    ard_field_free(l->field);
    if (l->truth != l->web) {
        ard_tweb_grid_free(l->truth);
    }
    ard_tweb_grid_free(l->web);
    l->field = NULL;
    l->web = NULL;
    l->truth = NULL;
}

static double table(const double *t, double z) {
    double u = z / LSS_DZ;
    if (!(u > 0.0)) {
        return t[0];
    }
    if (u >= ARD__LSS_ZTAB) {
        return t[ARD__LSS_ZTAB];
    }
    int i = (int)u;
    double f = u - i;
    return t[i] * (1.0 - f) + t[i + 1] * f;
}

double ard__lss_growth(const ard__lss *l, double z) {
    return table(l->growth, z);
}

double ard__lss_vfactor(const ard__lss *l, double z) {
    return table(l->vfac, z);
}

double ard__lss_delta(const ard__lss *l, const double *x) {
    float d = 0.0f;
    if (ard_tweb_grid_sample(l->web, x, 1, NULL, &d, NULL, NULL) != ARD_OK) {
        return 0.0;
    }
    return d;
}

double ard__lss_vlos(const ard__lss *l, const double *x, double z) {
    double psi[3] = {0, 0, 0};
    if (ard_field_sample(l->field, x, 1, NULL, psi, NULL) != ARD_OK) {
        return 0.0;
    }
    double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    if (!(r > 0.0)) {
        return 0.0;
    }
    double los = (psi[0] * x[0] + psi[1] * x[1] + psi[2] * x[2]) / r;
    return ard__lss_vfactor(l, z) * ard__lss_growth(l, z) * los;
}
