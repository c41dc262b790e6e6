/* The cosmicweb stage (ard_cosmicweb_stage_train / _predict): the galaxies of a dataset narrowed by
 * a predicate, labels from the truth or an earlier run, the split by sky pixel, the model file, and
 * the run recorded through the index's result runs (cosmicweb_runs, cosmic_web, results/). The CLI
 * and Python call these; neither holds any of these steps. */
#include "science_int.h"

#include "ard/dataset.h"
#include "ard/index.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const cw_class_names[CW_C] = {"void", "sheet", "filament", "knot"};

void ard_cosmicweb_stage_options_init(ard_cosmicweb_stage_options *o) {
    memset(o, 0, sizeof *o);
    o->val_frac = 0.15;
    o->test_frac = 0.15;
    ard_cosmicweb_options_init(&o->train);
}

static int has_where(const ard_cosmicweb_stage_options *o) {
    return o->where && *o->where;
}

static int has_latent(const ard_cosmicweb_stage_options *o) {
    return o->latent && *o->latent;
}

/* ---- the selection ---- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Keeps the rows of d whose TARGETID is in keep (sorted ascending). */
static void keep_rows(ard_cosmicweb_data *d, const int64_t *keep, int64_t count) {
    int64_t w = 0;
    for (int64_t i = 0; i < d->n; i++) {
        if (!bsearch(&d->targetid[i], keep, (size_t)count, sizeof *keep, cmp_i64)) {
            continue;
        }
        d->targetid[w] = d->targetid[i];
        memmove(&d->xyz[3 * w], &d->xyz[3 * i], 3 * sizeof *d->xyz);
        d->z[w] = d->z[i];
        d->target_class[w] = d->target_class[i];
        d->label[w] = d->label[i];
        d->pixel[w] = d->pixel[i];
        w++;
    }
    d->n = w;
}

/* The index's answer to "z > 0 AND (where)" as sorted TARGETIDs, then the rows of d among them. */
static ard_status apply_where(const ard_cosmicweb_stage_options *o, ard_cosmicweb_data *d,
                              ard_error *err) {
    if (!has_where(o)) {
        return ARD_OK;
    }
    ard_index *idx = NULL;
    ard_status st = o->no_index
                        ? ARD_ENOENT
                        : ard_index_open(o->dataset, o->dsn, ARD_INDEX_READ_ONLY, &idx, err);
    if (st == ARD_ENOENT) {
        ard_error_init(err); /* replace "no index" by what the caller asked for */
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: a predicate needs the index (run 'ard sync %s' first)",
                             o->dataset);
    }
    ard_buf pred;
    ard_buf_init(&pred);
    ard_buf_appendf(&pred, "z > 0 AND (%s)", o->where);
    ard_buf_append(&pred, "", 1);
    static const char *const cols[] = {"targetid"};
    ard_column_set *set = NULL;
    if (st == ARD_OK) {
        st = pred.failed
                 ? ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory")
                 : ard_index_read_columns(idx, cols, 1, (const char *)pred.data, 0, &set, err);
    }
    ard_buf_reset(&pred);
    ard_index_close(idx);
    if (st == ARD_OK) { /* rows come in ascending TARGETID order */
        keep_rows(d, ard_column_set_column(set, 0)->values, ard_column_set_num_rows(set));
    }
    ard_column_set_free(set);
    return st;
}

/* Labels from a predict run: TARGETID and CLASS (both INT64) of its galaxies file, read with the
 * dataset module's reader. */
static ard_status read_run_labels(const char *path, int64_t **tid, int64_t **cls, int64_t *n,
                                  ard_error *err) {
    ard_tile *f = NULL;
    ard_status st = ard_tile_open(path, &f, err);
    int64_t rows = 0;
    for (int32_t rg = 0; st == ARD_OK && rg < ard_tile_num_row_groups(f); rg++) {
        rows += ard_tile_row_group_rows(f, rg);
    }
    *tid = ard_malloc((size_t)(rows > 0 ? rows : 1) * sizeof **tid);
    *cls = ard_malloc((size_t)(rows > 0 ? rows : 1) * sizeof **cls);
    if (st == ARD_OK && (!*tid || !*cls)) {
        st = ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory reading %s", path);
    }
    int64_t at = 0;
    for (int32_t rg = 0; st == ARD_OK && rg < ard_tile_num_row_groups(f); rg++) {
        int64_t got = ard_tile_row_group_rows(f, rg);
        st = ard_tile_read_int64(f, rg, "TARGETID", 0, got, *tid + at, err);
        if (st == ARD_OK) {
            st = ard_tile_read_int64(f, rg, "CLASS", 0, got, *cls + at, err);
        }
        at += got;
    }
    ard_tile_close(f);
    *n = at;
    return st;
}

typedef struct tid_class {
    int64_t tid, cls;
} tid_class;

static int cmp_tid_class(const void *a, const void *b) {
    return cmp_i64(&((const tid_class *)a)->tid, &((const tid_class *)b)->tid);
}

static ard_status apply_label_run(const ard_cosmicweb_stage_options *o, ard_cosmicweb_data *d,
                                  ard_error *err) {
    if (!ard_result_run_id_valid(o->label)) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: --label takes 'truth' or a predict run id, not '%s'",
                             o->label);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/results/cosmicweb-%s-galaxies.parquet", o->dataset, o->label);
    if (access(path, F_OK) != 0) {
        return ard_error_set(err, ARD_ENOENT, "cosmicweb: no predict run '%s' (%s is missing)",
                             o->label, path);
    }
    int64_t *tid = NULL, *cls = NULL, n = 0;
    ard_status st = read_run_labels(path, &tid, &cls, &n, err);
    tid_class *pairs = st == ARD_OK ? ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *pairs) : NULL;
    if (st == ARD_OK && !pairs) {
        st = ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for labels");
    }
    for (int64_t i = 0; st == ARD_OK && i < n; i++) {
        pairs[i] = (tid_class){tid[i], cls[i]};
    }
    if (st == ARD_OK) {
        qsort(pairs, (size_t)n, sizeof *pairs, cmp_tid_class);
        for (int64_t i = 0; i < d->n; i++) {
            tid_class key = {d->targetid[i], 0};
            const tid_class *hit = bsearch(&key, pairs, (size_t)n, sizeof *pairs, cmp_tid_class);
            d->label[i] = hit && hit->cls >= 0 && hit->cls < CW_C ? (int32_t)hit->cls : -1;
        }
        d->has_truth = 1;
    }
    ard_free(pairs);
    ard_free(tid);
    ard_free(cls);
    return st;
}

static ard_status load_selection(const ard_cosmicweb_stage_options *o, ard_cosmicweb_data *d,
                                 ard_error *err) {
    ard_status st = ard_cosmicweb_data_load(o->dataset, d, err);
    if (st == ARD_OK) {
        st = apply_where(o, d, err);
    }
    if (st == ARD_OK && d->n == 0) {
        st = ard_error_set(err, ARD_EINVAL, "cosmicweb: empty selection (no galaxies%s%s)",
                           has_where(o) ? " match " : "", has_where(o) ? o->where : "");
    }
    if (st != ARD_OK) {
        ard_cosmicweb_data_reset(d);
    }
    return st;
}

/* ---- models ---- */

static ard_status models_path(const char *dataset, const char *id, char *out, size_t cap,
                              ard_error *err) {
    int len = snprintf(out, cap, "%s/models/cosmicweb-%s.safetensors", dataset, id);
    return len > 0 && (size_t)len < cap
               ? ARD_OK
               : ard_error_set(err, ARD_EINVAL, "cosmicweb: dataset path too long");
}

/* The newest models/cosmicweb-*.safetensors (modification time, then name). */
static ard_status newest_model(const char *dataset, char *out, size_t cap, ard_error *err) {
    char dir[3072];
    snprintf(dir, sizeof dir, "%s/models", dataset);
    DIR *dh = opendir(dir);
    struct timespec best = {0, 0};
    out[0] = '\0';
    for (struct dirent *e; dh && (e = readdir(dh)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "cosmicweb-", 10) != 0 || len < 22 ||
            strcmp(e->d_name + len - 12, ".safetensors") != 0) {
            continue;
        }
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0) {
            continue;
        }
        int newer = sb.st_mtim.tv_sec > best.tv_sec ||
                    (sb.st_mtim.tv_sec == best.tv_sec && sb.st_mtim.tv_nsec > best.tv_nsec) ||
                    (sb.st_mtim.tv_sec == best.tv_sec && sb.st_mtim.tv_nsec == best.tv_nsec &&
                     strcmp(path, out) > 0);
        if (newer && strlen(path) < cap) {
            best = sb.st_mtim;
            snprintf(out, cap, "%s", path);
        }
    }
    if (dh) {
        closedir(dh);
    }
    return out[0] ? ARD_OK
                  : ard_error_set(err, ARD_ENOENT,
                                  "cosmicweb: no model in %s (run 'ard cosmicweb train %s' first)",
                                  dir, dataset);
}

static ard_status resolve_model(const ard_cosmicweb_stage_options *o, char *out, size_t cap,
                                ard_error *err) {
    if (!o->model || !*o->model) {
        return newest_model(o->dataset, out, cap, err);
    }
    if (ard_result_run_id_valid(o->model)) {
        return models_path(o->dataset, o->model, out, cap, err);
    }
    int len = snprintf(out, cap, "%s", o->model);
    return len > 0 && (size_t)len < cap
               ? ARD_OK
               : ard_error_set(err, ARD_EINVAL, "cosmicweb: model path too long");
}

/* ---- result runs ---- */

/* Opens the index writable when the dataset has one (or dsn names one); *idx NULL otherwise. */
static ard_status open_index(const ard_cosmicweb_stage_options *o, ard_index **idx,
                             ard_error *err) {
    *idx = NULL;
    if (o->no_index) {
        return ARD_OK;
    }
    ard_index *probe = NULL;
    ard_status st = ard_index_open(o->dataset, o->dsn, ARD_INDEX_READ_ONLY, &probe, err);
    ard_index_close(probe);
    if (st == ARD_ENOENT && !o->dsn) {
        ard_error_init(err);
        return ARD_OK; /* no index: a Parquet-only run */
    }
    return st == ARD_OK ? ard_index_open(o->dataset, o->dsn, 0, idx, err) : st;
}

static void json_options(ard_json *j, const ard_cosmicweb_stage_options *o) {
    const ard_cosmicweb_options *t = &o->train;
    const char *ik[] = {"k",     "fanout1", "fanout2", "hidden",
                        "batch", "accum",   "epochs",  "balanced"};
    const int64_t iv[] = {t->k,     t->fanout1, t->fanout2, t->hidden,
                          t->batch, t->accum,   t->epochs,  t->balanced};
    for (size_t i = 0; i < sizeof iv / sizeof *iv; i++) {
        ard_json_key(j, ik[i]);
        ard_json_int(j, iv[i]);
    }
    ard_json_key(j, "lr");
    ard_json_double(j, t->lr);
    ard_json_key(j, "seed");
    ard_json_uint(j, t->seed);
    ard_json_key(j, "val_frac");
    ard_json_double(j, o->val_frac);
    ard_json_key(j, "test_frac");
    ard_json_double(j, o->test_frac);
}

static void json_confusion(ard_json *j, const int64_t conf[CW_C][CW_C]) {
    ard_json_begin_array(j);
    for (int t = 0; t < CW_C; t++) {
        ard_json_begin_array(j);
        for (int p = 0; p < CW_C; p++) {
            ard_json_int(j, conf[t][p]);
        }
        ard_json_end_array(j);
    }
    ard_json_end_array(j);
}

static void json_common(ard_json *j, const char *kind, const ard_cosmicweb_stage_options *o,
                        const ard_cosmicweb_stage_report *r) {
    ard_json_key(j, "kind");
    ard_json_string(j, kind);
    ard_json_key(j, "where");
    ard_json_string(j, has_where(o) ? o->where : NULL);
    ard_json_key(j, "model");
    ard_json_string(j, r->model_path);
    ard_json_key(j, "galaxies");
    ard_json_int(j, r->galaxies);
    ard_json_key(j, "labelled");
    ard_json_int(j, r->labelled);
    ard_json_key(j, "latent");
    ard_json_string(j, has_latent(o) ? o->latent : NULL);
    ard_json_key(j, "latent_dim");
    ard_json_int(j, r->latent_dim);
    ard_json_key(j, "with_latent");
    ard_json_int(j, r->with_latent);
}

/* The result run (the index when there is one), its id and whether it is indexed in the report. */
static ard_status begin_run(const ard_cosmicweb_stage_options *o, const char *params,
                            ard_index **idx, ard_result_run **run, ard_cosmicweb_stage_report *r,
                            ard_error *err) {
    *run = NULL;
    ard_status st = open_index(o, idx, err);
    if (st == ARD_OK) {
        st = ard_result_run_begin(*idx, o->dataset, "cosmicweb", o->run_id, params, run, err);
    }
    if (st == ARD_OK) {
        snprintf(r->run_id, sizeof r->run_id, "%s", ard_result_run_id(*run));
        r->indexed = *idx != NULL;
    }
    return st;
}

static ard_status end_run(ard_index *idx, ard_result_run *run, ard_buf *summary, ard_status st,
                          ard_error *err) {
    ard_buf_append(summary, "", 1);
    if (st == ARD_OK && summary->failed) {
        st = ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory");
    }
    if (st == ARD_OK) {
        st = ard_result_run_set_summary(run, (const char *)summary->data, err);
    }
    if (st == ARD_OK) {
        st = ard_result_run_commit(run, err); /* frees run */
    } else {
        ard_result_run_abort(run);
    }
    ard_index_close(idx);
    return st;
}

static void results_path(const ard_cosmicweb_stage_options *o, const char *id, const char *table,
                         ard_cosmicweb_stage_report *r) {
    snprintf(r->results_path, sizeof r->results_path, "%s/results/cosmicweb-%s-%s.parquet",
             o->dataset, id, table);
}

/* ---- train ---- */

static ard_status add_confusion(ard_result_run *run, const int64_t conf[CW_C][CW_C],
                                ard_error *err) {
    int64_t cols[CW_C][CW_C]; /* column p: counts predicted p */
    for (int t = 0; t < CW_C; t++) {
        for (int p = 0; p < CW_C; p++) {
            cols[p][t] = conf[t][p];
        }
    }
    const char *names[CW_C] = {"VOID", "SHEET", "FILAMENT", "KNOT"};
    ard_index_column c[1 + CW_C];
    c[0] = (ard_index_column){"TRUE_CLASS", ARD_INDEX_TEXT, cw_class_names, NULL};
    for (int p = 0; p < CW_C; p++) {
        c[1 + p] = (ard_index_column){names[p], ARD_INDEX_INT64, cols[p], NULL};
    }
    return ard_result_run_add_table(run, "confusion", c, 1 + CW_C, CW_C, NULL, err);
}

static void train_summary(ard_buf *out, const ard_cosmicweb_stage_options *o,
                          const ard_cosmicweb_stage_report *r) {
    ard_json j;
    ard_json_init(&j, out, 0);
    ard_json_begin_object(&j);
    json_common(&j, "train", o, r);
    ard_json_key(&j, "label");
    ard_json_string(&j, o->label && *o->label ? o->label : "truth");
    const char *ik[] = {"train", "val", "test", "split_nside", "steps"};
    const int64_t iv[] = {r->train.train_nodes, r->train.val_nodes, r->train.test_nodes,
                          r->split_nside, r->train.steps};
    for (size_t i = 0; i < sizeof iv / sizeof *iv; i++) {
        ard_json_key(&j, ik[i]);
        ard_json_int(&j, iv[i]);
    }
    const char *dk[] = {"final_loss", "val_balanced_accuracy", "test_balanced_accuracy",
                        "baseline_test_balanced_accuracy", "seconds_train"};
    const double dv[] = {r->train.final_loss, r->train.val_balanced_accuracy,
                         r->train.test_balanced_accuracy, r->train.baseline_test_balanced_accuracy,
                         r->train.seconds_train};
    for (size_t i = 0; i < sizeof dv / sizeof *dv; i++) {
        ard_json_key(&j, dk[i]);
        ard_json_double(&j, dv[i]);
    }
    ard_json_key(&j, "test_confusion");
    json_confusion(&j, (const int64_t(*)[CW_C])r->train.test_confusion);
    ard_json_key(&j, "baseline_test_confusion");
    json_confusion(&j, (const int64_t(*)[CW_C])r->train.baseline_test_confusion);
    ard_json_end_object(&j);
}

/* train: the hyper-parameters; predict: the model file (model_path != NULL). */
static void params_json(ard_buf *out, const ard_cosmicweb_stage_options *o,
                        const char *model_path) {
    ard_json j;
    ard_json_init(&j, out, 0);
    ard_json_begin_object(&j);
    if (model_path) {
        ard_json_key(&j, "model");
        ard_json_string(&j, model_path);
        ard_json_key(&j, "threads");
        ard_json_int(&j, o->train.threads);
    } else {
        json_options(&j, o);
    }
    ard_json_key(&j, "where");
    ard_json_string(&j, has_where(o) ? o->where : NULL);
    ard_json_key(&j, "latent");
    ard_json_string(&j, has_latent(o) ? o->latent : NULL);
    ard_json_end_object(&j);
    ard_buf_append(out, "", 1);
}

static ard_status check_stage_options(const ard_cosmicweb_stage_options *o, ard_error *err) {
    if (o->latent && !*o->latent) { /* NULL means no latents; "" is a run name left out */
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: --latent names no anomaly score run (an empty name)");
    }
    if (!(o->val_frac >= 0.0 && o->test_frac >= 0.0 && o->val_frac + o->test_frac <= 1.0)) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: split fractions %g + %g outside [0, 1]",
                             o->val_frac, o->test_frac);
    }
    return ARD_OK;
}

/* The preamble train and predict share: ard__sci_stage_begin (report zeroed, clock, dataset, run
 * id), the split fractions, the selected galaxies in *d (zeroed first, reset on failure) with
 * their counts in the report, and their latents in *lat when o->latent names an anomaly run. */
static ard_status begin_stage(const ard_cosmicweb_stage_options *o, ard_cosmicweb_stage_report *r,
                              double *t0, ard_cosmicweb_data *d, cw_latent *lat, ard_error *err) {
    memset(d, 0, sizeof *d);
    memset(lat, 0, sizeof *lat);
    ard_status st = ard__sci_stage_begin("cosmicweb", o ? o->dataset : NULL, o ? o->run_id : NULL,
                                         r, sizeof *r, t0, err);
    if (st == ARD_OK) {
        st = check_stage_options(o, err);
    }
    if (st == ARD_OK) {
        st = load_selection(o, d, err);
    }
    if (st == ARD_OK) {
        r->galaxies = d->n;
        r->skipped = d->skipped;
        r->split_nside = d->split_nside;
    }
    if (st == ARD_OK && has_latent(o)) {
        st = ard__cw_latent_load(o->dataset, o->latent, d->targetid, d->n, lat, err);
        r->latent_dim = lat->dim;
        r->with_latent = lat->with;
    }
    return st;
}

static ard_cosmicweb_input stage_input(const ard_cosmicweb_data *d, const cw_latent *lat,
                                       const int32_t *split) {
    return (ard_cosmicweb_input){.n = d->n,
                                 .xyz = d->xyz,
                                 .z = d->z,
                                 .target_class = d->target_class,
                                 .label = split ? d->label : NULL,
                                 .split = split,
                                 .latent_dim = lat->dim,
                                 .latent = lat->values,
                                 .has_latent = lat->has};
}

static ard_status train_and_save(const ard_cosmicweb_stage_options *o, ard_cosmicweb_data *d,
                                 const cw_latent *lat, const char *id,
                                 ard_cosmicweb_stage_report *r, ard_error *err) {
    int32_t *split = ard_malloc((size_t)d->n * sizeof *split);
    if (!split) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for the split");
    }
    ard_status st = ard_cosmicweb_split_by_pixel(d->pixel, d->n, o->val_frac, o->test_frac,
                                                 o->train.seed, split, err);
    ard_cosmicweb_input in = stage_input(d, lat, split);
    ard_cosmicweb_model *m = NULL;
    if (st == ARD_OK) {
        st = ard_cosmicweb_train(&in, &o->train, &m, &r->train, err);
    }
    char dir[3072];
    snprintf(dir, sizeof dir, "%s/models", o->dataset);
    if (st == ARD_OK && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        st = ard_error_set_errno(err, ARD_EIO, errno, "cosmicweb: cannot create %s", dir);
    }
    if (st == ARD_OK) {
        st = models_path(o->dataset, id, r->model_path, sizeof r->model_path, err);
    }
    if (st == ARD_OK) {
        st = ard_cosmicweb_model_save(m, r->model_path, err);
    }
    ard_cosmicweb_model_free(m);
    ard_free(split);
    return st;
}

ard_status ard_cosmicweb_stage_train(const ard_cosmicweb_stage_options *o,
                                     ard_cosmicweb_stage_report *report, ard_error *err) {
    ard_cosmicweb_stage_report local;
    ard_cosmicweb_stage_report *r = report ? report : &local;
    double t0 = 0.0;
    ard_cosmicweb_data d;
    cw_latent lat;
    ard_status st = begin_stage(o, r, &t0, &d, &lat, err);
    int by_truth = st == ARD_OK && (!o->label || !*o->label || strcmp(o->label, "truth") == 0);
    if (st == ARD_OK && !by_truth) {
        st = apply_label_run(o, &d, err);
    }
    for (int64_t i = 0; st == ARD_OK && i < d.n; i++) {
        r->labelled += d.label[i] >= 0;
    }
    if (st == ARD_OK && (!d.has_truth || r->labelled == 0)) {
        st = ard_error_set(err, ARD_EINVAL,
                           "cosmicweb train: no truth for training (%s/truth/galaxies-*.parquet "
                           "is missing or labels none of the selected galaxies)",
                           o->dataset);
    }
    ard_buf params, summary;
    ard_buf_init(&params);
    ard_buf_init(&summary);
    if (st == ARD_OK) { /* o may be NULL on failure */
        params_json(&params, o, NULL);
    }
    ard_index *idx = NULL;
    ard_result_run *run = NULL;
    if (st == ARD_OK) {
        st = begin_run(o, (const char *)params.data, &idx, &run, r, err);
    }
    if (st == ARD_OK) {
        ard_result_run_hash_input(run, d.targetid, (size_t)d.n * sizeof *d.targetid);
        ard_result_run_hash_input(run, d.label, (size_t)d.n * sizeof *d.label);
        if (lat.dim > 0) {
            ard_result_run_hash_input(run, lat.values,
                                      (size_t)d.n * (size_t)lat.dim * sizeof(float));
        }
        st = train_and_save(o, &d, &lat, r->run_id, r, err);
    }
    if (st == ARD_OK) {
        r->balanced_accuracy = r->train.test_balanced_accuracy;
        r->baseline_balanced_accuracy = r->train.baseline_test_balanced_accuracy;
        memcpy(r->confusion, r->train.test_confusion, sizeof r->confusion);
        results_path(o, r->run_id, "confusion", r);
        st = add_confusion(run, (const int64_t(*)[CW_C])r->confusion, err);
        train_summary(&summary, o, r);
    }
    int saved = r->model_path[0] != '\0';
    if (run || idx) {
        st = end_run(idx, run, &summary, st, err);
    }
    if (st != ARD_OK && saved) {
        unlink(r->model_path); /* no run, no model */
    }
    ard_buf_reset(&params);
    ard_buf_reset(&summary);
    ard_cosmicweb_data_reset(&d);
    ard__cw_latent_reset(&lat);
    r->seconds = ard__sci_now() - t0;
    return st;
}

/* ---- predict ---- */

static ard_status add_galaxies(ard_result_run *run, const ard_cosmicweb_data *d, const int32_t *cls,
                               const float *prob, ard_error *err) {
    int64_t n = d->n;
    int64_t *c64 = ard_malloc((size_t)n * sizeof *c64);
    double *p = ard_malloc((size_t)n * CW_C * sizeof *p);
    ard_status st = c64 && p ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory");
    for (int64_t i = 0; st == ARD_OK && i < n; i++) {
        c64[i] = cls[i];
        for (int c = 0; c < CW_C; c++) {
            p[(int64_t)c * n + i] = prob[i * CW_C + c];
        }
    }
    ard_index_column cols[2 + CW_C] = {
        {"TARGETID", ARD_INDEX_INT64, d->targetid, NULL},
        {"CLASS", ARD_INDEX_INT64, c64, NULL},
        {"P_VOID", ARD_INDEX_DOUBLE, p, NULL},
        {"P_SHEET", ARD_INDEX_DOUBLE, p + n, NULL},
        {"P_FILAMENT", ARD_INDEX_DOUBLE, p + 2 * n, NULL},
        {"P_KNOT", ARD_INDEX_DOUBLE, p + 3 * n, NULL},
    };
    if (st == ARD_OK) {
        st = ard_result_run_add_table(run, "galaxies", cols, 2 + CW_C, n, "cosmic_web", err);
    }
    ard_free(c64);
    ard_free(p);
    return st;
}

static double balanced_accuracy(const int64_t conf[CW_C][CW_C]) {
    double sum = 0.0;
    int present = 0;
    for (int t = 0; t < CW_C; t++) {
        int64_t row = 0;
        for (int p = 0; p < CW_C; p++) {
            row += conf[t][p];
        }
        if (row > 0) {
            sum += (double)conf[t][t] / (double)row;
            present++;
        }
    }
    return present ? sum / present : 0.0;
}

static void predict_summary(ard_buf *out, const ard_cosmicweb_stage_options *o,
                            const ard_cosmicweb_stage_report *r) {
    ard_json j;
    ard_json_init(&j, out, 0);
    ard_json_begin_object(&j);
    json_common(&j, "predict", o, r);
    ard_json_key(&j, "fractions");
    ard_json_begin_object(&j);
    for (int c = 0; c < CW_C; c++) {
        ard_json_key(&j, cw_class_names[c]);
        ard_json_double(&j, r->galaxies ? (double)r->counts[c] / (double)r->galaxies : 0.0);
    }
    ard_json_end_object(&j);
    ard_json_key(&j, "balanced_accuracy");
    if (r->labelled) {
        ard_json_double(&j, r->balanced_accuracy);
    } else {
        ard_json_null(&j);
    }
    ard_json_key(&j, "confusion");
    json_confusion(&j, (const int64_t(*)[CW_C])r->confusion);
    ard_json_end_object(&j);
}

/* The stage's latents against the model's (named after the flags, before ard_cosmicweb_predict
 * would refuse them by size alone). */
/* Predict with reach options given (reach > 0) needs the model's reach settings exactly. */
static ard_status check_model_reach(const ard_cosmicweb_options *t, const ard_cosmicweb_model *m,
                                    const char *model, ard_error *err) {
    if (t->reach == 0 ||
        (m->reach == t->reach && m->reach_bins == t->reach_bins && m->reach_mpc == t->reach_mpc &&
         m->reach_fanout == t->reach_fanout && m->reach_randoms == t->reach_randoms)) {
        return ARD_OK;
    }
    return ard_error_set(err, ARD_EINVAL,
                         "cosmicweb: model %s was trained with reach %d channels, %d bins, %g Mpc, "
                         "fan-out %d, %d randoms; the options ask for %d, %d, %g Mpc, %d, %d "
                         "(predict without --reach uses the model's)",
                         model, (int)m->reach, (int)m->reach_bins, (double)m->reach_mpc,
                         (int)m->reach_fanout, (int)m->reach_randoms, (int)t->reach,
                         (int)t->reach_bins, (double)t->reach_mpc, (int)t->reach_fanout,
                         (int)t->reach_randoms);
}

static ard_status check_model_latent(const ard_cosmicweb_stage_options *o, int32_t want,
                                     const cw_latent *lat, const char *model, ard_error *err) {
    if (want == lat->dim) {
        return ARD_OK;
    }
    if (want == 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: model %s was trained without anomaly latents: predict "
                             "without --latent",
                             model);
    }
    if (lat->dim == 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: model %s was trained with %d anomaly latents per galaxy: "
                             "predict needs --latent RUN (an anomaly score run)",
                             model, (int)want);
    }
    return ard_error_set(err, ARD_EINVAL,
                         "cosmicweb: model %s was trained with %d anomaly latents per galaxy, "
                         "anomaly run '%s' has %d",
                         model, (int)want, o->latent, (int)lat->dim);
}

/* st: the status so far (with a share, every process agrees on it before predicting). */
static ard_status classify(const ard_cosmicweb_stage_options *o, const ard_cosmicweb_data *d,
                           const cw_latent *lat, const ard_cosmicweb_share *share, ard_status st,
                           int32_t *cls, float *prob, ard_cosmicweb_stage_report *r,
                           ard_error *err) {
    ard_cosmicweb_model *m = NULL;
    if (st == ARD_OK) {
        st = resolve_model(o, r->model_path, sizeof r->model_path, err);
    }
    if (st == ARD_OK && access(r->model_path, F_OK) != 0) {
        st = ard_error_set(err, ARD_ENOENT, "cosmicweb: no model %s", r->model_path);
    }
    if (st == ARD_OK) {
        st = ard_cosmicweb_model_load(r->model_path, &m, err);
    }
    if (st == ARD_OK) {
        st = check_model_latent(o, ard_cosmicweb_model_latent_dim(m), lat, r->model_path, err);
    }
    if (st == ARD_OK) {
        st = check_model_reach(&o->train, m, r->model_path, err);
    }
    if (share) {
        st = share->exchange(share->ctx, st, NULL, 0, NULL, err);
    }
    ard_cosmicweb_input in = stage_input(d, lat, NULL);
    if (st == ARD_OK) {
        st = ard_cosmicweb_predict_share(m, &in, o->train.threads, share, cls, prob, err);
    }
    ard_cosmicweb_model_free(m);
    for (int64_t i = 0; st == ARD_OK && i < d->n; i++) {
        r->counts[cls[i]]++;
        if (d->label[i] >= 0) {
            r->confusion[d->label[i]][cls[i]]++;
            r->labelled++;
        }
    }
    r->balanced_accuracy = balanced_accuracy((const int64_t(*)[CW_C])r->confusion);
    return st;
}

ard_status ard_cosmicweb_stage_predict(const ard_cosmicweb_stage_options *o,
                                       ard_cosmicweb_stage_report *report, ard_error *err) {
    return ard_cosmicweb_stage_predict_share(o, NULL, report, err);
}

ard_status ard_cosmicweb_stage_predict_share(const ard_cosmicweb_stage_options *o,
                                             const ard_cosmicweb_share *share,
                                             ard_cosmicweb_stage_report *report, ard_error *err) {
    ard_cosmicweb_stage_report local;
    ard_cosmicweb_stage_report *r = report ? report : &local;
    double t0 = 0.0;
    ard_cosmicweb_data d;
    cw_latent lat;
    ard_status st = begin_stage(o, r, &t0, &d, &lat, err);
    int32_t *cls = st == ARD_OK ? ard_malloc((size_t)d.n * sizeof *cls) : NULL;
    float *prob = st == ARD_OK ? ard_malloc((size_t)d.n * CW_C * sizeof *prob) : NULL;
    if (st == ARD_OK && (!cls || !prob)) {
        st = ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for predictions");
    }
    if (st == ARD_OK || share) {
        st = classify(o, &d, &lat, share, st, cls, prob, r, err);
    }
    ard__cw_latent_reset(&lat);
    if (share && share->rank != 0) { /* process 0 writes the run */
        ard_free(cls);
        ard_free(prob);
        ard_cosmicweb_data_reset(&d);
        r->seconds = ard__sci_now() - t0;
        return st;
    }
    ard_buf params, summary;
    ard_buf_init(&params);
    ard_buf_init(&summary);
    if (st == ARD_OK) { /* o may be NULL on failure */
        params_json(&params, o, r->model_path);
    }
    ard_index *idx = NULL;
    ard_result_run *run = NULL;
    if (st == ARD_OK) {
        st = begin_run(o, (const char *)params.data, &idx, &run, r, err);
    }
    if (st == ARD_OK) {
        ard_result_run_hash_input(run, r->model_path, strlen(r->model_path));
        ard_result_run_hash_input(run, d.targetid, (size_t)d.n * sizeof *d.targetid);
        results_path(o, r->run_id, "galaxies", r);
        st = add_galaxies(run, &d, cls, prob, err);
        predict_summary(&summary, o, r);
    }
    if (run || idx) {
        st = end_run(idx, run, &summary, st, err);
    }
    ard_buf_reset(&params);
    ard_buf_reset(&summary);
    ard_free(cls);
    ard_free(prob);
    ard_cosmicweb_data_reset(&d);
    r->seconds = ard__sci_now() - t0;
    return st;
}
