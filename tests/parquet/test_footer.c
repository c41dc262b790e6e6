/* Footer-side tests of the Parquet reader: every file of the shared corpus against DuckDB's
 * reference (footer_expect.txt, made from duckdb-reference.json by footer_expect.py), the
 * DuckDB-generated files, spot checks of statistics / page indexes / page headers, and synthesized
 * damage (truncation at every byte, bad magic, list-size and nesting bombs, allocation failures).
 */
/* cmocka needs these first, in this order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "file_int.h"
#include "footer_test_util.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reference comparison ------------------------------------------------------------------- */

typedef struct ref_check {
    char file[600];
    ard_parquet_file *pf;
    ard_status status;
    int32_t leaf;
    int failures;
    int files;
} ref_check;

static void ref_fail(ref_check *rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ref_fail(ref_check *rc, const char *fmt, ...) {
    char msg[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("%s: %s\n", rc->file, msg);
    rc->failures++;
}

static void ref_open(ref_check *rc, const char *rel) {
    char path[1200];
    ard_error err;
    ard_error_init(&err);
    ftu_unescape(rel, rc->file, sizeof rc->file);
    snprintf(path, sizeof path, "%s/%s", ftu_shared_dir(), rc->file);
    rc->pf = NULL;
    rc->status = ard_parquet_open(path, NULL, &rc->pf, &err);
    rc->leaf = 0;
    rc->files++;
}

static void ref_status(ref_check *rc, const char *want) {
    const char *got = ard_status_name(rc->status) + 4; /* skip "ARD_" */
    if (strcmp(got, want) != 0) {
        ref_fail(rc, "open status %s, reference expects %s", got, want);
    }
}

static void ref_row_groups(ref_check *rc, const ard_pq_metadata *md, char *rest) {
    char *cur = rest;
    long n = strtol(ftu_token(&cur), NULL, 10);
    int64_t sum = 0;
    if (n != md->num_row_groups) {
        ref_fail(rc, "row groups %d, expected %ld", md->num_row_groups, n);
        return;
    }
    for (int32_t i = 0; i < md->num_row_groups; i++) {
        long long rows = strtoll(ftu_token(&cur), NULL, 10);
        sum += rows;
        if (rows != md->row_groups[i].num_rows) {
            ref_fail(rc, "row group %d has %lld rows, expected %lld", i,
                     (long long)md->row_groups[i].num_rows, rows);
        }
    }
    if (sum != md->num_rows) {
        ref_fail(rc, "num_rows %lld, expected %lld", (long long)md->num_rows, (long long)sum);
    }
}

static void ref_strings(ref_check *rc, const ard_pq_metadata *md, char *rest) {
    char *cur = rest, want[600];
    long n = strtol(ftu_token(&cur), NULL, 10);
    if (n != md->num_kv) {
        ref_fail(rc, "%d key-value pairs, expected %ld", md->num_kv, n);
        return;
    }
    for (int32_t i = 0; i < md->num_kv; i++) {
        ftu_unescape(ftu_token(&cur), want, sizeof want);
        if (strcmp(md->kv[i].key, want) != 0) {
            ref_fail(rc, "kv key %d is '%s', expected '%s'", i, md->kv[i].key, want);
        }
    }
}

static void ref_orders(ref_check *rc, const ard_pq_metadata *md, char *rest) {
    char *cur = rest;
    const char *first = ftu_token(&cur);
    if (strcmp(first, "-") == 0) {
        if (md->num_column_orders != 0) {
            ref_fail(rc, "column_orders present, expected absent");
        }
        return;
    }
    long n = strtol(first, NULL, 10);
    if (n != md->num_column_orders) {
        ref_fail(rc, "%d column orders, expected %ld", md->num_column_orders, n);
        return;
    }
    for (int32_t i = 0; i < md->num_column_orders; i++) {
        long want = strtol(ftu_token(&cur), NULL, 10);
        if (want != md->column_orders[i]) {
            ref_fail(rc, "column order %d is %d, expected %ld", i, md->column_orders[i], want);
        }
    }
}

static void ref_leaf(ref_check *rc, const ard_pq_metadata *md, char *rest) {
    char path[600], kind[64];
    long type, tlen, rep, def, lrep, a, b;
    char *cur = rest;
    ftu_unescape(ftu_token(&cur), path, sizeof path);
    if (sscanf(cur, "%ld %ld %ld %ld %ld %63s %ld %ld", &type, &tlen, &rep, &def, &lrep, kind, &a,
               &b) != 8 ||
        rc->leaf >= md->num_leaves) {
        ref_fail(rc, "bad leaf line or too many leaves (%d)", rc->leaf);
        return;
    }
    const ard_pq_schema_node *n = &md->nodes[md->leaves[rc->leaf]];
    long got_a = 0, got_b = 0;
    ftu_logical_params(&n->logical, &got_a, &got_b);
    if (strcmp(n->path, path) != 0 || n->type != type || (tlen && n->type_length != tlen) ||
        n->repetition != rep || n->max_def != def || n->max_rep != lrep ||
        strcmp(ard_pq_logical_name(n->logical.kind), kind) != 0 || got_a != a || got_b != b ||
        n->leaf_index != rc->leaf) {
        ref_fail(rc,
                 "leaf %d: got %s %s(%d) %s d%d r%d %s %ld %ld; expected %s %ld(%ld) %ld d%ld "
                 "r%ld %s %ld %ld",
                 rc->leaf, n->path, ard_pq_type_name(n->type), n->type_length,
                 ard_pq_repetition_name(n->repetition), n->max_def, n->max_rep,
                 ard_pq_logical_name(n->logical.kind), got_a, got_b, path, type, tlen, rep, def,
                 lrep, kind, a, b);
    }
    rc->leaf++;
}

static void ref_line(ref_check *rc, char tag, char *rest) {
    const ard_pq_metadata *md = rc->pf ? ard_parquet_metadata(rc->pf) : NULL;
    char want[600];
    if (tag == 'F') {
        ref_open(rc, rest);
    } else if (tag == 'X') {
        ref_status(rc, rest);
    } else if (!md) {
        return; /* the file did not open: nothing more to compare */
    } else if (tag == 'N' && strtoll(rest, NULL, 10) != md->declared_num_rows) {
        ref_fail(rc, "declared num_rows %lld, expected %s", (long long)md->declared_num_rows, rest);
    } else if (tag == 'G') {
        ref_row_groups(rc, md, rest);
    } else if (tag == 'V' && strtol(rest, NULL, 10) != md->version) {
        ref_fail(rc, "version %d, expected %s", md->version, rest);
    } else if (tag == 'C') {
        ftu_unescape(rest, want, sizeof want);
        /* The reference shows an absent created_by as "". */
        const char *got = md->created_by ? md->created_by : "";
        if (strcmp(rest, "-") == 0 ? md->created_by != NULL : strcmp(got, want) != 0) {
            ref_fail(rc, "created_by '%s', expected '%s'",
                     md->created_by ? md->created_by : "(null)", rest);
        }
    } else if (tag == 'K') {
        ref_strings(rc, md, rest);
    } else if (tag == 'O') {
        ref_orders(rc, md, rest);
    } else if (tag == 'L' && strtol(rest, NULL, 10) != md->num_leaves) {
        ref_fail(rc, "%d leaves, expected %s", md->num_leaves, rest);
    } else if (tag == 'l') {
        ref_leaf(rc, md, rest);
    }
}

static void test_corpus_matches_reference(void **state) {
    (void)state;
    char path[1200], line[8192];
    snprintf(path, sizeof path, "%s/tests/parquet/footer_expect.txt", ftu_source_dir());
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    ref_check rc;
    memset(&rc, 0, sizeof rc);
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == 'E') {
            ard_parquet_close(rc.pf);
            rc.pf = NULL;
        } else if (line[0] && line[1] == ' ') {
            ref_line(&rc, line[0], line + 2);
        }
    }
    fclose(fp);
    ard_parquet_close(rc.pf);
    assert_int_equal(rc.files, 99);
    assert_int_equal(rc.failures, 0);
}

/* Every Parquet file on disk must be covered by the reference, and opening it from memory must
 * give the same result as opening the path. */
static int walk_file(const char *path, void *arg) {
    int *count = arg;
    size_t size = 0;
    uint8_t *data = ftu_read_file(path, &size);
    ard_parquet_file *a = NULL, *b = NULL;
    ard_status sa = ard_parquet_open(path, NULL, &a, NULL);
    ard_status sb = ard_parquet_open_memory(data, size, path, NULL, &b, NULL);
    int ok = sa == sb && (a == NULL) == (sa != ARD_OK);
    if (ok && a) {
        const ard_pq_metadata *ma = ard_parquet_metadata(a), *mb = ard_parquet_metadata(b);
        ok = ma->num_rows == mb->num_rows && ma->num_leaves == mb->num_leaves &&
             ard_parquet_file_size(a) == (int64_t)size;
    }
    if (!ok) {
        print_error("%s: path and memory opens differ (%d vs %d)\n", path, sa, sb);
    }
    ard_parquet_close(a);
    ard_parquet_close(b);
    free(data);
    *count += 1;
    return ok ? 0 : 1;
}

static void test_corpus_walk(void **state) {
    (void)state;
    int count = 0, bad = 0;
    const char *dirs[] = {"parquet-testing/data", "parquet-testing/bad_data",
                          "parquet-testing/shredded_variant", "duckdb-generated"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/%s", ftu_shared_dir(), dirs[i]);
        bad += ftu_walk(dir, walk_file, &count);
    }
    assert_int_equal(bad, 0);
    assert_int_equal(count, 99 + 9);
}

/* ---- DuckDB-generated files (not in duckdb-reference.json: expectations from their MANIFEST) - */

static ard_parquet_file *open_shared(const char *rel) {
    char path[1200];
    ard_parquet_file *f = NULL;
    ard_error err;
    ard_error_init(&err);
    snprintf(path, sizeof path, "%s/%s", ftu_shared_dir(), rel);
    ard_status st = ard_parquet_open(path, NULL, &f, &err);
    if (st != ARD_OK) {
        print_error("%s: %s\n", rel, err.msg);
    }
    assert_int_equal(st, ARD_OK);
    return f;
}

static const ard_pq_schema_node *leaf_node(ard_parquet_file *f, const char *path) {
    int32_t leaf = ard_parquet_find_leaf(f, path);
    assert_true(leaf >= 0);
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    return &md->nodes[md->leaves[leaf]];
}

static void check_duckdb_common(ard_parquet_file *f, int64_t rows, int32_t rgs, int32_t leaves) {
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    assert_string_equal(md->created_by, "DuckDB version v1.5.6 (build 069cc9f9b5)");
    assert_int_equal(md->num_rows, rows);
    assert_int_equal(md->num_row_groups, rgs);
    assert_int_equal(md->num_leaves, leaves);
}

static void test_duckdb_logical_types(void **state) {
    (void)state;
    const char *files[] = {"logical_types_v1_snappy", "logical_types_v1_uncompressed",
                           "logical_types_v1_gzip", "logical_types_v2_zstd",
                           "logical_types_v2_brotli"};
    for (size_t i = 0; i < 5; i++) {
        char rel[200];
        snprintf(rel, sizeof rel, "duckdb-generated/%s.parquet", files[i]);
        ard_parquet_file *f = open_shared(rel);
        check_duckdb_common(f, 100, 1, 27);
        const ard_pq_schema_node *n = leaf_node(f, "u");
        assert_int_equal(n->type, ARD_PQ_FIXED_LEN_BYTE_ARRAY);
        assert_int_equal(n->type_length, 16);
        assert_int_equal(n->logical.kind, ARD_PQ_LT_UUID);
        n = leaf_node(f, "iv");
        assert_int_equal(n->type_length, 12);
        assert_int_equal(n->logical.kind, ARD_PQ_LT_INTERVAL);
        n = leaf_node(f, "u64");
        assert_int_equal(n->logical.kind, ARD_PQ_LT_INTEGER);
        assert_int_equal(n->logical.bit_width, 64);
        assert_int_equal(n->logical.is_signed, 0);
        assert_int_equal(n->logical.from_converted, 1);
        n = leaf_node(f, "ts_ns");
        assert_int_equal(n->logical.kind, ARD_PQ_LT_TIMESTAMP);
        assert_int_equal(n->logical.unit, ARD_PQ_NANOS);
        assert_int_equal(n->logical.is_adjusted_to_utc, 0);
        n = leaf_node(f, "tstz");
        assert_int_equal(n->logical.unit, ARD_PQ_MICROS);
        assert_int_equal(n->logical.is_adjusted_to_utc, 1);
        n = leaf_node(f, "t");
        assert_int_equal(n->logical.kind, ARD_PQ_LT_TIME);
        assert_int_equal(n->logical.unit, ARD_PQ_MICROS);
        n = leaf_node(f, "dec38");
        assert_int_equal(n->logical.kind, ARD_PQ_LT_DECIMAL);
        assert_int_equal(n->logical.precision, 38);
        assert_int_equal(n->logical.scale, 2);
        assert_int_equal(leaf_node(f, "j")->logical.kind, ARD_PQ_LT_JSON);
        assert_int_equal(leaf_node(f, "d")->logical.kind, ARD_PQ_LT_DATE);
        assert_int_equal(leaf_node(f, "s")->logical.kind, ARD_PQ_LT_STRING);
        assert_int_equal(leaf_node(f, "bl")->logical.kind, ARD_PQ_LT_NONE);
        ard_parquet_close(f);
    }
}

static void test_duckdb_nested_and_groups(void **state) {
    (void)state;
    const char *nested[] = {"duckdb-generated/nested_v1_snappy.parquet",
                            "duckdb-generated/nested_v2_lz4raw.parquet"};
    for (size_t i = 0; i < 2; i++) {
        ard_parquet_file *f = open_shared(nested[i]);
        check_duckdb_common(f, 20, 1, 10);
        const ard_pq_schema_node *n = leaf_node(f, "ll.list.element.list.element");
        assert_int_equal(n->max_rep, 2);
        assert_int_equal(n->max_def, 5);
        n = leaf_node(f, "m.key_value.key");
        assert_int_equal(n->max_rep, 1);
        ard_parquet_close(f);
    }
    ard_parquet_file *f = open_shared("duckdb-generated/rowgroups_10x10000_lz4raw.parquet");
    check_duckdb_common(f, 100000, 10, 4);
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    for (int32_t rg = 0; rg < 10; rg++) {
        /* DuckDB rounds ROW_GROUP_SIZE 10000 up to whole 2048-row vectors: 9 x 10240 + 7840 */
        assert_int_equal(md->row_groups[rg].num_rows, rg < 9 ? 10240 : 7840);
        const ard_pq_column_chunk *g = &md->row_groups[rg].columns[ard_parquet_find_leaf(f, "g")];
        assert_true(g->has_bloom_filter_offset && g->has_bloom_filter_length);
        assert_int_equal(g->codec, ARD_PQ_LZ4_RAW);
    }
    ard_parquet_close(f);
    f = open_shared("duckdb-generated/empty_zero_rows.parquet");
    check_duckdb_common(f, 0, 0, 2);
    assert_int_equal(leaf_node(f, "b")->logical.kind, ARD_PQ_LT_STRING);
    ard_parquet_close(f);
}

/* ---- spot checks of values in specific corpus files ---------------------------------------- */

static void test_statistics_and_orders(void **state) {
    (void)state;
    ard_parquet_file *f = open_shared("parquet-testing/data/binary_truncated_min_max.parquet");
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    const ard_pq_stats *s = &md->row_groups[0].columns[0].stats;
    assert_string_equal(md->nodes[md->leaves[0]].path, "utf8_full_truncation");
    assert_true(s->present && s->has_min_value && s->has_max_value);
    assert_int_equal(s->min_value_len, 2);
    assert_memory_equal(s->min_value, "Al", 2);
    assert_memory_equal(s->max_value, "Kf", 2);
    assert_true(s->has_is_min_exact && !s->is_min_value_exact && !s->is_max_value_exact);
    s = &md->row_groups[0].columns[ard_parquet_find_leaf(f, "binary_no_truncation")].stats;
    assert_true(s->is_min_value_exact && s->is_max_value_exact);
    assert_memory_equal(s->max_value, "Ke", 2);
    ard_parquet_close(f);

    f = open_shared("parquet-testing/data/float16_nonzeros_and_nans.parquet");
    md = ard_parquet_metadata(f);
    s = &md->row_groups[0].columns[0].stats;
    assert_int_equal(md->nodes[md->leaves[0]].logical.kind, ARD_PQ_LT_FLOAT16);
    assert_memory_equal(s->min_value, "\x00\xC0", 2);
    assert_memory_equal(s->max_value, "\x00\x40", 2);
    assert_true(s->has_null_count);
    assert_int_equal(s->null_count, 1);
    ard_parquet_close(f);

    f = open_shared("parquet-testing/data/floating_orders_nan_count.parquet");
    md = ard_parquet_metadata(f);
    int saw_ieee = 0, saw_nan_count = 0;
    for (int32_t i = 0; i < md->num_column_orders; i++) {
        saw_ieee |= md->column_orders[i] == 2;
    }
    for (int32_t i = 0; i < md->num_leaves; i++) {
        saw_nan_count |= md->row_groups[0].columns[i].stats.has_nan_count;
    }
    assert_true(saw_ieee && saw_nan_count);
    ard_parquet_close(f);
}

static void test_chunk_fields(void **state) {
    (void)state;
    ard_parquet_file *f = open_shared("parquet-testing/data/dict-page-offset-zero.parquet");
    const ard_pq_column_chunk *c = &ard_parquet_metadata(f)->row_groups[0].columns[0];
    assert_true(c->has_meta_data);
    assert_int_equal(c->chunk_start, c->data_page_offset); /* dictionary_page_offset 0 = absent */
    ard_parquet_close(f);

    f = open_shared("parquet-testing/data/column_chunk_key_value_metadata.parquet");
    c = &ard_parquet_metadata(f)->row_groups[0].columns[0];
    assert_true(c->num_kv >= 1);
    assert_non_null(c->kv[0].key);
    ard_parquet_close(f);

    f = open_shared("parquet-testing/data/sort_columns.parquet");
    const ard_pq_row_group *rg = &ard_parquet_metadata(f)->row_groups[0];
    assert_true(rg->num_sorting_columns >= 1);
    assert_true(rg->sorting_columns[0].column_idx >= 0);
    ard_parquet_close(f);

    f = open_shared("parquet-testing/data/repeated_no_annotation.parquet");
    assert_int_equal(ard_parquet_metadata(f)->declared_num_rows, 0);
    assert_int_equal(ard_parquet_metadata(f)->num_rows, 6);
    ard_parquet_close(f);

    f = open_shared("parquet-testing/data/nation.dict-malformed.parquet");
    assert_int_equal(ard_parquet_metadata(f)->num_rows, 25);
    assert_int_equal(ard_parquet_kv_get(f, "no such key") == NULL, 1);
    assert_int_equal(ard_parquet_find_leaf(f, "no.such.leaf"), -1);
    ard_parquet_close(f);
}

static void test_encrypted_files(void **state) {
    (void)state;
    char path[1200];
    ard_parquet_file *f = NULL;
    ard_error err;
    ard_error_init(&err);
    snprintf(path, sizeof path, "%s/parquet-testing/data/uniform_encryption.parquet.encrypted",
             ftu_shared_dir());
    assert_int_equal(ard_parquet_open(path, NULL, &f, &err), ARD_ENOTSUP);
    assert_null(f);
    assert_non_null(strstr(err.msg, "encrypted footer (PARE) not supported"));

    f = open_shared("parquet-testing/data/encrypt_columns_plaintext_footer.parquet.encrypted");
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    int encrypted = 0;
    for (int32_t i = 0; i < md->num_leaves; i++) {
        encrypted += md->row_groups[0].columns[i].is_encrypted;
    }
    assert_true(f->footer_encrypted);
    assert_true(encrypted >= 1 && encrypted < md->num_leaves);
    ard_parquet_close(f);
}

static void test_parquet_1481_names_bad_type(void **state) {
    (void)state;
    char path[1200];
    ard_parquet_file *f = NULL;
    ard_error err;
    ard_error_init(&err);
    snprintf(path, sizeof path, "%s/parquet-testing/bad_data/PARQUET-1481.parquet",
             ftu_shared_dir());
    assert_int_equal(ard_parquet_open(path, NULL, &f, &err), ARD_ECORRUPT);
    assert_null(f);
    assert_non_null(strstr(err.msg, "'Handle': invalid physical type -7"));
    assert_non_null(strstr(err.msg, "PARQUET-1481.parquet: "));
    assert_non_null(strstr(err.msg, " at byte "));
}

/* OffsetIndex / ColumnIndex / PageHeader of int32_with_null_pages (expected values: MANIFEST). */
static void test_page_index_and_header(void **state) {
    (void)state;
    static const int64_t null_counts[10] = {8, 55, 100, 52, 16, 12, 5, 7, 8, 12};
    ard_parquet_file *f = open_shared("parquet-testing/data/int32_with_null_pages.parquet");
    const ard_pq_column_chunk *c = &ard_parquet_metadata(f)->row_groups[0].columns[0];
    assert_true(c->has_offset_index && c->has_column_index);
    uint8_t *oi_bytes = malloc((size_t)c->offset_index_length);
    uint8_t *ci_bytes = malloc((size_t)c->column_index_length);
    uint8_t hdr[256];
    ard__arena arena;
    ard__arena_init(&arena, 0);
    ard__pq_offset_index oi;
    ard__pq_column_index ci;
    ard__pq_page_header ph;
    assert_int_equal(ard__pq_file_read(f, c->offset_index_offset, (size_t)c->offset_index_length,
                                       oi_bytes, NULL),
                     ARD_OK);
    assert_int_equal(ard__pq_file_read(f, c->column_index_offset, (size_t)c->column_index_length,
                                       ci_bytes, NULL),
                     ARD_OK);
    assert_int_equal(ard__pq_decode_offset_index(oi_bytes, (size_t)c->offset_index_length,
                                                 c->offset_index_offset, "t", &arena, &oi, NULL),
                     ARD_OK);
    assert_int_equal(ard__pq_decode_column_index(ci_bytes, (size_t)c->column_index_length,
                                                 c->column_index_offset, "t", &arena, &ci, NULL),
                     ARD_OK);
    assert_int_equal(oi.num_pages, 10);
    assert_int_equal(ci.num_pages, 10);
    for (int32_t i = 0; i < 10; i++) {
        assert_int_equal(oi.pages[i].first_row_index, 100 * i);
        assert_int_equal(ci.null_counts[i], null_counts[i]);
        assert_int_equal(ci.null_pages[i], i == 2);
    }
    assert_int_equal(ci.min_lens[2], 0);
    assert_int_equal(oi.pages[0].offset, c->chunk_start);
    assert_int_equal(ard__pq_file_read(f, oi.pages[0].offset, sizeof hdr, hdr, NULL), ARD_OK);
    assert_int_equal(
        ard__pq_decode_page_header(hdr, sizeof hdr, oi.pages[0].offset, "t", &ph, NULL), ARD_OK);
    assert_int_equal(ph.type, ARD_PQ_DATA_PAGE);
    assert_int_equal(ph.num_values, 100);
    assert_int_equal((int64_t)ph.header_size + ph.compressed_page_size,
                     oi.pages[0].compressed_page_size);
    assert_true(ph.has_crc);
    ard__arena_reset(&arena);
    free(oi_bytes);
    free(ci_bytes);
    ard_parquet_close(f);
}

int ard_test_footer_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_matches_reference),
        cmocka_unit_test(test_corpus_walk),
        cmocka_unit_test(test_duckdb_logical_types),
        cmocka_unit_test(test_duckdb_nested_and_groups),
        cmocka_unit_test(test_statistics_and_orders),
        cmocka_unit_test(test_chunk_fields),
        cmocka_unit_test(test_encrypted_files),
        cmocka_unit_test(test_parquet_1481_names_bad_type),
        cmocka_unit_test(test_page_index_and_header),
    };
    int failed = cmocka_run_group_tests_name("parquet_footer", tests, NULL, NULL);
    return failed + ard_test_footer_damage_run();
}
