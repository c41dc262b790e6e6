/* Entry point of test_parquet: runs every suite of tests/parquet/. Suites written in other files
 * override the weak empty defaults below. */
#include "suites.h"

__attribute__((weak)) int ard_test_encoding_run(void) {
    return 0;
}

__attribute__((weak)) int ard_test_column_run(void) {
    return 0;
}

int main(void) {
    int failed = 0;
    failed += ard_test_footer_run();
    failed += ard_test_encoding_run();
    failed += ard_test_column_run();
    failed += ard_test_fuzz_replay_run();
    return failed == 0 ? 0 : 1;
}
