/* I/O fault sweeps (issue 15): the k-th open, write, fsync or rename of core's file I/O fails
 * with ENOSPC, EIO or a short write, for every k a writer makes (sampled for the generator). After
 * each: an error naming the file, the previous file unchanged, no half-written file under a final
 * name, no temporary file left behind. Reads: the sync records an unreadable file and a re-sync
 * completes the index. */
#include "rel.h"

#include "ard/datasheet.h"
#include "ard/parquet.h"
#include "ard/survey.h"
#include "common/ard_test.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const int32_t fault_errnos[] = {ENOSPC, EIO, ARD_IO_SHORT_WRITE};
static const int32_t writer_ops = ARD_IO_OPEN | ARD_IO_WRITE | ARD_IO_FSYNC | ARD_IO_RENAME;

/* Bytes of a whole file (malloc'd; *len its size), or NULL. */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Walks dir recursively: fails on a writer's temporary file; with check_parquet, every *.parquet
 * must open (a complete footer); returns the number of *.parquet files. */
static int check_tree(const char *dir, int check_parquet) {
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strstr(e->d_name, ".tmp.")) {
            fail_msg("temporary file left behind: %s", path);
        }
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        if (S_ISDIR(sb.st_mode)) {
            n += check_tree(path, check_parquet);
        } else if (strstr(e->d_name, ".parquet") && check_parquet) {
            ard_parquet_file *pq = NULL;
            ard_error err;
            ard_error_init(&err);
            if (ard_parquet_open(path, NULL, &pq, &err) != ARD_OK) {
                fail_msg("half-written file under its final name: %s", err.msg);
            }
            ard_parquet_close(pq);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* The atomic writer itself: every call kind, every k, the old content survives. */
static void test_atomic_sweep(void **state) {
    (void)state;
    rel_env *env = rel_env_new(0);
    char path[400];
    snprintf(path, sizeof path, "%s/DATA_README.md", env->dir);
    static const char old_text[] = "the previous datasheet\n";
    assert_int_equal(ard_file_write_atomic(path, old_text, sizeof old_text - 1, NULL), ARD_OK);
    char big[20000];
    memset(big, 'x', sizeof big);
    ard_io_fail_nth(writer_ops, 0, 0);
    assert_int_equal(ard_file_write_atomic(path, big, sizeof big, NULL), ARD_OK);
    int64_t calls = ard_io_calls();
    assert_true(calls >= 4); /* open, write, fsync, rename (+ directory fsync) */
    assert_int_equal(ard_file_write_atomic(path, old_text, sizeof old_text - 1, NULL), ARD_OK);
    for (size_t e = 0; e < sizeof fault_errnos / sizeof *fault_errnos; e++) {
        for (int64_t k = 1; k <= calls; k++) {
            ard_io_fail_nth(writer_ops, k, fault_errnos[e]);
            ard_error err;
            ard_error_init(&err);
            ard_status st = ard_file_write_atomic(path, big, sizeof big, &err);
            ard_io_fail_nth(0, 0, 0);
            size_t len = 0;
            uint8_t *now = slurp(path, &len);
            assert_non_null(now);
            if (st == ARD_OK) { /* only the directory fsync after the rename may fail later */
                fail_msg("k=%lld errno %d: no error", (long long)k, fault_errnos[e]);
            }
            assert_non_null(strstr(err.msg, path));
            int renamed = len == sizeof big; /* a directory fsync failing after the rename */
            if (!renamed) {
                assert_int_equal(len, sizeof old_text - 1);
                assert_memory_equal(now, old_text, len);
            }
            free(now);
            check_tree(env->dir, 0);
            if (renamed) {
                assert_int_equal(ard_file_write_atomic(path, old_text, sizeof old_text - 1, NULL),
                                 ARD_OK);
            }
        }
    }
    rel_env_free(env);
}

/* ard_atomic_write gathers writes into 4 MiB units: a file of several units written in odd-sized
 * pieces reaches the kernel as whole units and a tail. Its bytes come out exactly as written, and a
 * failure of any call (a later unit's write after earlier units landed, the tail at commit, fsync,
 * rename) leaves the previous file intact and names the file. */
static void test_atomic_gathered_sweep(void **state) {
    (void)state;
    rel_env *env = rel_env_new(0);
    char path[400];
    snprintf(path, sizeof path, "%s/big.bin", env->dir);
    static const char old_text[] = "the previous file\n";
    assert_int_equal(ard_file_write_atomic(path, old_text, sizeof old_text - 1, NULL), ARD_OK);
    const size_t total = ((size_t)9 << 20) + 17, piece = 100003;
    uint8_t *data = malloc(total);
    assert_non_null(data);
    for (size_t i = 0; i < total; i++) {
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    }
    int64_t calls = -1;
    for (size_t e = 0; e < sizeof fault_errnos / sizeof *fault_errnos; e++) {
        for (int64_t k = 0; calls < 0 || k <= calls; k++) {
            ard_io_fail_nth(writer_ops, k, fault_errnos[e]);
            ard_error err;
            ard_error_init(&err);
            ard_atomic_file *f = NULL;
            ard_status st = ard_atomic_open(path, &f, &err);
            for (size_t at = 0; st == ARD_OK && at < total; at += piece) {
                size_t n = total - at < piece ? total - at : piece;
                st = ard_atomic_write(f, data + at, n, &err);
                if (st == ARD_OK) { /* the logical offset counts gathered bytes too */
                    assert_int_equal(ard_atomic_tell(f), (int64_t)(at + n));
                }
            }
            if (f && st == ARD_OK) {
                st = ard_atomic_commit(f, &err);
            } else if (f) {
                ard_atomic_abort(f);
            }
            if (k == 0) { /* the clean run: counts the calls, checks every byte */
                calls = ard_io_calls();
                ard_io_fail_nth(0, 0, 0);
                assert_int_equal(st, ARD_OK);
                /* open, 2 whole units, the tail at commit, fsync, rename, directory fsync */
                assert_true(calls >= 6);
            } else {
                ard_io_fail_nth(0, 0, 0);
                if (st == ARD_OK) {
                    fail_msg("k=%lld errno %d: no error", (long long)k, fault_errnos[e]);
                }
                assert_non_null(strstr(err.msg, path));
            }
            size_t len = 0;
            uint8_t *now = slurp(path, &len);
            assert_non_null(now);
            int renamed = len == total;
            if (renamed) {
                assert_memory_equal(now, data, total);
            } else {
                assert_int_equal(len, sizeof old_text - 1);
                assert_memory_equal(now, old_text, len);
            }
            free(now);
            check_tree(env->dir, 0);
            assert_int_equal(ard_file_write_atomic(path, old_text, sizeof old_text - 1, NULL),
                             ARD_OK);
        }
    }
    fprintf(stderr, "gathered atomic writes: %lld calls x 3 kinds of fault, all clean\n",
            (long long)calls);
    free(data);
    rel_env_free(env);
}

/* The Parquet writer replacing a tile: each failure leaves the old tile byte for byte. */
static void test_parquet_writer_sweep(void **state) {
    (void)state;
    rel_env *env = rel_env_new(0);
    char tile[400], msg[600];
    rel_tile_path(env, 0, tile, sizeof tile);
    size_t old_len = 0;
    uint8_t *old = slurp(tile, &old_len);
    assert_non_null(old);
    ard_io_fail_nth(writer_ops, 0, 0);
    assert_int_equal(tgen_write_tile(tile, 1, &env->gen, msg, sizeof msg), 0);
    int64_t calls = ard_io_calls();
    ard_io_fail_nth(0, 0, 0);
    /* open, write(s), fsync, rename, directory fsync: a small tile's writes reach the kernel as
     * one gathered write (the failure of a later write after earlier ones landed is swept by
     * test_atomic_gathered_sweep) */
    assert_true(calls >= 5);
    size_t new_len = 0;
    uint8_t *fresh = slurp(tile, &new_len);
    assert_true(new_len != old_len || memcmp(fresh, old, old_len) != 0);
    FILE *f = fopen(tile, "wb"); /* back to the old tile */
    assert_non_null(f);
    assert_int_equal(fwrite(old, 1, old_len, f), old_len);
    fclose(f);
    int64_t runs = 0;
    for (size_t e = 0; e < sizeof fault_errnos / sizeof *fault_errnos; e++) {
        for (int64_t k = 1; k <= calls; k++) {
            ard_io_fail_nth(writer_ops, k, fault_errnos[e]);
            int rc = tgen_write_tile(tile, 1, &env->gen, msg, sizeof msg);
            ard_io_fail_nth(0, 0, 0);
            size_t len = 0;
            uint8_t *now = slurp(tile, &len);
            if (rc == 0) {
                fail_msg("k=%lld: the writer did not report the failure", (long long)k);
            }
            assert_non_null(strstr(msg, tile));
            /* the directory fsync after the rename: the new tile is complete and in place */
            int renamed = strstr(msg, "fsync of directory") != NULL;
            const uint8_t *want = renamed ? fresh : old;
            size_t want_len = renamed ? new_len : old_len;
            if (len != want_len || memcmp(now, want, want_len) != 0) {
                fail_msg("k=%lld errno %d: the tile is neither the previous nor the new one (%s)",
                         (long long)k, fault_errnos[e], msg);
            }
            free(now);
            if (renamed) {
                FILE *back = fopen(tile, "wb");
                assert_non_null(back);
                assert_int_equal(fwrite(old, 1, old_len, back), old_len);
                fclose(back);
            }
            check_tree(env->dir, 1);
            runs++;
        }
    }
    fprintf(stderr, "parquet writer: %lld injected faults (%lld calls x 3 kinds), all clean\n",
            (long long)runs, (long long)calls);
    free(old);
    free(fresh);
    rel_env_free(env);
}

/* The generator: a failure anywhere ends it with ARD_EIO naming a file; what it leaves holds no
 * temporary and no half-written file. k is sampled: all early calls, then a stride. */
static void test_generate_sweep(void **state) {
    (void)state;
    char base[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/ard-rel-gen-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(base));
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = 300;
    o.seed = 3;
    o.threads = 2;
    char out[300], cmd[700];
    snprintf(out, sizeof out, "%s/survey", base);
    ard_io_fail_nth(writer_ops, 0, 0);
    assert_int_equal(ard_generate(out, &o, NULL, NULL), ARD_OK);
    int64_t calls = ard_io_calls();
    ard_io_fail_nth(0, 0, 0);
    int files = check_tree(out, 1);
    assert_true(files > 3);
    int64_t stride = calls / 40 + 1, runs = 0;
    for (int64_t k = 1; k <= calls; k += k < 12 ? 1 : stride) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
        assert_int_equal(rel_system(cmd), 0);
        int32_t e = fault_errnos[k % 3];
        ard_io_fail_nth(writer_ops, k, e);
        ard_error err;
        ard_error_init(&err);
        ard_status st = ard_generate(out, &o, NULL, &err);
        ard_io_fail_nth(0, 0, 0);
        if (st == ARD_OK) {
            fail_msg("k=%lld of %lld: generate did not report the failure", (long long)k,
                     (long long)calls);
        }
        assert_int_equal(st, ARD_EIO);
        assert_non_null(strstr(err.msg, out));
        check_tree(out, 1);
        runs++;
    }
    fprintf(stderr, "generate: %lld injected faults over %lld I/O calls, all clean\n",
            (long long)runs, (long long)calls);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    assert_int_equal(rel_system(cmd), 0);
}

/* Sync reading tiles: an open or read failing makes that file a sync error (the index stays
 * consistent), and the next sync completes it. */
static void test_sync_read_faults(void **state) {
    (void)state;
    rel_env *env = rel_env_new(0);
    ard_sync_report rep;
    ard_io_fail_nth(ARD_IO_OPEN | ARD_IO_READ, 0, 0);
    assert_int_equal(rel_sync(env, &rep, NULL), ARD_OK);
    int64_t calls = ard_io_calls();
    ard_io_fail_nth(0, 0, 0);
    assert_true(calls >= 3);
    for (int64_t k = 1; k <= calls; k++) {
        rel_raw_sql(env, "DELETE FROM spectra; DELETE FROM row_groups; DELETE FROM galaxies;"
                         " DELETE FROM tile_pixel_stats; DELETE FROM catalog_summary;"
                         " DELETE FROM catalog_zhist; DELETE FROM column_stats; DELETE FROM files");
        ard_io_fail_nth(ARD_IO_OPEN | ARD_IO_READ, k, EIO);
        ard_error err;
        ard_error_init(&err);
        ard_status st = rel_sync(env, &rep, &err);
        ard_io_fail_nth(0, 0, 0);
        assert_int_equal(st, ARD_OK);
        assert_int_equal(rep.files_failed, 1);
        assert_non_null(strstr(rep.first_error, ".parquet"));
        ard_index *idx = NULL;
        assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
        ard_error_init(&err);
        if (ard_index_check(idx, NULL, &err) != ARD_OK) {
            fail_msg("k=%lld: index inconsistent: %s", (long long)k, err.msg);
        }
        ard_index_close(idx);
        assert_int_equal(rel_sync(env, &rep, NULL), ARD_OK);
        assert_int_equal(rep.files_failed, 0);
        assert_int_equal(rep.files_added + rep.files_changed, 1);
    }
    rel_env_free(env);
}

/* The datasheet's files of `dir`: DATA_README.md first, then figures/ *.svg (sorted). */
enum { DS_MAX = 16 };
typedef struct ds_files {
    int n;
    char name[DS_MAX][300];
    uint8_t *bytes[DS_MAX];
    size_t len[DS_MAX];
} ds_files;

static void ds_snapshot(const char *dir, ds_files *out) {
    memset(out, 0, sizeof *out);
    char path[600], figs[600];
    snprintf(out->name[out->n++], 300, "DATA_README.md");
    snprintf(figs, sizeof figs, "%s/figures", dir);
    struct dirent **list = NULL;
    int n = scandir(figs, &list, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        if (strstr(list[i]->d_name, ".svg") && out->n < DS_MAX) {
            snprintf(out->name[out->n++], 300, "figures/%s", list[i]->d_name);
        }
        free(list[i]);
    }
    free(list);
    for (int i = 0; i < out->n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, out->name[i]);
        out->bytes[i] = slurp(path, &out->len[i]);
        assert_non_null(out->bytes[i]);
    }
}

static void ds_free(ds_files *f) {
    for (int i = 0; i < f->n; i++) {
        free(f->bytes[i]);
    }
}

/* 1 when file i of `now` has the bytes of file i of `want`. */
static int ds_same(const ds_files *now, const ds_files *want, int i) {
    return now->len[i] == want->len[i] && memcmp(now->bytes[i], want->bytes[i], now->len[i]) == 0;
}

/* The datasheet (issue 15, "every writer"): figures first, DATA_README.md last (its commit
 * point). A fault at any k of the clean run's I/O calls: ARD_EIO naming the file; DATA_README.md
 * is the previous one byte for byte; every figure is the previous or the new one, whole; no
 * temporary. The next write completes the new datasheet. */
static void test_datasheet_sweep(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1);
    char tmpl[400];
    snprintf(tmpl, sizeof tmpl, "%s/old.tmpl", env->dir);
    FILE *t = fopen(tmpl, "w");
    assert_non_null(t);
    fputs("# the previous datasheet\n\nspectra: {{spectra_total}}\n", t);
    fclose(t);
    ard_datasheet_options old_opts = {0}, new_opts = {0};
    old_opts.template_path = tmpl;
    ard_error err;
    ard_error_init(&err);
    if (ard_datasheet_write_dsn(env->dir, NULL, &new_opts, &err) != ARD_OK) {
        fail_msg("datasheet: %s", err.msg);
    }
    ds_files fresh, old, now;
    ds_snapshot(env->dir, &fresh);
    assert_true(fresh.n >= 2); /* the Markdown and at least one figure */
    assert_int_equal(ard_datasheet_write_dsn(env->dir, NULL, &old_opts, &err), ARD_OK);
    ds_snapshot(env->dir, &old);
    assert_int_equal(old.n, fresh.n);
    assert_false(ds_same(&old, &fresh, 0));
    ard_io_fail_nth(writer_ops, 0, 0);
    assert_int_equal(ard_datasheet_write_dsn(env->dir, NULL, &new_opts, NULL), ARD_OK);
    int64_t calls = ard_io_calls();
    ard_io_fail_nth(0, 0, 0);
    assert_true(calls >= 4 * fresh.n);
    int64_t runs = 0, mixed = 0;
    for (size_t e = 0; e < sizeof fault_errnos / sizeof *fault_errnos; e++) {
        for (int64_t k = 1; k <= calls; k++) {
            assert_int_equal(ard_datasheet_write_dsn(env->dir, NULL, &old_opts, NULL), ARD_OK);
            ard_io_fail_nth(writer_ops, k, fault_errnos[e]);
            ard_error_init(&err);
            ard_status st = ard_datasheet_write_dsn(env->dir, NULL, &new_opts, &err);
            ard_io_fail_nth(0, 0, 0);
            ds_snapshot(env->dir, &now);
            assert_int_equal(now.n, old.n);
            int readme_new = ds_same(&now, &fresh, 0);
            if (st == ARD_OK) {
                /* every injected fault surfaces: a source footer that cannot be read fails the
                 * datasheet too (aggregate_history.c), only a file gone since the sync is text */
                fail_msg("k=%lld of %lld (errno %d): the fault was swallowed", (long long)k,
                         (long long)calls, fault_errnos[e]);
            } else if (st != ARD_EIO) {
                fail_msg("k=%lld of %lld (errno %d): %s, %s", (long long)k, (long long)calls,
                         fault_errnos[e], ard_status_name(st), err.msg);
            } else if (!strstr(err.msg, env->dir)) {
                fail_msg("k=%lld: the error names no file: %s", (long long)k, err.msg);
            }
            if (st == ARD_OK) {
            } else if (readme_new) { /* only the directory fsync after its rename fails that late */
                assert_non_null(strstr(err.msg, "may not survive a power failure"));
            } else if (!ds_same(&now, &old, 0)) {
                fail_msg("k=%lld: DATA_README.md is neither the previous nor the new one",
                         (long long)k);
            }
            for (int i = 1; i < now.n; i++) {
                if (!ds_same(&now, &old, i) && !ds_same(&now, &fresh, i)) {
                    fail_msg("k=%lld: %s is neither the previous nor the new one", (long long)k,
                             now.name[i]);
                }
                mixed += !ds_same(&now, &old, i);
            }
            ds_free(&now);
            check_tree(env->dir, 0);
            runs++;
        }
    }
    assert_int_equal(ard_datasheet_write_dsn(env->dir, NULL, &new_opts, NULL), ARD_OK);
    ds_snapshot(env->dir, &now);
    for (int i = 0; i < now.n; i++) {
        assert_true(ds_same(&now, &fresh, i));
    }
    fprintf(stderr,
            "datasheet: %lld injected faults over %lld I/O calls, each an error, all clean (%lld "
            "figures already the new ones)\n",
            (long long)runs, (long long)calls, (long long)mixed);
    ds_free(&now);
    ds_free(&old);
    ds_free(&fresh);
    rel_env_free(env);
}

/* DESI FITS ingest (issue 15, "every writer"): a fault at sampled k of the clean run's I/O calls
 * ends it with an error naming a file; what it leaves holds no temporary and no half-written
 * Parquet file; a run into a fresh directory then completes with the clean run's bytes. */
static void test_ingest_sweep(void **state) {
    (void)state;
    char samples[4200], coadd[4300], redrock[4300];
    snprintf(samples, sizeof samples, "%s/desi-samples", ard_test_shared_dir());
    snprintf(coadd, sizeof coadd, "%s/coadd-4-80613-thru20210324.fits", samples);
    snprintf(redrock, sizeof redrock, "%s/redrock-4-80613-thru20210324.fits", samples);
    if (access(coadd, R_OK) != 0 || access(redrock, R_OK) != 0) {
        fprintf(stderr, "SKIPPED: DESI samples not found under %s\n", samples);
        skip();
    }
    const char *paths[] = {coadd, redrock};
    char base[256], out[300], ref[300], cmd[800];
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/ard-rel-ingest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(base));
    snprintf(out, sizeof out, "%s/out", base);
    snprintf(ref, sizeof ref, "%s/ref", base);
    ard_ingest_options o;
    ard_ingest_options_init(&o);
    o.threads = 2;
    ard_error err;
    ard_error_init(&err);
    ard_io_fail_nth(writer_ops, 0, 0);
    if (ard_ingest_desi(ref, paths, 2, &o, NULL, &err) != ARD_OK) {
        fail_msg("ingest: %s", err.msg);
    }
    int64_t calls = ard_io_calls();
    ard_io_fail_nth(0, 0, 0);
    assert_true(check_tree(ref, 1) >= 2); /* a tile and the catalog */
    int64_t stride = calls / 30 + 1, runs = 0;
    for (int64_t k = 1; k <= calls; k += k < 12 ? 1 : stride) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
        assert_int_equal(rel_system(cmd), 0);
        ard_io_fail_nth(writer_ops, k, fault_errnos[k % 3]);
        ard_error_init(&err);
        ard_status st = ard_ingest_desi(out, paths, 2, &o, NULL, &err);
        ard_io_fail_nth(0, 0, 0);
        if (st == ARD_OK) {
            fail_msg("k=%lld of %lld: ingest did not report the failure", (long long)k,
                     (long long)calls);
        }
        if (!strstr(err.msg, out) && !strstr(err.msg, samples)) {
            fail_msg("k=%lld: the error names no file: %s", (long long)k, err.msg);
        }
        check_tree(out, 1);
        runs++;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    assert_int_equal(rel_system(cmd), 0);
    assert_int_equal(ard_ingest_desi(out, paths, 2, &o, NULL, NULL), ARD_OK);
    snprintf(cmd, sizeof cmd, "diff -r '%s' '%s' >/dev/null", ref, out);
    assert_int_equal(rel_system(cmd), 0);
    fprintf(stderr, "ingest: %lld injected faults over %lld I/O calls, all clean\n",
            (long long)runs, (long long)calls);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    assert_int_equal(rel_system(cmd), 0);
}

int rel_faults_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_sweep),         cmocka_unit_test(test_atomic_gathered_sweep),
        cmocka_unit_test(test_parquet_writer_sweep), cmocka_unit_test(test_generate_sweep),
        cmocka_unit_test(test_sync_read_faults),
    };
    return cmocka_run_group_tests_name("I/O fault sweeps", tests, NULL, NULL);
}

/* The datasheet and ingest sweeps, a group of their own (`test_reliability writer_faults`). */
int rel_writer_faults_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datasheet_sweep),
        cmocka_unit_test(test_ingest_sweep),
    };
    return cmocka_run_group_tests_name("writer_faults", tests, NULL, NULL);
}
