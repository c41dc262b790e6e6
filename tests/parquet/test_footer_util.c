/* Helpers shared by the footer tests: directory walks, escaping, footer wrapping. */
#include "footer_test_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void ftu_unescape(const char *in, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; in[i] && n + 1 < cap; i++) {
        if (in[i] == '%' && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
            out[n++] = (char)(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        } else if (in[i] != '%') {
            out[n++] = in[i];
        }
    }
    out[n] = '\0';
}

char *ftu_token(char **cursor) {
    char *p = *cursor;
    while (*p == ' ') {
        p++;
    }
    char *start = p;
    while (*p && *p != ' ') {
        p++;
    }
    if (*p) {
        *p++ = '\0';
    }
    *cursor = p;
    return start;
}

static int is_parquet_name(const char *name) {
    size_t len = strlen(name);
    return (len > 8 && strcmp(name + len - 8, ".parquet") == 0) ||
           (len > 18 && strcmp(name + len - 18, ".parquet.encrypted") == 0);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const char *dir, int recursive, int parquet_only,
                int (*fn)(const char *path, void *arg), void *arg) {
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    char *names[1024];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 1024) {
        if (e->d_name[0] != '.') {
            names[count++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, count, sizeof names[0], cmp_names);
    int total = 0;
    for (size_t i = 0; i < count; i++) {
        char path[2048];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && recursive) {
            total += walk(path, recursive, parquet_only, fn, arg);
        } else if (S_ISREG(st.st_mode) && (!parquet_only || is_parquet_name(names[i]))) {
            total += fn(path, arg);
        }
        free(names[i]);
    }
    return total;
}

int ftu_walk(const char *dir, int (*fn)(const char *path, void *arg), void *arg) {
    return walk(dir, 1, 1, fn, arg);
}

int ftu_walk_tree(const char *dir, int (*fn)(const char *path, void *arg), void *arg) {
    return walk(dir, 1, 0, fn, arg);
}

int ftu_walk_all(const char *dir, int (*fn)(const char *path, void *arg), void *arg) {
    return walk(dir, 0, 0, fn, arg);
}

void ftu_logical_params(const ard_pq_logical *lt, long *a, long *b) {
    *a = 0;
    *b = 0;
    if (lt->kind == ARD_PQ_LT_INTEGER) {
        *a = lt->bit_width;
        *b = lt->is_signed;
    } else if (lt->kind == ARD_PQ_LT_TIME || lt->kind == ARD_PQ_LT_TIMESTAMP) {
        *a = lt->unit;
        *b = lt->is_adjusted_to_utc;
    } else if (lt->kind == ARD_PQ_LT_DECIMAL) {
        *a = lt->precision;
        *b = lt->scale;
    }
}

uint8_t *ftu_wrap_footer(const uint8_t *footer, size_t len, size_t *size) {
    uint8_t *out = malloc(len + 12);
    memcpy(out, "PAR1", 4);
    if (len) {
        memcpy(out + 4, footer, len);
    }
    uint32_t n = (uint32_t)len;
    for (int i = 0; i < 4; i++) {
        out[4 + len + (size_t)i] = (uint8_t)(n >> (8 * i));
    }
    memcpy(out + len + 8, "PAR1", 4);
    *size = len + 12;
    return out;
}
