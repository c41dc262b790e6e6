/* Private header of the stream module: the shared-memory layout of a batch store and the loader's
 * internal pieces. Nothing here is visible outside src/stream. */
#ifndef ARD_STREAM_INT_H
#define ARD_STREAM_INT_H

#include "ard/dataset.h"
#include "ard/stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define STORE_MAGIC 0x45524f5453445241ULL /* "ARDSTORE" little-endian */
/* 2: catalog columns, 3: token dtype, 4: waiter counts, 5: wake_ready, 6: publish pace */
#define STORE_VERSION 6
#define STORE_MAX_CONSUMERS 64
#define STORE_ALIGN 64
#define STORE_POLL_MS 50 /* every wait wakes this often to check liveness */

enum { SLOT_FREE = 0, SLOT_FILLING = 1, SLOT_FILLED = 2, SLOT_HELD = 3 };
enum { STATE_RUNNING = 0, STATE_END = 1, STATE_FAILED = 2 };

typedef struct store_slot {
    int32_t state;
    int32_t holder; /* consumer record while HELD */
    int32_t count;
    int32_t epoch;
    int64_t seq;
} store_slot;

/* One catalog column of every slot: `width` bytes per row at `offset` inside the slot. */
typedef struct store_column {
    char name[ARD_STREAM_COLUMN_NAME];
    int32_t type, width;
    int64_t offset;
} store_column;

/* A consumer's liveness: the registering thread holds `alive` (robust) for the handle's life; the
 * kernel releases it with EOWNERDEAD when that thread's process dies. */
typedef struct store_consumer {
    pthread_mutex_t alive;
    int32_t in_use;
    int32_t pid;
} store_consumer;

/* The shared header at offset 0 of the mapping; slot metadata follows, then the wave array, then
 * the slots (each STORE_ALIGN-aligned). Every field below `lock` is read and written under it. */
typedef struct store_header {
    uint64_t magic;
    uint32_t version;
    uint32_t uid;
    int64_t total_size;
    int64_t slot_bytes;
    int64_t slots_offset, wave_offset;
    int64_t off_tokens, off_scales, off_mask, off_targetid, off_flags;
    int32_t num_slots, batch_size, num_patches, patch;
    int32_t producer_pid;
    int32_t token_dtype; /* ARD_TOKENS_* */
    pthread_mutex_t producer_alive;
    pthread_mutex_t lock;
    pthread_cond_t filled; /* a slot was published, or the state changed */
    pthread_cond_t freed;  /* a slot was released */
    /* Wait/wake bookkeeping (store_ring.c). The waiter counts let a publish or release skip the
     * wake-up when nobody sleeps; `filled_events` is bumped (atomically, under `lock`) by every
     * change a consumer waits for, and read without the lock by a consumer spinning before it
     * sleeps; `credits` counts releases not yet signalled to sleeping producers (batched). */
    int32_t filled_waiters, freed_waiters;
    uint32_t filled_events;
    int32_t credits;
    /* A lone sleeping consumer's wish: wake it when this many batches are ready in delivery order
     * (<= 1: at the first publish); end, failure and re-queues always wake. */
    int32_t wake_ready;
    /* The producers' pace: CLOCK_MONOTONIC ns of the last publish and a running mean of the gap
     * between publishes (0 until two were seen); a consumer spins only when the next publish is
     * due within its spin budget. */
    int64_t last_publish_ns, publish_gap_ns;
    int32_t state;
    int32_t fail_status;
    char fail_msg[256];
    int64_t next_seq;     /* next sequence number a producer claims */
    int64_t next_deliver; /* next sequence number consumers get */
    int64_t end_seq;      /* no batch with seq >= end_seq will be published */
    int32_t num_columns;
    store_column columns[ARD_STREAM_MAX_COLUMNS];
    store_consumer consumers[STORE_MAX_CONSUMERS];
    store_slot slot_meta[];
} store_header;

/* The process-local mapping, shared by every handle of this process on one store. */
typedef struct store_map {
    store_header *h;
    size_t size;
    atomic_int refs;
    int named;
    char name[208]; /* "/NAME" */
    /* slots this process has populated (bit per slot, up to the 4096 slots a store may have) */
    atomic_ullong populated[4096 / 64];
} store_map;

struct ard_store {
    store_map *map;
    int is_producer; /* created the store: holds producer_alive, unlinks on close */
    int consumer;    /* consumer record, or -1 */
    int64_t spin_ns; /* the consumer's adaptive spin before it sleeps (store_ring.c) */
};

/* The first time this process claims `slot` for filling, maps all of its pages in one call
 * (MADV_POPULATE_WRITE) instead of faulting them in one by one as the producer writes (store.c). */
void ard__store_populate_slot(ard_store *store, int32_t slot);
/* The time `ms` milliseconds from now on CLOCK_MONOTONIC. */
void ard__deadline(struct timespec *ts, int64_t ms);
/* Locks a robust mutex, repairing it when its owner died. */
void ard__robust_lock(pthread_mutex_t *m);

/* ---- tokenizer ---- */

/* The exact median (as ard_median_select) of the `count` smallest entries of keys[0..len): the
 * tokenizer passes a patch with its invalid pixels as +inf and count = the valid ones.
 * 1 <= count <= len <= ARD_PATCH_MAX; keys free of NaN and not modified. Thread-safe (median.c). */
float ard__median_small(const float *keys, int32_t len, int32_t count);
/* The kernels behind ard__median_small, for tests: 0 = baseline instruction set (always), 1 = AVX2,
 * 2 = AVX-512F network up to 64 values and AVX2 rank counting beyond (NULL when not built in or
 * the CPU lacks it). */
typedef float (*ard__median_small_fn)(const float *keys, int32_t len, int32_t count);
ard__median_small_fn ard__median_small_kernel(int which);

/* 1 where AVX2 variants (medians, tokenizer loops) are built: x86-64 with gcc or clang; they run
 * only when the CPU has AVX2 (__builtin_cpu_supports). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ARD_STREAM_X86 1
#else
#define ARD_STREAM_X86 0
#endif
#if ARD_STREAM_X86
/* Ranks klo and khi (0-based, khi - klo <= 1) of keys[0..len), len <= 64, keys free of NaN:
 * a sorting network in AVX2 registers (median_sort64.c). Call only when the CPU has AVX2. */
void ard__select64_avx2(const float *keys, int32_t len, int32_t klo, int32_t khi, float *lo,
                        float *hi);
/* The same in AVX-512F registers (median_sort64_avx512.c), bit-identical results. Call only when
 * the CPU has AVX-512F. */
void ard__select64_avx512(const float *keys, int32_t len, int32_t klo, int32_t khi, float *lo,
                          float *hi);
#endif

/* An "ard.grid" text parsed (wave.c): kind, first and last bin centre, bins. */
typedef struct grid_spec {
    int log;
    double start, stop;
    int64_t n;
} grid_spec;
/* Parses "kind=log;start=3600;stop=9824;n=4096" (ARD_EINVAL naming the text when malformed). */
ard_status ard__grid_parse(const char *text, grid_spec *g, ard_error *err);

/* ---- loader ---- */

typedef struct loader_file {
    char *path;
    ard_tile *tile; /* open, or NULL: reopened on demand through the tile cache (loader_tiles.c) */
    int32_t users;  /* threads reading the open tile (under lock): it is not closed under them */
    int32_t num_row_groups;
    int64_t *rg_rows;       /* rows of each row group, copied from the footer at the first open */
    uint64_t last_use;      /* tile cache clock of the last use (LRU) */
    int64_t size, mtime_ns; /* at the first open: a reopened file must still match */
} loader_file;

/* The catalog columns a loader adds to each batch, looked up in the index (loader_catalog.c). */
typedef struct loader_catalog {
    int32_t num_columns;
    ard_stream_column columns[ARD_STREAM_MAX_COLUMNS];
    char names[ARD_STREAM_MAX_COLUMNS][ARD_STREAM_COLUMN_NAME];     /* upper case, for the store */
    char sql_names[ARD_STREAM_MAX_COLUMNS][ARD_STREAM_COLUMN_NAME]; /* lower case, validated */
    struct ard_index *index; /* read-only, used under `lock` */
    pthread_mutex_t lock;
} loader_catalog;

/* A distinct (file, row group) pair. A row group of which the plan selects fewer rows than it
 * holds is `compact`: its decoded entry keeps only the selected rows (`selected`, in item order),
 * so a sparse selection holds a few spectra per row group, not the whole row group. */
typedef struct loader_rg {
    int32_t file;
    int32_t row_group;
    int64_t rows;
    int64_t selected; /* rows of the row group's items (repeats counted) */
    int32_t compact;  /* 1: entries hold the `selected` rows only */
} loader_rg;

/* A read item resolved: rows [first, first + count) of row group `rg` (index into rgs). */
typedef struct loader_item {
    int32_t rg;
    int64_t first, count;
} loader_item;

/* One epoch's plan for this shard: row ordinals (into the flattened items) in delivery order. */
typedef struct loader_epoch {
    int32_t epoch;
    int64_t *order;
    int64_t count;
    int64_t *need; /* per rg: rows to decode in this epoch (those not served from the cache) */
    uint8_t *from_cache; /* per position in order: served from the epoch cache */
    int64_t batches_done;
    int64_t batches_expected; /* batches of this epoch this loader produces (loader_remote.c) */
} loader_epoch;

/* A decoded row group shared by the threads that need its rows in one epoch. */
typedef struct loader_entry {
    struct loader_entry *next;
    int32_t epoch, rg;
    int loading;
    ard_status status;
    int64_t remaining;
    int64_t rows; /* held: the row group's, or a compact row group's selected rows */
    int64_t *ids;
    float *flux, *ivar; /* rows x width, null elements (and null lists) as NaN; pool buffers */
    /* compact entries instead: per row its FLUX then IVAR (2 x width floats) in a block of its
     * own, freed as soon as the row is tokenized (a shuffle buffer keeps many entries open, each
     * waiting for its last row: they hold only the rows still to come) */
    float **row_data;
    char *message; /* a failed entry: the decoding thread's error message, for the others */
} loader_entry;

enum { LOADER_STRINGS = 7 };       /* option strings the loader copies (loader.c) */
enum { LOADER_MAX_THREADS = 256 }; /* producer threads (loader.c checks the option) */

struct ard_loader {
    ard_loader_options o; /* its strings point into `strings` */
    char *strings[LOADER_STRINGS];
    loader_file *files;
    int32_t num_files;
    /* tile cache (loader_tiles.c, under lock): at most max_open_tiles open unless all are in use */
    int32_t open_tiles, peak_open_tiles, max_open_tiles;
    /* decode buffers shared by every open tile: idle ones bounded by 2 per thread, not per tile */
    ard_parquet_buffers *buffers;
    uint64_t tile_clock;
    loader_rg *rgs;
    int32_t num_rgs;
    loader_item *items;
    int64_t num_items;
    int64_t *item_start; /* num_items + 1 prefix sums of rows */
    /* items grouped by row group (loader_plan.c): rg_items[rg_item_start[rg] ..
     * rg_item_start[rg + 1]) in item order; item_off[it]: where the item's first row sits in its
     * row group's decoded entry (items[it].first, or its place among a compact entry's rows) */
    int64_t *rg_item_start, *rg_items, *item_off;
    int64_t total_rows; /* over all items (every shard) */
    int64_t width;      /* bins per spectrum */
    int64_t num_patches;
    int64_t shard_rows, batches_per_epoch, total_batches;
    char *grid_text;
    ard_store *store;
    loader_catalog *catalog; /* NULL without catalog columns */
    /* shared state, under lock */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    loader_epoch **epochs;
    loader_entry *entries;
    /* decoded-matrix buffers of pool_floats floats kept for reuse: a row group decodes into
     * memory that is already mapped (no page faults, no zeroing by the kernel) */
    float **pool;
    int32_t pool_count, pool_cap;
    int64_t pool_floats;
    /* decoded row groups against the memory cap (loader_memory.c): bytes now, the most at once,
     * what the cap leaves after store and cache (0 = no cap), times a producer waited; the
     * producers inside a fill and the batch each fills */
    int64_t decode_bytes, decode_peak, decode_cap, decode_waits;
    int32_t filling;
    struct {
        pthread_t thread;
        int64_t seq;
    } fillers[LOADER_MAX_THREADS];
    /* the oldest store sequence whose fill has not ended, and which later ones have (at seq %
     * ended_slots: they sit in distinct slots of the store until it is published) */
    int64_t open_low;
    uint8_t *ended;
    int32_t ended_slots;
    ard_status status;
    ard_error error;
    struct loader_skips *skips; /* row groups left out under ARD_ON_ERROR_SKIP (loader_errors.c) */
    int64_t skips_recorded;     /* of them, written to the index (loader_record.c) */
    int stop;
    /* epoch cache */
    int cache_active;
    int64_t cache_row_bytes;
    uint8_t *cache;
    atomic_uchar *cached;
    /* threads */
    pthread_t *threads;
    int32_t started;
    atomic_int live_threads;
    /* producer side of a distributed stream (loader_remote.c): this loader makes only the global
     * batches g with (g / sel_chunk) % sel_parts == sel_part; sel_parts 0 = all */
    int32_t sel_part, sel_parts, sel_chunk;
    /* weights and rest frame (loader_rest.c) */
    int64_t token_width;    /* bins tokenized per spectrum: width, or the rest grid's n_rest */
    ard_rest_grid rest;     /* when o.frame == ARD_FRAME_REST */
    int32_t z_column;       /* store column of Z (rest frame), else -1 */
    int32_t weights_column; /* store column "weights", else -1 */
    char *columns_text;     /* o.columns with Z added (rest frame), owned */
};

/* Where one row of a slot goes (loader_run.c); weights NULL without weights, z NaN without Z. */
typedef struct row_out {
    float *tokens, *scales;
    uint8_t *mask, *flags;
    int64_t *targetid;
    float *weights;
    double z;
} row_out;

/* ---- weights and rest frame (loader_rest.c) ---- */
/* Options check for weights / frame / rest_zmin / rest_zmax. */
ard_status ard__loader_rest_check(const ard_loader_options *o, ard_error *err);
/* The catalog column list to open: o->columns, with Z appended in the rest frame when missing
 * (*owned receives the new text, or NULL when o->columns is used as it is). */
ard_status ard__loader_columns(const ard_loader_options *o, char **owned, const char **columns,
                               ard_error *err);
/* After the width is known: token_width, the rest grid (from grid_text). */
ard_status ard__loader_rest_setup(ard_loader *l, ard_error *err);
/* After the store exists: z_column, weights_column. */
void ard__loader_find_columns(ard_loader *l);
/* The store column descriptor of the weights (num_patches * patch floats). */
ard_stream_column ard__loader_weights_column(const ard_loader *l);
/* Bytes of a producer thread's workspace. */
size_t ard__loader_work_bytes(const ard_loader *l);
/* Tokenizes one observed spectrum (width bins) into `out`: placed on the rest grid by out->z in
 * the rest frame, and with weights when out->weights is set. */
ard_status ard__loader_tokenize(const ard_loader *l, const float *flux, const float *ivar,
                                const row_out *out, void *work, ard_error *err);

/* ---- tile cache (loader_tiles.c) ---- */
/* First open of file `f` at creation: records its identity (size, mtime) and enters the cache. */
ard_status ard__loader_tile_first(ard_loader *l, loader_file *f, ard_error *err);
/* The open tile of file `file`, reopened when closed (ARD_ECORRUPT naming the file when it changed
 * since the first open); the caller releases it with ard__loader_tile_put. Takes l->lock. */
ard_status ard__loader_tile_get(ard_loader *l, int32_t file, ard_tile **tile, ard_error *err);
void ard__loader_tile_put(ard_loader *l, int32_t file);
/* Closes every tile and frees the files' copies (ard_loader_free). */
void ard__loader_tiles_free(ard_loader *l);

/* Opens the tiles of `paths` and resolves items (loader_plan.c). */
ard_status ard__loader_resolve(ard_loader *l, const ard_read_item *items, int64_t num_items,
                               ard_error *err);
/* The epoch's plan (created on first use; caller holds l->lock). NULL on ENOMEM. */
loader_epoch *ard__loader_epoch(ard_loader *l, int32_t epoch);
void ard__loader_epoch_free(loader_epoch *e);
/* Row ordinal -> (rg, row inside the row group's decoded entry: the row group's row, or the row's
 * place among a compact entry's rows). */
void ard__loader_locate(const ard_loader *l, int64_t row, int32_t *rg, int64_t *entry_row);
/* Parses and checks opts->columns against the index (opened read-only from index_dataset /
 * index_dsn); *out stays NULL when no column is asked for (loader_catalog.c). */
ard_status ard__catalog_open(const ard_loader_options *o, loader_catalog **out, ard_error *err);
void ard__catalog_free(loader_catalog *c);
/* Fills the catalog columns of rows [0, count) of a claimed slot from the index by TARGETID. */
ard_status ard__catalog_fill(ard_loader *l, const ard_batch *b, int32_t count, ard_error *err);
/* ---- decoding against the memory cap (loader_memory.c; callers hold l->lock except for
 * ard__loader_filling) ---- */
/* Bytes of one decoded row group of the largest row group (sets pool_floats). */
int64_t ard__loader_entry_bytes(ard_loader *l);
/* Counts `bytes` (negative: released, which wakes waiting producers) of decoding memory. */
void ard__loader_decode_add(ard_loader *l, int64_t bytes);
/* 1 when a released matrix buffer may stay in the pool (within the cap). */
int ard__loader_decode_keep(const ard_loader *l);
/* Before decoding a row group of `rows` rows: when that would exceed the cap and the calling
 * producer does not fill the oldest batch in progress, waits once on l->changed and returns 1
 * (the caller looks again), else 0. */
int ard__loader_decode_wait(ard_loader *l, int64_t rows);
/* The calling producer starts (1) or ends (0) filling the batch of store sequence `seq`. Takes
 * l->lock. */
void ard__loader_filling(ard_loader *l, int64_t seq, int start);
/* Frees the decoded row groups still held and the buffer pool (loader_run.c). */
void ard__loader_free_entries(ard_loader *l);
/* Stops and joins the producer threads (loader_run.c). */
void ard__loader_stop_threads(ard_loader *l);
/* loader_errors.c: 1 when the options say skip and `st` is a row group's data error. */
int ard__loader_skippable(const ard_loader *l, ard_status st);
/* Records row group `rg` as skipped with err's message (once; counted every time) and clears
 * err; ARD_ENOMEM if it cannot be recorded. Takes l->lock. */
ard_status ard__loader_skip(ard_loader *l, int32_t rg, ard_status st, ard_error *err);
/* Leaves out a failed run of one row group's rows (pairs as fill_batch's {rg, position, entry_row}):
 * clears their positions in *keep (allocated, all set, on first use; n positions) and records the
 * skip. ARD_ENOMEM. */
ard_status ard__loader_drop_run(ard_loader *l, const int64_t *pairs, int64_t count, int64_t n,
                                uint8_t **keep, ard_status st, ard_error *err);
/* Moves the slot rows with keep[i] set to the front; returns how many there are. */
int32_t ard__loader_compact(const ard_loader *l, const ard_batch *b, const uint8_t *keep,
                            int32_t n);
void ard__loader_skips_free(ard_loader *l);

/* Global batch number of store sequence number `seq`, whether global batch g is produced here, and
 * how many batches of `epoch` are (loader_remote.c; identity without a selection). */
int64_t ard__loader_global(const ard_loader *l, int64_t seq);
int ard__loader_selected(const ard_loader *l, int64_t g);
int64_t ard__loader_epoch_batches(const ard_loader *l, int32_t epoch);

/* Re-queues the slots of dead or departed consumers (not `self`). Caller holds h->lock. Returns
 * the number of slots re-queued. */
int ard__store_reclaim(store_header *h, int self);
/* Frees consumer record `id` and the slots it holds. Caller holds h->lock. */
void ard__store_drop_consumer(store_header *h, int id);

/* serve.c: the loader over a source, shared by the serve and bench stages: plan_path (a plan
 * file), else plan, else the spectra `where` selects through the index (dsn), else every tile. */
ard_status ard__stream_source_loader(const ard_loader_options *lo, const char *dataset,
                                     const char *where, const char *dsn, const char *plan_path,
                                     const ard_plan *plan, ard_loader **out, ard_error *err);

#endif
