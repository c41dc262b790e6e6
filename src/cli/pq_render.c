/* Rendering Parquet metadata for people and for JSON: logical-type strings, ConvertedType names,
 * and statistics values (decoded by ard_parquet_value_decode) as text and JSON. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const time_unit_names[] = {"MILLIS", "MICROS", "NANOS"};

static const char *unit_name(ard_pq_time_unit unit) {
    return (unsigned)unit < 3 ? time_unit_names[unit] : "?";
}

void ard_cli_logical_str(const ard_pq_logical *lt, char *out, size_t cap) {
    const char *base = ard_pq_logical_name(lt->kind);
    switch (lt->kind) {
    case ARD_PQ_LT_NONE:
        snprintf(out, cap, "%s", "");
        break;
    case ARD_PQ_LT_DECIMAL:
        snprintf(out, cap, "%s(%d,%d)", base, (int)lt->precision, (int)lt->scale);
        break;
    case ARD_PQ_LT_TIME:
    case ARD_PQ_LT_TIMESTAMP:
        snprintf(out, cap, "%s(%s,%s)", base, unit_name(lt->unit),
                 lt->is_adjusted_to_utc ? "utc" : "local");
        break;
    case ARD_PQ_LT_INTEGER:
        snprintf(out, cap, "INT(%d,%s)", (int)lt->bit_width, lt->is_signed ? "signed" : "unsigned");
        break;
    default:
        snprintf(out, cap, "%s", base);
        break;
    }
}

const char *ard_cli_column_order_name(int32_t order) {
    switch (order) {
    case 1:
        return "TYPE_DEFINED_ORDER";
    case 2:
        return "IEEE_754_TOTAL_ORDER";
    default:
        return "UNDEFINED";
    }
}

// ---- numbers ------------------------------------------------------------------------------------

/* Decimal digits of a 128-bit magnitude into digits (at least 41 bytes); returns their count. */
static size_t u128_digits(unsigned __int128 mag, char *digits) {
    char rev[48];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + (int)(mag % 10));
        mag /= 10;
    } while (mag != 0);
    for (size_t i = 0; i < n; i++) {
        digits[i] = rev[n - 1 - i];
    }
    digits[n] = '\0';
    return n;
}

/* An unscaled decimal integer with `scale` digits after the point ("-12.345", "0.007"). */
static void format_decimal(__int128 v, int32_t scale, char *out, size_t cap) {
    char digits[96];
    unsigned __int128 mag = v < 0 ? 0 - (unsigned __int128)v : (unsigned __int128)v;
    size_t n = u128_digits(mag, digits);
    if (scale <= 0 || scale > 38) {
        snprintf(out, cap, "%s%.40s", v < 0 ? "-" : "", digits); /* <= 39 digits */
        return;
    }
    size_t frac = (size_t)scale;
    if (n <= frac) { /* left-pad with zeros so there is one integer digit */
        size_t pad = frac + 1 - n;
        memmove(digits + pad, digits, n + 1);
        memset(digits, '0', pad);
        n += pad;
    }
    size_t int_digits = n - frac;
    snprintf(out, cap, "%s%.*s.%s", v < 0 ? "-" : "", (int)int_digits, digits, digits + int_digits);
}

static void set_double(ard_cli_value *out, double v, int min_prec, int max_prec, int is_float) {
    if (!isfinite(v)) {
        out->kind = ARD_CLI_VAL_NONFINITE;
        snprintf(out->text, sizeof out->text, "%s", isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf"));
        return;
    }
    out->kind = ARD_CLI_VAL_NUMBER;
    for (int prec = min_prec; prec <= max_prec; prec++) {
        snprintf(out->text, sizeof out->text, "%.*g", prec, v);
        double back = is_float ? (double)strtof(out->text, NULL) : strtod(out->text, NULL);
        if (back == v) {
            return;
        }
    }
}

/* The typed value (ard_parquet_value_decode) rendered for people and JSON. */
void ard_cli_decode_value(const ard_pq_schema_node *leaf, ard_pq_type type, const uint8_t *bytes,
                          size_t len, ard_cli_value *out) {
    ard_parquet_value v;
    ard_parquet_value_decode(leaf, (int32_t)type, bytes, len, &v);
    memset(out, 0, sizeof *out);
    out->bytes = bytes;
    out->len = len;
    out->kind = ARD_CLI_VAL_NUMBER;
    switch (v.kind) {
    case ARD_PARQUET_VALUE_BOOL:
        out->kind = ARD_CLI_VAL_BOOL;
        snprintf(out->text, sizeof out->text, "%s", v.i ? "true" : "false");
        break;
    case ARD_PARQUET_VALUE_INT:
        snprintf(out->text, sizeof out->text, "%lld", (long long)v.i);
        break;
    case ARD_PARQUET_VALUE_UINT:
        snprintf(out->text, sizeof out->text, "%llu", (unsigned long long)v.u);
        break;
    case ARD_PARQUET_VALUE_DECIMAL:
        format_decimal((__int128)(((unsigned __int128)(uint64_t)v.decimal_hi << 64) |
                                  (unsigned __int128)v.decimal_lo),
                       v.scale, out->text, sizeof out->text);
        break;
    case ARD_PARQUET_VALUE_DOUBLE: /* the shortest text that reads back to the stored width */
        set_double(out, v.d,
                   v.bits == 16   ? 1
                   : v.bits == 32 ? 6
                                  : 15,
                   v.bits == 16   ? 5
                   : v.bits == 32 ? 9
                                  : 17,
                   v.bits != 64);
        break;
    case ARD_PARQUET_VALUE_TEXT:
        out->kind = ard_utf8_valid(bytes, len) ? ARD_CLI_VAL_TEXT : ARD_CLI_VAL_HEX;
        break;
    default:
        out->kind = ARD_CLI_VAL_HEX; /* whenever the length does not fit the type */
        break;
    }
}

// ---- output -------------------------------------------------------------------------------------

/* Largest cut <= max_bytes that does not split a UTF-8 sequence. */
static size_t cut_point(const char *s, size_t len, size_t max_bytes) {
    if (max_bytes == 0 || len <= max_bytes) {
        return len;
    }
    size_t cut = max_bytes;
    while (cut > 0 && ((uint8_t)s[cut] & 0xC0) == 0x80) {
        cut--;
    }
    return cut;
}

void ard_cli_quoted(ard_buf *out, const char *s, size_t len, size_t max_bytes) {
    size_t cut = cut_point(s, len, max_bytes);
    ard_json j;
    ard_json_init(&j, out, 0);
    ard_json_string_n(&j, s, cut);
    if (cut < len) {
        ard_buf_appendf(out, "... (%zu bytes)", len);
    }
}

static void append_hex(ard_buf *out, const uint8_t *bytes, size_t len) {
    static const char digits[] = "0123456789abcdef";
    ard_buf_append(out, "0x", 2);
    for (size_t i = 0; i < len; i++) {
        char pair[2] = {digits[bytes[i] >> 4], digits[bytes[i] & 15]};
        ard_buf_append(out, pair, 2);
    }
}

void ard_cli_value_text(const ard_cli_value *v, ard_buf *out, size_t max_bytes) {
    switch (v->kind) {
    case ARD_CLI_VAL_TEXT:
        ard_cli_quoted(out, (const char *)v->bytes, v->len, max_bytes);
        break;
    case ARD_CLI_VAL_HEX: {
        size_t shown = max_bytes && v->len > max_bytes / 2 ? max_bytes / 2 : v->len;
        append_hex(out, v->bytes, shown);
        if (shown < v->len) {
            ard_buf_appendf(out, "... (%zu bytes)", v->len);
        }
        break;
    }
    default:
        ard_buf_append(out, v->text, strlen(v->text));
        break;
    }
}

void ard_cli_value_json(const ard_cli_value *v, ard_json *j) {
    switch (v->kind) {
    case ARD_CLI_VAL_NUMBER:
    case ARD_CLI_VAL_BOOL:
        ard_json_raw(j, v->text);
        break;
    case ARD_CLI_VAL_NONFINITE:
        ard_json_null(j);
        break;
    case ARD_CLI_VAL_TEXT:
        ard_json_string_n(j, (const char *)v->bytes, v->len);
        break;
    case ARD_CLI_VAL_HEX: {
        ard_buf hex;
        ard_buf_init(&hex);
        append_hex(&hex, v->bytes, v->len);
        ard_json_string_n(j, hex.failed ? "" : (const char *)hex.data, hex.failed ? 0 : hex.len);
        ard_buf_reset(&hex);
        break;
    }
    }
}
