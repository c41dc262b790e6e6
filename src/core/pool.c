/* Thread pool: persistent pthread workers that run parallel-for loops. Indices are handed out by an
 * atomic counter (so they are taken in increasing order and each exactly once); the calling thread
 * works too, as thread 0, and ard_pool_for returns when every index has finished. */
#include "ard/core.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct pool_worker {
    ard_pool *pool;
    pthread_t thread;
    int id;
} pool_worker;

struct ard_pool {
    int threads; /* including the caller */
    int started; /* worker threads actually running */
    pool_worker *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* a new loop or shutdown */
    pthread_cond_t finished; /* a worker finished its share */
    uint64_t generation;     /* bumped for every loop */
    int workers_done;
    int shutdown;
    /* the current loop */
    ard_task_fn fn;
    void *arg;
    int64_t count;
    atomic_int_fast64_t next;
};

static void run_share(ard_pool *pool, int thread_id) {
    for (;;) {
        int64_t i = atomic_fetch_add(&pool->next, 1);
        if (i >= pool->count) {
            return;
        }
        pool->fn(pool->arg, i, thread_id);
    }
}

static void *worker_main(void *opaque) {
    pool_worker *w = opaque;
    ard_pool *pool = w->pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->shutdown && pool->generation == seen) {
            pthread_cond_wait(&pool->wake, &pool->lock);
        }
        if (pool->shutdown) {
            break;
        }
        seen = pool->generation;
        pthread_mutex_unlock(&pool->lock);
        run_share(pool, w->id);
        pthread_mutex_lock(&pool->lock);
        pool->workers_done++;
        pthread_cond_signal(&pool->finished);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1024 ? 1024 : (int)n);
}

static ard_status start_workers(ard_pool *pool, ard_error *err) {
    int want = pool->threads - 1;
    pool->workers = ard_calloc((size_t)(want > 0 ? want : 1), sizeof *pool->workers);
    if (!pool->workers) {
        return ard_error_set(err, ARD_ENOMEM, "thread pool: out of memory");
    }
    for (int i = 0; i < want; i++) {
        pool_worker *w = &pool->workers[i];
        w->pool = pool;
        w->id = i + 1;
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) {
            return ard_error_set_errno(err, ARD_ELIMIT, rc, "thread pool: starting thread %d",
                                       i + 1);
        }
        pool->started++;
    }
    return ARD_OK;
}

ard_status ard_pool_new(int threads, ard_pool **out, ard_error *err) {
    *out = NULL;
    ard_pool *pool = ard_calloc(1, sizeof *pool);
    if (!pool) {
        return ard_error_set(err, ARD_ENOMEM, "thread pool: out of memory");
    }
    pool->threads = threads > 0 ? threads : online_cpus();
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->finished, NULL);
    atomic_init(&pool->next, 0);
    ard_status st = start_workers(pool, err);
    if (st != ARD_OK) {
        ard_pool_free(pool);
        return st;
    }
    *out = pool;
    return ARD_OK;
}

int ard_pool_threads(const ard_pool *pool) {
    return pool->threads;
}

void ard_pool_for(ard_pool *pool, int64_t count, ard_task_fn fn, void *arg) {
    if (count <= 0) {
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->arg = arg;
    pool->count = count;
    atomic_store(&pool->next, 0);
    pool->workers_done = 0;
    pool->generation++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);

    run_share(pool, 0);

    pthread_mutex_lock(&pool->lock);
    while (pool->workers_done < pool->started) {
        pthread_cond_wait(&pool->finished, &pool->lock);
    }
    pool->fn = NULL;
    pool->arg = NULL;
    pthread_mutex_unlock(&pool->lock);
}

void ard_pool_free(ard_pool *pool) {
    if (!pool) {
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->shutdown = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->started; i++) {
        pthread_join(pool->workers[i].thread, NULL);
    }
    pthread_cond_destroy(&pool->finished);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    ard_free(pool->workers);
    ard_free(pool);
}
