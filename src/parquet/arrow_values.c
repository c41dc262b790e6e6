/* Primitive leaves to Arrow buffers: the Parquet physical + logical type decides the Arrow format, and
 * values are converted where the layouts differ (narrow ints, bit-packed booleans, INT96 timestamps,
 * big-endian decimals, intervals, large-binary offsets). */
#include "arrow_int.h"

#include <stdio.h>
#include <string.h>

static const char *int_format(const ard_pq_logical *lt) {
    static const char *const signed_f[] = {"c", "s", "i", "l"};
    static const char *const unsigned_f[] = {"C", "S", "I", "L"};
    int i = lt->bit_width == 8 ? 0 : lt->bit_width == 16 ? 1 : lt->bit_width == 32 ? 2 : 3;
    return lt->is_signed ? signed_f[i] : unsigned_f[i];
}

static const char *time_format(const ard_pq_logical *lt, int timestamp, char *buf, size_t len) {
    static const char units[] = {'m', 'u', 'n'};
    char u = units[lt->unit <= ARD_PQ_NANOS ? lt->unit : 1];
    if (timestamp) {
        snprintf(buf, len, "ts%c:%s", u, lt->is_adjusted_to_utc ? "UTC" : "");
    } else {
        snprintf(buf, len, "tt%c", u);
    }
    return buf;
}

static const char *logical_format(const ard_pq_schema_node *leaf, char *buf, size_t len,
                                  const char **ext) {
    const ard_pq_logical *lt = &leaf->logical;
    ard_pq_type t = leaf->type;
    int ints = t == ARD_PQ_INT32 || t == ARD_PQ_INT64;
    switch (lt->kind) {
    case ARD_PQ_LT_NULL:
        return "n";
    case ARD_PQ_LT_STRING:
    case ARD_PQ_LT_ENUM:
        return t == ARD_PQ_BYTE_ARRAY ? "U" : NULL;
    case ARD_PQ_LT_JSON:
        *ext = "arrow.json";
        return t == ARD_PQ_BYTE_ARRAY ? "U" : NULL;
    case ARD_PQ_LT_UUID:
        *ext = "arrow.uuid";
        return t == ARD_PQ_FIXED_LEN_BYTE_ARRAY && leaf->type_length == 16 ? "w:16" : NULL;
    case ARD_PQ_LT_DECIMAL:
        if (lt->precision < 1 || lt->precision > 76) {
            return NULL;
        }
        snprintf(buf, len, lt->precision > 38 ? "d:%d,%d,256" : "d:%d,%d", lt->precision,
                 lt->scale);
        return t == ARD_PQ_BOOLEAN || t == ARD_PQ_FLOAT || t == ARD_PQ_DOUBLE || t == ARD_PQ_INT96
                   ? NULL
                   : buf;
    case ARD_PQ_LT_DATE:
        return t == ARD_PQ_INT32 ? "tdD" : NULL;
    case ARD_PQ_LT_TIME:
        return ints && (t == ARD_PQ_INT32) == (lt->unit == ARD_PQ_MILLIS)
                   ? time_format(lt, 0, buf, len)
                   : NULL;
    case ARD_PQ_LT_TIMESTAMP:
        return t == ARD_PQ_INT64 ? time_format(lt, 1, buf, len) : NULL;
    case ARD_PQ_LT_INTEGER:
        return ints && (lt->bit_width == 64) == (t == ARD_PQ_INT64) ? int_format(lt) : NULL;
    case ARD_PQ_LT_FLOAT16:
        return t == ARD_PQ_FIXED_LEN_BYTE_ARRAY && leaf->type_length == 2 ? "e" : NULL;
    case ARD_PQ_LT_INTERVAL:
        return t == ARD_PQ_FIXED_LEN_BYTE_ARRAY && leaf->type_length == 12 ? "tin" : NULL;
    default:
        return NULL;
    }
}

const char *ard__arrow_prim_format(const ard_pq_schema_node *leaf, char *buf, size_t buf_len,
                                   const char **extension) {
    *extension = NULL;
    const char *f = logical_format(leaf, buf, buf_len, extension);
    if (f) {
        return f;
    }
    *extension = NULL;
    switch (leaf->type) {
    case ARD_PQ_BOOLEAN:
        return "b";
    case ARD_PQ_INT32:
        return "i";
    case ARD_PQ_INT64:
        return "l";
    case ARD_PQ_INT96:
        return "tsu:";
    case ARD_PQ_FLOAT:
        return "f";
    case ARD_PQ_DOUBLE:
        return "g";
    case ARD_PQ_BYTE_ARRAY:
        return "Z";
    case ARD_PQ_FIXED_LEN_BYTE_ARRAY:
        snprintf(buf, buf_len, "w:%d", leaf->type_length);
        return buf;
    }
    return "n";
}

/* Element width in bytes of a fixed-width Arrow format produced above (0: variable or bits). */
static int32_t arrow_width(const char *f, const ard_pq_schema_node *leaf) {
    switch (f[0]) {
    case 'c':
    case 'C':
        return 1;
    case 's':
    case 'S':
    case 'e':
        return 2;
    case 'i':
    case 'I':
    case 'f':
        return 4;
    case 'l':
    case 'L':
    case 'g':
        return 8;
    case 'd':
        return strstr(f, ",256") ? 32 : 16;
    case 'w':
        return leaf->type_length;
    case 't':
        if (f[1] == 'd' || (f[1] == 't' && f[2] == 'm')) {
            return 4;
        }
        return f[1] == 'i' ? 16 : 8;
    default:
        return 0;
    }
}

/* One value of physical width pw at src converted to Arrow element width aw at dst. */
static void convert_one(const ard_pq_schema_node *leaf, const char *f, const uint8_t *src,
                        int32_t pw, uint8_t *dst, int32_t aw) {
    if (f[0] == 'd') {
        int neg;
        if (leaf->type == ARD_PQ_INT32 || leaf->type == ARD_PQ_INT64) {
            memcpy(dst, src, (size_t)pw); /* little-endian already: sign-extend */
            neg = (src[pw - 1] & 0x80) != 0;
            memset(dst + pw, neg ? 0xFF : 0, (size_t)(aw - pw));
            return;
        }
        neg = pw > 0 && (src[0] & 0x80) != 0; /* big-endian two's complement */
        memset(dst, neg ? 0xFF : 0, (size_t)aw);
        for (int32_t i = 0; i < pw && i < aw; i++) {
            dst[i] = src[pw - 1 - i];
        }
        return;
    }
    if (leaf->type == ARD_PQ_INT96) {
        int64_t nanos;
        int32_t julian;
        memcpy(&nanos, src, 8);
        memcpy(&julian, src + 8, 4);
        /* Microseconds in wrapping 64-bit arithmetic, as Spark computes them: Spark's far-future
         * values are stored as the wrapped (julian day, nanoseconds) pair, and only the same
         * wrap-around reads them back (int96_from_spark: 9089380393200000000). Unsigned: no UB. */
        uint64_t wrapped =
            (uint64_t)((int64_t)julian - 2440588) * 86400000000ULL + (uint64_t)(nanos / 1000);
        int64_t micros;
        memcpy(&micros, &wrapped, 8);
        memcpy(dst, &micros, 8);
        return;
    }
    if (f[0] == 't' && f[1] == 'i') {
        uint32_t months, days, millis;
        memcpy(&months, src, 4);
        memcpy(&days, src + 4, 4);
        memcpy(&millis, src + 8, 4);
        int32_t m = (int32_t)months, d = (int32_t)days;
        int64_t ns = (int64_t)millis * 1000000;
        memcpy(dst, &m, 4);
        memcpy(dst + 4, &d, 4);
        memcpy(dst + 8, &ns, 8);
        return;
    }
    memcpy(dst, src, (size_t)(aw < pw ? aw : pw)); /* same width, or narrowing little-endian ints */
}

static ard_status prim_validity(const ard_pq_column_data *c, const int16_t *defs, int64_t n,
                                struct ArrowArray *out) {
    int64_t nulls = 0;
    for (int64_t k = 0; k < n; k++) {
        nulls += defs[k] < c->max_def;
    }
    out->null_count = nulls;
    if (nulls == 0) {
        return ARD_OK;
    }
    uint8_t *bits = ard_calloc((size_t)(n + 7) / 8 + 1, 1);
    if (!bits) {
        return ARD_ENOMEM;
    }
    for (int64_t k = 0; k < n; k++) {
        bits[k >> 3] = (uint8_t)(bits[k >> 3] | (defs[k] == c->max_def) << (k & 7));
    }
    ard__arrow_array_set_buffer(out, 0, bits);
    return ARD_OK;
}

static ard_status prim_binary(const ard_pq_column_data *c, const int16_t *defs, int64_t n,
                              int64_t *cursor, struct ArrowArray *out) {
    int64_t *offs = ard_malloc(((size_t)n + 1) * sizeof(int64_t));
    if (!offs) {
        return ARD_ENOMEM;
    }
    int64_t first = c->offsets[*cursor], v = *cursor;
    offs[0] = 0;
    for (int64_t k = 0; k < n; k++) {
        if (defs[k] == c->max_def) {
            v++;
        }
        offs[k + 1] = c->offsets[v] - first;
    }
    uint8_t *data = ard_malloc((size_t)offs[n] + 1);
    if (!data) {
        ard_free(offs);
        return ARD_ENOMEM;
    }
    memcpy(data, c->data + first, (size_t)offs[n]);
    *cursor = v;
    ard__arrow_array_set_buffer(out, 1, offs);
    ard__arrow_array_set_buffer(out, 2, data);
    return ARD_OK;
}

static ard_status prim_fixed(const ard_pq_schema_node *leaf, const char *f,
                             const ard_pq_column_data *c, const int16_t *defs, int64_t n,
                             int64_t *cursor, struct ArrowArray *out) {
    int32_t pw = ard__type_width(leaf->type, leaf->type_length);
    if (f[0] == 'b') {
        uint8_t *bits = ard_calloc((size_t)(n + 7) / 8 + 1, 1);
        if (!bits) {
            return ARD_ENOMEM;
        }
        const uint8_t *vals = c->values;
        for (int64_t k = 0; k < n; k++) {
            if (defs[k] == c->max_def && vals[(*cursor)++]) {
                bits[k >> 3] = (uint8_t)(bits[k >> 3] | 1u << (k & 7));
            }
        }
        ard__arrow_array_set_buffer(out, 1, bits);
        return ARD_OK;
    }
    int32_t aw = arrow_width(f, leaf);
    uint8_t *dst = ard_calloc((size_t)n + 1, (size_t)aw);
    if (!dst) {
        return ARD_ENOMEM;
    }
    const uint8_t *vals = c->values;
    int plain_copy = aw == pw && f[0] != 'd' && leaf->type != ARD_PQ_INT96 && f[1] != 'i';
    for (int64_t k = 0; k < n; k++) {
        if (defs[k] != c->max_def) {
            continue;
        }
        const uint8_t *src = vals + (size_t)(*cursor)++ * (size_t)pw;
        if (plain_copy) {
            memcpy(dst + (size_t)k * (size_t)aw, src, (size_t)aw);
        } else {
            convert_one(leaf, f, src, pw, dst + (size_t)k * (size_t)aw, aw);
        }
    }
    ard__arrow_array_set_buffer(out, 1, dst);
    return ARD_OK;
}

static ard_status prim_decimal_binary(const ard_pq_schema_node *leaf, const char *f,
                                      const ard_pq_column_data *c, const int16_t *defs, int64_t n,
                                      int64_t *cursor, struct ArrowArray *out) {
    int32_t aw = arrow_width(f, leaf);
    uint8_t *dst = ard_calloc((size_t)n + 1, (size_t)aw);
    if (!dst) {
        return ARD_ENOMEM;
    }
    for (int64_t k = 0; k < n; k++) {
        if (defs[k] == c->max_def) {
            int64_t v = (*cursor)++;
            int64_t len = c->offsets[v + 1] - c->offsets[v];
            if (len > aw) {
                ard_free(dst);
                return ARD_ERANGE;
            }
            convert_one(leaf, f, c->data + c->offsets[v], (int32_t)len,
                        dst + (size_t)k * (size_t)aw, aw);
        }
    }
    ard__arrow_array_set_buffer(out, 1, dst);
    return ARD_OK;
}

ard_status ard__arrow_prim(const ard_pq_metadata *md, const anode *a, const ard_pq_column_data *col,
                           const int16_t *slot_def, int64_t n_slots, int64_t *value_cursor,
                           struct ArrowArray *out, ard_error *err) {
    const ard_pq_schema_node *leaf = &md->nodes[a->pnode];
    char buf[64];
    const char *ext;
    const char *f = ard__arrow_prim_format(leaf, buf, sizeof buf, &ext);
    int binary = leaf->type == ARD_PQ_BYTE_ARRAY;
    int64_t nb = f[0] == 'n' ? 0 : (f[0] == 'U' || f[0] == 'Z') ? 3 : 2;
    if (!ard__arrow_array_new(out, nb, 0)) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    out->length = n_slots;
    ard_status st;
    if (nb == 0) {
        out->null_count = n_slots;
        return ARD_OK;
    }
    st = prim_validity(col, slot_def, n_slots, out);
    if (st == ARD_OK) {
        st = nb == 3  ? prim_binary(col, slot_def, n_slots, value_cursor, out)
             : binary ? prim_decimal_binary(leaf, f, col, slot_def, n_slots, value_cursor, out)
                      : prim_fixed(leaf, f, col, slot_def, n_slots, value_cursor, out);
    }
    if (st == ARD_ERANGE) {
        return ard_error_set(err, ARD_ECORRUPT, "column '%s': decimal value wider than %s",
                             leaf->path, f);
    }
    return st == ARD_OK ? ARD_OK : ard_error_set(err, st, "column '%s': out of memory", leaf->path);
}
