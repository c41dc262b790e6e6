/* ard__snappy_compress_parts (snappy_parts.c): streams assembled from parts compressed separately or
 * stored as literals decode with libsnappy's own decoder (and ard's page decompressor) to the parts
 * back to back, on adversarial inputs: no parts, empty parts, 1 byte, sizes at the 64 KiB literal
 * and fragment boundaries, all-literal, all-compressible, mixed; and AUTO picks literals only for
 * parts that do not compress. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet_int.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

typedef enum fill_kind { FILL_RANDOM, FILL_ZERO, FILL_LOW_ENTROPY, FILL_PATTERN } fill_kind;

static uint64_t next_u64(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s ^ (*s >> 29);
}

static void fill(uint8_t *p, size_t n, fill_kind kind, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_u64(&seed);
        switch (kind) {
        case FILL_RANDOM:
            p[i] = (uint8_t)(r >> 56);
            break;
        case FILL_ZERO:
            p[i] = 0;
            break;
        case FILL_LOW_ENTROPY: /* a noisy float's exponent byte: a few values at random */
            p[i] = (uint8_t)(0x3e + (r >> 62));
            break;
        default:
            p[i] = (uint8_t)("abcdefgh"[i % 8] + (i / 4096) % 3);
            break;
        }
    }
}

/* Assembles the parts, checks the stream with libsnappy and ard's decompressor against the parts
 * back to back, and returns the stream's size. */
static size_t check_parts(const ard__snappy_part *parts, int32_t count) {
    size_t total = 0;
    for (int32_t i = 0; i < count; i++) {
        total += parts[i].len;
    }
    uint8_t *want = malloc(total + 1);
    assert_non_null(want);
    for (int32_t i = 0, at = 0; i < count; at += (int)parts[i].len, i++) {
        if (parts[i].len) {
            memcpy(want + at, parts[i].data, parts[i].len);
        }
    }
    ard_buf out;
    ard_buf_init(&out);
    ard_buf_append(&out, "pre", 3); /* appended after existing bytes, which stay */
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard__snappy_compress_parts(parts, count, &out, &err), ARD_OK);
    assert_memory_equal(out.data, "pre", 3);
    const char *s = (const char *)out.data + 3;
    size_t slen = out.len - 3, n = 0;
    assert_int_equal(snappy_validate_compressed_buffer(s, slen), SNAPPY_OK);
    assert_int_equal(snappy_uncompressed_length(s, slen, &n), SNAPPY_OK);
    assert_int_equal(n, total);
    char *got = malloc(total + 1);
    assert_non_null(got);
    assert_int_equal(snappy_uncompress(s, slen, got, &n), SNAPPY_OK);
    assert_int_equal(n, total);
    if (total) {
        assert_memory_equal(got, want, total);
    }
    memset(got, 0xa5, total + 1);
    assert_int_equal(
        ard__pq_decompress(ARD_PQ_SNAPPY, out.data + 3, slen, (uint8_t *)got, total, "t", &err),
        ARD_OK);
    if (total) {
        assert_memory_equal(got, want, total);
    }
    free(got);
    free(want);
    ard_buf_reset(&out);
    return slen;
}

static void test_empty_and_tiny(void **state) {
    (void)state;
    uint8_t one = 0x42;
    check_parts(NULL, 0);
    ard__snappy_part empty[3] = {{NULL, 0, ARD__SNAPPY_AUTO},
                                 {&one, 0, ARD__SNAPPY_LITERAL},
                                 {&one, 0, ARD__SNAPPY_COMPRESS}};
    assert_int_equal(check_parts(empty, 3), 1); /* the length header alone */
    for (int32_t how = 0; how < 3; how++) {
        ard__snappy_part p = {&one, 1, how};
        check_parts(&p, 1);
        ard__snappy_part two[2] = {{&one, 1, how}, {&one, 1, 2 - how}};
        check_parts(two, 2);
    }
}

/* Sizes around the literal element's 60- and 256-byte tag limits and libsnappy's 64 KiB blocks. */
static void test_boundaries(void **state) {
    (void)state;
    static const size_t sizes[] = {59,   60,    61,    255,   256,    257,    4095,   8191,
                                   8192, 65535, 65536, 65537, 131071, 131072, 131073, 196608 + 5};
    size_t max = 196608 + 5;
    uint8_t *a = malloc(max + 1), *b = malloc(max + 1);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        fill(a, max + 1, FILL_RANDOM, 7 + k);
        fill(b, max, FILL_LOW_ENTROPY, 11 + k);
        for (int32_t how = 0; how < 3; how++) {
            ard__snappy_part p[3] = {
                {a, sizes[k], how}, {b, sizes[k], how}, {a + 1, sizes[k], how}};
            check_parts(p, 3);
            check_parts(p + 1, 1);
        }
    }
    free(a);
    free(b);
}

/* All literal, all compressed, and a page-like mix (levels, three noisy streams, an exponent
 * stream); AUTO stores the random parts literally (+3 bytes per 64 KiB) and compresses the rest. */
static void test_mixed(void **state) {
    (void)state;
    size_t n = 262144 + 17;
    uint8_t *buf[5];
    static const fill_kind kinds[5] = {FILL_PATTERN, FILL_RANDOM, FILL_RANDOM, FILL_ZERO,
                                       FILL_LOW_ENTROPY};
    for (int i = 0; i < 5; i++) {
        buf[i] = malloc(n);
        assert_non_null(buf[i]);
        fill(buf[i], n, kinds[i], 100 + (uint64_t)i);
    }
    ard__snappy_part p[5];
    for (int32_t how = 0; how < 3; how++) {
        for (int i = 0; i < 5; i++) {
            p[i] = (ard__snappy_part){buf[i], i == 0 ? 700 : n, how};
        }
        size_t len = check_parts(p, 5);
        if (how == ARD__SNAPPY_LITERAL) {
            assert_true(len > 700 + 4 * n);
        }
    }
    for (int i = 0; i < 5; i++) { /* AUTO on each part alone */
        p[i].how = ARD__SNAPPY_AUTO;
        size_t len = check_parts(&p[i], 1);
        size_t literal = p[i].len + 3 * (p[i].len / 65536 + 1) + 3;
        if (kinds[i] == FILL_RANDOM) { /* stored, not searched: the bytes and their tags */
            assert_true(len > p[i].len && len <= literal);
        } else {
            assert_true(len < p[i].len * 9 / 10);
        }
    }
    for (int i = 0; i < 5; i++) {
        free(buf[i]);
    }
}

/* A part that compresses in its middle but not at its start, and the reverse: the sample is taken
 * from the middle; either way the stream decodes. */
static void test_sample_position(void **state) {
    (void)state;
    size_t n = 65536;
    uint8_t *a = malloc(n);
    assert_non_null(a);
    fill(a, n, FILL_RANDOM, 5);
    fill(a + n / 4, n / 2, FILL_ZERO, 0);
    ard__snappy_part p = {a, n, ARD__SNAPPY_AUTO};
    assert_true(check_parts(&p, 1) < n * 3 / 4);
    fill(a, n, FILL_ZERO, 0);
    fill(a + n / 4, n / 2, FILL_RANDOM, 9);
    assert_true(check_parts(&p, 1) > n / 2);
    free(a);
}

int ard_test_snappy_parts_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_tiny),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_sample_position),
    };
    return cmocka_run_group_tests_name("parquet_snappy_parts", tests, NULL, NULL);
}
