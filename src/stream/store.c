/* The shared-memory batch store: creation (POSIX shm, 0600, O_EXCL), connection with owner checks,
 * the shared header's process-shared robust mutexes and condition variables, and closing. The
 * slot protocol itself (fill, publish, acquire, release, liveness) is in store_ring.c. */
#include "stream_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t align_up(int64_t v) {
    return (v + STORE_ALIGN - 1) / STORE_ALIGN * STORE_ALIGN;
}

void ard_store_options_init(ard_store_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->slots = 10;
}

/* Offsets of the five arrays inside a slot (tokens of 4 or 2 bytes by ARD_TOKENS_*); returns the
 * size they take. */
static int64_t slot_layout(int32_t b, int32_t np, int32_t p, int32_t dtype, int64_t off[5]) {
    int64_t at = 0;
    int64_t token = dtype == ARD_TOKENS_F32 ? 4 : 2;
    int64_t sizes[5] = {(int64_t)b * np * p * token, (int64_t)b * np * 4, (int64_t)b * np,
                        (int64_t)b * 8, (int64_t)b};
    for (int i = 0; i < 5; i++) {
        off[i] = at;
        at = align_up(at + sizes[i]);
    }
    return at;
}

/* The catalog columns follow the five arrays; col_off[i] receives each one's offset (may be NULL).
 * Returns the slot size. */
static int64_t columns_layout(int64_t at, int32_t b, int32_t n, const int32_t *widths,
                              int64_t *col_off) {
    for (int32_t i = 0; i < n; i++) {
        if (col_off) {
            col_off[i] = at;
        }
        at = align_up(at + (int64_t)b * widths[i]);
    }
    return at;
}

int64_t ard_store_slot_bytes(int32_t batch_size, int32_t num_patches, int32_t patch) {
    int64_t off[5];
    if (batch_size <= 0 || num_patches <= 0 || patch <= 0) {
        return 0;
    }
    return slot_layout(batch_size, num_patches, patch, ARD_TOKENS_F32, off);
}

/* Slot bytes including the options' catalog columns (checked by check_columns). */
static int64_t slot_bytes_of(const ard_store_options *o) {
    int64_t off[5];
    int32_t widths[ARD_STREAM_MAX_COLUMNS];
    for (int32_t i = 0; i < o->num_columns; i++) {
        widths[i] = o->columns[i].width;
    }
    return columns_layout(slot_layout(o->batch_size, o->num_patches, o->patch, o->token_dtype, off),
                          o->batch_size, o->num_columns, widths, NULL);
}

static int column_ok(int32_t type, int32_t width) {
    return ((type == ARD_COLUMN_FLOAT64 || type == ARD_COLUMN_INT64) && width == 8) ||
           (type == ARD_COLUMN_TEXT && width >= 1 && width <= 1024) ||
           (type == ARD_COLUMN_FLOAT32 && width >= 4 && width % 4 == 0 && width <= (1 << 28));
}

static ard_status check_columns(const ard_store_options *o, ard_error *err) {
    if (o->num_columns < 0 || o->num_columns > ARD_STREAM_MAX_COLUMNS ||
        (o->num_columns > 0 && !o->columns)) {
        return ard_error_set(err, ARD_EINVAL, "store: %d catalog columns (at most %d)",
                             o->num_columns, ARD_STREAM_MAX_COLUMNS);
    }
    for (int32_t i = 0; i < o->num_columns; i++) {
        const ard_stream_column *c = &o->columns[i];
        if (!c->name || !c->name[0] || strlen(c->name) >= ARD_STREAM_COLUMN_NAME ||
            !column_ok(c->type, c->width)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "store: catalog column %d (%.64s): bad name, type %d or width %d",
                                 i, c->name ? c->name : "NULL", c->type, c->width);
        }
    }
    return ARD_OK;
}

static int64_t header_bytes(int32_t slots) {
    return align_up((int64_t)sizeof(store_header) + (int64_t)slots * (int64_t)sizeof(store_slot));
}

void ard__deadline(struct timespec *ts, int64_t ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void ard__robust_lock(pthread_mutex_t *m) {
    if (pthread_mutex_lock(m) == EOWNERDEAD) {
        pthread_mutex_consistent(m);
    }
}

/* A slot's ~1,000 pages (4 MB) faulted in one at a time as a producer first writes them cost
 * ~20 ms of its CPU on a virtual machine (a fault is ~15-25 us there), all in the stream's first
 * epoch; populating the range in one madvise costs ~2 ms and the first writes after it about a
 * third of the faults. Done once per slot and process, at the first claim, so the ring becomes
 * resident as it is used (as before), and nothing is added to store creation (which runs on the
 * consumer's thread in-process). Best effort: without MADV_POPULATE_WRITE (Linux < 5.14) pages
 * fault in as they are written. */
void ard__store_populate_slot(ard_store *store, int32_t slot) {
    store_map *map = store->map;
    unsigned long long bit = 1ULL << (slot % 64);
    if (slot < 0 || slot >= 4096 || (atomic_fetch_or(&map->populated[slot / 64], bit) & bit) != 0) {
        return;
    }
#ifdef MADV_POPULATE_WRITE
    store_header *h = map->h;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = (uintptr_t)h + (uintptr_t)(h->slots_offset + (int64_t)slot * h->slot_bytes);
    uintptr_t end = first + (uintptr_t)h->slot_bytes;
    first -= first % page;
    (void)madvise((void *)first, end - first, MADV_POPULATE_WRITE);
#endif
}

static void init_robust(pthread_mutex_t *m) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
}

static void init_cond(pthread_cond_t *c) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

static ard_status check_geometry(const ard_store_options *o, ard_error *err) {
    if (!o || o->batch_size <= 0 || o->num_patches <= 0 || o->patch <= 0 || o->slots <= 0 ||
        o->memory_cap < 0 || o->batch_size > (1 << 24) || o->num_patches > (1 << 20) ||
        o->patch > 4096 || o->slots > 4096) {
        return ard_error_set(err, ARD_EINVAL, "store: bad geometry or slot count");
    }
    if (o->token_dtype < ARD_TOKENS_F32 || o->token_dtype > ARD_TOKENS_BF16) {
        return ard_error_set(err, ARD_EINVAL,
                             "store: token_dtype %d (ARD_TOKENS_F32, _F16 or "
                             "_BF16)",
                             (int)o->token_dtype);
    }
    if (o->name) {
        size_t len = strlen(o->name);
        if (len == 0 || len > 200) {
            return ard_error_set(err, ARD_EINVAL, "store: name must have 1..200 characters");
        }
        for (size_t i = 0; i < len; i++) {
            char c = o->name[i];
            int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '_' || c == '-';
            if (!ok || (i == 0 && c == '.')) {
                return ard_error_set(err, ARD_EINVAL, "store: bad character in name \"%s\"",
                                     o->name);
            }
        }
    }
    return check_columns(o, err);
}

/* Bytes of a store with `slots` slots: header + slot table, the wave array, the slots. */
static int64_t total_bytes(int32_t slots, int32_t num_patches, int64_t slot_bytes) {
    return align_up(header_bytes(slots) + (int64_t)num_patches * 4) + slots * slot_bytes;
}

/* Slots that fit the cap (0 = unlimited); < 1 -> ARD_ELIMIT. */
static ard_status fit_slots(const ard_store_options *o, int64_t slot_bytes, int32_t *slots,
                            ard_error *err) {
    int32_t n = o->slots;
    while (n > 0 && o->memory_cap > 0 &&
           total_bytes(n, o->num_patches, slot_bytes) > o->memory_cap) {
        n--;
    }
    if (n < 1) {
        return ard_error_set(err, ARD_ELIMIT,
                             "store: --memory %lld bytes cannot hold one batch slot of %lld bytes",
                             (long long)o->memory_cap, (long long)slot_bytes);
    }
    *slots = n;
    return ARD_OK;
}

static void init_header(store_header *h, const ard_store_options *o, int32_t slots, int64_t total) {
    int64_t off[5];
    memset(h, 0, (size_t)header_bytes(slots));
    h->version = STORE_VERSION;
    h->uid = (uint32_t)geteuid();
    h->total_size = total;
    h->token_dtype = o->token_dtype;
    h->slot_bytes = slot_layout(o->batch_size, o->num_patches, o->patch, o->token_dtype, off);
    h->off_tokens = off[0];
    h->off_scales = off[1];
    h->off_mask = off[2];
    h->off_targetid = off[3];
    h->off_flags = off[4];
    h->num_columns = o->num_columns;
    int32_t widths[ARD_STREAM_MAX_COLUMNS];
    int64_t col_off[ARD_STREAM_MAX_COLUMNS];
    for (int32_t i = 0; i < o->num_columns; i++) {
        widths[i] = o->columns[i].width;
        snprintf(h->columns[i].name, sizeof h->columns[i].name, "%s", o->columns[i].name);
        h->columns[i].type = o->columns[i].type;
        h->columns[i].width = o->columns[i].width;
    }
    h->slot_bytes = columns_layout(h->slot_bytes, o->batch_size, o->num_columns, widths, col_off);
    for (int32_t i = 0; i < o->num_columns; i++) {
        h->columns[i].offset = col_off[i];
    }
    h->num_slots = slots;
    h->batch_size = o->batch_size;
    h->num_patches = o->num_patches;
    h->patch = o->patch;
    h->wave_offset = header_bytes(slots);
    h->slots_offset = align_up(h->wave_offset + (int64_t)o->num_patches * 4);
    h->producer_pid = (int32_t)getpid();
    h->end_seq = INT64_MAX;
    init_robust(&h->producer_alive);
    init_robust(&h->lock);
    init_cond(&h->filled);
    init_cond(&h->freed);
    for (int i = 0; i < STORE_MAX_CONSUMERS; i++) {
        init_robust(&h->consumers[i].alive);
    }
    float *wave = (float *)(void *)((uint8_t *)h + h->wave_offset);
    for (int32_t p = 0; p < o->num_patches; p++) {
        wave[p] = o->wave ? o->wave[p] : 0.0f;
    }
    /* The magic goes in last, with release order: a consumer connecting while the store is being
     * created sees magic 0 (not ready) rather than a half-written header. */
    __atomic_store_n(&h->magic, (uint64_t)STORE_MAGIC, __ATOMIC_RELEASE);
}

/* A stale store (its producer is gone or finished) may be replaced. */
static int stale_store(const char *shm_name) {
    int fd = shm_open(shm_name, O_RDWR, 0);
    if (fd < 0) {
        return errno == ENOENT;
    }
    struct stat st;
    int stale = 0;
    if (fstat(fd, &st) == 0 && st.st_uid == geteuid() &&
        st.st_size >= (off_t)sizeof(store_header)) {
        store_header *h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (h != MAP_FAILED) {
            if (h->magic != STORE_MAGIC) {
                stale = 0;
            } else {
                int rc = pthread_mutex_trylock(&h->producer_alive);
                if (rc == EOWNERDEAD) {
                    pthread_mutex_consistent(&h->producer_alive);
                }
                if (rc == 0 || rc == EOWNERDEAD) {
                    pthread_mutex_unlock(&h->producer_alive);
                    stale = 1;
                }
            }
            munmap(h, (size_t)st.st_size);
        }
    }
    close(fd);
    return stale;
}

/* A named store's memory is reserved when it is created (posix_fallocate), so a full /dev/shm is
 * an error here, not a SIGBUS when a producer first writes a slot. The pages are mapped slot by
 * slot, by the producer that first fills each one (ard__store_populate_slot). */
static ard_status map_new(const ard_store_options *o, int64_t total, store_map *map,
                          ard_error *err) {
    if (!o->name) {
        void *p =
            mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            return ard_error_set_errno(err, ARD_EIO, errno, "store: mmap %lld bytes",
                                       (long long)total);
        }
        map->h = p;
        return ARD_OK;
    }
    snprintf(map->name, sizeof map->name, "/%s", o->name);
    int fd = shm_open(map->name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 && errno == EEXIST && stale_store(map->name)) {
        shm_unlink(map->name);
        fd = shm_open(map->name, O_CREAT | O_EXCL | O_RDWR, 0600);
    }
    if (fd < 0) {
        ard_status code = errno == EEXIST ? ARD_EEXIST : ARD_EIO;
        return ard_error_set_errno(err, code, errno, "store: creating shm %s", map->name);
    }
    map->named = 1;
    int e = fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)total) != 0 ? errno : 0;
    if (e == 0) {
        e = posix_fallocate(fd, 0, (off_t)total);
    }
    if (e != 0) {
        close(fd);
        shm_unlink(map->name);
        return ard_error_set_errno(err, e == ENOSPC ? ARD_ELIMIT : ARD_EIO, e,
                                   "store: sizing shm %s to %lld bytes", map->name,
                                   (long long)total);
    }
    void *p = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        shm_unlink(map->name);
        return ard_error_set_errno(err, ARD_EIO, e, "store: mapping shm %s", map->name);
    }
    map->h = p;
    return ARD_OK;
}

ard_status ard_store_create(const ard_store_options *opts, ard_store **out, ard_error *err) {
    *out = NULL;
    ard_status st = check_geometry(opts, err);
    int32_t slots = 0;
    int64_t slot_bytes = st == ARD_OK ? slot_bytes_of(opts) : 0;
    if (st == ARD_OK) {
        st = fit_slots(opts, slot_bytes, &slots, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    int64_t total = total_bytes(slots, opts->num_patches, slot_bytes);
    int64_t ram = (int64_t)sysconf(_SC_PHYS_PAGES) * (int64_t)sysconf(_SC_PAGESIZE);
    if (ram > 0 && total > ram / 2) {
        return ard_error_set(err, ARD_ELIMIT,
                             "store: %d slots of %lld bytes exceed half of this machine's memory; "
                             "lower the batch size or prefetch, or set a memory cap",
                             slots, (long long)slot_bytes);
    }
    store_map *map = ard_calloc(1, sizeof *map);
    ard_store *s = ard_calloc(1, sizeof *s);
    if (!map || !s) {
        ard_free(map);
        ard_free(s);
        return ard_error_set(err, ARD_ENOMEM, "store: handle");
    }
    st = map_new(opts, total, map, err);
    if (st != ARD_OK) {
        ard_free(map);
        ard_free(s);
        return st;
    }
    map->size = (size_t)total;
    atomic_init(&map->refs, 1);
    init_header(map->h, opts, slots, total);
    pthread_mutex_lock(&map->h->producer_alive);
    s->map = map;
    s->is_producer = 1;
    s->consumer = -1;
    *out = s;
    return ARD_OK;
}

/* Takes a free consumer record for the calling thread. Caller holds h->lock. */
static int register_consumer(store_header *h) {
    for (int i = 0; i < STORE_MAX_CONSUMERS; i++) {
        store_consumer *c = &h->consumers[i];
        if (c->in_use) {
            continue;
        }
        int rc = pthread_mutex_trylock(&c->alive);
        if (rc == EOWNERDEAD) {
            pthread_mutex_consistent(&c->alive);
            rc = 0;
        }
        if (rc == 0) {
            c->in_use = 1;
            c->pid = (int32_t)getpid();
            return i;
        }
    }
    return -1;
}

static ard_status new_consumer(store_map *map, ard_store **out, ard_error *err) {
    ard_store *s = ard_calloc(1, sizeof *s);
    if (!s) {
        return ard_error_set(err, ARD_ENOMEM, "store: handle");
    }
    store_header *h = map->h;
    ard__robust_lock(&h->lock);
    int id = register_consumer(h);
    if (id < 0) {
        ard__store_reclaim(h, -1);
        id = register_consumer(h);
    }
    pthread_mutex_unlock(&h->lock);
    if (id < 0) {
        ard_free(s);
        return ard_error_set(err, ARD_ELIMIT, "store: more than %d consumers", STORE_MAX_CONSUMERS);
    }
    s->map = map;
    s->consumer = id;
    *out = s;
    return ARD_OK;
}

ard_status ard_store_attach(ard_store *store, ard_store **out, ard_error *err) {
    *out = NULL;
    if (!store) {
        return ard_error_set(err, ARD_EINVAL, "store: attach to NULL");
    }
    atomic_fetch_add(&store->map->refs, 1);
    ard_status st = new_consumer(store->map, out, err);
    if (st != ARD_OK) {
        atomic_fetch_sub(&store->map->refs, 1);
    }
    return st;
}

static ard_status check_mapping(const char *name, int fd, struct stat *st, ard_error *err) {
    if (fstat(fd, st) != 0) {
        return ard_error_set_errno(err, ARD_EIO, errno, "store: stat shm /%s", name);
    }
    if (st->st_uid != geteuid() || (st->st_mode & 077) != 0) {
        return ard_error_set(err, ARD_EPERM,
                             "store /%s belongs to uid %u with mode %03o; refusing (need our own "
                             "uid %u and mode 0600)",
                             name, (unsigned)st->st_uid, (unsigned)(st->st_mode & 0777),
                             (unsigned)geteuid());
    }
    if (st->st_size == 0) { /* created, not sized yet */
        return ard_error_set(err, ARD_ENOENT, "store: stream \"%s\" is still being created", name);
    }
    if (st->st_size < (off_t)sizeof(store_header)) {
        return ard_error_set(err, ARD_ECORRUPT, "store /%s: %lld bytes is too small", name,
                             (long long)st->st_size);
    }
    return ARD_OK;
}

static ard_status check_header(const char *name, const store_header *h, int64_t size,
                               ard_error *err) {
    int64_t off[5] = {0};
    int ok = h->magic == STORE_MAGIC && h->version == STORE_VERSION && h->total_size == size &&
             h->num_slots >= 1 && h->num_slots <= 4096 && h->batch_size > 0 &&
             h->batch_size <= (1 << 24) && h->num_patches > 0 && h->num_patches <= (1 << 20) &&
             h->patch > 0 && h->patch <= 4096;
    /* Every offset is recomputed from the geometry: a damaged header cannot point outside. */
    ok = ok && h->num_columns >= 0 && h->num_columns <= ARD_STREAM_MAX_COLUMNS;
    int32_t widths[ARD_STREAM_MAX_COLUMNS] = {0};
    int64_t col_off[ARD_STREAM_MAX_COLUMNS] = {0};
    for (int32_t i = 0; ok && i < h->num_columns; i++) {
        const store_column *c = &h->columns[i];
        ok = column_ok(c->type, c->width) && memchr(c->name, 0, sizeof c->name) != NULL;
        widths[i] = c->width;
    }
    ok = ok && h->token_dtype >= ARD_TOKENS_F32 && h->token_dtype <= ARD_TOKENS_BF16;
    int64_t base =
        ok ? slot_layout(h->batch_size, h->num_patches, h->patch, h->token_dtype, off) : 0;
    ok =
        ok && h->slot_bytes == columns_layout(base, h->batch_size, h->num_columns, widths, col_off);
    for (int32_t i = 0; ok && i < h->num_columns; i++) {
        ok = h->columns[i].offset == col_off[i];
    }
    ok = ok && h->off_tokens == off[0] && h->off_scales == off[1] && h->off_mask == off[2] &&
         h->off_targetid == off[3] && h->off_flags == off[4] &&
         h->wave_offset == header_bytes(h->num_slots) &&
         h->slots_offset == align_up(h->wave_offset + (int64_t)h->num_patches * 4) &&
         h->slots_offset + (int64_t)h->num_slots * h->slot_bytes <= size;
    if (!ok) {
        return ard_error_set(err, ARD_ECORRUPT, "store /%s is not an ard batch store (version %u)",
                             name, (unsigned)STORE_VERSION);
    }
    return ARD_OK;
}

ard_status ard_store_connect(const char *name, ard_store **out, ard_error *err) {
    *out = NULL;
    ard_store_options probe;
    ard_store_options_init(&probe);
    probe.name = name;
    probe.batch_size = probe.num_patches = probe.patch = 1;
    ard_status st = check_geometry(&probe, err);
    if (st != ARD_OK) {
        return st;
    }
    store_map *map = ard_calloc(1, sizeof *map);
    if (!map) {
        return ard_error_set(err, ARD_ENOMEM, "store: handle");
    }
    snprintf(map->name, sizeof map->name, "/%s", name);
    int fd = shm_open(map->name, O_RDWR, 0);
    if (fd < 0) {
        ard_free(map);
        return ard_error_set_errno(err,
                                   errno == ENOENT   ? ARD_ENOENT
                                   : errno == EACCES ? ARD_EPERM
                                                     : ARD_EIO,
                                   errno, "store: no stream named \"%s\"", name);
    }
    struct stat sb;
    st = check_mapping(name, fd, &sb, err);
    void *p = MAP_FAILED;
    if (st == ARD_OK) {
        p = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            st = ard_error_set_errno(err, ARD_EIO, errno, "store: mapping /%s", name);
        }
    }
    close(fd);
    if (st == ARD_OK && __atomic_load_n(&((const store_header *)p)->magic, __ATOMIC_ACQUIRE) == 0) {
        st = ard_error_set(err, ARD_ENOENT, "store: stream \"%s\" is still being created", name);
    }
    if (st == ARD_OK) {
        st = check_header(name, p, (int64_t)sb.st_size, err);
    }
    if (st == ARD_OK) {
        map->h = p;
        map->size = (size_t)sb.st_size;
        atomic_init(&map->refs, 1);
        st = new_consumer(map, out, err);
    }
    if (st != ARD_OK) {
        if (p != MAP_FAILED) {
            munmap(p, (size_t)sb.st_size);
        }
        ard_free(map);
    }
    return st;
}

void ard_store_close(ard_store *store) {
    if (!store) {
        return;
    }
    store_map *map = store->map;
    store_header *h = map->h;
    if (store->consumer >= 0) {
        ard__robust_lock(&h->lock);
        ard__store_drop_consumer(h, store->consumer);
        pthread_mutex_unlock(&h->lock);
        pthread_mutex_unlock(&h->consumers[store->consumer].alive);
    }
    if (store->is_producer) {
        ard_store_finish(store, ARD_OK, NULL);
        if (map->named) {
            shm_unlink(map->name);
        }
        pthread_mutex_unlock(&h->producer_alive);
    }
    if (atomic_fetch_sub(&map->refs, 1) == 1) {
        munmap(h, map->size);
        ard_free(map);
    }
    ard_free(store);
}

void *ard_store_base(const ard_store *store) {
    return store ? store->map->h : NULL;
}
int64_t ard_store_size(const ard_store *store) {
    return store ? (int64_t)store->map->size : 0;
}
int32_t ard_store_num_slots(const ard_store *store) {
    return store ? store->map->h->num_slots : 0;
}
int32_t ard_store_batch_size(const ard_store *store) {
    return store ? store->map->h->batch_size : 0;
}
int32_t ard_store_num_patches(const ard_store *store) {
    return store ? store->map->h->num_patches : 0;
}
int32_t ard_store_patch(const ard_store *store) {
    return store ? store->map->h->patch : 0;
}
