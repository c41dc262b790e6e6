/* The anomaly stage: gradients of the whole autoencoder against central finite differences; input
 * checks of the forward pass (NaN token, negative weight) with their exact statuses; and, on a small
 * generated survey with a raised anomaly rate, training that is bit-identical for 1 and 2 threads
 * (compute and producer threads), precision@k from the truth table far above random, the
 * `anomalies` index table agreeing with the scores Parquet file, and bad input: a model of another
 * grid, a truncated model file, an empty selection. */
#include "sci_tests.h"
#include "science_int.h"

#include "ard/index.h"
#include "ard/nn.h"
#include "ard/parquet.h"
#include "ard/stream.h"
#include "ard/survey.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t g_rng = 12345;
static float frand(void) {
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)(g_rng >> 40) * (1.0f / 16777216.0f);
}

static double loss_of(ard_anomaly_model *m, const float *x, const uint8_t *mask, const float *w,
                      int64_t n) {
    double loss = 0.0;
    assert_int_equal(ard__anomaly_loss_grad(m, x, mask, w, n, &loss, NULL), ARD_OK);
    return loss;
}

static void test_gradients_fd(void **state) {
    (void)state;
    if (!ard_nn_available()) {
        skip();
    }
    ard_anomaly_arch a = {3, 32, 4, 6, 3};
    float wave[3] = {4000.0f, 5000.0f, 6000.0f};
    ard_anomaly_model *m = NULL;
    assert_int_equal(ard_anomaly_model_new(&a, wave, 7, 1, &m, NULL), ARD_OK);
    enum { N = 4, PL = 3 * 32 };
    float x[N * PL], w[N * PL];
    uint8_t mask[N * 3];
    for (int i = 0; i < N * PL; i++) {
        x[i] = 2.0f * frand() - 0.5f;
        w[i] = frand() < 0.1f ? 0.0f : 0.5f + frand();
    }
    for (int r = 0; r < N * 3; r++) {
        mask[r] = r == 4 ? 0 : 1;
    }
    ard_nn_params *p = ard__anomaly_params(m);
    /* small biases so every unit's path matters */
    for (int64_t t = 0; t < ard_nn_params_count(p); t++) {
        ard_nn_tensor *tt = ard_nn_params_at(p, t);
        if (tt->ndim == 1 && strcmp(tt->name, "wave") != 0) {
            for (int64_t i = 0; i < tt->count; i++) {
                tt->value[i] = 0.1f * (frand() - 0.5f);
            }
        }
    }
    ard_nn_params_zero_grad(p);
    loss_of(m, x, mask, w, N);
    /* snapshot every gradient first: each loss evaluation below adds into them again */
    int64_t nt = ard_nn_params_count(p);
    float **grads = calloc((size_t)nt, sizeof *grads);
    for (int64_t t = 0; t < nt; t++) {
        ard_nn_tensor *tt = ard_nn_params_at(p, t);
        grads[t] = malloc((size_t)tt->count * sizeof(float));
        memcpy(grads[t], tt->grad, (size_t)tt->count * sizeof(float));
    }
    int checked = 0;
    for (int64_t t = 0; t < nt; t++) {
        ard_nn_tensor *tt = ard_nn_params_at(p, t);
        const float *g = grads[t];
        if (strcmp(tt->name, "wave") == 0) {
            continue;
        }
        for (int k = 0; k < 6; k++) {
            int64_t i = (int64_t)(frand() * (float)tt->count) % tt->count;
            float v = tt->value[i], h = 1e-2f;
            tt->value[i] = v + h;
            double lp = loss_of(m, x, mask, w, N);
            tt->value[i] = v - h;
            double lm = loss_of(m, x, mask, w, N);
            tt->value[i] = v;
            double fd = (lp - lm) / (2.0 * h);
            if (fabs(fd - g[i]) > 0.03 * fabs(fd) + 3e-4) {
                fprintf(stderr, "%s[%lld]: analytic %g, finite difference %g\n", tt->name,
                        (long long)i, (double)g[i], fd);
                fail();
            }
            checked++;
        }
    }
    for (int64_t t = 0; t < nt; t++) {
        free(grads[t]);
    }
    free(grads);
    assert_true(checked >= 60);
    ard_anomaly_model_free(m);
}

static void test_forward_bad_input(void **state) {
    (void)state;
    if (!ard_nn_available()) {
        skip();
    }
    ard_anomaly_arch a = {2, 32, 4, 5, 2};
    ard_anomaly_model *m = NULL;
    assert_int_equal(ard_anomaly_model_new(&a, NULL, 1, 1, &m, NULL), ARD_OK);
    float x[2 * 64] = {0}, w[2 * 64], lat[4];
    double chi2[2];
    for (int i = 0; i < 128; i++) {
        w[i] = 1.0f;
        x[i] = 0.01f * (float)i;
    }
    assert_int_equal(ard_anomaly_model_forward(m, x, NULL, w, 2, lat, NULL, chi2, NULL), ARD_OK);
    assert_true(isfinite(chi2[0]) && isfinite(chi2[1]));
    ard_error e;
    ard_error_init(&e);
    x[70] = NAN;
    assert_int_equal(ard_anomaly_model_forward(m, x, NULL, w, 2, lat, NULL, chi2, &e), ARD_EINVAL);
    assert_non_null(strstr(e.msg, "spectrum 1"));
    x[70] = 0.0f;
    w[3] = -1.0f;
    assert_int_equal(ard_anomaly_model_forward(m, x, NULL, w, 2, lat, NULL, chi2, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_anomaly_model_forward(m, x, NULL, NULL, 2, lat, NULL, chi2, NULL),
                     ARD_EINVAL);
    ard_anomaly_arch bad = {2, 32, 3, 5, 2}; /* odd embedding */
    ard_anomaly_model *m2 = NULL;
    assert_int_equal(ard_anomaly_model_new(&bad, NULL, 1, 1, &m2, NULL), ARD_EINVAL);
    ard_anomaly_model_free(m);
}

/* ard_anomaly_model_train_step: the loss falls over steps on one batch, the weights after the
 * steps are bit-identical for 1 and 2 threads (Adam runs in chunks on the pool), bad input. */
static void train_steps(int32_t threads, int steps, float *first, float *last, float *w_out) {
    ard_anomaly_arch a = {4, 32, 4, 24, 3};
    float wave[4] = {4000.0f, 5000.0f, 6000.0f, 7000.0f};
    ard_anomaly_model *m = NULL;
    assert_int_equal(ard_anomaly_model_new(&a, wave, 5, threads, &m, NULL), ARD_OK);
    enum { N = 48, PL = 4 * 32 };
    static float x[N * PL], w[N * PL];
    g_rng = 99;
    for (int i = 0; i < N * PL; i++) {
        int spec = i / PL, pix = i % PL;
        x[i] = sinf(0.05f * (float)pix * (1.0f + 0.1f * (float)(spec % 5))) + 0.1f * frand();
        w[i] = frand() < 0.05f ? 0.0f : 1.0f;
    }
    for (int k = 0; k < steps; k++) {
        double loss = 0.0;
        assert_int_equal(ard_anomaly_model_train_step(m, x, NULL, w, N, 1e-2f, &loss, NULL),
                         ARD_OK);
        if (k == 0) {
            *first = (float)loss;
        }
        *last = (float)loss;
    }
    ard_nn_tensor *t = ard_nn_params_find(ard__anomaly_params(m), "dec2.weight");
    memcpy(w_out, t->value, (size_t)t->count * sizeof(float));
    ard_error e;
    ard_error_init(&e);
    assert_int_equal(ard_anomaly_model_train_step(m, x, NULL, w, N, 0.0f, NULL, &e), ARD_EINVAL);
    assert_int_equal(ard_anomaly_model_train_step(m, x, NULL, NULL, N, 1e-3f, NULL, NULL),
                     ARD_EINVAL);
    x[5] = NAN;
    ard_error_init(&e); /* first message wins: start afresh */
    assert_int_equal(ard_anomaly_model_train_step(m, x, NULL, w, N, 1e-3f, NULL, &e), ARD_EINVAL);
    assert_non_null(strstr(e.msg, "spectrum 0"));
    x[5] = 0.0f;
    ard_anomaly_model_free(m);
}

static void test_train_step(void **state) {
    (void)state;
    if (!ard_nn_available()) {
        skip();
    }
    enum { W = 128 * 24 };
    float first1, last1, first2, last2;
    float *w1 = malloc(W * sizeof(float)), *w2 = malloc(W * sizeof(float));
    train_steps(1, 60, &first1, &last1, w1);
    train_steps(2, 60, &first2, &last2, w2);
    assert_true(last1 < 0.5f * first1);
    assert_true(first1 == first2 && last1 == last2);
    assert_memory_equal(w1, w2, W * sizeof(float));
    free(w1);
    free(w2);
}

/* ---- the stage on a generated survey ---- */

static char g_dir[256], g_ds[300], g_ds2[300];

static int make_survey(const char *ds, const char *grid, int64_t galaxies) {
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = galaxies;
    o.seed = 5;
    o.threads = 2;
    o.anomaly_fraction = 0.12;
    if (grid && ard_grid_from_name(grid, &o.grid, NULL) != ARD_OK) {
        return -1;
    }
    ard_error e;
    ard_error_init(&e);
    if (ard_generate(ds, &o, NULL, &e) != ARD_OK) {
        fprintf(stderr, "generate: %s\n", e.msg);
        return -1;
    }
    ard_index *idx = NULL;
    if (ard_index_open(ds, NULL, 0, &idx, &e) != ARD_OK) {
        return -1;
    }
    ard_sync_options so;
    memset(&so, 0, sizeof so);
    so.quiet = 1;
    ard_status st = ard_index_sync(idx, ds, &so, NULL, &e);
    ard_index_close(idx);
    if (st != ARD_OK) {
        fprintf(stderr, "sync: %s\n", e.msg);
    }
    return st == ARD_OK ? 0 : -1;
}

static int stage_setup(void **state) {
    (void)state;
    if (!ard_nn_available()) {
        return 0;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/ard-anomaly-XXXXXX");
    if (!mkdtemp(g_dir)) {
        return -1;
    }
    snprintf(g_ds, sizeof g_ds, "%s/ds", g_dir);
    snprintf(g_ds2, sizeof g_ds2, "%s/ds2048", g_dir);
    if (make_survey(g_ds, NULL, 500) != 0 || make_survey(g_ds2, "log2048", 60) != 0) {
        return -1;
    }
    return 0;
}

static int stage_teardown(void **state) {
    (void)state;
    if (g_dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0) {
            return -1;
        }
    }
    return 0;
}

static void small_options(ard_anomaly_options *o, const char *run, int threads) {
    ard_anomaly_options_init(o);
    o->dataset = g_ds;
    o->run = run;
    o->arch.hidden = 64;
    o->arch.embed = 8;
    o->arch.latent = 6;
    o->epochs = 6;
    o->batch_size = 32;
    o->lr = 2e-3f;
    o->reference = 200;
    o->threads = threads;
    o->loader_threads = threads;
}

static void assert_same_model(const char *a, const char *b) {
    ard_nn_params *pa = NULL, *pb = NULL;
    assert_int_equal(ard_nn_load_safetensors(a, &pa, NULL), ARD_OK);
    assert_int_equal(ard_nn_load_safetensors(b, &pb, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_count(pa), ard_nn_params_count(pb));
    for (int64_t t = 0; t < ard_nn_params_count(pa); t++) {
        ard_nn_tensor *x = ard_nn_params_at(pa, t), *y = ard_nn_params_at(pb, t);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->count, y->count);
        assert_memory_equal(x->value, y->value, (size_t)x->count * sizeof(float));
    }
    assert_string_equal(ard_nn_params_get_meta(pa, "ard.anomaly.mu_chi2"),
                        ard_nn_params_get_meta(pb, "ard.anomaly.mu_chi2"));
    ard_nn_params_free(pa);
    ard_nn_params_free(pb);
}

typedef struct rows_ctx {
    int64_t n;
    int64_t tid[4096], rank[4096];
    double score[4096];
} rows_ctx;

static int on_row(void *ctx, int32_t n, const char *const *names, const char *const *values) {
    (void)names;
    rows_ctx *r = ctx;
    if (n < 3 || r->n >= 4096) {
        return 1;
    }
    r->tid[r->n] = strtoll(values[0], NULL, 10);
    r->rank[r->n] = strtoll(values[1], NULL, 10);
    r->score[r->n] = values[2] ? strtod(values[2], NULL) : NAN;
    r->n++;
    return 0;
}

/* ANOMALY_CODE of every TARGETID from the truth table (sorted pairs). */
static int64_t load_truth(int64_t **ids, int32_t **codes) {
    char path[400];
    snprintf(path, sizeof path, "%s/truth/galaxies-0000.parquet", g_ds);
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pq, NULL), ARD_OK);
    int64_t n = 0;
    *ids = NULL;
    *codes = NULL;
    for (int32_t rg = 0; rg < ard_parquet_metadata(pq)->num_row_groups; rg++) {
        ard_pq_column_data a = {0}, b = {0};
        assert_int_equal(
            ard_parquet_read_column(pq, rg, ard_parquet_find_leaf(pq, "TARGETID"), &a, NULL),
            ARD_OK);
        assert_int_equal(
            ard_parquet_read_column(pq, rg, ard_parquet_find_leaf(pq, "ANOMALY_CODE"), &b, NULL),
            ARD_OK);
        *ids = realloc(*ids, (size_t)(n + a.num_values) * 8);
        *codes = realloc(*codes, (size_t)(n + a.num_values) * 4);
        memcpy(*ids + n, a.values, (size_t)a.num_values * 8);
        memcpy(*codes + n, b.values, (size_t)a.num_values * 4);
        n += a.num_values;
        ard_pq_column_data_reset(&a);
        ard_pq_column_data_reset(&b);
    }
    ard_parquet_close(pq);
    return n;
}

static int32_t code_of(const int64_t *ids, const int32_t *codes, int64_t n, int64_t tid) {
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] == tid) {
            return codes[i];
        }
    }
    return -1;
}

static void test_stage(void **state) {
    (void)state;
    if (!ard_nn_available()) {
        skip();
    }
    ard_anomaly_options o;
    ard_anomaly_report r1, r2;
    ard_error e;
    ard_error_init(&e);
    /* determinism: 1 thread vs 2 (compute and producers) */
    small_options(&o, "one", 1);
    assert_int_equal(ard_anomaly_train(&o, &r1, &e), ARD_OK);
    small_options(&o, "two", 2);
    assert_int_equal(ard_anomaly_train(&o, &r2, &e), ARD_OK);
    assert_same_model(r1.model_path, r2.model_path);
    assert_true(r1.final_loss < r1.first_loss);
    assert_int_equal(r1.spectra, 500);
    /* score and compare with the truth */
    small_options(&o, "one", 2);
    o.score_run = "one-s";
    ard_anomaly_report s;
    assert_int_equal(ard_anomaly_score(&o, &s, &e), ARD_OK);
    assert_int_equal(s.spectra, 500);
    assert_string_equal(s.score_run, "one-s");
    assert_int_equal(access(s.scores_path, R_OK), 0);
    assert_non_null(strstr(s.scores_path, "results/anomaly-one-s-scores.parquet"));
    /* the same score run id again is refused (result runs are never overwritten) */
    ard_anomaly_report again;
    assert_int_equal(ard_anomaly_score(&o, &again, NULL), ARD_EEXIST);
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(g_ds, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    rows_ctx *rows = calloc(1, sizeof *rows);
    assert_int_equal(ard_index_select(idx,
                                      "SELECT targetid, rank, score FROM anomalies WHERE run_id = "
                                      "'one-s' ORDER BY rank",
                                      on_row, rows, NULL),
                     ARD_OK);
    ard_index_close(idx);
    assert_int_equal(rows->n, 500);
    int64_t *ids = NULL;
    int32_t *codes = NULL;
    int64_t nt = load_truth(&ids, &codes);
    int64_t anomalous = 0, hits = 0;
    for (int64_t i = 0; i < rows->n; i++) {
        assert_int_equal(rows->rank[i], i + 1);
        assert_true(i == 0 || !(rows->score[i] > rows->score[i - 1]));
        anomalous += code_of(ids, codes, nt, rows->tid[i]) > 0;
    }
    for (int64_t i = 0; i < anomalous; i++) {
        hits += code_of(ids, codes, nt, rows->tid[i]) > 0;
    }
    double base = (double)anomalous / (double)rows->n, prec = (double)hits / (double)anomalous;
    fprintf(stderr, "anomaly: precision@%lld = %.3f (random %.3f)\n", (long long)anomalous, prec,
            base);
    int64_t top10 = 0;
    for (int64_t i = 0; i < 10; i++) {
        top10 += code_of(ids, codes, nt, rows->tid[i]) > 0;
    }
    fprintf(stderr, "anomaly: precision@10 = %.2f\n", (double)top10 / 10.0);
    assert_true(anomalous >= 30);
    assert_true(prec >= 2.0 * base); /* unconditioned: wrong_class / redshift_blunder look normal */
    assert_true(top10 >= 6);
    /* the scores Parquet file agrees with the table: same TARGETID at rank 1 and the same score */
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(s.scores_path, NULL, &pq, NULL), ARD_OK);
    ard_pq_column_data ct = {0}, cs = {0}, cr = {0};
    assert_int_equal(
        ard_parquet_read_column(pq, 0, ard_parquet_find_leaf(pq, "TARGETID"), &ct, NULL), ARD_OK);
    assert_int_equal(ard_parquet_read_column(pq, 0, ard_parquet_find_leaf(pq, "SCORE"), &cs, NULL),
                     ARD_OK);
    assert_int_equal(ard_parquet_read_column(pq, 0, ard_parquet_find_leaf(pq, "RANK"), &cr, NULL),
                     ARD_OK);
    assert_true(ard_parquet_find_leaf(pq, "LATENT_5") >= 0);
    int64_t matched = 0;
    for (int64_t i = 0; i < ct.num_values; i++) {
        int64_t rk = ((const int64_t *)cr.values)[i];
        assert_true(rk >= 1 && rk <= rows->n);
        assert_int_equal(((const int64_t *)ct.values)[i], rows->tid[rk - 1]);
        double sc = ((const double *)cs.values)[i]; /* NaN scores are NULL in the table */
        matched += sc == rows->score[rk - 1] || fabs(sc - rows->score[rk - 1]) < 1e-12;
    }
    assert_int_equal(matched, 500);
    ard_pq_column_data_reset(&ct);
    ard_pq_column_data_reset(&cs);
    ard_pq_column_data_reset(&cr);
    ard_parquet_close(pq);
    free(ids);
    free(codes);
    free(rows);

    /* bad input: a model of another grid */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/models' && cp '%s' '%s/models/anomaly-one.safetensors'",
             g_ds2, r1.model_path, g_ds2);
    assert_int_equal(system(cmd), 0);
    small_options(&o, "one", 1);
    o.dataset = g_ds2;
    ard_error_init(&e);
    assert_int_equal(ard_anomaly_score(&o, &s, &e), ARD_EINVAL);
    assert_non_null(strstr(e.msg, "another grid"));
    /* a truncated model file */
    snprintf(cmd, sizeof cmd, "head -c 3000 '%s' > '%s/models/anomaly-trunc.safetensors'",
             r1.model_path, g_ds);
    assert_int_equal(system(cmd), 0);
    small_options(&o, "trunc", 1);
    ard_error_init(&e);
    assert_int_equal(ard_anomaly_score(&o, &s, &e), ARD_ECORRUPT);
    assert_non_null(strstr(e.msg, "anomaly-trunc.safetensors"));
    /* an empty selection */
    small_options(&o, "empty", 1);
    o.where = "z > 100";
    ard_error_init(&e);
    assert_int_equal(ard_anomaly_train(&o, &s, &e), ARD_EINVAL);
    /* a missing model */
    small_options(&o, "nosuchrun", 1);
    assert_int_equal(ard_anomaly_score(&o, &s, NULL), ARD_ENOENT);
}

/* Sharded scoring without MPI: two `--rank R --size 2` parts merged into one run agree with the
 * one-process run 'one-s' of test_stage (same model "one"): the same spectra, the same scores to
 * float rounding, ranks 1..500 in the index table. Bad input: a missing part, size 1, a part merged
 * twice (duplicate TARGETIDs). */
static void test_score_merge(void **state) {
    (void)state;
    if (!ard_nn_available()) {
        skip();
    }
    ard_anomaly_options o;
    ard_anomaly_report s;
    ard_error e;
    ard_error_init(&e);
    /* the table holds the newest scoring run: read 'one-s' before the merge replaces it */
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(g_ds, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    rows_ctx *one = calloc(1, sizeof *one), *sh = calloc(1, sizeof *sh);
    assert_int_equal(ard_index_select(idx,
                                      "SELECT targetid, rank, score FROM anomalies WHERE run_id = "
                                      "'one-s' ORDER BY targetid",
                                      on_row, one, NULL),
                     ARD_OK);
    ard_index_close(idx);
    assert_int_equal(one->n, 500);
    for (int32_t rank = 0; rank < 2; rank++) {
        small_options(&o, "one", 2);
        o.score_run = "sh";
        o.rank = rank;
        o.size = 2;
        assert_int_equal(ard_anomaly_score(&o, &s, &e), ARD_OK);
        assert_true(s.spectra > 0 && s.spectra < 500);
    }
    small_options(&o, NULL, 1);
    o.run = "one";
    o.score_run = "sh";
    o.size = 3; /* part 2 does not exist */
    ard_error_init(&e);
    assert_int_equal(ard_anomaly_merge(&o, &s, &e), ARD_ENOENT);
    assert_non_null(strstr(e.msg, "anomaly-sh-part-2-scores.parquet"));
    o.size = 1;
    assert_int_equal(ard_anomaly_merge(&o, &s, NULL), ARD_EINVAL);
    o.size = 2;
    ard_error_init(&e);
    assert_int_equal(ard_anomaly_merge(&o, &s, &e), ARD_OK);
    assert_int_equal(s.spectra, 500);
    assert_string_equal(s.score_run, "sh");
    assert_non_null(strstr(s.scores_path, "results/anomaly-sh-scores.parquet"));
    assert_int_equal(ard_anomaly_merge(&o, &s, NULL), ARD_EEXIST); /* run ids are never reused */
    assert_int_equal(ard_index_open(g_ds, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    assert_int_equal(ard_index_select(idx,
                                      "SELECT targetid, rank, score FROM anomalies WHERE run_id = "
                                      "'sh' ORDER BY targetid",
                                      on_row, sh, NULL),
                     ARD_OK);
    ard_index_close(idx);
    assert_int_equal(sh->n, 500);
    int64_t rank_sum = 0, same_rank = 0;
    for (int64_t i = 0; i < 500; i++) {
        assert_int_equal(sh->tid[i], one->tid[i]);
        assert_true((isnan(sh->score[i]) && isnan(one->score[i])) ||
                    fabs(sh->score[i] - one->score[i]) <= 1e-4 * (1.0 + fabs(one->score[i])));
        rank_sum += sh->rank[i];
        same_rank += sh->rank[i] == one->rank[i];
    }
    assert_int_equal(rank_sum, 500 * 501 / 2); /* ranks 1..500, each once */
    assert_true(same_rank >= 490);             /* only near-ties may swap */
    /* the same part twice: every TARGETID of it twice */
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cp '%s/results/anomaly-sh-part-0-scores.parquet' "
             "'%s/results/anomaly-dup-part-0-scores.parquet' && cp "
             "'%s/results/anomaly-sh-part-0-scores.parquet' "
             "'%s/results/anomaly-dup-part-1-scores.parquet'",
             g_ds, g_ds, g_ds, g_ds);
    assert_int_equal(system(cmd), 0);
    o.score_run = "dup";
    ard_error_init(&e);
    assert_int_equal(ard_anomaly_merge(&o, &s, &e), ARD_EINVAL);
    assert_non_null(strstr(e.msg, "in two parts"));
    free(one);
    free(sh);
}

int sci_run_anomaly_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_fd),
        cmocka_unit_test(test_forward_bad_input),
        cmocka_unit_test(test_train_step),
        cmocka_unit_test(test_stage), /* trains model "one", used by test_score_merge */
        cmocka_unit_test(test_score_merge),
    };
    return cmocka_run_group_tests_name("anomaly", tests, stage_setup, stage_teardown);
}
