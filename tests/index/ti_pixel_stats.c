/* Index tests of tile_pixel_stats: sync loads a tile's ard.pixel_stats (checked here against counts
 * recomputed from tgen's pixel function), leaves tiles without the key out, replaces and removes
 * the rows with their tile, fails a tile whose value is malformed or contradicts its footer (a sync
 * error naming the file and key), and a version-2 index migrated to 3 gets the rows on its next
 * sync. */
#include "ti.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Rewrites tile t with ard.pixel_stats = value (NULL: the correct one for o). */
static void rewrite_tile(ti_env *env, int32_t t, const tgen_opts *o, const char *value) {
    char stats[1024], path[512], msg[600];
    if (!value) {
        assert_int_equal(tgen_pixel_stats(t, o, stats, sizeof stats), 0);
        value = stats;
    }
    ti_tile_path(env, t, path, sizeof path);
    if (tgen_write_tile_kv(path, t, o, value, msg, sizeof msg) != 0) {
        fail_msg("rewriting tile %d: %s", t, msg);
    }
}

static int64_t class_count(ard_index *idx, int32_t t, const char *cls, const char *col) {
    char rel[256], sql[768];
    tgen_tile_path(t, rel, sizeof rel);
    snprintf(sql, sizeof sql,
             "SELECT COALESCE(sum(p.%s), -1) FROM tile_pixel_stats p JOIN files f"
             " ON f.id = p.file_id WHERE f.path = '%s' AND p.target_class = '%s'",
             col, rel, cls);
    return ti_int(idx, sql);
}

static int64_t tile_rows(ard_index *idx, int32_t t) {
    char rel[256], sql[768];
    tgen_tile_path(t, rel, sizeof rel);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM tile_pixel_stats p JOIN files f ON f.id = p.file_id"
             " WHERE f.path = '%s'",
             rel);
    return ti_int(idx, sql);
}

/* The index rows of tile t against counts recomputed from tgen_flux (row r has class r % 4). */
static void expect_tile(ard_index *idx, int32_t t, const tgen_opts *o) {
    static const char *const names[4] = {"BGS", "LRG", "ELG", "QSO"};
    int64_t rows[4] = {0}, nulls[4] = {0};
    for (int32_t r = 0; r < o->rows; r++) {
        rows[r % 4]++;
        for (int32_t k = 0; k < o->width; k++) {
            float v = tgen_flux(tgen_targetid(t, r), k);
            nulls[r % 4] += v != v;
        }
    }
    int64_t any_null = 0;
    for (int c = 0; c < 4; c++) {
        assert_int_equal(class_count(idx, t, names[c], "num_rows"), rows[c]);
        assert_int_equal(class_count(idx, t, names[c], "pixels"), rows[c] * o->width);
        assert_int_equal(class_count(idx, t, names[c], "flux_null"), nulls[c]);
        assert_int_equal(class_count(idx, t, names[c], "ivar_zero"), nulls[c]);
        any_null += nulls[c];
    }
    assert_int_equal(tile_rows(idx, t), 4);
    assert_true(any_null > 0 || t != 0); /* tile 0 holds null pixels: the test can fail */
}

void test_pixel_stats_sync(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    for (int32_t t = 0; t < 3; t++) {
        rewrite_tile(env, t, &env->gen, NULL); /* tile 3 keeps no key */
    }
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_failed, 0);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    for (int32_t t = 0; t < 3; t++) {
        expect_tile(idx, t, &env->gen);
    }
    assert_int_equal(tile_rows(idx, 3), 0);
    assert_int_equal(ard_index_check(idx, NULL, NULL), ARD_OK);
    ard_index_close(idx);
    /* a changed tile replaces its rows */
    tgen_opts fewer = env->gen;
    fewer.rows = 30;
    rewrite_tile(env, 1, &fewer, NULL);
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_changed, 1);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    expect_tile(idx, 1, &fewer);
    assert_int_equal(ti_int(idx, "SELECT sum(num_rows) FROM tile_pixel_stats"), 50 + 30 + 50);
    ard_index_close(idx);
    /* a removed tile takes its rows along */
    char path[512];
    ti_tile_path(env, 2, path, sizeof path);
    assert_int_equal(unlink(path), 0);
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_removed, 1);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(DISTINCT file_id) FROM tile_pixel_stats"), 2);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM tile_pixel_stats p WHERE NOT EXISTS"
                                 " (SELECT 1 FROM files f WHERE f.id = p.file_id)"),
                     0);
    ard_index_close(idx);
}

void test_pixel_stats_malformed(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    char good[1024];
    assert_int_equal(tgen_pixel_stats(0, &env->gen, good, sizeof good), 0);
    /* good = {"BGS":{"rows":13,"pixels":208,"flux_null":N,...},...}: variants of it */
    char more_rows[1100], more_nulls[1100];
    const char *at = strstr(good, "\"rows\":13");
    assert_non_null(at);
    snprintf(more_rows, sizeof more_rows, "%.*s\"rows\":14,\"pixels\":224%s", (int)(at - good),
             good, strstr(at, ",\"flux_null\""));
    at = strstr(good, "\"flux_null\":");
    long long n0 = 0;
    assert_int_equal(sscanf(at, "\"flux_null\":%lld", &n0), 1);
    snprintf(more_nulls, sizeof more_nulls, "%.*s\"flux_null\":%lld%s", (int)(at - good), good,
             n0 + 1, strchr(at, ','));
    const char *const bad[] = {
        "not json",
        "{}",                      /* 0 rows for a tile of 50 */
        "{\"BGS\":{\"rows\":50}}", /* missing counts */
        "{\"STAR\":{\"rows\":50,\"pixels\":800,\"flux_null\":0,\"ivar_zero\":0}}",
        "{\"BGS\":{\"rows\":25,\"pixels\":400,\"flux_null\":0,\"ivar_zero\":0},"
        "\"BGS\":{\"rows\":25,\"pixels\":400,\"flux_null\":0,\"ivar_zero\":0}}",
        "{\"BGS\":{\"rows\":-50,\"pixels\":800,\"flux_null\":0,\"ivar_zero\":0}}",
        "{\"BGS\":{\"rows\":50,\"pixels\":800,\"flux_null\":900,\"ivar_zero\":0}}",
        "{\"BGS\":{\"rows\":50,\"pixels\":800,\"flux_null\":0,\"ivar_zero\":0}} x",
        more_rows,  /* rows and pixels that contradict the footer */
        more_nulls, /* a null count that contradicts the FLUX statistics */
    };
    char rel[256];
    tgen_tile_path(0, rel, sizeof rel);
    ard_sync_report rep;
    rewrite_tile(env, 0, &env->gen, good);
    ti_sync(env, NULL, &rep); /* tile 0 indexed with rows first: a bad rewrite must drop them */
    ard_index *first = ti_open(env, ARD_INDEX_READ_ONLY);
    expect_tile(first, 0, &env->gen);
    ard_index_close(first);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rewrite_tile(env, 0, &env->gen, bad[i]);
        ti_sync(env, NULL, &rep);
        if (rep.files_failed != 1 || !strstr(rep.first_error, "ard.pixel_stats") ||
            !strstr(rep.first_error, rel)) {
            fail_msg("value %s: %lld failed, first error \"%s\"", bad[i],
                     (long long)rep.files_failed, rep.first_error);
        }
        ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
        char sql[768];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM sync_errors WHERE path = '%s' AND run_id = %lld"
                 " AND message LIKE '%%ard.pixel_stats%%'",
                 rel, (long long)rep.run_id);
        assert_int_equal(ti_int(idx, sql), 1);
        assert_int_equal(tile_rows(idx, 0), 0);
        assert_int_equal(ti_int(idx, "SELECT count(*) FROM tile_pixel_stats"), 0);
        ard_index_close(idx);
    }
    rewrite_tile(env, 0, &env->gen, good);
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_failed, 0);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    expect_tile(idx, 0, &env->gen);
    ard_index_close(idx);
}

void test_pixel_stats_migrate(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    for (int32_t t = 0; t < env->gen.tiles; t++) {
        rewrite_tile(env, t, &env->gen, NULL);
    }
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    /* back to version 2: no tile_pixel_stats */
    ti_raw_sql(env, "DROP TABLE tile_pixel_stats");
    ti_raw_sql(env, "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    ard_index *idx = ti_open(env, 0); /* a writable open migrates */
    assert_int_equal(ard_index_schema_version(idx), ARD_INDEX_SCHEMA_VERSION);
    ard_index_close(idx);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM tile_pixel_stats"), 0);
    ard_index_close(idx);
    ti_sync(env, NULL, &rep); /* the migration forgot the footer hashes: every file is re-read */
    assert_int_equal(rep.files_changed, rep.files_seen);
    assert_int_equal(rep.files_failed, 0);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    for (int32_t t = 0; t < env->gen.tiles; t++) {
        expect_tile(idx, t, &env->gen);
    }
    assert_int_equal(ard_index_check(idx, NULL, NULL), ARD_OK);
    ard_index_close(idx);
}
