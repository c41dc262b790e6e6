/* `ard stream bench DATASET [options]` (or `--connect NAME`): maps the flags onto ard_stream_bench
 * (consume every batch as a trainer would) and prints its report: batches/s, spectra/s and the
 * consumer's CPU time per batch, as text or JSON. Public API only. */
#include "cmd_stream.h"

#include <string.h>

static const ard_cli_spec bench_spec = {
    "stream bench", "DATASET [options] | --connect NAME",
    "Consumes tokenized batches (producer threads in this process, or a served stream) and\n"
    "reports batches/s, spectra/s and the consumer's CPU time per batch.",
    ard_cli_stream_options, OPT_STREAM_COUNT};

/* The skipped row groups, listed when the bench ends (before its loader is freed). */
typedef struct bench_skips {
    int listed;
    int64_t count;
    ard_buf json;
} bench_skips;

static void on_finished(void *ctx, ard_loader *l) {
    bench_skips *s = ctx;
    s->listed = 1;
    s->count = ard_cli_stream_skipped(l, &s->json);
}

static void print_json(const ard_stream_bench_report *r, const bench_skips *s, int skip_mode) {
    printf("{\"batches\": %lld, \"spectra\": %lld, \"seconds\": %.6f, \"batches_per_s\": %.3f, "
           "\"spectra_per_s\": %.1f, \"consumer_cpu_us_per_batch\": %.2f",
           (long long)r->batches, (long long)r->spectra, r->seconds, r->batches_per_second,
           r->spectra_per_second, r->consumer_cpu_us_per_batch);
    if (r->num_columns > 0) {
        printf(", \"columns\": [");
        for (const char *c = r->columns; *c;) {
            size_t len = strcspn(c, ",");
            printf("%s\"%.*s\"", c == r->columns ? "" : ",", (int)len, c);
            c += len + (c[len] == ',');
        }
        printf("], \"catalog_rows\": %lld", (long long)r->catalog_rows);
    }
    if (s->listed && !s->json.failed && (skip_mode || s->count > 0)) {
        printf(", \"skipped\": %.*s", (int)s->json.len, s->json.data);
    }
    printf("}\n");
}

static void print_text(const ard_stream_bench_report *r, const bench_skips *s) {
    printf("batches %lld  spectra %lld  %.3f s  %.1f batches/s  %.0f spectra/s  consumer "
           "CPU %.1f us/batch",
           (long long)r->batches, (long long)r->spectra, r->seconds, r->batches_per_second,
           r->spectra_per_second, r->consumer_cpu_us_per_batch);
    if (r->num_columns > 0) {
        printf("  columns %s  (%lld rows with a catalog value)", r->columns,
               (long long)r->catalog_rows);
    }
    if (s->listed && s->count > 0) {
        printf("  %lld row groups skipped", (long long)s->count);
    }
    printf("\n");
}

int ard_cmd_stream_bench(int argc, char **argv);

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
    ard_stream_bench_options o;
    ard_stream_bench_options_init(&o);
    if ((rc = ard_cli_stream_loader_options(&a, "stream bench", &o.loader)) != 0) {
        return rc;
    }
    bench_skips skips = {0};
    ard_buf_init(&skips.json);
    o.connect = ard_cli_stream_flag(&a, OPT_CONNECT);
    o.dataset = connect ? NULL : a.positional[0];
    o.where = connect ? NULL : ard_cli_stream_flag(&a, OPT_WHERE);
    o.dsn = o.where ? ard_cli_stream_flag(&a, OPT_DB) : NULL;
    o.plan_path = connect ? NULL : ard_cli_stream_plan(&a);
    o.on_finished = on_finished;
    o.ctx = &skips;
    ard_error err;
    ard_error_init(&err);
    ard_stream_bench_report r;
    ard_status st = ard_stream_bench(&o, &r, &err);
    if (st == ARD_OK && a.present[OPT_JSON]) {
        print_json(&r, &skips, o.loader.on_error == ARD_ON_ERROR_SKIP);
    } else if (st == ARD_OK) {
        print_text(&r, &skips);
    }
    ard_buf_reset(&skips.json);
    return st == ARD_OK ? ARD_CLI_OK : ard_cli_fail(st, &err);
}
