/* bench_stream_loader DATASET THREADS BATCH [EPOCHS] [--cache] [--slots N]: end-to-end loader throughput
 * into an in-process consumer (the same path as `ard stream bench`), one JSON line per epoch with
 * spectra/s, the consumer's CPU time per batch (zero copy: should be near zero) and spectra per
 * CPU second of the producer threads (the process's CPU time less the consumer's). "wake" says
 * which ring wait/wake protocol ran (ARD_STORE_WAKE=legacy: the previous one).
 *
 * The consumer's CPU is split in two: each batch is first asked for without waiting
 * (ard_store_acquire with timeout 0); only when none is ready does the consumer block, and the CPU
 * of that blocking call (spin, futex sleep and wake) is "wait" CPU: what a consumer that outpaces
 * its producers pays for having nothing to do. The rest is the CPU per batch consumed (the
 * non-blocking take, the release and the loop). Reading the thread's CPU clock is itself a system
 * call, so it is read only around the blocking calls (its cost lands in the wait share).
 * --slots N sets prefetch_batches (the ring's depth); each line reports the ring's bytes
 * ("store_mb") and the process's peak RSS so far ("peak_rss_mb").
 *
 * Then an "ard-run" line sums the whole run (every figure of issue 16 item 1's C consumer: CPU per
 * batch over the run and in epoch 0, consumed and waiting shares, sleeps per batch, CPU per sleep
 * and the mean sleep's length; each epoch line also gives its first blocking call's CPU and length).
 * A last line ("tool": "sleep-floor") measures what any sleep costs the calling thread on this
 * machine, as a reference for the wait share: the thread's CPU per bare nanosleep() of the run's
 * mean blocking time (and of 1 ms), same process, after the stream. On a virtual machine a sleep
 * and wake-up can cost tens of microseconds of the sleeper's CPU whatever the code around it does,
 * so waits per batch times this floor is the least a consumer that has to wait can pay.
 * Beside it, the same length slept on a process-shared condition variable (robust mutex,
 * CLOCK_MONOTONIC, as the store's) five ways, because who ends a sleep may change its price on a
 * virtual machine (a wake-up from another CPU is an inter-processor interrupt through the
 * hypervisor): "timed" ends by its own timeout, alone in the process and with another thread busy
 * (as a producer is); "woken" is ended by another thread's broadcast after that length, the waker
 * busy until then (as a producer that publishes) or asleep until then, while the sleeper's own
 * deadline is 1 s away (as the consumer's liveness poll); and woken by a busy thread pinned with the
 * sleeper to one CPU ("same_cpu": that CPU never idles, as when every CPU runs a producer). Each
 * figure is the sleeper's thread CPU per sleep (mean of 12) and its voluntary context switches
 * per sleep. */
#include "ard/stream.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* CPU seconds of the whole process (producer threads + consumer). */
static double process_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

/* Voluntary context switches of the calling thread: each is one time it went to sleep. */
static long thread_sleeps(void) {
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_nvcsw;
}

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The 1-minute load average (0 when /proc/loadavg cannot be read). */
static double load1(void) {
    double v = 0;
    FILE *fp = fopen("/proc/loadavg", "r");
    if (fp) {
        if (fscanf(fp, "%lf", &v) != 1) {
            v = 0;
        }
        fclose(fp);
    }
    return v;
}

/* The calling thread's CPU microseconds per nanosleep() of `seconds` (mean of 16; 0 when 0). */
static double sleep_cpu_us(double seconds) {
    if (seconds <= 0) {
        return 0.0;
    }
    struct timespec d = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < 16; i++) {
        nanosleep(&d, NULL);
    }
    return (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) / 16.0 * 1e6;
}

/* ---- the woken and timed floors ---- */

enum { FLOOR_REPS = 12 };
enum { WAKER_NONE = 0, WAKER_BUSY_SPIN = 1, WAKER_BUSY_WAKE = 2, WAKER_IDLE_WAKE = 3 };

typedef struct floor_ctx {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int64_t round;     /* under lock: rounds the waker has ended */
    int64_t start_ns;  /* CLOCK_MONOTONIC of round 0's start */
    int64_t length_ns; /* each round's length */
    int mode;
    int cpu;         /* >= 0: the waker runs on this CPU (the sleeper's, pinned too) */
    atomic_int stop; /* WAKER_BUSY_SPIN: spin until set */
} floor_ctx;

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec ts_of(int64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    return ts;
}

/* The other thread: spins (a busy producer), or ends each round with a broadcast at start + (i + 1)
 * x length, busy or asleep until then; the broadcast comes after the unlock, as a publish's. */
static void *floor_waker(void *arg) {
    floor_ctx *f = arg;
    volatile uint64_t work = 0;
    if (f->cpu >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(f->cpu, &one);
        pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    }
    if (f->mode == WAKER_BUSY_SPIN) {
        while (!atomic_load(&f->stop)) {
            work++;
        }
        return NULL;
    }
    for (int64_t i = 0; i < FLOOR_REPS; i++) {
        int64_t at = f->start_ns + (i + 1) * f->length_ns;
        if (f->mode == WAKER_BUSY_WAKE) {
            while (mono_ns() < at) {
                work++;
            }
        } else {
            struct timespec ts = ts_of(at);
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
            }
        }
        pthread_mutex_lock(&f->lock);
        f->round = i + 1;
        pthread_mutex_unlock(&f->lock);
        pthread_cond_broadcast(&f->cv);
    }
    return NULL;
}

/* The sleeper's (calling thread's) CPU us and voluntary switches per sleep of `seconds` on a
 * process-shared condition variable: ended by its own timeout (WAKER_NONE: alone; WAKER_BUSY_SPIN:
 * another thread busy meanwhile) or by the other thread's broadcast (WAKER_BUSY_WAKE,
 * WAKER_IDLE_WAKE; the sleeper's deadline 1 s away). same_cpu: both threads pinned to the CPU the
 * sleeper is on (its CPU then never idles while it sleeps), the sleeper's mask restored after.
 * 0 when seconds is 0 or a thread fails. */
static double cond_sleep_cpu_us(double seconds, int mode, int same_cpu, double *switches) {
    *switches = 0;
    if (seconds <= 0) {
        return 0.0;
    }
    floor_ctx f;
    memset(&f, 0, sizeof f);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&f.lock, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f.cv, &ca);
    pthread_condattr_destroy(&ca);
    f.length_ns = (int64_t)(seconds * 1e9);
    f.mode = mode;
    f.cpu = -1;
    cpu_set_t saved;
    if (same_cpu && pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu(), &one);
        if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0) {
            f.cpu = sched_getcpu();
        }
    }
    f.start_ns = mono_ns() + 2000000; /* the waker is running before round 0 starts */
    pthread_t t;
    if (mode != WAKER_NONE && pthread_create(&t, NULL, floor_waker, &f) != 0) {
        return 0.0;
    }
    struct timespec ts = ts_of(f.start_ns);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
    long s0 = thread_sleeps();
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    pthread_mutex_lock(&f.lock);
    for (int64_t i = 0; i < FLOOR_REPS; i++) {
        if (mode == WAKER_NONE || mode == WAKER_BUSY_SPIN) {
            struct timespec d = ts_of(mono_ns() + f.length_ns);
            while (pthread_cond_timedwait(&f.cv, &f.lock, &d) == 0) {
            }
        } else {
            struct timespec d = ts_of(mono_ns() + 1000000000);
            while (f.round <= i && pthread_cond_timedwait(&f.cv, &f.lock, &d) == 0) {
            }
        }
    }
    pthread_mutex_unlock(&f.lock);
    double cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    *switches = (double)(thread_sleeps() - s0) / FLOOR_REPS;
    if (mode != WAKER_NONE) {
        atomic_store(&f.stop, 1);
        pthread_join(t, NULL);
    }
    if (f.cpu >= 0) {
        pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    }
    pthread_cond_destroy(&f.cv);
    pthread_mutex_destroy(&f.lock);
    return cpu / FLOOR_REPS * 1e6;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(
            stderr,
            "usage: bench_stream_loader DATASET THREADS BATCH [EPOCHS] [--cache] [--slots N]\n");
        return 2;
    }
    ard_loader_options o;
    ard_loader_options_init(&o);
    o.threads = (int32_t)strtol(argv[2], NULL, 10);
    o.batch_size = (int32_t)strtol(argv[3], NULL, 10);
    o.epochs = argc > 4 ? (int32_t)strtol(argv[4], NULL, 10) : 1;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--cache") == 0) {
            o.cache = 1;
        } else if (strcmp(argv[i], "--slots") == 0 && i + 1 < argc) {
            o.prefetch_batches = (int32_t)strtol(argv[++i], NULL, 10);
        }
    }
    /* ARD_STORE_WAKE=legacy: the ring's previous wait/wake protocol, for old-vs-new in one run */
    const char *wake = getenv("ARD_STORE_WAKE");
    wake = wake && strcmp(wake, "legacy") == 0 ? "legacy" : "new";
    ard_error err;
    ard_error_init(&err);
    ard_loader *l = NULL;
    ard_store *c = NULL;
    if (ard_loader_new_dataset(&o, argv[1], &l, &err) != ARD_OK ||
        ard_store_attach(ard_loader_store(l), &c, &err) != ARD_OK ||
        ard_loader_start(l, &err) != ARD_OK) {
        fprintf(stderr, "bench_stream_loader: %s\n", err.msg);
        return 1;
    }
    int32_t epoch = 0;
    int64_t batches = 0, spectra = 0;
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    double p0 = process_cpu_s();
    long s0 = thread_sleeps();
    volatile float sink = 0;
    ard_batch b;
    ard_status st;
    double wait_cpu = 0, wait_wall_all = 0;
    int64_t waits = 0, waits_all = 0;
    /* whole-run sums for the "ard-run" line; the first blocking call of each epoch (in epoch 0:
     * the start-up wait, while files are opened and the producers' pace is not known yet) */
    double cpu_all = 0, wait_cpu_all = 0, epoch0_us = 0, first_cpu = -1, first_ms = 0;
    int64_t batches_all = 0, spectra_all = 0;
    double run_t0 = clock_s(CLOCK_MONOTONIC);
    for (;;) {
        st = ard_store_acquire(c, 0, &b, &err);
        if (st == ARD_ELIMIT) { /* nothing ready: block, and count that CPU as waiting */
            double w0 = clock_s(CLOCK_THREAD_CPUTIME_ID), ww0 = clock_s(CLOCK_MONOTONIC);
            st = ard_store_acquire(c, -1, &b, &err);
            double wc = clock_s(CLOCK_THREAD_CPUTIME_ID) - w0, ww = clock_s(CLOCK_MONOTONIC) - ww0;
            wait_cpu += wc;
            wait_wall_all += ww;
            if (first_cpu < 0) {
                first_cpu = wc;
                first_ms = ww * 1e3;
            }
            waits++;
            waits_all++;
        }
        if (st != ARD_OK || b.epoch != epoch) {
            double t = clock_s(CLOCK_MONOTONIC) - t0, cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
            double producers = process_cpu_s() - p0 - cpu;
            long switches = thread_sleeps() - s0;
            printf(
                "{\"tool\": \"ard\", \"wake\": \"%s\", \"threads\": %d, \"epoch\": %d, "
                "\"cache\": %d, "
                "\"batches\": %lld, \"spectra\": %lld, \"seconds\": %.4f, \"spectra_per_s\": %.1f, "
                "\"batches_per_s\": %.2f, \"consumer_cpu_us_per_batch\": %.2f, "
                "\"consumer_ready_cpu_us_per_batch\": %.2f, "
                "\"consumer_wait_cpu_us_per_batch\": %.2f, \"waits_per_batch\": %.3f, "
                "\"wait_cpu_us_per_wait\": %.1f, "
                "\"producer_cpu_s\": %.3f, \"spectra_per_producer_cpu_s\": %.1f, "
                "\"slots\": %d, \"store_mb\": %.1f, \"peak_rss_mb\": %.1f, "
                "\"consumer_switches_per_wait\": %.2f, \"first_wait_cpu_us\": %.1f, "
                "\"first_wait_ms\": %.1f}\n",
                wake, o.threads, epoch, ard_loader_cache_active(l), (long long)batches,
                (long long)spectra, t, (double)spectra / t, (double)batches / t,
                batches ? cpu / (double)batches * 1e6 : 0.0,
                batches ? (cpu - wait_cpu) / (double)batches * 1e6 : 0.0,
                batches ? wait_cpu / (double)batches * 1e6 : 0.0,
                batches ? (double)waits / (double)batches : 0.0,
                waits ? wait_cpu / (double)waits * 1e6 : 0.0, producers,
                producers > 0 ? (double)spectra / producers : 0.0, ard_store_num_slots(c),
                (double)ard_store_size(c) / 1048576.0, peak_rss_mb(),
                waits ? (double)switches / (double)waits : 0.0,
                first_cpu > 0 ? first_cpu * 1e6 : 0.0, first_ms);
            if (epoch == 0) {
                epoch0_us = batches ? cpu / (double)batches * 1e6 : 0.0;
            }
            cpu_all += cpu;
            wait_cpu_all += wait_cpu;
            batches_all += batches;
            spectra_all += spectra;
            if (st != ARD_OK) {
                break;
            }
            first_cpu = -1;
            first_ms = 0;
            epoch = b.epoch;
            batches = spectra = waits = 0;
            wait_cpu = 0;
            t0 = clock_s(CLOCK_MONOTONIC);
            c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
            p0 = process_cpu_s();
            s0 = thread_sleeps();
        }
        batches++;
        spectra += b.count;
        sink += b.tokens[0];
        ard_store_release(c, &b, NULL);
    }
    (void)sink;
    ard_store_close(c);
    ard_loader_free(l);
    double run_s = clock_s(CLOCK_MONOTONIC) - run_t0;
    double mean_wait = waits_all ? wait_wall_all / (double)waits_all : 0.0;
    double nb = batches_all > 0 ? (double)batches_all : 1.0;
    printf("{\"tool\": \"ard-run\", \"wake\": \"%s\", \"threads\": %d, \"epochs\": %d, "
           "\"batches\": %lld, \"spectra_per_s\": %.1f, \"consumer_cpu_us_per_batch\": %.2f, "
           "\"epoch0_consumer_cpu_us_per_batch\": %.2f, \"consumed_cpu_us_per_batch\": %.2f, "
           "\"waiting_cpu_us_per_batch\": %.2f, \"sleeps_per_batch\": %.3f, "
           "\"cpu_us_per_sleep\": %.1f, \"mean_sleep_ms\": %.3f, \"load1\": %.2f}\n",
           wake, o.threads, epoch + 1, (long long)batches_all, (double)spectra_all / run_s,
           cpu_all / nb * 1e6, epoch0_us, (cpu_all - wait_cpu_all) / nb * 1e6,
           wait_cpu_all / nb * 1e6, (double)waits_all / nb,
           waits_all ? wait_cpu_all / (double)waits_all * 1e6 : 0.0, mean_wait * 1e3, load1());
    double bare = sleep_cpu_us(mean_wait), bare1 = sleep_cpu_us(1e-3), sw[5];
    double timed = cond_sleep_cpu_us(mean_wait, WAKER_NONE, 0, &sw[0]);
    double timed_busy = cond_sleep_cpu_us(mean_wait, WAKER_BUSY_SPIN, 0, &sw[1]);
    double woken_busy = cond_sleep_cpu_us(mean_wait, WAKER_BUSY_WAKE, 0, &sw[2]);
    double woken_idle = cond_sleep_cpu_us(mean_wait, WAKER_IDLE_WAKE, 0, &sw[3]);
    double woken_same = cond_sleep_cpu_us(mean_wait, WAKER_BUSY_WAKE, 1, &sw[4]);
    printf("{\"tool\": \"sleep-floor\", \"threads\": %d, \"mean_wait_ms\": %.3f, "
           "\"cpu_us_per_sleep_of_mean_wait\": %.1f, \"cpu_us_per_sleep_1ms\": %.1f, "
           "\"timed_cpu_us\": %.1f, \"timed_beside_busy_cpu_us\": %.1f, "
           "\"woken_by_busy_cpu_us\": %.1f, \"woken_by_idle_cpu_us\": %.1f, "
           "\"woken_by_busy_same_cpu_us\": %.1f, "
           "\"switches_per_sleep\": [%.2f, %.2f, %.2f, %.2f, %.2f], \"load1\": %.2f}\n",
           o.threads, mean_wait * 1e3, bare, bare1, timed, timed_busy, woken_busy, woken_idle,
           woken_same, sw[0], sw[1], sw[2], sw[3], sw[4], load1());
    return st == ARD_EEOF ? 0 : 1;
}
