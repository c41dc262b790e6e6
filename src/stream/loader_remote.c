/* The producer side of a distributed stream (src/cluster): a loader restricted to a subset of the
 * global batches -- chunks of consecutive batches dealt round robin to `parts` producers -- whose
 * store then holds only those batches, in order, under its own sequence numbers; and the raw views
 * of a store that a transport needs (the wave array, a slot's bytes). */
#include "stream_int.h"

int64_t ard__loader_global(const ard_loader *l, int64_t seq) {
    if (l->sel_parts <= 1) {
        return seq;
    }
    int64_t chunk = l->sel_chunk;
    return (seq / chunk * l->sel_parts + l->sel_part) * chunk + seq % chunk;
}

int ard__loader_selected(const ard_loader *l, int64_t g) {
    return l->sel_parts <= 1 || (g / l->sel_chunk) % l->sel_parts == l->sel_part;
}

/* Selected batches among global batches [lo, hi). */
static int64_t selected_in(const ard_loader *l, int64_t lo, int64_t hi) {
    if (l->sel_parts <= 1) {
        return hi - lo;
    }
    int64_t n = 0, chunk = l->sel_chunk;
    for (int64_t c = lo / chunk; c * chunk < hi; c++) {
        if (c % l->sel_parts != l->sel_part) {
            continue;
        }
        int64_t a = c * chunk > lo ? c * chunk : lo;
        int64_t b = (c + 1) * chunk < hi ? (c + 1) * chunk : hi;
        n += b - a;
    }
    return n;
}

int64_t ard__loader_epoch_batches(const ard_loader *l, int32_t epoch) {
    int64_t lo = (int64_t)epoch * l->batches_per_epoch;
    return selected_in(l, lo, lo + l->batches_per_epoch);
}

ard_status ard_loader_select_batches(ard_loader *loader, int32_t part, int32_t parts, int32_t chunk,
                                     ard_error *err) {
    if (!loader || parts <= 0 || part < 0 || part >= parts || chunk < 0) {
        return ard_error_set(err, ARD_EINVAL, "loader: part %d of %d, chunk %d", part, parts,
                             chunk);
    }
    if (loader->threads || loader->sel_parts > 0) {
        return ard_error_set(err, ARD_EINVAL, "loader: batches selected after start or twice");
    }
    if (chunk == 0) {
        chunk = ard_loader_default_chunk(loader);
    }
    int64_t global_total = loader->batches_per_epoch * loader->o.epochs;
    loader->sel_part = part;
    loader->sel_parts = parts;
    loader->sel_chunk = chunk;
    loader->total_batches = selected_in(loader, 0, global_total);
    return ARD_OK;
}

int32_t ard_loader_default_chunk(const ard_loader *loader) {
    if (!loader || loader->num_rgs <= 0) {
        return 1;
    }
    int64_t per_rg = loader->total_rows / loader->num_rgs;
    int64_t chunk = per_rg / loader->o.batch_size;
    return (int32_t)(chunk < 1 ? 1 : chunk > 1024 ? 1024 : chunk);
}

int64_t ard_loader_total_batches(const ard_loader *loader) {
    return loader ? loader->total_batches : 0;
}

int64_t ard_loader_global_batch(const ard_loader *loader, int64_t seq) {
    return loader ? ard__loader_global(loader, seq) : seq;
}

const float *ard_store_wave(const ard_store *store) {
    if (!store) {
        return NULL;
    }
    const store_header *h = store->map->h;
    return (const float *)(const void *)((const uint8_t *)h + h->wave_offset);
}

void *ard_batch_bytes(const ard_store *store, const ard_batch *batch, int64_t *size) {
    if (!store || !batch) {
        return NULL;
    }
    store_header *h = store->map->h;
    if (batch->slot < 0 || batch->slot >= h->num_slots) {
        return NULL;
    }
    if (size) {
        *size = h->slot_bytes;
    }
    return (uint8_t *)h + h->slots_offset + (int64_t)batch->slot * h->slot_bytes;
}
