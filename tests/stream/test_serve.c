/* The serve stage (ard_stream_serve): a server thread fills a named store that a consumer connects
 * to by name; every spectrum of every epoch arrives once per epoch and the report gives the epoch
 * sizes; a plan serves exactly its rows; *stop ends the serve with ARD_EIO and the consumer sees
 * the end; bad options give ARD_EINVAL. */
#include "st_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TILES = 2, ROWS = 90, WIDTH = 64, RPG = 40, BATCH = 16 };

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

typedef struct serve_job {
    ard_stream_serve_options o;
    ard_stream_serve_report rep;
    ard_status st;
    int started, finished;
    volatile int32_t stop;
    char name[64];
} serve_job;

static void on_started(void *ctx, const ard_stream_serve_report *r) {
    serve_job *j = ctx;
    j->started = r->rows_per_epoch > 0;
}

static void on_finished(void *ctx, ard_loader *l) {
    serve_job *j = ctx;
    j->finished = l != NULL;
}

static void *serve_thread(void *arg) {
    serve_job *j = arg;
    j->st = ard_stream_serve(&j->o, &j->rep, NULL);
    return NULL;
}

static void job_init(serve_job *j) {
    memset(j, 0, sizeof *j);
    st_shm_name(j->name, sizeof j->name);
    ard_stream_serve_options_init(&j->o);
    j->o.loader.batch_size = BATCH;
    j->o.loader.prefetch_batches = 2;
    j->o.loader.threads = 2;
    j->o.loader.store_name = j->name;
    j->o.dataset = g_dataset;
    j->o.on_started = on_started;
    j->o.on_finished = on_finished;
    j->o.ctx = j;
    j->o.poll_ms = 5;
}

static ard_store *connect_retry(const char *name) {
    ard_store *c = NULL;
    for (int i = 0; i < 2000; i++) {
        if (ard_store_connect(name, &c, NULL) == ARD_OK) {
            return c;
        }
        struct timespec ts = {0, 5000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("store %s never appeared", name);
    return NULL;
}

/* Consumes everything; counts[k] = times spectrum k (tile t row r: k = t * ROWS + r) arrived. */
static int64_t consume(ard_store *c, int32_t *counts) {
    ard_batch b;
    int64_t n = 0;
    while (ard_store_acquire(c, 30000, &b, NULL) == ARD_OK) {
        for (int32_t i = 0; i < b.count; i++) {
            int64_t id = b.targetid[i];
            int64_t k = (id / 1000000 - 1) * ROWS + id % 1000000;
            assert_true(k >= 0 && k < TILES * ROWS);
            counts[k]++;
        }
        n += b.count;
        assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    }
    return n;
}

static void test_serve_dataset(void **state) {
    (void)state;
    serve_job j;
    job_init(&j);
    j.o.loader.epochs = 2;
    j.o.loader.shuffle = 1;
    j.o.loader.seed = 9;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, serve_thread, &j), 0);
    ard_store *c = connect_retry(j.name);
    int32_t counts[TILES * ROWS] = {0};
    int64_t n = consume(c, counts);
    ard_store_close(c);
    pthread_join(t, NULL);
    assert_int_equal(j.st, ARD_OK);
    assert_int_equal(n, 2 * TILES * ROWS);
    for (int k = 0; k < TILES * ROWS; k++) {
        assert_int_equal(counts[k], 2);
    }
    assert_int_equal(j.rep.rows_per_epoch, TILES * ROWS);
    assert_int_equal(j.rep.batches_per_epoch, (TILES * ROWS + BATCH - 1) / BATCH);
    assert_int_equal(j.rep.skipped, 0);
    assert_int_equal(j.rep.interrupted, 0);
    assert_true(j.started && j.finished);
    assert_int_equal(ard_store_connect(j.name, &c, NULL), ARD_ENOENT); /* name removed */
}

static void test_serve_plan(void **state) {
    (void)state;
    /* plan: rows 3 and 7 of row group 0 and row 1 of row group 2 of the first tile */
    const char *files[1] = {"tiles/main/100.parquet"};
    ard_plan_entry e[3];
    memset(e, 0, sizeof e);
    const int64_t rows[3] = {3, 7, 81};
    for (int i = 0; i < 3; i++) {
        e[i].file = 0;
        e[i].row_group = (int32_t)(rows[i] / RPG);
        e[i].row = rows[i] % RPG;
        e[i].targetid = 1000000 + rows[i];
        e[i].first_row = (rows[i] / RPG) * RPG;
    }
    ard_plan *plan = NULL;
    assert_int_equal(ard_plan_new(files, 1, e, 3, &plan, NULL), ARD_OK);
    serve_job j;
    job_init(&j);
    j.o.plan = plan;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, serve_thread, &j), 0);
    ard_store *c = connect_retry(j.name);
    int32_t counts[TILES * ROWS] = {0};
    assert_int_equal(consume(c, counts), 3);
    ard_store_close(c);
    pthread_join(t, NULL);
    assert_int_equal(j.st, ARD_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(counts[rows[i]], 1);
    }
    assert_int_equal(j.rep.rows_per_epoch, 3);
    ard_plan_free(plan);
}

static void test_serve_stop(void **state) {
    (void)state;
    serve_job j;
    job_init(&j);
    j.o.stop = &j.stop;
    j.o.loader.epochs = 50;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, serve_thread, &j), 0);
    ard_store *c = connect_retry(j.name);
    ard_batch b;
    assert_int_equal(ard_store_acquire(c, 30000, &b, NULL), ARD_OK);
    assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    __atomic_store_n(&j.stop, 1, __ATOMIC_RELEASE); /* as a signal handler would */
    pthread_join(t, NULL);
    assert_int_equal(j.st, ARD_EIO);
    assert_int_equal(j.rep.interrupted, 1);
    ard_status st;
    while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
        ard_store_release(c, &b, NULL);
    }
    assert_int_equal(st, ARD_EIO); /* the consumer sees the failure, not a hang */
    ard_store_close(c);
}

static void test_serve_bad_options(void **state) {
    (void)state;
    serve_job j;
    job_init(&j);
    ard_stream_serve_report r;
    j.o.loader.store_name = NULL;
    assert_int_equal(ard_stream_serve(&j.o, &r, NULL), ARD_EINVAL);
    job_init(&j);
    j.o.where = "Z > 1";
    j.o.plan_path = "x.plan";
    assert_int_equal(ard_stream_serve(&j.o, &r, NULL), ARD_EINVAL);
    job_init(&j);
    j.o.dataset = NULL;
    assert_int_equal(ard_stream_serve(&j.o, &r, NULL), ARD_EINVAL);
    assert_int_equal(ard_stream_serve(NULL, NULL, NULL), ARD_EINVAL);
    job_init(&j);
    j.o.plan_path = "/nonexistent/x.plan";
    assert_int_equal(ard_stream_serve(&j.o, &r, NULL), ARD_ENOENT);
    assert_false(j.started);
}

int st_serve_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_dataset),
        cmocka_unit_test(test_serve_plan),
        cmocka_unit_test(test_serve_stop),
        cmocka_unit_test(test_serve_bad_options),
    };
    return cmocka_run_group_tests_name("serve", tests, setup, teardown);
}
