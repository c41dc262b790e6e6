/* Selection of the k-th smallest value (quickselect with median-of-three pivots, a heap-sort
 * fallback after 64 partitions so adversarial input stays O(n log n), insertion sort for small
 * ranges): the one quickselect of ard, for float and double arrays. NaN-free input expected. */
#include "ard/core.h"

/* One algorithm, instantiated per element type. */
#define ARD_SELECT_DEFINE(NAME, T)                                                                 \
    static void NAME##_swap(T *a, T *b) {                                                          \
        T t = *a;                                                                                  \
        *a = *b;                                                                                   \
        *b = t;                                                                                    \
    }                                                                                              \
    static void NAME##_insertion(T *a, int64_t n) {                                                \
        for (int64_t i = 1; i < n; i++) {                                                          \
            T v = a[i];                                                                            \
            int64_t j = i - 1;                                                                     \
            while (j >= 0 && a[j] > v) {                                                           \
                a[j + 1] = a[j];                                                                   \
                j--;                                                                               \
            }                                                                                      \
            a[j + 1] = v;                                                                          \
        }                                                                                          \
    }                                                                                              \
    static void NAME##_sift(T *a, int64_t root, int64_t n) {                                       \
        for (;;) {                                                                                 \
            int64_t child = 2 * root + 1;                                                          \
            if (child >= n) {                                                                      \
                return;                                                                            \
            }                                                                                      \
            if (child + 1 < n && a[child + 1] > a[child]) {                                        \
                child++;                                                                           \
            }                                                                                      \
            if (!(a[child] > a[root])) {                                                           \
                return;                                                                            \
            }                                                                                      \
            NAME##_swap(&a[root], &a[child]);                                                      \
            root = child;                                                                          \
        }                                                                                          \
    }                                                                                              \
    static void NAME##_heap_sort(T *a, int64_t n) {                                                \
        for (int64_t i = n / 2 - 1; i >= 0; i--) {                                                 \
            NAME##_sift(a, i, n);                                                                  \
        }                                                                                          \
        for (int64_t end = n - 1; end > 0; end--) {                                                \
            NAME##_swap(&a[0], &a[end]);                                                           \
            NAME##_sift(a, 0, end);                                                                \
        }                                                                                          \
    }                                                                                              \
    void NAME(T *a, int64_t n, int64_t k) {                                                        \
        if (!a || k < 0 || k >= n) {                                                               \
            return;                                                                                \
        }                                                                                          \
        int64_t lo = 0, hi = n - 1;                                                                \
        int budget = 64;                                                                           \
        while (hi - lo >= 16) {                                                                    \
            if (budget-- == 0) {                                                                   \
                NAME##_heap_sort(a + lo, hi - lo + 1);                                             \
                return;                                                                            \
            }                                                                                      \
            int64_t mid = lo + (hi - lo) / 2;                                                      \
            if (a[mid] < a[lo])                                                                    \
                NAME##_swap(&a[mid], &a[lo]);                                                      \
            if (a[hi] < a[lo])                                                                     \
                NAME##_swap(&a[hi], &a[lo]);                                                       \
            if (a[hi] < a[mid])                                                                    \
                NAME##_swap(&a[hi], &a[mid]);                                                      \
            T pivot = a[mid];                                                                      \
            int64_t i = lo, j = hi;                                                                \
            while (i <= j) {                                                                       \
                while (a[i] < pivot)                                                               \
                    i++;                                                                           \
                while (a[j] > pivot)                                                               \
                    j--;                                                                           \
                if (i <= j) {                                                                      \
                    NAME##_swap(&a[i], &a[j]);                                                     \
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
        NAME##_insertion(a + lo, hi - lo + 1);                                                     \
    }

ARD_SELECT_DEFINE(ard_select_kth_f32, float)
ARD_SELECT_DEFINE(ard_select_kth_f64, double)
