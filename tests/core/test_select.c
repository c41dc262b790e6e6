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
