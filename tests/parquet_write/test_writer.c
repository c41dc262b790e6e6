/* test_parquet_write: the Parquet writer. Round trips of random tables for every codec x encoding x
 * page version (values read back with the reader, statistics and page index recomputed from the
 * model), the tile schema with 4096-wide spectra, argument errors with exact status codes, and the
 * Arrow import. Crash safety lives in test_crash.c. */
#include "tw_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[256];

const char *tw_dir(void) {
    return g_dir;
}

static void tmp_path(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", g_dir, name);
}

static const ard_pq_codec CODECS[] = {ARD_PQ_UNCOMPRESSED, ARD_PQ_SNAPPY, ARD_PQ_GZIP,
                                      ARD_PQ_LZ4_RAW,      ARD_PQ_ZSTD,   ARD_PQ_BROTLI};
enum { MODE_DEFAULT, MODE_PLAIN, MODE_BSS, MODE_DELTA, NUM_MODES };

static int is_int_kind(tw_kind k) {
    return k == TW_I32 || k == TW_U32 || k == TW_I64 || k == TW_U64 || k == TW_TS || k == TW_LI32 ||
           k == TW_LI64 || k == TW_I8 || k == TW_U8 || k == TW_I16 || k == TW_U16 || k == TW_LU8;
}

static void apply_mode(tw_table *t, int mode, ard_pq_writer_options *o) {
    o->disable_dictionary = mode == MODE_PLAIN;
    o->byte_stream_split = mode == MODE_BSS;
    for (int i = 0; i < t->num_cols; i++) {
        tw_col *c = &t->cols[i];
        if (mode == MODE_BSS && (is_int_kind(c->kind) || c->kind == TW_FLBA)) {
            c->forced_encoding = ARD_PQ_BYTE_STREAM_SPLIT;
        } else if (mode == MODE_DELTA && is_int_kind(c->kind)) {
            c->forced_encoding = ARD_PQ_DELTA_BINARY_PACKED;
        }
    }
}

static void random_layout(tw_rng *r, ard_pq_writer_options *o) {
    o->page_size_bytes = tw_range(r, 0, 3) == 0 ? 0 : tw_range(r, 64, 16384);
    o->rows_per_row_group = tw_range(r, 0, 2) == 0 ? tw_range(r, 1, 700) : 0;
    o->target_row_group_bytes = tw_range(r, 0, 2) == 0 ? tw_range(r, 1000, 100000) : 0;
    o->max_dictionary_bytes = tw_range(r, 0, 2) == 0 ? tw_range(r, 8, 2000) : 0;
    o->disable_crc = tw_range(r, 0, 5) == 0;
}

static void roundtrip_one(int codec_i, int mode, int pv, uint64_t seed) {
    tw_rng r = {seed};
    tw_table t;
    tw_table_random(&t, &r, tw_range(&r, 0, 3) == 0 ? tw_range(&r, 0, 5) : tw_range(&r, 1, 2500),
                    0);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = CODECS[codec_i];
    o.page_version = pv;
    random_layout(&r, &o);
    apply_mode(&t, mode, &o);
    char path[512];
    tmp_path(path, sizeof path, "rt.parquet");
    ard_error err;
    ard_error_init(&err);
    ard_status st = tw_write(&t, path, &o, &r, &err);
    if (st != ARD_OK) {
        fprintf(stderr, "write (codec %d mode %d v%d seed %llu): %s\n", (int)o.codec, mode, pv,
                (unsigned long long)seed, err.msg);
    }
    assert_int_equal(st, ARD_OK);
    int rc = tw_compare(&t, path);
    if (rc == 0) {
        rc = tw_check_stats(&t, path, 1);
    }
    if (rc != 0) {
        fprintf(stderr, "failed: codec %d mode %d v%d seed %llu\n", (int)o.codec, mode, pv,
                (unsigned long long)seed);
    }
    assert_int_equal(rc, 0);
    tw_table_free(&t);
}

static void test_roundtrip_matrix(void **state) {
    (void)state;
    for (int c = 0; c < 6; c++) {
        for (int m = 0; m < NUM_MODES; m++) {
            for (int pv = 1; pv <= 2; pv++) {
                for (uint64_t s = 0; s < 3; s++) {
                    roundtrip_one(c, m, pv, 1000003ull * (uint64_t)(c * 100 + m * 10 + pv) + s);
                }
            }
        }
    }
}

static void test_all_kinds(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        tw_rng r = {seed * 7919};
        tw_table t;
        tw_table_random(&t, &r, tw_range(&r, 1, 3000), 1);
        ard_pq_writer_options o;
        ard_pq_writer_options_init(&o);
        o.codec = CODECS[seed % 6];
        o.page_version = 1 + (int)(seed % 2);
        random_layout(&r, &o);
        apply_mode(&t, (int)(seed % NUM_MODES), &o);
        char path[512];
        tmp_path(path, sizeof path, "kinds.parquet");
        assert_int_equal(tw_write(&t, path, &o, &r, NULL), ARD_OK);
        assert_int_equal(tw_compare(&t, path), 0);
        assert_int_equal(tw_check_stats(&t, path, 1), 0);
        tw_table_free(&t);
    }
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/ard_pqw_XXXXXX");
    if (!mkdtemp(g_dir)) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_kinds),           cmocka_unit_test(test_roundtrip_matrix),
        cmocka_unit_test(tw_test_api_errors),       cmocka_unit_test(tw_test_layout),
        cmocka_unit_test(tw_test_metadata),         cmocka_unit_test(tw_test_dictionary_fallback),
        cmocka_unit_test(tw_test_tile_spectra),     cmocka_unit_test(tw_test_arrow_import),
        cmocka_unit_test(tw_test_arrow_errors),     cmocka_unit_test(tw_test_kill_during_rewrite),
        cmocka_unit_test(tw_test_table_writer),     cmocka_unit_test(tw_test_rewrite),
        cmocka_unit_test(tw_test_rewrite_nested),   cmocka_unit_test(tw_test_writer_pool),
        cmocka_unit_test(tw_test_tile_stream),      cmocka_unit_test(tw_test_set_kv),
        cmocka_unit_test(tw_test_narrow_dict_runs), cmocka_unit_test(tw_test_level_runs),
        cmocka_unit_test(tw_test_split_paths),      cmocka_unit_test(tw_test_limit_row_group),
    };
    int failed = cmocka_run_group_tests_name("parquet_write", tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) {
        failed++;
    }
    return failed ? 1 : 0;
}
