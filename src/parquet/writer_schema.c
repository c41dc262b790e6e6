/* Parquet writer schema declaration: the schema builder, the checks that keep physical and logical
 * types consistent, what follows from a column's declaration (levels, input width, sort order,
 * default encoding), and the writer options' defaults. */
#include "writer_int.h"

#include <string.h>

void ard_pq_writer_options_init(ard_pq_writer_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->codec = ARD_PQ_SNAPPY;
    opts->page_version = 1;
    opts->target_row_group_bytes = (int64_t)256 << 20;
    opts->page_size_bytes = (int64_t)1 << 20;
    opts->max_dictionary_bytes = (int64_t)1 << 20;
    opts->byte_stream_split = 1; /* measured: bench/results/parquet-write.md */
}

ard_status ard_pq_schema_new(ard_pq_schema_builder **out, ard_error *err) {
    *out = ard_calloc(1, sizeof **out);
    if (!*out) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory for the schema");
    }
    return ARD_OK;
}

void ard__pqw_schema_reset(ard_pq_schema_builder *sb) {
    for (int32_t i = 0; i < sb->num_cols; i++) {
        ard_free(sb->cols[i].name);
    }
    ard_free(sb->cols);
    memset(sb, 0, sizeof *sb);
}

void ard_pq_schema_free(ard_pq_schema_builder *sb) {
    if (sb) {
        ard__pqw_schema_reset(sb);
        ard_free(sb);
    }
}

int32_t ard_pq_schema_num_columns(const ard_pq_schema_builder *sb) {
    return sb ? sb->num_cols : 0;
}

static ard__sort_kind sort_kind_of(const ard__pqw_column *c) {
    const ard_pq_logical *lt = &c->logical;
    switch (c->type) {
    case ARD_PQ_BOOLEAN:
        return ARD__SORT_BOOL;
    case ARD_PQ_INT32:
        return lt->kind == ARD_PQ_LT_INTEGER && !lt->is_signed ? ARD__SORT_U32 : ARD__SORT_I32;
    case ARD_PQ_INT64:
        return lt->kind == ARD_PQ_LT_INTEGER && !lt->is_signed ? ARD__SORT_U64 : ARD__SORT_I64;
    case ARD_PQ_FLOAT:
        return ARD__SORT_F32;
    case ARD_PQ_DOUBLE:
        return ARD__SORT_F64;
    case ARD_PQ_BYTE_ARRAY:
    case ARD_PQ_FIXED_LEN_BYTE_ARRAY:
        /* DECIMAL bytes sort as signed big-endian numbers, FLOAT16 as halves: no bounds written. */
        if (lt->kind == ARD_PQ_LT_DECIMAL || lt->kind == ARD_PQ_LT_FLOAT16 ||
            lt->kind == ARD_PQ_LT_INTERVAL) {
            return ARD__SORT_NONE;
        }
        return ARD__SORT_BYTES;
    default:
        return ARD__SORT_NONE; /* INT96 */
    }
}

void ard__pqw_column_derive(ard__pqw_column *c) {
    int opt_list = c->repetition == ARD_PQ_OPTIONAL;
    if (c->is_list) {
        c->max_rep = 1;
        c->max_def = (int16_t)(opt_list + 1 + (c->elem_repetition == ARD_PQ_OPTIONAL));
    } else {
        c->max_rep = 0;
        c->max_def = (int16_t)opt_list;
    }
    c->value_width = ard__type_width(c->type, c->type_length);
    c->input_width = c->value_width;
    c->input_signed = 1;
    if (c->type == ARD_PQ_INT32 && c->logical.kind == ARD_PQ_LT_INTEGER &&
        c->logical.bit_width < 32) {
        c->input_width = c->logical.bit_width / 8;
        c->input_signed = c->logical.is_signed != 0;
    }
    c->sort_kind = sort_kind_of(c);
}

/* Does the logical annotation fit the physical type? */
static int logical_ok(ard_pq_type type, int32_t type_length, const ard_pq_logical *lt) {
    switch (lt->kind) {
    case ARD_PQ_LT_NONE:
        return 1;
    case ARD_PQ_LT_STRING:
    case ARD_PQ_LT_ENUM:
    case ARD_PQ_LT_JSON:
    case ARD_PQ_LT_BSON:
        return type == ARD_PQ_BYTE_ARRAY;
    case ARD_PQ_LT_INTEGER:
        if (type == ARD_PQ_INT64) {
            return lt->bit_width == 64;
        }
        return type == ARD_PQ_INT32 &&
               (lt->bit_width == 8 || lt->bit_width == 16 || lt->bit_width == 32);
    case ARD_PQ_LT_DATE:
        return type == ARD_PQ_INT32;
    case ARD_PQ_LT_TIME:
        return lt->unit == ARD_PQ_MILLIS ? type == ARD_PQ_INT32 : type == ARD_PQ_INT64;
    case ARD_PQ_LT_TIMESTAMP:
        return type == ARD_PQ_INT64 && lt->unit <= ARD_PQ_NANOS;
    case ARD_PQ_LT_DECIMAL:
        return lt->precision > 0 && lt->scale >= 0 && lt->scale <= lt->precision &&
               (type == ARD_PQ_INT32 || type == ARD_PQ_INT64 || type == ARD_PQ_BYTE_ARRAY ||
                type == ARD_PQ_FIXED_LEN_BYTE_ARRAY);
    case ARD_PQ_LT_UUID:
        return type == ARD_PQ_FIXED_LEN_BYTE_ARRAY && type_length == 16;
    case ARD_PQ_LT_FLOAT16:
        return type == ARD_PQ_FIXED_LEN_BYTE_ARRAY && type_length == 2;
    default:
        return 0;
    }
}

static ard_status check_name(const ard_pq_schema_builder *sb, const char *name, ard_error *err) {
    if (!name || !name[0]) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: empty column name");
    }
    for (int32_t i = 0; i < sb->num_cols; i++) {
        if (strcmp(sb->cols[i].name, name) == 0) {
            return ard_error_set(err, ARD_EINVAL, "parquet writer: duplicate column name '%s'",
                                 name);
        }
    }
    return ARD_OK;
}

static ard_status check_type(const char *name, ard_pq_type type, int32_t type_length,
                             const ard_pq_logical *lt, ard_error *err) {
    if ((int)type < ARD_PQ_BOOLEAN || type > ARD_PQ_FIXED_LEN_BYTE_ARRAY) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: column '%s': bad physical type %d",
                             name, (int)type);
    }
    if ((type == ARD_PQ_FIXED_LEN_BYTE_ARRAY) != (type_length > 0)) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: column '%s': type_length %d does not fit type %s",
                             name, type_length, ard_pq_type_name(type));
    }
    if (lt && !logical_ok(type, type_length, lt)) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: column '%s': logical type %s does not fit %s", name,
                             ard_pq_logical_name(lt->kind), ard_pq_type_name(type));
    }
    return ARD_OK;
}

static ard_status push_column(ard_pq_schema_builder *sb, const ard__pqw_column *c, int32_t *col_out,
                              ard_error *err) {
    if (sb->num_cols == sb->cap) {
        int32_t cap = sb->cap ? sb->cap * 2 : 8;
        ard__pqw_column *grown = ard_realloc(sb->cols, (size_t)cap * sizeof *grown);
        if (!grown) {
            return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory for the schema");
        }
        sb->cols = grown;
        sb->cap = cap;
    }
    ard__pqw_column *dst = &sb->cols[sb->num_cols];
    *dst = *c;
    dst->name = ard_strdup(c->name);
    if (!dst->name) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory for the schema");
    }
    ard__pqw_column_derive(dst);
    if (col_out) {
        *col_out = sb->num_cols;
    }
    sb->num_cols++;
    return ARD_OK;
}

ard_status ard_pq_schema_add_column(ard_pq_schema_builder *sb, const char *name, ard_pq_type type,
                                    ard_pq_repetition repetition, const ard_pq_logical *logical,
                                    int32_t type_length, int32_t *col_out, ard_error *err) {
    if (col_out) {
        *col_out = -1;
    }
    if (!sb) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: NULL schema builder");
    }
    ard_status st = check_name(sb, name, err);
    if (st == ARD_OK) {
        st = check_type(name, type, type_length, logical, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    if (repetition != ARD_PQ_REQUIRED && repetition != ARD_PQ_OPTIONAL) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: column '%s': repetition must be REQUIRED or "
                             "OPTIONAL (use ard_pq_schema_add_list for lists)",
                             name);
    }
    ard__pqw_column c;
    memset(&c, 0, sizeof c);
    c.name = (char *)name;
    c.type = type;
    c.type_length = type_length;
    c.repetition = repetition;
    c.encoding = -1;
    if (logical) {
        c.logical = *logical;
    }
    return push_column(sb, &c, col_out, err);
}

static ard_status add_list(ard_pq_schema_builder *sb, const char *name, ard_pq_type element_type,
                           ard_pq_repetition list_repetition, ard_pq_repetition element_repetition,
                           const ard_pq_logical *element_logical, int32_t type_length,
                           int32_t *col_out, ard_error *err) {
    if (col_out) {
        *col_out = -1;
    }
    if (!sb) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: NULL schema builder");
    }
    ard_status st = check_name(sb, name, err);
    if (st == ARD_OK) {
        st = check_type(name, element_type, type_length, element_logical, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    if ((list_repetition != ARD_PQ_REQUIRED && list_repetition != ARD_PQ_OPTIONAL) ||
        (element_repetition != ARD_PQ_REQUIRED && element_repetition != ARD_PQ_OPTIONAL)) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: list column '%s': list and element repetition "
                             "must be REQUIRED or OPTIONAL",
                             name);
    }
    ard__pqw_column c;
    memset(&c, 0, sizeof c);
    c.name = (char *)name;
    c.type = element_type;
    c.type_length = type_length;
    c.repetition = list_repetition;
    c.is_list = 1;
    c.elem_repetition = element_repetition;
    c.encoding = -1;
    if (element_logical) {
        c.logical = *element_logical;
    }
    return push_column(sb, &c, col_out, err);
}

ard_status ard_pq_schema_add_list(ard_pq_schema_builder *sb, const char *name,
                                  ard_pq_type element_type, ard_pq_repetition list_repetition,
                                  ard_pq_repetition element_repetition,
                                  const ard_pq_logical *element_logical, int32_t *col_out,
                                  ard_error *err) {
    return add_list(sb, name, element_type, list_repetition, element_repetition, element_logical, 0,
                    col_out, err);
}

ard_status ard_pq_schema_add_list_fixed(ard_pq_schema_builder *sb, const char *name,
                                        int32_t type_length, ard_pq_repetition list_repetition,
                                        ard_pq_repetition element_repetition,
                                        const ard_pq_logical *element_logical, int32_t *col_out,
                                        ard_error *err) {
    return add_list(sb, name, ARD_PQ_FIXED_LEN_BYTE_ARRAY, list_repetition, element_repetition,
                    element_logical, type_length, col_out, err);
}

static ard_status check_col(const ard_pq_schema_builder *sb, int32_t col, ard_error *err) {
    if (!sb || col < 0 || col >= sb->num_cols) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: no column %d", (int)col);
    }
    return ARD_OK;
}

ard_status ard_pq_schema_set_sorted(ard_pq_schema_builder *sb, int32_t col, int32_t sorted,
                                    ard_error *err) {
    ard_status st = check_col(sb, col, err);
    if (st == ARD_OK) {
        sb->cols[col].sorted = sorted != 0;
    }
    return st;
}

static int encoding_fits(ard_pq_type type, int32_t encoding) {
    switch (encoding) {
    case -1:
    case ARD_PQ_PLAIN:
        return 1;
    case ARD_PQ_RLE_DICTIONARY:
        return type != ARD_PQ_BOOLEAN;
    case ARD_PQ_DELTA_BINARY_PACKED:
        return type == ARD_PQ_INT32 || type == ARD_PQ_INT64;
    case ARD_PQ_BYTE_STREAM_SPLIT:
        return type == ARD_PQ_FLOAT || type == ARD_PQ_DOUBLE || type == ARD_PQ_INT32 ||
               type == ARD_PQ_INT64 || type == ARD_PQ_FIXED_LEN_BYTE_ARRAY;
    default:
        return 0;
    }
}

ard_status ard_pq_schema_set_encoding(ard_pq_schema_builder *sb, int32_t col, int32_t encoding,
                                      ard_error *err) {
    ard_status st = check_col(sb, col, err);
    if (st != ARD_OK) {
        return st;
    }
    ard__pqw_column *c = &sb->cols[col];
    if (!encoding_fits(c->type, encoding)) {
        return ard_error_set(err, ARD_ENOTSUP,
                             "parquet writer: column '%s': encoding %s not supported for %s",
                             c->name, ard_pq_encoding_name(encoding), ard_pq_type_name(c->type));
    }
    c->encoding = encoding;
    return ARD_OK;
}

int32_t ard__pqw_default_encoding(const ard__pqw_column *c, const ard_pq_writer_options *o) {
    if (c->encoding >= 0) {
        return c->encoding;
    }
    switch (c->type) {
    case ARD_PQ_INT32:
    case ARD_PQ_INT64:
        if (c->sorted) {
            return ARD_PQ_DELTA_BINARY_PACKED;
        }
        return o->disable_dictionary ? ARD_PQ_PLAIN : ARD_PQ_RLE_DICTIONARY;
    case ARD_PQ_FLOAT:
    case ARD_PQ_DOUBLE:
        return o->byte_stream_split ? ARD_PQ_BYTE_STREAM_SPLIT : ARD_PQ_PLAIN;
    case ARD_PQ_BYTE_ARRAY:
    case ARD_PQ_FIXED_LEN_BYTE_ARRAY:
        return o->disable_dictionary ? ARD_PQ_PLAIN : ARD_PQ_RLE_DICTIONARY;
    default:
        return ARD_PQ_PLAIN;
    }
}

ard_status ard__pqw_schema_copy(const ard_pq_schema_builder *src, ard_pq_schema_builder *dst,
                                ard_error *err) {
    memset(dst, 0, sizeof *dst);
    for (int32_t i = 0; i < src->num_cols; i++) {
        ard_status st = push_column(dst, &src->cols[i], NULL, err);
        if (st != ARD_OK) {
            ard__pqw_schema_reset(dst);
            return st;
        }
    }
    return ARD_OK;
}
