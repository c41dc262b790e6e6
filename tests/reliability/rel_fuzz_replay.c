/* Replays the seed corpora of the fuzz targets added for issue 15 (fuzz/corpus/<target>/: predicate,
 * cli_args, plan, template, safetensors, fits) through the targets themselves, compiled in here, on
 * every test run. The targets abort() on a broken invariant; the regression inputs of the bugs the
 * fuzzers found are part of these corpora. */
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
#define LLVMFuzzerTestOneInput rel_fuzz_plan
#include "../../fuzz/fuzz_plan.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput rel_fuzz_template
#include "../../fuzz/fuzz_template.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput rel_fuzz_safetensors
#include "../../fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput rel_fuzz_fits
#include "../../fuzz/fuzz_fits.c"
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
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        assert_true(feof(f)); /* no seed is larger than the targets' input cap */
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

static void test_replay_plan(void **state) {
    (void)state;
    assert_true(replay("plan", rel_fuzz_plan) >= 10);
}

/* The built-in template renders, and every seed passes the renderer's invariants. */
static void test_replay_template(void **state) {
    (void)state;
    const char *builtin = ard_datasheet_default_template();
    assert_int_equal(rel_fuzz_template((const uint8_t *)builtin, strlen(builtin)), 0);
    ard_buf out;
    ard_buf_init(&out);
    assert_int_equal(ard__ds_render(&fuzz_model, builtin, "fuzz.md", &out, NULL), ARD_OK);
    assert_true(out.len > 1000);
    ard_buf_reset(&out);
    assert_true(replay("template", rel_fuzz_template) >= 10);
}

static void test_replay_safetensors(void **state) {
    (void)state;
    assert_true(replay("safetensors", rel_fuzz_safetensors) >= 10);
}

static void test_replay_fits(void **state) {
    (void)state;
    assert_true(replay("fits", rel_fuzz_fits) >= 4);
}

int rel_fuzz_replay_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_predicate),   cmocka_unit_test(test_replay_cli_args),
        cmocka_unit_test(test_replay_plan),        cmocka_unit_test(test_replay_template),
        cmocka_unit_test(test_replay_safetensors), cmocka_unit_test(test_replay_fits),
    };
    return cmocka_run_group_tests_name("fuzz seed corpora", tests, NULL, NULL);
}
