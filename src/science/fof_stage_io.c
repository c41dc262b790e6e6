/* Data movement of the fof stage: the catalog (from the index through typed reads, or from the
 * catalog Parquet files through the dataset module's walker and tile reader when there is no
 * index) and the generator's truth for scoring. */
#include "science_int.h"

#include "ard/dataset.h"
#include "ard/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ard__sci_catalog_reset(sci_catalog *c) {
    ard_free(c->ra);
    ard_free(c->dec);
    ard_free(c->z);
    ard_free(c->tid);
    memset(c, 0, sizeof *c);
}

static int grow(sci_catalog *c) {
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

ard_status ard__sci_load_index(ard_index *idx, const char *where, sci_catalog *c, ard_error *err) {
    ard_buf pred;
    ard_buf_init(&pred);
    int has_where = where && *where;
    ard_buf_appendf(&pred, "z > 0%s%s%s", has_where ? " AND (" : "", has_where ? where : "",
                    has_where ? ")" : "");
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

static ard_status load_catalog_file(const char *path, sci_catalog *c, ard_error *err) {
    ard_tile *f = NULL;
    ard_status st = ard_tile_open(path, &f, err);
    int32_t groups = st == ARD_OK ? ard_tile_num_row_groups(f) : 0;
    for (int32_t rg = 0; st == ARD_OK && rg < groups; rg++) {
        int64_t rows = ard_tile_row_group_rows(f, rg);
        while (st == ARD_OK && c->cap - c->n < rows) {
            int64_t keep = c->n;
            c->n = c->cap;
            st = grow(c) == 0 ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
            c->n = keep;
        }
        if (st == ARD_OK) {
            st = ard_tile_read_int64(f, rg, ARD_COL_TARGETID, 0, rows, c->tid + c->n, err);
        }
        if (st == ARD_OK) {
            st = ard_tile_read_double(f, rg, "TARGET_RA", c->ra + c->n, err);
        }
        if (st == ARD_OK) {
            st = ard_tile_read_double(f, rg, "TARGET_DEC", c->dec + c->n, err);
        }
        if (st == ARD_OK) {
            st = ard_tile_read_double(f, rg, "Z", c->z + c->n, err);
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
    ard_tile_close(f);
    return st;
}

/* DATASET/<part file i> into path (ARD_EINVAL when it does not fit). */
static ard_status join(const char *dataset, const char *rel, char *path, size_t cap,
                       ard_error *err) {
    int len = snprintf(path, cap, "%s/%s", dataset, rel);
    return len > 0 && (size_t)len < cap
               ? ARD_OK
               : ard_error_set(err, ARD_EINVAL, "fof: path too long under %.200s", dataset);
}

ard_status ard__sci_load_files(const char *dataset, sci_catalog *c, ard_error *err) {
    ard_dataset_files files = {0};
    ard_status st = ard_dataset_list(dataset, ARD_DATASET_CATALOG, &files, err);
    if (st == ARD_OK && files.count == 0) {
        st = ard_error_set(err, ARD_ENOENT, "%s: no index and no catalog/*.parquet", dataset);
    }
    for (int64_t i = 0; st == ARD_OK && i < files.count; i++) {
        char path[4096];
        st = join(dataset, files.paths[i], path, sizeof path, err);
        st = st == ARD_OK ? load_catalog_file(path, c, err) : st;
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
    ard_tile *f = NULL;
    ard_status st = ard_tile_open(path, &f, err);
    int32_t groups = st == ARD_OK ? ard_tile_num_row_groups(f) : 0;
    for (int32_t rg = 0; st == ARD_OK && rg < groups; rg++) {
        int64_t rows = ard_tile_row_group_rows(f, rg);
        int64_t *tid = ard_malloc((size_t)(rows > 0 ? rows : 1) * 8);
        int64_t *gid = ard_malloc((size_t)(rows > 0 ? rows : 1) * 8);
        if (!tid || !gid) {
            st = ard_error_set(err, ARD_ENOMEM, "fof: out of memory reading truth");
        }
        if (st == ARD_OK) {
            st = ard_tile_read_int64(f, rg, ARD_COL_TARGETID, 0, rows, tid, err);
        }
        if (st == ARD_OK) {
            st = ard_tile_read_int64(f, rg, ARD_TRUTH_GROUP_ID, 0, rows, gid, err);
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
    ard_tile_close(f);
    return st;
}

/* truth[i] = the generator's GROUP_ID of catalog row i (<= 0 field). *found = 0 when the dataset has
 * no truth files. */
ard_status ard__sci_load_truth(const char *dataset, const sci_catalog *c, int64_t **truth_out,
                               int *found, ard_error *err) {
    *found = 0;
    *truth_out = NULL;
    tid_gid *all = NULL;
    int64_t n = 0, cap = 0;
    ard_dataset_files files = {0};
    ard_status st = ard_dataset_list(dataset, ARD_DATASET_TRUTH, &files, err);
    for (int64_t i = 0; st == ARD_OK && i < files.count; i++) {
        const char *name = strrchr(files.paths[i], '/');
        if (strncmp(name ? name + 1 : files.paths[i], "galaxies-", 9) != 0) {
            continue; /* groups.parquet and other truth tables */
        }
        char path[4096];
        st = join(dataset, files.paths[i], path, sizeof path, err);
        st = st == ARD_OK ? read_truth_file(path, &all, &n, &cap, err) : st;
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
