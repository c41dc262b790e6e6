/* Sorting TARGETID lists in the client: an LSD radix sort of int64 and the sort + deduplication
 * that plan_scan.c (a predicate's selection) and linkage_fresh.c (the spectra and catalog TARGETIDs
 * of a fresh catalog load) both need. */
#include "index_int.h"

#include <string.h>

static uint64_t key_of(int64_t v) {
    return (uint64_t)v ^ 0x8000000000000000u; /* signed order as unsigned */
}

int ard__radix_offsets(int64_t *count, int32_t buckets, int64_t n, uint64_t digit) {
    if (count[digit] == n) {
        return 0; /* every key shares this digit: the pass would only copy */
    }
    int64_t at = 0;
    for (int32_t d = 0; d < buckets; d++) {
        int64_t here = count[d];
        count[d] = at;
        at += here;
    }
    return 1;
}

enum { DIGIT_BITS = 11, PASSES = 6, BUCKETS = 1 << DIGIT_BITS }; /* 66 >= 64 bits */

/* The histograms of every digit in one read, then one scatter per digit that is not the same in
 * every key (TARGETIDs span ~46 bits: 5 of the 6; 8-bit digits took 6 scatters), alternating
 * between v and tmp. */
int ard__ids_radix_sort(int64_t *v, int64_t *tmp, int64_t n) {
    int64_t(*count)[BUCKETS] = ard_calloc(PASSES, sizeof *count);
    if (!count) {
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        uint64_t k = key_of(v[i]);
        for (int p = 0; p < PASSES; p++) {
            count[p][k >> (DIGIT_BITS * p) & (BUCKETS - 1)]++;
        }
    }
    int64_t *src = v, *dst = tmp;
    for (int p = 0; p < PASSES && n > 1; p++) {
        int shift = DIGIT_BITS * p;
        int64_t *c = count[p];
        if (!ard__radix_offsets(c, BUCKETS, n, key_of(v[0]) >> shift & (BUCKETS - 1))) {
            continue;
        }
        for (int64_t i = 0; i < n; i++) {
            dst[c[key_of(src[i]) >> shift & (BUCKETS - 1)]++] = src[i];
        }
        int64_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != v) {
        memcpy(v, src, (size_t)n * sizeof *v);
    }
    ard_free(count);
    return 0;
}

static int is_sorted(const int64_t *ids, int64_t n) {
    for (int64_t i = 1; i < n; i++) {
        if (ids[i - 1] > ids[i]) {
            return 0;
        }
    }
    return 1;
}

static int64_t drop_repeats(int64_t *ids, int64_t n) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (k == 0 || ids[k - 1] != ids[i]) {
            ids[k++] = ids[i];
        }
    }
    return k;
}

int64_t ard__ids_sort_unique_in(int64_t *ids, int64_t *tmp, int64_t n) {
    if (!is_sorted(ids, n) && ard__ids_radix_sort(ids, tmp, n) != 0) {
        return -1;
    }
    return drop_repeats(ids, n);
}

int64_t ard__ids_sort_unique(int64_t *ids, int64_t n) {
    if (!is_sorted(ids, n)) {
        int64_t *tmp = ard_malloc((size_t)n * sizeof *tmp);
        if (!tmp) {
            return -1;
        }
        ard_advise_huge(tmp, (size_t)n * sizeof *tmp);
        int failed = ard__ids_radix_sort(ids, tmp, n);
        ard_free(tmp);
        if (failed) {
            return -1;
        }
    }
    return drop_repeats(ids, n);
}
