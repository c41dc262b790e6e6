/* The fetch stage (ard_fetch_run): query + export in one call writes the same spectra as the
 * query stage's plan through ard_fetch_to_parquet / _to_npy, the report counts them, and bad
 * options give exact statuses. */
#include "ti.h"

#include "ard/parquet.h"
#include "common/ard_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t parquet_rows(const char *path, int32_t *leaves) {
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pq, NULL), ARD_OK);
    int64_t rows = ard_parquet_metadata(pq)->num_rows;
    *leaves = ard_parquet_metadata(pq)->num_leaves;
    ard_parquet_close(pq);
    return rows;
}

void test_fetch_stage(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_query_options q;
    ard_query_options_init(&q);
    q.dataset = env->dir;
    q.dsn = env->dsn;
    q.where = "Z > 1.5";
    ard_plan *plan = NULL;
    assert_int_equal(ard_query_run(&q, &plan, NULL, NULL), ARD_OK);
    int64_t want = ard_plan_num_rows(plan);
    assert_true(want > 0);
    char ref[400], out[400];
    snprintf(ref, sizeof ref, "%s/ref.parquet", env->dir);
    assert_int_equal(ard_fetch_to_parquet(env->dir, plan, NULL, 0, 1, ref, NULL, NULL), ARD_OK);
    ard_plan_free(plan);

    ard_fetch_options o;
    ard_fetch_options_init(&o);
    o.query = q;
    snprintf(out, sizeof out, "%s/stage.parquet", env->dir);
    o.out_path = out;
    o.threads = 2;
    ard_fetch_report r;
    ard_error err;
    ard_error_init(&err);
    if (ard_fetch_run(&o, &r, &err) != ARD_OK) {
        fail_msg("fetch stage: %s", err.msg);
    }
    assert_int_equal(r.rows, want);
    assert_int_equal(r.query.spectra, want);
    assert_true(r.query.files > 0 && r.seconds >= r.query.seconds);
    int32_t leaves = 0, ref_leaves = 0;
    assert_int_equal(parquet_rows(out, &leaves), want);
    assert_int_equal(parquet_rows(ref, &ref_leaves), want);
    assert_int_equal(leaves, ref_leaves);
    size_t a_len = 0, b_len = 0;
    uint8_t *a = ard_test_read_file(out, &a_len), *b = ard_test_read_file(ref, &b_len);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a_len, b_len); /* same writer, same plan: the same bytes */
    assert_memory_equal(a, b, a_len);
    free(a);
    free(b);

    /* .npy by its ending, explicit columns */
    const char *cols[2] = {"FLUX", "MASK"};
    snprintf(out, sizeof out, "%s/stage.npy", env->dir);
    o.columns = cols;
    o.num_columns = 2;
    assert_int_equal(ard_fetch_run(&o, &r, NULL), ARD_OK);
    assert_int_equal(r.rows, want);
    snprintf(ref, sizeof ref, "%s/stage.MASK.npy", env->dir);
    FILE *f = fopen(ref, "rb");
    assert_non_null(f);
    fclose(f);

    /* bad options: no output, unknown ending, bad format, two sources, too many columns */
    o.out_path = NULL;
    assert_int_equal(ard_fetch_run(&o, &r, NULL), ARD_EINVAL);
    o.out_path = "x.csv";
    assert_int_equal(ard_fetch_run(&o, &r, NULL), ARD_EINVAL);
    o.format = 7;
    o.out_path = out;
    assert_int_equal(ard_fetch_run(&o, &r, NULL), ARD_EINVAL);
    o.format = ARD_FETCH_FORMAT_AUTO;
    o.num_columns = 9;
    assert_int_equal(ard_fetch_run(&o, &r, NULL), ARD_EINVAL);
    o.num_columns = 0;
    int64_t one = 1;
    o.query.targetids = &one;
    o.query.num_targetids = 1;
    assert_int_equal(ard_fetch_run(&o, &r, NULL), ARD_EINVAL); /* where and targetids */
    assert_int_equal(r.rows, 0);
    assert_int_equal(ard_fetch_run(NULL, &r, NULL), ARD_EINVAL);
}
