/* `ard anomaly train|score|merge|top DATASET ...`: flags -> ard_anomaly_options, then the stage's report.
 */
#include "ard/science.h"
#include "ard/stream.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ard_cmd_anomaly(int argc, char **argv);

enum {
    OPT_WHERE,
    OPT_DSN,
    OPT_RUN,
    OPT_RUNID,
    OPT_MODEL,
    OPT_EPOCHS,
    OPT_LATENT,
    OPT_HIDDEN,
    OPT_EMBED,
    OPT_PATCH,
    OPT_BATCH,
    OPT_LR,
    OPT_SEED,
    OPT_FRAME,
    OPT_REFERENCE,
    OPT_KNN,
    OPT_DENSITY,
    OPT_THREADS,
    OPT_K,
    OPT_RANK,
    OPT_SIZE,
    OPT_QUIET,
    NUM_OPTS
};

static const ard_cli_option an_options[NUM_OPTS] = {
    [OPT_WHERE] = {"where", "EXPR", "SQL predicate over the catalog (default: every spectrum)"},
    [OPT_DSN] = {"dsn", "DSN", "index DSN (default DATASET/ard.db)"},
    [OPT_RUN] = {"run", "ID", "the new run's id (train and score; default: UTC timestamp)"},
    [OPT_RUNID] = {"run-id", "ID", "the same as --run (the name fof and cosmicweb use)"},
    [OPT_MODEL] = {"model", "RUN", "score, merge: the model's run (default: the newest model)"},
    [OPT_EPOCHS] = {"epochs", "E", "training epochs (default 10)"},
    [OPT_LATENT] = {"latent", "S", "latent size (default 8)"},
    [OPT_HIDDEN] = {"hidden", "H", "hidden width (default 256)"},
    [OPT_EMBED] = {"embed", "D", "patch embedding size, even (default 16)"},
    [OPT_PATCH] = {"patch", "P", "bins per patch (default 64)"},
    [OPT_BATCH] = {"batch-size", "B", "spectra per batch (default 128)"},
    [OPT_LR] = {"lr", "X", "Adam learning rate (default 2e-3)"},
    [OPT_SEED] = {"seed", "S", "weights and shuffle seed (default 1)"},
    [OPT_FRAME] = {"frame", "observed|rest", "token frame (default rest: aligned by catalog Z)"},
    [OPT_REFERENCE] = {"reference", "R", "reference sample for the density score (4096)"},
    [OPT_KNN] = {"knn", "K", "k of the k-nearest-neighbour density (default 10)"},
    [OPT_DENSITY] = {"density-weight", "W", "weight of the density z-score in the score (0.5)"},
    [OPT_THREADS] = {"threads", "T", "compute threads (default 2; results do not depend on it)"},
    [OPT_K] = {"k", "K", "top: candidates to print (default 50; -k works too)"},
    [OPT_RANK] = {"rank", "R", "score: this process's part (0 .. size-1; default 0)"},
    [OPT_SIZE] = {"size", "N",
                  "score: parts (default 1); N > 1 writes results/anomaly-RUN-part-R-"
                  "scores.parquet and no index table; merge: the number of parts"},
    [OPT_QUIET] = {"quiet", NULL, "no progress bar"},
};

static const ard_cli_spec an_spec = {
    "anomaly", "train|score|merge|top DATASET [--where EXPR] [--epochs E] [--latent S] [-k K] ...",
    "Autoencoder anomaly detection over the stream: `train` fits the model on the selected\n"
    "spectra (IVAR-weighted) and saves models/anomaly-RUN.safetensors; `score` writes\n"
    "results/anomaly-RUN-scores.parquet and the index table anomalies; `merge --run ID --size N`\n"
    "joins the parts of `score --run ID --rank R --size N` jobs into run ID (index table\n"
    "included); `top` prints the top candidates with their catalog rows.",
    an_options, NUM_OPTS};

static int num(const ard_cli_args *a, int opt, double lo, double hi, double *out) {
    if (!a->present[opt]) {
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(a->value[opt], &end);
    if (errno || end == a->value[opt] || *end || !(v >= lo && v <= hi)) {
        return ard_cli_usage("anomaly", "bad --%s '%s'", an_options[opt].name, a->value[opt]);
    }
    *out = v;
    return 0;
}

static int parse_opts(const ard_cli_args *a, ard_anomaly_options *o) {
    double v[NUM_OPTS];
    static const struct {
        int opt;
        double lo, hi;
    } nums[] = {{OPT_EPOCHS, 1, 1e5}, {OPT_LATENT, 1, 1024}, {OPT_HIDDEN, 1, 65536},
                {OPT_EMBED, 2, 1024}, {OPT_PATCH, 32, 128},  {OPT_BATCH, 1, 65536},
                {OPT_LR, 1e-9, 10},   {OPT_SEED, 0, 9e15},   {OPT_REFERENCE, 2, 1 << 20},
                {OPT_KNN, 1, 1000},   {OPT_DENSITY, 0, 1e6}, {OPT_THREADS, 1, 256},
                {OPT_K, 1, 1e9},      {OPT_RANK, 0, 65535},  {OPT_SIZE, 1, 65536}};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        v[nums[i].opt] = -1;
        if (num(a, nums[i].opt, nums[i].lo, nums[i].hi, &v[nums[i].opt]) != 0) {
            return 2;
        }
    }
    o->where = a->present[OPT_WHERE] ? a->value[OPT_WHERE] : NULL;
    o->dsn = a->present[OPT_DSN] ? a->value[OPT_DSN] : NULL;
    o->run = a->present[OPT_RUN]     ? a->value[OPT_RUN] /* train: the new run */
             : a->present[OPT_RUNID] ? a->value[OPT_RUNID]
                                     : NULL;
    o->epochs = v[OPT_EPOCHS] > 0 ? (int32_t)v[OPT_EPOCHS] : o->epochs;
    o->arch.latent = v[OPT_LATENT] > 0 ? (int32_t)v[OPT_LATENT] : o->arch.latent;
    o->arch.hidden = v[OPT_HIDDEN] > 0 ? (int32_t)v[OPT_HIDDEN] : o->arch.hidden;
    o->arch.embed = v[OPT_EMBED] > 0 ? (int32_t)v[OPT_EMBED] : o->arch.embed;
    o->arch.patch = v[OPT_PATCH] > 0 ? (int32_t)v[OPT_PATCH] : o->arch.patch;
    o->batch_size = v[OPT_BATCH] > 0 ? (int32_t)v[OPT_BATCH] : o->batch_size;
    o->lr = v[OPT_LR] > 0 ? (float)v[OPT_LR] : o->lr;
    o->seed = v[OPT_SEED] >= 0 ? (uint64_t)v[OPT_SEED] : o->seed;
    o->reference = v[OPT_REFERENCE] > 0 ? (int32_t)v[OPT_REFERENCE] : o->reference;
    o->knn_k = v[OPT_KNN] > 0 ? (int32_t)v[OPT_KNN] : o->knn_k;
    o->density_weight = v[OPT_DENSITY] >= 0 ? (float)v[OPT_DENSITY] : o->density_weight;
    o->threads = v[OPT_THREADS] > 0 ? (int32_t)v[OPT_THREADS] : o->threads;
    o->rank = v[OPT_RANK] >= 0 ? (int32_t)v[OPT_RANK] : o->rank;
    o->size = v[OPT_SIZE] > 0 ? (int32_t)v[OPT_SIZE] : o->size;
    if (a->present[OPT_FRAME]) {
        const char *f = a->value[OPT_FRAME];
        if (strcmp(f, "observed") != 0 && strcmp(f, "rest") != 0) {
            return ard_cli_usage("anomaly", "--frame must be observed or rest (got '%s')", f);
        }
        o->frame = strcmp(f, "rest") == 0 ? ARD_FRAME_REST : ARD_FRAME_OBSERVED;
    }
    return 0;
}

static void on_progress(void *ctx, int64_t done, int64_t total) {
    ard_progress **p = ctx;
    if (!*p) {
        *p = ard_progress_new("anomaly", total);
    }
    static int64_t last;
    ard_progress_add(*p, done - last);
    last = done;
}

static int print_row(void *ctx, int32_t n, const char *const *names, const char *const *values) {
    int *header = ctx;
    if (!*header) {
        for (int32_t i = 0; i < n; i++) {
            printf("%s%s", i ? "\t" : "", names[i]);
        }
        printf("\n");
        *header = 1;
    }
    for (int32_t i = 0; i < n; i++) {
        printf("%s%s", i ? "\t" : "", values[i] ? values[i] : "NULL");
    }
    printf("\n");
    return 0;
}

/* cmd_anomaly_cluster.c: the score across MPI ranks under mpirun; *lead: this rank prints */
ard_status ard_cli_anomaly_score(const ard_anomaly_options *o, ard_anomaly_report *r, int *lead,
                                 ard_error *err);

int ard_cmd_anomaly(int argc, char **argv) {
    char *args[ARD_CLI_MAX_POSITIONAL + 2 * ARD_CLI_MAX_OPTIONS];
    int n = 0;
    for (int i = 0; i < argc && n < (int)(sizeof args / sizeof *args); i++) {
        args[n++] = strcmp(argv[i], "-k") == 0 ? "--k" : argv[i]; /* `top -k 50` */
    }
    ard_cli_args a;
    int rc = ard_cli_parse(&an_spec, n, args, &a);
    if (rc != ARD_CLI_OK) {
        return rc;
    }
    if (a.help) {
        ard_cli_print_help(&an_spec);
        return ARD_CLI_OK;
    }
    if (a.num_positional != 2) {
        return ard_cli_usage("anomaly", "expected train|score|top and a DATASET");
    }
    const char *what = a.positional[0];
    ard_anomaly_options o;
    ard_anomaly_options_init(&o);
    o.dataset = a.positional[1];
    rc = parse_opts(&a, &o);
    if (rc != 0) {
        return rc;
    }
    ard_error err;
    ard_error_init(&err);
    ard_status st;
    if (strcmp(what, "top") == 0) {
        int header = 0;
        int64_t k = 50;
        if (a.present[OPT_K]) {
            k = strtoll(a.value[OPT_K], NULL, 10);
        }
        st = ard_anomaly_top(o.dataset, o.dsn, k, print_row, &header, &err);
        return st == ARD_OK ? ARD_CLI_OK : ard_cli_fail(st, &err);
    }
    ard_progress *bar = NULL;
    if (!a.present[OPT_QUIET]) {
        o.progress = on_progress;
        o.progress_ctx = &bar;
    }
    ard_anomaly_report r;
    if (strcmp(what, "train") == 0) {
        st = ard_anomaly_train(&o, &r, &err);
    } else if (strcmp(what, "merge") == 0) {
        o.score_run = o.run; /* --run: the sharded scoring run's id; --model: the trained run */
        o.run = a.present[OPT_MODEL] ? a.value[OPT_MODEL] : NULL;
        st = ard_anomaly_merge(&o, &r, &err);
    } else if (strcmp(what, "score") == 0) {
        o.score_run = o.run; /* --run: the scoring run's id; --model: the trained run */
        o.run = a.present[OPT_MODEL] ? a.value[OPT_MODEL] : NULL;
        int lead = 1;
        st = ard_cli_anomaly_score(&o, &r, &lead, &err);
        if (!lead) {
            ard_progress_done(bar);
            return st == ARD_OK ? ARD_CLI_OK : ARD_CLI_FAILURE; /* rank 0 reports */
        }
    } else {
        return ard_cli_usage("anomaly", "unknown subcommand '%s' (train, score, merge, top)", what);
    }
    ard_progress_done(bar);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    if (strcmp(what, "train") == 0) {
        printf("anomaly train: run %s, %lld spectra x %d epochs, %lld parameters\n", r.run,
               (long long)r.spectra, r.epochs, (long long)r.params);
        printf("  loss (weighted chi2 per valid pixel): first epoch %.4g, last %.4g\n",
               r.first_loss, r.final_loss);
        printf("  %.1f spectra/s, %.2f s; model %s\n", r.spectra_per_second, r.seconds,
               r.model_path);
    } else {
        printf("anomaly %s: run %s (model %s), %lld spectra, %.1f spectra/s, %.2f s\n", what,
               r.score_run, r.run, (long long)r.spectra, r.spectra_per_second, r.seconds);
        printf("  score median %.3f, p99 %.3f, max %.3f\n", r.score_median, r.score_p99,
               r.score_max);
        printf("  scores %s (index table anomalies)\n", r.scores_path);
    }
    return ARD_CLI_OK;
}
