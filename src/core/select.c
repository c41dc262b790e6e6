/* Selection of the k-th smallest value: the one quickselect of ard, for float and double arrays
 * and for records of doubles that carry a payload (the KD-tree's points and their indices).
 * Pivots: on large ranges the element of an evenly spaced sample of 31 whose rank in the sample
 * matches k's relative rank (the first partition lands close to k: about 1.2 passes instead of
 * ~2.7 for median-of-3), else median-of-three; Hoare partitioning (equal keys split evenly); a
 * heap-sort fallback after 64 partitions so adversarial input stays O(n log n); insertion sort for
 * small ranges. NaN-free keys expected. */
#include "ard/core.h"

#include <string.h>

enum { SEL_SAMPLE = 31, SEL_SAMPLE_MIN_RANGE = 4096, SEL_SMALL = 16, SEL_BUDGET = 64 };

/* One algorithm over an abstract sequence: KEY(c, i) reads the key of element i, SWAP(c, i, j)
 * exchanges two elements (and whatever travels with them). */
#define ARD_SELECT_DEFINE(P, CTX, KT, KEY, SWAP)                                                   \
    static void P##_insertion(CTX *c, int64_t lo, int64_t hi) {                                    \
        for (int64_t i = lo + 1; i <= hi; i++) {                                                   \
            for (int64_t j = i; j > lo && KEY(c, j - 1) > KEY(c, j); j--) {                        \
                SWAP(c, j - 1, j);                                                                 \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void P##_sift(CTX *c, int64_t base, int64_t root, int64_t n) {                          \
        for (;;) {                                                                                 \
            int64_t child = 2 * root + 1;                                                          \
            if (child >= n) {                                                                      \
                return;                                                                            \
            }                                                                                      \
            if (child + 1 < n && KEY(c, base + child + 1) > KEY(c, base + child)) {                \
                child++;                                                                           \
            }                                                                                      \
            if (!(KEY(c, base + child) > KEY(c, base + root))) {                                   \
                return;                                                                            \
            }                                                                                      \
            SWAP(c, base + root, base + child);                                                    \
            root = child;                                                                          \
        }                                                                                          \
    }                                                                                              \
    static void P##_heap_sort(CTX *c, int64_t base, int64_t n) {                                   \
        for (int64_t i = n / 2 - 1; i >= 0; i--) {                                                 \
            P##_sift(c, base, i, n);                                                               \
        }                                                                                          \
        for (int64_t end = n - 1; end > 0; end--) {                                                \
            SWAP(c, base, base + end);                                                             \
            P##_sift(c, base, 0, end);                                                             \
        }                                                                                          \
    }                                                                                              \
    static KT P##_pivot(CTX *c, int64_t lo, int64_t hi, int64_t k) {                               \
        if (hi - lo < SEL_SAMPLE_MIN_RANGE) {                                                      \
            KT a = KEY(c, lo), b = KEY(c, lo + (hi - lo) / 2), m = KEY(c, hi);                     \
            if (a > b) {                                                                           \
                KT t = a;                                                                          \
                a = b;                                                                             \
                b = t;                                                                             \
            }                                                                                      \
            return m < a ? a : (m > b ? b : m);                                                    \
        }                                                                                          \
        KT sample[SEL_SAMPLE];                                                                     \
        int64_t step = (hi - lo) / SEL_SAMPLE;                                                     \
        for (int i = 0; i < SEL_SAMPLE; i++) { /* insertion sort while sampling */                 \
            KT v = KEY(c, lo + step / 2 + (int64_t)i * step);                                      \
            int j = i;                                                                             \
            while (j > 0 && sample[j - 1] > v) {                                                   \
                sample[j] = sample[j - 1];                                                         \
                j--;                                                                               \
            }                                                                                      \
            sample[j] = v;                                                                         \
        }                                                                                          \
        int64_t r = (k - lo) * SEL_SAMPLE / (hi - lo + 1);                                         \
        return sample[r < SEL_SAMPLE ? r : SEL_SAMPLE - 1];                                        \
    }                                                                                              \
    static void P##_select(CTX *c, int64_t n, int64_t k) {                                         \
        int64_t lo = 0, hi = n - 1;                                                                \
        int budget = SEL_BUDGET;                                                                   \
        while (hi - lo >= SEL_SMALL) {                                                             \
            if (budget-- == 0) {                                                                   \
                P##_heap_sort(c, lo, hi - lo + 1);                                                 \
                return;                                                                            \
            }                                                                                      \
            KT pivot = P##_pivot(c, lo, hi, k);                                                    \
            int64_t i = lo, j = hi;                                                                \
            while (i <= j) {                                                                       \
                while (KEY(c, i) < pivot) {                                                        \
                    i++;                                                                           \
                }                                                                                  \
                while (KEY(c, j) > pivot) {                                                        \
                    j--;                                                                           \
                }                                                                                  \
                if (i <= j) {                                                                      \
                    SWAP(c, i, j);                                                                 \
                    i++;                                                                           \
                    j--;                                                                           \
                }                                                                                  \
            }                                                                                      \
            if (k <= j) {                                                                          \
                hi = j;                                                                            \
            } else if (k >= i) {                                                                   \
                lo = i;                                                                            \
            } else {                                                                               \
                return; /* j < k < i: a[k] equals the pivot, between the partitions */             \
            }                                                                                      \
        }                                                                                          \
        P##_insertion(c, lo, hi);                                                                  \
    }

#define ARR_KEY(c, i) ((c)[i])
#define ARR_SWAP(c, i, j)                                                                          \
    do {                                                                                           \
        __typeof__((c)[0]) t_ = (c)[i];                                                            \
        (c)[i] = (c)[j];                                                                           \
        (c)[j] = t_;                                                                               \
    } while (0)

ARD_SELECT_DEFINE(sel_f32, float, float, ARR_KEY, ARR_SWAP)
ARD_SELECT_DEFINE(sel_f64, double, double, ARR_KEY, ARR_SWAP)

/* Records of `stride` doubles, the key at offset `key`, a payload moved along. */
typedef struct sel_rows {
    double *a;
    int64_t stride, key;
    int64_t *payload;
} sel_rows;

#define ROWS_KEY(c, i) ((c)->a[(i) * (c)->stride + (c)->key])

static inline void rows_swap(sel_rows *c, int64_t i, int64_t j) {
    double tmp[ARD_SELECT_MAX_STRIDE];
    size_t bytes = (size_t)c->stride * sizeof *tmp;
    memcpy(tmp, c->a + i * c->stride, bytes);
    memcpy(c->a + i * c->stride, c->a + j * c->stride, bytes);
    memcpy(c->a + j * c->stride, tmp, bytes);
    if (c->payload) {
        int64_t t = c->payload[i];
        c->payload[i] = c->payload[j];
        c->payload[j] = t;
    }
}

#define ROWS_SWAP(c, i, j) rows_swap(c, i, j)

ARD_SELECT_DEFINE(sel_rows, sel_rows, double, ROWS_KEY, ROWS_SWAP)

void ard_select_kth_f32(float *a, int64_t n, int64_t k) {
    if (a && k >= 0 && k < n) {
        sel_f32_select(a, n, k);
    }
}

void ard_select_kth_f64(double *a, int64_t n, int64_t k) {
    if (a && k >= 0 && k < n) {
        sel_f64_select(a, n, k);
    }
}

void ard_select_kth_rows_f64(double *rows, int64_t stride, int64_t key, int64_t *payload, int64_t n,
                             int64_t k) {
    if (rows && stride >= 1 && stride <= ARD_SELECT_MAX_STRIDE && key >= 0 && key < stride &&
        k >= 0 && k < n) {
        sel_rows c = {rows, stride, key, payload};
        sel_rows_select(&c, n, k);
    }
}
