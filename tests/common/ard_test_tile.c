/* The spectral tile fixture (see ard_test.h): a deterministic small tile in the ard tile schema,
 * written through the public Parquet writer, and a scratch dataset of such tiles. */
#include "ard_test.h"

#include "ard/astro.h"
#include "ard/parquet_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* splitmix64: the fixture's values depend on the seed only */
static uint64_t next(uint64_t *s) {
    return ard_rng_mix64(*s += 0x9e3779b97f4a7c15ULL);
}

static double unit(uint64_t *s) {
    return (double)(next(s) >> 11) * 0x1.0p-53;
}

typedef struct tile_data {
    int64_t *ids;
    float *flux, *ivar;
    uint8_t *mask, *fvalid;
} tile_data;

static int fill_tile(tile_data *t, int64_t rows, int64_t width, int64_t first_id, uint64_t seed) {
    size_t n = (size_t)(rows * width);
    t->ids = malloc((size_t)rows * 8 + 8);
    t->flux = malloc(n * 4 + 4);
    t->ivar = malloc(n * 4 + 4);
    t->mask = malloc(n + 1);
    t->fvalid = calloc(n / 8 + 2, 1);
    if (!t->ids || !t->flux || !t->ivar || !t->mask || !t->fvalid) {
        return -1;
    }
    uint64_t r = seed;
    for (int64_t i = 0; i < rows; i++) {
        t->ids[i] = first_id + i;
        double amp = 0.5 + 5.0 * unit(&r);
        int masked_row = (next(&r) % 50) == 0;
        for (int64_t j = 0; j < width; j++) {
            size_t k = (size_t)(i * width + j);
            t->flux[k] = (float)(amp * (1.0 + 0.3 * (unit(&r) - 0.5)) - (j % 700 == 3 ? amp : 0));
            int null = (next(&r) % 100) == 0;
            if (!null) {
                t->fvalid[k / 8] |= (uint8_t)(1u << (k % 8));
            }
            int bad = masked_row || (next(&r) % 33) == 0;
            t->ivar[k] = bad ? 0.0f : (float)(1.0 + unit(&r));
            t->mask[k] = (uint8_t)(bad ? 1 : 0);
        }
    }
    return 0;
}

static void free_tile(tile_data *t) {
    free(t->ids);
    free(t->flux);
    free(t->ivar);
    free(t->mask);
    free(t->fvalid);
}

static ard_status write_columns(ard_pq_writer *w, const tile_data *t, int64_t rows, int64_t width,
                                ard_error *err) {
    ard_status st = ard_pq_writer_write_column(w, 0, t->ids, NULL, rows, err);
    if (st == ARD_OK) {
        st = ard_pq_writer_write_list_matrix(w, 1, t->flux, rows, width, t->fvalid, NULL, err);
    }
    if (st == ARD_OK) {
        st = ard_pq_writer_write_list_matrix(w, 2, t->ivar, rows, width, NULL, NULL, err);
    }
    if (st == ARD_OK) {
        st = ard_pq_writer_write_list_matrix(w, 3, t->mask, rows, width, NULL, NULL, err);
    }
    return st;
}

ard_status ard_test_write_tile(const char *path, int64_t rows, int64_t width, int64_t rows_per_rg,
                               int64_t first_id, uint64_t seed, ard_error *err) {
    tile_data t = {0};
    if (fill_tile(&t, rows, width, first_id, seed) != 0) {
        free_tile(&t);
        return ard_error_set(err, ARD_ENOMEM, "test tile");
    }
    ard_pq_schema_builder *sb = NULL;
    ard_status st = ard_pq_schema_new(&sb, err);
    ard_pq_logical u8 = {0};
    u8.kind = ARD_PQ_LT_INTEGER;
    u8.bit_width = 8;
    if (st == ARD_OK) {
        ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, err);
        ard_pq_schema_set_sorted(sb, 0, 1, err);
        ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL,
                               NULL, err);
        ard_pq_schema_add_list(sb, "IVAR", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL,
                               NULL, err);
        ard_pq_schema_add_list(sb, "MASK", ARD_PQ_INT32, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, &u8,
                               NULL, err);
    }
    char grid[96];
    snprintf(grid, sizeof grid, "kind=log;start=3600;stop=9824;n=%lld", (long long)width);
    const char *keys[] = {"ard.grid"};
    const char *vals[] = {grid};
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.rows_per_row_group = rows_per_rg;
    o.num_kv = 1;
    o.kv_keys = keys;
    o.kv_values = vals;
    ard_pq_writer *w = NULL;
    if (st == ARD_OK) {
        st = ard_pq_writer_open(path, sb, &o, &w, err);
    }
    if (st == ARD_OK) {
        st = write_columns(w, &t, rows, width, err);
        st = st == ARD_OK ? ard_pq_writer_close(w, err) : (ard_pq_writer_abort(w), st);
    }
    ard_pq_schema_free(sb);
    free_tile(&t);
    return st;
}

char *ard_test_make_dataset(int tiles, int64_t rows, int64_t width, int64_t rows_per_rg) {
    char *dir = ard_test_tmpdir("dataset");
    if (!dir) {
        return NULL;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/tiles", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/tiles/main", dir);
    mkdir(path, 0700);
    for (int i = 0; i < tiles; i++) {
        snprintf(path, sizeof path, "%s/tiles/main/%d.parquet", dir, 100 + i);
        ard_error err;
        ard_error_init(&err);
        if (ard_test_write_tile(path, rows, width, rows_per_rg, (int64_t)(i + 1) * 1000000,
                                77u + (uint64_t)i, &err) != ARD_OK) {
            fprintf(stderr, "ard_test_make_dataset: %s\n", err.msg);
            ard_test_rmtree(dir);
            free(dir);
            return NULL;
        }
    }
    return dir;
}
