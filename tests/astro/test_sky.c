/* Sky numerics: wavelength grid text, HEALPix against known centres and the real DESI coadd header,
 * cosmology against a brute-force integral. */
#include "astro_test.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

static void test_grid_default_and_text(void **state) {
    (void)state;
    ard_grid g, back;
    ard_grid_default(&g);
    assert_int_equal(g.kind, ARD_GRID_LOG);
    assert_int_equal(g.n, 4096);
    char text[ARD_GRID_TEXT_MAX];
    assert_int_equal(ard_grid_format(&g, text, sizeof text, NULL), ARD_OK);
    assert_string_equal(text, "kind=log;start=3600;stop=9824;n=4096");
    assert_int_equal(ard_grid_parse(text, &back, NULL), ARD_OK);
    assert_true(ard_grid_equal(&g, &back));
    assert_int_equal(ard_grid_parse("n=7781;stop=9824;kind=linear;start=3600", &back, NULL),
                     ARD_OK);
    assert_int_equal(back.kind, ARD_GRID_LINEAR);
    as_assert_near(ard_grid_wavelength(&back, 1.0) - 3600.0, 0.8, 1e-9);
    as_assert_near(ard_grid_wavelength(&g, 4095.0), 9824.0, 1e-9);
    as_assert_near(ard_grid_index(&g, ard_grid_wavelength(&g, 1234.25)), 1234.25, 1e-7);
    char small[8];
    assert_int_equal(ard_grid_format(&g, small, sizeof small, NULL), ARD_ERANGE);
}

static void test_grid_parse_errors(void **state) {
    (void)state;
    static const char *bad[] = {"",
                                "kind=log;start=3600;stop=9824",
                                "kind=log;start=3600;stop=9824;n=4096;n=4096",
                                "kind=cubic;start=3600;stop=9824;n=10",
                                "kind=log;start=9824;stop=3600;n=10",
                                "kind=log;start=3600;stop=9824;n=1",
                                "kind=log;start=3600;stop=9824;n=4.5",
                                "kind=log;start=abc;stop=9824;n=10",
                                "kind=log;start=3600;stop=9824;n=10;color=red",
                                "kind=log;start=-1;stop=9824;n=10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ard_grid g;
        ard_error err;
        ard_error_init(&err);
        assert_int_equal(ard_grid_parse(bad[i], &g, &err), ARD_EINVAL);
        assert_true(strlen(err.msg) > 0);
    }
    ard_grid g;
    assert_int_equal(ard_grid_from_name("log2048", &g, NULL), ARD_OK);
    assert_int_equal(g.n, 2048);
    assert_int_equal(ard_grid_from_name("desi", &g, NULL), ARD_OK);
    assert_int_equal(g.n, 7781);
    assert_int_equal(g.kind, ARD_GRID_LINEAR);
    assert_int_equal(ard_grid_from_name("log", &g, NULL), ARD_EINVAL);
    assert_int_equal(ard_grid_from_name("log12x", &g, NULL), ARD_EINVAL);
    assert_int_equal(ard_grid_from_name("cubic100", &g, NULL), ARD_EINVAL);
}

static void test_healpix_known(void **state) {
    (void)state;
    double ra, dec;
    /* NSIDE 1 base pixels: 0 at (45, asin(2/3)), 4 at (0, 0), 8 at (45, -asin(2/3)) */
    assert_int_equal(ard_healpix_pix2ang_nest(1, 0, &ra, &dec, NULL), ARD_OK);
    as_assert_near(ra, 45.0, 1e-9);
    as_assert_near(dec, asin(2.0 / 3.0) * 180.0 / M_PI, 1e-9);
    assert_int_equal(ard_healpix_pix2ang_nest(1, 4, &ra, &dec, NULL), ARD_OK);
    as_assert_near(ra, 0.0, 1e-9);
    as_assert_near(dec, 0.0, 1e-9);
    assert_int_equal(ard_healpix_pix2ang_nest(1, 8, &ra, &dec, NULL), ARD_OK);
    as_assert_near(dec, -asin(2.0 / 3.0) * 180.0 / M_PI, 1e-9);
    /* the real DESI healpix coadd: HPXPIXEL=27247 at NSIDE 64 for TARGET_RA/DEC of its target */
    assert_int_equal(ard_healpix_ang2pix_nest(64, 149.465404248889, 1.7936467486355945), 27247);
    as_assert_near(ard_healpix_pixel_area_deg2(64), 0.83929, 1e-5);
    assert_int_equal(ard_healpix_ang2pix_nest(63, 0, 0), -1);
    assert_int_equal(ard_healpix_ang2pix_nest(64, 0, 91), -1);
    assert_int_equal(ard_healpix_ang2pix_nest(64, NAN, 0), -1);
    assert_int_equal(ard_healpix_pix2ang_nest(64, 49152, &ra, &dec, NULL), ARD_EINVAL);
    int64_t north = ard_healpix_ang2pix_nest(64, 10, 90),
            south = ard_healpix_ang2pix_nest(64, 10, -90);
    assert_true(north >= 0 && north < 4 * 4096);
    assert_true(south >= 8 * 4096 && south < 12 * 4096);
}

static void test_healpix_roundtrip(void **state) {
    (void)state;
    for (int64_t nside = 1; nside <= 256; nside *= 4) {
        for (int64_t p = 0; p < 12 * nside * nside; p++) {
            double ra, dec;
            assert_int_equal(ard_healpix_pix2ang_nest(nside, p, &ra, &dec, NULL), ARD_OK);
            assert_int_equal(ard_healpix_ang2pix_nest(nside, ra, dec), p);
        }
    }
    /* equal-area: 200k uniform points at NSIDE 4 give each of 192 pixels ~1/192 */
    int64_t counts[192] = {0};
    ard_rng r;
    ard_rng_init(&r, 5, 9, 0);
    for (int i = 0; i < 200000; i++) {
        double ra = 360.0 * ard_rng_u01(&r);
        double dec = asin(2.0 * ard_rng_u01(&r) - 1.0) * 180.0 / M_PI;
        counts[ard_healpix_ang2pix_nest(4, ra, dec)]++;
    }
    for (int p = 0; p < 192; p++) {
        assert_true(fabs((double)counts[p] - 200000.0 / 192) < 6.0 * sqrt(200000.0 / 192));
    }
}

static double brute_dc(double z, double h, double om) {
    const int n = 200000;
    double sum = 0.0, dz = z / n;
    for (int i = 0; i <= n; i++) {
        double zz = i * dz, w = (i == 0 || i == n) ? 1.0 : ((i & 1) ? 4.0 : 2.0);
        sum += w / sqrt(om * pow(1 + zz, 3) + 1 - om);
    }
    return 299792.458 / (100 * h) * sum * dz / 3.0;
}

static void test_cosmology(void **state) {
    (void)state;
    ard_cosmology *c = NULL;
    assert_int_equal(ard_cosmology_new(NULL, 6.0, &c, NULL), ARD_OK);
    static const double zs[] = {0.001, 0.0137, 0.1, 0.4567, 1.0, 2.2, 3.5, 5.99};
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        double got = ard_cosmology_comoving_distance(c, zs[i]);
        double want = brute_dc(zs[i], 0.6766, 0.3111);
        assert_true(fabs(got / want - 1.0) < 1e-6);
        as_assert_near(ard_cosmology_z_at_distance(c, got), zs[i], 1e-8);
    }
    /* Planck 2018: D_C(z=1) ~ 3.39 Gpc */
    assert_true(fabs(ard_cosmology_comoving_distance(c, 1.0) - 3395.0) < 15.0);
    as_assert_near(ard_cosmology_comoving_distance(c, 0.0), 0.0, 0.0);
    ard_cosmology_free(c);
    ard_cosmo_params p = {0.7, 1.5, 0.0};
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_cosmology_new(&p, 2.0, &c, &err), ARD_EINVAL);
    assert_null(c);
    p.omega_m = 0.3;
    assert_int_equal(ard_cosmology_new(&p, 0.0, &c, NULL), ARD_EINVAL);
    assert_int_equal(ard_cosmology_new(&p, 2.0, &c, NULL), ARD_OK);
    assert_true(fabs(ard_cosmology_comoving_distance(c, 0.5) / brute_dc(0.5, 0.7, 0.3) - 1) < 1e-6);
    ard_cosmology_free(c);
}

int as_run_sky_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_default_and_text),
        cmocka_unit_test(test_grid_parse_errors),
        cmocka_unit_test(test_healpix_known),
        cmocka_unit_test(test_healpix_roundtrip),
        cmocka_unit_test(test_cosmology),
    };
    return cmocka_run_group_tests_name("astro_sky", tests, NULL, NULL);
}
