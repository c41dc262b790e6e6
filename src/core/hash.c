/* The one hash of byte strings for ard's in-memory tables (the Parquet writer's dictionaries, the
 * catalog sync's text codes): 8 bytes at a time through a multiply-xorshift mix, the length folded
 * into the seed so that strings that differ only in trailing zero bytes differ. */
#include "ard/core.h"

#include <string.h>

uint64_t ard_hash_bytes(const void *data, size_t len) {
    const uint8_t *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)len * 0xff51afd7ed558ccdull);
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        h = (h ^ k) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
    }
    uint64_t k = 0;
    if (len > 0) {
        memcpy(&k, p, len);
    }
    h = (h ^ k) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 32);
}
