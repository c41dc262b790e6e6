/* Unit tests of the index module: sync (fresh, idempotent without data reads, incremental, corrupt
 * tiles, partitions), consistency check, schema versions, queries checked against the generator's
 * truth, and the read-only guards. Every test runs on SQLite and, when a server is given
 * (index_pg.sh), on PostgreSQL with the same assertions. */
#include "ti.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

static int64_t total_spectra(const ti_env *env) {
    return (int64_t)env->gen.tiles * env->gen.rows;
}

static void test_sync_fresh(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_seen, 6);
    assert_int_equal(rep.files_added, 6);
    assert_int_equal(rep.files_failed, 0);
    assert_int_equal(rep.spectra_rows, total_spectra(env));
    assert_int_equal(rep.galaxy_rows, total_spectra(env) + env->gen.extra_galaxies);
    assert_true(rep.data_reads > 0);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM spectra"), 200);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies"), 230);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM row_groups WHERE file_id IN "
                                 "(SELECT id FROM files WHERE kind = 'tile')"),
                     4 * 3);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies WHERE spectype IS NULL"), 0);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies WHERE flux_g IS NOT NULL"), 0);
    assert_int_equal(ti_int(idx, "SELECT max(targetid_max) FROM row_groups"), tgen_targetid(3, 49));
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM column_stats WHERE column_name = 'FLUX'"
                                 " AND null_count > 0"),
                     ti_int(idx, "SELECT count(*) FROM column_stats WHERE column_name = 'FLUX'"
                                 " AND null_count > 0"));
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM sync_runs WHERE status = 'ok'"), 1);
    assert_int_equal(ti_int(idx, "SELECT files_added FROM sync_runs"), 6);
    /* column_stats is one bulk load per window: every file of the window has its rows */
    assert_int_equal(ti_int(idx, "SELECT count(DISTINCT file_id) FROM column_stats"), 6);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM column_stats WHERE file_id NOT IN"
                                 " (SELECT id FROM files)"),
                     0);
    /* the secondary index dropped for the fresh load was built again (sync.c build_indexes);
     * spectra has none on SQLite since schema 6 (one b-tree keyed by targetid), and on
     * PostgreSQL since schema 7 the b-tree on targetid that keys its heap (no primary key) */
    int sqlite = strcmp(ard_index_backend(idx), "sqlite") == 0;
    assert_int_equal(ti_int(idx, sqlite ? "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                          " AND name IN ('spectra_targetid', 'galaxies_z_tid')"
                                        : "SELECT count(*) FROM pg_indexes WHERE indexname IN"
                                          " ('spectra_targetid', 'galaxies_z_tid')"),
                     sqlite ? 1 : 2);
    int64_t bad = -1;
    assert_int_equal(ard_index_check(idx, &bad, NULL), ARD_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(ard_index_schema_version(idx), ARD_INDEX_SCHEMA_VERSION);
    ard_index_close(idx);
}

static void test_sync_idempotent(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_seen, 6);
    assert_int_equal(rep.files_unchanged, 6);
    assert_int_equal(rep.files_added + rep.files_changed + rep.files_removed + rep.files_failed, 0);
    assert_int_equal(rep.data_reads, 0);   /* no data page was read ... */
    assert_int_equal(rep.footer_reads, 0); /* ... nor even a footer */
    assert_int_equal(rep.spectra_rows, 0);
    /* verify mode hashes footers but still reads no data */
    ard_sync_options o = {0};
    o.quiet = 1;
    o.verify_footers = 1;
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_unchanged, 6);
    assert_int_equal(rep.footer_reads, 6);
    assert_int_equal(rep.data_reads, 0);
    /* touching a file (new mtime, same bytes) costs one footer hash, no data */
    char path[512];
    ti_tile_path(env, 1, path, sizeof path);
    struct utimbuf t = {1700000000, 1700000000};
    assert_int_equal(utime(path, &t), 0);
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_unchanged, 6);
    assert_int_equal(rep.footer_reads, 1);
    assert_int_equal(rep.data_reads, 0);
    ti_sync(env, NULL, &rep); /* the new mtime was remembered */
    assert_int_equal(rep.footer_reads, 0);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM spectra"), 200);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM sync_runs"), 5);
    ard_index_close(idx);
}

static void test_sync_incremental(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    char path[512], msg[600];
    tgen_opts smaller = env->gen;
    smaller.rows = 30;
    ti_tile_path(env, 1, path, sizeof path);
    assert_int_equal(tgen_write_tile(path, 1, &smaller, msg, sizeof msg), 0); /* changed */
    ti_tile_path(env, 2, path, sizeof path);
    assert_int_equal(unlink(path), 0); /* vanished */
    ti_tile_path(env, 7, path, sizeof path);
    assert_int_equal(tgen_write_tile(path, 7, &env->gen, msg, sizeof msg), 0); /* new */
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_added, 1);
    assert_int_equal(rep.files_changed, 1);
    assert_int_equal(rep.files_removed, 1);
    assert_int_equal(rep.files_unchanged, 4);
    assert_int_equal(rep.spectra_rows, 80);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM spectra"), 50 + 30 + 50 + 50);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM files WHERE kind = 'tile'"), 4);
    assert_int_equal(ard_index_check(idx, NULL, NULL), ARD_OK);
    ard_index_close(idx);
}

static void test_sync_corrupt(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    char path[512];
    ti_tile_path(env, 2, path, sizeof path);
    assert_int_equal(truncate(path, 300), 0); /* a torn copy */
    ti_tile_path(env, 9, path, sizeof path);  /* and a new file that is not Parquet at all */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && echo garbage > '%s'", path, path);
    assert_int_equal(system(cmd), 0);
    ti_sync(env, NULL, &rep);
    assert_int_equal(rep.files_failed, 2);
    assert_non_null(strstr(rep.first_error, ".parquet"));
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM sync_errors"), 2);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM sync_errors WHERE status = 'ARD_ECORRUPT'"),
                     2);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM spectra"), 150); /* stale rows removed */
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM sync_runs WHERE status = 'partial'"), 1);
    assert_int_equal(ard_index_check(idx, NULL, NULL), ARD_OK);
    ard_index_close(idx);
}

static void test_partition(void **state) {
    (void)state;
    int64_t first, count, covered = 0;
    for (int32_t r = 0; r < 3; r++) {
        assert_int_equal(ard_index_partition(10, r, 3, &first, &count, NULL), ARD_OK);
        assert_int_equal(first, covered);
        covered += count;
        assert_true(count == 3 || count == 4);
    }
    assert_int_equal(covered, 10);
    assert_int_equal(ard_index_partition(10, 3, 3, &first, &count, NULL), ARD_EINVAL);
    assert_int_equal(ard_index_partition(10, 0, 0, &first, &count, NULL), ARD_OK);
    assert_int_equal(count, 10);
}

static void test_sync_partitioned(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ard_sync_options o = {0};
    o.quiet = 1;
    o.size = 2;
    o.rank = 1;
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_seen, 2 + 1); /* half the tiles, half the catalog files */
    o.rank = 0;
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_seen, 3);
    ti_sync(env, NULL, &rep); /* the whole list: nothing left to do */
    assert_int_equal(rep.files_unchanged, 6);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM spectra"), 200);
    ard_index_close(idx);
}

static void test_check_detects(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ti_raw_sql(env, "DELETE FROM spectra WHERE row_index = 7");
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    int64_t bad = 0;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_index_check(idx, &bad, &err), ARD_ECORRUPT);
    assert_true(bad >= 4);
    assert_non_null(strstr(err.msg, "rows in files"));
    ard_index_close(idx);
    ti_raw_sql(env, "UPDATE files SET size = size + 1 WHERE kind = 'tile'");
    ti_sync(env, NULL, &rep); /* a changed size forces a re-read: the index heals */
    assert_int_equal(rep.files_changed, 4);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ard_index_check(idx, &bad, NULL), ARD_OK);
    ard_index_close(idx);
    /* the datasheet's catalog aggregates are checked against the catalog files too */
    ti_raw_sql(env, "UPDATE catalog_summary SET num_rows = num_rows + 1 WHERE spectype = 'GALAXY'");
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    ard_error_init(&err);
    assert_int_equal(ard_index_check(idx, &bad, &err), ARD_ECORRUPT);
    assert_non_null(strstr(err.msg, "in catalog_summary"));
    ard_index_close(idx);
    ti_raw_sql(env, "UPDATE catalog_summary SET num_rows = num_rows - 1 WHERE spectype = 'GALAXY'");
    ti_raw_sql(env, "UPDATE catalog_zhist SET num = num + 1 WHERE z_bin = (SELECT min(z_bin) FROM"
                    " catalog_zhist)");
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    ard_error_init(&err);
    assert_int_equal(ard_index_check(idx, &bad, &err), ARD_ECORRUPT);
    assert_non_null(strstr(err.msg, "in catalog_zhist"));
    ard_index_close(idx);
}

static void test_schema_versions(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ti_raw_sql(env, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    ard_index *idx = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_index_open(env->dir, env->dsn, 0, &idx, &err), ARD_ENOTSUP);
    assert_null(idx);
    assert_non_null(strstr(err.msg, "newer"));
    /* an old version-1 index (no column_stats) is migrated by a writable open */
    ti_raw_sql(env, "UPDATE meta SET value = '1' WHERE key = 'schema_version'");
    ti_raw_sql(env, "DROP TABLE column_stats");
    ard_error_init(&err);
    assert_int_equal(ard_index_open(env->dir, env->dsn, ARD_INDEX_READ_ONLY, &idx, &err),
                     ARD_ENOTSUP);
    assert_non_null(strstr(err.msg, "migrate"));
    idx = ti_open(env, 0);
    assert_int_equal(ard_index_schema_version(idx), ARD_INDEX_SCHEMA_VERSION);
    ard_index_close(idx);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM column_stats"), 0);
    assert_int_equal(ti_int(idx, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     ARD_INDEX_SCHEMA_VERSION);
    ard_index_close(idx);
}

/* ---- queries ---- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* TARGETIDs with spectra whose generator Z exceeds zmin (and spectype = QSO when qso). */
static int64_t truth(const ti_env *env, double zmin, int qso, int64_t *out) {
    int64_t n = 0;
    for (int32_t t = 0; t < env->gen.tiles; t++) {
        for (int32_t r = 0; r < env->gen.rows; r++) {
            int64_t id = tgen_targetid(t, r);
            if (tgen_z(id) > zmin && (!qso || strcmp(tgen_spectype(id), "QSO") == 0)) {
                out[n++] = id;
            }
        }
    }
    return n;
}

static int64_t plan_ids(const ard_plan *plan, int64_t *out) {
    int64_t n = 0;
    for (int64_t c = 0; c < ard_plan_num_chunks(plan); c++) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(plan, c);
        for (int64_t r = 0; r < ch->num_rows; r++) {
            out[n++] = ch->targetids[r];
        }
    }
    qsort(out, (size_t)n, sizeof *out, cmp_i64);
    return n;
}

/* The plan is sorted for sequential reading: files by path, then row group, then row. */
static void assert_plan_sorted(const ard_plan *plan) {
    for (int32_t f = 1; f < ard_plan_num_files(plan); f++) {
        assert_true(strcmp(ard_plan_file(plan, f - 1), ard_plan_file(plan, f)) < 0);
    }
    for (int64_t c = 0; c < ard_plan_num_chunks(plan); c++) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(plan, c);
        if (c > 0) {
            const ard_plan_chunk *p = ard_plan_chunk_at(plan, c - 1);
            assert_true(p->file < ch->file ||
                        (p->file == ch->file && p->row_group < ch->row_group));
        }
        for (int64_t r = 1; r < ch->num_rows; r++) {
            assert_true(ch->rows[r - 1] < ch->rows[r]);
        }
        assert_true(ch->bytes > 0);
    }
}

static void check_query(ti_env *env, ard_index *idx, const char *where, double zmin, int qso) {
    int64_t want[400], got[400];
    int64_t nwant = truth(env, zmin, qso, want);
    ard_plan *plan = NULL;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_index_query(idx, where, 0, &plan, &err);
    if (st != ARD_OK) {
        fail_msg("query %s: %s", where, err.msg);
    }
    assert_true(nwant > 0);
    assert_int_equal(ard_plan_num_rows(plan), nwant);
    int64_t ngot = plan_ids(plan, got);
    assert_int_equal(ngot, nwant);
    assert_memory_equal(got, want, (size_t)nwant * sizeof *got);
    assert_plan_sorted(plan);
    ard_plan_free(plan);
}

static void test_query_truth(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    check_query(env, idx, "Z > 2.5", 2.5, 0);
    check_query(env, idx, "z > 2.5 AND SPECTYPE = 'QSO'", 2.5, 1);
    check_query(env, idx, "Z > 0.5", 0.5, 0);
    /* every spectrum, then a limit: the smallest TARGETIDs */
    ard_plan *plan = NULL;
    assert_int_equal(ard_index_query(idx, NULL, 0, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), 200);
    assert_int_equal(ard_plan_num_files(plan), 4);
    assert_int_equal(ard_plan_num_chunks(plan), 12);
    ard_plan_free(plan);
    assert_int_equal(ard_index_query(idx, "Z >= 0", 5, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), 5);
    const ard_plan_chunk *ch = ard_plan_chunk_at(plan, 0);
    assert_int_equal(ch->targetids[0], tgen_targetid(0, 0));
    assert_int_equal(ch->targetids[4], tgen_targetid(0, 4));
    ard_plan_free(plan);
    /* no match: an empty plan, not an error */
    assert_int_equal(ard_index_query(idx, "Z > 100", 0, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), 0);
    assert_int_equal(ard_plan_num_files(plan), 0);
    ard_plan_free(plan);
    ard_index_close(idx);
}

static void test_query_targetids(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    int64_t ids[6] = {tgen_targetid(3, 10), tgen_targetid(0, 0), 42, tgen_targetid(3, 10),
                      tgen_targetid(1, 49), 39700000000001ll /* catalog only */};
    ard_plan *plan = NULL;
    assert_int_equal(ard_index_query_targetids(idx, ids, 6, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), 3);
    assert_int_equal(ard_plan_num_files(plan), 3);
    assert_plan_sorted(plan);
    int64_t got[3], want[3] = {tgen_targetid(0, 0), tgen_targetid(1, 49), tgen_targetid(3, 10)};
    assert_int_equal(plan_ids(plan, got), 3);
    assert_memory_equal(got, want, sizeof want);
    /* bright/ sorts before dark/: tile 1 (bright, row 49 = row group 2, row 9) comes first */
    const ard_plan_chunk *ch = ard_plan_chunk_at(plan, 0);
    assert_int_equal(ch->targetids[0], tgen_targetid(1, 49));
    assert_int_equal(ch->row_group, 2);
    assert_int_equal(ch->rows[0], 9);
    assert_int_equal(ch->first_row, 40);
    ard_plan_free(plan);
    assert_int_equal(ard_index_query_targetids(idx, ids, 0, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), 0);
    ard_plan_free(plan);
    /* exactly one batch (1000) of distinct ids, then repeats of the last one: no empty batch */
    int64_t many[1005];
    for (int32_t i = 0; i < 800; i++) {
        many[i] = i + 1; /* unknown */
    }
    for (int32_t i = 0; i < 200; i++) {
        many[800 + i] = tgen_targetid(i / 50, i % 50);
    }
    for (int32_t i = 1000; i < 1005; i++) {
        many[i] = tgen_targetid(3, 49);
    }
    ard_error err;
    ard_error_init(&err);
    if (ard_index_query_targetids(idx, many, 1005, &plan, &err) != ARD_OK) {
        fail_msg("1005 look-ups: %s", err.msg);
    }
    assert_int_equal(ard_plan_num_rows(plan), 200);
    ard_plan_free(plan);
    ard_index_close(idx);
}

static void expect_refused(ard_index *idx, const char *where, ard_status want) {
    ard_plan *plan = NULL;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_index_query(idx, where, 0, &plan, &err);
    if (st != want) {
        fail_msg("predicate %s: got %s (%s), want %s", where, ard_status_name(st), err.msg,
                 ard_status_name(want));
    }
    assert_null(plan);
    assert_true(err.msg[0] != '\0');
}

static void expect_select_refused(ard_index *idx, const char *sql) {
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_index_select(idx, sql, NULL, NULL, &err);
    if (st != ARD_EPERM && st != ARD_EDB) {
        fail_msg("select %s: got %s (%s), want a refusal", sql, ard_status_name(st), err.msg);
    }
}

static void test_query_read_only(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ti_sync(env, NULL, &rep);
    ard_index *idx = ti_open(env, 0); /* even a writable handle runs user SQL read-only */
    expect_refused(idx, "1=1; DROP TABLE galaxies", ARD_EPERM);
    expect_refused(idx, "1=1) UNION SELECT 1,2,3,4,5,6,7,8 FROM files WHERE (1=1", ARD_EINVAL);
    expect_refused(idx, "1=1 -- comment", ARD_EINVAL);
    expect_refused(idx, "Z > 'unterminated", ARD_EINVAL);
    expect_refused(idx, "NO_SUCH_COLUMN > 1", ARD_EDB);
    ard_plan *plan = NULL;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_index_query(idx, "load_extension('/tmp/evil.so') IS NULL", 0, &plan, &err);
    assert_true(st == ARD_EPERM || st == ARD_EDB); /* PostgreSQL has no such function */
    assert_null(plan);
    expect_select_refused(idx, "DELETE FROM galaxies");
    expect_select_refused(idx, "DROP TABLE galaxies");
    expect_select_refused(idx, "ATTACH DATABASE '/tmp/x.db' AS x");
    expect_select_refused(idx, "INSERT INTO meta (key, value) VALUES ('a', 'b')");
    expect_select_refused(idx, "CREATE TABLE evil (x INTEGER)");
    expect_select_refused(idx, "UPDATE galaxies SET z = 0");
    /* a ';' inside a string literal is just text */
    assert_int_equal(ard_index_query(idx, "SPECTYPE = 'a;b'", 0, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), 0);
    ard_plan_free(plan);
    /* subqueries over other index tables are fine: they only read */
    assert_int_equal(ard_index_query(idx,
                                     "targetid IN (SELECT targetid FROM spectra WHERE "
                                     "row_index = 0)",
                                     0, &plan, NULL),
                     ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), 4 * 3);
    ard_plan_free(plan);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies"), 230);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM meta WHERE key = 'a'"), 0);
    ard_index_close(idx);
}

static void test_open_errors(void **state) {
    TI_ENV(state);
    ard_index *idx = NULL;
    ard_error err;
    ard_error_init(&err);
    if (!env->pg) {
        assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, &err),
                         ARD_ENOENT);
        assert_non_null(strstr(err.msg, "ard sync"));
    }
    assert_null(idx);
    assert_int_equal(ard_index_open(env->dir, NULL, 77, &idx, NULL), ARD_EINVAL);
    ard_error_init(&err);
    ard_status st =
        ard_index_open(NULL, "postgresql://nobody@/nodb?host=/nonexistent", 0, &idx, &err);
    assert_true(st == ARD_EDB || st == ARD_ENOTSUP); /* ENOTSUP: built without libpq */
    assert_null(idx);
    assert_null(strstr(err.msg, "password"));
    idx = ti_open(env, 0);
    ard_sync_report rep;
    assert_int_equal(ard_index_sync(idx, "/nonexistent/dataset", NULL, &rep, NULL), ARD_ENOENT);
    ard_index_close(idx);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ard_index_sync(idx, env->dir, NULL, &rep, NULL), ARD_EPERM);
    ard_index_close(idx);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, ti_setup_sqlite, ti_teardown),                             \
        cmocka_unit_test_setup_teardown(fn, ti_setup_pg, ti_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition),
        cmocka_unit_test(test_result_run_ids),
        cmocka_unit_test(test_rg_targetids_codec),
        BOTH(test_plan_scan_same),
        BOTH(test_sync_fresh),
        BOTH(test_sync_idempotent),
        BOTH(test_sync_incremental),
        BOTH(test_sync_corrupt),
        BOTH(test_sync_partitioned),
        BOTH(test_check_detects),
        BOTH(test_schema_versions),
        BOTH(test_query_truth),
        BOTH(test_query_targetids),
        BOTH(test_query_read_only),
        BOTH(test_open_errors),
        BOTH(test_fetch_iterator),
        BOTH(test_fetch_parquet),
        BOTH(test_fetch_npy),
        BOTH(test_fetch_stale),
        BOTH(test_write_table),
        BOTH(test_same_answers),
        BOTH(test_pixel_stats_sync),
        BOTH(test_pixel_stats_malformed),
        BOTH(test_pixel_stats_migrate),
        BOTH(test_read_columns),
        BOTH(test_read_columns_errors),
        BOTH(test_select_columns),
        BOTH(test_result_run),
        BOTH(test_result_run_kill),
        BOTH(test_query_stage),
        BOTH(test_fetch_stage),
        BOTH(test_bulk_batches),
        BOTH(test_sync_windows),
        BOTH(test_fresh_same),
        BOTH(test_fresh_then_change),
        BOTH(test_spectra_key_migrate),
        cmocka_unit_test_setup_teardown(test_fresh_journal, ti_setup_sqlite, ti_teardown),
        cmocka_unit_test_setup_teardown(test_fresh_kill, ti_setup_sqlite, ti_teardown),
        cmocka_unit_test_setup_teardown(test_fresh_kill_open_reader, ti_setup_sqlite, ti_teardown),
        BOTH(test_catalog_duplicates),
        BOTH(test_catalog_fresh_same),
        BOTH(test_catalog_decode_ahead),
        BOTH(test_catalog_columns_same),
    };
    const char *filter = getenv("ARD_TEST_FILTER");
    if (filter && *filter) {
        cmocka_set_test_filter(filter);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
