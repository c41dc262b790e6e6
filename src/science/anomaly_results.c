/* Where the anomaly stage's results go, in one file so it can be re-pointed at the index's result-run
 * API when that lands: DATASET/results/anomaly-RUN-scores.parquet (written to a temporary name and
 * renamed into place), then the index table `anomalies` (replaced in one transaction) and a row of
 * `anomaly_runs`. */
#include "science_int.h"

#include "ard/index.h"
#include "ard/parquet_write.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static ard_status ensure_dir(const char *dataset, const char *sub, char *out, size_t cap,
                             ard_error *err) {
    int len = snprintf(out, cap, "%s/%s", dataset, sub);
    if (len < 0 || (size_t)len >= cap) {
        return ard_error_set(err, ARD_EINVAL, "anomaly: dataset path too long");
    }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        return ard_error_set_errno(err, ARD_EIO, errno, "anomaly: cannot create %s", out);
    }
    return ARD_OK;
}

ard_status ard__anomaly_model_path(const char *dataset, const char *run, char *out, size_t cap,
                                   ard_error *err) {
    char dir[3072];
    ard_status st = ensure_dir(dataset, "models", dir, sizeof dir, err);
    int len = st == ARD_OK ? snprintf(out, cap, "%s/anomaly-%s.safetensors", dir, run) : 0;
    if (st == ARD_OK && (len < 0 || (size_t)len >= cap)) {
        st = ard_error_set(err, ARD_EINVAL, "anomaly: model path too long");
    }
    return st;
}

static ard_status write_parquet(const char *path, const char *run, const char *params,
                                const ard__anomaly_rows *r, const int64_t *rank, ard_error *err) {
    ard_pq_schema_builder *sb = NULL;
    ard_pq_writer *w = NULL;
    ard_status st = ard_pq_schema_new(&sb, err);
    static const char *names[5] = {"TARGETID", "SCORE", "CHI2", "DENSITY", "RANK"};
    static const ard_pq_type types[5] = {ARD_PQ_INT64, ARD_PQ_DOUBLE, ARD_PQ_DOUBLE, ARD_PQ_DOUBLE,
                                         ARD_PQ_INT64};
    for (int c = 0; st == ARD_OK && c < 5 + r->latent; c++) {
        char name[32];
        snprintf(name, sizeof name, "LATENT_%d", c - 5);
        int32_t col =
            ard_pq_schema_add_column(sb, c < 5 ? names[c] : name, c < 5 ? types[c] : ARD_PQ_FLOAT,
                                     ARD_PQ_REQUIRED, NULL, 0, err);
        if (col < 0) {
            st = err && err->code != ARD_OK ? err->code : ARD_EINVAL;
        }
    }
    const char *keys[] = {"ard.anomaly.run_id", "ard.anomaly.params"};
    const char *vals[] = {run, params};
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = ARD_PQ_ZSTD;
    o.num_kv = 2;
    o.kv_keys = keys;
    o.kv_values = vals;
    o.rows_per_row_group = 1 << 20;
    if (st == ARD_OK) {
        st = ard_pq_writer_open(path, sb, &o, &w, err);
    }
    ard_pq_schema_free(sb);
    float *lat = ard_malloc((size_t)(r->n > 0 ? r->n : 1) * sizeof(float));
    if (st == ARD_OK && !lat) {
        st = ard_error_set(err, ARD_ENOMEM, "anomaly: latent column");
    }
    const int64_t chunk = (int64_t)1 << 20;
    for (int64_t at = 0; st == ARD_OK && at < r->n; at += chunk) {
        int64_t len = r->n - at < chunk ? r->n - at : chunk;
        const void *cols[5] = {r->targetid + at, r->score + at, r->chi2 + at, r->density + at,
                               rank + at};
        for (int c = 0; st == ARD_OK && c < 5; c++) {
            st = ard_pq_writer_write_column(w, c, cols[c], NULL, len, err);
        }
        for (int32_t k = 0; st == ARD_OK && k < r->latent; k++) {
            for (int64_t i = 0; i < len; i++) {
                lat[i] = r->z[(at + i) * r->latent + k];
            }
            st = ard_pq_writer_write_column(w, 5 + k, lat, NULL, len, err);
        }
    }
    ard_free(lat);
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        return st;
    }
    return ard_pq_writer_close(w, err);
}

static ard_status write_anomalies_table(const ard_anomaly_options *o, const char *run,
                                        const ard__anomaly_rows *r, const int64_t *rank,
                                        ard_error *err) {
    ard_index *idx = NULL;
    ard_status st = ard_index_open(o->dataset, o->dsn, 0, &idx, err);
    const char **runs = ard_malloc((size_t)(r->n > 0 ? r->n : 1) * sizeof *runs);
    if (st == ARD_OK && !runs) {
        st = ard_error_set(err, ARD_ENOMEM, "anomaly: run column");
    }
    for (int64_t i = 0; st == ARD_OK && i < r->n; i++) {
        runs[i] = run;
    }
    if (st == ARD_OK) {
        ard_index_column cols[6] = {{"targetid", ARD_INDEX_INT64, r->targetid, NULL},
                                    {"score", ARD_INDEX_DOUBLE, r->score, NULL},
                                    {"chi2", ARD_INDEX_DOUBLE, r->chi2, NULL},
                                    {"density", ARD_INDEX_DOUBLE, r->density, NULL},
                                    {"rank", ARD_INDEX_INT64, rank, NULL},
                                    {"run_id", ARD_INDEX_TEXT, runs, NULL}};
        st = ard_index_write_table(idx, "anomalies", cols, 6, r->n, ARD_INDEX_REPLACE, err);
    }
    ard_free(runs);
    ard_index_close(idx);
    return st;
}

ard_status ard__anomaly_record_run(const ard_anomaly_options *o, const char *run, const char *kind,
                                   const char *params_json, int64_t spectra, ard_error *err) {
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *run_v[1] = {run}, *kind_v[1] = {kind}, *created_v[1] = {created},
               *params_v[1] = {params_json};
    int64_t n_v[1] = {spectra};
    ard_index_column cols[5] = {{"run_id", ARD_INDEX_TEXT, run_v, NULL},
                                {"kind", ARD_INDEX_TEXT, kind_v, NULL},
                                {"created", ARD_INDEX_TEXT, created_v, NULL},
                                {"params", ARD_INDEX_TEXT, params_v, NULL},
                                {"spectra", ARD_INDEX_INT64, n_v, NULL}};
    ard_index *idx = NULL;
    ard_status st = ard_index_open(o->dataset, o->dsn, 0, &idx, err);
    if (st == ARD_OK) {
        st = ard_index_write_table(idx, "anomaly_runs", cols, 5, 1, ARD_INDEX_APPEND, err);
    }
    ard_index_close(idx);
    return st;
}

ard_status ard__anomaly_write_results(const ard_anomaly_options *o, const char *run,
                                      const char *params_json, ard__anomaly_rows *r, int with_index,
                                      char *scores_path, size_t cap, ard_error *err) {
    char dir[3072];
    ard_status st = ensure_dir(o->dataset, "results", dir, sizeof dir, err);
    if (st != ARD_OK) {
        return st;
    }
    int len = o->size > 1 ? snprintf(scores_path, cap, "%s/anomaly-%s-scores-part-%d.parquet", dir,
                                     run, o->rank)
                          : snprintf(scores_path, cap, "%s/anomaly-%s-scores.parquet", dir, run);
    if (len < 0 || (size_t)len >= cap) {
        return ard_error_set(err, ARD_EINVAL, "anomaly: results path too long");
    }
    /* rank: 1 = highest score; NaN scores (no valid pixel) last */
    int64_t *order = ard_malloc((size_t)(r->n + 1) * sizeof *order);
    int64_t *rank = ard_malloc((size_t)(r->n + 1) * sizeof *rank);
    if (!order || !rank) {
        ard_free(order);
        ard_free(rank);
        return ard_error_set(err, ARD_ENOMEM, "anomaly: ranks");
    }
    ard__anomaly_order(r->score, r->targetid, r->n, order);
    for (int64_t i = 0; i < r->n; i++) {
        rank[order[i]] = i + 1;
    }
    ard_free(order);
    st = write_parquet(scores_path, run, params_json, r, rank, err);
    if (st == ARD_OK && with_index) {
        st = write_anomalies_table(o, run, r, rank, err);
    }
    ard_free(rank);
    return st;
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
