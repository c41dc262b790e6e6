/* A tile truncated by another process while a reader holds it open: readers end with ARD_EIO
 * naming the tile instead of dying of SIGBUS (issue 15, item 1). The column reader reads chunks
 * with pread, so a vanished range is a short read, never a fault. The cut lands in the middle of
 * row group 1's FLUX chunk (wide spectra: the chunk is far larger than a page header window), the
 * part a mapping reader touched through the mapping. */
#include "rel.h"

#include "ard/parquet.h"
#include "ard/stream.h"
#include "stream/st_util.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { WIDE = 1024 };

static int32_t flux_leaf(const ard_parquet_file *pq) {
    int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
    assert_true(leaf >= 0);
    return leaf;
}

/* Replaces tile 0 of env by 400 random spectra of WIDE pixels (row groups of 100), whose FLUX
 * chunks do not compress; its path into `tile`. */
static void random_tile(const rel_env *env, char *tile, size_t cap) {
    rel_tile_path(env, 0, tile, cap);
    ard_error err;
    ard_error_init(&err);
    if (st_write_tile(tile, 400, WIDE, 100, 1000, 7, &err) != ARD_OK) {
        fail_msg("writing %s: %s", tile, err.msg);
    }
}

/* Cuts `path` in the middle of row group rg's FLUX chunk. */
static void cut_in_flux(const char *path, int32_t rg) {
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pq, NULL), ARD_OK);
    int32_t leaf = flux_leaf(pq);
    const ard_pq_column_chunk *cc = &ard_parquet_metadata(pq)->row_groups[rg].columns[leaf];
    if (cc->total_compressed_size < 65536) {
        fail_msg("FLUX chunk of %lld bytes: too small", (long long)cc->total_compressed_size);
    }
    off_t at = (off_t)(cc->chunk_start + cc->total_compressed_size / 2);
    ard_parquet_close(pq);
    assert_int_equal(truncate(path, at), 0);
}

/* The library's matrix read (what fetch and the loader decode with) on a file cut after open. */
static void test_matrix_truncated(void **state) {
    (void)state;
    rel_env *env = rel_env_new(0);
    char tile[400];
    random_tile(env, tile, sizeof tile);
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(tile, NULL, &pq, NULL), ARD_OK);
    int32_t leaf = flux_leaf(pq);
    ard_pq_f32_matrix m;
    memset(&m, 0, sizeof m);
    assert_int_equal(ard_parquet_read_f32_matrix(pq, 0, leaf, &m, NULL), ARD_OK);
    ard_pq_matrix_reset(&m);
    cut_in_flux(tile, 1);
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_parquet_read_f32_matrix(pq, 1, leaf, &m, &err);
    if (st != ARD_EIO) {
        fail_msg("read of a truncated chunk: %s (%s)", ard_status_name(st), err.msg);
    }
    assert_non_null(strstr(err.msg, tile));
    ard_pq_matrix_reset(&m);
    ard_parquet_close(pq);
    rel_env_free(env);
}

static void test_fetch_truncated(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1);
    ard_index *idx = NULL;
    ard_plan *plan = NULL;
    ard_fetch *f = NULL;
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    assert_int_equal(ard_index_query(idx, NULL, 0, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_chunks(plan), 8); /* 2 tiles x 4 row groups */
    /* One thread: a window of 2 chunks, so the first tile is open while the test cuts it. */
    assert_int_equal(ard_fetch_open(env->dir, plan, NULL, 0, 1, &f, NULL), ARD_OK);
    const ard_fetch_batch *b = NULL;
    assert_int_equal(ard_fetch_next(f, &b, NULL), ARD_OK);
    assert_int_equal(b->rows, 100);
    char tile[400];
    snprintf(tile, sizeof tile, "%s/%s", env->dir, ard_plan_file(plan, b->file));
    struct stat sb;
    assert_int_equal(stat(tile, &sb), 0);
    assert_int_equal(truncate(tile, sb.st_size / 2), 0);
    ard_error err;
    ard_error_init(&err);
    ard_status st = ARD_OK;
    for (int i = 0; i < 8 && st == ARD_OK; i++) {
        st = ard_fetch_next(f, &b, &err);
    }
    if (st != ARD_EIO) {
        fail_msg("fetch of a truncated tile: %s (%s)", ard_status_name(st), err.msg);
    }
    assert_non_null(strstr(err.msg, tile));
    ard_fetch_close(f);
    ard_plan_free(plan);
    ard_index_close(idx);
    rel_env_free(env);
}

/* Overwrites the first bytes of row group rg's FLUX chunk (its first page header) with 0xff. */
static void smash_flux_header(const char *path, int32_t rg) {
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pq, NULL), ARD_OK);
    const ard_pq_column_chunk *cc =
        &ard_parquet_metadata(pq)->row_groups[rg].columns[flux_leaf(pq)];
    int64_t at = cc->chunk_start;
    ard_parquet_close(pq);
    uint8_t junk[64];
    memset(junk, 0xff, sizeof junk);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)at, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
}

/* Runs a loader over the 4 row groups of a random tile 0 that is damaged in row group 1 after the
 * loader read its footer (cut there when `cut`, else its page header smashed); returns the rows
 * delivered and the stream's end status in *end. */
static int64_t run_loader(rel_env *env, int32_t on_error, int cut, int32_t threads,
                          ard_loader **out, ard_status *end) {
    char tile[400];
    random_tile(env, tile, sizeof tile);
    ard_read_item items[4];
    for (int g = 0; g < 4; g++) {
        items[g] = (ard_read_item){tile, g, 0, -1};
    }
    ard_loader_options o;
    ard_loader_options_init(&o);
    o.batch_size = threads > 1 ? 10 : 50; /* several threads: every one of them in row group 1 */
    o.threads = threads;
    o.on_error = on_error;
    ard_loader *l = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_loader_new(&o, items, 4, &l, &err), ARD_OK);
    if (cut) {
        cut_in_flux(tile, 1); /* after the footers were read, before any row group */
    } else {
        smash_flux_header(tile, 1);
    }
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    ard_batch batch;
    int64_t rows = 0;
    while ((*end = ard_store_acquire(c, 30000, &batch, NULL)) == ARD_OK) {
        for (int32_t i = 0; i < batch.count; i++) {
            int64_t want = 1000 + rows + (rows >= 100 ? 100 : 0);
            if (batch.targetid[i] != want) { /* rows of row group 1 are left out, in order */
                fail_msg("row %lld: TARGETID %lld, expected %lld", (long long)rows,
                         (long long)batch.targetid[i], (long long)want);
            }
            rows++;
        }
        ard_store_release(c, &batch, NULL);
    }
    ard_store_close(c);
    *out = l;
    return rows;
}

static void test_loader_truncated(void **state) {
    (void)state;
    rel_env *env = rel_env_new(0);
    char tile[400];
    rel_tile_path(env, 0, tile, sizeof tile);
    ard_loader *l = NULL;
    ard_status end = ARD_OK;
    int64_t rows = run_loader(env, ARD_ON_ERROR_FAIL, 1, 1, &l, &end);
    if (end == ARD_EEOF) {
        fail_msg("the stream ended normally after %lld rows", (long long)rows);
    }
    assert_true(rows <= 100);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_loader_wait(l, &err), ARD_EIO);
    assert_non_null(strstr(err.msg, tile));
    assert_int_equal(ard_loader_num_skipped(l), 0);
    ard_loader_free(l);
    rel_env_free(env);
}

/* Four workers share row group 1 (batches of 10 over row groups of 100): those that did not
 * decode it must still report the decoding thread's message, naming the tile (it once said only
 * "row group failed in another thread"). Repeated: which thread decodes first is up to the OS. */
static void test_loader_error_shared(void **state) {
    (void)state;
    for (int round = 0; round < 12; round++) {
        rel_env *env = rel_env_new(0);
        char tile[400];
        rel_tile_path(env, 0, tile, sizeof tile);
        ard_loader *l = NULL;
        ard_status end = ARD_OK;
        (void)run_loader(env, ARD_ON_ERROR_FAIL, 0, 4, &l, &end);
        assert_int_not_equal(end, ARD_EEOF);
        ard_error err;
        ard_error_init(&err);
        assert_int_equal(ard_loader_wait(l, &err), ARD_ECORRUPT);
        if (!strstr(err.msg, tile)) {
            fail_msg("round %d: error does not name %s: %s", round, tile, err.msg);
        }
        ard_loader_free(l);
        rel_env_free(env);
    }
}

/* on_error = skip: the corrupt row group 1 is left out, the other 300 spectra arrive in order,
 * the stream ends normally and reports (tile, row group 1, ARD_ECORRUPT naming the tile). */
static void test_loader_skip(void **state) {
    (void)state;
    rel_env *env = rel_env_new(0);
    char tile[400];
    rel_tile_path(env, 0, tile, sizeof tile);
    ard_loader *l = NULL;
    ard_status end = ARD_OK;
    int64_t rows = run_loader(env, ARD_ON_ERROR_SKIP, 0, 1, &l, &end);
    assert_int_equal(end, ARD_EEOF);
    assert_int_equal(rows, 300);
    assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
    assert_int_equal(ard_loader_num_skipped(l), 1);
    char path[512], msg[512];
    int32_t rg = -1, status = 0;
    int64_t times = 0;
    assert_int_equal(
        ard_loader_skipped(l, 0, path, sizeof path, &rg, &status, msg, sizeof msg, &times, NULL),
        ARD_OK);
    assert_string_equal(path, tile);
    assert_int_equal(rg, 1);
    assert_int_equal(status, ARD_ECORRUPT);
    assert_non_null(strstr(msg, tile));
    assert_true(times >= 1);
    assert_int_equal(ard_loader_skipped(l, 1, NULL, 0, NULL, NULL, NULL, 0, NULL, NULL),
                     ARD_ERANGE);
    ard_loader_free(l);
    rel_env_free(env);
}

int rel_truncate_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_truncated),    cmocka_unit_test(test_fetch_truncated),
        cmocka_unit_test(test_loader_truncated),    cmocka_unit_test(test_loader_skip),
        cmocka_unit_test(test_loader_error_shared),
    };
    return cmocka_run_group_tests_name("truncated tiles", tests, NULL, NULL);
}
