/* bench_index_gen: writes a synthetic dataset for the index benchmarks (and the index tests' shell
 * scripts): TILES tile files of ROWS spectra (WIDTH pixels, row groups of GROUP rows) in the
 * DESIGN.md layout, plus a catalog of every TARGETID and EXTRA catalog-only galaxies in CATFILES
 * files. The generator is the one the index unit tests use (tests/index/tgen.c), so values are a
 * pure function of TARGETID.
 *
 *   bench_index_gen DIR TILES ROWS WIDTH GROUP EXTRA CATFILES [THREADS] */
#include "../tests/index/tgen.c"

#include <stdlib.h>

typedef struct gen_job {
    const char *dir;
    const tgen_opts *opts;
    int failed;
} gen_job;

static void gen_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    gen_job *job = arg;
    char rel[256], path[4096], msg[600];
    tgen_tile_path((int32_t)i, rel, sizeof rel);
    snprintf(path, sizeof path, "%s/%s", job->dir, rel);
    if (tgen_write_tile(path, (int32_t)i, job->opts, msg, sizeof msg) != 0) {
        fprintf(stderr, "bench_index_gen: %s\n", msg);
        job->failed = 1;
    }
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr,
                "usage: bench_index_gen DIR TILES ROWS WIDTH GROUP EXTRA CATFILES [THREADS]\n");
        return 2;
    }
    tgen_opts o = {(int32_t)strtol(argv[2], NULL, 10), (int32_t)strtol(argv[3], NULL, 10),
                   (int32_t)strtol(argv[4], NULL, 10), (int32_t)strtol(argv[5], NULL, 10),
                   (int32_t)strtol(argv[6], NULL, 10), (int32_t)strtol(argv[7], NULL, 10)};
    if (o.tiles < 0 || o.rows < 1 || o.width < 1 || o.rows_per_group < 1 || o.catalog_files < 1) {
        fprintf(stderr, "bench_index_gen: bad sizes\n");
        return 2;
    }
    ard_pool *pool = NULL;
    if (ard_pool_new(argc > 8 ? (int)strtol(argv[8], NULL, 10) : 0, &pool, NULL) != ARD_OK) {
        return 1;
    }
    gen_job job = {argv[1], &o, 0};
    ard_pool_for(pool, o.tiles, gen_task, &job);
    ard_pool_free(pool);
    char msg[600];
    if (job.failed || tgen_catalog(argv[1], &o, msg, sizeof msg) != 0) {
        fprintf(stderr, "bench_index_gen: %s\n", job.failed ? "tile writing failed" : msg);
        return 1;
    }
    return 0;
}
