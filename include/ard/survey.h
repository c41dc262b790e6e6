/* ard survey: the ARD data model (tile and catalog schemas, wavelength grid, dataset paths),
 * HEALPix, cosmology, the synthetic DESI-like survey generator and the DESI FITS ingest.
 *
 * Dataset layout (DESIGN.md):
 *   DATASET/tiles/SURVEY/PROGRAM/PIXGROUP/PIXNUM.parquet   one tile per NSIDE-64 nested pixel,
 *                                                          PIXGROUP = PIXNUM / 100
 *   DATASET/catalog/zcatalog-NNNN.parquet                  catalog rows, sorted by TARGETID
 *   DATASET/truth/galaxies-NNNN.parquet, groups.parquet    generator truth (see ARD_TRUTH_DIR)
 *
 * Tile schema: TARGETID int64 required (rows sorted ascending), FLUX list<float> (optional
 * elements: a masked pixel is a null element), IVAR list<float> (0 where masked), MASK list<uint8>
 * (0 = good; DESI SPECMASK bits folded to a byte, see ARD_MASK_*). Every list holds grid.n
 * elements. Key-value metadata: "ard.grid" (ard_grid_format), "ard.version"
 * (ARD_SCHEMA_VERSION), "ard.source" and "ard.pixel_stats" (ARD_KV_PIXEL_STATS). Flux unit: 1e-17
 * erg/s/cm^2/Angstrom (DESI's); IVAR in the inverse square of that.
 *
 * Thread-safety: every function here is thread-safe unless it says otherwise (no hidden state). */
#ifndef ARD_SURVEY_H
#define ARD_SURVEY_H

#include "ard/core.h"
#include "ard/dataset.h" /* the ARD layout and schema names survey writes */

#ifdef __cplusplus
extern "C" {
#endif

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

/* ---- generator ----------------------------------------------------------------------------------
 * Writes a synthetic DESI-like survey: catalog, truth and (optionally) tiles. Deterministic: the
 * same options give the same bytes whatever the thread count (each galaxy's randoms come from a
 * counter-based hash of (seed, galaxy/halo index, purpose)). */
typedef struct ard_generate_options {
    int64_t galaxies;        /* catalog rows, >= 1 */
    uint64_t seed;           /* default 1 */
    double spectra_fraction; /* 0 = no tiles, 1 = every galaxy (default), else a deterministic
                                subset of whole pixels (tiles keep their DR1 density) */
    ard_grid grid;           /* default ard_grid_default */
    int32_t threads;         /* <= 0: all CPUs */
    double anomaly_fraction; /* default 0.001 of spectra */
    double group_fraction;   /* fraction of galaxies living in groups of >= 2, default 0.4 */
    int32_t progress;        /* 1: progress bar on stderr (only shown on a TTY) */
} ard_generate_options;

/* Fills defaults (galaxies = 0: the caller must set it). */
ARD_API void ard_generate_options_init(ard_generate_options *opts);

/* Summary filled by ard_generate (caller-owned). */
typedef struct ard_generate_report {
    int64_t galaxies;
    int64_t groups;  /* groups of >= 2 members */
    int64_t grouped; /* galaxies in those groups */
    int64_t spectra; /* tile rows written */
    int64_t tiles;   /* tile files written */
    int64_t anomalies;
    int64_t catalog_files;
    int64_t class_counts[ARD_CLASS_COUNT];
    int64_t bytes_written;  /* catalog + truth + tiles */
    double seconds_catalog; /* wall time for catalog + truth (incl. seconds_web) */
    double seconds_web;     /* wall time for the cosmic-web truth (T-web) */
    double seconds_spectra; /* wall time for tiles */
} ard_generate_report;

/* Sky: each class's halos are placed in NSIDE-64 pixels in proportion to DR1's good-z density
 * (main_bright for BGS -> tiles/main/bright, main_dark for LRG/ELG/QSO -> tiles/main/dark),
 * uniformly inside the pixel; redshifts follow DR1's n(z) per class; class mix and group fraction
 * are exact quotas. TARGETID = 39000000000000000 + HEALPIX * 2^20 + rank in pixel, so the catalog,
 * sorted by TARGETID, is also sorted by pixel. A galaxy's spectrum depends only on (seed,
 * TARGETID). Generates into directory `out_dir` (created if missing); ARD_EEXIST if it already
 * holds tiles/, catalog/ or truth/ (never mixes a new survey with stale files). report may be NULL.
 * Memory: ~250 bytes per galaxy at the peak (1.5 GB for 6.4M) plus one tile per thread for spectra.
 * Errors: ARD_EINVAL (options), ARD_EEXIST, ARD_EIO (writing), ARD_ENOMEM. Not re-entrant with the
 * same out_dir. */
ARD_API ard_status ard_generate(const char *out_dir, const ard_generate_options *opts,
                                ard_generate_report *report, ard_error *err);

/* ---- DESI ingest --------------------------------------------------------------------------------
 * Reads DESI coadd files (healpix or tile coadds: FIBERMAP, B/R/Z_WAVELENGTH/_FLUX/_IVAR/_MASK,
 * HDUs located by EXTNAME, BZERO honoured on masks) with optional matching redrock files
 * (REDSHIFTS), merges the arms onto `grid` (flux-conserving resampling, inverse-variance weighting
 * in arm overlaps, IVAR propagated, masked pixels stay masked) and writes tiles + catalog rows as
 * ard_generate does. */
typedef struct ard_ingest_options {
    ard_grid grid;   /* default ard_grid_default */
    int32_t threads; /* <= 0: all CPUs */
    int32_t progress;
    const char *survey;  /* NULL: the coadd header's SURVEY, else from FIBERMAP's SVn_ target
                            columns, else "main" */
    const char *program; /* NULL: the header's PROGRAM, else "other" */
} ard_ingest_options;
ARD_API void ard_ingest_options_init(ard_ingest_options *opts);

typedef struct ard_ingest_report {
    int64_t files;   /* coadd files read */
    int64_t spectra; /* tile rows written */
    int64_t tiles;
    int64_t with_redshift; /* rows that got Z from a redrock file */
} ard_ingest_report;

/* Rows are grouped into tiles by (SURVEY, PROGRAM, HEALPix of TARGET_RA/DEC); the catalog
 * (catalog/zcatalog-NNNN.parquet, replaced) gets one row per spectrum: TARGETID, TARGET_RA/DEC,
 * FLUX_G/R/Z, EBV, COADD_FIBERSTATUS and the DESI_TARGET/BGS_TARGET bits (SVn_ columns for SV
 * files) from FIBERMAP; Z, ZERR, ZWARN, DELTACHI2, SPECTYPE, SUBTYPE from REDSHIFTS (without a
 * redrock file: Z = NaN, ZWARN = 512 NODATA). All spectra are held in memory until written (about
 * 9 * grid.n bytes per spectrum): ingest a few thousand files per run.
 * paths: n_paths coadd/redrock files or directories (searched one level deep for coadd-*.fits and
 * the matching redrock-*.fits: same suffix). A redrock file given explicitly is paired with the
 * coadd of the same suffix. Errors name the file: ARD_ENOENT, ARD_ECORRUPT (not FITS, missing or
 * truncated HDU, redrock TARGETIDs that do not match the coadd's), ARD_EEXIST (out_dir already
 * holds a dataset), ARD_EIO, ARD_ENOMEM. */
ARD_API ard_status ard_ingest_desi(const char *out_dir, const char *const *paths, int32_t n_paths,
                                   const ard_ingest_options *opts, ard_ingest_report *report,
                                   ard_error *err);

/* One spectrum read from a coadd, already on `grid` (for tests and `ard ingest --dry-run`).
 * Fills flux/ivar/mask (each grid->n long, caller-allocated) for row `row` of `coadd_path`, and its
 * TARGETID. ARD_ERANGE for a bad row; as ard_ingest_desi otherwise. */
ARD_API ard_status ard_ingest_read_spectrum(const char *coadd_path, int64_t row,
                                            const ard_grid *grid, int64_t *targetid, float *flux,
                                            float *ivar, uint8_t *mask, ard_error *err);

#ifdef __cplusplus
}
#endif
#endif
