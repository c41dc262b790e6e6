/* ard_dynlib_open, the one dlopen of optional libraries (OpenBLAS, libpq): a missing library or
 * symbol is ARD_ENOTSUP with a message naming it and dlerror(), a fallback name is tried after the
 * first, and nothing is resolved half-way. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/core.h"

#include <string.h>

void test_dynlib_open(void **state);

void test_dynlib_open(void **state) {
    (void)state;
    ard_error err;
    void *slots[2] = {NULL, NULL};
    const char *const libc_names[] = {"libard-test-missing.so.7", "libc.so.6"};
    const char *const found[] = {"strlen", "memcpy"};
    assert_int_equal(ard_dynlib_open("the test", libc_names, 2, found, slots, 2, NULL), ARD_OK);
    size_t (*found_strlen)(const char *) = (size_t(*)(const char *))slots[0];
    assert_int_equal(found_strlen("four"), 4); /* the fallback name opened */
    assert_non_null(slots[1]);

    const char *const missing[] = {"libard-test-missing.so.7", "libard-test-missing.so.7",
                                   "/nonexistent/libard-test-other.so"};
    ard_error_init(&err);
    assert_int_equal(ard_dynlib_open("the test", missing, 3, found, slots, 2, &err), ARD_ENOTSUP);
    assert_int_equal(err.code, ARD_ENOTSUP);
    assert_non_null(strstr(err.msg, "the test needs libard-test-missing.so.7: "));
    assert_non_null(strstr(err.msg, "cannot open shared object file")); /* dlerror() */
    assert_non_null(strstr(err.msg, "; /nonexistent/libard-test-other.so: "));
    /* the repeated name is tried once */
    assert_null(strstr(err.msg, "; libard-test-missing.so.7"));

    const char *const half[] = {"strlen", "ard_test_no_such_symbol"};
    slots[0] = slots[1] = (void *)&err;
    ard_error_init(&err);
    assert_int_equal(ard_dynlib_open("the test", libc_names, 2, half, slots, 2, &err), ARD_ENOTSUP);
    assert_non_null(strstr(err.msg, "the test: libc.so.6 has no ard_test_no_such_symbol: "));
    assert_null(slots[0]);
    assert_null(slots[1]);

    ard_error_init(&err);
    assert_int_equal(ard_dynlib_open("the test", libc_names, 0, found, slots, 2, &err), ARD_EINVAL);
    assert_int_equal(ard_dynlib_open(NULL, libc_names, 2, found, slots, 2, NULL), ARD_EINVAL);
    assert_int_equal(ard_dynlib_open("the test", libc_names, 2, found, NULL, 2, NULL), ARD_EINVAL);
}
