/* ard_abi_* report the layouts this test is compiled with; ard_version and ard_status_count are
 * what bindings check at load. */
/* cmocka needs these first, in this order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "ard/abi.h"
#include "ard/core.h"
#include "ard/index.h"
#include "ard/stream.h"

#include <string.h>

static void test_sizes_and_offsets(void **state) {
    (void)state;
    assert_int_equal(ard_abi_struct_size("ard_error"), sizeof(ard_error));
    assert_int_equal(ard_abi_field_offset("ard_error", "msg"), offsetof(ard_error, msg));
    assert_int_equal(ard_abi_field_size("ard_error", "msg"), 512);
    assert_int_equal(ard_abi_struct_size("ard_loader_options"), sizeof(ard_loader_options));
    assert_int_equal(ard_abi_field_offset("ard_loader_options", "tokenize"),
                     offsetof(ard_loader_options, tokenize));
    assert_int_equal(ard_abi_field_size("ard_loader_options", "tokenize"),
                     sizeof(ard_tokenize_options));
    assert_int_equal(ard_abi_field_offset("ard_loader_options", "index_dsn"),
                     offsetof(ard_loader_options, index_dsn));
    assert_int_equal(ard_abi_field_offset("ard_sync_report", "first_error"),
                     offsetof(ard_sync_report, first_error));
    assert_int_equal(ard_abi_field_offset("ard_fetch_batch", "u8_values"),
                     offsetof(ard_fetch_batch, u8_values));
}

/* Every described struct: fields in declaration order, increasing offsets, each inside the struct,
 * and no gap wider than alignment padding (< 8 bytes) between fields or at the end: a field added
 * to a public struct without its row in src/abi/abi.c fails here. */
static void test_table_is_consistent(void **state) {
    (void)state;
    int32_t n = ard_abi_num_structs();
    assert_true(n >= 20);
    for (int32_t i = 0; i < n; i++) {
        const char *s = ard_abi_struct_name(i);
        assert_non_null(s);
        int64_t size = ard_abi_struct_size(s);
        int32_t fields = ard_abi_num_fields(s);
        assert_true(size > 0 && fields > 0);
        int64_t prev_end = 0;
        for (int32_t f = 0; f < fields; f++) {
            const char *name = ard_abi_field_name(s, f);
            assert_non_null(name);
            int64_t off = ard_abi_field_offset(s, name);
            assert_true(off >= prev_end);
            if (off - prev_end >= 8) {
                fail_msg("%s: %lld unlisted bytes before %s", s, (long long)(off - prev_end), name);
            }
            prev_end = off + ard_abi_field_size(s, name);
            assert_true(prev_end <= size);
        }
        if (size - prev_end >= 8) {
            fail_msg("%s: %lld unlisted bytes at the end", s, (long long)(size - prev_end));
        }
        assert_null(ard_abi_field_name(s, fields));
    }
    assert_null(ard_abi_struct_name(n));
    assert_null(ard_abi_struct_name(-1));
}

static void test_unknown_names(void **state) {
    (void)state;
    assert_int_equal(ard_abi_struct_size("ard_nope"), -1);
    assert_int_equal(ard_abi_struct_size(NULL), -1);
    assert_int_equal(ard_abi_num_fields("ard_nope"), -1);
    assert_int_equal(ard_abi_field_offset("ard_error", "nope"), -1);
    assert_int_equal(ard_abi_field_offset("ard_error", NULL), -1);
    assert_int_equal(ard_abi_field_size("ard_nope", "code"), -1);
    assert_null(ard_abi_field_name("ard_nope", 0));
}

static void test_version_and_status_count(void **state) {
    (void)state;
    assert_string_equal(ard_version(), ARD_VERSION_STRING);
    int32_t n = ard_status_count();
    assert_int_equal(n, ARD_EINTERNAL + 1);
    assert_string_equal(ard_status_name((ard_status)(n - 1)), "ARD_EINTERNAL");
    assert_string_equal(ard_status_name((ard_status)n), "ARD_UNKNOWN");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_offsets),
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_version_and_status_count),
    };
    return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
