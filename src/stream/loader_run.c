/* The loader's producer threads: claim a slot, fill it (row groups decoded once per epoch and
 * shared, rows tokenized straight into the slot, or copied from the epoch cache), publish it. The
 * last thread to finish ends the stream; the first error fails it so consumers see the error. */
#include "stream_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct worker_mem {
    void *work;          /* tokenizer workspace (+ rest-frame placement, ard__loader_work_bytes) */
    int64_t *runs;       /* batch positions grouped by row group */
    int64_t *groups;     /* (first position, start in runs) of each row group's run */
    loader_entry **ents; /* rest frame: the entries of a batch's runs, held until tokenized */
} worker_mem;

/* A buffer for one decoded matrix: from the pool, or new. Caller holds l->lock. */
static float *pool_get(ard_loader *l) {
    if (l->pool_count > 0) {
        return l->pool[--l->pool_count];
    }
    ard__loader_entry_bytes(l); /* sets pool_floats */
    float *buf = ard_malloc((size_t)l->pool_floats * sizeof(float));
    if (buf) {
        ard__loader_decode_add(l, l->pool_floats * (int64_t)sizeof(float));
    }
    return buf;
}

static void pool_drop(ard_loader *l, float *buf) {
    ard_free(buf);
    ard__loader_decode_add(l, -l->pool_floats * (int64_t)sizeof(float));
}

/* Keeps a buffer for reuse (frees it when the pool cannot grow). Caller holds l->lock. */
static void pool_put(ard_loader *l, float *buf) {
    if (!buf) {
        return;
    }
    if (!ard__loader_decode_keep(l)) { /* over the memory cap: give it back */
        pool_drop(l, buf);
        return;
    }
    if (l->pool_count == l->pool_cap) {
        int32_t cap = l->pool_cap ? 2 * l->pool_cap : 8;
        float **grown = ard_realloc(l->pool, (size_t)cap * sizeof *grown);
        if (!grown) {
            pool_drop(l, buf);
            return;
        }
        l->pool = grown;
        l->pool_cap = cap;
    }
    l->pool[l->pool_count++] = buf;
}

/* Bytes of one row of a compact entry (FLUX + IVAR). */
static int64_t row_bytes(const ard_loader *l) {
    return 2 * l->width * (int64_t)sizeof(float);
}

/* Gives back an entry's matrices (pool buffers, or a compact entry's rows not yet tokenized).
 * Caller holds l->lock. */
static void entry_release_matrices(ard_loader *l, loader_entry *en) {
    if (en->row_data) {
        int64_t left = 0;
        for (int64_t r = 0; r < en->rows; r++) {
            left += en->row_data[r] != NULL;
            ard_free(en->row_data[r]);
        }
        ard_free(en->row_data);
        en->row_data = NULL;
        ard__loader_decode_add(l, -left * row_bytes(l));
    } else {
        pool_put(l, en->flux);
        pool_put(l, en->ivar);
    }
    en->flux = en->ivar = NULL;
}

/* Caller holds l->lock (or is the only thread left). */
static void entry_free(ard_loader *l, loader_entry *en) {
    ard_free(en->ids);
    ard__loader_decode_add(l, -(en->rows * 8 + 8));
    ard_free(en->message);
    entry_release_matrices(l, en);
    ard_free(en);
}

void ard__loader_free_entries(ard_loader *l) {
    while (l->entries) {
        loader_entry *next = l->entries->next;
        entry_free(l, l->entries);
        l->entries = next;
    }
    for (int32_t i = 0; i < l->pool_count; i++) {
        pool_drop(l, l->pool[i]);
    }
    ard_free(l->pool);
    l->pool = NULL;
    l->pool_count = l->pool_cap = 0;
}

/* Decodes a FLUX or IVAR matrix of row group `rg` into `dst` (pool_floats floats). Nulls become
 * NaN, which the tokenizer rejects like any non-finite value, so no validity bitmap is needed. */
static ard_status decode_matrix(const ard_loader *l, const loader_rg *rg, ard_tile *tile,
                                const char *column, float *dst, ard_error *err) {
    const loader_file *f = &l->files[rg->file];
    int64_t rows = 0, width = 0;
    ard_status st = ard_tile_read_f32(tile, rg->row_group, column, dst, l->pool_floats, &rows,
                                      &width, NULL, err);
    if (st == ARD_ELIMIT || (st == ARD_OK && (width != l->width || rows != rg->rows))) {
        st = ard_error_set(err, ARD_EINVAL,
                           "%s row group %d: %lld spectra of width %lld, expected %lld of %lld",
                           f->path, rg->row_group, (long long)rows, (long long)width,
                           (long long)rg->rows, (long long)l->width);
    }
    return st;
}

/* Reads through the tile cache: the tile is held (not closed by other threads) while decoding. */
static ard_status decode_entry(ard_loader *l, loader_entry *en, ard_error *err) {
    const loader_rg *rg = &l->rgs[en->rg];
    const loader_file *f = &l->files[rg->file];
    ard_tile *tile = NULL;
    ard_status st = ARD_OK;
    en->ids = ard_malloc((size_t)rg->rows * 8 + 8);
    if (!en->ids || !en->flux || !en->ivar) {
        st = ard_error_set(err, ARD_ENOMEM, "loader: row group buffers");
    }
    if (st == ARD_OK) {
        st = ard__loader_tile_get(l, rg->file, &tile, err);
    }
    if (st == ARD_OK) {
        st = ard_tile_read_int64(tile, rg->row_group, l->o.id_column, 0, rg->rows, en->ids, err);
        if (st == ARD_OK) {
            st = decode_matrix(l, rg, tile, l->o.flux_column, en->flux, err);
        }
        if (st == ARD_OK) {
            st = decode_matrix(l, rg, tile, l->o.ivar_column, en->ivar, err);
        }
        ard__loader_tile_put(l, rg->file);
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "reading %s: ", f->path);
    }
    return st;
}

/* A compact row group's selected rows, copied out of its decoded entry (item order). */
typedef struct compact_rows {
    int64_t *ids;
    float **row_data;
} compact_rows;

static void compact_drop(compact_rows *c, int64_t n) {
    for (int64_t r = 0; c->row_data && r < n; r++) {
        ard_free(c->row_data[r]);
    }
    ard_free(c->row_data);
    ard_free(c->ids);
    *c = (compact_rows){0};
}

static ard_status compact_copy(const ard_loader *l, const loader_entry *en, compact_rows *c,
                               ard_error *err) {
    int64_t n = l->rgs[en->rg].selected, w = l->width;
    c->ids = ard_malloc((size_t)n * 8 + 8);
    c->row_data = ard_calloc((size_t)n + 1, sizeof *c->row_data);
    for (int64_t r = 0; c->row_data && r < n; r++) {
        if (!(c->row_data[r] = ard_malloc((size_t)row_bytes(l)))) {
            break;
        }
    }
    if (!c->ids || !c->row_data || (n > 0 && !c->row_data[n - 1])) {
        compact_drop(c, n);
        return ard_error_set(err, ARD_ENOMEM, "loader: %lld selected spectra of a row group",
                             (long long)n);
    }
    for (int64_t q = l->rg_item_start[en->rg]; q < l->rg_item_start[en->rg + 1]; q++) {
        const loader_item *it = &l->items[l->rg_items[q]];
        int64_t at = l->item_off[l->rg_items[q]];
        memcpy(c->ids + at, en->ids + it->first, (size_t)it->count * 8);
        for (int64_t r = 0; r < it->count; r++) {
            memcpy(c->row_data[at + r], en->flux + (it->first + r) * w, (size_t)w * sizeof(float));
            memcpy(c->row_data[at + r] + w, en->ivar + (it->first + r) * w,
                   (size_t)w * sizeof(float));
        }
    }
    return ARD_OK;
}

/* The entry keeps the compact copy; the whole row group's buffers go back. Caller holds l->lock. */
static void compact_swap(ard_loader *l, loader_entry *en, const compact_rows *c) {
    int64_t n = l->rgs[en->rg].selected;
    ard__loader_decode_add(l, n * 8 + 8 + n * row_bytes(l));
    ard_free(en->ids);
    ard__loader_decode_add(l, -(en->rows * 8 + 8));
    entry_release_matrices(l, en);
    en->ids = c->ids;
    en->row_data = c->row_data;
    en->rows = n;
}

/* The decoded row group `rg` for `epoch`, decoding it if no thread has. Caller holds l->lock. */
static ard_status entry_get(ard_loader *l, const loader_epoch *ep, int32_t rg, loader_entry **out,
                            ard_error *err) {
    for (;;) {
        loader_entry *en = l->entries;
        while (en && !(en->epoch == ep->epoch && en->rg == rg)) {
            en = en->next;
        }
        if (en && en->loading) {
            pthread_cond_wait(&l->changed, &l->lock);
            continue;
        }
        if (!en && ard__loader_decode_wait(l, l->rgs[rg].rows)) {
            continue; /* over the memory cap: waited for another producer */
        }
        if (en) {
            *out = en;
            if (en->status == ARD_OK) {
                return ARD_OK;
            }
            return en->message
                       ? ard_error_set(err, en->status, "%s", en->message)
                       : ard_error_set(err, en->status, "row group failed in another thread");
        }
        en = ard_calloc(1, sizeof *en);
        if (!en) {
            return ard_error_set(err, ARD_ENOMEM, "loader: entry");
        }
        en->epoch = ep->epoch;
        en->rg = rg;
        en->loading = 1;
        en->remaining = ep->need[rg];
        en->rows = l->rgs[rg].rows;
        ard__loader_decode_add(l, en->rows * 8 + 8); /* its TARGETIDs */
        en->flux = pool_get(l);
        en->ivar = pool_get(l);
        en->next = l->entries;
        l->entries = en;
        pthread_mutex_unlock(&l->lock);
        compact_rows c = {0};
        ard_status st = decode_entry(l, en, err);
        if (st == ARD_OK && l->rgs[rg].compact) {
            st = compact_copy(l, en, &c, err);
        }
        pthread_mutex_lock(&l->lock);
        en->loading = 0;
        en->status = st;
        if (st == ARD_OK && l->rgs[rg].compact) {
            compact_swap(l, en, &c);
        }
        if (st != ARD_OK) { /* a failed entry stays (others see its status): not its buffers */
            entry_release_matrices(l, en);
            en->message = err && err->msg[0] ? ard_strdup(err->msg) : NULL;
        }
        pthread_cond_broadcast(&l->changed);
        *out = en;
        return st;
    }
}

/* Drops `rows` uses of an entry; frees it after its last row. Caller holds l->lock. */
static void entry_put(ard_loader *l, loader_entry *en, int64_t rows) {
    en->remaining -= rows;
    if (en->remaining > 0 || en->status != ARD_OK) {
        return;
    }
    loader_entry **pp = &l->entries;
    while (*pp != en) {
        pp = &(*pp)->next;
    }
    *pp = en->next;
    entry_free(l, en);
}

static row_out slot_row(const ard_loader *l, const ard_batch *b, int64_t i) {
    int64_t np = l->num_patches, p = l->o.tokenize.patch;
    row_out r = {b->tokens + i * np * p,
                 b->scales + i * np,
                 b->mask + i * np,
                 b->flags + i,
                 b->targetid + i,
                 NULL,
                 NAN};
    if (l->weights_column >= 0) {
        r.weights = (float *)ard_batch_column(l->store, b, l->weights_column) + i * np * p;
    }
    if (l->z_column >= 0) {
        r.z = ((const double *)ard_batch_column(l->store, b, l->z_column))[i];
    }
    return r;
}

/* cached[row]: 0 empty, 2 being written, 1 filled. Epochs overlap (a later epoch's plan may be
 * built before an earlier one cached a row), so two threads can tokenize the same row: only the
 * first to claim it writes the cache. */
static void cache_put(ard_loader *l, int64_t row, const row_out *r) {
    unsigned char empty = 0;
    if (!atomic_compare_exchange_strong(&l->cached[row], &empty, 2)) {
        return;
    }
    int64_t np = l->num_patches, p = l->o.tokenize.patch;
    uint8_t *c = l->cache + row * l->cache_row_bytes;
    memcpy(c, r->tokens, (size_t)(np * p * 4));
    memcpy(c + np * p * 4, r->scales, (size_t)np * 4);
    memcpy(c + np * p * 4 + np * 4, r->mask, (size_t)np);
    memcpy(c + np * p * 4 + np * 5, r->targetid, 8);
    c[np * p * 4 + np * 5 + 8] = *r->flags;
    if (r->weights) {
        memcpy(c + np * p * 4 + np * 5 + 9, r->weights, (size_t)(np * p * 4));
    }
    atomic_store(&l->cached[row], 1);
}

static void cache_get(const ard_loader *l, int64_t row, const row_out *r) {
    int64_t np = l->num_patches, p = l->o.tokenize.patch;
    const uint8_t *c = l->cache + row * l->cache_row_bytes;
    memcpy(r->tokens, c, (size_t)(np * p * 4));
    memcpy(r->scales, c + np * p * 4, (size_t)np * 4);
    memcpy(r->mask, c + np * p * 4 + np * 4, (size_t)np);
    memcpy(r->targetid, c + np * p * 4 + np * 5, 8);
    *r->flags = c[np * p * 4 + np * 5 + 8];
    if (r->weights) {
        memcpy(r->weights, c + np * p * 4 + np * 5 + 9, (size_t)(np * p * 4));
    }
}

static ard_status tokenize_row(ard_loader *l, const loader_entry *en, int64_t r, const row_out *out,
                               worker_mem *mem, ard_error *err) {
    int64_t w = l->width;
    const float *flux = en->row_data ? en->row_data[r] : en->flux + r * w;
    const float *ivar = en->row_data ? en->row_data[r] + w : en->ivar + r * w;
    *out->targetid = en->ids[r];
    if (l->rest.n_rest > 0 || out->weights) {
        return ard__loader_tokenize(l, flux, ivar, out, mem->work, err);
    }
    return ard_tokenize_spectrum(&l->o.tokenize, flux, ivar, NULL, NULL, 0, NULL, w, out->tokens,
                                 out->scales, out->mask, out->flags, mem->work, err);
}

/* Orders (rg, position, entry_row) triples by row group, then position. */
static int cmp_pair(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

/* Rows of one row group (pairs[k] = {rg, position, entry_row}) tokenized into the slot from `en`. */
static ard_status tokenize_run(ard_loader *l, const loader_epoch *ep, const ard_batch *b,
                               const int64_t *pairs, int64_t n, loader_entry *en, worker_mem *mem,
                               ard_error *err) {
    ard_status st = ARD_OK;
    for (int64_t k = 0; k < n && st == ARD_OK; k++) {
        int64_t pos = pairs[3 * k + 1];
        row_out out = slot_row(l, b, pos);
        st = tokenize_row(l, en, pairs[3 * k + 2], &out, mem, err);
        if (st == ARD_OK && l->cache_active) {
            cache_put(l, ep->order[b->seq % l->batches_per_epoch * l->o.batch_size + pos], &out);
        }
    }
    return st;
}

static ard_status run_get(ard_loader *l, const loader_epoch *ep, const int64_t *pairs,
                          loader_entry **en, ard_error *err) {
    pthread_mutex_lock(&l->lock);
    ard_status st = entry_get(l, ep, (int32_t)pairs[0], en, err);
    pthread_mutex_unlock(&l->lock);
    return st;
}

/* Done with a run's rows: a compact entry's rows are freed now (each is used once an epoch),
 * then the entry's uses drop. */
static void run_put(ard_loader *l, loader_entry *en, const int64_t *pairs, int64_t n) {
    if (en) {
        pthread_mutex_lock(&l->lock);
        int64_t freed = 0;
        for (int64_t k = 0; en->row_data && k < n; k++) {
            float **row = &en->row_data[pairs[3 * k + 2]];
            freed += *row != NULL;
            ard_free(*row);
            *row = NULL;
        }
        ard__loader_decode_add(l, -freed * row_bytes(l));
        entry_put(l, en, n);
        pthread_mutex_unlock(&l->lock);
    }
}

static ard_status fill_run(ard_loader *l, const loader_epoch *ep, const ard_batch *b,
                           const int64_t *pairs, int64_t n, worker_mem *mem, ard_error *err) {
    loader_entry *en = NULL;
    ard_status st = run_get(l, ep, pairs, &en, err);
    if (st == ARD_OK) {
        st = tokenize_run(l, ep, b, pairs, n, en, mem, err);
    }
    run_put(l, en, pairs, n);
    return st;
}

/* Rest frame: every run's row group first (the TARGETIDs go into the slot), then the batch's
 * catalog columns (Z), then the rows are placed by their Z and tokenized. */
static ard_status fill_runs_rest(ard_loader *l, const loader_epoch *ep, const ard_batch *b,
                                 int64_t runs, int32_t count, worker_mem *mem, ard_error *err) {
    ard_status st = ARD_OK;
    int64_t got = 0;
    for (int64_t k = 0; k < runs && st == ARD_OK; k = got) {
        int64_t end = k;
        while (end < runs && mem->runs[3 * end] == mem->runs[3 * k]) {
            end++;
        }
        mem->ents[k] = NULL;
        st = run_get(l, ep, mem->runs + 3 * k, &mem->ents[k], err);
        for (int64_t i = k; i < end && st == ARD_OK; i++) {
            b->targetid[mem->runs[3 * i + 1]] = mem->ents[k]->ids[mem->runs[3 * i + 2]];
        }
        got = end;
    }
    if (st == ARD_OK) {
        st = ard__catalog_fill(l, b, count, err);
    }
    for (int64_t k = 0; k < got;) {
        int64_t end = k;
        while (end < got && mem->runs[3 * end] == mem->runs[3 * k]) {
            end++;
        }
        if (st == ARD_OK) {
            st = tokenize_run(l, ep, b, mem->runs + 3 * k, end - k, mem->ents[k], mem, err);
        }
        run_put(l, mem->ents[k], mem->runs + 3 * k, end - k);
        k = end;
    }
    return st;
}

static ard_status fill_batch(ard_loader *l, const loader_epoch *ep, const ard_batch *b,
                             int32_t *count, worker_mem *mem, ard_error *err) {
    int64_t start = b->seq % l->batches_per_epoch * l->o.batch_size;
    int64_t n = ep->count - start < l->o.batch_size ? ep->count - start : l->o.batch_size;
    int64_t runs = 0;
    for (int64_t i = 0; i < n; i++) {
        if (ep->from_cache[start + i]) {
            row_out out = slot_row(l, b, i);
            cache_get(l, ep->order[start + i], &out);
            continue;
        }
        int32_t rg;
        int64_t entry_row;
        ard__loader_locate(l, ep->order[start + i], &rg, &entry_row);
        mem->runs[3 * runs] = rg;
        mem->runs[3 * runs + 1] = i;
        mem->runs[3 * runs + 2] = entry_row;
        runs++;
    }
    qsort(mem->runs, (size_t)runs, 3 * sizeof(int64_t), cmp_pair);
    *count = (int32_t)n;
    if (l->rest.n_rest > 0) {
        return fill_runs_rest(l, ep, b, runs, (int32_t)n, mem, err);
    }
    /* runs go in the order their row groups first appear in the batch: the row group shared
     * with the batch before comes first and is freed before the one shared with the batch after
     * is decoded, so a batch holds at most two decoded row groups at once (with a shuffle, row
     * group order is not batch order) */
    int64_t groups = 0;
    for (int64_t k = 0; k < runs; groups++) {
        mem->groups[2 * groups] = mem->runs[3 * k + 1];
        mem->groups[2 * groups + 1] = k;
        while (k < runs && mem->runs[3 * k] == mem->runs[3 * mem->groups[2 * groups + 1]]) {
            k++;
        }
    }
    qsort(mem->groups, (size_t)groups, 2 * sizeof(int64_t), cmp_pair);
    ard_status st = ARD_OK;
    uint8_t *keep = NULL; /* set when a row group is skipped (on_error = skip) */
    for (int64_t g = 0; g < groups && st == ARD_OK; g++) {
        int64_t k = mem->groups[2 * g + 1], end = k;
        while (end < runs && mem->runs[3 * end] == mem->runs[3 * k]) {
            end++;
        }
        st = fill_run(l, ep, b, mem->runs + 3 * k, end - k, mem, err);
        if (st != ARD_OK && ard__loader_skippable(l, st)) {
            st = ard__loader_drop_run(l, mem->runs + 3 * k, end - k, n, &keep, st, err);
        }
    }
    *count = keep && st == ARD_OK ? ard__loader_compact(l, b, keep, (int32_t)n) : (int32_t)n;
    ard_free(keep);
    return st;
}

static void fail(ard_loader *l, ard_status st, const ard_error *e) {
    pthread_mutex_lock(&l->lock);
    if (l->status == ARD_OK) {
        l->status = st;
        l->error = *e;
    }
    pthread_mutex_unlock(&l->lock);
    ard_store_finish(l->store, st, e->msg[0] ? e->msg : ard_status_str(st));
}

static ard_status produce_one(ard_loader *l, ard_batch *b, worker_mem *mem, ard_error *err) {
    ard_batch global = *b; /* the stream's batch number (the store's seq unless distributed) */
    global.seq = ard__loader_global(l, b->seq);
    int32_t epoch = (int32_t)(global.seq / l->batches_per_epoch);
    pthread_mutex_lock(&l->lock);
    loader_epoch *ep = ard__loader_epoch(l, epoch);
    pthread_mutex_unlock(&l->lock);
    if (!ep) {
        return ard_error_set(err, ARD_ENOMEM, "loader: epoch %d plan", epoch);
    }
    int32_t count = 0;
    ard__loader_filling(l, b->seq, 1);
    ard_status st = fill_batch(l, ep, &global, &count, mem, err);
    ard__loader_filling(l, b->seq, 0);
    if (st == ARD_OK && l->rest.n_rest == 0) { /* the rest frame filled them before tokenizing */
        st = ard__catalog_fill(l, &global, count, err);
    }
    if (st == ARD_OK) {
        st = ard_store_publish(l->store, b, count, epoch, err);
    }
    if (st == ARD_OK) {
        pthread_mutex_lock(&l->lock);
        if (++ep->batches_done == ep->batches_expected) {
            ard__loader_epoch_free(ep);
            l->epochs[epoch] = NULL;
        }
        pthread_mutex_unlock(&l->lock);
    }
    return st;
}

static void produce(ard_loader *l, worker_mem *mem) {
    for (;;) {
        ard_batch b;
        ard_error e;
        ard_error_init(&e);
        if (ard_store_begin_fill(l->store, -1, &b, &e) != ARD_OK) {
            return; /* ended (or failed elsewhere) */
        }
        pthread_mutex_lock(&l->lock);
        int stop = l->stop;
        pthread_mutex_unlock(&l->lock);
        if (stop || b.seq >= l->total_batches) {
            ard_store_abandon(l->store, &b);
            return;
        }
        ard_status st = produce_one(l, &b, mem, &e);
        if (st != ARD_OK) {
            /* fail first: abandoning the slot ends the stream at its seq, and a consumer waking
             * in between would take that for a normal (short) end of data */
            fail(l, st, &e);
            ard_store_abandon(l->store, &b);
            return;
        }
    }
}

static void *worker_main(void *arg) {
    ard_loader *l = arg;
    worker_mem mem = {ard_malloc(ard__loader_work_bytes(l)),
                      ard_malloc((size_t)l->o.batch_size * 3 * sizeof(int64_t)),
                      ard_malloc((size_t)l->o.batch_size * 2 * sizeof(int64_t)),
                      ard_malloc((size_t)l->o.batch_size * sizeof(loader_entry *))};
    if (!mem.work || !mem.runs || !mem.groups || !mem.ents) {
        ard_error e;
        ard_error_init(&e);
        ard_error_set(&e, ARD_ENOMEM, "loader: worker buffers");
        fail(l, ARD_ENOMEM, &e);
    } else {
        produce(l, &mem);
    }
    ard_free(mem.work);
    ard_free(mem.runs);
    ard_free(mem.groups);
    ard_free(mem.ents);
    if (atomic_fetch_sub(&l->live_threads, 1) == 1) {
        ard_store_finish(l->store, ARD_OK, NULL); /* no-op when failed */
    }
    return NULL;
}

ard_status ard_loader_start(ard_loader *loader, ard_error *err) {
    if (!loader || loader->threads) {
        return ard_error_set(err, ARD_EINVAL, "loader: already started");
    }
    loader->threads = ard_calloc((size_t)loader->o.threads, sizeof *loader->threads);
    if (!loader->threads) {
        return ard_error_set(err, ARD_ENOMEM, "loader: threads");
    }
    atomic_store(&loader->live_threads, loader->o.threads);
    for (int32_t i = 0; i < loader->o.threads; i++) {
        if (pthread_create(&loader->threads[i], NULL, worker_main, loader) != 0) {
            atomic_fetch_sub(&loader->live_threads, loader->o.threads - i);
            ard_error e;
            ard_error_init(&e);
            ard_error_set(&e, ARD_ELIMIT, "loader: cannot start thread %d", i);
            fail(loader, ARD_ELIMIT, &e);
            break;
        }
        loader->started++;
    }
    return loader->started == loader->o.threads
               ? ARD_OK
               : ard_error_set(err, ARD_ELIMIT, "loader: cannot start producer threads");
}

static void join_all(ard_loader *l) {
    for (int32_t i = 0; i < l->started; i++) {
        pthread_join(l->threads[i], NULL);
    }
    l->started = 0;
}

ard_status ard_loader_wait(ard_loader *loader, ard_error *err) {
    if (!loader) {
        return ard_error_set(err, ARD_EINVAL, "loader is NULL");
    }
    join_all(loader);
    if (loader->status != ARD_OK) {
        if (err) {
            *err = loader->error;
        }
        return loader->status;
    }
    return ARD_OK;
}

void ard__loader_stop_threads(ard_loader *l) {
    if (!l->threads) {
        return;
    }
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_mutex_unlock(&l->lock);
    if (l->store) {
        ard_store_finish(l->store, ARD_OK, NULL);
    }
    join_all(l);
    ard_free(l->threads);
    l->threads = NULL;
}
