/* The sync stage's datasheet rule as library behaviour (ard_datasheet_sync): a C caller gets the
 * datasheet written by the first sync, left alone by a sync that changes nothing, rewritten after a
 * change, and not written with no_datasheet or as one rank of several. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tds.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void test_sync_stage_datasheet(void **state);

void test_sync_stage_datasheet(void **state) {
    (void)state;
    char dir[256];
    assert_int_equal(tds_generate(dir, sizeof dir, 400, 11, 1.0), 0);
    char md[400];
    snprintf(md, sizeof md, "%s/DATA_README.md", dir);
    ard_index *idx = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_index_open(dir, NULL, 0, &idx, &err), ARD_OK);
    ard_datasheet_sync_options o;
    ard_datasheet_sync_options_init(&o);
    o.sync.quiet = 1;
    o.sync.threads = 2;
    /* one rank of several: the sync runs, the datasheet does not */
    o.sync.size = 2;
    ard_datasheet_sync_report rep;
    assert_int_equal(ard_datasheet_sync(idx, dir, &o, &rep, &err), ARD_OK);
    assert_true(rep.synced);
    assert_true(rep.sync.files_added > 0);
    assert_int_equal(rep.datasheet_written, 0);
    assert_int_equal(access(md, F_OK), -1);
    /* no_datasheet */
    o.sync.size = 1;
    o.no_datasheet = 1;
    assert_int_equal(ard_datasheet_sync(idx, dir, &o, &rep, &err), ARD_OK);
    assert_int_equal(rep.datasheet_written, 0);
    assert_int_equal(access(md, F_OK), -1);
    /* unchanged index, missing datasheet: written */
    o.no_datasheet = 0;
    assert_int_equal(ard_datasheet_sync(idx, dir, &o, &rep, &err), ARD_OK);
    assert_int_equal(rep.sync.files_added + rep.sync.files_changed, 0);
    assert_int_equal(rep.datasheet_written, 1);
    assert_string_equal(rep.datasheet_path, md);
    size_t len = 0;
    char *first = tds_read_file(md, &len);
    assert_non_null(first);
    /* unchanged again: left alone (a marker line we add stays) */
    FILE *f = fopen(md, "a");
    assert_non_null(f);
    fputs("marker\n", f);
    fclose(f);
    assert_int_equal(ard_datasheet_sync(idx, dir, &o, &rep, &err), ARD_OK);
    assert_int_equal(rep.datasheet_written, 0);
    char *second = tds_read_file(md, &len);
    assert_non_null(strstr(second, "marker\n"));
    ard_free(second);
    /* a change (a catalog file removed): rewritten, the marker gone */
    char cat[400];
    snprintf(cat, sizeof cat, "%s/catalog/zcatalog-0000.parquet", dir);
    assert_int_equal(unlink(cat), 0);
    assert_int_equal(ard_datasheet_sync(idx, dir, &o, &rep, &err), ARD_OK);
    assert_int_equal(rep.sync.files_removed, 1);
    assert_int_equal(rep.datasheet_written, 1);
    char *third = tds_read_file(md, &len);
    assert_null(strstr(third, "marker\n"));
    assert_string_not_equal(third, first);
    ard_free(first);
    ard_free(third);
    /* a read-only handle: the sync's own error, nothing written */
    ard_index_close(idx);
    assert_int_equal(ard_index_open(dir, NULL, ARD_INDEX_READ_ONLY, &idx, &err), ARD_OK);
    assert_int_equal(ard_datasheet_sync(idx, dir, NULL, &rep, NULL), ARD_EPERM);
    assert_false(rep.synced);
    ard_index_close(idx);
    tds_rmtree(dir);
}
