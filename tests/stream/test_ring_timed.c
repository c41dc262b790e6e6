/* The lone consumer's timed sleep (store_ring.c, opt-in through a handle's `timed_sleep`): it
 * sleeps on its own timer until the producers' pace says its goal is ready, the producers' wake-up
 * held back to the full ring. Every batch still arrives in order when the pace is right and when
 * the prediction is wrong by a lot either way (too early: woken with nothing, it sleeps again until
 * the producers wake it; too late: the full ring wakes it), and the end, a failure and the
 * stream's last batch wake it at once, long before its timer or its 1 s liveness poll. */
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

/* Makes the producers' pace look like one publish every gap_ms, the last one just now. */
static void force_pace(store_header *h, int64_t gap_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ard__robust_lock(&h->lock);
    h->last_publish_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    h->publish_gap_ns = gap_ms * 1000000;
    pthread_mutex_unlock(&h->lock);
}

/* A producer publishing `n` batches, batch i after gap_ms[i * 4 / n] ms (four phases), then
 * ending the stream; it counts the publishes that found the consumer asleep on its own timer. */
typedef struct paced {
    ard_store *p;
    int n;
    int gap_ms[4];
    int saw_timed;
} paced;

static void *paced_main(void *arg) {
    paced *q = arg;
    store_header *h = q->p->map->h;
    for (int i = 0; i < q->n; i++) {
        usleep((useconds_t)q->gap_ms[i * 4 / q->n] * 1000);
        ard_batch b;
        assert_int_equal(ard_store_begin_fill(q->p, 10000, &b, NULL), ARD_OK);
        b.targetid[0] = b.seq;
        q->saw_timed += st_locked_read(h, &h->wake_timed) && st_locked_read(h, &h->filled_waiters);
        assert_int_equal(ard_store_publish(q->p, &b, b.batch_size, 0, NULL), ARD_OK);
    }
    ard_store_finish(q->p, ARD_OK, NULL); /* as a loader does: the end wakes the last wait */
    return NULL;
}

/* Consumes `n` batches as a trainer does (ard_store_next: only what is ready, else a blocking
 * wait), forcing the pace the consumer sees before each blocking wait when force_ms > 0. Every
 * batch in order; returns the number of blocking waits and the longest one in *longest_ms. */
static int consume(ard_store *c, int n, int64_t force_ms, int64_t *longest_ms) {
    store_header *h = c->map->h;
    ard_batch b;
    b.slot = -1;
    int waits = 0;
    *longest_ms = 0;
    for (int64_t next = 0; next < n; next++) {
        ard_status st = ard_store_next(c, 0, &b, NULL);
        if (st == ARD_ELIMIT) {
            if (force_ms > 0) {
                force_pace(h, force_ms);
            }
            int64_t t0 = st_now_ms();
            st = ard_store_acquire(c, 10000, &b, NULL);
            int64_t took = st_now_ms() - t0;
            *longest_ms = took > *longest_ms ? took : *longest_ms;
            waits++;
        }
        assert_int_equal(st, ARD_OK);
        assert_int_equal(b.targetid[0], next);
    }
    assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
    return waits;
}

/* An 8-slot store and its consumer, which sleeps timed. */
static void timed_pair(ard_store **p, ard_store **c) {
    ard_store_options o;
    st_ring_geometry(&o, 8);
    assert_int_equal(ard_store_create(&o, p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(*p, c, NULL), ARD_OK);
    (*c)->timed_sleep = 1;
}

/* Right pace (a publish every 20 ms, 8 slots: goal 7, the full ring at 8): the consumer sleeps on
 * its timer (the producer sees it so) and wakes about once per 7 batches. */
static void test_timed_paced(void **state) {
    (void)state;
    ard_store *p = NULL, *c = NULL;
    timed_pair(&p, &c);
    paced q = {p, 40, {20, 20, 20, 20}, 0};
    pthread_t t;
    pthread_create(&t, NULL, paced_main, &q);
    int64_t longest;
    int waits = consume(c, 40, 0, &longest);
    pthread_join(t, NULL);
    print_message("timed, right pace: %d waits for 40 batches, %d publishes saw a timed sleeper\n",
                  waits, q.saw_timed);
    assert_true(q.saw_timed > 0);
    assert_true(waits <= 12); /* woken per batch it would be ~40 */
    assert_int_equal(st_locked_read(c->map->h, &c->map->h->wake_timed), 0);
    ard_store_close(c);
    ard_store_close(p);
}

/* Wrong by a lot either way: the consumer is told a publish every 1 ms while the producer takes
 * 30 ms (its timer fires with nothing ready; it sleeps again and the producers wake it), then
 * every 600 ms while the producer takes 3 ms (predicted ~4.5 s away; the full ring wakes it long
 * before that and before the 1 s liveness poll). Every batch in order either way. */
static void test_timed_wrong_pace(void **state) {
    (void)state;
    int64_t told[2] = {1, 600};
    int real[2] = {30, 3};
    for (int k = 0; k < 2; k++) {
        ard_store *p = NULL, *c = NULL;
        timed_pair(&p, &c);
        paced q = {p, 30, {real[k], real[k], real[k], real[k]}, 0};
        pthread_t t;
        pthread_create(&t, NULL, paced_main, &q);
        int64_t longest;
        int waits = consume(c, 30, told[k], &longest);
        pthread_join(t, NULL);
        print_message("timed, told %lld ms, real %d ms: %d waits, longest %lld ms\n",
                      (long long)told[k], real[k], waits, (long long)longest);
        if (k == 1) {
            assert_true(q.saw_timed > 0);
            assert_true(longest < 800); /* the full ring, not the timer (4.5 s) nor the poll */
        }
        ard_store_close(c);
        ard_store_close(p);
    }
}

/* Starts a consumer asleep on its own timer (pace: a publish every 600 ms, so ~4.5 s away) and
 * returns once it sleeps so. */
static void start_timed_sleeper(ard_store *p, st_sleeper *s, pthread_t *t) {
    store_header *h = p->map->h;
    assert_int_equal(ard_store_attach(p, &s->c, NULL), ARD_OK);
    s->c->timed_sleep = 1;
    force_pace(h, 600);
    pthread_create(t, NULL, st_sleeper_main, s);
    assert_int_equal(st_wait_nonzero(h, &h->wake_timed), 1);
}

/* The end, a failure and the stream's last batch wake a timed st_sleeper at once: well within the
 * 1 s liveness poll, let alone its ~4.5 s timer. */
static void test_timed_end_failure_last(void **state) {
    (void)state;
    for (int k = 0; k < 3; k++) {
        ard_store_options o;
        st_ring_geometry(&o, 8);
        ard_store *p = NULL;
        assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
        store_header *h = p->map->h;
        if (k == 2) { /* three batches left in the stream: the goal is 3 */
            ard__robust_lock(&h->lock);
            h->end_seq = 3;
            pthread_mutex_unlock(&h->lock);
        }
        st_sleeper s = {0};
        pthread_t t;
        start_timed_sleeper(p, &s, &t);
        if (k == 0) {
            ard_store_finish(p, ARD_OK, NULL);
        } else if (k == 1) {
            ard_store_finish(p, ARD_EIO, "producer failed");
        } else {
            for (int i = 0; i < 3; i++) {
                assert_int_equal(st_produce(p, 0), ARD_OK);
            }
        }
        pthread_join(t, NULL);
        ard_status want[3] = {ARD_EEOF, ARD_EIO, ARD_OK};
        assert_int_equal(s.st, want[k]);
        print_message("timed sleeper, case %d: woken after %lld ms\n", k, (long long)s.took_ms);
        assert_true(s.took_ms < 600);
        ard_store_close(s.c);
        ard_store_close(p);
    }
}

/* A second consumer that goes to sleep while a timed sleeper sleeps clears the timed sleep (two
 * consumers share the ready batches: each publish must wake them): the next two publishes give
 * each of them a batch at once. */
static void test_timed_second_consumer(void **state) {
    (void)state;
    ard_store_options o;
    st_ring_geometry(&o, 8);
    ard_store *p = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    store_header *h = p->map->h;
    st_sleeper a = {0}, b = {0};
    pthread_t ta, tb;
    start_timed_sleeper(p, &a, &ta);
    assert_int_equal(ard_store_attach(p, &b.c, NULL), ARD_OK);
    pthread_create(&tb, NULL, st_sleeper_main, &b);
    assert_int_equal(st_wait_nonzero(h, &h->filled_waiters) >= 1, 1);
    while (st_locked_read(h, &h->filled_waiters) < 2) {
        usleep(1000);
    }
    assert_int_equal(st_locked_read(h, &h->wake_timed), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(st_produce(p, 0), ARD_OK);
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.st, ARD_OK);
    assert_int_equal(b.st, ARD_OK);
    assert_int_equal(a.seq + b.seq, 1); /* batches 0 and 1, one each */
    print_message("two consumers: woken after %lld and %lld ms\n", (long long)a.took_ms,
                  (long long)b.took_ms);
    assert_true(a.took_ms < 900 && b.took_ms < 900); /* the publishes, not the 1 s poll */
    ard_store_close(a.c);
    ard_store_close(b.c);
    ard_store_close(p);
}

int st_ring_timed_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timed_paced),
        cmocka_unit_test(test_timed_wrong_pace),
        cmocka_unit_test(test_timed_end_failure_last),
        cmocka_unit_test(test_timed_second_consumer),
    };
    return cmocka_run_group_tests_name("stream_ring_timed", tests, NULL, NULL);
}
