/* Row groups that streams left out (`ard stream --on-error skip`, recorded by the loader in the
 * index table stream_skips with the tile's mtime then): the datasheet lists those of indexed tiles
 * the index has not seen change since (files.mtime_ns not newer: a rewritten and re-synced tile
 * drops out; a sync that only notices the damage keeps them), one line per (tile, row group),
 * however many streams met it. Ordered here in C, so both backends give the same bytes. */
#include "datasheet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct skip_row {
    const char *path, *status, *message;
    int64_t row_group, times;
} skip_row;

static int skip_cmp(const void *a, const void *b) {
    const skip_row *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c == 0) {
        c = (x->row_group > y->row_group) - (x->row_group < y->row_group);
    }
    if (c == 0) {
        c = strcmp(x->status, y->status);
    }
    return c ? c : strcmp(x->message, y->message);
}

static int has_table(ard_index *idx, const char *name, ard_status *st, ard_error *err) {
    ard_column_set *tables = NULL;
    *st = ard_index_tables(idx, &tables, err);
    int found = 0;
    for (int64_t i = 0; *st == ARD_OK && i < ard_column_set_num_rows(tables); i++) {
        const char *const *names = ard_column_set_column(tables, 0)->values;
        found |= names[i] && strcmp(names[i], name) == 0;
    }
    ard_column_set_free(tables);
    return found;
}

/* Adds the sorted rows to the model, one per (path, row group): the first message in sort order,
 * the number of stream records. Returns the number of lines. */
static int64_t add_lines(ds_model *m, const skip_row *rows, int64_t n, ard_status *st,
                         ard_error *err) {
    int64_t lines = 0;
    for (int64_t i = 0; i < n && *st == ARD_OK;) {
        int64_t j = i + 1;
        while (j < n && strcmp(rows[j].path, rows[i].path) == 0 &&
               rows[j].row_group == rows[i].row_group) {
            j++;
        }
        char rg[24], streams[24];
        snprintf(rg, sizeof rg, "%lld", (long long)rows[i].row_group);
        snprintf(streams, sizeof streams, "%lld", (long long)(j - i));
        const char *cells[5] = {rows[i].path, rg, rows[i].status, rows[i].message, streams};
        *st = ard__ds_row(ard__ds_table_get(m, "stream_skips"), cells, err);
        lines++;
        i = j;
    }
    return lines;
}

ard_status ard__ds_agg_stream_skips(ard_index *idx, ds_model *m, ard_error *err) {
    ard_status st = ARD_OK;
    ard__ds_set(m, "stream_skips_total", "0");
    if (!has_table(idx, "stream_skips", &st, err)) {
        return st;
    }
    ds_rows r;
    st = ard__ds_query_typed(idx,
                             "SELECT s.path, s.row_group, s.status, s.message FROM stream_skips s"
                             " JOIN files f ON f.path = s.path AND f.mtime_ns <= s.tile_mtime_ns",
                             "TITT", &r, err);
    if (st != ARD_OK) {
        return st;
    }
    skip_row *rows = ard_calloc((size_t)(r.nrows ? r.nrows : 1), sizeof *rows);
    if (!rows) {
        ard__ds_rows_reset(&r);
        return ard_error_set(err, ARD_ENOMEM, "out of memory (datasheet stream skips)");
    }
    for (int64_t i = 0; i < r.nrows; i++) {
        const char *status = ard__ds_cell(&r, i, 2), *message = ard__ds_cell(&r, i, 3);
        rows[i] = (skip_row){ard__ds_cell(&r, i, 0), status ? status : "", message ? message : "",
                             ard__ds_cell_int(&r, i, 1), 0};
    }
    qsort(rows, (size_t)r.nrows, sizeof *rows, skip_cmp);
    int64_t lines = add_lines(m, rows, r.nrows, &st, err);
    ard__ds_set(m, "stream_skips_total", "%lld", (long long)lines);
    ard_free(rows);
    ard__ds_rows_reset(&r);
    return st;
}
