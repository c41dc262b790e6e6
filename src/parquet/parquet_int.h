/* Private interface of the parquet module: arena, Thrift compact decoding of footer structures,
 * page headers and page indexes, level/value encodings and compression codecs.
 * Only files in src/parquet/ include this header. */
#ifndef ARD_PARQUET_INT_H
#define ARD_PARQUET_INT_H

#include "ard/parquet.h"

#include <stdbool.h>

/* ------------------------------------------------------------------------------------------------
 * Arena: all footer metadata of one file lives in one arena, freed at close. Allocation is capped so a
 * hostile footer cannot make us allocate more than a bounded multiple of its own size. */
typedef struct ard__arena_block ard__arena_block;
typedef struct ard__arena {
    ard__arena_block *head;
    size_t used_total;
    size_t cap; /* 0 = unlimited */
} ard__arena;
void ard__arena_init(ard__arena *a, size_t cap);
void ard__arena_reset(ard__arena *a);
/* Zeroed, 16-byte aligned memory; NULL when out of memory or over the cap. */
void *ard__arena_alloc(ard__arena *a, size_t size);
char *ard__arena_strndup(ard__arena *a, const char *s, size_t len);

/* Bytes per value of a physical type as ard holds it in memory (BOOLEAN 1, INT32/FLOAT 4,
 * INT64/DOUBLE 8, INT96 12, FLBA type_length, BYTE_ARRAY 0 = variable). Reader and writer share it. */
int32_t ard__type_width(ard_pq_type type, int32_t type_length);

/* varint.c: the one ULEB128 codec. ard__varint_put appends v; ard__varint_get decodes at most
 * max_bytes bytes (5 for 32-bit values, 10 for 64-bit) from [*pp, end), advancing *pp only on
 * success, and returns one of ARD__VARINT_*. */
enum {
    ARD__VARINT_OK = 0,
    ARD__VARINT_TRUNCATED = 1,
    ARD__VARINT_TOO_LONG = 2,
    ARD__VARINT_TOO_LARGE = 3 /* value beyond 32 bits (max_bytes 5) or 64 bits */
};
void ard__varint_put(ard_buf *out, uint64_t v);
int ard__varint_get(const uint8_t **pp, const uint8_t *end, int max_bytes, uint64_t *out);

/* ------------------------------------------------------------------------------------------------
 * Thrift compact protocol reader (thrift.c). Reads from [p, end); every read is bounds-checked.
 * On failure the reader is marked failed with a message naming the byte offset (base_offset + position). */
#define ARD__THRIFT_MAX_DEPTH 64
typedef struct ard__thrift {
    const uint8_t *start, *p, *end;
    int64_t base_offset; /* file offset of `start`, for messages */
    const char *what;    /* name of the source for messages (file path) */
    int depth;
    int16_t last_id[ARD__THRIFT_MAX_DEPTH];
    ard_error *err;
    ard_status status; /* first failure, ARD_OK otherwise */
} ard__thrift;

enum {
    ARD__T_STOP = 0,
    ARD__T_TRUE = 1,
    ARD__T_FALSE = 2,
    ARD__T_I8 = 3,
    ARD__T_I16 = 4,
    ARD__T_I32 = 5,
    ARD__T_I64 = 6,
    ARD__T_DOUBLE = 7,
    ARD__T_BINARY = 8,
    ARD__T_LIST = 9,
    ARD__T_SET = 10,
    ARD__T_MAP = 11,
    ARD__T_STRUCT = 12,
    ARD__T_UUID = 13
};

void ard__thrift_init(ard__thrift *t, const uint8_t *data, size_t len, int64_t base_offset,
                      const char *what, ard_error *err);
/* Marks failure (first one wins) with ARD_ECORRUPT and "what: ... at byte N". Returns false. */
bool ard__thrift_fail(ard__thrift *t, const char *reason);
bool ard__thrift_struct_begin(ard__thrift *t);
bool ard__thrift_struct_end(ard__thrift *t);
/* Next field header: false at STOP or on failure (check t->status). *bool_value holds the value of
 * boolean fields (their value lives in the type nibble). */
bool ard__thrift_field(ard__thrift *t, int16_t *id, uint8_t *type, bool *bool_value);
bool ard__thrift_skip(ard__thrift *t, uint8_t type); /* skips any value, depth-limited */
bool ard__thrift_i32(ard__thrift *t, int32_t *v);    /* zigzag varint */
bool ard__thrift_i64(ard__thrift *t, int64_t *v);
bool ard__thrift_i8(ard__thrift *t, int8_t *v);
bool ard__thrift_double(ard__thrift *t, double *v);
/* Binary/string: pointer into the input (not copied) and length, checked against remaining bytes. */
bool ard__thrift_binary(ard__thrift *t, const uint8_t **data, uint32_t *len);
/* List/set header: element type and size; size is checked against the remaining bytes. */
bool ard__thrift_list(ard__thrift *t, uint8_t *elem_type, int32_t *size);
/* A boolean list element (1 = true; 0 or 2 = false). */
bool ard__thrift_list_bool(ard__thrift *t, bool *v);

/* ------------------------------------------------------------------------------------------------
 * Footer structures (metadata.c). */

/* Decodes FileMetaData from [data, data+len) (the footer bytes), allocating into `arena`, builds the
 * schema tree (paths, max levels, logical types), validates it (enums, num_children, negative counts,
 * chunk ranges against `file_size`) and fills `out`. base_offset = file offset of `data`.
 * ARD_ECORRUPT / ARD_ENOTSUP / ARD_ENOMEM / ARD_ELIMIT with path and byte offset in the message. */
ard_status ard__pq_decode_file_metadata(const uint8_t *data, size_t len, int64_t base_offset,
                                        int64_t file_size, const char *path, ard__arena *arena,
                                        ard_pq_metadata *out, ard_error *err);

typedef struct ard__pq_page_header {
    int32_t type; /* ard_pq_page_type (other values possible: reject) */
    int32_t uncompressed_page_size;
    int32_t compressed_page_size;
    int32_t has_crc;
    uint32_t crc;
    /* DataPageHeader (v1) and DataPageHeaderV2 common */
    int32_t num_values;
    int32_t encoding;
    /* v1 */
    int32_t definition_level_encoding;
    int32_t repetition_level_encoding;
    /* v2 */
    int32_t num_nulls;
    int32_t num_rows;
    int32_t definition_levels_byte_length;
    int32_t repetition_levels_byte_length;
    int32_t is_compressed; /* v2: defaults to 1 */
    /* DictionaryPageHeader */
    int32_t dict_num_values;
    int32_t dict_encoding;
    int32_t dict_is_sorted;
    ard_pq_stats stats; /* page statistics (pointers into the input) */
    size_t header_size; /* bytes of the Thrift header itself */
} ard__pq_page_header;

/* Decodes a PageHeader at [data, data+len). Validates: sizes >= 0, the matching sub-header present,
 * num_values >= 0. base_offset/path only for messages. No allocation. */
ard_status ard__pq_decode_page_header(const uint8_t *data, size_t len, int64_t base_offset,
                                      const char *path, ard__pq_page_header *out, ard_error *err);

typedef struct ard__pq_column_index {
    int32_t num_pages;
    bool *null_pages;
    const uint8_t **min_values;
    uint32_t *min_lens;
    const uint8_t **max_values;
    uint32_t *max_lens;
    int32_t boundary_order;
    int32_t has_null_counts;
    int64_t *null_counts;
} ard__pq_column_index;

typedef struct ard__pq_page_location {
    int64_t offset;
    int32_t compressed_page_size; /* includes the header */
    int64_t first_row_index;
} ard__pq_page_location;

typedef struct ard__pq_offset_index {
    int32_t num_pages;
    ard__pq_page_location *pages;
} ard__pq_offset_index;

/* Decode page-index structures (allocating into arena; byte strings point into `data`). */
ard_status ard__pq_decode_column_index(const uint8_t *data, size_t len, int64_t base_offset,
                                       const char *path, ard__arena *arena,
                                       ard__pq_column_index *out, ard_error *err);
ard_status ard__pq_decode_offset_index(const uint8_t *data, size_t len, int64_t base_offset,
                                       const char *path, ard__arena *arena,
                                       ard__pq_offset_index *out, ard_error *err);

/* ------------------------------------------------------------------------------------------------
 * Encodings (encoding_*.c). All decoders are bounds-checked: they never read past `in + len`, and
 * return ARD_ECORRUPT with a message naming the problem when the input is too short or invalid.
 * They never allocate. */

/* Unpacks `count` values of `bit_width` (0..32) bits, LSB-first (Parquet bit-packing), from `in`.
 * Caller guarantees `in` holds at least ceil(count * bit_width / 8) bytes. */
void ard__bitunpack32(const uint8_t *in, int bit_width, uint32_t *out, size_t count);

/* RLE/bit-packed hybrid decoder over [in, in+len) with `bit_width` (0..32). Decodes exactly `count`
 * values into out. ARD_ECORRUPT if the data runs out before `count` values or a run is malformed. */
ard_status ard__rle_decode_u32(const uint8_t *in, size_t len, int bit_width, uint32_t *out,
                               int64_t count, ard_error *err);
/* Same for levels (bit_width 0..16), into int16_t. */
ard_status ard__rle_decode_levels(const uint8_t *in, size_t len, int bit_width, int16_t *out,
                                  int64_t count, ard_error *err);
/* Deprecated BIT_PACKED level encoding (MSB-first, no header): exactly `count` levels. */
ard_status ard__bitpacked_msb_decode_levels(const uint8_t *in, size_t len, int bit_width,
                                            int16_t *out, int64_t count, ard_error *err);

/* DELTA_BINARY_PACKED: decodes exactly `count` values (the header's total may be larger or equal;
 * fewer is ARD_ECORRUPT). *consumed = bytes used up to the end of the last miniblock needed
 * (for DELTA_BYTE_ARRAY / DELTA_LENGTH_BYTE_ARRAY the whole block stream: see _total variants).
 * Arithmetic wraps (two's complement) as the spec requires. */
ard_status ard__delta_decode_i32(const uint8_t *in, size_t len, int32_t *out, int64_t count,
                                 size_t *consumed, ard_error *err);
ard_status ard__delta_decode_i64(const uint8_t *in, size_t len, int64_t *out, int64_t count,
                                 size_t *consumed, ard_error *err);
/* Reads the header's total value count without decoding. */
ard_status ard__delta_peek_count(const uint8_t *in, size_t len, int64_t *total, ard_error *err);

/* DELTA_LENGTH_BYTE_ARRAY: `count` values. Writes offsets[0..count] (offsets[0] = 0, relative to
 * *data_out) and points *data_out at the concatenated bytes inside `in` (no copy). */
ard_status ard__delta_length_decode(const uint8_t *in, size_t len, int64_t count, int64_t *offsets,
                                    const uint8_t **data_out, ard_error *err);
/* DELTA_BYTE_ARRAY: `count` values rebuilt from prefixes/suffixes into `out` (an ard_buf that grows,
 * capped at `max_bytes`); offsets[0..count] index into out->data. */
ard_status ard__delta_byte_array_decode(const uint8_t *in, size_t len, int64_t count,
                                        int64_t *offsets, ard_buf *out, size_t max_bytes,
                                        ard_error *err);

/* BYTE_STREAM_SPLIT: `count` values of `width` bytes; `in` must hold count*width bytes. */
ard_status ard__bss_decode(const uint8_t *in, size_t len, int width, int64_t count, uint8_t *out,
                           ard_error *err);

/* Encoders (for the writer). Output is appended to `out`. */
void ard__rle_encode_u32(const uint32_t *values, int64_t count, int bit_width, ard_buf *out);
void ard__rle_encode_levels(const int16_t *levels, int64_t count, int bit_width, ard_buf *out);
void ard__delta_encode_i32(const int32_t *values, int64_t count, ard_buf *out);
void ard__delta_encode_i64(const int64_t *values, int64_t count, ard_buf *out);
void ard__bss_encode(const uint8_t *values, int width, int64_t count, ard_buf *out);
/* Smallest bit width that holds `max_value` (0 for 0). */
int ard__bit_width(uint64_t max_value);

/* ------------------------------------------------------------------------------------------------
 * Compression (compress.c), through Debian's libraries. */

/* Decompresses exactly into out[0..out_len): the result must be exactly out_len bytes, else
 * ARD_ECORRUPT. GZIP continues across concatenated members; LZ4 (codec 5) tries Hadoop framing, then a
 * raw LZ4 block. LZO -> ARD_ENOTSUP. `what` names the source (path + offset) for messages. */
ard_status ard__pq_decompress(int codec, const uint8_t *in, size_t in_len, uint8_t *out,
                              size_t out_len, const char *what, ard_error *err);
/* One ZSTD page decoded a block at a time into destinations the caller picks (compress.c). A block
 * written anywhere but right after the previous output makes zstd use the previous contiguous
 * output as its dictionary: that memory must stay unchanged until the page ends. */
typedef struct ard__zstd_page {
    void *dctx; /* ZSTD_DCtx, kept across pages; ard__zstd_page_free releases it */
    const uint8_t *in;
    size_t in_left;
    size_t out_len; /* the page's expected decompressed size (for messages and the end check) */
} ard__zstd_page;
/* Starts decoding in[0..in_len), which must decompress to exactly out_len bytes. */
ard_status ard__zstd_page_begin(ard__zstd_page *zp, const uint8_t *in, size_t in_len,
                                size_t out_len, const char *what, ard_error *err);
/* Decodes the next block into dst (at most cap bytes; a larger block is ARD_ECORRUPT): *produced
 * bytes, 0 once the input is used up. Frames after the first and skippable frames are followed. */
ard_status ard__zstd_page_next(ard__zstd_page *zp, uint8_t *dst, size_t cap, size_t *produced,
                               const char *what, ard_error *err);
/* After `decoded` bytes: checks that the input is used up (checksum included) and that decoded is
 * the expected size; ARD_ECORRUPT otherwise. */
ard_status ard__zstd_page_end(ard__zstd_page *zp, size_t decoded, const char *what, ard_error *err);
void ard__zstd_page_free(ard__zstd_page *zp);
/* Compresses `in` and appends to `out`. level: codec-specific, 0 = codec default. */
ard_status ard__pq_compress(int codec, int level, const uint8_t *in, size_t in_len, ard_buf *out,
                            ard_error *err);
/* One SNAPPY stream whose uncompressed bytes are the parts back to back (snappy_parts.c), appended
 * to out; any snappy decoder reads it. Each part is compressed by libsnappy on its own (its copies
 * stay inside it) or stored as literal elements: ARD__SNAPPY_AUTO stores literally a part of at
 * least 2 x ARD__SNAPPY_SAMPLE bytes whose middle ARD__SNAPPY_SAMPLE bytes libsnappy cannot shrink
 * by 1/64 (a noisy float's low mantissa bytes). ARD_ELIMIT over 4 GiB, ARD_ENOMEM. */
#define ARD__SNAPPY_SAMPLE 4096
enum { ARD__SNAPPY_AUTO = 0, ARD__SNAPPY_LITERAL = 1, ARD__SNAPPY_COMPRESS = 2 };
typedef struct ard__snappy_part {
    const uint8_t *data;
    size_t len;
    int32_t how; /* ARD__SNAPPY_AUTO, _LITERAL or _COMPRESS */
} ard__snappy_part;
ard_status ard__snappy_compress_parts(const ard__snappy_part *parts, int32_t count, ard_buf *out,
                                      ard_error *err);
/* CRC-32 (zlib polynomial) of a buffer. */
uint32_t ard__crc32(const uint8_t *data, size_t len);
/* The carry-less-multiplication CRC-32 behind ard__crc32 on x86-64 CPUs with PCLMULQDQ and SSE4.1
 * (crc32_clmul.c): continues the running CRC `crc` (zlib's convention) over buf[0..len), len a
 * multiple of 16 and >= 64. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ARD_CRC32_CLMUL 1
uint32_t ard__crc32_clmul(uint32_t crc, const uint8_t *buf, size_t len);
/* The same with 512-bit VPCLMULQDQ (AVX-512F + VPCLMULQDQ CPUs), len a multiple of 16 and >= 256. */
uint32_t ard__crc32_vpclmul(uint32_t crc, const uint8_t *buf, size_t len);
#else
#define ARD_CRC32_CLMUL 0
#endif

#endif
