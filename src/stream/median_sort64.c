/* The AVX2 path of the patch median for up to 64 values: a bitonic sorting network held in eight
 * 8-lane registers. Each column is sorted by the optimal 19-comparator network for 8 inputs, a
 * transpose turns the columns into sorted runs of 8, and bitonic merges join them into two sorted
 * runs of 32. The last merge only half-cleans: every half-cleaning step leaves the lower half <=
 * the upper half, so it continues into the half that holds the two middle ranks (or, when they
 * straddle it, takes the lower half's maximum and the upper half's minimum), all in registers. No
 * branch depends on the data until then, and min/max never lose a value (a -0.0 may become +0.0,
 * which the median counts as equal anyway). Only built on x86-64 (gcc or clang); the caller checks
 * the CPU. */
#include "stream_int.h"

#if ARD_STREAM_X86

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define AVX2_INLINE static inline __attribute__((target("avx2"), always_inline))

AVX2_INLINE void cx(__m256 *a, __m256 *b) {
    __m256 lo = _mm256_min_ps(*a, *b);
    *b = _mm256_max_ps(*a, *b);
    *a = lo;
}

AVX2_INLINE __m256 rev(__m256 v) {
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0));
}

/* Sorts a bitonic vector: half-cleaners of stride 4, 2, 1 inside the register. */
AVX2_INLINE __m256 clean8(__m256 v) {
    __m256 p = _mm256_permute2f128_ps(v, v, 1);
    v = _mm256_blend_ps(_mm256_min_ps(v, p), _mm256_max_ps(v, p), 0xF0);
    p = _mm256_shuffle_ps(v, v, _MM_SHUFFLE(1, 0, 3, 2));
    v = _mm256_blend_ps(_mm256_min_ps(v, p), _mm256_max_ps(v, p), 0xCC);
    p = _mm256_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1));
    return _mm256_blend_ps(_mm256_min_ps(v, p), _mm256_max_ps(v, p), 0xAA);
}

/* Sorts lane l of r[0..8) across the registers (Knuth's 19 comparators), then transposes, so
 * that each register holds one sorted column. */
AVX2_INLINE void sort_columns(__m256 r[8]) {
#define CX(i, j) cx(&r[i], &r[j])
    CX(0, 2), CX(1, 3), CX(4, 6), CX(5, 7);
    CX(0, 4), CX(1, 5), CX(2, 6), CX(3, 7);
    CX(0, 1), CX(2, 3), CX(4, 5), CX(6, 7);
    CX(2, 4), CX(3, 5);
    CX(1, 4), CX(3, 6);
    CX(1, 2), CX(3, 4), CX(5, 6);
#undef CX
    __m256 t[8], s[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        s[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        s[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        s[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        s[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
    }
}

/* Merges the sorted runs a and b (8 each) into the sorted run (a, b). */
AVX2_INLINE void merge8(__m256 *a, __m256 *b) {
    __m256 r = rev(*b);
    __m256 lo = _mm256_min_ps(*a, r), hi = _mm256_max_ps(*a, r);
    *a = clean8(lo);
    *b = clean8(hi);
}

/* Merges the sorted runs v[0..2) and v[2..4) (16 each) into the sorted run v[0..4). */
AVX2_INLINE void merge16(__m256 *v) {
    __m256 r0 = rev(v[3]), r1 = rev(v[2]);
    __m256 l0 = _mm256_min_ps(v[0], r0), l1 = _mm256_min_ps(v[1], r1);
    __m256 h0 = _mm256_max_ps(v[0], r0), h1 = _mm256_max_ps(v[1], r1);
    cx(&l0, &l1);
    cx(&h0, &h1);
    v[0] = clean8(l0);
    v[1] = clean8(l1);
    v[2] = clean8(h0);
    v[3] = clean8(h1);
}

/* The largest / smallest lane. */
AVX2_INLINE float lane_max(__m256 v) {
    v = _mm256_max_ps(v, _mm256_permute2f128_ps(v, v, 1));
    v = _mm256_max_ps(v, _mm256_shuffle_ps(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm256_max_ps(v, _mm256_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm256_cvtss_f32(v);
}

AVX2_INLINE float lane_min(__m256 v) {
    v = _mm256_min_ps(v, _mm256_permute2f128_ps(v, v, 1));
    v = _mm256_min_ps(v, _mm256_shuffle_ps(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm256_min_ps(v, _mm256_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm256_cvtss_f32(v);
}

/* Ranks klo and khi (khi - klo <= 1, both < 32) of the bitonic sequence v0..v3 of 32: each
 * half-cleaning step keeps the half that holds both ranks, or ends where they straddle it. */
AVX2_INLINE void select32(__m256 v0, __m256 v1, __m256 v2, __m256 v3, int32_t klo, int32_t khi,
                          float *lo, float *hi) {
    cx(&v0, &v2);
    cx(&v1, &v3);
    if (klo >= 16) {
        v0 = v2, v1 = v3, klo -= 16, khi -= 16;
    } else if (khi >= 16) { /* klo = 15, khi = 16 */
        *lo = lane_max(_mm256_max_ps(v0, v1));
        *hi = lane_min(_mm256_min_ps(v2, v3));
        return;
    }
    cx(&v0, &v1);
    if (klo >= 8) {
        v0 = v1, klo -= 8, khi -= 8;
    } else if (khi >= 8) { /* klo = 7, khi = 8 */
        *lo = lane_max(v0);
        *hi = lane_min(v1);
        return;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, clean8(v0));
    *lo = lanes[klo];
    *hi = lanes[khi];
}

__attribute__((target("avx2"))) void ard__select64_avx2(const float *keys, int32_t len, int32_t klo,
                                                        int32_t khi, float *lo, float *hi) {
    float buf[64];
    const float *src = keys;
    if (len < 64) { /* pad with +inf */
        memcpy(buf, keys, (size_t)len * sizeof *keys);
        for (int32_t i = len; i < 64; i++) {
            buf[i] = INFINITY;
        }
        src = buf;
    }
    __m256 r[8];
    for (int i = 0; i < 8; i++) {
        r[i] = _mm256_loadu_ps(src + 8 * i);
    }
    sort_columns(r);
    for (int i = 0; i < 8; i += 2) {
        merge8(&r[i], &r[i + 1]);
    }
    merge16(r);
    merge16(r + 4);
    /* r[0..4) ascending then r[4..8) reversed is bitonic: its half-cleaning puts the 32 smallest
     * values (min) below the 32 largest (max), each half bitonic */
    __m256 b0 = rev(r[7]), b1 = rev(r[6]), b2 = rev(r[5]), b3 = rev(r[4]);
    if (khi < 32) {
        select32(_mm256_min_ps(r[0], b0), _mm256_min_ps(r[1], b1), _mm256_min_ps(r[2], b2),
                 _mm256_min_ps(r[3], b3), klo, khi, lo, hi);
    } else if (klo >= 32) {
        select32(_mm256_max_ps(r[0], b0), _mm256_max_ps(r[1], b1), _mm256_max_ps(r[2], b2),
                 _mm256_max_ps(r[3], b3), klo - 32, khi - 32, lo, hi);
    } else { /* klo = 31, khi = 32 */
        __m256 l01 = _mm256_max_ps(_mm256_min_ps(r[0], b0), _mm256_min_ps(r[1], b1));
        __m256 l23 = _mm256_max_ps(_mm256_min_ps(r[2], b2), _mm256_min_ps(r[3], b3));
        __m256 h01 = _mm256_min_ps(_mm256_max_ps(r[0], b0), _mm256_max_ps(r[1], b1));
        __m256 h23 = _mm256_min_ps(_mm256_max_ps(r[2], b2), _mm256_max_ps(r[3], b3));
        *lo = lane_max(_mm256_max_ps(l01, l23)); /* the largest of the lower half */
        *hi = lane_min(_mm256_min_ps(h01, h23)); /* the smallest of the upper half */
    }
}

#endif
