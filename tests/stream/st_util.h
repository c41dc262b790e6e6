/* Shared helpers of the stream tests: a seeded generator, synthetic tiles written with the public
 * writer (TARGETID, FLUX/IVAR list<float> with null elements and IVAR=0 pixels, MASK list<uint8>),
 * unique shm names and the test suites' entry points. */
#ifndef ARD_TESTS_ST_UTIL_H
#define ARD_TESTS_ST_UTIL_H

#include "ard/parquet_write.h"
#include "ard/stream.h"
#include "common/ard_test.h"

#include <stddef.h>
#include <stdint.h>

typedef struct st_rng {
    uint64_t s;
} st_rng;
uint64_t st_next(st_rng *r);
double st_unit(st_rng *r);

/* The tile fixture, scratch directories and scratch datasets are tests/common's (ard_test.h); the
 * st_ names stay as aliases so that the stream tests read as before. */
#define st_write_tile ard_test_write_tile
#define st_tmpdir() ard_test_tmpdir("stream-test")
#define st_rmtree ard_test_rmtree
#define st_make_dataset ard_test_make_dataset
/* A process-unique shm name "ardtest-PID-N". */
void st_shm_name(char *out, size_t cap);

int st_tokenize_run(void);
int st_store_run(void);
int st_ring_run(void);
int st_loader_run(void);
int st_catalog_run(void);
int st_weights_run(void);
int st_serve_run(void);
int st_tile_cache_run(void);
int st_memory_cap_run(void);
int st_bench_run(void);
int st_sparse_shuffle_run(void);

#endif
