/* Loading catalog Parquet files (DESI zcatalog columns + TARGET_CLASS) into `galaxies`, row
 * group by row group, through the backend's bulk path, and their per-file aggregates into
 * catalog_summary / catalog_zhist (catalog_summary.c) as the rows go by. Columns absent from a
 * file are NULL; extra columns are ignored. Into an empty galaxies (a first sync), the load does
 * what `psql \copy` into a new table followed by the index builds does: the primary key is dropped
 * and built once at the end, inside the same transaction (ops->bulk_fresh), instead of being
 * maintained row by row (PostgreSQL: 8.8 -> 4.3 + 1.8 server CPU s for 6.4M rows); sync puts
 * every catalog file of such a load into one window, so a duplicate TARGETID anywhere fails the
 * window, which sync then retries file by file (the first file fresh, the others row by row).
 * With more than one sync thread, each row group is decoded on a second thread while the one
 * before it is sent (decoding was a third of the client's load time, the server idle through it),
 * and that thread also adds the row group being sent to the file's aggregates and the linkage's
 * TARGETID lists (a tenth of the sending thread's time): it reads the same decoded columns with
 * its own cursors. The order of the rows, of the aggregates' additions and of every statement is
 * the plain path's. Into PostgreSQL the rows go out column by column (bulk_columns: the binary COPY
 * rendered straight from the decoded columns); ARD_CATALOG_PLAIN in the environment keeps every
 * row on the row-by-row path (tests compare the two). */
#include "index_int.h"

#include <stdlib.h>
#include <string.h>

enum { CAT_MAX = 32 };

/* A decoded catalog column, in buffers kept across the units its slot decodes (fresh ones for every
 * 914k-row row group cost the client a fifth of its CPU in first-touch page faults). */
typedef struct cat_col {
    int32_t leaf; /* -1: absent */
    ard_pq_column_buffers buf;
} cat_col;

/* A pass over a row group's rows: the next value of each column (a nullable column's values
 * skip its nulls) and the text of the current row. The sender and the aggregates each have one. */
typedef struct cat_cursor {
    int64_t next[CAT_MAX];
    ard_buf scratch;
} cat_cursor;

static ard_status read_group(const ard_parquet_file *pq, int32_t rg, cat_col *cols,
                             int64_t *data_reads, ard_error *err) {
    for (int32_t c = 0; c < ard__num_catalog_columns; c++) {
        memset(&cols[c].buf.col, 0, sizeof cols[c].buf.col);
        if (cols[c].leaf < 0) {
            continue;
        }
        (*data_reads)++;
        ard_status st = ard_parquet_read_column_kept(pq, rg, cols[c].leaf, &cols[c].buf, err);
        if (st != ARD_OK) {
            return st;
        }
        if (cols[c].buf.col.max_rep > 0) {
            return ard_error_set(err, ARD_ECORRUPT, "%s: catalog column %s is repeated",
                                 ard_parquet_path(pq), ard__catalog_columns[c].parquet);
        }
    }
    return ARD_OK;
}

/* Value of row r of column c into v (text goes through scratch, NUL-terminated); *next is the
 * column's next value. */
static ard_status cell(const cat_col *col, int64_t *next, int64_t r, idx_value *v, ard_buf *scratch,
                       ard_error *err) {
    const ard_pq_column_data *d = &col->buf.col;
    memset(v, 0, sizeof *v);
    if (col->leaf < 0 || (d->def_levels && d->def_levels[r] < d->max_def)) {
        return ARD_OK;
    }
    int64_t i = (*next)++;
    if (i >= d->num_values) {
        return ard_error_set(err, ARD_ECORRUPT, "catalog column has fewer values than rows");
    }
    switch (d->type) {
    case ARD_PQ_BOOLEAN:
        *v = (idx_value){IDX_INT, ((const uint8_t *)d->values)[i], 0, NULL};
        break;
    case ARD_PQ_INT32:
        *v = (idx_value){IDX_INT, ((const int32_t *)d->values)[i], 0, NULL};
        break;
    case ARD_PQ_INT64:
        *v = (idx_value){IDX_INT, ((const int64_t *)d->values)[i], 0, NULL};
        break;
    case ARD_PQ_FLOAT:
        *v = (idx_value){IDX_DOUBLE, 0, ((const float *)d->values)[i], NULL};
        break;
    case ARD_PQ_DOUBLE:
        *v = (idx_value){IDX_DOUBLE, 0, ((const double *)d->values)[i], NULL};
        break;
    case ARD_PQ_BYTE_ARRAY:
    case ARD_PQ_FIXED_LEN_BYTE_ARRAY: {
        const uint8_t *p = d->type == ARD_PQ_BYTE_ARRAY
                               ? d->data + d->offsets[i]
                               : (const uint8_t *)d->values + i * d->type_length;
        size_t n = d->type == ARD_PQ_BYTE_ARRAY ? (size_t)(d->offsets[i + 1] - d->offsets[i])
                                                : (size_t)d->type_length;
        size_t at = scratch->len;
        if (scratch->cap - at < n + 1 && ard_buf_reserve(scratch, n + 1) != 0) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        memcpy(scratch->data + at, p, n); /* and its NUL: one reservation, not two appends */
        scratch->data[at + n] = '\0';
        scratch->len = at + n + 1;
        v->type = IDX_TEXT;
        v->i = (int64_t)at; /* offset into scratch; resolved after the row is complete */
        break;
    }
    default:
        return ARD_OK; /* INT96: no meaning in the catalog */
    }
    return ARD_OK;
}

/* Row r of a row group into v[0..n) (v[n]: the file id), through cursor k; rows are read in order.
 * Only the columns marked in `read` (NULL: all) are converted, the others are NULL. */
static ard_status row_values(const ard_parquet_file *pq, int32_t rg, const cat_col *cols,
                             const uint8_t *read, cat_cursor *k, int64_t r, int64_t file_id,
                             idx_value *v, ard_error *err) {
    int32_t n = ard__num_catalog_columns;
    ard_status st = ARD_OK;
    k->scratch.len = 0;
    for (int32_t c = 0; c < n && st == ARD_OK; c++) {
        if (read && !read[c]) {
            memset(&v[c], 0, sizeof v[c]);
            continue;
        }
        st = cell(&cols[c], &k->next[c], r, &v[c], &k->scratch, err);
    }
    for (int32_t c = 0; c < n && st == ARD_OK; c++) {
        if (v[c].type == IDX_TEXT) {
            v[c].s = (const char *)k->scratch.data + v[c].i;
        }
    }
    v[n] = (idx_value){IDX_INT, file_id, 0, NULL};
    if (st == ARD_OK && v[0].type != IDX_INT) {
        st = ard_error_set(err, ARD_ECORRUPT, "%s: row group %d row %lld: TARGETID is null",
                           ard_parquet_path(pq), rg, (long long)r);
    }
    return st;
}

/* What is done with each row of a row group, in row order: v[0..n] as row_values gives it. */
typedef ard_status (*row_fn)(void *ctx, const idx_value *v, ard_error *err);

/* Runs fn over every row of a row group (the columns marked in `read`, NULL: all). Reads the decoded
 * columns only, so the sender and the aggregating thread can each walk the same row group at once
 * (each with its own cursor). */
static ard_status each_row(const ard_parquet_file *pq, int32_t rg, const cat_col *cols,
                           const uint8_t *read, int64_t file_id, row_fn fn, void *ctx,
                           ard_error *err) {
    int64_t rows = ard_parquet_metadata(pq)->row_groups[rg].num_rows;
    idx_value v[CAT_MAX + 1];
    cat_cursor k;
    memset(&k, 0, sizeof k);
    ard_buf_init(&k.scratch);
    ard_status st = ARD_OK;
    for (int64_t r = 0; r < rows && st == ARD_OK; r++) {
        st = row_values(pq, rg, cols, read, &k, r, file_id, v, err);
        st = st == ARD_OK ? fn(ctx, v, err) : st;
    }
    ard_buf_reset(&k.scratch);
    return st;
}

static ard_status send_row(void *ctx, const idx_value *v, ard_error *err) {
    ard_index *idx = ctx;
    return idx->be->ops->bulk_row(idx->be, v, err);
}

/* The decoded column as the backend's bulk_columns takes it; 0 when row_values would read it
 * differently (values missing for some rows, levels short of the rows): the row path then sends
 * the row group, and reports what is wrong where it meets it. */
static int to_column(const cat_col *col, int64_t rows, idx_column *out) {
    const ard_pq_column_data *d = &col->buf.col;
    memset(out, 0, sizeof *out);
    if (col->leaf < 0) {
        return 1; /* IDX_COL_NULL */
    }
    int64_t present = rows;
    if (d->def_levels) {
        if (d->num_levels < rows) {
            return 0;
        }
        present = 0;
        for (int64_t r = 0; r < rows; r++) {
            present += d->def_levels[r] >= d->max_def;
        }
    }
    if (present > d->num_values) {
        return 0;
    }
    const int16_t *def = present < rows ? d->def_levels : NULL; /* NULL: no row is NULL */
    static const int32_t kinds[] = {[ARD_PQ_BOOLEAN] = IDX_COL_BOOL,
                                    [ARD_PQ_INT32] = IDX_COL_INT32,
                                    [ARD_PQ_INT64] = IDX_COL_INT64,
                                    [ARD_PQ_FLOAT] = IDX_COL_FLOAT,
                                    [ARD_PQ_DOUBLE] = IDX_COL_DOUBLE,
                                    [ARD_PQ_BYTE_ARRAY] = IDX_COL_TEXT,
                                    [ARD_PQ_FIXED_LEN_BYTE_ARRAY] = IDX_COL_FIXED};
    int known = d->type >= 0 && (size_t)d->type < sizeof kinds / sizeof kinds[0];
    *out = (idx_column){known ? kinds[d->type] : IDX_COL_NULL, /* INT96: NULL, as in cell() */
                        d->type_length,
                        d->max_def,
                        def,
                        d->values,
                        d->offsets,
                        d->data,
                        0};
    return 1;
}

/* Sends a row group's rows: column by column when the backend can (bulk_columns), else row by row
 * (the plain path; `plain` forces it). */
static ard_status load_group(ard_index *idx, const ard_parquet_file *pq, int32_t rg,
                             const cat_col *cols, int64_t file_id, int plain, ard_error *err) {
    int64_t rows = ard_parquet_metadata(pq)->row_groups[rg].num_rows;
    int32_t n = ard__num_catalog_columns;
    idx_column cc[CAT_MAX + 1];
    int direct = !plain && idx->be->ops->bulk_columns;
    for (int32_t c = 0; c < n && direct; c++) {
        direct = to_column(&cols[c], rows, &cc[c]);
    }
    /* a TARGETID that is not an integer or is NULL somewhere: the row path's error */
    direct = direct && (cc[0].kind == IDX_COL_INT32 || cc[0].kind == IDX_COL_INT64) && !cc[0].def;
    if (direct) {
        cc[n] = (idx_column){IDX_COL_CONST, 0, 0, NULL, NULL, NULL, NULL, file_id};
        ard_status st = idx->be->ops->bulk_columns(idx->be, cc, rows, err);
        if (st != ARD_ENOTSUP) {
            return st;
        }
    }
    return each_row(pq, rg, cols, NULL, file_id, send_row, idx, err);
}

/* A text column's codes (idx_text_codes) and what builds them: an open-addressing table of the
 * distinct values. The code array is kept across row groups (no fresh pages per row group). */
typedef struct text_dict {
    int32_t *code;
    int64_t code_cap;
    char **names;
    size_t *lens;
    uint64_t *hashes;
    int32_t count, names_cap, null_code;
    int32_t *slots; /* code + 1, 0 = empty; slots_cap a power of two */
    int64_t slots_cap;
} text_dict;

static void dict_clear(text_dict *d) {
    for (int32_t k = 0; k < d->count; k++) {
        ard_free(d->names[k]);
    }
    d->count = 0;
    d->null_code = -1;
    if (d->slots) {
        memset(d->slots, 0, (size_t)d->slots_cap * sizeof *d->slots);
    }
}

static void dict_free(text_dict *d) {
    dict_clear(d);
    ard_free(d->code);
    ard_free(d->names);
    ard_free(d->lens);
    ard_free(d->hashes);
    ard_free(d->slots);
    memset(d, 0, sizeof *d);
}

/* Room for one more entry (and its slot, the table at most half full); -1 when out of memory. */
static int dict_grow(text_dict *d) {
    if (d->count == d->names_cap) {
        int32_t cap = d->names_cap ? d->names_cap * 2 : 64;
        char **names = ard_realloc(d->names, (size_t)cap * sizeof *names);
        d->names = names ? names : d->names;
        size_t *lens = names ? ard_realloc(d->lens, (size_t)cap * sizeof *lens) : NULL;
        d->lens = lens ? lens : d->lens;
        uint64_t *hashes = lens ? ard_realloc(d->hashes, (size_t)cap * sizeof *hashes) : NULL;
        d->hashes = hashes ? hashes : d->hashes;
        if (!hashes) {
            return -1;
        }
        d->names_cap = cap;
    }
    if ((int64_t)(d->count + 1) * 2 <= d->slots_cap) {
        return 0;
    }
    int64_t cap = d->slots_cap ? d->slots_cap * 2 : 256;
    int32_t *slots = ard_calloc((size_t)cap, sizeof *slots);
    if (!slots) {
        return -1;
    }
    for (int32_t k = 0; k < d->count; k++) {
        if (d->names[k]) {
            uint64_t at = d->hashes[k] & (uint64_t)(cap - 1);
            while (slots[at]) {
                at = (at + 1) & (uint64_t)(cap - 1);
            }
            slots[at] = k + 1;
        }
    }
    ard_free(d->slots);
    d->slots = slots;
    d->slots_cap = cap;
    return 0;
}

/* The code of text s[0..n) (a new entry when first seen); -1 when out of memory. */
static int32_t dict_code(text_dict *d, const uint8_t *s, size_t n) {
    uint64_t h = ard_hash_bytes(s, n);
    uint64_t mask = (uint64_t)d->slots_cap - 1, at = h & mask;
    for (; d->slots_cap && d->slots[at]; at = (at + 1) & mask) {
        int32_t k = d->slots[at] - 1;
        if (d->hashes[k] == h && d->lens[k] == n && memcmp(d->names[k], s, n) == 0) {
            return k;
        }
    }
    if (dict_grow(d) != 0) {
        return -1;
    }
    char *name = ard_malloc(n + 1);
    if (!name) {
        return -1;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    int32_t k = d->count++;
    d->names[k] = name;
    d->lens[k] = n;
    d->hashes[k] = h;
    mask = (uint64_t)d->slots_cap - 1;
    for (at = h & mask; d->slots[at]; at = (at + 1) & mask) {
    }
    d->slots[at] = k + 1;
    return k;
}

/* Rows [0, rows) of a text column (IDX_COL_TEXT, IDX_COL_FIXED or IDX_COL_NULL) as codes;
 * ARD_ENOMEM. */
static ard_status dict_build(text_dict *d, const idx_column *c, int64_t rows, idx_text_codes *out,
                             ard_error *err) {
    dict_clear(d);
    if (d->code_cap < rows) {
        ard_free(d->code);
        d->code = ard_malloc((size_t)rows * sizeof *d->code);
        d->code_cap = d->code ? rows : 0;
        ard_advise_huge(d->code, (size_t)d->code_cap * sizeof *d->code);
    }
    if (rows > 0 && !d->code) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    int64_t j = 0;
    for (int64_t r = 0; r < rows; r++) {
        int32_t k;
        if (c->kind == IDX_COL_NULL || (c->def && c->def[r] < c->max_def)) {
            if (d->null_code < 0 && dict_grow(d) == 0) {
                d->null_code = d->count;
                d->names[d->count++] = NULL; /* never in a slot */
            }
            k = d->null_code;
        } else {
            size_t n;
            const uint8_t *p = ard__column_text(c, j++, &n);
            k = dict_code(d, p, n);
        }
        if (k < 0) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        d->code[r] = k;
    }
    *out = (idx_text_codes){d->code, d->names, d->count};
    return ARD_OK;
}

typedef struct aggregate_ctx {
    idx_cat_tids *tids;
    idx_cat_summary *summary;
} aggregate_ctx;

static ard_status aggregate_row(void *ctx, const idx_value *v, ard_error *err) {
    aggregate_ctx *a = ctx;
    ard__cat_tids_add(a->tids, v);
    return ard__cat_summary_add(a->summary, v, err);
}

/* The aggregates of a row group from its columns given whole, the class and spectype columns as
 * codes; 0 when a column they read has a shape the row path reads differently (a number for a
 * class, a TARGETID not an integer or NULL), which then adds the rows. */
static int aggregate_columns(idx_cat_tids *tids, const ard_parquet_file *pq, int32_t rg,
                             const cat_col *cols, idx_cat_summary *summary, text_dict dicts[2],
                             ard_status *st, ard_error *err) {
    int64_t rows = ard_parquet_metadata(pq)->row_groups[rg].num_rows;
    uint8_t read[CAT_MAX] = {0};
    ard__cat_summary_columns(read);
    ard__cat_tids_columns(read);
    idx_column cc[CAT_MAX];
    int32_t text[2] = {ard__catalog_column("target_class"), ard__catalog_column("spectype")};
    for (int32_t c = 0; c < ard__num_catalog_columns; c++) {
        memset(&cc[c], 0, sizeof cc[c]);
        if (read[c] && !to_column(&cols[c], rows, &cc[c])) {
            return 0;
        }
    }
    if (text[0] < 0 || text[1] < 0 ||
        (cc[0].kind != IDX_COL_INT32 && cc[0].kind != IDX_COL_INT64) || cc[0].def) {
        return 0;
    }
    idx_text_codes codes[2];
    for (int i = 0; i < 2; i++) {
        int32_t k = cc[text[i]].kind;
        if (k != IDX_COL_TEXT && k != IDX_COL_FIXED && k != IDX_COL_NULL) {
            return 0;
        }
    }
    *st = dict_build(&dicts[0], &cc[text[0]], rows, &codes[0], err);
    if (*st == ARD_OK) {
        *st = dict_build(&dicts[1], &cc[text[1]], rows, &codes[1], err);
    }
    if (*st == ARD_OK) {
        ard__cat_tids_add_rows(tids, &cc[0], &codes[0], rows);
        *st = ard__cat_summary_add_rows(summary, cc, &codes[0], &codes[1], rows, err);
    }
    return 1;
}

/* Adds a row group's rows to the file's aggregates and the linkage's TARGETID lists, in row order:
 * from the columns given whole (unless `plain`), else row by row, converting only the columns they
 * read. Reads the decoded columns only (the sender may read them meanwhile). */
static ard_status aggregate_group(idx_cat_tids *tids, const ard_parquet_file *pq, int32_t rg,
                                  const cat_col *cols, int64_t file_id, idx_cat_summary *summary,
                                  text_dict dicts[2], int plain, ard_error *err) {
    ard_status st = ARD_OK;
    if (!plain && aggregate_columns(tids, pq, rg, cols, summary, dicts, &st, err)) {
        return st;
    }
    uint8_t read[CAT_MAX] = {0};
    ard__cat_summary_columns(read);
    ard__cat_tids_columns(read);
    aggregate_ctx a = {tids, summary};
    return each_row(pq, rg, cols, read, file_id, aggregate_row, &a, err);
}

/* One row group of a catalog file, decoded (on the loader's second thread, while the previous one
 * is sent: the decode is a third of the client's load time and the server idles through it). */
typedef struct cat_unit {
    const ard_parquet_file *pq;
    int32_t rg; /* >= the file's row groups: none (a file without rows still gets its summary) */
    cat_col cols[CAT_MAX];
    int64_t data_reads;
    ard_status st;
    ard_error err;
} cat_unit;

/* Empties a unit, keeping its columns' buffers for the next unit it decodes. */
static void unit_clear(cat_unit *u) {
    u->pq = NULL;
    u->rg = 0;
    u->data_reads = 0;
    u->st = ARD_OK;
    ard_error_init(&u->err);
    for (int32_t c = 0; c < CAT_MAX; c++) {
        u->cols[c].leaf = -1;
        memset(&u->cols[c].buf.col, 0, sizeof u->cols[c].buf.col);
    }
}

static void unit_free(cat_unit *u) {
    for (int32_t c = 0; c < CAT_MAX; c++) {
        ard_pq_column_buffers_reset(&u->cols[c].buf);
    }
    unit_clear(u);
}

static void unit_decode(cat_unit *u) {
    ard_error_init(&u->err);
    for (int32_t c = 0; c < ard__num_catalog_columns; c++) {
        u->cols[c].leaf = ard_parquet_find_leaf(u->pq, ard__catalog_columns[c].parquet);
    }
    u->st = u->rg < ard_parquet_metadata(u->pq)->num_row_groups
                ? read_group(u->pq, u->rg, u->cols, &u->data_reads, &u->err)
                : ARD_OK;
}

/* The catalog files of a window as a sequence of units, loaded one while the next decodes. */
typedef struct cat_loader {
    ard_index *idx;
    sync_item *items;
    int64_t count;
    int64_t item;      /* the file of the unit being loaded */
    cat_unit units[2]; /* the unit being loaded, the next one */
    idx_cat_summary *summary;
    int64_t *galaxy_rows;
    ard_status st; /* of the unit being sent */
    ard_error err;
    ard_status agg_st; /* of its aggregates (reported when the send succeeded) */
    ard_error agg_err;
    int plain;          /* ARD_CATALOG_PLAIN set: the row-by-row paths only (tests compare them) */
    text_dict dicts[2]; /* the aggregating thread's class and spectype codes */
} cat_loader;

/* The unit after (item, rg) into u (its pq NULL when there is none). */
static void next_unit(const cat_loader *l, int64_t item, int32_t rg, cat_unit *u) {
    unit_clear(u);
    for (int64_t i = item; i < l->count; i++) {
        const sync_item *it = &l->items[i];
        if (it->st != ARD_OK || it->kind != SYNC_CATALOG) {
            continue;
        }
        int32_t n = ard_parquet_metadata(it->pq)->num_row_groups;
        int32_t next = i == item ? rg + 1 : 0;
        if (next < n || (next == 0 && n == 0)) {
            u->pq = it->pq;
            u->rg = next;
            return;
        }
    }
}

/* Starts a file's COPY; after a failure nothing of it is left open. */
static ard_status file_begin(cat_loader *l, const ard_parquet_file *pq, ard_error *err) {
    const char *names[CAT_MAX + 1];
    int32_t n = ard__num_catalog_columns;
    for (int32_t c = 0; c < n; c++) {
        names[c] = ard__catalog_columns[c].name;
    }
    names[n] = "catalog_file_id";
    if (ard_parquet_find_leaf(pq, ard__catalog_columns[0].parquet) < 0) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: catalog without a TARGETID column",
                             ard_parquet_path(pq));
    }
    ard_status st = ard__cat_summary_new(&l->summary, err);
    if (st != ARD_OK) {
        return st;
    }
    st = l->idx->be->ops->bulk_begin(l->idx->be, "galaxies", names, n + 1, err);
    if (st != ARD_OK) {
        l->idx->be->ops->bulk_end(l->idx->be, NULL);
        ard__cat_summary_free(l->summary);
        l->summary = NULL;
    }
    return st;
}

/* Ends the file's COPY (aborting it when st says the load failed) and writes its aggregates, in
 * the same transaction as its rows. */
static ard_status file_end(cat_loader *l, const sync_item *it, ard_status st, ard_error *err) {
    ard_status end = l->idx->be->ops->bulk_end(l->idx->be, st == ARD_OK ? err : NULL);
    st = st != ARD_OK ? st : end;
    if (st == ARD_OK) {
        st = ard__cat_summary_write(l->idx, l->summary, it->new_id, err);
    }
    *l->galaxy_rows += st == ARD_OK ? ard_parquet_metadata(it->pq)->num_rows : 0;
    ard__cat_summary_free(l->summary);
    l->summary = NULL;
    return st;
}

/* Before the first unit is sent: task 0 reads the linkage's spectra TARGETIDs when sync allows it
 * now (ard__cat_tids_settle: the server would otherwise idle through the first decode, and read
 * them between the index builds), task 1 decodes the first unit. */
static void first_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    cat_loader *l = arg;
    idx_cat_tids *tids = l->idx->cat_tids;
    if (i == 0 && ard__cat_tids_active(tids) && ard__cat_tids_settled(tids)) {
        l->st = ard__cat_tids_prepare(l->idx, tids, &l->err);
    } else if (i == 1 && l->units[0].pq) {
        unit_decode(&l->units[0]);
    }
}

/* Task 0 sends units[0] (the connection's only user meanwhile); task 1 adds units[0] to the
 * aggregates, then decodes units[1]. */
static void loader_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    cat_loader *l = arg;
    cat_unit *u = &l->units[0];
    const sync_item *it = &l->items[l->item];
    int rows = u->st == ARD_OK && u->rg < ard_parquet_metadata(u->pq)->num_row_groups;
    if (i == 1) {
        l->agg_st = rows ? aggregate_group(l->idx->cat_tids, u->pq, u->rg, u->cols, it->new_id,
                                           l->summary, l->dicts, l->plain, &l->agg_err)
                         : ARD_OK;
        if (l->units[1].pq) {
            unit_decode(&l->units[1]);
        }
        return;
    }
    l->st = u->st;
    if (u->st != ARD_OK) {
        l->err = u->err;
    } else if (rows) {
        l->st = load_group(l->idx, u->pq, u->rg, u->cols, it->new_id, l->plain, &l->err);
    }
}

/* Loads the window's catalog files unit by unit; with a pool, each unit's aggregates and the next
 * unit's decode overlap its send (without, the same steps run one after the other: the plain
 * path). */
static ard_status load_files(ard_index *idx, sync_item *items, int64_t count, ard_pool *pool,
                             int64_t *galaxy_rows, int64_t *data_reads, ard_error *err) {
    cat_loader *l = ard_calloc(1, sizeof *l);
    if (!l) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    l->idx = idx;
    l->items = items;
    l->count = count;
    l->galaxy_rows = galaxy_rows;
    l->plain = getenv("ARD_CATALOG_PLAIN") != NULL;
    next_unit(l, 0, -1, &l->units[0]);
    ard_error_init(&l->err);
    if (pool) {
        ard_pool_for(pool, 2, first_task, l);
    } else {
        first_task(l, 0, 0);
        first_task(l, 1, 0);
    }
    ard_status st = l->st;
    if (st != ARD_OK) {
        *err = l->err;
    }
    while (st == ARD_OK && l->units[0].pq) {
        cat_unit *u = &l->units[0];
        while (items[l->item].pq != u->pq) {
            l->item++;
        }
        if (u->rg == 0 && (st = file_begin(l, u->pq, err)) != ARD_OK) {
            break;
        }
        next_unit(l, l->item, u->rg, &l->units[1]);
        ard_error_init(&l->err);
        ard_error_init(&l->agg_err);
        if (pool) {
            ard_pool_for(pool, 2, loader_task, l);
        } else {
            loader_task(l, 0, 0);
            loader_task(l, 1, 0);
        }
        st = l->st != ARD_OK ? l->st : l->agg_st;
        if (st != ARD_OK) {
            *err = l->st != ARD_OK ? l->err : l->agg_err;
        }
        *data_reads += u->data_reads;
        if (st != ARD_OK || u->rg + 1 >= ard_parquet_metadata(u->pq)->num_row_groups) {
            st = file_end(l, &items[l->item], st, err); /* the file's last unit, or a failure */
        }
        cat_unit sent = l->units[0]; /* its buffers decode the unit after the next one */
        l->units[0] = l->units[1];
        l->units[1] = sent;
        unit_clear(&l->units[1]);
    }
    unit_free(&l->units[0]);
    unit_free(&l->units[1]);
    dict_free(&l->dicts[0]);
    dict_free(&l->dicts[1]);
    ard_free(l);
    return st;
}

/* 1 when galaxies holds no row (read inside the writer's transaction, which serialises writers). */
static ard_status galaxies_empty(ard_index *idx, int64_t *empty, ard_error *err) {
    return ard__idx_int(idx, "SELECT CASE WHEN EXISTS (SELECT 1 FROM galaxies) THEN 0 ELSE 1 END",
                        empty, err);
}

ard_status ard__sync_catalog_files(ard_index *idx, sync_item *items, int64_t count,
                                   int64_t *galaxy_rows, int64_t *data_reads, ard_error *err) {
    const idx_backend_ops *ops = idx->be->ops;
    int64_t empty = 0;
    ard_status st = galaxies_empty(idx, &empty, err);
    if (st == ARD_OK && empty) { /* the rows' TARGETIDs are kept for the linkage count */
        ard__cat_tids_start(idx->cat_tids);
    }
    int64_t rows = 0; /* the lists sized once for the window (the footers know its rows) */
    for (int64_t i = 0; i < count; i++) {
        const sync_item *it = &items[i];
        rows += it->st == ARD_OK && it->kind == SYNC_CATALOG
                    ? ard_parquet_metadata(it->pq)->num_rows
                    : 0;
    }
    ard__cat_tids_reserve(idx->cat_tids, rows);
    int64_t fresh = empty && ops->bulk_fresh;
    if (st == ARD_OK && fresh) {
        st = ops->bulk_fresh(idx->be, "galaxies", "targetid", 1, err);
    }
    ard_pool *pool = NULL; /* a second thread decodes ahead (ard_pool_for is not re-entrant) */
    if (st == ARD_OK && idx->sync_threads > 1 && ard_pool_new(2, &pool, NULL) != ARD_OK) {
        pool = NULL;
    }
    if (st == ARD_OK) {
        st = load_files(idx, items, count, pool, galaxy_rows, data_reads, err);
    }
    ard_pool_free(pool);
    if (fresh) { /* the key, built once over the sorted rows; a duplicate fails the window */
        ard_status key = ops->bulk_fresh(idx->be, "galaxies", "targetid", st == ARD_OK ? 2 : 0,
                                         st == ARD_OK ? err : NULL);
        st = st == ARD_OK ? key : st;
    }
    if (st != ARD_OK) {
        ard__cat_tids_drop(idx->cat_tids);
    }
    return st;
}
