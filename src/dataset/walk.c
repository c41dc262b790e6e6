/* The walker: a dataset's Parquet files, part by part (tiles, catalog, truth, results), sorted so
 * that every rank and every run sees the same order. The one place that lists a dataset.
 *
 * Directories are opened from their parent's descriptor (openat) and read with getdents64 into a
 * buffer per level: no path is resolved from / twice, a directory costs an open, its reads and a
 * close, and readdir's type spares a stat for plain files and directories. A directory reached
 * without following a link is opened with O_NOFOLLOW, so a file stat'ed from it (AT_SYMLINK_NOFOLLOW)
 * provably lay inside the dataset when the walk saw it (ard_dataset_file_stat.direct). */
#include "dataset_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    WALK_MAX_DEPTH = 16, /* levels below a part's directory that are listed */
    SWEEP_MAX_DEPTH = 8, /* levels below the dataset that are swept (as ard_atomic_sweep) */
    WALK_LEVELS = WALK_MAX_DEPTH + 2,
    WALK_BUF = 32768
};

typedef struct walk_file {
    char *path;
    ard_dataset_file_stat st;
} walk_file;

typedef struct walk_list {
    walk_file *files;
    int64_t count, cap;
} walk_list;

typedef struct walk {
    uint32_t parts;                    /* the parts listed */
    int32_t want_stat;                 /* fill ard_dataset_file_stat */
    const ard_atomic_sweeper *sweeper; /* NULL: no sweep */
    int64_t removed;
    walk_list lists[ARD_DATASET_NUM_PARTS];
    char *bufs[WALK_LEVELS]; /* a getdents buffer per level, reused by siblings */
    char rel[PATH_MAX];      /* the directory being read, relative to the dataset */
    size_t rel_len;
    ard_error *err;
} walk;

typedef struct walk_dir {
    int fd;
    int32_t level;      /* directories open above this one (its buffer) */
    int32_t depth;      /* below the dataset directory */
    int32_t part;       /* the part it lies in, or -1 */
    int32_t part_depth; /* below that part's directory */
    int32_t direct;     /* reached without following a link */
} walk_dir;

void ard_dataset_files_reset(ard_dataset_files *list) {
    if (!list) {
        return;
    }
    for (int64_t i = 0; i < list->count; i++) {
        ard_free(list->paths[i]);
    }
    ard_free(list->paths);
    ard_free(list->stats);
    list->paths = NULL;
    list->stats = NULL;
    list->count = list->cap = 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *const part_dirs[] = {"tiles", "catalog", "truth", "results"};

const char *ard_dataset_part_dir(int32_t part) {
    return part >= 0 && part < (int32_t)(sizeof part_dirs / sizeof part_dirs[0]) ? part_dirs[part]
                                                                                 : NULL;
}

char *ard__dataset_join(const char *dir, const char *rel) {
    if (rel[0] == '/') {
        return ard_strdup(rel);
    }
    size_t len = strlen(dir) + strlen(rel) + 2;
    char *path = ard_malloc(len);
    if (path) {
        snprintf(path, len, "%s/%s", dir, rel);
    }
    return path;
}

/* Appends "/name" (or "name" at the top) to w->rel; the old length in *saved. 0 when too long. */
static int rel_push(walk *w, const char *name, size_t *saved) {
    size_t n = strlen(name), at = w->rel_len + (w->rel_len > 0);
    if (at + n + 1 > sizeof w->rel) {
        return 0;
    }
    *saved = w->rel_len;
    if (w->rel_len > 0) {
        w->rel[w->rel_len] = '/';
    }
    memcpy(w->rel + at, name, n + 1);
    w->rel_len = at + n;
    return 1;
}

static void rel_pop(walk *w, size_t saved) {
    w->rel_len = saved;
    w->rel[saved] = '\0';
}

/* Adds w->rel/name to the part's list. dirfd/name is stat'ed when the walk wants stats and it was
 * reached directly (sb: its lstat already taken, or NULL). */
static ard_status list_file(walk *w, const walk_dir *d, const char *name, int direct,
                            const struct stat *sb) {
    walk_list *l = &w->lists[d->part];
    if (l->count == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 256;
        walk_file *grown = ard_realloc(l->files, (size_t)cap * sizeof *grown);
        if (!grown) {
            return ard_error_set(w->err, ARD_ENOMEM, "out of memory listing files");
        }
        l->files = grown;
        l->cap = cap;
    }
    walk_file *f = &l->files[l->count];
    f->st.size = f->st.mtime_ns = -1;
    f->st.direct = 0;
    struct stat own;
    if (w->want_stat && direct && !sb && fstatat(d->fd, name, &own, AT_SYMLINK_NOFOLLOW) == 0) {
        sb = &own;
    }
    if (w->want_stat && direct && sb && S_ISREG(sb->st_mode)) { /* not a link swapped in */
        f->st.size = (int64_t)sb->st_size;
        f->st.mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
        f->st.direct = 1;
    }
    size_t saved = 0;
    if (!rel_push(w, name, &saved)) {
        return ard_error_set(w->err, ARD_EIO, "path too long below %s", w->rel);
    }
    f->path = ard_strdup(w->rel);
    rel_pop(w, saved);
    if (!f->path) {
        return ard_error_set(w->err, ARD_ENOMEM, "out of memory listing files");
    }
    l->count++;
    return ARD_OK;
}

static ard_status walk_dir_read(walk *w, const walk_dir *d);

/* The part a directory directly below the dataset stands for, or -1. */
static int32_t part_named(const walk *w, const char *name) {
    for (int32_t p = 0; p < ARD_DATASET_NUM_PARTS; p++) {
        if ((w->parts & (1u << p)) && strcmp(name, part_dirs[p]) == 0) {
            return p;
        }
    }
    return -1;
}

/* Enters directory d/name when the listing or the sweep needs it. */
static ard_status walk_child(walk *w, const walk_dir *d, const char *name, int linked) {
    walk_dir c = {-1, d->level + 1, d->depth + 1, d->part, d->part_depth + 1, d->direct && !linked};
    if (d->part < 0 && d->depth == 0) {
        c.part = part_named(w, name);
        c.part_depth = 0;
    }
    int listed = c.part >= 0 && c.part_depth <= WALK_MAX_DEPTH;
    int swept = w->sweeper && c.direct && c.depth <= SWEEP_MAX_DEPTH;
    if ((!listed && !swept) || c.level >= WALK_LEVELS) {
        return ARD_OK;
    }
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    c.fd = openat(d->fd, name, flags | (c.direct ? O_NOFOLLOW : 0));
    if (c.fd < 0 && errno == ELOOP && c.direct && listed) { /* swapped for a link meanwhile */
        c.direct = 0;
        swept = 0;
        c.fd = openat(d->fd, name, flags);
    }
    size_t saved = 0;
    if (c.fd < 0 || !rel_push(w, name, &saved)) {
        int e = c.fd < 0 ? errno : ENAMETOOLONG;
        if (c.fd >= 0) {
            close(c.fd);
        }
        if (!listed || e == ENOENT || e == ENOTDIR || e == ELOOP) {
            return ARD_OK; /* vanished, not a directory, or only the sweep's (best effort) */
        }
        return ard_error_set_errno(w->err, ARD_EIO, e, "opening directory %s/%s", w->rel, name);
    }
    ard_status st = walk_dir_read(w, &c);
    rel_pop(w, saved);
    close(c.fd);
    return st;
}

/* One entry of directory d: swept, listed or entered. */
static ard_status walk_entry(walk *w, const walk_dir *d, const char *name, unsigned char type) {
    if (name[0] == '.') { /* ., .., hidden files and the writer's temporary files */
        if (w->sweeper && d->direct && d->depth <= SWEEP_MAX_DEPTH) {
            w->removed += ard_atomic_sweep_entry(w->sweeper, d->fd, name);
        }
        return ARD_OK;
    }
    struct stat sb;
    const struct stat *have = NULL;
    int linked = 0;
    if (type == DT_UNKNOWN || type == DT_LNK) {
        if (fstatat(d->fd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            return ARD_OK; /* vanished while listing: not an error, it is simply not there */
        }
        have = &sb;
        linked = S_ISLNK(sb.st_mode);
        /* a link is followed by the listing (the part's directory itself, or inside one), never
         * by the sweep */
        int listing = d->part >= 0 || (d->depth == 0 && part_named(w, name) >= 0);
        if (linked && (!listing || fstatat(d->fd, name, &sb, 0) != 0)) {
            return ARD_OK; /* not followed, or dangling */
        }
        type = S_ISDIR(sb.st_mode) ? DT_DIR : S_ISREG(sb.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type == DT_DIR) {
        return walk_child(w, d, name, linked);
    }
    if (type == DT_REG && d->part >= 0 && ends_with(name, ".parquet")) {
        return list_file(w, d, name, d->direct && !linked, have);
    }
    return ARD_OK;
}

static ard_status walk_dir_read(walk *w, const walk_dir *d) {
    if (!w->bufs[d->level] && !(w->bufs[d->level] = ard_malloc(WALK_BUF))) {
        return ard_error_set(w->err, ARD_ENOMEM, "out of memory");
    }
    char *buf = w->bufs[d->level];
    ard_status st = ARD_OK;
    ssize_t n;
    while (st == ARD_OK && (n = getdents64(d->fd, buf, WALK_BUF)) > 0) {
        for (ssize_t at = 0; st == ARD_OK && at < n;) {
            const struct dirent64 *e = (const struct dirent64 *)(const void *)(buf + at);
            at += e->d_reclen;
            st = walk_entry(w, d, e->d_name, e->d_type);
        }
    }
    if (st == ARD_OK && n < 0) {
        st = ard_error_set_errno(w->err, ARD_EIO, errno, "reading directory %s", w->rel);
    }
    return st;
}

static int cmp_file(const void *a, const void *b) {
    return strcmp(((const walk_file *)a)->path, ((const walk_file *)b)->path);
}

/* Sorts a part's files into out (stats when asked for). */
static ard_status list_out(walk *w, walk_list *l, ard_dataset_files *out) {
    if (l->count > 1) {
        qsort(l->files, (size_t)l->count, sizeof *l->files, cmp_file);
    }
    size_t n = (size_t)(l->count ? l->count : 1);
    out->paths = ard_malloc(n * sizeof *out->paths);
    out->stats = w->want_stat ? ard_malloc(n * sizeof *out->stats) : NULL;
    if (!out->paths || (w->want_stat && !out->stats)) {
        ard_free(out->paths);
        ard_free(out->stats);
        out->paths = NULL;
        out->stats = NULL;
        return ard_error_set(w->err, ARD_ENOMEM, "out of memory listing files");
    }
    for (int64_t i = 0; i < l->count; i++) {
        out->paths[i] = l->files[i].path;
        if (out->stats) {
            out->stats[i] = l->files[i].st;
        }
    }
    out->count = out->cap = l->count;
    l->count = 0; /* the paths belong to out now */
    return ARD_OK;
}

static void walk_reset(walk *w) {
    for (int32_t p = 0; p < ARD_DATASET_NUM_PARTS; p++) {
        for (int64_t i = 0; i < w->lists[p].count; i++) {
            ard_free(w->lists[p].files[i].path);
        }
        ard_free(w->lists[p].files);
    }
    for (int32_t i = 0; i < WALK_LEVELS; i++) {
        ard_free(w->bufs[i]);
    }
}

/* Walks `top`: the dataset into out[w->parts' parts] (part -1), or one part's directory (named
 * rel) into *out. */
static ard_status walk_run(walk *w, const char *top, const char *rel, int32_t part,
                           ard_dataset_files *out) {
    walk_dir d = {-1, 0, part >= 0, part, 0, 1};
    ard_status st = ARD_OK;
    d.fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.fd < 0 && part < 0) {
        st = ard_error_set_errno(w->err, errno == ENOENT ? ARD_ENOENT : ARD_EIO, errno,
                                 "opening dataset directory %s", top);
    } else if (d.fd < 0 && errno != ENOENT && errno != ENOTDIR) {
        st = ard_error_set_errno(w->err, ARD_EIO, errno, "opening directory %s", top);
    } else if (d.fd >= 0) { /* (a missing part directory lists nothing) */
        snprintf(w->rel, sizeof w->rel, "%s", rel);
        w->rel_len = strlen(w->rel);
        st = walk_dir_read(w, &d);
        close(d.fd);
    }
    if (part >= 0) {
        st = st == ARD_OK ? list_out(w, &w->lists[part], out) : st;
    }
    for (int32_t p = 0; part < 0 && st == ARD_OK && p < ARD_DATASET_NUM_PARTS; p++) {
        if (w->parts & (1u << p)) {
            st = list_out(w, &w->lists[p], &out[p]);
        }
    }
    walk_reset(w);
    return st;
}

ard_status ard_dataset_list(const char *dataset, int32_t part, ard_dataset_files *out,
                            ard_error *err) {
    const char *sub = ard_dataset_part_dir(part);
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_dataset_list: out is NULL");
    }
    ard_dataset_files_reset(out);
    if (!dataset || !sub) {
        return ard_error_set(err, ARD_EINVAL, "ard_dataset_list: no dataset or unknown part %d",
                             part);
    }
    char *root = ard__dataset_join(dataset, sub);
    if (!root) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    walk w;
    memset(&w, 0, sizeof w);
    w.parts = 1u << part;
    w.err = err;
    ard_status st = walk_run(&w, root, sub, part, out);
    ard_free(root);
    if (st != ARD_OK) {
        ard_dataset_files_reset(out);
    }
    return st;
}

ard_status ard_dataset_scan(const char *dataset, uint32_t parts, int32_t sweep,
                            ard_dataset_files *out, int64_t *removed, ard_error *err) {
    if (removed) {
        *removed = 0;
    }
    if (!out || !dataset) {
        return ard_error_set(err, ARD_EINVAL, "ard_dataset_scan: NULL argument");
    }
    for (int32_t p = 0; p < ARD_DATASET_NUM_PARTS; p++) {
        ard_dataset_files_reset(&out[p]);
    }
    ard_atomic_sweeper sweeper;
    ard_atomic_sweeper_init(&sweeper);
    walk w;
    memset(&w, 0, sizeof w);
    w.parts = parts & ((1u << ARD_DATASET_NUM_PARTS) - 1);
    w.want_stat = 1;
    w.sweeper = sweep && sweeper.active ? &sweeper : NULL;
    w.err = err;
    ard_status st = walk_run(&w, dataset, "", -1, out);
    if (removed) {
        *removed = w.removed;
    }
    if (st != ARD_OK) {
        for (int32_t p = 0; p < ARD_DATASET_NUM_PARTS; p++) {
            ard_dataset_files_reset(&out[p]);
        }
    }
    return st;
}
