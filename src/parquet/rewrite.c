/* ard_parquet_rewrite (`ard parquet convert`): every input row group read and written again with
 * ard's writer. Flat columns are copied from the decoded levels; for a list column the reader's
 * Arrow assembly (ard_parquet_read_arrow) gives the list offsets and the row and element validity,
 * and the raw decoded values (exact, whatever Arrow would convert them to) are scattered into the
 * element slots. */
#include "parquet_int.h"

#include "ard/parquet_write.h"

#include <stdio.h>
#include <string.h>

/* How one input top-level field maps to an output column. */
typedef struct rw_col {
    int32_t leaf;
    int32_t field;
    int is_list;
    int32_t width;    /* reader's stored value width (0: BYTE_ARRAY) */
    int32_t in_width; /* writer's input width */
} rw_col;

typedef struct rw_ctx {
    const ard_parquet_rewrite_options *o;
    ard_parquet_rewrite_report *rep;
} rw_ctx;

void ard_parquet_rewrite_options_init(ard_parquet_rewrite_options *opts) {
    memset(opts, 0, sizeof *opts);
    ard_pq_writer_options_init(&opts->writer);
}

static int32_t stored_width(const ard_pq_schema_node *leaf) {
    static const int32_t widths[] = {1, 4, 8, 12, 4, 8, 0, 0};
    return leaf->type == ARD_PQ_FIXED_LEN_BYTE_ARRAY ? leaf->type_length : widths[leaf->type];
}

/* The element leaf of a list field: group (LIST) { repeated group { element } }, group { repeated
 * leaf } or a bare repeated leaf; -1 for any other shape. *lrep / *erep: whether the list and the
 * element may be null. */
static int32_t list_leaf(const ard_pq_metadata *md, int32_t n, ard_pq_repetition *lrep,
                         ard_pq_repetition *erep) {
    const ard_pq_schema_node *g = &md->nodes[n];
    *lrep = ARD_PQ_REQUIRED;
    *erep = ARD_PQ_REQUIRED;
    if (g->is_leaf) { /* repeated primitive: required list of required elements */
        return g->repetition == ARD_PQ_REPEATED ? n : -1;
    }
    if (g->num_children != 1 || g->repetition == ARD_PQ_REPEATED) {
        return -1;
    }
    *lrep = g->repetition == ARD_PQ_OPTIONAL ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED;
    int32_t r = g->children[0];
    if (md->nodes[r].repetition != ARD_PQ_REPEATED) {
        return -1;
    }
    if (md->nodes[r].is_leaf) {
        return r;
    }
    int32_t e = md->nodes[r].num_children == 1 ? md->nodes[r].children[0] : -1;
    if (e < 0 || !md->nodes[e].is_leaf || md->nodes[e].repetition == ARD_PQ_REPEATED) {
        return -1;
    }
    *erep = md->nodes[e].repetition == ARD_PQ_OPTIONAL ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED;
    return e;
}

static void notice(rw_ctx *x, const char *column, const char *logical) {
    x->rep->logical_types_dropped++;
    if (x->o->on_notice) {
        char msg[300];
        snprintf(msg, sizeof msg, "column '%s': logical type %s not carried over", column, logical);
        x->o->on_notice(x->o->notice_ctx, msg);
    }
}

/* Declares output column for top-level field `field` (node n); the logical type is dropped, with a
 * notice, when the writer refuses it. */
static ard_status declare(rw_ctx *x, ard_pq_schema_builder *sb, const ard_pq_metadata *md,
                          int32_t field, int32_t n, rw_col *cc, ard_error *err) {
    const ard_pq_schema_node *f = &md->nodes[n];
    ard_pq_repetition lrep = ARD_PQ_REQUIRED, erep = ARD_PQ_REQUIRED;
    int flat = f->is_leaf && f->repetition != ARD_PQ_REPEATED;
    int32_t leaf = flat ? n : list_leaf(md, n, &lrep, &erep);
    if (leaf < 0) {
        return ard_error_set(err, ARD_ENOTSUP,
                             "parquet convert: column '%s': nested type not supported (flat "
                             "columns and lists of fixed-width primitives only)",
                             f->name);
    }
    const ard_pq_schema_node *l = &md->nodes[leaf];
    *cc =
        (rw_col){.leaf = l->leaf_index, .field = field, .is_list = !flat, .width = stored_width(l)};
    const ard_pq_logical *lt = l->logical.kind == ARD_PQ_LT_NONE ? NULL : &l->logical;
    for (int attempt = 0; attempt < 2; attempt++) {
        ard_status st;
        if (flat) {
            st = ard_pq_schema_add_column(sb, f->name, l->type, f->repetition, lt, l->type_length,
                                          NULL, err);
        } else if (l->type == ARD_PQ_FIXED_LEN_BYTE_ARRAY) {
            st = ard_pq_schema_add_list_fixed(sb, f->name, l->type_length, lrep, erep, lt, NULL,
                                              err);
        } else {
            st = ard_pq_schema_add_list(sb, f->name, l->type, lrep, erep, lt, NULL, err);
        }
        if (st == ARD_OK) {
            int narrow = l->type == ARD_PQ_INT32 && lt && lt->kind == ARD_PQ_LT_INTEGER &&
                         lt->bit_width < 32;
            cc->in_width = narrow ? lt->bit_width / 8 : cc->width;
            return ARD_OK;
        }
        if (!lt || st != ARD_EINVAL) {
            return st;
        }
        notice(x, f->name, ard_pq_logical_name(lt->kind));
        ard_error_init(err);
        lt = NULL;
    }
    return ard_error_set(err, ARD_EINVAL, "parquet convert: column '%s' cannot be declared",
                         f->name);
}

static void set_bit(uint8_t *bits, int64_t i) {
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static int bit(const uint8_t *bits, int64_t i) {
    return !bits || (bits[i >> 3] >> (i & 7)) & 1;
}

/* Scatters the present values of cd into `slots` slots whose validity is `valid` (NULL: all
 * valid): fixed-width values at the writer's input width (narrowing INT(8/16): little-endian low
 * bytes) into values, BYTE_ARRAY values as slot offsets into cd->data. */
static ard_status scatter(const rw_col *cc, const ard_pq_column_data *cd, const uint8_t *valid,
                          int64_t slots, uint8_t *values, int64_t *offsets, ard_error *err) {
    int64_t vi = 0;
    if (offsets) {
        offsets[0] = 0;
    }
    for (int64_t k = 0; k < slots; k++) {
        if (bit(valid, k)) {
            if (vi >= cd->num_values) {
                return ard_error_set(err, ARD_ECORRUPT,
                                     "parquet convert: column %d: more slots "
                                     "than values",
                                     (int)cc->field);
            }
            if (cc->width) {
                memcpy(values + k * cc->in_width, (const uint8_t *)cd->values + vi * cc->width,
                       (size_t)cc->in_width);
            }
            vi++;
        }
        if (offsets) {
            offsets[k + 1] = cd->offsets[vi];
        }
    }
    return vi == cd->num_values
               ? ARD_OK
               : ard_error_set(err, ARD_ECORRUPT,
                               "parquet convert: column %d: value count mismatch", (int)cc->field);
}

static ard_status write_flat(ard_pq_writer *w, int32_t col, const rw_col *cc,
                             const ard_pq_column_data *cd, ard_error *err) {
    int64_t rows = cd->num_levels;
    uint8_t *valid = ard_calloc((size_t)rows / 8 + 1, 1);
    uint8_t *values = ard_calloc((size_t)rows + 1, (size_t)(cc->width ? cc->in_width : 1));
    int64_t *offsets = cc->width ? NULL : ard_calloc((size_t)rows + 1, sizeof *offsets);
    ard_status st = valid && values && (cc->width || offsets)
                        ? ARD_OK
                        : ard_error_set(err, ARD_ENOMEM, "parquet convert: out of memory");
    for (int64_t r = 0; st == ARD_OK && r < rows; r++) {
        if (!cd->def_levels || cd->def_levels[r] == cd->max_def) {
            set_bit(valid, r);
        }
    }
    if (st == ARD_OK) {
        st = scatter(cc, cd, valid, rows, values, offsets, err);
    }
    const uint8_t *v = cd->max_def > 0 ? valid : NULL;
    if (st == ARD_OK) {
        st = cc->width ? ard_pq_writer_write_column(w, col, values, v, rows, err)
                       : ard_pq_writer_write_binary(w, col, offsets, cd->data, v, rows, err);
    }
    ard_free(valid);
    ard_free(values);
    ard_free(offsets);
    return st;
}

/* A list column: offsets and validity from the reader's Arrow assembly of the field, values from
 * the decoded leaf. */
static ard_status write_list(ard_pq_writer *w, int32_t col, const rw_col *cc,
                             const ard_parquet_file *in, int32_t rg, const ard_pq_column_data *cd,
                             ard_error *err) {
    struct ArrowSchema schema;
    struct ArrowArray batch;
    ard_status st = ard_parquet_read_arrow(in, rg, &cc->field, 1, &schema, &batch, err);
    if (st != ARD_OK) {
        return st;
    }
    const struct ArrowArray *list = batch.children[0];
    const struct ArrowArray *elem = list->n_children == 1 ? list->children[0] : NULL;
    const char *fmt = schema.children[0]->format;
    if (!elem || strcmp(fmt, "+l") != 0 || list->offset != 0 || elem->offset != 0) {
        st = ard_error_set(err, ARD_ENOTSUP, "parquet convert: column %d: list layout \"%s\"",
                           (int)col, fmt);
    }
    int64_t rows = st == ARD_OK ? list->length : 0, n = st == ARD_OK ? elem->length : 0;
    int64_t *loffs = ard_malloc(((size_t)rows + 1) * sizeof *loffs);
    uint8_t *values = ard_calloc((size_t)n + 1, (size_t)(cc->width ? cc->in_width : 1));
    int64_t *eoffs = cc->width ? NULL : ard_malloc(((size_t)n + 1) * sizeof *eoffs);
    if (st == ARD_OK && (!loffs || !values || (!cc->width && !eoffs))) {
        st = ard_error_set(err, ARD_ENOMEM, "parquet convert: out of memory");
    }
    const uint8_t *lvalid = st == ARD_OK && list->null_count != 0 ? list->buffers[0] : NULL;
    /* an Arrow null array ("n", Parquet UNKNOWN) has no buffers: every element is null */
    uint8_t *all_null =
        st == ARD_OK && elem->n_buffers == 0 ? ard_calloc((size_t)n / 8 + 1, 1) : NULL;
    const uint8_t *evalid = all_null;
    if (st == ARD_OK && elem->n_buffers > 0 && elem->null_count != 0) {
        evalid = elem->buffers[0];
    } else if (st == ARD_OK && elem->n_buffers == 0 && !all_null) {
        st = ard_error_set(err, ARD_ENOMEM, "parquet convert: out of memory");
    }
    for (int64_t r = 0; st == ARD_OK && r <= rows; r++) {
        loffs[r] = ((const int32_t *)list->buffers[1])[r];
    }
    if (st == ARD_OK) {
        st = scatter(cc, cd, evalid, n, values, eoffs, err);
    }
    if (st == ARD_OK) {
        st = cc->width ? ard_pq_writer_write_list(w, col, loffs, values, evalid, lvalid, rows, err)
                       : ard_pq_writer_write_list_binary(w, col, loffs, eoffs, cd->data, evalid,
                                                         lvalid, rows, err);
    }
    ard_free(loffs);
    ard_free(values);
    ard_free(eoffs);
    ard_free(all_null);
    batch.release(&batch);
    schema.release(&schema);
    return st;
}

static ard_status copy_row_group(const ard_parquet_file *in, ard_pq_writer *w, const rw_col *cols,
                                 int32_t ncols, int32_t rg, ard_error *err) {
    ard_status st = ARD_OK;
    for (int32_t i = 0; i < ncols && st == ARD_OK; i++) {
        ard_pq_column_data cd;
        memset(&cd, 0, sizeof cd);
        st = ard_parquet_read_column(in, rg, cols[i].leaf, &cd, err);
        if (st == ARD_OK) {
            st = cols[i].is_list ? write_list(w, i, &cols[i], in, rg, &cd, err)
                                 : write_flat(w, i, &cols[i], &cd, err);
        }
        ard_pq_column_data_reset(&cd);
    }
    return st;
}

/* Declares every column and opens the writer with the input's key-value metadata. */
static ard_status open_output(rw_ctx *x, const ard_parquet_file *in, const char *out_path,
                              rw_col *cols, ard_pq_writer **w, ard_error *err) {
    const ard_pq_metadata *md = ard_parquet_metadata(in);
    const ard_pq_schema_node *root = &md->nodes[0];
    ard_pq_schema_builder *sb = NULL;
    const char **keys = ard_calloc((size_t)md->num_kv + 1, sizeof *keys);
    const char **vals = ard_calloc((size_t)md->num_kv + 1, sizeof *vals);
    ard_status st = keys && vals ? ard_pq_schema_new(&sb, err)
                                 : ard_error_set(err, ARD_ENOMEM, "parquet convert: out of memory");
    for (int32_t i = 0; st == ARD_OK && i < root->num_children; i++) {
        st = declare(x, sb, md, i, root->children[i], &cols[i], err);
    }
    for (int32_t i = 0; st == ARD_OK && i < md->num_kv; i++) {
        keys[i] = md->kv[i].key;
        vals[i] = md->kv[i].value;
    }
    ard_pq_writer_options wo = x->o->writer;
    wo.num_kv = md->num_kv;
    wo.kv_keys = keys;
    wo.kv_values = vals;
    if (st == ARD_OK) {
        st = ard_pq_writer_open(out_path, sb, &wo, w, err);
    }
    ard_pq_schema_free(sb);
    ard_free(keys);
    ard_free(vals);
    return st;
}

ard_status ard_parquet_rewrite(const char *in_path, const char *out_path,
                               const ard_parquet_rewrite_options *opts,
                               ard_parquet_rewrite_report *report, ard_error *err) {
    ard_parquet_rewrite_options defaults;
    ard_parquet_rewrite_report scratch;
    ard_parquet_rewrite_options_init(&defaults);
    rw_ctx x = {opts ? opts : &defaults, report ? report : &scratch};
    memset(x.rep, 0, sizeof *x.rep);
    if (!in_path || !out_path) {
        return ard_error_set(err, ARD_EINVAL, "parquet convert: input and output paths required");
    }
    ard_parquet_file *in = NULL;
    ard_status st = ard_parquet_open(in_path, NULL, &in, err);
    if (st != ARD_OK) {
        return st;
    }
    const ard_pq_metadata *md = ard_parquet_metadata(in);
    int32_t ncols = md->nodes[0].num_children;
    rw_col *cols = ard_calloc((size_t)ncols + 1, sizeof *cols);
    ard_pq_writer *w = NULL;
    st = cols ? open_output(&x, in, out_path, cols, &w, err)
              : ard_error_set(err, ARD_ENOMEM, "parquet convert: out of memory");
    x.rep->columns = ncols;
    for (int32_t rg = 0; st == ARD_OK && rg < md->num_row_groups; rg++) {
        st = copy_row_group(in, w, cols, ncols, rg, err);
        x.rep->row_groups_in = rg + 1;
        x.rep->rows += st == ARD_OK ? md->row_groups[rg].num_rows : 0;
        if (st == ARD_OK && x.o->on_progress) {
            x.o->on_progress(x.o->progress_ctx, rg + 1, md->num_row_groups);
        }
    }
    if (st == ARD_OK) {
        st = ard_pq_writer_close(w, err);
    } else {
        ard_pq_writer_abort(w);
    }
    ard_free(cols);
    ard_parquet_close(in);
    return st;
}
