/* Patch central wavelengths from a tile's "ard.grid" key-value text
 * ("kind=log;start=3600;stop=9824;n=4096"): bin centres are start * (stop/start)^(i/(n-1)) for log
 * grids and start + i (stop-start)/(n-1) for linear ones. Parsed here (not through the survey
 * module) because the stream does not depend on survey. */
#include "stream_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int parse_field(grid_spec *g, const char *key, size_t key_len, const char *val, int *seen) {
    char *end;
    errno = 0;
    if (key_len == 4 && memcmp(key, "kind", 4) == 0) {
        if (strncmp(val, "log", 3) == 0 && (val[3] == ';' || val[3] == '\0')) {
            g->log = 1;
        } else if (strncmp(val, "linear", 6) == 0 && (val[6] == ';' || val[6] == '\0')) {
            g->log = 0;
        } else {
            return -1;
        }
        *seen |= 1;
        return 0;
    }
    double d = strtod(val, &end);
    if (errno || end == val || (*end != ';' && *end != '\0')) {
        return -1;
    }
    if (key_len == 5 && memcmp(key, "start", 5) == 0) {
        g->start = d;
        *seen |= 2;
    } else if (key_len == 4 && memcmp(key, "stop", 4) == 0) {
        g->stop = d;
        *seen |= 4;
    } else if (key_len == 1 && key[0] == 'n') {
        g->n = (int64_t)d;
        *seen |= 8;
    } else {
        return -1;
    }
    return 0;
}

ard_status ard__grid_parse(const char *text, grid_spec *g, ard_error *err) {
    int seen = 0;
    const char *p = text;
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq || parse_field(g, p, (size_t)(eq - p), eq + 1, &seen) != 0) {
            return ard_error_set(err, ARD_EINVAL, "ard.grid: cannot parse \"%.100s\"", text);
        }
        const char *semi = strchr(eq, ';');
        p = semi ? semi + 1 : eq + strlen(eq);
    }
    if (seen != 15 || !(g->start > 0) || !(g->stop > g->start) || g->n < 2) {
        return ard_error_set(err, ARD_EINVAL, "ard.grid: incomplete or invalid \"%.100s\"", text);
    }
    return ARD_OK;
}

ard_status ard_patch_wavelengths(const char *grid_text, int64_t n, int32_t patch, float *out,
                                 ard_error *err) {
    grid_spec g = {1, 3600.0, 9824.0, 4096};
    if (grid_text) {
        ard_status st = ard__grid_parse(grid_text, &g, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    if (n != g.n || patch <= 0 || !out) {
        return ard_error_set(err, ARD_EINVAL, "ard.grid has %lld bins, spectra have %lld",
                             (long long)g.n, (long long)n);
    }
    int64_t num_patches = ard_tokenize_num_patches(n, patch);
    for (int64_t p = 0; p < num_patches; p++) {
        int64_t first = p * patch;
        int64_t last = first + patch - 1 < n - 1 ? first + patch - 1 : n - 1;
        double mid = (double)(first + last) / 2.0 / (double)(n - 1);
        double w =
            g.log ? g.start * pow(g.stop / g.start, mid) : g.start + mid * (g.stop - g.start);
        out[p] = (float)w;
    }
    return ARD_OK;
}
