/* The read side of sync: for one new or changed file, read its footer (and for tiles the TARGETID
 * column, which is small, and the ard.pixel_stats metadata) into a sync_item. Runs on pool threads;
 * touches no database. */
#include "index_int.h"

#include <stdio.h>
#include <string.h>

static void item_fail(sync_item *it, ard_status st, const ard_error *e) {
    it->st = st;
    snprintf(it->msg, sizeof it->msg, "%s", e->msg[0] ? e->msg : ard_status_str(st));
}

/* A short fingerprint of the schema: FNV-1a over "path:type;" of every leaf. */
static void schema_fingerprint(const ard_pq_metadata *md, char out[17]) {
    uint64_t h = 1469598103934665603ull;
    for (int32_t l = 0; l < md->num_leaves; l++) {
        const ard_pq_schema_node *n = &md->nodes[md->leaves[l]];
        for (const char *p = n->path; *p; p++) {
            h = (h ^ (uint8_t)*p) * 1099511628211ull;
        }
        h = (h ^ (uint64_t)(n->type + 1)) * 1099511628211ull;
        h = (h ^ (uint64_t)(n->repetition + 7)) * 1099511628211ull;
    }
    for (int i = 15; i >= 0; i--, h >>= 4) {
        out[i] = "0123456789abcdef"[h & 15];
    }
    out[16] = '\0';
}

/* Reads the TARGETID column of every row group into it->targetids (tiles only). */
static ard_status read_targetids(sync_item *it, ard_error *err) {
    const ard_pq_metadata *md = ard_parquet_metadata(it->pq);
    int32_t leaf = ard_parquet_find_leaf(it->pq, "TARGETID");
    if (leaf < 0) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: no TARGETID column", it->full);
    }
    if (md->nodes[md->leaves[leaf]].type != ARD_PQ_INT64) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: TARGETID is not INT64", it->full);
    }
    if (md->num_rows > (int64_t)1 << 32) {
        return ard_error_set(err, ARD_ELIMIT, "%s: %lld rows", it->full, (long long)md->num_rows);
    }
    it->targetids = ard_malloc((size_t)(md->num_rows ? md->num_rows : 1) * sizeof(int64_t));
    if (!it->targetids) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory reading %s", it->full);
    }
    int64_t at = 0;
    for (int32_t rg = 0; rg < md->num_row_groups; rg++) {
        ard_pq_column_data col;
        memset(&col, 0, sizeof col);
        it->data_reads++;
        ard_status st = ard_parquet_read_column(it->pq, rg, leaf, &col, err);
        if (st == ARD_OK &&
            (col.num_values != md->row_groups[rg].num_rows || at + col.num_values > md->num_rows)) {
            st = ard_error_set(err, ARD_ECORRUPT,
                               "%s: row group %d has %lld TARGETID values for %lld rows (nulls?)",
                               it->full, rg, (long long)col.num_values,
                               (long long)md->row_groups[rg].num_rows);
        }
        if (st != ARD_OK) {
            ard_pq_column_data_reset(&col);
            return st;
        }
        memcpy(it->targetids + at, col.values, (size_t)col.num_values * sizeof(int64_t));
        at += col.num_values;
        ard_pq_column_data_reset(&col);
    }
    it->num_rows = at;
    return ARD_OK;
}

void ard__sync_read_item(sync_item *it) {
    if (it->st != ARD_OK) {
        return; /* refused before reading (a path outside the dataset) */
    }
    ard_error e;
    ard_error_init(&e);
    it->footer_reads++;
    ard_status st = ard__footer_hash(it->full, it->hash, &e);
    if (st == ARD_OK) {
        it->footer_reads++;
        st = ard_parquet_open(it->full, NULL, &it->pq, &e);
    }
    if (st == ARD_OK) {
        schema_fingerprint(ard_parquet_metadata(it->pq), it->fingerprint);
        it->num_rows = ard_parquet_metadata(it->pq)->num_rows;
        if (it->kind == SYNC_TILE) {
            st = read_targetids(it, &e);
            st = st ? st : ard__sync_read_pixel_stats(it, &e);
        }
    }
    if (st != ARD_OK) {
        item_fail(it, st, &e);
        ard_parquet_close(it->pq);
        it->pq = NULL;
    }
}

void ard__sync_item_reset(sync_item *it) {
    ard_parquet_close(it->pq);
    it->pq = NULL;
    ard_free(it->targetids);
    it->targetids = NULL;
    ard_free(it->full);
    it->full = NULL;
}
