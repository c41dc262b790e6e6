/* Private declarations of the astro module: the neighbour grid of the point-mass T-web and the
 * shared helpers of the FFT code. */
#ifndef ARD_ASTRO_INT_H
#define ARD_ASTRO_INT_H

#include "ard/astro.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- point-mass T-web neighbour grid (halo_grid.c) ---- */
/* Point masses binned by reach for neighbour queries (halo_grid.c). Bucket b holds masses with
 * reach in (min_reach 2^(b-1), min_reach 2^b] (bucket 0: <= min_reach) on a hashed grid of cells
 * min_reach 2^b wide. Positions must satisfy ard__halo_grid_in_range. */
#define ARD__HALO_BUCKETS_MAX 24
#define ARD__HALO_GRID_SPAN 1.0e6 /* |coordinate| < SPAN * min_reach keeps cell keys unique */
typedef struct ard__halo_mass {
    double x, y, z, reach2, weight;
} ard__halo_mass;
typedef struct ard__halo_slot {
    uint64_t key; /* UINT64_MAX: empty */
    int64_t start, count;
} ard__halo_slot;
typedef struct ard__halo_bucket {
    double cell;
    int64_t n, slots;
    ard__halo_mass *mass;  /* grouped by cell, input order within a cell */
    ard__halo_slot *table; /* open addressing over the occupied cells: one cache line a probe */
} ard__halo_bucket;
typedef struct ard__halo_grid {
    int n_buckets;
    ard__halo_bucket bucket[ARD__HALO_BUCKETS_MAX + 1];
} ard__halo_grid;
int ard__halo_grid_in_range(const double *p, double min_reach);
/* ARD_EINVAL (non-finite or out-of-range position or reach), ARD_ENOMEM. */
ard_status ard__halo_grid_build(ard__halo_grid *g, const double *xyz, const double *reach,
                                const double *weight, int64_t n, double min_reach, ard_error *err);
/* Key of cell (ix, iy, iz) (also orders query points cell by cell). */
uint64_t ard__halo_cell_key(int64_t ix, int64_t iy, int64_t iz);
/* order[0..n) = point indices sorted by their cell (cells `cell` wide): neighbouring queries in
 * sequence, so their cells stay in cache. ARD_ENOMEM. */
ard_status ard__halo_order_points(const double *pts, int64_t n, double cell, int64_t *order,
                                  ard_error *err);
/* Number of masses in cell (ix, iy, iz) of bucket b; *start indexes b->mass. */
int64_t ard__halo_grid_cell(const ard__halo_bucket *b, int64_t ix, int64_t iy, int64_t iz,
                            int64_t *start);
void ard__halo_grid_free(ard__halo_grid *g);

#endif
