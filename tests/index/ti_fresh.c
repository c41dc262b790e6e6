/* The fresh load of spectra (sync_fresh.c: rows buffered, sorted, appended once in one outer
 * transaction) against the incremental path (rows written window by window into a non-empty
 * table): the same rows, row for row, with TARGETIDs duplicated across files; then changes and
 * removals after a fresh load, including a file whose rows must be found by a scan (no stored
 * row_groups.targetids, as an index synced before schema 5 has). */
#include "ti.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int digest_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    ti_rows_digest *d = ctx;
    for (int32_t c = 0; c < n; c++) {
        for (const char *p = v[c] ? v[c] : "<null>"; *p; p++) {
            d->hash = (d->hash ^ (uint8_t)*p) * 1099511628211ull;
        }
        d->hash = (d->hash ^ '|') * 1099511628211ull;
    }
    d->rows++;
    return 0;
}

/* A digest of a SELECT's rows (read-only handle). */
static ti_rows_digest select_digest(ti_env *env, const char *sql) {
    ti_rows_digest d = {0, 1469598103934665603ull};
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ard_index_select(idx, sql, digest_row, &d, NULL), ARD_OK);
    ard_index_close(idx);
    return d;
}

ti_rows_digest ti_spectra_digest(ti_env *env) {
    ti_rows_digest d = select_digest(env, "SELECT s.targetid, f.path, s.row_group, s.row_index"
                                          " FROM spectra s JOIN files f ON f.id = s.file_id"
                                          " ORDER BY s.targetid, f.path, s.row_group, s.row_index");
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
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
    ti_rows_digest fresh = ti_spectra_digest(env);
    assert_int_equal(fresh.rows, 6 * env->gen.rows);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(DISTINCT targetid) FROM spectra"),
                     4 * env->gen.rows);
    ard_index_close(idx);
    static const char *const derived[] = {
        "SELECT target_class, without_spectrum FROM catalog_linkage ORDER BY target_class",
        "SELECT key, value FROM meta WHERE key LIKE 'linkage%' ORDER BY key",
        "SELECT * FROM row_groups ORDER BY file_id, row_group"};
    ti_rows_digest fresh_derived[3];
    for (int q = 0; q < 3; q++) {
        fresh_derived[q] = select_digest(env, derived[q]);
    }

    /* the buffer inserted early, between windows (a survey past IDX_FRESH_MAX_ROWS = 2^26 rows,
     * here past one tile's rows: after each window of two tiles): same rows, same linkage */
    ti_drop_index(env);
    char spill[32];
    snprintf(spill, sizeof spill, "%lld", (long long)env->gen.rows);
    setenv("ARD_FRESH_SPILL_ROWS", spill, 1);
    ti_sync(env, &o, &rep);
    unsetenv("ARD_FRESH_SPILL_ROWS");
    assert_int_equal(rep.spectra_rows, 6 * env->gen.rows);
    ti_rows_digest spilled = ti_spectra_digest(env);
    assert_int_equal(spilled.rows, fresh.rows);
    assert_true(spilled.hash == fresh.hash);
    for (int q = 0; q < 3; q++) {
        ti_rows_digest d = select_digest(env, derived[q]);
        assert_int_equal(d.rows, fresh_derived[q].rows);
        assert_true(d.hash == fresh_derived[q].hash);
    }
    ti_sync(env, &o, &rep); /* and an unchanged re-sync after it finds nothing to do */
    assert_int_equal(rep.files_added + rep.files_changed + rep.files_removed, 0);
    assert_true(ti_spectra_digest(env).hash == fresh.hash);

    /* the same dataset through the incremental path: one tile first, then the rest into a
     * non-empty spectra table */
    ti_drop_index(env);
    hide_tiles(env, 1, 5, 1);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.spectra_rows, env->gen.rows);
    hide_tiles(env, 1, 5, 0);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_added, 5);
    ti_rows_digest incremental = ti_spectra_digest(env);
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
    ti_rows_digest after = ti_spectra_digest(env); /* check + linkage asserted inside */
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
    ti_rows_digest fresh = ti_spectra_digest(env);
    assert_int_equal(fresh.rows, after.rows);
    assert_true(fresh.hash == after.hash);
}

/* ---- the journal of a fresh SQLite load (backend_sqlite.c, sq_fresh_journal) ---- */

static long long file_size(const ti_env *env, const char *suffix) {
    char path[320];
    struct stat sb;
    snprintf(path, sizeof path, "%s/ard.db%s", env->dir, suffix);
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

uint64_t ti_plan_hash(ti_env *env, const char *where, int64_t limit) {
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    ard_plan *plan = NULL;
    assert_int_equal(ard_index_query(idx, where, limit, &plan, NULL), ARD_OK);
    ard_buf b;
    ard_buf_init(&b);
    ard_plan_format(plan, &b);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < b.len; i++) {
        h = (h ^ b.data[i]) * 1099511628211ull;
    }
    ard_buf_reset(&b);
    ard_plan_free(plan);
    ard_index_close(idx);
    return h;
}

typedef struct fresh_outcome {
    ti_rows_digest spectra, errors, linkage, files;
    uint64_t plan_all, plan_z;
    long long wal;
    ard_sync_report rep;
} fresh_outcome;

/* Drops the index and syncs the dataset fresh; with `reader`, a second connection holds the file
 * open throughout (so the load cannot leave the WAL). */
static fresh_outcome fresh_sync(ti_env *env, int reader) {
    fresh_outcome out;
    memset(&out, 0, sizeof out);
    ti_drop_index(env);
    ard_index *idx = ti_open(env, 0);
    sqlite3 *other = NULL;
    if (reader) {
        char path[320];
        snprintf(path, sizeof path, "%s/ard.db", env->dir);
        assert_int_equal(sqlite3_open_v2(path, &other, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(other, "SELECT count(*) FROM files", NULL, NULL, NULL),
                         SQLITE_OK);
    }
    ard_sync_options o = {0};
    o.quiet = 1;
    o.threads = 2;
    o.files_per_txn = 2; /* several windows (savepoints) inside the fresh load */
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_index_sync(idx, env->dir, &o, &out.rep, &err);
    if (st != ARD_OK) {
        fail_msg("ard_index_sync: %s (%s)", ard_status_name(st), err.msg);
    }
    out.wal = file_size(env, "-wal"); /* before the close checkpoints it away */
    ard_index_close(idx);
    sqlite3_close(other);
    assert_int_equal(file_size(env, "-journal"), 0);
    out.spectra = ti_spectra_digest(env); /* + ard_index_check and the stored linkage */
    out.errors = select_digest(env, "SELECT path, status FROM sync_errors ORDER BY path");
    out.linkage = select_digest(env, "SELECT target_class, without_spectrum FROM catalog_linkage"
                                     " ORDER BY target_class");
    out.files = select_digest(env, "SELECT f.path, f.num_rows, r.row_group, r.num_rows,"
                                   " r.targetid_min, r.targetid_max, r.targetids FROM files f"
                                   " LEFT JOIN row_groups r ON r.file_id = f.id"
                                   " ORDER BY f.path, r.row_group");
    out.plan_all = ti_plan_hash(env, NULL, 0);
    out.plan_z = ti_plan_hash(env, "Z > 1.5", 0);
    return out;
}

/* Adversarial tiles: TARGETIDs in two files, a file that fails to read, an empty tile and one big
 * tile (its spectra pages are most of the load). The rollback journal (nothing else has the file
 * open) and the WAL (a reader holds it open) give the same rows, errors, linkage and plans; the
 * WAL's size tells which ran (the fallback logs every spectra page, the journal path none). */
void test_fresh_journal(void **state) {
    TI_ENV(state);
    char path[512], msg[600];
    ti_tile_path(env, 4, path, sizeof path); /* tile 0's rows again */
    assert_int_equal(tgen_write_tile(path, 0, &env->gen, msg, sizeof msg), 0);
    ti_tile_path(env, 5, path, sizeof path); /* fails to read */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("not a parquet file", f);
    fclose(f);
    tgen_opts o = env->gen;
    o.rows = 0; /* no spectra */
    ti_tile_path(env, 6, path, sizeof path);
    assert_int_equal(tgen_write_tile(path, 6, &o, msg, sizeof msg), 0);
    o.rows = 60000;
    o.width = 1;
    o.rows_per_group = 7000;
    ti_tile_path(env, 7, path, sizeof path);
    assert_int_equal(tgen_write_tile(path, 7, &o, msg, sizeof msg), 0);

    fresh_outcome journal = fresh_sync(env, 0), wal = fresh_sync(env, 1);
    int64_t rows = 5 * env->gen.rows + 60000;
    assert_int_equal(journal.rep.spectra_rows, rows);
    assert_int_equal(journal.rep.files_failed, 1);
    assert_int_equal(journal.spectra.rows, rows);
    assert_int_equal(journal.errors.rows, 1);
    assert_int_equal(wal.rep.spectra_rows, rows);
    assert_int_equal(wal.rep.files_failed, 1);
    assert_true(journal.spectra.rows == wal.spectra.rows &&
                journal.spectra.hash == wal.spectra.hash);
    assert_true(journal.errors.hash == wal.errors.hash);
    assert_true(journal.linkage.rows == wal.linkage.rows &&
                journal.linkage.hash == wal.linkage.hash);
    assert_true(journal.files.rows == wal.files.rows && journal.files.hash == wal.files.hash);
    assert_true(journal.plan_all == wal.plan_all);
    assert_true(journal.plan_z == wal.plan_z);
    /* 60,000 spectra rows are > 1 MB of pages: all in the fallback's WAL, none in the journal's */
    assert_true(wal.wal > 1000000);
    assert_true(journal.wal < wal.wal / 3);
    /* the index is back in WAL mode */
    char db[320];
    snprintf(db, sizeof db, "%s/ard.db", env->dir);
    sqlite3 *c = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_open_v2(db, &c, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(c, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(c);
}

/* A fresh load killed (SIGKILL) at each step of the journal path (ARD_FRESH_KILL_AT,
 * sync_fresh.c): 1 the journal chosen, 2 half the sorted rows appended (pages already in the file:
 * 1,000,000 rows are more than the append's 16 MiB cache), 3 all appended, 4 committed. Before the
 * commit the previous index (a catalog, no tiles) must be read back unchanged through a read-only
 * open (which rolls the hot journal back); after it, the whole load; a re-run then converges to a
 * clean sync. */
/* The kill tests' tiles: 0 and 1 of 1,000,000 rows each (an append long enough to spill pages past
 * the file's old end before its half), 2 and 3 small, and the previous index the kills return to:
 * the catalog alone. Returns the big tiles' options. */
static tgen_opts kill_tiles(ti_env *env) {
    char path[512], msg[600];
    tgen_opts o = env->gen;
    o.rows = 1000000;
    o.width = 1;
    o.rows_per_group = 250000;
    for (int32_t t = 0; t < 4; t++) {
        ti_tile_path(env, t, path, sizeof path);
        assert_int_equal(tgen_write_tile(path, t, t < 2 ? &o : &env->gen, msg, sizeof msg), 0);
    }
    ard_sync_report rep;
    hide_tiles(env, 0, 3, 1);
    ti_sync(env, NULL, &rep); /* the previous index: the catalog alone */
    hide_tiles(env, 0, 3, 0);
    return o;
}

/* A sync in a child process killed (SIGKILL) at step `step` of its fresh load (ARD_FRESH_KILL_AT). */
static void killed_sync(ti_env *env, int step, const ard_sync_options *so) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char k[8];
        snprintf(k, sizeof k, "%d", step);
        setenv("ARD_FRESH_KILL_AT", k, 1);
        ard_index *w = NULL;
        ard_error err;
        ard_error_init(&err);
        ard_status st = ard_index_open(env->dir, env->dsn, 0, &w, &err);
        st = st == ARD_OK ? ard_index_sync(w, env->dir, so, NULL, &err) : st;
        _exit(st == ARD_OK ? 0 : 3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

void test_fresh_kill(void **state) {
    TI_ENV(state);
    tgen_opts o = kill_tiles(env);
    int64_t rows = 2 * o.rows + 2 * env->gen.rows;
    ard_sync_report rep;
    ard_sync_options so = {0};
    so.quiet = 1;
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    int64_t galaxies = ti_int(idx, "SELECT count(*) FROM galaxies");
    ard_index_close(idx);
    assert_true(galaxies > 0);
    long long base_size = file_size(env, "");
    for (int step = 1; step <= 4; step++) {
        killed_sync(env, step, &so);
        if (step == 2) { /* the kill landed with appended pages in the file, past its old end */
            assert_true(file_size(env, "-journal") > 0);
            assert_true(file_size(env, "") > base_size);
        }
        idx = ti_open(env, ARD_INDEX_READ_ONLY); /* rolls a hot journal back */
        int64_t bad = -1;
        assert_int_equal(ard_index_check(idx, &bad, NULL), ARD_OK);
        assert_int_equal(bad, 0);
        assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies"), galaxies);
        assert_int_equal(ti_int(idx, "SELECT count(*) FROM spectra"), step < 4 ? 0 : rows);
        assert_int_equal(ti_int(idx, "SELECT count(*) FROM files WHERE kind = 'tile'"),
                         step < 4 ? 0 : 4);
        ard_index_close(idx);
        assert_int_equal(file_size(env, "-journal"), 0);
        if (step == 4) {
            break;
        }
    }
    ti_sync(env, NULL, &rep); /* finishes what the kill at 4 left (linkage, statistics) */
    ti_rows_digest killed = ti_spectra_digest(env);
    ti_drop_index(env);
    ti_sync(env, NULL, &rep);
    ti_rows_digest clean = ti_spectra_digest(env);
    assert_int_equal(killed.rows, rows);
    assert_true(killed.rows == clean.rows && killed.hash == clean.hash);
}

/* A reader already open when a fresh load is killed: the load began after the reader opened (the
 * file was in rollback mode, so the reader held no lock between its statements and the load could
 * take the file), and its kill leaves a hot journal. The reader's next statements roll it back
 * (through a writable connection of their own, as a read-only open does) and read the previous
 * index, instead of failing with "attempt to write a readonly database". */
void test_fresh_kill_open_reader(void **state) {
    TI_ENV(state);
    tgen_opts o = kill_tiles(env);
    ard_sync_report rep;
    ard_sync_options so = {0};
    so.quiet = 1;
    long long base_size = file_size(env, "");
    for (int step = 1; step <= 2;
         step++) { /* 1 leaves the file in rollback mode; 2 a hot journal */
        ard_index *reader = step == 2 ? ti_open(env, ARD_INDEX_READ_ONLY) : NULL;
        int64_t galaxies = reader ? ti_int(reader, "SELECT count(*) FROM galaxies") : 0;
        killed_sync(env, step, &so);
        if (!reader) {
            continue;
        }
        /* the load really ran beside the reader: pages appended past the file's old end */
        assert_true(file_size(env, "-journal") > 0);
        assert_true(file_size(env, "") > base_size);
        assert_true(galaxies > 0);
        assert_int_equal(ti_int(reader, "SELECT count(*) FROM galaxies"), galaxies);
        assert_int_equal(ti_int(reader, "SELECT count(*) FROM spectra"), 0);
        int64_t bad = -1;
        assert_int_equal(ard_index_check(reader, &bad, NULL), ARD_OK);
        assert_int_equal(bad, 0);
        ard_index_close(reader);
        assert_int_equal(file_size(env, "-journal"), 0);
    }
    ti_sync(env, NULL, &rep); /* and a sync after it all completes */
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM spectra"), 2 * o.rows + 2 * env->gen.rows);
    ard_index_close(idx);
}
