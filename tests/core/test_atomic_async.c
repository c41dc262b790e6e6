/* The O_DIRECT atomic writer's I/O thread (ard_atomic_direct_io): full units are written by a
 * thread of the file's own while the caller gathers the next, a bounded ring of unit buffers. The
 * bytes must be those of the synchronous, buffered path for every size (the ring wrapping many
 * times, exactly the ring's size, tiny files, uneven tails, tails of whole 4096-byte blocks); a
 * write failing in the thread (ENOSPC, EIO, a short write) must come back from a later write or
 * the commit with the file and the failing unit's offset, leaving no file and no temporary; an
 * EINVAL in the middle of the file turns O_DIRECT off for the rest; an abort with units in flight
 * leaves nothing behind. Runs under TSan too (tsan_core). */
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

void test_atomic_async_bytes(void **state);
void test_atomic_async_errors(void **state);
void test_atomic_async_fallback_midway(void **state);
void test_atomic_async_abort(void **state);

#define UNIT ((size_t)4 << 20)
#define EXT4_MAGIC 0xEF53

/* Bytes that differ at every offset (a unit written twice, dropped or misplaced shows). */
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

static int is_ext4(const char *dir) {
    struct statfs fs;
    return statfs(dir, &fs) == 0 && fs.f_type == EXT4_MAGIC;
}

/* Writes src[0, len) in pieces of `piece` bytes and commits; returns the O_DIRECT bytes after the
 * last write (the units: ard_atomic_direct_bytes waits for the ones in flight). */
static int64_t write_pieces(const char *path, const uint8_t *src, size_t len, size_t piece,
                            int direct) {
    ard_error err;
    ard_error_init(&err);
    ard_atomic_file *f = NULL;
    assert_int_equal(ard_atomic_open(path, &f, &err), ARD_OK);
    if (direct) {
        ard_atomic_direct_io(f);
    }
    for (size_t at = 0; at < len; at += piece) {
        size_t n = len - at < piece ? len - at : piece;
        assert_int_equal(ard_atomic_write(f, src + at, n, &err), ARD_OK);
    }
    assert_int_equal(ard_atomic_tell(f), (int64_t)len);
    int64_t direct_bytes = ard_atomic_direct_bytes(f);
    assert_int_equal(ard_atomic_commit(f, &err), ARD_OK);
    return direct_bytes;
}

static void check_same(const char *a, const char *b, const uint8_t *want, size_t len) {
    size_t na = 0, nb = 0;
    uint8_t *ga = ard_test_read_file(a, &na);
    uint8_t *gb = ard_test_read_file(b, &nb);
    assert_int_equal(na, len);
    assert_int_equal(nb, len);
    if (len) {
        assert_non_null(ga);
        assert_non_null(gb);
        assert_memory_equal(ga, want, len);
        assert_memory_equal(gb, ga, len);
    }
    free(ga);
    free(gb);
}

void test_atomic_async_bytes(void **state) {
    (void)state;
    char *dir = ard_test_tmpdir("async");
    assert_non_null(dir);
    int ext4 = is_ext4(dir);
    static const struct {
        size_t len, piece;
    } cases[] = {
        {0, 1},                          /* empty */
        {1, 1},                          /* tiny */
        {4095, 1000},                    /* under one block */
        {4096, 4096},                    /* one whole block, no unit */
        {4097, 3},                       /* a block + 1 */
        {(size_t)3 << 20, 65536},        /* no whole unit, whole blocks */
        {UNIT, 4096},                    /* one unit exactly */
        {UNIT, UNIT},                    /* one unit in one call */
        {3 * UNIT, 1000003},             /* as many units as the ring holds */
        {3 * UNIT + 1, 1000003},         /* ... + 1 byte */
        {4 * UNIT + 8192, 2 * UNIT + 1}, /* the ring wraps; a tail of whole blocks */
        {11 * UNIT + 12345, 777777},     /* many wraps, an uneven tail */
        {7 * UNIT, 7 * UNIT},            /* 7 units in one call */
    };
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/async.bin", dir);
    snprintf(b, sizeof b, "%s/sync.bin", dir);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t len = cases[c].len;
        uint8_t *src = pattern(len, (uint32_t)c);
        int64_t direct = write_pieces(a, src, len, cases[c].piece, 1);
        assert_int_equal(write_pieces(b, src, len, cases[c].piece, 0), 0);
        check_same(a, b, src, len);
        if (ext4) {
            assert_int_equal(direct, (int64_t)(len - len % UNIT));
        }
        free(src);
    }
    assert_int_equal(unlink(a), 0);
    assert_int_equal(unlink(b), 0);
    assert_int_equal(ard_test_count_entries(dir), 0);
    ard_test_rmtree(dir);
    free(dir);
}

/* Writes len bytes with the nth write failing (sys_errno, or a short write); returns the status
 * and leaves the message in *err. The failure comes back from a later write or from commit. */
static ard_status write_failing(const char *path, const uint8_t *src, size_t len, int64_t nth,
                                int32_t sys_errno, ard_error *err) {
    ard_atomic_file *f = NULL;
    assert_int_equal(ard_atomic_open(path, &f, err), ARD_OK);
    ard_atomic_direct_io(f);
    ard_io_fail_nth(ARD_IO_WRITE, nth, sys_errno);
    ard_status st = ARD_OK;
    for (size_t at = 0; st == ARD_OK && at < len; at += 999999) {
        size_t n = len - at < 999999 ? len - at : 999999;
        st = ard_atomic_write(f, src + at, n, err);
    }
    if (st == ARD_OK) {
        st = ard_atomic_commit(f, err); /* frees f also on failure */
    } else {
        ard_atomic_abort(f);
    }
    ard_io_fail_nth(0, 0, 0);
    return st;
}

void test_atomic_async_errors(void **state) {
    (void)state;
    char *dir = ard_test_tmpdir("async-err");
    assert_non_null(dir);
    char path[600];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    /* writes: 6 units, then the tail's whole block with O_DIRECT (where the file system takes it)
     * and its last 904 bytes */
    size_t len = 6 * UNIT + 5000;
    uint8_t *src = pattern(len, 7);
    static const int32_t errnos[] = {ENOSPC, EIO, ARD_IO_SHORT_WRITE};
    int64_t writes = is_ext4(dir) ? 8 : 7;
    for (int64_t nth = 1; nth <= writes; nth++) {
        for (size_t k = 0; k < sizeof errnos / sizeof *errnos; k++) {
            ard_error err;
            ard_error_init(&err);
            ard_status st = write_failing(path, src, len, nth, errnos[k], &err);
            assert_int_equal(st, ARD_EIO);
            /* the failing write's offset: unit nth - 1, then the tail's block, then its rest */
            int64_t at = nth <= 6 ? (int64_t)((size_t)(nth - 1) * UNIT)
                                  : (int64_t)(6 * UNIT) + (nth == 8 ? 4096 : 0);
            char want[64];
            snprintf(want, sizeof want, "at offset %lld ", (long long)at);
            assert_non_null(strstr(err.msg, path));
            assert_non_null(strstr(err.msg, want));
            assert_int_equal(access(path, F_OK), -1);         /* no file appeared */
            assert_int_equal(ard_test_count_entries(dir), 0); /* and no temporary is left */
        }
    }
    /* the same bytes without a fault: the file appears whole */
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(write_failing(path, src, len, 0, 0, &err), ARD_OK);
    check_same(path, path, src, len);
    assert_int_equal(unlink(path), 0);
    free(src);
    ard_test_rmtree(dir);
    free(dir);
}

void test_atomic_async_fallback_midway(void **state) {
    (void)state;
    char *dir = ard_test_tmpdir("async-inval");
    assert_non_null(dir);
    char path[600];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    if (!is_ext4(dir)) { /* EINVAL stays an error where O_DIRECT never took */
        ard_test_rmtree(dir);
        free(dir);
        skip();
    }
    size_t len = 5 * UNIT + 77;
    uint8_t *src = pattern(len, 11);
    /* the second unit refused with EINVAL after the first went with O_DIRECT: the rest of the
     * file goes through the page cache, every byte in place */
    ard_io_fail_nth(ARD_IO_WRITE, 2, EINVAL);
    int64_t direct = write_pieces(path, src, len, 123457, 1);
    ard_io_fail_nth(0, 0, 0);
    check_same(path, path, src, len);
    assert_int_equal(direct, (int64_t)UNIT);
    assert_int_equal(unlink(path), 0);
    free(src);
    ard_test_rmtree(dir);
    free(dir);
}

void test_atomic_async_abort(void **state) {
    (void)state;
    char *dir = ard_test_tmpdir("async-abort");
    assert_non_null(dir);
    char path[600];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    size_t len = 9 * UNIT + 3;
    uint8_t *src = pattern(len, 13);
    ard_error err;
    ard_error_init(&err);
    /* an older file stays intact when a new one is aborted with units in flight */
    assert_int_equal(ard_file_write_atomic(path, "old", 3, &err), ARD_OK);
    for (int rep = 0; rep < 4; rep++) {
        ard_atomic_file *f = NULL;
        assert_int_equal(ard_atomic_open(path, &f, &err), ARD_OK);
        ard_atomic_direct_io(f);
        size_t upto = (size_t)(rep + 1) * 2 * UNIT + (size_t)rep;
        assert_int_equal(ard_atomic_write(f, src, upto < len ? upto : len, &err), ARD_OK);
        ard_atomic_abort(f);
        size_t n = 0;
        uint8_t *got = ard_test_read_file(path, &n);
        assert_int_equal(n, 3);
        assert_memory_equal(got, "old", 3);
        free(got);
        assert_int_equal(ard_test_count_entries(dir), 1);
    }
    assert_int_equal(unlink(path), 0);
    free(src);
    ard_test_rmtree(dir);
    free(dir);
}
