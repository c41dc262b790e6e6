/* Result tables: the science stages (fof groups, anomalies, cosmic web) write their per-galaxy and
 * per-group results back into the index through one generic call, in one transaction with the
 * backend's bulk path. */
#include "index_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const reserved_tables[] = {
    "meta",          "files",           "row_groups",
    "column_stats",  "spectra",         "galaxies",
    "sync_runs",     "sync_errors",     "catalog_summary",
    "catalog_zhist", "catalog_linkage", "tile_pixel_stats"};

int ard__table_reserved(const char *table) {
    char lower[64];
    size_t n = strlen(table);
    for (size_t i = 0; i <= n && i < sizeof lower; i++) {
        lower[i] = (char)tolower((unsigned char)table[i]);
    }
    lower[sizeof lower - 1] = '\0';
    for (size_t i = 0; i < sizeof reserved_tables / sizeof reserved_tables[0]; i++) {
        if (strcmp(lower, reserved_tables[i]) == 0) {
            return 1;
        }
    }
    return strncmp(lower, "sqlite_", 7) == 0 || strncmp(lower, "pg_", 3) == 0;
}

static ard_status check_args(const ard_index *idx, const char *table, const ard_index_column *cols,
                             int32_t ncols, int64_t nrows, int32_t mode, ard_error *err) {
    if (!idx || !table || (!cols && ncols > 0) || ncols <= 0 || ncols > 64 || nrows < 0 ||
        (mode != ARD_INDEX_REPLACE && mode != ARD_INDEX_APPEND)) {
        return ard_error_set(err, ARD_EINVAL, "write_table: bad arguments");
    }
    if (idx->read_only) {
        return ard_error_set(err, ARD_EPERM, "write_table: the index was opened read-only");
    }
    if (!ard__idx_identifier(table)) {
        return ard_error_set(err, ARD_EINVAL, "write_table: '%s' is not a valid table name", table);
    }
    if (ard__table_reserved(table)) {
        return ard_error_set(err, ARD_EPERM, "write_table: '%s' belongs to the index itself",
                             table);
    }
    for (int32_t c = 0; c < ncols; c++) {
        if (!ard__idx_identifier(cols[c].name)) {
            return ard_error_set(err, ARD_EINVAL, "write_table: column %d: invalid name", c);
        }
        if (cols[c].type < ARD_INDEX_INT64 || cols[c].type > ARD_INDEX_TEXT ||
            (!cols[c].values && nrows > 0)) {
            return ard_error_set(err, ARD_EINVAL, "write_table: column %s: bad type or no values",
                                 cols[c].name);
        }
    }
    return ARD_OK;
}

ard_status ard__table_create(ard_index *idx, const char *table, const ard_index_column *cols,
                             int32_t ncols, int32_t mode, ard_error *err) {
    static const char *const types[] = {"BIGINT", "DOUBLE PRECISION", "TEXT"};
    ard_buf sql;
    ard_buf_init(&sql);
    if (mode == ARD_INDEX_REPLACE) {
        ard_buf_appendf(&sql, "DROP TABLE IF EXISTS %s; ", table);
    }
    ard_buf_appendf(&sql, "CREATE TABLE IF NOT EXISTS %s (", table);
    int has_targetid = 0;
    for (int32_t c = 0; c < ncols; c++) {
        ard_buf_appendf(&sql, "%s%s %s", c ? ", " : "", cols[c].name, types[cols[c].type]);
        has_targetid |=
            strcmp(cols[c].name, "targetid") == 0 || strcmp(cols[c].name, "TARGETID") == 0;
    }
    ard_buf_appendf(&sql, ");");
    if (has_targetid) {
        ard_buf_appendf(&sql, " CREATE INDEX IF NOT EXISTS %s_targetid ON %s (targetid);", table,
                        table);
    }
    ard_buf_append(&sql, "", 1);
    ard_status st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                               : ard__idx_exec(idx, (const char *)sql.data, err);
    ard_buf_reset(&sql);
    return st;
}

static int valid_bit(const uint8_t *validity, int64_t r) {
    return !validity || ((validity[r >> 3] >> (r & 7)) & 1);
}

ard_status ard__table_load(ard_index *idx, const char *table, const ard_index_column *cols,
                           int32_t ncols, int64_t nrows, ard_error *err) {
    const char *names[64];
    idx_value v[64];
    for (int32_t c = 0; c < ncols; c++) {
        names[c] = cols[c].name;
    }
    ard_status st = idx->be->ops->bulk_begin(idx->be, table, names, ncols, err);
    for (int64_t r = 0; r < nrows && st == ARD_OK; r++) {
        for (int32_t c = 0; c < ncols; c++) {
            memset(&v[c], 0, sizeof v[c]);
            if (!valid_bit(cols[c].validity, r)) {
                continue;
            }
            if (cols[c].type == ARD_INDEX_INT64) {
                v[c].type = IDX_INT;
                v[c].i = ((const int64_t *)cols[c].values)[r];
            } else if (cols[c].type == ARD_INDEX_DOUBLE) {
                v[c].type = IDX_DOUBLE;
                v[c].d = ((const double *)cols[c].values)[r];
            } else {
                v[c].s = ((const char *const *)cols[c].values)[r];
                v[c].type = v[c].s ? IDX_TEXT : IDX_NULL;
            }
        }
        st = idx->be->ops->bulk_row(idx->be, v, err);
    }
    ard_status end = idx->be->ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    return st != ARD_OK ? st : end;
}

ard_status ard_index_write_table(ard_index *idx, const char *table, const ard_index_column *cols,
                                 int32_t ncols, int64_t nrows, int32_t mode, ard_error *err) {
    ard_status st = check_args(idx, table, cols, ncols, nrows, mode, err);
    if (st != ARD_OK) {
        return st;
    }
    st = ard__idx_begin_write(idx, err);
    if (st != ARD_OK) {
        return st;
    }
    st = ard__table_create(idx, table, cols, ncols, mode, err);
    if (st == ARD_OK) {
        st = ard__table_load(idx, table, cols, ncols, nrows, err);
    }
    if (st == ARD_OK) {
        st = ard__idx_exec(idx, "COMMIT", err);
    }
    if (st != ARD_OK) {
        ard__idx_exec(idx, "ROLLBACK", NULL);
        ard_error_prefix(err, "writing table %s: ", table);
    }
    return st;
}
