/* Per-pixel weights beside the tokens: ivar * scale^2 where the tokenizer counts a pixel as valid,
 * 0 elsewhere (see stream.h). Kept apart from tokenize.c so the tokenizer's kernels stay as they
 * are; the validity test is the tokenizer's (finite flux, 0 < ivar <= FLT_MAX, non-null, mask 0). */
#include "stream_int.h"

#include <float.h>
#include <math.h>
#include <string.h>

static int bit_set(const uint8_t *bits, int64_t i) {
    return (bits[i >> 3] >> (i & 7)) & 1;
}

ard_status ard_tokenize_weights(int32_t patch, const float *flux, const float *ivar,
                                const uint8_t *flux_valid, const uint8_t *ivar_valid,
                                int64_t bit_offset, const uint8_t *mask, int64_t n,
                                const float *scales, float *weights, ard_error *err) {
    if (patch < ARD_PATCH_MIN || patch > ARD_PATCH_MAX || n <= 0 || !flux || !ivar || !scales ||
        !weights || bit_offset < 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "tokenize_weights: patch %d, n %lld or a NULL pointer", patch,
                             (long long)n);
    }
    int64_t np = ard_tokenize_num_patches(n, patch);
    for (int64_t k = 0; k < np; k++) {
        double s2 = (double)scales[k] * (double)scales[k];
        int64_t lo = k * patch, hi = lo + patch < n ? lo + patch : n;
        for (int64_t i = lo; i < hi; i++) {
            float f = flux[i], w = ivar[i];
            int ok = w > 0.0f && w <= FLT_MAX && fabsf(f) <= FLT_MAX;
            ok = ok && (!flux_valid || bit_set(flux_valid, bit_offset + i));
            ok = ok && (!ivar_valid || bit_set(ivar_valid, bit_offset + i));
            ok = ok && (!mask || mask[i] == 0);
            double v = ok ? (double)w * s2 : 0.0;
            weights[i] = (float)(v < (double)FLT_MAX ? v : (double)FLT_MAX);
        }
        if (hi < lo + patch) {
            memset(weights + hi, 0, (size_t)(lo + patch - hi) * sizeof *weights);
        }
    }
    return ARD_OK;
}
