/* Shared helpers of the science tests: a seeded generator, point sets (uniform, clustered, grids)
 * and an independent O(N^2) friends-of-friends reference. */
#ifndef SCI_TEST_UTIL_H
#define SCI_TEST_UTIL_H

#include <stdint.h>

typedef struct test_rng {
    uint64_t s;
} test_rng;

uint64_t test_rng_next(test_rng *r);
double test_rng_uniform(test_rng *r); /* [0, 1) */
double test_rng_normal(test_rng *r);

/* n x 3 points in a box of side `box`: a fraction `clustered` of them in Gaussian blobs of width
 * sigma around `centres` random centres, the rest uniform. Caller frees with free(). */
double *test_points(uint64_t seed, int64_t n, double box, double clustered, int64_t centres,
                    double sigma);

/* Brute-force components: labels[i] = smallest index of i's component. */
void brute_iso(const double *xyz, int64_t n, double link, int64_t *labels);
void brute_redshift(const double *unit, const double *dist, const double *ang, const double *los,
                    int64_t n, int64_t *labels);

/* Number of distinct labels. */
int64_t count_components(const int64_t *labels, int64_t n);

#endif
