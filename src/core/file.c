/* Files: read-only mapping of whole files, exact positional reads, and the atomic durable writer
 * (temporary file in the target directory, fsync, rename, fsync of the directory). */
#include "ard/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// ---- mapping ------------------------------------------------------------------------------------

/* Non-regular files (pipes, character devices) cannot be mapped: read them to the end instead.
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

static ard_status map_fd(int fd, const char *path, ard_mapped_file *out, ard_error *err) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: stat", path);
    }
    if (S_ISDIR(st.st_mode)) {
        return ard_error_set(err, ARD_EINVAL, "%s: is a directory", path);
    }
    if (!S_ISREG(st.st_mode)) {
        return map_by_reading(fd, path, out, err);
    }
    if (st.st_size == 0) {
        return ARD_OK; /* data = NULL, size = 0: mmap of length 0 is invalid */
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        return ard_error_set(err, ARD_ELIMIT, "%s: file too large to map", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: mmap", path);
    }
    out->data = p;
    out->size = (int64_t)st.st_size;
    return ARD_OK;
}

ard_status ard_file_map(const char *path, ard_mapped_file *out, ard_error *err) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return ard_error_set_errno(err, open_status(e), e, "%s", path);
    }
    ard_status st = map_fd(fd, path, out, err);
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

struct ard_atomic_file {
    int fd;
    int64_t offset;
    char *final_path;
    char *tmp_path;
    char *dir_path;
    int defer_sync; /* commit renames without fsync (ard_atomic_defer_sync) */
};

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

/* Creates "<dir>/.<name>.tmp.<pid>.<counter>" with O_EXCL, retrying with the next counter if a
 * stale temporary of an earlier process with the same pid is in the way. */
static ard_status create_temp(ard_atomic_file *f, const char *base, ard_error *err) {
    size_t cap = strlen(f->dir_path) + strlen(base) + 64;
    f->tmp_path = ard_malloc(cap);
    if (!f->tmp_path) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", f->final_path);
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned n = atomic_fetch_add(&tmp_counter, 1u);
        snprintf(f->tmp_path, cap, "%s/.%s.tmp.%ld.%u", f->dir_path, base, (long)getpid(), n);
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
    if (f->fd >= 0) {
        close(f->fd);
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

ard_status ard_atomic_write(ard_atomic_file *f, const void *data, size_t len, ard_error *err) {
    const uint8_t *src = data;
    size_t done = 0;
    while (done < len) {
        ssize_t put = write(f->fd, src + done, len - done);
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put < 0) {
            return ard_error_set_errno(err, ARD_EIO, errno, "%s: write at offset %lld", f->tmp_path,
                                       (long long)(f->offset + (int64_t)done));
        }
        done += (size_t)put;
    }
    f->offset += (int64_t)len;
    return ARD_OK;
}

int64_t ard_atomic_tell(const ard_atomic_file *f) {
    return f->offset;
}

static ard_status fsync_dir(const char *dir, ard_error *err) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: opening directory for fsync", dir);
    }
    int rc = fsync(dfd);
    int e = errno;
    close(dfd);
    /* Some file systems cannot fsync a directory (EINVAL); the rename itself has happened. */
    if (rc != 0 && e != EINVAL) {
        return ard_error_set_errno(err, ARD_EIO, e, "%s: fsync of directory", dir);
    }
    return ARD_OK;
}

void ard_atomic_defer_sync(ard_atomic_file *f) {
    f->defer_sync = 1;
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

ard_status ard_atomic_commit(ard_atomic_file *f, ard_error *err) {
    ard_status st = ARD_OK;
    if (!f->defer_sync && fsync(f->fd) != 0) {
        st = ard_error_set_errno(err, ARD_EIO, errno, "%s: fsync", f->tmp_path);
        goto fail;
    }
    int rc = close(f->fd);
    f->fd = -1;
    if (rc != 0) {
        st = ard_error_set_errno(err, ARD_EIO, errno, "%s: close", f->tmp_path);
        goto fail;
    }
    if (rename(f->tmp_path, f->final_path) != 0) {
        int e = errno;
        st = ard_error_set_errno(err, open_status(e), e, "%s: rename from %s", f->final_path,
                                 f->tmp_path);
        goto fail;
    }
    st = f->defer_sync ? ARD_OK : fsync_dir(f->dir_path, err);
    atomic_free(f);
    return st;
fail:
    ard_atomic_abort(f);
    return st;
}

void ard_atomic_abort(ard_atomic_file *f) {
    if (!f) {
        return;
    }
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
