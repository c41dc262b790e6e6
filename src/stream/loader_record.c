/* Skipped row groups into the index (issue 15: "reports every skipped (file, row group, error) in
 * the stream's report, the Python iterator and the datasheet's next run"). A loader that left row
 * groups out under ARD_ON_ERROR_SKIP appends them to the index table stream_skips of its dataset,
 * each with the tile's modification time, so the datasheet can list the skips of tiles the index
 * has not seen change since (a repaired and re-synced tile drops out). */
#include "stream_int.h"

#include "ard/index.h"

#include <string.h>
#include <sys/stat.h>

typedef struct skip_rows {
    int64_t n;
    char **path, **message;
    const char **status;
    int64_t *row_group, *times, *mtime_ns;
    uint8_t *mtime_valid; /* validity bits of mtime_ns (NULL: the tile cannot be stat'ed) */
} skip_rows;

static void skip_rows_reset(skip_rows *r) {
    for (int64_t i = 0; i < r->n; i++) {
        ard_free(r->path[i]);
        ard_free(r->message[i]);
    }
    ard_free(r->path);
    ard_free(r->status);
    ard_free(r->message);
    ard_free(r->row_group);
    ard_free(r->times);
    ard_free(r->mtime_ns);
    ard_free(r->mtime_valid);
    memset(r, 0, sizeof *r);
}

/* The tile path as the index's files.path has it: relative to the dataset when under it. */
static char *relative_path(const char *dataset, const char *path) {
    size_t n = dataset ? strlen(dataset) : 0;
    while (n > 1 && dataset[n - 1] == '/') {
        n--;
    }
    if (n > 0 && strncmp(path, dataset, n) == 0 && path[n] == '/') {
        path += n + 1;
    }
    return ard_strdup(path);
}

/* Skips first..count-1 of the loader, copied. */
static ard_status snapshot(ard_loader *l, int64_t first, int64_t count, skip_rows *r,
                           ard_error *err) {
    int64_t n = count - first;
    r->path = ard_calloc((size_t)n, sizeof *r->path);
    r->status = ard_calloc((size_t)n, sizeof *r->status);
    r->message = ard_calloc((size_t)n, sizeof *r->message);
    r->row_group = ard_calloc((size_t)n, sizeof *r->row_group);
    r->times = ard_calloc((size_t)n, sizeof *r->times);
    r->mtime_ns = ard_calloc((size_t)n, sizeof *r->mtime_ns);
    r->mtime_valid = ard_calloc((size_t)(n + 7) / 8, 1);
    if (!r->path || !r->status || !r->message || !r->row_group || !r->times || !r->mtime_ns ||
        !r->mtime_valid) {
        return ard_error_set(err, ARD_ENOMEM, "loader: recording skipped row groups");
    }
    for (int64_t i = 0; i < n; i++) {
        char path[4096], msg[sizeof(((ard_error *)0)->msg)];
        int32_t rg = 0, status = 0;
        ard_status st = ard_loader_skipped(l, first + i, path, sizeof path, &rg, &status, msg,
                                           sizeof msg, &r->times[i], err);
        if (st != ARD_OK) {
            return st;
        }
        r->n = i + 1;
        r->path[i] = relative_path(l->o.index_dataset, path);
        r->message[i] = ard_strdup(msg);
        r->status[i] = ard_status_name((ard_status)status);
        r->row_group[i] = rg;
        struct stat sb;
        if (stat(path, &sb) == 0) {
            r->mtime_ns[i] = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
            r->mtime_valid[i / 8] |= (uint8_t)(1u << (i % 8));
        }
        if (!r->path[i] || !r->message[i]) {
            return ard_error_set(err, ARD_ENOMEM, "loader: recording skipped row groups");
        }
    }
    return ARD_OK;
}

static ard_status write_rows(ard_index *idx, const skip_rows *r, ard_error *err) {
    const ard_index_column cols[6] = {
        {"path", ARD_INDEX_TEXT, r->path, NULL},
        {"row_group", ARD_INDEX_INT64, r->row_group, NULL},
        {"status", ARD_INDEX_TEXT, r->status, NULL},
        {"message", ARD_INDEX_TEXT, r->message, NULL},
        {"times", ARD_INDEX_INT64, r->times, NULL},
        {"tile_mtime_ns", ARD_INDEX_INT64, r->mtime_ns, r->mtime_valid},
    };
    return ard_index_write_table(idx, "stream_skips", cols, 6, r->n, ARD_INDEX_APPEND, err);
}

ard_status ard_loader_record_skips(ard_loader *loader, ard_error *err) {
    if (!loader) {
        return ard_error_set(err, ARD_EINVAL, "ard_loader_record_skips: loader is NULL");
    }
    int64_t count = ard_loader_num_skipped(loader);
    pthread_mutex_lock(&loader->lock);
    int64_t first = loader->skips_recorded;
    pthread_mutex_unlock(&loader->lock);
    if (count <= first || (!loader->o.index_dataset && !loader->o.index_dsn)) {
        return ARD_OK;
    }
    skip_rows r = {0};
    ard_index *idx = NULL;
    ard_status st = snapshot(loader, first, count, &r, err);
    if (st == ARD_OK) {
        st = ard_index_open(loader->o.index_dataset, loader->o.index_dsn, 0, &idx, err);
    }
    if (st == ARD_OK) {
        st = write_rows(idx, &r, err);
    }
    ard_index_close(idx);
    skip_rows_reset(&r);
    if (st == ARD_OK) {
        pthread_mutex_lock(&loader->lock);
        loader->skips_recorded = count > loader->skips_recorded ? count : loader->skips_recorded;
        pthread_mutex_unlock(&loader->lock);
    } else {
        ard_error_prefix(
            err, "recording %lld skipped row groups in the index: ", (long long)(count - first));
    }
    return st;
}
