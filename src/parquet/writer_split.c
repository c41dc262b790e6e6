/* Parquet writer: FLOAT values of a BYTE_STREAM_SPLIT page split into their four byte streams as
 * they arrive, with their statistics, in one pass over the caller's values.
 *
 * Without it a value is read three times after the caller made it: copied into the page
 * (push_values), read for the statistics, and read again by the BYTE_STREAM_SPLIT encoder at
 * flush, which writes a fourth copy (perf of `ard generate`, 2026-12-07: the copy, the statistics
 * and the encoder were ~8% of the spectra phase). Here the page's value buffer holds the four
 * streams at a stride of a quarter of its capacity, stream j of value i at j * stride + i, so the
 * SNAPPY page compresses each stream where it lies (writer_page.c) and other codecs take them back
 * to back. The page bytes are the same as the plain path's. */
#include "writer_int.h"

#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SPLIT_AVX512 1
#endif

int ard__pqw_split_mode = ARD__PQW_SPLIT_FASTEST;

int ard__pqw_split_layout(const ard__pqw_column *c, const ard__pqw_chunk *ch,
                          const ard__pqw_page *p) {
    return ard__pqw_split_mode != ARD__PQW_SPLIT_OFF && c->type == ARD_PQ_FLOAT &&
           c->input_width == 4 && !p->dict_mode && ch->value_encoding == ARD_PQ_BYTE_STREAM_SPLIT;
}

size_t ard__pqw_split_stride(const ard__pqw_page *p) {
    return p->values.cap / 4;
}

/* Room for `need` values per stream: grows the buffer and moves streams 3..1 to the new stride
 * (realloc keeps the whole old capacity). values.len stays 4 bytes per value held. */
static int split_reserve(ard__pqw_page *p, size_t have, size_t need) {
    size_t old = ard__pqw_split_stride(p);
    if (need <= old) {
        return 0;
    }
    if (ard_buf_reserve(&p->values, 4 * need - p->values.len) != 0) {
        return -1;
    }
    size_t stride = ard__pqw_split_stride(p);
    for (int j = 3; j >= 1 && have > 0; j--) {
        memmove(p->values.data + (size_t)j * stride, p->values.data + (size_t)j * old, have);
    }
    return 0;
}

static void split_portable(const uint8_t *src, size_t n, uint8_t *s0, uint8_t *s1, uint8_t *s2,
                           uint8_t *s3) {
    for (size_t i = 0; i < n; i++) {
        s0[i] = src[4 * i];
        s1[i] = src[4 * i + 1];
        s2[i] = src[4 * i + 2];
        s3[i] = src[4 * i + 3];
    }
}

#if SPLIT_AVX512
#define AVX512_SPLIT __attribute__((target("avx512f,avx512bw,avx512vbmi")))

/* 16 values per step: one byte permutation puts stream j's 16 bytes in 128-bit lane j; min, max
 * and NaN count as update_f32 (writer_stats.c) takes them. Returns the values done (a multiple
 * of 16); the caller does the rest. */
static AVX512_SPLIT size_t split_avx512(const uint8_t *src, size_t n, uint8_t *s0, uint8_t *s1,
                                        uint8_t *s2, uint8_t *s3, float *lo, float *hi,
                                        int64_t *nans) {
    const __m512i perm = _mm512_set_epi8(
        63, 59, 55, 51, 47, 43, 39, 35, 31, 27, 23, 19, 15, 11, 7, 3, 62, 58, 54, 50, 46, 42, 38,
        34, 30, 26, 22, 18, 14, 10, 6, 2, 61, 57, 53, 49, 45, 41, 37, 33, 29, 25, 21, 17, 13, 9, 5,
        1, 60, 56, 52, 48, 44, 40, 36, 32, 28, 24, 20, 16, 12, 8, 4, 0);
    __m512 lo16 = _mm512_set1_ps(*lo), hi16 = _mm512_set1_ps(*hi);
    int64_t nan_count = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i raw = _mm512_loadu_si512((const void *)(src + 4 * i));
        __m512 v = _mm512_castsi512_ps(raw);
        lo16 = _mm512_min_ps(v, lo16); /* `v < lo ? v : lo`: a NaN keeps lo */
        hi16 = _mm512_max_ps(v, hi16);
        nan_count += __builtin_popcount(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q));
        __m512i t = _mm512_permutexvar_epi8(perm, raw);
        _mm_storeu_si128((__m128i *)(void *)(s0 + i), _mm512_castsi512_si128(t));
        _mm_storeu_si128((__m128i *)(void *)(s1 + i), _mm512_extracti32x4_epi32(t, 1));
        _mm_storeu_si128((__m128i *)(void *)(s2 + i), _mm512_extracti32x4_epi32(t, 2));
        _mm_storeu_si128((__m128i *)(void *)(s3 + i), _mm512_extracti32x4_epi32(t, 3));
    }
    float l16[16], h16[16];
    _mm512_storeu_ps(l16, lo16);
    _mm512_storeu_ps(h16, hi16);
    for (int k = 0; k < 16; k++) {
        *lo = l16[k] < *lo ? l16[k] : *lo;
        *hi = h16[k] > *hi ? h16[k] : *hi;
    }
    *nans += nan_count;
    return i;
}

static int have_avx512(void) { /* __builtin_cpu_supports reads a table set at start-up */
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
}
#endif

int ard__pqw_split_push(ard__pqw_page *p, const uint8_t *src, int64_t count) {
    size_t have = (size_t)p->num_values, n = (size_t)count;
    if (count <= 0) {
        return 0;
    }
    if (split_reserve(p, have, have + n) != 0) {
        return -1;
    }
    size_t stride = ard__pqw_split_stride(p);
    uint8_t *s0 = p->values.data + have, *s1 = s0 + stride, *s2 = s1 + stride, *s3 = s2 + stride;
    float lo = __builtin_inff(), hi = -__builtin_inff();
    int64_t nans = 0;
    size_t done = 0;
#if SPLIT_AVX512
    if (ard__pqw_split_mode == ARD__PQW_SPLIT_FASTEST && have_avx512()) {
        done = split_avx512(src, n, s0, s1, s2, s3, &lo, &hi, &nans);
    }
#endif
    split_portable(src + 4 * done, n - done, s0 + done, s1 + done, s2 + done, s3 + done);
    for (size_t i = done; i < n; i++) {
        float v;
        memcpy(&v, src + 4 * i, 4);
        nans += v != v;
        lo = v < lo ? v : lo; /* false for NaN */
        hi = v > hi ? v : hi;
    }
    ard__pqw_stats_fold_f32(&p->stats, count, nans, lo, hi);
    p->values.len += 4 * n;
    p->num_values += count;
    return 0;
}

void ard__pqw_split_parts(const ard__pqw_page *p, const uint8_t *streams[4]) {
    size_t stride = ard__pqw_split_stride(p);
    for (int j = 0; j < 4; j++) {
        streams[j] = p->values.data + (size_t)j * stride;
    }
}
