/* Schema 7's spectra key (schema.c): on PostgreSQL a b-tree on targetid instead of the 4-column
 * primary key; on SQLite the WITHOUT ROWID table's key, unchanged. An index built with schema 6's
 * DDL (the key under either name it can have) is refused by a read-only open, migrated by the next
 * writable one, and then answers every query with the same rows; changes and removals after the
 * migration still find a file's rows. */
#include "ti.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What every query answers: the rows, and the plans of a broad predicate, every spectrum, a few
 * TARGETIDs (point look-ups of spectra), and a LIMIT plan (ordered by the key). */
typedef struct answers {
    ti_rows_digest rows;
    uint64_t plan_z, plan_all, plan_ids, plan_limit;
} answers;

static answers answer(ti_env *env) {
    answers a;
    char where[200];
    snprintf(where, sizeof where, "TARGETID IN (%lld, %lld, %lld)", (long long)tgen_targetid(0, 3),
             (long long)tgen_targetid(0, 40), (long long)tgen_targetid(2, 7));
    a.rows = ti_spectra_digest(env); /* + ard_index_check and the stored linkage */
    a.plan_z = ti_plan_hash(env, "Z > 1.5", 0);
    a.plan_all = ti_plan_hash(env, NULL, 0);
    a.plan_ids = ti_plan_hash(env, where, 0);
    a.plan_limit = ti_plan_hash(env, "Z > 0.5", 17);
    return a;
}

/* same_ids: both indexes gave the files the same ids (the LIMIT plan breaks TARGETID ties by file
 * id, which an incremental and a fresh sync assign differently) */
static void assert_same(const answers *a, const answers *b, int same_ids) {
    assert_int_equal(a->rows.rows, b->rows.rows);
    assert_true(a->rows.hash == b->rows.hash);
    assert_true(a->plan_z == b->plan_z);
    assert_true(a->plan_all == b->plan_all);
    assert_true(a->plan_ids == b->plan_ids);
    assert_true(!same_ids || a->plan_limit == b->plan_limit);
}

/* 1 when spectra is keyed (and, on PostgreSQL, sampled by ANALYZE) as schema 7 has it. */
static int keyed_v7(ti_env *env) {
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    int ok;
    if (env->pg) {
        ok = ti_int(idx, "SELECT count(*) FROM pg_constraint WHERE"
                         " conrelid = 'spectra'::regclass AND contype = 'p'") == 0 &&
             ti_int(idx, "SELECT count(*) FROM pg_indexes WHERE tablename = 'spectra' AND"
                         " indexname = 'spectra_targetid' AND indexdef LIKE '%(targetid)'") == 1 &&
             ti_int(idx, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'spectra'::regclass"
                         " AND attnum > 0 AND attstattarget = 10") == 4;
    } else {
        ok =
            ti_int(idx,
                   "SELECT count(*) FROM sqlite_master WHERE name = 'spectra' AND sql LIKE"
                   " '%PRIMARY KEY (targetid, file_id, row_group, row_index)) WITHOUT ROWID'") == 1;
    }
    ard_index_close(idx);
    return ok;
}

/* Turns the index back into schema 6: PostgreSQL's 4-column key under `key_name`, no
 * spectra_targetid, the default statistics target; SQLite only the stamp (its table did not
 * change). */
static void make_v6(ti_env *env, const char *key_name) {
    char sql[400];
    if (env->pg) {
        snprintf(sql, sizeof sql,
                 "DROP INDEX spectra_targetid; ALTER TABLE spectra ADD CONSTRAINT %s"
                 " PRIMARY KEY (targetid, file_id, row_group, row_index),"
                 " ALTER targetid SET STATISTICS -1, ALTER file_id SET STATISTICS -1,"
                 " ALTER row_group SET STATISTICS -1, ALTER row_index SET STATISTICS -1",
                 key_name);
        ti_raw_sql(env, sql);
    }
    ti_raw_sql(env, "UPDATE meta SET value = '6' WHERE key = 'schema_version'");
}

static void migrate(ti_env *env) {
    ard_index *idx = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_index_open(env->dir, env->dsn, ARD_INDEX_READ_ONLY, &idx, &err),
                     ARD_ENOTSUP);
    assert_null(idx);
    assert_non_null(strstr(err.msg, "migrate"));
    idx = ti_open(env, 0);
    assert_int_equal(ard_index_schema_version(idx), 7);
    ard_index_close(idx);
    assert_true(keyed_v7(env));
}

void test_spectra_key_migrate(void **state) {
    TI_ENV(state);
    char path[512], msg[600];
    ti_tile_path(env, 4, path, sizeof path); /* tile 0's TARGETIDs in two files */
    assert_int_equal(tgen_write_tile(path, 0, &env->gen, msg, sizeof msg), 0);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    assert_true(keyed_v7(env)); /* a fresh schema, and the fresh load's own build */
    answers before = answer(env);

    /* the key as a fresh schema-6 load left it (ADD PRIMARY KEY: spectra_pkey), then as migration
     * 6 left it (a rebuilt table: spectra_v6_pkey) */
    make_v6(env, "spectra_pkey");
    migrate(env);
    answers after = answer(env);
    assert_same(&before, &after, 1);
    make_v6(env, "spectra_v6_pkey");
    migrate(env);
    after = answer(env);
    assert_same(&before, &after, 1);

    /* an unchanged re-sync leaves it be; a changed and a removed file find their rows through
     * the new key (deleted, re-inserted), as in a fresh load of the same end state */
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_added + rep.files_changed + rep.files_removed, 0);
    tgen_opts smaller = env->gen;
    smaller.rows = 30;
    ti_tile_path(env, 0, path, sizeof path);
    assert_int_equal(tgen_write_tile(path, 0, &smaller, msg, sizeof msg), 0);
    ti_tile_path(env, 2, path, sizeof path);
    assert_int_equal(unlink(path), 0);
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_changed, 1);
    assert_int_equal(rep.files_removed, 1);
    answers changed = answer(env);
    assert_int_equal(changed.rows.rows, 30 + (int64_t)(env->gen.tiles - 1) * env->gen.rows);
    ti_drop_index(env);
    ti_sync(env, NULL, &rep);
    answers fresh = answer(env);
    assert_same(&changed, &fresh, 0);
}
