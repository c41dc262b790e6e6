/* `mpirun -n N ard stream serve DATASET --name NAME [--consumer-rank R] [--wire f16] [--cpus L]`:
 * maps the flags onto ard_cluster_stream_serve, prints the layout and every rank's report on rank 0,
 * and every failing rank's error (prefixed with its rank) on rank 0's stderr. Also the --cpus
 * pinning of a serve in one process. Public API only. */
#include "cmd_stream_cluster.h"
#include "cli.h"

#include "ard/cluster.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int32_t g_cancel;

static void on_signal(int sig) {
    (void)sig;
    g_cancel = 1;
}

static void print_lines(const char *title, const char *lines) {
    if (title) {
        fprintf(stderr, "ard: %s\n", title);
    }
    for (const char *l = lines; *l;) {
        const char *nl = strchr(l, '\n');
        int len = nl ? (int)(nl - l) : (int)strlen(l);
        fprintf(stderr, "ard:   %.*s\n", len, l);
        l += len + (nl != NULL);
    }
}

static void on_layout(void *ctx, const char *layout) {
    (void)ctx;
    print_lines("layout", layout);
}

static void on_failures(void *ctx, const char *lines) {
    (void)ctx;
    for (const char *l = lines; *l;) {
        const char *nl = strchr(l, '\n');
        int len = nl ? (int)(nl - l) : (int)strlen(l);
        fprintf(stderr, "ard: %.*s\n", len, l);
        l += len + (nl != NULL);
    }
}

static int parse_flags(const stream_cluster_args *ca, ard_cluster_stream_options *co) {
    if (ca->consumer_rank &&
        ard_cli_parse_i32(ca->consumer_rank, 0, 1 << 20, &co->consumer_rank) != 0) {
        return ard_cli_usage("stream serve", "--consumer-rank: expected a rank number");
    }
    if (ca->wire && (co->wire = ard_cluster_wire_parse(ca->wire)) < 0) {
        return ard_cli_usage("stream serve", "--wire: f32, f16 or bf16");
    }
    if (ca->peer_timeout) {
        double v = 0.0;
        if (ard_cli_parse_double(ca->peer_timeout, 0.0, 1e6, &v) != 0 || !(v > 0)) {
            return ard_cli_usage("stream serve", "--peer-timeout: expected seconds > 0");
        }
        co->peer_timeout_ms = (int64_t)(v * 1000.0);
    }
    co->cpus = ca->cpus;
    return 0;
}

int ard_cmd_stream_serve_local(const stream_cluster_args *ca) {
    ard_cluster_stream_options co;
    ard_cluster_stream_options_init(&co);
    int rc = parse_flags(ca, &co);
    if (rc != 0 || !ca->cpus) {
        return rc;
    }
    char applied[256];
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_cluster_pin_cpus(ca->cpus, 0, applied, sizeof applied, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    fprintf(stderr, "ard: layout: pid %d: producer threads and store in this process, cpus %s\n",
            (int)getpid(), applied);
    return 0;
}

static void report_line(const ard_cluster_stream_report *r, int32_t wire, char *out, size_t cap) {
    static const char *wires[] = {"f32", "f16", "bf16"};
    snprintf(out, cap,
             "rank %d %s: %lld batches, %lld spectra, %lld bytes on the wire (%.0f bytes/spectrum, "
             "wire %s), %.3f s\n",
             r->rank, r->role == 0 ? "consumer" : "producer", (long long)r->batches,
             (long long)r->spectra, (long long)r->wire_bytes, r->bytes_per_spectrum,
             wires[wire >= 0 && wire <= 2 ? wire : 0], r->seconds);
}

static int finish(ard_cluster *cl, ard_status st, const ard_error *err, int reported,
                  const ard_cluster_stream_report *rep, int32_t wire) {
    int32_t rank = ard_cluster_rank(cl);
    if (ard_cluster_broken(cl)) {
        fprintf(stderr, "ard: rank %d: %s\n", rank, err->msg[0] ? err->msg : ard_status_str(st));
        ard_cluster_close(cl); /* aborts the job: a peer is gone */
        return ARD_CLI_FAILURE;
    }
    if (st == ARD_OK) {
        char line[512], *all = NULL;
        report_line(rep, wire, line, sizeof line);
        ard_error gerr;
        ard_error_init(&gerr);
        if (ard_cluster_gather_text(cl, line, &all, &gerr) == ARD_OK && all) {
            print_lines("served", all);
        }
        ard_free(all);
    } else if (rank == 0 && !reported) {
        ard_cli_fail(st, err);
    }
    ard_cluster_close(cl);
    return st == ARD_OK ? ARD_CLI_OK : ARD_CLI_FAILURE;
}

typedef struct cli_ctx {
    int reported;
} cli_ctx;

static void on_failures_ctx(void *ctx, const char *lines) {
    ((cli_ctx *)ctx)->reported = 1;
    on_failures(ctx, lines);
}

int ard_cmd_stream_serve_cluster(const stream_cluster_args *ca, const ard_loader_options *o,
                                 const ard_read_item *items, int64_t num_items) {
    ard_cluster_stream_options co;
    ard_cluster_stream_options_init(&co);
    int rc = parse_flags(ca, &co);
    if (rc != 0) {
        return rc;
    }
    ard_error err;
    ard_error_init(&err);
    ard_cluster *cl = NULL;
    ard_status st = ard_cluster_open(&cl, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    if (ard_cluster_size(cl) < 2) {
        ard_cluster_close(cl);
        return -1;
    }
    cli_ctx ctx = {0};
    co.loader = *o;
    co.items = items;
    co.num_items = num_items;
    co.dataset = ca->dataset;
    co.where = ca->where;
    co.dsn = ca->dsn;
    co.cancel = &g_cancel;
    co.on_layout = on_layout;
    co.on_failures = on_failures_ctx;
    co.ctx = &ctx;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    ard_cluster_stream_report rep;
    st = ard_cluster_stream_serve(cl, &co, &rep, &err);
    return finish(cl, st, &err, ctx.reported, &rep, co.wire);
}
