/* ard dataset: the ARD layout on disk -- paths, the schemas of tiles, catalog and truth, one walker
 * that enumerates a dataset's files, the read plan (type and file format) and THE spectrum reader
 * (an open tile's row groups, and a whole plan read in parallel: `ard fetch` and the stream's loader
 * both read through it).
 *
 * Layout (DESIGN.md):
 *   DATASET/tiles/SURVEY/PROGRAM/PIXGROUP/PIXNUM.parquet   one tile per NSIDE-64 nested pixel,
 *                                                          PIXGROUP = PIXNUM / 100
 *   DATASET/catalog/zcatalog-NNNN.parquet                  catalog rows, sorted by TARGETID
 *   DATASET/truth/galaxies-NNNN.parquet, groups.parquet    generator truth (see ARD_TRUTH_DIR)
 *   DATASET/results/<stage>-<run>-<table>.parquet          science outputs
 *
 * Tile schema: TARGETID int64 required (rows sorted ascending), FLUX list<float> (optional
 * elements: a masked pixel is a null element), IVAR list<float> (0 where masked), MASK list<uint8>
 * (0 = good; DESI SPECMASK bits folded to a byte, see ARD_MASK_*). Every list holds grid.n
 * elements. Key-value metadata: "ard.grid" (ard_grid_format), "ard.version"
 * (ARD_SCHEMA_VERSION), "ard.source" and "ard.pixel_stats" (ARD_KV_PIXEL_STATS). Flux unit: 1e-17
 * erg/s/cm^2/Angstrom (DESI's); IVAR in the inverse square of that.
 *
 * Thread-safety: every function here is thread-safe unless it says otherwise (no hidden state). */
#ifndef ARD_DATASET_H
#define ARD_DATASET_H

#include "ard/core.h"
#include "ard/parquet.h"

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
typedef enum ard_dataset_col_type {
    ARD_COLTYPE_INT32 = 0,
    ARD_COLTYPE_INT64 = 1,
    ARD_COLTYPE_FLOAT = 2,
    ARD_COLTYPE_DOUBLE = 3,
    ARD_COLTYPE_STRING = 4 /* UTF-8 BYTE_ARRAY (STRING logical type) */
} ard_dataset_col_type;

typedef struct ard_dataset_column {
    const char *name; /* "TARGET_RA" */
    int32_t type;     /* ard_dataset_col_type */
    const char *unit; /* "deg", "" */
    const char *doc;  /* one line */
} ard_dataset_column;

/* Number of catalog columns, and column i (0 <= i < count; NULL otherwise; borrowed, static). */
ARD_API int32_t ard_dataset_catalog_num_columns(void);
ARD_API const ard_dataset_column *ard_dataset_catalog_column(int32_t i);
/* Index of a catalog column by name, or -1. */
ARD_API int32_t ard_dataset_catalog_column_index(const char *name);

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
 * float (smoothed overdensity of the halos there), WEB_LAMBDA1..3 float (tidal eigenvalues,
 * descending); key-value metadata "ard.cosmic_web" gives the T-web parameters ("method=tweb;
 * smoothing_mpc_h=2;lambda_th=0.2;tolerance=0.005;field_log_mass=12;..."). The true mass field is
 * every group's halo (LOG_MASS, at its centre) and every field galaxy as a 10^12 Msun/h halo at its
 * own position, in a smooth background. DATASET/truth/groups.parquet: GROUP_ID int64, RA double,
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
ARD_API ard_status ard_dataset_tile_path(const char *dataset, const char *survey,
                                         const char *program, int64_t pixnum, char *buf, size_t cap,
                                         ard_error *err);
/* "DATASET/catalog/zcatalog-NNNN.parquet" (4 digits, file_index 0..9999). */
ARD_API ard_status ard_dataset_catalog_path(const char *dataset, int32_t file_index, char *buf,
                                            size_t cap, ard_error *err);
/* Parses a tile path (absolute or relative; anything before "tiles/" is ignored) into its parts.
 * survey/program buffers of at least 16 bytes. ARD_EINVAL if it is not a tile path. */
ARD_API ard_status ard_dataset_parse_tile_path(const char *path, char *survey, char *program,
                                               int64_t *pixnum, ard_error *err);
/* Creates every missing directory of `path`'s parent (mkdir -p of dirname). ARD_EIO. */
ARD_API ard_status ard_dataset_mkdirs_for(const char *path, ard_error *err);

/* ARD_EEXIST when directory `dir` already holds a dataset (a tiles/, catalog/ or truth/ entry), so
 * a producer never mixes a new survey with stale files; ARD_OK otherwise (also when `dir` does not
 * exist). ARD_EINVAL for a path too long. Either way, the temporary files that killed writers left
 * under `dir` are removed first (ard_atomic_sweep, recursive; best effort). */
ARD_API ard_status ard_dataset_check_fresh(const char *dir, ard_error *err);

// ---- the walker ---------------------------------------------------------------------------------
/* The parts of a dataset, each a directory of Parquet files. */
typedef enum ard_dataset_part {
    ARD_DATASET_TILES = 0,   /* tiles/ (recursively) */
    ARD_DATASET_CATALOG = 1, /* catalog/ */
    ARD_DATASET_TRUTH = 2,   /* truth/ */
    ARD_DATASET_RESULTS = 3  /* results/ */
} ard_dataset_part;

/* A listed file as the walk saw it (ard_dataset_scan). */
typedef struct ard_dataset_file_stat {
    int64_t size, mtime_ns; /* its lstat; -1 when direct is 0 */
    int32_t direct; /* 1: a regular file reached from the dataset directory through directories
                       each opened from the one before without following a symbolic link, so it
                       lay inside the dataset when the walk saw it. 0: a link on the way (or the
                       file is one, or it vanished): the caller resolves and stats it itself */
} ard_dataset_file_stat;

/* A sorted list of paths relative to the dataset root ("tiles/main/dark/93/9378.parquet").
 * Caller-owned; zero-initialise or let ard_dataset_list fill it; ard_dataset_files_reset frees it
 * (safe twice). */
typedef struct ard_dataset_files {
    char **paths;
    int64_t count, cap;
    ard_dataset_file_stat *stats; /* ard_dataset_scan: one per path, same order; else NULL */
} ard_dataset_files;

/* Every *.parquet file under the part's directory (recursively, at most 16 levels; names starting
 * with '.' -- hidden files and the temporary files of atomic writes -- are skipped; links to files
 * and directories are followed; a file that vanishes while listing is not an error), sorted by
 * strcmp so that every rank and every run sees the same order. A missing part directory gives an
 * empty list (ARD_OK). *out is reset first. Errors: ARD_EINVAL (NULL arguments, unknown part),
 * ARD_EIO (unreadable directory), ARD_ENOMEM; on failure the list is empty. */
ARD_API ard_status ard_dataset_list(const char *dataset, int32_t part, ard_dataset_files *out,
                                    ard_error *err);
/* The number of parts (the size of ard_dataset_scan's out). */
#define ARD_DATASET_NUM_PARTS 4
/* Sync's walk: ard_dataset_list of each part in `parts` (a mask of 1 << ARD_DATASET_*) into
 * out[part], in one pass over the dataset's directories, with each file's stat (out[part].stats:
 * one fstatat per file, from its directory's descriptor) and, when `sweep` is 1, the temporaries
 * of dead writers removed from every directory of the dataset as ard_atomic_sweep(dataset, 1)
 * would (best effort: a directory outside the parts that cannot be read is skipped; *removed,
 * may be NULL, counts them). Every out[] is reset first; parts not in the mask stay empty.
 * Errors: those of ard_dataset_list, ARD_ENOENT (no dataset directory); on failure every list is
 * empty. Thread-safe. */
ARD_API ard_status ard_dataset_scan(const char *dataset, uint32_t parts, int32_t sweep,
                                    ard_dataset_files *out, int64_t *removed, ard_error *err);
ARD_API void ard_dataset_files_reset(ard_dataset_files *files);
/* "tiles", "catalog", "truth", "results"; NULL for an unknown part. Static. */
ARD_API const char *ard_dataset_part_dir(int32_t part);

// ---- the read plan ------------------------------------------------------------------------------
/* A read plan: which spectra to read, as (file, row group, rows) sorted for sequential reading.
 * The index builds plans (ard_index_query); the spectrum reader below and the stream's loader read
 * them. Immutable once built: may be read from several threads. */
typedef struct ard_plan ard_plan;

/* One row group of one file and the rows wanted from it (sorted ascending). */
typedef struct ard_plan_chunk {
    int32_t file; /* index into the plan's files */
    int32_t row_group;
    int64_t num_rows;    /* rows wanted */
    const int64_t *rows; /* row indexes inside the row group */
    const int64_t *targetids;
    int64_t first_row;   /* first row of the row group in the file */
    int64_t byte_offset; /* where the row group's column chunks start in the file */
    int64_t bytes;       /* compressed bytes of the row group */
    /* The same rows as runs of consecutive rows: num_ranges (first row, row count) pairs,
     * ascending, maximal (a run never touches the next); what a reader that consumes a row group
     * by slices iterates, and what the plan file carries. */
    int64_t num_ranges;
    const int64_t *ranges;
} ard_plan_chunk;

/* One planned spectrum, the input of ard_plan_new. */
typedef struct ard_plan_entry {
    int32_t file; /* index into the files given to ard_plan_new */
    int32_t row_group;
    int64_t row; /* row inside the row group */
    int64_t targetid;
    int64_t first_row, byte_offset, bytes; /* of the row group (as ard_plan_chunk) */
} ard_plan_entry;

/* Builds a plan over `num_files` files (paths relative to the dataset root, copied; kept in the
 * given order, which is the order the plan is read in: the index gives path order) from `count`
 * entries, which are sorted in place by (file, row group, row); an entry repeating a (file, row
 * group, row) is dropped. Errors: ARD_EINVAL (an entry names a file outside [0, num_files), a
 * negative row group or row, a NULL path), ARD_ENOMEM. *out is NULL on failure. */
ARD_API ard_status ard_plan_new(const char *const *files, int32_t num_files,
                                ard_plan_entry *entries, int64_t count, ard_plan **out,
                                ard_error *err);
/* Builds a plan from chunks already in plan order: (file, row group) strictly ascending, each with
 * num_rows >= 1 rows strictly ascending and as many targetids (copied; num_ranges and ranges of the
 * input are ignored and computed). Cheaper than ard_plan_new for large plans (no per-spectrum
 * entry, no sort). Errors: ARD_EINVAL (a chunk out of order, empty, with unsorted or negative
 * rows, naming a file outside [0, num_files); a NULL path), ARD_ENOMEM. *out is NULL on failure. */
ARD_API ard_status ard_plan_new_chunks(const char *const *files, int32_t num_files,
                                       const ard_plan_chunk *chunks, int64_t num_chunks,
                                       ard_plan **out, ard_error *err);
ARD_API void ard_plan_free(ard_plan *plan); /* accepts NULL */
ARD_API int32_t ard_plan_num_files(const ard_plan *plan);
/* Path of file i relative to the dataset root ("tiles/main/dark/93/9378.parquet"); borrowed. */
ARD_API const char *ard_plan_file(const ard_plan *plan, int32_t i);
/* DATASET/(file i of the plan) confined to the dataset (ard_path_confine: relative, no "..", no
 * symbolic link leading outside; the message names the plan file). *out: caller frees with
 * ard_free. ARD_EPERM (escaping path), ARD_ENOENT, ARD_ENOMEM. */
ARD_API ard_status ard_plan_file_path(const char *dataset, const ard_plan *plan, int32_t i,
                                      char **out, ard_error *err);
ARD_API int64_t ard_plan_num_chunks(const ard_plan *plan);
ARD_API const ard_plan_chunk *ard_plan_chunk_at(const ard_plan *plan,
                                                int64_t i); /* NULL if out of range */
ARD_API int64_t ard_plan_num_rows(const ard_plan *plan);
/* Renders the plan as JSON ({"num_rows":N,"files":[{"path":..,"row_groups":[{"row_group":..,
 * "byte_offset":..,"bytes":..,"rows":[..],"targetids":[..]}]}]}) into out. */
ARD_API void ard_plan_to_json(const ard_plan *plan, ard_buf *out, int pretty);

/* The plan file format (`ard query --format plan` writes it, `ard stream serve --plan` and
 * ard_plan_load read it): UTF-8 text, one header line, then one line per chunk, fields separated
 * by one TAB, lines ended by '\n'. Version 2 (written since schema 5) carries row ranges:
 *   path<TAB>row_group<TAB>byte_offset<TAB>bytes<TAB>num_rows<TAB>row_ranges<TAB>targetid_deltas
 *   tiles/main/dark/93/9378.parquet<TAB>0<TAB>4<TAB>56965<TAB>4<TAB>0-2,5<TAB>39000..1,1,1,4
 * row_ranges: comma-separated runs "first-last" (inclusive) or "row", ascending and not touching,
 * num_rows rows in all; targetid_deltas: num_rows decimal integers, the first TARGETID and then
 * each one's difference to the one before (may be negative). Version 1 (still read):
 *   path<TAB>row_group<TAB>byte_offset<TAB>bytes<TAB>num_rows<TAB>rows<TAB>targetids
 * with rows and targetids comma-separated decimal lists of num_rows entries (rows ascending). In
 * both, the lines of one file are consecutive, and paths are relative to the dataset root and
 * contain no TAB or newline. */
#define ARD_PLAN_HEADER_V2                                                                         \
    "path\trow_group\tbyte_offset\tbytes\tnum_rows\trow_ranges\ttargetid_deltas"
#define ARD_PLAN_HEADER "path\trow_group\tbyte_offset\tbytes\tnum_rows\trows\ttargetids"
/* Appends the plan's text (version 2) to out (ard_buf's failed flag reports ENOMEM). */
ARD_API void ard_plan_format(const ard_plan *plan, ard_buf *out);
/* The same in version 1, for tools that only read that one. */
ARD_API void ard_plan_format_v1(const ard_plan *plan, ard_buf *out);
/* Parses plan text of either version (len bytes, need not be NUL-terminated). Errors: ARD_EINVAL
 * naming the line (missing header, wrong field count, bad or unsorted numbers or ranges, a count
 * that disagrees with its lists, a file whose lines are not consecutive), ARD_EPERM naming the line (a path that is
 * absolute or has a ".." component: a plan is a file people pass around), ARD_ENOMEM. *out is
 * NULL on failure. */
ARD_API ard_status ard_plan_parse(const char *text, size_t len, ard_plan **out, ard_error *err);
/* Writes the plan text to `path` atomically. ARD_EIO, ARD_ENOMEM. */
ARD_API ard_status ard_plan_save(const ard_plan *plan, const char *path, ard_error *err);
/* Reads a plan file. ARD_ENOENT/ARD_EIO (file), then as ard_plan_parse (messages name the path). */
ARD_API ard_status ard_plan_load(const char *path, ard_plan **out, ard_error *err);

// ---- the spectrum reader: one tile ---------------------------------------------------------------
/* An open tile: its footer decoded, no data page read. One handle may be read from several threads
 * at once (each call decodes what it returns). */
typedef struct ard_tile ard_tile;

/* Kinds of tile columns (ard_tile_column_kind). */
#define ARD_TILE_LIST_F32 0 /* list<float> (FLUX, IVAR) */
#define ARD_TILE_LIST_U8 1  /* list<uint8> (MASK: INT32 with logical INTEGER(8, unsigned)) */
#define ARD_TILE_INT64 2    /* a plain INT64 column (TARGETID) */
#define ARD_TILE_MISSING (-1)
#define ARD_TILE_OTHER (-2) /* present, but none of the kinds above */

/* The leaf of list column `name` in an open Parquet file: the 3-level list "NAME.list.element",
 * the legacy forms "NAME.list.item", "NAME.element", "NAME.array", or a plain column "NAME"; -1
 * when there is none. For code that already holds the footer (sync's checks). */
ARD_API int32_t ard_dataset_list_leaf(const ard_parquet_file *pq, const char *name);

/* Opens `path`. Errors: those of ard_parquet_open (ARD_ENOENT, ARD_EIO, ARD_ECORRUPT, ...).
 * *out is NULL on failure. */
ARD_API ard_status ard_tile_open(const char *path, ard_tile **out, ard_error *err);
/* Same, decoding with buffers from `buffers` (ard_parquet_buffers_new; NULL: the tile's own),
 * which must outlive the tile: a reader that keeps many tiles open bounds their idle decode
 * buffers by the pool's, not by the number of tiles. */
ARD_API ard_status ard_tile_open_pooled(const char *path, ard_parquet_buffers *buffers,
                                        ard_tile **out, ard_error *err);
ARD_API void ard_tile_close(ard_tile *tile); /* accepts NULL */
ARD_API const char *ard_tile_path(const ard_tile *tile);
ARD_API int32_t ard_tile_num_row_groups(const ard_tile *tile);
/* Rows of row group rg, or -1 when rg is out of range. */
ARD_API int64_t ard_tile_row_group_rows(const ard_tile *tile, int32_t rg);
/* Key-value metadata (ARD_KV_GRID, ...), borrowed from the tile; NULL when absent. */
ARD_API const char *ard_tile_kv(const ard_tile *tile, const char *key);
/* ARD_TILE_* kind of column `name` (a list column by its top-level name: "FLUX"). */
ARD_API int32_t ard_tile_column_kind(const ard_tile *tile, const char *name);
/* Values of INT64 column `column` (NULL = TARGETID) for rows [first, first + count) of row group
 * rg into out[count]. ARD_EINVAL (bad rg or range, column missing or not INT64: message names
 * them), ARD_ECORRUPT (nulls, or fewer rows than the footer says), decode errors. */
ARD_API ard_status ard_tile_read_int64(const ard_tile *tile, int32_t rg, const char *column,
                                       int64_t first, int64_t count, int64_t *out, ard_error *err);
/* The whole list<float> column `column` of row group rg decoded into caller memory, row-major:
 * values holds `capacity` floats (*rows_out x *width_out are written); null elements and null
 * lists are NaN. *has_nulls (may be NULL) is set when any element was null. Errors: ARD_EINVAL
 * (bad rg, column missing or not list<float>, lists of different lengths), ARD_ELIMIT (rows x width
 * > capacity), decode errors (ARD_ECORRUPT, ARD_ECHECKSUM, ...). */
ARD_API ard_status ard_tile_read_f32(const ard_tile *tile, int32_t rg, const char *column,
                                     float *values, int64_t capacity, int64_t *rows_out,
                                     int64_t *width_out, int32_t *has_nulls, ard_error *err);
/* The list length (spectrum width) of list<float> column `column` in row group rg (decodes it).
 * Errors as ard_tile_read_f32. */
ARD_API ard_status ard_tile_list_width(const ard_tile *tile, int32_t rg, const char *column,
                                       int64_t *width_out, ard_error *err);

/* The footer's created_by ("ard 0.9.0 (parquet writer)", ...), borrowed from the tile; "" when
 * absent. */
ARD_API const char *ard_tile_created_by(const ard_tile *tile);
/* Number of key-value metadata entries, and entry i (0 <= i < count) as *key (NUL-terminated) and
 * *value / *value_len (not NUL-terminated; NULL, 0 for an entry without a value), borrowed from the
 * tile. ARD_EINVAL for i out of range. */
ARD_API int32_t ard_tile_num_kv(const ard_tile *tile);
ARD_API ard_status ard_tile_kv_at(const ard_tile *tile, int32_t i, const char **key,
                                  const char **value, int64_t *value_len, ard_error *err);

/* Flat columns of any dataset Parquet file (catalog, truth, results: the ard_tile handle opens
 * them all). Each call decodes the whole of column `column` (a plain, not repeated column, found
 * by its name) in row group rg into caller memory sized by ard_tile_row_group_rows. The column
 * must hold no nulls.
 *   ard_tile_read_double: a DOUBLE or FLOAT column -> out[rows] (FLOAT widened).
 *   ard_tile_read_int32:  an INT32 column -> out[rows] (for INT64 use ard_tile_read_int64).
 *   ard_tile_read_text:   a BYTE_ARRAY (string) column -> the values concatenated into `chars`
 *                         (appended to after clearing it; no NUL between values) and
 *                         offsets[rows + 1] (value i = chars->data[offsets[i] .. offsets[i + 1])).
 * Errors: ARD_EINVAL (bad rg, NULL arguments, column missing, repeated or of another type: the
 * message names file and column), ARD_ECORRUPT (nulls or fewer values than the footer's rows),
 * ARD_ENOMEM, decode errors (ARD_ECORRUPT, ARD_ECHECKSUM, ...). */
ARD_API ard_status ard_tile_read_double(const ard_tile *tile, int32_t rg, const char *column,
                                        double *out, ard_error *err);
ARD_API ard_status ard_tile_read_int32(const ard_tile *tile, int32_t rg, const char *column,
                                       int32_t *out, ard_error *err);
ARD_API ard_status ard_tile_read_text(const ard_tile *tile, int32_t rg, const char *column,
                                      ard_buf *chars, int64_t *offsets, ard_error *err);

// ---- the sky of the tiles -----------------------------------------------------------------------
/* Number of tile pixels on the sky (12 * 64^2): a tile's pixnum is in [0, ARD_DATASET_NUM_PIXELS). */
#define ARD_DATASET_NUM_PIXELS 49152
/* Tiles are HEALPix pixels (NSIDE 64, nested scheme). The area of one tile's pixel in square
 * degrees (about 0.839), and the centre of pixel `pixnum` (RA in [0, 360), Dec in [-90, 90],
 * degrees). ARD_EINVAL for a pixnum outside [0, ARD_DATASET_NUM_PIXELS). */
ARD_API double ard_dataset_tile_area_deg2(void);
ARD_API ard_status ard_dataset_tile_center(int64_t pixnum, double *ra_deg, double *dec_deg,
                                           ard_error *err);

// ---- the spectrum reader: a whole plan (fetch) ---------------------------------------------------

typedef struct ard_fetch ard_fetch;

/* Kinds of fetched columns (ard_fetch_batch.column_types). */
#define ARD_FETCH_F32 ARD_TILE_LIST_F32
#define ARD_FETCH_U8 ARD_TILE_LIST_U8

/* One decoded plan chunk: `rows` spectra, one rows x width matrix per requested column. A
 * ARD_FETCH_F32 column is columns[c] (float32; NaN + validity for null elements, as
 * ard_parquet_read_f32_matrix) and u8_values[c] is NULL. A ARD_FETCH_U8 column is u8_values[c]
 * (rows x width uint8, row-major; its lists must be non-null, of one length, without null
 * elements, else the batch fails with ARD_ENOTSUP) and columns[c] has only rows and width set
 * (values NULL). Owned by the fetch; valid until the next ard_fetch_next or ard_fetch_close. */
typedef struct ard_fetch_batch {
    int32_t file, row_group;
    int64_t rows;
    const int64_t *targetids;
    int32_t num_columns;
    const char *const *column_names;
    const ard_pq_f32_matrix *columns;
    const int32_t *column_types;     /* num_columns ARD_FETCH_* */
    const uint8_t *const *u8_values; /* num_columns pointers, NULL for float columns */
} ard_fetch_batch;

/* Prepares to read `plan` from the tiles under `dataset` (the DB is not used). columns: names of
 * list<float> or list<uint8> tile columns, at most 8 (NULL/0: "FLUX"); the kind of each is taken
 * from each tile's schema. threads <= 0: number of CPUs; chunks are decoded in parallel, `threads`
 * at a time, and handed out in plan order. The plan must outlive the fetch.
 * Errors: ARD_EINVAL, ARD_ENOMEM. */
ARD_API ard_status ard_fetch_open(const char *dataset, const ard_plan *plan,
                                  const char *const *columns, int32_t num_columns, int32_t threads,
                                  ard_fetch **out, ard_error *err);
/* Next batch in plan order; ARD_EEOF after the last one. Errors: those of ard_parquet_open /
 * ard_parquet_read_f32_matrix / ard_parquet_read_column_rows (message names the tile), ARD_EINVAL
 * for a column that is missing or neither list<float> nor list<uint8> (message names it),
 * ARD_ENOTSUP for a list<uint8> column with null/ragged lists, ARD_ECORRUPT when a tile no longer
 * matches the plan (row count, TARGETID) or a uint8 value is out of range. */
ARD_API ard_status ard_fetch_next(ard_fetch *f, const ard_fetch_batch **batch, ard_error *err);
ARD_API void ard_fetch_close(ard_fetch *f); /* accepts NULL */

#ifdef __cplusplus
}
#endif
#endif
