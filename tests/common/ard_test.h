/* Helpers shared by every test executable (tests/common, linked into each test_<module>):
 * scratch directories, whole-file reads and writes, the shared corpus and source directories, and
 * the spectral tile fixture (a small tile in the ard tile schema written by the public writer).
 * The PostgreSQL throwaway server for shell tests is tests/common/pg_server.bash. */
#ifndef ARD_TESTS_COMMON_ARD_TEST_H
#define ARD_TESTS_COMMON_ARD_TEST_H

#include "ard/core.h"

#include <stddef.h>
#include <stdint.h>

/* A fresh directory "ard-TAG-XXXXXX" under $TMPDIR (default /tmp), malloc'd; NULL on failure.
 * Remove it with ard_test_rmtree, then free the path. */
char *ard_test_tmpdir(const char *tag);
/* Removes path and everything under it (no symlinks followed); accepts NULL. */
void ard_test_rmtree(const char *path);
/* Entries of directory `dir` other than "." and ".." (a leftover temporary shows as one); -1 when
 * it cannot be opened. */
int ard_test_count_entries(const char *dir);

/* The whole file, malloc'd with a NUL byte after the data (so text can be used as a string);
 * *size (may be NULL) receives the length. NULL when unreadable. */
uint8_t *ard_test_read_file(const char *path, size_t *size);
/* Writes len bytes (replacing the file). 0 or -1. */
int ard_test_write_file(const char *path, const void *data, size_t len);
/* Writes a NUL-terminated text. 0 or -1. */
int ard_test_write_text(const char *path, const char *text);

/* The shared test corpus (../shared beside the checkout: $ARD_SHARED_DIR or the compiled default)
 * and the source checkout ($ARD_SOURCE_DIR or the compiled default). */
const char *ard_test_shared_dir(void);
const char *ard_test_source_dir(void);

/* Writes a tile at PATH: `rows` spectra of `width` bins, TARGETID = first_id + i (sorted), row
 * groups of rows_per_rg rows, FLUX/IVAR list<float> and MASK list<uint8>, key-value ard.grid;
 * about 1% null flux elements, 3% IVAR = 0 (MASK 1 there), one all-masked row in 50. The same
 * seed writes the same bytes. */
ard_status ard_test_write_tile(const char *path, int64_t rows, int64_t width, int64_t rows_per_rg,
                               int64_t first_id, uint64_t seed, ard_error *err);
/* A scratch dataset: DIR/tiles/main/<100+i>.parquet for i < tiles, tile i with TARGETIDs
 * (i + 1) * 1000000 + row and seed 77 + i. Returns the malloc'd DIR (ard_test_rmtree + free), or
 * NULL. */
char *ard_test_make_dataset(int tiles, int64_t rows, int64_t width, int64_t rows_per_rg);

#endif
