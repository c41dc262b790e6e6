/* Shared by the tests of the matrix reader's direct paths (test_decode_direct.c, test_decode_whole.c):
 * a scratch directory holding one file, adversarial float values, the writer of the spectra schema,
 * and the comparison of two decoded matrices. */
#ifndef ARD_TESTS_PARQUET_DECODE_FIXTURE_H
#define ARD_TESTS_PARQUET_DECODE_FIXTURE_H

#include "ard/parquet.h"
#include "ard/parquet_write.h"

#include <stdint.h>

typedef struct dfx_fixture {
    char *dir;
    char path[512]; /* <dir>/spectra.parquet */
} dfx_fixture;

/* cmocka setup and teardown bodies: a fresh scratch directory named after `name`, removed after. */
int dfx_setup(void **state, const char *name);
int dfx_teardown(void **state);

/* splitmix64 step. */
uint64_t dfx_mix(uint64_t *s);
/* A float at index k: mostly uniform in [-50, 50), with NaNs of several payloads and signs,
 * infinities and -0. */
float dfx_value(uint64_t *s, int64_t k);
void dfx_set_bit(uint8_t *bits, int64_t i);

/* Opens a writer of TARGETID (int64, required) + FLUX (optional list of optional float) at `path`,
 * without dictionary or page index; *sb is freed by the caller after the writer is closed. */
ard_pq_writer *dfx_open_writer(const char *path, int32_t codec, int32_t byte_stream_split,
                               int32_t page_version, int32_t crc, int64_t page_bytes,
                               int64_t rows_per_row_group, ard_pq_schema_builder **sb);

/* The rows a test writes: `values` holds the file's floats (dfx_value, seed 7). */
typedef ard_status (*dfx_rows_fn)(ard_pq_writer *w, const float *values, const void *ctx,
                                  ard_error *err);
/* Writes `path` (dfx_open_writer's schema and options) with `count` floats handed to `rows`; a
 * failure fails the test. */
void dfx_write_file(const char *path, int64_t count, int32_t codec, int32_t byte_stream_split,
                    int32_t page_version, int32_t crc, int64_t page_bytes,
                    int64_t rows_per_row_group, dfx_rows_fn rows, const void *ctx);

/* `path` opened from the file (*pf) and from its bytes in memory (*pm, named "mem"; the caller frees
 * *bytes after closing it); returns the FLUX element leaf. */
int32_t dfx_open_both(const char *path, uint8_t **bytes, ard_parquet_file **pf,
                      ard_parquet_file **pm);

/* Same shape, same bits (NaN payloads included), same bitmaps. */
void dfx_assert_same_matrix(const ard_pq_f32_matrix *a, const ard_pq_f32_matrix *b);
/* Row group `rg` read with ard_parquet_read_f32_matrix_into into a buffer of garbage with a caller
 * bitmap of garbage: the same rows, width, bits, null flag and bitmap as `expect`. */
void dfx_assert_into(const ard_parquet_file *pq, int32_t rg, int32_t leaf,
                     const ard_pq_f32_matrix *expect);

#endif
