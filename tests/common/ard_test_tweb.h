/* A brute-force point-mass T-web from first principles (numerically integrated enclosed mass of a
 * Gaussian, no cut-off, Jacobi eigenvalues): the independent reference that the astro T-web tests
 * and the generator's truth tests compare ard_tweb_eval with. */
#ifndef ARD_TEST_TWEB_H
#define ARD_TEST_TWEB_H

#include <stdint.h>

#define REF_TABLE 4000

typedef struct ref_kernel {
    double R, rmax, m[REF_TABLE + 1]; /* enclosed fraction of the Gaussian at r = i rmax / TABLE */
} ref_kernel;

double ard_test_gauss_w(double r, double R);
void ard_test_ref_init(ref_kernel *k, double R);
double ard_test_ref_enclosed(const ref_kernel *k, double r);
void ard_test_ref_tide(const ref_kernel *k, const double *xyz, const double *q, int64_t n,
                       const double *p, double tol, double t[3][3]);
void ard_test_ref_eigen(double a[3][3], double e[3]);
int ard_test_ref_class(const double e[3], double th);

#endif
