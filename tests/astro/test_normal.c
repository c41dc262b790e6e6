/* The pixel-noise normal generator (ziggurat over counter-based words): its tables against the
 * equal-area construction, and its deviates against the N(0, 1) CDF (equal-probability bins, the
 * far tail that only the rejection path draws, moments, serial correlation). Expected values come
 * from erfc, never from the generator. */
#include "astro_test.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define DRAWS 2000000
#define BINS 1024

static double normal_cdf(double x) {
    return 0.5 * erfc(-x / M_SQRT2);
}

/* Every layer has the base strip's area v and the top one closes at x = 0 (f = 1). */
static void test_tables(void **state) {
    (void)state;
    ard_zig t;
    ard_zig_init(&t);
    double r = t.x[1];
    double v = r * exp(-0.5 * r * r) + sqrt(M_PI / 2.0) * erfc(r / M_SQRT2);
    assert_true(fabs(t.x[0] * exp(-0.5 * r * r) - v) < 1e-15);
    for (int i = 1; i < ARD_ZIG_LAYERS; i++) {
        assert_true(t.x[i + 1] < t.x[i]);
        double area = t.x[i] * (exp(-0.5 * t.x[i + 1] * t.x[i + 1]) - exp(-0.5 * t.x[i] * t.x[i]));
        assert_true(fabs(area - v) < 1e-9 * v);
    }
    assert_true(t.x[ARD_ZIG_LAYERS] == 0.0 && t.f[ARD_ZIG_LAYERS] == 1.0);
}

/* The word stream is ard_rng_hash4 over k. */
static void test_words(void **state) {
    (void)state;
    ard_rng_words s;
    ard_rng_words_init(&s, 42, 4, 123456789);
    for (uint64_t k = 0; k < 100; k++) {
        assert_true(ard_rng_words_next(&s) == ard_rng_hash4(42, 4, 123456789, k));
    }
}

static void test_distribution(void **state) {
    (void)state;
    ard_zig t;
    ard_zig_init(&t);
    int64_t *bins = calloc(BINS, sizeof *bins);
    assert_non_null(bins);
    double sum = 0.0, sum2 = 0.0, sum4 = 0.0, lag = 0.0, prev = 0.0;
    int64_t beyond_r = 0, beyond_4 = 0, n = 0;
    for (uint64_t obj = 0; n < DRAWS; obj++) { /* many short streams, like one per spectrum */
        ard_rng_words s;
        ard_rng_words_init(&s, 7, 4, obj);
        for (int j = 0; j < 4096 && n < DRAWS; j++, n++) {
            double x = ard_zig_normal(&t, &s);
            assert_true(isfinite(x));
            int b = (int)(normal_cdf(x) * BINS);
            bins[b < BINS ? b : BINS - 1]++;
            sum += x;
            sum2 += x * x;
            sum4 += x * x * x * x;
            lag += j > 0 ? x * prev : 0.0;
            prev = x;
            beyond_r += fabs(x) > t.x[1];
            beyond_4 += fabs(x) > 4.0;
        }
    }
    double expect = (double)DRAWS / BINS, chi2 = 0.0;
    for (int b = 0; b < BINS; b++) {
        double d = (double)bins[b] - expect;
        chi2 += d * d / expect;
    }
    /* chi2 with 1023 degrees of freedom: mean 1023, sd 45; 6 sd */
    assert_true(chi2 < 1023.0 + 6.0 * 45.2);
    double mean = sum / DRAWS, var = sum2 / DRAWS - mean * mean;
    assert_true(fabs(mean) < 5.0 / sqrt(DRAWS));
    assert_true(fabs(var - 1.0) < 5.0 * sqrt(2.0 / DRAWS));
    assert_true(fabs(sum4 / DRAWS - 3.0) < 5.0 * sqrt(96.0 / DRAWS)); /* var(x^4) = 105 - 9 */
    assert_true(fabs(lag / DRAWS) < 5.0 / sqrt(DRAWS));
    /* tails: Poisson counts against 2 Phi(-a), 5 sd */
    double er = DRAWS * 2.0 * normal_cdf(-t.x[1]), e4 = DRAWS * 2.0 * normal_cdf(-4.0);
    assert_true(fabs((double)beyond_r - er) < 5.0 * sqrt(er));
    assert_true(fabs((double)beyond_4 - e4) < 5.0 * sqrt(e4));
    free(bins);
}

/* ard_zig_normal_fill (eight lanes at a time where the CPU has AVX-512) gives the one-at-a-time
 * deviates bit for bit and leaves the stream where they do: lengths around the lane count, and
 * enough streams that blocks with a rejection (a tail or wedge draw taking extra words) in every
 * lane position occur. */
static void test_fill_matches(void **state) {
    (void)state;
    ard_zig t;
    ard_zig_init(&t);
    static const int64_t lengths[] = {0, 1, 7, 8, 9, 15, 16, 17, 255, 256, 4096};
    double got[4096];
    int64_t slow_seen = 0;
    for (uint64_t obj = 0; obj < 400; obj++) {
        int64_t n = lengths[obj % (sizeof lengths / sizeof *lengths)];
        ard_rng_words a, b;
        ard_rng_words_init(&a, 9, 4, obj);
        ard_rng_words_init(&b, 9, 4, obj);
        ard_zig_normal_fill(&t, &a, got, n);
        for (int64_t j = 0; j < n; j++) {
            double want = ard_zig_normal(&t, &b);
            assert_memory_equal(&got[j], &want, sizeof want);
        }
        assert_true(a.k == b.k);
        slow_seen += b.k - n;
    }
    assert_true(slow_seen > 100); /* the rejection path was taken (words beyond one per draw) */
}

/* The packed tables: each word gives back x[i] exactly, and its 9-bit bound splits the uniforms
 * of layer i as the rectangle test does: the largest uniform below the bound's span is in, the
 * least above it out (the test is monotone in the uniform, so all others follow). */
static void test_packed_tables(void **state) {
    (void)state;
    ard_zig t;
    ard_zig_init(&t);
    assert_true(t.packed_exp > 0); /* x in [0.2, 3.92]: exponents within 8 of each other */
    for (int i = 0; i < ARD_ZIG_LAYERS; i++) {
        uint64_t want, body = t.packed[i] & ((1ull << 55) - 1);
        memcpy(&want, &t.x[i], sizeof want);
        assert_true(body + ((uint64_t)t.packed_exp << 52) == want);
        uint64_t bound = t.packed[i] >> 55;
        if (bound > 0) { /* uniform m: word >> 11, 53 bits */
            uint64_t m = (bound << 44) - 1;
            assert_true(ard_rng_to_u01(m << 11) * t.x[i] < t.x[i + 1]);
        }
        if (bound < 511) {
            uint64_t m = (bound + 1) << 44;
            assert_false(ard_rng_to_u01(m << 11) * t.x[i] < t.x[i + 1]);
        }
    }
    assert_true(t.packed[ARD_ZIG_LAYERS - 1] >> 55 == 0); /* x[256] = 0: the top layer never in */
}

/* Longer streams filled in pieces of uneven lengths against one-at-a-time draws: rejections at
 * every lane and piece boundary, and ~1 in 512 lanes on their layer's 9-bit bound (the exact test
 * against x[i + 1]). */
static void test_fill_pieces(void **state) {
    (void)state;
    ard_zig t;
    ard_zig_init(&t);
    double got[300];
    for (uint64_t obj = 0; obj < 300; obj++) {
        ard_rng_words a, b;
        ard_rng_words_init(&a, 13, 4, obj);
        ard_rng_words_init(&b, 13, 4, obj);
        for (int piece = 0; piece < 40; piece++) {
            int64_t n = (int64_t)(ard_rng_hash4(5, 6, obj, (uint64_t)piece) % 300);
            ard_zig_normal_fill(&t, &a, got, n);
            for (int64_t j = 0; j < n; j++) {
                double want = ard_zig_normal(&t, &b);
                assert_memory_equal(&got[j], &want, sizeof want);
            }
            assert_true(a.k == b.k);
        }
    }
}

int as_run_normal_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),        cmocka_unit_test(test_words),
        cmocka_unit_test(test_distribution),  cmocka_unit_test(test_fill_matches),
        cmocka_unit_test(test_packed_tables), cmocka_unit_test(test_fill_pieces),
    };
    return cmocka_run_group_tests_name("astro_normal", tests, NULL, NULL);
}
