/* The SQLite backend: the embedded default index (DATASET/ard.db). WAL journal so readers run while
 * a sync writes; bulk loads through one prepared INSERT; user SQL through a read-only connection
 * with an authorizer that allows only reading. */
#include "index_int.h"

#include <sqlite3.h>
#include <string.h>

/* Readers map the file (no read syscalls per page) and keep a large page cache: a plan over
 * hundreds of thousands of spectra is that many index seeks. */
#define READ_PRAGMAS "PRAGMA mmap_size = 4294967296; PRAGMA cache_size = -131072;"

typedef struct sqlite_backend {
    idx_backend base;
    sqlite3 *db;
    sqlite3 *guard_db; /* read-only connection for user SQL (opened lazily) */
    char *path;
    sqlite3_stmt *bulk;
    int32_t bulk_columns;
} sqlite_backend;

static ard_status sq_fail(sqlite3 *db, const char *what, ard_error *err) {
    return ard_error_set(err, ARD_EDB, "sqlite: %s: %s", what,
                         db ? sqlite3_errmsg(db) : "no memory");
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
    (void)a3;
    (void)a5;
    (void)a6;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
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

/* One statement; rows go to fn as text, to ifn as integers or to vfn typed (exactly one set). */
static ard_status sq_select_any(idx_backend *be, const char *sql, int guarded, ard_index_row_fn fn,
                                idx_int_row_fn ifn, idx_value_row_fn vfn, void *ctx,
                                ard_error *err) {
    sqlite_backend *s = (sqlite_backend *)be;
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
        return st;
    }
    int ncol = sqlite3_column_count(stmt);
    const char *names[64];
    const char *vals[64];
    int64_t ints[64];
    idx_value typed[64];
    if (ncol > 64) {
        sqlite3_finalize(stmt);
        return ard_error_set(err, ARD_ELIMIT, "query returns %d columns (at most 64)", ncol);
    }
    for (int c = 0; c < ncol; c++) {
        names[c] = sqlite3_column_name(stmt, c);
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int stop;
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
        st = rc == SQLITE_AUTH ? ard_error_set(err, ARD_EPERM, "refused: %s", sqlite3_errmsg(db))
                               : sq_fail(db, "query", err);
    }
    sqlite3_finalize(stmt);
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
    ard_buf sql;
    ard_buf_init(&sql);
    ard_buf_appendf(&sql, "INSERT INTO %s(", table);
    for (int32_t c = 0; c < num_columns; c++) {
        ard_buf_appendf(&sql, "%s%s", c ? "," : "", columns[c]);
    }
    ard_buf_appendf(&sql, ") VALUES(");
    for (int32_t c = 0; c < num_columns; c++) {
        ard_buf_appendf(&sql, "%s?", c ? "," : "");
    }
    ard_buf_append(&sql, ")", 2);
    if (sql.failed) {
        ard_buf_reset(&sql);
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    int rc = sqlite3_prepare_v2(s->db, (const char *)sql.data, -1, &s->bulk, NULL);
    ard_buf_reset(&sql);
    if (rc != SQLITE_OK) {
        return sq_fail(s->db, "preparing bulk insert", err);
    }
    s->bulk_columns = num_columns;
    return ARD_OK;
}

static ard_status sq_bulk_row(idx_backend *be, const idx_value *v, ard_error *err) {
    sqlite_backend *s = (sqlite_backend *)be;
    for (int32_t c = 0; c < s->bulk_columns; c++) {
        int p = c + 1;
        switch (v[c].type) {
        case IDX_INT:
            sqlite3_bind_int64(s->bulk, p, v[c].i);
            break;
        case IDX_DOUBLE:
            if (v[c].d != v[c].d) {
                sqlite3_bind_null(s->bulk, p);
            } else {
                sqlite3_bind_double(s->bulk, p, v[c].d);
            }
            break;
        case IDX_TEXT:
            sqlite3_bind_text(s->bulk, p, v[c].s, -1, SQLITE_STATIC);
            break;
        default:
            sqlite3_bind_null(s->bulk, p);
        }
    }
    int rc = sqlite3_step(s->bulk);
    sqlite3_reset(s->bulk);
    if (rc != SQLITE_DONE) {
        return sq_fail(s->db, "bulk insert", err);
    }
    return ARD_OK;
}

static ard_status sq_bulk_end(idx_backend *be, ard_error *err) {
    (void)err;
    sqlite_backend *s = (sqlite_backend *)be;
    sqlite3_finalize(s->bulk);
    s->bulk = NULL;
    return ARD_OK;
}

static void sq_close(idx_backend *be) {
    sqlite_backend *s = (sqlite_backend *)be;
    if (!s) {
        return;
    }
    sqlite3_finalize(s->bulk);
    sqlite3_close(s->guard_db);
    sqlite3_close(s->db);
    ard_free(s->path);
    ard_free(s);
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
    .integer_pk = "INTEGER PRIMARY KEY", /* a rowid alias */
    .without_rowid = "WITHOUT ROWID",
};

/* A writer killed mid-transaction leaves a WAL that the next connection must recover, which a
 * read-only connection cannot do (SQLITE_READONLY_RECOVERY). Recovery only replays or discards the
 * log: open the file read-write once, touch the schema, close, and read on. */
static ard_status recover_if_needed(sqlite_backend *s, ard_error *err) {
    int rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if ((rc & 0xff) != SQLITE_READONLY && (rc & 0xff) != SQLITE_BUSY) {
        return ARD_OK; /* fine, or an error the real queries will report with context */
    }
    sqlite3 *rw = NULL;
    if (sqlite3_open_v2(s->path, &rw, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(rw, 30000);
        sqlite3_exec(rw, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    }
    sqlite3_close(rw);
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
        st = sq_exec(&s->base,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;"
                     "PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY; PRAGMA threads=2;"
                     "PRAGMA mmap_size=4294967296;",
                     err);
    }
    if (st != ARD_OK) {
        sq_close(&s->base);
        return st;
    }
    *out = &s->base;
    return ARD_OK;
}
