/* The query stage (ard_query_run): a predicate, the same spectra by TARGETID array and by a
 * TARGETID text file give one plan, plans written and read back through the plan file format, and
 * exact statuses for bad options and a bad ids file. */
#include "ti.h"

#include <stdio.h>
#include <string.h>

static void same_plan(const ard_plan *a, const ard_plan *b) {
    assert_int_equal(ard_plan_num_rows(a), ard_plan_num_rows(b));
    assert_int_equal(ard_plan_num_chunks(a), ard_plan_num_chunks(b));
    for (int64_t c = 0; c < ard_plan_num_chunks(a); c++) {
        const ard_plan_chunk *x = ard_plan_chunk_at(a, c), *y = ard_plan_chunk_at(b, c);
        assert_string_equal(ard_plan_file(a, x->file), ard_plan_file(b, y->file));
        assert_int_equal(x->row_group, y->row_group);
        assert_int_equal(x->num_rows, y->num_rows);
        assert_memory_equal(x->rows, y->rows, (size_t)x->num_rows * 8);
        assert_memory_equal(x->targetids, y->targetids, (size_t)x->num_rows * 8);
    }
}

void test_query_stage(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_query_options o;
    ard_query_options_init(&o);
    o.dataset = env->dir;
    o.dsn = env->dsn;
    o.where = "Z > 1.0";
    ard_plan *by_where = NULL;
    ard_query_report qr;
    assert_int_equal(ard_query_run(&o, &by_where, &qr, NULL), ARD_OK);
    assert_true(qr.spectra > 0);
    assert_int_equal(qr.spectra, ard_plan_num_rows(by_where));
    assert_int_equal(qr.files, ard_plan_num_files(by_where));

    /* the same TARGETIDs as an array and as a file (blank lines, blanks around ids) */
    int64_t n = ard_plan_num_rows(by_where), k = 0;
    int64_t *ids = test_malloc((size_t)n * sizeof *ids);
    char path[512];
    snprintf(path, sizeof path, "%s/ids.txt", env->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int64_t c = 0; c < ard_plan_num_chunks(by_where); c++) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(by_where, c);
        for (int64_t r = 0; r < ch->num_rows; r++) {
            ids[k++] = ch->targetids[r];
            fprintf(f, "%s%lld \n", r == 0 ? "\n  " : "", (long long)ch->targetids[r]);
        }
    }
    fclose(f);
    ard_query_options_init(&o);
    o.dataset = env->dir;
    o.dsn = env->dsn;
    o.targetids = ids;
    o.num_targetids = n;
    ard_plan *by_ids = NULL;
    assert_int_equal(ard_query_run(&o, &by_ids, NULL, NULL), ARD_OK);
    same_plan(by_where, by_ids);
    ard_plan_free(by_ids);
    o.targetids = NULL;
    o.num_targetids = 0;
    o.targetids_file = path;
    assert_int_equal(ard_query_run(&o, &by_ids, NULL, NULL), ARD_OK);
    same_plan(by_where, by_ids);
    ard_plan_free(by_ids);

    /* through the plan file format */
    snprintf(path, sizeof path, "%s/q.plan", env->dir);
    assert_int_equal(ard_plan_save(by_where, path, NULL), ARD_OK);
    assert_int_equal(ard_plan_load(path, &by_ids, NULL), ARD_OK);
    same_plan(by_where, by_ids);
    ard_plan_free(by_ids);

    /* bad options and a bad ids file */
    o.where = "Z > 1.0"; /* and targetids_file: two sources */
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_query_run(&o, &by_ids, NULL, &err), ARD_EINVAL);
    assert_null(by_ids);
    o.where = NULL;
    snprintf(path, sizeof path, "%s/bad.txt", env->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("1\n2x\n", f);
    fclose(f);
    ard_error_init(&err);
    assert_int_equal(ard_query_run(&o, &by_ids, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "line 2"));
    o.targetids_file = NULL;
    o.where = "Z > 1.0";
    o.limit = -1;
    assert_int_equal(ard_query_run(&o, &by_ids, NULL, NULL), ARD_EINVAL);
    test_free(ids);
    ard_plan_free(by_where);
}
