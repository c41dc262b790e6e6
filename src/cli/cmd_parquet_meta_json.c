/* The --json form of `ard parquet meta`: the same footer content as the text form, as one object
 * written with the core JSON writer. Absent optional fields are null rather than missing; a column
 * chunk without metadata (encrypted) has only its location keys. */
#include "cli.h"

static void key_int(ard_json *j, const char *key, int64_t v) {
    ard_json_key(j, key);
    ard_json_int(j, v);
}

static void key_opt_int(ard_json *j, const char *key, int present, int64_t v) {
    ard_json_key(j, key);
    if (present) {
        ard_json_int(j, v);
    } else {
        ard_json_null(j);
    }
}

static void key_opt_bool(ard_json *j, const char *key, int present, int v) {
    ard_json_key(j, key);
    if (present) {
        ard_json_bool(j, v);
    } else {
        ard_json_null(j);
    }
}

static void key_string(ard_json *j, const char *key, const char *s) {
    ard_json_key(j, key);
    ard_json_string(j, s); /* NULL -> null */
}

static void logical_json(ard_json *j, const ard_pq_logical *lt) {
    if (lt->kind == ARD_PQ_LT_NONE) {
        ard_json_null(j);
        return;
    }
    static const char *const units[] = {"MILLIS", "MICROS", "NANOS"};
    ard_json_begin_object(j);
    key_string(j, "kind", ard_pq_logical_name(lt->kind));
    if (lt->kind == ARD_PQ_LT_DECIMAL) {
        key_int(j, "precision", lt->precision);
        key_int(j, "scale", lt->scale);
    } else if (lt->kind == ARD_PQ_LT_INTEGER) {
        key_int(j, "bit_width", lt->bit_width);
        ard_json_key(j, "is_signed");
        ard_json_bool(j, lt->is_signed);
    } else if (lt->kind == ARD_PQ_LT_TIME || lt->kind == ARD_PQ_LT_TIMESTAMP) {
        key_string(j, "unit", (unsigned)lt->unit < 3 ? units[lt->unit] : "?");
        ard_json_key(j, "is_adjusted_to_utc");
        ard_json_bool(j, lt->is_adjusted_to_utc);
    }
    ard_json_key(j, "from_converted");
    ard_json_bool(j, lt->from_converted);
    ard_json_end_object(j);
}

static void node_json(ard_json *j, const ard_pq_schema_node *n) {
    ard_json_begin_object(j);
    key_string(j, "name", n->name);
    key_string(j, "path", n->path);
    key_string(j, "type", n->is_leaf ? ard_pq_type_name(n->type) : NULL);
    key_opt_int(j, "type_length", n->is_leaf && n->type == ARD_PQ_FIXED_LEN_BYTE_ARRAY,
                n->type_length);
    key_string(j, "repetition", ard_pq_repetition_name(n->repetition));
    key_int(j, "num_children", n->num_children);
    ard_json_key(j, "logical");
    logical_json(j, &n->logical);
    key_string(j, "converted_type", ard_pq_converted_type_name(n->converted_type));
    key_opt_int(j, "field_id", n->has_field_id, n->field_id);
    key_int(j, "max_def", n->max_def);
    key_int(j, "max_rep", n->max_rep);
    ard_json_end_object(j);
}

static void value_json(ard_json *j, const char *key, int present, const ard_pq_schema_node *leaf,
                       ard_pq_type type, const uint8_t *bytes, uint32_t len) {
    ard_json_key(j, key);
    if (!present) {
        ard_json_null(j);
        return;
    }
    ard_cli_value v;
    ard_cli_decode_value(leaf, type, bytes, len, &v);
    ard_cli_value_json(&v, j);
}

static void stats_json(ard_json *j, const ard_pq_column_chunk *c, const ard_pq_schema_node *leaf) {
    const ard_pq_stats *s = &c->stats;
    ard_json_key(j, "statistics");
    if (!s->present) {
        ard_json_null(j);
        return;
    }
    ard_json_begin_object(j);
    key_opt_int(j, "null_count", s->has_null_count, s->null_count);
    key_opt_int(j, "distinct_count", s->has_distinct_count, s->distinct_count);
    key_opt_int(j, "nan_count", s->has_nan_count, s->nan_count);
    value_json(j, "min", s->has_min_value, leaf, c->type, s->min_value, s->min_value_len);
    value_json(j, "max", s->has_max_value, leaf, c->type, s->max_value, s->max_value_len);
    key_opt_bool(j, "min_exact", s->has_is_min_exact, s->is_min_value_exact);
    key_opt_bool(j, "max_exact", s->has_is_max_exact, s->is_max_value_exact);
    value_json(j, "legacy_min", s->has_legacy_min, leaf, c->type, s->legacy_min, s->legacy_min_len);
    value_json(j, "legacy_max", s->has_legacy_max, leaf, c->type, s->legacy_max, s->legacy_max_len);
    ard_json_end_object(j);
}

static void kv_json(ard_json *j, const ard_pq_kv *kv, int32_t count) {
    ard_json_begin_array(j);
    for (int32_t k = 0; k < count; k++) {
        ard_json_begin_object(j);
        key_string(j, "key", kv[k].key);
        ard_json_key(j, "value");
        if (kv[k].value) {
            ard_json_string_n(j, kv[k].value, kv[k].value_len);
        } else {
            ard_json_null(j);
        }
        ard_json_end_object(j);
    }
    ard_json_end_array(j);
}

static void chunk_sizes_json(ard_json *j, const ard_pq_column_chunk *c) {
    ard_json_key(j, "encodings");
    ard_json_begin_array(j);
    for (int32_t e = 0; e < c->num_encodings; e++) {
        ard_json_string(j, ard_pq_encoding_name(c->encodings[e]));
    }
    ard_json_end_array(j);
    key_int(j, "num_values", c->num_values);
    key_int(j, "total_compressed_size", c->total_compressed_size);
    key_int(j, "total_uncompressed_size", c->total_uncompressed_size);
    key_int(j, "data_page_offset", c->data_page_offset);
    key_opt_int(j, "dictionary_page_offset", c->has_dictionary_page_offset,
                c->dictionary_page_offset);
    key_opt_int(j, "index_page_offset", c->has_index_page_offset, c->index_page_offset);
}

static void chunk_locations_json(ard_json *j, const ard_pq_column_chunk *c) {
    ard_json_key(j, "has_column_index");
    ard_json_bool(j, c->has_column_index);
    key_opt_int(j, "column_index_offset", c->has_column_index, c->column_index_offset);
    key_opt_int(j, "column_index_length", c->has_column_index, c->column_index_length);
    ard_json_key(j, "has_offset_index");
    ard_json_bool(j, c->has_offset_index);
    key_opt_int(j, "offset_index_offset", c->has_offset_index, c->offset_index_offset);
    key_opt_int(j, "offset_index_length", c->has_offset_index, c->offset_index_length);
    key_opt_int(j, "bloom_filter_offset", c->has_bloom_filter_offset, c->bloom_filter_offset);
    key_opt_int(j, "bloom_filter_length", c->has_bloom_filter_length, c->bloom_filter_length);
}

static void column_json(ard_json *j, const ard_pq_metadata *md, const ard_pq_column_chunk *c,
                        int32_t index) {
    const ard_pq_schema_node *leaf = index < md->num_leaves ? &md->nodes[md->leaves[index]] : NULL;
    ard_json_begin_object(j);
    key_string(j, "path", leaf ? leaf->path : NULL);
    ard_json_key(j, "has_meta_data");
    ard_json_bool(j, c->has_meta_data);
    ard_json_key(j, "encrypted");
    ard_json_bool(j, c->is_encrypted);
    key_string(j, "file_path", c->file_path);
    key_int(j, "file_offset", c->file_offset);
    if (c->has_meta_data) {
        key_string(j, "type", ard_pq_type_name(c->type));
        key_string(j, "codec", ard_pq_codec_name(c->codec));
        chunk_sizes_json(j, c);
        stats_json(j, c, leaf);
        chunk_locations_json(j, c);
        ard_json_key(j, "kv");
        kv_json(j, c->kv, c->num_kv);
    }
    ard_json_end_object(j);
}

static void row_group_json(ard_json *j, const ard_pq_metadata *md, const ard_pq_row_group *rg) {
    ard_json_begin_object(j);
    key_int(j, "num_rows", rg->num_rows);
    key_int(j, "total_byte_size", rg->total_byte_size);
    key_opt_int(j, "total_compressed_size", rg->has_total_compressed_size,
                rg->total_compressed_size);
    key_opt_int(j, "file_offset", rg->has_file_offset, rg->file_offset);
    key_opt_int(j, "ordinal", rg->has_ordinal, rg->ordinal);
    ard_json_key(j, "sorting_columns");
    ard_json_begin_array(j);
    for (int32_t s = 0; s < rg->num_sorting_columns; s++) {
        const ard_pq_sorting_column *sc = &rg->sorting_columns[s];
        ard_json_begin_object(j);
        key_int(j, "column_idx", sc->column_idx);
        ard_json_key(j, "descending");
        ard_json_bool(j, sc->descending);
        ard_json_key(j, "nulls_first");
        ard_json_bool(j, sc->nulls_first);
        ard_json_end_object(j);
    }
    ard_json_end_array(j);
    ard_json_key(j, "columns");
    ard_json_begin_array(j);
    for (int32_t c = 0; c < rg->num_columns; c++) {
        column_json(j, md, &rg->columns[c], c);
    }
    ard_json_end_array(j);
    ard_json_end_object(j);
}

void ard_cli_meta_json(const ard_parquet_file *file, ard_json *j) {
    const ard_pq_metadata *md = ard_parquet_metadata(file);
    ard_json_begin_object(j);
    key_string(j, "file", ard_parquet_path(file));
    key_int(j, "size", ard_parquet_file_size(file));
    key_string(j, "created_by", md->created_by);
    key_int(j, "version", md->version);
    key_int(j, "num_rows", md->num_rows);
    key_int(j, "declared_num_rows", md->declared_num_rows);
    key_int(j, "num_columns", md->num_leaves);
    key_int(j, "footer_offset", md->footer_offset);
    key_int(j, "footer_length", md->footer_length);
    ard_json_key(j, "schema");
    ard_json_begin_array(j);
    for (int32_t i = 0; i < md->num_nodes; i++) {
        node_json(j, &md->nodes[i]);
    }
    ard_json_end_array(j);
    ard_json_key(j, "row_groups");
    ard_json_begin_array(j);
    for (int32_t g = 0; g < md->num_row_groups; g++) {
        row_group_json(j, md, &md->row_groups[g]);
    }
    ard_json_end_array(j);
    ard_json_key(j, "kv");
    kv_json(j, md->kv, md->num_kv);
    ard_json_key(j, "column_orders");
    ard_json_begin_array(j);
    for (int32_t i = 0; i < md->num_column_orders; i++) {
        ard_json_string(j, ard_cli_column_order_name(md->column_orders[i]));
    }
    ard_json_end_array(j);
    ard_json_end_object(j);
}
