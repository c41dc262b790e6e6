/* Statistics values decoded from their PLAIN bytes by physical and logical type (ard_parquet_value):
 * the one decoder behind `ard parquet meta` (which renders them) and sync (which indexes min/max
 * as numbers). */
#include "parquet_int.h"

#include <math.h>
#include <string.h>

static uint64_t load_le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) {
        v = v << 8 | p[i];
    }
    return v;
}

static void set_decimal(ard_parquet_value *out, int64_t hi, uint64_t lo, int32_t scale) {
    out->kind = ARD_PARQUET_VALUE_DECIMAL;
    out->decimal_hi = hi;
    out->decimal_lo = lo;
    out->scale = scale;
}

static void decode_int(const ard_pq_logical *lt, uint64_t raw, size_t width,
                       ard_parquet_value *out) {
    int64_t sv = width == 4 ? (int64_t)(int32_t)(uint32_t)raw : (int64_t)raw;
    if (lt && lt->kind == ARD_PQ_LT_INTEGER && !lt->is_signed) {
        out->kind = ARD_PARQUET_VALUE_UINT;
        out->u = width == 4 ? (uint64_t)(uint32_t)raw : raw;
    } else if (lt && lt->kind == ARD_PQ_LT_DECIMAL) {
        set_decimal(out, sv < 0 ? -1 : 0, (uint64_t)sv, lt->scale);
    } else {
        out->kind = ARD_PARQUET_VALUE_INT;
        out->i = sv;
    }
}

static int is_text_type(const ard_pq_logical *lt) {
    if (!lt) {
        return 1;
    }
    switch (lt->kind) {
    case ARD_PQ_LT_NONE:
    case ARD_PQ_LT_STRING:
    case ARD_PQ_LT_ENUM:
    case ARD_PQ_LT_JSON:
        return 1;
    default:
        return 0;
    }
}

static void decode_bytes(const ard_pq_logical *lt, int32_t type, const uint8_t *bytes, size_t len,
                         ard_parquet_value *out) {
    if (type == ARD_PQ_FIXED_LEN_BYTE_ARRAY && len == 2 && lt && lt->kind == ARD_PQ_LT_FLOAT16) {
        out->kind = ARD_PARQUET_VALUE_DOUBLE;
        out->bits = 16;
        out->d = ard_parquet_half_to_double((uint16_t)load_le(bytes, 2));
        return;
    }
    if (lt && lt->kind == ARD_PQ_LT_DECIMAL && len >= 1 && len <= 16) {
        /* big-endian two's complement, sign-extended to 128 bits */
        unsigned __int128 raw = (bytes[0] & 0x80) ? ~(unsigned __int128)0 : 0;
        for (size_t i = 0; i < len; i++) {
            raw = raw << 8 | bytes[i];
        }
        set_decimal(out, (int64_t)(uint64_t)(raw >> 64), (uint64_t)raw, lt->scale);
        return;
    }
    int text = type == ARD_PQ_BYTE_ARRAY ? is_text_type(lt) : (lt && lt->kind == ARD_PQ_LT_STRING);
    out->kind = text ? ARD_PARQUET_VALUE_TEXT : ARD_PARQUET_VALUE_RAW;
}

void ard_parquet_value_decode(const ard_pq_schema_node *leaf, int32_t type, const uint8_t *bytes,
                              size_t len, ard_parquet_value *out) {
    memset(out, 0, sizeof *out);
    out->bytes = bytes;
    out->len = len;
    const ard_pq_logical *lt = leaf ? &leaf->logical : NULL;
    if (!bytes && len > 0) {
        out->len = 0;
    } else if (type == ARD_PQ_BOOLEAN && len >= 1) {
        out->kind = ARD_PARQUET_VALUE_BOOL;
        out->i = bytes[0] != 0;
    } else if ((type == ARD_PQ_INT32 && len == 4) || (type == ARD_PQ_INT64 && len == 8)) {
        decode_int(lt, load_le(bytes, len), len, out);
    } else if (type == ARD_PQ_FLOAT && len == 4) {
        uint32_t bits = (uint32_t)load_le(bytes, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        out->kind = ARD_PARQUET_VALUE_DOUBLE;
        out->bits = 32;
        out->d = (double)f;
    } else if (type == ARD_PQ_DOUBLE && len == 8) {
        uint64_t bits = load_le(bytes, 8);
        memcpy(&out->d, &bits, sizeof out->d);
        out->kind = ARD_PARQUET_VALUE_DOUBLE;
        out->bits = 64;
    } else if (type == ARD_PQ_BYTE_ARRAY || type == ARD_PQ_FIXED_LEN_BYTE_ARRAY) {
        decode_bytes(lt, type, bytes, len, out);
    }
}

int32_t ard_parquet_value_to_double(const ard_parquet_value *v, double *out) {
    double d;
    switch (v->kind) {
    case ARD_PARQUET_VALUE_INT:
        d = (double)v->i;
        break;
    case ARD_PARQUET_VALUE_UINT:
        d = (double)v->u;
        break;
    case ARD_PARQUET_VALUE_DOUBLE:
        d = v->d;
        break;
    case ARD_PARQUET_VALUE_DECIMAL: {
        __int128 unscaled = (__int128)(((unsigned __int128)(uint64_t)v->decimal_hi << 64) |
                                       (unsigned __int128)v->decimal_lo);
        d = (double)unscaled / pow(10.0, (double)v->scale);
        break;
    }
    default:
        return 0;
    }
    if (isnan(d)) {
        return 0;
    }
    *out = d;
    return 1;
}
