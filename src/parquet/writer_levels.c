/* Parquet writer: a page's repetition and definition levels, and the dictionary indices of 1-byte
 * integer inputs (a MASK), kept as runs (value, count) instead of one value each, and their RLE /
 * bit-packed hybrid encoding straight from the runs.
 *
 * A 4096-wide spectrum row is three runs of levels (rep 0, rep 1 x 4095, def max x 4096) rather
 * than 16 KiB of levels written and then scanned again, and a mostly-zero MASK row a few runs of
 * indices rather than 16 KiB of them; the encoding is byte for byte what ard__rle_encode_levels /
 * ard__rle_encode_u32 make of the expanded values: only the short runs between long ones (the
 * bit-packed sections) are expanded, into a scratch buffer, and handed to the latter. */
#include "writer_int.h"

#include <string.h>

void ard__pqw_levels_reset(ard__pqw_levels *l) {
    ard_free(l->value);
    ard_free(l->count);
    memset(l, 0, sizeof *l);
}

int ard__pqw_levels_grow(ard__pqw_levels *l) {
    int64_t cap = l->cap_runs ? 2 * l->cap_runs : 64;
    uint32_t *v = ard_realloc(l->value, (size_t)cap * sizeof *v);
    if (!v) {
        return -1;
    }
    l->value = v;
    int64_t *c = ard_realloc(l->count, (size_t)cap * sizeof *c);
    if (!c) {
        return -1;
    }
    l->count = c;
    l->cap_runs = cap;
    return 0;
}

/* Appends n values of l from the start of run `run`, as uint32 values, to tmp. */
static void expand(const ard__pqw_levels *l, int64_t run, int64_t n, ard_buf *tmp) {
    if (ard_buf_reserve(tmp, (size_t)n * sizeof(uint32_t)) != 0) {
        return;
    }
    uint32_t *dst = (uint32_t *)(void *)(tmp->data + tmp->len);
    for (int64_t done = 0; done < n; run++) {
        int64_t take = l->count[run] < n - done ? l->count[run] : n - done;
        for (int64_t k = 0; k < take; k++) {
            dst[done + k] = l->value[run];
        }
        done += take;
    }
    tmp->len += (size_t)n * sizeof(uint32_t);
}

static void emit_rle(uint32_t value, int64_t n, int bit_width, ard_buf *out) {
    uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                        (uint8_t)(value >> 24)};
    size_t value_bytes = ((size_t)bit_width + 7) / 8;
    while (n > 0) {
        int64_t run = n > INT32_MAX ? INT32_MAX : n;
        ard__varint_put(out, (uint64_t)run << 1);
        ard_buf_append(out, bytes, value_bytes);
        n -= run;
    }
}

/* Bit-packed section: n levels from the start of run `run`. */
static void emit_section(const ard__pqw_levels *l, int64_t run, int64_t n, int bit_width,
                         ard_buf *tmp, ard_buf *out) {
    tmp->len = 0;
    expand(l, run, n, tmp);
    if (tmp->failed) {
        out->failed = 1;
        return;
    }
    ard__rle_encode_u32((const uint32_t *)(const void *)tmp->data, n, bit_width, out);
}

/* As rle_encode (encoding_rle.c) over the expanded values: values pending since `pend` are
 * bit-packed; a run of >= 8 becomes an RLE run once the pending values fill whole groups of 8
 * (borrowing from the run). The runs are maximal (ard__pqw_levels_push merges equal neighbours),
 * so the sections handed to ard__rle_encode_levels hold no run it would encode as RLE. */
void ard__pqw_levels_encode(const ard__pqw_levels *l, int bit_width, ard_buf *tmp, ard_buf *out) {
    uint32_t mask = bit_width >= 32 ? UINT32_MAX : ((uint32_t)1 << bit_width) - 1;
    int64_t pend = 0, i = 0, pend_run = 0; /* pending values start at run pend_run */
    for (int64_t r = 0; r < l->num_runs; r++) {
        int64_t run = l->count[r], borrow = (8 - (i - pend) % 8) % 8;
        if (run - borrow >= 8) {
            if (i + borrow > pend) {
                emit_section(l, pend_run, i + borrow - pend, bit_width, tmp, out);
            }
            emit_rle(l->value[r] & mask, run - borrow, bit_width, out);
            pend = i + run;
            pend_run = r + 1;
        }
        i += run;
    }
    if (i > pend) {
        emit_section(l, pend_run, i - pend, bit_width, tmp, out);
    }
}
