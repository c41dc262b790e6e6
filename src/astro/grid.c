/* The wavelength grid: bin centres, the "ard.grid" key-value text, short names. */
#include "astro_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ard_grid_default(ard_grid *out) {
    out->kind = ARD_GRID_LOG;
    out->start = 3600.0;
    out->stop = 9824.0;
    out->n = 4096;
}

ard_status ard_grid_validate(const ard_grid *g, ard_error *err) {
    if (!g) {
        return ard_error_set(err, ARD_EINVAL, "grid: NULL");
    }
    if (g->kind != ARD_GRID_LOG && g->kind != ARD_GRID_LINEAR) {
        return ard_error_set(err, ARD_EINVAL, "grid: unknown kind %d", g->kind);
    }
    if (!(g->start > 0.0) || !isfinite(g->start) || !isfinite(g->stop) || !(g->stop > g->start)) {
        return ard_error_set(err, ARD_EINVAL, "grid: need 0 < start < stop (start=%g, stop=%g)",
                             g->start, g->stop);
    }
    if (g->n < 2 || g->n > ARD_GRID_MAX_BINS) {
        return ard_error_set(err, ARD_EINVAL, "grid: n=%lld outside 2..%d", (long long)g->n,
                             ARD_GRID_MAX_BINS);
    }
    return ARD_OK;
}

static int parse_double(const char *s, size_t len, double *out) {
    char tmp[64];
    if (len == 0 || len >= sizeof tmp) {
        return 0;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end = NULL;
    errno = 0;
    double v = strtod(tmp, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v)) {
        return 0;
    }
    *out = v;
    return 1;
}

/* Applies one "key=value" item; returns the key's bit or 0 on error. */
static int apply_item(const char *item, size_t len, ard_grid *g) {
    const char *eq = memchr(item, '=', len);
    if (!eq) {
        return 0;
    }
    size_t klen = (size_t)(eq - item), vlen = len - klen - 1;
    const char *v = eq + 1;
    double num = 0.0;
    if (klen == 4 && memcmp(item, "kind", 4) == 0) {
        if (vlen == 3 && memcmp(v, "log", 3) == 0) {
            g->kind = ARD_GRID_LOG;
        } else if (vlen == 6 && memcmp(v, "linear", 6) == 0) {
            g->kind = ARD_GRID_LINEAR;
        } else {
            return 0;
        }
        return 1;
    }
    if (!parse_double(v, vlen, &num)) {
        return 0;
    }
    if (klen == 5 && memcmp(item, "start", 5) == 0) {
        g->start = num;
        return 2;
    }
    if (klen == 4 && memcmp(item, "stop", 4) == 0) {
        g->stop = num;
        return 4;
    }
    if (klen == 1 && item[0] == 'n' && num == floor(num) && fabs(num) < 1e15) {
        g->n = (int64_t)num;
        return 8;
    }
    return 0;
}

ard_status ard_grid_parse(const char *text, ard_grid *out, ard_error *err) {
    if (!text || !out) {
        return ard_error_set(err, ARD_EINVAL, "ard.grid: NULL text");
    }
    ard_grid g = {0};
    int seen = 0;
    const char *p = text;
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        int bit = apply_item(p, len, &g);
        if (bit == 0 || (seen & bit)) {
            return ard_error_set(err, ARD_EINVAL, "ard.grid '%.200s': bad or repeated item '%.*s'",
                                 text, (int)(len > 64 ? 64 : len), p);
        }
        seen |= bit;
        p += len + (semi ? 1 : 0);
    }
    if (seen != 15) {
        return ard_error_set(err, ARD_EINVAL, "ard.grid '%.200s': needs kind, start, stop and n",
                             text);
    }
    ard_status st = ard_grid_validate(&g, err);
    if (st != ARD_OK) {
        ard_error_prefix(err, "ard.grid '%.200s': ", text);
        return st;
    }
    *out = g;
    return ARD_OK;
}

/* Shortest %.Ng that round-trips. */
static void format_double(double v, char *buf, size_t cap) {
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) {
            return;
        }
    }
}

ard_status ard_grid_format(const ard_grid *g, char *buf, size_t cap, ard_error *err) {
    ard_status st = ard_grid_validate(g, err);
    if (st != ARD_OK) {
        return st;
    }
    char a[40], b[40];
    format_double(g->start, a, sizeof a);
    format_double(g->stop, b, sizeof b);
    int len = snprintf(buf, cap, "kind=%s;start=%s;stop=%s;n=%lld",
                       g->kind == ARD_GRID_LOG ? "log" : "linear", a, b, (long long)g->n);
    if (len < 0 || (size_t)len >= cap) {
        return ard_error_set(err, ARD_ERANGE, "ard.grid: buffer of %zu bytes too small", cap);
    }
    return ARD_OK;
}

ard_status ard_grid_from_name(const char *name, ard_grid *out, ard_error *err) {
    ard_grid g;
    ard_grid_default(&g);
    const char *digits = NULL;
    if (!name) {
        return ard_error_set(err, ARD_EINVAL, "grid name: NULL");
    }
    if (strcmp(name, "desi") == 0) {
        digits = "7781";
        g.kind = ARD_GRID_LINEAR;
    } else if (strncmp(name, "log", 3) == 0) {
        digits = name + 3;
    } else if (strncmp(name, "linear", 6) == 0) {
        digits = name + 6;
        g.kind = ARD_GRID_LINEAR;
    } else if (strncmp(name, "lin", 3) == 0) {
        digits = name + 3;
        g.kind = ARD_GRID_LINEAR;
    }
    double n = 0.0;
    if (!digits || !parse_double(digits, strlen(digits), &n) || n != floor(n) || n < 2 ||
        n > ARD_GRID_MAX_BINS || strspn(digits, "0123456789") != strlen(digits)) {
        return ard_error_set(err, ARD_EINVAL,
                             "unknown grid '%.100s' (expected logN, linearN, linN or desi)", name);
    }
    g.n = (int64_t)n;
    *out = g;
    return ARD_OK;
}

double ard_grid_wavelength(const ard_grid *g, double i) {
    double t = i / (double)(g->n - 1);
    if (g->kind == ARD_GRID_LOG) {
        return g->start * exp(t * log(g->stop / g->start));
    }
    return g->start + t * (g->stop - g->start);
}

double ard_grid_index(const ard_grid *g, double lambda) {
    double t;
    if (g->kind == ARD_GRID_LOG) {
        t = log(lambda / g->start) / log(g->stop / g->start);
    } else {
        t = (lambda - g->start) / (g->stop - g->start);
    }
    return t * (double)(g->n - 1);
}

void ard_grid_wavelengths(const ard_grid *g, double *out) {
    for (int64_t i = 0; i < g->n; i++) {
        out[i] = ard_grid_wavelength(g, (double)i);
    }
}

int ard_grid_equal(const ard_grid *a, const ard_grid *b) {
    return a->kind == b->kind && a->n == b->n && fabs(a->start - b->start) <= 1e-9 * a->start &&
           fabs(a->stop - b->stop) <= 1e-9 * a->stop;
}
