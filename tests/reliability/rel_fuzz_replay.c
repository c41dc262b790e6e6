/* Replays the seed corpora of the fuzz targets added for issue 15 (fuzz/corpus/predicate/,
 * fuzz/corpus/cli_args/) through the targets themselves, compiled in here, on every test run. */
#include "rel.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLVMFuzzerTestOneInput rel_fuzz_predicate
#include "../../fuzz/fuzz_predicate.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput rel_fuzz_cli_args
#include "../../fuzz/fuzz_cli_args.c"
#undef LLVMFuzzerTestOneInput

/* Runs every file of fuzz/corpus/<name>/ through fn; returns how many. */
static int replay(const char *name, int (*fn)(const uint8_t *, size_t)) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", ARD_SOURCE_DIR, name);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t buf[4096];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        assert_int_equal(fn(buf, len), 0); /* the targets abort() on a broken invariant */
        n++;
    }
    closedir(d);
    return n;
}

static void test_replay_predicate(void **state) {
    (void)state;
    assert_true(replay("predicate", rel_fuzz_predicate) >= 10);
    assert_non_null(fuzz_index); /* some seeds passed the guard and ran against the index */
    remove_dataset();
}

static void test_replay_cli_args(void **state) {
    (void)state;
    assert_true(replay("cli_args", rel_fuzz_cli_args) >= 10);
}

int rel_fuzz_replay_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_predicate),
        cmocka_unit_test(test_replay_cli_args),
    };
    return cmocka_run_group_tests_name("fuzz seed corpora", tests, NULL, NULL);
}
