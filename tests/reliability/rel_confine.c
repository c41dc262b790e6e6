/* Path confinement (issue 15, item 3): a crafted ard.db whose files.path leaves the dataset
 * ("../../../../etc/passwd", "/etc/passwd", a symbolic link pointing outside) makes fetch, the
 * query loader and sync refuse the file with ARD_EPERM naming the path, never open it. */
#include "rel.h"

#include "ard/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_confine_lexical(void **state) {
    (void)state;
    char *out = (char *)1;
    ard_error err;
    static const char *const bad[] = {
        "../../../../etc/passwd", "/etc/passwd", "tiles/../../x", "..", "tiles/..", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ard_error_init(&err);
        assert_int_equal(ard_path_confine("/tmp", bad[i], "index files row 7", &out, &err),
                         ARD_EPERM);
        assert_null(out);
        assert_non_null(strstr(err.msg, "index files row 7"));
        assert_non_null(strstr(err.msg, bad[i]));
    }
    /* names that merely contain dots are fine; a missing file passes (its open says ENOENT) */
    assert_int_equal(ard_path_confine("/tmp", "a..b/..c/x..parquet", NULL, &out, NULL), ARD_OK);
    assert_string_equal(out, "/tmp/a..b/..c/x..parquet");
    ard_free(out);
}

/* Points the index row of tile 0 at `path`. */
static void craft_path(const rel_env *env, const char *path) {
    char rel[200], sql[800];
    tgen_tile_path(0, rel, sizeof rel);
    snprintf(sql, sizeof sql, "UPDATE files SET path = '%s' WHERE path = '%s'", path, rel);
    rel_raw_sql(env, sql);
}

static ard_status fetch_all(const rel_env *env, ard_error *err) {
    ard_index *idx = NULL;
    ard_plan *plan = NULL;
    ard_fetch *f = NULL;
    ard_status st = ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, err);
    if (st == ARD_OK) {
        st = ard_index_query(idx, NULL, 0, &plan, err);
    }
    if (st == ARD_OK) {
        st = ard_fetch_open(env->dir, plan, NULL, 0, 1, &f, err);
    }
    const ard_fetch_batch *b = NULL;
    while (st == ARD_OK) {
        st = ard_fetch_next(f, &b, err);
    }
    ard_fetch_close(f);
    ard_plan_free(plan);
    ard_index_close(idx);
    return st == ARD_EEOF ? ARD_OK : st;
}

static ard_status loader_query(const rel_env *env, ard_error *err) {
    ard_loader_options o;
    ard_loader_options_init(&o);
    ard_loader *l = NULL;
    ard_status st = ard_loader_new_query(&o, env->dir, NULL, NULL, &l, err);
    ard_loader_free(l);
    return st;
}

static void test_crafted_index(void **state) {
    (void)state;
    static const char *const hostile[] = {"../../../../etc/passwd", "/etc/passwd"};
    for (int i = 0; i < 2; i++) {
        rel_env *env = rel_env_new(1);
        ard_error err;
        ard_error_init(&err);
        assert_int_equal(fetch_all(env, &err), ARD_OK); /* the honest index reads */
        craft_path(env, hostile[i]);
        ard_error_init(&err);
        assert_int_equal(fetch_all(env, &err), ARD_EPERM);
        assert_non_null(strstr(err.msg, hostile[i]));
        assert_non_null(strstr(err.msg, "index files row"));
        ard_error_init(&err);
        assert_int_equal(loader_query(env, &err), ARD_EPERM);
        assert_non_null(strstr(err.msg, hostile[i]));
        rel_env_free(env);
    }
}

/* A tile replaced by a symbolic link to a copy outside the dataset: fetch refuses it, and the
 * next sync records it as a failed file instead of indexing it. */
static void test_symlink_outside(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1);
    char tile[400], outside[400], cmd[4096];
    rel_tile_path(env, 0, tile, sizeof tile);
    snprintf(outside, sizeof outside, "%s.outside", env->dir);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && mv '%s' '%s/t.parquet' && ln -s '%s/t.parquet' '%s'", outside, tile,
             outside, outside, tile);
    assert_int_equal(rel_system(cmd), 0);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(fetch_all(env, &err), ARD_EPERM);
    assert_non_null(strstr(err.msg, "outside the dataset"));

    ard_sync_report rep;
    ard_error_init(&err);
    assert_int_equal(rel_sync(env, &rep, &err), ARD_OK);
    assert_int_equal(rep.files_failed, 1);
    assert_non_null(strstr(rep.first_error, "outside the dataset"));
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    ard_plan *plan = NULL;
    assert_int_equal(ard_index_query(idx, NULL, 0, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_files(plan), 1); /* only the honest tile stays indexed */
    ard_plan_free(plan);
    ard_index_close(idx);

    /* a link that stays inside the dataset is fine */
    snprintf(cmd, sizeof cmd,
             "rm '%s' && mkdir '%s/store' && mv '%s/t.parquet' '%s/store/' && "
             "ln -s ../../../../store/t.parquet '%s' && rm -rf '%s'",
             tile, env->dir, outside, env->dir, tile, outside);
    assert_int_equal(rel_system(cmd), 0);
    ard_error_init(&err);
    assert_int_equal(rel_sync(env, &rep, &err), ARD_OK);
    assert_int_equal(rep.files_failed, 0);
    ard_error_init(&err);
    assert_int_equal(fetch_all(env, &err), ARD_OK);
    rel_env_free(env);
}

/* A tile directory replaced by a symbolic link to a directory outside the dataset (sync resolves
 * each directory once, not each file: sync.c confine_fast): its tile is recorded as failed, the
 * other stays indexed; a directory link that stays inside the dataset is fine. */
static void test_dirlink_outside(void **state) {
    (void)state;
    rel_env *env = rel_env_new(0);
    char tile[400], dir[400], outside[400], cmd[4096];
    rel_tile_path(env, 0, tile, sizeof tile);
    snprintf(dir, sizeof dir, "%s", tile);
    *strrchr(dir, '/') = '\0';
    snprintf(outside, sizeof outside, "%s.outside", env->dir);
    snprintf(cmd, sizeof cmd, "mv '%s' '%s' && ln -s '%s' '%s'", dir, outside, outside, dir);
    assert_int_equal(rel_system(cmd), 0);
    ard_sync_report rep;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(rel_sync(env, &rep, &err), ARD_OK);
    assert_int_equal(rep.files_seen, 3); /* 2 tiles + the catalog */
    assert_int_equal(rep.files_failed, 1);
    assert_non_null(strstr(rep.first_error, "outside the dataset"));
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    ard_plan *plan = NULL;
    assert_int_equal(ard_index_query(idx, NULL, 0, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_files(plan), 1);
    ard_plan_free(plan);
    ard_index_close(idx);

    snprintf(cmd, sizeof cmd, "rm '%s' && mv '%s' '%s/store' && ln -s '%s/store' '%s'", dir,
             outside, env->dir, env->dir, dir);
    assert_int_equal(rel_system(cmd), 0);
    ard_error_init(&err);
    assert_int_equal(rel_sync(env, &rep, &err), ARD_OK);
    assert_int_equal(rep.files_failed, 0);
    assert_int_equal(rep.files_added, 1); /* the tile failed before: read now */
    ard_error_init(&err);
    assert_int_equal(fetch_all(env, &err), ARD_OK);
    rel_env_free(env);
}

int rel_confine_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confine_lexical),
        cmocka_unit_test(test_crafted_index),
        cmocka_unit_test(test_symlink_outside),
        cmocka_unit_test(test_dirlink_outside),
    };
    return cmocka_run_group_tests_name("path confinement", tests, NULL, NULL);
}
