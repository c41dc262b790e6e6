/* ard survey: the ARD data model (tile and catalog schemas, dataset paths), the synthetic
 * DESI-like survey generator and the DESI FITS ingest. The numerics of the sky (wavelength grid,
 * HEALPix, cosmology, random numbers, T-web) live in ard/astro.h, which this header includes.
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

#include "ard/astro.h"
#include "ard/core.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- schema names -------------------------------------------------------------------------------

#define ARD_SCHEMA_VERSION "1"
#define ARD_KV_GRID "ard.grid"
#define ARD_KV_VERSION "ard.version"
#define ARD_KV_SOURCE "ard.source" /* "generate seed=S" or "ingest desi" */
/* Tile pixel statistics per TARGET_CLASS (written by ard's tile writer: generate and ingest; other
 * writers may omit the key). The value is compact JSON, one member per class present in the tile,
 * in the fixed order BGS, LRG, ELG, QSO, OTHER (ingest's class for targets of none of the four),
 * absent classes omitted, no whitespace, counts as decimal integers:
 *   {"BGS":{"rows":R,"pixels":P,"flux_null":N,"ivar_zero":Z},"LRG":{...},...}
 * rows = spectra of the class (the catalog's TARGET_CLASS of their TARGETID), pixels = their FLUX
 * elements (rows x grid.n), flux_null = null FLUX elements as written, ivar_zero = IVAR elements
 * equal to 0 (a null FLUX element always has IVAR 0). Counts are exact, so the sums over classes
 * equal the footer's row count and the FLUX column's value and null counts; `ard sync` checks
 * that and records a tile whose value is malformed or disagrees as a sync error. */
#define ARD_KV_PIXEL_STATS "ard.pixel_stats"
#define ARD_CLASS_OTHER_NAME "OTHER" /* TARGET_CLASS of ingested targets of no ard class */

/* Tile columns. */
#define ARD_COL_TARGETID "TARGETID"
#define ARD_COL_FLUX "FLUX"
#define ARD_COL_IVAR "IVAR"
#define ARD_COL_MASK "MASK"

/* MASK byte bits (any nonzero bit = do not use that pixel). */
#define ARD_MASK_NODATA 1u  /* no arm covers the pixel, or every input pixel was masked */
#define ARD_MASK_BADPIX 2u  /* DESI SPECMASK nonzero / generator bad pixel */
#define ARD_MASK_ARMDROP 4u /* whole arm missing (dead arm) */
#define ARD_MASK_COSMIC 8u  /* flagged cosmic ray */

/* Catalog columns: DESI zcatalog names (desi-facts.md 1.1) plus TARGET_CLASS. The table below is
 * the schema of catalog/zcatalog-NNNN.parquet, in column order. */
typedef enum ard_col_type {
    ARD_COLTYPE_INT32 = 0,
    ARD_COLTYPE_INT64 = 1,
    ARD_COLTYPE_FLOAT = 2,
    ARD_COLTYPE_DOUBLE = 3,
    ARD_COLTYPE_STRING = 4 /* UTF-8 BYTE_ARRAY (STRING logical type) */
} ard_col_type;

typedef struct ard_survey_column {
    const char *name; /* "TARGET_RA" */
    int32_t type;     /* ard_col_type */
    const char *unit; /* "deg", "" */
    const char *doc;  /* one line */
} ard_survey_column;

/* Number of catalog columns, and column i (0 <= i < count; NULL otherwise; borrowed, static). */
ARD_API int32_t ard_catalog_num_columns(void);
ARD_API const ard_survey_column *ard_catalog_column(int32_t i);
/* Index of a catalog column by name, or -1. */
ARD_API int32_t ard_catalog_column_index(const char *name);

/* Catalog column names, in schema order. */
#define ARD_CAT_TARGETID "TARGETID"       /* int64, unique, sorted */
#define ARD_CAT_TARGET_RA "TARGET_RA"     /* double, deg ICRS */
#define ARD_CAT_TARGET_DEC "TARGET_DEC"   /* double, deg */
#define ARD_CAT_Z "Z"                     /* double, observed (redshift-space) redshift */
#define ARD_CAT_ZERR "ZERR"               /* double */
#define ARD_CAT_ZWARN "ZWARN"             /* int64, 0 = good */
#define ARD_CAT_DELTACHI2 "DELTACHI2"     /* double */
#define ARD_CAT_SPECTYPE "SPECTYPE"       /* string GALAXY/QSO/STAR */
#define ARD_CAT_SUBTYPE "SUBTYPE"         /* string */
#define ARD_CAT_HEALPIX "HEALPIX"         /* int32, NSIDE 64 nested pixel of the tile holding it */
#define ARD_CAT_SURVEY "SURVEY"           /* string main/sv1/.../special */
#define ARD_CAT_PROGRAM "PROGRAM"         /* string dark/bright/backup/other */
#define ARD_CAT_DESI_TARGET "DESI_TARGET" /* int64 bits (desi-facts.md) */
#define ARD_CAT_BGS_TARGET "BGS_TARGET"   /* int64 bits */
#define ARD_CAT_FLUX_G "FLUX_G"           /* float nanomaggy */
#define ARD_CAT_FLUX_R "FLUX_R"
#define ARD_CAT_FLUX_Z "FLUX_Z"
#define ARD_CAT_EBV "EBV"                             /* float mag */
#define ARD_CAT_COADD_FIBERSTATUS "COADD_FIBERSTATUS" /* int32, 0 = good */
#define ARD_CAT_TARGET_CLASS                                                                       \
    "TARGET_CLASS"                          /* string BGS/LRG/ELG/QSO (ard's own; ingest writes    \
                                               OTHER for targets of none of these classes) */
#define ARD_CAT_HAS_SPECTRUM "HAS_SPECTRUM" /* int32 1 = a tile row exists for this TARGETID */

/* Catalog files hold at most this many rows each (zcatalog-0000, -0001, ...). */
#define ARD_CATALOG_ROWS_PER_FILE 1000000

/* Target classes (TARGET_CLASS). */
typedef enum ard_target_class {
    ARD_CLASS_BGS = 0,
    ARD_CLASS_LRG = 1,
    ARD_CLASS_ELG = 2,
    ARD_CLASS_QSO = 3,
    ARD_CLASS_COUNT = 4
} ard_target_class;
/* "BGS", "LRG", "ELG", "QSO"; "UNKNOWN" for anything else. Static. */
ARD_API const char *ard_target_class_name(int32_t cls);
/* Class from its name (case-sensitive), or -1. */
ARD_API int32_t ard_target_class_from_name(const char *name);

/* ---- truth (generator only) ---------------------------------------------------------------------
 * DATASET/truth/galaxies-NNNN.parquet, row-matched with catalog/zcatalog-NNNN.parquet (same
 * TARGETIDs, same order): TARGETID int64, GROUP_ID int64 (-1 = field galaxy), IS_CENTRAL int32,
 * Z_COSMO double (the halo's cosmological redshift), Z_TRUE double (with peculiar velocity; Z =
 * Z_TRUE + catalog error, or a blunder for ANOMALY=redshift_blunder), ANOMALY string ("" = none,
 * else ard_anomaly_name), ANOMALY_CODE int32, LOG_HALO_MASS double (log10 Msun/h of its group; 0
 * for field), HAS_SPECTRUM int32, SPECTRUM_CLASS string (class the spectrum really shows; differs
 * from TARGET_CLASS for wrong_class), WEB_CLASS string (ard_web_class_name: the T-web class of the
 * true mass field at the galaxy's real-space position), WEB_CODE int32 (ard_web_class), WEB_DELTA
 * float (smoothed overdensity there), WEB_LAMBDA1..3 float (tidal eigenvalues, descending);
 * key-value metadata "ard.cosmic_web" gives the T-web parameters. With large-scale structure
 * (ard_generate_options.lss = 1, the default) the true mass field is the generator's
 * Zel'dovich-evolved field on its grid, eigenvalues scaled by D(Z_COSMO) ("method=tweb-grid;
 * smoothing_mpc_h=2;lambda_th=0.2;grid_cells=128;box_mpc_h=256;cell_mpc_h=2;..."); with lss = 0 it
 * is every group's halo (LOG_MASS, at its centre) and every field galaxy as a 10^12 Msun/h halo at
 * its own position, in a smooth background ("method=tweb;...;tolerance=0.005;field_log_mass=12;
 * ..."). DATASET/truth/groups.parquet: GROUP_ID int64, RA double,
 * DEC double, Z double (cosmological), LOG_MASS double, N_MEMBERS int32, R_VIR_MPC double (physical
 * Mpc/h), SIGMA_V double (km/s). */
#define ARD_TRUTH_DIR "truth"
#define ARD_TRUTH_GROUP_ID "GROUP_ID"
#define ARD_TRUTH_ANOMALY "ANOMALY"
#define ARD_TRUTH_ANOMALY_CODE "ANOMALY_CODE"
#define ARD_TRUTH_WEB_CLASS "WEB_CLASS"
#define ARD_TRUTH_WEB_CODE "WEB_CODE"
#define ARD_TRUTH_WEB_DELTA "WEB_DELTA"
#define ARD_KV_COSMIC_WEB "ard.cosmic_web" /* T-web parameters of the WEB_* truth columns */

typedef enum ard_anomaly {
    ARD_ANOMALY_NONE = 0,
    ARD_ANOMALY_COSMIC_RAY = 1,  /* a few single-pixel spikes */
    ARD_ANOMALY_DEAD_ARM = 2,    /* one arm zero flux with nonzero IVAR (not masked!) */
    ARD_ANOMALY_WRONG_CLASS = 3, /* spectrum of another class than TARGET_CLASS/SPECTYPE say */
    ARD_ANOMALY_FLAT = 4,        /* flat / zero spectrum */
    ARD_ANOMALY_LINE_RATIO = 5,  /* unphysical line ratio (e.g. [OIII]4960 > 5008) */
    ARD_ANOMALY_Z_BLUNDER = 6,   /* catalog Z far from the spectrum's true redshift */
    /* Astrophysical outliers (what spender and DESI found among real ones); the catalog keeps the
     * target's class, SPECTYPE and Z: */
    ARD_ANOMALY_STAR = 7,        /* a star labelled as the galaxy: a stellar template (blackbody
                                    continuum of 3500-9500 K + Balmer, Ca II H&K, Mg b, Na D and
                                    Ca triplet absorption at |v| < 150 km/s) */
    ARD_ANOMALY_DOUBLE_PEAK = 8, /* every emission line split in two components at -/+ v
                                    (galaxies 150-450 km/s, QSO broad lines 2500-5000 km/s) */
    ARD_ANOMALY_BAL_QSO = 9,     /* broad absorption line quasar: troughs blue-shifted by 2,000 to
                                    up to 25,000 km/s below C IV, Si IV, N V and Mg II; a BAL QSO at
                                    Z_TRUE for QSO targets, at z 1.6-2.8 for the others */
    ARD_ANOMALY_BLEND = 10,      /* a second galaxy (ELG or LRG) at |dz| 0.1-0.6 in the fibre, at
                                    0.4-1.0 of the target's r-band flux */
    ARD_ANOMALY_COUNT = 11
} ard_anomaly;
/* "", "cosmic_ray", "dead_arm", "wrong_class", "flat", "line_ratio", "redshift_blunder",
 * "star_as_galaxy", "double_peaked", "bal_qso", "blend". Static. */
ARD_API const char *ard_anomaly_name(int32_t kind);

// ---- dataset paths ------------------------------------------------------------------------------
/* "DATASET/tiles/SURVEY/PROGRAM/PIXGROUP/PIXNUM.parquet" with PIXGROUP = PIXNUM / 100 (no zero
 * padding, as DESI). ARD_EINVAL (bad survey/program name: must be [a-z0-9_]+, pixnum < 0),
 * ARD_ERANGE (buffer too small). */
ARD_API ard_status ard_survey_tile_path(const char *dataset, const char *survey,
                                        const char *program, int64_t pixnum, char *buf, size_t cap,
                                        ard_error *err);
/* "DATASET/catalog/zcatalog-NNNN.parquet" (4 digits, file_index 0..9999). */
ARD_API ard_status ard_survey_catalog_path(const char *dataset, int32_t file_index, char *buf,
                                           size_t cap, ard_error *err);
/* Parses a tile path (absolute or relative; anything before "tiles/" is ignored) into its parts.
 * survey/program buffers of at least 16 bytes. ARD_EINVAL if it is not a tile path. */
ARD_API ard_status ard_survey_parse_tile_path(const char *path, char *survey, char *program,
                                              int64_t *pixnum, ard_error *err);
/* Creates every missing directory of `path`'s parent (mkdir -p of dirname). ARD_EIO. */
ARD_API ard_status ard_survey_mkdirs_for(const char *path, ard_error *err);

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
     * cell is lss_box / lss_cells (default 256 / 128 = 2 Mpc/h, the T-web's R); memory ~105
     * bytes per cell at the peak (field 48 + T-web 41 + evolved density 8 + work), 220 MB at the
     * default, 1.8 GB at 256^3, 14 GB at 512^3 (refused above 8 GB: ARD_ELIMIT). Coarser cells
     * (a larger box at the same n) smooth the web: keep the cell <= R. */
    int32_t lss;       /* default 1 */
    int32_t lss_cells; /* power of two 16 .. 512, default 128 */
    double lss_box;    /* Mpc/h, default 256 */
    /* Sky region: a cap of region_radius degrees around (region_ra, region_dec); radius 0 (the
     * default) = the whole DR1 footprint. In a region, galaxies = 0 means "DR1 density": the
     * catalog gets the DR1 good-z count of the NSIDE-64 pixels whose centre is in the cap. */
    double region_ra, region_dec, region_radius;
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
 * = 2 Mpc/h, lambda_th = 0.2, sampled at each galaxy's real-space position (Z_COSMO) with the
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
