/* Synthesized damage for the footer reader: envelope errors, a footer truncated at every byte,
 * byte flips, list-size and nesting bombs, huge declared sizes, allocation failures; plus unit
 * tests of the Thrift compact reader and the page-header decoder on hand-made bytes. */
/* cmocka needs these first, in this order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "file_int.h"
#include "footer_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint8_t *small_file(size_t *size) {
    char path[1200];
    snprintf(path, sizeof path, "%s/parquet-testing/data/alltypes_plain.parquet", ftu_shared_dir());
    uint8_t *data = ftu_read_file(path, size);
    assert_non_null(data);
    return data;
}

static ard_status open_bytes(const uint8_t *data, size_t size, ard_error *err) {
    ard_parquet_file *f = NULL;
    ard_status st = ard_parquet_open_memory(data, size, "mem", NULL, &f, err);
    assert_true((st == ARD_OK) == (f != NULL));
    ard_parquet_close(f);
    return st;
}

static ard_status open_footer(const uint8_t *footer, size_t len, ard_error *err) {
    size_t size;
    uint8_t *file = ftu_wrap_footer(footer, len, &size);
    ard_status st = open_bytes(file, size, err);
    free(file);
    return st;
}

/* ---- envelope ------------------------------------------------------------------------------- */

static void test_envelope_errors(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = small_file(&size);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(open_bytes(data, 0, &err), ARD_ECORRUPT);
    assert_non_null(strstr(err.msg, "too small"));
    assert_int_equal(open_bytes((const uint8_t *)"PAR1PAR1", 8, NULL), ARD_ECORRUPT);
    assert_int_equal(open_bytes((const uint8_t *)"PAR1\0\0\0\0PAR1", 12, NULL), ARD_ECORRUPT);
    data[0] = 'X';
    ard_error_init(&err);
    assert_int_equal(open_bytes(data, size, &err), ARD_ECORRUPT);
    assert_non_null(strstr(err.msg, "leading magic"));
    data[0] = 'P';
    data[size - 1] = 'X';
    ard_error_init(&err);
    assert_int_equal(open_bytes(data, size, &err), ARD_ECORRUPT);
    assert_non_null(strstr(err.msg, "trailing magic"));
    data[size - 1] = 'E';
    ard_error_init(&err);
    assert_int_equal(open_bytes(data, size, &err), ARD_ENOTSUP);
    data[size - 1] = '1';
    uint32_t lens[] = {(uint32_t)size - 11, (uint32_t)size, 0x7fffffffu, 0xffffffffu};
    for (size_t i = 0; i < 4; i++) {
        for (int b = 0; b < 4; b++) {
            data[size - 8 + (size_t)b] = (uint8_t)(lens[i] >> (8 * b));
        }
        ard_error_init(&err);
        assert_int_equal(open_bytes(data, size, &err), ARD_ECORRUPT);
        assert_non_null(strstr(err.msg, "footer length"));
    }
    free(data);
}

static void test_open_path_errors(void **state) {
    (void)state;
    ard_parquet_file *f = (ard_parquet_file *)1;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_open("/nonexistent/x.parquet", NULL, &f, &err), ARD_ENOENT);
    assert_null(f);
    assert_non_null(strstr(err.msg, "/nonexistent/x.parquet"));
    assert_int_equal(ard_parquet_open("/tmp", NULL, &f, NULL), ARD_EIO);
    char path[] = "/tmp/ard_footer_empty_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_ECORRUPT);
    unlink(path);
    assert_int_equal(ard_parquet_open(NULL, NULL, &f, NULL), ARD_EINVAL);
    ard_parquet_close(NULL);
}

/* Truncating the footer at every length must fail cleanly: a strict prefix never has its STOP. */
static void test_truncated_footer_every_byte(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = small_file(&size);
    uint32_t footer_len = (uint32_t)data[size - 8] | (uint32_t)data[size - 7] << 8 |
                          (uint32_t)data[size - 6] << 16 | (uint32_t)data[size - 5] << 24;
    const uint8_t *footer = data + size - 8 - footer_len;
    assert_int_equal(open_footer(footer, footer_len, NULL), ARD_ECORRUPT); /* chunks now past EOF */
    for (uint32_t k = 0; k < footer_len; k++) {
        size_t cut_size = size - footer_len + k;
        uint8_t *cut = malloc(cut_size);
        memcpy(cut, data, size - 8 - footer_len + k);
        for (int b = 0; b < 4; b++) {
            cut[cut_size - 8 + (size_t)b] = (uint8_t)(k >> (8 * b));
        }
        memcpy(cut + cut_size - 4, "PAR1", 4);
        ard_error err;
        ard_error_init(&err);
        assert_int_equal(open_bytes(cut, cut_size, &err), ARD_ECORRUPT);
        assert_non_null(strstr(err.msg, "mem: "));
        free(cut);
    }
    for (size_t k = 0; k < size; k++) { /* the whole file cut short */
        ard_status st = open_bytes(data, k, NULL);
        assert_true(st == ARD_ECORRUPT);
    }
    free(data);
}

/* Flipping any footer byte may or may not be detected, but must never crash or leak. */
static void test_flipped_footer_bytes(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = small_file(&size);
    int ok = 0, bad = 0;
    for (size_t i = 4; i < size - 8; i++) {
        for (int m = 0; m < 3; m++) {
            static const uint8_t masks[3] = {0xff, 0x01, 0x80};
            data[i] ^= masks[m];
            ard_status st = open_bytes(data, size, NULL);
            assert_true(st == ARD_OK || st == ARD_ECORRUPT || st == ARD_ELIMIT);
            ok += st == ARD_OK;
            bad += st != ARD_OK;
            data[i] ^= masks[m];
        }
    }
    assert_true(ok > 0 && bad > 0);
    free(data);
}

/* ---- hand-made hostile footers --------------------------------------------------------------- */

static void expect_corrupt(const uint8_t *footer, size_t len, const char *needle) {
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(open_footer(footer, len, &err), ARD_ECORRUPT);
    if (needle && !strstr(err.msg, needle)) {
        print_error("message '%s' lacks '%s'\n", err.msg, needle);
        fail();
    }
}

static void test_list_size_bombs(void **state) {
    (void)state;
    /* field 2 (schema) list<struct> of 2^31-1, of 2^31 (varint too large), of 2^32-1 */
    const uint8_t a[] = {0x29, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00};
    const uint8_t b[] = {0x29, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00};
    const uint8_t c[] = {0x29, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x0f};
    const uint8_t d[] = {0x29, 0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}; /* 6-byte varint */
    expect_corrupt(a, sizeof a, "list size larger than the remaining data");
    expect_corrupt(b, sizeof b, "list size");
    expect_corrupt(c, sizeof c, "list size");
    expect_corrupt(d, sizeof d, "varint");
    /* created_by (field 6) of INT32_MAX bytes; a map of 2^31-1 pairs in an unknown field */
    const uint8_t e[] = {0x68, 0xff, 0xff, 0xff, 0xff, 0x07, 'x', 0x00};
    const uint8_t g[] = {0xfb, 0xff, 0xff, 0xff, 0xff, 0x07, 0x55, 0x00};
    expect_corrupt(e, sizeof e, "binary length past end of data");
    expect_corrupt(g, sizeof g, "map size");
}

static void test_nesting_bombs(void **state) {
    (void)state;
    uint8_t bomb[3000];
    size_t n = 0;
    bomb[n++] = 0xfc; /* field 15 (unknown), struct */
    while (n < 1000) {
        bomb[n++] = 0x1c; /* field 1, struct, nested again */
    }
    expect_corrupt(bomb, n, "nesting too deep");
    n = 0;
    bomb[n++] = 0xf9; /* field 15, list */
    while (n < 1000) {
        bomb[n++] = 0x19; /* list of one list */
    }
    expect_corrupt(bomb, n, "nesting too deep");
    n = 0;
    bomb[n++] = 0xfb; /* field 15, map */
    while (n < 2000) {
        bomb[n++] = 0x01; /* one pair */
        bomb[n++] = 0xbb; /* map -> map */
    }
    expect_corrupt(bomb, n, "nesting too deep");
}

static void test_hostile_schemas(void **state) {
    (void)state;
    /* schema: root with num_children INT32_MAX but nothing after it */
    const uint8_t a[] = {0x15, 0x02, 0x19, 0x1c, 0x48, 0x01, 'r', 0x15,
                         0xfe, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00};
    expect_corrupt(a, sizeof a, "num_children runs past the end");
    /* root, then a leaf with Type 9 */
    const uint8_t b[] = {0x29, 0x2c, 0x48, 0x01, 'r',  0x15, 0x02, 0x00, 0x15,
                         0x12, 0x25, 0x02, 0x18, 0x01, 'x',  0x00, 0x00};
    expect_corrupt(b, sizeof b, "'x': invalid physical type 9");
    /* FLBA with length 0, repetition 5, negative num_children */
    const uint8_t c[] = {0x29, 0x2c, 0x48, 0x01, 'r',  0x15, 0x02, 0x00, 0x15, 0x0e,
                         0x15, 0x00, 0x15, 0x02, 0x18, 0x01, 'x',  0x00, 0x00};
    expect_corrupt(c, sizeof c, "FIXED_LEN_BYTE_ARRAY length 0");
    const uint8_t d[] = {0x29, 0x2c, 0x48, 0x01, 'r',  0x15, 0x02, 0x00, 0x15,
                         0x02, 0x25, 0x0a, 0x18, 0x01, 'x',  0x00, 0x00};
    expect_corrupt(d, sizeof d, "invalid repetition type 5");
    const uint8_t e[] = {0x29, 0x1c, 0x48, 0x01, 'r', 0x15, 0x01, 0x00, 0x00};
    expect_corrupt(e, sizeof e, "negative num_children");
    /* no schema at all; an empty schema list */
    const uint8_t g[] = {0x15, 0x02, 0x00};
    const uint8_t h[] = {0x29, 0x0c, 0x00};
    expect_corrupt(g, sizeof g, "no schema");
    expect_corrupt(h, sizeof h, "empty schema");
    /* root + one INT32 leaf, then a row group with no column chunks */
    const uint8_t k[] = {0x29, 0x2c, 0x48, 0x01, 'r',  0x15, 0x02, 0x00, 0x15, 0x02, 0x18, 0x01,
                         'x',  0x00, 0x16, 0x02, 0x19, 0x1c, 0x19, 0x0c, 0x26, 0x02, 0x00, 0x00};
    expect_corrupt(k, sizeof k, "has 0 column chunks but the schema has 1 leaves");
    /* the same with a negative row count */
    const uint8_t m[] = {0x29, 0x2c, 0x48, 0x01, 'r',  0x15, 0x02, 0x00, 0x15, 0x02, 0x18,
                         0x01, 'x',  0x00, 0x16, 0x02, 0x19, 0x1c, 0x36, 0x01, 0x00, 0x00};
    expect_corrupt(m, sizeof m, "negative num_rows");
    /* a column chunk whose ColumnMetaData says INT64 for an INT32 leaf */
    const uint8_t t[] = {0x29, 0x2c, 0x48, 0x01, 'r',  0x15, 0x02, 0x00, 0x15, 0x02, 0x18,
                         0x01, 'x',  0x00, 0x16, 0x02, 0x19, 0x1c, 0x19, 0x1c, 0x26, 0x00,
                         0x1c, 0x15, 0x04, 0x86, 0x08, 0x00, 0x00, 0x26, 0x02, 0x00, 0x00};
    expect_corrupt(t, sizeof t, "chunk type INT64 but schema type INT32");
}

/* A footer of many empty column chunks would need ~300 bytes of metadata per footer byte: the
 * arena cap (64 x footer + 1 MiB) stops it with ARD_ELIMIT instead of allocating 30 MB. */
static void test_arena_cap(void **state) {
    (void)state;
    size_t n = 100000, len = 0;
    uint8_t *footer = calloc(n + 16, 1);
    footer[len++] = 0x49; /* field 4 row_groups: list of one struct */
    footer[len++] = 0x1c;
    footer[len++] = 0x19; /* field 1 columns: list of n structs */
    footer[len++] = 0xfc;
    for (size_t v = n;; v >>= 7) {
        footer[len++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f) {
            break;
        }
    }
    len += n + 2; /* n empty structs, end of row group, end of FileMetaData: all zero bytes */
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(open_footer(footer, len, &err), ARD_ELIMIT);
    assert_non_null(strstr(err.msg, "(cap)"));
    free(footer);
}

/* A minimal valid footer: root + leaf "x" INT32 OPTIONAL, no row groups. */
static void test_minimal_footer(void **state) {
    (void)state;
    const uint8_t a[] = {0x15, 0x02, 0x19, 0x2c, 0x48, 0x01, 'r',  0x15, 0x02, 0x00, 0x15, 0x02,
                         0x25, 0x02, 0x18, 0x01, 'x',  0x00, 0x16, 0x00, 0x19, 0x0c, 0x00};
    size_t size;
    uint8_t *file = ftu_wrap_footer(a, sizeof a, &size);
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open_memory(file, size, "mini", NULL, &f, NULL), ARD_OK);
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    assert_int_equal(md->version, 1);
    assert_int_equal(md->num_nodes, 2);
    assert_int_equal(md->num_leaves, 1);
    assert_string_equal(md->nodes[0].path, "");
    assert_int_equal(md->nodes[0].parent, -1);
    assert_string_equal(md->nodes[1].path, "x");
    assert_int_equal(md->nodes[1].max_def, 1);
    assert_int_equal(md->nodes[1].converted_type, -1);
    assert_int_equal(md->num_row_groups, 0);
    assert_null(md->created_by);
    assert_int_equal(md->footer_offset, 4);
    assert_int_equal(md->footer_length, (int64_t)sizeof a);
    assert_string_equal(ard_parquet_path(f), "mini");
    ard_parquet_close(f);
    free(file);
}

/* ---- allocation failures ------------------------------------------------------------------ */

static void fail_each_allocation(const char *rel) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", ftu_shared_dir(), rel);
    int succeeded = 0;
    for (long n = 1; n <= 400 && !succeeded; n++) {
        ard_parquet_file *f = NULL;
        ard_error err;
        ard_error_init(&err);
        ard_alloc_fail_after(n);
        ard_status st = ard_parquet_open(path, NULL, &f, &err);
        ard_alloc_fail_after(0);
        assert_true(st == ARD_OK || st == ARD_ENOMEM);
        assert_true((st == ARD_OK) == (f != NULL));
        succeeded = st == ARD_OK;
        ard_parquet_close(f);
    }
    assert_true(succeeded);
}

static void test_allocation_failures(void **state) {
    (void)state;
    fail_each_allocation("parquet-testing/data/alltypes_plain.parquet");
    fail_each_allocation("parquet-testing/data/nested_structs.rust.parquet");
    fail_each_allocation("parquet-testing/data/geospatial/geography-points.parquet");
}

/* ---- Thrift reader units -------------------------------------------------------------------- */

static void test_thrift_scalars(void **state) {
    (void)state;
    ard__thrift t;
    ard_error err;
    int32_t v32;
    int64_t v64;
    const uint8_t zz[] = {0x00, 0x01, 0x02, 0xfe, 0xff, 0xff, 0xff,
                          0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f};
    ard__thrift_init(&t, zz, sizeof zz, 100, "z", NULL);
    assert_true(ard__thrift_i32(&t, &v32) && v32 == 0);
    assert_true(ard__thrift_i32(&t, &v32) && v32 == -1);
    assert_true(ard__thrift_i32(&t, &v32) && v32 == 1);
    assert_true(ard__thrift_i32(&t, &v32) && v32 == INT32_MAX);
    assert_true(ard__thrift_i32(&t, &v32) && v32 == INT32_MIN);
    const uint8_t big[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    ard__thrift_init(&t, big, sizeof big, 0, "z", NULL);
    assert_true(ard__thrift_i64(&t, &v64) && v64 == INT64_MAX);
    const uint8_t too_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    ard_error_init(&err);
    ard__thrift_init(&t, too_long, sizeof too_long, 1000, "file.parquet", &err);
    assert_false(ard__thrift_i64(&t, &v64));
    assert_int_equal(t.status, ARD_ECORRUPT);
    assert_string_equal(err.msg, "file.parquet: varint too long at byte 1000");
    assert_false(ard__thrift_i32(&t, &v32)); /* failure sticks */
    const uint8_t dbl[] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    double d = 0;
    ard__thrift_init(&t, dbl, sizeof dbl, 0, "z", NULL);
    assert_true(ard__thrift_double(&t, &d) && d == 1.0);
    assert_false(ard__thrift_double(&t, &d));
}

static void test_thrift_fields_and_lists(void **state) {
    (void)state;
    /* struct { 1: true, 3: i32 5, long-form id 300: binary "ab", 301: list<bool>[1,0,2],
     *          302: set<i8>[7], 303: uuid, 304: double, 305: map<i32,binary>{1:"q"} } */
    const uint8_t s[] = {0x11, 0x25, 0x0a, 0x08, 0xd8, 0x04, 0x02, 'a',  'b', 0x19,
                         0x32, 0x01, 0x00, 0x02, 0x1a, 0x13, 0x07, 0x1d, 1,   2,
                         3,    4,    5,    6,    7,    8,    9,    10,   11,  12,
                         13,   14,   15,   16,   0x17, 0,    0,    0,    0,   0,
                         0,    0,    0,    0x1b, 0x01, 0x58, 0x02, 0x01, 'q', 0x00};
    ard__thrift t;
    int16_t id;
    uint8_t type, elem;
    bool bval, b;
    int32_t v, n;
    const uint8_t *data;
    uint32_t len;
    ard__thrift_init(&t, s, sizeof s, 0, "s", NULL);
    assert_true(ard__thrift_struct_begin(&t));
    assert_true(ard__thrift_field(&t, &id, &type, &bval) && id == 1 && bval);
    assert_true(ard__thrift_field(&t, &id, &type, &bval) && id == 3 && type == ARD__T_I32);
    assert_true(ard__thrift_i32(&t, &v) && v == 5);
    assert_true(ard__thrift_field(&t, &id, &type, &bval) && id == 300 && type == ARD__T_BINARY);
    assert_true(ard__thrift_binary(&t, &data, &len) && len == 2 && data[1] == 'b');
    assert_true(ard__thrift_field(&t, &id, &type, &bval) && id == 301);
    assert_true(ard__thrift_list(&t, &elem, &n) && n == 3 && elem == ARD__T_FALSE);
    assert_true(ard__thrift_list_bool(&t, &b) && b);
    assert_true(ard__thrift_list_bool(&t, &b) && !b);
    assert_true(ard__thrift_list_bool(&t, &b) && !b);
    for (int16_t want = 302; want <= 305; want++) {
        assert_true(ard__thrift_field(&t, &id, &type, &bval) && id == want);
        assert_true(ard__thrift_skip(&t, type));
    }
    assert_false(ard__thrift_field(&t, &id, &type, &bval));
    assert_int_equal(t.status, ARD_OK);
    assert_true(ard__thrift_struct_end(&t));
    assert_true(t.p == t.end);
    const uint8_t bad_bool[] = {0x03};
    ard__thrift_init(&t, bad_bool, 1, 0, "s", NULL);
    assert_false(ard__thrift_list_bool(&t, &b));
    const uint8_t bad_type[] = {0x1e};
    ard__thrift_init(&t, bad_type, 1, 0, "s", NULL);
    assert_true(ard__thrift_struct_begin(&t));
    assert_false(ard__thrift_field(&t, &id, &type, &bval));
    assert_int_equal(t.status, ARD_ECORRUPT);
}

/* ---- page headers ---------------------------------------------------------------------------- */

static void test_page_headers(void **state) {
    (void)state;
    ard__pq_page_header h;
    ard_error err;
    /* DATA_PAGE_V2 without is_compressed: type 3, sizes 10/10, v2 header {1: 4, 2: 0, 3: 4, 4: 0}
     */
    const uint8_t v2[] = {0x15, 0x06, 0x15, 0x14, 0x15, 0x14, 0x5c, 0x15, 0x08,
                          0x15, 0x00, 0x15, 0x08, 0x15, 0x00, 0x00, 0x00, 0xaa};
    assert_int_equal(ard__pq_decode_page_header(v2, sizeof v2, 0, "p", &h, NULL), ARD_OK);
    assert_int_equal(h.type, ARD_PQ_DATA_PAGE_V2);
    assert_int_equal(h.is_compressed, 1);
    assert_int_equal(h.num_rows, 4);
    assert_int_equal(h.header_size, sizeof v2 - 1);
    /* unknown page type 25 comes back as is */
    const uint8_t unk[] = {0x15, 0x32, 0x15, 0x00, 0x15, 0x00, 0x00};
    assert_int_equal(ard__pq_decode_page_header(unk, sizeof unk, 0, "p", &h, NULL), ARD_OK);
    assert_int_equal(h.type, 25);
    /* negative compressed size; data page without its header; negative dictionary count */
    const uint8_t neg[] = {0x15, 0x00, 0x15, 0x00, 0x15, 0x01, 0x00};
    ard_error_init(&err);
    assert_int_equal(ard__pq_decode_page_header(neg, sizeof neg, 500, "p", &h, &err), ARD_ECORRUPT);
    assert_non_null(strstr(err.msg, "negative page size"));
    const uint8_t nohdr[] = {0x15, 0x00, 0x15, 0x00, 0x15, 0x00, 0x00};
    assert_int_equal(ard__pq_decode_page_header(nohdr, sizeof nohdr, 0, "p", &h, NULL),
                     ARD_ECORRUPT);
    const uint8_t dict[] = {0x15, 0x04, 0x15, 0x00, 0x15, 0x00, 0x4c, 0x15, 0x33, 0x00, 0x00};
    assert_int_equal(ard__pq_decode_page_header(dict, sizeof dict, 0, "p", &h, NULL), ARD_ECORRUPT);
    for (size_t k = 0; k < sizeof v2 - 1; k++) { /* every truncation */
        assert_int_equal(ard__pq_decode_page_header(v2, k, 0, "p", &h, NULL), ARD_ECORRUPT);
    }
}

int ard_test_footer_damage_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_errors),
        cmocka_unit_test(test_open_path_errors),
        cmocka_unit_test(test_truncated_footer_every_byte),
        cmocka_unit_test(test_flipped_footer_bytes),
        cmocka_unit_test(test_list_size_bombs),
        cmocka_unit_test(test_nesting_bombs),
        cmocka_unit_test(test_hostile_schemas),
        cmocka_unit_test(test_minimal_footer),
        cmocka_unit_test(test_arena_cap),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_thrift_scalars),
        cmocka_unit_test(test_thrift_fields_and_lists),
        cmocka_unit_test(test_page_headers),
    };
    return cmocka_run_group_tests_name("parquet_footer_damage", tests, NULL, NULL);
}
