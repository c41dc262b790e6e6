/* ard_parquet_rewrite (the `ard parquet convert` stage): random tables of every column kind (flat,
 * lists with null lists and null elements, strings, INT96, narrow ints) written by the writer,
 * rewritten with other options, read back value by value against the model; key-value metadata
 * carried over; report and progress; exact statuses for a nested column and a missing input, and
 * no output file left behind by a failure. */
#include "tw_util.h"

#include "common/ard_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void count_progress(void *ctx, int64_t done, int64_t total) {
    int64_t *seen = ctx;
    assert_true(done >= 1 && done <= total);
    seen[0]++;
    seen[1] = done;
}

void tw_test_rewrite(void **state) {
    (void)state;
    char in[512], out[512];
    snprintf(in, sizeof in, "%s/rewrite_in.parquet", tw_dir());
    snprintf(out, sizeof out, "%s/rewrite_out.parquet", tw_dir());
    for (uint64_t seed = 1; seed <= 6; seed++) {
        tw_rng r = {seed * 104729};
        tw_table t;
        tw_table_random(&t, &r, tw_range(&r, 1, 2500), 1);
        ard_pq_writer_options wo;
        ard_pq_writer_options_init(&wo);
        wo.rows_per_row_group = 700;
        const char *keys[2] = {"ard.test", "other"};
        const char *vals[2] = {"seed", NULL};
        wo.num_kv = 2;
        wo.kv_keys = keys;
        wo.kv_values = vals;
        assert_int_equal(tw_write(&t, in, &wo, &r, NULL), ARD_OK);

        ard_parquet_rewrite_options o;
        ard_parquet_rewrite_options_init(&o);
        o.writer.codec = seed % 2 ? ARD_PQ_ZSTD : ARD_PQ_UNCOMPRESSED;
        o.writer.page_version = 1 + (int32_t)(seed % 2);
        o.writer.rows_per_row_group = 1 + tw_range(&r, 0, 900);
        int64_t seen[2] = {0, 0};
        o.on_progress = count_progress;
        o.progress_ctx = seen;
        ard_parquet_rewrite_report rep;
        ard_error err;
        ard_error_init(&err);
        if (ard_parquet_rewrite(in, out, &o, &rep, &err) != ARD_OK) {
            fail_msg("rewrite seed %llu: %s", (unsigned long long)seed, err.msg);
        }
        assert_int_equal(tw_compare(&t, out), 0);
        assert_int_equal(rep.rows, t.rows);
        assert_int_equal(rep.columns, t.num_cols);
        assert_int_equal(rep.logical_types_dropped, 0);
        ard_parquet_file *pq = NULL;
        assert_int_equal(ard_parquet_open(in, NULL, &pq, NULL), ARD_OK);
        int32_t groups_in = ard_parquet_metadata(pq)->num_row_groups;
        ard_parquet_close(pq);
        assert_int_equal(rep.row_groups_in, groups_in);
        assert_int_equal(seen[0], groups_in);
        assert_int_equal(seen[1], groups_in);
        assert_int_equal(ard_parquet_open(out, NULL, &pq, NULL), ARD_OK);
        const char *v = ard_parquet_kv_get(pq, "ard.test");
        assert_non_null(v);
        assert_string_equal(v, "seed");
        assert_int_equal(ard_parquet_metadata(pq)->num_row_groups,
                         (t.rows + o.writer.rows_per_row_group - 1) / o.writer.rows_per_row_group);
        ard_parquet_close(pq);
        tw_table_free(&t);
    }
    /* defaults (opts and report NULL) */
    assert_int_equal(ard_parquet_rewrite(in, out, NULL, NULL, NULL), ARD_OK);
    /* missing input, NULL paths: nothing written */
    unlink(out);
    char missing[512];
    snprintf(missing, sizeof missing, "%s/none.parquet", tw_dir());
    assert_int_equal(ard_parquet_rewrite(missing, out, NULL, NULL, NULL), ARD_ENOENT);
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(ard_parquet_rewrite(NULL, out, NULL, NULL, NULL), ARD_EINVAL);
}

/* A struct column is refused with ARD_ENOTSUP naming it; no output is left. */
void tw_test_rewrite_nested(void **state) {
    (void)state;
    char in[600], out[512];
    snprintf(in, sizeof in, "%s/parquet-testing/data/nested_lists.snappy.parquet",
             ard_test_shared_dir());
    if (access(in, R_OK) != 0) {
        fprintf(stderr, "SKIPPED: %s not found (shared corpus)\n", in);
        skip();
    }
    snprintf(out, sizeof out, "%s/nested_out.parquet", tw_dir());
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_rewrite(in, out, NULL, NULL, &err), ARD_ENOTSUP);
    assert_non_null(strstr(err.msg, "column 'a'"));
    assert_non_null(strstr(err.msg, "nested type not supported"));
    assert_int_equal(access(out, F_OK), -1);
}
