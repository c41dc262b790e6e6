/* ard_atomic_direct_io: whole 4 MiB units go with O_DIRECT where the file system takes it, the tail
 * through the page cache; the bytes, the logical offset and the atomic replacement are those of a
 * buffered write for every size and alignment (exact units, units + an unaligned tail, a tail
 * alone, odd-sized pieces, a caller buffer at an unaligned address), and a write refused with
 * EINVAL (a file system that takes the flag but not the I/O) falls back to buffered writes. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

void test_atomic_direct_io(void **state);
void test_atomic_direct_fallback(void **state);

#define UNIT ((size_t)4 << 20)
#define EXT4_MAGIC 0xEF53

static char *make_dir(const char *base) {
    char *dir = malloc(512);
    assert_non_null(dir);
    snprintf(dir, 512, "%s/ard-direct-XXXXXX", base);
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* Bytes that differ at every offset (a misplaced unit or tail shows). */
static uint8_t *pattern(size_t len) {
    uint8_t *p = malloc(len + 4096 + 1);
    assert_non_null(p);
    for (size_t i = 0; i < len + 4096 + 1; i++) {
        p[i] = (uint8_t)((i * 2654435761u) >> 11);
    }
    return p;
}

/* Writes src[0, total) in pieces of `piece` bytes (0: one call), committing; returns the bytes that
 * went with O_DIRECT. */
static int64_t write_file(const char *path, const uint8_t *src, size_t total, size_t piece,
                          int direct) {
    ard_error err;
    ard_error_init(&err);
    ard_atomic_file *f = NULL;
    assert_int_equal(ard_atomic_open(path, &f, &err), ARD_OK);
    if (direct) {
        ard_atomic_direct_io(f);
    }
    size_t step = piece ? piece : (total ? total : 1);
    for (size_t at = 0; at < total; at += step) {
        size_t n = total - at < step ? total - at : step;
        assert_int_equal(ard_atomic_write(f, src + at, n, &err), ARD_OK);
        assert_int_equal(ard_atomic_tell(f), (int64_t)(at + n));
    }
    int64_t direct_bytes = ard_atomic_direct_bytes(f);
    assert_int_equal(ard_atomic_commit(f, &err), ARD_OK);
    return direct_bytes;
}

static void check_file(const char *path, const uint8_t *want, size_t len) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t *got = malloc(len + 1);
    assert_non_null(got);
    size_t n = fread(got, 1, len + 1, fp);
    fclose(fp);
    assert_int_equal(n, len);
    assert_memory_equal(got, want, len);
    free(got);
}

/* Every case in `dir`; expect_direct: the file system is known to take O_DIRECT (ext4). */
static void direct_cases(const char *dir, int expect_direct) {
    static const struct {
        size_t len, piece, skew; /* skew: the caller's buffer starts this far past an aligned one */
    } cases[] = {
        {UNIT, 0, 0},                      /* one unit, straight from an aligned caller buffer */
        {2 * UNIT, 0, 1},                  /* two units from an unaligned address: via the buffer */
        {(size_t)9 << 20 | 17, 100003, 0}, /* odd pieces, 2 units + an unaligned tail */
        {UNIT + 1, 0, 0},                  /* one unit + a 1-byte tail */
        {UNIT - 1, 0, 0},                  /* no whole unit: all tail */
        {100, 7, 0},                       /* small file */
        {0, 0, 0},                         /* empty file */
    };
    char path[600];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t len = cases[c].len;
        uint8_t *raw = pattern(len);
        uint8_t *aligned = raw + (4096 - (uintptr_t)raw % 4096) % 4096;
        const uint8_t *src = aligned + cases[c].skew;
        int64_t direct = write_file(path, src, len, cases[c].piece, 1);
        check_file(path, src, len);
        int64_t units = (int64_t)(len - len % UNIT);
        assert_true(direct == 0 || direct == units);
        if (expect_direct) {
            assert_int_equal(direct, units);
        }
        /* the same file written buffered, over it: same bytes, no O_DIRECT */
        assert_int_equal(write_file(path, src, len, cases[c].piece, 0), 0);
        check_file(path, src, len);
        free(raw);
    }
    assert_int_equal(unlink(path), 0);
}

static void remove_dir(char *dir) {
    assert_int_equal(rmdir(dir), 0); /* empty: no temporary left behind */
    free(dir);
}

void test_atomic_direct_io(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    char *dir = make_dir(base && *base ? base : "/tmp");
    assert_non_null(dir);
    struct statfs fs;
    assert_int_equal(statfs(dir, &fs), 0);
    direct_cases(dir, fs.f_type == EXT4_MAGIC);
    remove_dir(dir);
    /* tmpfs: O_DIRECT refused on older kernels (the fallback), taken on newer ones */
    char *shm = make_dir("/dev/shm");
    if (shm) {
        direct_cases(shm, 0);
        remove_dir(shm);
    }
}

void test_atomic_direct_fallback(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    char *dir = make_dir(base && *base ? base : "/tmp");
    assert_non_null(dir);
    char path[600];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    size_t len = 2 * UNIT + 4099;
    uint8_t *raw = pattern(len);
    /* The first write (a whole unit, with O_DIRECT) refused with EINVAL: the file is written
     * through the page cache instead, every byte in place. */
    ard_io_fail_nth(ARD_IO_WRITE, 1, EINVAL);
    int64_t direct = write_file(path, raw, len, 65536, 1);
    ard_io_fail_nth(0, 0, 0);
    assert_int_equal(direct, 0);
    check_file(path, raw, len);
    /* Without ard_atomic_direct_io an EINVAL from write stays an error naming the file, and the
     * previous file is intact. */
    ard_io_fail_nth(ARD_IO_WRITE, 1, EINVAL);
    ard_error err;
    ard_error_init(&err);
    ard_atomic_file *f = NULL;
    assert_int_equal(ard_atomic_open(path, &f, &err), ARD_OK);
    ard_status st = ard_atomic_write(f, raw + 1, len, &err);
    ard_io_fail_nth(0, 0, 0);
    assert_int_equal(st, ARD_EIO);
    assert_non_null(strstr(err.msg, path));
    ard_atomic_abort(f);
    check_file(path, raw, len);
    assert_int_equal(unlink(path), 0);
    free(raw);
    remove_dir(dir);
}
