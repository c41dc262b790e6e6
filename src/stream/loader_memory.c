/* The loader's memory cap covers decoding too: the decoded row groups (FLUX and IVAR matrices held
 * by entries or kept in the buffer pool, and their TARGETIDs) are counted against what the cap
 * leaves after the store and the epoch cache. A producer that would decode past it waits unless
 * it fills the oldest batch in progress -- the batch consumers wait for, so the stream cannot
 * deadlock; that one decodes anyway, one row group at a time. So decoding holds at most the cap
 * plus one row group, plus, with a local shuffle buffer, the row groups its window keeps open.
 * Everything here runs under l->lock except ard__loader_filling, which takes it. */
#include "stream_int.h"

int64_t ard__loader_entry_bytes(ard_loader *l) {
    int64_t rows = 1;
    for (int32_t i = 0; i < l->num_rgs; i++) {
        rows = l->rgs[i].rows > rows ? l->rgs[i].rows : rows;
    }
    if (l->pool_floats == 0) {
        l->pool_floats = rows * (l->width > 0 ? l->width : 1);
    }
    return 2 * l->pool_floats * (int64_t)sizeof(float) + rows * 8;
}

void ard__loader_decode_add(ard_loader *l, int64_t bytes) {
    l->decode_bytes += bytes;
    if (l->decode_bytes > l->decode_peak) {
        l->decode_peak = l->decode_bytes;
    }
    if (bytes < 0) {
        pthread_cond_broadcast(&l->changed); /* a producer may be waiting for memory */
    }
}

int ard__loader_decode_keep(const ard_loader *l) {
    return l->decode_cap <= 0 || l->decode_bytes <= l->decode_cap;
}

/* 1 when the calling producer fills the oldest batch whose fill has not ended: the one consumers
 * wait for, which therefore never waits for memory. Counted in store sequence, not among the
 * producers inside a fill: a producer that claimed an older slot may not have entered yet. */
static int fills_oldest(const ard_loader *l) {
    for (int32_t i = 0; i < l->filling; i++) {
        if (pthread_equal(l->fillers[i].thread, pthread_self())) {
            return l->fillers[i].seq == l->open_low;
        }
    }
    return 0;
}

int ard__loader_decode_wait(ard_loader *l, int64_t rows) {
    int64_t pooled = l->pool_count < 2 ? l->pool_count : 2;
    int64_t need = (2 - pooled) * l->pool_floats * (int64_t)sizeof(float) + rows * 8;
    if (l->decode_cap <= 0 || l->decode_bytes + need <= l->decode_cap || l->stop ||
        l->status != ARD_OK || fills_oldest(l)) {
        return 0;
    }
    l->decode_waits++;
    pthread_cond_wait(&l->changed, &l->lock);
    return 1;
}

void ard__loader_filling(ard_loader *l, int64_t seq, int start) {
    pthread_mutex_lock(&l->lock);
    if (start) {
        l->fillers[l->filling].thread = pthread_self();
        l->fillers[l->filling++].seq = seq;
    } else {
        for (int32_t i = 0; i < l->filling; i++) {
            if (pthread_equal(l->fillers[i].thread, pthread_self())) {
                l->fillers[i] = l->fillers[--l->filling];
                break;
            }
        }
        if (l->ended && seq >= l->open_low) {
            l->ended[seq % l->ended_slots] = 1;
            while (l->ended[l->open_low % l->ended_slots]) {
                l->ended[l->open_low++ % l->ended_slots] = 0;
            }
        }
        pthread_cond_broadcast(&l->changed); /* another producer may fill the oldest batch now */
    }
    pthread_mutex_unlock(&l->lock);
}
