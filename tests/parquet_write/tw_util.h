/* Shared helpers of the writer tests: a seeded generator, an in-memory model of a table (the values
 * the test wrote), writing it with the public writer API, and reading it back with the reader. */
#ifndef ARD_TESTS_TW_UTIL_H
#define ARD_TESTS_TW_UTIL_H

#include "ard/parquet.h"
#include "ard/parquet_write.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tw_rng {
    uint64_t s;
} tw_rng;
uint64_t tw_next(tw_rng *r);
int64_t tw_range(tw_rng *r, int64_t lo, int64_t hi); /* inclusive */
double tw_unit(tw_rng *r);

/* Column kinds the tests generate. */
typedef enum tw_kind {
    TW_BOOL,
    TW_I32,
    TW_I8,
    TW_U8,
    TW_I16,
    TW_U16,
    TW_U32,
    TW_I64,
    TW_U64,
    TW_F32,
    TW_F64,
    TW_STR,
    TW_FLBA,
    TW_I96,
    TW_TS,
    TW_FLAT_KINDS,
    TW_LF32 = TW_FLAT_KINDS,
    TW_LU8,
    TW_LI32,
    TW_LF64,
    TW_LI64,
    TW_LSTR,
    TW_NUM_KINDS
} tw_kind;

typedef struct tw_col {
    tw_kind kind;
    char name[32];
    int is_list, optional, elem_optional, matrix, sorted, forced_encoding;
    int64_t width; /* matrix lists */
    int iw;        /* input width (bytes) of a value/element */
    int64_t rows;
    uint8_t *valid;  /* rows: 1 = row (value or list) present */
    uint8_t *values; /* flat: rows * iw; lists: num_elems * iw */
    int64_t *offs;   /* strings: rows+1 byte offsets; lists: rows+1 element offsets */
    uint8_t *data;   /* strings (flat and list elements) */
    int64_t *eoffs;  /* list<string>: element byte offsets */
    uint8_t *evalid; /* lists: per element */
    int64_t num_elems;
} tw_col;

typedef struct tw_table {
    int num_cols;
    tw_col cols[24];
    int64_t rows;
} tw_table;

/* Random table: kinds chosen at random (or all flat/list kinds when `all_kinds`). */
void tw_table_random(tw_table *t, tw_rng *r, int64_t rows, int all_kinds);
void tw_table_free(tw_table *t);
/* Declares the table's schema. */
ard_pq_schema_builder *tw_schema(const tw_table *t);
/* Writes the table in random batches (random column order inside a batch). Returns the status. */
ard_status tw_write(const tw_table *t, const char *path, const ard_pq_writer_options *o, tw_rng *r,
                    ard_error *err);
/* Reads the file back and compares every value with the model; returns 0 when identical, else
 * prints the first difference and returns -1. */
int tw_compare(const tw_table *t, const char *path);
/* Checks chunk statistics and the ColumnIndex of every column chunk against the model.
 * Returns 0 or -1 (with a message). */
int tw_check_stats(const tw_table *t, const char *path, int expect_page_index);

/* Model value of element e (flat: row) of column c, in the reader's stored form; returns length. */
size_t tw_stored_value(const tw_col *c, int64_t e, uint8_t *out);

/* The test run's scratch directory (created by main). */
const char *tw_dir(void);

/* Tests defined outside test_writer.c. */
void tw_test_kill_during_rewrite(void **state);
void tw_test_api_errors(void **state);
void tw_test_table_writer(void **state);
void tw_test_layout(void **state);
void tw_test_metadata(void **state);
void tw_test_dictionary_fallback(void **state);
void tw_test_tile_spectra(void **state);
void tw_test_arrow_import(void **state);
void tw_test_arrow_errors(void **state);
void tw_test_rewrite(void **state);          /* test_rewrite.c */
void tw_test_rewrite_nested(void **state);   /* test_rewrite.c */
void tw_test_writer_pool(void **state);      /* test_pool.c */
void tw_test_tile_stream(void **state);      /* test_pool.c */
void tw_test_set_kv(void **state);           /* test_pool.c */
void tw_test_limit_row_group(void **state);  /* test_pool.c */
void tw_test_narrow_dict_runs(void **state); /* test_fastpaths.c */
void tw_test_level_runs(void **state);       /* test_fastpaths.c */
void tw_test_split_paths(void **state);      /* test_split.c */

#endif
