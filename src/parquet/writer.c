/* Parquet writer driver: open/close, argument checks of the public append calls, row-group
 * bookkeeping (columns fill row groups independently; a row group is written to the file once every
 * column has finished it) and the sticky failure state. */
#include "writer_int.h"

#include <string.h>

static const uint8_t MAGIC[4] = {'P', 'A', 'R', '1'};

static ard_status fail(ard_pq_writer *w, ard_status st, const ard_error *err) {
    if (st != ARD_OK && !w->failed) {
        w->failed = st;
        if (err) {
            w->failed_err = *err;
        } else {
            ard_error_set(&w->failed_err, st, "parquet writer: %s", ard_status_str(st));
        }
    }
    return st;
}

static ard_status check_usable(const ard_pq_writer *w, ard_error *err) {
    if (!w) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: NULL writer");
    }
    if (w->failed) {
        return ard_error_set(err, w->failed, "%s", w->failed_err.msg);
    }
    return ARD_OK;
}

static ard_status new_rowgroup(ard_pq_writer *w, ard_error *err) {
    if (w->num_rgs == w->cap_rgs) {
        int32_t cap = w->cap_rgs ? w->cap_rgs * 2 : 8;
        ard__pqw_rowgroup *grown = ard_realloc(w->rgs, (size_t)cap * sizeof *grown);
        if (!grown) {
            return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
        }
        w->rgs = grown;
        w->cap_rgs = cap;
    }
    ard__pqw_rowgroup *rg = &w->rgs[w->num_rgs];
    memset(rg, 0, sizeof *rg);
    rg->chunks = ard_calloc((size_t)w->schema.num_cols, sizeof *rg->chunks);
    if (!rg->chunks) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
    }
    rg->limit = w->opts.rows_per_row_group > 0 ? w->opts.rows_per_row_group : INT64_MAX;
    for (int32_t i = 0; i < w->schema.num_cols; i++) {
        ard__pqw_chunk *ch = &rg->chunks[i];
        ard__pqw_chunk_init(ch);
        int32_t enc = ard__pqw_default_encoding(&w->schema.cols[i], &w->opts);
        ch->dict_active = enc == ARD_PQ_RLE_DICTIONARY;
        ch->value_encoding = ch->dict_active ? ARD_PQ_PLAIN : enc;
    }
    w->num_rgs++;
    return ARD_OK;
}

ard__pqw_chunk *ard__pqw_current_chunk(ard_pq_writer *w, int32_t col) {
    return &w->rgs[w->col_rg[col]].chunks[col];
}

int64_t ard__pqw_rows_left_in_rg(ard_pq_writer *w, int32_t col) {
    return w->rgs[w->col_rg[col]].limit - w->col_rg_rows[col];
}

/* Byte target reached by one column alone: the row group ends here for every column, provided no
 * column has gone past this row yet. */
void ard__pqw_maybe_fix_limit(ard_pq_writer *w, int32_t col) {
    ard__pqw_rowgroup *rg = &w->rgs[w->col_rg[col]];
    ard__pqw_chunk *ch = &rg->chunks[col];
    if (w->opts.rows_per_row_group > 0 || rg->limit != INT64_MAX ||
        ch->uncompressed < w->opts.target_row_group_bytes) {
        return;
    }
    for (int32_t i = 0; i < w->schema.num_cols; i++) {
        if (w->col_rg[i] == w->col_rg[col] && w->col_rg_rows[i] > w->col_rg_rows[col]) {
            return;
        }
    }
    rg->limit = w->col_rg_rows[col];
}

ard_status ard__pqw_write_bytes(ard_pq_writer *w, const void *data, size_t len, ard_error *err) {
    return len ? ard_atomic_write(w->file, data, len, err) : ARD_OK;
}

void ard__pqw_take_spare(ard_pq_writer *w, ard_buf *out) {
    ard_buf_init(out);
    if (w->num_spare > 0) {
        *out = w->spare[--w->num_spare];
        out->len = 0;
    }
}

/* Keeps chunk page buffer b (emptied) for a later chunk, or frees it. */
static void give_spare(ard_pq_writer *w, ard_buf *b) {
    if (!b->data || b->failed) {
        ard_buf_reset(b);
        return;
    }
    if (w->num_spare == w->cap_spare) {
        int32_t cap = w->cap_spare ? w->cap_spare * 2 : 8;
        ard_buf *grown = ard_realloc(w->spare, (size_t)cap * sizeof *grown);
        if (!grown) {
            ard_buf_reset(b);
            return;
        }
        w->spare = grown;
        w->cap_spare = cap;
    }
    b->len = 0;
    w->spare[w->num_spare++] = *b;
    ard_buf_init(b);
}

/* The chunk's first byte reaches the file here: dictionary page, then the data pages. */
static ard_status start_chunk(ard_pq_writer *w, ard__pqw_chunk *ch, ard_error *err) {
    ch->file_start = ard_atomic_tell(w->file);
    if (w->next_col == 0) {
        w->rgs[w->first_open_rg].file_offset = ch->file_start;
    }
    ard_status st = ard__pqw_write_bytes(w, ch->dict_page.data, ch->dict_page.len, err);
    ch->dict_offset = ch->dict_page.len ? ch->file_start : 0;
    ch->data_offset = ch->file_start + (int64_t)ch->dict_page.len;
    if (st == ARD_OK) {
        st = ard__pqw_write_bytes(w, ch->pages.data, ch->pages.len, err);
    }
    give_spare(w, &ch->pages);
    return st;
}

ard_status ard__pqw_stream_check(ard_pq_writer *w, int32_t col, int *streaming, ard_error *err) {
    ard__pqw_chunk *ch = ard__pqw_current_chunk(w, col);
    ard_status st = ARD_OK;
    if (!ch->streaming && w->col_rg[col] == w->first_open_rg && w->next_col == col &&
        !ch->dict_active && !ch->dict_used) {
        st = start_chunk(w, ch, err);
        ch->streaming = 1;
    }
    *streaming = ch->streaming;
    return st;
}

/* Finishes the file placement of a chunk whose bytes are all in the file. */
static void place_chunk(ard__pqw_chunk *ch) {
    for (int32_t i = 0; i < ch->num_pages; i++) {
        ch->locs[i].offset += ch->data_offset;
    }
    ch->compressed += (int64_t)ch->dict_page.len;
    ch->uncompressed += ch->dict_uncompressed;
    ard_buf_reset(&ch->dict_page);
    ard__pqw_dict_reset(&ch->dict);
}

/* Writes, in file order, every chunk its column has finished: the oldest open row group's columns
 * one after the other (a streaming chunk is in the file already). */
static ard_status write_ready(ard_pq_writer *w, ard_error *err) {
    while (w->first_open_rg < w->num_rgs) {
        ard__pqw_rowgroup *rg = &w->rgs[w->first_open_rg];
        while (w->next_col < w->schema.num_cols && rg->chunks[w->next_col].done) {
            ard__pqw_chunk *ch = &rg->chunks[w->next_col];
            ard_status st = ch->streaming ? ARD_OK : start_chunk(w, ch, err);
            if (st != ARD_OK) {
                return st;
            }
            place_chunk(ch);
            rg->total_compressed += ch->compressed;
            rg->total_uncompressed += ch->uncompressed;
            w->next_col++;
        }
        if (w->next_col < w->schema.num_cols) {
            return ARD_OK;
        }
        rg->written = 1;
        w->first_open_rg++;
        w->next_col = 0;
    }
    return ARD_OK;
}

ard_status ard__pqw_column_end_rg(ard_pq_writer *w, int32_t col, ard_error *err) {
    ard__pqw_rowgroup *rg = &w->rgs[w->col_rg[col]];
    ard__pqw_chunk *ch = &rg->chunks[col];
    ard__pqw_page *p = &w->pages[col];
    ard_status st = ard__pqw_flush_page(w, col, ch, p, err);
    if (st == ARD_OK) {
        st = ard__pqw_finish_chunk(w, col, ch, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    rg->limit = w->col_rg_rows[col]; /* every other column stops at the same row */
    rg->num_rows = w->col_rg_rows[col];
    rg->cols_done++;
    ch->done = 1;
    w->col_rg[col]++;
    w->col_rg_rows[col] = 0;
    if (w->col_rg[col] == w->num_rgs && (st = new_rowgroup(w, err)) != ARD_OK) {
        return st;
    }
    p->first_row = 0;
    p->dict_mode = ard__pqw_current_chunk(w, col)->dict_active;
    return write_ready(w, err);
}

static ard_status copy_kv(ard_pq_writer *w, const ard_pq_writer_options *o, ard_error *err) {
    if (o->num_kv <= 0) {
        w->opts.num_kv = 0;
        return ARD_OK;
    }
    w->kv_keys = ard_calloc((size_t)o->num_kv, sizeof(char *));
    w->kv_values = ard_calloc((size_t)o->num_kv, sizeof(char *));
    if (!w->kv_keys || !w->kv_values) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
    }
    for (int32_t i = 0; i < o->num_kv; i++) {
        if (!o->kv_keys || !o->kv_keys[i]) {
            return ard_error_set(err, ARD_EINVAL, "parquet writer: key-value pair %d has no key",
                                 (int)i);
        }
        w->kv_keys[i] = ard_strdup(o->kv_keys[i]);
        const char *v = o->kv_values ? o->kv_values[i] : NULL;
        w->kv_values[i] = v ? ard_strdup(v) : NULL;
        if (!w->kv_keys[i] || (v && !w->kv_values[i])) {
            return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
        }
    }
    return ARD_OK;
}

ard_status ard_pq_writer_set_kv(ard_pq_writer *w, const char *key, const char *value,
                                ard_error *err) {
    ard_status st = check_usable(w, err);
    if (st != ARD_OK || !key) {
        return st ? st : ard_error_set(err, ARD_EINVAL, "parquet writer: set_kv needs a key");
    }
    char *v = value ? ard_strdup(value) : NULL;
    if (value && !v) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
    }
    int32_t n = w->opts.num_kv, i = 0;
    while (i < n && strcmp(w->kv_keys[i], key) != 0) {
        i++;
    }
    if (i == n) { /* a new key: both arrays grow by one */
        char **keys = ard_realloc(w->kv_keys, (size_t)(n + 1) * sizeof *keys);
        w->kv_keys = keys ? keys : w->kv_keys;
        char **vals = keys ? ard_realloc(w->kv_values, (size_t)(n + 1) * sizeof *vals) : NULL;
        w->kv_values = vals ? vals : w->kv_values;
        if (!keys || !vals || !(w->kv_keys[n] = ard_strdup(key))) {
            ard_free(v);
            return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
        }
        w->kv_values[n] = NULL;
        w->opts.num_kv = n + 1;
    }
    ard_free(w->kv_values[i]);
    w->kv_values[i] = v;
    return ARD_OK;
}

static ard_status check_options(ard_pq_writer_options *o, ard_error *err) {
    ard_pq_writer_options d;
    ard_pq_writer_options_init(&d);
    if (o->page_version == 0) {
        o->page_version = 1;
    }
    if (o->target_row_group_bytes <= 0) {
        o->target_row_group_bytes = d.target_row_group_bytes;
    }
    if (o->page_size_bytes <= 0) {
        o->page_size_bytes = d.page_size_bytes;
    }
    if (o->max_dictionary_bytes <= 0) {
        o->max_dictionary_bytes = d.max_dictionary_bytes;
    }
    if (o->page_version != 1 && o->page_version != 2) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: page_version must be 1 or 2, not %d",
                             (int)o->page_version);
    }
    switch (o->codec) {
    case ARD_PQ_UNCOMPRESSED:
    case ARD_PQ_SNAPPY:
    case ARD_PQ_GZIP:
    case ARD_PQ_BROTLI:
    case ARD_PQ_ZSTD:
    case ARD_PQ_LZ4_RAW:
        return ARD_OK;
    default:
        return ard_error_set(err, ARD_ENOTSUP, "parquet writer: codec %s is not supported",
                             ard_pq_codec_name(o->codec));
    }
}

static ard_status alloc_columns(ard_pq_writer *w, ard_error *err) {
    size_t n = (size_t)w->schema.num_cols;
    w->col_rg = ard_calloc(n, sizeof *w->col_rg);
    w->col_rows = ard_calloc(n, sizeof *w->col_rows);
    w->col_rg_rows = ard_calloc(n, sizeof *w->col_rg_rows);
    w->pages = ard_calloc(n, sizeof *w->pages);
    if (!w->col_rg || !w->col_rows || !w->col_rg_rows || !w->pages) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
    }
    ard_status st = new_rowgroup(w, err);
    for (size_t i = 0; st == ARD_OK && i < n; i++) {
        w->pages[i].dict_mode = w->rgs[0].chunks[i].dict_active;
    }
    return st;
}

static void writer_free(ard_pq_writer *w) {
    if (w->pool) {
        ard__pqw_pool_give(w);
    }
    for (int32_t r = 0; r < w->num_rgs; r++) {
        for (int32_t i = 0; w->rgs[r].chunks && i < w->schema.num_cols; i++) {
            ard__pqw_chunk_reset(&w->rgs[r].chunks[i]);
        }
        ard_free(w->rgs[r].chunks);
    }
    for (int32_t i = 0; w->pages && i < w->schema.num_cols; i++) {
        ard__pqw_page_reset(&w->pages[i]);
    }
    for (int32_t i = 0; i < w->opts.num_kv && w->kv_keys; i++) {
        ard_free(w->kv_keys[i]);
        ard_free(w->kv_values[i]);
    }
    ard_free(w->kv_keys);
    ard_free(w->kv_values);
    ard_free(w->rgs);
    ard_free(w->pages);
    ard_free(w->col_rg);
    ard_free(w->col_rows);
    ard_free(w->col_rg_rows);
    for (int32_t i = 0; i < w->num_spare; i++) {
        ard_buf_reset(&w->spare[i]);
    }
    ard_free(w->spare);
    ard__pqw_scratch_reset(&w->scratch);
    ard__pqw_schema_reset(&w->schema);
    ard_free(w->path);
    ard_free(w);
}

void ard_pq_writer_abort(ard_pq_writer *w) {
    if (!w) {
        return;
    }
    ard_atomic_abort(w->file);
    writer_free(w);
}

ard_status ard_pq_writer_open(const char *path, const ard_pq_schema_builder *schema,
                              const ard_pq_writer_options *opts, ard_pq_writer **out,
                              ard_error *err) {
    *out = NULL;
    if (!path || !schema || schema->num_cols == 0) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: need a path and a non-empty schema");
    }
    ard_pq_writer *w = ard_calloc(1, sizeof *w);
    if (!w) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
    }
    ard_pq_writer_options_init(&w->opts);
    if (opts) {
        w->opts = *opts;
    }
    ard_status st = check_options(&w->opts, err);
    if (st == ARD_OK) {
        st = copy_kv(w, opts ? opts : &w->opts, err);
    }
    if (st == ARD_OK && !(w->path = ard_strdup(path))) {
        st = ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
    }
    if (st == ARD_OK) {
        st = ard__pqw_schema_copy(schema, &w->schema, err);
    }
    if (st == ARD_OK) {
        st = alloc_columns(w, err);
    }
    if (st == ARD_OK && w->opts.buffers) {
        w->pool = w->opts.buffers;
        ard__pqw_pool_take(w);
    }
    if (st == ARD_OK) {
        st = ard_atomic_open(path, &w->file, err);
    }
    if (st == ARD_OK && w->opts.defer_sync) {
        ard_atomic_defer_sync(w->file);
    }
    if (st == ARD_OK && w->opts.direct_io) {
        ard_atomic_direct_io(w->file);
    }
    if (st == ARD_OK && w->opts.commit_batch) {
        ard_atomic_in_batch(w->file, w->opts.commit_batch);
    }
    if (st == ARD_OK) {
        st = ard__pqw_write_bytes(w, MAGIC, 4, err);
    }
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        return st;
    }
    *out = w;
    return ARD_OK;
}

static int aligned(const ard_pq_writer *w) {
    for (int32_t i = 1; i < w->schema.num_cols; i++) {
        if (w->col_rows[i] != w->col_rows[0]) {
            return 0;
        }
    }
    return 1;
}

int64_t ard_pq_writer_num_rows(const ard_pq_writer *w) {
    int64_t n = INT64_MAX;
    for (int32_t i = 0; w && i < w->schema.num_cols; i++) {
        n = w->col_rows[i] < n ? w->col_rows[i] : n;
    }
    return w ? n : 0;
}

ard_status ard_pq_writer_end_row_group(ard_pq_writer *w, ard_error *err) {
    ard_status st = check_usable(w, err);
    if (st != ARD_OK) {
        return st;
    }
    if (!aligned(w)) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: columns have different row counts at the end of a "
                             "row group");
    }
    if (w->col_rg_rows[0] == 0) {
        return ARD_OK;
    }
    for (int32_t i = 0; i < w->schema.num_cols && st == ARD_OK; i++) {
        st = ard__pqw_column_end_rg(w, i, err);
    }
    return fail(w, st, err);
}

ard_status ard_pq_writer_limit_row_group(ard_pq_writer *w, int64_t rows, ard_error *err) {
    ard_status st = check_usable(w, err);
    if (st != ARD_OK) {
        return st;
    }
    int32_t g = w->col_rg[0];
    for (int32_t i = 0; i < w->schema.num_cols; i++) {
        if (w->col_rg[i] != g || w->col_rg_rows[i] >= rows) {
            return ard_error_set(err, ARD_EINVAL,
                                 "parquet writer: a row group of %lld rows: a column already "
                                 "holds that many of it",
                                 (long long)rows);
        }
    }
    if (rows > w->rgs[g].limit) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: a row group of %lld rows: over its limit of %lld",
                             (long long)rows, (long long)w->rgs[g].limit);
    }
    w->rgs[g].limit = rows;
    return ARD_OK;
}

/* After a public append: end the row group when the batch is complete and the target size is met.
 */
static ard_status after_append(ard_pq_writer *w, ard_error *err) {
    if (w->opts.rows_per_row_group > 0 || !aligned(w) || w->col_rg_rows[0] == 0) {
        return ARD_OK;
    }
    int64_t bytes = 0;
    for (int32_t i = 0; i < w->schema.num_cols; i++) {
        const ard__pqw_chunk *ch = ard__pqw_current_chunk(w, i);
        bytes += ch->uncompressed + ard__pqw_page_bytes(&w->pages[i]) + (int64_t)ch->dict.plain.len;
    }
    return bytes >= w->opts.target_row_group_bytes ? ard_pq_writer_end_row_group(w, err) : ARD_OK;
}

/* Common path of the public append calls, after their own argument checks. */
ard_status ard__pqw_append_checked(ard_pq_writer *w, int32_t col, const ard__pqw_input *in,
                                   int64_t rows, ard_error *err) {
    ard_status st = ard__pqw_append(w, col, in, rows, err);
    if (st == ARD_OK) {
        st = after_append(w, err);
    }
    return fail(w, st, err);
}

static ard_status write_footer(ard_pq_writer *w, ard_error *err) {
    ard_buf footer;
    ard_buf_init(&footer);
    ard_status st = ard__pqw_write_page_index(w, err);
    if (st == ARD_OK) {
        st = ard__pqw_encode_footer(w, &footer, err);
    }
    if (st == ARD_OK && footer.len > UINT32_MAX) {
        st = ard_error_set(err, ARD_ELIMIT, "parquet writer: footer over 4 GiB");
    }
    if (st == ARD_OK) {
        uint32_t len = (uint32_t)footer.len;
        st = ard__pqw_write_bytes(w, footer.data, footer.len, err);
        if (st == ARD_OK) {
            st = ard__pqw_write_bytes(w, &len, 4, err);
        }
        if (st == ARD_OK) {
            st = ard__pqw_write_bytes(w, MAGIC, 4, err);
        }
    }
    ard_buf_reset(&footer);
    return st;
}

ard_status ard_pq_writer_close(ard_pq_writer *w, ard_error *err) {
    if (!w) {
        return ARD_OK;
    }
    ard_status st = check_usable(w, err);
    if (st == ARD_OK && !aligned(w)) {
        st = ard_error_set(err, ARD_EINVAL,
                           "parquet writer: columns have different row counts at close (%s)",
                           w->path);
    }
    if (st == ARD_OK) {
        st = ard_pq_writer_end_row_group(w, err);
    }
    if (st == ARD_OK) {
        st = write_footer(w, err);
    }
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        return st;
    }
    st = ard_atomic_commit(w->file, err);
    w->file = NULL;
    writer_free(w);
    return st;
}
