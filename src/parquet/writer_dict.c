/* Parquet writer dictionary: the distinct values of one column chunk, kept in PLAIN form (so the
 * buffer is the dictionary page body as is) with an open-addressing hash table over their bytes. */
#include "writer_int.h"

#include <string.h>

void ard__pqw_dict_init(ard__pqw_dict *d) {
    memset(d, 0, sizeof *d);
}

void ard__pqw_dict_reset(ard__pqw_dict *d) {
    ard_buf_reset(&d->plain);
    ard_free(d->value_off);
    ard_free(d->value_len);
    ard_free(d->hashes);
    ard_free(d->slots);
    memset(d, 0, sizeof *d);
}

static int grow_entries(ard__pqw_dict *d) {
    int64_t cap = d->cap ? d->cap * 2 : 256;
    int64_t *off = ard_realloc(d->value_off, (size_t)cap * sizeof *off);
    if (!off) {
        return -1;
    }
    d->value_off = off;
    uint32_t *len = ard_realloc(d->value_len, (size_t)cap * sizeof *len);
    if (!len) {
        return -1;
    }
    d->value_len = len;
    uint64_t *hashes = ard_realloc(d->hashes, (size_t)cap * sizeof *hashes);
    if (!hashes) {
        return -1;
    }
    d->hashes = hashes;
    d->cap = cap;
    return 0;
}

static int rehash(ard__pqw_dict *d) {
    uint64_t n = d->num_slots ? d->num_slots * 2 : 1024;
    uint32_t *slots = ard_calloc(n, sizeof *slots);
    if (!slots) {
        return -1;
    }
    for (int64_t i = 0; i < d->count; i++) {
        uint64_t s = d->hashes[i] & (n - 1);
        while (slots[s]) {
            s = (s + 1) & (n - 1);
        }
        slots[s] = (uint32_t)(i + 1);
    }
    ard_free(d->slots);
    d->slots = slots;
    d->num_slots = n;
    return 0;
}

static int64_t add_entry(ard__pqw_dict *d, const uint8_t *value, uint32_t len, int prefix_len,
                         uint64_t h, uint64_t slot) {
    if ((d->count == d->cap && grow_entries(d) != 0) || d->count >= (int64_t)UINT32_MAX - 1) {
        return -1;
    }
    if (prefix_len) {
        ard_buf_append(&d->plain, &len, 4);
    }
    d->value_off[d->count] = (int64_t)d->plain.len;
    ard_buf_reserve(&d->plain, len + 1);
    ard_buf_append(&d->plain, value, len);
    if (d->plain.failed) {
        return -1;
    }
    d->value_len[d->count] = len;
    d->hashes[d->count] = h;
    d->slots[slot] = (uint32_t)(d->count + 1);
    return d->count++;
}

int64_t ard__pqw_dict_insert(ard__pqw_dict *d, const uint8_t *value, uint32_t len, int prefix_len) {
    if ((uint64_t)(d->count + 1) * 2 > d->num_slots && rehash(d) != 0) {
        return -1;
    }
    uint64_t h = ard_hash_bytes(value, len);
    uint64_t mask = d->num_slots - 1;
    uint64_t s = h & mask;
    for (;;) {
        uint32_t e = d->slots[s];
        if (!e) {
            return add_entry(d, value, len, prefix_len, h, s);
        }
        int64_t i = (int64_t)e - 1;
        if (d->hashes[i] == h && d->value_len[i] == len &&
            (len == 0 || memcmp(d->plain.data + d->value_off[i], value, len) == 0)) {
            return i;
        }
        s = (s + 1) & mask;
    }
}
