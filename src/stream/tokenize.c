/* The tokenizer: cuts a spectrum into patches and normalises each by an exact median of its valid
 * pixels, found by selection instead of sorting (median.c): a patch's pixels go to the small-median
 * kernel with the invalid ones as +inf, so no per-patch gather is needed. */
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
    return n > 0 ? (size_t)n * 2 * sizeof(float) : 1;
}

int64_t ard_tokenize_num_patches(int64_t n, int32_t patch) {
    if (n <= 0 || patch <= 0) {
        return 0;
    }
    return (n + patch - 1) / patch;
}

static inline int bit_at(const uint8_t *bits, int64_t i) {
    return bits ? (bits[i >> 3] >> (i & 7)) & 1 : 1;
}

/* keep ? a : b for keep = 0 or 1, as bit operations: gcc does not turn a conditional float
 * expression into vector code when evaluating it unconditionally could raise an FP exception. */
static inline float select_f(uint32_t keep, float a, float b) {
    uint32_t ua, ub, m = 0u - keep;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    ua = (ua & m) | (ub & ~m);
    memcpy(&a, &ua, sizeof a);
    return a;
}

/* A valid pixel's key is its flux (-0.0 as +0.0), an invalid one's +inf: valid flux is finite,
 * so "key < inf" is the validity, and the patch median kernel takes a patch's keys as they are. */
static inline uint32_t is_valid(float key) {
    return key < INFINITY;
}

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#if ARD_STREAM_X86
#define HAS_AVX2() __builtin_cpu_supports("avx2")
#define AVX2 __attribute__((target("avx2")))
/* AVX-512, with 512-bit vectors on gcc (its default tuning would stay at 256 bits; clang has no
 * such target option). */
#define HAS_AVX512() (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
#if defined(__clang__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#else
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,prefer-vector-width=512")))
#endif
#endif

/* Writes the keys of [0, n); returns the number of valid pixels. The first loop has no branch
 * (NaN fails every comparison, so "x <= FLT_MAX" is "finite and not +inf"); nulls and the mask
 * are applied afterwards, only when present. */
ALWAYS_INLINE int64_t make_keys_body(const float *flux, const float *ivar,
                                     const uint8_t *flux_valid, const uint8_t *ivar_valid,
                                     int64_t off, const uint8_t *mask, int64_t n, float *keys) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) {
        float f = flux[i], w = ivar[i];
        uint32_t ok = (uint32_t)((w > 0.0f) & (w <= FLT_MAX) & (fabsf(f) <= FLT_MAX));
        keys[i] = select_f(ok, f + 0.0f, INFINITY);
        count += ok;
    }
    if (!flux_valid && !ivar_valid && !mask) {
        return count;
    }
    for (int64_t i = 0; flux_valid && i < n; i++) {
        keys[i] = select_f((uint32_t)bit_at(flux_valid, off + i), keys[i], INFINITY);
    }
    for (int64_t i = 0; ivar_valid && i < n; i++) {
        keys[i] = select_f((uint32_t)bit_at(ivar_valid, off + i), keys[i], INFINITY);
    }
    for (int64_t i = 0; mask && i < n; i++) {
        keys[i] = select_f(mask[i] == 0, keys[i], INFINITY);
    }
    count = 0;
    for (int64_t i = 0; i < n; i++) {
        count += is_valid(keys[i]);
    }
    return count;
}

/* Median of |flux| (absolute = 1) or flux over the valid pixels of [0, n) (count > 0). */
static float masked_median(const float *keys, int64_t n, int absolute, float *scratch) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        scratch[m] = absolute ? fabsf(keys[i]) : keys[i]; /* written always, kept when valid */
        m += is_valid(keys[i]);
    }
    return ard_median_select(scratch, m);
}

static int usable(float median, float floor_value) {
    return isfinite(median) && median > floor_value;
}

/* One spectrum being tokenized. Keys are made patch by patch, just before each patch's median,
 * so that reading the input overlaps the median work; a whole-spectrum median first makes the
 * rest (keys_done = n). */
typedef struct tok_ctx {
    const ard_tokenize_options *o;
    const float *flux, *ivar;
    const uint8_t *flux_valid, *ivar_valid, *mask;
    int64_t bit_offset;
    float *keys;
    int64_t n, keys_done, valid_count; /* valid pixels in [0, keys_done) */
    float *scratch;
    float robust; /* < 0: not computed yet */
    uint8_t flags;
} tok_ctx;

/* Makes the keys of [keys_done, end) with make_keys_body (inlined where called); returns the
 * valid pixels among them. */
ALWAYS_INLINE int64_t keys_upto(tok_ctx *c, int64_t end) {
    int64_t a = c->keys_done;
    int64_t count =
        make_keys_body(c->flux + a, c->ivar + a, c->flux_valid, c->ivar_valid, c->bit_offset + a,
                       c->mask ? c->mask + a : NULL, end - a, c->keys + a);
    c->keys_done = end;
    c->valid_count += count;
    return count;
}

/* The hot loops are built for the baseline instruction set and (x86-64) for AVX2 and AVX-512. */
static void make_keys_base(tok_ctx *c, int64_t end) {
    keys_upto(c, end);
}
#if ARD_STREAM_X86
static AVX2 void make_keys_avx2(tok_ctx *c, int64_t end) {
    keys_upto(c, end);
}
#endif

#if ARD_STREAM_X86
static AVX512 void make_keys_avx512(tok_ctx *c, int64_t end) {
    keys_upto(c, end);
}
#endif

static void make_keys(tok_ctx *c, int64_t end) {
#if ARD_STREAM_X86
    if (HAS_AVX512()) {
        make_keys_avx512(c, end);
        return;
    }
    if (HAS_AVX2()) {
        make_keys_avx2(c, end);
        return;
    }
#endif
    make_keys_base(c, end);
}

static void all_keys(tok_ctx *c) {
    if (c->keys_done < c->n) {
        make_keys(c, c->n);
    }
}

static float robust_scale(tok_ctx *c) {
    if (c->robust < 0.0f) {
        all_keys(c);
        float r = masked_median(c->keys, c->n, 1, c->scratch);
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
        float med = ard__median_small(c->keys + start, (int32_t)len, (int32_t)count);
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
    float med = masked_median(c->keys, c->n, 0, c->scratch); /* keys all made, some valid */
    return usable(med, c->o->floor) ? med : robust_scale(c);
}

ALWAYS_INLINE void write_patches_body(tok_ctx *c, float *tokens, float *scales,
                                      uint8_t *patch_mask) {
    int32_t patch = c->o->patch;
    int64_t num_patches = ard_tokenize_num_patches(c->n, patch);
    float spec_scale = spectrum_scale(c);
    for (int64_t p = 0; p < num_patches; p++) {
        int64_t start = p * patch;
        int64_t len = c->n - start < patch ? c->n - start : patch;
        const float *keys = c->keys + start, *flux = c->flux + start;
        int64_t count = 0;
        if (c->keys_done < start + len) {
            count = keys_upto(c, start + len);
        } else {
            for (int64_t i = 0; i < len; i++) {
                count += is_valid(keys[i]);
            }
        }
        float scale = patch_scale(c, start, len, count, spec_scale, &patch_mask[p]);
        scales[p] = scale;
        float *out = tokens + p * patch;
        for (int64_t i = 0; i < len; i++) {
            out[i] = select_f(is_valid(keys[i]), flux[i] / scale, 0.0f);
        }
        for (int64_t i = len; i < patch; i++) {
            out[i] = 0.0f;
        }
    }
}

static void write_patches_base(tok_ctx *c, float *tokens, float *scales, uint8_t *patch_mask) {
    write_patches_body(c, tokens, scales, patch_mask);
}
#if ARD_STREAM_X86
static AVX2 void write_patches_avx2(tok_ctx *c, float *tokens, float *scales, uint8_t *patch_mask) {
    write_patches_body(c, tokens, scales, patch_mask);
}
#endif

#if ARD_STREAM_X86
static AVX512 void write_patches_avx512(tok_ctx *c, float *tokens, float *scales,
                                        uint8_t *patch_mask) {
    write_patches_body(c, tokens, scales, patch_mask);
}
#endif

static void write_patches(tok_ctx *c, float *tokens, float *scales, uint8_t *patch_mask) {
#if ARD_STREAM_X86
    if (HAS_AVX512()) {
        write_patches_avx512(c, tokens, scales, patch_mask);
        return;
    }
    if (HAS_AVX2()) {
        write_patches_avx2(c, tokens, scales, patch_mask);
        return;
    }
#endif
    write_patches_base(c, tokens, scales, patch_mask);
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
    /* The workspace holds the keys, then the scratch of the whole-spectrum medians. */
    uint8_t *own = NULL;
    if (!work) {
        work = own = ard_malloc(ard_tokenize_work_bytes(n));
        if (!own) {
            return ard_error_set(err, ARD_ENOMEM, "tokenize: %lld bins", (long long)n);
        }
    }
    float *keys = work;
    tok_ctx c = {.o = opts,
                 .flux = flux,
                 .ivar = ivar,
                 .flux_valid = flux_valid,
                 .ivar_valid = ivar_valid,
                 .mask = mask,
                 .bit_offset = bit_offset,
                 .keys = keys,
                 .n = n,
                 .scratch = keys + n,
                 .robust = -1.0f};
    if (opts->norm == ARD_NORM_SPECTRUM_MEDIAN) {
        all_keys(&c);
    }
    if (c.keys_done < n || c.valid_count > 0) { /* else: spectrum median of nothing valid */
        write_patches(&c, tokens, scales, patch_mask);
        *flags = c.flags;
    }
    if (c.valid_count == 0) { /* every key made by now: nothing was valid */
        all_masked(ard_tokenize_num_patches(n, opts->patch), opts->patch, tokens, scales,
                   patch_mask, flags);
    }
    ard_free(own);
    return ARD_OK;
}
