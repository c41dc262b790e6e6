/* Decoding of the Thrift structures that live outside the footer: PageHeader (before every page),
 * and the page index (ColumnIndex, OffsetIndex) that column chunks point to. */
#include "metadata_int.h"

#include <string.h>

static void md_setup(ard__md *m, const uint8_t *data, size_t len, int64_t base_offset,
                     const char *path, ard__arena *arena, ard_error *err) {
    memset(m, 0, sizeof *m);
    ard__thrift_init(&m->t, data, len, base_offset, path, err);
    m->arena = arena;
    m->path = path ? path : "parquet";
    m->err = err;
    m->num_leaves = -1;
}

static void get_i32(ard__md *m, uint8_t type, int32_t *v, int32_t *has) {
    if (ard__md_want(m, type, ARD__T_I32) && ard__thrift_i32(&m->t, v) && has) {
        *has = 1;
    }
}

/* ---- PageHeader ------------------------------------------------------------------------------ */

static void v1_field(ard__md *m, int16_t id, uint8_t type, ard__pq_page_header *h) {
    switch (id) {
    case 1:
        get_i32(m, type, &h->num_values, NULL);
        break;
    case 2:
        get_i32(m, type, &h->encoding, NULL);
        break;
    case 3:
        get_i32(m, type, &h->definition_level_encoding, NULL);
        break;
    case 4:
        get_i32(m, type, &h->repetition_level_encoding, NULL);
        break;
    case 5:
        if (ard__md_want(m, type, ARD__T_STRUCT)) {
            ard__md_stats(m, &h->stats);
        }
        break;
    default:
        ard__thrift_skip(&m->t, type);
        break;
    }
}

static void v2_field(ard__md *m, int16_t id, uint8_t type, bool bval, ard__pq_page_header *h) {
    switch (id) {
    case 1:
        get_i32(m, type, &h->num_values, NULL);
        break;
    case 2:
        get_i32(m, type, &h->num_nulls, NULL);
        break;
    case 3:
        get_i32(m, type, &h->num_rows, NULL);
        break;
    case 4:
        get_i32(m, type, &h->encoding, NULL);
        break;
    case 5:
        get_i32(m, type, &h->definition_levels_byte_length, NULL);
        break;
    case 6:
        get_i32(m, type, &h->repetition_levels_byte_length, NULL);
        break;
    case 7:
        if (ard__md_want(m, type, ARD__T_TRUE)) {
            h->is_compressed = bval;
        }
        break;
    case 8:
        if (ard__md_want(m, type, ARD__T_STRUCT)) {
            ard__md_stats(m, &h->stats);
        }
        break;
    default:
        ard__thrift_skip(&m->t, type);
        break;
    }
}

static void dict_field(ard__md *m, int16_t id, uint8_t type, bool bval, ard__pq_page_header *h) {
    switch (id) {
    case 1:
        get_i32(m, type, &h->dict_num_values, NULL);
        break;
    case 2:
        get_i32(m, type, &h->dict_encoding, NULL);
        break;
    case 3:
        if (ard__md_want(m, type, ARD__T_TRUE)) {
            h->dict_is_sorted = bval;
        }
        break;
    default:
        ard__thrift_skip(&m->t, type);
        break;
    }
}

/* Sub-header `which` (5 v1, 7 dictionary, 8 v2). */
static bool decode_sub_header(ard__md *m, int16_t which, ard__pq_page_header *h) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        if (which == 5) {
            v1_field(m, id, type, h);
        } else if (which == 7) {
            dict_field(m, id, type, bval, h);
        } else {
            v2_field(m, id, type, bval, h);
        }
    }
    return m->t.status == ARD_OK && ard__thrift_struct_end(&m->t);
}

static void page_field(ard__md *m, int16_t id, uint8_t type, ard__pq_page_header *h,
                       uint32_t *seen) {
    int32_t crc;
    switch (id) {
    case 1:
        get_i32(m, type, &h->type, NULL);
        break;
    case 2:
        get_i32(m, type, &h->uncompressed_page_size, NULL);
        break;
    case 3:
        get_i32(m, type, &h->compressed_page_size, NULL);
        break;
    case 4:
        if (ard__md_want(m, type, ARD__T_I32) && ard__thrift_i32(&m->t, &crc)) {
            h->has_crc = 1;
            h->crc = (uint32_t)crc;
        }
        return;
    case 5:
    case 7:
    case 8:
        if (ard__md_want(m, type, ARD__T_STRUCT) && decode_sub_header(m, id, h)) {
            *seen |= 1u << id;
        }
        return;
    default:
        ard__thrift_skip(&m->t, type);
        return;
    }
    if (type == ARD__T_I32) {
        *seen |= 1u << id;
    }
}

static bool check_page_header(ard__md *m, const ard__pq_page_header *h, uint32_t seen) {
    if ((seen & 0xe) != 0xe) {
        return ard__md_failf(m, "PageHeader: missing type or page sizes");
    }
    if (h->uncompressed_page_size < 0 || h->compressed_page_size < 0) {
        return ard__md_failf(m, "PageHeader: negative page size (%d, %d)",
                             h->uncompressed_page_size, h->compressed_page_size);
    }
    int16_t need = h->type == ARD_PQ_DATA_PAGE         ? 5
                   : h->type == ARD_PQ_DICTIONARY_PAGE ? 7
                   : h->type == ARD_PQ_DATA_PAGE_V2    ? 8
                                                       : 0;
    if (need && !(seen & (1u << need))) {
        return ard__md_failf(m, "PageHeader: page type %d without its header", h->type);
    }
    if (h->num_values < 0 || h->dict_num_values < 0 || h->num_nulls < 0 || h->num_rows < 0) {
        return ard__md_failf(m, "PageHeader: negative value count");
    }
    if (h->definition_levels_byte_length < 0 || h->repetition_levels_byte_length < 0 ||
        (int64_t)h->definition_levels_byte_length + h->repetition_levels_byte_length >
            h->compressed_page_size) {
        return ard__md_failf(m, "DataPageHeaderV2: level lengths (%d + %d) exceed the page (%d)",
                             h->definition_levels_byte_length, h->repetition_levels_byte_length,
                             h->compressed_page_size);
    }
    return true;
}

ard_status ard__pq_decode_page_header(const uint8_t *data, size_t len, int64_t base_offset,
                                      const char *path, ard__pq_page_header *out, ard_error *err) {
    ard__md m;
    int16_t id;
    uint8_t type;
    bool bval;
    uint32_t seen = 0;
    md_setup(&m, data, len, base_offset, path, NULL, err);
    memset(out, 0, sizeof *out);
    out->is_compressed = 1;
    if (ard__thrift_struct_begin(&m.t)) {
        while (ard__thrift_field(&m.t, &id, &type, &bval)) {
            page_field(&m, id, type, out, &seen);
        }
    }
    if (m.t.status == ARD_OK && check_page_header(&m, out, seen)) {
        ard__thrift_struct_end(&m.t);
    }
    out->header_size = (size_t)(m.t.p - m.t.start);
    return m.t.status;
}

/* ---- ColumnIndex ----------------------------------------------------------------------------- */

/* Every list of a ColumnIndex has one entry per page; the first list fixes the count. */
static int32_t index_list(ard__md *m, uint8_t type, uint8_t elem, ard__pq_column_index *ci) {
    int32_t n = ard__md_list(m, type, elem);
    if (n >= 0 && ci->num_pages >= 0 && n != ci->num_pages) {
        ard__md_failf(m, "ColumnIndex: list of %d entries for %d pages", n, ci->num_pages);
        return -1;
    }
    if (n >= 0) {
        ci->num_pages = n;
    }
    return n;
}

static void ci_null_pages(ard__md *m, uint8_t type, ard__pq_column_index *ci) {
    int32_t n = index_list(m, type, ARD__T_TRUE, ci);
    if (n < 0 || !(ci->null_pages = ard__md_alloc(m, (size_t)n, sizeof(bool)))) {
        return;
    }
    for (int32_t i = 0; i < n && ard__thrift_list_bool(&m->t, &ci->null_pages[i]); i++) {
    }
}

static void ci_bounds(ard__md *m, uint8_t type, ard__pq_column_index *ci, bool is_min) {
    int32_t n = index_list(m, type, ARD__T_BINARY, ci);
    if (n < 0) {
        return;
    }
    const uint8_t **values = ard__md_alloc(m, (size_t)n, sizeof *values);
    uint32_t *lens = ard__md_alloc(m, (size_t)n, sizeof *lens);
    if (!values || !lens) {
        return;
    }
    for (int32_t i = 0; i < n && ard__thrift_binary(&m->t, &values[i], &lens[i]); i++) {
    }
    *(is_min ? &ci->min_values : &ci->max_values) = values;
    *(is_min ? &ci->min_lens : &ci->max_lens) = lens;
}

static void ci_null_counts(ard__md *m, uint8_t type, ard__pq_column_index *ci) {
    int32_t n = index_list(m, type, ARD__T_I64, ci);
    if (n < 0 || !(ci->null_counts = ard__md_alloc(m, (size_t)n, sizeof(int64_t)))) {
        return;
    }
    for (int32_t i = 0; i < n && ard__thrift_i64(&m->t, &ci->null_counts[i]); i++) {
        if (ci->null_counts[i] < 0) {
            ard__md_failf(m, "ColumnIndex: negative null count");
        }
    }
    ci->has_null_counts = 1;
}

static void ci_field(ard__md *m, int16_t id, uint8_t type, ard__pq_column_index *ci) {
    switch (id) {
    case 1:
        ci_null_pages(m, type, ci);
        break;
    case 2:
        ci_bounds(m, type, ci, true);
        break;
    case 3:
        ci_bounds(m, type, ci, false);
        break;
    case 4:
        get_i32(m, type, &ci->boundary_order, NULL);
        break;
    case 5:
        ci_null_counts(m, type, ci);
        break;
    default:
        ard__thrift_skip(&m->t, type);
        break; /* histograms, nan_counts */
    }
}

ard_status ard__pq_decode_column_index(const uint8_t *data, size_t len, int64_t base_offset,
                                       const char *path, ard__arena *arena,
                                       ard__pq_column_index *out, ard_error *err) {
    ard__md m;
    int16_t id;
    uint8_t type;
    bool bval;
    md_setup(&m, data, len, base_offset, path, arena, err);
    memset(out, 0, sizeof *out);
    out->num_pages = -1;
    if (ard__thrift_struct_begin(&m.t)) {
        while (ard__thrift_field(&m.t, &id, &type, &bval)) {
            ci_field(&m, id, type, out);
        }
    }
    if (m.t.status == ARD_OK && (!out->null_pages || !out->min_values || !out->max_values)) {
        ard__md_failf(&m, "ColumnIndex: missing null_pages, min_values or max_values");
    }
    if (m.t.status == ARD_OK) {
        ard__thrift_struct_end(&m.t);
    }
    if (m.t.status != ARD_OK) {
        memset(out, 0, sizeof *out);
    }
    return m.t.status;
}

/* ---- OffsetIndex ----------------------------------------------------------------------------- */

static bool decode_location(ard__md *m, ard__pq_page_location *loc) {
    int16_t id;
    uint8_t type;
    bool bval;
    uint32_t seen = 0;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        if (id == 1 || id == 3) {
            if (ard__md_want(m, type, ARD__T_I64) &&
                ard__thrift_i64(&m->t, id == 1 ? &loc->offset : &loc->first_row_index)) {
                seen |= 1u << id;
            }
        } else if (id == 2) {
            if (ard__md_want(m, type, ARD__T_I32) &&
                ard__thrift_i32(&m->t, &loc->compressed_page_size)) {
                seen |= 1u << id;
            }
        } else {
            ard__thrift_skip(&m->t, type);
        }
    }
    if (m->t.status != ARD_OK) {
        return false;
    }
    if (seen != 0xe || loc->offset < 0 || loc->compressed_page_size < 0 ||
        loc->first_row_index < 0) {
        return ard__md_failf(m, "PageLocation: missing or negative field");
    }
    return ard__thrift_struct_end(&m->t);
}

static void oi_locations(ard__md *m, uint8_t type, ard__pq_offset_index *oi) {
    int32_t n = ard__md_list(m, type, ARD__T_STRUCT);
    if (n < 0 || !(oi->pages = ard__md_alloc(m, (size_t)n, sizeof *oi->pages))) {
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!decode_location(m, &oi->pages[i])) {
            return;
        }
        if (i > 0 && oi->pages[i].first_row_index < oi->pages[i - 1].first_row_index) {
            ard__md_failf(m, "OffsetIndex: first_row_index decreasing");
            return;
        }
    }
    oi->num_pages = n;
}

ard_status ard__pq_decode_offset_index(const uint8_t *data, size_t len, int64_t base_offset,
                                       const char *path, ard__arena *arena,
                                       ard__pq_offset_index *out, ard_error *err) {
    ard__md m;
    int16_t id;
    uint8_t type;
    bool bval;
    md_setup(&m, data, len, base_offset, path, arena, err);
    memset(out, 0, sizeof *out);
    if (ard__thrift_struct_begin(&m.t)) {
        while (ard__thrift_field(&m.t, &id, &type, &bval)) {
            if (id == 1 && !out->pages) {
                oi_locations(&m, type, out);
            } else {
                ard__thrift_skip(&m.t, type);
            }
        }
    }
    if (m.t.status == ARD_OK && !out->pages) {
        ard__md_failf(&m, "OffsetIndex: missing page_locations");
    }
    if (m.t.status == ARD_OK) {
        ard__thrift_struct_end(&m.t);
    }
    if (m.t.status != ARD_OK) {
        memset(out, 0, sizeof *out);
    }
    return m.t.status;
}
