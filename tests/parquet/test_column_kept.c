/* ard_parquet_read_column_kept against the plain ard_parquet_read_column: one set of kept buffers
 * reads every column of every row group of files made to be awkward for reused buffers (nulls, NaN
 * payloads, infinities, empty and long strings, lists, booleans, FIXED_LEN_BYTE_ARRAY, row groups of
 * very uneven sizes read big, small, big, pages a few hundred bytes long, dictionary and PLAIN,
 * v1 and v2 pages), and must give exactly the plain read's result each time; a failed read frees
 * the buffers and the next one works; injected allocation failures fail cleanly. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/parquet.h"
#include "ard/parquet_write.h"
#include "decode_fixture.h"
#include "suites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KEPT_COLS = 7 };

/* Rows per row group: very uneven, read in an order that shrinks and regrows the columns. */
static const int64_t group_rows[] = {5000, 17, 1, 12000, 3, 2500};
enum { KEPT_GROUPS = (int)(sizeof group_rows / sizeof group_rows[0]) };

static int kept_setup(void **state) {
    return dfx_setup(state, "column_kept");
}

/* An adversarial double: NaNs of two payloads and signs, infinities, -0, else uniform. */
static double odd_double(uint64_t *s) {
    uint64_t r = dfx_mix(s);
    switch (r % 11) {
    case 0: {
        uint64_t bits = 0x7ff8000000000000u | (r >> 20 & 0xffff);
        double d;
        memcpy(&d, &bits, 8);
        return (r & 1) ? -d : d;
    }
    case 1:
        return (r & 2) ? INFINITY : -INFINITY;
    case 2:
        return -0.0;
    default:
        return (double)(r >> 11) / 9007199254740992.0 * 100.0 - 50.0;
    }
}

/* Writes one row group of n rows (seeded by g) to the 7 columns. */
static void write_group(ard_pq_writer *w, int64_t n, uint64_t g) {
    uint64_t s = 1000 + g;
    ard_error err;
    ard_error_init(&err);
    int64_t *ids = calloc((size_t)n + 1, 8);
    double *z = calloc((size_t)n + 1, 8);
    uint8_t *flags = calloc((size_t)n + 1, 1);
    int32_t *small = calloc((size_t)n + 1, 4);
    uint8_t *fixed = calloc((size_t)n + 1, 4);
    size_t vb = (size_t)n / 8 + 2;
    uint8_t *zv = calloc(vb, 1), *nv = calloc(vb, 1), *fv = calloc(vb, 1), *sv = calloc(vb, 1);
    uint8_t *lv = calloc(vb, 1);
    int64_t *offs = calloc((size_t)n + 1, 8), *loffs = calloc((size_t)n + 1, 8);
    char *text = calloc((size_t)n * 40 + 1, 1);
    float *elems = calloc((size_t)n * 6 + 1, 4);
    uint8_t *ev = calloc((size_t)n * 6 / 8 + 2, 1);
    static const char *const names[] = {"BGS", "LRG", "", "ELG", "QSO_with_a_much_longer_name"};
    int64_t at = 0, e = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = dfx_mix(&s);
        ids[i] = (int64_t)(r >> 1) - (int64_t)(g << 40);
        z[i] = odd_double(&s);
        if (r % 7) {
            dfx_set_bit(zv, i);
        }
        flags[i] = (uint8_t)(r >> 8 & 1);
        if (r % 3) {
            dfx_set_bit(fv, i);
        }
        small[i] = (int32_t)(r >> 16) - 7;
        if (r % 5) {
            dfx_set_bit(sv, i);
        }
        memcpy(fixed + 4 * i, &r, 4);
        offs[i] = at;
        if (r % 13) {
            dfx_set_bit(nv, i);
            const char *nm = names[(r >> 24) % 5];
            size_t len = (r >> 32) % 9 == 0 ? 30 : strlen(nm); /* some values unique and long */
            for (size_t k = 0; k < len; k++) {
                text[at++] = k < strlen(nm) ? nm[k] : (char)('a' + (r >> (k % 40)) % 26);
            }
        }
        loffs[i] = e;
        if (r % 17) {
            dfx_set_bit(lv, i);
            int64_t len = (int64_t)((r >> 40) % 6); /* empty lists too */
            for (int64_t k = 0; k < len; k++, e++) {
                elems[e] = (float)odd_double(&s);
                if ((r >> (k + 44)) % 4) {
                    dfx_set_bit(ev, e);
                }
            }
        }
    }
    offs[n] = at;
    loffs[n] = e;
    assert_int_equal(ard_pq_writer_write_column(w, 0, ids, NULL, n, &err), ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 1, z, zv, n, &err), ARD_OK);
    assert_int_equal(ard_pq_writer_write_binary(w, 2, offs, (const uint8_t *)text, nv, n, &err),
                     ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 3, flags, fv, n, &err), ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 4, small, sv, n, &err), ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 5, fixed, NULL, n, &err), ARD_OK);
    assert_int_equal(ard_pq_writer_write_list(w, 6, loffs, elems, ev, lv, n, &err), ARD_OK);
    assert_int_equal(ard_pq_writer_end_row_group(w, &err), ARD_OK);
    free(ids);
    free(z);
    free(flags);
    free(small);
    free(fixed);
    free(zv);
    free(nv);
    free(fv);
    free(sv);
    free(lv);
    free(offs);
    free(loffs);
    free(text);
    free(elems);
    free(ev);
}

static void write_file(const char *path, int32_t codec, int32_t page_version, int32_t dictionary) {
    ard_error err;
    ard_error_init(&err);
    ard_pq_schema_builder *sb = NULL;
    assert_int_equal(ard_pq_schema_new(&sb, &err), ARD_OK);
    ard_pq_logical str = {.kind = ARD_PQ_LT_STRING};
    assert_int_equal(
        ard_pq_schema_add_column(sb, "ID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, &err),
        ARD_OK);
    assert_int_equal(
        ard_pq_schema_add_column(sb, "Z", ARD_PQ_DOUBLE, ARD_PQ_OPTIONAL, NULL, 0, NULL, &err),
        ARD_OK);
    assert_int_equal(ard_pq_schema_add_column(sb, "NAME", ARD_PQ_BYTE_ARRAY, ARD_PQ_OPTIONAL, &str,
                                              0, NULL, &err),
                     ARD_OK);
    assert_int_equal(
        ard_pq_schema_add_column(sb, "FLAG", ARD_PQ_BOOLEAN, ARD_PQ_OPTIONAL, NULL, 0, NULL, &err),
        ARD_OK);
    assert_int_equal(
        ard_pq_schema_add_column(sb, "SMALL", ARD_PQ_INT32, ARD_PQ_OPTIONAL, NULL, 0, NULL, &err),
        ARD_OK);
    assert_int_equal(ard_pq_schema_add_column(sb, "FIXED", ARD_PQ_FIXED_LEN_BYTE_ARRAY,
                                              ARD_PQ_REQUIRED, NULL, 4, NULL, &err),
                     ARD_OK);
    assert_int_equal(ard_pq_schema_add_list(sb, "LIST", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL,
                                            ARD_PQ_OPTIONAL, NULL, NULL, &err),
                     ARD_OK);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = codec;
    o.page_version = page_version;
    o.page_size_bytes = 700; /* many page boundaries inside every row group */
    o.disable_dictionary = !dictionary;
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, &err), ARD_OK);
    ard_pq_schema_free(sb);
    for (int g = 0; g < KEPT_GROUPS; g++) {
        write_group(w, group_rows[g], (uint64_t)g);
    }
    assert_int_equal(ard_pq_writer_close(w, &err), ARD_OK);
}

static size_t value_width(const ard_pq_column_data *c) {
    switch (c->type) {
    case ARD_PQ_BOOLEAN:
        return 1;
    case ARD_PQ_INT32:
    case ARD_PQ_FLOAT:
        return 4;
    case ARD_PQ_INT96:
        return 12;
    case ARD_PQ_FIXED_LEN_BYTE_ARRAY:
        return (size_t)c->type_length;
    case ARD_PQ_BYTE_ARRAY:
        return 0;
    default:
        return 8;
    }
}

/* The same column, bit for bit (NaN payloads included), with NULL arrays where the plain has. */
static void assert_same_column(const ard_pq_column_data *a, const ard_pq_column_data *b) {
    assert_int_equal(a->leaf, b->leaf);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->type_length, b->type_length);
    assert_int_equal(a->max_def, b->max_def);
    assert_int_equal(a->max_rep, b->max_rep);
    assert_int_equal(a->num_rows, b->num_rows);
    assert_int_equal(a->num_levels, b->num_levels);
    assert_int_equal(a->num_values, b->num_values);
    assert_int_equal(a->def_levels == NULL, b->def_levels == NULL);
    assert_int_equal(a->rep_levels == NULL, b->rep_levels == NULL);
    assert_int_equal(a->values == NULL, b->values == NULL);
    assert_int_equal(a->offsets == NULL, b->offsets == NULL);
    assert_int_equal(a->data == NULL, b->data == NULL);
    if (a->def_levels && a->num_levels) {
        assert_memory_equal(a->def_levels, b->def_levels, (size_t)a->num_levels * 2);
    }
    if (a->rep_levels && a->num_levels) {
        assert_memory_equal(a->rep_levels, b->rep_levels, (size_t)a->num_levels * 2);
    }
    size_t w = value_width(a);
    if (w && a->num_values) {
        assert_memory_equal(a->values, b->values, (size_t)a->num_values * w);
    }
    if (a->offsets) {
        assert_memory_equal(a->offsets, b->offsets, (size_t)(a->num_values + 1) * 8);
        if (a->offsets[a->num_values]) {
            assert_memory_equal(a->data, b->data, (size_t)a->offsets[a->num_values]);
        }
    }
}

/* Every column of every row group, in an order that shrinks and regrows the buffers, through one
 * set of kept buffers. */
static void check_file(const char *path) {
    ard_parquet_file *f = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_open(path, NULL, &f, &err), ARD_OK);
    assert_int_equal(ard_parquet_metadata(f)->num_row_groups, KEPT_GROUPS);
    static const int32_t order[] = {3, 2, 0, 1, 4, 3, 5, 2, 3};
    ard_pq_column_buffers kept;
    memset(&kept, 0, sizeof kept);
    int32_t leaves = ard_parquet_metadata(f)->num_leaves;
    assert_int_equal(leaves, KEPT_COLS);
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        for (int32_t leaf = 0; leaf < leaves; leaf++) {
            int32_t rg = order[k];
            ard_pq_column_data plain;
            assert_int_equal(ard_parquet_read_column(f, rg, leaf, &plain, &err), ARD_OK);
            assert_int_equal(ard_parquet_read_column_kept(f, rg, leaf, &kept, &err), ARD_OK);
            assert_int_equal(kept.col.num_rows, group_rows[rg]);
            assert_same_column(&plain, &kept.col);
            ard_pq_column_data_reset(&plain);
        }
    }
    /* a failed read leaves nothing behind and the next one works */
    assert_int_equal(ard_parquet_read_column_kept(f, KEPT_GROUPS, 0, &kept, &err), ARD_EINVAL);
    assert_null(kept.values_keep);
    assert_int_equal(kept.col.num_values, 0);
    assert_int_equal(ard_parquet_read_column_kept(f, 0, 99, &kept, &err), ARD_EINVAL);
    ard_pq_column_data plain;
    assert_int_equal(ard_parquet_read_column(f, 0, 2, &plain, &err), ARD_OK);
    assert_int_equal(ard_parquet_read_column_kept(f, 0, 2, &kept, &err), ARD_OK);
    assert_same_column(&plain, &kept.col);
    ard_pq_column_data_reset(&plain);
    ard_pq_column_buffers_reset(&kept);
    ard_pq_column_buffers_reset(&kept); /* safe twice */
    ard_parquet_close(f);
}

static void test_kept_matches_plain(void **state) {
    dfx_fixture *fx = *state;
    write_file(fx->path, ARD_PQ_SNAPPY, 1, 1);
    check_file(fx->path);
    write_file(fx->path, ARD_PQ_UNCOMPRESSED, 2, 0);
    check_file(fx->path);
    write_file(fx->path, ARD_PQ_ZSTD, 2, 1);
    check_file(fx->path);
}

/* Every allocation of a kept read failing in turn (with buffers kept from an earlier read, and
 * without): ARD_ENOMEM, the buffers freed, never a crash or a leak (ASan). */
static void test_kept_allocation_failures(void **state) {
    dfx_fixture *fx = *state;
    write_file(fx->path, ARD_PQ_SNAPPY, 1, 1);
    ard_parquet_file *f = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_open(fx->path, NULL, &f, &err), ARD_OK);
    for (int32_t leaf = 0; leaf < KEPT_COLS; leaf++) {
        for (int warm = 0; warm < 2; warm++) {
            int done = 0;
            for (long n = 1; n < 200 && !done; n++) {
                ard_pq_column_buffers kept;
                memset(&kept, 0, sizeof kept);
                if (warm) {
                    assert_int_equal(ard_parquet_read_column_kept(f, 1, leaf, &kept, &err), ARD_OK);
                }
                ard_alloc_fail_after(n);
                ard_status st = ard_parquet_read_column_kept(f, 3, leaf, &kept, &err);
                ard_alloc_fail_after(0);
                if (st == ARD_OK) {
                    done = 1;
                    assert_int_equal(kept.col.num_rows, group_rows[3]);
                } else {
                    assert_int_equal(st, ARD_ENOMEM);
                    assert_null(kept.values_keep);
                    assert_null(kept.offsets_keep);
                    assert_null(kept.def_keep);
                }
                ard_pq_column_buffers_reset(&kept);
            }
            assert_true(done);
        }
    }
    ard_parquet_close(f);
}

int ard_test_column_kept_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kept_matches_plain, kept_setup, dfx_teardown),
        cmocka_unit_test_setup_teardown(test_kept_allocation_failures, kept_setup, dfx_teardown),
    };
    return cmocka_run_group_tests_name("parquet_column_kept", tests, NULL, NULL);
}
