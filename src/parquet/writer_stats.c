/* Parquet writer statistics: min/max under each column's sort order (signed and unsigned integers,
 * floats without NaN and with the -0.0/+0.0 rule, unsigned byte-wise strings), null and NaN counts,
 * the encoded bounds, and the Thrift Statistics struct written in page headers and column chunks.
 */
#include "writer_int.h"

#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void ard__pqw_stats_init(ard__pqw_stats *s) {
    memset(s, 0, sizeof *s);
}

void ard__pqw_stats_reset(ard__pqw_stats *s) {
    ard_buf_reset(&s->bmin);
    ard_buf_reset(&s->bmax);
    memset(s, 0, sizeof *s);
}

void ard__pqw_stats_clear(ard__pqw_stats *s) {
    ard_buf bmin = s->bmin, bmax = s->bmax;
    memset(s, 0, sizeof *s);
    bmin.len = 0;
    bmax.len = 0;
    s->bmin = bmin;
    s->bmax = bmax;
}

/* Folds the NaN count and the extremes of `count` FLOAT or DOUBLE values (lo/hi over the non-NaN
 * ones; a float is exact as a double) into s; num_values is counted by the caller. */
static void fold_float(ard__pqw_stats *s, int64_t count, int64_t nans, double lo, double hi) {
    s->nan_count += nans;
    if (nans == count) {
        return;
    }
    if (!s->has_minmax || lo < s->dmin) {
        s->dmin = lo;
    }
    if (!s->has_minmax || hi > s->dmax) {
        s->dmax = hi;
    }
    s->has_minmax = 1;
}

void ard__pqw_stats_fold_f32(ard__pqw_stats *s, int64_t count, int64_t nans, float lo, float hi) {
    s->num_values += count;
    fold_float(s, count, nans, lo, hi);
}

static void update_f32(ard__pqw_stats *s, const uint8_t *values, int64_t count) {
    float lo = INFINITY, hi = -INFINITY;
    int64_t i = 0, nans = 0;
#if defined(__SSE2__)
    /* minps(v, lo) is exactly `v < lo ? v : lo` (lo when v is NaN), maxps likewise; which of
     * -0.0 / +0.0 a lane keeps does not matter (zero bounds are written as -0.0 / +0.0). */
    __m128 lo4 = _mm_set1_ps(INFINITY), hi4 = _mm_set1_ps(-INFINITY);
    while (i + 4 <= count) {
        __m128i nan4 = _mm_setzero_si128(); /* per-lane counts, bounded by the block */
        int64_t end = count - i > ((int64_t)1 << 30) ? i + ((int64_t)1 << 30) : count;
        for (; i + 4 <= end; i += 4) {
            __m128 v = _mm_loadu_ps((const float *)(const void *)(values + 4 * i));
            lo4 = _mm_min_ps(v, lo4);
            hi4 = _mm_max_ps(v, hi4);
            nan4 = _mm_sub_epi32(nan4, _mm_castps_si128(_mm_cmpunord_ps(v, v)));
        }
        int32_t n4[4];
        _mm_storeu_si128((__m128i *)(void *)n4, nan4);
        nans += (int64_t)n4[0] + n4[1] + n4[2] + n4[3];
    }
    float l4[4], h4[4];
    _mm_storeu_ps(l4, lo4);
    _mm_storeu_ps(h4, hi4);
    for (int k = 0; k < 4; k++) {
        lo = l4[k] < lo ? l4[k] : lo;
        hi = h4[k] > hi ? h4[k] : hi;
    }
#endif
    for (; i < count; i++) {
        float v;
        memcpy(&v, values + 4 * i, 4);
        nans += isnan(v) != 0;
        lo = v < lo ? v : lo; /* false for NaN */
        hi = v > hi ? v : hi;
    }
    fold_float(s, count, nans, lo, hi);
}

static void update_f64(ard__pqw_stats *s, const uint8_t *values, int64_t count) {
    double lo = INFINITY, hi = -INFINITY;
    int64_t nans = 0;
    for (int64_t i = 0; i < count; i++) {
        double v;
        memcpy(&v, values + 8 * i, 8);
        nans += isnan(v) != 0;
        lo = v < lo ? v : lo; /* false for NaN: no branch, so the loop vectorises */
        hi = v > hi ? v : hi;
    }
    fold_float(s, count, nans, lo, hi);
}

/* Signed (or unsigned when `uns`) integer extremes of `count` values `width` bytes wide. */
static void update_int(ard__pqw_stats *s, const uint8_t *values, int64_t count, int width,
                       int uns) {
    int64_t lo = 0, hi = 0, generic = count;
    /* 4-byte values branch-free, so the loop vectorises; unsigned ones (a MASK's uint8 widened)
     * compare in the signed order once their top bit is flipped (SSE2 has signed compares only). */
    if (width == 4 && count > 0) {
        uint32_t flip = uns ? 0x80000000u : 0u;
        uint32_t first;
        memcpy(&first, values, 4);
        int32_t lo32 = (int32_t)(first ^ flip), hi32 = lo32;
        for (int64_t i = 1; i < count; i++) {
            uint32_t u;
            memcpy(&u, values + 4 * i, 4);
            int32_t v = (int32_t)(u ^ flip);
            lo32 = v < lo32 ? v : lo32;
            hi32 = v > hi32 ? v : hi32;
        }
        lo = uns ? (int64_t)((uint32_t)lo32 ^ flip) : lo32;
        hi = uns ? (int64_t)((uint32_t)hi32 ^ flip) : hi32;
        generic = 0;
    }
    for (int64_t i = 0; i < generic; i++) {
        int64_t v;
        if (width == 4) {
            int32_t v32;
            memcpy(&v32, values + 4 * i, 4);
            v = uns ? (int64_t)(uint32_t)v32 : v32;
        } else if (width == 8) {
            memcpy(&v, values + 8 * i, 8);
        } else {
            v = values[i] != 0;
        }
        int less = uns && width == 8 ? (uint64_t)v < (uint64_t)lo : v < lo;
        int more = uns && width == 8 ? (uint64_t)v > (uint64_t)hi : v > hi;
        if (i == 0 || less) {
            lo = v;
        }
        if (i == 0 || more) {
            hi = v;
        }
    }
    if (count == 0) {
        return;
    }
    int u64 = uns && width == 8;
    if (!s->has_minmax || (u64 ? (uint64_t)lo < (uint64_t)s->imin : lo < s->imin)) {
        s->imin = lo;
    }
    if (!s->has_minmax || (u64 ? (uint64_t)hi > (uint64_t)s->imax : hi > s->imax)) {
        s->imax = hi;
    }
    s->has_minmax = 1;
}

static int bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) {
        return c;
    }
    return alen < blen ? -1 : alen > blen;
}

static void set_buf(ard_buf *b, const uint8_t *data, size_t len) {
    b->len = 0;
    ard_buf_reserve(b, len + 1); /* never zero-sized: keeps data non-NULL */
    ard_buf_append(b, data, len);
}

static void update_bytes(ard__pqw_stats *s, const uint8_t *values, int64_t count, size_t nbytes,
                         int width) {
    const uint8_t *lo = NULL, *hi = NULL;
    size_t lo_len = 0, hi_len = 0, pos = 0;
    for (int64_t i = 0; i < count; i++) {
        uint32_t len = (uint32_t)width;
        if (width == 0) {
            memcpy(&len, values + pos, 4);
            pos += 4;
        }
        const uint8_t *v = values + pos;
        pos += len;
        if (!lo || bytes_cmp(v, len, lo, lo_len) < 0) {
            lo = v;
            lo_len = len;
        }
        if (!hi || bytes_cmp(v, len, hi, hi_len) > 0) {
            hi = v;
            hi_len = len;
        }
    }
    (void)nbytes;
    if (!lo) {
        return;
    }
    if (!s->has_minmax || bytes_cmp(lo, lo_len, s->bmin.data, s->bmin.len) < 0) {
        set_buf(&s->bmin, lo, lo_len);
    }
    if (!s->has_minmax || bytes_cmp(hi, hi_len, s->bmax.data, s->bmax.len) > 0) {
        set_buf(&s->bmax, hi, hi_len);
    }
    s->has_minmax = 1;
}

void ard__pqw_stats_update(ard__pqw_stats *s, ard__sort_kind kind, const uint8_t *values,
                           int64_t count, size_t nbytes, int32_t width) {
    s->num_values += count;
    switch (kind) {
    case ARD__SORT_F32:
        update_f32(s, values, count);
        break;
    case ARD__SORT_F64:
        update_f64(s, values, count);
        break;
    case ARD__SORT_BOOL:
        update_int(s, values, count, 1, 0);
        break;
    case ARD__SORT_I32:
        update_int(s, values, count, 4, 0);
        break;
    case ARD__SORT_U32:
        update_int(s, values, count, 4, 1);
        break;
    case ARD__SORT_I64:
        update_int(s, values, count, 8, 0);
        break;
    case ARD__SORT_U64:
        update_int(s, values, count, 8, 1);
        break;
    case ARD__SORT_BYTES:
        update_bytes(s, values, count, nbytes, width);
        break;
    default:
        break;
    }
}

/* Points *p at the PLAIN bytes of min (is_max 0) or max; tmp holds numeric encodings. */
static size_t bound_bytes(const ard__pqw_stats *s, ard__sort_kind kind, int is_max, uint8_t tmp[8],
                          const uint8_t **p) {
    int64_t iv = is_max ? s->imax : s->imin;
    double dv = is_max ? s->dmax : s->dmin;
    *p = tmp;
    switch (kind) {
    case ARD__SORT_BOOL:
        tmp[0] = (uint8_t)iv;
        return 1;
    case ARD__SORT_I32:
    case ARD__SORT_U32: {
        uint32_t u = (uint32_t)iv;
        memcpy(tmp, &u, 4);
        return 4;
    }
    case ARD__SORT_I64:
    case ARD__SORT_U64:
        memcpy(tmp, &iv, 8);
        return 8;
    case ARD__SORT_F32: {
        float f = (float)dv;
        if (f == 0.0f) {
            f = is_max ? 0.0f : -0.0f; /* a zero bound covers both signed zeros */
        }
        memcpy(tmp, &f, 4);
        return 4;
    }
    case ARD__SORT_F64:
        if (dv == 0.0) {
            dv = is_max ? 0.0 : -0.0;
        }
        memcpy(tmp, &dv, 8);
        return 8;
    case ARD__SORT_BYTES:
        *p = is_max ? s->bmax.data : s->bmin.data;
        return is_max ? s->bmax.len : s->bmin.len;
    default:
        return 0;
    }
}

void ard__pqw_stats_encode_bound(const ard__pqw_stats *s, ard__sort_kind kind, int32_t width,
                                 int is_max, ard_buf *out) {
    uint8_t tmp[8];
    const uint8_t *p;
    size_t n = bound_bytes(s, kind, is_max, tmp, &p);
    (void)width;
    out->len = 0;
    ard_buf_append(out, p, n);
}

void ard__pqw_stats_merge(ard__pqw_stats *dst, const ard__pqw_stats *src, ard__sort_kind kind) {
    dst->null_count += src->null_count;
    dst->nan_count += src->nan_count;
    if (!src->has_minmax) {
        dst->num_values += src->num_values;
        return;
    }
    uint8_t tmp[2][8];
    const uint8_t *lo, *hi;
    size_t lo_len = bound_bytes(src, kind, 0, tmp[0], &lo);
    size_t hi_len = bound_bytes(src, kind, 1, tmp[1], &hi);
    int64_t num = dst->num_values + src->num_values;
    if (kind == ARD__SORT_BYTES) {
        if (!dst->has_minmax || bytes_cmp(lo, lo_len, dst->bmin.data, dst->bmin.len) < 0) {
            set_buf(&dst->bmin, lo, lo_len);
        }
        if (!dst->has_minmax || bytes_cmp(hi, hi_len, dst->bmax.data, dst->bmax.len) > 0) {
            set_buf(&dst->bmax, hi, hi_len);
        }
        dst->has_minmax = 1;
    } else {
        int64_t nan_before = dst->nan_count;
        ard__pqw_stats_update(dst, kind, lo, 1, lo_len, (int)lo_len);
        ard__pqw_stats_update(dst, kind, hi, 1, hi_len, (int)hi_len);
        dst->nan_count = nan_before;
    }
    dst->num_values = num;
}

static int64_t load_int(const uint8_t *p, size_t len) {
    if (len == 4) {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    int64_t v = 0;
    memcpy(&v, p, len < 8 ? len : 8);
    return v;
}

int ard__pqw_bound_cmp(ard__sort_kind kind, const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen) {
    switch (kind) {
    case ARD__SORT_F32: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case ARD__SORT_F64: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case ARD__SORT_U32:
    case ARD__SORT_U64: {
        uint64_t x = (uint64_t)load_int(a, alen), y = (uint64_t)load_int(b, blen);
        if (alen == 4) {
            x &= 0xffffffffu;
            y &= 0xffffffffu;
        }
        return (x > y) - (x < y);
    }
    case ARD__SORT_BYTES:
        return bytes_cmp(a, alen, b, blen);
    default: {
        int64_t x = load_int(a, alen), y = load_int(b, blen);
        return (x > y) - (x < y);
    }
    }
}

int ard__pqw_truncate_bound(const uint8_t *v, size_t len, size_t limit, int is_max, ard_buf *out) {
    out->len = 0;
    if (len <= limit) {
        ard_buf_append(out, v, len);
        return 0;
    }
    if (!is_max) {
        ard_buf_append(out, v, limit); /* a prefix sorts before the value */
        return 1;
    }
    size_t n = limit;
    while (n > 0 && v[n - 1] == 0xFF) {
        n--;
    }
    if (n == 0) {
        ard_buf_append(out, v, len); /* cannot be shortened */
        return 0;
    }
    ard_buf_append(out, v, n);
    if (out->len == n) {
        out->data[n - 1]++; /* the incremented prefix sorts after every value it starts */
    }
    return 1;
}

static int signed_order(ard__sort_kind kind) {
    return kind == ARD__SORT_BOOL || kind == ARD__SORT_I32 || kind == ARD__SORT_I64 ||
           kind == ARD__SORT_F32 || kind == ARD__SORT_F64;
}

void ard__pqw_stats_write(ard__tw *t, int16_t field_id, const ard__pqw_stats *s,
                          const ard__pqw_column *c, int with_minmax) {
    ard__sort_kind kind = c->sort_kind;
    int minmax = with_minmax && s->has_minmax && kind != ARD__SORT_NONE;
    uint8_t tmp[2][8];
    const uint8_t *lo = NULL, *hi = NULL;
    size_t lo_len = 0, hi_len = 0;
    if (minmax) {
        lo_len = bound_bytes(s, kind, 0, tmp[0], &lo);
        hi_len = bound_bytes(s, kind, 1, tmp[1], &hi);
    }
    int lo_cut = 0, hi_cut = 0;
    ard_buf cut[2];
    ard_buf_init(&cut[0]);
    ard_buf_init(&cut[1]);
    if (minmax && kind == ARD__SORT_BYTES) { /* long strings: bounds, not values */
        lo_cut = ard__pqw_truncate_bound(lo, lo_len, ARD__PQW_STATS_MAX_BYTES, 0, &cut[0]);
        hi_cut = ard__pqw_truncate_bound(hi, hi_len, ARD__PQW_STATS_MAX_BYTES, 1, &cut[1]);
        lo = cut[0].data ? cut[0].data : lo, lo_len = cut[0].len;
        hi = cut[1].data ? cut[1].data : hi, hi_len = cut[1].len;
    }
    ard__tw_field_struct(t, field_id);
    if (minmax && signed_order(kind)) { /* deprecated fields, for old readers */
        ard__tw_field_binary(t, 1, hi, hi_len);
        ard__tw_field_binary(t, 2, lo, lo_len);
    }
    ard__tw_field_i64(t, 3, s->null_count);
    if (minmax) {
        ard__tw_field_binary(t, 5, hi, hi_len);
        ard__tw_field_binary(t, 6, lo, lo_len);
        ard__tw_field_bool(t, 7, !hi_cut);
        ard__tw_field_bool(t, 8, !lo_cut);
    }
    ard_buf_reset(&cut[0]);
    ard_buf_reset(&cut[1]);
    if (kind == ARD__SORT_F32 || kind == ARD__SORT_F64) {
        ard__tw_field_i64(t, 9, s->nan_count);
    }
    ard__tw_stop(t);
}
