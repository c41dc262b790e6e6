/* ard parquet: a from-scratch Parquet reader (and, later, writer).
 *
 * Opening a file reads only its footer (FileMetaData): schema tree, row groups, column chunks, statistics,
 * key-value metadata and page-index locations. Column data is decoded on request, by column and row group.
 * All metadata returned through `const` pointers is owned by the ard_parquet_file and lives until
 * ard_parquet_close. A file handle may be read from several threads at once (all read calls are const);
 * open/close are not thread-safe with respect to other calls on the same handle. */
#ifndef ARD_PARQUET_H
#define ARD_PARQUET_H

#include "ard/arrow_abi.h"
#include "ard/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ard_pq_type {
    ARD_PQ_BOOLEAN = 0,
    ARD_PQ_INT32 = 1,
    ARD_PQ_INT64 = 2,
    ARD_PQ_INT96 = 3,
    ARD_PQ_FLOAT = 4,
    ARD_PQ_DOUBLE = 5,
    ARD_PQ_BYTE_ARRAY = 6,
    ARD_PQ_FIXED_LEN_BYTE_ARRAY = 7
} ard_pq_type;

typedef enum ard_pq_repetition {
    ARD_PQ_REQUIRED = 0,
    ARD_PQ_OPTIONAL = 1,
    ARD_PQ_REPEATED = 2
} ard_pq_repetition;

typedef enum ard_pq_codec {
    ARD_PQ_UNCOMPRESSED = 0,
    ARD_PQ_SNAPPY = 1,
    ARD_PQ_GZIP = 2,
    ARD_PQ_LZO = 3,
    ARD_PQ_BROTLI = 4,
    ARD_PQ_LZ4 = 5,
    ARD_PQ_ZSTD = 6,
    ARD_PQ_LZ4_RAW = 7
} ard_pq_codec;

typedef enum ard_pq_encoding {
    ARD_PQ_PLAIN = 0,
    ARD_PQ_PLAIN_DICTIONARY = 2,
    ARD_PQ_RLE = 3,
    ARD_PQ_BIT_PACKED = 4,
    ARD_PQ_DELTA_BINARY_PACKED = 5,
    ARD_PQ_DELTA_LENGTH_BYTE_ARRAY = 6,
    ARD_PQ_DELTA_BYTE_ARRAY = 7,
    ARD_PQ_RLE_DICTIONARY = 8,
    ARD_PQ_BYTE_STREAM_SPLIT = 9
} ard_pq_encoding;

typedef enum ard_pq_page_type {
    ARD_PQ_DATA_PAGE = 0,
    ARD_PQ_INDEX_PAGE = 1,
    ARD_PQ_DICTIONARY_PAGE = 2,
    ARD_PQ_DATA_PAGE_V2 = 3
} ard_pq_page_type;

/* Logical type, resolved from LogicalType when present, else from ConvertedType. */
typedef enum ard_pq_logical_kind {
    ARD_PQ_LT_NONE = 0,
    ARD_PQ_LT_STRING,
    ARD_PQ_LT_MAP,
    ARD_PQ_LT_LIST,
    ARD_PQ_LT_ENUM,
    ARD_PQ_LT_DECIMAL,
    ARD_PQ_LT_DATE,
    ARD_PQ_LT_TIME,
    ARD_PQ_LT_TIMESTAMP,
    ARD_PQ_LT_INTEGER,
    ARD_PQ_LT_NULL, /* LogicalType UNKNOWN: always null */
    ARD_PQ_LT_JSON,
    ARD_PQ_LT_BSON,
    ARD_PQ_LT_UUID,
    ARD_PQ_LT_FLOAT16,
    ARD_PQ_LT_VARIANT,
    ARD_PQ_LT_GEOMETRY,
    ARD_PQ_LT_GEOGRAPHY,
    ARD_PQ_LT_INTERVAL,      /* ConvertedType INTERVAL */
    ARD_PQ_LT_MAP_KEY_VALUE, /* legacy ConvertedType MAP_KEY_VALUE */
    ARD_PQ_LT_UNKNOWN_ID     /* a LogicalType union member this reader does not know */
} ard_pq_logical_kind;

typedef enum ard_pq_time_unit {
    ARD_PQ_MILLIS = 0,
    ARD_PQ_MICROS = 1,
    ARD_PQ_NANOS = 2
} ard_pq_time_unit;

typedef struct ard_pq_logical {
    ard_pq_logical_kind kind;
    int32_t scale, precision;   /* DECIMAL */
    int32_t bit_width;          /* INTEGER: 8, 16, 32, 64 */
    int32_t is_signed;          /* INTEGER */
    ard_pq_time_unit unit;      /* TIME, TIMESTAMP */
    int32_t is_adjusted_to_utc; /* TIME, TIMESTAMP */
    int32_t from_converted;     /* 1 when derived from ConvertedType only */
} ard_pq_logical;

/* One node of the schema tree (a flattened depth-first list, as in the file; node 0 is the root). */
typedef struct ard_pq_schema_node {
    const char *name;
    const char *path; /* dotted path from the root's children ("a.list.element"); "" for root */
    int32_t is_leaf;
    ard_pq_type type;             /* leaves only */
    int32_t type_length;          /* FIXED_LEN_BYTE_ARRAY width, else 0 */
    ard_pq_repetition repetition; /* root: REQUIRED */
    int32_t num_children;
    int32_t parent; /* node index; -1 for root */
    /* node index of the first child; children are not contiguous: use the child list */
    int32_t first_child;
    const int32_t *children;  /* num_children node indices */
    int32_t converted_type;   /* ard_pq_converted_type, -1 when absent */
    int32_t scale, precision; /* SchemaElement.scale/precision (0 when absent) */
    int32_t has_field_id, field_id;
    ard_pq_logical logical;
    int16_t max_def, max_rep; /* definition/repetition level of this node */
    int32_t leaf_index;       /* index among leaves (column index) for leaves, else -1 */
} ard_pq_schema_node;

/* Column statistics. Byte strings point into memory owned by the file handle. */
typedef struct ard_pq_stats {
    int32_t present;                      /* the Statistics struct was present at all */
    int32_t has_min_value, has_max_value; /* min_value/max_value (fields 6/5): correct sort order */
    const uint8_t *min_value, *max_value;
    uint32_t min_value_len, max_value_len;
    int32_t has_legacy_min, has_legacy_max; /* deprecated min/max (fields 2/1): signed order */
    const uint8_t *legacy_min, *legacy_max;
    uint32_t legacy_min_len, legacy_max_len;
    int32_t has_null_count, has_distinct_count, has_nan_count;
    int64_t null_count, distinct_count, nan_count;
    int32_t has_is_min_exact, has_is_max_exact;
    int32_t is_min_value_exact, is_max_value_exact;
} ard_pq_stats;

typedef struct ard_pq_kv {
    const char *key;
    const char *value; /* NULL when the pair has no value */
    uint32_t value_len;
} ard_pq_kv;

typedef struct ard_pq_column_chunk {
    const char *file_path; /* ColumnChunk.file_path (NULL normally) */
    int64_t file_offset;
    int32_t has_meta_data;
    int32_t is_encrypted; /* crypto_metadata present or encrypted_column_metadata */
    /* ColumnMetaData */
    ard_pq_type type;
    int32_t num_encodings;
    const int32_t *encodings;
    int32_t path_len;
    const char *const *path_in_schema;
    ard_pq_codec codec;
    int64_t num_values;
    int64_t total_uncompressed_size;
    int64_t total_compressed_size;
    int32_t num_kv;
    const ard_pq_kv *kv;
    int64_t data_page_offset;
    int32_t has_index_page_offset;
    int64_t index_page_offset;
    int32_t has_dictionary_page_offset;
    int64_t dictionary_page_offset;
    ard_pq_stats stats;
    int32_t has_bloom_filter_offset, has_bloom_filter_length;
    int64_t bloom_filter_offset;
    int32_t bloom_filter_length;
    /* ColumnChunk page index locations */
    int32_t has_offset_index, has_column_index;
    int64_t offset_index_offset, column_index_offset;
    int32_t offset_index_length, column_index_length;
    /* derived: where the chunk's pages start (dictionary_page_offset if > 0, else data_page_offset) */
    int64_t chunk_start;
} ard_pq_column_chunk;

typedef struct ard_pq_sorting_column {
    int32_t column_idx, descending, nulls_first;
} ard_pq_sorting_column;

typedef struct ard_pq_row_group {
    int32_t num_columns;
    const ard_pq_column_chunk *columns; /* one per leaf, in leaf order */
    int64_t total_byte_size;
    int64_t num_rows;
    int32_t num_sorting_columns;
    const ard_pq_sorting_column *sorting_columns;
    int32_t has_file_offset, has_total_compressed_size, has_ordinal;
    int64_t file_offset, total_compressed_size;
    int32_t ordinal;
} ard_pq_row_group;

/* ColumnOrder per leaf: 0 = absent/unknown, 1 = TYPE_DEFINED_ORDER, 2 = IEEE_754_TOTAL_ORDER. */
typedef struct ard_pq_metadata {
    int32_t version;
    int32_t num_nodes;
    const ard_pq_schema_node *nodes;
    int32_t num_leaves;
    const int32_t *leaves; /* node index of each leaf column */
    int64_t num_rows;      /* sum of row_groups[i].num_rows (FileMetaData.num_rows may be wrong) */
    int64_t declared_num_rows; /* FileMetaData.num_rows as written */
    int32_t num_row_groups;
    const ard_pq_row_group *row_groups;
    int32_t num_kv;
    const ard_pq_kv *kv;
    const char *created_by; /* NULL when absent */
    int32_t num_column_orders;
    const int32_t *column_orders;
    int64_t footer_offset; /* byte offset of FileMetaData in the file */
    int64_t footer_length;
} ard_pq_metadata;

typedef struct ard_parquet_file ard_parquet_file;

/* Open options; zero-initialise, then set what you need. */
/* A pool of decode buffers (column chunk bytes, decompressed pages) that files opened with it
 * share (ard_parquet_open_options.buffers). Without one, each file pools its own buffers and
 * frees them at close, so a reader that goes through many files, or opens one file again and
 * again, maps and page-faults fresh buffers for every file (on this project's VMs that was 11-19%
 * of a compressed spectra decode: bench/results/parquet-decode.md). Holds at most max_buffers idle
 * buffers (1..64; two per decoding thread suffice); a buffer above max_bytes (0: 256 MiB) is freed
 * instead of kept. Thread-safe. It must outlive every file opened with it. */
typedef struct ard_parquet_buffers ard_parquet_buffers;
/* Errors: ARD_EINVAL (max_buffers outside 1..64, max_bytes < 0), ARD_ENOMEM. On failure *out is
 * NULL. */
ARD_API ard_status ard_parquet_buffers_new(int32_t max_buffers, int64_t max_bytes,
                                           ard_parquet_buffers **out, ard_error *err);
/* Frees the pool and the buffers it holds (accepts NULL). Not while a file opened with it is
 * open. */
ARD_API void ard_parquet_buffers_free(ard_parquet_buffers *buffers);
/* Bytes held by idle buffers of the pool (capacity, not pages touched). Thread-safe. */
ARD_API int64_t ard_parquet_buffers_held(const ard_parquet_buffers *buffers);

typedef struct ard_parquet_open_options {
    int32_t skip_crc_check;       /* 1: do not verify page CRCs */
    int64_t memory_cap;           /* cap on decoded bytes per column chunk; 0 = default (4 GiB) */
    ard_parquet_buffers *buffers; /* NULL: per-file buffers; else borrowed for the file's life */
} ard_parquet_open_options;

/* Opens `path` and decodes its footer only (no data page is read). opts may be NULL.
 * Errors: ARD_ENOENT/ARD_EIO (file), ARD_ECORRUPT (bad magic, footer, schema; message names the path and
 * byte offset), ARD_ENOTSUP (encrypted footer "PARE"). On failure *out is NULL. */
ARD_API ard_status ard_parquet_open(const char *path, const ard_parquet_open_options *opts,
                                    ard_parquet_file **out, ard_error *err);
/* Same, over a caller-owned memory buffer that must outlive the handle (used by fuzzers and tests). */
ARD_API ard_status ard_parquet_open_memory(const uint8_t *data, size_t size, const char *name,
                                           const ard_parquet_open_options *opts,
                                           ard_parquet_file **out, ard_error *err);
ARD_API void ard_parquet_close(ard_parquet_file *file); /* accepts NULL */
/* A handle on a file's footer alone: `footer` holds the FileMetaData bytes (metadata.footer_length
 * bytes, as found at metadata.footer_offset) of a file of file_size bytes read elsewhere, e.g. by
 * another MPI rank. The metadata, schema and key-value accessors work as for ard_parquet_open;
 * reading a column returns ARD_ENOTSUP (there is no data). The bytes are copied. Errors as
 * ard_parquet_open's footer errors (ARD_ECORRUPT naming `name`), ARD_EINVAL, ARD_ENOMEM. */
ARD_API ard_status ard_parquet_open_footer(const uint8_t *footer, size_t len, int64_t file_size,
                                           const char *name, ard_parquet_file **out,
                                           ard_error *err);

/* The decoded footer; owned by the file. Never NULL for an open file. */
ARD_API const ard_pq_metadata *ard_parquet_metadata(const ard_parquet_file *file);
ARD_API const char *ard_parquet_path(const ard_parquet_file *file);
ARD_API int64_t ard_parquet_file_size(const ard_parquet_file *file);
/* Leaf index of a column by dotted path (as ard_pq_schema_node.path), or -1. */
ARD_API int32_t ard_parquet_find_leaf(const ard_parquet_file *file, const char *path);
/* Value of key-value metadata `key`, or NULL. */
ARD_API const char *ard_parquet_kv_get(const ard_parquet_file *file, const char *key);

/* ---- column data ------------------------------------------------------------------------------ */

/* One leaf column of one row group, decoded: the Dremel level streams plus the dense non-null values.
 * Caller-owned struct; ard_pq_column_data_reset frees it (safe twice). */
typedef struct ard_pq_column_data {
    int32_t leaf;
    ard_pq_type type;
    int32_t type_length; /* FIXED_LEN_BYTE_ARRAY width */
    int16_t max_def, max_rep;
    int64_t num_rows;    /* records (rows) covered */
    int64_t num_levels;  /* level entries = value slots, including nulls and empty lists */
    int16_t *def_levels; /* num_levels entries; NULL when max_def == 0 (all defined) */
    int16_t *rep_levels; /* num_levels entries; NULL when max_rep == 0 */
    int64_t num_values;  /* values present (def == max_def) */
    /* Fixed-width types: num_values elements of the physical width, little-endian as in PLAIN
     * (BOOLEAN: one byte 0/1 each; INT96: 12 bytes; FIXED_LEN_BYTE_ARRAY: type_length bytes). */
    void *values;
    /* BYTE_ARRAY: offsets[num_values + 1] into data. */
    int64_t *offsets;
    uint8_t *data;
} ard_pq_column_data;

ARD_API void ard_pq_column_data_reset(ard_pq_column_data *col);

/* Decodes leaf column `leaf` of row group `row_group` (all pages). Verifies page CRCs unless the file
 * was opened with skip_crc_check. Thread-safe with other reads of the same file.
 * Errors: ARD_EINVAL (indexes out of range), ARD_ECORRUPT (message names path, column, byte offset),
 * ARD_ECHECKSUM, ARD_ENOTSUP (codec/encoding/encryption), ARD_ELIMIT (memory cap), ARD_ENOMEM. */
ARD_API ard_status ard_parquet_read_column(const ard_parquet_file *file, int32_t row_group,
                                           int32_t leaf, ard_pq_column_data *out, ard_error *err);

/* Buffers kept by the caller across many column reads (ard_parquet_read_column_kept): each read
 * decodes into them, sized up front from the footer (the chunk's level count) and grown only when a
 * column needs more than every earlier one did, instead of into fresh arrays whose pages the kernel
 * must fault in and zero again for every row group (18% of a catalog load's client CPU went to
 * that; bench/results/index.md). Big buffers get transparent huge pages (ard_advise_huge).
 * Zero-initialise; free with ard_pq_column_buffers_reset. Not shared between threads at once. */
typedef struct ard_pq_column_buffers {
    /* The last successful read, exactly as ard_parquet_read_column returns it (NULL arrays where it
     * has none); its arrays belong to these buffers and stay valid until the next read or reset. */
    ard_pq_column_data col;
    /* The kept allocations and their sizes in bytes (the reader's; do not touch). */
    int16_t *def_keep, *rep_keep;
    void *values_keep;
    int64_t *offsets_keep;
    uint8_t *data_keep;
    size_t def_cap, rep_cap, values_cap, offsets_cap, data_cap;
} ard_pq_column_buffers;

/* Frees the buffers (safe twice; the struct is zeroed). */
ARD_API void ard_pq_column_buffers_reset(ard_pq_column_buffers *bufs);

/* ard_parquet_read_column into kept buffers: the same checks, errors and result (bufs->col), decoded
 * into bufs' allocations (grown when needed) instead of fresh ones. After a failure bufs->col is
 * empty (zeroed) and the buffers are freed. */
ARD_API ard_status ard_parquet_read_column_kept(const ard_parquet_file *file, int32_t row_group,
                                                int32_t leaf, ard_pq_column_buffers *bufs,
                                                ard_error *err);

/* Like ard_parquet_read_column, restricted to rows [first_row, first_row + num_rows) of the row group.
 * Uses the OffsetIndex (when the file has one) to read only the pages that hold those rows; without a
 * page index it decodes from the start of the chunk. out->num_rows == rows actually returned. */
ARD_API ard_status ard_parquet_read_column_rows(const ard_parquet_file *file, int32_t row_group,
                                                int32_t leaf, int64_t first_row, int64_t num_rows,
                                                ard_pq_column_data *out, ard_error *err);

/* The spectra fast path: a list<float> leaf whose non-null lists all have the same length, decoded
 * straight into one contiguous rows x width float32 array. Null elements are stored as NaN and marked
 * in `validity` (rows*width bits, LSB-first, 1 = valid), which stays NULL when no element is null.
 * A null list is all-invalid (and row_validity, 1 bit per row, is allocated). Lists of different
 * lengths -> ARD_EINVAL (callers fall back to ard_parquet_read_column). Free with ard_pq_matrix_reset. */
typedef struct ard_pq_f32_matrix {
    int64_t rows, width;
    float *values;
    uint8_t *validity;
    uint8_t *row_validity;
} ard_pq_f32_matrix;
ARD_API ard_status ard_parquet_read_f32_matrix(const ard_parquet_file *file, int32_t row_group,
                                               int32_t leaf, ard_pq_f32_matrix *out,
                                               ard_error *err);
ARD_API void ard_pq_matrix_reset(ard_pq_f32_matrix *m);

/* ard_parquet_read_f32_matrix into caller memory (a loader reuses its buffers, or decodes straight into
 * a shared-memory slot): `values` holds `capacity` floats, `validity` is NULL or holds `capacity` bits.
 * On success *rows_out = the row group's rows, *width_out = the list length, and *has_nulls says whether
 * any element (or whole list) is null: then those elements are NaN and, when validity is given, its
 * first rows*width bits are filled (1 = valid); without nulls `validity` is not touched.
 * ARD_ELIMIT when rows*width > capacity; other errors as ard_parquet_read_f32_matrix. */
ARD_API ard_status ard_parquet_read_f32_matrix_into(const ard_parquet_file *file, int32_t row_group,
                                                    int32_t leaf, float *values, int64_t capacity,
                                                    uint8_t *validity, int64_t *rows_out,
                                                    int64_t *width_out, int32_t *has_nulls,
                                                    ard_error *err);

/* ---- Arrow C Data Interface export ------------------------------------------------------------ */

/* Number of top-level fields (children of the schema root) and lookup by name (-1 if absent). */
ARD_API int32_t ard_parquet_num_fields(const ard_parquet_file *file);
ARD_API int32_t ard_parquet_find_field(const ard_parquet_file *file, const char *name);

/* Decodes top-level fields `fields[0..num_fields)` (all fields when fields == NULL) of one row group into
 * an Arrow record batch: `array_out` is a "+s" struct array with one child per field and `schema_out`
 * its schema. Nesting follows the Parquet LIST/MAP rules including the legacy list forms
 * (LIST -> "+l", MAP -> "+m", groups -> "+s"; a MAP without a value field becomes a list of its keys).
 * Type mapping: INT(8/16/32/64, signed or not) -> c/s/i/l, C/S/I/L; FLOAT/DOUBLE -> f/g; FLOAT16 -> e;
 * BOOLEAN -> b; STRING/ENUM/JSON -> U (large utf8); other BYTE_ARRAY -> Z; FLBA(n) -> w:n; DECIMAL ->
 * d:p,s (d:p,s,256 above 38 digits); DATE -> tdD; TIME -> ttm/ttu/ttn; TIMESTAMP -> tsm/tsu/tsn with "UTC"
 * when adjusted to UTC; INT96 -> tsu: (microseconds, so Spark's far-future dates do not overflow);
 * INTERVAL -> tin; UUID -> w:16 and JSON -> U carry ARROW:extension:name arrow.uuid / arrow.json;
 * UNKNOWN -> n. Both outputs are owned by the caller, who must call their release callbacks; the data is
 * independent of the file handle. Thread-safe with other reads of the same file.
 * Errors: as ard_parquet_read_column, plus ARD_ENOTSUP for schema shapes that have no Arrow meaning. */
ARD_API ard_status ard_parquet_read_arrow(const ard_parquet_file *file, int32_t row_group,
                                          const int32_t *fields, int32_t num_fields,
                                          struct ArrowSchema *schema_out,
                                          struct ArrowArray *array_out, ard_error *err);

/* An IEEE 754 half-precision value (FLOAT16 logical type, little-endian bits as stored) as a
 * double; NaN and the infinities are kept. Thread-safe. */
ARD_API double ard_parquet_half_to_double(uint16_t half);

/* A statistics value (Statistics.min_value / max_value: PLAIN bytes of one value) decoded by the
 * column's physical type and logical type -- the one decoder `ard parquet meta` and sync use.
 * kind: ard_parquet_value_kind. */
typedef enum ard_parquet_value_kind {
    ARD_PARQUET_VALUE_RAW = 0, /* bytes only: the length does not fit the type, or no decoding
                                  (INT96, BSON, UUID, other binary) */
    ARD_PARQUET_VALUE_BOOL,    /* i: 0 or 1 */
    ARD_PARQUET_VALUE_INT,     /* i: INT32 (sign-extended) or INT64 */
    ARD_PARQUET_VALUE_UINT,    /* u: INT32 / INT64 with INTEGER(unsigned) */
    ARD_PARQUET_VALUE_DOUBLE,  /* d: FLOAT, DOUBLE or FLOAT16 (bits: 32, 64, 16); NaN/inf kept */
    ARD_PARQUET_VALUE_DECIMAL, /* decimal_hi:decimal_lo, the unscaled 128-bit two's complement
                                  value (INT32, INT64 or 1-16 big-endian bytes); scale */
    ARD_PARQUET_VALUE_TEXT     /* bytes: a string type (BYTE_ARRAY without a logical type or with
                                  STRING/ENUM/JSON, FIXED_LEN_BYTE_ARRAY with STRING); UTF-8 is
                                  not checked */
} ard_parquet_value_kind;

typedef struct ard_parquet_value {
    int32_t kind;  /* ard_parquet_value_kind */
    int32_t bits;  /* DOUBLE: 16, 32 or 64, the width it was stored in */
    int32_t scale; /* DECIMAL: digits after the point */
    int32_t unused;
    int64_t i;
    uint64_t u;
    double d;
    int64_t decimal_hi;
    uint64_t decimal_lo;
    const uint8_t *bytes; /* always the input (borrowed from the caller) */
    size_t len;
} ard_parquet_value;

/* Decodes bytes[len] of physical type `type` (ard_pq_type) with the logical type of `leaf` (NULL:
 * physical type only) into *out. Never fails: a value it cannot decode is ARD_PARQUET_VALUE_RAW.
 * Thread-safe. */
ARD_API void ard_parquet_value_decode(const ard_pq_schema_node *leaf, int32_t type,
                                      const uint8_t *bytes, size_t len, ard_parquet_value *out);
/* The value as a double: 1 for INT, UINT, DOUBLE and DECIMAL (unscaled / 10^scale) that is not NaN
 * (infinities count), 0 otherwise (*out untouched). */
ARD_API int32_t ard_parquet_value_to_double(const ard_parquet_value *v, double *out);

/* Parquet's legacy ConvertedType (SchemaElement.converted_type), the one enum every reader and
 * writer of ard uses for it. */
typedef enum ard_pq_converted_type {
    ARD_PQ_CT_UTF8 = 0,
    ARD_PQ_CT_MAP = 1,
    ARD_PQ_CT_MAP_KEY_VALUE = 2,
    ARD_PQ_CT_LIST = 3,
    ARD_PQ_CT_ENUM = 4,
    ARD_PQ_CT_DECIMAL = 5,
    ARD_PQ_CT_DATE = 6,
    ARD_PQ_CT_TIME_MILLIS = 7,
    ARD_PQ_CT_TIME_MICROS = 8,
    ARD_PQ_CT_TIMESTAMP_MILLIS = 9,
    ARD_PQ_CT_TIMESTAMP_MICROS = 10,
    ARD_PQ_CT_UINT_8 = 11,
    ARD_PQ_CT_UINT_16 = 12,
    ARD_PQ_CT_UINT_32 = 13,
    ARD_PQ_CT_UINT_64 = 14,
    ARD_PQ_CT_INT_8 = 15,
    ARD_PQ_CT_INT_16 = 16,
    ARD_PQ_CT_INT_32 = 17,
    ARD_PQ_CT_INT_64 = 18,
    ARD_PQ_CT_JSON = 19,
    ARD_PQ_CT_BSON = 20,
    ARD_PQ_CT_INTERVAL = 21
} ard_pq_converted_type;
/* "UTF8", "TIMESTAMP_MILLIS", ... (static); NULL for -1 or an unknown value. */
ARD_API const char *ard_pq_converted_type_name(int32_t converted_type);

/* Names for enums (static strings; "UNKNOWN(n)" style values are rendered as "?"). */
ARD_API const char *ard_pq_type_name(int type);
ARD_API const char *ard_pq_codec_name(int codec);
ARD_API const char *ard_pq_encoding_name(int encoding);
ARD_API const char *ard_pq_repetition_name(int repetition);
ARD_API const char *ard_pq_logical_name(ard_pq_logical_kind kind);

#ifdef __cplusplus
}
#endif
#endif
