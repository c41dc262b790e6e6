/* Noise-free spectral models per class: continua (LRG: the real DESI LRG stack where it covers,
 * else an analytic old population with 4000 A break and absorption lines; BGS: weaker break; blue
 * ELG continuum; QSO power law with Lyman-alpha forest) and emission lines at (1+z) x vacuum rest
 * wavelengths (desi-facts.md section 3), integrated over each pixel so line flux is conserved. */
#include "survey_int.h"

#include <string.h>

/* Nothing here reads floating-point exception flags: without trapping math GCC if-converts the
 * per-pixel selects below, so those loops vectorise; the IEEE results are the same. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "no-math-errno")
#endif

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
static inline double template_weight(double lr) {
    double lo = ard__lrg_template_lam0;
    double hi = lo + ard__lrg_template_dlam * (ard__lrg_template_n - 1);
    double a = lr - lo, b = hi - lr; /* fmin without its NaN handling (a call; no NaN here) */
    double w = (a < b ? a : b) * (1.0 / TEMPLATE_BLEND);
    return w <= 0.0 ? 0.0 : (w >= 1.0 ? 1.0 : w);
}

static inline double template_flux(double lr) {
    double x = (lr - ard__lrg_template_lam0) * (1.0 / ard__lrg_template_dlam);
    int32_t i = (int32_t)x;
    i = i < 0 ? 0 : (i > ard__lrg_template_n - 2 ? ard__lrg_template_n - 2 : i);
    double t = x - i;
    return (1.0 - t) * ard__lrg_template_flux[i] + t * ard__lrg_template_flux[i + 1];
}

/* Continuum power law of each class: (lr / ref)^slope (ARD_CLASS_* order: BGS, LRG, ELG, QSO). */
static const double k_slope[ARD_CLASS_COUNT] = {0.4, 1.0, -1.2, -1.5};
static const double k_slope_ref[ARD_CLASS_COUNT] = {5000.0, 5000.0, 5000.0, 2500.0};

void ard__spec_shape_table(const double *wl, int64_t n, double *out) {
    for (int32_t c = 0; c < ARD_CLASS_COUNT; c++) {
        for (int64_t j = 0; j < n; j++) {
            out[c * n + j] = pow(wl[j], k_slope[c]);
        }
    }
}

/* Depth of the 4000 A break of a class (not QSO). */
static inline double break_depth(int32_t cls) {
    return cls == ARD_CLASS_LRG ? 1.9 : (cls == ARD_CLASS_BGS ? 1.45 : 1.05);
}

static inline double break_x(double lr) {
    return (lr - 4000.0) * (1.0 / 30.0);
}

static inline double exp_near(double y) {
    /* e^y = 2^k e^r, k = round(y / ln 2) by the 1.5 x 2^52 shift (its low bits are k), r = y - k ln 2
     * in two parts (k x ln2_hi exact), e^r by its Taylor series to r^13 (truncation < 5e-18 for
     * |r| <= ln 2 / 2), 2^k put in the exponent bits. No branch, so a loop of it vectorises. */
    const double shift = 0x1.8p52, ln2_hi = 0x1.62e42feep-1, ln2_lo = 0x1.a39ef35793c76p-33;
    double kd = y * 0x1.71547652b82fep0 + shift;
    double k = kd - shift;
    double r = (y - k * ln2_hi) - k * ln2_lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t kbits, sbits;
    memcpy(&kbits, &kd, sizeof kbits);
    sbits = (kbits - 0x4338000000000000ull + 1023u) << 52;
    double scale;
    memcpy(&scale, &sbits, sizeof scale);
    return p * scale;
}

double ard__exp_near(double y) {
    return exp_near(y);
}

/* Break 1 / (1 + (d - 1) (1 - tanh x) / 2) with step = (1 - tanh x) / 2 = 1 / (1 + e^2x); that is 0
 * (1) to double precision beyond x = 20 (-20): no exp far from the break. */
static inline double break_step(double lr) {
    double x = break_x(lr);
    return x > 20.0 ? 0.0 : (x < -20.0 ? 1.0 : 1.0 / (1.0 + exp_near(2.0 * x)));
}

/* shape x break x UV fall-off (not QSO) with the break's factor brk. */
static inline double analytic_brk(double lr, double shape, double brk) {
    double u = lr * (1.0 / 2800.0);
    double uv = lr < 2800.0 ? u * u : 1.0;
    return shape * brk * uv;
}

/* The same for a class with break depth d at break step `step`. */
static inline double analytic_of(double lr, double shape, double step, double d) {
    return analytic_brk(lr, shape, 1.0 / (1.0 + (d - 1.0) * step));
}

/* Analytic rest-frame continuum at lr (A) whose power law (lr / ref)^slope is `shape`. */
static inline double analytic_rest(int32_t cls, double lr, double shape) {
    if (cls == ARD_CLASS_QSO) {
        return shape * (lr < 912.0 ? 0.1 : 1.0);
    }
    return analytic_of(lr, shape, break_step(lr), break_depth(cls));
}

/* LRG: the real DESI stack where it exists (3300-6950 A rest), analytic beyond. */
static inline double continuum_rest_shape(int32_t cls, double lr, double shape) {
    if (cls != ARD_CLASS_LRG) {
        return analytic_rest(cls, lr, shape);
    }
    double w = template_weight(lr);
    if (w >= 1.0) {
        return template_flux(lr);
    }
    double a = analytic_rest(cls, lr, shape);
    return w > 0.0 ? w * template_flux(lr) + (1.0 - w) * a : a;
}

static double continuum_rest(int32_t cls, double lr) {
    return continuum_rest_shape(cls, lr, pow(lr / k_slope_ref[cls], k_slope[cls]));
}

/* The continuum a block of pixels at a time, in the same IEEE operations as continuum_rest_shape
 * per pixel (so the same bits) but branch-free, so the loops vectorise: the break's exp only where
 * continuum_rest_shape evaluates it (|x| <= 20, and for LRG only off the full-weight stack). */
#define CONT_BLOCK 256

/* brk[j] = the break factor 1 / (1 + (d - 1) step) of analytic_of at break_step(lr[j]) where
 * need[j] != 0 (the pixel's continuum uses the analytic part), else whatever (unused). lr rises
 * with j, so the exp and the two divisions are needed on one run of pixels only (less the pixels
 * at its ends that do not need them); outside it the step is exactly 1 (below) or 0 (above), whose
 * factors are the same expression at those steps. */
static inline void break_factors(const double *lr, const double *need, int64_t m, double d,
                                 double *brk) {
    int64_t below = 0, upto = 0; /* pixels with x < -20, with x <= 20 (x rises with j) */
    for (int64_t half = m; half > 0; half /= 2) {
        while (below + half <= m && break_x(lr[below + half - 1]) < -20.0) {
            below += half;
        }
        while (upto + half <= m && break_x(lr[upto + half - 1]) <= 20.0) {
            upto += half;
        }
    }
    double full = 1.0 / (1.0 + (d - 1.0) * 1.0), none = 1.0 / (1.0 + (d - 1.0) * 0.0);
    for (int64_t j = 0; j < m; j++) {
        brk[j] = j < upto ? full : none;
    }
    while (below < upto && need[below] == 0.0) { /* LRG: the stack covers the whole break */
        below++;
    }
    while (upto > below && need[upto - 1] == 0.0) {
        upto--;
    }
    for (int64_t j = below; j < upto; j++) { /* e^2x with |x| <= 20, no branch: vectorises */
        double step = 1.0 / (1.0 + exp_near(2.0 * break_x(lr[j])));
        double v = 1.0 / (1.0 + (d - 1.0) * step);
        brk[j] = need[j] != 0.0 ? v : brk[j];
    }
}

static inline __attribute__((always_inline)) void
continuum_block(int32_t cls, const double *wl, const double *shape_tab, double inv1z, double scale,
                double amp, int64_t m, double *out) {
    double lr[CONT_BLOCK], brk[CONT_BLOCK], need[CONT_BLOCK];
    for (int64_t j = 0; j < m; j++) {
        lr[j] = wl[j] * inv1z;
    }
    if (cls == ARD_CLASS_QSO) {
        for (int64_t j = 0; j < m; j++) {
            out[j] = amp * (shape_tab[j] * scale * (lr[j] < 912.0 ? 0.1 : 1.0));
        }
        return;
    }
    double d = break_depth(cls);
    if (cls != ARD_CLASS_LRG) {
        for (int64_t j = 0; j < m; j++) {
            need[j] = 1.0;
        }
        break_factors(lr, need, m, d, brk);
        for (int64_t j = 0; j < m; j++) {
            out[j] = amp * analytic_brk(lr[j], shape_tab[j] * scale, brk[j]);
        }
        return;
    }
    double wgt[CONT_BLOCK];
    int32_t some_stack = 0, all_stack = 1; /* a pixel of weight > 0; every pixel of weight 1 */
    for (int64_t j = 0; j < m; j++) {
        wgt[j] = template_weight(lr[j]);
        need[j] = wgt[j] < 1.0 ? 1.0 : 0.0;
        some_stack |= wgt[j] > 0.0;
        all_stack &= wgt[j] >= 1.0;
    }
    if (all_stack) { /* the selects below would take the stack everywhere */
        for (int64_t j = 0; j < m; j++) {
            out[j] = amp * template_flux(lr[j]);
        }
        return;
    }
    break_factors(lr, need, m, d, brk);
    if (!some_stack) { /* ... or the analytic part everywhere */
        for (int64_t j = 0; j < m; j++) {
            out[j] = amp * analytic_brk(lr[j], shape_tab[j] * scale, brk[j]);
        }
        return;
    }
    for (int64_t j = 0; j < m; j++) {
        double w = wgt[j];
        double tf = template_flux(lr[j]);
        double a = analytic_brk(lr[j], shape_tab[j] * scale, brk[j]);
        double v = w >= 1.0 ? tf : (w > 0.0 ? w * tf + (1.0 - w) * a : a);
        out[j] = amp * v;
    }
}

static void continuum_block_plain(int32_t cls, const double *wl, const double *shape_tab,
                                  double inv1z, double scale, double amp, int64_t m, double *out) {
    continuum_block(cls, wl, shape_tab, inv1z, scale, amp, m, out);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CONT_AVX512 1
/* The same loops compiled for AVX-512 (8 lanes, masks, gathers): the same IEEE operations (ISO C:
 * no FMA contraction), so the same bits as the plain build. */
__attribute__((target("avx512f,avx512dq,prefer-vector-width=512"))) static void
continuum_block_avx512(int32_t cls, const double *wl, const double *shape_tab, double inv1z,
                       double scale, double amp, int64_t m, double *out) {
    continuum_block(cls, wl, shape_tab, inv1z, scale, amp, m, out);
}
#endif

void ard__spec_continuum(const ard__spec_ctx *ctx, int32_t cls, double z, double amp, int32_t path,
                         double *out) {
    const double *shape = ctx->shape + cls * ctx->grid.n;
    double inv1z = 1.0 / (1.0 + z);
    double scale = pow(k_slope_ref[cls] * (1.0 + z), -k_slope[cls]);
    if (path == ARD__CONT_PIXEL) {
        for (int64_t j = 0; j < ctx->grid.n; j++) {
            out[j] = amp * continuum_rest_shape(cls, ctx->wl[j] * inv1z, shape[j] * scale);
        }
        return;
    }
    void (*block)(int32_t, const double *, const double *, double, double, double, int64_t,
                  double *) = continuum_block_plain;
#ifdef CONT_AVX512
    if (path != ARD__CONT_BLOCKS && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512dq")) {
        block = continuum_block_avx512;
    }
#endif
    for (int64_t j0 = 0; j0 < ctx->grid.n; j0 += CONT_BLOCK) {
        int64_t m = ctx->grid.n - j0 < CONT_BLOCK ? ctx->grid.n - j0 : CONT_BLOCK;
        block(cls, ctx->wl + j0, shape + j0, inv1z, scale, amp, m, out + j0);
    }
}

/* Multiplies out (observed frame, redshift z) by the stellar absorption lines: depth scaled by
 * 0.5 for BGS, by the analytic share (1 - template weight) for LRG; none for other classes. The
 * profile's exp is exp_near, branch-free, so the loop over a line's pixels vectorises. */
static inline __attribute__((always_inline)) void
absorption_lines(const ard__spec_ctx *ctx, int32_t cls, double z, int32_t skip_stack, double *out) {
    for (int k = 0; k < NLINES(k_abs); k++) {
        double reach = 6.0 * 9.0; /* |x| < 6 below, x in units of 9 A rest */
        int64_t a = (int64_t)floor(ard_grid_index(&ctx->grid, (k_abs[k].rest - reach) * (1.0 + z)));
        int64_t b = (int64_t)ceil(ard_grid_index(&ctx->grid, (k_abs[k].rest + reach) * (1.0 + z)));
        a = a < 0 ? 0 : a;
        b = b > ctx->grid.n - 1 ? ctx->grid.n - 1 : b;
        const double *wl = ctx->wl + a;
        double *o = out + a, rest = k_abs[k].rest, strength = k_abs[k].strength;
        double lrg = cls == ARD_CLASS_LRG ? 1.0 : 0.0; /* 1 x v + 0 x 0.5 = v and back */
        if (skip_stack && cls == ARD_CLASS_LRG && b >= a &&
            template_weight(wl[0] / (1.0 + z)) >= 1.0 &&
            template_weight(wl[b - a] / (1.0 + z)) >= 1.0) {
            continue; /* weight 1 at both ends, so at every pixel between: scale 0, no change */
        }
        for (int64_t j = 0; j < b - a + 1; j++) {
            double lr = wl[j] / (1.0 + z);
            double scale = lrg * (1.0 - template_weight(lr)) + (1.0 - lrg) * 0.5; /* exact */
            double x = (lr - rest) / 9.0;
            double y = -0.5 * x * x;
            double f = 1.0 - scale * strength * exp_near(y < -700.0 ? -700.0 : y);
            double cur = o[j], mul = cur * f; /* both loaded and computed: no branch */
            o[j] = ((fabs(x) < 6.0) & (scale > 0.0)) ? mul : cur;
        }
    }
}

static void absorption_plain(const ard__spec_ctx *ctx, int32_t cls, double z, double *out) {
    absorption_lines(ctx, cls, z, 1, out);
}

static void absorption_every_line(const ard__spec_ctx *ctx, int32_t cls, double z, double *out) {
    absorption_lines(ctx, cls, z, 0, out);
}

#ifdef CONT_AVX512
__attribute__((target("avx512f,avx512dq,prefer-vector-width=512"))) static void
absorption_avx512(const ard__spec_ctx *ctx, int32_t cls, double z, double *out) {
    absorption_lines(ctx, cls, z, 1, out);
}
#endif

void ard__spec_absorption(const ard__spec_ctx *ctx, int32_t cls, double z, int32_t path,
                          double *out) {
    if (cls != ARD_CLASS_LRG && cls != ARD_CLASS_BGS) {
        return;
    }
#ifdef CONT_AVX512
    if (path == ARD__CONT_FASTEST && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512dq")) {
        absorption_avx512(ctx, cls, z, out);
        return;
    }
#endif
    if (path == ARD__CONT_PIXEL) {
        absorption_every_line(ctx, cls, z, out);
        return;
    }
    absorption_plain(ctx, cls, z, out);
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
    if (a > b) {
        return;
    }
    double inv = 1.0 / (M_SQRT2 * sig), lower = erf((ctx->edges[a] - lam) * inv);
    for (int64_t j = a; j <= b; j++) { /* a pixel's upper edge is the next one's lower edge */
        double e0 = ctx->edges[j], e1 = ctx->edges[j + 1];
        double upper = erf((e1 - lam) * inv);
        out[j] += total * (0.5 * (upper - lower)) / (e1 - e0);
        lower = upper;
    }
}

/* dp_kms > 0: each line split into two halves at -/+ dp_kms (double-peaked profile). */
static void add_lines(const ard__spec_ctx *ctx, const line *lines, int count, double z, double amp,
                      int32_t cls, double sigma_kms, const double *ratio, double dp_kms,
                      double *out) {
    for (int k = 0; k < count; k++) {
        double lam = lines[k].rest * (1.0 + z);
        if (lam < ctx->grid.start - 50.0 || lam > ctx->grid.stop + 50.0) {
            continue;
        }
        double cont = amp * continuum_rest(cls, lines[k].rest);
        double sig_inst = lam / 4000.0; /* DESI resolution R ~ 2000-5000 */
        double sig = sqrt(pow(lam * sigma_kms / C_KMS, 2.0) + sig_inst * sig_inst);
        double ew_obs = lines[k].strength * ratio[k] * (1.0 + z);
        if (dp_kms > 0.0) {
            add_gaussian(ctx, lam * (1.0 - dp_kms / C_KMS), sig, 0.5 * ew_obs * cont, out);
            add_gaussian(ctx, lam * (1.0 + dp_kms / C_KMS), sig, 0.5 * ew_obs * cont, out);
        } else {
            add_gaussian(ctx, lam, sig, ew_obs * cont, out);
        }
    }
}

/* Lyman-alpha forest transmission below the QSO's Lya line (exponential fluctuations). */
void ard__spec_lya_tau_table(const double *logwl, int64_t n, double *tau) {
    double log_lya = log(1215.67);
    for (int64_t j = 0; j < n; j++) {
        tau[j] = 0.0025 * exp(3.7 * (logwl[j] - log_lya)); /* (1 + z_abs)^3.7 */
    }
}

static void lya_forest(const ard__spec_ctx *ctx, double z, uint64_t variant, double *out) {
    double lya = 1215.67 * (1.0 + z);
    for (int64_t j = 0; j < ctx->grid.n && ctx->wl[j] < lya; j++) {
        double tau = ctx->lya_tau[j];
        double u = ard_rng_to_u01(ard_rng_hash4(variant, 77, (uint64_t)j, 0));
        out[j] *= exp(-tau * -log(u));
    }
}

static void spec_model(const ard__spec_ctx *ctx, int32_t cls, double z, double flux_r,
                       int32_t line_ratio_anomaly, double dp_kms, uint64_t variant, double *out) {
    /* 1 nanomaggy at 6400 A = 0.266e-17 erg/s/cm^2/A */
    double amp = 0.266 * flux_r / continuum_rest(cls, 6400.0 / (1.0 + z));
    ard__spec_continuum(ctx, cls, z, amp, ARD__CONT_FASTEST, out);
    ard__spec_absorption(ctx, cls, z, ARD__CONT_FASTEST, out);
    double ratio[16];
    for (int k = 0; k < 16; k++) {
        ratio[k] = 1.0;
    }
    double strength =
        0.5 + ard_rng_to_u01(ard_rng_hash4(variant, 78, 0, 0)); /* object-to-object spread */
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
        add_lines(ctx, k_elg, NLINES(k_elg), z, amp, cls, 70.0, ratio, dp_kms, out);
    } else if (cls == ARD_CLASS_QSO) {
        for (int k = 0; k < NLINES(k_qso); k++) {
            ratio[k] = strength;
        }
        /* double-peaked broad lines (disk emitters): narrower components, resolved apart */
        add_lines(ctx, k_qso, NLINES(k_qso), z, amp, cls, dp_kms > 0.0 ? 1200.0 : 2500.0, ratio,
                  dp_kms, out);
        lya_forest(ctx, z, variant, out);
    } else if (line_ratio_anomaly) {
        for (int k = 0; k < NLINES(k_elg); k++) {
            ratio[k] = 0.0;
        }
        ratio[5] = 3.0;
        ratio[4] = 0.2;
        add_lines(ctx, k_elg, NLINES(k_elg), z, amp, cls, 70.0, ratio, 0.0, out);
    } else if (dp_kms > 0.0) { /* LRG with double-peaked narrow lines: an AGN-like signature */
        for (int k = 0; k < NLINES(k_elg); k++) {
            ratio[k] = 0.6;
        }
        add_lines(ctx, k_elg, NLINES(k_elg), z, amp, cls, 70.0, ratio, dp_kms, out);
    }
}

void ard__spec_model(const ard__spec_ctx *ctx, int32_t cls, double z, double flux_r,
                     int32_t line_ratio_anomaly, uint64_t variant, double *out) {
    spec_model(ctx, cls, z, flux_r, line_ratio_anomaly, 0.0, variant, out);
}

/* ---- astrophysical anomalies ---- */

/* Stellar absorption lines (vacuum A): Balmer series, then metals (Ca II K, H, Mg b, Na D, Ca
 * triplet); sigma in A. */
static const line k_star_balmer[] = {{6564.60, 0}, {4862.71, 0}, {4341.69, 0},
                                     {4102.89, 0}, {3971.20, 0}, {3890.17, 0}};
static const line k_star_metal[] = {{3934.78, 0}, {3969.59, 0}, {5176.70, 0}, {5895.92, 0},
                                    {8500.36, 0}, {8544.44, 0}, {8664.52, 0}};

static double planck(double lam, double t) { /* F_lambda shape, arbitrary unit */
    double x = 1.43877688e8 / (lam * t);     /* hc / (lambda k T), lambda in A */
    return 1.0 / (pow(lam * 1e-4, 5.0) * expm1(x > 700.0 ? 700.0 : x));
}

static double clamp01(double v, double lo, double hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

void ard__spec_star(const ard__spec_ctx *ctx, double t_star, double v_kms, double flux_r,
                    double *out) {
    double amp = 0.266 * flux_r / planck(6400.0, t_star);
    for (int64_t j = 0; j < ctx->grid.n; j++) {
        out[j] = amp * planck(ctx->wl[j], t_star);
    }
    /* Balmer lines peak in A stars (~9500 K), metal lines grow toward cool stars */
    double d_balmer = clamp01(0.1 + 0.55 * (t_star - 4000.0) / 5500.0, 0.1, 0.65);
    double d_metal = clamp01(0.15 + 0.5 * (7500.0 - t_star) / 4000.0, 0.15, 0.65);
    double dop = 1.0 + v_kms / C_KMS;
    for (int pass = 0; pass < 2; pass++) {
        const line *ls = pass == 0 ? k_star_balmer : k_star_metal;
        int count = pass == 0 ? NLINES(k_star_balmer) : NLINES(k_star_metal);
        double sig = pass == 0 ? 7.0 : 3.0, depth = pass == 0 ? d_balmer : d_metal;
        for (int k = 0; k < count; k++) {
            double lam = ls[k].rest * dop;
            int64_t a = (int64_t)floor(ard_grid_index(&ctx->grid, lam - 6.0 * sig));
            int64_t b = (int64_t)ceil(ard_grid_index(&ctx->grid, lam + 6.0 * sig));
            a = a < 0 ? 0 : a;
            b = b > ctx->grid.n - 1 ? ctx->grid.n - 1 : b;
            for (int64_t j = a; j <= b; j++) {
                double x = (ctx->wl[j] - lam) / sig;
                out[j] *= 1.0 - depth * exp(-0.5 * x * x);
            }
        }
    }
}

/* BAL troughs: below each line, flux x (1 - depth) between outflow velocities v_lo and v_hi, with
 * 500 km/s soft edges. N V, Si IV and C IV (HiBAL) and Mg II (LoBAL, half as deep). */
static void bal_troughs(const ard__spec_ctx *ctx, double z, double v_lo, double v_hi, double depth,
                        double *out) {
    static const double rest[4] = {1240.14, 1396.76, 1549.06, 2798.75};
    for (int k = 0; k < 4; k++) {
        double d = k == 3 ? 0.5 * depth : depth;
        double lam0 = rest[k] * (1.0 + z);
        for (int64_t j = 0; j < ctx->grid.n; j++) {
            double v = (1.0 - ctx->wl[j] / lam0) * C_KMS; /* outflow velocity of this pixel */
            if (v < v_lo - 1500.0 || v > v_hi + 1500.0) {
                continue;
            }
            double in = 1.0 / (1.0 + exp(-(v - v_lo) / 250.0)) / (1.0 + exp((v - v_hi) / 250.0));
            out[j] *= 1.0 - d * in;
        }
    }
}

void ard__anomaly_params_of(uint64_t seed, int64_t targetid, int32_t cls, double z,
                            ard__anomaly_params *p) {
    uint64_t t = (uint64_t)targetid;
    double u[8];
    for (int k = 0; k < 8; k++) {
        u[k] = ard_rng_to_u01(ard_rng_hash4(seed, ARD__S_SPECTRUM, t, 2000 + (uint64_t)k));
    }
    memset(p, 0, sizeof *p);
    p->t_star = 3500.0 + 6000.0 * u[0];
    p->v_star = -150.0 + 300.0 * u[1];
    p->dp_kms = cls == ARD_CLASS_QSO ? 2500.0 + 2500.0 * u[2] : 150.0 + 300.0 * u[2];
    p->z_bal = cls == ARD_CLASS_QSO ? z : 1.6 + 1.2 * u[3];
    p->v_lo = 2000.0 + 3000.0 * u[4];
    p->v_hi = p->v_lo + 4000.0 + 16000.0 * u[5];
    p->depth = 0.5 + 0.45 * u[6];
    double dz = 0.1 + 0.5 * u[7];
    int up = (ard_rng_hash4(seed, ARD__S_SPECTRUM, t, 2010) & 1) != 0 || z - dz < 0.05;
    p->z2 = up ? z + dz : z - dz;
    p->f2 = 0.4 + 0.6 * ard_rng_to_u01(ard_rng_hash4(seed, ARD__S_SPECTRUM, t, 2011));
    p->cls2 = ard_rng_to_u01(ard_rng_hash4(seed, ARD__S_SPECTRUM, t, 2012)) < 0.6 ? ARD_CLASS_ELG
                                                                                  : ARD_CLASS_LRG;
}

void ard__spec_model_galaxy(const ard__spec_ctx *ctx, const ard__galaxies *gal, int64_t i,
                            int32_t cls, uint64_t variant, double *out, float *tmp) {
    int kind = gal->anomaly[i];
    double z = gal->z_true[i], fr = gal->flux_r[i];
    if (kind < ARD_ANOMALY_STAR) {
        spec_model(ctx, cls, z, fr, kind == ARD_ANOMALY_LINE_RATIO, 0.0, variant, out);
        return;
    }
    ard__anomaly_params p;
    ard__anomaly_params_of(ctx->seed, gal->targetid[i], cls, z, &p);
    switch (kind) {
    case ARD_ANOMALY_STAR:
        ard__spec_star(ctx, p.t_star, p.v_star, fr, out);
        break;
    case ARD_ANOMALY_DOUBLE_PEAK:
        spec_model(ctx, cls, z, fr, 0, p.dp_kms, variant, out);
        break;
    case ARD_ANOMALY_BAL_QSO:
        spec_model(ctx, ARD_CLASS_QSO, p.z_bal, fr, 0, 0.0, variant, out);
        bal_troughs(ctx, p.z_bal, p.v_lo, p.v_hi, p.depth, out);
        break;
    default: /* ARD_ANOMALY_BLEND: the second galaxy first (kept in tmp), then the target */
        spec_model(ctx, p.cls2, p.z2, p.f2 * fr, 0, 0.0, variant ^ 0x5bd1e995u, out);
        for (int64_t j = 0; j < ctx->grid.n; j++) {
            tmp[j] = (float)out[j];
        }
        spec_model(ctx, cls, z, fr, 0, 0.0, variant, out);
        for (int64_t j = 0; j < ctx->grid.n; j++) {
            out[j] += (double)tmp[j];
        }
        break;
    }
}

void ard__arm_range(int32_t arm, double *lo, double *hi) {
    static const double edges[4] = {0.0, 5780.0, 7570.0, 1e9};
    *lo = edges[arm];
    *hi = edges[arm + 1];
}
