/* The PostgreSQL backend (libpq). Bulk loads use COPY ... FROM STDIN (text format) inside the
 * caller's transaction; user SQL runs inside BEGIN READ ONLY with a statement timeout, through the
 * extended protocol (PQexecParams), which refuses a second statement. Builds without libpq get a
 * stub that returns ARD_ENOTSUP. */
#include "index_int.h"

#if ARD_HAVE_POSTGRES

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg_backend {
    idx_backend base;
    PGconn *conn;
    ard_buf copy; /* COPY rows waiting to be sent */
    int32_t bulk_columns;
    int32_t read_only;
} pg_backend;

static ard_status pg_fail(PGconn *conn, const char *what, ard_error *err) {
    const char *msg = conn ? PQerrorMessage(conn) : "no memory";
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) {
        n--;
    }
    return ard_error_set(err, ARD_EDB, "postgresql: %s: %.*s", what, (int)n, msg);
}

static ard_status pg_result_ok(pg_backend *p, PGresult *res, const char *what, ard_error *err) {
    ExecStatusType t = PQresultStatus(res);
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK || t == PGRES_COPY_IN) {
        return ARD_OK;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "25006") == 0) { /* read_only_sql_transaction */
        return ard_error_set(err, ARD_EPERM, "refused: the query may only read the index (%s)",
                             PQresultErrorMessage(res));
    }
    if (state && strcmp(state, "42601") == 0 && strstr(PQresultErrorMessage(res), "multiple")) {
        return ard_error_set(err, ARD_EPERM, "refused: only one SQL statement may run");
    }
    return pg_fail(p->conn, what, err);
}

static ard_status pg_exec(idx_backend *be, const char *sql, ard_error *err) {
    pg_backend *p = (pg_backend *)be;
    PGresult *res = PQexec(p->conn, sql);
    ard_status st = pg_result_ok(p, res, "exec", err);
    PQclear(res);
    return st;
}

/* Type OIDs of pg_type.h (stable across releases). */
enum {
    PG_BOOL = 16,
    PG_INT8 = 20,
    PG_INT2 = 21,
    PG_INT4 = 23,
    PG_OID = 26,
    PG_FLOAT4 = 700,
    PG_FLOAT8 = 701,
    PG_NUMERIC = 1700
};

/* Cell (r, c) typed by its column's type: integers and floats parsed from PostgreSQL's text, which
 * is exact (extra_float_digits = 1 gives the shortest text that round-trips), 'NaN', 'Infinity'
 * and '-Infinity' included. */
static void pg_typed_cell(PGresult *res, int r, int c, idx_value *v) {
    memset(v, 0, sizeof *v);
    if (PQgetisnull(res, r, c)) {
        return;
    }
    const char *text = PQgetvalue(res, r, c);
    switch (PQftype(res, c)) {
    case PG_BOOL:
        v->type = IDX_INT;
        v->i = text[0] == 't';
        break;
    case PG_INT8:
    case PG_INT2:
    case PG_INT4:
    case PG_OID:
        v->type = IDX_INT;
        v->i = strtoll(text, NULL, 10);
        break;
    case PG_FLOAT4:
    case PG_FLOAT8:
    case PG_NUMERIC:
        v->type = IDX_DOUBLE;
        v->d = strtod(text, NULL);
        break;
    default:
        v->type = IDX_TEXT;
        v->s = text;
    }
}

static ard_status pg_rows(PGresult *res, ard_index_row_fn fn, idx_int_row_fn ifn,
                          idx_value_row_fn vfn, void *ctx) {
    int ncol = PQnfields(res);
    const char *names[64];
    const char *vals[64];
    int64_t ints[64];
    idx_value typed[64];
    if (ncol > 64) {
        return ARD_ELIMIT;
    }
    for (int c = 0; c < ncol; c++) {
        names[c] = PQfname(res, c);
    }
    int nrow = PQntuples(res);
    for (int r = 0; r < nrow; r++) {
        int stop;
        if (vfn) {
            for (int c = 0; c < ncol; c++) {
                pg_typed_cell(res, r, c, &typed[c]);
            }
            stop = vfn(ctx, ncol, names, typed);
        } else if (ifn) {
            for (int c = 0; c < ncol; c++) {
                ints[c] = PQgetisnull(res, r, c) ? 0 : strtoll(PQgetvalue(res, r, c), NULL, 10);
            }
            stop = ifn(ctx, ncol, ints);
        } else {
            for (int c = 0; c < ncol; c++) {
                vals[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
            }
            stop = fn && fn(ctx, ncol, names, vals);
        }
        if (stop) {
            break;
        }
    }
    return ARD_OK;
}

static ard_status pg_select_any(idx_backend *be, const char *sql, int guarded, ard_index_row_fn fn,
                                idx_int_row_fn ifn, idx_value_row_fn vfn, void *ctx,
                                ard_error *err) {
    pg_backend *p = (pg_backend *)be;
    ard_status st = ARD_OK;
    if (guarded) {
        st = pg_exec(be, "BEGIN READ ONLY; SET LOCAL statement_timeout = '600s'", err);
        if (st != ARD_OK) {
            return st;
        }
    }
    PGresult *res = PQexecParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    st = pg_result_ok(p, res, "query", err);
    if (st == ARD_OK) {
        st = pg_rows(res, fn, ifn, vfn, ctx);
        if (st == ARD_ELIMIT) {
            ard_error_set(err, st, "query returns %d columns (at most 64)", PQnfields(res));
        }
    }
    PQclear(res);
    if (guarded) {
        PQclear(PQexec(p->conn, "ROLLBACK"));
    }
    return st;
}

static ard_status pg_select(idx_backend *be, const char *sql, int guarded, ard_index_row_fn fn,
                            void *ctx, ard_error *err) {
    return pg_select_any(be, sql, guarded, fn, NULL, NULL, ctx, err);
}

static ard_status pg_select_ints(idx_backend *be, const char *sql, int guarded, idx_int_row_fn fn,
                                 void *ctx, ard_error *err) {
    return pg_select_any(be, sql, guarded, NULL, fn, NULL, ctx, err);
}

static ard_status pg_select_values(idx_backend *be, const char *sql, int guarded,
                                   idx_value_row_fn fn, void *ctx, ard_error *err) {
    return pg_select_any(be, sql, guarded, NULL, NULL, fn, ctx, err);
}

static ard_status pg_bulk_begin(idx_backend *be, const char *table, const char *const *columns,
                                int32_t num_columns, ard_error *err) {
    pg_backend *p = (pg_backend *)be;
    ard_buf sql;
    ard_buf_init(&sql);
    ard_buf_appendf(&sql, "COPY %s(", table);
    for (int32_t c = 0; c < num_columns; c++) {
        ard_buf_appendf(&sql, "%s%s", c ? "," : "", columns[c]);
    }
    ard_buf_append(&sql, ") FROM STDIN", 13);
    if (sql.failed) {
        ard_buf_reset(&sql);
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    PGresult *res = PQexec(p->conn, (const char *)sql.data);
    ard_buf_reset(&sql);
    ard_status st = pg_result_ok(p, res, "COPY", err);
    PQclear(res);
    p->bulk_columns = num_columns;
    p->copy.len = 0;
    return st;
}

static void copy_text(ard_buf *b, const char *s) {
    for (; *s; s++) {
        char c = *s;
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            char esc[2] = {'\\', c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\'};
            ard_buf_append(b, esc, 2);
        } else {
            ard_buf_append(b, &c, 1);
        }
    }
}

static ard_status copy_flush(pg_backend *p, ard_error *err) {
    if (p->copy.len == 0) {
        return ARD_OK;
    }
    if (p->copy.failed) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory building COPY data");
    }
    if (PQputCopyData(p->conn, (const char *)p->copy.data, (int)p->copy.len) != 1) {
        return pg_fail(p->conn, "COPY data", err);
    }
    p->copy.len = 0;
    return ARD_OK;
}

static ard_status pg_bulk_row(idx_backend *be, const idx_value *v, ard_error *err) {
    pg_backend *p = (pg_backend *)be;
    ard_buf *b = &p->copy;
    for (int32_t c = 0; c < p->bulk_columns; c++) {
        if (c) {
            ard_buf_append(b, "\t", 1);
        }
        if (v[c].type == IDX_INT) {
            ard_buf_appendf(b, "%lld", (long long)v[c].i);
        } else if (v[c].type == IDX_DOUBLE && v[c].d == v[c].d) {
            ard_buf_appendf(b, "%.17g", v[c].d);
        } else if (v[c].type == IDX_TEXT && v[c].s) {
            copy_text(b, v[c].s);
        } else {
            ard_buf_append(b, "\\N", 2);
        }
    }
    ard_buf_append(b, "\n", 1);
    return b->len >= (1u << 20) ? copy_flush(p, err) : ARD_OK;
}

static ard_status pg_bulk_end(idx_backend *be, ard_error *err) {
    pg_backend *p = (pg_backend *)be;
    ard_status st = copy_flush(p, err);
    if (PQputCopyEnd(p->conn, st == ARD_OK ? NULL : "aborted") != 1 && st == ARD_OK) {
        st = pg_fail(p->conn, "COPY end", err);
    }
    PGresult *res;
    while ((res = PQgetResult(p->conn)) != NULL) {
        if (st == ARD_OK) {
            st = pg_result_ok(p, res, "COPY", err);
        }
        PQclear(res);
    }
    return st;
}

static void pg_close(idx_backend *be) {
    pg_backend *p = (pg_backend *)be;
    if (!p) {
        return;
    }
    PQfinish(p->conn);
    ard_buf_reset(&p->copy);
    ard_free(p);
}

static void pg_notice(void *arg, const char *message) {
    (void)arg;
    (void)message; /* NOTICEs (e.g. "relation already exists, skipping") are not errors */
}

static const idx_backend_ops pg_ops = {
    .select_ints = pg_select_ints,
    .name = "postgresql",
    .exec = pg_exec,
    .select = pg_select,
    .bulk_begin = pg_bulk_begin,
    .bulk_row = pg_bulk_row,
    .bulk_end = pg_bulk_end,
    .type_double = "DOUBLE PRECISION",
    .close = pg_close,
    .select_values = pg_select_values,
    .begin_write_sql = "BEGIN; LOCK TABLE files IN SHARE ROW EXCLUSIVE MODE",
    .analyze_sql = "ANALYZE files, row_groups, spectra, galaxies",
    .list_tables_sql = "SELECT table_name FROM information_schema.tables WHERE"
                       " table_schema = current_schema()",
    .integer_pk = "BIGINT PRIMARY KEY",
    .without_rowid = "",
    /* "ardschm" in ASCII; the sync lock (sync_lock.c) is "ardsync" */
    .schema_lock_sql = "SELECT pg_advisory_lock(27428848499124333)",
    .schema_unlock_sql = "SELECT pg_advisory_unlock(27428848499124333)",
};

ard_status ard__pg_open(const char *conninfo, int32_t read_only, idx_backend **out,
                        ard_error *err) {
    *out = NULL;
    pg_backend *p = ard_calloc(1, sizeof *p);
    if (!p) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    p->base.ops = &pg_ops;
    p->read_only = read_only;
    ard_buf_init(&p->copy);
    p->conn = PQconnectdb(conninfo ? conninfo : "");
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        ard_status st = pg_fail(p->conn, "connecting", err);
        pg_close(&p->base);
        return st;
    }
    PQsetNoticeProcessor(p->conn, pg_notice, NULL);
    ard_status st = pg_exec(&p->base,
                            "SET synchronous_commit = off; SET client_min_messages = warning;"
                            "SET extra_float_digits = 1",
                            err);
    if (st == ARD_OK && read_only) {
        st = pg_exec(&p->base, "SET default_transaction_read_only = on", err);
    }
    if (st != ARD_OK) {
        pg_close(&p->base);
        return st;
    }
    *out = &p->base;
    return ARD_OK;
}

#else

ard_status ard__pg_open(const char *conninfo, int32_t read_only, idx_backend **out,
                        ard_error *err) {
    (void)conninfo;
    (void)read_only;
    *out = NULL;
    return ard_error_set(err, ARD_ENOTSUP, "this ard was built without PostgreSQL support (libpq)");
}

#endif
