/* The table writer ("write these columns"): every column kind written in two batches and read back
 * value by value (nulls included), the schema it declares, and exact statuses for bad columns. */
#include "tw_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { TROWS = 4, TWIDTH = 3 };

static int32_t leaf_of(const ard_parquet_file *pq, const char *name) {
    int32_t leaf = ard_parquet_find_leaf(pq, name);
    assert_true(leaf >= 0);
    return leaf;
}

static void table_batch(ard_parquet_table_column *c, int64_t at, const int64_t *ids,
                        const double *z, const char *const *names, const float *flux,
                        const uint8_t *flux_valid, const uint8_t *mask) {
    memset(c, 0, 5 * sizeof *c);
    c[0] = (ard_parquet_table_column){
        "TARGETID", ARD_PARQUET_COL_INT64, ARD_PARQUET_COL_SORTED, ids + at, NULL, NULL, 0};
    c[1] = (ard_parquet_table_column){
        "Z", ARD_PARQUET_COL_DOUBLE, ARD_PARQUET_COL_PLAIN, z + at, NULL, NULL, 0};
    c[2] = (ard_parquet_table_column){
        "NAME", ARD_PARQUET_COL_STRING, ARD_PARQUET_COL_NULLABLE, names + at, NULL, NULL, 0};
    c[3] = (ard_parquet_table_column){"FLUX",
                                      ARD_PARQUET_COL_LIST_F32,
                                      ARD_PARQUET_COL_NULLABLE,
                                      flux + at * TWIDTH,
                                      flux_valid,
                                      NULL,
                                      TWIDTH};
    c[4] = (ard_parquet_table_column){
        "MASK", ARD_PARQUET_COL_LIST_U8, 0, mask + at * TWIDTH, NULL, NULL, TWIDTH};
}

void tw_test_table_writer(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/table.parquet", tw_dir());
    const int64_t ids[TROWS] = {1, 5, 9, 12};
    const double z[TROWS] = {0.5, 1.5, 2.5, 3.5};
    const char *const names[TROWS] = {"a", NULL, "ccc", ""};
    float flux[TROWS * TWIDTH];
    uint8_t mask[TROWS * TWIDTH];
    for (int i = 0; i < TROWS * TWIDTH; i++) {
        flux[i] = (float)i;
        mask[i] = (uint8_t)(200 + i);
    }
    const uint8_t valid_first[1] = {0x3f & ~0x02}; /* batch 1 (2 rows): element 1 is null */
    ard_parquet_table_column c[5];
    ard_pq_writer *w = NULL;
    table_batch(c, 0, ids, z, names, flux, valid_first, mask);
    assert_int_equal(ard_parquet_table_open(path, c, 5, NULL, &w, NULL), ARD_OK);
    assert_int_equal(ard_parquet_table_append(w, c, 5, 2, NULL), ARD_OK);
    table_batch(c, 2, ids, z, names, flux, NULL, mask);
    assert_int_equal(ard_parquet_table_append(w, c, 4, 2, NULL), ARD_EINVAL); /* column count */
    assert_int_equal(ard_parquet_table_append(w, c, 5, 2, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);

    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pq, NULL), ARD_OK);
    const ard_pq_metadata *md = ard_parquet_metadata(pq);
    assert_int_equal(md->num_rows, TROWS);
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    assert_int_equal(ard_parquet_read_column(pq, 0, leaf_of(pq, "TARGETID"), &col, NULL), ARD_OK);
    assert_memory_equal(col.values, ids, sizeof ids);
    ard_pq_column_data_reset(&col);
    assert_int_equal(ard_parquet_read_column(pq, 0, leaf_of(pq, "NAME"), &col, NULL), ARD_OK);
    assert_int_equal(col.num_values, 3); /* one null */
    assert_int_equal(col.def_levels[1], 0);
    assert_int_equal(col.offsets[2] - col.offsets[1], 3); /* "ccc" */
    assert_int_equal(md->nodes[md->leaves[leaf_of(pq, "NAME")]].logical.kind, ARD_PQ_LT_STRING);
    ard_pq_column_data_reset(&col);
    ard_pq_f32_matrix m;
    memset(&m, 0, sizeof m);
    assert_int_equal(ard_parquet_read_f32_matrix(pq, 0, leaf_of(pq, "FLUX.list.element"), &m, NULL),
                     ARD_OK);
    assert_int_equal(m.rows, TROWS);
    assert_int_equal(m.width, TWIDTH);
    assert_true(isnan(m.values[1]));
    assert_true(m.values[11] == 11.0f);
    ard_pq_matrix_reset(&m);
    assert_int_equal(ard_parquet_read_column(pq, 0, leaf_of(pq, "MASK.list.element"), &col, NULL),
                     ARD_OK);
    assert_int_equal(col.num_values, TROWS * TWIDTH);
    assert_int_equal(((const int32_t *)col.values)[11], 211);
    ard_pq_column_data_reset(&col);
    ard_parquet_close(pq);

    /* a null in a column that is not nullable, a bad kind, no columns */
    ard_error err;
    ard_error_init(&err);
    table_batch(c, 0, ids, z, names, flux, NULL, mask);
    c[2].flags = 0;
    assert_int_equal(ard_parquet_write_table(path, c, 5, TROWS, NULL, &err), ARD_EINVAL);
    c[2].flags = ARD_PARQUET_COL_NULLABLE;
    c[1].kind = 42;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_write_table(path, c, 5, TROWS, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "Z"));
    assert_int_equal(ard_parquet_write_table(path, c, 0, TROWS, NULL, NULL), ARD_EINVAL);
    c[1].kind = ARD_PARQUET_COL_DOUBLE;
    c[0].flags = ARD_PARQUET_COL_NULL_LISTS; /* only for lists */
    assert_int_equal(ard_parquet_write_table(path, c, 5, TROWS, NULL, NULL), ARD_EINVAL);
    /* the rejected writes left the good table in place */
    assert_int_equal(ard_parquet_open(path, NULL, &pq, NULL), ARD_OK);
    assert_int_equal(ard_parquet_metadata(pq)->num_rows, TROWS);
    ard_parquet_close(pq);
}
