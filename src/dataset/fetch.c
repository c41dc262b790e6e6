/* Fetch, the one reader of a read plan: decode the spectra straight from the tiles (never through
 * the database). Chunks (one row group of one file each) are decoded `threads` at a time on a pool
 * and handed out in plan order; each chunk's TARGETIDs are checked against the plan, so a stale
 * index is an error, never silently wrong data. list<float> columns are decoded with
 * ard_parquet_read_f32_matrix, list<uint8> ones (MASK) with fetch_u8.c. */
#include "dataset_int.h"

#include <stdio.h>
#include <string.h>

enum { FETCH_MAX_COLUMNS = 8 };

typedef struct fetch_slot {
    const ard_plan_chunk *chunk;
    ard_pq_f32_matrix columns[FETCH_MAX_COLUMNS]; /* float columns; rows/width only for uint8 */
    uint8_t *u8[FETCH_MAX_COLUMNS];               /* uint8 columns, else NULL */
    int32_t types[FETCH_MAX_COLUMNS];             /* ARD_FETCH_* */
    ard_fetch_batch batch;
    ard_status st;
    ard_error err;
} fetch_slot;

struct ard_fetch {
    char *dataset;
    const ard_plan *plan;
    char *names[FETCH_MAX_COLUMNS];
    int32_t num_columns;
    ard_pool *pool;
    int32_t window;
    fetch_slot *slots;
    int64_t next_chunk; /* first chunk not decoded yet */
    int32_t in_window, handed;
    int32_t closed_below;     /* files[0 .. closed_below) are closed for good */
    ard_parquet_file **files; /* one per plan file, opened on demand, closed when passed */
};

static ard_status check_targetids(const ard_parquet_file *pq, const ard_plan_chunk *ch,
                                  ard_error *err) {
    int32_t leaf = ard_parquet_find_leaf(pq, "TARGETID");
    int64_t lo = ch->rows[0], hi = ch->rows[ch->num_rows - 1];
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    ard_status st =
        leaf < 0
            ? ard_error_set(err, ARD_ECORRUPT, "%s: no TARGETID column", ard_parquet_path(pq))
            : ard_parquet_read_column_rows(pq, ch->row_group, leaf, lo, hi - lo + 1, &col, err);
    if (st == ARD_OK && (col.type != ARD_PQ_INT64 || col.num_values != hi - lo + 1)) {
        st = ard_error_set(err, ARD_ECORRUPT, "%s: row group %d: TARGETID column unreadable",
                           ard_parquet_path(pq), ch->row_group);
    }
    for (int64_t r = 0; st == ARD_OK && r < ch->num_rows; r++) {
        if (((const int64_t *)col.values)[ch->rows[r] - lo] != ch->targetids[r]) {
            st = ard_error_set(err, ARD_ECORRUPT,
                               "%s: row group %d row %lld holds TARGETID %lld, the index says %lld;"
                               " the index is stale (run `ard sync`)",
                               ard_parquet_path(pq), ch->row_group, (long long)ch->rows[r],
                               (long long)((const int64_t *)col.values)[ch->rows[r] - lo],
                               (long long)ch->targetids[r]);
        }
    }
    ard_pq_column_data_reset(&col);
    return st;
}

/* Copies the planned rows of a whole-row-group matrix into a rows x width matrix. */
static ard_status gather(const ard_pq_f32_matrix *all, const ard_plan_chunk *ch,
                         ard_pq_f32_matrix *out, ard_error *err) {
    int64_t w = all->width, n = ch->num_rows;
    memset(out, 0, sizeof *out);
    out->rows = n;
    out->width = w;
    out->values = ard_malloc((size_t)(n * w > 0 ? n * w : 1) * sizeof(float));
    if (all->validity) {
        out->validity = ard_calloc((size_t)((n * w + 7) / 8 + 1), 1);
    }
    if (!out->values || (all->validity && !out->validity)) {
        ard_pq_matrix_reset(out);
        return ard_error_set(err, ARD_ENOMEM, "out of memory gathering %lld spectra", (long long)n);
    }
    for (int64_t r = 0; r < n; r++) {
        int64_t src = ch->rows[r];
        if (src >= all->rows) {
            ard_pq_matrix_reset(out);
            return ard_error_set(err, ARD_ECORRUPT, "planned row %lld beyond the row group (%lld)",
                                 (long long)src, (long long)all->rows);
        }
        memcpy(out->values + r * w, all->values + src * w, (size_t)w * sizeof(float));
        for (int64_t k = 0; all->validity && k < w; k++) {
            int64_t a = src * w + k, b = r * w + k;
            if ((all->validity[a >> 3] >> (a & 7)) & 1) {
                out->validity[b >> 3] = (uint8_t)(out->validity[b >> 3] | (1u << (b & 7)));
            }
        }
    }
    return ARD_OK;
}

static ard_status decode_f32(const ard_parquet_file *pq, const ard_plan_chunk *ch, int32_t leaf,
                             ard_pq_f32_matrix *out, ard_error *err) {
    ard_pq_f32_matrix all;
    memset(&all, 0, sizeof all);
    ard_status st = ard_parquet_read_f32_matrix(pq, ch->row_group, leaf, &all, err);
    if (st == ARD_OK && all.rows == ch->num_rows && !all.row_validity) {
        *out = all; /* every row wanted, in order: no copy */
        return ARD_OK;
    }
    if (st == ARD_OK) {
        st = gather(&all, ch, out, err);
    }
    ard_pq_matrix_reset(&all);
    return st;
}

static ard_status decode_chunk(ard_fetch *f, fetch_slot *s, ard_error *err) {
    const ard_plan_chunk *ch = s->chunk;
    const ard_parquet_file *pq = f->files[ch->file];
    ard_status st = check_targetids(pq, ch, err);
    for (int32_t c = 0; c < f->num_columns && st == ARD_OK; c++) {
        int32_t leaf = ard_dataset_list_leaf(pq, f->names[c]);
        int32_t kind = ard__fetch_leaf_kind(pq, leaf);
        if (leaf < 0 || kind < 0) {
            return ard_error_set(
                err, ARD_EINVAL, "%s: %s column %s", ard_parquet_path(pq),
                leaf < 0 ? "no" : "neither list<float> nor list<uint8>:", f->names[c]);
        }
        s->types[c] = kind;
        if (kind == ARD_FETCH_F32) {
            st = decode_f32(pq, ch, leaf, &s->columns[c], err);
            continue;
        }
        int64_t width = 0;
        st = ard__fetch_read_u8(pq, ch, leaf, f->names[c], &s->u8[c], &width, err);
        s->columns[c].rows = ch->num_rows;
        s->columns[c].width = width;
    }
    return st;
}

static void decode_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    ard_fetch *f = arg;
    fetch_slot *s = &f->slots[i];
    ard_error_init(&s->err);
    s->st = decode_chunk(f, s, &s->err);
    s->batch = (ard_fetch_batch){s->chunk->file,
                                 s->chunk->row_group,
                                 s->chunk->num_rows,
                                 s->chunk->targetids,
                                 f->num_columns,
                                 (const char *const *)f->names,
                                 s->columns,
                                 s->types,
                                 (const uint8_t *const *)s->u8};
}

static void clear_window(ard_fetch *f) {
    for (int32_t i = 0; i < f->in_window; i++) {
        for (int32_t c = 0; c < f->num_columns; c++) {
            ard_pq_matrix_reset(&f->slots[i].columns[c]);
            ard_free(f->slots[i].u8[c]);
            f->slots[i].u8[c] = NULL;
        }
    }
    f->in_window = f->handed = 0;
}

/* Opens the files of the next window (closing those already passed) and decodes it in parallel. */
static ard_status fill_window(ard_fetch *f, ard_error *err) {
    clear_window(f);
    int64_t total = ard_plan_num_chunks(f->plan);
    int32_t n = 0;
    const ard_plan_chunk *first = ard_plan_chunk_at(f->plan, f->next_chunk);
    for (; first && f->closed_below < first->file; f->closed_below++) { /* plan is in file order */
        ard_parquet_close(f->files[f->closed_below]);
        f->files[f->closed_below] = NULL;
    }
    for (; n < f->window && f->next_chunk + n < total; n++) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(f->plan, f->next_chunk + n);
        if (!f->files[ch->file]) {
            char *path = NULL;
            ard_status st = ard_plan_file_path(f->dataset, f->plan, ch->file, &path, err);
            if (st == ARD_OK) {
                st = ard_parquet_open(path, NULL, &f->files[ch->file], err);
            }
            ard_free(path);
            if (st != ARD_OK) {
                return st;
            }
        }
        memset(&f->slots[n], 0, sizeof f->slots[n]);
        f->slots[n].chunk = ch;
    }
    f->in_window = n;
    f->next_chunk += n;
    ard_pool_for(f->pool, n, decode_task, f);
    return ARD_OK;
}

ard_status ard_fetch_next(ard_fetch *f, const ard_fetch_batch **batch, ard_error *err) {
    if (!f || !batch) {
        return ard_error_set(err, ARD_EINVAL, "ard_fetch_next: bad arguments");
    }
    *batch = NULL;
    if (f->handed == f->in_window) {
        if (f->next_chunk >= ard_plan_num_chunks(f->plan)) {
            clear_window(f);
            return ARD_EEOF;
        }
        ard_status st = fill_window(f, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    fetch_slot *s = &f->slots[f->handed++];
    if (s->st != ARD_OK) {
        if (err) {
            *err = s->err;
        }
        return s->st;
    }
    *batch = &s->batch;
    return ARD_OK;
}

ard_status ard_fetch_open(const char *dataset, const ard_plan *plan, const char *const *columns,
                          int32_t num_columns, int32_t threads, ard_fetch **out, ard_error *err) {
    static const char *const default_columns[] = {"FLUX"};
    if (!out || !dataset || !plan || num_columns < 0 || num_columns > FETCH_MAX_COLUMNS) {
        return ard_error_set(err, ARD_EINVAL, "ard_fetch_open: bad arguments (at most %d columns)",
                             FETCH_MAX_COLUMNS);
    }
    *out = NULL;
    if (!columns || num_columns == 0) {
        columns = default_columns;
        num_columns = 1;
    }
    ard_fetch *f = ard_calloc(1, sizeof *f);
    ard_status st = f ? ard_pool_new(threads, &f->pool, err) : ARD_ENOMEM;
    if (st == ARD_OK) {
        f->plan = plan;
        f->window = ard_pool_threads(f->pool) * 2;
        f->slots = ard_calloc((size_t)f->window, sizeof *f->slots);
        f->files = ard_calloc((size_t)(ard_plan_num_files(plan) + 1), sizeof *f->files);
        f->dataset = ard_strdup(dataset);
        f->num_columns = num_columns;
        for (int32_t c = 0; c < num_columns; c++) {
            f->names[c] = ard_strdup(columns[c] ? columns[c] : "");
            st = f->names[c] ? st : ARD_ENOMEM;
        }
        st = f->slots && f->files && f->dataset ? st : ARD_ENOMEM;
    }
    if (st != ARD_OK) {
        ard_fetch_close(f);
        return st == ARD_ENOMEM ? ard_error_set(err, st, "out of memory") : st;
    }
    *out = f;
    return ARD_OK;
}

void ard_fetch_close(ard_fetch *f) {
    if (!f) {
        return;
    }
    if (f->slots) {
        clear_window(f);
    }
    for (int32_t i = 0; f->files && i < ard_plan_num_files(f->plan); i++) {
        ard_parquet_close(f->files[i]);
    }
    for (int32_t c = 0; c < f->num_columns; c++) {
        ard_free(f->names[c]);
    }
    ard_pool_free(f->pool);
    ard_free(f->files);
    ard_free(f->slots);
    ard_free(f->dataset);
    ard_free(f);
}
