/* Writer crash safety: a child process rewrites one tile in a loop (each version with different
 * content and row count) and is SIGKILLed at seeded random moments; after every kill the final path
 * must open with the reader and hold exactly one complete version. */
#include "tw_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { CRASH_WIDTH = 512 };

static int64_t version_rows(int64_t v) {
    return 300 + (v * 37) % 211;
}

static float flux_value(int64_t v, int64_t row, int64_t j) {
    return (float)((v * 131 + row * 7 + j) % 1000) * 0.5f;
}

/* Writes version v of the tile at path (TARGETID = v * 1e6 + row, FLUX row x CRASH_WIDTH). */
static ard_status write_version(const char *path, int64_t v) {
    ard_pq_schema_builder *sb = NULL;
    ard_status st = ard_pq_schema_new(&sb, NULL);
    if (st != ARD_OK) {
        return st;
    }
    int32_t id = -1;
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, &id, NULL);
    int32_t fl = -1;
    ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, &fl,
                           NULL);
    ard_pq_schema_set_sorted(sb, id, 1, NULL);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = v % 2 ? ARD_PQ_ZSTD : ARD_PQ_SNAPPY;
    o.page_size_bytes = 16384;
    o.rows_per_row_group = 100;
    ard_pq_writer *w = NULL;
    st = ard_pq_writer_open(path, sb, &o, &w, NULL);
    ard_pq_schema_free(sb);
    int64_t rows = version_rows(v);
    int64_t *ids = malloc((size_t)rows * sizeof *ids);
    float *flux = malloc((size_t)(rows * CRASH_WIDTH) * sizeof *flux);
    for (int64_t r = 0; r < rows; r++) {
        ids[r] = v * 1000000 + r;
        for (int64_t j = 0; j < CRASH_WIDTH; j++) {
            flux[r * CRASH_WIDTH + j] = flux_value(v, r, j);
        }
    }
    for (int64_t at = 0; st == ARD_OK && at < rows; at += 64) {
        int64_t n = rows - at < 64 ? rows - at : 64;
        st = ard_pq_writer_write_column(w, id, ids + at, NULL, n, NULL);
        if (st == ARD_OK) {
            st = ard_pq_writer_write_list_matrix(w, fl, flux + at * CRASH_WIDTH, n, CRASH_WIDTH,
                                                 NULL, NULL, NULL);
        }
    }
    st = st == ARD_OK ? ard_pq_writer_close(w, NULL) : (ard_pq_writer_abort(w), st);
    free(ids);
    free(flux);
    return st;
}

/* Opens path and checks it holds one complete version; returns that version or -1. */
static int64_t check_tile(const char *path) {
    ard_parquet_file *f = NULL;
    ard_error err;
    ard_error_init(&err);
    if (ard_parquet_open(path, NULL, &f, &err) != ARD_OK) {
        fprintf(stderr, "crash test: %s\n", err.msg);
        return -1;
    }
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    int64_t v = -1, row = 0, bad = 0;
    for (int32_t rg = 0; rg < md->num_row_groups && !bad; rg++) {
        ard_pq_column_data ids, flux;
        memset(&ids, 0, sizeof ids);
        memset(&flux, 0, sizeof flux);
        bad = ard_parquet_read_column(f, rg, 0, &ids, &err) != ARD_OK ||
              ard_parquet_read_column(f, rg, 1, &flux, &err) != ARD_OK ||
              flux.num_values != ids.num_values * CRASH_WIDTH;
        for (int64_t i = 0; !bad && i < ids.num_values; i++, row++) {
            int64_t id = ((const int64_t *)ids.values)[i];
            v = v < 0 ? id / 1000000 : v;
            bad = id != v * 1000000 + row;
            for (int64_t j = 0; !bad && j < CRASH_WIDTH; j++) {
                bad = ((const float *)flux.values)[i * CRASH_WIDTH + j] != flux_value(v, row, j);
            }
        }
        ard_pq_column_data_reset(&ids);
        ard_pq_column_data_reset(&flux);
    }
    ard_parquet_close(f);
    if (bad || v < 0 || row != version_rows(v)) {
        fprintf(stderr, "crash test: %s holds a damaged version (v=%lld rows=%lld)\n", path,
                (long long)v, (long long)row);
        return -1;
    }
    return v;
}

/* Reads version reports (int64) from the child until `want` arrived or EOF; returns the last one.
 */
static int64_t read_reports(int fd, int64_t want, int64_t last) {
    for (int64_t got = 0; want < 0 || got < want; got++) {
        int64_t v;
        if (read(fd, &v, sizeof v) != (ssize_t)sizeof v) {
            break;
        }
        last = v;
    }
    return last;
}

/* One round: the child rewrites versions first, first+1, ... reporting each commit on a pipe; it is
 * killed after `commits` reports plus a random delay. Returns the version the tile holds. */
static int64_t kill_round(const char *path, tw_rng *rng, int64_t first, int64_t held) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        for (int64_t v = first;; v++) {
            if (write_version(path, v) == ARD_OK && write(fds[1], &v, sizeof v) != sizeof v) {
                _exit(1);
            }
        }
    }
    close(fds[1]);
    int64_t last = read_reports(fds[0], tw_range(rng, 0, 2), held);
    struct timespec ts = {0, (long)tw_range(rng, 0, 20000) * 1000L};
    nanosleep(&ts, NULL);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    last = read_reports(fds[0], -1, last); /* commits reported before the kill */
    close(fds[0]);
    int64_t v = check_tile(path);
    /* the last reported version, or the next one when the kill fell between rename and report */
    int64_t next = last == held ? first : last + 1;
    if (v != last && v != next) {
        fprintf(stderr, "crash test: tile holds version %lld, expected %lld or %lld\n",
                (long long)v, (long long)last, (long long)next);
        return -1;
    }
    return v;
}

void tw_test_kill_during_rewrite(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/crash_tile.parquet", tw_dir());
    assert_int_equal(write_version(path, 0), ARD_OK);
    assert_int_equal(check_tile(path), 0);
    tw_rng rng = {20261124};
    int64_t held = 0;
    for (int round = 1; round <= 20; round++) {
        int64_t v = kill_round(path, &rng, round * 1000, held);
        assert_true(v >= 0);
        held = v;
    }
}
