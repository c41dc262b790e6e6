/* row_groups.targetids: every row's TARGETID of a tile row group, in row order, as text that both
 * backends store and return natively (no blob dialects): the first TARGETID in decimal, then the
 * difference of each to the one before ("39627000100024,9,39,-5"). Tiles are sorted by TARGETID, so
 * a row costs ~5 bytes. Broad query plans read these instead of seeking the spectra table once per
 * spectrum (plan_scan.c). Differences wrap in uint64: any int64 sequence round-trips. */
#include "index_int.h"

#include <string.h>

/* Decimal of v into p (at least 20 bytes); returns the length. */
static size_t format_i64(char *p, int64_t v) {
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0) {
        p[len++] = '-';
    }
    while (n) {
        p[len++] = tmp[--n];
    }
    return len;
}

void ard__rg_targetids_encode(ard_buf *out, const int64_t *ids, int64_t n) {
    char chunk[4096];
    size_t used = 0;
    for (int64_t i = 0; i < n; i++) {
        if (used > sizeof chunk - 24) {
            ard_buf_append(out, chunk, used);
            used = 0;
        }
        if (i > 0) {
            chunk[used++] = ',';
        }
        int64_t v = i == 0 ? ids[0] : (int64_t)((uint64_t)ids[i] - (uint64_t)ids[i - 1]);
        used += format_i64(chunk + used, v);
    }
    ard_buf_append(out, chunk, used);
}

/* One optionally negative decimal at *s (at most 19 digits, as the encoder writes them, plus the
 * magnitude of INT64_MIN); advances *s. 0 when malformed. */
static int parse_signed(const char **s, const char *end, uint64_t *out) {
    const char *p = *s;
    int neg = p < end && *p == '-';
    p += neg;
    const char *digits = p;
    uint64_t u = 0;
    for (; p < end && *p >= '0' && *p <= '9' && p - digits < 20; p++) {
        u = u * 10 + (uint64_t)(*p - '0');
    }
    if (p == digits || p - digits > 19 || (p < end && *p >= '0' && *p <= '9')) {
        return 0;
    }
    *out = neg ? 0 - u : u;
    *s = p;
    return 1;
}

int ard__rg_targetids_decode(const char *s, size_t len, int64_t *out, int64_t n) {
    const char *p = s, *end = s + len;
    uint64_t prev = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t v;
        if ((i > 0 && (p >= end || *p++ != ',')) || !parse_signed(&p, end, &v)) {
            return -1;
        }
        prev = i == 0 ? v : prev + v;
        out[i] = (int64_t)prev;
    }
    return p == end ? 0 : -1;
}
