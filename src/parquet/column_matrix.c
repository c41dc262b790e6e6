/* The spectra fast path: a list<float> column whose lists all have one length, decoded page by page
 * straight into a contiguous rows x width float32 matrix. A clean page (no null element, no null or empty
 * list) is decoded in one call directly into its place in the matrix; when its level runs alone show
 * that (whole_page: one RLE run of present elements, repetition levels exactly records of the width)
 * no level is decoded at all, else its levels are checked in windows; other pages are scattered level
 * by level. Memory: the stored chunk, one decoded page, levels of one window, and the output. */
#include "column_int.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

/* Staged pages decompressed straight into the matrix since the process started (tests). */
static _Atomic uint64_t ard__staged_in_place;
/* Pages placed whole on their run-length levels alone (whole_page) since the process started. */
static _Atomic uint64_t ard__whole_pages;

typedef struct matrix_state {
    ard_pq_f32_matrix *m;
    int64_t row, col; /* current row (-1 before the first) and element within it */
    int16_t d_elem;   /* def level at which a list element exists (the repeated node) */
    int16_t d_list;   /* def level at which the list itself is non-null */
    float *tmp;       /* dense values of a page that needs scattering */
    size_t tmp_cap;
    float *dst; /* caller-owned output (the _into variant), else NULL */
    uint8_t *dst_validity;
    int64_t dst_capacity;
    int32_t any_null;
    int16_t *wdef, *wrep;  /* level windows of lazy pages */
    int32_t width_unknown; /* the first page did not show the width: use the generic path */
    size_t wdef_cap, wrep_cap;
    /* Values of a deferred page (values left in the file): the file offset of the current
     * window's first value (-1 when the window's values are in memory), and the read queued for
     * contiguous windows, issued as one pread straight into the matrix. */
    int64_t defer_at;
    uint8_t *pend_out;
    int64_t pend_off;
    size_t pend_len;
} matrix_state;

/* Internal: the page walk cannot tell the list width from the first page (a row group that starts
 * with null or empty lists); read_matrix then takes the generic path. Never returned to callers. */
#define ARD_EAGAIN_WIDTH ARD_EEOF

#define LEVEL_WINDOW 16384 /* levels decoded at a time from a lazy page: stays in L1/L2 */

static ard_status width_mismatch(ard__chunk_reader *cr, int64_t row, int64_t len, int64_t width,
                                 ard_error *err) {
    return ard_error_set(err, ARD_EINVAL,
                         "%s: row %lld has a list of %lld elements, not %lld: not "
                         "a fixed-width list column",
                         cr->what, (long long)row, (long long)len, (long long)width);
}

/* Materialises an all-valid bitmap of nbits the first time a null shows up. */
static int set_all_ones(uint8_t **bits, int64_t nbits) {
    if (*bits) {
        return 0;
    }
    *bits = ard_malloc((size_t)(nbits + 7) / 8 + 1);
    if (!*bits) {
        return -1;
    }
    memset(*bits, 0xFF, (size_t)(nbits + 7) / 8 + 1);
    return 0;
}

/* The element bitmap, materialised at the first null: the caller's (filled with ones) when given,
 * else an allocated one. */
static int element_bits(matrix_state *s) {
    ard_pq_f32_matrix *m = s->m;
    s->any_null = 1;
    if (m->validity) {
        return 0;
    }
    if (s->dst_validity) {
        memset(s->dst_validity, 0xFF, (size_t)(m->rows * m->width + 7) / 8);
        m->validity = s->dst_validity;
        return 0;
    }
    return set_all_ones(&m->validity, m->rows * m->width);
}

static void clear_bit(uint8_t *bits, int64_t i) {
    bits[i >> 3] = (uint8_t)(bits[i >> 3] & ~(1u << (i & 7)));
}

/* Width from the first page: the element count of its first complete, non-empty record. */
static int64_t first_width(const matrix_state *s, const ard__page *pg, int64_t rows_in_group) {
    int64_t count = 0;
    for (int64_t i = 0; i < pg->num_levels; i++) {
        if (i > 0 && pg->rep[i] == 0) {
            if (count > 0) {
                return count;
            }
            count = 0;
        }
        count += !pg->def || pg->def[i] >= s->d_elem;
    }
    return rows_in_group == 1 ? count : -1;
}

static ard_status allocate(matrix_state *s, ard__chunk_reader *cr, int64_t rows, int64_t width,
                           ard_error *err) {
    ard_pq_f32_matrix *m = s->m;
    if (width < 0 ||
        (rows > 0 && (uint64_t)width > (uint64_t)cr->memory_cap / 4 / (uint64_t)rows)) {
        return ard_error_set(err, ARD_ELIMIT, "%s: %lld x %lld matrix exceeds the memory cap",
                             cr->what, (long long)rows, (long long)width);
    }
    m->rows = rows;
    m->width = width;
    if (s->dst) {
        if (rows * width > s->dst_capacity) {
            return ard_error_set(err, ARD_ELIMIT,
                                 "%s: %lld x %lld floats do not fit the buffer of "
                                 "%lld",
                                 cr->what, (long long)rows, (long long)width,
                                 (long long)s->dst_capacity);
        }
        m->values = s->dst;
        return ARD_OK;
    }
    m->values = ard_malloc((size_t)(rows * width) * sizeof(float) + 1);
    return m->values ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
}

/* Checks that the repetition levels of a page whose entries start at linear matrix position `start`
 * open a record exactly at multiples of the width: the page's count of zeros (from the level pass)
 * must equal the number of multiples, and each of those positions must hold a zero. */
static int reps_match(const ard__page *pg, int64_t start, int64_t w) {
    int64_t first = (start + w - 1) / w * w, expect = 0;
    for (int64_t pos = first; pos < start + pg->num_levels; pos += w, expect++) {
        if (pg->rep[pos - start] != 0) {
            return 0;
        }
    }
    return pg->rep_zeros == expect;
}

/* 1 when any of 16 levels differs from m (a branch-free, vectorisable test). */
static int any_below16(const int16_t *d, int16_t m) {
    int acc = 0;
    for (int i = 0; i < 16; i++) {
        acc |= d[i] != m;
    }
    return acc;
}

/* Copies the page's dense values `src` to their places in `out`, one memcpy per run of present values,
 * writing NaN and clearing validity at each null element. */
static void spread_nulls(matrix_state *s, const ard__page *pg, int16_t max_def, const float *src,
                         float *out, int64_t start) {
    const int16_t *def = pg->def;
    int64_t n = pg->num_levels, k = 0, vi = 0;
    while (k < n) {
        int64_t j = k;
        while (j + 16 <= n && !any_below16(def + j, max_def)) {
            j += 16;
        }
        while (j < n && def[j] == max_def) {
            j++;
        }
        memcpy(out + k, src + vi, (size_t)(j - k) * sizeof(float));
        vi += j - k;
        if (j < n) {
            out[j] = NAN;
            clear_bit(s->m->validity, start + j);
            j++;
        }
        k = j;
    }
}

static ard_status flush_reads(matrix_state *s, ard__chunk_reader *cr, ard_error *err) {
    if (s->pend_len == 0) {
        return ARD_OK;
    }
    ard_status st = ard__pq_file_read(cr->file, s->pend_off, s->pend_len, s->pend_out, err);
    s->pend_len = 0;
    return st;
}

/* Queues the read of `len` file bytes at `off` into `out`, joining it to the queued read when both
 * continue it (consecutive windows of one page). */
static ard_status queue_read(matrix_state *s, ard__chunk_reader *cr, uint8_t *out, int64_t off,
                             size_t len, ard_error *err) {
    if (s->pend_len > 0 && s->pend_out + s->pend_len == out &&
        s->pend_off + (int64_t)s->pend_len == off) {
        s->pend_len += len;
        return ARD_OK;
    }
    ard_status st = flush_reads(s, cr, err);
    s->pend_out = out;
    s->pend_off = off;
    s->pend_len = len;
    return st;
}

/* A page whose every level entry is a list element (no null or empty list): its elements land
 * contiguously at (row, col). Dense values are decoded in place, then spread backwards over the null
 * elements (a value never moves left, so the walk from the end is safe). */
static ard_status contiguous_page(matrix_state *s, ard__chunk_reader *cr, const ard__page *pg,
                                  const float *dense, ard_error *err) {
    ard_pq_f32_matrix *m = s->m;
    int64_t w = m->width, n = pg->num_levels;
    int64_t start = pg->rep[0] == 0 ? (s->row + 1) * w : s->row * w + s->col;
    if (pg->rep[0] == 0 && s->row >= 0 && s->col != w) {
        return width_mismatch(cr, s->row, s->col, w, err);
    }
    if (w == 0 || start + n > m->rows * w || !reps_match(pg, start, w)) {
        return width_mismatch(cr, start / (w ? w : 1), n, w, err);
    }
    float *out = m->values + start;
    ard_status st;
    if (s->defer_at >= 0 && pg->num_values == n) { /* straight from the file into place */
        st = queue_read(s, cr, (uint8_t *)out, s->defer_at, (size_t)n * sizeof(float), err);
    } else if (dense && pg->num_values == n) {
        if (dense != out) { /* a staged page's values were decompressed in place */
            memcpy(out, dense, (size_t)n * sizeof(float));
        }
        st = ARD_OK;
    } else if (dense) {
        st = element_bits(s) == 0 ? ARD_OK
                                  : ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
        if (st == ARD_OK) {
            spread_nulls(s, pg, cr->max_def, dense, out, start);
        }
    } else if (pg->num_values == n) {
        st = ard__decode_fixed(cr, pg, (uint8_t *)out, err); /* straight into place */
    } else {
        dense = (const float *)(const void *)pg->values;
        int plain = pg->encoding == ARD_PQ_PLAIN &&
                    (uint64_t)pg->num_values * sizeof(float) <= pg->values_len;
        st = element_bits(s) == 0 ? ARD_OK
                                  : ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
        if (st == ARD_OK && !plain) { /* other encodings: decode densely first */
            st = ard__grow((void **)&s->tmp, &s->tmp_cap, (size_t)pg->num_values * 4 + 4) == 0
                     ? ard__decode_fixed(cr, pg, (uint8_t *)s->tmp, err)
                     : ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
            dense = s->tmp;
        }
        if (st == ARD_OK) {
            spread_nulls(s, pg, cr->max_def, dense, out, start);
        }
    }
    s->row = (start + n - 1) / w;
    s->col = start + n - s->row * w;
    return st;
}

static ard_status null_list(matrix_state *s, ard__chunk_reader *cr, ard_error *err) {
    ard_pq_f32_matrix *m = s->m;
    if ((!s->dst && set_all_ones(&m->row_validity, m->rows) != 0) || element_bits(s) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    if (m->row_validity) {
        clear_bit(m->row_validity, s->row);
    }
    for (int64_t c = 0; c < m->width; c++) {
        m->values[s->row * m->width + c] = NAN;
        clear_bit(m->validity, s->row * m->width + c);
    }
    s->col = m->width;
    return ARD_OK;
}

/* One level entry of a page that needs scattering. */
static ard_status scatter_one(matrix_state *s, ard__chunk_reader *cr, int16_t rep, int16_t def,
                              const float *vals, int64_t *vi, ard_error *err) {
    ard_pq_f32_matrix *m = s->m;
    if (rep == 0) {
        if (s->row >= 0 && s->col != m->width) {
            return width_mismatch(cr, s->row, s->col, m->width, err);
        }
        if (++s->row >= m->rows) {
            return ard_error_set(err, ARD_ECORRUPT, "%s: more rows than the row group declares",
                                 cr->what);
        }
        s->col = 0;
    }
    if (def < s->d_elem) {
        return def < s->d_list
                   ? null_list(s, cr, err)
                   : (m->width == 0 ? ARD_OK : width_mismatch(cr, s->row, 0, m->width, err));
    }
    if (s->col >= m->width) {
        return width_mismatch(cr, s->row, s->col + 1, m->width, err);
    }
    int64_t at = s->row * m->width + s->col++;
    if (def == cr->max_def) {
        /* PLAIN values are used where they lie in the page, at any byte alignment */
        memcpy(&m->values[at], (const uint8_t *)vals + (size_t)(*vi)++ * sizeof(float),
               sizeof(float));
        return ARD_OK;
    }
    if (element_bits(s) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    m->values[at] = NAN;
    clear_bit(m->validity, at);
    return ARD_OK;
}

/* A page (or window) with null or empty lists, entry by entry; `dense` holds its values, or NULL to
 * decode them from the page. */
static ard_status scatter_page(matrix_state *s, ard__chunk_reader *cr, const ard__page *pg,
                               const float *dense, ard_error *err) {
    ard_status st = ARD_OK;
    if (!dense) {
        if (ard__grow((void **)&s->tmp, &s->tmp_cap, (size_t)pg->num_values * 4 + 4) != 0) {
            return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
        }
        st = ard__decode_fixed(cr, pg, (uint8_t *)s->tmp, err);
        dense = s->tmp;
    }
    int64_t vi = 0;
    for (int64_t i = 0; st == ARD_OK && i < pg->num_levels; i++) {
        st = scatter_one(s, cr, pg->rep[i], pg->def ? pg->def[i] : cr->max_def, dense, &vi, err);
    }
    return st;
}

/* Decodes the next m levels of a lazy page into the windows and summarises them as a page of m
 * entries (levels validated against their maxima). */
static ard_status window_levels(matrix_state *s, ard__chunk_reader *cr, ard__levels *rep_stream,
                                ard__levels *def_stream, int64_t m, ard__page *wp, ard_error *err) {
    size_t bytes = (size_t)m * sizeof(int16_t) + 32;
    if (ard__grow((void **)&s->wdef, &s->wdef_cap, bytes) != 0 ||
        ard__grow((void **)&s->wrep, &s->wrep_cap, bytes) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    ard_status st = ard__levels_read(rep_stream, s->wrep, m, err);
    if (st == ARD_OK) {
        st = ard__levels_read(def_stream, s->wdef, m, err);
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "%s: page at byte %lld: ", cr->what, (long long)wp->header_offset);
        return st;
    }
    int16_t dlo, dhi, rlo, rhi;
    wp->num_levels = m;
    wp->def = s->wdef;
    wp->rep = s->wrep;
    wp->num_values = ard__level_stats(s->wdef, m, cr->max_def, &dlo, &dhi);
    wp->min_def = dlo;
    wp->rep_zeros = ard__level_stats(s->wrep, m, 0, &rlo, &rhi);
    if (dlo < 0 || dhi > cr->max_def || rlo < 0 || rhi > cr->max_rep) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: page at byte %lld: level outside [0, max]",
                             cr->what, (long long)wp->header_offset);
    }
    return ARD_OK;
}

/* The dense values of a lazy page: PLAIN floats are used where they lie; other encodings are counted
 * (one pass over the definition levels) and decoded into tmp. */
static ard_status lazy_values(matrix_state *s, ard__chunk_reader *cr, ard__page *pg,
                              const float **src, int64_t *avail, ard_error *err) {
    if (pg->staged) {
        *src = NULL; /* PLAIN, decompressed by staged_values once the matrix exists */
        *avail = (int64_t)(pg->values_len / sizeof(float));
        return ARD_OK;
    }
    if (pg->deferred && pg->encoding == ARD_PQ_PLAIN) {
        *src = NULL; /* in the file: windows read them into place, or lazy_page brings them in */
        *avail = (int64_t)(pg->values_len / sizeof(float));
        return ARD_OK;
    }
    ard_status st = ard__chunk_page_values(cr, pg, err);
    if (st != ARD_OK) {
        return st;
    }
    if (pg->encoding == ARD_PQ_PLAIN) {
        *src = (const float *)(const void *)pg->values;
        *avail = (int64_t)(pg->values_len / sizeof(float));
        return ARD_OK;
    }
    ard__levels rs, ds;
    ard__levels_init(&rs, pg->rep_data, pg->rep_len, ard__bit_width((uint64_t)cr->max_rep));
    ard__levels_init(&ds, pg->def_data, pg->def_len, ard__bit_width((uint64_t)cr->max_def));
    ard__page counted = *pg;
    counted.num_values = 0;
    for (int64_t off = 0; off < pg->num_levels; off += LEVEL_WINDOW) {
        int64_t m = pg->num_levels - off < LEVEL_WINDOW ? pg->num_levels - off : LEVEL_WINDOW;
        ard__page wp = {.header_offset = pg->header_offset};
        st = window_levels(s, cr, &rs, &ds, m, &wp, err);
        if (st != ARD_OK) {
            return st;
        }
        counted.num_values += wp.num_values;
    }
    if (ard__grow((void **)&s->tmp, &s->tmp_cap, (size_t)counted.num_values * 4 + 4) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    *src = s->tmp;
    *avail = counted.num_values;
    return ard__decode_fixed(cr, &counted, (uint8_t *)s->tmp, err);
}

/* The values of a staged page (ZSTD, PLAIN): when every level of the page is a list element and the
 * page fits the matrix where it starts, they are decompressed straight into their place (each window
 * then finds its values already there); otherwise into the page buffer, as any page. */
static ard_status staged_values(matrix_state *s, ard__chunk_reader *cr, ard__page *pg,
                                const float **src, ard_error *err) {
    int64_t n = pg->num_levels, w = s->m->values ? s->m->width : 0, start = -1;
    ard__levels rs, ds;
    ard__levels_init(&rs, pg->rep_data, pg->rep_len, ard__bit_width((uint64_t)cr->max_rep));
    ard__levels_init(&ds, pg->def_data, pg->def_len, ard__bit_width((uint64_t)cr->max_def));
    int16_t rep0 = -1;
    if (w > 0 && pg->values_len == (uint64_t)n * sizeof(float) &&
        (cr->max_def == 0 || ard__levels_all_rle(&ds, n, cr->max_def)) &&
        ard__levels_read(&rs, &rep0, 1, NULL) == ARD_OK) {
        start = rep0 == 0 ? (s->row + 1) * w : s->row * w + s->col;
    }
    if (start >= 0 && start <= s->m->rows * w - n) {
        *src = s->m->values + start;
        atomic_fetch_add(&ard__staged_in_place, 1);
        return ard__chunk_page_values_into(cr, pg, (uint8_t *)(s->m->values + start), err);
    }
    ard_status st = ard__chunk_page_values(cr, pg, err);
    *src = (const float *)(const void *)pg->values;
    return st;
}

/* A lazy page whose levels say that every entry is a present element and that its records have
 * exactly the matrix width (checked on the level runs and packed bytes; no level is decoded): its n
 * values go to their place in one piece: read from the file, decompressed, copied or decoded there.
 * *done = 0 (nothing consumed) when the page needs the windows: nulls, empty or uneven lists, too
 * few values, a page that does not fit where it starts; they report any damage. */
static ard_status whole_page(matrix_state *s, ard__chunk_reader *cr, ard__page *pg, int *done,
                             ard_error *err) {
    ard_pq_f32_matrix *m = s->m;
    int64_t w = m->width, n = pg->num_levels;
    int fresh = s->row < 0 || s->col == w; /* the page must start a record */
    int64_t start = fresh ? (s->row + 1) * w : s->row * w + s->col;
    size_t bytes = (size_t)n * sizeof(float);
    int plain = pg->encoding == ARD_PQ_PLAIN;
    *done = 0;
    if (w <= 0 || n <= 0 || start > m->rows * w - n || (pg->must_start_record && !fresh) ||
        (plain && pg->values_len < bytes) || (pg->staged && pg->values_len != bytes)) {
        return ARD_OK;
    }
    ard__levels rs, ds;
    ard__levels_init(&rs, pg->rep_data, pg->rep_len, ard__bit_width((uint64_t)cr->max_rep));
    ard__levels_init(&ds, pg->def_data, pg->def_len, ard__bit_width((uint64_t)cr->max_def));
    if ((cr->max_def > 0 && !ard__levels_all_rle(&ds, n, cr->max_def)) ||
        !ard__levels_are_records(&rs, n, fresh ? 0 : s->col, w)) {
        return ARD_OK;
    }
    uint8_t *out = (uint8_t *)(m->values + start);
    ard_status st;
    if (pg->staged) {
        atomic_fetch_add(&ard__staged_in_place, 1);
        st = ard__chunk_page_values_into(cr, pg, out, err);
    } else if (pg->deferred && plain) {
        st = ard__pq_file_read(cr->file, pg->values_offset, bytes, out, err);
    } else {
        st = ard__chunk_page_values(cr, pg, err); /* deferred pages of other encodings */
        ard__page dense = *pg;
        dense.num_values = n;
        if (st == ARD_OK && plain) {
            memcpy(out, pg->values, bytes);
        } else if (st == ARD_OK) {
            st = ard__decode_fixed(cr, &dense, out, err);
        }
    }
    atomic_fetch_add(&ard__whole_pages, 1);
    *done = 1;
    s->row = (start + n - 1) / w;
    s->col = start + n - s->row * w;
    return st;
}

/* The list width from the first record of a lazy page that has elements, streaming its levels in
 * windows (so even a page of millions of levels needs no full level arrays). -1 when the page does
 * not show it (then the page is handled in one window). */
static int64_t probe_width(matrix_state *s, ard__chunk_reader *cr, const ard__page *pg,
                           int64_t rows_in_group) {
    ard__levels rs, ds;
    ard__levels_init(&rs, pg->rep_data, pg->rep_len, ard__bit_width((uint64_t)cr->max_rep));
    ard__levels_init(&ds, pg->def_data, pg->def_len, ard__bit_width((uint64_t)cr->max_def));
    int64_t count = 0;
    for (int64_t off = 0; off < pg->num_levels; off += LEVEL_WINDOW) {
        int64_t m = pg->num_levels - off < LEVEL_WINDOW ? pg->num_levels - off : LEVEL_WINDOW;
        ard__page wp = {.header_offset = pg->header_offset};
        if (window_levels(s, cr, &rs, &ds, m, &wp, NULL) != ARD_OK) {
            return -1; /* the real pass reports the error */
        }
        for (int64_t i = 0; i < m; i++) {
            if (off + i > 0 && wp.rep[i] == 0) {
                if (count > 0) {
                    return count;
                }
                count = 0;
            }
            count += wp.def[i] >= s->d_elem;
        }
    }
    return rows_in_group == 1 ? count : -1;
}

/* A lazy page, a window of levels at a time (the first page of a chunk in one window, since it also
 * decides the width). Values are consumed from the dense source as the windows need them. */
static ard_status lazy_page(matrix_state *s, ard__chunk_reader *cr, ard__page *pg, int64_t rows,
                            ard_error *err) {
    const float *src = NULL;
    int64_t avail = 0, vi = 0;
    int64_t w = s->m->values ? s->m->width : probe_width(s, cr, pg, rows);
    ard_status st = ARD_OK;
    if (!s->m->values && w >= 0) {
        st = allocate(s, cr, rows, w, err);
    }
    int done = 0;
    if (st == ARD_OK && s->m->values) {
        st = whole_page(s, cr, pg, &done, err);
    }
    if (st != ARD_OK || done) {
        return st;
    }
    st = lazy_values(s, cr, pg, &src, &avail, err);
    if (st == ARD_OK && pg->staged) {
        st = staged_values(s, cr, pg, &src, err);
    }
    ard__levels rs, ds;
    ard__levels_init(&rs, pg->rep_data, pg->rep_len, ard__bit_width((uint64_t)cr->max_rep));
    ard__levels_init(&ds, pg->def_data, pg->def_len, ard__bit_width((uint64_t)cr->max_def));
    for (int64_t off = 0; st == ARD_OK && off < pg->num_levels;) {
        int64_t m = s->m->values ? LEVEL_WINDOW : pg->num_levels;
        m = pg->num_levels - off < m ? pg->num_levels - off : m;
        ard__page wp = {.header_offset = pg->header_offset, .encoding = pg->encoding};
        st = window_levels(s, cr, &rs, &ds, m, &wp, err);
        if (st == ARD_OK && off == 0 && pg->must_start_record && wp.rep[0] != 0) {
            st = ard_error_set(err, ARD_ECORRUPT,
                               "%s: page at byte %lld: first repetition level "
                               "is %d, must be 0 (a page must start a record)",
                               cr->what, (long long)pg->header_offset, wp.rep[0]);
        }
        if (st == ARD_OK && wp.num_values > avail - vi) {
            st = ard_error_set(err, ARD_ECORRUPT,
                               "%s: page at byte %lld: %lld values present, the "
                               "page holds %lld",
                               cr->what, (long long)pg->header_offset,
                               (long long)(vi + wp.num_values), (long long)avail);
        }
        if (st == ARD_OK && !s->m->values) {
            int64_t width = first_width(s, &wp, rows);
            s->width_unknown = width < 0;
            st = width < 0 ? ARD_EAGAIN_WIDTH : allocate(s, cr, rows, width, err);
        }
        int contiguous = wp.min_def >= s->d_elem && s->m->width > 0;
        if (st == ARD_OK && !src && !(contiguous && wp.num_values == m)) {
            /* a window with nulls in a deferred page: the page's values come into memory */
            st = flush_reads(s, cr, err);
            st = st == ARD_OK ? ard__chunk_page_values(cr, pg, err) : st;
            src = (const float *)(const void *)pg->values;
        }
        s->defer_at = src ? -1 : pg->values_offset + vi * (int64_t)sizeof(float);
        if (st == ARD_OK) {
            st = contiguous ? contiguous_page(s, cr, &wp, src ? src + vi : NULL, err)
                            : scatter_page(s, cr, &wp, src + vi, err);
        }
        vi += wp.num_values;
        off += m;
    }
    s->defer_at = -1;
    ard_status read_st = flush_reads(s, cr, err);
    return st == ARD_OK ? read_st : st;
}

/* The list's def thresholds from the schema: the repeated ancestor and its parent. */
static ard_status list_levels(matrix_state *s, ard__chunk_reader *cr, ard_error *err) {
    const ard_pq_metadata *md = &cr->file->metadata;
    if (cr->leaf->type != ARD_PQ_FLOAT || cr->max_rep != 1) {
        return ard_error_set(err, ARD_EINVAL, "%s: not a list<float> column", cr->what);
    }
    int32_t n = md->leaves[cr->leaf_index];
    while (n > 0 && md->nodes[n].repetition != ARD_PQ_REPEATED) {
        n = md->nodes[n].parent;
    }
    s->d_elem = md->nodes[n].max_def;
    s->d_list = (int16_t)(s->d_elem - 1);
    return ARD_OK;
}

static ard_status walk(matrix_state *s, ard__chunk_reader *cr, int64_t rows, ard_error *err) {
    ard_status st;
    ard__page pg;
    while ((st = ard__chunk_next_page(cr, &pg, err)) == ARD_OK) {
        if (pg.num_levels == 0) {
            continue;
        }
        if (pg.lazy) {
            if ((st = lazy_page(s, cr, &pg, rows, err)) != ARD_OK) {
                return st;
            }
            continue;
        }
        if (!s->m->values) {
            int64_t w = first_width(s, &pg, rows);
            if (w < 0) {
                s->width_unknown = 1;
                return ARD_EAGAIN_WIDTH;
            }
            if ((st = allocate(s, cr, rows, w, err)) != ARD_OK) {
                return st;
            }
        }
        int contiguous = pg.min_def >= s->d_elem && s->m->width > 0;
        st = contiguous ? contiguous_page(s, cr, &pg, NULL, err)
                        : scatter_page(s, cr, &pg, NULL, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    if (st != ARD_EEOF) {
        return st;
    }
    if (!s->m->values && (st = allocate(s, cr, rows, 0, err)) != ARD_OK) {
        return st;
    }
    if (rows > 0 && (s->row != rows - 1 || s->col != s->m->width)) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: pages end at row %lld of %lld", cr->what,
                             (long long)s->row + 1, (long long)rows);
    }
    return ARD_OK;
}

/* The generic path for row groups whose first page does not show the width: decode levels and
 * values of the whole chunk, take the width from the first record with elements, then scatter. */
static ard_status matrix_from_column(const ard_parquet_file *file, int32_t row_group, int32_t leaf,
                                     matrix_state *s, ard__chunk_reader *cr, ard_error *err) {
    ard_pq_column_data col;
    ard_status st = ard_parquet_read_column(file, row_group, leaf, &col, err);
    if (st != ARD_OK) {
        return st;
    }
    int64_t width = 0, count = 0;
    for (int64_t i = 0; i < col.num_levels && width == 0; i++) {
        if (i > 0 && col.rep_levels[i] == 0) {
            width = count;
            count = 0;
        }
        count += col.def_levels[i] >= s->d_elem;
    }
    width = width ? width : count;
    s->row = -1;
    s->col = 0;
    st = allocate(s, cr, col.num_rows, width, err);
    int64_t vi = 0;
    for (int64_t i = 0; st == ARD_OK && i < col.num_levels; i++) {
        st = scatter_one(s, cr, col.rep_levels[i], col.def_levels[i], col.values, &vi, err);
    }
    if (st == ARD_OK && col.num_rows > 0 && s->col != s->m->width) {
        st = width_mismatch(cr, s->row, s->col, s->m->width, err);
    }
    ard_pq_column_data_reset(&col);
    return st;
}

static ard_status read_matrix(const ard_parquet_file *file, int32_t row_group, int32_t leaf,
                              matrix_state *s, ard_error *err) {
    ard__chunk_reader cr;
    ard_status st = ard__chunk_open(&cr, file, row_group, leaf, err);
    cr.lazy_levels = 1;
    cr.defer_values = 1;
    cr.stage_values = 1;
    if (st == ARD_OK) {
        st = list_levels(s, &cr, err);
    }
    if (st == ARD_OK) {
        st = walk(s, &cr, file->metadata.row_groups[row_group].num_rows, err);
    }
    if (st == ARD_EAGAIN_WIDTH && s->width_unknown) {
        st = matrix_from_column(file, row_group, leaf, s, &cr, err);
    }
    ard_free(s->tmp);
    ard_free(s->wdef);
    ard_free(s->wrep);
    st = ard__chunk_finish(&cr, st, err);
    ard__chunk_close(&cr);
    return st;
}

ard_status ard_parquet_read_f32_matrix(const ard_parquet_file *file, int32_t row_group,
                                       int32_t leaf, ard_pq_f32_matrix *out, ard_error *err) {
    memset(out, 0, sizeof *out);
    matrix_state s = {.m = out, .row = -1, .defer_at = -1};
    ard_status st = read_matrix(file, row_group, leaf, &s, err);
    if (st != ARD_OK) {
        ard_pq_matrix_reset(out);
    }
    return st;
}

ard_status ard_parquet_read_f32_matrix_into(const ard_parquet_file *file, int32_t row_group,
                                            int32_t leaf, float *values, int64_t capacity,
                                            uint8_t *validity, int64_t *rows_out,
                                            int64_t *width_out, int32_t *has_nulls,
                                            ard_error *err) {
    ard_pq_f32_matrix m;
    memset(&m, 0, sizeof m);
    if (!values || capacity < 0) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_read_f32_matrix_into: no buffer");
    }
    matrix_state s = {.m = &m,
                      .row = -1,
                      .dst = values,
                      .dst_validity = validity,
                      .dst_capacity = capacity,
                      .defer_at = -1};
    ard_status st = read_matrix(file, row_group, leaf, &s, err);
    if (m.validity && m.validity != validity) {
        ard_free(m.validity); /* nulls without a caller bitmap: reported through has_nulls only */
    }
    *rows_out = st == ARD_OK ? m.rows : 0;
    *width_out = st == ARD_OK ? m.width : 0;
    *has_nulls = st == ARD_OK && s.any_null;
    return st;
}

uint64_t ard__pq_staged_in_place(void) {
    return atomic_load(&ard__staged_in_place);
}

uint64_t ard__pq_whole_pages(void) {
    return atomic_load(&ard__whole_pages);
}

void ard_pq_matrix_reset(ard_pq_f32_matrix *m) {
    if (!m) {
        return;
    }
    ard_free(m->values);
    ard_free(m->validity);
    ard_free(m->row_validity);
    memset(m, 0, sizeof *m);
}
