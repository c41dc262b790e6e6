/* Parquet writer: appending user batches to a column. Splits a batch into segments that fit the
 * page under construction and the current row group, turns rows into definition/repetition levels,
 * gathers the valid values into their stored form (widening 1/2-byte integers, packing booleans),
 * feeds the dictionary and the statistics, and flushes pages when they are full. */
#include "writer_int.h"

#include <string.h>

static int elem_valid(const ard__pqw_input *in, int64_t e) {
    return !in->elem_validity || ard__bit_get(in->elem_validity, in->elem_validity_offset + e);
}

static int row_valid(const ard__pqw_input *in, int64_t r) {
    return !in->row_validity || ard__bit_get(in->row_validity, in->row_validity_offset + r);
}

static int64_t list_off(const ard__pqw_input *in, int64_t r) {
    if (in->list_offsets) {
        return in->list_offsets[r];
    }
    if (in->list_offsets32) {
        return in->list_offsets32[r];
    }
    return r * in->width;
}

static int64_t bin_off(const ard__pqw_input *in, int64_t i) {
    return in->bin_offsets ? in->bin_offsets[i] : in->bin_offsets32[i];
}

/* Appends values [e0, e0+n) of the input to `out` in stored form. */
static void store_run(const ard__pqw_column *c, const ard__pqw_input *in, int64_t e0, int64_t n,
                      ard_buf *out) {
    if (c->type == ARD_PQ_BYTE_ARRAY) {
        for (int64_t i = e0; i < e0 + n; i++) {
            uint32_t len = (uint32_t)(bin_off(in, i + 1) - bin_off(in, i));
            ard_buf_append(out, &len, 4);
            ard_buf_append(out, in->bin_data + bin_off(in, i), len);
        }
        return;
    }
    if (c->type == ARD_PQ_BOOLEAN) {
        if (ard_buf_reserve(out, (size_t)n) != 0) {
            return;
        }
        for (int64_t i = 0; i < n; i++) {
            int64_t e = e0 + i;
            out->data[out->len + (size_t)i] =
                in->bool_bits ? (uint8_t)ard__bit_get(in->values, in->value_bit_offset + e)
                              : (uint8_t)(in->values[e] != 0);
        }
        out->len += (size_t)n;
        return;
    }
    if (in->input_width == c->value_width) {
        ard_buf_append(out, in->values + e0 * c->value_width, (size_t)(n * c->value_width));
        return;
    }
    if (ard_buf_reserve(out, (size_t)n * 4) != 0) {
        return;
    }
    int32_t *dst = (int32_t *)(void *)(out->data + out->len);
    const uint8_t *src = in->values + e0 * in->input_width;
    if (in->input_width == 1 && c->input_signed) { /* one loop per case: they vectorise */
        for (int64_t i = 0; i < n; i++) {
            dst[i] = (int8_t)src[i];
        }
    } else if (in->input_width == 1) {
        for (int64_t i = 0; i < n; i++) {
            dst[i] = src[i];
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            uint16_t u;
            memcpy(&u, src + 2 * i, 2);
            dst[i] = c->input_signed ? (int32_t)(int16_t)u : (int32_t)u;
        }
    }
    out->len += (size_t)n * 4;
}

/* Ascending check of a sorted integer column, over the values just stored. */
/* Equality of two values of len bytes (4- and 8-byte values without a call). */
static int same_bytes(const uint8_t *a, const uint8_t *b, uint32_t len) {
    if (len == 4) {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return x == y;
    }
    if (len == 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return x == y;
    }
    return memcmp(a, b, len) == 0;
}

static void check_sorted(const ard__pqw_column *c, ard__pqw_chunk *ch, const uint8_t *v,
                         int64_t n) {
    for (int64_t i = 0; i < n && ch->sorted_ok; i++) {
        int64_t x;
        if (c->type == ARD_PQ_INT32) {
            int32_t x32;
            memcpy(&x32, v + 4 * i, 4);
            x = x32;
        } else {
            memcpy(&x, v + 8 * i, 8);
        }
        if (ch->has_last && x < ch->last_sorted) {
            ch->sorted_ok = 0;
        }
        ch->last_sorted = x;
        ch->has_last = 1;
    }
}

/* Dictionary indices of n 4-byte values v (a MASK's widened bytes: long runs of 0): a value
 * equal to the one before it repeats its index without hashing, as in push_values' general loop,
 * with the run found and filled in tight loops. */
static int dict_runs4(ard__pqw_chunk *ch, ard__pqw_page *p, const uint8_t *v, int64_t n,
                      size_t start) {
    uint32_t *out = p->indices + p->num_values;
    for (int64_t i = 0; i < n;) {
        uint32_t x;
        memcpy(&x, v + 4 * i, 4);
        int64_t idx = ard__pqw_dict_insert(&ch->dict, v + 4 * i, 4, 0);
        if (idx < 0) {
            return -1;
        }
        int64_t end = i + 1;
        for (uint32_t y; end < n; end++) {
            memcpy(&y, v + 4 * end, 4);
            if (y != x) {
                break;
            }
        }
        for (int64_t k = i; k < end; k++) {
            out[k] = (uint32_t)idx;
        }
        i = end;
    }
    p->num_values += n;
    p->values.len = start; /* values live in the dictionary */
    return 0;
}

/* Dictionary indices and statistics of n 1-byte inputs of a 4-byte column (a MASK's uint8: long
 * runs of 0) a run at a time, found 8 bytes per step, without widening the values into the page:
 * the same dictionary, indices and statistics as storing them and taking dict_runs4. The indices
 * are kept as runs (p->index_runs), encoded from them at flush. */
static int dict_runs_narrow(const ard__pqw_column *c, ard__pqw_chunk *ch, ard__pqw_page *p,
                            const uint8_t *src, int64_t n) {
    p->indices_as_runs = 1;
    for (int64_t i = 0; i < n;) {
        uint8_t b = src[i];
        uint64_t eight = 0x0101010101010101ull * b, x;
        int64_t end = i + 1;
        while (end + 8 <= n && (memcpy(&x, src + end, 8), x == eight)) {
            end += 8;
        }
        while (end < n && src[end] == b) {
            end++;
        }
        int32_t v = c->input_signed ? (int32_t)(int8_t)b : (int32_t)b;
        uint8_t stored[4];
        memcpy(stored, &v, 4);
        int64_t idx = ard__pqw_dict_insert(&ch->dict, stored, 4, 0);
        if (idx < 0) {
            return -1;
        }
        ard__pqw_stats_update(&p->stats, c->sort_kind, stored, 1, 4, 4);
        p->stats.num_values += end - i - 1;
        if (ard__pqw_levels_push(&p->index_runs, (uint32_t)idx, end - i) != 0) {
            return -1;
        }
        i = end;
    }
    p->num_values += n;
    return 0;
}

/* Stores a run of valid values into page p (statistics, dictionary indices). */
static int push_values(const ard__pqw_column *c, ard__pqw_chunk *ch, ard__pqw_page *p,
                       const ard__pqw_input *in, int64_t e0, int64_t n) {
    if (p->dict_mode && c->type == ARD_PQ_INT32 && in->input_width == 1 && !c->sorted) {
        return dict_runs_narrow(c, ch, p, in->values + e0, n);
    }
    if (ard__pqw_split_layout(c, ch, p)) { /* FLOAT, BYTE_STREAM_SPLIT: no sorting, no dictionary */
        return ard__pqw_split_push(p, in->values + 4 * e0, n);
    }
    size_t start = p->values.len;
    store_run(c, in, e0, n, &p->values);
    if (p->values.failed) {
        return -1;
    }
    const uint8_t *v = p->values.data + start;
    size_t nbytes = p->values.len - start;
    ard__pqw_stats_update(&p->stats, c->sort_kind, v, n, nbytes,
                          c->type == ARD_PQ_BYTE_ARRAY ? 0 : c->value_width);
    if (c->sorted && (c->type == ARD_PQ_INT32 || c->type == ARD_PQ_INT64)) {
        check_sorted(c, ch, v, n);
    }
    if (!p->dict_mode) {
        p->num_values += n;
        return 0;
    }
    if (ard__pqw_page_reserve_indices(p, n) != 0) {
        return -1;
    }
    if (c->type != ARD_PQ_BYTE_ARRAY && c->value_width == 4) {
        return dict_runs4(ch, p, v, n, start);
    }
    size_t pos = 0, prev_pos = 0;
    uint32_t prev_len = UINT32_MAX;
    int64_t idx = -1;
    int prefix = c->type == ARD_PQ_BYTE_ARRAY ? 4 : 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)c->value_width;
        if (prefix) {
            memcpy(&len, v + pos, 4);
            pos += 4;
        }
        /* runs (a mask's zeros) repeat the previous index without hashing */
        if (len != prev_len || !same_bytes(v + prev_pos, v + pos, len)) {
            idx = ard__pqw_dict_insert(&ch->dict, v + pos, len, prefix);
            if (idx < 0) {
                return -1;
            }
        }
        p->indices[p->num_values++] = (uint32_t)idx;
        prev_pos = pos;
        prev_len = len;
        pos += len;
    }
    p->values.len = start; /* values live in the dictionary */
    return 0;
}

/* Emits levels and values for flat rows [r0, r0+n). */
static int append_flat(const ard__pqw_column *c, ard__pqw_chunk *ch, ard__pqw_page *p,
                       const ard__pqw_input *in, int64_t r0, int64_t n) {
    int64_t run = -1;
    for (int64_t r = r0; r < r0 + n; r++) {
        int valid = elem_valid(in, r);
        if (c->max_def > 0 && ard__pqw_levels_push(&p->def, (uint32_t)valid, 1) != 0) {
            return -1;
        }
        if (valid && run < 0) {
            run = r;
        }
        if (!valid) {
            p->stats.null_count++;
            if (run >= 0 && push_values(c, ch, p, in, run, r - run) != 0) {
                return -1;
            }
            run = -1;
        }
    }
    if (run >= 0 && push_values(c, ch, p, in, run, r0 + n - run) != 0) {
        return -1;
    }
    p->num_levels += n;
    return 0;
}

/* Levels of one non-null, non-empty list of `len` elements starting at element e0. */
static int append_list_row(const ard__pqw_column *c, ard__pqw_chunk *ch, ard__pqw_page *p,
                           const ard__pqw_input *in, int64_t e0, int64_t len) {
    if (ard__pqw_levels_push(&p->rep, 0, 1) != 0 ||
        ard__pqw_levels_push(&p->rep, 1, len - 1) != 0) {
        return -1;
    }
    if (!in->elem_validity) { /* the common case: one run, no per-element checks */
        if (ard__pqw_levels_push(&p->def, c->max_def, len) != 0) {
            return -1;
        }
        p->num_levels += len;
        return push_values(c, ch, p, in, e0, len);
    }
    int64_t run = -1;
    for (int64_t j = 0; j < len; j++) {
        int64_t bit = in->elem_validity_offset + e0 + j, whole = 0;
        while ((bit & 7) == 0 && j + whole + 8 <= len && in->elem_validity[bit >> 3] == 0xff) {
            whole += 8; /* whole bytes of valid elements */
            bit += 8;
        }
        if (whole > 0) {
            if (ard__pqw_levels_push(&p->def, c->max_def, whole) != 0) {
                return -1;
            }
            run = run < 0 ? j : run;
            j += whole;
        }
        if (j == len) {
            break;
        }
        int valid = elem_valid(in, e0 + j);
        if (ard__pqw_levels_push(&p->def, (uint32_t)(valid ? c->max_def : c->max_def - 1), 1) !=
            0) {
            return -1;
        }
        if (valid && run < 0) {
            run = j;
        }
        if (!valid) {
            p->stats.null_count++;
            if (run >= 0 && push_values(c, ch, p, in, e0 + run, j - run) != 0) {
                return -1;
            }
            run = -1;
        }
    }
    if (run >= 0 && push_values(c, ch, p, in, e0 + run, len - run) != 0) {
        return -1;
    }
    p->num_levels += len;
    return 0;
}

static int append_lists(const ard__pqw_column *c, ard__pqw_chunk *ch, ard__pqw_page *p,
                        const ard__pqw_input *in, int64_t r0, int64_t n) {
    int16_t list_def = (int16_t)(c->repetition == ARD_PQ_OPTIONAL);
    for (int64_t r = r0; r < r0 + n; r++) {
        int64_t e0 = list_off(in, r), len = list_off(in, r + 1) - e0;
        if (row_valid(in, r) && len > 0) {
            if (append_list_row(c, ch, p, in, e0, len) != 0) {
                return -1;
            }
            continue;
        }
        if (ard__pqw_levels_push(&p->rep, 0, 1) != 0 ||
            ard__pqw_levels_push(&p->def, row_valid(in, r) ? list_def : 0, 1) != 0) {
            return -1;
        }
        p->num_levels++;
        p->stats.null_count++;
    }
    return 0;
}

/* How many rows from r0 (at most max_rows, at least 1) fit in `space` encoded bytes. */
static int64_t rows_that_fit(const ard__pqw_column *c, const ard__pqw_input *in, int64_t r0,
                             int64_t max_rows, int64_t space, int dict_mode) {
    int64_t vw = dict_mode ? 2 : (c->value_width ? c->value_width : 4);
    if (!c->is_list && c->type != ARD_PQ_BYTE_ARRAY) {
        int64_t n = space / vw + 1;
        return n < max_rows ? n : max_rows;
    }
    if (c->is_list && !in->list_offsets && !in->list_offsets32) {
        int64_t n = space / (vw * (in->width ? in->width : 1)) + 1;
        return n < max_rows ? n : max_rows;
    }
    int64_t used = 0, n = 0;
    while (n < max_rows && used < space) {
        int64_t r = r0 + n;
        if (c->is_list) {
            used += (list_off(in, r + 1) - list_off(in, r)) * vw + 1;
        } else {
            used += (dict_mode ? 2 : 4 + bin_off(in, r + 1) - bin_off(in, r));
        }
        n++;
    }
    return n ? n : 1;
}

static ard_status oom(ard_error *err, const ard__pqw_column *c) {
    return ard_error_set(err, ARD_ENOMEM, "parquet writer: column '%s': out of memory", c->name);
}

/* After a segment: flush a full page; fall back to PLAIN when the dictionary grew too large. */
static ard_status after_segment(ard_pq_writer *w, int32_t col, ard__pqw_chunk *ch, ard__pqw_page *p,
                                ard_error *err) {
    ard_status st = ARD_OK;
    int dict_full = ch->dict_active && (int64_t)ch->dict.plain.len > w->opts.max_dictionary_bytes;
    if (dict_full || ard__pqw_page_bytes(p) >= w->opts.page_size_bytes) {
        if (dict_full) {
            ch->dict_active = 0;
        }
        st = ard__pqw_flush_page(w, col, ch, p, err);
        p->dict_mode = ch->dict_active;
        ard__pqw_maybe_fix_limit(w, col);
    }
    return st;
}

ard_status ard__pqw_append(ard_pq_writer *w, int32_t col, const ard__pqw_input *in, int64_t rows,
                           ard_error *err) {
    const ard__pqw_column *c = &w->schema.cols[col];
    int64_t done = 0;
    while (done < rows) {
        int64_t left = ard__pqw_rows_left_in_rg(w, col);
        if (left <= 0) {
            ard_status st = ard__pqw_column_end_rg(w, col, err);
            if (st != ARD_OK) {
                return st;
            }
            continue;
        }
        ard__pqw_chunk *ch = ard__pqw_current_chunk(w, col);
        ard__pqw_page *p = &w->pages[col];
        int64_t space = w->opts.page_size_bytes - ard__pqw_page_bytes(p);
        int64_t max_rows = rows - done < left ? rows - done : left;
        int64_t n = rows_that_fit(c, in, done, max_rows, space > 0 ? space : 1, p->dict_mode);
        int rc =
            c->is_list ? append_lists(c, ch, p, in, done, n) : append_flat(c, ch, p, in, done, n);
        if (rc != 0) {
            return oom(err, c);
        }
        p->num_rows += n;
        done += n;
        w->col_rows[col] += n;
        w->col_rg_rows[col] += n;
        ard_status st = after_segment(w, col, ch, p, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    /* A full row group ends now rather than at the column's next call: the same bytes, but the
     * chunk can reach the file before the next column's pages, which then stream (writer.c). */
    if (rows > 0 && ard__pqw_rows_left_in_rg(w, col) == 0) {
        return ard__pqw_column_end_rg(w, col, err);
    }
    return ARD_OK;
}
