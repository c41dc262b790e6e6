/* Parquet writer pages: turns the page under construction (levels + dense values) into an encoded,
 * compressed data page (v1 or v2) with its header, statistics and CRC, appends it to the column
 * chunk and records its page-index entries; builds the chunk's dictionary page at the end. */
#include "writer_int.h"

#include <string.h>

void ard__pqw_page_init(ard__pqw_page *p) {
    memset(p, 0, sizeof *p);
}

void ard__pqw_page_reset(ard__pqw_page *p) {
    ard__pqw_levels_reset(&p->def);
    ard__pqw_levels_reset(&p->rep);
    ard__pqw_levels_reset(&p->index_runs);
    ard_free(p->indices);
    ard_buf_reset(&p->values);
    ard__pqw_stats_reset(&p->stats);
    memset(p, 0, sizeof *p);
}

void ard__pqw_chunk_init(ard__pqw_chunk *c) {
    memset(c, 0, sizeof *c);
    c->index_ok = 1;
    c->sorted_ok = 1;
}

void ard__pqw_chunk_free_data(ard__pqw_chunk *c) {
    ard_buf_reset(&c->pages);
    ard_buf_reset(&c->dict_page);
    ard__pqw_dict_reset(&c->dict);
}

void ard__pqw_chunk_reset(ard__pqw_chunk *c) {
    ard__pqw_chunk_free_data(c);
    ard__pqw_stats_reset(&c->stats);
    ard_free(c->locs);
    ard_free(c->null_pages);
    ard_free(c->page_null_counts);
    ard_free(c->page_nan_counts);
    ard_free(c->bound_off);
    ard_buf_reset(&c->bounds);
    memset(c, 0, sizeof *c);
}

void ard__pqw_scratch_reset(ard__pqw_scratch *s) {
    ard_buf_reset(&s->levels);
    ard_buf_reset(&s->values);
    ard_buf_reset(&s->body);
    ard_buf_reset(&s->comp);
    ard_buf_reset(&s->header);
    ard_buf_reset(&s->bound);
    ard_buf_reset(&s->expand);
}

int64_t ard__pqw_page_bytes(const ard__pqw_page *p) {
    int64_t levels = p->num_levels / 4; /* RLE levels are small; a rough share */
    if (p->dict_mode) {
        return levels + p->num_values * 2;
    }
    return levels + (int64_t)p->values.len;
}

int ard__pqw_page_reserve_indices(ard__pqw_page *p, int64_t extra) {
    if (p->num_values + extra <= p->cap_indices) {
        return 0;
    }
    int64_t cap = p->cap_indices ? p->cap_indices : 1024;
    while (cap < p->num_values + extra) {
        cap *= 2;
    }
    uint32_t *idx = ard_realloc(p->indices, (size_t)cap * sizeof *idx);
    if (!idx) {
        return -1;
    }
    p->indices = idx;
    p->cap_indices = cap;
    return 0;
}

/* Levels of page p into s->levels; v1 with 4-byte length prefixes. */
static void encode_levels(const ard__pqw_column *c, const ard__pqw_page *p, int v2, ard_buf *tmp,
                          ard_buf *out, int32_t *rep_len, int32_t *def_len) {
    out->len = 0;
    *rep_len = *def_len = 0;
    for (int pass = 0; pass < 2; pass++) {
        int16_t max = pass == 0 ? c->max_rep : c->max_def;
        if (max == 0) {
            continue;
        }
        size_t start = out->len;
        uint32_t zero = 0;
        if (!v2) {
            ard_buf_append(out, &zero, 4);
        }
        ard__pqw_levels_encode(pass == 0 ? &p->rep : &p->def, ard__bit_width((uint64_t)max), tmp,
                               out);
        if (out->failed) {
            return;
        }
        uint32_t len = (uint32_t)(out->len - start - (v2 ? 0 : 4));
        if (!v2) {
            memcpy(out->data + start, &len, 4);
        }
        *(pass == 0 ? rep_len : def_len) = (int32_t)(out->len - start);
    }
}

static void pack_bools(const uint8_t *bytes, int64_t count, ard_buf *out) {
    size_t n = (size_t)(count + 7) / 8;
    if (ard_buf_reserve(out, n + 1) != 0) {
        return;
    }
    uint8_t *dst = out->data + out->len;
    memset(dst, 0, n);
    for (int64_t i = 0; i < count; i++) {
        dst[i >> 3] |= (uint8_t)((bytes[i] != 0) << (i & 7));
    }
    out->len += n;
}

/* Encoded values of page p: points *data at them (p->values itself for plain fixed/byte arrays).
 * A page in the split layout (writer_split.c) is only measured unless `contiguous`: its SNAPPY
 * body is compressed from the streams where they lie (snappy_page). */
static void encode_values(const ard__pqw_column *c, const ard__pqw_chunk *chunk,
                          const ard__pqw_page *p, int contiguous, ard_buf *tmp, ard_buf *out,
                          const uint8_t **data, size_t *len) {
    out->len = 0;
    if (!contiguous && ard__pqw_split_layout(c, chunk, p)) {
        *data = NULL;
        *len = p->values.len;
        return;
    }
    int32_t enc = p->dict_mode ? ARD_PQ_RLE_DICTIONARY : chunk->value_encoding;
    if (enc == ARD_PQ_PLAIN && c->type != ARD_PQ_BOOLEAN) {
        *data = p->values.data;
        *len = p->values.len;
        return;
    }
    if (enc == ARD_PQ_RLE_DICTIONARY) {
        int bw = ard__bit_width(chunk->dict.count > 1 ? (uint64_t)(chunk->dict.count - 1) : 0);
        uint8_t b = (uint8_t)bw;
        ard_buf_append(out, &b, 1);
        if (p->indices_as_runs) {
            ard__pqw_levels_encode(&p->index_runs, bw, tmp, out);
        } else {
            ard__rle_encode_u32(p->indices, p->num_values, bw, out);
        }
    } else if (enc == ARD_PQ_PLAIN) {
        pack_bools(p->values.data, p->num_values, out);
    } else if (enc == ARD_PQ_DELTA_BINARY_PACKED && c->type == ARD_PQ_INT32) {
        ard__delta_encode_i32((const int32_t *)(const void *)p->values.data, p->num_values, out);
    } else if (enc == ARD_PQ_DELTA_BINARY_PACKED) {
        ard__delta_encode_i64((const int64_t *)(const void *)p->values.data, p->num_values, out);
    } else if (ard__pqw_split_layout(c, chunk, p)) { /* the streams back to back */
        const uint8_t *streams[4];
        ard__pqw_split_parts(p, streams);
        for (int j = 0; j < 4; j++) {
            ard_buf_append(out, streams[j], (size_t)p->num_values);
        }
    } else {
        ard__bss_encode(p->values.data, c->value_width, p->num_values, out);
    }
    *data = out->data;
    *len = out->len;
}

/* Compresses [in, in+len) with the writer's codec; *stored points at the bytes to store. */
static ard_status compress(ard_pq_writer *w, const uint8_t *in, size_t len, ard_buf *out,
                           const uint8_t **stored, size_t *stored_len, ard_error *err) {
    if (w->opts.codec == ARD_PQ_UNCOMPRESSED) {
        *stored = in;
        *stored_len = len;
        return ARD_OK;
    }
    out->len = 0;
    ard_status st = ard__pq_compress(w->opts.codec, w->opts.compression_level, in, len, out, err);
    if (st != ARD_OK) {
        return st;
    }
    if (out->failed) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory compressing a page");
    }
    *stored = out->data ? out->data : in;
    *stored_len = out->len;
    return ARD_OK;
}

/* SNAPPY of the page's levels (v1: in the compressed body) and values as parts of one stream
 * (snappy_parts.c): BYTE_STREAM_SPLIT values one part per byte stream, so the noisy low bytes are
 * stored as literals, and nothing is copied into a contiguous body first. */
static ard_status snappy_page(const ard__pqw_column *c, const ard__pqw_chunk *chunk,
                              const ard__pqw_page *p, const ard_buf *levels, const uint8_t *vals,
                              size_t vals_len, ard_buf *out, ard_error *err) {
    ard__snappy_part parts[1 + ARD__PQW_SPLIT_PARTS];
    int32_t n = 0, width = c->value_width;
    if (levels && levels->len > 0) {
        parts[n++] = (ard__snappy_part){levels->data, levels->len, ARD__SNAPPY_AUTO};
    }
    size_t count = (size_t)p->num_values;
    if (ard__pqw_split_layout(c, chunk, p)) { /* the streams where they lie */
        const uint8_t *streams[4];
        ard__pqw_split_parts(p, streams);
        for (int32_t j = 0; j < 4; j++) {
            parts[n++] = (ard__snappy_part){streams[j], count, ARD__SNAPPY_AUTO};
        }
        out->len = 0;
        return ard__snappy_compress_parts(parts, n, out, err);
    }
    int split = !p->dict_mode && chunk->value_encoding == ARD_PQ_BYTE_STREAM_SPLIT && width > 1 &&
                width <= ARD__PQW_SPLIT_PARTS && count > 0 && vals_len == count * (size_t)width;
    for (int32_t j = 0; split && j < width; j++) {
        parts[n++] = (ard__snappy_part){vals + (size_t)j * count, count, ARD__SNAPPY_AUTO};
    }
    if (!split) {
        parts[n++] = (ard__snappy_part){vals, vals_len, ARD__SNAPPY_AUTO};
    }
    out->len = 0;
    return ard__snappy_compress_parts(parts, n, out, err);
}

typedef struct page_body {
    const uint8_t *stored;
    size_t stored_len;
    int64_t uncompressed_len;
    int32_t rep_len, def_len;
    int32_t encoding;
} page_body;

static ard_status build_v1(ard_pq_writer *w, const ard__pqw_column *c, ard__pqw_chunk *chunk,
                           ard__pqw_page *p, page_body *b, ard_error *err) {
    ard__pqw_scratch *s = &w->scratch;
    const uint8_t *vals = NULL;
    size_t vals_len = 0;
    encode_levels(c, p, 0, &s->expand, &s->levels, &b->rep_len, &b->def_len);
    encode_values(c, chunk, p, w->opts.codec != ARD_PQ_SNAPPY, &s->expand, &s->values, &vals,
                  &vals_len);
    if (w->opts.codec == ARD_PQ_SNAPPY && !s->levels.failed && !s->values.failed) {
        b->uncompressed_len = (int64_t)(s->levels.len + vals_len);
        b->stored_len = 0;
        ard_status st = snappy_page(c, chunk, p, &s->levels, vals, vals_len, &s->comp, err);
        b->stored = s->comp.data;
        b->stored_len = s->comp.len;
        return st;
    }
    const uint8_t *raw = vals;
    size_t raw_len = vals_len;
    if (s->levels.len > 0) {
        s->body.len = 0;
        ard_buf_append(&s->body, s->levels.data, s->levels.len);
        ard_buf_append(&s->body, vals, vals_len);
        raw = s->body.data;
        raw_len = s->body.len;
    }
    if (s->levels.failed || s->values.failed || s->body.failed) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory encoding a page");
    }
    b->uncompressed_len = (int64_t)raw_len;
    return compress(w, raw, raw_len, &s->comp, &b->stored, &b->stored_len, err);
}

static ard_status build_v2(ard_pq_writer *w, const ard__pqw_column *c, ard__pqw_chunk *chunk,
                           ard__pqw_page *p, page_body *b, ard_error *err) {
    ard__pqw_scratch *s = &w->scratch;
    const uint8_t *vals = NULL, *stored = NULL;
    size_t vals_len = 0, stored_len = 0;
    encode_levels(c, p, 1, &s->expand, &s->levels, &b->rep_len, &b->def_len);
    encode_values(c, chunk, p, w->opts.codec != ARD_PQ_SNAPPY, &s->expand, &s->values, &vals,
                  &vals_len);
    if (s->levels.failed || s->values.failed) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory encoding a page");
    }
    ard_status st = ARD_OK;
    if (w->opts.codec == ARD_PQ_SNAPPY) {
        st = snappy_page(c, chunk, p, NULL, vals, vals_len, &s->comp, err);
        stored = s->comp.data;
        stored_len = s->comp.len;
    } else {
        st = compress(w, vals, vals_len, &s->comp, &stored, &stored_len, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    b->uncompressed_len = (int64_t)(s->levels.len + vals_len);
    if (s->levels.len == 0) {
        b->stored = stored;
        b->stored_len = stored_len;
        return ARD_OK;
    }
    s->body.len = 0;
    ard_buf_append(&s->body, s->levels.data, s->levels.len);
    ard_buf_append(&s->body, stored, stored_len);
    if (s->body.failed) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory encoding a page");
    }
    b->stored = s->body.data;
    b->stored_len = s->body.len;
    return ARD_OK;
}

static void write_page_header(ard_pq_writer *w, const ard__pqw_column *c, const ard__pqw_page *p,
                              const page_body *b, ard_buf *out) {
    ard__tw t;
    int v2 = w->opts.page_version == 2;
    out->len = 0;
    ard__tw_init(&t, out);
    ard__tw_field_i32(&t, 1, v2 ? ARD_PQ_DATA_PAGE_V2 : ARD_PQ_DATA_PAGE);
    ard__tw_field_i32(&t, 2, (int32_t)b->uncompressed_len);
    ard__tw_field_i32(&t, 3, (int32_t)b->stored_len);
    if (!w->opts.disable_crc) {
        ard__tw_field_i32(&t, 4, (int32_t)ard__crc32(b->stored, b->stored_len));
    }
    ard__tw_field_struct(&t, v2 ? 8 : 5);
    ard__tw_field_i32(&t, 1, (int32_t)p->num_levels);
    if (v2) {
        ard__tw_field_i32(&t, 2, (int32_t)(p->num_levels - p->num_values));
        ard__tw_field_i32(&t, 3, (int32_t)p->num_rows);
        ard__tw_field_i32(&t, 4, b->encoding);
        ard__tw_field_i32(&t, 5, b->def_len);
        ard__tw_field_i32(&t, 6, b->rep_len);
        ard__tw_field_bool(&t, 7, w->opts.codec != ARD_PQ_UNCOMPRESSED);
    } else {
        ard__tw_field_i32(&t, 2, b->encoding);
        ard__tw_field_i32(&t, 3, ARD_PQ_RLE);
        ard__tw_field_i32(&t, 4, ARD_PQ_RLE);
    }
    ard__pqw_stats_write(&t, v2 ? 8 : 5, &p->stats, c, !w->opts.disable_statistics);
    ard__tw_stop(&t);
    ard__tw_stop(&t);
}

static int grow_page_arrays(ard__pqw_chunk *ch) {
    if (ch->num_pages < ch->cap_pages) {
        return 0;
    }
    int32_t cap = ch->cap_pages ? ch->cap_pages * 2 : 16;
    void *a = ard_realloc(ch->locs, (size_t)cap * sizeof *ch->locs);
    if (!a) {
        return -1;
    }
    ch->locs = a;
    if (!(a = ard_realloc(ch->null_pages, (size_t)cap))) {
        return -1;
    }
    ch->null_pages = a;
    if (!(a = ard_realloc(ch->page_null_counts, (size_t)cap * sizeof(int64_t)))) {
        return -1;
    }
    ch->page_null_counts = a;
    if (!(a = ard_realloc(ch->page_nan_counts, (size_t)cap * sizeof(int64_t)))) {
        return -1;
    }
    ch->page_nan_counts = a;
    if (!(a = ard_realloc(ch->bound_off, (size_t)(2 * cap + 1) * sizeof(int64_t)))) {
        return -1;
    }
    ch->bound_off = a;
    ch->cap_pages = cap;
    return 0;
}

/* Page-index entries of the page just stored. */
static int record_page(ard_pq_writer *w, const ard__pqw_column *c, ard__pqw_chunk *ch,
                       const ard__pqw_page *p, int64_t offset, int64_t size) {
    if (grow_page_arrays(ch) != 0) {
        return -1;
    }
    int32_t i = ch->num_pages++;
    ch->locs[i] = (ard__pqw_page_loc){offset, (int32_t)size, p->first_row};
    ch->null_pages[i] = p->num_values == 0;
    ch->page_null_counts[i] = p->stats.null_count;
    ch->page_nan_counts[i] = p->stats.nan_count;
    if (i == 0) {
        ch->bound_off[0] = 0;
    }
    if (p->num_values > 0 && !p->stats.has_minmax) {
        ch->index_ok = 0; /* all NaN: writers omit the ColumnIndex */
    }
    if (c->sort_kind == ARD__SORT_NONE) {
        ch->index_ok = 0;
    }
    for (int is_max = 0; is_max < 2; is_max++) {
        if (p->stats.has_minmax) {
            ard_buf *b = &w->scratch.bound;
            ard__pqw_stats_encode_bound(&p->stats, c->sort_kind, c->value_width, is_max, b);
            if (c->sort_kind == ARD__SORT_BYTES && b->len > ARD__PQW_INDEX_MAX_BYTES) {
                ard_buf *cut = &w->scratch.body; /* free between pages */
                ard__pqw_truncate_bound(b->data, b->len, ARD__PQW_INDEX_MAX_BYTES, is_max, cut);
                ard_buf_append(&ch->bounds, cut->data, cut->len);
            } else {
                ard_buf_append(&ch->bounds, b->data, b->len);
            }
        }
        ch->bound_off[2 * i + 1 + is_max] = (int64_t)ch->bounds.len;
    }
    return ch->bounds.failed ? -1 : 0;
}

static void page_clear(ard__pqw_page *p, int dict_mode) {
    p->first_row += p->num_rows;
    p->num_levels = 0;
    p->def.num_runs = 0;
    p->rep.num_runs = 0;
    p->index_runs.num_runs = 0;
    p->indices_as_runs = 0;
    p->num_values = 0;
    p->num_rows = 0;
    p->values.len = 0;
    p->dict_mode = dict_mode;
    ard__pqw_stats_clear(&p->stats);
}

ard_status ard__pqw_flush_page(ard_pq_writer *w, int32_t col, ard__pqw_chunk *chunk,
                               ard__pqw_page *p, ard_error *err) {
    const ard__pqw_column *c = &w->schema.cols[col];
    if (p->num_levels == 0) {
        return ARD_OK;
    }
    page_body b;
    memset(&b, 0, sizeof b);
    b.encoding = p->dict_mode ? ARD_PQ_RLE_DICTIONARY : chunk->value_encoding;
    ard_status st = w->opts.page_version == 2 ? build_v2(w, c, chunk, p, &b, err)
                                              : build_v1(w, c, chunk, p, &b, err);
    if (st != ARD_OK) {
        return st;
    }
    if (b.stored_len > INT32_MAX || b.uncompressed_len > INT32_MAX) {
        return ard_error_set(err, ARD_ELIMIT, "parquet writer: column '%s': page over 2 GiB",
                             c->name);
    }
    ard_buf *hdr = &w->scratch.header;
    write_page_header(w, c, p, &b, hdr);
    if (hdr->failed) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory storing a page");
    }
    int streaming = 0; /* a dictionary page (even one ending on this page) must come first */
    st = p->dict_mode ? ARD_OK : ard__pqw_stream_check(w, col, &streaming, err);
    if (st == ARD_OK && streaming) { /* no copy into the chunk: header and body to the file */
        st = ard__pqw_write_bytes(w, hdr->data, hdr->len, err);
        st = st ? st : ard__pqw_write_bytes(w, b.stored, b.stored_len, err);
    } else if (st == ARD_OK) {
        if (!chunk->pages.data) {
            ard__pqw_take_spare(w, &chunk->pages);
        }
        ard_buf_append(&chunk->pages, hdr->data, hdr->len);
        ard_buf_append(&chunk->pages, b.stored, b.stored_len);
    }
    if (st != ARD_OK) {
        return st;
    }
    int64_t offset = chunk->page_bytes;
    chunk->page_bytes += (int64_t)(hdr->len + b.stored_len);
    if (chunk->pages.failed ||
        record_page(w, c, chunk, p, offset, (int64_t)(hdr->len + b.stored_len)) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory storing a page");
    }
    chunk->uncompressed += (int64_t)hdr->len + b.uncompressed_len;
    chunk->compressed += (int64_t)(hdr->len + b.stored_len);
    chunk->num_levels += p->num_levels;
    chunk->num_rows += p->num_rows;
    *(p->dict_mode ? &chunk->num_dict_pages_data : &chunk->num_plain_pages) += 1;
    chunk->dict_used |= p->dict_mode;
    ard__pqw_stats_merge(&chunk->stats, &p->stats, c->sort_kind);
    page_clear(p, chunk->dict_active);
    return ARD_OK;
}

ard_status ard__pqw_finish_chunk(ard_pq_writer *w, int32_t col, ard__pqw_chunk *chunk,
                                 ard_error *err) {
    (void)col;
    if (!chunk->dict_used) {
        ard__pqw_dict_reset(&chunk->dict);
        return ARD_OK;
    }
    const uint8_t *stored = NULL;
    size_t stored_len = 0;
    ard__pqw_dict *d = &chunk->dict;
    ard_status st =
        compress(w, d->plain.data, d->plain.len, &w->scratch.comp, &stored, &stored_len, err);
    if (st != ARD_OK) {
        return st;
    }
    ard__tw t;
    ard_buf *out = &chunk->dict_page;
    ard__tw_init(&t, out);
    ard__tw_field_i32(&t, 1, ARD_PQ_DICTIONARY_PAGE);
    ard__tw_field_i32(&t, 2, (int32_t)d->plain.len);
    ard__tw_field_i32(&t, 3, (int32_t)stored_len);
    if (!w->opts.disable_crc) {
        ard__tw_field_i32(&t, 4, (int32_t)ard__crc32(stored, stored_len));
    }
    ard__tw_field_struct(&t, 7);
    ard__tw_field_i32(&t, 1, (int32_t)d->count);
    ard__tw_field_i32(&t, 2, ARD_PQ_PLAIN);
    ard__tw_stop(&t);
    ard__tw_stop(&t);
    size_t hdr_len = out->len;
    ard_buf_append(out, stored, stored_len);
    if (out->failed) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory for a dictionary");
    }
    chunk->dict_uncompressed = (int64_t)(hdr_len + d->plain.len);
    ard__pqw_dict_reset(d);
    return ARD_OK;
}
