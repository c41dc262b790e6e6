/* Record assembly: the Dremel levels of the leaves of a top-level field become Arrow arrays. A node's
 * slots are the level entries of its first leaf with rep <= R and def >= D (R, D: the repetition and
 * element-definition level of the enclosing list, 0 at top level); a slot is null when the node is
 * nullable and def < its own definition level. List offsets count the child slots between two slots. */
#include "arrow_int.h"

#include <string.h>

typedef struct arr_priv {
    void *buffers[3];
    const void *buffer_ptrs[3];
    struct ArrowArray *child_structs;
    struct ArrowArray **child_ptrs;
} arr_priv;

static void array_release(struct ArrowArray *a) {
    arr_priv *p = a->private_data;
    for (int64_t i = 0; i < a->n_children; i++) {
        if (p->child_ptrs[i]->release) {
            p->child_ptrs[i]->release(p->child_ptrs[i]);
        }
    }
    for (int i = 0; i < 3; i++) {
        ard_free(p->buffers[i]);
    }
    ard_free(p->child_structs);
    ard_free(p->child_ptrs);
    ard_free(p);
    a->release = NULL;
}

struct ArrowArray *ard__arrow_array_new(struct ArrowArray *into, int64_t n_buffers,
                                        int64_t n_children) {
    memset(into, 0, sizeof *into);
    arr_priv *p = ard_calloc(1, sizeof *p);
    if (!p) {
        return NULL;
    }
    p->child_structs = ard_calloc((size_t)n_children + 1, sizeof(struct ArrowArray));
    p->child_ptrs = ard_calloc((size_t)n_children + 1, sizeof(struct ArrowArray *));
    if (!p->child_structs || !p->child_ptrs) {
        ard_free(p->child_structs);
        ard_free(p->child_ptrs);
        ard_free(p);
        return NULL;
    }
    for (int64_t i = 0; i < n_children; i++) {
        p->child_ptrs[i] = &p->child_structs[i];
    }
    into->private_data = p;
    into->release = array_release;
    into->n_buffers = n_buffers;
    into->buffers = p->buffer_ptrs;
    into->children = p->child_ptrs;
    into->n_children = 0; /* raised as children are filled, so release frees only those */
    return into;
}

void ard__arrow_array_set_buffer(struct ArrowArray *a, int64_t i, void *buffer) {
    arr_priv *p = a->private_data;
    p->buffers[i] = buffer;
    p->buffer_ptrs[i] = buffer;
}

typedef struct assemble_ctx {
    const ard_pq_metadata *md;
    ard_pq_column_data *cols; /* indexed by leaf */
    int64_t *cursor;          /* next value per leaf */
    ard_error *err;
    const char *path;
} assemble_ctx;

static int16_t def_at(const ard_pq_column_data *c, int64_t i) {
    return c->def_levels ? c->def_levels[i] : c->max_def;
}

static int16_t rep_at(const ard_pq_column_data *c, int64_t i) {
    return c->rep_levels ? c->rep_levels[i] : 0;
}

/* Indices of the level entries that open a slot of a node under thresholds (R, D). */
static int64_t *slots_of(const ard_pq_column_data *c, int16_t R, int16_t D, int64_t *n_out) {
    int64_t *idx = ard_malloc(((size_t)c->num_levels + 1) * sizeof(int64_t));
    int64_t n = 0;
    for (int64_t i = 0; idx && i < c->num_levels; i++) {
        if (rep_at(c, i) <= R && def_at(c, i) >= D) {
            idx[n++] = i;
        }
    }
    *n_out = n;
    return idx;
}

/* Validity bitmap for slots (NULL when nothing is null). */
static ard_status validity(const anode *a, const ard_pq_column_data *c, const int64_t *idx,
                           int64_t n, struct ArrowArray *out) {
    int64_t nulls = 0;
    uint8_t *bits = NULL;
    for (int64_t k = 0; a->nullable && k < n; k++) {
        if (def_at(c, idx[k]) < a->nd) {
            if (!bits) {
                bits = ard_malloc((size_t)(n + 7) / 8 + 1);
                if (!bits) {
                    return ARD_ENOMEM;
                }
                memset(bits, 0xFF, (size_t)(n + 7) / 8 + 1);
            }
            bits[k >> 3] = (uint8_t)(bits[k >> 3] & ~(1u << (k & 7)));
            nulls++;
        }
    }
    ard__arrow_array_set_buffer(out, 0, bits);
    out->null_count = nulls;
    return ARD_OK;
}

static ard_status build(assemble_ctx *x, const anode *a, int16_t R, int16_t D,
                        struct ArrowArray *out);

static ard_status build_children(assemble_ctx *x, const anode *a, int16_t R, int16_t D,
                                 struct ArrowArray *out) {
    for (int32_t i = 0; i < a->num_children; i++) {
        ard_status st = build(x, a->children[i], R, D, out->children[i]);
        out->n_children = i + 1;
        if (st != ARD_OK) {
            return st;
        }
    }
    return ARD_OK;
}

static ard_status list_offsets(assemble_ctx *x, const anode *a, const ard_pq_column_data *c,
                               const int64_t *idx, int64_t n, struct ArrowArray *out) {
    int32_t *offs = ard_malloc(((size_t)n + 1) * sizeof(int32_t));
    if (!offs) {
        return ARD_ENOMEM;
    }
    int64_t total = 0;
    offs[0] = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t end = k + 1 < n ? idx[k + 1] : c->num_levels;
        for (int64_t i = idx[k]; i < end; i++) {
            int16_t r = rep_at(c, i);
            if (i > idx[k] && r <= (int16_t)(a->rr - 1)) {
                break; /* the next slot of an enclosing level: not ours */
            }
            total += r <= a->rr && def_at(c, i) >= a->rd;
        }
        if (total > INT32_MAX) {
            ard_free(offs);
            return ard_error_set(x->err, ARD_ELIMIT, "%s: list '%s' has more than 2^31 elements",
                                 x->path, a->name);
        }
        offs[k + 1] = (int32_t)total;
    }
    ard__arrow_array_set_buffer(out, 1, offs);
    return ARD_OK;
}

static ard_status build(assemble_ctx *x, const anode *a, int16_t R, int16_t D,
                        struct ArrowArray *out) {
    const ard_pq_column_data *c = &x->cols[a->leaf];
    int64_t nb = a->kind == ANODE_PRIM ? 0 : a->kind == ANODE_STRUCT ? 1 : 2;
    int64_t nchild = a->kind == ANODE_PRIM ? 0 : a->num_children;
    if (a->kind != ANODE_PRIM && !ard__arrow_array_new(out, nb, nchild)) {
        return ard_error_set(x->err, ARD_ENOMEM, "%s: out of memory", x->path);
    }
    int64_t n;
    int64_t *idx = slots_of(c, R, D, &n);
    if (!idx) {
        return ard_error_set(x->err, ARD_ENOMEM, "%s: out of memory", x->path);
    }
    ard_status st = ARD_OK;
    if (a->kind == ANODE_PRIM) {
        int16_t *defs = ard_malloc((size_t)n * sizeof(int16_t) + 2);
        for (int64_t k = 0; defs && k < n; k++) {
            defs[k] = def_at(c, idx[k]); /* below max_def: null (or under a null ancestor) */
        }
        st = defs ? ard__arrow_prim(x->md, a, c, defs, n, &x->cursor[a->leaf], out, x->err)
                  : ARD_ENOMEM;
        ard_free(defs);
    } else {
        out->length = n;
        st = validity(a, c, idx, n, out);
        if (st == ARD_OK && a->kind == ANODE_STRUCT) {
            st = build_children(x, a, R, D, out);
        } else if (st == ARD_OK) {
            st = list_offsets(x, a, c, idx, n, out);
            if (st == ARD_OK) {
                st = build_children(x, a, a->rr, a->rd, out);
            }
        }
    }
    ard_free(idx);
    if (st == ARD_ENOMEM) {
        ard_error_set(x->err, ARD_ENOMEM, "%s: out of memory assembling '%s'", x->path, a->name);
    }
    return st;
}

static void collect_leaves(const anode *a, int32_t *leaves, int32_t *n, int32_t cap) {
    if (a->kind == ANODE_PRIM) {
        if (*n < cap) {
            leaves[(*n)++] = a->leaf;
        }
        return;
    }
    for (int32_t i = 0; i < a->num_children; i++) {
        collect_leaves(a->children[i], leaves, n, cap);
    }
}

int32_t ard_parquet_num_fields(const ard_parquet_file *file) {
    return file->metadata.nodes[0].num_children;
}

int32_t ard_parquet_find_field(const ard_parquet_file *file, const char *name) {
    const ard_pq_schema_node *root = &file->metadata.nodes[0];
    for (int32_t i = 0; i < root->num_children; i++) {
        if (strcmp(file->metadata.nodes[root->children[i]].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

/* Reads the leaves of one field and assembles it into out (a child of the batch). */
static ard_status one_field(const ard_parquet_file *file, int32_t rg, int32_t field,
                            ard__arena *arena, ard_pq_column_data *cols, int64_t *cursor,
                            struct ArrowSchema *schema, struct ArrowArray *out, ard_error *err) {
    const ard_pq_metadata *md = &file->metadata;
    anode *a;
    ard_status st = ard__anode_build(md, md->nodes[0].children[field], arena, &a, file->path, err);
    int32_t n = 0;
    int32_t *leaves = st == ARD_OK ? ard__arena_alloc(arena, (size_t)md->num_leaves * 4 + 4) : NULL;
    if (st == ARD_OK && !leaves) {
        st = ard_error_set(err, ARD_ENOMEM, "%s: out of memory", file->path);
    }
    if (st == ARD_OK) {
        collect_leaves(a, leaves, &n, md->num_leaves);
    }
    for (int32_t i = 0; st == ARD_OK && i < n; i++) {
        st = ard_parquet_read_column(file, rg, leaves[i], &cols[leaves[i]], err);
    }
    if (st == ARD_OK) {
        st = ard__anode_schema(md, a, schema, err);
    }
    if (st == ARD_OK) {
        assemble_ctx x = {.md = md, .cols = cols, .cursor = cursor, .err = err, .path = file->path};
        st = build(&x, a, 0, 0, out);
        if (st == ARD_OK && out->length != md->row_groups[rg].num_rows) {
            st = ard_error_set(err, ARD_ECORRUPT,
                               "%s: field '%s' has %lld rows in row group %d, "
                               "expected %lld",
                               file->path, a->name, (long long)out->length, rg,
                               (long long)md->row_groups[rg].num_rows);
        }
    }
    for (int32_t i = 0; i < n; i++) {
        ard_pq_column_data_reset(&cols[leaves[i]]);
    }
    return st;
}

ard_status ard_parquet_read_arrow(const ard_parquet_file *file, int32_t row_group,
                                  const int32_t *fields, int32_t num_fields,
                                  struct ArrowSchema *schema_out, struct ArrowArray *array_out,
                                  ard_error *err) {
    const ard_pq_metadata *md = &file->metadata;
    memset(schema_out, 0, sizeof *schema_out);
    memset(array_out, 0, sizeof *array_out);
    int32_t total = ard_parquet_num_fields(file);
    int32_t nf = fields ? num_fields : total;
    if (row_group < 0 || row_group >= md->num_row_groups || nf < 0) {
        return ard_error_set(err, ARD_EINVAL, "%s: no row group %d", file->path, row_group);
    }
    for (int32_t i = 0; fields && i < nf; i++) {
        if (fields[i] < 0 || fields[i] >= total) {
            return ard_error_set(err, ARD_EINVAL, "%s: no field %d", file->path, fields[i]);
        }
    }
    ard__arena arena;
    ard__arena_init(&arena, 0);
    ard_pq_column_data *cols = ard_calloc((size_t)md->num_leaves + 1, sizeof *cols);
    int64_t *cursor = ard_calloc((size_t)md->num_leaves + 1, sizeof(int64_t));
    ard_status st = ARD_OK;
    struct ArrowSchema *sch = NULL;
    if (!cols || !cursor || !ard__arrow_array_new(array_out, 1, nf)) {
        st = ard_error_set(err, ARD_ENOMEM, "%s: out of memory", file->path);
    } else {
        array_out->length = md->row_groups[row_group].num_rows;
        sch = schema_out;
        if (ard__batch_schema_init(sch, nf) != ARD_OK) {
            st = ard_error_set(err, ARD_ENOMEM, "%s: out of memory", file->path);
        }
    }
    for (int32_t i = 0; st == ARD_OK && i < nf; i++) {
        st = one_field(file, row_group, fields ? fields[i] : i, &arena, cols, cursor,
                       sch->children[i], array_out->children[i], err);
        array_out->n_children = i + 1;
        sch->n_children = i + 1;
    }
    ard__arena_reset(&arena);
    ard_free(cols);
    ard_free(cursor);
    if (st != ARD_OK) {
        if (array_out->release) {
            array_out->release(array_out);
        }
        if (schema_out->release) {
            schema_out->release(schema_out);
        }
    }
    return st;
}
