/* Decoding of the Parquet footer (FileMetaData) into ard_pq_metadata: row groups, column chunks,
 * statistics, key-value metadata and column orders. The schema list is decoded and turned into a
 * tree in schema.c. Everything is allocated in the file's arena; byte strings of statistics point
 * into the footer bytes, which the file keeps alive. */
#include "file_int.h"
#include "metadata_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- shared helpers (declared in metadata_int.h) --------------------------------------------- */

bool ard__md_failf(ard__md *m, const char *fmt, ...) {
    char reason[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return ard__thrift_fail(&m->t, reason);
}

static bool md_nomem(ard__md *m, size_t want) {
    if (m->t.status != ARD_OK) {
        return false;
    }
    ard__arena *a = m->arena;
    if (a && a->cap != 0 && (want > a->cap || a->used_total > a->cap - want)) {
        m->t.status = ARD_ELIMIT;
        ard_error_set(m->err, ARD_ELIMIT,
                      "%s: footer metadata needs more than %zu bytes of memory (cap) at byte %lld",
                      m->path, a->cap, (long long)(m->t.base_offset + (m->t.p - m->t.start)));
    } else {
        m->t.status = ARD_ENOMEM;
        ard_error_set(m->err, ARD_ENOMEM, "%s: out of memory decoding the footer", m->path);
    }
    return false;
}

void *ard__md_alloc(ard__md *m, size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size) {
        md_nomem(m, SIZE_MAX);
        return NULL;
    }
    void *p = m->arena ? ard__arena_alloc(m->arena, count * size) : NULL;
    if (!p) {
        md_nomem(m, count * size);
    }
    return p;
}

bool ard__md_want(ard__md *m, uint8_t type, uint8_t expected) {
    bool is_bool = type == ARD__T_TRUE || type == ARD__T_FALSE;
    bool want_bool = expected == ARD__T_TRUE || expected == ARD__T_FALSE;
    if (type == expected || (is_bool && want_bool)) {
        return true;
    }
    ard__thrift_skip(&m->t, type); /* a known field with an unexpected wire type: ignore it */
    return false;
}

bool ard__md_string(ard__md *m, const char **out, uint32_t *len_out) {
    const uint8_t *data;
    uint32_t len;
    if (!ard__thrift_binary(&m->t, &data, &len)) {
        return false;
    }
    char *copy = m->arena ? ard__arena_strndup(m->arena, (const char *)data, len) : NULL;
    if (!copy) {
        return md_nomem(m, (size_t)len + 1);
    }
    *out = copy;
    if (len_out) {
        *len_out = len;
    }
    return true;
}

static void skip_elements(ard__md *m, uint8_t elem, int32_t size) {
    bool ignored;
    for (int32_t i = 0; i < size && m->t.status == ARD_OK; i++) {
        if (elem == ARD__T_TRUE || elem == ARD__T_FALSE) {
            ard__thrift_list_bool(&m->t, &ignored); /* one byte each inside collections */
        } else {
            ard__thrift_skip(&m->t, elem);
        }
    }
}

int32_t ard__md_list(ard__md *m, uint8_t type, uint8_t expected_elem) {
    uint8_t elem;
    int32_t size;
    if (!ard__md_want(m, type, ARD__T_LIST) || !ard__thrift_list(&m->t, &elem, &size)) {
        return -1;
    }
    bool elem_ok = elem == expected_elem ||
                   (expected_elem == ARD__T_TRUE && (elem == ARD__T_TRUE || elem == ARD__T_FALSE));
    if (!elem_ok) {
        skip_elements(m, elem, size); /* like a field of an unexpected type: ignore it */
        return -1;
    }
    return size;
}

/* ---- Statistics ------------------------------------------------------------------------------ */

static void stats_binary(ard__thrift *t, int32_t *has, const uint8_t **data, uint32_t *len) {
    if (ard__thrift_binary(t, data, len)) {
        *has = 1;
    }
}

static void stats_count(ard__thrift *t, int32_t *has, int64_t *value) {
    /* Counts are advisory: a negative one is treated as absent rather than failing the file. */
    if (ard__thrift_i64(t, value) && *value >= 0) {
        *has = 1;
    }
}

static void stats_field(ard__md *m, int16_t id, uint8_t type, bool bval, ard_pq_stats *s) {
    ard__thrift *t = &m->t;
    uint8_t want = id == 1 || id == 2 || id == 5 || id == 6 ? ARD__T_BINARY
                   : id == 7 || id == 8                     ? ARD__T_TRUE
                   : id == 3 || id == 4 || id == 9          ? ARD__T_I64
                                                            : 0;
    if (want == 0) {
        ard__thrift_skip(t, type);
        return;
    }
    if (!ard__md_want(m, type, want)) {
        return;
    }
    switch (id) {
    case 1:
        stats_binary(t, &s->has_legacy_max, &s->legacy_max, &s->legacy_max_len);
        break;
    case 2:
        stats_binary(t, &s->has_legacy_min, &s->legacy_min, &s->legacy_min_len);
        break;
    case 3:
        stats_count(t, &s->has_null_count, &s->null_count);
        break;
    case 4:
        stats_count(t, &s->has_distinct_count, &s->distinct_count);
        break;
    case 5:
        stats_binary(t, &s->has_max_value, &s->max_value, &s->max_value_len);
        break;
    case 6:
        stats_binary(t, &s->has_min_value, &s->min_value, &s->min_value_len);
        break;
    case 7:
        s->has_is_max_exact = 1;
        s->is_max_value_exact = bval;
        break;
    case 8:
        s->has_is_min_exact = 1;
        s->is_min_value_exact = bval;
        break;
    case 9:
        stats_count(t, &s->has_nan_count, &s->nan_count);
        break;
    }
}

bool ard__md_stats(ard__md *m, ard_pq_stats *s) {
    int16_t id;
    uint8_t type;
    bool bval;
    memset(s, 0, sizeof *s);
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    s->present = 1;
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        stats_field(m, id, type, bval, s);
    }
    return m->t.status == ARD_OK && ard__thrift_struct_end(&m->t);
}

/* ---- KeyValue -------------------------------------------------------------------------------- */

static bool decode_kv(ard__md *m, ard_pq_kv *kv) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        if (id == 1 && ard__md_want(m, type, ARD__T_BINARY)) {
            ard__md_string(m, &kv->key, NULL);
        } else if (id == 2 && ard__md_want(m, type, ARD__T_BINARY)) {
            ard__md_string(m, &kv->value, &kv->value_len);
        } else if (id != 1 && id != 2) {
            ard__thrift_skip(&m->t, type);
        }
    }
    if (m->t.status != ARD_OK) {
        return false;
    }
    if (!kv->key) {
        kv->key = ""; /* KeyValue.key is required; tolerate its absence as an empty key */
    }
    return ard__thrift_struct_end(&m->t);
}

static bool decode_kv_list(ard__md *m, uint8_t type, int32_t *count, const ard_pq_kv **out) {
    int32_t n = ard__md_list(m, type, ARD__T_STRUCT);
    if (n < 0) {
        return m->t.status == ARD_OK;
    }
    ard_pq_kv *kv = ard__md_alloc(m, (size_t)n, sizeof *kv);
    if (!kv) {
        return false;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!decode_kv(m, &kv[i])) {
            return false;
        }
    }
    *count = n;
    *out = kv;
    return true;
}

/* ---- ColumnMetaData -------------------------------------------------------------------------- */

static bool decode_i32_list(ard__md *m, uint8_t type, int32_t *count, const int32_t **out) {
    int32_t n = ard__md_list(m, type, ARD__T_I32);
    if (n < 0) {
        return m->t.status == ARD_OK;
    }
    int32_t *values = ard__md_alloc(m, (size_t)n, sizeof *values);
    if (!values) {
        return false;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!ard__thrift_i32(&m->t, &values[i])) {
            return false;
        }
    }
    *count = n;
    *out = values;
    return true;
}

static bool decode_string_list(ard__md *m, uint8_t type, int32_t *count, const char *const **out) {
    int32_t n = ard__md_list(m, type, ARD__T_BINARY);
    if (n < 0) {
        return m->t.status == ARD_OK;
    }
    const char **strings = ard__md_alloc(m, (size_t)n, sizeof *strings);
    if (!strings) {
        return false;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!ard__md_string(m, &strings[i], NULL)) {
            return false;
        }
    }
    *count = n;
    *out = strings;
    return true;
}

static void read_i64(ard__md *m, uint8_t type, int32_t *has, int64_t *v) {
    if (ard__md_want(m, type, ARD__T_I64) && ard__thrift_i64(&m->t, v) && has) {
        *has = 1;
    }
}

static void read_i32(ard__md *m, uint8_t type, int32_t *has, int32_t *v) {
    if (ard__md_want(m, type, ARD__T_I32) && ard__thrift_i32(&m->t, v) && has) {
        *has = 1;
    }
}

static void cmd_field(ard__md *m, int16_t id, uint8_t type, ard_pq_column_chunk *c) {
    int32_t v = 0;
    switch (id) {
    case 1:
        read_i32(m, type, NULL, &v);
        c->type = (ard_pq_type)v;
        break;
    case 2:
        decode_i32_list(m, type, &c->num_encodings, &c->encodings);
        break;
    case 3:
        decode_string_list(m, type, &c->path_len, &c->path_in_schema);
        break;
    case 4:
        read_i32(m, type, NULL, &v);
        c->codec = (ard_pq_codec)v;
        break;
    case 5:
        read_i64(m, type, NULL, &c->num_values);
        break;
    case 6:
        read_i64(m, type, NULL, &c->total_uncompressed_size);
        break;
    case 7:
        read_i64(m, type, NULL, &c->total_compressed_size);
        break;
    case 8:
        decode_kv_list(m, type, &c->num_kv, &c->kv);
        break;
    case 9:
        read_i64(m, type, NULL, &c->data_page_offset);
        break;
    case 10:
        read_i64(m, type, &c->has_index_page_offset, &c->index_page_offset);
        break;
    case 11:
        read_i64(m, type, &c->has_dictionary_page_offset, &c->dictionary_page_offset);
        break;
    case 12:
        if (ard__md_want(m, type, ARD__T_STRUCT)) {
            ard__md_stats(m, &c->stats);
        }
        break;
    case 14:
        read_i64(m, type, &c->has_bloom_filter_offset, &c->bloom_filter_offset);
        break;
    case 15:
        read_i32(m, type, &c->has_bloom_filter_length, &c->bloom_filter_length);
        break;
    default:
        ard__thrift_skip(&m->t, type);
        break; /* 13 encoding_stats, 16 size statistics, ... */
    }
}

static bool decode_column_meta(ard__md *m, ard_pq_column_chunk *c) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    c->has_meta_data = 1;
    int32_t seen_type = 0;
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        seen_type |= id == 1 && type == ARD__T_I32;
        cmd_field(m, id, type, c);
    }
    if (m->t.status != ARD_OK) {
        return false;
    }
    if (!seen_type || c->type < ARD_PQ_BOOLEAN || c->type > ARD_PQ_FIXED_LEN_BYTE_ARRAY) {
        return ard__md_failf(m, "ColumnMetaData: missing or invalid physical type %d",
                             (int)c->type);
    }
    return ard__thrift_struct_end(&m->t);
}

/* ---- ColumnChunk ----------------------------------------------------------------------------- */

static void chunk_field(ard__md *m, int16_t id, uint8_t type, ard_pq_column_chunk *c) {
    const uint8_t *bytes;
    uint32_t len;
    switch (id) {
    case 1:
        if (ard__md_want(m, type, ARD__T_BINARY)) {
            ard__md_string(m, &c->file_path, NULL);
        }
        break;
    case 2:
        read_i64(m, type, NULL, &c->file_offset);
        break;
    case 3:
        if (ard__md_want(m, type, ARD__T_STRUCT)) {
            decode_column_meta(m, c);
        }
        break;
    case 4:
        read_i64(m, type, &c->has_offset_index, &c->offset_index_offset);
        break;
    case 5:
        read_i32(m, type, NULL, &c->offset_index_length);
        break;
    case 6:
        read_i64(m, type, &c->has_column_index, &c->column_index_offset);
        break;
    case 7:
        read_i32(m, type, NULL, &c->column_index_length);
        break;
    case 8:
        c->is_encrypted = 1;
        ard__thrift_skip(&m->t, type);
        break;
    case 9:
        if (ard__md_want(m, type, ARD__T_BINARY) && ard__thrift_binary(&m->t, &bytes, &len)) {
            c->is_encrypted = 1;
        }
        break;
    default:
        ard__thrift_skip(&m->t, type);
        break;
    }
}

/* A page-index location is optional: one that cannot be right is dropped, not fatal. */
static void check_index_range(const ard__md *m, int32_t *has, int64_t offset, int32_t length) {
    if (*has && (length <= 0 || offset < 4 || offset > m->footer_offset - length)) {
        *has = 0;
    }
}

static bool validate_chunk(ard__md *m, ard_pq_column_chunk *c) {
    if (c->offset_index_length < 0 || c->column_index_length < 0 ||
        (c->has_bloom_filter_length && c->bloom_filter_length < 0)) {
        return ard__md_failf(m, "ColumnChunk: negative page-index or bloom-filter length");
    }
    check_index_range(m, &c->has_offset_index, c->offset_index_offset, c->offset_index_length);
    check_index_range(m, &c->has_column_index, c->column_index_offset, c->column_index_length);
    if (c->has_bloom_filter_offset &&
        (c->bloom_filter_offset < 4 || c->bloom_filter_offset >= m->footer_offset)) {
        c->has_bloom_filter_offset = 0; /* optional too: a filter outside the file is ignored */
    }
    if (!c->has_meta_data) {
        return true; /* encrypted column metadata: the reader refuses the column */
    }
    if (c->num_values < 0 || c->total_compressed_size < 0 || c->total_uncompressed_size < 0) {
        return ard__md_failf(m, "ColumnMetaData: negative num_values or size (%lld, %lld, %lld)",
                             (long long)c->num_values, (long long)c->total_compressed_size,
                             (long long)c->total_uncompressed_size);
    }
    c->chunk_start = c->has_dictionary_page_offset && c->dictionary_page_offset > 0
                         ? c->dictionary_page_offset
                         : c->data_page_offset;
    /* Lenient like other readers: total_compressed_size may be understated, so only the start is
     * checked here; the page walk is bounded by the footer start. */
    if (c->chunk_start < 4 || c->chunk_start > m->footer_offset ||
        c->total_compressed_size > INT64_MAX - c->chunk_start) {
        return ard__md_failf(m, "column chunk starts at %lld, outside the data area [4, %lld]",
                             (long long)c->chunk_start, (long long)m->footer_offset);
    }
    return true;
}

static bool decode_column_chunk(ard__md *m, ard_pq_column_chunk *c) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        chunk_field(m, id, type, c);
    }
    if (m->t.status != ARD_OK || !validate_chunk(m, c)) {
        return false;
    }
    return ard__thrift_struct_end(&m->t);
}

/* ---- RowGroup -------------------------------------------------------------------------------- */

static bool decode_sorting_column(ard__md *m, ard_pq_sorting_column *s) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        if (id == 1) {
            read_i32(m, type, NULL, &s->column_idx);
        } else if ((id == 2 || id == 3) && ard__md_want(m, type, ARD__T_TRUE)) {
            *(id == 2 ? &s->descending : &s->nulls_first) = bval;
        } else if (id != 2 && id != 3) {
            ard__thrift_skip(&m->t, type);
        }
    }
    return m->t.status == ARD_OK && ard__thrift_struct_end(&m->t);
}

static bool decode_chunks(ard__md *m, uint8_t type, ard_pq_row_group *rg) {
    int32_t n = ard__md_list(m, type, ARD__T_STRUCT);
    if (n < 0) {
        return m->t.status == ARD_OK;
    }
    ard_pq_column_chunk *chunks = ard__md_alloc(m, (size_t)n, sizeof *chunks);
    if (!chunks) {
        return false;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!decode_column_chunk(m, &chunks[i])) {
            return false;
        }
    }
    rg->num_columns = n;
    rg->columns = chunks;
    return true;
}

static bool decode_sorting_columns(ard__md *m, uint8_t type, ard_pq_row_group *rg) {
    int32_t n = ard__md_list(m, type, ARD__T_STRUCT);
    if (n < 0) {
        return m->t.status == ARD_OK;
    }
    ard_pq_sorting_column *cols = ard__md_alloc(m, (size_t)n, sizeof *cols);
    if (!cols) {
        return false;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!decode_sorting_column(m, &cols[i])) {
            return false;
        }
    }
    rg->num_sorting_columns = n;
    rg->sorting_columns = cols;
    return true;
}

static void rg_field(ard__md *m, int16_t id, uint8_t type, ard_pq_row_group *rg) {
    int32_t ordinal;
    switch (id) {
    case 1:
        decode_chunks(m, type, rg);
        break;
    case 2:
        read_i64(m, type, NULL, &rg->total_byte_size);
        break;
    case 3:
        read_i64(m, type, NULL, &rg->num_rows);
        break;
    case 4:
        decode_sorting_columns(m, type, rg);
        break;
    case 5:
        read_i64(m, type, &rg->has_file_offset, &rg->file_offset);
        break;
    case 6:
        read_i64(m, type, &rg->has_total_compressed_size, &rg->total_compressed_size);
        break;
    case 7:
        if (ard__md_want(m, type, ARD__T_I16) && ard__thrift_i32(&m->t, &ordinal)) {
            rg->has_ordinal = 1;
            rg->ordinal = ordinal;
        }
        break;
    default:
        ard__thrift_skip(&m->t, type);
        break;
    }
}

static bool decode_row_group(ard__md *m, ard_pq_row_group *rg) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        rg_field(m, id, type, rg);
    }
    if (m->t.status != ARD_OK) {
        return false;
    }
    if (rg->num_rows < 0) {
        return ard__md_failf(m, "RowGroup: negative num_rows %lld", (long long)rg->num_rows);
    }
    if (m->num_leaves >= 0 && rg->num_columns != m->num_leaves) {
        return ard__md_failf(m, "RowGroup has %d column chunks but the schema has %d leaves",
                             rg->num_columns, m->num_leaves);
    }
    return ard__thrift_struct_end(&m->t);
}

static bool decode_row_groups(ard__md *m, uint8_t type, ard_pq_metadata *out) {
    int32_t n = ard__md_list(m, type, ARD__T_STRUCT);
    if (n < 0) {
        return m->t.status == ARD_OK;
    }
    ard_pq_row_group *rgs = ard__md_alloc(m, (size_t)n, sizeof *rgs);
    if (!rgs) {
        return false;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!decode_row_group(m, &rgs[i])) {
            return false;
        }
    }
    out->num_row_groups = n;
    out->row_groups = rgs;
    return true;
}

/* ---- ColumnOrder and FileMetaData ------------------------------------------------------------ */

static bool decode_column_order(ard__md *m, int32_t *order) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    *order = 0;
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        if (id >= 1 && id <= 3 && type == ARD__T_STRUCT) {
            *order = id; /* TYPE_ORDER 1, IEEE_754_TOTAL_ORDER 2, INT96_TIMESTAMP_ORDER 3 */
        }
        ard__thrift_skip(&m->t, type);
    }
    return m->t.status == ARD_OK && ard__thrift_struct_end(&m->t);
}

static bool decode_column_orders(ard__md *m, uint8_t type, ard_pq_metadata *out) {
    int32_t n = ard__md_list(m, type, ARD__T_STRUCT);
    if (n < 0) {
        return m->t.status == ARD_OK;
    }
    int32_t *orders = ard__md_alloc(m, (size_t)n, sizeof *orders);
    if (!orders) {
        return false;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!decode_column_order(m, &orders[i])) {
            return false;
        }
    }
    out->num_column_orders = n;
    out->column_orders = orders;
    return true;
}

static void fmd_field(ard__md *m, int16_t id, uint8_t type, ard_pq_metadata *out) {
    switch (id) {
    case 1:
        read_i32(m, type, NULL, &out->version);
        break;
    case 2:
        ard__md_schema(m, type, out);
        break;
    case 3:
        read_i64(m, type, NULL, &out->declared_num_rows);
        break;
    case 4:
        decode_row_groups(m, type, out);
        break;
    case 5:
        decode_kv_list(m, type, &out->num_kv, &out->kv);
        break;
    case 6:
        if (ard__md_want(m, type, ARD__T_BINARY)) {
            ard__md_string(m, &out->created_by, NULL);
        }
        break;
    case 7:
        decode_column_orders(m, type, out);
        break;
    case 8:
        m->footer_encrypted = 1;
        ard__thrift_skip(&m->t, type);
        break;
    default:
        ard__thrift_skip(&m->t, type);
        break;
    }
}

/* The column reader decodes by the schema's type; a chunk that disagrees cannot be read safely. */
static bool check_chunk_types(ard__md *m, const ard_pq_metadata *md, int32_t rg) {
    for (int32_t i = 0; i < md->num_leaves; i++) {
        const ard_pq_column_chunk *c = &md->row_groups[rg].columns[i];
        const ard_pq_schema_node *leaf = &md->nodes[md->leaves[i]];
        if (c->has_meta_data && c->type != leaf->type) {
            return ard__md_failf(m, "row group %d column '%s': chunk type %s but schema type %s",
                                 rg, leaf->path, ard_pq_type_name(c->type),
                                 ard_pq_type_name(leaf->type));
        }
    }
    return true;
}

/* Checks that need the whole footer: the schema may come after the row groups on the wire. */
static ard_status validate_file(ard__md *m, ard_pq_metadata *out) {
    if (out->num_nodes == 0) {
        ard__md_failf(m, "FileMetaData has no schema");
        return m->t.status;
    }
    int64_t total = 0;
    for (int32_t i = 0; i < out->num_row_groups; i++) {
        const ard_pq_row_group *rg = &out->row_groups[i];
        if (rg->num_columns != out->num_leaves) {
            ard__md_failf(m, "row group %d has %d column chunks but the schema has %d leaves", i,
                          rg->num_columns, out->num_leaves);
            return m->t.status;
        }
        if (!check_chunk_types(m, out, i)) {
            return m->t.status;
        }
        if (rg->num_rows > INT64_MAX - total) {
            ard__md_failf(m, "total row count overflows");
            return m->t.status;
        }
        total += rg->num_rows;
    }
    out->num_rows = total;
    return ARD_OK;
}

ard_status ard__pq_decode_file_metadata_enc(const uint8_t *data, size_t len, int64_t base_offset,
                                            int64_t file_size, const char *path, ard__arena *arena,
                                            ard_pq_metadata *out, int32_t *footer_encrypted,
                                            ard_error *err) {
    ard__md m;
    int16_t id;
    uint8_t type;
    bool bval;
    memset(out, 0, sizeof *out);
    memset(&m, 0, sizeof m);
    ard__thrift_init(&m.t, data, len, base_offset, path, err);
    m.arena = arena;
    m.path = path ? path : "parquet";
    m.err = err;
    m.num_leaves = -1;
    m.footer_offset = base_offset;
    m.file_size = file_size;
    out->footer_offset = base_offset;
    out->footer_length = (int64_t)len;
    if (ard__thrift_struct_begin(&m.t)) {
        while (ard__thrift_field(&m.t, &id, &type, &bval)) {
            fmd_field(&m, id, type, out);
        }
    }
    if (m.t.status == ARD_OK) {
        ard__thrift_struct_end(&m.t);
    }
    if (m.t.status == ARD_OK) {
        validate_file(&m, out);
    }
    if (footer_encrypted) {
        *footer_encrypted = m.footer_encrypted;
    }
    if (m.t.status != ARD_OK) {
        memset(out, 0, sizeof *out);
    }
    return m.t.status;
}

ard_status ard__pq_decode_file_metadata(const uint8_t *data, size_t len, int64_t base_offset,
                                        int64_t file_size, const char *path, ard__arena *arena,
                                        ard_pq_metadata *out, ard_error *err) {
    return ard__pq_decode_file_metadata_enc(data, len, base_offset, file_size, path, arena, out,
                                            NULL, err);
}
