/* Wire formats of the distributed stream: tokens narrowed to IEEE half or bfloat16 (round to
 * nearest even) on the producer and widened back on the consumer; every other array of a slot
 * travels byte for byte. A message is [tokens as 2- or 4-byte values][the slot from rest_offset]. */
#include "cluster_int.h"

#include <string.h>

static uint32_t bits_of(float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    return u;
}

static float float_of(uint32_t u) {
    float v;
    memcpy(&v, &u, 4);
    return v;
}

uint16_t ard__f32_to_f16(float v) {
    uint32_t x = bits_of(v);
    uint32_t sign = x & 0x80000000u;
    x ^= sign;
    uint16_t o;
    if (x >= 0x47800000u) { /* >= 65536, inf or NaN */
        o = x > 0x7f800000u ? 0x7e00 : 0x7c00;
    } else if (x < 0x38800000u) { /* subnormal half or zero: let the FPU round */
        float f = float_of(x) + float_of(126u << 23);
        o = (uint16_t)(bits_of(f) - (126u << 23));
    } else {
        uint32_t odd = (x >> 13) & 1u;
        x += ((uint32_t)(15 - 127) << 23) + 0xfffu + odd;
        o = (uint16_t)(x >> 13);
    }
    return (uint16_t)(o | (sign >> 16));
}

float ard__f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t o = (uint32_t)(h & 0x7fffu) << 13;
    uint32_t exp = o & 0x0f800000u;
    o += (uint32_t)(127 - 15) << 23;
    if (exp == 0x0f800000u) {
        o += (uint32_t)(128 - 16) << 23; /* inf, NaN */
    } else if (exp == 0) {
        o += 1u << 23; /* subnormal: renormalize */
        o = bits_of(float_of(o) - float_of(113u << 23));
    }
    return float_of(o | sign);
}

uint16_t ard__f32_to_bf16(float v) {
    uint32_t x = bits_of(v);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    }
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

float ard__bf16_to_f32(uint16_t h) {
    return float_of((uint32_t)h << 16);
}

int64_t ard__wire_message_bytes(int32_t wire, int64_t slot_bytes, int64_t token_bytes,
                                int64_t rest_offset) {
    if (wire == ARD_WIRE_F32) {
        return slot_bytes;
    }
    return token_bytes / 2 + (slot_bytes - rest_offset);
}

void ard__wire_pack(int32_t wire, const uint8_t *slot, int64_t slot_bytes, int64_t token_bytes,
                    int64_t rest_offset, uint8_t *msg) {
    int64_t n = token_bytes / 4;
    const float *tokens = (const float *)(const void *)slot;
    uint16_t *out = (uint16_t *)(void *)msg;
    if (wire == ARD_WIRE_F16) {
        for (int64_t i = 0; i < n; i++) {
            out[i] = ard__f32_to_f16(tokens[i]);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            out[i] = ard__f32_to_bf16(tokens[i]);
        }
    }
    memcpy(msg + n * 2, slot + rest_offset, (size_t)(slot_bytes - rest_offset));
}

void ard__wire_unpack(int32_t wire, const uint8_t *msg, int64_t slot_bytes, int64_t token_bytes,
                      int64_t rest_offset, uint8_t *slot) {
    int64_t n = token_bytes / 4;
    float *tokens = (float *)(void *)slot;
    const uint16_t *in = (const uint16_t *)(const void *)msg;
    if (wire == ARD_WIRE_F16) {
        for (int64_t i = 0; i < n; i++) {
            tokens[i] = ard__f16_to_f32(in[i]);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            tokens[i] = ard__bf16_to_f32(in[i]);
        }
    }
    memcpy(slot + rest_offset, msg + n * 2, (size_t)(slot_bytes - rest_offset));
}

int32_t ard_cluster_wire_parse(const char *text) {
    if (!text) {
        return -1;
    }
    return strcmp(text, "f32") == 0    ? ARD_WIRE_F32
           : strcmp(text, "f16") == 0  ? ARD_WIRE_F16
           : strcmp(text, "bf16") == 0 ? ARD_WIRE_BF16
                                       : -1;
}
