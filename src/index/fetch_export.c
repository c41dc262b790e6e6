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

/* ---- Parquet ---- */

/* The columns of a Parquet export and their kinds, from the first planned tile (NULL: none). */
typedef struct pq_cols {
    const char *names[8];
    int32_t kinds[8];
    int32_t count;
} pq_cols;

static ard_status resolve_columns(const ard_parquet_file *first, const char *const *columns,
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
        int32_t leaf = first ? ard__fetch_list_leaf(first, name ? name : "") : -1;
        if (first && defaults && leaf < 0) {
            continue; /* the full tile schema: only the columns the tiles have */
        }
        int32_t kind = first ? ard__fetch_leaf_kind(first, leaf) : default_kind(name);
        if (kind < 0 || !name) {
            return ard_error_set(
                err, ARD_EINVAL, "%s: %s column %s", first ? ard_parquet_path(first) : "fetch",
                leaf < 0 ? "no" : "neither list<float> nor list<uint8>:", name ? name : "(null)");
        }
        out->names[out->count] = name;
        out->kinds[out->count++] = kind;
    }
    if (out->count == 0) {
        return ard_error_set(err, ARD_EINVAL, "%s: none of FLUX, IVAR, MASK",
                             first ? ard_parquet_path(first) : "fetch");
    }
    return ARD_OK;
}

static ard_status add_columns(ard_pq_schema_builder *sb, const pq_cols *cols, ard_error *err) {
    ard_pq_logical u8;
    memset(&u8, 0, sizeof u8);
    u8.kind = ARD_PQ_LT_INTEGER;
    u8.bit_width = 8;
    u8.is_signed = 0;
    int32_t id =
        ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, err);
    ard_status st = id < 0 ? ARD_EINVAL : ard_pq_schema_set_sorted(sb, id, 1, err);
    for (int32_t c = 0; c < cols->count && st == ARD_OK; c++) {
        int32_t col = cols->kinds[c] == ARD_FETCH_U8
                          ? ard_pq_schema_add_list(sb, cols->names[c], ARD_PQ_INT32,
                                                   ARD_PQ_REQUIRED, ARD_PQ_REQUIRED, &u8, err)
                          : ard_pq_schema_add_list(sb, cols->names[c], ARD_PQ_FLOAT,
                                                   ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, err);
        st = col < 0 ? ARD_EINVAL : ARD_OK;
    }
    return st;
}

/* Opens the writer: the tile schema for `cols`, the first tile's grid and version carried over. */
static ard_status open_writer(const ard_parquet_file *first, const pq_cols *cols,
                              const char *out_path, ard_pq_writer **w, ard_error *err) {
    ard_pq_schema_builder *sb = NULL;
    ard_status st = ard_pq_schema_new(&sb, err);
    if (st == ARD_OK) {
        st = add_columns(sb, cols, err);
    }
    const char *keys[2] = {"ard.grid", "ard.version"};
    const char *kv_keys[2], *kv_vals[2];
    int32_t nkv = 0;
    for (int i = 0; i < 2 && first; i++) {
        const char *v = ard_parquet_kv_get(first, keys[i]);
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
    if (st == ARD_OK) {
        st = ard_pq_writer_open(out_path, sb, &o, w, err);
    }
    ard_pq_schema_free(sb);
    return st;
}

static ard_status write_batch_parquet(ard_pq_writer *w, const ard_fetch_batch *b, ard_error *err) {
    ard_status st = ard_pq_writer_write_column(w, 0, b->targetids, NULL, b->rows, err);
    for (int32_t c = 0; c < b->num_columns && st == ARD_OK; c++) {
        const ard_pq_f32_matrix *m = &b->columns[c];
        st = b->column_types[c] == ARD_FETCH_U8
                 ? ard_pq_writer_write_list_matrix(w, c + 1, b->u8_values[c], m->rows, m->width,
                                                   NULL, NULL, err)
                 : ard_pq_writer_write_list_matrix(w, c + 1, m->values, m->rows, m->width,
                                                   m->validity, m->row_validity, err);
    }
    return st;
}

/* The first planned tile (NULL for an empty plan). */
static ard_status open_first(const char *dataset, const ard_plan *plan, ard_parquet_file **first,
                             ard_error *err) {
    *first = NULL;
    if (!dataset || !plan || ard_plan_num_files(plan) == 0) {
        return ARD_OK;
    }
    char *path = NULL;
    ard_status st = ard__plan_file_path(dataset, plan, 0, &path, err);
    if (st == ARD_OK) {
        st = ard_parquet_open(path, NULL, first, err);
    }
    ard_free(path);
    return st;
}

ard_status ard_fetch_to_parquet(const char *dataset, const ard_plan *plan,
                                const char *const *columns, int32_t num_columns, int32_t threads,
                                const char *out_path, int64_t *rows_out, ard_error *err) {
    if (!out_path) {
        return ard_error_set(err, ARD_EINVAL, "ard_fetch_to_parquet: no output path");
    }
    ard_parquet_file *first = NULL;
    ard_fetch *f = NULL;
    ard_pq_writer *w = NULL;
    int64_t rows = 0;
    pq_cols cols;
    memset(&cols, 0, sizeof cols);
    ard_status st = open_first(dataset, plan, &first, err);
    if (st == ARD_OK) {
        st = resolve_columns(first, columns, num_columns, &cols, err);
    }
    if (st == ARD_OK) {
        st = ard_fetch_open(dataset, plan, cols.names, cols.count, threads, &f, err);
    }
    if (st == ARD_OK) {
        st = open_writer(first, &cols, out_path, &w, err);
    }
    const ard_fetch_batch *b;
    while (st == ARD_OK && (st = ard_fetch_next(f, &b, err)) == ARD_OK) {
        st = check_kinds(b, cols.kinds, plan, err);
        st = st == ARD_OK ? write_batch_parquet(w, b, err) : st;
        rows += b->rows;
    }
    if (st == ARD_EEOF) {
        st = ard_pq_writer_close(w, err);
        w = NULL;
    }
    ard_pq_writer_abort(w);
    ard_fetch_close(f);
    ard_parquet_close(first);
    if (rows_out) {
        *rows_out = st == ARD_OK ? rows : 0;
    }
    return st;
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

ard_status ard_fetch_to_npy(const char *dataset, const ard_plan *plan, const char *const *columns,
                            int32_t num_columns, int32_t threads, const char *out_path,
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
    ard_fetch *f = NULL;
    int64_t rows = 0;
    ard_status st = ard_fetch_open(dataset, plan, columns, num_columns, threads, &f, err);
    const ard_fetch_batch *b;
    while (st == ARD_OK && (st = ard_fetch_next(f, &b, err)) == ARD_OK) {
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
    ard_fetch_close(f);
    if (rows_out) {
        *rows_out = st == ARD_OK ? rows : 0;
    }
    return st;
}
