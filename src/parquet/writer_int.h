/* Private interface of the Parquet writer: the Thrift compact encoder, the writer's column schema,
 * statistics, dictionaries, page and chunk builders, and footer encoding.
 * Only src/parquet/writer*.c and thrift_write.c include this header (tests may, by relative path).
 */
#ifndef ARD_PARQUET_WRITER_INT_H
#define ARD_PARQUET_WRITER_INT_H

#include "ard/parquet_write.h"
#include "parquet_int.h"

/* ------------------------------------------------------------------------------------------------
 * Thrift compact protocol encoder (thrift_write.c). Appends to an ard_buf; allocation failure is
 * sticky in the buffer (check out->failed once at the end). Field ids are delta-encoded against a
 * per-struct stack, as the protocol requires. */
#define ARD__TW_MAX_DEPTH 16
typedef struct ard__tw {
    ard_buf *out;
    int depth;
    int16_t last_id[ARD__TW_MAX_DEPTH];
} ard__tw;

void ard__tw_init(ard__tw *t, ard_buf *out);
void ard__tw_varint(ard__tw *t, uint64_t v);
void ard__tw_field(ard__tw *t, int16_t id, uint8_t type);
void ard__tw_stop(ard__tw *t);         /* STOP byte and pop: ends the current struct */
void ard__tw_struct_begin(ard__tw *t); /* push: a nested struct's field ids restart at 0 */
void ard__tw_list_begin(ard__tw *t, uint8_t elem_type, int64_t size);
void ard__tw_i32(ard__tw *t, int32_t v); /* zigzag varint, no field header (list elements) */
void ard__tw_i64(ard__tw *t, int64_t v);
void ard__tw_binary(ard__tw *t, const void *data, size_t len);
void ard__tw_list_bool(ard__tw *t, int v); /* one byte: 1 true, 2 false */
/* Field helpers: header + value. Bool fields carry the value in the header. */
void ard__tw_field_i32(ard__tw *t, int16_t id, int32_t v);
void ard__tw_field_i64(ard__tw *t, int16_t id, int64_t v);
void ard__tw_field_i8(ard__tw *t, int16_t id, int8_t v);
void ard__tw_field_bool(ard__tw *t, int16_t id, int v);
void ard__tw_field_binary(ard__tw *t, int16_t id, const void *data, size_t len);
void ard__tw_field_string(ard__tw *t, int16_t id, const char *s);
void ard__tw_field_struct(ard__tw *t, int16_t id);       /* header + struct_begin */
void ard__tw_field_empty_struct(ard__tw *t, int16_t id); /* header + STOP (union members) */

/* ------------------------------------------------------------------------------------------------
 * Columns as declared (writer_schema.c). */
typedef enum ard__sort_kind {
    ARD__SORT_NONE = 0, /* no min/max written */
    ARD__SORT_BOOL,
    ARD__SORT_I32,
    ARD__SORT_U32,
    ARD__SORT_I64,
    ARD__SORT_U64,
    ARD__SORT_F32,
    ARD__SORT_F64,
    ARD__SORT_BYTES /* unsigned byte-wise (BYTE_ARRAY, FLBA) */
} ard__sort_kind;

typedef struct ard__pqw_column {
    char *name;
    ard_pq_type type; /* leaf physical type */
    int32_t type_length;
    ard_pq_repetition repetition; /* primitive: its own; list: the list group's */
    int32_t is_list;
    ard_pq_repetition elem_repetition;
    ard_pq_logical logical; /* the leaf's logical type */
    int32_t sorted;
    int32_t encoding; /* forced value encoding or -1 */
    /* derived by ard__pqw_column_derive */
    int16_t max_def, max_rep;
    int32_t input_width;  /* bytes per input value (0 for BYTE_ARRAY) */
    int32_t value_width;  /* bytes per stored PLAIN value (0 for BYTE_ARRAY, 1 for BOOLEAN) */
    int32_t input_signed; /* widening of 1/2-byte inputs: sign (1) or zero (0) extension */
    ard__sort_kind sort_kind;
} ard__pqw_column;

struct ard_pq_schema_builder {
    ard__pqw_column *cols;
    int32_t num_cols, cap;
};

void ard__pqw_column_derive(ard__pqw_column *c);
ard_status ard__pqw_schema_copy(const ard_pq_schema_builder *src, ard_pq_schema_builder *dst,
                                ard_error *err);
void ard__pqw_schema_reset(ard_pq_schema_builder *sb);
/* The value encoding a column uses by default (before any dictionary fallback). */
int32_t ard__pqw_default_encoding(const ard__pqw_column *c, const ard_pq_writer_options *o);

/* ------------------------------------------------------------------------------------------------
 * Statistics (writer_stats.c). Numeric extremes are kept typed; byte strings in buffers. */
typedef struct ard__pqw_stats {
    int64_t null_count;
    int64_t nan_count;
    int64_t num_values; /* non-null values seen */
    int32_t has_minmax;
    int64_t imin, imax; /* BOOL, I32, I64; U32/U64 as their bits */
    double dmin, dmax;  /* F32 (exactly), F64 */
    ard_buf bmin, bmax; /* BYTES */
} ard__pqw_stats;

void ard__pqw_stats_init(ard__pqw_stats *s);
void ard__pqw_stats_reset(ard__pqw_stats *s);
void ard__pqw_stats_clear(ard__pqw_stats *s); /* empties, keeps buffers */
/* Folds `count` dense stored values (PLAIN layout; BYTE_ARRAY with 4-byte length prefixes; BOOLEAN
 * 1 byte each) into s. */
void ard__pqw_stats_update(ard__pqw_stats *s, ard__sort_kind kind, const uint8_t *values,
                           int64_t count, size_t nbytes, int32_t width);
void ard__pqw_stats_merge(ard__pqw_stats *dst, const ard__pqw_stats *src, ard__sort_kind kind);
/* As ard__pqw_stats_update of `count` FLOAT values whose NaN count and extremes over the non-NaN
 * ones (lo/hi; +/-infinity when none) the caller found (writer_split.c). */
void ard__pqw_stats_fold_f32(ard__pqw_stats *s, int64_t count, int64_t nans, float lo, float hi);
/* Encodes min or max as PLAIN bytes (no length prefix) into out (cleared first); -0.0/+0.0 rule. */
void ard__pqw_stats_encode_bound(const ard__pqw_stats *s, ard__sort_kind kind, int32_t width,
                                 int is_max, ard_buf *out);
/* Compares two encoded bounds under `kind`: <0, 0, >0. */
int ard__pqw_bound_cmp(ard__sort_kind kind, const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen);
/* Byte-string bounds longer than these are truncated (min: a prefix; max: a prefix with its last
 * byte below 0xFF incremented), as parquet-mr does for the page index. */
#define ARD__PQW_STATS_MAX_BYTES 4096
#define ARD__PQW_INDEX_MAX_BYTES 64
/* Truncates bound v (min or max) to at most `limit` bytes into out. Returns 1 when truncated, 0
 * when out holds v itself (short enough, or a max of only 0xFF bytes, which cannot be shortened).
 */
int ard__pqw_truncate_bound(const uint8_t *v, size_t len, size_t limit, int is_max, ard_buf *out);
/* Writes a Statistics struct as field `field_id` of the current struct. */
void ard__pqw_stats_write(ard__tw *t, int16_t field_id, const ard__pqw_stats *s,
                          const ard__pqw_column *c, int with_minmax);

/* ------------------------------------------------------------------------------------------------
 * Dictionary (writer_dict.c): distinct values in PLAIN form, open-addressing hash of their bytes.
 */
typedef struct ard__pqw_dict {
    ard_buf plain;      /* PLAIN-encoded entries (the dictionary page body) */
    int64_t *value_off; /* offset of entry i's value bytes in plain (after any length prefix) */
    uint32_t *value_len;
    uint64_t *hashes;
    int64_t count, cap;
    uint32_t *slots;    /* entry index + 1, 0 = empty */
    uint64_t num_slots; /* power of two */
} ard__pqw_dict;

void ard__pqw_dict_init(ard__pqw_dict *d);
void ard__pqw_dict_reset(ard__pqw_dict *d);
/* Index of value (inserting it when new); -1 on allocation failure. `prefix_len` = 4 for BYTE_ARRAY
 * (plain form with a length prefix), else 0. */
int64_t ard__pqw_dict_insert(ard__pqw_dict *d, const uint8_t *value, uint32_t len, int prefix_len);

/* ------------------------------------------------------------------------------------------------
 * Page and chunk builders (writer_page.c). */
/* A page's repetition or definition levels, or its dictionary indices, as runs (writer_levels.c):
 * run i is value[i] repeated count[i] times; neighbouring runs differ (push merges), as the encoder
 * requires. */
typedef struct ard__pqw_levels {
    uint32_t *value;
    int64_t *count;
    int64_t num_runs, cap_runs;
} ard__pqw_levels;

int ard__pqw_levels_grow(ard__pqw_levels *l); /* -1 when out of memory */
void ard__pqw_levels_reset(ard__pqw_levels *l);
/* The runs' RLE / bit-packed hybrid, the same bytes as ard__rle_encode_u32 (or, for levels,
 * ard__rle_encode_levels) of the expanded values; tmp: scratch for the expanded bit-packed
 * sections. Allocation failure sets out->failed. */
void ard__pqw_levels_encode(const ard__pqw_levels *l, int bit_width, ard_buf *tmp, ard_buf *out);

/* Appends n (>= 0) values v; -1 when out of memory. */
static inline int ard__pqw_levels_push(ard__pqw_levels *l, uint32_t v, int64_t n) {
    if (n <= 0) {
        return 0;
    }
    if (l->num_runs > 0 && l->value[l->num_runs - 1] == v) {
        l->count[l->num_runs - 1] += n;
        return 0;
    }
    if (l->num_runs == l->cap_runs && ard__pqw_levels_grow(l) != 0) {
        return -1;
    }
    l->value[l->num_runs] = v;
    l->count[l->num_runs++] = n;
    return 0;
}

typedef struct ard__pqw_page {
    ard__pqw_levels def, rep;
    int64_t num_levels;
    ard_buf values;    /* stored values, dense (BYTE_ARRAY: PLAIN with length prefixes) */
    uint32_t *indices; /* dictionary mode */
    int64_t cap_indices;
    ard__pqw_levels index_runs; /* dictionary mode, 1-byte integer inputs: the indices as runs */
    int32_t indices_as_runs;    /* this page's indices are in index_runs, not indices */
    int64_t num_values;         /* non-null values */
    int64_t num_rows;
    int64_t first_row; /* within the row group */
    int32_t dict_mode;
    ard__pqw_stats stats;
} ard__pqw_page;

typedef struct ard__pqw_page_loc {
    int64_t offset; /* within chunk->pages until the chunk is written, then in the file */
    int32_t size;   /* header + body */
    int64_t first_row;
} ard__pqw_page_loc;

typedef struct ard__pqw_chunk {
    ard_buf pages;     /* data pages: header + body, back to back */
    ard_buf dict_page; /* header + body of the dictionary page, if any */
    ard__pqw_dict dict;
    int32_t dict_active;    /* values go to the dictionary */
    int32_t dict_used;      /* some page is dictionary-encoded */
    int32_t value_encoding; /* non-dictionary encoding of this chunk */
    ard__pqw_stats stats;
    int64_t num_levels, num_rows;
    int64_t uncompressed, compressed; /* data pages, headers included */
    int64_t dict_uncompressed;
    int32_t num_dict_pages_data, num_plain_pages; /* data pages per encoding family */
    int32_t num_pages;
    ard__pqw_page_loc *locs;
    /* ColumnIndex entries, parallel to locs */
    uint8_t *null_pages;
    int64_t *page_null_counts, *page_nan_counts;
    ard_buf bounds;     /* min_i then max_i, back to back */
    int64_t *bound_off; /* 2 * num_pages + 1 offsets into bounds */
    int32_t index_ok;   /* 0: omit the ColumnIndex (an all-NaN page) */
    int32_t cap_pages;
    int32_t sorted_ok, has_last; /* ascending check for sorting_columns */
    int64_t last_sorted;
    /* file placement (set when written) */
    int32_t done;       /* the column has finished this chunk */
    int32_t streaming;  /* its pages go straight to the file (it is next in file order) */
    int64_t page_bytes; /* data page bytes so far: page offsets are relative to the first */
    int64_t file_start, dict_offset, data_offset;
    int64_t ci_offset, oi_offset;
    int32_t ci_len, oi_len;
} ard__pqw_chunk;

/* BYTE_STREAM_SPLIT values up to this wide are compressed one byte stream at a time (SNAPPY). */
#define ARD__PQW_SPLIT_PARTS 16

typedef struct ard__pqw_scratch {
    ard_buf levels, values, body, comp, header, bound;
    ard_buf expand; /* levels of bit-packed sections (writer_levels.c) */
} ard__pqw_scratch;

typedef struct ard__pqw_rowgroup {
    ard__pqw_chunk *chunks; /* one per column */
    int64_t limit;          /* rows in this row group (INT64_MAX until decided) */
    int32_t cols_done;
    int32_t written;
    int64_t num_rows;
    int64_t file_offset, total_compressed, total_uncompressed;
} ard__pqw_rowgroup;

struct ard_pq_writer {
    char *path;
    ard_atomic_file *file;
    ard_pq_schema_builder schema;
    ard_pq_writer_options opts;
    char **kv_keys, **kv_values;
    ard__pqw_rowgroup *rgs; /* every row group so far (written ones keep their metadata) */
    int32_t num_rgs, cap_rgs;
    int32_t first_open_rg; /* oldest row group not yet written */
    int32_t *col_rg;       /* row group each column is filling */
    int64_t *col_rows;     /* rows appended to each column in total */
    int64_t *col_rg_rows;  /* rows in the column's current row group */
    ard__pqw_page *pages;  /* page under construction per column */
    int32_t next_col;      /* next column of rgs[first_open_rg] to reach the file */
    ard__pqw_scratch scratch;
    ard_buf *spare; /* empty chunk page buffers, kept for the next chunks */
    int32_t num_spare, cap_spare;
    ard_parquet_writer_buffers *pool; /* borrowed (opts.buffers) or NULL */
    ard_status failed;
    ard_error failed_err;
};

void ard__pqw_page_init(ard__pqw_page *p);
void ard__pqw_page_reset(ard__pqw_page *p);
void ard__pqw_chunk_init(ard__pqw_chunk *c);
void ard__pqw_chunk_reset(ard__pqw_chunk *c);
void ard__pqw_chunk_free_data(ard__pqw_chunk *c); /* frees page bytes, keeps footer metadata */
void ard__pqw_scratch_reset(ard__pqw_scratch *s);
/* Encoded (uncompressed) bytes held by the page under construction. */
int64_t ard__pqw_page_bytes(const ard__pqw_page *p);
/* Room for `extra` more dictionary indices in page p (writer_append.c). */
int ard__pqw_page_reserve_indices(ard__pqw_page *p, int64_t extra);
/* Encodes, compresses and appends page p to chunk, or to the file when the chunk is next in file
 * order (then clears p). */
ard_status ard__pqw_flush_page(ard_pq_writer *w, int32_t col, ard__pqw_chunk *chunk,
                               ard__pqw_page *p, ard_error *err);
/* Builds the dictionary page of a chunk (when it used one). */
ard_status ard__pqw_finish_chunk(ard_pq_writer *w, int32_t col, ard__pqw_chunk *chunk,
                                 ard_error *err);

/* FLOAT values of BYTE_STREAM_SPLIT pages split into their streams as they arrive (writer_split.c).
 * ard__pqw_split_mode: the kernel used; tests set OFF (the plain path: values copied into the page,
 * split at flush) or PORTABLE to compare them with FASTEST (AVX-512 where the CPU has it). */
enum { ARD__PQW_SPLIT_OFF = 0, ARD__PQW_SPLIT_PORTABLE = 1, ARD__PQW_SPLIT_FASTEST = 2 };
extern int ard__pqw_split_mode;
/* Whether page p of column c in chunk ch holds its values as four streams: stream j of value i at
 * j * ard__pqw_split_stride(p) + i (values.len stays 4 bytes per value). */
int ard__pqw_split_layout(const ard__pqw_column *c, const ard__pqw_chunk *ch,
                          const ard__pqw_page *p);
size_t ard__pqw_split_stride(const ard__pqw_page *p);
/* Appends `count` FLOAT values (PLAIN bytes) to page p in the split layout and folds them into its
 * statistics and value count; -1 when out of memory. */
int ard__pqw_split_push(ard__pqw_page *p, const uint8_t *src, int64_t count);
/* The start of each of page p's four streams (p->num_values bytes each). */
void ard__pqw_split_parts(const ard__pqw_page *p, const uint8_t *streams[4]);

/* Appending user data (writer_append.c). offsets: rows+1 list offsets, or NULL with `width` for a
 * matrix, or NULL with width 0 for a flat column. data/binary_offsets for BYTE_ARRAY. */
typedef struct ard__pqw_input {
    const uint8_t *values;
    const int64_t *list_offsets;
    const int32_t *list_offsets32;
    int64_t width;
    const uint8_t *elem_validity;
    int64_t elem_validity_offset; /* bit offset into elem_validity */
    const uint8_t *row_validity;
    int64_t row_validity_offset;
    const int64_t *bin_offsets;
    const int32_t *bin_offsets32;
    const uint8_t *bin_data;
    int32_t input_width;      /* bytes per input value */
    int32_t bool_bits;        /* BOOLEAN input as an LSB bitmap (Arrow) rather than bytes */
    int64_t value_bit_offset; /* bit offset for bool_bits */
} ard__pqw_input;

ard_status ard__pqw_append(ard_pq_writer *w, int32_t col, const ard__pqw_input *in, int64_t rows,
                           ard_error *err);
/* Checks a prepared input against column c (nulls where REQUIRED, offsets) without side effects. */
ard_status ard__pqw_check_input(const ard__pqw_column *c, const ard__pqw_input *in, int64_t rows,
                                ard_error *err);
/* Checks, appends, ends the row group if due, and marks the writer failed on error. */
ard_status ard__pqw_append_checked(ard_pq_writer *w, int32_t col, const ard__pqw_input *in,
                                   int64_t rows, ard_error *err);
/* Row-group bookkeeping (writer.c). */
ard__pqw_chunk *ard__pqw_current_chunk(ard_pq_writer *w, int32_t col);
/* Whether the current chunk of `col` writes its pages to the file: once it is the next chunk in
 * file order and has no dictionary page to precede them; pages it held are written first. */
ard_status ard__pqw_stream_check(ard_pq_writer *w, int32_t col, int *streaming, ard_error *err);
ard_status ard__pqw_write_bytes(ard_pq_writer *w, const void *data, size_t len, ard_error *err);
/* An empty buffer for a chunk's pages (a spare one when there is one). */
void ard__pqw_take_spare(ard_pq_writer *w, ard_buf *out);
/* Writer buffers reused across files (writer_pool.c): moves the scratch, the pages' buffers and the
 * spare chunk buffers from the pool into w (at open), and back (at free). */
void ard__pqw_pool_take(ard_pq_writer *w);
void ard__pqw_pool_give(ard_pq_writer *w);
ard_status ard__pqw_column_end_rg(ard_pq_writer *w, int32_t col, ard_error *err);
int64_t ard__pqw_rows_left_in_rg(ard_pq_writer *w, int32_t col);
void ard__pqw_maybe_fix_limit(ard_pq_writer *w, int32_t col);

/* Footer and page index encoding (writer_meta.c). */
ard_status ard__pqw_write_page_index(ard_pq_writer *w, ard_error *err);
ard_status ard__pqw_encode_footer(const ard_pq_writer *w, ard_buf *out, ard_error *err);
void ard__pqw_encode_column_index(const ard__pqw_chunk *c, const ard__pqw_column *col,
                                  ard_buf *out);
void ard__pqw_encode_offset_index(const ard__pqw_chunk *c, ard_buf *out);

static inline int ard__bit_get(const uint8_t *bits, int64_t i) {
    return (bits[i >> 3] >> (i & 7)) & 1;
}

#endif
