/* `ard stream serve DATASET --name NAME [options]`: maps the flags onto ard_cluster_serve (the serve
 * stage: producers filling a shared-memory batch store for other processes, `ard.connect_stream(NAME)`
 * in Python; distributed over the ranks under mpirun) and prints what it reports. `ard stream`
 * dispatches to serve and to bench (cmd_stream_bench.c). Public API only. */
#include "cmd_stream.h"

#include "ard/cluster.h"

#include <signal.h>
#include <string.h>

static const ard_cli_spec serve_spec = {
    "stream serve", "DATASET --name NAME [options]",
    "Reads the dataset's spectra (every tile, the spectra --where selects through the index, or\n"
    "the rows of --plan), tokenizes them into patches\n"
    "and serves batches through the shared-memory store /NAME until every batch is consumed.\n"
    "Consumers: ard.connect_stream(NAME) in Python, or `ard stream bench --connect NAME`.",
    ard_cli_stream_options, OPT_STREAM_COUNT};

/* Set by SIGINT/SIGTERM; the serve stage polls it (sig_atomic_t is int32_t here). */
static volatile int32_t g_interrupted;
_Static_assert(sizeof(sig_atomic_t) == sizeof(int32_t), "sig_atomic_t is not 32-bit");

static void on_signal(int sig) {
    (void)sig;
    g_interrupted = 1;
}

/* SIGINT/SIGTERM only set a flag: installed before the store exists, so a signal that arrives
 * while the loader is being built still ends the serve cleanly (the store's name removed). */
static void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void print_lines(const char *title, const char *lines) {
    if (title) {
        fprintf(stderr, "ard: %s\n", title);
    }
    for (const char *l = lines; *l;) {
        const char *nl = strchr(l, '\n');
        int len = nl ? (int)(nl - l) : (int)strlen(l);
        fprintf(stderr, "ard: %s%.*s\n", title ? "  " : "", len, l);
        l += len + (nl != NULL);
    }
}

static void on_layout(void *ctx, const char *lines) {
    (void)ctx;
    const char *nl = strchr(lines, '\n');
    if (nl && nl[1] != '\0') { /* one line per rank */
        print_lines("layout", lines);
    } else {
        fprintf(stderr, "ard: layout: %s\n", lines);
    }
}

static void on_report(void *ctx, const char *lines) {
    (void)ctx;
    print_lines("served", lines);
}

static void on_failures(void *ctx, const char *lines) {
    (void)ctx;
    print_lines(NULL, lines);
}

static void serve_started(void *ctx, const ard_stream_serve_report *r) {
    const ard_loader_options *o = ctx;
    fprintf(stderr, "ard: serving /%s: %lld spectra x %d epochs in %lld batches of %d\n",
            o->store_name, (long long)r->rows_per_epoch, o->epochs, (long long)r->batches_per_epoch,
            o->batch_size);
}

static void serve_finished(void *ctx, ard_loader *l) {
    (void)ctx;
    int64_t n = ard_cli_stream_skipped(l, NULL);
    if (n > 0) {
        printf("  %lld row groups skipped\n", (long long)n);
    }
}

/* --consumer-rank, --wire, --peer-timeout, --cpus. */
static int cluster_flags(const ard_cli_args *a, ard_cluster_serve_options *o) {
    const char *cmd = "stream serve";
    if (a->present[OPT_CONSUMER_RANK] &&
        ard_cli_parse_i32(a->value[OPT_CONSUMER_RANK], 0, 1 << 20, &o->consumer_rank) != 0) {
        return ard_cli_usage(cmd, "--consumer-rank: expected a rank number");
    }
    if (a->present[OPT_WIRE] && (o->wire = ard_cluster_wire_parse(a->value[OPT_WIRE])) < 0) {
        return ard_cli_usage(cmd, "--wire: f32, f16 or bf16");
    }
    if (a->present[OPT_PEER_TIMEOUT]) {
        double v = 0.0;
        if (ard_cli_parse_double(a->value[OPT_PEER_TIMEOUT], 0.0, 1e6, &v) != 0 || !(v > 0)) {
            return ard_cli_usage(cmd, "--peer-timeout: expected seconds > 0");
        }
        o->peer_timeout_ms = (int64_t)(v * 1000.0);
    }
    o->cpus = ard_cli_stream_flag(a, OPT_CPUS);
    return 0;
}

int ard_cmd_stream_serve(int argc, char **argv);

int ard_cmd_stream_serve(int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(&serve_spec, argc, argv, &a);
    if (rc != 0 || a.help) {
        if (a.help) {
            ard_cli_print_help(&serve_spec);
        }
        return rc;
    }
    if (a.num_positional != 1 || !a.present[OPT_NAME]) {
        return ard_cli_usage("stream serve", "expected DATASET and --name NAME");
    }
    ard_cluster_serve_options o;
    ard_cluster_serve_options_init(&o);
    if ((rc = ard_cli_stream_loader_options(&a, "stream serve", &o.serve.loader)) != 0 ||
        (rc = cluster_flags(&a, &o)) != 0) {
        return rc;
    }
    o.serve.loader.store_name = a.value[OPT_NAME];
    o.serve.dataset = a.positional[0];
    o.serve.where = ard_cli_stream_flag(&a, OPT_WHERE);
    o.serve.dsn = ard_cli_stream_flag(&a, OPT_DB);
    o.serve.plan_path = ard_cli_stream_plan(&a);
    o.serve.stop = &g_interrupted;
    o.serve.on_started = serve_started;
    o.serve.on_finished = serve_finished;
    o.serve.ctx = &o.serve.loader;
    o.on_layout = on_layout;
    o.on_report = on_report;
    o.on_failures = on_failures;
    ard_error err;
    ard_error_init(&err);
    catch_signals();
    ard_cluster_serve_report rep;
    ard_status st = ard_cluster_serve(&o, &rep, &err);
    if (st == ARD_OK) {
        return ARD_CLI_OK;
    }
    return rep.failures_reported || rep.rank != 0 ? ARD_CLI_FAILURE : ard_cli_fail(st, &err);
}

int ard_cmd_stream_bench(int argc, char **argv);
int ard_cmd_stream(int argc, char **argv);

/* `ard stream <serve|bench> ...`: argv[0] is "stream". */
int ard_cmd_stream(int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub && strcmp(sub, "serve") == 0) {
        return ard_cmd_stream_serve(argc - 1, argv + 1);
    }
    if (sub && strcmp(sub, "bench") == 0) {
        return ard_cmd_stream_bench(argc - 1, argv + 1);
    }
    if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)) {
        printf("usage: ard stream <command> [options]\n\ncommands:\n"
               "  serve   serve tokenized batches through a shared-memory store\n"
               "  bench   consume batches and report throughput\n\n"
               "Run 'ard stream <command> --help' for a command's options.\n");
        return ARD_CLI_OK;
    }
    return ard_cli_usage("stream", sub ? "unknown command 'stream %s'" : "missing command%s",
                         sub ? sub : "");
}
