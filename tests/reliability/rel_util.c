/* Fixtures of the reliability tests (see rel.h). */
#include "rel.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

rel_env *rel_env_new(int sync) {
    return rel_env_make(sync, 128);
}

rel_env *rel_env_make(int sync, int32_t width) {
    rel_env *env = calloc(1, sizeof *env);
    assert_non_null(env);
    const char *base = getenv("TMPDIR");
    snprintf(env->dir, sizeof env->dir, "%s/ard-rel-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(env->dir));
    env->gen = (tgen_opts){2, 400, width, 100, 10, 1};
    char msg[600];
    if (tgen_dataset(env->dir, &env->gen, msg, sizeof msg) != 0) {
        fail_msg("generating the test dataset: %s", msg);
    }
    if (sync) {
        ard_error err;
        ard_error_init(&err);
        ard_sync_report rep;
        ard_status st = rel_sync(env, &rep, &err);
        if (st != ARD_OK) {
            fail_msg("sync: %s (%s)", ard_status_name(st), err.msg);
        }
    }
    return env;
}

void rel_env_free(rel_env *env) {
    if (!env) {
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", env->dir, env->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "warning: could not remove %s\n", env->dir);
    }
    free(env);
}

void rel_tile_path(const rel_env *env, int32_t tile, char *out, size_t cap) {
    char rel[200];
    tgen_tile_path(tile, rel, sizeof rel);
    snprintf(out, cap, "%s/%s", env->dir, rel);
}

ard_status rel_sync(const rel_env *env, ard_sync_report *rep, ard_error *err) {
    ard_index *idx = NULL;
    ard_status st = ard_index_open(env->dir, NULL, 0, &idx, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_sync_options o = {0};
    o.quiet = 1;
    o.threads = 2;
    st = ard_index_sync(idx, env->dir, &o, rep, err);
    ard_index_close(idx);
    return st;
}

void rel_raw_sql(const rel_env *env, const char *sql) {
    char path[300];
    snprintf(path, sizeof path, "%s/ard.db", env->dir);
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("raw sqlite %s: %s", sql, msg);
    }
    sqlite3_close(db);
}

int rel_system(const char *cmd) {
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int collect_rows(void *ctx, int n, char **vals, char **names) {
    (void)names;
    char **acc = ctx;
    size_t have = *acc ? strlen(*acc) : 0, add = n > 0 && vals[0] ? strlen(vals[0]) : 4;
    char *grown = realloc(*acc, have + add + 2);
    assert_non_null(grown);
    snprintf(grown + have, add + 2, "%s\n", n > 0 && vals[0] ? vals[0] : "NULL");
    *acc = grown;
    return 0;
}

char *rel_sql_text(const rel_env *env, const char *sql) {
    char path[300];
    snprintf(path, sizeof path, "%s/ard.db", env->dir);
    sqlite3 *db = NULL;
    char *msg = NULL, *acc = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, collect_rows, &acc, &msg) != SQLITE_OK) {
        fail_msg("raw sqlite %s: %s", sql, msg);
    }
    sqlite3_close(db);
    return acc ? acc : strdup("");
}
