/* Guarded chunk mappings (src/parquet/chunk_map.c): column chunks of files are read through mmap,
 * and a tile truncated by another thread or process while it is mapped ends the read with ARD_EIO
 * naming the tile, never SIGBUS. Also: mapped reads give the same values as reads of the same bytes
 * from memory; a SIGBUS that is not ours still kills; a replaced handler makes the reader fall back
 * to pread. */
#include "column_int.h"

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/parquet.h"
#include "common/ard_test.h"
#include "suites.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ROWS = 400, WIDTH = 2048, RG_ROWS = 100 };

typedef struct fixture {
    char *dir;
    char tile[512];
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    fx->dir = ard_test_tmpdir("chunk-map");
    assert_non_null(fx->dir);
    snprintf(fx->tile, sizeof fx->tile, "%s/tile.parquet", fx->dir);
    ard_error err;
    ard_error_init(&err);
    if (ard_test_write_tile(fx->tile, ROWS, WIDTH, RG_ROWS, 1000, 11, &err) != ARD_OK) {
        fail_msg("writing %s: %s", fx->tile, err.msg);
    }
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    ard_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static int32_t flux_leaf(const ard_parquet_file *pq) {
    int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
    assert_true(leaf >= 0);
    return leaf;
}

/* Bit-exact equality of two matrices (NaN payloads included), validity bits of valid rows too. */
static void assert_same_matrix(const ard_pq_f32_matrix *a, const ard_pq_f32_matrix *b) {
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->width, b->width);
    size_t n = (size_t)(a->rows * a->width);
    assert_memory_equal(a->values, b->values, n * sizeof(float));
    assert_true((a->validity == NULL) == (b->validity == NULL));
    if (a->validity) {
        assert_memory_equal(a->validity, b->validity, (n + 7) / 8);
    }
}

/* A mapped read (file) gives what a read of the same bytes from memory gives, on a tile with null
 * elements, masked rows and several row groups; the mapped path is the one taken. */
/* The three ways to the chunk bytes decode the same matrices: read (the default), mapped, memory. */
static void test_mapped_equals_memory(void **state) {
    fixture *fx = *state;
    size_t size = 0;
    uint8_t *bytes = (uint8_t *)ard_test_read_file(fx->tile, &size);
    assert_non_null(bytes);
    ard_parquet_file *pf = NULL, *pr = NULL, *pm = NULL;
    assert_int_equal(ard_parquet_open(fx->tile, NULL, &pf, NULL), ARD_OK);
    assert_int_equal(ard_parquet_open(fx->tile, NULL, &pr, NULL), ARD_OK);
    assert_int_equal(ard_parquet_open_memory(bytes, size, "mem", NULL, &pm, NULL), ARD_OK);
    ard__pq_file_map_chunks(pf, 1);
    int32_t leaf = flux_leaf(pf);
    for (int32_t rg = 0; rg < ROWS / RG_ROWS; rg++) {
        ard_pq_f32_matrix a, b, c;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        memset(&c, 0, sizeof c);
        ard__chunk_reader cr;
        assert_int_equal(ard__chunk_open(&cr, pf, rg, leaf, NULL), ARD_OK);
        assert_true(cr.view.slot >= 0); /* the chunk is mapped, not read */
        ard__chunk_close(&cr);
        assert_int_equal(ard__chunk_open(&cr, pr, rg, leaf, NULL), ARD_OK);
        assert_true(cr.view.slot < 0 && cr.buf_owned); /* the default reads it */
        ard__chunk_close(&cr);
        assert_int_equal(ard_parquet_read_f32_matrix(pf, rg, leaf, &a, NULL), ARD_OK);
        assert_int_equal(ard_parquet_read_f32_matrix(pm, rg, leaf, &b, NULL), ARD_OK);
        assert_int_equal(ard_parquet_read_f32_matrix(pr, rg, leaf, &c, NULL), ARD_OK);
        assert_same_matrix(&a, &b);
        assert_same_matrix(&c, &b);
        ard_pq_matrix_reset(&a);
        ard_pq_matrix_reset(&b);
        ard_pq_matrix_reset(&c);
    }
    ard_parquet_close(pf);
    ard_parquet_close(pr);
    ard_parquet_close(pm);
    free(bytes);
}

/* The mapping exists, then the file shrinks, then the bytes are touched: zeros and a fault recorded,
 * and the check names the file and the first vanished offset. */
static void test_view_truncated_while_mapped(void **state) {
    fixture *fx = *state;
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(fx->tile, NULL, &pq, NULL), ARD_OK);
    int64_t size = ard_parquet_file_size(pq);
    int64_t off = 4096 + 100, len = size / 2;
    ard__pq_view v;
    assert_int_equal(ard__pq_view_map(pq, off, (size_t)len, &v), 1);
    uint64_t faults = ard__pq_view_faults();
    int64_t cut = off + len / 2;
    assert_int_equal(truncate(fx->tile, (off_t)cut), 0);
    volatile const uint8_t *p = v.data;
    uint32_t sum = 0;
    for (int64_t i = 0; i < len; i += 512) {
        sum += p[i];
    }
    (void)sum;
    assert_int_equal(p[len - 1], 0);
    assert_true(ard__pq_view_faults() > faults);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard__pq_view_check(&v, ard_parquet_path(pq), ARD_OK, &err), ARD_EIO);
    assert_non_null(strstr(err.msg, fx->tile));
    /* The first access past the last page holding bytes below the cut is the first to fault. */
    const char *at = strstr(err.msg, "byte ");
    assert_non_null(at);
    long long first = strtoll(at + 5, NULL, 10);
    long long page_end = (cut + 4095) / 4096 * 4096;
    if (first < page_end || first >= page_end + 512) {
        fail_msg("vanished byte %lld, expected in [%lld, %lld): %s", first, page_end,
                 page_end + 512, err.msg);
    }
    ard__pq_view_unmap(&v);
    ard_parquet_close(pq);
}

/* Cut in the middle of row group 1's FLUX chunk after open: every reader of that chunk says
 * ARD_EIO naming the tile (through the mapping: a fault is counted); row group 0 still reads. */
static void readers_truncated(fixture *fx, int32_t mapped) {
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(fx->tile, NULL, &pq, NULL), ARD_OK);
    ard__pq_file_map_chunks(pq, mapped);
    int32_t leaf = flux_leaf(pq);
    ard_pq_f32_matrix before, m;
    memset(&before, 0, sizeof before);
    memset(&m, 0, sizeof m);
    assert_int_equal(ard_parquet_read_f32_matrix(pq, 0, leaf, &before, NULL), ARD_OK);
    const ard_pq_column_chunk *cc = &ard_parquet_metadata(pq)->row_groups[1].columns[leaf];
    assert_int_equal(truncate(fx->tile, (off_t)(cc->chunk_start + cc->total_compressed_size / 2)),
                     0);
    uint64_t faults = ard__pq_view_faults();
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_parquet_read_f32_matrix(pq, 1, leaf, &m, &err);
    if (st != ARD_EIO || !strstr(err.msg, fx->tile)) {
        fail_msg("matrix: %s (%s)", ard_status_name(st), err.msg);
    }
    assert_true(mapped ? ard__pq_view_faults() > faults : ard__pq_view_faults() == faults);
    ard_pq_column_data col;
    ard_error_init(&err);
    st = ard_parquet_read_column(pq, 1, leaf, &col, &err);
    if (st != ARD_EIO || !strstr(err.msg, fx->tile)) {
        fail_msg("column: %s (%s)", ard_status_name(st), err.msg);
    }
    ard_error_init(&err);
    st = ard_parquet_read_column_rows(pq, 1, leaf, 10, 80, &col, &err);
    if (st != ARD_EIO || !strstr(err.msg, fx->tile)) {
        fail_msg("column rows: %s (%s)", ard_status_name(st), err.msg);
    }
    assert_int_equal(ard_parquet_read_f32_matrix(pq, 0, leaf, &m, NULL), ARD_OK);
    assert_same_matrix(&before, &m);
    ard_pq_matrix_reset(&m);
    ard_pq_matrix_reset(&before);
    ard_parquet_close(pq);
}

static void test_readers_truncated(void **state) {
    readers_truncated(*state, 1);
}

/* The same through the default (pread) path: a short read, ARD_EIO naming the file, no fault. */
static void test_read_truncated(void **state) {
    readers_truncated(*state, 0);
}

typedef struct race {
    const char *tile;
    int64_t cut;
    atomic_int reading; /* the reader has started */
} race;

static void *cutter(void *arg) {
    race *r = arg;
    while (!atomic_load(&r->reading)) {
        sched_yield();
    }
    struct timespec nap = {0, 200000};
    nanosleep(&nap, NULL);
    if (truncate(r->tile, (off_t)r->cut) != 0) {
        return (void *)1;
    }
    return NULL;
}

/* Another thread truncates the tile while this one decodes it row group after row group, over and
 * over: each read either completes with the right values or ends with ARD_EIO naming the tile.
 * Nothing crashes, and the last reads fail. */
static void test_truncated_by_another_thread(void **state) {
    fixture *fx = *state;
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(fx->tile, NULL, &pq, NULL), ARD_OK);
    ard__pq_file_map_chunks(pq, 1); /* this test is about the mapping */
    int32_t leaf = flux_leaf(pq);
    const int32_t groups = ROWS / RG_ROWS;
    ard_pq_f32_matrix ref[ROWS / RG_ROWS];
    for (int32_t rg = 0; rg < groups; rg++) {
        memset(&ref[rg], 0, sizeof ref[rg]);
        assert_int_equal(ard_parquet_read_f32_matrix(pq, rg, leaf, &ref[rg], NULL), ARD_OK);
    }
    const ard_pq_column_chunk *cc = &ard_parquet_metadata(pq)->row_groups[0].columns[leaf];
    race r = {.tile = fx->tile, .cut = cc->chunk_start + cc->total_compressed_size / 3};
    uint64_t faults = ard__pq_view_faults();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cutter, &r), 0);
    int eio = 0, ok_after = 0;
    for (int round = 0; round < 400 && !(eio > 8); round++) {
        for (int32_t rg = 0; rg < groups; rg++) {
            atomic_store(&r.reading, 1);
            ard_pq_f32_matrix m;
            memset(&m, 0, sizeof m);
            ard_error err;
            ard_error_init(&err);
            ard_status st = ard_parquet_read_f32_matrix(pq, rg, leaf, &m, &err);
            if (st == ARD_OK) {
                assert_same_matrix(&ref[rg], &m);
                ok_after += eio > 0;
            } else if (st == ARD_EIO && strstr(err.msg, fx->tile)) {
                eio++;
            } else {
                fail_msg("round %d row group %d: %s (%s)", round, rg, ard_status_name(st), err.msg);
            }
            ard_pq_matrix_reset(&m);
        }
    }
    void *cut_failed = NULL;
    pthread_join(t, &cut_failed);
    assert_null(cut_failed);
    assert_true(eio > 8);
    assert_int_equal(ok_after, 0);               /* every row group lies past the cut */
    assert_true(ard__pq_view_faults() > faults); /* mapped reads met the cut */
    for (int32_t rg = 0; rg < groups; rg++) {
        ard_pq_matrix_reset(&ref[rg]);
    }
    ard_parquet_close(pq);
}

/* In a child: waits for it and returns its wait status. */
static int child_status(pid_t pid) {
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void expect_child(pid_t pid, int want_signal) {
    int status = child_status(pid);
    if (want_signal ? !(WIFSIGNALED(status) && WTERMSIG(status) == want_signal)
                    : !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fail_msg("child: %s %d, expected %s", WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                 want_signal ? "death by signal" : "exit 0");
    }
}

/* In a child: sets SIGBUS's disposition to `handler` (SIG_DFL, or a function), then reads a chunk,
 * which puts ard's handler in front of it; exits 20+ if something else went wrong. */
static void child_prepare(const char *tile, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    ard_parquet_file *pq = NULL;
    if (ard_parquet_open(tile, NULL, &pq, NULL) != ARD_OK) {
        _exit(20);
    }
    ard__pq_file_map_chunks(pq, 1);
    ard__chunk_reader cr;
    int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
    if (ard__chunk_open(&cr, pq, 0, leaf, NULL) != ARD_OK || cr.view.slot < 0) {
        _exit(21); /* not mapped: ard's handler did not take over */
    }
    ard__chunk_close(&cr);
    struct sigaction now;
    if (sigaction(SIGBUS, NULL, &now) != 0 || now.sa_handler == handler) {
        _exit(22);
    }
    ard_parquet_close(pq);
}

/* Touches a mapping that is not a chunk's, past the end of its file. */
static void foreign_fault(const char *dir) {
    char other[600];
    snprintf(other, sizeof other, "%s/other-%d.bin", dir, (int)getpid());
    int fd = open(other, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, 65536) != 0) {
        _exit(23);
    }
    volatile uint8_t *p = mmap(NULL, 65536, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED || ftruncate(fd, 0) != 0) {
        _exit(24);
    }
    unlink(other);
    uint8_t v = p[8192];
    _exit(v == 0 ? 25 : 26); /* survived the fault */
}

/* With ard's handler in front of the default action, a fault in a mapping that is not a chunk's,
 * and a SIGBUS sent with kill, still kill the process by SIGBUS. */
static void test_foreign_sigbus_still_fatal(void **state) {
    fixture *fx = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_prepare(fx->tile, SIG_DFL);
        foreign_fault(fx->dir);
    }
    expect_child(pid, SIGBUS);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_prepare(fx->tile, SIG_DFL);
        kill(getpid(), SIGBUS);
        _exit(27);
    }
    expect_child(pid, SIGBUS);
}

static void exit_zero_on_sigbus(int sig) {
    (void)sig;
    _exit(0);
}

/* Someone installed a SIGBUS handler of their own (as cmocka does around every test): ard's goes in
 * front of it, chunks are still mapped, a truncated chunk is ARD_EIO, and a fault that is not a
 * chunk's reaches their handler. */
static void test_handler_chains_to_theirs(void **state) {
    fixture *fx = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_prepare(fx->tile, exit_zero_on_sigbus);
        ard_parquet_file *pq = NULL;
        if (ard_parquet_open(fx->tile, NULL, &pq, NULL) != ARD_OK) {
            _exit(10);
        }
        ard__pq_file_map_chunks(pq, 1);
        int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
        const ard_pq_column_chunk *cc = &ard_parquet_metadata(pq)->row_groups[1].columns[leaf];
        if (truncate(fx->tile, (off_t)(cc->chunk_start + cc->total_compressed_size / 2)) != 0) {
            _exit(11);
        }
        uint64_t faults = ard__pq_view_faults();
        ard_pq_f32_matrix m;
        memset(&m, 0, sizeof m);
        if (ard_parquet_read_f32_matrix(pq, 1, leaf, &m, NULL) != ARD_EIO ||
            ard__pq_view_faults() == faults) {
            _exit(12);
        }
        ard_parquet_close(pq);
        foreign_fault(fx->dir); /* their handler exits 0 */
    }
    expect_child(pid, 0);
}

static struct sigaction pingpong_prev;

/* Like Python's faulthandler: puts its predecessor back and raises the signal again into it. */
static void pingpong_handler(int sig) {
    sigaction(sig, &pingpong_prev, NULL);
    raise(sig);
}

/* faulthandler.enable() after ard installed its handler, then another chunk read puts ard's in
 * front again: ard and faulthandler each take the other for their predecessor. A foreign fault must
 * still end the process by SIGBUS, not bounce between the two forever (alarm: 20 s). */
static void test_pingpong_ends(void **state) {
    fixture *fx = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        child_prepare(fx->tile, SIG_DFL); /* ard's handler, in front of the default */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = pingpong_handler;
        sa.sa_flags = SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, &pingpong_prev); /* its predecessor: ard's */
        ard_parquet_file *pq = NULL;
        if (ard_parquet_open(fx->tile, NULL, &pq, NULL) != ARD_OK) {
            _exit(30);
        }
        ard__pq_file_map_chunks(pq, 1);
        ard__chunk_reader cr;
        int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
        if (ard__chunk_open(&cr, pq, 0, leaf, NULL) != ARD_OK || cr.view.slot < 0) {
            _exit(31); /* ard's handler went in front of the pingpong one */
        }
        ard__chunk_close(&cr);
        ard_parquet_close(pq);
        foreign_fault(fx->dir);
    }
    expect_child(pid, SIGBUS);
}

int ard_test_chunk_map_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mapped_equals_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_truncated_while_mapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_by_another_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_sigbus_still_fatal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_chains_to_theirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pingpong_ends, setup, teardown),
    };
    return cmocka_run_group_tests_name("chunk_map", tests, NULL, NULL);
}
