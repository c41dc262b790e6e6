/* The spectra fast path: a list<float> column whose lists all have one length, decoded page by page
 * straight into a contiguous rows x width float32 matrix. A clean page (no null element, no null or empty
 * list) is decoded in one call directly into its place in the matrix and only its repetition levels are
 * checked; other pages are scattered level by level. Memory: the stored chunk, one decoded page, levels
 * of one page, and the output. */
#include "column_int.h"

#include <math.h>
#include <string.h>

typedef struct matrix_state {
    ard_pq_f32_matrix *m;
    int64_t row, col;         /* current row (-1 before the first) and element within it */
    int16_t d_elem;           /* def level at which a list element exists (the repeated node) */
    int16_t d_list;           /* def level at which the list itself is non-null */
    float *tmp;               /* dense values of a page that needs scattering */
    size_t tmp_cap;
} matrix_state;

static ard_status width_mismatch(ard__chunk_reader *cr, int64_t row, int64_t len, int64_t width,
                                 ard_error *err) {
    return ard_error_set(err, ARD_EINVAL, "%s: row %lld has a list of %lld elements, not %lld: not "
                         "a fixed-width list column", cr->what, (long long)row, (long long)len,
                         (long long)width);
}

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
    if (width < 0 || (rows > 0 && (uint64_t)width > (uint64_t)cr->memory_cap / 4 / (uint64_t)rows)) {
        return ard_error_set(err, ARD_ELIMIT, "%s: %lld x %lld matrix exceeds the memory cap",
                             cr->what, (long long)rows, (long long)width);
    }
    m->rows = rows;
    m->width = width;
    m->values = ard_malloc((size_t)(rows * width) * sizeof(float) + 1);
    return m->values ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
}

/* A page whose levels are all "value present": values land contiguously at (row, col). */
static ard_status clean_page(matrix_state *s, ard__chunk_reader *cr, const ard__page *pg,
                             ard_error *err) {
    ard_pq_f32_matrix *m = s->m;
    int64_t w = m->width;
    int64_t start = s->row < 0 ? 0 : s->row * w + s->col;
    if (pg->rep[0] == 0 && s->row >= 0 && s->col != w) {
        return width_mismatch(cr, s->row, s->col, w, err);
    }
    if (pg->rep[0] == 0) {
        start = (s->row + 1) * w;
    }
    if (w == 0 || start + pg->num_levels > m->rows * w) {
        return width_mismatch(cr, s->row + 1, pg->num_levels, w, err);
    }
    const int16_t *rep = pg->rep;
    for (int64_t k = 0, pos = start % w; k < pg->num_levels; k++) {
        if ((rep[k] == 0) != (pos == 0)) {
            return width_mismatch(cr, (start + k) / w, pos ? pos : w, w, err);
        }
        pos = pos + 1 == w ? 0 : pos + 1;
    }
    ard_status st = ard__decode_fixed(cr, pg, (uint8_t *)(m->values + start), err);
    int64_t end = start + pg->num_levels;
    s->row = (end - 1) / w;
    s->col = end - s->row * w;
    return st;
}

static ard_status null_list(matrix_state *s, ard__chunk_reader *cr, ard_error *err) {
    ard_pq_f32_matrix *m = s->m;
    if (set_all_ones(&m->row_validity, m->rows) != 0 ||
        set_all_ones(&m->validity, m->rows * m->width) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    clear_bit(m->row_validity, s->row);
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
        return def < s->d_list ? null_list(s, cr, err)
                               : (m->width == 0 ? ARD_OK : width_mismatch(cr, s->row, 0, m->width, err));
    }
    if (s->col >= m->width) {
        return width_mismatch(cr, s->row, s->col + 1, m->width, err);
    }
    int64_t at = s->row * m->width + s->col++;
    if (def == cr->max_def) {
        m->values[at] = vals[(*vi)++];
        return ARD_OK;
    }
    if (set_all_ones(&m->validity, m->rows * m->width) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    m->values[at] = NAN;
    clear_bit(m->validity, at);
    return ARD_OK;
}

static ard_status scatter_page(matrix_state *s, ard__chunk_reader *cr, const ard__page *pg,
                               ard_error *err) {
    if (ard__grow((void **)&s->tmp, &s->tmp_cap, (size_t)pg->num_values * sizeof(float) + 4) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", cr->what);
    }
    ard_status st = ard__decode_fixed(cr, pg, (uint8_t *)s->tmp, err);
    int64_t vi = 0;
    for (int64_t i = 0; st == ARD_OK && i < pg->num_levels; i++) {
        st = scatter_one(s, cr, pg->rep[i], pg->def ? pg->def[i] : cr->max_def, s->tmp, &vi, err);
    }
    return st;
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
        if (!s->m->values) {
            int64_t w = first_width(s, &pg, rows);
            if (w < 0) {
                return ard_error_set(err, ARD_EINVAL, "%s: first page does not show the list width",
                                     cr->what);
            }
            if ((st = allocate(s, cr, rows, w, err)) != ARD_OK) {
                return st;
            }
        }
        int clean = pg.num_values == pg.num_levels && s->m->width > 0;
        st = clean ? clean_page(s, cr, &pg, err) : scatter_page(s, cr, &pg, err);
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

ard_status ard_parquet_read_f32_matrix(const ard_parquet_file *file, int32_t row_group,
                                       int32_t leaf, ard_pq_f32_matrix *out, ard_error *err) {
    memset(out, 0, sizeof *out);
    ard__chunk_reader cr;
    matrix_state s = {.m = out, .row = -1};
    ard_status st = ard__chunk_open(&cr, file, row_group, leaf, err);
    if (st == ARD_OK) {
        st = list_levels(&s, &cr, err);
    }
    if (st == ARD_OK) {
        st = walk(&s, &cr, file->metadata.row_groups[row_group].num_rows, err);
    }
    ard_free(s.tmp);
    ard__chunk_close(&cr);
    if (st != ARD_OK) {
        ard_pq_matrix_reset(out);
    }
    return st;
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
