/* The typed statistics-value decoder (ard_parquet_value_decode / _to_double) that `ard parquet
 * meta` and sync share: every physical type, the logical types that change the meaning of the
 * bytes (unsigned, decimal, float16, strings), and lengths that do not fit (RAW). */
#include "suites.h"

#include "ard/parquet.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static ard_pq_schema_node leaf_of(ard_pq_logical_kind kind) {
    ard_pq_schema_node n;
    memset(&n, 0, sizeof n);
    n.is_leaf = 1;
    n.logical.kind = kind;
    return n;
}

static void test_numbers(void **state) {
    (void)state;
    ard_parquet_value v;
    double d = 0;
    const uint8_t i32[4] = {0xfe, 0xff, 0xff, 0xff}; /* -2 */
    ard_parquet_value_decode(NULL, ARD_PQ_INT32, i32, 4, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_INT);
    assert_int_equal(v.i, -2);
    assert_int_equal(ard_parquet_value_to_double(&v, &d), 1);
    assert_true(d == -2.0);
    ard_pq_schema_node u = leaf_of(ARD_PQ_LT_INTEGER); /* is_signed 0 */
    ard_parquet_value_decode(&u, ARD_PQ_INT32, i32, 4, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_UINT);
    assert_true(v.u == 4294967294u);
    const uint8_t i64[8] = {1, 2, 0, 0, 0, 0, 0, 0};
    ard_parquet_value_decode(NULL, ARD_PQ_INT64, i64, 8, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_INT);
    assert_int_equal(v.i, 513);
    float f = 1.5f;
    uint8_t fb[4];
    memcpy(fb, &f, 4);
    ard_parquet_value_decode(NULL, ARD_PQ_FLOAT, fb, 4, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_DOUBLE);
    assert_int_equal(v.bits, 32);
    assert_true(v.d == 1.5);
    double nan = NAN;
    uint8_t db[8];
    memcpy(db, &nan, 8);
    ard_parquet_value_decode(NULL, ARD_PQ_DOUBLE, db, 8, &v);
    assert_int_equal(v.bits, 64);
    d = 7.0;
    assert_int_equal(ard_parquet_value_to_double(&v, &d), 0); /* NaN is no number */
    assert_true(d == 7.0);
    const uint8_t half[2] = {0x00, 0x3c}; /* 1.0 */
    ard_pq_schema_node h = leaf_of(ARD_PQ_LT_FLOAT16);
    ard_parquet_value_decode(&h, ARD_PQ_FIXED_LEN_BYTE_ARRAY, half, 2, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_DOUBLE);
    assert_int_equal(v.bits, 16);
    assert_true(v.d == 1.0);
    const uint8_t b = 1;
    ard_parquet_value_decode(NULL, ARD_PQ_BOOLEAN, &b, 1, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_BOOL);
    assert_int_equal(v.i, 1);
    assert_int_equal(ard_parquet_value_to_double(&v, &d), 0);
}

static void test_decimals(void **state) {
    (void)state;
    ard_parquet_value v;
    double d = 0;
    ard_pq_schema_node dec = leaf_of(ARD_PQ_LT_DECIMAL);
    dec.logical.scale = 2;
    const uint8_t i32[4] = {0x85, 0xff, 0xff, 0xff}; /* -123 -> -1.23 */
    ard_parquet_value_decode(&dec, ARD_PQ_INT32, i32, 4, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_DECIMAL);
    assert_int_equal(v.decimal_hi, -1);
    assert_int_equal((int64_t)v.decimal_lo, -123);
    assert_int_equal(ard_parquet_value_to_double(&v, &d), 1);
    assert_true(fabs(d + 1.23) < 1e-12);
    const uint8_t be[3] = {0x01, 0xe2, 0x40}; /* 123456 big-endian -> 1234.56 */
    ard_parquet_value_decode(&dec, ARD_PQ_FIXED_LEN_BYTE_ARRAY, be, 3, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_DECIMAL);
    assert_int_equal(v.decimal_hi, 0);
    assert_int_equal((int64_t)v.decimal_lo, 123456);
    assert_int_equal(v.scale, 2);
    const uint8_t neg[2] = {0xff, 0x38}; /* -200 -> -2.00 */
    ard_parquet_value_decode(&dec, ARD_PQ_BYTE_ARRAY, neg, 2, &v);
    assert_int_equal(ard_parquet_value_to_double(&v, &d), 1);
    assert_true(fabs(d + 2.0) < 1e-12);
}

static void test_bytes_and_misfits(void **state) {
    (void)state;
    ard_parquet_value v;
    double d = 0;
    const uint8_t text[3] = {'a', 'b', 'c'};
    ard_parquet_value_decode(NULL, ARD_PQ_BYTE_ARRAY, text, 3, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_TEXT);
    assert_ptr_equal(v.bytes, text);
    assert_int_equal(v.len, 3);
    ard_pq_schema_node uuid = leaf_of(ARD_PQ_LT_UUID);
    ard_parquet_value_decode(&uuid, ARD_PQ_BYTE_ARRAY, text, 3, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_RAW);
    ard_parquet_value_decode(NULL, ARD_PQ_FIXED_LEN_BYTE_ARRAY, text, 3, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_RAW);           /* FLBA without STRING */
    ard_parquet_value_decode(NULL, ARD_PQ_INT32, text, 3, &v); /* 3 bytes for an INT32 */
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_RAW);
    assert_int_equal(ard_parquet_value_to_double(&v, &d), 0);
    ard_parquet_value_decode(NULL, ARD_PQ_DOUBLE, text, 3, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_RAW);
    ard_parquet_value_decode(NULL, ARD_PQ_INT96, text, 3, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_RAW);
    ard_parquet_value_decode(NULL, ARD_PQ_BOOLEAN, NULL, 0, &v);
    assert_int_equal(v.kind, ARD_PARQUET_VALUE_RAW);
}

int ard_test_stat_value_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_decimals),
        cmocka_unit_test(test_bytes_and_misfits),
    };
    return cmocka_run_group_tests_name("stat_value", tests, NULL, NULL);
}
