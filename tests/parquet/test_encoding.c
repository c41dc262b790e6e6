/* Tests for the level/value encodings (bit unpacking, RLE hybrid, BIT_PACKED, DELTA_*,
 * BYTE_STREAM_SPLIT) and the compression codecs: round trips, spec examples and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

/* ---- helpers ---- */

typedef struct enc_rng {
    uint64_t s;
} enc_rng;

static uint64_t enc_next(enc_rng *r) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static void *enc_alloc(size_t n) {
    void *p = ard_malloc(n);
    assert_non_null(p);
    return p;
}

/* Naive LSB-first reader: value i at bits [i*w, (i+1)*w). */
static uint64_t enc_ref_get(const uint8_t *in, int w, size_t i) {
    uint64_t v = 0;
    for (int b = 0; b < w; b++) {
        size_t bit = i * (size_t)w + (size_t)b;
        v |= (uint64_t)((in[bit / 8] >> (bit % 8)) & 1) << b;
    }
    return v;
}

static ard_status enc_rle_levels(const uint8_t *in, size_t len, int w, int16_t *out, int64_t n) {
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard__rle_decode_levels(in, len, w, out, n, &err);
    assert_true(st == ARD_OK || err.msg[0] != '\0');
    return st;
}

static ard_status enc_rle_u32(const uint8_t *in, size_t len, int w, uint32_t *out, int64_t n) {
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard__rle_decode_u32(in, len, w, out, n, &err);
    assert_true(st == ARD_OK || err.msg[0] != '\0');
    return st;
}

/* ---- bit unpacking ---- */

static void test_bitunpack_all_widths(void **state) {
    (void)state;
    enc_rng rng = {0x9e3779b97f4a7c15ull};
    const size_t counts[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 257, 1001};
    for (int w = 0; w <= 32; w++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            size_t n = counts[c], bytes = (n * (size_t)w + 7) / 8;
            uint8_t *in = enc_alloc(bytes); /* exact size: ASan catches overreads */
            for (size_t i = 0; i < bytes; i++) {
                in[i] = (uint8_t)enc_next(&rng);
            }
            uint32_t *out = enc_alloc((n + 1) * sizeof *out);
            out[n] = 0xdeadbeef;
            ard__bitunpack32(in, w, out, n);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(out[i], enc_ref_get(in, w, i));
            }
            assert_int_equal(out[n], 0xdeadbeef);
            ard_free(out);
            ard_free(in);
        }
    }
}

static void test_bit_width(void **state) {
    (void)state;
    assert_int_equal(ard__bit_width(0), 0);
    assert_int_equal(ard__bit_width(1), 1);
    assert_int_equal(ard__bit_width(2), 2);
    assert_int_equal(ard__bit_width(255), 8);
    assert_int_equal(ard__bit_width(256), 9);
    assert_int_equal(ard__bit_width(UINT32_MAX), 32);
    assert_int_equal(ard__bit_width(UINT64_MAX), 64);
}

/* ---- RLE / bit-packed hybrid ---- */

static void enc_fill_runs(enc_rng *rng, uint32_t *v, int64_t n, int w) {
    uint64_t mask = w == 0 ? 0 : (w == 32 ? UINT32_MAX : ((uint64_t)1 << w) - 1);
    for (int64_t i = 0; i < n;) {
        uint32_t value = (uint32_t)(enc_next(rng) & mask);
        int64_t run = (enc_next(rng) % 4 == 0) ? (int64_t)(enc_next(rng) % 40) + 1 : 1;
        for (int64_t k = 0; k < run && i < n; k++, i++) {
            v[i] = value;
        }
    }
}

static void test_rle_roundtrip_u32(void **state) {
    (void)state;
    enc_rng rng = {12345};
    const int64_t counts[] = {0, 1, 5, 8, 9, 64, 100, 1000, 4099};
    for (int w = 0; w <= 32; w++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            int64_t n = counts[c];
            uint32_t *v = enc_alloc((size_t)n * 4 + 4), *back = enc_alloc((size_t)n * 4 + 4);
            enc_fill_runs(&rng, v, n, w);
            ard_buf b;
            ard_buf_init(&b);
            ard__rle_encode_u32(v, n, w, &b);
            assert_false(b.failed);
            assert_int_equal(enc_rle_u32(b.data, b.len, w, back, n), ARD_OK);
            assert_memory_equal(v, back, (size_t)n * 4);
            ard_buf_reset(&b);
            ard_free(v);
            ard_free(back);
        }
    }
}

static void test_rle_roundtrip_levels(void **state) {
    (void)state;
    enc_rng rng = {777};
    for (int w = 0; w <= 16; w++) {
        int64_t n = 5000 + w;
        uint32_t *tmp = enc_alloc((size_t)n * 4);
        int16_t *lv = enc_alloc((size_t)n * 2), *back = enc_alloc((size_t)n * 2);
        enc_fill_runs(&rng, tmp, n, w < 15 ? w : 15);
        for (int64_t i = 0; i < n; i++) {
            lv[i] = (int16_t)tmp[i];
        }
        ard_buf b;
        ard_buf_init(&b);
        ard__rle_encode_levels(lv, n, w, &b);
        assert_int_equal(enc_rle_levels(b.data, b.len, w, back, n), ARD_OK);
        assert_memory_equal(lv, back, (size_t)n * 2);
        ard_buf_reset(&b);
        ard_free(tmp);
        ard_free(lv);
        ard_free(back);
    }
}

static void test_rle_constant_runs(void **state) {
    (void)state;
    /* 4096 def levels of a full list: one RLE run. */
    int16_t lv[4096], back[4096];
    for (int i = 0; i < 4096; i++) {
        lv[i] = 3;
    }
    ard_buf b;
    ard_buf_init(&b);
    ard__rle_encode_levels(lv, 4096, 2, &b);
    assert_int_equal(b.len, 3); /* varint(4096 << 1) = 2 bytes + 1 value byte */
    assert_int_equal(enc_rle_levels(b.data, b.len, 2, back, 4096), ARD_OK);
    assert_memory_equal(lv, back, sizeof lv);
    ard_buf_reset(&b);
    /* 5 distinct then a run of 20: the run donates 3 values to complete the bit-packed group. */
    uint32_t v[25], got[25];
    for (int i = 0; i < 25; i++) {
        v[i] = i < 5 ? (uint32_t)i : 7;
    }
    ard_buf_init(&b);
    ard__rle_encode_u32(v, 25, 3, &b);
    const uint8_t expect[] = {0x03, 0x88, 0xc6, 0xff, 0x22, 0x07};
    assert_int_equal(b.len, sizeof expect);
    assert_memory_equal(b.data, expect, sizeof expect);
    assert_int_equal(enc_rle_u32(b.data, b.len, 3, got, 25), ARD_OK);
    assert_memory_equal(v, got, sizeof v);
    ard_buf_reset(&b);
}

static void test_rle_spec_example(void **state) {
    (void)state;
    /* Values 0..7 at width 3, one bit-packed group: 10001000 11000110 11111010. */
    const uint8_t packed[] = {0x03, 0x88, 0xc6, 0xfa};
    uint32_t out[8];
    assert_int_equal(enc_rle_u32(packed, sizeof packed, 3, out, 8), ARD_OK);
    for (uint32_t i = 0; i < 8; i++) {
        assert_int_equal(out[i], i);
    }
    /* Padding values past count are discarded. */
    assert_int_equal(enc_rle_u32(packed, sizeof packed, 3, out, 5), ARD_OK);
    assert_int_equal(out[4], 4);
    /* RLE run: 300 times value 0x1234 at width 13 (2 value bytes). */
    const uint8_t rle[] = {0xd8, 0x04, 0x34, 0x12};
    uint32_t many[300];
    assert_int_equal(enc_rle_u32(rle, sizeof rle, 13, many, 300), ARD_OK);
    assert_int_equal(many[0], 0x1234);
    assert_int_equal(many[299], 0x1234);
}

static void test_rle_adversarial(void **state) {
    (void)state;
    uint32_t out[64];
    int16_t lv[64];
    /* bit width 0: all zeros, reads nothing. */
    out[3] = 9;
    assert_int_equal(enc_rle_u32(NULL, 0, 0, out, 64), ARD_OK);
    assert_int_equal(out[3], 0);
    /* Huge RLE run header, only 10 wanted: stop at count. */
    const uint8_t huge[] = {0xfe, 0xff, 0xff, 0xff, 0x0f, 0x01};
    assert_int_equal(enc_rle_levels(huge, sizeof huge, 1, lv, 10), ARD_OK);
    assert_int_equal(lv[9], 1);
    /* Header varint truncated / too long / above 32 bits. */
    const uint8_t trunc[] = {0x80};
    assert_int_equal(enc_rle_u32(trunc, sizeof trunc, 3, out, 1), ARD_ECORRUPT);
    const uint8_t too_long[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
    assert_int_equal(enc_rle_u32(too_long, sizeof too_long, 3, out, 1), ARD_ECORRUPT);
    const uint8_t above[] = {0xfe, 0xff, 0xff, 0xff, 0x7f, 0x01};
    assert_int_equal(enc_rle_u32(above, sizeof above, 3, out, 1), ARD_ECORRUPT);
    /* RLE run of length 0 would loop forever. */
    const uint8_t zero_run[] = {0x00, 0x01};
    assert_int_equal(enc_rle_u32(zero_run, sizeof zero_run, 3, out, 1), ARD_ECORRUPT);
    /* RLE value bytes missing (width 16 needs 2). */
    const uint8_t short_value[] = {0x04, 0x01};
    assert_int_equal(enc_rle_u32(short_value, sizeof short_value, 16, out, 2), ARD_ECORRUPT);
    /* Bit-packed run declaring 1000 groups with 3 bytes present: enough for 8 values, not 9. */
    const uint8_t packed[] = {0xd1, 0x0f, 0x88, 0xc6, 0xfa};
    assert_int_equal(enc_rle_u32(packed, sizeof packed, 3, out, 8), ARD_OK);
    assert_int_equal(out[7], 7);
    assert_int_equal(enc_rle_u32(packed, sizeof packed, 3, out, 9), ARD_ECORRUPT);
    /* Data ends before count. */
    const uint8_t one_run[] = {0x0a, 0x01};
    assert_int_equal(enc_rle_u32(one_run, sizeof one_run, 1, out, 6), ARD_ECORRUPT);
    assert_int_equal(enc_rle_u32(one_run, 0, 1, out, 1), ARD_ECORRUPT);
    /* Bad widths. */
    assert_int_equal(enc_rle_u32(one_run, sizeof one_run, 33, out, 1), ARD_ECORRUPT);
    assert_int_equal(enc_rle_levels(one_run, sizeof one_run, 17, lv, 1), ARD_ECORRUPT);
    assert_int_equal(enc_rle_u32(one_run, sizeof one_run, 1, out, -1), ARD_EINVAL);
}

static void test_bitpacked_msb(void **state) {
    (void)state;
    /* Spec example: 0..7 at width 3 MSB-first is 00000101 00111001 01110111. */
    const uint8_t in[] = {0x05, 0x39, 0x77};
    int16_t lv[8];
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard__bitpacked_msb_decode_levels(in, 3, 3, lv, 8, &err), ARD_OK);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(lv[i], i);
    }
    assert_int_equal(ard__bitpacked_msb_decode_levels(in, 2, 3, lv, 8, &err), ARD_ECORRUPT);
    assert_int_equal(ard__bitpacked_msb_decode_levels(NULL, 0, 0, lv, 8, NULL), ARD_OK);
    assert_int_equal(lv[7], 0);
}

/* ---- DELTA_BINARY_PACKED ---- */

static void enc_delta_rt64(const int64_t *v, int64_t n) {
    ard_buf b;
    ard_buf_init(&b);
    ard__delta_encode_i64(v, n, &b);
    assert_false(b.failed);
    int64_t *back = enc_alloc((size_t)n * 8 + 8), total = -1;
    size_t consumed = 0;
    assert_int_equal(ard__delta_decode_i64(b.data, b.len, back, n, &consumed, NULL), ARD_OK);
    assert_int_equal(consumed, b.len);
    assert_memory_equal(v, back, (size_t)n * 8);
    assert_int_equal(ard__delta_peek_count(b.data, b.len, &total, NULL), ARD_OK);
    assert_int_equal(total, n);
    if (n > 0) { /* every truncation is detected */
        assert_int_equal(ard__delta_decode_i64(b.data, b.len - 1, back, n, &consumed, NULL),
                         ARD_ECORRUPT);
    }
    assert_int_equal(ard__delta_decode_i64(b.data, b.len, back, n + 1, &consumed, NULL),
                     ARD_ECORRUPT);
    ard_free(back);
    ard_buf_reset(&b);
}

static void enc_delta_rt32(const int32_t *v, int64_t n) {
    ard_buf b;
    ard_buf_init(&b);
    ard__delta_encode_i32(v, n, &b);
    int32_t *back = enc_alloc((size_t)n * 4 + 4);
    size_t consumed = 0;
    assert_int_equal(ard__delta_decode_i32(b.data, b.len, back, n, &consumed, NULL), ARD_OK);
    assert_int_equal(consumed, b.len);
    assert_memory_equal(v, back, (size_t)n * 4);
    ard_free(back);
    ard_buf_reset(&b);
}

static void test_delta_roundtrip(void **state) {
    (void)state;
    enc_rng rng = {4242};
    const int64_t counts[] = {0, 1, 2, 31, 32, 33, 127, 128, 129, 200, 257, 1000};
    int64_t v64[1000];
    int32_t v32[1000];
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int64_t n = counts[c];
        for (int kind = 0; kind < 4; kind++) {
            for (int64_t i = 0; i < n; i++) {
                uint64_t r = enc_next(&rng);
                const int64_t ext64[] = {INT64_MIN, INT64_MAX, 0, -1};
                const int32_t ext32[] = {INT32_MIN, INT32_MAX, 0, -1};
                v64[i] = kind == 0   ? (int64_t)r
                         : kind == 1 ? ext64[r % 4]
                         : kind == 2 ? 1000 + i * 3 - (int64_t)(r % 5)
                                     : (int64_t)(r % 1000) - 500;
                v32[i] = kind == 0   ? (int32_t)(uint32_t)r
                         : kind == 1 ? ext32[r % 4]
                                     : (int32_t)v64[i];
            }
            enc_delta_rt64(v64, n);
            enc_delta_rt32(v32, n);
        }
    }
    const int64_t wrap64[] = {INT64_MAX, INT64_MIN, INT64_MAX, INT64_MIN, 0, INT64_MIN};
    enc_delta_rt64(wrap64, 6);
    const int32_t wrap32[] = {INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN, 0, INT32_MIN};
    enc_delta_rt32(wrap32, 6);
}

static void test_delta_spec_examples(void **state) {
    (void)state;
    /* 1,2,3,4,5: min delta 1, all widths 0, no miniblock data. */
    const uint8_t ex1[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
    int32_t v[8];
    size_t consumed;
    assert_int_equal(ard__delta_decode_i32(ex1, sizeof ex1, v, 5, &consumed, NULL), ARD_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(v[i], i + 1);
    }
    assert_int_equal(consumed, sizeof ex1);
    /* 7,5,3,1,2,3,4,5: min delta -2, packed 0,0,0,3,3,3,3 at width 2; 3 unused miniblocks with
     * garbage widths and no data. */
    const uint8_t ex2[] = {0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 0x02, 0xff, 0xee, 0x99,
                           0xc0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xab};
    const int32_t want[] = {7, 5, 3, 1, 2, 3, 4, 5};
    assert_int_equal(ard__delta_decode_i32(ex2, sizeof ex2, v, 8, &consumed, NULL), ARD_OK);
    assert_memory_equal(v, want, sizeof want);
    assert_int_equal(consumed, sizeof ex2 - 1);
    /* Fewer values than the header holds. */
    assert_int_equal(ard__delta_decode_i32(ex2, sizeof ex2, v, 1, &consumed, NULL), ARD_OK);
    assert_int_equal(v[0], 7);
    assert_int_equal(consumed, 5);
    int64_t total;
    assert_int_equal(ard__delta_peek_count(ex2, sizeof ex2, &total, NULL), ARD_OK);
    assert_int_equal(total, 8);
}

static void test_delta_corrupt(void **state) {
    (void)state;
    int32_t v[8];
    int64_t v64[8];
    size_t consumed;
    const uint8_t bad_block[] = {0x64, 0x04, 0x01, 0x00}; /* block size 100 */
    assert_int_equal(ard__delta_decode_i32(bad_block, sizeof bad_block, v, 1, &consumed, NULL),
                     ARD_ECORRUPT);
    const uint8_t bad_minis[] = {0x80, 0x01, 0x03, 0x01, 0x00}; /* 128 / 3 */
    assert_int_equal(ard__delta_decode_i32(bad_minis, sizeof bad_minis, v, 1, &consumed, NULL),
                     ARD_ECORRUPT);
    const uint8_t wide[] = {0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 0x21, 0, 0, 0};
    assert_int_equal(ard__delta_decode_i32(wide, sizeof wide, v, 2, &consumed, NULL),
                     ARD_ECORRUPT); /* width 33 for INT32 */
    const uint8_t wide64[] = {0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 0x41, 0, 0, 0};
    assert_int_equal(ard__delta_decode_i64(wide64, sizeof wide64, v64, 2, &consumed, NULL),
                     ARD_ECORRUPT); /* width 65 */
    const uint8_t short_mini[] = {0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 0x01, 0, 0, 0, 0xff};
    assert_int_equal(ard__delta_decode_i32(short_mini, sizeof short_mini, v, 2, &consumed, NULL),
                     ARD_ECORRUPT); /* width 1 needs 4 bytes, 1 present */
    const uint8_t long_varint[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(
        ard__delta_decode_i64(long_varint, sizeof long_varint, v64, 1, &consumed, NULL),
        ARD_ECORRUPT);
    assert_int_equal(ard__delta_decode_i32(bad_block, 2, v, 1, &consumed, NULL), ARD_ECORRUPT);
    int64_t total;
    assert_int_equal(ard__delta_peek_count(bad_block, 1, &total, NULL), ARD_ECORRUPT);
}

/* ---- DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY ---- */

static const char *const enc_words[] = {
    "",     "a",       "apple", "applesauce",       "apply", "banana",
    "band", "bandana", "",      "zzzzzzzzzzzzzzzz", "zz",    "zz"};
#define ENC_NWORDS ((int64_t)(sizeof enc_words / sizeof enc_words[0]))

static void enc_build_dlba(ard_buf *b, const char *const *w, int64_t n) {
    int32_t lens[64] = {0};
    for (int64_t i = 0; i < n; i++) {
        lens[i] = (int32_t)strlen(w[i]);
    }
    ard__delta_encode_i32(lens, n, b);
    for (int64_t i = 0; i < n; i++) {
        ard_buf_append(b, w[i], strlen(w[i]));
    }
}

static void test_delta_length(void **state) {
    (void)state;
    ard_buf b;
    ard_buf_init(&b);
    enc_build_dlba(&b, enc_words, ENC_NWORDS);
    int64_t off[ENC_NWORDS + 1];
    const uint8_t *data = NULL;
    assert_int_equal(ard__delta_length_decode(b.data, b.len, ENC_NWORDS, off, &data, NULL), ARD_OK);
    for (int64_t i = 0; i < ENC_NWORDS; i++) {
        size_t len = strlen(enc_words[i]);
        assert_int_equal(off[i + 1] - off[i], len);
        assert_memory_equal(data + off[i], enc_words[i], len);
    }
    assert_ptr_equal(data + off[ENC_NWORDS], b.data + b.len);
    /* Bytes missing at the end. */
    assert_int_equal(ard__delta_length_decode(b.data, b.len - 1, ENC_NWORDS, off, &data, NULL),
                     ARD_ECORRUPT);
    ard_buf_reset(&b);
    /* A negative length. */
    const int32_t neg[] = {3, -1, 2};
    ard_buf_init(&b);
    ard__delta_encode_i32(neg, 3, &b);
    ard_buf_append(&b, "abcdefgh", 8);
    assert_int_equal(ard__delta_length_decode(b.data, b.len, 3, off, &data, NULL), ARD_ECORRUPT);
    ard_buf_reset(&b);
    assert_int_equal(ard__delta_length_decode(NULL, 0, 0, off, &data, NULL), ARD_OK);
    assert_int_equal(off[0], 0);
}

static size_t enc_common(const char *a, const char *b) {
    size_t n = 0;
    while (a[n] && a[n] == b[n]) {
        n++;
    }
    return n;
}

/* Prefix lengths, then the suffixes as DELTA_LENGTH_BYTE_ARRAY. */
static void enc_build_dba(ard_buf *b, const int32_t *prefix, const char *const *w, int64_t n) {
    const char *suffix[64];
    ard__delta_encode_i32(prefix, n, b);
    for (int64_t i = 0; i < n; i++) {
        suffix[i] = w[i] + prefix[i];
    }
    enc_build_dlba(b, suffix, n);
}

static void test_delta_byte_array(void **state) {
    (void)state;
    int32_t prefix[ENC_NWORDS];
    for (int64_t i = 0; i < ENC_NWORDS; i++) {
        prefix[i] = i == 0 ? 0 : (int32_t)enc_common(enc_words[i - 1], enc_words[i]);
    }
    ard_buf b, out;
    ard_buf_init(&b);
    ard_buf_init(&out);
    enc_build_dba(&b, prefix, enc_words, ENC_NWORDS);
    int64_t off[ENC_NWORDS + 1];
    assert_int_equal(
        ard__delta_byte_array_decode(b.data, b.len, ENC_NWORDS, off, &out, 1 << 20, NULL), ARD_OK);
    for (int64_t i = 0; i < ENC_NWORDS; i++) {
        size_t len = strlen(enc_words[i]);
        assert_int_equal(off[i + 1] - off[i], len);
        assert_memory_equal(out.data + off[i], enc_words[i], len);
    }
    /* Output cap. */
    out.len = 0;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard__delta_byte_array_decode(b.data, b.len, ENC_NWORDS, off, &out, 20, &err),
                     ARD_ELIMIT);
    ard_buf_reset(&b);
    /* Prefix longer than the previous value, and a nonzero first prefix. */
    const char *const two[] = {"ab", "abc"};
    const int32_t too_long[] = {0, 3}, first_nonzero[] = {1, 0};
    ard_buf_init(&b);
    ard__delta_encode_i32(too_long, 2, &b);
    enc_build_dlba(&b, (const char *const[]){"ab", ""}, 2);
    out.len = 0;
    assert_int_equal(ard__delta_byte_array_decode(b.data, b.len, 2, off, &out, 1 << 20, NULL),
                     ARD_ECORRUPT);
    ard_buf_reset(&b);
    ard_buf_init(&b);
    ard__delta_encode_i32(first_nonzero, 2, &b);
    enc_build_dlba(&b, two, 2);
    assert_int_equal(ard__delta_byte_array_decode(b.data, b.len, 2, off, &out, 1 << 20, NULL),
                     ARD_ECORRUPT);
    /* Truncated suffix stream. */
    assert_int_equal(ard__delta_byte_array_decode(b.data, 12, 2, off, &out, 1 << 20, NULL),
                     ARD_ECORRUPT);
    ard_buf_reset(&b);
    ard_buf_reset(&out);
}

/* ---- BYTE_STREAM_SPLIT ---- */

static void test_bss_roundtrip(void **state) {
    (void)state;
    enc_rng rng = {99};
    const int64_t counts[] = {0, 1, 7, 100};
    for (int w = 1; w <= 16; w++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            int64_t n = counts[c];
            size_t bytes = (size_t)n * (size_t)w;
            uint8_t *v = enc_alloc(bytes), *back = enc_alloc(bytes);
            for (size_t i = 0; i < bytes; i++) {
                v[i] = (uint8_t)enc_next(&rng);
            }
            ard_buf b;
            ard_buf_init(&b);
            ard__bss_encode(v, w, n, &b);
            assert_int_equal(b.len, bytes);
            if (n > 1) {
                assert_int_equal(b.data[1], v[w]); /* byte 0 of value 1 */
            }
            assert_int_equal(ard__bss_decode(b.data, b.len, w, n, back, NULL), ARD_OK);
            assert_memory_equal(v, back, bytes);
            if (n > 0) {
                assert_int_equal(ard__bss_decode(b.data, b.len - 1, w, n, back, NULL),
                                 ARD_ECORRUPT);
            }
            ard_buf_reset(&b);
            ard_free(v);
            ard_free(back);
        }
    }
    uint8_t one;
    assert_int_equal(ard__bss_decode(&one, 1, 0, 1, &one, NULL), ARD_EINVAL);
}

/* ---- compression ---- */

static const int enc_codecs[] = {ARD_PQ_UNCOMPRESSED, ARD_PQ_SNAPPY, ARD_PQ_GZIP,   ARD_PQ_BROTLI,
                                 ARD_PQ_LZ4,          ARD_PQ_ZSTD,   ARD_PQ_LZ4_RAW};
#define ENC_NCODECS (sizeof enc_codecs / sizeof enc_codecs[0])

static void enc_codec_rt(int codec, const uint8_t *data, size_t n) {
    ard_buf c;
    ard_buf_init(&c);
    assert_int_equal(ard__pq_compress(codec, 0, data, n, &c, NULL), ARD_OK);
    uint8_t *back = enc_alloc(n + 1);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard__pq_decompress(codec, c.data, c.len, back, n, "t", &err), ARD_OK);
    assert_memory_equal(back, data, n);
    ard_error_init(&err);
    assert_int_equal(ard__pq_decompress(codec, c.data, c.len, back, n + 1, "t", &err),
                     ARD_ECORRUPT);
    assert_non_null(strstr(err.msg, "t: "));
    if (n > 0) {
        assert_int_equal(ard__pq_decompress(codec, c.data, c.len, back, n - 1, "t", NULL),
                         ARD_ECORRUPT);
    }
    ard_free(back);
    ard_buf_reset(&c);
}

static void test_codec_roundtrip(void **state) {
    (void)state;
    enc_rng rng = {31337};
    size_t n = 300000;
    uint8_t *text = enc_alloc(n), *noise = enc_alloc(n);
    for (size_t i = 0; i < n; i++) {
        text[i] = (uint8_t)("spectrum wavelength flux "[i % 25] + (i % 1000 == 0));
        noise[i] = (uint8_t)enc_next(&rng);
    }
    for (size_t k = 0; k < ENC_NCODECS; k++) {
        enc_codec_rt(enc_codecs[k], text, n);
        enc_codec_rt(enc_codecs[k], noise, 1000);
        enc_codec_rt(enc_codecs[k], text, 1);
        enc_codec_rt(enc_codecs[k], text, 0);
    }
    ard_free(text);
    ard_free(noise);
}

static void test_codec_bad_input(void **state) {
    (void)state;
    enc_rng rng = {5};
    uint8_t garbage[512], out[4096];
    for (size_t i = 0; i < sizeof garbage; i++) {
        garbage[i] = (uint8_t)enc_next(&rng);
    }
    for (size_t k = 1; k < ENC_NCODECS; k++) {
        ard_error err;
        ard_error_init(&err);
        ard_status st = ard__pq_decompress(enc_codecs[k], garbage, sizeof garbage, out, sizeof out,
                                           "garbage", &err);
        assert_int_equal(st, ARD_ECORRUPT);
        assert_true(err.msg[0] != '\0');
        assert_int_equal(ard__pq_decompress(enc_codecs[k], garbage, 0, out, 10, "x", NULL),
                         ARD_ECORRUPT);
    }
    assert_int_equal(ard__pq_decompress(ARD_PQ_LZO, garbage, 10, out, 10, "x", NULL), ARD_ENOTSUP);
    assert_int_equal(ard__pq_decompress(99, garbage, 10, out, 10, "x", NULL), ARD_ENOTSUP);
    ard_buf b;
    ard_buf_init(&b);
    assert_int_equal(ard__pq_compress(ARD_PQ_LZO, 0, garbage, 10, &b, NULL), ARD_ENOTSUP);
    assert_int_equal(ard__pq_compress(-1, 0, garbage, 10, &b, NULL), ARD_ENOTSUP);
    ard_buf_reset(&b);
}

static void test_gzip_members(void **state) {
    (void)state;
    const char *a = "first member, ", *bb = "second member";
    ard_buf c;
    ard_buf_init(&c);
    assert_int_equal(ard__pq_compress(ARD_PQ_GZIP, 9, (const uint8_t *)a, strlen(a), &c, NULL),
                     ARD_OK);
    assert_int_equal(ard__pq_compress(ARD_PQ_GZIP, 1, (const uint8_t *)bb, strlen(bb), &c, NULL),
                     ARD_OK);
    char out[64];
    size_t n = strlen(a) + strlen(bb);
    assert_int_equal(ard__pq_decompress(ARD_PQ_GZIP, c.data, c.len, (uint8_t *)out, n, "g", NULL),
                     ARD_OK);
    assert_memory_equal(out, "first member, second member", n);
    assert_int_equal(
        ard__pq_decompress(ARD_PQ_GZIP, c.data, c.len - 1, (uint8_t *)out, n, "g", NULL),
        ARD_ECORRUPT);
    ard_buf_reset(&c);
}

static void enc_put_be32(ard_buf *b, uint32_t v) {
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    ard_buf_append(b, p, 4);
}

static void enc_raw_block(ard_buf *frame, const char *s) {
    ard_buf blk;
    ard_buf_init(&blk);
    assert_int_equal(ard__pq_compress(ARD_PQ_LZ4_RAW, 0, (const uint8_t *)s, strlen(s), &blk, NULL),
                     ARD_OK);
    enc_put_be32(frame, (uint32_t)blk.len);
    ard_buf_append(frame, blk.data, blk.len);
    ard_buf_reset(&blk);
}

static void test_lz4_hadoop(void **state) {
    (void)state;
    /* Frame 1: raw 10, one block; frame 2: raw 12, two blocks of 5 and 7. */
    ard_buf f;
    ard_buf_init(&f);
    enc_put_be32(&f, 10);
    enc_raw_block(&f, "0123456789");
    enc_put_be32(&f, 12);
    enc_raw_block(&f, "abcde");
    enc_raw_block(&f, "fghijkl");
    char out[32];
    assert_int_equal(ard__pq_decompress(ARD_PQ_LZ4, f.data, f.len, (uint8_t *)out, 22, "h", NULL),
                     ARD_OK);
    assert_memory_equal(out, "0123456789abcdefghijkl", 22);
    assert_int_equal(ard__pq_decompress(ARD_PQ_LZ4, f.data, f.len, (uint8_t *)out, 23, "h", NULL),
                     ARD_ECORRUPT);
    ard_buf_reset(&f);
    /* A bare block under codec 5 (old writers): the fallback. */
    ard_buf_init(&f);
    assert_int_equal(
        ard__pq_compress(ARD_PQ_LZ4_RAW, 0, (const uint8_t *)"hello hello hello", 17, &f, NULL),
        ARD_OK);
    assert_int_equal(ard__pq_decompress(ARD_PQ_LZ4, f.data, f.len, (uint8_t *)out, 17, "h", NULL),
                     ARD_OK);
    assert_memory_equal(out, "hello hello hello", 17);
    ard_buf_reset(&f);
}

static void test_zstd_empty_and_crc(void **state) {
    (void)state;
    ard_buf c;
    ard_buf_init(&c);
    assert_int_equal(ard__pq_compress(ARD_PQ_ZSTD, 0, NULL, 0, &c, NULL), ARD_OK);
    assert_true(c.len > 0);
    assert_int_equal(ard__pq_decompress(ARD_PQ_ZSTD, c.data, c.len, NULL, 0, "z", NULL), ARD_OK);
    ard_buf_reset(&c);
    assert_int_equal(ard__crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    assert_int_equal(ard__crc32(NULL, 0), 0);
}

/* CRC-32 bit by bit (reflected polynomial 0xEDB88320), the definition the fast paths must meet. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        }
    }
    return ~c;
}

/* ard__crc32 (carry-less multiplication on capable x86-64 CPUs, zlib otherwise) against the bitwise
 * definition: the standard check value, every length around the 16/64-byte folding boundaries at
 * several alignments, and a page-sized buffer. */
static void test_crc32_paths(void **state) {
    (void)state;
    assert_int_equal(ard__crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    size_t big = 3 * 65536 + 13;
    uint8_t *buf = malloc(big + 16);
    assert_non_null(buf);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < big + 16; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)(x >> 24);
    }
    for (size_t len = 0; len <= 600; len++) {
        for (size_t off = 0; off < 16; off += 5) {
            assert_int_equal(ard__crc32(buf + off, len), crc32_bitwise(buf + off, len));
        }
    }
    assert_int_equal(ard__crc32(buf + 3, big), crc32_bitwise(buf + 3, big));
#if ARD_CRC32_CLMUL
    /* each kernel on its own, the 512-bit one where the CPU has it: every length of whole 16-byte
     * blocks around its 64- and 256-byte steps, from several alignments and a running CRC */
    int wide = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq");
    for (size_t len = 64; len <= 1600; len += 16) {
        for (size_t off = 0; off < 64; off += 21) {
            uint32_t want = crc32_bitwise(buf + off, len + 5);
            uint32_t head = crc32_bitwise(buf + off, 5);
            assert_int_equal(ard__crc32_clmul(head, buf + off + 5, len), want);
            if (wide && len >= 256) {
                assert_int_equal(ard__crc32_vpclmul(head, buf + off + 5, len), want);
            }
        }
    }
#endif
    memset(buf, 0, 256);
    assert_int_equal(ard__crc32(buf, 256), crc32_bitwise(buf, 256));
    free(buf);
}

/* The one varint codec: round trips at every length, and the exact limits of 32- and 64-bit. */
static void test_varint(void **state) {
    (void)state;
    const uint64_t values[] = {
        0, 1, 127, 128, 16383, 16384, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        ard_buf b;
        ard_buf_init(&b);
        ard__varint_put(&b, values[i]);
        const uint8_t *p = b.data, *end = b.data + b.len;
        uint64_t v = 0;
        assert_int_equal(ard__varint_get(&p, end, 10, &v), ARD__VARINT_OK);
        assert_true(v == values[i]);
        assert_ptr_equal(p, end);
        p = b.data;
        int want = values[i] > UINT32_MAX
                       ? (b.len > 5 ? ARD__VARINT_TOO_LONG : ARD__VARINT_TOO_LARGE)
                       : ARD__VARINT_OK;
        assert_int_equal(ard__varint_get(&p, end, 5, &v), want);
        p = b.data;
        assert_int_equal(ard__varint_get(&p, end - 1, 10, &v), ARD__VARINT_TRUNCATED);
        assert_ptr_equal(p, b.data); /* not advanced on failure */
        ard_buf_reset(&b);
    }
    /* 2^64 (10th byte 0x02) and an 11-byte encoding */
    const uint8_t over[10] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
    const uint8_t *p = over;
    uint64_t v = 0;
    assert_int_equal(ard__varint_get(&p, over + 10, 10, &v), ARD__VARINT_TOO_LARGE);
    const uint8_t longer[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00};
    p = longer;
    assert_int_equal(ard__varint_get(&p, longer + 11, 10, &v), ARD__VARINT_TOO_LONG);
    /* 2^32 in 5 bytes is too large for a 32-bit varint */
    const uint8_t big32[5] = {0x80, 0x80, 0x80, 0x80, 0x10};
    p = big32;
    assert_int_equal(ard__varint_get(&p, big32 + 5, 5, &v), ARD__VARINT_TOO_LARGE);
}

int ard_test_encoding_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitunpack_all_widths),
        cmocka_unit_test(test_bit_width),
        cmocka_unit_test(test_rle_roundtrip_u32),
        cmocka_unit_test(test_rle_roundtrip_levels),
        cmocka_unit_test(test_rle_constant_runs),
        cmocka_unit_test(test_rle_spec_example),
        cmocka_unit_test(test_rle_adversarial),
        cmocka_unit_test(test_bitpacked_msb),
        cmocka_unit_test(test_delta_roundtrip),
        cmocka_unit_test(test_delta_spec_examples),
        cmocka_unit_test(test_delta_corrupt),
        cmocka_unit_test(test_delta_length),
        cmocka_unit_test(test_delta_byte_array),
        cmocka_unit_test(test_bss_roundtrip),
        cmocka_unit_test(test_codec_roundtrip),
        cmocka_unit_test(test_codec_bad_input),
        cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_lz4_hadoop),
        cmocka_unit_test(test_zstd_empty_and_crc),
        cmocka_unit_test(test_crc32_paths),
        cmocka_unit_test(test_varint),
    };
    return cmocka_run_group_tests_name("parquet_encoding", tests, NULL, NULL);
}
