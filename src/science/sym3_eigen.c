/* Eigen-decomposition of a symmetric 3 x 3 matrix in closed form (no iteration), for the reach
 * aggregator's per-node tensors (forward: eigenvalues, backward: eigenvectors), where cyclic Jacobi
 * cost most of a training step.
 *
 * Why not the plain trigonometric formula alone: its two eigenvalues nearest each other lose half
 * their digits when they nearly coincide (acos near +-1), and eigenvectors from cross products of
 * (A - lambda I)'s rows are noise for a nearly repeated eigenvalue. So:
 *   1. the deviator B = (A - tr(A)/3 I) / s, s its largest |entry| (scale-free; all equal: done);
 *   2. the eigenvalue of B farthest from the other two (the largest when det B >= 0, else the
 *      smallest) by the trigonometric formula: B is traceless with |entries| <= 1 and one of them
 *      1, so this gap is >= 0.6, and the eigenvector u from the largest cross product of two rows
 *      of B - beta I is accurate to rounding;
 *   3. the other two from the 2 x 2 restriction of B to the plane orthogonal to u, solved as a
 *      rotation (exact for a repeated pair: any orthonormal pair of that plane is returned).
 * The result depends on the input alone (no state), so it is identical on any thread. */
#include "science_int.h"

#include <math.h>

static void cross(const double a[3], const double b[3], double c[3]) {
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

static double dot(const double a[3], const double b[3]) {
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* x^T B y for B given as its rows. */
static double form(const double b[3][3], const double x[3], const double y[3]) {
    double by[3] = {dot(b[0], y), dot(b[1], y), dot(b[2], y)};
    return dot(x, by);
}

/* The unit eigenvector of the simple eigenvalue beta of b: the largest cross product of two rows
 * of b - beta I (each is a multiple of it). */
static void simple_vector(const double b[3][3], double beta, double u[3]) {
    double r[3][3], c[3][3], best = -1.0;
    int pick = 0;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            r[i][j] = b[i][j] - (i == j ? beta : 0.0);
        }
    }
    cross(r[0], r[1], c[0]);
    cross(r[0], r[2], c[1]);
    cross(r[1], r[2], c[2]);
    for (int k = 0; k < 3; k++) {
        double n2 = dot(c[k], c[k]);
        if (n2 > best) {
            best = n2;
            pick = k;
        }
    }
    double inv = 1.0 / sqrt(best);
    for (int d = 0; d < 3; d++) {
        u[d] = c[pick][d] * inv;
    }
}

/* An orthonormal pair (x, y) spanning the plane orthogonal to the unit vector u. */
static void plane(const double u[3], double x[3], double y[3]) {
    int k = 0; /* the axis least aligned with u */
    for (int d = 1; d < 3; d++) {
        if (fabs(u[d]) < fabs(u[k])) {
            k = d;
        }
    }
    double e[3] = {0.0, 0.0, 0.0};
    e[k] = 1.0;
    cross(u, e, x);
    double inv = 1.0 / sqrt(dot(x, x));
    for (int d = 0; d < 3; d++) {
        x[d] *= inv;
    }
    cross(u, x, y);
}

/* Eigen-pairs of b restricted to the plane (x, y): larger mu[0] along p, smaller mu[1] along q. */
static void plane_pairs(const double b[3][3], const double x[3], const double y[3], double mu[2],
                        double p[3], double q[3]) {
    double a = form(b, x, x), c = form(b, y, y), off = form(b, x, y);
    double half = 0.5 * (a - c), rad = sqrt(half * half + off * off), mid = 0.5 * (a + c);
    mu[0] = mid + rad;
    mu[1] = mid - rad;
    /* the rotation by theta, tan 2 theta = off / half, without cancellation in cos or sin */
    double cs = 1.0, sn = 0.0;
    if (rad > 0.0) {
        double c2 = half / rad, s2 = off / rad;
        if (c2 >= 0.0) {
            cs = sqrt(0.5 * (1.0 + c2));
            sn = s2 / (2.0 * cs);
        } else {
            sn = copysign(sqrt(0.5 * (1.0 - c2)), s2);
            cs = s2 / (2.0 * sn);
        }
    }
    for (int d = 0; d < 3; d++) {
        p[d] = cs * x[d] + sn * y[d];
        q[d] = -sn * x[d] + cs * y[d];
    }
}

static void swap_pair(double w[3], double v[9], int i, int j) {
    double t = w[i];
    w[i] = w[j];
    w[j] = t;
    for (int k = 0; k < 3; k++) {
        t = v[k * 3 + i];
        v[k * 3 + i] = v[k * 3 + j];
        v[k * 3 + j] = t;
    }
}

void ard__sci_sym3_eigen(const double t[6], double w[3], double v[9]) {
    double mean = t[0] / 3.0 + t[1] / 3.0 + t[2] / 3.0;
    double dev[6] = {t[0] - mean, t[1] - mean, t[2] - mean, t[3], t[4], t[5]};
    double s = 0.0, sum = 0.0;
    for (int c = 0; c < 6; c++) {
        s = fabs(dev[c]) > s ? fabs(dev[c]) : s;
        sum += fabs(dev[c]);
    }
    for (int k = 0; k < 9; k++) {
        v[k] = k % 4 == 0 ? 1.0 : 0.0;
    }
    if (!(s > 0.0) || !isfinite(sum)) { /* a multiple of I (or not finite: NaN out) */
        double same = isfinite(sum) ? mean : NAN;
        w[0] = w[1] = w[2] = same;
        return;
    }
    for (int c = 0; c < 6; c++) {
        dev[c] /= s; /* not * (1 / s): 1 / s overflows for a subnormal s */
    }
    double b[3][3] = {{dev[0], dev[3], dev[4]}, {dev[3], dev[1], dev[5]}, {dev[4], dev[5], dev[2]}};
    double p2 = b[0][0] * b[0][0] + b[1][1] * b[1][1] + b[2][2] * b[2][2] +
                2.0 * (b[0][1] * b[0][1] + b[0][2] * b[0][2] + b[1][2] * b[1][2]);
    double p = sqrt(p2 / 6.0); /* >= 1 / sqrt(6): one entry is +-1 */
    double det = b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[1][2]) -
                 b[0][1] * (b[0][1] * b[2][2] - b[1][2] * b[0][2]) +
                 b[0][2] * (b[0][1] * b[1][2] - b[1][1] * b[0][2]);
    double r = det / (2.0 * p * p * p);
    r = r < -1.0 ? -1.0 : (r > 1.0 ? 1.0 : r);
    double phi = acos(r) / 3.0;
    int top = r >= 0.0; /* the largest eigenvalue is the separated one, else the smallest */
    double beta = 2.0 * p * cos(top ? phi : phi + 2.0 * M_PI / 3.0);
    double u[3], x[3], y[3], mu[2], e1[3], e2[3];
    simple_vector(b, beta, u);
    plane(u, x, y);
    plane_pairs(b, x, y, mu, e1, e2);
    double lam[3] = {top ? form(b, u, u) : mu[0], top ? mu[0] : mu[1], top ? mu[1] : form(b, u, u)};
    const double *vec[3] = {top ? u : e1, top ? e1 : e2, top ? e2 : u};
    for (int i = 0; i < 3; i++) {
        w[i] = mean + s * lam[i];
        for (int k = 0; k < 3; k++) {
            v[k * 3 + i] = vec[i][k];
        }
    }
    /* rounding could only swap a near tie of the plane's pair: keep the order descending */
    if (w[1] > w[0]) {
        swap_pair(w, v, 0, 1);
    }
    if (w[2] > w[1]) {
        swap_pair(w, v, 1, 2);
    }
    if (w[1] > w[0]) {
        swap_pair(w, v, 0, 1);
    }
}
