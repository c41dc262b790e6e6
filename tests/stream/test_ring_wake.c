/* Ring wait/wake tests (store_ring.c): the waiter counts and batched release credits in the shared
 * header, the consumer's adaptive spin budget, a sleeping consumer woken by a publish, and a
 * lost-wake-up stress (a tiny ring, producers and consumers that keep sleeping on each other: a
 * missed wake-up only shows as a wait that ran into the STORE_POLL_MS liveness poll). */
#include "st_ring.h"
#include "st_util.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* Releases are owed to sleeping producers in batches of min(num_slots / 4, sleepers); nothing is
 * owed when nobody sleeps; a publish bumps the event counter a spinning consumer watches. */
static void test_credits_and_counts(void **state) {
    (void)state;
    ard_store_options o;
    st_ring_geometry(&o, 8);
    ard_store *p = NULL, *c = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(p, &c, NULL), ARD_OK);
    store_header *h = c->map->h;
    uint32_t events = __atomic_load_n(&h->filled_events, __ATOMIC_ACQUIRE);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(st_produce(p, 0), ARD_OK);
    }
    assert_int_equal(__atomic_load_n(&h->filled_events, __ATOMIC_ACQUIRE), events + 8);
    assert_int_equal(st_locked_read(h, &h->filled_waiters), 0);
    ard_batch b;
    /* Nobody sleeps: a release owes nothing. */
    assert_int_equal(ard_store_acquire(c, 0, &b, NULL), ARD_OK);
    assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    assert_int_equal(st_locked_read(h, &h->credits), 0);
    assert_int_equal(st_produce(p, 0), ARD_OK); /* ring full again */
    /* Three (simulated) sleeping producers on an 8-slot ring: the wake-up waits for 2 credits. */
    ard__robust_lock(&h->lock);
    h->freed_waiters = 3;
    pthread_mutex_unlock(&h->lock);
    assert_int_equal(ard_store_acquire(c, 0, &b, NULL), ARD_OK);
    assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    assert_int_equal(st_locked_read(h, &h->credits), 1);
    assert_int_equal(ard_store_acquire(c, 0, &b, NULL), ARD_OK);
    assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    assert_int_equal(st_locked_read(h, &h->credits), 0); /* flushed */
    /* A pending credit is flushed when the consumer finds nothing and would sleep. */
    assert_int_equal(ard_store_acquire(c, 0, &b, NULL), ARD_OK);
    assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    assert_int_equal(st_locked_read(h, &h->credits), 1);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ard_store_acquire(c, 0, &b, NULL), ARD_OK);
        assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    }
    assert_int_equal(st_locked_read(h, &h->credits), 1); /* 5 releases: 2 batches of 2, one left */
    ard_batch last;
    assert_int_equal(ard_store_acquire(c, 0, &last, NULL), ARD_OK); /* the last filled slot */
    assert_int_equal(ard_store_acquire(c, 10, &b, NULL), ARD_ELIMIT);
    assert_int_equal(st_locked_read(h, &h->credits), 0);
    assert_int_equal(ard_store_release(c, &last, NULL), ARD_OK);
    ard__robust_lock(&h->lock);
    h->freed_waiters = 0;
    pthread_mutex_unlock(&h->lock);
    assert_int_equal(st_locked_read(h, &h->filled_waiters), 0);
    ard_store_close(c);
    ard_store_close(p);
}

/* A consumer spins before it sleeps only when the producers' pace says a publish is due within
 * the spin: never before two publishes were seen; after fast publishes (gap of microseconds, the
 * next one overdue) it spins, and a spin that ends empty-handed halves the handle's budget (down
 * to a floor); after slow ones (a publish every 150 ms, the last one just now) it sleeps at once. */
static void test_spin_budget(void **state) {
    (void)state;
    ard_store_options o;
    st_ring_geometry(&o, 2);
    ard_store *p = NULL, *c = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(p, &c, NULL), ARD_OK);
    ard_batch b;
    assert_int_equal(ard_store_acquire(c, 0, &b, NULL), ARD_ELIMIT); /* timeout 0: no spin */
    assert_int_equal(c->spin_ns, 0);
    assert_int_equal(ard_store_acquire(c, 20, &b, NULL), ARD_ELIMIT); /* no pace yet: no spin */
    assert_int_equal(c->spin_ns, 0);
    for (int i = 0; i < 2; i++) { /* two publishes back to back: a pace of microseconds */
        assert_int_equal(st_produce(p, 0), ARD_OK);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ard_store_acquire(c, 1000, &b, NULL), ARD_OK); /* ready: no spin */
        assert_int_equal(b.seq, i);
        assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    }
    assert_int_equal(c->spin_ns, 0);
    usleep(1000); /* the next publish is overdue by this pace */
    assert_int_equal(ard_store_acquire(c, 20, &b, NULL), ARD_ELIMIT);
    assert_int_equal(c->spin_ns, 30000);
    assert_int_equal(ard_store_acquire(c, 20, &b, NULL), ARD_ELIMIT);
    assert_int_equal(c->spin_ns, 15000);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(ard_store_acquire(c, 5, &b, NULL), ARD_ELIMIT);
    }
    assert_int_equal(c->spin_ns, 2000);
    ard_store_close(c);
    ard_store_close(p);

    /* Slow producers: publishes 150 ms apart, the consumer asks right after the last one. */
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(p, &c, NULL), ARD_OK);
    for (int i = 0; i < 2; i++) {
        if (i > 0) {
            usleep(150000);
        }
        assert_int_equal(st_produce(p, 0), ARD_OK);
        assert_int_equal(ard_store_acquire(c, 1000, &b, NULL), ARD_OK);
        assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    }
    assert_int_equal(ard_store_acquire(c, 20, &b, NULL), ARD_ELIMIT); /* due in ~150 ms */
    assert_int_equal(c->spin_ns, 0);
    ard_store_close(c);
    ard_store_close(p);
}

/* Starts st_sleeper_main on s and returns once it sleeps (counted in filled_waiters). */
static void start_sleeper(store_header *h, st_sleeper *s, pthread_t *t) {
    pthread_create(t, NULL, st_sleeper_main, s);
    assert_int_equal(st_wait_nonzero(h, &h->filled_waiters), 1);
}

/* A consumer asleep (counted in filled_waiters) gets the batch a producer publishes. */
static void test_sleeper_woken(void **state) {
    (void)state;
    ard_store_options o;
    st_ring_geometry(&o, 2);
    ard_store *p = NULL;
    st_sleeper s = {0};
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(p, &s.c, NULL), ARD_OK);
    store_header *h = p->map->h;
    pthread_t t;
    start_sleeper(h, &s, &t);
    assert_int_equal(st_produce(p, 0), ARD_OK);
    pthread_join(t, NULL);
    assert_int_equal(s.st, ARD_OK);
    assert_int_equal(s.seq, 0);
    assert_int_equal(st_locked_read(h, &h->filled_waiters), 0);
    ard_store_close(s.c);
    ard_store_close(p);
}

typedef struct paced {
    ard_store *p;
    int n, gap_ms;
} paced;

static void *paced_main(void *arg) {
    paced *q = arg;
    for (int i = 0; i < q->n; i++) {
        usleep((useconds_t)q->gap_ms * 1000);
        assert_int_equal(st_produce(q->p, 10000), ARD_OK);
    }
    return NULL;
}

/* A lone consumer that outpaces its producer sleeps until 7/8 of the slots the producer can fill
 * are ready (8 slots, nothing held, nothing being filled: 7 batches), then takes them without
 * waiting: one wake-up per 7 batches, not per batch, and every batch in order. The producer
 * publishes every 20 ms; the consumer's liveness poll (1 s) is far longer than 7 of them. A
 * producer caught between claiming and publishing when the consumer goes to sleep lowers that
 * wake-up's goal by one (test_wake_goal), hence >= 6. */
static void test_lone_consumer_wakes_for_most_of_ring(void **state) {
    (void)state;
    ard_store_options o;
    st_ring_geometry(&o, 8);
    ard_store *p = NULL, *c = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(p, &c, NULL), ARD_OK);
    paced q = {p, 24, 20};
    pthread_t t;
    pthread_create(&t, NULL, paced_main, &q);
    int64_t next = 0;
    ard_batch b;
    b.slot = -1;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(ard_store_next(c, 10000, &b, NULL), ARD_OK); /* sleeps */
        assert_int_equal(b.seq, next++);
        int ready = 1;
        while (next < 24 && ard_store_next(c, 0, &b, NULL) == ARD_OK) { /* only what is ready */
            assert_int_equal(b.seq, next++);
            ready++;
        }
        /* woken with 7 ready (3/4-ring protocol: 6 at 8 slots, half-ring: 4, old: 1) */
        assert_true(ready >= 6 && ready <= 7);
    }
    while (next < 24) {
        assert_int_equal(ard_store_next(c, 10000, &b, NULL), ARD_OK);
        assert_int_equal(b.seq, next++);
    }
    assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    pthread_join(t, NULL);
    ard_store_close(c);
    ard_store_close(p);
}

/* Takes and releases `n` ready batches without waiting. */
static void drain(ard_store *c, int n) {
    for (int i = 0; i < n; i++) {
        ard_batch b;
        assert_int_equal(ard_store_acquire(c, 0, &b, NULL), ARD_OK);
        assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    }
}

/* The wake goal of a lone sleeping consumer, exactly: 7/8 of the slots not held and not being
 * filled, leaving one (8 slots: 7; with a slot being filled: 6 -- the 3/4-ring rule gave 6 in both), capped
 * by what the stream has left; 1 with two consumers (they share). The sleeper is not woken by
 * publishes short of its goal and is woken by the one that reaches it. */
static void test_wake_goal(void **state) {
    (void)state;
    ard_store_options o;
    st_ring_geometry(&o, 8);
    ard_store *p = NULL;
    st_sleeper s = {0};
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(p, &s.c, NULL), ARD_OK);
    store_header *h = p->map->h;
    pthread_t t;
    start_sleeper(h, &s, &t);
    assert_int_equal(st_locked_read(h, &h->wake_ready), 7);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(st_produce(p, 0), ARD_OK);
    }
    usleep(20000);
    assert_int_equal(st_locked_read(h, &h->filled_waiters), 1); /* 6 of 7 ready: still asleep */
    assert_int_equal(st_produce(p, 0), ARD_OK);
    pthread_join(t, NULL);
    assert_int_equal(s.st, ARD_OK);
    assert_int_equal(s.seq, 0);
    drain(s.c, 6);
    /* A slot being filled when the consumer goes to sleep cannot be waited for as well. */
    ard_batch filling;
    assert_int_equal(ard_store_begin_fill(p, 0, &filling, NULL), ARD_OK);
    start_sleeper(h, &s, &t);
    assert_int_equal(st_locked_read(h, &h->wake_ready), 6);
    filling.targetid[0] = filling.seq;
    assert_int_equal(ard_store_publish(p, &filling, 1, 0, NULL), ARD_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(st_produce(p, 0), ARD_OK);
    }
    pthread_join(t, NULL);
    assert_int_equal(s.st, ARD_OK);
    assert_int_equal(s.seq, 7);
    drain(s.c, 5);
    /* The stream's end caps the goal: 2 batches left -> 2. */
    ard__robust_lock(&h->lock);
    h->end_seq = h->next_deliver + 2;
    pthread_mutex_unlock(&h->lock);
    start_sleeper(h, &s, &t);
    assert_int_equal(st_locked_read(h, &h->wake_ready), 2);
    assert_int_equal(st_produce(p, 0), ARD_OK);
    assert_int_equal(st_produce(p, 0), ARD_OK);
    pthread_join(t, NULL);
    assert_int_equal(s.st, ARD_OK);
    /* A second consumer: the goal is 1 (the ready batches are shared). */
    ard_store *other = NULL;
    assert_int_equal(ard_store_attach(p, &other, NULL), ARD_OK);
    drain(other, 1);
    ard__robust_lock(&h->lock);
    h->end_seq = h->next_deliver + 100;
    pthread_mutex_unlock(&h->lock);
    start_sleeper(h, &s, &t);
    assert_int_equal(st_locked_read(h, &h->wake_ready), 1);
    assert_int_equal(st_produce(p, 0), ARD_OK);
    pthread_join(t, NULL);
    assert_int_equal(s.st, ARD_OK);
    ard_store_close(other);
    ard_store_close(s.c);
    ard_store_close(p);
}

/* The goal at the default depth and deeper: all but 1/8 (at least one) of the open slots, so 10
 * slots wake the lone consumer with 9 ready when nothing is being filled, 8 with one producer
 * filling (7/8 rounded down gave 7), 7 with two; 32 slots with nothing filling: 28. */
static void test_wake_goal_rounding(void **state) {
    (void)state;
    int32_t slots[4] = {10, 10, 10, 32}, filling[4] = {0, 1, 2, 0}, want[4] = {9, 8, 7, 28};
    for (int k = 0; k < 4; k++) {
        ard_store_options o;
        st_ring_geometry(&o, slots[k]);
        ard_store *p = NULL;
        st_sleeper s = {0};
        assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
        assert_int_equal(ard_store_attach(p, &s.c, NULL), ARD_OK);
        store_header *h = p->map->h;
        ard_batch f[2];
        for (int i = 0; i < filling[k]; i++) {
            assert_int_equal(ard_store_begin_fill(p, 0, &f[i], NULL), ARD_OK);
        }
        pthread_t t;
        start_sleeper(h, &s, &t);
        assert_int_equal(st_locked_read(h, &h->wake_ready), want[k]);
        for (int i = 0; i < filling[k]; i++) {
            f[i].targetid[0] = f[i].seq;
            assert_int_equal(ard_store_publish(p, &f[i], 1, 0, NULL), ARD_OK);
        }
        for (int i = filling[k]; i < want[k]; i++) {
            assert_int_equal(st_produce(p, 0), ARD_OK);
        }
        pthread_join(t, NULL);
        assert_int_equal(s.st, ARD_OK);
        assert_int_equal(s.seq, 0);
        ard_store_close(s.c);
        ard_store_close(p);
    }
}

/* timeout 0 polls: ARD_ELIMIT at once when nothing is ready, without registering as a sleeper;
 * a batch published meanwhile is taken by the next poll. */
static void test_poll_does_not_sleep(void **state) {
    (void)state;
    ard_store_options o;
    st_ring_geometry(&o, 4);
    ard_store *p = NULL, *c = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(p, &c, NULL), ARD_OK);
    store_header *h = c->map->h;
    ard_batch b;
    ard_error err;
    ard_error_init(&err);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(ard_store_acquire(c, 0, &b, &err), ARD_ELIMIT);
        assert_int_equal(b.slot, -1);
    }
    assert_non_null(strstr(err.msg, "no batch ready"));
    assert_int_equal(st_locked_read(h, &h->filled_waiters), 0);
    assert_int_equal(st_produce(p, 0), ARD_OK);
    assert_int_equal(ard_store_acquire(c, 0, &b, NULL), ARD_OK);
    assert_int_equal(b.seq, 0);
    assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    ard_store_close(c);
    ard_store_close(p);
}

#define LW_BATCHES 1500
#define LW_SLOW_MS 45 /* a wait this long ran into the liveness poll: a wake-up was missed */
typedef struct lw_ctx {
    ard_store *store;
    int counts[LW_BATCHES];
    int slow;
    pthread_mutex_t lock;
} lw_ctx;

static void *lw_producer(void *arg) {
    lw_ctx *m = arg;
    for (;;) {
        int64_t t0 = st_now_ms();
        ard_batch b;
        ard_status st = ard_store_begin_fill(m->store, 20000, &b, NULL);
        int slow = st_now_ms() - t0 >= LW_SLOW_MS;
        pthread_mutex_lock(&m->lock);
        m->slow += slow && st == ARD_OK;
        pthread_mutex_unlock(&m->lock);
        if (st != ARD_OK) {
            return NULL;
        }
        if (b.seq >= LW_BATCHES) {
            ard_store_abandon(m->store, &b);
            return NULL;
        }
        b.targetid[0] = b.seq;
        ard_store_publish(m->store, &b, 1, 0, NULL);
    }
}

static void *lw_consumer(void *arg) {
    lw_ctx *m = arg;
    ard_store *c = NULL;
    if (ard_store_attach(m->store, &c, NULL) != ARD_OK) {
        return NULL;
    }
    ard_batch b;
    b.slot = -1;
    for (;;) {
        int64_t t0 = st_now_ms();
        ard_status st = ard_store_next(c, 20000, &b, NULL);
        int slow = st_now_ms() - t0 >= LW_SLOW_MS;
        pthread_mutex_lock(&m->lock);
        m->slow += slow && st == ARD_OK;
        if (st == ARD_OK && b.targetid[0] >= 0 && b.targetid[0] < LW_BATCHES) {
            m->counts[b.targetid[0]]++;
        }
        pthread_mutex_unlock(&m->lock);
        if (st != ARD_OK) {
            break;
        }
    }
    ard_store_close(c);
    return NULL;
}

static void test_no_lost_wakeups(void **state) {
    (void)state;
    ard_store_options o;
    st_ring_geometry(&o, 2);
    lw_ctx *m = ard_calloc(1, sizeof *m);
    assert_non_null(m);
    pthread_mutex_init(&m->lock, NULL);
    assert_int_equal(ard_store_create(&o, &m->store, NULL), ARD_OK);
    pthread_t prod[3], cons[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&cons[i], NULL, lw_consumer, m);
    }
    for (int i = 0; i < 3; i++) {
        pthread_create(&prod[i], NULL, lw_producer, m);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(prod[i], NULL);
    }
    ard_store_finish(m->store, ARD_OK, NULL);
    for (int i = 0; i < 2; i++) {
        pthread_join(cons[i], NULL);
    }
    for (int i = 0; i < LW_BATCHES; i++) {
        assert_int_equal(m->counts[i], 1);
    }
    /* A missed wake-up costs a whole poll period; scheduling on a loaded machine can cost a few. */
    print_message("lost-wake-up stress: %d of %d waits took >= %d ms\n", m->slow, 2 * LW_BATCHES,
                  LW_SLOW_MS);
    assert_true(m->slow <= LW_BATCHES / 50);
    ard_store_close(m->store);
    pthread_mutex_destroy(&m->lock);
    ard_free(m);
}

int st_ring_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credits_and_counts),
        cmocka_unit_test(test_spin_budget),
        cmocka_unit_test(test_sleeper_woken),
        cmocka_unit_test(test_lone_consumer_wakes_for_most_of_ring),
        cmocka_unit_test(test_wake_goal),
        cmocka_unit_test(test_wake_goal_rounding),
        cmocka_unit_test(test_poll_does_not_sleep),
        cmocka_unit_test(test_no_lost_wakeups),
    };
    return cmocka_run_group_tests_name("stream_ring", tests, NULL, NULL);
}
