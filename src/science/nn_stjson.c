/* The safetensors header reader: a strict JSON parser for exactly the layout safetensors uses (an
 * object of tensor entries {dtype, shape, data_offsets} and an optional __metadata__ string map).
 * Untrusted input: every error names the file and the header byte offset; strings, nesting and
 * entry counts are capped. */
#include "ard/nn.h"
#include "science_int.h"

#include <stdio.h>
#include <string.h>

#define ST_MAX_DEPTH 32

typedef struct st_parser {
    const char *begin;
    const char *p;
    const char *end;
    const char *path;
    ard_error *err;
} st_parser;

static ard_status st_fail(st_parser *ps, const char *what) {
    return ard_error_set(ps->err, ARD_ECORRUPT,
                         "%s: safetensors header is not valid: %s at header byte %lld", ps->path,
                         what, (long long)(ps->p - ps->begin));
}

static void st_ws(st_parser *ps) {
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
        ps->p++;
    }
}

static int st_eat(st_parser *ps, char c) {
    st_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return 1;
    }
    return 0;
}

static int hex4(const char *s, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            return 0;
        }
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return 1;
}

static void put_utf8(ard_buf *b, uint32_t cp) {
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | (cp >> 6));
        u[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | (cp >> 12));
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | (cp >> 18));
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    ard_buf_append(b, u, n);
}

/* \uXXXX (and a following low surrogate) at ps->p (just after the backslash-u). */
static ard_status st_unicode(st_parser *ps, ard_buf *out) {
    uint32_t cp;
    if (ps->end - ps->p < 4 || !hex4(ps->p, &cp)) {
        return st_fail(ps, "bad \\u escape");
    }
    ps->p += 4;
    if (cp >= 0xd800 && cp < 0xdc00) {
        uint32_t lo;
        if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || !hex4(ps->p + 2, &lo) ||
            lo < 0xdc00 || lo >= 0xe000) {
            return st_fail(ps, "unpaired surrogate");
        }
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp < 0xe000) {
        return st_fail(ps, "unpaired surrogate");
    }
    put_utf8(out, cp);
    return ARD_OK;
}

/* A JSON string into out (NUL-terminated; out is cleared first). */
static ard_status st_string(st_parser *ps, ard_buf *out) {
    out->len = 0;
    if (!st_eat(ps, '"')) {
        return st_fail(ps, "expected a string");
    }
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if ((unsigned char)c < 0x20) {
            return st_fail(ps, "control character in a string");
        }
        if (c != '\\') {
            ard_buf_append(out, &c, 1);
            continue;
        }
        if (ps->p >= ps->end) {
            break;
        }
        char e = *ps->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            ard_buf_append(out, &map[simple - "\"\\/bfnrt"], 1);
        } else if (e == 'u') {
            ard_status st = st_unicode(ps, out);
            if (st != ARD_OK) {
                return st;
            }
        } else {
            return st_fail(ps, "bad escape in a string");
        }
    }
    if (ps->p >= ps->end) {
        return st_fail(ps, "unterminated string");
    }
    ps->p++;
    ard_buf_append(out, "", 1);
    if (out->failed) {
        return ard_error_set(ps->err, ARD_ENOMEM, "%s: out of memory reading the header", ps->path);
    }
    out->len--; /* the NUL stays in the buffer, not in the length */
    return ARD_OK;
}

/* A string that names something (a tensor, a metadata key or value): no NUL inside, since names
 * are C strings from here on ("a\u0000b" would silently become "a"), and UTF-8 as the format
 * requires (a name that is not would not survive a save: the JSON writer replaces bad bytes). */
static ard_status st_name(st_parser *ps, ard_buf *out) {
    ard_status st = st_string(ps, out);
    if (st == ARD_OK && strlen((const char *)out->data) != out->len) {
        return st_fail(ps, "a NUL character (\\u0000) in a name or metadata string");
    }
    if (st == ARD_OK && !ard_utf8_valid(out->data, out->len)) {
        return st_fail(ps, "a name or metadata string that is not UTF-8");
    }
    return st;
}

/* A non-negative integer (no sign, fraction or exponent: shapes and offsets). */
static ard_status st_uint(st_parser *ps, int64_t *out) {
    st_ws(ps);
    int64_t v = 0;
    const char *start = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        int d = *ps->p - '0';
        if (v > (INT64_MAX - d) / 10) {
            return st_fail(ps, "integer too large");
        }
        v = v * 10 + d;
        ps->p++;
    }
    if (ps->p == start || (ps->p < ps->end && strchr(".eE-+", *ps->p) && *ps->p)) {
        return st_fail(ps, "expected a non-negative integer");
    }
    *out = v;
    return ARD_OK;
}

/* [uint, ...] with at most `cap` elements (more: ARD_ELIMIT naming `what`). */
static ard_status st_uint_array(st_parser *ps, int64_t *vals, int32_t cap, int32_t *count,
                                const char *what) {
    *count = 0;
    if (!st_eat(ps, '[')) {
        return st_fail(ps, "expected an array");
    }
    if (st_eat(ps, ']')) {
        return ARD_OK;
    }
    do {
        int64_t v = 0;
        ard_status st = st_uint(ps, &v);
        if (st != ARD_OK) {
            return st;
        }
        if (*count >= cap) {
            return ard_error_set(ps->err, ARD_ELIMIT, "%s: %s has more than %d elements", ps->path,
                                 what, (int)cap);
        }
        vals[(*count)++] = v;
    } while (st_eat(ps, ','));
    return st_eat(ps, ']') ? ARD_OK : st_fail(ps, "expected ',' or ']'");
}

static ard_status st_skip_value(st_parser *ps, int depth, ard_buf *scratch);

static ard_status st_skip_container(st_parser *ps, char close, int depth, ard_buf *scratch) {
    if (st_eat(ps, close)) {
        return ARD_OK;
    }
    do {
        ard_status st;
        if (close == '}') {
            st = st_string(ps, scratch);
            if (st == ARD_OK && !st_eat(ps, ':')) {
                st = st_fail(ps, "expected ':'");
            }
            if (st != ARD_OK) {
                return st;
            }
        }
        st = st_skip_value(ps, depth + 1, scratch);
        if (st != ARD_OK) {
            return st;
        }
    } while (st_eat(ps, ','));
    return st_eat(ps, close) ? ARD_OK : st_fail(ps, "expected ',' or a closing bracket");
}

/* Any JSON value (unknown keys inside a tensor entry are ignored, as safetensors does). */
static ard_status st_skip_value(st_parser *ps, int depth, ard_buf *scratch) {
    if (depth > ST_MAX_DEPTH) {
        return st_fail(ps, "nesting too deep");
    }
    st_ws(ps);
    if (ps->p >= ps->end) {
        return st_fail(ps, "unexpected end");
    }
    char c = *ps->p;
    if (c == '"') {
        return st_string(ps, scratch);
    }
    if (c == '{' || c == '[') {
        ps->p++;
        return st_skip_container(ps, c == '{' ? '}' : ']', depth, scratch);
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i], n) == 0) {
            ps->p += n;
            return ARD_OK;
        }
    }
    const char *start = ps->p;
    while (ps->p < ps->end && *ps->p && strchr("0123456789+-.eE", *ps->p)) {
        ps->p++;
    }
    return ps->p > start ? ARD_OK : st_fail(ps, "unexpected character");
}

static ard_status st_metadata(st_parser *ps, ard_nn_params *meta, ard_buf *key, ard_buf *val) {
    if (!st_eat(ps, '{')) {
        return st_fail(ps, "__metadata__ must be an object");
    }
    if (st_eat(ps, '}')) {
        return ARD_OK;
    }
    do {
        ard_status st = st_name(ps, key);
        if (st == ARD_OK && !st_eat(ps, ':')) {
            st = st_fail(ps, "expected ':'");
        }
        if (st == ARD_OK) {
            st_ws(ps);
            st = ps->p < ps->end && *ps->p == '"'
                     ? st_name(ps, val)
                     : st_fail(ps, "__metadata__ values must be strings");
        }
        if (st == ARD_OK && strcmp((const char *)key->data, "__metadata__") == 0) {
            st = st_fail(ps, "a __metadata__ key inside __metadata__");
        }
        if (st == ARD_OK && key->len > 0) {
            st = ard_nn_params_set_meta(meta, (const char *)key->data, (const char *)val->data,
                                        ps->err);
        }
        if (st != ARD_OK) {
            return st;
        }
    } while (st_eat(ps, ','));
    return st_eat(ps, '}') ? ARD_OK : st_fail(ps, "expected ',' or '}' in __metadata__");
}

/* One tensor entry's object. */
static ard_status st_entry(st_parser *ps, sci_st_entry *e, ard_buf *key, ard_buf *val) {
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    if (!st_eat(ps, '{')) {
        return st_fail(ps, "a tensor entry must be an object");
    }
    if (!st_eat(ps, '}')) {
        do {
            ard_status st = st_string(ps, key);
            if (st == ARD_OK && !st_eat(ps, ':')) {
                st = st_fail(ps, "expected ':'");
            }
            const char *k = (const char *)key->data;
            if (st != ARD_OK) {
                return st;
            }
            if (strcmp(k, "dtype") == 0) {
                st = st_string(ps, val);
                if (st == ARD_OK) {
                    size_t n = val->len < sizeof e->dtype - 1 ? val->len : sizeof e->dtype - 1;
                    memcpy(e->dtype, val->data, n);
                    e->dtype[n] = '\0';
                    have_dtype = 1;
                }
            } else if (strcmp(k, "shape") == 0) {
                char what[ARD_NN_NAME_MAX + 32];
                snprintf(what, sizeof what, "the shape of tensor '%s'", e->name);
                st = st_uint_array(ps, e->shape, ARD_NN_MAX_DIMS, &e->ndim, what);
                have_shape = 1;
            } else if (strcmp(k, "data_offsets") == 0) {
                int64_t off[2] = {0, 0};
                int32_t count = 0;
                st = st_uint_array(ps, off, 2, &count, "data_offsets");
                if (st == ARD_OK && count != 2) {
                    st = st_fail(ps, "data_offsets must hold two integers");
                }
                e->begin = off[0];
                e->end = off[1];
                have_offsets = 1;
            } else {
                st = st_skip_value(ps, 2, val);
            }
            if (st != ARD_OK) {
                return st;
            }
        } while (st_eat(ps, ','));
        if (!st_eat(ps, '}')) {
            return st_fail(ps, "expected ',' or '}' in a tensor entry");
        }
    }
    if (!have_dtype || !have_shape || !have_offsets) {
        return ard_error_set(ps->err, ARD_ECORRUPT,
                             "%s: tensor '%s' lacks %s in the safetensors header", ps->path,
                             e->name,
                             !have_dtype   ? "dtype"
                             : !have_shape ? "shape"
                                           : "data_offsets");
    }
    return ARD_OK;
}

static ard_status st_add_entry(st_parser *ps, sci_st_header *h, const ard_buf *key) {
    if (key->len == 0 || key->len >= ARD_NN_NAME_MAX) {
        return ard_error_set(ps->err, ARD_ELIMIT,
                             "%s: a tensor name of %zu bytes (1..%d allowed) at header byte %lld",
                             ps->path, key->len, ARD_NN_NAME_MAX - 1,
                             (long long)(ps->p - ps->begin));
    }
    for (int64_t i = 0; i < h->count; i++) {
        if (strcmp(h->entries[i].name, (const char *)key->data) == 0) {
            return ard_error_set(ps->err, ARD_ECORRUPT, "%s: tensor '%s' appears twice", ps->path,
                                 h->entries[i].name);
        }
    }
    if (h->count >= ARD_NN_SAFETENSORS_MAX_TENSORS) {
        return ard_error_set(ps->err, ARD_ELIMIT, "%s: more than %d tensors", ps->path,
                             ARD_NN_SAFETENSORS_MAX_TENSORS);
    }
    if (h->count == h->cap) {
        int64_t cap = h->cap ? h->cap * 2 : 16;
        sci_st_entry *grown = ard_realloc(h->entries, (size_t)cap * sizeof *grown);
        if (!grown) {
            return ard_error_set(ps->err, ARD_ENOMEM, "%s: out of memory reading the header",
                                 ps->path);
        }
        h->entries = grown;
        h->cap = cap;
    }
    sci_st_entry *e = &h->entries[h->count++];
    memset(e, 0, sizeof *e);
    memcpy(e->name, key->data, key->len + 1);
    return ARD_OK;
}

static ard_status st_top(st_parser *ps, sci_st_header *h, ard_nn_params *meta, ard_buf *key,
                         ard_buf *val) {
    if (!st_eat(ps, '{')) {
        return st_fail(ps, "expected '{'");
    }
    if (!st_eat(ps, '}')) {
        do {
            ard_status st = st_name(ps, key);
            if (st == ARD_OK && !st_eat(ps, ':')) {
                st = st_fail(ps, "expected ':'");
            }
            if (st == ARD_OK && strcmp((const char *)key->data, "__metadata__") == 0) {
                st = st_metadata(ps, meta, key, val);
            } else if (st == ARD_OK) {
                st = st_add_entry(ps, h, key);
                if (st == ARD_OK) {
                    st = st_entry(ps, &h->entries[h->count - 1], key, val);
                }
            }
            if (st != ARD_OK) {
                return st;
            }
        } while (st_eat(ps, ','));
        if (!st_eat(ps, '}')) {
            return st_fail(ps, "expected ',' or '}'");
        }
    }
    st_ws(ps);
    return ps->p == ps->end ? ARD_OK : st_fail(ps, "trailing bytes after the header object");
}

ard_status ard__nn_st_parse(const char *json, size_t len, const char *path, sci_st_header *h,
                            ard_nn_params *meta, ard_error *err) {
    memset(h, 0, sizeof *h);
    st_parser ps = {json, json, json + len, path, err};
    ard_buf key, val;
    ard_buf_init(&key);
    ard_buf_init(&val);
    ard_status st = st_top(&ps, h, meta, &key, &val);
    ard_buf_reset(&key);
    ard_buf_reset(&val);
    if (st != ARD_OK) {
        ard__nn_st_header_reset(h);
    }
    return st;
}

void ard__nn_st_header_reset(sci_st_header *h) {
    ard_free(h->entries);
    memset(h, 0, sizeof *h);
}
