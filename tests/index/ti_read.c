/* Typed index reads (ard_index_read_columns / _read_targetids / _select_columns / ard_index_tables)
 * against the generator's truth and against the text path of SQL, on whichever backend the
 * fixture runs: NULLs, NaN (PostgreSQL can hold one), text. */
#include "ti.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The SQL text path: every row of `sql` as strings (NULL kept). */
typedef struct text_rows {
    int64_t n;
    int32_t ncols;
    char **cells; /* n * ncols */
} text_rows;

static int collect(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    text_rows *t = ctx;
    t->ncols = n;
    t->cells = realloc(t->cells, (size_t)(t->n + 1) * (size_t)n * sizeof *t->cells);
    assert_non_null(t->cells);
    for (int32_t c = 0; c < n; c++) {
        t->cells[t->n * n + c] = v[c] ? strdup(v[c]) : NULL;
    }
    t->n++;
    return 0;
}

static void text_rows_reset(text_rows *t) {
    for (int64_t i = 0; i < t->n * t->ncols; i++) {
        free(t->cells[i]);
    }
    free(t->cells);
    memset(t, 0, sizeof *t);
}

static void select_text(ard_index *idx, const char *sql, text_rows *out) {
    memset(out, 0, sizeof *out);
    ard_error err;
    ard_error_init(&err);
    if (ard_index_select(idx, sql, collect, out, &err) != ARD_OK) {
        fail_msg("select %s: %s", sql, err.msg);
    }
}

/* Tamper: NULLs in a double and a text column, a NaN where the backend can hold one. */
static void tamper(ti_env *env, int64_t *nan_id) {
    ti_raw_sql(env, "UPDATE galaxies SET z = NULL, spectype = NULL WHERE targetid % 11 = 3");
    ti_raw_sql(env, "UPDATE galaxies SET spectype = 'tab\there' WHERE targetid % 11 = 4");
    *nan_id = -1;
    if (env->pg) {
        ti_raw_sql(env, "UPDATE galaxies SET z = 'NaN' WHERE targetid = (SELECT min(targetid) "
                        "FROM galaxies WHERE targetid % 11 = 5)");
    }
}

/* Column c of set equals column c of the text rows (exact doubles: the SQL text is exact). */
static void assert_same(const ard_column_set *set, const text_rows *t) {
    assert_int_equal(ard_column_set_num_rows(set), t->n);
    assert_int_equal(ard_column_set_num_columns(set), t->ncols);
    for (int32_t c = 0; c < t->ncols; c++) {
        const ard_index_column *col = ard_column_set_column(set, c);
        assert_non_null(col->validity);
        for (int64_t r = 0; r < t->n; r++) {
            const char *cell = t->cells[r * t->ncols + c];
            assert_int_equal(ard_column_set_valid(set, c, r), cell != NULL);
            if (!cell) {
                if (col->type == ARD_INDEX_DOUBLE) {
                    assert_true(isnan(((const double *)col->values)[r]));
                } else if (col->type == ARD_INDEX_TEXT) {
                    assert_null(((const char *const *)col->values)[r]);
                }
                continue;
            }
            if (col->type == ARD_INDEX_INT64) {
                assert_int_equal(((const int64_t *)col->values)[r], strtoll(cell, NULL, 10));
            } else if (col->type == ARD_INDEX_DOUBLE) {
                double want = strtod(cell, NULL), got = ((const double *)col->values)[r];
                assert_true(isnan(want) ? isnan(got) : memcmp(&want, &got, 8) == 0);
            } else {
                assert_string_equal(((const char *const *)col->values)[r], cell);
            }
        }
    }
}

void test_read_columns(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    int64_t nan_id;
    tamper(env, &nan_id);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    ard_error err;
    ard_error_init(&err);
    const char *cols[] = {"TARGETID", "z", "Spectype", "zwarn", "target_ra"};
    ard_column_set *set = NULL;
    assert_int_equal(ard_index_read_columns(idx, cols, 5, "zwarn = 0 OR z IS NULL", 0, &set, &err),
                     ARD_OK);
    /* the SQL text path: SQLite renders a REAL exactly only through quote() */
    int lite = strcmp(ard_index_backend(idx), "sqlite") == 0;
    text_rows t;
    select_text(idx,
                lite ? "SELECT targetid, CASE WHEN z IS NULL THEN NULL ELSE quote(z) END, spectype,"
                       " zwarn, quote(target_ra) FROM galaxies WHERE zwarn = 0 OR z IS NULL"
                       " ORDER BY targetid"
                     : "SELECT targetid, z, spectype, zwarn, target_ra FROM galaxies"
                       " WHERE zwarn = 0 OR z IS NULL ORDER BY targetid",
                &t);
    assert_true(t.n > 50);
    assert_same(set, &t);
    assert_string_equal(ard_column_set_column(set, 0)->name, "targetid");
    assert_string_equal(ard_column_set_column(set, 2)->name, "spectype");
    assert_int_equal(ard_column_set_find(set, "SPECTYPE"), 2);
    assert_int_equal(ard_column_set_find(set, "flux_g"), -1);
    /* against the generator: Z bit-exact, NULL where tampered, NaN valid on PostgreSQL */
    const int64_t *tid = ard_column_set_column(set, 0)->values;
    const double *z = ard_column_set_column(set, 1)->values;
    const char *const *spectype = ard_column_set_column(set, 2)->values;
    int64_t nulls = 0, nans = 0, tabs = 0;
    for (int64_t r = 0; r < ard_column_set_num_rows(set); r++) {
        if (tid[r] % 11 == 3) {
            assert_false(ard_column_set_valid(set, 1, r));
            assert_null(spectype[r]);
            nulls++;
        } else if (isnan(z[r])) {
            assert_true(env->pg);
            assert_true(ard_column_set_valid(set, 1, r)); /* NaN is a value, not NULL */
            nans++;
        } else {
            double want = tgen_z(tid[r]);
            assert_memory_equal(&z[r], &want, 8);
            if (tid[r] % 11 == 4) {
                assert_string_equal(spectype[r], "tab\there");
                tabs++;
            } else {
                assert_string_equal(spectype[r], tgen_spectype(tid[r]));
            }
        }
    }
    assert_true(nulls > 0 && tabs > 0);
    assert_int_equal(nans, env->pg ? 1 : 0);
    text_rows_reset(&t);

    /* by TARGETID: input order, repeats, unknown ids -> NULL rows */
    int64_t n = ard_column_set_num_rows(set);
    int64_t ids[7] = {tid[n - 1], 999999999, tid[0], tid[n / 2], tid[0], -5, tid[1]};
    ard_column_set *by_id = NULL;
    assert_int_equal(ard_index_read_targetids(idx, cols, 5, ids, 7, &by_id, &err), ARD_OK);
    assert_int_equal(ard_column_set_num_rows(by_id), 7);
    const int64_t *tid2 = ard_column_set_column(by_id, 0)->values;
    const double *z2 = ard_column_set_column(by_id, 1)->values;
    int64_t rows_of[7] = {n - 1, -1, 0, n / 2, 0, -1, 1};
    for (int32_t i = 0; i < 7; i++) {
        if (rows_of[i] < 0) {
            for (int32_t c = 0; c < 5; c++) {
                assert_false(ard_column_set_valid(by_id, c, i));
            }
            assert_true(isnan(z2[i]));
            continue;
        }
        assert_int_equal(tid2[i], ids[i]);
        assert_int_equal(ard_column_set_valid(by_id, 1, i),
                         ard_column_set_valid(set, 1, rows_of[i]));
        assert_memory_equal(&z2[i], &z[rows_of[i]], 8);
    }
    ard_column_set_free(by_id);
    by_id = NULL;
    assert_int_equal(ard_index_read_targetids(idx, cols, 1, ids, 0, &by_id, &err), ARD_OK);
    assert_int_equal(ard_column_set_num_rows(by_id), 0);
    ard_column_set_free(by_id);
    ard_column_set_free(set);

    /* limit, and the whole catalog without a predicate */
    assert_int_equal(ard_index_read_columns(idx, cols, 1, NULL, 10, &set, &err), ARD_OK);
    assert_int_equal(ard_column_set_num_rows(set), 10);
    ard_column_set_free(set);
    assert_int_equal(ard_index_read_columns(idx, cols, 1, "", 0, &set, &err), ARD_OK);
    assert_int_equal(ard_column_set_num_rows(set), ti_int(idx, "SELECT count(*) FROM galaxies"));
    ard_column_set_free(set);
    ard_index_close(idx);
}

void test_read_columns_errors(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, 0);
    ard_column_set *set = (ard_column_set *)&rep; /* must become NULL */
    const char *good[] = {"z"};
    const char *unknown[] = {"z", "nope"};
    const char *twice[] = {"z", "Z"};
    const char *inject[] = {"z FROM files --"};
    int64_t id = 1;
    assert_int_equal(ard_index_read_columns(idx, unknown, 2, NULL, 0, &set, NULL), ARD_EINVAL);
    assert_null(set);
    assert_int_equal(ard_index_read_columns(idx, twice, 2, NULL, 0, &set, NULL), ARD_EINVAL);
    assert_int_equal(ard_index_read_columns(idx, inject, 1, NULL, 0, &set, NULL), ARD_EINVAL);
    assert_int_equal(ard_index_read_columns(idx, good, 0, NULL, 0, &set, NULL), ARD_EINVAL);
    assert_int_equal(
        ard_index_read_columns(idx, good, 1, "1=1; DROP TABLE galaxies", 0, &set, NULL), ARD_EPERM);
    assert_int_equal(ard_index_read_columns(idx, good, 1, "z > 1 -- c", 0, &set, NULL), ARD_EINVAL);
    assert_int_equal(ard_index_read_columns(idx, good, 1, "no_such_column > 1", 0, &set, NULL),
                     ARD_EDB);
    assert_null(set);
    assert_int_equal(ard_index_read_targetids(idx, unknown, 2, &id, 1, &set, NULL), ARD_EINVAL);
    assert_int_equal(ard_index_read_targetids(idx, good, 1, NULL, 3, &set, NULL), ARD_EINVAL);
    assert_int_equal(ard_index_read_targetids(idx, good, 1, &id, -1, &set, NULL), ARD_EINVAL);
    int32_t types[] = {ARD_INDEX_INT64};
    assert_int_equal(
        ard_index_select_columns(idx, "SELECT spectype FROM galaxies", types, 1, &set, NULL),
        ARD_EINVAL); /* text into int64 */
    assert_int_equal(
        ard_index_select_columns(idx, "SELECT z, zwarn FROM galaxies", types, 1, &set, NULL),
        ARD_EINVAL); /* two columns for one type */
    assert_int_equal(ard_index_select_columns(idx, "DELETE FROM galaxies", types, 1, &set, NULL),
                     ARD_EPERM);
    assert_null(set);
    assert_true(ti_int(idx, "SELECT count(*) FROM galaxies") > 0);
    ard_index_close(idx);
}

void test_select_columns(void **state) {
    ti_env *env = *state;
    if (!env) {
        skip();
    }
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    ard_error err;
    ard_error_init(&err);
    const char *sql = "SELECT spectype, count(*) AS n, sum(zwarn), max(z) AS zmax, min(targetid) "
                      "FROM galaxies GROUP BY spectype ORDER BY spectype";
    int32_t types[] = {ARD_INDEX_TEXT, ARD_INDEX_INT64, ARD_INDEX_INT64, ARD_INDEX_DOUBLE,
                       ARD_INDEX_TEXT};
    ard_column_set *set = NULL;
    assert_int_equal(ard_index_select_columns(idx, sql, types, 5, &set, &err), ARD_OK);
    text_rows t;
    select_text(idx, sql, &t);
    assert_int_equal(ard_column_set_num_rows(set), t.n);
    assert_true(t.n >= 2);
    assert_string_equal(ard_column_set_column(set, 1)->name, "n");
    assert_string_equal(ard_column_set_column(set, 3)->name, "zmax");
    for (int64_t r = 0; r < t.n; r++) {
        assert_string_equal(((const char *const *)ard_column_set_column(set, 0)->values)[r],
                            t.cells[r * 5]);
        assert_int_equal(((const int64_t *)ard_column_set_column(set, 1)->values)[r],
                         strtoll(t.cells[r * 5 + 1], NULL, 10));
        assert_int_equal(((const int64_t *)ard_column_set_column(set, 2)->values)[r],
                         strtoll(t.cells[r * 5 + 2], NULL, 10));
        assert_string_equal(((const char *const *)ard_column_set_column(set, 4)->values)[r],
                            t.cells[r * 5 + 4]); /* an integer rendered as text */
        double zmax = ((const double *)ard_column_set_column(set, 3)->values)[r];
        assert_true(fabs(zmax - strtod(t.cells[r * 5 + 3], NULL)) <= 1e-14 * zmax);
    }
    text_rows_reset(&t);
    ard_column_set_free(set);

    /* ard_index_tables: sorted, lower case, the index's own tables among them */
    assert_int_equal(ard_index_tables(idx, &set, &err), ARD_OK);
    const char *const *names = ard_column_set_column(set, 0)->values;
    int found = 0;
    for (int64_t r = 0; r < ard_column_set_num_rows(set); r++) {
        found += strcmp(names[r], "galaxies") == 0 || strcmp(names[r], "spectra") == 0;
        if (r > 0) {
            assert_true(strcmp(names[r - 1], names[r]) < 0);
        }
    }
    assert_int_equal(found, 2);
    ard_column_set_free(set);
    ard_index_close(idx);
}
