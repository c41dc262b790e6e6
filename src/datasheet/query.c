/* Collecting the rows of one read-only SELECT on the index (through ard_index_select, so both
 * backends) as strings, and reading them back as numbers. Ordering is always done here in C, never
 * by the database: PostgreSQL's collation would order paths differently from SQLite's. */
#include "datasheet_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int collect(void *ctx, int32_t n, const char *const *names, const char *const *values) {
    (void)names;
    ds_rows *r = ctx;
    if (r->ncols == 0) {
        r->ncols = n;
    }
    if (n != r->ncols) {
        r->failed = 1;
        return 1;
    }
    if (r->nrows == r->cap) {
        int64_t cap = r->cap ? r->cap * 2 : 64;
        char **grown = ard_realloc(r->cells, (size_t)(cap * n) * sizeof *grown);
        if (!grown) {
            r->failed = 1;
            return 1;
        }
        r->cells = grown;
        r->cap = cap;
    }
    char **row = r->cells + r->nrows * n;
    for (int32_t i = 0; i < n; i++) {
        row[i] = values[i] ? ard_strdup(values[i]) : NULL;
        if (values[i] && !row[i]) {
            for (int32_t k = 0; k < i; k++) {
                ard_free(row[k]);
            }
            r->failed = 1;
            return 1;
        }
    }
    r->nrows++;
    return 0;
}

ard_status ard__ds_query(ard_index *idx, const char *sql, ds_rows *out, ard_error *err) {
    memset(out, 0, sizeof *out);
    ard_status st = ard_index_select(idx, sql, collect, out, err);
    if (st == ARD_OK && out->failed) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory collecting datasheet rows");
    }
    if (st != ARD_OK) {
        ard__ds_rows_reset(out);
    }
    return st;
}

void ard__ds_rows_reset(ds_rows *r) {
    for (int64_t i = 0; i < r->nrows * r->ncols; i++) {
        ard_free(r->cells[i]);
    }
    ard_free(r->cells);
    memset(r, 0, sizeof *r);
}

const char *ard__ds_cell(const ds_rows *r, int64_t row, int32_t col) {
    if (row < 0 || row >= r->nrows || col < 0 || col >= r->ncols) {
        return NULL;
    }
    return r->cells[row * r->ncols + col];
}

int64_t ard__ds_cell_int(const ds_rows *r, int64_t row, int32_t col) {
    const char *s = ard__ds_cell(r, row, col);
    if (!s) {
        return 0;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end == '.' || *end == 'e' || *end == 'E') {
        return (int64_t)llround(strtod(s, NULL)); /* a numeric rendered with a fraction */
    }
    return (int64_t)v;
}

double ard__ds_cell_double(const ds_rows *r, int64_t row, int32_t col) {
    const char *s = ard__ds_cell(r, row, col);
    return s ? strtod(s, NULL) : NAN;
}

int ard__ds_strcmp_ptr(const void *a, const void *b) {
    const char *const *x = a;
    const char *const *y = b;
    return strcmp(*x ? *x : "", *y ? *y : "");
}
