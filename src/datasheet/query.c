/* The rows of one read-only SELECT on the index (both backends): typed through
 * ard_index_select_columns (numbers arrive as int64/double, nothing is parsed), or as strings for
 * statements of text cells. Ordering is always done here in C, never by the database:
 * PostgreSQL's collation would order paths differently from SQLite's. */
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

ard_status ard__ds_query_typed(ard_index *idx, const char *sql, const char *types, ds_rows *out,
                               ard_error *err) {
    memset(out, 0, sizeof *out);
    int32_t t[ARD_INDEX_MAX_READ_COLUMNS], n = 0;
    for (; types[n] && n < ARD_INDEX_MAX_READ_COLUMNS; n++) {
        t[n] = types[n] == 'I' ? ARD_INDEX_INT64
                               : (types[n] == 'D' ? ARD_INDEX_DOUBLE : ARD_INDEX_TEXT);
    }
    ard_status st = ard_index_select_columns(idx, sql, t, n, &out->set, err);
    if (st == ARD_OK) {
        out->nrows = ard_column_set_num_rows(out->set);
        out->ncols = ard_column_set_num_columns(out->set);
    }
    return st;
}

void ard__ds_rows_reset(ds_rows *r) {
    ard_column_set_free(r->set);
    ard_free(r->order);
    for (int64_t i = 0; r->cells && i < r->nrows * r->ncols; i++) {
        ard_free(r->cells[i]);
    }
    ard_free(r->cells);
    memset(r, 0, sizeof *r);
}

/* Column col of a typed set when (row, col) is a non-NULL cell, else NULL; *at = the set's row. */
static const ard_index_column *typed(const ds_rows *r, int64_t row, int32_t col, int64_t *at) {
    if (!r->set || row < 0 || row >= r->nrows) {
        return NULL;
    }
    *at = r->order ? r->order[row] : row;
    return ard_column_set_valid(r->set, col, *at) ? ard_column_set_column(r->set, col) : NULL;
}

ard_status ard__ds_sort_rows(ds_rows *r, int32_t col, int (*cmp)(const char *, const char *),
                             ard_error *err) {
    if (!r->set || r->nrows < 2) {
        return ARD_OK;
    }
    int64_t *order = ard_malloc((size_t)r->nrows * sizeof *order);
    if (!order) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory sorting datasheet rows");
    }
    const ard_index_column *c = ard_column_set_column(r->set, col);
    const char *const *text = c && c->type == ARD_INDEX_TEXT ? c->values : NULL;
    for (int64_t i = 0; i < r->nrows; i++) {
        int64_t v = i, j = i;
        for (; j > 0 && text && cmp(text[order[j - 1]], text[v]) > 0; j--) {
            order[j] = order[j - 1];
        }
        order[j] = v;
    }
    ard_free(r->order);
    r->order = order;
    return ARD_OK;
}

const char *ard__ds_cell(const ds_rows *r, int64_t row, int32_t col) {
    if (row < 0 || row >= r->nrows || col < 0 || col >= r->ncols) {
        return NULL;
    }
    if (r->set) {
        int64_t at = 0;
        const ard_index_column *c = typed(r, row, col, &at);
        return c && c->type == ARD_INDEX_TEXT ? ((const char *const *)c->values)[at] : NULL;
    }
    return r->cells[row * r->ncols + col];
}

int64_t ard__ds_cell_int(const ds_rows *r, int64_t row, int32_t col) {
    if (r->set) {
        int64_t at = 0;
        const ard_index_column *c = typed(r, row, col, &at);
        if (c && c->type == ARD_INDEX_INT64) {
            return ((const int64_t *)c->values)[at];
        }
        return c && c->type == ARD_INDEX_DOUBLE ? (int64_t)llround(((const double *)c->values)[at])
                                                : 0;
    }
    return 0; /* a text set: numbers are read typed, never parsed */
}

double ard__ds_cell_double(const ds_rows *r, int64_t row, int32_t col) {
    if (r->set) {
        int64_t at = 0;
        const ard_index_column *c = typed(r, row, col, &at);
        if (c && c->type == ARD_INDEX_DOUBLE) {
            return ((const double *)c->values)[at];
        }
        return c && c->type == ARD_INDEX_INT64 ? (double)((const int64_t *)c->values)[at] : NAN;
    }
    return NAN; /* a text set: numbers are read typed, never parsed */
}

int ard__ds_strcmp_null(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "");
}

int ard__ds_strcmp_ptr(const void *a, const void *b) {
    const char *const *x = a;
    const char *const *y = b;
    return strcmp(*x ? *x : "", *y ? *y : "");
}
