/* `ard stream serve DATASET --name NAME [options]`: runs a producer that fills a shared-memory
 * batch store for other processes (`ard.connect_stream(NAME)` in Python); `ard stream bench DATASET
 * [options]` (or `--connect NAME`) consumes batches and reports throughput and the consumer's CPU
 * time per batch. Both use the public stream API only. */
#include "cli.h"
#include "cmd_stream_cluster.h"

#include "ard/cluster.h"
#include "ard/stream.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum {
    OPT_NAME,
    OPT_CONNECT,
    OPT_PLAN,
    OPT_WHERE,
    OPT_BATCH,
    OPT_PREFETCH,
    OPT_SHUFFLE,
    OPT_BUFFER,
    OPT_SEED,
    OPT_EPOCHS,
    OPT_DROP_LAST,
    OPT_RANK,
    OPT_WORLD,
    OPT_THREADS,
    OPT_MEMORY,
    OPT_CACHE,
    OPT_PATCH,
    OPT_NORM,
    OPT_JSON,
    OPT_DB,
    OPT_COLUMNS,
    OPT_TEXT_WIDTH,
    OPT_CONSUMER_RANK,
    OPT_WIRE,
    OPT_CPUS,
    OPT_PEER_TIMEOUT,
    OPT_WEIGHTS,
    OPT_FRAME,
    OPT_ON_ERROR,
    NUM_OPTS
};

static const ard_cli_option stream_options[NUM_OPTS] = {
    [OPT_NAME] = {"name", "NAME", "serve: the store's name (shm /NAME)"},
    [OPT_CONNECT] = {"connect", "NAME", "bench: consume the stream NAME served by another process"},
    [OPT_PLAN] = {"plan", "FILE",
                  "read plan written by `ard query DATASET --format plan` (- = stdin)"},
    [OPT_WHERE] = {"where", "SQL", "catalog predicate, run read-only by the dataset's index"},
    [OPT_BATCH] = {"batch-size", "N", "spectra per batch (default 256)"},
    [OPT_PREFETCH] = {"prefetch", "N", "batch slots in the store (default 10)"},
    [OPT_SHUFFLE] = {"shuffle", NULL, "shuffle row groups per epoch"},
    [OPT_BUFFER] = {"shuffle-buffer", "N", "local shuffle buffer in rows (implies --shuffle)"},
    [OPT_SEED] = {"seed", "N", "shuffle seed (default 0)"},
    [OPT_EPOCHS] = {"epochs", "N", "passes over the data (default 1)"},
    [OPT_DROP_LAST] = {"drop-last", NULL, "drop a short last batch per epoch"},
    [OPT_RANK] = {"rank", "R", "this shard (default 0)"},
    [OPT_WORLD] = {"world", "W", "number of shards (default 1)"},
    [OPT_THREADS] = {"threads", "N", "producer threads (default 2)"},
    [OPT_MEMORY] = {"memory", "SIZE", "cap on store + cache bytes (K/M/G suffixes)"},
    [OPT_CACHE] = {"cache", NULL, "keep tokenized spectra in memory after epoch 1"},
    [OPT_PATCH] = {"patch", "P", "bins per token (32..128, default 64)"},
    [OPT_NORM] = {"norm", "MODE", "median (default), spectrum-median or none"},
    [OPT_JSON] = {"json", NULL, "bench: print the figures as JSON"},
    [OPT_DB] = {"db", "DSN", "index database for --where and --columns (default DATASET/ard.db)"},
    [OPT_COLUMNS] = {"columns", "LIST",
                     "catalog columns added to every batch from the index (e.g. Z,SPECTYPE)"},
    [OPT_TEXT_WIDTH] = {"text-width", "N", "bytes per text column value (default 16)"},
    [OPT_CONSUMER_RANK] = {"consumer-rank", "R",
                           "serve under mpirun: the rank that owns the store (default 0); the "
                           "others read and tokenize"},
    [OPT_WIRE] = {"wire", "FMT", "serve under mpirun: tokens cross the link as f32, f16 or bf16"},
    [OPT_CPUS] = {"cpus", "LIST", "serve: pin to CPUs (0-3,6; per rank: 0:1-3)"},
    [OPT_PEER_TIMEOUT] = {"peer-timeout", "SEC",
                          "serve under mpirun: a silent rank is dead after SEC s (default 10)"},
    [OPT_WEIGHTS] = {"weights", NULL, "add per-pixel weights (IVAR x scale^2) beside the tokens"},
    [OPT_FRAME] = {"frame", "observed|rest", "rest: align spectra by the catalog Z (index)"},
    [OPT_ON_ERROR] = {"on-error", "POLICY",
                      "fail (default): an unreadable row group ends the stream; skip: leave it "
                      "out, go on and report it"},
};

static const ard_cli_spec serve_spec = {
    "stream serve", "DATASET --name NAME [options]",
    "Reads the dataset's spectra (every tile, the spectra --where selects through the index, or\n"
    "the rows of --plan), tokenizes them into patches\n"
    "and serves batches through the shared-memory store /NAME until every batch is consumed.\n"
    "Consumers: ard.connect_stream(NAME) in Python, or `ard stream bench --connect NAME`.",
    stream_options, NUM_OPTS};

static const ard_cli_spec bench_spec = {
    "stream bench", "DATASET [options] | --connect NAME",
    "Consumes tokenized batches (producer threads in this process, or a served stream) and\n"
    "reports batches/s, spectra/s and the consumer's CPU time per batch.",
    stream_options, NUM_OPTS};

typedef struct int_opt {
    int id;
    int64_t lo, hi;
} int_opt;

static int apply_ints(const ard_cli_args *a, const char *cmd, ard_loader_options *o) {
    static const int_opt ints[] = {
        {OPT_BATCH, 1, 1 << 20},    {OPT_PREFETCH, 1, 4096},
        {OPT_BUFFER, 0, INT64_MAX}, {OPT_SEED, 0, INT64_MAX},
        {OPT_EPOCHS, 1, 1000000},   {OPT_RANK, 0, 1 << 20},
        {OPT_WORLD, 1, 1 << 20},    {OPT_THREADS, 1, 256},
        {OPT_TEXT_WIDTH, 1, 1024},  {OPT_PATCH, ARD_PATCH_MIN, ARD_PATCH_MAX}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v;
        if (!a->present[ints[i].id]) {
            continue;
        }
        if (ard_cli_parse_i64(a->value[ints[i].id], ints[i].lo, ints[i].hi, &v) != 0) {
            return ard_cli_usage(cmd, "--%s: expected an integer in %lld..%lld",
                                 stream_options[ints[i].id].name, (long long)ints[i].lo,
                                 (long long)ints[i].hi);
        }
        switch (ints[i].id) {
        case OPT_BATCH:
            o->batch_size = (int32_t)v;
            break;
        case OPT_PREFETCH:
            o->prefetch_batches = (int32_t)v;
            break;
        case OPT_BUFFER:
            o->local_shuffle_buffer = v;
            o->shuffle = 1;
            break;
        case OPT_SEED:
            o->seed = (uint64_t)v;
            break;
        case OPT_EPOCHS:
            o->epochs = (int32_t)v;
            break;
        case OPT_RANK:
            o->rank = (int32_t)v;
            break;
        case OPT_WORLD:
            o->world = (int32_t)v;
            break;
        case OPT_THREADS:
            o->threads = (int32_t)v;
            break;
        case OPT_TEXT_WIDTH:
            o->text_width = (int32_t)v;
            break;
        default:
            o->tokenize.patch = (int32_t)v;
            o->tokenize.min_valid = (int32_t)v / 4;
            break;
        }
    }
    return 0;
}

static int build_options(const ard_cli_args *a, const char *cmd, ard_loader_options *o) {
    ard_loader_options_init(o);
    int rc = apply_ints(a, cmd, o);
    if (rc != 0) {
        return rc;
    }
    o->shuffle |= a->present[OPT_SHUFFLE];
    o->drop_last = a->present[OPT_DROP_LAST];
    o->cache = a->present[OPT_CACHE];
    if (a->present[OPT_MEMORY] && ard_cli_parse_size(a->value[OPT_MEMORY], &o->memory_cap) != 0) {
        return ard_cli_usage(cmd, "--memory: expected a size such as 512M or 4G");
    }
    if (a->present[OPT_NORM]) {
        const char *n = a->value[OPT_NORM];
        o->tokenize.norm = strcmp(n, "median") == 0            ? ARD_NORM_MEDIAN
                           : strcmp(n, "none") == 0            ? ARD_NORM_NONE
                           : strcmp(n, "spectrum-median") == 0 ? ARD_NORM_SPECTRUM_MEDIAN
                                                               : -1;
        if (o->tokenize.norm < 0) {
            return ard_cli_usage(cmd, "--norm: median, spectrum-median or none");
        }
    }
    if (a->present[OPT_COLUMNS]) {
        o->columns = a->value[OPT_COLUMNS];
        if (a->num_positional == 1) {
            o->index_dataset = a->positional[0];
        }
        o->index_dsn = a->present[OPT_DB] ? a->value[OPT_DB] : NULL;
    }
    o->weights = a->present[OPT_WEIGHTS];
    if (a->present[OPT_FRAME]) {
        const char *f = a->value[OPT_FRAME];
        if (strcmp(f, "observed") != 0 && strcmp(f, "rest") != 0) {
            return ard_cli_usage(cmd, "--frame: observed or rest");
        }
        o->frame = strcmp(f, "rest") == 0 ? ARD_FRAME_REST : ARD_FRAME_OBSERVED;
        if (a->num_positional == 1) {
            o->index_dataset = a->positional[0];
        }
        o->index_dsn = a->present[OPT_DB] ? a->value[OPT_DB] : NULL;
    }
    if (a->present[OPT_ON_ERROR]) {
        const char *p = a->value[OPT_ON_ERROR];
        o->on_error = strcmp(p, "fail") == 0   ? ARD_ON_ERROR_FAIL
                      : strcmp(p, "skip") == 0 ? ARD_ON_ERROR_SKIP
                                               : -1;
        if (o->on_error < 0) {
            return ard_cli_usage(cmd, "--on-error: fail or skip");
        }
    }
    if (o->rank >= o->world) {
        return ard_cli_usage(cmd, "--rank must be below --world");
    }
    if (a->present[OPT_WHERE] && a->present[OPT_PLAN]) {
        return ard_cli_usage(cmd, "--where and --plan exclude each other");
    }
    return 0;
}

static ard_status make_loader(const ard_cli_args *a, const ard_loader_options *o, ard_loader **out,
                              ard_error *err) {
    if (a->present[OPT_PLAN]) {
        const char *file = a->value[OPT_PLAN];
        ard_plan *plan = NULL;
        ard_status st = ard_plan_load(strcmp(file, "-") == 0 ? "/dev/stdin" : file, &plan, err);
        if (st == ARD_OK) {
            st = ard_loader_new_plan(o, a->positional[0], plan, out, err);
        }
        ard_plan_free(plan);
        return st;
    }
    if (a->present[OPT_WHERE]) {
        return ard_loader_new_query(o, a->positional[0],
                                    a->present[OPT_DB] ? a->value[OPT_DB] : NULL,
                                    a->value[OPT_WHERE], out, err);
    }
    return ard_loader_new_dataset(o, a->positional[0], out, err);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Every row group left out under --on-error skip: one stderr line each, and (JSON) a "skipped"
 * array of {path, row_group, status, batches, error}. */
static void print_skipped(ard_loader *l, int skip_mode, int json) {
    int64_t n = ard_loader_num_skipped(l);
    ard_buf buf;
    ard_json j;
    ard_buf_init(&buf);
    ard_json_init(&j, &buf, 0);
    ard_json_begin_array(&j);
    for (int64_t i = 0; i < n; i++) {
        char path[1024], msg[512];
        int32_t rg = 0, status = 0;
        int64_t times = 0;
        if (ard_loader_skipped(l, i, path, sizeof path, &rg, &status, msg, sizeof msg, &times,
                               NULL) != ARD_OK) {
            break;
        }
        fprintf(stderr, "ard: skipped %s row group %d (%s, left out of %lld batches): %s\n", path,
                rg, ard_status_name((ard_status)status), (long long)times, msg);
        ard_json_begin_object(&j);
        ard_json_key(&j, "path");
        ard_json_string(&j, path);
        ard_json_key(&j, "row_group");
        ard_json_int(&j, rg);
        ard_json_key(&j, "status");
        ard_json_string(&j, ard_status_name((ard_status)status));
        ard_json_key(&j, "batches");
        ard_json_int(&j, times);
        ard_json_key(&j, "error");
        ard_json_string(&j, msg);
        ard_json_end_object(&j);
    }
    ard_json_end_array(&j);
    if (json && !buf.failed && (skip_mode || n > 0)) {
        printf(", \"skipped\": %.*s", (int)buf.len, buf.data);
    } else if (!json && n > 0) {
        printf("  %lld row groups skipped", (long long)n);
    }
    ard_buf_reset(&buf);
}

int ard_cmd_stream_serve(int argc, char **argv);
int ard_cmd_stream_bench(int argc, char **argv);

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

static void serve_started(void *ctx, const ard_stream_serve_report *r) {
    const ard_loader_options *o = ctx;
    fprintf(stderr, "ard: serving /%s: %lld spectra x %d epochs in %lld batches of %d\n",
            o->store_name, (long long)r->rows_per_epoch, o->epochs, (long long)r->batches_per_epoch,
            o->batch_size);
}

static void serve_finished(void *ctx, ard_loader *l) {
    (void)ctx;
    if (ard_loader_num_skipped(l) > 0) {
        print_skipped(l, 1, 0);
        printf("\n");
    }
}

static stream_cluster_args cluster_args(const ard_cli_args *a) {
    stream_cluster_args ca = {a->positional[0],
                              a->present[OPT_WHERE] ? a->value[OPT_WHERE] : NULL,
                              a->present[OPT_DB] ? a->value[OPT_DB] : NULL,
                              a->present[OPT_CONSUMER_RANK] ? a->value[OPT_CONSUMER_RANK] : NULL,
                              a->present[OPT_WIRE] ? a->value[OPT_WIRE] : NULL,
                              a->present[OPT_CPUS] ? a->value[OPT_CPUS] : NULL,
                              a->present[OPT_PEER_TIMEOUT] ? a->value[OPT_PEER_TIMEOUT] : NULL};
    return ca;
}

/* Under mpirun: the distributed serve (every rank reads the --plan file itself). -1 = serve in
 * this process. */
static int serve_distributed(const ard_cli_args *a, const ard_loader_options *o) {
    if (!ard_cluster_launched()) {
        return -1;
    }
    ard_read_items p = {0};
    ard_error err;
    ard_error_init(&err);
    if (a->present[OPT_PLAN]) {
        const char *file = a->value[OPT_PLAN];
        ard_plan *plan = NULL;
        ard_status st = ard_plan_load(strcmp(file, "-") == 0 ? "/dev/stdin" : file, &plan, &err);
        if (st == ARD_OK) {
            st = ard_read_items_from_plan(a->positional[0], plan, &p, &err);
        }
        ard_plan_free(plan);
        if (st != ARD_OK) {
            return ard_cli_fail(st, &err);
        }
    }
    stream_cluster_args ca = cluster_args(a);
    int rc = ard_cmd_stream_serve_cluster(&ca, o, p.items, p.count);
    ard_read_items_reset(&p);
    return rc;
}

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
    ard_loader_options o;
    if ((rc = build_options(&a, "stream serve", &o)) != 0) {
        return rc;
    }
    o.store_name = a.value[OPT_NAME];
    if ((rc = serve_distributed(&a, &o)) >= 0) {
        return rc;
    }
    stream_cluster_args ca = cluster_args(&a);
    if ((rc = ard_cmd_stream_serve_local(&ca)) != 0) {
        return rc;
    }
    ard_stream_serve_options so;
    ard_stream_serve_options_init(&so);
    so.loader = o;
    so.dataset = a.positional[0];
    so.where = a.present[OPT_WHERE] ? a.value[OPT_WHERE] : NULL;
    so.dsn = a.present[OPT_DB] ? a.value[OPT_DB] : NULL;
    const char *plan = a.present[OPT_PLAN] ? a.value[OPT_PLAN] : NULL;
    so.plan_path = plan && strcmp(plan, "-") == 0 ? "/dev/stdin" : plan;
    so.stop = &g_interrupted;
    so.on_started = serve_started;
    so.on_finished = serve_finished;
    so.ctx = &so.loader;
    ard_error err;
    ard_error_init(&err);
    catch_signals();
    ard_status st = ard_stream_serve(&so, NULL, &err);
    return st == ARD_OK ? ARD_CLI_OK : ard_cli_fail(st, &err);
}

typedef struct bench_result {
    int64_t batches, spectra;
    int64_t catalog_rows; /* rows whose first catalog column holds a value (not NaN/0/empty) */
    double wall, consumer_cpu;
} bench_result;

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

static ard_status consume_all(ard_store *c, bench_result *r, ard_error *err) {
    ard_batch b;
    ard_status st;
    double t0 = now_s(), c0 = cpu_s();
    volatile float sink = 0;
    while ((st = ard_store_acquire(c, -1, &b, err)) == ARD_OK) {
        r->batches++;
        r->spectra += b.count;
        r->catalog_rows += catalog_rows(c, &b);
        sink += b.tokens[0]; /* touch the batch, as a trainer would hand it on */
        ard_store_release(c, &b, NULL);
    }
    (void)sink;
    r->wall = now_s() - t0;
    r->consumer_cpu = cpu_s() - c0;
    return st == ARD_EEOF ? ARD_OK : st;
}

static void print_columns(const ard_store *c, int json) {
    int32_t n = ard_store_num_columns(c);
    printf(json ? ", \"columns\": [" : "  columns ");
    for (int32_t i = 0; i < n; i++) {
        printf(json ? "%s\"%s\"" : "%s%s", i ? "," : "", ard_store_column_name(c, i));
    }
    if (json) {
        printf("]");
    }
}

static void print_bench(const ard_store *c, ard_loader *l, int skip_mode, const bench_result *r,
                        int json) {
    double bps = r->wall > 0 ? (double)r->batches / r->wall : 0;
    double sps = r->wall > 0 ? (double)r->spectra / r->wall : 0;
    double cpu_us = r->batches ? r->consumer_cpu / (double)r->batches * 1e6 : 0;
    if (json) {
        printf("{\"batches\": %lld, \"spectra\": %lld, \"seconds\": %.6f, \"batches_per_s\": %.3f, "
               "\"spectra_per_s\": %.1f, \"consumer_cpu_us_per_batch\": %.2f",
               (long long)r->batches, (long long)r->spectra, r->wall, bps, sps, cpu_us);
        if (ard_store_num_columns(c) > 0) {
            print_columns(c, 1);
            printf(", \"catalog_rows\": %lld", (long long)r->catalog_rows);
        }
        if (l) {
            print_skipped(l, skip_mode, 1);
        }
        printf("}\n");
    } else {
        printf("batches %lld  spectra %lld  %.3f s  %.1f batches/s  %.0f spectra/s  consumer "
               "CPU %.1f us/batch",
               (long long)r->batches, (long long)r->spectra, r->wall, bps, sps, cpu_us);
        if (ard_store_num_columns(c) > 0) {
            print_columns(c, 0);
            printf("  (%lld rows with a catalog value)", (long long)r->catalog_rows);
        }
        if (l) {
            print_skipped(l, skip_mode, 0);
        }
        printf("\n");
    }
}

int ard_cmd_stream_bench(int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(&bench_spec, argc, argv, &a);
    if (rc != 0 || a.help) {
        if (a.help) {
            ard_cli_print_help(&bench_spec);
        }
        return rc;
    }
    int connect = a.present[OPT_CONNECT];
    if ((connect && a.num_positional != 0) || (!connect && a.num_positional != 1)) {
        return ard_cli_usage("stream bench", "expected DATASET or --connect NAME");
    }
    ard_loader_options o;
    if ((rc = build_options(&a, "stream bench", &o)) != 0) {
        return rc;
    }
    ard_error err;
    ard_error_init(&err);
    ard_loader *l = NULL;
    ard_store *c = NULL;
    ard_status st =
        connect ? ard_store_connect(a.value[OPT_CONNECT], &c, &err) : make_loader(&a, &o, &l, &err);
    if (st == ARD_OK && !connect) {
        st = ard_store_attach(ard_loader_store(l), &c, &err);
        if (st == ARD_OK) {
            st = ard_loader_start(l, &err);
        }
    }
    bench_result r = {0};
    if (st == ARD_OK) {
        st = consume_all(c, &r, &err);
    }
    if (st == ARD_OK) {
        print_bench(c, l, o.on_error == ARD_ON_ERROR_SKIP, &r, a.present[OPT_JSON]);
    }
    ard_store_close(c);
    ard_loader_free(l);
    return st == ARD_OK ? ARD_CLI_OK : ard_cli_fail(st, &err);
}

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
