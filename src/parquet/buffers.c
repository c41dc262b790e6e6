/* ard_parquet_buffers: decode buffers shared by the files opened with the pool, so that buffers
 * whose pages are mapped already serve the next file instead of fresh allocations that page-fault
 * (see the public header). Under a mutex; a taker gets the largest idle buffer. */
#include "file_int.h"

#include <pthread.h>

#define ARD__BUFFERS_MAX 64
#define ARD__BUFFERS_DEFAULT_BYTES ((int64_t)256 << 20)

struct ard_parquet_buffers {
    pthread_mutex_t lock;
    int32_t max_buffers, count;
    size_t max_bytes;
    uint8_t *buf[ARD__BUFFERS_MAX];
    size_t cap[ARD__BUFFERS_MAX];
};

ard_status ard_parquet_buffers_new(int32_t max_buffers, int64_t max_bytes,
                                   ard_parquet_buffers **out, ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_buffers_new: out is NULL");
    }
    *out = NULL;
    if (max_buffers < 1 || max_buffers > ARD__BUFFERS_MAX || max_bytes < 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "ard_parquet_buffers_new: max_buffers %d outside 1..%d or "
                             "max_bytes %lld < 0",
                             max_buffers, ARD__BUFFERS_MAX, (long long)max_bytes);
    }
    ard_parquet_buffers *b = ard_calloc(1, sizeof *b);
    if (!b) {
        return ard_error_set(err, ARD_ENOMEM, "ard_parquet_buffers_new: out of memory");
    }
    pthread_mutex_init(&b->lock, NULL);
    b->max_buffers = max_buffers;
    b->max_bytes = (size_t)(max_bytes > 0 ? max_bytes : ARD__BUFFERS_DEFAULT_BYTES);
    *out = b;
    return ARD_OK;
}

void ard_parquet_buffers_free(ard_parquet_buffers *b) {
    if (!b) {
        return;
    }
    for (int32_t i = 0; i < b->count; i++) {
        ard_free(b->buf[i]);
    }
    pthread_mutex_destroy(&b->lock);
    ard_free(b);
}

int64_t ard_parquet_buffers_held(const ard_parquet_buffers *cb) {
    if (!cb) {
        return 0;
    }
    ard_parquet_buffers *b = (ard_parquet_buffers *)(uintptr_t)cb; /* the lock is internal */
    int64_t held = 0;
    pthread_mutex_lock(&b->lock);
    for (int32_t i = 0; i < b->count; i++) {
        held += (int64_t)b->cap[i];
    }
    pthread_mutex_unlock(&b->lock);
    return held;
}

void ard__pq_buffers_take(ard_parquet_buffers *b, uint8_t **buf, size_t *cap) {
    *buf = NULL;
    *cap = 0;
    pthread_mutex_lock(&b->lock);
    if (b->count > 0) {
        int32_t best = b->count - 1; /* the largest: it fits the next chunk without a realloc */
        for (int32_t i = 0; i < b->count; i++) {
            best = b->cap[i] > b->cap[best] ? i : best;
        }
        *buf = b->buf[best];
        *cap = b->cap[best];
        b->count--;
        b->buf[best] = b->buf[b->count];
        b->cap[best] = b->cap[b->count];
    }
    pthread_mutex_unlock(&b->lock);
}

void ard__pq_buffers_give(ard_parquet_buffers *b, uint8_t *buf, size_t cap) {
    if (!buf) {
        return;
    }
    pthread_mutex_lock(&b->lock);
    if (b->count < b->max_buffers && cap <= b->max_bytes) {
        b->buf[b->count] = buf;
        b->cap[b->count] = cap;
        b->count++;
        buf = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    ard_free(buf);
}
