/* Private header of the dataset module: the tile handle and the helpers the plan reader (fetch.c)
 * shares with the tile reader (tile.c). Nothing here is visible outside src/dataset. */
#ifndef ARD_DATASET_INT_H
#define ARD_DATASET_INT_H

#include "ard/dataset.h"
#include "ard/parquet.h"

struct ard_tile {
    ard_parquet_file *pq;
};

/* "dir/rel" into a new string (rel returned as is, copied, when it is absolute); caller frees.
 * NULL on ENOMEM. */
char *ard__dataset_join(const char *dir, const char *rel);

/* fetch_u8.c: list<uint8> decoding and the kind of a list leaf (ard_dataset_list_leaf finds it).
 * ARD_FETCH_F32 for a FLOAT list leaf, ARD_FETCH_U8 for an INT32 list leaf with logical
 * INTEGER(8, unsigned), else -1. */
int32_t ard__fetch_leaf_kind(const ard_parquet_file *pq, int32_t leaf);
/* Decodes the planned rows of chunk `ch` of list<uint8> leaf `leaf` into a new rows x width uint8
 * matrix (*out, caller frees with ard_free; *width_out its width). ARD_ENOTSUP for null, empty or
 * ragged lists, ARD_ECORRUPT for values outside 0..255 or a row range the tile does not hold. */
ard_status ard__fetch_read_u8(const ard_parquet_file *pq, const ard_plan_chunk *ch, int32_t leaf,
                              const char *name, uint8_t **out, int64_t *width_out, ard_error *err);

#endif
