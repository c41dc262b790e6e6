/* Survey test helpers: temp dirs, file comparison, whole-column reads through the ard reader. */
#include "sv_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int64_t sv_read_numeric(const char *path, const char *name, size_t elem, void **out) {
    ard_parquet_file *f = NULL;
    *out = NULL;
    if (ard_parquet_open(path, NULL, &f, NULL) != ARD_OK) {
        return -1;
    }
    const ard_pq_metadata *m = ard_parquet_metadata(f);
    int32_t leaf = ard_parquet_find_leaf(f, name);
    char *buf = malloc((size_t)(m->num_rows > 0 ? m->num_rows : 1) * elem);
    int64_t at = 0;
    for (int32_t rg = 0; leaf >= 0 && rg < m->num_row_groups; rg++) {
        ard_pq_column_data col;
        memset(&col, 0, sizeof col);
        if (ard_parquet_read_column(f, rg, leaf, &col, NULL) != ARD_OK) {
            at = -1;
            break;
        }
        memcpy(buf + (size_t)at * elem, col.values, (size_t)col.num_values * elem);
        at += col.num_values;
        ard_pq_column_data_reset(&col);
    }
    ard_parquet_close(f);
    if (leaf < 0 || at < 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    return at;
}

int64_t sv_read_strings(const char *path, const char *name, char ***out) {
    ard_parquet_file *f = NULL;
    *out = NULL;
    if (ard_parquet_open(path, NULL, &f, NULL) != ARD_OK) {
        return -1;
    }
    const ard_pq_metadata *m = ard_parquet_metadata(f);
    int32_t leaf = ard_parquet_find_leaf(f, name);
    char **strs = calloc((size_t)(m->num_rows > 0 ? m->num_rows : 1), sizeof *strs);
    int64_t at = 0, failed = 0;
    for (int32_t rg = 0; leaf >= 0 && rg < m->num_row_groups; rg++) {
        ard_pq_column_data col;
        memset(&col, 0, sizeof col);
        if (ard_parquet_read_column(f, rg, leaf, &col, NULL) != ARD_OK) {
            failed = 1;
            break;
        }
        for (int64_t i = 0; i < col.num_values; i++) {
            size_t len = (size_t)(col.offsets[i + 1] - col.offsets[i]);
            strs[at] = malloc(len + 1);
            memcpy(strs[at], col.data + col.offsets[i], len);
            strs[at++][len] = '\0';
        }
        ard_pq_column_data_reset(&col);
    }
    ard_parquet_close(f);
    if (leaf < 0 || failed) {
        sv_free_strings(strs, at);
        return -1;
    }
    *out = strs;
    return at;
}

void sv_free_strings(char **s, int64_t n) {
    for (int64_t i = 0; s && i < n; i++) {
        free(s[i]);
    }
    free(s);
}

int sv_same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) {
            same = 0;
        }
        if (ca == EOF || cb == EOF) {
            break;
        }
    }
    if (fa) {
        fclose(fa);
    }
    if (fb) {
        fclose(fb);
    }
    return same;
}

static void list_rec(const char *root, const char *rel, char ***out, int64_t *n, int64_t *cap) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char child_rel[4096], child[8192];
        snprintf(child_rel, sizeof child_rel, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(child, sizeof child, "%s/%s", root, child_rel);
        struct stat sb;
        if (stat(child, &sb) != 0) {
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            list_rec(root, child_rel, out, n, cap);
        } else {
            if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 64;
                *out = realloc(*out, (size_t)*cap * sizeof **out);
            }
            (*out)[(*n)++] = strdup(child_rel);
        }
    }
    closedir(d);
}

static int cmp_strp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int64_t sv_list_files(const char *dir, char ***out) {
    int64_t n = 0, cap = 0;
    *out = NULL;
    list_rec(dir, "", out, &n, &cap);
    if (n > 0) {
        qsort(*out, (size_t)n, sizeof **out, cmp_strp);
    }
    return n;
}
