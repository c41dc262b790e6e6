/* A tile's pixel scan: the FLUX validity bits of a row group (a pixel with IVAR 0 and a MASK bit
 * is null) and each row's null and zero-IVAR counts (the ARD_KV_PIXEL_STATS metadata), in one pass
 * over IVAR and MASK. It was two scalar passes, ~3.5% of `ard generate`'s spectra phase (perf,
 * 2026-12-07); rows of a multiple of 16 pixels take 16 at a time with AVX-512 where the CPU has it.
 */
#include "survey_int.h"

#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PIXELS_AVX512 1
#endif

/* Validity bits of `count` pixels from bit 0 of bits ((count + 7) / 8 bytes; a partial last byte
 * has its unused bits set). Returns whether any pixel is null. */
static int validity_portable(const float *ivar, const uint8_t *mask, int64_t count, uint8_t *bits) {
    int null_seen = 0;
    for (int64_t k0 = 0; k0 < count; k0 += 8) { /* a byte at a time; MASK is mostly 0 */
        uint64_t mask8 = 1;                     /* a partial last byte takes the per-pixel path */
        if (k0 + 8 <= count) {
            memcpy(&mask8, mask + k0, sizeof mask8);
        }
        unsigned byte = 0xff;
        for (int64_t q = 0; mask8 != 0 && q < 8 && k0 + q < count; q++) {
            byte &= ~((unsigned)((mask[k0 + q] != 0) & (ivar[k0 + q] == 0.0f)) << q);
        }
        bits[k0 / 8] = (uint8_t)byte;
        null_seen |= byte != 0xff;
    }
    return null_seen;
}

static void counts_portable(const float *ivar, const uint8_t *mask, int64_t count, int64_t *nulls,
                            int64_t *zeros) {
    int64_t n_null = 0, n_zero = 0;
    for (int64_t k = 0; k < count; k++) {
        n_null += (mask[k] != 0) & (ivar[k] == 0.0f);
        n_zero += ivar[k] == 0.0f;
    }
    *nulls = n_null;
    *zeros = n_zero;
}

#if PIXELS_AVX512
#define AVX512_PIXELS __attribute__((target("avx512f,avx512bw,avx512vl")))

/* count a multiple of 16: 16 pixels per step, two bytes of bits. */
static AVX512_PIXELS int scan_avx512(const float *ivar, const uint8_t *mask, int64_t count,
                                     uint8_t *bits, int64_t *nulls, int64_t *zeros) {
    const __m512 zero = _mm512_setzero_ps();
    uint32_t any = 0;
    int64_t n_null = 0, n_zero = 0;
    for (int64_t k = 0; k < count; k += 16) {
        __mmask16 z = _mm512_cmp_ps_mask(_mm512_loadu_ps(ivar + k), zero, _CMP_EQ_OQ);
        __m128i m = _mm_loadu_si128((const __m128i *)(const void *)(mask + k));
        __mmask16 null = z & _mm_test_epi8_mask(m, m);
        uint16_t valid = (uint16_t)~null;
        memcpy(bits + k / 8, &valid, 2);
        any |= null;
        n_null += __builtin_popcount(null);
        n_zero += __builtin_popcount(z);
    }
    *nulls = n_null;
    *zeros = n_zero;
    return any != 0;
}

static int have_avx512(void) { /* __builtin_cpu_supports reads a table set at start-up */
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
}
#endif

int ard__tile_pixel_scan(const float *ivar, const uint8_t *mask, int64_t rows, int64_t width,
                         uint8_t *bits, int64_t *row_nulls, int64_t *row_zeros, int path) {
    int any = 0;
#if PIXELS_AVX512
    if (path == ARD__PIX_FASTEST && width % 16 == 0 && have_avx512()) {
        for (int64_t r = 0; r < rows; r++) {
            any |= scan_avx512(ivar + r * width, mask + r * width, width, bits + r * width / 8,
                               &row_nulls[r], &row_zeros[r]);
        }
        return any;
    }
#endif
    (void)path;
    any = validity_portable(ivar, mask, rows * width, bits);
    for (int64_t r = 0; r < rows; r++) {
        counts_portable(ivar + r * width, mask + r * width, width, &row_nulls[r], &row_zeros[r]);
    }
    return any;
}
