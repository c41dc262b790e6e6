/* test_parquet_write_gen: writes Parquet files for the DuckDB interop test (every column type,
 * codec, value encoding and page version, plus 4096-wide spectra over 13 row groups) and, beside
 * each, the values it wrote as JSON lines so a second implementation can be checked against them.
 * Without arguments it does nothing and exits 0 (ctest runs it that way).
 * Usage: test_parquet_write_gen OUTDIR */
#include "ard/parquet_write.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NROWS = 300, RG_ROWS = 64, SPEC_ROWS = 400, SPEC_RG = 32, SPEC_W = 4096 };

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int64_t range(rng *r, int64_t lo, int64_t hi) {
    return lo + (int64_t)(next(r) % (uint64_t)(hi - lo + 1));
}

/* Column kinds; the JSON "kind" names are what the node script understands. */
typedef enum {
    K_BOOL,
    K_I32,
    K_I8,
    K_U8,
    K_I16,
    K_U16,
    K_U32,
    K_ID,
    K_I64,
    K_U64,
    K_F32,
    K_F64,
    K_STR,
    K_FLBA,
    K_TS,
    K_I96,
    K_LF32,
    K_LU8,
    K_LI32,
    K_LF64,
    K_LI64,
    K_LSTR,
    K_NUM
} kind;
static const char *NAMES[K_NUM] = {"b",   "i32", "i8",   "u8",   "i16",  "u16", "u32", "id",
                                   "i64", "u64", "f32",  "f64",  "s",    "fx",  "ts",  "t96",
                                   "lf",  "lu8", "li32", "lf64", "li64", "ls"};
static const char *KINDS[K_NUM] = {"bool", "int", "int", "int", "int", "int",  "int", "int",
                                   "int",  "int", "f32", "f64", "str", "blob", "ts",  "ts",
                                   "f32",  "int", "int", "f64", "int", "str"};
static const int IW[K_NUM] = {1, 4, 1, 1, 2, 2, 4, 8, 8, 8, 4, 8, 0, 4, 8, 12, 4, 1, 4, 8, 8, 0};

static int is_list(kind k) {
    return k >= K_LF32;
}

typedef struct column {
    kind k;
    uint8_t valid[NROWS];
    uint8_t *values; /* flat: NROWS * iw; list: elements * iw */
    int64_t offs[NROWS + 1];
    uint8_t *evalid;
    int64_t *soffs; /* strings: byte offsets per string (rows or elements) */
    char *sdata;
    int64_t nelem;
} column;

static void gen_string(rng *r, char *dst, int64_t *len) {
    static const char *words[] = {
        "", "QSO", "GALAXY", "STAR", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "a,b\"c", "zzz"};
    int64_t w = range(r, 0, 9);
    if (w < 8) {
        *len = (int64_t)strlen(words[w]);
        memcpy(dst, words[w], (size_t)*len);
        return;
    }
    *len = w == 8 ? range(r, 1, 40) : 3000;
    for (int64_t i = 0; i < *len; i++) {
        dst[i] = (char)('A' + (i * 7 + *len) % 26);
    }
}

static void gen_int(rng *r, kind k, uint8_t *out) {
    int iw = IW[k] ? IW[k] : 4;
    uint64_t v = next(r);
    int64_t mode = range(r, 0, 5);
    uint64_t top = iw == 8 ? ~0ull : (1ull << (8 * iw)) - 1;
    if (mode == 0) {
        v = (uint64_t[]){0, top, top >> 1, (top >> 1) + 1}[range(r, 0, 3)];
    } else if (mode < 4) {
        v = (uint64_t)range(r, -3, 3); /* low cardinality: dictionary pages */
    }
    memcpy(out, &v, (size_t)iw);
}

static void gen_value(rng *r, kind k, uint8_t *out) {
    static const double special[] = {NAN, 0.0, -0.0, INFINITY, -INFINITY, 1.5, -2.25};
    if (k == K_BOOL) {
        out[0] = (uint8_t)range(r, 0, 1);
    } else if (k == K_F32 || k == K_LF32 || k == K_F64 || k == K_LF64) {
        double d = range(r, 0, 3) == 0 ? special[range(r, 0, 6)]
                                       : (double)range(r, -100000, 100000) / 64.0;
        float f = (float)d;
        memcpy(out, k == K_F32 || k == K_LF32 ? (void *)&f : (void *)&d, (size_t)IW[k]);
    } else if (k == K_FLBA) {
        for (int i = 0; i < 4; i++) {
            out[i] = (uint8_t)next(r);
        }
    } else if (k == K_TS) {
        int64_t us = range(r, -2000000000, 2000000000) * 1000003;
        memcpy(out, &us, 8);
    } else if (k == K_I96) { /* nanos in the day (whole microseconds), Julian day */
        int64_t nanos = range(r, 0, 86399999999) * 1000;
        int32_t day = (int32_t)range(r, 2440588 - 20000, 2440588 + 30000);
        memcpy(out, &nanos, 8);
        memcpy(out + 8, &day, 4);
    } else {
        gen_int(r, k, out);
    }
}

static void gen_strings(rng *r, column *c, int64_t n) {
    c->soffs = calloc((size_t)n + 1, sizeof *c->soffs);
    c->sdata = malloc((size_t)n * 3000 + 1);
    for (int64_t i = 0; i < n; i++) {
        int64_t len;
        gen_string(r, c->sdata + c->soffs[i], &len);
        c->soffs[i + 1] = c->soffs[i] + len;
    }
}

static void gen_column(rng *r, column *c, kind k) {
    memset(c, 0, sizeof *c);
    c->k = k;
    int required = k == K_I32 || k == K_ID || k == K_LI32;
    for (int i = 0; i < NROWS; i++) {
        c->valid[i] = required || range(r, 0, 6) != 0;
        c->offs[i + 1] = c->offs[i] + (is_list(k) ? (range(r, 0, 4) == 0 ? 0 : range(r, 1, 9)) : 1);
    }
    c->nelem = c->offs[NROWS];
    c->values = calloc((size_t)c->nelem + 1, (size_t)(IW[k] ? IW[k] : 1));
    c->evalid = calloc((size_t)c->nelem + 1, 1);
    for (int64_t e = 0; e < c->nelem; e++) {
        c->evalid[e] = k == K_LU8 || range(r, 0, 8) != 0;
        if (IW[k]) {
            gen_value(r, k, c->values + e * IW[k]);
        }
    }
    if (k == K_STR || k == K_LSTR) {
        gen_strings(r, c, c->nelem);
    }
    for (int64_t i = 0; k == K_ID && i < NROWS; i++) {
        int64_t id = 39627000000000000 + i * 13;
        memcpy(c->values + 8 * i, &id, 8);
    }
}

static uint8_t *bits(const uint8_t *bytes, int64_t n) {
    uint8_t *b = calloc((size_t)n / 8 + 1, 1);
    for (int64_t i = 0; i < n; i++) {
        b[i / 8] |= (uint8_t)((bytes[i] != 0) << (i % 8));
    }
    return b;
}

static int declare(ard_pq_schema_builder *sb, kind k, int mode) {
    static const ard_pq_type phys[K_NUM] = {ARD_PQ_BOOLEAN,    ARD_PQ_INT32,
                                            ARD_PQ_INT32,      ARD_PQ_INT32,
                                            ARD_PQ_INT32,      ARD_PQ_INT32,
                                            ARD_PQ_INT32,      ARD_PQ_INT64,
                                            ARD_PQ_INT64,      ARD_PQ_INT64,
                                            ARD_PQ_FLOAT,      ARD_PQ_DOUBLE,
                                            ARD_PQ_BYTE_ARRAY, ARD_PQ_FIXED_LEN_BYTE_ARRAY,
                                            ARD_PQ_INT64,      ARD_PQ_INT96,
                                            ARD_PQ_FLOAT,      ARD_PQ_INT32,
                                            ARD_PQ_INT32,      ARD_PQ_DOUBLE,
                                            ARD_PQ_INT64,      ARD_PQ_BYTE_ARRAY};
    ard_pq_logical lt = {.kind = ARD_PQ_LT_NONE};
    if (k == K_I8 || k == K_U8 || k == K_I16 || k == K_U16 || k == K_U32 || k == K_U64 ||
        k == K_LU8) {
        lt.kind = ARD_PQ_LT_INTEGER;
        lt.bit_width = k == K_I8 || k == K_U8 || k == K_LU8 ? 8
                       : k == K_U32                         ? 32
                       : k == K_U64                         ? 64
                                                            : 16;
        lt.is_signed = k == K_I8 || k == K_I16;
    } else if (k == K_STR || k == K_LSTR) {
        lt.kind = ARD_PQ_LT_STRING;
    } else if (k == K_TS) {
        lt = (ard_pq_logical){
            .kind = ARD_PQ_LT_TIMESTAMP, .unit = ARD_PQ_MICROS, .is_adjusted_to_utc = 1};
    }
    int required = k == K_I32 || k == K_ID || k == K_LI32;
    ard_pq_repetition rep = required ? ARD_PQ_REQUIRED : ARD_PQ_OPTIONAL;
    int32_t id = -1;
    if (is_list(k)) {
        ard_pq_schema_add_list(sb, NAMES[k], phys[k], rep,
                               k == K_LU8 ? ARD_PQ_REQUIRED : ARD_PQ_OPTIONAL, &lt, &id, NULL);
    } else {
        ard_pq_schema_add_column(sb, NAMES[k], phys[k], rep, &lt, k == K_FLBA ? 4 : 0, &id, NULL);
    }
    if (id < 0) {
        return -1;
    }
    int is_int = phys[k] == ARD_PQ_INT32 || phys[k] == ARD_PQ_INT64;
    if (k == K_ID) {
        ard_pq_schema_set_sorted(sb, id, 1, NULL);
    }
    /* mode 2 (bss) covers FLOAT/DOUBLE only: DuckDB 1.5 rejects BYTE_STREAM_SPLIT on integers and
     * FLBA (valid Parquet since format 2.11; our own round-trip tests cover it) */
    if (mode == 3 && is_int) {
        ard_pq_schema_set_encoding(sb, id, ARD_PQ_DELTA_BINARY_PACKED, NULL);
    }
    return 0;
}

static ard_status write_column(ard_pq_writer *w, int32_t col, const column *c, int64_t a,
                               int64_t n) {
    uint8_t *rv = bits(c->valid + a, n), *ev = bits(c->evalid, c->nelem);
    ard_status st;
    if (c->k == K_STR) {
        st = ard_pq_writer_write_binary(w, col, c->soffs + a, (const uint8_t *)c->sdata, rv, n,
                                        NULL);
    } else if (c->k == K_LSTR) {
        st = ard_pq_writer_write_list_binary(w, col, c->offs + a, c->soffs,
                                             (const uint8_t *)c->sdata, ev, rv, n, NULL);
    } else if (is_list(c->k)) {
        st = ard_pq_writer_write_list(w, col, c->offs + a, c->values, ev, rv, n, NULL);
    } else {
        st = ard_pq_writer_write_column(w, col, c->values + a * IW[c->k], rv, n, NULL);
    }
    free(rv);
    free(ev);
    return st;
}

static void json_value(FILE *f, const column *c, int64_t e) {
    const uint8_t *v = c->values + e * (IW[c->k] ? IW[c->k] : 1);
    int64_t i = 0;
    uint64_t u = 0;
    switch (c->k) {
    case K_BOOL:
        fprintf(f, v[0] ? "true" : "false");
        return;
    case K_STR:
    case K_LSTR:
    case K_FLBA: {
        const uint8_t *p = c->k == K_FLBA ? v : (const uint8_t *)c->sdata + c->soffs[e];
        int64_t n = c->k == K_FLBA ? 4 : c->soffs[e + 1] - c->soffs[e];
        fputc('"', f);
        for (int64_t j = 0; j < n; j++) {
            fprintf(f, "%02x", p[j]);
        }
        fputc('"', f);
        return;
    }
    case K_F32:
    case K_LF32:
        memcpy(&u, v, 4);
        fprintf(f, "\"%08" PRIx64 "\"", u);
        return;
    case K_F64:
    case K_LF64:
        memcpy(&u, v, 8);
        fprintf(f, "\"%016" PRIx64 "\"", u);
        return;
    case K_I96: {
        int64_t nanos;
        int32_t day;
        memcpy(&nanos, v, 8);
        memcpy(&day, v + 8, 4);
        fprintf(f, "\"%" PRId64 "\"",
                ((int64_t)day - 2440588) * (int64_t)86400000000 + nanos / 1000);
        return;
    }
    case K_I8:
        i = (int8_t)v[0];
        break;
    case K_U8:
    case K_LU8:
        i = v[0];
        break;
    case K_I16: {
        int16_t s;
        memcpy(&s, v, 2);
        i = s;
        break;
    }
    case K_U16: {
        uint16_t s;
        memcpy(&s, v, 2);
        i = s;
        break;
    }
    case K_U32: {
        uint32_t s;
        memcpy(&s, v, 4);
        i = s;
        break;
    }
    case K_I32:
    case K_LI32: {
        int32_t s;
        memcpy(&s, v, 4);
        i = s;
        break;
    }
    case K_U64:
        memcpy(&u, v, 8);
        fprintf(f, "\"%" PRIu64 "\"", u);
        return;
    default:
        memcpy(&i, v, 8);
        break;
    }
    fprintf(f, "\"%" PRId64 "\"", i);
}

static void write_expected(const char *path, column *cols) {
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"rows\":%d,\"rg_rows\":%d,\"columns\":[", NROWS, RG_ROWS);
    for (int k = 0; k < K_NUM; k++) {
        fprintf(f, "%s{\"name\":\"%s\",\"kind\":\"%s\",\"list\":%d}", k ? "," : "", NAMES[k],
                KINDS[k], is_list((kind)k));
    }
    fprintf(f, "]}\n");
    for (int r = 0; r < NROWS; r++) {
        fputc('[', f);
        for (int k = 0; k < K_NUM; k++) {
            column *c = &cols[k];
            fprintf(f, k ? "," : "");
            if (!c->valid[r]) {
                fprintf(f, "null");
                continue;
            }
            if (is_list((kind)k)) {
                fputc('[', f);
            }
            for (int64_t e = c->offs[r]; e < c->offs[r + 1]; e++) {
                fprintf(f, e > c->offs[r] ? "," : "");
                if (is_list((kind)k) && !c->evalid[e]) {
                    fprintf(f, "null");
                } else {
                    json_value(f, c, e);
                }
            }
            if (is_list((kind)k)) {
                fputc(']', f);
            }
        }
        fprintf(f, "]\n");
    }
    fclose(f);
}

static const struct {
    const char *name;
    ard_pq_codec codec;
} CODECS[] = {{"none", ARD_PQ_UNCOMPRESSED}, {"snappy", ARD_PQ_SNAPPY}, {"gzip", ARD_PQ_GZIP},
              {"lz4raw", ARD_PQ_LZ4_RAW},    {"zstd", ARD_PQ_ZSTD},     {"brotli", ARD_PQ_BROTLI}};
static const char *MODES[4] = {"dict", "plain", "bss", "delta"};

static int write_types(const char *dir, column *cols, int codec, int mode, int pv) {
    char path[1024];
    snprintf(path, sizeof path, "%s/types_%s_%s_v%d.parquet", dir, CODECS[codec].name, MODES[mode],
             pv);
    ard_pq_schema_builder *sb = NULL;
    ard_pq_schema_new(&sb, NULL);
    for (int k = 0; k < K_NUM; k++) {
        if (declare(sb, (kind)k, mode) != 0) {
            return -1;
        }
    }
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = CODECS[codec].codec;
    o.page_version = pv;
    o.rows_per_row_group = RG_ROWS;
    o.page_size_bytes = 200 + 300 * mode; /* several pages per chunk */
    o.disable_dictionary = mode == 1;
    o.byte_stream_split = mode == 2;
    ard_pq_writer *w = NULL;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_pq_writer_open(path, sb, &o, &w, &err);
    ard_pq_schema_free(sb);
    for (int64_t a = 0; st == ARD_OK && a < NROWS; a += 50) {
        int64_t n = NROWS - a < 50 ? NROWS - a : 50;
        for (int k = 0; st == ARD_OK && k < K_NUM; k++) {
            st = write_column(w, k, &cols[k], a, n);
        }
    }
    st = st == ARD_OK ? ard_pq_writer_close(w, &err) : (ard_pq_writer_abort(w), st);
    if (st != ARD_OK) {
        fprintf(stderr, "gen: %s: %s\n", path, err.msg);
        return -1;
    }
    snprintf(path, sizeof path, "%s/types_%s_%s_v%d.jsonl", dir, CODECS[codec].name, MODES[mode],
             pv);
    write_expected(path, cols);
    return 0;
}

/* Spectra: FLUX[r][j] = ((r*4096+j) % 1000) * 0.25 - 7, null when (r*7+j) % 97 == 0;
 * IVAR = FLUX without nulls; MASK[r][j] = (r+j) % 3; TARGETID = 1000 + 3r (the node script
 * recomputes the same formulas). */
static int write_spectra(const char *dir, int codec, int bss, int pv) {
    char path[1024];
    snprintf(path, sizeof path, "%s/spectra_%s_%s_v%d.parquet", dir, CODECS[codec].name,
             bss ? "bss" : "plain", pv);
    ard_pq_schema_builder *sb = NULL;
    ard_pq_logical u8 = {.kind = ARD_PQ_LT_INTEGER, .bit_width = 8};
    ard_pq_schema_new(&sb, NULL);
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, NULL);
    ard_pq_schema_set_sorted(sb, 0, 1, NULL);
    ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, NULL,
                           NULL);
    ard_pq_schema_add_list(sb, "IVAR", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, NULL,
                           NULL);
    ard_pq_schema_add_list(sb, "MASK", ARD_PQ_INT32, ARD_PQ_OPTIONAL, ARD_PQ_REQUIRED, &u8, NULL,
                           NULL);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = CODECS[codec].codec;
    o.byte_stream_split = bss;
    o.page_version = pv;
    o.rows_per_row_group = SPEC_RG;
    const char *keys[2] = {"ard.grid", "ard.version"};
    const char *vals[2] = {"{\"kind\":\"loglam\",\"start\":3600,\"stop\":9824,\"n\":4096}", "1"};
    o.num_kv = 2;
    o.kv_keys = keys;
    o.kv_values = vals;
    ard_pq_writer *w = NULL;
    ard_status st = ard_pq_writer_open(path, sb, &o, &w, NULL);
    ard_pq_schema_free(sb);
    int64_t *ids = malloc(SPEC_ROWS * sizeof *ids);
    float *flux = malloc((size_t)SPEC_ROWS * SPEC_W * sizeof *flux);
    uint8_t *mask = malloc((size_t)SPEC_ROWS * SPEC_W),
            *ev = calloc((size_t)SPEC_ROWS * SPEC_W / 8, 1);
    for (int64_t r = 0; r < SPEC_ROWS; r++) {
        ids[r] = 1000 + 3 * r;
        for (int64_t j = 0; j < SPEC_W; j++) {
            int64_t i = r * SPEC_W + j;
            flux[i] = (float)((r * SPEC_W + j) % 1000) * 0.25f - 7.0f;
            mask[i] = (uint8_t)((r + j) % 3);
            ev[i / 8] |= (uint8_t)(((r * 7 + j) % 97 != 0) << (i % 8));
        }
    }
    for (int64_t a = 0; st == ARD_OK && a < SPEC_ROWS; a += 100) {
        st = ard_pq_writer_write_column(w, 0, ids + a, NULL, 100, NULL);
        st = st ? st
                : ard_pq_writer_write_list_matrix(w, 1, flux + a * SPEC_W, 100, SPEC_W,
                                                  ev + a * SPEC_W / 8, NULL, NULL);
        st = st ? st
                : ard_pq_writer_write_list_matrix(w, 2, flux + a * SPEC_W, 100, SPEC_W, NULL, NULL,
                                                  NULL);
        st = st ? st
                : ard_pq_writer_write_list_matrix(w, 3, mask + a * SPEC_W, 100, SPEC_W, NULL, NULL,
                                                  NULL);
    }
    st = st == ARD_OK ? ard_pq_writer_close(w, NULL) : (ard_pq_writer_abort(w), st);
    free(ids);
    free(flux);
    free(mask);
    free(ev);
    return st == ARD_OK ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        return 0;
    }
    rng r = {20261124};
    column cols[K_NUM];
    for (int k = 0; k < K_NUM; k++) {
        gen_column(&r, &cols[k], (kind)k);
    }
    int rc = 0;
    for (int c = 0; c < 6 && rc == 0; c++) {
        for (int m = 0; m < 4 && rc == 0; m++) {
            for (int pv = 1; pv <= 2 && rc == 0; pv++) {
                rc = write_types(argv[1], cols, c, m, pv);
            }
        }
    }
    rc = rc ? rc : write_spectra(argv[1], 1, 0, 1);
    rc = rc ? rc : write_spectra(argv[1], 4, 1, 2);
    rc = rc ? rc : write_spectra(argv[1], 0, 1, 1);
    for (int k = 0; k < K_NUM; k++) {
        free(cols[k].values);
        free(cols[k].evalid);
        free(cols[k].soffs);
        free(cols[k].sdata);
    }
    return rc ? 1 : 0;
}
