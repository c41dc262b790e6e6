/* Exactness of the friends-of-friends linker: the same partition as the O(N^2) reference on random and
 * clustered sets, both linking modes, ties at exactly the linking length, duplicate positions, any
 * thread count; degenerate inputs and rejected ones. */
#include "sci_test_util.h"
#include "sci_tests.h"

#include "ard/science.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void check_iso(const double *xyz, int64_t n, double link, int32_t threads) {
    int64_t *got = malloc((size_t)(n > 0 ? n : 1) * sizeof *got);
    int64_t *want = malloc((size_t)(n > 0 ? n : 1) * sizeof *want);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_fof_link_isotropic(xyz, n, link, threads, got, &err), ARD_OK);
    brute_iso(xyz, n, link, want);
    for (int64_t i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            fail_msg("point %lld: label %lld, brute force %lld (n %lld, link %g)", (long long)i,
                     (long long)got[i], (long long)want[i], (long long)n, link);
        }
    }
    free(got);
    free(want);
}

static void test_iso_random(void **state) {
    (void)state;
    double *xyz = test_points(11, 3000, 100.0, 0.0, 0, 0.0);
    /* from almost nothing linked to one percolating blob */
    const double links[] = {0.0, 1.0, 3.0, 5.0, 8.0, 20.0};
    for (size_t k = 0; k < sizeof links / sizeof links[0]; k++) {
        check_iso(xyz, 3000, links[k], 2);
    }
    free(xyz);
    /* dense: whole leaves and leaf pairs fall within the length (the all-pairs shortcut) */
    xyz = test_points(15, 4000, 2.0, 0.9, 10, 0.05);
    check_iso(xyz, 4000, 0.08, 2);
    check_iso(xyz, 4000, 0.3, 2);
    free(xyz);
}

static void test_iso_clustered_20k(void **state) {
    (void)state;
    double *xyz = test_points(12, 20000, 200.0, 0.7, 150, 1.5);
    check_iso(xyz, 20000, 1.2, 2);
    check_iso(xyz, 20000, 0.4, 1);
    free(xyz);
}

/* Integer grid with spacing exactly 1: every neighbour pair is at exactly the linking length. */
static void test_iso_ties(void **state) {
    (void)state;
    int64_t side = 12, n = side * side * side, i = 0;
    double *xyz = malloc((size_t)n * 3 * sizeof *xyz);
    test_rng r = {5};
    for (int64_t a = 0; a < side; a++) {
        for (int64_t b = 0; b < side; b++) {
            for (int64_t c = 0; c < side; c++, i++) {
                /* knock out a few points so the grid splits into several components */
                double hole = test_rng_uniform(&r) < 0.45 ? 1000.0 * (double)i : 0.0;
                xyz[3 * i] = (double)a + hole;
                xyz[3 * i + 1] = (double)b;
                xyz[3 * i + 2] = (double)c;
            }
        }
    }
    int64_t *labels = malloc((size_t)n * sizeof *labels);
    assert_int_equal(ard_fof_link_isotropic(xyz, n, 1.0, 2, labels, NULL), ARD_OK);
    assert_true(count_components(labels, n) > 10);
    check_iso(xyz, n, 1.0, 2);
    check_iso(xyz, n, 0.999999, 2);  /* nothing links just below */
    check_iso(xyz, n, sqrt(2.0), 3); /* diagonal ties (rounded sqrt: either way, same as brute) */
    free(labels);
    free(xyz);
}

static void test_iso_duplicates(void **state) {
    (void)state;
    int64_t n = 5000;
    double *xyz = test_points(13, n, 50.0, 0.0, 0, 0.0);
    test_rng r = {99};
    for (int64_t i = 0; i < n; i++) { /* copy earlier points: runs of identical positions */
        if (test_rng_uniform(&r) < 0.6 && i > 0) {
            int64_t j = (int64_t)(test_rng_next(&r) % (uint64_t)i);
            memcpy(xyz + 3 * i, xyz + 3 * j, 3 * sizeof *xyz);
        }
    }
    check_iso(xyz, n, 0.0, 2); /* only duplicates link */
    check_iso(xyz, n, 1.5, 2);
    free(xyz);
}

static void test_iso_threads(void **state) {
    (void)state;
    int64_t n = 30000;
    double *xyz = test_points(14, n, 300.0, 0.8, 300, 2.0);
    int64_t *one = malloc((size_t)n * sizeof *one), *many = malloc((size_t)n * sizeof *many);
    assert_int_equal(ard_fof_link_isotropic(xyz, n, 2.0, 1, one, NULL), ARD_OK);
    const int32_t threads[] = {2, 3, 8};
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(ard_fof_link_isotropic(xyz, n, 2.0, threads[k], many, NULL), ARD_OK);
        assert_memory_equal(one, many, (size_t)n * sizeof *one);
    }
    assert_true(count_components(one, n) < n / 2); /* the set really is clustered */
    free(one);
    free(many);
    free(xyz);
}

static void test_iso_degenerate(void **state) {
    (void)state;
    int64_t label = -1;
    double one[3] = {1, 2, 3};
    assert_int_equal(ard_fof_link_isotropic(NULL, 0, 1.0, 2, NULL, NULL), ARD_OK);
    assert_int_equal(ard_fof_link_isotropic(one, 1, 1.0, 2, &label, NULL), ARD_OK);
    assert_int_equal(label, 0);
    int64_t n = 1000;
    double *same = malloc((size_t)n * 3 * sizeof *same);
    int64_t *labels = malloc((size_t)n * sizeof *labels);
    for (int64_t i = 0; i < 3 * n; i++) {
        same[i] = 7.25;
    }
    assert_int_equal(ard_fof_link_isotropic(same, n, 0.0, 2, labels, NULL), ARD_OK);
    for (int64_t i = 0; i < n; i++) {
        assert_int_equal(labels[i], 0);
    }
    ard_error err;
    ard_error_init(&err);
    same[3 * 500 + 1] = NAN;
    assert_int_equal(ard_fof_link_isotropic(same, n, 1.0, 2, labels, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "point 500"));
    same[3 * 500 + 1] = 0.0;
    assert_int_equal(ard_fof_link_isotropic(same, n, -1.0, 2, labels, NULL), ARD_EINVAL);
    assert_int_equal(ard_fof_link_isotropic(same, n, NAN, 2, labels, NULL), ARD_EINVAL);
    assert_int_equal(ard_fof_link_isotropic(same, -1, 1.0, 2, labels, NULL), ARD_EINVAL);
    free(same);
    free(labels);
}

/* A redshift-space-like set: galaxies on the sky in a 10x10 degree patch, distances 300-900 Mpc,
 * clumps elongated along the line of sight, linking lengths varying per galaxy. */
typedef struct zset {
    int64_t n;
    double *unit, *dist, *ang, *los;
} zset;

static zset make_zset(uint64_t seed, int64_t n, int ties) {
    zset s = {n, malloc((size_t)n * 3 * sizeof(double)), malloc((size_t)n * sizeof(double)),
              malloc((size_t)n * sizeof(double)), malloc((size_t)n * sizeof(double))};
    test_rng r = {seed};
    double cra = 0, cdec = 0, cd = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i % 8 == 0 || test_rng_uniform(&r) < 0.3) {
            cra = 0.17 * test_rng_uniform(&r);
            cdec = 0.17 * test_rng_uniform(&r);
            cd = 300.0 + 600.0 * test_rng_uniform(&r);
        }
        double ra = cra + 0.002 * test_rng_normal(&r), dec = cdec + 0.002 * test_rng_normal(&r);
        s.unit[3 * i] = cos(dec) * cos(ra);
        s.unit[3 * i + 1] = cos(dec) * sin(ra);
        s.unit[3 * i + 2] = sin(dec);
        s.dist[i] = cd + 4.0 * test_rng_normal(&r);
        s.ang[i] = 0.0015 * (0.5 + test_rng_uniform(&r));
        s.los[i] = 5.0 * (0.5 + test_rng_uniform(&r));
        if (ties && i > 0 && test_rng_uniform(&r) < 0.3) {
            /* same direction as the previous galaxy, exactly one mean LOS length away */
            memcpy(s.unit + 3 * i, s.unit + 3 * (i - 1), 3 * sizeof(double));
            s.ang[i] = s.ang[i - 1];
            s.los[i] = s.los[i - 1];
            s.dist[i] = s.dist[i - 1] + s.los[i];
        }
    }
    return s;
}

static void free_zset(zset *s) {
    free(s->unit);
    free(s->dist);
    free(s->ang);
    free(s->los);
}

static void check_z(const zset *s, int32_t threads) {
    int64_t *got = malloc((size_t)s->n * sizeof *got), *want = malloc((size_t)s->n * sizeof *want);
    assert_int_equal(
        ard_fof_link_redshift(s->unit, s->dist, s->ang, s->los, s->n, threads, got, NULL), ARD_OK);
    brute_redshift(s->unit, s->dist, s->ang, s->los, s->n, want);
    for (int64_t i = 0; i < s->n; i++) {
        if (got[i] != want[i]) {
            fail_msg("galaxy %lld: label %lld, brute force %lld", (long long)i, (long long)got[i],
                     (long long)want[i]);
        }
    }
    int64_t comps = count_components(got, s->n);
    assert_true(comps > s->n / 50 && comps < s->n); /* neither trivial nor percolated */
    free(got);
    free(want);
}

static void test_redshift_exact(void **state) {
    (void)state;
    zset s = make_zset(21, 20000, 0);
    check_z(&s, 2);
    free_zset(&s);
    zset t = make_zset(22, 6000, 1);
    check_z(&t, 1);
    check_z(&t, 3);
    free_zset(&t);
}

static void test_redshift_threads(void **state) {
    (void)state;
    zset s = make_zset(23, 25000, 1);
    int64_t *one = malloc((size_t)s.n * sizeof *one), *two = malloc((size_t)s.n * sizeof *two);
    assert_int_equal(ard_fof_link_redshift(s.unit, s.dist, s.ang, s.los, s.n, 1, one, NULL),
                     ARD_OK);
    assert_int_equal(ard_fof_link_redshift(s.unit, s.dist, s.ang, s.los, s.n, 2, two, NULL),
                     ARD_OK);
    assert_memory_equal(one, two, (size_t)s.n * sizeof *one);
    s.los[77] = -1.0;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_fof_link_redshift(s.unit, s.dist, s.ang, s.los, s.n, 1, one, &err),
                     ARD_EINVAL);
    assert_non_null(strstr(err.msg, "galaxy 77"));
    s.los[77] = 1.0;
    s.dist[5] = INFINITY;
    assert_int_equal(ard_fof_link_redshift(s.unit, s.dist, s.ang, s.los, s.n, 1, one, NULL),
                     ARD_EINVAL);
    free(one);
    free(two);
    free_zset(&s);
}

static void test_kdtree_radius(void **state) {
    (void)state;
    int64_t n = 4000;
    double *xyz = test_points(31, n, 20.0, 0.5, 20, 0.5);
    ard_kdtree *tree = NULL;
    assert_int_equal(ard_kdtree_build(xyz, n, 2, &tree, NULL), ARD_OK);
    assert_int_equal(ard_kdtree_size(tree), n);
    int64_t *out = malloc((size_t)n * sizeof *out);
    char *seen = calloc((size_t)n, 1);
    for (int64_t q = 0; q < 50; q++) {
        const double *p = xyz + 3 * (q * 37);
        double r = 0.3 + 0.05 * (double)q;
        int64_t count = -1, want = 0;
        assert_int_equal(ard_kdtree_query_radius(tree, p, r, out, n, &count, NULL), ARD_OK);
        memset(seen, 0, (size_t)n);
        for (int64_t k = 0; k < count; k++) {
            seen[out[k]]++;
        }
        for (int64_t i = 0; i < n; i++) {
            double dx = xyz[3 * i] - p[0], dy = xyz[3 * i + 1] - p[1], dz = xyz[3 * i + 2] - p[2];
            int in = dx * dx + dy * dy + dz * dz <= r * r;
            want += in;
            assert_int_equal(seen[i], in);
        }
        assert_int_equal(count, want);
        int64_t partial = -1;
        assert_int_equal(ard_kdtree_query_radius(tree, p, r, out, 1, &partial, NULL), ARD_OK);
        assert_int_equal(partial, want); /* total reported even when the buffer is short */
    }
    assert_int_equal(ard_kdtree_query_radius(tree, xyz, -1.0, out, n, &n, NULL), ARD_EINVAL);
    ard_kdtree_free(tree);
    xyz[7] = NAN;
    assert_int_equal(ard_kdtree_build(xyz, n, 2, &tree, NULL), ARD_EINVAL);
    assert_null(tree);
    free(out);
    free(seen);
    free(xyz);
}

int sci_run_exact_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso_random),     cmocka_unit_test(test_iso_clustered_20k),
        cmocka_unit_test(test_iso_ties),       cmocka_unit_test(test_iso_duplicates),
        cmocka_unit_test(test_iso_threads),    cmocka_unit_test(test_iso_degenerate),
        cmocka_unit_test(test_redshift_exact), cmocka_unit_test(test_redshift_threads),
        cmocka_unit_test(test_kdtree_radius),
    };
    return cmocka_run_group_tests_name("fof_exact", tests, NULL, NULL);
}
