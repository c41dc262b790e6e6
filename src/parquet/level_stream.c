/* A streaming reader of the RLE/bit-packed hybrid level encoding: levels are produced a window at a
 * time, so a page of millions of levels never needs its whole level arrays in memory (the spectra fast
 * path keeps its windows in cache). Bounds-checked like the one-shot decoder. */
#include "column_int.h"

#include <string.h>

void ard__levels_init(ard__levels *ls, const uint8_t *data, size_t len, int bit_width) {
    memset(ls, 0, sizeof *ls);
    ls->p = data;
    ls->end = data + len;
    ls->bw = bit_width;
    ls->group_pos = 8;
}

static ard_status levels_short(ard_error *err) {
    return ard_error_set(err, ARD_ECORRUPT, "level data ends before the page's values");
}

/* Reads the next run header. */
static ard_status next_run(ard__levels *ls, ard_error *err) {
    uint64_t h = 0;
    for (int shift = 0;; shift += 7) {
        if (ls->p >= ls->end || shift > 35) {
            return levels_short(err);
        }
        uint8_t b = *ls->p++;
        h |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            break;
        }
    }
    if (h & 1) {
        uint64_t groups = h >> 1;
        if (groups == 0 || groups * (uint64_t)ls->bw > (uint64_t)(ls->end - ls->p)) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "bit-packed level run of %llu groups runs past "
                                 "the level data",
                                 (unsigned long long)groups);
        }
        ls->packed_left = (int64_t)groups * 8;
        return ARD_OK;
    }
    int bytes = (ls->bw + 7) / 8;
    if (h >> 1 == 0 || bytes > ls->end - ls->p) {
        return ard_error_set(err, ARD_ECORRUPT, "bad RLE level run header");
    }
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v |= (uint32_t)ls->p[i] << (8 * i);
    }
    ls->p += bytes;
    ls->rle_left = (int64_t)(h >> 1);
    ls->rle_value = (int16_t)(v > 0x7FFF ? -1 : (int32_t)v); /* range-checked by the caller */
    return ARD_OK;
}

int ard__levels_all_rle(ard__levels *ls, int64_t n, int16_t value) {
    while (n > 0) {
        if (ls->rle_left == 0 && ls->packed_left == 0 && ls->group_pos >= 8 &&
            next_run(ls, NULL) != ARD_OK) {
            return 0;
        }
        if (ls->rle_left == 0 || ls->rle_value != value) {
            return 0;
        }
        int64_t m = n < ls->rle_left ? n : ls->rle_left;
        n -= m;
        ls->rle_left -= m;
    }
    return 1;
}

ard_status ard__levels_read(ard__levels *ls, int16_t *out, int64_t n, ard_error *err) {
    int64_t done = 0;
    while (done < n) {
        if (ls->rle_left > 0) {
            int64_t m = n - done < ls->rle_left ? n - done : ls->rle_left;
            for (int64_t i = 0; i < m; i++) {
                out[done + i] = ls->rle_value;
            }
            done += m;
            ls->rle_left -= m;
        } else if (ls->group_pos >= 8 && ls->packed_left >= 8 && n - done >= 8) {
            /* whole groups straight into out, up to 256 levels per unpack (bit-packed repetition
             * levels of wide lists come this way: one call instead of a call per 8 levels) */
            int64_t count = n - done < ls->packed_left ? n - done : ls->packed_left;
            count = (count < 256 ? count : 256) / 8 * 8;
            uint32_t wide[256];
            ard__bitunpack32(ls->p, ls->bw, wide, (size_t)count);
            for (int64_t i = 0; i < count; i++) {
                out[done + i] = (int16_t)(wide[i] > 0x7FFF ? -1 : (int32_t)wide[i]);
            }
            ls->p += count / 8 * ls->bw;
            ls->packed_left -= count;
            done += count;
        } else if (ls->group_pos < 8) {
            out[done++] =
                (int16_t)(ls->group[ls->group_pos] > 0x7FFF ? -1
                                                            : (int32_t)ls->group[ls->group_pos]);
            ls->group_pos++;
        } else if (ls->packed_left > 0) {
            ard__bitunpack32(ls->p, ls->bw, ls->group, 8);
            ls->p += ls->bw;
            ls->packed_left -= 8;
            ls->group_pos = 0;
        } else {
            ard_status st = next_run(ls, err);
            if (st != ARD_OK) {
                return st;
            }
        }
    }
    return ARD_OK;
}
