/* Value decoding of data pages: PLAIN, dictionary indices, DELTA_*, BYTE_STREAM_SPLIT and RLE
 * booleans, into fixed-width arrays or BYTE_ARRAY offsets + bytes. Every length is checked against the
 * page; dictionary indices against the dictionary. */
#include "column_int.h"

#include <string.h>

static uint32_t load_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void ard__dict_reset(ard__dict *dict) {
    ard_free(dict->values);
    ard_free(dict->offsets);
    ard_free(dict->page);
    memset(dict, 0, sizeof *dict);
}

ard_status ard__dict_load(ard__chunk_reader *cr, uint8_t *page, size_t len, int64_t count,
                          int64_t offset, ard_error *err) {
    ard__dict *d = &cr->dict;
    d->page = page;
    d->count = count;
    if (cr->width > 0) {
        if ((uint64_t)count * (uint64_t)cr->width > len && cr->leaf->type != ARD_PQ_BOOLEAN) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: dictionary page at byte %lld: %lld values "
                                 "need more than its %zu bytes",
                                 cr->what, (long long)offset, (long long)count, len);
        }
        ard__page pg = {.num_levels = count,
                        .num_values = count,
                        .encoding = ARD_PQ_PLAIN,
                        .values = page,
                        .values_len = len,
                        .header_offset = offset};
        d->values = ard_malloc((size_t)count * (size_t)cr->width + 1);
        if (!d->values) {
            return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for the dictionary", cr->what);
        }
        return ard__decode_fixed(cr, &pg, d->values, err);
    }
    if ((uint64_t)count > len / 4) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: dictionary page at byte %lld: %lld strings "
                             "cannot fit in %zu bytes",
                             cr->what, (long long)offset, (long long)count, len);
    }
    d->offsets = ard_malloc(((size_t)count + 1) * sizeof(int64_t));
    if (!d->offsets) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for the dictionary", cr->what);
    }
    size_t pos = 0;
    for (int64_t i = 0; i < count; i++) {
        if (len - pos < 4 || load_u32le(page + pos) > len - pos - 4) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: dictionary page at byte %lld: entry %lld "
                                 "runs past the page",
                                 cr->what, (long long)offset, (long long)i);
        }
        /* offsets[i] is where entry i's bytes start; its length is the u32 just before them */
        d->offsets[i] = (int64_t)pos + 4;
        pos += 4 + (size_t)load_u32le(page + pos);
    }
    d->data = page;
    return ARD_OK;
}

/* Byte range of dictionary entry i (BYTE_ARRAY dictionaries). */
static void dict_entry(const ard__dict *d, uint32_t i, const uint8_t **p, uint32_t *len) {
    int64_t start = d->offsets[i];
    *p = d->data + start;
    *len = load_u32le(d->data + start - 4);
}

static ard_status decode_indices(ard__chunk_reader *cr, const ard__page *pg, ard_error *err) {
    if (!cr->has_dict) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: page at byte %lld is dictionary-encoded but the "
                             "chunk has no dictionary page",
                             cr->what, (long long)pg->header_offset);
    }
    if (pg->num_values == 0) {
        return ARD_OK;
    }
    if (pg->values_len < 1) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: page at byte %lld: dictionary indices missing",
                             cr->what, (long long)pg->header_offset);
    }
    int bw = pg->values[0];
    if (bw > 32) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: page at byte %lld: dictionary index bit width "
                             "%d > 32",
                             cr->what, (long long)pg->header_offset, bw);
    }
    if (ard__grow((void **)&cr->indices, &cr->index_cap,
                  (size_t)pg->num_values * sizeof(uint32_t)) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for indices", cr->what);
    }
    ard_status st = ard__rle_decode_u32(pg->values + 1, pg->values_len - 1, bw, cr->indices,
                                        pg->num_values, err);
    if (st != ARD_OK) {
        ard_error_prefix(err, "%s: page at byte %lld: ", cr->what, (long long)pg->header_offset);
        return st;
    }
    uint64_t count = (uint64_t)cr->dict.count;
    for (int64_t i = 0; i < pg->num_values; i++) {
        if (cr->indices[i] >= count) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: page at byte %lld: dictionary index %u out "
                                 "of range (dictionary has %lld entries)",
                                 cr->what, (long long)pg->header_offset, cr->indices[i],
                                 (long long)count);
        }
    }
    return ARD_OK;
}

static ard_status plain_fixed(ard__chunk_reader *cr, const ard__page *pg, uint8_t *dst,
                              ard_error *err) {
    int64_t n = pg->num_values;
    if (cr->leaf->type == ARD_PQ_BOOLEAN) {
        if ((uint64_t)(n + 7) / 8 > pg->values_len) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: page at byte %lld: %lld "
                                 "booleans need more than %zu bytes",
                                 cr->what, (long long)pg->header_offset, (long long)n,
                                 pg->values_len);
        }
        for (int64_t i = 0; i < n; i++) {
            dst[i] = (uint8_t)((pg->values[i >> 3] >> (i & 7)) & 1);
        }
        return ARD_OK;
    }
    uint64_t need = (uint64_t)n * (uint64_t)cr->width;
    if (need > pg->values_len) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: page at byte %lld: %lld values need %llu bytes, "
                             "page has %zu",
                             cr->what, (long long)pg->header_offset, (long long)n,
                             (unsigned long long)need, pg->values_len);
    }
    memcpy(dst, pg->values, (size_t)need);
    return ARD_OK;
}

static ard_status rle_booleans(ard__chunk_reader *cr, const ard__page *pg, uint8_t *dst,
                               ard_error *err) {
    if (pg->values_len < 4 || load_u32le(pg->values) > pg->values_len - 4) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: page at byte %lld: bad RLE boolean length",
                             cr->what, (long long)pg->header_offset);
    }
    if (ard__grow((void **)&cr->indices, &cr->index_cap,
                  (size_t)pg->num_values * sizeof(uint32_t)) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    ard_status st = ard__rle_decode_u32(pg->values + 4, load_u32le(pg->values), 1, cr->indices,
                                        pg->num_values, err);
    for (int64_t i = 0; st == ARD_OK && i < pg->num_values; i++) {
        dst[i] = (uint8_t)cr->indices[i];
    }
    return st;
}

static ard_status fixed_from_byte_arrays(ard__chunk_reader *cr, const ard__page *pg, uint8_t *dst,
                                         ard_error *err) {
    ard_buf bytes;
    ard_buf_init(&bytes);
    int64_t *ends = ard_malloc(((size_t)pg->num_values + 1) * sizeof(int64_t));
    if (!ends) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    int32_t w = cr->width;
    cr->width = 0; /* decode as BYTE_ARRAY */
    ard_status st = ard__decode_byte_array(cr, pg, ends, &bytes, (size_t)cr->memory_cap, err);
    cr->width = w;
    for (int64_t i = 0; st == ARD_OK && i < pg->num_values; i++) {
        int64_t start = i ? ends[i - 1] : 0;
        if (ends[i] - start != w) {
            st = ard_error_set(err, ARD_ECORRUPT,
                               "%s: page at byte %lld: value of %lld bytes in a "
                               "FIXED_LEN_BYTE_ARRAY(%d) column",
                               cr->what, (long long)pg->header_offset, (long long)(ends[i] - start),
                               w);
        } else {
            memcpy(dst + (size_t)i * (size_t)w, bytes.data + start, (size_t)w);
        }
    }
    ard_free(ends);
    ard_buf_reset(&bytes);
    return st;
}

ard_status ard__decode_fixed(ard__chunk_reader *cr, const ard__page *pg, uint8_t *dst,
                             ard_error *err) {
    ard_status st;
    int64_t n = pg->num_values;
    size_t w = (size_t)cr->width;
    switch (pg->encoding) {
    case ARD_PQ_PLAIN:
        return plain_fixed(cr, pg, dst, err);
    case ARD_PQ_PLAIN_DICTIONARY:
    case ARD_PQ_RLE_DICTIONARY:
        st = decode_indices(cr, pg, err);
        for (int64_t i = 0; st == ARD_OK && i < n; i++) {
            memcpy(dst + (size_t)i * w, cr->dict.values + (size_t)cr->indices[i] * w, w);
        }
        return st;
    case ARD_PQ_DELTA_BINARY_PACKED: {
        size_t used;
        if (cr->leaf->type == ARD_PQ_INT32) {
            return ard__delta_decode_i32(pg->values, pg->values_len, (int32_t *)(void *)dst, n,
                                         &used, err);
        }
        if (cr->leaf->type == ARD_PQ_INT64) {
            return ard__delta_decode_i64(pg->values, pg->values_len, (int64_t *)(void *)dst, n,
                                         &used, err);
        }
        break;
    }
    case ARD_PQ_BYTE_STREAM_SPLIT:
        if (cr->leaf->type != ARD_PQ_BOOLEAN && cr->leaf->type != ARD_PQ_INT96) {
            return ard__bss_decode(pg->values, pg->values_len, (int)w, n, dst, err);
        }
        break;
    case ARD_PQ_RLE:
        if (cr->leaf->type == ARD_PQ_BOOLEAN) {
            return rle_booleans(cr, pg, dst, err);
        }
        break;
    case ARD_PQ_DELTA_BYTE_ARRAY:
        if (cr->leaf->type == ARD_PQ_FIXED_LEN_BYTE_ARRAY) {
            return fixed_from_byte_arrays(cr, pg, dst, err);
        }
        break;
    default:
        break;
    }
    return ard_error_set(err, ARD_ENOTSUP,
                         "%s: page at byte %lld: encoding %s is not supported for "
                         "%s values",
                         cr->what, (long long)pg->header_offset, ard_pq_encoding_name(pg->encoding),
                         ard_pq_type_name((int)cr->leaf->type));
}

static ard_status append_checked(ard__chunk_reader *cr, ard_buf *data, const uint8_t *p, size_t len,
                                 size_t max_bytes, ard_error *err) {
    if (len > max_bytes || data->len > max_bytes - len) {
        return ard_error_set(err, ARD_ELIMIT,
                             "%s: decoded strings exceed the memory cap of %zu "
                             "bytes",
                             cr->what, max_bytes);
    }
    ard_buf_append(data, p, len);
    if (data->failed) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for strings", cr->what);
    }
    return ARD_OK;
}

static ard_status plain_byte_arrays(ard__chunk_reader *cr, const ard__page *pg, int64_t *ends,
                                    ard_buf *data, size_t max_bytes, ard_error *err) {
    size_t pos = 0;
    for (int64_t i = 0; i < pg->num_values; i++) {
        if (pg->values_len - pos < 4 || load_u32le(pg->values + pos) > pg->values_len - pos - 4) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: page at byte %lld: string %lld runs past "
                                 "the page",
                                 cr->what, (long long)pg->header_offset, (long long)i);
        }
        uint32_t l = load_u32le(pg->values + pos);
        ard_status st = append_checked(cr, data, pg->values + pos + 4, l, max_bytes, err);
        if (st != ARD_OK) {
            return st;
        }
        pos += 4 + (size_t)l;
        ends[i] = (int64_t)data->len;
    }
    return ARD_OK;
}

static ard_status delta_length(ard__chunk_reader *cr, const ard__page *pg, int64_t *ends,
                               ard_buf *data, size_t max_bytes, ard_error *err) {
    int64_t n = pg->num_values;
    int64_t *offs = ard_malloc(((size_t)n + 1) * sizeof(int64_t));
    if (!offs) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    const uint8_t *bytes = NULL;
    ard_status st = ard__delta_length_decode(pg->values, pg->values_len, n, offs, &bytes, err);
    if (st == ARD_OK && n > 0) {
        st = append_checked(cr, data, bytes, (size_t)offs[n], max_bytes, err);
    }
    int64_t base = (int64_t)data->len - (n > 0 ? offs[n] : 0);
    for (int64_t i = 0; st == ARD_OK && i < n; i++) {
        ends[i] = base + offs[i + 1];
    }
    ard_free(offs);
    return st;
}

static ard_status delta_byte_array(ard__chunk_reader *cr, const ard__page *pg, int64_t *ends,
                                   ard_buf *data, size_t max_bytes, ard_error *err) {
    int64_t n = pg->num_values;
    int64_t *offs = ard_malloc(((size_t)n + 1) * sizeof(int64_t));
    ard_buf tmp;
    ard_buf_init(&tmp);
    if (!offs) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    ard_status st =
        ard__delta_byte_array_decode(pg->values, pg->values_len, n, offs, &tmp, max_bytes, err);
    int64_t base = (int64_t)data->len;
    if (st == ARD_OK && n > 0) {
        st = append_checked(cr, data, tmp.data, (size_t)offs[n], max_bytes, err);
    }
    for (int64_t i = 0; st == ARD_OK && i < n; i++) {
        ends[i] = base + offs[i + 1];
    }
    ard_free(offs);
    ard_buf_reset(&tmp);
    return st;
}

ard_status ard__decode_byte_array(ard__chunk_reader *cr, const ard__page *pg, int64_t *ends,
                                  ard_buf *data, size_t max_bytes, ard_error *err) {
    ard_status st;
    switch (pg->encoding) {
    case ARD_PQ_PLAIN:
        return plain_byte_arrays(cr, pg, ends, data, max_bytes, err);
    case ARD_PQ_PLAIN_DICTIONARY:
    case ARD_PQ_RLE_DICTIONARY:
        st = decode_indices(cr, pg, err);
        for (int64_t i = 0; st == ARD_OK && i < pg->num_values; i++) {
            const uint8_t *p;
            uint32_t len;
            dict_entry(&cr->dict, cr->indices[i], &p, &len);
            st = append_checked(cr, data, p, len, max_bytes, err);
            ends[i] = (int64_t)data->len;
        }
        return st;
    case ARD_PQ_DELTA_LENGTH_BYTE_ARRAY:
        return delta_length(cr, pg, ends, data, max_bytes, err);
    case ARD_PQ_DELTA_BYTE_ARRAY:
        return delta_byte_array(cr, pg, ends, data, max_bytes, err);
    default:
        return ard_error_set(err, ARD_ENOTSUP,
                             "%s: page at byte %lld: encoding %s is not supported "
                             "for BYTE_ARRAY values",
                             cr->what, (long long)pg->header_offset,
                             ard_pq_encoding_name(pg->encoding));
    }
}
