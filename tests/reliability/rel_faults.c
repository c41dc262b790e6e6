/* I/O fault sweeps (issue 15): the k-th open, write, fsync or rename of core's file I/O fails
 * with ENOSPC, EIO or a short write, for every k a writer makes (sampled for the generator). After
 * each: an error naming the file, the previous file unchanged, no half-written file under a final
 * name, no temporary file left behind. Reads: the sync records an unreadable file and a re-sync
 * completes the index. */
#include "rel.h"

#include "ard/parquet.h"
#include "ard/survey.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    assert_true(calls > 5);
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

int rel_faults_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_sweep),
        cmocka_unit_test(test_parquet_writer_sweep),
        cmocka_unit_test(test_generate_sweep),
        cmocka_unit_test(test_sync_read_faults),
    };
    return cmocka_run_group_tests_name("I/O fault sweeps", tests, NULL, NULL);
}
