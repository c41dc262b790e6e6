/* ard_parquet_writer_buffers: the buffers of closed writers (encode/compress scratch, the pages'
 * level, index and value buffers per column position, spare chunk buffers), handed to the next
 * writer opened with the pool so that it writes into pages that are mapped already. Fresh buffers
 * per tile file were ~8% of `ard generate`'s spectra phase in page faults and realloc copies
 * (bench/results/generate.md). Under a mutex; a kit is taken whole, so one writer's buffers serve
 * the next writer of the same schema column for column. */
#include "writer_int.h"

#include <pthread.h>
#include <string.h>

#define ARD__PQW_POOL_MAX 64
#define ARD__PQW_POOL_DEFAULT_BYTES ((int64_t)64 << 20)
#define ARD__PQW_SPARE_MAX 64

/* One closed writer's buffers. */
typedef struct pool_kit {
    ard__pqw_scratch scratch;
    ard__pqw_page *pages;
    int32_t num_pages;
    ard_buf *spare;
    int32_t num_spare, cap_spare;
    int64_t bytes;
} pool_kit;

struct ard_parquet_writer_buffers {
    pthread_mutex_t lock;
    int32_t max_kits, count;
    int64_t max_bytes;
    pool_kit *kits[ARD__PQW_POOL_MAX];
};

static void kit_free(pool_kit *k) {
    if (!k) {
        return;
    }
    ard__pqw_scratch_reset(&k->scratch);
    for (int32_t i = 0; i < k->num_pages; i++) {
        ard__pqw_page_reset(&k->pages[i]);
    }
    for (int32_t i = 0; i < k->num_spare; i++) {
        ard_buf_reset(&k->spare[i]);
    }
    ard_free(k->pages);
    ard_free(k->spare);
    ard_free(k);
}

ard_status ard_parquet_writer_buffers_new(int32_t max_writers, int64_t max_bytes,
                                          ard_parquet_writer_buffers **out, ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_writer_buffers_new: out is NULL");
    }
    *out = NULL;
    if (max_writers < 1 || max_writers > ARD__PQW_POOL_MAX || max_bytes < 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "ard_parquet_writer_buffers_new: max_writers %d outside 1..%d or "
                             "max_bytes %lld < 0",
                             max_writers, ARD__PQW_POOL_MAX, (long long)max_bytes);
    }
    ard_parquet_writer_buffers *b = ard_calloc(1, sizeof *b);
    if (!b) {
        return ard_error_set(err, ARD_ENOMEM, "ard_parquet_writer_buffers_new: out of memory");
    }
    pthread_mutex_init(&b->lock, NULL);
    b->max_kits = max_writers;
    b->max_bytes = max_bytes > 0 ? max_bytes : ARD__PQW_POOL_DEFAULT_BYTES;
    *out = b;
    return ARD_OK;
}

void ard_parquet_writer_buffers_free(ard_parquet_writer_buffers *b) {
    if (!b) {
        return;
    }
    for (int32_t i = 0; i < b->count; i++) {
        kit_free(b->kits[i]);
    }
    pthread_mutex_destroy(&b->lock);
    ard_free(b);
}

int64_t ard_parquet_writer_buffers_held(const ard_parquet_writer_buffers *cb) {
    if (!cb) {
        return 0;
    }
    ard_parquet_writer_buffers *b = (ard_parquet_writer_buffers *)(uintptr_t)cb; /* the lock */
    int64_t held = 0;
    pthread_mutex_lock(&b->lock);
    for (int32_t i = 0; i < b->count; i++) {
        held += b->kits[i]->bytes;
    }
    pthread_mutex_unlock(&b->lock);
    return held;
}

/* Moves the buffers (not the contents) of page src into the empty page dst. */
static void page_move_buffers(ard__pqw_page *dst, ard__pqw_page *src) {
    dst->def = src->def;
    dst->rep = src->rep;
    dst->index_runs = src->index_runs;
    dst->def.num_runs = dst->rep.num_runs = dst->index_runs.num_runs = 0;
    dst->indices_as_runs = 0;
    dst->indices = src->indices;
    dst->cap_indices = src->cap_indices;
    dst->values = src->values;
    dst->values.len = 0;
    if (dst->values.failed) {
        ard_buf_reset(&dst->values);
    }
    memset(&src->def, 0, sizeof src->def);
    memset(&src->rep, 0, sizeof src->rep);
    memset(&src->index_runs, 0, sizeof src->index_runs);
    src->indices = NULL;
    src->cap_indices = 0;
    ard_buf_init(&src->values);
}

static int64_t page_bytes_held(const ard__pqw_page *p) {
    size_t run_bytes = sizeof(uint32_t) + sizeof(int64_t);
    return (int64_t)(p->values.cap +
                     (size_t)(p->def.cap_runs + p->rep.cap_runs + p->index_runs.cap_runs) *
                         run_bytes +
                     (size_t)p->cap_indices * sizeof(uint32_t));
}

static int64_t scratch_bytes(const ard__pqw_scratch *s) {
    return (int64_t)(s->levels.cap + s->values.cap + s->body.cap + s->comp.cap + s->header.cap +
                     s->bound.cap + s->expand.cap);
}

void ard__pqw_pool_take(ard_pq_writer *w) {
    ard_parquet_writer_buffers *b = w->pool;
    pool_kit *k = NULL;
    pthread_mutex_lock(&b->lock);
    if (b->count > 0) {
        k = b->kits[--b->count];
    }
    pthread_mutex_unlock(&b->lock);
    if (!k) {
        return;
    }
    ard__pqw_scratch_reset(&w->scratch);
    w->scratch = k->scratch;
    memset(&k->scratch, 0, sizeof k->scratch);
    for (int32_t i = 0; i < k->num_pages && i < w->schema.num_cols; i++) {
        ard__pqw_page *p = &w->pages[i];
        int32_t dict_mode = p->dict_mode;
        ard__pqw_page_reset(p);
        page_move_buffers(p, &k->pages[i]);
        p->dict_mode = dict_mode;
    }
    for (int32_t i = 0; i < w->num_spare; i++) {
        ard_buf_reset(&w->spare[i]);
    }
    ard_free(w->spare);
    w->spare = k->spare;
    w->num_spare = k->num_spare;
    w->cap_spare = k->cap_spare;
    k->spare = NULL;
    k->num_spare = 0;
    kit_free(k);
}

/* A kit holding w's buffers (w keeps none), or NULL when there is no memory for its arrays. */
static pool_kit *kit_from(ard_pq_writer *w) {
    pool_kit *k = ard_calloc(1, sizeof *k);
    int32_t n = w->pages ? w->schema.num_cols : 0;
    if (!k || (n > 0 && !(k->pages = ard_calloc((size_t)n, sizeof *k->pages)))) {
        ard_free(k);
        return NULL;
    }
    ard__pqw_scratch *s = &w->scratch;
    if (s->levels.failed || s->values.failed || s->body.failed || s->comp.failed ||
        s->header.failed || s->bound.failed) {
        ard__pqw_scratch_reset(s);
    }
    k->scratch = *s;
    memset(s, 0, sizeof *s);
    k->bytes = scratch_bytes(&k->scratch);
    k->num_pages = n;
    for (int32_t i = 0; i < n; i++) {
        page_move_buffers(&k->pages[i], &w->pages[i]);
        k->bytes += page_bytes_held(&k->pages[i]);
    }
    k->spare = w->spare;
    k->cap_spare = w->cap_spare;
    w->spare = NULL;
    w->cap_spare = 0;
    for (int32_t i = 0; i < w->num_spare; i++) {
        if (k->num_spare < ARD__PQW_SPARE_MAX && !k->spare[i].failed) {
            k->spare[k->num_spare++] = k->spare[i];
            k->bytes += (int64_t)k->spare[i].cap;
        } else {
            ard_buf_reset(&k->spare[i]);
        }
    }
    w->num_spare = 0;
    return k;
}

void ard__pqw_pool_give(ard_pq_writer *w) {
    ard_parquet_writer_buffers *b = w->pool;
    pool_kit *k = kit_from(w);
    if (!k) {
        return; /* the writer frees its own buffers */
    }
    pthread_mutex_lock(&b->lock);
    if (b->count < b->max_kits && k->bytes <= b->max_bytes) {
        b->kits[b->count++] = k;
        k = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    kit_free(k);
}
