/* The tokenizer: cuts a spectrum into patches and normalises each by an exact median of its valid
 * pixels, found by selection (quickselect with a median-of-3 pivot, insertion sort for small ranges
 * and a heap-sort fallback against adversarial inputs) instead of sorting. */
#include "stream_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ard_tokenize_options_init(ard_tokenize_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->patch = 64;
    opts->norm = ARD_NORM_MEDIAN;
    opts->min_valid = 16;
    opts->floor = 1e-6f;
}

ard_status ard_tokenize_options_check(const ard_tokenize_options *opts, ard_error *err) {
    if (!opts) {
        return ard_error_set(err, ARD_EINVAL, "tokenize: options are NULL");
    }
    if (opts->patch < ARD_PATCH_MIN || opts->patch > ARD_PATCH_MAX) {
        return ard_error_set(err, ARD_EINVAL, "tokenize: patch %d outside %d..%d", opts->patch,
                             ARD_PATCH_MIN, ARD_PATCH_MAX);
    }
    if (opts->norm < ARD_NORM_MEDIAN || opts->norm > ARD_NORM_SPECTRUM_MEDIAN) {
        return ard_error_set(err, ARD_EINVAL, "tokenize: unknown normalisation %d", opts->norm);
    }
    if (opts->min_valid < 1 || opts->min_valid > opts->patch) {
        return ard_error_set(err, ARD_EINVAL, "tokenize: min_valid %d outside 1..patch (%d)",
                             opts->min_valid, opts->patch);
    }
    if (!isfinite(opts->floor) || opts->floor < 0.0f) {
        return ard_error_set(err, ARD_EINVAL, "tokenize: floor must be finite and >= 0");
    }
    return ARD_OK;
}

size_t ard_tokenize_work_bytes(int64_t n) {
    return n > 0 ? (size_t)n * (sizeof(float) + 1) : 1;
}

int64_t ard_tokenize_num_patches(int64_t n, int32_t patch) {
    if (n <= 0 || patch <= 0) {
        return 0;
    }
    return (n + patch - 1) / patch;
}

static void swap_f(float *a, float *b) {
    float t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(float *a, int64_t n) {
    for (int64_t i = 1; i < n; i++) {
        float v = a[i];
        int64_t j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void sift_down(float *a, int64_t root, int64_t n) {
    for (;;) {
        int64_t child = 2 * root + 1;
        if (child >= n) {
            return;
        }
        if (child + 1 < n && a[child + 1] > a[child]) {
            child++;
        }
        if (!(a[child] > a[root])) {
            return;
        }
        swap_f(&a[root], &a[child]);
        root = child;
    }
}

static void heap_sort(float *a, int64_t n) {
    for (int64_t i = n / 2 - 1; i >= 0; i--) {
        sift_down(a, i, n);
    }
    for (int64_t end = n - 1; end > 0; end--) {
        swap_f(&a[0], &a[end]);
        sift_down(a, 0, end);
    }
}

/* Places the k-th smallest value at a[k] with a[0..k) <= a[k] <= a[k+1..n). */
static void select_kth(float *a, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    int budget = 64; /* partitions before giving up on quickselect (adversarial input) */
    while (hi - lo >= 16) {
        if (budget-- == 0) {
            heap_sort(a + lo, hi - lo + 1);
            return;
        }
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo])
            swap_f(&a[mid], &a[lo]);
        if (a[hi] < a[lo])
            swap_f(&a[hi], &a[lo]);
        if (a[hi] < a[mid])
            swap_f(&a[hi], &a[mid]);
        float pivot = a[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                swap_f(&a[i], &a[j]);
                i++;
                j--;
            }
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            return; /* j < k < i: a[k] equals the pivot and sits between the partitions */
        }
    }
    insertion_sort(a + lo, hi - lo + 1);
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
    int64_t k = count / 2;
    float hi;
    if (count <= SMALL_SELECT_MAX) {
        float b0[SMALL_SELECT_MAX], b1[SMALL_SELECT_MAX], b2[SMALL_SELECT_MAX];
        float *bufs[3] = {b0, b1, b2};
        memcpy(b0, values, (size_t)count * sizeof *values);
        hi = small_kth(bufs, count, k);
    } else {
        select_kth(values, count, k);
        hi = values[k];
    }
    if (count % 2) {
        return hi;
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
    return (float)(((double)lo + (double)hi) / 2.0);
}

static inline int bit_at(const uint8_t *bits, int64_t i) {
    return bits ? (bits[i >> 3] >> (i & 7)) & 1 : 1;
}

/* Marks valid pixels (1 byte each) into `valid`; returns how many. The first loop has no branch
 * (NaN fails every comparison, so "x <= FLT_MAX" is "finite and not +inf"); nulls and the mask
 * are applied afterwards, only when present. */
static int64_t find_valid(const float *flux, const float *ivar, const uint8_t *flux_valid,
                          const uint8_t *ivar_valid, int64_t off, const uint8_t *mask, int64_t n,
                          uint8_t *valid) {
    for (int64_t i = 0; i < n; i++) {
        valid[i] = (uint8_t)((ivar[i] > 0.0f) & (ivar[i] <= FLT_MAX) & (fabsf(flux[i]) <= FLT_MAX));
    }
    for (int64_t i = 0; flux_valid && i < n; i++) {
        valid[i] &= (uint8_t)bit_at(flux_valid, off + i);
    }
    for (int64_t i = 0; ivar_valid && i < n; i++) {
        valid[i] &= (uint8_t)bit_at(ivar_valid, off + i);
    }
    for (int64_t i = 0; mask && i < n; i++) {
        valid[i] &= (uint8_t)(mask[i] == 0);
    }
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) {
        count += valid[i];
    }
    return count;
}

/* Median of |flux| (absolute = 1) or flux over valid pixels of [0, n); count must be > 0. */
static float masked_median(const float *flux, const uint8_t *valid, int64_t n, int absolute,
                           float *scratch) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = absolute ? fabsf(flux[i]) : flux[i];
        scratch[m] = v + 0.0f; /* -0.0 -> +0.0; written always, kept only when valid */
        m += valid[i];
    }
    return ard_median_select(scratch, m);
}

static int usable(float median, float floor_value) {
    return isfinite(median) && median > floor_value;
}

typedef struct tok_ctx {
    const ard_tokenize_options *o;
    const float *flux;
    const uint8_t *valid;
    int64_t n, valid_count;
    float *scratch;
    float robust; /* < 0: not computed yet */
    uint8_t flags;
} tok_ctx;

static float robust_scale(tok_ctx *c) {
    if (c->robust < 0.0f) {
        float r = masked_median(c->flux, c->valid, c->n, 1, c->scratch);
        if (!usable(r, c->o->floor)) {
            r = 1.0f;
            c->flags |= ARD_SPEC_SCALE_ONE;
        }
        c->robust = r;
    }
    return c->robust;
}

/* Scale of patch p covering [start, start + len) with `count` valid pixels; sets *kind. */
static float patch_scale(tok_ctx *c, int64_t start, int64_t len, int64_t count, float spec_scale,
                         uint8_t *kind) {
    if (count == 0) {
        *kind = ARD_PATCH_INVALID;
        return c->o->norm == ARD_NORM_NONE ? 1.0f : (spec_scale > 0 ? spec_scale : 1.0f);
    }
    if (c->o->norm == ARD_NORM_NONE) {
        *kind = ARD_PATCH_OWN;
        return 1.0f;
    }
    if (c->o->norm == ARD_NORM_SPECTRUM_MEDIAN) {
        *kind = ARD_PATCH_OWN;
        return spec_scale;
    }
    if (count >= c->o->min_valid) {
        float med = masked_median(c->flux + start, c->valid + start, len, 0, c->scratch);
        if (usable(med, c->o->floor)) {
            *kind = ARD_PATCH_OWN;
            return med;
        }
    }
    *kind = ARD_PATCH_FALLBACK;
    return robust_scale(c);
}

static void all_masked(int64_t num_patches, int32_t patch, float *tokens, float *scales,
                       uint8_t *patch_mask, uint8_t *flags) {
    memset(tokens, 0, (size_t)(num_patches * patch) * sizeof(float));
    for (int64_t p = 0; p < num_patches; p++) {
        scales[p] = 1.0f;
        patch_mask[p] = ARD_PATCH_INVALID;
    }
    *flags = ARD_SPEC_ALL_MASKED;
}

static float spectrum_scale(tok_ctx *c) {
    if (c->o->norm != ARD_NORM_SPECTRUM_MEDIAN) {
        return 0.0f;
    }
    float med = masked_median(c->flux, c->valid, c->n, 0, c->scratch);
    return usable(med, c->o->floor) ? med : robust_scale(c);
}

static void write_patches(tok_ctx *c, float *tokens, float *scales, uint8_t *patch_mask) {
    int32_t patch = c->o->patch;
    int64_t num_patches = ard_tokenize_num_patches(c->n, patch);
    float spec_scale = spectrum_scale(c);
    for (int64_t p = 0; p < num_patches; p++) {
        int64_t start = p * patch;
        int64_t len = c->n - start < patch ? c->n - start : patch;
        int64_t count = 0;
        for (int64_t i = 0; i < len; i++) {
            count += c->valid[start + i];
        }
        float scale = patch_scale(c, start, len, count, spec_scale, &patch_mask[p]);
        scales[p] = scale;
        float *out = tokens + p * patch;
        for (int64_t i = 0; i < len; i++) {
            out[i] = c->valid[start + i] ? c->flux[start + i] / scale : 0.0f;
        }
        for (int64_t i = len; i < patch; i++) {
            out[i] = 0.0f;
        }
    }
}

ard_status ard_tokenize_spectrum(const ard_tokenize_options *opts, const float *flux,
                                 const float *ivar, const uint8_t *flux_valid,
                                 const uint8_t *ivar_valid, int64_t bit_offset, const uint8_t *mask,
                                 int64_t n, float *tokens, float *scales, uint8_t *patch_mask,
                                 uint8_t *flags, void *work, ard_error *err) {
    ard_status st = ard_tokenize_options_check(opts, err);
    if (st != ARD_OK) {
        return st;
    }
    if (n <= 0 || !flux || !ivar || !tokens || !scales || !patch_mask || !flags || bit_offset < 0) {
        return ard_error_set(err, ARD_EINVAL, "tokenize: bad arguments (n=%lld)", (long long)n);
    }
    /* The workspace holds the float scratch, then the validity bytes. */
    uint8_t *own = NULL;
    if (!work) {
        work = own = ard_malloc(ard_tokenize_work_bytes(n));
        if (!own) {
            return ard_error_set(err, ARD_ENOMEM, "tokenize: %lld bins", (long long)n);
        }
    }
    uint8_t *valid = (uint8_t *)work + (size_t)n * sizeof(float);
    tok_ctx c = {opts, flux, valid, n, 0, (float *)work, -1.0f, 0};
    c.valid_count = find_valid(flux, ivar, flux_valid, ivar_valid, bit_offset, mask, n, valid);
    int64_t num_patches = ard_tokenize_num_patches(n, opts->patch);
    if (c.valid_count == 0) {
        all_masked(num_patches, opts->patch, tokens, scales, patch_mask, flags);
    } else {
        write_patches(&c, tokens, scales, patch_mask);
        *flags = c.flags;
    }
    ard_free(own);
    return ARD_OK;
}
