/* Private interface of the column reader: the page walker of one column chunk and the value decoders.
 * Shared by column_chunk.c, column_values.c, column_read.c, column_matrix.c and arrow_export.c. */
#ifndef ARD_COLUMN_INT_H
#define ARD_COLUMN_INT_H

#include "file_int.h"
#include "parquet_int.h"

/* The chunk's dictionary, PLAIN-decoded from its dictionary page. */
typedef struct ard__dict {
    int64_t count;
    uint8_t *values;     /* fixed width: count * width bytes */
    int64_t *offsets;    /* BYTE_ARRAY: where entry i starts in data (its u32 length precedes) */
    const uint8_t *data; /* BYTE_ARRAY bytes, inside `page` */
    uint8_t *page;       /* the decompressed dictionary page (owned) */
} ard__dict;

/* One data page with its levels decoded; values still encoded. Pointers are valid until the next call
 * to ard__chunk_next_page. */
typedef struct ard__page {
    int64_t num_levels;
    const int16_t *def; /* NULL when max_def == 0 */
    const int16_t *rep; /* NULL when max_rep == 0 */
    int64_t num_values; /* non-null values: levels with def == max_def */
    int16_t min_def;    /* smallest definition level in the page (max_def when def is NULL) */
    int64_t rep_zeros;  /* entries with repetition level 0 (records starting here), when rep */
    int32_t encoding;
    const uint8_t *values; /* encoded value bytes */
    size_t values_len;
    int64_t header_offset; /* file offset of the page header (for messages) */
    /* Lazy pages (ard__chunk_reader.lazy_levels): levels not decoded; def/rep are NULL, num_values
     * and min_def unknown (-1), and these locate the RLE level streams instead. */
    int32_t lazy;
    int32_t must_start_record; /* the first repetition level must be 0 */
    const uint8_t *rep_data, *def_data;
    size_t rep_len, def_len;
    /* Deferred values (ard__chunk_reader.defer_values, lazy pages of large uncompressed chunks
     * only): `values` is NULL and the values_len PLAIN-or-other encoded bytes lie in the file at
     * values_offset, for the caller to read straight into its destination (ard__pq_file_read) or
     * to bring into memory with ard__chunk_page_values. */
    int32_t deferred;
    int64_t values_offset;
    /* Staged values (ard__chunk_reader.stage_values, lazy PLAIN pages of ZSTD chunks): only the
     * first `staged_have` bytes at `values` are decoded (into the reader's scratch); the caller
     * finishes the page with ard__chunk_page_values_into (straight into its destination) or
     * ard__chunk_page_values (into scratch) before asking for the next page. */
    int32_t staged;
    size_t staged_have;
} ard__page;

/* A read-only mapping of file bytes guarded against SIGBUS (chunk_map.c): if the file is truncated
 * while the mapping is read, the vanished pages read as zeros and ard__pq_view_check reports it. */
typedef struct ard__pq_view {
    uint8_t *data; /* the requested bytes */
    void *map;     /* the mapping (page-aligned), NULL when not mapped */
    size_t map_len;
    int64_t file_base; /* file offset of map */
    int32_t slot;      /* registry slot, -1 when not mapped */
} ard__pq_view;

/* Maps bytes [offset, offset + len) of an fd-backed file: 1 with *v filled, or 0 when the bytes
 * cannot be mapped under the guard (memory file, mmap failure, our SIGBUS handler replaced by
 * someone else's, every registry slot taken): the caller reads them instead. Thread-safe. */
int ard__pq_view_map(const ard_parquet_file *f, int64_t offset, size_t len, ard__pq_view *v);
/* `st`, or ARD_EIO naming `path` and the vanished offset (replacing err's message, the root cause)
 * when an access to the view faulted because the file shrank. */
ard_status ard__pq_view_check(const ard__pq_view *v, const char *path, ard_status st,
                              ard_error *err);
/* Makes the column readers of `f` map chunks (on = 1) instead of reading them (the default). Not
 * thread-safe against readers of the same file; for tests of the mapping. */
void ard__pq_file_map_chunks(ard_parquet_file *f, int32_t on);
/* Unmaps (accepts a view that was never mapped). */
void ard__pq_view_unmap(ard__pq_view *v);
/* Faults absorbed since the process started (tests). */
uint64_t ard__pq_view_faults(void);

typedef struct ard__chunk_reader {
    const ard_parquet_file *file;
    const ard_pq_column_chunk *cc;
    const ard_pq_schema_node *leaf;
    int32_t row_group, leaf_index;
    int32_t width; /* bytes per decoded value; 0 for BYTE_ARRAY */
    int16_t max_def, max_rep;
    int32_t verify_crc;
    int32_t lazy_levels;  /* set by the caller: return RLE level streams undecoded when possible */
    int32_t defer_values; /* set by the caller (with lazy_levels): large uncompressed pages come
                             back deferred, their values left in the file */
    int32_t stage_values; /* set by the caller (with lazy_levels): large PLAIN pages of ZSTD
                             chunks come back staged, their values not yet decompressed */
    ard__zstd_page zs;    /* the staged page's decoder */
    size_t zs_have;       /* bytes of the staged page's compressed part decoded into scratch */
    size_t zs_levels;     /* of which levels (v1 pages) */
    char zs_what[480];    /* "<what>: page at byte N" of the staged page */
    int32_t incremental;  /* chunk bytes are read page by page, not in one read (large
                             uncompressed chunks of fd-backed files) */
    uint8_t *level_copy;  /* level bytes of a deferred page (buf may be replaced under it) */
    size_t level_copy_cap;
    int64_t memory_cap;
    uint8_t *buf;       /* chunk bytes read so far: file range [buf_start, buf_start + buf_len);
                               a read-only view (memory file or `view`) unless buf_owned */
    ard__pq_view view;  /* the chunk's guarded mapping (fd-backed files), slot -1 if none */
    int32_t buf_owned;  /* buf was allocated (ard_malloc) and may grow */
    int32_t buf_pooled; /* buf came from the file's buffer pool and goes back to it at close */
    size_t buf_cap;     /* allocated bytes of an owned buf */
    int64_t buf_start;
    size_t buf_len;
    int64_t pos;         /* file offset of the next page header */
    int64_t limit;       /* nothing of this chunk lies at or past this offset (the footer) */
    int64_t stop_at;     /* after a seek: the end of the chunk's last page (from the OffsetIndex) */
    int64_t levels_left; /* ColumnMetaData.num_values not yet seen in data pages */
    int32_t need_rep_zero; /* the next page must start a record */
    int32_t has_dict;
    ard__dict dict;
    uint8_t *scratch; /* decompressed page */
    size_t scratch_cap;
    int16_t *def, *rep; /* level scratch */
    size_t level_cap;
    uint32_t *indices; /* dictionary-index scratch */
    size_t index_cap;
    char what[400]; /* "path: column c, row group r" for messages */
} ard__chunk_reader;

/* Prepares to walk the pages of (row_group, leaf). Rejects encrypted or metadata-less chunks.
 * Reads the chunk's bytes (compressed, as stored) in one read. */
ard_status ard__chunk_open(ard__chunk_reader *cr, const ard_parquet_file *file, int32_t row_group,
                           int32_t leaf, ard_error *err);
/* Reads the dictionary page (if the chunk has one) and positions at data page `offset` (from the
 * OffsetIndex); the page there must start a record. The walk then ends at `chunk_end` (the end of the
 * last page the OffsetIndex lists). */
ard_status ard__chunk_seek(ard__chunk_reader *cr, int64_t offset, int64_t chunk_end,
                           ard_error *err);
/* Next data page: ARD_OK with *page filled, ARD_EEOF after the last one. Dictionary pages are absorbed,
 * index pages skipped, CRCs verified. */
ard_status ard__chunk_next_page(ard__chunk_reader *cr, ard__page *page, ard_error *err);
void ard__chunk_close(ard__chunk_reader *cr);
/* Brings a deferred or staged page's value bytes into memory (pg->values set, deferred and staged
 * cleared). The page's level pointers stay valid. */
ard_status ard__chunk_page_values(ard__chunk_reader *cr, ard__page *pg, ard_error *err);
/* Finishes a staged page (see ard__page.staged) by decoding its values straight into dst
 * (pg->values_len bytes); pg->values then points at dst. ARD_ECORRUPT when the page does not
 * decompress to exactly its declared size. */
ard_status ard__chunk_page_values_into(ard__chunk_reader *cr, ard__page *pg, uint8_t *dst,
                                       ard_error *err);
/* Staged pages the matrix reader decompressed straight into place since the process started
 * (column_matrix.c; tests). */
uint64_t ard__pq_staged_in_place(void);
/* Pages the matrix reader placed whole, on their run-length levels alone, without decoding a level
 * (column_matrix.c; tests). */
uint64_t ard__pq_whole_pages(void);
/* `st`, or ARD_EIO (naming the file and offset) when the chunk's mapping faulted because the file
 * was truncated while it was read. Every reader calls it on its final status before closing: values
 * decoded from a vanished range are zeros, never results. */
ard_status ard__chunk_finish(ard__chunk_reader *cr, ard_status st, ard_error *err);

/* Decodes the page's num_values fixed-width values into dst (num_values * cr->width bytes). */
ard_status ard__decode_fixed(ard__chunk_reader *cr, const ard__page *pg, uint8_t *dst,
                             ard_error *err);
/* Decodes the page's BYTE_ARRAY values, appending bytes to `data` and writing num_values end offsets
 * (absolute in `data`) to ends[]. */
ard_status ard__decode_byte_array(ard__chunk_reader *cr, const ard__page *pg, int64_t *ends,
                                  ard_buf *data, size_t max_bytes, ard_error *err);
/* Decodes the dictionary page body (already decompressed into `page`, which the dict takes over). */
ard_status ard__dict_load(ard__chunk_reader *cr, uint8_t *page, size_t len, int64_t count,
                          int64_t offset, ard_error *err);
void ard__dict_reset(ard__dict *dict);

/* Streaming reader of an RLE/bit-packed hybrid level stream (level_stream.c). */
typedef struct ard__levels {
    const uint8_t *p, *end;
    int bw;
    int64_t rle_left; /* values left in the current RLE run */
    int16_t rle_value;
    int64_t packed_left; /* values left in the current bit-packed run (not yet unpacked) */
    uint32_t group[8];   /* the current unpacked group of 8 */
    int group_pos;       /* next value in group; 8 = none */
} ard__levels;
void ard__levels_init(ard__levels *ls, const uint8_t *data, size_t len, int bit_width);
/* The next n levels (values above INT16_MAX come out as -1, for the caller's range check).
 * ARD_ECORRUPT when the stream ends early or a run is malformed. */
ard_status ard__levels_read(ard__levels *ls, int16_t *out, int64_t n, ard_error *err);
/* 1 when the next n levels are all `value` in RLE runs (reads run headers only); 0 when a run is
 * bit-packed, holds another value or is malformed, or the stream is short. Consumes the stream. */
int ard__levels_all_rle(ard__levels *ls, int64_t n, int16_t value);
/* 1 when the next n repetition levels (bit width 1) are those of records of exactly `w` entries laid
 * end to end, the first level at entry `phase` of its record: 0 where (phase + i) % w == 0, 1
 * everywhere else. Reads run headers and packed bytes only (no level is decoded into an array); 0
 * when the levels differ, the stream is short or malformed, or bw != 1. Consumes the stream. */
int ard__levels_are_records(ard__levels *ls, int64_t n, int64_t phase, int64_t w);

/* One vectorisable pass over levels: how many equal `target`, and their range (0, 0 when n == 0). */
int64_t ard__level_stats(const int16_t *levels, int64_t n, int16_t target, int16_t *lo_out,
                         int16_t *hi_out);

/* Grows a scratch array to hold `need` bytes (never shrinks). */
int ard__grow(void **ptr, size_t *cap, size_t need);

#endif
