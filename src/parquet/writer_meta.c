/* Parquet writer metadata: the footer (FileMetaData with schema elements, logical and converted
 * types, row groups, column chunks, statistics, encodings, key-value pairs, column orders) and the
 * page index (ColumnIndex + OffsetIndex per column chunk, written after the last row group). */
#include "writer_int.h"

#include <string.h>

static int32_t log2_bytes(int32_t bits) {
    return bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;
}

/* ConvertedType for backward compatibility, or -1. */
static int32_t converted_type(const ard_pq_logical *lt) {
    switch (lt->kind) {
    case ARD_PQ_LT_STRING:
        return ARD_PQ_CT_UTF8;
    case ARD_PQ_LT_ENUM:
        return ARD_PQ_CT_ENUM;
    case ARD_PQ_LT_JSON:
        return ARD_PQ_CT_JSON;
    case ARD_PQ_LT_BSON:
        return ARD_PQ_CT_BSON;
    case ARD_PQ_LT_DATE:
        return ARD_PQ_CT_DATE;
    case ARD_PQ_LT_DECIMAL:
        return ARD_PQ_CT_DECIMAL;
    case ARD_PQ_LT_INTEGER:
        return (lt->is_signed ? ARD_PQ_CT_INT_8 : ARD_PQ_CT_UINT_8) + log2_bytes(lt->bit_width);
    case ARD_PQ_LT_TIME:
        return lt->unit == ARD_PQ_NANOS ? -1 : ARD_PQ_CT_TIME_MILLIS + (int32_t)lt->unit;
    case ARD_PQ_LT_TIMESTAMP:
        return lt->unit == ARD_PQ_NANOS || !lt->is_adjusted_to_utc
                   ? -1
                   : ARD_PQ_CT_TIMESTAMP_MILLIS + (int32_t)lt->unit;
    default:
        return -1;
    }
}

static void write_time_unit(ard__tw *t, const ard_pq_logical *lt) {
    ard__tw_field_bool(t, 1, lt->is_adjusted_to_utc);
    ard__tw_field_struct(t, 2);
    ard__tw_field_empty_struct(t, (int16_t)(1 + (int)lt->unit));
    ard__tw_stop(t);
}

static void write_logical(ard__tw *t, const ard_pq_logical *lt) {
    static const int16_t ids[] = {
        [ARD_PQ_LT_STRING] = 1,   [ARD_PQ_LT_ENUM] = 4,    [ARD_PQ_LT_DECIMAL] = 5,
        [ARD_PQ_LT_DATE] = 6,     [ARD_PQ_LT_TIME] = 7,    [ARD_PQ_LT_TIMESTAMP] = 8,
        [ARD_PQ_LT_INTEGER] = 10, [ARD_PQ_LT_JSON] = 12,   [ARD_PQ_LT_BSON] = 13,
        [ARD_PQ_LT_UUID] = 14,    [ARD_PQ_LT_FLOAT16] = 15};
    if ((size_t)lt->kind >= sizeof ids / sizeof ids[0] || ids[lt->kind] == 0) {
        return;
    }
    ard__tw_field_struct(t, 10);
    ard__tw_field_struct(t, ids[lt->kind]);
    if (lt->kind == ARD_PQ_LT_DECIMAL) {
        ard__tw_field_i32(t, 1, lt->scale);
        ard__tw_field_i32(t, 2, lt->precision);
    } else if (lt->kind == ARD_PQ_LT_TIME || lt->kind == ARD_PQ_LT_TIMESTAMP) {
        write_time_unit(t, lt);
    } else if (lt->kind == ARD_PQ_LT_INTEGER) {
        ard__tw_field_i8(t, 1, (int8_t)lt->bit_width);
        ard__tw_field_bool(t, 2, lt->is_signed);
    }
    ard__tw_stop(t);
    ard__tw_stop(t);
}

static void write_leaf_element(ard__tw *t, const ard__pqw_column *c, const char *name,
                               ard_pq_repetition rep) {
    ard__tw_struct_begin(t);
    ard__tw_field_i32(t, 1, (int32_t)c->type);
    if (c->type == ARD_PQ_FIXED_LEN_BYTE_ARRAY) {
        ard__tw_field_i32(t, 2, c->type_length);
    }
    ard__tw_field_i32(t, 3, (int32_t)rep);
    ard__tw_field_string(t, 4, name);
    int32_t ct = converted_type(&c->logical);
    if (ct >= 0) {
        ard__tw_field_i32(t, 6, ct);
    }
    if (c->logical.kind == ARD_PQ_LT_DECIMAL) {
        ard__tw_field_i32(t, 7, c->logical.scale);
        ard__tw_field_i32(t, 8, c->logical.precision);
    }
    write_logical(t, &c->logical);
    ard__tw_stop(t);
}

static void write_group_element(ard__tw *t, const char *name, ard_pq_repetition rep, int is_list) {
    ard__tw_struct_begin(t);
    ard__tw_field_i32(t, 3, (int32_t)rep);
    ard__tw_field_string(t, 4, name);
    ard__tw_field_i32(t, 5, 1);
    if (is_list) {
        ard__tw_field_i32(t, 6, ARD_PQ_CT_LIST);
        ard__tw_field_struct(t, 10);
        ard__tw_field_empty_struct(t, 3);
        ard__tw_stop(t);
    }
    ard__tw_stop(t);
}

static void write_schema(ard__tw *t, const ard_pq_schema_builder *sb) {
    int32_t n = 1;
    for (int32_t i = 0; i < sb->num_cols; i++) {
        n += sb->cols[i].is_list ? 3 : 1;
    }
    ard__tw_field(t, 2, ARD__T_LIST);
    ard__tw_list_begin(t, ARD__T_STRUCT, n);
    ard__tw_struct_begin(t); /* root */
    ard__tw_field_string(t, 4, "schema");
    ard__tw_field_i32(t, 5, sb->num_cols);
    ard__tw_stop(t);
    for (int32_t i = 0; i < sb->num_cols; i++) {
        const ard__pqw_column *c = &sb->cols[i];
        if (!c->is_list) {
            write_leaf_element(t, c, c->name, c->repetition);
            continue;
        }
        write_group_element(t, c->name, c->repetition, 1);
        write_group_element(t, "list", ARD_PQ_REPEATED, 0);
        write_leaf_element(t, c, "element", c->elem_repetition);
    }
}

static void write_encodings(ard__tw *t, const ard__pqw_chunk *ch, const ard__pqw_column *c) {
    int32_t encs[4], n = 0;
    if (c->max_def > 0 || c->max_rep > 0) {
        encs[n++] = ARD_PQ_RLE;
    }
    if (ch->dict_used || ch->value_encoding == ARD_PQ_PLAIN) {
        encs[n++] = ARD_PQ_PLAIN;
    }
    if (ch->dict_used) {
        encs[n++] = ARD_PQ_RLE_DICTIONARY;
    }
    if (ch->value_encoding != ARD_PQ_PLAIN && ch->num_plain_pages > 0) {
        encs[n++] = ch->value_encoding;
    }
    ard__tw_field(t, 2, ARD__T_LIST);
    ard__tw_list_begin(t, ARD__T_I32, n);
    for (int32_t i = 0; i < n; i++) {
        ard__tw_i32(t, encs[i]);
    }
}

static void write_encoding_stats(ard__tw *t, const ard__pqw_chunk *ch, int v2) {
    int32_t page_type = v2 ? ARD_PQ_DATA_PAGE_V2 : ARD_PQ_DATA_PAGE;
    int32_t n = (ch->dict_used ? 1 : 0) + (ch->num_dict_pages_data > 0) + (ch->num_plain_pages > 0);
    ard__tw_field(t, 13, ARD__T_LIST);
    ard__tw_list_begin(t, ARD__T_STRUCT, n);
    int32_t rows[3][3] = {{ARD_PQ_DICTIONARY_PAGE, ARD_PQ_PLAIN, 1},
                          {page_type, ARD_PQ_RLE_DICTIONARY, ch->num_dict_pages_data},
                          {page_type, ch->value_encoding, ch->num_plain_pages}};
    for (int i = 0; i < 3; i++) {
        if ((i == 0 && !ch->dict_used) || (i > 0 && rows[i][2] == 0)) {
            continue;
        }
        ard__tw_struct_begin(t);
        ard__tw_field_i32(t, 1, rows[i][0]);
        ard__tw_field_i32(t, 2, rows[i][1]);
        ard__tw_field_i32(t, 3, rows[i][2]);
        ard__tw_stop(t);
    }
}

static void write_column_meta(ard__tw *t, const ard_pq_writer *w, const ard__pqw_chunk *ch,
                              const ard__pqw_column *c) {
    ard__tw_field_struct(t, 3);
    ard__tw_field_i32(t, 1, (int32_t)c->type);
    write_encodings(t, ch, c);
    ard__tw_field(t, 3, ARD__T_LIST);
    ard__tw_list_begin(t, ARD__T_BINARY, c->is_list ? 3 : 1);
    ard__tw_binary(t, c->name, strlen(c->name));
    if (c->is_list) {
        ard__tw_binary(t, "list", 4);
        ard__tw_binary(t, "element", 7);
    }
    ard__tw_field_i32(t, 4, (int32_t)w->opts.codec);
    ard__tw_field_i64(t, 5, ch->num_levels);
    ard__tw_field_i64(t, 6, ch->uncompressed);
    ard__tw_field_i64(t, 7, ch->compressed);
    ard__tw_field_i64(t, 9, ch->data_offset);
    if (ch->dict_offset > 0) {
        ard__tw_field_i64(t, 11, ch->dict_offset);
    }
    ard__pqw_stats_write(t, 12, &ch->stats, c, !w->opts.disable_statistics);
    write_encoding_stats(t, ch, w->opts.page_version == 2);
    ard__tw_stop(t);
}

static void write_chunk(ard__tw *t, const ard_pq_writer *w, const ard__pqw_chunk *ch,
                        const ard__pqw_column *c) {
    ard__tw_struct_begin(t);
    ard__tw_field_i64(t, 2, 0);
    write_column_meta(t, w, ch, c);
    if (ch->oi_len > 0) {
        ard__tw_field_i64(t, 4, ch->oi_offset);
        ard__tw_field_i32(t, 5, ch->oi_len);
    }
    if (ch->ci_len > 0) {
        ard__tw_field_i64(t, 6, ch->ci_offset);
        ard__tw_field_i32(t, 7, ch->ci_len);
    }
    ard__tw_stop(t);
}

static void write_sorting(ard__tw *t, const ard_pq_writer *w, const ard__pqw_rowgroup *rg) {
    int32_t n = 0;
    for (int32_t i = 0; i < w->schema.num_cols; i++) {
        n += w->schema.cols[i].sorted && rg->chunks[i].has_last && rg->chunks[i].sorted_ok;
    }
    if (n == 0) {
        return;
    }
    ard__tw_field(t, 4, ARD__T_LIST);
    ard__tw_list_begin(t, ARD__T_STRUCT, n);
    for (int32_t i = 0; i < w->schema.num_cols; i++) {
        if (w->schema.cols[i].sorted && rg->chunks[i].has_last && rg->chunks[i].sorted_ok) {
            ard__tw_struct_begin(t);
            ard__tw_field_i32(t, 1, i);
            ard__tw_field_bool(t, 2, 0);
            ard__tw_field_bool(t, 3, 1);
            ard__tw_stop(t);
        }
    }
}

static void write_row_group(ard__tw *t, const ard_pq_writer *w, const ard__pqw_rowgroup *rg,
                            int32_t ordinal) {
    ard__tw_struct_begin(t);
    ard__tw_field(t, 1, ARD__T_LIST);
    ard__tw_list_begin(t, ARD__T_STRUCT, w->schema.num_cols);
    for (int32_t i = 0; i < w->schema.num_cols; i++) {
        write_chunk(t, w, &rg->chunks[i], &w->schema.cols[i]);
    }
    ard__tw_field_i64(t, 2, rg->total_uncompressed);
    ard__tw_field_i64(t, 3, rg->num_rows);
    write_sorting(t, w, rg);
    ard__tw_field_i64(t, 5, rg->file_offset);
    ard__tw_field_i64(t, 6, rg->total_compressed);
    if (ordinal <= INT16_MAX) {
        ard__tw_field(t, 7, ARD__T_I16);
        ard__tw_i32(t, ordinal);
    }
    ard__tw_stop(t);
}

static void write_kv(ard__tw *t, const ard_pq_writer *w) {
    if (w->opts.num_kv <= 0) {
        return;
    }
    ard__tw_field(t, 5, ARD__T_LIST);
    ard__tw_list_begin(t, ARD__T_STRUCT, w->opts.num_kv);
    for (int32_t i = 0; i < w->opts.num_kv; i++) {
        ard__tw_struct_begin(t);
        ard__tw_field_string(t, 1, w->kv_keys[i]);
        if (w->kv_values[i]) {
            ard__tw_field_string(t, 2, w->kv_values[i]);
        }
        ard__tw_stop(t);
    }
}

ard_status ard__pqw_encode_footer(const ard_pq_writer *w, ard_buf *out, ard_error *err) {
    ard__tw t;
    ard__tw_init(&t, out);
    int32_t num_rgs = 0;
    int64_t rows = 0;
    for (int32_t r = 0; r < w->num_rgs; r++) {
        num_rgs += w->rgs[r].written;
        rows += w->rgs[r].written ? w->rgs[r].num_rows : 0;
    }
    ard__tw_field_i32(&t, 1, w->opts.page_version == 2 ? 2 : 1);
    write_schema(&t, &w->schema);
    ard__tw_field_i64(&t, 3, rows);
    ard__tw_field(&t, 4, ARD__T_LIST);
    ard__tw_list_begin(&t, ARD__T_STRUCT, num_rgs);
    for (int32_t r = 0; r < w->num_rgs; r++) {
        if (w->rgs[r].written) {
            write_row_group(&t, w, &w->rgs[r], r);
        }
    }
    write_kv(&t, w);
    ard__tw_field_string(&t, 6, "ard version " ARD_VERSION_STRING);
    ard__tw_field(&t, 7, ARD__T_LIST);
    ard__tw_list_begin(&t, ARD__T_STRUCT, w->schema.num_cols);
    for (int32_t i = 0; i < w->schema.num_cols; i++) {
        ard__tw_struct_begin(&t);
        ard__tw_field_empty_struct(&t, 1); /* TYPE_DEFINED_ORDER */
        ard__tw_stop(&t);
    }
    ard__tw_stop(&t);
    if (out->failed) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory for the footer");
    }
    return ARD_OK;
}

/* ---- page index ---- */

static int32_t boundary_order(const ard__pqw_chunk *ch, const ard__pqw_column *c) {
    int asc = 1, desc = 1;
    int32_t prev = -1;
    for (int32_t i = 0; i < ch->num_pages; i++) {
        if (ch->null_pages[i]) {
            continue;
        }
        if (prev >= 0) {
            const uint8_t *b = ch->bounds.data;
            const int64_t *o = ch->bound_off;
            int cmin = ard__pqw_bound_cmp(c->sort_kind, b + o[2 * prev],
                                          (size_t)(o[2 * prev + 1] - o[2 * prev]), b + o[2 * i],
                                          (size_t)(o[2 * i + 1] - o[2 * i]));
            int cmax = ard__pqw_bound_cmp(c->sort_kind, b + o[2 * prev + 1],
                                          (size_t)(o[2 * prev + 2] - o[2 * prev + 1]),
                                          b + o[2 * i + 1], (size_t)(o[2 * i + 2] - o[2 * i + 1]));
            asc &= cmin <= 0 && cmax <= 0;
            desc &= cmin >= 0 && cmax >= 0;
        }
        prev = i;
    }
    return asc ? 1 : desc ? 2 : 0;
}

void ard__pqw_encode_column_index(const ard__pqw_chunk *ch, const ard__pqw_column *c,
                                  ard_buf *out) {
    ard__tw t;
    ard__tw_init(&t, out);
    ard__tw_field(&t, 1, ARD__T_LIST);
    ard__tw_list_begin(&t, ARD__T_TRUE, ch->num_pages);
    for (int32_t i = 0; i < ch->num_pages; i++) {
        ard__tw_list_bool(&t, ch->null_pages[i]);
    }
    for (int is_max = 0; is_max < 2; is_max++) {
        ard__tw_field(&t, (int16_t)(2 + is_max), ARD__T_LIST);
        ard__tw_list_begin(&t, ARD__T_BINARY, ch->num_pages);
        for (int32_t i = 0; i < ch->num_pages; i++) {
            int64_t a = ch->bound_off[2 * i + is_max], b = ch->bound_off[2 * i + 1 + is_max];
            ard__tw_binary(&t, ch->bounds.data ? ch->bounds.data + a : (const uint8_t *)"",
                           (size_t)(b - a));
        }
    }
    ard__tw_field_i32(&t, 4, boundary_order(ch, c));
    ard__tw_field(&t, 5, ARD__T_LIST);
    ard__tw_list_begin(&t, ARD__T_I64, ch->num_pages);
    for (int32_t i = 0; i < ch->num_pages; i++) {
        ard__tw_i64(&t, ch->page_null_counts[i]);
    }
    if (c->sort_kind == ARD__SORT_F32 || c->sort_kind == ARD__SORT_F64) {
        ard__tw_field(&t, 8, ARD__T_LIST);
        ard__tw_list_begin(&t, ARD__T_I64, ch->num_pages);
        for (int32_t i = 0; i < ch->num_pages; i++) {
            ard__tw_i64(&t, ch->page_nan_counts[i]);
        }
    }
    ard__tw_stop(&t);
}

void ard__pqw_encode_offset_index(const ard__pqw_chunk *ch, ard_buf *out) {
    ard__tw t;
    ard__tw_init(&t, out);
    ard__tw_field(&t, 1, ARD__T_LIST);
    ard__tw_list_begin(&t, ARD__T_STRUCT, ch->num_pages);
    for (int32_t i = 0; i < ch->num_pages; i++) {
        ard__tw_struct_begin(&t);
        ard__tw_field_i64(&t, 1, ch->locs[i].offset);
        ard__tw_field_i32(&t, 2, ch->locs[i].size);
        ard__tw_field_i64(&t, 3, ch->locs[i].first_row);
        ard__tw_stop(&t);
    }
    ard__tw_stop(&t);
}

/* Writes one index structure; pass 0 = ColumnIndex, 1 = OffsetIndex. */
static ard_status write_index(ard_pq_writer *w, ard__pqw_chunk *ch, const ard__pqw_column *c,
                              int pass, ard_error *err) {
    ard_buf *b = &w->scratch.header;
    b->len = 0;
    if (pass == 0) {
        ard__pqw_encode_column_index(ch, c, b);
    } else {
        ard__pqw_encode_offset_index(ch, b);
    }
    if (b->failed) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory for the page index");
    }
    int64_t at = ard_atomic_tell(w->file);
    *(pass == 0 ? &ch->ci_offset : &ch->oi_offset) = at;
    *(pass == 0 ? &ch->ci_len : &ch->oi_len) = (int32_t)b->len;
    return ard_atomic_write(w->file, b->data, b->len, err);
}

ard_status ard__pqw_write_page_index(ard_pq_writer *w, ard_error *err) {
    if (w->opts.disable_page_index) {
        return ARD_OK;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int32_t r = 0; r < w->num_rgs; r++) {
            for (int32_t i = 0; w->rgs[r].written && i < w->schema.num_cols; i++) {
                ard__pqw_chunk *ch = &w->rgs[r].chunks[i];
                if (ch->num_pages == 0 || (pass == 0 && !ch->index_ok)) {
                    continue;
                }
                ard_status st = write_index(w, ch, &w->schema.cols[i], pass, err);
                if (st != ARD_OK) {
                    return st;
                }
            }
        }
    }
    return ARD_OK;
}
