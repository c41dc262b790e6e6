/* Neighbour search for the T-web: point masses binned by their reach (the radius beyond which their
 * tidal field is negligible) into buckets whose reach doubles from one to the next; each bucket is
 * a hashed cubic grid with cells as wide as the bucket's largest reach, so a query visits 27 cells
 * per bucket and sees every mass that can reach it. Masses are copied in cell order (position,
 * reach, weight side by side: one cache line per mass) and keep their input order within a cell,
 * so sums over a query's neighbours are in a fixed order (results independent of threading). */
#include "astro_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KEY_BITS 21
#define KEY_BIAS (1 << (KEY_BITS - 1))
#define KEY_EMPTY UINT64_MAX

uint64_t ard__halo_cell_key(int64_t ix, int64_t iy, int64_t iz) {
    return ((uint64_t)(ix + KEY_BIAS) << (2 * KEY_BITS)) | ((uint64_t)(iy + KEY_BIAS) << KEY_BITS) |
           (uint64_t)(iz + KEY_BIAS);
}

static uint64_t key_hash(uint64_t k) {
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return k;
}

typedef struct sort_item {
    uint64_t key;
    int64_t index;
} sort_item;

static int cmp_item(const void *a, const void *b) {
    const sort_item *x = a, *y = b;
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    return x->index < y->index ? -1 : (x->index > y->index);
}

static int64_t cell_of(double v, double cell) {
    return (int64_t)floor(v / cell);
}

int ard__halo_grid_in_range(const double *p, double min_reach) {
    double lim = ARD__HALO_GRID_SPAN * min_reach;
    return fabs(p[0]) < lim && fabs(p[1]) < lim && fabs(p[2]) < lim; /* false for NaN */
}

/* Fills bucket b from the masses listed in items[0..n) (keys not yet set). */
static ard_status bucket_build(ard__halo_bucket *b, const double *xyz, const double *reach,
                               const double *weight, sort_item *items, int64_t n, ard_error *err) {
    for (int64_t k = 0; k < n; k++) {
        const double *p = xyz + 3 * items[k].index;
        items[k].key = ard__halo_cell_key(cell_of(p[0], b->cell), cell_of(p[1], b->cell),
                                          cell_of(p[2], b->cell));
    }
    qsort(items, (size_t)n, sizeof *items, cmp_item);
    int64_t cells = 0;
    for (int64_t k = 0; k < n; k++) {
        cells += k == 0 || items[k].key != items[k - 1].key;
    }
    b->slots = 16;
    while (b->slots < 2 * cells) {
        b->slots *= 2;
    }
    b->mass = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *b->mass);
    b->table = ard_malloc((size_t)b->slots * sizeof *b->table);
    if (!b->mass || !b->table) {
        return ard_error_set(err, ARD_ENOMEM, "cosmic web: no memory for a grid of %lld masses",
                             (long long)n);
    }
    for (int64_t s = 0; s < b->slots; s++) {
        b->table[s].key = KEY_EMPTY;
    }
    for (int64_t k = 0; k < n;) {
        int64_t e = k;
        while (e < n && items[e].key == items[k].key) {
            int64_t i = items[e].index;
            ard__halo_mass *m = &b->mass[e];
            m->x = xyz[3 * i];
            m->y = xyz[3 * i + 1];
            m->z = xyz[3 * i + 2];
            m->reach2 = reach[i] * reach[i];
            m->weight = weight[i];
            e++;
        }
        int64_t s = (int64_t)(key_hash(items[k].key) & (uint64_t)(b->slots - 1));
        while (b->table[s].key != KEY_EMPTY) {
            s = (s + 1) & (b->slots - 1);
        }
        b->table[s].key = items[k].key;
        b->table[s].start = k;
        b->table[s].count = e - k;
        k = e;
    }
    b->n = n;
    return ARD_OK;
}

ard_status ard__halo_grid_build(ard__halo_grid *g, const double *xyz, const double *reach,
                                const double *weight, int64_t n, double min_reach, ard_error *err) {
    memset(g, 0, sizeof *g);
    double top = min_reach;
    for (int64_t i = 0; i < n; i++) {
        if (!(reach[i] >= 0.0) || !isfinite(reach[i]) ||
            !ard__halo_grid_in_range(xyz + 3 * i, min_reach)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "cosmic web: mass %lld has a non-finite or out-of-range position "
                                 "or reach",
                                 (long long)i);
        }
        top = reach[i] > top ? reach[i] : top;
    }
    while (g->n_buckets < ARD__HALO_BUCKETS_MAX && min_reach * ldexp(1.0, g->n_buckets) < top) {
        g->n_buckets++;
    }
    g->n_buckets++;
    if (min_reach * ldexp(1.0, g->n_buckets - 1) < top) {
        return ard_error_set(err, ARD_EINVAL, "cosmic web: reach %g too large for the grid", top);
    }
    sort_item *items = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *items);
    if (!items) {
        return ard_error_set(err, ARD_ENOMEM, "cosmic web: no memory for %lld masses",
                             (long long)n);
    }
    ard_status st = ARD_OK;
    for (int b = 0; b < g->n_buckets && st == ARD_OK; b++) {
        double lo = b == 0 ? -1.0 : min_reach * ldexp(1.0, b - 1), hi = min_reach * ldexp(1.0, b);
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++) {
            if (reach[i] > lo && reach[i] <= hi) {
                items[m++].index = i;
            }
        }
        g->bucket[b].cell = hi;
        st = bucket_build(&g->bucket[b], xyz, reach, weight, items, m, err);
    }
    ard_free(items);
    if (st != ARD_OK) {
        ard__halo_grid_free(g);
    }
    return st;
}

ard_status ard__halo_order_points(const double *pts, int64_t n, double cell, int64_t *order,
                                  ard_error *err) {
    sort_item *items = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *items);
    if (!items) {
        return ard_error_set(err, ARD_ENOMEM, "cosmic web: no memory to order %lld points",
                             (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        const double *p = pts + 3 * i;
        items[i].key =
            ard__halo_cell_key(cell_of(p[0], cell), cell_of(p[1], cell), cell_of(p[2], cell));
        items[i].index = i;
    }
    qsort(items, (size_t)n, sizeof *items, cmp_item);
    for (int64_t i = 0; i < n; i++) {
        order[i] = items[i].index;
    }
    ard_free(items);
    return ARD_OK;
}

int64_t ard__halo_grid_cell(const ard__halo_bucket *b, int64_t ix, int64_t iy, int64_t iz,
                            int64_t *start) {
    if (b->n == 0) {
        return 0;
    }
    uint64_t key = ard__halo_cell_key(ix, iy, iz);
    int64_t s = (int64_t)(key_hash(key) & (uint64_t)(b->slots - 1));
    while (b->table[s].key != KEY_EMPTY) {
        if (b->table[s].key == key) {
            *start = b->table[s].start;
            return b->table[s].count;
        }
        s = (s + 1) & (b->slots - 1);
    }
    return 0;
}

void ard__halo_grid_free(ard__halo_grid *g) {
    for (int b = 0; b < g->n_buckets; b++) {
        ard_free(g->bucket[b].mass);
        ard_free(g->bucket[b].table);
    }
    memset(g, 0, sizeof *g);
}
