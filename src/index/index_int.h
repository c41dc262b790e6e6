/* Private header of the index module: the backend interface (SQLite, PostgreSQL), the handle, the
 * schema, and helpers shared by sync, query and fetch. */
#ifndef ARD_INDEX_INT_H
#define ARD_INDEX_INT_H

#include "ard/index.h"

#include <stdint.h>

/* A value handed to a bulk load. */
typedef enum idx_vtype { IDX_NULL = 0, IDX_INT = 1, IDX_DOUBLE = 2, IDX_TEXT = 3 } idx_vtype;
typedef struct idx_value {
    idx_vtype type;
    int64_t i;
    double d;
    const char *s;
} idx_value;

/* A column handed whole to a bulk load (bulk_columns), laid out as a decoded Parquet column chunk:
 * the values dense, nulls skipped; row r is NULL when def && def[r] < max_def. */
typedef enum idx_col_kind {
    IDX_COL_NULL = 0, /* every row NULL */
    IDX_COL_CONST,    /* every row the integer `constant` */
    IDX_COL_BOOL,     /* uint8_t 0 / 1 */
    IDX_COL_INT32,
    IDX_COL_INT64,
    IDX_COL_FLOAT,
    IDX_COL_DOUBLE,
    IDX_COL_TEXT, /* value i: data[offsets[i] .. offsets[i + 1]) */
    IDX_COL_FIXED /* value i: `width` bytes at values + i * width */
} idx_col_kind;
typedef struct idx_column {
    int32_t kind;  /* idx_col_kind */
    int32_t width; /* IDX_COL_FIXED */
    int16_t max_def;
    const int16_t *def; /* NULL: no row is NULL */
    const void *values;
    const int64_t *offsets;
    const uint8_t *data;
    int64_t constant;
} idx_column;

/* A text column of a row group as small codes (sync_catalog.c): code[r] indexes names, one entry
 * per distinct value in order of first appearance (its text up to the first NUL, as a row's cell
 * reads; NULL for SQL NULL). The aggregates look each distinct value up once instead of hashing
 * every row's text. */
typedef struct idx_text_codes {
    const int32_t *code;
    char *const *names;
    int32_t count;
} idx_text_codes;

/* idx_column.c: text value j (IDX_COL_TEXT or IDX_COL_FIXED) as a row's cell reads it: its bytes up
 * to the first NUL (the cell is a C string); *len: their count. */
const uint8_t *ard__column_text(const idx_column *c, int64_t j, size_t *len);

typedef struct idx_backend idx_backend;

/* Row callback of integer SELECTs (NULL reads as 0); nonzero stops. */
typedef int (*idx_int_row_fn)(void *ctx, int32_t num_columns, const int64_t *values);
/* Row callback of typed SELECTs (names: the result's column names); nonzero stops. */
typedef int (*idx_value_row_fn)(void *ctx, int32_t num_columns, const char *const *names,
                                const idx_value *values);

/* The backend interface. Every function returns ARD_OK or ARD_EDB with the backend's message. */
typedef struct idx_backend_ops {
    /* Like select, with every column read as an integer (no text round trip). */
    ard_status (*select_ints)(idx_backend *be, const char *sql, int guarded, idx_int_row_fn fn,
                              void *ctx, ard_error *err);
    const char *name;
    /* One or more statements without results (DDL, BEGIN/COMMIT, DELETE ...). */
    ard_status (*exec)(idx_backend *be, const char *sql, ard_error *err);
    /* One SELECT; text values to fn. guarded: run under the read-only guards (user SQL). */
    ard_status (*select)(idx_backend *be, const char *sql, int guarded, ard_index_row_fn fn,
                         void *ctx, ard_error *err);
    /* Bulk load into table(columns): PostgreSQL COPY, SQLite one prepared INSERT. */
    ard_status (*bulk_begin)(idx_backend *be, const char *table, const char *const *columns,
                             int32_t num_columns, ard_error *err);
    ard_status (*bulk_row)(idx_backend *be, const idx_value *values, ard_error *err);
    ard_status (*bulk_end)(idx_backend *be, ard_error *err);
    /* Rows [0, rows) of the bulk load's columns given whole (cols: bulk_begin's columns, each
     * holding a value for every row it does not mark NULL): what bulk_row would send for the same
     * cells (a cell's value as an idx_value: text up to its first NUL, NaN as NULL), rendered
     * column by column without a per-cell idx_value. ARD_ENOTSUP, before anything is sent, when a
     * column's kind has no direct path into its SQL type (the caller then sends the rows through
     * bulk_row, which converts them or reports why not). NULL when the backend has no such path. */
    ard_status (*bulk_columns)(idx_backend *be, const idx_column *cols, int64_t rows,
                               ard_error *err);
    /* A bulk load into an empty `table` inside the caller's transaction that pays for its primary
     * key (`key`: a column, or columns separated by commas; NULL: none) and its other indexes once,
     * not per row: phase 1 empties the table and drops the key and the indexes (bulk loads into it
     * then maintain none; PostgreSQL: COPY FREEZE, pages written all-visible), phase 2 builds the
     * key (ARD_EDB on a duplicate: the caller rolls back) and the indexes again, phase 0 forgets a
     * load the caller rolls back. NULL when the backend has no cheaper path (SQLite). */
    ard_status (*bulk_fresh)(idx_backend *be, const char *table, const char *key, int32_t phase,
                             ard_error *err);
    /* SQL type names of this backend. */
    const char *type_double;
    void (*close)(idx_backend *be);
    /* One SELECT; each row's values to fn typed as the backend holds them (IDX_NULL, IDX_INT,
     * IDX_DOUBLE with NaN/Inf kept, IDX_TEXT borrowed for the call). */
    ard_status (*select_values)(idx_backend *be, const char *sql, int guarded, idx_value_row_fn fn,
                                void *ctx, ard_error *err);
    /* The dialect, as data: every SQL difference between the backends lives here. */
    const char *begin_write_sql; /* a writer's BEGIN that serialises writers */
    const char *analyze_sql;     /* fresh planner statistics after a bulk load */
    /* the same for a sync that changed only tile / only catalog files (NULL: analyze_sql) */
    const char *analyze_tiles_sql, *analyze_catalog_sql;
    const char *list_tables_sql;  /* one text column: the tables of the current schema */
    const char *list_columns_sql; /* two text columns: table and column names of the schema */
    const char *integer_pk;       /* the type of an integer primary key */
    const char *without_rowid;    /* suffix of a table clustered by its key, or "" */
    const char *collate_bytes;    /* suffix of an ORDER BY text term sorting as strcmp does */
    const char *include_targetid; /* suffix of a galaxies index making it cover targetid */
    /* Since schema 7, "name ON spectra (columns)" of the b-tree that keys a spectra table kept in a
     * heap instead of its primary key (PostgreSQL; schema.c); NULL: spectra is clustered by its
     * primary key (targetid, file_id, row_group, row_index) (SQLite, WITHOUT ROWID). */
    const char *spectra_index;
    /* Held around a writable open's schema creation/migration so that concurrent opens of a fresh
     * database do not race (PostgreSQL's CREATE ... IF NOT EXISTS does not serialise); NULL when
     * the backend's transactions suffice (SQLite). */
    const char *schema_lock_sql, *schema_unlock_sql;
    /* The one-sync-at-a-time lock (sync_lock.c). A backend whose database is a local file names it
     * (database_file_sql: one text column, "" for an in-memory database) and the sync takes an
     * flock beside it; otherwise a session lock in SQL: try (one integer column, 1 when taken),
     * wait for it, and release it. */
    const char *database_file_sql;
    const char *sync_try_lock_sql, *sync_lock_sql, *sync_unlock_sql;
    /* The engine's own check of the database (rows of "ok" or a problem), or NULL when it has
     * none (ard_index_check). */
    const char *integrity_check_sql;
    int32_t concurrent_writers; /* ard_index_concurrent_writers */
    /* Run around the secondary index builds after a sync's bulk load (sync.c), or NULL. */
    const char *index_build_begin_sql, *index_build_end_sql;
    /* The journal of a fresh load (sync_fresh.c), best effort, or NULL: phase 1 before its outer
     * transaction begins, 2 before the sorted rows are appended, 3 after, 0 after the load
     * committed or rolled back. SQLite: a rollback journal instead of the WAL when no other
     * connection has the database open (pages appended past the file's end are written once,
     * not to the WAL and again by the checkpoint; the journal holds only the few pages that
     * existed), and a small page cache for the append (full pages go to the file as it runs
     * instead of being malloc'd and held to the commit). */
    void (*fresh_journal)(idx_backend *be, int32_t phase);
} idx_backend_ops;

struct idx_backend {
    const idx_backend_ops *ops;
};

typedef struct idx_fresh_spectra idx_fresh_spectra;
typedef struct idx_cat_tids idx_cat_tids;
struct ard_index {
    idx_backend *be;
    int32_t read_only;
    int32_t schema_version;
    char *dataset;            /* may be NULL */
    int64_t linkage_budget;   /* sync: TARGETIDs it may still update by delta (linkage.c) */
    int32_t sync_threads;     /* sync: the run's threads (> 1: the catalog decodes ahead) */
    idx_fresh_spectra *fresh; /* sync: the fresh load in progress (sync_fresh.c), or NULL */
    idx_cat_tids *cat_tids;   /* sync: catalog TARGETIDs by class (linkage_fresh.c), or NULL */
};

/* Backend constructors. ard__sqlite_open: path; read_only opens the file read-only (it must exist).
 * ard__pg_open: a libpq conninfo (URI or key=value; "" = environment only). */
ard_status ard__sqlite_open(const char *path, int32_t read_only, idx_backend **out, ard_error *err);
ard_status ard__pg_open(const char *conninfo, int32_t read_only, idx_backend **out, ard_error *err);

/* schema.c: creates or migrates (writable) / checks (read-only) the schema; sets
 * idx->schema_version. */
ard_status ard__schema_prepare(ard_index *idx, ard_error *err);
/* Creates (create = 1) or drops the secondary indexes of `table` (NULL: all; see schema.c). */
ard_status ard__schema_indexes(ard_index *idx, int create, const char *table, ard_error *err);

/* Helpers over the backend. */
ard_status ard__idx_exec(ard_index *idx, const char *sql, ard_error *err);
ard_status ard__idx_execf(ard_index *idx, ard_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Runs a one-value SELECT; *out = its integer value (0 when NULL or no row). */
ard_status ard__idx_int(ard_index *idx, const char *sql, int64_t *out, ard_error *err);

/* 1 when s is a plain identifier [A-Za-z_][A-Za-z0-9_]{0,62}. */
int ard__idx_identifier(const char *s);
/* Checks that a user predicate is one expression: no ';', no comments, balanced quotes and
 * parentheses. ARD_EINVAL with a message. */
ard_status ard__predicate_check(const char *where, ard_error *err);

/* footer_hash.c: reads a Parquet file's footer bytes (without decoding them) and returns their FNV-1a 64 hash as
 * 16 hex digits. ARD_ECORRUPT for a file that does not end in a footer. */
ard_status ard__footer_hash(const char *path, char out[17], ard_error *err);
/* "DATASET/rel" into a new string (caller frees). */
char *ard__join_path(const char *dir, const char *rel);
/* sync_lock.c: one unpartitioned sync at a time per index (flock beside a SQLite file, an
 * advisory lock on PostgreSQL); waiting is announced through opts->on_notice. */
typedef struct sync_lock {
    int fd;
    int sql_held; /* the backend's SQL session lock is held */
} sync_lock;
ard_status ard__sync_lock(ard_index *idx, const ard_sync_options *opts, sync_lock *lock,
                          ard_error *err);
void ard__sync_unlock(ard_index *idx, sync_lock *lock);

/* catalog_summary.c: per catalog file aggregates (catalog_summary, catalog_zhist), fed row by row
 * while the file loads and written beside its galaxies rows. */
typedef struct idx_cat_summary idx_cat_summary;
ard_status ard__cat_summary_new(idx_cat_summary **out, ard_error *err);
void ard__cat_summary_free(idx_cat_summary *s);
/* Adds one galaxies row (values in ard__catalog_columns order); reads only the columns that
 * ard__cat_summary_columns marks (read[c] = 1 for each; the others may be NULL). */
void ard__cat_summary_columns(uint8_t *read);
ard_status ard__cat_summary_add(idx_cat_summary *s, const idx_value *row, ard_error *err);
/* The same for rows [0, rows) given whole: cols in ard__catalog_columns order (only the numeric
 * columns add reads are used), the class and spectype columns as codes. */
ard_status ard__cat_summary_add_rows(idx_cat_summary *s, const idx_column *cols,
                                     const idx_text_codes *cls, const idx_text_codes *spectype,
                                     int64_t rows, ard_error *err);
/* Writes the rows of file_id (inside the caller's transaction). */
ard_status ard__cat_summary_write(ard_index *idx, const idx_cat_summary *s, int64_t file_id,
                                  ard_error *err);
/* The catalog_zhist bin of z (see ARD_INDEX_ZBIN_WIDTH), clamped to +-2^50. */
int64_t ard__zbin(double z);

/* plan.c: builds a plan from the rows of a plan SELECT (see query.c). */
typedef struct plan_builder plan_builder;
ard_status ard__plan_builder_new(plan_builder **out, ard_error *err);
/* Phase 1 rows (select_ints): file_id, row_group, row_index, targetid. */
int ard__plan_builder_row(void *ctx, int32_t num_columns, const int64_t *values);
/* Phase 2: looks up the row groups and paths of the rows' files. ARD_EDB when a row's row group has
 * vanished meanwhile (a concurrent sync): the caller runs the query again. */
ard_status ard__plan_builder_resolve(plan_builder *b, ard_index *idx, ard_error *err);
ard_status ard__plan_builder_finish(plan_builder *b, ard_plan **out, ard_error *err);
/* Rows whose row group is known (no phase 2): begin_rg names the row group (path copied), then
 * add_row adds rows of it. Both return nonzero when out of memory. */
typedef struct idx_plan_rg {
    int64_t file_id;
    const char *path;
    int64_t row_group, first_row, byte_offset, bytes;
} idx_plan_rg;
int ard__plan_builder_begin_rg(plan_builder *b, const idx_plan_rg *g);
/* Room for `rows` rows (a known result size: no regrowth). Nonzero when out of memory. */
int ard__plan_builder_reserve(plan_builder *b, int64_t rows);
int ard__plan_builder_add_row(plan_builder *b, int64_t row, int64_t targetid);
void ard__plan_builder_free(plan_builder *b);

/* rg_targetids.c: row_groups.targetids, a tile row group's TARGETIDs in row order as text (first
 * value, then differences). decode: exactly n ids into out; 0, or -1 when the text is malformed or
 * holds another count. */
void ard__rg_targetids_encode(ard_buf *out, const int64_t *ids, int64_t n);
int ard__rg_targetids_decode(const char *s, size_t len, int64_t *out, int64_t n);
/* The spectra rows of some tile files as (file_id, targetid) pairs, read from their
 * row_groups.targetids (since schema 6 spectra is keyed by targetid: a file's rows are found by
 * seeking its TARGETIDs). A tile whose row group has no stored TARGETIDs (an index synced before
 * schema 5) lands in `unknown` instead: its rows are found by a scan. Catalog files have no spectra
 * rows and are skipped. reset frees (safe twice). */
typedef struct idx_file_tids {
    int64_t *file_ids, *tids; /* pairs, grouped by file */
    int64_t count, cap;
    int64_t *unknown; /* distinct file ids */
    int64_t num_unknown, cap_unknown;
    int failed; /* out of memory while collecting */
} idx_file_tids;
ard_status ard__rg_targetids_of_files(ard_index *idx, const int64_t *ids, int64_t count,
                                      idx_file_tids *out, ard_error *err);
void ard__file_tids_reset(idx_file_tids *t);
/* plan_scan.c: the plan of `where` (NULL: every spectrum) from the selected TARGETIDs and one pass
 * over row_groups.targetids, or through point look-ups when few are selected (see there). */
ard_status ard__plan_scan(ard_index *idx, const char *where, ard_plan **out, ard_error *err);
/* id_sort.c: LSD radix sort of n int64 (tmp holds n; 0, or -1 when out of memory, v unchanged);
 * sort_unique sorts ids and drops repeats, returning how many remain (-1: out of memory, ids
 * unchanged). */
int ard__ids_radix_sort(int64_t *v, int64_t *tmp, int64_t n);
/* One LSD pass's histogram of n keys (buckets counts) into bucket offsets; 0 (count untouched)
 * when every key has the digit `digit`, so the pass can be skipped. */
int ard__radix_offsets(int64_t *count, int32_t buckets, int64_t n, uint64_t digit);
int64_t ard__ids_sort_unique(int64_t *ids, int64_t n);
/* The same with the caller's scratch (tmp holds n): no allocation but the radix histograms. */
int64_t ard__ids_sort_unique_in(int64_t *ids, int64_t *tmp, int64_t n);
/* query.c: the plan of count sorted, distinct TARGETIDs through the spectra TARGETID index. */
ard_status ard__plan_sorted_ids(ard_index *idx, const int64_t *ids, int64_t count, ard_plan **out,
                                ard_error *err);

/* The galaxies columns (lower case) and their SQL kinds, in table order. */
typedef struct idx_catalog_column {
    const char *name;    /* SQL name, lower case */
    const char *parquet; /* column name in catalog files (DESI upper case) */
    idx_vtype type;
} idx_catalog_column;
extern const idx_catalog_column ard__catalog_columns[];
extern const int32_t ard__num_catalog_columns;
/* The index of a galaxies column in ard__catalog_columns, or -1. */
int32_t ard__catalog_column(const char *name);

/* ---- sync (sync.c, sync_read.c, sync_write.c, sync_pixel_stats.c) ---- */
enum { SYNC_TILE = 0, SYNC_CATALOG = 1 };

/* One TARGET_CLASS of a tile's ard.pixel_stats (sync_pixel_stats.c). */
#define SYNC_PIXEL_CLASSES 5 /* BGS, LRG, ELG, QSO, OTHER */
typedef struct sync_pixel_class {
    char name[16];
    int64_t rows, pixels, flux_null, ivar_zero;
} sync_pixel_class;

/* One file that sync must (re)read. */
typedef struct sync_item {
    const char *rel; /* path relative to the dataset (borrowed from the walk list) */
    char *full;      /* dataset/rel */
    int32_t kind;    /* SYNC_TILE or SYNC_CATALOG */
    int64_t size, mtime_ns;
    int64_t old_id; /* files.id of the previous version, 0 when new */
    int64_t new_id;
    ard_parquet_file *pq;
    char hash[17], fingerprint[17];
    int64_t *targetids; /* tiles: every row's TARGETID in file order */
    int64_t num_rows;
    sync_pixel_class pixel_classes[SYNC_PIXEL_CLASSES]; /* tiles: from ard.pixel_stats */
    int32_t num_pixel_classes;                          /* 0: the tile has no statistics */
    int64_t data_reads, footer_reads;
    ard_status st; /* ARD_OK, or why the file is skipped */
    char msg[512];
    int64_t remote; /* 0: read here; j + 1: entry j of ard_sync_remote's plan (sync_remote.c) */
} sync_item;

/* Reads footer (+ TARGETID for tiles) into it; failures land in it->st/msg. Thread-safe per item.
 */
void ard__sync_read_item(sync_item *it);
void ard__sync_item_reset(sync_item *it);
/* sync_remote.c: hands the pending tiles to opts->remote->plan (marks the remote ones), and fills
 * the remote items of a window from their records. */
ard_status ard__sync_remote_plan(const ard_sync_remote *remote, sync_item *items, int64_t count,
                                 ard_error *err);
ard_status ard__sync_remote_receive(const ard_sync_remote *remote, sync_item *items, int64_t count,
                                    ard_error *err);
/* sync_catalog.c: loads the catalog items of a window (it->st == ARD_OK, kind SYNC_CATALOG) into
 * galaxies, inside the caller's transaction; into an empty galaxies through ops->bulk_fresh. Rows
 * written are added to *galaxy_rows. */
ard_status ard__sync_catalog_files(ard_index *idx, sync_item *items, int64_t count,
                                   int64_t *galaxy_rows, int64_t *data_reads, ard_error *err);
/* Writes a window of read items in one transaction (each file whole or not at all). run_id for
 * provenance; rows written are added to *spectra_rows / *galaxy_rows. */
ard_status ard__sync_write_items(ard_index *idx, sync_item *items, int64_t count, int64_t run_id,
                                 int64_t *spectra_rows, int64_t *galaxy_rows, int64_t *data_reads,
                                 ard_error *err);
/* sync_pixel_stats.c: parses and checks a tile's ard.pixel_stats into it->pixel_classes (none
 * when the key is absent); ARD_ECORRUPT naming the file and key when it is malformed or
 * contradicts the footer. Needs it->pq and it->num_rows. */
ard_status ard__sync_read_pixel_stats(sync_item *it, ard_error *err);
/* Loads the pixel classes of the read items into tile_pixel_stats (caller's transaction). */
ard_status ard__sync_write_pixel_stats(ard_index *idx, const sync_item *items, int64_t count,
                                       ard_error *err);
/* linkage.c: catalog_linkage + meta 'linkage_distinct_spectra' (see there). invalidate: drops the
 * key (inside a transaction that changes spectra or galaxies); refresh: recomputes both in its own
 * writer transaction unless the key is there. change_begin/_end bracket a sync window's deletes
 * and writes (in its transaction): a small tile-only change updates the stored numbers by its
 * delta (spending idx->linkage_budget TARGETIDs), anything else drops the key. change_reset frees
 * a change the window abandoned. tiles / catalogs: the window touches tile / catalog files. */
ard_status ard__linkage_invalidate(ard_index *idx, ard_error *err);
ard_status ard__linkage_refresh(ard_index *idx, ard_error *err);
#define IDX_LINKAGE_MAX_CLASSES 16
#define IDX_LINKAGE_BUDGET 50000 /* TARGETIDs per sync updated by delta; beyond: recompute */
typedef struct idx_linkage_class {
    char name[64];
    int null_name;
    int64_t delta;
} idx_linkage_class;
typedef struct idx_linkage_change {
    int active;
    int64_t *tids; /* the affected TARGETIDs, sorted, distinct */
    int64_t num_tids, cap;
    int64_t distinct; /* change of the distinct spectra TARGETIDs */
    idx_linkage_class classes[IDX_LINKAGE_MAX_CLASSES];
    int32_t num_classes;
} idx_linkage_change;
ard_status ard__linkage_change_begin(ard_index *idx, const int64_t *old_ids, int64_t num_old,
                                     const sync_item *items, int64_t count, int tiles, int catalogs,
                                     idx_linkage_change *c, ard_error *err);
ard_status ard__linkage_change_end(ard_index *idx, idx_linkage_change *c, ard_error *err);
void ard__linkage_change_reset(idx_linkage_change *c);
/* linkage_fresh.c: the catalog TARGETIDs of a load into an empty galaxies, by class, so that the
 * per-class linkage is counted in the client (see there). start: the load found galaxies empty;
 * add: one galaxies row (values in ard__catalog_columns order), kept only while active; drop:
 * anything else changed galaxies (NULL is fine for every call but new). count: writes
 * catalog_linkage from the lists and row_groups.targetids (caller's transaction); *done = 0 when
 * it could not (a row group without stored TARGETIDs, out of memory): the caller counts in SQL.
 * *distinct: the distinct spectra TARGETIDs it counted. prepare (reads the spectra TARGETIDs)
 * and tally (sorts and merges; no database access, so it may run on another thread while the
 * connection builds indexes) are count's first two steps, done ahead when called before it. */
ard_status ard__cat_tids_new(idx_cat_tids **out, ard_error *err);
void ard__cat_tids_free(idx_cat_tids *c);
void ard__cat_tids_start(idx_cat_tids *c);
void ard__cat_tids_add(idx_cat_tids *c, const idx_value *row);
/* The same for rows [0, rows) given whole: their TARGETIDs (INT32 or INT64, no NULL) and classes
 * as codes. */
void ard__cat_tids_add_rows(idx_cat_tids *c, const idx_column *tid, const idx_text_codes *cls,
                            int64_t rows);
/* The columns add reads (read[c] = 1 for each), and room for `rows` more rows (sized once for a
 * load instead of grown). */
void ard__cat_tids_columns(uint8_t *read);
void ard__cat_tids_reserve(idx_cat_tids *c, int64_t rows);
void ard__cat_tids_drop(idx_cat_tids *c);
int ard__cat_tids_active(const idx_cat_tids *c);
/* Declares that row_groups will not change any more in this sync (no tile left to write or
 * remove): prepare may then run as soon as a catalog load starts. */
void ard__cat_tids_settle(idx_cat_tids *c);
int ard__cat_tids_settled(const idx_cat_tids *c);
ard_status ard__cat_tids_prepare(ard_index *idx, idx_cat_tids *c, ard_error *err);
void ard__cat_tids_tally(idx_cat_tids *c);
ard_status ard__cat_tids_count(ard_index *idx, idx_cat_tids *c, int *done, int64_t *distinct,
                               ard_error *err);

/* sync_fresh.c: a sync into an empty spectra table writes its tile windows inside one outer
 * transaction (each window a savepoint) and buffers their spectra rows in memory; finish sorts
 * them by the table's key (targetid, file_id, row_group, row_index), appends them to the b-tree in
 * that order, records the distinct TARGETIDs for the linkage and commits. A failure anywhere rolls
 * the whole load back: the index stays as it was (empty of tiles). Past IDX_FRESH_MAX_ROWS rows
 * the buffer is inserted early, between windows (sorted runs: slower inserts, same rows); the
 * tests lower that bound with ARD_FRESH_SPILL_ROWS=n (test_fresh_same). */
#define IDX_FRESH_MAX_ROWS ((int64_t)1 << 26)
typedef struct idx_spectra_row {
    int64_t targetid, file_id;
    int32_t row_group;
    uint32_t row_index;
} idx_spectra_row;
struct idx_fresh_spectra {
    idx_spectra_row *rows;
    int64_t count, cap;
    int32_t flushed;     /* rows were inserted before finish: the distinct count is not known */
    int64_t window_mark; /* count at the current window's savepoint */
};
/* begin: expected_rows sizes the buffer (an estimate; 0: unknown). */
ard_status ard__fresh_begin(ard_index *idx, idx_fresh_spectra *fresh, int64_t expected_rows,
                            ard_error *err);
/* Adds a tile's rows to the buffer. spill: between windows (outside their savepoints), inserts
 * the buffer early when it holds more than IDX_FRESH_MAX_ROWS. */
ard_status ard__fresh_add(ard_index *idx, int64_t file_id, const ard_pq_metadata *md,
                          const int64_t *targetids, ard_error *err);
ard_status ard__fresh_spill(ard_index *idx, ard_error *err);
ard_status ard__fresh_finish(ard_index *idx, ard_error *err);
/* Rolls the load back (safe when none is open). */
void ard__fresh_abort(ard_index *idx);

/* Removes files (and all their rows) by id, in the caller's transaction. */
ard_status ard__sync_delete_ids(ard_index *idx, const int64_t *ids, int64_t count, ard_error *err);
/* BEGIN for a writer: SQLite BEGIN IMMEDIATE; PostgreSQL BEGIN + a lock that serialises writers. */
ard_status ard__idx_begin_write(ard_index *idx, ard_error *err);

/* results.c: result tables. reserved: 1 for the index's own tables (and sqlite_* / pg_*).
 * create: (mode ARD_INDEX_REPLACE drops first) and load: bulk rows, both in the caller's
 * transaction; arguments already checked. */
int ard__table_reserved(const char *table);
ard_status ard__table_create(ard_index *idx, const char *table, const ard_index_column *cols,
                             int32_t ncols, int32_t mode, ard_error *err);
ard_status ard__table_load(ard_index *idx, const char *table, const ard_index_column *cols,
                           int32_t ncols, int64_t nrows, ard_error *err);

/* result_run.c / result_files.c: result runs (see ard_result_run_begin). */
int ard__result_stage_name(const char *s); /* [a-z][a-z0-9_]{0,39} (stages and table names) */
ard_status ard__result_fsync_dir(const char *dir, ard_error *err);
/* 1 in *recorded when <stage>_runs exists and holds run_id. */
ard_status ard__result_run_recorded(ard_index *idx, const char *stage, const char *run_id,
                                    int *recorded, ard_error *err);
/* Writes columns as a Parquet file at path (atomically), calling step(ctx) after every column
 * chunk (the kill-test hook; may be NULL). */
ard_status ard__result_write_parquet(const char *path, const ard_index_column *cols, int32_t ncols,
                                     int64_t nrows, const char *const *kv_keys,
                                     const char *const *kv_values, int32_t num_kv,
                                     void (*step)(void *), void *ctx, ard_error *err);
/* Removes dir and the plain files in it (missing is fine). */
ard_status ard__result_remove_dir(const char *dir, ard_error *err);
/* Counts (remove = 0) or removes (remove = 1) results_dir/<stage>-<run>-<table>.parquet files. */
ard_status ard__result_run_files(const char *results_dir, const char *stage, const char *run_id,
                                 int remove, int *count, ard_error *err);

/* fetch_export.c: the exports with an optional batch source (NULL: ard_fetch over the plan). */
ard_status ard__fetch_export_parquet(const char *dataset, const ard_plan *plan,
                                     const char *const *columns, int32_t num_columns,
                                     int32_t threads, const char *out_path,
                                     const ard_fetch_source *source, int64_t *rows_out,
                                     ard_error *err);
ard_status ard__fetch_export_npy(const char *dataset, const ard_plan *plan,
                                 const char *const *columns, int32_t num_columns, int32_t threads,
                                 const char *out_path, const ard_fetch_source *source,
                                 int64_t *rows_out, ard_error *err);

#endif
