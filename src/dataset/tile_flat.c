/* The tile reader's flat columns and footer: whole row groups of plain DOUBLE / FLOAT / INT32 /
 * string columns of any dataset Parquet file (catalog, truth, results), the key-value metadata and
 * created_by, and the sky position of a tile's pixel. Science stages and the datasheet read the
 * dataset through these calls, never through the Parquet reader directly. */
#include "dataset_int.h"

#include "ard/astro.h"

#include <string.h>

const char *ard_tile_created_by(const ard_tile *tile) {
    const char *by = tile ? ard_parquet_metadata(tile->pq)->created_by : NULL;
    return by ? by : "";
}

int32_t ard_tile_num_kv(const ard_tile *tile) {
    return tile ? ard_parquet_metadata(tile->pq)->num_kv : 0;
}

ard_status ard_tile_kv_at(const ard_tile *tile, int32_t i, const char **key, const char **value,
                          int64_t *value_len, ard_error *err) {
    if (!tile || !key || !value || !value_len || i < 0 || i >= ard_tile_num_kv(tile)) {
        return ard_error_set(err, ARD_EINVAL, "%s: no key-value entry %d",
                             tile ? ard_tile_path(tile) : "tile", i);
    }
    const ard_pq_metadata *md = ard_parquet_metadata(tile->pq);
    *key = md->kv[i].key;
    *value = md->kv[i].value;
    *value_len = md->kv[i].value ? (int64_t)md->kv[i].value_len : 0;
    return ARD_OK;
}

/* Decodes plain column `column` of row group rg into col after checking that it exists, is not
 * repeated, has one of the physical types want[0..nwant) and holds a value in every row. */
static ard_status read_flat(const ard_tile *tile, int32_t rg, const char *column,
                            const ard_pq_type *want, int nwant, const char *what,
                            ard_pq_column_data *col, ard_error *err) {
    int64_t rows = ard_tile_row_group_rows(tile, rg);
    if (!tile || rows < 0 || !column) {
        return ard_error_set(err, ARD_EINVAL, "%s: no row group %d or no column name",
                             tile ? ard_tile_path(tile) : "tile", rg);
    }
    const ard_pq_metadata *md = ard_parquet_metadata(tile->pq);
    int32_t leaf = ard_parquet_find_leaf(tile->pq, column);
    int ok = 0;
    if (leaf >= 0) {
        const ard_pq_schema_node *n = &md->nodes[md->leaves[leaf]];
        for (int k = 0; k < nwant && n->max_rep == 0; k++) {
            ok |= n->type == want[k];
        }
    }
    if (!ok) {
        return ard_error_set(err, ARD_EINVAL, "%s: no plain %s column %s", ard_tile_path(tile),
                             what, column);
    }
    ard_status st = ard_parquet_read_column(tile->pq, rg, leaf, col, err);
    if (st == ARD_OK && col->num_values != rows) {
        st = ard_error_set(err, ARD_ECORRUPT,
                           "%s: column %s has nulls or missing rows in row group"
                           " %d",
                           ard_tile_path(tile), column, rg);
    }
    return st;
}

ard_status ard_tile_read_double(const ard_tile *tile, int32_t rg, const char *column, double *out,
                                ard_error *err) {
    static const ard_pq_type want[2] = {ARD_PQ_DOUBLE, ARD_PQ_FLOAT};
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    ard_status st = out ? read_flat(tile, rg, column, want, 2, "DOUBLE or FLOAT", &col, err)
                        : ard_error_set(err, ARD_EINVAL, "ard_tile_read_double: out is NULL");
    if (st == ARD_OK && col.type == ARD_PQ_DOUBLE && col.num_values > 0) {
        memcpy(out, col.values, (size_t)col.num_values * sizeof *out);
    } else if (st == ARD_OK) {
        const float *f = col.values;
        for (int64_t i = 0; i < col.num_values; i++) {
            out[i] = (double)f[i];
        }
    }
    ard_pq_column_data_reset(&col);
    return st;
}

ard_status ard_tile_read_int32(const ard_tile *tile, int32_t rg, const char *column, int32_t *out,
                               ard_error *err) {
    static const ard_pq_type want[1] = {ARD_PQ_INT32};
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    ard_status st = out ? read_flat(tile, rg, column, want, 1, "INT32", &col, err)
                        : ard_error_set(err, ARD_EINVAL, "ard_tile_read_int32: out is NULL");
    if (st == ARD_OK && col.num_values > 0) {
        memcpy(out, col.values, (size_t)col.num_values * sizeof *out);
    }
    ard_pq_column_data_reset(&col);
    return st;
}

ard_status ard_tile_read_text(const ard_tile *tile, int32_t rg, const char *column, ard_buf *chars,
                              int64_t *offsets, ard_error *err) {
    static const ard_pq_type want[1] = {ARD_PQ_BYTE_ARRAY};
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    ard_status st = chars && offsets
                        ? read_flat(tile, rg, column, want, 1, "string", &col, err)
                        : ard_error_set(err, ARD_EINVAL, "ard_tile_read_text: NULL chars/offsets");
    if (st == ARD_OK) {
        chars->len = 0;
        size_t bytes = (size_t)col.offsets[col.num_values];
        if (bytes > 0) {
            ard_buf_append(chars, col.data, bytes);
        }
        if (chars->failed) {
            st = ard_error_set(err, ARD_ENOMEM, "%s: out of memory reading %s", ard_tile_path(tile),
                               column);
        } else {
            memcpy(offsets, col.offsets, (size_t)(col.num_values + 1) * sizeof *offsets);
        }
    }
    ard_pq_column_data_reset(&col);
    return st;
}

double ard_dataset_tile_area_deg2(void) {
    return ard_healpix_pixel_area_deg2(ARD_NSIDE);
}

ard_status ard_dataset_tile_center(int64_t pixnum, double *ra_deg, double *dec_deg,
                                   ard_error *err) {
    if (pixnum < 0 || pixnum >= ARD_DATASET_NUM_PIXELS || !ra_deg || !dec_deg) {
        return ard_error_set(err, ARD_EINVAL, "tile pixel %lld is outside NSIDE %d",
                             (long long)pixnum, ARD_NSIDE);
    }
    return ard_healpix_pix2ang_nest(ARD_NSIDE, pixnum, ra_deg, dec_deg, err);
}
