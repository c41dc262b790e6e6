/* Scoring found groups against a truth catalogue with GAMA's bijective match (Robotham et al. 2011):
 * a found group F and a true group T match when more than half of F's members are in T and more
 * than half of T's members are in F. Works on arbitrary int64 ids by sorting. */
#include "science_int.h"

#include <stdlib.h>

typedef struct id_pair {
    int64_t t;
    int64_t f;
} id_pair;

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_pair(const void *a, const void *b) {
    const id_pair *x = a, *y = b;
    if (x->t != y->t) {
        return (x->t > y->t) - (x->t < y->t);
    }
    return (x->f > y->f) - (x->f < y->f);
}

/* Size of group `id` in the sorted id list (0 when absent). */
static int64_t size_of(const int64_t *sorted, int64_t n, int64_t id) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    int64_t end = lo;
    while (end < n && sorted[end] == id) {
        end++;
    }
    return end - lo;
}

/* Sorted positive ids; number of groups with >= min_size members and how many members they hold. */
static int64_t sorted_ids(const int64_t *ids, int64_t n, int64_t *out, int64_t min_size,
                          int64_t *groups, int64_t *members) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] > 0) {
            out[m++] = ids[i];
        }
    }
    qsort(out, (size_t)m, sizeof *out, cmp_i64);
    *groups = 0;
    *members = 0;
    for (int64_t a = 0; a < m;) {
        int64_t b = a;
        while (b < m && out[b] == out[a]) {
            b++;
        }
        if (b - a >= min_size) {
            (*groups)++;
            *members += b - a;
        }
        a = b;
    }
    return m;
}

ard_status ard_fof_score_truth(const int64_t *found, const int64_t *truth, int64_t n,
                               int64_t min_size, ard_fof_score *out, ard_error *err) {
    if (n < 0 || min_size < 2 || !out || (n > 0 && (!found || !truth))) {
        return ard_error_set(err, ARD_EINVAL, "fof score: bad arguments (n %lld, min_size %lld)",
                             (long long)n, (long long)min_size);
    }
    size_t cap = (size_t)(n > 0 ? n : 1);
    int64_t *fs = ard_malloc(cap * sizeof *fs), *ts = ard_malloc(cap * sizeof *ts);
    id_pair *pairs = ard_malloc(cap * sizeof *pairs);
    if (!fs || !ts || !pairs) {
        ard_free(fs);
        ard_free(ts);
        ard_free(pairs);
        return ard_error_set(err, ARD_ENOMEM, "fof score: out of memory");
    }
    int64_t true_members = 0, found_members = 0, np = 0, matched = 0, bij = 0;
    int64_t nf = sorted_ids(found, n, fs, min_size, &out->found_groups, &found_members);
    int64_t nt = sorted_ids(truth, n, ts, min_size, &out->true_groups, &true_members);
    for (int64_t i = 0; i < n; i++) {
        if (found[i] > 0 && truth[i] > 0) {
            pairs[np++] = (id_pair){truth[i], found[i]};
        }
    }
    qsort(pairs, (size_t)np, sizeof *pairs, cmp_pair);
    for (int64_t a = 0; a < np;) {
        int64_t b = a;
        while (b < np && pairs[b].t == pairs[a].t && pairs[b].f == pairs[a].f) {
            b++;
        }
        int64_t overlap = b - a;
        int64_t st = size_of(ts, nt, pairs[a].t), sf = size_of(fs, nf, pairs[a].f);
        if (st >= min_size && sf >= min_size && 2 * overlap > st && 2 * overlap > sf) {
            bij++;
            matched += overlap;
        }
        a = b;
    }
    out->bijective = bij;
    out->completeness = out->true_groups ? (double)bij / (double)out->true_groups : 0.0;
    out->purity = out->found_groups ? (double)bij / (double)out->found_groups : 0.0;
    out->members_matched = true_members ? (double)matched / (double)true_members : 0.0;
    ard_free(fs);
    ard_free(ts);
    ard_free(pairs);
    return ARD_OK;
}
