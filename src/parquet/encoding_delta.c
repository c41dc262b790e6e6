/* DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY decoders, and the
 * DELTA_BINARY_PACKED encoder used by the writer.
 *
 * The decoders share one streaming reader (delta_reader) that yields values in chunks of at most 64
 * (64 values of any width are a whole number of bytes, so chunks start byte-aligned). All
 * arithmetic is done in uint64_t, which wraps as the spec requires; INT32 streams are truncated to
 * 32 bits at the end, which gives the same result as 32-bit wrapping arithmetic.
 *
 * Stream end: the last block lists the bit widths of all its miniblocks, but only the miniblocks
 * that hold values carry data (padded to full size). The stream ends after the last such miniblock;
 * DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY find their next section there. */
#include "parquet_int.h"

#include <string.h>

#define DELTA_CHUNK 64
#define DELTA_MAX_BLOCK (1u << 24) /* sanity cap on block_size from the header */

typedef struct delta_reader {
    const uint8_t *p, *end;
    int max_width;        /* 32 for INT32 streams, 64 for INT64 */
    uint64_t per_mini;    /* values per miniblock */
    uint64_t minis;       /* miniblocks per block */
    uint64_t total;       /* values in the stream (header) */
    uint64_t emitted;     /* values handed out so far */
    uint64_t deltas_left; /* deltas not yet read from miniblocks */
    uint64_t prev;        /* last value (wrapping) */
    uint64_t min_delta;
    const uint8_t *widths; /* bit widths of the current block */
    uint64_t mini_idx;     /* next miniblock in the block; == minis: need a new block */
    const uint8_t *mini_data;
    int mini_width;
    uint64_t mini_left; /* unread values of the current miniblock */
    uint64_t chunk[DELTA_CHUNK];
    unsigned chunk_len, chunk_pos;
} delta_reader;

static ard_status corrupt(ard_error *err, const char *what) {
    return ard_error_set(err, ARD_ECORRUPT, "DELTA_BINARY_PACKED: %s", what);
}

static ard_status read_uleb(delta_reader *r, uint64_t *out, ard_error *err) {
    int rc = ard__varint_get(&r->p, r->end, 10, out);
    if (rc == ARD__VARINT_TRUNCATED) {
        return corrupt(err, "truncated varint");
    }
    return rc == ARD__VARINT_OK ? ARD_OK : corrupt(err, "varint too long");
}

static ard_status read_zigzag(delta_reader *r, uint64_t *out, ard_error *err) {
    uint64_t raw = 0;
    ard_status st = read_uleb(r, &raw, err);
    *out = (raw >> 1) ^ (0 - (raw & 1));
    return st;
}

static ard_status reader_init(delta_reader *r, const uint8_t *in, size_t len, int max_width,
                              ard_error *err) {
    memset(r, 0, sizeof *r);
    r->p = in;
    r->end = in + len;
    r->max_width = max_width;
    uint64_t block_size = 0;
    ard_status st = read_uleb(r, &block_size, err);
    if (st == ARD_OK)
        st = read_uleb(r, &r->minis, err);
    if (st == ARD_OK)
        st = read_uleb(r, &r->total, err);
    if (st == ARD_OK)
        st = read_zigzag(r, &r->prev, err);
    if (st != ARD_OK) {
        return st;
    }
    if (block_size == 0 || block_size % 128 != 0 || block_size > DELTA_MAX_BLOCK) {
        return ard_error_set(err, ARD_ECORRUPT, "DELTA_BINARY_PACKED: bad block size %llu",
                             (unsigned long long)block_size);
    }
    if (r->minis == 0 || block_size % r->minis != 0 || (block_size / r->minis) % 32 != 0) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "DELTA_BINARY_PACKED: bad miniblock count %llu for block size %llu",
                             (unsigned long long)r->minis, (unsigned long long)block_size);
    }
    if (r->total > (uint64_t)INT64_MAX) {
        return corrupt(err, "value count out of range");
    }
    r->per_mini = block_size / r->minis;
    r->deltas_left = r->total ? r->total - 1 : 0;
    r->mini_idx = r->minis;
    return ARD_OK;
}

/* Moves to the next miniblock that holds values, reading a block header when needed. The data of
 * the miniblock is consumed whole (it is padded to full size). */
static ard_status open_miniblock(delta_reader *r, ard_error *err) {
    if (r->mini_idx == r->minis) {
        ard_status st = read_zigzag(r, &r->min_delta, err);
        if (st != ARD_OK) {
            return st;
        }
        if ((uint64_t)(r->end - r->p) < r->minis) {
            return corrupt(err, "truncated miniblock bit widths");
        }
        r->widths = r->p;
        r->p += r->minis;
        r->mini_idx = 0;
    }
    int width = r->widths[r->mini_idx++];
    if (width > r->max_width) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "DELTA_BINARY_PACKED: miniblock bit width %d above %d", width,
                             r->max_width);
    }
    uint64_t bytes = r->per_mini * (uint64_t)width / 8;
    if ((uint64_t)(r->end - r->p) < bytes) {
        return corrupt(err, "truncated miniblock");
    }
    r->mini_data = r->p;
    r->mini_width = width;
    r->p += bytes;
    r->mini_left = r->deltas_left < r->per_mini ? r->deltas_left : r->per_mini;
    r->deltas_left -= r->mini_left;
    return ARD_OK;
}

/* Unpacks n (<= 64) values of width 33..64 from a byte-aligned position. */
static void unpack_wide(const uint8_t *in, int width, uint64_t *out, unsigned n) {
    uint64_t bitpos = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t v = 0;
        for (int got = 0; got < width;) {
            uint64_t at = bitpos >> 3;
            int off = (int)(bitpos & 7);
            int take = 8 - off < width - got ? 8 - off : width - got;
            v |= (uint64_t)((in[at] >> off) & ((1u << take) - 1)) << got;
            got += take;
            bitpos += (uint64_t)take;
        }
        out[i] = v;
    }
}

/* Refills r->chunk with the next up to 64 values of the current miniblock, as running values. */
static void fill_chunk(delta_reader *r) {
    unsigned n = r->mini_left < DELTA_CHUNK ? (unsigned)r->mini_left : DELTA_CHUNK;
    if (r->mini_width <= 32) {
        uint32_t packed[DELTA_CHUNK];
        ard__bitunpack32(r->mini_data, r->mini_width, packed, n);
        for (unsigned i = 0; i < n; i++) {
            r->chunk[i] = packed[i];
        }
    } else {
        unpack_wide(r->mini_data, r->mini_width, r->chunk, n);
    }
    uint64_t prev = r->prev, min_delta = r->min_delta;
    for (unsigned i = 0; i < n; i++) {
        prev += min_delta + r->chunk[i];
        r->chunk[i] = prev;
    }
    r->prev = prev;
    r->mini_data += (size_t)DELTA_CHUNK * (size_t)r->mini_width / 8;
    r->mini_left -= n;
    r->chunk_len = n;
    r->chunk_pos = 0;
}

/* Hands out up to `want` (<= 64) values into out; *got = how many (0 only at end of stream). */
static ard_status reader_next(delta_reader *r, uint64_t *out, unsigned want, unsigned *got,
                              ard_error *err) {
    *got = 0;
    if (r->emitted == r->total || want == 0) {
        return ARD_OK;
    }
    if (r->emitted == 0) {
        out[0] = r->prev;
        r->emitted = 1;
        *got = 1;
        return ARD_OK;
    }
    if (r->chunk_pos == r->chunk_len) {
        if (r->mini_left == 0) {
            ard_status st = open_miniblock(r, err);
            if (st != ARD_OK) {
                return st;
            }
        }
        fill_chunk(r);
    }
    unsigned n = r->chunk_len - r->chunk_pos;
    n = n < want ? n : want;
    memcpy(out, r->chunk + r->chunk_pos, n * sizeof *out);
    r->chunk_pos += n;
    r->emitted += n;
    *got = n;
    return ARD_OK;
}

/* Consumes the rest of the stream without decoding it; r->p then points past the stream. */
static ard_status reader_skip_rest(delta_reader *r, ard_error *err) {
    while (r->deltas_left > 0) {
        ard_status st = open_miniblock(r, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    r->emitted = r->total;
    r->chunk_pos = r->chunk_len = 0;
    r->mini_left = 0;
    return ARD_OK;
}

/* Decodes exactly `count` values; `store` receives each chunk. */
typedef void (*delta_store)(void *out, int64_t at, const uint64_t *vals, unsigned n);

static void store_i32(void *out, int64_t at, const uint64_t *vals, unsigned n) {
    int32_t *dst = (int32_t *)out + at;
    for (unsigned i = 0; i < n; i++) {
        dst[i] = (int32_t)(uint32_t)vals[i];
    }
}

static void store_i64(void *out, int64_t at, const uint64_t *vals, unsigned n) {
    int64_t *dst = (int64_t *)out + at;
    for (unsigned i = 0; i < n; i++) {
        dst[i] = (int64_t)vals[i];
    }
}

/* INT32 stream values sign-extended into int64 slots (byte-array lengths). */
static void store_i32_as_i64(void *out, int64_t at, const uint64_t *vals, unsigned n) {
    int64_t *dst = (int64_t *)out + at;
    for (unsigned i = 0; i < n; i++) {
        dst[i] = (int32_t)(uint32_t)vals[i];
    }
}

static ard_status reader_read(delta_reader *r, void *out, int64_t count, delta_store store,
                              ard_error *err) {
    if ((uint64_t)count > r->total - r->emitted) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "DELTA_BINARY_PACKED: %lld more values wanted, stream holds %llu",
                             (long long)count, (unsigned long long)(r->total - r->emitted));
    }
    uint64_t vals[DELTA_CHUNK];
    int64_t done = 0;
    while (done < count) {
        int64_t left = count - done;
        unsigned got;
        ard_status st =
            reader_next(r, vals, left < DELTA_CHUNK ? (unsigned)left : DELTA_CHUNK, &got, err);
        if (st != ARD_OK) {
            return st;
        }
        store(out, done, vals, got);
        done += got;
    }
    return ARD_OK;
}

static ard_status delta_decode(const uint8_t *in, size_t len, void *out, int64_t count,
                               int max_width, delta_store store, size_t *consumed, ard_error *err) {
    *consumed = 0;
    if (count < 0) {
        return ard_error_set(err, ARD_EINVAL, "DELTA_BINARY_PACKED: negative value count");
    }
    if (count == 0 && len == 0) {
        return ARD_OK;
    }
    delta_reader r;
    ard_status st = reader_init(&r, in, len, max_width, err);
    if (st == ARD_OK) {
        st = reader_read(&r, out, count, store, err);
    }
    if (st == ARD_OK) {
        *consumed = (size_t)(r.p - in);
    }
    return st;
}

ard_status ard__delta_decode_i32(const uint8_t *in, size_t len, int32_t *out, int64_t count,
                                 size_t *consumed, ard_error *err) {
    return delta_decode(in, len, out, count, 32, store_i32, consumed, err);
}

ard_status ard__delta_decode_i64(const uint8_t *in, size_t len, int64_t *out, int64_t count,
                                 size_t *consumed, ard_error *err) {
    return delta_decode(in, len, out, count, 64, store_i64, consumed, err);
}

ard_status ard__delta_peek_count(const uint8_t *in, size_t len, int64_t *total, ard_error *err) {
    delta_reader r;
    ard_status st = reader_init(&r, in, len, 64, err);
    *total = st == ARD_OK ? (int64_t)r.total : 0;
    return st;
}

/* ---- DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY ---- */

/* Opens a lengths stream at `in` holding >= count values; *data_start = first byte after it. */
static ard_status open_lengths(const uint8_t *in, size_t len, int64_t count, const char *what,
                               delta_reader *r, const uint8_t **data_start, ard_error *err) {
    ard_status st = reader_init(r, in, len, 32, err);
    if (st != ARD_OK) {
        ard_error_prefix(err, "%s: ", what);
        return st;
    }
    if (r->total < (uint64_t)count) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: %lld values wanted, stream holds %llu", what,
                             (long long)count, (unsigned long long)r->total);
    }
    delta_reader probe = *r;
    st = reader_skip_rest(&probe, err);
    if (st != ARD_OK) {
        ard_error_prefix(err, "%s: ", what);
        return st;
    }
    *data_start = probe.p;
    return ARD_OK;
}

ard_status ard__delta_length_decode(const uint8_t *in, size_t len, int64_t count, int64_t *offsets,
                                    const uint8_t **data_out, ard_error *err) {
    *data_out = in;
    offsets[0] = 0;
    if (count < 0) {
        return ard_error_set(err, ARD_EINVAL, "DELTA_LENGTH_BYTE_ARRAY: negative value count");
    }
    if (count == 0 && len == 0) {
        return ARD_OK;
    }
    delta_reader r;
    const uint8_t *data;
    ard_status st = open_lengths(in, len, count, "DELTA_LENGTH_BYTE_ARRAY", &r, &data, err);
    if (st == ARD_OK) {
        st = reader_read(&r, offsets + 1, count, store_i32_as_i64, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    uint64_t avail = (uint64_t)(in + len - data), sum = 0;
    for (int64_t i = 1; i <= count; i++) {
        int64_t value_len = offsets[i];
        if (value_len < 0 || (uint64_t)value_len > avail - sum) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "DELTA_LENGTH_BYTE_ARRAY: value %lld has length %lld, %llu "
                                 "bytes left",
                                 (long long)(i - 1), (long long)value_len,
                                 (unsigned long long)(avail - sum));
        }
        sum += (uint64_t)value_len;
        offsets[i] = (int64_t)sum;
    }
    *data_out = data;
    return ARD_OK;
}

typedef struct dba_state {
    ard_buf *out;
    size_t max_bytes;
    const uint8_t *suffix, *suffix_end;
    int64_t *offsets;
} dba_state;

/* Appends value i = prefix bytes of value i-1 + suffix. */
static ard_status dba_append(dba_state *s, int64_t i, int64_t prefix, int64_t suffix_len,
                             ard_error *err) {
    int64_t prev_len = i == 0 ? 0 : s->offsets[i] - s->offsets[i - 1];
    if (prefix < 0 || prefix > prev_len) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "DELTA_BYTE_ARRAY: value %lld has prefix length %lld, previous "
                             "value is %lld bytes",
                             (long long)i, (long long)prefix, (long long)prev_len);
    }
    if (suffix_len < 0 || (uint64_t)suffix_len > (uint64_t)(s->suffix_end - s->suffix)) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "DELTA_BYTE_ARRAY: value %lld has suffix length %lld, %zu bytes left",
                             (long long)i, (long long)suffix_len,
                             (size_t)(s->suffix_end - s->suffix));
    }
    size_t add = (size_t)prefix + (size_t)suffix_len;
    if (add > s->max_bytes || s->out->len > s->max_bytes - add) {
        return ard_error_set(err, ARD_ELIMIT,
                             "DELTA_BYTE_ARRAY: decoded values exceed the %zu byte limit",
                             s->max_bytes);
    }
    if (ard_buf_reserve(s->out, add) != 0) {
        return ard_error_set(err, ARD_ENOMEM, "DELTA_BYTE_ARRAY: out of memory");
    }
    uint8_t *dst = s->out->data + s->out->len;
    if (prefix > 0) {
        memcpy(dst, s->out->data + s->offsets[i - 1], (size_t)prefix);
    }
    if (suffix_len > 0) {
        memcpy(dst + prefix, s->suffix, (size_t)suffix_len);
    }
    s->suffix += suffix_len;
    s->out->len += add;
    s->offsets[i + 1] = (int64_t)s->out->len;
    return ARD_OK;
}

static ard_status dba_run(delta_reader *prefixes, delta_reader *suffixes, dba_state *s,
                          int64_t count, ard_error *err) {
    int64_t pre[DELTA_CHUNK], suf[DELTA_CHUNK];
    for (int64_t done = 0; done < count;) {
        int64_t n = count - done < DELTA_CHUNK ? count - done : DELTA_CHUNK;
        ard_status st = reader_read(prefixes, pre, n, store_i32_as_i64, err);
        if (st == ARD_OK) {
            st = reader_read(suffixes, suf, n, store_i32_as_i64, err);
        }
        for (int64_t i = 0; st == ARD_OK && i < n; i++) {
            st = dba_append(s, done + i, pre[i], suf[i], err);
        }
        if (st != ARD_OK) {
            return st;
        }
        done += n;
    }
    return ARD_OK;
}

ard_status ard__delta_byte_array_decode(const uint8_t *in, size_t len, int64_t count,
                                        int64_t *offsets, ard_buf *out, size_t max_bytes,
                                        ard_error *err) {
    offsets[0] = (int64_t)out->len;
    if (count < 0) {
        return ard_error_set(err, ARD_EINVAL, "DELTA_BYTE_ARRAY: negative value count");
    }
    if (count == 0 && len == 0) {
        return ARD_OK;
    }
    delta_reader prefixes, suffixes;
    const uint8_t *suffix_start = NULL, *bytes_start = NULL;
    ard_status st = open_lengths(in, len, count, "DELTA_BYTE_ARRAY prefix lengths", &prefixes,
                                 &suffix_start, err);
    if (st == ARD_OK) {
        st = open_lengths(suffix_start, (size_t)(in + len - suffix_start), count,
                          "DELTA_BYTE_ARRAY suffix lengths", &suffixes, &bytes_start, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    dba_state s = {out, max_bytes, bytes_start, in + len, offsets};
    return dba_run(&prefixes, &suffixes, &s, count, err);
}

/* ---- encoder: blocks of 128 values, 4 miniblocks of 32 ---- */

#define ENC_BLOCK 128
#define ENC_MINIS 4
#define ENC_PER_MINI (ENC_BLOCK / ENC_MINIS)

static void put_zigzag(ard_buf *out, int64_t v) {
    ard__varint_put(out, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Packs 32 values of `width` bits LSB-first into width * 4 bytes at dst (zeroed by the caller). */
static void pack_mini(const uint64_t *vals, int width, uint8_t *dst) {
    uint64_t bitpos = 0;
    for (int i = 0; i < ENC_PER_MINI; i++) {
        uint64_t v = vals[i];
        for (int done = 0; done < width;) {
            int off = (int)(bitpos & 7);
            int take = 8 - off < width - done ? 8 - off : width - done;
            dst[bitpos >> 3] |= (uint8_t)(((v >> done) & ((1u << take) - 1)) << off);
            done += take;
            bitpos += (uint64_t)take;
        }
    }
}

/* One block of n (1..128) signed deltas. */
static void encode_block(const int64_t *deltas, int n, ard_buf *out) {
    int64_t min_delta = deltas[0];
    for (int i = 1; i < n; i++) {
        min_delta = deltas[i] < min_delta ? deltas[i] : min_delta;
    }
    uint64_t packed[ENC_BLOCK] = {0};
    for (int i = 0; i < n; i++) {
        packed[i] = (uint64_t)deltas[i] - (uint64_t)min_delta;
    }
    put_zigzag(out, min_delta);
    int used = (n + ENC_PER_MINI - 1) / ENC_PER_MINI;
    uint8_t widths[ENC_MINIS] = {0};
    for (int m = 0; m < used; m++) {
        uint64_t max = 0;
        for (int i = m * ENC_PER_MINI; i < (m + 1) * ENC_PER_MINI; i++) {
            max |= packed[i];
        }
        widths[m] = (uint8_t)ard__bit_width(max);
    }
    ard_buf_append(out, widths, sizeof widths);
    for (int m = 0; m < used; m++) {
        uint8_t data[ENC_PER_MINI * 8] = {0};
        pack_mini(packed + m * ENC_PER_MINI, widths[m], data);
        ard_buf_append(out, data, (size_t)widths[m] * ENC_PER_MINI / 8);
    }
}

static void delta_encode(const void *values, int is32, int64_t count, ard_buf *out) {
    const int32_t *v32 = values;
    const int64_t *v64 = values;
    ard__varint_put(out, ENC_BLOCK);
    ard__varint_put(out, ENC_MINIS);
    ard__varint_put(out, count > 0 ? (uint64_t)count : 0);
    put_zigzag(out, count > 0 ? (is32 ? v32[0] : v64[0]) : 0);
    int64_t deltas[ENC_BLOCK];
    int n = 0;
    for (int64_t i = 1; i < count; i++) {
        if (is32) {
            deltas[n++] = (int32_t)((uint32_t)v32[i] - (uint32_t)v32[i - 1]);
        } else {
            deltas[n++] = (int64_t)((uint64_t)v64[i] - (uint64_t)v64[i - 1]);
        }
        if (n == ENC_BLOCK) {
            encode_block(deltas, n, out);
            n = 0;
        }
    }
    if (n > 0) {
        encode_block(deltas, n, out);
    }
}

void ard__delta_encode_i32(const int32_t *values, int64_t count, ard_buf *out) {
    delta_encode(values, 1, count, out);
}

void ard__delta_encode_i64(const int64_t *values, int64_t count, ard_buf *out) {
    delta_encode(values, 0, count, out);
}
