/* test_science: KD-tree, friends-of-friends linking, catalog runs, scoring. */
#include "sci_tests.h"

int main(void) {
    int failed = 0;
    failed += sci_run_exact_tests();
    failed += sci_run_catalog_tests();
    failed += sci_run_scipy_tests();
    failed += sci_run_stage_tests();
    return failed ? 1 : 0;
}
