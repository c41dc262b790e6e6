/* Provenance aggregates: where the data came from (the ard.source and created_by of the footers),
 * the sync runs that changed the index and the errors of the latest run, the index settings (meta),
 * and the science results present (result tables in the index, results/ Parquet files with their
 * ard.* parameters). Sync timestamps are deliberately left out: the datasheet of the same data must
 * be the same bytes whenever and on whichever backend it is generated. */
#include "datasheet_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reserved[] = {"meta",         "files",       "row_groups",
                                       "column_stats", "spectra",     "galaxies",
                                       "sync_runs",    "sync_errors", "stream_skips"};

static void lower(char *s) {
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            *s = (char)(*s - 'A' + 'a');
        }
    }
}

static ard_status sync_runs(ard_index *idx, ds_model *m, ard_error *err) {
    ds_rows r;
    ard_status st =
        ard__ds_query(idx,
                      "SELECT id, ard_version, rank, size, files_added, files_changed,"
                      " files_removed, files_failed, spectra_rows, galaxy_rows, status"
                      " FROM sync_runs WHERE files_added + files_changed + files_removed > 0"
                      " ORDER BY id", /* integers order alike on both backends */
                      &r, err);
    if (st != ARD_OK) {
        return st;
    }
    for (int64_t i = 0; i < r.nrows && st == ARD_OK; i++) {
        const char *cells[11];
        for (int32_t c = 0; c < 11; c++) {
            cells[c] = ard__ds_cell(&r, i, c);
        }
        st = ard__ds_row(ard__ds_table_get(m, "sync_runs"), cells, err);
    }
    ard__ds_set(m, "sync_runs_changing", "%lld", (long long)r.nrows);
    ard__ds_rows_reset(&r);
    return st;
}

static ard_status sync_errors(ard_index *idx, ds_model *m, ard_error *err) {
    ds_rows r;
    ard_status st = ard__ds_query(idx,
                                  "SELECT path, status, message FROM sync_errors WHERE run_id ="
                                  " (SELECT max(id) FROM sync_runs)",
                                  &r, err);
    if (st != ARD_OK) {
        return st;
    }
    if (r.nrows > 1) {
        qsort(r.cells, (size_t)r.nrows, (size_t)r.ncols * sizeof *r.cells, ard__ds_strcmp_ptr);
    }
    for (int64_t i = 0; i < r.nrows && st == ARD_OK; i++) {
        const char *cells[3] = {ard__ds_cell(&r, i, 0), ard__ds_cell(&r, i, 1),
                                ard__ds_cell(&r, i, 2)};
        st = ard__ds_row(ard__ds_table_get(m, "sync_errors"), cells, err);
    }
    ard__ds_set(m, "sync_errors_latest", "%lld", (long long)r.nrows);
    ard__ds_rows_reset(&r);
    return st;
}

static ard_status settings(ard_index *idx, ds_model *m, ard_error *err) {
    ds_rows r;
    ard_status st = ard__ds_query(idx, "SELECT key, value FROM meta", &r, err);
    if (st != ARD_OK) {
        return st;
    }
    if (r.nrows > 1) {
        qsort(r.cells, (size_t)r.nrows, (size_t)r.ncols * sizeof *r.cells, ard__ds_strcmp_ptr);
    }
    const char *tokenize = NULL;
    for (int64_t i = 0; i < r.nrows && st == ARD_OK; i++) {
        const char *cells[2] = {ard__ds_cell(&r, i, 0), ard__ds_cell(&r, i, 1)};
        if (cells[0] && strcmp(cells[0], "tokenize") == 0) {
            tokenize = cells[1];
        }
        st = ard__ds_row(ard__ds_table_get(m, "settings"), cells, err);
    }
    ard__ds_set(m, "tokenization", "%s",
                tokenize
                    ? tokenize
                    : "not recorded in the index; `ard stream` defaults apply: patches of 64 bins,"
                      " each divided by the median of its valid pixels (masked pixels -> 0)");
    ard__ds_rows_reset(&r);
    return st;
}

/* created_by of every file with counts, "; "-joined. */
static ard_status created_by(ard_index *idx, ds_model *m, ard_error *err) {
    ds_rows r;
    ard_status st = ard__ds_query_typed(
        idx, "SELECT created_by, count(*) FROM files GROUP BY created_by", "TI", &r, err);
    if (st == ARD_OK) {
        st = ard__ds_sort_rows(&r, 0, ard__ds_strcmp_null, err);
    }
    if (st != ARD_OK) {
        ard__ds_rows_reset(&r);
        return st;
    }
    ard_buf b;
    ard_buf_init(&b);
    for (int64_t i = 0; i < r.nrows; i++) {
        ard_buf_appendf(&b, "%s%s (%lld files)", i ? "; " : "",
                        ard__ds_cell(&r, i, 0) ? ard__ds_cell(&r, i, 0) : "unknown",
                        (long long)ard__ds_cell_int(&r, i, 1));
    }
    ard_buf_append(&b, "", 1);
    ard__ds_set(m, "created_by", "%s", b.failed ? "" : (const char *)b.data);
    ard_buf_reset(&b);
    ard__ds_rows_reset(&r);
    return ARD_OK;
}

/* The ard.source and created_by of the first file (in path order) of a kind, from its footer. */
static ard_status source_of(const char *dataset, ard_index *idx, const char *kind, ds_model *m,
                            ard_error *err) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT path FROM files WHERE kind = '%s'", kind);
    ds_rows r;
    ard_status st = ard__ds_query(idx, sql, &r, err);
    if (st != ARD_OK || r.nrows == 0) {
        ard__ds_rows_reset(&r);
        return st;
    }
    qsort(r.cells, (size_t)r.nrows, (size_t)r.ncols * sizeof *r.cells, ard__ds_strcmp_ptr);
    char *full = NULL;
    ard_tile *pq = NULL;
    const char *source = "unavailable (the file is gone since the last sync)", *by = "";
    /* A file removed since the sync is reported in the text; a path that leaves the dataset or a
     * footer that cannot be read (I/O error, corrupt) fails the datasheet, naming the file. */
    st = ard_path_confine(dataset ? dataset : ".", ard__ds_cell(&r, 0, 0), "index files row", &full,
                          err);
    if (st == ARD_OK) {
        ard_error open_err = {0};
        st = ard_tile_open(full, &pq, &open_err);
        if (st == ARD_ENOENT) {
            st = ARD_OK;
        } else if (st != ARD_OK) {
            ard_error_set(err, st, "%s", open_err.msg);
        } else {
            const char *s = ard_tile_kv(pq, ARD_KV_SOURCE);
            source = s ? s : "not recorded (no ard.source in the footer)";
            by = ard_tile_created_by(pq);
        }
    }
    const char *cells[3] = {ard__ds_cell(&r, 0, 0), source, by};
    if (st == ARD_OK) {
        st = ard__ds_row(ard__ds_table_get(m, "sources"), cells, err);
    }
    if (st == ARD_OK && (strcmp(kind, "catalog") == 0 || !ard__ds_get(m, "source"))) {
        ard__ds_set(m, "source", "%s", source);
    }
    ard_tile_close(pq);
    ard_free(full);
    ard__ds_rows_reset(&r);
    return st;
}

static int column_names(void *ctx, int32_t n, const char *const *names, const char *const *vals) {
    (void)vals;
    ard_buf *b = ctx;
    for (int32_t i = 0; i < n; i++) {
        ard_buf_appendf(b, "%s%s", i ? ", " : "", names[i]);
    }
    return 1;
}

/* One results row: table name, row count and its columns (lower case, as PostgreSQL folds). */
static ard_status result_table(ard_index *idx, ds_model *m, const char *name, ard_error *err) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", name);
    ds_rows r;
    ard_status st = ard__ds_query(idx, sql, &r, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_buf cols;
    ard_buf_init(&cols);
    snprintf(sql, sizeof sql, "SELECT * FROM %s LIMIT 1", name);
    st = ard_index_select(idx, sql, column_names, &cols, err);
    ard_buf_append(&cols, "", 1);
    if (st == ARD_OK && !cols.failed) {
        lower((char *)cols.data);
        char lname[128];
        snprintf(lname, sizeof lname, "%s", name);
        lower(lname);
        const char *cells[3] = {lname, ard__ds_cell(&r, 0, 0), (const char *)cols.data};
        st = ard__ds_row(ard__ds_table_get(m, "results"), cells, err);
    }
    ard_buf_reset(&cols);
    ard__ds_rows_reset(&r);
    return st;
}

static int is_reserved(const char *name) {
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (strcasecmp(name, reserved[i]) == 0) {
            return 1;
        }
    }
    return strncmp(name, "sqlite_", 7) == 0;
}

static ard_status result_tables(ard_index *idx, ds_model *m, ard_error *err) {
    ard_column_set *tables = NULL;
    ard_status st = ard_index_tables(idx, &tables, err); /* lower case, sorted */
    if (st != ARD_OK) {
        return st;
    }
    const char *const *names = ard_column_set_column(tables, 0)->values;
    int64_t n = 0;
    for (int64_t i = 0; i < ard_column_set_num_rows(tables) && st == ARD_OK; i++) {
        if (!is_reserved(names[i])) {
            st = result_table(idx, m, names[i], err);
            n++;
        }
    }
    ard__ds_set(m, "results_count", "%lld", (long long)n);
    ard_column_set_free(tables);
    return st;
}

/* results/ Parquet footers: their ard.* key-value pairs (parameters, run ids). */
static ard_status result_files(const char *dataset, ds_model *m, ard_error *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/results", dataset ? dataset : ".");
    DIR *d = opendir(dir);
    if (!d) {
        return ARD_OK;
    }
    char *names[512];
    int32_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 512) {
        size_t len = strlen(e->d_name);
        if (len > 8 && strcmp(e->d_name + len - 8, ".parquet") == 0) {
            names[n] = ard_strdup(e->d_name);
            n += names[n] != NULL;
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, ard__ds_strcmp_ptr);
    ard_status st = ARD_OK;
    for (int32_t i = 0; i < n; i++) {
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", dir, names[i]);
        ard_tile *pq = NULL;
        if (st == ARD_OK && ard_tile_open(full, &pq, NULL) == ARD_OK) {
            for (int32_t k = 0; k < ard_tile_num_kv(pq) && st == ARD_OK; k++) {
                const char *key = NULL, *val = NULL;
                int64_t val_len = 0;
                ard_tile_kv_at(pq, k, &key, &val, &val_len, NULL);
                if (strncmp(key, "ard.", 4) != 0 || strcmp(key, ARD_KV_VERSION) == 0 ||
                    strcmp(key, ARD_KV_GRID) == 0) {
                    continue;
                }
                char value[1024];
                snprintf(value, sizeof value, "%.*s", (int)val_len, val ? val : "");
                char path[600];
                snprintf(path, sizeof path, "results/%s", names[i]);
                const char *cells[3] = {path, key, value};
                st = ard__ds_row(ard__ds_table_get(m, "result_files"), cells, err);
            }
        }
        ard_tile_close(pq);
        ard_free(names[i]);
    }
    return st;
}

ard_status ard__ds_agg_history(const char *dataset, ard_index *idx, ds_model *m, ard_error *err) {
    ard__ds_set(m, "ard_version", "%s", ARD_VERSION_STRING);
    ard__ds_set(m, "schema_version", "%d", (int)ard_index_schema_version(idx));
    ard_status st = sync_runs(idx, m, err);
    if (st == ARD_OK) {
        st = sync_errors(idx, m, err);
    }
    if (st == ARD_OK) {
        st = ard__ds_agg_stream_skips(idx, m, err);
    }
    if (st == ARD_OK) {
        st = settings(idx, m, err);
    }
    if (st == ARD_OK) {
        st = created_by(idx, m, err);
    }
    if (st == ARD_OK) {
        st = source_of(dataset, idx, "catalog", m, err);
    }
    if (st == ARD_OK) {
        st = source_of(dataset, idx, "tile", m, err);
    }
    if (st == ARD_OK) {
        st = result_tables(idx, m, err);
    }
    if (st == ARD_OK) {
        st = result_files(dataset, m, err);
    }
    if (st == ARD_OK && !ard__ds_get(m, "source")) {
        ard__ds_set(m, "source", "unknown (no files indexed)");
    }
    return st;
}
