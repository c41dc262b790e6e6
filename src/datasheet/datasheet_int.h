/* Private header of the datasheet module: the model (named scalars and tables the template refers
 * to), the aggregates computed from the index, the template renderer and the SVG figures. */
#ifndef ARD_DATASHEET_INT_H
#define ARD_DATASHEET_INT_H

#include "ard/datasheet.h"

#include <stdint.h>

/* ---- model: what placeholders can name (model.c) ---- */

typedef struct ds_table {
    const char *name;
    const char *const *cols; /* registered column names */
    int32_t ncols;
    int64_t nrows, cap;
    char **cells; /* nrows * ncols owned strings */
} ds_table;

typedef struct ds_model {
    char **scalars; /* one per registered scalar name (NULL = unset -> "") */
    ds_table *tables;
    int failed; /* an allocation failed */
} ds_model;

/* The registry: every scalar and table a template may name. */
int32_t ard__ds_num_scalars(void);
const char *ard__ds_scalar_name(int32_t i);
int32_t ard__ds_num_tables(void);
const char *ard__ds_table_name(int32_t i);
int32_t ard__ds_table_ncols(int32_t i);
const char *const *ard__ds_table_cols(int32_t i);

ard_status ard__ds_model_init(ds_model *m, ard_error *err);
void ard__ds_model_reset(ds_model *m);
/* Sets scalar `name` (must be registered: ARD_EINVAL otherwise, a bug). */
ard_status ard__ds_set(ds_model *m, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Scalar index or -1; table index or -1. */
int32_t ard__ds_scalar_find(const char *name, size_t len);
int32_t ard__ds_table_find(const char *name, size_t len);
ds_table *ard__ds_table_get(ds_model *m, const char *name);
/* The value of a scalar, NULL when unset or unknown. */
const char *ard__ds_get(const ds_model *m, const char *name);
/* Appends a row: cells given as `ncols` strings (copied; NULL -> ""). */
ard_status ard__ds_row(ds_table *t, const char *const *cells, ard_error *err);

/* ---- template (template.c) ---- */

/* Renders `tmpl` (named `tmpl_name` in messages) with the model into out. */
ard_status ard__ds_render(const ds_model *m, const char *tmpl, const char *tmpl_name, ard_buf *out,
                          ard_error *err);

/* ---- aggregates (aggregate*.c) ---- */

#define DS_MAX_CLASSES 8
#define DS_MAX_BINS 52 /* figure bins, each a whole number of catalog_zhist bins */
#define DS_ANOMALY_BINS 40
#define ARD_DS_ANOMALY_THRESHOLD 3.0 /* "above the threshold": score > 3 (a 3-sigma outlier) */

typedef struct ds_tile {
    char *path;
    int64_t pixnum;
    int64_t rows, bytes, row_groups;
    int64_t flux_values, flux_nulls; /* from column_stats (FLUX) */
    /* from tile_pixel_stats (the footer's ard.pixel_stats), summed over classes */
    int has_pixel_stats;
    int64_t ps_pixels, ps_ivar_zero;
} ds_tile;

#define DS_CW_CLASSES 4    /* void, sheet, filament, knot */
#define DS_CW_POINTS 20000 /* galaxies drawn in the cosmic-web slice */

typedef struct ds_cw_point {
    int64_t targetid;
    double ra, z;
    int32_t cls;
} ds_cw_point;

typedef struct ds_agg {
    /* redshift histograms per class */
    int32_t num_classes;
    char class_names[DS_MAX_CLASSES][32];
    int32_t num_bins;
    double z_lo, z_width;
    int64_t hist[DS_MAX_CLASSES][DS_MAX_BINS];
    /* tiles, sorted by path */
    ds_tile *tiles;
    int64_t num_tiles;
    /* the cosmic-web slice (aggregate_cosmicweb.c): predicted classes, |dec - mid| <= half */
    ds_cw_point *cw_points;
    int64_t num_cw_points;
    double cw_dec_mid, cw_dec_half;
    /* anomaly score histogram of the latest scoring run (aggregate_anomaly.c); 0 bins = no run */
    int32_t anomaly_bins;
    double anomaly_lo, anomaly_width;
    int64_t anomaly_hist[DS_ANOMALY_BINS];
} ds_agg;

void ard__ds_agg_reset(ds_agg *a);

/* Runs every query and fills model + agg. */
ard_status ard__ds_aggregate(const char *dataset, ard_index *idx, int32_t worst_tiles, ds_model *m,
                             ds_agg *a, ard_error *err);
/* The parts (aggregate_*.c). */
/* Canonical class order for tables: BGS, LRG, ELG, QSO (0-3), other names 4 (then by name), NULL 5.
 */
int ard__ds_class_rank(const char *name);
ard_status ard__ds_agg_catalog(ard_index *idx, ds_model *m, ds_agg *a, ard_error *err);
ard_status ard__ds_agg_files(const char *dataset, ard_index *idx, int32_t worst_tiles, ds_model *m,
                             ds_agg *a, ard_error *err);
ard_status ard__ds_agg_history(const char *dataset, ard_index *idx, ds_model *m, ard_error *err);
/* Row groups streams skipped in tiles unchanged since (aggregate_skips.c). */
ard_status ard__ds_agg_stream_skips(ard_index *idx, ds_model *m, ard_error *err);
ard_status ard__ds_agg_cosmicweb(ard_index *idx, ds_model *m, ds_agg *a, ard_error *err);
/* The "Anomalies" section (aggregate_anomaly.c) and its figure figures/anomaly-scores.svg. */
ard_status ard__ds_agg_anomaly(ard_index *idx, ds_model *m, ds_agg *a, ard_error *err);
void ard__ds_svg_anomaly(const ds_agg *a, ard_buf *out);
ard_status ard__ds_anomaly_figure(const ds_agg *a, const char *dir, ard_error *err);

/* The rows of one SELECT: either typed (ard__ds_query_typed: an ard_column_set read through
 * ard_index_select_columns, nothing parsed) or all text (ard__ds_query: rows * ncols strings, NULL
 * for SQL NULL; only for statements whose cells are text, e.g. paths the caller sorts). */
typedef struct ds_rows {
    int32_t ncols;
    int64_t nrows, cap;
    char **cells;
    ard_column_set *set; /* typed rows, or NULL */
    int64_t *order;      /* typed rows: row i is set row order[i] (ard__ds_sort_rows), or NULL */
    int failed;
} ds_rows;
ard_status ard__ds_query(ard_index *idx, const char *sql, ds_rows *out, ard_error *err);
/* types: one letter per result column, 'T' text, 'I' int64, 'D' double. */
ard_status ard__ds_query_typed(ard_index *idx, const char *sql, const char *types, ds_rows *out,
                               ard_error *err);
void ard__ds_rows_reset(ds_rows *r);
/* Orders the rows of a typed set by text column col with cmp (NULL cells passed as NULL); stable;
 * meant for the few rows of an aggregate (insertion sort). ARD_ENOMEM. */
ard_status ard__ds_sort_rows(ds_rows *r, int32_t col, int (*cmp)(const char *, const char *),
                             ard_error *err);
/* Text cell (NULL for SQL NULL, or a numeric column of a typed set). */
const char *ard__ds_cell(const ds_rows *r, int64_t row, int32_t col);
/* Numeric cells of a typed set (an int64 column read as double, a double one rounded to int64).
 * SQL NULL, a text column or a text set -> 0 / NaN: nothing is parsed. */
int64_t ard__ds_cell_int(const ds_rows *r, int64_t row, int32_t col);
double ard__ds_cell_double(const ds_rows *r, int64_t row, int32_t col);
int ard__ds_strcmp_ptr(const void *a, const void *b);
/* strcmp with NULL as "" (ard__ds_sort_rows). */
int ard__ds_strcmp_null(const char *a, const char *b);

/* ---- figures (svg*.c) ---- */
/* Writes the three figures into dir (created if missing). */
ard_status ard__ds_write_figures(const ds_agg *a, const char *dir, ard_error *err);
/* Figure i of DS_NUM_FIGURES: 0..3 as ard__ds_write_figures, 4 the anomaly figure. */
#define DS_NUM_FIGURES 5
ard_status ard__ds_write_figure(const ds_agg *a, const char *dir, int32_t i, ard_error *err);
void ard__ds_svg_redshift(const ds_agg *a, ard_buf *out);
void ard__ds_svg_sky(const ds_agg *a, ard_buf *out);
void ard__ds_svg_completeness(const ds_agg *a, ard_buf *out);
void ard__ds_svg_cosmicweb(const ds_agg *a, ard_buf *out);

#endif
