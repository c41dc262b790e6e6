/* BYTE_STREAM_SPLIT: K byte streams of N bytes each, byte j of value i at offset j*N + i.
 * Widths 4 and 8 (FLOAT/INT32, DOUBLE/INT64) get loops with a constant width so the compiler can
 * keep the K stream pointers in registers; other widths (FLBA) use the generic loop. */
#include "parquet_int.h"

#include <string.h>

#define ARD__DEFINE_BSS(W)                                                                         \
    static void bss_decode_w##W(const uint8_t *in, size_t count, uint8_t *out) {                   \
        for (size_t i = 0; i < count; i++) {                                                       \
            for (size_t j = 0; j < (W); j++) {                                                     \
                out[i * (W) + j] = in[j * count + i];                                              \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void bss_encode_w##W(const uint8_t *values, size_t count, uint8_t *dst) {               \
        for (size_t i = 0; i < count; i++) {                                                       \
            for (size_t j = 0; j < (W); j++) {                                                     \
                dst[j * count + i] = values[i * (W) + j];                                          \
            }                                                                                      \
        }                                                                                          \
    }

ARD__DEFINE_BSS(4)
ARD__DEFINE_BSS(8)

static void bss_decode_any(const uint8_t *in, size_t width, size_t count, uint8_t *out) {
    for (size_t j = 0; j < width; j++) {
        const uint8_t *stream = in + j * count;
        for (size_t i = 0; i < count; i++) {
            out[i * width + j] = stream[i];
        }
    }
}

static void bss_encode_any(const uint8_t *values, size_t width, size_t count, uint8_t *dst) {
    for (size_t j = 0; j < width; j++) {
        uint8_t *stream = dst + j * count;
        for (size_t i = 0; i < count; i++) {
            stream[i] = values[i * width + j];
        }
    }
}

ard_status ard__bss_decode(const uint8_t *in, size_t len, int width, int64_t count, uint8_t *out,
                           ard_error *err) {
    if (width <= 0 || count < 0) {
        return ard_error_set(err, ARD_EINVAL, "BYTE_STREAM_SPLIT: bad width %d or count %lld",
                             width, (long long)count);
    }
    size_t w = (size_t)width, n = (size_t)count;
    if (n > SIZE_MAX / w || n * w > len) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "BYTE_STREAM_SPLIT: %lld values of %d bytes need more than the %zu "
                             "bytes present",
                             (long long)count, width, len);
    }
    if (w == 4) {
        bss_decode_w4(in, n, out);
    } else if (w == 8) {
        bss_decode_w8(in, n, out);
    } else {
        bss_decode_any(in, w, n, out);
    }
    return ARD_OK;
}

void ard__bss_encode(const uint8_t *values, int width, int64_t count, ard_buf *out) {
    if (width <= 0 || count <= 0) {
        return;
    }
    size_t w = (size_t)width, n = (size_t)count;
    if (n > SIZE_MAX / w) {
        out->failed = 1;
        return;
    }
    if (ard_buf_reserve(out, n * w) != 0) {
        return;
    }
    uint8_t *dst = out->data + out->len;
    if (w == 4) {
        bss_encode_w4(values, n, dst);
    } else if (w == 8) {
        bss_encode_w8(values, n, dst);
    } else {
        bss_encode_any(values, w, n, dst);
    }
    out->len += n * w;
}
