/* Helpers of the matrix reader's direct-path tests (decode_fixture.h). */
#include "decode_fixture.h"

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "common/ard_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dfx_setup(void **state, const char *name) {
    dfx_fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = ard_test_tmpdir(name);
    assert_non_null(fx->dir);
    snprintf(fx->path, sizeof fx->path, "%s/spectra.parquet", fx->dir);
    *state = fx;
    return 0;
}

int dfx_teardown(void **state) {
    dfx_fixture *fx = *state;
    ard_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

uint64_t dfx_mix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

float dfx_value(uint64_t *s, int64_t k) {
    uint64_t r = dfx_mix(s);
    if (r % 97 == 0) {
        uint32_t bits = 0x7fc00000u | (uint32_t)(k & 0x3fffff) | (r & 1 ? 0x80000000u : 0);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    if (r % 101 == 0) {
        return r & 2 ? INFINITY : -0.0f;
    }
    return (float)((double)(r >> 11) * 0x1.0p-53 * 100.0 - 50.0);
}

void dfx_set_bit(uint8_t *bits, int64_t i) {
    bits[i / 8] = (uint8_t)(bits[i / 8] | 1u << (i % 8));
}

ard_pq_writer *dfx_open_writer(const char *path, int32_t codec, int32_t byte_stream_split,
                               int32_t page_version, int32_t crc, int64_t page_bytes,
                               int64_t rows_per_row_group, ard_pq_schema_builder **sb) {
    ard_error err;
    ard_error_init(&err);
    *sb = NULL;
    assert_int_equal(ard_pq_schema_new(sb, &err), ARD_OK);
    assert_int_equal(ard_pq_schema_add_column(*sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL,
                                              0, NULL, &err),
                     ARD_OK);
    assert_int_equal(ard_pq_schema_add_list(*sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL,
                                            ARD_PQ_OPTIONAL, NULL, NULL, &err),
                     ARD_OK);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = (ard_pq_codec)codec;
    o.byte_stream_split = byte_stream_split;
    o.disable_dictionary = 1;
    o.disable_page_index = 1;
    o.disable_crc = !crc;
    o.page_version = page_version;
    o.page_size_bytes = page_bytes;
    o.rows_per_row_group = rows_per_row_group;
    ard_pq_writer *w = NULL;
    if (ard_pq_writer_open(path, *sb, &o, &w, &err) != ARD_OK) {
        fail_msg("opening %s: %s", path, err.msg);
    }
    return w;
}

void dfx_assert_same_matrix(const ard_pq_f32_matrix *a, const ard_pq_f32_matrix *b) {
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->width, b->width);
    size_t n = (size_t)(a->rows * a->width);
    assert_memory_equal(a->values, b->values, n * sizeof(float)); /* NaN payloads included */
    assert_true((a->validity == NULL) == (b->validity == NULL));
    if (a->validity) {
        assert_memory_equal(a->validity, b->validity, (n + 7) / 8);
    }
    assert_true((a->row_validity == NULL) == (b->row_validity == NULL));
    if (a->row_validity) {
        assert_memory_equal(a->row_validity, b->row_validity, (size_t)(a->rows + 7) / 8);
    }
}

void dfx_write_file(const char *path, int64_t count, int32_t codec, int32_t byte_stream_split,
                    int32_t page_version, int32_t crc, int64_t page_bytes,
                    int64_t rows_per_row_group, dfx_rows_fn rows, const void *ctx) {
    float *v = malloc((size_t)count * sizeof *v + 1);
    assert_non_null(v);
    uint64_t s = 7;
    for (int64_t k = 0; k < count; k++) {
        v[k] = dfx_value(&s, k);
    }
    ard_error err;
    ard_error_init(&err);
    ard_pq_schema_builder *sb = NULL;
    ard_pq_writer *w = dfx_open_writer(path, codec, byte_stream_split, page_version, crc,
                                       page_bytes, rows_per_row_group, &sb);
    ard_status st = rows(w, v, ctx, &err);
    if (st == ARD_OK) {
        st = ard_pq_writer_close(w, &err);
    } else {
        ard_pq_writer_abort(w);
    }
    if (st != ARD_OK) {
        fail_msg("writing %s: %s", path, err.msg);
    }
    ard_pq_schema_free(sb);
    free(v);
}

void dfx_assert_into(const ard_parquet_file *pq, int32_t rg, int32_t leaf,
                     const ard_pq_f32_matrix *expect) {
    int64_t cap = expect->rows * expect->width + 64, rows = 0, width = 0;
    float *into = malloc((size_t)cap * sizeof *into);
    uint8_t *valid = malloc((size_t)cap / 8 + 1);
    assert_true(into && valid);
    memset(into, 0xA5, (size_t)cap * sizeof *into);
    memset(valid, 0x5A, (size_t)cap / 8 + 1);
    int32_t nulls = -1;
    assert_int_equal(ard_parquet_read_f32_matrix_into(pq, rg, leaf, into, cap, valid, &rows, &width,
                                                      &nulls, NULL),
                     ARD_OK);
    assert_int_equal(rows, expect->rows);
    assert_int_equal(width, expect->width);
    assert_memory_equal(into, expect->values, (size_t)(rows * width) * sizeof(float));
    assert_int_equal(nulls, expect->validity != NULL);
    if (expect->validity) {
        assert_memory_equal(valid, expect->validity, (size_t)(rows * width) / 8);
    }
    free(into);
    free(valid);
}

int32_t dfx_open_both(const char *path, uint8_t **bytes, ard_parquet_file **pf,
                      ard_parquet_file **pm) {
    size_t size = 0;
    *bytes = ard_test_read_file(path, &size);
    assert_non_null(*bytes);
    *pf = *pm = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, pf, NULL), ARD_OK);
    assert_int_equal(ard_parquet_open_memory(*bytes, size, "mem", NULL, pm, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(*pf, "FLUX.list.element");
    assert_true(leaf >= 0);
    return leaf;
}
