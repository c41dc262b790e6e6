/* Read plans: the rows of a plan SELECT (file, row group, row, TARGETID; integers only), then the
 * row groups and paths of the files they name (one small query per 500 files), sorted by (file
 * path, row group, row) for sequential reading, and grouped into one chunk per row group. The sort
 * happens here, not in SQL, so both backends give byte-identical plans whatever their collation.
 * The plan type itself is dataset's (ard_plan_new). */
#include "index_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct plan_row {
    int64_t file_id, row_group, row, targetid, first_row, byte_offset, bytes;
    int32_t file; /* index into the sorted file list, set at finish */
} plan_row;

typedef struct plan_file {
    int64_t file_id;
    char *path;
} plan_file;

struct plan_builder {
    plan_row *rows;
    int64_t count, cap;
    plan_file *files;
    int32_t num_files, files_cap;
    plan_row *rgs; /* phase 2: one entry per row group of the files in the plan */
    int64_t num_rgs, rgs_cap;
    int64_t last_file_id;
    int failed;
    idx_plan_rg rg; /* begin_rg's row group (path borrowed from files) */
};

ard_status ard__plan_builder_new(plan_builder **out, ard_error *err) {
    *out = ard_calloc(1, sizeof **out);
    if (!*out) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    (*out)->last_file_id = -1;
    return ARD_OK;
}

void ard__plan_builder_free(plan_builder *b) {
    if (!b) {
        return;
    }
    for (int32_t i = 0; i < b->num_files; i++) {
        ard_free(b->files[i].path);
    }
    ard_free(b->files);
    ard_free(b->rows);
    ard_free(b->rgs);
    ard_free(b);
}

static int add_file(plan_builder *b, int64_t file_id, const char *path) {
    for (int32_t i = b->num_files - 1; i >= 0 && i >= b->num_files - 4; i--) {
        if (b->files[i].file_id == file_id) {
            return 0;
        }
    }
    if (b->num_files == b->files_cap) {
        int32_t cap = b->files_cap ? b->files_cap * 2 : 16;
        plan_file *grown = ard_realloc(b->files, (size_t)cap * sizeof *grown);
        if (!grown) {
            return -1;
        }
        b->files = grown;
        b->files_cap = cap;
    }
    b->files[b->num_files].file_id = file_id;
    if (!(b->files[b->num_files].path = ard_strdup(path))) {
        return -1;
    }
    b->num_files++;
    return 0;
}

static int grow_rows(plan_builder *b) {
    if (b->count < b->cap) {
        return 0;
    }
    int64_t cap = b->cap ? b->cap * 2 : 1024;
    plan_row *grown = ard_realloc(b->rows, (size_t)cap * sizeof *grown);
    if (!grown) {
        b->failed = 1;
        return 1;
    }
    b->rows = grown;
    b->cap = cap;
    return 0;
}

int ard__plan_builder_reserve(plan_builder *b, int64_t rows) {
    if (rows <= b->cap) {
        return 0;
    }
    plan_row *grown = ard_realloc(b->rows, (size_t)rows * sizeof *grown);
    if (!grown) {
        b->failed = 1;
        return 1;
    }
    b->rows = grown;
    b->cap = rows;
    return 0;
}

int ard__plan_builder_begin_rg(plan_builder *b, const idx_plan_rg *g) {
    if (g->file_id != b->last_file_id && add_file(b, g->file_id, g->path) != 0) {
        b->failed = 1;
        return 1;
    }
    b->last_file_id = g->file_id;
    b->rg = *g;
    return 0;
}

int ard__plan_builder_add_row(plan_builder *b, int64_t row, int64_t targetid) {
    if (grow_rows(b)) {
        return 1;
    }
    const idx_plan_rg *g = &b->rg;
    b->rows[b->count++] = (plan_row){g->file_id,   g->row_group,   row,      targetid,
                                     g->first_row, g->byte_offset, g->bytes, 0};
    return 0;
}

/* Phase 1 rows (integers): file_id, row_group, row_index, targetid. */
int ard__plan_builder_row(void *ctx, int32_t n, const int64_t *v) {
    plan_builder *b = ctx;
    if (n < 4) {
        return 0;
    }
    if (grow_rows(b)) {
        return 1;
    }
    plan_row *r = &b->rows[b->count++];
    memset(r, 0, sizeof *r);
    r->file_id = v[0];
    r->row_group = v[1];
    r->row = v[2];
    r->targetid = v[3];
    r->first_row = -1;
    return 0;
}

/* Phase 2 rows: file_id, path, row_group, first_row, byte_offset, bytes. */
static int rg_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    plan_builder *b = ctx;
    if (n < 6 || !v[0] || !v[1]) {
        return 0;
    }
    if (b->num_rgs == b->rgs_cap) {
        int64_t cap = b->rgs_cap ? b->rgs_cap * 2 : 256;
        plan_row *grown = ard_realloc(b->rgs, (size_t)cap * sizeof *grown);
        if (!grown) {
            b->failed = 1;
            return 1;
        }
        b->rgs = grown;
        b->rgs_cap = cap;
    }
    plan_row *g = &b->rgs[b->num_rgs++];
    memset(g, 0, sizeof *g);
    g->file_id = strtoll(v[0], NULL, 10);
    g->row_group = strtoll(v[2], NULL, 10);
    g->first_row = v[3] ? strtoll(v[3], NULL, 10) : 0;
    g->byte_offset = v[4] ? strtoll(v[4], NULL, 10) : 0;
    g->bytes = v[5] ? strtoll(v[5], NULL, 10) : 0;
    if (g->file_id != b->last_file_id && add_file(b, g->file_id, v[1]) != 0) {
        b->failed = 1;
        return 1;
    }
    b->last_file_id = g->file_id;
    return 0;
}

static int cmp_rg(const void *a, const void *b) {
    const plan_row *x = a, *y = b;
    if (x->file_id != y->file_id) {
        return x->file_id < y->file_id ? -1 : 1;
    }
    return (x->row_group > y->row_group) - (x->row_group < y->row_group);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Phase 2: the row groups and paths of the files the rows point to, then each row's row group. */
ard_status ard__plan_builder_resolve(plan_builder *b, ard_index *idx, ard_error *err) {
    int64_t *ids = ard_malloc((size_t)(b->count + 1) * sizeof *ids);
    int64_t n = 0;
    if (!ids || b->failed) {
        ard_free(ids);
        return ard_error_set(err, ARD_ENOMEM, "out of memory building the read plan");
    }
    for (int64_t i = 0; i < b->count; i++) {
        ids[n++] = b->rows[i].file_id;
    }
    if (n > 1) {
        qsort(ids, (size_t)n, sizeof *ids, cmp_i64);
    }
    ard_status st = ARD_OK;
    ard_buf sql;
    ard_buf_init(&sql);
    for (int64_t at = 0; at < n && st == ARD_OK;) {
        sql.len = 0;
        ard_buf_appendf(&sql, "SELECT r.file_id, f.path, r.row_group, r.first_row, r.byte_offset,"
                              " r.bytes FROM row_groups r JOIN files f ON f.id = r.file_id"
                              " WHERE r.file_id IN (");
        int64_t k = 0;
        for (; at < n && k < 500; at++) {
            if (at == 0 || ids[at] != ids[at - 1]) {
                ard_buf_appendf(&sql, "%s%lld", k++ ? "," : "", (long long)ids[at]);
            }
        }
        ard_buf_append(&sql, ")", 2);
        if (k == 0) {
            break; /* only repeats of ids already asked for were left (PostgreSQL refuses "IN ()")
                    */
        }
        st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                        : idx->be->ops->select(idx->be, (const char *)sql.data, 0, rg_row, b, err);
    }
    ard_buf_reset(&sql);
    ard_free(ids);
    if (st != ARD_OK || b->failed) {
        return st != ARD_OK ? st : ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    if (b->num_rgs > 1) {
        qsort(b->rgs, (size_t)b->num_rgs, sizeof *b->rgs, cmp_rg);
    }
    for (int64_t i = 0; i < b->count; i++) {
        plan_row *r = &b->rows[i];
        const plan_row *g =
            b->num_rgs ? bsearch(r, b->rgs, (size_t)b->num_rgs, sizeof *r, cmp_rg) : NULL;
        if (!g) {
            return ard_error_set(err, ARD_EDB,
                                 "the index changed during the query (file %lld row "
                                 "group %lld vanished); run the query again",
                                 (long long)r->file_id, (long long)r->row_group);
        }
        r->first_row = g->first_row;
        r->byte_offset = g->byte_offset;
        r->bytes = g->bytes;
    }
    return ARD_OK;
}

/* qsort that accepts an empty (NULL) array. */
static void sort(void *base, int64_t n, size_t size, int (*cmp)(const void *, const void *)) {
    if (n > 1) {
        qsort(base, (size_t)n, size, cmp);
    }
}

static int cmp_file(const void *a, const void *b) {
    const plan_file *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->file_id > y->file_id) - (x->file_id < y->file_id);
}

static int cmp_file_id(const void *a, const void *b) {
    const plan_file *x = a, *y = b;
    return (x->file_id > y->file_id) - (x->file_id < y->file_id);
}

/* Deduplicates the file list and gives each row its file's rank in path order. */
static int rank_files(plan_builder *b) {
    sort(b->files, b->num_files, sizeof *b->files, cmp_file_id);
    int32_t n = 0;
    for (int32_t i = 0; i < b->num_files; i++) {
        if (n > 0 && b->files[n - 1].file_id == b->files[i].file_id) {
            ard_free(b->files[i].path);
        } else {
            b->files[n++] = b->files[i];
        }
    }
    b->num_files = n;
    sort(b->files, n, sizeof *b->files, cmp_file);
    plan_file *by_id = ard_malloc((size_t)(n ? n : 1) * sizeof *by_id);
    if (!by_id) {
        return -1;
    }
    for (int32_t i = 0; i < n; i++) {
        by_id[i] = (plan_file){b->files[i].file_id, (char *)(intptr_t)i};
    }
    sort(by_id, n, sizeof *by_id, cmp_file_id);
    int32_t file = 0;
    for (int64_t r = 0; r < b->count; r++) {
        if (r == 0 || b->rows[r].file_id != b->rows[r - 1].file_id) { /* rows come file by file */
            plan_file key = {b->rows[r].file_id, NULL};
            plan_file *hit = bsearch(&key, by_id, (size_t)n, sizeof key, cmp_file_id);
            file = hit ? (int32_t)(intptr_t)hit->path : 0;
        }
        b->rows[r].file = file;
    }
    ard_free(by_id);
    return 0;
}

ard_status ard__plan_builder_finish(plan_builder *b, ard_plan **out, ard_error *err) {
    *out = NULL;
    if (b->failed || rank_files(b) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory building the read plan");
    }
    const char **paths = ard_malloc((size_t)(b->num_files + 1) * sizeof *paths);
    if (!paths) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory building the read plan");
    }
    for (int32_t i = 0; i < b->num_files; i++) {
        paths[i] = b->files[i].path;
    }
    /* The entries overwrite the rows in place, front to back (an entry is smaller than a row, so
     * entry i ends inside row i): a 700k-spectrum plan faults 40 MB fewer fresh pages. */
    _Static_assert(sizeof(ard_plan_entry) <= sizeof(plan_row), "entries fit over rows");
    unsigned char *base = (unsigned char *)b->rows;
    for (int64_t i = 0; i < b->count; i++) {
        plan_row r;
        memcpy(&r, base + (size_t)i * sizeof r, sizeof r);
        ard_plan_entry e = {r.file,      (int32_t)r.row_group, r.row,  r.targetid,
                            r.first_row, r.byte_offset,        r.bytes};
        memcpy(base + (size_t)i * sizeof e, &e, sizeof e);
    }
    ard_status st =
        ard_plan_new(paths, b->num_files, (ard_plan_entry *)(void *)base, b->count, out, err);
    b->count = 0; /* the rows are gone */
    ard_free(paths);
    return st;
}
