/* JSON writer for --json output: strings are escaped and forced to valid UTF-8, doubles are written
 * in their shortest round-trip form, and commas/indentation follow from the nesting state.
 *
 * need_comma[depth] holds the state of the container at that depth: 0 = empty so far, 1 = has an
 * item (the next one needs a comma), 2 = a key was just written (the value follows without a
 * prefix). Nesting deeper than the array allows marks the output buffer failed rather than writing
 * bad JSON. */
#include "ard/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH ((int)sizeof(((ard_json *)0)->need_comma) - 1)

enum { JSON_EMPTY = 0, JSON_HAS_ITEM = 1, JSON_AFTER_KEY = 2 };

void ard_json_init(ard_json *j, ard_buf *out, int pretty) {
    memset(j, 0, sizeof *j);
    j->out = out;
    j->pretty = pretty;
}

static void put(ard_json *j, const char *s, size_t len) {
    ard_buf_append(j->out, s, len);
}

static void put_str(ard_json *j, const char *s) {
    put(j, s, strlen(s));
}

static int depth_index(ard_json *j) {
    if (j->depth < 0 || j->depth > JSON_MAX_DEPTH) {
        j->out->failed = 1;
        return 0;
    }
    return j->depth;
}

static void newline_indent(ard_json *j, int depth) {
    static const char spaces[] = "                                ";
    put(j, "\n", 1);
    for (int left = 2 * depth; left > 0;) {
        int chunk = left < (int)sizeof spaces - 1 ? left : (int)sizeof spaces - 1;
        put(j, spaces, (size_t)chunk);
        left -= chunk;
    }
}

/* Comma and indentation before an array item, an object key or a top-level value. */
static void begin_item(ard_json *j) {
    int d = depth_index(j);
    if (j->need_comma[d] == JSON_HAS_ITEM) {
        put(j, ",", 1);
    }
    if (j->pretty && j->depth > 0) {
        newline_indent(j, j->depth);
    }
    j->need_comma[d] = JSON_HAS_ITEM;
}

static void begin_value(ard_json *j) {
    int d = depth_index(j);
    if (j->need_comma[d] == JSON_AFTER_KEY) {
        j->need_comma[d] = JSON_HAS_ITEM;
        return;
    }
    begin_item(j);
}

static void open_container(ard_json *j, char c) {
    begin_value(j);
    put(j, &c, 1);
    j->depth++;
    j->need_comma[depth_index(j)] = JSON_EMPTY;
}

static void close_container(ard_json *j, char c) {
    int had_items = j->need_comma[depth_index(j)] != JSON_EMPTY;
    if (j->depth > 0) {
        j->depth--;
    } else {
        j->out->failed = 1; /* unbalanced end */
    }
    if (j->pretty && had_items) {
        newline_indent(j, j->depth);
    }
    put(j, &c, 1);
}

void ard_json_begin_object(ard_json *j) {
    open_container(j, '{');
}

void ard_json_end_object(ard_json *j) {
    close_container(j, '}');
}

void ard_json_begin_array(ard_json *j) {
    open_container(j, '[');
}

void ard_json_end_array(ard_json *j) {
    close_container(j, ']');
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_seq_len(const uint8_t *s, size_t avail) {
    uint8_t c = s[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

int32_t ard_utf8_valid(const uint8_t *s, size_t len) {
    for (size_t i = 0; i < len;) {
        size_t n = s ? utf8_seq_len(s + i, len - i) : 0;
        if (n == 0) {
            return 0;
        }
        i += n;
    }
    return 1;
}

static void put_escaped_byte(ard_json *j, uint8_t c) {
    char esc[8];
    const char *named = NULL;
    switch (c) {
    case '"':
        named = "\\\"";
        break;
    case '\\':
        named = "\\\\";
        break;
    case '\n':
        named = "\\n";
        break;
    case '\r':
        named = "\\r";
        break;
    case '\t':
        named = "\\t";
        break;
    case '\b':
        named = "\\b";
        break;
    case '\f':
        named = "\\f";
        break;
    default:
        break;
    }
    if (named) {
        put_str(j, named);
        return;
    }
    snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
    put(j, esc, 6);
}

static void put_string_body(ard_json *j, const char *s, size_t len) {
    const uint8_t *p = (const uint8_t *)s;
    size_t run = 0; /* bytes [i - run, i) are plain and not yet written */
    size_t i = 0;
    put(j, "\"", 1);
    while (i < len) {
        uint8_t c = p[i];
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 1 && c >= 0x20 && c != '"' && c != '\\') {
            run++, i++;
            continue;
        }
        if (n > 1) {
            run += n, i += n;
            continue;
        }
        put(j, (const char *)p + i - run, run);
        run = 0;
        if (n == 0) {
            put_str(j, "\\ufffd");
        } else {
            put_escaped_byte(j, c);
        }
        i++;
    }
    put(j, (const char *)p + i - run, run);
    put(j, "\"", 1);
}

void ard_json_key(ard_json *j, const char *key) {
    begin_item(j);
    put_string_body(j, key, strlen(key));
    j->need_comma[depth_index(j)] = JSON_AFTER_KEY;
    put_str(j, j->pretty ? ": " : ":");
}

void ard_json_string(ard_json *j, const char *s) {
    if (!s) {
        ard_json_null(j);
        return;
    }
    ard_json_string_n(j, s, strlen(s));
}

void ard_json_string_n(ard_json *j, const char *s, size_t len) {
    begin_value(j);
    put_string_body(j, s, len);
}

void ard_json_int(ard_json *j, int64_t v) {
    begin_value(j);
    ard_buf_appendf(j->out, "%lld", (long long)v);
}

void ard_json_uint(ard_json *j, uint64_t v) {
    begin_value(j);
    ard_buf_appendf(j->out, "%llu", (unsigned long long)v);
}

void ard_json_double(ard_json *j, double v) {
    if (!isfinite(v)) {
        ard_json_null(j);
        return;
    }
    char text[40];
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, v);
        if (strtod(text, NULL) == v) {
            break; /* %.17g always round-trips, so the last attempt is kept regardless */
        }
    }
    begin_value(j);
    put_str(j, text);
}

void ard_json_bool(ard_json *j, int v) {
    begin_value(j);
    put_str(j, v ? "true" : "false");
}

void ard_json_null(ard_json *j) {
    begin_value(j);
    put_str(j, "null");
}

void ard_json_raw(ard_json *j, const char *text) {
    begin_value(j);
    put_str(j, text);
}
