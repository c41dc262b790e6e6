/* The index schema passes SQLite's own PRAGMA integrity_check (issue 15, item 5): schema 4 puts
 * spectra's key columns first (SQLite 3.40 reports "NULL value in spectra.targetid" for every row
 * of the old WITHOUT ROWID layout), an old index is migrated by the next writable open, and
 * ard_index_check runs the pragma beside ard's own consistency checks. */
#include "rel.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t count_spectra(const rel_env *env) {
    char *t = rel_sql_text(env, "SELECT count(*) FROM spectra");
    int64_t n = strtoll(t, NULL, 10);
    free(t);
    return n;
}

static void expect_integrity_ok(const rel_env *env) {
    char *t = rel_sql_text(env, "PRAGMA integrity_check");
    assert_string_equal(t, "ok\n");
    free(t);
}

static void expect_check_ok(const rel_env *env) {
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    int64_t bad = -1;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_index_check(idx, &bad, &err);
    if (st != ARD_OK) {
        fail_msg("ard_index_check: %s (%s)", ard_status_name(st), err.msg);
    }
    assert_int_equal(bad, 0);
    ard_index_close(idx);
}

static void test_fresh_index(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1);
    expect_integrity_ok(env);
    expect_check_ok(env);
    char *cols = rel_sql_text(env, "SELECT name FROM pragma_table_info('spectra')");
    /* schema 6: every column is a key column, in key order (targetid first) */
    assert_string_equal(cols, "targetid\nfile_id\nrow_group\nrow_index\n");
    free(cols);
    cols = rel_sql_text(env, "SELECT name FROM pragma_table_info('spectra') WHERE pk > 0"
                             " ORDER BY pk");
    assert_string_equal(cols, "targetid\nfile_id\nrow_group\nrow_index\n");
    free(cols);
    rel_env_free(env);
}

/* Turns env's index back into a schema 3 one (spectra's old column order). */
static void make_v3(const rel_env *env) {
    rel_raw_sql(env, "BEGIN;"
                     "CREATE TABLE spectra_old (targetid BIGINT NOT NULL, file_id BIGINT NOT NULL,"
                     " row_group INTEGER NOT NULL, row_index BIGINT NOT NULL,"
                     " PRIMARY KEY (file_id, row_group, row_index)) WITHOUT ROWID;"
                     "INSERT INTO spectra_old SELECT targetid, file_id, row_group, row_index"
                     " FROM spectra;"
                     "DROP TABLE spectra;"
                     "ALTER TABLE spectra_old RENAME TO spectra;"
                     "CREATE INDEX spectra_targetid ON spectra (targetid);"
                     "UPDATE meta SET value = '3' WHERE key = 'schema_version';"
                     "COMMIT;");
}

static void test_migrated_index(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1);
    int64_t before = count_spectra(env);
    assert_int_equal(before, 800);
    make_v3(env);
    char *t = rel_sql_text(env, "PRAGMA integrity_check");
    fprintf(stderr, "schema 3 integrity_check (this SQLite %s): %.60s\n", sqlite3_libversion(), t);
    free(t);
    /* read-only opens of the old schema ask for a sync */
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_ENOTSUP);
    assert_int_equal(ard_index_open(env->dir, NULL, 0, &idx, NULL), ARD_OK);
    assert_int_equal(ard_index_schema_version(idx), ARD_INDEX_SCHEMA_VERSION);
    ard_index_close(idx);
    expect_integrity_ok(env);
    expect_check_ok(env);
    assert_int_equal(count_spectra(env), before);
    /* schema 6: spectra is keyed by targetid, the separate TARGETID index is gone */
    char *idx_sql = rel_sql_text(env, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                      " AND tbl_name = 'spectra' AND name = 'spectra_targetid'");
    assert_string_equal(idx_sql, "0\n");
    free(idx_sql);
    idx_sql = rel_sql_text(env, "SELECT name FROM pragma_table_info('spectra') WHERE pk > 0"
                                " ORDER BY pk");
    assert_string_equal(idx_sql, "targetid\nfile_id\nrow_group\nrow_index\n");
    free(idx_sql);
    /* the migrated index answers queries */
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    ard_plan *plan = NULL;
    assert_int_equal(ard_index_query(idx, NULL, 0, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), before);
    ard_plan_free(plan);
    ard_index_close(idx);
    rel_env_free(env);
}

/* ard_index_check names an index row whose path leaves the dataset. */
static void test_check_paths(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1);
    rel_raw_sql(env, "UPDATE files SET path = '../../../../etc/passwd' WHERE id ="
                     " (SELECT min(id) FROM files WHERE kind = 'tile')");
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    int64_t bad = 0;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_index_check(idx, &bad, &err), ARD_ECORRUPT);
    assert_true(bad >= 1);
    assert_non_null(strstr(err.msg, "../../../../etc/passwd leaves the dataset"));
    assert_non_null(strstr(err.msg, "files row "));
    ard_index_close(idx);
    rel_env_free(env);
}

int rel_schema_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_index),
        cmocka_unit_test(test_migrated_index),
        cmocka_unit_test(test_check_paths),
    };
    return cmocka_run_group_tests_name("index schema and check", tests, NULL, NULL);
}
