/* ard_utf8_valid, the one UTF-8 validator: ASCII and NUL, 2-4 byte sequences at their limits, and
 * the invalid forms (overlong, surrogate, above U+10FFFF, stray continuation, truncated). */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/core.h"

#include <string.h>

void test_utf8_valid(void **state);

static int32_t valid(const char *s, size_t len) {
    return ard_utf8_valid((const uint8_t *)s, len);
}

void test_utf8_valid(void **state) {
    (void)state;
    assert_int_equal(valid("", 0), 1);
    assert_int_equal(valid("abc", 3), 1);
    assert_int_equal(valid("a\0b", 3), 1);               /* NUL is a character */
    assert_int_equal(valid("\xc3\xa9", 2), 1);           /* U+00E9 */
    assert_int_equal(valid("\xe2\x82\xac", 3), 1);       /* U+20AC */
    assert_int_equal(valid("\xf0\x9f\x98\x80", 4), 1);   /* U+1F600 */
    assert_int_equal(valid("\xf4\x8f\xbf\xbf", 4), 1);   /* U+10FFFF */
    assert_int_equal(valid("\xc0\xaf", 2), 0);           /* overlong '/' */
    assert_int_equal(valid("\xe0\x80\xaf", 3), 0);       /* overlong */
    assert_int_equal(valid("\xed\xa0\x80", 3), 0);       /* surrogate U+D800 */
    assert_int_equal(valid("\xf4\x90\x80\x80", 4), 0);   /* U+110000 */
    assert_int_equal(valid("\x80", 1), 0);               /* stray continuation */
    assert_int_equal(valid("\xe2\x82", 2), 0);           /* truncated */
    assert_int_equal(valid("ok\xe2\x82\xac\xff", 6), 0); /* 0xFF never appears */
    assert_int_equal(ard_utf8_valid(NULL, 0), 1);
    assert_int_equal(ard_utf8_valid(NULL, 3), 0);
}
