/* ard astro: the numerics of the sky, shared by the producers of datasets (survey) and the science
 * stages: wavelength grids, HEALPix, flat LambdaCDM cosmology, counter-based random numbers (uniform,
 * normal, Poisson), the T-web of point masses, and (with FFTW) the linear power spectrum, Gaussian
 * random fields, Zel'dovich displacements and the grid T-web.
 *
 * Thread-safety: every function here is thread-safe unless it says otherwise (no hidden state). */
#ifndef ARD_ASTRO_H
#define ARD_ASTRO_H

#include "ard/core.h"

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wavelength grid ----------------------------------------------------------------------------
 * Bin centres: linear  lambda_i = start + i * (stop - start) / (n - 1)
 *              log     lambda_i = start * (stop / start)^(i / (n - 1))      (i = 0 .. n-1)
 * so start and stop are the first and last centres (vacuum Angstrom). Bin edges are the midpoints
 * between centres (in log space for log grids); the outer edges mirror the first/last half-step.
 * "ard.grid" text: "kind=log;start=3600;stop=9824;n=4096" (keys in any order, no spaces; numbers in
 * shortest round-trip form; kind is "log" or "linear"). */
typedef enum ard_grid_kind { ARD_GRID_LOG = 0, ARD_GRID_LINEAR = 1 } ard_grid_kind;

typedef struct ard_grid {
    int32_t kind; /* ard_grid_kind */
    double start; /* first bin centre, Angstrom, > 0 */
    double stop;  /* last bin centre, > start */
    int64_t n;    /* bins, 2 .. ARD_GRID_MAX_BINS */
} ard_grid;

#define ARD_GRID_MAX_BINS 1000000
#define ARD_GRID_TEXT_MAX 128 /* buffer size that always holds ard_grid_format's output */

/* The default grid: log, 3600 .. 9824 A, 4096 bins. */
ARD_API void ard_grid_default(ard_grid *out);
/* Checks kind/start/stop/n. ARD_EINVAL with a message naming the bad field. */
ARD_API ard_status ard_grid_validate(const ard_grid *g, ard_error *err);
/* Parses "ard.grid" text. ARD_EINVAL (message quotes the text) on unknown keys, missing keys, bad
 * numbers or an invalid grid. */
ARD_API ard_status ard_grid_parse(const char *text, ard_grid *out, ard_error *err);
/* Writes the "ard.grid" text into buf (cap >= ARD_GRID_TEXT_MAX is always enough). ARD_EINVAL
 * (invalid grid), ARD_ERANGE (buffer too small). */
ARD_API ard_status ard_grid_format(const ard_grid *g, char *buf, size_t cap, ard_error *err);
/* Grid from a short name: "log4096" (log, 3600-9824, 4096 bins), "logN", "linear7781" / "linN"
 * (linear 3600-9824; 7781 bins = DESI's 0.8 A step), "desi" (= linear7781). ARD_EINVAL. */
ARD_API ard_status ard_grid_from_name(const char *name, ard_grid *out, ard_error *err);
/* Centre of bin i (i may be outside [0, n) for extrapolation). */
ARD_API double ard_grid_wavelength(const ard_grid *g, double i);
/* Fractional bin index of wavelength lambda (inverse of ard_grid_wavelength). */
ARD_API double ard_grid_index(const ard_grid *g, double lambda);
/* Fills out[0..n) with the bin centres. */
ARD_API void ard_grid_wavelengths(const ard_grid *g, double *out);
/* 1 if the two grids are identical (same kind, n and start/stop within 1e-9 relative), else 0. */
ARD_API int ard_grid_equal(const ard_grid *a, const ard_grid *b);

/* ---- HEALPix (nested scheme) --------------------------------------------------------------------
 * nside must be a power of two in 1 .. 2^29 (ard uses ARD_NSIDE = 64). RA/Dec in degrees. */
#define ARD_NSIDE 64
#define ARD_NPIX_64 49152
/* Pixel holding (ra, dec), or -1 if nside is invalid or dec is outside [-90, 90] or not finite. */
ARD_API int64_t ard_healpix_ang2pix_nest(int64_t nside, double ra_deg, double dec_deg);
/* Centre of pixel `pix`. ARD_EINVAL for a bad nside or pixel. */
ARD_API ard_status ard_healpix_pix2ang_nest(int64_t nside, int64_t pix, double *ra_deg,
                                            double *dec_deg, ard_error *err);
/* Pixel area in square degrees (0.83929 for NSIDE 64), 0 for a bad nside. */
ARD_API double ard_healpix_pixel_area_deg2(int64_t nside);

/* ---- cosmology (flat LambdaCDM) -----------------------------------------------------------------
 * D_C(z) = (c / H0) * integral_0^z dz' / E(z'), E(z) = sqrt(Om (1+z)^3 + Or (1+z)^4 + OL),
 * OL = 1 - Om - Or. Tabulated once (adaptive Simpson per step, then cubic Hermite interpolation);
 * relative error < 1e-6 over 0 < z <= zmax. */
typedef struct ard_cosmo_params {
    double h;       /* H0 / (100 km/s/Mpc) */
    double omega_m; /* matter density today */
    double omega_r; /* radiation (0 to ignore) */
} ard_cosmo_params;

/* Planck 2018 (TT,TE,EE+lowE+lensing+BAO): h = 0.6766, Om = 0.3111, Or = 0 (radiation ignored; its
 * effect on D_C is < 1e-4 below z = 5). */
ARD_API void ard_cosmo_params_planck18(ard_cosmo_params *out);

typedef struct ard_cosmology ard_cosmology;
/* Tabulates D_C on 0 <= z <= zmax (0 < zmax <= 20). params NULL = Planck 2018. Free with
 * ard_cosmology_free. ARD_EINVAL (h <= 0, Om outside (0, 1], Or < 0, bad zmax), ARD_ENOMEM.
 * The returned object is read-only: all queries are thread-safe. */
ARD_API ard_status ard_cosmology_new(const ard_cosmo_params *params, double zmax,
                                     ard_cosmology **out, ard_error *err);
ARD_API void ard_cosmology_free(ard_cosmology *c);
/* Line-of-sight comoving distance in Mpc (not Mpc/h; multiply by h for Mpc/h). z is clamped to
 * [0, zmax]. */
ARD_API double ard_cosmology_comoving_distance(const ard_cosmology *c, double z);
/* Inverse: redshift at comoving distance d (Mpc), clamped to [0, zmax]. */
ARD_API double ard_cosmology_z_at_distance(const ard_cosmology *c, double d_mpc);
/* E(z) = H(z)/H0, and the Hubble distance c/H0 in Mpc. */
ARD_API double ard_cosmology_efunc(const ard_cosmology *c, double z);
ARD_API double ard_cosmology_hubble_distance(const ard_cosmology *c);
ARD_API double ard_cosmology_h(const ard_cosmology *c);
ARD_API double ard_cosmology_omega_m(const ard_cosmology *c);
/* Critical density today in (Msun/h) / (Mpc/h)^3 (= h^2 Msun / Mpc^3); the comoving mean matter
 * density is ARD_RHO_CRIT_H2 * omega_m. */
#define ARD_RHO_CRIT_H2 2.775e11
ARD_API double ard_cosmology_zmax(const ard_cosmology *c);

/* ---- counter-based random numbers ----------------------------------------------------------------
 * Every random value is a pure function of (seed, stream, index, k): no state, so results do not
 * depend on the thread or rank that draws them. `stream` names a purpose, `index` an object (a
 * galaxy, a grid plane), k counts the draws of that object. */
static inline uint64_t ard_rng_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}
/* ard_rng_hash4 is ard_rng_hash_k(ard_rng_hash_prefix(seed, stream, index), k): loops over k hoist
 * the prefix. */
static inline uint64_t ard_rng_hash_prefix(uint64_t seed, uint64_t stream, uint64_t index) {
    uint64_t h = ard_rng_mix64(seed + 0x9e3779b97f4a7c15ULL);
    h = ard_rng_mix64(h ^ (stream * 0xd1b54a32d192ed03ULL));
    return ard_rng_mix64(h ^ (index + 0x632be59bd9b4e019ULL));
}
static inline uint64_t ard_rng_hash_k(uint64_t prefix, uint64_t k) {
    return ard_rng_mix64(prefix ^ (k * 0x8cb92ba72f3d8dd7ULL + 0x2545f4914f6cdd1dULL));
}
static inline uint64_t ard_rng_hash4(uint64_t seed, uint64_t stream, uint64_t index, uint64_t k) {
    return ard_rng_hash_k(ard_rng_hash_prefix(seed, stream, index), k);
}
/* Uniform in (0, 1) from the top 53 bits of a word. */
static inline double ard_rng_to_u01(uint64_t h) {
    return ((double)(h >> 11) + 0.5) * 0x1.0p-53;
}

/* A random stream for one object: (seed, stream, index) fixed, k counts draws. */
typedef struct ard_rng {
    uint64_t seed, stream, index, k;
} ard_rng;
static inline void ard_rng_init(ard_rng *r, uint64_t seed, uint64_t stream, uint64_t index) {
    r->seed = seed;
    r->stream = stream;
    r->index = index;
    r->k = 0;
}
static inline double ard_rng_u01(ard_rng *r) {
    return ard_rng_to_u01(ard_rng_hash4(r->seed, r->stream, r->index, r->k++));
}
/* N(0, 1) by Box-Muller (two draws). */
ARD_API double ard_rng_normal(ard_rng *r);
/* Poisson deviate of the given mean (0 for mean <= 0; a rounded normal above 50). */
ARD_API int64_t ard_rng_poisson(ard_rng *r, double mean);

/* A stream of 64-bit words for one object: word k = ard_rng_hash4(seed, stream, index, k). */
typedef struct ard_rng_words {
    uint64_t prefix, k;
} ard_rng_words;
static inline void ard_rng_words_init(ard_rng_words *s, uint64_t seed, uint64_t stream,
                                      uint64_t index) {
    s->prefix = ard_rng_hash_prefix(seed, stream, index);
    s->k = 0;
}
static inline uint64_t ard_rng_words_next(ard_rng_words *s) {
    return ard_rng_hash_k(s->prefix, s->k++);
}

/* Ziggurat tables for N(0, 1) deviates (Marsaglia & Tsang 2000): 256 layers of equal area; x[1] =
 * r is where the tail starts, x[0] the base strip's equivalent width, x[256] = 0; f = exp(-x^2/2).
 * packed[i] is x[i] and its rectangle test in one word for ard_zig_normal_fill (one table look-up
 * per deviate instead of two): bits 0-54 are x[i]'s bits less packed_exp << 52 (its fraction and
 * its exponent's offset from packed_exp), bits 55-63 the top 9 bits of the least uniform's 53
 * bits (word >> 11) that miss layer i's rectangle; packed_exp is 0 when x's exponents do not fit
 * (fill then looks up x[i + 1]). Fill once with ard_zig_init, then share read-only between
 * threads. */
#define ARD_ZIG_LAYERS 256 /* a power of two: bits 0-7 pick the layer, bit 8 the sign */
typedef struct ard_zig {
    double x[ARD_ZIG_LAYERS + 1];
    double f[ARD_ZIG_LAYERS + 1];
    uint64_t packed[ARD_ZIG_LAYERS];
    int64_t packed_exp;
} ard_zig;
ARD_API void ard_zig_init(ard_zig *t);
/* Rejection path of ard_zig_normal for the word h that missed its layer's rectangle. */
ARD_API double ard_zig_normal_slow(const ard_zig *t, ard_rng_words *s, uint64_t h);
/* One N(0, 1) deviate from the stream s (one word on the fast path, ~99% of draws). */
static inline double ard_zig_normal(const ard_zig *t, ard_rng_words *s) {
    uint64_t h = ard_rng_words_next(s);
    unsigned i = (unsigned)(h & (ARD_ZIG_LAYERS - 1));
    double x = ard_rng_to_u01(h) * t->x[i];
    if (x < t->x[i + 1]) { /* sign from bit 8, without a branch the data would mispredict */
        uint64_t bits;
        memcpy(&bits, &x, sizeof bits);
        bits ^= (h & ARD_ZIG_LAYERS) << (63 - 8);
        memcpy(&x, &bits, sizeof x);
        return x;
    }
    return ard_zig_normal_slow(t, s, h);
}

/* out[0, n) = n successive ard_zig_normal(t, s) deviates, bit for bit (s advances the same way),
 * eight at a time with AVX-512 where the CPU has it (runtime dispatch). Thread-safe for distinct s. */
ARD_API void ard_zig_normal_fill(const ard_zig *t, ard_rng_words *s, double *out, int64_t n);

// ---- cosmic web (T-web) ------------------------------------------------------------------------
/* The T-web of Hahn et al. 2007 / Forero-Romero et al. 2009: the tidal tensor T_ab = d2 phi / dx_a dx_b of the potential
 * with laplacian(phi) = delta (the overdensity), smoothed with a Gaussian of radius R; a point is a
 * void, sheet, filament or knot when 0, 1, 2 or 3 eigenvalues exceed lambda_th. ard evaluates it
 * exactly for a set of point masses, without a grid or FFT: a mass M contributes the tide of a
 * Gaussian-smoothed point of volume weight q = M / rho_mean (comoving (Mpc/h)^3; rho_mean
 * = 2.775e11 Om (Msun/h) / (Mpc/h)^3), the rest of the mean density being smooth (a uniform
 * background exerts no tide). Per mass, the radial eigenvalue at distance r is q (W(r) - 2 m(r) /
 * (4 pi r^3)) and the two tangential ones q m(r) / (4 pi r^3), with W the normalised Gaussian and
 * m(r) its enclosed fraction; trace = smoothed delta of the masses. A mass is ignored beyond max(6
 * R, (2 q / (4 pi tolerance))^(1/3)), where its tide is below `tolerance` (beyond that radius only
 * fluctuations of the masses matter: a uniform shell exerts no tide; and it keeps out the tide of a
 * survey's own footprint, where mass stops only because the survey stops). Against an uncut sum
 * over a generated survey's masses the eigenvalues differ by 0.007 rms (1M galaxies; ~99% of
 * classes agree). Units: comoving Mpc/h throughout. */
typedef enum ard_web_class {
    ARD_WEB_VOID = 0,
    ARD_WEB_SHEET = 1,
    ARD_WEB_FILAMENT = 2,
    ARD_WEB_KNOT = 3,
    ARD_WEB_COUNT = 4
} ard_web_class;
/* "void", "sheet", "filament", "knot"; "unknown" otherwise. Static. */
ARD_API const char *ard_web_class_name(int32_t cls);

typedef struct ard_tweb_params {
    double smoothing; /* Gaussian R, Mpc/h: default 2.0 (Hahn et al. 2007 used 2.1) */
    double lambda_th; /* default 0.2 (Forero-Romero et al. 2009 suggest 0.2-0.4) */
    double tolerance; /* tides below this are dropped: default 0.005 (lambda_th / 40) */
} ard_tweb_params;
ARD_API void ard_tweb_params_default(ard_tweb_params *p);

/* Evaluates the T-web at n_points points (x, y, z triples in `points`) from n_masses masses at
 * `mass_xyz` with volume weights `mass_q` (see above; q >= 0). Outputs, each may be NULL: lambda
 * (3 floats per point, descending), delta (trace: the smoothed overdensity due to the masses), cls
 * (ard_web_class per point). pool NULL runs serially. Results depend only on the inputs (not on the
 * thread count). Coordinates must be finite with |x| < 1e6 * 6 R. Errors: ARD_EINVAL (NULL inputs,
 * parameters not positive, a non-finite or out-of-range position, q < 0), ARD_ENOMEM. */
ARD_API ard_status ard_tweb_eval(const ard_tweb_params *params, const double *mass_xyz,
                                 const double *mass_q, int64_t n_masses, const double *points,
                                 int64_t n_points, ard_pool *pool, float *lambda, float *delta,
                                 uint8_t *cls, ard_error *err);

/* ---- linear power spectrum and growth (no FFTW needed) ------------------------------------------
 * P(k) = A k^n_s T(k)^2 at z = 0 with the Eisenstein & Hu 1998 (ApJ 496, 605) transfer function:
 * by default the full fitting formula WITH baryon acoustic wiggles (their eqs. 16-24; wiggles = 0
 * gives the no-wiggle shape of eqs. 29-31); A is set so that the top-hat sigma(8 Mpc/h) = sigma8.
 * Units: k in h/Mpc, P in (Mpc/h)^3. Accuracy of EH98 against Boltzmann codes: a few per cent. */
typedef struct ard_power_params {
    double h;        /* H0 / (100 km/s/Mpc) */
    double omega_m;  /* matter (CDM + baryons) today */
    double omega_b;  /* baryons today, 0 < omega_b < omega_m */
    double n_s;      /* primordial spectral index */
    double sigma8;   /* normalisation: rms linear overdensity in 8 Mpc/h top-hat spheres at z = 0 */
    double t_cmb;    /* CMB temperature, K */
    int32_t wiggles; /* 1: EH98 full formula with BAO wiggles (default); 0: no-wiggle */
} ard_power_params;

/* Planck 2018 (TT,TE,EE+lowE+lensing+BAO, Planck Collaboration VI 2020, Table 2): h = 0.6766,
 * Om = 0.3111, Ob h^2 = 0.02242 (Ob = 0.04897), n_s = 0.9665, T_cmb = 2.7255 K; sigma8 = 0.81
 * (Planck's 0.8102 rounded, as the mock's specification asks); wiggles = 1. */
ARD_API void ard_power_params_planck18(ard_power_params *out);

typedef struct ard_power ard_power;
/* Sets up the spectrum (params NULL = Planck 2018) and integrates its sigma8 normalisation.
 * ARD_EINVAL naming the values when a parameter is out of its physical range, ARD_ENOMEM. Free
 * with ard_power_free (NULL accepted). Read-only afterwards: all queries are thread-safe. */
ARD_API ard_status ard_power_new(const ard_power_params *params, ard_power **out, ard_error *err);
ARD_API void ard_power_free(ard_power *p);
/* The parameters it was built with (borrowed, lives as long as p). */
ARD_API const ard_power_params *ard_power_get_params(const ard_power *p);
/* Linear P(k) at z = 0, (Mpc/h)^3; 0 for k <= 0. */
ARD_API double ard_power_linear(const ard_power *p, double k);
/* The transfer function T(k) (T -> 1 as k -> 0). */
ARD_API double ard_power_transfer(const ard_power *p, double k);
/* rms linear overdensity at z = 0 in top-hat spheres of radius r Mpc/h (= sigma8 at r = 8). */
ARD_API double ard_power_sigma(const ard_power *p, double r);

/* Linear growth of flat LambdaCDM (radiation ignored): D(z) / D(0) from the integral
 * D(a) ~ E(a) int_0^a da' / (a' E(a'))^3, and the growth rate f(z) = dln D / dln a (f ~ Om(z)^0.55).
 * NaN for omega_m outside (0, 1] or z <= -1 or non-finite. Relative accuracy ~1e-7. */
ARD_API double ard_growth_factor(double omega_m, double z);
ARD_API double ard_growth_rate(double omega_m, double z);
/* E(z) = H(z) / H0 = sqrt(Om (1+z)^3 + 1 - Om). */
ARD_API double ard_hubble_efunc(double omega_m, double z);

/* ---- Gaussian random field and Zel'dovich displacements (FFTW) ---------------------------------
 * A periodic cube of side `box` Mpc/h on n^3 cells (cell i, j, k at x = (i, j, k) * box / n; index
 * (i * n + j) * n + k, x slowest). The linear overdensity delta is Gaussian with the power spectrum
 * above scaled by D(z)^2: white noise drawn cell by cell from the counter-based generator (seed,
 * stream "grf", plane i), Fourier transformed, multiplied by sqrt(P(k) n^3 / box^3), k = 0 set to
 * 0. The Zel'dovich displacement psi = -grad phi with laplacian(phi) = delta (psi_k = i k delta_k /
 * k^2; the odd derivative of a Nyquist mode is 0), so div psi = -delta; particles move from their
 * grid points q to x = q + psi(q). Peculiar velocity (km/s) = a H(z) f(z) psi = 100 E(z) f(z) /
 * (1 + z) psi [psi in Mpc/h]: ard_field_velocity_factor. lpt_order 2 adds the second-order
 * displacement (2LPT) psi2 = (3/7) grad laplacian^-1 S with S = sum_{a<b} (T_aa T_bb - T_ab^2) of
 * the linear tidal tensor T_ab = d_a d_b phi (D2 = -3/7 D1^2; div psi2 = -(3/7) S): it raises the
 * skewness of the evolved field towards perturbation theory's (Zel'dovich S3 = 4, exact tree level
 * 34/7) and leaves large-scale P(k) alone. ard_field_displacement then returns psi1 + psi2, and the
 * velocity factor (first-order growth rate f) is applied to both: psi2's own rate (~2f) is not
 * modelled. 2LPT costs 10 more FFTs and 24 bytes per cell while the field is drawn.
 * Determinism: FFTs are serial FFTW_ESTIMATE plans and every threaded loop writes disjoint cells in
 * a fixed order, so the same options give identical bytes for any thread count.
 * Memory: 48 bytes per cell at the peak (delta, 3 displacements, two complex work arrays), 32 kept:
 * n = 128 -> 100 MB, 256 -> 805 MB, 512 -> 6.4 GB. Resolution: cell = box / n; structure below ~2
 * cells is not represented (use a smoothing R >= 1.5 cells for the T-web). Without FFTW every call
 * of this section returns ARD_ENOTSUP. */
#define ARD_FIELD_MAX_N 1024 /* largest n accepted */
typedef struct ard_field_options {
    int32_t n;         /* cells per side: a power of two, 8 .. ARD_FIELD_MAX_N; default 128 */
    double box;        /* side, Mpc/h (comoving), > 0; default 500 */
    uint64_t seed;     /* default 1 */
    double redshift;   /* delta and psi are scaled by D(z); default 0 */
    int32_t lpt_order; /* 1 = Zel'dovich (default); 2 = 2LPT (see above) */
    int32_t threads;   /* <= 0: all CPUs */
    int64_t max_bytes; /* refuse (ARD_ELIMIT) above this peak memory; default 4 GiB */
    const ard_power_params *power; /* NULL: Planck 2018; borrowed during ard_field_new only */
} ard_field_options;
ARD_API void ard_field_options_init(ard_field_options *opts);

typedef struct ard_field ard_field;
/* Draws the field. ARD_EINVAL naming the argument (n not a power of two or < 8, box not positive
 * or not finite, redshift <= -1, bad power parameters), ARD_ELIMIT (n > ARD_FIELD_MAX_N, or the
 * peak memory above max_bytes: the message gives both), ARD_ENOTSUP (no FFTW),
 * ARD_ENOMEM. Free with ard_field_free (NULL accepted). Read-only afterwards (thread-safe). */
ARD_API ard_status ard_field_new(const ard_field_options *opts, ard_field **out, ard_error *err);
ARD_API void ard_field_free(ard_field *f);
ARD_API int32_t ard_field_n(const ard_field *f);
ARD_API double ard_field_box(const ard_field *f);
/* Linear overdensity at the grid points (n^3 doubles; borrowed, lives as long as f). */
ARD_API const double *ard_field_delta(const ard_field *f);
/* Displacement component axis (0 = x, 1 = y, 2 = z) at the grid points, Mpc/h (n^3 doubles). */
ARD_API const double *ard_field_displacement(const ard_field *f, int32_t axis);
/* km/s per Mpc/h of displacement at the field's redshift (see above). */
ARD_API double ard_field_velocity_factor(const ard_field *f);
/* Trilinear (CIC) periodic interpolation of the linear delta and the displacement at n_points
 * positions (x, y, z triples, Mpc/h, wrapped into the box). Outputs may be NULL: delta (1 per
 * point), psi (3 per point, Mpc/h). ARD_EINVAL (NULL field, NULL points with n_points > 0, a
 * non-finite position). Thread-safe. */
ARD_API ard_status ard_field_sample(const ard_field *f, const double *points, int64_t n_points,
                                    double *delta, double *psi, ard_error *err);
/* Zel'dovich-evolved overdensity: one particle per grid point moved by psi, assigned to the grid
 * by cloud-in-cell, out[n^3] = counts - 1 (mean 0). ARD_EINVAL (NULL), ARD_ENOTSUP (no FFTW). */
ARD_API ard_status ard_field_evolved_density(const ard_field *f, double *out, ard_error *err);

/* Power spectrum estimator: |FFT(delta)|^2 box^3 / n^6 averaged in spherical shells of width
 * k_f = 2 pi / box, shell b holding (b + 0.5) k_f <= |k| < (b + 1.5) k_f (b = 0 .. nbins-1,
 * nbins <= n / 2). Fills k_mean (mean |k| of the shell's modes), power, and modes (number of
 * grid modes in the shell over the full k-space, each +-k pair counted twice: the independent
 * modes are modes / 2); a shell without modes gets 0s. No window deconvolution (a CIC-assigned
 * field carries its window). ARD_EINVAL (NULL, n not a power of two, nbins out of range, box),
 * ARD_ENOTSUP (no FFTW), ARD_ENOMEM. */
ARD_API ard_status ard_power_measure(const double *delta, int32_t n, double box, int32_t nbins,
                                     double *k_mean, double *power, int64_t *modes, ard_error *err);

/* ---- T-web on a grid (FFTW) --------------------------------------------------------------------
 * The T-web of Hahn et al. 2007 / Forero-Romero et al. 2009 on a periodic grid: the tidal tensor
 * T_ab = d2 phi / dx_a dx_b with laplacian(phi) = delta, computed as T_ab(k) = k_a k_b / k^2
 * delta(k) exp(-k^2 R^2 / 2) (Gaussian smoothing R), so trace T = the smoothed delta; eigenvalues
 * per cell (descending) and the class = number of eigenvalues above lambda_th (void, sheet,
 * filament, knot). Sampling at arbitrary positions interpolates the 6 tensor components
 * trilinearly (cloud-in-cell weights, periodic) and takes the eigenvalues of the interpolated
 * tensor. Memory: 41 bytes per cell kept (tensor 6 floats, eigenvalues 3 floats, smoothed delta,
 * class) plus 32 bytes per cell while computing. Deterministic for any thread count. */
typedef struct ard_tweb_grid_options {
    double smoothing;  /* Gaussian R, Mpc/h, > 0: default 2.0 */
    double lambda_th;  /* default 0.2 */
    int32_t threads;   /* <= 0: all CPUs */
    int64_t max_bytes; /* ARD_ELIMIT above this; default 4 GiB */
} ard_tweb_grid_options;
ARD_API void ard_tweb_grid_options_init(ard_tweb_grid_options *opts);

typedef struct ard_tweb_grid ard_tweb_grid;
/* T-web of the overdensity delta (n^3 doubles, layout as ard_field) in a periodic box of side
 * `box` Mpc/h. ARD_EINVAL naming the argument (NULL delta, n not a power of two or < 8, box or
 * smoothing not positive/finite), ARD_ELIMIT (n > ARD_FIELD_MAX_N or memory above max_bytes),
 * ARD_ENOTSUP (no FFTW), ARD_ENOMEM. Free with ard_tweb_grid_free (NULL accepted). */
ARD_API ard_status ard_tweb_grid_new(const double *delta, int32_t n, double box,
                                     const ard_tweb_grid_options *opts, ard_tweb_grid **out,
                                     ard_error *err);
ARD_API void ard_tweb_grid_free(ard_tweb_grid *w);
/* Per cell (n^3, borrowed): class (ard_web_class), eigenvalues (3 floats, descending), smoothed
 * delta (= their sum). */
ARD_API const uint8_t *ard_tweb_grid_classes(const ard_tweb_grid *w);
ARD_API const float *ard_tweb_grid_lambda(const ard_tweb_grid *w);
ARD_API const float *ard_tweb_grid_delta(const ard_tweb_grid *w);
/* Fraction of cells of each class (out[ARD_WEB_COUNT]). */
ARD_API void ard_tweb_grid_volume_fractions(const ard_tweb_grid *w, double *out);
/* Samples at n_points positions (x, y, z triples, Mpc/h, wrapped into the box). Outputs may be
 * NULL: lambda (3 per point), delta, cls. ARD_EINVAL (NULL points with n_points > 0, non-finite
 * position). */
ARD_API ard_status ard_tweb_grid_sample(const ard_tweb_grid *w, const double *points,
                                        int64_t n_points, float *lambda, float *delta, uint8_t *cls,
                                        ard_error *err);

#ifdef __cplusplus
}
#endif
#endif
