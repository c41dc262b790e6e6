/* One SNAPPY stream assembled from parts (a page's levels, then each BYTE_STREAM_SPLIT stream),
 * each part compressed by libsnappy on its own or stored as literal elements.
 *
 * A snappy stream is a varint of the uncompressed length followed by elements: literals (a tag and
 * the bytes) and copies that repeat earlier output at a relative distance. A copy libsnappy makes
 * for one part only reaches back into that part's own output, which stays where it was, so parts
 * compressed separately concatenate into one valid stream under a single length header. Any
 * conforming decoder (libsnappy, DuckDB's, Arrow's) reads it like libsnappy's own output; literals
 * are cut at 64 KiB, the longest libsnappy itself emits.
 *
 * Why: low mantissa bytes of noisy floats do not compress; a part is stored literally when a
 * sample of it does not compress (see ard__snappy_compress_parts), which skips libsnappy's search
 * on it, and the parts need not be contiguous in memory (no copy of the page into one buffer). */
#include "parquet_int.h"

#include <snappy-c.h>
#include <string.h>

#define LITERAL_MAX 65536 /* bytes per literal element (libsnappy's own maximum) */

static size_t varint32_len(uint32_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t varint32_put(uint8_t *p, uint32_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Literal elements of data[0..len) at dst; returns the bytes written. */
static size_t put_literals(uint8_t *dst, const uint8_t *data, size_t len) {
    size_t w = 0;
    while (len > 0) {
        size_t n = len < LITERAL_MAX ? len : LITERAL_MAX;
        uint32_t m = (uint32_t)(n - 1);
        if (m < 60) {
            dst[w++] = (uint8_t)(m << 2);
        } else if (m < 256) {
            dst[w++] = 60 << 2;
            dst[w++] = (uint8_t)m;
        } else {
            dst[w++] = 61 << 2;
            dst[w++] = (uint8_t)m;
            dst[w++] = (uint8_t)(m >> 8);
        }
        memcpy(dst + w, data, n);
        w += n;
        data += n;
        len -= n;
    }
    return w;
}

static size_t literal_bound(size_t len) {
    return len + 3 * (len / LITERAL_MAX + 1);
}

/* Whether a sample of the part compresses to less than 63/64 of itself: ARD__SNAPPY_SAMPLE bytes
 * from the middle of the part (its start is often atypical: a spectrum's blue end). */
static int sample_compresses(const uint8_t *data, size_t len) {
    char out[ARD__SNAPPY_SAMPLE + ARD__SNAPPY_SAMPLE / 6 + 64];
    size_t from = len / 2 - ARD__SNAPPY_SAMPLE / 2, cap = sizeof out;
    if (snappy_max_compressed_length(ARD__SNAPPY_SAMPLE) > cap ||
        snappy_compress((const char *)data + from, ARD__SNAPPY_SAMPLE, out, &cap) != SNAPPY_OK) {
        return 1;
    }
    return cap * 64 < (size_t)ARD__SNAPPY_SAMPLE * 63;
}

/* libsnappy's stream of one part, without its length header, appended at out->len. The part's
 * header (at most as long as the whole stream's, which precedes it) is written over the last bytes
 * already in out, which are saved and put back, so the body lands in place without a copy. */
static ard_status compress_part(const uint8_t *data, size_t len, ard_buf *out, ard_error *err) {
    size_t k = varint32_len((uint32_t)len), at = out->len - k;
    uint8_t saved[5], head[5];
    memcpy(saved, out->data + at, k);
    size_t cap = snappy_max_compressed_length(len);
    if (snappy_compress((const char *)data, len, (char *)out->data + at, &cap) != SNAPPY_OK ||
        cap < k || varint32_put(head, (uint32_t)len) != k || memcmp(head, out->data + at, k)) {
        return ard_error_set(err, ARD_EINTERNAL, "SNAPPY compression of a %zu-byte part failed",
                             len);
    }
    memcpy(out->data + at, saved, k);
    out->len = at + cap;
    return ARD_OK;
}

ard_status ard__snappy_compress_parts(const ard__snappy_part *parts, int32_t count, ard_buf *out,
                                      ard_error *err) {
    size_t total = 0, bound = 5;
    for (int32_t i = 0; i < count; i++) {
        size_t n = parts[i].len, sb = snappy_max_compressed_length(n);
        total += n;
        bound += (sb > literal_bound(n) ? sb : literal_bound(n));
        if (n > UINT32_MAX || total > UINT32_MAX) {
            return ard_error_set(err, ARD_ELIMIT, "SNAPPY: a page over 4 GiB cannot be compressed");
        }
    }
    if (ard_buf_reserve(out, bound) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "SNAPPY compression: out of memory");
    }
    out->len += varint32_put(out->data + out->len, (uint32_t)total);
    for (int32_t i = 0; i < count; i++) {
        const ard__snappy_part *p = &parts[i];
        if (p->len == 0) {
            continue;
        }
        int literal = p->how == ARD__SNAPPY_LITERAL;
        if (p->how == ARD__SNAPPY_AUTO && p->len >= 2 * ARD__SNAPPY_SAMPLE) {
            literal = !sample_compresses(p->data, p->len);
        }
        if (literal) {
            out->len += put_literals(out->data + out->len, p->data, p->len);
            continue;
        }
        ard_status st = compress_part(p->data, p->len, out, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    return ARD_OK;
}
