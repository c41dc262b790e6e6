/* Shared helpers of the index tests: a per-test dataset in a temporary directory and the backend
 * under test (SQLite always; PostgreSQL when ARD_TEST_PG_DSN names a throwaway server, which
 * index_pg.sh starts). */
#ifndef ARD_TESTS_INDEX_TI_H
#define ARD_TESTS_INDEX_TI_H

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/index.h"
#include "tgen.h"

typedef struct ti_env {
    char dir[256];   /* the dataset */
    const char *dsn; /* NULL: SQLite in the dataset; else the PostgreSQL DSN */
    int pg;
    tgen_opts gen;
} ti_env;

/* The first line of a test body: `env` from cmocka's state, or a (reported) skip when the setup
 * found no backend. */
#define TI_ENV(state)                                                                              \
    ti_env *env = *(state);                                                                        \
    if (!env) {                                                                                    \
        skip();                                                                                    \
    }

/* cmocka setup/teardown: state is a ti_env*. The "pg" variants skip (loudly) without a server. */
int ti_setup_sqlite(void **state);
int ti_setup_pg(void **state);
int ti_teardown(void **state);

/* Opens the index of env (writable unless flags say otherwise); asserts success. */
ard_index *ti_open(ti_env *env, int32_t flags);
/* Opens, syncs with default options, closes; returns the report. */
void ti_sync(ti_env *env, const ard_sync_options *opts, ard_sync_report *rep);
/* One integer from a read-only SELECT. */
int64_t ti_int(ard_index *idx, const char *sql);
/* Runs raw SQL (outside the ard API: tests tamper with the index). Asserts success. */
void ti_raw_sql(ti_env *env, const char *sql);
/* Drops the whole index: the PostgreSQL schema, or the SQLite file with its WAL and shared memory. */
void ti_drop_index(ti_env *env);
/* Path of tile t under the dataset. */
void ti_tile_path(const ti_env *env, int32_t tile, char *out, size_t cap);

/* Test groups (ti_fetch.c). */
void test_fetch_iterator(void **state);
void test_fetch_parquet(void **state);
void test_fetch_npy(void **state);
void test_fetch_stale(void **state);
void test_write_table(void **state);
void test_same_answers(void **state);
/* ti_query_stage.c */
void test_query_stage(void **state);
/* ti_fetch_stage.c */
void test_fetch_stage(void **state);
/* ti_read.c */
void test_read_columns(void **state);
void test_read_columns_errors(void **state);
void test_select_columns(void **state);
/* ti_results.c */
void test_result_run(void **state);
void test_result_run_kill(void **state);
void test_result_run_ids(void **state);
/* ti_catalog.c */
void test_catalog_duplicates(void **state);
void test_catalog_fresh_same(void **state);
void test_catalog_decode_ahead(void **state);
void test_catalog_columns_same(void **state);
/* ti_pixel_stats.c */
void test_pixel_stats_sync(void **state);
void test_pixel_stats_malformed(void **state);
void test_pixel_stats_migrate(void **state);
/* ti_plan_scan.c */
void test_plan_scan_same(void **state);
void test_rg_targetids_codec(void **state);
/* ti_bulk.c */
void test_bulk_batches(void **state);
void test_sync_windows(void **state);
/* ti_fresh.c: every spectra row as (targetid, path, row_group, row_index) in key order, folded
 * into a digest (file ids differ between load paths; paths do not), after asserting that
 * ard_index_check passes and the stored linkage is the true one; and a hash of the text of the plan
 * of `where` (NULL: every spectrum) with ard_index_query's `limit` (0: none). */
typedef struct ti_rows_digest {
    int64_t rows;
    uint64_t hash;
} ti_rows_digest;
ti_rows_digest ti_spectra_digest(ti_env *env);
uint64_t ti_plan_hash(ti_env *env, const char *where, int64_t limit);
void test_fresh_same(void **state);
void test_fresh_then_change(void **state);
void test_fresh_journal(void **state);          /* SQLite only */
void test_fresh_kill(void **state);             /* SQLite only */
void test_fresh_kill_open_reader(void **state); /* SQLite only */
/* ti_spectra_key.c */
void test_spectra_key_migrate(void **state);

#endif
