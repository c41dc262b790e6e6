/* The slot protocol of the batch store: producers claim a free slot with the next sequence number,
 * fill it in place and publish it; consumers take published slots in sequence order and release
 * them. Every wait wakes at least every STORE_POLL_MS (a consumer: STORE_CONSUMER_POLL_MS) to
 * check liveness: a dead producer (its robust "alive" mutex reports EOWNERDEAD) fails the stream,
 * and a dead consumer's slots are re-queued.
 *
 * Wake-ups are what a consumer pays for (a futex sleep and wake costs 40-180 us of CPU on a busy
 * VM, far more than taking a ready slot), so the wait/wake code avoids them: a publish or release
 * signals only when the header's waiter count says someone sleeps, and a publish signals after it
 * unlocks (a consumer woken under the lock would sleep again on the lock); a consumer that finds
 * nothing ready spins (bounded, adaptive) on the lock-free `filled_events` counter before it
 * sleeps, but only when the producers' pace says a publish is due within the spin; and releases
 * are handed to sleeping producers in batches (credits), flushed before a consumer sleeps, when it
 * leaves, or when a quarter of the ring is free. A lone consumer that has to sleep asks to be
 * woken only when all but 1/8 (at least one) of the slots the producers can fill meanwhile are
 * ready in delivery order, so a consumer that outpaces its producers sleeps about once per ring,
 * not once per batch (end, failure and re-queues still wake it at once). ARD_STORE_WAKE=legacy (read once per process)
 * restores the previous protocol (broadcast on every change, no spin) so benchmarks can compare
 * both in the same run. */
#include "stream_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_SPIN_MAX_NS 60000 /* a consumer spins at most this long before it sleeps */
#define STORE_SPIN_MIN_NS 2000  /* ... and at least this long once spins keep failing */
/* A sleeping consumer's liveness poll: longer than STORE_POLL_MS because every poll is a wake-up
 * the consumer pays for, and a consumer waiting for a whole ring of batches that take 30-60 ms
 * each sleeps for about a second; a dead producer is still reported within this period. */
#define STORE_CONSUMER_POLL_MS 1000

/* 1 when ARD_STORE_WAKE=legacy: every change broadcasts, consumers never spin. */
static int legacy_wake(void) {
    static atomic_int mode; /* 0 unknown, 1 new, 2 legacy */
    int m = atomic_load_explicit(&mode, memory_order_relaxed);
    if (m == 0) {
        const char *e = getenv("ARD_STORE_WAKE");
        m = e && strcmp(e, "legacy") == 0 ? 2 : 1;
        atomic_store_explicit(&mode, m, memory_order_relaxed);
    }
    return m == 2;
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Something a consumer waits for happened (publish, end, failure, re-queue). Caller holds lock. */
static void wake_filled(store_header *h) {
    __atomic_fetch_add(&h->filled_events, 1u, __ATOMIC_RELEASE);
    if (h->filled_waiters > 0 || legacy_wake()) {
        pthread_cond_broadcast(&h->filled);
    }
}

/* Batches deliverable in a row from next_deliver. Caller holds lock. */
static int32_t ready_run(const store_header *h) {
    int32_t run = 0;
    for (int found = 1; found;) {
        found = 0;
        for (int32_t i = 0; i < h->num_slots; i++) {
            const store_slot *m = &h->slot_meta[i];
            if (m->state == SLOT_FILLED && m->seq == h->next_deliver + run) {
                run++;
                found = 1;
                break;
            }
        }
    }
    return run;
}

/* A publish: 1 when the caller must broadcast `filled` (after it unlocks): someone sleeps and the
 * batches a lone sleeper asked for are ready. The counter a spinning consumer watches moves on
 * every publish. Caller holds lock. */
static int publish_wakes(store_header *h) {
    __atomic_fetch_add(&h->filled_events, 1u, __ATOMIC_RELEASE);
    if (h->filled_waiters == 0) {
        return 0;
    }
    return h->wake_ready <= 1 || ready_run(h) >= h->wake_ready;
}

/* Records the producers' pace at a publish: a running mean (weight 1/4) of the gap between
 * publishes. Caller holds lock. */
static void note_publish(store_header *h) {
    int64_t now = mono_ns();
    if (h->last_publish_ns > 0) {
        int64_t gap = now - h->last_publish_ns;
        h->publish_gap_ns =
            h->publish_gap_ns > 0 ? h->publish_gap_ns + (gap - h->publish_gap_ns) / 4 : gap;
    }
    h->last_publish_ns = now;
}

/* 1 when a publish is due within `budget_ns` by the producers' pace; 0 before two publishes were
 * seen (the first batches of a stream take long: files are opened). Caller holds lock. */
static int publish_due(const store_header *h, int64_t budget_ns) {
    if (h->publish_gap_ns <= 0) {
        return 0;
    }
    return h->last_publish_ns + h->publish_gap_ns - mono_ns() < budget_ns;
}

/* How many ready batches a consumer about to sleep waits for: a lone consumer (the usual trainer)
 * that outpaces its producers would otherwise sleep and wake once per batch, and each wake-up
 * costs far more CPU than taking a batch; woken with most of the ring ready it takes them without
 * sleeping. Of the slots it does not hold and no producer is filling ("open") it leaves 1/8 free,
 * at least one (so producers that publish find free slots and keep working while it wakes, which
 * can take milliseconds on a loaded machine), and waits for the rest: with 10 slots and one
 * producer filling 8 of the 9 open (7/8 rounded down gave 7: a batch per wake-up lost to
 * rounding at the default depth, 0.156 instead of 0.125 sleeps per batch in epoch 0:
 * bench/results/stream.md), with two filling 7 of 8, with 32 slots 28. Never more than the
 * stream has left; 1 with several consumers (they share the ready batches). Caller holds lock. */
static int32_t wake_goal(const store_header *h) {
    int32_t consumers = 0, busy = 0;
    for (int32_t i = 0; i < STORE_MAX_CONSUMERS; i++) {
        consumers += h->consumers[i].in_use != 0;
    }
    for (int32_t i = 0; i < h->num_slots; i++) {
        busy += h->slot_meta[i].state == SLOT_HELD || h->slot_meta[i].state == SLOT_FILLING;
    }
    int64_t open = h->num_slots - busy, goal = open - (open / 8 > 1 ? open / 8 : 1);
    if (goal > h->end_seq - h->next_deliver) {
        goal = h->end_seq - h->next_deliver;
    }
    return consumers == 1 && goal > 1 ? (int32_t)goal : 1;
}

/* Hands the pending credits (released slots) to sleeping producers. Caller holds lock. */
static void flush_credits(store_header *h) {
    if (h->credits > 0 && h->freed_waiters > 0) {
        if (h->credits >= h->freed_waiters) {
            pthread_cond_broadcast(&h->freed);
        } else {
            for (int32_t i = 0; i < h->credits; i++) {
                pthread_cond_signal(&h->freed);
            }
        }
    }
    h->credits = 0;
}

/* `n` slots became free. Sleeping producers are woken once a quarter of the ring (at least one
 * slot per sleeper, capped by that quarter) has come back; until then the ring holds enough
 * filled slots that the consumer does not starve, and the flush points above catch the rest.
 * Caller holds lock. */
static void wake_freed(store_header *h, int32_t n, int now) {
    if (legacy_wake()) {
        pthread_cond_broadcast(&h->freed);
        return;
    }
    h->credits += n;
    if (h->freed_waiters == 0) {
        h->credits = 0; /* nobody sleeps: a producer that comes finds the slot itself */
        return;
    }
    int32_t batch = h->num_slots / 4 > 1 ? h->num_slots / 4 : 1;
    if (batch > h->freed_waiters) {
        batch = h->freed_waiters;
    }
    if (now || h->credits >= batch) {
        flush_credits(h);
    }
}

static uint8_t *slot_base(store_header *h, int32_t slot) {
    return (uint8_t *)h + h->slots_offset + (int64_t)slot * h->slot_bytes;
}

static void fill_view(store_header *h, int32_t slot, ard_batch *out) {
    uint8_t *base = slot_base(h, slot);
    store_slot *m = &h->slot_meta[slot];
    out->slot = slot;
    out->count = m->count;
    out->seq = m->seq;
    out->epoch = m->epoch;
    out->batch_size = h->batch_size;
    out->num_patches = h->num_patches;
    out->patch = h->patch;
    out->tokens = (float *)(void *)(base + h->off_tokens);
    out->scales = (float *)(void *)(base + h->off_scales);
    out->mask = base + h->off_mask;
    out->targetid = (int64_t *)(void *)(base + h->off_targetid);
    out->flags = base + h->off_flags;
    out->wave = (const float *)(const void *)((uint8_t *)h + h->wave_offset);
    out->token_dtype = h->token_dtype;
}

void ard__store_drop_consumer(store_header *h, int id) {
    int freed = 0;
    for (int32_t i = 0; i < h->num_slots; i++) {
        store_slot *m = &h->slot_meta[i];
        if (m->state == SLOT_HELD && m->holder == id) {
            m->state = SLOT_FREE;
            freed++;
        }
    }
    h->consumers[id].in_use = 0;
    if (freed) {
        wake_freed(h, freed, 1);
    } else {
        flush_credits(h); /* the leaving consumer's releases still owed to producers */
    }
}

int ard__store_reclaim(store_header *h, int self) {
    int requeued = 0;
    for (int i = 0; i < STORE_MAX_CONSUMERS; i++) {
        store_consumer *c = &h->consumers[i];
        if (i == self || !c->in_use) {
            continue;
        }
        int rc = pthread_mutex_trylock(&c->alive);
        if (rc == EOWNERDEAD) {
            pthread_mutex_consistent(&c->alive);
            rc = 0;
        }
        if (rc != 0) {
            continue; /* alive */
        }
        for (int32_t s = 0; s < h->num_slots; s++) {
            store_slot *m = &h->slot_meta[s];
            if (m->state == SLOT_HELD && m->holder == i) {
                m->state = SLOT_FILLED; /* delivered to a consumer that died: deliver again */
                requeued++;
            }
        }
        c->in_use = 0;
        pthread_mutex_unlock(&c->alive);
    }
    if (requeued) {
        wake_filled(h);
    }
    return requeued;
}

static void set_failed(store_header *h, ard_status status, const char *msg) {
    if (h->state == STATE_FAILED) {
        return;
    }
    h->state = STATE_FAILED;
    h->fail_status = (int32_t)status;
    snprintf(h->fail_msg, sizeof h->fail_msg, "%s", msg ? msg : ard_status_str(status));
    wake_filled(h);
    h->credits = 0;
    pthread_cond_broadcast(&h->freed);
}

/* A running stream whose producer process is gone fails. Caller holds h->lock. */
static void check_producer(store_header *h) {
    if (h->state != STATE_RUNNING) {
        return;
    }
    int rc = pthread_mutex_trylock(&h->producer_alive);
    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(&h->producer_alive);
    }
    if (rc == 0 || rc == EOWNERDEAD) {
        pthread_mutex_unlock(&h->producer_alive);
        char msg[96];
        snprintf(msg, sizeof msg, "the stream's producer (pid %d) died", (int)h->producer_pid);
        set_failed(h, ARD_EIO, msg);
    }
}

/* Waits on cv for at most poll_ms or until `deadline`; 1 when the deadline passed. */
static int wait_poll(store_header *h, pthread_cond_t *cv, int32_t *waiters, int64_t poll_ms,
                     const struct timespec *deadline) {
    struct timespec ts;
    ard__deadline(&ts, poll_ms);
    if (deadline && (ts.tv_sec > deadline->tv_sec ||
                     (ts.tv_sec == deadline->tv_sec && ts.tv_nsec > deadline->tv_nsec))) {
        ts = *deadline;
    }
    (*waiters)++;
    int rc = pthread_cond_timedwait(cv, &h->lock, &ts);
    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(&h->lock);
    }
    (*waiters)--;
    if (!deadline) {
        return 0;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static int32_t find_free(store_header *h) {
    for (int32_t i = 0; i < h->num_slots; i++) {
        if (h->slot_meta[i].state == SLOT_FREE) {
            return i;
        }
    }
    return -1;
}

ard_status ard_store_begin_fill(ard_store *store, int64_t timeout_ms, ard_batch *out,
                                ard_error *err) {
    store_header *h = store->map->h;
    struct timespec deadline;
    if (timeout_ms >= 0) {
        ard__deadline(&deadline, timeout_ms);
    }
    ard__robust_lock(&h->lock);
    ard_status st = ARD_OK;
    for (;;) {
        if (h->state != STATE_RUNNING || h->next_seq >= h->end_seq) {
            st = ard_error_set(err, ARD_EEOF, "store: the stream has ended");
            break;
        }
        int32_t slot = find_free(h);
        if (slot >= 0) {
            store_slot *m = &h->slot_meta[slot];
            m->state = SLOT_FILLING;
            m->seq = h->next_seq++;
            m->count = 0;
            m->epoch = 0;
            fill_view(h, slot, out);
            break;
        }
        if (wait_poll(h, &h->freed, &h->freed_waiters, STORE_POLL_MS,
                      timeout_ms >= 0 ? &deadline : NULL)) {
            st = ard_error_set(err, ARD_ELIMIT, "store: no free slot within %lld ms",
                               (long long)timeout_ms);
            break;
        }
        ard__store_reclaim(h, -1);
    }
    pthread_mutex_unlock(&h->lock);
    if (st == ARD_OK) {
        ard__store_populate_slot(store, out->slot);
    }
    return st;
}

static int valid_slot(const store_header *h, const ard_batch *b) {
    return b && b->slot >= 0 && b->slot < h->num_slots;
}

ard_status ard_store_publish(ard_store *store, const ard_batch *batch, int32_t count, int32_t epoch,
                             ard_error *err) {
    store_header *h = store->map->h;
    if (!valid_slot(h, batch) || count < 0 || count > h->batch_size) {
        return ard_error_set(err, ARD_EINVAL, "store: publish of a bad slot or count %d", count);
    }
    ard__robust_lock(&h->lock);
    store_slot *m = &h->slot_meta[batch->slot];
    ard_status st = ARD_OK;
    int wake = 0;
    if (m->state != SLOT_FILLING || m->seq != batch->seq) {
        st = ard_error_set(err, ARD_EINVAL, "store: slot %d is not being filled", batch->slot);
    } else {
        m->count = count;
        m->epoch = epoch;
        m->state = SLOT_FILLED;
        note_publish(h);
        if (legacy_wake()) {
            wake_filled(h); /* the old protocol: broadcast under the lock */
        } else {
            wake = publish_wakes(h);
        }
    }
    pthread_mutex_unlock(&h->lock);
    if (wake) { /* the mapping outlives this call: the caller's handle holds it */
        pthread_cond_broadcast(&h->filled);
    }
    return st;
}

void ard_store_abandon(ard_store *store, const ard_batch *batch) {
    store_header *h = store->map->h;
    if (!valid_slot(h, batch)) {
        return;
    }
    ard__robust_lock(&h->lock);
    store_slot *m = &h->slot_meta[batch->slot];
    if (m->state == SLOT_FILLING && m->seq == batch->seq) {
        m->state = SLOT_FREE;
        if (batch->seq < h->end_seq) {
            h->end_seq = batch->seq;
        }
        wake_filled(h);
        wake_freed(h, 1, 1);
    }
    pthread_mutex_unlock(&h->lock);
}

void ard_store_finish(ard_store *store, ard_status status, const char *message) {
    store_header *h = store->map->h;
    ard__robust_lock(&h->lock);
    if (status != ARD_OK) {
        set_failed(h, status, message);
    } else if (h->state == STATE_RUNNING) {
        h->state = STATE_END;
        if (h->next_seq < h->end_seq) {
            h->end_seq = h->next_seq;
        }
        wake_filled(h);
        h->credits = 0;
        pthread_cond_broadcast(&h->freed);
    }
    pthread_mutex_unlock(&h->lock);
}

/* The deliverable slot: a re-queued one (seq < next_deliver) first, else seq == next_deliver. */
static int32_t find_deliverable(store_header *h) {
    int32_t best = -1;
    for (int32_t i = 0; i < h->num_slots; i++) {
        store_slot *m = &h->slot_meta[i];
        if (m->state == SLOT_FILLED && m->seq <= h->next_deliver &&
            (best < 0 || m->seq < h->slot_meta[best].seq)) {
            best = i;
        }
    }
    return best;
}

static int any_in_flight(const store_header *h) {
    for (int32_t i = 0; i < h->num_slots; i++) {
        if (h->slot_meta[i].state == SLOT_FILLING || h->slot_meta[i].state == SLOT_HELD) {
            return 1;
        }
    }
    return 0;
}

/* Decides what a consumer gets now: 1 = took a slot, 0 = wait, -1 = return *st. */
static int try_take(store_header *h, int self, ard_batch *out, ard_status *st, ard_error *err) {
    int32_t slot = find_deliverable(h);
    if (slot >= 0) {
        store_slot *m = &h->slot_meta[slot];
        m->state = SLOT_HELD;
        m->holder = self;
        if (m->seq == h->next_deliver) {
            h->next_deliver++;
        }
        fill_view(h, slot, out);
        return 1;
    }
    if (h->state == STATE_FAILED) {
        *st = ard_error_set(err, (ard_status)h->fail_status, "stream failed: %s", h->fail_msg);
        return -1;
    }
    if (h->next_deliver >= h->end_seq) {
        /* A slot held by a consumer that dies now could still come back. */
        if (any_in_flight(h) && ard__store_reclaim(h, self) > 0) {
            return 0;
        }
        flush_credits(h);
        *st = ard_error_set(err, ARD_EEOF, "end of data");
        return -1;
    }
    return 0;
}

/* Nothing is ready: drops the lock and spins on `filled_events` for the handle's adaptive budget
 * (doubled back to the maximum when a spin succeeds, halved when it fails), then retakes the
 * lock. 1 when an event came (retry), 0 when the caller should sleep. Caller holds lock. */
static int spin_wait(ard_store *store, const struct timespec *deadline) {
    store_header *h = store->map->h;
    int64_t budget = __atomic_load_n(&store->spin_ns, __ATOMIC_RELAXED);
    budget = budget > 0 ? budget : STORE_SPIN_MAX_NS;
    int64_t start = mono_ns(), stop = start + budget;
    if (deadline) {
        int64_t d = (int64_t)deadline->tv_sec * 1000000000 + deadline->tv_nsec;
        stop = d < stop ? d : stop;
    }
    uint32_t seen = __atomic_load_n(&h->filled_events, __ATOMIC_RELAXED);
    flush_credits(h); /* producers waiting on credits are what this spin waits for */
    pthread_mutex_unlock(&h->lock);
    int got = 0;
    while (!got) {
        for (int i = 0; i < 64; i++) {
            if (__atomic_load_n(&h->filled_events, __ATOMIC_ACQUIRE) != seen) {
                got = 1;
                break;
            }
            cpu_relax();
        }
        if (!got && mono_ns() >= stop) {
            break;
        }
    }
    int64_t next = got ? STORE_SPIN_MAX_NS : budget / 2;
    __atomic_store_n(&store->spin_ns, next > STORE_SPIN_MIN_NS ? next : STORE_SPIN_MIN_NS,
                     __ATOMIC_RELAXED);
    ard__robust_lock(&h->lock);
    return got;
}

ard_status ard_store_acquire(ard_store *store, int64_t timeout_ms, ard_batch *out, ard_error *err) {
    store_header *h = store->map->h;
    if (store->consumer < 0) {
        return ard_error_set(err, ARD_EINVAL, "store: acquire needs a consumer handle");
    }
    struct timespec deadline;
    if (timeout_ms >= 0) {
        ard__deadline(&deadline, timeout_ms);
    }
    int spin = timeout_ms != 0 && !legacy_wake();
    ard__robust_lock(&h->lock);
    ard_status st = ARD_OK;
    for (;;) {
        int r = try_take(h, store->consumer, out, &st, err);
        if (r != 0) {
            break;
        }
        if (timeout_ms == 0) { /* a poll: never sleeps (nor registers as a waiter) */
            flush_credits(h);
            st = ard_error_set(err, ARD_ELIMIT, "store: no batch ready");
            break;
        }
        if (spin) {
            spin = 0; /* once per call: after a spin that ends empty-handed, sleep */
            if (publish_due(h, STORE_SPIN_MAX_NS) &&
                spin_wait(store, timeout_ms >= 0 ? &deadline : NULL)) {
                continue;
            }
        }
        flush_credits(h); /* producers must not sleep on credits while the consumer sleeps */
        int64_t poll = legacy_wake() ? STORE_POLL_MS : STORE_CONSUMER_POLL_MS;
        h->wake_ready = wake_goal(h);
        int late =
            wait_poll(h, &h->filled, &h->filled_waiters, poll, timeout_ms >= 0 ? &deadline : NULL);
        h->wake_ready = 1;
        if (late) {
            st = ard_error_set(err, ARD_ELIMIT, "store: no batch within %lld ms",
                               (long long)timeout_ms);
            break;
        }
        check_producer(h);
        ard__store_reclaim(h, store->consumer);
    }
    pthread_mutex_unlock(&h->lock);
    if (st != ARD_OK) {
        memset(out, 0, sizeof *out);
        out->slot = -1;
    }
    return st;
}

ard_status ard_store_release(ard_store *store, const ard_batch *batch, ard_error *err) {
    store_header *h = store->map->h;
    if (!valid_slot(h, batch)) {
        return ard_error_set(err, ARD_EINVAL, "store: release of a bad slot");
    }
    ard__robust_lock(&h->lock);
    store_slot *m = &h->slot_meta[batch->slot];
    ard_status st = ARD_OK;
    if (m->state != SLOT_HELD || m->holder != store->consumer || m->seq != batch->seq) {
        st = ard_error_set(err, ARD_EINVAL, "store: slot %d is not held by this consumer",
                           batch->slot);
    } else {
        m->state = SLOT_FREE;
        wake_freed(h, 1, 0);
    }
    pthread_mutex_unlock(&h->lock);
    return st;
}

int32_t ard_store_held(ard_store *store) {
    store_header *h = store->map->h;
    int32_t n = 0;
    ard__robust_lock(&h->lock);
    for (int32_t i = 0; i < h->num_slots; i++) {
        n += h->slot_meta[i].state == SLOT_HELD;
    }
    pthread_mutex_unlock(&h->lock);
    return n;
}

int32_t ard_store_drained(ard_store *store) {
    store_header *h = store->map->h;
    ard__robust_lock(&h->lock);
    int32_t drained = h->state != STATE_RUNNING;
    for (int32_t i = 0; drained && i < h->num_slots; i++) {
        drained = h->slot_meta[i].state == SLOT_FREE;
    }
    if (!drained && h->state != STATE_RUNNING) {
        ard__store_reclaim(h, -1); /* a dead consumer must not keep the server alive */
    }
    pthread_mutex_unlock(&h->lock);
    return drained;
}
