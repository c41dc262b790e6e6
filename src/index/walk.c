/* Finding a dataset's Parquet files (sorted, so every rank and every run sees the same order) and
 * fingerprinting a file by its footer bytes without decoding anything. */
#include "index_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { WALK_MAX_DEPTH = 16 };

void ard__path_list_reset(idx_path_list *list) {
    for (int64_t i = 0; i < list->count; i++) {
        ard_free(list->paths[i]);
    }
    ard_free(list->paths);
    list->paths = NULL;
    list->count = list->cap = 0;
}

static ard_status list_push(idx_path_list *list, char *path, ard_error *err) {
    if (list->count == list->cap) {
        int64_t cap = list->cap ? list->cap * 2 : 256;
        char **grown = ard_realloc(list->paths, (size_t)cap * sizeof *grown);
        if (!grown) {
            ard_free(path);
            return ard_error_set(err, ARD_ENOMEM, "out of memory listing files");
        }
        list->paths = grown;
        list->cap = cap;
    }
    list->paths[list->count++] = path;
    return ARD_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Walks root/rel (rel "" = root itself), appending "rel/name" for every *.parquet file. */
static ard_status walk_dir(const char *root, const char *rel, int depth, idx_path_list *out,
                           ard_error *err) {
    char *dir_path = *rel ? ard__join_path(root, rel) : ard_strdup(root);
    if (!dir_path) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    DIR *dir = opendir(dir_path);
    if (!dir) {
        ard_status st = ard_error_set_errno(err, errno == ENOENT ? ARD_ENOENT : ARD_EIO, errno,
                                            "opening directory %s", dir_path);
        ard_free(dir_path);
        return st;
    }
    ard_status st = ARD_OK;
    struct dirent *de;
    while (st == ARD_OK && (de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.') {
            continue; /* ., .., hidden files and the writer's temporary files */
        }
        char *child = *rel ? ard__join_path(rel, de->d_name) : ard_strdup(de->d_name);
        char *full = child ? ard__join_path(root, child) : NULL;
        struct stat sb;
        if (!child || !full) {
            st = ard_error_set(err, ARD_ENOMEM, "out of memory");
        } else if (stat(full, &sb) != 0) {
            /* vanished while listing: not an error, it is simply not there */
        } else if (S_ISDIR(sb.st_mode) && depth < WALK_MAX_DEPTH) {
            st = walk_dir(root, child, depth + 1, out, err);
        } else if (S_ISREG(sb.st_mode) && ends_with(de->d_name, ".parquet")) {
            st = list_push(out, child, err);
            child = NULL;
        }
        ard_free(child);
        ard_free(full);
    }
    closedir(dir);
    ard_free(dir_path);
    return st;
}

static int cmp_path(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ard_status ard__walk_parquet(const char *dataset, const char *sub, idx_path_list *out,
                             ard_error *err) {
    memset(out, 0, sizeof *out);
    char *root = ard__join_path(dataset, sub);
    if (!root) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    struct stat sb;
    ard_status st = ARD_OK;
    if (stat(root, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* paths are relative to the dataset: prefix with sub */
        idx_path_list rel = {0};
        st = walk_dir(root, "", 0, &rel, err);
        for (int64_t i = 0; st == ARD_OK && i < rel.count; i++) {
            char *p = ard__join_path(sub, rel.paths[i]);
            st = p ? list_push(out, p, err) : ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        ard__path_list_reset(&rel);
    }
    ard_free(root);
    if (st != ARD_OK) {
        ard__path_list_reset(out);
        return st;
    }
    if (out->count > 1) {
        qsort(out->paths, (size_t)out->count, sizeof *out->paths, cmp_path);
    }
    return ARD_OK;
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}

ard_status ard__footer_hash(const char *path, char out[17], ard_error *err) {
    int fd = -1;
    struct stat sb;
    ard_status st = ard_file_open_regular(path, &fd, NULL, err);
    if (st != ARD_OK) {
        return st;
    }
    uint8_t tail[8];
    uint8_t *footer = NULL;
    if (fstat(fd, &sb) != 0 || sb.st_size < 12) {
        st = ard_error_set(err, ARD_ECORRUPT, "%s: too small to be a Parquet file", path);
    } else if ((st = ard_pread_full(fd, tail, 8, sb.st_size - 8, path, err)) == ARD_OK) {
        uint32_t len = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
                       (uint32_t)tail[3] << 24;
        if (memcmp(tail + 4, "PAR1", 4) != 0 || (int64_t)len + 12 > sb.st_size) {
            st = ard_error_set(err, ARD_ECORRUPT, "%s: no Parquet footer at byte %lld", path,
                               (long long)sb.st_size - 8);
        } else if (!(footer = ard_malloc(len ? len : 1))) {
            st = ard_error_set(err, ARD_ENOMEM, "out of memory");
        } else {
            st = ard_pread_full(fd, footer, len, sb.st_size - 8 - len, path, err);
        }
        if (st == ARD_OK) {
            uint64_t h = fnv1a(fnv1a(1469598103934665603ull, footer, len), tail, 8);
            for (int i = 15; i >= 0; i--, h >>= 4) {
                out[i] = "0123456789abcdef"[h & 15];
            }
            out[16] = '\0';
        }
    }
    ard_free(footer);
    close(fd);
    return st;
}
