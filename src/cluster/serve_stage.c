/* The serve stage (ard_cluster_serve): `ard stream serve` as one library call whether or not it
 * runs under mpirun -- the distributed serve with the plan read on every rank and the per-rank
 * report gathered on rank 0, or a pinned ard_stream_serve in this process. */
#include "cluster_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void ard_cluster_serve_options_init(ard_cluster_serve_options *opts) {
    memset(opts, 0, sizeof *opts);
    ard_stream_serve_options_init(&opts->serve);
    opts->peer_timeout_ms = 10000;
}

static void report_line(const ard_cluster_stream_report *r, int32_t wire, char *out, size_t cap) {
    static const char *const wires[] = {"f32", "f16", "bf16"};
    snprintf(out, cap,
             "rank %d %s: %lld batches, %lld spectra, %lld bytes on the wire (%.0f bytes/spectrum, "
             "wire %s), %.3f s; store %d slots, %lld bytes; credits max %lld, in flight max %lld; "
             "peak RSS %.1f MiB\n",
             r->rank, r->role == 0 ? "consumer" : "producer", (long long)r->batches,
             (long long)r->spectra, (long long)r->wire_bytes, r->bytes_per_spectrum,
             wires[wire >= 0 && wire <= 2 ? wire : 0], r->seconds, r->slots,
             (long long)r->store_bytes, (long long)r->max_credits, (long long)r->max_in_flight,
             (double)r->peak_rss_bytes / 1048576.0);
}

typedef struct serve_ctx {
    const ard_cluster_serve_options *o;
    ard_cluster_serve_report *rep;
} serve_ctx;

static void relay_layout(void *ctx, const char *lines) {
    serve_ctx *c = ctx;
    if (c->o->on_layout) {
        c->o->on_layout(c->o->ctx, lines);
    }
}

static void relay_failures(void *ctx, const char *lines) {
    serve_ctx *c = ctx;
    c->rep->failures_reported = c->o->on_failures != NULL;
    if (c->o->on_failures) {
        c->o->on_failures(c->o->ctx, lines);
    }
}

/* The plan as read items (a plan file or a plan; none: the cluster options' where/dataset). */
static ard_status plan_items(const ard_stream_serve_options *s, ard_read_items *items,
                             ard_error *err) {
    memset(items, 0, sizeof *items);
    ard_plan *loaded = NULL;
    ard_status st = s->plan_path ? ard_plan_load(s->plan_path, &loaded, err) : ARD_OK;
    const ard_plan *plan = s->plan_path ? loaded : s->plan;
    if (st == ARD_OK && plan) {
        st = ard_read_items_from_plan(s->dataset, plan, items, err);
    }
    ard_plan_free(loaded);
    return st;
}

/* After the distributed serve: a lost peer is reported by this rank, then the job is aborted (by
 * ard_cluster_close); else every rank's report line is gathered on rank 0. */
static ard_status finish(ard_cluster *cl, const ard_cluster_serve_options *o,
                         ard_cluster_serve_report *rep, ard_status st, ard_error *err) {
    if (ard_cluster_broken(cl)) {
        char line[1200];
        snprintf(line, sizeof line, "rank %d: %s", (int)rep->rank,
                 err && err->msg[0] ? err->msg : ard_status_str(st));
        serve_ctx c = {o, rep};
        relay_failures(&c, line);
        ard_cluster_close(cl); /* aborts the job: a peer is gone */
        return st;
    }
    if (st == ARD_OK) {
        char line[512], *all = NULL;
        report_line(&rep->cluster, o->wire, line, sizeof line);
        ard_error gerr;
        ard_error_init(&gerr);
        if (ard_cluster_gather_text(cl, line, &all, &gerr) == ARD_OK && all && o->on_report) {
            o->on_report(o->ctx, all);
        }
        ard_free(all);
    }
    ard_cluster_close(cl);
    return st;
}

static ard_status serve_distributed(ard_cluster *cl, const ard_cluster_serve_options *o,
                                    ard_cluster_serve_report *rep, ard_error *err) {
    ard_read_items items;
    ard_status st = plan_items(&o->serve, &items, err);
    serve_ctx ctx = {o, rep};
    ard_cluster_stream_options co;
    ard_cluster_stream_options_init(&co);
    co.loader = o->serve.loader;
    co.items = items.items;
    co.num_items = items.count;
    co.dataset = o->serve.dataset;
    co.where = o->serve.where;
    co.dsn = o->serve.dsn;
    co.consumer_rank = o->consumer_rank;
    co.wire = o->wire;
    co.chunk_batches = o->chunk_batches;
    co.peer_timeout_ms = o->peer_timeout_ms;
    co.cpus = o->cpus;
    co.cancel = (volatile int32_t *)o->serve.stop; /* only read by the cluster */
    co.on_layout = relay_layout;
    co.on_failures = relay_failures;
    co.ctx = &ctx;
    /* a plan that fails to load on one rank fails on every rank (the same file): no collective */
    if (st == ARD_OK) {
        st = ard_cluster_stream_serve(cl, &co, &rep->cluster, err);
    }
    ard_read_items_reset(&items);
    return finish(cl, o, rep, st, err);
}

static ard_status serve_here(const ard_cluster_serve_options *o, ard_cluster_serve_report *rep,
                             ard_error *err) {
    if (o->cpus) {
        char applied[256], line[400];
        ard_status st = ard_cluster_pin_cpus(o->cpus, 0, applied, sizeof applied, err);
        if (st != ARD_OK) {
            return st;
        }
        snprintf(line, sizeof line, "pid %d: producer threads and store in this process, cpus %s",
                 (int)getpid(), applied);
        if (o->on_layout) {
            o->on_layout(o->ctx, line);
        }
    }
    return ard_stream_serve(&o->serve, &rep->local, err);
}

ard_status ard_cluster_serve(const ard_cluster_serve_options *o, ard_cluster_serve_report *report,
                             ard_error *err) {
    ard_cluster_serve_report scratch;
    ard_cluster_serve_report *rep = report ? report : &scratch;
    memset(rep, 0, sizeof *rep);
    rep->size = 1;
    if (!o) {
        return ard_error_set(err, ARD_EINVAL, "stream serve: options are required");
    }
    if (!ard_cluster_launched()) {
        return serve_here(o, rep, err);
    }
    ard_cluster *cl = NULL;
    ard_status st = ard_cluster_open(&cl, err);
    if (st != ARD_OK) {
        return st;
    }
    rep->rank = ard_cluster_rank(cl);
    rep->size = ard_cluster_size(cl);
    if (rep->size < 2) {
        ard_cluster_close(cl);
        return serve_here(o, rep, err);
    }
    rep->distributed = 1;
    return serve_distributed(cl, o, rep, err);
}
