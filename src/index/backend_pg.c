/* The PostgreSQL backend (libpq). Bulk loads use COPY ... FROM STDIN inside the caller's
 * transaction: binary format when every column has a type whose binary form is known here (the
 * server then parses no text: the catalog's doubles were most of its COPY time), text format
 * otherwise; user SQL runs inside BEGIN READ ONLY with a statement timeout, through the
 * extended protocol (PQexecParams), which refuses a second statement. Builds without libpq get a
 * stub that returns ARD_ENOTSUP. */
#include "index_int.h"

#if ARD_HAVE_POSTGRES

#include "pq_lazy.h" /* <libpq-fe.h>, its functions called through a table (libpq opened on use) */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The column types of one COPY statement, cached until the next exec() (which may change them). */
#define PG_TYPE_CACHE 16
typedef struct pg_copy_types {
    char *sql; /* the COPY statement; NULL: free slot */
    uint32_t *oids;
    int32_t binary; /* every column has a binary encoder */
} pg_copy_types;

typedef struct pg_backend {
    idx_backend base;
    PGconn *conn;
    ard_buf copy; /* COPY rows waiting to be sent */
    int32_t bulk_columns;
    int32_t read_only;
    const pg_copy_types *bulk_types; /* binary COPY in progress, or NULL (text) */
    pg_copy_types types[PG_TYPE_CACHE];
    int32_t next_type_slot;
    char fresh_table[64];  /* emptied in this transaction by bulk_fresh: COPY FREEZE into it */
    ard_buf fresh_indexes; /* CREATE INDEX statements bulk_fresh dropped, built again in phase 2 */
} pg_backend;

static void types_forget(pg_backend *p) {
    for (int32_t i = 0; i < PG_TYPE_CACHE; i++) {
        ard_free(p->types[i].sql);
        ard_free(p->types[i].oids);
        memset(&p->types[i], 0, sizeof p->types[i]);
    }
    p->bulk_types = NULL;
}

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
    types_forget(p); /* DDL may change a table's columns */
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
    PG_NUMERIC = 1700,
    PG_TEXT = 25,
    PG_VARCHAR = 1043
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

/* Bytes of the binary form of an integer type, or 0 for any other type. */
static int int_width(Oid type) {
    switch (type) {
    case PG_INT8:
        return 8;
    case PG_INT4:
        return 4;
    case PG_OID:
        return -4; /* unsigned */
    case PG_INT2:
        return 2;
    case PG_BOOL:
        return 1;
    default:
        return 0;
    }
}

/* A big-endian integer of |width| bytes (negative: unsigned), sign-extended. */
static int64_t binary_int(const char *p, int width) {
    const unsigned char *u = (const unsigned char *)p;
    int n = width < 0 ? -width : width;
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = v << 8 | u[i];
    }
    if (width > 1 && width < 8 && (v >> (8 * n - 1)) & 1) {
        v |= ~(uint64_t)0 << (8 * n); /* negative */
    }
    return (int64_t)v;
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
    int width[64];
    for (int c = 0; c < ncol; c++) {
        names[c] = PQfname(res, c);
        width[c] = int_width(PQftype(res, c));
        if (PQbinaryTuples(res) && width[c] == 0) {
            return ARD_ENOTSUP; /* not an integer column: the caller asks again in text */
        }
    }
    int nrow = PQntuples(res);
    for (int r = 0; r < nrow; r++) {
        int stop;
        if (vfn) {
            for (int c = 0; c < ncol; c++) {
                pg_typed_cell(res, r, c, &typed[c]);
            }
            stop = vfn(ctx, ncol, names, typed);
        } else if (ifn && PQbinaryTuples(res)) {
            for (int c = 0; c < ncol; c++) {
                ints[c] = PQgetisnull(res, r, c) ? 0 : binary_int(PQgetvalue(res, r, c), width[c]);
            }
            stop = ifn(ctx, ncol, ints);
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
        /* work_mem for reads (here, and for the session of a read-only handle): the row-group
         * pass of a broad plan sorts ~13 MB of row_groups.targetids (on disk at the default 4 MB)
         * and a predicate's bitmap heap scan stays exact (lossy at 4 MB: ~3M rows of galaxies
         * rechecked for "Z > 2.5"); not for a writer's session: sync's linkage anti-join ran
         * 1.6-1.8x slower with a 64 MB parallel hash */
        st = pg_exec(be,
                     "BEGIN READ ONLY; SET LOCAL statement_timeout = '600s';"
                     " SET LOCAL work_mem = '64MB'",
                     err);
        if (st != ARD_OK) {
            return st;
        }
    }
    /* integer rows come in binary: no int8out on the server, no strtoll here (679k TARGETIDs of a
     * broad predicate); a query with another column type is asked again in text */
    PGresult *res = PQexecParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, ifn ? 1 : 0);
    st = pg_result_ok(p, res, "query", err);
    if (st == ARD_OK) {
        st = pg_rows(res, fn, ifn, vfn, ctx);
        if (st == ARD_ENOTSUP) {
            PQclear(res);
            res = PQexecParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
            st = pg_result_ok(p, res, "query", err);
            st = st == ARD_OK ? pg_rows(res, fn, ifn, vfn, ctx) : st;
        }
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

/* 1 when the binary form of columns of this type is written below. */
static int binary_type(uint32_t oid) {
    return oid == PG_INT8 || oid == PG_INT4 || oid == PG_INT2 || oid == PG_FLOAT8 ||
           oid == PG_FLOAT4 || oid == PG_TEXT || oid == PG_VARCHAR || oid == PG_BOOL;
}

/* The column types of table(columns) from the catalog, into a cache slot keyed by sql. */
static ard_status lookup_types(pg_backend *p, const char *sql, const char *table,
                               const char *const *columns, int32_t n, const pg_copy_types **out,
                               ard_error *err) {
    *out = NULL;
    for (int32_t i = 0; i < PG_TYPE_CACHE; i++) {
        if (p->types[i].sql && strcmp(p->types[i].sql, sql) == 0) {
            *out = &p->types[i];
            return ARD_OK;
        }
    }
    const char *param[1] = {table};
    PGresult *res = PQexecParams(p->conn,
                                 "SELECT a.attname, a.atttypid FROM pg_attribute a WHERE"
                                 " a.attrelid = to_regclass($1) AND a.attnum > 0 AND"
                                 " NOT a.attisdropped",
                                 1, NULL, param, NULL, NULL, 0);
    ard_status st = pg_result_ok(p, res, "column types", err);
    pg_copy_types *slot = &p->types[p->next_type_slot];
    p->next_type_slot = (p->next_type_slot + 1) % PG_TYPE_CACHE;
    ard_free(slot->sql);
    ard_free(slot->oids);
    memset(slot, 0, sizeof *slot);
    if (st == ARD_OK && (!(slot->sql = ard_strdup(sql)) ||
                         !(slot->oids = ard_calloc((size_t)n, sizeof *slot->oids)))) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    slot->binary = st == ARD_OK;
    for (int32_t c = 0; st == ARD_OK && c < n; c++) {
        for (int r = 0; r < PQntuples(res); r++) {
            if (strcasecmp(PQgetvalue(res, r, 0), columns[c]) == 0) {
                slot->oids[c] = (uint32_t)strtoul(PQgetvalue(res, r, 1), NULL, 10);
            }
        }
        slot->binary &= binary_type(slot->oids[c]);
    }
    PQclear(res);
    if (st != ARD_OK) {
        ard_free(slot->sql);
        ard_free(slot->oids);
        memset(slot, 0, sizeof *slot);
        return st;
    }
    *out = slot;
    return ARD_OK;
}

/* PGCOPY signature, flags, header extension length. */
static const char copy_binary_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

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
    const pg_copy_types *types = NULL;
    ard_status st =
        lookup_types(p, (const char *)sql.data, table, columns, num_columns, &types, err);
    int freeze = strcmp(p->fresh_table, table) == 0;
    if (st == ARD_OK && (types->binary || freeze)) {
        sql.len--;
        ard_buf_appendf(&sql, " WITH (%s%s%s)", types->binary ? "FORMAT binary" : "",
                        types->binary && freeze ? ", " : "", freeze ? "FREEZE" : "");
        ard_buf_append(&sql, "", 1);
    }
    if (st == ARD_OK && sql.failed) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    if (st == ARD_OK) {
        PGresult *res = PQexec(p->conn, (const char *)sql.data);
        st = pg_result_ok(p, res, "COPY", err);
        PQclear(res);
    }
    ard_buf_reset(&sql);
    p->bulk_columns = num_columns;
    p->bulk_types = st == ARD_OK && types->binary ? types : NULL;
    p->copy.len = 0;
    if (p->bulk_types) {
        ard_buf_append(&p->copy, copy_binary_header, sizeof copy_binary_header);
    }
    return st;
}

/* Written in place (not through ard_buf_append's memcpy: a catalog row is 44 such fields), and
 * ard_buf_reserve called only when the buffer is full (the call per field was a third of the
 * rendering's CPU); a failed reservation leaves the buffer's sticky flag, which copy_flush
 * reports. */
static void put_be(ard_buf *b, uint64_t v, int bytes) {
    if (b->cap - b->len < (size_t)bytes && ard_buf_reserve(b, (size_t)bytes) != 0) {
        return;
    }
    uint8_t *out = b->data + b->len;
    for (int i = 0; i < bytes; i++) {
        out[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    }
    b->len += (size_t)bytes;
}

/* One field of a binary COPY row: length, then the value in the column's binary form. */
static ard_status put_binary(ard_buf *b, uint32_t oid, const idx_value *v, ard_error *err) {
    int is_null = v->type == IDX_NULL || (v->type == IDX_TEXT && !v->s) ||
                  (v->type == IDX_DOUBLE && v->d != v->d);
    if (is_null) {
        put_be(b, 0xffffffffu, 4);
        return ARD_OK;
    }
    if (oid == PG_TEXT || oid == PG_VARCHAR) {
        char num[40];
        const char *text = v->s;
        if (v->type == IDX_INT) {
            snprintf(num, sizeof num, "%lld", (long long)v->i);
            text = num;
        } else if (v->type == IDX_DOUBLE) {
            snprintf(num, sizeof num, "%.17g", v->d);
            text = num;
        }
        size_t len = strlen(text);
        if (len > 0x3fffffff) {
            return ard_error_set(err, ARD_ELIMIT, "postgresql: COPY text value of %zu bytes", len);
        }
        put_be(b, (uint64_t)len, 4);
        ard_buf_append(b, text, len);
        return ARD_OK;
    }
    if (oid == PG_FLOAT8 || oid == PG_FLOAT4) {
        if (v->type != IDX_DOUBLE && v->type != IDX_INT) {
            return ard_error_set(err, ARD_EDB, "postgresql: COPY: text value for a float column");
        }
        double d = v->type == IDX_DOUBLE ? v->d : (double)v->i;
        if (oid == PG_FLOAT4) {
            float f = (float)d;
            uint32_t bits;
            memcpy(&bits, &f, 4);
            put_be(b, 4, 4);
            put_be(b, bits, 4);
        } else {
            uint64_t bits;
            memcpy(&bits, &d, 8);
            put_be(b, 8, 4);
            put_be(b, bits, 8);
        }
        return ARD_OK;
    }
    /* integers and bool: exact integer values only, in the column's range */
    int64_t i = v->i;
    if (v->type == IDX_DOUBLE) {
        if (!(v->d >= -9.2e18 && v->d <= 9.2e18) || (double)(int64_t)v->d != v->d) {
            return ard_error_set(err, ARD_EDB,
                                 "postgresql: COPY: %.17g is not an integer for an integer column",
                                 v->d);
        }
        i = (int64_t)v->d;
    } else if (v->type != IDX_INT) {
        return ard_error_set(err, ARD_EDB, "postgresql: COPY: text value for an integer column");
    }
    int bytes = oid == PG_INT8 ? 8 : oid == PG_INT4 ? 4 : oid == PG_INT2 ? 2 : 1;
    int64_t lim = bytes == 8 ? INT64_MAX : bytes == 4 ? INT32_MAX : bytes == 2 ? INT16_MAX : 1;
    if (i > lim || i < (bytes == 1 ? 0 : -lim - 1)) {
        return ard_error_set(err, ARD_EDB, "postgresql: COPY: %lld is out of range for its column",
                             (long long)i);
    }
    put_be(b, (uint64_t)bytes, 4);
    put_be(b, (uint64_t)i, bytes);
    return ARD_OK;
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

/* COPY data goes out in chunks of this size. The socket holds ~200 KB (a Unix socket's default
 * send buffer): after a blocking send of a chunk it holds at most that, which the server ingests
 * in ~1 ms, while rendering a 1 MB chunk took ~4 ms, so the server idled ~1/3 of the COPY; a
 * 64 KB chunk renders well within what the socket still holds. */
enum { COPY_CHUNK = 64 * 1024 };

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
    if (p->bulk_types) {
        put_be(b, (uint64_t)p->bulk_columns, 2);
        for (int32_t c = 0; c < p->bulk_columns; c++) {
            ard_status st = put_binary(b, p->bulk_types->oids[c], &v[c], err);
            if (st != ARD_OK) {
                return st;
            }
        }
        return b->len >= COPY_CHUNK ? copy_flush(p, err) : ARD_OK;
    }
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
    return b->len >= COPY_CHUNK ? copy_flush(p, err) : ARD_OK;
}

/* ---- binary COPY rendered column by column (bulk_columns) ----
 * Rows go out in blocks: the block's row sizes first (every column's field lengths added per
 * row), then each row's start, then each column walked down the block writing its fields in
 * place: no idx_value per cell and no reservation per field (per-cell conversion and rendering
 * were a quarter of the catalog load's client CPU; bench/results/index.md). A block of 256
 * catalog rows is ~64 KB, COPY_CHUNK. */
enum { COLS_BLOCK = 256 };

/* How a column is written: its value bytes (fixed-width forms), or 0 for text and NULL columns. */
typedef struct col_out {
    int32_t bytes;
    int32_t text;
} col_out;

/* The binary form of column c in a column of type oid, or ARD_ENOTSUP when this path does not
 * write it (a conversion bulk_row checks value by value). */
static ard_status column_out(const idx_column *c, uint32_t oid, col_out *o) {
    int width = oid == PG_INT8 ? 8 : oid == PG_INT4 ? 4 : oid == PG_INT2 ? 2 : oid == PG_BOOL;
    int64_t lim = width == 8 ? INT64_MAX : width == 4 ? INT32_MAX : width == 2 ? INT16_MAX : 1;
    int floats = oid == PG_FLOAT8 || oid == PG_FLOAT4, text = oid == PG_TEXT || oid == PG_VARCHAR;
    *o = (col_out){0, 0};
    switch (c->kind) {
    case IDX_COL_NULL:
        return ARD_OK;
    case IDX_COL_CONST:
        o->bytes = width;
        return width && c->constant <= lim && c->constant >= (width == 1 ? 0 : -lim - 1)
                   ? ARD_OK
                   : ARD_ENOTSUP;
    case IDX_COL_BOOL:
    case IDX_COL_INT32:
    case IDX_COL_INT64: {
        int from = c->kind == IDX_COL_BOOL ? 1 : c->kind == IDX_COL_INT32 ? 4 : 8;
        o->bytes = width;
        return width >= from ? ARD_OK : ARD_ENOTSUP; /* every value fits */
    }
    case IDX_COL_FLOAT:
    case IDX_COL_DOUBLE:
        o->bytes = oid == PG_FLOAT8 ? 8 : 4;
        return floats ? ARD_OK : ARD_ENOTSUP;
    case IDX_COL_TEXT:
    case IDX_COL_FIXED:
        o->text = 1;
        return text ? ARD_OK : ARD_ENOTSUP;
    default:
        return ARD_ENOTSUP;
    }
}

/* Value j of a float column as bulk_row sees it (a double). */
static double float_at(const idx_column *c, int64_t j) {
    return c->kind == IDX_COL_FLOAT ? (double)((const float *)c->values)[j]
                                    : ((const double *)c->values)[j];
}

static void put32(uint8_t *out, uint32_t v) {
    v = __builtin_bswap32(v);
    memcpy(out, &v, 4);
}

/* A field: its length, then `bytes` big-endian bytes of v. */
static size_t put_field(uint8_t *out, uint64_t v, int32_t bytes) {
    put32(out, (uint32_t)bytes);
    if (bytes == 8) {
        v = __builtin_bswap64(v);
        memcpy(out + 4, &v, 8);
    } else if (bytes == 4) {
        put32(out + 4, (uint32_t)v);
    } else {
        for (int32_t i = 0; i < bytes; i++) {
            out[4 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
        }
    }
    return 4 + (size_t)bytes;
}

/* Adds column c's value bytes of rows [r0, r0 + n) to size[] (the 4-byte lengths are counted by
 * the caller); next: its first value. */
static ard_status size_column(const idx_column *c, const col_out *o, int64_t next, int64_t r0,
                              int64_t n, size_t *size, ard_error *err) {
    int floats = c->kind == IDX_COL_FLOAT || c->kind == IDX_COL_DOUBLE;
    if (c->kind == IDX_COL_NULL) {
        return ARD_OK;
    }
    for (int64_t k = 0; k < n; k++) {
        if (c->def && c->def[r0 + k] < c->max_def) {
            continue;
        }
        int64_t j = next++;
        if (o->text) {
            size_t len;
            ard__column_text(c, j, &len);
            if (len > 0x3fffffff) {
                return ard_error_set(err, ARD_ELIMIT, "postgresql: COPY text value of %zu bytes",
                                     len);
            }
            size[k] += len;
        } else if (floats) {
            double d = float_at(c, j);
            size[k] += d == d ? (size_t)o->bytes : 0; /* NaN: NULL */
        } else {
            size[k] += (size_t)o->bytes;
        }
    }
    return ARD_OK;
}

/* Writes column c's fields of rows [r0, r0 + n) at pos[] (advanced); *next: its next value. One
 * loop per kind of column (the kind is tested once per block, not once per cell). */
static void write_column(const idx_column *c, const col_out *o, int64_t *next, int64_t r0,
                         int64_t n, uint8_t *base, size_t *pos) {
    const int16_t *def = c->def ? c->def + r0 : NULL;
    int64_t j = *next;
    for (int64_t k = 0; k < n; k++) {
        uint8_t *out = base + pos[k];
        if (c->kind == IDX_COL_NULL || (def && def[k] < c->max_def)) {
            put32(out, 0xffffffffu);
            pos[k] += 4;
            continue;
        }
        switch (c->kind) {
        case IDX_COL_CONST:
            pos[k] += put_field(out, (uint64_t)c->constant, o->bytes);
            break;
        case IDX_COL_BOOL:
            pos[k] += put_field(out, ((const uint8_t *)c->values)[j++], o->bytes);
            break;
        case IDX_COL_INT32:
            pos[k] +=
                put_field(out, (uint64_t)(int64_t)((const int32_t *)c->values)[j++], o->bytes);
            break;
        case IDX_COL_INT64:
            pos[k] += put_field(out, (uint64_t)((const int64_t *)c->values)[j++], o->bytes);
            break;
        case IDX_COL_FLOAT:
        case IDX_COL_DOUBLE: {
            double d = float_at(c, j++);
            uint64_t bits = 0;
            if (d != d) {
                put32(out, 0xffffffffu);
                pos[k] += 4;
                break;
            }
            if (o->bytes == 4) {
                float f = (float)d;
                uint32_t b32;
                memcpy(&b32, &f, 4);
                bits = b32;
            } else {
                memcpy(&bits, &d, 8);
            }
            pos[k] += put_field(out, bits, o->bytes);
            break;
        }
        default: { /* text */
            size_t len;
            const uint8_t *s = ard__column_text(c, j++, &len);
            put32(out, (uint32_t)len);
            memcpy(out + 4, s, len);
            pos[k] += 4 + len;
        }
        }
    }
    *next = j;
}

/* One block of rows into the COPY buffer. */
static ard_status put_block(pg_backend *p, const idx_column *cols, const col_out *outs,
                            int64_t *next, int64_t r0, int64_t n, ard_error *err) {
    size_t size[COLS_BLOCK], pos[COLS_BLOCK];
    int32_t ncols = p->bulk_columns;
    for (int64_t k = 0; k < n; k++) {
        size[k] = 2 + 4 * (size_t)ncols;
    }
    for (int32_t c = 0; c < ncols; c++) {
        ard_status st = size_column(&cols[c], &outs[c], next[c], r0, n, size, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    size_t total = 0;
    for (int64_t k = 0; k < n; k++) {
        pos[k] = p->copy.len + total;
        total += size[k];
    }
    if (ard_buf_reserve(&p->copy, total) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory building COPY data");
    }
    for (int64_t k = 0; k < n; k++) {
        p->copy.data[pos[k]] = (uint8_t)(ncols >> 8);
        p->copy.data[pos[k] + 1] = (uint8_t)ncols;
        pos[k] += 2;
    }
    for (int32_t c = 0; c < ncols; c++) {
        write_column(&cols[c], &outs[c], &next[c], r0, n, p->copy.data, pos);
    }
    p->copy.len += total;
    return ARD_OK;
}

static ard_status pg_bulk_columns(idx_backend *be, const idx_column *cols, int64_t rows,
                                  ard_error *err) {
    pg_backend *p = (pg_backend *)be;
    int32_t n = p->bulk_columns;
    col_out *outs = NULL;
    int64_t *next = NULL;
    if (!p->bulk_types) {
        return ARD_ENOTSUP; /* a text COPY */
    }
    for (int32_t c = 0; c < n; c++) {
        col_out o;
        if (column_out(&cols[c], p->bulk_types->oids[c], &o) != ARD_OK) {
            return ARD_ENOTSUP;
        }
    }
    outs = ard_calloc((size_t)n, sizeof *outs);
    next = ard_calloc((size_t)n, sizeof *next);
    ard_status st = outs && next ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "out of memory");
    for (int32_t c = 0; c < n && st == ARD_OK; c++) {
        column_out(&cols[c], p->bulk_types->oids[c], &outs[c]);
    }
    for (int64_t r0 = 0; r0 < rows && st == ARD_OK; r0 += COLS_BLOCK) {
        int64_t block = rows - r0 < COLS_BLOCK ? rows - r0 : COLS_BLOCK;
        st = put_block(p, cols, outs, next, r0, block, err);
        if (st == ARD_OK && p->copy.len >= COPY_CHUNK) {
            st = copy_flush(p, err);
        }
    }
    ard_free(outs);
    ard_free(next);
    return st;
}

static ard_status pg_bulk_end(idx_backend *be, ard_error *err) {
    pg_backend *p = (pg_backend *)be;
    if (p->bulk_types) {
        put_be(&p->copy, 0xffffu, 2); /* the trailer */
        p->bulk_types = NULL;
    }
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

/* 1 when key is "column" or "column,column,...": identifiers only. */
static int key_columns(const char *key) {
    char part[64];
    for (const char *p = key;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0 || n >= sizeof part) {
            return 0;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        if (!ard__idx_identifier(part)) {
            return 0;
        }
        if (!comma) {
            return 1;
        }
        p = comma + 1;
    }
}

/* Drops the indexes of table that back no constraint, keeping their definitions in
 * p->fresh_indexes (one statement each). */
static ard_status drop_indexes(pg_backend *p, const char *table, ard_error *err) {
    const char *param[1] = {table};
    PGresult *res = PQexecParams(p->conn,
                                 "SELECT pg_get_indexdef(i.indexrelid), quote_ident(c.relname)"
                                 " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                                 " WHERE i.indrelid = to_regclass($1) AND NOT EXISTS"
                                 " (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                                 1, NULL, param, NULL, NULL, 0);
    ard_status st = pg_result_ok(p, res, "indexes", err);
    ard_buf drop;
    ard_buf_init(&drop);
    for (int r = 0; st == ARD_OK && r < PQntuples(res); r++) {
        ard_buf_appendf(&p->fresh_indexes, "%s;", PQgetvalue(res, r, 0));
        ard_buf_appendf(&drop, "DROP INDEX %s;", PQgetvalue(res, r, 1));
    }
    ard_buf_append(&p->fresh_indexes, "", 1);
    ard_buf_append(&drop, "", 1);
    p->fresh_indexes.len--; /* kept NUL-terminated */
    PQclear(res);
    if (st == ARD_OK && (drop.failed || p->fresh_indexes.failed)) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    if (st == ARD_OK && drop.len > 1) {
        st = pg_exec(&p->base, (const char *)drop.data, err);
    }
    ard_buf_reset(&drop);
    return st;
}

/* The table was emptied in this transaction (TRUNCATE), so COPY may write its rows frozen: no
 * hint-bit writes at the first read, and the visibility map set for index-only scans. */
static ard_status pg_bulk_fresh(idx_backend *be, const char *table, const char *key, int32_t phase,
                                ard_error *err) {
    pg_backend *p = (pg_backend *)be;
    if (!ard__idx_identifier(table) || (key && !key_columns(key)) ||
        strlen(table) >= sizeof p->fresh_table) {
        return ard_error_set(err, ARD_EINVAL, "postgresql: bulk_fresh: bad table or key name");
    }
    ard_status st = ARD_OK;
    char sql[512];
    if (phase == 1) {
        /* the key by its name in the catalog: a table rebuilt by a migration (CREATE x_v6, RENAME
         * TO x) keeps the name it was created with (x_v6_pkey) */
        snprintf(sql, sizeof sql,
                 "TRUNCATE %s; DO $ard$ DECLARE c text; BEGIN SELECT conname INTO c FROM"
                 " pg_constraint WHERE conrelid = '%s'::regclass AND contype = 'p'; IF c IS NOT"
                 " NULL THEN EXECUTE 'ALTER TABLE %s DROP CONSTRAINT ' || quote_ident(c);"
                 " END IF; END $ard$",
                 table, table, table);
        ard_buf_reset(&p->fresh_indexes);
        st = pg_exec(be, sql, err);
        st = st == ARD_OK ? drop_indexes(p, table, err) : st;
        snprintf(p->fresh_table, sizeof p->fresh_table, "%s", st == ARD_OK ? table : "");
        return st;
    }
    p->fresh_table[0] = '\0';
    if (phase == 2 && key) { /* memory for an in-memory sort, and for the server's parallel build */
        snprintf(sql, sizeof sql,
                 "SET LOCAL maintenance_work_mem = '256MB'; ALTER TABLE %s ADD PRIMARY KEY (%s)",
                 table, key);
        st = pg_exec(be, sql, err);
    }
    if (phase == 2 && st == ARD_OK && p->fresh_indexes.len > 0) {
        /* the rows arrive in the index's order (sync_fresh.c): one in-memory sort, ~1.2x the heap
         * (71 bytes a row against the heap's 60 for spectra's targetid b-tree), is a single pass
         * over presorted input; an external sort (256 MB) or parallel workers each sorting a part
         * and merging cost 2x the server CPU at 6.4M rows (bench/results/index.md, 2026-12-07) */
        snprintf(sql, sizeof sql,
                 "SELECT set_config('maintenance_work_mem', least(greatest(pg_relation_size('%s')"
                 " / 800 + 16384, 262144), 1048576)::text || 'kB', true);"
                 " SET LOCAL max_parallel_maintenance_workers = 0",
                 table);
        st = pg_exec(be, sql, err);
        st = st == ARD_OK ? pg_exec(be, (const char *)p->fresh_indexes.data, err) : st;
    }
    ard_buf_reset(&p->fresh_indexes);
    return st;
}

static void pg_close(idx_backend *be) {
    pg_backend *p = (pg_backend *)be;
    if (!p) {
        return;
    }
    PQfinish(p->conn);
    types_forget(p);
    ard_buf_reset(&p->copy);
    ard_buf_reset(&p->fresh_indexes);
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
    .bulk_columns = pg_bulk_columns,
    .bulk_fresh = pg_bulk_fresh,
    .type_double = "DOUBLE PRECISION",
    .close = pg_close,
    .select_values = pg_select_values,
    .begin_write_sql = "BEGIN; LOCK TABLE files IN SHARE ROW EXCLUSIVE MODE",
    /* not VACUUM: a fresh catalog load writes its pages all-visible (COPY FREEZE), which is what
     * the index-only scan of galaxies_z_tid needs; after a changed catalog file autovacuum sets
     * the visibility map of the touched pages again (until then those are read from the heap).
     * VACUUM here cost 2-3 s more per sync, most of it the first vacuum of spectra */
    .analyze_sql = "ANALYZE files, row_groups, spectra, galaxies",
    /* the tables the sync did not touch keep their statistics: ANALYZE of the 6.4M-row spectra
     * alone is ~1 s (its 30,000-row sample reads random pages), after a catalog-only sync */
    .analyze_tiles_sql = "ANALYZE files, row_groups, spectra",
    .analyze_catalog_sql = "ANALYZE files, galaxies",
    .list_tables_sql = "SELECT table_name FROM information_schema.tables WHERE"
                       " table_schema = current_schema()",
    .list_columns_sql = "SELECT table_name, column_name FROM information_schema.columns WHERE"
                        " table_schema = current_schema()",
    .integer_pk = "BIGINT PRIMARY KEY",
    .without_rowid = "",
    .collate_bytes = " COLLATE \"C\"",
    .include_targetid = " INCLUDE (targetid)",
    .spectra_index = "spectra_targetid ON spectra (targetid)",
    /* "ardschm" in ASCII; the sync lock (sync_lock.c) is "ardsync" */
    .schema_lock_sql = "SELECT pg_advisory_lock(27428848499124333)",
    .schema_unlock_sql = "SELECT pg_advisory_unlock(27428848499124333)",
    /* "ardsync" in ASCII (0x61726473796e63): a session advisory lock, released with the
     * connection */
    .concurrent_writers = 1,
    .sync_try_lock_sql =
        "SELECT CASE WHEN pg_try_advisory_lock(27428848500567651) THEN 1 ELSE 0 END",
    .sync_lock_sql = "SELECT 1 FROM (SELECT pg_advisory_lock(27428848500567651)) AS l",
    .sync_unlock_sql = "SELECT CASE WHEN pg_advisory_unlock(27428848500567651) THEN 1 ELSE 0 END",
};

ard_status ard__pg_open(const char *conninfo, int32_t read_only, idx_backend **out,
                        ard_error *err) {
    *out = NULL;
    ard_status loaded = ard__pq_load(err);
    if (loaded != ARD_OK) {
        return loaded;
    }
    pg_backend *p = ard_calloc(1, sizeof *p);
    if (!p) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    p->base.ops = &pg_ops;
    p->read_only = read_only;
    ard_buf_init(&p->copy);
    ard_buf_init(&p->fresh_indexes);
    p->conn = PQconnectdb(conninfo ? conninfo : "");
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        ard_status st = pg_fail(p->conn, "connecting", err);
        pg_close(&p->base);
        return st;
    }
    PQsetNoticeProcessor(p->conn, pg_notice, NULL);
    /* jit: compiling the expressions of a broad predicate cost 50-100 ms per query, more than it
     * saved on these scans */
    ard_status st = pg_exec(&p->base,
                            "SET synchronous_commit = off; SET client_min_messages = warning;"
                            "SET extra_float_digits = 1; SET jit = off",
                            err);
    if (st == ARD_OK && read_only) { /* work_mem: see pg_select_any; readers write nothing */
        st =
            pg_exec(&p->base, "SET default_transaction_read_only = on; SET work_mem = '64MB'", err);
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
