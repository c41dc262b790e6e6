/* Entry point of test_parquet: the explicit list of the suites of tests/parquet/ (suites.h). */
#include "suites.h"

int main(void) {
    int failed = 0;
    failed += ard_test_footer_run();
    failed += ard_test_encoding_run();
    failed += ard_test_column_run();
    failed += ard_test_fuzz_replay_run();
    failed += ard_test_chunk_map_run();
    failed += ard_test_decode_direct_run();
    failed += ard_test_decode_whole_run();
    failed += ard_test_stat_value_run();
    failed += ard_test_snappy_parts_run();
    failed += ard_test_column_kept_run();
    return failed == 0 ? 0 : 1;
}
