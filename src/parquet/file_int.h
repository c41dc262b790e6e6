/* Private definition of an open Parquet file (file.c), shared with the column reader (column*.c).
 * Only files in src/parquet/ include this header. */
#ifndef ARD_PARQUET_FILE_INT_H
#define ARD_PARQUET_FILE_INT_H

#include "parquet_int.h"

#include <pthread.h>

#define ARD__SCRATCH_POOL 4

struct ard_parquet_file {
    char *path;         /* owned copy; the name given to open_memory for memory files */
    int fd;             /* -1 for memory-backed files */
    const uint8_t *mem; /* memory-backed files: the caller's buffer, else NULL */
    int64_t size;       /* file size in bytes */
    ard_parquet_open_options options;
    ard__arena arena; /* all metadata below lives here */
    uint8_t *footer;  /* owned copy of the FileMetaData bytes (stats point into it) */
    size_t footer_len;
    int32_t footer_encrypted; /* plaintext-footer encrypted file (encryption_algorithm set) */
    int32_t footer_only;      /* ard_parquet_open_footer: no data behind the metadata */
    ard_pq_metadata metadata;
    /* 1: column chunks are mapped (guarded mmap, chunk_map.c) instead of read with pread. Off by
     * default: on this project's VMs a mapped chunk costs 3-18x the CPU of pread into a reused
     * buffer at every chunk size from 16 KiB to 32 MiB (page faults, and TLB shoot-downs on munmap
     * that also serialise threads); bench/results/parquet-decode.md. Tests of the mapping set it. */
    int32_t map_chunks;
    /* Decompression buffers returned by finished column reads, reused by the next ones (so repeated
     * reads do not page-fault fresh memory each time). Guarded by scratch_lock. */
    pthread_mutex_t scratch_lock;
    int32_t scratch_count;
    uint8_t *scratch_buf[ARD__SCRATCH_POOL];
    size_t scratch_cap[ARD__SCRATCH_POOL];
};

/* The shared pool behind ard_parquet_buffers (buffers.c): take leaves *buf NULL / *cap 0 when
 * empty; give frees what the pool cannot keep. Thread-safe. */
void ard__pq_buffers_take(ard_parquet_buffers *b, uint8_t **buf, size_t *cap);
void ard__pq_buffers_give(ard_parquet_buffers *b, uint8_t *buf, size_t cap);

/* Takes a pooled buffer (largest first) or leaves *buf NULL / *cap 0. Thread-safe. */
void ard__pq_scratch_take(const ard_parquet_file *f, uint8_t **buf, size_t *cap);
/* Returns a buffer to the pool, or frees it when the pool is full. Thread-safe; accepts NULL. */
void ard__pq_scratch_give(const ard_parquet_file *f, uint8_t *buf, size_t cap);

/* Reads `len` bytes at `offset` of the file (pread, or a copy from memory). The range must lie
 * inside the file: ARD_ECORRUPT otherwise (message names the path and range); ARD_EIO on read
 * errors. Thread-safe (pread does not move the file offset). */
ard_status ard__pq_file_read(const ard_parquet_file *f, int64_t offset, size_t len, uint8_t *dst,
                             ard_error *err);

/* ard__pq_decode_file_metadata that also reports whether FileMetaData.encryption_algorithm is set
 * (a plaintext-footer encrypted file; its encrypted columns carry is_encrypted). */
ard_status ard__pq_decode_file_metadata_enc(const uint8_t *data, size_t len, int64_t base_offset,
                                            int64_t file_size, const char *path, ard__arena *arena,
                                            ard_pq_metadata *out, int32_t *footer_encrypted,
                                            ard_error *err);

#endif
