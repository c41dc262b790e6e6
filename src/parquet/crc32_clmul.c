/* CRC-32 (zlib's: reflected polynomial 0x04C11DB7) by carry-less multiplication, for page CRCs:
 * four 128-bit lanes fold 64 bytes per step, then fold into one lane and reduce (Barrett) to 32
 * bits -- Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ" (2009), with the
 * bit-reflected constants of its CRC-32 example (also in Chromium's zlib, crc32_simd.c). Several
 * times faster than zlib's table-driven crc32 on the pages of a spectra tile; with VPCLMULQDQ
 * (AVX-512) four times as many lanes per step again. x86-64 only; the caller checks the CPU. */
#include "parquet_int.h"

#if ARD_CRC32_CLMUL

#include <immintrin.h>

#define CLMUL __attribute__((target("pclmul,sse4.1")))

/* Multiplies both 64-bit halves of x by their constants in k and adds (xor) the 128-bit data. */
static inline CLMUL __m128i fold(__m128i x, __m128i k, __m128i data) {
    __m128i lo = _mm_clmulepi64_si128(x, k, 0x00), hi = _mm_clmulepi64_si128(x, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(hi, lo), data);
}

/* Folds x1 (the running remainder of everything before buf) over the whole 16-byte blocks of
 * buf[0..len) and reduces it to the CRC. */
static inline CLMUL uint32_t fold_16_and_reduce(__m128i x1, const uint8_t *buf, size_t len) {
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124);
    const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641); /* P'(x), mu */
    const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);
    for (; len >= 16; buf += 16, len -= 16) {
        x1 = fold(x1, k3k4, _mm_loadu_si128((const __m128i *)(const void *)buf));
    }
    /* 128 -> 64 bits */
    __m128i x2r = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2r);
    __m128i hi = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5k0, 0x00), hi);
    /* Barrett reduction to 32 bits */
    __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), poly, 0x00);
    x1 = _mm_xor_si128(x1, t);
    return ~(uint32_t)_mm_extract_epi32(x1, 1);
}

CLMUL uint32_t ard__crc32_clmul(uint32_t crc, const uint8_t *buf, size_t len) {
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)buf);
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)~crc));
    buf += 64;
    len -= 64;
    for (; len >= 64; buf += 64, len -= 64) {
        x1 = fold(x1, k1k2, _mm_loadu_si128((const __m128i *)(const void *)buf));
        x2 = fold(x2, k1k2, _mm_loadu_si128((const __m128i *)(const void *)(buf + 16)));
        x3 = fold(x3, k1k2, _mm_loadu_si128((const __m128i *)(const void *)(buf + 32)));
        x4 = fold(x4, k1k2, _mm_loadu_si128((const __m128i *)(const void *)(buf + 48)));
    }
    x1 = fold(x1, k3k4, x2);
    x1 = fold(x1, k3k4, x3);
    x1 = fold(x1, k3k4, x4);
    return fold_16_and_reduce(x1, buf, len);
}

/* The same 512 bits at a time: four 512-bit accumulators (sixteen 128-bit lanes) fold 256 bytes
 * per step with VPCLMULQDQ, then fold into one accumulator (64 bytes apart: the constants of the
 * 128-bit path's 4-lane fold), then its four lanes into one (48, 32 and 16 bytes apart) and on as
 * above. Folding constants for a distance of D bits: x^(D+32) and x^(D-32) mod P, bit-reflected
 * and shifted left by one, as k1..k4 above (D = 512 and 128). */
#define VPCLMUL __attribute__((target("pclmul,sse4.1,avx512f,vpclmulqdq")))

static inline VPCLMUL __m512i fold512(__m512i x, __m512i k, __m512i data) {
    __m512i lo = _mm512_clmulepi64_epi128(x, k, 0x00), hi = _mm512_clmulepi64_epi128(x, k, 0x11);
    return _mm512_ternarylogic_epi64(lo, hi, data, 0x96); /* lo ^ hi ^ data */
}

VPCLMUL uint32_t ard__crc32_vpclmul(uint32_t crc, const uint8_t *buf, size_t len) {
    const __m512i k2048 = _mm512_broadcast_i32x4(_mm_set_epi64x(0x01322d1430, 0x011542778a));
    const __m512i k512 = _mm512_broadcast_i32x4(_mm_set_epi64x(0x01c6e41596, 0x0154442bd4));
    const __m128i k384 = _mm_set_epi64x(0x0174359406, 0x003db1ecdc);
    const __m128i k256 = _mm_set_epi64x(0x015a546366, 0x00f1da05aa);
    const __m128i k128 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    __m512i z0 = _mm512_loadu_si512((const void *)buf);
    __m512i z1 = _mm512_loadu_si512((const void *)(buf + 64));
    __m512i z2 = _mm512_loadu_si512((const void *)(buf + 128));
    __m512i z3 = _mm512_loadu_si512((const void *)(buf + 192));
    z0 = _mm512_xor_si512(z0, _mm512_castsi128_si512(_mm_cvtsi32_si128((int)~crc)));
    buf += 256;
    len -= 256;
    for (; len >= 256; buf += 256, len -= 256) {
        z0 = fold512(z0, k2048, _mm512_loadu_si512((const void *)buf));
        z1 = fold512(z1, k2048, _mm512_loadu_si512((const void *)(buf + 64)));
        z2 = fold512(z2, k2048, _mm512_loadu_si512((const void *)(buf + 128)));
        z3 = fold512(z3, k2048, _mm512_loadu_si512((const void *)(buf + 192)));
    }
    z0 = fold512(z0, k512, z1);
    z0 = fold512(z0, k512, z2);
    z0 = fold512(z0, k512, z3);
    for (; len >= 64; buf += 64, len -= 64) {
        z0 = fold512(z0, k512, _mm512_loadu_si512((const void *)buf));
    }
    __m128i x1 = fold(_mm512_extracti32x4_epi32(z0, 0), k384, _mm512_extracti32x4_epi32(z0, 3));
    x1 = fold(_mm512_extracti32x4_epi32(z0, 1), k256, x1);
    x1 = fold(_mm512_extracti32x4_epi32(z0, 2), k128, x1);
    return fold_16_and_reduce(x1, buf, len);
}

#endif
