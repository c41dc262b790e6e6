/* The index schema (the same SQL on both backends), its version in `meta`, and migrations from
 * older versions. Version history: 1 = files, row_groups, spectra, galaxies, sync_runs,
 * sync_errors; 2 = adds column_stats (per row group min/max of every column with statistics);
 * 3 = adds tile_pixel_stats (per tile and TARGET_CLASS pixel completeness from the tile footer's
 * `ard.pixel_stats` key-value metadata) and catalog_summary (per catalog file aggregates kept by
 * sync so the datasheet never scans galaxies); migrating forgets footer hashes so the next sync
 * re-reads every file and fills them; 4 = spectra with its key columns first (file_id, row_group,
 * row_index, targetid): SQLite 3.40's `PRAGMA integrity_check` reports "NULL value in
 * spectra.targetid" for every row of a WITHOUT ROWID table whose NOT NULL column precedes the key
 * (a false alarm of that version); migrating rebuilds the table in one transaction; 5 = adds
 * row_groups.targetids (a tile row group's TARGETIDs in row order, rg_targetids.c) so that broad
 * query plans read 1 row per row group instead of seeking spectra once per spectrum; migrating
 * forgets footer hashes so that the next sync re-reads every file and fills it (until then plans
 * take the spectra table, plan_scan.c); 6 = spectra clustered by (targetid, file_id, row_group,
 * row_index): one b-tree instead of the table in file order plus the spectra_targetid index (a
 * fresh sync sorts its rows in memory and appends them; a file's rows are found through its
 * row_groups.targetids, sync_write.c); migrating rebuilds the table in one transaction; 7 = on a
 * backend that keeps spectra in a heap (PostgreSQL, idx_backend_ops.spectra_index), the 4-column
 * primary key becomes one b-tree on targetid: every reader of spectra seeks or scans by targetid
 * (plans, look-ups, the linkage, a file's rows through row_groups.targetids) or scans it whole
 * (check), nothing relies on the key's uniqueness (rows are unique by construction: one per file,
 * row group and row), and a fresh sync builds the 1-column b-tree in about half the time of the
 * 4-column key (bench/results/index.md, 2026-12-07); migrating drops the key and builds the index
 * in one transaction. SQLite's WITHOUT ROWID table is its key: unchanged (no-op). */
#include "index_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const idx_catalog_column ard__catalog_columns[] = {
    {"targetid", "TARGETID", IDX_INT},
    {"target_ra", "TARGET_RA", IDX_DOUBLE},
    {"target_dec", "TARGET_DEC", IDX_DOUBLE},
    {"z", "Z", IDX_DOUBLE},
    {"zerr", "ZERR", IDX_DOUBLE},
    {"zwarn", "ZWARN", IDX_INT},
    {"deltachi2", "DELTACHI2", IDX_DOUBLE},
    {"spectype", "SPECTYPE", IDX_TEXT},
    {"subtype", "SUBTYPE", IDX_TEXT},
    {"healpix", "HEALPIX", IDX_INT},
    {"survey", "SURVEY", IDX_TEXT},
    {"program", "PROGRAM", IDX_TEXT},
    {"desi_target", "DESI_TARGET", IDX_INT},
    {"bgs_target", "BGS_TARGET", IDX_INT},
    {"flux_g", "FLUX_G", IDX_DOUBLE},
    {"flux_r", "FLUX_R", IDX_DOUBLE},
    {"flux_z", "FLUX_Z", IDX_DOUBLE},
    {"ebv", "EBV", IDX_DOUBLE},
    {"coadd_fiberstatus", "COADD_FIBERSTATUS", IDX_INT},
    {"target_class", "TARGET_CLASS", IDX_TEXT},
};
const int32_t ard__num_catalog_columns =
    (int32_t)(sizeof ard__catalog_columns / sizeof ard__catalog_columns[0]);

int32_t ard__catalog_column(const char *name) {
    for (int32_t c = 0; c < ard__num_catalog_columns; c++) {
        if (strcmp(ard__catalog_columns[c].name, name) == 0) {
            return c;
        }
    }
    return -1;
}

static const char *const schema_v1 =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS files (id BIGINT PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
    " kind TEXT NOT NULL, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL, footer_hash TEXT,"
    " num_rows BIGINT NOT NULL, num_row_groups INTEGER NOT NULL, created_by TEXT,"
    " schema_fingerprint TEXT, grid TEXT, run_id BIGINT);"
    "CREATE TABLE IF NOT EXISTS row_groups (file_id BIGINT NOT NULL, row_group INTEGER NOT NULL,"
    " num_rows BIGINT NOT NULL, first_row BIGINT NOT NULL, byte_offset BIGINT NOT NULL,"
    " bytes BIGINT NOT NULL, targetid_min BIGINT, targetid_max BIGINT,"
    " PRIMARY KEY (file_id, row_group));"
    "CREATE TABLE IF NOT EXISTS spectra (targetid BIGINT NOT NULL, file_id BIGINT NOT NULL,"
    " row_group INTEGER NOT NULL, row_index BIGINT NOT NULL,"
    " PRIMARY KEY (file_id, row_group, row_index)) @WITHOUT_ROWID@;"
    "CREATE TABLE IF NOT EXISTS galaxies (targetid BIGINT PRIMARY KEY, target_ra DOUBLE PRECISION,"
    " target_dec DOUBLE PRECISION, z DOUBLE PRECISION, zerr DOUBLE PRECISION, zwarn BIGINT,"
    " deltachi2 DOUBLE PRECISION, spectype TEXT, subtype TEXT, healpix BIGINT, survey TEXT,"
    " program TEXT, desi_target BIGINT, bgs_target BIGINT, flux_g DOUBLE PRECISION,"
    " flux_r DOUBLE PRECISION, flux_z DOUBLE PRECISION, ebv DOUBLE PRECISION,"
    " coadd_fiberstatus BIGINT, target_class TEXT, catalog_file_id BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sync_runs (id BIGINT PRIMARY KEY, started TEXT, finished TEXT,"
    " ard_version TEXT, backend TEXT, rank INTEGER, size INTEGER, files_seen BIGINT,"
    " files_added BIGINT, files_changed BIGINT, files_unchanged BIGINT, files_removed BIGINT,"
    " files_failed BIGINT, spectra_rows BIGINT, galaxy_rows BIGINT, status TEXT);"
    "CREATE TABLE IF NOT EXISTS sync_errors (run_id BIGINT NOT NULL, path TEXT NOT NULL,"
    " status TEXT NOT NULL, message TEXT);";

static const char *const migrate_2_to_3 =
    "CREATE TABLE IF NOT EXISTS tile_pixel_stats (file_id BIGINT NOT NULL, target_class TEXT NOT "
    "NULL,"
    " num_rows BIGINT NOT NULL, pixels BIGINT NOT NULL, flux_null BIGINT NOT NULL,"
    " ivar_zero BIGINT NOT NULL, PRIMARY KEY (file_id, target_class));"
    /* catalog_summary: see sync_catalog.c */
    "CREATE TABLE IF NOT EXISTS catalog_summary (file_id BIGINT NOT NULL, target_class TEXT,"
    " spectype TEXT, num_rows BIGINT NOT NULL, zwarn_nonzero BIGINT NOT NULL,"
    " z_count BIGINT NOT NULL, z_min DOUBLE PRECISION, z_max DOUBLE PRECISION,"
    " ra_min DOUBLE PRECISION, ra_max DOUBLE PRECISION, dec_min DOUBLE PRECISION,"
    " dec_max DOUBLE PRECISION);"
    "CREATE TABLE IF NOT EXISTS catalog_zhist (file_id BIGINT NOT NULL, target_class TEXT,"
    " z_bin BIGINT NOT NULL, num BIGINT NOT NULL);"
    /* catalog_linkage: see linkage.c */
    "CREATE TABLE IF NOT EXISTS catalog_linkage (target_class TEXT,"
    " without_spectrum BIGINT NOT NULL);"
    "DELETE FROM meta WHERE key IN ('linkage_distinct_spectra', 'linkage_by_class');"
    "UPDATE files SET footer_hash = NULL, mtime_ns = -1;";

/* Rebuilt, not altered: a table's column order cannot change in place. The secondary index on
 * targetid goes with the old table and is re-created by every writable open. */
static const char *const migrate_3_to_4 =
    "DROP TABLE IF EXISTS spectra_v4;"
    "CREATE TABLE spectra_v4 (file_id BIGINT NOT NULL, row_group INTEGER NOT NULL,"
    " row_index BIGINT NOT NULL, targetid BIGINT NOT NULL,"
    " PRIMARY KEY (file_id, row_group, row_index)) @WITHOUT_ROWID@;"
    "INSERT INTO spectra_v4 (file_id, row_group, row_index, targetid)"
    " SELECT file_id, row_group, row_index, targetid FROM spectra;"
    "DROP TABLE spectra;"
    "ALTER TABLE spectra_v4 RENAME TO spectra;";

static const char *const migrate_4_to_5 = "UPDATE files SET footer_hash = NULL, mtime_ns = -1;";

/* Every column is a key column, in key order (no NOT NULL column before the key: see 4). */
static const char *const migrate_5_to_6 =
    "DROP TABLE IF EXISTS spectra_v6;"
    "DROP INDEX IF EXISTS spectra_targetid;"
    "CREATE TABLE spectra_v6 (targetid BIGINT NOT NULL, file_id BIGINT NOT NULL,"
    " row_group INTEGER NOT NULL, row_index BIGINT NOT NULL,"
    " PRIMARY KEY (targetid, file_id, row_group, row_index)) @WITHOUT_ROWID@;"
    "INSERT INTO spectra_v6 (targetid, file_id, row_group, row_index)"
    " SELECT targetid, file_id, row_group, row_index FROM spectra"
    " ORDER BY targetid, file_id, row_group, row_index;"
    "DROP TABLE spectra;"
    "ALTER TABLE spectra_v6 RENAME TO spectra;";

/* ops->spectra_index only (PostgreSQL): the key under either name it can have (spectra_v6_pkey
 * from migration 6's rebuild, spectra_pkey from a fresh load's ADD PRIMARY KEY), then the index.
 * ANALYZE samples 3,000 rows of spectra instead of 30,000 (statistics target 10): the 30,000 rows
 * were 30,000 random heap pages, 1.1-1.2 s of a fresh sync's ANALYZE at 6.4M rows against 0.1 s,
 * and the planner's estimates that matter here do not change (targetid all distinct, its
 * equality and IN lists an index scan; bench/results/index.md, 2026-12-07). */
static const char *const migrate_6_to_7 =
    "ALTER TABLE spectra DROP CONSTRAINT IF EXISTS spectra_v6_pkey;"
    "ALTER TABLE spectra DROP CONSTRAINT IF EXISTS spectra_pkey;"
    "ALTER TABLE spectra ALTER targetid SET STATISTICS 10, ALTER file_id SET STATISTICS 10,"
    " ALTER row_group SET STATISTICS 10, ALTER row_index SET STATISTICS 10;";

static const char *const migrate_1_to_2 =
    "CREATE TABLE IF NOT EXISTS column_stats (file_id BIGINT NOT NULL, row_group INTEGER NOT NULL,"
    " column_name TEXT NOT NULL, num_values BIGINT, null_count BIGINT,"
    " min_value DOUBLE PRECISION, max_value DOUBLE PRECISION,"
    " PRIMARY KEY (file_id, row_group, column_name));";

/* Secondary indexes: dropped before a fresh bulk load and rebuilt after it (sorted builds are far
 * faster than row-by-row maintenance), and re-created by every writable open, so an index killed
 * between the two is only slower, never wrong. */
/* (galaxies.catalog_file_id has no index: a changed catalog file costs one scan of galaxies, which
 * is cheaper than keeping a 7-value index sorted over millions of rows on every fresh load.) */
/* galaxies_z_tid covers targetid (ops->include_targetid), so that a predicate over z alone is
 * answered from the index (PostgreSQL: an index-only scan, where the plain (z) index it replaces,
 * galaxies_z, fetched and rechecked the heap page of every match). */
typedef struct secondary_index {
    const char *table, *name, *on;
    int32_t covers_targetid;
    const char *replaces; /* an index this one replaced, dropped with it, or NULL */
} secondary_index;
static const secondary_index secondary_indexes[] = {
    {"galaxies", "galaxies_z_tid", "galaxies (z)", 1, "galaxies_z"},
};

ard_status ard__schema_indexes(ard_index *idx, int create, const char *table, ard_error *err) {
    ard_status st = ARD_OK;
    for (size_t i = 0; i < sizeof secondary_indexes / sizeof secondary_indexes[0] && st == ARD_OK;
         i++) {
        const secondary_index *ix = &secondary_indexes[i];
        if (table && strcmp(table, ix->table) != 0) {
            continue;
        }
        if (create) {
            st = ard__idx_execf(idx, err, "CREATE INDEX IF NOT EXISTS %s ON %s%s", ix->name, ix->on,
                                ix->covers_targetid ? idx->be->ops->include_targetid : "");
        } else {
            st = ard__idx_execf(idx, err, "DROP INDEX IF EXISTS %s", ix->name);
        }
        if (st == ARD_OK && ix->replaces) {
            st = ard__idx_execf(idx, err, "DROP INDEX IF EXISTS %s", ix->replaces);
        }
    }
    return st;
}

/* The schema text for this backend: "BIGINT PRIMARY KEY" and "@WITHOUT_ROWID@" become the
 * backend's integer key type and clustering suffix (idx_backend_ops). */
static char *backend_sql(const ard_index *idx, const char *sql) {
    const idx_backend_ops *ops = idx->be->ops;
    ard_buf b;
    ard_buf_init(&b);
    for (const char *p = sql; *p;) {
        if (strncmp(p, "BIGINT PRIMARY KEY", 18) == 0) {
            ard_buf_appendf(&b, "%s", ops->integer_pk);
            p += 18;
        } else if (strncmp(p, "@WITHOUT_ROWID@", 15) == 0) {
            ard_buf_appendf(&b, "%s", ops->without_rowid);
            p += 15;
        } else {
            ard_buf_append(&b, p++, 1);
        }
    }
    ard_buf_append(&b, "", 1);
    if (b.failed) {
        ard_buf_reset(&b);
        return NULL;
    }
    return (char *)b.data;
}

static int text_row(void *ctx, int32_t n, const char *const *names, const char *const *vals) {
    (void)names;
    int64_t *v = ctx;
    *v = n > 0 && vals[0] ? strtoll(vals[0], NULL, 10) : -1;
    return 1;
}

static int find_meta(void *ctx, int32_t n, const char *const *names, const idx_value *v) {
    (void)names;
    int64_t *found = ctx;
    if (n > 0 && v[0].type == IDX_TEXT && strcmp(v[0].s, "meta") == 0) {
        *found = 1;
        return 1;
    }
    return 0;
}

/* The stored version: -1 when there is no meta table or no row (a fresh database). */
static ard_status stored_version(ard_index *idx, int64_t *version, ard_error *err) {
    int64_t has_meta = 0;
    ard_status st = idx->be->ops->select_values(idx->be, idx->be->ops->list_tables_sql, 0,
                                                find_meta, &has_meta, err);
    *version = -1;
    if (st != ARD_OK || !has_meta) {
        return st;
    }
    return idx->be->ops->select(idx->be, "SELECT value FROM meta WHERE key = 'schema_version'", 0,
                                text_row, version, err);
}

static int find_column(void *ctx, int32_t n, const char *const *names, const idx_value *v) {
    (void)names;
    const char **want = ctx; /* table, column; table becomes NULL when found */
    if (n > 1 && v[0].type == IDX_TEXT && v[1].type == IDX_TEXT && strcmp(v[0].s, want[0]) == 0 &&
        strcmp(v[1].s, want[1]) == 0) {
        want[0] = NULL;
        return 1;
    }
    return 0;
}

/* ALTER TABLE table ADD COLUMN unless the column is there (an index stamped older than its
 * tables, as a failed or partial migration leaves). */
static ard_status add_column(ard_index *idx, const char *table, const char *column,
                             const char *type, ard_error *err) {
    const char *want[2] = {table, column};
    ard_status st = idx->be->ops->select_values(idx->be, idx->be->ops->list_columns_sql, 0,
                                                find_column, want, err);
    if (st != ARD_OK || !want[0]) {
        return st;
    }
    return ard__idx_execf(idx, err, "ALTER TABLE %s ADD COLUMN %s %s", table, column, type);
}

static ard_status create_or_migrate(ard_index *idx, int64_t version, ard_error *err) {
    ard_status st = ard__idx_exec(idx, "BEGIN", err);
    if (st == ARD_OK && version < 1) {
        char *sql = backend_sql(idx, schema_v1);
        st = sql ? ard__idx_exec(idx, sql, err) : ard_error_set(err, ARD_ENOMEM, "out of memory");
        ard_free(sql);
    }
    if (st == ARD_OK && version < 2) {
        st = ard__idx_exec(idx, migrate_1_to_2, err);
    }
    if (st == ARD_OK && version < 3) {
        st = ard__idx_exec(idx, migrate_2_to_3, err);
    }
    if (st == ARD_OK && version < 4) {
        char *sql = backend_sql(idx, migrate_3_to_4);
        st = sql ? ard__idx_exec(idx, sql, err) : ard_error_set(err, ARD_ENOMEM, "out of memory");
        ard_free(sql);
    }
    if (st == ARD_OK && version < 5) {
        st = add_column(idx, "row_groups", "targetids", "TEXT", err);
        st = st == ARD_OK ? ard__idx_exec(idx, migrate_4_to_5, err) : st;
    }
    if (st == ARD_OK && version < 6) {
        char *sql = backend_sql(idx, migrate_5_to_6);
        st = sql ? ard__idx_exec(idx, sql, err) : ard_error_set(err, ARD_ENOMEM, "out of memory");
        ard_free(sql);
    }
    if (st == ARD_OK && version < 7 && idx->be->ops->spectra_index) {
        st = ard__idx_execf(idx, err, "%s CREATE INDEX IF NOT EXISTS %s", migrate_6_to_7,
                            idx->be->ops->spectra_index);
    }
    if (st == ARD_OK) {
        st = ard__idx_exec(idx, "DELETE FROM meta WHERE key IN ('schema_version', 'created_by')",
                           err);
    }
    if (st == ARD_OK) {
        st = ard__idx_execf(idx, err,
                            "INSERT INTO meta (key, value) VALUES ('schema_version', '%d'),"
                            " ('created_by', 'ard %s')",
                            ARD_INDEX_SCHEMA_VERSION, ARD_VERSION_STRING);
    }
    if (st == ARD_OK) {
        return ard__idx_exec(idx, "COMMIT", err);
    }
    ard__idx_exec(idx, "ROLLBACK", NULL);
    return st;
}

static ard_status schema_prepare_locked(ard_index *idx, ard_error *err) {
    int64_t version = -1;
    ard_status st = stored_version(idx, &version, err);
    if (st != ARD_OK) {
        return st;
    }
    if (version > ARD_INDEX_SCHEMA_VERSION) {
        return ard_error_set(
            err, ARD_ENOTSUP,
            "the index has schema version %lld, newer than this ard understands (%d);"
            " upgrade ard",
            (long long)version, ARD_INDEX_SCHEMA_VERSION);
    }
    if (version < ARD_INDEX_SCHEMA_VERSION) {
        if (idx->read_only) {
            return ard_error_set(err, version < 0 ? ARD_ENOENT : ARD_ENOTSUP,
                                 version < 0 ? "the database holds no ard index (run `ard sync`)"
                                             : "the index has schema version %lld, older than %d; "
                                               "run `ard sync` to migrate it",
                                 (long long)version, ARD_INDEX_SCHEMA_VERSION);
        }
        st = create_or_migrate(idx, version, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    idx->schema_version = ARD_INDEX_SCHEMA_VERSION;
    return idx->read_only ? ARD_OK : ard__schema_indexes(idx, 1, NULL, err);
}

/* Concurrent writable opens of a fresh PostgreSQL schema (three `ard sync` at once) would race in
 * CREATE TABLE IF NOT EXISTS ("duplicate key value violates unique constraint
 * pg_type_typname_nsp_index"): the backend's schema lock serialises them, and the version is read
 * under it, so the later ones see the schema the first created. */
ard_status ard__schema_prepare(ard_index *idx, ard_error *err) {
    const idx_backend_ops *ops = idx->be->ops;
    int locked = !idx->read_only && ops->schema_lock_sql;
    ard_status st = locked ? ard__idx_exec(idx, ops->schema_lock_sql, err) : ARD_OK;
    if (st == ARD_OK) {
        st = schema_prepare_locked(idx, err);
    }
    if (locked) {
        ard__idx_exec(idx, ops->schema_unlock_sql, NULL);
    }
    return st;
}
