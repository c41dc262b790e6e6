/* Datasheet test helpers: generate + sync a small survey, compute the truth from the files
 * themselves (catalog columns, tile TARGETIDs and every FLUX and IVAR element), and rewrite a tile
 * with extra null pixels or without its ard.pixel_stats. */
#include "tds.h"

#include "ard/parquet.h"
#include "ard/parquet_write.h"
#include "ard/survey.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tds_generate(char *dir, size_t cap, int64_t galaxies, uint64_t seed, double spectra_fraction) {
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/ard-ds-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return -1;
    }
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = galaxies;
    o.seed = seed;
    o.spectra_fraction = spectra_fraction;
    o.threads = 2;
    ard_error err;
    ard_error_init(&err);
    if (ard_grid_from_name("log256", &o.grid, &err) != ARD_OK ||
        ard_generate(dir, &o, NULL, &err) != ARD_OK) {
        fprintf(stderr, "generate: %s\n", err.msg);
        return -1;
    }
    return 0;
}

ard_index *tds_sync(const char *dir, const char *dsn) {
    ard_error err;
    ard_error_init(&err);
    ard_index *idx = NULL;
    ard_sync_options o;
    memset(&o, 0, sizeof o);
    o.threads = 2;
    o.quiet = 1;
    ard_sync_report rep;
    if (ard_index_open(dir, dsn, 0, &idx, &err) != ARD_OK ||
        ard_index_sync(idx, dir, &o, &rep, &err) != ARD_OK) {
        fprintf(stderr, "sync: %s\n", err.msg);
        ard_index_close(idx);
        return NULL;
    }
    return idx;
}

/* ---- reading columns ---- */

typedef struct cat_rows {
    int64_t n, cap;
    int64_t *tid, *zwarn;
    double *z;
    char (*cls)[16];
} cat_rows;

static int grow(cat_rows *c, int64_t need) {
    if (need <= c->cap) {
        return 0;
    }
    int64_t cap = need * 2;
    c->tid = realloc(c->tid, (size_t)cap * sizeof *c->tid);
    c->zwarn = realloc(c->zwarn, (size_t)cap * sizeof *c->zwarn);
    c->z = realloc(c->z, (size_t)cap * sizeof *c->z);
    c->cls = realloc(c->cls, (size_t)cap * sizeof *c->cls);
    c->cap = cap;
    return c->tid && c->zwarn && c->z && c->cls ? 0 : -1;
}

static int read_col(ard_parquet_file *pq, int32_t rg, const char *name, ard_pq_column_data *col) {
    int32_t leaf = ard_parquet_find_leaf(pq, name);
    memset(col, 0, sizeof *col);
    ard_error err;
    ard_error_init(&err);
    if (leaf < 0 || ard_parquet_read_column(pq, rg, leaf, col, &err) != ARD_OK) {
        fprintf(stderr, "%s: column %s: %s\n", ard_parquet_path(pq), name, err.msg);
        return -1;
    }
    if (col->num_values != col->num_rows) {
        fprintf(stderr, "%s: column %s has nulls; the test expects none\n", ard_parquet_path(pq),
                name);
        return -1;
    }
    return 0;
}

static int read_catalog_file(const char *path, cat_rows *c) {
    ard_parquet_file *pq = NULL;
    if (ard_parquet_open(path, NULL, &pq, NULL) != ARD_OK) {
        return -1;
    }
    const ard_pq_metadata *md = ard_parquet_metadata(pq);
    int rc = 0;
    for (int32_t rg = 0; rg < md->num_row_groups && rc == 0; rg++) {
        ard_pq_column_data t, z, w, k;
        rc = read_col(pq, rg, "TARGETID", &t) | read_col(pq, rg, "Z", &z) |
             read_col(pq, rg, "ZWARN", &w) | read_col(pq, rg, "TARGET_CLASS", &k);
        rc = rc || grow(c, c->n + t.num_values);
        for (int64_t i = 0; rc == 0 && i < t.num_values; i++) {
            c->tid[c->n] = ((const int64_t *)t.values)[i];
            c->z[c->n] = ((const double *)z.values)[i];
            c->zwarn[c->n] = w.type == ARD_PQ_INT32 ? ((const int32_t *)w.values)[i]
                                                    : ((const int64_t *)w.values)[i];
            int64_t len = k.offsets[i + 1] - k.offsets[i];
            snprintf(c->cls[c->n], sizeof c->cls[0], "%.*s", (int)len,
                     (const char *)k.data + k.offsets[i]);
            c->n++;
        }
        ard_pq_column_data_reset(&t);
        ard_pq_column_data_reset(&z);
        ard_pq_column_data_reset(&w);
        ard_pq_column_data_reset(&k);
    }
    ard_parquet_close(pq);
    return rc;
}

/* TARGETID -> catalog row, for classing the spectra of a tile. */
typedef struct tid_row {
    int64_t tid, row;
} tid_row;

static int cmp_tid_row(const void *a, const void *b) {
    int64_t x = ((const tid_row *)a)->tid, y = ((const tid_row *)b)->tid;
    return x < y ? -1 : x > y;
}

static tid_row *tid_index(const cat_rows *c) {
    tid_row *ix = malloc((size_t)(c->n + 1) * sizeof *ix);
    for (int64_t i = 0; ix && i < c->n; i++) {
        ix[i] = (tid_row){c->tid[i], i};
    }
    if (ix) {
        qsort(ix, (size_t)c->n, sizeof *ix, cmp_tid_row);
    }
    return ix;
}

/* The catalog's TARGET_CLASS of tid, or NULL. */
static const char *class_of(const cat_rows *c, const tid_row *ix, int64_t tid) {
    tid_row key = {tid, 0};
    const tid_row *hit = bsearch(&key, ix, (size_t)c->n, sizeof *ix, cmp_tid_row);
    return hit ? c->cls[hit->row] : NULL;
}

/* ---- tiles ---- */

/* Leaf of a list<float> column: "NAME.list.element" (3-level lists) or "NAME". */
static int32_t flux_leaf(ard_parquet_file *pq, const char *name) {
    char path[64];
    snprintf(path, sizeof path, "%s.list.element", name);
    int32_t leaf = ard_parquet_find_leaf(pq, path);
    return leaf >= 0 ? leaf : ard_parquet_find_leaf(pq, name);
}

typedef struct tile_list {
    tds_tile *tiles;
    int64_t n, cap;
} tile_list;

static int walk(const char *root, const char *rel, tile_list *out) {
    char full[1024];
    snprintf(full, sizeof full, "%s/%s", root, rel);
    DIR *d = opendir(full);
    if (!d) {
        return 0;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char sub[1024], subfull[1100];
        snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name);
        snprintf(subfull, sizeof subfull, "%s/%s", root, sub);
        struct stat sb;
        if (stat(subfull, &sb) != 0) {
            continue;
        }
        size_t len = strlen(sub);
        if (S_ISDIR(sb.st_mode)) {
            rc = walk(root, sub, out);
        } else if (len > 8 && strcmp(sub + len - 8, ".parquet") == 0) {
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                out->tiles = realloc(out->tiles, (size_t)out->cap * sizeof *out->tiles);
                if (!out->tiles) {
                    rc = -1;
                    break;
                }
            }
            memset(&out->tiles[out->n], 0, sizeof out->tiles[0]);
            snprintf(out->tiles[out->n++].path, sizeof out->tiles[0].path, "%.255s", sub);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_tile(const void *a, const void *b) {
    return strcmp(((const tds_tile *)a)->path, ((const tds_tile *)b)->path);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int class_slot(tds_truth *t, const char *name) {
    for (int32_t i = 0; i < t->num_classes; i++) {
        if (strcmp(t->cls[i].name, name) == 0) {
            return i;
        }
    }
    if (t->num_classes == 8) {
        return -1;
    }
    snprintf(t->cls[t->num_classes].name, sizeof t->cls[0].name, "%s", name);
    return t->num_classes++;
}

/* Per-tile and per-class counts of one row group: rows, null FLUX and IVAR = 0 elements. */
static int count_rows(tds_truth *truth, tds_tile *t, const ard_pq_column_data *tc,
                      const ard_pq_f32_matrix *fl, const ard_pq_f32_matrix *iv, const cat_rows *c,
                      const tid_row *ix) {
    if (iv->rows != fl->rows || iv->width != fl->width || tc->num_values != fl->rows) {
        fprintf(stderr, "%s: FLUX, IVAR and TARGETID disagree in shape\n", t->path);
        return -1;
    }
    for (int64_t r = 0; r < fl->rows; r++) {
        int64_t tid = ((const int64_t *)tc->values)[r], nulls = 0, zeros = 0;
        for (int64_t i = r * fl->width; i < (r + 1) * fl->width; i++) {
            nulls += fl->validity ? !((fl->validity[i >> 3] >> (i & 7)) & 1) : 0;
            zeros += iv->values[i] == 0.0f;
        }
        t->nulls += nulls;
        t->ivar_zero += zeros;
        if (!t->has_stats) {
            continue;
        }
        const char *name = class_of(c, ix, tid);
        int s = name ? class_slot(truth, name) : -1;
        if (s < 0) {
            fprintf(stderr, "%s: TARGETID %lld has no catalog class\n", t->path, (long long)tid);
            return -1;
        }
        truth->cls[s].pix_rows++;
        truth->cls[s].pixels += fl->width;
        truth->cls[s].flux_null += nulls;
        truth->cls[s].ivar_zero += zeros;
    }
    return 0;
}

/* Rows, null FLUX and IVAR = 0 elements of one tile (per class too when the tile carries
 * ard.pixel_stats); appends its TARGETIDs to *tids. */
static int read_tile(const char *dir, tds_tile *t, tds_truth *truth, const cat_rows *c,
                     const tid_row *ix, int64_t **tids, int64_t *ntids, int64_t *cap) {
    char full[1300];
    snprintf(full, sizeof full, "%s/%s", dir, t->path);
    ard_parquet_file *pq = NULL;
    if (ard_parquet_open(full, NULL, &pq, NULL) != ARD_OK) {
        fprintf(stderr, "cannot open %s\n", full);
        return -1;
    }
    t->has_stats = ard_parquet_kv_get(pq, ARD_KV_PIXEL_STATS) != NULL;
    const ard_pq_metadata *md = ard_parquet_metadata(pq);
    int rc = 0;
    for (int32_t rg = 0; rg < md->num_row_groups && rc == 0; rg++) {
        ard_pq_column_data tc;
        ard_pq_f32_matrix m, iv;
        memset(&m, 0, sizeof m);
        memset(&iv, 0, sizeof iv);
        rc = read_col(pq, rg, "TARGETID", &tc);
        ard_error err;
        ard_error_init(&err);
        if (rc == 0 &&
            (ard_parquet_read_f32_matrix(pq, rg, flux_leaf(pq, "FLUX"), &m, &err) != ARD_OK ||
             ard_parquet_read_f32_matrix(pq, rg, flux_leaf(pq, "IVAR"), &iv, &err) != ARD_OK)) {
            fprintf(stderr, "%s: FLUX/IVAR: %s\n", full, err.msg);
            rc = -1;
        }
        rc = rc ? rc : count_rows(truth, t, &tc, &m, &iv, c, ix);
        t->values += m.rows * m.width;
        t->rows += tc.num_values;
        if (rc == 0 && *ntids + tc.num_values > *cap) {
            *cap = (*ntids + tc.num_values) * 2;
            *tids = realloc(*tids, (size_t)*cap * sizeof **tids);
        }
        for (int64_t i = 0; rc == 0 && i < tc.num_values; i++) {
            (*tids)[(*ntids)++] = ((const int64_t *)tc.values)[i];
        }
        ard_pq_column_data_reset(&tc);
        ard_pq_matrix_reset(&m);
        ard_pq_matrix_reset(&iv);
    }
    ard_parquet_close(pq);
    return rc;
}

static int class_rank(const char *name) {
    static const char *const order[] = {"BGS", "LRG", "ELG", "QSO"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(order[i], name) == 0) {
            return i;
        }
    }
    return 4;
}

static int cmp_class(const void *a, const void *b) {
    const tds_class *x = a, *y = b;
    int rx = class_rank(x->name), ry = class_rank(y->name);
    return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x->name, y->name);
}

static void class_stats(tds_truth *t, const cat_rows *c, const int64_t *tids, int64_t ntids) {
    for (int64_t i = 0; i < c->n; i++) {
        int s = class_slot(t, c->cls[i]);
        if (s < 0) {
            continue;
        }
        tds_class *k = &t->cls[s];
        int has = bsearch(&c->tid[i], tids, (size_t)ntids, sizeof *tids, cmp_i64) != NULL;
        k->galaxies++;
        k->spectra += has;
        k->zwarn += c->zwarn[i] != 0;
        k->z = realloc(k->z, (size_t)(k->nz + 1) * sizeof *k->z);
        k->z[k->nz++] = c->z[i];
        t->galaxies++;
        t->zwarn += c->zwarn[i] != 0;
        t->catalog_without_spectra += !has;
    }
    qsort(t->cls, (size_t)t->num_classes, sizeof t->cls[0], cmp_class);
    for (int32_t s = 0; s < t->num_classes; s++) {
        tds_class *k = &t->cls[s];
        qsort(k->z, (size_t)k->nz, sizeof *k->z, cmp_double);
        k->zmin = k->z[0];
        k->zmax = k->z[k->nz - 1];
        k->zmedian = k->nz % 2 ? k->z[k->nz / 2] : 0.5 * (k->z[k->nz / 2 - 1] + k->z[k->nz / 2]);
    }
}

static int read_catalog(const char *dir, cat_rows *c) {
    for (int32_t i = 0;; i++) {
        char path[1024];
        if (ard_dataset_catalog_path(dir, i, path, sizeof path, NULL) != ARD_OK ||
            access(path, F_OK) != 0) {
            return i > 0 ? 0 : -1;
        }
        if (read_catalog_file(path, c) != 0) {
            return -1;
        }
    }
}

int tds_truth_compute(const char *dir, tds_truth *t) {
    memset(t, 0, sizeof *t);
    tile_list tl = {0};
    cat_rows c = {0};
    int64_t *tids = NULL, ntids = 0, cap = 0;
    int rc = walk(dir, "tiles", &tl) | read_catalog(dir, &c);
    qsort(tl.tiles, (size_t)tl.n, sizeof *tl.tiles, cmp_tile);
    t->tiles = tl.tiles;
    t->num_tiles = tl.n;
    int64_t *pix = calloc((size_t)tl.n + 1, sizeof *pix);
    tid_row *ix = rc == 0 ? tid_index(&c) : NULL;
    for (int64_t i = 0; rc == 0 && i < tl.n; i++) {
        const tds_tile *tt = &tl.tiles[i];
        rc = read_tile(dir, &tl.tiles[i], t, &c, ix, &tids, &ntids, &cap);
        t->flux_values += tt->values;
        t->flux_nulls += tt->nulls;
        t->stats_tiles += tt->has_stats;
        t->stats_rows_missing += tt->has_stats ? 0 : tt->rows;
        t->stats_pixels += tt->has_stats ? tt->values : 0;
        t->stats_ivar_zero += tt->has_stats ? tt->ivar_zero : 0;
        char s[32], p[32];
        if (ard_dataset_parse_tile_path(tl.tiles[i].path, s, p, &pix[i], NULL) != ARD_OK) {
            fprintf(stderr, "not a tile path: %s\n", tl.tiles[i].path);
            rc = -1;
        }
    }
    qsort(pix, (size_t)tl.n, sizeof *pix, cmp_i64);
    for (int64_t i = 0; i < tl.n; i++) {
        t->distinct_pixels += i == 0 || pix[i] != pix[i - 1];
    }
    free(pix);
    free(ix);
    t->spectra = ntids;
    if (tids) {
        qsort(tids, (size_t)ntids, sizeof *tids, cmp_i64);
    }
    if (rc == 0) {
        int64_t *ctid = malloc((size_t)(c.n + 1) * sizeof *ctid);
        memcpy(ctid, c.tid, (size_t)c.n * sizeof *ctid);
        qsort(ctid, (size_t)c.n, sizeof *ctid, cmp_i64);
        for (int64_t i = 0; i < ntids; i++) {
            t->spectra_without_catalog +=
                bsearch(&tids[i], ctid, (size_t)c.n, sizeof *ctid, cmp_i64) == NULL;
        }
        free(ctid);
        class_stats(t, &c, tids, ntids);
    }
    free(tids);
    free(c.tid);
    free(c.zwarn);
    free(c.z);
    free(c.cls);
    return rc;
}

void tds_truth_reset(tds_truth *t) {
    for (int32_t i = 0; i < t->num_classes; i++) {
        free(t->cls[i].z);
    }
    free(t->tiles);
    memset(t, 0, sizeof *t);
}

/* ---- rewriting a tile ---- */

typedef struct tile_data {
    int64_t rows, width;
    int64_t *tid;
    float *flux, *ivar;
    uint8_t *valid; /* one byte per element */
} tile_data;

static int load_tile(ard_parquet_file *pq, tile_data *d) {
    const ard_pq_metadata *md = ard_parquet_metadata(pq);
    int rc = 0;
    for (int32_t rg = 0; rg < md->num_row_groups && rc == 0; rg++) {
        ard_pq_column_data tc;
        ard_pq_f32_matrix f, iv;
        memset(&f, 0, sizeof f);
        memset(&iv, 0, sizeof iv);
        rc = read_col(pq, rg, "TARGETID", &tc);
        rc = rc || ard_parquet_read_f32_matrix(pq, rg, flux_leaf(pq, "FLUX"), &f, NULL);
        rc = rc || ard_parquet_read_f32_matrix(pq, rg, flux_leaf(pq, "IVAR"), &iv, NULL);
        if (rc == 0) {
            d->width = f.width;
            int64_t n = d->rows + f.rows;
            d->tid = realloc(d->tid, (size_t)n * sizeof *d->tid);
            d->flux = realloc(d->flux, (size_t)(n * f.width) * sizeof *d->flux);
            d->ivar = realloc(d->ivar, (size_t)(n * f.width) * sizeof *d->ivar);
            d->valid = realloc(d->valid, (size_t)(n * f.width));
            memcpy(d->tid + d->rows, tc.values, (size_t)f.rows * sizeof *d->tid);
            memcpy(d->flux + d->rows * f.width, f.values,
                   (size_t)(f.rows * f.width) * sizeof(float));
            memcpy(d->ivar + d->rows * f.width, iv.values,
                   (size_t)(f.rows * f.width) * sizeof(float));
            for (int64_t i = 0; i < f.rows * f.width; i++) {
                d->valid[d->rows * f.width + i] =
                    (uint8_t)(f.validity ? (f.validity[i >> 3] >> (i & 7)) & 1 : 1);
            }
            d->rows = n;
        }
        ard_pq_column_data_reset(&tc);
        ard_pq_matrix_reset(&f);
        ard_pq_matrix_reset(&iv);
    }
    return rc;
}

/* The ard.pixel_stats value (format in ard/survey.h) of the tile data, classing rows by the
 * catalog of dir. 0 or -1. */
static int pixel_stats_text(const char *dir, const tile_data *d, char *out, size_t cap) {
    static const char *const order[5] = {"BGS", "LRG", "ELG", "QSO", "OTHER"};
    int64_t rows[5] = {0}, nulls[5] = {0}, zeros[5] = {0};
    cat_rows c = {0};
    int rc = read_catalog(dir, &c);
    tid_row *ix = rc == 0 ? tid_index(&c) : NULL;
    for (int64_t r = 0; rc == 0 && r < d->rows; r++) {
        const char *name = class_of(&c, ix, d->tid[r]);
        int k = 0;
        while (name && k < 5 && strcmp(order[k], name) != 0) {
            k++;
        }
        if (!name || k == 5) {
            rc = -1;
            break;
        }
        rows[k]++;
        for (int64_t i = r * d->width; i < (r + 1) * d->width; i++) {
            nulls[k] += !d->valid[i];
            zeros[k] += d->ivar[i] == 0.0f;
        }
    }
    size_t len = 0;
    for (int k = 0; rc == 0 && k < 5; k++) {
        if (rows[k] > 0) {
            len += (size_t)snprintf(out + len, cap - len,
                                    "%s\"%s\":{\"rows\":%lld,\"pixels\":%lld,\"flux_null\":%lld,"
                                    "\"ivar_zero\":%lld}",
                                    len ? "," : "{", order[k], (long long)rows[k],
                                    (long long)(rows[k] * d->width), (long long)nulls[k],
                                    (long long)zeros[k]);
        }
    }
    if (rc == 0) {
        snprintf(out + len, cap - len, "%s", len ? "}" : "{}");
    }
    free(ix);
    free(c.tid);
    free(c.zwarn);
    free(c.z);
    free(c.cls);
    return rc;
}

/* Writes the tile data with orig's key-value metadata, ard.pixel_stats replaced by `stats` (NULL:
 * dropped). */
static int save_tile(const char *path, const tile_data *d, ard_parquet_file *orig,
                     const char *stats) {
    ard_pq_schema_builder *sb = NULL;
    ard_pq_schema_new(&sb, NULL);
    int32_t ct = -1;
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, &ct, NULL);
    int32_t cf = -1;
    ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_REQUIRED, ARD_PQ_OPTIONAL, NULL, &cf,
                           NULL);
    int32_t ci = -1;
    ard_pq_schema_add_list(sb, "IVAR", ARD_PQ_FLOAT, ARD_PQ_REQUIRED, ARD_PQ_OPTIONAL, NULL, &ci,
                           NULL);
    ard_pq_schema_set_sorted(sb, ct, 1, NULL);
    const ard_pq_metadata *md = ard_parquet_metadata(orig);
    const char *keys[16], *vals[16];
    int32_t nkv = 0;
    for (int32_t i = 0; i < md->num_kv && nkv < 15; i++) {
        if (strcmp(md->kv[i].key, ARD_KV_PIXEL_STATS) != 0) {
            keys[nkv] = md->kv[i].key;
            vals[nkv++] = md->kv[i].value;
        }
    }
    if (stats) {
        keys[nkv] = ARD_KV_PIXEL_STATS;
        vals[nkv++] = stats;
    }
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.num_kv = nkv;
    o.kv_keys = keys;
    o.kv_values = vals;
    size_t nbits = (size_t)(d->rows * d->width);
    uint8_t *bits = calloc(nbits / 8 + 1, 1);
    for (size_t i = 0; i < nbits; i++) {
        bits[i >> 3] |= (uint8_t)(d->valid[i] << (i & 7));
    }
    ard_pq_writer *w = NULL;
    ard_error err;
    ard_error_init(&err);
    int rc = ard_pq_writer_open(path, sb, &o, &w, &err) != ARD_OK ||
             ard_pq_writer_write_column(w, ct, d->tid, NULL, d->rows, &err) != ARD_OK ||
             ard_pq_writer_write_list_matrix(w, cf, d->flux, d->rows, d->width, bits, NULL, &err) !=
                 ARD_OK ||
             ard_pq_writer_write_list_matrix(w, ci, d->ivar, d->rows, d->width, NULL, NULL, &err) !=
                 ARD_OK;
    if (rc) {
        ard_pq_writer_abort(w);
        fprintf(stderr, "rewrite %s: %s\n", path, err.msg);
    } else if (ard_pq_writer_close(w, &err) != ARD_OK) {
        fprintf(stderr, "close %s: %s\n", path, err.msg);
        rc = 1;
    }
    free(bits);
    ard_pq_schema_free(sb);
    return rc ? -1 : 0;
}

/* Rewrites tile rel: `extra` more null pixels, and ard.pixel_stats recomputed (keep_stats, when
 * the tile had it) or dropped. */
static int rewrite_tile(const char *dir, const char *rel, int64_t extra, int keep_stats) {
    char full[1300];
    snprintf(full, sizeof full, "%s/%s", dir, rel);
    ard_parquet_file *pq = NULL;
    if (ard_parquet_open(full, NULL, &pq, NULL) != ARD_OK) {
        return -1;
    }
    tile_data d;
    memset(&d, 0, sizeof d);
    int rc = load_tile(pq, &d);
    int64_t unweighted = extra;
    for (int64_t i = 0; rc == 0 && extra + unweighted > 0 && i < d.rows * d.width; i++) {
        if (d.valid[i] && d.ivar[i] != 0.0f && extra > 0) {
            d.valid[i] = 0;
            d.flux[i] = NAN;
            d.ivar[i] = 0.0f; /* a masked pixel */
            extra--;
        } else if (d.valid[i] && d.ivar[i] != 0.0f) {
            d.ivar[i] = 0.0f; /* no weight, flux kept: IVAR = 0 counts exceed null counts */
            unweighted--;
        }
    }
    char stats[1024];
    int has = keep_stats && ard_parquet_kv_get(pq, ARD_KV_PIXEL_STATS) != NULL;
    rc = rc || extra > 0 || (has && pixel_stats_text(dir, &d, stats, sizeof stats) != 0) ||
         save_tile(full, &d, pq, has ? stats : NULL);
    ard_parquet_close(pq);
    free(d.tid);
    free(d.flux);
    free(d.ivar);
    free(d.valid);
    return rc ? -1 : 0;
}

int tds_null_pixels(const char *dir, const char *rel, int64_t extra) {
    return rewrite_tile(dir, rel, extra, 1);
}

int tds_drop_pixel_stats(const char *dir, const char *rel) {
    return rewrite_tile(dir, rel, 0, 0);
}
