/* The loader's tile cache: over a plan of many tiles at most 2 x threads + 2 tiles are open during
 * and after streaming, the batches are those of the plan (TARGETIDs in tile and row order), and a
 * tile rewritten after the loader resolved it fails its row groups (skipped under on_error =
 * skip) instead of being read as another file. */
#include "st_util.h"
#include "stream_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { TILES = 40, ROWS = 20, WIDTH = 64, RPG = 10, BATCH = 16 };

static char *g_dataset;

static int setup(void **state) {
    (void)state;
    g_dataset = st_make_dataset(TILES, ROWS, WIDTH, RPG);
    return g_dataset ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    st_rmtree(g_dataset);
    free(g_dataset);
    return 0;
}

static int32_t open_tiles(ard_loader *l) {
    pthread_mutex_lock(&l->lock);
    int32_t n = l->open_tiles;
    pthread_mutex_unlock(&l->lock);
    return n;
}

/* Streams one epoch; ids in delivery order (caller frees); checks the bound at every batch. */
static int64_t *stream(ard_loader *l, int64_t *n_out) {
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    int64_t n = 0;
    int64_t *ids = malloc((size_t)TILES * ROWS * 8);
    ard_batch b;
    ard_status st;
    while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
        assert_true(open_tiles(l) <= l->max_open_tiles);
        for (int i = 0; i < b.count; i++) {
            assert_true(n < TILES * ROWS);
            ids[n++] = b.targetid[i];
        }
        ard_store_release(c, &b, NULL);
    }
    assert_int_equal(st, ARD_EEOF);
    assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
    ard_store_close(c);
    *n_out = n;
    return ids;
}

static void test_bounded_open_tiles(void **state) {
    (void)state;
    for (int32_t threads = 1; threads <= 3; threads++) {
        ard_loader_options o;
        ard_loader_options_init(&o);
        o.batch_size = BATCH;
        o.prefetch_batches = 4;
        o.threads = threads;
        ard_loader *l = NULL;
        assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
        assert_int_equal(l->num_files, TILES);
        assert_int_equal(l->max_open_tiles, 2 * threads + 2);
        assert_true(open_tiles(l) <= l->max_open_tiles); /* after creation */
        int64_t n = 0;
        int64_t *ids = stream(l, &n);
        assert_int_equal(n, (int64_t)TILES * ROWS);
        for (int t = 0, k = 0; t < TILES; t++) {
            for (int r = 0; r < ROWS; r++) {
                assert_int_equal(ids[k++], (int64_t)(t + 1) * 1000000 + r);
            }
        }
        assert_true(open_tiles(l) <= l->max_open_tiles); /* after streaming */
        assert_true(l->peak_open_tiles <= l->max_open_tiles);
        assert_true(l->peak_open_tiles >= 1);
        free(ids);
        ard_loader_free(l);
    }
}

static void test_changed_tile(void **state) {
    (void)state;
    char *dir = st_make_dataset(TILES, ROWS, WIDTH, RPG);
    assert_non_null(dir);
    for (int32_t policy = ARD_ON_ERROR_FAIL; policy <= ARD_ON_ERROR_SKIP; policy++) {
        ard_loader_options o;
        ard_loader_options_init(&o);
        o.batch_size = BATCH;
        o.threads = 2;
        o.on_error = policy;
        ard_loader *l = NULL;
        assert_int_equal(ard_loader_new_dataset(&o, dir, &l, NULL), ARD_OK);
        assert_null(l->files[20].tile); /* closed: the later tiles pushed it out */
        char path[4096];
        snprintf(path, sizeof path, "%s/tiles/main/120.parquet", dir);
        assert_int_equal(st_write_tile(path, ROWS + 5, WIDTH, RPG, 21000000, 99 + policy, NULL),
                         ARD_OK);
        ard_store *c = NULL;
        assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
        assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
        ard_batch b;
        ard_status st;
        int64_t n = 0;
        while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
            for (int i = 0; i < b.count; i++) {
                assert_true(b.targetid[i] / 1000000 != 21); /* never the rewritten tile's rows */
                n++;
            }
            ard_store_release(c, &b, NULL);
        }
        ard_error err = {0};
        ard_status waited = ard_loader_wait(l, &err);
        if (policy == ARD_ON_ERROR_SKIP) {
            assert_int_equal(st, ARD_EEOF);
            assert_int_equal(waited, ARD_OK);
            assert_int_equal(n, (int64_t)(TILES - 1) * ROWS);
        } else {
            assert_int_equal(waited, ARD_ECORRUPT);
            assert_non_null(strstr(err.msg, "120.parquet changed since the loader opened it"));
        }
        ard_store_close(c);
        ard_loader_free(l);
    }
    st_rmtree(dir);
    free(dir);
}

int st_tile_cache_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_open_tiles),
        cmocka_unit_test(test_changed_tile),
    };
    return cmocka_run_group_tests_name("tile_cache", tests, setup, teardown);
}
