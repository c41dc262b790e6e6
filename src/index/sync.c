/* `ard sync`: brings the index in line with the dataset on disk. Lists the files, compares each
 * with what the index knows (size, mtime, footer hash), reads new/changed files in parallel (footer
 * + TARGETID only), writes them window by window (each window one transaction, so every file is
 * either fully indexed or not at all), removes vanished files and records the run in sync_runs. */
#include "index_int.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct known_file {
    char *path;
    int64_t id, size, mtime_ns;
    char hash[17];
    int seen;
} known_file;

typedef struct known_list {
    known_file *files;
    int64_t count, cap;
    ard_status st;
} known_list;

static int known_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    known_list *k = ctx;
    if (n < 5 || !v[0] || !v[1]) {
        return 0;
    }
    if (k->count == k->cap) {
        int64_t cap = k->cap ? k->cap * 2 : 1024;
        known_file *grown = ard_realloc(k->files, (size_t)cap * sizeof *grown);
        if (!grown) {
            k->st = ARD_ENOMEM;
            return 1;
        }
        k->files = grown;
        k->cap = cap;
    }
    known_file *f = &k->files[k->count];
    memset(f, 0, sizeof *f);
    if (!(f->path = ard_strdup(v[1]))) {
        k->st = ARD_ENOMEM;
        return 1;
    }
    f->id = strtoll(v[0], NULL, 10);
    f->size = v[2] ? strtoll(v[2], NULL, 10) : -1;
    f->mtime_ns = v[3] ? strtoll(v[3], NULL, 10) : -1;
    snprintf(f->hash, sizeof f->hash, "%s", v[4] ? v[4] : "");
    k->count++;
    return 0;
}

static int cmp_known(const void *a, const void *b) {
    return strcmp(((const known_file *)a)->path, ((const known_file *)b)->path);
}

static void known_reset(known_list *k) {
    for (int64_t i = 0; i < k->count; i++) {
        ard_free(k->files[i].path);
    }
    ard_free(k->files);
}

static known_file *known_find(known_list *k, const char *path) {
    known_file key = {0};
    key.path = (char *)path;
    return k->count ? bsearch(&key, k->files, (size_t)k->count, sizeof key, cmp_known) : NULL;
}

static void now_text(char *out, size_t cap) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double mono_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the run ---- */

typedef struct sync_run {
    ard_index *idx;
    const char *dataset;
    const ard_sync_options *opts;
    ard_sync_report *rep;
    known_list known;
    ard_pool *pool;
    ard_progress *progress;
    int32_t fresh_catalog; /* galaxies was empty and the backend loads it fresh (bulk_fresh) */
    int32_t fresh_spectra; /* spectra was empty: the tiles load through sync_fresh.c */
    idx_fresh_spectra fresh;
    int32_t tiles_touched, catalogs_touched; /* files of that kind were written or removed */
    int64_t pending_tiles;                   /* tiles to read and write */
} sync_run;

static ard_status begin_run(sync_run *run, ard_error *err) {
    ard_index *idx = run->idx;
    char started[32];
    now_text(started, sizeof started);
    ard_status st = ard__idx_begin_write(idx, err);
    if (st == ARD_OK) {
        st = ard__idx_int(idx, "SELECT COALESCE(MAX(id), 0) + 1 FROM sync_runs", &run->rep->run_id,
                          err);
    }
    if (st == ARD_OK) {
        st = ard__idx_execf(idx, err,
                            "INSERT INTO sync_runs (id, started, ard_version, backend, rank, size,"
                            " status) VALUES (%lld, '%s', '%s', '%s', %d, %d, 'running')",
                            (long long)run->rep->run_id, started, ARD_VERSION_STRING,
                            ard_index_backend(idx), run->opts->rank,
                            run->opts->remote     ? run->opts->remote->ranks
                            : run->opts->size > 0 ? run->opts->size
                                                  : 1);
    }
    st = st == ARD_OK ? ard__idx_exec(idx, "COMMIT", err) : st;
    if (st != ARD_OK) {
        ard__idx_exec(idx, "ROLLBACK", NULL);
        return st;
    }
    return idx->be->ops->select(
        idx->be, "SELECT id, path, size, mtime_ns, footer_hash FROM files ORDER BY path", 0,
        known_row, &run->known, err);
}

static ard_status finish_run(sync_run *run, const char *status, ard_error *err) {
    char finished[32];
    now_text(finished, sizeof finished);
    const ard_sync_report *r = run->rep;
    return ard__idx_execf(
        run->idx, err,
        "UPDATE sync_runs SET finished = '%s', files_seen = %lld, files_added = %lld,"
        " files_changed = %lld, files_unchanged = %lld, files_removed = %lld,"
        " files_failed = %lld, spectra_rows = %lld, galaxy_rows = %lld,"
        " status = '%s' WHERE id = %lld",
        finished, (long long)r->files_seen, (long long)r->files_added, (long long)r->files_changed,
        (long long)r->files_unchanged, (long long)r->files_removed, (long long)r->files_failed,
        (long long)r->spectra_rows, (long long)r->galaxy_rows, status, (long long)r->run_id);
}

/* The spectra rows of the run's tiles, estimated from the first window's. */
static int64_t expected_rows(const sync_run *run, const sync_item *items, int64_t n) {
    int64_t rows = 0, files = 0;
    for (int64_t i = 0; i < n; i++) {
        if (items[i].st == ARD_OK && items[i].kind == SYNC_TILE) {
            rows += items[i].num_rows;
            files++;
        }
    }
    return files ? rows / files * run->pending_tiles : 0;
}

/* Writes a window; when the window as a whole fails in the database (e.g. a catalog with duplicate
 * TARGETIDs), retries file by file and records the ones that fail as sync errors. */
static ard_status write_window(sync_run *run, sync_item *items, int64_t n, ard_error *err) {
    ard_sync_report *r = run->rep;
    ard_error e;
    ard_error_init(&e);
    ard_status st = ARD_OK;
    if (n > 0 && items[0].kind == SYNC_TILE && run->fresh_spectra) { /* the first tile window */
        run->fresh_spectra = 0;
        st = ard__fresh_begin(run->idx, &run->fresh, expected_rows(run, items, n), err);
    } else if (n > 0 && items[0].kind == SYNC_CATALOG && run->idx->fresh) { /* tiles done */
        st = ard__fresh_finish(run->idx, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    st = ard__sync_write_items(run->idx, items, n, r->run_id, &r->spectra_rows, &r->galaxy_rows,
                               &r->data_reads, &e);
    if (st != ARD_EDB || n == 0) {
        if (st != ARD_OK) {
            *err = e;
        }
        return st;
    }
    for (int64_t i = 0; i < n; i++) {
        ard_error_init(&e);
        st = ard__sync_write_items(run->idx, &items[i], 1, r->run_id, &r->spectra_rows,
                                   &r->galaxy_rows, &r->data_reads, &e);
        if (st == ARD_EDB && items[i].st == ARD_OK) {
            items[i].st = st;
            snprintf(items[i].msg, sizeof items[i].msg, "%s", e.msg);
            ard_error_init(&e);
            st = ard__sync_write_items(run->idx, &items[i], 1, r->run_id, &r->spectra_rows,
                                       &r->galaxy_rows, &r->data_reads, &e);
        }
        if (st != ARD_OK) {
            *err = e;
            return st;
        }
    }
    return ARD_OK;
}

static void account(sync_run *run, sync_item *items, int64_t n) {
    ard_sync_report *r = run->rep;
    for (int64_t i = 0; i < n; i++) {
        r->data_reads += items[i].data_reads;
        r->footer_reads += items[i].footer_reads;
        if (items[i].st == ARD_OK || items[i].old_id) { /* a failed file loses its old rows */
            run->tiles_touched |= items[i].kind == SYNC_TILE;
            run->catalogs_touched |= items[i].kind == SYNC_CATALOG;
        }
        if (items[i].st != ARD_OK) {
            r->files_failed++;
            if (!r->first_error[0]) {
                snprintf(r->first_error, sizeof r->first_error, "%.200s: %.300s", items[i].rel,
                         items[i].msg);
            }
        } else if (items[i].old_id) {
            r->files_changed++;
        } else {
            r->files_added++;
        }
    }
}

/* One step of the pipeline: task 0 writes the window read by the previous step (on one thread)
 * while the other tasks read the next window's files (on the others), so the database never waits
 * for the footers and TARGETIDs of the next files. */
typedef struct pipeline_step {
    sync_run *run;
    sync_item *read; /* the window to read */
    int64_t num_read;
    sync_item *write; /* the window to write, or NULL */
    int64_t num_write;
    ard_status st;
    ard_error err;
} pipeline_step;

static void pipeline_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    pipeline_step *step = arg;
    if (step->write && i == 0) {
        step->st = write_window(step->run, step->write, step->num_write, &step->err);
        return;
    }
    sync_item *it = &step->read[i - (step->write != NULL)];
    if (!it->remote) { /* another rank's file: its rows arrive by ard__sync_remote_receive */
        ard__sync_read_item(it);
    }
}

/* The length of the window starting at items[at]: up to per files, a catalog alone (or, into an
 * empty galaxies, the catalogs together: one build of its key, sync_catalog.c). */
static int64_t window_length(const sync_item *items, int64_t at, int64_t count, int32_t per,
                             int32_t fresh_catalog) {
    int64_t n = count - at < per ? count - at : per;
    if (items[at].kind == SYNC_CATALOG) {
        int64_t k = 1; /* catalogs are big: one file per transaction */
        while (fresh_catalog && k < n && items[at + k].kind == SYNC_CATALOG) {
            k++;
        }
        return k;
    }
    for (int64_t i = at + 1; i < at + n; i++) {
        if (items[i].kind == SYNC_CATALOG) {
            return i - at;
        }
    }
    return n;
}

/* After a window was written: counts, frees and reports it. */
static void window_done(sync_run *run, sync_item *items, int64_t n) {
    account(run, items, n);
    for (int64_t i = 0; i < n; i++) {
        ard__sync_item_reset(&items[i]);
    }
    ard_progress_add(run->progress, n);
}

/* Reads and writes the pending items window by window, reading one window ahead. */
static ard_status process(sync_run *run, sync_item *items, int64_t count, ard_error *err) {
    int32_t per = run->opts->files_per_txn > 0 ? run->opts->files_per_txn : 64;
    pipeline_step step = {run, NULL, 0, NULL, 0, ARD_OK, {0}};
    for (int64_t at = 0; at <= count && step.st == ARD_OK;) {
        int64_t n = at < count ? window_length(items, at, count, per, run->fresh_catalog) : 0;
        step.read = items + at;
        step.num_read = n;
        ard_error_init(&step.err);
        ard_pool_for(run->pool, n + (step.write != NULL), pipeline_task, &step);
        if (step.write) {
            window_done(run, step.write, step.num_write);
        }
        if (n > 0 && step.st == ARD_OK) { /* on this thread: MPI calls stay on the main thread */
            step.st = ard__sync_remote_receive(run->opts->remote, step.read, n, &step.err);
        }
        step.write = n > 0 ? step.read : NULL;
        step.num_write = n;
        at += n > 0 ? n : 1;
    }
    if (step.st != ARD_OK) {
        *err = step.err;
    }
    return step.st;
}

/* Decides, for one file on disk (fs: its size and mtime), whether it must be (re)read. Returns 1
 * when pending. */
static int classify(sync_run *run, const char *rel, const char *full,
                    const ard_dataset_file_stat *fs, sync_item *it) {
    int64_t mtime = fs->mtime_ns;
    known_file *k = known_find(&run->known, rel);
    it->size = fs->size;
    it->mtime_ns = mtime;
    it->old_id = k ? k->id : 0;
    if (!k) {
        return 1;
    }
    k->seen = 1;
    if (k->size != it->size) {
        return 1;
    }
    if (k->mtime_ns == mtime && !run->opts->verify_footers) {
        return 0;
    }
    char hash[17];
    run->rep->footer_reads++;
    if (ard__footer_hash(full, hash, NULL) != ARD_OK || strcmp(hash, k->hash) != 0) {
        return 1;
    }
    if (k->mtime_ns != mtime) { /* touched, not changed: remember the new mtime only */
        ard__idx_execf(run->idx, NULL, "UPDATE files SET mtime_ns = %lld WHERE id = %lld",
                       (long long)mtime, (long long)k->id);
    }
    return 0;
}

/* Confinement of the listed files. The walk (ard_dataset_scan) stats each file it reaches through
 * directories opened one from the other without following a link: such a file lies inside the
 * dataset (stat.direct) and costs nothing more here. A file behind a link (in a linked directory,
 * or a link itself) is checked: its directory is opened once (the list is sorted: its files are
 * consecutive) and resolved from the open descriptor (ard_path_real_fd: /proc/self/fd, so a
 * directory swapped for a link after the open still resolves to what is open), the file lstat'ed
 * from that descriptor; a link to a file, an odd name or a directory outside the dataset takes
 * ard_path_confine, which words the error sync records. */
typedef struct confine_cache {
    char root[PATH_MAX]; /* realpath(dataset), resolved on first use; "" when it cannot be */
    int root_done;
    char dir[PATH_MAX]; /* the directory (relative) resolved last */
    int dir_valid, dir_inside;
    int dir_fd; /* that directory (O_PATH), or -1: files are looked up from it, not from / */
} confine_cache;

static void confine_cache_init(confine_cache *c) {
    memset(c, 0, sizeof *c);
    c->dir_fd = -1;
}

/* Opens and resolves DATASET/c->dir; c->dir_inside when it lies inside the dataset. */
static void confine_dir(confine_cache *c, const char *dataset) {
    char joined[PATH_MAX], real[PATH_MAX];
    c->dir_valid = 1;
    c->dir_inside = 0;
    if (c->dir_fd >= 0) {
        close(c->dir_fd);
    }
    int len = snprintf(joined, sizeof joined, "%s/%s", dataset, c->dir);
    c->dir_fd = len > 0 && (size_t)len < sizeof joined
                    ? open(joined, O_PATH | O_DIRECTORY | O_CLOEXEC)
                    : -1;
    if (c->dir_fd >= 0 && ard_path_real_fd(c->dir_fd, joined, real, NULL) == ARD_OK) {
        size_t r = strlen(c->root);
        int root_is_slash = r == 1 && c->root[0] == '/';
        c->dir_inside = root_is_slash ||
                        (strncmp(real, c->root, r) == 0 && (real[r] == '/' || real[r] == '\0'));
    }
}

/* 1 when DATASET/rel is confined and not a link, with its size and mtime in *fs; 0: use the slow
 * path. */
static int confine_fast(confine_cache *c, const char *dataset, const char *rel,
                        ard_dataset_file_stat *fs) {
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    if (!c->root_done) {
        c->root_done = 1;
        if (!realpath(dataset, c->root)) {
            c->root[0] = '\0';
        }
    }
    if (!c->root[0] || rel[0] == '/' || strstr(rel, "..") || n >= sizeof c->dir) {
        return 0;
    }
    if (!c->dir_valid || strlen(c->dir) != n || memcmp(c->dir, rel, n) != 0) {
        memcpy(c->dir, rel, n);
        c->dir[n] = '\0';
        confine_dir(c, dataset);
    }
    struct stat sb;
    if (!c->dir_inside ||
        fstatat(c->dir_fd, slash ? slash + 1 : rel, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(sb.st_mode)) {
        return 0;
    }
    fs->size = (int64_t)sb.st_size;
    fs->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    return 1;
}

static void confine_cache_reset(confine_cache *c) {
    if (c->dir_fd >= 0) {
        close(c->dir_fd);
    }
    c->dir_fd = -1;
}

/* DATASET/rel; a file whose path leaves the dataset (a symbolic link pointing outside) is not
 * read: it->st/msg say why, and it lands in sync_errors. NULL only when out of memory. *found: 1
 * with the file's size and mtime in *fs, 0 when it vanished. ws: the walk's view of the file. */
static char *confined_path(confine_cache *c, const char *dataset, const char *rel,
                           const ard_dataset_file_stat *ws, sync_item *it,
                           ard_dataset_file_stat *fs, int *found) {
    char *full = ard__join_path(dataset, rel);
    if (full && ws && ws->direct) {
        *fs = *ws;
        *found = 1;
        return full;
    }
    if (full && confine_fast(c, dataset, rel, fs)) {
        *found = 1;
        return full;
    }
    ard_free(full);
    full = NULL;
    ard_error e;
    ard_error_init(&e);
    ard_status st = ard_path_confine(dataset, rel, "sync", &full, &e);
    if (st != ARD_OK && st != ARD_ENOMEM) {
        it->st = st;
        snprintf(it->msg, sizeof it->msg, "%s", e.msg);
        full = ard__join_path(dataset, rel);
    }
    struct stat sb;
    *found = full && stat(full, &sb) == 0;
    if (*found) {
        fs->size = (int64_t)sb.st_size;
        fs->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    }
    return full;
}

/* This rank's share of the list: all of it in one process; under a partitioned sync (size > 1) a
 * contiguous run of equal bytes (ard_partition_bytes over the file sizes, which every rank stats
 * alike; a file that vanished weighs 0). */
static ard_status share_of(const sync_run *run, const ard_dataset_files *list, int64_t *first,
                           int64_t *count, ard_error *err) {
    if (run->opts->size <= 1) { /* everything (and rank 0 required) */
        return ard_index_partition(list->count, run->opts->rank, run->opts->size, first, count,
                                   err);
    }
    int64_t *sizes = ard_calloc((size_t)(list->count ? list->count : 1), sizeof *sizes);
    if (!sizes) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < list->count; i++) {
        if (list->stats && list->stats[i].direct) {
            sizes[i] = list->stats[i].size; /* the walk's stat */
            continue;
        }
        char *full = ard__join_path(run->dataset, list->paths[i]);
        if (!full || ard_file_size(full, &sizes[i], NULL) != ARD_OK) {
            sizes[i] = 0;
        }
        ard_free(full);
    }
    ard_status st = ard_partition_bytes(sizes, list->count, run->opts->rank, run->opts->size, first,
                                        count, err);
    ard_free(sizes);
    return st;
}

static ard_status collect(sync_run *run, const ard_dataset_files *list, int32_t kind,
                          sync_item *items, int64_t *pending, ard_error *err) {
    int64_t first, count;
    ard_status st = share_of(run, list, &first, &count, err);
    confine_cache *cache = ard_malloc(sizeof *cache);
    if (!cache) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    confine_cache_init(cache);
    for (int64_t i = first; st == ARD_OK && i < first + count; i++) {
        sync_item *it = &items[*pending];
        memset(it, 0, sizeof *it);
        ard_dataset_file_stat fs = {-1, -1, 0};
        int found = 0;
        char *full = confined_path(cache, run->dataset, list->paths[i],
                                   list->stats ? &list->stats[i] : NULL, it, &fs, &found);
        if (!full) {
            confine_cache_reset(cache);
            ard_free(cache);
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        run->rep->files_seen++;
        /* a file vanished since the listing is not read (and, unseen, leaves the index) */
        if (it->st != ARD_OK || (found && classify(run, list->paths[i], full, &fs, it))) {
            it->rel = list->paths[i];
            it->full = full;
            it->kind = kind;
            (*pending)++;
        } else {
            ard_free(full);
            run->rep->files_unchanged++;
        }
    }
    confine_cache_reset(cache);
    ard_free(cache);
    return st;
}

static ard_status remove_vanished(sync_run *run, ard_error *err) {
    int64_t *ids = ard_malloc((size_t)(run->known.count + 1) * sizeof *ids);
    int64_t n = 0;
    int tiles = 0, catalogs = 0;
    if (!ids) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < run->known.count; i++) {
        int skipped =
            run->opts->skip_catalog && strncmp(run->known.files[i].path, "catalog/", 8) == 0;
        if (!run->known.files[i].seen && !skipped) {
            ids[n++] = run->known.files[i].id;
            int cat = strncmp(run->known.files[i].path, "catalog/", 8) == 0;
            tiles |= !cat;
            catalogs |= cat;
        }
    }
    ard_status st = ARD_OK;
    if (n > 0) {
        idx_linkage_change change;
        memset(&change, 0, sizeof change);
        st = ard__idx_begin_write(run->idx, err);
        st = st == ARD_OK ? ard__linkage_change_begin(run->idx, ids, n, NULL, 0, tiles, catalogs,
                                                      &change, err)
                          : st;
        st = st == ARD_OK ? ard__sync_delete_ids(run->idx, ids, n, err) : st;
        st = st == ARD_OK ? ard__linkage_change_end(run->idx, &change, err) : st;
        ard__linkage_change_reset(&change);
        st = st == ARD_OK ? ard__idx_exec(run->idx, "COMMIT", err) : st;
        if (st != ARD_OK) {
            ard__idx_exec(run->idx, "ROLLBACK", NULL);
        }
    }
    run->rep->files_removed = st == ARD_OK ? n : 0;
    run->tiles_touched |= tiles;
    run->catalogs_touched |= catalogs;
    ard_free(ids);
    return st;
}

/* 1 when a tile the index knows was not found on disk (remove_vanished deletes its row groups). */
static int tiles_vanished(const sync_run *run) {
    for (int64_t i = 0; i < run->known.count; i++) {
        if (!run->known.files[i].seen && strncmp(run->known.files[i].path, "catalog/", 8) != 0) {
            return 1;
        }
    }
    return 0;
}

static ard_status run_lists(sync_run *run, ard_dataset_files *tiles, ard_dataset_files *cats,
                            ard_error *err) {
    int64_t total = tiles->count + cats->count, pending = 0;
    sync_item *items = ard_calloc((size_t)(total ? total : 1), sizeof *items);
    if (!items) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    ard_status st = collect(run, tiles, SYNC_TILE, items, &pending, err);
    if (st == ARD_OK) {
        st = collect(run, cats, SYNC_CATALOG, items, &pending, err);
    }
    if (st == ARD_OK && run->opts->remote) {
        st = ard__sync_remote_plan(run->opts->remote, items, pending, err);
    }
    for (int64_t i = 0; i < pending; i++) {
        run->pending_tiles += items[i].kind == SYNC_TILE;
    }
    /* the tile windows come before the catalogs': row_groups is final once they are written,
     * unless vanished tiles are removed after them (or another rank writes tiles) */
    if (st == ARD_OK && !run->opts->remote && !tiles_vanished(run)) {
        ard__cat_tids_settle(run->idx->cat_tids);
    }
    if (st == ARD_OK && pending > 0) {
        run->progress = run->opts->quiet ? NULL : ard_progress_new("sync", pending);
        st = process(run, items, pending, err);
        if (run->idx->fresh) { /* the tiles' outer transaction, when no catalog closed it */
            st = st == ARD_OK ? ard__fresh_finish(run->idx, err) : st;
            ard__fresh_abort(run->idx);
        }
        ard_progress_done(run->progress);
        run->progress = NULL;
    }
    if (st == ARD_OK && (run->opts->size <= 1)) {
        st = remove_vanished(run, err);
    }
    for (int64_t i = 0; i < pending; i++) {
        ard__sync_item_reset(&items[i]);
    }
    ard_free(items);
    return st;
}

static ard_status exec_opt(ard_index *idx, const char *sql, ard_error *err) {
    return sql ? ard__idx_exec(idx, sql, err) : ARD_OK;
}

/* The secondary indexes dropped for a bulk load (and any missing), under the backend's settings
 * for index builds. */
static ard_status build_indexes(ard_index *idx, ard_error *err) {
    const idx_backend_ops *ops = idx->be->ops;
    ard_status st = exec_opt(idx, ops->index_build_begin_sql, NULL);
    st = st == ARD_OK ? ard__schema_indexes(idx, 1, NULL, NULL) : st;
    ard_status end = exec_opt(idx, ops->index_build_end_sql, err);
    if (st != ARD_OK && end == ARD_OK) { /* e.g. no writable temporary directory: as before */
        st = ard__schema_indexes(idx, 1, NULL, err);
    }
    return st == ARD_OK ? end : st;
}

/* build_indexes on one pool thread while another tallies the linkage of a fresh catalog load
 * (linkage_fresh.c: client CPU, no database access), which would otherwise follow the builds. */
typedef struct build_overlap {
    ard_index *idx;
    ard_status st;
    ard_error err;
} build_overlap;

static void build_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    build_overlap *o = arg;
    if (i == 0) {
        o->st = build_indexes(o->idx, &o->err);
    } else {
        ard__cat_tids_tally(o->idx->cat_tids);
    }
}

static ard_status build_indexes_overlapped(sync_run *run, ard_error *err) {
    ard_index *idx = run->idx;
    ard_status st = ard__cat_tids_prepare(idx, idx->cat_tids, err);
    if (st != ARD_OK || !ard__cat_tids_active(idx->cat_tids)) {
        ard_status ix = build_indexes(idx, st == ARD_OK ? err : NULL);
        return st == ARD_OK ? ix : st;
    }
    build_overlap o = {idx, ARD_OK, {0}};
    ard_error_init(&o.err);
    ard_pool_for(run->pool, 2, build_task, &o);
    if (o.st != ARD_OK && err) {
        *err = o.err;
    }
    return o.st;
}

/* The statistics refresh for what the run changed. */
static const char *analyze_sql(const sync_run *run) {
    const idx_backend_ops *ops = run->idx->be->ops;
    if (run->tiles_touched && !run->catalogs_touched && ops->analyze_tiles_sql) {
        return ops->analyze_tiles_sql;
    }
    if (run->catalogs_touched && !run->tiles_touched && ops->analyze_catalog_sql) {
        return ops->analyze_catalog_sql;
    }
    return ops->analyze_sql;
}

/* The walk of the dataset (one pool thread) and the start of the run with the index's file list
 * (another: the database's round trips and the disk's directory reads overlap). The known list is
 * sorted by strcmp (a backend's ORDER BY may collate otherwise). *begun: the run's row exists. */
typedef struct start_step {
    sync_run *run;
    uint32_t parts;
    ard_dataset_files *lists;
    ard_status scan_st, begin_st;
    ard_error scan_err, begin_err;
} start_step;

static void start_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    start_step *s = arg;
    if (i == 0) {
        s->scan_st = ard_dataset_scan(s->run->dataset, s->parts, 1, s->lists, NULL, &s->scan_err);
        return;
    }
    s->begin_st = begin_run(s->run, &s->begin_err);
    known_list *k = &s->run->known;
    int64_t sorted = 1;
    while (s->begin_st == ARD_OK && sorted < k->count &&
           strcmp(k->files[sorted - 1].path, k->files[sorted].path) < 0) {
        sorted++;
    }
    if (s->begin_st == ARD_OK && sorted < k->count) {
        qsort(k->files, (size_t)k->count, sizeof *k->files, cmp_known);
    }
}

static ard_status scan_and_begin(sync_run *run, uint32_t parts, ard_dataset_files *lists,
                                 int *begun, ard_error *err) {
    start_step s = {run, parts, lists, ARD_OK, ARD_OK, {0}, {0}};
    ard_error_init(&s.scan_err);
    ard_error_init(&s.begin_err);
    ard_pool_for(run->pool, 2, start_task, &s);
    *begun = s.begin_st == ARD_OK;
    if (s.scan_st != ARD_OK && err) {
        *err = s.scan_err;
    } else if (s.begin_st != ARD_OK && err) {
        *err = s.begin_err;
    }
    return s.scan_st != ARD_OK ? s.scan_st : s.begin_st;
}

/* 1 when DATASET/name is a directory. */
static int has_subdir(const char *dataset, const char *name) {
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dataset, name);
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

ard_status ard_index_sync(ard_index *idx, const char *dataset, const ard_sync_options *opts,
                          ard_sync_report *report, ard_error *err) {
    ard_sync_options defaults = {0};
    ard_sync_report local;
    if (!idx || !dataset) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_sync: index and dataset are required");
    }
    if (opts && opts->remote && opts->size > 1) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_sync: remote reads of a partitioned sync");
    }
    if (idx->read_only) {
        return ard_error_set(err, ARD_EPERM, "ard_index_sync: the index was opened read-only");
    }
    struct stat sb;
    if (stat(dataset, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        return ard_error_set(err, ARD_ENOENT, "no dataset directory at %s", dataset);
    }
    if (!has_subdir(dataset, "tiles") && !has_subdir(dataset, "catalog")) {
        /* a mistyped path must not get an empty index (and datasheet) written into it */
        return ard_error_set(err, ARD_ENOENT,
                             "%s is not a dataset: it has neither tiles/ nor "
                             "catalog/",
                             dataset);
    }
    sync_run run;
    memset(&run, 0, sizeof run);
    run.idx = idx;
    run.dataset = dataset;
    run.opts = opts ? opts : &defaults;
    run.rep = report ? report : &local;
    memset(run.rep, 0, sizeof *run.rep);
    idx->linkage_budget = IDX_LINKAGE_BUDGET;
    double t0 = mono_seconds();
    ard_status st = ARD_OK;
    if (run.opts->size <= 1 && !run.opts->skip_catalog) { /* other ranks load galaxies too */
        st = ard__cat_tids_new(&idx->cat_tids, err);
    }
    ard_dataset_files lists[ARD_DATASET_NUM_PARTS];
    memset(lists, 0, sizeof lists);
    ard_dataset_files *tiles = &lists[ARD_DATASET_TILES], *cats = &lists[ARD_DATASET_CATALOG];
    sync_lock lock = {-1, 0};
    st = st == ARD_OK ? ard__sync_lock(idx, run.opts, &lock, err) : st; /* before the walk */
    /* one walk: the tiles and catalog files with their stats, and the temporaries of killed
     * writers removed from every directory (best effort: never fails the sync) */
    uint32_t parts =
        (1u << ARD_DATASET_TILES) | (run.opts->skip_catalog ? 0u : 1u << ARD_DATASET_CATALOG);
    st = st == ARD_OK ? ard_pool_new(run.opts->threads, &run.pool, err) : st;
    idx->sync_threads = st == ARD_OK ? ard_pool_threads(run.pool) : 1;
    int begun = 0;
    st = st == ARD_OK ? scan_and_begin(&run, parts, lists, &begun, err) : st;
    if (st == ARD_OK && run.known.st != ARD_OK) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory reading the file list");
    }
    if (st != ARD_OK && begun) { /* the walk failed: the run's row says so */
        finish_run(&run, "failed", NULL);
    }
    if (st == ARD_OK) {
        /* bulk loads into an empty table build its secondary indexes once at the end */
        int64_t empty_spectra = 0, empty_galaxies = 0;
        if (run.opts->size <= 1) {
            st = ard__idx_int(idx,
                              "SELECT CASE WHEN EXISTS (SELECT 1 FROM spectra) THEN 0 ELSE 1 END",
                              &empty_spectra, err);
            st = st == ARD_OK ? ard__idx_int(idx,
                                             "SELECT CASE WHEN EXISTS (SELECT 1 FROM galaxies)"
                                             " THEN 0 ELSE 1 END",
                                             &empty_galaxies, err)
                              : st;
        }
        if (st == ARD_OK && empty_spectra) {
            st = ard__schema_indexes(idx, 0, "spectra", err);
            run.fresh_spectra = 1;
        }
        if (st == ARD_OK && empty_galaxies && !run.opts->skip_catalog) {
            st = ard__schema_indexes(idx, 0, "galaxies", err);
            run.fresh_catalog = idx->be->ops->bulk_fresh != NULL;
        }
        st = st == ARD_OK ? run_lists(&run, tiles, cats, err) : st;
        if (st == ARD_OK) {
            st = build_indexes_overlapped(&run, err);
        } else {
            build_indexes(idx, NULL);
        }
        /* after a change (or a killed earlier sync) the linkage is recomputed; an unchanged
         * re-sync finds it valid and pays one meta look-up */
        st = st == ARD_OK ? ard__linkage_refresh(idx, err) : st;
        if (st == ARD_OK &&
            (run.rep->files_added || run.rep->files_changed || run.rep->files_removed)) {
            /* fresh planner statistics, so predicates get index plans after a bulk load */
            st = ard__idx_exec(idx, analyze_sql(&run), err);
        }
        run.rep->seconds = mono_seconds() - t0;
        ard_status fin = finish_run(&run,
                                    st != ARD_OK            ? "failed"
                                    : run.rep->files_failed ? "partial"
                                                            : "ok",
                                    st == ARD_OK ? err : NULL);
        st = st == ARD_OK ? fin : st;
    }
    ard__sync_unlock(idx, &lock);
    ard__cat_tids_free(idx->cat_tids);
    idx->cat_tids = NULL;
    ard_pool_free(run.pool);
    known_reset(&run.known);
    for (int32_t p = 0; p < ARD_DATASET_NUM_PARTS; p++) {
        ard_dataset_files_reset(&lists[p]);
    }
    return st;
}
