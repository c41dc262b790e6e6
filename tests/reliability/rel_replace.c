/* Concurrency (issue 15): a stream keeps running while its tiles are replaced and the index is
 * synced under it. Every tile is replaced through the atomic writer (the rename generate, convert
 * and every other ard writer use) by a tile of other spectra while the stream is under way, and a
 * sync runs at the same time in another thread: the stream delivers exactly the spectra it planned
 * (the open tiles keep their old inodes), the sync indexes the new tiles, the index checks, and the
 * next stream sees the new spectra. */
#include "rel.h"

#include "ard/stream.h"
#include "common/ard_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NEW_BASE = 900000000 };

typedef struct replacer {
    const rel_env *env;
    ard_status replaced, synced;
    ard_sync_report rep;
    char msg[512];
} replacer;

/* Writes the replacement of tile t into a scratch file, then renames it over the tile atomically. */
static ard_status replace_tile(const rel_env *env, int32_t t, char *msg, size_t cap) {
    char tile[600], scratch[700];
    rel_tile_path(env, t, tile, sizeof tile);
    snprintf(scratch, sizeof scratch, "%s/replacement-%d.parquet", env->dir, t);
    ard_error err;
    ard_error_init(&err);
    ard_status st =
        ard_test_write_tile(scratch, env->gen.rows, env->gen.width, env->gen.rows_per_group,
                            NEW_BASE + t * 100000, 500 + t, &err);
    ard_mapped_file m = {0};
    if (st == ARD_OK) {
        st = ard_file_map(scratch, &m, &err);
    }
    if (st == ARD_OK) {
        st = ard_file_write_atomic(tile, m.data, (size_t)m.size, &err);
        ard_file_unmap(&m);
    }
    remove(scratch);
    if (st != ARD_OK) {
        snprintf(msg, cap, "%s", err.msg);
    }
    return st;
}

static void *replace_and_sync(void *arg) {
    replacer *r = arg;
    r->replaced = ARD_OK;
    for (int32_t t = 0; t < r->env->gen.tiles && r->replaced == ARD_OK; t++) {
        r->replaced = replace_tile(r->env, t, r->msg, sizeof r->msg);
    }
    ard_error err;
    ard_error_init(&err);
    r->synced = rel_sync(r->env, &r->rep, &err);
    if (r->synced != ARD_OK) {
        snprintf(r->msg, sizeof r->msg, "sync: %.400s", err.msg);
    }
    return NULL;
}

/* Streams one epoch of env's dataset; replace != NULL starts it after the first batch. Returns the
 * TARGETIDs in delivery order (caller frees), *n their count. */
static int64_t *stream(const rel_env *env, replacer *replace, int64_t *n) {
    ard_loader_options o;
    ard_loader_options_init(&o);
    o.batch_size = 32;
    o.prefetch_batches = 2;
    o.threads = 2;
    ard_loader *l = NULL;
    ard_error err;
    ard_error_init(&err);
    if (ard_loader_new_dataset(&o, env->dir, &l, &err) != ARD_OK) {
        fail_msg("loader: %s", err.msg);
    }
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    int64_t cap = (int64_t)env->gen.tiles * env->gen.rows, got = 0;
    int64_t *ids = malloc((size_t)cap * sizeof *ids);
    pthread_t th;
    int started = 0;
    ard_batch b;
    ard_status st;
    while ((st = ard_store_acquire(c, 30000, &b, &err)) == ARD_OK) {
        for (int32_t i = 0; i < b.count && got < cap; i++) {
            ids[got++] = b.targetid[i];
        }
        ard_store_release(c, &b, NULL);
        if (replace && !started) {
            assert_int_equal(pthread_create(&th, NULL, replace_and_sync, replace), 0);
            started = 1;
            pthread_join(th, NULL); /* everything replaced and synced before the next batch */
        }
    }
    if (st != ARD_EEOF) {
        fail_msg("stream: %s %s", ard_status_name(st), err.msg);
    }
    ard_error_init(&err);
    if (ard_loader_wait(l, &err) != ARD_OK) {
        fail_msg("stream: %s", err.msg);
    }
    ard_store_close(c);
    ard_loader_free(l);
    *n = got;
    return ids;
}

static void test_stream_while_replaced(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1);
    int64_t n_before = 0, n_during = 0, n_after = 0;
    int64_t *before = stream(env, NULL, &n_before);
    replacer r = {env, ARD_OK, ARD_OK, {0}, {0}};
    int64_t *during = stream(env, &r, &n_during);
    if (r.replaced != ARD_OK || r.synced != ARD_OK) {
        fail_msg("replacing tiles under the stream: %s", r.msg);
    }
    assert_int_equal(r.rep.files_changed, env->gen.tiles); /* the sync saw the new tiles */
    assert_int_equal(r.rep.files_failed, 0);
    assert_int_equal(n_during, n_before);
    assert_memory_equal(during, before, (size_t)n_before * sizeof *before); /* old inodes */
    ard_index *idx = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    if (ard_index_check(idx, NULL, &err) != ARD_OK) {
        fail_msg("index after the concurrent sync: %s", err.msg);
    }
    ard_index_close(idx);
    int64_t *after = stream(env, NULL, &n_after);
    assert_int_equal(n_after, n_before);
    for (int64_t i = 0; i < n_after; i++) {
        assert_true(after[i] >= NEW_BASE); /* the next stream reads the new tiles */
    }
    free(before);
    free(during);
    free(after);
    rel_env_free(env);
}

int rel_replace_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_while_replaced),
    };
    return cmocka_run_group_tests_name("replace", tests, NULL, NULL);
}
