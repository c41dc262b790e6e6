/* The AVX-512 path of the patch median for up to 64 values: the same selection as the AVX2 network
 * (median_sort64.c), laid out for four 16-lane registers so that most steps stay inside 128-bit
 * blocks (in-lane shuffles are the cheap ones) and every compare-exchange that keeps both halves
 * is one min plus one masked max instead of min, max and blend.
 *
 * Layout: the 64 values are four independent groups of 16, group b in block b (lanes 4b..4b+3) of
 * registers v0..v3. Each group is sorted like an SSE sort of 16 (a column network over the four
 * registers, a 4x4 transpose inside each block, bitonic merges of 4 + 4 and 8 + 8), after which
 * rank i of group b is lane i % 4 of block b of register i / 4. Groups 0+1 and 2+3 are then merged
 * into two sorted runs of 32 at once, and the half-cleaner of the final bitonic 64 is followed
 * into the 32 values that hold both middle ranks (or, when they straddle it, the lower half's
 * maximum and the upper half's minimum). min/max never lose a value; a -0.0 may become +0.0, which
 * the median counts as equal anyway. Only built on x86-64 (gcc or clang); the caller checks the
 * CPU (avx512f). */
#include "stream_int.h"

#if ARD_STREAM_X86

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define A512 static inline __attribute__((target("avx512f"), always_inline))

/* Lanes whose bit is set take the larger value of their pair. */
#define HI_BLOCKS_ODD ((__mmask16)0xF0F0) /* blocks 1 and 3 */
#define HI_STRIDE2 ((__mmask16)0xCCCC)
#define HI_STRIDE1 ((__mmask16)0xAAAA)

A512 void cx(__m512 *a, __m512 *b) {
    __m512 lo = _mm512_min_ps(*a, *b);
    *b = _mm512_max_ps(*a, *b);
    *a = lo;
}

/* One in-register compare-exchange step: v against its partner p, the lanes of `hi` keep the max. */
A512 __m512 step(__m512 v, __m512 p, __mmask16 hi) {
    return _mm512_mask_max_ps(_mm512_min_ps(v, p), hi, v, p);
}

A512 __m512 rev4(__m512 v) { /* reverses the lanes inside each block */
    return _mm512_permute_ps(v, _MM_SHUFFLE(0, 1, 2, 3));
}

/* Sorts each block of v when each block is bitonic (strides 2 and 1). */
A512 __m512 clean4(__m512 v) {
    v = step(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)), HI_STRIDE2);
    return step(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)), HI_STRIDE1);
}

/* Runs of 16 in rank layout (rank i: register i / 4, lane i % 4 of the block), bitonic in each
 * block: strides 8 and 4 across registers, then 2 and 1 inside them. */
A512 void clean16(__m512 v[4]) {
    cx(&v[0], &v[2]);
    cx(&v[1], &v[3]);
    cx(&v[0], &v[1]);
    cx(&v[2], &v[3]);
    for (int k = 0; k < 4; k++) {
        v[k] = clean4(v[k]);
    }
}

/* Sorts the 16 values of each block of v0..v3 into rank layout. */
A512 void sort_groups(__m512 v[4]) {
    /* each lane's four values, across the registers (5 comparators) */
    cx(&v[0], &v[1]), cx(&v[2], &v[3]);
    cx(&v[0], &v[2]), cx(&v[1], &v[3]);
    cx(&v[1], &v[2]);
    /* 4x4 transpose inside each block: s_k's block = sorted column k of that block */
    __m512 t0 = _mm512_unpacklo_ps(v[0], v[1]), t1 = _mm512_unpackhi_ps(v[0], v[1]);
    __m512 t2 = _mm512_unpacklo_ps(v[2], v[3]), t3 = _mm512_unpackhi_ps(v[2], v[3]);
    __m512 s0 = _mm512_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m512 s1 = _mm512_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m512 s2 = _mm512_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m512 s3 = _mm512_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    /* 4 + 4 -> 8: (a0, a1) and (b0, b1) are sorted runs of 8 */
    __m512 r1 = rev4(s1), r3 = rev4(s3);
    __m512 a0 = clean4(_mm512_min_ps(s0, r1)), a1 = clean4(_mm512_max_ps(s0, r1));
    __m512 b0 = clean4(_mm512_min_ps(s2, r3)), b1 = clean4(_mm512_max_ps(s2, r3));
    /* 8 + 8 -> 16 */
    __m512 rb1 = rev4(b1), rb0 = rev4(b0);
    v[0] = _mm512_min_ps(a0, rb1);
    v[1] = _mm512_min_ps(a1, rb0);
    v[2] = _mm512_max_ps(a0, rb1);
    v[3] = _mm512_max_ps(a1, rb0);
    clean16(v);
}

/* Merges the sorted groups of blocks 0 and 1 (and of blocks 2 and 3) into sorted runs of 32:
 * rank i of a run is block (i / 16) of its pair, register (i % 16) / 4, lane i % 4. */
A512 void merge_pairs(__m512 v[4]) {
    /* the partner of rank i of block 0 is rank 15 - i of block 1: the other register, the
     * neighbouring block, reversed lanes */
    const __m512i swap_rev =
        _mm512_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    __m512 u[4];
    for (int k = 0; k < 4; k++) {
        u[k] = _mm512_permutexvar_ps(swap_rev, v[3 - k]);
    }
    for (int k = 0; k < 4; k++) {
        v[k] = step(v[k], u[k], HI_BLOCKS_ODD);
    }
    clean16(v);
}

A512 float reduce_max4(const __m512 v[4]) {
    return _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_max_ps(v[0], v[1]), _mm512_max_ps(v[2], v[3])));
}

A512 float reduce_min4(const __m512 v[4]) {
    return _mm512_reduce_min_ps(
        _mm512_min_ps(_mm512_min_ps(v[0], v[1]), _mm512_min_ps(v[2], v[3])));
}

/* Ranks klo and khi (khi - klo <= 1, both < 32) of the bitonic 32 held in blocks 0 and 1 of
 * w0..w3 in rank layout (blocks 2 and 3 may hold anything). */
A512 void select32(__m512 w[4], int32_t klo, int32_t khi, float *lo, float *hi) {
    for (int k = 0; k < 4; k++) { /* stride 16: block 0 against block 1 */
        w[k] = step(w[k], _mm512_shuffle_f32x4(w[k], w[k], _MM_SHUFFLE(2, 3, 0, 1)), HI_BLOCKS_ODD);
    }
    clean16(w);
    float lanes[64];
    for (int k = 0; k < 4; k++) {
        _mm512_storeu_ps(lanes + 16 * k, w[k]);
    }
    *lo = lanes[(klo % 16) / 4 * 16 + klo / 16 * 4 + klo % 4];
    *hi = lanes[(khi % 16) / 4 * 16 + khi / 16 * 4 + khi % 4];
}

__attribute__((target("avx512f"))) void ard__select64_avx512(const float *keys, int32_t len,
                                                             int32_t klo, int32_t khi, float *lo,
                                                             float *hi) {
    __m512 v[4];
    const __m512 inf = _mm512_set1_ps(INFINITY);
    /* past len: +inf. Plain loads for whole registers: a masked load that crosses a cache line
     * is many times slower on Zen 4. */
    for (int k = 0; k < 4; k++) {
        int32_t left = len - 16 * k;
        if (left >= 16) {
            v[k] = _mm512_loadu_ps(keys + 16 * k);
        } else {
            uint32_t bits = left <= 0 ? 0u : (1u << left) - 1u;
            v[k] = _mm512_mask_loadu_ps(inf, (__mmask16)bits, keys + 16 * k);
        }
    }
    sort_groups(v);
    merge_pairs(v);
    /* run A (blocks 0, 1) against run B (blocks 2, 3) reversed: the partner of rank i of A is
     * rank 31 - i of B, i.e. all 16 lanes of the mirrored register reversed. Blocks 2 and 3 of
     * the results mirror blocks 0 and 1, so whole-register reductions see the same values. */
    const __m512i rev16 = _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512 u[4], w[4];
    for (int k = 0; k < 4; k++) {
        u[k] = _mm512_permutexvar_ps(rev16, v[3 - k]);
    }
    if (khi < 32) {
        for (int k = 0; k < 4; k++) {
            w[k] = _mm512_min_ps(v[k], u[k]);
        }
        select32(w, klo, khi, lo, hi);
    } else if (klo >= 32) {
        for (int k = 0; k < 4; k++) {
            w[k] = _mm512_max_ps(v[k], u[k]);
        }
        select32(w, klo - 32, khi - 32, lo, hi);
    } else { /* klo = 31, khi = 32: the largest of the lower half, the smallest of the upper */
        __m512 l[4], h[4];
        for (int k = 0; k < 4; k++) {
            l[k] = _mm512_min_ps(v[k], u[k]);
            h[k] = _mm512_max_ps(v[k], u[k]);
        }
        *lo = reduce_max4(l);
        *hi = reduce_min4(h);
    }
}

#endif
