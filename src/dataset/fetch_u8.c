/* Fetch column helpers: finding a tile's list column, telling list<float> from list<uint8> (MASK),
 * and decoding the planned rows of a list<uint8> column from its Dremel level streams into a
 * dense rows x width uint8 matrix (the float columns keep the ard_parquet_read_f32_matrix path). */
#include "dataset_int.h"

#include <stdio.h>
#include <string.h>

int32_t ard_dataset_list_leaf(const ard_parquet_file *pq, const char *name) {
    static const char *const forms[] = {".list.element", ".list.item", ".element", ".array", ""};
    char path[160];
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        snprintf(path, sizeof path, "%s%s", name, forms[i]);
        int32_t leaf = ard_parquet_find_leaf(pq, path);
        if (leaf >= 0) {
            return leaf;
        }
    }
    return -1;
}

int32_t ard__fetch_leaf_kind(const ard_parquet_file *pq, int32_t leaf) {
    const ard_pq_metadata *md = ard_parquet_metadata(pq);
    if (leaf < 0 || leaf >= md->num_leaves) {
        return -1;
    }
    const ard_pq_schema_node *n = &md->nodes[md->leaves[leaf]];
    if (n->max_rep != 1) {
        return -1; /* not a (non-nested) list */
    }
    if (n->type == ARD_PQ_FLOAT) {
        return ARD_FETCH_F32;
    }
    if (n->type == ARD_PQ_INT32 && n->logical.kind == ARD_PQ_LT_INTEGER &&
        n->logical.bit_width == 8 && !n->logical.is_signed) {
        return ARD_FETCH_U8;
    }
    return -1;
}

/* Width of the lists in `col` (span rows, each a non-null list of one length, no null element). */
static ard_status u8_width(const ard_parquet_file *pq, const ard_pq_column_data *col, int64_t span,
                           const char *name, int32_t row_group, int64_t *width, ard_error *err) {
    if (col->type != ARD_PQ_INT32 || col->num_rows != span || !col->rep_levels) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: row group %d: column %s unreadable",
                             ard_parquet_path(pq), row_group, name);
    }
    int64_t w = span > 0 ? col->num_values / span : 0;
    int ok = col->num_values == col->num_levels && w > 0 && w * span == col->num_values;
    for (int64_t i = 0; ok && i < col->num_levels; i++) {
        ok = (col->rep_levels[i] == 0) == (i % w == 0);
    }
    if (!ok) {
        return ard_error_set(err, ARD_ENOTSUP,
                             "%s: row group %d: list<uint8> column %s has null, empty or ragged"
                             " lists (fetch needs one length and no nulls)",
                             ard_parquet_path(pq), row_group, name);
    }
    *width = w;
    return ARD_OK;
}

/* Copies the planned rows (relative to `lo`) of the int32 values, narrowed to uint8. */
static ard_status u8_gather(const ard_parquet_file *pq, const ard_plan_chunk *ch, const char *name,
                            const int32_t *vals, int64_t lo, int64_t span, int64_t w, uint8_t *out,
                            ard_error *err) {
    for (int64_t r = 0; r < ch->num_rows; r++) {
        int64_t src = ch->rows[r] - lo;
        if (src < 0 || src >= span) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: row group %d: planned row %lld out of order",
                                 ard_parquet_path(pq), ch->row_group, (long long)ch->rows[r]);
        }
        for (int64_t k = 0; k < w; k++) {
            int32_t v = vals[src * w + k];
            if (v < 0 || v > 255) {
                return ard_error_set(
                    err, ARD_ECORRUPT, "%s: row group %d row %lld: %s value %d is not a uint8",
                    ard_parquet_path(pq), ch->row_group, (long long)ch->rows[r], name, (int)v);
            }
            out[r * w + k] = (uint8_t)v;
        }
    }
    return ARD_OK;
}

ard_status ard__fetch_read_u8(const ard_parquet_file *pq, const ard_plan_chunk *ch, int32_t leaf,
                              const char *name, uint8_t **out, int64_t *width_out, ard_error *err) {
    *out = NULL;
    *width_out = 0;
    int64_t lo = ch->rows[0], span = ch->rows[ch->num_rows - 1] - lo + 1;
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    ard_status st = ard_parquet_read_column_rows(pq, ch->row_group, leaf, lo, span, &col, err);
    int64_t w = 0;
    if (st == ARD_OK) {
        st = u8_width(pq, &col, span, name, ch->row_group, &w, err);
    }
    uint8_t *m = NULL;
    if (st == ARD_OK) {
        m = ard_malloc((size_t)(ch->num_rows * w));
        st = m ? u8_gather(pq, ch, name, col.values, lo, span, w, m, err)
               : ard_error_set(err, ARD_ENOMEM, "out of memory decoding %s", name);
    }
    ard_pq_column_data_reset(&col);
    if (st != ARD_OK) {
        ard_free(m);
        return st;
    }
    *out = m;
    *width_out = w;
    return ARD_OK;
}
