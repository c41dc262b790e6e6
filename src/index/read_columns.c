/* Typed reads: catalog columns (by predicate or by TARGETIDs) and generic read-only SELECTs come
 * out of the index as typed arrays with null bitmaps. Values arrive typed from the backend
 * (select_values), so no caller parses SQL text again. */
#include "index_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IDS_PER_QUERY 1000

struct ard_column_set {
    int64_t num_rows, cap;
    int32_t num_columns;
    ard_index_column cols[ARD_INDEX_MAX_READ_COLUMNS];
    char names[ARD_INDEX_MAX_READ_COLUMNS][64];
    void *values[ARD_INDEX_MAX_READ_COLUMNS];      /* int64_t / double / int64_t text offsets */
    uint8_t *validity[ARD_INDEX_MAX_READ_COLUMNS]; /* 1 bit per row */
    ard_buf text[ARD_INDEX_MAX_READ_COLUMNS];      /* text bytes, NUL-terminated */
    const char **strings[ARD_INDEX_MAX_READ_COLUMNS];
    int32_t bad_column; /* a cell that does not convert: its column, else -1 */
    int failed;         /* out of memory */
    int take_names;     /* name the columns after the first row's result names */
};

void ard_column_set_free(ard_column_set *set) {
    if (!set) {
        return;
    }
    for (int32_t c = 0; c < set->num_columns; c++) {
        ard_free(set->values[c]);
        ard_free(set->validity[c]);
        ard_buf_reset(&set->text[c]);
        ard_free(set->strings[c]);
    }
    ard_free(set);
}

int64_t ard_column_set_num_rows(const ard_column_set *set) {
    return set ? set->num_rows : 0;
}

int32_t ard_column_set_num_columns(const ard_column_set *set) {
    return set ? set->num_columns : 0;
}

const ard_index_column *ard_column_set_column(const ard_column_set *set, int32_t c) {
    return set && c >= 0 && c < set->num_columns ? &set->cols[c] : NULL;
}

int32_t ard_column_set_find(const ard_column_set *set, const char *name) {
    for (int32_t c = 0; set && name && c < set->num_columns; c++) {
        if (strcasecmp(set->names[c], name) == 0) {
            return c;
        }
    }
    return -1;
}

int ard_column_set_valid(const ard_column_set *set, int32_t c, int64_t row) {
    if (!set || c < 0 || c >= set->num_columns || row < 0 || row >= set->num_rows) {
        return 0;
    }
    return (set->validity[c][row >> 3] >> (row & 7)) & 1;
}

/* ---- building a set ---- */

static ard_status set_new(const char *const *names, const int32_t *types, int32_t n,
                          ard_column_set **out, ard_error *err) {
    ard_column_set *set = ard_calloc(1, sizeof *set);
    if (!set) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    set->num_columns = n;
    set->bad_column = -1;
    for (int32_t c = 0; c < n; c++) {
        snprintf(set->names[c], sizeof set->names[c], "%s", names[c]);
        set->cols[c].name = set->names[c];
        set->cols[c].type = types[c];
        ard_buf_init(&set->text[c]);
    }
    *out = set;
    return ARD_OK;
}

/* Room for `rows` rows, new rows zeroed (NULL). */
static int set_reserve(ard_column_set *set, int64_t rows) {
    if (rows <= set->cap) {
        return 0;
    }
    int64_t cap = set->cap ? set->cap : 1024;
    while (cap < rows) {
        cap *= 2;
    }
    for (int32_t c = 0; c < set->num_columns; c++) {
        void *v = ard_realloc(set->values[c], (size_t)cap * 8);
        if (!v) {
            return -1;
        }
        set->values[c] = v;
        memset((char *)v + set->cap * 8, 0, (size_t)(cap - set->cap) * 8);
        uint8_t *bits = ard_realloc(set->validity[c], (size_t)(cap + 7) / 8);
        if (!bits) {
            return -1;
        }
        set->validity[c] = bits;
        size_t old_bytes = (size_t)(set->cap + 7) / 8;
        memset(bits + old_bytes, 0, (size_t)(cap + 7) / 8 - old_bytes);
    }
    set->cap = cap;
    return 0;
}

/* Shortest decimal that reads back as d. */
static void render_double(double d, char *buf, size_t cap) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            return;
        }
    }
}

/* Stores one cell; returns 0, or -1 when it does not convert to the column's type. */
static int put_cell(ard_column_set *set, int32_t c, int64_t row, const idx_value *v) {
    if (v->type == IDX_NULL) {
        if (set->cols[c].type == ARD_INDEX_DOUBLE) {
            ((double *)set->values[c])[row] = NAN;
        }
        return 0;
    }
    int32_t type = set->cols[c].type;
    if (type == ARD_INDEX_INT64) {
        if (v->type == IDX_INT) {
            ((int64_t *)set->values[c])[row] = v->i;
        } else if (v->type == IDX_DOUBLE && v->d == floor(v->d) && fabs(v->d) < 9.2e18) {
            ((int64_t *)set->values[c])[row] = (int64_t)v->d;
        } else {
            return -1;
        }
    } else if (type == ARD_INDEX_DOUBLE) {
        if (v->type == IDX_TEXT) {
            return -1;
        }
        ((double *)set->values[c])[row] = v->type == IDX_INT ? (double)v->i : v->d;
    } else {
        char num[40];
        const char *s = v->s;
        if (v->type == IDX_INT) {
            snprintf(num, sizeof num, "%lld", (long long)v->i);
            s = num;
        } else if (v->type == IDX_DOUBLE) {
            render_double(v->d, num, sizeof num);
            s = num;
        }
        ((int64_t *)set->values[c])[row] = (int64_t)set->text[c].len;
        ard_buf_append(&set->text[c], s, strlen(s) + 1);
    }
    set->validity[c][row >> 3] |= (uint8_t)(1u << (row & 7));
    return 0;
}

/* Appends one result row (values in column order). */
static int append_row(void *ctx, int32_t n, const char *const *names, const idx_value *v) {
    ard_column_set *set = ctx;
    if (n != set->num_columns) {
        set->bad_column = n;
        return 1;
    }
    for (int32_t c = 0; set->take_names && c < n; c++) {
        snprintf(set->names[c], sizeof set->names[c], "%s", names[c] ? names[c] : "");
    }
    set->take_names = 0;
    if (set_reserve(set, set->num_rows + 1) != 0) {
        set->failed = 1;
        return 1;
    }
    for (int32_t c = 0; c < n; c++) {
        if (put_cell(set, c, set->num_rows, &v[c]) != 0) {
            set->bad_column = c;
            return 1;
        }
    }
    set->num_rows++;
    return 0;
}

/* Turns text offsets into pointers and publishes the arrays in cols[]. */
static ard_status set_finish(ard_column_set *set, ard_error *err) {
    if (set_reserve(set, 1) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    for (int32_t c = 0; c < set->num_columns; c++) {
        set->cols[c].validity = set->validity[c];
        set->cols[c].values = set->values[c];
        if (set->cols[c].type != ARD_INDEX_TEXT) {
            continue;
        }
        if (set->text[c].failed) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        set->strings[c] = ard_malloc((size_t)set->cap * sizeof(char *));
        if (!set->strings[c]) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        const int64_t *offsets = set->values[c];
        for (int64_t r = 0; r < set->num_rows; r++) {
            set->strings[c][r] = ard_column_set_valid(set, c, r)
                                     ? (const char *)set->text[c].data + offsets[r]
                                     : NULL;
        }
        set->cols[c].values = set->strings[c];
    }
    return ARD_OK;
}

/* Runs sql and appends its rows to set; the status explains a bad row. */
static ard_status set_fill(ard_index *idx, ard_column_set *set, const char *sql, int guarded,
                           idx_value_row_fn fn, void *ctx, ard_error *err) {
    ard_status st = idx->be->ops->select_values(idx->be, sql, guarded, fn, ctx, err);
    if (st != ARD_OK) {
        return st;
    }
    if (set->failed) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory reading columns");
    }
    if (set->bad_column >= set->num_columns) {
        return ard_error_set(err, ARD_EINVAL, "the statement returns %d columns, not %d",
                             (int)set->bad_column, (int)set->num_columns);
    }
    if (set->bad_column >= 0) {
        return ard_error_set(err, ARD_EINVAL, "column %s: a value does not convert to %s",
                             set->names[set->bad_column],
                             set->cols[set->bad_column].type == ARD_INDEX_INT64 ? "int64"
                                                                                : "double");
    }
    return ARD_OK;
}

/* ---- catalog columns ---- */

static ard_status catalog_columns(const char *const *columns, int32_t n, const char **names,
                                  int32_t *types, ard_error *err) {
    if (!columns || n <= 0 || n > ARD_INDEX_MAX_READ_COLUMNS) {
        return ard_error_set(err, ARD_EINVAL, "read_columns: 1 to %d columns, not %d",
                             ARD_INDEX_MAX_READ_COLUMNS, (int)n);
    }
    for (int32_t c = 0; c < n; c++) {
        int32_t k = 0;
        while (k < ard__num_catalog_columns &&
               (!columns[c] || strcasecmp(columns[c], ard__catalog_columns[k].name) != 0)) {
            k++;
        }
        if (k == ard__num_catalog_columns) {
            return ard_error_set(err, ARD_EINVAL,
                                 "read_columns: \"%.80s\" is not a catalog column (galaxies has "
                                 "targetid, target_ra, target_dec, z, zerr, zwarn, deltachi2, "
                                 "spectype, subtype, healpix, survey, program, desi_target, "
                                 "bgs_target, flux_g, flux_r, flux_z, ebv, coadd_fiberstatus, "
                                 "target_class)",
                                 columns[c] ? columns[c] : "(null)");
        }
        for (int32_t j = 0; j < c; j++) {
            if (names[j] == ard__catalog_columns[k].name) {
                return ard_error_set(err, ARD_EINVAL, "read_columns: column %s given twice",
                                     names[j]);
            }
        }
        names[c] = ard__catalog_columns[k].name;
        idx_vtype t = ard__catalog_columns[k].type;
        types[c] = t == IDX_INT      ? ARD_INDEX_INT64
                   : t == IDX_DOUBLE ? ARD_INDEX_DOUBLE
                                     : ARD_INDEX_TEXT;
    }
    return ARD_OK;
}

static void select_list(ard_buf *sql, const char *first, const char *const *names, int32_t n) {
    ard_buf_appendf(sql, "SELECT %s", first ? first : "");
    for (int32_t c = 0; c < n; c++) {
        ard_buf_appendf(sql, "%s%s", c || first ? ", " : "", names[c]);
    }
    ard_buf_appendf(sql, " FROM galaxies");
}

ard_status ard_index_read_columns(ard_index *idx, const char *const *columns, int32_t num_columns,
                                  const char *where, int64_t limit, ard_column_set **out,
                                  ard_error *err) {
    if (!idx || !out) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_read_columns: index and out required");
    }
    *out = NULL;
    const char *names[ARD_INDEX_MAX_READ_COLUMNS];
    int32_t types[ARD_INDEX_MAX_READ_COLUMNS];
    ard_status st = catalog_columns(columns, num_columns, names, types, err);
    int all = !where || !*where;
    if (st == ARD_OK && !all) {
        st = ard__predicate_check(where, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    ard_buf sql;
    ard_buf_init(&sql);
    select_list(&sql, NULL, names, num_columns);
    if (!all) {
        ard_buf_appendf(&sql, " WHERE (%s)", where);
    }
    ard_buf_appendf(&sql, " ORDER BY targetid");
    if (limit > 0) {
        ard_buf_appendf(&sql, " LIMIT %lld", (long long)limit);
    }
    ard_buf_append(&sql, "", 1);
    ard_column_set *set = NULL;
    st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                    : set_new(names, types, num_columns, &set, err);
    if (st == ARD_OK) {
        st = set_fill(idx, set, (const char *)sql.data, 1, append_row, set, err);
    }
    if (st == ARD_OK) {
        st = set_finish(set, err);
    }
    ard_buf_reset(&sql);
    if (st != ARD_OK) {
        ard_column_set_free(set);
        ard_error_prefix(err, "read_columns: ");
        return st;
    }
    *out = set;
    return ARD_OK;
}

/* ---- by TARGETID ---- */

typedef struct tid_fill {
    ard_column_set *set;
    const int64_t *pairs; /* (targetid, row) sorted */
    int64_t num_pairs;
} tid_fill;

static int cmp_pair(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* Row: targetid, then the requested columns; written to every row that asked for it. */
static int tid_row(void *ctx, int32_t n, const char *const *names, const idx_value *v) {
    (void)names;
    tid_fill *f = ctx;
    ard_column_set *set = f->set;
    if (n != set->num_columns + 1 || v[0].type != IDX_INT) {
        set->bad_column = set->num_columns + 1;
        return 1;
    }
    int64_t lo = 0, hi = f->num_pairs;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (f->pairs[2 * mid] < v[0].i) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (int64_t k = lo; k < f->num_pairs && f->pairs[2 * k] == v[0].i; k++) {
        for (int32_t c = 0; c < set->num_columns; c++) {
            if (put_cell(set, c, f->pairs[2 * k + 1], &v[c + 1]) != 0) {
                set->bad_column = c;
                return 1;
            }
        }
    }
    return 0;
}

static ard_status read_ids(ard_index *idx, ard_column_set *set, const char *const *names,
                           tid_fill *f, ard_error *err) {
    ard_status st = ARD_OK;
    ard_buf sql;
    ard_buf_init(&sql);
    for (int64_t at = 0; at < f->num_pairs && st == ARD_OK;) {
        sql.len = 0;
        select_list(&sql, "targetid", names, set->num_columns);
        ard_buf_appendf(&sql, " WHERE targetid IN (");
        int64_t n = 0;
        for (; at < f->num_pairs && n < IDS_PER_QUERY; at++) {
            if (at > 0 && f->pairs[2 * at] == f->pairs[2 * (at - 1)]) {
                continue;
            }
            ard_buf_appendf(&sql, "%s%lld", n++ ? "," : "", (long long)f->pairs[2 * at]);
        }
        ard_buf_append(&sql, ")", 2);
        st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                        : set_fill(idx, set, (const char *)sql.data, 0, tid_row, f, err);
    }
    ard_buf_reset(&sql);
    return st;
}

ard_status ard_index_read_targetids(ard_index *idx, const char *const *columns, int32_t num_columns,
                                    const int64_t *targetids, int64_t count, ard_column_set **out,
                                    ard_error *err) {
    if (!idx || !out || count < 0 || (count > 0 && !targetids)) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_read_targetids: bad arguments");
    }
    *out = NULL;
    const char *names[ARD_INDEX_MAX_READ_COLUMNS];
    int32_t types[ARD_INDEX_MAX_READ_COLUMNS];
    ard_status st = catalog_columns(columns, num_columns, names, types, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_column_set *set = NULL;
    int64_t *pairs = ard_malloc((size_t)(count > 0 ? count : 1) * 2 * sizeof *pairs);
    st = pairs ? set_new(names, types, num_columns, &set, err)
               : ard_error_set(err, ARD_ENOMEM, "out of memory");
    if (st == ARD_OK && set_reserve(set, count) != 0) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    if (st == ARD_OK) {
        for (int64_t i = 0; i < count; i++) {
            pairs[2 * i] = targetids[i];
            pairs[2 * i + 1] = i;
            for (int32_t c = 0; c < num_columns; c++) {
                if (types[c] == ARD_INDEX_DOUBLE) {
                    ((double *)set->values[c])[i] = NAN;
                }
            }
        }
        qsort(pairs, (size_t)count, 2 * sizeof *pairs, cmp_pair);
        set->num_rows = count;
        tid_fill f = {set, pairs, count};
        st = read_ids(idx, set, names, &f, err);
    }
    if (st == ARD_OK) {
        st = set_finish(set, err);
    }
    ard_free(pairs);
    if (st != ARD_OK) {
        ard_column_set_free(set);
        ard_error_prefix(err, "read_targetids: ");
        return st;
    }
    *out = set;
    return ARD_OK;
}

/* ---- generic SELECT ---- */

ard_status ard_index_select_columns(ard_index *idx, const char *sql, const int32_t *types,
                                    int32_t num_types, ard_column_set **out, ard_error *err) {
    if (!idx || !sql || !out || !types || num_types <= 0 ||
        num_types > ARD_INDEX_MAX_READ_COLUMNS) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_select_columns: bad arguments");
    }
    *out = NULL;
    const char *names[ARD_INDEX_MAX_READ_COLUMNS];
    char generated[ARD_INDEX_MAX_READ_COLUMNS][16];
    for (int32_t c = 0; c < num_types; c++) {
        if (types[c] < ARD_INDEX_INT64 || types[c] > ARD_INDEX_TEXT) {
            return ard_error_set(err, ARD_EINVAL, "select_columns: column %d: bad type %d", c,
                                 (int)types[c]);
        }
        snprintf(generated[c], sizeof generated[c], "column%d", (int)c);
        names[c] = generated[c];
    }
    ard_status st = ard__predicate_check(sql, err);
    ard_column_set *set = NULL;
    if (st == ARD_OK) {
        st = set_new(names, types, num_types, &set, err);
    }
    if (st == ARD_OK) {
        set->take_names = 1;
        st = set_fill(idx, set, sql, 1, append_row, set, err);
    }
    if (st == ARD_OK) {
        st = set_finish(set, err);
    }
    if (st != ARD_OK) {
        ard_column_set_free(set);
        return st;
    }
    *out = set;
    return ARD_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

ard_status ard_index_tables(ard_index *idx, ard_column_set **out, ard_error *err) {
    if (!idx || !out) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_tables: bad arguments");
    }
    *out = NULL;
    const char *name = "name";
    int32_t type = ARD_INDEX_TEXT;
    ard_column_set *set = NULL;
    ard_status st = set_new(&name, &type, 1, &set, err);
    if (st == ARD_OK) {
        st = set_fill(idx, set, idx->be->ops->list_tables_sql, 0, append_row, set, err);
    }
    if (st == ARD_OK) {
        st = set_finish(set, err);
    }
    if (st != ARD_OK) {
        ard_column_set_free(set);
        return st;
    }
    for (int64_t r = 0; r < set->num_rows; r++) {
        for (char *p = (char *)set->strings[0][r]; p && *p; p++) {
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        }
    }
    qsort(set->strings[0], (size_t)set->num_rows, sizeof(char *), cmp_str);
    *out = set;
    return ARD_OK;
}
