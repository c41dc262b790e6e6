/* bench_index_query: "which bytes hold the spectra I want" latency and fetch throughput.
 *
 *   bench_index_query DATASET DSN|- REPS LOOKUPS [fetch]
 *
 * Prints RESULT lines: the predicate "Z > 2.5" planned REPS times (p50/p99 ms, plan size), LOOKUPS
 * random single-TARGETID look-ups (p50/p99 ms each) and the same LOOKUPS ids as one batch, and with
 * "fetch" the spectra of "Z > 2.5" read into memory (FLUX+IVAR) through the fetch iterator
 * (spectra/s, decoded MB/s). Each predicate is also planned through per-spectrum TARGETID seeks
 * (the index's plan path before row_groups.targetids) in the same run, as the reference. DSN "-" =
 * the dataset's SQLite index. Random ids come from a seeded
 * generator over the index's own TARGETIDs. */
#include "ard/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

typedef struct id_list {
    int64_t *ids;
    int64_t n, cap;
} id_list;

static int collect_id(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    id_list *l = ctx;
    if (n < 1 || !v[0] || l->n == l->cap) {
        return l->n == l->cap;
    }
    l->ids[l->n++] = strtoll(v[0], NULL, 10);
    return 0;
}

static uint64_t next_rand(uint64_t *s) { /* xorshift64*, seeded */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)n;
    (void)names;
    (void)v;
    ++*(int64_t *)ctx;
    return 0;
}

/* `where` -> read plan REPS times (wall and CPU p50/p99), then the reference in the same run: the
 * plan SELECT of the index before row_groups.targetids (spectra joined through its TARGETID index,
 * one seek per spectrum), rows only counted, REPS/2 + 1 times. It leaves out the old path's second
 * query and plan building, so it is a lower bound of the old cost. */
static int bench_predicate(ard_index *idx, const char *backend, const char *where, int reps,
                           int reference) {
    double *t = calloc((size_t)reps, sizeof *t), *c = calloc((size_t)reps, sizeof *c);
    int64_t rows = 0, files = 0;
    for (int r = 0; r < reps; r++) {
        ard_plan *plan = NULL;
        ard_error err;
        ard_error_init(&err);
        double t0 = now(), c0 = cpu_now();
        if (ard_index_query(idx, where, 0, &plan, &err) != ARD_OK) {
            fprintf(stderr, "query: %s\n", err.msg);
            free(t);
            free(c);
            return 1;
        }
        t[r] = now() - t0;
        c[r] = cpu_now() - c0;
        rows = ard_plan_num_rows(plan);
        files = ard_plan_num_files(plan);
        ard_plan_free(plan);
    }
    printf("RESULT bench=query backend=%s what=%s spectra=%lld files=%lld p50_ms=%.3f "
           "p99_ms=%.3f cpu_p50_ms=%.3f cpu_p99_ms=%.3f\n",
           backend, where, (long long)rows, (long long)files, pct(t, reps, 0.5) * 1e3,
           pct(t, reps, 0.99) * 1e3, pct(c, reps, 0.5) * 1e3, pct(c, reps, 0.99) * 1e3);
    if (reference) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT s.file_id, s.row_group, s.row_index, s.targetid FROM spectra s WHERE"
                 " s.targetid IN (SELECT targetid FROM galaxies WHERE (%s))",
                 where);
        int n = reps / 2 + 1;
        for (int r = 0; r < n; r++) {
            rows = 0;
            double t0 = now(), c0 = cpu_now();
            ard_index_select(idx, sql, count_row, &rows, NULL);
            t[r] = now() - t0;
            c[r] = cpu_now() - c0;
        }
        printf("RESULT bench=query_seek backend=%s what=%s spectra=%lld p50_ms=%.3f p99_ms=%.3f "
               "cpu_p50_ms=%.3f cpu_p99_ms=%.3f\n",
               backend, where, (long long)rows, pct(t, n, 0.5) * 1e3, pct(t, n, 0.99) * 1e3,
               pct(c, n, 0.5) * 1e3, pct(c, n, 0.99) * 1e3);
    }
    free(t);
    free(c);
    return 0;
}

static int bench_lookups(ard_index *idx, const char *backend, int lookups) {
    id_list all = {malloc(200000 * sizeof(int64_t)), 0, 200000};
    ard_index_select(idx, "SELECT targetid FROM spectra WHERE row_index % 3 = 0", collect_id, &all,
                     NULL);
    if (all.n == 0) {
        fprintf(stderr, "no TARGETIDs\n");
        free(all.ids);
        return 1;
    }
    uint64_t seed = 0x5eed1234u;
    int64_t *ids = malloc((size_t)lookups * sizeof *ids);
    double *t = malloc((size_t)lookups * sizeof *t);
    int64_t found = 0;
    for (int i = 0; i < lookups; i++) {
        ids[i] = all.ids[next_rand(&seed) % (uint64_t)all.n];
        ard_plan *plan = NULL;
        double t0 = now();
        ard_index_query_targetids(idx, &ids[i], 1, &plan, NULL);
        t[i] = now() - t0;
        found += ard_plan_num_rows(plan);
        ard_plan_free(plan);
    }
    printf("RESULT bench=lookup backend=%s n=%d found=%lld p50_ms=%.3f p99_ms=%.3f\n", backend,
           lookups, (long long)found, pct(t, lookups, 0.5) * 1e3, pct(t, lookups, 0.99) * 1e3);
    ard_plan *plan = NULL;
    double t0 = now();
    ard_index_query_targetids(idx, ids, lookups, &plan, NULL);
    double batch = now() - t0;
    printf("RESULT bench=lookup_batch backend=%s n=%d spectra=%lld total_ms=%.3f\n", backend,
           lookups, (long long)ard_plan_num_rows(plan), batch * 1e3);
    ard_plan_free(plan);
    free(ids);
    free(t);
    free(all.ids);
    return 0;
}

static int bench_fetch(ard_index *idx, const char *dataset, const char *backend) {
    ard_plan *plan = NULL;
    if (ard_index_query(idx, "Z > 2.5", 0, &plan, NULL) != ARD_OK) {
        return 1;
    }
    for (int threads = 1; threads <= 2; threads++) {
        const char *cols[2] = {"FLUX", "IVAR"};
        ard_fetch *f = NULL;
        ard_error err;
        ard_error_init(&err);
        double t0 = now();
        ard_fetch_open(dataset, plan, cols, 2, threads, &f, &err);
        const ard_fetch_batch *b;
        ard_status st;
        int64_t rows = 0, bytes = 0;
        while ((st = ard_fetch_next(f, &b, &err)) == ARD_OK) {
            rows += b->rows;
            bytes += b->rows * (b->columns[0].width + b->columns[1].width) * 4;
        }
        double secs = now() - t0;
        ard_fetch_close(f);
        if (st != ARD_EEOF) {
            fprintf(stderr, "fetch: %s\n", err.msg);
            ard_plan_free(plan);
            return 1;
        }
        printf(
            "RESULT bench=fetch backend=%s threads=%d spectra=%lld seconds=%.4f spectra_per_s=%.0f"
            " decoded_MB_per_s=%.1f\n",
            backend, threads, (long long)rows, secs, (double)rows / secs,
            (double)bytes / secs / 1e6);
    }
    ard_plan_free(plan);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: bench_index_query DATASET DSN|- REPS LOOKUPS [fetch]\n");
        return 2;
    }
    const char *dsn = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
    ard_index *idx = NULL;
    ard_error err;
    ard_error_init(&err);
    if (ard_index_open(argv[1], dsn, ARD_INDEX_READ_ONLY, &idx, &err) != ARD_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    const char *backend = ard_index_backend(idx);
    int reps = (int)strtol(argv[3], NULL, 10);
    reps = reps > 0 ? reps : 20;
    int rc = bench_predicate(idx, backend, "Z > 2.5", reps, 1);
    /* selective predicates must not get slower: ~4,800 and ~150 of 6.4M spectra */
    if (rc == 0) {
        rc = bench_predicate(idx, backend, "Z > 2.5 AND TARGET_RA < 1", reps, 1);
    }
    if (rc == 0) {
        rc = bench_predicate(idx, backend, "Z > 2.5 AND TARGET_RA < 0.01", reps, 1);
    }
    if (rc == 0) {
        rc = bench_lookups(idx, backend, (int)strtol(argv[4], NULL, 10));
    }
    if (rc == 0 && argc > 5 && strcmp(argv[5], "fetch") == 0) {
        rc = bench_fetch(idx, argv[1], backend);
    }
    ard_index_close(idx);
    return rc;
}
