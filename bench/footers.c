/* bench_footers: times ard's footer-only open over a directory of Parquet files (the index's sync
 * path: open, walk every row group, column chunk, statistic and key-value pair, close), on 1 thread
 * or several through ard_pool. Driven by bench/parquet-footers, which runs DuckDB on the same
 * files.
 *
 *   bench_footers [--threads N] [--reps R] [--warmup] [--mode LABEL] DIR
 *   bench_footers --evict DIR      drop DIR's *.parquet files from the page cache (for cold runs)
 *
 * Prints one `RESULT key=value ...` line per timed pass. The timed region includes listing DIR, as
 * DuckDB's timing includes expanding its glob. Timing is reported, never asserted. */
#include <ard/parquet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct path_list {
    char **paths;
    size_t count, cap;
} path_list;

/* Per-thread totals, padded so two threads never share a cache line. */
typedef struct walk_totals {
    int64_t files, errors, row_groups, chunks, rows, values, compressed_bytes, stats_bytes,
        kv_pairs;
    char first_error[600];
    char pad[64];
} walk_totals;

typedef struct walk_job {
    const path_list *list;
    walk_totals *per_thread;
    size_t block;
} walk_job;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static void path_list_free(path_list *l) {
    for (size_t i = 0; i < l->count; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

static int path_list_add(path_list *l, const char *dir, const char *name) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        char **grown = realloc(l->paths, cap * sizeof *grown);
        if (!grown)
            return -1;
        l->paths = grown;
        l->cap = cap;
    }
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(len);
    if (!path)
        return -1;
    snprintf(path, len, "%s/%s", dir, name);
    l->paths[l->count++] = path;
    return 0;
}

/* Lists DIR's *.parquet files (unsorted: the order does not matter to a footer walk). */
static int list_parquet(const char *dir, path_list *out) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "bench_footers: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.' && ends_with(e->d_name, ".parquet"))
            rc = path_list_add(out, dir, e->d_name);
    }
    closedir(d);
    return rc;
}

/* Touches everything the index reads from a footer, so no part of the decoded metadata goes unused.
 */
static void walk_metadata(const ard_pq_metadata *md, walk_totals *t) {
    t->row_groups += md->num_row_groups;
    t->rows += md->num_rows;
    t->kv_pairs += md->num_kv;
    for (int32_t g = 0; g < md->num_row_groups; g++) {
        const ard_pq_row_group *rg = &md->row_groups[g];
        for (int32_t c = 0; c < rg->num_columns; c++) {
            const ard_pq_column_chunk *cc = &rg->columns[c];
            t->chunks++;
            t->values += cc->num_values;
            t->compressed_bytes += cc->total_compressed_size;
            if (cc->stats.has_min_value && cc->stats.min_value_len > 0)
                t->stats_bytes += cc->stats.min_value_len + (cc->stats.min_value[0] & 1);
            if (cc->stats.has_max_value && cc->stats.max_value_len > 0)
                t->stats_bytes += cc->stats.max_value_len + (cc->stats.max_value[0] & 1);
            t->stats_bytes += cc->stats.null_count;
        }
    }
    for (int32_t i = 0; i < md->num_kv; i++)
        t->stats_bytes += (int64_t)strlen(md->kv[i].key) + md->kv[i].value_len;
}

static void walk_file(const char *path, walk_totals *t) {
    ard_parquet_file *file = NULL;
    ard_error err;
    ard_error_init(&err);
    t->files++;
    if (ard_parquet_open(path, NULL, &file, &err) != ARD_OK) {
        if (t->errors++ == 0)
            snprintf(t->first_error, sizeof t->first_error, "%s", err.msg);
        return;
    }
    walk_metadata(ard_parquet_metadata(file), t);
    ard_parquet_close(file);
}

static void walk_block(void *arg, int64_t index, int thread_id) {
    const walk_job *job = arg;
    size_t first = (size_t)index * job->block;
    size_t last = first + job->block < job->list->count ? first + job->block : job->list->count;
    for (size_t i = first; i < last; i++)
        walk_file(job->list->paths[i], &job->per_thread[thread_id]);
}

static void sum_totals(const walk_totals *per_thread, int threads, walk_totals *sum) {
    memset(sum, 0, sizeof *sum);
    for (int i = 0; i < threads; i++) {
        const walk_totals *t = &per_thread[i];
        sum->files += t->files;
        sum->errors += t->errors;
        sum->row_groups += t->row_groups;
        sum->chunks += t->chunks;
        sum->rows += t->rows;
        sum->values += t->values;
        sum->compressed_bytes += t->compressed_bytes;
        sum->kv_pairs += t->kv_pairs;
        sum->stats_bytes += t->stats_bytes;
        if (t->errors && !sum->first_error[0])
            memcpy(sum->first_error, t->first_error, sizeof sum->first_error);
    }
}

/* One timed pass: list the directory, then open/walk/close every file. Returns seconds or -1. */
static double timed_pass(const char *dir, ard_pool *pool, int threads, walk_totals *sum) {
    walk_totals *per_thread = calloc((size_t)threads, sizeof *per_thread);
    path_list list = {0};
    if (!per_thread)
        return -1;
    double t0 = now_seconds();
    if (list_parquet(dir, &list) != 0) {
        free(per_thread);
        path_list_free(&list);
        return -1;
    }
    if (pool) {
        walk_job job = {&list, per_thread, 16};
        int64_t blocks = (int64_t)((list.count + job.block - 1) / job.block);
        ard_pool_for(pool, blocks, walk_block, &job);
    } else {
        for (size_t i = 0; i < list.count; i++)
            walk_file(list.paths[i], per_thread);
    }
    double seconds = now_seconds() - t0;
    sum_totals(per_thread, threads, sum);
    path_list_free(&list);
    free(per_thread);
    return seconds;
}

/* Writes back anything dirty, then asks the kernel to drop the files' cached pages. */
static int evict(const char *dir) {
    path_list list = {0};
    if (list_parquet(dir, &list) != 0)
        return 1;
    size_t dropped = 0;
    for (size_t i = 0; i < list.count; i++) {
        int fd = open(list.paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        fdatasync(fd);
        if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0)
            dropped++;
        close(fd);
    }
    printf("evicted %zu of %zu files from the page cache\n", dropped, list.count);
    path_list_free(&list);
    return 0;
}

static int parse_count(const char *text, long lo, long hi, long *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: bench_footers [--threads N] [--reps R] [--warmup] [--mode LABEL] DIR\n"
                    "       bench_footers --evict DIR\n");
    return 2;
}

int main(int argc, char **argv) {
    long threads = 1, reps = 3;
    int warmup = 0, do_evict = 0;
    const char *mode = "warm", *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (parse_count(argv[++i], 1, 256, &threads))
                return usage();
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            if (parse_count(argv[++i], 1, 1000, &reps))
                return usage();
        } else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
            mode = argv[++i];
        } else if (!strcmp(argv[i], "--warmup")) {
            warmup = 1;
        } else if (!strcmp(argv[i], "--evict")) {
            do_evict = 1;
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            return usage();
        }
    }
    if (!dir)
        return usage();
    if (do_evict)
        return evict(dir);

    ard_pool *pool = NULL;
    ard_error err;
    ard_error_init(&err);
    if (threads > 1 && ard_pool_new((int)threads, &pool, &err) != ARD_OK) {
        fprintf(stderr, "bench_footers: %s\n", err.msg);
        return 1;
    }
    walk_totals sum;
    int status = 0;
    for (long run = warmup ? -1 : 0; run < reps; run++) {
        double seconds = timed_pass(dir, pool, (int)threads, &sum);
        if (seconds < 0) {
            status = 1;
            break;
        }
        if (sum.errors)
            fprintf(stderr, "bench_footers: %" PRId64 " files failed; first: %s\n", sum.errors,
                    sum.first_error);
        if (run < 0)
            continue;
        printf("RESULT tool=ard bench=footers mode=%s threads=%ld run=%ld files=%" PRId64
               " seconds=%.6f errors=%" PRId64 " row_groups=%" PRId64 " chunks=%" PRId64
               " rows=%" PRId64 " values=%" PRId64 " bytes=%" PRId64 " kv=%" PRId64
               " stats=%" PRId64 "\n",
               mode, threads, run, sum.files, seconds, sum.errors, sum.row_groups, sum.chunks,
               sum.rows, sum.values, sum.compressed_bytes, sum.kv_pairs, sum.stats_bytes);
        fflush(stdout);
    }
    ard_pool_free(pool);
    return status;
}
