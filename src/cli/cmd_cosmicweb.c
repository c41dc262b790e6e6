/* `ard cosmicweb train|predict DATASET`: flags into ard_cosmicweb_options, the library's dataset
 * loader, the stage call, and a printed report. */
#include "cli.h"

#include "ard/science.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ard_cmd_cosmicweb_train(int argc, char **argv);
int ard_cmd_cosmicweb_predict(int argc, char **argv);

enum {
    OPT_EPOCHS,
    OPT_K,
    OPT_HIDDEN,
    OPT_BATCH,
    OPT_ACCUM,
    OPT_FANOUT1,
    OPT_FANOUT2,
    OPT_LR,
    OPT_SEED,
    OPT_THREADS,
    OPT_VAL,
    OPT_TEST,
    OPT_NOBALANCE,
    OPT_RUNID,
    OPT_MODEL,
    OPT_JSON,
    OPT_WHERE,
    OPT_LABEL,
    OPT_DB,
    OPT_GEO,
    OPT_LATENT,
    OPT_REACH,
    OPT_REACH_MPC,
    OPT_REACH_BINS,
    OPT_REACH_FANOUT,
    OPT_REACH_RANDOMS,
    NUM_OPTS
};

static const ard_cli_option cw_options[NUM_OPTS] = {
    [OPT_EPOCHS] = {"epochs", "E", "passes over the training galaxies (default 10)"},
    [OPT_K] = {"k", "K", "graph neighbours per galaxy (default 32)"},
    [OPT_HIDDEN] = {"hidden", "H", "hidden width (default 64)"},
    [OPT_BATCH] = {"batch", "B", "seed galaxies per minibatch (default 64)"},
    [OPT_ACCUM] = {"accum", "M", "minibatches per optimizer step (default 64)"},
    [OPT_FANOUT1] = {"fanout1", "N", "neighbours sampled per seed (default 25)"},
    [OPT_FANOUT2] = {"fanout2", "N", "neighbours sampled per first-hop node (default 10)"},
    [OPT_LR] = {"lr", "LR", "Adam learning rate (default 0.01)"},
    [OPT_SEED] = {"seed", "S", "initialisation, shuffling and sampling seed (default 1)"},
    [OPT_THREADS] = {"threads", "N", "threads (default: all CPUs); results do not depend on it"},
    [OPT_VAL] = {"val", "F", "share of HEALPix pixels for validation (default 0.15)"},
    [OPT_TEST] = {"test", "F", "share of HEALPix pixels for test (default 0.15)"},
    [OPT_NOBALANCE] = {"no-balance", NULL, "plain mean loss instead of class-balanced"},
    [OPT_RUNID] = {"run-id", "ID",
                   "result run id (default: UTC time); train: models/cosmicweb-ID.safetensors"},
    [OPT_MODEL] = {"model", "PATH|RUN",
                   "predict: model file or train run id (default: the newest model)"},
    [OPT_JSON] = {"json", NULL, "print the report as JSON"},
    [OPT_WHERE] = {"where", "EXPR", "only galaxies matching this SQL predicate (needs the index)"},
    [OPT_LABEL] = {"label", "truth|RUN",
                   "train: labels from the truth (default) or from predict run RUN"},
    [OPT_DB] = {"db", "DSN", "index database (default DATASET/ard.db); see ard sync --help"},
    [OPT_GEO] = {"geo", "G",
                 "geometric aggregator channels per layer, 0-64 (default 0: mean aggregator only)"},
    [OPT_LATENT] = {"latent", "RUN",
                    "anomaly score run RUN's per-spectrum latents as extra node features (a model "
                    "trained with them predicts only with them)"},
    [OPT_REACH] = {"reach", "G",
                   "reach aggregator channels, 0-32 (default 4; 0: off): learned tidal tensors of "
                   "all galaxies within --reach-mpc, randoms subtracted (predict: the model's; "
                   "given, they must match it)"},
    [OPT_REACH_MPC] = {"reach-mpc", "MPC", "reach radius in Mpc (default 35)"},
    [OPT_REACH_BINS] = {"reach-bins", "B", "radial bins of the learned profile, 2-32 (default 8)"},
    [OPT_REACH_FANOUT] = {"reach-fanout", "N",
                          "points sampled per galaxy and catalogue, sums rescaled (default 512; "
                          "0: all)"},
    [OPT_REACH_RANDOMS] = {"reach-randoms", "N", "randoms per galaxy, 1-64 (default 2)"},
};

static const ard_cli_spec train_spec = {
    "cosmicweb train", "DATASET [--where EXPR] [--label truth|RUN] [--latent RUN] [options]",
    "Trains the GraphSAGE cosmic-web classifier (void/sheet/filament/knot) on the generator's\n"
    "truth (truth/galaxies-*.parquet WEB_CODE) or on the classes of predict run RUN: a k-NN graph\n"
    "of the selected galaxies in comoving redshift space, 2 mean-aggregator layers, minibatches\n"
    "of sampled neighbourhoods with gradient accumulation, class-balanced loss, Adam;\n"
    "train/validation/test split by HEALPix pixel. Reports held-out balanced accuracy beside a\n"
    "density-only baseline (logistic regression on the same features, no graph). Writes\n"
    "DATASET/models/cosmicweb-RUN.safetensors and result run RUN (results/cosmicweb-RUN-\n"
    "confusion.parquet, a row of cosmicweb_runs; see ard results).",
    cw_options, NUM_OPTS};

static const ard_cli_spec predict_spec = {
    "cosmicweb predict",
    "DATASET [--where EXPR] [--model PATH|RUN] [--latent RUN] [--run-id ID] [--json]",
    "Classifies the selected galaxies of DATASET with a trained model (all k graph neighbours,\n"
    "no sampling) as result run ID: DATASET/results/cosmicweb-ID-galaxies.parquet (TARGETID,\n"
    "CLASS, P_VOID, P_SHEET, P_FILAMENT, P_KNOT), the index table cosmic_web (latest run) and a\n"
    "row of cosmicweb_runs; prints the class fractions and, with truth, the balanced accuracy\n"
    "and the confusion matrix.",
    cw_options, NUM_OPTS};

static int parse_num(const char *cmd, const char *name, const char *text, double lo, double hi,
                     double *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi)) {
        return ard_cli_usage(cmd, "--%s takes a number in [%g, %g]", name, lo, hi);
    }
    *out = v;
    return 0;
}

static int parse_options(const char *cmd, const ard_cli_args *a, ard_cosmicweb_options *o,
                         double *val, double *test) {
    struct {
        int opt;
        double lo, hi;
        double value;
    } nums[] = {{OPT_EPOCHS, 0, 1e6, o->epochs},
                {OPT_K, 16, 256, o->k},
                {OPT_HIDDEN, 1, 4096, o->hidden},
                {OPT_BATCH, 1, 65536, o->batch},
                {OPT_ACCUM, 1, 1e6, o->accum},
                {OPT_FANOUT1, 1, 256, o->fanout1},
                {OPT_FANOUT2, 1, 256, o->fanout2},
                {OPT_LR, 1e-9, 10, o->lr},
                {OPT_SEED, 0, 9e15, (double)o->seed},
                {OPT_THREADS, 0, 1024, o->threads},
                {OPT_VAL, 0, 1, *val},
                {OPT_TEST, 0, 1, *test},
                {OPT_GEO, 0, 64, o->geo},
                {OPT_REACH, 0, 32, o->reach},
                {OPT_REACH_MPC, 1e-3, 1000, o->reach_mpc},
                {OPT_REACH_BINS, 2, 32, o->reach_bins},
                {OPT_REACH_FANOUT, 0, 1e6, o->reach_fanout},
                {OPT_REACH_RANDOMS, 1, 64, o->reach_randoms}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (a->present[nums[i].opt] &&
            parse_num(cmd, cw_options[nums[i].opt].name, a->value[nums[i].opt], nums[i].lo,
                      nums[i].hi, &nums[i].value) != 0) {
            return ARD_CLI_USAGE;
        }
    }
    o->epochs = (int32_t)nums[0].value;
    o->k = (int32_t)nums[1].value;
    o->hidden = (int32_t)nums[2].value;
    o->batch = (int32_t)nums[3].value;
    o->accum = (int32_t)nums[4].value;
    o->fanout1 = (int32_t)nums[5].value;
    o->fanout2 = (int32_t)nums[6].value;
    o->lr = (float)nums[7].value;
    o->seed = (uint64_t)nums[8].value;
    o->threads = (int32_t)nums[9].value;
    *val = nums[10].value;
    *test = nums[11].value;
    o->geo = (int32_t)nums[12].value;
    o->reach = (int32_t)nums[13].value;
    o->reach_mpc = (float)nums[14].value;
    o->reach_bins = (int32_t)nums[15].value;
    o->reach_fanout = (int32_t)nums[16].value;
    o->reach_randoms = (int32_t)nums[17].value;
    o->balanced = !a->present[OPT_NOBALANCE];
    return 0;
}

static void print_confusion(const int64_t conf[4][4]) {
    static const char *const names[4] = {"void", "sheet", "filament", "knot"};
    printf("  confusion (rows true, columns predicted: void sheet filament knot)\n");
    for (int t = 0; t < 4; t++) {
        printf("  %-9s %9lld %9lld %9lld %9lld\n", names[t], (long long)conf[t][0],
               (long long)conf[t][1], (long long)conf[t][2], (long long)conf[t][3]);
    }
}

static void stage_options(const ard_cli_args *a, ard_cosmicweb_stage_options *s) {
    s->where = a->present[OPT_WHERE] ? a->value[OPT_WHERE] : NULL;
    s->dsn = a->present[OPT_DB] ? a->value[OPT_DB] : NULL;
    s->run_id = a->present[OPT_RUNID] ? a->value[OPT_RUNID] : NULL;
    s->model = a->present[OPT_MODEL] ? a->value[OPT_MODEL] : NULL;
    s->label = a->present[OPT_LABEL] ? a->value[OPT_LABEL] : NULL;
    s->latent = a->present[OPT_LATENT] ? a->value[OPT_LATENT] : NULL;
}

static int train_run(const ard_cli_args *a, ard_cosmicweb_stage_options *s) {
    ard_error err;
    ard_error_init(&err);
    ard_cosmicweb_stage_report rep;
    ard_status st = ard_cosmicweb_stage_train(s, &rep, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    const ard_cosmicweb_report *r = &rep.train;
    if (a->present[OPT_JSON]) {
        printf(
            "{\"run_id\":\"%s\",\"model\":\"%s\",\"indexed\":%d,\"galaxies\":%lld,\"train\":%lld,"
            "\"val\":%lld,\"test\":%lld,\"steps\":%lld,"
            "\"loss\":%.6g,\"val_balanced_accuracy\":%.6g,\"test_balanced_accuracy\":%.6g,"
            "\"baseline_test_balanced_accuracy\":%.6g,\"latent_dim\":%d,\"with_latent\":%lld,"
            "\"seconds_graph\":%.3f,\"seconds_train\":%.3f,\"train_nodes_per_s\":%.1f}\n",
            rep.run_id, rep.model_path, (int)rep.indexed, (long long)rep.galaxies,
            (long long)r->train_nodes, (long long)r->val_nodes, (long long)r->test_nodes,
            (long long)r->steps, r->final_loss, r->val_balanced_accuracy, r->test_balanced_accuracy,
            r->baseline_test_balanced_accuracy, (int)rep.latent_dim, (long long)rep.with_latent,
            r->seconds_graph, r->seconds_train, r->train_nodes_per_s);
        return ARD_CLI_OK;
    }
    printf("cosmicweb train: run %s, %lld train / %lld validation / %lld test galaxies (split by "
           "HEALPix pixel, nside %d; %lld catalog rows without a position skipped)\n",
           rep.run_id, (long long)r->train_nodes, (long long)r->val_nodes, (long long)r->test_nodes,
           (int)rep.split_nside, (long long)rep.skipped);
    if (rep.latent_dim > 0) {
        printf("  node features + %d anomaly latents (%lld of %lld galaxies have one)\n",
               (int)rep.latent_dim, (long long)rep.with_latent, (long long)rep.galaxies);
    }
    printf(
        "  %lld optimizer steps, final loss %.4f, graph %.2f s, training %.2f s (%.0f nodes/s)\n",
        (long long)r->steps, r->final_loss, r->seconds_graph, r->seconds_train,
        r->train_nodes_per_s);
    if (r->test_nodes > 0) {
        printf("  balanced accuracy: validation %.3f, test %.3f (density-only baseline, test: "
               "%.3f)\n",
               r->val_balanced_accuracy, r->test_balanced_accuracy,
               r->baseline_test_balanced_accuracy);
        print_confusion((const int64_t(*)[4])r->test_confusion);
    } else {
        printf("  balanced accuracy: validation %.3f; no test galaxies (--test 0 or too few sky "
               "pixels)\n",
               r->val_balanced_accuracy);
    }
    printf("  model: %s\n  run: %s (%s)\n", rep.model_path, rep.results_path,
           rep.indexed ? "recorded in the index: cosmicweb_runs" : "Parquet only, no index");
    return ARD_CLI_OK;
}

/* cmd_cluster_stages.c: predict across MPI ranks under mpirun (*lead: this rank prints) */
ard_status ard_cli_cosmicweb_predict(const ard_cosmicweb_stage_options *o,
                                     ard_cosmicweb_stage_report *r, int *lead, ard_error *err);

static int predict_run(const ard_cli_args *a, ard_cosmicweb_stage_options *s) {
    ard_error err;
    ard_error_init(&err);
    ard_cosmicweb_stage_report rep;
    int lead = 1; /* under mpirun: rank 0 prints */
    ard_status st = ard_cli_cosmicweb_predict(s, &rep, &lead, &err);
    if (st != ARD_OK || !lead) {
        return st == ARD_OK ? ARD_CLI_OK : lead ? ard_cli_fail(st, &err) : ARD_CLI_FAILURE;
    }
    int64_t n = rep.galaxies;
    if (a->present[OPT_JSON]) {
        printf("{\"run_id\":\"%s\",\"model\":\"%s\",\"results\":\"%s\",\"indexed\":%d,"
               "\"galaxies\":%lld,\"void\":%lld,\"sheet\":%lld,\"filament\":%lld,"
               "\"knot\":%lld,\"labelled\":%lld,\"balanced_accuracy\":%.6g}\n",
               rep.run_id, rep.model_path, rep.results_path, (int)rep.indexed, (long long)n,
               (long long)rep.counts[0], (long long)rep.counts[1], (long long)rep.counts[2],
               (long long)rep.counts[3], (long long)rep.labelled, rep.balanced_accuracy);
        return ARD_CLI_OK;
    }
    printf("cosmicweb predict: run %s, %lld galaxies with %s -> %s%s\n", rep.run_id, (long long)n,
           rep.model_path, rep.results_path, rep.indexed ? " + index table cosmic_web" : "");
    printf("  void %.3f  sheet %.3f  filament %.3f  knot %.3f\n",
           n ? (double)rep.counts[0] / (double)n : 0.0, n ? (double)rep.counts[1] / (double)n : 0.0,
           n ? (double)rep.counts[2] / (double)n : 0.0,
           n ? (double)rep.counts[3] / (double)n : 0.0);
    if (rep.labelled) {
        printf("  against the truth (all galaxies, training ones included): balanced accuracy "
               "%.3f\n",
               rep.balanced_accuracy);
        print_confusion((const int64_t(*)[4])rep.confusion);
    }
    return ARD_CLI_OK;
}

static int cw_main(const ard_cli_spec *spec, int train, int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(spec, argc, argv, &a);
    if (rc != 0) {
        return rc;
    }
    if (a.help) {
        ard_cli_print_help(spec);
        return ARD_CLI_OK;
    }
    if (a.num_positional != 1) {
        return ard_cli_usage(spec->command, "expected one DATASET directory");
    }
    ard_cosmicweb_stage_options s;
    ard_cosmicweb_stage_options_init(&s);
    s.dataset = a.positional[0];
    rc = parse_options(spec->command, &a, &s.train, &s.val_frac, &s.test_frac);
    if (rc != 0) {
        return rc;
    }
    if (s.val_frac + s.test_frac > 1.0) {
        return ard_cli_usage(spec->command, "--val + --test must not exceed 1");
    }
    stage_options(&a, &s);
    if (!train && !a.present[OPT_REACH]) {
        s.train.reach = 0; /* predict with the model's reach settings, whatever they are */
    }
    return train ? train_run(&a, &s) : predict_run(&a, &s);
}

int ard_cmd_cosmicweb_train(int argc, char **argv) {
    return cw_main(&train_spec, 1, argc, argv);
}

int ard_cmd_cosmicweb_predict(int argc, char **argv) {
    return cw_main(&predict_spec, 0, argc, argv);
}
