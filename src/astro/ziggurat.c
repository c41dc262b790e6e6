/* Standard normal deviates by the ziggurat method (Marsaglia & Tsang 2000, 256 layers), drawn
 * from a counter-based word stream: exact N(0,1) up to the double tables, no trig, and one hash
 * per deviate on the fast path (~99% of draws). The layer index, the sign and the 53-bit uniform
 * come from disjoint bits of one word (Doornik 2005: no layer/value correlation). */
#include "astro_int.h"

#define ZIG_R 3.6541528853610088 /* start of the tail for 256 layers of equal area */
_Static_assert(ARD_ZIG_LAYERS == 1 << 8, "ard_zig_normal takes the sign from bit 8");

static double gauss(double x) {
    return exp(-0.5 * x * x);
}

/* Whether the 53-bit uniform m (word >> 11) lands in layer i's rectangle: ard_zig_normal's test. */
static int in_rectangle(const ard_zig *t, int i, uint64_t m) {
    return ard_rng_to_u01(m << 11) * t->x[i] < t->x[i + 1];
}

/* The least m that misses layer i's rectangle: the test is monotone in m (every step from m to the
 * product is a rounding of a non-decreasing function, x[i] > 0), and m = 2^53 - 1 misses (its
 * uniform rounds to 1, x = x[i] >= x[i + 1]). */
static uint64_t first_miss(const ard_zig *t, int i) {
    uint64_t lo = 0, hi = (1ull << 53) - 1; /* the first miss is in [lo, hi] */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (in_rectangle(t, i, mid)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* packed[] and packed_exp (include/ard/astro.h). */
static void pack(ard_zig *t) {
    uint64_t lo_exp = 2047, hi_exp = 0, bits[ARD_ZIG_LAYERS];
    for (int i = 0; i < ARD_ZIG_LAYERS; i++) {
        memcpy(&bits[i], &t->x[i], sizeof bits[i]);
        uint64_t e = bits[i] >> 52; /* x > 0: no sign bit */
        lo_exp = e < lo_exp ? e : lo_exp;
        hi_exp = e > hi_exp ? e : hi_exp;
    }
    t->packed_exp = lo_exp >= 1 && hi_exp - lo_exp < 8 ? (int64_t)lo_exp : 0;
    for (int i = 0; i < ARD_ZIG_LAYERS; i++) {
        uint64_t body = t->packed_exp ? bits[i] - ((uint64_t)t->packed_exp << 52) : 0;
        t->packed[i] = body | (first_miss(t, i) >> 44) << 55;
    }
}

void ard_zig_init(ard_zig *t) {
    /* Area of every layer: the base strip is the rectangle [0, r] x [0, f(r)] plus the tail. */
    double v = ZIG_R * gauss(ZIG_R) + sqrt(M_PI / 2.0) * erfc(ZIG_R / M_SQRT2);
    t->x[0] = v / gauss(ZIG_R);
    t->x[1] = ZIG_R;
    for (int i = 1; i < ARD_ZIG_LAYERS - 1; i++) {
        t->x[i + 1] = sqrt(-2.0 * log(v / t->x[i] + gauss(t->x[i])));
    }
    t->x[ARD_ZIG_LAYERS] = 0.0;
    for (int i = 0; i <= ARD_ZIG_LAYERS; i++) {
        t->f[i] = gauss(t->x[i]);
    }
    pack(t);
}

double ard_zig_normal_slow(const ard_zig *t, ard_rng_words *s, uint64_t h) {
    for (;;) {
        int i = (int)(h & (ARD_ZIG_LAYERS - 1));
        double sign = (h & ARD_ZIG_LAYERS) ? -1.0 : 1.0;
        double x = ard_rng_to_u01(h) * t->x[i];
        if (x < t->x[i + 1]) {
            return sign * x;
        }
        if (i == 0) { /* tail beyond r (Marsaglia 1964) */
            double a, b;
            do {
                a = -log(ard_rng_to_u01(ard_rng_words_next(s))) / ZIG_R;
                b = -log(ard_rng_to_u01(ard_rng_words_next(s)));
            } while (b + b < a * a);
            return sign * (ZIG_R + a);
        }
        /* wedge between the layer's rectangle and the curve */
        double y = t->f[i] + ard_rng_to_u01(ard_rng_words_next(s)) * (t->f[i + 1] - t->f[i]);
        if (y < gauss(x)) {
            return sign * x;
        }
        h = ard_rng_words_next(s);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define ZIG_AVX512 __attribute__((target("avx512f,avx512dq")))

static ZIG_AVX512 __m512i mul_xor_shift(__m512i x, uint64_t m, int shift) {
    x = _mm512_mullo_epi64(x, _mm512_set1_epi64((long long)m));
    return _mm512_xor_si512(x, _mm512_srli_epi64(x, (unsigned)shift));
}

/* ard_rng_hash_k of words k .. k + 7 of the stream (ard_rng_mix64, lane by lane). */
static ZIG_AVX512 __m512i words8(uint64_t prefix, uint64_t k) {
    const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    __m512i kv = _mm512_add_epi64(_mm512_set1_epi64((long long)k), lane);
    __m512i x = _mm512_mullo_epi64(kv, _mm512_set1_epi64((long long)0x8cb92ba72f3d8dd7ULL));
    x = _mm512_add_epi64(x, _mm512_set1_epi64((long long)0x2545f4914f6cdd1dULL));
    x = _mm512_xor_si512(x, _mm512_set1_epi64((long long)prefix));
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 30));
    x = mul_xor_shift(x, 0xbf58476d1ce4e5b9ULL, 27);
    return mul_xor_shift(x, 0x94d049bb133111ebULL, 31);
}

/* Eight deviates at a time while all eight words land in their layer's rectangle: the fast path
 * of ard_zig_normal lane by lane (the same IEEE operations, so the same bits); at the first lane
 * that misses, the lanes before it are kept and that word goes to ard_zig_normal_slow, which may
 * draw more words, exactly as the one-at-a-time loop does. With packed tables one gather gives
 * x[i] and the rectangle test: the word's top 9 bits below the first miss's are in, above it out,
 * and only lanes equal to it (1 in 512) take the exact test against x[i + 1]. Returns the
 * deviates written. */
static ZIG_AVX512 int64_t fill_avx512(const ard_zig *t, ard_rng_words *s, double *out, int64_t n) {
    const __m512i body = _mm512_set1_epi64((long long)((1ull << 55) - 1));
    const __m512i exp0 = _mm512_set1_epi64((long long)((uint64_t)t->packed_exp << 52));
    int64_t j = 0;
    while (j + 8 <= n) {
        __m512i h = words8(s->prefix, s->k);
        __m512i layer = _mm512_and_si512(h, _mm512_set1_epi64(ARD_ZIG_LAYERS - 1));
        __m512d u = _mm512_cvtepu64_pd(_mm512_srli_epi64(h, 11));
        u = _mm512_mul_pd(_mm512_add_pd(u, _mm512_set1_pd(0.5)), _mm512_set1_pd(0x1.0p-53));
        __mmask8 in;
        __m512d x;
        if (t->packed_exp) {
            __m512i e = _mm512_i64gather_epi64(layer, (const void *)t->packed, 8);
            x = _mm512_mul_pd(
                u, _mm512_castsi512_pd(_mm512_add_epi64(_mm512_and_si512(e, body), exp0)));
            __m512i top = _mm512_srli_epi64(h, 55), miss = _mm512_srli_epi64(e, 55);
            in = _mm512_cmplt_epu64_mask(top, miss);
            __mmask8 edge = _mm512_cmpeq_epu64_mask(top, miss);
            if (edge) {
                in |= _mm512_mask_cmp_pd_mask(edge, x, _mm512_i64gather_pd(layer, t->x + 1, 8),
                                              _CMP_LT_OQ);
            }
        } else {
            x = _mm512_mul_pd(u, _mm512_i64gather_pd(layer, t->x, 8));
            in = _mm512_cmp_pd_mask(x, _mm512_i64gather_pd(layer, t->x + 1, 8), _CMP_LT_OQ);
        }
        __m512i sign =
            _mm512_slli_epi64(_mm512_and_si512(h, _mm512_set1_epi64(ARD_ZIG_LAYERS)), 63 - 8);
        x = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(x), sign));
        if (in == 0xff) {
            _mm512_storeu_pd(out + j, x);
            s->k += 8;
            j += 8;
            continue;
        }
        unsigned kept = (unsigned)__builtin_ctz(~(unsigned)in);
        _mm512_mask_storeu_pd(out + j, (__mmask8)((1u << kept) - 1u), x);
        s->k += kept;
        j += kept;
        uint64_t missed = ard_rng_words_next(s);
        out[j++] = ard_zig_normal_slow(t, s, missed);
    }
    return j;
}
#endif

void ard_zig_normal_fill(const ard_zig *t, ard_rng_words *s, double *out, int64_t n) {
    int64_t j = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) {
        j = fill_avx512(t, s, out, n);
    }
#endif
    for (; j < n; j++) {
        out[j] = ard_zig_normal(t, s);
    }
}
