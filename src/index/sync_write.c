/* The write side of sync: a window of read files goes into the index in one transaction through the
 * backend's bulk path (files, row_groups, column_stats, spectra, tile_pixel_stats; catalogs into
 * galaxies). A file that failed to read has its stale rows removed and a row in sync_errors
 * instead. */
#include "index_int.h"

#include <stdio.h>
#include <string.h>

ard_status ard__idx_begin_write(ard_index *idx, ard_error *err) {
    return ard__idx_exec(idx, idx->be->ops->begin_write_sql, err);
}

/* Appends "a,b,c" of values[at .. at + n) to b. */
static void append_list(ard_buf *b, const int64_t *values, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        ard_buf_appendf(b, "%s%lld", i ? "," : "", (long long)values[i]);
    }
}

/* Deletes the spectra rows of files: seeks of their TARGETIDs (spectra is keyed by targetid),
 * a scan for a file whose TARGETIDs the index did not store. */
static ard_status delete_spectra(ard_index *idx, const int64_t *ids, int64_t count,
                                 ard_error *err) {
    idx_file_tids t;
    ard_status st = ard__rg_targetids_of_files(idx, ids, count, &t, err);
    for (int64_t at = 0; st == ARD_OK && at < t.count;) {
        int64_t n = 1;
        while (at + n < t.count && n < 500 && t.file_ids[at + n] == t.file_ids[at]) {
            n++;
        }
        ard_buf sql;
        ard_buf_init(&sql);
        ard_buf_appendf(&sql, "DELETE FROM spectra WHERE file_id = %lld AND targetid IN (",
                        (long long)t.file_ids[at]);
        append_list(&sql, t.tids + at, n);
        ard_buf_appendf(&sql, ")%c", '\0');
        st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                        : ard__idx_exec(idx, (const char *)sql.data, err);
        ard_buf_reset(&sql);
        at += n;
    }
    for (int64_t at = 0; st == ARD_OK && at < t.num_unknown; at += 256) {
        ard_buf sql;
        ard_buf_init(&sql);
        ard_buf_appendf(&sql, "DELETE FROM spectra WHERE file_id IN (");
        append_list(&sql, t.unknown + at, t.num_unknown - at < 256 ? t.num_unknown - at : 256);
        ard_buf_appendf(&sql, ")%c", '\0');
        st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                        : ard__idx_exec(idx, (const char *)sql.data, err);
        ard_buf_reset(&sql);
    }
    ard__file_tids_reset(&t);
    return st;
}

ard_status ard__sync_delete_ids(ard_index *idx, const int64_t *ids, int64_t count, ard_error *err) {
    static const char *const tables[] = {"row_groups WHERE file_id",
                                         "column_stats WHERE file_id",
                                         "tile_pixel_stats WHERE file_id",
                                         "galaxies WHERE catalog_file_id",
                                         "catalog_summary WHERE file_id",
                                         "catalog_zhist WHERE file_id",
                                         "files WHERE id"};
    ard_status st = count > 0 ? delete_spectra(idx, ids, count, err) : ARD_OK;
    for (int64_t at = 0; st == ARD_OK && at < count; at += 256) {
        ard_buf list;
        ard_buf_init(&list);
        append_list(&list, ids + at, count - at < 256 ? count - at : 256);
        ard_buf_append(&list, "", 1);
        for (size_t t = 0; st == ARD_OK && t < sizeof tables / sizeof tables[0]; t++) {
            ard_buf sql;
            ard_buf_init(&sql);
            ard_buf_appendf(&sql, "DELETE FROM %s IN (%s)", tables[t], (const char *)list.data);
            ard_buf_append(&sql, "", 1);
            st = sql.failed || list.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                                           : ard__idx_exec(idx, (const char *)sql.data, err);
            ard_buf_reset(&sql);
        }
        ard_buf_reset(&list);
    }
    return st;
}

static ard_status write_files(ard_index *idx, sync_item *items, int64_t count, int64_t run_id,
                              ard_error *err) {
    static const char *const cols[] = {
        "id",          "path",     "kind",           "size",       "mtime_ns",
        "footer_hash", "num_rows", "num_row_groups", "created_by", "schema_fingerprint",
        "grid",        "run_id"};
    const idx_backend_ops *ops = idx->be->ops;
    ard_status st = ops->bulk_begin(idx->be, "files", cols, 12, err);
    for (int64_t i = 0; i < count && st == ARD_OK; i++) {
        sync_item *it = &items[i];
        if (it->st != ARD_OK) {
            continue;
        }
        const ard_pq_metadata *md = ard_parquet_metadata(it->pq);
        idx_value v[12] = {
            {IDX_INT, it->new_id, 0, NULL},
            {IDX_TEXT, 0, 0, it->rel},
            {IDX_TEXT, 0, 0, it->kind == SYNC_TILE ? "tile" : "catalog"},
            {IDX_INT, it->size, 0, NULL},
            {IDX_INT, it->mtime_ns, 0, NULL},
            {IDX_TEXT, 0, 0, it->hash},
            {IDX_INT, it->num_rows, 0, NULL},
            {IDX_INT, md->num_row_groups, 0, NULL},
            {md->created_by ? IDX_TEXT : IDX_NULL, 0, 0, md->created_by},
            {IDX_TEXT, 0, 0, it->fingerprint},
            {IDX_NULL, 0, 0, ard_parquet_kv_get(it->pq, "ard.grid")},
            {IDX_INT, run_id, 0, NULL},
        };
        v[10].type = v[10].s ? IDX_TEXT : IDX_NULL;
        st = ops->bulk_row(idx->be, v, err);
    }
    ard_status end = ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    return st != ARD_OK ? st : end;
}

static void rg_extent(const ard_pq_row_group *rg, int64_t *offset, int64_t *bytes) {
    int64_t lo = INT64_MAX, total = 0;
    for (int32_t c = 0; c < rg->num_columns; c++) {
        if (rg->columns[c].chunk_start < lo) {
            lo = rg->columns[c].chunk_start;
        }
        total += rg->columns[c].total_compressed_size;
    }
    *offset = rg->num_columns ? lo : 0;
    *bytes = rg->has_total_compressed_size ? rg->total_compressed_size : total;
}

static ard_status write_row_groups(ard_index *idx, sync_item *items, int64_t count,
                                   ard_error *err) {
    static const char *const cols[] = {"file_id",      "row_group",    "num_rows",
                                       "first_row",    "byte_offset",  "bytes",
                                       "targetid_min", "targetid_max", "targetids"};
    const idx_backend_ops *ops = idx->be->ops;
    ard_buf ids;
    ard_buf_init(&ids);
    ard_status st = ops->bulk_begin(idx->be, "row_groups", cols, 9, err);
    for (int64_t i = 0; i < count && st == ARD_OK; i++) {
        const sync_item *it = &items[i];
        if (it->st != ARD_OK) {
            continue;
        }
        const ard_pq_metadata *md = ard_parquet_metadata(it->pq);
        int64_t first = 0;
        for (int32_t g = 0; g < md->num_row_groups && st == ARD_OK; g++) {
            const ard_pq_row_group *rg = &md->row_groups[g];
            int64_t off, bytes;
            rg_extent(rg, &off, &bytes);
            idx_value v[9] = {{IDX_INT, it->new_id, 0, NULL},
                              {IDX_INT, g, 0, NULL},
                              {IDX_INT, rg->num_rows, 0, NULL},
                              {IDX_INT, first, 0, NULL},
                              {IDX_INT, off, 0, NULL},
                              {IDX_INT, bytes, 0, NULL},
                              {IDX_NULL, 0, 0, NULL},
                              {IDX_NULL, 0, 0, NULL},
                              {IDX_NULL, 0, 0, NULL}};
            if (it->targetids && rg->num_rows > 0) { /* tiles are sorted, but do not rely on it */
                int64_t lo = INT64_MAX, hi = INT64_MIN;
                for (int64_t r = first; r < first + rg->num_rows; r++) {
                    lo = it->targetids[r] < lo ? it->targetids[r] : lo;
                    hi = it->targetids[r] > hi ? it->targetids[r] : hi;
                }
                v[6] = (idx_value){IDX_INT, lo, 0, NULL};
                v[7] = (idx_value){IDX_INT, hi, 0, NULL};
                ids.len = 0;
                ard__rg_targetids_encode(&ids, it->targetids + first, rg->num_rows);
                ard_buf_append(&ids, "", 1);
                if (ids.failed) {
                    st = ard_error_set(err, ARD_ENOMEM, "out of memory");
                    break;
                }
                v[8] = (idx_value){IDX_TEXT, 0, 0, (const char *)ids.data};
            }
            st = ops->bulk_row(idx->be, v, err);
            first += rg->num_rows;
        }
    }
    ard_buf_reset(&ids);
    ard_status end = ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    return st != ARD_OK ? st : end;
}

/* A statistics value as a number for column_stats (the parquet module's typed decoder). */
static int stat_double(const ard_pq_metadata *md, int32_t column, const ard_pq_column_chunk *ch,
                       const uint8_t *p, uint32_t len, double *out) {
    const ard_pq_schema_node *leaf =
        column < md->num_leaves ? &md->nodes[md->leaves[column]] : NULL;
    ard_parquet_value v;
    ard_parquet_value_decode(leaf, (int32_t)ch->type, p, len, &v);
    return ard_parquet_value_to_double(&v, out);
}

/* The column_stats rows of one file. */
static ard_status column_stats_rows(ard_index *idx, const sync_item *it, ard_error *err) {
    const idx_backend_ops *ops = idx->be->ops;
    const ard_pq_metadata *md = ard_parquet_metadata(it->pq);
    ard_status st = ARD_OK;
    for (int32_t g = 0; g < md->num_row_groups && st == ARD_OK; g++) {
        const ard_pq_row_group *rg = &md->row_groups[g];
        for (int32_t c = 0; c < rg->num_columns && st == ARD_OK; c++) {
            const ard_pq_column_chunk *ch = &rg->columns[c];
            const ard_pq_stats *s = &ch->stats;
            if (!ch->has_meta_data || !s->present || ch->path_len < 1) {
                continue;
            }
            double lo, hi;
            int has_lo =
                s->has_min_value && stat_double(md, c, ch, s->min_value, s->min_value_len, &lo);
            int has_hi =
                s->has_max_value && stat_double(md, c, ch, s->max_value, s->max_value_len, &hi);
            idx_value v[7] = {{IDX_INT, it->new_id, 0, NULL},
                              {IDX_INT, g, 0, NULL},
                              {IDX_TEXT, 0, 0, ch->path_in_schema[0]},
                              {IDX_INT, ch->num_values, 0, NULL},
                              {s->has_null_count ? IDX_INT : IDX_NULL, s->null_count, 0, NULL},
                              {has_lo ? IDX_DOUBLE : IDX_NULL, 0, has_lo ? lo : 0, NULL},
                              {has_hi ? IDX_DOUBLE : IDX_NULL, 0, has_hi ? hi : 0, NULL}};
            st = ops->bulk_row(idx->be, v, err);
        }
    }
    return st;
}

/* One bulk load for the window (a COPY statement on PostgreSQL, a prepared INSERT on SQLite: one
 * per file cost 12,000 of each in a fresh sync). */
static ard_status write_column_stats(ard_index *idx, const sync_item *items, int64_t count,
                                     ard_error *err) {
    static const char *const cols[] = {"file_id",    "row_group", "column_name", "num_values",
                                       "null_count", "min_value", "max_value"};
    const idx_backend_ops *ops = idx->be->ops;
    ard_status st = ops->bulk_begin(idx->be, "column_stats", cols, 7, err);
    for (int64_t i = 0; i < count && st == ARD_OK; i++) {
        if (items[i].st == ARD_OK) {
            st = column_stats_rows(idx, &items[i], err);
        }
    }
    ard_status end = ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    return st != ARD_OK ? st : end;
}

static ard_status write_spectra(ard_index *idx, sync_item *items, int64_t count, int64_t *rows,
                                ard_error *err) {
    static const char *const cols[] = {"targetid", "file_id", "row_group", "row_index"};
    const idx_backend_ops *ops = idx->be->ops;
    if (idx->fresh) { /* buffered: sorted and inserted by ard__fresh_finish */
        ard_status st = ARD_OK;
        for (int64_t i = 0; i < count && st == ARD_OK; i++) {
            const sync_item *it = &items[i];
            if (it->st == ARD_OK && it->kind == SYNC_TILE) {
                st = ard__fresh_add(idx, it->new_id, ard_parquet_metadata(it->pq), it->targetids,
                                    err);
                *rows += st == ARD_OK ? it->num_rows : 0;
            }
        }
        return st;
    }
    ard_status st = ops->bulk_begin(idx->be, "spectra", cols, 4, err);
    for (int64_t i = 0; i < count && st == ARD_OK; i++) {
        const sync_item *it = &items[i];
        if (it->st != ARD_OK || it->kind != SYNC_TILE) {
            continue;
        }
        const ard_pq_metadata *md = ard_parquet_metadata(it->pq);
        int64_t at = 0;
        for (int32_t g = 0; g < md->num_row_groups && st == ARD_OK; g++) {
            for (int64_t r = 0; r < md->row_groups[g].num_rows && st == ARD_OK; r++, at++) {
                idx_value v[4] = {{IDX_INT, it->targetids[at], 0, NULL},
                                  {IDX_INT, it->new_id, 0, NULL},
                                  {IDX_INT, g, 0, NULL},
                                  {IDX_INT, r, 0, NULL}};
                st = ops->bulk_row(idx->be, v, err);
            }
        }
        *rows += at;
    }
    ard_status end = ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    return st != ARD_OK ? st : end;
}

static ard_status write_errors(ard_index *idx, sync_item *items, int64_t count, int64_t run_id,
                               ard_error *err) {
    static const char *const cols[] = {"run_id", "path", "status", "message"};
    const idx_backend_ops *ops = idx->be->ops;
    int any = 0;
    for (int64_t i = 0; i < count; i++) {
        any |= items[i].st != ARD_OK;
    }
    if (!any) {
        return ARD_OK;
    }
    ard_status st = ops->bulk_begin(idx->be, "sync_errors", cols, 4, err);
    for (int64_t i = 0; i < count && st == ARD_OK; i++) {
        if (items[i].st != ARD_OK) {
            idx_value v[4] = {{IDX_INT, run_id, 0, NULL},
                              {IDX_TEXT, 0, 0, items[i].rel},
                              {IDX_TEXT, 0, 0, ard_status_name(items[i].st)},
                              {IDX_TEXT, 0, 0, items[i].msg}};
            st = ops->bulk_row(idx->be, v, err);
        }
    }
    ard_status end = ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    return st != ARD_OK ? st : end;
}

static ard_status write_window(ard_index *idx, sync_item *items, int64_t count, int64_t run_id,
                               int64_t *spectra_rows, int64_t *galaxy_rows, int64_t *data_reads,
                               ard_error *err) {
    int64_t next_id = 0;
    ard_status st = ard__idx_int(idx, "SELECT COALESCE(MAX(id), 0) + 1 FROM files", &next_id, err);
    int64_t *old = ard_malloc((size_t)(count ? count : 1) * sizeof *old);
    int64_t num_old = 0;
    int tiles = 0, catalogs = 0;
    if (st == ARD_OK && !old) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; st == ARD_OK && i < count; i++) {
        if (items[i].old_id) {
            old[num_old++] = items[i].old_id;
        }
        items[i].new_id = items[i].st == ARD_OK ? next_id++ : 0;
        tiles |= items[i].kind == SYNC_TILE;
        catalogs |= items[i].kind == SYNC_CATALOG;
    }
    /* spectra or galaxies change below: the stored linkage follows them (linkage.c) */
    idx_linkage_change change;
    memset(&change, 0, sizeof change);
    if (st == ARD_OK && idx->fresh) { /* the rows land at finish: the counts go stale */
        st = ard__linkage_invalidate(idx, err);
    } else if (st == ARD_OK) {
        st = ard__linkage_change_begin(idx, old, num_old, items, count, tiles, catalogs, &change,
                                       err);
    }
    if (st == ARD_OK) {
        st = ard__sync_delete_ids(idx, old, num_old, err);
    }
    ard_free(old);
    if (st == ARD_OK) {
        st = write_files(idx, items, count, run_id, err);
    }
    if (st == ARD_OK) {
        st = write_row_groups(idx, items, count, err);
    }
    if (st == ARD_OK) {
        st = write_column_stats(idx, items, count, err);
    }
    if (st == ARD_OK) {
        st = write_spectra(idx, items, count, spectra_rows, err);
    }
    if (st == ARD_OK) {
        st = ard__sync_write_pixel_stats(idx, items, count, err);
    }
    if (st == ARD_OK && catalogs) {
        st = ard__sync_catalog_files(idx, items, count, galaxy_rows, data_reads, err);
    }
    if (st == ARD_OK) {
        st = write_errors(idx, items, count, run_id, err);
    }
    st = st == ARD_OK ? ard__linkage_change_end(idx, &change, err) : st;
    ard__linkage_change_reset(&change);
    return st;
}

/* A window's transaction; inside a fresh load's outer transaction, a savepoint (its buffered
 * spectra rows are dropped with it). */
static ard_status window_begin(ard_index *idx, ard_error *err) {
    if (!idx->fresh) {
        return ard__idx_begin_write(idx, err);
    }
    ard_status st = ard__fresh_spill(idx, err);
    idx->fresh->window_mark = idx->fresh->count;
    return st == ARD_OK ? ard__idx_exec(idx, "SAVEPOINT ard_window", err) : st;
}

static ard_status window_commit(ard_index *idx, ard_error *err) {
    return ard__idx_exec(idx, idx->fresh ? "RELEASE SAVEPOINT ard_window" : "COMMIT", err);
}

static void window_rollback(ard_index *idx) {
    ard__cat_tids_drop(idx->cat_tids); /* its catalog rows, if any, are gone again */
    if (!idx->fresh) {
        ard__idx_exec(idx, "ROLLBACK", NULL);
        return;
    }
    ard__idx_exec(idx, "ROLLBACK TO SAVEPOINT ard_window; RELEASE SAVEPOINT ard_window", NULL);
    idx->fresh->count = idx->fresh->window_mark;
}

ard_status ard__sync_write_items(ard_index *idx, sync_item *items, int64_t count, int64_t run_id,
                                 int64_t *spectra_rows, int64_t *galaxy_rows, int64_t *data_reads,
                                 ard_error *err) {
    ard_status st = window_begin(idx, err);
    if (st != ARD_OK) {
        return st;
    }
    int64_t spectra = 0, galaxies = 0;
    st = write_window(idx, items, count, run_id, &spectra, &galaxies, data_reads, err);
    if (st == ARD_OK) {
        st = window_commit(idx, err);
    }
    if (st != ARD_OK) {
        window_rollback(idx);
        return st;
    }
    *spectra_rows += spectra;
    *galaxy_rows += galaxies;
    return ARD_OK;
}
