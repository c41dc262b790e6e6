/* Private helpers shared by the footer decoders (metadata.c, schema.c, pageheader.c). */
#ifndef ARD_PARQUET_METADATA_INT_H
#define ARD_PARQUET_METADATA_INT_H

#include "parquet_int.h"

/* Decoding context: the Thrift reader plus where to allocate and what to report. */
typedef struct ard__md {
    ard__thrift t;
    ard__arena *arena; /* NULL when the structure being decoded never allocates */
    const char *path;
    ard_error *err;
    int32_t num_leaves; /* -1 until the schema has been decoded */
    int32_t footer_encrypted;
    int64_t footer_offset; /* chunks must start in [4, footer_offset] */
    int64_t file_size;
} ard__md;

/* Fails the decode with a formatted reason (ARD_ECORRUPT, "path: reason at byte N"). False. */
bool ard__md_failf(ard__md *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* count * size zeroed bytes from the arena; NULL (and ARD_ENOMEM / ARD_ELIMIT set) on failure. */
void *ard__md_alloc(ard__md *m, size_t count, size_t size);
/* True when wire type `type` is `expected` (any bool type matches ARD__T_TRUE); otherwise skips the
 * value and returns false, so known fields with an unexpected type are ignored. */
bool ard__md_want(ard__md *m, uint8_t type, uint8_t expected);
/* Binary field copied into the arena as a NUL-terminated string. */
bool ard__md_string(ard__md *m, const char **out, uint32_t *len_out);
/* List header for a field of wire type `type`: its size, or -1 when the field was skipped (wrong
 * wire type or element type: the field is then ignored) or on failure (check m->t.status). */
int32_t ard__md_list(ard__md *m, uint8_t type, uint8_t expected_elem);
/* Statistics struct (byte strings point into the input). */
bool ard__md_stats(ard__md *m, ard_pq_stats *s);
/* FileMetaData.schema (field of wire type `type`): decodes the list and builds the tree. */
bool ard__md_schema(ard__md *m, uint8_t type, ard_pq_metadata *out);

#endif
