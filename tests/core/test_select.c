/* ard_select_kth_f32/_f64, the one quickselect: every k of random, sorted, reversed, all-equal and
 * few-distinct arrays against a sorted copy (with the partition property around k), sizes around
 * the insertion-sort cut, and the no-op cases. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/core.h"

#include <stdlib.h>
#include <string.h>

void test_select_kth(void **state);

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t next(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 17;
}

static void fill(double *v, int64_t n, int pattern, uint64_t *seed) {
    for (int64_t i = 0; i < n; i++) {
        switch (pattern) {
        case 0:
            v[i] = (double)(next(seed) % 1000003) * 0.5;
            break;
        case 1:
            v[i] = (double)i;
            break;
        case 2:
            v[i] = (double)(n - i);
            break;
        case 3:
            v[i] = 7.0;
            break;
        default:
            v[i] = (double)(next(seed) % 3);
            break;
        }
    }
}

static void check(int64_t n, int pattern, uint64_t seed) {
    double *v = malloc((size_t)n * sizeof *v), *w = malloc((size_t)n * sizeof *w);
    double *ref = malloc((size_t)n * sizeof *ref);
    float *f = malloc((size_t)n * sizeof *f);
    fill(ref, n, pattern, &seed);
    memcpy(v, ref, (size_t)n * sizeof *v);
    qsort(ref, (size_t)n, sizeof *ref, cmp_d);
    for (int64_t k = 0; k < n; k += 1 + n / 37) {
        memcpy(w, v, (size_t)n * sizeof *w);
        ard_select_kth_f64(w, n, k);
        assert_true(w[k] == ref[k]);
        for (int64_t i = 0; i < n; i++) {
            assert_true(i < k ? w[i] <= w[k] : w[i] >= w[k]);
        }
        for (int64_t i = 0; i < n; i++) {
            f[i] = (float)v[i];
        }
        ard_select_kth_f32(f, n, k);
        assert_true(f[k] == (float)ref[k]);
    }
    free(v);
    free(w);
    free(ref);
    free(f);
}

void test_select_kth(void **state) {
    (void)state;
    const int64_t sizes[] = {1, 2, 3, 15, 16, 17, 100, 1001, 20000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int pattern = 0; pattern < 5; pattern++) {
            check(sizes[s], pattern, 11 + (uint64_t)s);
        }
    }
    double one[2] = {3.0, 1.0};
    ard_select_kth_f64(one, 2, 2); /* k out of range: untouched */
    assert_true(one[0] == 3.0 && one[1] == 1.0);
    ard_select_kth_f64(one, 2, -1);
    assert_true(one[0] == 3.0);
    ard_select_kth_f64(NULL, 5, 0);
    ard_select_kth_f32(NULL, 0, 0);
}

void test_select_kth_rows(void **state);

/* ard_select_kth_rows_f64: records of 4 doubles keyed on each axis, payload moved with its record
 * (every record still equals the original one its payload names), the partition property on the
 * key, against a sorted copy of the key column. */
void test_select_kth_rows(void **state) {
    (void)state;
    const int64_t sizes[] = {1, 15, 17, 1001, 20000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t n = sizes[s];
        for (int pattern = 0; pattern < 5; pattern++) {
            uint64_t seed = 91 + (uint64_t)s;
            double *orig = malloc((size_t)n * 4 * sizeof *orig);
            double *rows = malloc((size_t)n * 4 * sizeof *rows);
            double *keys = malloc((size_t)n * sizeof *keys);
            int64_t *idx = malloc((size_t)n * sizeof *idx);
            for (int32_t d = 0; d < 4; d++) {
                fill(keys, n, (pattern + d) % 5, &seed);
                for (int64_t i = 0; i < n; i++) {
                    orig[4 * i + d] = keys[i];
                }
            }
            for (int64_t key = 0; key < 4; key++) {
                for (int64_t i = 0; i < n; i++) {
                    keys[i] = orig[4 * i + key];
                }
                qsort(keys, (size_t)n, sizeof *keys, cmp_d);
                int64_t k = n / 2 + key % 2;
                k = k < n ? k : n - 1;
                memcpy(rows, orig, (size_t)n * 4 * sizeof *rows);
                for (int64_t i = 0; i < n; i++) {
                    idx[i] = i;
                }
                ard_select_kth_rows_f64(rows, 4, key, idx, n, k);
                assert_true(rows[4 * k + key] == keys[k]);
                for (int64_t i = 0; i < n; i++) {
                    double v = rows[4 * i + key];
                    assert_true(i < k ? v <= keys[k] : v >= keys[k]);
                    assert_memory_equal(rows + 4 * i, orig + 4 * idx[i], 4 * sizeof *rows);
                }
            }
            free(orig);
            free(rows);
            free(keys);
            free(idx);
        }
    }
    double r[4] = {2.0, 1.0, 0.0, 0.0};
    ard_select_kth_rows_f64(r, 2, 2, NULL, 2, 0); /* key outside the record: untouched */
    ard_select_kth_rows_f64(r, 9, 0, NULL, 1, 0); /* stride above ARD_SELECT_MAX_STRIDE */
    assert_true(r[0] == 2.0 && r[2] == 0.0);
    ard_select_kth_rows_f64(r, 2, 0, NULL, 2, 0); /* no payload */
    assert_true(r[0] == 0.0 && r[1] == 0.0 && r[2] == 2.0 && r[3] == 1.0);
}
