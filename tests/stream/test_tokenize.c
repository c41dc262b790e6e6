/* Tokenizer tests: bit-for-bit equality with a straightforward sort-based reference on random and
 * adversarial spectra (all-equal, NaN, negative, zeros, all-masked, nulls), option checks, and
 * patch wavelengths. */
#include "st_util.h"

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
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_wavelengths),
    };
    return cmocka_run_group_tests_name("tokenize", tests, NULL, NULL);
}
