/* Store tests: the slot protocol in one process, several producer and consumer threads (the
 * ThreadSanitizer target), several consumer processes (each batch exactly once), a consumer that
 * dies holding a slot (re-queued, producer not wedged), a producer that dies (consumers get
 * ARD_EIO, not a hang), backpressure, the memory cap, the permission checks and slots that are
 * mapped when first claimed. */
#include "st_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static void geometry(ard_store_options *o, const char *name, int32_t slots) {
    ard_store_options_init(o);
    o->name = name;
    o->slots = slots;
    o->batch_size = 4;
    o->num_patches = 3;
    o->patch = 32;
}

/* Producer side: one batch whose targetid[0] is its seq. */
static ard_status produce(ard_store *s, int64_t timeout_ms) {
    ard_batch b;
    ard_status st = ard_store_begin_fill(s, timeout_ms, &b, NULL);
    if (st != ARD_OK) {
        return st;
    }
    for (int i = 0; i < b.batch_size; i++) {
        b.targetid[i] = b.seq * 10 + i;
    }
    b.tokens[0] = (float)b.seq;
    return ard_store_publish(s, &b, b.batch_size, 0, NULL);
}

static void test_single_process(void **state) {
    (void)state;
    ard_store_options o;
    geometry(&o, NULL, 3);
    float wave[3] = {4000, 5000, 6000};
    o.wave = wave;
    ard_store *p = NULL, *c = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(p, &c, NULL), ARD_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(produce(p, 0), ARD_OK);
    }
    assert_int_equal(produce(p, 100), ARD_ELIMIT); /* backpressure: ring full */
    ard_batch b;
    for (int64_t i = 0; i < 5; i++) {
        assert_int_equal(ard_store_acquire(c, 1000, &b, NULL), ARD_OK);
        assert_int_equal(b.seq, i);
        assert_int_equal(b.targetid[3], i * 10 + 3);
        assert_true(b.wave[1] == 5000.0f);
        uint8_t *base = ard_store_base(c);
        assert_true((uint8_t *)b.tokens >= base && (uint8_t *)b.tokens < base + ard_store_size(c));
        assert_int_equal(ard_store_release(c, &b, NULL), ARD_OK);
        assert_int_equal(ard_store_release(c, &b, NULL), ARD_EINVAL); /* twice */
        if (i < 2) {
            assert_int_equal(produce(p, 0), ARD_OK);
        }
    }
    assert_int_equal(ard_store_acquire(c, 100, &b, NULL), ARD_ELIMIT); /* nothing yet */
    ard_store_finish(p, ARD_OK, NULL);
    assert_int_equal(ard_store_acquire(c, 1000, &b, NULL), ARD_EEOF);
    assert_int_equal(produce(p, 0), ARD_EEOF);
    ard_store_close(p);
    assert_int_equal(ard_store_acquire(c, 1000, &b, NULL), ARD_EEOF);
    ard_store_close(c);
}

#define MT_BATCHES 400
typedef struct mt_ctx {
    ard_store *store;
    int counts[MT_BATCHES];
    pthread_mutex_t lock;
} mt_ctx;

static void *mt_producer(void *arg) {
    mt_ctx *m = arg;
    for (;;) {
        ard_batch b;
        if (ard_store_begin_fill(m->store, -1, &b, NULL) != ARD_OK) {
            return NULL;
        }
        if (b.seq >= MT_BATCHES) {
            ard_store_abandon(m->store, &b);
            return NULL;
        }
        for (int i = 0; i < b.batch_size * b.num_patches * b.patch; i++) {
            b.tokens[i] = (float)b.seq;
        }
        b.targetid[0] = b.seq;
        ard_store_publish(m->store, &b, 1, 0, NULL);
    }
}

static void *mt_consumer(void *arg) {
    mt_ctx *m = arg;
    ard_store *c = NULL;
    if (ard_store_attach(m->store, &c, NULL) != ARD_OK) {
        return NULL;
    }
    ard_batch b;
    while (ard_store_acquire(c, 10000, &b, NULL) == ARD_OK) {
        int ok = 1;
        for (int i = 0; i < b.batch_size * b.num_patches * b.patch; i++) {
            ok &= b.tokens[i] == (float)b.seq;
        }
        pthread_mutex_lock(&m->lock);
        m->counts[b.targetid[0]] += ok ? 1 : 1000;
        pthread_mutex_unlock(&m->lock);
        ard_store_release(c, &b, NULL);
    }
    ard_store_close(c);
    return NULL;
}

/* ard_store_next: releases the held batch and takes the next (the same sequence as acquire and
 * release), leaves nothing held at the end of data, and refuses a batch it does not hold. */
static void test_next(void **state) {
    (void)state;
    ard_store_options o;
    geometry(&o, NULL, 2);
    ard_store *p = NULL, *c = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(ard_store_attach(p, &c, NULL), ARD_OK);
    ard_batch b;
    memset(&b, 0, sizeof b);
    b.slot = -1;
    for (int64_t i = 0; i < 5; i++) {
        assert_int_equal(produce(p, 1000), ARD_OK); /* 2 slots: only free after each next */
        assert_int_equal(ard_store_next(c, 1000, &b, NULL), ARD_OK);
        assert_int_equal(b.seq, i);
        assert_true(b.targetid[0] == i * 10 && b.tokens[0] == (float)i);
        assert_int_equal(ard_store_held(p), 1);
    }
    ard_batch stale = b;
    stale.seq = 99; /* not what this handle holds: refused, nothing acquired */
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_store_next(c, 0, &stale, &err), ARD_EINVAL);
    assert_int_equal(ard_store_held(p), 1);
    assert_int_equal(ard_store_next(c, 0, NULL, &err), ARD_EINVAL);
    ard_store_finish(p, ARD_OK, NULL);
    assert_int_equal(ard_store_next(c, 1000, &b, NULL), ARD_EEOF);
    assert_int_equal(b.slot, -1);
    assert_int_equal(ard_store_held(p), 0);
    ard_store_close(c);
    ard_store_close(p);
}

static void test_threads(void **state) {
    (void)state;
    ard_store_options o;
    geometry(&o, NULL, 4);
    mt_ctx m;
    memset(&m, 0, sizeof m);
    pthread_mutex_init(&m.lock, NULL);
    assert_int_equal(ard_store_create(&o, &m.store, NULL), ARD_OK);
    pthread_t prod[3], cons[3];
    for (int i = 0; i < 3; i++) {
        pthread_create(&cons[i], NULL, mt_consumer, &m);
    }
    for (int i = 0; i < 3; i++) {
        pthread_create(&prod[i], NULL, mt_producer, &m);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(prod[i], NULL);
    }
    ard_store_finish(m.store, ARD_OK, NULL);
    for (int i = 0; i < 3; i++) {
        pthread_join(cons[i], NULL);
    }
    for (int i = 0; i < MT_BATCHES; i++) {
        assert_int_equal(m.counts[i], 1);
    }
    ard_store_close(m.store);
    pthread_mutex_destroy(&m.lock);
}

/* Child: connect, count every batch into shared counters, exit 0 at the end of data. */
static void consumer_child(const char *name, int *counts, int max, int hold_and_die) {
    ard_store *c = NULL;
    if (ard_store_connect(name, &c, NULL) != ARD_OK) {
        _exit(3);
    }
    ard_batch b;
    ard_status st;
    while ((st = ard_store_acquire(c, 20000, &b, NULL)) == ARD_OK) {
        if (hold_and_die) {
            kill(getpid(), SIGKILL); /* dies holding the slot */
        }
        if (b.targetid[0] >= 0 && b.targetid[0] / 10 < max) {
            __atomic_fetch_add(&counts[b.targetid[0] / 10], 1, __ATOMIC_SEQ_CST);
        }
        usleep(1000);
        ard_store_release(c, &b, NULL);
    }
    ard_store_close(c);
    _exit(st == ARD_EEOF ? 0 : 4);
}

static void test_consumer_processes(void **state) {
    (void)state;
    char name[64];
    st_shm_name(name, sizeof name);
    ard_store_options o;
    geometry(&o, name, 3);
    ard_store *p = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    enum { N = 60 };
    int *counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(counts, 0, 4096);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(produce(p, 0), ARD_OK);
    }
    pid_t dying = fork();
    if (dying == 0) {
        consumer_child(name, counts, N, 1); /* takes batch 0 and dies holding it */
    }
    int status = 0;
    waitpid(dying, &status, 0);
    int killed = WIFSIGNALED(status);
    assert_int_equal(ard_store_held(p), 1);
    pid_t kids[3];
    for (int k = 0; k < 3; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            consumer_child(name, counts, N, 0);
        }
    }
    for (int i = 3; i < N; i++) {
        assert_int_equal(produce(p, 20000), ARD_OK); /* never wedged by the dead consumer */
    }
    ard_store_finish(p, ARD_OK, NULL);
    for (int k = 0; k < 3; k++) {
        waitpid(kids[k], &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_true(killed);
    for (int i = 0; i < N; i++) {
        assert_int_equal(counts[i], 1); /* the dead consumer's batch was re-delivered */
    }
    assert_int_equal(ard_store_held(p), 0);
    munmap(counts, 4096);
    ard_store_close(p);
}

static void test_dead_producer(void **state) {
    (void)state;
    char name[64];
    st_shm_name(name, sizeof name);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t kid = fork();
    if (kid == 0) {
        ard_store_options o;
        geometry(&o, name, 2);
        ard_store *p = NULL;
        if (ard_store_create(&o, &p, NULL) != ARD_OK || produce(p, 0) != ARD_OK) {
            _exit(3);
        }
        char c = 'x';
        if (write(pipefd[1], &c, 1) != 1) {
            _exit(3);
        }
        pause(); /* killed by the parent, still "producing" */
        _exit(0);
    }
    char c;
    assert_int_equal(read(pipefd[0], &c, 1), 1);
    ard_store *s = NULL;
    assert_int_equal(ard_store_connect(name, &s, NULL), ARD_OK);
    ard_batch b;
    assert_int_equal(ard_store_acquire(s, 5000, &b, NULL), ARD_OK);
    assert_int_equal(ard_store_release(s, &b, NULL), ARD_OK);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_store_acquire(s, 10000, &b, &err), ARD_EIO); /* not a hang */
    assert_non_null(strstr(err.msg, "died"));
    ard_store_close(s);
    /* the name of the dead producer's store can be taken over */
    ard_store_options o;
    geometry(&o, name, 2);
    ard_store *p2 = NULL;
    assert_int_equal(ard_store_create(&o, &p2, NULL), ARD_OK);
    ard_store_close(p2);
    close(pipefd[0]);
    close(pipefd[1]);
}

static void test_name_taken(void **state) {
    (void)state;
    char name[64];
    st_shm_name(name, sizeof name);
    ard_store_options o;
    geometry(&o, name, 2);
    ard_store *p = NULL, *p2 = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    pid_t kid = fork();
    if (kid == 0) {
        _exit(ard_store_create(&o, &p2, NULL) == ARD_EEXIST ? 0 : 1);
    }
    int status = 0;
    waitpid(kid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ard_store_close(p);
}

/* Pages resident in [p, p + len), rounded out to whole pages. */
static size_t resident_pages(const void *p, size_t len, size_t *pages) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = (uintptr_t)p - (uintptr_t)p % page;
    *pages = (size_t)(((uintptr_t)p + len - first + page - 1) / page);
    unsigned char *vec = malloc(*pages);
    assert_non_null(vec);
    assert_int_equal(mincore((void *)first, *pages * page, vec), 0);
    size_t resident = 0;
    for (size_t i = 0; i < *pages; i++) {
        resident += vec[i] & 1;
    }
    free(vec);
    return resident;
}

/* A slot's pages are mapped when a producer first claims it (not faulted in one by one as it
 * writes); a named store's shm object holds all of its blocks from creation. */
static void test_slot_resident(void **state) {
    (void)state;
    char name[64];
    st_shm_name(name, sizeof name);
    const char *names[2] = {NULL, name};
    for (int k = 0; k < 2; k++) {
        ard_store_options o;
        geometry(&o, names[k], 6);
        o.batch_size = 64;
        ard_store *p = NULL;
        assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
        if (names[k]) {
            char path[128];
            snprintf(path, sizeof path, "/dev/shm/%s", name);
            struct stat sb;
            assert_int_equal(stat(path, &sb), 0);
            assert_true((int64_t)sb.st_blocks * 512 >= ard_store_size(p));
        }
        for (int i = 0; i < 2; i++) {
            ard_batch b;
            assert_int_equal(ard_store_begin_fill(p, 0, &b, NULL), ARD_OK);
            size_t pages = 0;
            size_t slot = (size_t)ard_store_slot_bytes(64, 3, 32);
            size_t resident = resident_pages(b.tokens, slot, &pages);
            assert_int_equal(resident, pages);
            assert_true(pages >= 6);
            assert_int_equal(ard_store_publish(p, &b, 1, 0, NULL), ARD_OK);
        }
        ard_store_close(p);
    }
}

static void test_memory_cap(void **state) {
    (void)state;
    ard_store_options o;
    char name[64];
    st_shm_name(name, sizeof name);
    geometry(&o, name, 10);
    o.batch_size = 64;
    int64_t slot = ard_store_slot_bytes(64, 3, 32);
    assert_true(slot >= 64 * 3 * 32 * 4);
    o.memory_cap = 4 * slot + 8192;
    ard_store *p = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_true(ard_store_size(p) <= o.memory_cap);
    assert_true(ard_store_num_slots(p) >= 3 && ard_store_num_slots(p) <= 4);
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size <= o.memory_cap); /* the shm object itself respects the cap */
    assert_int_equal((int)(sb.st_mode & 0777), 0600);
    ard_store_close(p);
    o.memory_cap = slot / 2;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_ELIMIT);
    assert_null(p);
}

static void test_permissions(void **state) {
    (void)state;
    char name[64], path[128];
    st_shm_name(name, sizeof name);
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    ard_store_options o;
    geometry(&o, name, 2);
    ard_store *p = NULL, *c = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_OK);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(ard_store_connect(name, &c, NULL), ARD_EPERM);
    assert_int_equal(chmod(path, 0600), 0);
    if (geteuid() == 0) {
        assert_int_equal(chown(path, 65534, 65534), 0); /* another user's store */
        assert_int_equal(ard_store_connect(name, &c, NULL), ARD_EPERM);
        assert_int_equal(chown(path, 0, 0), 0);
    }
    assert_int_equal(ard_store_connect(name, &c, NULL), ARD_OK);
    ard_store_close(c);
    ard_store_close(p);
    assert_int_equal(ard_store_connect(name, &c, NULL), ARD_ENOENT);
    assert_int_equal(ard_store_connect("bad/name", &c, NULL), ARD_EINVAL);
    /* a shm object that is not a store: ECORRUPT; an all-zero one is what a store looks like
     * between its creation and its header (the magic is written last): ENOENT, "retry" */
    int fd = shm_open("/ardtest-notastore", O_CREAT | O_RDWR, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 65536), 0);
    assert_int_equal(ard_store_connect("ardtest-notastore", &c, NULL), ARD_ENOENT);
    static const char junk[16] = "not an ard store";
    assert_int_equal(pwrite(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
    close(fd);
    assert_int_equal(ard_store_connect("ardtest-notastore", &c, NULL), ARD_ECORRUPT);
    shm_unlink("/ardtest-notastore");
}

static void test_bad_geometry(void **state) {
    (void)state;
    ard_store_options o;
    geometry(&o, NULL, 2);
    o.batch_size = 0;
    ard_store *p = NULL;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_EINVAL);
    geometry(&o, "has space", 2);
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_EINVAL);
    assert_null(p);
    geometry(&o, NULL, 4000); /* 4000 slots of 1M x 64 x 128 floats: refused, never mapped */
    o.batch_size = 1 << 20;
    o.num_patches = 64;
    o.patch = 128;
    assert_int_equal(ard_store_create(&o, &p, NULL), ARD_ELIMIT);
    assert_null(p);
}

int st_store_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_process), cmocka_unit_test(test_next),
        cmocka_unit_test(test_threads),        cmocka_unit_test(test_consumer_processes),
        cmocka_unit_test(test_dead_producer),  cmocka_unit_test(test_name_taken),
        cmocka_unit_test(test_memory_cap),     cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_bad_geometry),   cmocka_unit_test(test_slot_resident),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
