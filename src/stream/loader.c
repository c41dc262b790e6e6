/* The loader: producer threads claim the next batch slot of the store, work out which rows that
 * batch holds from the epoch plan, decode each needed row group once (shared between threads and
 * freed when its last row of the epoch is done), tokenize every row straight into the slot and
 * publish it. With the epoch cache, tokenized rows are kept and later epochs copy them instead. */
#include "stream_int.h"

#include <string.h>

void ard_loader_options_init(ard_loader_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->batch_size = 256;
    opts->prefetch_batches = 10;
    opts->epochs = 1;
    opts->world = 1;
    opts->threads = 2;
    opts->flux_column = "FLUX";
    opts->ivar_column = "IVAR";
    opts->id_column = "TARGETID";
    ard_tokenize_options_init(&opts->tokenize);
    opts->rest_zmax = 1.6;
}

static ard_status check_options(const ard_loader_options *o, ard_error *err) {
    if (!o || o->batch_size <= 0 || o->batch_size > (1 << 20)) {
        return ard_error_set(err, ARD_EINVAL, "loader: batch_size must be 1..1048576");
    }
    if (o->prefetch_batches <= 0 || o->epochs <= 0 || o->epochs > 1000000 || o->threads <= 0 ||
        o->threads > 256 || o->local_shuffle_buffer < 0 || o->memory_cap < 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "loader: prefetch_batches, epochs, threads must be > 0 (threads <= "
                             "256), buffer and memory >= 0");
    }
    if (o->world <= 0 || o->rank < 0 || o->rank >= o->world) {
        return ard_error_set(err, ARD_EINVAL, "loader: shard rank %d of world %d", o->rank,
                             o->world);
    }
    if (o->on_error != ARD_ON_ERROR_FAIL && o->on_error != ARD_ON_ERROR_SKIP) {
        return ard_error_set(err, ARD_EINVAL, "loader: on_error must be fail (0) or skip (1)");
    }
    if (!o->flux_column || !o->ivar_column || !o->id_column) {
        return ard_error_set(err, ARD_EINVAL, "loader: column names must be set");
    }
    ard_status st = ard__loader_rest_check(o, err);
    return st == ARD_OK ? ard_tokenize_options_check(&o->tokenize, err) : st;
}

/* Every tile must hold spectra of one width: taken from the first readable row group's FLUX
 * chunk (under on_error = skip an unreadable one is recorded as skipped). */
static ard_status find_width(ard_loader *l, ard_error *err) {
    for (int32_t i = 0; i < l->num_rgs; i++) {
        if (l->rgs[i].rows == 0) {
            continue;
        }
        const loader_file *f = &l->files[l->rgs[i].file];
        ard_tile *tile = NULL;
        ard_status st = ard__loader_tile_get(l, l->rgs[i].file, &tile, err);
        if (st == ARD_OK) {
            st = ard_tile_list_width(tile, l->rgs[i].row_group, l->o.flux_column, &l->width, err);
            ard__loader_tile_put(l, l->rgs[i].file);
        }
        if (st != ARD_OK && ard__loader_skippable(l, st)) {
            st = ard__loader_skip(l, i, st, err); /* on_error = skip: the next one tells */
            if (st == ARD_OK) {
                continue;
            }
        }
        if (st != ARD_OK) {
            return st;
        }
        if (l->width <= 0) {
            return ard_error_set(err, ARD_EINVAL, "%s: empty spectra", f->path);
        }
        return ARD_OK;
    }
    return ard_error_set(err, ARD_EINVAL, "loader: the read plan selects no rows");
}

static ard_status make_store(ard_loader *l, ard_error *err) {
    float *wave = ard_malloc((size_t)l->num_patches * sizeof *wave);
    if (!wave) {
        return ard_error_set(err, ARD_ENOMEM, "loader: wave");
    }
    ard_status st =
        l->rest.n_rest > 0
            ? ard_rest_wavelengths(&l->rest, l->o.tokenize.patch, wave, NULL)
            : ard_patch_wavelengths(l->grid_text, l->width, l->o.tokenize.patch, wave, NULL);
    if (st != ARD_OK) {
        for (int64_t p = 0; p < l->num_patches; p++) {
            wave[p] = 0.0f; /* no usable grid: wavelengths unknown */
        }
    }
    ard_store_options so;
    ard_store_options_init(&so);
    so.name = l->o.store_name;
    so.slots = l->o.prefetch_batches;
    /* the cap also holds one decoded row group (loader_memory.c): the store gets the rest */
    int64_t entry = ard__loader_entry_bytes(l);
    so.memory_cap = l->o.memory_cap;
    if (l->o.memory_cap > 0 && l->o.memory_cap <= entry) {
        ard_free(wave);
        return ard_error_set(err, ARD_ELIMIT,
                             "loader: memory cap %lld bytes does not hold one decoded row group "
                             "(%lld bytes) and the store",
                             (long long)l->o.memory_cap, (long long)entry);
    }
    if (l->o.memory_cap > 0) {
        so.memory_cap = l->o.memory_cap - entry;
    }
    so.batch_size = l->o.batch_size;
    so.num_patches = (int32_t)l->num_patches;
    so.patch = l->o.tokenize.patch;
    so.wave = wave;
    ard_stream_column cols[ARD_STREAM_MAX_COLUMNS + 1];
    if (l->catalog) {
        so.num_columns = l->catalog->num_columns;
        memcpy(cols, l->catalog->columns, (size_t)so.num_columns * sizeof *cols);
    }
    if (l->o.weights) {
        cols[so.num_columns++] = ard__loader_weights_column(l);
    }
    so.columns = cols;
    st =
        so.num_columns > ARD_STREAM_MAX_COLUMNS
            ? ard_error_set(err, ARD_EINVAL, "loader: %d catalog columns and the weights exceed %d",
                            so.num_columns - 1, ARD_STREAM_MAX_COLUMNS)
            : ard_store_create(&so, &l->store, err);
    ard_free(wave);
    if (st == ARD_OK) {
        ard__loader_find_columns(l);
    }
    return st;
}

static void setup_cache(ard_loader *l) {
    if (!l->o.cache || l->o.epochs < 2) {
        return;
    }
    int64_t np = l->num_patches, p = l->o.tokenize.patch;
    l->cache_row_bytes = np * p * 4 + np * 4 + np + 8 + 1 + (l->o.weights ? np * p * 4 : 0);
    int64_t bytes = l->cache_row_bytes * l->total_rows;
    if (l->o.memory_cap > 0 &&
        ard_store_size(l->store) + bytes + ard__loader_entry_bytes(l) > l->o.memory_cap) {
        return; /* does not fit beside the store and one decoded row group: no cache */
    }
    l->cache = ard_malloc((size_t)bytes + 1);
    l->cached = ard_calloc((size_t)l->total_rows + 1, sizeof *l->cached);
    if (!l->cache || !l->cached) {
        ard_free(l->cache);
        ard_free((void *)l->cached);
        l->cache = NULL;
        l->cached = NULL;
        return;
    }
    l->cache_active = 1;
}

static ard_status finish_setup(ard_loader *l, ard_error *err) {
    ard_status st = find_width(l, err);
    if (st != ARD_OK) {
        return st;
    }
    st = ard__loader_rest_setup(l, err);
    if (st != ARD_OK) {
        return st;
    }
    l->num_patches = ard_tokenize_num_patches(l->token_width, l->o.tokenize.patch);
    l->shard_rows =
        l->total_rows * (l->o.rank + 1) / l->o.world - l->total_rows * l->o.rank / l->o.world;
    int64_t b = l->o.batch_size;
    l->batches_per_epoch = l->o.drop_last ? l->shard_rows / b : (l->shard_rows + b - 1) / b;
    l->total_batches = l->batches_per_epoch * l->o.epochs;
    l->epochs = ard_calloc((size_t)l->o.epochs, sizeof *l->epochs);
    if (!l->epochs) {
        return ard_error_set(err, ARD_ENOMEM, "loader: epochs");
    }
    st = make_store(l, err);
    if (st == ARD_OK) {
        l->ended_slots = ard_store_num_slots(l->store);
        if (!(l->ended = ard_calloc((size_t)l->ended_slots, 1))) {
            return ard_error_set(err, ARD_ENOMEM, "loader: fill marks");
        }
        setup_cache(l);
        if (l->o.memory_cap > 0) { /* what decoding may use */
            l->decode_cap = l->o.memory_cap - ard_store_size(l->store) -
                            (l->cache_active ? l->cache_row_bytes * l->total_rows : 0);
        }
    }
    return st;
}

/* The option strings the loader keeps reading (producer threads name columns in messages and read
 * them) are its own copies, so a caller may free or reuse its strings once ard_loader_new returns. */
static ard_status copy_strings(ard_loader *l, ard_error *err) {
    const char **fields[LOADER_STRINGS] = {&l->o.store_name, &l->o.flux_column, &l->o.ivar_column,
                                           &l->o.id_column,  &l->o.columns,     &l->o.index_dataset,
                                           &l->o.index_dsn};
    for (int i = 0; i < LOADER_STRINGS; i++) {
        if (*fields[i]) {
            if (!(l->strings[i] = ard_strdup(*fields[i]))) {
                return ard_error_set(err, ARD_ENOMEM, "loader: options");
            }
            *fields[i] = l->strings[i];
        }
    }
    return ARD_OK;
}

ard_status ard_loader_new(const ard_loader_options *opts, const ard_read_item *items,
                          int64_t num_items, ard_loader **out, ard_error *err) {
    *out = NULL;
    ard_status st = check_options(opts, err);
    if (st != ARD_OK) {
        return st;
    }
    if (!items || num_items <= 0) {
        return ard_error_set(err, ARD_EINVAL, "loader: empty read plan");
    }
    ard_loader *l = ard_calloc(1, sizeof *l);
    if (!l) {
        return ard_error_set(err, ARD_ENOMEM, "loader");
    }
    l->o = *opts;
    l->z_column = l->weights_column = -1;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->changed, NULL);
    atomic_init(&l->live_threads, 0);
    st = copy_strings(l, err);
    if (st == ARD_OK) {
        st = ard__loader_columns(&l->o, &l->columns_text, &l->o.columns, err);
    }
    if (st == ARD_OK) {
        st = ard__catalog_open(&l->o, &l->catalog, err);
    }
    if (st == ARD_OK) {
        st = ard__loader_resolve(l, items, num_items, err);
    }
    if (st == ARD_OK) {
        st = finish_setup(l, err);
    }
    if (st != ARD_OK) {
        ard_loader_free(l);
        return st;
    }
    *out = l;
    return ARD_OK;
}

/* One read item per row group of every tile of the dataset (paths joined to the dataset root). */
static ard_status dataset_items(const char *dataset, const ard_dataset_files *tiles, char **paths,
                                ard_read_item **items, int64_t *num_items, ard_error *err) {
    ard_status st = ARD_OK;
    for (int64_t i = 0; i < tiles->count && st == ARD_OK; i++) {
        size_t len = strlen(dataset) + strlen(tiles->paths[i]) + 2;
        ard_tile *tile = NULL;
        paths[i] = ard_malloc(len);
        if (!paths[i]) {
            return ard_error_set(err, ARD_ENOMEM, "loader: items");
        }
        snprintf(paths[i], len, "%s/%s", dataset, tiles->paths[i]);
        st = ard_tile_open(paths[i], &tile, err);
        int32_t groups = ard_tile_num_row_groups(tile);
        ard_tile_close(tile);
        ard_read_item *grown =
            st == ARD_OK ? ard_realloc(*items, (size_t)(*num_items + groups + 1) * sizeof *grown)
                         : NULL;
        if (st == ARD_OK && !grown) {
            st = ard_error_set(err, ARD_ENOMEM, "loader: items");
        }
        *items = grown ? grown : *items;
        for (int32_t g = 0; st == ARD_OK && g < groups; g++) {
            (*items)[(*num_items)++] = (ard_read_item){paths[i], g, 0, -1};
        }
    }
    return st;
}

ard_status ard_loader_new_dataset(const ard_loader_options *opts, const char *dataset,
                                  ard_loader **out, ard_error *err) {
    *out = NULL;
    if (!dataset) {
        return ard_error_set(err, ARD_EINVAL, "loader: dataset path is NULL");
    }
    ard_dataset_files tiles = {0};
    ard_status st = ard_dataset_list(dataset, ARD_DATASET_TILES, &tiles, err);
    if (st == ARD_OK && tiles.count == 0) {
        st = ard_error_set(err, ARD_ENOENT, "no *.parquet tile under %s/tiles", dataset);
    }
    char **paths = st == ARD_OK ? ard_calloc((size_t)tiles.count, sizeof *paths) : NULL;
    if (st == ARD_OK && !paths) {
        st = ard_error_set(err, ARD_ENOMEM, "loader: items");
    }
    ard_read_item *items = NULL;
    int64_t num_items = 0;
    if (st == ARD_OK) {
        st = dataset_items(dataset, &tiles, paths, &items, &num_items, err);
    }
    if (st == ARD_OK) {
        ard_loader_options o = *opts;
        if (!o.index_dataset && !o.index_dsn) {
            o.index_dataset = dataset; /* catalog columns from DATASET/ard.db */
        }
        st = ard_loader_new(&o, items, num_items, out, err);
    }
    ard_free(items);
    for (int64_t i = 0; paths && i < tiles.count; i++) {
        ard_free(paths[i]);
    }
    ard_free(paths);
    ard_dataset_files_reset(&tiles);
    return st;
}

ard_store *ard_loader_store(ard_loader *loader) {
    return loader ? loader->store : NULL;
}
int64_t ard_loader_rows_per_epoch(const ard_loader *loader) {
    return loader ? loader->shard_rows : 0;
}
int64_t ard_loader_batches_per_epoch(const ard_loader *loader) {
    return loader ? loader->batches_per_epoch : 0;
}
int32_t ard_loader_cache_active(const ard_loader *loader) {
    return loader ? loader->cache_active : 0;
}

void ard_loader_free(ard_loader *loader) {
    if (!loader) {
        return;
    }
    ard__loader_stop_threads(loader);
    (void)ard_loader_record_skips(loader, NULL); /* best effort: the stream's report has them */
    ard_store_close(loader->store);
    ard__catalog_free(loader->catalog);
    ard__loader_tiles_free(loader);
    ard_parquet_buffers_free(loader->buffers); /* after every tile is closed */
    for (int32_t e = 0; loader->epochs && e < loader->o.epochs; e++) {
        ard__loader_epoch_free(loader->epochs[e]);
    }
    ard__loader_free_entries(loader);
    ard__loader_skips_free(loader);
    ard_free(loader->epochs);
    ard_free(loader->ended);
    ard_free(loader->files);
    ard_free(loader->rgs);
    ard_free(loader->items);
    ard_free(loader->item_start);
    ard_free(loader->rg_item_start);
    ard_free(loader->rg_items);
    ard_free(loader->item_off);
    ard_free(loader->grid_text);
    for (int i = 0; i < LOADER_STRINGS; i++) {
        ard_free(loader->strings[i]);
    }
    ard_free(loader->columns_text);
    ard_free(loader->cache);
    ard_free((void *)loader->cached);
    pthread_mutex_destroy(&loader->lock);
    pthread_cond_destroy(&loader->changed);
    ard_free(loader);
}
