/* Opening a Parquet file: envelope checks (magic, footer length), reading and decoding the footer,
 * the file handle's accessors, bounds-checked reads for the column reader, and enum names. */
#include "file_int.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define FOOTER_TAIL 8 /* footer_len (4) + "PAR1" (4) */
#define MIN_FILE 12   /* leading magic + tail */

static ard_status read_fd(const ard_parquet_file *f, int64_t offset, size_t len, uint8_t *dst,
                          ard_error *err) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->fd, dst + done, len - done, (off_t)(offset + (int64_t)done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return ard_error_set_errno(err, ARD_EIO, errno, "%s: read of %zu bytes at offset %lld",
                                       f->path, len, (long long)offset);
        }
        if (n == 0) {
            return ard_error_set(err, ARD_EIO,
                                 "%s: unexpected end of file at offset %lld "
                                 "(file shrank while open?)",
                                 f->path, (long long)(offset + (int64_t)done));
        }
        done += (size_t)n;
    }
    return ARD_OK;
}

ard_status ard__pq_file_read(const ard_parquet_file *f, int64_t offset, size_t len, uint8_t *dst,
                             ard_error *err) {
    if (offset < 0 || (uint64_t)len > (uint64_t)f->size || offset > f->size - (int64_t)len) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: %zu bytes at offset %lld lie outside the file (%lld bytes)",
                             f->path, len, (long long)offset, (long long)f->size);
    }
    if (len == 0) {
        return ARD_OK;
    }
    if (f->footer_only) {
        return ard_error_set(err, ARD_ENOTSUP, "%s: only the footer is held (no data to read)",
                             f->path);
    }
    if (f->mem) {
        memcpy(dst, f->mem + offset, len);
        return ARD_OK;
    }
    return read_fd(f, offset, len, dst, err);
}

/* Bytes read in one go from the end of a file: the footer of a tile is a few KiB, so one read usually
 * brings magic, length and FileMetaData together (one disk trip per file on a cold cache, not two). */
#define TAIL_WINDOW ((int64_t)64 << 10)

/* Magic numbers and footer length from the tail window `tail` (the file's last tail_len bytes); on
 * success *footer_len is within the file. */
static ard_status check_envelope(ard_parquet_file *f, const uint8_t *tail, int64_t tail_len,
                                 uint32_t *footer_len, ard_error *err) {
    uint8_t head[4];
    const uint8_t *end = tail + tail_len - FOOTER_TAIL;
    ard_status st = tail_len == f->size ? ARD_OK : ard__pq_file_read(f, 0, sizeof head, head, err);
    if (st != ARD_OK) {
        return st;
    }
    const uint8_t *lead = tail_len == f->size ? tail : head;
    if (memcmp(end + 4, "PARE", 4) == 0) {
        return ard_error_set(err, ARD_ENOTSUP, "%s: encrypted footer (PARE) not supported",
                             f->path);
    }
    if (memcmp(end + 4, "PAR1", 4) != 0) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: bad trailing magic at byte %lld", f->path,
                             (long long)(f->size - 4));
    }
    if (memcmp(lead, "PAR1", 4) != 0) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: bad leading magic at byte 0", f->path);
    }
    *footer_len =
        (uint32_t)end[0] | (uint32_t)end[1] << 8 | (uint32_t)end[2] << 16 | (uint32_t)end[3] << 24;
    if ((int64_t)*footer_len > f->size - MIN_FILE) {
        return ard_error_set(
            err, ARD_ECORRUPT, "%s: footer length %u at byte %lld exceeds the file (%lld bytes)",
            f->path, *footer_len, (long long)(f->size - FOOTER_TAIL), (long long)f->size);
    }
    return ARD_OK;
}

/* Copies the footer out of the tail window, or reads it when it is larger than the window. */
static ard_status fetch_footer(ard_parquet_file *f, const uint8_t *tail, int64_t tail_len,
                               uint32_t footer_len, ard_error *err) {
    int64_t footer_offset = f->size - FOOTER_TAIL - (int64_t)footer_len;
    f->footer = ard_malloc(footer_len);
    if (!f->footer) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for a %u-byte footer", f->path,
                             footer_len);
    }
    f->footer_len = footer_len;
    if ((int64_t)footer_len + FOOTER_TAIL <= tail_len) {
        memcpy(f->footer, tail + tail_len - FOOTER_TAIL - footer_len, footer_len);
        return ARD_OK;
    }
    return ard__pq_file_read(f, footer_offset, footer_len, f->footer, err);
}

static ard_status load_footer(ard_parquet_file *f, ard_error *err) {
    if (f->size < MIN_FILE) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: file of %lld bytes is too small for Parquet",
                             f->path, (long long)f->size);
    }
    int64_t tail_len = f->size < TAIL_WINDOW ? f->size : TAIL_WINDOW;
    uint8_t *tail = ard_malloc((size_t)tail_len);
    if (!tail) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", f->path);
    }
    uint32_t footer_len = 0;
    ard_status st = ard__pq_file_read(f, f->size - tail_len, (size_t)tail_len, tail, err);
    if (st == ARD_OK) {
        st = check_envelope(f, tail, tail_len, &footer_len, err);
    }
    if (st == ARD_OK) {
        st = fetch_footer(f, tail, tail_len, footer_len, err);
    }
    ard_free(tail);
    if (st != ARD_OK) {
        return st;
    }
    int64_t footer_offset = f->size - FOOTER_TAIL - (int64_t)footer_len;
    /* Metadata can legitimately be several times larger than its compact encoding, but a hostile
     * footer must not make us allocate without bound. */
    ard__arena_init(&f->arena, (size_t)footer_len * 64 + ((size_t)1 << 20));
    return ard__pq_decode_file_metadata_enc(f->footer, footer_len, footer_offset, f->size, f->path,
                                            &f->arena, &f->metadata, &f->footer_encrypted, err);
}

void ard__pq_scratch_take(const ard_parquet_file *cf, uint8_t **buf, size_t *cap) {
    ard_parquet_file *f = (ard_parquet_file *)(uintptr_t)cf; /* the pool is internal state */
    *buf = NULL;
    *cap = 0;
    if (f->options.buffers) {
        ard__pq_buffers_take(f->options.buffers, buf, cap);
        return;
    }
    pthread_mutex_lock(&f->scratch_lock);
    if (f->scratch_count > 0) {
        f->scratch_count--;
        *buf = f->scratch_buf[f->scratch_count];
        *cap = f->scratch_cap[f->scratch_count];
    }
    pthread_mutex_unlock(&f->scratch_lock);
}

void ard__pq_scratch_give(const ard_parquet_file *cf, uint8_t *buf, size_t cap) {
    ard_parquet_file *f = (ard_parquet_file *)(uintptr_t)cf;
    if (!buf) {
        return;
    }
    if (f->options.buffers) {
        ard__pq_buffers_give(f->options.buffers, buf, cap);
        return;
    }
    pthread_mutex_lock(&f->scratch_lock);
    if (f->scratch_count < ARD__SCRATCH_POOL) {
        f->scratch_buf[f->scratch_count] = buf;
        f->scratch_cap[f->scratch_count] = cap;
        f->scratch_count++;
        buf = NULL;
    }
    pthread_mutex_unlock(&f->scratch_lock);
    ard_free(buf);
}

static ard_parquet_file *file_new(const char *name, const ard_parquet_open_options *opts) {
    ard_parquet_file *f = ard_calloc(1, sizeof *f);
    if (!f) {
        return NULL;
    }
    pthread_mutex_init(&f->scratch_lock, NULL);
    f->fd = -1;
    ard__arena_init(&f->arena, 0);
    f->path = ard_strdup(name);
    if (!f->path) {
        ard_free(f);
        return NULL;
    }
    if (opts) {
        f->options = *opts;
    }
    return f;
}

static ard_status open_fd(ard_parquet_file *f, ard_error *err) {
    return ard_file_open_regular(f->path, &f->fd, &f->size, err);
}

ard_status ard_parquet_open(const char *path, const ard_parquet_open_options *opts,
                            ard_parquet_file **out, ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_open: out is NULL");
    }
    *out = NULL;
    if (!path) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_open: path is NULL");
    }
    ard_parquet_file *f = file_new(path, opts);
    if (!f) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", path);
    }
    ard_status st = open_fd(f, err);
    if (st == ARD_OK) {
        st = load_footer(f, err);
    }
    if (st != ARD_OK) {
        ard_parquet_close(f);
        return st;
    }
    *out = f;
    return ARD_OK;
}

ard_status ard_parquet_open_memory(const uint8_t *data, size_t size, const char *name,
                                   const ard_parquet_open_options *opts, ard_parquet_file **out,
                                   ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_open_memory: out is NULL");
    }
    *out = NULL;
    if (!data && size != 0) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_open_memory: data is NULL");
    }
    if ((uint64_t)size > (uint64_t)INT64_MAX) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_open_memory: size too large");
    }
    const char *label = name ? name : "<memory>";
    ard_parquet_file *f = file_new(label, opts);
    if (!f) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", label);
    }
    static const uint8_t empty[1];
    f->mem = data ? data : empty;
    f->size = (int64_t)size;
    ard_status st = load_footer(f, err);
    if (st != ARD_OK) {
        ard_parquet_close(f);
        return st;
    }
    *out = f;
    return ARD_OK;
}

ard_status ard_parquet_open_footer(const uint8_t *footer, size_t len, int64_t file_size,
                                   const char *name, ard_parquet_file **out, ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_parquet_open_footer: out is NULL");
    }
    *out = NULL;
    const char *label = name ? name : "<footer>";
    if (!footer || len == 0 || len > UINT32_MAX || file_size < MIN_FILE ||
        (int64_t)len > file_size - MIN_FILE) {
        return ard_error_set(err, ARD_EINVAL, "%s: footer of %zu bytes for a file of %lld bytes",
                             label, len, (long long)file_size);
    }
    ard_parquet_file *f = file_new(label, NULL);
    if (!f || !(f->footer = ard_malloc(len))) {
        ard_parquet_close(f);
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory", label);
    }
    memcpy(f->footer, footer, len);
    f->footer_len = len;
    f->size = file_size;
    f->footer_only = 1;
    int64_t footer_offset = file_size - FOOTER_TAIL - (int64_t)len;
    ard__arena_init(&f->arena, len * 64 + ((size_t)1 << 20));
    ard_status st =
        ard__pq_decode_file_metadata_enc(f->footer, (uint32_t)len, footer_offset, f->size, f->path,
                                         &f->arena, &f->metadata, &f->footer_encrypted, err);
    if (st != ARD_OK) {
        ard_parquet_close(f);
        return st;
    }
    *out = f;
    return ARD_OK;
}

void ard_parquet_close(ard_parquet_file *file) {
    if (!file) {
        return;
    }
    if (file->fd >= 0) {
        close(file->fd);
    }
    ard__arena_reset(&file->arena);
    for (int32_t i = 0; i < file->scratch_count; i++) {
        ard_free(file->scratch_buf[i]);
    }
    pthread_mutex_destroy(&file->scratch_lock);
    ard_free(file->footer);
    ard_free(file->path);
    ard_free(file);
}

const ard_pq_metadata *ard_parquet_metadata(const ard_parquet_file *file) {
    return &file->metadata;
}

const char *ard_parquet_path(const ard_parquet_file *file) {
    return file->path;
}

int64_t ard_parquet_file_size(const ard_parquet_file *file) {
    return file->size;
}

int32_t ard_parquet_find_leaf(const ard_parquet_file *file, const char *path) {
    const ard_pq_metadata *md = &file->metadata;
    if (!path) {
        return -1;
    }
    for (int32_t i = 0; i < md->num_leaves; i++) {
        if (strcmp(md->nodes[md->leaves[i]].path, path) == 0) {
            return i;
        }
    }
    return -1;
}

const char *ard_parquet_kv_get(const ard_parquet_file *file, const char *key) {
    const ard_pq_metadata *md = &file->metadata;
    if (!key) {
        return NULL;
    }
    for (int32_t i = 0; i < md->num_kv; i++) {
        if (strcmp(md->kv[i].key, key) == 0) {
            return md->kv[i].value;
        }
    }
    return NULL;
}

/* ---- enum names ------------------------------------------------------------------------------ */

static const char *name_of(const char *const *names, size_t count, int value) {
    if (value < 0 || (size_t)value >= count || !names[value]) {
        return "?";
    }
    return names[value];
}

#define NAME_OF(table, value) name_of(table, sizeof(table) / sizeof((table)[0]), value)

const char *ard_pq_type_name(int type) {
    static const char *const names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return NAME_OF(names, type);
}

const char *ard_pq_codec_name(int codec) {
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                        "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return NAME_OF(names, codec);
}

const char *ard_pq_encoding_name(int encoding) {
    static const char *const names[] = {"PLAIN",
                                        "?",
                                        "PLAIN_DICTIONARY",
                                        "RLE",
                                        "BIT_PACKED",
                                        "DELTA_BINARY_PACKED",
                                        "DELTA_LENGTH_BYTE_ARRAY",
                                        "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY",
                                        "BYTE_STREAM_SPLIT"};
    return NAME_OF(names, encoding);
}

const char *ard_pq_repetition_name(int repetition) {
    static const char *const names[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
    return NAME_OF(names, repetition);
}

const char *ard_pq_logical_name(ard_pq_logical_kind kind) {
    static const char *const names[] = {[ARD_PQ_LT_NONE] = "NONE",
                                        [ARD_PQ_LT_STRING] = "STRING",
                                        [ARD_PQ_LT_MAP] = "MAP",
                                        [ARD_PQ_LT_LIST] = "LIST",
                                        [ARD_PQ_LT_ENUM] = "ENUM",
                                        [ARD_PQ_LT_DECIMAL] = "DECIMAL",
                                        [ARD_PQ_LT_DATE] = "DATE",
                                        [ARD_PQ_LT_TIME] = "TIME",
                                        [ARD_PQ_LT_TIMESTAMP] = "TIMESTAMP",
                                        [ARD_PQ_LT_INTEGER] = "INTEGER",
                                        [ARD_PQ_LT_NULL] = "NULL",
                                        [ARD_PQ_LT_JSON] = "JSON",
                                        [ARD_PQ_LT_BSON] = "BSON",
                                        [ARD_PQ_LT_UUID] = "UUID",
                                        [ARD_PQ_LT_FLOAT16] = "FLOAT16",
                                        [ARD_PQ_LT_VARIANT] = "VARIANT",
                                        [ARD_PQ_LT_GEOMETRY] = "GEOMETRY",
                                        [ARD_PQ_LT_GEOGRAPHY] = "GEOGRAPHY",
                                        [ARD_PQ_LT_INTERVAL] = "INTERVAL",
                                        [ARD_PQ_LT_MAP_KEY_VALUE] = "MAP_KEY_VALUE",
                                        [ARD_PQ_LT_UNKNOWN_ID] = "UNKNOWN_ID"};
    return NAME_OF(names, (int)kind);
}
