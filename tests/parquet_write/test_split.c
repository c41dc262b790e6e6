/* FLOAT values split into their BYTE_STREAM_SPLIT streams as they arrive (writer_split.c) against
 * the plain path (copied into the page, split at flush), byte for byte: the AVX-512 and portable
 * kernels and the plain path must write the same file, on adversarial input: null and empty rows,
 * null elements (runs split around them), uneven list lengths, NaN (quiet and signalling, of
 * both signs), +-0, +-infinity, all-NaN and all-null pages, pages and row groups cut anywhere, v1
 * and v2 pages, SNAPPY, UNCOMPRESSED and ZSTD; and whole rows given as a matrix. */
#include "tw_util.h"

#include "../../src/parquet/writer_int.h"

#include "common/ard_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float odd_float(tw_rng *rng, int64_t i) {
    static const uint32_t specials[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff812345u,
                                        0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u,
                                        0x00000001u, 0x7f7fffffu, 0xff7fffffu, 0x3f800000u};
    float f;
    uint64_t x = tw_next(rng);
    if (x % 7 == 0) {
        uint32_t u = specials[(x >> 8) % (sizeof specials / sizeof specials[0])];
        memcpy(&f, &u, 4);
    } else {
        f = (float)((double)(int64_t)(x >> 20) / 1e9) * (float)(1 + i % 5);
    }
    return f;
}

/* Writes `rows` lists of values (offsets, element and row validity) in batches of `batch` rows;
 * returns the file's bytes. matrix: rows of `width` values through write_list_matrix. */
static uint8_t *write_floats(const char *path, const float *v, const int64_t *off,
                             const uint8_t *ev, const uint8_t *rv, int64_t rows, int64_t width,
                             int64_t batch, const ard_pq_writer_options *o, size_t *len) {
    ard_pq_schema_builder *sb = NULL;
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    assert_int_equal(ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL,
                                            ARD_PQ_OPTIONAL, NULL, NULL, NULL),
                     ARD_OK);
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, o, &w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
    for (int64_t r0 = 0; r0 < rows; r0 += batch) {
        int64_t n = rows - r0 < batch ? rows - r0 : batch;
        ard_status st;
        if (width > 0) {
            st = ard_pq_writer_write_list_matrix(w, 0, v + r0 * width, n, width, NULL, NULL, NULL);
        } else {
            /* offsets rebased to the batch: the list API takes a batch's own offsets */
            int64_t *ob = malloc((size_t)(n + 1) * sizeof *ob);
            uint8_t *eb = calloc((size_t)(off[r0 + n] - off[r0] + 8) / 8 + 1, 1);
            uint8_t *rb = calloc((size_t)(n + 8) / 8, 1);
            assert_true(ob && eb && rb);
            for (int64_t r = 0; r <= n; r++) {
                ob[r] = off[r0 + r] - off[r0];
            }
            for (int64_t e = off[r0]; e < off[r0 + n]; e++) {
                int64_t q = e - off[r0];
                eb[q / 8] |= (uint8_t)(((ev[e / 8] >> (e % 8)) & 1) << (q % 8));
            }
            for (int64_t r = 0; r < n; r++) {
                rb[r / 8] |= (uint8_t)(((rv[(r0 + r) / 8] >> ((r0 + r) % 8)) & 1) << (r % 8));
            }
            st = ard_pq_writer_write_list(w, 0, ob, v + off[r0], eb, rb, n, NULL);
            free(ob);
            free(eb);
            free(rb);
        }
        assert_int_equal(st, ARD_OK);
    }
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
    uint8_t *bytes = ard_test_read_file(path, len);
    assert_non_null(bytes);
    return bytes;
}

void tw_test_split_paths(void **state) {
    (void)state;
    static const int32_t codecs[] = {ARD_PQ_SNAPPY, ARD_PQ_UNCOMPRESSED, ARD_PQ_ZSTD};
    tw_rng rng = {2026};
    int64_t rows = 300, cap = rows * 80;
    float *v = malloc((size_t)cap * sizeof *v);
    int64_t *off = malloc((size_t)(rows + 1) * sizeof *off);
    uint8_t *ev = calloc((size_t)cap / 8 + 1, 1), *rv = calloc((size_t)rows / 8 + 1, 1);
    assert_true(v && off && ev && rv);
    off[0] = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t len = r % 13 == 0 ? 0 : tw_range(&rng, 1, 79); /* uneven, some empty */
        int row_null = r % 17 == 5, nan_row = r % 23 == 3, null_row_elems = r % 19 == 7;
        rv[r / 8] |= (uint8_t)(!row_null << (r % 8));
        for (int64_t k = off[r]; k < off[r] + len; k++) {
            float f = odd_float(&rng, k);
            uint32_t qnan = 0x7fc00001u;
            if (nan_row) {
                memcpy(&f, &qnan, 4);
            }
            v[k] = f;
            int valid = !null_row_elems && tw_range(&rng, 0, 9) != 0;
            ev[k / 8] |= (uint8_t)(valid << (k % 8));
        }
        off[r + 1] = off[r] + len;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/split.parquet", tw_dir());
    int saved = ard__pqw_split_mode;
    for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
        for (int variant = 0; variant < 8; variant++) {
            ard_pq_writer_options o;
            ard_pq_writer_options_init(&o);
            o.codec = codecs[ci];
            o.byte_stream_split = 1;
            o.page_version = variant & 1 ? 2 : 1;
            o.page_size_bytes = variant & 2 ? 700 : 0; /* many pages, rows split */
            o.rows_per_row_group = variant & 4 ? 37 : 0;
            int64_t batch = variant & 4 ? 11 : 64;
            for (int matrix = 0; matrix < 2; matrix++) {
                int64_t width = matrix ? 33 : 0, mrows = matrix ? cap / 33 : rows;
                uint8_t *file[3];
                size_t len[3];
                for (int mode = 0; mode < 3; mode++) {
                    ard__pqw_split_mode = mode;
                    file[mode] =
                        write_floats(path, v, off, ev, rv, mrows, width, batch, &o, &len[mode]);
                }
                ard__pqw_split_mode = saved;
                for (int mode = 1; mode < 3; mode++) {
                    if (len[mode] != len[0] || memcmp(file[mode], file[0], len[0]) != 0) {
                        fail_msg("codec %d variant %d matrix %d: split mode %d writes %zu bytes "
                                 "unlike the plain path's %zu",
                                 codecs[ci], variant, matrix, mode, len[mode], len[0]);
                    }
                }
                for (int mode = 0; mode < 3; mode++) {
                    free(file[mode]);
                }
            }
        }
    }
    free(v);
    free(off);
    free(ev);
    free(rv);
}
