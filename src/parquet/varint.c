/* The parquet module's one ULEB128 varint codec: Thrift compact integers, RLE/bit-packed run
 * headers and DELTA_BINARY_PACKED headers all read and write through these two functions. */
#include "parquet_int.h"

void ard__varint_put(ard_buf *out, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    ard_buf_append(out, tmp, n);
}

int ard__varint_get(const uint8_t **pp, const uint8_t *end, int max_bytes, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t value = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (p >= end) {
            return ARD__VARINT_TRUNCATED;
        }
        uint8_t byte = *p++;
        if (i == 9 && (byte & 0x7e)) {
            return ARD__VARINT_TOO_LARGE; /* bits beyond 64 */
        }
        value |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            if (max_bytes <= 5 && value > UINT32_MAX) {
                return ARD__VARINT_TOO_LARGE;
            }
            *pp = p;
            *out = value;
            return ARD__VARINT_OK;
        }
    }
    return ARD__VARINT_TOO_LONG;
}
