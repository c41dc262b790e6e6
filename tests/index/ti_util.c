/* Fixtures of the index tests: a fresh generated dataset per test, the backend under test, and raw
 * SQL access (sqlite3 / libpq) for tests that tamper with an index behind ard's back. */
#include "ti.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#define TI_HAVE_PQ 1
#else
#define TI_HAVE_PQ 0
#endif

/* Every test starts from an empty database: the whole schema goes (no list of tables to forget). */
static const char *const pg_tables = "DROP SCHEMA public CASCADE; CREATE SCHEMA public";

static int setup(void **state, int pg) {
    ti_env *env = calloc(1, sizeof *env);
    assert_non_null(env);
    const char *base = getenv("TMPDIR");
    snprintf(env->dir, sizeof env->dir, "%s/ard-index-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(env->dir));
    env->gen = (tgen_opts){4, 50, 16, 20, 30, 2};
    char msg[600];
    if (tgen_dataset(env->dir, &env->gen, msg, sizeof msg) != 0) {
        fail_msg("generating the test dataset: %s", msg);
    }
    env->pg = pg;
    if (pg) {
        env->dsn = getenv("ARD_TEST_PG_DSN");
        ti_raw_sql(env, pg_tables);
    }
    *state = env;
    return 0;
}

int ti_setup_sqlite(void **state) {
    return setup(state, 0);
}

int ti_setup_pg(void **state) {
    const char *dsn = getenv("ARD_TEST_PG_DSN");
    if (!dsn || !*dsn || !TI_HAVE_PQ) {
        fprintf(stderr, "SKIPPED: PostgreSQL index tests need a server: ARD_TEST_PG_DSN is not set"
                        " (tests/index/index_pg.sh starts a throwaway one and runs them)\n");
        *state = NULL;
        return 0;
    }
    return setup(state, 1);
}

int ti_teardown(void **state) {
    ti_env *env = *state;
    if (!env) {
        return 0;
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", env->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "warning: could not remove %s\n", env->dir);
    }
    free(env);
    return 0;
}

ard_index *ti_open(ti_env *env, int32_t flags) {
    ard_error err;
    ard_error_init(&err);
    ard_index *idx = NULL;
    ard_status st = ard_index_open(env->dir, env->dsn, flags, &idx, &err);
    if (st != ARD_OK) {
        fail_msg("ard_index_open: %s (%s)", ard_status_name(st), err.msg);
    }
    return idx;
}

void ti_sync(ti_env *env, const ard_sync_options *opts, ard_sync_report *rep) {
    ard_index *idx = ti_open(env, 0);
    ard_error err;
    ard_error_init(&err);
    ard_sync_options o = {0};
    o.quiet = 1;
    o.threads = 2;
    ard_status st = ard_index_sync(idx, env->dir, opts ? opts : &o, rep, &err);
    if (st != ARD_OK) {
        fail_msg("ard_index_sync: %s (%s)", ard_status_name(st), err.msg);
    }
    ard_index_close(idx);
}

static int one_int(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    *(int64_t *)ctx = n > 0 && v[0] ? strtoll(v[0], NULL, 10) : -1;
    return 1;
}

int64_t ti_int(ard_index *idx, const char *sql) {
    int64_t v = -12345;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_index_select(idx, sql, one_int, &v, &err);
    if (st != ARD_OK) {
        fail_msg("select %s: %s", sql, err.msg);
    }
    return v;
}

void ti_raw_sql(ti_env *env, const char *sql) {
    if (!env->pg) {
        char path[300];
        snprintf(path, sizeof path, "%s/ard.db", env->dir);
        sqlite3 *db = NULL;
        char *msg = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
            fail_msg("raw sqlite %s: %s", sql, msg);
        }
        sqlite3_close(db);
        return;
    }
#if TI_HAVE_PQ
    PGconn *c = PQconnectdb(env->dsn);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail_msg("raw pg %s: %s", sql, PQerrorMessage(c));
    }
    PQclear(r);
    PQfinish(c);
#endif
}

void ti_tile_path(const ti_env *env, int32_t tile, char *out, size_t cap) {
    char rel[256];
    tgen_tile_path(tile, rel, sizeof rel);
    snprintf(out, cap, "%s/%s", env->dir, rel);
}

void ti_drop_index(ti_env *env) {
    if (env->pg) {
        ti_raw_sql(env, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
        return;
    }
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        char path[320];
        snprintf(path, sizeof path, "%s/ard.db%s", env->dir, suffix[i]);
        unlink(path);
    }
}
