/* Helpers for the science tests (see sci_test_util.h). The reference linker is deliberately naive:
 * every pair, a plain union-find without tricks, labels by smallest index. */
#include "sci_test_util.h"

#include <math.h>
#include <stdlib.h>

uint64_t test_rng_next(test_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double test_rng_uniform(test_rng *r) {
    return (double)(test_rng_next(r) >> 11) * 0x1.0p-53;
}

double test_rng_normal(test_rng *r) {
    double u = test_rng_uniform(r), v = test_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

double *test_points(uint64_t seed, int64_t n, double box, double clustered, int64_t centres,
                    double sigma) {
    test_rng r = {seed};
    double *xyz = malloc((size_t)(n > 0 ? n : 1) * 3 * sizeof *xyz);
    double *cen = malloc((size_t)(centres > 0 ? centres : 1) * 3 * sizeof *cen);
    for (int64_t c = 0; c < 3 * centres; c++) {
        cen[c] = box * test_rng_uniform(&r);
    }
    for (int64_t i = 0; i < n; i++) {
        if (centres > 0 && test_rng_uniform(&r) < clustered) {
            int64_t c = (int64_t)(test_rng_next(&r) % (uint64_t)centres);
            for (int k = 0; k < 3; k++) {
                xyz[3 * i + k] = cen[3 * c + k] + sigma * test_rng_normal(&r);
            }
        } else {
            for (int k = 0; k < 3; k++) {
                xyz[3 * i + k] = box * test_rng_uniform(&r);
            }
        }
    }
    free(cen);
    return xyz;
}

static int64_t find(int64_t *p, int64_t x) {
    int64_t root = x;
    while (p[root] != root) {
        root = p[root];
    }
    while (p[x] != root) {
        int64_t next = p[x];
        p[x] = root;
        x = next;
    }
    return root;
}

static void unite(int64_t *p, int64_t a, int64_t b) {
    a = find(p, a);
    b = find(p, b);
    if (a < b) {
        p[b] = a;
    } else if (b < a) {
        p[a] = b;
    }
}

static void finish(int64_t *p, int64_t n, int64_t *labels) {
    for (int64_t i = 0; i < n; i++) {
        labels[i] = find(p, i); /* roots are the smallest index: we always link under the smaller */
    }
}

void brute_iso(const double *xyz, int64_t n, double link, int64_t *labels) {
    int64_t *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    double l2 = link * link;
    for (int64_t i = 0; i < n; i++) {
        p[i] = i;
    }
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = i + 1; j < n; j++) {
            double dx = xyz[3 * i] - xyz[3 * j], dy = xyz[3 * i + 1] - xyz[3 * j + 1],
                   dz = xyz[3 * i + 2] - xyz[3 * j + 2];
            if (dx * dx + dy * dy + dz * dz <= l2) {
                unite(p, i, j);
            }
        }
    }
    finish(p, n, labels);
    free(p);
}

void brute_redshift(const double *unit, const double *dist, const double *ang, const double *los,
                    int64_t n, int64_t *labels) {
    int64_t *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    for (int64_t i = 0; i < n; i++) {
        p[i] = i;
    }
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = i + 1; j < n; j++) {
            double dx = unit[3 * i] - unit[3 * j], dy = unit[3 * i + 1] - unit[3 * j + 1],
                   dz = unit[3 * i + 2] - unit[3 * j + 2];
            double ta = 0.5 * (ang[i] + ang[j]), tl = 0.5 * (los[i] + los[j]);
            if (dx * dx + dy * dy + dz * dz <= ta * ta && fabs(dist[i] - dist[j]) <= tl) {
                unite(p, i, j);
            }
        }
    }
    finish(p, n, labels);
    free(p);
}

int64_t count_components(const int64_t *labels, int64_t n) {
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) {
        c += labels[i] == i;
    }
    return c;
}
