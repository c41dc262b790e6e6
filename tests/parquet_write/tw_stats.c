/* Writer test: statistics recomputed from the model (min/max under each kind's order, NaN excluded,
 * signed-zero rule, null and NaN counts) and compared with the chunk Statistics and with the
 * ColumnIndex of every page (page row ranges taken from the OffsetIndex). */
#include "tw_util.h"

#include "../../src/parquet/writer_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct expect {
    int64_t nulls, nans, values;
    int has;
    uint8_t min[8192], max[8192];
    size_t min_len, max_len;
} expect;

static int is_float(tw_kind k) {
    return k == TW_F32 || k == TW_F64 || k == TW_LF32 || k == TW_LF64;
}

static int no_order(tw_kind k) {
    return k == TW_I96;
}

static int cmp_kind(tw_kind k, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    if (k == TW_STR || k == TW_FLBA || k == TW_LSTR) {
        size_t n = an < bn ? an : bn;
        int c = n ? memcmp(a, b, n) : 0;
        return c ? (c < 0 ? -1 : 1) : (an > bn) - (an < bn);
    }
    if (k == TW_F32 || k == TW_LF32) {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    if (k == TW_F64 || k == TW_LF64) {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    if (k == TW_U8 || k == TW_U16 || k == TW_U32 || k == TW_LU8 || k == TW_U64) {
        uint64_t x = 0, y = 0;
        memcpy(&x, a, an);
        memcpy(&y, b, bn);
        return (x > y) - (x < y);
    }
    int64_t x, y;
    if (an == 4) {
        int32_t x32, y32;
        memcpy(&x32, a, 4);
        memcpy(&y32, b, 4);
        x = x32;
        y = y32;
    } else if (an == 1) {
        x = a[0];
        y = b[0];
    } else {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
    }
    return (x > y) - (x < y);
}

static int value_is_nan(tw_kind k, const uint8_t *v) {
    if (k == TW_F32 || k == TW_LF32) {
        float f;
        memcpy(&f, v, 4);
        return isnan(f);
    }
    if (k == TW_F64 || k == TW_LF64) {
        double d;
        memcpy(&d, v, 8);
        return isnan(d);
    }
    return 0;
}

static void add_value(expect *x, const tw_col *c, int64_t e) {
    uint8_t v[8192];
    size_t n = tw_stored_value(c, e, v);
    x->values++;
    if (value_is_nan(c->kind, v)) {
        x->nans++;
        return;
    }
    if (!x->has || cmp_kind(c->kind, v, n, x->min, x->min_len) < 0) {
        memcpy(x->min, v, n);
        x->min_len = n;
    }
    if (!x->has || cmp_kind(c->kind, v, n, x->max, x->max_len) > 0) {
        memcpy(x->max, v, n);
        x->max_len = n;
    }
    x->has = 1;
}

static void expect_rows(const tw_col *c, int64_t r0, int64_t r1, expect *x) {
    memset(x, 0, offsetof(expect, min));
    x->min_len = x->max_len = 0;
    for (int64_t r = r0; r < r1; r++) {
        if (!c->valid[r]) {
            x->nulls++;
        } else if (!c->is_list) {
            add_value(x, c, r);
        } else if (c->offs[r + 1] == c->offs[r]) {
            x->nulls++; /* an empty list is a level without a value */
        }
        for (int64_t e = c->offs && c->is_list && c->valid[r] ? c->offs[r] : 0;
             c->is_list && c->valid[r] && e < c->offs[r + 1]; e++) {
            if (c->evalid[e]) {
                add_value(x, c, e);
            } else {
                x->nulls++;
            }
        }
    }
    /* the -0.0/+0.0 rule: a zero min is written as -0.0, a zero max as +0.0 */
    if (x->has && is_float(c->kind)) {
        int f32 = c->kind == TW_F32 || c->kind == TW_LF32;
        double lo, hi;
        float f;
        if (f32) {
            memcpy(&f, x->min, 4), lo = f;
            memcpy(&f, x->max, 4), hi = f;
        } else {
            memcpy(&lo, x->min, 8);
            memcpy(&hi, x->max, 8);
        }
        if (lo == 0.0) {
            f = -0.0f, lo = -0.0;
            memcpy(x->min, f32 ? (void *)&f : (void *)&lo, x->min_len);
        }
        if (hi == 0.0) {
            f = 0.0f, hi = 0.0;
            memcpy(x->max, f32 ? (void *)&f : (void *)&hi, x->max_len);
        }
    }
}

/* Long string bounds are written truncated: min to a prefix, max to a prefix whose last byte below
 * 0xFF is incremented. Returns how many of the two were cut. */
static int expect_cut(const tw_col *c, expect *x, size_t limit) {
    int cut = 0;
    if (!x->has || (c->kind != TW_STR && c->kind != TW_LSTR)) {
        return 0;
    }
    if (x->min_len > limit) {
        x->min_len = limit;
        cut++;
    }
    if (x->max_len > limit) {
        size_t n = limit;
        while (n > 0 && x->max[n - 1] == 0xFF) {
            n--;
        }
        if (n > 0) {
            x->max_len = n;
            x->max[n - 1]++;
            cut++;
        }
    }
    return cut;
}

static int check_bound(const tw_col *c, const char *what, const uint8_t *got, size_t got_len,
                       const uint8_t *want, size_t want_len) {
    if (got_len == want_len && (want_len == 0 || memcmp(got, want, want_len) == 0)) {
        return 0;
    }
    fprintf(stderr, "column %s (kind %d): %s differs (%zu vs %zu bytes)\n", c->name, (int)c->kind,
            what, got_len, want_len);
    return -1;
}

static int check_chunk_stats(const tw_col *c, const ard_pq_stats *s, const expect *x) {
    if (!s->present || !s->has_null_count || s->null_count != x->nulls) {
        fprintf(stderr, "column %s: null_count %lld, expected %lld\n", c->name,
                (long long)s->null_count, (long long)x->nulls);
        return -1;
    }
    if (is_float(c->kind) && (!s->has_nan_count || s->nan_count != x->nans)) {
        fprintf(stderr, "column %s: nan_count %lld, expected %lld\n", c->name,
                (long long)s->nan_count, (long long)x->nans);
        return -1;
    }
    int want = x->has && !no_order(c->kind);
    if (s->has_min_value != want || s->has_max_value != want) {
        fprintf(stderr, "column %s: min/max presence %d, expected %d\n", c->name, s->has_min_value,
                want);
        return -1;
    }
    if (!want) {
        return 0;
    }
    if (check_bound(c, "min_value", s->min_value, s->min_value_len, x->min, x->min_len) != 0) {
        return -1;
    }
    return check_bound(c, "max_value", s->max_value, s->max_value_len, x->max, x->max_len);
}

static int check_column_index(const tw_col *c, const ard_mapped_file *mf,
                              const ard_pq_column_chunk *cc, int64_t row0, int64_t rows) {
    ard__arena arena;
    ard__arena_init(&arena, 0);
    ard__pq_offset_index oi;
    ard__pq_column_index ci;
    int rc = -1;
    if (!cc->has_offset_index ||
        ard__pq_decode_offset_index(mf->data + cc->offset_index_offset,
                                    (size_t)cc->offset_index_length, cc->offset_index_offset,
                                    c->name, &arena, &oi, NULL) != ARD_OK) {
        fprintf(stderr, "column %s: no or bad OffsetIndex\n", c->name);
        goto done;
    }
    if (!cc->has_column_index) {
        rc = (is_float(c->kind) || no_order(c->kind)) ? 0 : -1; /* all-NaN pages / INT96 */
        if (rc) {
            fprintf(stderr, "column %s: no ColumnIndex\n", c->name);
        }
        goto done;
    }
    if (ard__pq_decode_column_index(mf->data + cc->column_index_offset,
                                    (size_t)cc->column_index_length, cc->column_index_offset,
                                    c->name, &arena, &ci, NULL) != ARD_OK ||
        ci.num_pages != oi.num_pages || !ci.has_null_counts) {
        fprintf(stderr, "column %s: bad ColumnIndex\n", c->name);
        goto done;
    }
    rc = 0;
    expect *x = malloc(sizeof *x);
    for (int32_t p = 0; rc == 0 && p < oi.num_pages; p++) {
        int64_t a = oi.pages[p].first_row_index;
        int64_t b = p + 1 < oi.num_pages ? oi.pages[p + 1].first_row_index : rows;
        expect_rows(c, row0 + a, row0 + b, x);
        expect_cut(c, x, 64);
        if (ci.null_counts[p] != x->nulls || ci.null_pages[p] != (x->values == 0)) {
            fprintf(stderr, "column %s page %d: null count/page differs\n", c->name, p);
            rc = -1;
        } else if (x->has) {
            rc = check_bound(c, "page min", ci.min_values[p], ci.min_lens[p], x->min, x->min_len);
            rc = rc ? rc
                    : check_bound(c, "page max", ci.max_values[p], ci.max_lens[p], x->max,
                                  x->max_len);
        }
    }
    free(x);
done:
    ard__arena_reset(&arena);
    return rc;
}

int tw_check_stats(const tw_table *t, const char *path, int expect_page_index) {
    ard_parquet_file *f = NULL;
    ard_mapped_file mf;
    if (ard_parquet_open(path, NULL, &f, NULL) != ARD_OK) {
        return -1;
    }
    if (ard_file_map(path, &mf, NULL) != ARD_OK) {
        ard_parquet_close(f);
        return -1;
    }
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    expect *x = malloc(sizeof *x);
    int rc = 0;
    int64_t row0 = 0;
    for (int32_t r = 0; rc == 0 && r < md->num_row_groups; r++) {
        const ard_pq_row_group *rg = &md->row_groups[r];
        for (int i = 0; rc == 0 && i < t->num_cols; i++) {
            expect_rows(&t->cols[i], row0, row0 + rg->num_rows, x);
            int cut = expect_cut(&t->cols[i], x, 4096);
            const ard_pq_stats *st = &rg->columns[i].stats;
            rc = check_chunk_stats(&t->cols[i], st, x);
            if (rc == 0 && x->has && t->cols[i].kind != TW_I96 &&
                st->is_min_value_exact + st->is_max_value_exact != 2 - cut) {
                fprintf(stderr, "column %s: exactness flags %d %d, %d bounds cut\n",
                        t->cols[i].name, st->is_min_value_exact, st->is_max_value_exact, cut);
                rc = -1;
            }
            if (rc == 0 && expect_page_index) {
                rc = check_column_index(&t->cols[i], &mf, &rg->columns[i], row0, rg->num_rows);
            }
        }
        row0 += rg->num_rows;
    }
    free(x);
    ard_file_unmap(&mf);
    ard_parquet_close(f);
    return rc;
}
