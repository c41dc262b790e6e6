/* Thrift compact protocol encoder for the Parquet writer: varints, zigzag integers, delta-encoded
 * field headers (with a stack of last field ids per nested struct), binary, list headers and bool
 * fields. Output goes to an ard_buf whose allocation failure is sticky, so callers check once at
 * the end. */
#include "writer_int.h"

void ard__tw_init(ard__tw *t, ard_buf *out) {
    t->out = out;
    t->depth = 0;
    t->last_id[0] = 0;
}

static void put_byte(ard__tw *t, uint8_t b) {
    ard_buf_append(t->out, &b, 1);
}

void ard__tw_varint(ard__tw *t, uint64_t v) {
    ard__varint_put(t->out, v);
}

static uint64_t zigzag(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void ard__tw_i32(ard__tw *t, int32_t v) {
    ard__tw_varint(t, zigzag(v));
}

void ard__tw_i64(ard__tw *t, int64_t v) {
    ard__tw_varint(t, zigzag(v));
}

void ard__tw_field(ard__tw *t, int16_t id, uint8_t type) {
    int16_t last = t->last_id[t->depth];
    int delta = id - last;
    if (delta > 0 && delta <= 15) {
        put_byte(t, (uint8_t)((delta << 4) | type));
    } else {
        put_byte(t, type);
        ard__tw_i64(t, id);
    }
    t->last_id[t->depth] = id;
}

void ard__tw_struct_begin(ard__tw *t) {
    if (t->depth + 1 >= ARD__TW_MAX_DEPTH) {
        t->out->failed = 1; /* a programming error: our structures are shallow */
        return;
    }
    t->depth++;
    t->last_id[t->depth] = 0;
}

void ard__tw_stop(ard__tw *t) {
    put_byte(t, ARD__T_STOP);
    if (t->depth > 0) {
        t->depth--;
    }
}

void ard__tw_list_begin(ard__tw *t, uint8_t elem_type, int64_t size) {
    if (size < 15) {
        put_byte(t, (uint8_t)((size << 4) | elem_type));
    } else {
        put_byte(t, (uint8_t)(0xF0 | elem_type));
        ard__tw_varint(t, (uint64_t)size);
    }
}

void ard__tw_binary(ard__tw *t, const void *data, size_t len) {
    ard__tw_varint(t, len);
    ard_buf_append(t->out, data, len);
}

void ard__tw_list_bool(ard__tw *t, int v) {
    put_byte(t, v ? ARD__T_TRUE : ARD__T_FALSE);
}

void ard__tw_field_i32(ard__tw *t, int16_t id, int32_t v) {
    ard__tw_field(t, id, ARD__T_I32);
    ard__tw_i32(t, v);
}

void ard__tw_field_i64(ard__tw *t, int16_t id, int64_t v) {
    ard__tw_field(t, id, ARD__T_I64);
    ard__tw_i64(t, v);
}

void ard__tw_field_i8(ard__tw *t, int16_t id, int8_t v) {
    ard__tw_field(t, id, ARD__T_I8);
    put_byte(t, (uint8_t)v);
}

void ard__tw_field_bool(ard__tw *t, int16_t id, int v) {
    ard__tw_field(t, id, v ? ARD__T_TRUE : ARD__T_FALSE);
}

void ard__tw_field_binary(ard__tw *t, int16_t id, const void *data, size_t len) {
    ard__tw_field(t, id, ARD__T_BINARY);
    ard__tw_binary(t, data, len);
}

void ard__tw_field_string(ard__tw *t, int16_t id, const char *s) {
    size_t len = 0;
    while (s[len]) {
        len++;
    }
    ard__tw_field_binary(t, id, s, len);
}

void ard__tw_field_struct(ard__tw *t, int16_t id) {
    ard__tw_field(t, id, ARD__T_STRUCT);
    ard__tw_struct_begin(t);
}

void ard__tw_field_empty_struct(ard__tw *t, int16_t id) {
    ard__tw_field_struct(t, id);
    ard__tw_stop(t);
}
