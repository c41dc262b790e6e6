/* Fetch tests (iterator values against the generator, Parquet and .npy exports, stale index
 * detection), result tables, and identical plans on SQLite and PostgreSQL. */
#include "ti.h"

#include "ard/parquet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static ard_plan *plan_for(ti_env *env, const char *where) {
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    ard_plan *plan = NULL;
    assert_int_equal(ard_index_query(idx, where, 0, &plan, NULL), ARD_OK);
    ard_index_close(idx);
    return plan;
}

/* One fetched MASK row against the generator; returns its number of nonzero bytes. */
static int64_t check_mask(int64_t id, const uint8_t *row, int64_t width) {
    int64_t nonzero = 0;
    for (int64_t k = 0; k < width; k++) {
        assert_int_equal(row[k], tgen_mask(id, (int32_t)k));
        nonzero += row[k] != 0;
    }
    return nonzero;
}

static void check_spectrum(int64_t id, const float *values, const uint8_t *validity, int64_t row,
                           int64_t width) {
    for (int64_t k = 0; k < width; k++) {
        float want = tgen_flux(id, (int32_t)k);
        int64_t bit = row * width + k;
        int valid = !validity || ((validity[bit >> 3] >> (bit & 7)) & 1);
        if (want != want) {
            assert_false(valid);
        } else {
            assert_true(valid);
            assert_float_equal(values[row * width + k], want, 0.0);
        }
    }
}

void test_fetch_iterator(void **state) {
    TI_ENV(state);
    ard_plan *plan = plan_for(env, "Z > 1.0");
    const char *cols[3] = {"FLUX", "IVAR", "MASK"};
    ard_fetch *f = NULL;
    assert_int_equal(ard_fetch_open(env->dir, plan, cols, 3, 2, &f, NULL), ARD_OK);
    const ard_fetch_batch *b;
    ard_status st;
    int64_t rows = 0, batches = 0;
    ard_error err;
    ard_error_init(&err);
    while ((st = ard_fetch_next(f, &b, &err)) == ARD_OK) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(plan, batches);
        assert_int_equal(b->rows, ch->num_rows);
        assert_int_equal(b->row_group, ch->row_group);
        assert_int_equal(b->num_columns, 3);
        assert_int_equal(b->columns[0].width, env->gen.width);
        assert_int_equal(b->column_types[0], ARD_FETCH_F32);
        assert_int_equal(b->column_types[1], ARD_FETCH_F32);
        assert_null(b->u8_values[0]);
        assert_int_equal(b->column_types[2], ARD_FETCH_U8);
        assert_int_equal(b->columns[2].rows, b->rows);
        assert_int_equal(b->columns[2].width, env->gen.width);
        assert_null(b->columns[2].values);
        assert_non_null(b->u8_values[2]);
        for (int64_t r = 0; r < b->rows; r++) {
            check_spectrum(b->targetids[r], b->columns[0].values, b->columns[0].validity, r,
                           b->columns[0].width);
            check_mask(b->targetids[r], b->u8_values[2] + r * env->gen.width, env->gen.width);
            assert_true(tgen_z(b->targetids[r]) > 1.0);
        }
        rows += b->rows;
        batches++;
    }
    if (st != ARD_EEOF) {
        fail_msg("fetch: %s", err.msg);
    }
    assert_int_equal(rows, ard_plan_num_rows(plan));
    assert_int_equal(batches, ard_plan_num_chunks(plan));
    assert_int_equal(ard_fetch_next(f, &b, NULL), ARD_EEOF);
    ard_fetch_close(f);
    /* an unknown column is an error naming it */
    const char *bad[1] = {"NOPE"};
    assert_int_equal(ard_fetch_open(env->dir, plan, bad, 1, 1, &f, NULL), ARD_OK);
    ard_error_init(&err);
    assert_int_equal(ard_fetch_next(f, &b, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "NOPE"));
    ard_fetch_close(f);
    /* a column that is neither list<float> nor list<uint8> is an error naming it */
    const char *scalar[1] = {"TARGETID"};
    assert_int_equal(ard_fetch_open(env->dir, plan, scalar, 1, 1, &f, NULL), ARD_OK);
    ard_error_init(&err);
    assert_int_equal(ard_fetch_next(f, &b, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "neither"));
    assert_non_null(strstr(err.msg, "TARGETID"));
    ard_fetch_close(f);
    ard_plan_free(plan);
}

/* MASK of one row group of a fetched Parquet file against the generator; returns nonzero bytes. */
static int64_t check_mask_column(const ard_parquet_file *pq, int32_t g, int32_t leaf,
                                 const int64_t *ids, int64_t rows, int64_t width) {
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    assert_int_equal(ard_parquet_read_column(pq, g, leaf, &col, NULL), ARD_OK);
    assert_int_equal(col.type, ARD_PQ_INT32);
    assert_int_equal(col.num_values, rows * width);
    int64_t nonzero = 0;
    uint8_t row[4096];
    assert_true(width <= 4096);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t k = 0; k < width; k++) {
            int32_t v = ((const int32_t *)col.values)[r * width + k];
            assert_true(v >= 0 && v <= 255);
            row[k] = (uint8_t)v;
        }
        nonzero += check_mask(ids[r], row, width);
    }
    ard_pq_column_data_reset(&col);
    return nonzero;
}

void test_fetch_parquet(void **state) {
    TI_ENV(state);
    ard_plan *plan = plan_for(env, "Z > 2.0");
    char out[400];
    snprintf(out, sizeof out, "%s/subset.parquet", env->dir);
    int64_t rows = 0;
    ard_error err;
    ard_error_init(&err);
    if (ard_fetch_to_parquet(env->dir, plan, NULL, 0, 2, out, &rows, &err) != ARD_OK) {
        fail_msg("to_parquet: %s", err.msg);
    }
    assert_int_equal(rows, ard_plan_num_rows(plan));
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(out, NULL, &pq, NULL), ARD_OK);
    assert_int_equal(ard_parquet_metadata(pq)->num_rows, rows);
    assert_non_null(ard_parquet_kv_get(pq, "ard.grid"));
    int32_t tid = ard_parquet_find_leaf(pq, "TARGETID");
    int32_t flux = ard_parquet_find_leaf(pq, "FLUX.list.element");
    int32_t mask = ard_parquet_find_leaf(pq, "MASK.list.element");
    assert_true(tid >= 0 && flux >= 0 && mask >= 0);
    assert_true(ard_parquet_find_leaf(pq, "IVAR.list.element") >= 0); /* the full tile schema */
    const ard_pq_metadata *md = ard_parquet_metadata(pq);
    const ard_pq_schema_node *mn = &md->nodes[md->leaves[mask]];
    assert_int_equal(mn->type, ARD_PQ_INT32); /* list<uint8>, as in the tiles */
    assert_int_equal(mn->logical.kind, ARD_PQ_LT_INTEGER);
    assert_int_equal(mn->logical.bit_width, 8);
    assert_int_equal(mn->logical.is_signed, 0);
    int64_t seen = 0, masked = 0;
    for (int32_t g = 0; g < ard_parquet_metadata(pq)->num_row_groups; g++) {
        ard_pq_column_data ids;
        memset(&ids, 0, sizeof ids);
        ard_pq_f32_matrix m;
        memset(&m, 0, sizeof m);
        assert_int_equal(ard_parquet_read_column(pq, g, tid, &ids, NULL), ARD_OK);
        assert_int_equal(ard_parquet_read_f32_matrix(pq, g, flux, &m, NULL), ARD_OK);
        for (int64_t r = 0; r < m.rows; r++) {
            check_spectrum(((int64_t *)ids.values)[r], m.values, m.validity, r, m.width);
        }
        masked += check_mask_column(pq, g, mask, (const int64_t *)ids.values, m.rows, m.width);
        seen += m.rows;
        ard_pq_column_data_reset(&ids);
        ard_pq_matrix_reset(&m);
    }
    assert_int_equal(seen, rows);
    assert_true(masked > 0); /* the check saw nonzero MASK bytes, not only zeros */
    ard_parquet_close(pq);
    /* explicit columns: only those, MASK alone works */
    const char *only_mask[1] = {"MASK"};
    if (ard_fetch_to_parquet(env->dir, plan, only_mask, 1, 1, out, &rows, &err) != ARD_OK) {
        fail_msg("to_parquet MASK: %s", err.msg);
    }
    assert_int_equal(ard_parquet_open(out, NULL, &pq, NULL), ARD_OK);
    assert_int_equal(ard_parquet_metadata(pq)->num_leaves, 2);
    assert_true(ard_parquet_find_leaf(pq, "MASK.list.element") >= 0);
    ard_parquet_close(pq);
    ard_plan_free(plan);
}

static long file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* subset.MASK.npy: '|u1', rows x width, every byte equal to the generator's MASK (in plan order).
 */
static void check_npy_mask(ti_env *env, const ard_plan *plan, int64_t rows) {
    char path[420];
    snprintf(path, sizeof path, "%s/subset.MASK.npy", env->dir);
    assert_int_equal(file_size(path), 128 + rows * env->gen.width);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char head[129] = {0};
    assert_int_equal(fread(head, 1, 128, fp), 128);
    assert_non_null(strstr(head + 10, "'descr': '|u1'"));
    uint8_t *all = malloc((size_t)(rows * env->gen.width + 1));
    assert_non_null(all);
    assert_int_equal(fread(all, 1, (size_t)(rows * env->gen.width), fp), rows * env->gen.width);
    fclose(fp);
    int64_t at = 0, masked = 0;
    for (int64_t c = 0; c < ard_plan_num_chunks(plan); c++) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(plan, c);
        for (int64_t r = 0; r < ch->num_rows; r++, at++) {
            masked += check_mask(ch->targetids[r], all + at * env->gen.width, env->gen.width);
        }
    }
    assert_int_equal(at, rows);
    assert_true(masked > 0);
    free(all);
}

void test_fetch_npy(void **state) {
    TI_ENV(state);
    ard_plan *plan = plan_for(env, "Z > 2.0");
    char out[400], path[420];
    snprintf(out, sizeof out, "%s/subset.npy", env->dir);
    int64_t rows = 0;
    const char *cols[3] = {"FLUX", "IVAR", "MASK"};
    assert_int_equal(ard_fetch_to_npy(env->dir, plan, cols, 3, 2, out, &rows, NULL), ARD_OK);
    assert_int_equal(rows, ard_plan_num_rows(plan));
    long header = 128;
    assert_int_equal(file_size(out), header + rows * env->gen.width * 4);
    snprintf(path, sizeof path, "%s/subset.IVAR.npy", env->dir);
    assert_int_equal(file_size(path), header + rows * env->gen.width * 4);
    snprintf(path, sizeof path, "%s/subset.TARGETID.npy", env->dir);
    assert_int_equal(file_size(path), header + rows * 8);
    FILE *fp = fopen(out, "rb");
    assert_non_null(fp);
    char head[129] = {0};
    assert_int_equal(fread(head, 1, 128, fp), 128);
    assert_memory_equal(head, "\x93NUMPY\x01\x00", 8);
    char shape[64];
    snprintf(shape, sizeof shape, "'shape': (%lld, %d)", (long long)rows, env->gen.width);
    assert_non_null(strstr(head + 10, shape));
    assert_int_equal(head[127], '\n');
    float first[16];
    assert_int_equal(fread(first, sizeof(float), 16, fp), 16);
    fclose(fp);
    const ard_plan_chunk *ch = ard_plan_chunk_at(plan, 0);
    assert_float_equal(first[0], tgen_flux(ch->targetids[0], 0), 0.0);
    check_npy_mask(env, plan, rows);
    assert_int_equal(ard_fetch_to_npy(env->dir, plan, cols, 2, 2, "x.parquet", NULL, NULL),
                     ARD_EINVAL);
    ard_plan_free(plan);
}

void test_fetch_stale(void **state) {
    TI_ENV(state);
    ard_plan *plan = plan_for(env, "Z > 0.1");
    char path[512], msg[600];
    ti_tile_path(env, 0, path, sizeof path);
    tgen_opts shifted = env->gen;
    assert_int_equal(tgen_write_tile(path, 5, &shifted, msg, sizeof msg), 0); /* other TARGETIDs */
    char out[400];
    snprintf(out, sizeof out, "%s/stale.parquet", env->dir);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_fetch_to_parquet(env->dir, plan, NULL, 0, 2, out, NULL, &err),
                     ARD_ECORRUPT);
    assert_non_null(strstr(err.msg, "stale"));
    assert_int_equal(file_size(out), -1); /* nothing half-written */
    ard_plan_free(plan);
}

static int sum_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    char *out = ctx;
    snprintf(out, 200, "%s|%s|%s", n > 0 && v[0] ? v[0] : "NULL", n > 1 && v[1] ? v[1] : "NULL",
             n > 2 && v[2] ? v[2] : "NULL");
    return 1;
}

void test_write_table(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, 0);
    int64_t ids[4] = {tgen_targetid(0, 0), tgen_targetid(0, 1), tgen_targetid(1, 0), 7};
    double score[4] = {0.5, 1.5, NAN, 4.0};
    const char *label[4] = {"ok", NULL, "it's \"odd\"\ttab", "x"};
    ard_index_column cols[3] = {{"targetid", ARD_INDEX_INT64, ids, NULL},
                                {"score", ARD_INDEX_DOUBLE, score, NULL},
                                {"label", ARD_INDEX_TEXT, label, NULL}};
    ard_error err;
    ard_error_init(&err);
    if (ard_index_write_table(idx, "anomalies", cols, 3, 4, ARD_INDEX_REPLACE, &err) != ARD_OK) {
        fail_msg("write_table: %s", err.msg);
    }
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM anomalies"), 4);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM anomalies WHERE score IS NULL"), 1);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM anomalies WHERE label IS NULL"), 1);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM anomalies a JOIN galaxies g"
                                 " ON g.targetid = a.targetid"),
                     3);
    char text[200];
    assert_int_equal(
        ard_index_select(idx,
                         "SELECT label, targetid, score FROM anomalies WHERE "
                         "targetid = (SELECT targetid FROM anomalies WHERE score IS NULL)",
                         sum_row, text, NULL),
        ARD_OK);
    char want[200];
    snprintf(want, sizeof want, "it's \"odd\"\ttab|%lld|NULL", (long long)tgen_targetid(1, 0));
    assert_string_equal(text, want);
    /* results join the plan: spectra of the anomalies */
    ard_plan *plan = NULL;
    assert_int_equal(ard_index_query(idx,
                                     "targetid IN (SELECT targetid FROM anomalies WHERE score > 1)",
                                     0, &plan, NULL),
                     ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), 1);
    ard_plan_free(plan);
    assert_int_equal(ard_index_write_table(idx, "anomalies", cols, 3, 2, ARD_INDEX_APPEND, NULL),
                     ARD_OK);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM anomalies"), 6);
    assert_int_equal(ard_index_write_table(idx, "anomalies", cols, 2, 1, ARD_INDEX_REPLACE, NULL),
                     ARD_OK);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM anomalies"), 1);
    assert_int_equal(ard_index_write_table(idx, "galaxies", cols, 3, 4, ARD_INDEX_REPLACE, NULL),
                     ARD_EPERM);
    assert_int_equal(ard_index_write_table(idx, "x;drop", cols, 3, 4, ARD_INDEX_REPLACE, NULL),
                     ARD_EINVAL);
    ard_index_column badcol = {"a b", ARD_INDEX_INT64, ids, NULL};
    assert_int_equal(ard_index_write_table(idx, "groups", &badcol, 1, 4, ARD_INDEX_REPLACE, NULL),
                     ARD_EINVAL);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies"), 230);
    ard_index_close(idx);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ard_index_write_table(idx, "groups", cols, 3, 4, ARD_INDEX_REPLACE, NULL),
                     ARD_EPERM);
    ard_index_close(idx);
}

static void plan_json(ard_index *idx, const char *where, ard_buf *out) {
    ard_plan *plan = NULL;
    assert_int_equal(ard_index_query(idx, where, 0, &plan, NULL), ARD_OK);
    ard_buf_init(out);
    ard_plan_to_json(plan, out, 0);
    ard_plan_free(plan);
}

/* On PostgreSQL: the same dataset indexed into SQLite gives byte-identical plans. On SQLite: the
 * predicate plan equals the point look-up plan of its own TARGETIDs. */
void test_same_answers(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    static const char *const wheres[] = {"Z > 2.5", "Z > 2.5 AND SPECTYPE = 'QSO'", "ZWARN = 0",
                                         "TARGET_RA BETWEEN 10 AND 200", ""};
    ard_index *a = ti_open(env, ARD_INDEX_READ_ONLY);
    ard_index *b = NULL;
    if (env->pg) {
        ti_env lite = *env;
        lite.dsn = NULL;
        lite.pg = 0;
        ti_sync(&lite, NULL, &rep);
        b = ti_open(&lite, ARD_INDEX_READ_ONLY);
        assert_string_equal(ard_index_backend(a), "postgresql");
        assert_string_equal(ard_index_backend(b), "sqlite");
        assert_int_equal(ard_index_concurrent_writers(a), 1);
        assert_int_equal(ard_index_concurrent_writers(b), 0);
    }
    for (size_t i = 0; i < sizeof wheres / sizeof wheres[0]; i++) {
        ard_buf x, y;
        plan_json(a, wheres[i], &x);
        if (b) {
            plan_json(b, wheres[i], &y);
        } else {
            ard_plan *plan = NULL;
            assert_int_equal(ard_index_query(a, wheres[i], 0, &plan, NULL), ARD_OK);
            ard_plan *by_id = NULL;
            int64_t n = ard_plan_num_rows(plan);
            int64_t *ids = malloc((size_t)(n + 1) * sizeof *ids);
            for (int64_t c = 0, at = 0; c < ard_plan_num_chunks(plan); c++) {
                const ard_plan_chunk *ch = ard_plan_chunk_at(plan, c);
                memcpy(ids + at, ch->targetids, (size_t)ch->num_rows * sizeof *ids);
                at += ch->num_rows;
            }
            assert_int_equal(ard_index_query_targetids(a, ids, n, &by_id, NULL), ARD_OK);
            ard_buf_init(&y);
            ard_plan_to_json(by_id, &y, 0);
            ard_plan_free(by_id);
            ard_plan_free(plan);
            free(ids);
        }
        assert_true(x.len > 20);
        assert_int_equal(x.len, y.len);
        assert_memory_equal(x.data, y.data, x.len);
        ard_buf_reset(&x);
        ard_buf_reset(&y);
    }
    ard_index_close(a);
    ard_index_close(b);
}
