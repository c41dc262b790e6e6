/* Data movement for `ard fof`: loading the catalog (from the index with a predicate, or straight from
 * the catalog Parquet files when there is no index), loading the generator's truth for scoring, and
 * writing the result tables into the index. */
#include "cmd_fof.h"

#include "ard/index.h"
#include "ard/survey.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fof_catalog_reset(fof_catalog *c) {
    ard_free(c->ra);
    ard_free(c->dec);
    ard_free(c->z);
    ard_free(c->tid);
    memset(c, 0, sizeof *c);
}

static int grow(fof_catalog *c) {
    if (c->n < c->cap) {
        return 0;
    }
    int64_t cap = c->cap ? 2 * c->cap : 65536;
    double *ra = ard_realloc(c->ra, (size_t)cap * sizeof *ra);
    c->ra = ra ? ra : c->ra;
    double *dec = ard_realloc(c->dec, (size_t)cap * sizeof *dec);
    c->dec = dec ? dec : c->dec;
    double *z = ard_realloc(c->z, (size_t)cap * sizeof *z);
    c->z = z ? z : c->z;
    int64_t *tid = ard_realloc(c->tid, (size_t)cap * sizeof *tid);
    c->tid = tid ? tid : c->tid;
    if (!ra || !dec || !z || !tid) {
        return -1;
    }
    c->cap = cap;
    return 0;
}

ard_status fof_load_index(ard_index *idx, const char *where, fof_catalog *c, ard_error *err) {
    ard_buf pred;
    ard_buf_init(&pred);
    ard_buf_appendf(&pred, "z > 0%s%s%s", where ? " AND (" : "", where ? where : "",
                    where ? ")" : "");
    ard_buf_append(&pred, "", 1);
    if (pred.failed) {
        ard_buf_reset(&pred);
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    static const char *const cols[] = {"targetid", "target_ra", "target_dec", "z"};
    ard_column_set *set = NULL;
    ard_status st = ard_index_read_columns(idx, cols, 4, (const char *)pred.data, 0, &set, err);
    ard_buf_reset(&pred);
    int64_t rows = ard_column_set_num_rows(set);
    while (st == ARD_OK && c->cap < rows) {
        int64_t keep = c->n;
        c->n = c->cap;
        st = grow(c) == 0 ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
        c->n = keep;
    }
    for (int64_t r = 0; st == ARD_OK && r < rows; r++) {
        if (!ard_column_set_valid(set, 1, r) || !ard_column_set_valid(set, 2, r)) {
            c->skipped++; /* no coordinates: not a galaxy we can place */
            continue;
        }
        c->tid[c->n] = ((const int64_t *)ard_column_set_column(set, 0)->values)[r];
        c->ra[c->n] = ((const double *)ard_column_set_column(set, 1)->values)[r];
        c->dec[c->n] = ((const double *)ard_column_set_column(set, 2)->values)[r];
        c->z[c->n] = ((const double *)ard_column_set_column(set, 3)->values)[r];
        c->n++;
    }
    ard_column_set_free(set);
    return st;
}

/* Reads int64 / double leaf `name` of row group rg into dst (num_rows values, no nulls). */
static ard_status read_leaf(const ard_parquet_file *f, int32_t rg, const char *name, void *dst,
                            int64_t rows, ard_pq_type want, ard_error *err) {
    int32_t leaf = ard_parquet_find_leaf(f, name);
    if (leaf < 0) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: no column %s", ard_parquet_path(f), name);
    }
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    ard_status st = ard_parquet_read_column(f, rg, leaf, &col, err);
    if (st == ARD_OK && (col.type != want || col.num_values != rows)) {
        st = ard_error_set(err, ARD_ECORRUPT, "%s: column %s: unexpected type or nulls",
                           ard_parquet_path(f), name);
    }
    if (st == ARD_OK) {
        memcpy(dst, col.values, (size_t)rows * 8);
    }
    ard_pq_column_data_reset(&col);
    return st;
}

static ard_status load_catalog_file(const char *path, fof_catalog *c, ard_error *err) {
    ard_parquet_file *f = NULL;
    ard_status st = ard_parquet_open(path, NULL, &f, err);
    const ard_pq_metadata *md = st == ARD_OK ? ard_parquet_metadata(f) : NULL;
    for (int32_t rg = 0; st == ARD_OK && rg < md->num_row_groups; rg++) {
        int64_t rows = md->row_groups[rg].num_rows;
        while (st == ARD_OK && c->cap - c->n < rows) {
            int64_t keep = c->n;
            c->n = c->cap;
            st = grow(c) == 0 ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
            c->n = keep;
        }
        if (st == ARD_OK) {
            st = read_leaf(f, rg, "TARGETID", c->tid + c->n, rows, ARD_PQ_INT64, err);
        }
        if (st == ARD_OK) {
            st = read_leaf(f, rg, "TARGET_RA", c->ra + c->n, rows, ARD_PQ_DOUBLE, err);
        }
        if (st == ARD_OK) {
            st = read_leaf(f, rg, "TARGET_DEC", c->dec + c->n, rows, ARD_PQ_DOUBLE, err);
        }
        if (st == ARD_OK) {
            st = read_leaf(f, rg, "Z", c->z + c->n, rows, ARD_PQ_DOUBLE, err);
        }
        int64_t w = c->n; /* keep z > 0 (as the index path does), compacting in place */
        for (int64_t i = c->n; st == ARD_OK && i < c->n + rows; i++) {
            if (c->z[i] > 0.0) {
                c->tid[w] = c->tid[i];
                c->ra[w] = c->ra[i];
                c->dec[w] = c->dec[i];
                c->z[w] = c->z[i];
                w++;
            }
        }
        if (st == ARD_OK) {
            c->skipped += c->n + rows - w;
            c->n = w;
        }
    }
    ard_parquet_close(f);
    return st;
}

ard_status fof_load_parquet(const char *dataset, fof_catalog *c, ard_error *err) {
    ard_dataset_files files = {0};
    ard_status st = ard_dataset_list(dataset, ARD_DATASET_CATALOG, &files, err);
    for (int64_t i = 0; st == ARD_OK && i < files.count; i++) {
        char path[4096];
        int len = snprintf(path, sizeof path, "%s/%s", dataset, files.paths[i]);
        st = len > 0 && (size_t)len < sizeof path
                 ? load_catalog_file(path, c, err)
                 : ard_error_set(err, ARD_EINVAL, "fof: path too long under %.200s", dataset);
    }
    if (st == ARD_OK && files.count == 0) {
        st = ard_error_set(err, ARD_ENOENT, "%s: no index and no catalog/*.parquet", dataset);
    }
    ard_dataset_files_reset(&files);
    return st;
}

typedef struct tid_gid {
    int64_t tid;
    int64_t gid;
} tid_gid;

static int cmp_tid(const void *a, const void *b) {
    const tid_gid *x = a, *y = b;
    return (x->tid > y->tid) - (x->tid < y->tid);
}

static ard_status read_truth_file(const char *path, tid_gid **all, int64_t *n, int64_t *cap,
                                  ard_error *err) {
    ard_parquet_file *f = NULL;
    ard_status st = ard_parquet_open(path, NULL, &f, err);
    const ard_pq_metadata *md = st == ARD_OK ? ard_parquet_metadata(f) : NULL;
    for (int32_t rg = 0; st == ARD_OK && rg < md->num_row_groups; rg++) {
        int64_t rows = md->row_groups[rg].num_rows;
        int64_t *tid = ard_malloc((size_t)(rows > 0 ? rows : 1) * 8);
        int64_t *gid = ard_malloc((size_t)(rows > 0 ? rows : 1) * 8);
        if (!tid || !gid) {
            st = ard_error_set(err, ARD_ENOMEM, "fof: out of memory reading truth");
        }
        if (st == ARD_OK) {
            st = read_leaf(f, rg, "TARGETID", tid, rows, ARD_PQ_INT64, err);
        }
        if (st == ARD_OK) {
            st = read_leaf(f, rg, ARD_TRUTH_GROUP_ID, gid, rows, ARD_PQ_INT64, err);
        }
        if (st == ARD_OK && *n + rows > *cap) {
            int64_t newcap = (*n + rows) * 2;
            tid_gid *g = ard_realloc(*all, (size_t)newcap * sizeof *g);
            st = g ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "fof: out of memory reading truth");
            *all = g ? g : *all;
            *cap = g ? newcap : *cap;
        }
        for (int64_t i = 0; st == ARD_OK && i < rows; i++) {
            (*all)[(*n)++] = (tid_gid){tid[i], gid[i]};
        }
        ard_free(tid);
        ard_free(gid);
    }
    ard_parquet_close(f);
    return st;
}

/* truth[i] = the generator's GROUP_ID of catalog row i (<= 0 field). *found = 0 when the dataset has
 * no truth directory. */
ard_status fof_load_truth(const char *dataset, const fof_catalog *c, int64_t **truth_out,
                          int *found, ard_error *err) {
    *found = 0;
    *truth_out = NULL;
    tid_gid *all = NULL;
    int64_t n = 0, cap = 0;
    ard_status st = ARD_OK;
    ard_dataset_files files = {0};
    st = ard_dataset_list(dataset, ARD_DATASET_TRUTH, &files, err);
    for (int64_t i = 0; st == ARD_OK && i < files.count; i++) {
        char path[4096];
        const char *name = strrchr(files.paths[i], '/');
        if (strncmp(name ? name + 1 : files.paths[i], "galaxies-", 9) != 0) {
            continue; /* groups.parquet and other truth tables */
        }
        int len = snprintf(path, sizeof path, "%s/%s", dataset, files.paths[i]);
        st = len > 0 && (size_t)len < sizeof path
                 ? read_truth_file(path, &all, &n, &cap, err)
                 : ard_error_set(err, ARD_EINVAL, "fof: path too long under %.200s", dataset);
        *found = 1;
    }
    ard_dataset_files_reset(&files);
    int64_t *truth = NULL;
    if (st == ARD_OK && *found) {
        qsort(all, (size_t)n, sizeof *all, cmp_tid);
        truth = ard_malloc((size_t)(c->n > 0 ? c->n : 1) * sizeof *truth);
        st = truth ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
        for (int64_t i = 0; st == ARD_OK && i < c->n; i++) {
            tid_gid key = {c->tid[i], 0};
            const tid_gid *hit = bsearch(&key, all, (size_t)n, sizeof *all, cmp_tid);
            truth[i] = hit ? hit->gid : 0;
        }
    }
    ard_free(all);
    *truth_out = truth;
    return st;
}

static ard_status write_galaxy_groups(ard_index *idx, const ard_fof_result *r, const fof_catalog *c,
                                      const char *run_id, ard_error *err) {
    int64_t n = c->n;
    int64_t *size = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *size);
    const char **runs = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *runs);
    ard_status st = size && runs ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    const int64_t *gid = ard_fof_group_ids(r);
    for (int64_t i = 0; st == ARD_OK && i < n; i++) {
        size[i] = gid[i] > 0 ? ard_fof_group_at(r, gid[i] - 1)->members : 1;
        runs[i] = run_id;
    }
    if (st == ARD_OK) {
        ard_index_column cols[] = {{"targetid", ARD_INDEX_INT64, c->tid, NULL},
                                   {"group_id", ARD_INDEX_INT64, gid, NULL},
                                   {"group_size", ARD_INDEX_INT64, size, NULL},
                                   {"run_id", ARD_INDEX_TEXT, runs, NULL}};
        st = ard_index_write_table(idx, "galaxy_groups", cols, 4, n, ARD_INDEX_REPLACE, err);
    }
    ard_free(size);
    ard_free(runs);
    return st;
}

enum { GROUP_COLS = 13 };

static ard_status write_groups(ard_index *idx, const ard_fof_result *r, const char *run_id,
                               ard_error *err) {
    static const char *names[GROUP_COLS - 1] = {
        "group_id", "n_members",  "first_targetid", "ra",     "dec", "z", "x_mpc", "y_mpc",
        "z_mpc",    "radius_mpc", "radius_max_mpc", "sigma_v"};
    int64_t g = ard_fof_num_groups(r);
    size_t cap = (size_t)(g > 0 ? g : 1);
    void *bufs[GROUP_COLS] = {0};
    ard_status st = ARD_OK;
    for (int k = 0; k < GROUP_COLS; k++) {
        bufs[k] = ard_malloc(cap * 8);
        st = bufs[k] || st != ARD_OK ? st : ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    for (int64_t i = 0; st == ARD_OK && i < g; i++) {
        const ard_fof_group *p = ard_fof_group_at(r, i);
        ((int64_t *)bufs[0])[i] = p->group_id;
        ((int64_t *)bufs[1])[i] = p->members;
        ((int64_t *)bufs[2])[i] = p->first_targetid;
        const double v[] = {p->ra, p->dec,        p->z_centre,       p->x,      p->y,
                            p->z,  p->radius_mpc, p->radius_max_mpc, p->sigma_v};
        for (int k = 3; k < GROUP_COLS - 1; k++) {
            ((double *)bufs[k])[i] = v[k - 3];
        }
        ((const char **)bufs[GROUP_COLS - 1])[i] = run_id;
    }
    if (st == ARD_OK) {
        ard_index_column cols[GROUP_COLS];
        for (int k = 0; k < GROUP_COLS - 1; k++) {
            cols[k] = (ard_index_column){names[k], k < 3 ? ARD_INDEX_INT64 : ARD_INDEX_DOUBLE,
                                         bufs[k], NULL};
        }
        cols[GROUP_COLS - 1] =
            (ard_index_column){"run_id", ARD_INDEX_TEXT, bufs[GROUP_COLS - 1], NULL};
        st = ard_index_write_table(idx, "groups", cols, GROUP_COLS, g, ARD_INDEX_REPLACE, err);
    }
    for (int k = 0; k < GROUP_COLS; k++) {
        ard_free(bufs[k]);
    }
    return st;
}

static ard_status write_run(ard_index *idx, const ard_fof_result *r, const char *run_id,
                            const char *where, const char *params, ard_error *err) {
    int64_t galaxies = ard_fof_num_galaxies(r), groups = ard_fof_num_groups(r);
    int64_t grouped = ard_fof_num_grouped(r);
    const char *where_text = where ? where : "";
    ard_index_column cols[] = {{"run_id", ARD_INDEX_TEXT, &run_id, NULL},
                               {"params", ARD_INDEX_TEXT, &params, NULL},
                               {"where_clause", ARD_INDEX_TEXT, &where_text, NULL},
                               {"galaxies", ARD_INDEX_INT64, &galaxies, NULL},
                               {"groups", ARD_INDEX_INT64, &groups, NULL},
                               {"grouped", ARD_INDEX_INT64, &grouped, NULL}};
    return ard_index_write_table(idx, "fof_runs", cols, 6, 1, ARD_INDEX_APPEND, err);
}

ard_status fof_write_index(ard_index *idx, const ard_fof_result *r, const fof_catalog *c,
                           const char *run_id, const char *where, ard_error *err) {
    ard_buf params;
    ard_buf_init(&params);
    ard_fof_params_json(r, &params);
    ard_buf_append(&params, "", 1);
    ard_status st = params.failed ? ard_error_set(err, ARD_ENOMEM, "fof: out of memory") : ARD_OK;
    if (st == ARD_OK) {
        st = write_galaxy_groups(idx, r, c, run_id, err);
    }
    if (st == ARD_OK) {
        st = write_groups(idx, r, run_id, err);
    }
    if (st == ARD_OK) {
        st = write_run(idx, r, run_id, where, (const char *)params.data, err);
    }
    ard_buf_reset(&params);
    return st;
}
