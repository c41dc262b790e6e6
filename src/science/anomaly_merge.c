/* Merging a sharded scoring run (ard_anomaly_merge): processes that scored parts of one selection
 * with (rank, size) and no gather callback each wrote a Parquet-only run
 * results/anomaly-ID-part-R-scores.parquet; this reads the parts back (in rank order), checks that
 * they are the parts of one selection (each TARGETID once, the model's latent size) and writes the
 * one run ID exactly as a single process writes it: ranks over all spectra, the index tables
 * anomalies and anomaly_runs, all or nothing. The mpirun path gathers the rows over MPI instead
 * (ard_cluster_anomaly_score); this is the path for shards run anywhere else (a batch queue). */
#include "science_int.h"

#include "ard/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MERGE_MAX_PARTS 65536

static double merge_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static ard_status rows_grow(ard__anomaly_rows *r, int64_t need, int64_t *cap, ard_error *err) {
    if (need <= *cap) {
        return ARD_OK;
    }
    int64_t ncap = *cap ? *cap : 1024;
    while (ncap < need) {
        ncap *= 2;
    }
    void **arrs[4] = {(void **)&r->targetid, (void **)&r->score, (void **)&r->chi2,
                      (void **)&r->density};
    for (int k = 0; k < 4; k++) {
        void *g = ard_realloc(*arrs[k], (size_t)ncap * 8);
        if (!g) {
            return ard_error_set(err, ARD_ENOMEM, "anomaly merge: %lld rows", (long long)need);
        }
        *arrs[k] = g;
    }
    float *z = ard_realloc(r->z, (size_t)(ncap * r->latent) * sizeof(float));
    if (!z) {
        return ard_error_set(err, ARD_ENOMEM, "anomaly merge: %lld latent rows", (long long)need);
    }
    r->z = z;
    *cap = ncap;
    return ARD_OK;
}

/* Appends row group rg of one part's scores file to r. */
static ard_status read_group(const ard_tile *t, int32_t rg, ard__anomaly_rows *r, int64_t *cap,
                             double *scratch, ard_error *err) {
    int64_t rows = ard_tile_row_group_rows(t, rg), at = r->n;
    ard_status st = rows_grow(r, at + rows, cap, err);
    if (st == ARD_OK) {
        st = ard_tile_read_int64(t, rg, "TARGETID", 0, rows, r->targetid + at, err);
    }
    if (st == ARD_OK) {
        st = ard_tile_read_double(t, rg, "SCORE", r->score + at, err);
    }
    if (st == ARD_OK) {
        st = ard_tile_read_double(t, rg, "CHI2", r->chi2 + at, err);
    }
    if (st == ARD_OK) {
        st = ard_tile_read_double(t, rg, "DENSITY", r->density + at, err);
    }
    for (int32_t k = 0; st == ARD_OK && k < r->latent; k++) {
        char name[24];
        snprintf(name, sizeof name, "LATENT_%d", k);
        st = ard_tile_read_double(t, rg, name, scratch, err);
        for (int64_t i = 0; st == ARD_OK && i < rows; i++) {
            r->z[(at + i) * r->latent + k] = (float)scratch[i];
        }
    }
    if (st == ARD_OK) {
        r->n = at + rows;
    }
    return st;
}

/* Appends one part's scores file to r (ARD_ENOENT naming the file when the part is missing). */
static ard_status read_part(const char *path, ard__anomaly_rows *r, int64_t *cap, ard_error *err) {
    ard_tile *t = NULL;
    ard_status st = ard_tile_open(path, &t, err);
    if (st != ARD_OK) {
        ard_error_prefix(err, "anomaly merge: part ");
        return st;
    }
    char extra[24];
    snprintf(extra, sizeof extra, "LATENT_%d", r->latent);
    if (ard_tile_column_kind(t, extra) != ARD_TILE_MISSING) {
        st = ard_error_set(err, ARD_EINVAL,
                           "anomaly merge: %s has more than the model's %d latent columns (a part "
                           "scored with another model)",
                           path, r->latent);
    }
    double *scratch = NULL;
    for (int32_t rg = 0; st == ARD_OK && rg < ard_tile_num_row_groups(t); rg++) {
        int64_t rows = ard_tile_row_group_rows(t, rg);
        ard_free(scratch);
        scratch = ard_malloc((size_t)(rows > 0 ? rows : 1) * sizeof *scratch);
        st = scratch ? read_group(t, rg, r, cap, scratch, err)
                     : ard_error_set(err, ARD_ENOMEM, "anomaly merge: %s", path);
    }
    ard_free(scratch);
    ard_tile_close(t);
    return st;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The parts of one selection hold each TARGETID once. */
static ard_status check_unique(const ard__anomaly_rows *r, ard_error *err) {
    int64_t *ids = ard_malloc((size_t)(r->n > 0 ? r->n : 1) * sizeof *ids);
    if (!ids) {
        return ard_error_set(err, ARD_ENOMEM, "anomaly merge: TARGETID check");
    }
    memcpy(ids, r->targetid, (size_t)r->n * sizeof *ids);
    qsort(ids, (size_t)r->n, sizeof *ids, cmp_i64);
    ard_status st = ARD_OK;
    for (int64_t i = 1; i < r->n && st == ARD_OK; i++) {
        if (ids[i] == ids[i - 1]) {
            st = ard_error_set(err, ARD_EINVAL,
                               "anomaly merge: TARGETID %lld is in two parts (parts of different "
                               "selections or runs?)",
                               (long long)ids[i]);
        }
    }
    ard_free(ids);
    return st;
}

static void fill_report(const ard__anomaly_rows *r, ard_anomaly_report *rep) {
    rep->spectra = r->n;
    int64_t *order = ard_malloc((size_t)(r->n + 1) * sizeof *order);
    if (!order || r->n == 0) {
        ard_free(order);
        return;
    }
    ard__anomaly_order(r->score, r->targetid, r->n, order);
    int64_t finite = 0;
    while (finite < r->n && isfinite(r->score[order[finite]])) {
        finite++;
    }
    if (finite > 0) {
        rep->score_max = r->score[order[0]];
        rep->score_p99 = r->score[order[finite / 100]];
        rep->score_median = r->score[order[finite / 2]];
    }
    ard_free(order);
}

static ard_status read_parts(const ard_anomaly_options *o, ard__anomaly_rows *r, ard_error *err) {
    int64_t cap = 0;
    ard_status st = ARD_OK;
    for (int32_t p = 0; st == ARD_OK && p < o->size; p++) {
        char path[4096];
        int len = snprintf(path, sizeof path, "%s/results/anomaly-%s-part-%d-scores.parquet",
                           o->dataset, o->score_run, p);
        st = len > 0 && (size_t)len < sizeof path
                 ? read_part(path, r, &cap, err)
                 : ard_error_set(err, ARD_EINVAL, "anomaly merge: path too long");
    }
    return st == ARD_OK ? check_unique(r, err) : st;
}

ard_status ard_anomaly_merge(const ard_anomaly_options *o, ard_anomaly_report *rep,
                             ard_error *err) {
    ard_anomaly_report local;
    rep = rep ? rep : &local;
    memset(rep, 0, sizeof *rep);
    if (!o || !o->dataset || !o->score_run || !o->score_run[0] || o->size < 2 ||
        o->size > MERGE_MAX_PARTS) {
        return ard_error_set(err, ARD_EINVAL,
                             "anomaly merge: needs the dataset, the sharded run's score_run id and "
                             "its number of parts (size 2..%d)",
                             MERGE_MAX_PARTS);
    }
    double t0 = merge_now();
    ard_status st = ARD_OK;
    if (o->run) {
        snprintf(rep->run, sizeof rep->run, "%s", o->run);
    } else {
        st = ard__anomaly_latest_run(o->dataset, rep->run, sizeof rep->run, err);
    }
    ard_anomaly_model *m = NULL;
    if (st == ARD_OK) {
        snprintf(rep->model_path, sizeof rep->model_path, "%s/models/anomaly-%s.safetensors",
                 o->dataset, rep->run);
        st = ard_anomaly_model_load(rep->model_path, 1, &m, err);
    }
    ard__anomaly_rows rows = {0};
    rows.latent = m ? m->a.latent : 0;
    if (st == ARD_OK) {
        st = read_parts(o, &rows, err);
    }
    ard_anomaly_options whole = *o; /* written as one process writes it */
    whole.rank = 0;
    whole.size = 1;
    whole.gather = NULL;
    ard_buf pj;
    ard_buf_init(&pj);
    if (st == ARD_OK) {
        ard__anomaly_params_json(&whole, m, &pj);
        st = pj.failed ? ard_error_set(err, ARD_ENOMEM, "anomaly merge: parameters") : ARD_OK;
    }
    if (st == ARD_OK) {
        st = ard__anomaly_write_results(&whole, rep->run, (const char *)pj.data, &rows, 1,
                                        rep->score_run, sizeof rep->score_run, rep->scores_path,
                                        sizeof rep->scores_path, err);
    }
    if (st == ARD_OK) {
        fill_report(&rows, rep);
        rep->seconds = merge_now() - t0;
        rep->spectra_per_second = rep->seconds > 0 ? (double)rows.n / rep->seconds : 0.0;
    }
    ard_buf_reset(&pj);
    ard_free(rows.targetid);
    ard_free(rows.score);
    ard_free(rows.chi2);
    ard_free(rows.density);
    ard_free(rows.z);
    ard_anomaly_model_free(m);
    return st;
}
