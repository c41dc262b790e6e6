/* The index handle: choosing a backend from the DSN, opening/closing, small SQL helpers shared by
 * sync and query, and the lexical guard on user predicates. */
#include "index_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A libpq DSN: a URI, or a "key=value" conninfo, or "postgresql:" alone (environment only). */
static int is_pg_dsn(const char *dsn, const char **conninfo) {
    if (strcmp(dsn, "postgresql:") == 0 || strcmp(dsn, "postgres:") == 0 ||
        strcmp(dsn, "pg:") == 0) {
        *conninfo = "";
        return 1;
    }
    if (starts_with(dsn, "postgresql://") || starts_with(dsn, "postgres://")) {
        *conninfo = dsn;
        return 1;
    }
    if (strchr(dsn, '=') && !strchr(dsn, '/')) {
        *conninfo = dsn;
        return 1;
    }
    if (strchr(dsn, '=') && (starts_with(dsn, "host=") || starts_with(dsn, "dbname=") ||
                             starts_with(dsn, "user=") || starts_with(dsn, "port="))) {
        *conninfo = dsn;
        return 1;
    }
    return 0;
}

char *ard__join_path(const char *dir, const char *rel) {
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = ard_malloc(n);
    if (p) {
        snprintf(p, n, "%s/%s", dir, rel);
    }
    return p;
}

static ard_status open_backend(const char *dataset, const char *dsn, int32_t ro, idx_backend **be,
                               ard_error *err) {
    const char *conninfo = NULL;
    if (dsn && *dsn && is_pg_dsn(dsn, &conninfo)) {
        return ard__pg_open(conninfo, ro, be, err);
    }
    if (dsn && *dsn) {
        return ard__sqlite_open(starts_with(dsn, "sqlite:") ? dsn + 7 : dsn, ro, be, err);
    }
    if (!dataset) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_open: neither a dataset nor a DSN given");
    }
    char *path = ard__join_path(dataset, "ard.db");
    if (!path) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    ard_status st = ard__sqlite_open(path, ro, be, err);
    ard_free(path);
    return st;
}

/* A directory holds a dataset when it has an index, tiles/ or catalog/. */
static int is_dataset(const char *dataset) {
    static const char *const entries[] = {"ard.db", "tiles", "catalog"};
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dataset, entries[i]);
        if (stat(path, &sb) == 0) {
            return 1;
        }
    }
    return 0;
}

ard_status ard_index_open(const char *dataset, const char *dsn, int32_t flags, ard_index **out,
                          ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_open: out is NULL");
    }
    *out = NULL;
    if (flags & ~ARD_INDEX_READ_ONLY) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_open: unknown flags 0x%x",
                             (unsigned)flags);
    }
    ard_index *idx = ard_calloc(1, sizeof *idx);
    if (!idx || (dataset && !(idx->dataset = ard_strdup(dataset)))) {
        ard_free(idx);
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    idx->read_only = (flags & ARD_INDEX_READ_ONLY) != 0;
    struct stat sb;
    int creates = !dsn && dataset && !idx->read_only; /* a writable open may create ard.db */
    if (creates && (stat(dataset, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        /* the embedded index lives in the dataset: name the missing dataset, not ard.db */
        ard_index_close(idx);
        return ard_error_set(err, ARD_ENOENT, "no dataset directory at %s", dataset);
    }
    if (creates && !is_dataset(dataset)) {
        /* never create DATASET/ard.db in a directory that is not a dataset (a mistyped path) */
        ard_index_close(idx);
        return ard_error_set(err, ARD_ENOENT, "%s is not a dataset: no ard.db, tiles/ or catalog/",
                             dataset);
    }
    ard_status st = open_backend(dataset, dsn, idx->read_only, &idx->be, err);
    if (st == ARD_OK) {
        st = ard__schema_prepare(idx, err);
    }
    if (st != ARD_OK) {
        ard_index_close(idx);
        return st;
    }
    *out = idx;
    return ARD_OK;
}

void ard_index_close(ard_index *idx) {
    if (!idx) {
        return;
    }
    if (idx->be) {
        idx->be->ops->close(idx->be);
    }
    ard_free(idx->dataset);
    ard_free(idx);
}

const char *ard_index_backend(const ard_index *idx) {
    return idx && idx->be ? idx->be->ops->name : "none";
}

int32_t ard_index_concurrent_writers(const ard_index *idx) {
    return idx && idx->be ? idx->be->ops->concurrent_writers : 0;
}

int32_t ard_index_schema_version(const ard_index *idx) {
    return idx ? idx->schema_version : 0;
}

ard_status ard__idx_exec(ard_index *idx, const char *sql, ard_error *err) {
    return idx->be->ops->exec(idx->be, sql, err);
}

ard_status ard__idx_execf(ard_index *idx, ard_error *err, const char *fmt, ...) {
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof sql) {
        return ard_error_set(err, ARD_EINTERNAL, "internal SQL statement too long");
    }
    return ard__idx_exec(idx, sql, err);
}

static int int_row(void *ctx, int32_t n, const char *const *names, const char *const *vals) {
    (void)names;
    *(int64_t *)ctx = n > 0 && vals[0] ? strtoll(vals[0], NULL, 10) : 0;
    return 1;
}

ard_status ard__idx_int(ard_index *idx, const char *sql, int64_t *out, ard_error *err) {
    *out = 0;
    return idx->be->ops->select(idx->be, sql, 0, int_row, out, err);
}

int ard__idx_identifier(const char *s) {
    if (!s || !*s || strlen(s) > 63) {
        return 0;
    }
    for (const char *p = s; *p; p++) {
        char c = *p;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(p > s && c >= '0' && c <= '9')) {
            return 0;
        }
    }
    return 1;
}

ard_status ard__predicate_check(const char *where, ard_error *err) {
    int depth = 0;
    for (const char *p = where; *p; p++) {
        if (*p == '\'' || *p == '"') { /* a quoted literal or identifier; doubled quotes escape */
            char q = *p;
            for (p++; *p && !(*p == q && p[1] != q); p += (*p == q) ? 2 : 1) {
            }
            if (!*p) {
                return ard_error_set(err, ARD_EINVAL, "predicate: unterminated %s",
                                     q == '\'' ? "string literal" : "quoted identifier");
            }
            continue;
        }
        if (*p == ';') {
            return ard_error_set(err, ARD_EPERM,
                                 "refused: the predicate must be one SQL expression (found ';' at "
                                 "character %ld)",
                                 (long)(p - where) + 1);
        }
        if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')) {
            return ard_error_set(err, ARD_EINVAL, "predicate: comments are not allowed");
        }
        depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
        if (depth < 0) {
            return ard_error_set(err, ARD_EINVAL, "predicate: unbalanced ')' at character %ld",
                                 (long)(p - where) + 1);
        }
    }
    if (depth != 0) {
        return ard_error_set(err, ARD_EINVAL, "predicate: unbalanced '('");
    }
    return ARD_OK;
}

ard_status ard_index_partition(int64_t total, int32_t rank, int32_t size, int64_t *first,
                               int64_t *count, ard_error *err) {
    if (size <= 0) {
        size = 1;
    }
    if (rank < 0 || rank >= size || total < 0 || !first || !count) {
        return ard_error_set(err, ARD_EINVAL, "partition: rank %d outside [0, %d)", rank, size);
    }
    int64_t base = total / size, extra = total % size;
    *first = rank * base + (rank < extra ? rank : extra);
    *count = base + (rank < extra ? 1 : 0);
    return ARD_OK;
}
