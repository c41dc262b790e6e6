/* Replays the fuzz seed corpora (fuzz/corpus/<target>/) through the reader on every ordinary test
 * run, so the inputs the fuzzers start from are exercised under the sanitizers of this build. */
/* cmocka needs these first, in this order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "ard/parquet.h"
#include "footer_test_util.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_all_columns(const ard_parquet_file *f) {
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    for (int32_t rg = 0; rg < md->num_row_groups; rg++) {
        for (int32_t leaf = 0; leaf < md->num_leaves; leaf++) {
            ard_pq_column_data col;
            memset(&col, 0, sizeof col);
            (void)ard_parquet_read_column(f, rg, leaf, &col, NULL); /* errors are fine here */
            ard_pq_column_data_reset(&col);
        }
    }
}

static int replay_file(const char *path, void *arg) {
    int *count = arg;
    size_t size = 0;
    uint8_t *data = ftu_read_file(path, &size);
    if (!data) {
        print_error("%s: unreadable\n", path);
        return 1;
    }
    ard_parquet_open_options opts;
    memset(&opts, 0, sizeof opts);
    opts.memory_cap = (int64_t)64 << 20;
    ard_parquet_file *f = NULL;
    ard_status st = ard_parquet_open_memory(data, size, path, &opts, &f, NULL);
    int bad = (st == ARD_OK) != (f != NULL);
    if (f) {
        read_all_columns(f);
    }
    ard_parquet_close(f);
    free(data);
    *count += 1;
    return bad;
}

static void test_replay_seed_corpora(void **state) {
    (void)state;
    char dir[1200];
    int count = 0;
    snprintf(dir, sizeof dir, "%s/fuzz/corpus", ftu_source_dir());
    int bad = ftu_walk_tree(dir, replay_file, &count); /* every fuzz/corpus/<target>/ file */
    assert_int_equal(bad, 0);
    assert_true(count >= 5); /* at least the footer seeds */
}

int ard_test_fuzz_replay_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_seed_corpora),
    };
    return cmocka_run_group_tests_name("parquet_fuzz_replay", tests, NULL, NULL);
}
