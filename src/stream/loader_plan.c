/* The loader's plan: read items resolved against the tiles' footers (files opened once through the
 * tile cache, row group sizes copied out, distinct
 * row groups numbered) and each epoch's delivery order -- row groups
 * shuffled, then a local shuffle buffer (Ray Data's semantics), then this shard's contiguous share
 * -- all from a seeded generator so a seed reproduces the order exactly.
 *
 * The shuffle moves row groups, not items: a selection gives one item per run of selected rows, so
 * shuffling items would scatter a row group's rows over the whole epoch, and its decoded entry
 * (freed after its last row) would live that long -- memory growing with the selection (issue 13).
 * With whole row groups moved, a row group's rows arrive within the local shuffle buffer's reach. */
#include "stream_int.h"

#include <stdlib.h>
#include <string.h>

static int32_t find_file(ard_loader *l, const char *path) {
    for (int32_t i = l->num_files - 1; i >= 0; i--) {
        if (strcmp(l->files[i].path, path) == 0) {
            return i;
        }
    }
    return -1;
}

static ard_status check_columns(ard_loader *l, loader_file *f, ard_error *err) {
    if (ard_tile_column_kind(f->tile, l->o.flux_column) != ARD_TILE_LIST_F32 ||
        ard_tile_column_kind(f->tile, l->o.ivar_column) != ARD_TILE_LIST_F32) {
        return ard_error_set(err, ARD_EINVAL, "%s: missing list<float> column %s or %s", f->path,
                             l->o.flux_column, l->o.ivar_column);
    }
    if (ard_tile_column_kind(f->tile, l->o.id_column) != ARD_TILE_INT64) {
        return ard_error_set(err, ARD_EINVAL, "%s: missing INT64 column %s", f->path,
                             l->o.id_column);
    }
    return ARD_OK;
}

static ard_status open_file(ard_loader *l, const char *path, int32_t *index, ard_error *err) {
    int32_t i = find_file(l, path);
    if (i >= 0) {
        *index = i;
        return ARD_OK;
    }
    loader_file *grown = ard_realloc(l->files, (size_t)(l->num_files + 1) * sizeof *grown);
    if (!grown) {
        return ard_error_set(err, ARD_ENOMEM, "loader: file table");
    }
    l->files = grown;
    loader_file *f = &l->files[l->num_files];
    memset(f, 0, sizeof *f);
    f->path = ard_strdup(path);
    if (!f->path) {
        return ard_error_set(err, ARD_ENOMEM, "loader: path");
    }
    l->num_files++;
    ard_status st = ard__loader_tile_first(l, f, err); /* stays open while it is recent */
    if (st == ARD_OK) {
        st = check_columns(l, f, err);
    }
    if (st == ARD_OK && !l->grid_text) {
        const char *g = ard_tile_kv(f->tile, ARD_KV_GRID);
        if (g && !(l->grid_text = ard_strdup(g))) {
            st = ard_error_set(err, ARD_ENOMEM, "loader: grid");
        }
    }
    *index = l->num_files - 1;
    return st;
}

static int32_t find_rg(const ard_loader *l, int32_t file, int32_t row_group) {
    for (int32_t i = l->num_rgs - 1; i >= 0; i--) {
        if (l->rgs[i].file == file && l->rgs[i].row_group == row_group) {
            return i;
        }
    }
    return -1;
}

static ard_status add_rg(ard_loader *l, int32_t file, int32_t row_group, int32_t *out,
                         ard_error *err) {
    const loader_file *f = &l->files[file];
    int64_t rows = row_group >= 0 && row_group < f->num_row_groups ? f->rg_rows[row_group] : -1;
    if (rows < 0) {
        return ard_error_set(err, ARD_EINVAL, "%s: row group %d of %d", f->path, row_group,
                             f->num_row_groups);
    }
    int32_t i = find_rg(l, file, row_group);
    if (i < 0) {
        loader_rg *grown = ard_realloc(l->rgs, (size_t)(l->num_rgs + 1) * sizeof *grown);
        if (!grown) {
            return ard_error_set(err, ARD_ENOMEM, "loader: row group table");
        }
        l->rgs = grown;
        i = l->num_rgs++;
        l->rgs[i] = (loader_rg){file, row_group, rows, 0, 0};
    }
    *out = i;
    return ARD_OK;
}

static ard_status resolve_one(ard_loader *l, const ard_read_item *it, loader_item *out,
                              ard_error *err) {
    if (!it->path) {
        return ard_error_set(err, ARD_EINVAL, "loader: item without a path");
    }
    int32_t file = -1, rg = -1;
    ard_status st = open_file(l, it->path, &file, err);
    if (st == ARD_OK) {
        st = add_rg(l, file, it->row_group, &rg, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    int64_t rows = l->rgs[rg].rows;
    int64_t count = it->num_rows < 0 ? rows - it->first_row : it->num_rows;
    if (it->first_row < 0 || count < 0 || it->first_row > rows || count > rows - it->first_row) {
        return ard_error_set(err, ARD_EINVAL, "%s: rows %lld+%lld outside row group %d (%lld rows)",
                             it->path, (long long)it->first_row, (long long)it->num_rows,
                             it->row_group, (long long)rows);
    }
    *out = (loader_item){rg, it->first_row, count};
    return ARD_OK;
}

/* Groups the items by row group (rg_item_start, rg_items) and places each item's rows in its row
 * group's entry (item_off): compact row groups keep their selected rows only. */
static ard_status group_items(ard_loader *l, ard_error *err) {
    l->rg_item_start = ard_calloc((size_t)l->num_rgs + 2, sizeof *l->rg_item_start);
    l->rg_items = ard_malloc(((size_t)l->num_items + 1) * sizeof *l->rg_items);
    l->item_off = ard_malloc(((size_t)l->num_items + 1) * sizeof *l->item_off);
    if (!l->rg_item_start || !l->rg_items || !l->item_off) {
        return ard_error_set(err, ARD_ENOMEM, "loader: %lld items by row group",
                             (long long)l->num_items);
    }
    for (int32_t g = 0; g < l->num_rgs; g++) {
        l->rgs[g].selected = 0;
    }
    for (int64_t i = 0; i < l->num_items; i++) {
        l->rg_item_start[l->items[i].rg + 2]++;
        l->rgs[l->items[i].rg].selected += l->items[i].count;
    }
    for (int32_t g = 0; g < l->num_rgs; g++) {
        l->rg_item_start[g + 2] += l->rg_item_start[g + 1];
        l->rgs[g].compact = l->rgs[g].selected < l->rgs[g].rows;
    }
    for (int64_t i = 0; i < l->num_items; i++) { /* stable: item order within a row group */
        l->rg_items[l->rg_item_start[l->items[i].rg + 1]++] = i;
    }
    for (int32_t g = 0; g < l->num_rgs; g++) {
        int64_t off = 0;
        for (int64_t q = l->rg_item_start[g]; q < l->rg_item_start[g + 1]; q++) {
            int64_t it = l->rg_items[q];
            l->item_off[it] = l->rgs[g].compact ? off : l->items[it].first;
            off += l->items[it].count;
        }
    }
    return ARD_OK;
}

ard_status ard__loader_resolve(ard_loader *l, const ard_read_item *items, int64_t num_items,
                               ard_error *err) {
    l->items = ard_calloc((size_t)num_items + 1, sizeof *l->items);
    l->item_start = ard_calloc((size_t)num_items + 1, sizeof *l->item_start);
    if (!l->items || !l->item_start) {
        return ard_error_set(err, ARD_ENOMEM, "loader: %lld items", (long long)num_items);
    }
    for (int64_t i = 0; i < num_items; i++) {
        ard_status st = resolve_one(l, &items[i], &l->items[i], err);
        if (st != ARD_OK) {
            return st;
        }
        l->item_start[i + 1] = l->item_start[i] + l->items[i].count;
        l->num_items = i + 1;
    }
    l->total_rows = l->item_start[num_items];
    return group_items(l, err);
}

/* ---- epoch order ---- */

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int64_t below(uint64_t *s, int64_t n) {
    return (int64_t)(((unsigned __int128)splitmix(s) * (uint64_t)n) >> 64);
}

/* The epoch's rows before the local shuffle buffer: in item order, or (shuffle) row group by row
 * group in a seeded random order of the row groups, each row group's items in item order. */
static int full_order(const ard_loader *l, int32_t epoch, int64_t *order) {
    int64_t *perm = (int64_t *)order;
    uint64_t s = l->o.seed ^ (0xa0761d6478bd642fULL * (uint64_t)(epoch + 1));
    int64_t n = l->total_rows, at = 0;
    if (!l->o.shuffle) {
        for (int64_t r = 0; r < n; r++) {
            perm[r] = r;
        }
        return 0;
    }
    int32_t *groups = ard_malloc(((size_t)l->num_rgs + 1) * sizeof *groups);
    if (!groups) {
        return -1;
    }
    for (int32_t g = 0; g < l->num_rgs; g++) {
        groups[g] = g;
    }
    for (int32_t g = l->num_rgs - 1; g > 0; g--) {
        int32_t j = (int32_t)below(&s, (int64_t)g + 1);
        int32_t t = groups[g];
        groups[g] = groups[j];
        groups[j] = t;
    }
    for (int32_t k = 0; k < l->num_rgs; k++) {
        int32_t g = groups[k];
        for (int64_t q = l->rg_item_start[g]; q < l->rg_item_start[g + 1]; q++) {
            int64_t it = l->rg_items[q];
            for (int64_t r = l->item_start[it]; r < l->item_start[it + 1]; r++) {
                perm[at++] = r;
            }
        }
    }
    ard_free(groups);
    int64_t buf = l->o.shuffle ? l->o.local_shuffle_buffer : 0;
    if (buf > 1) {
        /* A streaming buffer of `buf` rows: each incoming row replaces a random buffered row, which
         * is emitted; equivalent to permuting in place with a window. */
        for (int64_t i = 0; i < n; i++) {
            int64_t lo = i, hi = i + buf < n ? i + buf : n;
            int64_t j = lo + below(&s, hi - lo);
            int64_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
    }
    return 0;
}

static int64_t item_of(const ard_loader *l, int64_t row) {
    int64_t lo = 0, hi = l->num_items - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        if (l->item_start[mid] <= row) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

void ard__loader_epoch_free(loader_epoch *e) {
    if (e) {
        ard_free(e->order);
        ard_free(e->need);
        ard_free(e->from_cache);
        ard_free(e);
    }
}

loader_epoch *ard__loader_epoch(ard_loader *l, int32_t epoch) {
    if (l->epochs[epoch]) {
        return l->epochs[epoch];
    }
    loader_epoch *e = ard_calloc(1, sizeof *e);
    int64_t *all = ard_malloc((size_t)(l->total_rows + 1) * sizeof *all);
    if (!e || !all) {
        ard_free(all);
        ard_free(e);
        return NULL;
    }
    if (full_order(l, epoch, all) != 0) {
        ard_free(all);
        ard_free(e);
        return NULL;
    }
    int64_t lo = l->total_rows * l->o.rank / l->o.world;
    e->epoch = epoch;
    e->count = l->shard_rows;
    e->order = ard_malloc((size_t)(e->count + 1) * sizeof *e->order);
    e->need = ard_calloc((size_t)l->num_rgs + 1, sizeof *e->need);
    e->from_cache = ard_calloc((size_t)e->count + 1, 1);
    if (!e->order || !e->need || !e->from_cache) {
        ard_free(all);
        ard__loader_epoch_free(e);
        return NULL;
    }
    int64_t used = l->batches_per_epoch * l->o.batch_size; /* drop_last leaves rows unused */
    for (int64_t i = 0; i < e->count; i++) {
        int64_t row = all[lo + i];
        e->order[i] = row;
        if (l->cache_active && atomic_load(&l->cached[row]) == 1) { /* 2: being written */
            e->from_cache[i] = 1;
        } else if (i < used &&
                   ard__loader_selected(l, epoch * l->batches_per_epoch + i / l->o.batch_size)) {
            e->need[l->items[item_of(l, row)].rg]++;
        }
    }
    ard_free(all);
    e->batches_expected = ard__loader_epoch_batches(l, epoch);
    l->epochs[epoch] = e;
    return e;
}

void ard__loader_locate(const ard_loader *l, int64_t row, int32_t *rg, int64_t *entry_row) {
    int64_t it = item_of(l, row);
    *rg = l->items[it].rg;
    *entry_row = l->item_off[it] + (row - l->item_start[it]);
}
