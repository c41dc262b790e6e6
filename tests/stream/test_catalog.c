/* Catalog columns in loader batches, on a generated survey with an index: Z / SPECTYPE / ZWARN of
 * every delivered spectrum equal the catalog Parquet's values for its TARGETID (bit for bit), also
 * through a --where query; column metadata of the store; spectra without a catalog row get
 * NaN / 0 / empty text; unknown, malformed or repeated column names and a missing index are
 * ARD_EINVAL naming the column. */
#include "st_util.h"

#include "ard/index.h"
#include "ard/parquet.h"
#include "ard/survey.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { GALAXIES = 120, TW = 16 };

typedef struct ref_row {
    int64_t id;
    double z;
    int64_t zwarn;
    char spectype[TW + 1];
} ref_row;

static char *g_root;
static char g_ds[600];
static ref_row *g_ref;
static int64_t g_num_ref;

static int cmp_ref(const void *a, const void *b) {
    int64_t x = ((const ref_row *)a)->id, y = ((const ref_row *)b)->id;
    return x < y ? -1 : x > y;
}

static const ref_row *find_ref(int64_t id) {
    ref_row key = {.id = id};
    return bsearch(&key, g_ref, (size_t)g_num_ref, sizeof key, cmp_ref);
}

static int read_col(ard_parquet_file *pq, int32_t rg, const char *name, ard_pq_column_data *out) {
    int32_t leaf = ard_parquet_find_leaf(pq, name);
    if (leaf < 0 || ard_parquet_read_column(pq, rg, leaf, out, NULL) != ARD_OK) {
        return -1;
    }
    return out->num_values == out->num_rows ? 0 : -1; /* the generator writes no nulls here */
}

/* The reference: TARGETID, Z, ZWARN, SPECTYPE straight from the catalog Parquet file. */
static int load_reference(void) {
    char path[700];
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0000.parquet", g_ds);
    ard_parquet_file *pq = NULL;
    if (ard_parquet_open(path, NULL, &pq, NULL) != ARD_OK) {
        return -1;
    }
    int rc = 0;
    for (int32_t rg = 0; rc == 0 && rg < ard_parquet_metadata(pq)->num_row_groups; rg++) {
        ard_pq_column_data id = {0}, z = {0}, zw = {0}, st = {0};
        rc = read_col(pq, rg, "TARGETID", &id) | read_col(pq, rg, "Z", &z) |
             read_col(pq, rg, "ZWARN", &zw) | read_col(pq, rg, "SPECTYPE", &st);
        rc |= z.type != ARD_PQ_DOUBLE || st.type != ARD_PQ_BYTE_ARRAY;
        g_ref = realloc(g_ref, (size_t)(g_num_ref + id.num_values + 1) * sizeof *g_ref);
        for (int64_t i = 0; rc == 0 && i < id.num_values; i++) {
            ref_row *r = &g_ref[g_num_ref++];
            memset(r, 0, sizeof *r);
            r->id = ((const int64_t *)id.values)[i];
            r->z = ((const double *)z.values)[i];
            r->zwarn = zw.type == ARD_PQ_INT32 ? ((const int32_t *)zw.values)[i]
                                               : ((const int64_t *)zw.values)[i];
            int64_t len = st.offsets[i + 1] - st.offsets[i];
            memcpy(r->spectype, st.data + st.offsets[i], (size_t)(len < TW ? len : TW));
        }
        ard_pq_column_data_reset(&id);
        ard_pq_column_data_reset(&z);
        ard_pq_column_data_reset(&zw);
        ard_pq_column_data_reset(&st);
    }
    ard_parquet_close(pq);
    qsort(g_ref, (size_t)g_num_ref, sizeof *g_ref, cmp_ref);
    return rc == 0 && g_num_ref == GALAXIES ? 0 : -1;
}

static int setup(void **state) {
    (void)state;
    g_root = st_tmpdir();
    if (!g_root) {
        return -1;
    }
    snprintf(g_ds, sizeof g_ds, "%s/ds", g_root);
    ard_generate_options go;
    ard_generate_options_init(&go);
    go.galaxies = GALAXIES;
    go.seed = 11;
    go.threads = 1;
    ard_error err;
    ard_error_init(&err);
    ard_index *idx = NULL;
    ard_sync_options so = {.threads = 1, .quiet = 1};
    ard_sync_report rep;
    if (ard_generate(g_ds, &go, NULL, &err) != ARD_OK ||
        ard_index_open(g_ds, NULL, 0, &idx, &err) != ARD_OK ||
        ard_index_sync(idx, g_ds, &so, &rep, &err) != ARD_OK) {
        fprintf(stderr, "catalog setup: %s\n", err.msg);
        ard_index_close(idx);
        return -1;
    }
    ard_index_close(idx);
    return load_reference();
}

static int teardown(void **state) {
    (void)state;
    st_rmtree(g_root);
    free(g_root);
    free(g_ref);
    return 0;
}

static void options(ard_loader_options *o, const char *columns) {
    ard_loader_options_init(o);
    o->batch_size = 16;
    o->prefetch_batches = 3;
    o->threads = 2;
    o->shuffle = 1;
    o->seed = 5;
    o->columns = columns;
}

/* Checks the store's column descriptors for "z, SPECTYPE,zwarn". */
static void check_layout(const ard_store *c) {
    assert_int_equal(ard_store_num_columns(c), 3);
    assert_string_equal(ard_store_column_name(c, 0), "Z");
    assert_string_equal(ard_store_column_name(c, 1), "SPECTYPE");
    assert_string_equal(ard_store_column_name(c, 2), "ZWARN");
    assert_int_equal(ard_store_column_type(c, 0), ARD_COLUMN_FLOAT64);
    assert_int_equal(ard_store_column_type(c, 1), ARD_COLUMN_TEXT);
    assert_int_equal(ard_store_column_type(c, 2), ARD_COLUMN_INT64);
    assert_int_equal(ard_store_column_width(c, 1), TW);
    assert_int_equal(ard_store_column_find(c, "spectype"), 1);
    assert_int_equal(ard_store_column_find(c, "ZERR"), -1);
    assert_null(ard_store_column_name(c, 3));
}

/* Consumes a loader with columns z, SPECTYPE, zwarn; every row must match the reference. */
static int64_t consume_checked(ard_loader *l, double z_min) {
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    check_layout(c);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    ard_batch b;
    ard_status st;
    int64_t rows = 0;
    uint8_t *base = ard_store_base(c);
    while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
        const double *z = ard_batch_column(c, &b, 0);
        const char *spectype = ard_batch_column(c, &b, 1);
        const int64_t *zwarn = ard_batch_column(c, &b, 2);
        assert_true((const uint8_t *)z >= base &&
                    (const uint8_t *)(zwarn + b.batch_size) <= base + ard_store_size(c));
        for (int32_t i = 0; i < b.count; i++) {
            const ref_row *r = find_ref(b.targetid[i]);
            assert_non_null(r);
            assert_memory_equal(&z[i], &r->z, sizeof(double)); /* bit for bit */
            assert_true(z[i] > z_min);
            assert_int_equal(zwarn[i], r->zwarn);
            char want[TW] = {0};
            memcpy(want, r->spectype, strlen(r->spectype));
            assert_memory_equal(spectype + (int64_t)i * TW, want, TW);
            assert_true(spectype[(int64_t)i * TW] != '\0');
        }
        rows += b.count;
        ard_store_release(c, &b, NULL);
    }
    assert_int_equal(st, ARD_EEOF);
    assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
    ard_store_close(c);
    return rows;
}

static void test_values_match_catalog(void **state) {
    (void)state;
    ard_loader_options o;
    options(&o, "z, SPECTYPE,zwarn");
    ard_loader *l = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_loader_new_dataset(&o, g_ds, &l, &err), ARD_OK);
    assert_int_equal(consume_checked(l, -1e300), GALAXIES);
    ard_loader_free(l);
}

static void test_values_through_query(void **state) {
    (void)state;
    ard_loader_options o;
    options(&o, "z, SPECTYPE,zwarn");
    o.epochs = 2;
    o.cache = 1;
    int64_t want = 0;
    for (int64_t i = 0; i < g_num_ref; i++) {
        want += g_ref[i].z > 0.5;
    }
    assert_true(want > 0 && want < GALAXIES);
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new_query(&o, g_ds, NULL, "Z > 0.5", &l, NULL), ARD_OK);
    assert_int_equal(consume_checked(l, 0.5), 2 * want);
    ard_loader_free(l);
}

/* Tiles whose TARGETIDs are not in the catalog: NaN, 0 and empty text. */
static void test_rows_without_catalog_row(void **state) {
    (void)state;
    char path[700];
    snprintf(path, sizeof path, "%s/orphans.parquet", g_root);
    assert_int_equal(st_write_tile(path, 20, 100, 20, 5, 3, NULL), ARD_OK);
    ard_read_item item = {path, 0, 0, -1};
    ard_loader_options o;
    options(&o, "Z,SPECTYPE,ZWARN");
    o.index_dataset = g_ds;
    o.text_width = 8;
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new(&o, &item, 1, &l, NULL), ARD_OK);
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    assert_int_equal(ard_store_column_width(c, 1), 8);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    ard_batch b;
    int64_t rows = 0;
    while (ard_store_acquire(c, 30000, &b, NULL) == ARD_OK) {
        const double *z = ard_batch_column(c, &b, 0);
        const char *spectype = ard_batch_column(c, &b, 1);
        const int64_t *zwarn = ard_batch_column(c, &b, 2);
        for (int32_t i = 0; i < b.count; i++) {
            assert_true(isnan(z[i]));
            assert_int_equal(zwarn[i], 0);
            char zeros[8] = {0};
            assert_memory_equal(spectype + i * 8, zeros, 8);
        }
        rows += b.count;
        ard_store_release(c, &b, NULL);
    }
    assert_int_equal(rows, 20);
    assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
    ard_store_close(c);
    ard_loader_free(l);
}

static void expect_einval(const char *columns, const char *needle, const char *index_dataset) {
    ard_loader_options o;
    options(&o, columns);
    o.index_dataset = index_dataset;
    char path[700];
    snprintf(path, sizeof path, "%s/orphans.parquet", g_root);
    assert_int_equal(st_write_tile(path, 4, 100, 4, 5, 3, NULL), ARD_OK);
    ard_read_item item = {path, 0, 0, -1};
    ard_loader *l = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_loader_new(&o, &item, 1, &l, &err), ARD_EINVAL);
    assert_null(l);
    if (!strstr(err.msg, needle)) {
        fail_msg("error \"%s\" does not name \"%s\"", err.msg, needle);
    }
}

static void test_bad_columns(void **state) {
    (void)state;
    expect_einval("Z,NOPE", "NOPE", g_ds);
    expect_einval("Z; DROP TABLE galaxies", "Z; DROP TABLE galaxies", g_ds);
    expect_einval("z,Z", "given twice", g_ds);
    expect_einval("Z,1abc", "1abc", g_ds);
    expect_einval("Z,CATALOG_FILE_ID", "CATALOG_FILE_ID", g_ds);
    expect_einval("Z", "index", NULL); /* no index named for explicit items */
    ard_loader_options o;
    options(&o, "Z");
    ard_loader *l = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_loader_new_dataset(&o, g_ds, &l, &err), ARD_OK); /* DATASET/ard.db */
    ard_loader_free(l);
    options(&o, "SPECTYPE,Z");
    o.text_width = 2000;
    assert_int_equal(ard_loader_new_dataset(&o, g_ds, &l, &err), ARD_EINVAL);
    assert_null(l);
}

int st_catalog_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_match_catalog),
        cmocka_unit_test(test_values_through_query),
        cmocka_unit_test(test_rows_without_catalog_row),
        cmocka_unit_test(test_bad_columns),
    };
    return cmocka_run_group_tests_name("loader catalog columns", tests, setup, teardown);
}
