/* Files: read-only mapping of whole files, exact positional reads, and the atomic durable writer
 * (temporary file in the target directory, fsync, rename, fsync of the directory). */
#include "core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// ---- mapping ------------------------------------------------------------------------------------

/* Pipes cannot be mapped: read them to the end instead.
 * The buffer becomes impl_ so unmap knows to free rather than munmap. */
static ard_status map_by_reading(int fd, const char *path, ard_mapped_file *out, ard_error *err) {
    ard_buf buf;
    ard_buf_init(&buf);
    for (;;) {
        if (ard_buf_reserve(&buf, 65536) != 0) {
            ard_buf_reset(&buf);
            return ard_error_set(err, ARD_ENOMEM, "%s: out of memory reading file", path);
        }
        ssize_t got = read(fd, buf.data + buf.len, buf.cap - buf.len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            int e = errno;
            ard_buf_reset(&buf);
            return ard_error_set_errno(err, ARD_EIO, e, "%s: read", path);
        }
        if (got == 0) {
            break;
        }
        buf.len += (size_t)got;
    }
    out->data = buf.data;
    out->size = (int64_t)buf.len;
    out->impl_ = buf.data;
    return ARD_OK;
}

static ard_status open_status(int e) {
    if (e == ENOENT || e == ENOTDIR) {
        return ARD_ENOENT;
    }
    return (e == EACCES || e == EPERM) ? ARD_EPERM : ARD_EIO;
}

/* What a special file is, for messages. */
static const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO (named pipe)";
    }
    if (S_ISCHR(mode)) {
        return "a character device";
    }
    if (S_ISBLK(mode)) {
        return "a block device";
    }
    return S_ISSOCK(mode) ? "a socket" : "not a regular file";
}

/* open(O_NONBLOCK) + fstat: a FIFO without a writer (or a device that waits for carrier) makes a
 * blocking open wait forever, so the kind is checked before anything can block. */
static ard_status open_nonblock(const char *path, int *fd_out, struct stat *sb, ard_error *err) {
    int fault = ard__io_fault(ARD_IO_OPEN, NULL);
    if (fault) {
        *fd_out = -1;
        return ard_error_set_errno(err, open_status(fault), fault, "%s", path);
    }
    *fd_out = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (*fd_out < 0) {
        int e = errno;
        return ard_error_set_errno(err, open_status(e), e, "%s", path);
    }
    if (fstat(*fd_out, sb) != 0) {
        int e = errno;
        close(*fd_out);
        *fd_out = -1;
        return ard_error_set_errno(err, ARD_EIO, e, "%s: stat", path);
    }
    return ARD_OK;
}

static ard_status clear_nonblock(int fd, const char *path, ard_error *err) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: fcntl", path);
    }
    return ARD_OK;
}

ard_status ard_file_open_regular(const char *path, int *fd_out, int64_t *size_out, ard_error *err) {
    struct stat sb;
    int fd = -1;
    *fd_out = -1;
    if (size_out) {
        *size_out = 0;
    }
    ard_status st = open_nonblock(path, &fd, &sb, err);
    if (st != ARD_OK) {
        return st;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = ard_error_set(err, ARD_EIO, "%s: is %s, not a regular file", path,
                           file_kind(sb.st_mode));
    } else {
        st = clear_nonblock(fd, path, err);
    }
    if (st != ARD_OK) {
        close(fd);
        return st;
    }
    *fd_out = fd;
    if (size_out) {
        *size_out = (int64_t)sb.st_size;
    }
    return ARD_OK;
}

static ard_status map_fd(int fd, const char *path, const struct stat *sb, ard_mapped_file *out,
                         ard_error *err) {
    if (S_ISFIFO(sb->st_mode)) {
        ard_status st = clear_nonblock(fd, path, err);
        return st == ARD_OK ? map_by_reading(fd, path, out, err) : st;
    }
    if (!S_ISREG(sb->st_mode)) {
        return ard_error_set(err, ARD_EINVAL, "%s: is %s, not a regular file or pipe", path,
                             file_kind(sb->st_mode));
    }
    if (sb->st_size == 0) {
        return ARD_OK; /* data = NULL, size = 0: mmap of length 0 is invalid */
    }
    if ((uint64_t)sb->st_size > SIZE_MAX) {
        return ard_error_set(err, ARD_ELIMIT, "%s: file too large to map", path);
    }
    void *p = mmap(NULL, (size_t)sb->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: mmap", path);
    }
    out->data = p;
    out->size = (int64_t)sb->st_size;
    return ARD_OK;
}

ard_status ard_file_map(const char *path, ard_mapped_file *out, ard_error *err) {
    memset(out, 0, sizeof *out);
    struct stat sb;
    int fd = -1;
    ard_status st = open_nonblock(path, &fd, &sb, err);
    if (st != ARD_OK) {
        return st;
    }
    st = map_fd(fd, path, &sb, out, err);
    close(fd);
    if (st != ARD_OK) {
        memset(out, 0, sizeof *out);
    }
    return st;
}

void ard_file_unmap(ard_mapped_file *file) {
    if (!file) {
        return;
    }
    if (file->impl_) {
        ard_free(file->impl_);
    } else if (file->data) {
        munmap((void *)file->data, (size_t)file->size);
    }
    memset(file, 0, sizeof *file);
}

// ---- reads and sizes ----------------------------------------------------------------------------

ard_status ard_pread_full(int fd, void *buf, size_t len, int64_t offset, const char *path,
                          ard_error *err) {
    const char *name = path ? path : "(file)";
    uint8_t *dst = buf;
    size_t done = 0;
    if (offset < 0) {
        return ard_error_set(err, ARD_EINVAL, "%s: negative read offset %lld", name,
                             (long long)offset);
    }
    int fault = ard__io_fault(ARD_IO_READ, NULL);
    if (fault) {
        return ard_error_set_errno(err, ARD_EIO, fault, "%s: read of %zu bytes at offset %lld",
                                   name, len, (long long)offset);
    }
    while (done < len) {
        ssize_t got = pread(fd, dst + done, len - done, (off_t)offset + (off_t)done);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return ard_error_set_errno(err, ARD_EIO, errno, "%s: read of %zu bytes at offset %lld",
                                       name, len, (long long)offset);
        }
        if (got == 0) {
            return ard_error_set(err, ARD_EEOF,
                                 "%s: unexpected end of file reading %zu bytes at offset %lld "
                                 "(got %zu)",
                                 name, len, (long long)offset, done);
        }
        done += (size_t)got;
    }
    return ARD_OK;
}

ard_status ard_file_size(const char *path, int64_t *size_out, ard_error *err) {
    struct stat st;
    *size_out = 0;
    if (stat(path, &st) != 0) {
        int e = errno;
        return ard_error_set_errno(err, open_status(e), e, "%s", path);
    }
    *size_out = (int64_t)st.st_size;
    return ARD_OK;
}

// ---- atomic writer ------------------------------------------------------------------------------

/* Writes are gathered into whole, aligned units of this many bytes before they reach the kernel
 * (ATOMIC_UNIT is a multiple of 2 MiB, the x86-64 huge page). The page cache keeps a file written in
 * 2 MiB-aligned pieces as large folios, a file written in smaller pieces as 4 KiB pages, and on
 * Linux 6.18 / ext4 that decides the cost of both the write and every later read: 1 GiB written in
 * 1 MiB pieces cost 1.3-2.2 s of system time, in 2 MiB pieces 0.15-0.17 s, and `pread` of a warm
 * file copies 11-14.5 GB per CPU-second out of large folios against 3.3-3.8 out of 4 KiB pages
 * (2026-12-07, `bench/results/parquet-decode.md`). A writer's own writes are rarely aligned (Parquet
 * pages of any size, then a footer), so they are gathered here. */
#define ATOMIC_UNIT ((size_t)4 << 20)
#define ATOMIC_FIRST_BUF ((size_t)64 << 10) /* the buffer starts small: most files are small */
/* Address alignment of the gather buffer and of a caller's buffer written straight with O_DIRECT
 * (the page size: at least the logical block size of every device ard writes to). */
#define ATOMIC_DIRECT_ALIGN ((size_t)4096)

/* A file written with O_DIRECT hands its full units to one I/O thread of its own (started at the
 * first full unit): a synchronous write(2) keeps the caller idle while the device takes the unit
 * (~3.5 ms for 4 MiB at 1.2 GB/s), time a survey's tile writers spend making the next spectra
 * instead. ATOMIC_ASYNC_UNITS unit buffers in all: the caller gathers into one while the thread
 * writes the others, and waits only when every one is in flight (memory: that many units per
 * open file). */
#define ATOMIC_ASYNC_UNITS 3
/* A batch keeps up to this many unit buffers of its finished files for the next ones (freed at
 * finish): a fresh 4 MiB buffer costs 1024 page faults on first touch, and on this PVM guest those
 * were ~6% of a survey's tile-writing CPU (perf, 2026-12-07). */
#define ATOMIC_SPARE_UNITS 16
/* At most this many batched commits at once (threads, mostly waiting in fdatasync): the file
 * system groups concurrent syncs into one journal commit, ~18 ms with its cache flush on this
 * machine, so a survey of 9,262 small tiles needs many at once (3,000 50 kB files: 0.67 s with 64
 * threads; one at a time ~18 ms each). */
#define ATOMIC_BATCH_SYNCS 64
/* Unit buffers start at this alignment (the x86-64 huge page; ATOMIC_UNIT is a multiple of it). */
#define ATOMIC_HUGE ((size_t)2 << 20)

typedef struct atomic_async {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;              /* a unit queued or written, or stop */
    uint8_t *raw[ATOMIC_ASYNC_UNITS]; /* [0] is the file's buf_raw (not owned here) */
    uint8_t *unit[ATOMIC_ASYNC_UNITS];
    int64_t at[ATOMIC_ASYNC_UNITS]; /* file offset of each queued unit */
    int head;                       /* the oldest queued unit */
    int queued;                     /* units queued or being written */
    int stop;      /* no unit will follow: the thread exits once the queue is empty */
    int commit;    /* with stop: the thread then commits the file into its batch (finish_file) */
    int discard;   /* abort: queued units are dropped, not written */
    ard_status st; /* the first failed write (later units are dropped) */
    ard_error err;
} atomic_async;

struct ard_atomic_file {
    int fd;
    int64_t offset;  /* bytes accepted by ard_atomic_write (the logical end of the file) */
    int64_t written; /* bytes handed on (to the kernel or the I/O thread): a multiple of
                        ATOMIC_UNIT until commit */
    uint8_t *buf;    /* offset - written gathered bytes, at most ATOMIC_UNIT; ATOMIC_DIRECT_ALIGN
                        aligned inside buf_raw (or inside the I/O thread's unit being filled) */
    uint8_t *buf_raw;
    size_t buf_cap;
    char *final_path;
    char *tmp_path;
    char *dir_path;
    int defer_sync;   /* commit renames without fsync (ard_atomic_defer_sync) */
    int direct_asked; /* ard_atomic_direct_io was called (read by the caller's thread only) */
    /* the write state below belongs to the I/O thread while it runs (async && !joined) */
    int direct;           /* 1 asked, 2 fd has O_DIRECT, 0 off (or fell back) */
    int64_t direct_bytes; /* bytes written with O_DIRECT */
    atomic_async *async;  /* the I/O thread, NULL before the first full unit or if none started */
    int async_tried;      /* a start was attempted (a failed start leaves writes synchronous) */
    int joined;           /* the I/O thread has exited */
    ard_atomic_batch *batch; /* committed in the background (ard_atomic_in_batch), else NULL */
    ard_status batch_st;     /* a batched commit's outcome, set by its thread */
    ard_error batch_err;
    int batch_done; /* the thread has finished the commit (read and written under the batch's lock) */
    dev_t dev;      /* a deferred batched file's file system */
};

struct ard_atomic_batch {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a batched commit finished */
    int32_t max_pending;
    ard_atomic_file **pending; /* handed to their threads, not yet reaped */
    int64_t n_pending, cap_pending;
    int64_t running; /* of them, commits not finished */
    int64_t holding; /* of those, files still holding their buffers (before their sync) */
    ard_atomic_file **deferred; /* written and closed, renamed at finish after one syncfs */
    int64_t n_deferred, cap_deferred;
    dev_t synced[8]; /* file systems of renamed deferred files: synced again after the renames */
    int n_synced;
    char **dirs; /* directories to fsync at finish (renamed files' and those above) */
    int64_t n_dirs, cap_dirs;
    ard_status st; /* the first failure */
    ard_error err;
    uint8_t *spare[ATOMIC_SPARE_UNITS]; /* unit buffers of finished files, for the next ones */
    int n_spare;
};

/* The unit inside a unit buffer: its first 2 MiB-aligned address. */
static uint8_t *unit_in(uint8_t *raw) {
    return raw + (ATOMIC_HUGE - (uintptr_t)raw % ATOMIC_HUGE) % ATOMIC_HUGE;
}

/* A unit buffer (ATOMIC_UNIT + ATOMIC_HUGE bytes, see unit_in) from b's spares, else a new one
 * whose unit is given huge pages (2 first-touch faults per 2 MiB instead of 512). */
static uint8_t *unit_take(ard_atomic_batch *b) {
    uint8_t *raw = NULL;
    if (b) {
        pthread_mutex_lock(&b->lock);
        raw = b->n_spare > 0 ? b->spare[--b->n_spare] : NULL;
        pthread_mutex_unlock(&b->lock);
    }
    if (!raw && (raw = ard_malloc(ATOMIC_UNIT + ATOMIC_HUGE)) != NULL) {
        ard_advise_huge(unit_in(raw), ATOMIC_UNIT);
    }
    return raw;
}

/* Keeps a unit buffer among b's spares (while there is room), else frees it; accepts NULL. */
static void unit_give(ard_atomic_batch *b, uint8_t *raw) {
    if (raw && b) {
        pthread_mutex_lock(&b->lock);
        if (b->n_spare < ATOMIC_SPARE_UNITS) {
            b->spare[b->n_spare++] = raw;
            raw = NULL;
        }
        pthread_mutex_unlock(&b->lock);
    }
    ard_free(raw);
}

/* Gives f's gathering buffer back: to b's spare units when it is a whole unit, else freed. */
static void buf_give(ard_atomic_file *f, ard_atomic_batch *b) {
    if (f->buf_cap == ATOMIC_UNIT) {
        unit_give(b, f->buf_raw);
    } else {
        ard_free(f->buf_raw);
    }
    f->buf_raw = NULL;
    f->buf = NULL;
    f->buf_cap = 0;
}

static void async_free(atomic_async *a, ard_atomic_batch *b) {
    if (a) {
        for (int i = 1; i < ATOMIC_ASYNC_UNITS; i++) {
            unit_give(b, a->raw[i]);
        }
        pthread_mutex_destroy(&a->lock);
        pthread_cond_destroy(&a->cond);
        ard_free(a);
    }
}

/* Distinguishes temporaries of one process (several writers may target one directory at once). */
static atomic_uint tmp_counter;

/* Splits final_path into its directory ("." when there is no slash) and base name. */
static ard_status split_path(ard_atomic_file *f, const char **base, ard_error *err) {
    const char *slash = strrchr(f->final_path, '/');
    const char *dir = ".";
    size_t dir_len = 1;
    if (slash) {
        dir = f->final_path;
        dir_len = slash == f->final_path ? 1 : (size_t)(slash - f->final_path);
    }
    *base = slash ? slash + 1 : f->final_path;
    if (**base == '\0') {
        return ard_error_set(err, ARD_EINVAL, "%s: not a file path", f->final_path);
    }
    f->dir_path = ard_malloc(dir_len + 1);
    if (!f->dir_path) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", f->final_path);
    }
    memcpy(f->dir_path, dir, dir_len);
    f->dir_path[dir_len] = '\0';
    return ARD_OK;
}

/* Creates "<dir>/.<name>.tmp.<boot>.<pid>.<start>.<counter>" (file_temp.c) with O_EXCL, retrying
 * with the next counter if a file is in the way. Stale temporaries of dead writers in the
 * directory are removed first (best effort: a failed sweep does not fail the write). */
static ard_status create_temp(ard_atomic_file *f, const char *base, ard_error *err) {
    char tag[96];
    ard__temp_tag(tag, sizeof tag);
    (void)ard_atomic_sweep(f->dir_path, 0, NULL, NULL);
    size_t cap = strlen(f->dir_path) + strlen(base) + strlen(tag) + 32;
    f->tmp_path = ard_malloc(cap);
    if (!f->tmp_path) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", f->final_path);
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned n = atomic_fetch_add(&tmp_counter, 1u);
        snprintf(f->tmp_path, cap, "%s/.%s.tmp.%s.%u", f->dir_path, base, tag, n);
        int fault = ard__io_fault(ARD_IO_OPEN, NULL);
        if (fault) {
            return ard_error_set_errno(err, open_status(fault), fault,
                                       "%s: creating temporary file %s", f->final_path,
                                       f->tmp_path);
        }
        f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (f->fd >= 0) {
            return ARD_OK;
        }
        if (errno != EEXIST) {
            int e = errno;
            return ard_error_set_errno(err, open_status(e), e, "%s: creating temporary file %s",
                                       f->final_path, f->tmp_path);
        }
    }
    return ard_error_set(err, ARD_EEXIST, "%s: could not create a unique temporary file",
                         f->final_path);
}

static void atomic_free(ard_atomic_file *f) {
    async_free(f->async, f->batch);
    if (f->fd >= 0) {
        close(f->fd);
    }
    if (f->buf_cap == ATOMIC_UNIT) {
        unit_give(f->batch, f->buf_raw);
    } else {
        ard_free(f->buf_raw);
    }
    ard_free(f->final_path);
    ard_free(f->tmp_path);
    ard_free(f->dir_path);
    ard_free(f);
}

ard_status ard_atomic_open(const char *final_path, ard_atomic_file **out, ard_error *err) {
    *out = NULL;
    ard_atomic_file *f = ard_calloc(1, sizeof *f);
    if (!f) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", final_path);
    }
    f->fd = -1;
    const char *base = NULL;
    ard_status st = ARD_ENOMEM;
    f->final_path = ard_strdup(final_path);
    if (!f->final_path) {
        ard_error_set(err, st, "%s: out of memory", final_path);
        goto fail;
    }
    if ((st = split_path(f, &base, err)) != ARD_OK || (st = create_temp(f, base, err)) != ARD_OK) {
        goto fail;
    }
    *out = f;
    return ARD_OK;
fail:
    atomic_free(f);
    return st;
}

/* One pwrite(2) at `at`, or the injected fault standing in for it (a short write puts half
 * first). */
static ssize_t write_some(int fd, const uint8_t *src, size_t len, int64_t at) {
    int short_write = 0;
    int fault = len > 0 ? ard__io_fault(ARD_IO_WRITE, &short_write) : 0;
    if (fault && short_write && len > 1 && pwrite(fd, src, len / 2, (off_t)at) < 0) {
        return -1;
    }
    if (fault) {
        errno = fault;
        return -1;
    }
    return pwrite(fd, src, len, (off_t)at);
}

/* Sets or clears O_DIRECT on f's descriptor; 0 on success. */
static int set_direct(ard_atomic_file *f, int on) {
    int flags = fcntl(f->fd, F_GETFL);
    if (flags < 0) {
        return -1;
    }
    flags = on ? flags | O_DIRECT : flags & ~O_DIRECT;
    return fcntl(f->fd, F_SETFL, flags);
}

/* Whether `len` bytes from src at file offset `at` may go with O_DIRECT: asked for, whole aligned
 * blocks at an aligned offset from an aligned address (whole units, or the aligned head of the
 * tail at commit). Turns O_DIRECT on at the first such write; a file system that refuses it (fcntl
 * fails) leaves f buffered for good. The rest of the tail turns O_DIRECT off (see commit). */
static int direct_ok(ard_atomic_file *f, const uint8_t *src, size_t len, int64_t at) {
    if (!f->direct || len % ATOMIC_DIRECT_ALIGN != 0 || (uint64_t)at % ATOMIC_DIRECT_ALIGN != 0 ||
        (uintptr_t)src % ATOMIC_DIRECT_ALIGN != 0) {
        return 0;
    }
    if (f->direct == 1) {
        f->direct = set_direct(f, 1) == 0 ? 2 : 0;
    }
    return f->direct == 2;
}

/* Drops O_DIRECT for the rest of the file (a file system that accepted the flag but refuses the
 * write with EINVAL, or the unaligned end of the tail); 0 on success. */
static int direct_off(ard_atomic_file *f) {
    if (f->direct != 2) {
        f->direct = 0;
        return 0;
    }
    f->direct = 0;
    return set_direct(f, 0);
}

/* Writes `len` bytes at file offset `at` (every byte, or an error naming the file, the offset and
 * the temporary). Called by one thread at a time: the I/O thread while it runs, else the caller. */
static ard_status write_out(ard_atomic_file *f, const uint8_t *src, size_t len, int64_t at,
                            ard_error *err) {
    size_t done = 0;
    int direct = direct_ok(f, src, len, at);
    while (done < len) {
        ssize_t put = write_some(f->fd, src + done, len - done, at + (int64_t)done);
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put < 0 && errno == EINVAL && direct && direct_off(f) == 0) {
            direct = 0; /* O_DIRECT accepted at fcntl, refused here: write through the cache */
            continue;
        }
        if (put < 0) {
            return ard_error_set_errno(err, ARD_EIO, errno,
                                       "%s: write of %zu bytes at offset %lld (to temporary file "
                                       "%s)",
                                       f->final_path, len - done, (long long)(at + (int64_t)done),
                                       f->tmp_path);
        }
        done += (size_t)put;
        f->direct_bytes += direct ? put : 0;
    }
    return ARD_OK;
}

/* Writes the gathered bytes out here (a whole unit without an I/O thread). */
static ard_status flush_gathered(ard_atomic_file *f, ard_error *err) {
    size_t have = (size_t)(f->offset - f->written);
    ard_status st = ARD_OK;
    if (have) {
        st = write_out(f, f->buf, have, f->written, err);
    }
    if (st == ARD_OK) {
        f->written += (int64_t)have;
    }
    return st;
}

/* The first ATOMIC_DIRECT_ALIGN-aligned address inside a buffer allocated ATOMIC_DIRECT_ALIGN
 * bytes larger than it is used. */
static uint8_t *aligned_in(uint8_t *raw) {
    return raw + (ATOMIC_DIRECT_ALIGN - (uintptr_t)raw % ATOMIC_DIRECT_ALIGN);
}

// ---- the I/O thread of an O_DIRECT file ----

static void commit_on_thread(ard_atomic_file *f);

static void *async_main(void *arg) {
    ard_atomic_file *f = arg;
    atomic_async *a = f->async;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (a->queued == 0 && !a->stop) {
            pthread_cond_wait(&a->cond, &a->lock);
        }
        if (a->queued == 0) {
            break;
        }
        int slot = a->head, skip = a->discard || a->st != ARD_OK;
        pthread_mutex_unlock(&a->lock);
        ard_error e;
        ard_error_init(&e);
        ard_status st = skip ? ARD_OK : write_out(f, a->unit[slot], ATOMIC_UNIT, a->at[slot], &e);
        pthread_mutex_lock(&a->lock);
        if (st != ARD_OK && a->st == ARD_OK) {
            a->st = st;
            a->err = e;
        }
        a->head = (a->head + 1) % ATOMIC_ASYNC_UNITS;
        a->queued--;
        pthread_cond_broadcast(&a->cond);
    }
    int commit = a->commit;
    pthread_mutex_unlock(&a->lock);
    if (commit) {
        commit_on_thread(f);
    }
    return NULL;
}

/* Starts f's I/O thread (f->buf, a full unit buffer, becomes its first unit); without memory or a
 * thread f stays synchronous. */
static void async_start(ard_atomic_file *f) {
    f->async_tried = 1;
    atomic_async *a = ard_calloc(1, sizeof *a);
    if (!a || f->buf_cap != ATOMIC_UNIT) {
        ard_free(a);
        return;
    }
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    a->raw[0] = f->buf_raw;
    a->unit[0] = f->buf;
    for (int i = 1; i < ATOMIC_ASYNC_UNITS; i++) {
        a->raw[i] = unit_take(f->batch);
        if (!a->raw[i]) {
            async_free(a, f->batch);
            return;
        }
        a->unit[i] = unit_in(a->raw[i]);
    }
    f->async = a;
    if (pthread_create(&a->thread, NULL, async_main, f) != 0) {
        f->async = NULL;
        async_free(a, f->batch);
    }
}

/* Queues the full unit in f->buf and gathers on into a free unit buffer (waiting while every one
 * is in flight). Returns the first failure of an earlier unit, with its file and offset. */
static ard_status async_queue(ard_atomic_file *f, ard_error *err) {
    atomic_async *a = f->async;
    pthread_mutex_lock(&a->lock);
    int slot = (a->head + a->queued) % ATOMIC_ASYNC_UNITS;
    a->at[slot] = f->written;
    a->queued++;
    pthread_cond_broadcast(&a->cond);
    while (a->queued == ATOMIC_ASYNC_UNITS) {
        pthread_cond_wait(&a->cond, &a->lock);
    }
    f->buf = a->unit[(a->head + a->queued) % ATOMIC_ASYNC_UNITS];
    f->written += (int64_t)ATOMIC_UNIT;
    ard_status st = a->st;
    if (st != ARD_OK && err) {
        *err = a->err;
    }
    pthread_mutex_unlock(&a->lock);
    return st;
}

/* Waits until every queued unit is written (or, with `discard`, dropped) and the I/O thread has
 * exited; the write state is the caller's again. Returns the first failure, as async_queue. */
static ard_status async_join(ard_atomic_file *f, int discard, ard_error *err) {
    atomic_async *a = f->async;
    if (!a || f->joined) {
        return a ? a->st : ARD_OK;
    }
    pthread_mutex_lock(&a->lock);
    a->stop = 1;
    a->discard = discard;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    f->joined = 1;
    if (a->st != ARD_OK && err) {
        *err = a->err;
    }
    return a->st;
}

/* Hands the full unit in f->buf on: to the I/O thread of an O_DIRECT file, else written here. */
static ard_status unit_full(ard_atomic_file *f, ard_error *err) {
    if (f->direct_asked && !f->async_tried) {
        async_start(f);
    }
    return f->async ? async_queue(f, err) : flush_gathered(f, err);
}

/* Grows the gather buffer to hold `need` bytes (keeping the `have` gathered), at an
 * ATOMIC_DIRECT_ALIGN-aligned address. */
static ard_status grow_buf(ard_atomic_file *f, size_t have, size_t need, ard_error *err) {
    /* with O_DIRECT the file is expected to be large: one whole unit at once */
    size_t cap = f->buf_cap ? f->buf_cap : (f->direct_asked ? ATOMIC_UNIT : ATOMIC_FIRST_BUF);
    while (cap < need) {
        cap *= 2;
    }
    cap = cap < ATOMIC_UNIT ? cap : ATOMIC_UNIT;
    uint8_t *raw = cap == ATOMIC_UNIT ? unit_take(f->batch) : ard_malloc(cap + ATOMIC_DIRECT_ALIGN);
    if (!raw) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for a %zu-byte write buffer",
                             f->final_path, cap);
    }
    uint8_t *aligned = cap == ATOMIC_UNIT ? unit_in(raw) : aligned_in(raw);
    if (have) {
        memcpy(aligned, f->buf, have);
    }
    ard_free(f->buf_raw); /* never a unit buffer: a unit is the largest */
    f->buf_raw = raw;
    f->buf = aligned;
    f->buf_cap = cap;
    return ARD_OK;
}

ard_status ard_atomic_write(ard_atomic_file *f, const void *data, size_t len, ard_error *err) {
    const uint8_t *src = data;
    while (len > 0) {
        size_t have = (size_t)(f->offset - f->written);
        /* whole units straight from the caller, buffered files only (an O_DIRECT file's units are
         * gathered: its I/O thread cannot borrow the caller's buffer) */
        if (have == 0 && len >= ATOMIC_UNIT && !f->direct_asked) {
            size_t whole = len - len % ATOMIC_UNIT;
            ard_status st = write_out(f, src, whole, f->written, err);
            if (st != ARD_OK) {
                return st;
            }
            f->written += (int64_t)whole;
            f->offset += (int64_t)whole;
            src += whole;
            len -= whole;
            continue;
        }
        size_t take = ATOMIC_UNIT - have < len ? ATOMIC_UNIT - have : len;
        if (have + take > f->buf_cap && grow_buf(f, have, have + take, err) != ARD_OK) {
            return ARD_ENOMEM;
        }
        memcpy(f->buf + have, src, take);
        f->offset += (int64_t)take;
        src += take;
        len -= take;
        if (have + take == ATOMIC_UNIT) {
            ard_status st = unit_full(f, err);
            if (st != ARD_OK) {
                return st;
            }
        }
    }
    return ARD_OK;
}

int64_t ard_atomic_tell(const ard_atomic_file *f) {
    return f->offset;
}

/* `what` names the file whose rename this makes durable (for the message). */
static ard_status fsync_dir(const char *dir, const char *what, ard_error *err) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: opening directory %s for fsync", what,
                                   dir);
    }
    int fault = ard__io_fault(ARD_IO_FSYNC, NULL);
    int rc = fault ? -1 : fsync(dfd);
    int e = fault ? fault : errno;
    close(dfd);
    /* Some file systems cannot fsync a directory (EINVAL); the rename itself has happened. */
    if (rc != 0 && e != EINVAL) {
        return ard_error_set_errno(err, ARD_EIO, e,
                                   "%s: fsync of directory %s (the file is complete, but its "
                                   "rename may not survive a power failure)",
                                   what, dir);
    }
    return ARD_OK;
}

void ard_atomic_defer_sync(ard_atomic_file *f) {
    f->defer_sync = 1;
}

void ard_atomic_direct_io(ard_atomic_file *f) {
    if (f->written == 0) {
        f->direct = 1;
        f->direct_asked = 1;
    }
}

int64_t ard_atomic_direct_bytes(const ard_atomic_file *f) {
    atomic_async *a = f->async;
    if (!a || f->joined) {
        return f->direct_bytes;
    }
    pthread_mutex_lock(&a->lock); /* the units in flight first */
    while (a->queued > 0) {
        pthread_cond_wait(&a->cond, &a->lock);
    }
    int64_t bytes = f->direct_bytes;
    pthread_mutex_unlock(&a->lock);
    return bytes;
}

ard_status ard_sync_filesystem(const char *path, ard_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return ard_error_set_errno(err, open_status(errno), errno, "%s: opening for syncfs", path);
    }
    int rc = syncfs(fd);
    int e = errno;
    close(fd);
    return rc == 0 ? ARD_OK : ard_error_set_errno(err, ARD_EIO, e, "%s: syncfs", path);
}

/* Writes the tail at commit: its whole aligned blocks with O_DIRECT when the file has it (the
 * survey's syncfs then finds ~nothing of the tile in the page cache), the rest through the cache. */
static ard_status write_tail(ard_atomic_file *f, ard_error *err) {
    size_t have = (size_t)(f->offset - f->written);
    size_t head = f->direct ? have - have % ATOMIC_DIRECT_ALIGN : 0;
    ard_status st = ARD_OK;
    if (head) {
        st = write_out(f, f->buf, head, f->written, err);
    }
    if (st == ARD_OK && have > head && direct_off(f) != 0) { /* the rest is not a whole block */
        st = ard_error_set_errno(err, ARD_EIO, errno, "%s: clearing O_DIRECT on temporary file %s",
                                 f->final_path, f->tmp_path);
    }
    if (st == ARD_OK && have > head) {
        st = write_out(f, f->buf + head, have - head, f->written + (int64_t)head, err);
    }
    if (st == ARD_OK) {
        f->written += (int64_t)have;
    }
    return st;
}

/* The sync (0 none, 1 fsync, 2 fdatasync), close and rename of a written temporary. */
static ard_status sync_and_rename(ard_atomic_file *f, int sync, ard_error *err) {
    int fault = sync ? ard__io_fault(ARD_IO_FSYNC, NULL) : 0;
    if (sync && (fault || (sync == 2 ? fdatasync(f->fd) : fsync(f->fd)) != 0)) {
        return ard_error_set_errno(err, ARD_EIO, fault ? fault : errno,
                                   "%s: %s of temporary file %s", f->final_path,
                                   sync == 2 ? "fdatasync" : "fsync", f->tmp_path);
    }
    int rc = f->fd >= 0 ? close(f->fd) : 0; /* a deferred batched file is closed already */
    f->fd = -1;
    if (rc != 0) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: close of temporary file %s",
                                   f->final_path, f->tmp_path);
    }
    fault = ard__io_fault(ARD_IO_RENAME, NULL);
    if (fault || rename(f->tmp_path, f->final_path) != 0) {
        int e = fault ? fault : errno;
        return ard_error_set_errno(err, open_status(e), e, "%s: rename from %s", f->final_path,
                                   f->tmp_path);
    }
    return ARD_OK;
}

/* The end of a commit: the tail, the sync (0 none, 1 fsync, 2 fdatasync), close and rename. On
 * failure the temporary is left for the caller to remove. */
static ard_status finish_file(ard_atomic_file *f, int sync, ard_error *err) {
    ard_status st = write_tail(f, err);
    return st ? st : sync_and_rename(f, sync, err);
}

// ---- batched commits ----

/* Adds dir and the directories above it to b's list; ENOMEM becomes b's failure. Only the last
 * entries are searched (files of one directory come together; finish drops the repeats): a full
 * search per file cost seconds for 9,262 tiles in thousands of directories. */
static void batch_add_dirs(ard_atomic_batch *b, const char *dir) {
    char *d = ard_strdup(dir);
    pthread_mutex_lock(&b->lock);
    while (d) {
        int64_t i = b->n_dirs - 1;
        while (i >= 0 && i >= b->n_dirs - 32 && strcmp(b->dirs[i], d) != 0) {
            i--;
        }
        if (i >= 0 && i >= b->n_dirs - 32) {
            break; /* listed, and so is everything above it */
        }
        if (b->n_dirs == b->cap_dirs) {
            int64_t cap = b->cap_dirs ? 2 * b->cap_dirs : 16;
            char **grown = ard_realloc(b->dirs, (size_t)cap * sizeof *grown);
            if (!grown) {
                ard_free(d);
                d = NULL;
                break;
            }
            b->dirs = grown;
            b->cap_dirs = cap;
        }
        if (!(b->dirs[b->n_dirs] = ard_strdup(d))) {
            ard_free(d);
            d = NULL;
            break;
        }
        b->n_dirs++;
        char *slash = strrchr(d, '/');
        if (!slash && strcmp(d, ".") == 0) {
            break;
        }
        if (!slash) {
            d[0] = '.'; /* a relative path's first directory lives in "." */
            d[1] = '\0';
        } else if (slash == d && d[1] == '\0') {
            break; /* "/" */
        } else {
            slash[slash == d] = '\0'; /* "/x" -> "/", "a/b" -> "a" */
        }
    }
    if (!d && b->st == ARD_OK) {
        b->st = ard_error_set(&b->err, ARD_ENOMEM, "%s: out of memory listing directories to sync",
                              dir);
    }
    ard_free(d);
    pthread_mutex_unlock(&b->lock);
}

/* Gives a batched file's buffers back once its bytes are written (before its sync). */
static void release_buffers(ard_atomic_file *f) {
    ard_atomic_batch *b = f->batch;
    atomic_async *a = f->async;
    for (int i = 1; i < ATOMIC_ASYNC_UNITS; i++) {
        unit_give(b, a->raw[i]);
        a->raw[i] = NULL;
    }
    buf_give(f, b);
    pthread_mutex_lock(&b->lock);
    b->holding--;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

/* The thread's end of a batched commit: what is queued is written (or failed), then the tail,
 * fdatasync and rename; a failure removes the temporary. */
static void commit_on_thread(ard_atomic_file *f) {
    ard_atomic_batch *b = f->batch;
    ard_error e;
    ard_error_init(&e);
    ard_status st = f->async->st;
    if (st != ARD_OK) {
        e = f->async->err;
    } else {
        st = write_tail(f, &e);
    }
    release_buffers(f); /* the file's bytes are out: its buffers serve the next files */
    st = st ? st : sync_and_rename(f, 2, &e);
    if (st != ARD_OK) {
        if (f->fd >= 0) {
            close(f->fd);
            f->fd = -1;
        }
        unlink(f->tmp_path);
    }
    pthread_mutex_lock(&b->lock);
    f->batch_st = st;
    f->batch_err = e;
    f->batch_done = 1;
    b->running--;
    if (st != ARD_OK && b->st == ARD_OK) {
        b->st = st;
        b->err = e;
    }
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

/* Joins and frees b's finished files (with `all`, after waiting for every one), listing the
 * directories of the renamed ones. */
static void batch_reap(ard_atomic_batch *b, int all) {
    for (;;) {
        pthread_mutex_lock(&b->lock);
        while (all && b->running > 0) {
            pthread_cond_wait(&b->cond, &b->lock);
        }
        ard_atomic_file *f = NULL;
        for (int64_t i = 0; i < b->n_pending && !f; i++) {
            if (b->pending[i]->batch_done) {
                f = b->pending[i];
                b->pending[i] = b->pending[--b->n_pending];
            }
        }
        pthread_mutex_unlock(&b->lock);
        if (!f) {
            return;
        }
        pthread_join(f->async->thread, NULL);
        f->joined = 1;
        if (f->batch_st == ARD_OK) {
            batch_add_dirs(b, f->dir_path);
        }
        atomic_free(f);
    }
}

/* Commits f in the caller's thread, durable as a batched commit (no I/O thread could be had). */
static ard_status commit_here(ard_atomic_file *f, ard_error *err) {
    ard_status st = async_join(f, 0, err);
    st = st ? st : finish_file(f, 2, err);
    if (st != ARD_OK) {
        ard_atomic_abort(f);
        return st;
    }
    batch_add_dirs(f->batch, f->dir_path);
    atomic_free(f);
    return ARD_OK;
}

/* A batched file without an I/O thread (it never filled a unit, or is written through the page
 * cache): its tail is written and it is closed here, and finish renames it after one syncfs of its
 * file system (one journal commit for all of them: a survey of 9,262 small tiles took 16 s with a
 * sync per file, 64 at once, against 8 s). */
static ard_status defer_commit(ard_atomic_file *f, ard_error *err) {
    ard_atomic_batch *b = f->batch;
    pthread_mutex_lock(&b->lock);
    if (b->n_deferred == b->cap_deferred) {
        int64_t cap = b->cap_deferred ? 2 * b->cap_deferred : 64;
        ard_atomic_file **grown = ard_realloc(b->deferred, (size_t)cap * sizeof *grown);
        if (grown) {
            b->deferred = grown;
            b->cap_deferred = cap;
        }
    }
    int64_t slot = b->n_deferred < b->cap_deferred ? b->n_deferred++ : -1;
    if (slot >= 0) {
        b->deferred[slot] = NULL; /* f once it is closed (finish skips an empty slot) */
    }
    pthread_mutex_unlock(&b->lock);
    if (slot < 0) {
        return commit_here(f, err); /* durable here instead */
    }
    ard_status st = write_tail(f, err);
    struct stat sb;
    if (st == ARD_OK && fstat(f->fd, &sb) != 0) {
        st = ard_error_set_errno(err, ARD_EIO, errno, "%s: stat of temporary file %s",
                                 f->final_path, f->tmp_path);
    }
    if (st == ARD_OK) {
        f->dev = sb.st_dev;
        int rc = close(f->fd);
        f->fd = -1;
        if (rc != 0) {
            st = ard_error_set_errno(err, ARD_EIO, errno, "%s: close of temporary file %s",
                                     f->final_path, f->tmp_path);
        }
    }
    if (st != ARD_OK) {
        ard_atomic_abort(f);
        return st;
    }
    buf_give(f, b);
    pthread_mutex_lock(&b->lock);
    b->deferred[slot] = f;
    pthread_mutex_unlock(&b->lock);
    return ARD_OK;
}

static ard_status commit_batched(ard_atomic_file *f, ard_error *err) {
    ard_atomic_batch *b = f->batch;
    atomic_async *a = f->async;
    if (!a) {
        return defer_commit(f, err);
    }
    pthread_mutex_lock(&a->lock); /* a unit already failed: as without a batch */
    ard_status st = a->st;
    if (st != ARD_OK && err) {
        *err = a->err;
    }
    pthread_mutex_unlock(&a->lock);
    if (st != ARD_OK) {
        ard_atomic_abort(f);
        return st;
    }
    batch_reap(b, 0);
    pthread_mutex_lock(&b->lock);
    while (b->holding >= b->max_pending || b->running >= ATOMIC_BATCH_SYNCS) {
        pthread_cond_wait(&b->cond, &b->lock);
    }
    int listed = 0;
    if (b->n_pending == b->cap_pending) {
        int64_t cap = b->cap_pending ? 2 * b->cap_pending : 8;
        ard_atomic_file **grown = ard_realloc(b->pending, (size_t)cap * sizeof *grown);
        if (grown) {
            b->pending = grown;
            b->cap_pending = cap;
        }
    }
    if (b->n_pending < b->cap_pending) {
        b->pending[b->n_pending++] = f;
        b->running++;
        b->holding++;
        listed = 1;
    }
    pthread_mutex_unlock(&b->lock);
    if (!listed) {
        return commit_here(f, err);
    }
    pthread_mutex_lock(&a->lock);
    a->commit = 1;
    a->stop = 1;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return ARD_OK;
}

ard_status ard_atomic_batch_new(int32_t max_pending, ard_atomic_batch **out, ard_error *err) {
    *out = NULL;
    if (max_pending < 1) {
        return ard_error_set(err, ARD_EINVAL, "atomic batch: max_pending %d < 1", (int)max_pending);
    }
    ard_atomic_batch *b = ard_calloc(1, sizeof *b);
    if (!b) {
        return ard_error_set(err, ARD_ENOMEM, "atomic batch: out of memory");
    }
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    b->max_pending = max_pending;
    ard_error_init(&b->err);
    *out = b;
    return ARD_OK;
}

void ard_atomic_in_batch(ard_atomic_file *f, ard_atomic_batch *b) {
    f->batch = b;
}

void ard_atomic_batch_add_dir(ard_atomic_batch *b, const char *dir) {
    batch_add_dirs(b, dir);
}

/* syncfs of the file system holding f's temporary; 0 or an errno. */
static int syncfs_of(const ard_atomic_file *f) {
    int fault = ard__io_fault(ARD_IO_FSYNC, NULL);
    if (fault) {
        return fault;
    }
    int fd = open(f->dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    int rc = syncfs(fd);
    int e = errno;
    close(fd);
    return rc == 0 ? 0 : e;
}

/* Makes the deferred files durable (one syncfs per file system) and only then renames them; a
 * failed sync or rename removes the temporary and becomes b's failure (if the first). */
static void rename_deferred(ard_atomic_batch *b) {
    dev_t *synced = b->synced;
    int n_synced = 0, sync_err = 0;
    for (int64_t i = 0; i < b->n_deferred; i++) {
        ard_atomic_file *f = b->deferred[i];
        if (!f) {
            continue;
        }
        int seen = 0;
        for (int k = 0; k < n_synced; k++) {
            seen |= synced[k] == f->dev;
        }
        int e = seen || sync_err ? sync_err : syncfs_of(f);
        if (!seen && !e && n_synced < 8) {
            synced[n_synced++] = f->dev;
        }
        sync_err = e;
        ard_status st;
        ard_error msg;
        ard_error_init(&msg);
        if (e) {
            st = ard_error_set_errno(&msg, ARD_EIO, e,
                                     "%s: syncfs of the file system holding temporary file %s",
                                     f->final_path, f->tmp_path);
        } else {
            st = sync_and_rename(f, 0, &msg); /* closed already: the rename */
        }
        if (st != ARD_OK) {
            unlink(f->tmp_path);
            if (b->st == ARD_OK) {
                b->st = st;
                b->err = msg;
            }
        } else {
            batch_add_dirs(b, f->dir_path);
        }
        atomic_free(f);
    }
    b->n_deferred = 0;
    b->n_synced = sync_err ? 0 : n_synced;
}

static int by_name(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Sorts b's directories and drops the repeats. */
static void unique_dirs(ard_atomic_batch *b) {
    if (b->n_dirs < 2) {
        return;
    }
    qsort(b->dirs, (size_t)b->n_dirs, sizeof *b->dirs, by_name);
    int64_t kept = 1;
    for (int64_t i = 1; i < b->n_dirs; i++) {
        if (strcmp(b->dirs[i], b->dirs[kept - 1]) == 0) {
            ard_free(b->dirs[i]);
        } else {
            b->dirs[kept++] = b->dirs[i];
        }
    }
    b->n_dirs = kept;
}

/* Makes the renames durable: a directory on a file system that rename_deferred synced is covered
 * by one more syncfs of it after the renames (thousands of small tiles' directories: one journal
 * commit instead of one fsync each), any other directory is fsynced. */
static ard_status sync_dirs(ard_atomic_batch *b, ard_error *err) {
    ard_status st = ARD_OK;
    for (int64_t i = 0; i < b->n_dirs; i++) {
        struct stat sb;
        int covered = 0;
        for (int k = 0; k < b->n_synced && stat(b->dirs[i], &sb) == 0 && !covered; k++) {
            covered = sb.st_dev == b->synced[k];
        }
        ard_error e;
        ard_error_init(&e);
        ard_status s = covered ? ARD_OK : fsync_dir(b->dirs[i], b->dirs[i], &e);
        if (s != ARD_OK && st == ARD_OK) {
            st = s;
            *err = e;
        }
    }
    for (int k = 0; k < b->n_synced; k++) {
        for (int64_t i = 0; i < b->n_dirs; i++) {
            struct stat sb;
            if (stat(b->dirs[i], &sb) != 0 || sb.st_dev != b->synced[k]) {
                continue;
            }
            int fault = ard__io_fault(ARD_IO_FSYNC, NULL);
            int fd = fault ? -1 : open(b->dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            int e = fault ? fault : fd < 0 ? errno : syncfs(fd) != 0 ? errno : 0;
            if (fd >= 0) {
                close(fd);
            }
            if (e && st == ARD_OK) {
                st = ard_error_set_errno(err, ARD_EIO, e,
                                         "%s: syncfs after renaming files into it (they are "
                                         "complete, but the renames may not survive a power "
                                         "failure)",
                                         b->dirs[i]);
            }
            break;
        }
    }
    return st;
}

ard_status ard_atomic_batch_finish(ard_atomic_batch *b, ard_error *err) {
    if (!b) {
        return ARD_OK;
    }
    batch_reap(b, 1);
    rename_deferred(b);
    ard_status st = b->st;
    if (st != ARD_OK && err) {
        *err = b->err;
    }
    ard_error e;
    ard_error_init(&e);
    unique_dirs(b);
    ard_status s = sync_dirs(b, &e);
    if (s != ARD_OK && st == ARD_OK) {
        st = s;
        if (err) {
            *err = e;
        }
    }
    for (int64_t i = 0; i < b->n_dirs; i++) {
        ard_free(b->dirs[i]);
    }
    ard_free(b->dirs);
    ard_free(b->pending);
    ard_free(b->deferred);
    for (int i = 0; i < b->n_spare; i++) {
        ard_free(b->spare[i]);
    }
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->cond);
    ard_free(b);
    return st;
}

ard_status ard_atomic_commit(ard_atomic_file *f, ard_error *err) {
    if (f->batch) {
        return commit_batched(f, err);
    }
    ard_status st = async_join(f, 0, err);
    st = st ? st : finish_file(f, f->defer_sync ? 0 : 1, err);
    if (st != ARD_OK) {
        ard_atomic_abort(f);
        return st;
    }
    st = f->defer_sync ? ARD_OK : fsync_dir(f->dir_path, f->final_path, err);
    atomic_free(f);
    return st;
}

void ard_atomic_abort(ard_atomic_file *f) {
    if (!f) {
        return;
    }
    async_join(f, 1, NULL);
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    unlink(f->tmp_path);
    atomic_free(f);
}

ard_status ard_file_write_atomic(const char *path, const void *data, size_t len, ard_error *err) {
    ard_atomic_file *f = NULL;
    ard_status st = ard_atomic_open(path, &f, err);
    if (st != ARD_OK) {
        return st;
    }
    st = ard_atomic_write(f, data, len, err);
    if (st != ARD_OK) {
        ard_atomic_abort(f);
        return st;
    }
    return ard_atomic_commit(f, err);
}
