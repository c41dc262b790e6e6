/* Public column reading: a whole column chunk, or a row range of it with page skipping through the
 * OffsetIndex, decoded into levels + dense values (ard_pq_column_data). */
#include "column_int.h"

#include <string.h>

void ard_pq_column_data_reset(ard_pq_column_data *col) {
    if (!col) {
        return;
    }
    ard_free(col->def_levels);
    ard_free(col->rep_levels);
    ard_free(col->values);
    ard_free(col->offsets);
    ard_free(col->data);
    memset(col, 0, sizeof *col);
}

/* Accumulates decoded pages into an ard_pq_column_data. */
typedef struct col_sink {
    ard_pq_column_data *out;
    size_t def_cap, rep_cap, val_cap, off_cap;
    ard_buf bytes;
    int64_t bytes_total;
    int64_t rows; /* records started so far (kept per page, never recounted) */
} col_sink;

static ard_status sink_oom(ard__chunk_reader *cr, ard_error *err) {
    return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for decoded values", cr->what);
}

static ard_status sink_page(col_sink *s, ard__chunk_reader *cr, const ard__page *pg,
                            ard_error *err) {
    ard_pq_column_data *o = s->out;
    size_t nl = (size_t)(o->num_levels + pg->num_levels);
    uint64_t total = (uint64_t)nl * 4 + (uint64_t)(o->num_values + pg->num_values) *
                                            (uint64_t)(cr->width ? cr->width : 8);
    if (total > (uint64_t)cr->memory_cap) {
        return ard_error_set(err, ARD_ELIMIT,
                             "%s: decoded column exceeds the memory cap of %lld "
                             "bytes",
                             cr->what, (long long)cr->memory_cap);
    }
    if (pg->def && ard__grow((void **)&o->def_levels, &s->def_cap, nl * sizeof(int16_t)) != 0) {
        return sink_oom(cr, err);
    }
    if (pg->rep && ard__grow((void **)&o->rep_levels, &s->rep_cap, nl * sizeof(int16_t)) != 0) {
        return sink_oom(cr, err);
    }
    if (pg->def && pg->num_levels > 0) {
        memcpy(o->def_levels + o->num_levels, pg->def, (size_t)pg->num_levels * sizeof(int16_t));
    }
    if (pg->rep && pg->num_levels > 0) {
        memcpy(o->rep_levels + o->num_levels, pg->rep, (size_t)pg->num_levels * sizeof(int16_t));
    }
    size_t nv = (size_t)(o->num_values + pg->num_values);
    ard_status st;
    if (cr->width > 0) {
        if (ard__grow(&o->values, &s->val_cap, nv * (size_t)cr->width + 1) != 0) {
            return sink_oom(cr, err);
        }
        st = ard__decode_fixed(
            cr, pg, (uint8_t *)o->values + (size_t)o->num_values * (size_t)cr->width, err);
    } else {
        if (ard__grow((void **)&o->offsets, &s->off_cap, (nv + 1) * sizeof(int64_t)) != 0) {
            return sink_oom(cr, err);
        }
        o->offsets[0] = 0;
        st = ard__decode_byte_array(cr, pg, o->offsets + o->num_values + 1, &s->bytes,
                                    (size_t)cr->memory_cap, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    o->num_levels += pg->num_levels;
    o->num_values += pg->num_values;
    s->rows += pg->rep ? pg->rep_zeros : pg->num_levels;
    return ARD_OK;
}

static int64_t count_rows(const ard_pq_column_data *c) {
    if (!c->rep_levels) {
        return c->num_levels;
    }
    int64_t rows = 0;
    for (int64_t i = 0; i < c->num_levels; i++) {
        rows += c->rep_levels[i] == 0;
    }
    return rows;
}

static void sink_init(col_sink *s, ard_pq_column_data *out, const ard__chunk_reader *cr) {
    memset(s, 0, sizeof *s);
    memset(out, 0, sizeof *out);
    s->out = out;
    ard_buf_init(&s->bytes);
    out->leaf = cr->leaf_index;
    out->type = cr->leaf->type;
    out->type_length = cr->leaf->type_length;
    out->max_def = cr->max_def;
    out->max_rep = cr->max_rep;
}

static ard_status sink_finish(col_sink *s, ard__chunk_reader *cr, ard_error *err) {
    ard_pq_column_data *o = s->out;
    if (cr->width == 0) {
        if (!o->offsets) {
            o->offsets = ard_calloc(1, sizeof(int64_t));
            if (!o->offsets) {
                return sink_oom(cr, err);
            }
        }
        o->data = s->bytes.data ? s->bytes.data : ard_malloc(1);
        s->bytes.data = NULL;
        if (!o->data) {
            return sink_oom(cr, err);
        }
    } else if (!o->values) {
        o->values = ard_malloc(1);
        if (!o->values) {
            return sink_oom(cr, err);
        }
    }
    o->num_rows = count_rows(o);
    return ARD_OK;
}

/* Decodes pages until the chunk ends or `rows_wanted` records are complete (-1: all pages). */
static ard_status decode_pages(ard__chunk_reader *cr, col_sink *s, int64_t rows_wanted,
                               ard_error *err) {
    for (;;) {
        if (rows_wanted >= 0 && s->rows >= rows_wanted) {
            return ARD_OK;
        }
        ard__page pg;
        ard_status st = ard__chunk_next_page(cr, &pg, err);
        if (st == ARD_EEOF) {
            return ARD_OK;
        }
        if (st == ARD_OK) {
            st = sink_page(s, cr, &pg, err);
        }
        if (st != ARD_OK) {
            return st;
        }
    }
}

/* The checks after a whole chunk is decoded: every declared level and row is there. */
static ard_status check_whole(const ard_parquet_file *file, int32_t row_group,
                              const ard__chunk_reader *cr, const ard_pq_column_data *out,
                              ard_error *err) {
    int64_t expect_rows = file->metadata.row_groups[row_group].num_rows;
    if (cr->levels_left > 0) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: pages hold %lld values, the chunk declares %lld", cr->what,
                             (long long)out->num_levels, (long long)cr->cc->num_values);
    }
    if (out->num_rows != expect_rows) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: pages hold %lld rows, the row group declares %lld", cr->what,
                             (long long)out->num_rows, (long long)expect_rows);
    }
    return ARD_OK;
}

ard_status ard_parquet_read_column(const ard_parquet_file *file, int32_t row_group, int32_t leaf,
                                   ard_pq_column_data *out, ard_error *err) {
    ard__chunk_reader cr;
    col_sink s;
    memset(out, 0, sizeof *out);
    ard_status st = ard__chunk_open(&cr, file, row_group, leaf, err);
    if (st == ARD_OK) {
        sink_init(&s, out, &cr);
        st = decode_pages(&cr, &s, -1, err);
        if (st == ARD_OK) {
            st = sink_finish(&s, &cr, err);
        }
        ard_buf_reset(&s.bytes);
    }
    if (st == ARD_OK) {
        st = check_whole(file, row_group, &cr, out, err);
    }
    st = ard__chunk_finish(&cr, st, err);
    ard__chunk_close(&cr);
    if (st != ARD_OK) {
        ard_pq_column_data_reset(out);
    }
    return st;
}

/* ---- into kept buffers ---- */

void ard_pq_column_buffers_reset(ard_pq_column_buffers *bufs) {
    if (!bufs) {
        return;
    }
    ard_free(bufs->def_keep);
    ard_free(bufs->rep_keep);
    ard_free(bufs->values_keep);
    ard_free(bufs->offsets_keep);
    ard_free(bufs->data_keep);
    memset(bufs, 0, sizeof *bufs);
}

enum { KEEP_HUGE_BYTES = 4 << 20 }; /* buffers from this size on get huge pages */

/* Grows a kept buffer to `need` bytes (never shrinks); a big one freshly grown gets huge pages. */
static int keep_grow(void **ptr, size_t *cap, size_t need) {
    size_t before = *cap;
    if (ard__grow(ptr, cap, need) != 0) {
        return -1;
    }
    if (*cap != before && *cap >= KEEP_HUGE_BYTES) {
        ard_advise_huge(*ptr, *cap);
    }
    return 0;
}

/* Lends the kept buffers to the sink (its arrays, empty), sized for the chunk's declared levels
 * when that fits the memory cap (a larger declaration is an error the decode reports). */
static ard_status keep_lend(col_sink *s, ard_pq_column_buffers *b, const ard__chunk_reader *cr,
                            ard_error *err) {
    sink_init(s, &b->col, cr);
    int64_t levels = cr->cc->num_values > 0 ? cr->cc->num_values : 0;
    size_t width = cr->width ? (size_t)cr->width : 8;
    int fits = (uint64_t)levels * (4 + width) <= (uint64_t)cr->memory_cap;
    int failed = 0;
    if (fits && cr->max_def > 0) {
        failed |= keep_grow((void **)&b->def_keep, &b->def_cap, (size_t)levels * sizeof(int16_t));
    }
    if (fits && cr->max_rep > 0) {
        failed |= keep_grow((void **)&b->rep_keep, &b->rep_cap, (size_t)levels * sizeof(int16_t));
    }
    if (cr->width > 0) {
        failed |=
            keep_grow(&b->values_keep, &b->values_cap, (fits ? (size_t)levels : 0) * width + 1);
    } else {
        failed |= keep_grow((void **)&b->offsets_keep, &b->offsets_cap,
                            ((fits ? (size_t)levels : 0) + 1) * sizeof(int64_t));
        failed |= keep_grow((void **)&b->data_keep, &b->data_cap, 1);
    }
    b->col.def_levels = b->def_keep;
    b->col.rep_levels = b->rep_keep;
    b->col.values = b->values_keep;
    b->col.offsets = b->offsets_keep;
    s->def_cap = b->def_cap;
    s->rep_cap = b->rep_cap;
    s->val_cap = b->values_cap;
    s->off_cap = b->offsets_cap;
    s->bytes.data = b->data_keep;
    s->bytes.cap = b->data_cap;
    return failed ? sink_oom((ard__chunk_reader *)cr, err) : ARD_OK;
}

/* Takes the (possibly grown) arrays back from the sink and leaves in bufs->col only what
 * ard_parquet_read_column would return. */
static void keep_take_back(col_sink *s, ard_pq_column_buffers *b, const ard__chunk_reader *cr) {
    ard_pq_column_data *o = &b->col;
    b->def_keep = o->def_levels;
    b->rep_keep = o->rep_levels;
    b->values_keep = o->values;
    b->offsets_keep = o->offsets;
    b->data_keep = s->bytes.data;
    b->def_cap = s->def_cap;
    b->rep_cap = s->rep_cap;
    b->values_cap = s->val_cap;
    b->offsets_cap = s->off_cap;
    b->data_cap = s->bytes.cap;
    s->bytes.data = NULL;
    o->def_levels = cr->max_def > 0 ? o->def_levels : NULL;
    o->rep_levels = cr->max_rep > 0 ? o->rep_levels : NULL;
    o->values = cr->width > 0 ? o->values : NULL;
    o->offsets = cr->width > 0 ? NULL : o->offsets;
    o->data = cr->width > 0 ? NULL : b->data_keep;
    if (o->offsets) {
        o->offsets[0] = 0; /* a chunk without values writes none */
    }
    o->num_rows = count_rows(o);
}

ard_status ard_parquet_read_column_kept(const ard_parquet_file *file, int32_t row_group,
                                        int32_t leaf, ard_pq_column_buffers *bufs, ard_error *err) {
    ard__chunk_reader cr;
    col_sink s;
    memset(&bufs->col, 0, sizeof bufs->col);
    ard_status st = ard__chunk_open(&cr, file, row_group, leaf, err);
    if (st == ARD_OK) {
        st = keep_lend(&s, bufs, &cr, err);
        st = st == ARD_OK ? decode_pages(&cr, &s, -1, err) : st;
        keep_take_back(&s, bufs, &cr);
    }
    if (st == ARD_OK) {
        st = check_whole(file, row_group, &cr, &bufs->col, err);
    }
    st = ard__chunk_finish(&cr, st, err);
    ard__chunk_close(&cr);
    if (st != ARD_OK) {
        ard_pq_column_buffers_reset(bufs);
    }
    return st;
}

/* Keeps only rows [skip, skip + keep) of a decoded column (in place). */
static void trim_rows(ard_pq_column_data *c, int64_t skip, int64_t keep, int32_t width) {
    int64_t a = 0, row = -1, b = c->num_levels;
    for (int64_t i = 0; i < c->num_levels; i++) {
        if (!c->rep_levels || c->rep_levels[i] == 0) {
            row++;
            if (row == skip) {
                a = i;
            }
            if (row == skip + keep) {
                b = i;
                break;
            }
        }
    }
    if (row < skip) {
        a = c->num_levels;
    }
    int64_t va = 0, vb = 0;
    for (int64_t i = 0; i < b; i++) {
        int present = !c->def_levels || c->def_levels[i] == c->max_def;
        va += i < a && present;
        vb += present;
    }
    if (c->def_levels) {
        memmove(c->def_levels, c->def_levels + a, (size_t)(b - a) * sizeof(int16_t));
    }
    if (c->rep_levels) {
        memmove(c->rep_levels, c->rep_levels + a, (size_t)(b - a) * sizeof(int16_t));
    }
    if (width > 0) {
        memmove(c->values, (uint8_t *)c->values + (size_t)va * (size_t)width,
                (size_t)(vb - va) * (size_t)width);
    } else {
        int64_t base = c->offsets[va];
        memmove(c->data, c->data + base, (size_t)(c->offsets[vb] - base));
        for (int64_t i = va; i <= vb; i++) {
            c->offsets[i - va] = c->offsets[i] - base;
        }
    }
    c->num_levels = b - a;
    c->num_values = vb - va;
    c->num_rows = count_rows(c);
}

/* Finds the page holding `first_row` via the OffsetIndex; *page_offset = -1 without an index. */
static ard_status locate_page(const ard_parquet_file *file, const ard_pq_column_chunk *cc,
                              int64_t first_row, int64_t *page_offset, int64_t *page_first_row,
                              int64_t *chunk_end, ard_error *err) {
    *page_offset = -1;
    *page_first_row = 0;
    if (!cc->has_offset_index || cc->offset_index_length <= 0) {
        return ARD_OK;
    }
    uint8_t *raw = ard_malloc((size_t)cc->offset_index_length);
    if (!raw) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for the offset index", file->path);
    }
    ard__arena arena;
    ard__arena_init(&arena, (size_t)cc->offset_index_length * 64 + 4096);
    ard__pq_offset_index oi;
    ard_status st =
        ard__pq_file_read(file, cc->offset_index_offset, (size_t)cc->offset_index_length, raw, err);
    if (st == ARD_OK) {
        st = ard__pq_decode_offset_index(raw, (size_t)cc->offset_index_length,
                                         cc->offset_index_offset, file->path, &arena, &oi, err);
    }
    for (int32_t i = 0; st == ARD_OK && i < oi.num_pages; i++) {
        int64_t end = oi.pages[i].offset + oi.pages[i].compressed_page_size;
        *chunk_end = end > *chunk_end ? end : *chunk_end;
        if (oi.pages[i].first_row_index <= first_row) {
            *page_offset = oi.pages[i].offset;
            *page_first_row = oi.pages[i].first_row_index;
        }
    }
    ard__arena_reset(&arena);
    ard_free(raw);
    return st;
}

ard_status ard_parquet_read_column_rows(const ard_parquet_file *file, int32_t row_group,
                                        int32_t leaf, int64_t first_row, int64_t num_rows,
                                        ard_pq_column_data *out, ard_error *err) {
    ard__chunk_reader cr;
    col_sink s;
    memset(out, 0, sizeof *out);
    ard_status st = ard__chunk_open(&cr, file, row_group, leaf, err);
    int64_t rg_rows = st == ARD_OK ? file->metadata.row_groups[row_group].num_rows : 0;
    if (st == ARD_OK && (first_row < 0 || num_rows < 0 || first_row > rg_rows)) {
        st = ard_error_set(err, ARD_EINVAL, "%s: rows [%lld, +%lld) outside the row group's %lld",
                           cr.what, (long long)first_row, (long long)num_rows, (long long)rg_rows);
    }
    int64_t page_offset = -1, page_row = 0, chunk_end = 0;
    if (st == ARD_OK) {
        st = locate_page(file, cr.cc, first_row, &page_offset, &page_row, &chunk_end, err);
    }
    if (st == ARD_OK && page_offset >= 0) {
        st = ard__chunk_seek(&cr, page_offset, chunk_end, err);
    }
    if (st == ARD_OK) {
        sink_init(&s, out, &cr);
        int64_t want = first_row - page_row + num_rows;
        /* one more record than wanted proves the last wanted record is complete */
        st = decode_pages(&cr, &s, want < rg_rows - page_row ? want + 1 : -1, err);
        if (st == ARD_OK) {
            st = sink_finish(&s, &cr, err);
        }
        ard_buf_reset(&s.bytes);
        if (st == ARD_OK) {
            trim_rows(out, first_row - page_row, num_rows, cr.width);
        }
    }
    st = ard__chunk_finish(&cr, st, err);
    ard__chunk_close(&cr);
    if (st != ARD_OK) {
        ard_pq_column_data_reset(out);
    }
    return st;
}
