/* Page compression codecs through Debian's libraries (snappy, zlib, zstd, lz4, brotli), and CRC-32.
 *
 * Decompression always targets an exact size (the page header's uncompressed size); any other
 * result is ARD_ECORRUPT. GZIP may hold several concatenated members. Legacy LZ4 (codec 5) uses
 * Hadoop's block framing; some old writers used a bare LZ4 block instead, which is the fallback. */
#include "parquet_int.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <limits.h>
#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* the buffer-less block decoder (ard__zstd_page_*) */
#include <zstd.h>

#define ZLIB_CHUNK ((size_t)1 << 30) /* largest piece handed to zlib's uInt counters */

static const char *codec_label(int codec) {
    switch (codec) {
    case ARD_PQ_UNCOMPRESSED:
        return "UNCOMPRESSED";
    case ARD_PQ_SNAPPY:
        return "SNAPPY";
    case ARD_PQ_GZIP:
        return "GZIP";
    case ARD_PQ_LZO:
        return "LZO";
    case ARD_PQ_BROTLI:
        return "BROTLI";
    case ARD_PQ_LZ4:
        return "LZ4";
    case ARD_PQ_ZSTD:
        return "ZSTD";
    case ARD_PQ_LZ4_RAW:
        return "LZ4_RAW";
    default:
        return "unknown codec";
    }
}

static ard_status size_mismatch(ard_error *err, const char *what, int codec, size_t got,
                                size_t want) {
    return ard_error_set(err, ARD_ECORRUPT, "%s: %s decompressed to %zu bytes, expected %zu", what,
                         codec_label(codec), got, want);
}

static ard_status bad_data(ard_error *err, const char *what, int codec, const char *detail,
                           size_t want) {
    return ard_error_set(err, ARD_ECORRUPT,
                         "%s: %s data invalid or not decompressing to %zu bytes (%s)", what,
                         codec_label(codec), want, detail);
}

/* ---- decompression ---- */

static ard_status snappy_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                             const char *what, ard_error *err) {
    size_t n;
    if (snappy_uncompressed_length((const char *)in, in_len, &n) != SNAPPY_OK) {
        return bad_data(err, what, ARD_PQ_SNAPPY, "bad length header", out_len);
    }
    if (n != out_len) {
        return size_mismatch(err, what, ARD_PQ_SNAPPY, n, out_len);
    }
    if (snappy_uncompress((const char *)in, in_len, (char *)out, &n) != SNAPPY_OK) {
        return bad_data(err, what, ARD_PQ_SNAPPY, "bad block", out_len);
    }
    return n == out_len ? ARD_OK : size_mismatch(err, what, ARD_PQ_SNAPPY, n, out_len);
}

/* Feeds zlib at most ZLIB_CHUNK bytes of input and output at a time. */
static int inflate_step(z_stream *zs, const uint8_t **in, size_t *in_left, uint8_t **out,
                        size_t *out_left) {
    uInt give_in = (uInt)(*in_left < ZLIB_CHUNK ? *in_left : ZLIB_CHUNK);
    uInt give_out = (uInt)(*out_left < ZLIB_CHUNK ? *out_left : ZLIB_CHUNK);
    zs->next_in = (Bytef *)(uintptr_t)*in;
    zs->avail_in = give_in;
    zs->next_out = *out;
    zs->avail_out = give_out;
    int rc = inflate(zs, Z_NO_FLUSH);
    *in += give_in - zs->avail_in;
    *in_left -= give_in - zs->avail_in;
    *out += give_out - zs->avail_out;
    *out_left -= give_out - zs->avail_out;
    return rc;
}

static ard_status gzip_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                           const char *what, ard_error *err) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        return ard_error_set(err, ARD_ENOMEM, "%s: GZIP: cannot initialise zlib", what);
    }
    uint8_t spare;
    uint8_t *dst = out_len ? out : &spare;
    size_t in_left = in_len, out_left = out_len;
    ard_status st = ARD_OK;
    for (;;) {
        size_t before = in_left + out_left;
        int rc = inflate_step(&zs, &in, &in_left, &dst, &out_left);
        if (rc == Z_STREAM_END) {
            if (in_left == 0) {
                break;
            }
            inflateReset(&zs); /* another gzip member follows */
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            st = bad_data(err, what, ARD_PQ_GZIP, zs.msg ? zs.msg : "inflate failed", out_len);
            break;
        } else if (out_left == 0 && in_left > 0 && before == in_left + out_left) {
            st = ard_error_set(err, ARD_ECORRUPT, "%s: GZIP decompressed to more than %zu bytes",
                               what, out_len);
            break;
        } else if (before == in_left + out_left) {
            st = bad_data(err, what, ARD_PQ_GZIP, "truncated stream", out_len);
            break;
        }
    }
    inflateEnd(&zs);
    if (st == ARD_OK && out_left != 0) {
        st = size_mismatch(err, what, ARD_PQ_GZIP, out_len - out_left, out_len);
    }
    return st;
}

static ard_status zstd_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                           const char *what, ard_error *err) {
    uint8_t spare;
    size_t n = ZSTD_decompress(out_len ? out : &spare, out_len, in, in_len);
    if (ZSTD_isError(n)) {
        return bad_data(err, what, ARD_PQ_ZSTD, ZSTD_getErrorName(n), out_len);
    }
    return n == out_len ? ARD_OK : size_mismatch(err, what, ARD_PQ_ZSTD, n, out_len);
}

/* ---- ZSTD pages decoded block by block ----
 * zstd's buffer-less decoder writes each block wherever the caller says. When a block lands
 * somewhere other than right after the previous one, zstd keeps the previous contiguous output as
 * its dictionary; the page reader uses this to decode a page's first blocks (levels) into scratch
 * and the rest straight into the output matrix, with the scratch left untouched until the end. */

static void *zstd_alloc(void *opaque, size_t size) {
    (void)opaque;
    return ard_malloc(size);
}

static void zstd_free(void *opaque, void *ptr) {
    (void)opaque;
    ard_free(ptr);
}

ard_status ard__zstd_page_begin(ard__zstd_page *zp, const uint8_t *in, size_t in_len,
                                size_t out_len, const char *what, ard_error *err) {
    if (!zp->dctx) {
        ZSTD_customMem mem = {zstd_alloc, zstd_free, NULL};
        zp->dctx = ZSTD_createDCtx_advanced(mem);
        if (!zp->dctx) {
            return ard_error_set(err, ARD_ENOMEM, "%s: out of memory for a ZSTD decoder", what);
        }
    }
    size_t r = ZSTD_decompressBegin(zp->dctx);
    if (ZSTD_isError(r)) {
        return ard_error_set(err, ARD_EINTERNAL, "%s: ZSTD_decompressBegin: %s", what,
                             ZSTD_getErrorName(r));
    }
    zp->in = in;
    zp->in_left = in_len;
    zp->out_len = out_len;
    return ARD_OK;
}

ard_status ard__zstd_page_next(ard__zstd_page *zp, uint8_t *dst, size_t cap, size_t *produced,
                               const char *what, ard_error *err) {
    uint8_t spare;
    *produced = 0;
    for (;;) {
        size_t need = ZSTD_nextSrcSizeToDecompress(zp->dctx);
        if (need == 0) { /* a frame ended: the page is done, or another frame follows */
            if (zp->in_left == 0) {
                return ARD_OK;
            }
            size_t r = ZSTD_decompressBegin(zp->dctx);
            if (ZSTD_isError(r)) {
                return bad_data(err, what, ARD_PQ_ZSTD, ZSTD_getErrorName(r), zp->out_len);
            }
            continue;
        }
        if (need > zp->in_left) {
            return bad_data(err, what, ARD_PQ_ZSTD, "truncated frame", zp->out_len);
        }
        size_t n = ZSTD_decompressContinue(zp->dctx, cap ? dst : &spare, cap, zp->in, need);
        if (ZSTD_isError(n)) {
            return bad_data(err, what, ARD_PQ_ZSTD, ZSTD_getErrorName(n), zp->out_len);
        }
        zp->in += need;
        zp->in_left -= need;
        if (n > 0) {
            *produced = n;
            return ARD_OK;
        }
    }
}

ard_status ard__zstd_page_end(ard__zstd_page *zp, size_t decoded, const char *what,
                              ard_error *err) {
    size_t more = 0;
    ard_status st = ard__zstd_page_next(zp, NULL, 0, &more, what, err);
    if (st == ARD_OK && (more != 0 || decoded != zp->out_len)) {
        st = size_mismatch(err, what, ARD_PQ_ZSTD, decoded + more, zp->out_len);
    }
    return st;
}

void ard__zstd_page_free(ard__zstd_page *zp) {
    if (zp && zp->dctx) {
        ZSTD_freeDCtx(zp->dctx);
        zp->dctx = NULL;
    }
}

/* One bare LZ4 block into exactly out_len bytes; -1 when invalid, else the decoded size. */
static long lz4_block(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len) {
    if (in_len > INT_MAX || out_len > INT_MAX) {
        return -1;
    }
    uint8_t spare;
    int n = LZ4_decompress_safe((const char *)in, (char *)(out_len ? out : &spare), (int)in_len,
                                (int)out_len);
    return n;
}

static uint32_t load_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Hadoop framing: frames of [BE u32 raw size] then [BE u32 compressed size][block] pairs until the
 * frame's raw size is produced (at least one pair per frame). True only if it parses exactly. */
static bool lz4_hadoop(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len) {
    size_t pos = 0, produced = 0;
    while (pos < in_len) {
        if (in_len - pos < 8) {
            return false;
        }
        size_t frame_raw = load_be32(in + pos), frame_done = 0;
        pos += 4;
        if (frame_raw > out_len - produced) {
            return false;
        }
        do {
            if (in_len - pos < 4) {
                return false;
            }
            size_t block_len = load_be32(in + pos);
            pos += 4;
            if (block_len > in_len - pos) {
                return false;
            }
            long n = lz4_block(in + pos, block_len, out + produced, frame_raw - frame_done);
            if (n < 0) {
                return false;
            }
            pos += block_len;
            produced += (size_t)n;
            frame_done += (size_t)n;
        } while (frame_done < frame_raw);
    }
    return produced == out_len;
}

static ard_status lz4_dec(int codec, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                          const char *what, ard_error *err) {
    if (codec == ARD_PQ_LZ4 && lz4_hadoop(in, in_len, out, out_len)) {
        return ARD_OK;
    }
    if (in_len > INT_MAX || out_len > INT_MAX) {
        return ard_error_set(err, ARD_ELIMIT, "%s: %s block larger than 2 GiB", what,
                             codec_label(codec));
    }
    long n = lz4_block(in, in_len, out, out_len);
    if (n < 0) {
        return bad_data(err, what, codec, "LZ4_decompress_safe failed", out_len);
    }
    return (size_t)n == out_len ? ARD_OK : size_mismatch(err, what, codec, (size_t)n, out_len);
}

static ard_status brotli_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                             const char *what, ard_error *err) {
    uint8_t spare;
    size_t n = out_len;
    if (BrotliDecoderDecompress(in_len, in, &n, out_len ? out : &spare) !=
        BROTLI_DECODER_RESULT_SUCCESS) {
        return bad_data(err, what, ARD_PQ_BROTLI, "BrotliDecoderDecompress failed", out_len);
    }
    return n == out_len ? ARD_OK : size_mismatch(err, what, ARD_PQ_BROTLI, n, out_len);
}

ard_status ard__pq_decompress(int codec, const uint8_t *in, size_t in_len, uint8_t *out,
                              size_t out_len, const char *what, ard_error *err) {
    uint8_t spare;
    what = what ? what : "page";
    out = out ? out : &spare; /* only legal with out_len == 0; keeps pointer arithmetic defined */
    switch (codec) {
    case ARD_PQ_UNCOMPRESSED:
        if (in_len != out_len) {
            return size_mismatch(err, what, codec, in_len, out_len);
        }
        if (in_len) {
            memcpy(out, in, in_len);
        }
        return ARD_OK;
    case ARD_PQ_SNAPPY:
        return snappy_dec(in, in_len, out, out_len, what, err);
    case ARD_PQ_GZIP:
        return gzip_dec(in, in_len, out, out_len, what, err);
    case ARD_PQ_ZSTD:
        return zstd_dec(in, in_len, out, out_len, what, err);
    case ARD_PQ_LZ4:
    case ARD_PQ_LZ4_RAW:
        return lz4_dec(codec, in, in_len, out, out_len, what, err);
    case ARD_PQ_BROTLI:
        return brotli_dec(in, in_len, out, out_len, what, err);
    case ARD_PQ_LZO:
        return ard_error_set(err, ARD_ENOTSUP, "%s: LZO codec not supported", what);
    default:
        return ard_error_set(err, ARD_ENOTSUP, "%s: unknown compression codec %d", what, codec);
    }
}

/* ---- compression ---- */

static ard_status no_memory(ard_error *err, int codec) {
    return ard_error_set(err, ARD_ENOMEM, "%s compression: out of memory", codec_label(codec));
}

static ard_status snappy_enc(const uint8_t *in, size_t in_len, ard_buf *out, ard_error *err) {
    size_t cap = snappy_max_compressed_length(in_len);
    if (ard_buf_reserve(out, cap) != 0) {
        return no_memory(err, ARD_PQ_SNAPPY);
    }
    if (snappy_compress((const char *)in, in_len, (char *)out->data + out->len, &cap) !=
        SNAPPY_OK) {
        return ard_error_set(err, ARD_EINTERNAL, "SNAPPY compression failed");
    }
    out->len += cap;
    return ARD_OK;
}

static ard_status gzip_enc(int level, const uint8_t *in, size_t in_len, ard_buf *out,
                           ard_error *err) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return ard_error_set(err, ARD_EINVAL, "GZIP compression: bad level %d", level);
    }
    ard_status st = ARD_OK;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        uInt give_in = (uInt)(in_len < ZLIB_CHUNK ? in_len : ZLIB_CHUNK);
        if (ard_buf_reserve(out, (size_t)give_in / 2 + 65536) != 0) {
            st = no_memory(err, ARD_PQ_GZIP);
            break;
        }
        size_t room = out->cap - out->len;
        uInt give_out = (uInt)(room < ZLIB_CHUNK ? room : ZLIB_CHUNK);
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = give_in;
        zs.next_out = out->data + out->len;
        zs.avail_out = give_out;
        rc = deflate(&zs, give_in == in_len ? Z_FINISH : Z_NO_FLUSH);
        in += give_in - zs.avail_in;
        in_len -= give_in - zs.avail_in;
        out->len += give_out - zs.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            st = ard_error_set(err, ARD_EINTERNAL, "GZIP compression failed (%d)", rc);
            break;
        }
    }
    deflateEnd(&zs);
    return st;
}

static ard_status zstd_enc(int level, const uint8_t *in, size_t in_len, ard_buf *out,
                           ard_error *err) {
    size_t cap = ZSTD_compressBound(in_len);
    if (ZSTD_isError(cap) || ard_buf_reserve(out, cap) != 0) {
        return no_memory(err, ARD_PQ_ZSTD);
    }
    size_t n = ZSTD_compress(out->data + out->len, cap, in, in_len, level ? level : 3);
    if (ZSTD_isError(n)) {
        return ard_error_set(err, ARD_EINTERNAL, "ZSTD compression failed: %s",
                             ZSTD_getErrorName(n));
    }
    out->len += n;
    return ARD_OK;
}

/* Appends one bare LZ4 block; *block_len = its size. */
static ard_status lz4_enc_block(const uint8_t *in, size_t in_len, ard_buf *out, size_t *block_len,
                                ard_error *err) {
    if (in_len > LZ4_MAX_INPUT_SIZE) {
        return ard_error_set(err, ARD_ELIMIT, "LZ4 compression: input of %zu bytes too large",
                             in_len);
    }
    int cap = LZ4_compressBound((int)in_len);
    if (ard_buf_reserve(out, (size_t)cap) != 0) {
        return no_memory(err, ARD_PQ_LZ4_RAW);
    }
    int n = LZ4_compress_default((const char *)in, (char *)out->data + out->len, (int)in_len, cap);
    if (n <= 0) {
        return ard_error_set(err, ARD_EINTERNAL, "LZ4 compression failed");
    }
    out->len += (size_t)n;
    *block_len = (size_t)n;
    return ARD_OK;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Hadoop framing, one block per frame, frames of at most 256 KiB raw (Hadoop's default buffer). */
static ard_status lz4_hadoop_enc(const uint8_t *in, size_t in_len, ard_buf *out, ard_error *err) {
    const size_t frame_max = 256 * 1024;
    size_t pos = 0;
    do {
        size_t raw = in_len - pos < frame_max ? in_len - pos : frame_max;
        uint8_t head[8] = {0};
        put_be32(head, (uint32_t)raw);
        size_t head_at = out->len, block_len = 0;
        ard_buf_append(out, head, sizeof head);
        if (out->failed) {
            return no_memory(err, ARD_PQ_LZ4);
        }
        ard_status st = lz4_enc_block(in + pos, raw, out, &block_len, err);
        if (st != ARD_OK) {
            return st;
        }
        put_be32(out->data + head_at + 4, (uint32_t)block_len);
        pos += raw;
    } while (pos < in_len);
    return ARD_OK;
}

static ard_status brotli_enc(int level, const uint8_t *in, size_t in_len, ard_buf *out,
                             ard_error *err) {
    size_t cap = BrotliEncoderMaxCompressedSize(in_len);
    if (cap == 0) {
        return ard_error_set(err, ARD_ELIMIT, "BROTLI compression: input of %zu bytes too large",
                             in_len);
    }
    if (ard_buf_reserve(out, cap) != 0) {
        return no_memory(err, ARD_PQ_BROTLI);
    }
    int quality = level > 0 && level <= BROTLI_MAX_QUALITY ? level : 5;
    if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in_len, in,
                               &cap, out->data + out->len)) {
        return ard_error_set(err, ARD_EINTERNAL, "BROTLI compression failed");
    }
    out->len += cap;
    return ARD_OK;
}

ard_status ard__pq_compress(int codec, int level, const uint8_t *in, size_t in_len, ard_buf *out,
                            ard_error *err) {
    size_t ignored;
    switch (codec) {
    case ARD_PQ_UNCOMPRESSED:
        ard_buf_append(out, in, in_len);
        return out->failed ? no_memory(err, codec) : ARD_OK;
    case ARD_PQ_SNAPPY:
        return snappy_enc(in, in_len, out, err);
    case ARD_PQ_GZIP:
        return gzip_enc(level, in, in_len, out, err);
    case ARD_PQ_ZSTD:
        return zstd_enc(level, in, in_len, out, err);
    case ARD_PQ_LZ4:
        return lz4_hadoop_enc(in, in_len, out, err);
    case ARD_PQ_LZ4_RAW:
        return lz4_enc_block(in, in_len, out, &ignored, err);
    case ARD_PQ_BROTLI:
        return brotli_enc(level, in, in_len, out, err);
    case ARD_PQ_LZO:
        return ard_error_set(err, ARD_ENOTSUP, "LZO codec not supported");
    default:
        return ard_error_set(err, ARD_ENOTSUP, "unknown compression codec %d", codec);
    }
}

#if ARD_CRC32_CLMUL
static int have_vpclmul(void) { /* __builtin_cpu_supports reads a table set at start-up */
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq");
}
#endif

uint32_t ard__crc32(const uint8_t *data, size_t len) {
    uLong crc = crc32(0L, Z_NULL, 0);
#if ARD_CRC32_CLMUL
    if (len >= 64 && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
        size_t whole = len & ~(size_t)15; /* the clmul path, then zlib for the last < 16 bytes */
        crc = whole >= 256 && have_vpclmul() ? ard__crc32_vpclmul((uint32_t)crc, data, whole)
                                             : ard__crc32_clmul((uint32_t)crc, data, whole);
        data += whole;
        len -= whole;
    }
#endif
    while (len > 0) {
        uInt n = (uInt)(len < ZLIB_CHUNK ? len : ZLIB_CHUNK);
        crc = crc32(crc, data, n);
        data += n;
        len -= n;
    }
    return (uint32_t)crc;
}
