/* The fof stage (ard_fof_stage_run) against the CLI (`ard fof`, run as a child process from the
 * build tree): the same groups from the catalog files and from the index with a predicate, the
 * same recorded inputs hash, progress reported per phase, and bad options refused. */
#include "sci_tests.h"

#include "ard/index.h"
#include "ard/parquet.h"
#include "ard/science.h"
#include "ard/survey.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct stage_env {
    char dir[256];
    char ard[PATH_MAX + 8];
} stage_env;

/* Column `name` (INT64, required) of a results file, all row groups; caller frees. */
static int64_t *read_i64(const char *path, const char *name, int64_t *n) {
    ard_parquet_file *f = NULL;
    ard_error err;
    ard_error_init(&err);
    if (ard_parquet_open(path, NULL, &f, &err) != ARD_OK) {
        fail_msg("open %s: %s", path, err.msg);
    }
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    int64_t *out = malloc((size_t)(md->num_rows + 1) * 8);
    assert_non_null(out);
    int32_t leaf = ard_parquet_find_leaf(f, name);
    assert_true(leaf >= 0);
    *n = 0;
    for (int32_t rg = 0; rg < md->num_row_groups; rg++) {
        ard_pq_column_data col;
        memset(&col, 0, sizeof col);
        assert_int_equal(ard_parquet_read_column(f, rg, leaf, &col, &err), ARD_OK);
        memcpy(out + *n, col.values, (size_t)col.num_values * 8);
        *n += col.num_values;
        ard_pq_column_data_reset(&col);
    }
    ard_parquet_close(f);
    return out;
}

static void assert_same_file_column(const stage_env *env, const char *run_a, const char *run_b,
                                    const char *table, const char *column) {
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/results/fof-%s-%s.parquet", env->dir, run_a, table);
    snprintf(b, sizeof b, "%s/results/fof-%s-%s.parquet", env->dir, run_b, table);
    int64_t na = 0, nb = 0;
    int64_t *va = read_i64(a, column, &na), *vb = read_i64(b, column, &nb);
    assert_int_equal(na, nb);
    assert_true(na > 0);
    assert_memory_equal(va, vb, (size_t)na * 8);
    free(va);
    free(vb);
}

static void run_cli(const stage_env *env, const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' fof '%s' %s >/dev/null", env->ard, env->dir, args);
    assert_int_equal(system(cmd), 0);
}

typedef struct phases {
    int seen[4];
} phases;

static void on_progress(void *ctx, const char *phase, double fraction) {
    phases *p = ctx;
    static const char *const names[] = {"load", "link", "score", "write"};
    assert_true(fraction >= 0.0 && fraction <= 1.0);
    for (int i = 0; i < 4; i++) {
        p->seen[i] += strcmp(phase, names[i]) == 0;
    }
}

/* The stage's groups in memory equal the file it wrote. */
static void assert_memory_matches_file(const stage_env *env, const char *run_id,
                                       const ard_fof_result *r, const int64_t *tid) {
    char path[512];
    snprintf(path, sizeof path, "%s/results/fof-%s-galaxies.parquet", env->dir, run_id);
    int64_t n = 0;
    int64_t *ftid = read_i64(path, "TARGETID", &n);
    int64_t *fgid = read_i64(path, "GROUP_ID", &n);
    assert_int_equal(n, ard_fof_num_galaxies(r));
    assert_memory_equal(ftid, tid, (size_t)n * 8);
    assert_memory_equal(fgid, ard_fof_group_ids(r), (size_t)n * 8);
    free(ftid);
    free(fgid);
}

static void test_stage_vs_cli(void **state) {
    stage_env *env = *state;
    if (!env->ard[0]) {
        skip();
    }
    /* from the catalog files */
    run_cli(env, "--no-index --run-id cli1");
    ard_fof_stage_options o;
    ard_fof_stage_options_init(&o);
    o.dataset = env->dir;
    o.no_index = 1;
    o.run_id = "api1";
    phases ph = {{0}};
    o.progress = on_progress;
    o.progress_ctx = &ph;
    ard_fof_stage_report rep;
    ard_fof_result *r = NULL;
    int64_t *tid = NULL;
    ard_error err;
    ard_error_init(&err);
    if (ard_fof_stage_run(&o, &rep, &r, &tid, &err) != ARD_OK) {
        fail_msg("stage: %s", err.msg);
    }
    for (int i = 0; i < 4; i++) {
        assert_true(ph.seen[i] >= 2);
    }
    assert_string_equal(rep.run_id, "api1");
    assert_int_equal(rep.from_index, 0);
    assert_int_equal(rep.indexed, 0);
    assert_true(rep.scored);
    assert_true(rep.groups > 10);
    assert_int_equal(rep.galaxies, ard_fof_num_galaxies(r));
    assert_same_file_column(env, "cli1", "api1", "galaxies", "TARGETID");
    assert_same_file_column(env, "cli1", "api1", "galaxies", "GROUP_ID");
    assert_same_file_column(env, "cli1", "api1", "groups", "N_MEMBERS");
    assert_memory_matches_file(env, "api1", r, tid);
    ard_fof_result_free(r);
    ard_free(tid);

    /* from the index, with a predicate */
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(env->dir, NULL, 0, &idx, &err), ARD_OK);
    ard_sync_options so = {0};
    so.quiet = 1;
    ard_sync_report srep;
    assert_int_equal(ard_index_sync(idx, env->dir, &so, &srep, &err), ARD_OK);
    ard_index_close(idx);
    run_cli(env, "--where 'ZWARN = 0' --mode isotropic --b 0.25 --run-id cli2");
    ard_fof_stage_options_init(&o);
    o.dataset = env->dir;
    o.where = "ZWARN = 0";
    o.run_id = "api2";
    o.params.mode = ARD_FOF_ISOTROPIC;
    o.params.b = 0.25;
    if (ard_fof_stage_run(&o, &rep, &r, &tid, &err) != ARD_OK) {
        fail_msg("stage: %s", err.msg);
    }
    assert_int_equal(rep.from_index, 1);
    assert_int_equal(rep.indexed, 1);
    assert_same_file_column(env, "cli2", "api2", "galaxies", "TARGETID");
    assert_same_file_column(env, "cli2", "api2", "galaxies", "GROUP_ID");
    assert_memory_matches_file(env, "api2", r, tid);
    ard_fof_result_free(r);
    ard_free(tid);

    /* both runs recorded in fof_runs with the same inputs hash; galaxy_groups holds api2 */
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, &err), ARD_OK);
    ard_column_set *runs = NULL;
    assert_int_equal(ard_result_runs(idx, "fof", &runs, &err), ARD_OK);
    assert_int_equal(ard_column_set_num_rows(runs), 2);
    const char *const *ids = ard_column_set_column(runs, 0)->values;
    const char *const *hash =
        ard_column_set_column(runs, ard_column_set_find(runs, "inputs_hash"))->values;
    assert_string_equal(ids[0], "cli2");
    assert_string_equal(ids[1], "api2");
    assert_string_equal(hash[0], hash[1]);
    ard_column_set_free(runs);
    int32_t type = ARD_INDEX_INT64;
    ard_column_set *set = NULL;
    assert_int_equal(ard_index_select_columns(idx,
                                              "SELECT count(*) FROM galaxy_groups WHERE run_id <> "
                                              "'api2'",
                                              &type, 1, &set, &err),
                     ARD_OK);
    assert_int_equal(((const int64_t *)ard_column_set_column(set, 0)->values)[0], 0);
    ard_column_set_free(set);
    ard_index_close(idx);

    /* refused options */
    o.run_id = "api2";
    assert_int_equal(ard_fof_stage_run(&o, &rep, NULL, NULL, NULL), ARD_EEXIST);
    o.run_id = "../x";
    assert_int_equal(ard_fof_stage_run(&o, &rep, NULL, NULL, NULL), ARD_EINVAL);
    o.run_id = NULL;
    o.size = 2;
    assert_int_equal(ard_fof_stage_run(&o, &rep, NULL, NULL, NULL), ARD_ENOTSUP);
    o.size = 1;
    o.no_index = 1;
    assert_int_equal(ard_fof_stage_run(&o, &rep, NULL, NULL, NULL), ARD_EINVAL); /* where */
}

static int setup(void **state) {
    stage_env *env = calloc(1, sizeof *env);
    assert_non_null(env);
    snprintf(env->dir, sizeof env->dir, "/tmp/ard-fof-stage-XXXXXX");
    assert_non_null(mkdtemp(env->dir));
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(env->ard, sizeof env->ard, "%s/../ard", self);
        }
    }
    if (!env->ard[0] || access(env->ard, X_OK) != 0) {
        fprintf(stderr, "SKIPPED: test_fof_stage needs the ard CLI beside the tests directory "
                        "(build the ard_cli target)\n");
        env->ard[0] = '\0';
    }
    ard_generate_options g;
    ard_generate_options_init(&g);
    g.galaxies = 4000;
    g.seed = 5;
    g.spectra_fraction = 0.0;
    g.threads = 2;
    ard_error err;
    ard_error_init(&err);
    char ds[300];
    snprintf(ds, sizeof ds, "%s", env->dir);
    if (ard_generate(ds, &g, NULL, &err) != ARD_OK) {
        fail_msg("generate: %s", err.msg);
    }
    *state = env;
    return 0;
}

static int teardown(void **state) {
    stage_env *env = *state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", env->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "warning: could not remove %s\n", env->dir);
    }
    free(env);
    return 0;
}

int sci_run_stage_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stage_vs_cli, setup, teardown),
    };
    return cmocka_run_group_tests_name("fof_stage", tests, NULL, NULL);
}
