/* bench_stream_tiles DATASET TILES ROWS [WIDTH] [ROWS_PER_RG]: writes
 * DATASET/tiles/main/dark/N.parquet spectra tiles (TARGETID, FLUX/IVAR list<float> with null
 * elements and IVAR=0 pixels, MASK list<uint8>, "ard.grid") with the library's table writer, for
 * the stream benchmarks and the Python tests. */
#include "ard/astro.h"
#include "ard/parquet_write.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t next(uint64_t *s) { /* splitmix64 */
    return ard_rng_mix64(*s += 0x9e3779b97f4a7c15ULL);
}

static double unit(uint64_t *s) {
    return (double)(next(s) >> 11) * 0x1.0p-53;
}

typedef struct cols {
    int64_t *ids;
    float *flux, *ivar;
    uint8_t *mask, *fvalid;
} cols;

static void fill(cols *c, int64_t rows, int64_t width, int64_t first_id, uint64_t seed) {
    memset(c->fvalid, 0, (size_t)(rows * width / 8 + 1));
    for (int64_t i = 0; i < rows; i++) {
        c->ids[i] = first_id + i;
        double amp = 0.2 + 10.0 * unit(&seed), slope = unit(&seed) - 0.5;
        int dead = next(&seed) % 200 == 0;
        for (int64_t j = 0; j < width; j++) {
            size_t k = (size_t)(i * width + j);
            double x = (double)j / (double)width;
            c->flux[k] = (float)(amp * (1.0 + slope * x) + 0.3 * amp * (unit(&seed) - 0.5));
            if (next(&seed) % 256) {
                c->fvalid[k / 8] |= (uint8_t)(1u << (k % 8));
            }
            int bad = dead || next(&seed) % 40 == 0;
            c->ivar[k] = bad ? 0.0f : (float)(0.5 + unit(&seed));
            c->mask[k] = (uint8_t)bad;
        }
    }
}

/* One tile through the library's table writer ("write these columns"). */
static int write_tile(const char *path, const cols *c, int64_t rows, int64_t width, int64_t rpg) {
    ard_error err;
    ard_error_init(&err);
    char grid[96];
    snprintf(grid, sizeof grid, "kind=log;start=3600;stop=9824;n=%lld", (long long)width);
    const char *keys[] = {"ard.grid"}, *vals[] = {grid};
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.rows_per_row_group = rpg;
    o.num_kv = 1;
    o.kv_keys = keys;
    o.kv_values = vals;
    const int32_t lists = ARD_PARQUET_COL_NULLABLE | ARD_PARQUET_COL_NULL_LISTS;
    ard_parquet_table_column tc[4] = {
        {"TARGETID", ARD_PARQUET_COL_INT64, ARD_PARQUET_COL_SORTED, c->ids, NULL, NULL, 0},
        {"FLUX", ARD_PARQUET_COL_LIST_F32, lists, c->flux, c->fvalid, NULL, width},
        {"IVAR", ARD_PARQUET_COL_LIST_F32, lists, c->ivar, NULL, NULL, width},
        {"MASK", ARD_PARQUET_COL_LIST_U8, lists, c->mask, NULL, NULL, width}};
    if (ard_parquet_write_table(path, tc, 4, rows, &o, &err) != ARD_OK) {
        fprintf(stderr, "bench_stream_tiles: %s: %s\n", path, err.msg);
        return 1;
    }
    return 0;
}

static int mkdirs(const char *base) {
    const char *parts[] = {"/tiles", "/tiles/main", "/tiles/main/dark"};
    char path[4096];
    mkdir(base, 0755);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", base, parts[i]);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            perror(path);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_stream_tiles DATASET TILES ROWS [WIDTH] [ROWS_PER_RG]\n");
        return 2;
    }
    long tiles = strtol(argv[2], NULL, 10), rows = strtol(argv[3], NULL, 10);
    long width = argc > 4 ? strtol(argv[4], NULL, 10) : 4096;
    long rpg = argc > 5 ? strtol(argv[5], NULL, 10) : 256;
    if (tiles <= 0 || rows <= 0 || width <= 0 || rpg <= 0 || mkdirs(argv[1]) != 0) {
        return 2;
    }
    cols c = {malloc((size_t)rows * 8), malloc((size_t)(rows * width) * 4),
              malloc((size_t)(rows * width) * 4), malloc((size_t)(rows * width)),
              malloc((size_t)(rows * width / 8 + 1))};
    if (!c.ids || !c.flux || !c.ivar || !c.mask || !c.fvalid) {
        return 1;
    }
    int rc = 0;
    for (long t = 0; t < tiles && rc == 0; t++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tiles/main/dark/%ld.parquet", argv[1], 10000 + t);
        fill(&c, rows, width, (t + 1) * 10000000L, 1234u + (uint64_t)t);
        rc = write_tile(path, &c, rows, width, rpg);
    }
    free(c.ids), free(c.flux), free(c.ivar), free(c.mask), free(c.fvalid);
    return rc;
}
