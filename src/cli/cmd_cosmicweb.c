/* `ard cosmicweb train|predict DATASET`: flags into ard_cosmicweb_options, the library's dataset
 * loader, the stage call, and a printed report. */
#include "cli.h"

#include "ard/nn.h"
#include "ard/science.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
    [OPT_LR] = {"lr", "LR", "Adam learning rate (default 0.003)"},
    [OPT_SEED] = {"seed", "S", "initialisation, shuffling and sampling seed (default 1)"},
    [OPT_THREADS] = {"threads", "N", "threads (default: all CPUs); results do not depend on it"},
    [OPT_VAL] = {"val", "F", "share of HEALPix pixels for validation (default 0.15)"},
    [OPT_TEST] = {"test", "F", "share of HEALPix pixels for test (default 0.15)"},
    [OPT_NOBALANCE] = {"no-balance", NULL, "plain mean loss instead of class-balanced"},
    [OPT_RUNID] = {"run-id", "ID", "model name: DATASET/models/cosmicweb-ID.safetensors"},
    [OPT_MODEL] = {"model", "PATH|ID", "predict: model file or run id (default: run id 'latest')"},
    [OPT_JSON] = {"json", NULL, "print the report as JSON"},
};

static const ard_cli_spec train_spec = {
    "cosmicweb train", "DATASET [options]",
    "Trains the GraphSAGE cosmic-web classifier (void/sheet/filament/knot) on the generator's\n"
    "truth (truth/galaxies-*.parquet WEB_CODE): a k-NN graph of the galaxies in comoving\n"
    "redshift space, 2 mean-aggregator layers, minibatches of sampled neighbourhoods with\n"
    "gradient accumulation, class-balanced loss, Adam; train/validation/test split by HEALPix\n"
    "pixel (nside 8). Writes DATASET/models/cosmicweb-RUN.safetensors (and cosmicweb-latest).",
    cw_options, NUM_OPTS};

static const ard_cli_spec predict_spec = {
    "cosmicweb predict", "DATASET [--model PATH|ID] [--threads N] [--json]",
    "Classifies every galaxy of DATASET with a trained model (all k graph neighbours, no\n"
    "sampling), writes DATASET/results/cosmicweb-RUN-galaxies.parquet (TARGETID, WEB_CLASS,\n"
    "P_VOID, P_SHEET, P_FILAMENT, P_KNOT) and prints the class fractions; with truth, also the\n"
    "balanced accuracy and the confusion matrix.",
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
                {OPT_TEST, 0, 1, *test}};
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
    o->balanced = !a->present[OPT_NOBALANCE];
    return 0;
}

static int valid_id(const char *id) {
    size_t len = strlen(id);
    return len > 0 && len <= 64 &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

/* --run-id, or the UTC time. */
static void run_id(const ard_cli_args *a, char *id, size_t cap) {
    if (a->present[OPT_RUNID]) {
        snprintf(id, cap, "%s", a->value[OPT_RUNID]);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(id, cap, "%Y%m%dT%H%M%SZ", &tm);
    }
}

static void model_path(const char *dataset, const char *id, char *out, size_t cap) {
    snprintf(out, cap, "%s/models/cosmicweb-%s.safetensors", dataset, id);
}

static void print_confusion(const int64_t conf[4][4]) {
    static const char *const names[4] = {"void", "sheet", "filament", "knot"};
    printf("  confusion (rows true, columns predicted: void sheet filament knot)\n");
    for (int t = 0; t < 4; t++) {
        printf("  %-9s %9lld %9lld %9lld %9lld\n", names[t], (long long)conf[t][0],
               (long long)conf[t][1], (long long)conf[t][2], (long long)conf[t][3]);
    }
}

static int train_run(const char *dataset, const ard_cli_args *a, const ard_cosmicweb_options *o,
                     double val, double test) {
    ard_error err;
    ard_error_init(&err);
    ard_cosmicweb_data d;
    ard_status st = ard_cosmicweb_data_load(dataset, &d, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    if (!d.has_truth) {
        ard_cosmicweb_data_reset(&d);
        ard_error_set(&err, ARD_EINVAL,
                      "cosmicweb train: no truth for training (%s/truth/galaxies-*.parquet is "
                      "missing)",
                      dataset);
        return ard_cli_fail(ARD_EINVAL, &err);
    }
    int32_t *split = ard_malloc((size_t)(d.n > 0 ? d.n : 1) * sizeof *split);
    if (!split) {
        ard_cosmicweb_data_reset(&d);
        return ard_cli_fail(ARD_ENOMEM, NULL);
    }
    st = ard_cosmicweb_split_by_pixel(d.pixel, d.n, val, test, o->seed, split, &err);
    ard_cosmicweb_input in = {d.n, d.xyz, d.z, d.target_class, d.label, split};
    ard_cosmicweb_model *m = NULL;
    ard_cosmicweb_report r;
    if (st == ARD_OK) {
        st = ard_cosmicweb_train(&in, o, &m, &r, &err);
    }
    char id[80], path[4200], latest[4200];
    run_id(a, id, sizeof id);
    model_path(dataset, id, path, sizeof path);
    model_path(dataset, "latest", latest, sizeof latest);
    if (st == ARD_OK) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/models", dataset);
        mkdir(dir, 0777);
        st = ard_cosmicweb_model_save(m, path, &err);
    }
    if (st == ARD_OK) {
        st = ard_cosmicweb_model_save(m, latest, &err);
    }
    ard_cosmicweb_model_free(m);
    ard_free(split);
    int64_t skipped = d.skipped;
    int32_t split_nside = d.split_nside;
    ard_cosmicweb_data_reset(&d);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    if (a->present[OPT_JSON]) {
        printf("{\"model\":\"%s\",\"train\":%lld,\"val\":%lld,\"test\":%lld,\"steps\":%lld,"
               "\"loss\":%.6g,\"val_balanced_accuracy\":%.6g,\"test_balanced_accuracy\":%.6g,"
               "\"seconds_graph\":%.3f,\"seconds_train\":%.3f,\"train_nodes_per_s\":%.1f}\n",
               path, (long long)r.train_nodes, (long long)r.val_nodes, (long long)r.test_nodes,
               (long long)r.steps, r.final_loss, r.val_balanced_accuracy, r.test_balanced_accuracy,
               r.seconds_graph, r.seconds_train, r.train_nodes_per_s);
        return ARD_CLI_OK;
    }
    printf("cosmicweb train: %lld train / %lld validation / %lld test galaxies (split by HEALPix "
           "pixel, nside %d; %lld catalog rows without a position skipped)\n",
           (long long)r.train_nodes, (long long)r.val_nodes, (long long)r.test_nodes,
           (int)split_nside, (long long)skipped);
    printf(
        "  %lld optimizer steps, final loss %.4f, graph %.2f s, training %.2f s (%.0f nodes/s)\n",
        (long long)r.steps, r.final_loss, r.seconds_graph, r.seconds_train, r.train_nodes_per_s);
    if (r.test_nodes > 0) {
        printf("  balanced accuracy: validation %.3f, test %.3f\n", r.val_balanced_accuracy,
               r.test_balanced_accuracy);
        print_confusion((const int64_t(*)[4])r.test_confusion);
    } else {
        printf("  balanced accuracy: validation %.3f; no test galaxies (--test 0 or too few sky "
               "pixels)\n",
               r.val_balanced_accuracy);
    }
    printf("  model: %s\n", path);
    return ARD_CLI_OK;
}

static int predict_run(const char *dataset, const ard_cli_args *a, int32_t threads) {
    char path[4200];
    const char *model = a->present[OPT_MODEL] ? a->value[OPT_MODEL] : "latest";
    if (valid_id(model)) {
        model_path(dataset, model, path, sizeof path);
    } else {
        snprintf(path, sizeof path, "%s", model);
    }
    ard_error err;
    ard_error_init(&err);
    ard_cosmicweb_model *m = NULL;
    ard_cosmicweb_data d;
    memset(&d, 0, sizeof d);
    ard_status st = ard_cosmicweb_model_load(path, &m, &err);
    if (st == ARD_OK) {
        st = ard_cosmicweb_data_load(dataset, &d, &err);
    }
    int32_t *cls = st == ARD_OK ? ard_malloc((size_t)(d.n > 0 ? d.n : 1) * sizeof *cls) : NULL;
    float *prob = st == ARD_OK ? ard_malloc((size_t)(d.n > 0 ? d.n : 1) * 4 * sizeof *prob) : NULL;
    if (st == ARD_OK && (!cls || !prob)) {
        st = ard_error_set(&err, ARD_ENOMEM, "cosmicweb predict: out of memory");
    }
    ard_cosmicweb_input in = {d.n, d.xyz, d.z, d.target_class, NULL, NULL};
    if (st == ARD_OK) {
        st = ard_cosmicweb_predict(m, &in, threads, cls, prob, &err);
    }
    char id[80], out[4200];
    run_id(a, id, sizeof id);
    snprintf(out, sizeof out, "%s/results/cosmicweb-%s-galaxies.parquet", dataset, id);
    if (st == ARD_OK) {
        st = ard_cosmicweb_write_parquet(out, d.targetid, cls, prob, d.n, id, path, &err);
    }
    ard_free(prob);
    int64_t counts[4] = {0}, conf[4][4];
    memset(conf, 0, sizeof conf);
    int64_t labelled = 0;
    for (int64_t i = 0; st == ARD_OK && i < d.n; i++) {
        counts[cls[i]]++;
        if (d.label[i] >= 0) {
            conf[d.label[i]][cls[i]]++;
            labelled++;
        }
    }
    ard_free(cls);
    ard_cosmicweb_model_free(m);
    int64_t n = d.n;
    ard_cosmicweb_data_reset(&d);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    double bacc = 0.0;
    int present = 0;
    for (int t = 0; t < 4; t++) {
        int64_t row = conf[t][0] + conf[t][1] + conf[t][2] + conf[t][3];
        if (row > 0) {
            bacc += (double)conf[t][t] / (double)row;
            present++;
        }
    }
    bacc = present ? bacc / present : 0.0;
    if (a->present[OPT_JSON]) {
        printf("{\"model\":\"%s\",\"results\":\"%s\",\"galaxies\":%lld,\"void\":%lld,\"sheet\":%"
               "lld,\"filament\":%lld,"
               "\"knot\":%lld,\"labelled\":%lld,\"balanced_accuracy\":%.6g}\n",
               path, out, (long long)n, (long long)counts[0], (long long)counts[1],
               (long long)counts[2], (long long)counts[3], (long long)labelled,
               labelled ? bacc : 0.0);
        return ARD_CLI_OK;
    }
    printf("cosmicweb predict: %lld galaxies with %s -> %s\n", (long long)n, path, out);
    printf("  void %.3f  sheet %.3f  filament %.3f  knot %.3f\n",
           n ? (double)counts[0] / (double)n : 0.0, n ? (double)counts[1] / (double)n : 0.0,
           n ? (double)counts[2] / (double)n : 0.0, n ? (double)counts[3] / (double)n : 0.0);
    if (labelled) {
        printf("  against the truth (all galaxies, training ones included): balanced accuracy "
               "%.3f\n",
               bacc);
        print_confusion((const int64_t(*)[4])conf);
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
    if (a.present[OPT_RUNID] && !valid_id(a.value[OPT_RUNID])) {
        return ard_cli_usage(spec->command, "--run-id takes 1-64 characters of [A-Za-z0-9_-]");
    }
    ard_cosmicweb_options o;
    ard_cosmicweb_options_init(&o);
    double val = 0.15, test = 0.15;
    rc = parse_options(spec->command, &a, &o, &val, &test);
    if (rc != 0) {
        return rc;
    }
    if (val + test > 1.0) {
        return ard_cli_usage(spec->command, "--val + --test must not exceed 1");
    }
    return train ? train_run(a.positional[0], &a, &o, val, test)
                 : predict_run(a.positional[0], &a, o.threads);
}

int ard_cmd_cosmicweb_train(int argc, char **argv) {
    return cw_main(&train_spec, 1, argc, argv);
}

int ard_cmd_cosmicweb_predict(int argc, char **argv) {
    return cw_main(&predict_spec, 0, argc, argv);
}
