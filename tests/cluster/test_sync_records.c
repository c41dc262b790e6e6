/* The pieces of the distributed sync that need no launcher: a Parquet handle on a footer alone
 * (ard_parquet_open_footer), and a sync whose every tile read goes through ard_sync_remote (the
 * records ard_index_sync_read_tile makes, handed back in this process) giving what a local sync
 * gives, corrupt tiles included. */
#include "common/ard_test.h"

#include "ard/cluster.h"
#include "ard/index.h"
#include "ard/parquet.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

void test_open_footer(void **state);
void test_sync_remote_hook(void **state);

/* The FileMetaData bytes of the file at path. */
static uint8_t *footer_bytes(const char *path, size_t *len, int64_t *size) {
    ard_parquet_file *pq = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &pq, NULL), ARD_OK);
    const ard_pq_metadata *md = ard_parquet_metadata(pq);
    *len = (size_t)md->footer_length;
    *size = ard_parquet_file_size(pq);
    uint8_t *out = ard_malloc(*len);
    int fd = -1;
    assert_int_equal(ard_file_open_regular(path, &fd, NULL, NULL), ARD_OK);
    assert_int_equal(ard_pread_full(fd, out, *len, md->footer_offset, path, NULL), ARD_OK);
    close(fd);
    ard_parquet_close(pq);
    return out;
}

void test_open_footer(void **state) {
    (void)state;
    char *dir = ard_test_make_dataset(1, 50, 16, 20);
    assert_non_null(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/tiles/main/100.parquet", dir);
    size_t len = 0;
    int64_t size = 0;
    uint8_t *footer = footer_bytes(path, &len, &size);
    ard_parquet_file *whole = NULL, *head = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &whole, NULL), ARD_OK);
    assert_int_equal(ard_parquet_open_footer(footer, len, size, "t", &head, NULL), ARD_OK);
    const ard_pq_metadata *a = ard_parquet_metadata(whole), *b = ard_parquet_metadata(head);
    assert_int_equal(b->num_rows, 50);
    assert_int_equal(b->num_row_groups, a->num_row_groups);
    assert_int_equal(b->row_groups[2].columns[0].chunk_start,
                     a->row_groups[2].columns[0].chunk_start);
    assert_string_equal(ard_parquet_kv_get(head, "ard.grid"),
                        ard_parquet_kv_get(whole, "ard.grid"));
    ard_pq_column_data col;
    memset(&col, 0, sizeof col);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_read_column(head, 0, 0, &col, &err), ARD_ENOTSUP);
    assert_non_null(strstr(err.msg, "only the footer"));
    ard_parquet_close(head);
    head = NULL;
    /* bad input: the exact statuses */
    assert_int_equal(ard_parquet_open_footer(NULL, len, size, "t", &head, NULL), ARD_EINVAL);
    assert_int_equal(ard_parquet_open_footer(footer, len, (int64_t)len, "t", &head, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_parquet_open_footer(footer, len / 2, size, "t", &head, NULL),
                     ARD_ECORRUPT);
    assert_null(head);
    ard_parquet_close(whole);
    ard_free(footer);
    ard_test_rmtree(dir);
    free(dir);
}

/* A "remote" that reads every tile itself through the record path. */
typedef struct fake_remote {
    const char *dataset;
    int64_t count, received;
    char **paths;
} fake_remote;

static ard_status fake_plan(void *ctx, int64_t count, const char *const *paths,
                            const int64_t *sizes, int32_t *local, ard_error *err) {
    (void)sizes;
    (void)err;
    fake_remote *f = ctx;
    f->count = count;
    f->paths = ard_calloc((size_t)(count ? count : 1), sizeof *f->paths);
    for (int64_t i = 0; i < count; i++) {
        f->paths[i] = ard_strdup(paths[i]);
        local[i] = i % 3 == 0; /* some read here, most "remotely" */
    }
    return ARD_OK;
}

static ard_status fake_receive(void *ctx, int64_t i, uint8_t **record, size_t *len,
                               ard_error *err) {
    fake_remote *f = ctx;
    f->received++;
    return ard_index_sync_read_tile(f->dataset, f->paths[i], record, len, err);
}

static ard_sync_report sync_with(const char *dir, const char *db, const ard_sync_remote *remote) {
    ard_index *idx = NULL;
    assert_int_equal(ard_index_open(dir, db, 0, &idx, NULL), ARD_OK);
    ard_sync_options o;
    memset(&o, 0, sizeof o);
    o.quiet = 1;
    o.threads = 2;
    o.remote = remote;
    ard_sync_report r;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_index_sync(idx, dir, &o, &r, &err), ARD_OK);
    int64_t bad = -1;
    assert_int_equal(ard_index_check(idx, &bad, NULL), ARD_OK);
    assert_int_equal(bad, 0);
    ard_index_close(idx);
    return r;
}

void test_sync_remote_hook(void **state) {
    (void)state;
    char *dir = ard_test_make_dataset(7, 40, 16, 15);
    assert_non_null(dir);
    char junk[4096], one[4096], two[4096];
    snprintf(junk, sizeof junk, "%s/tiles/main/999.parquet", dir);
    assert_int_equal(ard_test_write_text(junk, "not parquet"), 0);
    snprintf(one, sizeof one, "sqlite:%s/one.db", dir);
    snprintf(two, sizeof two, "sqlite:%s/two.db", dir);
    fake_remote f = {dir, 0, 0, NULL};
    ard_sync_remote remote = {fake_plan, fake_receive, &f, 4};
    ard_sync_report a = sync_with(dir, one, NULL);
    ard_sync_report b = sync_with(dir, two, &remote);
    assert_int_equal(f.count, 8);
    assert_int_equal(f.received, 5); /* entries 1, 2, 4, 5, 7 */
    assert_int_equal(b.files_added, a.files_added);
    assert_int_equal(b.files_failed, 1);
    assert_int_equal(b.files_failed, a.files_failed);
    assert_int_equal(b.spectra_rows, 7 * 40);
    assert_int_equal(b.data_reads, a.data_reads);
    assert_int_equal(b.footer_reads, a.footer_reads);
    assert_string_equal(b.first_error, a.first_error);
    /* the same spectra in the same place (row groups, offsets, sizes): the plans over both */
    int64_t ids[7 * 40];
    for (int i = 0; i < 7 * 40; i++) {
        ids[i] = (i / 40 + 1) * 1000000 + i % 40;
    }
    ard_buf plans[2];
    for (int k = 0; k < 2; k++) {
        ard_index *idx = NULL;
        ard_plan *plan = NULL;
        assert_int_equal(ard_index_open(dir, k ? two : one, ARD_INDEX_READ_ONLY, &idx, NULL),
                         ARD_OK);
        assert_int_equal(ard_index_query_targetids(idx, ids, 7 * 40, &plan, NULL), ARD_OK);
        assert_int_equal(ard_plan_num_rows(plan), 7 * 40);
        ard_buf_init(&plans[k]);
        ard_plan_to_json(plan, &plans[k], 0);
        ard_plan_free(plan);
        ard_index_close(idx);
    }
    assert_int_equal(plans[0].len, plans[1].len);
    assert_memory_equal(plans[0].data, plans[1].data, plans[0].len);
    ard_buf_reset(&plans[0]);
    ard_buf_reset(&plans[1]);
    for (int64_t i = 0; i < f.count; i++) {
        ard_free(f.paths[i]);
    }
    ard_free(f.paths);
    ard_test_rmtree(dir);
    free(dir);
}
