/* The read plan: its type (files + one chunk per row group, rows sorted, and the same rows as
 * ranges of consecutive rows), built from planned spectra by ard_plan_new (the index's query and
 * the plan file reader both end there), rendered as JSON, and the plan file format (text, version
 * 2 with row ranges and TARGETID differences, version 1 still read; see dataset.h) written and
 * read here only. */
#include "dataset_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ard_plan {
    char **files;
    int32_t num_files;
    ard_plan_chunk *chunks;
    int64_t num_chunks;
    int64_t num_rows;
    int64_t *rows, *targetids;
    int64_t *ranges; /* (first, count) pairs of every chunk, chunk by chunk */
};

static int cmp_entry(const void *a, const void *b) {
    const ard_plan_entry *x = a, *y = b;
    if (x->file != y->file) {
        return x->file < y->file ? -1 : 1;
    }
    if (x->row_group != y->row_group) {
        return x->row_group < y->row_group ? -1 : 1;
    }
    return (x->row > y->row) - (x->row < y->row);
}

/* Room for n rows in at most max_chunks chunks. */
static ard_status plan_alloc(ard_plan *p, int64_t n, int64_t max_chunks) {
    p->rows = ard_malloc((size_t)(n ? n : 1) * sizeof *p->rows);
    p->targetids = ard_malloc((size_t)(n ? n : 1) * sizeof *p->targetids);
    p->chunks = ard_calloc((size_t)(max_chunks ? max_chunks : 1), sizeof *p->chunks);
    p->ranges = ard_malloc((size_t)(n ? n : 1) * 2 * sizeof *p->ranges);
    return p->rows && p->targetids && p->chunks && p->ranges ? ARD_OK : ARD_ENOMEM;
}

/* Appends one row to chunk ch (the last one), extending its last range or opening one. */
static void plan_push(ard_plan *p, ard_plan_chunk *ch, int64_t row, int64_t targetid,
                      int64_t *num_ranges) {
    int64_t *last = ch->num_ranges ? p->ranges + 2 * (*num_ranges - 1) : NULL;
    if (last && last[0] + last[1] == row) {
        last[1]++;
    } else {
        p->ranges[2 * *num_ranges] = row;
        p->ranges[2 * *num_ranges + 1] = 1;
        ++*num_ranges;
        ch->num_ranges++;
    }
    p->rows[p->num_rows] = row;
    p->targetids[p->num_rows] = targetid;
    p->num_rows++;
    ch->num_rows++;
}

static ard_status build_chunks(const ard_plan_entry *e, int64_t n, ard_plan *p) {
    if (plan_alloc(p, n, n) != ARD_OK) {
        return ARD_ENOMEM;
    }
    int64_t c = -1, num_ranges = 0;
    for (int64_t i = 0; i < n; i++) {
        const ard_plan_entry *r = &e[i];
        if (i > 0 && cmp_entry(r, &e[i - 1]) == 0) {
            continue; /* the same spectrum twice (duplicate look-up) */
        }
        if (c < 0 || r->file != p->chunks[c].file || r->row_group != p->chunks[c].row_group) {
            c++;
            p->chunks[c] = (ard_plan_chunk){r->file,
                                            r->row_group,
                                            0,
                                            p->rows + p->num_rows,
                                            p->targetids + p->num_rows,
                                            r->first_row,
                                            r->byte_offset,
                                            r->bytes,
                                            0,
                                            p->ranges + 2 * num_ranges};
        }
        plan_push(p, &p->chunks[c], r->row, r->targetid, &num_ranges);
    }
    p->num_chunks = c + 1;
    return ARD_OK;
}

static ard_status check_entries(const char *const *files, int32_t num_files,
                                const ard_plan_entry *e, int64_t n, ard_error *err) {
    for (int32_t i = 0; i < num_files; i++) {
        if (!files[i]) {
            return ard_error_set(err, ARD_EINVAL, "read plan: file %d has no path", i);
        }
    }
    for (int64_t i = 0; i < n; i++) {
        if (e[i].file < 0 || e[i].file >= num_files || e[i].row_group < 0 || e[i].row < 0) {
            return ard_error_set(err, ARD_EINVAL,
                                 "read plan: entry %lld names file %d, row group %d, row %lld"
                                 " (%d files)",
                                 (long long)i, e[i].file, e[i].row_group, (long long)e[i].row,
                                 num_files);
        }
    }
    return ARD_OK;
}

/* A plan with room for num_files names (set by plan_finish). NULL when out of memory. */
static ard_plan *plan_start(int32_t num_files) {
    ard_plan *p = ard_calloc(1, sizeof *p);
    if (p && !(p->files = ard_calloc((size_t)num_files + 1, sizeof *p->files))) {
        ard_free(p);
        p = NULL;
    }
    return p;
}

/* Copies the file names into p and hands it out; ok = 0 (or a failed copy): ARD_ENOMEM, p freed. */
static ard_status plan_finish(ard_plan *p, const char *const *files, int32_t num_files, int ok,
                              ard_plan **out, ard_error *err) {
    if (ok) {
        p->num_files = num_files;
        for (int32_t i = 0; ok && i < num_files; i++) {
            ok = (p->files[i] = ard_strdup(files[i])) != NULL;
        }
    }
    if (!ok) {
        ard_plan_free(p);
        return ard_error_set(err, ARD_ENOMEM, "out of memory building the read plan");
    }
    *out = p;
    return ARD_OK;
}

ard_status ard_plan_new(const char *const *files, int32_t num_files, ard_plan_entry *entries,
                        int64_t count, ard_plan **out, ard_error *err) {
    if (!out || num_files < 0 || count < 0 || (num_files > 0 && !files) ||
        (count > 0 && !entries)) {
        return ard_error_set(err, ARD_EINVAL, "ard_plan_new: bad arguments");
    }
    *out = NULL;
    ard_status st = check_entries(files, num_files, entries, count, err);
    if (st != ARD_OK) {
        return st;
    }
    int sorted = 1; /* the index's plans come sorted: skip the O(n log n) */
    for (int64_t i = 1; i < count && sorted; i++) {
        sorted = cmp_entry(&entries[i - 1], &entries[i]) <= 0;
    }
    if (!sorted) {
        qsort(entries, (size_t)count, sizeof *entries, cmp_entry);
    }
    ard_plan *p = plan_start(num_files);
    int ok = p && build_chunks(entries, count, p) == ARD_OK;
    return plan_finish(p, files, num_files, ok, out, err);
}

/* Chunk i of ard_plan_new_chunks is well-formed and follows chunk i - 1. */
static int chunk_ok(const ard_plan_chunk *ch, const ard_plan_chunk *prev, int32_t num_files) {
    if (ch->file < 0 || ch->file >= num_files || ch->row_group < 0 || ch->num_rows < 1 ||
        !ch->rows || !ch->targetids || ch->rows[0] < 0) {
        return 0;
    }
    if (prev &&
        (ch->file < prev->file || (ch->file == prev->file && ch->row_group <= prev->row_group))) {
        return 0;
    }
    for (int64_t r = 1; r < ch->num_rows; r++) {
        if (ch->rows[r] <= ch->rows[r - 1]) {
            return 0;
        }
    }
    return 1;
}

ard_status ard_plan_new_chunks(const char *const *files, int32_t num_files,
                               const ard_plan_chunk *chunks, int64_t num_chunks, ard_plan **out,
                               ard_error *err) {
    if (!out || num_files < 0 || num_chunks < 0 || (num_files > 0 && !files) ||
        (num_chunks > 0 && !chunks)) {
        return ard_error_set(err, ARD_EINVAL, "ard_plan_new_chunks: bad arguments");
    }
    *out = NULL;
    ard_status st = check_entries(files, num_files, NULL, 0, err);
    int64_t n = 0;
    for (int64_t c = 0; st == ARD_OK && c < num_chunks; c++) {
        if (!chunk_ok(&chunks[c], c ? &chunks[c - 1] : NULL, num_files)) {
            st = ard_error_set(err, ARD_EINVAL,
                               "read plan: chunk %lld (file %d, row group %d) is empty, out of"
                               " order or has unsorted rows",
                               (long long)c, chunks[c].file, chunks[c].row_group);
        }
        n += st == ARD_OK ? chunks[c].num_rows : 0;
    }
    if (st != ARD_OK) {
        return st;
    }
    ard_plan *p = plan_start(num_files);
    int ok = p && plan_alloc(p, n, num_chunks) == ARD_OK;
    int64_t num_ranges = 0;
    for (int64_t c = 0; ok && c < num_chunks; c++) {
        const ard_plan_chunk *in = &chunks[c];
        ard_plan_chunk *ch = &p->chunks[c];
        *ch = (ard_plan_chunk){in->file,
                               in->row_group,
                               0,
                               p->rows + p->num_rows,
                               p->targetids + p->num_rows,
                               in->first_row,
                               in->byte_offset,
                               in->bytes,
                               0,
                               p->ranges + 2 * num_ranges};
        for (int64_t r = 0; r < in->num_rows; r++) {
            plan_push(p, ch, in->rows[r], in->targetids[r], &num_ranges);
        }
    }
    if (ok) {
        p->num_chunks = num_chunks;
    }
    return plan_finish(p, files, num_files, ok, out, err);
}

void ard_plan_free(ard_plan *p) {
    if (!p) {
        return;
    }
    for (int32_t i = 0; p->files && i < p->num_files; i++) {
        ard_free(p->files[i]);
    }
    ard_free(p->files);
    ard_free(p->chunks);
    ard_free(p->rows);
    ard_free(p->targetids);
    ard_free(p->ranges);
    ard_free(p);
}

int32_t ard_plan_num_files(const ard_plan *p) {
    return p ? p->num_files : 0;
}

const char *ard_plan_file(const ard_plan *p, int32_t i) {
    return p && i >= 0 && i < p->num_files ? p->files[i] : NULL;
}

int64_t ard_plan_num_chunks(const ard_plan *p) {
    return p ? p->num_chunks : 0;
}

const ard_plan_chunk *ard_plan_chunk_at(const ard_plan *p, int64_t i) {
    return p && i >= 0 && i < p->num_chunks ? &p->chunks[i] : NULL;
}

int64_t ard_plan_num_rows(const ard_plan *p) {
    return p ? p->num_rows : 0;
}

static void json_chunk(ard_json *j, const ard_plan_chunk *ch) {
    ard_json_begin_object(j);
    ard_json_key(j, "row_group");
    ard_json_int(j, ch->row_group);
    ard_json_key(j, "byte_offset");
    ard_json_int(j, ch->byte_offset);
    ard_json_key(j, "bytes");
    ard_json_int(j, ch->bytes);
    ard_json_key(j, "rows");
    ard_json_begin_array(j);
    for (int64_t r = 0; r < ch->num_rows; r++) {
        ard_json_int(j, ch->rows[r]);
    }
    ard_json_end_array(j);
    ard_json_key(j, "targetids");
    ard_json_begin_array(j);
    for (int64_t r = 0; r < ch->num_rows; r++) {
        ard_json_int(j, ch->targetids[r]);
    }
    ard_json_end_array(j);
    ard_json_end_object(j);
}

void ard_plan_to_json(const ard_plan *p, ard_buf *out, int pretty) {
    ard_json j;
    ard_json_init(&j, out, pretty);
    ard_json_begin_object(&j);
    ard_json_key(&j, "num_rows");
    ard_json_int(&j, ard_plan_num_rows(p));
    ard_json_key(&j, "files");
    ard_json_begin_array(&j);
    for (int64_t c = 0; c < ard_plan_num_chunks(p); c++) {
        const ard_plan_chunk *ch = &p->chunks[c];
        if (c == 0 || p->chunks[c - 1].file != ch->file) {
            if (c > 0) {
                ard_json_end_array(&j);
                ard_json_end_object(&j);
            }
            ard_json_begin_object(&j);
            ard_json_key(&j, "path");
            ard_json_string(&j, p->files[ch->file]);
            ard_json_key(&j, "row_groups");
            ard_json_begin_array(&j);
        }
        json_chunk(&j, ch);
    }
    if (ard_plan_num_chunks(p) > 0) {
        ard_json_end_array(&j);
        ard_json_end_object(&j);
    }
    ard_json_end_array(&j);
    ard_json_end_object(&j);
}

// ---- the plan file format -------------------------------------------------------------------

/* Decimal of v appended to out (printf costs ~10x more per number on a 700k-row plan). */
static void append_i64(ard_buf *out, char sep, int64_t v) {
    char tmp[24];
    size_t n = sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        tmp[--n] = '-';
    }
    if (sep) {
        tmp[--n] = sep;
    }
    ard_buf_append(out, tmp + n, sizeof tmp - n);
}

void ard_plan_format(const ard_plan *p, ard_buf *out) {
    ard_buf_appendf(out, "%s\n", ARD_PLAN_HEADER_V2);
    for (int64_t c = 0; c < ard_plan_num_chunks(p); c++) {
        const ard_plan_chunk *ch = &p->chunks[c];
        ard_buf_appendf(out, "%s\t%d\t%lld\t%lld\t%lld", p->files[ch->file], ch->row_group,
                        (long long)ch->byte_offset, (long long)ch->bytes, (long long)ch->num_rows);
        for (int64_t g = 0; g < ch->num_ranges; g++) {
            int64_t first = ch->ranges[2 * g], count = ch->ranges[2 * g + 1];
            append_i64(out, g ? ',' : '\t', first);
            if (count > 1) {
                append_i64(out, '-', first + count - 1);
            }
        }
        for (int64_t r = 0; r < ch->num_rows; r++) {
            int64_t v = r ? (int64_t)((uint64_t)ch->targetids[r] - (uint64_t)ch->targetids[r - 1])
                          : ch->targetids[0];
            append_i64(out, r ? ',' : '\t', v);
        }
        ard_buf_append(out, "\n", 1);
    }
}

void ard_plan_format_v1(const ard_plan *p, ard_buf *out) {
    ard_buf_appendf(out, "%s\n", ARD_PLAN_HEADER);
    for (int64_t c = 0; c < ard_plan_num_chunks(p); c++) {
        const ard_plan_chunk *ch = &p->chunks[c];
        ard_buf_appendf(out, "%s\t%d\t%lld\t%lld\t%lld\t", p->files[ch->file], ch->row_group,
                        (long long)ch->byte_offset, (long long)ch->bytes, (long long)ch->num_rows);
        for (int64_t r = 0; r < ch->num_rows; r++) {
            ard_buf_appendf(out, "%s%lld", r ? "," : "", (long long)ch->rows[r]);
        }
        ard_buf_append(out, "\t", 1);
        for (int64_t r = 0; r < ch->num_rows; r++) {
            ard_buf_appendf(out, "%s%lld", r ? "," : "", (long long)ch->targetids[r]);
        }
        ard_buf_append(out, "\n", 1);
    }
}

/* What the parser accumulates: files in order of first appearance, entries as read. */
typedef struct plan_text {
    int version; /* 1 or 2 (the header's) */
    char **files;
    int32_t num_files, files_cap;
    ard_plan_entry *entries;
    int64_t count, cap;
} plan_text;

static void plan_text_reset(plan_text *t) {
    for (int32_t i = 0; i < t->num_files; i++) {
        ard_free(t->files[i]);
    }
    ard_free(t->files);
    ard_free(t->entries);
    memset(t, 0, sizeof *t);
}

/* A decimal int64 >= 0 at *s ending at one of `stops` (or the end of the field); advances *s. */
static int parse_i64(const char **s, const char *end, int64_t *out) {
    const char *p = *s;
    int64_t v = 0;
    if (p >= end || *p < '0' || *p > '9') {
        return 0;
    }
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10) {
            return 0;
        }
        v = v * 10 + (*p - '0');
    }
    *s = p;
    *out = v;
    return 1;
}

/* A whole field holding one int64 >= 0. */
static int field_i64(const char *f, const char *end, int64_t *out) {
    return parse_i64(&f, end, out) && f == end;
}

static int push_entry(plan_text *t, const ard_plan_entry *e) {
    if (t->count == t->cap) {
        int64_t cap = t->cap ? t->cap * 2 : 256;
        ard_plan_entry *grown = ard_realloc(t->entries, (size_t)cap * sizeof *grown);
        if (!grown) {
            return 0;
        }
        t->entries = grown;
        t->cap = cap;
    }
    t->entries[t->count++] = *e;
    return 1;
}

/* The file index of path [f, end): the last file again, or a new one (a file seen before but not
 * last means its lines are not consecutive: -2). -1 on ENOMEM. */
static int32_t file_index(plan_text *t, const char *f, const char *end) {
    size_t len = (size_t)(end - f);
    for (int32_t i = t->num_files - 1; i >= 0; i--) {
        if (strlen(t->files[i]) == len && memcmp(t->files[i], f, len) == 0) {
            return i == t->num_files - 1 ? i : -2;
        }
    }
    if (t->num_files == t->files_cap) {
        int32_t cap = t->files_cap ? t->files_cap * 2 : 64;
        char **grown = ard_realloc(t->files, (size_t)cap * sizeof *grown);
        if (!grown) {
            return -1;
        }
        t->files = grown;
        t->files_cap = cap;
    }
    char *path = ard_malloc(len + 1);
    if (!path) {
        return -1;
    }
    memcpy(path, f, len);
    path[len] = '\0';
    t->files[t->num_files] = path;
    return t->num_files++;
}

/* The rows and targetids lists of one line into entries of `base`. */
static ard_status parse_lists(plan_text *t, const ard_plan_entry *base, int64_t n, const char *rows,
                              const char *rows_end, const char *ids, const char *ids_end) {
    int64_t prev = -1;
    for (int64_t k = 0; k < n; k++) {
        ard_plan_entry e = *base;
        if (k > 0 && (rows >= rows_end || *rows++ != ',' || ids >= ids_end || *ids++ != ',')) {
            return ARD_EINVAL;
        }
        if (!parse_i64(&rows, rows_end, &e.row) || !parse_i64(&ids, ids_end, &e.targetid) ||
            e.row <= prev) {
            return ARD_EINVAL;
        }
        prev = e.row;
        if (!push_entry(t, &e)) {
            return ARD_ENOMEM;
        }
    }
    return rows == rows_end && ids == ids_end ? ARD_OK : ARD_EINVAL;
}

/* An optionally negative decimal of magnitude < 2^64 (wrapping in uint64, as the writer's
 * differences do: they span the whole int64 range). */
static int parse_signed(const char **s, const char *end, uint64_t *out) {
    const char *p = *s;
    int neg = p < end && *p == '-';
    p += neg;
    const char *digits = p;
    uint64_t u = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (u > (UINT64_MAX - d) / 10) {
            return 0;
        }
        u = u * 10 + d;
    }
    if (p == digits) {
        return 0;
    }
    *out = neg ? 0 - u : u;
    *s = p;
    return 1;
}

/* Version 2: the row ranges and TARGETID differences of one line into entries of `base`. */
static ard_status parse_ranges(plan_text *t, const ard_plan_entry *base, int64_t n, const char *rng,
                               const char *rng_end, const char *ids, const char *ids_end) {
    int64_t done = 0, prev_last = -1;
    uint64_t id = 0;
    while (done < n) {
        int64_t first = 0, last = 0;
        if ((done > 0 && (rng >= rng_end || *rng++ != ',')) || !parse_i64(&rng, rng_end, &first)) {
            return ARD_EINVAL;
        }
        last = first;
        if (rng < rng_end && *rng == '-' && (rng++, !parse_i64(&rng, rng_end, &last))) {
            return ARD_EINVAL;
        }
        if (first <= prev_last || last < first || last - first >= n - done) {
            return ARD_EINVAL;
        }
        for (int64_t row = first; row <= last; row++, done++) {
            ard_plan_entry e = *base;
            uint64_t d;
            if ((done > 0 && (ids >= ids_end || *ids++ != ',')) ||
                !parse_signed(&ids, ids_end, &d)) {
                return ARD_EINVAL;
            }
            id = done ? id + d : d;
            e.row = row;
            e.targetid = (int64_t)id;
            if (!push_entry(t, &e)) {
                return ARD_ENOMEM;
            }
        }
        prev_last = last;
    }
    return rng == rng_end && ids == ids_end ? ARD_OK : ARD_EINVAL;
}

/* 1 when a plan's path could leave the dataset: absolute, or a ".." component. (Symbolic links are
 * resolved when the file is opened: ard_plan_file_path.) */
static int path_escapes(const char *p, const char *end) {
    if (p < end && *p == '/') {
        return 1;
    }
    for (const char *c = p; c < end;) {
        const char *slash = memchr(c, '/', (size_t)(end - c));
        const char *comp_end = slash ? slash : end;
        if (comp_end - c == 2 && c[0] == '.' && c[1] == '.') {
            return 1;
        }
        c = slash ? slash + 1 : end;
    }
    return 0;
}

static ard_status parse_line(plan_text *t, const char *line, const char *end) {
    const char *field[8];
    const char *field_end[8];
    int n = 0;
    for (const char *c = line; n < 8;) {
        const char *tab = memchr(c, '\t', (size_t)(end - c));
        field[n] = c;
        field_end[n++] = tab ? tab : end;
        if (!tab) {
            break;
        }
        c = tab + 1;
    }
    int64_t rg = 0, rows = 0;
    ard_plan_entry e = {0};
    /* a NUL inside the path would cut it short: "\0x" names the dataset root itself */
    if (n != 7 || field[0] == field_end[0] ||
        memchr(field[0], '\0', (size_t)(field_end[0] - field[0])) ||
        !field_i64(field[1], field_end[1], &rg) || rg > INT32_MAX ||
        !field_i64(field[2], field_end[2], &e.byte_offset) ||
        !field_i64(field[3], field_end[3], &e.bytes) || !field_i64(field[4], field_end[4], &rows) ||
        rows == 0) {
        return ARD_EINVAL;
    }
    if (path_escapes(field[0], field_end[0])) {
        return ARD_EPERM;
    }
    e.row_group = (int32_t)rg;
    e.first_row = 0; /* not part of the format: a reader does not need it */
    e.file = file_index(t, field[0], field_end[0]);
    if (e.file < 0) {
        return e.file == -1 ? ARD_ENOMEM : ARD_EINVAL;
    }
    if (t->version == 2) {
        return parse_ranges(t, &e, rows, field[5], field_end[5], field[6], field_end[6]);
    }
    return parse_lists(t, &e, rows, field[5], field_end[5], field[6], field_end[6]);
}

ard_status ard_plan_parse(const char *text, size_t len, ard_plan **out, ard_error *err) {
    if (!out || (!text && len > 0)) {
        return ard_error_set(err, ARD_EINVAL, "ard_plan_parse: bad arguments");
    }
    *out = NULL;
    plan_text t = {0};
    size_t hlen = 0;
    for (int v = 1; v <= 2 && !t.version; v++) {
        const char *h = v == 1 ? ARD_PLAN_HEADER : ARD_PLAN_HEADER_V2;
        hlen = strlen(h);
        if (len >= hlen && memcmp(text, h, hlen) == 0 && (len == hlen || text[hlen] == '\n')) {
            t.version = v;
        }
    }
    if (!t.version) {
        return ard_error_set(err, ARD_EINVAL,
                             "read plan line 1: expected the header \"path<TAB>row_group<TAB>..."
                             "<TAB>targetid_deltas\" (or version 1's \"...<TAB>targetids\") of"
                             " `ard query --format plan`");
    }
    ard_status st = ARD_OK;
    int64_t lineno = 1;
    for (const char *p = text + hlen + (len > hlen), *end = text + len; st == ARD_OK && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        lineno++;
        if (line_end > p) {
            st = parse_line(&t, p, line_end);
        }
        p = nl ? nl + 1 : end;
    }
    if (st == ARD_OK) {
        st = ard_plan_new((const char *const *)t.files, t.num_files, t.entries, t.count, out, err);
    } else if (st == ARD_ENOMEM) {
        ard_error_set(err, st, "out of memory reading a read plan");
    } else if (st == ARD_EPERM) {
        ard_error_set(err, st,
                      "read plan line %lld: the path leaves the dataset (absolute or with \"..\"; "
                      "plan paths are relative to the dataset root)",
                      (long long)lineno);
    } else {
        ard_error_set(err, st,
                      "read plan line %lld: expected path, row_group, byte_offset, bytes,"
                      " num_rows, %s (num_rows sorted rows and as many targetids; the lines of a"
                      " file consecutive)",
                      (long long)lineno,
                      t.version == 2 ? "row_ranges and targetid_deltas" : "rows and targetids");
    }
    plan_text_reset(&t);
    return st;
}

ard_status ard_plan_save(const ard_plan *plan, const char *path, ard_error *err) {
    if (!plan || !path) {
        return ard_error_set(err, ARD_EINVAL, "ard_plan_save: bad arguments");
    }
    ard_buf b;
    ard_buf_init(&b);
    ard_plan_format(plan, &b);
    ard_status st = b.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory writing %s", path)
                             : ard_file_write_atomic(path, b.data, b.len, err);
    ard_buf_reset(&b);
    return st;
}

ard_status ard_plan_load(const char *path, ard_plan **out, ard_error *err) {
    if (!path || !out) {
        return ard_error_set(err, ARD_EINVAL, "ard_plan_load: bad arguments");
    }
    *out = NULL;
    ard_mapped_file m;
    ard_status st = ard_file_map(path, &m, err);
    if (st != ARD_OK) {
        return st;
    }
    st = ard_plan_parse((const char *)m.data, (size_t)m.size, out, err);
    if (st != ARD_OK) {
        ard_error_prefix(err, "%s: ", path);
    }
    ard_file_unmap(&m);
    return st;
}
