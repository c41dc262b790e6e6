/* Growable byte buffer with a sticky failure flag (callers check once at the end). */
#include "ard/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ard_buf_init(ard_buf *b) {
    memset(b, 0, sizeof *b);
}

void ard_buf_reset(ard_buf *b) {
    ard_free(b->data);
    memset(b, 0, sizeof *b);
}

int ard_buf_reserve(ard_buf *b, size_t extra) {
    if (b->failed) {
        return -1;
    }
    if (extra <= b->cap - b->len) {
        return 0;
    }
    if (extra > SIZE_MAX / 2 - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    uint8_t *grown = ard_realloc(b->data, cap);
    if (!grown) {
        b->failed = 1;
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

void ard_buf_append(ard_buf *b, const void *data, size_t len) {
    if (len == 0 || ard_buf_reserve(b, len) != 0) {
        return;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void ard_buf_appendf(ard_buf *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        ard_buf_append(b, small, (size_t)n);
        return;
    }
    if (ard_buf_reserve(b, (size_t)n + 1) != 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
