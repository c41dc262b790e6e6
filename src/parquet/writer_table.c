/* "Write these columns": the one flat-table writer. A schema built from column descriptors (scalar
 * columns, strings, fixed-width list<float> / list<uint8>), then each batch handed to the writer
 * column by column. Catalogs, truth tables, science results and fetch exports all go through it. */
#include "writer_int.h"

#include <string.h>

static int is_list(int32_t kind) {
    return kind == ARD_PARQUET_COL_LIST_F32 || kind == ARD_PARQUET_COL_LIST_U8;
}

static ard_pq_type physical(int32_t kind) {
    static const ard_pq_type types[] = {ARD_PQ_INT32,  ARD_PQ_INT64,      ARD_PQ_FLOAT,
                                        ARD_PQ_DOUBLE, ARD_PQ_BYTE_ARRAY, ARD_PQ_FLOAT,
                                        ARD_PQ_INT32};
    return types[kind];
}

static ard_status add_one(ard_pq_schema_builder *sb, const ard_parquet_table_column *c,
                          int32_t index, ard_error *err) {
    if (!c->name || c->kind < ARD_PARQUET_COL_INT32 || c->kind > ARD_PARQUET_COL_LIST_U8 ||
        (c->flags & ~15) != 0 || ((c->flags & ARD_PARQUET_COL_NULL_LISTS) && !is_list(c->kind))) {
        return ard_error_set(err, ARD_EINVAL, "table column %d (%s): bad kind %d or flags %d",
                             index, c->name ? c->name : "(null)", c->kind, c->flags);
    }
    ard_pq_logical logical;
    memset(&logical, 0, sizeof logical);
    if (c->kind == ARD_PARQUET_COL_STRING) {
        logical.kind = ARD_PQ_LT_STRING;
    } else if (c->kind == ARD_PARQUET_COL_LIST_U8) {
        logical.kind = ARD_PQ_LT_INTEGER;
        logical.bit_width = 8;
    }
    const ard_pq_logical *lt = logical.kind ? &logical : NULL;
    ard_pq_repetition values =
        (c->flags & ARD_PARQUET_COL_NULLABLE) ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED;
    ard_pq_repetition lists =
        (c->flags & ARD_PARQUET_COL_NULL_LISTS) ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED;
    int32_t col = -1;
    ard_status st =
        is_list(c->kind)
            ? ard_pq_schema_add_list(sb, c->name, physical(c->kind), lists, values, lt, &col, err)
            : ard_pq_schema_add_column(sb, c->name, physical(c->kind), values, lt, 0, &col, err);
    if (st == ARD_OK && (c->flags & ARD_PARQUET_COL_SORTED)) {
        st = ard_pq_schema_set_sorted(sb, col, 1, err);
    }
    if (st == ARD_OK && (c->flags & ARD_PARQUET_COL_PLAIN)) {
        st = ard_pq_schema_set_encoding(sb, col, ARD_PQ_PLAIN, err);
    }
    return st;
}

ard_status ard_parquet_table_open(const char *path, const ard_parquet_table_column *cols,
                                  int32_t num_columns, const ard_pq_writer_options *opts,
                                  ard_pq_writer **out, ard_error *err) {
    if (!out || !path || !cols || num_columns <= 0) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_table_open: bad arguments");
    }
    *out = NULL;
    ard_pq_schema_builder *sb = NULL;
    ard_status st = ard_pq_schema_new(&sb, err);
    for (int32_t c = 0; st == ARD_OK && c < num_columns; c++) {
        st = add_one(sb, &cols[c], c, err);
    }
    ard_pq_writer_options defaults;
    if (!opts) {
        ard_pq_writer_options_init(&defaults);
        defaults.codec = ARD_PQ_ZSTD;
        opts = &defaults;
    }
    if (st == ARD_OK) {
        st = ard_pq_writer_open(path, sb, opts, out, err);
    }
    ard_pq_schema_free(sb);
    return st;
}

/* Strings as BYTE_ARRAY offsets + data; NULL entries become nulls. */
static ard_status append_strings(ard_pq_writer *w, int32_t col, const char *const *strs,
                                 int64_t rows, ard_error *err) {
    int64_t *offsets = ard_malloc((size_t)(rows + 1) * sizeof *offsets);
    uint8_t *valid = ard_calloc((size_t)(rows / 8 + 1), 1);
    ard_buf data;
    ard_buf_init(&data);
    int nulls = 0;
    if (offsets) {
        offsets[0] = 0;
    }
    for (int64_t i = 0; offsets && valid && i < rows; i++) {
        size_t len = strs[i] ? strlen(strs[i]) : 0;
        nulls |= !strs[i];
        if (strs[i]) {
            valid[i >> 3] = (uint8_t)(valid[i >> 3] | (1u << (i & 7)));
            ard_buf_append(&data, strs[i], len);
        }
        offsets[i + 1] = offsets[i] + (int64_t)len;
    }
    ard_status st =
        !offsets || !valid || data.failed
            ? ard_error_set(err, ARD_ENOMEM, "strings: no memory for %lld values", (long long)rows)
            : ard_pq_writer_write_binary(w, col, offsets,
                                         data.data ? data.data : (const uint8_t *)"",
                                         nulls ? valid : NULL, rows, err);
    ard_free(offsets);
    ard_free(valid);
    ard_buf_reset(&data);
    return st;
}

static ard_status append_one(ard_pq_writer *w, int32_t col, const ard_parquet_table_column *c,
                             int64_t rows, ard_error *err) {
    if (rows > 0 && !c->values) {
        return ard_error_set(err, ARD_EINVAL, "table column %s: no values", c->name);
    }
    if (c->kind == ARD_PARQUET_COL_STRING) {
        return append_strings(w, col, c->values, rows, err);
    }
    if (is_list(c->kind)) {
        return ard_pq_writer_write_list_matrix(w, col, c->values, rows, c->width, c->validity,
                                               c->row_validity, err);
    }
    return ard_pq_writer_write_column(w, col, c->values, c->validity, rows, err);
}

ard_status ard_parquet_table_append(ard_pq_writer *w, const ard_parquet_table_column *cols,
                                    int32_t num_columns, int64_t rows, ard_error *err) {
    if (!w || !cols || rows < 0 || num_columns != ard_pq_schema_num_columns(&w->schema)) {
        return ard_error_set(err, ARD_EINVAL,
                             "ard_parquet_table_append: %d columns given, the table has %d",
                             num_columns, w ? ard_pq_schema_num_columns(&w->schema) : 0);
    }
    ard_status st = ARD_OK;
    for (int32_t c = 0; st == ARD_OK && c < num_columns; c++) {
        st = append_one(w, c, &cols[c], rows, err);
    }
    return st;
}

ard_status ard_parquet_write_table(const char *path, const ard_parquet_table_column *cols,
                                   int32_t num_columns, int64_t rows,
                                   const ard_pq_writer_options *opts, ard_error *err) {
    ard_pq_writer *w = NULL;
    ard_status st = ard_parquet_table_open(path, cols, num_columns, opts, &w, err);
    if (st == ARD_OK) {
        st = ard_parquet_table_append(w, cols, num_columns, rows, err);
    }
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        return st;
    }
    return ard_pq_writer_close(w, err);
}
