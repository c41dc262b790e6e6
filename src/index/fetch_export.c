/* Whole-plan exports on top of the fetch iterator: a Parquet file in the tile schema (TARGETID +
 * list<float> / list<uint8> columns, default FLUX, IVAR, MASK; the first tile's ard.* metadata
 * carried over) or NumPy .npy arrays ('<f4', or '|u1' for MASK; default FLUX). Every
 * output is written atomically: it appears complete or not at all. */
#include "index_int.h"

#include "ard/parquet_write.h"

#include <stdio.h>
#include <string.h>

/* ---- column kinds ---- */

/* Kind of a column when no tile tells it (an empty plan): MASK is list<uint8>, the rest float. */
static int32_t default_kind(const char *name) {
    return name && strcmp(name, "MASK") == 0 ? ARD_FETCH_U8 : ARD_FETCH_F32;
}

static ard_status check_kinds(const ard_fetch_batch *b, const int32_t *kinds, const ard_plan *plan,
                              ard_error *err) {
    for (int32_t c = 0; c < b->num_columns; c++) {
        if (b->column_types[c] != kinds[c]) {
            return ard_error_set(err, ARD_EINVAL,
                                 "%s: column %s is list<%s> there, list<%s> before",
                                 ard_plan_file(plan, b->file), b->column_names[c],
                                 b->column_types[c] == ARD_FETCH_U8 ? "uint8" : "float",
                                 kinds[c] == ARD_FETCH_U8 ? "uint8" : "float");
        }
    }
    return ARD_OK;
}

/* ---- the batch reader: this process's ard_fetch, or a caller's source ---- */

typedef struct batch_reader {
    const ard_fetch_source *source;
    ard_fetch *fetch;
    int opened;
} batch_reader;

static ard_status reader_open(batch_reader *r, const char *dataset, const ard_plan *plan,
                              const char *const *columns, int32_t num_columns, int32_t threads,
                              ard_error *err) {
    if (!r->source) {
        return ard_fetch_open(dataset, plan, columns, num_columns, threads, &r->fetch, err);
    }
    r->opened = 1;
    return r->source->open(r->source->ctx, plan, columns, num_columns, err);
}

static ard_status reader_next(batch_reader *r, const ard_fetch_batch **b, ard_error *err) {
    return r->source ? r->source->next(r->source->ctx, b, err) : ard_fetch_next(r->fetch, b, err);
}

static void reader_close(batch_reader *r, ard_status st) {
    if (r->source && r->opened) {
        r->source->close(r->source->ctx, st);
    }
    ard_fetch_close(r->fetch);
}

/* ---- Parquet ---- */

/* The columns of a Parquet export and their kinds, from the first planned tile (NULL: none). */
typedef struct pq_cols {
    const char *names[8];
    int32_t kinds[8];
    int32_t count;
} pq_cols;

static ard_status resolve_columns(const ard_tile *first, const char *const *columns,
                                  int32_t num_columns, pq_cols *out, ard_error *err) {
    static const char *const tile_schema[] = {"FLUX", "IVAR", "MASK"};
    int defaults = !columns || num_columns <= 0;
    int32_t n = defaults ? 3 : num_columns;
    if (n > 8) {
        return ard_error_set(err, ARD_EINVAL, "fetch: at most 8 columns (got %d)", n);
    }
    out->count = 0;
    for (int32_t c = 0; c < n; c++) {
        const char *name = defaults ? tile_schema[c] : columns[c];
        int32_t kind = first ? ard_tile_column_kind(first, name) : default_kind(name);
        if (first && defaults && kind == ARD_TILE_MISSING) {
            continue; /* the full tile schema: only the columns the tiles have */
        }
        if ((kind != ARD_FETCH_F32 && kind != ARD_FETCH_U8) || !name) {
            return ard_error_set(
                err, ARD_EINVAL, "%s: %s column %s", first ? ard_tile_path(first) : "fetch",
                kind == ARD_TILE_MISSING ? "no" : "neither list<float> nor list<uint8>:",
                name ? name : "(null)");
        }
        out->names[out->count] = name;
        out->kinds[out->count++] = kind;
    }
    if (out->count == 0) {
        return ard_error_set(err, ARD_EINVAL, "%s: none of FLUX, IVAR, MASK",
                             first ? ard_tile_path(first) : "fetch");
    }
    return ARD_OK;
}

/* The export's table columns: TARGETID, then each column as list<float> (nullable lists and
 * elements, as tiles may hold them) or list<uint8>. values left NULL (set per batch). */
static void table_columns(const pq_cols *cols, ard_parquet_table_column *out) {
    memset(out, 0, (size_t)(cols->count + 1) * sizeof *out);
    out[0].name = ARD_COL_TARGETID;
    out[0].kind = ARD_PARQUET_COL_INT64;
    out[0].flags = ARD_PARQUET_COL_SORTED;
    for (int32_t c = 0; c < cols->count; c++) {
        int u8 = cols->kinds[c] == ARD_FETCH_U8;
        out[c + 1].name = cols->names[c];
        out[c + 1].kind = u8 ? ARD_PARQUET_COL_LIST_U8 : ARD_PARQUET_COL_LIST_F32;
        out[c + 1].flags = u8 ? 0 : ARD_PARQUET_COL_NULLABLE | ARD_PARQUET_COL_NULL_LISTS;
    }
}

/* Opens the writer: the tile schema for `cols`, the first tile's grid and version carried over. */
static ard_status open_writer(const ard_tile *first, const pq_cols *cols, const char *out_path,
                              ard_pq_writer **w, ard_error *err) {
    const char *keys[2] = {ARD_KV_GRID, ARD_KV_VERSION};
    const char *kv_keys[2], *kv_vals[2];
    int32_t nkv = 0;
    for (int i = 0; i < 2 && first; i++) {
        const char *v = ard_tile_kv(first, keys[i]);
        if (v) {
            kv_keys[nkv] = keys[i];
            kv_vals[nkv++] = v;
        }
    }
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = ARD_PQ_ZSTD;
    o.byte_stream_split = 1;
    o.num_kv = nkv;
    o.kv_keys = kv_keys;
    o.kv_values = kv_vals;
    ard_parquet_table_column tc[9];
    table_columns(cols, tc);
    return ard_parquet_table_open(out_path, tc, cols->count + 1, &o, w, err);
}

static ard_status write_batch_parquet(ard_pq_writer *w, const pq_cols *cols,
                                      const ard_fetch_batch *b, ard_error *err) {
    ard_parquet_table_column tc[9];
    table_columns(cols, tc);
    tc[0].values = b->targetids;
    for (int32_t c = 0; c < b->num_columns; c++) {
        const ard_pq_f32_matrix *m = &b->columns[c];
        int u8 = b->column_types[c] == ARD_FETCH_U8;
        tc[c + 1].values = u8 ? (const void *)b->u8_values[c] : (const void *)m->values;
        tc[c + 1].validity = u8 ? NULL : m->validity;
        tc[c + 1].row_validity = u8 ? NULL : m->row_validity;
        tc[c + 1].width = m->width;
    }
    return ard_parquet_table_append(w, tc, b->num_columns + 1, b->rows, err);
}

/* The first planned tile (NULL for an empty plan). */
static ard_status open_first(const char *dataset, const ard_plan *plan, ard_tile **first,
                             ard_error *err) {
    *first = NULL;
    if (!dataset || !plan || ard_plan_num_files(plan) == 0) {
        return ARD_OK;
    }
    char *path = NULL;
    ard_status st = ard_plan_file_path(dataset, plan, 0, &path, err);
    if (st == ARD_OK) {
        st = ard_tile_open(path, first, err);
    }
    ard_free(path);
    return st;
}

ard_status ard__fetch_export_parquet(const char *dataset, const ard_plan *plan,
                                     const char *const *columns, int32_t num_columns,
                                     int32_t threads, const char *out_path,
                                     const ard_fetch_source *source, int64_t *rows_out,
                                     ard_error *err) {
    if (!out_path) {
        return ard_error_set(err, ARD_EINVAL, "ard_fetch_to_parquet: no output path");
    }
    ard_tile *first = NULL;
    batch_reader f = {source, NULL, 0};
    ard_pq_writer *w = NULL;
    int64_t rows = 0;
    pq_cols cols;
    memset(&cols, 0, sizeof cols);
    ard_status st = open_first(dataset, plan, &first, err);
    if (st == ARD_OK) {
        st = resolve_columns(first, columns, num_columns, &cols, err);
    }
    if (st == ARD_OK) {
        st = reader_open(&f, dataset, plan, cols.names, cols.count, threads, err);
    }
    if (st == ARD_OK) {
        st = open_writer(first, &cols, out_path, &w, err);
    }
    const ard_fetch_batch *b;
    while (st == ARD_OK && (st = reader_next(&f, &b, err)) == ARD_OK) {
        st = check_kinds(b, cols.kinds, plan, err);
        st = st == ARD_OK ? write_batch_parquet(w, &cols, b, err) : st;
        rows += b->rows;
    }
    if (st == ARD_EEOF) {
        st = ard_pq_writer_close(w, err);
        w = NULL;
    }
    ard_pq_writer_abort(w);
    reader_close(&f, st);
    ard_tile_close(first);
    if (rows_out) {
        *rows_out = st == ARD_OK ? rows : 0;
    }
    return st;
}

ard_status ard_fetch_to_parquet(const char *dataset, const ard_plan *plan,
                                const char *const *columns, int32_t num_columns, int32_t threads,
                                const char *out_path, int64_t *rows_out, ard_error *err) {
    return ard__fetch_export_parquet(dataset, plan, columns, num_columns, threads, out_path, NULL,
                                     rows_out, err);
}

/* ---- NumPy ---- */

typedef struct npy_out {
    ard_atomic_file *file;
    char *path;
} npy_out;

/* Header of a version 1.0 .npy file: magic, header length, dict padded to a multiple of 64. */
static ard_status npy_header(ard_atomic_file *af, const char *descr, int64_t rows, int64_t width,
                             ard_error *err) {
    char dict[160];
    int n = width < 0 ? snprintf(dict, sizeof dict,
                                 "{'descr': '%s', 'fortran_order': False, 'shape': (%lld,), }",
                                 descr, (long long)rows)
                      : snprintf(dict, sizeof dict,
                                 "{'descr': '%s', 'fortran_order': False, 'shape': (%lld, %lld), }",
                                 descr, (long long)rows, (long long)width);
    uint8_t head[256];
    size_t total = ((size_t)n + 10 + 1 + 63) / 64 * 64;
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    uint16_t hlen = (uint16_t)(total - 10);
    head[8] = (uint8_t)(hlen & 0xff);
    head[9] = (uint8_t)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)n);
    memset(head + 10 + n, ' ', total - 10 - (size_t)n - 1);
    head[total - 1] = '\n';
    return ard_atomic_write(af, head, total, err);
}

static ard_status npy_open(const char *base, const char *suffix, npy_out *o, ard_error *err) {
    size_t n = strlen(base) + strlen(suffix) + 8;
    o->path = ard_malloc(n);
    if (!o->path) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    snprintf(o->path, n, "%s%s.npy", base, suffix);
    return ard_atomic_open(o->path, &o->file, err);
}

typedef struct npy_job {
    npy_out outs[9];  /* one per column, then TARGETID */
    int32_t kinds[8]; /* ARD_FETCH_* per column, fixed by the first batch */
    int32_t ncols;
    int64_t width;
    int started;
} npy_job;

static ard_status npy_start(npy_job *j, const char *base, const char *const *cols, int64_t rows,
                            const ard_fetch_batch *b, ard_error *err) {
    ard_status st = ARD_OK;
    j->width = b ? b->columns[0].width : 0;
    for (int32_t c = 0; c < j->ncols; c++) {
        j->kinds[c] = b ? b->column_types[c] : default_kind(cols[c]);
    }
    for (int32_t c = 0; c <= j->ncols && st == ARD_OK; c++) {
        char suffix[96] = "";
        if (c == j->ncols) {
            snprintf(suffix, sizeof suffix, ".TARGETID");
        } else if (c > 0) {
            snprintf(suffix, sizeof suffix, ".%s", cols[c]);
        }
        st = npy_open(base, suffix, &j->outs[c], err);
        if (st == ARD_OK) {
            st = c == j->ncols
                     ? npy_header(j->outs[c].file, "<i8", rows, -1, err)
                     : npy_header(j->outs[c].file, j->kinds[c] == ARD_FETCH_U8 ? "|u1" : "<f4",
                                  rows, j->width, err);
        }
    }
    j->started = 1;
    return st;
}

static ard_status npy_batch(npy_job *j, const ard_fetch_batch *b, const ard_plan *plan,
                            ard_error *err) {
    ard_status st = check_kinds(b, j->kinds, plan, err);
    for (int32_t c = 0; c < j->ncols && st == ARD_OK; c++) {
        const ard_pq_f32_matrix *m = &b->columns[c];
        if (m->width != j->width) {
            return ard_error_set(
                err, ARD_EINVAL,
                ".npy needs one width: column %s has %lld elements here, %lld before",
                b->column_names[c], (long long)m->width, (long long)j->width);
        }
        st = b->column_types[c] == ARD_FETCH_U8
                 ? ard_atomic_write(j->outs[c].file, b->u8_values[c], (size_t)(m->rows * m->width),
                                    err)
                 : ard_atomic_write(j->outs[c].file, m->values,
                                    (size_t)(m->rows * m->width) * sizeof(float), err);
    }
    if (st == ARD_OK) {
        st = ard_atomic_write(j->outs[j->ncols].file, b->targetids,
                              (size_t)b->rows * sizeof(int64_t), err);
    }
    return st;
}

static ard_status npy_finish(npy_job *j, ard_status st, ard_error *err) {
    for (int32_t c = 0; c <= j->ncols; c++) {
        if (j->outs[c].file) {
            if (st == ARD_OK) {
                st = ard_atomic_commit(j->outs[c].file, err);
            } else {
                ard_atomic_abort(j->outs[c].file);
            }
        }
        ard_free(j->outs[c].path);
    }
    return st;
}

ard_status ard__fetch_export_npy(const char *dataset, const ard_plan *plan,
                                 const char *const *columns, int32_t num_columns, int32_t threads,
                                 const char *out_path, const ard_fetch_source *source,
                                 int64_t *rows_out, ard_error *err) {
    static const char *const default_columns[] = {"FLUX"};
    if (!columns || num_columns <= 0) {
        columns = default_columns;
        num_columns = 1;
    }
    size_t n = out_path ? strlen(out_path) : 0;
    if (n < 5 || strcmp(out_path + n - 4, ".npy") != 0 || num_columns > 8) {
        return ard_error_set(err, ARD_EINVAL, "ard_fetch_to_npy: the output must end in .npy");
    }
    char base[4096];
    snprintf(base, sizeof base, "%.*s", (int)(n - 4), out_path);
    npy_job j;
    memset(&j, 0, sizeof j);
    j.ncols = num_columns;
    batch_reader f = {source, NULL, 0};
    int64_t rows = 0;
    ard_status st = reader_open(&f, dataset, plan, columns, num_columns, threads, err);
    const ard_fetch_batch *b;
    while (st == ARD_OK && (st = reader_next(&f, &b, err)) == ARD_OK) {
        if (!j.started) {
            st = npy_start(&j, base, columns, ard_plan_num_rows(plan), b, err);
        }
        st = st == ARD_OK ? npy_batch(&j, b, plan, err) : st;
        rows += b->rows;
    }
    if (st == ARD_EEOF) {
        st = j.started ? ARD_OK : npy_start(&j, base, columns, 0, NULL, err);
    }
    st = npy_finish(&j, st, err);
    reader_close(&f, st);
    if (rows_out) {
        *rows_out = st == ARD_OK ? rows : 0;
    }
    return st;
}

ard_status ard_fetch_to_npy(const char *dataset, const ard_plan *plan, const char *const *columns,
                            int32_t num_columns, int32_t threads, const char *out_path,
                            int64_t *rows_out, ard_error *err) {
    return ard__fetch_export_npy(dataset, plan, columns, num_columns, threads, out_path, NULL,
                                 rows_out, err);
}
