// clang-format off
/* ard parquet writer: Parquet files that every Arrow/Parquet tool reads, tuned for spectra.
 *
 * Usage:
 *   ard_pq_schema_builder *sb;  ard_pq_schema_new(&sb, err);
 *   int32_t id, flux;
 *   ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, &id, err);
 *   ard_pq_schema_set_sorted(sb, id, 1, err);            // DELTA_BINARY_PACKED + sorting_columns
 *   ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, &flux,
 *                          err);
 *   ard_pq_writer_options o;  ard_pq_writer_options_init(&o);
 *   ard_pq_writer *w;  ard_pq_writer_open("tile.parquet", sb, &o, &w, err);
 *   ard_pq_writer_write_column(w, id, ids, NULL, rows, err);
 *   ard_pq_writer_write_list_matrix(w, flux, flux_values, rows, 4096, NULL, NULL, err);
 *   ard_pq_writer_close(w, err);                         // fsync + rename: the file appears atomically
 *
 * Columns are top-level fields: a primitive column (one leaf) or a 3-level LIST of a primitive
 *   <optional|required> group NAME (LIST) { repeated group list { <optional|required> T element; } }
 * Data is appended in batches: every column of a batch receives the same number of rows (in any column
 * order) before the next batch starts. The writer cuts row groups by itself (at the target size in bytes
 * or every rows_per_row_group rows; a batch may straddle row groups) or when asked
 * (ard_pq_writer_end_row_group). Each column chunk is encoded into pages as rows arrive, so a writer holds
 * at most the encoded, compressed row groups in flight plus one page being built per column; a chunk that
 * is next in file order (every earlier column of its row group finished) and has no dictionary page
 * writes its pages straight to the file, so a caller appending a row group of every column at a time,
 * columns in order, holds little more than one page per column. Streaming does not change the bytes.
 *
 * Input value layout per column ("input width"): BOOLEAN one byte per value (0 = false, else true);
 * INT32 4 bytes, except columns with logical INT(8, s) / INT(16, s) which take 1- or 2-byte integers
 * (int8_t/uint8_t, int16_t/uint16_t) widened by the writer; INT64 8; INT96 12; FLOAT 4; DOUBLE 8;
 * FIXED_LEN_BYTE_ARRAY type_length bytes; BYTE_ARRAY through ard_pq_writer_write_binary (offsets + data).
 * Validity bitmaps are Arrow-style: bit i = bitmap[i/8] >> (i%8) & 1, 1 = valid; NULL = all valid.
 * Values under a null slot are ignored (they must still be present in the array, as in Arrow).
 *
 * Thread-safety: a writer and a schema builder are used by one thread at a time; distinct writers are
 * independent. Errors follow ard/core.h: the first failing call fills `err`; after any failure other than
 * ARD_EINVAL on an argument check, the writer is failed: every later call returns the same status, and only
 * ard_pq_writer_abort (or close, which then aborts) remains useful. The target file is never touched until a
 * successful close. */
// clang-format on
#ifndef ARD_PARQUET_WRITE_H
#define ARD_PARQUET_WRITE_H

#include "ard/core.h"
#include "ard/parquet.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- schema -------------------------------------------------------------------------------------
// clang-format on

typedef struct ard_pq_schema_builder ard_pq_schema_builder;

/* A new, empty schema. Free with ard_pq_schema_free (accepts NULL). ARD_ENOMEM. */
ARD_API ard_status ard_pq_schema_new(ard_pq_schema_builder **out, ard_error *err);
ARD_API void ard_pq_schema_free(ard_pq_schema_builder *sb);

/* Adds a primitive top-level column; *col_out (may be NULL) receives its column index (0, 1, ...),
 * or -1 on error.
 * repetition: ARD_PQ_REQUIRED or ARD_PQ_OPTIONAL (use ard_pq_schema_add_list for repeated data).
 * logical: NULL or a logical annotation (only `kind` and the fields of that kind are read):
 *   ARD_PQ_LT_STRING/ENUM/JSON/BSON (BYTE_ARRAY), ARD_PQ_LT_INTEGER (bit_width 8/16/32 on INT32,
 *   64 on INT64, is_signed), ARD_PQ_LT_TIMESTAMP (INT64; unit, is_adjusted_to_utc), ARD_PQ_LT_TIME
 *   (INT32 millis, INT64 micros/nanos), ARD_PQ_LT_DATE (INT32), ARD_PQ_LT_DECIMAL
 * (INT32/INT64/FLBA/ BYTE_ARRAY; precision, scale), ARD_PQ_LT_UUID (FLBA 16), ARD_PQ_LT_FLOAT16
 * (FLBA 2). type_length: FIXED_LEN_BYTE_ARRAY width (> 0), else 0. The name must be unique and
 * non-empty. The string is copied. Errors: ARD_EINVAL (bad name/type/combination),
 * ARD_ENOMEM. */
ARD_API ard_status ard_pq_schema_add_column(ard_pq_schema_builder *sb, const char *name,
                                            ard_pq_type type, ard_pq_repetition repetition,
                                            const ard_pq_logical *logical, int32_t type_length,
                                            int32_t *col_out, ard_error *err);

/* Adds a 3-level LIST column of a primitive element type; *col_out (may be NULL) receives its
 * column index, or -1 on error.
 * list_repetition: REQUIRED/OPTIONAL (nullable lists); element_repetition: REQUIRED/OPTIONAL
 * (nullable elements); element_logical as for ard_pq_schema_add_column. Every physical type except
 * FIXED_LEN_BYTE_ARRAY (see ard_pq_schema_add_list_fixed). list<uint8> = INT32 elements with
 * logical INTEGER(8, unsigned) (1-byte inputs). Errors as ard_pq_schema_add_column. */
ARD_API ard_status ard_pq_schema_add_list(ard_pq_schema_builder *sb, const char *name,
                                          ard_pq_type element_type,
                                          ard_pq_repetition list_repetition,
                                          ard_pq_repetition element_repetition,
                                          const ard_pq_logical *element_logical, int32_t *col_out,
                                          ard_error *err);
/* The same with FIXED_LEN_BYTE_ARRAY(type_length) elements. */
ARD_API ard_status ard_pq_schema_add_list_fixed(ard_pq_schema_builder *sb, const char *name,
                                                int32_t type_length,
                                                ard_pq_repetition list_repetition,
                                                ard_pq_repetition element_repetition,
                                                const ard_pq_logical *element_logical,
                                                int32_t *col_out, ard_error *err);

/* Declares column `col` sorted ascending (1) or not (0). A sorted INT32/INT64 column is written
 * with DELTA_BINARY_PACKED unless an encoding is set explicitly, and each row group in which it
 * really is ascending (checked) lists it in RowGroup.sorting_columns. ARD_EINVAL for a bad index.
 */
ARD_API ard_status ard_pq_schema_set_sorted(ard_pq_schema_builder *sb, int32_t col, int32_t sorted,
                                            ard_error *err);

/* Forces the value encoding of column `col`: ARD_PQ_PLAIN, ARD_PQ_RLE_DICTIONARY (falls back to
 * PLAIN when the dictionary exceeds max_dictionary_bytes), ARD_PQ_DELTA_BINARY_PACKED (INT32/INT64
 * only), ARD_PQ_BYTE_STREAM_SPLIT (FLOAT, DOUBLE, INT32, INT64, FIXED_LEN_BYTE_ARRAY). -1 restores
 * the default: sorted ints DELTA_BINARY_PACKED; other ints, strings and FLBA dictionary (if enabled
 * in the options); floats BYTE_STREAM_SPLIT when options.byte_stream_split, else PLAIN; booleans
 * PLAIN. Note: BYTE_STREAM_SPLIT on INT32/INT64/FLBA is valid Parquet (format 2.11) but older
 * readers (DuckDB 1.5, Arrow before 17) reject it; it is only used when set here explicitly.
 * ARD_EINVAL / ARD_ENOTSUP for combinations the format does not allow. */
ARD_API ard_status ard_pq_schema_set_encoding(ard_pq_schema_builder *sb, int32_t col,
                                              int32_t encoding, ard_error *err);

ARD_API int32_t ard_pq_schema_num_columns(const ard_pq_schema_builder *sb);

// ---- options ------------------------------------------------------------------------------------

/* A pool of writer buffers (page and chunk buffers, encode and compress scratch) that writers
 * opened with it (ard_pq_writer_options.buffers) take at open and give back at close or abort, so a
 * program that writes many files (ard generate: one tile per HEALPix pixel) reuses buffers whose
 * pages are mapped instead of allocating and page-faulting fresh ones per file. The bytes written
 * are the same with or without a pool. Holds the buffers of at most max_writers closed writers
 * (1..64; one per writing thread suffices); a writer whose buffers total more than max_bytes (0:
 * 64 MiB) frees them instead of giving them back. Thread-safe: writers on several threads may
 * share one pool. It must outlive every writer opened with it. */
typedef struct ard_parquet_writer_buffers ard_parquet_writer_buffers;
/* Errors: ARD_EINVAL (out NULL, max_writers outside 1..64, max_bytes < 0), ARD_ENOMEM. On failure
 * *out is NULL. */
ARD_API ard_status ard_parquet_writer_buffers_new(int32_t max_writers, int64_t max_bytes,
                                                  ard_parquet_writer_buffers **out, ard_error *err);
/* Frees the pool and the buffers it holds (accepts NULL). Not while a writer opened with it is
 * open. */
ARD_API void ard_parquet_writer_buffers_free(ard_parquet_writer_buffers *buffers);
/* Bytes held by the pool's idle buffers (capacity). Thread-safe; 0 for NULL. */
ARD_API int64_t ard_parquet_writer_buffers_held(const ard_parquet_writer_buffers *buffers);

/* Caller-filled options. Call ard_pq_writer_options_init first. A zero size, level or version field
 * also means "default"; the flags keep their literal meaning (a zero-filled struct has PLAIN
 * floats). */
typedef struct ard_pq_writer_options {
    ard_pq_codec codec;             /* default ARD_PQ_SNAPPY (init); UNCOMPRESSED, SNAPPY, GZIP,
                                       BROTLI, ZSTD, LZ4_RAW are supported */
    int32_t compression_level;      /* codec-specific; 0 = codec default */
    int32_t page_version;           /* 1 (DATA_PAGE, default) or 2 (DATA_PAGE_V2) */
    int64_t target_row_group_bytes; /* cut row groups at this many encoded, uncompressed bytes;
                                       default 256 MiB */
    int64_t page_size_bytes;        /* target encoded bytes per data page; default 1 MiB */
    int64_t rows_per_row_group; /* > 0: exactly this many rows per row group (the last one may hold
                                   fewer); overrides target_row_group_bytes */
    int32_t byte_stream_split;  /* 1 (init's default): FLOAT/DOUBLE columns default to
                                   BYTE_STREAM_SPLIT (spectra: ~21% smaller under SNAPPY, 11%
                                   under ZSTD, and faster; bench/results/parquet-write.md); 0: PLAIN */
    int32_t disable_dictionary; /* 1: no dictionary encoding unless set per column */
    int64_t max_dictionary_bytes; /* PLAIN size of a chunk's dictionary before falling back to
                                     PLAIN; default 1 MiB */
    int32_t disable_page_index;   /* 1: no ColumnIndex/OffsetIndex */
    int32_t disable_crc;          /* 1: no page CRC-32 */
    int32_t disable_statistics;   /* 1: no min/max (null counts are still written) */
    int32_t num_kv;               /* key-value metadata: num_kv pairs, copied at open */
    const char *const *kv_keys;
    const char *const *kv_values; /* may be NULL, or hold NULL entries: a key without value */
    int32_t defer_sync;           /* 1: close renames the file into place without fsync (see
                           ard_atomic_defer_sync); the caller syncs later. Default 0: durable. */
    ard_parquet_writer_buffers *buffers; /* NULL (init's default): the writer's own buffers, freed
                                            at close; else borrowed until close or abort */
    int32_t direct_io; /* 1: the file's whole 4 MiB units bypass the page cache (O_DIRECT where the
                          file system takes it, see ard_atomic_direct_io): for large files not read
                          back soon. Default 0: buffered. */
    ard_atomic_batch *commit_batch; /* non-NULL: close hands the file to this batch's background
                                       commit (ard_atomic_in_batch: durable, then renamed, by its
                                       I/O thread; failures come from ard_atomic_batch_finish,
                                       which the caller must call); defer_sync is then ignored */
} ard_pq_writer_options;

/* Fills `opts` with the defaults above. Never fails; thread-safe. */
ARD_API void ard_pq_writer_options_init(ard_pq_writer_options *opts);

// ---- writer -------------------------------------------------------------------------------------

typedef struct ard_pq_writer ard_pq_writer;

/* Starts writing `path` through a temporary file in the same directory (ard_atomic_open); the final
 * path is replaced only by a successful ard_pq_writer_close. The schema is copied (the builder may
 * be freed at once). opts may be NULL (defaults). On failure *out is NULL and no file is left.
 * Errors: ARD_EINVAL (empty schema, bad options), ARD_ENOTSUP (codec), ARD_EIO (path), ARD_ENOMEM.
 */
ARD_API ard_status ard_pq_writer_open(const char *path, const ard_pq_schema_builder *schema,
                                      const ard_pq_writer_options *opts, ard_pq_writer **out,
                                      ard_error *err);

/* Sets the value of `key` in the footer's key-value metadata: replaces the value given at open (or
 * by an earlier call), or adds the key after the others. value may be NULL (a key without value).
 * Both strings are copied. For values known only once the data is written (statistics of the
 * rows). Errors: ARD_EINVAL (NULL writer or key), ARD_ENOMEM, and the sticky status of an earlier
 * failure. */
ARD_API ard_status ard_pq_writer_set_kv(ard_pq_writer *w, const char *key, const char *value,
                                        ard_error *err);

/* Appends `rows` values to a primitive fixed-width column (every type except BYTE_ARRAY), laid out
 * at the column's input width (see above). validity: NULL = all valid; must be NULL or all-ones for
 * a REQUIRED column (ARD_EINVAL otherwise). The data is consumed before the call returns. Errors:
 * ARD_EINVAL (wrong kind of column for this call, nulls where the schema says REQUIRED, negative
 * rows), ARD_EIO (writing a finished row group to the temporary file), ARD_ENOMEM, and the sticky
 * status of an earlier failure. */
ARD_API ard_status ard_pq_writer_write_column(ard_pq_writer *w, int32_t col, const void *values,
                                              const uint8_t *validity, int64_t rows,
                                              ard_error *err);

/* Appends `rows` BYTE_ARRAY values: value i is data[offsets[i] .. offsets[i+1]) (rows + 1 offsets,
 * non-decreasing, offsets[0] need not be 0). Errors as ard_pq_writer_write_column. */
ARD_API ard_status ard_pq_writer_write_binary(ard_pq_writer *w, int32_t col, const int64_t *offsets,
                                              const uint8_t *data, const uint8_t *validity,
                                              int64_t rows, ard_error *err);

/* Appends `rows` lists of exactly `width` elements each to a LIST column: values is a rows x width
 * array at the element input width (row-major). elem_validity: rows*width bits or NULL;
 * row_validity: rows bits or NULL (a null row becomes a null list; its elements are ignored).
 * Errors as ard_pq_writer_write_column; ARD_EINVAL for nulls where the schema says REQUIRED. */
ARD_API ard_status ard_pq_writer_write_list_matrix(ard_pq_writer *w, int32_t col,
                                                   const void *values, int64_t rows, int64_t width,
                                                   const uint8_t *elem_validity,
                                                   const uint8_t *row_validity, ard_error *err);

/* Appends `rows` variable-length lists: list i holds elements offsets[i] .. offsets[i+1] of
 * `values` (rows + 1 non-decreasing offsets, indexes into values and elem_validity). Empty lists
 * are allowed. Errors as ard_pq_writer_write_list_matrix. */
ARD_API ard_status ard_pq_writer_write_list(ard_pq_writer *w, int32_t col, const int64_t *offsets,
                                            const void *values, const uint8_t *elem_validity,
                                            const uint8_t *row_validity, int64_t rows,
                                            ard_error *err);

/* Appends `rows` variable-length lists of BYTE_ARRAY elements: list i holds elements
 * list_offsets[i] .. list_offsets[i+1]; element e is data[offsets[e] .. offsets[e+1]) (offsets has
 * one entry more than the last element index used). Errors as ard_pq_writer_write_list. */
ARD_API ard_status ard_pq_writer_write_list_binary(ard_pq_writer *w, int32_t col,
                                                   const int64_t *list_offsets,
                                                   const int64_t *offsets, const uint8_t *data,
                                                   const uint8_t *elem_validity,
                                                   const uint8_t *row_validity, int64_t rows,
                                                   ard_error *err);

/* Ends the current row group at the current row (all columns must have received the same number of
 * rows: ARD_EINVAL otherwise). A no-op when the row group is empty. Writes the finished row group's
 * pages to the temporary file. ARD_EIO, ARD_ENOMEM. */
ARD_API ard_status ard_pq_writer_end_row_group(ard_pq_writer *w, ard_error *err);

/* Ends the current row group once it holds `rows` rows in all (those it holds included), when the
 * caller knows it will be shorter than the writer's cut (a file's last row group): each column's
 * chunk then ends as soon as that column has its rows, so a caller appending the row group a column
 * at a time, in order, streams its pages to the file as it does for full row groups instead of
 * holding them until close. The bytes are those of ending the row group there by any other means;
 * fewer rows followed by close also end it. ARD_EINVAL when some column already holds `rows` rows of
 * the row group (or has gone past it), or rows is over the writer's cut (rows_per_row_group). */
ARD_API ard_status ard_pq_writer_limit_row_group(ard_pq_writer *w, int64_t rows, ard_error *err);

/* Rows appended so far (to the column that has the fewest). */
ARD_API int64_t ard_pq_writer_num_rows(const ard_pq_writer *w);

/* Ends the last row group, writes the page index and the footer, fsyncs and renames the file over
 * `path` and frees w (always, also on failure, in which case the old file at `path` is untouched).
 * Accepts NULL (returns ARD_OK). ARD_EINVAL (columns with different row counts), ARD_EIO,
 * ARD_ENOMEM. */
ARD_API ard_status ard_pq_writer_close(ard_pq_writer *w, ard_error *err);

/* Discards everything (the temporary file is removed; `path` is untouched) and frees w. Accepts
 * NULL. */
ARD_API void ard_pq_writer_abort(ard_pq_writer *w);

// ---- "write these columns": a flat table ------------------------------------------------------
/* The one table writer of ard: a schema made from column descriptors, then whole columns appended
 * in batches. Used for catalogs, truth tables, science results and fetch exports alike.
 *
 *   ard_parquet_table_column cols[2] = {{"TARGETID", ARD_PARQUET_COL_INT64, ARD_PARQUET_COL_SORTED,
 *                                        ids}, {"Z", ARD_PARQUET_COL_DOUBLE, 0, z}};
 *   ard_parquet_write_table("t.parquet", cols, 2, rows, NULL, err);
 */

/* Kinds of table columns, with the layout of `values`:
 *   INT32     int32_t[rows]
 *   INT64     int64_t[rows]
 *   FLOAT     float[rows]
 *   DOUBLE    double[rows]
 *   STRING    const char *const [rows], UTF-8 (logical STRING); a NULL entry is a null value
 *             (needs ARD_PARQUET_COL_NULLABLE)
 *   LIST_F32  float[rows x width], row-major: list<float>
 *   LIST_U8   uint8_t[rows x width], row-major: list<uint8> (INT32 with logical
 *             INTEGER(8, unsigned)) */
#define ARD_PARQUET_COL_INT32 0
#define ARD_PARQUET_COL_INT64 1
#define ARD_PARQUET_COL_FLOAT 2
#define ARD_PARQUET_COL_DOUBLE 3
#define ARD_PARQUET_COL_STRING 4
#define ARD_PARQUET_COL_LIST_F32 5
#define ARD_PARQUET_COL_LIST_U8 6

/* Column flags (OR-ed). */
#define ARD_PARQUET_COL_SORTED 1   /* ascending INT32/INT64: DELTA_BINARY_PACKED, sorting_columns */
#define ARD_PARQUET_COL_PLAIN 2    /* PLAIN encoding (unique values: a dictionary would not pay) */
#define ARD_PARQUET_COL_NULLABLE 4 /* OPTIONAL values (list columns: OPTIONAL elements) */
#define ARD_PARQUET_COL_NULL_LISTS 8 /* list columns: the lists themselves may be null */

/* One column: its schema (name, kind, flags, width) and, for ard_parquet_table_append, one batch
 * of its data. Caller-owned; the writer reads `values`, `validity` and `row_validity` only during
 * the call. */
typedef struct ard_parquet_table_column {
    const char *name; /* unique, non-empty */
    int32_t kind;     /* ARD_PARQUET_COL_INT32 .. ARD_PARQUET_COL_LIST_U8 */
    int32_t flags;    /* ARD_PARQUET_COL_* flags */
    const void *values;
    const uint8_t *validity;     /* NULL = all valid; else 1 bit per value (lists: per element) */
    const uint8_t *row_validity; /* lists only: 1 bit per row, NULL = no null list */
    int64_t width;               /* lists: elements per row (> 0) */
} ard_parquet_table_column;

/* Opens a writer (ard_pq_writer_open) for the schema of `cols` (the directory of `path` must
 * exist). opts NULL: ZSTD, the writer's other defaults. Append with
 * ard_parquet_table_append, finish with ard_pq_writer_close (or ard_pq_writer_abort).
 * Errors: ARD_EINVAL (no columns, a bad kind, flag or name: the message names the column), as
 * ard_pq_writer_open. *out is NULL on failure. */
ARD_API ard_status ard_parquet_table_open(const char *path, const ard_parquet_table_column *cols,
                                          int32_t num_columns, const ard_pq_writer_options *opts,
                                          ard_pq_writer **out, ard_error *err);
/* Appends `rows` rows: cols are the columns given at open, in the same order, with this batch's
 * data (kind and flags as at open). Errors: ARD_EINVAL (a column count other than the table's, a
 * column without values, nulls in a column not nullable), as ard_pq_writer_write_column. */
ARD_API ard_status ard_parquet_table_append(ard_pq_writer *w, const ard_parquet_table_column *cols,
                                            int32_t num_columns, int64_t rows, ard_error *err);
/* Open, append all `rows`, close: the whole table written atomically. Errors as above; on failure
 * no file is left and an old file at `path` is untouched. */
ARD_API ard_status ard_parquet_write_table(const char *path, const ard_parquet_table_column *cols,
                                           int32_t num_columns, int64_t rows,
                                           const ard_pq_writer_options *opts, ard_error *err);

/* ---- Arrow C Data Interface import
 * ---------------------------------------------------------------- */

struct ArrowSchema;
struct ArrowArray;

/* Appends a record batch: `schema` is a struct ("+s") whose children map, in order, to the writer's
 * columns, and `array` its data. Supported child formats: "b", "c"/"C" (INT(8)), "s"/"S" (INT(16)),
 * "i"/"I", "l"/"L", "f", "g", "u"/"U"/"z"/"Z" (BYTE_ARRAY), "w:N" (FLBA), "+l"/"+L" and "+w:N"
 * lists of those fixed-width types. The input's element width must match the column's input width.
 * Offsets and the struct's own validity are honoured (a null struct row makes every column null
 * there, which a REQUIRED column rejects). The caller keeps ownership: nothing is released or
 * retained. Errors: ARD_EINVAL (mismatch: message names the column), ARD_ENOTSUP (format), as
 * write_column. */
ARD_API ard_status ard_pq_writer_write_arrow(ard_pq_writer *w, const struct ArrowSchema *schema,
                                             const struct ArrowArray *array, ard_error *err);

// ---- rewrite: a whole file through the reader and this writer (`ard parquet convert`) ------------

/* Caller-filled; ard_parquet_rewrite_options_init sets writer to ard_pq_writer_options_init's
 * defaults and the rest to 0. writer.num_kv/kv_keys/kv_values are ignored: the input's key-value
 * metadata is copied. */
typedef struct ard_parquet_rewrite_options {
    ard_pq_writer_options writer; /* codec, level, row groups, pages, encodings of the output */
    /* Optional: called for what is worth telling but not an error (a logical type the writer
     * cannot carry over, e.g. "column 'x': logical type UNKNOWN not carried over"); the message
     * is borrowed for the call. */
    void (*on_notice)(void *ctx, const char *message);
    void *notice_ctx;
    /* Optional: called after each input row group with (row groups done, total). */
    void (*on_progress)(void *ctx, int64_t done, int64_t total);
    void *progress_ctx;
} ard_parquet_rewrite_options;

typedef struct ard_parquet_rewrite_report {
    int64_t rows;                  /* rows written */
    int32_t columns;               /* top-level columns */
    int32_t row_groups_in;         /* row groups read */
    int32_t logical_types_dropped; /* columns written without their logical type (see on_notice) */
} ard_parquet_rewrite_report;

ARD_API void ard_parquet_rewrite_options_init(ard_parquet_rewrite_options *opts);
/* Rewrites `in_path` as `out_path` with this writer (atomically: out_path appears only on
 * success), one input row group at a time: the same top-level columns, rows, values, nulls and
 * key-value metadata, in ard's layout (dictionaries, statistics, page index, CRCs, the chosen
 * codec). Flat columns of every physical type and lists of a primitive (3-level, 2-level and bare
 * repeated fields; list structure decoded by the reader's Arrow assembly) are supported. A logical
 * type the writer refuses is dropped with a notice, the values kept. opts and report may be NULL.
 * Thread-safe with other calls. Errors: ARD_ENOTSUP (other nesting: the message names the column
 * and says "nested type not supported"; codecs), the reader's errors for in_path (ARD_ENOENT,
 * ARD_EIO, ARD_ECORRUPT, ...), the writer's for out_path, ARD_ENOMEM. */
ARD_API ard_status ard_parquet_rewrite(const char *in_path, const char *out_path,
                                       const ard_parquet_rewrite_options *opts,
                                       ard_parquet_rewrite_report *report, ard_error *err);

#ifdef __cplusplus
}
#endif
#endif
