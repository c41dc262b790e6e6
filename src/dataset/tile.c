/* The spectrum reader's tile level: an open tile, its row groups and the decoding of its TARGETID
 * and list<float> columns into caller memory. The loader reads through these calls; the plan
 * reader (fetch.c) shares the column lookup (fetch_u8.c). */
#include "dataset_int.h"

#include <string.h>

ard_status ard_tile_open(const char *path, ard_tile **out, ard_error *err) {
    return ard_tile_open_pooled(path, NULL, out, err);
}

ard_status ard_tile_open_pooled(const char *path, ard_parquet_buffers *buffers, ard_tile **out,
                                ard_error *err) {
    if (!out || !path) {
        return ard_error_set(err, ARD_EINVAL, "ard_tile_open: bad arguments");
    }
    *out = NULL;
    ard_tile *t = ard_calloc(1, sizeof *t);
    if (!t) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory opening %s", path);
    }
    ard_parquet_open_options po = {0};
    po.buffers = buffers;
    ard_status st = ard_parquet_open(path, &po, &t->pq, err);
    if (st != ARD_OK) {
        ard_free(t);
        return st;
    }
    *out = t;
    return ARD_OK;
}

void ard_tile_close(ard_tile *tile) {
    if (tile) {
        ard_parquet_close(tile->pq);
        ard_free(tile);
    }
}

const char *ard_tile_path(const ard_tile *tile) {
    return tile ? ard_parquet_path(tile->pq) : NULL;
}

int32_t ard_tile_num_row_groups(const ard_tile *tile) {
    return tile ? ard_parquet_metadata(tile->pq)->num_row_groups : 0;
}

int64_t ard_tile_row_group_rows(const ard_tile *tile, int32_t rg) {
    if (!tile || rg < 0 || rg >= ard_tile_num_row_groups(tile)) {
        return -1;
    }
    return ard_parquet_metadata(tile->pq)->row_groups[rg].num_rows;
}

const char *ard_tile_kv(const ard_tile *tile, const char *key) {
    return tile && key ? ard_parquet_kv_get(tile->pq, key) : NULL;
}

/* The leaf of a plain (not repeated) INT64 column, or -1. */
static int32_t int64_leaf(const ard_tile *tile, const char *name) {
    int32_t leaf = ard_parquet_find_leaf(tile->pq, name);
    const ard_pq_metadata *md = ard_parquet_metadata(tile->pq);
    if (leaf < 0) {
        return -1;
    }
    const ard_pq_schema_node *n = &md->nodes[md->leaves[leaf]];
    return n->type == ARD_PQ_INT64 && n->max_rep == 0 ? leaf : -1;
}

int32_t ard_tile_column_kind(const ard_tile *tile, const char *name) {
    if (!tile || !name) {
        return ARD_TILE_MISSING;
    }
    int32_t leaf = ard_dataset_list_leaf(tile->pq, name);
    if (leaf < 0) {
        return ARD_TILE_MISSING;
    }
    int32_t kind = ard__fetch_leaf_kind(tile->pq, leaf);
    if (kind >= 0) {
        return kind;
    }
    return int64_leaf(tile, name) >= 0 ? ARD_TILE_INT64 : ARD_TILE_OTHER;
}

static ard_status check_rg(const ard_tile *tile, int32_t rg, ard_error *err) {
    if (!tile || rg < 0 || rg >= ard_tile_num_row_groups(tile)) {
        return ard_error_set(err, ARD_EINVAL, "%s: no row group %d",
                             tile ? ard_tile_path(tile) : "tile", rg);
    }
    return ARD_OK;
}

ard_status ard_tile_read_int64(const ard_tile *tile, int32_t rg, const char *column, int64_t first,
                               int64_t count, int64_t *out, ard_error *err) {
    ard_status st = check_rg(tile, rg, err);
    if (st != ARD_OK) {
        return st;
    }
    const char *name = column ? column : ARD_COL_TARGETID;
    int32_t leaf = int64_leaf(tile, name);
    int64_t rows = ard_tile_row_group_rows(tile, rg);
    if (leaf < 0 || !out || first < 0 || count < 0 || first > rows || count > rows - first) {
        return ard_error_set(err, ARD_EINVAL,
                             "%s: %s is not an INT64 column, or rows %lld+%lld are outside row"
                             " group %d (%lld rows)",
                             ard_tile_path(tile), name, (long long)first, (long long)count, rg,
                             (long long)rows);
    }
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    st = first == 0 && count == rows
             ? ard_parquet_read_column(tile->pq, rg, leaf, &col, err)
             : ard_parquet_read_column_rows(tile->pq, rg, leaf, first, count, &col, err);
    if (st == ARD_OK && col.num_values != count) {
        st = ard_error_set(err, ARD_ECORRUPT, "%s: %s has nulls or missing rows in row group %d",
                           ard_tile_path(tile), name, rg);
    }
    if (st == ARD_OK && count > 0) {
        memcpy(out, col.values, (size_t)count * sizeof *out);
    }
    ard_pq_column_data_reset(&col);
    return st;
}

static ard_status f32_leaf(const ard_tile *tile, int32_t rg, const char *column, int32_t *leaf,
                           ard_error *err) {
    ard_status st = check_rg(tile, rg, err);
    if (st != ARD_OK) {
        return st;
    }
    *leaf = column ? ard_dataset_list_leaf(tile->pq, column) : -1;
    if (*leaf < 0 || ard__fetch_leaf_kind(tile->pq, *leaf) != ARD_TILE_LIST_F32) {
        return ard_error_set(err, ARD_EINVAL, "%s: %s is not a list<float> column",
                             ard_tile_path(tile), column ? column : "(null)");
    }
    return ARD_OK;
}

ard_status ard_tile_read_f32(const ard_tile *tile, int32_t rg, const char *column, float *values,
                             int64_t capacity, int64_t *rows_out, int64_t *width_out,
                             int32_t *has_nulls, ard_error *err) {
    int32_t leaf = -1, nulls = 0;
    ard_status st = f32_leaf(tile, rg, column, &leaf, err);
    if (st == ARD_OK) {
        st = ard_parquet_read_f32_matrix_into(tile->pq, rg, leaf, values, capacity, NULL, rows_out,
                                              width_out, &nulls, err);
    }
    if (has_nulls) {
        *has_nulls = nulls;
    }
    return st;
}

ard_status ard_tile_list_width(const ard_tile *tile, int32_t rg, const char *column,
                               int64_t *width_out, ard_error *err) {
    int32_t leaf = -1;
    ard_status st = f32_leaf(tile, rg, column, &leaf, err);
    ard_pq_f32_matrix m;
    memset(&m, 0, sizeof m);
    if (st == ARD_OK) {
        st = ard_parquet_read_f32_matrix(tile->pq, rg, leaf, &m, err);
    }
    *width_out = m.width;
    ard_pq_matrix_reset(&m);
    return st;
}
