/* The page walker of one column chunk: reads the chunk's bytes, decodes page headers, verifies CRCs,
 * decompresses, absorbs the dictionary page and decodes repetition/definition levels of each data page.
 * Every length is bounded by the page, the chunk and the file; nothing is trusted from the footer. */
#include "column_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ARD__DEFAULT_MEMORY_CAP ((int64_t)1 << 30)
#define ARD__HEADER_WINDOW 16384
/* Uncompressed chunks from this size on are read page by page (ard__chunk_reader.incremental), and
 * their data pages from ARD__DEFER_MIN on may leave their values in the file (defer_values). */
#define ARD__INCREMENTAL_MIN ((int64_t)4 << 20)
#define ARD__DEFER_MIN ((int64_t)256 << 10)

int32_t ard__type_width(ard_pq_type type, int32_t type_length) {
    switch (type) {
    case ARD_PQ_BOOLEAN:
        return 1;
    case ARD_PQ_INT32:
    case ARD_PQ_FLOAT:
        return 4;
    case ARD_PQ_INT64:
    case ARD_PQ_DOUBLE:
        return 8;
    case ARD_PQ_INT96:
        return 12;
    case ARD_PQ_FIXED_LEN_BYTE_ARRAY:
        return type_length;
    case ARD_PQ_BYTE_ARRAY:
        return 0;
    }
    return 0;
}

int ard__grow(void **ptr, size_t *cap, size_t need) {
    if (need <= *cap) {
        return 0;
    }
    size_t n = *cap ? *cap : 1024;
    while (n < need) {
        n = n > SIZE_MAX / 2 ? need : n * 2;
    }
    void *grown = ard_realloc(*ptr, n);
    if (!grown) {
        return -1;
    }
    *ptr = grown;
    *cap = n;
    return 0;
}

static int bit_width_of(int16_t max_level) {
    return ard__bit_width((uint64_t)max_level);
}

/* Makes file bytes [off, off + len) available in cr->buf (growing the window to the right; a view is
 * turned into an owned copy first). */
static ard_status ensure_bytes(ard__chunk_reader *cr, int64_t off, int64_t len, ard_error *err) {
    if (cr->incremental && (off < cr->buf_start || off > cr->buf_start + (int64_t)cr->buf_len)) {
        cr->buf_start =
            off; /* a new window: the bytes before it are done with or left in the file */
        cr->buf_len = 0;
    }
    if (off < cr->buf_start || len < 0 || off > cr->limit || len > cr->limit - off) {
        return ard_error_set(
            err, ARD_ECORRUPT,
            "%s: page range [%lld, %lld) lies outside the column data (ends at %lld)", cr->what,
            (long long)off, (long long)(off + len), (long long)cr->limit);
    }
    int64_t have_end = cr->buf_start + (int64_t)cr->buf_len;
    if (off + len <= have_end) {
        return ARD_OK;
    }
    size_t new_len = (size_t)(off + len - cr->buf_start);
    if (!cr->buf_owned || new_len > cr->buf_cap) {
        /* capacity rounded up to a power of two: pages never touched cost no memory, and any
         * pooled buffer then fits the next chunk of a similar size without a realloc */
        size_t cap = new_len;
        for (size_t p = 4096; p < ((size_t)1 << 40); p <<= 1) {
            if (p >= new_len) {
                cap = p;
                break;
            }
        }
        uint8_t *grown = cr->buf_owned ? ard_realloc(cr->buf, cap) : ard_malloc(cap);
        if (!grown) {
            return ard_error_set(err, ARD_ENOMEM, "%s: out of memory reading column data",
                                 cr->what);
        }
        if (!cr->buf_owned && cr->buf_len > 0) {
            memcpy(grown, cr->buf, cr->buf_len);
        }
        cr->buf = grown;
        cr->buf_cap = cap;
        cr->buf_owned = 1;
    }
    ard_status st = ard__pq_file_read(cr->file, have_end, (size_t)(off + len - have_end),
                                      cr->buf + cr->buf_len, err);
    if (st != ARD_OK) {
        return st;
    }
    cr->buf_len = new_len;
    return ARD_OK;
}

/* The chunk's stored bytes: a view of the caller's memory for memory-backed files, else one
 * positional read into a pooled buffer (or, when the file asks for it, a guarded read-only mapping).
 * Reading wins on this VM at every chunk size: pread into a reused buffer + memcpy 2.1-3.2 GB per
 * CPU-second against 0.15-0.82 for mmap + memcpy (16 KiB - 4 MiB chunks), and munmap's TLB
 * shoot-downs kept two threads from scaling (bench/results/parquet-decode.md). A file truncated
 * while it is read is a short read: ARD_EIO naming it; a mapped one reads as zeros past the cut and
 * ard__chunk_finish reports the same ARD_EIO (chunk_map.c). */
static ard_status view_chunk(ard__chunk_reader *cr, int64_t start, int64_t len, ard_error *err) {
    const ard_parquet_file *f = cr->file;
    if (len > 0 && f->mem) {
        cr->buf = (uint8_t *)(uintptr_t)(f->mem + start);
        cr->buf_len = (size_t)len;
        return ARD_OK;
    }
    if (len > 0 && f->map_chunks && ard__pq_view_map(f, start, (size_t)len, &cr->view)) {
        cr->buf = cr->view.data;
        cr->buf_len = (size_t)len;
        return ARD_OK;
    }
    if (len > 0 && f->fd >= 0) {
        /* A buffer from the file's pool: a fresh 32 MiB allocation per chunk is mapped anew by
         * malloc and page-faulted on every chunk (20x slower decode, measured). */
        uint8_t *pooled = NULL;
        size_t cap = 0;
        ard__pq_scratch_take(f, &pooled, &cap);
        cr->buf = pooled;
        cr->buf_cap = cap;
        cr->buf_owned = pooled != NULL;
        cr->buf_pooled = 1;
        cr->buf_len = 0;
        if (cr->cc->codec == ARD_PQ_UNCOMPRESSED && len >= ARD__INCREMENTAL_MIN) {
            cr->incremental = 1; /* page by page, so large values can go straight to the caller */
            return ARD_OK;
        }
    }
    return ensure_bytes(cr, start, len, err);
}

ard_status ard__chunk_open(ard__chunk_reader *cr, const ard_parquet_file *file, int32_t row_group,
                           int32_t leaf, ard_error *err) {
    memset(cr, 0, sizeof *cr);
    cr->view.slot = -1;
    const ard_pq_metadata *md = &file->metadata;
    if (row_group < 0 || row_group >= md->num_row_groups || leaf < 0 || leaf >= md->num_leaves) {
        return ard_error_set(err, ARD_EINVAL, "%s: no column %d in row group %d", file->path, leaf,
                             row_group);
    }
    cr->file = file;
    cr->cc = &md->row_groups[row_group].columns[leaf];
    cr->leaf = &md->nodes[md->leaves[leaf]];
    cr->row_group = row_group;
    cr->leaf_index = leaf;
    cr->max_def = cr->leaf->max_def;
    cr->max_rep = cr->leaf->max_rep;
    cr->width = ard__type_width(cr->leaf->type, cr->leaf->type_length);
    cr->verify_crc = !file->options.skip_crc_check;
    cr->memory_cap =
        file->options.memory_cap > 0 ? file->options.memory_cap : ARD__DEFAULT_MEMORY_CAP;
    snprintf(cr->what, sizeof cr->what, "%s: column '%s' of row group %d", file->path,
             cr->leaf->path, row_group);
    if (cr->cc->is_encrypted) {
        return ard_error_set(err, ARD_ENOTSUP,
                             "%s: column is encrypted (Parquet modular "
                             "encryption is not supported)",
                             cr->what);
    }
    if (!cr->cc->has_meta_data) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: column chunk has no ColumnMetaData", cr->what);
    }
    if (cr->cc->type != cr->leaf->type) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: chunk type %s differs from schema type %s",
                             cr->what, ard_pq_type_name((int)cr->cc->type),
                             ard_pq_type_name((int)cr->leaf->type));
    }
    cr->limit = md->footer_offset;
    cr->stop_at = cr->limit;
    ard__pq_scratch_take(file, &cr->scratch, &cr->scratch_cap);
    cr->pos = cr->cc->chunk_start;
    cr->buf_start = cr->pos;
    cr->levels_left = cr->cc->num_values;
    cr->need_rep_zero = 1;
    if (cr->pos < 4 || cr->pos > cr->limit) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: chunk starts at byte %lld, outside the data "
                             "region [4, %lld)",
                             cr->what, (long long)cr->pos, (long long)cr->limit);
    }
    if (md->row_groups[row_group].num_rows == 0) {
        return ARD_OK; /* never touch the pages of an empty row group */
    }
    int64_t want = cr->cc->total_compressed_size;
    if (want < 0 || want > cr->limit - cr->pos) {
        want = cr->limit - cr->pos; /* understated or bogus sizes: bounded by the footer instead */
    }
    return view_chunk(cr, cr->pos, want, err);
}

ard_status ard__chunk_finish(ard__chunk_reader *cr, ard_status st, ard_error *err) {
    return cr->file ? ard__pq_view_check(&cr->view, cr->file->path, st, err) : st;
}

void ard__chunk_close(ard__chunk_reader *cr) {
    ard__pq_view_unmap(&cr->view);
    if (cr->buf_pooled && cr->buf_owned && cr->file) {
        ard__pq_scratch_give(cr->file, cr->buf, cr->buf_cap);
    } else if (cr->buf_owned) {
        ard_free(cr->buf);
    }
    if (cr->file) {
        ard__pq_scratch_give(cr->file, cr->scratch, cr->scratch_cap);
    } else {
        ard_free(cr->scratch);
    }
    ard_free(cr->def);
    ard_free(cr->rep);
    ard_free(cr->indices);
    ard_free(cr->level_copy);
    ard__zstd_page_free(&cr->zs);
    ard__dict_reset(&cr->dict);
    memset(cr, 0, sizeof *cr);
}

/* Decodes the page header at cr->pos, widening the window when a header straddles its end. */
static ard_status read_header(ard__chunk_reader *cr, ard__pq_page_header *h, ard_error *err) {
    int64_t avail = cr->limit - cr->pos;
    int64_t window = avail < ARD__HEADER_WINDOW ? avail : ARD__HEADER_WINDOW;
    for (;;) {
        int64_t in_buf = cr->buf_start + (int64_t)cr->buf_len - cr->pos;
        if (in_buf < window) {
            ard_status st = ensure_bytes(cr, cr->pos, window, err);
            if (st != ARD_OK) {
                return st;
            }
            in_buf = window;
        }
        ard_error probe;
        ard_error_init(&probe);
        const uint8_t *at = cr->buf + (cr->pos - cr->buf_start);
        ard_status st =
            ard__pq_decode_page_header(at, (size_t)in_buf, cr->pos, cr->file->path, h, &probe);
        if (st == ARD_OK || in_buf >= avail) {
            if (st != ARD_OK) {
                ard_error_set(err, probe.code, "%s", probe.msg);
                ard_error_prefix(err, "column '%s' of row group %d: ", cr->leaf->path,
                                 cr->row_group);
            }
            return st;
        }
        window = in_buf * 4 < avail ? in_buf * 4 : avail; /* maybe just a large header: retry */
    }
}

/* Body bytes of the current page, CRC-checked. */
static ard_status page_body(ard__chunk_reader *cr, const ard__pq_page_header *h,
                            const uint8_t **body, ard_error *err) {
    int64_t body_off = cr->pos + (int64_t)h->header_size;
    ard_status st = ensure_bytes(cr, body_off, h->compressed_page_size, err);
    if (st != ARD_OK) {
        return st;
    }
    *body = cr->buf + (body_off - cr->buf_start);
    if (cr->verify_crc && h->has_crc) {
        uint32_t crc = ard__crc32(*body, (size_t)h->compressed_page_size);
        if (crc != h->crc) {
            return ard_error_set(err, ARD_ECHECKSUM,
                                 "%s: page at byte %lld: CRC mismatch (stored "
                                 "%08x, computed %08x)",
                                 cr->what, (long long)cr->pos, h->crc, crc);
        }
    }
    return ARD_OK;
}

/* Sizes the reader's scratch for a page that inflates to out_len bytes, within the memory cap. */
static ard_status scratch_for_page(ard__chunk_reader *cr, size_t out_len, ard_error *err) {
    if ((int64_t)out_len > cr->memory_cap) {
        return ard_error_set(err, ARD_ELIMIT,
                             "%s: page at byte %lld inflates to %zu bytes, over the "
                             "memory cap",
                             cr->what, (long long)cr->pos, out_len);
    }
    if (ard__grow((void **)&cr->scratch, &cr->scratch_cap, out_len + 8) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for a page", cr->what);
    }
    return ARD_OK;
}

/* Decompresses `len` stored bytes into cr->scratch (or points at them when uncompressed). */
static ard_status inflate_into_scratch(ard__chunk_reader *cr, const uint8_t *in, size_t len,
                                       size_t out_len, int compressed, const uint8_t **out,
                                       ard_error *err) {
    if (!compressed || cr->cc->codec == ARD_PQ_UNCOMPRESSED) {
        if (len != out_len) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: page at byte %lld: stored size %zu != "
                                 "uncompressed size %zu",
                                 cr->what, (long long)cr->pos, len, out_len);
        }
        *out = in;
        return ARD_OK;
    }
    ard_status st = scratch_for_page(cr, out_len, err);
    if (st != ARD_OK) {
        return st;
    }
    char what[480];
    snprintf(what, sizeof what, "%s: page at byte %lld", cr->what, (long long)cr->pos);
    st = ard__pq_decompress((int)cr->cc->codec, in, len, cr->scratch, out_len, what, err);
    *out = cr->scratch;
    return st;
}

static ard_status load_dictionary(ard__chunk_reader *cr, const ard__pq_page_header *h,
                                  ard_error *err) {
    if (cr->has_dict) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: second dictionary page at byte %lld", cr->what,
                             (long long)cr->pos);
    }
    if (h->dict_num_values < 0) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: dictionary page at byte %lld has %d values",
                             cr->what, (long long)cr->pos, h->dict_num_values);
    }
    const uint8_t *body;
    ard_status st = page_body(cr, h, &body, err);
    if (st != ARD_OK) {
        return st;
    }
    size_t out_len = (size_t)h->uncompressed_page_size;
    uint8_t *copy = ard_malloc(out_len + 8);
    if (!copy) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for the dictionary", cr->what);
    }
    if (cr->cc->codec == ARD_PQ_UNCOMPRESSED) {
        if ((size_t)h->compressed_page_size != out_len) {
            ard_free(copy);
            return ard_error_set(err, ARD_ECORRUPT, "%s: dictionary page sizes differ", cr->what);
        }
        memcpy(copy, body, out_len);
    } else {
        char what[480];
        snprintf(what, sizeof what, "%s: dictionary page at byte %lld", cr->what,
                 (long long)cr->pos);
        st = ard__pq_decompress((int)cr->cc->codec, body, (size_t)h->compressed_page_size, copy,
                                out_len, what, err);
        if (st != ARD_OK) {
            ard_free(copy);
            return st;
        }
    }
    st = ard__dict_load(cr, copy, out_len, h->dict_num_values, cr->pos, err);
    if (st == ARD_OK) {
        cr->has_dict = 1;
    }
    return st;
}

/* Decodes one level stream of `n` levels from [p, p + len); *used = bytes consumed. */
static ard_status decode_levels(ard__chunk_reader *cr, int encoding, int v1, const uint8_t *p,
                                size_t len, int16_t max_level, int16_t *out, int64_t n,
                                size_t *used, ard_error *err) {
    int bw = bit_width_of(max_level);
    ard_status st;
    if (v1 && encoding == ARD_PQ_BIT_PACKED) {
        size_t need = (size_t)(((uint64_t)n * (uint64_t)bw + 7) / 8);
        if (need > len) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: page at byte %lld: BIT_PACKED levels need "
                                 "%zu bytes, %zu left",
                                 cr->what, (long long)cr->pos, need, len);
        }
        st = ard__bitpacked_msb_decode_levels(p, need, bw, out, n, err);
        *used = need;
    } else if (v1) {
        if (encoding != ARD_PQ_RLE) {
            return ard_error_set(err, ARD_ENOTSUP, "%s: level encoding %s not supported", cr->what,
                                 ard_pq_encoding_name(encoding));
        }
        if (len < 4) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: page at byte %lld: level length prefix "
                                 "missing",
                                 cr->what, (long long)cr->pos);
        }
        uint32_t l =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (l > len - 4) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: page at byte %lld: level run of %u bytes "
                                 "past the page end",
                                 cr->what, (long long)cr->pos, l);
        }
        st = ard__rle_decode_levels(p + 4, l, bw, out, n, err);
        *used = 4 + (size_t)l;
    } else {
        st = ard__rle_decode_levels(p, len, bw, out, n, err);
        *used = len;
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "%s: page at byte %lld: ", cr->what, (long long)cr->pos);
    }
    return st; /* level ranges are checked by level_stats, in the same pass that summarises them */
}

int64_t ard__level_stats(const int16_t *levels, int64_t n, int16_t target, int16_t *lo_out,
                         int16_t *hi_out) {
    int64_t hits = 0;
    int16_t lo = INT16_MAX, hi = INT16_MIN;
    /* 16-bit hit counters over blocks that cannot overflow them: the loop vectorises in the
     * levels' own width instead of widening every comparison to 64 bits */
    for (int64_t start = 0; start < n; start += 16384) {
        int64_t end = n - start < 16384 ? n : start + 16384;
        uint16_t block = 0;
        for (int64_t i = start; i < end; i++) {
            int16_t v = levels[i];
            block = (uint16_t)(block + (v == target));
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        hits += block;
    }
    *lo_out = n ? lo : 0;
    *hi_out = n ? hi : 0;
    return hits;
}

static ard_status bad_level(ard__chunk_reader *cr, int level, int max_level, ard_error *err) {
    return ard_error_set(err, ARD_ECORRUPT, "%s: page at byte %lld: level %d outside [0, %d]",
                         cr->what, (long long)cr->pos, level, max_level);
}

static ard_status reserve_levels(ard__chunk_reader *cr, int64_t n, ard_error *err) {
    if ((uint64_t)n * 4 > (uint64_t)cr->memory_cap) {
        return ard_error_set(err, ARD_ELIMIT,
                             "%s: page at byte %lld declares %lld values, over the "
                             "memory cap",
                             cr->what, (long long)cr->pos, (long long)n);
    }
    size_t need = (size_t)n * sizeof(int16_t) + 16;
    size_t cap_def = cr->level_cap, cap_rep = cr->level_cap;
    if (ard__grow((void **)&cr->def, &cap_def, need) != 0 ||
        ard__grow((void **)&cr->rep, &cap_rep, need) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for levels", cr->what);
    }
    cr->level_cap = cap_def < cap_rep ? cap_def : cap_rep;
    return ARD_OK;
}

/* Lazy mode: locates the level streams (RLE in v1 with its length prefix, or the v2 sections) without
 * decoding them. Returns 0 when the page cannot be handled lazily (deprecated BIT_PACKED levels). */
static int locate_levels(ard__chunk_reader *cr, const ard__pq_page_header *h, int v1,
                         const uint8_t *body, size_t body_len, ard__page *pg, size_t *used) {
    const uint8_t *p = body;
    size_t left = body_len;
    const uint8_t **data[2] = {&pg->rep_data, &pg->def_data};
    size_t *lens[2] = {&pg->rep_len, &pg->def_len};
    int16_t maxes[2] = {cr->max_rep, cr->max_def};
    int32_t encs[2] = {h->repetition_level_encoding, h->definition_level_encoding};
    int32_t v2_lens[2] = {h->repetition_levels_byte_length, h->definition_levels_byte_length};
    for (int i = 0; i < 2; i++) {
        size_t l;
        if (!v1) {
            l = (size_t)v2_lens[i];
        } else if (maxes[i] == 0) {
            continue;
        } else {
            if (encs[i] != ARD_PQ_RLE || left < 4) {
                return 0;
            }
            l = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
            p += 4;
            left -= 4;
        }
        if (l > left) {
            return 0; /* the eager path reports it */
        }
        *data[i] = p;
        *lens[i] = l;
        p += l;
        left -= l;
    }
    pg->lazy = 1;
    pg->must_start_record = cr->need_rep_zero;
    pg->num_levels = h->num_values;
    pg->num_values = -1;
    pg->min_def = -1;
    *used = body_len - left;
    return 1;
}

/* Fills the level part of `pg` for a v1 or v2 page whose value-bearing body is at hand. */
static ard_status page_levels(ard__chunk_reader *cr, const ard__pq_page_header *h, int v1,
                              const uint8_t *body, size_t body_len, ard__page *pg,
                              size_t *levels_used, ard_error *err) {
    int64_t n = h->num_values;
    if (cr->lazy_levels && locate_levels(cr, h, v1, body, body_len, pg, levels_used)) {
        return ARD_OK;
    }
    ard_status st = reserve_levels(cr, n, err);
    size_t used = 0, u = 0;
    if (st == ARD_OK && cr->max_rep > 0) {
        size_t len = v1 ? body_len : (size_t)h->repetition_levels_byte_length;
        st = decode_levels(cr, h->repetition_level_encoding, v1, body, len, cr->max_rep, cr->rep, n,
                           &u, err);
        used += u;
    } else if (!v1) {
        used += (size_t)h->repetition_levels_byte_length;
    }
    if (st == ARD_OK && cr->max_def > 0) {
        size_t len = v1 ? body_len - used : (size_t)h->definition_levels_byte_length;
        st = decode_levels(cr, h->definition_level_encoding, v1, body + used, len, cr->max_def,
                           cr->def, n, &u, err);
        used += u;
    } else if (!v1) {
        used += (size_t)h->definition_levels_byte_length;
    }
    if (st != ARD_OK) {
        return st;
    }
    pg->num_levels = n;
    pg->def = cr->max_def > 0 ? cr->def : NULL;
    pg->rep = cr->max_rep > 0 ? cr->rep : NULL;
    pg->num_values = n;
    pg->min_def = cr->max_def;
    if (cr->max_def > 0) {
        int16_t lo, hi;
        pg->num_values = ard__level_stats(cr->def, n, cr->max_def, &lo, &hi);
        pg->min_def = lo;
        if (lo < 0 || hi > cr->max_def) {
            return bad_level(cr, lo < 0 ? lo : hi, cr->max_def, err);
        }
    }
    if (cr->max_rep > 0) {
        int16_t lo, hi;
        pg->rep_zeros = ard__level_stats(cr->rep, n, 0, &lo, &hi);
        if (lo < 0 || hi > cr->max_rep) {
            return bad_level(cr, lo < 0 ? lo : hi, cr->max_rep, err);
        }
    }
    if (n > 0 && pg->rep && cr->need_rep_zero && pg->rep[0] != 0) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: page at byte %lld: first repetition level is "
                             "%d, must be 0 (a page must start a record)",
                             cr->what, (long long)cr->pos, pg->rep[0]);
    }
    *levels_used = used;
    return ARD_OK;
}

static ard_status data_page_v1(ard__chunk_reader *cr, const ard__pq_page_header *h,
                               const uint8_t *stored, ard__page *pg, ard_error *err) {
    const uint8_t *body;
    size_t body_len = (size_t)h->uncompressed_page_size;
    ard_status st =
        inflate_into_scratch(cr, stored, (size_t)h->compressed_page_size, body_len, 1, &body, err);
    size_t used = 0;
    if (st == ARD_OK) {
        st = page_levels(cr, h, 1, body, body_len, pg, &used, err);
    }
    pg->values = body + used;
    pg->values_len = body_len - used;
    return st;
}

static int stageable(const ard__chunk_reader *cr, const ard__pq_page_header *h);
static ard_status staged_v2(ard__chunk_reader *cr, const uint8_t *in, size_t in_len, size_t out_len,
                            ard__page *pg, ard_error *err);

static ard_status data_page_v2(ard__chunk_reader *cr, const ard__pq_page_header *h,
                               const uint8_t *stored, ard__page *pg, ard_error *err) {
    int64_t lv = (int64_t)h->repetition_levels_byte_length + h->definition_levels_byte_length;
    if (h->repetition_levels_byte_length < 0 || h->definition_levels_byte_length < 0 ||
        lv > h->compressed_page_size || lv > h->uncompressed_page_size) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: v2 page at byte %lld: level lengths %d + %d "
                             "exceed the page",
                             cr->what, (long long)cr->pos, h->repetition_levels_byte_length,
                             h->definition_levels_byte_length);
    }
    size_t used = 0;
    ard_status st = page_levels(cr, h, 0, stored, (size_t)lv, pg, &used, err);
    if (st != ARD_OK) {
        return st;
    }
    size_t stored_len = (size_t)((int64_t)h->compressed_page_size - lv);
    size_t out_len = (size_t)((int64_t)h->uncompressed_page_size - lv);
    if (stored_len == 0 && out_len == 0) {
        pg->values = stored + lv;
        pg->values_len = 0;
        return ARD_OK;
    }
    if (pg->lazy && stageable(cr, h)) {
        return staged_v2(cr, stored + lv, stored_len, out_len, pg, err);
    }
    st = inflate_into_scratch(cr, stored + lv, stored_len, out_len, h->is_compressed, &pg->values,
                              err);
    pg->values_len = out_len;
    return st;
}

/* ---- staged pages: ZSTD pages whose PLAIN values the caller decompresses straight into place ---- */

/* 1 when a data page may come back staged: the caller asked, the chunk is ZSTD, the page is large,
 * its values PLAIN and compressed, its v1 levels RLE (so that they can be located). */
static int stageable(const ard__chunk_reader *cr, const ard__pq_page_header *h) {
    if (!cr->stage_values || !cr->lazy_levels || cr->cc->codec != ARD_PQ_ZSTD ||
        h->encoding != ARD_PQ_PLAIN || h->uncompressed_page_size < ARD__DEFER_MIN) {
        return 0;
    }
    if (h->type == ARD_PQ_DATA_PAGE_V2) {
        return h->is_compressed;
    }
    return (cr->max_rep == 0 || h->repetition_level_encoding == ARD_PQ_RLE) &&
           (cr->max_def == 0 || h->definition_level_encoding == ARD_PQ_RLE);
}

/* Starts decoding a page's compressed part; scratch is sized for all of it up front, so that it
 * never moves under zstd (which may use its first bytes as the dictionary of later blocks). */
static ard_status staged_begin(ard__chunk_reader *cr, const uint8_t *in, size_t in_len,
                               size_t out_len, ard_error *err) {
    ard_status st = scratch_for_page(cr, out_len, err);
    if (st != ARD_OK) {
        return st;
    }
    snprintf(cr->zs_what, sizeof cr->zs_what, "%s: page at byte %lld", cr->what,
             (long long)cr->pos);
    cr->zs_have = 0;
    cr->zs_levels = 0;
    return ard__zstd_page_begin(&cr->zs, in, in_len, out_len, cr->zs_what, err);
}

/* Decodes blocks of the staged page into scratch until `want` bytes (at most all) are there. */
static ard_status staged_fill(ard__chunk_reader *cr, size_t want, ard_error *err) {
    want = want < cr->zs.out_len ? want : cr->zs.out_len;
    while (cr->zs_have < want) {
        size_t got = 0;
        ard_status st = ard__zstd_page_next(&cr->zs, cr->scratch + cr->zs_have,
                                            cr->zs.out_len - cr->zs_have, &got, cr->zs_what, err);
        if (st != ARD_OK || got == 0) {
            return st != ARD_OK ? st : ard__zstd_page_end(&cr->zs, cr->zs_have, cr->zs_what, err);
        }
        cr->zs_have += got;
    }
    return ARD_OK;
}

/* Byte length of the length-prefixed RLE level streams at the start of a staged v1 page, decoding
 * blocks only as far as the prefixes need; SIZE_MAX when they do not fit the page. */
static size_t staged_levels_length(ard__chunk_reader *cr, ard_status *st, ard_error *err) {
    size_t lv = 0;
    int16_t maxes[2] = {cr->max_rep, cr->max_def};
    for (int i = 0; i < 2 && *st == ARD_OK; i++) {
        if (maxes[i] == 0) {
            continue;
        }
        *st = staged_fill(cr, lv + 4, err);
        if (*st != ARD_OK || lv + 4 > cr->zs_have) {
            return SIZE_MAX;
        }
        const uint8_t *p = cr->scratch + lv;
        lv += 4 + ((size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24);
    }
    return lv;
}

/* A v1 page of a ZSTD chunk: only the blocks that hold its levels are decoded here; the values
 * follow in ard__chunk_page_values(_into). Pages whose levels cannot be located lazily are decoded
 * whole and take the eager path. */
static ard_status staged_v1(ard__chunk_reader *cr, const ard__pq_page_header *h,
                            const uint8_t *stored, ard__page *pg, ard_error *err) {
    size_t body_len = (size_t)h->uncompressed_page_size, used = 0;
    ard_status st = staged_begin(cr, stored, (size_t)h->compressed_page_size, body_len, err);
    size_t lv = st == ARD_OK ? staged_levels_length(cr, &st, err) : SIZE_MAX;
    if (st == ARD_OK) {
        st = staged_fill(cr, lv, err);
    }
    if (st == ARD_OK && lv <= cr->zs_have &&
        locate_levels(cr, h, 1, cr->scratch, cr->zs_have, pg, &used)) {
        pg->staged = 1;
        pg->values = cr->scratch + used;
        pg->values_len = body_len - used;
        pg->staged_have = cr->zs_have - used;
        cr->zs_levels = used;
        return ARD_OK;
    }
    if (st == ARD_OK) {
        st = staged_fill(cr, body_len, err);
    }
    if (st == ARD_OK) {
        st = ard__zstd_page_end(&cr->zs, cr->zs_have, cr->zs_what, err);
    }
    if (st == ARD_OK) {
        st = page_levels(cr, h, 1, cr->scratch, body_len, pg, &used, err);
    }
    pg->values = cr->scratch + used;
    pg->values_len = body_len - used;
    return st;
}

/* The values of a v2 page of a ZSTD chunk whose levels are located: staged, nothing decoded yet. */
static ard_status staged_v2(ard__chunk_reader *cr, const uint8_t *in, size_t in_len, size_t out_len,
                            ard__page *pg, ard_error *err) {
    ard_status st = staged_begin(cr, in, in_len, out_len, err);
    pg->staged = st == ARD_OK;
    pg->values = cr->scratch;
    pg->values_len = out_len;
    pg->staged_have = 0;
    return st;
}

ard_status ard__chunk_page_values_into(ard__chunk_reader *cr, ard__page *pg, uint8_t *dst,
                                       ard_error *err) {
    if (!pg->staged) {
        ard_status st = ard__chunk_page_values(cr, pg, err);
        if (st == ARD_OK && pg->values_len > 0 && pg->values != dst) {
            memmove(dst, pg->values, pg->values_len);
        }
        pg->values = st == ARD_OK ? dst : pg->values;
        return st;
    }
    size_t have = pg->staged_have, total = pg->values_len;
    if (have > 0) {
        memcpy(dst, pg->values, have);
    }
    ard_status st = ARD_OK;
    while (st == ARD_OK && have < total) {
        size_t got = 0;
        st = ard__zstd_page_next(&cr->zs, dst + have, total - have, &got, cr->zs_what, err);
        if (got == 0) {
            break; /* input used up early: the end check reports the short page */
        }
        have += got;
    }
    if (st == ARD_OK) {
        st = ard__zstd_page_end(&cr->zs, cr->zs_levels + have, cr->zs_what, err);
    }
    pg->staged = 0;
    pg->values = dst;
    return st;
}

/* 1 when the data page's values may stay in the file: the caller asked, the chunk is read page by
 * page, the page is large, stored as is, without a CRC to verify first, with RLE levels (v1). */
static int deferrable(const ard__chunk_reader *cr, const ard__pq_page_header *h) {
    if (!cr->defer_values || !cr->lazy_levels || !cr->incremental ||
        (cr->verify_crc && h->has_crc) || h->compressed_page_size < ARD__DEFER_MIN ||
        h->compressed_page_size != h->uncompressed_page_size) {
        return 0;
    }
    if (h->type == ARD_PQ_DATA_PAGE_V2) {
        return 1;
    }
    return (cr->max_rep == 0 || h->repetition_level_encoding == ARD_PQ_RLE) &&
           (cr->max_def == 0 || h->definition_level_encoding == ARD_PQ_RLE);
}

/* Byte length of a v1 page's length-prefixed RLE level streams at body_off (reading only them), or
 * -1 when they do not fit the page (the eager path then reports the damage). */
static int64_t v1_levels_length(ard__chunk_reader *cr, int64_t body_off, int64_t size,
                                ard_status *st, ard_error *err) {
    int64_t at = 0;
    int16_t maxes[2] = {cr->max_rep, cr->max_def};
    for (int i = 0; i < 2 && *st == ARD_OK; i++) {
        if (maxes[i] == 0) {
            continue;
        }
        if (at + 4 > size) {
            return -1;
        }
        *st = ensure_bytes(cr, body_off, at + 4, err);
        if (*st != ARD_OK) {
            return -1;
        }
        const uint8_t *p = cr->buf + (body_off - cr->buf_start) + at;
        at += 4 + (int64_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                            (uint32_t)p[3] << 24);
        if (at > size) {
            return -1;
        }
    }
    return at;
}

/* Reads only the levels of a deferrable page (copied aside, so later reads may replace buf) and
 * leaves its values in the file. *taken = 0 when the page must be read whole after all. */
static ard_status deferred_page(ard__chunk_reader *cr, const ard__pq_page_header *h, ard__page *pg,
                                int *taken, ard_error *err) {
    int64_t body_off = cr->pos + (int64_t)h->header_size, size = h->compressed_page_size;
    int v1 = h->type == ARD_PQ_DATA_PAGE;
    ard_status st = ARD_OK;
    *taken = 0;
    if (body_off > cr->limit || size > cr->limit - body_off) {
        return ARD_OK; /* page_body reports the range */
    }
    int64_t lv = v1 ? v1_levels_length(cr, body_off, size, &st, err)
                    : (int64_t)h->repetition_levels_byte_length + h->definition_levels_byte_length;
    if (st != ARD_OK || lv < 0 || lv > size || h->repetition_levels_byte_length < 0 ||
        h->definition_levels_byte_length < 0) {
        return st;
    }
    st = ensure_bytes(cr, body_off, lv, err);
    if (st == ARD_OK &&
        ard__grow((void **)&cr->level_copy, &cr->level_copy_cap, (size_t)lv + 16) != 0) {
        st = ard_error_set(err, ARD_ENOMEM, "%s: out of memory for levels", cr->what);
    }
    if (st != ARD_OK) {
        return st;
    }
    memcpy(cr->level_copy, cr->buf + (body_off - cr->buf_start), (size_t)lv);
    size_t used = 0;
    st = page_levels(cr, h, v1, cr->level_copy, (size_t)lv, pg, &used, err);
    *taken = 1;
    pg->deferred = 1;
    pg->values = NULL;
    pg->values_offset = body_off + (v1 ? (int64_t)used : lv);
    pg->values_len = (size_t)(size - (pg->values_offset - body_off));
    if (st == ARD_OK && !pg->lazy) {
        st = ard__chunk_page_values(cr, pg, err); /* levels decoded eagerly: values wanted too */
    }
    return st;
}

ard_status ard__chunk_page_values(ard__chunk_reader *cr, ard__page *pg, ard_error *err) {
    if (pg->staged) {
        ard_status st = staged_fill(cr, cr->zs.out_len, err);
        if (st == ARD_OK) {
            st = ard__zstd_page_end(&cr->zs, cr->zs_have, cr->zs_what, err);
        }
        pg->staged = 0;
        pg->staged_have = pg->values_len;
        return st;
    }
    if (!pg->deferred) {
        return ARD_OK;
    }
    ard_status st = ensure_bytes(cr, pg->values_offset, (int64_t)pg->values_len, err);
    if (st == ARD_OK) {
        pg->values = cr->buf + (pg->values_offset - cr->buf_start);
        pg->deferred = 0;
    }
    return st;
}

/* A data page: levels, then values (in memory, or left in the file when deferrable). */
static ard_status data_page(ard__chunk_reader *cr, const ard__pq_page_header *h, ard__page *pg,
                            ard_error *err) {
    int taken = 0;
    ard_status st = deferrable(cr, h) ? deferred_page(cr, h, pg, &taken, err) : ARD_OK;
    if (st != ARD_OK || taken) {
        return st;
    }
    memset(pg, 0, sizeof *pg);
    pg->header_offset = cr->pos;
    const uint8_t *stored;
    st = page_body(cr, h, &stored, err);
    if (st != ARD_OK) {
        return st;
    }
    if (h->type == ARD_PQ_DATA_PAGE) {
        return stageable(cr, h) ? staged_v1(cr, h, stored, pg, err)
                                : data_page_v1(cr, h, stored, pg, err);
    }
    return data_page_v2(cr, h, stored, pg, err);
}

ard_status ard__chunk_next_page(ard__chunk_reader *cr, ard__page *pg, ard_error *err) {
    for (;;) {
        if (cr->levels_left <= 0 || cr->pos >= cr->limit || cr->pos >= cr->stop_at) {
            return ARD_EEOF;
        }
        ard__pq_page_header h;
        ard_status st = read_header(cr, &h, err);
        if (st != ARD_OK) {
            return st;
        }
        int64_t next = cr->pos + (int64_t)h.header_size + h.compressed_page_size;
        memset(pg, 0, sizeof *pg);
        pg->header_offset = cr->pos;
        if (h.type == ARD_PQ_DICTIONARY_PAGE) {
            st = load_dictionary(cr, &h, err);
        } else if (h.type == ARD_PQ_DATA_PAGE || h.type == ARD_PQ_DATA_PAGE_V2) {
            if (h.num_values > cr->levels_left) {
                st = ard_error_set(err, ARD_ECORRUPT,
                                   "%s: page at byte %lld has %d values but the "
                                   "chunk has only %lld left",
                                   cr->what, (long long)cr->pos, h.num_values,
                                   (long long)cr->levels_left);
            }
            if (st == ARD_OK) {
                cr->need_rep_zero |= h.type == ARD_PQ_DATA_PAGE_V2;
                st = data_page(cr, &h, pg, err);
                pg->header_offset = cr->pos;
                pg->encoding = h.encoding;
            }
            if (st == ARD_OK) {
                cr->levels_left -= h.num_values;
                cr->need_rep_zero = 0;
                cr->pos = next;
                return ARD_OK;
            }
        } else if (h.type != ARD_PQ_INDEX_PAGE) {
            st = ard_error_set(err, ARD_ECORRUPT, "%s: unknown page type %d at byte %lld", cr->what,
                               h.type, (long long)cr->pos);
        }
        if (st != ARD_OK) {
            return st;
        }
        cr->pos = next;
    }
}

ard_status ard__chunk_seek(ard__chunk_reader *cr, int64_t offset, int64_t chunk_end,
                           ard_error *err) {
    /* A dictionary page, if any, precedes the first data page: absorb it first. */
    while (!cr->has_dict && cr->pos < offset) {
        ard__pq_page_header h;
        ard_status st = read_header(cr, &h, err);
        if (st != ARD_OK) {
            return st;
        }
        if (h.type != ARD_PQ_DICTIONARY_PAGE) {
            break;
        }
        st = load_dictionary(cr, &h, err);
        if (st != ARD_OK) {
            return st;
        }
        cr->pos += (int64_t)h.header_size + h.compressed_page_size;
    }
    if (offset < cr->cc->chunk_start || offset >= cr->limit || chunk_end <= offset ||
        chunk_end > cr->limit) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: page-index range [%lld, %lld) outside the data "
                             "region",
                             cr->what, (long long)offset, (long long)chunk_end);
    }
    cr->stop_at = chunk_end;
    cr->pos = offset;
    cr->need_rep_zero = 1;
    cr->levels_left = INT64_MAX; /* the caller stops by rows */
    return ARD_OK;
}
