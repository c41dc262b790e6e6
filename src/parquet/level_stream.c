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

/* Checks the next `count` packed levels (bit width 1, whole bytes of 8) against the record pattern of
 * ard__levels_are_records; *pos and *zero advance. */
static int packed_records(ard__levels *ls, int64_t count, int64_t w, int64_t *pos, int64_t *zero) {
    int64_t bytes = count / 8;
    for (int64_t b = 0; b < bytes;) {
        uint64_t word;
        if (bytes - b >= 8 && *zero >= *pos + 64) { /* no record starts in the next 64 levels */
            memcpy(&word, ls->p + b, sizeof word);
            if (word != UINT64_MAX) {
                return 0;
            }
            b += 8;
            *pos += 64;
            continue;
        }
        unsigned expect = 0xFF;
        while (*zero < *pos + 8) {
            expect &= ~(1u << (*zero - *pos));
            *zero += w;
        }
        if (ls->p[b] != expect) {
            return 0;
        }
        b++;
        *pos += 8;
    }
    ls->p += bytes;
    ls->packed_left -= bytes * 8;
    return 1;
}

int ard__levels_are_records(ard__levels *ls, int64_t n, int64_t phase, int64_t w) {
    if (ls->bw != 1 || w <= 0 || phase < 0 || phase >= w) {
        return 0;
    }
    int64_t pos = 0, zero = phase == 0 ? 0 : w - phase; /* the next level that must be 0 */
    while (pos < n) {
        if (ls->group_pos < 8) { /* the rest of an unpacked group */
            uint32_t v = ls->group[ls->group_pos++];
            if (v != (uint32_t)(pos != zero)) { /* 0 where a record starts */
                return 0;
            }
            zero += pos == zero ? w : 0;
            pos++;
        } else if (ls->rle_left > 0) {
            int64_t m = n - pos < ls->rle_left ? n - pos : ls->rle_left;
            if (ls->rle_value == 1 && zero < pos + m) {
                return 0; /* a record would start inside a run of continuations */
            }
            if (ls->rle_value == 0) { /* every level of the run starts a record */
                if (zero != pos || (m > 1 && w != 1)) {
                    return 0;
                }
                zero = w == 1 ? pos + m : zero + w;
            } else if (ls->rle_value != 1) {
                return 0;
            }
            pos += m;
            ls->rle_left -= m;
        } else if (ls->packed_left >= 8 && n - pos >= 8) {
            int64_t m = n - pos < ls->packed_left ? n - pos : ls->packed_left;
            if (!packed_records(ls, m, w, &pos, &zero)) {
                return 0;
            }
        } else if (ls->packed_left > 0) {
            ard__bitunpack32(ls->p, 1, ls->group, 8);
            ls->p += 1;
            ls->packed_left -= 8;
            ls->group_pos = 0;
        } else if (next_run(ls, NULL) != ARD_OK) {
            return 0;
        }
    }
    return 1;
}
