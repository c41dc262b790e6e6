/* test_science: KD-tree, friends-of-friends linking, catalog runs, scoring, the nn layer.
 * `test_science --write-nn-fixture PATH` writes the safetensors file nn_numpy.sh reads. */
#include "sci_tests.h"

#include <string.h>

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--write-nn-fixture") == 0) {
        return sci_nn_write_fixture(argv[2]);
    }
    if (argc == 2 && strcmp(argv[1], "--cosmicweb-reach") == 0) { /* that group alone */
        return sci_run_cosmicweb_reach_tests() ? 1 : 0;
    }
    int failed = 0;
    failed += sci_run_exact_tests();
    failed += sci_run_catalog_tests();
    failed += sci_run_scipy_tests();
    failed += sci_run_nn_tests();
    failed += sci_run_nn_safetensors_tests();
    failed += sci_run_cosmicweb_tests();
    failed += sci_run_cosmicweb_reach_tests();
    failed += sci_run_anomaly_tests();
    failed += sci_run_stage_tests();
    failed += sci_run_stage_begin_tests();
    return failed ? 1 : 0;
}
