/* Whole pages (column_matrix.c, whole_page): a page of a list<float> column whose run-length levels
 * alone say "every entry a present element, records of exactly the matrix width" has its values
 * read, decompressed, copied or decoded straight into place, no level decoded. Checked against the
 * plain path (every level and value decoded by ard_parquet_read_column and laid out by the matrix
 * rules) on adversarial input: NaN payloads, null elements in some pages only, null lists, empty
 * lists, uneven lists, pages cut inside rows, many pages per chunk, widths 1..1000 (repetition
 * levels all zero, all bit-packed, mixed), DATA_PAGE and DATA_PAGE_V2, PLAIN and BYTE_STREAM_SPLIT,
 * UNCOMPRESSED (from the file and from memory), SNAPPY and ZSTD; then page headers that lie about
 * their sizes or value counts, damaged level runs and files truncated under the reader: an error,
 * never a crash or a read past the page (ASan). The record check itself (ard__levels_are_records)
 * is compared with decoded levels on random and hand-packed streams. */
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

enum kind { CLEAN, NULL_ELEMENTS, NULL_LISTS, EMPTY_LISTS, UNEVEN };

typedef struct shape {
    int64_t width, rows, rg_rows, page_bytes;
    int32_t codec, bss, page_version;
    enum kind kind;
} shape;

/* Lists of sh->width floats; the kind spoils a few rows of the second row group only (a null element
 * in every 7th row from row 40, null lists, empty lists, or one list a float short), so the pages of
 * the first row group stay whole and some pages of the second change path half way. */
static ard_status write_lists(ard_pq_writer *w, const shape *sh, const float *v, ard_error *err) {
    int64_t rows = sh->rows, width = sh->width;
    int64_t *ids = malloc((size_t)rows * sizeof *ids);
    uint8_t *elem = calloc((size_t)(rows * width) / 8 + 1, 1);
    uint8_t *rowv = calloc((size_t)rows / 8 + 1, 1);
    int64_t *offsets = malloc((size_t)(rows + 1) * sizeof *offsets);
    assert_true(ids && elem && rowv && offsets);
    int64_t at = 0;
    for (int64_t i = 0; i < rows; i++) {
        int64_t in_rg = i - sh->rg_rows;
        int spoil = in_rg >= 40 && in_rg < sh->rg_rows && in_rg % 7 == 0;
        ids[i] = i;
        if (!(sh->kind == NULL_LISTS && spoil)) {
            dfx_set_bit(rowv, i);
        }
        int64_t len = width;
        len -= sh->kind == EMPTY_LISTS && spoil ? width : 0;
        len -= sh->kind == UNEVEN && in_rg == 41 ? 1 : 0;
        offsets[i] = at;
        for (int64_t j = 0; j < len; j++, at++) {
            if (!(sh->kind == NULL_ELEMENTS && spoil && j == (i * 31) % width)) {
                dfx_set_bit(elem, at);
            }
        }
    }
    offsets[rows] = at;
    ard_status st = ard_pq_writer_write_column(w, 0, ids, NULL, rows, err);
    if (st == ARD_OK) {
        st = ard_pq_writer_write_list(w, 1, offsets, v, elem, rowv, rows, err);
    }
    free(ids);
    free(elem);
    free(rowv);
    free(offsets);
    return st;
}

static ard_status shape_rows(ard_pq_writer *w, const float *v, const void *ctx, ard_error *err) {
    return write_lists(w, ctx, v, err);
}

static void write_shape(const char *path, const shape *sh) {
    dfx_write_file(path, sh->rows * sh->width, sh->codec, sh->bss, sh->page_version, 0,
                   sh->page_bytes, sh->rg_rows, shape_rows, sh);
}

static void clear_bit(uint8_t *bits, int64_t i) {
    bits[i / 8] = (uint8_t)(bits[i / 8] & ~(1u << (i % 8)));
}

/* The plain path: every level and value decoded by ard_parquet_read_column, laid out by the rules of
 * the matrix API (a null list: a NaN row, its row bit and element bits cleared; a null element: NaN,
 * its bit cleared; bitmaps only when something is null); ARD_EINVAL when the lists that are not null
 * differ in length. Definition levels of the fixture's schema: 0 null list, 1 empty list, 2 null
 * element, 3 present. */
static ard_status reference_matrix(ard_parquet_file *pq, int32_t rg, int32_t leaf,
                                   ard_pq_f32_matrix *out) {
    memset(out, 0, sizeof *out);
    ard_pq_column_data col;
    ard_status st = ard_parquet_read_column(pq, rg, leaf, &col, NULL);
    if (st != ARD_OK) {
        return st;
    }
    assert_int_equal(col.max_def, 3);
    int64_t width = -1, count = 0;
    for (int64_t i = 0; i <= col.num_levels; i++) { /* every list not null has the same length */
        if (i == col.num_levels || (i > 0 && col.rep_levels[i] == 0)) {
            if (i > 0 && col.def_levels[i - 1] >= 1) { /* the previous record's list */
                if (width >= 0 && count != width) {
                    ard_pq_column_data_reset(&col);
                    return ARD_EINVAL;
                }
                width = count;
            }
            count = 0;
        }
        if (i < col.num_levels) {
            count += col.def_levels[i] >= 2;
        }
    }
    width = width < 0 ? 0 : width;
    out->rows = col.num_rows;
    out->width = width;
    size_t cells = (size_t)(col.num_rows * width);
    out->values = malloc(cells * sizeof(float) + 1);
    out->validity = malloc(cells / 8 + 2);
    out->row_validity = malloc((size_t)col.num_rows / 8 + 2);
    assert_true(out->values && out->validity && out->row_validity);
    memset(out->validity, 0xFF, cells / 8 + 2);
    memset(out->row_validity, 0xFF, (size_t)col.num_rows / 8 + 2);
    int any_null = 0, any_null_list = 0;
    int64_t row = -1, c = 0, vi = 0;
    const float *vals = col.values;
    for (int64_t i = 0; i < col.num_levels; i++) {
        if (col.rep_levels[i] == 0) {
            row++;
            c = 0;
        }
        int16_t d = col.def_levels[i];
        if (d == 0) {
            any_null = any_null_list = 1;
            clear_bit(out->row_validity, row);
            for (int64_t j = 0; j < width; j++) {
                out->values[row * width + j] = NAN;
                clear_bit(out->validity, row * width + j);
            }
        } else if (d == 2) {
            any_null = 1;
            out->values[row * width + c] = NAN;
            clear_bit(out->validity, row * width + c++);
        } else if (d == 3) {
            memcpy(&out->values[row * width + c++], &vals[vi++], sizeof(float));
        }
    }
    if (!any_null) {
        free(out->validity);
        out->validity = NULL;
    }
    if (!any_null_list) {
        free(out->row_validity);
        out->row_validity = NULL;
    }
    ard_pq_column_data_reset(&col);
    return ARD_OK;
}

static void reference_reset(ard_pq_f32_matrix *m) {
    free(m->values);
    free(m->validity);
    free(m->row_validity);
    memset(m, 0, sizeof *m);
}

/* One file read every way (from the file, from memory, allocating and _into a buffer of garbage)
 * against the plain path, row group by row group. Returns the pages placed whole meanwhile. */
static uint64_t compare_with_plain(const char *path) {
    uint8_t *bytes = NULL;
    ard_parquet_file *pf = NULL, *pm = NULL;
    int32_t leaf = dfx_open_both(path, &bytes, &pf, &pm);
    uint64_t before = ard__pq_whole_pages();
    for (int32_t rg = 0; rg < ard_parquet_metadata(pf)->num_row_groups; rg++) {
        ard_pq_f32_matrix ref, a, b;
        ard_status sr = reference_matrix(pf, rg, leaf, &ref);
        ard_error err;
        ard_error_init(&err);
        for (int from_memory = 0; from_memory < 2; from_memory++) {
            ard_pq_f32_matrix *m = from_memory ? &b : &a;
            ard_status st = ard_parquet_read_f32_matrix(from_memory ? pm : pf, rg, leaf, m, &err);
            if (st != sr) {
                fail_msg("row group %d: %s, plain path %s (%s)", rg, ard_status_name(st),
                         ard_status_name(sr), err.msg);
            }
        }
        if (sr != ARD_OK) {
            continue;
        }
        dfx_assert_same_matrix(&a, &ref);
        dfx_assert_same_matrix(&b, &ref);
        dfx_assert_into(pf, rg, leaf, &ref);
        reference_reset(&ref);
        ard_pq_matrix_reset(&a);
        ard_pq_matrix_reset(&b);
    }
    uint64_t whole = ard__pq_whole_pages() - before;
    ard_parquet_close(pf);
    ard_parquet_close(pm);
    free(bytes);
    return whole;
}

static int setup(void **state) {
    return dfx_setup(state, "decode-whole");
}

/* 4.4 MB chunks of 300 KiB pages cut inside rows: uncompressed pages are deferred (read from the
 * file straight into place), compressed ones go through scratch or are staged (ZSTD). */
static void test_codecs(void **state) {
    dfx_fixture *fx = *state;
    static const int32_t codecs[] = {ARD_PQ_UNCOMPRESSED, ARD_PQ_SNAPPY, ARD_PQ_ZSTD};
    for (size_t c = 0; c < 3; c++) {
        for (int32_t bss = 0; bss < 2; bss++) {
            for (int32_t version = 1; version <= 2; version++) {
                shape sh = {1000, 2 * 1100 + 300, 1100, 300 << 10, codecs[c], bss, version, CLEAN};
                write_shape(fx->path, &sh);
                uint64_t whole = compare_with_plain(fx->path);
                if (whole < 30) { /* ~15 pages per full row group */
                    fail_msg("codec %d bss %d v%d: %llu pages whole", codecs[c], bss, version,
                             (unsigned long long)whole);
                }
            }
        }
    }
}

/* Nulls, null lists, empty and uneven lists in the second row group: its spoilt pages take the
 * windows (and report the uneven and empty lists), the pages around them stay whole. */
static void test_spoilt_rows(void **state) {
    dfx_fixture *fx = *state;
    static const enum kind kinds[] = {NULL_ELEMENTS, NULL_LISTS, EMPTY_LISTS, UNEVEN};
    static const int32_t codecs[] = {ARD_PQ_UNCOMPRESSED, ARD_PQ_ZSTD};
    for (size_t k = 0; k < 4; k++) {
        for (size_t c = 0; c < 2; c++) {
            shape sh = {1000, 2 * 1100 + 300, 1100, 300 << 10, codecs[c], 0, 1, kinds[k]};
            write_shape(fx->path, &sh);
            uint64_t whole = compare_with_plain(fx->path);
            assert_true(whole >= 15);
        }
    }
}

/* Narrow and odd widths in small pages (many per chunk, cut anywhere in a row): repetition levels
 * all zero (width 1), all bit-packed (2, 3), and groups that straddle records (7, 9, 63, 64, 65). */
static void test_widths(void **state) {
    dfx_fixture *fx = *state;
    static const int64_t widths[] = {1, 2, 3, 7, 9, 63, 64, 65, 1000};
    for (size_t i = 0; i < sizeof widths / sizeof *widths; i++) {
        for (int32_t version = 1; version <= 2; version++) {
            for (int kind = CLEAN; kind <= NULL_ELEMENTS; kind++) {
                int64_t rows = widths[i] < 64 ? 3000 : 600;
                shape sh = {widths[i],           rows, rows / 2 - 7, 4096 + 333 * (int64_t)i,
                            ARD_PQ_UNCOMPRESSED, 0,    version,      (enum kind)kind};
                write_shape(fx->path, &sh);
                assert_true(compare_with_plain(fx->path) > 0);
            }
        }
    }
}

/* ---- the record check on level streams ---- */

/* Reference: the levels decoded, then compared with the record pattern. */
static int records_by_decoding(const uint8_t *enc, size_t len, int64_t n, int64_t phase,
                               int64_t w) {
    int16_t *lv = malloc((size_t)n * sizeof *lv + 2);
    ard__levels ls;
    ard__levels_init(&ls, enc, len, 1);
    int ok = ard__levels_read(&ls, lv, n, NULL) == ARD_OK;
    for (int64_t i = 0; ok && i < n; i++) {
        ok = lv[i] == ((phase + i) % w == 0 ? 0 : 1);
    }
    free(lv);
    return ok;
}

/* Levels as one bit-packed run (bit width 1), padded to whole groups. */
static size_t pack_all(const int16_t *lv, int64_t n, uint8_t *out) {
    int64_t groups = (n + 7) / 8;
    size_t at = 0;
    uint64_t h = (uint64_t)groups << 1 | 1;
    while (h >= 0x80) {
        out[at++] = (uint8_t)(h | 0x80);
        h >>= 7;
    }
    out[at++] = (uint8_t)h;
    memset(out + at, 0, (size_t)groups);
    for (int64_t i = 0; i < n; i++) {
        out[at + (size_t)(i / 8)] |= (uint8_t)((lv[i] & 1) << (i % 8));
    }
    return at + (size_t)groups;
}

static void check_stream(const uint8_t *enc, size_t len, int64_t n, int64_t phase, int64_t w) {
    ard__levels ls;
    ard__levels_init(&ls, enc, len, 1);
    int fast = ard__levels_are_records(&ls, n, phase, w);
    int ref = records_by_decoding(enc, len, n, phase, w);
    if (fast != ref) {
        fail_msg("n %lld phase %lld w %lld: record check %d, decoded levels %d", (long long)n,
                 (long long)phase, (long long)w, fast, ref);
    }
}

/* Every phase of a narrow record, a few random ones of a wide one. */
static int64_t next_phase(uint64_t *s, int64_t phase, int64_t w) {
    return phase + (w > 10 ? (int64_t)(1 + dfx_mix(s) % (uint64_t)(w / 3)) : 1);
}

/* Record patterns (every width and phase, hybrid-encoded by the writer's encoder and as one packed
 * run), each also with one level flipped at a random place, a stray value 2 (bit width 2 claimed
 * as 1 is refused by the bit width check), cut short, and read in two pieces. */
static void test_record_levels(void **state) {
    (void)state;
    enum { NL = 5000 };
    static const int64_t widths[] = {1, 2, 3, 7, 8, 9, 16, 63, 64, 65, 100, 129, 1000, 4096};
    int16_t *lv = malloc(NL * sizeof *lv);
    uint8_t *packed = malloc(NL / 8 + 16);
    assert_true(lv && packed);
    uint64_t s = 3;
    for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++) {
        int64_t w = widths[wi];
        for (int64_t phase = 0; phase < w; phase = next_phase(&s, phase, w)) {
            for (int flip = 0; flip < 3; flip++) {
                int64_t n = NL - (int64_t)(dfx_mix(&s) % 50);
                for (int64_t i = 0; i < n; i++) {
                    lv[i] = (phase + i) % w == 0 ? 0 : 1;
                }
                if (flip > 0) {
                    int64_t at = (int64_t)(dfx_mix(&s) % (uint64_t)n);
                    lv[at] = (int16_t)(1 - lv[at]);
                }
                if (flip == 2) { /* and a record that starts early (an uneven list) */
                    int64_t at = (int64_t)(dfx_mix(&s) % (uint64_t)n);
                    lv[at] = 0;
                }
                ard_buf enc;
                ard_buf_init(&enc);
                ard__rle_encode_levels(lv, n, 1, &enc);
                check_stream(enc.data, enc.len, n, phase, w);
                check_stream(enc.data, enc.len * 2 / 3, n, phase, w); /* cut short */
                check_stream(enc.data, enc.len, n / 2, phase, w);     /* a prefix */
                size_t plen = pack_all(lv, n, packed);
                check_stream(packed, plen, n, phase, w);
                check_stream(packed, plen - 1, n, phase, w);
                /* two reads: the second starts where the first left the stream (mid group) */
                int64_t cut = 1 + (int64_t)(dfx_mix(&s) % (uint64_t)(n - 1));
                ard__levels ls;
                ard__levels_init(&ls, enc.data, enc.len, 1);
                int first = ard__levels_are_records(&ls, cut, phase, w);
                int second = first && ard__levels_are_records(&ls, n - cut, (phase + cut) % w, w);
                assert_int_equal(first && second,
                                 records_by_decoding(enc.data, enc.len, n, phase, w));
                ard_buf_reset(&enc);
            }
        }
    }
    /* a run of zeros is records of width 1 only; a value the width cannot hold is refused */
    int16_t zeros[40] = {0};
    ard_buf enc;
    ard_buf_init(&enc);
    ard__rle_encode_levels(zeros, 40, 1, &enc);
    check_stream(enc.data, enc.len, 40, 0, 1);
    check_stream(enc.data, enc.len, 40, 0, 2);
    ard__levels ls;
    ard__levels_init(&ls, enc.data, enc.len, 2);
    assert_int_equal(ard__levels_are_records(&ls, 40, 0, 1), 0);
    ard__levels_init(&ls, enc.data, enc.len, 1);
    assert_int_equal(ard__levels_are_records(&ls, 40, 1, 1), 0); /* phase outside the width */
    ard_buf_reset(&enc);
    static const uint8_t rle_two[] = {40 << 1, 2}; /* an RLE run of 40 twos */
    ard__levels_init(&ls, rle_two, sizeof rle_two, 1);
    assert_int_equal(ard__levels_are_records(&ls, 40, 0, 1000), 0);
    free(lv);
    free(packed);
}

/* ---- lying headers, damaged levels, truncated files ---- */

static uint64_t read_varint(const uint8_t *p, size_t *len) {
    uint64_t v = 0;
    size_t i = 0;
    for (int shift = 0;; shift += 7) {
        v |= (uint64_t)(p[i] & 0x7f) << shift;
        if (!(p[i++] & 0x80)) {
            break;
        }
    }
    *len = i;
    return v;
}

/* Writes v as a varint of exactly `len` bytes (padding with continuation bytes); 0 if it needs more. */
static int write_varint(uint8_t *p, uint64_t v, size_t len) {
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)((v & 0x7f) | (i + 1 < len ? 0x80 : 0));
        v >>= 7;
    }
    return v == 0;
}

/* Where the i32 fields of a page header lie: 1 type, 2 uncompressed, 3 compressed, then the data
 * page header's 1 num_values (a writer without CRC or statistics before field 5). */
typedef struct header_fields {
    size_t at[4], len[4]; /* varint offsets (from the header start) and lengths */
} header_fields;

static void find_fields(const uint8_t *h, header_fields *f) {
    size_t pos = 0, len = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h[pos] & 0x0f, 5); /* i32 */
        pos++;
        f->at[i] = pos;
        read_varint(h + pos, &len);
        f->len[i] = len;
        pos += len;
    }
    assert_int_equal(h[pos] & 0x0f, 12); /* field 5 or 8: the data page header struct */
    pos++;
    assert_int_equal(h[pos], 0x15); /* its field 1, i32 */
    pos++;
    f->at[3] = pos;
    read_varint(h + pos, &len);
    f->len[3] = len;
}

/* Reads every row group of the damaged bytes (from memory and from a file): each is an error with
 * a message, or matches the plain path on the same bytes. */
static void read_damaged(const char *path, const uint8_t *bytes, size_t size) {
    ard_parquet_file *pm = NULL;
    if (ard_parquet_open_memory(bytes, size, "damaged", NULL, &pm, NULL) != ARD_OK) {
        return;
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    fclose(f);
    ard_parquet_file *pf = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pf, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(pm, "FLUX.list.element");
    for (int32_t rg = 0; rg < ard_parquet_metadata(pm)->num_row_groups; rg++) {
        for (int from_file = 0; from_file < 2; from_file++) {
            ard_pq_f32_matrix m, ref;
            ard_error err;
            ard_error_init(&err);
            ard_status st = ard_parquet_read_f32_matrix(from_file ? pf : pm, rg, leaf, &m, &err);
            if (st != ARD_OK) {
                assert_true(strlen(err.msg) > 0);
                assert_null(m.values);
                continue;
            }
            assert_int_equal(reference_matrix(pm, rg, leaf, &ref), ARD_OK);
            dfx_assert_same_matrix(&m, &ref);
            reference_reset(&ref);
            ard_pq_matrix_reset(&m);
        }
    }
    ard_parquet_close(pf);
    ard_parquet_close(pm);
}

/* File offsets of the page headers of a chunk (at most 32); their count. */
static int chunk_pages(const uint8_t *bytes, const ard_pq_column_chunk *cc, int64_t *pages) {
    int n = 0;
    for (int64_t pos = cc->chunk_start; pos < cc->chunk_start + cc->total_compressed_size;) {
        ard__pq_page_header h;
        assert_int_equal(ard__pq_decode_page_header(bytes + pos, 4096, pos, "mem", &h, NULL),
                         ARD_OK);
        assert_true(n < 32);
        pages[n++] = pos;
        pos += (int64_t)h.header_size + h.compressed_page_size;
    }
    return n;
}

static void test_lying_headers(void **state) {
    dfx_fixture *fx = *state;
    shape sh = {1000, 2 * 1100 + 300, 1100, 300 << 10, ARD_PQ_UNCOMPRESSED, 0, 1, CLEAN};
    write_shape(fx->path, &sh);
    size_t size = 0;
    uint8_t *bytes = ard_test_read_file(fx->path, &size);
    uint8_t *copy = malloc(size);
    assert_true(bytes && copy);
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open_memory(bytes, size, "mem", NULL, &pq, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
    char damaged[600];
    snprintf(damaged, sizeof damaged, "%s.damaged", fx->path);
    /* pages 0, 1 and the last of row group 1 */
    int64_t pages[32];
    int npages = chunk_pages(bytes, &ard_parquet_metadata(pq)->row_groups[1].columns[leaf], pages);
    int64_t targets[3] = {pages[0], pages[1], pages[npages - 1]};
    static const int64_t deltas[] = {-1, 1, -4, 4, -1000, 1000, 77, -77, 4096};
    for (int t = 0; t < 3; t++) {
        header_fields hf;
        find_fields(bytes + targets[t], &hf);
        for (int field = 1; field < 4; field++) { /* uncompressed, compressed, num_values */
            for (size_t d = 0; d < sizeof deltas / sizeof *deltas; d++) {
                memcpy(copy, bytes, size);
                uint8_t *p = copy + targets[t] + hf.at[field];
                size_t len = 0;
                int64_t v = (int64_t)(read_varint(p, &len) >> 1); /* zigzag, v >= 0 */
                int64_t lie = v + deltas[d];
                uint64_t zz = (uint64_t)(lie << 1) ^ (uint64_t)(lie >> 63);
                if (lie < 0 || !write_varint(p, zz, len)) {
                    continue;
                }
                read_damaged(damaged, copy, size);
            }
        }
        /* the levels: the length prefix of the repetition levels and bytes inside their runs */
        ard__pq_page_header h;
        assert_int_equal(ard__pq_decode_page_header(bytes + targets[t], 4096, 0, "m", &h, NULL),
                         ARD_OK);
        int64_t body = targets[t] + (int64_t)h.header_size;
        uint32_t rep_len = (uint32_t)bytes[body] | (uint32_t)bytes[body + 1] << 8 |
                           (uint32_t)bytes[body + 2] << 16 | (uint32_t)bytes[body + 3] << 24;
        for (int k = 0; k < 12; k++) {
            memcpy(copy, bytes, size);
            if (k < 3) { /* the length prefix says more, less, or far too much */
                uint32_t lie = k == 0 ? rep_len + 3 : k == 1 ? rep_len - 2 : 0x7ffffff0u;
                memcpy(copy + body, &lie, 4);
            } else { /* a byte inside the repetition or definition runs */
                int64_t at = body + 4 + (int64_t)((uint32_t)(k - 3) * (rep_len + 8) / 9);
                copy[at] ^= (uint8_t)(k & 1 ? 0x01 : 0x80);
            }
            read_damaged(damaged, copy, size);
        }
    }
    ard_parquet_close(pq);
    free(copy);
    free(bytes);
}

/* The file shrinks under an open reader: inside a page header, inside its levels, inside its values
 * (first page and last page of a row group): an error naming the file, never a crash. */
static void test_truncated(void **state) {
    dfx_fixture *fx = *state;
    shape sh = {1000, 2 * 1100 + 300, 1100, 300 << 10, ARD_PQ_UNCOMPRESSED, 0, 1, CLEAN};
    for (int cut = 0; cut < 6; cut++) {
        write_shape(fx->path, &sh);
        ard_parquet_file *pq = NULL;
        assert_int_equal(ard_parquet_open(fx->path, NULL, &pq, NULL), ARD_OK);
        int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
        size_t size = 0;
        uint8_t *bytes = ard_test_read_file(fx->path, &size);
        assert_non_null(bytes);
        int64_t pages[32];
        int n = chunk_pages(bytes, &ard_parquet_metadata(pq)->row_groups[1].columns[leaf], pages);
        free(bytes);
        int64_t page = cut < 3 ? pages[0] : pages[n - 1];
        static const int64_t into[] = {5, 40, 5000};
        assert_int_equal(truncate(fx->path, (off_t)(page + into[cut % 3])), 0);
        ard_pq_f32_matrix m;
        ard_error err;
        ard_error_init(&err);
        ard_status st = ard_parquet_read_f32_matrix(pq, 1, leaf, &m, &err);
        if (st == ARD_OK || !strstr(err.msg, fx->path)) {
            fail_msg("cut %d: %s (%s)", cut, ard_status_name(st), err.msg);
        }
        assert_null(m.values);
        assert_int_equal(ard_parquet_read_f32_matrix(pq, 0, leaf, &m, NULL), ARD_OK);
        ard_pq_matrix_reset(&m);
        ard_parquet_close(pq);
    }
}

int ard_test_decode_whole_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_levels),
        cmocka_unit_test_setup_teardown(test_codecs, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_spoilt_rows, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_widths, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_lying_headers, setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, dfx_teardown),
    };
    return cmocka_run_group_tests_name("parquet_decode_whole", tests, NULL, NULL);
}
