/* Thrift compact-protocol reader for Parquet footers, page headers and page indexes.
 * Every read is bounds-checked against the input; the first failure sticks and names the byte
 * offset. */
#include "parquet_int.h"

#include <stdio.h>
#include <string.h>

void ard__thrift_init(ard__thrift *t, const uint8_t *data, size_t len, int64_t base_offset,
                      const char *what, ard_error *err) {
    memset(t, 0, sizeof *t);
    t->start = data;
    t->p = data;
    t->end = data + len;
    t->base_offset = base_offset;
    t->what = what ? what : "thrift";
    t->err = err;
    t->status = ARD_OK;
}

bool ard__thrift_fail(ard__thrift *t, const char *reason) {
    if (t->status == ARD_OK) {
        t->status = ARD_ECORRUPT;
        long long at = (long long)(t->base_offset + (t->p - t->start));
        ard_error_set(t->err, ARD_ECORRUPT, "%s: %s at byte %lld", t->what, reason, at);
    }
    return false;
}

static size_t remaining(const ard__thrift *t) {
    return (size_t)(t->end - t->p);
}

/* ULEB128 of at most max_bytes bytes. */
static bool read_varint(ard__thrift *t, int max_bytes, uint64_t *out) {
    switch (ard__varint_get(&t->p, t->end, max_bytes, out)) {
    case ARD__VARINT_OK:
        return true;
    case ARD__VARINT_TRUNCATED:
        return ard__thrift_fail(t, "truncated varint");
    case ARD__VARINT_TOO_LARGE:
        return ard__thrift_fail(t, max_bytes <= 5 ? "varint too large for 32 bits"
                                                  : "varint too large for 64 bits");
    default:
        return ard__thrift_fail(t, "varint too long");
    }
}

static int64_t zigzag_decode(uint64_t u) {
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

bool ard__thrift_i32(ard__thrift *t, int32_t *v) {
    uint64_t u;
    if (t->status != ARD_OK || !read_varint(t, 5, &u)) {
        return false;
    }
    uint32_t u32 = (uint32_t)u;
    *v = (int32_t)((u32 >> 1) ^ (~(u32 & 1u) + 1u));
    return true;
}

bool ard__thrift_i64(ard__thrift *t, int64_t *v) {
    uint64_t u;
    if (t->status != ARD_OK || !read_varint(t, 10, &u)) {
        return false;
    }
    *v = zigzag_decode(u);
    return true;
}

bool ard__thrift_i8(ard__thrift *t, int8_t *v) {
    if (t->status != ARD_OK) {
        return false;
    }
    if (remaining(t) < 1) {
        return ard__thrift_fail(t, "truncated i8");
    }
    *v = (int8_t)*t->p++;
    return true;
}

bool ard__thrift_double(ard__thrift *t, double *v) {
    if (t->status != ARD_OK) {
        return false;
    }
    if (remaining(t) < 8) {
        return ard__thrift_fail(t, "truncated double");
    }
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--) {
        bits = (bits << 8) | t->p[i];
    }
    memcpy(v, &bits, sizeof *v);
    t->p += 8;
    return true;
}

bool ard__thrift_binary(ard__thrift *t, const uint8_t **data, uint32_t *len) {
    uint64_t n;
    if (t->status != ARD_OK || !read_varint(t, 5, &n)) {
        return false;
    }
    if (n > remaining(t)) {
        return ard__thrift_fail(t, "binary length past end of data");
    }
    *data = t->p;
    *len = (uint32_t)n;
    t->p += n;
    return true;
}

bool ard__thrift_struct_begin(ard__thrift *t) {
    if (t->status != ARD_OK) {
        return false;
    }
    if (t->depth >= ARD__THRIFT_MAX_DEPTH) {
        return ard__thrift_fail(t, "nesting too deep");
    }
    t->last_id[t->depth++] = 0;
    return true;
}

bool ard__thrift_struct_end(ard__thrift *t) {
    if (t->status != ARD_OK) {
        return false;
    }
    if (t->depth <= 0) {
        return ard__thrift_fail(t, "struct end without begin");
    }
    t->depth--;
    return true;
}

static bool valid_type(uint8_t type) {
    return type >= ARD__T_TRUE && type <= ARD__T_UUID;
}

bool ard__thrift_field(ard__thrift *t, int16_t *id, uint8_t *type, bool *bool_value) {
    if (t->status != ARD_OK) {
        return false;
    }
    if (t->depth <= 0) {
        return ard__thrift_fail(t, "field outside a struct");
    }
    if (remaining(t) < 1) {
        return ard__thrift_fail(t, "truncated struct (no STOP)");
    }
    uint8_t header = *t->p;
    if (header == ARD__T_STOP) {
        t->p++;
        return false;
    }
    uint8_t wire = header & 0x0f;
    if (!valid_type(wire)) {
        return ard__thrift_fail(t, "invalid field type");
    }
    t->p++;
    int32_t field_id;
    uint8_t delta = header >> 4;
    if (delta == 0) {
        if (!ard__thrift_i32(t, &field_id)) {
            return false;
        }
        if (field_id < INT16_MIN || field_id > INT16_MAX) {
            return ard__thrift_fail(t, "field id out of range");
        }
    } else {
        field_id = t->last_id[t->depth - 1] + delta;
        if (field_id > INT16_MAX) {
            return ard__thrift_fail(t, "field id out of range");
        }
    }
    t->last_id[t->depth - 1] = (int16_t)field_id;
    *id = (int16_t)field_id;
    *type = wire;
    *bool_value = wire == ARD__T_TRUE;
    return true;
}

bool ard__thrift_list(ard__thrift *t, uint8_t *elem_type, int32_t *size) {
    if (t->status != ARD_OK) {
        return false;
    }
    if (remaining(t) < 1) {
        return ard__thrift_fail(t, "truncated list header");
    }
    uint8_t header = *t->p;
    uint8_t elem = header & 0x0f;
    if (!valid_type(elem)) {
        return ard__thrift_fail(t, "invalid list element type");
    }
    t->p++;
    uint64_t n = header >> 4;
    if (n == 15 && !read_varint(t, 5, &n)) {
        return false;
    }
    /* Every element takes at least one byte on the wire. */
    if (n > INT32_MAX || n > remaining(t)) {
        return ard__thrift_fail(t, "list size larger than the remaining data");
    }
    *elem_type = elem;
    *size = (int32_t)n;
    return true;
}

bool ard__thrift_list_bool(ard__thrift *t, bool *v) {
    if (t->status != ARD_OK) {
        return false;
    }
    if (remaining(t) < 1) {
        return ard__thrift_fail(t, "truncated bool");
    }
    uint8_t byte = *t->p;
    if (byte > 2) {
        return ard__thrift_fail(t, "invalid bool list element");
    }
    t->p++;
    *v = byte == 1;
    return true;
}

static bool skip_value(ard__thrift *t, uint8_t type, bool in_collection, int nest);

static bool skip_bytes(ard__thrift *t, size_t n) {
    if (remaining(t) < n) {
        return ard__thrift_fail(t, "truncated value");
    }
    t->p += n;
    return true;
}

static bool skip_struct(ard__thrift *t, int nest) {
    int16_t id;
    uint8_t type;
    bool bool_value;
    if (!ard__thrift_struct_begin(t)) {
        return false;
    }
    while (ard__thrift_field(t, &id, &type, &bool_value)) {
        if (!skip_value(t, type, false, nest + 1)) {
            return false;
        }
    }
    return t->status == ARD_OK && ard__thrift_struct_end(t);
}

static bool skip_list(ard__thrift *t, int nest) {
    uint8_t elem;
    int32_t size;
    if (!ard__thrift_list(t, &elem, &size)) {
        return false;
    }
    for (int32_t i = 0; i < size; i++) {
        if (!skip_value(t, elem, true, nest + 1)) {
            return false;
        }
    }
    return true;
}

static bool skip_map(ard__thrift *t, int nest) {
    uint64_t n;
    if (!read_varint(t, 5, &n)) {
        return false;
    }
    if (n == 0) {
        return true;
    }
    if (remaining(t) < 1 || n > (remaining(t) - 1) / 2) {
        return ard__thrift_fail(t, "map size larger than the remaining data");
    }
    uint8_t kinds = *t->p++;
    uint8_t key_type = kinds >> 4, value_type = kinds & 0x0f;
    if (!valid_type(key_type) || !valid_type(value_type)) {
        return ard__thrift_fail(t, "invalid map element type");
    }
    for (uint64_t i = 0; i < n; i++) {
        if (!skip_value(t, key_type, true, nest + 1) ||
            !skip_value(t, value_type, true, nest + 1)) {
            return false;
        }
    }
    return true;
}

static bool skip_value(ard__thrift *t, uint8_t type, bool in_collection, int nest) {
    uint64_t u;
    const uint8_t *data;
    uint32_t len;
    if (t->status != ARD_OK) {
        return false;
    }
    if (nest > ARD__THRIFT_MAX_DEPTH) {
        return ard__thrift_fail(t, "nesting too deep");
    }
    switch (type) {
    case ARD__T_TRUE:
    case ARD__T_FALSE:
        return in_collection ? skip_bytes(t, 1) : true;
    case ARD__T_I8:
        return skip_bytes(t, 1);
    case ARD__T_I16:
    case ARD__T_I32:
        return read_varint(t, 5, &u);
    case ARD__T_I64:
        return read_varint(t, 10, &u);
    case ARD__T_DOUBLE:
        return skip_bytes(t, 8);
    case ARD__T_BINARY:
        return ard__thrift_binary(t, &data, &len);
    case ARD__T_LIST:
    case ARD__T_SET:
        return skip_list(t, nest);
    case ARD__T_MAP:
        return skip_map(t, nest);
    case ARD__T_STRUCT:
        return skip_struct(t, nest);
    case ARD__T_UUID:
        return skip_bytes(t, 16);
    default:
        return ard__thrift_fail(t, "invalid type");
    }
}

bool ard__thrift_skip(ard__thrift *t, uint8_t type) {
    return skip_value(t, type, false, 0);
}
