/* Where the anomaly stage's results go, through the index's result-run API (all or nothing):
 *   score run: results/anomaly-RUN-scores.parquet (TARGETID, SCORE, CHI2, DENSITY, RANK,
 *              LATENT_0..S-1) and results/anomaly-RUN-anomalies.parquet loaded into the index table
 *              `anomalies` (targetid, score, chi2, density, rank, run_id), one anomaly_runs row;
 *   train run: results/anomaly-RUN-training.parquet (EPOCH, LOSS), one anomaly_runs row (the model
 *              itself is models/anomaly-RUN.safetensors, written before the run commits). */
#include "science_int.h"

#include "ard/index.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

ard_status ard__anomaly_model_path(const char *dataset, const char *run, char *out, size_t cap,
                                   ard_error *err) {
    char dir[3072];
    int len = snprintf(dir, sizeof dir, "%s/models", dataset);
    if (len < 0 || (size_t)len >= sizeof dir) {
        return ard_error_set(err, ARD_EINVAL, "anomaly: dataset path too long");
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        return ard_error_set_errno(err, ARD_EIO, errno, "anomaly: cannot create %s", dir);
    }
    len = snprintf(out, cap, "%s/anomaly-%s.safetensors", dir, run);
    if (len < 0 || (size_t)len >= cap) {
        return ard_error_set(err, ARD_EINVAL, "anomaly: model path too long");
    }
    return ARD_OK;
}

/* Opens the index (writable) unless the run is Parquet-only. */
static ard_status begin(const ard_anomaly_options *o, int with_index, const char *run_id,
                        const char *params_json, ard_index **idx, ard_result_run **rr,
                        ard_error *err) {
    *idx = NULL;
    *rr = NULL;
    ard_status st = with_index ? ard_index_open(o->dataset, o->dsn, 0, idx, err) : ARD_OK;
    if (st == ARD_OK) {
        st = ard_result_run_begin(*idx, o->dataset, "anomaly", run_id, params_json, rr, err);
    }
    if (st != ARD_OK) {
        ard_index_close(*idx);
        *idx = NULL;
    }
    return st;
}

static ard_status finish(ard_index *idx, ard_result_run *rr, ard_status st, ard_error *err) {
    if (st == ARD_OK) {
        st = ard_result_run_commit(rr, err);
    } else {
        ard_result_run_abort(rr);
    }
    ard_index_close(idx);
    return st;
}

ard_status ard__anomaly_record_training(const ard_anomaly_options *o, const char *run,
                                        const char *params_json, const double *loss, int32_t epochs,
                                        int64_t spectra, ard_error *err) {
    ard_index *idx = NULL;
    ard_result_run *rr = NULL;
    ard_status st = begin(o, 1, run, params_json, &idx, &rr, err);
    if (st != ARD_OK) {
        return st;
    }
    int64_t ep[1024];
    int32_t n = epochs < 1024 ? epochs : 1024;
    for (int32_t e = 0; e < n; e++) {
        ep[e] = e;
    }
    ard_index_column cols[2] = {{"EPOCH", ARD_INDEX_INT64, ep, NULL},
                                {"LOSS", ARD_INDEX_DOUBLE, loss, NULL}};
    char summary[160];
    snprintf(summary, sizeof summary, "{\"kind\":\"train\",\"spectra\":%lld,\"epochs\":%d}",
             (long long)spectra, epochs);
    st = ard_result_run_set_summary(rr, summary, err);
    if (st == ARD_OK) {
        st = ard_result_run_add_table(rr, "training", cols, 2, n, NULL, err);
    }
    return finish(idx, rr, st, err);
}

ard_status ard__anomaly_write_results(const ard_anomaly_options *o, const char *model_run,
                                      const char *params_json, ard__anomaly_rows *r, int with_index,
                                      char *score_run, size_t run_cap, char *scores_path,
                                      size_t cap, ard_error *err) {
    /* rank: 1 = highest score; NaN scores (no valid pixel) last */
    size_t rows = (size_t)(r->n > 0 ? r->n : 1);
    int64_t *order = ard_malloc(rows * sizeof *order), *rank = ard_malloc(rows * sizeof *rank);
    double *lat = ard_malloc(rows * (size_t)r->latent * sizeof *lat);
    if (!order || !rank || !lat) {
        ard_free(order);
        ard_free(rank);
        ard_free(lat);
        return ard_error_set(err, ARD_ENOMEM, "anomaly: result columns");
    }
    ard__anomaly_order(r->score, r->targetid, r->n, order);
    for (int64_t i = 0; i < r->n; i++) {
        rank[order[i]] = i + 1;
    }
    ard_free(order);
    for (int32_t k = 0; k < r->latent; k++) {
        for (int64_t i = 0; i < r->n; i++) {
            lat[(size_t)k * rows + (size_t)i] = r->z[i * r->latent + k];
        }
    }
    char id[96];
    if (o->score_run) {
        snprintf(id, sizeof id, "%s", o->score_run);
    } else {
        id[0] = '\0'; /* the API's UTC timestamp */
    }
    if (o->size > 1) {
        size_t len = strlen(id);
        snprintf(id + len, sizeof id - len, "%spart-%d", len ? "-" : "", o->rank);
    }
    ard_index *idx = NULL;
    ard_result_run *rr = NULL;
    ard_status st = begin(o, with_index, id[0] ? id : NULL, params_json, &idx, &rr, err);
    if (st != ARD_OK) {
        ard_free(rank);
        ard_free(lat);
        return st;
    }
    snprintf(score_run, run_cap, "%s", ard_result_run_id(rr));
    snprintf(scores_path, cap, "%s/results/anomaly-%s-scores.parquet", o->dataset, score_run);
    ard_result_run_hash_input(rr, model_run, strlen(model_run));
    ard_result_run_hash_input(rr, r->targetid, (size_t)r->n * sizeof *r->targetid);
    static const char *const names[5] = {"TARGETID", "SCORE", "CHI2", "DENSITY", "RANK"};
    const void *vals[5] = {r->targetid, r->score, r->chi2, r->density, rank};
    ard_index_column *cols = ard_calloc((size_t)(5 + r->latent), sizeof *cols);
    char(*latent_names)[24] = ard_calloc((size_t)r->latent + 1, sizeof *latent_names);
    if (!cols || !latent_names) {
        st = ard_error_set(err, ARD_ENOMEM, "anomaly: result columns");
    }
    for (int32_t c = 0; st == ARD_OK && c < 5 + r->latent; c++) {
        if (c < 5) {
            cols[c] = (ard_index_column){
                names[c], c == 0 || c == 4 ? ARD_INDEX_INT64 : ARD_INDEX_DOUBLE, vals[c], NULL};
        } else {
            snprintf(latent_names[c - 5], sizeof latent_names[c - 5], "LATENT_%d", c - 5);
            cols[c] = (ard_index_column){latent_names[c - 5], ARD_INDEX_DOUBLE,
                                         lat + (size_t)(c - 5) * rows, NULL};
        }
    }
    char summary[256];
    snprintf(summary, sizeof summary, "{\"kind\":\"score\",\"model_run\":\"%s\",\"spectra\":%lld}",
             model_run, (long long)r->n);
    if (st == ARD_OK) {
        st = ard_result_run_set_summary(rr, summary, err);
    }
    if (st == ARD_OK) {
        st = ard_result_run_add_table(rr, "scores", cols, 5 + r->latent, r->n, NULL, err);
    }
    if (st == ARD_OK) { /* the index table, lower-case: targetid, score, chi2, density, rank */
        static const char *const lower[5] = {"targetid", "score", "chi2", "density", "rank"};
        for (int c = 0; c < 5; c++) {
            cols[c].name = lower[c];
        }
        st = ard_result_run_add_table(rr, "anomalies", cols, 5, r->n, "anomalies", err);
    }
    ard_free(cols);
    ard_free(latent_names);
    ard_free(rank);
    ard_free(lat);
    return finish(idx, rr, st, err);
}

ard_status ard_anomaly_top(const char *dataset, const char *dsn, int64_t k, ard_anomaly_row_fn fn,
                           void *ctx, ard_error *err) {
    if (!dataset || k < 1 || !fn) {
        return ard_error_set(err, ARD_EINVAL, "anomaly top: dataset, k >= 1 and a row callback");
    }
    ard_index *idx = NULL;
    ard_status st = ard_index_open(dataset, dsn, ARD_INDEX_READ_ONLY, &idx, err);
    if (st != ARD_OK) {
        return st;
    }
    char sql[768];
    snprintf(sql, sizeof sql,
             "SELECT a.rank, a.targetid, a.score, a.chi2, a.density, a.run_id, g.z, g.spectype, "
             "g.target_class, g.target_ra, g.target_dec FROM anomalies a LEFT JOIN galaxies g ON "
             "g.targetid = a.targetid WHERE a.rank <= %lld ORDER BY a.rank",
             (long long)k);
    st = ard_index_select(idx, sql, fn, ctx, err);
    ard_index_close(idx);
    return st;
}
