/* The fresh load of spectra (sync_fresh.c: rows buffered, sorted, appended once in one outer
 * transaction) against the incremental path (rows written window by window into a non-empty
 * table): the same rows, row for row, with TARGETIDs duplicated across files; then changes and
 * removals after a fresh load, including a file whose rows must be found by a scan (no stored
 * row_groups.targetids, as an index synced before schema 5 has). */
#include "ti.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TI_ENV(state)                                                                              \
    ti_env *env = *(state);                                                                        \
    if (!env) {                                                                                    \
        skip();                                                                                    \
    }

/* Every spectra row as (targetid, path, row_group, row_index) in key order, folded into a digest
 * (file ids differ between the two paths; paths do not). */
typedef struct rows_digest {
    int64_t rows;
    uint64_t hash;
} rows_digest;

static int digest_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    rows_digest *d = ctx;
    for (int32_t c = 0; c < n; c++) {
        for (const char *p = v[c] ? v[c] : "<null>"; *p; p++) {
            d->hash = (d->hash ^ (uint8_t)*p) * 1099511628211ull;
        }
        d->hash = (d->hash ^ '|') * 1099511628211ull;
    }
    d->rows++;
    return 0;
}

static rows_digest spectra_digest(ti_env *env) {
    rows_digest d = {0, 1469598103934665603ull};
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ard_index_select(idx,
                                      "SELECT s.targetid, f.path, s.row_group, s.row_index"
                                      " FROM spectra s JOIN files f ON f.id = s.file_id"
                                      " ORDER BY s.targetid, f.path, s.row_group, s.row_index",
                                      digest_row, &d, NULL),
                     ARD_OK);
    int64_t bad = -1;
    assert_int_equal(ard_index_check(idx, &bad, NULL), ARD_OK);
    assert_int_equal(bad, 0);
    /* the stored linkage (set by the fresh load, by deltas or by a recount) is the true one */
    assert_int_equal(ti_int(idx, "SELECT CAST(value AS BIGINT) FROM meta"
                                 " WHERE key = 'linkage_distinct_spectra'"),
                     ti_int(idx, "SELECT count(DISTINCT targetid) FROM spectra"));
    assert_int_equal(ti_int(idx, "SELECT COALESCE(sum(without_spectrum), 0) FROM catalog_linkage"),
                     ti_int(idx, "SELECT count(*) FROM galaxies g WHERE NOT EXISTS"
                                 " (SELECT 1 FROM spectra s WHERE s.targetid = g.targetid)"));
    ard_index_close(idx);
    return d;
}

/* Hides (hide = 1) or brings back tiles first.. of the dataset. */
static void hide_tiles(ti_env *env, int32_t first, int32_t last, int hide) {
    for (int32_t t = first; t <= last; t++) {
        char path[512], aside[530];
        ti_tile_path(env, t, path, sizeof path);
        snprintf(aside, sizeof aside, "%s.aside", path);
        assert_int_equal(hide ? rename(path, aside) : rename(aside, path), 0);
    }
}

void test_fresh_same(void **state) {
    TI_ENV(state);
    char path[512], msg[600];
    /* tiles 4 and 5 hold tile 0's and tile 1's rows: TARGETIDs in two files each */
    ti_tile_path(env, 4, path, sizeof path);
    assert_int_equal(tgen_write_tile(path, 0, &env->gen, msg, sizeof msg), 0);
    ti_tile_path(env, 5, path, sizeof path);
    assert_int_equal(tgen_write_tile(path, 1, &env->gen, msg, sizeof msg), 0);
    ard_sync_report rep;
    ard_sync_options o = {0};
    o.quiet = 1;
    o.files_per_txn = 2; /* several windows inside the fresh load */
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.spectra_rows, 6 * env->gen.rows);
    rows_digest fresh = spectra_digest(env);
    assert_int_equal(fresh.rows, 6 * env->gen.rows);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(DISTINCT targetid) FROM spectra"),
                     4 * env->gen.rows);
    ard_index_close(idx);

    /* the same dataset through the incremental path: one tile first, then the rest into a
     * non-empty spectra table */
    ti_drop_index(env);
    hide_tiles(env, 1, 5, 1);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.spectra_rows, env->gen.rows);
    hide_tiles(env, 1, 5, 0);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_added, 5);
    rows_digest incremental = spectra_digest(env);
    assert_int_equal(incremental.rows, fresh.rows);
    assert_true(incremental.hash == fresh.hash);
}

void test_fresh_then_change(void **state) {
    TI_ENV(state);
    char path[512], msg[600];
    ti_tile_path(env, 4, path, sizeof path);
    assert_int_equal(tgen_write_tile(path, 0, &env->gen, msg, sizeof msg), 0); /* duplicates */
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.spectra_rows, 5 * env->gen.rows);
    /* tile 3's rows must be found by a scan: no stored TARGETIDs (an index from before schema 5) */
    ti_tile_path(env, 3, path, sizeof path);
    char sql[700];
    snprintf(sql, sizeof sql,
             "UPDATE row_groups SET targetids = NULL WHERE file_id IN"
             " (SELECT id FROM files WHERE path LIKE '%%%s')",
             strrchr(path, '/') + 1);
    ti_raw_sql(env, sql);
    tgen_opts smaller = env->gen;
    smaller.rows = 30;
    ti_tile_path(env, 0, path, sizeof path); /* changed: tile 4 still holds its old TARGETIDs */
    assert_int_equal(tgen_write_tile(path, 0, &smaller, msg, sizeof msg), 0);
    ti_tile_path(env, 3, path, sizeof path); /* changed, found by the scan */
    assert_int_equal(tgen_write_tile(path, 3, &smaller, msg, sizeof msg), 0);
    ti_tile_path(env, 2, path, sizeof path); /* removed */
    assert_int_equal(unlink(path), 0);
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_changed, 2);
    assert_int_equal(rep.files_removed, 1);
    rows_digest after = spectra_digest(env); /* check + linkage asserted inside */
    assert_int_equal(after.rows, 30 + 50 + 30 + 50);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    /* no row of the removed file, none of the old versions */
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM spectra WHERE file_id NOT IN"
                                 " (SELECT id FROM files)"),
                     0);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM spectra s JOIN files f ON f.id = s.file_id"
                                 " GROUP BY f.id ORDER BY count(*) LIMIT 1"),
                     30);
    /* tile 0's first 30 TARGETIDs are in two files, its last 20 only in tile 4 */
    int64_t tid = tgen_targetid(0, 10);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM spectra WHERE targetid = %lld", (long long)tid);
    assert_int_equal(ti_int(idx, sql), 2);
    tid = tgen_targetid(0, 40);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM spectra WHERE targetid = %lld", (long long)tid);
    assert_int_equal(ti_int(idx, sql), 1);
    ard_index_close(idx);

    /* the same end state built fresh from scratch holds the same rows */
    ti_drop_index(env);
    ti_sync(env, NULL, &rep);
    rows_digest fresh = spectra_digest(env);
    assert_int_equal(fresh.rows, after.rows);
    assert_true(fresh.hash == after.hash);
}
