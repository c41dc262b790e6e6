/* Parquet writer: Arrow C Data Interface import. A record batch (a "+s" struct array) is mapped
 * child by child onto the writer's columns; buffers are read in place (offsets of the struct, the
 * child and a list's values are honoured), the struct's own nulls are folded into each column's
 * validity, and every column is checked before any is appended so a rejected batch leaves the
 * writer untouched. */
#include "writer_int.h"

#include "ard/arrow_abi.h"

#include <stdlib.h>
#include <string.h>

typedef enum fmt_class {
    FMT_BAD,
    FMT_BOOL,
    FMT_INT,
    FMT_FLOAT,
    FMT_FIXED,
    FMT_BIN32,
    FMT_BIN64
} fmt_class;

/* Class and value width of a primitive format string. */
static fmt_class primitive_format(const char *f, int32_t *width) {
    static const char ints[] = "cCsSiIlL";
    static const int32_t int_w[] = {1, 1, 2, 2, 4, 4, 8, 8};
    *width = 0;
    if (!f || !f[0]) {
        return FMT_BAD;
    }
    if (f[1] == '\0') {
        const char *p = strchr(ints, f[0]);
        if (p) {
            *width = int_w[p - ints];
            return FMT_INT;
        }
        switch (f[0]) {
        case 'b':
            *width = 1;
            return FMT_BOOL;
        case 'f':
            *width = 4;
            return FMT_FLOAT;
        case 'g':
            *width = 8;
            return FMT_FLOAT;
        case 'u':
        case 'z':
            return FMT_BIN32;
        case 'U':
        case 'Z':
            return FMT_BIN64;
        default:
            return FMT_BAD;
        }
    }
    if (f[0] == 'w' && f[1] == ':') {
        char *end;
        long n = strtol(f + 2, &end, 10);
        *width = n > 0 && n < INT32_MAX && *end == '\0' ? (int32_t)n : 0;
        return *width ? FMT_FIXED : FMT_BAD;
    }
    /* dates, times, timestamps, durations: 32- or 64-bit integers */
    if (strcmp(f, "tdD") == 0 || strcmp(f, "tts") == 0 || strcmp(f, "ttm") == 0) {
        *width = 4;
        return FMT_INT;
    }
    if (strncmp(f, "ts", 2) == 0 || strncmp(f, "tD", 2) == 0 || strcmp(f, "ttu") == 0 ||
        strcmp(f, "ttn") == 0 || strcmp(f, "tdm") == 0) {
        *width = 8;
        return FMT_INT;
    }
    return FMT_BAD;
}

static int format_fits(const ard__pqw_column *c, fmt_class cls, int32_t width) {
    switch (c->type) {
    case ARD_PQ_BOOLEAN:
        return cls == FMT_BOOL;
    case ARD_PQ_INT32:
    case ARD_PQ_INT64:
        return cls == FMT_INT && width == c->input_width;
    case ARD_PQ_FLOAT:
    case ARD_PQ_DOUBLE:
        return cls == FMT_FLOAT && width == c->input_width;
    case ARD_PQ_INT96:
    case ARD_PQ_FIXED_LEN_BYTE_ARRAY:
        return cls == FMT_FIXED && width == c->input_width;
    case ARD_PQ_BYTE_ARRAY:
        return cls == FMT_BIN32 || cls == FMT_BIN64;
    default:
        return 0;
    }
}

static const uint8_t *buffer(const struct ArrowArray *a, int64_t i) {
    return i < a->n_buffers && a->buffers ? (const uint8_t *)a->buffers[i] : NULL;
}

/* Validity buffer, or NULL when the array declares no nulls. */
static const uint8_t *validity(const struct ArrowArray *a) {
    return a->null_count == 0 ? NULL : buffer(a, 0);
}

static ard_status bad(const ard__pqw_column *c, const char *fmt, const char *why, ard_error *err) {
    return ard_error_set(err, ARD_EINVAL, "parquet writer: Arrow column '%s' (format \"%s\"): %s",
                         c->name, fmt ? fmt : "(null)", why);
}

/* Fills in->values / offsets for a flat child at logical offset `off`. */
static ard_status flat_input(const ard__pqw_column *c, const struct ArrowSchema *s,
                             const struct ArrowArray *a, int64_t off, ard__pqw_input *in,
                             ard_error *err) {
    int32_t width;
    fmt_class cls = primitive_format(s->format, &width);
    if (!format_fits(c, cls, width) || c->is_list) {
        return cls == FMT_BAD ? ard_error_set(err, ARD_ENOTSUP,
                                              "parquet writer: Arrow column '%s': format \"%s\" "
                                              "is not supported",
                                              c->name, s->format ? s->format : "(null)")
                              : bad(c, s->format, "does not match the declared column", err);
    }
    in->elem_validity = validity(a);
    in->elem_validity_offset = off;
    in->input_width = width;
    if (cls == FMT_BIN32 || cls == FMT_BIN64) {
        const uint8_t *o = buffer(a, 1);
        in->bin_offsets32 = cls == FMT_BIN32 && o ? (const int32_t *)(const void *)o + off : NULL;
        in->bin_offsets = cls == FMT_BIN64 && o ? (const int64_t *)(const void *)o + off : NULL;
        in->bin_data = buffer(a, 2) ? buffer(a, 2) : (const uint8_t *)"";
        return o ? ARD_OK : bad(c, s->format, "missing offsets buffer", err);
    }
    in->values = buffer(a, 1);
    in->bool_bits = cls == FMT_BOOL;
    in->value_bit_offset = off;
    if (!in->bool_bits && in->values) {
        in->values += off * width;
    }
    return in->values || a->length == 0 ? ARD_OK : bad(c, s->format, "missing data buffer", err);
}

static ard_status list_input(const ard__pqw_column *c, const struct ArrowSchema *s,
                             const struct ArrowArray *a, int64_t off, ard__pqw_input *in,
                             ard_error *err) {
    int is_fixed = strncmp(s->format, "+w:", 3) == 0;
    int is_list = strcmp(s->format, "+l") == 0 || strcmp(s->format, "+L") == 0;
    if (!c->is_list || (!is_fixed && !is_list) || s->n_children != 1 || a->n_children != 1) {
        return bad(c, s->format, "does not match the declared list column", err);
    }
    const struct ArrowSchema *cs = s->children[0];
    const struct ArrowArray *ca = a->children[0];
    int32_t width;
    fmt_class cls = primitive_format(cs->format, &width);
    if (!format_fits(c, cls, width) || ((cls == FMT_BIN32 || cls == FMT_BIN64) && is_fixed)) {
        return bad(c, cs->format, "list element does not match the declared element type", err);
    }
    in->row_validity = validity(a);
    in->row_validity_offset = off;
    in->elem_validity = validity(ca);
    in->elem_validity_offset = ca->offset;
    in->input_width = width;
    in->values = buffer(ca, 1) ? buffer(ca, 1) + ca->offset * width : NULL;
    if (cls == FMT_BIN32 || cls == FMT_BIN64) {
        const uint8_t *eo = buffer(ca, 1);
        in->values = NULL;
        in->bin_offsets32 =
            cls == FMT_BIN32 && eo ? (const int32_t *)(const void *)eo + ca->offset : NULL;
        in->bin_offsets =
            cls == FMT_BIN64 && eo ? (const int64_t *)(const void *)eo + ca->offset : NULL;
        in->bin_data = buffer(ca, 2) ? buffer(ca, 2) : (const uint8_t *)"";
        if (!eo) {
            return bad(c, cs->format, "missing element offsets buffer", err);
        }
    }
    if (is_fixed) {
        in->width = strtol(s->format + 3, NULL, 10);
        in->values = in->values ? in->values + off * in->width * width : NULL;
        in->elem_validity_offset += off * in->width;
        return in->width >= 0 ? ARD_OK : bad(c, s->format, "bad fixed list size", err);
    }
    const uint8_t *o = buffer(a, 1);
    if (!o) {
        return bad(c, s->format, "missing offsets buffer", err);
    }
    if (s->format[1] == 'l') {
        in->list_offsets32 = (const int32_t *)(const void *)o + off;
    } else {
        in->list_offsets = (const int64_t *)(const void *)o + off;
    }
    return ARD_OK;
}

/* AND of the struct's validity and a column's row validity, as a fresh bitmap at offset 0. */
static uint8_t *merge_validity(const uint8_t *sv, int64_t soff, const uint8_t *cv, int64_t coff,
                               int64_t rows) {
    uint8_t *m = ard_calloc((size_t)(rows + 7) / 8 + 1, 1);
    for (int64_t i = 0; m && i < rows; i++) {
        int v = ard__bit_get(sv, soff + i) && (!cv || ard__bit_get(cv, coff + i));
        m[i >> 3] |= (uint8_t)(v << (i & 7));
    }
    return m;
}

static ard_status prepare(const ard__pqw_column *c, const struct ArrowSchema *s,
                          const struct ArrowArray *a, const struct ArrowArray *parent,
                          ard__pqw_input *in, uint8_t **merged, ard_error *err) {
    memset(in, 0, sizeof *in);
    if (!s || !a || !s->format || a->length < parent->offset + parent->length) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: Arrow column '%s' is too short",
                             c->name);
    }
    int64_t off = a->offset + parent->offset;
    ard_status st =
        s->format[0] == '+' ? list_input(c, s, a, off, in, err) : flat_input(c, s, a, off, in, err);
    const uint8_t *sv = validity(parent);
    if (st != ARD_OK || !sv) {
        return st;
    }
    const uint8_t **bits = c->is_list ? &in->row_validity : &in->elem_validity;
    int64_t *bits_off = c->is_list ? &in->row_validity_offset : &in->elem_validity_offset;
    *merged = merge_validity(sv, parent->offset, *bits, *bits_off, parent->length);
    if (!*merged) {
        return ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
    }
    *bits = *merged;
    *bits_off = 0;
    return ARD_OK;
}

static ard_status check_struct(const ard_pq_writer *w, const struct ArrowSchema *schema,
                               const struct ArrowArray *array, ard_error *err) {
    if (!schema || !array || !schema->format || strcmp(schema->format, "+s") != 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: Arrow import needs a struct (\"+s\") record batch");
    }
    if (schema->n_children != w->schema.num_cols || array->n_children != w->schema.num_cols ||
        array->length < 0 || array->offset < 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: Arrow batch has %lld children, the writer %d columns",
                             (long long)schema->n_children, (int)w->schema.num_cols);
    }
    return ARD_OK;
}

ard_status ard_pq_writer_write_arrow(ard_pq_writer *w, const struct ArrowSchema *schema,
                                     const struct ArrowArray *array, ard_error *err) {
    if (!w) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: NULL writer");
    }
    if (w->failed) {
        return ard_error_set(err, w->failed, "%s", w->failed_err.msg);
    }
    ard_status st = check_struct(w, schema, array, err);
    int32_t n = w->schema.num_cols;
    ard__pqw_input *ins = st == ARD_OK ? ard_calloc((size_t)n, sizeof *ins) : NULL;
    uint8_t **merged = st == ARD_OK ? ard_calloc((size_t)n, sizeof *merged) : NULL;
    if (st == ARD_OK && (!ins || !merged)) {
        st = ard_error_set(err, ARD_ENOMEM, "parquet writer: out of memory");
    }
    for (int32_t i = 0; st == ARD_OK && i < n; i++) {
        const ard__pqw_column *c = &w->schema.cols[i];
        st = prepare(c, schema->children[i], array->children[i], array, &ins[i], &merged[i], err);
        if (st == ARD_OK) {
            st = ard__pqw_check_input(c, &ins[i], array->length, err);
        }
    }
    for (int32_t i = 0; st == ARD_OK && i < n && array->length > 0; i++) {
        st = ard__pqw_append_checked(w, i, &ins[i], array->length, err);
    }
    for (int32_t i = 0; merged && i < n; i++) {
        ard_free(merged[i]);
    }
    ard_free(merged);
    ard_free(ins);
    return st;
}
