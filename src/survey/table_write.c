/* Writing ARD tables with the ard Parquet writer: spectral tiles (TARGETID + FLUX/IVAR/MASK lists,
 * ard.grid metadata) and zcatalog files. Shared by generate and ingest so both write the same
 * layout. */
#include "survey_int.h"

#include <string.h>

#define TILE_ROWS_PER_GROUP 128

static ard_status tile_schema(ard_pq_schema_builder **out, ard_error *err) {
    ard_pq_schema_builder *sb = NULL;
    ard_status st = ard_pq_schema_new(&sb, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_pq_logical u8 = {0};
    u8.kind = ARD_PQ_LT_INTEGER;
    u8.bit_width = 8;
    u8.is_signed = 0;
    int32_t id = -1;
    ard_pq_schema_add_column(sb, ARD_COL_TARGETID, ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, &id,
                             err);
    if (id < 0 || ard_pq_schema_set_sorted(sb, id, 1, err) != ARD_OK ||
        ard_pq_schema_add_list(sb, ARD_COL_FLUX, ARD_PQ_FLOAT, ARD_PQ_REQUIRED, ARD_PQ_OPTIONAL,
                               NULL, NULL, err) != ARD_OK ||
        ard_pq_schema_add_list(sb, ARD_COL_IVAR, ARD_PQ_FLOAT, ARD_PQ_REQUIRED, ARD_PQ_REQUIRED,
                               NULL, NULL, err) != ARD_OK ||
        ard_pq_schema_add_list(sb, ARD_COL_MASK, ARD_PQ_INT32, ARD_PQ_REQUIRED, ARD_PQ_REQUIRED,
                               &u8, NULL, err) != ARD_OK) {
        ard_pq_schema_free(sb);
        return err && err->code != ARD_OK ? err->code : ARD_EINTERNAL;
    }
    *out = sb;
    return ARD_OK;
}

/* Validity of FLUX into bits ((count + 7) / 8 bytes): a pixel with IVAR 0 and a MASK bit is null.
 * Returns whether any is. */
static int flux_validity(const float *ivar, const uint8_t *mask, int64_t count, uint8_t *bits) {
    int null_seen = 0;
    for (int64_t k0 = 0; k0 < count; k0 += 8) { /* a byte at a time; MASK is mostly 0 */
        uint64_t mask8 = 1;                     /* a partial last byte takes the per-pixel path */
        if (k0 + 8 <= count) {
            memcpy(&mask8, mask + k0, sizeof mask8);
        }
        unsigned byte = 0xff;
        for (int64_t q = 0; mask8 != 0 && q < 8 && k0 + q < count; q++) {
            byte &= ~((unsigned)((mask[k0 + q] != 0) & (ivar[k0 + q] == 0.0f)) << q);
        }
        bits[k0 / 8] = (uint8_t)byte;
        null_seen |= byte != 0xff;
    }
    return null_seen;
}

/* The ARD_KV_PIXEL_STATS value (survey.h) of a tile; null FLUX as in flux_validity. 0 when it does
 * not fit in cap. Slot ARD_CLASS_COUNT holds the OTHER rows. */
static int pixel_stats_text(const int32_t *target_class, const float *ivar, const uint8_t *mask,
                            int64_t rows, int64_t width, char *out, size_t cap) {
    int64_t n_rows[ARD_CLASS_COUNT + 1] = {0}, nulls[ARD_CLASS_COUNT + 1] = {0},
                                     zeros[ARD_CLASS_COUNT + 1] = {0};
    for (int64_t r = 0; r < rows; r++) {
        int32_t c = target_class[r];
        int32_t slot = c >= 0 && c < ARD_CLASS_COUNT ? c : ARD_CLASS_COUNT;
        n_rows[slot]++;
        int64_t row_nulls = 0, row_zeros = 0;
        for (int64_t k = r * width; k < (r + 1) * width; k++) {
            row_nulls += (mask[k] != 0) & (ivar[k] == 0.0f);
            row_zeros += ivar[k] == 0.0f;
        }
        nulls[slot] += row_nulls;
        zeros[slot] += row_zeros;
    }
    size_t len = 0;
    for (int32_t slot = 0; slot <= ARD_CLASS_COUNT; slot++) {
        if (n_rows[slot] == 0) {
            continue;
        }
        int w =
            snprintf(out + len, cap - len,
                     "%s\"%s\":{\"rows\":%lld,\"pixels\":%lld,\"flux_null\":%lld,"
                     "\"ivar_zero\":%lld}",
                     len ? "," : "{",
                     slot < ARD_CLASS_COUNT ? ard_target_class_name(slot) : ARD_CLASS_OTHER_NAME,
                     (long long)n_rows[slot], (long long)(n_rows[slot] * width),
                     (long long)nulls[slot], (long long)zeros[slot]);
        if (w < 0 || (size_t)w >= cap - len) {
            return 0;
        }
        len += (size_t)w;
    }
    int w = snprintf(out + len, cap - len, "%s", len ? "}" : "{}");
    return w > 0 && (size_t)w < cap - len;
}

/* Rows [r0, r0 + n) of every column: one row group, so that each chunk is next in file order when
 * its column starts it and the writer streams its pages (the bytes do not depend on the batching).
 * valid: room for the FLUX validity of n rows. */
static ard_status write_rows(ard_pq_writer *w, int64_t width, const int64_t *targetid,
                             const float *flux, const float *ivar, const uint8_t *mask, int64_t r0,
                             int64_t n, uint8_t *valid, ard_error *err) {
    int64_t e0 = r0 * width;
    int any_null = flux_validity(ivar + e0, mask + e0, n * width, valid);
    ard_status st = ard_pq_writer_write_column(w, 0, targetid + r0, NULL, n, err);
    st = st ? st
            : ard_pq_writer_write_list_matrix(w, 1, flux + e0, n, width, any_null ? valid : NULL,
                                              NULL, err);
    st = st ? st : ard_pq_writer_write_list_matrix(w, 2, ivar + e0, n, width, NULL, NULL, err);
    return st ? st : ard_pq_writer_write_list_matrix(w, 3, mask + e0, n, width, NULL, NULL, err);
}

ard_status ard__write_tile(const char *path, const ard_grid *grid, const char *source,
                           const int64_t *targetid, const int32_t *target_class, const float *flux,
                           const float *ivar, const uint8_t *mask, int64_t rows,
                           ard_parquet_writer_buffers *buffers, int64_t *bytes_out,
                           ard_error *err) {
    char grid_text[ARD_GRID_TEXT_MAX];
    char stats_text[(ARD_CLASS_COUNT + 1) * 128];
    ard_pq_schema_builder *sb = NULL;
    ard_pq_writer *w = NULL;
    int64_t batch = rows < TILE_ROWS_PER_GROUP ? rows : TILE_ROWS_PER_GROUP;
    uint8_t *valid = NULL;
    ard_status st = ard_grid_format(grid, grid_text, sizeof grid_text, err);
    if (st == ARD_OK) {
        st = ard_dataset_mkdirs_for(path, err);
    }
    if (st == ARD_OK) {
        st = tile_schema(&sb, err);
    }
    if (st == ARD_OK) {
        valid = ard_malloc((size_t)(batch * grid->n + 7) / 8 + 1);
        st = valid ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "tile %s: no memory", path);
    }
    if (st == ARD_OK &&
        !pixel_stats_text(target_class, ivar, mask, rows, grid->n, stats_text, sizeof stats_text)) {
        st = ard_error_set(err, ARD_EINTERNAL, "tile %s: %s text too long", path,
                           ARD_KV_PIXEL_STATS);
    }
    if (st == ARD_OK) {
        const char *keys[4] = {ARD_KV_GRID, ARD_KV_VERSION, ARD_KV_SOURCE, ARD_KV_PIXEL_STATS};
        const char *vals[4] = {grid_text, ARD_SCHEMA_VERSION, source, stats_text};
        ard_pq_writer_options o;
        ard_pq_writer_options_init(&o);
        o.rows_per_row_group = TILE_ROWS_PER_GROUP;
        o.byte_stream_split = 1;
        o.defer_sync = 1; /* the caller syncs the file system once after all tiles */
        o.num_kv = 4;
        o.kv_keys = keys;
        o.kv_values = vals;
        o.buffers = buffers;
        st = ard_pq_writer_open(path, sb, &o, &w, err);
    }
    for (int64_t r0 = 0; st == ARD_OK && r0 < rows; r0 += batch) {
        int64_t n = rows - r0 < batch ? rows - r0 : batch;
        st = write_rows(w, grid->n, targetid, flux, ivar, mask, r0, n, valid, err);
    }
    ard_free(valid);
    ard_pq_schema_free(sb);
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        ard_error_prefix(err, "writing tile %s: ", path);
        return st;
    }
    st = ard_pq_writer_close(w, err);
    if (st == ARD_OK && bytes_out) {
        *bytes_out = 0;
        ard_file_size(path, bytes_out, NULL);
    }
    return st;
}
