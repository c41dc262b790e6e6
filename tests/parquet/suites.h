/* Test suites linked into test_parquet; each returns its number of failed tests. */
#ifndef ARD_TESTS_PARQUET_SUITES_H
#define ARD_TESTS_PARQUET_SUITES_H

int ard_test_footer_run(void);
int ard_test_encoding_run(void);
int ard_test_column_run(void);
int ard_test_fuzz_replay_run(void);
int ard_test_chunk_map_run(void);
int ard_test_decode_direct_run(void);
int ard_test_decode_whole_run(void);
int ard_test_stat_value_run(void);
int ard_test_snappy_parts_run(void);
int ard_test_column_kept_run(void);

#endif
