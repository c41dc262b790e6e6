/* ard_hash_bytes: a function of the bytes only (not of their address or alignment), the length in
 * the hash (trailing zero bytes count), every bit of every byte in it, and low bits spread well
 * enough for power-of-two tables. */
#include "ard/core.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

void test_hash_bytes(void **state);

void test_hash_bytes(void **state) {
    (void)state;
    uint8_t a[96], b[104];
    for (int i = 0; i < 96; i++) {
        a[i] = (uint8_t)(i * 37 + 11);
    }
    /* the bytes decide, wherever they lie */
    for (size_t len = 0; len <= 80; len++) {
        for (int shift = 1; shift < 8; shift++) {
            memcpy(b + shift, a, len);
            assert_true(ard_hash_bytes(a, len) == ard_hash_bytes(b + shift, len));
        }
    }
    assert_true(ard_hash_bytes(NULL, 0) == ard_hash_bytes(a, 0));
    /* runs of zero bytes of every length 0..64 all differ */
    uint8_t zeros[64] = {0};
    uint64_t seen[65];
    for (size_t n = 0; n <= 64; n++) {
        seen[n] = ard_hash_bytes(zeros, n);
        for (size_t m = 0; m < n; m++) {
            assert_true(seen[m] != seen[n]);
        }
    }
    /* one flipped bit anywhere in strings of 1..40 bytes changes the hash */
    for (size_t len = 1; len <= 40; len++) {
        uint64_t h = ard_hash_bytes(a, len);
        for (size_t bit = 0; bit < 8 * len; bit++) {
            memcpy(b, a, len);
            b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_true(ard_hash_bytes(b, len) != h);
        }
    }
    /* 65,536 keys like a catalog's ("LRG 123") into 4,096 buckets by the low 12 bits: 16 a bucket
     * on average; a hash that left the low bits to the tail would pile them up */
    static uint16_t load[4096];
    memset(load, 0, sizeof load);
    int most = 0;
    for (int i = 0; i < 65536; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "%s %d", i % 3 ? "LRG" : "ELG", i);
        int k = ++load[ard_hash_bytes(key, (size_t)n) & 4095];
        most = k > most ? k : most;
    }
    assert_true(most < 40);
}
