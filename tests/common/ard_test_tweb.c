#include "ard_test_tweb.h"

#include <math.h>
#include <string.h>

/* ---- the reference: everything computed from first principles ---- */

double ard_test_gauss_w(double r, double R) {
    return exp(-r * r / (2.0 * R * R)) / pow(2.0 * M_PI * R * R, 1.5);
}

/* Enclosed fraction by Simpson integration of 4 pi s^2 W(s). */
void ard_test_ref_init(ref_kernel *k, double R) {
    k->R = R;
    k->rmax = 10.0 * R;
    double h = k->rmax / REF_TABLE;
    k->m[0] = 0.0;
    for (int i = 1; i <= REF_TABLE; i++) {
        double a = (i - 1) * h, b = i * h, c = 0.5 * (a + b);
        double fa = 4 * M_PI * a * a * ard_test_gauss_w(a, R),
               fb = 4 * M_PI * b * b * ard_test_gauss_w(b, R);
        double fc = 4 * M_PI * c * c * ard_test_gauss_w(c, R);
        k->m[i] = k->m[i - 1] + h / 6.0 * (fa + 4 * fc + fb);
    }
}

double ard_test_ref_enclosed(const ref_kernel *k, double r) {
    if (r >= k->rmax) {
        return 1.0;
    }
    double x = r / k->rmax * REF_TABLE;
    int i = (int)x;
    double f = x - i;
    return k->m[i] * (1 - f) + k->m[i + 1] * f;
}

/* Tidal tensor (3x3) of masses at point p: phi'' and phi'/r of each smoothed point; tol > 0 applies
 * the documented cut-off (a mass is ignored beyond max(6 R, (2 q / (4 pi tol))^(1/3))), tol 0 none.
 */
void ard_test_ref_tide(const ref_kernel *k, const double *xyz, const double *q, int64_t n,
                       const double *p, double tol, double t[3][3]) {
    memset(t, 0, 9 * sizeof(double));
    for (int64_t h = 0; h < n; h++) {
        double d[3] = {p[0] - xyz[3 * h], p[1] - xyz[3 * h + 1], p[2] - xyz[3 * h + 2]};
        double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        double reach = tol > 0 ? fmax(6 * k->R, cbrt(2 * q[h] / (4 * M_PI * tol))) : INFINITY;
        if (r > reach) {
            continue;
        }
        double tang, rad;
        if (r < 1e-9) {
            tang = rad = ard_test_gauss_w(0, k->R) / 3.0;
        } else {
            tang = ard_test_ref_enclosed(k, r) / (4 * M_PI * r * r * r);
            rad = ard_test_gauss_w(r, k->R) - 2 * tang;
        }
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                double nn = r < 1e-9 ? (a == b) : d[a] * d[b] / (r * r);
                t[a][b] += q[h] * (tang * (a == b) + (rad - tang) * nn);
            }
        }
    }
}

/* Eigenvalues by cyclic Jacobi rotations, sorted descending. */
void ard_test_ref_eigen(double a[3][3], double e[3]) {
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
        if (off < 1e-30) {
            break;
        }
        for (int p = 0; p < 2; p++) {
            for (int r = p + 1; r < 3; r++) {
                if (fabs(a[p][r]) < 1e-300) {
                    continue;
                }
                double th = 0.5 * atan2(2 * a[p][r], a[r][r] - a[p][p]);
                double c = cos(th), s = sin(th);
                for (int k = 0; k < 3; k++) { /* A <- A J */
                    double x = a[k][p], y = a[k][r];
                    a[k][p] = c * x - s * y;
                    a[k][r] = s * x + c * y;
                }
                for (int k = 0; k < 3; k++) { /* A <- J^T A */
                    double x = a[p][k], y = a[r][k];
                    a[p][k] = c * x - s * y;
                    a[r][k] = s * x + c * y;
                }
            }
        }
    }
    e[0] = a[0][0];
    e[1] = a[1][1];
    e[2] = a[2][2];
    for (int i = 0; i < 3; i++) {
        for (int j = i + 1; j < 3; j++) {
            if (e[j] > e[i]) {
                double x = e[i];
                e[i] = e[j];
                e[j] = x;
            }
        }
    }
}

int ard_test_ref_class(const double e[3], double th) {
    return (e[0] > th) + (e[1] > th) + (e[2] > th);
}
