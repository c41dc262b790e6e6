/* bench_decode: times ard's spectra fast path (ard_parquet_read_f32_matrix) on a list<float>
 * column, row groups in parallel over ard_pool, next to memcpy of the same byte count; and measures
 * the peak memory of decoding one row group. Driven by bench/parquet-decode, which runs DuckDB on
 * the same file.
 *
 *   bench_decode [--threads N] [--reps R] [--column PATH] [--fresh] [--own-buffers] [--no-memcpy] FILE
 *   bench_decode --peak [--row-group G] [--column PATH] FILE
 *
 * Prints `RESULT key=value ...` lines. Timing is reported, never asserted. */
#include <ard/parquet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct decode_job {
    const ard_parquet_file *file;
    int32_t leaf;
    int sum_values;       /* verification pass: add up every float (not timed) */
    int64_t *rows_done;   /* per row group */
    int64_t *width;       /* per row group */
    double *sums;         /* per row group */
    ard_error *errors;    /* per row group */
    ard_status *statuses; /* per row group */
} decode_job;

typedef struct copy_job {
    const uint8_t *src;
    uint8_t *dst; /* NULL: allocate a fresh destination per task, as the decoder does */
    size_t slice;
    size_t total;
} copy_job;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of the whole process (every thread, user + system): on a shared machine whose load
 * leaves this process a fraction of a core, wall time measures the neighbours; CPU time measures
 * the work. */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Keeps the compiler from dropping stores into memory it can prove is never read. */
static void escape(void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Leaf whose path is `column` or starts with `column.` (so "FLUX" finds "FLUX.list.element"). */
static int32_t find_leaf(const ard_parquet_file *file, const char *column) {
    const ard_pq_metadata *md = ard_parquet_metadata(file);
    size_t n = strlen(column);
    for (int32_t i = 0; i < md->num_leaves; i++) {
        const char *path = md->nodes[md->leaves[i]].path;
        if (!strcmp(path, column) || (!strncmp(path, column, n) && path[n] == '.'))
            return i;
    }
    return -1;
}

/* Output buffers per pool thread, kept across row groups and repetitions: a loader decodes into
 * buffers it reuses (ard_parquet_read_f32_matrix_into), as DuckDB reuses its vectors. --fresh
 * measures the allocating API instead (every row group pays fresh pages). */
#define MAX_THREADS 64
static float *thread_buf[MAX_THREADS];
static int64_t thread_cap[MAX_THREADS];
static int use_fresh;
static int skip_memcpy; /* --no-memcpy: decode only (profiling) */

static ard_status decode_into(decode_job *job, int64_t index, int thread_id, ard_pq_f32_matrix *m) {
    const ard_pq_row_group *rg = &ard_parquet_metadata(job->file)->row_groups[index];
    int64_t need = rg->num_rows * 8192; /* generous: widths up to 8192 */
    if (thread_cap[thread_id] < need) {
        free(thread_buf[thread_id]);
        thread_buf[thread_id] = malloc((size_t)need * sizeof(float));
        thread_cap[thread_id] = thread_buf[thread_id] ? need : 0;
    }
    int32_t has_nulls;
    ard_status st = ard_parquet_read_f32_matrix_into(
        job->file, (int32_t)index, job->leaf, thread_buf[thread_id], thread_cap[thread_id], NULL,
        &m->rows, &m->width, &has_nulls, &job->errors[index]);
    m->values = thread_buf[thread_id];
    return st;
}

static void decode_row_group(void *arg, int64_t index, int thread_id) {
    decode_job *job = arg;
    ard_pq_f32_matrix m = {0};
    ard_error_init(&job->errors[index]);
    if (use_fresh || thread_id >= MAX_THREADS) {
        job->statuses[index] = ard_parquet_read_f32_matrix(job->file, (int32_t)index, job->leaf, &m,
                                                           &job->errors[index]);
    } else {
        job->statuses[index] = decode_into(job, index, thread_id, &m);
    }
    if (job->statuses[index] == ARD_OK) {
        job->rows_done[index] = m.rows;
        job->width[index] = m.width;
        if (job->sum_values) {
            double sum = 0;
            size_t count = (size_t)m.rows * (size_t)m.width;
            for (size_t i = 0; i < count; i++)
                sum += m.values[i];
            job->sums[index] = sum;
        }
        escape(m.values);
    }
    if (use_fresh || thread_id >= MAX_THREADS) {
        ard_pq_matrix_reset(&m);
    }
}

typedef struct decode_outcome {
    int64_t rows, width;
    double sum;
    int failed;
} decode_outcome;

/* Decodes every row group of the column once; all buffers are sized by the caller's row-group
 * count. */
static int decode_all(const ard_parquet_file *file, int32_t leaf, ard_pool *pool, int sum_values,
                      decode_outcome *out) {
    const ard_pq_metadata *md = ard_parquet_metadata(file);
    size_t n = (size_t)md->num_row_groups;
    decode_job job = {file,
                      leaf,
                      sum_values,
                      calloc(n, sizeof(int64_t)),
                      calloc(n, sizeof(int64_t)),
                      calloc(n, sizeof(double)),
                      calloc(n, sizeof(ard_error)),
                      calloc(n, sizeof(ard_status))};
    memset(out, 0, sizeof *out);
    if (!job.rows_done || !job.width || !job.sums || !job.errors || !job.statuses) {
        out->failed = 1;
    } else if (pool) {
        ard_pool_for(pool, (int64_t)n, decode_row_group, &job);
    } else {
        for (size_t i = 0; i < n; i++)
            decode_row_group(&job, (int64_t)i, 0);
    }
    for (size_t i = 0; !out->failed && i < n; i++) {
        if (job.statuses[i] != ARD_OK) {
            fprintf(stderr, "bench_decode: row group %zu: %s\n", i, job.errors[i].msg);
            out->failed = 1;
        }
        out->rows += job.rows_done[i];
        out->width = job.width[i] > out->width ? job.width[i] : out->width;
        out->sum += job.sums[i];
    }
    free(job.rows_done);
    free(job.width);
    free(job.sums);
    free(job.errors);
    free(job.statuses);
    return out->failed ? -1 : 0;
}

static void copy_slice(void *arg, int64_t index, int thread_id) {
    const copy_job *job = arg;
    (void)thread_id;
    size_t offset = (size_t)index * job->slice;
    size_t len = job->total - offset < job->slice ? job->total - offset : job->slice;
    if (job->dst) {
        memcpy(job->dst + offset, job->src + offset, len);
        escape(job->dst);
        return;
    }
    uint8_t *fresh = malloc(len);
    if (!fresh)
        return;
    memcpy(fresh, job->src + offset, len);
    escape(fresh);
    free(fresh);
}

static double time_copy(copy_job *job, ard_pool *pool, double *cpu) {
    int64_t slices = (int64_t)((job->total + job->slice - 1) / job->slice);
    double c0 = cpu_seconds();
    double t0 = now_seconds();
    if (pool) {
        ard_pool_for(pool, slices, copy_slice, job);
    } else {
        for (int64_t i = 0; i < slices; i++)
            copy_slice(job, i, 0);
    }
    double wall = now_seconds() - t0;
    *cpu = cpu_seconds() - c0;
    return wall;
}

/* memcpy of `total` bytes in row-group-sized slices: into a pre-faulted buffer ("hot") and into a
 * fresh allocation per slice ("fresh", paying the page faults a decoder's output also pays). */
static void bench_memcpy(const char *name, size_t total, size_t slice, long threads, long reps,
                         ard_pool *pool) {
    uint8_t *src = malloc(total), *dst = malloc(total);
    if (!src || !dst) {
        fprintf(stderr, "bench_decode: cannot allocate 2 x %zu bytes for memcpy\n", total);
        free(src);
        free(dst);
        return;
    }
    memset(src, 0x5a, total);
    memset(dst, 0, total);
    for (int fresh = 0; fresh <= 1; fresh++) {
        copy_job job = {src, fresh ? NULL : dst, slice, total};
        double cpu = 0;
        time_copy(&job, pool, &cpu); /* warm-up */
        for (long run = 0; run < reps; run++) {
            double seconds = time_copy(&job, pool, &cpu);
            printf("RESULT tool=memcpy bench=decode query=%s file=%s threads=%ld run=%ld bytes=%zu "
                   "seconds=%.6f cpu_seconds=%.6f\n",
                   fresh ? "fresh" : "hot", name, threads, run, total, seconds, cpu);
        }
    }
    free(src);
    free(dst);
}

/* Decode buffers shared by every open of the file (ard_parquet_buffers), as a loader going through
 * many tiles keeps them; --own-buffers: each open pools its own (fresh pages per open). */
static ard_parquet_buffers *shared_buffers;
static int own_buffers;

static int open_file(const char *path, ard_parquet_file **file) {
    ard_error err;
    ard_error_init(&err);
    ard_parquet_open_options opts = {.buffers = shared_buffers};
    if (ard_parquet_open(path, &opts, file, &err) != ARD_OK) {
        fprintf(stderr, "bench_decode: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Times open + decode of every row group + close, `reps` times after one verification pass. */
static int bench_decode(const char *path, const char *column, long threads, long reps) {
    ard_pool *pool = NULL;
    ard_parquet_file *file = NULL;
    ard_error err;
    ard_error_init(&err);
    if (threads > 1 && ard_pool_new((int)threads, &pool, &err) != ARD_OK) {
        fprintf(stderr, "bench_decode: %s\n", err.msg);
        return 1;
    }
    int status = 1;
    decode_outcome check, outcome;
    if (!own_buffers &&
        ard_parquet_buffers_new((int32_t)(2 * threads + 2), 0, &shared_buffers, &err) != ARD_OK) {
        fprintf(stderr, "bench_decode: %s\n", err.msg);
        ard_pool_free(pool);
        return 1;
    }
    if (open_file(path, &file) != 0)
        goto done;
    int32_t leaf = find_leaf(file, column);
    if (leaf < 0) {
        fprintf(stderr, "bench_decode: %s: no column %s\n", path, column);
        goto done;
    }
    int32_t row_groups = ard_parquet_metadata(file)->num_row_groups;
    if (decode_all(file, leaf, pool, 1, &check) != 0) /* verification + warm-up, untimed */
        goto done;
    ard_parquet_close(file);
    file = NULL;
    size_t bytes = (size_t)check.rows * (size_t)check.width * sizeof(float);
    for (long run = 0; run < reps; run++) {
        double c0 = cpu_seconds();
        double t0 = now_seconds();
        if (open_file(path, &file) != 0 || decode_all(file, leaf, pool, 0, &outcome) != 0)
            goto done;
        ard_parquet_close(file);
        file = NULL;
        double seconds = now_seconds() - t0;
        double cpu = cpu_seconds() - c0;
        printf("RESULT tool=ard bench=decode query=f32_matrix file=%s threads=%ld run=%ld "
               "rows=%" PRId64 " width=%" PRId64
               " row_groups=%d bytes=%zu seconds=%.6f cpu_seconds=%.6f check=%.17g\n",
               base_name(path), threads, run, outcome.rows, outcome.width, (int)row_groups, bytes,
               seconds, cpu, check.sum);
        fflush(stdout);
    }
    size_t slice = row_groups > 0 ? (bytes + (size_t)row_groups - 1) / (size_t)row_groups : bytes;
    if (!skip_memcpy)
        bench_memcpy(base_name(path), bytes, slice ? slice : 1, threads, reps, pool);
    status = 0;
done:
    ard_parquet_close(file);
    ard_parquet_buffers_free(shared_buffers);
    shared_buffers = NULL;
    ard_pool_free(pool);
    return status;
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

/* ---- peak memory of one row group --------------------------------------------------------------
 * The bound to compare with is: the compressed chunk + the largest decoded page + the output. The
 * page sizes come from the chunk's page headers, read here with a minimal Thrift compact walker
 * (the public API does not expose pages; this keeps the benchmark independent of the reader's
 * internals). */

typedef struct tcursor {
    const uint8_t *p, *end;
    int bad;
} tcursor;

static uint64_t t_varint(tcursor *c) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) {
            c->bad = 1;
            return 0;
        }
        uint8_t byte = *c->p++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
    c->bad = 1;
    return 0;
}

static int64_t t_zigzag(tcursor *c) {
    uint64_t v = t_varint(c);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void t_advance(tcursor *c, uint64_t n) {
    if ((uint64_t)(c->end - c->p) < n)
        c->bad = 1;
    else
        c->p += n;
}

static void t_skip(tcursor *c, int type, int depth, int in_collection);

static void t_skip_struct(tcursor *c, int depth) {
    while (!c->bad && c->p < c->end) {
        uint8_t header = *c->p++;
        if (header == 0)
            return;
        if ((header >> 4) == 0)
            t_zigzag(c); /* long-form field id */
        t_skip(c, header & 0x0f, depth + 1, 0);
    }
    c->bad = 1;
}

static void t_skip(tcursor *c, int type, int depth, int in_collection) {
    if (depth > 32 || c->bad) {
        c->bad = 1;
        return;
    }
    switch (type) {
    case 1:
    case 2:
        t_advance(c, in_collection ? 1 : 0);
        break; /* bool: in the field header */
    case 3:
        t_advance(c, 1);
        break;
    case 4:
    case 5:
    case 6:
        t_varint(c);
        break;
    case 7:
        t_advance(c, 8);
        break;
    case 8:
        t_advance(c, t_varint(c));
        break;
    case 9:
    case 10: {
        if (c->p >= c->end) {
            c->bad = 1;
            break;
        }
        uint8_t header = *c->p++;
        uint64_t count = header >> 4 == 15 ? t_varint(c) : header >> 4;
        for (uint64_t i = 0; i < count && !c->bad; i++)
            t_skip(c, header & 0x0f, depth + 1, 1);
        break;
    }
    case 11: {
        uint64_t count = t_varint(c);
        if (count == 0 || c->bad)
            break;
        if (c->p >= c->end) {
            c->bad = 1;
            break;
        }
        uint8_t kinds = *c->p++;
        for (uint64_t i = 0; i < count && !c->bad; i++) {
            t_skip(c, kinds >> 4, depth + 1, 1);
            t_skip(c, kinds & 0x0f, depth + 1, 1);
        }
        break;
    }
    case 12:
        t_skip_struct(c, depth);
        break;
    default:
        c->bad = 1;
    }
}

/* PageHeader fields 2 and 3 (uncompressed_page_size, compressed_page_size). Returns the header's
 * length in bytes, or 0 when it does not parse within `len` bytes. */
static size_t page_header(const uint8_t *buf, size_t len, int64_t *uncompressed,
                          int64_t *compressed) {
    tcursor c = {buf, buf + len, 0};
    int16_t field = 0;
    *uncompressed = *compressed = -1;
    while (!c.bad && c.p < c.end) {
        uint8_t header = *c.p++;
        if (header == 0)
            return *compressed >= 0 && *uncompressed >= 0 ? (size_t)(c.p - buf) : 0;
        field = (header >> 4) ? (int16_t)(field + (header >> 4)) : (int16_t)t_zigzag(&c);
        if ((field == 2 || field == 3) && (header & 0x0f) == 5) {
            int64_t v = t_zigzag(&c);
            *(field == 2 ? uncompressed : compressed) = v;
        } else {
            t_skip(&c, header & 0x0f, 0, 0);
        }
    }
    return 0;
}

typedef struct page_scan {
    int64_t pages, max_uncompressed, max_compressed;
} page_scan;

static int scan_pages(const char *path, const ard_pq_column_chunk *cc, page_scan *out) {
    enum { HEADER_MAX = 1 << 18 };
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *buf = malloc(HEADER_MAX);
    int rc = fd < 0 || !buf ? -1 : 0;
    int64_t offset = cc->chunk_start, end = cc->chunk_start + cc->total_compressed_size;
    while (rc == 0 && offset < end) {
        size_t want = (size_t)(end - offset < HEADER_MAX ? end - offset : HEADER_MAX);
        ssize_t got = pread(fd, buf, want, (off_t)offset);
        int64_t uncompressed, compressed;
        size_t header_len = got > 0 ? page_header(buf, (size_t)got, &uncompressed, &compressed) : 0;
        if (header_len == 0) {
            rc = -1;
            break;
        }
        out->pages++;
        out->max_uncompressed =
            uncompressed > out->max_uncompressed ? uncompressed : out->max_uncompressed;
        out->max_compressed = compressed > out->max_compressed ? compressed : out->max_compressed;
        offset += (int64_t)header_len + compressed;
    }
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* A "VmRSS:"-style field of /proc/self/status in bytes, or -1. */
static int64_t proc_status_bytes(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int64_t kib = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, field, n)) {
            kib = strtoll(line + n, NULL, 10);
            break;
        }
    }
    if (f)
        fclose(f);
    return kib < 0 ? -1 : kib * 1024;
}

/* Resets VmHWM to the current RSS (Linux clear_refs "5"). */
static int reset_peak_rss(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t written = write(fd, "5", 1);
    close(fd);
    return written == 1 ? 0 : -1;
}

static int peak_memory(const char *path, const char *column, int32_t row_group) {
    ard_parquet_file *file = NULL;
    if (open_file(path, &file) != 0)
        return 1;
    const ard_pq_metadata *md = ard_parquet_metadata(file);
    int32_t leaf = find_leaf(file, column);
    if (leaf < 0 || row_group >= md->num_row_groups) {
        fprintf(stderr, "bench_decode: %s: no column %s or row group %d\n", path, column,
                (int)row_group);
        ard_parquet_close(file);
        return 1;
    }
    const ard_pq_column_chunk *cc = &md->row_groups[row_group].columns[leaf];
    page_scan scan;
    if (scan_pages(path, cc, &scan) != 0)
        scan.max_uncompressed = -1; /* unknown: reported as such */
    int reset = reset_peak_rss() == 0;
    int64_t before = reset ? proc_status_bytes("VmRSS:") : proc_status_bytes("VmHWM:");

    ard_pq_f32_matrix m = {0};
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_parquet_read_f32_matrix(file, row_group, leaf, &m, &err);
    int64_t peak = proc_status_bytes("VmHWM:");
    if (st != ARD_OK) {
        fprintf(stderr, "bench_decode: %s\n", err.msg);
        ard_parquet_close(file);
        return 1;
    }
    int64_t cells = m.rows * m.width;
    int64_t output = cells * (int64_t)sizeof(float) + (m.validity ? (cells + 7) / 8 : 0) +
                     (m.row_validity ? (m.rows + 7) / 8 : 0);
    int64_t bound = cc->total_compressed_size + scan.max_uncompressed + output;
    printf("RESULT tool=ard bench=peak file=%s row_group=%d rows=%" PRId64 " width=%" PRId64
           " rss_delta=%" PRId64 " compressed_chunk=%" PRId64 " uncompressed_chunk=%" PRId64
           " pages=%" PRId64 " max_page=%" PRId64 " output=%" PRId64 " bound=%" PRId64
           " hwm_reset=%d\n",
           base_name(path), (int)row_group, m.rows, m.width, peak - before,
           cc->total_compressed_size, cc->total_uncompressed_size, scan.pages,
           scan.max_uncompressed, output, bound, reset);
    ard_pq_matrix_reset(&m);
    ard_parquet_close(file);
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: bench_decode [--threads N] [--reps R] [--column PATH] FILE\n"
                    "       bench_decode --peak [--row-group G] [--column PATH] FILE\n");
    return 2;
}

int main(int argc, char **argv) {
    long threads = 1, reps = 3, row_group = 0;
    int peak = 0;
    const char *column = "FLUX", *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (parse_count(argv[++i], 1, 256, &threads))
                return usage();
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            if (parse_count(argv[++i], 1, 1000, &reps))
                return usage();
        } else if (!strcmp(argv[i], "--row-group") && i + 1 < argc) {
            if (parse_count(argv[++i], 0, INT32_MAX, &row_group))
                return usage();
        } else if (!strcmp(argv[i], "--column") && i + 1 < argc) {
            column = argv[++i];
        } else if (!strcmp(argv[i], "--own-buffers")) {
            own_buffers = 1;
        } else if (!strcmp(argv[i], "--no-memcpy")) {
            skip_memcpy = 1;
        } else if (!strcmp(argv[i], "--fresh")) {
            use_fresh = 1;
        } else if (!strcmp(argv[i], "--peak")) {
            peak = 1;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            return usage();
        }
    }
    if (!path)
        return usage();
    if (peak)
        return peak_memory(path, column, (int32_t)row_group);
    return bench_decode(path, column, threads, reps);
}
