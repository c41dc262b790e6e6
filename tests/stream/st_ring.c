/* Helpers shared by the ring wait/wake tests (st_ring.h). */
#include "st_ring.h"

#include <time.h>
#include <unistd.h>

void st_ring_geometry(ard_store_options *o, int32_t slots) {
    ard_store_options_init(o);
    o->slots = slots;
    o->batch_size = 4;
    o->num_patches = 3;
    o->patch = 32;
}

int32_t st_locked_read(store_header *h, const int32_t *field) {
    ard__robust_lock(&h->lock);
    int32_t v = *field;
    pthread_mutex_unlock(&h->lock);
    return v;
}

int32_t st_wait_nonzero(store_header *h, const int32_t *field) {
    for (int i = 0; i < 5000 && st_locked_read(h, field) == 0; i++) {
        usleep(1000);
    }
    return st_locked_read(h, field);
}

ard_status st_produce(ard_store *s, int64_t timeout_ms) {
    ard_batch b;
    ard_status st = ard_store_begin_fill(s, timeout_ms, &b, NULL);
    if (st != ARD_OK) {
        return st;
    }
    b.targetid[0] = b.seq;
    return ard_store_publish(s, &b, b.batch_size, 0, NULL);
}

int64_t st_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void *st_sleeper_main(void *arg) {
    st_sleeper *s = arg;
    ard_batch b;
    int64_t t0 = st_now_ms();
    s->st = ard_store_acquire(s->c, 10000, &b, NULL);
    s->took_ms = st_now_ms() - t0;
    s->seq = s->st == ARD_OK ? b.targetid[0] : -1;
    if (s->st == ARD_OK) {
        ard_store_release(s->c, &b, NULL);
    }
    return NULL;
}
