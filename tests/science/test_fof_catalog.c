/* Friends-of-friends on a catalog: group numbering (size, then smallest TARGETID; singletons 0), the
 * group catalog, bad rows, recovery of planted groups in redshift space, scoring, Parquet output, and
 * the comoving distance against a high-precision integral. */
#include "sci_test_util.h"
#include "sci_tests.h"

#include "ard/parquet.h"
#include "ard/science.h"
#include "ard/survey.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Isotropic, fixed 2 Mpc: three tight clumps (3, 3, 2 members) and two loners around z = 0.1. */
static void test_numbering(void **state) {
    (void)state;
    /* offsets in arcsec at z = 0.1 (D_C ~ 430 Mpc: 1 arcsec ~ 2 kpc) */
    const double ra[] = {150.0, 150.0001, 150.0002, 151.0, 151.0001,
                         152.0, 152.0001, 152.0002, 153.0, 154.0};
    const double dec[10] = {0};
    const double z[] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    /* clump A (rows 0-2) has TARGETIDs 50.., clump C (rows 5-7) 20..: equal size, C wins */
    const int64_t tid[] = {50, 51, 52, 90, 91, 22, 20, 21, 5, 6};
    ard_fof_params p;
    ard_fof_params_init(&p);
    p.mode = ARD_FOF_ISOTROPIC;
    p.link_mpc = 2.0;
    p.threads = 2;
    ard_fof_result *r = NULL;
    assert_int_equal(ard_fof_run(ra, dec, z, tid, 10, &p, &r, NULL), ARD_OK);
    const int64_t want[] = {2, 2, 2, 3, 3, 1, 1, 1, 0, 0};
    assert_memory_equal(ard_fof_group_ids(r), want, sizeof want);
    assert_int_equal(ard_fof_num_groups(r), 3);
    assert_int_equal(ard_fof_num_grouped(r), 8);
    const ard_fof_group *g = ard_fof_group_at(r, 0);
    assert_int_equal(g->group_id, 1);
    assert_int_equal(g->members, 3);
    assert_int_equal(g->first_targetid, 20);
    assert_true(fabs(g->ra - 152.0001) < 1e-6 && fabs(g->dec) < 1e-9);
    assert_true(fabs(g->z_centre - 0.1) < 1e-12);
    assert_true(g->radius_max_mpc > 0.0 && g->radius_max_mpc < 2.0);
    assert_true(g->sigma_v < 1e-6);
    assert_null(ard_fof_group_at(r, 3));
    assert_true(fabs(ard_fof_link_used(r) - 2.0) < 1e-12);
    ard_fof_result_free(r);
}

/* Two galaxies on one line of sight: gapper sigma for N = 2 is sqrt(2 pi) / 2 * |dv|. */
static void test_group_catalog_values(void **state) {
    (void)state;
    const double ra[] = {10.0, 10.0}, dec[] = {-5.0, -5.0}, z[] = {0.2, 0.2005};
    ard_fof_params p;
    ard_fof_params_init(&p);
    p.mode = ARD_FOF_ISOTROPIC;
    p.link_mpc = 5.0;
    ard_fof_result *r = NULL;
    assert_int_equal(ard_fof_run(ra, dec, z, NULL, 2, &p, &r, NULL), ARD_OK);
    const ard_fof_group *g = ard_fof_group_at(r, 0);
    assert_non_null(g);
    assert_int_equal(g->members, 2);
    assert_int_equal(g->first_targetid, 0);
    double zc = 0.20025, dv = 299792.458 * 0.0005 / (1.0 + zc);
    assert_true(fabs(g->z_centre - zc) < 1e-12);
    assert_true(fabs(g->sigma_v - sqrt(2.0 * M_PI) / 2.0 * dv) < 1e-6);
    assert_true(fabs(g->ra - 10.0) < 1e-9 && fabs(g->dec + 5.0) < 1e-9);
    assert_true(g->radius_mpc < 1e-6);
    double dc = sqrt(g->x * g->x + g->y * g->y + g->z * g->z);
    assert_true(dc > 800.0 && dc < 850.0); /* D_C(0.2) ~ 827 Mpc for Planck 2018 */
    ard_fof_result_free(r);
}

static void test_bad_rows(void **state) {
    (void)state;
    double ra[] = {1, 2, 3}, dec[] = {0, 0, 0}, z[] = {0.1, 0.1, 0.1};
    const int64_t tid[] = {7, 8, 9};
    ard_fof_params p;
    ard_fof_params_init(&p);
    ard_fof_result *r = (ard_fof_result *)&p; /* must be reset to NULL on failure */
    ard_error err;
    ard_error_init(&err);
    z[1] = 0.0;
    assert_int_equal(ard_fof_run(ra, dec, z, tid, 3, &p, &r, &err), ARD_EINVAL);
    assert_null(r);
    assert_non_null(strstr(err.msg, "TARGETID 8"));
    z[1] = 0.1;
    ra[2] = NAN;
    ard_error_init(&err);
    assert_int_equal(ard_fof_run(ra, dec, z, tid, 3, &p, &r, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "TARGETID 9"));
    ra[2] = 3;
    dec[0] = 91.0;
    assert_int_equal(ard_fof_run(ra, dec, z, tid, 3, &p, &r, NULL), ARD_EINVAL);
    dec[0] = 0.0;
    p.b_perp = -1.0;
    assert_int_equal(ard_fof_run(ra, dec, z, tid, 3, &p, &r, NULL), ARD_EINVAL);
    ard_fof_params_init(&p);
    p.mode = 7;
    assert_int_equal(ard_fof_run(ra, dec, z, tid, 3, &p, &r, NULL), ARD_EINVAL);
    ard_fof_params_init(&p);
    assert_int_equal(ard_fof_run(ra, dec, z, tid, 0, &p, &r, NULL), ARD_OK); /* empty catalog */
    assert_int_equal(ard_fof_num_groups(r), 0);
    ard_fof_result_free(r);
    assert_int_equal(ard_fof_run(ra, dec, z, tid, 1, &p, &r, NULL), ARD_OK);
    assert_int_equal(ard_fof_group_ids(r)[0], 0);
    ard_fof_result_free(r);
}

/* A mock redshift survey: 20x20 degree patch, 0.02 < z < 0.25, haloes with Gaussian members
 * (0.3 Mpc transverse, sigma_v growing with richness along the line of sight) among field galaxies
 * uniform in comoving volume. Returns truth ids (0 = field). */
typedef struct mock {
    int64_t n;
    double *ra, *dec, *z;
    int64_t *tid, *truth;
} mock;

static void mock_free(mock *m) {
    free(m->ra);
    free(m->dec);
    free(m->z);
    free(m->tid);
    free(m->truth);
}

static mock make_mock(uint64_t seed, int64_t haloes, int64_t field) {
    mock m = {0, NULL, NULL, NULL, NULL, NULL};
    test_rng r = {seed};
    int64_t cap = field + haloes * 40;
    m.ra = malloc((size_t)cap * sizeof(double));
    m.dec = malloc((size_t)cap * sizeof(double));
    m.z = malloc((size_t)cap * sizeof(double));
    m.tid = malloc((size_t)cap * sizeof(int64_t));
    m.truth = malloc((size_t)cap * sizeof(int64_t));
    const double dh = 299792.458 / 67.66; /* Hubble distance, Mpc */
    for (int64_t h = 0; h < haloes; h++) {
        double u = test_rng_uniform(&r);
        int64_t members = 2 + (int64_t)(30.0 * u * u * u);
        double hz = 0.03 + 0.2 * test_rng_uniform(&r), hra = 20.0 * test_rng_uniform(&r),
               hdec = 20.0 * test_rng_uniform(&r);
        double dc = dh * hz * (1.0 - 0.26 * hz); /* rough D_C for the angular scale only */
        double sigma_v = 150.0 + 15.0 * (double)members;
        for (int64_t k = 0; k < members; k++, m.n++) {
            m.ra[m.n] = hra + 0.3 / dc * test_rng_normal(&r) * 180.0 / M_PI;
            m.dec[m.n] = hdec + 0.3 / dc * test_rng_normal(&r) * 180.0 / M_PI;
            m.z[m.n] = hz + sigma_v * test_rng_normal(&r) / 299792.458 * (1.0 + hz);
            m.truth[m.n] = h + 1;
        }
    }
    for (int64_t f = 0; f < field; f++, m.n++) {
        double zz;
        do { /* uniform in volume: accept z with probability ~ z^2 */
            zz = 0.02 + 0.23 * test_rng_uniform(&r);
        } while (test_rng_uniform(&r) > (zz * zz) / (0.25 * 0.25));
        m.ra[m.n] = 20.0 * test_rng_uniform(&r);
        m.dec[m.n] = 20.0 * test_rng_uniform(&r);
        m.z[m.n] = zz;
        m.truth[m.n] = 0;
    }
    for (int64_t i = 0; i < m.n; i++) {
        m.tid[i] = 1000000 + (int64_t)(test_rng_next(&r) % 1000000) * 100 + i % 100;
    }
    return m;
}

static void test_recovery_redshift(void **state) {
    (void)state;
    mock m = make_mock(41, 1500, 40000);
    ard_fof_params p;
    ard_fof_params_init(&p); /* defaults: redshift mode, b_perp 0.14, b_par 0.75 */
    p.threads = 2;
    ard_fof_result *r = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_fof_run(m.ra, m.dec, m.z, m.tid, m.n, &p, &r, &err), ARD_OK);
    ard_fof_score s;
    assert_int_equal(ard_fof_score_truth(ard_fof_group_ids(r), m.truth, m.n, 5, &s, NULL), ARD_OK);
    printf("# recovery (mock, default redshift-space linking): area %.1f deg2, r_perp %.2f Mpc, "
           "r_par %.2f Mpc, %lld groups; true groups >= 5: %lld, bijective %lld, completeness "
           "%.3f, purity %.3f, members matched %.3f\n",
           ard_fof_area_used(r), ard_fof_link_used(r), ard_fof_median_par_used(r),
           (long long)ard_fof_num_groups(r), (long long)s.true_groups, (long long)s.bijective,
           s.completeness, s.purity, s.members_matched);
    assert_true(fabs(ard_fof_area_used(r) - 400.0) < 40.0); /* footprint estimate */
    assert_true(s.true_groups > 200);
    assert_true(s.completeness >= 0.9); /* defaults reach 0.97 / 0.99 on this mock */
    assert_true(s.purity >= 0.9);
    /* thread-count independence of the published ids */
    ard_fof_result *r1 = NULL;
    p.threads = 1;
    assert_int_equal(ard_fof_run(m.ra, m.dec, m.z, m.tid, m.n, &p, &r1, NULL), ARD_OK);
    assert_memory_equal(ard_fof_group_ids(r), ard_fof_group_ids(r1), (size_t)m.n * sizeof(int64_t));
    ard_fof_result_free(r1);
    ard_fof_result_free(r);
    mock_free(&m);
}

static void test_score(void **state) {
    (void)state;
    /* true groups: 1 (6 members), 2 (5), 3 (2, too small); found: A matches 1 with 5 of 6; B takes
     * 3 members of group 2 plus 3 field galaxies (not > half of B) -> no match */
    const int64_t truth[] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 0, 0, 0};
    const int64_t found[] = {7, 7, 7, 7, 7, 0, 9, 9, 9, 0, 0, 0, 0, 9, 9, 9};
    ard_fof_score s;
    assert_int_equal(ard_fof_score_truth(found, truth, 16, 5, &s, NULL), ARD_OK);
    assert_int_equal(s.true_groups, 2);
    assert_int_equal(s.found_groups, 2);
    assert_int_equal(s.bijective, 1);
    assert_true(fabs(s.completeness - 0.5) < 1e-12 && fabs(s.purity - 0.5) < 1e-12);
    assert_true(fabs(s.members_matched - 5.0 / 11.0) < 1e-12);
    assert_int_equal(ard_fof_score_truth(found, truth, 16, 1, &s, NULL), ARD_EINVAL);
}

static void test_parquet_output(void **state) {
    (void)state;
    mock m = make_mock(42, 50, 500);
    ard_fof_params p;
    ard_fof_params_init(&p);
    ard_fof_result *r = NULL;
    assert_int_equal(ard_fof_run(m.ra, m.dec, m.z, m.tid, m.n, &p, &r, NULL), ARD_OK);
    char dir[] = "/tmp/ard-fof-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_fof_write_parquet(r, m.tid, dir, "run-1", &err), ARD_OK);
    assert_int_equal(ard_fof_write_parquet(r, m.tid, dir, "bad/id", NULL), ARD_EINVAL);
    assert_int_equal(ard_fof_write_parquet(r, m.tid, dir, "run-1", NULL), ARD_EEXIST);
    char path[512];
    snprintf(path, sizeof path, "%s/results/fof-run-1-galaxies.parquet", dir);
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    assert_int_equal(ard_parquet_metadata(f)->num_rows, m.n);
    assert_string_equal(ard_parquet_kv_get(f, "ard.run_id"), "run-1");
    assert_string_equal(ard_parquet_kv_get(f, "ard.stage"), "fof");
    assert_non_null(strstr(ard_parquet_kv_get(f, "ard.params"), "\"mode\":\"redshift\""));
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    assert_int_equal(
        ard_parquet_read_column(f, 0, ard_parquet_find_leaf(f, "GROUP_ID"), &col, NULL), ARD_OK);
    assert_memory_equal(col.values, ard_fof_group_ids(r), (size_t)m.n * sizeof(int64_t));
    ard_pq_column_data_reset(&col);
    ard_parquet_close(f);
    unlink(path);
    snprintf(path, sizeof path, "%s/results/fof-run-1-groups.parquet", dir);
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    assert_int_equal(ard_parquet_metadata(f)->num_rows, ard_fof_num_groups(r));
    assert_true(ard_parquet_find_leaf(f, "SIGMA_V") >= 0);
    ard_parquet_close(f);
    unlink(path);
    snprintf(path, sizeof path, "%s/results", dir);
    rmdir(path);
    rmdir(dir);
    ard_fof_result_free(r);
    mock_free(&m);
}

/* D_C against composite Simpson in long double with 2e5 panels (independent of the library's table). */
static long double reference_dc(long double h, long double om, long double z) {
    const int64_t panels = 200000;
    long double step = z / (long double)panels, sum = 0.0L;
    for (int64_t i = 0; i <= panels; i++) {
        long double a = 1.0L + step * (long double)i;
        long double w = (i == 0 || i == panels) ? 1.0L : ((i & 1) ? 4.0L : 2.0L);
        sum += w / sqrtl(om * a * a * a + (1.0L - om));
    }
    return 299792.458L / (100.0L * h) * sum * step / 3.0L;
}

static void test_comoving_distance(void **state) {
    (void)state;
    ard_cosmo_params cp = {0.6766, 0.3111, 0.0};
    ard_cosmology *c = NULL;
    assert_int_equal(ard_cosmology_new(&cp, 5.0, &c, NULL), ARD_OK);
    const double zs[] = {0.001, 0.0137, 0.1, 0.333, 0.5, 1.0, 1.7777, 3.0, 4.9};
    for (size_t k = 0; k < sizeof zs / sizeof zs[0]; k++) {
        double want = (double)reference_dc(0.6766L, 0.3111L, zs[k]);
        double got = ard_cosmology_comoving_distance(c, zs[k]);
        if (fabs(got / want - 1.0) > 1e-6) {
            fail_msg("D_C(%g) = %.9f, reference %.9f", zs[k], got, want);
        }
    }
    ard_cosmology_free(c);
}

/* Every allocation failure surfaces as ARD_ENOMEM with nothing leaked (ASan checks the leaks). */
static void test_alloc_failures(void **state) {
    (void)state;
    mock m = make_mock(43, 30, 300);
    const int32_t modes[] = {ARD_FOF_REDSHIFT, ARD_FOF_ISOTROPIC};
    for (int k = 0; k < 2; k++) {
        ard_fof_params p;
        ard_fof_params_init(&p);
        p.mode = modes[k];
        p.threads = 2;
        int succeeded = 0;
        for (long fail_at = 1; fail_at < 400 && !succeeded; fail_at++) {
            ard_fof_result *r = NULL;
            ard_alloc_fail_after(fail_at);
            ard_status st = ard_fof_run(m.ra, m.dec, m.z, m.tid, m.n, &p, &r, NULL);
            ard_alloc_fail_after(0);
            if (st == ARD_OK) {
                succeeded = 1;
                assert_true(ard_fof_num_groups(r) > 0);
            } else {
                assert_int_equal(st, ARD_ENOMEM);
                assert_null(r);
            }
            ard_fof_result_free(r);
        }
        assert_true(succeeded);
    }
    int64_t labels[4];
    double xyz[12] = {0};
    for (long fail_at = 1; fail_at < 50; fail_at++) {
        ard_alloc_fail_after(fail_at);
        ard_status st = ard_fof_link_isotropic(xyz, 4, 1.0, 2, labels, NULL);
        ard_alloc_fail_after(0);
        if (st == ARD_OK) {
            break;
        }
        assert_int_equal(st, ARD_ENOMEM);
    }
    mock_free(&m);
}

int sci_run_catalog_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbering),
        cmocka_unit_test(test_group_catalog_values),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_recovery_redshift),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_parquet_output),
        cmocka_unit_test(test_comoving_distance),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests_name("fof_catalog", tests, NULL, NULL);
}
