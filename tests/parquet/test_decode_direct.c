/* Values read straight from the file into the caller's matrix (deferred pages of large uncompressed
 * chunks, column_chunk.c + column_matrix.c) against the plain path (the same bytes opened from
 * memory, where nothing is deferred), on adversarial input: NaN payloads, null elements in some
 * windows of a page only, null lists, uneven lists, pages cut inside rows, DATA_PAGE and
 * DATA_PAGE_V2, with and without page CRCs, and a file truncated under the reader. */
#include "column_int.h"

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/parquet.h"
#include "ard/parquet_write.h"
#include "common/ard_test.h"
#include "suites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1,100 rows x 1,000 floats: 4.4 MB chunks (read page by page), 300 KiB pages (deferrable), and
 * page cuts that do not fall on row boundaries. */
enum { WIDTH = 1000, RG_ROWS = 1100, ROWS = 2 * RG_ROWS + 300 };

enum kind { CLEAN, NULL_ELEMENTS, NULL_LISTS, UNEVEN };

typedef struct fixture {
    char *dir;
    char path[512];
} fixture;

static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Values with NaNs of several payloads and signs, infinities and -0. */
static float value_at(uint64_t *s, int64_t k) {
    uint64_t r = mix(s);
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

static void set_bit(uint8_t *bits, int64_t i) {
    bits[i / 8] = (uint8_t)(bits[i / 8] | 1u << (i % 8));
}

static ard_status write_rows(ard_pq_writer *w, enum kind kind, const float *v, ard_error *err) {
    int64_t *ids = malloc(ROWS * sizeof *ids);
    uint8_t *elem = calloc((size_t)ROWS * WIDTH / 8 + 1, 1);
    uint8_t *rowv = calloc(ROWS / 8 + 1, 1);
    int64_t *offsets = malloc((ROWS + 1) * sizeof *offsets);
    assert_true(ids && elem && rowv && offsets);
    uint64_t s = 99;
    for (int64_t i = 0; i < ROWS; i++) {
        ids[i] = i;
        /* null lists in a few rows; null elements only in rows 300-340 of each row group, so
         * the pages before them are clean and a page with them changes path half way */
        if (!(kind == NULL_LISTS && mix(&s) % 40 == 0)) {
            set_bit(rowv, i);
        }
        for (int64_t j = 0; j < WIDTH; j++) {
            int64_t in_rg = i % RG_ROWS;
            int null = kind == NULL_ELEMENTS && in_rg >= 300 && in_rg < 340 && mix(&s) % 50 == 0;
            if (!null) {
                set_bit(elem, i * WIDTH + j);
            }
        }
        /* uneven: row 500 of the second row group is one element short */
        offsets[i] = i * WIDTH - (kind == UNEVEN && i > RG_ROWS + 500 ? 1 : 0);
    }
    offsets[ROWS] = (int64_t)ROWS * WIDTH - (kind == UNEVEN ? 1 : 0);
    ard_status st = ard_pq_writer_write_column(w, 0, ids, NULL, ROWS, err);
    if (st == ARD_OK && kind == UNEVEN) {
        st = ard_pq_writer_write_list(w, 1, offsets, v, NULL, NULL, ROWS, err);
    } else if (st == ARD_OK) {
        st = ard_pq_writer_write_list_matrix(w, 1, v, ROWS, WIDTH, elem,
                                             kind == NULL_LISTS ? rowv : NULL, err);
    }
    free(ids);
    free(elem);
    free(rowv);
    free(offsets);
    return st;
}

static void write_file(const char *path, enum kind kind, int32_t page_version, int32_t crc) {
    float *v = malloc((size_t)ROWS * WIDTH * sizeof *v);
    assert_non_null(v);
    uint64_t s = 7;
    for (int64_t k = 0; k < (int64_t)ROWS * WIDTH; k++) {
        v[k] = value_at(&s, k);
    }
    ard_error err;
    ard_error_init(&err);
    ard_pq_schema_builder *sb = NULL;
    assert_int_equal(ard_pq_schema_new(&sb, &err), ARD_OK);
    assert_int_equal(ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL,
                                              0, NULL, &err),
                     ARD_OK);
    assert_int_equal(ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL,
                                            ARD_PQ_OPTIONAL, NULL, NULL, &err),
                     ARD_OK);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = ARD_PQ_UNCOMPRESSED;
    o.byte_stream_split = 0;
    o.disable_dictionary = 1;
    o.disable_page_index = 1;
    o.disable_crc = !crc;
    o.page_version = page_version;
    o.page_size_bytes = 300 << 10;
    o.rows_per_row_group = RG_ROWS;
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, &err), ARD_OK);
    ard_status st = write_rows(w, kind, v, &err);
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

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    fx->dir = ard_test_tmpdir("decode-direct");
    assert_non_null(fx->dir);
    snprintf(fx->path, sizeof fx->path, "%s/spectra.parquet", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    ard_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static void assert_same_matrix(const ard_pq_f32_matrix *a, const ard_pq_f32_matrix *b) {
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

/* 1 when the chunk's first data page comes back with its values left in the file. */
static int first_page_deferred(ard_parquet_file *pq, int32_t rg, int32_t leaf) {
    ard__chunk_reader cr;
    assert_int_equal(ard__chunk_open(&cr, pq, rg, leaf, NULL), ARD_OK);
    cr.lazy_levels = 1;
    cr.defer_values = 1;
    ard__page pg;
    assert_int_equal(ard__chunk_next_page(&cr, &pg, NULL), ARD_OK);
    int deferred = pg.deferred && pg.values == NULL;
    ard__chunk_close(&cr);
    return deferred;
}

/* Every row group read from the file (deferred where possible) and from memory (never deferred),
 * through both the allocating and the _into API: same status, same bits. */
static void compare_paths(const char *path, int expect_deferred, ard_status expect_rg1) {
    size_t size = 0;
    uint8_t *bytes = ard_test_read_file(path, &size);
    assert_non_null(bytes);
    ard_parquet_file *pf = NULL, *pm = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pf, NULL), ARD_OK);
    assert_int_equal(ard_parquet_open_memory(bytes, size, "mem", NULL, &pm, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(pf, "FLUX.list.element");
    assert_true(leaf >= 0);
    assert_int_equal(first_page_deferred(pf, 0, leaf), expect_deferred);
    assert_int_equal(first_page_deferred(pm, 0, leaf), 0);
    int32_t groups = ard_parquet_metadata(pf)->num_row_groups;
    assert_int_equal(groups, 3);
    for (int32_t rg = 0; rg < groups; rg++) {
        ard_pq_f32_matrix a, b;
        ard_error ea, eb;
        ard_error_init(&ea);
        ard_error_init(&eb);
        ard_status sa = ard_parquet_read_f32_matrix(pf, rg, leaf, &a, &ea);
        ard_status sb = ard_parquet_read_f32_matrix(pm, rg, leaf, &b, &eb);
        assert_int_equal(sa, sb);
        assert_int_equal(sa, rg == 1 ? expect_rg1 : ARD_OK);
        if (sa != ARD_OK) {
            continue;
        }
        assert_same_matrix(&a, &b);
        /* _into a buffer full of garbage, with a caller bitmap */
        int64_t cap = (int64_t)RG_ROWS * WIDTH;
        float *into = malloc((size_t)cap * sizeof *into);
        uint8_t *valid = malloc((size_t)cap / 8 + 1);
        memset(into, 0xA5, (size_t)cap * sizeof *into);
        memset(valid, 0x5A, (size_t)cap / 8 + 1);
        int64_t rows = 0, width = 0;
        int32_t nulls = -1;
        assert_int_equal(ard_parquet_read_f32_matrix_into(pf, rg, leaf, into, cap, valid, &rows,
                                                          &width, &nulls, NULL),
                         ARD_OK);
        assert_int_equal(rows, a.rows);
        assert_int_equal(width, a.width);
        assert_memory_equal(into, a.values, (size_t)(rows * width) * sizeof(float));
        assert_int_equal(nulls, a.validity != NULL);
        if (a.validity) {
            assert_memory_equal(valid, a.validity, (size_t)(rows * width) / 8);
        }
        free(into);
        free(valid);
        ard_pq_matrix_reset(&a);
        ard_pq_matrix_reset(&b);
    }
    ard_parquet_close(pf);
    ard_parquet_close(pm);
    free(bytes);
}

static void test_clean_v1(void **state) {
    fixture *fx = *state;
    write_file(fx->path, CLEAN, 1, 0);
    compare_paths(fx->path, 1, ARD_OK);
}

static void test_clean_v2(void **state) {
    fixture *fx = *state;
    write_file(fx->path, CLEAN, 2, 0);
    compare_paths(fx->path, 1, ARD_OK);
}

static void test_null_elements(void **state) {
    fixture *fx = *state;
    write_file(fx->path, NULL_ELEMENTS, 1, 0);
    compare_paths(fx->path, 1, ARD_OK);
    write_file(fx->path, NULL_ELEMENTS, 2, 0);
    compare_paths(fx->path, 1, ARD_OK);
}

static void test_null_lists(void **state) {
    fixture *fx = *state;
    write_file(fx->path, NULL_LISTS, 1, 0);
    compare_paths(fx->path, 1, ARD_OK);
}

static void test_uneven_lists(void **state) {
    fixture *fx = *state;
    write_file(fx->path, UNEVEN, 1, 0);
    compare_paths(fx->path, 1, ARD_EINVAL);
}

/* Pages with a CRC are read whole (the CRC is checked before any value is used). */
static void test_crc_pages_not_deferred(void **state) {
    fixture *fx = *state;
    write_file(fx->path, NULL_ELEMENTS, 1, 1);
    compare_paths(fx->path, 0, ARD_OK);
}

/* The file shrinks between open and read: ARD_EIO naming it, the row group before the cut intact. */
static void test_truncated(void **state) {
    fixture *fx = *state;
    write_file(fx->path, CLEAN, 1, 0);
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(fx->path, NULL, &pq, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
    const ard_pq_column_chunk *cc = &ard_parquet_metadata(pq)->row_groups[1].columns[leaf];
    assert_int_equal(truncate(fx->path, (off_t)(cc->chunk_start + cc->total_compressed_size / 2)),
                     0);
    ard_pq_f32_matrix m;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_parquet_read_f32_matrix(pq, 1, leaf, &m, &err);
    if (st != ARD_EIO || !strstr(err.msg, fx->path)) {
        fail_msg("%s (%s)", ard_status_name(st), err.msg);
    }
    assert_int_equal(ard_parquet_read_f32_matrix(pq, 0, leaf, &m, NULL), ARD_OK);
    assert_int_equal(m.rows, RG_ROWS);
    ard_pq_matrix_reset(&m);
    ard_parquet_close(pq);
}

/* Files opened with a shared buffer pool decode the same bits as files without, from memory and
 * from disk, and leave their buffers in the pool (bounded by max_buffers) for the next file. */
static void test_shared_buffers(void **state) {
    fixture *fx = *state;
    write_file(fx->path, NULL_ELEMENTS, 1, 0);
    ard_parquet_buffers *pool = NULL;
    assert_int_equal(ard_parquet_buffers_new(0, 0, &pool, NULL), ARD_EINVAL);
    assert_null(pool);
    assert_int_equal(ard_parquet_buffers_new(65, 0, &pool, NULL), ARD_EINVAL);
    assert_int_equal(ard_parquet_buffers_new(2, -1, &pool, NULL), ARD_EINVAL);
    assert_int_equal(ard_parquet_buffers_new(2, 0, &pool, NULL), ARD_OK);
    assert_int_equal(ard_parquet_buffers_held(pool), 0);
    ard_parquet_open_options o = {.buffers = pool};
    ard_parquet_file *plain = NULL;
    assert_int_equal(ard_parquet_open(fx->path, NULL, &plain, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(plain, "FLUX.list.element");
    for (int round = 0; round < 3; round++) {
        ard_parquet_file *pooled = NULL;
        assert_int_equal(ard_parquet_open(fx->path, &o, &pooled, NULL), ARD_OK);
        for (int32_t rg = 0; rg < 3; rg++) {
            ard_pq_f32_matrix a, b;
            assert_int_equal(ard_parquet_read_f32_matrix(pooled, rg, leaf, &a, NULL), ARD_OK);
            assert_int_equal(ard_parquet_read_f32_matrix(plain, rg, leaf, &b, NULL), ARD_OK);
            assert_same_matrix(&a, &b);
            ard_pq_matrix_reset(&a);
            ard_pq_matrix_reset(&b);
            ard_pq_column_data col;
            assert_int_equal(ard_parquet_read_column(pooled, rg, 0, &col, NULL), ARD_OK);
            assert_int_equal(col.num_rows, rg < 2 ? RG_ROWS : 300);
            ard_pq_column_data_reset(&col);
        }
        ard_parquet_close(pooled);
        assert_true(ard_parquet_buffers_held(pool) > 0); /* kept for the next file */
    }
    ard_parquet_close(plain);
    ard_parquet_buffers_free(pool);
    ard_parquet_buffers_free(NULL);
}

int ard_test_decode_direct_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_elements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uneven_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_pages_not_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_buffers, setup, teardown),
    };
    return cmocka_run_group_tests_name("parquet_decode_direct", tests, NULL, NULL);
}
