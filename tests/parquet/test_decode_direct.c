/* Values read straight from the file into the caller's matrix (deferred pages of large uncompressed
 * chunks, column_chunk.c + column_matrix.c) against the plain path (the same bytes opened from
 * memory, where nothing is deferred), on adversarial input: NaN payloads, null elements in some
 * windows of a page only, null lists, uneven lists, pages cut inside rows, DATA_PAGE and
 * DATA_PAGE_V2, with and without page CRCs, and a file truncated under the reader. ZSTD pages
 * decompressed straight into the matrix (staged pages) are compared with the same rows written
 * UNCOMPRESSED (test_decode_staged.c). */
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
#include "decode_fixture.h"
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
        if (!(kind == NULL_LISTS && dfx_mix(&s) % 40 == 0)) {
            dfx_set_bit(rowv, i);
        }
        for (int64_t j = 0; j < WIDTH; j++) {
            int64_t in_rg = i % RG_ROWS;
            int null =
                kind == NULL_ELEMENTS && in_rg >= 300 && in_rg < 340 && dfx_mix(&s) % 50 == 0;
            if (!null) {
                dfx_set_bit(elem, i * WIDTH + j);
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

typedef struct coded {
    enum kind kind;
} coded;

static ard_status coded_rows(ard_pq_writer *w, const float *v, const void *ctx, ard_error *err) {
    return write_rows(w, ((const coded *)ctx)->kind, v, err);
}

static void write_coded(const char *path, enum kind kind, int32_t page_version, int32_t crc,
                        int32_t codec) {
    coded c = {kind};
    dfx_write_file(path, (int64_t)ROWS * WIDTH, codec, 0, page_version, crc, 300 << 10, RG_ROWS,
                   coded_rows, &c);
}

static void write_file(const char *path, enum kind kind, int32_t page_version, int32_t crc) {
    write_coded(path, kind, page_version, crc, ARD_PQ_UNCOMPRESSED);
}

static int setup(void **state) {
    return dfx_setup(state, "decode-direct");
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
    uint8_t *bytes = NULL;
    ard_parquet_file *pf = NULL, *pm = NULL;
    int32_t leaf = dfx_open_both(path, &bytes, &pf, &pm);
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
        dfx_assert_same_matrix(&a, &b);
        dfx_assert_into(pf, rg, leaf, &a); /* into garbage, with a caller bitmap */
        ard_pq_matrix_reset(&a);
        ard_pq_matrix_reset(&b);
    }
    ard_parquet_close(pf);
    ard_parquet_close(pm);
    free(bytes);
}

static void test_clean_v1(void **state) {
    dfx_fixture *fx = *state;
    write_file(fx->path, CLEAN, 1, 0);
    compare_paths(fx->path, 1, ARD_OK);
}

static void test_clean_v2(void **state) {
    dfx_fixture *fx = *state;
    write_file(fx->path, CLEAN, 2, 0);
    compare_paths(fx->path, 1, ARD_OK);
}

static void test_null_elements(void **state) {
    dfx_fixture *fx = *state;
    write_file(fx->path, NULL_ELEMENTS, 1, 0);
    compare_paths(fx->path, 1, ARD_OK);
    write_file(fx->path, NULL_ELEMENTS, 2, 0);
    compare_paths(fx->path, 1, ARD_OK);
}

static void test_null_lists(void **state) {
    dfx_fixture *fx = *state;
    write_file(fx->path, NULL_LISTS, 1, 0);
    compare_paths(fx->path, 1, ARD_OK);
}

static void test_uneven_lists(void **state) {
    dfx_fixture *fx = *state;
    write_file(fx->path, UNEVEN, 1, 0);
    compare_paths(fx->path, 1, ARD_EINVAL);
}

/* Pages with a CRC are read whole (the CRC is checked before any value is used). */
static void test_crc_pages_not_deferred(void **state) {
    dfx_fixture *fx = *state;
    write_file(fx->path, NULL_ELEMENTS, 1, 1);
    compare_paths(fx->path, 0, ARD_OK);
}

/* The file shrinks between open and read: ARD_EIO naming it, the row group before the cut intact. */
static void test_truncated(void **state) {
    dfx_fixture *fx = *state;
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
    dfx_fixture *fx = *state;
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
            dfx_assert_same_matrix(&a, &b);
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

/* ---- staged pages: ZSTD pages decompressed straight into the matrix ---- */

/* 1 when the chunk's first data page comes back staged (levels decoded, values not yet). */
static int first_page_staged(ard_parquet_file *pq, int32_t rg, int32_t leaf) {
    ard__chunk_reader cr;
    assert_int_equal(ard__chunk_open(&cr, pq, rg, leaf, NULL), ARD_OK);
    cr.lazy_levels = 1;
    cr.defer_values = 1;
    cr.stage_values = 1;
    ard__page pg;
    assert_int_equal(ard__chunk_next_page(&cr, &pg, NULL), ARD_OK);
    int staged = pg.staged;
    if (staged) { /* finishing it into scratch gives the bytes the whole-page path gives */
        assert_true(pg.staged_have < pg.values_len);
        assert_int_equal(ard__chunk_page_values(&cr, &pg, NULL), ARD_OK);
        assert_int_equal(pg.staged, 0);
    }
    ard__chunk_close(&cr);
    return staged;
}

/* Every row group of the ZSTD file (read from disk, staged) against the same rows written
 * UNCOMPRESSED and opened from memory (the plain path): same status, same bits, through both APIs.
 * Returns the pages decompressed in place meanwhile. */
static uint64_t compare_codecs(const char *zstd_path, const char *plain_path,
                               ard_status expect_rg1) {
    size_t size = 0;
    uint8_t *bytes = ard_test_read_file(plain_path, &size);
    assert_non_null(bytes);
    ard_parquet_file *pz = NULL, *pm = NULL;
    assert_int_equal(ard_parquet_open(zstd_path, NULL, &pz, NULL), ARD_OK);
    assert_int_equal(ard_parquet_open_memory(bytes, size, "mem", NULL, &pm, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(pz, "FLUX.list.element");
    assert_true(leaf >= 0);
    assert_int_equal(first_page_staged(pz, 0, leaf), 1);
    assert_int_equal(first_page_staged(pm, 0, leaf), 0);
    uint64_t before = ard__pq_staged_in_place();
    for (int32_t rg = 0; rg < ard_parquet_metadata(pz)->num_row_groups; rg++) {
        ard_pq_f32_matrix a, b;
        ard_status sa = ard_parquet_read_f32_matrix(pz, rg, leaf, &a, NULL);
        ard_status sb = ard_parquet_read_f32_matrix(pm, rg, leaf, &b, NULL);
        assert_int_equal(sa, sb);
        assert_int_equal(sa, rg == 1 ? expect_rg1 : ARD_OK);
        if (sa != ARD_OK) {
            continue;
        }
        dfx_assert_same_matrix(&a, &b);
        dfx_assert_into(pz, rg, leaf, &b);
        ard_pq_matrix_reset(&a);
        ard_pq_matrix_reset(&b);
    }
    uint64_t in_place = ard__pq_staged_in_place() - before;
    ard_parquet_close(pz);
    ard_parquet_close(pm);
    free(bytes);
    return in_place;
}

/* Data pages of the column in all row groups large enough to be staged. */
static uint64_t count_pages(const char *path) {
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pq, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
    uint64_t pages = 0;
    for (int32_t rg = 0; rg < ard_parquet_metadata(pq)->num_row_groups; rg++) {
        ard__chunk_reader cr;
        assert_int_equal(ard__chunk_open(&cr, pq, rg, leaf, NULL), ARD_OK);
        ard__page pg;
        while (ard__chunk_next_page(&cr, &pg, NULL) == ARD_OK) {
            pages += pg.values_len >= (256 << 10); /* smaller pages are never staged */
        }
        ard__chunk_close(&cr);
    }
    ard_parquet_close(pq);
    return pages;
}

/* The ZSTD and the UNCOMPRESSED file of one kind and page version, compared; the in-place count. */
static uint64_t staged_case(dfx_fixture *fx, enum kind kind, int32_t page_version,
                            ard_status expect_rg1, uint64_t *pages) {
    char zpath[600];
    snprintf(zpath, sizeof zpath, "%s.zstd", fx->path);
    write_coded(zpath, kind, page_version, 0, ARD_PQ_ZSTD);
    write_coded(fx->path, kind, page_version, 0, ARD_PQ_UNCOMPRESSED);
    uint64_t in_place = compare_codecs(zpath, fx->path, expect_rg1);
    *pages = count_pages(zpath);
    return in_place;
}

static void test_staged_clean(void **state) {
    /* every page (~15 per row group, cut inside rows) lands in place, in both reads of it */
    uint64_t pages = 0, in_place = staged_case(*state, CLEAN, 1, ARD_OK, &pages);
    assert_int_equal(in_place, 2 * pages);
    assert_true(pages > 30);
    in_place = staged_case(*state, CLEAN, 2, ARD_OK, &pages);
    assert_int_equal(in_place, 2 * pages);
}

static void test_staged_nulls(void **state) {
    /* pages with null elements take the scratch path, the clean ones around them stay in place */
    uint64_t p1 = 0, p2 = 0;
    uint64_t n1 = staged_case(*state, NULL_ELEMENTS, 1, ARD_OK, &p1);
    uint64_t n2 = staged_case(*state, NULL_ELEMENTS, 2, ARD_OK, &p2);
    assert_true(n1 > 0 && n1 < 2 * p1 && n2 > 0 && n2 < 2 * p2);
    staged_case(*state, NULL_LISTS, 1, ARD_OK, &p1);
    staged_case(*state, UNEVEN, 1, ARD_EINVAL, &p1);
    staged_case(*state, UNEVEN, 2, ARD_EINVAL, &p2);
}

/* Byte offset, stored and decompressed size of the body of data page `page` of (rg, leaf). */
static void page_body_at(ard_parquet_file *pq, const uint8_t *bytes, int32_t rg, int32_t leaf,
                         int page, int64_t *off, int64_t *len, int64_t *out_len) {
    const ard_pq_column_chunk *cc = &ard_parquet_metadata(pq)->row_groups[rg].columns[leaf];
    int64_t pos = cc->chunk_start;
    for (int i = 0;; i++) {
        ard__pq_page_header h;
        assert_int_equal(ard__pq_decode_page_header(bytes + pos, 4096, pos, "mem", &h, NULL),
                         ARD_OK);
        if (i == page) {
            *off = pos + h.header_size;
            *len = h.compressed_page_size;
            *out_len = h.uncompressed_page_size;
            return;
        }
        pos += h.header_size + h.compressed_page_size;
    }
}

/* Offsets of the block headers of the one zstd frame in p[0..len) (RFC 8878, 3.1.1); their count. */
static int zstd_blocks(const uint8_t *p, int64_t len, int64_t *at, int max) {
    static const int did_size[4] = {0, 1, 2, 4}, fcs_size[4] = {0, 2, 4, 8};
    uint8_t fhd = p[4];
    int single = (fhd >> 5) & 1, fcs = fhd >> 6;
    int64_t pos =
        5 + (single ? 0 : 1) + did_size[fhd & 3] + (fcs == 0 && single ? 1 : fcs_size[fcs]);
    int n = 0;
    while (pos + 3 <= len && n < max) {
        uint32_t h = (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8 | (uint32_t)p[pos + 2] << 16;
        at[n++] = pos;
        pos += 3 + (((h >> 1) & 3) == 1 ? 1 : (int64_t)(h >> 3));
        if (h & 1) {
            break;
        }
    }
    return n;
}

/* A damaged compressed page is ARD_ECORRUPT naming the page, never a crash: the frame's magic, the
 * reserved block type in the second block (values decoded in place), a last block longer than the
 * page, and a run of 0xFF bytes mid-page. zstd without a frame checksum cannot see every damage: where decompressing the whole
 * page with ZSTD_decompress (the plain path) succeeds, the staged path must succeed too. */
static void test_staged_corrupt(void **state) {
    dfx_fixture *fx = *state;
    write_coded(fx->path, CLEAN, 1, 0, ARD_PQ_ZSTD);
    size_t size = 0;
    uint8_t *bytes = ard_test_read_file(fx->path, &size);
    assert_non_null(bytes);
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open_memory(bytes, size, "mem", NULL, &pq, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
    uint8_t *copy = malloc(size);
    assert_non_null(copy);
    int errors = 0;
    for (int damage = 0; damage < 4; damage++) {
        memcpy(copy, bytes, size);
        int64_t off = 0, len = 0, out_len = 0;
        page_body_at(pq, bytes, 0, leaf, 1 + damage, &off, &len, &out_len);
        int64_t blocks[64];
        int nblocks = zstd_blocks(copy + off, len, blocks, 64);
        assert_true(nblocks >= 3);
        if (damage == 0) {
            copy[off] ^= 0xFF; /* frame magic */
        } else if (damage == 1) {
            copy[off + blocks[1]] |= 6; /* the second block (values, in place): reserved type */
        } else if (damage == 2) {
            memset(copy + off + len / 2, 0xFF, 64); /* a run of ones mid-page */
        } else { /* the last block claims 64 bytes more than the page holds */
            uint8_t *bh = copy + off + blocks[nblocks - 1];
            uint32_t h = (uint32_t)bh[0] | (uint32_t)bh[1] << 8 | (uint32_t)bh[2] << 16;
            h += 64u << 3;
            bh[0] = (uint8_t)h;
            bh[1] = (uint8_t)(h >> 8);
            bh[2] = (uint8_t)(h >> 16);
        }
        ard_parquet_file *bad = NULL;
        assert_int_equal(ard_parquet_open_memory(copy, size, "damaged", NULL, &bad, NULL), ARD_OK);
        ard_pq_f32_matrix m;
        ard_error err;
        ard_error_init(&err);
        uint8_t *whole = malloc((size_t)out_len + 1);
        ard_status plain = ard__pq_decompress(ARD_PQ_ZSTD, copy + off, (size_t)len, whole,
                                              (size_t)out_len, "whole", NULL);
        free(whole);
        assert_true(damage > 0 || plain == ARD_ECORRUPT);
        errors += plain != ARD_OK;
        ard_status st = ard_parquet_read_f32_matrix(bad, 0, leaf, &m, &err);
        if (plain == ARD_OK) { /* damage the codec cannot see: both paths decode something */
            assert_int_equal(st, ARD_OK);
            ard_pq_matrix_reset(&m);
            ard_parquet_close(bad);
            continue;
        }
        if (st != ARD_ECORRUPT || !strstr(err.msg, "damaged") || !strstr(err.msg, "ZSTD")) {
            fail_msg("damage %d: %s (%s)", damage, ard_status_name(st), err.msg);
        }
        assert_null(m.values);
        float *into = malloc((size_t)RG_ROWS * WIDTH * sizeof *into);
        int64_t rows = -1, width = -1;
        int32_t nulls = -1;
        assert_int_equal(ard_parquet_read_f32_matrix_into(bad, 0, leaf, into,
                                                          (int64_t)RG_ROWS * WIDTH, NULL, &rows,
                                                          &width, &nulls, NULL),
                         ARD_ECORRUPT);
        assert_int_equal(rows, 0);
        free(into);
        assert_int_equal(ard_parquet_read_f32_matrix(bad, 1, leaf, &m, NULL), ARD_OK);
        ard_pq_matrix_reset(&m);
        ard_parquet_close(bad);
    }
    assert_true(errors >= 3);
    free(copy);
    ard_parquet_close(pq);
    free(bytes);
}

/* Levels longer than one zstd block (128 KiB): 1.2 million lists of 2 floats in one page, so the
 * bit-packed repetition levels alone decompress to ~300 KB before the first value. */
static void test_staged_long_levels(void **state) {
    dfx_fixture *fx = *state;
    enum { N = 1200000, W = 2 };
    float *v = malloc((size_t)N * W * sizeof *v);
    int64_t *ids = malloc((size_t)N * sizeof *ids);
    assert_true(v && ids);
    uint64_t s = 5;
    for (int64_t k = 0; k < (int64_t)N * W; k++) {
        v[k] = dfx_value(&s, k);
    }
    for (int64_t i = 0; i < N; i++) {
        ids[i] = i;
    }
    char zpath[600];
    snprintf(zpath, sizeof zpath, "%s.zstd", fx->path);
    for (int pass = 0; pass < 2; pass++) {
        ard_pq_schema_builder *sb = NULL;
        ard_pq_writer *w = dfx_open_writer(pass == 0 ? zpath : fx->path,
                                           pass == 0 ? ARD_PQ_ZSTD : ARD_PQ_UNCOMPRESSED, 0, 1, 0,
                                           64 << 20, N, &sb);
        assert_int_equal(ard_pq_writer_write_column(w, 0, ids, NULL, N, NULL), ARD_OK);
        assert_int_equal(ard_pq_writer_write_list_matrix(w, 1, v, N, W, NULL, NULL, NULL), ARD_OK);
        assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
        ard_pq_schema_free(sb);
    }
    ard_parquet_file *pz = NULL, *pu = NULL;
    assert_int_equal(ard_parquet_open(zpath, NULL, &pz, NULL), ARD_OK);
    assert_int_equal(ard_parquet_open(fx->path, NULL, &pu, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(pz, "FLUX.list.element");
    assert_int_equal(first_page_staged(pz, 0, leaf), 1);
    uint64_t before = ard__pq_staged_in_place();
    ard_pq_f32_matrix a, b;
    assert_int_equal(ard_parquet_read_f32_matrix(pz, 0, leaf, &a, NULL), ARD_OK);
    assert_int_equal(ard_parquet_read_f32_matrix(pu, 0, leaf, &b, NULL), ARD_OK);
    assert_true(ard__pq_staged_in_place() > before);
    assert_int_equal(a.rows, N);
    dfx_assert_same_matrix(&a, &b);
    assert_memory_equal(a.values, v, (size_t)N * W * sizeof(float));
    ard_pq_matrix_reset(&a);
    ard_pq_matrix_reset(&b);
    ard_parquet_close(pz);
    ard_parquet_close(pu);
    free(v);
    free(ids);
}

/* The streaming level reader (windows of any size, bulk bit-packed groups) against the one-shot
 * decoder, on level streams with long runs, random stretches and lone values, at several bit
 * widths; reads of 1..1000 levels that cut bit-packed groups anywhere; a short stream is
 * ARD_ECORRUPT for both. */
static void test_level_stream_windows(void **state) {
    (void)state;
    enum { NL = 20000 };
    static const int widths[] = {1, 2, 3, 5, 8, 12, 15};
    static const int64_t reads[] = {1, 3, 8, 17, 64, 255, 256, 300, 1000};
    int16_t *levels = malloc(NL * sizeof *levels), *ref = malloc(NL * sizeof *ref);
    int16_t *got = malloc(NL * sizeof *got);
    assert_true(levels && ref && got);
    uint64_t s = 11;
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        int bw = widths[w];
        int16_t maxv = (int16_t)((1 << bw) - 1);
        for (int64_t i = 0; i < NL;) { /* a run of one value, or a random stretch */
            int64_t len = 1 + (int64_t)(dfx_mix(&s) % 200);
            int run = dfx_mix(&s) % 2 == 0;
            int16_t v = (int16_t)(dfx_mix(&s) % (uint64_t)(maxv + 1));
            for (int64_t k = 0; k < len && i < NL; k++, i++) {
                levels[i] = (int16_t)(run ? v : (int16_t)(dfx_mix(&s) % (uint64_t)(maxv + 1)));
            }
        }
        ard_buf enc;
        ard_buf_init(&enc);
        ard__rle_encode_levels(levels, NL, bw, &enc);
        assert_int_equal(ard__rle_decode_levels(enc.data, enc.len, bw, ref, NL, NULL), ARD_OK);
        assert_memory_equal(ref, levels, NL * sizeof *levels);
        ard__levels ls;
        ard__levels_init(&ls, enc.data, enc.len, bw);
        int64_t done = 0;
        for (int r = 0; done < NL; r++) {
            int64_t m = reads[(r + w) % (sizeof reads / sizeof *reads)];
            m = NL - done < m ? NL - done : m;
            assert_int_equal(ard__levels_read(&ls, got + done, m, NULL), ARD_OK);
            done += m;
        }
        assert_memory_equal(got, levels, NL * sizeof *levels);
        /* cut short: both decoders refuse */
        size_t cut = enc.len * 2 / 3;
        ard__levels_init(&ls, enc.data, cut, bw);
        assert_int_equal(ard__rle_decode_levels(enc.data, cut, bw, ref, NL, NULL), ARD_ECORRUPT);
        assert_int_equal(ard__levels_read(&ls, got, NL, NULL), ARD_ECORRUPT);
        ard_buf_reset(&enc);
    }
    free(levels);
    free(ref);
    free(got);
}

int ard_test_decode_direct_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_v1, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_clean_v2, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_null_elements, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_null_lists, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_uneven_lists, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_crc_pages_not_deferred, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_shared_buffers, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_staged_clean, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_staged_nulls, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_staged_corrupt, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_staged_long_levels, setup, dfx_teardown),
        cmocka_unit_test(test_level_stream_windows),
    };
    return cmocka_run_group_tests_name("parquet_decode_direct", tests, NULL, NULL);
}
