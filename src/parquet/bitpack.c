/* LSB-first bit unpacking (the Parquet bit-packing order) for widths 0..32.
 *
 * This sits on the hot path of level and dictionary-index decoding, so each width gets its own
 * unpacker with the width as a compile-time constant: every value of a group of 8 is one unaligned
 * 64-bit load, a constant shift and a constant mask. A value of width <= 32 starting at bit offset
 * 0..7 spans at most 39 bits, so one 8-byte load always covers it. The last few groups, where an
 * 8-byte load could reach past the caller's buffer, are unpacked from a zero-padded local copy. */
#include "parquet_int.h"

#include <string.h>

static inline uint64_t load_le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Unpacks `groups` groups of 8 values; reads up to 8 bytes past the last group's first byte of the
 * final value, so the caller keeps 8 bytes of slack after groups * W bytes. */
#define ARD__DEFINE_UNPACK(W)                                                                      \
    static void unpack_w##W(const uint8_t *in, uint32_t *out, size_t groups) {                     \
        const uint64_t mask = ((uint64_t)1 << (W)) - 1;                                            \
        for (size_t g = 0; g < groups; g++) {                                                      \
            _Pragma("GCC unroll 8") for (unsigned j = 0; j < 8; j++) {                             \
                unsigned bit = j * (W);                                                            \
                out[j] = (uint32_t)((load_le64(in + (bit >> 3)) >> (bit & 7)) & mask);             \
            }                                                                                      \
            in += (W);                                                                             \
            out += 8;                                                                              \
        }                                                                                          \
    }

ARD__DEFINE_UNPACK(1)
ARD__DEFINE_UNPACK(2)
ARD__DEFINE_UNPACK(3)
ARD__DEFINE_UNPACK(4)
ARD__DEFINE_UNPACK(5)
ARD__DEFINE_UNPACK(6)
ARD__DEFINE_UNPACK(7)
ARD__DEFINE_UNPACK(8)
ARD__DEFINE_UNPACK(9)
ARD__DEFINE_UNPACK(10)
ARD__DEFINE_UNPACK(11)
ARD__DEFINE_UNPACK(12)
ARD__DEFINE_UNPACK(13)
ARD__DEFINE_UNPACK(14)
ARD__DEFINE_UNPACK(15)
ARD__DEFINE_UNPACK(16)
ARD__DEFINE_UNPACK(17)
ARD__DEFINE_UNPACK(18)
ARD__DEFINE_UNPACK(19)
ARD__DEFINE_UNPACK(20)
ARD__DEFINE_UNPACK(21)
ARD__DEFINE_UNPACK(22)
ARD__DEFINE_UNPACK(23)
ARD__DEFINE_UNPACK(24)
ARD__DEFINE_UNPACK(25)
ARD__DEFINE_UNPACK(26)
ARD__DEFINE_UNPACK(27)
ARD__DEFINE_UNPACK(28)
ARD__DEFINE_UNPACK(29)
ARD__DEFINE_UNPACK(30)
ARD__DEFINE_UNPACK(31)
ARD__DEFINE_UNPACK(32)

typedef void (*unpack_fn)(const uint8_t *in, uint32_t *out, size_t groups);

static const unpack_fn unpackers[33] = {
    NULL,       unpack_w1,  unpack_w2,  unpack_w3,  unpack_w4,  unpack_w5,  unpack_w6,
    unpack_w7,  unpack_w8,  unpack_w9,  unpack_w10, unpack_w11, unpack_w12, unpack_w13,
    unpack_w14, unpack_w15, unpack_w16, unpack_w17, unpack_w18, unpack_w19, unpack_w20,
    unpack_w21, unpack_w22, unpack_w23, unpack_w24, unpack_w25, unpack_w26, unpack_w27,
    unpack_w28, unpack_w29, unpack_w30, unpack_w31, unpack_w32,
};

/* Byte-aligned values need no shifting at all. */
static void unpack_bytes(const uint8_t *in, int bytes, uint32_t *out, size_t count) {
    if (bytes == 1) {
        for (size_t i = 0; i < count; i++) {
            out[i] = in[i];
        }
    } else if (bytes == 2) {
        for (size_t i = 0; i < count; i++) {
            out[i] = (uint32_t)in[2 * i] | (uint32_t)in[2 * i + 1] << 8;
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            const uint8_t *p = in + 4 * i;
            out[i] =
                (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        }
    }
}

void ard__bitunpack32(const uint8_t *in, int bit_width, uint32_t *out, size_t count) {
    if (count == 0) {
        return;
    }
    if (bit_width <= 0) {
        memset(out, 0, count * sizeof *out);
        return;
    }
    if (bit_width == 8 || bit_width == 16 || bit_width == 32) {
        unpack_bytes(in, bit_width / 8, out, count);
        return;
    }
    size_t width = (size_t)bit_width;
    size_t in_bytes = (count * width + 7) / 8;
    size_t groups = count / 8;
    /* Fast groups must leave 8 readable bytes after their start + width bytes. */
    size_t fast = in_bytes >= width + 8 ? (in_bytes - 8) / width : 0;
    if (fast > groups) {
        fast = groups;
    }
    unpackers[bit_width](in, out, fast);
    size_t done = fast * 8;
    if (done == count) {
        return;
    }
    /* Tail: at most width + 8 bytes remain, i.e. at most 72 values. */
    uint8_t pad[2 * 32 + 16] = {0};
    uint32_t tmp[80];
    size_t rest_bytes = in_bytes - fast * width;
    memcpy(pad, in + fast * width, rest_bytes);
    size_t rest = count - done;
    unpackers[bit_width](pad, tmp, (rest + 7) / 8);
    memcpy(out + done, tmp, rest * sizeof *out);
}

int ard__bit_width(uint64_t max_value) {
    return max_value == 0 ? 0 : 64 - __builtin_clzll(max_value);
}
