/* Noise-free spectral models per class: continua (LRG: the real DESI LRG stack where it covers,
 * else an analytic old population with 4000 A break and absorption lines; BGS: weaker break; blue
 * ELG continuum; QSO power law with Lyman-alpha forest) and emission lines at (1+z) x vacuum rest
 * wavelengths (desi-facts.md section 3), integrated over each pixel so line flux is conserved. */
#include "survey_int.h"

#include <string.h>

#define C_KMS 299792.458

typedef struct line {
    double rest;     /* vacuum Angstrom */
    double strength; /* rest EW (A) for emission, depth for absorption */
} line;

/* Absorption (old stellar population); air values converted to vacuum (x 1.00028). */
static const line k_abs[] = {{3934.8, 0.40}, {3969.6, 0.35}, {4102.9, 0.08},
                             {4305.6, 0.15}, {4862.7, 0.06}, {5176.4, 0.15},
                             {5895.6, 0.12}, {8544.4, 0.08}, {8664.5, 0.08}};
/* ELG: [OII] doublet, [NeIII], Hgamma, Hbeta, [OIII], Halpha, [NII], [SII]. EW per unit "strength".
 */
static const line k_elg[] = {{3727.10, 14.0}, {3729.86, 18.0}, {3869.86, 2.0},  {4341.69, 3.0},
                             {4862.71, 9.0},  {4960.30, 5.0},  {5008.24, 15.0}, {6549.86, 4.0},
                             {6564.60, 40.0}, {6585.27, 12.0}, {6718.29, 5.0},  {6732.67, 4.0}};
/* QSO broad lines: Lya, NV, SiIV, CIV, CIII], MgII, Hbeta, Halpha. */
static const line k_qso[] = {{1215.67, 90.0}, {1240.14, 15.0}, {1396.76, 8.0},  {1549.06, 40.0},
                             {1908.73, 20.0}, {2798.75, 35.0}, {4862.71, 40.0}, {6564.60, 180.0}};

#define NLINES(a) ((int)(sizeof(a) / sizeof((a)[0])))

#define TEMPLATE_BLEND 50.0 /* Angstrom over which the LRG stack fades into the analytic model */

/* Weight of the real LRG stack at rest wavelength lr (1 inside, 0 outside, linear at the edges). */
static double template_weight(double lr) {
    double lo = ard__lrg_template_lam0;
    double hi = lo + ard__lrg_template_dlam * (ard__lrg_template_n - 1);
    double w = fmin(lr - lo, hi - lr) / TEMPLATE_BLEND;
    return w <= 0.0 ? 0.0 : (w >= 1.0 ? 1.0 : w);
}

static double template_flux(double lr) {
    double x = (lr - ard__lrg_template_lam0) / ard__lrg_template_dlam;
    int32_t i = (int32_t)x;
    i = i < 0 ? 0 : (i > ard__lrg_template_n - 2 ? ard__lrg_template_n - 2 : i);
    double t = x - i;
    return (1.0 - t) * ard__lrg_template_flux[i] + t * ard__lrg_template_flux[i + 1];
}

static double analytic_rest(int32_t cls, double lr);

/* LRG: the real DESI stack where it exists (3300-6950 A rest), analytic beyond. */
static double continuum_rest(int32_t cls, double lr) {
    double a = analytic_rest(cls, lr);
    if (cls != ARD_CLASS_LRG) {
        return a;
    }
    double w = template_weight(lr);
    return w > 0.0 ? w * template_flux(lr) + (1.0 - w) * a : a;
}

static double analytic_rest(int32_t cls, double lr) {
    double shape, brk, d;
    switch (cls) {
    case ARD_CLASS_LRG:
        shape = lr / 5000.0;
        d = 1.9;
        break;
    case ARD_CLASS_BGS:
        shape = pow(lr / 5000.0, 0.4);
        d = 1.45;
        break;
    case ARD_CLASS_ELG:
        shape = pow(lr / 5000.0, -1.2);
        d = 1.05;
        break;
    default:
        d = lr / 2500.0;
        return 1.0 / (d * sqrt(d)) * (lr < 912.0 ? 0.1 : 1.0);
    }
    /* tanh is exactly +-1 in double beyond |x| = 19.1: skip it far from the break */
    double x = (lr - 4000.0) / 30.0;
    brk = 1.0 / (1.0 + (d - 1.0) * 0.5 * (x > 20.0 ? 0.0 : (x < -20.0 ? 2.0 : 1.0 - tanh(x))));
    double uv = lr < 2800.0 ? (lr / 2800.0) * (lr / 2800.0) : 1.0;
    return shape * brk * uv;
}

static double absorption(int32_t cls, double lr) {
    if (cls != ARD_CLASS_LRG && cls != ARD_CLASS_BGS) {
        return 1.0;
    }
    double scale = cls == ARD_CLASS_LRG ? 1.0 - template_weight(lr) : 0.5, t = 1.0;
    for (int k = 0; k < NLINES(k_abs) && scale > 0.0; k++) {
        double x = (lr - k_abs[k].rest) / 9.0;
        if (fabs(x) < 6.0) {
            t *= 1.0 - scale * k_abs[k].strength * exp(-0.5 * x * x);
        }
    }
    return t;
}

/* Adds a Gaussian of total flux `total` centred at lam (observed) with sigma sig, pixel-integrated.
 */
static void add_gaussian(const ard__spec_ctx *ctx, double lam, double sig, double total,
                         double *out) {
    double lo = ard_grid_index(&ctx->grid, lam - 6.0 * sig),
           hi = ard_grid_index(&ctx->grid, lam + 6.0 * sig);
    int64_t a = (int64_t)floor(lo), b = (int64_t)ceil(hi);
    a = a < 0 ? 0 : a;
    b = b > ctx->grid.n - 1 ? ctx->grid.n - 1 : b;
    for (int64_t j = a; j <= b; j++) {
        double e0 = ctx->edges[j], e1 = ctx->edges[j + 1];
        double p = 0.5 * (erf((e1 - lam) / (M_SQRT2 * sig)) - erf((e0 - lam) / (M_SQRT2 * sig)));
        out[j] += total * p / (e1 - e0);
    }
}

static void add_lines(const ard__spec_ctx *ctx, const line *lines, int count, double z, double amp,
                      int32_t cls, double sigma_kms, const double *ratio, double *out) {
    for (int k = 0; k < count; k++) {
        double lam = lines[k].rest * (1.0 + z);
        if (lam < ctx->grid.start - 50.0 || lam > ctx->grid.stop + 50.0) {
            continue;
        }
        double cont = amp * continuum_rest(cls, lines[k].rest);
        double sig_inst = lam / 4000.0; /* DESI resolution R ~ 2000-5000 */
        double sig = sqrt(pow(lam * sigma_kms / C_KMS, 2.0) + sig_inst * sig_inst);
        double ew_obs = lines[k].strength * ratio[k] * (1.0 + z);
        add_gaussian(ctx, lam, sig, ew_obs * cont, out);
    }
}

/* Lyman-alpha forest transmission below the QSO's Lya line (exponential fluctuations). */
static void lya_forest(const ard__spec_ctx *ctx, double z, uint64_t variant, double *out) {
    double lya = 1215.67 * (1.0 + z);
    for (int64_t j = 0; j < ctx->grid.n && ctx->wl[j] < lya; j++) {
        double za = ctx->wl[j] / 1215.67 - 1.0;
        double tau = 0.0025 * pow(1.0 + za, 3.7);
        double u = ard__u01(ard__hash4(variant, 77, (uint64_t)j, 0));
        out[j] *= exp(-tau * -log(u));
    }
}

void ard__spec_model(const ard__spec_ctx *ctx, int32_t cls, double z, double flux_r,
                     int32_t line_ratio_anomaly, uint64_t variant, double *out) {
    /* 1 nanomaggy at 6400 A = 0.266e-17 erg/s/cm^2/A */
    double amp = 0.266 * flux_r / continuum_rest(cls, 6400.0 / (1.0 + z));
    for (int64_t j = 0; j < ctx->grid.n; j++) {
        double lr = ctx->wl[j] / (1.0 + z);
        out[j] = amp * continuum_rest(cls, lr) * absorption(cls, lr);
    }
    double ratio[16];
    for (int k = 0; k < 16; k++) {
        ratio[k] = 1.0;
    }
    double strength = 0.5 + ard__u01(ard__hash4(variant, 78, 0, 0)); /* object-to-object spread */
    if (cls == ARD_CLASS_ELG || cls == ARD_CLASS_BGS) {
        double s = cls == ARD_CLASS_ELG ? 2.0 * strength : 0.3 * strength;
        for (int k = 0; k < NLINES(k_elg); k++) {
            ratio[k] = s;
        }
        if (line_ratio_anomaly) {
            ratio[5] = 8.0 * s; /* [OIII]4960 far above 5008: unphysical (atomic ratio 1:2.98) */
            ratio[6] = 0.2 * s;
            ratio[7] = 12.0 * s; /* [NII]6549 >> [NII]6585 */
        }
        add_lines(ctx, k_elg, NLINES(k_elg), z, amp, cls, 70.0, ratio, out);
    } else if (cls == ARD_CLASS_QSO) {
        for (int k = 0; k < NLINES(k_qso); k++) {
            ratio[k] = strength;
        }
        add_lines(ctx, k_qso, NLINES(k_qso), z, amp, cls, 2500.0, ratio, out);
        lya_forest(ctx, z, variant, out);
    } else if (line_ratio_anomaly) {
        for (int k = 0; k < NLINES(k_elg); k++) {
            ratio[k] = 0.0;
        }
        ratio[5] = 3.0;
        ratio[4] = 0.2;
        add_lines(ctx, k_elg, NLINES(k_elg), z, amp, cls, 70.0, ratio, out);
    }
}

void ard__arm_range(int32_t arm, double *lo, double *hi) {
    static const double edges[4] = {0.0, 5780.0, 7570.0, 1e9};
    *lo = edges[arm];
    *hi = edges[arm + 1];
}
