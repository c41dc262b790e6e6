/* The walker: a dataset's Parquet files, part by part (tiles, catalog, truth, results), sorted so
 * that every rank and every run sees the same order. The one place that lists a dataset. */
#include "dataset_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { WALK_MAX_DEPTH = 16 };

void ard_dataset_files_reset(ard_dataset_files *list) {
    if (!list) {
        return;
    }
    for (int64_t i = 0; i < list->count; i++) {
        ard_free(list->paths[i]);
    }
    ard_free(list->paths);
    list->paths = NULL;
    list->count = list->cap = 0;
}

static ard_status list_push(ard_dataset_files *list, char *path, ard_error *err) {
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
static ard_status walk_dir(const char *root, const char *rel, int depth, ard_dataset_files *out,
                           ard_error *err) {
    char *dir_path = *rel ? ard__dataset_join(root, rel) : ard_strdup(root);
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
        char *child = *rel ? ard__dataset_join(rel, de->d_name) : ard_strdup(de->d_name);
        char *full = child ? ard__dataset_join(root, child) : NULL;
        /* readdir's type spares a stat for plain files and directories (a link or an unknown
         * type is still stat'ed, which follows it, as before) */
        unsigned char type = de->d_type;
        struct stat sb = {0};
        if (type == DT_REG) {
            sb.st_mode = S_IFREG;
        } else if (type == DT_DIR) {
            sb.st_mode = S_IFDIR;
        }
        if (!child || !full) {
            st = ard_error_set(err, ARD_ENOMEM, "out of memory");
        } else if (type != DT_REG && type != DT_DIR && stat(full, &sb) != 0) {
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
    struct stat sb;
    ard_status st = ARD_OK;
    if (stat(root, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* paths are relative to the dataset: prefix with sub */
        ard_dataset_files rel = {0};
        st = walk_dir(root, "", 0, &rel, err);
        for (int64_t i = 0; st == ARD_OK && i < rel.count; i++) {
            char *p = ard__dataset_join(sub, rel.paths[i]);
            st = p ? list_push(out, p, err) : ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        ard_dataset_files_reset(&rel);
    }
    ard_free(root);
    if (st != ARD_OK) {
        ard_dataset_files_reset(out);
        return st;
    }
    if (out->count > 1) {
        qsort(out->paths, (size_t)out->count, sizeof *out->paths, cmp_path);
    }
    return ARD_OK;
}
