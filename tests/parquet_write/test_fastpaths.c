/* The writer's fast paths against its plain paths, byte for byte, on adversarial input:
 * - 1-byte integer lists (a MASK's uint8) in dictionary pages, taken a run at a time without
 *   widening, their indices kept as runs (writer_append.c, writer_levels.c), against the same
 *   values given as 4-byte integers, which take the widening store and dict_runs4: the data
 *   pages, dictionary pages and page index must be the same bytes (only the footer's logical type
 *   differs);
 * - a page's levels kept as runs and encoded from them (writer_levels.c) against
 *   ard__rle_encode_levels of the same levels expanded, on runs of every length around the
 *   8-value groups, alternation, single values, all-equal and long pages. */
#include "tw_util.h"

#include "../../src/parquet/writer_int.h"

#include "common/ard_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Row r of a mask-like matrix: runs of every length around the 8-byte step, all-equal rows at
 * both extremes, alternation, random bytes (many distinct values: dictionary fallback). */
static void narrow_row(uint8_t *row, int64_t width, int64_t r, tw_rng *rng) {
    for (int64_t k = 0; k < width;) {
        int64_t run = 1;
        uint8_t v = 0;
        switch (r % 8) {
        case 0:
            run = width;
            break;
        case 1:
            run = width, v = 0xff;
            break;
        case 2:
            v = (uint8_t)(k & 1);
            break;
        case 3:
            run = tw_range(rng, 1, 20), v = (uint8_t)tw_range(rng, 0, 3);
            break;
        case 4:
            v = (uint8_t)tw_next(rng);
            break;
        case 5:
            run = 7 + k % 3, v = (uint8_t)(k % 2 ? 0x80 : 0x7f);
            break;
        case 6:
            run = tw_range(rng, 60, 300), v = (uint8_t)(tw_next(rng) % 2 ? 0 : 4);
            break;
        default:
            run = tw_range(rng, 1, 9), v = (uint8_t)(r / 8);
            break;
        }
        for (int64_t q = 0; q < run && k < width; q++, k++) {
            row[k] = v;
        }
    }
}

/* Writes the matrix as list<INT(8, is_signed)> from bytes (narrow) or list<INT(32, is_signed)>
 * from the same values widened; returns the file's bytes before its footer. */
static uint8_t *write_narrow(const char *path, const uint8_t *m, int64_t rows, int64_t width,
                             int is_signed, int narrow, const ard_pq_writer_options *o,
                             size_t *len) {
    ard_pq_schema_builder *sb = NULL;
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    ard_pq_logical lt = {0};
    lt.kind = ARD_PQ_LT_INTEGER;
    lt.bit_width = narrow ? 8 : 32;
    lt.is_signed = is_signed;
    assert_int_equal(ard_pq_schema_add_list(sb, "MASK", ARD_PQ_INT32, ARD_PQ_REQUIRED,
                                            ARD_PQ_REQUIRED, &lt, NULL, NULL),
                     ARD_OK);
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, o, &w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
    int32_t *wide = malloc((size_t)(rows * width) * sizeof *wide);
    assert_non_null(wide);
    for (int64_t i = 0; i < rows * width; i++) {
        wide[i] = is_signed ? (int32_t)(int8_t)m[i] : (int32_t)m[i];
    }
    for (int64_t r0 = 0; r0 < rows; r0 += 5) { /* batches of 5 rows: pages and row groups split */
        int64_t n = rows - r0 < 5 ? rows - r0 : 5;
        const void *src =
            narrow ? (const void *)(m + r0 * width) : (const void *)(wide + r0 * width);
        assert_int_equal(ard_pq_writer_write_list_matrix(w, 0, src, n, width, NULL, NULL, NULL),
                         ARD_OK);
    }
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
    free(wide);
    size_t size = 0;
    uint8_t *bytes = ard_test_read_file(path, &size);
    assert_non_null(bytes);
    assert_true(size > 12);
    uint32_t footer;
    memcpy(&footer, bytes + size - 8, 4);
    *len = size - 8 - footer;
    return bytes;
}

void tw_test_narrow_dict_runs(void **state) {
    (void)state;
    static const int64_t widths[] = {1, 7, 8, 9, 37, 4096};
    tw_rng rng = {42};
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/narrow.parquet", tw_dir());
    snprintf(b, sizeof b, "%s/wide.parquet", tw_dir());
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
        int64_t width = widths[wi], rows = 67;
        uint8_t *m = malloc((size_t)(rows * width));
        assert_non_null(m);
        for (int64_t r = 0; r < rows; r++) {
            narrow_row(m + r * width, width, r, &rng);
        }
        for (int variant = 0; variant < 4; variant++) {
            ard_pq_writer_options o;
            ard_pq_writer_options_init(&o);
            o.page_size_bytes = variant & 1 ? 3000 : 0;    /* many pages, split rows */
            o.max_dictionary_bytes = variant & 2 ? 40 : 0; /* falls back to PLAIN */
            o.rows_per_row_group = variant == 3 ? 11 : 0;
            for (int is_signed = 0; is_signed < 2; is_signed++) {
                size_t la = 0, lb = 0;
                uint8_t *x = write_narrow(a, m, rows, width, is_signed, 1, &o, &la);
                uint8_t *y = write_narrow(b, m, rows, width, is_signed, 0, &o, &lb);
                if (la != lb || memcmp(x, y, la) != 0) {
                    fail_msg("width %lld variant %d signed %d: narrow and wide pages differ "
                             "(%zu / %zu bytes)",
                             (long long)width, variant, is_signed, la, lb);
                }
                free(x);
                free(y);
            }
        }
        free(m);
    }
}

/* Level sequence `kind` of n values at most max, pushed as runs into l and expanded into flat. */
static void level_sequence(int kind, int64_t n, int16_t max, tw_rng *rng, ard__pqw_levels *l,
                           int16_t *flat) {
    for (int64_t k = 0; k < n;) {
        int64_t run = 1;
        int16_t v = 0;
        switch (kind) {
        case 0: /* list rows: rep 0 then 1s, rows of random width */
            v = 0;
            if (k > 0 && flat[k - 1] == 0) {
                v = 1, run = tw_range(rng, 0, 40);
            }
            break;
        case 1:
            run = n, v = max;
            break;
        case 2:
            v = (int16_t)(k % 2 ? max : 0);
            break;
        case 3:
            run = tw_range(rng, 1, 17), v = (int16_t)tw_range(rng, 0, max);
            break;
        case 4: /* long runs with rare short interruptions (a spectrum's null pixels) */
            run = tw_range(rng, 0, 3) == 0 ? tw_range(rng, 1, 3) : tw_range(rng, 100, 5000);
            v = (int16_t)(run < 4 ? max - 1 : max);
            break;
        default:
            run = 7 + tw_range(rng, 0, 2), v = (int16_t)tw_range(rng, 0, max);
            break;
        }
        run = run < n - k ? run : n - k;
        /* pushed in pieces, as rows and validity bytes arrive; equal neighbours merge */
        for (int64_t done = 0; done < run;) {
            int64_t piece = tw_range(rng, 1, 9) == 1 ? 1 : run - done;
            assert_int_equal(ard__pqw_levels_push(l, v, piece), 0);
            done += piece;
        }
        for (int64_t q = 0; q < run; q++) {
            flat[k + q] = v;
        }
        k += run;
    }
}

void tw_test_level_runs(void **state) {
    (void)state;
    static const int64_t lengths[] = {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 4096, 100003};
    static const int16_t maxes[] = {1, 2, 3, 7};
    tw_rng rng = {7};
    int16_t *flat = malloc(100003 * sizeof *flat);
    assert_non_null(flat);
    ard_buf want, got, tmp;
    ard_buf_init(&want);
    ard_buf_init(&got);
    ard_buf_init(&tmp);
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        for (int kind = 0; kind < 6; kind++) {
            for (size_t mi = 0; mi < sizeof maxes / sizeof maxes[0]; mi++) {
                ard__pqw_levels l;
                memset(&l, 0, sizeof l);
                level_sequence(kind, lengths[li], maxes[mi], &rng, &l, flat);
                int bw = maxes[mi] == 1 ? 1 : (maxes[mi] <= 3 ? 2 : 3);
                want.len = got.len = 0;
                ard__rle_encode_levels(flat, lengths[li], bw, &want);
                ard__pqw_levels_encode(&l, bw, &tmp, &got);
                assert_false(want.failed || got.failed);
                if (want.len != got.len || (want.len && memcmp(want.data, got.data, want.len))) {
                    fail_msg("levels: %lld values, kind %d, max %d: runs encode to %zu bytes, "
                             "the flat levels to %zu",
                             (long long)lengths[li], kind, maxes[mi], got.len, want.len);
                }
                ard__pqw_levels_reset(&l);
            }
        }
    }
    ard_buf_reset(&want);
    ard_buf_reset(&got);
    ard_buf_reset(&tmp);
    free(flat);
}
