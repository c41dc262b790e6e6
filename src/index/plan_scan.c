/* Plans of a predicate without one index seek per spectrum. Where the time went before: a broad
 * predicate ("Z > 2.5", 679k of 6.4M spectra) joined spectra through its TARGETID index, one
 * B-tree descent per spectrum (~2.4 us each on SQLite, most of the 1.6 s). Now:
 *   1. the selected TARGETIDs come out of galaxies alone (the user's predicate, guarded), sorted;
 *   2. few of them (< 1/SCAN_FRACTION of the spectra): point look-ups through the spectra
 *      TARGETID index, as before (a selective predicate pays one extra small statement);
 *   3. many: one pass over the tiles' row groups in (path, row group) order, each carrying its
 *      TARGETIDs (row_groups.targetids, rg_targetids.c), intersected here with the sorted
 *      selection. The rows come out in plan order, so the plan is built without a sort.
 * An index whose row groups lack the TARGETIDs (migrated, not yet re-synced) answers *out = NULL:
 * the caller plans from the spectra table. */
#include "index_int.h"

#include <stdlib.h>
#include <string.h>

/* Scan when at least 1/SCAN_FRACTION of the spectra are selected: a scan decodes every row group
 * (~10 ns a spectrum), a point look-up costs ~2.5 us. */
#define SCAN_FRACTION 256

typedef struct id_list {
    int64_t *ids;
    int64_t n, cap;
    int failed;
} id_list;

static int collect_id(void *ctx, int32_t n, const int64_t *v) {
    id_list *l = ctx;
    if (n < 1) {
        return 0;
    }
    if (l->n == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 4096;
        int64_t *grown = ard_realloc(l->ids, (size_t)cap * sizeof *grown);
        if (!grown) {
            l->failed = 1;
            return 1;
        }
        l->ids = grown;
        l->cap = cap;
    }
    l->ids[l->n++] = v[0];
    return 0;
}

/* The plan as it is gathered, already in plan order (rows arrive by path, row group, row):
 * chunks hold offsets into rows/tids until the end. */
typedef struct scan_ctx {
    const int64_t *sel; /* sorted, distinct; NULL: every row */
    int64_t num_sel;
    int64_t *ids; /* one row group's TARGETIDs */
    int64_t ids_cap;
    char **paths;
    int32_t num_files, files_cap;
    int64_t last_file_id;
    ard_plan_chunk *chunks;
    int64_t num_chunks, chunks_cap;
    int64_t *rows, *tids;
    int64_t num_rows, rows_cap;
    int missing; /* a row group without (readable) TARGETIDs */
    int failed;  /* out of memory */
} scan_ctx;

static void scan_ctx_reset(scan_ctx *s) {
    for (int32_t i = 0; i < s->num_files; i++) {
        ard_free(s->paths[i]);
    }
    ard_free(s->paths);
    ard_free(s->chunks);
    ard_free(s->rows);
    ard_free(s->tids);
    ard_free(s->ids);
}

/* Grows *arr (of *cap elements of `size` bytes) to hold `need`; 0, or -1 when out of memory. */
static int grow(void **arr, int64_t *cap, int64_t need, size_t size) {
    if (need <= *cap) {
        return 0;
    }
    int64_t n = *cap ? *cap : 256;
    while (n < need) {
        n *= 2;
    }
    void *grown = ard_realloc(*arr, (size_t)n * size);
    if (!grown) {
        return -1;
    }
    *arr = grown;
    *cap = n;
    return 0;
}

static int add_row(scan_ctx *s, int64_t row, int64_t targetid) {
    if (s->num_rows == s->rows_cap) {
        int64_t cap = s->rows_cap;
        if (grow((void **)&s->rows, &cap, s->num_rows + 1, sizeof *s->rows) != 0 ||
            grow((void **)&s->tids, &s->rows_cap, s->num_rows + 1, sizeof *s->tids) != 0) {
            return 1;
        }
    }
    s->rows[s->num_rows] = row;
    s->tids[s->num_rows++] = targetid;
    s->chunks[s->num_chunks - 1].num_rows++;
    return 0;
}

/* Opens the chunk of one row group (dropped again at the end of scan_row if nothing matched). */
static int begin_chunk(scan_ctx *s, const idx_value *v) {
    if (v[0].i != s->last_file_id || s->num_files == 0) {
        int64_t cap = s->files_cap;
        if (grow((void **)&s->paths, &cap, s->num_files + 1, sizeof *s->paths) != 0) {
            return 1;
        }
        s->files_cap = (int32_t)cap;
        if (!(s->paths[s->num_files] = ard_strdup(v[1].s))) {
            return 1;
        }
        s->num_files++;
        s->last_file_id = v[0].i;
    }
    if (grow((void **)&s->chunks, &s->chunks_cap, s->num_chunks + 1, sizeof *s->chunks) != 0) {
        return 1;
    }
    /* rows/targetids hold the offset of the chunk's first row until finish */
    s->chunks[s->num_chunks++] =
        (ard_plan_chunk){s->num_files - 1, (int32_t)v[2].i, 0,      NULL,        NULL,
                         v[3].i,           v[4].i,          v[5].i, s->num_rows, NULL};
    return 0;
}

/* First index of sel[from, n) holding a value >= x. */
static int64_t lower_bound(const int64_t *sel, int64_t from, int64_t n, int64_t x) {
    int64_t lo = from, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (sel[mid] < x) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Adds the rows of ids[0, n) found in the selection (merge while ids ascend; a few linear steps,
 * then a binary search, so a row group spanning a wide TARGETID range stays cheap). */
static int intersect(scan_ctx *s, const int64_t *ids, int64_t n) {
    int64_t j = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t x = ids[r];
        if (r == 0 || x < ids[r - 1]) {
            j = lower_bound(s->sel, 0, s->num_sel, x);
        } else {
            int steps = 0;
            while (j < s->num_sel && s->sel[j] < x && steps++ < 8) {
                j++;
            }
            if (j < s->num_sel && s->sel[j] < x) {
                j = lower_bound(s->sel, j, s->num_sel, x);
            }
        }
        if (j < s->num_sel && s->sel[j] == x && add_row(s, r, x)) {
            return 1;
        }
    }
    return 0;
}

/* Rows: file_id, path, row_group, first_row, byte_offset, bytes, num_rows, targetids. */
static int scan_row(void *ctx, int32_t n, const char *const *names, const idx_value *v) {
    (void)names;
    scan_ctx *s = ctx;
    int64_t rows = n >= 8 && v[6].type == IDX_INT ? v[6].i : 0;
    if (rows <= 0) {
        return 0;
    }
    if (v[7].type != IDX_TEXT || v[1].type != IDX_TEXT || rows > INT64_MAX / 16 || v[2].i < 0 ||
        v[2].i > INT32_MAX) {
        s->missing = 1;
        return 1;
    }
    if (grow((void **)&s->ids, &s->ids_cap, rows, sizeof *s->ids) != 0) {
        s->failed = 1;
        return 1;
    }
    if (ard__rg_targetids_decode(v[7].s, strlen(v[7].s), s->ids, rows) != 0) {
        s->missing = 1; /* damaged: the spectra table stays the authority */
        return 1;
    }
    if (begin_chunk(s, v)) {
        s->failed = 1;
        return 1;
    }
    for (int64_t r = 0; !s->sel && r < rows; r++) {
        if (add_row(s, r, s->ids[r])) {
            s->failed = 1;
            return 1;
        }
    }
    if (s->sel && intersect(s, s->ids, rows)) {
        s->failed = 1;
        return 1;
    }
    if (s->chunks[s->num_chunks - 1].num_rows == 0) {
        s->num_chunks--; /* nothing selected in this row group */
    }
    return 0;
}

/* The chunks' row offsets become pointers; then the plan (dataset's, copied). Files that ended up
 * without a chunk are dropped so that the plan lists only files it reads. */
static ard_status finish(scan_ctx *s, ard_plan **out, ard_error *err) {
    int32_t *renum = ard_malloc((size_t)(s->num_files + 1) * sizeof *renum);
    const char **paths = ard_malloc((size_t)(s->num_files + 1) * sizeof *paths);
    if (!renum || !paths) {
        ard_free(renum);
        ard_free(paths);
        return ard_error_set(err, ARD_ENOMEM, "out of memory building the read plan");
    }
    int32_t kept = 0;
    for (int32_t f = 0; f < s->num_files; f++) {
        renum[f] = -1;
    }
    for (int64_t c = 0; c < s->num_chunks; c++) {
        ard_plan_chunk *ch = &s->chunks[c];
        if (renum[ch->file] < 0) {
            paths[kept] = s->paths[ch->file];
            renum[ch->file] = kept++;
        }
        ch->file = renum[ch->file];
        ch->rows = s->rows + ch->num_ranges;
        ch->targetids = s->tids + ch->num_ranges;
        ch->num_ranges = 0;
    }
    ard_status st = ard_plan_new_chunks(paths, kept, s->chunks, s->num_chunks, out, err);
    ard_free(renum);
    ard_free(paths);
    return st;
}

/* The pass over row_groups; *out stays NULL when a row group has no TARGETIDs. */
static ard_status scan(ard_index *idx, const int64_t *sel, int64_t num_sel, ard_plan **out,
                       ard_error *err) {
    scan_ctx s = {0};
    s.sel = sel;
    s.num_sel = num_sel;
    s.last_file_id = -1;
    ard_status st = ARD_OK;
    if (sel && num_sel > 0 &&
        (grow((void **)&s.rows, &s.rows_cap, num_sel, sizeof *s.rows) != 0 ||
         !(s.tids = ard_malloc((size_t)s.rows_cap * sizeof *s.tids)))) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory building the read plan");
    }
    ard_buf sql;
    ard_buf_init(&sql);
    ard_buf_appendf(&sql,
                    "SELECT r.file_id, f.path, r.row_group, r.first_row, r.byte_offset, r.bytes,"
                    " r.num_rows, r.targetids FROM row_groups r JOIN files f ON f.id = r.file_id"
                    " WHERE f.kind = 'tile' ORDER BY f.path%s, r.row_group",
                    idx->be->ops->collate_bytes);
    ard_buf_append(&sql, "", 1);
    if (st == ARD_OK && sql.failed) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    if (st == ARD_OK) {
        st = idx->be->ops->select_values(idx->be, (const char *)sql.data, 0, scan_row, &s, err);
    }
    if (st == ARD_OK && s.failed) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory building the read plan");
    }
    if (st == ARD_OK && !s.missing) {
        st = finish(&s, out, err);
    }
    ard_buf_reset(&sql);
    scan_ctx_reset(&s);
    return st;
}

ard_status ard__plan_scan(ard_index *idx, const char *where, ard_plan **out, ard_error *err) {
    *out = NULL;
    if (!where) {
        return scan(idx, NULL, 0, out, err);
    }
    id_list sel = {0};
    ard_buf sql;
    ard_buf_init(&sql);
    ard_buf_appendf(&sql, "SELECT targetid FROM galaxies WHERE (%s)", where);
    ard_buf_append(&sql, "", 1);
    ard_status st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                               : idx->be->ops->select_ints(idx->be, (const char *)sql.data, 1,
                                                           collect_id, &sel, err);
    ard_buf_reset(&sql);
    if (st != ARD_OK) {
        ard_error_prefix(err, "query: ");
    }
    if (st == ARD_OK && (sel.failed || (sel.n = ard__ids_sort_unique(sel.ids, sel.n)) < 0)) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory selecting TARGETIDs");
    }
    int64_t spectra = 0;
    if (st == ARD_OK) {
        st = ard__idx_int(idx, "SELECT COALESCE(SUM(num_rows), 0) FROM files WHERE kind = 'tile'",
                          &spectra, err);
    }
    if (st == ARD_OK && sel.n > spectra / SCAN_FRACTION) {
        st = scan(idx, sel.ids, sel.n, out, err);
    }
    if (st == ARD_OK && !*out) {
        st = ard__plan_sorted_ids(idx, sel.ids, sel.n, out, err);
    }
    ard_free(sel.ids);
    return st;
}
