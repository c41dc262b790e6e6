/* ard_dynlib_open, the one dlopen of optional libraries (OpenBLAS, libpq, cfitsio): a missing
 * library or symbol is ARD_ENOTSUP with a message naming it and dlerror(), a fallback name is tried
 * after the first, and nothing is resolved half-way. ard_dynlib_load: one opening per process
 * whatever the number of callers and threads, its outcome (or its error) given to each. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/core.h"

#include <pthread.h>
#include <string.h>

void test_dynlib_open(void **state);
void test_dynlib_load_once(void **state);

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

static int fills;                            /* calls of fill_strlen (under the library's lock) */
static size_t (*typed_strlen)(const char *); /* what fill_strlen kept */

static void fill_strlen(void *const *slots) {
    fills++;
    typed_strlen = (size_t(*)(const char *))slots[0];
}

static const char *const once_names[] = {"libc.so.6"};
static const char *const once_symbols[] = {"strlen"};
static void *once_slots[1];
static ard_dynlib_once libc_once = {.what = "the test",
                                    .names = once_names,
                                    .name_count = 1,
                                    .symbols = once_symbols,
                                    .slots = once_slots,
                                    .symbol_count = 1,
                                    .fill = fill_strlen};

static void *load_and_use(void *arg) {
    (void)arg;
    ard_error err;
    ard_error_init(&err);
    if (ard_dynlib_load(&libc_once, &err) != ARD_OK || typed_strlen("abc") != 3) {
        return (void *)1;
    }
    return NULL;
}

void test_dynlib_load_once(void **state) {
    (void)state;
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, load_and_use, NULL), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *failed = (void *)&threads[i];
        assert_int_equal(pthread_join(threads[i], &failed), 0);
        assert_null(failed); /* each thread saw the library loaded and filled */
    }
    assert_null(load_and_use(NULL));
    assert_int_equal(fills, 1);

    /* a failure is kept: every later caller gets the first error, and nothing is filled */
    static const char *const gone[] = {"libard-test-missing.so.7"};
    static void *gone_slots[1];
    static ard_dynlib_once missing = {.what = "the missing test",
                                      .names = gone,
                                      .name_count = 1,
                                      .symbols = once_symbols,
                                      .slots = gone_slots,
                                      .symbol_count = 1,
                                      .fill = fill_strlen};
    for (int round = 0; round < 2; round++) {
        ard_error err;
        ard_error_init(&err);
        assert_int_equal(ard_dynlib_load(&missing, &err), ARD_ENOTSUP);
        assert_non_null(strstr(err.msg, "the missing test needs libard-test-missing.so.7: "));
        assert_int_equal(missing.state, 2);
    }
    assert_int_equal(ard_dynlib_load(&missing, NULL), ARD_ENOTSUP);
    assert_int_equal(fills, 1);
    assert_int_equal(ard_dynlib_load(NULL, NULL), ARD_EINVAL);
}
