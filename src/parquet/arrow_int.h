/* Private interface of the Arrow export: the Arrow-shaped view of a Parquet schema subtree (anode),
 * built by arrow_tree.c and turned into arrays by arrow_array.c (primitives by arrow_values.c). */
#ifndef ARD_ARROW_INT_H
#define ARD_ARROW_INT_H

#include "column_int.h"

typedef enum anode_kind { ANODE_PRIM, ANODE_STRUCT, ANODE_LIST, ANODE_MAP } anode_kind;

typedef struct anode {
    anode_kind kind;
    int32_t pnode; /* Parquet node named by this field (the leaf for primitives) */
    const char *name;
    int32_t nullable;
    int16_t nd;     /* def level at which this node is non-null */
    int16_t rd, rr; /* lists/maps: def level at which an element exists; rep level */
    int32_t leaf;   /* first leaf under this node (its levels decide slots) */
    int32_t num_children;
    struct anode **children;
} anode;

/* Builds the anode tree of top-level field `pnode` (a child of the root). Allocates in `arena`. */
ard_status ard__anode_build(const ard_pq_metadata *md, int32_t pnode, ard__arena *arena,
                            anode **out, const char *path, ard_error *err);
/* Exports the ArrowSchema of an anode (format strings per the mapping in parquet.h). */
ard_status ard__anode_schema(const ard_pq_metadata *md, const anode *a, struct ArrowSchema *out,
                             ard_error *err);

/* A "+s" record-batch schema with room for n children (n_children starts at 0 and is raised by the
 * caller as children are filled). On failure the schema is released. */
ard_status ard__batch_schema_init(struct ArrowSchema *s, int64_t n_children);

/* Allocation helpers for exported arrays: every ArrowArray made here has private data that owns its
 * buffers and children, and one release callback. */
struct ArrowArray *ard__arrow_array_new(struct ArrowArray *into, int64_t n_buffers,
                                        int64_t n_children);
/* Takes ownership of `buffer` (allocated with ard_malloc) as buffer i. */
void ard__arrow_array_set_buffer(struct ArrowArray *a, int64_t i, void *buffer);

/* Converts the slots of a primitive leaf to an Arrow array. `slot_def[k]` is the def level of slot k;
 * slots with def == leaf max_def take the next value of `col`. */
ard_status ard__arrow_prim(const ard_pq_metadata *md, const anode *a, const ard_pq_column_data *col,
                           const int16_t *slot_def, int64_t n_slots, int64_t *value_cursor,
                           struct ArrowArray *out, ard_error *err);
/* Arrow format string of a primitive leaf (static or arena-free static buffer in `buf`). */
const char *ard__arrow_prim_format(const ard_pq_schema_node *leaf, char *buf, size_t buf_len,
                                   const char **extension);

#endif
