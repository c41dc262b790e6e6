/* Writing ARD tables with the ard Parquet writer: spectral tiles (TARGETID + FLUX/IVAR/MASK lists,
 * ard.grid metadata) and zcatalog files. Shared by generate and ingest so both write the same
 * layout. */
#include "survey_int.h"

#include <string.h>

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

/* Rows [r0, r0 + n) of every column: one row group, so that each chunk is next in file order when
 * its column starts it and the writer streams its pages (the bytes do not depend on the batching).
 * valid: room for the FLUX validity of n rows. */
static ard_status write_rows(ard_pq_writer *w, int64_t width, const int64_t *targetid,
                             const float *flux, const float *ivar, const uint8_t *mask, int64_t r0,
                             int64_t n, const uint8_t *valid, int any_null, ard_error *err) {
    int64_t e0 = r0 * width;
    ard_status st = ard_pq_writer_write_column(w, 0, targetid + r0, NULL, n, err);
    st = st ? st
            : ard_pq_writer_write_list_matrix(w, 1, flux + e0, n, width, any_null ? valid : NULL,
                                              NULL, err);
    st = st ? st : ard_pq_writer_write_list_matrix(w, 2, ivar + e0, n, width, NULL, NULL, err);
    return st ? st : ard_pq_writer_write_list_matrix(w, 3, mask + e0, n, width, NULL, NULL, err);
}

struct ard__tile_writer {
    ard_pq_writer *w;
    char *path;
    int64_t width, rows;
    int64_t rows_total; /* the tile's rows, -1 when not known */
    uint8_t *valid;     /* FLUX validity of one row group */
    int batched;        /* committed by an ard_atomic_batch: the file appears later */
    /* ARD_KV_PIXEL_STATS counts per class; slot ARD_CLASS_COUNT holds the OTHER rows */
    int64_t n_rows[ARD_CLASS_COUNT + 1], nulls[ARD_CLASS_COUNT + 1], zeros[ARD_CLASS_COUNT + 1];
};

/* The FLUX validity of rows [r0, r0 + n) into tw->valid, their pixel counts into the statistics;
 * returns whether any pixel is null. */
static int scan_rows(ard__tile_writer *tw, const int32_t *target_class, const float *ivar,
                     const uint8_t *mask, int64_t r0, int64_t n) {
    int64_t nulls[ARD__TILE_ROWS_PER_GROUP], zeros[ARD__TILE_ROWS_PER_GROUP], e0 = r0 * tw->width;
    int any = ard__tile_pixel_scan(ivar + e0, mask + e0, n, tw->width, tw->valid, nulls, zeros,
                                   ARD__PIX_FASTEST);
    for (int64_t r = 0; r < n; r++) {
        int32_t c = target_class[r0 + r];
        int32_t slot = c >= 0 && c < ARD_CLASS_COUNT ? c : ARD_CLASS_COUNT;
        tw->n_rows[slot]++;
        tw->nulls[slot] += nulls[r];
        tw->zeros[slot] += zeros[r];
    }
    return any;
}

/* The ARD_KV_PIXEL_STATS value (survey.h) of the rows so far; 0 when it does not fit in cap. */
static int pixel_stats_text(const ard__tile_writer *tw, char *out, size_t cap) {
    size_t len = 0;
    for (int32_t slot = 0; slot <= ARD_CLASS_COUNT; slot++) {
        if (tw->n_rows[slot] == 0) {
            continue;
        }
        int w =
            snprintf(out + len, cap - len,
                     "%s\"%s\":{\"rows\":%lld,\"pixels\":%lld,\"flux_null\":%lld,"
                     "\"ivar_zero\":%lld}",
                     len ? "," : "{",
                     slot < ARD_CLASS_COUNT ? ard_target_class_name(slot) : ARD_CLASS_OTHER_NAME,
                     (long long)tw->n_rows[slot], (long long)(tw->n_rows[slot] * tw->width),
                     (long long)tw->nulls[slot], (long long)tw->zeros[slot]);
        if (w < 0 || (size_t)w >= cap - len) {
            return 0;
        }
        len += (size_t)w;
    }
    int w = snprintf(out + len, cap - len, "%s", len ? "}" : "{}");
    return w > 0 && (size_t)w < cap - len;
}

void ard__tile_writer_abort(ard__tile_writer *tw) {
    if (tw) {
        ard_pq_writer_abort(tw->w);
        ard_free(tw->valid);
        ard_free(tw->path);
        ard_free(tw);
    }
}

static ard_status open_writer(ard__tile_writer *tw, const ard_grid *grid, const char *source,
                              ard_parquet_writer_buffers *buffers, int32_t direct_io,
                              ard_atomic_batch *batch, ard_error *err) {
    char grid_text[ARD_GRID_TEXT_MAX];
    ard_pq_schema_builder *sb = NULL;
    ard_status st = ard_grid_format(grid, grid_text, sizeof grid_text, err);
    st = st ? st : ard_dataset_mkdirs_for(tw->path, err);
    st = st ? st : tile_schema(&sb, err);
    if (st == ARD_OK) {
        /* ARD_KV_PIXEL_STATS is set at close, after the last row */
        const char *keys[4] = {ARD_KV_GRID, ARD_KV_VERSION, ARD_KV_SOURCE, ARD_KV_PIXEL_STATS};
        const char *vals[4] = {grid_text, ARD_SCHEMA_VERSION, source, "{}"};
        ard_pq_writer_options o;
        ard_pq_writer_options_init(&o);
        o.rows_per_row_group = ARD__TILE_ROWS_PER_GROUP;
        o.byte_stream_split = 1;
        o.defer_sync = 1; /* the caller syncs the file system once after all tiles */
        o.direct_io = direct_io;
        o.commit_batch = batch; /* or the batch does, tile by tile (defer_sync is then ignored) */
        o.num_kv = 4;
        o.kv_keys = keys;
        o.kv_values = vals;
        o.buffers = buffers;
        st = ard_pq_writer_open(tw->path, sb, &o, &tw->w, err);
    }
    ard_pq_schema_free(sb);
    return st;
}

ard_status ard__tile_writer_open(const char *path, const ard_grid *grid, const char *source,
                                 int64_t rows_total, ard_parquet_writer_buffers *buffers,
                                 int32_t direct_io, ard_atomic_batch *batch, ard__tile_writer **out,
                                 ard_error *err) {
    *out = NULL;
    ard__tile_writer *tw = ard_calloc(1, sizeof *tw);
    if (tw) {
        tw->width = grid->n;
        tw->rows_total = rows_total;
        tw->path = ard_strdup(path);
        tw->valid = ard_malloc((size_t)(ARD__TILE_ROWS_PER_GROUP * grid->n + 7) / 8 + 1);
    }
    ard_status st = ARD_OK;
    if (!tw || !tw->path || !tw->valid) {
        st = ard_error_set(err, ARD_ENOMEM, "tile %s: no memory", path);
    }
    st = st ? st : open_writer(tw, grid, source, buffers, direct_io, batch, err);
    if (tw) {
        tw->batched = batch != NULL;
    }
    if (st != ARD_OK) {
        ard__tile_writer_abort(tw);
        ard_error_prefix(err, "writing tile %s: ", path);
        return st;
    }
    *out = tw;
    return ARD_OK;
}

ard_status ard__tile_writer_append(ard__tile_writer *tw, const int64_t *targetid,
                                   const int32_t *target_class, const float *flux,
                                   const float *ivar, const uint8_t *mask, int64_t rows,
                                   ard_error *err) {
    ard_status st = ARD_OK;
    for (int64_t r0 = 0; st == ARD_OK && r0 < rows;) {
        int64_t room = ARD__TILE_ROWS_PER_GROUP - tw->rows % ARD__TILE_ROWS_PER_GROUP;
        int64_t n = rows - r0 < room ? rows - r0 : room; /* up to the end of the row group */
        int any_null = scan_rows(tw, target_class, ivar, mask, r0, n);
        int64_t last = tw->rows_total - tw->rows; /* the last, shorter row group streams too */
        if (tw->rows % ARD__TILE_ROWS_PER_GROUP == 0 && last > 0 &&
            last < ARD__TILE_ROWS_PER_GROUP) {
            st = ard_pq_writer_limit_row_group(tw->w, last, err);
        }
        st = st ? st
                : write_rows(tw->w, tw->width, targetid, flux, ivar, mask, r0, n, tw->valid,
                             any_null, err);
        tw->rows += n;
        r0 += n;
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "writing tile %s: ", tw->path);
    }
    return st;
}

ard_status ard__tile_writer_close(ard__tile_writer *tw, int64_t *bytes_out, ard_error *err) {
    char stats_text[(ARD_CLASS_COUNT + 1) * 128];
    ard_status st = ARD_OK;
    if (!pixel_stats_text(tw, stats_text, sizeof stats_text)) {
        st = ard_error_set(err, ARD_EINTERNAL, "tile %s: %s text too long", tw->path,
                           ARD_KV_PIXEL_STATS);
    }
    st = st ? st : ard_pq_writer_set_kv(tw->w, ARD_KV_PIXEL_STATS, stats_text, err);
    if (st != ARD_OK) {
        ard__tile_writer_abort(tw);
        return st;
    }
    st = ard_pq_writer_close(tw->w, err);
    tw->w = NULL;
    if (st == ARD_OK && bytes_out) {
        *bytes_out = 0;
    }
    if (st == ARD_OK && bytes_out && !tw->batched) {
        ard_file_size(tw->path, bytes_out, NULL);
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "writing tile %s: ", tw->path);
    }
    ard__tile_writer_abort(tw);
    return st;
}

ard_status ard__write_tile(const char *path, const ard_grid *grid, const char *source,
                           const int64_t *targetid, const int32_t *target_class, const float *flux,
                           const float *ivar, const uint8_t *mask, int64_t rows,
                           ard_parquet_writer_buffers *buffers, int64_t *bytes_out,
                           ard_error *err) {
    ard__tile_writer *tw = NULL;
    ard_status st = ard__tile_writer_open(path, grid, source, rows, buffers, 0, NULL, &tw, err);
    st = st ? st : ard__tile_writer_append(tw, targetid, target_class, flux, ivar, mask, rows, err);
    if (st != ARD_OK) {
        ard__tile_writer_abort(tw);
        return st;
    }
    return ard__tile_writer_close(tw, bytes_out, err);
}
