/* The catalog load into an empty galaxies (one window, the primary key built once at the end on
 * PostgreSQL): a duplicate TARGETID in a later file fails only that file, the key is there after
 * every load, and a fresh load holds exactly what a file-by-file load holds. */
#include "ti.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TI_ENV(state)                                                                              \
    ti_env *env = *(state);                                                                        \
    if (!env) {                                                                                    \
        skip();                                                                                    \
    }

/* Copies DATASET/catalog/zcatalog-0000.parquet to zcatalog-NNNN.parquet (every TARGETID twice). */
static void copy_catalog(const ti_env *env, int32_t to) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "cp '%s/catalog/zcatalog-0000.parquet' '%s/catalog/zcatalog-%04d.parquet'", env->dir,
             env->dir, to);
    assert_int_equal(system(cmd), 0);
}

static void remove_catalog(const ti_env *env, int32_t which) {
    char path[600];
    snprintf(path, sizeof path, "%s/catalog/zcatalog-%04d.parquet", env->dir, which);
    assert_int_equal(remove(path), 0);
}

/* 1 when galaxies has its primary key (PostgreSQL drops and rebuilds it in a fresh load). */
static int64_t has_key(ti_env *env, ard_index *idx) {
    if (!env->pg) {
        return 1; /* SQLite: targetid is the rowid, never dropped */
    }
    return ti_int(idx, "SELECT count(*) FROM pg_constraint WHERE conname = 'galaxies_pkey'"
                       " AND contype = 'p'");
}

void test_catalog_duplicates(void **state) {
    TI_ENV(state);
    int64_t galaxies = (int64_t)env->gen.tiles * env->gen.rows + env->gen.extra_galaxies;
    copy_catalog(env, 7);
    ard_sync_report rep;
    ard_sync_options o = {0};
    o.quiet = 1;
    ti_sync(env, &o, &rep);
    /* the fresh window fails at its key build; file by file, only the copy fails */
    assert_int_equal(rep.files_failed, 1);
    assert_non_null(strstr(rep.first_error, "zcatalog-0007"));
    assert_int_equal(rep.galaxy_rows, galaxies);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies"), galaxies);
    assert_int_equal(ti_int(idx, "SELECT count(DISTINCT targetid) FROM galaxies"), galaxies);
    assert_int_equal(has_key(env, idx), 1);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM files WHERE kind = 'catalog'"),
                     env->gen.catalog_files);
    assert_int_equal(ard_index_check(idx, NULL, NULL), ARD_OK);
    ard_index_close(idx);
    /* the key is enforced after the load: the copy fails again, row by row this time */
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_failed, 1);
    remove_catalog(env, 7);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_failed, 0);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies"), galaxies);
    ard_index_close(idx);
}

/* Column sums of galaxies, comparable across loads. */
static void digest(ti_env *env, int64_t out[4]) {
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    out[0] = ti_int(idx, "SELECT count(*) FROM galaxies");
    out[1] = ti_int(idx, "SELECT SUM(targetid % 1000003) FROM galaxies");
    out[2] = ti_int(idx, "SELECT SUM(CAST(z * 1000000 AS BIGINT)) FROM galaxies");
    out[3] = ti_int(idx, "SELECT SUM(catalog_file_id) FROM galaxies");
    assert_int_equal(has_key(env, idx), 1);
    ard_index_close(idx);
}

void test_catalog_fresh_same(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ard_sync_options o = {0};
    o.quiet = 1;
    ti_sync(env, &o, &rep); /* fresh: every catalog file in one window */
    assert_int_equal(rep.files_failed, 0);
    int64_t fresh[4], incremental[4];
    digest(env, fresh);
    assert_int_equal(fresh[0], (int64_t)env->gen.tiles * env->gen.rows + env->gen.extra_galaxies);
    /* the second file alone into a non-empty galaxies (row-by-row key checks) */
    char path[600];
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0001.parquet", env->dir);
    char aside[700];
    snprintf(aside, sizeof aside, "%s.aside", env->dir);
    assert_int_equal(rename(path, aside), 0);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_removed, 1);
    assert_int_equal(rename(aside, path), 0);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_added, 1);
    assert_int_equal(rep.files_failed, 0);
    digest(env, incremental);
    assert_int_equal(incremental[0], fresh[0]);
    assert_int_equal(incremental[1], fresh[1]);
    assert_int_equal(incremental[2], fresh[2]);
    (void)incremental[3]; /* the file's id changed: catalog_file_id differs by design */
}
