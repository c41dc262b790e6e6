/* The same partition as scipy (cKDTree.query_pairs + csgraph.connected_components, Debian's
 * /usr/bin/python3) on a 200k-point clustered set. Skipped, loudly, when scipy is not installed. */
#include "sci_test_util.h"
#include "sci_tests.h"

#include "ard/science.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int have_scipy(void) {
    if (access("/usr/bin/python3", X_OK) != 0) {
        return 0;
    }
    return system("/usr/bin/python3 -c 'import scipy.spatial, scipy.sparse.csgraph' 2>/dev/null") ==
           0;
}

static void test_scipy_200k(void **state) {
    (void)state;
    if (!have_scipy()) {
        printf("SKIPPED: /usr/bin/python3 with scipy not available (apt install python3-scipy)\n");
        skip();
    }
    const int64_t n = 200000;
    const double link = 0.8;
    double *xyz = test_points(51, n, 500.0, 0.6, 5000, 1.0);
    char dir[] = "/tmp/ard-fof-scipy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pts_path[256], lab_path[256], cmd[1024];
    snprintf(pts_path, sizeof pts_path, "%s/points.bin", dir);
    snprintf(lab_path, sizeof lab_path, "%s/labels.bin", dir);
    FILE *f = fopen(pts_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(xyz, sizeof *xyz, (size_t)n * 3, f), (size_t)n * 3);
    assert_int_equal(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/bench/fof_scipy.py %s %.17g %s", ARD_SOURCE_DIR,
             pts_path, link, lab_path);
    assert_int_equal(system(cmd), 0);
    int64_t *want = malloc((size_t)n * sizeof *want), *got = malloc((size_t)n * sizeof *got);
    f = fopen(lab_path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(want, sizeof *want, (size_t)n, f), (size_t)n);
    fclose(f);
    assert_int_equal(ard_fof_link_isotropic(xyz, n, link, 2, got, NULL), ARD_OK);
    int64_t diff = 0;
    for (int64_t i = 0; i < n; i++) {
        diff += got[i] != want[i];
    }
    assert_int_equal(diff, 0);
    int64_t comps = count_components(got, n);
    assert_true(comps > n / 50 && comps < n * 9 / 10);
    unlink(pts_path);
    unlink(lab_path);
    rmdir(dir);
    free(want);
    free(got);
    free(xyz);
}

int sci_run_scipy_tests(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_scipy_200k)};
    return cmocka_run_group_tests_name("fof_scipy", tests, NULL, NULL);
}
