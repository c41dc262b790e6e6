/* Arrow arrays to text: one JSON value or CSV cell per element, driven by the Arrow format string, so
 * the same code renders whatever ard_parquet_read_arrow exports. */
#include "arrow_render.h"

#include "ard/parquet.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_valid(const struct ArrowArray *a, int64_t i) {
    const uint8_t *bits = a->n_buffers > 0 ? a->buffers[0] : NULL;
    int64_t j = i + a->offset;
    return !bits || ((bits[j >> 3] >> (j & 7)) & 1);
}

static const uint8_t *buf_at(const struct ArrowArray *a, int b) {
    return a->buffers[b];
}

static int has_extension(const struct ArrowSchema *s, const char *name) {
    if (!s->metadata) {
        return 0;
    }
    size_t n = strlen(name);
    int32_t count, kl, vl;
    const char *p = s->metadata;
    memcpy(&count, p, 4);
    p += 4;
    for (int32_t k = 0; k < count; k++) {
        memcpy(&kl, p, 4);
        memcpy(&vl, p + 4 + kl, 4);
        if ((size_t)vl == n && memcmp(p + 8 + kl, name, n) == 0) {
            return 1;
        }
        p += 8 + kl + vl;
    }
    return 0;
}

static void json_string(ard_buf *out, const uint8_t *s, size_t len, int binary) {
    ard_buf_append(out, "\"", 1);
    for (size_t k = 0; k < len; k++) {
        uint8_t c = s[k];
        if (c == '"' || c == '\\') {
            ard_buf_appendf(out, "\\%c", c);
        } else if (binary && (c < 0x20 || c >= 0x7F)) {
            ard_buf_appendf(out, "\\\\x%02X", c);
        } else if (c < 0x20) {
            ard_buf_appendf(out, "\\u%04x", c);
        } else {
            ard_buf_append(out, &c, 1);
        }
    }
    ard_buf_append(out, "\"", 1);
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Appends hh:mm:ss[.fraction] for `units` of 1/per_second since midnight. */
static void time_of_day(ard_buf *out, int64_t units, int64_t per_second, int digits) {
    int64_t secs = units / per_second, frac = units % per_second;
    ard_buf_appendf(out, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
                    (int)(secs % 60));
    if (frac) {
        char f[24];
        snprintf(f, sizeof f, "%0*" PRId64, digits, frac);
        size_t n = strlen(f);
        while (n > 0 && f[n - 1] == '0') {
            n--;
        }
        ard_buf_append(out, ".", 1);
        ard_buf_append(out, f, n);
    }
}

static void timestamp(ard_buf *out, int64_t v, char unit, int utc) {
    int64_t per = unit == 's' ? 1 : unit == 'm' ? 1000 : unit == 'u' ? 1000000 : 1000000000;
    int digits = unit == 's' ? 0 : unit == 'm' ? 3 : unit == 'u' ? 6 : 9;
    int64_t day = floor_div(v, per * 86400);
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    ard_buf_appendf(out, "\"%04" PRId64 "-%02u-%02u ", y, m, d);
    /* 128-bit: day * per * 86400 leaves int64 near the ends of the range */
    time_of_day(out, (int64_t)((__int128)v - (__int128)day * per * 86400), per, digits);
    ard_buf_appendf(out, "%s\"", utc ? "+00" : "");
}

/* Decimal of `bytes` little-endian two's complement bytes with `scale` digits after the point. */
static void decimal(ard_buf *out, const uint8_t *le, int bytes, int scale) {
    uint8_t mag[32];
    int neg = (le[bytes - 1] & 0x80) != 0;
    unsigned carry = 1;
    for (int k = 0; k < bytes; k++) { /* magnitude = neg ? ~x + 1 : x */
        unsigned v = neg ? (unsigned)(uint8_t)~le[k] + carry : le[k];
        mag[k] = (uint8_t)v;
        carry = neg ? v >> 8 : 0;
    }
    char digits[100];
    int nd = 0;
    for (;;) { /* repeated division by 10 of the little-endian magnitude */
        unsigned rem = 0;
        int nonzero = 0;
        for (int k = bytes - 1; k >= 0; k--) {
            unsigned cur = rem << 8 | mag[k];
            mag[k] = (uint8_t)(cur / 10);
            rem = cur % 10;
            nonzero |= mag[k] != 0;
        }
        digits[nd++] = (char)('0' + rem);
        if (!nonzero) {
            break;
        }
    }
    while (nd <= scale) {
        digits[nd++] = '0';
    }
    if (neg) {
        ard_buf_append(out, "-", 1);
    }
    for (int k = nd - 1; k >= 0; k--) {
        ard_buf_append(out, &digits[k], 1);
        if (k == scale && scale > 0) {
            ard_buf_append(out, ".", 1);
        }
    }
}

static void number(ard_buf *out, double v) {
    if (isnan(v)) {
        ard_buf_appendf(out, "NaN");
    } else if (isinf(v)) {
        ard_buf_appendf(out, v > 0 ? "Infinity" : "-Infinity");
    } else {
        char b[40];
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(b, sizeof b, "%.*g", prec, v);
            if (strtod(b, NULL) == v) {
                break;
            }
        }
        ard_buf_appendf(out, "%s", b);
    }
}

static void render_fixed_binary(const struct ArrowSchema *s, const uint8_t *p, int n,
                                ard_buf *out) {
    if (has_extension(s, "arrow.uuid") && n == 16) {
        ard_buf_append(out, "\"", 1);
        for (int k = 0; k < 16; k++) {
            ard_buf_appendf(out, "%02x%s", p[k], (k == 3 || k == 5 || k == 7 || k == 9) ? "-" : "");
        }
        ard_buf_append(out, "\"", 1);
        return;
    }
    json_string(out, p, (size_t)n, 1);
}

static void render_list(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t j,
                        ard_buf *out, int map) {
    const int32_t *offs = (const int32_t *)(const void *)buf_at(a, 1);
    const struct ArrowSchema *cs = s->children[0];
    const struct ArrowArray *ca = a->children[0];
    ard_buf_append(out, map ? "{" : "[", 1);
    for (int32_t k = offs[j]; k < offs[j + 1]; k++) {
        if (k > offs[j]) {
            ard_buf_append(out, ",", 1);
        }
        if (!map) {
            ard_cli_render_json(cs, ca, k, out);
            continue;
        }
        const struct ArrowSchema *ks = cs->children[0];
        if (ks->format[0] == 'U' || ks->format[0] == 'u') {
            ard_cli_render_json(ks, ca->children[0], k, out);
        } else { /* non-string keys become strings */
            ard_buf key;
            ard_buf_init(&key);
            ard_cli_render_json(ks, ca->children[0], k, &key);
            json_string(out, key.data, key.len, 0);
            ard_buf_reset(&key);
        }
        ard_buf_append(out, ":", 1);
        ard_cli_render_json(cs->children[1], ca->children[1], k, out);
    }
    ard_buf_append(out, map ? "}" : "]", 1);
}

static void render_struct(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t j,
                          ard_buf *out) {
    ard_buf_append(out, "{", 1);
    for (int64_t c = 0; c < a->n_children; c++) {
        if (c > 0) {
            ard_buf_append(out, ",", 1);
        }
        json_string(out, (const uint8_t *)s->children[c]->name, strlen(s->children[c]->name), 0);
        ard_buf_append(out, ":", 1);
        ard_cli_render_json(s->children[c], a->children[c], j, out);
    }
    ard_buf_append(out, "}", 1);
}

static void render_temporal(const char *f, const uint8_t *v, int64_t j, ard_buf *out) {
    if (f[1] == 'd') {
        int32_t days;
        memcpy(&days, v + j * 4, 4);
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        ard_buf_appendf(out, "\"%04" PRId64 "-%02u-%02u\"", y, m, d);
    } else if (f[1] == 't') {
        int64_t t;
        if (f[2] == 'm') {
            int32_t t32;
            memcpy(&t32, v + j * 4, 4);
            t = t32;
        } else {
            memcpy(&t, v + j * 8, 8);
        }
        ard_buf_append(out, "\"", 1);
        time_of_day(out, t,
                    f[2] == 'm'   ? 1000
                    : f[2] == 'u' ? 1000000
                                  : 1000000000,
                    f[2] == 'm'   ? 3
                    : f[2] == 'u' ? 6
                                  : 9);
        ard_buf_append(out, "\"", 1);
    } else if (f[1] == 's') {
        int64_t t;
        memcpy(&t, v + j * 8, 8);
        timestamp(out, t, f[2], strstr(f, "UTC") != NULL);
    } else { /* tin: months, days, nanoseconds */
        int32_t mo, dd;
        int64_t ns;
        memcpy(&mo, v + j * 16, 4);
        memcpy(&dd, v + j * 16 + 4, 4);
        memcpy(&ns, v + j * 16 + 8, 8);
        ard_buf_appendf(out, "{\"months\":%d,\"days\":%d,\"nanoseconds\":%" PRId64 "}", mo, dd, ns);
    }
}

static void render_int(char f, const uint8_t *v, int64_t j, ard_buf *out) {
    switch (f) {
    case 'c':
        ard_buf_appendf(out, "%d", ((const int8_t *)v)[j]);
        break;
    case 'C':
        ard_buf_appendf(out, "%u", v[j]);
        break;
    case 's': {
        int16_t x;
        memcpy(&x, v + j * 2, 2);
        ard_buf_appendf(out, "%d", x);
        break;
    }
    case 'S': {
        uint16_t x;
        memcpy(&x, v + j * 2, 2);
        ard_buf_appendf(out, "%u", x);
        break;
    }
    case 'i': {
        int32_t x;
        memcpy(&x, v + j * 4, 4);
        ard_buf_appendf(out, "%" PRId32, x);
        break;
    }
    case 'I': {
        uint32_t x;
        memcpy(&x, v + j * 4, 4);
        ard_buf_appendf(out, "%" PRIu32, x);
        break;
    }
    case 'l': {
        int64_t x;
        memcpy(&x, v + j * 8, 8);
        ard_buf_appendf(out, "%" PRId64, x);
        break;
    }
    default: {
        uint64_t x;
        memcpy(&x, v + j * 8, 8);
        ard_buf_appendf(out, "%" PRIu64, x);
        break;
    }
    }
}

void ard_cli_render_json(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                         ard_buf *out) {
    const char *f = s->format;
    int64_t j = i + a->offset;
    if (f[0] == 'n' || !is_valid(a, i)) {
        ard_buf_appendf(out, "null");
        return;
    }
    if (f[0] == '+') {
        if (f[1] == 's') {
            render_struct(s, a, j, out);
        } else {
            render_list(s, a, j, out, f[1] == 'm');
        }
        return;
    }
    const uint8_t *v = buf_at(a, 1);
    switch (f[0]) {
    case 'b':
        ard_buf_appendf(out, ((v[j >> 3] >> (j & 7)) & 1) ? "true" : "false");
        return;
    case 'f': {
        float x;
        memcpy(&x, v + j * 4, 4);
        number(out, x);
        return;
    }
    case 'g': {
        double x;
        memcpy(&x, v + j * 8, 8);
        number(out, x);
        return;
    }
    case 'e': {
        uint16_t h;
        memcpy(&h, v + j * 2, 2);
        number(out, ard_parquet_half_to_double(h));
        return;
    }
    case 'U':
    case 'Z': {
        const int64_t *offs = (const int64_t *)(const void *)v;
        json_string(out, buf_at(a, 2) + offs[j], (size_t)(offs[j + 1] - offs[j]), f[0] == 'Z');
        return;
    }
    case 'w': {
        int n = (int)strtol(f + 2, NULL, 10);
        render_fixed_binary(s, v + j * n, n, out);
        return;
    }
    case 'd': {
        int bytes = strstr(f, ",256") ? 32 : 16;
        const char *comma = strchr(f, ',');
        decimal(out, v + j * bytes, bytes, comma ? (int)strtol(comma + 1, NULL, 10) : 0);
        return;
    }
    case 't':
        render_temporal(f, v, j, out);
        return;
    default:
        render_int(f[0], v, j, out);
    }
}

void ard_cli_render_csv(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                        ard_buf *out) {
    if (s->format[0] == 'n' || !is_valid(a, i)) {
        return;
    }
    ard_buf cell;
    ard_buf_init(&cell);
    ard_cli_render_json(s, a, i, &cell);
    int quoted_text = cell.len >= 2 && cell.data[0] == '"' && s->format[0] != '+';
    const uint8_t *p = cell.data + quoted_text;
    size_t n = cell.len - 2 * (size_t)quoted_text;
    int needs_quotes = memchr(p, ',', n) || memchr(p, '"', n) || memchr(p, '\n', n);
    if (needs_quotes) {
        ard_buf_append(out, "\"", 1);
        for (size_t k = 0; k < n; k++) {
            ard_buf_append(out, p[k] == '"' ? "\"\"" : (const char *)&p[k], p[k] == '"' ? 2 : 1);
        }
        ard_buf_append(out, "\"", 1);
    } else {
        ard_buf_append(out, p, n);
    }
    ard_buf_reset(&cell);
}
