/* ard survey: the producers of datasets -- the synthetic DESI-like survey generator and the DESI
 * FITS ingest. The layout they write (paths; tile, catalog and truth schemas) is in ard/dataset.h,
 * the numerics of the sky (wavelength grid, HEALPix, cosmology, random numbers, T-web) in
 * ard/astro.h; this header includes both.
 *
 * Thread-safety: every function here is thread-safe unless it says otherwise (no hidden state). */
#ifndef ARD_SURVEY_H
#define ARD_SURVEY_H

#include "ard/astro.h"
#include "ard/core.h"
#include "ard/dataset.h" /* the ARD layout and schema names survey writes */

#ifdef __cplusplus
extern "C" {
#endif

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
    /* Large-scale structure (needs FFTW: without it lss = 1 gives ARD_ENOTSUP). lss = 1 (default):
     * a Zel'dovich-evolved Gaussian random field (ard_field_new: Planck 2018, EH98 with wiggles,
     * sigma8 = 0.81, seed = the survey seed) on a periodic cube of lss_cells^3 cells and side
     * lss_box Mpc/h, replicated periodically over the survey volume (observer at the origin);
     * structures repeat every lss_box along a line of sight. lss = 0: the earlier placement (no
     * clustering beyond groups) and the point-mass T-web truth (ard_tweb_eval). Resolution: the
     * cell is lss_box / lss_cells (default 256 / 128 = 2 Mpc/h, the T-web's R); memory is
     * bounded by 129 bytes per cell (field 32 kept + evolved density 8 + T-web 41 kept + FFT work
     * 48): 270 MB at the default, 2.2 GB at 256^3 (512 Mpc/h at 2 Mpc/h cells, or a region's
     * finer cells), 17 GB at 512^3, which is refused (ARD_ELIMIT above 8 GB) - this budget does
     * not grow with the number of galaxies. Coarser cells (a larger box at the same n) smooth the
     * web: keep the cell <= R. */
    int32_t lss;       /* default 1 */
    int32_t lss_cells; /* power of two 16 .. 512, default 128 */
    double lss_box;    /* Mpc/h, default 256 */
    /* Sky region: a cap of region_radius degrees around (region_ra, region_dec); radius 0 (the
     * default) = the whole DR1 footprint. In a region, galaxies = 0 means "DR1 density": the
     * catalog gets the DR1 good-z count of the NSIDE-64 pixels whose centre is in the cap. */
    double region_ra, region_dec, region_radius;
    /* Cosmic-web truth (lss = 1): the Gaussian smoothing R (Mpc/h, > 0; default 2) and the
     * eigenvalue threshold lambda_th (default 0.2) of the truth's T-web, both recorded in
     * "ard.cosmic_web". Galaxy placement always uses the field smoothed at 2 Mpc/h, so these change
     * the labels only, never the galaxies: the same seed gives the same catalog at any R. R = 2 is
     * the web of the matter field below the tracers' spacing (DR1 tracers are 5-20 Mpc/h apart);
     * a T-web at the tracers' scale (R 4-8 Mpc/h, lambda_th lowered so that the class volume
     * fractions stay those of R = 2, lambda_th = 0.2) is the learnable target of the cosmic-web
     * stage (bench/results/cosmicweb.md). A second T-web grid (41 bytes per cell) is kept when R
     * differs from 2. lss = 0 ignores both (point-mass T-web, ard_tweb_params_default). */
    double web_smoothing;
    double web_lambda_th;
    /* Displacements of the LSS field (lss = 1): 1 = Zel'dovich (default), 2 = 2LPT (ard_field's
     * lpt_order 2: more skewed, slightly sharper web; 24 bytes per cell more while the field is
     * drawn, inside the budget above). Recorded in "ard.cosmic_web" (field=zeldovich|2lpt). */
    int32_t lss_lpt_order;
    /* Tiles: 0 (default) writes each tile's whole 4 MiB units with O_DIRECT where the file system
     * takes it (ard_atomic_direct_io: the page cache's copy was ~30% of the spectra phase's CPU,
     * bench/results/generate.md); 1 writes them through the page cache (then they stay cached for
     * a reader that follows at once). The bytes are the same. */
    int32_t buffered_io;
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
    int64_t bytes_written;      /* catalog + truth + tiles */
    double seconds_catalog;     /* wall time for catalog + truth (incl. seconds_web) */
    double seconds_web;         /* wall time for the cosmic-web truth (T-web) */
    double seconds_spectra;     /* wall time for tiles */
    double cpu_seconds_spectra; /* CPU time (user + system, all threads) for tiles */
} ard_generate_report;

/* Sky: each class's halos are placed in NSIDE-64 pixels in proportion to DR1's good-z density
 * (main_bright for BGS -> tiles/main/bright, main_dark for LRG/ELG/QSO -> tiles/main/dark),
 * uniformly inside the pixel; redshifts follow DR1's n(z) per class; class mix and group fraction
 * are exact quotas. With lss = 1 each unit (a group or a field galaxy) draws 16 candidate
 * positions (32 for groups) from that footprint and n(z) and keeps one with probability
 * proportional to max(0, 1 + b D(z) delta_R(x)): delta_R the evolved field smoothed at the T-web's
 * R, D(z) the linear growth at the candidate's redshift (the z = 0 field scaled along the light
 * cone), b the class's linear bias (BGS 1.4, LRG 2.0, ELG 1.3, QSO 2.5: within the ranges of the
 * DESI Final Design Report's b(z) = b0 / D(z) with b0 = 1.34, 1.7, 0.84, 1.2 at each class's
 * typical redshift, arXiv:1611.00036 sec. 2.4) plus 0.8 (log10 M - 12.5) for a group of mass M,
 * so groups sit on density peaks. Footprint and n(z) are kept on average (the weights have mean
 * ~1 over the candidates). Redshift-space distortions: every member gets the line-of-sight
 * Zel'dovich velocity a H f D(z) psi(x) of its unit's position on top of its virial motion.
 * Truth WEB_* columns then come from the grid T-web (ard_tweb_grid_new) of the evolved field at R
 * = web_smoothing (default 2 Mpc/h), lambda_th = web_lambda_th (default 0.2), sampled at each galaxy's real-space position (Z_COSMO) with the
 * eigenvalues scaled by D(Z_COSMO); "ard.cosmic_web" records method, R, lambda_th, cells, box. TARGETID = 39000000000000000 + HEALPIX * 2^20 + rank in pixel, so the catalog,
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
