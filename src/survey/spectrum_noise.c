/* Observed spectra: the class model plus DESI-like noise (throughput falling at both ends, sky
 * lines in the red), masked pixels (IVAR = 0) including whole-arm dropouts, and injected anomalies.
 */
#include "survey_int.h"

#include <string.h>

/* Bright sky lines (vacuum A) plus a deterministic OH forest in the red: the same for every
 * dataset. */
static const double k_sky_lines[] = {5578.9, 5891.6, 5897.6, 6302.0, 6365.5, 6865.0, 7341.0,
                                     7821.5, 8401.0, 8432.0, 8829.5, 8887.0, 9376.0, 9441.0};

static double sky_factor(double lam) {
    double s = 0.0;
    for (size_t k = 0; k < sizeof k_sky_lines / sizeof k_sky_lines[0]; k++) {
        double x = (lam - k_sky_lines[k]) / 1.2;
        s += fabs(x) < 6.0 ? 25.0 * exp(-0.5 * x * x) : 0.0;
    }
    if (lam > 6800.0) { /* OH bands: 200 lines at fixed pseudo-random places, stronger to the red */
        for (uint64_t k = 0; k < 200; k++) {
            double c = 6800.0 + 3100.0 * ard_rng_to_u01(ard_rng_hash4(0x5ca1ab1e, 91, k, 0));
            double x = (lam - c) / 1.0;
            if (fabs(x) < 6.0) {
                double amp = 3.0 + 20.0 * ard_rng_to_u01(ard_rng_hash4(0x5ca1ab1e, 91, k, 1));
                s += amp * (c - 6800.0) / 3100.0 * exp(-0.5 * x * x);
            }
        }
        s += 0.8 * (lam - 6800.0) / 3000.0; /* rising continuum sky */
    }
    return sqrt(1.0 + s);
}

static double throughput(double lam) {
    double t = 1.0;
    if (lam < 4200.0) {
        t *= 0.35 + 0.65 * (lam - 3500.0) / 700.0;
    }
    if (lam > 8800.0) {
        t *= 1.0 - 0.5 * (lam - 8800.0) / 1100.0;
    }
    return t > 0.2 ? t : 0.2;
}

ard_status ard__spec_ctx_init(ard__spec_ctx *ctx, const ard_grid *grid, uint64_t seed,
                              ard_error *err) {
    memset(ctx, 0, sizeof *ctx);
    ctx->grid = *grid;
    ctx->seed = seed;
    size_t n = (size_t)grid->n;
    ctx->wl = ard_malloc(n * sizeof(double));
    ctx->edges = ard_malloc((n + 1) * sizeof(double));
    ctx->logwl = ard_malloc(n * sizeof(double));
    ctx->shape = ard_malloc(ARD_CLASS_COUNT * n * sizeof(double));
    ctx->lya_tau = ard_malloc(n * sizeof(double));
    ctx->noise = ard_malloc(n * sizeof(float));
    if (!ctx->wl || !ctx->edges || !ctx->logwl || !ctx->shape || !ctx->lya_tau || !ctx->noise) {
        ard__spec_ctx_reset(ctx);
        return ard_error_set(err, ARD_ENOMEM, "spectra: no memory for the grid tables");
    }
    ard_grid_wavelengths(grid, ctx->wl);
    for (size_t j = 0; j <= n; j++) {
        ctx->edges[j] = ard_grid_wavelength(grid, (double)j - 0.5);
    }
    for (size_t j = 0; j < n; j++) {
        ctx->logwl[j] = log(ctx->wl[j]);
        double width = ctx->edges[j + 1] - ctx->edges[j];
        ctx->noise[j] =
            (float)(sky_factor(ctx->wl[j]) / throughput(ctx->wl[j]) * sqrt(0.8 / width));
    }
    ard__spec_shape_table(ctx->wl, grid->n, ctx->shape);
    ard__spec_lya_tau_table(ctx->logwl, grid->n, ctx->lya_tau);
    ard_zig_init(&ctx->zig);
    return ARD_OK;
}

void ard__spec_ctx_reset(ard__spec_ctx *ctx) {
    ard_free(ctx->wl);
    ard_free(ctx->edges);
    ard_free(ctx->noise);
    ard_free(ctx->logwl);
    ard_free(ctx->shape);
    ard_free(ctx->lya_tau);
    ctx->lya_tau = NULL;
    ctx->logwl = NULL;
    ctx->shape = NULL;
    ctx->wl = NULL;
    ctx->edges = NULL;
    ctx->noise = NULL;
}

static void mask_range(const ard__spec_ctx *ctx, double lo, double hi, uint8_t bit, float *ivar,
                       uint8_t *mask) {
    for (int64_t j = 0; j < ctx->grid.n; j++) {
        if (ctx->wl[j] >= lo && ctx->wl[j] < hi) {
            mask[j] |= bit;
            ivar[j] = 0.0f;
        }
    }
}

/* Bad pixels and (rarely) a whole arm lost: IVAR 0 and a MASK bit. */
static void apply_masks(const ard__spec_ctx *ctx, ard_rng *r, float *ivar, uint8_t *mask) {
    int64_t bad = ard_rng_poisson(r, 2.0);
    for (int64_t b = 0; b < bad; b++) {
        int64_t j = (int64_t)(ard_rng_u01(r) * (double)ctx->grid.n);
        int64_t w = 1 + (int64_t)(ard_rng_u01(r) * 3.0);
        for (int64_t k = j; k < j + w && k < ctx->grid.n; k++) {
            mask[k] |= ARD_MASK_BADPIX;
            ivar[k] = 0.0f;
        }
    }
    if (ard_rng_u01(r) < 0.003) {
        double lo, hi;
        ard__arm_range((int32_t)(ard_rng_u01(r) * 3.0), &lo, &hi);
        mask_range(ctx, lo, hi, ARD_MASK_ARMDROP, ivar, mask);
    }
}

static void apply_anomaly(const ard__spec_ctx *ctx, int kind, ard_rng *r, const float *sigma,
                          float *flux) {
    int64_t n = ctx->grid.n;
    if (kind == ARD_ANOMALY_COSMIC_RAY) {
        int64_t hits = 1 + (int64_t)(ard_rng_u01(r) * 4.0);
        for (int64_t h = 0; h < hits; h++) {
            int64_t j = (int64_t)(ard_rng_u01(r) * (double)n);
            flux[j] += (float)((30.0 + 70.0 * ard_rng_u01(r)) * sigma[j]);
        }
    } else if (kind == ARD_ANOMALY_DEAD_ARM) {
        double lo, hi;
        ard__arm_range((int32_t)(ard_rng_u01(r) * 3.0), &lo, &hi);
        for (int64_t j = 0; j < n; j++) {
            flux[j] = (ctx->wl[j] >= lo && ctx->wl[j] < hi) ? 0.0f : flux[j];
        }
    } else if (kind == ARD_ANOMALY_FLAT) {
        float level = ard_rng_u01(r) < 0.5 ? 0.0f : (float)(5.0 * ard_rng_u01(r));
        for (int64_t j = 0; j < n; j++) {
            flux[j] = level;
        }
    }
}

int32_t ard__spectrum_class(uint64_t seed, const ard__galaxies *gal, int64_t i) {
    int32_t cls = gal->cls[i];
    if (gal->anomaly[i] == ARD_ANOMALY_WRONG_CLASS) {
        ard_rng r;
        ard_rng_init(&r, seed, ARD__S_SPECTRUM, (uint64_t)gal->targetid[i]);
        cls = (cls + 1 + (int32_t)(ard_rng_u01(&r) * 3.0)) % ARD_CLASS_COUNT;
    }
    return cls;
}

/* The per-pixel loops of ard__spec_make: sigma, the noisy flux (deviates a block at a time from the
 * galaxy's noise stream) and IVAR. Plain and AVX-512 builds of the same IEEE operations (ISO C: no
 * FMA contraction), so the same bits; the AVX-512 one runs 8 pixels per instruction. */
static inline __attribute__((always_inline)) void noisy_flux(const ard__spec_ctx *ctx,
                                                             ard_rng_words *noise, double sigma0,
                                                             const double *model, float *sigma,
                                                             float *flux, uint8_t *mask) {
    int64_t n = ctx->grid.n;
    const float *noise_of = ctx->noise; /* not reloaded after each byte store below: vectorises */
    for (int64_t j = 0; j < n; j++) {
        sigma[j] = (float)(sigma0 * noise_of[j]);
    }
    for (int64_t j = 0; j < n; j++) {
        mask[j] = 0;
    }
    double dev[256]; /* the deviates of the stream in order, a block at a time (vectorised) */
    for (int64_t j0 = 0; j0 < n; j0 += 256) {
        int64_t m = n - j0 < 256 ? n - j0 : 256;
        ard_zig_normal_fill(&ctx->zig, noise, dev, m);
        for (int64_t j = 0; j < m; j++) {
            flux[j0 + j] = (float)(model[j0 + j] + sigma[j0 + j] * dev[j]);
        }
    }
}

static inline __attribute__((always_inline)) void ivar_of_sigma(float *ivar, int64_t n) {
    for (int64_t j = 0; j < n; j++) { /* in place: ivar holds sigma */
        ivar[j] = 1.0f / (ivar[j] * ivar[j]);
    }
}

static void noisy_flux_plain(const ard__spec_ctx *ctx, ard_rng_words *noise, double sigma0,
                             const double *model, float *sigma, float *flux, uint8_t *mask) {
    noisy_flux(ctx, noise, sigma0, model, sigma, flux, mask);
}

static void ivar_of_sigma_plain(float *ivar, int64_t n) {
    ivar_of_sigma(ivar, n);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SPEC_AVX512 __attribute__((target("avx512f,avx512dq,prefer-vector-width=512")))
static SPEC_AVX512 void noisy_flux_avx512(const ard__spec_ctx *ctx, ard_rng_words *noise,
                                          double sigma0, const double *model, float *sigma,
                                          float *flux, uint8_t *mask) {
    noisy_flux(ctx, noise, sigma0, model, sigma, flux, mask);
}

static SPEC_AVX512 void ivar_of_sigma_avx512(float *ivar, int64_t n) {
    ivar_of_sigma(ivar, n);
}
#endif

void ard__spec_make_path(const ard__spec_ctx *ctx, const ard__galaxies *gal, int64_t i,
                         int32_t avx512, double *model, float *flux, float *ivar, uint8_t *mask) {
    uint64_t tid = (uint64_t)gal->targetid[i];
    ard_rng r;
    ard_rng_init(&r, ctx->seed, ARD__S_SPECTRUM, tid);
    int kind = gal->anomaly[i];
    int32_t cls = ard__spectrum_class(ctx->seed, gal, i);
    r.k = 1;
    float *sigma = (float *)ivar; /* reuse: sigma first, then ivar */
    double sigma0 = cls == ARD_CLASS_BGS ? 1.2 : 0.5;
    sigma0 *= exp(0.25 * ard_rng_normal(&r)); /* observing conditions */
    ard__spec_model_galaxy(ctx, gal, i, cls, ard_rng_hash4(ctx->seed, ARD__S_SPECTRUM, tid, 999),
                           model, flux);
    ard_rng_words noise;
    ard_rng_words_init(&noise, ctx->seed, ARD__S_NOISE, tid);
    void (*flux_of)(const ard__spec_ctx *, ard_rng_words *, double, const double *, float *,
                    float *, uint8_t *) = noisy_flux_plain;
    void (*ivar_of)(float *, int64_t) = ivar_of_sigma_plain;
    (void)avx512; /* unused where there is no AVX-512 build */
#ifdef SPEC_AVX512
    if (avx512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) {
        flux_of = noisy_flux_avx512;
        ivar_of = ivar_of_sigma_avx512;
    }
#endif
    flux_of(ctx, &noise, sigma0, model, sigma, flux, mask);
    apply_anomaly(ctx, kind, &r, sigma, flux);
    ivar_of(ivar, ctx->grid.n);
    apply_masks(ctx, &r, ivar, mask);
}

void ard__spec_make(const ard__spec_ctx *ctx, const ard__galaxies *gal, int64_t i, double *model,
                    float *flux, float *ivar, uint8_t *mask) {
    ard__spec_make_path(ctx, gal, i, 1, model, flux, ivar, mask);
}
