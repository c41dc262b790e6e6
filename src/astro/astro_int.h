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

/* ---- shared numerics (tweb.c, fft.c) ---- */
/* Eigenvalues of a symmetric 3x3 matrix (xx yy zz xy xz yz), descending (trigonometric form). */
void ard__eigen3_sym(const double t[6], double e[3]);
/* Class (ard_web_class) of descending eigenvalues e: the count above lambda_th. */
static inline uint8_t ard__web_class_of(const double e[3], double lambda_th) {
    return (uint8_t)((e[0] > lambda_th) + (e[1] > lambda_th) + (e[2] > lambda_th));
}
/* Checks a periodic grid's size and side and its peak memory (bytes_per_cell * n^3 against
 * max_bytes; max_bytes <= 0 means 4 GiB). ARD_EINVAL / ARD_ELIMIT with a message naming `who` and
 * the argument. */
ard_status ard__grid_check(int32_t n, double box, int64_t bytes_per_cell, int64_t max_bytes,
                           const char *who, ard_error *err);
/* Signed wave index of FFT index idx on an n grid: idx for idx <= n/2, idx - n above. */
static inline int32_t ard__wave_index(int32_t idx, int32_t n) {
    return idx <= n / 2 ? idx : idx - n;
}
/* A 64-byte aligned buffer from ard_malloc: FFTW picks its SIMD codelets by the alignment of the
 * arrays it plans for, so aligned buffers keep the plan, hence the bits, the same from run to run. */
typedef struct ard__abuf {
    void *base, *p;
} ard__abuf;
static inline void *ard__abuf_alloc(ard__abuf *b, size_t size) {
    b->base = ard_malloc(size + 64);
    b->p = b->base ? (void *)(((uintptr_t)b->base + 63) & ~(uintptr_t)63) : NULL;
    return b->p;
}
static inline void ard__abuf_free(ard__abuf *b) {
    ard_free(b->base);
    b->base = b->p = NULL;
}
#define ARD__DEFAULT_MAX_BYTES (INT64_C(4) << 30)
#define ARD__STREAM_GRF 0x67726600u /* "grf": white noise of the Gaussian random field */

#if ARD_HAVE_FFTW
#include <fftw3.h>
/* n^3 real <-> n * n * (n/2 + 1) complex, serial FFTW_ESTIMATE plans (deterministic whatever the
 * thread count); plan creation is serialised inside (FFTW's planner is not thread-safe). The
 * forward transform leaves `in` intact; the inverse destroys `in` and is unnormalised. */
ard_status ard__fft_r2c(int32_t n, const double *in, fftw_complex *out, ard_error *err);
ard_status ard__fft_c2r(int32_t n, fftw_complex *in, double *out, ard_error *err);
#endif

#endif
