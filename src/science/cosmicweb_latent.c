/* The anomaly stage's latents as cosmic-web node features (multi-modal: spectra + positions): an
 * anomaly score run's results/anomaly-RUN-scores.parquet (TARGETID, LATENT_0..S-1) matched to the
 * selected galaxies by TARGETID, read with the dataset module's reader. */
#include "science_int.h"

#include "ard/dataset.h"
#include "ard/index.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ard__cw_latent_reset(cw_latent *l) {
    ard_free(l->values);
    ard_free(l->has);
    memset(l, 0, sizeof *l);
}

/* LATENT_0 .. LATENT_S-1 present in the file: S (0 when LATENT_0 is missing). */
static int32_t latent_columns(const ard_tile *f) {
    int32_t s = 0;
    char name[32];
    for (; s <= ARD_COSMICWEB_LATENT_MAX; s++) {
        snprintf(name, sizeof name, "LATENT_%d", (int)s);
        if (ard_tile_column_kind(f, name) == ARD_TILE_MISSING) {
            break;
        }
    }
    return s;
}

typedef struct tid_row {
    int64_t tid, row;
} tid_row;

typedef struct cw_latent_file {
    int64_t rows;
    int32_t dim;
    int64_t *tid;
    double *v;      /* rows x dim */
    tid_row *order; /* (TARGETID, row) sorted by TARGETID */
} cw_latent_file;

static void file_reset(cw_latent_file *lf) {
    ard_free(lf->tid);
    ard_free(lf->v);
    ard_free(lf->order);
}

static ard_status read_row_group(const ard_tile *f, int32_t rg, int64_t at, cw_latent_file *lf,
                                 double *col, ard_error *err) {
    int64_t got = ard_tile_row_group_rows(f, rg);
    ard_status st = ard_tile_read_int64(f, rg, "TARGETID", 0, got, lf->tid + at, err);
    char name[32];
    for (int32_t j = 0; st == ARD_OK && j < lf->dim; j++) {
        snprintf(name, sizeof name, "LATENT_%d", (int)j);
        st = ard_tile_read_double(f, rg, name, col, err);
        for (int64_t i = 0; st == ARD_OK && i < got; i++) {
            lf->v[(at + i) * lf->dim + j] = col[i];
        }
    }
    return st;
}

static ard_status read_file(const char *path, cw_latent_file *lf, ard_error *err) {
    memset(lf, 0, sizeof *lf);
    ard_tile *f = NULL;
    ard_status st = ard_tile_open(path, &f, err);
    int64_t most = 1;
    for (int32_t rg = 0; st == ARD_OK && rg < ard_tile_num_row_groups(f); rg++) {
        int64_t rows = ard_tile_row_group_rows(f, rg);
        lf->rows += rows;
        most = rows > most ? rows : most;
    }
    if (st == ARD_OK) {
        lf->dim = latent_columns(f);
        if (lf->dim == 0 || ard_tile_column_kind(f, "TARGETID") == ARD_TILE_MISSING) {
            st = ard_error_set(err, ARD_ECORRUPT,
                               "%s: not an anomaly scores file (no TARGETID or LATENT_0 column)",
                               path);
        } else if (lf->dim > ARD_COSMICWEB_LATENT_MAX) {
            st = ard_error_set(err, ARD_EINVAL, "%s: more than %d latents (LATENT_%d exists)", path,
                               ARD_COSMICWEB_LATENT_MAX, ARD_COSMICWEB_LATENT_MAX);
        }
    }
    size_t rows = (size_t)(lf->rows > 0 ? lf->rows : 1);
    double *col = NULL;
    if (st == ARD_OK) {
        lf->tid = ard_malloc(rows * sizeof *lf->tid);
        lf->v = ard_malloc(rows * (size_t)lf->dim * sizeof *lf->v);
        lf->order = ard_malloc(rows * sizeof *lf->order);
        col = ard_malloc((size_t)most * sizeof *col);
        if (!lf->tid || !lf->v || !lf->order || !col) {
            st = ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory reading %s", path);
        }
    }
    int64_t at = 0;
    for (int32_t rg = 0; st == ARD_OK && rg < ard_tile_num_row_groups(f); rg++) {
        st = read_row_group(f, rg, at, lf, col, err);
        at += ard_tile_row_group_rows(f, rg);
    }
    ard_free(col);
    ard_tile_close(f);
    return st;
}

static int cmp_tid_row(const void *a, const void *b) {
    int64_t x = ((const tid_row *)a)->tid, y = ((const tid_row *)b)->tid;
    return (x > y) - (x < y);
}

/* The row of lf holding TARGETID tid, or -1 (lf->order sorted). */
static int64_t find_row(const cw_latent_file *lf, int64_t tid) {
    int64_t lo = 0, hi = lf->rows;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (lf->order[mid].tid < tid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < lf->rows && lf->order[lo].tid == tid ? lf->order[lo].row : -1;
}

/* Fills out (n galaxies) from the file's rows; a non-finite latent counts as none. */
static ard_status match(const cw_latent_file *lf, const int64_t *targetid, int64_t n,
                        cw_latent *out, ard_error *err) {
    out->dim = lf->dim;
    out->values = ard_calloc((size_t)(n > 0 ? n : 1) * (size_t)lf->dim, sizeof *out->values);
    out->has = ard_calloc((size_t)(n > 0 ? n : 1), sizeof *out->has);
    if (!out->values || !out->has) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for latents");
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t row = find_row(lf, targetid[i]);
        int finite = row >= 0;
        for (int32_t j = 0; finite && j < lf->dim; j++) {
            finite = isfinite(lf->v[row * lf->dim + j]);
        }
        if (!finite) {
            continue;
        }
        for (int32_t j = 0; j < lf->dim; j++) {
            out->values[i * lf->dim + j] = (float)lf->v[row * lf->dim + j];
        }
        out->has[i] = 1;
        out->with++;
    }
    return ARD_OK;
}

ard_status ard__cw_latent_load(const char *dataset, const char *run, const int64_t *targetid,
                               int64_t n, cw_latent *out, ard_error *err) {
    memset(out, 0, sizeof *out);
    if (!ard_result_run_id_valid(run)) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: --latent takes an anomaly score run id, not '%s'", run);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/results/anomaly-%s-scores.parquet", dataset, run);
    if (access(path, F_OK) != 0) {
        return ard_error_set(err, ARD_ENOENT,
                             "cosmicweb: no anomaly score run '%s' (%s is missing; run 'ard "
                             "anomaly score' first)",
                             run, path);
    }
    cw_latent_file lf;
    ard_status st = read_file(path, &lf, err);
    if (st == ARD_OK) {
        for (int64_t i = 0; i < lf.rows; i++) {
            lf.order[i] = (tid_row){lf.tid[i], i};
        }
        qsort(lf.order, (size_t)lf.rows, sizeof *lf.order, cmp_tid_row);
        st = match(&lf, targetid, n, out, err);
    }
    file_reset(&lf);
    if (st != ARD_OK) {
        ard__cw_latent_reset(out);
    }
    return st;
}
