/* The catalog columns of a batch store: their descriptors in the shared header and the pointer to
 * a column's values inside a batch slot (zero copy). */
#include "stream_int.h"

#include <strings.h>

static const store_column *column_at(const ard_store *store, int32_t i) {
    if (!store || i < 0 || i >= store->map->h->num_columns) {
        return NULL;
    }
    return &store->map->h->columns[i];
}

int32_t ard_store_num_columns(const ard_store *store) {
    return store ? store->map->h->num_columns : 0;
}

const char *ard_store_column_name(const ard_store *store, int32_t i) {
    const store_column *c = column_at(store, i);
    return c ? c->name : NULL;
}

int32_t ard_store_column_type(const ard_store *store, int32_t i) {
    const store_column *c = column_at(store, i);
    return c ? c->type : -1;
}

int32_t ard_store_column_width(const ard_store *store, int32_t i) {
    const store_column *c = column_at(store, i);
    return c ? c->width : 0;
}

int32_t ard_store_column_find(const ard_store *store, const char *name) {
    for (int32_t i = 0; name && i < ard_store_num_columns(store); i++) {
        if (strcasecmp(store->map->h->columns[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

void *ard_batch_column(const ard_store *store, const ard_batch *batch, int32_t i) {
    const store_column *c = column_at(store, i);
    if (!c || !batch || batch->slot < 0 || batch->slot >= store->map->h->num_slots) {
        return NULL;
    }
    const store_header *h = store->map->h;
    uint8_t *base =
        (uint8_t *)store->map->h + h->slots_offset + (int64_t)batch->slot * h->slot_bytes;
    return base + c->offset;
}

float *ard_batch_weights(const ard_store *store, const ard_batch *batch) {
    int32_t i = ard_store_column_find(store, "weights");
    if (i < 0 || ard_store_column_type(store, i) != ARD_COLUMN_FLOAT32) {
        return NULL;
    }
    return ard_batch_column(store, batch, i);
}
