/* Broad plans from row_groups.targetids (plan_scan.c) against the per-spectrum plan (the spectra
 * table through its TARGETID index, ard_index_query_targetids) on adversarial selections: none,
 * every spectrum, every other row, the first and last row of every row group, one random subset;
 * then the same after a row group lost its TARGETIDs or has damaged ones (the scan must give way
 * to the spectra table, never answer wrongly); and the TARGETID text codec itself. */
#include "ti.h"

#include "index_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ids {
    int64_t *v;
    int64_t n, cap;
} ids;

static int collect(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    ids *l = ctx;
    if (n >= 1 && v[0] && l->n < l->cap) {
        l->v[l->n++] = strtoll(v[0], NULL, 10);
    }
    return 0;
}

static void plan_text(const ard_plan *p, ard_buf *out) {
    ard_buf_init(out);
    ard_plan_format(p, out);
    assert_false(out->failed);
}

/* ard_index_query(where) == the point look-ups of the TARGETIDs it selects, byte for byte. */
static int64_t check_same(ard_index *idx, const char *where) {
    ids sel = {test_malloc(4096 * sizeof(int64_t)), 0, 4096};
    char sql[8192];
    snprintf(sql, sizeof sql, "SELECT targetid FROM %s", where ? "galaxies WHERE " : "spectra");
    if (where) {
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "%s", where);
    }
    assert_int_equal(ard_index_select(idx, sql, collect, &sel, NULL), ARD_OK);
    ard_plan *fast = NULL, *ref = NULL;
    ard_error err;
    ard_error_init(&err);
    if (ard_index_query(idx, where, 0, &fast, &err) != ARD_OK) {
        fail_msg("query %s: %s", where ? where : "(all)", err.msg);
    }
    assert_int_equal(ard_index_query_targetids(idx, sel.v, sel.n, &ref, NULL), ARD_OK);
    ard_buf a, b;
    plan_text(fast, &a);
    plan_text(ref, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    int64_t rows = ard_plan_num_rows(fast);
    ard_buf_reset(&a);
    ard_buf_reset(&b);
    ard_plan_free(fast);
    ard_plan_free(ref);
    test_free(sel.v);
    return rows;
}

/* "targetid IN (...)" of the spectra at rows where keep(row, rows of its row group) holds. */
static void in_list(ard_index *idx, int (*keep)(int64_t, int64_t, uint64_t *), char *out,
                    size_t cap) {
    ard_plan *all = NULL;
    assert_int_equal(ard_index_query(idx, NULL, 0, &all, NULL), ARD_OK);
    size_t len = (size_t)snprintf(out, cap, "targetid IN (-1");
    uint64_t seed = 99;
    for (int64_t c = 0; c < ard_plan_num_chunks(all); c++) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(all, c);
        for (int64_t r = 0; r < ch->num_rows; r++) {
            if (keep(ch->rows[r], ch->num_rows, &seed)) {
                len += (size_t)snprintf(out + len, cap - len, ",%lld", (long long)ch->targetids[r]);
                assert_true(len < cap - 2);
            }
        }
    }
    snprintf(out + len, cap - len, ")");
    ard_plan_free(all);
}

static int every_other(int64_t row, int64_t n, uint64_t *seed) {
    (void)n;
    (void)seed;
    return row % 2 == 1;
}

static int first_last(int64_t row, int64_t n, uint64_t *seed) {
    (void)seed;
    return row == 0 || row == n - 1;
}

static int random_subset(int64_t row, int64_t n, uint64_t *seed) {
    (void)row;
    (void)n;
    *seed = *seed * 6364136223846793005u + 1442695040888963407u;
    return (*seed >> 61) < 3;
}

static void check_all_selections(ti_env *env) {
    static char list[3][8192];
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    int64_t total = check_same(idx, NULL);
    assert_int_equal(total, (int64_t)env->gen.tiles * env->gen.rows);
    assert_int_equal(check_same(idx, "Z > 100"), 0);
    assert_true(check_same(idx, "Z > 0.5") > 0);
    in_list(idx, every_other, list[0], sizeof list[0]);
    in_list(idx, first_last, list[1], sizeof list[1]);
    in_list(idx, random_subset, list[2], sizeof list[2]);
    assert_true(check_same(idx, list[0]) > 0);
    assert_true(check_same(idx, list[1]) > 0);
    assert_true(check_same(idx, list[2]) > 0);
    ard_index_close(idx);
}

void test_plan_scan_same(void **state) {
    TI_ENV(state);
    /* (tiles of 50 rows in row groups of 16, 16, 16, 2: uneven) */
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM row_groups r JOIN files f ON f.id ="
                                 " r.file_id WHERE f.kind = 'tile' AND r.targetids IS NULL"),
                     0);
    ard_index_close(idx);
    check_all_selections(env);
    /* a row group without TARGETIDs (an index migrated but not re-synced): the spectra table */
    ti_raw_sql(env, "UPDATE row_groups SET targetids = NULL WHERE row_group = 1 AND file_id ="
                    " (SELECT max(id) FROM files WHERE kind = 'tile')");
    check_all_selections(env);
    /* damaged TARGETIDs (one too few; not a number): never trusted */
    ti_raw_sql(env, "UPDATE row_groups SET targetids = '5' WHERE row_group = 0"); /* 16 rows */
    check_all_selections(env);
    ti_raw_sql(env, "UPDATE row_groups SET targetids = 'x,y' WHERE row_group = 0");
    check_all_selections(env);
    /* the next sync after a migration to schema 5 re-reads every file and fills them again */
    ti_raw_sql(env, "UPDATE files SET footer_hash = NULL, mtime_ns = -1");
    ti_sync(env, NULL, &rep);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM row_groups r JOIN files f ON f.id ="
                                 " r.file_id WHERE f.kind = 'tile' AND r.targetids IS NULL"),
                     0);
    ard_index_close(idx);
    check_all_selections(env);
}

static void round_trip(const int64_t *v, int64_t n) {
    ard_buf b;
    ard_buf_init(&b);
    ard__rg_targetids_encode(&b, v, n);
    int64_t back[16] = {0};
    assert_int_equal(ard__rg_targetids_decode((const char *)b.data, b.len, back, n), 0);
    assert_memory_equal(back, v, (size_t)n * sizeof *v);
    if (n > 0) { /* one id fewer or more than the text holds */
        assert_int_equal(ard__rg_targetids_decode((const char *)b.data, b.len, back, n - 1), -1);
    }
    assert_int_equal(ard__rg_targetids_decode((const char *)b.data, b.len, back, n + 1), -1);
    ard_buf_reset(&b);
}

void test_rg_targetids_codec(void **state) {
    (void)state;
    const int64_t sorted[] = {39627000100024, 39627000100025, 39627000100033, 39627000109999};
    const int64_t wild[] = {INT64_MAX, INT64_MIN, 0, -1, INT64_MAX, INT64_MIN + 1, 7, 7, -7};
    round_trip(sorted, 4);
    round_trip(wild, 9);
    round_trip(wild, 1);
    round_trip(wild + 1, 1);
    round_trip(NULL, 0);
    ard_buf b;
    ard_buf_init(&b);
    ard__rg_targetids_encode(&b, sorted, 4);
    ard_buf_append(&b, "", 1);
    assert_string_equal((const char *)b.data, "39627000100024,1,8,9966");
    ard_buf_reset(&b);
    static const char *const bad[] = {
        "",     "1,",  ",1",
        "1,,2", "1;2", "1,2 ",
        "-",    "1,-", "99999999999999999999", /* 20 digits */
        "1,x",  "+1",
    };
    int64_t out[4];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t n = strchr(bad[i], ',') || strchr(bad[i], ';') ? 2 : 1;
        assert_int_equal(ard__rg_targetids_decode(bad[i], strlen(bad[i]), out, n), -1);
    }
}
