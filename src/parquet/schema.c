/* The Parquet schema: decodes the flattened depth-first list of SchemaElements (with LogicalType
 * and the ConvertedType fallback) and rebuilds the tree: parent/children, dotted paths, max levels
 * and the leaf (column) order. */
#include "metadata_int.h"

#include <string.h>

/* Per-element wire facts the tree builder needs but ard_pq_schema_node does not keep. */
typedef struct elem_flags {
    uint8_t has_type, has_children, has_repetition;
    int64_t offset; /* file offset just after the element, for messages */
} elem_flags;

/* ---- LogicalType ----------------------------------------------------------------------------- */

static bool decode_time_unit(ard__md *m, ard_pq_logical *lt) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        if (id >= 1 && id <= 3 && type == ARD__T_STRUCT) {
            lt->unit = (ard_pq_time_unit)(id - 1);
        }
        ard__thrift_skip(&m->t, type);
    }
    return m->t.status == ARD_OK && ard__thrift_struct_end(&m->t);
}

/* One field of DECIMAL / TIME / TIMESTAMP / INTEGER parameters; false when the field is not one of
 * them (the caller skips it). */
static bool lt_param(ard__md *m, int16_t member, int16_t id, uint8_t type, bool bval,
                     ard_pq_logical *lt) {
    int8_t i8;
    bool timeish = member == 7 || member == 8;
    if (member == 5 && (id == 1 || id == 2)) {
        if (ard__md_want(m, type, ARD__T_I32)) {
            ard__thrift_i32(&m->t, id == 1 ? &lt->scale : &lt->precision);
        }
    } else if ((timeish && id == 1) || (member == 10 && id == 2)) {
        if (ard__md_want(m, type, ARD__T_TRUE)) {
            *(timeish ? &lt->is_adjusted_to_utc : &lt->is_signed) = bval;
        }
    } else if (timeish && id == 2) {
        if (ard__md_want(m, type, ARD__T_STRUCT)) {
            decode_time_unit(m, lt);
        }
    } else if (member == 10 && id == 1) {
        if (ard__md_want(m, type, ARD__T_I8) && ard__thrift_i8(&m->t, &i8)) {
            lt->bit_width = i8;
        }
    } else {
        return false;
    }
    return true;
}

static bool decode_lt_member(ard__md *m, int16_t member, ard_pq_logical *lt) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        if (!lt_param(m, member, id, type, bval, lt)) {
            ard__thrift_skip(&m->t, type);
        }
    }
    return m->t.status == ARD_OK && ard__thrift_struct_end(&m->t);
}

static ard_pq_logical_kind lt_kind(int16_t member) {
    static const ard_pq_logical_kind kinds[] = {
        [1] = ARD_PQ_LT_STRING,    [2] = ARD_PQ_LT_MAP,        [3] = ARD_PQ_LT_LIST,
        [4] = ARD_PQ_LT_ENUM,      [5] = ARD_PQ_LT_DECIMAL,    [6] = ARD_PQ_LT_DATE,
        [7] = ARD_PQ_LT_TIME,      [8] = ARD_PQ_LT_TIMESTAMP,  [10] = ARD_PQ_LT_INTEGER,
        [11] = ARD_PQ_LT_NULL,     [12] = ARD_PQ_LT_JSON,      [13] = ARD_PQ_LT_BSON,
        [14] = ARD_PQ_LT_UUID,     [15] = ARD_PQ_LT_FLOAT16,   [16] = ARD_PQ_LT_VARIANT,
        [17] = ARD_PQ_LT_GEOMETRY, [18] = ARD_PQ_LT_GEOGRAPHY,
    };
    if (member <= 0 || member >= (int16_t)(sizeof kinds / sizeof kinds[0]) ||
        kinds[member] == ARD_PQ_LT_NONE) {
        return ARD_PQ_LT_UNKNOWN_ID;
    }
    return kinds[member];
}

static bool decode_logical(ard__md *m, ard_pq_logical *lt) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        if (type != ARD__T_STRUCT) {
            ard__thrift_skip(&m->t, type); /* union members are structs; ignore anything else */
            continue;
        }
        memset(lt, 0, sizeof *lt);
        lt->kind = lt_kind(id);
        if (lt->kind == ARD_PQ_LT_UNKNOWN_ID) {
            ard__thrift_skip(&m->t, type); /* read the column by its physical type */
        } else {
            decode_lt_member(m, id, lt);
        }
    }
    return m->t.status == ARD_OK && ard__thrift_struct_end(&m->t);
}

/* ---- ConvertedType fallback ------------------------------------------------------------------ */

const char *ard_pq_converted_type_name(int32_t converted_type) {
    static const char *const names[] = {"UTF8",
                                        "MAP",
                                        "MAP_KEY_VALUE",
                                        "LIST",
                                        "ENUM",
                                        "DECIMAL",
                                        "DATE",
                                        "TIME_MILLIS",
                                        "TIME_MICROS",
                                        "TIMESTAMP_MILLIS",
                                        "TIMESTAMP_MICROS",
                                        "UINT_8",
                                        "UINT_16",
                                        "UINT_32",
                                        "UINT_64",
                                        "INT_8",
                                        "INT_16",
                                        "INT_32",
                                        "INT_64",
                                        "JSON",
                                        "BSON",
                                        "INTERVAL"};
    if (converted_type < 0 || converted_type >= (int32_t)(sizeof names / sizeof names[0])) {
        return NULL;
    }
    return names[converted_type];
}

static void logical_from_converted(ard_pq_schema_node *n) {
    ard_pq_logical *lt = &n->logical;
    int32_t ct = n->converted_type;
    static const ard_pq_logical_kind simple[] = {
        [ARD_PQ_CT_UTF8] = ARD_PQ_LT_STRING,
        [ARD_PQ_CT_MAP] = ARD_PQ_LT_MAP,
        [ARD_PQ_CT_MAP_KEY_VALUE] = ARD_PQ_LT_MAP_KEY_VALUE,
        [ARD_PQ_CT_LIST] = ARD_PQ_LT_LIST,
        [ARD_PQ_CT_ENUM] = ARD_PQ_LT_ENUM,
        [ARD_PQ_CT_DATE] = ARD_PQ_LT_DATE,
        [ARD_PQ_CT_JSON] = ARD_PQ_LT_JSON,
        [ARD_PQ_CT_BSON] = ARD_PQ_LT_BSON,
        [ARD_PQ_CT_INTERVAL] = ARD_PQ_LT_INTERVAL,
    };
    memset(lt, 0, sizeof *lt);
    if (ct < 0 || ct > ARD_PQ_CT_INTERVAL) {
        return;
    }
    lt->from_converted = 1;
    lt->is_adjusted_to_utc = 1; /* TIME_* / TIMESTAMP_* ConvertedTypes are UTC-adjusted */
    if (ct == ARD_PQ_CT_DECIMAL) {
        lt->kind = ARD_PQ_LT_DECIMAL;
        lt->scale = n->scale;
        lt->precision = n->precision;
    } else if (ct >= ARD_PQ_CT_TIME_MILLIS && ct <= ARD_PQ_CT_TIMESTAMP_MICROS) {
        lt->kind = ct <= ARD_PQ_CT_TIME_MICROS ? ARD_PQ_LT_TIME : ARD_PQ_LT_TIMESTAMP;
        lt->unit = (ct == ARD_PQ_CT_TIME_MILLIS || ct == ARD_PQ_CT_TIMESTAMP_MILLIS)
                       ? ARD_PQ_MILLIS
                       : ARD_PQ_MICROS;
    } else if (ct >= ARD_PQ_CT_UINT_8 && ct <= ARD_PQ_CT_INT_64) {
        lt->kind = ARD_PQ_LT_INTEGER;
        lt->bit_width = 8 << ((ct - ARD_PQ_CT_UINT_8) % 4);
        lt->is_signed = ct >= ARD_PQ_CT_INT_8;
    } else {
        lt->kind = simple[ct];
    }
    if (lt->kind == ARD_PQ_LT_NONE) {
        lt->from_converted = 0;
    }
    if (lt->kind != ARD_PQ_LT_TIME && lt->kind != ARD_PQ_LT_TIMESTAMP) {
        lt->is_adjusted_to_utc = 0;
    }
}

/* ---- SchemaElement --------------------------------------------------------------------------- */

static void elem_enum(ard__md *m, uint8_t type, uint8_t *has, int32_t *v) {
    if (ard__md_want(m, type, ARD__T_I32) && ard__thrift_i32(&m->t, v)) {
        *has = 1;
    }
}

static void elem_field(ard__md *m, int16_t id, uint8_t type, ard_pq_schema_node *n, elem_flags *f) {
    int32_t v = 0;
    uint8_t unused = 0;
    switch (id) {
    case 1:
        elem_enum(m, type, &f->has_type, &v);
        n->type = (ard_pq_type)v;
        break;
    case 2:
        elem_enum(m, type, &unused, &n->type_length);
        break;
    case 3:
        elem_enum(m, type, &f->has_repetition, &v);
        n->repetition = (ard_pq_repetition)v;
        break;
    case 4:
        if (ard__md_want(m, type, ARD__T_BINARY)) {
            ard__md_string(m, &n->name, NULL);
        }
        break;
    case 5:
        elem_enum(m, type, &f->has_children, &n->num_children);
        break;
    case 6:
        elem_enum(m, type, &unused, &n->converted_type);
        break;
    case 7:
        elem_enum(m, type, &unused, &n->scale);
        break;
    case 8:
        elem_enum(m, type, &unused, &n->precision);
        break;
    case 9:
        elem_enum(m, type, &unused, &n->field_id);
        n->has_field_id = unused;
        break;
    case 10:
        if (ard__md_want(m, type, ARD__T_STRUCT)) {
            decode_logical(m, &n->logical);
        }
        break;
    default:
        ard__thrift_skip(&m->t, type);
        break;
    }
}

static bool check_element(ard__md *m, int32_t index, const ard_pq_schema_node *n,
                          const elem_flags *f) {
    const char *name = n->name ? n->name : "";
    if (f->has_type && (n->type < ARD_PQ_BOOLEAN || n->type > ARD_PQ_FIXED_LEN_BYTE_ARRAY)) {
        return ard__md_failf(m, "schema element %d '%s': invalid physical type %d", index, name,
                             (int)n->type);
    }
    if (f->has_repetition && (n->repetition < ARD_PQ_REQUIRED || n->repetition > ARD_PQ_REPEATED)) {
        return ard__md_failf(m, "schema element %d '%s': invalid repetition type %d", index, name,
                             (int)n->repetition);
    }
    if (f->has_children && n->num_children < 0) {
        return ard__md_failf(m, "schema element %d '%s': negative num_children %d", index, name,
                             n->num_children);
    }
    if (f->has_type && n->type == ARD_PQ_FIXED_LEN_BYTE_ARRAY && n->type_length <= 0) {
        return ard__md_failf(m, "schema element %d '%s': FIXED_LEN_BYTE_ARRAY length %d", index,
                             name, n->type_length);
    }
    return true;
}

static bool decode_element(ard__md *m, int32_t index, ard_pq_schema_node *n, elem_flags *f) {
    int16_t id;
    uint8_t type;
    bool bval;
    if (!ard__thrift_struct_begin(&m->t)) {
        return false;
    }
    n->converted_type = -1;
    n->first_child = -1;
    while (ard__thrift_field(&m->t, &id, &type, &bval)) {
        elem_field(m, id, type, n, f);
    }
    if (m->t.status != ARD_OK || !check_element(m, index, n, f)) {
        return false;
    }
    if (!n->name) {
        n->name = "";
    }
    if (!f->has_repetition) {
        n->repetition = ARD_PQ_REQUIRED;
    }
    if (n->logical.kind == ARD_PQ_LT_NONE && n->converted_type >= 0) {
        logical_from_converted(n);
    }
    f->offset = m->t.base_offset + (m->t.p - m->t.start);
    return ard__thrift_struct_end(&m->t);
}

/* ---- tree ------------------------------------------------------------------------------------ */

typedef struct tree_builder {
    ard__md *m;
    ard_pq_schema_node *nodes;
    elem_flags *flags;
    int32_t count;
    int32_t *stack; /* open groups */
    int32_t *fill;  /* children attached so far, per node */
} tree_builder;

static bool fail_at(tree_builder *b, int32_t index, const char *what) {
    /* Point the message at the element, not at the end of the list. */
    ard__thrift *t = &b->m->t;
    int64_t off = b->flags[index].offset - t->base_offset;
    if (off >= 0 && off <= t->end - t->start) {
        t->p = t->start + off;
    }
    return ard__md_failf(b->m, "schema element %d '%s': %s", index, b->nodes[index].name, what);
}

static bool set_path(tree_builder *b, int32_t child, int32_t parent) {
    ard_pq_schema_node *n = &b->nodes[child];
    const char *ppath = b->nodes[parent].path;
    size_t plen = strlen(ppath), nlen = strlen(n->name);
    char *path = ard__md_alloc(b->m, plen + nlen + 2, 1);
    if (!path) {
        return false;
    }
    if (plen) {
        memcpy(path, ppath, plen);
        path[plen++] = '.';
    }
    memcpy(path + plen, n->name, nlen + 1);
    n->path = path;
    return true;
}

static bool attach_child(tree_builder *b, int32_t child, int32_t parent) {
    ard_pq_schema_node *n = &b->nodes[child];
    const ard_pq_schema_node *p = &b->nodes[parent];
    if (p->max_def >= INT16_MAX || p->max_rep >= INT16_MAX) {
        return fail_at(b, child, "schema nested too deeply");
    }
    n->parent = parent;
    n->max_def = (int16_t)(p->max_def + (n->repetition != ARD_PQ_REQUIRED));
    n->max_rep = (int16_t)(p->max_rep + (n->repetition == ARD_PQ_REPEATED));
    ((int32_t *)p->children)[b->fill[parent]++] = child;
    if (b->fill[parent] == 1) {
        b->nodes[parent].first_child = child;
    }
    return set_path(b, child, parent);
}

/* Called with `next` = index of the group's first child: each child takes one element at least. */
static bool open_group(tree_builder *b, int32_t index, int32_t next) {
    ard_pq_schema_node *n = &b->nodes[index];
    if (n->num_children > b->count - next) {
        return fail_at(b, index, "num_children runs past the end of the schema list");
    }
    n->children = ard__md_alloc(b->m, (size_t)n->num_children, sizeof(int32_t));
    return n->children != NULL;
}

/* Walks the depth-first list with an explicit stack (no recursion on hostile depth). */
static bool build_tree(tree_builder *b, int32_t *num_leaves) {
    int32_t depth = 0, next = 1, leaves = 0;
    b->nodes[0].parent = -1;
    b->nodes[0].path = "";
    b->nodes[0].repetition = ARD_PQ_REQUIRED;
    if (!open_group(b, 0, 1)) {
        return false;
    }
    b->stack[depth++] = 0;
    while (depth > 0) {
        int32_t top = b->stack[depth - 1];
        if (b->fill[top] == b->nodes[top].num_children) {
            depth--;
            continue;
        }
        if (next >= b->count) {
            return fail_at(b, top, "num_children runs past the end of the schema list");
        }
        int32_t child = next++;
        if (!attach_child(b, child, top)) {
            return false;
        }
        ard_pq_schema_node *n = &b->nodes[child];
        n->leaf_index = -1;
        if (b->flags[child].has_type && n->num_children <= 0) {
            n->is_leaf = 1;
            n->num_children = 0;
            n->leaf_index = leaves++;
        } else if (n->num_children > 0) {
            if (!open_group(b, child, next)) {
                return false;
            }
            b->stack[depth++] = child;
        }
    }
    if (next != b->count) {
        return fail_at(b, next, "element is not reachable from the root (num_children mismatch)");
    }
    *num_leaves = leaves;
    return true;
}

static bool collect_leaves(ard__md *m, ard_pq_metadata *out, ard_pq_schema_node *nodes) {
    int32_t *leaves = ard__md_alloc(m, (size_t)out->num_leaves, sizeof *leaves);
    if (!leaves) {
        return false;
    }
    for (int32_t i = 0; i < out->num_nodes; i++) {
        if (nodes[i].is_leaf) {
            leaves[nodes[i].leaf_index] = i;
        } else {
            nodes[i].type = ARD_PQ_BOOLEAN; /* "leaves only": keep groups at a defined value */
        }
    }
    out->leaves = leaves;
    return true;
}

static bool finish_schema(ard__md *m, ard_pq_metadata *out, ard_pq_schema_node *nodes,
                          elem_flags *flags, int32_t count) {
    tree_builder b = {m, nodes, flags, count, NULL, NULL};
    b.stack = ard__md_alloc(m, (size_t)count, sizeof *b.stack);
    b.fill = ard__md_alloc(m, (size_t)count, sizeof *b.fill);
    if (!b.stack || !b.fill) {
        return false;
    }
    nodes[0].leaf_index = -1;
    if (nodes[0].num_children < 0 || (flags[0].has_type && !flags[0].has_children)) {
        return fail_at(&b, 0, "the root must be a group");
    }
    if (!build_tree(&b, &out->num_leaves)) {
        return false;
    }
    out->num_nodes = count;
    out->nodes = nodes;
    m->num_leaves = out->num_leaves;
    return collect_leaves(m, out, nodes);
}

bool ard__md_schema(ard__md *m, uint8_t type, ard_pq_metadata *out) {
    int32_t count = ard__md_list(m, type, ARD__T_STRUCT);
    if (count < 0) {
        return m->t.status == ARD_OK;
    }
    if (count == 0) {
        return ard__md_failf(m, "empty schema");
    }
    if (out->num_nodes != 0) {
        return ard__md_failf(m, "schema given twice");
    }
    ard_pq_schema_node *nodes = ard__md_alloc(m, (size_t)count, sizeof *nodes);
    elem_flags *flags = ard__md_alloc(m, (size_t)count, sizeof *flags);
    if (!nodes || !flags) {
        return false;
    }
    for (int32_t i = 0; i < count; i++) {
        if (!decode_element(m, i, &nodes[i], &flags[i])) {
            return false;
        }
    }
    return finish_schema(m, out, nodes, flags, count);
}
