/* A sync whose tile reads happen in other processes (MPI ranks: cluster). The reader's side turns
 * one tile into a self-contained record of what ard__sync_read_item learned (status, footer hash,
 * schema fingerprint, the footer bytes, TARGETIDs, pixel statistics); the writer's side turns the
 * record back into a sync_item whose Parquet handle holds the footer alone
 * (ard_parquet_open_footer), so the write side cannot tell a remote read from a local one. */
#include "index_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define REC_MAGIC "ARDSYNR1"

/* The fixed head of a record; the footer bytes and the TARGETIDs follow it. */
typedef struct rec_head {
    char magic[8];
    int32_t status, num_pixel_classes;
    int64_t file_size, num_rows, num_targetids, footer_len, data_reads, footer_reads;
    char hash[17], fingerprint[17];
    char pad[6];
    sync_pixel_class pixel_classes[SYNC_PIXEL_CLASSES];
    char msg[512];
} rec_head;

/* The FileMetaData bytes of an opened tile, read again from the file (in the page cache: the
 * footer was just decoded from it). */
static ard_status read_footer(const sync_item *it, uint8_t *out, ard_error *err) {
    const ard_pq_metadata *md = ard_parquet_metadata(it->pq);
    int fd = -1;
    ard_status st = ard_file_open_regular(it->full, &fd, NULL, err);
    if (st == ARD_OK) {
        st = ard_pread_full(fd, out, (size_t)md->footer_length, md->footer_offset, it->full, err);
        close(fd);
    }
    return st;
}

static ard_status make_record(sync_item *it, uint8_t **record, size_t *len, ard_error *err) {
    int64_t footer_len = it->st == ARD_OK ? ard_parquet_metadata(it->pq)->footer_length : 0;
    int64_t ids = it->st == ARD_OK && it->targetids ? it->num_rows : 0;
    size_t total = sizeof(rec_head) + (size_t)footer_len + (size_t)ids * sizeof(int64_t);
    uint8_t *rec = ard_calloc(1, total);
    if (!rec) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for its sync record", it->rel);
    }
    rec_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, REC_MAGIC, sizeof h.magic);
    h.file_size = it->pq ? ard_parquet_file_size(it->pq) : 0;
    h.num_rows = it->num_rows;
    h.num_targetids = ids;
    h.footer_len = footer_len;
    h.data_reads = it->data_reads;
    h.footer_reads = it->footer_reads;
    memcpy(h.hash, it->hash, sizeof h.hash);
    memcpy(h.fingerprint, it->fingerprint, sizeof h.fingerprint);
    h.num_pixel_classes = it->num_pixel_classes;
    memcpy(h.pixel_classes, it->pixel_classes, sizeof h.pixel_classes);
    ard_error e;
    ard_error_init(&e);
    ard_status st = footer_len > 0 ? read_footer(it, rec + sizeof h, &e) : ARD_OK;
    if (st == ARD_ENOMEM) {
        ard_free(rec);
        return ard_error_set(err, st, "%s", e.msg);
    }
    h.status = it->st != ARD_OK ? it->st : st;
    snprintf(h.msg, sizeof h.msg, "%s", it->st != ARD_OK ? it->msg : e.msg);
    if (h.status != ARD_OK) {
        total = sizeof h;
        h.footer_len = h.num_targetids = 0;
    } else if (ids > 0) {
        memcpy(rec + sizeof h + footer_len, it->targetids, (size_t)ids * sizeof(int64_t));
    }
    memcpy(rec, &h, sizeof h);
    *record = rec;
    *len = total;
    return ARD_OK;
}

ard_status ard_index_sync_read_tile(const char *dataset, const char *path, uint8_t **record,
                                    size_t *len, ard_error *err) {
    if (!record || !len) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_sync_read_tile: NULL output");
    }
    *record = NULL;
    *len = 0;
    if (!dataset || !path) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_sync_read_tile: NULL dataset or path");
    }
    sync_item it;
    memset(&it, 0, sizeof it);
    it.rel = path;
    it.kind = SYNC_TILE;
    ard_error e;
    ard_error_init(&e);
    ard_status st = ard_path_confine(dataset, path, "sync", &it.full, &e);
    if (st == ARD_ENOMEM) {
        return ard_error_set(err, st, "%s", e.msg);
    }
    if (st != ARD_OK) { /* as a local sync: the refusal lands in sync_errors */
        it.st = st;
        snprintf(it.msg, sizeof it.msg, "%s", e.msg);
    }
    ard__sync_read_item(&it);
    st = make_record(&it, record, len, err);
    ard__sync_item_reset(&it);
    return st;
}

ard_status ard__sync_remote_plan(const ard_sync_remote *remote, sync_item *items, int64_t count,
                                 ard_error *err) {
    int64_t n = 0;
    for (int64_t i = 0; i < count; i++) {
        n += items[i].kind == SYNC_TILE && items[i].st == ARD_OK;
    }
    const char **paths = ard_calloc((size_t)(n ? n : 1), sizeof *paths);
    int64_t *sizes = ard_calloc((size_t)(n ? n : 1), sizeof *sizes);
    int32_t *local = ard_calloc((size_t)(n ? n : 1), sizeof *local);
    int64_t *which = ard_calloc((size_t)(n ? n : 1), sizeof *which);
    ard_status st = paths && sizes && local && which
                        ? ARD_OK
                        : ard_error_set(err, ARD_ENOMEM, "sync: out of memory planning reads");
    for (int64_t i = 0, j = 0; st == ARD_OK && i < count; i++) {
        if (items[i].kind == SYNC_TILE && items[i].st == ARD_OK) {
            paths[j] = items[i].rel;
            sizes[j] = items[i].size;
            which[j++] = i;
        }
    }
    st = st == ARD_OK ? remote->plan(remote->ctx, n, paths, sizes, local, err) : st;
    for (int64_t j = 0; st == ARD_OK && j < n; j++) {
        items[which[j]].remote = local[j] ? 0 : j + 1;
    }
    ard_free(paths);
    ard_free(sizes);
    ard_free(local);
    ard_free(which);
    return st;
}

/* Fills a remote item from its record; a malformed record is a transport error (ARD_EIO). */
static ard_status from_record(sync_item *it, const uint8_t *rec, size_t len, ard_error *err) {
    rec_head h;
    if (len < sizeof h) {
        return ard_error_set(err, ARD_EIO, "sync: the record of %s is truncated (%zu bytes)",
                             it->rel, len);
    }
    memcpy(&h, rec, sizeof h);
    if (memcmp(h.magic, REC_MAGIC, sizeof h.magic) != 0 || h.footer_len < 0 ||
        h.num_targetids < 0 || h.num_targetids > h.num_rows ||
        len != sizeof h + (size_t)h.footer_len + (size_t)h.num_targetids * sizeof(int64_t) ||
        h.num_pixel_classes < 0 || h.num_pixel_classes > SYNC_PIXEL_CLASSES) {
        return ard_error_set(err, ARD_EIO, "sync: the record of %s is malformed", it->rel);
    }
    it->data_reads = h.data_reads;
    it->footer_reads = h.footer_reads;
    if (h.status != ARD_OK) {
        it->st = (ard_status)h.status;
        snprintf(it->msg, sizeof it->msg, "%.*s", (int)sizeof h.msg - 1, h.msg);
        return ARD_OK;
    }
    ard_error e;
    ard_error_init(&e);
    ard_status st = ard_parquet_open_footer(rec + sizeof h, (size_t)h.footer_len, h.file_size,
                                            it->full, &it->pq, &e);
    if (st == ARD_OK && h.num_targetids > 0) {
        it->targetids = ard_malloc((size_t)h.num_targetids * sizeof(int64_t));
        st = it->targetids ? ARD_OK : ard_error_set(&e, ARD_ENOMEM, "out of memory");
        if (st == ARD_OK) {
            memcpy(it->targetids, rec + sizeof h + h.footer_len,
                   (size_t)h.num_targetids * sizeof(int64_t));
        }
    }
    if (st == ARD_ENOMEM) {
        return ard_error_set(err, st, "sync: %s: %s", it->rel, e.msg);
    }
    if (st != ARD_OK) {
        it->st = st;
        snprintf(it->msg, sizeof it->msg, "%s", e.msg);
        return ARD_OK;
    }
    memcpy(it->hash, h.hash, sizeof it->hash);
    memcpy(it->fingerprint, h.fingerprint, sizeof it->fingerprint);
    it->hash[16] = it->fingerprint[16] = '\0';
    it->num_rows = h.num_rows;
    it->num_pixel_classes = h.num_pixel_classes;
    memcpy(it->pixel_classes, h.pixel_classes, sizeof it->pixel_classes);
    return ARD_OK;
}

ard_status ard__sync_remote_receive(const ard_sync_remote *remote, sync_item *items, int64_t count,
                                    ard_error *err) {
    ard_status st = ARD_OK;
    for (int64_t i = 0; remote && st == ARD_OK && i < count; i++) {
        if (!items[i].remote) {
            continue;
        }
        uint8_t *rec = NULL;
        size_t len = 0;
        st = remote->receive(remote->ctx, items[i].remote - 1, &rec, &len, err);
        st = st == ARD_OK ? from_record(&items[i], rec, len, err) : st;
        ard_free(rec);
    }
    return st;
}
