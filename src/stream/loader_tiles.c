/* The loader's tile cache: a tile (its Parquet footer and decompression scratch) is open only
 * while a row group of it is decoded or while it is among the most recently used, at most
 * max_open_tiles (2 x threads + 2) at once, so the memory stays bounded however many tiles a
 * plan spans. A tile in use by a thread is never closed under it (users count); a reopened file
 * must be the one resolved at creation (size, mtime, row groups), else its row groups fail with
 * ARD_ECORRUPT, which on_error = skip handles like any damaged row group. */
#include "stream_int.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static ard_status file_identity(const char *path, int64_t *size, int64_t *mtime_ns,
                                ard_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return ard_error_set(err, ARD_EIO, "%s: %s", path, strerror(errno));
    }
    *size = (int64_t)sb.st_size;
    *mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    return ARD_OK;
}

/* Closes least recently used idle tiles until fewer than `limit` are open. Caller holds lock. */
static void evict(ard_loader *l, int32_t limit) {
    while (l->open_tiles >= limit) {
        loader_file *lru = NULL;
        for (int32_t i = 0; i < l->num_files; i++) {
            loader_file *f = &l->files[i];
            if (f->tile && f->users == 0 && (!lru || f->last_use < lru->last_use)) {
                lru = f;
            }
        }
        if (!lru) {
            return; /* all in use: the bound gives way rather than a reader */
        }
        ard_tile_close(lru->tile);
        lru->tile = NULL;
        l->open_tiles--;
    }
}

static void entered(ard_loader *l, loader_file *f) {
    l->open_tiles++;
    if (l->open_tiles > l->peak_open_tiles) {
        l->peak_open_tiles = l->open_tiles;
    }
    f->last_use = ++l->tile_clock;
}

ard_status ard__loader_tile_first(ard_loader *l, loader_file *f, ard_error *err) {
    if (l->max_open_tiles <= 0) {
        l->max_open_tiles = 2 * (l->o.threads > 0 ? l->o.threads : 1) + 2;
    }
    if (!l->buffers) { /* first call comes before the producers start: no race */
        int32_t n = 2 * (l->o.threads > 0 ? l->o.threads : 1);
        ard_status bst = ard_parquet_buffers_new(n < 64 ? n : 64, 0, &l->buffers, err);
        if (bst != ARD_OK) {
            return bst;
        }
    }
    ard_status st = file_identity(f->path, &f->size, &f->mtime_ns, err);
    pthread_mutex_lock(&l->lock);
    evict(l, l->max_open_tiles);
    pthread_mutex_unlock(&l->lock);
    if (st == ARD_OK) {
        st = ard_tile_open_pooled(f->path, l->buffers, &f->tile, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    pthread_mutex_lock(&l->lock);
    entered(l, f);
    pthread_mutex_unlock(&l->lock);
    f->num_row_groups = ard_tile_num_row_groups(f->tile);
    f->rg_rows = ard_calloc((size_t)f->num_row_groups + 1, sizeof *f->rg_rows);
    if (!f->rg_rows) {
        return ard_error_set(err, ARD_ENOMEM, "loader: row groups of %s", f->path);
    }
    for (int32_t g = 0; g < f->num_row_groups; g++) {
        f->rg_rows[g] = ard_tile_row_group_rows(f->tile, g);
    }
    return ARD_OK;
}

/* Reopens f's tile. Caller holds lock. */
static ard_status reopen(ard_loader *l, loader_file *f, ard_error *err) {
    int64_t size = 0, mtime_ns = 0;
    ard_status st = file_identity(f->path, &size, &mtime_ns, err);
    if (st == ARD_OK && (size != f->size || mtime_ns != f->mtime_ns)) {
        st = ard_error_set(err, ARD_ECORRUPT,
                           "%s changed since the loader opened it (%lld bytes, was %lld)", f->path,
                           (long long)size, (long long)f->size);
    }
    if (st != ARD_OK) {
        return st;
    }
    evict(l, l->max_open_tiles);
    ard_tile *tile = NULL;
    st = ard_tile_open_pooled(f->path, l->buffers, &tile, err);
    if (st == ARD_OK && ard_tile_num_row_groups(tile) != f->num_row_groups) {
        st = ard_error_set(err, ARD_ECORRUPT,
                           "%s changed since the loader opened it (%d row groups, was %d)", f->path,
                           ard_tile_num_row_groups(tile), f->num_row_groups);
        ard_tile_close(tile);
    }
    if (st == ARD_OK) {
        f->tile = tile;
        entered(l, f);
    }
    return st;
}

ard_status ard__loader_tile_get(ard_loader *l, int32_t file, ard_tile **tile, ard_error *err) {
    loader_file *f = &l->files[file];
    pthread_mutex_lock(&l->lock);
    ard_status st = f->tile ? ARD_OK : reopen(l, f, err);
    if (st == ARD_OK) {
        f->users++;
        f->last_use = ++l->tile_clock;
        *tile = f->tile;
    }
    pthread_mutex_unlock(&l->lock);
    return st;
}

void ard__loader_tile_put(ard_loader *l, int32_t file) {
    loader_file *f = &l->files[file];
    pthread_mutex_lock(&l->lock);
    f->users--;
    f->last_use = ++l->tile_clock;
    if (l->open_tiles > l->max_open_tiles) {
        evict(l, l->max_open_tiles + 1); /* back to the bound once the readers are done */
    }
    pthread_mutex_unlock(&l->lock);
}

void ard__loader_tiles_free(ard_loader *l) {
    for (int32_t i = 0; i < l->num_files; i++) {
        ard_tile_close(l->files[i].tile);
        l->files[i].tile = NULL;
        ard_free(l->files[i].rg_rows);
        ard_free(l->files[i].path);
    }
    l->open_tiles = 0;
}
