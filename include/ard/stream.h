/* ard stream: the ML-ready path. A tokenizer (patches + median normalisation), a shared-memory
 * batch store (a ring of fixed-size batch slots in POSIX shared memory) and a loader whose producer
 * threads read spectra with the Parquet fast path, tokenize them straight into a store slot and
 * publish it. Consumers (C, or Python through ctypes) acquire a slot, read it in place (zero copy)
 * and release it.
 *
 * Input: a list of read items (file, row group, row range) -- the index's read plan converts to it
 * -- or a whole dataset (every tile under DATASET/tiles/).
 *
 * Batch layout (one store slot; every array 64-byte aligned inside the slot):
 *   tokens    float32 [batch_size][num_patches][patch]  flux / scale; invalid pixels, padding: 0
 *   scales    float32 [batch_size][num_patches]         the divisor used for each patch (> 0)
 *   mask      uint8   [batch_size][num_patches]         ARD_PATCH_* (0 = no valid pixel)
 *   targetid  int64   [batch_size]
 *   flags     uint8   [batch_size]                      ARD_SPEC_* per spectrum
 *   columns   optional catalog columns, one array each (ard_batch_column):
 *             ARD_COLUMN_FLOAT64 double [batch_size], ARD_COLUMN_INT64 int64 [batch_size],
 *             ARD_COLUMN_TEXT char [batch_size][width] (NUL-padded, not NUL-terminated when a
 *             value fills all `width` bytes -- numpy's 'S<width>'; longer values are truncated)
 * and, once per store, wave float32 [num_patches]: the central wavelength of each patch (Angstrom).
 * Only the first `count` rows of a batch are meaningful (the last batch of an epoch may be short).
 */
#ifndef ARD_STREAM_H
#define ARD_STREAM_H

#include "ard/core.h"
#include "ard/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tokenizer ----------------------------------------------------------------------------------
 * A spectrum of n bins is cut into ceil(n / patch) patches; the last one is padded with 0 (masked).
 * A pixel is valid when its flux and ivar are non-null, finite, ivar > 0 and (if a mask is given)
 * mask == 0. Medians are exact order statistics: for an even count the mean of the two middle
 * values computed as (float)(((double)lo + (double)hi) / 2); -0.0 counts as +0.0.
 *
 * ARD_NORM_MEDIAN: each patch / the median of its valid pixels; when that is unusable (fewer than
 *   min_valid valid pixels, or median <= floor, or not finite) the spectrum's robust scale is used
 *   (mask ARD_PATCH_FALLBACK).
 * ARD_NORM_SPECTRUM_MEDIAN: every patch / the median of the spectrum's valid pixels (the robust
 *   scale when that median is unusable).
 * ARD_NORM_NONE: scale 1.
 *
 * Robust scale = median of |flux| over the spectrum's valid pixels; 1 when that is <= floor (flag
 * ARD_SPEC_SCALE_ONE). A spectrum without valid pixels gets tokens 0, scales 1, mask 0 and the flag
 * ARD_SPEC_ALL_MASKED: never inf or NaN. */
typedef enum ard_norm_mode {
    ARD_NORM_MEDIAN = 0,
    ARD_NORM_NONE = 1,
    ARD_NORM_SPECTRUM_MEDIAN = 2
} ard_norm_mode;

enum { ARD_PATCH_INVALID = 0, ARD_PATCH_OWN = 1, ARD_PATCH_FALLBACK = 2 };
enum { ARD_SPEC_ALL_MASKED = 1, ARD_SPEC_SCALE_ONE = 2, ARD_SPEC_NO_Z = 4 };

#define ARD_PATCH_MIN 32
#define ARD_PATCH_MAX 128

typedef struct ard_tokenize_options {
    int32_t patch;     /* bins per patch, ARD_PATCH_MIN..ARD_PATCH_MAX (default 64) */
    int32_t norm;      /* ard_norm_mode (default ARD_NORM_MEDIAN) */
    int32_t min_valid; /* valid pixels a patch needs for its own median (default patch / 4) */
    float floor;       /* medians <= floor are unusable (default 1e-6) */
} ard_tokenize_options;

/* Defaults above. Thread-safe. */
ARD_API void ard_tokenize_options_init(ard_tokenize_options *opts);
/* ARD_EINVAL (message names the field) for out-of-range options. Thread-safe. */
ARD_API ard_status ard_tokenize_options_check(const ard_tokenize_options *opts, ard_error *err);
/* ceil(n / patch); 0 for n <= 0 or patch <= 0. */
ARD_API int64_t ard_tokenize_num_patches(int64_t n, int32_t patch);

/* Tokenizes one spectrum of n bins. flux_valid / ivar_valid: Arrow-style bitmaps (1 = non-null)
 * read from bit `bit_offset` on, or NULL (all non-null); mask: n bytes or NULL.
 * Outputs (caller-owned): tokens [num_patches * patch], scales [num_patches], patch_mask
 * [num_patches], flags (1 byte). work: ard_tokenize_work_bytes(n) bytes of workspace, or NULL to
 * allocate one per call.
 * Thread-safe (no shared state). ARD_EINVAL (bad options, n <= 0, NULL pointers), ARD_ENOMEM. */
ARD_API ard_status ard_tokenize_spectrum(const ard_tokenize_options *opts, const float *flux,
                                         const float *ivar, const uint8_t *flux_valid,
                                         const uint8_t *ivar_valid, int64_t bit_offset,
                                         const uint8_t *mask, int64_t n, float *tokens,
                                         float *scales, uint8_t *patch_mask, uint8_t *flags,
                                         void *work, ard_error *err);
/* Bytes of workspace ard_tokenize_spectrum needs for n bins (n * 8). */
ARD_API size_t ard_tokenize_work_bytes(int64_t n);

/* ---- per-pixel weights (tokenize_weights.c) ----------------------------------------------------
 * The weight of a token value is what an inverse-variance weighted loss needs in token units:
 * tokens = flux / scale, so ivar * (flux - model * scale)^2 = ivar * scale^2 * (token - model)^2.
 * weights[k * patch + i] = ivar * scales[k]^2 (computed in double, clamped to FLT_MAX) for a
 * valid pixel -- valid exactly as the tokenizer defines it (non-null, finite flux and ivar,
 * ivar > 0, mask 0) -- and 0 for every invalid pixel and the padding of the last patch. scales are
 * the ones ard_tokenize_spectrum wrote for the same spectrum; weights has num_patches * patch
 * floats. Thread-safe. ARD_EINVAL (n <= 0, patch out of range, NULL pointers). */
ARD_API ard_status ard_tokenize_weights(int32_t patch, const float *flux, const float *ivar,
                                        const uint8_t *flux_valid, const uint8_t *ivar_valid,
                                        int64_t bit_offset, const uint8_t *mask, int64_t n,
                                        const float *scales, float *weights, ard_error *err);

/* ---- rest-frame tokens (tokenize_rest.c) ---------------------------------------------------------
 * On a log-lambda grid a shift to the rest frame is a translation: observed bin i (log10 lambda =
 * L0 + i d) lands at rest log10 lambda L0 + i d - log10(1 + z). The rest-frame grid is the
 * observed one's step d extended to the blue so that every z in [zmin, zmax] fits: its first bin
 * is at L0 - log10(1 + zmax) and it has n_rest = n + ceil((log10(1+zmax) - log10(1+zmin)) / d)
 * bins. A spectrum at z is placed at the integer offset
 *   shift(z) = round((log10(1 + zmax) - log10(1 + z)) / d)     (0 <= shift <= n_rest - n for z
 * in [zmin, zmax]): rest bin j holds observed bin j - shift -- the nearest-pixel translation
 * (<= 0.5 bin of error, no resampling, so the noise stays independent and IVAR exact). Rest bins
 * the spectrum does not reach are invalid (NaN flux and ivar: masked, weight 0); a z outside
 * [zmin, zmax] keeps the part that overlaps the grid; a non-finite z or z <= -1 masks the whole
 * spectrum (the loader flags it ARD_SPEC_NO_Z). Only log grids ("kind=log") qualify. */
typedef struct ard_rest_grid {
    int64_t n_obs;  /* observed bins */
    int64_t n_rest; /* rest-frame bins */
    double loglam0; /* log10 of the rest grid's first bin (Angstrom) */
    double dloglam; /* step in log10 lambda (the observed grid's) */
    double zmin, zmax;
} ard_rest_grid;

/* The rest grid for spectra of n bins on the "ard.grid" text (NULL = the default
 * "kind=log;start=3600;stop=9824;n=4096"). ARD_EINVAL: malformed or linear grid, n differs from
 * the grid's, zmin <= -1, zmax < zmin, non-finite z bounds, or n_rest above 2^24. */
ARD_API ard_status ard_rest_grid_make(const char *grid_text, int64_t n, double zmin, double zmax,
                                      ard_rest_grid *out, ard_error *err);
/* shift(z) above; INT64_MIN when z is not finite or z <= -1. */
ARD_API int64_t ard_rest_shift(const ard_rest_grid *g, double z);
/* Places one observed spectrum (n_obs flux and ivar; NaN = null) at `shift` on the rest grid:
 * out_flux[j], out_ivar[j] = flux[j - shift], ivar[j - shift] where 0 <= j - shift < n_obs, NaN
 * elsewhere (and everywhere when shift is INT64_MIN). Outputs have n_rest floats. Thread-safe. */
ARD_API void ard_rest_place(const ard_rest_grid *g, int64_t shift, const float *flux,
                            const float *ivar, float *out_flux, float *out_ivar);
/* Central rest wavelength (Angstrom) of each of the ceil(n_rest / patch) patches, as
 * ard_patch_wavelengths does for the observed grid. ARD_EINVAL for a bad patch or NULL. */
ARD_API ard_status ard_rest_wavelengths(const ard_rest_grid *g, int32_t patch, float *out,
                                        ard_error *err);

/* The exact median of values[0..count) as defined above, computed by selection (values may be
 * reordered). count must be > 0 and values free of NaN. Thread-safe. */
ARD_API float ard_median_select(float *values, int64_t count);

/* Central wavelength of each patch from the "ard.grid" text
 * ("kind=log;start=3600;stop=9824;n=4096"; NULL = that default) for n bins: the wavelength at the
 * middle of the patch's real (unpadded) bins. ARD_EINVAL when the text is malformed or its n
 * differs from n. */
ARD_API ard_status ard_patch_wavelengths(const char *grid_text, int64_t n, int32_t patch,
                                         float *out, ard_error *err);

/* ---- shared-memory batch store ------------------------------------------------------------------
 * The producer creates the store (POSIX shm "/NAME", mode 0600, O_EXCL; a stale store of a dead
 * producer under the same name is replaced); consumers connect by name (a store owned by another
 * user is refused with ARD_EPERM). Slots cycle FREE -> FILLING (one producer thread) -> FILLED
 * (published with a sequence number) -> HELD (one consumer) -> FREE. Consumers receive batches in
 * sequence order; each batch goes to exactly one consumer. A consumer process that dies holding a
 * slot has it re-queued for the others (liveness by robust mutexes); if the producer dies, waiting
 * consumers get ARD_EIO instead of hanging (within about a second). End of data is explicit
 * (ARD_EEOF). Waiting costs CPU per wake-up (a futex sleep and wake: 40-170 us on a busy VM), so a
 * lone consumer that finds nothing ready sleeps until all but 1/8 (at least one) of the slots the
 * producers can fill are ready in order (10 slots, one producer: 8; end, failure and re-queues
 * wake it at once) and takes them without sleeping: it
 * wakes about once per ring, so a deeper ring (more slots) means fewer wake-ups, for its memory.
 * With several consumers each publish wakes them. */
typedef struct ard_store ard_store;

/* Optional catalog columns of a batch (see the layout above). */
typedef enum ard_column_type {
    ARD_COLUMN_FLOAT64 = 0,
    ARD_COLUMN_INT64 = 1,
    ARD_COLUMN_TEXT = 2,
    ARD_COLUMN_FLOAT32 = 3 /* width / 4 floats per row: the loader's per-pixel "weights" */
} ard_column_type;

#define ARD_STREAM_MAX_COLUMNS 16
#define ARD_STREAM_COLUMN_NAME 64 /* bytes of a column name, NUL included */
#define ARD_STREAM_TEXT_WIDTH 16  /* default bytes per text value */

typedef struct ard_stream_column {
    const char *name; /* < ARD_STREAM_COLUMN_NAME bytes */
    int32_t type;     /* ard_column_type */
    int32_t width;    /* bytes per value: 8 for the numeric types, 1..1024 for text, a multiple
                         of 4 up to 2^28 for ARD_COLUMN_FLOAT32 */
} ard_stream_column;

/* Element types of a store's tokens (ard_store_options.token_dtype, ard_batch.token_dtype); the
 * values equal the cluster's wire formats (ARD_WIRE_* in cluster.h). */
#define ARD_TOKENS_F32 0  /* float32 */
#define ARD_TOKENS_F16 1  /* IEEE half (numpy float16) */
#define ARD_TOKENS_BF16 2 /* bfloat16 (torch.bfloat16): the upper 16 bits of a float32 */

typedef struct ard_store_options {
    const char *name; /* shm name without '/' (letters, digits, ._-; <= 200 chars); NULL: an
                         anonymous in-process store (MAP_SHARED|MAP_ANONYMOUS, fork-inheritable) */
    int32_t slots;    /* prefetch depth (default 10) */
    int64_t
        memory_cap; /* bytes; 0 = unlimited. slots are reduced to fit; < 2 slots -> ARD_ELIMIT */
    int32_t batch_size;               /* rows per batch (> 0) */
    int32_t num_patches;              /* > 0 */
    int32_t patch;                    /* > 0 */
    const float *wave;                /* num_patches central wavelengths, copied; NULL = zeros */
    int32_t num_columns;              /* catalog columns per batch, 0..ARD_STREAM_MAX_COLUMNS */
    const ard_stream_column *columns; /* num_columns descriptors (copied) */
    /* ARD_TOKENS_* (default F32). A 16-bit store holds each token as 2 bytes (the token array of a
     * slot is then half as large): the distributed stream's consumer keeps what crossed a narrow
     * wire. The loader fills float32 stores only. */
    int32_t token_dtype;
} ard_store_options;

/* A batch as seen through a store: pointers into the shared mapping (valid until release). */
typedef struct ard_batch {
    int32_t slot;
    int32_t count; /* meaningful rows (<= batch_size) */
    int64_t seq;   /* position in the stream (0, 1, ...) */
    int32_t epoch;
    int32_t batch_size, num_patches, patch;
    float *tokens;
    float *scales;
    uint8_t *mask;
    int64_t *targetid;
    uint8_t *flags;
    const float *wave;
    /* ARD_TOKENS_* of the store: with ARD_TOKENS_F16 / ARD_TOKENS_BF16, `tokens` points to
     * batch_size x num_patches x patch 16-bit values (read it as uint16_t *), not floats. */
    int32_t token_dtype;
} ard_batch;

ARD_API void ard_store_options_init(ard_store_options *opts);
/* Bytes of one slot for the given geometry. */
ARD_API int64_t ard_store_slot_bytes(int32_t batch_size, int32_t num_patches, int32_t patch);

/* Creates a store; the calling thread becomes its "producer alive" owner: if that thread's process
 * dies, consumers see ARD_EIO. A named store's memory (ard_store_size bytes) is reserved here; a
 * slot's pages are mapped in one call the first time a producer of this process claims the slot
 * (ard_store_begin_fill), not faulted in one by one as it writes them. ARD_EINVAL, ARD_ELIMIT (cap
 * too small, the store would exceed half the RAM, or /dev/shm has no room for it), ARD_EEXIST (a
 * live producer already serves NAME), ARD_EIO (shm), ARD_ENOMEM. */
ARD_API ard_status ard_store_create(const ard_store_options *opts, ard_store **out, ard_error *err);
/* Connects a consumer to the store NAME. The calling thread's liveness is tracked: keep using the
 * handle from threads of this process and close it before the process exits (a dying process is
 * handled). ARD_ENOENT (no such store, or one still being created: retry), ARD_EPERM (other user's store / mode not 0600),
 * ARD_ECORRUPT (not an ard store), ARD_ELIMIT (too many consumers, max 64), ARD_EIO. */
ARD_API ard_status ard_store_connect(const char *name, ard_store **out, ard_error *err);
/* A second consumer handle on the same mapping for an in-process consumer thread (anonymous stores,
 * or to consume from the producer's process). Same errors as connect. */
ARD_API ard_status ard_store_attach(ard_store *store, ard_store **out, ard_error *err);

/* Producer: waits for a free slot (backpressure), claims the next sequence number and returns the
 * slot to fill in *out. ARD_EEOF when the store was finished or cancelled; timeout_ms < 0 waits
 * forever, else ARD_ELIMIT after the timeout. Thread-safe (several producer threads). */
ARD_API ard_status ard_store_begin_fill(ard_store *store, int64_t timeout_ms, ard_batch *out,
                                        ard_error *err);
/* Producer: publishes a filled slot with `count` rows and its epoch. Thread-safe. */
ARD_API ard_status ard_store_publish(ard_store *store, const ard_batch *batch, int32_t count,
                                     int32_t epoch, ard_error *err);
/* Producer: gives a claimed slot back unfilled and marks its sequence number as the end of the
 * stream (no batch >= that seq will come). Thread-safe. */
ARD_API void ard_store_abandon(ard_store *store, const ard_batch *batch);
/* Producer: ends the stream. status ARD_OK = end of data (consumers drain what was published, then
 * get ARD_EEOF); any other status = failure, consumers get that status and `message`. Thread-safe.
 */
ARD_API void ard_store_finish(ard_store *store, ard_status status, const char *message);

/* Consumer: the next batch in sequence order (or a batch re-queued from a dead consumer). Blocks;
 * timeout_ms < 0 waits forever, else ARD_ELIMIT after timeout_ms; timeout_ms == 0 polls (ARD_ELIMIT
 * at once when nothing is ready, without sleeping). ARD_EEOF at the end of data, ARD_EIO when the
 * producer died, the producer's status when it failed. Thread-safe. */
ARD_API ard_status ard_store_acquire(ard_store *store, int64_t timeout_ms, ard_batch *out,
                                     ard_error *err);
/* Consumer: hands the slot back. ARD_EINVAL when this handle does not hold it. Thread-safe. */
ARD_API ard_status ard_store_release(ard_store *store, const ard_batch *batch, ard_error *err);
/* Consumer: ard_store_release(batch) when batch->slot >= 0 (a batch this handle holds), then
 * ard_store_acquire into batch: one call per batch for bindings that pay per call. Start with
 * batch->slot = -1. On any failure batch->slot is -1 unless the release itself failed (then the
 * batch is untouched and still held). Same status codes as release and acquire. Thread-safe. */
ARD_API ard_status ard_store_next(ard_store *store, int64_t timeout_ms, ard_batch *batch,
                                  ard_error *err);

/* The shared mapping (base, size) -- for zero-copy checks -- and geometry. */
ARD_API void *ard_store_base(const ard_store *store);
ARD_API int64_t ard_store_size(const ard_store *store);
ARD_API int32_t ard_store_num_slots(const ard_store *store);
ARD_API int32_t ard_store_batch_size(const ard_store *store);
ARD_API int32_t ard_store_num_patches(const ard_store *store);
ARD_API int32_t ard_store_patch(const ard_store *store);
/* Catalog columns of every batch of the store: count, and the name (borrowed from the mapping),
 * ard_column_type and bytes per value of column i (NULL / -1 / 0 when i is out of range). */
ARD_API int32_t ard_store_num_columns(const ard_store *store);
ARD_API const char *ard_store_column_name(const ard_store *store, int32_t i);
ARD_API int32_t ard_store_column_type(const ard_store *store, int32_t i);
ARD_API int32_t ard_store_column_width(const ard_store *store, int32_t i);
/* Index of the column named `name` (ASCII case-insensitive), or -1. */
ARD_API int32_t ard_store_column_find(const ard_store *store, const char *name);
/* Column i of an acquired (or claimed) batch: a pointer into the shared slot (zero copy) to
 * batch_size values (see the layout), valid while the batch is held; NULL when i or
 * batch->slot is out of range. batch must come from this store's mapping. Thread-safe. */
ARD_API void *ard_batch_column(const ard_store *store, const ard_batch *batch, int32_t i);
/* The per-pixel weights of a batch of a loader that delivers them (ard_loader_options.weights):
 * float32 [batch_size][num_patches][patch] (the store column "weights", zero copy), or NULL. */
ARD_API float *ard_batch_weights(const ard_store *store, const ard_batch *batch);
/* Slots currently held by consumers (diagnostics). */
ARD_API int32_t ard_store_held(ard_store *store);
/* 1 when the stream has ended (or failed) and every published batch was consumed and released:
 * a serving process may exit without stranding consumers. Thread-safe. */
ARD_API int32_t ard_store_drained(ard_store *store);

/* Closes a handle: a consumer releases the slots it still holds; the producer handle (creator) also
 * unlinks the name (consumers already mapped keep working and then see end of data or ARD_EIO).
 * Accepts NULL. Not thread-safe with other calls on the same handle. */
ARD_API void ard_store_close(ard_store *store);

/* ---- loader
 * -------------------------------------------------------------------------------------- */

/* One piece of a read plan: rows [first_row, first_row + num_rows) of one row group of one tile
 * (num_rows < 0 = to the end of the row group). Items may repeat a row group with other ranges. */
typedef struct ard_read_item {
    const char *path;
    int32_t row_group;
    int64_t first_row;
    int64_t num_rows;
} ard_read_item;

/* A plan's read items (one per run of consecutive planned rows), for APIs that take items (the
 * cluster's distributed serve). Caller-owned; ard_read_items_reset frees it (safe twice). */
typedef struct ard_read_items {
    ard_read_item *items; /* count items; their paths point into `paths` */
    int64_t count, cap;
    char **paths; /* num_paths plan files joined to the dataset root */
    int32_t num_paths;
} ard_read_items;
/* Fills *out from `plan` (paths relative to `dataset`; absolute ones kept). ARD_EINVAL (NULL
 * arguments), ARD_ECORRUPT (a chunk naming a file the plan lacks), ARD_ENOMEM; on failure *out is empty. */
ARD_API ard_status ard_read_items_from_plan(const char *dataset, const ard_plan *plan,
                                            ard_read_items *out, ard_error *err);
ARD_API void ard_read_items_reset(ard_read_items *items);

typedef struct ard_loader_options {
    int32_t batch_size;           /* default 256 */
    int32_t prefetch_batches;     /* store slots (default 10) */
    int32_t shuffle;              /* 1: row groups shuffled per epoch (+ local shuffle buffer) */
    int64_t local_shuffle_buffer; /* rows (0 = none); only with shuffle */
    uint64_t seed;                /* shuffle seed; the epoch number is mixed in */
    int32_t epochs;               /* default 1 */
    int32_t drop_last;            /* 1: drop a short last batch of each epoch */
    int32_t rank, world; /* shard: this process gets its 1/world of every epoch (default 0, 1) */
    int32_t threads;     /* producer threads (default 2) */
    /* Bytes for the store, the epoch cache and the decoded row groups (0 = unlimited). One
     * decoded row group (FLUX + IVAR floats + TARGETIDs of the largest row group) is reserved
     * first, the store's slots shrink to fit the rest, the cache is used only if it fits beside
     * them; producers that would decode past the cap wait while another producer is filling a
     * batch (so at least one always proceeds). Not counted: the tokenizer workspace, the tile
     * footers and mapped chunks, the Parquet reader's buffers (a fixed allowance; README
     * "Reliability"). ARD_ELIMIT when the cap does not hold one decoded row group and 2 slots. */
    int64_t memory_cap;
    int32_t cache;          /* 1: keep tokenized spectra in memory after epoch 1 (if within cap) */
    const char *store_name; /* NULL: anonymous in-process store */
    const char *flux_column, *ivar_column, *id_column; /* defaults FLUX, IVAR, TARGETID */
    ard_tokenize_options tokenize;
    /* Optional catalog columns: a comma-separated list of columns of the index's `galaxies` table
     * ("Z,SPECTYPE"; NULL or "" = none; at most ARD_STREAM_MAX_COLUMNS). Names are identifiers
     * (letters, digits, '_'), case-insensitive, and must be catalog columns of the index
     * (TARGET_RA, TARGET_DEC, Z, ZERR, ZWARN, DELTACHI2, SPECTYPE, SUBTYPE, HEALPIX, SURVEY,
     * PROGRAM, DESI_TARGET, BGS_TARGET, FLUX_G, FLUX_R, FLUX_Z, EBV, COADD_FIBERSTATUS,
     * TARGET_CLASS, TARGETID); the store names them in upper case. Real-valued columns become
     * ARD_COLUMN_FLOAT64, integer ones ARD_COLUMN_INT64, text ones ARD_COLUMN_TEXT of text_width
     * bytes. Each batch's values are looked up in the index by the batch's TARGETIDs (one query
     * per batch, also in cached epochs). A spectrum without a catalog row, or a NULL value, gives
     * NaN (float64), 0 (int64) or an empty string (text: all NUL bytes). */
    const char *columns;
    int32_t text_width;        /* bytes per text value, 1..1024 (default ARD_STREAM_TEXT_WIDTH) */
    const char *index_dataset; /* where the catalog columns come from: as ard_index_open's */
    const char *index_dsn;     /* dataset/dsn; NULL = the loader's dataset (ard_loader_new_dataset,
                                  ard_loader_new_query); ard_loader_new needs one of them */
    /* Per-pixel weights beside the tokens (ard_tokenize_weights): 1 adds the store column
     * "weights" (ARD_COLUMN_FLOAT32, num_patches * patch floats per row, after the catalog
     * columns; read it with ard_batch_weights). 0 (default): no weights and IVAR is read only for
     * the validity of pixels, as before. */
    int32_t weights;
    /* ard_frame: ARD_FRAME_OBSERVED (default) or ARD_FRAME_REST: every spectrum placed on the
     * rest-frame grid of ard_rest_grid_make(tile grid, width, rest_zmin, rest_zmax) by the
     * catalog Z of its TARGETID (the column "Z" is added to the catalog columns when not asked
     * for; needs the index). num_patches and the store's wave follow the rest grid. A spectrum
     * without a usable Z is all masked with flags ARD_SPEC_ALL_MASKED | ARD_SPEC_NO_Z. */
    int32_t frame;
    double rest_zmin, rest_zmax; /* default 0 and 1.6 */
    /* What a row group that cannot be read (ARD_EIO, ARD_ECORRUPT, ARD_ECHECKSUM, ARD_EEOF,
     * ARD_ENOTSUP, ARD_EINVAL, ARD_ERANGE, ARD_ENOENT: a truncated, corrupt or foreign tile) does to
     * the stream (enum ard_on_error): ARD_ON_ERROR_FAIL (default) fails it with that error;
     * ARD_ON_ERROR_SKIP leaves the row group's rows out of their batches (which come out shorter,
     * possibly empty), keeps going, and records (tile, row group, error) once per row group
     * (ard_loader_num_skipped / ard_loader_skipped). Out of memory, limits and index errors
     * always fail the stream. */
    int32_t on_error;
} ard_loader_options;

typedef enum ard_frame { ARD_FRAME_OBSERVED = 0, ARD_FRAME_REST = 1 } ard_frame;

enum ard_on_error { ARD_ON_ERROR_FAIL = 0, ARD_ON_ERROR_SKIP = 1 };

typedef struct ard_loader ard_loader;

ARD_API void ard_loader_options_init(ard_loader_options *opts);
/* Builds a loader over `items` (copied): the option strings and item paths are copied too, so the
 * caller's may be freed once this returns. Opens every tile's footer, checks the columns and that all
 * tiles share one spectrum width, computes the geometry and creates the store. With catalog
 * columns it opens the index read-only (kept open for the loader's life) and checks each name.
 * Does not start producing. ARD_EINVAL (options, items, columns; an unknown catalog column is
 * named in the message), the index's errors, ARD_ENOENT/ARD_EIO/ARD_ECORRUPT (tiles),
 * ARD_ELIMIT (memory cap), store errors. On failure *out is NULL. */
ARD_API ard_status ard_loader_new(const ard_loader_options *opts, const ard_read_item *items,
                                  int64_t num_items, ard_loader **out, ard_error *err);
/* Same over every row group of every *.parquet under DATASET/tiles/ (sorted paths). ARD_ENOENT
 * when there is no tile. */
ARD_API ard_status ard_loader_new_dataset(const ard_loader_options *opts, const char *dataset,
                                          ard_loader **out, ard_error *err);
/* Same over the spectra of a read plan (dataset.h: ard_index_query's result, or a plan file read
 * with ard_plan_load), each run of consecutive planned rows one item; plan paths are relative to
 * `dataset` (absolute ones are kept). Catalog columns default to DATASET's index. The plan may be
 * freed once this returns. ARD_EINVAL when the plan selects nothing, then as ard_loader_new. */
ARD_API ard_status ard_loader_new_plan(const ard_loader_options *opts, const char *dataset,
                                       const ard_plan *plan, ard_loader **out, ard_error *err);
/* Same over the spectra selected by `where` (a SQL predicate over the catalog, run read-only by
 * the dataset's index: ard_index_query; NULL or "" = every indexed spectrum). dsn: as
 * ard_index_open (NULL = DATASET/ard.db). Errors: the index's (ARD_ENOENT without an index,
 * ARD_EDB, ARD_EPERM, ARD_EINVAL), ARD_EINVAL when nothing is selected, then as ard_loader_new. */
ARD_API ard_status ard_loader_new_query(const ard_loader_options *opts, const char *dataset,
                                        const char *dsn, const char *where, ard_loader **out,
                                        ard_error *err);
/* Starts the producer threads (once). ARD_EINVAL when already started. */
ARD_API ard_status ard_loader_start(ard_loader *loader, ard_error *err);
/* The loader's store (owned by the loader): consume with ard_store_attach + acquire/release. */
ARD_API ard_store *ard_loader_store(ard_loader *loader);
/* Spectra per epoch for this shard, and batches per epoch. */
ARD_API int64_t ard_loader_rows_per_epoch(const ard_loader *loader);
ARD_API int64_t ard_loader_batches_per_epoch(const ard_loader *loader);
/* 1 when the epoch cache is active (it fitted in the cap). */
ARD_API int32_t ard_loader_cache_active(const ard_loader *loader);
/* Distinct (tile, row group) pairs left out so far under ARD_ON_ERROR_SKIP (0 under FAIL).
 * Thread-safe: may be called while the stream runs. */
ARD_API int64_t ard_loader_num_skipped(ard_loader *loader);
/* The i-th skipped row group, in the order they failed: the tile's path and the error's message
 * are copied into the caller's buffers (truncated to fit, NUL-terminated; either may be NULL
 * with cap 0), *row_group and *status (may be NULL) receive the row group and its ard_status,
 * *times (may be NULL) how many batches left rows of it out. Thread-safe.
 * ARD_ERANGE when i is not below ard_loader_num_skipped, ARD_EINVAL for a NULL loader. */
ARD_API ard_status ard_loader_skipped(ard_loader *loader, int64_t i, char *path, size_t path_cap,
                                      int32_t *row_group, int32_t *status, char *message,
                                      size_t message_cap, int64_t *times, ard_error *err);
/* Appends the skipped row groups not recorded yet to the index table stream_skips(path, row_group,
 * status, message, times, tile_mtime_ns) of the loader's index (options index_dataset /
 * index_dsn, which ard_loader_new_dataset, _new_plan and _new_query default to their dataset),
 * opened read-write for the call: path is relative to the dataset as in the index's files table,
 * tile_mtime_ns the tile's modification time now (NULL when it cannot be stat'ed). The
 * datasheet's next run lists them: the skips of indexed tiles whose indexed mtime is not newer
 * (a tile rewritten and re-synced drops out until a stream meets a bad row group in it again).
 * ard_loader_free calls it (errors ignored: the skips stay in the stream's report); call it first
 * to see its errors. Nothing to record, or no index: ARD_OK. Not thread-safe against a concurrent
 * call on the same loader. Errors: those of ard_index_open and ard_index_write_table (ARD_EDB,
 * ARD_EPERM read-only database), ARD_ENOMEM; the message says how many skips were not recorded. */
ARD_API ard_status ard_loader_record_skips(ard_loader *loader, ard_error *err);
/* Waits for the producer threads to finish; returns the first error they hit. */
ARD_API ard_status ard_loader_wait(ard_loader *loader, ard_error *err);
/* Stops the producers (consumers see the end of data), joins them, records the skipped row groups
 * in the index (ard_loader_record_skips, errors ignored) and frees everything. Accepts NULL. */
ARD_API void ard_loader_free(ard_loader *loader);

/* ---- distributed stream hooks (the producer side of src/cluster's transport) ---------------------
 * Restricts a loader, before ard_loader_start, to part `part` of `parts` of the global stream: the
 * global batches g with (g / chunk) % parts == part (chunk 0 = ard_loader_default_chunk). Its store
 * then holds exactly those batches, in increasing g, under store sequence numbers 0, 1, ...;
 * ard_loader_global_batch maps one back to g. Every spectrum of g is the one a loader without
 * selection puts into batch g (same options, same seed). Row groups are decoded only for the
 * selected batches. ARD_EINVAL (bad part/parts/chunk, already started or selected). */
ARD_API ard_status ard_loader_select_batches(ard_loader *loader, int32_t part, int32_t parts,
                                             int32_t chunk, ard_error *err);
/* About one row group's worth of batches (average rows per row group / batch_size, 1..1024). */
ARD_API int32_t ard_loader_default_chunk(const ard_loader *loader);
/* Batches this loader produces over all epochs (after a selection: its share). */
ARD_API int64_t ard_loader_total_batches(const ard_loader *loader);
/* The global batch number of the loader's store sequence number `seq`. */
ARD_API int64_t ard_loader_global_batch(const ard_loader *loader, int64_t seq);
/* The store's patch wavelengths (num_patches floats inside the mapping; NULL for NULL). */
ARD_API const float *ard_store_wave(const ard_store *store);
/* The raw bytes of a claimed or acquired batch's slot (every array of the layout, tokens first at
 * offset 0); *size receives the slot size. Valid while the batch is held; NULL when batch->slot is
 * out of range. A transport copies slots whole between stores of equal geometry. */
ARD_API void *ard_batch_bytes(const ard_store *store, const ard_batch *batch, int64_t *size);

// ---- the serve stage (`ard stream serve`) ------------------------------------------------------

typedef struct ard_stream_serve_report {
    int64_t rows_per_epoch;    /* spectra per epoch of this shard */
    int64_t batches_per_epoch; /* batches per epoch */
    int64_t skipped;           /* row groups skipped (loader.on_error = ARD_ON_ERROR_SKIP) */
    int32_t interrupted;       /* 1: ended by *stop before every batch was consumed */
} ard_stream_serve_report;

/* Caller-filled; ard_stream_serve_options_init zeroes it and sets loader to
 * ard_loader_options_init's defaults. Strings and the plan are borrowed for the call. */
typedef struct ard_stream_serve_options {
    ard_loader_options loader; /* batches, shuffle, epochs, shard; loader.store_name: required */
    const char *dataset;       /* required: the dataset directory */
    /* What to serve, at most one of: where (a predicate run by the index at dsn, NULL = the
     * dataset's ard.db), plan_path (a plan file, ard_plan_load: "/dev/stdin" reads a pipe), plan;
     * none: every row group of every tile. */
    const char *where;
    const char *dsn;
    const char *plan_path;
    const ard_plan *plan;
    /* Optional: the serve ends early when *stop becomes nonzero (a signal handler may set it):
     * consumers then see ARD_EIO "the stream's server was interrupted". Polled every poll_ms
     * (<= 0: 20 ms). */
    const volatile int32_t *stop;
    int32_t poll_ms;
    /* Optional: called once the store exists (report's epoch sizes filled), before the producers
     * start; and once at the end, before the loader is freed (e.g. to list ard_loader_skipped). */
    void (*on_started)(void *ctx, const ard_stream_serve_report *report);
    void (*on_finished)(void *ctx, ard_loader *loader);
    void *ctx;
} ard_stream_serve_options;

ARD_API void ard_stream_serve_options_init(ard_stream_serve_options *opts);
/* The serve stage: creates the store loader.store_name, produces every batch of every epoch into
 * it and returns when consumers in other processes (ard_store_connect, Python's
 * ard.connect_stream) have consumed them all, or when *stop is set; the store's name is removed
 * on return. Blocks the calling thread; not MPI-collective (the distributed serve is
 * ard_cluster_stream_serve). report may be NULL. Errors: ARD_EINVAL (no dataset or store name,
 * more than one source), ARD_EIO (interrupted by *stop), those of ard_plan_load,
 * ard_loader_new_query / _new_plan / _new_dataset, ard_loader_start and ard_loader_wait. */
ARD_API ard_status ard_stream_serve(const ard_stream_serve_options *opts,
                                    ard_stream_serve_report *report, ard_error *err);

// ---- the bench stage (`ard stream bench`) ------------------------------------------------------

/* What a bench consumed, and how fast (filled by ard_stream_bench, zeroed first). */
typedef struct ard_stream_bench_report {
    int64_t batches;      /* batches consumed */
    int64_t spectra;      /* spectra in them */
    int64_t catalog_rows; /* rows whose first catalog column holds a value (not NaN / 0 / "") */
    int64_t skipped; /* row groups skipped (loader.on_error = ARD_ON_ERROR_SKIP; 0 connected) */
    double seconds;  /* wall time from the first acquire to the end of the stream */
    double consumer_cpu_seconds;      /* CPU time of the consuming thread in that time */
    double batches_per_second;        /* batches / seconds (0 when seconds is 0) */
    double spectra_per_second;        /* spectra / seconds */
    double consumer_cpu_us_per_batch; /* consumer_cpu_seconds / batches, in microseconds */
    int32_t num_columns;              /* catalog columns carried by the batches */
    char columns[1024];               /* their names, comma-separated (truncated to fit) */
} ard_stream_bench_report;

/* Caller-filled; ard_stream_bench_options_init zeroes it and sets loader to ard_loader_options_init's
 * defaults. Strings and the plan are borrowed for the call. */
typedef struct ard_stream_bench_options {
    ard_loader_options loader; /* producers in this process (ignored with connect) */
    /* Consume a stream another process serves (ard_store_connect) instead of producing one. */
    const char *connect;
    /* Else a loader in this process over dataset (required then) and at most one of where (with
     * dsn), plan_path, plan, exactly as ard_stream_serve_options. */
    const char *dataset;
    const char *where;
    const char *dsn;
    const char *plan_path;
    const ard_plan *plan;
    /* Optional: called once at the end, before the loader is freed (not with connect). */
    void (*on_finished)(void *ctx, ard_loader *loader);
    void *ctx;
} ard_stream_bench_options;

ARD_API void ard_stream_bench_options_init(ard_stream_bench_options *opts);
/* The bench stage: consumes every batch of the stream as a trainer would (each batch acquired, its
 * first token read, released) on the calling thread and measures batches/s, spectra/s and the
 * consumer's CPU time per batch; producer threads run in this process (or in the serving process
 * with connect). Blocks; not MPI-collective. report may be NULL. Errors: ARD_EINVAL (neither
 * connect nor dataset, both, more than one source), those of ard_store_connect, ard_plan_load,
 * ard_loader_new_*, ard_loader_start and ard_store_acquire (the stream's own error, e.g. a corrupt
 * row group with on_error fail). */
ARD_API ard_status ard_stream_bench(const ard_stream_bench_options *opts,
                                    ard_stream_bench_report *report, ard_error *err);

#ifdef __cplusplus
}
#endif
#endif
