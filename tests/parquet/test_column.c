/* Column reader tests: decoded values of known files, row ranges through the page index equal slices of
 * the full decode, CRC verification, invalid input status codes, allocation-failure injection and Arrow
 * export lifetime (leaks show under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ard/parquet.h"
#include "ard/parquet_write.h"
#include "suites.h"
#include <math.h>
#include <unistd.h>

static const char *corpus_path(const char *rel) {
    static char buf[1024];
    const char *dir = getenv("ARD_SHARED_DIR");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : ARD_SHARED_DIR, rel);
    return buf;
}

static ard_parquet_file *open_or_skip(const char *rel, int skip_crc) {
    ard_parquet_open_options opts = {.skip_crc_check = skip_crc};
    ard_parquet_file *f = NULL;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_parquet_open(corpus_path(rel), &opts, &f, &err);
    if (st == ARD_ENOENT) {
        return NULL;
    }
    assert_int_equal(st, ARD_OK);
    return f;
}

static void test_alltypes_plain_values(void **state) {
    (void)state;
    ard_parquet_file *f = open_or_skip("parquet-testing/data/alltypes_plain.parquet", 0);
    if (!f) {
        skip();
    }
    ard_pq_column_data col;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_read_column(f, 0, 0, &col, &err), ARD_OK);
    static const int32_t ids[] = {4, 5, 6, 7, 2, 3, 0, 1};
    assert_int_equal(col.num_rows, 8);
    assert_int_equal(col.num_values, 8);
    assert_memory_equal(col.values, ids, sizeof ids);
    ard_pq_column_data_reset(&col);
    ard_pq_column_data_reset(&col); /* safe twice */
    int32_t leaf = ard_parquet_find_leaf(f, "string_col");
    assert_true(leaf >= 0);
    assert_int_equal(ard_parquet_read_column(f, 0, leaf, &col, &err), ARD_OK);
    assert_int_equal(col.offsets[8], 8); /* "0","1","0","1",... one byte each */
    assert_memory_equal(col.data, "01010101", 8);
    ard_pq_column_data_reset(&col);
    assert_int_equal(ard_parquet_read_column(f, 1, 0, &col, &err), ARD_EINVAL);
    assert_int_equal(ard_parquet_read_column(f, 0, 99, &col, &err), ARD_EINVAL);
    ard_parquet_close(f);
}

/* Rows [a, a+n) read through the OffsetIndex must equal the same slice of the full decode. */
static void check_slice(ard_parquet_file *f, int32_t leaf, const ard_pq_column_data *full,
                        int64_t a, int64_t n) {
    ard_pq_column_data part;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_read_column_rows(f, 0, leaf, a, n, &part, &err), ARD_OK);
    int64_t expect_rows = a + n > full->num_rows ? full->num_rows - a : n;
    assert_int_equal(part.num_rows, expect_rows);
    int64_t v0 = 0;
    for (int64_t i = 0; i < a; i++) {
        v0 += !full->def_levels || full->def_levels[i] == full->max_def;
    }
    assert_int_equal(part.num_levels, expect_rows);
    if (full->def_levels) {
        assert_memory_equal(part.def_levels, full->def_levels + a, (size_t)expect_rows * 2);
    }
    size_t w = full->type == ARD_PQ_INT64 || full->type == ARD_PQ_DOUBLE ? 8 : 4;
    if (full->type != ARD_PQ_BYTE_ARRAY && full->type != ARD_PQ_BOOLEAN &&
        full->type != ARD_PQ_INT96) {
        assert_memory_equal(part.values, (const uint8_t *)full->values + v0 * (int64_t)w,
                            (size_t)part.num_values * w);
    }
    ard_pq_column_data_reset(&part);
}

static void test_row_ranges_page_index(void **state) {
    (void)state;
    ard_parquet_file *f = open_or_skip("parquet-testing/data/alltypes_tiny_pages.parquet", 0);
    if (!f) {
        skip();
    }
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    assert_true(md->row_groups[0].columns[0].has_offset_index);
    uint64_t seed = 42;
    for (int32_t leaf = 0; leaf < md->num_leaves; leaf++) {
        ard_pq_column_data full;
        ard_error err;
        ard_error_init(&err);
        assert_int_equal(ard_parquet_read_column(f, 0, leaf, &full, &err), ARD_OK);
        for (int k = 0; k < 8; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            int64_t a = (int64_t)((seed >> 33) % (uint64_t)full.num_rows);
            int64_t n = (int64_t)((seed >> 13) % 300);
            check_slice(f, leaf, &full, a, n);
        }
        check_slice(f, leaf, &full, full.num_rows - 1, 5);
        check_slice(f, leaf, &full, 0, 0);
        ard_pq_column_data_reset(&full);
    }
    ard_pq_column_data bad;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_read_column_rows(f, 0, 0, -1, 5, &bad, &err), ARD_EINVAL);
    ard_parquet_close(f);
}

static void test_crc(void **state) {
    (void)state;
    const char *rel = "parquet-testing/data/datapage_v1-corrupt-checksum.parquet";
    ard_parquet_file *f = open_or_skip(rel, 0);
    if (!f) {
        skip();
    }
    ard_pq_column_data col;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_read_column(f, 0, 0, &col, &err), ARD_ECHECKSUM);
    assert_non_null(strstr(err.msg, "CRC"));
    assert_non_null(strstr(err.msg, "datapage_v1-corrupt-checksum"));
    ard_parquet_close(f);
    f = open_or_skip(rel, 1); /* opt-out: the values are readable */
    assert_int_equal(ard_parquet_read_column(f, 0, 0, &col, &err), ARD_OK);
    ard_pq_column_data_reset(&col);
    ard_parquet_close(f);
    f = open_or_skip("parquet-testing/data/datapage_v1-snappy-compressed-checksum.parquet", 0);
    assert_int_equal(ard_parquet_read_column(f, 0, 0, &col, &err), ARD_OK);
    ard_pq_column_data_reset(&col);
    ard_parquet_close(f);
}

static void test_bad_levels(void **state) {
    (void)state;
    ard_parquet_file *f = open_or_skip("parquet-testing/bad_data/ARROW-GH-45185.parquet", 0);
    if (!f) {
        skip();
    }
    ard_pq_column_data col;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_read_column(f, 0, 0, &col, &err), ARD_ECORRUPT);
    assert_non_null(strstr(err.msg, "first repetition level"));
    ard_parquet_close(f);
}

/* Every allocation of a nested read may fail: the result is ARD_ENOMEM (never a crash or leak). */
static void test_alloc_failures(void **state) {
    (void)state;
    ard_parquet_file *f = open_or_skip("parquet-testing/data/nullable.impala.parquet", 0);
    if (!f) {
        skip();
    }
    int saw_ok = 0;
    for (long n = 1; n < 5000 && !saw_ok; n++) {
        struct ArrowSchema schema;
        struct ArrowArray array;
        ard_error err;
        ard_error_init(&err);
        ard_alloc_fail_after(n);
        ard_status st = ard_parquet_read_arrow(f, 0, NULL, 0, &schema, &array, &err);
        ard_alloc_fail_after(0);
        if (st == ARD_OK) {
            saw_ok = 1;
            array.release(&array);
            schema.release(&schema);
        } else {
            assert_int_equal(st, ARD_ENOMEM);
            assert_null(array.release);
            assert_null(schema.release);
        }
    }
    assert_true(saw_ok);
    ard_parquet_close(f);
}

static void test_arrow_shapes(void **state) {
    (void)state;
    ard_parquet_file *f = open_or_skip("parquet-testing/data/nested_maps.snappy.parquet", 0);
    if (!f) {
        skip();
    }
    struct ArrowSchema schema;
    struct ArrowArray array;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_read_arrow(f, 0, NULL, 0, &schema, &array, &err), ARD_OK);
    assert_string_equal(schema.format, "+s");
    assert_int_equal(array.length, 6);
    assert_string_equal(schema.children[0]->name, "a");
    assert_string_equal(schema.children[0]->format, "+m");
    assert_string_equal(schema.children[0]->children[0]->name, "entries");
    assert_string_equal(schema.children[0]->children[0]->format, "+s");
    assert_string_equal(schema.children[0]->children[0]->children[1]->format, "+m");
    array.release(&array);
    schema.release(&schema);
    assert_null(array.release);
    int32_t bad_field = 7;
    assert_int_equal(ard_parquet_read_arrow(f, 0, &bad_field, 1, &schema, &array, &err),
                     ARD_EINVAL);
    ard_parquet_close(f);
}

/* Writes rows x width float lists (with null elements / null rows when asked) and checks that the
 * matrix fast path returns exactly the input, for every codec, both page versions and BSS. */
static void matrix_roundtrip(int codec, int page_version, int bss, int with_nulls) {
    enum { ROWS = 300, WIDTH = 257 };
    static float values[ROWS * WIDTH];
    static uint8_t elem_valid[(ROWS * WIDTH + 7) / 8], row_valid[(ROWS + 7) / 8];
    uint64_t seed = 7;
    memset(elem_valid, 0xFF, sizeof elem_valid);
    memset(row_valid, 0xFF, sizeof row_valid);
    for (int i = 0; i < ROWS * WIDTH; i++) {
        seed = seed * 6364136223846793005ULL + 1;
        values[i] = (float)((int64_t)(seed >> 40) - 8000000) / 1000.0f;
        if (with_nulls && (seed >> 20) % 50 == 0) {
            elem_valid[i / 8] = (uint8_t)(elem_valid[i / 8] & ~(1u << (i % 8)));
        }
    }
    if (with_nulls) {
        row_valid[3 / 8] = (uint8_t)(row_valid[0] & ~(1u << 3));
    }
    if (with_nulls == 2) { /* every row group starts with null lists, over more than a page */
        for (int r = 0; r < ROWS; r++) {
            if (r % 128 < 40) {
                row_valid[r / 8] = (uint8_t)(row_valid[r / 8] & ~(1u << (r % 8)));
            }
        }
    }
    char path[] = "/tmp/ard-test-matrix-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ard_error err;
    ard_error_init(&err);
    ard_pq_schema_builder *sb;
    assert_int_equal(ard_pq_schema_new(&sb, &err), ARD_OK);
    int32_t c = -1;
    ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, &c,
                           &err);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = (ard_pq_codec)codec;
    o.page_version = page_version;
    o.byte_stream_split = bss;
    o.page_size_bytes = with_nulls == 2 ? 64 : 20000; /* many pages; rows straddle v1 pages */
    o.rows_per_row_group = 128;
    ard_pq_writer *w;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, &err), ARD_OK);
    assert_int_equal(ard_pq_writer_write_list_matrix(w, c, values, ROWS, WIDTH,
                                                     with_nulls ? elem_valid : NULL,
                                                     with_nulls ? row_valid : NULL, &err),
                     ARD_OK);
    assert_int_equal(ard_pq_writer_close(w, &err), ARD_OK);
    ard_pq_schema_free(sb);
    ard_parquet_file *f;
    assert_int_equal(ard_parquet_open(path, NULL, &f, &err), ARD_OK);
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    int64_t row0 = 0;
    for (int32_t rg = 0; rg < md->num_row_groups; rg++) {
        ard_pq_f32_matrix m;
        assert_int_equal(ard_parquet_read_f32_matrix(f, rg, 0, &m, &err), ARD_OK);
        assert_int_equal(m.width, WIDTH);
        for (int64_t r = 0; r < m.rows; r++) {
            int64_t gr = row0 + r;
            int row_ok = (row_valid[gr / 8] >> (gr % 8)) & 1;
            assert_int_equal(!m.row_validity || ((m.row_validity[r / 8] >> (r % 8)) & 1), row_ok);
            for (int64_t k = 0; k < WIDTH; k++) {
                int64_t i = gr * WIDTH + k, j = r * WIDTH + k;
                int ok = row_ok && ((elem_valid[i / 8] >> (i % 8)) & 1);
                int got = !m.validity || ((m.validity[j / 8] >> (j % 8)) & 1);
                assert_int_equal(got, ok);
                if (ok) {
                    assert_memory_equal(&m.values[j], &values[i], sizeof(float));
                } else {
                    assert_true(isnan(m.values[j]));
                }
            }
        }
        assert_int_equal(m.validity == NULL, with_nulls == 0);
        /* the caller-buffer variant returns the same floats and bits */
        int64_t cap = m.rows * WIDTH, rows, width;
        int32_t has_nulls;
        float *buf = malloc((size_t)cap * sizeof(float));
        uint8_t *bits = malloc((size_t)(cap + 7) / 8);
        assert_int_equal(ard_parquet_read_f32_matrix_into(f, rg, 0, buf, cap, bits, &rows, &width,
                                                          &has_nulls, &err),
                         ARD_OK);
        assert_int_equal(rows, m.rows);
        assert_int_equal(width, WIDTH);
        assert_int_equal(has_nulls, with_nulls != 0);
        for (int64_t j = 0; j < cap; j++) {
            assert_true(memcmp(&buf[j], &m.values[j], sizeof(float)) == 0 ||
                        (isnan(buf[j]) && isnan(m.values[j])));
        }
        if (with_nulls) {
            assert_memory_equal(bits, m.validity, (size_t)cap / 8);
        }
        assert_int_equal(ard_parquet_read_f32_matrix_into(f, rg, 0, buf, cap - 1, NULL, &rows,
                                                          &width, &has_nulls, &err),
                         ARD_ELIMIT);
        free(buf);
        free(bits);
        row0 += m.rows;
        ard_pq_matrix_reset(&m);
    }
    assert_int_equal(row0, ROWS);
    ard_parquet_close(f);
    unlink(path);
}

static void test_f32_matrix(void **state) {
    (void)state;
    static const int codecs[] = {ARD_PQ_UNCOMPRESSED, ARD_PQ_SNAPPY,  ARD_PQ_ZSTD,
                                 ARD_PQ_GZIP,         ARD_PQ_LZ4_RAW, ARD_PQ_BROTLI};
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
        for (int v = 1; v <= 2; v++) {
            matrix_roundtrip(codecs[c], v, (int)(c % 2), 0);
            matrix_roundtrip(codecs[c], v, (int)(c % 2), 1);
        }
        matrix_roundtrip(codecs[c], 1 + (int)(c % 2), (int)(c % 2), 2);
    }
}

static void test_f32_matrix_rejects_ragged(void **state) {
    (void)state;
    ard_parquet_file *f = open_or_skip("parquet-testing/data/list_columns.parquet", 0);
    if (!f) {
        skip();
    }
    ard_pq_f32_matrix m;
    ard_error err;
    ard_error_init(&err);
    /* int64 lists: not list<float> */
    assert_int_equal(ard_parquet_read_f32_matrix(f, 0, 0, &m, &err), ARD_EINVAL);
    assert_null(m.values);
    ard_parquet_close(f);
}

int ard_test_column_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alltypes_plain_values),
        cmocka_unit_test(test_row_ranges_page_index),
        cmocka_unit_test(test_crc),
        cmocka_unit_test(test_bad_levels),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_arrow_shapes),
        cmocka_unit_test(test_f32_matrix),
        cmocka_unit_test(test_f32_matrix_rejects_ragged),
    };
    return cmocka_run_group_tests_name("parquet_column", tests, NULL, NULL);
}
