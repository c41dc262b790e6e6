/* The bulk paths against their plain twins: SQLite's multi-row INSERT batches (and PostgreSQL's
 * COPY) give the same table as rows written one call at a time, at batch boundaries, with NULLs,
 * NaN and awkward text; a sync pipelined window by window (one window written while the next is
 * read) gives the same index as one window. */
#include "ti.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BULK_N 773 /* three full batches of 256 and a partial one */

typedef struct bulk_data {
    int64_t ids[BULK_N];
    double score[BULK_N];
    const char *label[BULK_N];
    char text[BULK_N][32];
    int64_t seen;
    int bad;
} bulk_data;

static void bulk_fill(bulk_data *d) {
    memset(d, 0, sizeof *d);
    for (int i = 0; i < BULK_N; i++) {
        d->ids[i] = i % 5 == 0 ? -((int64_t)1 << 40) - i : (int64_t)i * 1000003;
        d->score[i] = i % 7 == 3 ? NAN : (double)i * 0.5 - 20.0;
        snprintf(d->text[i], sizeof d->text[i], i % 3 ? "r%d\tx\\y\n'q'" : "%d", i);
        d->label[i] = i % 11 == 4 ? NULL : d->text[i];
    }
}

static int check_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    bulk_data *d = ctx;
    int64_t i = d->seen++;
    char want[64];
    if (n != 4 || i >= BULK_N || !v[0] || strtoll(v[0], NULL, 10) != i || !v[1] ||
        strtoll(v[1], NULL, 10) != d->ids[i]) {
        d->bad = 1;
        return 1;
    }
    if (isnan(d->score[i]) ? v[2] != NULL : (!v[2] || strtod(v[2], NULL) != d->score[i])) {
        d->bad = 2;
        return 1;
    }
    snprintf(want, sizeof want, "%s", d->label[i] ? d->label[i] : "");
    if (d->label[i] ? (!v[3] || strcmp(v[3], want) != 0) : v[3] != NULL) {
        d->bad = 3;
        return 1;
    }
    return 0;
}

void test_bulk_batches(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, 0);
    bulk_data *d = malloc(sizeof *d);
    assert_non_null(d);
    bulk_fill(d);
    int64_t seq[BULK_N];
    for (int i = 0; i < BULK_N; i++) {
        seq[i] = i;
    }
    ard_index_column cols[4] = {{"seq", ARD_INDEX_INT64, seq, NULL},
                                {"id", ARD_INDEX_INT64, d->ids, NULL},
                                {"score", ARD_INDEX_DOUBLE, d->score, NULL},
                                {"label", ARD_INDEX_TEXT, d->label, NULL}};
    /* all rows in one load (batches), then the same rows one load per row (the plain path) */
    assert_int_equal(
        ard_index_write_table(idx, "bulk_many", cols, 4, BULK_N, ARD_INDEX_REPLACE, NULL), ARD_OK);
    for (int i = 0; i < BULK_N; i++) {
        ard_index_column one[4] = {{"seq", ARD_INDEX_INT64, &seq[i], NULL},
                                   {"id", ARD_INDEX_INT64, &d->ids[i], NULL},
                                   {"score", ARD_INDEX_DOUBLE, &d->score[i], NULL},
                                   {"label", ARD_INDEX_TEXT, &d->label[i], NULL}};
        assert_int_equal(ard_index_write_table(idx, "bulk_one", one, 4, 1,
                                               i ? ARD_INDEX_APPEND : ARD_INDEX_REPLACE, NULL),
                         ARD_OK);
    }
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM bulk_many"), BULK_N);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM bulk_one"), BULK_N);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM (SELECT * FROM bulk_many EXCEPT"
                                 " SELECT * FROM bulk_one) x"),
                     0);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM (SELECT * FROM bulk_one EXCEPT"
                                 " SELECT * FROM bulk_many) x"),
                     0);
    assert_int_equal(ard_index_select(idx,
                                      "SELECT seq, id, score, label FROM bulk_many ORDER BY seq",
                                      check_row, d, NULL),
                     ARD_OK);
    assert_int_equal(d->bad, 0);
    assert_int_equal(d->seen, BULK_N);
    free(d);
    ard_index_close(idx);
}

/* A digest of everything sync wrote about the tiles (file ids included: they are assigned in
 * file order whatever the windows). */
static void sync_digest(ti_env *env, int64_t out[6]) {
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    out[0] = ti_int(idx, "SELECT count(*) FROM spectra");
    out[1] = ti_int(idx, "SELECT sum((targetid % 1000003) * (file_id * 7 + row_group * 3 +"
                         " row_index)) FROM spectra");
    out[2] = ti_int(idx, "SELECT sum(num_rows * (file_id + 1) + first_row + targetid_min % 1009"
                         " + targetid_max % 997) FROM row_groups");
    out[3] = ti_int(idx, "SELECT count(*) * 1000 + sum(num_rows * id) FROM files");
    out[4] = ti_int(idx, "SELECT count(*) + sum(num_values * file_id) FROM column_stats");
    out[5] = ti_int(idx, "SELECT count(*) + sum(pixels * file_id) FROM tile_pixel_stats");
    ard_index_close(idx);
}

void test_sync_windows(void **state) {
    TI_ENV(state);
    int64_t one_window[6], pipelined[6];
    ard_sync_report rep;
    ard_sync_options o = {0};
    o.quiet = 1;
    o.threads = 2;
    o.files_per_txn = 64;
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_added, env->gen.tiles + env->gen.catalog_files);
    sync_digest(env, one_window);
    assert_int_equal(one_window[0], (int64_t)env->gen.tiles * env->gen.rows);
    for (int32_t per = 1; per <= 3; per++) {
        ti_drop_index(env);
        o.files_per_txn = per;
        ti_sync(env, &o, &rep);
        assert_int_equal(rep.files_added, env->gen.tiles + env->gen.catalog_files);
        assert_int_equal(rep.spectra_rows, one_window[0]);
        sync_digest(env, pipelined);
        assert_memory_equal(pipelined, one_window, sizeof one_window);
    }
}
