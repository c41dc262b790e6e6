/* Writer test helpers: seeded generator, random tables (every supported column kind, nulls, empty
 * lists, NaN, signed zeros, extreme integers, long strings, low-cardinality and sorted columns) and
 * writing them through the public API in random batches. */
#include "tw_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t tw_next(tw_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int64_t tw_range(tw_rng *r, int64_t lo, int64_t hi) {
    return lo + (int64_t)(tw_next(r) % (uint64_t)(hi - lo + 1));
}

double tw_unit(tw_rng *r) {
    return (double)(tw_next(r) >> 11) / 9007199254740992.0;
}

static const int KIND_IW[TW_NUM_KINDS] = {1, 4, 1,  1, 2, 2, 4, 8, 8, 4, 8,
                                          0, 3, 12, 8, 4, 1, 4, 8, 8, 0};

static void gen_int(tw_rng *r, int iw, int is_unsigned, int lowcard, uint8_t *out) {
    uint64_t v;
    int64_t mode = tw_range(r, 0, 9);
    if (lowcard) {
        v = (uint64_t)tw_range(r, 0, 4);
    } else if (mode == 0) { /* extremes */
        int bits = iw * 8;
        uint64_t top = bits == 64 ? ~0ull : (1ull << bits) - 1;
        uint64_t choices[4] = {0, top, top >> 1, (top >> 1) + 1};
        v = choices[tw_range(r, 0, 3)];
    } else if (mode < 5) {
        v = (uint64_t)tw_range(r, -100, 100);
    } else {
        v = tw_next(r);
    }
    (void)is_unsigned;
    memcpy(out, &v, (size_t)iw); /* little-endian truncation */
}

static double gen_double(tw_rng *r, int lowcard) {
    static const double special[] = {0.0, -0.0, INFINITY, -INFINITY, 1e-300, -1.5};
    if (lowcard) {
        return (double)tw_range(r, 0, 3) * 0.5;
    }
    int64_t mode = tw_range(r, 0, 19);
    if (mode == 0) {
        return NAN;
    }
    if (mode < 3) {
        return special[tw_range(r, 0, 5)];
    }
    return (tw_unit(r) - 0.5) * pow(10.0, (double)tw_range(r, -5, 5));
}

static void gen_value(tw_kind k, tw_rng *r, int lowcard, uint8_t *out) {
    int iw = KIND_IW[k];
    if (k == TW_BOOL) {
        out[0] = (uint8_t)tw_range(r, 0, 1);
    } else if (k == TW_F32 || k == TW_LF32) {
        float f = (float)gen_double(r, lowcard);
        memcpy(out, &f, 4);
    } else if (k == TW_F64 || k == TW_LF64) {
        double d = gen_double(r, lowcard);
        memcpy(out, &d, 8);
    } else if (k == TW_FLBA || k == TW_I96) {
        for (int i = 0; i < iw; i++) {
            out[i] = lowcard ? (uint8_t)tw_range(r, 0, 1) : (uint8_t)tw_next(r);
        }
    } else {
        gen_int(r, iw, k == TW_U8 || k == TW_U16 || k == TW_U32 || k == TW_U64 || k == TW_LU8,
                lowcard, out);
    }
}

static int64_t *gen_strings(tw_col *c, tw_rng *r, int lowcard, int64_t count) {
    int64_t *offs = calloc((size_t)count + 1, sizeof *offs);
    size_t cap = 1024, len = 0;
    c->data = malloc(cap);
    for (int64_t i = 0; i < count; i++) {
        int64_t n = lowcard ? tw_range(r, 0, 3) : tw_range(r, 0, 30);
        if (!lowcard && tw_range(r, 0, 30) == 0) {
            n = tw_range(r, 200, 5000); /* long strings */
        }
        while (len + (size_t)n + 2 > cap) {
            cap *= 2;
            c->data = realloc(c->data, cap);
        }
        for (int64_t j = 0; j < n; j++) {
            c->data[len + (size_t)j] = lowcard ? (uint8_t)('a' + n) : (uint8_t)tw_range(r, 32, 126);
        }
        if (n >= 2 && !lowcard && tw_range(r, 0, 9) == 0) {
            c->data[len] = 0xC3; /* é: bytes above 0x7f sort after ASCII (unsigned order) */
            c->data[len + 1] = 0xA9;
        }
        len += (size_t)n;
        offs[i + 1] = (int64_t)len;
    }
    return offs;
}

static void gen_lists(tw_col *c, tw_rng *r, double null_p, int lowcard) {
    c->offs = calloc((size_t)c->rows + 1, sizeof *c->offs);
    for (int64_t i = 0; i < c->rows; i++) {
        int64_t n = c->matrix ? c->width : tw_range(r, 0, 3) == 0 ? 0 : tw_range(r, 0, 40);
        c->offs[i + 1] = c->offs[i] + n;
    }
    c->num_elems = c->offs[c->rows];
    c->values = calloc((size_t)c->num_elems + 1, (size_t)c->iw + 1);
    c->evalid = calloc((size_t)c->num_elems + 1, 1);
    for (int64_t e = 0; e < c->num_elems; e++) {
        c->evalid[e] = !c->elem_optional || tw_unit(r) >= null_p;
        if (c->kind != TW_LSTR) {
            gen_value(c->kind, r, lowcard, c->values + e * c->iw);
        }
    }
    if (c->kind == TW_LSTR) {
        c->eoffs = gen_strings(c, r, lowcard, c->num_elems);
    }
}

static void gen_sorted(tw_col *c, tw_rng *r) {
    int64_t v = (int64_t)tw_range(r, -1000000, 1000000) * 1000;
    for (int64_t i = 0; i < c->rows; i++) {
        v += tw_range(r, 0, 5);
        if (c->iw == 4) {
            int32_t v32 = (int32_t)v;
            memcpy(c->values + 4 * i, &v32, 4);
        } else {
            memcpy(c->values + 8 * i, &v, 8);
        }
    }
}

static void gen_col(tw_col *c, tw_kind k, tw_rng *r, int64_t rows, int idx) {
    static const double null_ps[] = {0.0, 0.05, 0.5, 1.0};
    memset(c, 0, sizeof *c);
    c->kind = k;
    c->forced_encoding = -1;
    snprintf(c->name, sizeof c->name, "c%d_%d", idx, (int)k);
    c->is_list = k >= TW_FLAT_KINDS;
    c->iw = KIND_IW[k];
    c->rows = rows;
    c->optional = tw_range(r, 0, 3) != 0;
    c->elem_optional = tw_range(r, 0, 2) != 0;
    double null_p = null_ps[tw_range(r, 0, 3)];
    int lowcard = tw_range(r, 0, 2) == 0;
    c->sorted = (k == TW_I64 || k == TW_I32) && tw_range(r, 0, 3) == 0;
    c->matrix = c->is_list && k != TW_LSTR && tw_range(r, 0, 1);
    c->width = tw_range(r, 0, 2) == 0 ? 0 : tw_range(r, 1, 64);
    c->valid = calloc((size_t)rows + 1, 1);
    for (int64_t i = 0; i < rows; i++) {
        c->valid[i] = !c->optional || tw_unit(r) >= null_p;
    }
    if (c->is_list) {
        gen_lists(c, r, null_p, lowcard);
    } else if (k == TW_STR) {
        c->offs = gen_strings(c, r, lowcard, rows);
    } else {
        c->values = calloc((size_t)rows + 1, (size_t)c->iw);
        for (int64_t i = 0; i < rows; i++) {
            gen_value(k, r, lowcard, c->values + i * c->iw);
        }
        if (c->sorted) {
            gen_sorted(c, r);
        }
    }
}

void tw_table_random(tw_table *t, tw_rng *r, int64_t rows, int all_kinds) {
    memset(t, 0, sizeof *t);
    t->rows = rows;
    t->num_cols = all_kinds ? TW_NUM_KINDS : (int)tw_range(r, 1, 8);
    for (int i = 0; i < t->num_cols; i++) {
        tw_kind k = all_kinds ? (tw_kind)i : (tw_kind)tw_range(r, 0, TW_NUM_KINDS - 1);
        gen_col(&t->cols[i], k, r, rows, i);
    }
}

void tw_table_free(tw_table *t) {
    for (int i = 0; i < t->num_cols; i++) {
        tw_col *c = &t->cols[i];
        free(c->valid);
        free(c->values);
        free(c->offs);
        free(c->data);
        free(c->evalid);
        free(c->eoffs);
    }
    memset(t, 0, sizeof *t);
}

static void kind_type(tw_kind k, ard_pq_type *type, ard_pq_logical *lt, int32_t *type_length) {
    static const ard_pq_type types[TW_NUM_KINDS] = {ARD_PQ_BOOLEAN,
                                                    ARD_PQ_INT32,
                                                    ARD_PQ_INT32,
                                                    ARD_PQ_INT32,
                                                    ARD_PQ_INT32,
                                                    ARD_PQ_INT32,
                                                    ARD_PQ_INT32,
                                                    ARD_PQ_INT64,
                                                    ARD_PQ_INT64,
                                                    ARD_PQ_FLOAT,
                                                    ARD_PQ_DOUBLE,
                                                    ARD_PQ_BYTE_ARRAY,
                                                    ARD_PQ_FIXED_LEN_BYTE_ARRAY,
                                                    ARD_PQ_INT96,
                                                    ARD_PQ_INT64,
                                                    ARD_PQ_FLOAT,
                                                    ARD_PQ_INT32,
                                                    ARD_PQ_INT32,
                                                    ARD_PQ_DOUBLE,
                                                    ARD_PQ_INT64,
                                                    ARD_PQ_BYTE_ARRAY};
    memset(lt, 0, sizeof *lt);
    *type = types[k];
    *type_length = k == TW_FLBA ? 3 : 0;
    switch (k) {
    case TW_I8:
        *lt = (ard_pq_logical){.kind = ARD_PQ_LT_INTEGER, .bit_width = 8, .is_signed = 1};
        break;
    case TW_U8:
    case TW_LU8:
        *lt = (ard_pq_logical){.kind = ARD_PQ_LT_INTEGER, .bit_width = 8};
        break;
    case TW_I16:
        *lt = (ard_pq_logical){.kind = ARD_PQ_LT_INTEGER, .bit_width = 16, .is_signed = 1};
        break;
    case TW_U16:
        *lt = (ard_pq_logical){.kind = ARD_PQ_LT_INTEGER, .bit_width = 16};
        break;
    case TW_U32:
        *lt = (ard_pq_logical){.kind = ARD_PQ_LT_INTEGER, .bit_width = 32};
        break;
    case TW_U64:
        *lt = (ard_pq_logical){.kind = ARD_PQ_LT_INTEGER, .bit_width = 64};
        break;
    case TW_STR:
    case TW_LSTR:
        lt->kind = ARD_PQ_LT_STRING;
        break;
    case TW_TS:
        *lt = (ard_pq_logical){
            .kind = ARD_PQ_LT_TIMESTAMP, .unit = ARD_PQ_MICROS, .is_adjusted_to_utc = 1};
        break;
    default:
        break;
    }
}

ard_pq_schema_builder *tw_schema(const tw_table *t) {
    ard_pq_schema_builder *sb = NULL;
    if (ard_pq_schema_new(&sb, NULL) != ARD_OK) {
        return NULL;
    }
    for (int i = 0; i < t->num_cols; i++) {
        const tw_col *c = &t->cols[i];
        ard_pq_type type;
        ard_pq_logical lt;
        int32_t tl;
        kind_type(c->kind, &type, &lt, &tl);
        ard_pq_repetition rep = c->optional ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED;
        ard_pq_repetition erep = c->elem_optional ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED;
        int32_t id = -1;
        if (c->is_list) {
            ard_pq_schema_add_list(sb, c->name, type, rep, erep, &lt, &id, NULL);
        } else {
            ard_pq_schema_add_column(sb, c->name, type, rep, &lt, tl, &id, NULL);
        }
        if (id != i || ard_pq_schema_set_sorted(sb, id, c->sorted, NULL) != ARD_OK ||
            ard_pq_schema_set_encoding(sb, id, c->forced_encoding, NULL) != ARD_OK) {
            ard_pq_schema_free(sb);
            return NULL;
        }
    }
    return sb;
}

/* LSB bitmap of bytes[0..n); NULL when want is 0. Caller frees. */
static uint8_t *bitmap(const uint8_t *bytes, int64_t n, int want) {
    if (!want) {
        return NULL;
    }
    uint8_t *b = calloc((size_t)(n + 8) / 8 + 1, 1);
    for (int64_t i = 0; i < n; i++) {
        b[i >> 3] |= (uint8_t)((bytes[i] != 0) << (i & 7));
    }
    return b;
}

static ard_status write_slice(ard_pq_writer *w, const tw_col *c, int col, int64_t a, int64_t n,
                              ard_error *err) {
    uint8_t *rv = bitmap(c->valid + a, n, c->optional);
    ard_status st;
    if (!c->is_list && c->kind == TW_STR) {
        st = ard_pq_writer_write_binary(w, col, c->offs + a, c->data, rv, n, err);
    } else if (!c->is_list) {
        st = ard_pq_writer_write_column(w, col, c->values + a * c->iw, rv, n, err);
    } else if (c->kind == TW_LSTR) {
        uint8_t *ev = bitmap(c->evalid, c->num_elems, c->elem_optional);
        st =
            ard_pq_writer_write_list_binary(w, col, c->offs + a, c->eoffs, c->data, ev, rv, n, err);
        free(ev);
    } else if (c->matrix) {
        uint8_t *ev = bitmap(c->evalid + a * c->width, n * c->width, c->elem_optional);
        st = ard_pq_writer_write_list_matrix(w, col, c->values + a * c->width * c->iw, n, c->width,
                                             ev, rv, err);
        free(ev);
    } else {
        uint8_t *ev = bitmap(c->evalid, c->num_elems, c->elem_optional);
        st = ard_pq_writer_write_list(w, col, c->offs + a, c->values, ev, rv, n, err);
        free(ev);
    }
    free(rv);
    return st;
}

ard_status tw_write(const tw_table *t, const char *path, const ard_pq_writer_options *o, tw_rng *r,
                    ard_error *err) {
    ard_pq_schema_builder *sb = tw_schema(t);
    ard_pq_writer *w = NULL;
    ard_status st = sb ? ard_pq_writer_open(path, sb, o, &w, err) : ARD_ENOMEM;
    ard_pq_schema_free(sb);
    int64_t at = 0;
    while (st == ARD_OK && at < t->rows) {
        int64_t n = tw_range(r, 0, 3) == 0 ? t->rows - at : tw_range(r, 1, t->rows - at);
        int order[24];
        for (int i = 0; i < t->num_cols; i++) {
            order[i] = i;
        }
        for (int i = t->num_cols - 1; i > 0; i--) {
            int j = (int)tw_range(r, 0, i), tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int i = 0; i < t->num_cols && st == ARD_OK; i++) {
            st = write_slice(w, &t->cols[order[i]], order[i], at, n, err);
        }
        at += n;
        if (st == ARD_OK && tw_range(r, 0, 9) == 0) {
            st = ard_pq_writer_end_row_group(w, err);
        }
    }
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        return st;
    }
    return ard_pq_writer_close(w, err);
}
