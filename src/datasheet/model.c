/* The datasheet model: the registry of every name a template may use (scalars and repeated
 * tables with their columns) and the values the aggregates give them. Registering names up front
 * lets the renderer reject an unknown placeholder even when a table happens to be empty. */
#include "datasheet_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const scalar_names[] = {
    "dataset_name",
    "ard_version",
    "schema_version",
    "content_hash",
    "files_hashed",
    "galaxies_total",
    "spectra_total",
    "catalog_without_spectra",
    "spectra_without_catalog",
    "linkage_status",
    "zwarn_nonzero",
    "zwarn_nonzero_pct",
    "z_min",
    "z_max",
    "tiles_total",
    "row_groups_total",
    "tile_bytes",
    "catalog_files",
    "catalog_rows",
    "catalog_bytes",
    "flux_pixels",
    "flux_nulls",
    "flux_missing_pct",
    "ivar_zero_pixels",
    "ivar_zero_pct",
    "pixel_stats_tiles",
    "pixel_stats_pixels",
    "pixel_stats_note",
    "ra_min",
    "ra_max",
    "dec_min",
    "dec_max",
    "sky_pixels",
    "sky_area_deg2",
    "source",
    "created_by",
    "tokenization",
    "sync_runs_changing",
    "sync_errors_latest",
    "stream_skips_total",
    "results_count",
    "worst_tiles_n",
    "cosmicweb_status",
    "cosmicweb_predict_run",
    "cosmicweb_train_run",
    "cosmicweb_galaxies",
    "cosmicweb_test_bacc",
    "cosmicweb_baseline_bacc",
    "cosmicweb_val_bacc",
    "cosmicweb_test_galaxies",
    "cosmicweb_truth_bacc",
    /* Anomalies section (aggregate_anomaly.c) */
    "anomaly_status",
    "anomaly_run",
    "anomaly_model_run",
    "anomaly_finished",
    "anomaly_spectra",
    "anomaly_unscored",
    "anomaly_threshold",
    "anomaly_threshold2",
    "anomaly_above",
    "anomaly_above2",
    "anomaly_above_pct",
    "anomaly_median",
    "anomaly_p99",
    "anomaly_max",
};

static const char *const cols_classes[] = {"class",   "galaxies",      "spectra",
                                           "missing", "zwarn_nonzero", "zwarn_pct",
                                           "z_min",   "z_median",      "z_max"};
static const char *const cols_spectypes[] = {"spectype", "galaxies", "pct"};
static const char *const cols_programs[] = {"survey",           "program",      "tiles",
                                            "row_groups",       "spectra",      "bytes",
                                            "flux_missing_pct", "ivar_zero_pct"};
static const char *const cols_class_pixels[] = {
    "class", "spectra", "pixels", "flux_nulls", "flux_missing_pct", "ivar_zero", "ivar_zero_pct"};
static const char *const cols_worst[] = {
    "path", "spectra", "flux_nulls", "flux_missing_pct", "ivar_zero", "ivar_zero_pct"};
static const char *const cols_runs[] = {"run",          "ard_version", "rank",    "size",
                                        "added",        "changed",     "removed", "failed",
                                        "spectra_rows", "galaxy_rows", "status"};
static const char *const cols_errors[] = {"path", "status", "message"};
static const char *const cols_stream_skips[] = {"path", "row_group", "status", "message",
                                                "streams"};
static const char *const cols_results[] = {"table", "rows", "columns"};
static const char *const cols_result_files[] = {"path", "key", "value"};
static const char *const cols_settings[] = {"key", "value"};
static const char *const cols_grids[] = {"grid", "tiles"};
static const char *const cols_sources[] = {"file", "source", "created_by"};
static const char *const cols_cosmicweb_classes[] = {"class",     "galaxies",     "void_pct",
                                                     "sheet_pct", "filament_pct", "knot_pct"};
static const char *const cols_cosmicweb_confusion[] = {"true_class", "void", "sheet", "filament",
                                                       "knot"};
static const char *const cols_atop[] = {"rank",  "targetid", "score", "chi2", "density",
                                        "class", "spectype", "z",     "ra",   "dec"};

typedef struct table_spec {
    const char *name;
    const char *const *cols;
    int32_t ncols;
} table_spec;

#define SPEC(n, c)                                                                                 \
    { n, c, (int32_t)(sizeof c / sizeof c[0]) }
static const table_spec table_specs[] = {
    SPEC("classes", cols_classes),
    SPEC("spectypes", cols_spectypes),
    SPEC("programs", cols_programs),
    SPEC("worst_tiles", cols_worst),
    SPEC("sync_runs", cols_runs),
    SPEC("sync_errors", cols_errors),
    SPEC("results", cols_results),
    SPEC("result_files", cols_result_files),
    SPEC("settings", cols_settings),
    SPEC("grids", cols_grids),
    SPEC("sources", cols_sources),
    SPEC("class_pixels", cols_class_pixels),
    SPEC("stream_skips", cols_stream_skips),
    SPEC("cosmicweb_classes", cols_cosmicweb_classes),
    SPEC("cosmicweb_confusion", cols_cosmicweb_confusion),
    SPEC("anomaly_top", cols_atop),
};
#undef SPEC

#define NUM_SCALARS ((int32_t)(sizeof scalar_names / sizeof scalar_names[0]))
#define NUM_TABLES ((int32_t)(sizeof table_specs / sizeof table_specs[0]))

int32_t ard__ds_num_scalars(void) {
    return NUM_SCALARS;
}
const char *ard__ds_scalar_name(int32_t i) {
    return i >= 0 && i < NUM_SCALARS ? scalar_names[i] : NULL;
}
int32_t ard__ds_num_tables(void) {
    return NUM_TABLES;
}
const char *ard__ds_table_name(int32_t i) {
    return i >= 0 && i < NUM_TABLES ? table_specs[i].name : NULL;
}
int32_t ard__ds_table_ncols(int32_t i) {
    return i >= 0 && i < NUM_TABLES ? table_specs[i].ncols : 0;
}
const char *const *ard__ds_table_cols(int32_t i) {
    return i >= 0 && i < NUM_TABLES ? table_specs[i].cols : NULL;
}

static int name_is(const char *registered, const char *name, size_t len) {
    return strlen(registered) == len && memcmp(registered, name, len) == 0;
}

int32_t ard__ds_scalar_find(const char *name, size_t len) {
    for (int32_t i = 0; i < NUM_SCALARS; i++) {
        if (name_is(scalar_names[i], name, len)) {
            return i;
        }
    }
    return -1;
}

int32_t ard__ds_table_find(const char *name, size_t len) {
    for (int32_t i = 0; i < NUM_TABLES; i++) {
        if (name_is(table_specs[i].name, name, len)) {
            return i;
        }
    }
    return -1;
}

ard_status ard__ds_model_init(ds_model *m, ard_error *err) {
    memset(m, 0, sizeof *m);
    m->scalars = ard_calloc((size_t)NUM_SCALARS, sizeof *m->scalars);
    m->tables = ard_calloc((size_t)NUM_TABLES, sizeof *m->tables);
    if (!m->scalars || !m->tables) {
        ard__ds_model_reset(m);
        return ard_error_set(err, ARD_ENOMEM, "out of memory (datasheet model)");
    }
    for (int32_t i = 0; i < NUM_TABLES; i++) {
        m->tables[i].name = table_specs[i].name;
        m->tables[i].cols = table_specs[i].cols;
        m->tables[i].ncols = table_specs[i].ncols;
    }
    return ARD_OK;
}

void ard__ds_model_reset(ds_model *m) {
    if (m->scalars) {
        for (int32_t i = 0; i < NUM_SCALARS; i++) {
            ard_free(m->scalars[i]);
        }
    }
    if (m->tables) {
        for (int32_t i = 0; i < NUM_TABLES; i++) {
            ds_table *t = &m->tables[i];
            for (int64_t c = 0; c < t->nrows * t->ncols; c++) {
                ard_free(t->cells[c]);
            }
            ard_free(t->cells);
        }
    }
    ard_free(m->scalars);
    ard_free(m->tables);
    memset(m, 0, sizeof *m);
}

ard_status ard__ds_set(ds_model *m, const char *name, const char *fmt, ...) {
    int32_t i = ard__ds_scalar_find(name, strlen(name));
    if (i < 0) {
        m->failed = 1;
        return ARD_EINVAL;
    }
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    ard_free(m->scalars[i]);
    m->scalars[i] = ard_strdup(tmp);
    if (!m->scalars[i]) {
        m->failed = 1;
        return ARD_ENOMEM;
    }
    return ARD_OK;
}

const char *ard__ds_get(const ds_model *m, const char *name) {
    int32_t i = ard__ds_scalar_find(name, strlen(name));
    return i < 0 ? NULL : m->scalars[i];
}

ds_table *ard__ds_table_get(ds_model *m, const char *name) {
    int32_t i = ard__ds_table_find(name, strlen(name));
    return i < 0 ? NULL : &m->tables[i];
}

ard_status ard__ds_row(ds_table *t, const char *const *cells, ard_error *err) {
    if (t->nrows == t->cap) {
        int64_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = ard_realloc(t->cells, (size_t)(cap * t->ncols) * sizeof *grown);
        if (!grown) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory (datasheet table %s)", t->name);
        }
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (int32_t c = 0; c < t->ncols; c++) {
        row[c] = ard_strdup(cells[c] ? cells[c] : "");
        if (!row[c]) {
            for (int32_t k = 0; k < c; k++) {
                ard_free(row[k]);
            }
            return ard_error_set(err, ARD_ENOMEM, "out of memory (datasheet table %s)", t->name);
        }
    }
    t->nrows++;
    return ARD_OK;
}
