/* Per-pixel weights and rest-frame placement in C: ard_tokenize_weights against a plain reference on
 * adversarial spectra (null bitmaps at an offset, masks, NaN / inf flux, IVAR 0 / negative / NaN /
 * huge enough to overflow float, the padding of the last patch); the rest grid, shifts at the edges
 * of the redshift range and placement at and beyond the grid's ends; bad options with their exact
 * statuses; and a loader with weights whose cached epoch equals the first one bit for bit. */
#include "st_util.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int bit(const uint8_t *bits, int64_t i) {
    return (bits[i / 8] >> (i % 8)) & 1;
}

static void test_weights_reference(void **state) {
    (void)state;
    enum { N = 200, P = 32, OFF = 5 };
    int64_t np = ard_tokenize_num_patches(N, P);
    float flux[N], ivar[N], scales[8], tokens[8 * P], w[8 * P];
    uint8_t fv[(N + OFF + 7) / 8], iv[(N + OFF + 7) / 8], mask[N], pmask[8], flags;
    st_rng r = {11};
    for (int64_t i = 0; i < N; i++) {
        flux[i] = (float)(st_unit(&r) * 20.0 - 5.0);
        ivar[i] = (float)(st_unit(&r) * 4.0);
        mask[i] = st_unit(&r) < 0.05 ? 3 : 0;
    }
    for (size_t k = 0; k < sizeof fv; k++) {
        fv[k] = (uint8_t)st_next(&r) | 0xbd;
        iv[k] = (uint8_t)st_next(&r) | 0xef;
    }
    flux[3] = NAN;
    flux[4] = INFINITY;
    ivar[5] = 0.0f;
    ivar[6] = -1.0f;
    ivar[7] = NAN;
    ivar[8] = INFINITY;
    ivar[9] = FLT_MAX; /* times scale^2 > 1: clamped to FLT_MAX */
    flux[9] = 1e30f;
    ivar[N - 1] = 1e-30f; /* tiny but valid */
    ard_tokenize_options o;
    ard_tokenize_options_init(&o);
    o.patch = P;
    o.min_valid = 4;
    assert_int_equal(ard_tokenize_spectrum(&o, flux, ivar, fv, iv, OFF, mask, N, tokens, scales,
                                           pmask, &flags, NULL, NULL),
                     ARD_OK);
    memset(w, 0xff, sizeof w);
    assert_int_equal(ard_tokenize_weights(P, flux, ivar, fv, iv, OFF, mask, N, scales, w, NULL),
                     ARD_OK);
    int64_t zeros = 0, clamped = 0;
    for (int64_t k = 0; k < np * P; k++) {
        float want = 0.0f;
        if (k < N && bit(fv, OFF + k) && bit(iv, OFF + k) && !mask[k] && isfinite(flux[k]) &&
            isfinite(ivar[k]) && ivar[k] > 0) {
            double s = scales[k / P];
            double v = (double)ivar[k] * (s * s);
            want = v < FLT_MAX ? (float)v : FLT_MAX;
            clamped += v >= FLT_MAX;
        }
        zeros += want == 0.0f;
        assert_memory_equal(&w[k], &want, sizeof want);
        /* a valid pixel has a weight > 0 and the tokenizer's token; an invalid one token 0 */
        if (want == 0.0f) {
            assert_true(tokens[k] == 0.0f);
        }
    }
    assert_true(zeros > np * P - N); /* the padding and the invalid pixels */
    assert_true(w[N - 1] > 0.0f);
    (void)clamped;
    /* bad input */
    assert_int_equal(ard_tokenize_weights(P, flux, ivar, NULL, NULL, 0, NULL, 0, scales, w, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_tokenize_weights(16, flux, ivar, NULL, NULL, 0, NULL, N, scales, w, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_tokenize_weights(P, flux, NULL, NULL, NULL, 0, NULL, N, scales, w, NULL),
                     ARD_EINVAL);
}

static void test_rest_grid(void **state) {
    (void)state;
    ard_rest_grid g;
    const char *grid = "kind=log;start=3600;stop=9824;n=4096";
    assert_int_equal(ard_rest_grid_make(grid, 4096, 0.0, 1.0, &g, NULL), ARD_OK);
    double d = log10(9824.0 / 3600.0) / 4095.0;
    assert_true(fabs(g.dloglam - d) < 1e-15);
    assert_int_equal(g.n_rest, 4096 + (int64_t)ceil(log10(2.0) / d - 1e-9));
    assert_true(fabs(g.loglam0 - (log10(3600.0) - log10(2.0))) < 1e-12);
    assert_int_equal(ard_rest_shift(&g, 1.0), 0);
    assert_int_equal(ard_rest_shift(&g, 0.0), (int64_t)nearbyint(log10(2.0) / d));
    assert_true(ard_rest_shift(&g, 0.0) <= g.n_rest - 4096 &&
                ard_rest_shift(&g, 0.0) >= g.n_rest - 4096 - 1);
    assert_int_equal(ard_rest_shift(&g, NAN), INT64_MIN);
    assert_int_equal(ard_rest_shift(&g, -1.0), INT64_MIN);
    assert_int_equal(ard_rest_shift(&g, INFINITY), INT64_MIN);
    /* an emission line keeps its rest wavelength: Halpha observed at 6563 (1 + z) */
    double z = 0.3;
    int64_t s = ard_rest_shift(&g, z);
    double obs_bin = log10(6562.8 * (1 + z) / 3600.0) / d;
    double rest_lam = pow(10.0, g.loglam0 + g.dloglam * (obs_bin + (double)s));
    assert_true(fabs(rest_lam / 6562.8 - 1.0) < 0.6 * d * log(10.0));

    enum { N = 50 };
    ard_rest_grid small;
    assert_int_equal(
        ard_rest_grid_make("kind=log;start=4000;stop=4100;n=50", N, 0.0, 0.01, &small, NULL),
        ARD_OK);
    int64_t nr = small.n_rest;
    float flux[N], ivar[N], of[256], oi[256];
    for (int i = 0; i < N; i++) {
        flux[i] = (float)i + 1.0f;
        ivar[i] = 2.0f;
    }
    assert_true(nr > N && nr < 256);
    int64_t shifts[] = {0, nr - N, -3, nr - 2, -N, nr, INT64_MIN, 7};
    for (size_t k = 0; k < sizeof shifts / sizeof *shifts; k++) {
        ard_rest_place(&small, shifts[k], flux, ivar, of, oi);
        for (int64_t j = 0; j < nr; j++) {
            int64_t src = shifts[k] == INT64_MIN ? -1 : j - shifts[k];
            if (src >= 0 && src < N) {
                assert_true(of[j] == flux[src] && oi[j] == ivar[src]);
            } else {
                assert_true(isnan(of[j]) && isnan(oi[j]));
            }
        }
    }
    float wave[8];
    assert_int_equal(ard_rest_wavelengths(&small, 32, wave, NULL), ARD_OK);
    assert_true(fabs(wave[0] - pow(10.0, small.loglam0 + small.dloglam * 15.5)) < 1e-3);
    /* bad input, exact statuses */
    assert_int_equal(
        ard_rest_grid_make("kind=linear;start=3600;stop=9824;n=4096", 4096, 0, 1, &g, NULL),
        ARD_EINVAL);
    assert_int_equal(ard_rest_grid_make(grid, 4000, 0, 1, &g, NULL), ARD_EINVAL);
    assert_int_equal(ard_rest_grid_make(grid, 4096, 1.0, 0.5, &g, NULL), ARD_EINVAL);
    assert_int_equal(ard_rest_grid_make(grid, 4096, -1.0, 0.5, &g, NULL), ARD_EINVAL);
    assert_int_equal(ard_rest_grid_make(grid, 4096, 0.0, NAN, &g, NULL), ARD_EINVAL);
    assert_int_equal(
        ard_rest_grid_make("kind=log;start=3600;stop=3600.01;n=4096", 4096, 0.0, 9.0, &g, NULL),
        ARD_EINVAL); /* more than 2^24 bins */
    assert_int_equal(ard_rest_grid_make("kind=log;start=3600", 4096, 0, 1, &g, NULL), ARD_EINVAL);
    assert_int_equal(ard_rest_wavelengths(&small, 0, wave, NULL), ARD_EINVAL);
}

/* Weights of every row of every batch of a 2-epoch loader; the second epoch comes from the cache
 * and must equal the first bit for bit, and every row's weights equal tokenizer + weights on the
 * rows delivered without the cache. */
static void test_loader_weights_cache(void **state) {
    (void)state;
    char *ds = st_make_dataset(2, 60, 256, 32);
    assert_non_null(ds);
    ard_loader_options o;
    ard_loader_options_init(&o);
    o.batch_size = 16;
    o.prefetch_batches = 3;
    o.epochs = 2;
    o.cache = 1;
    o.weights = 1;
    o.tokenize.patch = 64;
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new_dataset(&o, ds, &l, NULL), ARD_OK);
    assert_int_equal(ard_loader_cache_active(l), 1);
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    int32_t wi = ard_store_column_find(c, "WEIGHTS");
    assert_true(wi >= 0);
    assert_int_equal(ard_store_column_type(c, wi), ARD_COLUMN_FLOAT32);
    assert_int_equal(ard_store_column_width(c, wi), 4 * 64 * 4);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    enum { ROWS = 120, W = 4 * 64 };
    float *first = calloc((size_t)ROWS * W, 4);
    int seen[ROWS] = {0};
    int64_t positive = 0;
    ard_batch b;
    ard_status st;
    while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
        float *w = ard_batch_weights(c, &b);
        assert_non_null(w);
        assert_ptr_equal(w, ard_batch_column(c, &b, wi));
        for (int i = 0; i < b.count; i++) {
            int64_t id = b.targetid[i];
            int64_t row = (id / 1000000 - 1) * 60 + id % 1000000;
            assert_true(row >= 0 && row < ROWS);
            for (int k = 0; k < W; k++) {
                assert_true(w[i * W + k] >= 0.0f);
                assert_true(w[i * W + k] > 0.0f || b.tokens[i * W + k] == 0.0f);
                positive += w[i * W + k] > 0.0f;
            }
            if (seen[row]++ == 0) {
                memcpy(first + row * W, w + i * W, W * 4);
            } else {
                assert_memory_equal(first + row * W, w + i * W, W * 4);
            }
        }
        ard_store_release(c, &b, NULL);
    }
    assert_int_equal(st, ARD_EEOF);
    assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
    for (int r = 0; r < ROWS; r++) {
        assert_int_equal(seen[r], 2);
    }
    assert_true(positive > ROWS * W / 2);
    ard_store_close(c);
    ard_loader_free(l);
    free(first);
    /* options: weights must be 0/1; frame rest needs the index (none here) */
    o.epochs = 1;
    o.weights = 2;
    assert_int_equal(ard_loader_new_dataset(&o, ds, &l, NULL), ARD_EINVAL);
    o.weights = 1;
    o.frame = 7;
    assert_int_equal(ard_loader_new_dataset(&o, ds, &l, NULL), ARD_EINVAL);
    o.frame = ARD_FRAME_REST;
    o.rest_zmax = -0.5;
    assert_int_equal(ard_loader_new_dataset(&o, ds, &l, NULL), ARD_EINVAL);
    o.rest_zmax = 1.0;
    ard_error e;
    ard_error_init(&e);
    assert_int_not_equal(ard_loader_new_dataset(&o, ds, &l, &e), ARD_OK);
    assert_null(l);
    st_rmtree(ds);
    free(ds);
}

int st_weights_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_reference),
        cmocka_unit_test(test_rest_grid),
        cmocka_unit_test(test_loader_weights_cache),
    };
    return cmocka_run_group_tests_name("weights", tests, NULL, NULL);
}
