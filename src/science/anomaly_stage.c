/* The anomaly stage: training over the stream's shared-memory store (the loader's batches, with the
 * per-pixel weights), the reference sample that calibrates the scores, and scoring (see science.h).
 * Results are written by anomaly_results.c. */
#include "science_int.h"

#include "ard/stream.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ard_anomaly_options_init(ard_anomaly_options *o) {
    memset(o, 0, sizeof *o);
    ard_anomaly_arch_init(&o->arch);
    o->epochs = 10;
    o->batch_size = 128;
    o->lr = 2e-3f;
    o->seed = 1;
    /* rest frame by default: at 200,000 generated spectra it found the injected anomalies 3.5x
     * better than the observed frame (AUPRC 0.415 vs 0.120, bench/results/anomaly-quality-speed-
     * 200k.md), and it is the frame in which a wrong catalog Z or a star labelled a galaxy shows */
    o->frame = ARD_FRAME_REST;
    o->rest_zmax = 1.6;
    o->reference = 4096;
    o->knn_k = 10;
    o->density_weight = 0.5f;
    o->threads = 2;
    o->loader_threads = 2;
    o->size = 1;
}

/* The stage preamble (ard__sci_stage_begin: report zeroed, clock, dataset and run id), then the
 * anomaly options. */
static ard_status check_options(const ard_anomaly_options *o, int train, ard_anomaly_report *rep,
                                double *t0, ard_error *err) {
    ard_status st = ard__sci_stage_begin("anomaly", o ? o->dataset : NULL, o ? o->run : NULL, rep,
                                         sizeof *rep, t0, err);
    if (st == ARD_OK) {
        st = ard__sci_check_run_id("anomaly", "score run id", o->score_run, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    if (o->batch_size < 1 || o->batch_size > 65536 || o->threads < 1 || o->threads > 256 ||
        o->loader_threads < 1 || o->loader_threads > 256 || o->knn_k < 1 || o->knn_k > 1000 ||
        !(o->density_weight >= 0.0f) || o->size < 1 || o->rank < 0 || o->rank >= o->size) {
        return ard_error_set(err, ARD_EINVAL,
                             "anomaly: batch_size, threads, knn_k, density_weight or rank/size "
                             "out of range");
    }
    if (train && (o->epochs < 1 || o->epochs > 100000 || !(o->lr > 0.0f) || o->reference < 2 ||
                  o->reference > (1 << 20) || o->reference <= o->knn_k)) {
        return ard_error_set(err, ARD_EINVAL,
                             "anomaly: epochs >= 1, lr > 0, reference in (knn_k, 2^20] needed");
    }
    return ARD_OK;
}

/* A loader over the selection, weights on, in the given frame. */
static ard_status open_loader(const ard_anomaly_options *o, int32_t patch, int32_t frame,
                              double zmin, double zmax, int32_t epochs, int32_t shuffle,
                              uint64_t seed, ard_loader **out, ard_error *err) {
    ard_loader_options lo;
    ard_loader_options_init(&lo);
    lo.batch_size = o->batch_size;
    lo.prefetch_batches = 4;
    lo.epochs = epochs;
    lo.shuffle = shuffle;
    lo.local_shuffle_buffer = shuffle ? 4 * (int64_t)o->batch_size : 0;
    lo.seed = seed;
    lo.threads = o->loader_threads;
    lo.tokenize.patch = patch;
    lo.tokenize.min_valid = patch / 4;
    lo.tokenize.norm = ARD_NORM_SPECTRUM_MEDIAN; /* one scale per spectrum: the shape is kept */
    lo.weights = 1;
    lo.frame = frame;
    lo.rest_zmin = zmin;
    lo.rest_zmax = zmax;
    lo.rank = o->gather ? 0 : o->rank; /* gathered shares: whole batches, selected below */
    lo.world = o->gather ? 1 : o->size;
    lo.index_dataset = o->dataset;
    lo.index_dsn = o->dsn;
    ard_status st = (o->where && o->where[0]) || o->dsn
                        ? ard_loader_new_query(&lo, o->dataset, o->dsn, o->where, out, err)
                        : ard_loader_new_dataset(&lo, o->dataset, out, err);
    if (st == ARD_OK && ard_loader_rows_per_epoch(*out) == 0) {
        ard_loader_free(*out);
        *out = NULL;
        st = ard_error_set(err, ARD_EINVAL, "anomaly: the selection selects no spectra");
    } else if (st == ARD_EINVAL && o->where && strstr(err ? err->msg : "", "select") != NULL) {
        ard_error_prefix(err, "anomaly: empty selection: ");
    }
    return st;
}

/* Consumer of a started loader: calls fn on each batch until the end or an error. */
typedef ard_status (*batch_fn)(void *ctx, ard_store *store, const ard_batch *b, ard_error *err);

static ard_status consume(ard_loader *l, batch_fn fn, void *ctx, int64_t max_rows, ard_error *err) {
    ard_store *c = NULL;
    ard_status st = ard_store_attach(ard_loader_store(l), &c, err);
    if (st == ARD_OK) {
        st = ard_loader_start(l, err);
    }
    int64_t rows = 0;
    while (st == ARD_OK && (max_rows < 0 || rows < max_rows)) {
        ard_batch b;
        st = ard_store_acquire(c, -1, &b, err);
        if (st == ARD_EEOF) { /* the end, not an error: clear its message (first message wins) */
            st = ARD_OK;
            if (err) {
                ard_error_init(err); /* the end is no error: a later one must get its message */
            }
            break;
        }
        if (st != ARD_OK) {
            break;
        }
        st = fn(ctx, c, &b, err);
        rows += b.count;
        ard_store_release(c, &b, NULL);
    }
    ard_store_close(c);
    if (st == ARD_OK && max_rows < 0) {
        st = ard_loader_wait(l, err);
    }
    return st;
}

/* ---- training ---- */

typedef struct train_ctx {
    const ard_anomaly_options *o;
    ard_anomaly_model *m;
    int64_t per_epoch, done, total;
    int32_t epoch;
    double epoch_loss, epoch_weight, first_loss, last_loss;
    double *losses; /* per epoch */
} train_ctx;

static ard_status model_for(const ard_anomaly_options *o, const ard_batch *b, ard_anomaly_model **m,
                            ard_error *err) {
    if (*m) {
        return ARD_OK;
    }
    ard_anomaly_arch a = o->arch;
    a.num_patches = b->num_patches;
    a.patch = b->patch;
    ard_status st = ard_anomaly_model_new(&a, b->wave, o->seed, o->threads, m, err);
    if (st == ARD_OK) {
        (*m)->frame = o->frame;
        (*m)->rest_zmin = o->rest_zmin;
        (*m)->rest_zmax = o->rest_zmax;
        (*m)->knn_k = o->knn_k;
        (*m)->density_weight = o->density_weight;
    }
    return st;
}

static void end_epoch(train_ctx *t) {
    double mean = t->epoch_weight > 0 ? t->epoch_loss / t->epoch_weight : NAN;
    if (t->epoch == 0) {
        t->first_loss = mean;
    }
    t->last_loss = mean;
    if (t->losses && t->epoch >= 0 && t->epoch < t->o->epochs) {
        t->losses[t->epoch] = mean;
    }
    t->epoch_loss = t->epoch_weight = 0.0;
}

static ard_status train_batch(void *ctx, ard_store *store, const ard_batch *b, ard_error *err) {
    train_ctx *t = ctx;
    if (b->count == 0) {
        return ARD_OK;
    }
    ard_status st = model_for(t->o, b, &t->m, err);
    if (st != ARD_OK) {
        return st;
    }
    if (b->epoch != t->epoch) {
        end_epoch(t);
        t->epoch = b->epoch;
    }
    double loss = 0.0;
    st = ard_anomaly_model_train_step(t->m, b->tokens, b->mask, ard_batch_weights(store, b),
                                      b->count, t->o->lr, &loss, err);
    if (st == ARD_ECORRUPT) {
        ard_error_prefix(err, "anomaly: epoch %d: ", b->epoch);
    }
    t->epoch_loss += loss * b->count;
    t->epoch_weight += b->count;
    t->done += b->count;
    if (t->o->progress) {
        t->o->progress(t->o->progress_ctx, t->done, t->total);
    }
    return st;
}

/* ---- reference sample and density ---- */

typedef struct ref_ctx {
    ard_anomaly_model *m;
    int64_t cap, n;
    float *z;
    double *chi2;
} ref_ctx;

static ard_status ref_batch(void *ctx, ard_store *store, const ard_batch *b, ard_error *err) {
    ref_ctx *r = ctx;
    int64_t take = b->count < r->cap - r->n ? b->count : r->cap - r->n;
    if (take <= 0) {
        return ARD_OK;
    }
    int32_t s = r->m->a.latent;
    ard_status st = ard_anomaly_model_forward(r->m, b->tokens, b->mask, ard_batch_weights(store, b),
                                              take, r->z + r->n * s, NULL, r->chi2 + r->n, err);
    r->n += take;
    return st;
}

/* Distance from q to its k-th nearest row of ref[0..n) (skipping row `self`, or -1). */
static double knn_distance(const float *ref, int64_t n, int32_t s, const float *q, int32_t k,
                           int64_t self, double *best) {
    int32_t have = 0;
    for (int64_t j = 0; j < n; j++) {
        if (j == self) {
            continue;
        }
        double d2 = 0.0;
        for (int32_t c = 0; c < s; c++) {
            double d = (double)ref[j * s + c] - (double)q[c];
            d2 += d * d;
        }
        if (have < k || d2 < best[have - 1]) { /* best: ascending, insertion */
            int32_t at = have < k ? have++ : k - 1;
            while (at > 0 && best[at - 1] > d2) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = d2;
        }
    }
    return have > 0 ? sqrt(best[have - 1]) : NAN;
}

static void mean_sd(const double *v, int64_t n, double *mu, double *sd) {
    double s = 0.0, s2 = 0.0;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isfinite(v[i])) {
            s += v[i];
            s2 += v[i] * v[i];
            m++;
        }
    }
    *mu = m > 0 ? s / (double)m : 0.0;
    double var = m > 1 ? (s2 - s * s / (double)m) / (double)(m - 1) : 1.0;
    *sd = var > 1e-24 ? sqrt(var) : 1.0;
}

static ard_status build_reference(const ard_anomaly_options *o, ard_anomaly_model *m,
                                  ard_error *err) {
    ard_loader *l = NULL;
    ard_status st = open_loader(o, m->a.patch, o->frame, o->rest_zmin, o->rest_zmax, 1, 1,
                                o->seed + 1, &l, err);
    if (st != ARD_OK) {
        return st;
    }
    int32_t s = m->a.latent;
    ref_ctx r = {m, o->reference, 0, ard_malloc((size_t)o->reference * s * sizeof(float)),
                 ard_malloc((size_t)o->reference * sizeof(double))};
    double *logd = ard_malloc((size_t)o->reference * sizeof(double));
    double *best = ard_malloc((size_t)o->knn_k * sizeof(double));
    if (!r.z || !r.chi2 || !logd || !best) {
        st = ard_error_set(err, ARD_ENOMEM, "anomaly: reference sample");
    }
    if (st == ARD_OK) {
        st = consume(l, ref_batch, &r, o->reference, err);
    }
    ard_loader_free(l);
    if (st == ARD_OK && r.n <= o->knn_k) {
        st = ard_error_set(err, ARD_EINVAL,
                           "anomaly: %lld spectra are too few for a reference of knn_k = %d",
                           (long long)r.n, o->knn_k);
    }
    if (st == ARD_OK) {
        int64_t shape[2] = {r.n, s};
        st = ard_nn_params_add(m->params, "ref.latent", 2, shape, &m->ref, err);
    }
    if (st == ARD_OK) {
        memcpy(m->ref->value, r.z, (size_t)(r.n * s) * sizeof(float));
        for (int64_t i = 0; i < r.n; i++) {
            logd[i] = log(knn_distance(r.z, r.n, s, r.z + i * s, o->knn_k, i, best));
            r.chi2[i] = log(r.chi2[i]);
        }
        mean_sd(r.chi2, r.n, &m->mu_chi2, &m->sd_chi2);
        mean_sd(logd, r.n, &m->mu_dens, &m->sd_dens);
    }
    ard_free(r.z);
    ard_free(r.chi2);
    ard_free(logd);
    ard_free(best);
    return st;
}

static void params_json(const ard_anomaly_options *o, const ard_anomaly_model *m, ard_buf *out) {
    ard_json j;
    ard_json_init(&j, out, 0);
    ard_json_begin_object(&j);
    const char *ikeys[] = {"num_patches", "patch",      "embed", "hidden", "latent",
                           "epochs",      "batch_size", "frame", "knn_k",  "reference"};
    const int64_t ivals[] = {
        m->a.num_patches, m->a.patch,    m->a.embed, m->a.hidden, m->a.latent,
        o->epochs,        o->batch_size, m->frame,   m->knn_k,    m->ref ? m->ref->shape[0] : 0};
    for (size_t k = 0; k < sizeof ivals / sizeof *ivals; k++) {
        ard_json_key(&j, ikeys[k]);
        ard_json_int(&j, ivals[k]);
    }
    ard_json_key(&j, "seed");
    ard_json_int(&j, (int64_t)o->seed);
    ard_json_key(&j, "lr");
    ard_json_double(&j, o->lr);
    ard_json_key(&j, "density_weight");
    ard_json_double(&j, m->density_weight);
    ard_json_key(&j, "where");
    if (o->where) {
        ard_json_string(&j, o->where);
    } else {
        ard_json_null(&j);
    }
    ard_json_end_object(&j);
    ard_buf_append(out, "", 1);
}

ard_status ard_anomaly_train(const ard_anomaly_options *o, ard_anomaly_report *rep,
                             ard_error *err) {
    ard_anomaly_report local;
    rep = rep ? rep : &local;
    double t0 = 0.0;
    ard_status st = check_options(o, 1, rep, &t0, err);
    if (st != ARD_OK) {
        return st;
    }
    ard__sci_run_id(o->run, rep->run, sizeof rep->run);
    ard_loader *l = NULL;
    st = open_loader(o, o->arch.patch, o->frame, o->rest_zmin, o->rest_zmax, o->epochs, 1, o->seed,
                     &l, err);
    if (st != ARD_OK) {
        return st;
    }
    train_ctx t = {.o = o, .losses = ard_calloc((size_t)o->epochs + 1, sizeof(double))};
    if (!t.losses) {
        ard_loader_free(l);
        return ard_error_set(err, ARD_ENOMEM, "anomaly: losses");
    }
    t.per_epoch = ard_loader_rows_per_epoch(l);
    t.total = t.per_epoch * o->epochs;
    st = consume(l, train_batch, &t, -1, err);
    ard_loader_free(l);
    end_epoch(&t);
    if (st == ARD_OK && !t.m) {
        st = ard_error_set(err, ARD_EINVAL, "anomaly: the selection selects no spectra");
    }
    double t_train = ard__sci_now() - t0;
    if (st == ARD_OK) {
        st = build_reference(o, t.m, err);
    }
    if (st == ARD_OK) {
        st = ard__anomaly_model_path(o->dataset, rep->run, rep->model_path, sizeof rep->model_path,
                                     err);
    }
    if (st == ARD_OK) {
        st = ard_anomaly_model_save(t.m, rep->model_path, err);
    }
    ard_buf pj;
    ard_buf_init(&pj);
    if (st == ARD_OK) {
        params_json(o, t.m, &pj);
        st = pj.failed ? ard_error_set(err, ARD_ENOMEM, "anomaly: parameters")
                       : ard__anomaly_record_training(o, rep->run, (const char *)pj.data, t.losses,
                                                      o->epochs, t.per_epoch, err);
    }
    ard_buf_reset(&pj);
    if (st == ARD_OK) {
        rep->spectra = t.per_epoch;
        rep->epochs = o->epochs;
        rep->first_loss = t.first_loss;
        rep->final_loss = t.last_loss;
        int64_t params = 0;
        for (int k = 0; k < 10; k++) {
            params += t.m->t[k]->count;
        }
        rep->params = params;
        rep->seconds = ard__sci_now() - t0;
        rep->spectra_per_second = t_train > 0 ? (double)t.total / t_train : 0.0;
    }
    ard_anomaly_model_free(t.m);
    ard_free(t.losses);
    return st;
}

/* ---- scoring ---- */

typedef struct score_ctx {
    const ard_anomaly_options *o;
    ard_anomaly_model *m;
    ard__anomaly_rows rows;
    int64_t cap, total;
    double *best;
    int grid_checked;
} score_ctx;

static ard_status grow(score_ctx *c, int64_t need, ard_error *err) {
    if (need <= c->cap) {
        return ARD_OK;
    }
    int64_t cap = c->cap ? c->cap : 4096;
    while (cap < need) {
        cap *= 2;
    }
    ard__anomaly_rows *r = &c->rows;
    void **arrs[] = {(void **)&r->targetid, (void **)&r->score, (void **)&r->chi2,
                     (void **)&r->density};
    for (int k = 0; k < 4; k++) {
        void *g = ard_realloc(*arrs[k], (size_t)cap * 8);
        if (!g) {
            return ard_error_set(err, ARD_ENOMEM, "anomaly: score rows");
        }
        *arrs[k] = g;
    }
    float *z = ard_realloc(r->z, (size_t)(cap * r->latent) * sizeof(float));
    if (!z) {
        return ard_error_set(err, ARD_ENOMEM, "anomaly: latent rows");
    }
    r->z = z;
    c->cap = cap;
    return ARD_OK;
}

static ard_status check_grid(const ard_anomaly_model *m, const ard_batch *b, ard_error *err) {
    if (b->num_patches != m->a.num_patches || b->patch != m->a.patch) {
        return ard_error_set(err, ARD_EINVAL,
                             "anomaly: the model was trained on %d patches of %d bins, the data "
                             "has %d of %d (another grid or patch size)",
                             m->a.num_patches, m->a.patch, b->num_patches, b->patch);
    }
    for (int32_t p = 0; p < b->num_patches; p++) {
        float w = m->wave->value[p];
        if (fabsf(b->wave[p] - w) > 1e-4f * fabsf(w) + 1e-3f) {
            return ard_error_set(err, ARD_EINVAL,
                                 "anomaly: the model's wavelength grid differs from the data's "
                                 "(patch %d: %g A in the model, %g A in the data)",
                                 p, (double)w, (double)b->wave[p]);
        }
    }
    return ARD_OK;
}

static ard_status score_batch(void *ctx, ard_store *store, const ard_batch *b, ard_error *err) {
    score_ctx *c = ctx;
    ard_anomaly_model *m = c->m;
    ard_status st = ARD_OK;
    if (!c->grid_checked) {
        st = check_grid(m, b, err);
        c->grid_checked = 1;
    }
    ard__anomaly_rows *r = &c->rows;
    if (st == ARD_OK) {
        st = grow(c, r->n + b->count, err);
    }
    int32_t s = m->a.latent;
    if (st == ARD_OK) {
        st = ard_anomaly_model_forward(m, b->tokens, b->mask, ard_batch_weights(store, b), b->count,
                                       r->z + r->n * s, NULL, r->chi2 + r->n, err);
    }
    for (int32_t i = 0; st == ARD_OK && i < b->count; i++) {
        int64_t at = r->n + i;
        r->targetid[at] = b->targetid[i];
        double d = m->ref ? knn_distance(m->ref->value, m->ref->shape[0], s, r->z + at * s,
                                         m->knn_k, -1, c->best)
                          : NAN;
        r->density[at] = d;
        double zc = (log(r->chi2[at]) - m->mu_chi2) / m->sd_chi2;
        double zd = m->ref ? (log(d > 0 ? d : 1e-30) - m->mu_dens) / m->sd_dens : 0.0;
        r->score[at] = zc + (double)m->density_weight * zd;
    }
    if (st == ARD_OK) {
        r->n += b->count;
        if (c->o->progress) {
            c->o->progress(c->o->progress_ctx, r->n, c->total);
        }
    }
    return st;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The newest model: the greatest run id among DATASET/models/anomaly-*.safetensors. */
static ard_status latest_run(const char *dataset, char *out, size_t cap, ard_error *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/models", dataset);
    DIR *d = opendir(dir);
    if (!d) {
        return ard_error_set(err, ARD_ENOENT, "anomaly: no model in %s (run ard anomaly train)",
                             dir);
    }
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 20 && strncmp(e->d_name, "anomaly-", 8) == 0 &&
            strcmp(e->d_name + len - 12, ".safetensors") == 0 && len - 20 < sizeof best) {
            char run[256];
            memcpy(run, e->d_name + 8, len - 20);
            run[len - 20] = '\0';
            const char *pair[2] = {run, best};
            if (!best[0] || cmp_name(&pair[0], &pair[1]) > 0) {
                memcpy(best, run, len - 19);
            }
        }
    }
    closedir(d);
    if (!best[0]) {
        return ard_error_set(err, ARD_ENOENT, "anomaly: no model in %s (run ard anomaly train)",
                             dir);
    }
    snprintf(out, cap, "%s", best);
    return ARD_OK;
}

/* For anomaly_merge.c (science_int.h). */
ard_status ard__anomaly_latest_run(const char *dataset, char *out, size_t cap, ard_error *err) {
    return latest_run(dataset, out, cap, err);
}

void ard__anomaly_params_json(const ard_anomaly_options *o, const ard_anomaly_model *m,
                              ard_buf *out) {
    params_json(o, m, out);
}

ard_status ard_anomaly_score(const ard_anomaly_options *o, ard_anomaly_report *rep,
                             ard_error *err) {
    ard_anomaly_report local;
    rep = rep ? rep : &local;
    double t0 = 0.0;
    ard_status st = check_options(o, 0, rep, &t0, err);
    if (st != ARD_OK) {
        return st;
    }
    if (o->run) {
        snprintf(rep->run, sizeof rep->run, "%s", o->run);
    } else {
        st = latest_run(o->dataset, rep->run, sizeof rep->run, err);
    }
    if (st == ARD_OK) {
        int len = snprintf(rep->model_path, sizeof rep->model_path,
                           "%s/models/anomaly-%s.safetensors", o->dataset, rep->run);
        st = len > 0 && (size_t)len < sizeof rep->model_path
                 ? ARD_OK
                 : ard_error_set(err, ARD_EINVAL, "anomaly: model path too long");
    }
    score_ctx c = {.o = o};
    if (st == ARD_OK) {
        st = ard_anomaly_model_load(rep->model_path, o->threads, &c.m, err);
    }
    ard_loader *l = NULL;
    if (st == ARD_OK) {
        c.rows.latent = c.m->a.latent;
        c.best = ard_malloc((size_t)c.m->knn_k * sizeof(double));
        st = c.best ? open_loader(o, c.m->a.patch, c.m->frame, c.m->rest_zmin, c.m->rest_zmax, 1, 0,
                                  0, &l, err)
                    : ard_error_set(err, ARD_ENOMEM, "anomaly: knn");
    }
    if (st == ARD_OK && o->gather && o->size > 1) {
        /* a contiguous run of whole batches per process: the batches of one process, so the
         * scores are bit for bit the one-process scores, and rank order is batch order */
        int64_t batches = ard_loader_total_batches(l);
        int64_t chunk = (batches + o->size - 1) / o->size;
        st = ard_loader_select_batches(l, o->rank, o->size,
                                       (int32_t)(chunk < 1           ? 1
                                                 : chunk > INT32_MAX ? INT32_MAX
                                                                     : chunk),
                                       err);
    }
    if (st == ARD_OK) {
        c.total = ard_loader_rows_per_epoch(l);
        st = consume(l, score_batch, &c, -1, err);
    }
    ard_loader_free(l);
    /* shares scored elsewhere too: every process meets here, one writes the whole run */
    ard_anomaly_options whole = *o;
    int32_t writer = 1;
    if (o->gather) {
        st = o->gather->fn(o->gather->ctx, st, &c.rows, &writer, err);
        whole.rank = 0;
        whole.size = 1;
        whole.gather = NULL;
    }
    const ard_anomaly_options *wo = o->gather ? &whole : o;
    double t_score = ard__sci_now() - t0;
    ard_buf pj;
    ard_buf_init(&pj);
    if (st == ARD_OK && writer) {
        params_json(wo, c.m, &pj);
        st = pj.failed ? ard_error_set(err, ARD_ENOMEM, "anomaly: parameters") : ARD_OK;
    }
    if (st == ARD_OK && writer) {
        st = ard__anomaly_write_results(wo, rep->run, (const char *)pj.data, &c.rows, wo->size == 1,
                                        rep->score_run, sizeof rep->score_run, rep->scores_path,
                                        sizeof rep->scores_path, err);
    }
    ard_buf_reset(&pj);
    if (st == ARD_OK) {
        rep->spectra = c.rows.n;
        rep->seconds = ard__sci_now() - t0;
        rep->spectra_per_second = t_score > 0 ? (double)c.rows.n / t_score : 0.0;
        int64_t *order = ard_malloc((size_t)(c.rows.n + 1) * sizeof *order);
        if (order && c.rows.n > 0) {
            ard__anomaly_order(c.rows.score, c.rows.targetid, c.rows.n, order);
            int64_t finite = 0;
            while (finite < c.rows.n && isfinite(c.rows.score[order[finite]])) {
                finite++;
            }
            if (finite > 0) {
                rep->score_max = c.rows.score[order[0]];
                rep->score_p99 = c.rows.score[order[finite / 100]];
                rep->score_median = c.rows.score[order[finite / 2]];
            }
        }
        ard_free(order);
    }
    ard_free(c.best);
    ard_free(c.rows.targetid);
    ard_free(c.rows.score);
    ard_free(c.rows.chi2);
    ard_free(c.rows.density);
    ard_free(c.rows.z);
    ard_anomaly_model_free(c.m);
    return st;
}

/* ---- ordering ---- */

typedef struct ord_key {
    double score;
    int64_t targetid, index;
} ord_key;

static int cmp_key(const void *a, const void *b) {
    const ord_key *x = a, *y = b;
    int xn = isnan(x->score), yn = isnan(y->score);
    if (xn != yn) {
        return xn - yn;
    }
    if (!xn && x->score != y->score) {
        return x->score > y->score ? -1 : 1;
    }
    return x->targetid < y->targetid ? -1 : x->targetid > y->targetid;
}

void ard__anomaly_order(const double *score, const int64_t *targetid, int64_t n, int64_t *order) {
    ord_key *k = ard_malloc((size_t)(n + 1) * sizeof *k);
    if (!k) { /* keep the input order */
        for (int64_t i = 0; i < n; i++) {
            order[i] = i;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        k[i] = (ord_key){score[i], targetid[i], i};
    }
    qsort(k, (size_t)n, sizeof *k, cmp_key);
    for (int64_t i = 0; i < n; i++) {
        order[i] = k[i].index;
    }
    ard_free(k);
}
