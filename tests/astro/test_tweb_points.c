/* Point-mass T-web tests: ard_tweb_eval against closed-form tides of simple mass arrangements and
 * against an independent brute-force reference (numerically integrated enclosed mass, no cut-off,
 * Jacobi eigenvalues); thread independence; bad input. */
#include "astro_test.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/ard_test_tweb.h"

static void eval_one(const ard_tweb_params *p, const double *xyz, const double *q, int64_t n,
                     const double *pt, float lam[3], float *delta, uint8_t *cls) {
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_tweb_eval(p, xyz, q, n, pt, 1, NULL, lam, delta, cls, &err), ARD_OK);
}

/* ---- closed forms ---- */

static void test_single_mass(void **state) {
    (void)state;
    ard_tweb_params p;
    ard_tweb_params_default(&p);
    double R = p.smoothing, xyz[3] = {100, -50, 30}, q = 2000.0; /* ~5e14 Msun/h */
    float lam[3], delta;
    uint8_t cls;
    /* at the centre: isotropic, each eigenvalue delta / 3 = q W(0) / 3 */
    eval_one(&p, xyz, &q, 1, xyz, lam, &delta, &cls);
    double w0 = q * ard_test_gauss_w(0, R);
    for (int j = 0; j < 3; j++) {
        as_assert_near(lam[j], w0 / 3, 1e-5 * w0);
    }
    as_assert_near(delta, w0, 1e-5 * w0);
    assert_int_equal(cls, ARD_WEB_KNOT);
    /* at r = 1.5 R, 4 R, 15 R along a skew direction: radial and tangential eigenvalues */
    const double radii[3] = {1.5 * R, 4 * R, 15 * R};
    for (int k = 0; k < 3; k++) {
        double r = radii[k], u[3] = {2.0 / 3, -1.0 / 3, 2.0 / 3};
        double pt[3] = {xyz[0] + r * u[0], xyz[1] + r * u[1], xyz[2] + r * u[2]};
        eval_one(&p, xyz, &q, 1, pt, lam, &delta, &cls);
        ref_kernel ker;
        ard_test_ref_init(&ker, R);
        double tang = q * ard_test_ref_enclosed(&ker, r) / (4 * M_PI * r * r * r);
        double rad = q * ard_test_gauss_w(r, R) - 2 * tang;
        double hi = tang > rad ? tang : rad, lo = tang > rad ? rad : tang;
        double scale = fabs(tang) + fabs(rad);
        as_assert_near(lam[0], hi, 1e-4 * scale);
        as_assert_near(lam[1], tang, 1e-4 * scale);
        as_assert_near(lam[2], lo, 1e-4 * scale);
        as_assert_near(delta, q * ard_test_gauss_w(r, R), 1e-4 * scale);
        int want = ard_test_ref_class((double[3]){hi, tang, lo}, p.lambda_th);
        assert_int_equal(cls, want);
        if (k == 1) { /* outside the core of a massive halo: stretched radially, squeezed across */
            assert_int_equal(cls, ARD_WEB_FILAMENT);
        }
    }
    /* beyond the reach (2 q / (4 pi tol))^(1/3): nothing at all */
    double reach = cbrt(2 * q / (4 * M_PI * p.tolerance));
    double far[3] = {xyz[0] + 1.01 * reach, xyz[1], xyz[2]};
    eval_one(&p, xyz, &q, 1, far, lam, &delta, &cls);
    assert_true(lam[0] == 0.0f && lam[1] == 0.0f && lam[2] == 0.0f && delta == 0.0f);
    assert_int_equal(cls, ARD_WEB_VOID);
    /* just inside: the point-mass tide 2 tol radially */
    double near[3] = {xyz[0] - 0.99 * reach, xyz[1], xyz[2]};
    eval_one(&p, xyz, &q, 1, near, lam, &delta, &cls);
    as_assert_near(lam[2], -2 * q / (4 * M_PI * pow(0.99 * reach, 3)), 1e-6);
}

/* Symmetric arrangements: a square of masses in a plane squeezes along its normal only (sheet);
 * a line squeezes across it (filament); a cube's corners cancel at its centre (void). */
static void test_arrangements(void **state) {
    (void)state;
    ard_tweb_params p;
    ard_tweb_params_default(&p);
    float lam[3], delta;
    uint8_t cls;
    double q = 3000.0, a = 8.0;
    double square[12] = {a, 0, 0, -a, 0, 0, 0, a, 0, 0, -a, 0}, qs[4] = {q, q, q, q};
    double origin[3] = {0, 0, 0};
    eval_one(&p, square, qs, 4, origin, lam, &delta, &cls);
    assert_int_equal(cls, ARD_WEB_SHEET);
    ref_kernel ker;
    ard_test_ref_init(&ker, p.smoothing);
    as_assert_near(lam[0], 4 * q * ard_test_ref_enclosed(&ker, a) / (4 * M_PI * a * a * a), 1e-4);
    double line[3 * 41], ql[41];
    for (int i = 0; i < 41; i++) {
        line[3 * i] = (i - 20) * 4.0;
        line[3 * i + 1] = line[3 * i + 2] = 0.0;
        ql[i] = 400.0;
    }
    /* inside the smoothed line both directions across it collapse; beside it, a line's tide is
     * (+, 0, -) mu / (2 pi s^2): one positive eigenvalue */
    double on_axis[3] = {2.0, 0.5, 0.0}, beside[3] = {2.0, 6.0, 0.0};
    eval_one(&p, line, ql, 41, on_axis, lam, &delta, &cls);
    assert_int_equal(cls, ARD_WEB_FILAMENT);
    as_assert_near(lam[2], 0.0, 0.05 * lam[0]);
    eval_one(&p, line, ql, 41, beside, lam, &delta, &cls);
    assert_int_equal(cls, ARD_WEB_SHEET);
    as_assert_near(lam[0], 100.0 / (2 * M_PI * 36.0), 0.05 * lam[0]);
    double cube[24], qc[8];
    for (int i = 0; i < 8; i++) {
        cube[3 * i] = (i & 1) ? 20 : -20;
        cube[3 * i + 1] = (i & 2) ? 20 : -20;
        cube[3 * i + 2] = (i & 4) ? 20 : -20;
        qc[i] = 5000.0;
    }
    eval_one(&p, cube, qc, 8, origin, lam, &delta, &cls);
    assert_int_equal(cls, ARD_WEB_VOID);
    for (int j = 0; j < 3; j++) {
        as_assert_near(lam[j], 0.0, 1e-6);
    }
}

/* ---- against the brute-force reference, and thread independence ---- */

static uint64_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}
static double u01(uint64_t *s) {
    return (double)lcg(s) / 9007199254740992.0;
}

static void test_random_field_vs_reference(void **state) {
    (void)state;
    ard_tweb_params p;
    ard_tweb_params_default(&p);
    enum { NM = 3000, NP = 1500 };
    double *xyz = malloc(3 * NM * sizeof(double)), *q = malloc(NM * sizeof(double));
    double *pts = malloc(3 * NP * sizeof(double));
    uint64_t s = 42;
    for (int i = 0; i < NM; i++) { /* clumps: every fifth mass seeds a clump of four satellites */
        if (i % 5 == 0) {
            for (int j = 0; j < 3; j++) {
                xyz[3 * i + j] = 1000.0 + 150.0 * u01(&s);
            }
        } else {
            int c = i - i % 5;
            for (int j = 0; j < 3; j++) {
                xyz[3 * i + j] = xyz[3 * c + j] + 6.0 * (u01(&s) - 0.5);
            }
        }
        q[i] = pow(10.0, 12.0 + 3.0 * pow(u01(&s), 3)) / (2.775e11 * 0.3111);
    }
    for (int i = 0; i < NP; i++) {
        int h = (int)(lcg(&s) % NM);
        for (int j = 0; j < 3; j++) { /* half near masses, half anywhere */
            pts[3 * i + j] =
                i % 2 ? xyz[3 * h + j] + 4.0 * (u01(&s) - 0.5) : 1000.0 + 150.0 * u01(&s);
        }
    }
    float *lam1 = malloc(3 * NP * sizeof(float)), *lam2 = malloc(3 * NP * sizeof(float));
    float *d1 = malloc(NP * sizeof(float)), *d2 = malloc(NP * sizeof(float));
    uint8_t *c1 = malloc(NP), *c2 = malloc(NP);
    ard_pool *pool = NULL;
    assert_int_equal(ard_pool_new(2, &pool, NULL), ARD_OK);
    assert_int_equal(ard_tweb_eval(&p, xyz, q, NM, pts, NP, NULL, lam1, d1, c1, NULL), ARD_OK);
    assert_int_equal(ard_tweb_eval(&p, xyz, q, NM, pts, NP, pool, lam2, d2, c2, NULL), ARD_OK);
    ard_pool_free(pool);
    assert_memory_equal(lam1, lam2, 3 * NP * sizeof(float));
    assert_memory_equal(d1, d2, NP * sizeof(float));
    assert_memory_equal(c1, c2, NP);
    ref_kernel ker;
    ard_test_ref_init(&ker, p.smoothing);
    int classes[ARD_WEB_COUNT] = {0}, borderline = 0;
    double worst = 0.0;
    for (int i = 0; i < NP; i++) {
        double t[3][3], e[3];
        ard_test_ref_tide(&ker, xyz, q, NM, pts + 3 * i, p.tolerance, t);
        double tr = t[0][0] + t[1][1] + t[2][2];
        ard_test_ref_eigen(t, e);
        for (int j = 0; j < 3; j++) {
            double dev = fabs(lam1[3 * i + j] - e[j]) / (1.0 + fabs(e[j]));
            worst = dev > worst ? dev : worst;
        }
        as_assert_near(d1[i], tr, 1e-3 * (1.0 + fabs(tr)));
        int want = ard_test_ref_class(e, p.lambda_th);
        int near_th = 0;
        for (int j = 0; j < 3; j++) {
            near_th |= fabs(e[j] - p.lambda_th) < 1e-3;
        }
        borderline += near_th;
        if (!near_th) {
            assert_int_equal(c1[i], want);
        }
        classes[c1[i]]++;
    }
    /* the same cut-off on both sides: only rounding and the tabulated enclosed mass differ */
    printf("tweb vs reference: worst eigenvalue deviation %.2e, classes %d/%d/%d/%d, %d near the "
           "threshold\n",
           worst, classes[0], classes[1], classes[2], classes[3], borderline);
    assert_true(worst < 1e-3);
    for (int c = 0; c < ARD_WEB_COUNT; c++) {
        assert_true(classes[c] > 0);
    }
    free(xyz);
    free(q);
    free(pts);
    free(lam1);
    free(lam2);
    free(d1);
    free(d2);
    free(c1);
    free(c2);
}

static void test_bad_input(void **state) {
    (void)state;
    ard_tweb_params p;
    ard_tweb_params_default(&p);
    double xyz[3] = {0, 0, 0}, q = 1.0, pt[3] = {1, 2, NAN};
    uint8_t cls;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_tweb_eval(&p, xyz, &q, 1, pt, 1, NULL, NULL, NULL, &cls, &err),
                     ARD_EINVAL);
    assert_non_null(strstr(err.msg, "point 0"));
    pt[2] = 1e12;
    ard_error_init(&err);
    assert_int_equal(ard_tweb_eval(&p, xyz, &q, 1, pt, 1, NULL, NULL, NULL, &cls, &err),
                     ARD_EINVAL);
    pt[2] = 0;
    q = -1;
    ard_error_init(&err);
    assert_int_equal(ard_tweb_eval(&p, xyz, &q, 1, pt, 1, NULL, NULL, NULL, &cls, &err),
                     ARD_EINVAL);
    assert_non_null(strstr(err.msg, "mass 0"));
    q = 1;
    p.smoothing = 0;
    ard_error_init(&err);
    assert_int_equal(ard_tweb_eval(&p, xyz, &q, 1, pt, 1, NULL, NULL, NULL, &cls, &err),
                     ARD_EINVAL);
    assert_non_null(strstr(err.msg, "smoothing"));
    ard_tweb_params_default(&p);
    xyz[0] = INFINITY;
    ard_error_init(&err);
    assert_int_equal(ard_tweb_eval(&p, xyz, &q, 1, pt, 1, NULL, NULL, NULL, &cls, &err),
                     ARD_EINVAL);
    assert_int_equal(ard_tweb_eval(NULL, xyz, &q, 1, pt, 1, NULL, NULL, NULL, &cls, NULL),
                     ARD_EINVAL);
    /* no masses: every point is a void with zero tide */
    float lam[3];
    assert_int_equal(ard_tweb_eval(&p, NULL, NULL, 0, pt, 1, NULL, lam, NULL, &cls, NULL), ARD_OK);
    assert_int_equal(cls, ARD_WEB_VOID);
    assert_true(lam[0] == 0.0f);
    assert_string_equal(ard_web_class_name(ARD_WEB_FILAMENT), "filament");
    assert_string_equal(ard_web_class_name(9), "unknown");
}

/* ---- the generator's truth columns, recomputed from its own truth files ---- */

int as_run_tweb_points_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_mass),
        cmocka_unit_test(test_arrangements),
        cmocka_unit_test(test_random_field_vs_reference),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("astro_tweb_points", tests, NULL, NULL);
}
