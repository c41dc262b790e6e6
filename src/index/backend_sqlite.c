/* The SQLite backend: the embedded default index (DATASET/ard.db). WAL journal so readers run while
 * a sync writes; bulk loads through one prepared INSERT; user SQL through a read-only connection
 * with an authorizer that allows only reading. */
#include "index_int.h"

#include <sqlite3.h>
#include <string.h>

/* Readers map the file (no read syscalls per page) and keep a large page cache: a plan over
 * hundreds of thousands of spectra is that many index seeks. Temporary b-trees stay in memory: a
 * broad predicate's "targetid IN (SELECT ...)" list (679k ids for Z > 2.5 of 6.4M) spilled to a
 * temporary file, which cost 2.6 CPU s instead of 1.0. */
#define READ_PRAGMAS                                                                               \
    "PRAGMA mmap_size = 4294967296; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;"

typedef struct sqlite_backend {
    idx_backend base;
    sqlite3 *db;
    sqlite3 *guard_db; /* read-only connection for user SQL (opened lazily) */
    char *path;
    sqlite3_stmt *bulk;      /* INSERT of one row */
    sqlite3_stmt *bulk_many; /* INSERT of batch_rows rows (prepared at the first full batch) */
    ard_buf bulk_sql;        /* "INSERT INTO t(cols) VALUES", kept to prepare bulk_many */
    int32_t bulk_columns;
    idx_value *pending; /* batch_rows rows waiting; TEXT values hold an offset into texts */
    int32_t pending_cap, batch_rows, num_pending;
    ard_buf texts; /* copies of the pending rows' text values */
} sqlite_backend;

/* Rows per multi-row INSERT: one statement step per row costs more (step, halt, reset) than the
 * b-tree insert itself; 256 rows amortise it (a fresh 6.4M-row sync: 2.56-2.62 user s against
 * 2.64-2.94 with 64, alternating, load ~3) and stay below SQLite's 32766 parameters (64 columns
 * x 256; wider tables get fewer rows per statement). */
#define BULK_ROWS 256

static ard_status sq_fail(sqlite3 *db, const char *what, ard_error *err) {
    return ard_error_set(err, ARD_EDB, "sqlite: %s: %s", what,
                         db ? sqlite3_errmsg(db) : "no memory");
}

/* Reads the file once through a writable connection of its own: SQLite rolls a hot journal (or a
 * killed writer's WAL) back on that connection's first read. Best effort: a file this process may
 * not write stays as it is, and the caller's statement reports the error. */
static void roll_back_hot_journal(const char *path) {
    sqlite3 *rw = NULL;
    if (sqlite3_open_v2(path, &rw, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(rw, 30000);
        sqlite3_exec(rw, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    }
    sqlite3_close(rw);
}

static ard_status sq_exec(idx_backend *be, const char *sql, ard_error *err) {
    sqlite_backend *s = (sqlite_backend *)be;
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ard_status st =
            ard_error_set(err, ARD_EDB, "sqlite: %s (in: %.200s)", msg ? msg : "error", sql);
        sqlite3_free(msg);
        return st;
    }
    return ARD_OK;
}

/* Only reading is allowed from user SQL: SELECT, reads of any column, and functions other than
 * those that touch files or extensions. */
static int guard_authorizer(void *ctx, int action, const char *a3, const char *a4, const char *a5,
                            const char *a6) {
    (void)ctx;
    (void)a5;
    (void)a6;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_PRAGMA: /* ard_index_check: the engine's own check only reads */
        return a3 && sqlite3_stricmp(a3, "integrity_check") == 0 && !a4 ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_FUNCTION:
        if (a4 &&
            (sqlite3_stricmp(a4, "load_extension") == 0 || sqlite3_stricmp(a4, "readfile") == 0 ||
             sqlite3_stricmp(a4, "writefile") == 0 || sqlite3_stricmp(a4, "edit") == 0 ||
             sqlite3_stricmp(a4, "fts3_tokenizer") == 0)) {
            return SQLITE_DENY;
        }
        return SQLITE_OK;
    default:
        return SQLITE_DENY;
    }
}

static ard_status guard_connection(sqlite_backend *s, ard_error *err) {
    if (s->guard_db) {
        return ARD_OK;
    }
    if (sqlite3_open_v2(s->path, &s->guard_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        ard_status st = sq_fail(s->guard_db, s->path, err);
        sqlite3_close(s->guard_db);
        s->guard_db = NULL;
        return st;
    }
    sqlite3_busy_timeout(s->guard_db, 10000);
    sqlite3_exec(s->guard_db, READ_PRAGMAS, NULL, NULL, NULL);
    sqlite3_db_config(s->guard_db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
    sqlite3_db_config(s->guard_db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_limit(s->guard_db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_set_authorizer(s->guard_db, guard_authorizer, NULL);
    return ARD_OK;
}

static int only_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    return *p == '\0';
}

static ard_status prepare_one(sqlite3 *db, const char *sql, int guarded, sqlite3_stmt **stmt,
                              ard_error *err) {
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, stmt, &tail);
    if (rc == SQLITE_AUTH) {
        return ard_error_set(err, ARD_EPERM, "refused: the query may only read the index (%s)",
                             sqlite3_errmsg(db));
    }
    if (rc != SQLITE_OK) {
        return sq_fail(db, "SQL error", err);
    }
    if (tail && !only_space(tail)) {
        sqlite3_finalize(*stmt);
        *stmt = NULL;
        return ard_error_set(err, ARD_EPERM, "refused: only one SQL statement may run");
    }
    if (guarded && !sqlite3_stmt_readonly(*stmt)) {
        sqlite3_finalize(*stmt);
        *stmt = NULL;
        return ard_error_set(err, ARD_EPERM, "refused: the query may only read the index");
    }
    return ARD_OK;
}

/* A row's values as SQLite holds them (a REAL is the stored double: no text round trip). */
static void typed_row(sqlite3_stmt *stmt, int ncol, idx_value *vals) {
    for (int c = 0; c < ncol; c++) {
        idx_value *v = &vals[c];
        memset(v, 0, sizeof *v);
        switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
            v->type = IDX_INT;
            v->i = sqlite3_column_int64(stmt, c);
            break;
        case SQLITE_FLOAT:
            v->type = IDX_DOUBLE;
            v->d = sqlite3_column_double(stmt, c);
            break;
        case SQLITE_NULL:
            v->type = IDX_NULL;
            break;
        default:
            v->type = IDX_TEXT;
            v->s = (const char *)sqlite3_column_text(stmt, c);
            v->type = v->s ? IDX_TEXT : IDX_NULL;
        }
    }
}

/* One pass of sq_select_any; *code = SQLite's extended result code of a failure, *delivered =
 * whether a row reached the callback. */
static ard_status select_pass(sqlite_backend *s, const char *sql, int guarded, ard_index_row_fn fn,
                              idx_int_row_fn ifn, idx_value_row_fn vfn, void *ctx, int *code,
                              int *delivered, ard_error *err) {
    sqlite3 *db = s->db;
    if (guarded) {
        ard_status st = guard_connection(s, err);
        if (st != ARD_OK) {
            return st;
        }
        db = s->guard_db;
    }
    sqlite3_stmt *stmt = NULL;
    ard_status st = prepare_one(db, sql, guarded, &stmt, err);
    if (st != ARD_OK) {
        *code = sqlite3_extended_errcode(db);
        return st;
    }
    int ncol = 0;
    const char *names[64];
    const char *vals[64];
    int64_t ints[64];
    idx_value typed[64];
    int rc;
    int first = 1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (first) {
            /* Names (and the count) only after the first step: a schema change by another
             * connection makes that step re-prepare the statement, which frees earlier names. */
            first = 0;
            ncol = sqlite3_column_count(stmt);
            if (ncol > 64) {
                sqlite3_finalize(stmt);
                return ard_error_set(err, ARD_ELIMIT, "query returns %d columns (at most 64)",
                                     ncol);
            }
            for (int c = 0; c < ncol; c++) {
                names[c] = sqlite3_column_name(stmt, c);
            }
        }
        int stop;
        *delivered = 1;
        if (vfn) {
            typed_row(stmt, ncol, typed);
            stop = vfn(ctx, ncol, names, typed);
        } else if (ifn) {
            for (int c = 0; c < ncol; c++) {
                ints[c] = sqlite3_column_int64(stmt, c);
            }
            stop = ifn(ctx, ncol, ints);
        } else {
            for (int c = 0; c < ncol; c++) {
                vals[c] = (const char *)sqlite3_column_text(stmt, c);
            }
            stop = fn && fn(ctx, ncol, names, vals);
        }
        if (stop) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        *code = sqlite3_extended_errcode(db);
        st = rc == SQLITE_AUTH ? ard_error_set(err, ARD_EPERM, "refused: %s", sqlite3_errmsg(db))
                               : sq_fail(db, "query", err);
    }
    sqlite3_finalize(stmt);
    return st;
}

/* One statement; rows go to fn as text, to ifn as integers or to vfn typed (exactly one set). A
 * read-only connection that meets a hot journal (a writer killed since the handle was opened, e.g.
 * a fresh load's rollback journal: SQLITE_READONLY_ROLLBACK) cannot roll it back itself: the
 * journal is rolled back through a writable connection and the statement runs once more, when no
 * row had reached the callback yet. */
static ard_status sq_select_any(idx_backend *be, const char *sql, int guarded, ard_index_row_fn fn,
                                idx_int_row_fn ifn, idx_value_row_fn vfn, void *ctx,
                                ard_error *err) {
    sqlite_backend *s = (sqlite_backend *)be;
    int code = SQLITE_OK, delivered = 0;
    ard_status st = select_pass(s, sql, guarded, fn, ifn, vfn, ctx, &code, &delivered, err);
    if (st == ARD_EDB && code == SQLITE_READONLY_ROLLBACK && !delivered) {
        roll_back_hot_journal(s->path);
        st = select_pass(s, sql, guarded, fn, ifn, vfn, ctx, &code, &delivered, err);
    }
    return st;
}

static ard_status sq_select(idx_backend *be, const char *sql, int guarded, ard_index_row_fn fn,
                            void *ctx, ard_error *err) {
    return sq_select_any(be, sql, guarded, fn, NULL, NULL, ctx, err);
}

static ard_status sq_select_ints(idx_backend *be, const char *sql, int guarded, idx_int_row_fn fn,
                                 void *ctx, ard_error *err) {
    return sq_select_any(be, sql, guarded, NULL, fn, NULL, ctx, err);
}

static ard_status sq_select_values(idx_backend *be, const char *sql, int guarded,
                                   idx_value_row_fn fn, void *ctx, ard_error *err) {
    return sq_select_any(be, sql, guarded, NULL, NULL, fn, ctx, err);
}

static ard_status sq_bulk_begin(idx_backend *be, const char *table, const char *const *columns,
                                int32_t num_columns, ard_error *err) {
    sqlite_backend *s = (sqlite_backend *)be;
    if (num_columns < 1 || num_columns > 2000) { /* SQLite's own limit of columns */
        return ard_error_set(err, ARD_ELIMIT, "bulk insert into %s: %d columns (1 to 2000)", table,
                             num_columns);
    }
    ard_buf *sql = &s->bulk_sql;
    sql->len = 0;
    ard_buf_appendf(sql, "INSERT INTO %s(", table);
    for (int32_t c = 0; c < num_columns; c++) {
        ard_buf_appendf(sql, "%s%s", c ? "," : "", columns[c]);
    }
    ard_buf_appendf(sql, ") VALUES");
    size_t head = sql->len;
    ard_buf_append(sql, "(", 1);
    for (int32_t c = 0; c < num_columns; c++) {
        ard_buf_appendf(sql, "%s?", c ? "," : "");
    }
    ard_buf_append(sql, ")", 2);
    if (sql->failed) {
        ard_buf_reset(sql);
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    int32_t batch = num_columns <= 64 ? BULK_ROWS : 1 + 4000 / num_columns;
    if (batch * num_columns > s->pending_cap) {
        ard_free(s->pending);
        s->pending_cap = 0;
        if (!(s->pending = ard_malloc((size_t)(batch * num_columns) * sizeof *s->pending))) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        s->pending_cap = batch * num_columns;
    }
    int rc = sqlite3_prepare_v2(s->db, (const char *)sql->data, -1, &s->bulk, NULL);
    sql->len = head; /* the multi-row statement is built from the head when first needed */
    if (rc != SQLITE_OK) {
        return sq_fail(s->db, "preparing bulk insert", err);
    }
    s->bulk_columns = num_columns;
    s->batch_rows = batch;
    s->num_pending = 0;
    s->texts.len = 0;
    return ARD_OK;
}

/* Binds row `row` of the pending rows to parameters first.. of stmt. */
static void bind_row(sqlite_backend *s, sqlite3_stmt *stmt, int32_t row, int first) {
    const idx_value *v = &s->pending[row * s->bulk_columns];
    for (int32_t c = 0; c < s->bulk_columns; c++) {
        int p = first + c;
        switch (v[c].type) {
        case IDX_INT:
            sqlite3_bind_int64(stmt, p, v[c].i);
            break;
        case IDX_DOUBLE:
            if (v[c].d != v[c].d) {
                sqlite3_bind_null(stmt, p);
            } else {
                sqlite3_bind_double(stmt, p, v[c].d);
            }
            break;
        case IDX_TEXT:
            sqlite3_bind_text(stmt, p, (const char *)s->texts.data + v[c].i, -1, SQLITE_STATIC);
            break;
        default:
            sqlite3_bind_null(stmt, p);
        }
    }
}

static ard_status step_once(sqlite_backend *s, sqlite3_stmt *stmt, ard_error *err) {
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? ARD_OK : sq_fail(s->db, "bulk insert", err);
}

static ard_status prepare_many(sqlite_backend *s, ard_error *err) {
    ard_buf *sql = &s->bulk_sql;
    for (int32_t r = 0; r < s->batch_rows; r++) {
        ard_buf_append(sql, r ? ",(" : "(", r ? 2 : 1);
        for (int32_t c = 0; c < s->bulk_columns; c++) {
            ard_buf_append(sql, c ? ",?" : "?", c ? 2 : 1);
        }
        ard_buf_append(sql, ")", 1);
    }
    ard_buf_append(sql, "", 1);
    if (sql->failed) {
        ard_buf_reset(sql);
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    int rc = sqlite3_prepare_v2(s->db, (const char *)sql->data, -1, &s->bulk_many, NULL);
    return rc == SQLITE_OK ? ARD_OK : sq_fail(s->db, "preparing bulk insert", err);
}

/* Inserts the pending rows: one multi-row INSERT for a full batch, row by row otherwise. */
static ard_status bulk_flush(sqlite_backend *s, ard_error *err) {
    ard_status st = ARD_OK;
    if (s->texts.failed) {
        ard_buf_reset(&s->texts); /* usable again by the next load */
        st = ard_error_set(err, ARD_ENOMEM, "out of memory");
    } else if (s->num_pending == s->batch_rows && s->batch_rows > 1) {
        st = s->bulk_many ? ARD_OK : prepare_many(s, err);
        for (int32_t r = 0; r < s->batch_rows && st == ARD_OK; r++) {
            bind_row(s, s->bulk_many, r, 1 + r * s->bulk_columns);
        }
        st = st == ARD_OK ? step_once(s, s->bulk_many, err) : st;
    } else {
        for (int32_t r = 0; r < s->num_pending && st == ARD_OK; r++) {
            bind_row(s, s->bulk, r, 1);
            st = step_once(s, s->bulk, err);
        }
    }
    s->num_pending = 0;
    s->texts.len = 0;
    return st;
}

static ard_status sq_bulk_row(idx_backend *be, const idx_value *v, ard_error *err) {
    sqlite_backend *s = (sqlite_backend *)be;
    idx_value *row = &s->pending[s->num_pending * s->bulk_columns];
    for (int32_t c = 0; c < s->bulk_columns; c++) {
        row[c] = v[c];
        if (v[c].type == IDX_TEXT && !v[c].s) {
            row[c].type = IDX_NULL;
        } else if (v[c].type == IDX_TEXT) { /* borrowed for this call only: keep a copy */
            row[c].i = (int64_t)s->texts.len;
            row[c].s = NULL;
            ard_buf_append(&s->texts, v[c].s, strlen(v[c].s) + 1);
        }
    }
    return ++s->num_pending == s->batch_rows ? bulk_flush(s, err) : ARD_OK;
}

static ard_status sq_bulk_end(idx_backend *be, ard_error *err) {
    sqlite_backend *s = (sqlite_backend *)be;
    ard_status st = bulk_flush(s, err);
    sqlite3_finalize(s->bulk);
    sqlite3_finalize(s->bulk_many);
    s->bulk = s->bulk_many = NULL;
    return st;
}

static void sq_close(idx_backend *be) {
    sqlite_backend *s = (sqlite_backend *)be;
    if (!s) {
        return;
    }
    sqlite3_finalize(s->bulk);
    sqlite3_finalize(s->bulk_many);
    ard_free(s->pending);
    ard_buf_reset(&s->bulk_sql);
    ard_buf_reset(&s->texts);
    sqlite3_close(s->guard_db);
    sqlite3_close(s->db);
    ard_free(s->path);
    ard_free(s);
}

/* The writer's page cache (KiB, negative as PRAGMA cache_size takes it): see ard__sqlite_open. */
#define WRITER_CACHE "-262144"

/* A fresh load's journal (idx_backend_ops.fresh_journal). Leaving WAL needs the only connection
 * to the file: with any other open (a reader, a sync waiting for the lock) it fails at once
 * (busy_timeout 0) and the load runs in WAL as before. In rollback mode SQLite journals a page
 * only when it existed at the transaction's start: a fresh load appends past the file's end, so
 * its pages are written once, and a kill at any point leaves a hot journal whose rollback (by
 * the next connection, recover_if_needed for a read-only one) truncates the file to the index it
 * was. synchronous = FULL (in rollback mode only) syncs that journal before the first page
 * reaches the file. Readers can read the old index until the append spills its first page
 * (SQLite then holds the EXCLUSIVE lock: they wait, up to their busy timeout, for the commit)
 * instead of reading the empty spectra table throughout. Each statement runs alone, so that a
 * refused one does not skip the rest (the busy timeout above all). */
static void sq_fresh_journal(idx_backend *be, int32_t phase) {
    sqlite_backend *s = (sqlite_backend *)be;
    if (phase >= 2) { /* the append: 16 MiB of cache, full pages spilled to the file */
        sqlite3_exec(
            s->db, phase == 2 ? "PRAGMA cache_size = -16384" : "PRAGMA cache_size = " WRITER_CACHE,
            NULL, NULL, NULL);
        return;
    }
    sqlite3_busy_timeout(s->db, phase == 1 ? 0 : 1000);
    sqlite3_stmt *stmt = NULL;
    int rollback = 0; /* the pragma answers with the mode in force */
    if (sqlite3_prepare_v2(
            s->db, phase == 1 ? "PRAGMA journal_mode = DELETE" : "PRAGMA journal_mode = WAL", -1,
            &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(stmt, 0);
        rollback = mode && sqlite3_stricmp(mode, "delete") == 0;
    }
    sqlite3_finalize(stmt);
    sqlite3_busy_timeout(s->db, 30000);
    sqlite3_exec(s->db,
                 phase == 1 ? (rollback ? "PRAGMA synchronous = FULL" : "SELECT 1")
                            : "PRAGMA synchronous = NORMAL; PRAGMA cache_size = " WRITER_CACHE,
                 NULL, NULL, NULL);
}

static const idx_backend_ops sqlite_ops = {
    .select_ints = sq_select_ints,
    .name = "sqlite",
    .exec = sq_exec,
    .select = sq_select,
    .bulk_begin = sq_bulk_begin,
    .bulk_row = sq_bulk_row,
    .bulk_end = sq_bulk_end,
    .type_double = "DOUBLE PRECISION",
    .close = sq_close,
    .select_values = sq_select_values,
    .begin_write_sql = "BEGIN IMMEDIATE",
    .analyze_sql = "PRAGMA analysis_limit = 2000; ANALYZE",
    .list_tables_sql = "SELECT name FROM sqlite_master WHERE type = 'table'",
    .list_columns_sql = "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p"
                        " WHERE m.type = 'table'",
    .integer_pk = "INTEGER PRIMARY KEY", /* a rowid alias */
    .include_targetid = "",              /* every index holds the rowid: targetid */
    .without_rowid = "WITHOUT ROWID",
    .collate_bytes = "", /* BINARY */
    .database_file_sql = "SELECT file FROM pragma_database_list WHERE name = 'main'",
    .integrity_check_sql = "PRAGMA integrity_check",
    /* CREATE INDEX sorts through the sorter: with temp_store = MEMORY it never spills, mallocs
     * every record and sorts one list of 6.4M (4.4 CPU s for the former spectra_targetid, 420 MB); with
     * temporary files and a 16 MiB cache it sorts 16 MiB runs (on the worker threads of PRAGMA
     * threads) and merges them: 2.2 CPU s, 40 MB (sqlite3 shell, same index, same run). */
    .index_build_begin_sql = "PRAGMA temp_store = FILE; PRAGMA cache_size = -16384",
    .index_build_end_sql = "PRAGMA temp_store = MEMORY; PRAGMA cache_size = " WRITER_CACHE,
    .fresh_journal = sq_fresh_journal,
};

/* A writer killed mid-transaction leaves a WAL that the next connection must recover, which a
 * read-only connection cannot do (SQLITE_READONLY_RECOVERY). Recovery only replays or discards the
 * log: open the file read-write once, touch the schema, close, and read on. */
static ard_status recover_if_needed(sqlite_backend *s, ard_error *err) {
    int rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if ((rc & 0xff) != SQLITE_READONLY && (rc & 0xff) != SQLITE_BUSY) {
        return ARD_OK; /* fine, or an error the real queries will report with context */
    }
    roll_back_hot_journal(s->path);
    rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    return rc == SQLITE_OK ? ARD_OK : sq_fail(s->db, s->path, err);
}

ard_status ard__sqlite_open(const char *path, int32_t read_only, idx_backend **out,
                            ard_error *err) {
    *out = NULL;
    sqlite_backend *s = ard_calloc(1, sizeof *s);
    if (!s || !(s->path = ard_strdup(path))) {
        ard_free(s);
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    s->base.ops = &sqlite_ops;
    int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        ard_status st = read_only && !s->db ? ARD_ENOMEM : ARD_EDB;
        if (st == ARD_EDB && read_only && sqlite3_errcode(s->db) == SQLITE_CANTOPEN) {
            st = ard_error_set(err, ARD_ENOENT, "no index at %s (run `ard sync` first)", path);
        } else {
            st = sq_fail(s->db, path, err);
        }
        sq_close(&s->base);
        return st;
    }
    sqlite3_busy_timeout(s->db, 30000);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
    ard_status st = ARD_OK;
    if (read_only) {
        st = recover_if_needed(s, err);
        sqlite3_exec(s->db, READ_PRAGMAS, NULL, NULL, NULL);
        sqlite3_set_authorizer(s->db, guard_authorizer, NULL);
    } else {
        /* Checkpoints every 64 MiB of log instead of 4 MiB: a bulk load rewrites the same
         * b-tree edge pages in consecutive commits, and each checkpoint syncs the database. */
        /* Refused while another connection's fresh load holds the file in rollback mode
         * (sq_fresh_journal): that load switches back to WAL when it ends, and this connection
         * follows (SQLite reads the mode from the file). */
        int rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED && rc != SQLITE_OK) {
            st = sq_fail(s->db, path, err);
        }
        st = st != ARD_OK ? st
                          : sq_exec(&s->base,
                                    "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;"
                                    /* (index_build_end_sql restores these two) */
                                    "PRAGMA cache_size=" WRITER_CACHE
                                    "; PRAGMA temp_store=MEMORY; PRAGMA threads=2;"
                                    "PRAGMA mmap_size=4294967296;"
                                    "PRAGMA wal_autocheckpoint=16384;",
                                    err);
    }
    if (st != ARD_OK) {
        sq_close(&s->base);
        return st;
    }
    *out = &s->base;
    return ARD_OK;
}
