/* Unit tests of the core module: errors, allocation failure injection, buffers, files and the
 * atomic writer (including a kill-at-random-points crash test), the thread pool, progress and JSON.
 */
/* cmocka needs these headers included before it. */
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
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// ---- helpers ------------------------------------------------------------------------------------

typedef struct tmpdir {
    char path[256];
} tmpdir;

static void tmpdir_make(tmpdir *t) {
    const char *base = getenv("TMPDIR");
    snprintf(t->path, sizeof t->path, "%s/ard-core-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(t->path));
}

static void join(char *out, size_t cap, const tmpdir *t, const char *name) {
    snprintf(out, cap, "%s/%s", t->path, name);
}

/* Number of directory entries other than . and .. */
static int count_entries(const tmpdir *t) {
    return ard_test_count_entries(t->path);
}

static void tmpdir_remove(tmpdir *t) {
    DIR *d = opendir(t->path);
    assert_non_null(d);
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof p, "%s/%s", t->path, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    assert_int_equal(rmdir(t->path), 0);
}

static void write_plain(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) {
        assert_int_equal(fwrite(data, 1, len, f), len);
    }
    assert_int_equal(fclose(f), 0);
}

/* Whole file into a malloc'd buffer (test-side, plain libc). */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return data;
}

/* xorshift64*: the tests' explicit seeded generator. */
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

// ---- status and errors --------------------------------------------------------------------------

static void test_status_names(void **state) {
    (void)state;
#define CHECK_STATUS(name, value, text)                                                            \
    assert_int_equal(name, value);                                                                 \
    assert_string_equal(ard_status_str(name), text);                                               \
    assert_string_equal(ard_status_name(name), #name);
    ARD_STATUS_LIST(CHECK_STATUS)
#undef CHECK_STATUS
    assert_string_equal(ard_status_str((ard_status)999), "unknown status");
    assert_string_equal(ard_status_name((ard_status)999), "ARD_UNKNOWN");
}

static void test_error_first_wins(void **state) {
    (void)state;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(err.code, ARD_OK);
    assert_string_equal(err.msg, "");
    assert_int_equal(ard_error_set(&err, ARD_ECORRUPT, "bad page at %d", 42), ARD_ECORRUPT);
    assert_int_equal(ard_error_set(&err, ARD_EIO, "outer failure"), ARD_EIO);
    assert_int_equal(err.code, ARD_ECORRUPT);
    assert_string_equal(err.msg, "bad page at 42");
    assert_int_equal(ard_error_set(NULL, ARD_EINVAL, "ignored"), ARD_EINVAL);
}

static void test_error_errno_and_prefix(void **state) {
    (void)state;
    ard_error err = {0};
    ard_error_set_errno(&err, ARD_ENOENT, ENOENT, "%s", "/no/such");
    assert_int_equal(err.sys_errno, ENOENT);
    char want[600];
    snprintf(want, sizeof want, "/no/such: %s", strerror(ENOENT));
    assert_string_equal(err.msg, want);

    ard_error_prefix(&err, "reading tile %d: ", 7);
    snprintf(want, sizeof want, "reading tile 7: /no/such: %s", strerror(ENOENT));
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, ARD_ENOENT);
    ard_error_prefix(NULL, "nothing");

    /* A long prefix keeps the message terminated and within the buffer. */
    char long_prefix[300];
    memset(long_prefix, 'p', sizeof long_prefix - 1);
    long_prefix[sizeof long_prefix - 1] = '\0';
    for (int i = 0; i < 3; i++) {
        ard_error_prefix(&err, "%s", long_prefix);
    }
    assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
}

// ---- allocation and buffers ---------------------------------------------------------------------

static void test_alloc_fail_nth(void **state) {
    (void)state;
    long before = ard_alloc_count();
    ard_alloc_fail_after(3);
    void *a = ard_malloc(8);
    void *b = ard_calloc(2, 8);
    void *c = ard_malloc(8);
    void *d = ard_malloc(8);
    ard_alloc_fail_after(0);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_non_null(d);
    assert_int_equal(ard_alloc_count() - before, 4);
    ard_free(a);
    ard_free(b);
    ard_free(d);

    void *zero = ard_malloc(0);
    assert_non_null(zero);
    ard_free(zero);
    ard_alloc_fail_after(1);
    assert_null(ard_strdup("x"));
    char *s = ard_strdup("hello");
    assert_string_equal(s, "hello");
    ard_free(s);
}

static void test_buf_sticky_failure(void **state) {
    (void)state;
    ard_buf b;
    ard_buf_init(&b);
    ard_buf_appendf(&b, "%d-%s", 12, "ab");
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "12-ab", 5);
    ard_buf_reset(&b);
    ard_buf_reset(&b); /* safe twice */

    ard_alloc_fail_after(1);
    ard_buf_append(&b, "abc", 3);
    assert_int_equal(b.failed, 1);
    assert_int_equal(b.len, 0);
    ard_buf_append(&b, "def", 3); /* allocation would succeed now; the failure is sticky */
    ard_buf_appendf(&b, "%s", "ghi");
    assert_int_equal(b.failed, 1);
    assert_int_equal(b.len, 0);
    assert_int_not_equal(ard_buf_reserve(&b, 1), 0);
    ard_buf_reset(&b);
    assert_int_equal(b.failed, 0);

    /* appendf longer than its stack buffer */
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ard_buf_appendf(&b, "<%s>", big);
    assert_int_equal(b.len, sizeof big + 1);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[b.len - 1], '>');
    ard_buf_reset(&b);
}

// ---- files --------------------------------------------------------------------------------------

/* ard_path_real_fd: the descriptor's own path from /proc, realpath(path) without it. */
static void test_path_real_fd(void **state) {
    (void)state;
    tmpdir t;
    tmpdir_make(&t);
    char dir[512], link[512], real[PATH_MAX], want[PATH_MAX];
    join(dir, sizeof dir, &t, "d");
    join(link, sizeof link, &t, "l");
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(symlink("d", link), 0);
    assert_non_null(realpath(dir, want));
    int fd = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ard_path_real_fd(fd, NULL, real, NULL), ARD_OK); /* /proc, no path needed */
    assert_string_equal(real, want);
    char moved[512], moved_real[PATH_MAX];
    join(moved, sizeof moved, &t, "m");
    assert_int_equal(rename(dir, moved), 0); /* the descriptor follows the directory */
    assert_non_null(realpath(moved, moved_real));
    assert_int_equal(ard_path_real_fd(fd, link, real, NULL), ARD_OK);
    assert_string_equal(real, moved_real);
    close(fd);
    /* no descriptor (as without /proc): realpath of the path, its errors */
    assert_int_equal(ard_path_real_fd(-1, moved, real, NULL), ARD_OK);
    assert_string_equal(real, moved_real);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_path_real_fd(-1, link, real, &err), ARD_ENOENT); /* dangling now */
    assert_int_equal(ard_path_real_fd(-1, NULL, real, NULL), ARD_EINVAL);
    assert_int_equal(rmdir(moved), 0);
    tmpdir_remove(&t);
}

static void test_file_map(void **state) {
    (void)state;
    tmpdir t;
    tmpdir_make(&t);
    char path[512];
    join(path, sizeof path, &t, "data.bin");
    write_plain(path, "0123456789", 10);

    ard_mapped_file mf;
    ard_error err = {0};
    assert_int_equal(ard_file_map(path, &mf, &err), ARD_OK);
    assert_int_equal(mf.size, 10);
    assert_memory_equal(mf.data, "0123456789", 10);
    ard_file_unmap(&mf);
    assert_null(mf.data);
    ard_file_unmap(&mf); /* safe twice */

    int64_t size = -1;
    assert_int_equal(ard_file_size(path, &size, &err), ARD_OK);
    assert_int_equal(size, 10);

    join(path, sizeof path, &t, "empty.bin");
    write_plain(path, "", 0);
    assert_int_equal(ard_file_map(path, &mf, &err), ARD_OK);
    assert_null(mf.data);
    assert_int_equal(mf.size, 0);
    ard_file_unmap(&mf);

    join(path, sizeof path, &t, "missing.bin");
    assert_int_equal(ard_file_map(path, &mf, &err), ARD_ENOENT);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(err.sys_errno, ENOENT);
    ard_error_init(&err);
    assert_int_equal(ard_file_size(path, &size, &err), ARD_ENOENT);
    assert_non_null(strstr(err.msg, path));
    tmpdir_remove(&t);
}

static void test_file_map_pipe(void **state) {
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "piped", 5), 5);
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    ard_mapped_file mf;
    assert_int_equal(ard_file_map(path, &mf, NULL), ARD_OK);
    assert_int_equal(mf.size, 5);
    assert_memory_equal(mf.data, "piped", 5);
    ard_file_unmap(&mf);
    close(fds[0]);
}

static void test_pread_full(void **state) {
    (void)state;
    tmpdir t;
    tmpdir_make(&t);
    char path[512];
    join(path, sizeof path, &t, "p.bin");
    write_plain(path, "abcdefghij", 10);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);

    char got[16] = {0};
    ard_error err = {0};
    assert_int_equal(ard_pread_full(fd, got, 4, 3, path, &err), ARD_OK);
    assert_memory_equal(got, "defg", 4);
    assert_int_equal(ard_pread_full(fd, got, 0, 10, path, &err), ARD_OK);

    assert_int_equal(ard_pread_full(fd, got, 8, 6, path, &err), ARD_EEOF);
    assert_int_equal(err.code, ARD_EEOF);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "offset 6"));
    close(fd);

    ard_error_init(&err);
    assert_int_equal(ard_pread_full(fd, got, 1, 0, path, &err), ARD_EIO); /* closed fd */
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(err.sys_errno, EBADF);
    tmpdir_remove(&t);
}

static void test_atomic_write(void **state) {
    (void)state;
    tmpdir t;
    tmpdir_make(&t);
    char path[512];
    join(path, sizeof path, &t, "out.txt");
    ard_error err = {0};

    assert_int_equal(ard_file_write_atomic(path, "first", 5, &err), ARD_OK);
    size_t len;
    uint8_t *data = slurp(path, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "first", 5);
    free(data);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0644 & ~mask);

    /* abort leaves the old file alone and no temporary behind */
    ard_atomic_file *f = NULL;
    assert_int_equal(ard_atomic_open(path, &f, &err), ARD_OK);
    assert_int_equal(ard_atomic_write(f, "second!", 7, &err), ARD_OK);
    assert_int_equal(ard_atomic_tell(f), 7);
    assert_int_equal(count_entries(&t), 2);
    ard_atomic_abort(f);
    ard_atomic_abort(NULL);
    assert_int_equal(count_entries(&t), 1);
    data = slurp(path, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "first", 5);
    free(data);

    /* commit replaces */
    assert_int_equal(ard_atomic_open(path, &f, &err), ARD_OK);
    assert_int_equal(ard_atomic_write(f, "second", 6, &err), ARD_OK);
    assert_int_equal(ard_atomic_write(f, " and more", 9, &err), ARD_OK);
    assert_int_equal(ard_atomic_tell(f), 15);
    assert_int_equal(ard_atomic_commit(f, &err), ARD_OK);
    data = slurp(path, &len);
    assert_int_equal(len, 15);
    assert_memory_equal(data, "second and more", 15);
    free(data);
    assert_int_equal(count_entries(&t), 1);

    /* deferred sync: same atomic replacement, durable after ard_sync_filesystem */
    assert_int_equal(ard_atomic_open(path, &f, &err), ARD_OK);
    ard_atomic_defer_sync(f);
    assert_int_equal(ard_atomic_write(f, "third", 5, &err), ARD_OK);
    data = slurp(path, &len);
    assert_memory_equal(data, "second and more", 15); /* not visible before commit */
    free(data);
    assert_int_equal(ard_atomic_commit(f, &err), ARD_OK);
    data = slurp(path, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "third", 5);
    free(data);
    assert_int_equal(count_entries(&t), 1);
    assert_int_equal(ard_sync_filesystem(path, &err), ARD_OK);
    ard_error_init(&err);
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/no/such", path);
    assert_int_equal(ard_sync_filesystem(missing, &err), ARD_ENOENT);
    assert_non_null(strstr(err.msg, "no/such"));
    tmpdir_remove(&t);
}

static void test_atomic_errors(void **state) {
    (void)state;
    tmpdir t;
    tmpdir_make(&t);
    char path[512];
    join(path, sizeof path, &t, "no-such-dir/out.txt");
    ard_error err = {0};
    ard_atomic_file *f = (ard_atomic_file *)&err; /* must be reset to NULL */
    assert_int_equal(ard_atomic_open(path, &f, &err), ARD_ENOENT);
    assert_null(f);
    assert_non_null(strstr(err.msg, path));

    /* Every allocation failure inside open is reported cleanly, leaving no file behind. */
    join(path, sizeof path, &t, "x.bin");
    for (long n = 1; n <= 4; n++) {
        ard_error_init(&err);
        ard_alloc_fail_after(n);
        assert_int_equal(ard_atomic_open(path, &f, &err), ARD_ENOMEM);
        ard_alloc_fail_after(0);
        assert_null(f);
        assert_int_equal(count_entries(&t), 0);
    }
    /* A relative path writes into the current directory. */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(t.path), 0);
    assert_int_equal(ard_file_write_atomic("rel.txt", "r", 1, &err), ARD_OK);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(count_entries(&t), 1);
    tmpdir_remove(&t);
}

/* Child side of the crash test: writes generation `gen` in paced chunks (so the parent's kill lands
 * at different stages), telling the parent through `ready_fd` once the temporary exists. */
static void crash_child(const char *path, int gen, size_t size, int ready_fd) {
    static uint8_t chunk[65536];
    memset(chunk, 'A' + gen, sizeof chunk);
    ard_atomic_file *f = NULL;
    if (ard_atomic_open(path, &f, NULL) != ARD_OK) {
        _exit(2);
    }
    if (ready_fd >= 0 && write(ready_fd, "r", 1) != 1) {
        _exit(5);
    }
    for (size_t done = 0; done < size; done += sizeof chunk) {
        size_t n = size - done < sizeof chunk ? size - done : sizeof chunk;
        if (ard_atomic_write(f, chunk, n, NULL) != ARD_OK) {
            _exit(3);
        }
        struct timespec pace = {0, 250000L};
        nanosleep(&pace, NULL);
    }
    _exit(ard_atomic_commit(f, NULL) == ARD_OK ? 0 : 4);
}

static size_t crash_size(int gen) {
    return (size_t)(4 << 20) + (size_t)gen * 4099u;
}

/* The final path holds exactly one complete generation: returns it, or fails the test. */
static int check_whole_generation(const char *path) {
    size_t len;
    uint8_t *data = slurp(path, &len);
    assert_true(len > 0);
    int gen = data[0] - 'A';
    assert_int_equal(len, crash_size(gen));
    for (size_t i = 0; i < len; i++) {
        if (data[i] != data[0]) {
            fail_msg("mixed content at byte %zu", i);
        }
    }
    free(data);
    return gen;
}

static void test_atomic_crash_safety(void **state) {
    (void)state;
    tmpdir t;
    tmpdir_make(&t);
    char path[512];
    join(path, sizeof path, &t, "big.bin");
    uint64_t seed = 0x5eed1234abcdULL;
    int current = 0;
    uint8_t *initial = malloc(crash_size(0));
    assert_non_null(initial);
    memset(initial, 'A', crash_size(0));
    assert_int_equal(ard_file_write_atomic(path, initial, crash_size(0), NULL), ARD_OK);
    free(initial);

    int replaced = 0;
    for (int iter = 1; iter <= 8; iter++) {
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(ready[0]);
            crash_child(path, iter, crash_size(iter), ready[1]);
        }
        close(ready[1]);
        char byte;
        assert_int_equal(read(ready[0], &byte, 1), 1);
        close(ready[0]);
        /* The child needs ~20-40 ms to write: kill it mid-write, or during or after the commit. */
        struct timespec delay = {0, (long)(rng_next(&seed) % 70000u) * 1000L};
        nanosleep(&delay, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        int gen = check_whole_generation(path);
        assert_true(gen == current || gen == iter);
        replaced += gen == iter;
        current = gen;
    }
    /* One last uninterrupted run must replace the file. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        crash_child(path, 9, crash_size(9), -1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(check_whole_generation(path), 9);
    print_message("crash test: %d of 8 killed writers had committed\n", replaced);
    tmpdir_remove(&t); /* also removes temporaries the killed children left */
}

// ---- thread pool --------------------------------------------------------------------------------

typedef struct pool_sum {
    atomic_uchar *seen;
    atomic_ullong sum;
    atomic_int max_thread;
} pool_sum;

static void sum_task(void *arg, int64_t index, int thread_id) {
    pool_sum *s = arg;
    atomic_fetch_add(&s->seen[index], 1);
    atomic_fetch_add(&s->sum, (unsigned long long)index);
    int prev = atomic_load(&s->max_thread);
    while (thread_id > prev && !atomic_compare_exchange_weak(&s->max_thread, &prev, thread_id)) {
    }
}

static void check_pool_sum(ard_pool *pool, int64_t n) {
    pool_sum s;
    s.seen = calloc((size_t)n, sizeof *s.seen);
    assert_non_null(s.seen);
    atomic_init(&s.sum, 0);
    atomic_init(&s.max_thread, 0);
    ard_pool_for(pool, n, sum_task, &s);
    assert_int_equal(atomic_load(&s.sum), (unsigned long long)n * (unsigned long long)(n - 1) / 2);
    for (int64_t i = 0; i < n; i++) {
        if (atomic_load(&s.seen[i]) != 1) {
            fail_msg("index %lld seen %d times", (long long)i, (int)atomic_load(&s.seen[i]));
        }
    }
    assert_true(atomic_load(&s.max_thread) < ard_pool_threads(pool));
    free(s.seen);
}

static void test_pool(void **state) {
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        ard_pool *pool = NULL;
        assert_int_equal(ard_pool_new(threads, &pool, NULL), ARD_OK);
        assert_int_equal(ard_pool_threads(pool), threads);
        check_pool_sum(pool, 1000000);
        check_pool_sum(pool, 3); /* the workers persist across loops */
        ard_pool_for(pool, 0, sum_task, NULL);
        check_pool_sum(pool, 1000000);
        ard_pool_free(pool);
    }
    ard_pool *pool = NULL;
    assert_int_equal(ard_pool_new(0, &pool, NULL), ARD_OK);
    assert_true(ard_pool_threads(pool) >= 1);
    check_pool_sum(pool, 1000);
    ard_pool_free(pool);
    ard_pool_free(NULL);

    ard_error err = {0};
    ard_alloc_fail_after(1);
    assert_int_equal(ard_pool_new(2, &pool, &err), ARD_ENOMEM);
    assert_null(pool);
}

// ---- progress -----------------------------------------------------------------------------------

/* Runs fn with stderr redirected into a file; returns what was written (static buffer). */
static const char *capture_stderr(void (*fn)(void)) {
    static char text[4096];
    tmpdir t;
    tmpdir_make(&t);
    char path[512];
    join(path, sizeof path, &t, "stderr.txt");
    int saved = dup(STDERR_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    tmpdir_remove(&t);
    return text;
}

static void four_rows_and_three(void) {
    ard_progress *p = ard_progress_new("rows", 4);
    for (int i = 0; i < 4; i++) {
        ard_progress_add(p, 1);
    }
    ard_progress_done(p);
    p = ard_progress_new("n", 0); /* no total */
    ard_progress_add(p, 3);
    ard_progress_done(p);
}

/* Not a TTY and ARD_PROGRESS_LINES=S: plain lines at most every S seconds (0: every update), the
 * last count once more at the end if it was not written; nothing with a long interval and a short
 * run, with ARD_NO_PROGRESS, or with a malformed interval. */
static void test_progress_lines_when_asked(void **state) {
    (void)state;
    setenv("ARD_PROGRESS_LINES", "0", 1);
    const char *out = capture_stderr(four_rows_and_three);
    assert_non_null(strstr(out, "rows: 25% 1/4 "));
    assert_non_null(strstr(out, "rows: 100% 4/4 "));
    assert_non_null(strstr(out, "n: 3 "));
    int lines = 0;
    for (const char *c = out; *c; c++) {
        lines += *c == '\n';
    }
    assert_int_equal(lines, 5); /* 4 + 1: the end repeats no line already written */
    assert_null(strchr(out, '\r'));
    setenv("ARD_PROGRESS_LINES", "3600", 1);
    assert_string_equal(capture_stderr(four_rows_and_three), "");
    setenv("ARD_PROGRESS_LINES", "10s", 1);
    assert_string_equal(capture_stderr(four_rows_and_three), "");
    setenv("ARD_PROGRESS_LINES", "0", 1);
    setenv("ARD_NO_PROGRESS", "1", 1);
    assert_string_equal(capture_stderr(four_rows_and_three), "");
    unsetenv("ARD_NO_PROGRESS");
    unsetenv("ARD_PROGRESS_LINES");
}

/* With stderr redirected to a file (not a TTY) the bar must write nothing. */
static void test_progress_quiet_when_not_tty(void **state) {
    (void)state;
    tmpdir t;
    tmpdir_make(&t);
    char path[512];
    join(path, sizeof path, &t, "stderr.txt");
    int saved = dup(STDERR_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    ard_progress *p = ard_progress_new("rows", 100);
    assert_non_null(p);
    for (int i = 0; i < 100; i++) {
        ard_progress_add(p, 1);
    }
    ard_progress_done(p);
    ard_progress_done(NULL);
    ard_progress_add(NULL, 1);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    int64_t size = -1;
    assert_int_equal(ard_file_size(path, &size, NULL), ARD_OK);
    assert_int_equal(size, 0);
    tmpdir_remove(&t);
}

// ---- JSON ---------------------------------------------------------------------------------------

typedef struct json_out {
    ard_buf buf;
    ard_json j;
} json_out;

static void json_begin(json_out *o, int pretty) {
    ard_buf_init(&o->buf);
    ard_json_init(&o->j, &o->buf, pretty);
}

/* Checks the output and frees the buffer. */
static void json_expect(json_out *o, const char *want) {
    assert_int_equal(o->buf.failed, 0);
    ard_buf_append(&o->buf, "", 1);
    assert_string_equal((const char *)o->buf.data, want);
    ard_buf_reset(&o->buf);
}

static void test_json_escapes(void **state) {
    (void)state;
    json_out o;
    json_begin(&o, 0);
    ard_json_string(&o.j, "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f");
    json_expect(&o, "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");

    json_begin(&o, 0);
    ard_json_string_n(&o.j, "a\0b", 3);
    json_expect(&o, "\"a\\u0000b\"");

    json_begin(&o, 0);
    ard_json_string(&o.j, NULL);
    json_expect(&o, "null");
}

static void test_json_utf8(void **state) {
    (void)state;
    json_out o;
    json_begin(&o, 0);
    ard_json_string(&o.j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    json_expect(&o, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");

    struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"a\xff"
         "b",
         3, "\"a\\ufffdb\""},
        {"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},                       /* overlong '/' */
        {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""},            /* surrogate */
        {"\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* > U+10FFFF */
        {"x\xe2\x82", 3, "\"x\\ufffd\\ufffd\""},                     /* truncated at the end */
        {"\x80z", 2, "\"\\ufffdz\""},                                /* lone continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_begin(&o, 0);
        ard_json_string_n(&o.j, cases[i].in, cases[i].len);
        json_expect(&o, cases[i].want);
    }
}

static void expect_double(double v, const char *want) {
    json_out o;
    json_begin(&o, 0);
    ard_json_double(&o.j, v);
    json_expect(&o, want);
}

/* The rendering of v must parse back to exactly v (same bits). */
static void expect_round_trip(double v) {
    json_out o;
    json_begin(&o, 0);
    ard_json_double(&o.j, v);
    ard_buf_append(&o.buf, "", 1);
    double back = strtod((const char *)o.buf.data, NULL);
    assert_memory_equal(&back, &v, sizeof v);
    assert_true(o.buf.len - 1 <= 24);
    ard_buf_reset(&o.buf);
}

static void test_json_doubles(void **state) {
    (void)state;
    expect_double(0.1, "0.1");
    expect_double(1e300, "1e+300");
    expect_double(-0.0, "-0");
    expect_double(1.0, "1");
    expect_double(-2.5, "-2.5");
    expect_double(0.3, "0.3");
    expect_double(0.1 + 0.2, "0.30000000000000004");
    expect_double(NAN, "null");
    expect_double(INFINITY, "null");
    expect_double(-INFINITY, "null");
    double samples[] = {
        1.0 / 3.0,     2.0 / 3.0, 5e-324, 1.7976931348623157e308, 123456789.123456789, -0.0,
        6.02214076e23, 1e-7,      100.0};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        expect_round_trip(samples[i]);
    }
    uint64_t seed = 42;
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = rng_next(&seed);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v)) {
            expect_round_trip(v);
        }
    }
}

static void build_nested(ard_json *j) {
    ard_json_begin_object(j);
    ard_json_key(j, "a");
    ard_json_begin_array(j);
    ard_json_int(j, 1);
    ard_json_uint(j, UINT64_MAX);
    ard_json_begin_object(j);
    ard_json_key(j, "b");
    ard_json_null(j);
    ard_json_end_object(j);
    ard_json_begin_array(j);
    ard_json_end_array(j);
    ard_json_end_array(j);
    ard_json_key(j, "c");
    ard_json_begin_object(j);
    ard_json_end_object(j);
    ard_json_key(j, "d");
    ard_json_bool(j, 1);
    ard_json_key(j, "e");
    ard_json_raw(j, "[true]");
    ard_json_key(j, "f");
    ard_json_int(j, INT64_MIN);
    ard_json_end_object(j);
}

static void test_json_nesting(void **state) {
    (void)state;
    json_out o;
    json_begin(&o, 0);
    build_nested(&o.j);
    json_expect(&o, "{\"a\":[1,18446744073709551615,{\"b\":null},[]],\"c\":{},\"d\":true,"
                    "\"e\":[true],\"f\":-9223372036854775808}");

    json_begin(&o, 1);
    build_nested(&o.j);
    json_expect(&o, "{\n"
                    "  \"a\": [\n"
                    "    1,\n"
                    "    18446744073709551615,\n"
                    "    {\n"
                    "      \"b\": null\n"
                    "    },\n"
                    "    []\n"
                    "  ],\n"
                    "  \"c\": {},\n"
                    "  \"d\": true,\n"
                    "  \"e\": [true],\n"
                    "  \"f\": -9223372036854775808\n"
                    "}");

    json_begin(&o, 0);
    ard_json_begin_array(&o.j);
    ard_json_string(&o.j, "x");
    ard_json_double(&o.j, NAN);
    ard_json_bool(&o.j, 0);
    ard_json_end_array(&o.j);
    json_expect(&o, "[\"x\",null,false]");
}

static void test_json_too_deep(void **state) {
    (void)state;
    json_out o;
    json_begin(&o, 0);
    for (int i = 0; i < 63; i++) {
        ard_json_begin_array(&o.j);
    }
    for (int i = 0; i < 63; i++) {
        ard_json_end_array(&o.j);
    }
    assert_int_equal(o.buf.failed, 0);
    assert_int_equal(o.buf.len, 126);
    ard_buf_reset(&o.buf);

    json_begin(&o, 0);
    for (int i = 0; i < 70; i++) {
        ard_json_begin_array(&o.j);
    }
    assert_int_equal(o.buf.failed, 1);
    ard_buf_reset(&o.buf);
}

/* The byte partitioner (sync's and the cluster's): shares follow bytes, not counts. */
static void test_partition_bytes(void **state) {
    (void)state;
    int64_t bytes[9] = {800, 100, 100, 100, 100, 100, 100, 100, 100};
    int64_t first = -1, count = -1;
    assert_int_equal(ard_partition_bytes(bytes, 9, 0, 2, &first, &count, NULL), ARD_OK);
    assert_int_equal(first, 0);
    assert_int_equal(count, 1);
    assert_int_equal(ard_partition_bytes(bytes, 9, 1, 2, &first, &count, NULL), ARD_OK);
    assert_int_equal(first, 1);
    assert_int_equal(count, 8);
    int64_t zeros[4] = {0, 0, 0, 0};
    assert_int_equal(ard_partition_bytes(zeros, 4, 1, 2, &first, &count, NULL), ARD_OK);
    assert_int_equal(first, 2);
    assert_int_equal(count, 2);
    int64_t one[1] = {5};
    assert_int_equal(ard_partition_bytes(one, 1, 2, 3, &first, &count, NULL), ARD_OK);
    assert_int_equal(first, 1); /* empty share: where the next one starts */
    assert_int_equal(count, 0);
    assert_int_equal(ard_partition_bytes(one, 1, 3, 3, &first, &count, NULL), ARD_EINVAL);
    assert_int_equal(ard_partition_bytes(NULL, 1, 0, 1, &first, &count, NULL), ARD_EINVAL);
    int64_t neg[2] = {1, -1};
    assert_int_equal(ard_partition_bytes(neg, 2, 0, 1, &first, &count, NULL), ARD_EINVAL);
}

void test_dynlib_open(void **state); /* test_dynlib.c */
void test_dynlib_load_once(void **state);

void test_select_kth(void **state); /* test_select.c */
void test_select_kth_rows(void **state);
void test_atomic_direct_io(void **state); /* test_atomic_direct.c */
void test_atomic_direct_fallback(void **state);
void test_atomic_async_bytes(void **state); /* test_atomic_async.c */
void test_atomic_async_errors(void **state);
void test_atomic_async_fallback_midway(void **state);
void test_atomic_async_abort(void **state);
void test_atomic_batch_bytes(void **state); /* test_atomic_batch.c */
void test_atomic_batch_threads(void **state);
void test_atomic_batch_errors(void **state);
void test_atomic_batch_kill(void **state);
void test_utf8_valid(void **state); /* test_utf8.c */
void test_hash_bytes(void **state); /* test_hash.c */

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_partition_bytes),
        cmocka_unit_test(test_select_kth),
        cmocka_unit_test(test_select_kth_rows),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_hash_bytes),
        cmocka_unit_test(test_dynlib_open),
        cmocka_unit_test(test_dynlib_load_once),
        cmocka_unit_test(test_error_first_wins),
        cmocka_unit_test(test_error_errno_and_prefix),
        cmocka_unit_test(test_alloc_fail_nth),
        cmocka_unit_test(test_buf_sticky_failure),
        cmocka_unit_test(test_path_real_fd),
        cmocka_unit_test(test_file_map),
        cmocka_unit_test(test_file_map_pipe),
        cmocka_unit_test(test_pread_full),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_atomic_errors),
        cmocka_unit_test(test_atomic_crash_safety),
        cmocka_unit_test(test_atomic_direct_io),
        cmocka_unit_test(test_atomic_direct_fallback),
        cmocka_unit_test(test_atomic_async_bytes),
        cmocka_unit_test(test_atomic_async_errors),
        cmocka_unit_test(test_atomic_async_fallback_midway),
        cmocka_unit_test(test_atomic_async_abort),
        cmocka_unit_test(test_atomic_batch_bytes),
        cmocka_unit_test(test_atomic_batch_threads),
        cmocka_unit_test(test_atomic_batch_errors),
        cmocka_unit_test(test_atomic_batch_kill),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_progress_quiet_when_not_tty),
        cmocka_unit_test(test_progress_lines_when_asked),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_json_utf8),
        cmocka_unit_test(test_json_doubles),
        cmocka_unit_test(test_json_nesting),
        cmocka_unit_test(test_json_too_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
