/* Exact medians by selection (ard_median_select, and the patch medians of the tokenizer).
 * Up to ARD_PATCH_MAX values: on CPUs with AVX-512F or AVX2 (checked at run time, in that order),
 * a sorting network in registers for up to 64 values (median_sort64_avx512.c, median_sort64.c)
 * and rank counting beyond; elsewhere rank
 * counting built for the baseline instruction set (median_small_impl.h). Larger counts: a
 * branch-free three-way partition up to SMALL_SELECT_MAX values, then quickselect with a
 * median-of-3 pivot, insertion sort for small ranges and a heap-sort fallback against adversarial
 * inputs. */
#include "stream_int.h"

#include <math.h>
#include <string.h>

#if ARD_STREAM_X86
#include <immintrin.h>
#endif

/* The median from its two middle values (lo = hi for an odd count), as defined in ard/stream.h;
 * a zero median is +0.0. */
static float median_of_middles(float lo, float hi, int64_t count) {
    float med = count % 2 ? hi : (float)(((double)lo + (double)hi) / 2.0);
    return med + 0.0f;
}

#define MS_GROUP 16          /* lanes ranked together (and the sample size) */
#define MS_MAX ARD_PATCH_MAX /* most values the small kernel takes (a multiple of MS_GROUP) */
#define MS_MARGIN 2.0        /* sample ranks added on each side of the expected middle */
_Static_assert(MS_MAX % 64 == 0, "the kernel keeps one bit per value in 64-bit words");

#define MS_NAME median_small_base
#define MS_VB 16
#define MS_ATTR
#include "median_small_impl.h"

#if ARD_STREAM_X86
#define MS_NAME median_rank_avx2
#define MS_VB 32
#define MS_ATTR __attribute__((target("avx2")))
#include "median_small_impl.h"

/* Up to 64 values (a patch of the default size): the sorting network; more: rank counting. */
static float median_small_avx2(const float *keys, int32_t len, int32_t count) {
    if (len > 64) {
        return median_rank_avx2(keys, len, count);
    }
    int32_t k = count / 2, klo = count % 2 ? k : k - 1;
    float lo, hi;
    ard__select64_avx2(keys, len, klo, k, &lo, &hi);
    return median_of_middles(lo, hi, count);
}

/* The same with the AVX-512 network (median_sort64_avx512.c) up to 64 values. */
static float median_small_avx512(const float *keys, int32_t len, int32_t count) {
    if (len > 64) {
        return median_rank_avx2(keys, len, count);
    }
    int32_t k = count / 2, klo = count % 2 ? k : k - 1;
    float lo, hi;
    ard__select64_avx512(keys, len, klo, k, &lo, &hi);
    return median_of_middles(lo, hi, count);
}
#endif

float ard__median_small(const float *keys, int32_t len, int32_t count) {
#if ARD_STREAM_X86
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2")) {
        return median_small_avx512(keys, len, count);
    }
    if (__builtin_cpu_supports("avx2")) {
        return median_small_avx2(keys, len, count);
    }
#endif
    return median_small_base(keys, len, count);
}

ard__median_small_fn ard__median_small_kernel(int which) {
    if (which == 0) {
        return median_small_base;
    }
#if ARD_STREAM_X86
    if (which == 1 && __builtin_cpu_supports("avx2")) {
        return median_small_avx2;
    }
    if (which == 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2")) {
        return median_small_avx512;
    }
#endif
    return NULL;
}

static float med3(float x, float y, float z) {
    float mx = x > y ? x : y, mn = x > y ? y : x;
    return z > mx ? mx : (z < mn ? mn : z);
}

/* k-th smallest of src[0..n) for small n: each round copies every value into both a "less" and a
 * "greater" buffer and advances only the matching index, so the partition has no data-dependent
 * branch (quickselect's mispredictions dominate for patch-sized inputs). The pivot is one of the
 * values, so every round shrinks the range. bufs: three arrays of n floats, bufs[0] = input. */
static float small_kth(float *bufs[3], int64_t n, int64_t k) {
    float *src = bufs[0];
    for (;;) {
        if (n == 1) {
            return src[0];
        }
        float pivot = med3(src[0], src[n / 2], src[n - 1]);
        float *lt = src == bufs[0] ? bufs[1] : bufs[0];
        float *gt = src == bufs[2] ? bufs[1] : bufs[2];
        int64_t nl = 0, ng = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = src[i];
            lt[nl] = v;
            gt[ng] = v;
            nl += v < pivot;
            ng += v > pivot;
        }
        if (k < nl) {
            src = lt;
            n = nl;
        } else if (k >= n - ng) {
            k -= n - ng;
            src = gt;
            n = ng;
        } else {
            return pivot;
        }
    }
}

#define SMALL_SELECT_MAX 256

float ard_median_select(float *values, int64_t count) {
    if (count <= MS_MAX) {
        return ard__median_small(values, (int32_t)count, (int32_t)count);
    }
    int64_t k = count / 2;
    float hi;
    if (count <= SMALL_SELECT_MAX) {
        float b0[SMALL_SELECT_MAX], b1[SMALL_SELECT_MAX], b2[SMALL_SELECT_MAX];
        float *bufs[3] = {b0, b1, b2};
        memcpy(b0, values, (size_t)count * sizeof *values);
        hi = small_kth(bufs, count, k);
    } else {
        ard_select_kth_f32(values, count, k);
        hi = values[k];
    }
    if (count % 2) {
        return median_of_middles(hi, hi, count);
    }
    /* The lower middle: the largest value below hi, or hi itself when fewer than k values are
     * below it (ties). values still holds every input value. */
    int64_t below = 0;
    float lo = -INFINITY;
    for (int64_t i = 0; i < count; i++) {
        float v = values[i];
        int less = v < hi;
        below += less;
        lo = less && v > lo ? v : lo;
    }
    if (below != k) {
        lo = hi;
    }
    return median_of_middles(lo, hi, count);
}
