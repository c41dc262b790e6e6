/* The writer's buffer pool (ard_parquet_writer_buffers) and its streaming of pages to the file: a
 * writer reused across files, and a table appended one row group at a time (pages straight to the
 * file), give the same bytes as fresh writers fed whole columns; the pool holds a bounded amount.
 * And key-value metadata set after the rows (ard_pq_writer_set_kv). */
#include "tw_util.h"

#include "common/ard_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", tw_dir(), name);
}

static int same_file(const char *a, const char *b) {
    size_t la = 0, lb = 0;
    uint8_t *x = ard_test_read_file(a, &la), *y = ard_test_read_file(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    if (!same) {
        fprintf(stderr, "%s (%zu bytes) and %s (%zu bytes) differ\n", a, la, b, lb);
    }
    free(x);
    free(y);
    return same;
}

/* Layouts where the bytes do not depend on how rows are batched: row groups by row count or at the
 * default 256 MiB target (never reached here). */
static void random_options(tw_rng *r, ard_pq_writer_options *o) {
    static const ard_pq_codec codecs[] = {ARD_PQ_UNCOMPRESSED, ARD_PQ_SNAPPY, ARD_PQ_ZSTD,
                                          ARD_PQ_LZ4_RAW};
    ard_pq_writer_options_init(o);
    o->codec = codecs[tw_range(r, 0, 3)];
    o->page_version = (int32_t)tw_range(r, 1, 2);
    o->page_size_bytes = tw_range(r, 0, 2) == 0 ? 0 : tw_range(r, 64, 16384);
    o->rows_per_row_group = tw_range(r, 0, 2) == 0 ? 0 : tw_range(r, 1, 700);
    o->max_dictionary_bytes = tw_range(r, 0, 2) == 0 ? tw_range(r, 8, 2000) : 0;
    o->byte_stream_split = (int32_t)tw_range(r, 0, 1);
}

/* Random tables of random schemas, each written by a fresh writer and by a writer taking the
 * buffers that writers of other tables (other schemas, other sizes) gave back to the pool. */
void tw_test_writer_pool(void **state) {
    (void)state;
    ard_parquet_writer_buffers *pool = NULL, *tiny = NULL;
    assert_int_equal(ard_parquet_writer_buffers_new(0, 0, &pool, NULL), ARD_EINVAL);
    assert_null(pool);
    assert_int_equal(ard_parquet_writer_buffers_new(65, 0, &pool, NULL), ARD_EINVAL);
    assert_int_equal(ard_parquet_writer_buffers_new(1, -1, &pool, NULL), ARD_EINVAL);
    assert_int_equal(ard_parquet_writer_buffers_new(1, 0, NULL, NULL), ARD_EINVAL);
    assert_int_equal(ard_parquet_writer_buffers_held(NULL), 0);
    ard_parquet_writer_buffers_free(NULL);
    assert_int_equal(ard_parquet_writer_buffers_new(2, 0, &pool, NULL), ARD_OK);
    assert_int_equal(ard_parquet_writer_buffers_new(2, 1, &tiny, NULL), ARD_OK); /* keeps nothing */
    assert_int_equal(ard_parquet_writer_buffers_held(pool), 0);
    char fresh[512], pooled[512], other[512];
    path_of(fresh, sizeof fresh, "pool_fresh.parquet");
    path_of(pooled, sizeof pooled, "pool_pooled.parquet");
    path_of(other, sizeof other, "pool_other.parquet");
    for (uint64_t seed = 1; seed <= 24; seed++) {
        tw_rng r = {seed * 104729};
        tw_table t, u;
        tw_table_random(&t, &r,
                        tw_range(&r, 0, 4) == 0 ? tw_range(&r, 0, 3) : tw_range(&r, 1, 1500),
                        (int)(seed % 3 == 0));
        tw_table_random(&u, &r, tw_range(&r, 1, 800), 0);
        ard_pq_writer_options o, ou;
        random_options(&r, &o);
        random_options(&r, &ou);
        ou.buffers = seed % 2 ? pool : tiny;
        tw_rng batches = r, other_batches = r;
        assert_int_equal(tw_write(&u, other, &ou, &other_batches, NULL), ARD_OK); /* fills pool */
        assert_int_equal(tw_write(&t, fresh, &o, &batches, NULL), ARD_OK);
        batches = r;
        o.buffers = ou.buffers;
        assert_int_equal(tw_write(&t, pooled, &o, &batches, NULL), ARD_OK);
        assert_true(same_file(fresh, pooled));
        assert_int_equal(tw_compare(&t, pooled), 0);
        assert_int_equal(tw_compare(&u, other), 0);
        tw_table_free(&t);
        tw_table_free(&u);
    }
    /* bounded: at most max_writers kits of at most max_bytes each; the tiny pool keeps none */
    int64_t held = ard_parquet_writer_buffers_held(pool);
    assert_true(held > 0);
    assert_true(held <= 2 * ((int64_t)64 << 20));
    assert_int_equal(ard_parquet_writer_buffers_held(tiny), 0);
    ard_parquet_writer_buffers_free(pool);
    ard_parquet_writer_buffers_free(tiny);
}

enum { TILE_W = 4096 };

typedef struct tile_data {
    int64_t rows;
    int64_t *ids;
    float *flux;
    uint8_t *mask, *valid;
} tile_data;

static void tile_make(tile_data *d, int64_t rows, uint64_t seed) {
    tw_rng r = {seed};
    d->rows = rows;
    d->ids = malloc((size_t)rows * sizeof *d->ids);
    d->flux = malloc((size_t)(rows * TILE_W) * sizeof *d->flux);
    d->mask = malloc((size_t)(rows * TILE_W));
    d->valid = calloc((size_t)(rows * TILE_W) / 8 + 1, 1);
    assert_non_null(d->ids);
    assert_non_null(d->flux);
    assert_non_null(d->mask);
    assert_non_null(d->valid);
    for (int64_t i = 0; i < rows * TILE_W; i++) {
        d->flux[i] = (float)(tw_unit(&r) * 10 - 2);
        d->mask[i] = (uint8_t)(tw_range(&r, 0, 50) == 0 ? 4 : 0);
        d->valid[i / 8] |= (uint8_t)((d->mask[i] == 0) << (i % 8));
    }
    for (int64_t i = 0; i < rows; i++) {
        d->ids[i] = 39627000000000000 + i * 17 + (int64_t)seed;
    }
}

static void tile_free(tile_data *d) {
    free(d->ids);
    free(d->flux);
    free(d->mask);
    free(d->valid);
}

static ard_pq_schema_builder *tile_schema(void) {
    ard_pq_schema_builder *sb = NULL;
    ard_pq_logical u8 = {.kind = ARD_PQ_LT_INTEGER, .bit_width = 8, .is_signed = 0};
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    assert_int_equal(ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL,
                                              0, NULL, NULL),
                     ARD_OK);
    assert_int_equal(ard_pq_schema_set_sorted(sb, 0, 1, NULL), ARD_OK);
    assert_int_equal(ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_REQUIRED,
                                            ARD_PQ_OPTIONAL, NULL, NULL, NULL),
                     ARD_OK);
    assert_int_equal(ard_pq_schema_add_list(sb, "IVAR", ARD_PQ_FLOAT, ARD_PQ_REQUIRED,
                                            ARD_PQ_REQUIRED, NULL, NULL, NULL),
                     ARD_OK);
    assert_int_equal(ard_pq_schema_add_list(sb, "MASK", ARD_PQ_INT32, ARD_PQ_REQUIRED,
                                            ARD_PQ_REQUIRED, &u8, NULL, NULL),
                     ARD_OK);
    return sb;
}

/* Writes tile d: whole columns one after the other (batch 0), or `batch` rows of every column at a
 * time; limit: a last, shorter batch announced with ard_pq_writer_limit_row_group. FLUX validity
 * at a byte boundary: TILE_W is a multiple of 8. */
static void tile_write(const tile_data *d, const char *path, int64_t batch,
                       ard_parquet_writer_buffers *pool, int limit) {
    ard_pq_schema_builder *sb = tile_schema();
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.rows_per_row_group = 128;
    o.buffers = pool;
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
    int64_t step = batch > 0 ? batch : d->rows;
    for (int64_t r0 = 0; r0 < d->rows; r0 += step) {
        int64_t n = d->rows - r0 < step ? d->rows - r0 : step, e0 = r0 * TILE_W;
        if (limit && n < 128) { /* the last, shorter row group announced (streams) */
            assert_int_equal(ard_pq_writer_limit_row_group(w, n, NULL), ARD_OK);
        }
        assert_int_equal(ard_pq_writer_write_column(w, 0, d->ids + r0, NULL, n, NULL), ARD_OK);
        assert_int_equal(ard_pq_writer_write_list_matrix(w, 1, d->flux + e0, n, TILE_W,
                                                         d->valid + e0 / 8, NULL, NULL),
                         ARD_OK);
        assert_int_equal(
            ard_pq_writer_write_list_matrix(w, 2, d->flux + e0, n, TILE_W, NULL, NULL, NULL),
            ARD_OK);
        assert_int_equal(
            ard_pq_writer_write_list_matrix(w, 3, d->mask + e0, n, TILE_W, NULL, NULL, NULL),
            ARD_OK);
    }
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
}

/* Spectral tiles as ard generate writes them (row group by row group, a shared pool, one tile after
 * the other) against whole columns through fresh writers; sizes around the 128-row groups. (Batches
 * that do not follow the row groups may cut pages elsewhere, so their bytes may differ; the random
 * round trips of test_writer.c read them back.) */
void tw_test_tile_stream(void **state) {
    (void)state;
    static const int64_t sizes[] = {1, 128, 300, 256, 129, 7};
    ard_parquet_writer_buffers *pool = NULL;
    assert_int_equal(ard_parquet_writer_buffers_new(1, 0, &pool, NULL), ARD_OK);
    char fresh[512], streamed[512];
    path_of(fresh, sizeof fresh, "tile_fresh.parquet");
    path_of(streamed, sizeof streamed, "tile_streamed.parquet");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        tile_data d;
        tile_make(&d, sizes[i], 77 + i);
        tile_write(&d, fresh, 0, NULL, 0);
        tile_write(&d, streamed, 128, pool, 0);
        assert_true(same_file(fresh, streamed));
        tile_write(&d, streamed, 128, pool, 1);
        assert_true(same_file(fresh, streamed));
        tile_free(&d);
    }
    assert_true(ard_parquet_writer_buffers_held(pool) > 0);
    ard_parquet_writer_buffers_free(pool);
}

/* ard_pq_writer_limit_row_group's refusals, and rows appended past the limit: they start the next
 * row group. */
void tw_test_limit_row_group(void **state) {
    (void)state;
    char path[512];
    path_of(path, sizeof path, "limit.parquet");
    ard_pq_schema_builder *sb = NULL;
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    for (int c = 0; c < 2; c++) {
        assert_int_equal(ard_pq_schema_add_column(sb, c ? "Y" : "X", ARD_PQ_INT64, ARD_PQ_REQUIRED,
                                                  NULL, 0, NULL, NULL),
                         ARD_OK);
    }
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.rows_per_row_group = 10;
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
    int64_t x[20] = {0};
    for (int i = 0; i < 20; i++) {
        x[i] = i;
    }
    assert_int_equal(ard_pq_writer_limit_row_group(NULL, 5, NULL), ARD_EINVAL);
    assert_int_equal(ard_pq_writer_limit_row_group(w, 11, NULL), ARD_EINVAL); /* over the cut */
    assert_int_equal(ard_pq_writer_write_column(w, 0, x, NULL, 3, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_limit_row_group(w, 3, NULL), ARD_EINVAL); /* X holds 3 */
    assert_int_equal(ard_pq_writer_limit_row_group(w, 0, NULL), ARD_EINVAL);
    assert_int_equal(ard_pq_writer_limit_row_group(w, 4, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 1, x, NULL, 3, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 0, x + 3, NULL, 6, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 1, x + 3, NULL, 6, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    assert_int_equal(md->num_row_groups, 2);
    assert_int_equal(md->row_groups[0].num_rows, 4);
    assert_int_equal(md->row_groups[1].num_rows, 5);
    ard_parquet_close(f);
}

/* Key-value metadata set after the rows (the tile writer's pixel statistics): replaced in place,
 * added after the others, NULL values kept as keys without value. */
void tw_test_set_kv(void **state) {
    (void)state;
    char path[512];
    path_of(path, sizeof path, "kv.parquet");
    ard_pq_schema_builder *sb = NULL;
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    assert_int_equal(
        ard_pq_schema_add_column(sb, "X", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, NULL),
        ARD_OK);
    const char *keys[2] = {"a", "b"};
    const char *vals[2] = {"1", "2"};
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.num_kv = 2;
    o.kv_keys = keys;
    o.kv_values = vals;
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
    int64_t x[3] = {1, 2, 3};
    assert_int_equal(ard_pq_writer_write_column(w, 0, x, NULL, 3, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_set_kv(NULL, "a", "x", NULL), ARD_EINVAL);
    assert_int_equal(ard_pq_writer_set_kv(w, NULL, "x", NULL), ARD_EINVAL);
    assert_int_equal(ard_pq_writer_set_kv(w, "a", "replaced", NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_set_kv(w, "c", "added", NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_set_kv(w, "c", "again", NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_set_kv(w, "d", NULL, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    assert_string_equal(ard_parquet_kv_get(f, "a"), "replaced");
    assert_string_equal(ard_parquet_kv_get(f, "b"), "2");
    assert_string_equal(ard_parquet_kv_get(f, "c"), "again");
    assert_null(ard_parquet_kv_get(f, "d"));
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    assert_int_equal(md->num_kv, 4);
    assert_string_equal(md->kv[2].key, "c");
    assert_string_equal(md->kv[3].key, "d");
    ard_parquet_close(f);
}
