/* ard core: status codes, errors, allocation, files, thread pool, progress, JSON.
 *
 * Every fallible function in ard returns an ard_status and takes `ard_error *err` last (may be NULL).
 * The innermost failure writes the message; outer layers may prefix context (ard_error_prefix) but never
 * replace the root cause. The library never prints, exits or aborts on bad input. */
#ifndef ARD_CORE_H
#define ARD_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ARD_BUILDING_LIBRARY)
#define ARD_API __attribute__((visibility("default")))
#else
#define ARD_API
#endif

#define ARD_VERSION_STRING "0.1.0"

/* The one list of status codes. Append only: values are part of the ABI. */
#define ARD_STATUS_LIST(X)                                                                         \
    X(ARD_OK, 0, "ok")                                                                             \
    X(ARD_EINVAL, 1, "invalid argument")                                                           \
    X(ARD_ENOMEM, 2, "out of memory")                                                              \
    X(ARD_EIO, 3, "input/output error")                                                            \
    X(ARD_ENOENT, 4, "no such file or object")                                                     \
    X(ARD_ECORRUPT, 5, "corrupt or malformed data")                                                \
    X(ARD_ENOTSUP, 6, "not supported")                                                             \
    X(ARD_ERANGE, 7, "value out of range")                                                         \
    X(ARD_ELIMIT, 8, "resource limit exceeded")                                                    \
    X(ARD_ECHECKSUM, 9, "checksum mismatch")                                                       \
    X(ARD_EEXIST, 10, "already exists")                                                            \
    X(ARD_EDB, 11, "database error")                                                               \
    X(ARD_EPERM, 12, "permission denied")                                                          \
    X(ARD_EEOF, 13, "end of data")                                                                 \
    X(ARD_EINTERNAL, 14, "internal error")

typedef enum ard_status {
#define ARD__STATUS_ENUM(name, value, text) name = value,
    ARD_STATUS_LIST(ARD__STATUS_ENUM)
#undef ARD__STATUS_ENUM
} ard_status;

/* Static English text for a status ("corrupt or malformed data"); never NULL. Thread-safe. */
ARD_API const char *ard_status_str(ard_status status);
/* Symbolic name of a status ("ARD_ECORRUPT"); never NULL. Thread-safe. */
ARD_API const char *ard_status_name(ard_status status);

/* Number of status codes: the values are 0 .. ard_status_count() - 1 (bindings build their error
 * classes from ard_status_name over this range). Thread-safe. */
ARD_API int32_t ard_status_count(void);

/* The library's version ("0.1.0"), the CMake project version it was built as; static string.
 * Bindings compare it with their own version before use. Thread-safe. */
ARD_API const char *ard_version(void);

/* Error details filled by the innermost failing call. Caller-owned; zero-initialise or ard_error_init. */
typedef struct ard_error {
    ard_status code;
    int sys_errno; /* errno of the failing system call, or 0 */
    char msg[512];
} ard_error;

ARD_API void ard_error_init(ard_error *err);
/* Sets code and message (printf-style) if err is non-NULL and no message was set yet (first message wins).
 * Returns `code` so callers can write `return ard_error_set(err, ARD_EINVAL, "...")`. */
ARD_API ard_status ard_error_set(ard_error *err, ard_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like ard_error_set, also records errno and appends strerror(sys_errno). */
ARD_API ard_status ard_error_set_errno(ard_error *err, ard_status code, int sys_errno,
                                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Prefixes context ("reading tile x: ") to an existing message; keeps the code (an err with no
 * message yet gets just the prefix, and its code stays as it was). */
ARD_API void ard_error_prefix(ard_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- allocation: every allocation in ard goes through these (tests inject failures) ---- */
/* Return NULL on failure (or injected failure); ard_malloc(0) returns a unique non-NULL pointer. */
ARD_API void *ard_malloc(size_t size);
ARD_API void *ard_calloc(size_t count, size_t size);
ARD_API void *ard_realloc(void *ptr, size_t size);
ARD_API void ard_free(void *ptr);
ARD_API char *ard_strdup(const char *s);
/* Asks the kernel for transparent huge pages over the whole 2 MiB pages inside [p, p + bytes) of a
 * big buffer about to be written (madvise MADV_HUGEPAGE): first-touch page faults then come once per
 * 2 MiB instead of once per 4 KiB (they were two thirds of a 6.4M-row sort's CPU). A hint only:
 * nothing happens where the system has no such pages, and never an error. Thread-safe. */
ARD_API void ard_advise_huge(void *p, size_t bytes);
/* Test hook: make the n-th allocation from now fail (n >= 1); 0 disables. Process-wide, not thread-safe. */
ARD_API void ard_alloc_fail_after(long n);
/* Number of allocations made since process start (for tests). */
ARD_API long ard_alloc_count(void);

/* ---- I/O fault injection (tests) ----
 * Core's file I/O counts its system calls by kind: opens of ard_file_open_regular and of the
 * atomic writer's temporary file, reads of ard_pread_full, writes, fsyncs and renames of the atomic
 * writer (every Parquet writer, the table writer, the datasheet, fetch exports). Armed, the nth
 * call (1-based, counted from arming) of the kinds in `ops` (a mask of enum ard_io_op) fails as if
 * the system call had set errno to `sys_errno` (ENOSPC, EIO, EDQUOT, ...); ARD_IO_SHORT_WRITE makes
 * a write put half its bytes and then fail with ENOSPC. nth = 0 counts without failing (to size a
 * sweep); ops = 0 disarms. Process-wide and thread-safe. The environment variable
 * ARD_IO_FAIL="KINDS:N:ERRNO" arms it at the first I/O call (KINDS: open, read, write, fsync,
 * rename or any, joined with '+'; ERRNO: ENOSPC, EIO, EDQUOT or short), for tests of the CLI.
 * ARD_IO_KILL (ERRNO "kill") raises SIGKILL at that call instead: a kill -9 at a chosen point of a
 * writer's I/O, for kill sweeps that must land in the write phase. */
enum ard_io_op {
    ARD_IO_OPEN = 1,
    ARD_IO_READ = 2,
    ARD_IO_WRITE = 4,
    ARD_IO_FSYNC = 8,
    ARD_IO_RENAME = 16,
    ARD_IO_ANY = 31
};
#define ARD_IO_SHORT_WRITE (-1)
#define ARD_IO_KILL (-2)
ARD_API void ard_io_fail_nth(int32_t ops, int64_t nth, int32_t sys_errno);
/* Calls of the armed kinds since arming. */
ARD_API int64_t ard_io_calls(void);

/* ---- files ---- */
/* A read-only view of a whole file: mmap for regular files (an empty file gives data == NULL,
 * size == 0), read into memory for pipes (FIFOs; opening never blocks). Devices, sockets and
 * directories are refused with ARD_EINVAL. A mapping faults (SIGBUS) if another process truncates
 * the file: ard's own readers of tiles use positional reads (ard_parquet_open) instead. */
typedef struct ard_mapped_file {
    const uint8_t *data;
    int64_t size;
    void *impl_;
} ard_mapped_file;
/* Maps `path` read-only. ARD_ENOENT / ARD_EIO with the path in the message. Release with ard_file_unmap. */
ARD_API ard_status ard_file_map(const char *path, ard_mapped_file *out, ard_error *err);
ARD_API void ard_file_unmap(ard_mapped_file *file);

/* Reads exactly `len` bytes at `offset` of fd (retries short reads, EINTR). ARD_EIO / ARD_EEOF. */
ARD_API ard_status ard_pread_full(int fd, void *buf, size_t len, int64_t offset, const char *path,
                                  ard_error *err);
/* Size in bytes of the file at `path`. ARD_ENOENT / ARD_EIO naming the path. */
ARD_API ard_status ard_file_size(const char *path, int64_t *size_out, ard_error *err);
/* Opens `path` read-only (O_CLOEXEC) for a reader of regular files, never blocking on a special
 * file: the open is non-blocking (a FIFO without a writer would otherwise wait forever), fstat then
 * refuses anything but a regular file (FIFO, character or block device, socket, directory) with
 * ARD_EIO naming the path and its kind, and O_NONBLOCK is cleared before the descriptor is
 * returned. ARD_ENOENT / ARD_EPERM / ARD_EIO when open or fstat fails. On success *fd_out is a
 * descriptor the caller closes and *size_out (may be NULL) the file's size; on failure *fd_out is -1.
 * Thread-safe. */
ARD_API ard_status ard_file_open_regular(const char *path, int *fd_out, int64_t *size_out,
                                         ard_error *err);

/* Confines a path read from an index or a read plan to its dataset (an ard.db is a file people
 * share: a crafted one must not make ard open anything outside the dataset). `rel` must be a
 * non-empty relative path without a ".." component; root/rel, with every symbolic link resolved,
 * must lie inside root (itself resolved). A path that does not exist passes (opening it then fails
 * with ARD_ENOENT). `what` names the source for the message, e.g. "index files row 12" (NULL:
 * "path"). On success *out is the ard_malloc'd path "root/rel" (the caller frees it); on failure
 * NULL. ARD_EPERM (absolute, "..", outside through a link), ARD_EINVAL (NULL root or rel),
 * ARD_ENOENT (root missing), ARD_EIO, ARD_ENOMEM. Thread-safe. A link swapped between this check
 * and the open is not caught. */
ARD_API ard_status ard_path_confine(const char *root, const char *rel, const char *what, char **out,
                                    ard_error *err);
/* The absolute path, every link resolved, of the file or directory open as `fd` (O_PATH will do),
 * into out (PATH_MAX bytes): one readlink of /proc/self/fd/N, so it names what the descriptor
 * holds, whatever was renamed or swapped for a link since the open. Without /proc (or when the
 * file was deleted) it is realpath(path), path being what fd was opened from. ARD_EINVAL (that
 * fallback without a path), ARD_ENOENT, ARD_EIO (realpath's errors). Thread-safe. */
ARD_API ard_status ard_path_real_fd(int fd, const char *path, char *out, ard_error *err);

/* Atomic, durable write: data goes to a temporary file in the target's directory; commit fsyncs it,
 * renames it over the final path and fsyncs the directory. abort (or a crash) leaves the old file intact.
 * Writes are gathered into 4 MiB units at 4 MiB-aligned offsets before they reach the kernel (so the
 * page cache holds the file in huge-page folios: cheaper to write and to read back), which means a
 * write error may surface at a later ard_atomic_write or at commit; it still names the file and the
 * offset, and the final path is never touched. At most 4 MiB of buffer per open file. */
typedef struct ard_atomic_file ard_atomic_file;
ARD_API ard_status ard_atomic_open(const char *final_path, ard_atomic_file **out, ard_error *err);
ARD_API ard_status ard_atomic_write(ard_atomic_file *f, const void *data, size_t len,
                                    ard_error *err);
/* Bytes written so far (the current file offset). */
ARD_API int64_t ard_atomic_tell(const ard_atomic_file *f);
/* Commits and frees f (also on failure). */
ARD_API ard_status ard_atomic_commit(ard_atomic_file *f, ard_error *err);
/* Makes commit skip both fsyncs: the file still appears atomically (complete or not at all while
 * the system runs), but is durable only once the caller syncs the file system (ard_sync_filesystem)
 * — for writers of many files (a survey's tiles) that sync once at the end instead of per file. */
ARD_API void ard_atomic_defer_sync(ard_atomic_file *f);
/* Asks for the file's whole 4 MiB units to be written with O_DIRECT (call before the first write;
 * later it is ignored), straight to the device without the page cache's copy -- for writers of
 * large files nobody reads back soon (a survey's tiles). The units are gathered (one copy) and, from
 * the first full unit on, written by an I/O thread of the file's own while the caller gathers the
 * next: at most 3 units (12 MiB) per open file, the caller waits only when all are in flight (if
 * the thread cannot be started the units are written by the caller). A failed unit write comes
 * back from a later ard_atomic_write or from commit, naming the file and the unit's offset; later
 * units are dropped and commit never renames. At commit the tail's whole 4096-byte blocks also go
 * with O_DIRECT, its last partial block through the page cache, so a deferred-sync file leaves at
 * most one block for the file-system sync. Where the file system refuses O_DIRECT (fcntl or the
 * write fails with EINVAL: tmpfs on older kernels, some FUSE and network file systems) the rest of
 * the file is written through the page cache as without this call. Commit's fsync and rename, the
 * deferred sync and the error messages are unchanged. */
ARD_API void ard_atomic_direct_io(ard_atomic_file *f);
/* Bytes written with O_DIRECT so far (0 without ard_atomic_direct_io or after a fallback); waits
 * for the units in flight. */
ARD_API int64_t ard_atomic_direct_bytes(const ard_atomic_file *f);
/* A batch of atomic files committed in the background (a survey's tiles): commit of a file that has
 * an I/O thread (ard_atomic_direct_io, at least one full unit) returns once the file is handed to
 * that thread, which writes what is queued and the tail, fdatasyncs the temporary (its bytes and
 * size durable) and only then renames it into place; a file without one (smaller than a unit, or
 * buffered) is written and closed at commit and renamed by finish after one syncfs of its file
 * system (one journal commit for many small files). So no file of a batch is renamed before its
 * bytes are durable, and the caller makes the next file meanwhile. A file that already failed (a
 * unit's write) is removed and its commit returns the error, as without a batch. At most
 * max_pending files (>= 1) hold their buffers while their last bytes go out (memory: up to 3 units
 * of 4 MiB per O_DIRECT file), and at most 64 commits run at once (concurrent syncs share the file
 * system's journal commits: many small files need many at once); a commit beyond either waits. The unit buffers of finished files are kept
 * for the next files of the batch (at most 16, 64 MiB; freed by finish): a fresh buffer costs a
 * page fault per 4 KiB. Thread-safe: files of one batch may be written and committed from several
 * threads. */
typedef struct ard_atomic_batch ard_atomic_batch;
ARD_API ard_status ard_atomic_batch_new(int32_t max_pending, ard_atomic_batch **out,
                                        ard_error *err);
/* Puts f in batch b (call before the first write; defer_sync is ignored for it). */
ARD_API void ard_atomic_in_batch(ard_atomic_file *f, ard_atomic_batch *b);
/* Adds `dir` (and every directory above it) to those finish fsyncs: for directories the caller
 * created whose files are durable already (written without the batch). */
ARD_API void ard_atomic_batch_add_dir(ard_atomic_batch *b, const char *dir);
/* Waits for every commit handed to b, fsyncs the directory of each renamed file and every
 * directory above it (so directories a writer created are durable too; ".." of a relative path's
 * first component is "."), frees b (also on failure; accepts NULL) and returns the first failure:
 * a write, fdatasync, syncfs or rename (ARD_EIO / ARD_ENOENT, naming the file and its temporary, which is
 * removed; that file never appears) or a directory fsync. Call it once, after every file of the
 * batch was committed or aborted. */
ARD_API ard_status ard_atomic_batch_finish(ard_atomic_batch *b, ard_error *err);
/* Flushes the whole file system holding `path` (syncfs). ARD_EIO / ARD_ENOENT naming the path. */
ARD_API ard_status ard_sync_filesystem(const char *path, ard_error *err);
/* Deletes the temporary file and frees f; accepts NULL. */
ARD_API void ard_atomic_abort(ard_atomic_file *f);
/* Removes the temporary files that killed atomic writers left in `dir` (and, when `recursive` is
 * 1, its subdirectories that are not hidden, without following links). A temporary is removed only
 * when it was created on this machine since its last boot by a process that no longer runs (pid
 * and start time in the name): a live writer's, another machine's on a shared file system, or a
 * file in another naming form is never touched. ard_atomic_open sweeps the target's directory;
 * ard_sync sweeps the whole dataset. *removed (may be NULL) counts the files removed. A missing
 * `dir` is OK. ARD_EINVAL (NULL dir), ARD_EIO (a directory cannot be read), ARD_ENOMEM.
 * Thread-safe. */
ARD_API ard_status ard_atomic_sweep(const char *dir, int32_t recursive, int64_t *removed,
                                    ard_error *err);
/* ard_atomic_sweep's rule for one directory entry, for a walker that reads the directory anyway
 * (sync's walk of the dataset): init reads this machine's boot id (without /proc no temporary can
 * be proven stale, and entry does nothing). entry removes dirfd/name when it is a temporary of a
 * dead writer on this machine and a regular file (a link is not followed), returning 1; else 0. A
 * name not in the temporaries' form costs no system call. Thread-safe after init. */
typedef struct ard_atomic_sweeper {
    char boot[9];
    int32_t active;
} ard_atomic_sweeper;
ARD_API void ard_atomic_sweeper_init(ard_atomic_sweeper *s);
ARD_API int32_t ard_atomic_sweep_entry(const ard_atomic_sweeper *s, int dirfd, const char *name);
/* Whole-buffer convenience over the three calls above. */
ARD_API ard_status ard_file_write_atomic(const char *path, const void *data, size_t len,
                                         ard_error *err);

/* ---- optional libraries opened on first use ----
 * Some dependencies are opened with dlopen when first needed rather than linked, so a command that
 * does not use them does not pay for loading them: OpenBLAS (the nn layers; its pthread build starts
 * a spinning worker thread when loaded), libpq (the PostgreSQL backend) and cfitsio (FITS ingest).
 * ard's modules open each through ard_dynlib_load below; bindings have no need of either.
 *
 * Opens the first of names[0 .. name_count) that dlopen accepts (RTLD_NOW | RTLD_LOCAL; a name with
 * a '/' is a path, else a soname searched as the dynamic linker does; a repeated name is tried
 * once), then resolves
 * symbols[i] into slots[i] for every i < symbol_count. The library stays loaded for the life of the
 * process. `what` names the feature for messages ("PostgreSQL support"). Errors: ARD_ENOTSUP when no
 * name opens ("<what> needs <names[0]>: <dlerror() of names[0]>", the other names' errors after it)
 * or a symbol is missing ("<what>: <library> has no <symbol>: <dlerror()>"; every slot is NULL and
 * the library is closed again), ARD_EINVAL (NULL arguments or counts below 1). Thread-safe. */
ARD_API ard_status ard_dynlib_open(const char *what, const char *const *names, int32_t name_count,
                                   const char *const *symbols, void **slots, int32_t symbol_count,
                                   ard_error *err);

/* The same, at most once per process: a module keeps one static ard_dynlib_once per library and
 * calls ard_dynlib_load before each use. The first call opens the library (ard_dynlib_open into
 * `slots`, static storage of symbol_count entries) and, when that worked, calls fill(slots) so the
 * module can keep typed pointers; both run under one lock, before any caller sees the outcome.
 * Every later call returns the first one's outcome at the cost of one atomic load: ARD_OK, or the
 * first error again (its code and message). Thread-safe. The fields before `state` are the
 * caller's (a static initializer); `state` and `error` are ard's (start them zeroed). */
typedef struct ard_dynlib_once {
    const char *what;
    const char *const *names;
    int32_t name_count;
    const char *const *symbols;
    void **slots;
    int32_t symbol_count;
    void (*fill)(void *const *slots); /* may be NULL */
    int32_t state;                    /* 0: not tried; 1: loaded; 2: failed (then `error`) */
    ard_error error;
} ard_dynlib_once;
ARD_API ard_status ard_dynlib_load(ard_dynlib_once *lib, ard_error *err);

/* ---- thread pool ---- */
typedef struct ard_pool ard_pool;
typedef void (*ard_task_fn)(void *arg, int64_t index, int thread_id);
/* threads <= 0: number of online CPUs. */
ARD_API ard_status ard_pool_new(int threads, ard_pool **out, ard_error *err);
ARD_API int ard_pool_threads(const ard_pool *pool);
/* Runs fn(arg, i, thread_id) for i in [0, count) across the pool and waits for all of them.
 * Tasks are taken in increasing index order. Not re-entrant from inside a task. */
ARD_API void ard_pool_for(ard_pool *pool, int64_t count, ard_task_fn fn, void *arg);
ARD_API void ard_pool_free(ard_pool *pool);

/* ---- byte partitions (no communication) ----
 * Items 0..n-1 weigh bytes[i] (>= 0, e.g. file or row-group sizes). Share `rank` of `size` is the
 * contiguous run [*first, *first + *count): item i goes to the share whose equal part of the total
 * bytes holds the item's byte midpoint, so a share's bytes differ from total/size by at most one
 * item's size. The result depends only on (bytes, size): every rank of a job computes the same
 * boundaries. Items all weighing 0 are split by count. Shares may be empty (then *first is where
 * the next share starts). ARD_EINVAL (n < 0, a negative weight, rank outside 0..size-1, bytes NULL
 * with n > 0, NULL first/count). Thread-safe. ard_cluster_partition is the same function. */
ARD_API ard_status ard_partition_bytes(const int64_t *bytes, int64_t n, int32_t rank, int32_t size,
                                       int64_t *first, int64_t *count, ard_error *err);

/* ---- progress on stderr: a bar on a TTY; else lines every S s if ARD_PROGRESS_LINES=S ---- */
typedef struct ard_progress ard_progress;
ARD_API ard_progress *ard_progress_new(const char *label, int64_t total);
/* Thread-safe; redraws at most ~10 times a second. */
ARD_API void ard_progress_add(ard_progress *p, int64_t done); /* accepts NULL */
ARD_API void ard_progress_done(ard_progress *p); /* clears the line and frees p; accepts NULL */

/* ---- selection (the one quickselect) ----
 * Reorders a[0..n) so that a[k] holds the k-th smallest value (0-based), a[0..k) <= a[k] <=
 * a[k+1..n); O(n) expected, O(n log n) worst case. The input must hold no NaN. Nothing happens
 * when a is NULL or k is outside [0, n). Thread-safe (touches only a). */
ARD_API void ard_select_kth_f32(float *a, int64_t n, int64_t k);
ARD_API void ard_select_kth_f64(double *a, int64_t n, int64_t k);
/* The same selection over n records of `stride` doubles (1..ARD_SELECT_MAX_STRIDE) ordered by the
 * double at offset `key` of each; payload[i] (NULL: none) moves with record i (e.g. the original
 * index of a point: the KD-tree splits points this way). Nothing happens on arguments out of
 * range. Thread-safe (touches only rows and payload). */
#define ARD_SELECT_MAX_STRIDE 8
ARD_API void ard_select_kth_rows_f64(double *rows, int64_t stride, int64_t key, int64_t *payload,
                                     int64_t n, int64_t k);

/* ---- hashing ---- */
/* A 64-bit hash of the len bytes at data (data may be NULL when len is 0), for in-memory hash
 * tables: fast (8 bytes per multiply) and well mixed in its low bits, but neither cryptographic
 * nor stable across ard versions; never store it. */
ARD_API uint64_t ard_hash_bytes(const void *data, size_t len);

/* ---- growable byte buffer ---- */
typedef struct ard_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed; /* sticky: an allocation failed */
} ard_buf;
ARD_API void ard_buf_init(ard_buf *b);
ARD_API void ard_buf_reset(ard_buf *b);                /* frees; safe twice */
ARD_API int ard_buf_reserve(ard_buf *b, size_t extra); /* 0 on success */
ARD_API void ard_buf_append(ard_buf *b, const void *data, size_t len);
ARD_API void ard_buf_appendf(ard_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- JSON writer (for --json output); writes into an ard_buf ----
 * Nesting is limited to 63 levels: deeper nesting marks the buffer failed (never emits bad JSON).
 * ard_json_string(j, NULL) writes null. */
typedef struct ard_json {
    ard_buf *out;
    int depth;
    uint8_t need_comma[64];
    int pretty;
} ard_json;
ARD_API void ard_json_init(ard_json *j, ard_buf *out, int pretty);
ARD_API void ard_json_begin_object(ard_json *j);
ARD_API void ard_json_end_object(ard_json *j);
ARD_API void ard_json_begin_array(ard_json *j);
ARD_API void ard_json_end_array(ard_json *j);
ARD_API void ard_json_key(ard_json *j, const char *key);
ARD_API void ard_json_string(ard_json *j, const char *s);
ARD_API void ard_json_string_n(ard_json *j, const char *s,
                               size_t len); /* escapes; invalid UTF-8 -> \ufffd */
ARD_API void ard_json_int(ard_json *j, int64_t v);
ARD_API void ard_json_uint(ard_json *j, uint64_t v);
ARD_API void ard_json_double(ard_json *j, double v); /* shortest round-trip; NaN/Inf -> null */
ARD_API void ard_json_bool(ard_json *j, int v);
ARD_API void ard_json_null(ard_json *j);
ARD_API void ard_json_raw(ard_json *j, const char *text); /* a pre-rendered JSON value */
/* 1 when s[0..len) is well-formed UTF-8 (no overlong form, surrogate or code point above
 * U+10FFFF; NUL bytes allowed), else 0: the one validator the JSON writer, the safetensors header
 * reader and `ard parquet meta` use. Thread-safe. */
ARD_API int32_t ard_utf8_valid(const uint8_t *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
