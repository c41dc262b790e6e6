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
    return n > 0 ? (size_t)n * (sizeof(float) + 1) : 1;
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

/* valid ? a : b (valid is 0 or 1) as bit operations: gcc does not turn a conditional float
 * expression into vector code when evaluating it unconditionally could raise an FP exception. */
static inline float select_f(uint8_t valid, float a, float b) {
    uint32_t ua, ub, keep = 0u - (uint32_t)valid;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    ua = (ua & keep) | (ub & ~keep);
    memcpy(&a, &ua, sizeof a);
    return a;
}

/* Median of the valid pixels of one patch (len <= ARD_PATCH_MAX, count of them valid, > 0). */
static float patch_median(const float *flux, const uint8_t *valid, int64_t len, int64_t count) {
    float keys[ARD_PATCH_MAX];
    for (int64_t i = 0; i < len; i++) {
        keys[i] = select_f(valid[i], flux[i] + 0.0f, INFINITY); /* -0.0 -> +0.0 */
    }
    return ard__median_small(keys, (int32_t)len, (int32_t)count);
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
        float med = patch_median(c->flux + start, c->valid + start, len, count);
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
            out[i] = select_f(c->valid[start + i], c->flux[start + i] / scale, 0.0f);
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
