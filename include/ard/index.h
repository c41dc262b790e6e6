/* ard index: the sidecar that links the SQL catalog to the Parquet spectra.
 *
 * One schema, two backends behind one interface: SQLite (embedded, the default: DATASET/ard.db) and
 * PostgreSQL (libpq). The database holds metadata and pointers, never spectra:
 *
 *   meta(key, value)                      schema_version and friends
 *   files(id, path, kind, size, mtime_ns, footer_hash, num_rows, num_row_groups, created_by,
 *         schema_fingerprint, grid, run_id)                   kind = 'tile' | 'catalog'
 *   row_groups(file_id, row_group, num_rows, first_row, byte_offset, bytes, targetid_min,
 *              targetid_max)
 *   column_stats(file_id, row_group, column_name, num_values, null_count, min_value, max_value)
 *   tile_pixel_stats(file_id, target_class, num_rows, pixels, flux_null, ivar_zero)
 *                                         a tile's ard.pixel_stats (survey.h), one row per class;
 *                                         none for tiles whose writer did not record it
 *   spectra(targetid, file_id, row_group, row_index)          row_index counts inside the row group
 *   galaxies(targetid, target_ra, target_dec, z, zerr, zwarn, deltachi2, spectype, subtype,
 * healpix, survey, program, desi_target, bgs_target, flux_g, flux_r, flux_z, ebv,
 *            coadd_fiberstatus, target_class, catalog_file_id)
 *   catalog_summary(file_id, target_class, spectype, num_rows, zwarn_nonzero, z_count, z_min,
 *                   z_max, ra_min, ra_max, dec_min, dec_max)
 *                                         per catalog file and (TARGET_CLASS, SPECTYPE), kept by
 *                                         sync with the file's galaxies rows (NaN counts as NULL)
 *   catalog_zhist(file_id, target_class, z_bin, num)
 *                                         per catalog file and class: num galaxies with
 *                                         z_bin * W <= Z < (z_bin + 1) * W, W = ARD_INDEX_ZBIN_WIDTH
 *   catalog_linkage(target_class, without_spectrum)
 *                                         galaxies without a spectrum per class; valid only while
 *                                         meta holds 'linkage_by_class', as the distinct spectra
 *                                         TARGETIDs in meta 'linkage_distinct_spectra' are only
 *                                         while that key exists. sync updates them with every change
 *                                         or drops the keys and recomputes before it ends
 *   sync_runs(id, started, finished, ard_version, backend, rank, size, files_seen, files_added,
 *             files_changed, files_unchanged, files_removed, files_failed, status)
 *   sync_errors(run_id, path, status, message)
 *   result tables written through ard_index_write_table (groups, galaxy_groups, anomalies,
 * cosmic_web)
 *
 * Identifiers are unquoted (PostgreSQL folds them to lower case, SQLite ignores case), so a
 * predicate such as "Z > 2.5 AND SPECTYPE = 'QSO'" means the same thing on both backends.
 *
 * DSN (the `dsn` argument of ard_index_open):
 *   NULL or ""                     SQLite at DATASET/ard.db
 *   "sqlite:PATH" or a path        SQLite at PATH
 *   "postgresql://..." / "postgres://..." or a libpq "key=value" string, or "postgresql:" alone
 *                                  PostgreSQL; anything not in the DSN comes from the PG*
 * environment variables and ~/.pgpass. Passwords never need to appear in the DSN.
 *
 * Thread-safety: an ard_index handle is used by one thread at a time; distinct handles are
 * independent. A plan is immutable once built and may be read from several threads. */
#ifndef ARD_INDEX_H
#define ARD_INDEX_H

#include "ard/core.h"
#include "ard/dataset.h" /* ard_plan: the index builds plans, dataset owns the type */
#include "ard/parquet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version this build writes. Opening a newer index -> ARD_ENOTSUP; an older one opened
 * for writing is migrated in place (one transaction); read-only opens of older indexes ->
 * ARD_ENOTSUP with a hint to run `ard sync`. */
#define ARD_INDEX_SCHEMA_VERSION 7

/* Width of the Z bins of catalog_zhist. Bin j holds z with j * W <= z < (j + 1) * W, both edges
 * computed in double as (double)j * ARD_INDEX_ZBIN_WIDTH, so a query comparing Z with such an edge
 * counts exactly the rows of the bins below it. */
#define ARD_INDEX_ZBIN_WIDTH 0.05

typedef struct ard_index ard_index;

enum {
    ARD_INDEX_READ_ONLY = 1 /* open for queries only: nothing is created, migrated or written */
};

/* Opens (and for writable opens creates/migrates) the index of `dataset` (a directory; may be NULL
 * when dsn names the database explicitly). flags: 0 or ARD_INDEX_READ_ONLY.
 * Errors: ARD_ENOENT (read-only open of a missing SQLite index), ARD_EDB (connection or SQL
 * failure; the message carries the backend's text but never a password), ARD_ENOTSUP (newer schema
 * version, or PostgreSQL requested in a build without libpq), ARD_EINVAL, ARD_ENOMEM. On failure
 * *out is NULL. */
ARD_API ard_status ard_index_open(const char *dataset, const char *dsn, int32_t flags,
                                  ard_index **out, ard_error *err);
/* Closes the connection and frees idx; accepts NULL. */
ARD_API void ard_index_close(ard_index *idx);
/* "sqlite" or "postgresql" (static string). */
ARD_API const char *ard_index_backend(const ard_index *idx);
/* 1 when several processes may write the index at once, each in its own transactions (PostgreSQL:
 * every MPI rank of `mpirun ard sync` writes its own files), 0 when one process must write for all
 * (an SQLite file: the other ranks send their rows to it). */
ARD_API int32_t ard_index_concurrent_writers(const ard_index *idx);
/* The schema version stored in the open index. */
ARD_API int32_t ard_index_schema_version(const ard_index *idx);

// ---- sync ---------------------------------------------------------------------------------------

typedef struct ard_sync_remote ard_sync_remote; /* below: tile reads done by other processes */

/* Caller-filled; zero-initialise. */
typedef struct ard_sync_options {
    int32_t threads; /* footer/TARGETID readers; <= 0: number of CPUs */
    /* partition of the file list (size <= 0 means 1): contiguous runs of equal file bytes
     * (ard_partition_bytes over the files' sizes) */
    int32_t rank, size;
    /* 1: also hash the footer of files whose size and mtime did not change */
    int32_t verify_footers;
    int32_t skip_catalog;  /* 1: do not load catalog/ into galaxies */
    int32_t files_per_txn; /* files committed per transaction (each file is always all-or-nothing);
                              <= 0: 64 */
    int32_t quiet;         /* 1: no progress bar */
    /* Optional: called on the calling thread with a one-line message when the sync has to wait,
     * e.g. "waiting for another sync of DATASET/ard.db to finish" (syncs of one index run one at
     * a time: flock on "<database>.sync-lock" for SQLite, an advisory lock for PostgreSQL; not
     * for partitioned syncs, size > 1). NULL: wait silently. */
    void (*on_notice)(void *ctx, const char *message);
    void *notice_ctx;
    /* Optional: the tiles are read by other processes (MPI ranks, see ard_cluster_sync) and this
     * one writes. NULL: every file is read here. Not with size > 1 (ARD_EINVAL). */
    const ard_sync_remote *remote;
} ard_sync_options;

/* What a sync did. data_reads counts every column-chunk decode (ard_parquet_read_column) the sync
 * made and footer_reads every footer it read (Parquet open or footer hash), so a caller can prove
 * that a sync over an unchanged dataset touched no data page. */
typedef struct ard_sync_report {
    int64_t run_id;
    int64_t files_seen, files_added, files_changed, files_unchanged, files_removed, files_failed;
    int64_t spectra_rows, galaxy_rows; /* rows written by this run */
    int64_t data_reads, footer_reads;
    double seconds;
    char first_error[512]; /* "path: reason" of the first skipped file, "" when none */
} ard_sync_report;

/* Brings the index in line with the Parquet files under DATASET/tiles (recursively) and
 * DATASET/catalog:
 * new files are indexed, changed files (size, mtime, footer hash) re-indexed, vanished files
 * removed, unchanged files not opened. Each file's rows change in one transaction. A corrupt file
 * is recorded in sync_errors, counted in report->files_failed and skipped (its stale rows are
 * removed); the call still returns ARD_OK, so callers must check files_failed. A row is written to
 * sync_runs. With opts->size > 1 only this rank's share of the files is synced and vanished files
 * are not removed (no rank sees the whole list). Errors: ARD_ENOENT (no dataset), ARD_EDB,
 * ARD_EPERM (read-only handle), ARD_ENOMEM. */
ARD_API ard_status ard_index_sync(ard_index *idx, const char *dataset, const ard_sync_options *opts,
                                  ard_sync_report *report, ard_error *err);

/* ---- a sync whose tile reads happen in other processes --------------------------------------
 * One process writes the index; the footers and TARGETID columns of the tiles to (re)read are read
 * by others (`mpirun ard sync`: ard_cluster_sync). The writer lists and classifies the files as
 * always, then calls plan() once with the tiles it must read, in write order; plan sets local[i]
 * to 1 for the tiles it reads itself. For every other tile, window by window in order, receive()
 * returns the record ard_index_sync_read_tile made of it elsewhere. Catalog files are always read
 * by the writer (loading galaxies reads their data). Everything written is what a local read gives:
 * the same rows, file ids and sync_errors, so the index content equals a one-process sync's.
 * Records are native-endian: writer and readers run on machines of one architecture. */
struct ard_sync_remote {
    ard_status (*plan)(void *ctx, int64_t count, const char *const *paths, const int64_t *sizes,
                       int32_t *local, ard_error *err);
    /* Tile i of the plan (local[i] == 0): *record is ard_malloc'd and owned by the sync after the
     * call. An error here fails the sync (ARD_EIO for a lost reader). */
    ard_status (*receive)(void *ctx, int64_t i, uint8_t **record, size_t *len, ard_error *err);
    void *ctx;
    int32_t ranks; /* recorded as sync_runs.size */
};

/* The reader's side: reads tile `path` (relative to dataset) as sync does (footer hash, footer,
 * TARGETID column, ard.pixel_stats) into a record for ard_sync_remote.receive (*record
 * ard_malloc'd, the caller frees it). A file that cannot be read is not an error here: its status
 * and message travel in the record and land in sync_errors, as in a local sync. Errors: ARD_EINVAL
 * (NULL arguments), ARD_ENOMEM. Thread-safe. */
ARD_API ard_status ard_index_sync_read_tile(const char *dataset, const char *path, uint8_t **record,
                                            size_t *len, ard_error *err);

/* The [first, first + count) slice of `total` items owned by `rank` of `size` (contiguous blocks
 * whose lengths differ by at most one). ARD_EINVAL for rank outside [0, size). Thread-safe. */
ARD_API ard_status ard_index_partition(int64_t total, int32_t rank, int32_t size, int64_t *first,
                                       int64_t *count, ard_error *err);

/* Verifies that every indexed file is whole: its spectra rows equal files.num_rows, its row_groups
 * rows equal num_row_groups, its tile_pixel_stats rows (if any) add up to num_rows, a catalog
 * file's galaxies and catalog_summary rows add up to num_rows and its catalog_zhist counts to the
 * summary's redshift count, and no spectra/row_groups/galaxies/tile_pixel_stats/catalog_summary/
 * catalog_zhist row points to a missing file, and no files.path leaves the dataset (absolute or
 * with a ".." component). On SQLite it first runs PRAGMA integrity_check (every line other than
 * "ok" is a problem). `ard sync --check` runs it.
 * *bad_files receives the number of problems found. ARD_ECORRUPT (message names the first bad
 * file) or ARD_OK; ARD_EDB. */
ARD_API ard_status ard_index_check(ard_index *idx, int64_t *bad_files, ard_error *err);

/* ---- query: a predicate over galaxies -> a read plan ----------------------------------------- */

/* (ard_plan, ard_plan_chunk and the plan file format are in dataset.h.) */

/* Runs `SELECT ... FROM galaxies WHERE (where)` read-only and returns the spectra it selects as a
 * plan sorted by (file path, row group, row) for sequential reading. `where` must be one SQL
 * expression: a comment, unbalanced parentheses or quotes -> ARD_EINVAL; a ';' (a second statement)
 * or anything that would write, attach, load an extension or touch other than the index tables -> ARD_EPERM (SQLite:
 * read-only connection + authorizer; PostgreSQL: BEGIN READ ONLY). limit <= 0: no limit (the limit
 * counts spectra, in plan order). NULL or "" where: every spectrum.
 * Errors: ARD_EINVAL, ARD_EPERM, ARD_EDB (SQL error in the predicate: the message has the backend's
 * text), ARD_ENOMEM. *out is NULL on failure. */
ARD_API ard_status ard_index_query(ard_index *idx, const char *where, int64_t limit, ard_plan **out,
                                   ard_error *err);
/* Point look-ups: the plan of the spectra of `count` TARGETIDs (unknown ids are ignored; duplicates
 * collapse). */
ARD_API ard_status ard_index_query_targetids(ard_index *idx, const int64_t *targetids,
                                             int64_t count, ard_plan **out, ard_error *err);

// ---- the query stage ----------------------------------------------------------------------------

/* Caller-filled; ard_query_options_init zeroes it. Exactly one of where, targetids or
 * targetids_file may be set (none: every indexed spectrum). */
typedef struct ard_query_options {
    const char *dataset;      /* the dataset directory (may be NULL when dsn names the index) */
    const char *dsn;          /* as ard_index_open; NULL = DATASET/ard.db */
    const char *where;        /* SQL predicate over galaxies (ard_index_query's rules) */
    const int64_t *targetids; /* point look-ups: num_targetids ids (> 0) */
    int64_t num_targetids;
    const char *targetids_file; /* point look-ups from a text file: one decimal TARGETID per
                                   line, blank lines skipped ("/dev/stdin" reads a pipe) */
    int64_t limit;              /* with where: at most this many spectra (0 = no limit) */
} ard_query_options;

typedef struct ard_query_report {
    int64_t spectra, row_groups;
    int32_t files;
    double seconds; /* index open + query + plan */
} ard_query_report;

ARD_API void ard_query_options_init(ard_query_options *opts);
/* The query stage: opens the index read-only, plans the selected spectra into *out (free with
 * ard_plan_free) and fills report (may be NULL). Errors: ARD_EINVAL (more than one source,
 * limit < 0, a targetids file line that is not a TARGETID: the message names file and line), the
 * errors of ard_index_open, ard_index_query and ard_index_query_targetids, ARD_ENOENT/ARD_EIO for
 * the targetids file. *out is NULL on failure. */
ARD_API ard_status ard_query_run(const ard_query_options *opts, ard_plan **out,
                                 ard_query_report *report, ard_error *err);

// ---- generic read-only SQL (datasheet aggregates, tools) ----------------------------------------

/* Called once per result row; values are text (NULL for SQL NULL), borrowed for the call only.
 * Return nonzero to stop early. */
typedef int (*ard_index_row_fn)(void *ctx, int32_t num_columns, const char *const *names,
                                const char *const *values);
/* Runs one read-only SELECT with the same guards as ard_index_query. Errors as ard_index_query. */
ARD_API ard_status ard_index_select(ard_index *idx, const char *sql, ard_index_row_fn fn, void *ctx,
                                    ard_error *err);

typedef struct ard_index_column ard_index_column;

// ---- typed reads: catalog columns as typed arrays ----------------------------------------------

/* A table read out of the index: num_columns columns of num_rows rows, each an ard_index_column
 * (name, type, values, validity; defined below) whose arrays the set owns:
 *   ARD_INDEX_INT64   values: int64_t[num_rows]; a NULL cell reads 0
 *   ARD_INDEX_DOUBLE  values: double[num_rows]; a NULL cell reads NaN; a NaN the database holds
 *                     (PostgreSQL can store one; SQLite stores NaN as NULL) reads NaN with its
 *                     validity bit set, so NULL and NaN stay distinguishable
 *   ARD_INDEX_TEXT    values: const char *[num_rows], NUL-terminated UTF-8; NULL for a NULL cell
 * validity is never NULL here: 1 bit per row, LSB-first, 1 = valid (not SQL NULL).
 * Everything is freed by ard_column_set_free and borrowed until then. A set is immutable: any
 * number of threads may read it at once. */
typedef struct ard_column_set ard_column_set;

/* At most this many columns per read. */
#define ARD_INDEX_MAX_READ_COLUMNS 64

/* Catalog columns (the `galaxies` table: targetid, target_ra, target_dec, z, zerr, zwarn,
 * deltachi2, spectype, subtype, healpix, survey, program, desi_target, bgs_target, flux_g, flux_r,
 * flux_z, ebv, coadd_fiberstatus, target_class) of the galaxies selected by `where`, one row per
 * galaxy in ascending TARGETID order. `columns`: num_columns names, case-insensitive ("Z" or "z");
 * the set's column names are the index's (lower case) and their types are fixed by the catalog
 * schema (TARGETID, ZWARN, HEALPIX, DESI_TARGET, BGS_TARGET, COADD_FIBERSTATUS int64; SPECTYPE,
 * SUBTYPE, SURVEY, PROGRAM, TARGET_CLASS text; the rest double), on both backends alike.
 * `where` is a predicate over galaxies under exactly the guards of ard_index_query (NULL or "":
 * every galaxy); limit <= 0: no limit, else the first `limit` galaxies by TARGETID.
 * Values are bit-exact copies of what the database holds (no text round trip on SQLite; exact
 * shortest text on PostgreSQL).
 * Errors: ARD_EINVAL (no columns, more than ARD_INDEX_MAX_READ_COLUMNS, an unknown or repeated
 * column name: the message names it; a comment, unbalanced quotes or parentheses in the
 * predicate), ARD_EPERM (a ';' in the predicate, or a predicate that tries more than reading), ARD_EDB (SQL error in the predicate, or an index without that
 * column), ARD_ENOMEM. *out is NULL on failure. Thread-safety: as the handle. */
ARD_API ard_status ard_index_read_columns(ard_index *idx, const char *const *columns,
                                          int32_t num_columns, const char *where, int64_t limit,
                                          ard_column_set **out, ard_error *err);
/* The same columns for a list of TARGETIDs: the set has exactly `count` rows, row i describing
 * targetids[i] (input order, repeats kept). A TARGETID the catalog does not hold gives a row of
 * NULLs in every column (including a requested "targetid" column, which tells found from not
 * found). count == 0 gives an empty set. Errors: as ard_index_read_columns (no predicate), and
 * ARD_EINVAL for count < 0 or targetids NULL with count > 0. */
ARD_API ard_status ard_index_read_targetids(ard_index *idx, const char *const *columns,
                                            int32_t num_columns, const int64_t *targetids,
                                            int64_t count, ard_column_set **out, ard_error *err);
/* One read-only SELECT (the guards of ard_index_select) as a typed set: `types` gives the
 * ard_index_col_type of each of the num_types result columns (the statement must return exactly
 * that many, else ARD_EINVAL). A cell converts to its column's type: an integer to double exactly
 * when representable, a double to int64 only when it is integral (else ARD_EINVAL naming the
 * column), a number to text as its shortest exact decimal; a text cell into an int64/double column
 * -> ARD_EINVAL. Rows in the statement's order. Names are the statement's column names as the
 * backend reports them ("column0", "column1", ... when it returns no row). Errors: those of ard_index_select, ARD_EINVAL as above, ARD_ENOMEM. */
ARD_API ard_status ard_index_select_columns(ard_index *idx, const char *sql, const int32_t *types,
                                            int32_t num_types, ard_column_set **out,
                                            ard_error *err);
/* The tables of the index's schema (SQLite: the database; PostgreSQL: current_schema()), one text
 * column "name", lower case, sorted by strcmp. Errors: ARD_EDB, ARD_ENOMEM. */
ARD_API ard_status ard_index_tables(ard_index *idx, ard_column_set **out, ard_error *err);

ARD_API void ard_column_set_free(ard_column_set *set); /* accepts NULL */
ARD_API int64_t ard_column_set_num_rows(const ard_column_set *set);
ARD_API int32_t ard_column_set_num_columns(const ard_column_set *set);
/* Column c (NULL when c is out of range), borrowed until ard_column_set_free; it can be passed
 * unchanged to ard_index_write_table or ard_result_run_add_table. */
ARD_API const ard_index_column *ard_column_set_column(const ard_column_set *set, int32_t c);
/* Index of the column named `name` (case-insensitive), or -1. */
ARD_API int32_t ard_column_set_find(const ard_column_set *set, const char *name);
/* 1 when cell (row, c) is not SQL NULL; 0 for NULL or out of range. */
ARD_API int ard_column_set_valid(const ard_column_set *set, int32_t c, int64_t row);

// ---- result tables (science stages write back here) ---------------------------------------------

typedef enum ard_index_col_type {
    ARD_INDEX_INT64 = 0,  /* values: const int64_t * */
    ARD_INDEX_DOUBLE = 1, /* values: const double *  (NaN is stored as NULL) */
    ARD_INDEX_TEXT = 2    /* values: const char *const * (NULL entries are NULL) */
} ard_index_col_type;

/* One column of a result table; caller-filled. validity: NULL = all valid, else 1 bit per row
 * (LSB-first, 1 = valid). */
struct ard_index_column {
    const char *name; /* [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes */
    int32_t type;     /* ard_index_col_type */
    const void *values;
    const uint8_t *validity;
};

enum {
    ARD_INDEX_REPLACE = 0, /* drop and recreate the table */
    ARD_INDEX_APPEND = 1   /* create if missing, then append (columns must match) */
};

/* Writes `num_rows` rows of `num_columns` columns into result table `table` (e.g. "groups",
 * "galaxy_groups", "anomalies", "cosmic_web") in one transaction with the backend's bulk path
 * (COPY / prepared statements): readers see the old table or the new one, never a mix. A column
 * named "targetid" gets an index, so results join galaxies cheaply. Table and column names are
 * validated identifiers; the index's own tables (files, galaxies, spectra, ...) are refused.
 * Errors: ARD_EINVAL (names, types, mode), ARD_EPERM (read-only handle or reserved table), ARD_EDB.
 */
ARD_API ard_status ard_index_write_table(ard_index *idx, const char *table,
                                         const ard_index_column *columns, int32_t num_columns,
                                         int64_t num_rows, int32_t mode, ard_error *err);

// ---- result runs: one science-stage run, written all or nothing ---------------------------------

/* A stage run records (all or nothing):
 *   - results/<stage>-<run>-<table>.parquet for every table added (the library's Parquet writer,
 *     zstd; the column names as given; footer key-value metadata ard.stage, ard.run_id,
 *     ard.params (the JSON), ard.inputs_hash, ard.version);
 *   - with an index: the per-galaxy (or per-group) index tables named at ard_result_run_add_table,
 *     replaced by this run's rows (lower-cased column names plus a run_id TEXT column; a
 *     "targetid" column is indexed), so they always hold the latest committed run of the stage;
 *   - with an index: one row in <stage>_runs(run_id, stage, started, finished, ard_version,
 *     inputs_hash, params, tables, summary): every run, oldest first; tables is a JSON array of
 *     {"table","file","index_table","rows"}; summary the caller's JSON (ard_result_run_set_summary)
 *     or NULL.
 * How a run stays all or nothing: the Parquet files are written into the hidden staging directory
 * results/.run-<stage>-<run>/ while the index rows go into one open write transaction. Commit
 * makes the staged files durable, inserts the <stage>_runs row and commits the transaction (the
 * commit point with an index), writes the staging directory's COMMITTED marker (the commit point
 * without one), then renames the files into results/ and removes the staging directory. A process
 * killed anywhere leaves either the previous state (before the commit point: the staging directory
 * is deleted by the next recovery) or the complete new run (after it: the next recovery finishes
 * the renames). Recovery (ard_result_recover) runs in ard_result_run_begin, ard_result_run_drop
 * and on demand. Readers of the index never see a half run; a reader listing results/ between the
 * commit point and the end of the renames may miss files of the newest run.
 * Locking: the write transaction is open from the first ard_result_run_add_table with an index
 * table until commit/abort, so other writers (sync, other runs) wait for it; SQLite readers go on
 * reading the previous tables, PostgreSQL readers of a replaced table wait for the commit.
 * A run handle belongs to one thread. Several runs of a dataset may run at once (each holds a lock
 * on its staging directory, which recovery respects).
 * Test hook: when the environment variable ARD_RESULT_KILL_AT holds a positive integer k, the run
 * raises SIGKILL at its k-th step (steps: staging, each Parquet column chunk and file, each index
 * table, the runs row, the commit, the marker, each rename); the tests use it to kill a run at
 * every point. */
typedef struct ard_result_run ard_result_run;

/* Starts a run of `stage` ([a-z][a-z0-9_]*, at most 40 bytes, e.g. "fof", "anomaly") over
 * `dataset` (the directory whose results/ receives the files; created if missing). idx: the
 * dataset's index opened writable, or NULL for a Parquet-only run (no index tables, no
 * <stage>_runs row; ard_result_run_add_table's index_table is then ignored). run_id: 1-64 bytes of
 * [A-Za-z0-9_-], or NULL for "YYYYMMDDTHHMMSSZ" (UTC now). params_json: the run's parameters as a
 * JSON text (not parsed; NULL = "{}"), copied. Recovers interrupted runs of the dataset first.
 * idx (if any) must stay open and unused by others until commit/abort; one run per handle at a
 * time. Errors: ARD_EINVAL (names), ARD_EEXIST (the stage already has a run with that id, in
 * <stage>_runs or as results/<stage>-<run>-*.parquet), ARD_EPERM (read-only index), ARD_EIO
 * (results/ not writable), ARD_EDB, ARD_ENOMEM. *out is NULL on failure. */
ARD_API ard_status ard_result_run_begin(ard_index *idx, const char *dataset, const char *stage,
                                        const char *run_id, const char *params_json,
                                        ard_result_run **out, ard_error *err);
/* The run id (generated or given); borrowed until commit/abort. */
ARD_API const char *ard_result_run_id(const ard_result_run *run);
/* 1 when run_id can name a result run: 1-64 bytes of [A-Za-z0-9_-] (safe in file names and SQL
 * literals), else 0 (NULL included). Every stage checks its run ids with it, so that a bad id is
 * refused before any work. Thread-safe. */
ARD_API int32_t ard_result_run_id_valid(const char *run_id);
/* The run id ard_result_run_begin generates for a NULL run_id: UTC now as "YYYYMMDDTHHMMSSZ"
 * (16 bytes + NUL; a smaller cap truncates), for a stage that must name files (e.g. a model)
 * before its run begins. Thread-safe. */
ARD_API void ard_result_run_id_now(char *out, size_t cap);
/* Feeds `len` bytes of the run's inputs into its content hash (FNV-1a 64, recorded as 16 hex
 * digits in inputs_hash); call it with whatever identifies the inputs (e.g. the TARGETID and
 * coordinate arrays), in a deterministic order, before the first ard_result_run_add_table (each
 * file's ard.inputs_hash is the hash when it was added; <stage>_runs gets the final one). Never
 * fails. */
ARD_API void ard_result_run_hash_input(ard_result_run *run, const void *data, size_t len);
/* A JSON text stored in <stage>_runs.summary (e.g. counts); copied; NULL clears. ARD_ENOMEM. */
ARD_API ard_status ard_result_run_set_summary(ard_result_run *run, const char *summary_json,
                                              ard_error *err);
/* Adds table `table` ([a-z][a-z0-9_]*, at most 40 bytes; unique within the run) of num_rows rows:
 * written at once to the staged results/<stage>-<run>-<table>.parquet (a column with a validity
 * bitmap becomes OPTIONAL; text becomes a STRING column), and, when the run has an index and
 * index_table is not NULL, loaded into index table `index_table` (replacing it, inside the run's
 * transaction; the index's own tables are refused). The columns are read during the call only.
 * On failure the run is aborted (ard_result_run_abort must still be called to free it).
 * Errors: ARD_EINVAL (names, types, duplicate table), ARD_EPERM (reserved index table), ARD_EIO,
 * ARD_EDB, ARD_ENOMEM. */
ARD_API ard_status ard_result_run_add_table(ard_result_run *run, const char *table,
                                            const ard_index_column *columns, int32_t num_columns,
                                            int64_t num_rows, const char *index_table,
                                            ard_error *err);
/* Commits the run as described above and frees it (also on failure, after which nothing of the
 * run remains). Errors: ARD_EIO, ARD_EDB, ARD_ENOMEM, ARD_EINVAL (a run with no table). */
ARD_API ard_status ard_result_run_commit(ard_result_run *run, ard_error *err);
/* Discards the run (staged files removed, transaction rolled back) and frees it; accepts NULL. */
ARD_API void ard_result_run_abort(ard_result_run *run);

/* Finishes or rolls back the interrupted runs of `dataset` (see above). idx may be NULL (then only
 * Parquet-only runs are recovered; staging directories of indexed runs are left for a recovery
 * with the index). Errors: ARD_EIO, ARD_EDB. */
ARD_API ard_status ard_result_recover(ard_index *idx, const char *dataset, ard_error *err);
/* The stages that have a <stage>_runs table: one text column "stage", sorted. */
ARD_API ard_status ard_result_stages(ard_index *idx, ard_column_set **out, ard_error *err);
/* The runs of `stage`, oldest first (by `started`, microseconds UTC; rows without it first): text columns run_id, stage, started, finished, ard_version,
 * inputs_hash, params, tables, summary (NULL where a run recorded none, e.g. rows written before
 * result runs existed). An unknown stage gives ARD_ENOENT. Errors: ARD_EINVAL, ARD_EDB. */
ARD_API ard_status ard_result_runs(ard_index *idx, const char *stage, ard_column_set **out,
                                   ard_error *err);
/* Removes run `run_id` of `stage`: its <stage>_runs row and its rows in the index tables it wrote
 * (in one transaction; the tables then hold no run if it was the latest), then its files
 * results/<stage>-<run>-*.parquet. ARD_ENOENT when neither the row nor a file exists.
 * Errors: ARD_EINVAL, ARD_EPERM, ARD_EDB, ARD_EIO. *files_removed (may be NULL) counts files. */
ARD_API ard_status ard_result_run_drop(ard_index *idx, const char *dataset, const char *stage,
                                       const char *run_id, int64_t *files_removed, ard_error *err);

// ---- fetch: read the planned spectra straight from the tiles ------------------------------------

/* The plan reader (ard_fetch_open/next/close) is dataset.h's spectrum reader. */

/* Whole-plan exports. Parquet: the tile schema, i.e. TARGETID plus each column as list<float> or
 * list<uint8> as in the tiles (zstd, row groups cut by the writer, the first tile's
 * ard.grid/ard.version metadata), written atomically; columns NULL/0 means the full tile schema:
 * those of FLUX, IVAR, MASK that the first planned tile has (all three for an empty plan). NumPy:
 * columns NULL/0 means "FLUX" only; for out "PATH.npy" writes PATH.npy holding the first column
 * (rows x width, C order, '<f4' for float columns, '|u1' for uint8 ones such as MASK),
 * PATH.COLUMN.npy for every further column and PATH.TARGETID.npy ('<i8'), all atomically. Every
 * column must keep its kind in every tile, and for .npy all columns one width (ARD_EINVAL
 * otherwise). *rows_out (may be NULL) receives the number of spectra written. */
ARD_API ard_status ard_fetch_to_parquet(const char *dataset, const ard_plan *plan,
                                        const char *const *columns, int32_t num_columns,
                                        int32_t threads, const char *out_path, int64_t *rows_out,
                                        ard_error *err);
ARD_API ard_status ard_fetch_to_npy(const char *dataset, const ard_plan *plan,
                                    const char *const *columns, int32_t num_columns,
                                    int32_t threads, const char *out_path, int64_t *rows_out,
                                    ard_error *err);

// ---- the fetch stage: query + export in one call ------------------------------------------------

/* Output formats of the fetch stage (ard_fetch_options.format). */
#define ARD_FETCH_FORMAT_AUTO 0    /* by out_path's ending: ".parquet" or ".npy" */
#define ARD_FETCH_FORMAT_PARQUET 1 /* ard_fetch_to_parquet */
#define ARD_FETCH_FORMAT_NPY 2     /* ard_fetch_to_npy */

/* Where an export's decoded batches come from. By default the stage reads the plan itself
 * (ard_fetch_open / ard_fetch_next); a source replaces that reader, e.g. with batches decoded by
 * other processes (`mpirun ard fetch`: ranks decode byte shares of the plan, rank 0 writes; see
 * ard_cluster_fetch). The export calls open once, after planning, with the plan and the columns it
 * resolved (names borrowed for the call); then next until it returns ARD_EEOF: each batch must be
 * the one ard_fetch_next over the whole plan would give, in plan order (so the output is
 * byte-identical), valid until the following call; then close exactly once whenever open was
 * called, with the export's status so far (ARD_OK unless something failed). */
typedef struct ard_fetch_source {
    ard_status (*open)(void *ctx, const ard_plan *plan, const char *const *columns,
                       int32_t num_columns, ard_error *err);
    ard_status (*next)(void *ctx, const ard_fetch_batch **batch, ard_error *err);
    void (*close)(void *ctx, ard_status st);
    void *ctx;
} ard_fetch_source;

/* Caller-filled; ard_fetch_options_init zeroes it (and the embedded query options). The strings
 * and arrays are borrowed for the call only. */
typedef struct ard_fetch_options {
    ard_query_options query;    /* which spectra: dataset, dsn, where / targetids, limit */
    const char *out_path;       /* the output file (see ard_fetch_to_parquet / _to_npy) */
    const char *const *columns; /* tile columns to write; NULL/0: the format's default */
    int32_t num_columns;        /* 0..8 */
    int32_t threads;            /* decoding threads; <= 0: number of CPUs */
    int32_t format;             /* ARD_FETCH_FORMAT_* */
    /* NULL: read the plan here; else the batches come from source (above). After a failed plan
     * (no open call) the stage returns without touching it. */
    const ard_fetch_source *source;
} ard_fetch_options;

typedef struct ard_fetch_report {
    ard_query_report query; /* the plan: spectra, files, row groups, planning time */
    int64_t rows;           /* spectra written */
    double seconds;         /* the whole stage: plan + read + write */
} ard_fetch_report;

ARD_API void ard_fetch_options_init(ard_fetch_options *opts);
/* The fetch stage: plans with the query stage (the index opened read-only), then reads exactly the
 * planned row groups from the tiles in parallel and writes them to out_path (atomically) in the
 * chosen format; fills report (may be NULL; zeroed first). Not MPI-collective: it writes one file.
 * Thread-safe with other stages. Errors: ARD_EINVAL (no out_path, an unknown format or one the
 * ending does not tell, more than 8 columns), then those of ard_query_run and of
 * ard_fetch_to_parquet / ard_fetch_to_npy. */
ARD_API ard_status ard_fetch_run(const ard_fetch_options *opts, ard_fetch_report *report,
                                 ard_error *err);

#ifdef __cplusplus
}
#endif
#endif
