/* Tokenizer tests: bit-for-bit equality with a straightforward sort-based reference on random and
 * adversarial spectra (all-equal, NaN, negative, zeros, all-masked, nulls), option checks, and
 * patch wavelengths. */
#include "st_util.h"
#include "stream_int.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- the reference: gathers valid values, sorts them, takes the middle ---- */

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static float ref_median(float *v, int64_t m) {
    qsort(v, (size_t)m, sizeof *v, cmp_float);
    if (m % 2) {
        return v[m / 2];
    }
    return (float)(((double)v[m / 2 - 1] + (double)v[m / 2]) / 2.0);
}

static int ref_valid(const float *flux, const float *ivar, const uint8_t *fv, int64_t i,
                     const uint8_t *mask) {
    int nonnull = !fv || ((fv[i / 8] >> (i % 8)) & 1);
    return nonnull && ivar[i] > 0 && isfinite(ivar[i]) && isfinite(flux[i]) && (!mask || !mask[i]);
}

static float ref_masked_median(const float *flux, const uint8_t *valid, int64_t lo, int64_t hi,
                               int absolute, int64_t *count) {
    float *v = malloc((size_t)(hi - lo) * 4 + 4);
    int64_t m = 0;
    for (int64_t i = lo; i < hi; i++) {
        if (valid[i]) {
            float x = absolute ? fabsf(flux[i]) : flux[i];
            v[m++] = x == 0.0f ? 0.0f : x;
        }
    }
    float med = m ? ref_median(v, m) : NAN;
    free(v);
    *count = m;
    return med;
}

static void ref_tokenize(const ard_tokenize_options *o, const float *flux, const float *ivar,
                         const uint8_t *fv, const uint8_t *mask, int64_t n, float *tokens,
                         float *scales, uint8_t *pm, uint8_t *flags) {
    uint8_t *valid = malloc((size_t)n);
    int64_t nv = 0, cnt;
    for (int64_t i = 0; i < n; i++) {
        valid[i] = (uint8_t)ref_valid(flux, ivar, fv, i, mask);
        nv += valid[i];
    }
    int64_t np = (n + o->patch - 1) / o->patch;
    memset(tokens, 0, (size_t)(np * o->patch) * 4);
    *flags = 0;
    if (nv == 0) {
        for (int64_t p = 0; p < np; p++) {
            scales[p] = 1.0f;
            pm[p] = 0;
        }
        *flags = ARD_SPEC_ALL_MASKED;
        free(valid);
        return;
    }
    float robust = ref_masked_median(flux, valid, 0, n, 1, &cnt);
    int robust_used = 0;
    if (!(isfinite(robust) && robust > o->floor)) {
        robust = 1.0f;
        robust_used = 1;
    }
    float spec = 0.0f;
    if (o->norm == ARD_NORM_SPECTRUM_MEDIAN) {
        spec = ref_masked_median(flux, valid, 0, n, 0, &cnt);
        if (!(isfinite(spec) && spec > o->floor)) {
            spec = robust;
            *flags |= robust_used ? ARD_SPEC_SCALE_ONE : 0;
        }
    }
    for (int64_t p = 0; p < np; p++) {
        int64_t lo = p * o->patch, hi = lo + o->patch < n ? lo + o->patch : n;
        int64_t c = 0;
        for (int64_t i = lo; i < hi; i++) {
            c += valid[i];
        }
        float s;
        if (c == 0) {
            pm[p] = ARD_PATCH_INVALID;
            s = o->norm == ARD_NORM_NONE ? 1.0f : (spec > 0 ? spec : 1.0f);
        } else if (o->norm == ARD_NORM_NONE) {
            pm[p] = ARD_PATCH_OWN;
            s = 1.0f;
        } else if (o->norm == ARD_NORM_SPECTRUM_MEDIAN) {
            pm[p] = ARD_PATCH_OWN;
            s = spec;
        } else {
            float med = c >= o->min_valid ? ref_masked_median(flux, valid, lo, hi, 0, &cnt) : NAN;
            if (isfinite(med) && med > o->floor) {
                pm[p] = ARD_PATCH_OWN;
                s = med;
            } else {
                pm[p] = ARD_PATCH_FALLBACK;
                s = robust;
                *flags |= robust_used ? ARD_SPEC_SCALE_ONE : 0;
            }
        }
        scales[p] = s;
        for (int64_t i = lo; i < hi; i++) {
            tokens[p * o->patch + (i - lo)] = valid[i] ? flux[i] / s : 0.0f;
        }
    }
    free(valid);
}

/* Runs both and compares every output bit for bit. */
static void check_same(const ard_tokenize_options *o, const float *flux, const float *ivar,
                       const uint8_t *fv, const uint8_t *mask, int64_t n) {
    int64_t np = ard_tokenize_num_patches(n, o->patch);
    size_t tb = (size_t)(np * o->patch) * 4;
    float *t1 = malloc(tb), *t2 = malloc(tb), *s1 = malloc((size_t)np * 4),
          *s2 = malloc((size_t)np * 4);
    uint8_t *m1 = malloc((size_t)np), *m2 = malloc((size_t)np), f1 = 9, f2 = 9;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(
        ard_tokenize_spectrum(o, flux, ivar, fv, NULL, 0, mask, n, t1, s1, m1, &f1, NULL, &err),
        ARD_OK);
    ref_tokenize(o, flux, ivar, fv, mask, n, t2, s2, m2, &f2);
    assert_memory_equal(t1, t2, tb);
    assert_memory_equal(s1, s2, (size_t)np * 4);
    assert_memory_equal(m1, m2, (size_t)np);
    assert_int_equal(f1, f2);
    for (int64_t i = 0; i < np * o->patch; i++) {
        assert_true(isfinite(t1[i]));
    }
    for (int64_t p = 0; p < np; p++) {
        assert_true(isfinite(s1[p]) && s1[p] > 0);
    }
    free(t1), free(t2), free(s1), free(s2), free(m1), free(m2);
}

static void fill_random(st_rng *r, float *flux, float *ivar, uint8_t *fv, int64_t n, int kind) {
    memset(fv, 0, (size_t)(n / 8 + 1));
    for (int64_t i = 0; i < n; i++) {
        double u = st_unit(r);
        switch (kind) {
        case 0:
            flux[i] = (float)(1.0 + u);
            break; /* positive */
        case 1:
            flux[i] = (float)(u - 0.5);
            break; /* around zero, negative */
        case 2:
            flux[i] = 3.25f;
            break; /* all equal */
        case 3:
            flux[i] = (st_next(r) % 4) ? (float)u : NAN;
            break; /* NaNs */
        case 4:
            flux[i] = (st_next(r) % 2) ? 0.0f : -0.0f;
            break; /* signed zeros */
        case 5:
            flux[i] = (float)(st_next(r) % 3);
            break; /* many ties */
        default:
            flux[i] = -(float)(1.0 + u);
            break; /* all negative */
        }
        ivar[i] = (st_next(r) % 7) ? (float)(0.5 + u) : 0.0f;
        if (st_next(r) % 9) {
            fv[i / 8] |= (uint8_t)(1u << (i % 8));
        }
    }
}

static void test_exact_random(void **state) {
    (void)state;
    st_rng r = {12345};
    int64_t sizes[] = {1, 7, 63, 64, 65, 200, 4096, 4000};
    int32_t patches[] = {32, 64, 100, 128};
    float *flux = malloc(4096 * 4), *ivar = malloc(4096 * 4);
    uint8_t *fv = malloc(4096 / 8 + 2), *mask = malloc(4096);
    for (int kind = 0; kind < 7; kind++) {
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            for (int mode = 0; mode < 3; mode++) {
                ard_tokenize_options o;
                ard_tokenize_options_init(&o);
                o.norm = mode;
                o.patch = patches[(si + (size_t)kind) % 4];
                o.min_valid = o.patch / 4;
                fill_random(&r, flux, ivar, fv, sizes[si], kind);
                for (int64_t i = 0; i < sizes[si]; i++) {
                    mask[i] = (uint8_t)((st_next(&r) % 40) == 0);
                }
                check_same(&o, flux, ivar, fv, NULL, sizes[si]);
                check_same(&o, flux, ivar, fv, mask, sizes[si]);
                check_same(&o, flux, ivar, NULL, NULL, sizes[si]);
            }
        }
    }
    free(flux), free(ivar), free(fv), free(mask);
}

static void test_all_masked(void **state) {
    (void)state;
    ard_tokenize_options o;
    ard_tokenize_options_init(&o);
    float flux[130], ivar[130], tokens[3 * 64], scales[3];
    uint8_t pm[3], flags = 0;
    for (int i = 0; i < 130; i++) {
        flux[i] = (float)i;
        ivar[i] = 0.0f;
    }
    assert_int_equal(ard_tokenize_spectrum(&o, flux, ivar, NULL, NULL, 0, NULL, 130, tokens, scales,
                                           pm, &flags, NULL, NULL),
                     ARD_OK);
    assert_int_equal(flags, ARD_SPEC_ALL_MASKED);
    for (int p = 0; p < 3; p++) {
        assert_true(scales[p] == 1.0f);
        assert_int_equal(pm[p], ARD_PATCH_INVALID);
    }
    for (int i = 0; i < 3 * 64; i++) {
        assert_true(tokens[i] == 0.0f);
    }
    check_same(&o, flux, ivar, NULL, NULL, 130);
}

static void test_fallback_and_padding(void **state) {
    (void)state;
    ard_tokenize_options o;
    ard_tokenize_options_init(&o);
    float flux[100], ivar[100], tokens[128], scales[2];
    uint8_t pm[2], flags;
    for (int i = 0; i < 100; i++) {
        flux[i] = i < 64 ? -1.0f : 2.0f; /* first patch: negative median -> fallback */
        ivar[i] = 1.0f;
    }
    assert_int_equal(ard_tokenize_spectrum(&o, flux, ivar, NULL, NULL, 0, NULL, 100, tokens, scales,
                                           pm, &flags, NULL, NULL),
                     ARD_OK);
    assert_int_equal(pm[0], ARD_PATCH_FALLBACK);
    assert_int_equal(pm[1], ARD_PATCH_OWN);
    assert_true(scales[0] == 1.0f); /* median |flux| over 64 ones and 36 twos */
    assert_true(scales[1] == 2.0f);
    assert_true(tokens[64] == 1.0f && tokens[99] == 1.0f);
    for (int i = 100; i < 128; i++) {
        assert_true(tokens[i] == 0.0f); /* padding */
    }
}

static void test_median_select(void **state) {
    (void)state;
    st_rng r = {9};
    float a[301], b[301];
    for (int n = 1; n <= 301; n += 3) {
        for (int i = 0; i < n; i++) {
            a[i] = b[i] = (float)(st_next(&r) % 17) - 8.0f;
        }
        float x = ard_median_select(a, n);
        float y = ref_median(b, n);
        assert_memory_equal(&x, &y, 4);
    }
    /* adversarial: sorted, reversed, organ-pipe */
    for (int pattern = 0; pattern < 3; pattern++) {
        for (int i = 0; i < 301; i++) {
            float v = pattern == 0   ? (float)i
                      : pattern == 1 ? (float)(301 - i)
                                     : (float)(i < 150 ? i : 301 - i);
            a[i] = b[i] = v;
        }
        float x = ard_median_select(a, 300);
        float y = ref_median(b, 300);
        assert_memory_equal(&x, &y, 4);
    }
}

/* ---- the small-median kernels (counts up to ARD_PATCH_MAX) and the fast patch path ---- */

/* Values of one kind: 0 uniform in (-1, 1), 1 few distinct (duplicates), 2 all equal, 3 signed
 * zeros and tiny values, 4 negative, 5 some +inf, 6 some -inf, 7 ascending, 8 descending, 9 wide
 * exponents, 10 hostile to the kernel's sample (sampled positions hold the largest values). */
#define KIND_COUNT 11
static void fill_kind(st_rng *r, float *v, int n, int kind) {
    for (int i = 0; i < n; i++) {
        double u = st_unit(r);
        uint64_t b = st_next(r);
        switch (kind) {
        case 0:
            v[i] = (float)(2.0 * u - 1.0);
            break;
        case 1:
            v[i] = (float)(b % 5) - 2.0f;
            break;
        case 2:
            v[i] = -7.5f;
            break;
        case 3:
            v[i] = b % 3 == 0 ? 0.0f : b % 3 == 1 ? -0.0f : (float)(u * 1e-30);
            break;
        case 4:
            v[i] = -(float)(1.0 + u);
            break;
        case 5:
            v[i] = b % 6 == 0 ? INFINITY : (float)u;
            break;
        case 6:
            v[i] = b % 6 == 0 ? -INFINITY : (float)u;
            break;
        case 7:
            v[i] = (float)i * 0.5f;
            break;
        case 8:
            v[i] = (float)(n - i);
            break;
        case 9:
            v[i] = (float)ldexp(u, (int)(b % 201) - 100) * (b & 1 ? -1.0f : 1.0f);
            break;
        default:
            v[i] = (float)i;
            break;
        }
    }
    if (kind == 10) { /* the positions the kernel samples get the largest values */
        for (int i = 0; i < 16; i++) {
            v[(2 * i + 1) * n / 32] = 1000.0f + (float)i;
        }
    }
}

/* The reference median of v[0..m) with -0.0 counted as +0.0 (v is not modified). */
static float ref_median_copy(const float *v, int m) {
    float *c = malloc((size_t)m * 4);
    for (int i = 0; i < m; i++) {
        c[i] = v[i] == 0.0f ? 0.0f : v[i];
    }
    float med = ref_median(c, m);
    free(c);
    return med;
}

static void test_median_small_kernels(void **state) {
    (void)state;
    st_rng r = {20261124};
    float v[ARD_PATCH_MAX], keys[ARD_PATCH_MAX], copy[300], big[300];
    int kernels = 0;
    for (int which = 0; which < 3; which++) {
        ard__median_small_fn fn = ard__median_small_kernel(which);
        if (!fn) {
            continue;
        }
        kernels++;
        for (int kind = 0; kind < KIND_COUNT; kind++) {
            for (int len = 1; len <= ARD_PATCH_MAX; len++) {
                for (int rep = 0; rep < 6; rep++) {
                    /* count of the len keys are values, the rest +inf (invalid pixels) */
                    int count = rep == 0 ? len : 1 + (int)(st_next(&r) % (uint64_t)len);
                    fill_kind(&r, v, count, kind);
                    for (int i = 0; i < len; i++) {
                        keys[i] = INFINITY;
                    }
                    int placed = 0;
                    for (int i = 0; i < len && placed < count; i++) {
                        /* spread the values over the positions, keep their order when all fit */
                        if (len - i <= count - placed || st_next(&r) % 2) {
                            keys[i] = v[placed++];
                        }
                    }
                    float got = fn(keys, len, count), want = ref_median_copy(v, count);
                    assert_memory_equal(&got, &want, 4);
                }
            }
        }
    }
    assert_true(kernels >= 1);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("avx512f")) { /* the AVX-512 network was tested above */
        assert_int_equal(kernels, 3);
    }
#endif
    /* the public entry point, on both sides of the small kernel's limit */
    for (int kind = 0; kind < KIND_COUNT; kind++) {
        for (int n = 1; n <= 300; n++) {
            fill_kind(&r, big, n, kind);
            memcpy(copy, big, (size_t)n * 4);
            float got = ard_median_select(copy, n), want = ref_median_copy(big, n);
            assert_memory_equal(&got, &want, 4);
        }
    }
}

/* Spectra whose patch p has exactly p % (patch + 1) valid pixels (0..patch), the invalid ones
 * made invalid in every documented way (IVAR 0, negative or inf, flux NaN or inf, null, mask),
 * values of every kind, min_valid 1 (a median for every count) and the default; against the
 * sort-based reference, bit for bit. */
static void test_patch_fast_path(void **state) {
    (void)state;
    st_rng r = {77};
    int32_t patches[] = {64, 32, 100, 128};
    for (size_t pi = 0; pi < sizeof patches / sizeof *patches; pi++) {
        int32_t patch = patches[pi];
        int64_t n = (int64_t)patch * (patch + 1) + patch / 3; /* a short last patch */
        float *flux = malloc((size_t)n * 4), *ivar = malloc((size_t)n * 4), vals[ARD_PATCH_MAX];
        uint8_t *fv = malloc((size_t)n / 8 + 1), *mask = malloc((size_t)n);
        for (int kind = 0; kind < KIND_COUNT; kind++) {
            memset(fv, 0xff, (size_t)n / 8 + 1);
            memset(mask, 0, (size_t)n);
            for (int64_t start = 0, p = 0; start < n; start += patch, p++) {
                int64_t len = n - start < patch ? n - start : patch;
                int64_t want = p % (patch + 1) < len ? p % (patch + 1) : len;
                fill_kind(&r, vals, (int)len, kind);
                int64_t order[ARD_PATCH_MAX]; /* a random order: the first len - want go invalid */
                for (int64_t i = 0; i < len; i++) {
                    flux[start + i] = vals[i];
                    ivar[start + i] = 1.0f + (float)st_unit(&r);
                    order[i] = i;
                }
                for (int64_t i = len - 1; i > 0; i--) {
                    int64_t j = (int64_t)(st_next(&r) % (uint64_t)(i + 1)), t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                for (int64_t i = 0; i < len - want; i++) {
                    int64_t at = start + order[i];
                    switch (st_next(&r) % 7) {
                    case 0:
                        ivar[at] = 0.0f;
                        break;
                    case 1:
                        ivar[at] = -1.0f;
                        break;
                    case 2:
                        ivar[at] = INFINITY;
                        break;
                    case 3:
                        flux[at] = NAN;
                        break;
                    case 4:
                        flux[at] = -INFINITY;
                        break;
                    case 5:
                        fv[at / 8] &= (uint8_t) ~(1u << (at % 8));
                        break;
                    default:
                        mask[at] = 1;
                        break;
                    }
                }
            }
            for (int mode = 0; mode < 3; mode++) {
                ard_tokenize_options o;
                ard_tokenize_options_init(&o);
                o.patch = patch;
                o.norm = mode;
                o.min_valid = 1;
                check_same(&o, flux, ivar, fv, mask, n);
                o.min_valid = patch / 4;
                check_same(&o, flux, ivar, fv, mask, n);
                check_same(&o, flux, ivar, NULL, NULL, n);
            }
        }
        free(flux), free(ivar), free(fv), free(mask);
    }
}

static void test_options(void **state) {
    (void)state;
    ard_tokenize_options o;
    ard_tokenize_options_init(&o);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_tokenize_options_check(&o, &err), ARD_OK);
    o.patch = 16;
    assert_int_equal(ard_tokenize_options_check(&o, &err), ARD_EINVAL);
    o.patch = 129;
    assert_int_equal(ard_tokenize_options_check(&o, NULL), ARD_EINVAL);
    o.patch = 64;
    o.norm = 7;
    assert_int_equal(ard_tokenize_options_check(&o, NULL), ARD_EINVAL);
    o.norm = 0;
    o.floor = NAN;
    assert_int_equal(ard_tokenize_options_check(&o, NULL), ARD_EINVAL);
    ard_tokenize_options_init(&o);
    float f[4] = {1, 2, 3, 4}, t[64], s[1];
    uint8_t m[1], fl;
    assert_int_equal(
        ard_tokenize_spectrum(&o, f, f, NULL, NULL, 0, NULL, 0, t, s, m, &fl, NULL, NULL),
        ARD_EINVAL);
    assert_int_equal(ard_tokenize_num_patches(4096, 64), 64);
    assert_int_equal(ard_tokenize_num_patches(4097, 64), 65);
}

static void test_wavelengths(void **state) {
    (void)state;
    float w[64];
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_patch_wavelengths(NULL, 4096, 64, w, &err), ARD_OK);
    double expect0 = 3600.0 * pow(9824.0 / 3600.0, 31.5 / 4095.0);
    assert_true(fabs(w[0] - expect0) < 1e-3);
    for (int p = 1; p < 64; p++) {
        assert_true(w[p] > w[p - 1]);
    }
    assert_int_equal(
        ard_patch_wavelengths("kind=linear;start=1000;stop=2000;n=101", 101, 50, w, &err), ARD_OK);
    assert_true(fabs(w[0] - 1245.0) < 1e-3 && fabs(w[2] - 2000.0) < 1e-3);
    assert_int_equal(ard_patch_wavelengths("kind=log;start=1;n=3", 3, 32, w, NULL), ARD_EINVAL);
    assert_int_equal(ard_patch_wavelengths(NULL, 4000, 64, w, NULL), ARD_EINVAL);
}

int st_tokenize_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_random),
        cmocka_unit_test(test_all_masked),
        cmocka_unit_test(test_fallback_and_padding),
        cmocka_unit_test(test_median_select),
        cmocka_unit_test(test_median_small_kernels),
        cmocka_unit_test(test_patch_fast_path),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_wavelengths),
    };
    return cmocka_run_group_tests_name("tokenize", tests, NULL, NULL);
}
