/* One sync at a time per index: concurrent `ard sync` runs of one index serialise instead of
 * colliding (each inserting the same new files: "UNIQUE constraint failed: files.path" and rows in
 * sync_errors). A backend with a local database file (SQLite): flock on "<database>.sync-lock"
 * beside it (released by the kernel when the process dies, so a killed sync never leaves it held).
 * Otherwise (PostgreSQL) the backend's session lock in SQL (an advisory lock, released when the
 * connection closes): idx_backend_ops.sync_*_sql. A sync that has to wait says so through
 * ard_sync_options.on_notice. Partitioned syncs (size > 1, MPI ranks) are coordinated by their
 * launcher and take no lock. */
#include "index_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static void notice(const ard_sync_options *o, const char *msg) {
    if (o->on_notice) {
        o->on_notice(o->notice_ctx, msg);
    }
}

static int copy_path(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    char *out = ctx;
    snprintf(out, 4096, "%s", n > 0 && v[0] ? v[0] : "");
    return 1;
}

static ard_status lock_file(ard_index *idx, const ard_sync_options *o, sync_lock *lock,
                            ard_error *err) {
    char db[4096] = "", path[4200];
    ard_status st =
        idx->be->ops->select(idx->be, idx->be->ops->database_file_sql, 0, copy_path, db, err);
    if (st != ARD_OK || !db[0]) {
        return st; /* an in-memory database has nobody to share it with */
    }
    snprintf(path, sizeof path, "%s.sync-lock", db);
    lock->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock->fd < 0) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: opening the sync lock", path);
    }
    if (flock(lock->fd, LOCK_EX | LOCK_NB) == 0) {
        return ARD_OK;
    }
    if (errno != EWOULDBLOCK) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: flock", path);
    }
    char msg[4400];
    snprintf(msg, sizeof msg, "waiting for another sync of %.2000s to finish (lock %.2000s)", db,
             path);
    notice(o, msg);
    while (flock(lock->fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            return ard_error_set_errno(err, ARD_EIO, errno, "%s: flock", path);
        }
    }
    return ARD_OK;
}

static ard_status lock_sql(ard_index *idx, const ard_sync_options *o, sync_lock *lock,
                           ard_error *err) {
    int64_t got = 0;
    ard_status st = ard__idx_int(idx, idx->be->ops->sync_try_lock_sql, &got, err);
    if (st == ARD_OK && !got) {
        notice(o, "waiting for another sync of this index to finish (session lock)");
        st = ard__idx_int(idx, idx->be->ops->sync_lock_sql, &got, err);
    }
    lock->sql_held = st == ARD_OK;
    return st;
}

ard_status ard__sync_lock(ard_index *idx, const ard_sync_options *o, sync_lock *lock,
                          ard_error *err) {
    lock->fd = -1;
    lock->sql_held = 0;
    if (o->size > 1) {
        return ARD_OK;
    }
    if (idx->be->ops->database_file_sql) {
        return lock_file(idx, o, lock, err);
    }
    return idx->be->ops->sync_lock_sql ? lock_sql(idx, o, lock, err) : ARD_OK;
}

void ard__sync_unlock(ard_index *idx, sync_lock *lock) {
    if (lock->fd >= 0) {
        close(lock->fd); /* releases the flock */
        lock->fd = -1;
    }
    if (lock->sql_held) {
        int64_t ignored = 0;
        ard__idx_int(idx, idx->be->ops->sync_unlock_sql, &ignored, NULL);
        lock->sql_held = 0;
    }
}
