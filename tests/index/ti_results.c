/* Result runs (ard_result_run_*): files + index tables + <stage>_runs row, all or nothing; list,
 * drop, abort; and the kill test: a child process running a stage run is killed with SIGKILL at
 * every step of the run (ARD_RESULT_KILL_AT) and at 20 seeded moments, after each of which the
 * previous run must be intact and no half result may exist. */
#include "ti.h"

#include "ard/parquet.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A stage run "demo" of `rows` galaxies whose values depend on seed: galaxies (5 columns, into
 * index table demo_galaxies), groups (3 columns, into demo_groups), summary (file only). */
static ard_status demo_run(ard_index *idx, const char *dir, const char *run_id, int64_t rows,
                           int64_t seed, ard_error *err) {
    int64_t *tid = malloc((size_t)rows * 8), *gid = malloc((size_t)rows * 8);
    double *score = malloc((size_t)rows * 8);
    const char **label = malloc((size_t)rows * sizeof *label);
    uint8_t *valid = calloc((size_t)rows / 8 + 1, 1);
    assert_true(tid && gid && score && label && valid);
    static const char *const labels[] = {"a", "b\tc", "", "\xc3\xa9t\xc3\xa9"};
    for (int64_t r = 0; r < rows; r++) {
        tid[r] = 1000 + r;
        gid[r] = (r * 7 + seed) % 13;
        score[r] = (double)(r + seed) / 3.0;
        label[r] = r % 9 == 4 ? NULL : labels[(r + seed) % 4];
        if (r % 5 != 2) {
            valid[r / 8] |= (uint8_t)(1u << (r % 8));
        }
    }
    int64_t one = seed;
    double mean = (double)seed * 0.5;
    ard_index_column gal[] = {{"TARGETID", ARD_INDEX_INT64, tid, NULL},
                              {"GROUP_ID", ARD_INDEX_INT64, gid, NULL},
                              {"SCORE", ARD_INDEX_DOUBLE, score, valid},
                              {"LABEL", ARD_INDEX_TEXT, label, NULL},
                              {"SEED", ARD_INDEX_INT64, gid, NULL}};
    ard_index_column grp[] = {{"group_id", ARD_INDEX_INT64, gid, NULL},
                              {"size", ARD_INDEX_INT64, tid, NULL},
                              {"mean", ARD_INDEX_DOUBLE, score, NULL}};
    ard_index_column sum[] = {{"seed", ARD_INDEX_INT64, &one, NULL},
                              {"mean", ARD_INDEX_DOUBLE, &mean, NULL}};
    char params[64];
    snprintf(params, sizeof params, "{\"seed\":%lld}", (long long)seed);
    ard_result_run *run = NULL;
    ard_status st = ard_result_run_begin(idx, dir, "demo", run_id, params, &run, err);
    if (st == ARD_OK) {
        ard_result_run_hash_input(run, tid, (size_t)rows * 8);
        st = ard_result_run_add_table(run, "galaxies", gal, 5, rows, "demo_galaxies", err);
    }
    if (st == ARD_OK) {
        st = ard_result_run_add_table(run, "groups", grp, 3, rows / 2, "demo_groups", err);
    }
    if (st == ARD_OK) {
        st = ard_result_run_add_table(run, "summary", sum, 2, 1, NULL, err);
    }
    if (st == ARD_OK) {
        st = ard_result_run_set_summary(run, "{\"ok\":true}", err);
    }
    st = st == ARD_OK ? ard_result_run_commit(run, err) : st;
    if (st != ARD_OK && run) {
        ard_result_run_abort(run);
    }
    free(tid);
    free(gid);
    free(score);
    free(label);
    free(valid);
    return st;
}

static int file_exists(const char *dir, const char *name) {
    char path[600];
    struct stat sb;
    snprintf(path, sizeof path, "%s/results/%s", dir, name);
    return stat(path, &sb) == 0;
}

static int staging_dirs(const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/results", dir);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        n += strncmp(e->d_name, ".run-", 5) == 0;
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static int64_t parquet_rows(const char *dir, const char *name, const char *run_id) {
    char path[600];
    snprintf(path, sizeof path, "%s/results/%s", dir, name);
    ard_parquet_file *f = NULL;
    if (ard_parquet_open(path, NULL, &f, NULL) != ARD_OK) {
        return -1;
    }
    const char *kv = ard_parquet_kv_get(f, "ard.run_id");
    int64_t rows = kv && strcmp(kv, run_id) == 0 ? ard_parquet_metadata(f)->num_rows : -2;
    ard_parquet_close(f);
    return rows;
}

/* The run of id run_id is there completely: 3 files, its runs row, the index tables hold it. */
static void assert_run_complete(ti_env *env, ard_index *idx, const char *run_id, int64_t rows,
                                int latest) {
    char name[200], sql[300];
    snprintf(name, sizeof name, "demo-%s-galaxies.parquet", run_id);
    assert_int_equal(parquet_rows(env->dir, name, run_id), rows);
    snprintf(name, sizeof name, "demo-%s-groups.parquet", run_id);
    assert_int_equal(parquet_rows(env->dir, name, run_id), rows / 2);
    snprintf(name, sizeof name, "demo-%s-summary.parquet", run_id);
    assert_int_equal(parquet_rows(env->dir, name, run_id), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM demo_runs WHERE run_id = '%s'", run_id);
    assert_int_equal(ti_int(idx, sql), 1);
    if (latest) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM demo_galaxies WHERE run_id = '%s'", run_id);
        assert_int_equal(ti_int(idx, sql), rows);
        assert_int_equal(ti_int(idx, "SELECT count(*) FROM demo_galaxies"), rows);
        assert_int_equal(ti_int(idx, "SELECT count(*) FROM demo_groups"), rows / 2);
    }
}

/* No trace of run_id: no file, no staging, no runs row. */
static void assert_run_absent(ti_env *env, ard_index *idx, const char *run_id) {
    char name[200], sql[300];
    const char *tables[] = {"galaxies", "groups", "summary"};
    for (int t = 0; t < 3; t++) {
        snprintf(name, sizeof name, "demo-%s-%s.parquet", run_id, tables[t]);
        assert_false(file_exists(env->dir, name));
    }
    snprintf(sql, sizeof sql, "SELECT count(*) FROM demo_runs WHERE run_id = '%s'", run_id);
    assert_int_equal(ti_int(idx, sql), 0);
}

void test_result_run(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, 0);
    ard_error err;
    ard_error_init(&err);
    if (demo_run(idx, env->dir, "r1", 100, 1, &err) != ARD_OK) {
        fail_msg("run r1: %s", err.msg);
    }
    assert_run_complete(env, idx, "r1", 100, 1);
    assert_int_equal(staging_dirs(env->dir), 0);
    /* typed values survive into the index: NULLs from the validity bitmap and NULL text */
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM demo_galaxies WHERE score IS NULL"), 20);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM demo_galaxies WHERE label IS NULL"), 11);
    assert_int_equal(ard_result_run_begin(idx, env->dir, "demo", "r1", NULL, NULL, &err),
                     ARD_EINVAL);
    ard_result_run *run = NULL;
    assert_int_equal(ard_result_run_begin(idx, env->dir, "demo", "r1", NULL, &run, &err),
                     ARD_EEXIST);
    assert_null(run);
    if (demo_run(idx, env->dir, "r2", 64, 2, &err) != ARD_OK) {
        fail_msg("run r2: %s", err.msg);
    }
    assert_run_complete(env, idx, "r1", 100, 0);
    assert_run_complete(env, idx, "r2", 64, 1);

    /* list */
    ard_column_set *set = NULL;
    assert_int_equal(ard_result_stages(idx, &set, &err), ARD_OK);
    assert_int_equal(ard_column_set_num_rows(set), 1);
    assert_string_equal(((const char *const *)ard_column_set_column(set, 0)->values)[0], "demo");
    ard_column_set_free(set);
    assert_int_equal(ard_result_runs(idx, "demo", &set, &err), ARD_OK);
    assert_int_equal(ard_column_set_num_rows(set), 2);
    const char *const *ids = ard_column_set_column(set, 0)->values;
    const char *const *params =
        ard_column_set_column(set, ard_column_set_find(set, "params"))->values;
    const char *const *hash =
        ard_column_set_column(set, ard_column_set_find(set, "inputs_hash"))->values;
    const char *const *tables =
        ard_column_set_column(set, ard_column_set_find(set, "tables"))->values;
    assert_string_equal(ids[0], "r1");
    assert_string_equal(ids[1], "r2");
    assert_string_equal(params[0], "{\"seed\":1}");
    assert_int_equal(strlen(hash[0]), 16);
    assert_string_not_equal(hash[0], hash[1]); /* different inputs */
    assert_non_null(strstr(tables[1], "\"file\":\"results/demo-r2-galaxies.parquet\""));
    assert_non_null(strstr(tables[1], "\"index_table\":\"demo_galaxies\""));
    ard_column_set_free(set);
    assert_int_equal(ard_result_runs(idx, "nostage", &set, NULL), ARD_ENOENT);

    /* abort leaves nothing */
    int64_t x = 1;
    ard_index_column col = {"x", ARD_INDEX_INT64, &x, NULL};
    assert_int_equal(ard_result_run_begin(idx, env->dir, "demo", "r3", NULL, &run, &err), ARD_OK);
    assert_int_equal(ard_result_run_add_table(run, "galaxies", &col, 1, 1, "demo_galaxies", &err),
                     ARD_OK);
    ard_result_run_abort(run);
    assert_run_absent(env, idx, "r3");
    assert_int_equal(staging_dirs(env->dir), 0);
    assert_run_complete(env, idx, "r2", 64, 1);

    /* bad names, reserved tables, read-only */
    assert_int_equal(ard_result_run_begin(idx, env->dir, "Demo", NULL, NULL, &run, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_result_run_begin(idx, env->dir, "demo", "../x", NULL, &run, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_result_run_begin(idx, env->dir, "demo", "r4", NULL, &run, &err), ARD_OK);
    assert_int_equal(ard_result_run_add_table(run, "t", &col, 1, 1, "galaxies", NULL), ARD_EPERM);
    assert_int_equal(ard_result_run_add_table(run, "t", &col, 1, 1, "demo_runs", NULL), ARD_EPERM);
    assert_int_equal(ard_result_run_add_table(run, "Bad-Name", &col, 1, 1, NULL, NULL), ARD_EINVAL);
    assert_int_equal(ard_result_run_commit(run, NULL), ARD_EINVAL); /* no table */
    assert_run_absent(env, idx, "r4");
    ard_index *ro = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ard_result_run_begin(ro, env->dir, "demo", "r5", NULL, &run, NULL), ARD_EPERM);
    ard_index_close(ro);

    /* drop: rows, runs row and files */
    int64_t removed = 0;
    assert_int_equal(ard_result_run_drop(idx, env->dir, "demo", "r2", &removed, &err), ARD_OK);
    assert_int_equal(removed, 3);
    assert_run_absent(env, idx, "r2");
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM demo_galaxies"), 0);
    assert_run_complete(env, idx, "r1", 100, 0);
    assert_int_equal(ard_result_run_drop(idx, env->dir, "demo", "r2", NULL, NULL), ARD_ENOENT);
    ard_index_close(idx);

    /* a Parquet-only run (no index) */
    assert_int_equal(ard_result_run_begin(NULL, env->dir, "solo", "p1", NULL, &run, &err), ARD_OK);
    assert_int_equal(ard_result_run_add_table(run, "galaxies", &col, 1, 1, "ignored", &err),
                     ARD_OK);
    assert_int_equal(ard_result_run_commit(run, &err), ARD_OK);
    assert_int_equal(parquet_rows(env->dir, "solo-p1-galaxies.parquet", "p1"), 1);
    assert_int_equal(staging_dirs(env->dir), 0);
}

/* ---- kill -9 ---- */

/* Runs demo run `run_id` in a child; kill_at > 0: the run kills itself at that step; delay_us >
 * 0: the parent kills it after that many microseconds. Returns 1 if the child died of SIGKILL, 0
 * if it finished the run. */
static int child_run(ti_env *env, const char *run_id, int64_t rows, int64_t kill_at,
                     int64_t delay_us) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char k[32];
        snprintf(k, sizeof k, "%lld", (long long)kill_at);
        if (kill_at > 0) {
            setenv("ARD_RESULT_KILL_AT", k, 1);
        }
        ard_index *idx = NULL;
        ard_error err;
        ard_error_init(&err);
        ard_status st = ard_index_open(env->dir, env->dsn, 0, &idx, &err);
        st = st == ARD_OK ? demo_run(idx, env->dir, run_id, rows, 7, &err) : st;
        if (st != ARD_OK) {
            fprintf(stderr, "child run %s: %s\n", run_id, err.msg);
        }
        _exit(st == ARD_OK ? 0 : 3);
    }
    if (delay_us > 0) {
        struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
        assert_int_equal(WTERMSIG(status), SIGKILL);
        return 1;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return 0;
}

/* After a kill: recovery leaves either the base run alone (no trace of the new one) or the new
 * run complete; returns 1 for the latter (and drops it, so the next round starts from base). */
static int check_after_kill(ti_env *env, const char *run_id, int64_t rows) {
    ard_index *idx = ti_open(env, 0);
    ard_error err;
    ard_error_init(&err);
    if (ard_result_recover(idx, env->dir, &err) != ARD_OK) {
        fail_msg("recover: %s", err.msg);
    }
    assert_int_equal(staging_dirs(env->dir), 0);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM demo_runs WHERE run_id = '%s'", run_id);
    int committed = ti_int(idx, sql) == 1;
    assert_run_complete(env, idx, "base", 300, !committed);
    if (committed) {
        assert_run_complete(env, idx, run_id, rows, 1);
        assert_int_equal(ard_result_run_drop(idx, env->dir, "demo", run_id, NULL, &err), ARD_OK);
        /* the base run's rows are not restored into the index tables by a drop */
        assert_int_equal(ti_int(idx, "SELECT count(*) FROM demo_galaxies"), 0);
        ard_index_close(idx);
        idx = ti_open(env, 0);
        assert_int_equal(ard_result_run_drop(idx, env->dir, "demo", "base", NULL, &err), ARD_OK);
        if (demo_run(idx, env->dir, "base", 300, 1, &err) != ARD_OK) {
            fail_msg("base run: %s", err.msg);
        }
    } else {
        assert_run_absent(env, idx, run_id);
    }
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM demo_runs"), 1);
    ard_index_close(idx);
    return committed;
}

void test_result_run_kill(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, 0);
    ard_error err;
    ard_error_init(&err);
    if (demo_run(idx, env->dir, "base", 300, 1, &err) != ARD_OK) {
        fail_msg("base run: %s", err.msg);
    }
    ard_index_close(idx);

    /* every step of the run, in order, until the run gets through */
    int64_t kills = 0, committed_kills = 0;
    for (int64_t k = 1; k < 200; k++) {
        char id[32];
        snprintf(id, sizeof id, "k%lld", (long long)k);
        int killed = child_run(env, id, 500, k, 0);
        int committed = check_after_kill(env, id, 500);
        if (!killed) {
            assert_true(committed);
            break;
        }
        kills++;
        committed_kills += committed;
    }
    fprintf(stderr, "# result-run kill: %lld step kills (%lld after the commit point)\n",
            (long long)kills, (long long)committed_kills);
    assert_true(kills >= 20);
    assert_true(committed_kills >= 2 && committed_kills < kills);

    /* 20 seeded moments: the parent kills a larger run after a random delay within its length */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(child_run(env, "timed", 20000, 0, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check_after_kill(env, "timed", 20000);
    int64_t span_us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    uint64_t seed = 20261206;
    /* A run that finishes before its kill re-measures the span (the machine's load changes while
     * the suite runs): up to 60 seeded moments, until 20 kills have hit a run. */
    int64_t timed_kills = 0, attempts = 0;
    for (int i = 0; i < 60 && timed_kills < 20; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t delay = 1 + (int64_t)((seed >> 33) % (uint64_t)(span_us > 1 ? span_us : 2));
        char id[32];
        snprintf(id, sizeof id, "t%d", i);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int hit = child_run(env, id, 20000, 0, delay);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!hit) {
            span_us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
        }
        timed_kills += hit;
        attempts++;
        check_after_kill(env, id, 20000);
    }
    fprintf(stderr, "# result-run kill: %lld of %lld timed kills hit the run (last span %lld us)\n",
            (long long)timed_kills, (long long)attempts, (long long)span_us);
    assert_true(timed_kills >= 20);
}

/* The one run-id validator and default id every stage uses (ard_result_run_id_valid / _now). */
void test_result_run_ids(void **state) {
    (void)state;
    assert_int_equal(ard_result_run_id_valid("r1"), 1);
    assert_int_equal(ard_result_run_id_valid("A-z_09"), 1);
    char longest[66];
    memset(longest, 'x', 64);
    longest[64] = '\0';
    assert_int_equal(ard_result_run_id_valid(longest), 1);
    longest[64] = 'x';
    longest[65] = '\0';
    assert_int_equal(ard_result_run_id_valid(longest), 0); /* 65 bytes */
    assert_int_equal(ard_result_run_id_valid(NULL), 0);
    assert_int_equal(ard_result_run_id_valid(""), 0);
    assert_int_equal(ard_result_run_id_valid("a/b"), 0);
    assert_int_equal(ard_result_run_id_valid("a.b"), 0);
    assert_int_equal(ard_result_run_id_valid("a'b"), 0);
    assert_int_equal(ard_result_run_id_valid("a b"), 0);
    char id[32];
    ard_result_run_id_now(id, sizeof id);
    assert_int_equal(strlen(id), 16); /* YYYYMMDDTHHMMSSZ */
    assert_int_equal(id[8], 'T');
    assert_int_equal(id[15], 'Z');
    assert_int_equal(ard_result_run_id_valid(id), 1);
    char small[5];
    ard_result_run_id_now(small, sizeof small); /* truncates, never overflows */
    assert_true(strlen(small) < sizeof small);
}
