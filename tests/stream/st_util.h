/* Shared helpers of the stream tests: a seeded generator, synthetic tiles written with the public
 * writer (TARGETID, FLUX/IVAR list<float> with null elements and IVAR=0 pixels, MASK list<uint8>),
 * unique shm names and the test suites' entry points. */
#ifndef ARD_TESTS_ST_UTIL_H
#define ARD_TESTS_ST_UTIL_H

#include "ard/parquet_write.h"
#include "ard/stream.h"

#include <stddef.h>
#include <stdint.h>

typedef struct st_rng {
    uint64_t s;
} st_rng;
uint64_t st_next(st_rng *r);
double st_unit(st_rng *r);

/* Writes PATH with `rows` spectra of `width` bins, TARGETID = first_id + i, row groups of
 * rows_per_rg rows; about 1% null flux elements, 3% IVAR = 0, one all-masked row in 50. */
ard_status st_write_tile(const char *path, int64_t rows, int64_t width, int64_t rows_per_rg,
                         int64_t first_id, uint64_t seed, ard_error *err);
/* A fresh temporary directory (mkdtemp) under /tmp; the caller removes it with st_rmtree. */
char *st_tmpdir(void);
void st_rmtree(const char *path);
/* A process-unique shm name "ardtest-PID-N". */
void st_shm_name(char *out, size_t cap);
/* Builds DATASET/tiles/main/dark/N/ with `tiles` tiles of rows each; returns the dataset path. */
char *st_make_dataset(int tiles, int64_t rows, int64_t width, int64_t rows_per_rg);

int st_tokenize_run(void);
int st_store_run(void);
int st_loader_run(void);
int st_catalog_run(void);
int st_weights_run(void);

#endif
