/* The serve stage (and the source loader it shares with the bench stage): a loader over a dataset, a predicate or a plan, producing into a named store
 * until every batch is consumed by other processes or the caller asks it to stop. `ard stream
 * serve` maps its flags onto the options and installs the signal handlers that set *stop. */
#include "stream_int.h"

#include <string.h>
#include <time.h>

void ard_stream_serve_options_init(ard_stream_serve_options *opts) {
    memset(opts, 0, sizeof *opts);
    ard_loader_options_init(&opts->loader);
}

ard_status ard__stream_source_loader(const ard_loader_options *lo, const char *dataset,
                                     const char *where, const char *dsn, const char *plan_path,
                                     const ard_plan *plan, ard_loader **out, ard_error *err) {
    if (plan_path) {
        ard_plan *loaded = NULL;
        ard_status st = ard_plan_load(plan_path, &loaded, err);
        if (st == ARD_OK) {
            st = ard_loader_new_plan(lo, dataset, loaded, out, err);
        }
        ard_plan_free(loaded);
        return st;
    }
    if (plan) {
        return ard_loader_new_plan(lo, dataset, plan, out, err);
    }
    if (where) {
        return ard_loader_new_query(lo, dataset, dsn, where, out, err);
    }
    return ard_loader_new_dataset(lo, dataset, out, err);
}

static void sleep_ms(int32_t ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* *stop, read atomically: the flag is set by a signal handler or by another thread. */
static int stopped(const ard_stream_serve_options *o) {
    return o->stop && __atomic_load_n(o->stop, __ATOMIC_ACQUIRE) != 0;
}

/* Waits until every batch was produced and consumed, or *stop. */
static ard_status serve_until_drained(const ard_stream_serve_options *o, ard_loader *l,
                                      ard_stream_serve_report *rep, ard_error *err) {
    int32_t poll = o->poll_ms > 0 ? o->poll_ms : 20;
    while (!stopped(o) && !ard_store_drained(ard_loader_store(l))) {
        sleep_ms(poll);
    }
    if (stopped(o) && !ard_store_drained(ard_loader_store(l))) {
        rep->interrupted = 1;
        ard_store_finish(ard_loader_store(l), ARD_EIO, "the stream's server was interrupted");
        return ard_error_set(err, ARD_EIO, "stream serve /%s: interrupted", o->loader.store_name);
    }
    return ard_loader_wait(l, err);
}

ard_status ard_stream_serve(const ard_stream_serve_options *o, ard_stream_serve_report *report,
                            ard_error *err) {
    ard_stream_serve_report scratch;
    ard_stream_serve_report *rep = report ? report : &scratch;
    memset(rep, 0, sizeof *rep);
    int sources = o ? (o->where != NULL) + (o->plan_path != NULL) + (o->plan != NULL) : 0;
    if (!o || !o->dataset || !o->loader.store_name || sources > 1) {
        return ard_error_set(err, ARD_EINVAL,
                             "stream serve: needs a dataset, a store name and at most one of "
                             "where, plan_path, plan");
    }
    ard_loader *l = NULL;
    ard_status st = ard__stream_source_loader(&o->loader, o->dataset, o->where, o->dsn,
                                              o->plan_path, o->plan, &l, err);
    if (st == ARD_OK) {
        rep->rows_per_epoch = ard_loader_rows_per_epoch(l);
        rep->batches_per_epoch = ard_loader_batches_per_epoch(l);
        if (o->on_started) {
            o->on_started(o->ctx, rep);
        }
        st = ard_loader_start(l, err);
    }
    if (st == ARD_OK) {
        st = serve_until_drained(o, l, rep, err);
    }
    if (l) {
        rep->skipped = ard_loader_num_skipped(l);
        if (o->on_finished) {
            o->on_finished(o->ctx, l);
        }
    }
    ard_loader_free(l);
    return st;
}
