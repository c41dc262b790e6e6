/* Zero-copy column chunks that survive truncation: a read-only mapping of a chunk's bytes, guarded
 * against SIGBUS.
 *
 * A mapped tile that another process truncates while it is read makes the next access past the new
 * end of file raise SIGBUS, which kills the process by default (issue 15). Reading chunks with
 * pread instead avoids the fault but costs a copy of every chunk (decode 5.2 -> 0.7 GB/s measured).
 * Here chunks stay mapped and a process-wide SIGBUS handler, installed once, recognises a fault
 * inside a registered chunk mapping: it records the faulting address in the mapping's slot, maps
 * anonymous zero pages over the rest of that mapping (MAP_FIXED) and returns, so the access
 * completes with zeros. The decoders are bounds-checked on every byte (they are fuzzed), so zeros at
 * worst make them report corrupt data; the chunk reader then asks ard__pq_view_check, which turns the
 * read into ARD_EIO naming the file and the offset that vanished. No longjmp: nothing is skipped, no
 * lock or allocation is abandoned, and the decompressors (C++ snappy, zstd) finish normally.
 *
 * Faults outside every registered mapping, and SIGBUS sent by kill(2), are not ours: the handler puts
 * back the disposition that was there before it (ASan's, Python's faulthandler, a test framework's,
 * or the default action) and lets the signal go there, as if we had never been installed. Whoever
 * installs a handler after us (cmocka around every test, faulthandler.enable()) replaces ours:
 * ard__pq_view_map notices (one sigaction query per chunk) and installs ours again in front of
 * theirs. A handler that hands the signal back to us (faulthandler re-raises into its predecessor)
 * ends the ping-pong with the default action.
 *
 * The registry is process-wide state, an exception to "no mutable globals": a signal handler has no
 * handle to reach. It is a fixed array of slots claimed with atomics, so the handler never locks or
 * allocates (mmap is a plain system call; errno is saved and restored). When every slot is taken the
 * caller falls back to pread, as it does when sigaction or mmap fails. */
#include "column_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARD__VIEW_SLOTS 256

enum { SLOT_FREE = 0, SLOT_CLAIMED = 1, SLOT_LIVE = 2 };

typedef struct view_slot {
    _Atomic int32_t state;
    _Atomic uintptr_t lo, hi; /* mapped range [lo, hi), page-rounded */
    _Atomic uintptr_t fault;  /* first faulting address, 0 if none */
} view_slot;

static view_slot ard__view_slots[ARD__VIEW_SLOTS];
/* The handler before ours, double-buffered: re-installing writes the spare one and then flips
 * ard__view_prev_at, so a handler running meanwhile reads a complete struct. */
static struct sigaction ard__view_prev[2];
static _Atomic int32_t ard__view_prev_at;
static pthread_mutex_t ard__view_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t ard__view_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t ard__view_fault_count;
static uintptr_t ard__view_page = 4096;
/* Set when a signal that is not ours was handed on (cleared when ours is installed again): if it
 * comes back to us (a handler that re-raises into its predecessor, which it thinks we are), the
 * ping-pong ends with the default action. */
static _Atomic int32_t ard__view_stepped_aside;

static void die_by_default(int sig) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig); /* blocked until we return, then the default action */
}

/* A signal that is not ours: we step aside (the previous disposition is put back) and let it be
 * delivered there as if we had never been installed. A fault re-executes its instruction when we
 * return and faults again, straight into the previous handler (with its own siginfo, on a fresh
 * frame); a signal sent with kill or raise is raised again. The next chunk mapping installs ours
 * again in front. */
static void chain(int sig, siginfo_t *info) {
    if (atomic_exchange(&ard__view_stepped_aside, 1)) {
        die_by_default(sig);
        return;
    }
    sigaction(sig, &ard__view_prev[atomic_load(&ard__view_prev_at)], NULL);
    int fault = info->si_code == BUS_ADRERR || info->si_code == BUS_ADRALN ||
                info->si_code == BUS_OBJERR || info->si_code == BUS_MCEERR_AR;
    if (!fault) {
        raise(sig);
    }
}

static void on_sigbus(int sig, siginfo_t *info, void *context) {
    (void)context;
    int saved_errno = errno;
    uintptr_t addr = (uintptr_t)info->si_addr;
    if (info->si_code == BUS_ADRERR) {
        for (int i = 0; i < ARD__VIEW_SLOTS; i++) {
            view_slot *s = &ard__view_slots[i];
            if (atomic_load(&s->state) != SLOT_LIVE) {
                continue;
            }
            uintptr_t lo = atomic_load(&s->lo), hi = atomic_load(&s->hi);
            if (addr < lo || addr >= hi) {
                continue;
            }
            uintptr_t none = 0;
            atomic_compare_exchange_strong(&s->fault, &none, addr);
            atomic_fetch_add(&ard__view_fault_count, 1);
            uintptr_t page = addr & ~(ard__view_page - 1);
            void *zeros = mmap((void *)page, hi - page, PROT_READ,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            errno = saved_errno;
            if (zeros != MAP_FAILED) {
                return; /* the access is retried and reads zeros */
            }
            break;
        }
    }
    chain(sig, info);
    errno = saved_errno;
}

static void page_size(void) {
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0) {
        ard__view_page = (uintptr_t)page;
    }
}

static int is_ours(const struct sigaction *sa) {
    return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == on_sigbus;
}

/* Puts our handler in front of the current one (first use, or after someone replaced it). */
static int take_sigbus(void) {
    pthread_mutex_lock(&ard__view_lock);
    struct sigaction now;
    int ok = sigaction(SIGBUS, NULL, &now) == 0;
    if (ok && !is_ours(&now)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        int32_t spare = 1 - atomic_load(&ard__view_prev_at);
        ard__view_prev[spare] = now; /* in place before ours can run */
        atomic_store(&ard__view_prev_at, spare);
        atomic_store(&ard__view_stepped_aside, 0);
        ok = sigaction(SIGBUS, &sa, NULL) == 0;
    }
    pthread_mutex_unlock(&ard__view_lock);
    return ok;
}

/* Whether our handler is in place (installing it if it is not). */
static int guarded(void) {
    pthread_once(&ard__view_once, page_size);
    struct sigaction now;
    if (sigaction(SIGBUS, NULL, &now) != 0) {
        return 0;
    }
    return is_ours(&now) || take_sigbus();
}

static int32_t claim_slot(void) {
    for (int32_t i = 0; i < ARD__VIEW_SLOTS; i++) {
        int32_t expect = SLOT_FREE;
        if (atomic_compare_exchange_strong(&ard__view_slots[i].state, &expect, SLOT_CLAIMED)) {
            return i;
        }
    }
    return -1;
}

void ard__pq_file_map_chunks(ard_parquet_file *f, int32_t on) {
    f->map_chunks = on != 0;
}

int ard__pq_view_map(const ard_parquet_file *f, int64_t offset, size_t len, ard__pq_view *v) {
    memset(v, 0, sizeof *v);
    v->slot = -1;
    if (f->fd < 0 || len == 0 || offset < 0 || !guarded()) {
        return 0;
    }
    int64_t page = (int64_t)ard__view_page;
    int64_t base = offset / page * page;
    size_t map_len = (size_t)(offset - base) + len;
    int32_t slot = claim_slot();
    if (slot < 0) {
        return 0;
    }
    void *map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, f->fd, (off_t)base);
    view_slot *s = &ard__view_slots[slot];
    if (map == MAP_FAILED) {
        atomic_store(&s->state, SLOT_FREE);
        return 0;
    }
    uintptr_t lo = (uintptr_t)map;
    uintptr_t hi = (lo + map_len + ard__view_page - 1) & ~(ard__view_page - 1);
    atomic_store(&s->lo, lo);
    atomic_store(&s->hi, hi);
    atomic_store(&s->fault, (uintptr_t)0);
    atomic_store(&s->state, SLOT_LIVE);
    v->map = map;
    v->map_len = map_len;
    v->file_base = base;
    v->slot = slot;
    v->data = (uint8_t *)map + (offset - base);
    return 1;
}

ard_status ard__pq_view_check(const ard__pq_view *v, const char *path, ard_status st,
                              ard_error *err) {
    if (v->slot < 0) {
        return st;
    }
    uintptr_t fault = atomic_load(&ard__view_slots[v->slot].fault);
    if (fault == 0) {
        return st;
    }
    /* The vanished bytes are the root cause of whatever the decoders made of the zeros. */
    long long at = (long long)(v->file_base + (int64_t)(fault - (uintptr_t)v->map));
    ard_error_init(err);
    return ard_error_set(err, ARD_EIO,
                         "%s: byte %lld vanished while it was read (the file was truncated by "
                         "another process?)",
                         path, at);
}

void ard__pq_view_unmap(ard__pq_view *v) {
    if (v->slot >= 0) {
        /* Out of the registry before the range is unmapped: a later fault there is not ours. */
        atomic_store(&ard__view_slots[v->slot].state, SLOT_FREE);
        munmap(v->map, v->map_len);
    }
    memset(v, 0, sizeof *v);
    v->slot = -1;
}

uint64_t ard__pq_view_faults(void) {
    return atomic_load(&ard__view_fault_count);
}
