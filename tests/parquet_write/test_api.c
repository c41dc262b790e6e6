/* Writer API tests: exact status codes for bad arguments (and that a rejected batch leaves the
 * writer usable), row-group layout controls, footer metadata (key-value pairs, created_by, column
 * orders, sorting columns, logical types), dictionary fallback, and the DESIGN tile with 4096-wide
 * spectra. */
#include "tw_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", tw_dir(), name);
}

static ard_pq_schema_builder *two_columns(void) {
    int32_t col = -1;
    ard_pq_schema_builder *sb = NULL;
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    assert_int_equal(
        ard_pq_schema_add_column(sb, "id", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, &col, NULL),
        ARD_OK);
    assert_int_equal(col, 0);
    assert_int_equal(ard_pq_schema_add_list(sb, "v", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_REQUIRED,
                                            NULL, &col, NULL),
                     ARD_OK);
    assert_int_equal(col, 1);
    return sb;
}

static void test_schema_errors(void) {
    ard_pq_schema_builder *sb = two_columns();
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(
        ard_pq_schema_add_column(sb, "id", ARD_PQ_INT32, ARD_PQ_REQUIRED, NULL, 0, NULL, &err),
        ARD_EINVAL);
    assert_int_equal(err.code, ARD_EINVAL); /* duplicate */
    ard_pq_logical str = {.kind = ARD_PQ_LT_STRING};
    ard_error_init(&err);
    assert_int_equal(
        ard_pq_schema_add_column(sb, "s", ARD_PQ_INT32, ARD_PQ_REQUIRED, &str, 0, NULL, &err),
        ARD_EINVAL);
    assert_int_equal(err.code, ARD_EINVAL); /* STRING on INT32 */
    ard_error_init(&err);
    assert_int_equal(
        ard_pq_schema_add_column(sb, "r", ARD_PQ_INT32, ARD_PQ_REPEATED, NULL, 0, NULL, &err),
        ARD_EINVAL);
    assert_int_equal(err.code, ARD_EINVAL);
    ard_error_init(&err);
    assert_int_equal(ard_pq_schema_add_column(sb, "f", ARD_PQ_FIXED_LEN_BYTE_ARRAY, ARD_PQ_REQUIRED,
                                              NULL, 0, NULL, &err),
                     ARD_EINVAL);
    assert_int_equal(err.code, ARD_EINVAL); /* FLBA without a length */
    assert_int_equal(ard_pq_schema_set_encoding(sb, 1, ARD_PQ_DELTA_BINARY_PACKED, NULL),
                     ARD_ENOTSUP);
    assert_int_equal(ard_pq_schema_set_encoding(sb, 0, ARD_PQ_DELTA_BYTE_ARRAY, NULL), ARD_ENOTSUP);
    assert_int_equal(ard_pq_schema_set_sorted(sb, 7, 1, NULL), ARD_EINVAL);
    assert_int_equal(ard_pq_schema_num_columns(sb), 2);
    ard_pq_schema_free(sb);
}

static void test_open_errors(void) {
    char path[512];
    path_of(path, sizeof path, "errors.parquet");
    ard_pq_schema_builder *sb = two_columns(), *empty = NULL;
    ard_pq_writer *w = (ard_pq_writer *)(uintptr_t)1;
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    assert_int_equal(ard_pq_schema_new(&empty, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_open(path, empty, NULL, &w, NULL), ARD_EINVAL);
    assert_null(w);
    o.page_version = 3;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, NULL), ARD_EINVAL);
    o.page_version = 1;
    o.codec = ARD_PQ_LZO;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, NULL), ARD_ENOTSUP);
    assert_null(w);
    assert_int_not_equal(ard_pq_writer_open("/nonexistent-dir/x.parquet", sb, NULL, &w, NULL),
                         ARD_OK);
    assert_int_equal(access(path, F_OK), -1);
    ard_pq_schema_free(empty);
    ard_pq_schema_free(sb);
}

static void test_write_errors(void) {
    char path[512];
    path_of(path, sizeof path, "errors.parquet");
    ard_pq_schema_builder *sb = two_columns();
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, NULL, &w, NULL), ARD_OK);
    int64_t ids[4] = {1, 2, 3, 4};
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t some_null = 0x0b;
    assert_int_equal(ard_pq_writer_write_column(w, 1, v, NULL, 4, NULL), ARD_EINVAL); /* a list */
    assert_int_equal(ard_pq_writer_write_column(w, 0, ids, &some_null, 4, NULL), ARD_EINVAL);
    assert_int_equal(ard_pq_writer_write_column(w, 2, ids, NULL, 4, NULL), ARD_EINVAL);
    assert_int_equal(ard_pq_writer_write_column(w, 0, ids, NULL, -1, NULL), ARD_EINVAL);
    assert_int_equal(ard_pq_writer_write_list_matrix(w, 1, v, 4, 2, &some_null, NULL, NULL),
                     ARD_EINVAL); /* null element, elements REQUIRED */
    int64_t bad_offs[5] = {0, 2, 1, 3, 4};
    assert_int_equal(ard_pq_writer_write_list(w, 1, bad_offs, v, NULL, NULL, 4, NULL), ARD_EINVAL);
    /* rejected batches leave the writer usable */
    assert_int_equal(ard_pq_writer_write_column(w, 0, ids, NULL, 4, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_end_row_group(w, NULL), ARD_EINVAL); /* column 1 behind */
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_pq_writer_close(w, &err), ARD_EINVAL);
    assert_int_equal(access(path, F_OK), -1); /* nothing appeared */
    ard_pq_schema_free(sb);
}

void tw_test_api_errors(void **state) {
    (void)state;
    test_schema_errors();
    test_open_errors();
    test_write_errors();
    ard_pq_writer_abort(NULL);
    assert_int_equal(ard_pq_writer_close(NULL, NULL), ARD_OK);
}

/* Writes n rows of (id, v[2]) in batches of `batch`, with options o; returns the reader. */
static ard_parquet_file *write_simple(const char *name, const ard_pq_writer_options *o, int64_t n,
                                      int64_t batch) {
    char path[512];
    path_of(path, sizeof path, name);
    ard_pq_schema_builder *sb = two_columns();
    ard_pq_schema_set_sorted(sb, 0, 1, NULL);
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, o, &w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
    int64_t *ids = malloc((size_t)n * sizeof *ids);
    float *v = malloc((size_t)n * 2 * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        ids[i] = i * 10;
        v[2 * i] = (float)i;
        v[2 * i + 1] = -(float)i;
    }
    for (int64_t at = 0; at < n; at += batch) {
        int64_t k = n - at < batch ? n - at : batch;
        assert_int_equal(ard_pq_writer_write_list_matrix(w, 1, v + 2 * at, k, 2, NULL, NULL, NULL),
                         ARD_OK);
        assert_int_equal(ard_pq_writer_write_column(w, 0, ids + at, NULL, k, NULL), ARD_OK);
    }
    assert_int_equal(ard_pq_writer_num_rows(w), n);
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
    free(ids);
    free(v);
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    return f;
}

void tw_test_layout(void **state) {
    (void)state;
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.rows_per_row_group = 300; /* batches of 128 straddle row groups */
    ard_parquet_file *f = write_simple("layout.parquet", &o, 1000, 128);
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    assert_int_equal(md->num_row_groups, 4);
    int64_t want[4] = {300, 300, 300, 100};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(md->row_groups[i].num_rows, want[i]);
        assert_int_equal(md->row_groups[i].columns[1].num_values, want[i] * 2);
    }
    ard_parquet_close(f);
    ard_pq_writer_options_init(&o);
    o.target_row_group_bytes = 4096; /* ~12 bytes a row: a few hundred rows a group */
    o.page_size_bytes = 512;
    f = write_simple("layout2.parquet", &o, 5000, 100);
    md = ard_parquet_metadata(f);
    assert_true(md->num_row_groups > 5);
    int64_t total = 0;
    for (int i = 0; i < md->num_row_groups; i++) {
        total += md->row_groups[i].num_rows;
        assert_true(md->row_groups[i].total_byte_size < 3 * 4096);
    }
    assert_int_equal(total, 5000);
    ard_parquet_close(f);
}

void tw_test_metadata(void **state) {
    (void)state;
    const char *keys[] = {"ard.grid", "ard.version", "novalue"};
    const char *vals[] = {"{\"kind\":\"loglam\",\"n\":4096}", "1", NULL};
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.num_kv = 3;
    o.kv_keys = keys;
    o.kv_values = vals;
    ard_parquet_file *f = write_simple("meta.parquet", &o, 100, 100);
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    assert_string_equal(md->created_by, "ard version " ARD_VERSION_STRING);
    assert_string_equal(ard_parquet_kv_get(f, "ard.grid"), vals[0]);
    assert_string_equal(ard_parquet_kv_get(f, "ard.version"), "1");
    assert_int_equal(md->num_kv, 3);
    assert_null(md->kv[2].value);
    assert_int_equal(md->num_column_orders, 2);
    assert_int_equal(md->column_orders[0], 1);
    assert_int_equal(md->column_orders[1], 1);
    assert_int_equal(md->row_groups[0].num_sorting_columns, 1); /* id is ascending */
    assert_int_equal(md->row_groups[0].sorting_columns[0].column_idx, 0);
    const ard_pq_column_chunk *id = &md->row_groups[0].columns[0];
    assert_int_equal(id->num_encodings, 1);
    assert_int_equal(id->encodings[0], ARD_PQ_DELTA_BINARY_PACKED);
    assert_int_equal(id->codec, ARD_PQ_SNAPPY);
    assert_true(id->has_column_index && id->has_offset_index);
    const ard_pq_schema_node *elem = &md->nodes[md->leaves[1]];
    assert_string_equal(elem->path, "v.list.element");
    assert_int_equal(elem->max_def, 2);
    assert_int_equal(md->nodes[elem->parent].repetition, ARD_PQ_REPEATED);
    assert_int_equal(md->nodes[md->nodes[elem->parent].parent].logical.kind, ARD_PQ_LT_LIST);
    ard_parquet_close(f);
}

void tw_test_dictionary_fallback(void **state) {
    (void)state;
    char path[512];
    path_of(path, sizeof path, "dict.parquet");
    int32_t col = -1;
    ard_pq_schema_builder *sb = NULL;
    ard_pq_logical str = {.kind = ARD_PQ_LT_STRING};
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    assert_int_equal(
        ard_pq_schema_add_column(sb, "s", ARD_PQ_BYTE_ARRAY, ARD_PQ_OPTIONAL, &str, 0, &col, NULL),
        ARD_OK);
    assert_int_equal(col, 0);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.max_dictionary_bytes = 2000;
    o.page_size_bytes = 1000;
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, NULL), ARD_OK);
    enum { N = 3000 };
    int64_t *offs = malloc((N + 1) * sizeof *offs);
    char *data = malloc(N * 16);
    offs[0] = 0;
    for (int i = 0; i < N; i++) { /* 500 low-cardinality rows, then all distinct */
        int n = snprintf(data + offs[i], 16, "v%d", i < 500 ? i % 7 : i);
        offs[i + 1] = offs[i] + n;
    }
    assert_int_equal(ard_pq_writer_write_binary(w, 0, offs, (uint8_t *)data, NULL, N, NULL),
                     ARD_OK);
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    const ard_pq_column_chunk *cc = &ard_parquet_metadata(f)->row_groups[0].columns[0];
    int has_dict = 0, has_plain = 0;
    for (int i = 0; i < cc->num_encodings; i++) {
        has_dict |= cc->encodings[i] == ARD_PQ_RLE_DICTIONARY;
        has_plain |= cc->encodings[i] == ARD_PQ_PLAIN;
    }
    assert_true(has_dict && has_plain && cc->has_dictionary_page_offset);
    ard_pq_column_data cd;
    memset(&cd, 0, sizeof cd);
    assert_int_equal(ard_parquet_read_column(f, 0, 0, &cd, NULL), ARD_OK);
    assert_int_equal(cd.num_values, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(cd.offsets[i + 1] - cd.offsets[i], offs[i + 1] - offs[i]);
        assert_memory_equal(cd.data + cd.offsets[i], data + offs[i],
                            (size_t)(offs[i + 1] - offs[i]));
    }
    ard_pq_column_data_reset(&cd);
    ard_parquet_close(f);
    ard_pq_schema_free(sb);
    free(offs);
    free(data);
}

/* The DESIGN tile: TARGETID, FLUX/IVAR list<float> 4096 wide (with null pixels), MASK list<uint8>.
 */
void tw_test_tile_spectra(void **state) {
    (void)state;
    enum { N = 300, W = 4096 };
    char path[512];
    path_of(path, sizeof path, "tile.parquet");
    int32_t col = -1;
    ard_pq_schema_builder *sb = NULL;
    ard_pq_logical u8 = {.kind = ARD_PQ_LT_INTEGER, .bit_width = 8, .is_signed = 0};
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    assert_int_equal(ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL,
                                              0, &col, NULL),
                     ARD_OK);
    assert_int_equal(col, 0);
    assert_int_equal(ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL,
                                            ARD_PQ_OPTIONAL, NULL, &col, NULL),
                     ARD_OK);
    assert_int_equal(col, 1);
    assert_int_equal(ard_pq_schema_add_list(sb, "IVAR", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL,
                                            ARD_PQ_OPTIONAL, NULL, &col, NULL),
                     ARD_OK);
    assert_int_equal(col, 2);
    assert_int_equal(ard_pq_schema_add_list(sb, "MASK", ARD_PQ_INT32, ARD_PQ_OPTIONAL,
                                            ARD_PQ_REQUIRED, &u8, &col, NULL),
                     ARD_OK);
    assert_int_equal(col, 3);
    ard_pq_schema_set_sorted(sb, 0, 1, NULL);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = ARD_PQ_ZSTD;
    o.byte_stream_split = 1;
    o.rows_per_row_group = 128;
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, &o, &w, NULL), ARD_OK);
    int64_t *ids = malloc(N * sizeof *ids);
    float *flux = malloc((size_t)N * W * sizeof *flux);
    uint8_t *mask = malloc((size_t)N * W), *ev = calloc((size_t)N * W / 8, 1);
    tw_rng r = {42};
    for (int64_t i = 0; i < (int64_t)N * W; i++) {
        flux[i] = (float)(tw_unit(&r) * 10 - 2);
        mask[i] = (uint8_t)(tw_range(&r, 0, 50) == 0 ? 255 : 0);
        ev[i / 8] |= (uint8_t)((mask[i] == 0) << (i % 8)); /* masked pixels are null flux */
    }
    for (int i = 0; i < N; i++) {
        ids[i] = 39627000000000000 + i * 17;
    }
    assert_int_equal(ard_pq_writer_write_column(w, 0, ids, NULL, N, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_write_list_matrix(w, 1, flux, N, W, ev, NULL, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_write_list_matrix(w, 2, flux, N, W, NULL, NULL, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_write_list_matrix(w, 3, mask, N, W, NULL, NULL, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    assert_int_equal(md->num_row_groups, 3);
    int64_t row0 = 0, nulls = 0;
    for (int32_t rg = 0; rg < md->num_row_groups; rg++) {
        ard_pq_f32_matrix m;
        memset(&m, 0, sizeof m);
        assert_int_equal(ard_parquet_read_f32_matrix(f, rg, 1, &m, NULL), ARD_OK);
        assert_int_equal(m.width, W);
        for (int64_t i = 0; i < m.rows * W; i++) {
            int64_t g = row0 * W + i;
            int valid = !m.validity || ((m.validity[i / 8] >> (i % 8)) & 1);
            assert_int_equal(valid, mask[g] == 0);
            if (valid) {
                assert_memory_equal(&m.values[i], &flux[g], 4);
            }
            nulls += !valid;
        }
        row0 += m.rows;
        ard_pq_matrix_reset(&m);
    }
    int64_t chunk_nulls = 0;
    for (int32_t rg = 0; rg < md->num_row_groups; rg++) {
        chunk_nulls += md->row_groups[rg].columns[1].stats.null_count;
        assert_int_equal(md->row_groups[rg].columns[1].encodings[1], ARD_PQ_BYTE_STREAM_SPLIT);
    }
    assert_int_equal(chunk_nulls, nulls); /* completeness is a footer statistic */
    assert_int_equal(row0, N);
    ard_parquet_close(f);
    ard_pq_schema_free(sb);
    free(ids);
    free(flux);
    free(mask);
    free(ev);
}
