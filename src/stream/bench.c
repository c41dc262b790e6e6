/* The bench stage (`ard stream bench`): consumes a stream on the calling thread as a trainer would
 * and measures it -- batches/s, spectra/s and the consumer's CPU time per batch, the figure that
 * says how much of a trainer's core the loader costs. */
#include "stream_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void ard_stream_bench_options_init(ard_stream_bench_options *opts) {
    memset(opts, 0, sizeof *opts);
    ard_loader_options_init(&opts->loader);
}

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Rows of a batch whose first catalog column is not the "no value" default. */
static int64_t catalog_rows(const ard_store *c, const ard_batch *b) {
    const void *col = ard_store_num_columns(c) > 0 ? ard_batch_column(c, b, 0) : NULL;
    int64_t n = 0;
    for (int32_t i = 0; col && i < b->count; i++) {
        switch (ard_store_column_type(c, 0)) {
        case ARD_COLUMN_FLOAT64:
            n += !isnan(((const double *)col)[i]);
            break;
        case ARD_COLUMN_INT64:
            n += ((const int64_t *)col)[i] != 0;
            break;
        default:
            n += ((const char *)col)[(int64_t)i * ard_store_column_width(c, 0)] != '\0';
            break;
        }
    }
    return n;
}

static ard_status consume_all(ard_store *c, ard_stream_bench_report *r, ard_error *err) {
    ard_batch b;
    ard_status st;
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    volatile float sink = 0;
    while ((st = ard_store_acquire(c, -1, &b, err)) == ARD_OK) {
        r->batches++;
        r->spectra += b.count;
        r->catalog_rows += catalog_rows(c, &b);
        sink += b.tokens[0]; /* touch the batch, as a trainer would hand it on */
        ard_store_release(c, &b, NULL);
    }
    (void)sink;
    r->seconds = clock_s(CLOCK_MONOTONIC) - t0;
    r->consumer_cpu_seconds = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    return st == ARD_EEOF ? ARD_OK : st;
}

static void fill_rates(const ard_store *c, ard_stream_bench_report *r) {
    r->batches_per_second = r->seconds > 0 ? (double)r->batches / r->seconds : 0.0;
    r->spectra_per_second = r->seconds > 0 ? (double)r->spectra / r->seconds : 0.0;
    r->consumer_cpu_us_per_batch =
        r->batches ? r->consumer_cpu_seconds / (double)r->batches * 1e6 : 0.0;
    r->num_columns = ard_store_num_columns(c);
    size_t at = 0;
    for (int32_t i = 0; i < r->num_columns && at < sizeof r->columns; i++) {
        int len = snprintf(r->columns + at, sizeof r->columns - at, "%s%s", i ? "," : "",
                           ard_store_column_name(c, i));
        at += len > 0 ? (size_t)len : 0;
    }
}

static ard_status check(const ard_stream_bench_options *o, ard_error *err) {
    int sources = o ? (o->where != NULL) + (o->plan_path != NULL) + (o->plan != NULL) : 0;
    if (!o || (!o->connect == !o->dataset) || sources > 1 || (o->connect && sources > 0)) {
        return ard_error_set(err, ARD_EINVAL,
                             "stream bench: needs a dataset (with at most one of where, plan_path, "
                             "plan) or a served stream to connect to, not both");
    }
    return ARD_OK;
}

ard_status ard_stream_bench(const ard_stream_bench_options *o, ard_stream_bench_report *report,
                            ard_error *err) {
    ard_stream_bench_report scratch;
    ard_stream_bench_report *r = report ? report : &scratch;
    memset(r, 0, sizeof *r);
    ard_status st = check(o, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_loader *l = NULL;
    ard_store *c = NULL;
    if (o->connect) {
        st = ard_store_connect(o->connect, &c, err);
    } else {
        st = ard__stream_source_loader(&o->loader, o->dataset, o->where, o->dsn, o->plan_path,
                                       o->plan, &l, err);
        if (st == ARD_OK) {
            st = ard_store_attach(ard_loader_store(l), &c, err);
        }
        if (st == ARD_OK) {
            st = ard_loader_start(l, err);
        }
    }
    if (st == ARD_OK) {
        st = consume_all(c, r, err);
    }
    if (st == ARD_OK) {
        fill_rates(c, r);
    }
    if (l) {
        r->skipped = ard_loader_num_skipped(l);
        if (o->on_finished) {
            o->on_finished(o->ctx, l);
        }
    }
    ard_store_close(c);
    ard_loader_free(l);
    return st;
}
