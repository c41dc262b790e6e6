/* RLE/bit-packed hybrid encoding (levels, dictionary indices, RLE booleans) and the deprecated
 * MSB-first BIT_PACKED level encoding: bounds-checked decoders and the writer's encoder.
 *
 * The decoders walk runs and hand each run to a sink that writes either uint32 values or int16
 * levels; RLE runs become fills (memset for the common all-zero case) and bit-packed runs go
 * through ard__bitunpack32 in chunks. */
#include "parquet_int.h"

#include <string.h>

#define RLE_CHUNK 512 /* values per bit-unpack chunk when decoding levels (multiple of 8) */
#define RLE_MAX_RUN 0x7fffffffu

/* ---- decoding ---- */

typedef struct rle_sink {
    uint32_t *u32;
    int16_t *i16;
} rle_sink;

/* Reads an unsigned LEB128 varint of at most 5 bytes / 32 bits. */
static ard_status read_header(const uint8_t **pp, const uint8_t *end, uint32_t *out,
                              ard_error *err) {
    uint64_t value = 0;
    int rc = ard__varint_get(pp, end, 5, &value);
    if (rc == ARD__VARINT_TRUNCATED) {
        return ard_error_set(err, ARD_ECORRUPT, "RLE/bit-packed data: truncated run header");
    }
    if (rc != ARD__VARINT_OK) {
        return ard_error_set(err, ARD_ECORRUPT, "RLE/bit-packed data: run header varint too long");
    }
    *out = (uint32_t)value;
    return ARD_OK;
}

static void sink_fill(rle_sink *s, int64_t at, uint32_t value, int64_t n) {
    size_t count = (size_t)n;
    if (s->u32) {
        uint32_t *dst = s->u32 + at;
        if (value == 0) {
            memset(dst, 0, count * sizeof *dst);
        } else {
            for (size_t i = 0; i < count; i++) {
                dst[i] = value;
            }
        }
        return;
    }
    int16_t *dst = s->i16 + at;
    int16_t level = (int16_t)value;
    if (level == 0) {
        memset(dst, 0, count * sizeof *dst);
    } else {
        for (size_t i = 0; i < count; i++) {
            dst[i] = level;
        }
    }
}

/* Unpacks n values from a byte-aligned position. */
static void sink_unpack(rle_sink *s, int64_t at, const uint8_t *in, int bit_width, int64_t n) {
    if (s->u32) {
        ard__bitunpack32(in, bit_width, s->u32 + at, (size_t)n);
        return;
    }
    uint32_t tmp[RLE_CHUNK];
    size_t bytes_per_chunk = (size_t)RLE_CHUNK * (size_t)bit_width / 8;
    while (n > 0) {
        size_t chunk = n < RLE_CHUNK ? (size_t)n : RLE_CHUNK;
        ard__bitunpack32(in, bit_width, tmp, chunk);
        int16_t *dst = s->i16 + at;
        for (size_t i = 0; i < chunk; i++) {
            dst[i] = (int16_t)tmp[i];
        }
        in += bytes_per_chunk;
        at += (int64_t)chunk;
        n -= (int64_t)chunk;
    }
}

static ard_status rle_run(const uint8_t **pp, const uint8_t *end, int bit_width, uint32_t header,
                          rle_sink *s, int64_t *done, int64_t count, ard_error *err) {
    uint32_t run = header >> 1;
    if (run == 0) {
        return ard_error_set(err, ARD_ECORRUPT, "RLE/bit-packed data: RLE run of length 0");
    }
    size_t value_bytes = ((size_t)bit_width + 7) / 8;
    if ((size_t)(end - *pp) < value_bytes) {
        return ard_error_set(err, ARD_ECORRUPT, "RLE/bit-packed data: truncated RLE run value");
    }
    uint32_t value = 0;
    for (size_t i = 0; i < value_bytes; i++) {
        value |= (uint32_t)(*pp)[i] << (8 * i);
    }
    *pp += value_bytes;
    int64_t n = count - *done < (int64_t)run ? count - *done : (int64_t)run;
    sink_fill(s, *done, value, n);
    *done += n;
    return ARD_OK;
}

static ard_status packed_run(const uint8_t **pp, const uint8_t *end, int bit_width, uint32_t header,
                             rle_sink *s, int64_t *done, int64_t count, ard_error *err) {
    uint64_t groups = header >> 1;
    uint64_t run_bytes = groups * (uint64_t)bit_width;
    uint64_t avail = (uint64_t)(end - *pp);
    int64_t want = count - *done;
    int64_t n = (uint64_t)want < groups * 8 ? want : (int64_t)(groups * 8);
    uint64_t need_bytes = ((uint64_t)n * (uint64_t)bit_width + 7) / 8;
    if (need_bytes > avail) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "RLE/bit-packed data: bit-packed run of %llu values needs %llu bytes, "
                             "%llu left",
                             (unsigned long long)(groups * 8), (unsigned long long)run_bytes,
                             (unsigned long long)avail);
    }
    sink_unpack(s, *done, *pp, bit_width, n);
    *done += n;
    *pp += run_bytes < avail ? run_bytes : avail;
    return ARD_OK;
}

static ard_status rle_decode(const uint8_t *in, size_t len, int bit_width, rle_sink *s,
                             int64_t count, ard_error *err) {
    if (count < 0) {
        return ard_error_set(err, ARD_EINVAL, "RLE/bit-packed data: negative value count");
    }
    if (bit_width == 0) {
        sink_fill(s, 0, 0, count);
        return ARD_OK;
    }
    const uint8_t *p = in, *end = in + len;
    int64_t done = 0;
    while (done < count) {
        uint32_t header = 0;
        ard_status st = read_header(&p, end, &header, err);
        if (st == ARD_OK) {
            st = (header & 1) ? packed_run(&p, end, bit_width, header, s, &done, count, err)
                              : rle_run(&p, end, bit_width, header, s, &done, count, err);
        }
        if (st != ARD_OK) {
            ard_error_prefix(err, "after %lld of %lld values: ", (long long)done, (long long)count);
            return st;
        }
    }
    return ARD_OK;
}

ard_status ard__rle_decode_u32(const uint8_t *in, size_t len, int bit_width, uint32_t *out,
                               int64_t count, ard_error *err) {
    if (bit_width < 0 || bit_width > 32) {
        return ard_error_set(err, ARD_ECORRUPT, "RLE/bit-packed data: bit width %d not in 0..32",
                             bit_width);
    }
    rle_sink s = {out, NULL};
    return rle_decode(in, len, bit_width, &s, count, err);
}

ard_status ard__rle_decode_levels(const uint8_t *in, size_t len, int bit_width, int16_t *out,
                                  int64_t count, ard_error *err) {
    if (bit_width < 0 || bit_width > 16) {
        return ard_error_set(err, ARD_ECORRUPT, "RLE levels: bit width %d not in 0..16", bit_width);
    }
    rle_sink s = {NULL, out};
    return rle_decode(in, len, bit_width, &s, count, err);
}

ard_status ard__bitpacked_msb_decode_levels(const uint8_t *in, size_t len, int bit_width,
                                            int16_t *out, int64_t count, ard_error *err) {
    if (bit_width < 0 || bit_width > 16) {
        return ard_error_set(err, ARD_ECORRUPT, "BIT_PACKED levels: bit width %d not in 0..16",
                             bit_width);
    }
    if (count < 0) {
        return ard_error_set(err, ARD_EINVAL, "BIT_PACKED levels: negative value count");
    }
    uint64_t need = ((uint64_t)count * (uint64_t)bit_width + 7) / 8;
    if (need > len) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "BIT_PACKED levels: %lld values need %llu bytes, %zu present",
                             (long long)count, (unsigned long long)need, len);
    }
    uint32_t mask = ((uint32_t)1 << bit_width) - 1;
    uint64_t acc = 0;
    int bits = 0;
    const uint8_t *p = in;
    for (int64_t i = 0; i < count; i++) {
        while (bits < bit_width) {
            acc = acc << 8 | *p++;
            bits += 8;
        }
        bits -= bit_width;
        out[i] = (int16_t)((acc >> bits) & mask);
    }
    return ARD_OK;
}

/* ---- encoding ---- */

typedef struct rle_src {
    const uint32_t *u32;
    const int16_t *i16;
    uint32_t mask;
} rle_src;

static inline uint32_t src_at(const rle_src *src, int64_t i) {
    uint32_t v = src->u32 ? src->u32[i] : (uint32_t)(uint16_t)src->i16[i];
    return v & src->mask;
}

/* Bit-packed run of values [from, from + n), padded with zeros to whole groups of 8. */
static void emit_packed(const rle_src *src, int64_t from, int64_t n, int bit_width, ard_buf *out) {
    uint64_t groups = ((uint64_t)n + 7) / 8;
    ard__varint_put(out, groups << 1 | 1);
    size_t bytes = (size_t)(groups * (uint64_t)bit_width);
    if (bytes == 0 || ard_buf_reserve(out, bytes) != 0) {
        return;
    }
    uint8_t *dst = out->data + out->len;
    memset(dst, 0, bytes);
    uint64_t bitpos = 0;
    for (int64_t i = 0; i < n; i++, bitpos += (uint64_t)bit_width) {
        uint64_t v = src_at(src, from + i);
        for (int left = bit_width, shift = 0; left > 0;) {
            uint64_t at = (bitpos + (uint64_t)shift) >> 3;
            int off = (int)((bitpos + (uint64_t)shift) & 7);
            int take = 8 - off < left ? 8 - off : left;
            dst[at] |= (uint8_t)(((v >> shift) & ((1u << take) - 1)) << off);
            shift += take;
            left -= take;
        }
    }
    out->len += bytes;
}

static void emit_rle(uint32_t value, int64_t n, int bit_width, ard_buf *out) {
    uint8_t bytes[4];
    size_t value_bytes = ((size_t)bit_width + 7) / 8;
    for (size_t i = 0; i < value_bytes; i++) {
        bytes[i] = (uint8_t)(value >> (8 * i));
    }
    while (n > 0) {
        int64_t run = n > (int64_t)RLE_MAX_RUN ? (int64_t)RLE_MAX_RUN : n;
        ard__varint_put(out, (uint64_t)run << 1);
        ard_buf_append(out, bytes, value_bytes);
        n -= run;
    }
}

/* Length of the run of values equal to the one at i (after the mask), at most count - i. Long
 * runs (levels of list columns, dictionary indices) are first scanned 8 bytes at a time for raw
 * equality, which implies masked equality; the masked per-value scan then finishes the run. */
static int64_t run_length(const rle_src *src, int64_t i, int64_t count) {
    int64_t end = i + 1;
    const void *base = src->u32 ? (const void *)src->u32 : (const void *)src->i16;
    size_t size = src->u32 ? sizeof *src->u32 : sizeof *src->i16;
    int64_t per_word = (int64_t)(8 / size);
    uint64_t word = src->u32 ? src->u32[i] : (uint16_t)src->i16[i];
    for (size_t bits = 8 * size; bits < 64; bits *= 2) {
        word |= word << bits;
    }
    for (; end + 4 * per_word <= count; end += 4 * per_word) { /* 32 bytes per step */
        uint64_t c[4];
        memcpy(c, (const uint8_t *)base + (size_t)end * size, sizeof c);
        if (((c[0] ^ word) | (c[1] ^ word) | (c[2] ^ word) | (c[3] ^ word)) != 0) {
            break;
        }
    }
    for (uint64_t chunk; end + per_word <= count; end += per_word) {
        memcpy(&chunk, (const uint8_t *)base + (size_t)end * size, sizeof chunk);
        if (chunk != word) {
            break;
        }
    }
    uint32_t v = src_at(src, i);
    while (end < count && src_at(src, end) == v) {
        end++;
    }
    return end - i;
}

/* Pending values [pend, i) are bit-packed; a run of >= 8 equal values becomes an RLE run once the
 * pending values fill whole groups (values are borrowed from the run to complete the last group).
 */
static void rle_encode(const rle_src *src, int64_t count, int bit_width, ard_buf *out) {
    int64_t pend = 0, i = 0;
    while (i < count) {
        uint32_t v = src_at(src, i);
        int64_t run = run_length(src, i, count);
        int64_t borrow = (8 - (i - pend) % 8) % 8;
        if (run - borrow >= 8) {
            if (i + borrow > pend) {
                emit_packed(src, pend, i + borrow - pend, bit_width, out);
            }
            emit_rle(v, run - borrow, bit_width, out);
            pend = i + run;
        }
        i += run;
    }
    if (count > pend) {
        emit_packed(src, pend, count - pend, bit_width, out);
    }
}

void ard__rle_encode_u32(const uint32_t *values, int64_t count, int bit_width, ard_buf *out) {
    uint32_t mask = bit_width >= 32 ? UINT32_MAX : ((uint32_t)1 << bit_width) - 1;
    rle_src src = {values, NULL, mask};
    rle_encode(&src, count, bit_width, out);
}

void ard__rle_encode_levels(const int16_t *levels, int64_t count, int bit_width, ard_buf *out) {
    uint32_t mask = ((uint32_t)1 << bit_width) - 1;
    rle_src src = {NULL, levels, mask};
    rle_encode(&src, count, bit_width, out);
}
