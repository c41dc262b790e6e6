/* File aggregates: tiles, row groups and bytes by survey/program, flux completeness from the footer
 * null counts the index keeps in column_stats (per tile, per program, worst tiles), missing-flux
 * and IVAR = 0 pixel shares per class, per tile and per program from the footers' ard.pixel_stats
 * (tile_pixel_stats), the sky area of the occupied NSIDE-64 pixels, the wavelength grids, and the
 * content hash over every file's footer. Nothing here opens a data page. */
#include "datasheet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct file_row {
    char *path; /* borrowed from the rows */
    int64_t id, size, rows, row_groups;
    const char *kind, *hash;
} file_row;

static int cmp_file(const void *a, const void *b) {
    return strcmp(((const file_row *)a)->path, ((const file_row *)b)->path);
}

static int cmp_id(const void *a, const void *b) {
    int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return x < y ? -1 : x > y;
}

/* FNV-1a 64 over (path, size, footer hash) of every file in path order. */
static void content_hash(const file_row *f, int64_t n, ds_model *m) {
    uint64_t h = 1469598103934665603ull;
    for (int64_t i = 0; i < n; i++) {
        char size[32];
        snprintf(size, sizeof size, "%lld", (long long)f[i].size);
        const char *parts[3] = {f[i].path, size, f[i].hash ? f[i].hash : ""};
        for (int k = 0; k < 3; k++) {
            for (const char *p = parts[k]; *p; p++) {
                h = (h ^ (uint8_t)*p) * 1099511628211ull;
            }
            h = (h ^ 0u) * 1099511628211ull;
        }
    }
    ard__ds_set(m, "content_hash", "fnv1a64:%016llx", (unsigned long long)h);
    ard__ds_set(m, "files_hashed", "%lld", (long long)n);
}

static void pct(char *buf, size_t cap, int64_t num, int64_t den) {
    if (den <= 0) {
        snprintf(buf, cap, "n/a");
    } else {
        snprintf(buf, cap, "%.3f", 100.0 * (double)num / (double)den);
    }
}

/* Fills a->tiles from the sorted files; stats come later. */
static ard_status collect_tiles(const file_row *f, int64_t n, ds_agg *a, ard_error *err) {
    a->tiles = ard_calloc((size_t)(n ? n : 1), sizeof *a->tiles);
    if (!a->tiles) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory (%lld files)", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        if (strcmp(f[i].kind, "tile") != 0) {
            continue;
        }
        ds_tile *t = &a->tiles[a->num_tiles++];
        t->path = ard_strdup(f[i].path);
        if (!t->path) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        char survey[64], program[64];
        if (ard_dataset_parse_tile_path(f[i].path, survey, program, &t->pixnum, NULL) != ARD_OK) {
            t->pixnum = -1;
        }
        t->rows = f[i].rows;
        t->bytes = f[i].size;
        t->row_groups = f[i].row_groups;
    }
    return ARD_OK;
}

/* (files.id, tile index) pairs of the tiles, sorted by id, for looking rows up by file_id. */
static int64_t *tile_ids(const file_row *f, int64_t n, int64_t *count) {
    int64_t *ids = ard_malloc((size_t)(n ? n : 1) * 2 * sizeof *ids);
    int64_t nt = 0;
    for (int64_t i = 0; ids && i < n; i++) {
        if (strcmp(f[i].kind, "tile") == 0) {
            ids[2 * nt] = f[i].id;
            ids[2 * nt + 1] = nt; /* tiles were collected in the same (path) order */
            nt++;
        }
    }
    if (ids) {
        qsort(ids, (size_t)nt, 2 * sizeof *ids, cmp_id);
    }
    *count = nt;
    return ids;
}

static ds_tile *tile_by_id(ds_agg *a, const int64_t *ids, int64_t nt, int64_t file_id) {
    int64_t key[2] = {file_id, 0};
    const int64_t *hit = bsearch(key, ids, (size_t)nt, 2 * sizeof *ids, cmp_id);
    return hit ? &a->tiles[hit[1]] : NULL;
}

/* Adds the column_stats sums of FLUX (values, nulls) to the tiles. */
static ard_status tile_flux_stats(ard_index *idx, const int64_t *ids, int64_t nt, ds_agg *a,
                                  ard_error *err) {
    ds_rows r;
    ard_status st =
        ard__ds_query_typed(idx,
                            "SELECT file_id, sum(num_values), sum(null_count) FROM column_stats"
                            " WHERE column_name = 'FLUX' GROUP BY file_id",
                            "III", &r, err);
    for (int64_t row = 0; st == ARD_OK && row < r.nrows; row++) {
        ds_tile *t = tile_by_id(a, ids, nt, ard__ds_cell_int(&r, row, 0));
        if (t) {
            t->flux_values = ard__ds_cell_int(&r, row, 1);
            t->flux_nulls = ard__ds_cell_int(&r, row, 2);
        }
    }
    ard__ds_rows_reset(&r);
    return st;
}

/* Per-class pixel totals over the tiles that carry statistics. */
typedef struct class_pixels {
    char name[32];
    int64_t rows, pixels, flux_null, ivar_zero;
} class_pixels;

static int cmp_class(const void *pa, const void *pb) {
    const class_pixels *x = pa, *y = pb;
    int rx = ard__ds_class_rank(x->name), ry = ard__ds_class_rank(y->name);
    return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x->name, y->name);
}

static class_pixels *class_slot(class_pixels *cls, int32_t *n, const char *name) {
    for (int32_t i = 0; i < *n; i++) {
        if (strcmp(cls[i].name, name) == 0) {
            return &cls[i];
        }
    }
    if (*n == DS_MAX_CLASSES) {
        return NULL;
    }
    class_pixels *c = &cls[(*n)++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

/* Adds tile_pixel_stats to the tiles and to the per-class totals (canonical class order). */
static ard_status tile_pixel_stats(ard_index *idx, const int64_t *ids, int64_t nt, ds_agg *a,
                                   class_pixels *cls, int32_t *ncls, ard_error *err) {
    ds_rows r;
    ard_status st =
        ard__ds_query_typed(idx,
                            "SELECT file_id, target_class, num_rows, pixels, flux_null, ivar_zero"
                            " FROM tile_pixel_stats",
                            "ITIIII", &r, err);
    *ncls = 0;
    for (int64_t row = 0; st == ARD_OK && row < r.nrows; row++) {
        ds_tile *t = tile_by_id(a, ids, nt, ard__ds_cell_int(&r, row, 0));
        const char *name = ard__ds_cell(&r, row, 1);
        class_pixels *c = t && name ? class_slot(cls, ncls, name) : NULL;
        if (t && !c) {
            st = ard_error_set(err, ARD_ELIMIT, "tile_pixel_stats: more than %d classes",
                               DS_MAX_CLASSES);
            break;
        }
        if (!t) {
            continue;
        }
        int64_t v[4] = {ard__ds_cell_int(&r, row, 2), ard__ds_cell_int(&r, row, 3),
                        ard__ds_cell_int(&r, row, 4), ard__ds_cell_int(&r, row, 5)};
        t->has_pixel_stats = 1;
        t->ps_pixels += v[1];
        t->ps_ivar_zero += v[3];
        c->rows += v[0];
        c->pixels += v[1];
        c->flux_null += v[2];
        c->ivar_zero += v[3];
    }
    ard__ds_rows_reset(&r);
    if (*ncls > 1) {
        qsort(cls, (size_t)*ncls, sizeof *cls, cmp_class);
    }
    return st;
}

/* Adds the FLUX column_stats and the pixel statistics to the tiles; class_pixels rows. */
static ard_status tile_stats(ard_index *idx, const file_row *f, int64_t n, ds_model *m, ds_agg *a,
                             ard_error *err) {
    int64_t nt = 0;
    int64_t *ids = tile_ids(f, n, &nt);
    if (!ids) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    class_pixels cls[DS_MAX_CLASSES];
    int32_t ncls = 0;
    ard_status st = tile_flux_stats(idx, ids, nt, a, err);
    st = st ? st : tile_pixel_stats(idx, ids, nt, a, cls, &ncls, err);
    for (int32_t i = 0; i < ncls && st == ARD_OK; i++) {
        char c[6][32];
        snprintf(c[0], sizeof c[0], "%lld", (long long)cls[i].rows);
        snprintf(c[1], sizeof c[1], "%lld", (long long)cls[i].pixels);
        snprintf(c[2], sizeof c[2], "%lld", (long long)cls[i].flux_null);
        pct(c[3], sizeof c[3], cls[i].flux_null, cls[i].pixels);
        snprintf(c[4], sizeof c[4], "%lld", (long long)cls[i].ivar_zero);
        pct(c[5], sizeof c[5], cls[i].ivar_zero, cls[i].pixels);
        const char *cells[7] = {cls[i].name, c[0], c[1], c[2], c[3], c[4], c[5]};
        st = ard__ds_row(ard__ds_table_get(m, "class_pixels"), cells, err);
    }
    ard_free(ids);
    return st;
}

/* The IVAR = 0 share of tiles that carry statistics, saying how many tiles lack them. */
static void ivar_cell(char *buf, size_t cap, int64_t zero, int64_t pixels, int64_t tiles_with,
                      int64_t tiles_without) {
    char p[32];
    pct(p, sizeof p, zero, pixels);
    if (tiles_with == 0) {
        snprintf(buf, cap, "n/a (no statistics)");
    } else if (tiles_without > 0) {
        snprintf(buf, cap, "%s (%lld tile%s without statistics)", p, (long long)tiles_without,
                 tiles_without == 1 ? "" : "s");
    } else {
        snprintf(buf, cap, "%s", p);
    }
}

/* Sums of tiles [first, end): the programs rows and the dataset totals. */
typedef struct tile_sums {
    int64_t rgs, rows, bytes, vals, nulls, with, pixels, zero, rows_without;
} tile_sums;

static tile_sums sum_tiles(const ds_agg *a, int64_t first, int64_t end) {
    tile_sums s = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t i = first; i < end; i++) {
        const ds_tile *t = &a->tiles[i];
        s.rgs += t->row_groups;
        s.rows += t->rows;
        s.bytes += t->bytes;
        s.vals += t->flux_values;
        s.nulls += t->flux_nulls;
        s.with += t->has_pixel_stats;
        s.pixels += t->ps_pixels;
        s.zero += t->ps_ivar_zero;
        s.rows_without += t->has_pixel_stats ? 0 : t->rows;
    }
    return s;
}

/* One programs row for tiles [first, end) (contiguous: paths sort by survey/program). */
static ard_status program_row(ds_model *m, const ds_agg *a, int64_t first, int64_t end,
                              ard_error *err) {
    tile_sums s = sum_tiles(a, first, end);
    char survey[64] = "?", program[64] = "?", c[5][32], ivar[128];
    int64_t pix;
    ard_dataset_parse_tile_path(a->tiles[first].path, survey, program, &pix, NULL);
    snprintf(c[0], sizeof c[0], "%lld", (long long)(end - first));
    snprintf(c[1], sizeof c[1], "%lld", (long long)s.rgs);
    snprintf(c[2], sizeof c[2], "%lld", (long long)s.rows);
    snprintf(c[3], sizeof c[3], "%lld", (long long)s.bytes);
    pct(c[4], sizeof c[4], s.nulls, s.vals);
    ivar_cell(ivar, sizeof ivar, s.zero, s.pixels, s.with, end - first - s.with);
    const char *cells[8] = {survey, program, c[0], c[1], c[2], c[3], c[4], ivar};
    return ard__ds_row(ard__ds_table_get(m, "programs"), cells, err);
}

static int same_program(const char *x, const char *y) {
    /* "tiles/SURVEY/PROGRAM/": compare through the third '/' */
    int slashes = 0;
    for (; *x && *x == *y; x++, y++) {
        if (*x == '/' && ++slashes == 3) {
            return 1;
        }
    }
    return 0;
}

static int cmp_worst(const void *pa, const void *pb) {
    const ds_tile *x = *(const ds_tile *const *)pa;
    const ds_tile *y = *(const ds_tile *const *)pb;
    /* x->nulls / x->values > y->nulls / y->values, compared exactly in 128 bits */
    __int128 lhs = (__int128)x->flux_nulls * (y->flux_values ? y->flux_values : 1);
    __int128 rhs = (__int128)y->flux_nulls * (x->flux_values ? x->flux_values : 1);
    if (lhs != rhs) {
        return lhs > rhs ? -1 : 1;
    }
    return strcmp(x->path, y->path);
}

static ard_status worst_tiles(ds_model *m, const ds_agg *a, int32_t limit, ard_error *err) {
    const ds_tile **order = ard_malloc((size_t)(a->num_tiles ? a->num_tiles : 1) * sizeof *order);
    if (!order) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    int64_t n = 0;
    for (int64_t i = 0; i < a->num_tiles; i++) {
        if (a->tiles[i].flux_values > 0) {
            order[n++] = &a->tiles[i];
        }
    }
    qsort(order, (size_t)n, sizeof *order, cmp_worst);
    ard_status st = ARD_OK;
    for (int64_t k = 0; k < n && k < limit && st == ARD_OK; k++) {
        const ds_tile *t = order[k];
        char c[5][32];
        snprintf(c[0], sizeof c[0], "%lld", (long long)t->rows);
        snprintf(c[1], sizeof c[1], "%lld", (long long)t->flux_nulls);
        pct(c[2], sizeof c[2], t->flux_nulls, t->flux_values);
        snprintf(c[3], sizeof c[3], "%lld", (long long)t->ps_ivar_zero);
        pct(c[4], sizeof c[4], t->ps_ivar_zero, t->ps_pixels);
        if (!t->has_pixel_stats) {
            snprintf(c[3], sizeof c[3], "n/a");
            snprintf(c[4], sizeof c[4], "n/a (no statistics)");
        }
        const char *cells[6] = {t->path, c[0], c[1], c[2], c[3], c[4]};
        st = ard__ds_row(ard__ds_table_get(m, "worst_tiles"), cells, err);
    }
    ard__ds_set(m, "worst_tiles_n", "%lld", (long long)(n < limit ? n : limit));
    ard_free((void *)order);
    return st;
}

/* Says whether every tile carries ard.pixel_stats, or how much the per-class and IVAR = 0 shares
 * leave out. */
static void pixel_stats_note(ds_model *m, int64_t tiles, int64_t with, int64_t rows_without) {
    if (tiles == 0) {
        ard__ds_set(m, "pixel_stats_note", "No tiles are indexed.");
    } else if (with == tiles) {
        ard__ds_set(m, "pixel_stats_note",
                    "All %lld tiles record per-class pixel statistics (`ard.pixel_stats`).",
                    (long long)tiles);
    } else {
        ard__ds_set(
            m, "pixel_stats_note",
            "**WARNING: %lld of %lld tiles (%lld spectra) carry no `ard.pixel_stats` (written "
            "by another tool); their pixels are not counted in the per-class shares or the "
            "IVAR = 0 shares, which cover the other %lld tiles only.**",
            (long long)(tiles - with), (long long)tiles, (long long)rows_without, (long long)with);
    }
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Totals over tiles, per-program rows and the sky area of the distinct occupied pixels. */
static ard_status tile_summary(ds_model *m, const ds_agg *a, ard_error *err) {
    int64_t npix = 0;
    tile_sums s = sum_tiles(a, 0, a->num_tiles);
    int64_t *pix = ard_malloc((size_t)(a->num_tiles ? a->num_tiles : 1) * sizeof *pix);
    if (!pix) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    ard_status st = ARD_OK;
    for (int64_t i = 0, first = 0; i < a->num_tiles; i++) {
        const ds_tile *t = &a->tiles[i];
        if (t->pixnum >= 0) {
            pix[npix++] = t->pixnum;
        }
        if (i + 1 == a->num_tiles || !same_program(t->path, a->tiles[i + 1].path)) {
            st = st == ARD_OK ? program_row(m, a, first, i + 1, err) : st;
            first = i + 1;
        }
    }
    qsort(pix, (size_t)npix, sizeof *pix, cmp_i64);
    int64_t distinct = 0;
    for (int64_t i = 0; i < npix; i++) {
        distinct += i == 0 || pix[i] != pix[i - 1];
    }
    ard_free(pix);
    char c[2][32];
    pct(c[0], sizeof c[0], s.nulls, s.vals);
    pct(c[1], sizeof c[1], s.zero, s.pixels); /* over the tiles with statistics: see the note */
    ard__ds_set(m, "tiles_total", "%lld", (long long)a->num_tiles);
    ard__ds_set(m, "row_groups_total", "%lld", (long long)s.rgs);
    ard__ds_set(m, "tile_bytes", "%lld", (long long)s.bytes);
    ard__ds_set(m, "flux_pixels", "%lld", (long long)s.vals);
    ard__ds_set(m, "flux_nulls", "%lld", (long long)s.nulls);
    ard__ds_set(m, "flux_missing_pct", "%s", c[0]);
    ard__ds_set(m, "ivar_zero_pixels", "%lld", (long long)s.zero);
    ard__ds_set(m, "ivar_zero_pct", "%s", c[1]);
    ard__ds_set(m, "pixel_stats_tiles", "%lld", (long long)s.with);
    ard__ds_set(m, "pixel_stats_pixels", "%lld", (long long)s.pixels);
    pixel_stats_note(m, a->num_tiles, s.with, s.rows_without);
    ard__ds_set(m, "sky_pixels", "%lld", (long long)distinct);
    ard__ds_set(m, "sky_area_deg2", "%.2f", (double)distinct * ard_dataset_tile_area_deg2());
    return st;
}

static void catalog_summary(ds_model *m, const file_row *f, int64_t n) {
    int64_t files = 0, rows = 0, bytes = 0;
    for (int64_t i = 0; i < n; i++) {
        if (strcmp(f[i].kind, "catalog") == 0) {
            files++;
            rows += f[i].rows;
            bytes += f[i].size;
        }
    }
    ard__ds_set(m, "catalog_files", "%lld", (long long)files);
    ard__ds_set(m, "catalog_rows", "%lld", (long long)rows);
    ard__ds_set(m, "catalog_bytes", "%lld", (long long)bytes);
}

/* Distinct tile grids with their tile counts. */
static ard_status grids(ard_index *idx, ds_model *m, ard_error *err) {
    ds_rows r;
    ard_status st = ard__ds_query(
        idx, "SELECT grid, count(*) FROM files WHERE kind = 'tile' GROUP BY grid", &r, err);
    if (st != ARD_OK) {
        return st;
    }
    if (r.nrows > 1) {
        qsort(r.cells, (size_t)r.nrows, (size_t)r.ncols * sizeof *r.cells, ard__ds_strcmp_ptr);
    }
    for (int64_t row = 0; row < r.nrows && st == ARD_OK; row++) {
        const char *cells[2] = {ard__ds_cell(&r, row, 0) ? ard__ds_cell(&r, row, 0) : "(none)",
                                ard__ds_cell(&r, row, 1)};
        st = ard__ds_row(ard__ds_table_get(m, "grids"), cells, err);
    }
    ard__ds_rows_reset(&r);
    return st;
}

ard_status ard__ds_agg_files(const char *dataset, ard_index *idx, int32_t worst, ds_model *m,
                             ds_agg *a, ard_error *err) {
    (void)dataset;
    ds_rows r;
    ard_status st =
        ard__ds_query_typed(idx,
                            "SELECT id, path, kind, size, num_rows, num_row_groups, footer_hash"
                            " FROM files",
                            "ITTIIIT", &r, err);
    if (st != ARD_OK) {
        return st;
    }
    file_row *f = ard_calloc((size_t)(r.nrows ? r.nrows : 1), sizeof *f);
    if (!f) {
        ard__ds_rows_reset(&r);
        return ard_error_set(err, ARD_ENOMEM, "out of memory (%lld files)", (long long)r.nrows);
    }
    for (int64_t i = 0; i < r.nrows; i++) {
        f[i] = (file_row){
            (char *)ard__ds_cell(&r, i, 1), ard__ds_cell_int(&r, i, 0),
            ard__ds_cell_int(&r, i, 3),     ard__ds_cell_int(&r, i, 4),
            ard__ds_cell_int(&r, i, 5),     ard__ds_cell(&r, i, 2) ? ard__ds_cell(&r, i, 2) : "",
            ard__ds_cell(&r, i, 6)};
        if (!f[i].path) {
            f[i].path = (char *)"";
        }
    }
    qsort(f, (size_t)r.nrows, sizeof *f, cmp_file);
    content_hash(f, r.nrows, m);
    catalog_summary(m, f, r.nrows);
    st = collect_tiles(f, r.nrows, a, err);
    if (st == ARD_OK) {
        st = tile_stats(idx, f, r.nrows, m, a, err);
    }
    if (st == ARD_OK) {
        st = tile_summary(m, a, err);
    }
    if (st == ARD_OK) {
        st = worst_tiles(m, a, worst, err);
    }
    if (st == ARD_OK) {
        st = grids(idx, m, err);
    }
    ard_free(f);
    ard__ds_rows_reset(&r);
    return st;
}
