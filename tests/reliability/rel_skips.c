/* Skipped row groups reach the index and the datasheet's next run (issue 15, item 4): a stream
 * under on_error = skip over a synced dataset with one corrupt row group records (tile, row group,
 * error) in stream_skips; the datasheet lists it once however many streams met it; a repaired,
 * re-synced tile drops out. */
#include "rel.h"

#include "ard/datasheet.h"
#include "ard/parquet.h"
#include "ard/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Overwrites the first 64 bytes of row group rg's FLUX chunk (its page header) with 0xff. */
static void smash_flux(const char *path, int32_t rg) {
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pq, NULL), ARD_OK);
    int32_t leaf = ard_parquet_find_leaf(pq, "FLUX.list.element");
    assert_true(leaf >= 0);
    int64_t at = ard_parquet_metadata(pq)->row_groups[rg].columns[leaf].chunk_start;
    ard_parquet_close(pq);
    uint8_t junk[64];
    memset(junk, 0xff, sizeof junk);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)at, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
}

/* Streams the whole dataset once under on_error = skip; returns the loader (stream ended). */
static ard_loader *stream_all(const rel_env *env, int64_t *rows) {
    ard_loader_options o;
    ard_loader_options_init(&o);
    o.batch_size = 50;
    o.threads = 1;
    o.on_error = ARD_ON_ERROR_SKIP;
    ard_loader *l = NULL;
    ard_error err;
    ard_error_init(&err);
    if (ard_loader_new_dataset(&o, env->dir, &l, &err) != ARD_OK) {
        fail_msg("loader: %s", err.msg);
    }
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    ard_batch b;
    *rows = 0;
    ard_status st;
    while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
        *rows += b.count;
        ard_store_release(c, &b, NULL);
    }
    assert_int_equal(st, ARD_EEOF);
    ard_store_close(c);
    assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
    return l;
}

static char *render(const rel_env *env) {
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(env->dir, NULL, ARD_INDEX_READ_ONLY, &idx, NULL), ARD_OK);
    ard_buf out;
    ard_buf_init(&out);
    ard_error err;
    ard_error_init(&err);
    if (ard_datasheet_render(env->dir, idx, NULL, &out, &err) != ARD_OK) {
        fail_msg("datasheet: %s", err.msg);
    }
    ard_buf_append(&out, "", 1);
    ard_index_close(idx);
    char *text = strdup((const char *)out.data);
    ard_buf_reset(&out);
    return text;
}

static void test_skips_reach_datasheet(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1);
    char tile[400], rel[200], want[600];
    rel_tile_path(env, 0, tile, sizeof tile);
    tgen_tile_path(0, rel, sizeof rel);
    char *before = render(env);
    assert_non_null(strstr(before, "tiles unchanged since (0):"));
    free(before);
    smash_flux(tile, 1);

    int64_t rows = 0;
    ard_loader *l = stream_all(env, &rows);
    assert_int_equal(rows, 700); /* 800 spectra less row group 1 of tile 0 */
    assert_int_equal(ard_loader_num_skipped(l), 1);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_loader_record_skips(l, &err), ARD_OK);
    assert_int_equal(ard_loader_record_skips(l, &err), ARD_OK); /* nothing new: no second row */
    ard_loader_free(l);                                         /* nor here */
    struct stat sb;
    assert_int_equal(stat(tile, &sb), 0);
    long long mtime = (long long)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    char *got = rel_sql_text(env, "SELECT path || ' ' || row_group || ' ' || status || ' ' ||"
                                  " (times > 0) || ' ' || tile_mtime_ns FROM stream_skips");
    snprintf(want, sizeof want, "%s 1 ARD_ECORRUPT 1 %lld\n", rel, mtime);
    assert_string_equal(got, want);
    free(got);
    got = rel_sql_text(env, "SELECT message FROM stream_skips");
    assert_non_null(strstr(got, rel)); /* the error names the tile */
    free(got);

    char *sheet = render(env);
    snprintf(want, sizeof want, "- **%s** row group 1: ARD_ECORRUPT: ", rel);
    assert_non_null(strstr(sheet, "tiles unchanged since (1):"));
    assert_non_null(strstr(sheet, want));
    assert_non_null(strstr(sheet, "(1 streams)"));
    free(sheet);

    /* A second stream records through ard_loader_free alone: one line, two streams. */
    ard_loader_free(stream_all(env, &rows));
    sheet = render(env);
    assert_non_null(strstr(sheet, "tiles unchanged since (1):"));
    assert_non_null(strstr(sheet, "(2 streams)"));
    free(sheet);

    /* A sync that notices the damaged tile (its mtime changed, its footer did not) keeps them. */
    ard_sync_report rep;
    assert_int_equal(rel_sync(env, &rep, &err), ARD_OK);
    sheet = render(env);
    assert_non_null(strstr(sheet, "(2 streams)"));
    free(sheet);

    /* Rewritten and re-synced: the index saw the tile change after the skips, which drop out. */
    char msg[600];
    assert_int_equal(tgen_write_tile(tile, 0, &env->gen, msg, sizeof msg), 0);
    assert_int_equal(rel_sync(env, &rep, &err), ARD_OK);
    sheet = render(env);
    assert_non_null(strstr(sheet, "tiles unchanged since (0):"));
    assert_null(strstr(sheet, want));
    free(sheet);
    rel_env_free(env);
}

/* An index that refuses the rows (here a foreign table named stream_skips; as well a read-only
 * database): the stream is unaffected, recording fails with a clear error, free does not. */
static void test_skips_index_refuses(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1);
    char tile[400];
    rel_tile_path(env, 0, tile, sizeof tile);
    smash_flux(tile, 2);
    int64_t rows = 0;
    ard_loader *l = stream_all(env, &rows);
    assert_int_equal(rows, 700);
    rel_raw_sql(env, "CREATE TABLE stream_skips (something_else TEXT)");
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_loader_record_skips(l, &err);
    assert_int_not_equal(st, ARD_OK);
    assert_non_null(strstr(err.msg, "recording 1 skipped row groups in the index"));
    ard_loader_free(l); /* best effort: must not fail or crash */
    rel_env_free(env);
}

int rel_skips_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skips_reach_datasheet),
        cmocka_unit_test(test_skips_index_refuses),
    };
    return cmocka_run_group_tests_name("stream skips in the index", tests, NULL, NULL);
}
