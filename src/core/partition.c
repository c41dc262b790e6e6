/* The byte partitioner: contiguous, byte-balanced shares of a list of weighted items, computed
 * identically by every rank of a job from the weights alone (no communication). Sync splits its
 * file list with it, the cluster module the read plans of fetch and the distributed sync. */
#include "ard/core.h"

/* The share that holds item i's byte midpoint: floor(size * midpoint / total); monotone in i, so
 * every rank's items are one contiguous run. */
static int64_t owner_of(__int128 before, int64_t bytes, __int128 total, int64_t i, int64_t n,
                        int32_t size) {
    int64_t owner = total > 0 ? (int64_t)((2 * before + bytes) * size / (2 * total))
                              : (int64_t)((__int128)i * size / n);
    return owner >= size ? size - 1 : owner;
}

ard_status ard_partition_bytes(const int64_t *bytes, int64_t n, int32_t rank, int32_t size,
                               int64_t *first, int64_t *count, ard_error *err) {
    if (!first || !count) {
        return ard_error_set(err, ARD_EINVAL, "partition: NULL output");
    }
    *first = *count = 0;
    if (n < 0 || size <= 0 || rank < 0 || rank >= size || (n > 0 && !bytes)) {
        return ard_error_set(err, ARD_EINVAL, "partition: %lld items for rank %d of %d",
                             (long long)n, rank, size);
    }
    __int128 total = 0;
    for (int64_t i = 0; i < n; i++) {
        if (bytes[i] < 0) {
            return ard_error_set(err, ARD_EINVAL, "partition: item %lld weighs %lld bytes",
                                 (long long)i, (long long)bytes[i]);
        }
        total += bytes[i];
    }
    __int128 before = 0;
    int64_t at = 0;
    /* items before the run: owners below rank; an empty share sits where the next run starts */
    while (at < n && owner_of(before, bytes[at], total, at, n, size) < rank) {
        before += bytes[at++];
    }
    *first = at;
    while (at < n && owner_of(before, bytes[at], total, at, n, size) == rank) {
        before += bytes[at++];
    }
    *count = at - *first;
    return ARD_OK;
}
