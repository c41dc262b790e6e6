/* Batched background commits (ard_atomic_batch): a file's commit hands it to its I/O thread, which
 * writes what is left, fdatasyncs and only then renames; a file without one (small, or buffered)
 * is renamed at finish after a syncfs. The bytes must be those of a plain commit
 * for every size (no I/O thread before commit, a ring of units, buffered and O_DIRECT), from
 * several threads at once with a pending limit of 1; a write, fdatasync or rename failing in the
 * thread must come back (from a write, the commit or the finish) naming the file, with no file and
 * no temporary left, and an fdatasync failure proves that no rename comes before the sync; files
 * killed at any moment hold one whole generation. Runs under TSan too (tsan_core). */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/core.h"
#include "common/ard_test.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void test_atomic_batch_bytes(void **state);
void test_atomic_batch_threads(void **state);
void test_atomic_batch_errors(void **state);
void test_atomic_batch_kill(void **state);

#define UNIT ((size_t)4 << 20)

static uint8_t *pattern(size_t len, uint32_t seed) {
    uint8_t *p = malloc(len + 1);
    assert_non_null(p);
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len + 1; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
    return p;
}

/* Writes src in pieces into `path` and commits it into b (or plainly without b). */
static ard_status write_file(const char *path, const uint8_t *src, size_t len, size_t piece,
                             int direct, ard_atomic_batch *b, ard_error *err) {
    ard_atomic_file *f = NULL;
    ard_status st = ard_atomic_open(path, &f, err);
    if (st != ARD_OK) {
        return st;
    }
    if (direct) {
        ard_atomic_direct_io(f);
    }
    if (b) {
        ard_atomic_in_batch(f, b);
    }
    for (size_t at = 0; st == ARD_OK && at < len; at += piece) {
        size_t n = len - at < piece ? len - at : piece;
        st = ard_atomic_write(f, src + at, n, err);
    }
    if (st != ARD_OK) {
        ard_atomic_abort(f);
        return st;
    }
    return ard_atomic_commit(f, err);
}

static void check_file(const char *path, const uint8_t *want, size_t len) {
    size_t n = 0;
    uint8_t *got = ard_test_read_file(path, &n);
    assert_int_equal(n, len);
    if (len) {
        assert_non_null(got);
        assert_memory_equal(got, want, len);
    }
    free(got);
}

static const size_t sizes[] = {0, 1, 4097, (size_t)3 << 20, UNIT, 3 * UNIT + 1, 11 * UNIT + 12345};
#define N_SIZES (sizeof sizes / sizeof *sizes)

void test_atomic_batch_bytes(void **state) {
    (void)state;
    char *dir = ard_test_tmpdir("batch");
    assert_non_null(dir);
    char sub[600], path[700], plain[700];
    snprintf(sub, sizeof sub, "%s/a/b", dir); /* made here: finish syncs it and those above */
    snprintf(path, sizeof path, "%s/a", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    assert_int_equal(mkdir(sub, 0777), 0);
    ard_error err;
    ard_error_init(&err);
    for (int direct = 0; direct < 2; direct++) {
        ard_atomic_batch *b = NULL;
        assert_int_equal(ard_atomic_batch_new(2, &b, &err), ARD_OK);
        uint8_t *src[N_SIZES];
        for (size_t c = 0; c < N_SIZES; c++) {
            src[c] = pattern(sizes[c], (uint32_t)(c + 10 * (size_t)direct));
            snprintf(path, sizeof path, "%s/f%zu.bin", sub, c);
            assert_int_equal(write_file(path, src[c], sizes[c], 999983, direct, b, &err), ARD_OK);
        }
        ard_atomic_batch_add_dir(b, dir);
        assert_int_equal(ard_atomic_batch_finish(b, &err), ARD_OK);
        for (size_t c = 0; c < N_SIZES; c++) {
            snprintf(path, sizeof path, "%s/f%zu.bin", sub, c);
            snprintf(plain, sizeof plain, "%s/plain.bin", sub);
            assert_int_equal(write_file(plain, src[c], sizes[c], 999983, direct, NULL, &err),
                             ARD_OK);
            check_file(path, src[c], sizes[c]);
            check_file(plain, src[c], sizes[c]);
            assert_int_equal(unlink(path), 0);
            assert_int_equal(unlink(plain), 0);
            free(src[c]);
        }
        assert_int_equal(ard_test_count_entries(sub), 0);
    }
    assert_int_equal(ard_atomic_batch_finish(NULL, &err), ARD_OK);
    ard_atomic_batch *b = NULL;
    assert_int_equal(ard_atomic_batch_new(0, &b, &err), ARD_EINVAL);
    assert_null(b);
    /* an empty batch, an aborted batched file, a relative path: nothing left, finish succeeds */
    assert_int_equal(ard_atomic_batch_new(1, &b, &err), ARD_OK);
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(sub), 0);
    ard_atomic_file *f = NULL;
    assert_int_equal(ard_atomic_open("gone.bin", &f, &err), ARD_OK);
    ard_atomic_in_batch(f, b);
    assert_int_equal(ard_atomic_write(f, "xyz", 3, &err), ARD_OK);
    ard_atomic_abort(f);
    assert_int_equal(write_file("rel.bin", (const uint8_t *)"rel", 3, 1, 1, b, &err), ARD_OK);
    assert_int_equal(ard_atomic_batch_finish(b, &err), ARD_OK);
    assert_int_equal(chdir(cwd), 0);
    snprintf(path, sizeof path, "%s/rel.bin", sub);
    check_file(path, (const uint8_t *)"rel", 3);
    assert_int_equal(ard_test_count_entries(sub), 1);
    ard_test_rmtree(dir);
    free(dir);
}

typedef struct committer {
    const char *dir;
    ard_atomic_batch *b;
    int id;
    int failures;
} committer;

static void *commit_many(void *arg) {
    committer *c = arg;
    for (size_t k = 0; k < 2 * N_SIZES; k++) {
        size_t len = sizes[k % N_SIZES];
        uint8_t *src = pattern(len, (uint32_t)(100 * c->id + (int)k));
        char path[700];
        snprintf(path, sizeof path, "%s/t%d-%zu.bin", c->dir, c->id, k);
        ard_error err;
        ard_error_init(&err);
        c->failures += write_file(path, src, len, 777777, (int)(k & 1), c->b, &err) != ARD_OK;
        free(src);
    }
    return NULL;
}

void test_atomic_batch_threads(void **state) {
    (void)state;
    char *dir = ard_test_tmpdir("batch-threads");
    assert_non_null(dir);
    ard_error err;
    ard_error_init(&err);
    ard_atomic_batch *b = NULL;
    assert_int_equal(ard_atomic_batch_new(1, &b, &err), ARD_OK); /* every commit waits its turn */
    committer c[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        c[i] = (committer){dir, b, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, commit_many, &c[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(c[i].failures, 0);
    }
    assert_int_equal(ard_atomic_batch_finish(b, &err), ARD_OK);
    for (int i = 0; i < 3; i++) {
        for (size_t k = 0; k < 2 * N_SIZES; k++) {
            size_t len = sizes[k % N_SIZES];
            uint8_t *src = pattern(len, (uint32_t)(100 * i + (int)k));
            char path[700];
            snprintf(path, sizeof path, "%s/t%d-%zu.bin", dir, i, k);
            check_file(path, src, len);
            free(src);
        }
    }
    assert_int_equal(ard_test_count_entries(dir), (int)(3 * 2 * N_SIZES)); /* no temporary left */
    ard_test_rmtree(dir);
    free(dir);
}

/* One file of `len` bytes in a batch of its own with the nth `op` failing: the status of the write,
 * commit or finish that reports it (the first failure), its message in *err. */
static ard_status batch_failing(const char *path, const uint8_t *src, size_t len, int direct,
                                int32_t op, int64_t nth, int32_t sys_errno, ard_error *err) {
    ard_atomic_batch *b = NULL;
    assert_int_equal(ard_atomic_batch_new(1, &b, err), ARD_OK);
    ard_io_fail_nth(op, nth, sys_errno);
    ard_status st = write_file(path, src, len, 999999, direct, b, err);
    ard_error later;
    ard_error_init(&later);
    ard_status fin = ard_atomic_batch_finish(b, st == ARD_OK ? err : &later);
    ard_io_fail_nth(0, 0, 0);
    return st ? st : fin;
}

void test_atomic_batch_errors(void **state) {
    (void)state;
    char *dir = ard_test_tmpdir("batch-err");
    assert_non_null(dir);
    char path[600];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    size_t len = 6 * UNIT + 5000;
    uint8_t *src = pattern(len, 7);
    static const int32_t errnos[] = {ENOSPC, EIO, ARD_IO_SHORT_WRITE};
    /* a write failing in the thread: each unit, the tail's block, its rest (O_DIRECT), or one of
     * the buffered file's 7 writes */
    for (int direct = 0; direct < 2; direct++) {
        for (int64_t nth = 1; nth <= 7; nth++) {
            for (size_t k = 0; k < sizeof errnos / sizeof *errnos; k++) {
                ard_error err;
                ard_error_init(&err);
                ard_status st =
                    batch_failing(path, src, len, direct, ARD_IO_WRITE, nth, errnos[k], &err);
                assert_int_equal(st, ARD_EIO);
                assert_non_null(strstr(err.msg, path));
                assert_non_null(strstr(err.msg, "write of"));
                assert_int_equal(access(path, F_OK), -1);         /* no file appeared */
                assert_int_equal(ard_test_count_entries(dir), 0); /* and no temporary is left */
            }
        }
    }
    /* the sync fails (a file with units: its fdatasync; a small one: the syncfs at finish): the
     * file is never renamed into place (the sync comes first) */
    static const size_t lens[] = {3, 5 * UNIT + 1};
    for (size_t l = 0; l < 2; l++) {
        for (int direct = 0; direct < 2; direct++) {
            ard_error err;
            ard_error_init(&err);
            ard_status st = batch_failing(path, src, lens[l], direct, ARD_IO_FSYNC, 1, EIO, &err);
            assert_int_equal(st, ARD_EIO);
            assert_non_null(strstr(err.msg, l == 0 || !direct
                                                ? "syncfs of the file system holding temporary"
                                                : "fdatasync of temporary file"));
            assert_non_null(strstr(err.msg, path));
            assert_int_equal(access(path, F_OK), -1);
            assert_int_equal(ard_test_count_entries(dir), 0);
            ard_error_init(&err);
            st = batch_failing(path, src, lens[l], direct, ARD_IO_RENAME, 1, EIO, &err);
            assert_int_equal(st, ARD_EIO);
            assert_non_null(strstr(err.msg, "rename from"));
            assert_int_equal(access(path, F_OK), -1);
            assert_int_equal(ard_test_count_entries(dir), 0);
            /* the directories' sync failing at finish (an fsync of each, or the syncfs after the
             * deferred renames): the file is there, the error says so */
            ard_error_init(&err);
            st = batch_failing(path, src, lens[l], direct, ARD_IO_FSYNC, 2, EIO, &err);
            assert_int_equal(st, ARD_EIO);
            assert_non_null(strstr(err.msg, l == 0 || !direct ? "syncfs after renaming"
                                                              : "fsync of directory"));
            check_file(path, src, lens[l]);
            assert_int_equal(unlink(path), 0);
        }
    }
    /* without a fault the file appears whole */
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(batch_failing(path, src, len, 1, 0, 0, 0, &err), ARD_OK);
    check_file(path, src, len);
    assert_int_equal(unlink(path), 0);
    free(src);
    ard_test_rmtree(dir);
    free(dir);
}

#define KILL_FILES 3

static size_t kill_size(int gen, int file) {
    return 2 * UNIT + (size_t)gen * 4099u + (size_t)file * 8192u;
}

/* Child of the kill test: writes generation `gen` of every file into one batch, in paced pieces
 * (so the parent's kill lands at different stages), then finishes. */
static void kill_child(const char *dir, int gen, int ready_fd) {
    static uint8_t chunk[262144];
    memset(chunk, 'A' + gen, sizeof chunk);
    ard_atomic_batch *b = NULL;
    if (ard_atomic_batch_new(2, &b, NULL) != ARD_OK) {
        _exit(2);
    }
    if (ready_fd >= 0 && write(ready_fd, "r", 1) != 1) {
        _exit(5);
    }
    for (int i = 0; i < KILL_FILES; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/k%d.bin", dir, i);
        ard_atomic_file *f = NULL;
        if (ard_atomic_open(path, &f, NULL) != ARD_OK) {
            _exit(2);
        }
        ard_atomic_direct_io(f);
        ard_atomic_in_batch(f, b);
        size_t size = kill_size(gen, i);
        for (size_t done = 0; done < size; done += sizeof chunk) {
            size_t n = size - done < sizeof chunk ? size - done : sizeof chunk;
            if (ard_atomic_write(f, chunk, n, NULL) != ARD_OK) {
                _exit(3);
            }
            struct timespec pace = {0, 300000L};
            nanosleep(&pace, NULL);
        }
        if (ard_atomic_commit(f, NULL) != ARD_OK) {
            _exit(4);
        }
    }
    _exit(ard_atomic_batch_finish(b, NULL) == ARD_OK ? 0 : 6);
}

/* The file holds one whole generation: returns it. */
static int whole_generation(const char *dir, int file) {
    char path[700];
    snprintf(path, sizeof path, "%s/k%d.bin", dir, file);
    size_t len = 0;
    uint8_t *data = ard_test_read_file(path, &len);
    assert_non_null(data);
    int gen = data[0] - 'A';
    assert_int_equal(len, kill_size(gen, file));
    for (size_t i = 0; i < len; i++) {
        if (data[i] != data[0]) {
            fail_msg("mixed content in file %d at byte %zu", file, i);
        }
    }
    free(data);
    return gen;
}

static void run_child(const char *dir, int gen, uint64_t *seed, int kill_it) {
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        kill_child(dir, gen, ready[1]);
    }
    close(ready[1]);
    char byte;
    assert_int_equal(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    int status = 0;
    if (kill_it) {
        *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
        struct timespec delay = {0, (long)((*seed >> 33) % 400000u) * 1000L};
        nanosleep(&delay, NULL);
        kill(pid, SIGKILL);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!kill_it) {
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

void test_atomic_batch_kill(void **state) {
    (void)state;
    char *dir = ard_test_tmpdir("batch-kill");
    assert_non_null(dir);
    uint64_t seed = 0xba7c4ULL;
    int current[KILL_FILES];
    run_child(dir, 0, &seed, 0);
    for (int i = 0; i < KILL_FILES; i++) {
        current[i] = whole_generation(dir, i);
        assert_int_equal(current[i], 0);
    }
    int replaced = 0;
    for (int gen = 1; gen <= 6; gen++) {
        run_child(dir, gen, &seed, 1);
        for (int i = 0; i < KILL_FILES; i++) {
            int g = whole_generation(dir, i);
            assert_true(g == current[i] || g == gen);
            replaced += g == gen;
            current[i] = g;
        }
    }
    run_child(dir, 7, &seed, 0);
    for (int i = 0; i < KILL_FILES; i++) {
        assert_int_equal(whole_generation(dir, i), 7);
    }
    print_message("batch kill test: %d of %d files replaced before the kill\n", replaced,
                  6 * KILL_FILES);
    ard_test_rmtree(dir); /* also removes temporaries the killed children left */
    free(dir);
}
