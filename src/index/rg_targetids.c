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

void ard__file_tids_reset(idx_file_tids *t) {
    ard_free(t->file_ids);
    ard_free(t->tids);
    ard_free(t->unknown);
    memset(t, 0, sizeof *t);
}

static int grow_i64(int64_t **a, int64_t *cap, int64_t need) {
    if (need <= *cap) {
        return 1;
    }
    int64_t n = *cap ? *cap : 1024;
    while (n < need) {
        n *= 2;
    }
    int64_t *grown = ard_realloc(*a, (size_t)n * sizeof *grown);
    if (!grown) {
        return 0;
    }
    *a = grown;
    *cap = n;
    return 1;
}

static int add_unknown(idx_file_tids *t, int64_t file_id) {
    if (t->num_unknown > 0 && t->unknown[t->num_unknown - 1] == file_id) {
        return 1; /* rows arrive ordered by file */
    }
    int64_t cap = t->cap_unknown;
    if (!grow_i64(&t->unknown, &cap, t->num_unknown + 1)) {
        return 0;
    }
    t->cap_unknown = cap;
    t->unknown[t->num_unknown++] = file_id;
    return 1;
}

/* One row group: file_id, num_rows, targetids (text or NULL). */
static int file_tids_row(void *ctx, int32_t n, const char *const *names, const idx_value *v) {
    (void)names;
    idx_file_tids *t = ctx;
    if (n < 3 || v[0].type != IDX_INT || v[1].type != IDX_INT || v[1].i <= 0) {
        return 0;
    }
    int64_t rows = v[1].i, file_id = v[0].i, cap = t->cap;
    if (!grow_i64(&t->tids, &cap, t->count + rows) ||
        !grow_i64(&t->file_ids, &t->cap, t->count + rows)) {
        t->failed = 1;
        return 1;
    }
    if (v[2].type != IDX_TEXT ||
        ard__rg_targetids_decode(v[2].s, strlen(v[2].s), t->tids + t->count, rows) != 0) {
        t->failed = !add_unknown(t, file_id);
        return t->failed;
    }
    for (int64_t i = 0; i < rows; i++) {
        t->file_ids[t->count + i] = file_id;
    }
    t->count += rows;
    return 0;
}

ard_status ard__rg_targetids_of_files(ard_index *idx, const int64_t *ids, int64_t count,
                                      idx_file_tids *out, ard_error *err) {
    memset(out, 0, sizeof *out);
    ard_status st = ARD_OK;
    for (int64_t at = 0; st == ARD_OK && at < count; at += 256) {
        ard_buf sql;
        ard_buf_init(&sql);
        ard_buf_appendf(&sql, "SELECT r.file_id, r.num_rows, r.targetids FROM row_groups r"
                              " JOIN files f ON f.id = r.file_id WHERE f.kind = 'tile'"
                              " AND r.file_id IN (");
        for (int64_t i = at; i < count && i < at + 256; i++) {
            ard_buf_appendf(&sql, "%s%lld", i > at ? "," : "", (long long)ids[i]);
        }
        ard_buf_appendf(&sql, ") ORDER BY r.file_id, r.row_group%c", '\0');
        st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                        : idx->be->ops->select_values(idx->be, (const char *)sql.data, 0,
                                                      file_tids_row, out, err);
        ard_buf_reset(&sql);
        if (st == ARD_OK && out->failed) {
            st = ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
    }
    if (st != ARD_OK) {
        ard__file_tids_reset(out);
    }
    return st;
}
