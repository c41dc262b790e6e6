/* The bench stage (ard_stream_bench): over a dataset it consumes every spectrum once and reports
 * batches, spectra, rates and the catalog-free column list; --connect consumes a stream served by
 * the serve stage in another thread; on_finished sees the loader; bad options give ARD_EINVAL;
 * a missing dataset gives the loader's error. */
#include "st_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TILES = 2, ROWS = 70, WIDTH = 64, RPG = 32, BATCH = 16 };

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

static void on_finished(void *ctx, ard_loader *l) {
    *(int64_t *)ctx = ard_loader_rows_per_epoch(l);
}

static void test_bench_dataset(void **state) {
    (void)state;
    ard_stream_bench_options o;
    ard_stream_bench_options_init(&o);
    o.loader.batch_size = BATCH;
    o.loader.epochs = 2;
    o.dataset = g_dataset;
    int64_t seen = -1;
    o.on_finished = on_finished;
    o.ctx = &seen;
    ard_stream_bench_report r;
    memset(&r, 0xab, sizeof r);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_stream_bench(&o, &r, &err), ARD_OK);
    assert_int_equal(r.spectra, 2 * TILES * ROWS);
    assert_int_equal(r.batches, 2 * ((TILES * ROWS + BATCH - 1) / BATCH));
    assert_int_equal(seen, TILES * ROWS);
    assert_int_equal(r.num_columns, 0);
    assert_string_equal(r.columns, "");
    assert_int_equal(r.catalog_rows, 0);
    assert_int_equal(r.skipped, 0);
    assert_true(r.seconds >= 0.0 && r.consumer_cpu_seconds >= 0.0);
    assert_true(r.seconds > 0.0 ? r.spectra_per_second > 0.0 : r.spectra_per_second == 0.0);
    assert_true(r.consumer_cpu_us_per_batch >= 0.0);
}

typedef struct serve_job {
    ard_stream_serve_options o;
    ard_status st;
    char name[64];
} serve_job;

static void *serve_thread(void *arg) {
    serve_job *j = arg;
    j->st = ard_stream_serve(&j->o, NULL, NULL);
    return NULL;
}

static void test_bench_connect(void **state) {
    (void)state;
    serve_job j;
    memset(&j, 0, sizeof j);
    st_shm_name(j.name, sizeof j.name);
    ard_stream_serve_options_init(&j.o);
    j.o.loader.batch_size = BATCH;
    j.o.loader.prefetch_batches = 2;
    j.o.loader.store_name = j.name;
    j.o.dataset = g_dataset;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, serve_thread, &j), 0);
    ard_stream_bench_options o;
    ard_stream_bench_options_init(&o);
    o.connect = j.name;
    ard_stream_bench_report r;
    ard_status st = ARD_ENOENT;
    for (int i = 0; i < 2000 && st == ARD_ENOENT; i++) { /* until the store exists */
        st = ard_stream_bench(&o, &r, NULL);
        if (st == ARD_ENOENT) {
            struct timespec ts = {0, 5000000L};
            nanosleep(&ts, NULL);
        }
    }
    pthread_join(t, NULL);
    assert_int_equal(st, ARD_OK);
    assert_int_equal(j.st, ARD_OK);
    assert_int_equal(r.spectra, TILES * ROWS);
}

static void test_bench_bad_options(void **state) {
    (void)state;
    ard_stream_bench_options o;
    ard_stream_bench_options_init(&o);
    ard_stream_bench_report r;
    assert_int_equal(ard_stream_bench(NULL, &r, NULL), ARD_EINVAL);
    assert_int_equal(ard_stream_bench(&o, &r, NULL), ARD_EINVAL); /* neither source */
    o.dataset = g_dataset;
    o.connect = "ard-bench-x";
    assert_int_equal(ard_stream_bench(&o, &r, NULL), ARD_EINVAL); /* both */
    o.connect = NULL;
    o.where = "Z > 1";
    o.plan_path = "x.plan";
    assert_int_equal(ard_stream_bench(&o, &r, NULL), ARD_EINVAL); /* two sources */
    ard_stream_bench_options_init(&o);
    char missing[512];
    snprintf(missing, sizeof missing, "%s/no-such", g_dataset);
    o.dataset = missing;
    ard_error err;
    ard_error_init(&err);
    assert_int_not_equal(ard_stream_bench(&o, NULL, &err), ARD_OK);
    assert_true(err.msg[0] != '\0');
}

int st_bench_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_dataset),
        cmocka_unit_test(test_bench_connect),
        cmocka_unit_test(test_bench_bad_options),
    };
    return cmocka_run_group_tests_name("bench", tests, setup, teardown);
}
