/* Path confinement: a path read from an index or a read plan (an ard.db is a file people share)
 * must name a file inside its dataset, never /etc/passwd through "../" or a symbolic link. */
#include "ard/core.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 when some '/'-separated component of rel is exactly "..". */
static int has_dotdot(const char *rel) {
    for (const char *p = rel; *p;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            return 1;
        }
        p += n + (end != NULL);
    }
    return 0;
}

static ard_status check_lexical(const char *rel, const char *what, ard_error *err) {
    if (!*rel) {
        return ard_error_set(err, ARD_EPERM, "%s: empty path", what);
    }
    if (rel[0] == '/') {
        return ard_error_set(err, ARD_EPERM,
                             "%s: path \"%.300s\" is absolute; paths in an index or a plan must "
                             "be relative to the dataset",
                             what, rel);
    }
    if (has_dotdot(rel)) {
        return ard_error_set(err, ARD_EPERM,
                             "%s: path \"%.300s\" has a \"..\" component and could leave the "
                             "dataset",
                             what, rel);
    }
    if (strlen(rel) >= PATH_MAX) {
        return ard_error_set(err, ARD_EPERM, "%s: path longer than %d bytes", what, PATH_MAX);
    }
    return ARD_OK;
}

/* The resolved target of root/rel must lie under the resolved root. A path that does not exist
 * (yet) passes: opening it fails with ENOENT, and nothing it names can be outside. */
static ard_status check_resolved(const char *root, const char *joined, const char *rel,
                                 const char *what, ard_error *err) {
    char real_root[PATH_MAX], real[PATH_MAX];
    if (!realpath(root, real_root)) {
        return ard_error_set_errno(err, errno == ENOENT ? ARD_ENOENT : ARD_EIO, errno,
                                   "%s: dataset %s", what, root);
    }
    if (!realpath(joined, real)) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) {
            return ARD_OK;
        }
        return ard_error_set_errno(err, e == EACCES ? ARD_EPERM : ARD_EIO, e, "%s: %s", what,
                                   joined);
    }
    size_t n = strlen(real_root);
    int root_is_slash = n == 1 && real_root[0] == '/';
    if (!root_is_slash && (strncmp(real, real_root, n) != 0 || real[n] != '/')) {
        return ard_error_set(err, ARD_EPERM,
                             "%s: path \"%.300s\" resolves (through a symbolic link) to %.300s, "
                             "outside the dataset %.300s",
                             what, rel, real, real_root);
    }
    return ARD_OK;
}

ard_status ard_path_confine(const char *root, const char *rel, const char *what, char **out,
                            ard_error *err) {
    *out = NULL;
    if (!root || !rel) {
        return ard_error_set(err, ARD_EINVAL, "ard_path_confine: NULL path");
    }
    const char *label = what ? what : "path";
    ard_status st = check_lexical(rel, label, err);
    if (st != ARD_OK) {
        return st;
    }
    size_t cap = strlen(root) + strlen(rel) + 2;
    char *joined = ard_malloc(cap);
    if (!joined) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", label);
    }
    snprintf(joined, cap, "%s/%s", root, rel);
    st = check_resolved(root, joined, rel, label, err);
    if (st != ARD_OK) {
        ard_free(joined);
        return st;
    }
    *out = joined;
    return ARD_OK;
}

ard_status ard_path_real_fd(int fd, const char *path, char *out, ard_error *err) {
    static const char deleted[] = " (deleted)";
    size_t m = sizeof deleted - 1;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = fd >= 0 ? readlink(link, out, PATH_MAX - 1) : -1;
    if (n > 0 && n < PATH_MAX - 1 && out[0] == '/') {
        out[n] = '\0';
        if ((size_t)n <= m || memcmp(out + n - m, deleted, m) != 0) {
            return ARD_OK;
        }
    }
    if (!path) { /* no /proc (or a name it cannot tell apart): realpath */
        return ard_error_set(err, ARD_EINVAL, "ard_path_real_fd: no /proc and no path");
    }
    if (!realpath(path, out)) {
        return ard_error_set_errno(err, errno == ENOENT ? ARD_ENOENT : ARD_EIO, errno,
                                   "resolving %s", path);
    }
    return ARD_OK;
}
