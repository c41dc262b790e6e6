/* The Arrow-shaped view of a Parquet schema subtree: LIST (3-level and the legacy 2-level forms), MAP
 * and MAP_KEY_VALUE, unannotated repeated fields and plain groups become anodes carrying the level
 * thresholds that decide, for each level entry, whether it opens a slot and whether that slot is null.
 * Also exports the matching ArrowSchema. */
#include "arrow_int.h"

#include <stdio.h>
#include <string.h>

typedef struct tree_ctx {
    const ard_pq_metadata *md;
    ard__arena *arena;
    const char *path;
    ard_error *err;
    int depth;
} tree_ctx;

static anode *field(tree_ctx *t, int32_t n);
static anode *as_element(tree_ctx *t, int32_t n);

static anode *new_node(tree_ctx *t, anode_kind kind, int32_t pnode, int32_t nchildren) {
    anode *a = ard__arena_alloc(t->arena, sizeof *a);
    if (!a || (nchildren > 0 &&
               !(a->children = ard__arena_alloc(t->arena, (size_t)nchildren * sizeof(anode *))))) {
        ard_error_set(t->err, ARD_ENOMEM, "%s: out of memory", t->path);
        return NULL;
    }
    const ard_pq_schema_node *p = &t->md->nodes[pnode];
    a->kind = kind;
    a->pnode = pnode;
    a->name = p->name;
    a->num_children = nchildren;
    a->nullable = p->repetition == ARD_PQ_OPTIONAL;
    a->nd = p->max_def;
    int32_t n = pnode;
    while (!t->md->nodes[n].is_leaf) {
        if (t->md->nodes[n].num_children < 1) { /* no column below: nothing to read it from */
            ard_error_set(t->err, ARD_ECORRUPT, "%s: schema group '%s' has no fields", t->path,
                          t->md->nodes[n].name ? t->md->nodes[n].name : "");
            return NULL;
        }
        n = t->md->nodes[n].children[0];
    }
    a->leaf = t->md->nodes[n].leaf_index;
    return a;
}

static int is_list(const ard_pq_schema_node *p) {
    return p->logical.kind == ARD_PQ_LT_LIST;
}

static int is_map(const ard_pq_schema_node *p) {
    return p->logical.kind == ARD_PQ_LT_MAP || p->logical.kind == ARD_PQ_LT_MAP_KEY_VALUE;
}

static anode *group_struct(tree_ctx *t, int32_t n) {
    const ard_pq_schema_node *p = &t->md->nodes[n];
    anode *a = new_node(t, ANODE_STRUCT, n, p->num_children);
    for (int32_t i = 0; a && i < p->num_children; i++) {
        if (!(a->children[i] = field(t, p->children[i]))) {
            return NULL;
        }
    }
    return a;
}

/* The element of a LIST-annotated group whose repeated child is r (the backward-compatibility rules). */
static anode *list_element(tree_ctx *t, int32_t list_node, int32_t r) {
    const ard_pq_schema_node *rp = &t->md->nodes[r];
    if (rp->is_leaf || rp->num_children >= 2) {
        return as_element(t, r);
    }
    const ard_pq_schema_node *only = &t->md->nodes[rp->children[0]];
    char tuple[300];
    snprintf(tuple, sizeof tuple, "%s_tuple", t->md->nodes[list_node].name);
    if (only->repetition == ARD_PQ_REPEATED || strcmp(rp->name, "array") == 0 ||
        strcmp(rp->name, tuple) == 0) {
        return as_element(t, r);
    }
    return field(t, rp->children[0]);
}

/* A list or map node over group n whose single child r is repeated. */
static anode *list_like(tree_ctx *t, int32_t n, int32_t r, int is_map_node) {
    const ard_pq_schema_node *rp = &t->md->nodes[r];
    int map_pairs = is_map_node && !rp->is_leaf && rp->num_children == 2;
    anode *a = new_node(t, map_pairs ? ANODE_MAP : ANODE_LIST, n, 1);
    if (!a) {
        return NULL;
    }
    a->rd = rp->max_def;
    a->rr = rp->max_rep;
    if (map_pairs) {
        a->children[0] = as_element(t, r);
    } else if (is_map_node) {
        /* a map without a value field (or a malformed one): the list of its keys */
        a->children[0] = rp->is_leaf ? as_element(t, r) : field(t, rp->children[0]);
    } else {
        a->children[0] = list_element(t, n, r);
    }
    return a->children[0] ? a : NULL;
}

/* Node n as it appears inside a list whose repetition it carries itself: required, never null. */
static anode *as_element(tree_ctx *t, int32_t n) {
    const ard_pq_schema_node *p = &t->md->nodes[n];
    anode *a;
    if (p->is_leaf) {
        a = new_node(t, ANODE_PRIM, n, 0);
    } else if ((is_list(p) || is_map(p)) && p->num_children == 1 &&
               t->md->nodes[p->children[0]].repetition == ARD_PQ_REPEATED) {
        a = list_like(t, n, p->children[0], is_map(p));
    } else {
        a = group_struct(t, n);
    }
    if (a) {
        a->nullable = 0;
    }
    return a;
}

static anode *field(tree_ctx *t, int32_t n) {
    const ard_pq_schema_node *p = &t->md->nodes[n];
    if (++t->depth > 100) {
        ard_error_set(t->err, ARD_ENOTSUP, "%s: schema nesting deeper than 100", t->path);
        return NULL;
    }
    anode *a;
    if (p->logical.kind == ARD_PQ_LT_VARIANT) {
        ard_error_set(t->err, ARD_ENOTSUP, "%s: column '%s' is a VARIANT, which is not supported",
                      t->path, p->path);
        return NULL;
    }
    if (p->repetition == ARD_PQ_REPEATED) {
        /* an unannotated repeated field: a required list of required elements */
        a = new_node(t, ANODE_LIST, n, 1);
        if (a) {
            a->nullable = 0;
            a->rd = p->max_def;
            a->rr = p->max_rep;
            a->children[0] = as_element(t, n);
            a = a->children[0] ? a : NULL;
        }
    } else if (!p->is_leaf && (is_list(p) || is_map(p)) && p->num_children == 1 &&
               t->md->nodes[p->children[0]].repetition == ARD_PQ_REPEATED) {
        a = list_like(t, n, p->children[0], is_map(p));
    } else if (p->is_leaf) {
        a = new_node(t, ANODE_PRIM, n, 0);
    } else {
        a = group_struct(t, n);
    }
    t->depth--;
    return a;
}

ard_status ard__anode_build(const ard_pq_metadata *md, int32_t pnode, ard__arena *arena,
                            anode **out, const char *path, ard_error *err) {
    tree_ctx t = {.md = md, .arena = arena, .path = path, .err = err};
    *out = field(&t, pnode);
    if (!*out) {
        return err && err->code != ARD_OK ? err->code : ARD_ENOMEM;
    }
    return ARD_OK;
}

/* ---- ArrowSchema export ---- */

typedef struct schema_priv {
    char *format, *name, *metadata;
    struct ArrowSchema *child_structs;
    struct ArrowSchema **child_ptrs;
} schema_priv;

static void schema_release(struct ArrowSchema *s) {
    schema_priv *p = s->private_data;
    for (int64_t i = 0; i < s->n_children; i++) {
        if (p->child_ptrs[i]->release) {
            p->child_ptrs[i]->release(p->child_ptrs[i]);
        }
    }
    ard_free(p->child_structs);
    ard_free(p->child_ptrs);
    ard_free(p->format);
    ard_free(p->name);
    ard_free(p->metadata);
    ard_free(p);
    s->release = NULL;
}

/* Arrow metadata blob with one key/value pair. */
static char *extension_metadata(const char *ext) {
    const char *key = "ARROW:extension:name";
    int32_t n = 1, kl = (int32_t)strlen(key), vl = (int32_t)strlen(ext);
    char *m = ard_malloc(12 + (size_t)kl + (size_t)vl);
    if (m) {
        memcpy(m, &n, 4);
        memcpy(m + 4, &kl, 4);
        memcpy(m + 8, key, (size_t)kl);
        memcpy(m + 8 + kl, &vl, 4);
        memcpy(m + 12 + kl, ext, (size_t)vl);
    }
    return m;
}

static ard_status schema_init(struct ArrowSchema *s, const char *format, const char *name,
                              const char *ext, int64_t flags, int64_t n_children) {
    memset(s, 0, sizeof *s);
    schema_priv *p = ard_calloc(1, sizeof *p);
    if (!p) {
        return ARD_ENOMEM;
    }
    s->private_data = p;
    s->release = schema_release;
    p->format = ard_strdup(format);
    p->name = ard_strdup(name ? name : "");
    p->metadata = ext ? extension_metadata(ext) : NULL;
    p->child_structs = ard_calloc((size_t)n_children + 1, sizeof(struct ArrowSchema));
    p->child_ptrs = ard_calloc((size_t)n_children + 1, sizeof(struct ArrowSchema *));
    s->format = p->format;
    s->name = p->name;
    s->metadata = p->metadata;
    s->flags = flags;
    s->children = p->child_ptrs;
    if (!p->format || !p->name || (ext && !p->metadata) || !p->child_structs || !p->child_ptrs) {
        return ARD_ENOMEM; /* released by the caller through s->release */
    }
    for (int64_t i = 0; i < n_children; i++) {
        p->child_ptrs[i] = &p->child_structs[i];
    }
    return ARD_OK;
}

ard_status ard__batch_schema_init(struct ArrowSchema *s, int64_t n_children) {
    ard_status st = schema_init(s, "+s", "", NULL, 0, n_children);
    if (st != ARD_OK && s->release) {
        s->release(s);
    }
    return st;
}

ard_status ard__anode_schema(const ard_pq_metadata *md, const anode *a, struct ArrowSchema *out,
                             ard_error *err) {
    char buf[64];
    const char *ext = NULL;
    const char *format = a->kind == ANODE_STRUCT ? "+s" : a->kind == ANODE_LIST ? "+l" : "+m";
    if (a->kind == ANODE_PRIM) {
        format = ard__arrow_prim_format(&md->nodes[a->pnode], buf, sizeof buf, &ext);
    }
    int64_t flags = a->nullable ? ARROW_FLAG_NULLABLE : 0;
    ard_status st = schema_init(out, format, a->name, ext, flags, a->num_children);
    for (int32_t i = 0; st == ARD_OK && i < a->num_children; i++) {
        st = ard__anode_schema(md, a->children[i], out->children[i], err);
        out->n_children = i + 1;
    }
    if (st == ARD_OK && a->kind == ANODE_MAP) {
        schema_priv *p = out->children[0]->private_data;
        ard_free(p->name);
        p->name = ard_strdup("entries");
        out->children[0]->name = p->name;
        out->children[0]->flags = 0;
        st = p->name ? ARD_OK : ARD_ENOMEM;
    }
    if (st != ARD_OK) {
        if (out->release) {
            out->release(out);
        }
        return ard_error_set(err, st, "exporting Arrow schema of '%s': %s", a->name,
                             ard_status_str(st));
    }
    return ARD_OK;
}
