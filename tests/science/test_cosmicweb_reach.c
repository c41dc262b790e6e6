/* The cosmic-web reach aggregator (science.h "Reach"): the randoms-subtracted radius sums (a
 * uniform field gives ~zero contrast, a planted filament the expected eigenvalue ordering), the
 * eigenvalue invariants and their closed-form solver against Jacobi, gradients of every tensor
 * against finite differences, accumulation over minibatches == one batch (short last one
 * included), determinism across 1 / 2 threads, the model file's reach settings, and the rejected
 * inputs with their exact statuses. */
#include "cw_test_util.h"
#include "sci_test_util.h"
#include "sci_tests.h"

#include "ard/nn.h"
#include "ard/science.h"
#include "science_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SKIP_WITHOUT_BLAS()                                                                        \
    do {                                                                                           \
        if (!ard_nn_available()) {                                                                 \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* n galaxies uniform in volume in a cap of `deg` degrees around +x, comoving 500..800 Mpc. */
static double *uniform_cap(int64_t n, double deg, uint64_t seed) {
    double *xyz = malloc((size_t)n * 3 * sizeof *xyz);
    test_rng r = {seed};
    double cmax = cos(deg * M_PI / 180.0);
    for (int64_t i = 0; i < n; i++) {
        double ct = cmax + (1.0 - cmax) * test_rng_uniform(&r);
        double st = sqrt(1.0 - ct * ct), ph = 2.0 * M_PI * test_rng_uniform(&r);
        double u = test_rng_uniform(&r);
        double d =
            cbrt(500.0 * 500.0 * 500.0 + u * (800.0 * 800.0 * 800.0 - 500.0 * 500.0 * 500.0));
        xyz[3 * i] = d * ct;
        xyz[3 * i + 1] = d * st * cos(ph);
        xyz[3 * i + 2] = d * st * sin(ph);
    }
    return xyz;
}

/* The full symmetric tensor of bin b of a basis row, and its eigen-decomposition via the forward
 * pass of a one-channel layer whose profile selects that bin. */
static void bin_invariants(const float *row, int32_t bins, int32_t b, const double pos[3],
                           float out[CW_REACH_OUT]) {
    float p[2 * CW_REACH_BINS_MAX] = {0};
    p[b] = 1.0f;        /* the tensor of bin b */
    p[bins + b] = 1.0f; /* the monopole of bin b */
    ard__cw_reach_forward(p, 1, bins, row, pos, out, NULL);
}

/* A uniform field: the randoms remove the footprint's edge and the radial selection, so the
 * contrast monopole and tensor are ~0 everywhere, the edge galaxies included; a filament planted
 * along y (across the line of sight) gives the galaxy at its centre a positive contrast and a
 * tensor with one positive eigenvalue along the filament and two negative ones. */
static void test_reach_randoms(void **state) {
    (void)state;
    const int64_t n = 20000, nf = 600;
    const int32_t B = 4;
    const float R = 40.0f;
    double *xyz = uniform_cap(n, 5.0, 7);
    float *basis = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard__cw_reach_basis(xyz, n, B, R, 0, 4, 3, 0, n, NULL, &basis, &err), ARD_OK);
    /* the outer bins hold hundreds of galaxies: their contrast is ~0 on average and small each */
    for (int32_t b = 2; b < B; b++) {
        double mean = 0.0, tmean = 0.0, edge_t = 0.0, edge_raw = 0.0;
        int64_t edges = 0;
        for (int64_t i = 0; i < n; i++) {
            const float *row = basis + i * CW_RB(B);
            mean += row[b];
            double t2 = 0.0;
            for (int c = 0; c < 6; c++) {
                t2 += (double)row[B + 6 * b + c] * row[B + 6 * b + c];
            }
            tmean += sqrt(t2);
            const double *q = xyz + 3 * i;
            double ang = acos(q[0] / sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2])) * 180.0 / M_PI;
            if (ang > 4.2 && q[0] > 560 && q[0] < 740) { /* near the cap's rim, away from r cuts */
                edge_t += sqrt(t2);
                edges++;
            }
        }
        mean /= (double)n;
        tmean /= (double)n;
        edge_t /= (double)edges;
        (void)edge_raw;
        print_message("reach uniform field, bin %d: mean contrast %.4f, mean |M| %.4f (rim %.4f, "
                      "%lld rim galaxies)\n",
                      (int)b, mean, tmean, edge_t, (long long)edges);
        assert_true(edges > 100);
        assert_true(fabs(mean) < 0.03);
        /* without the randoms the rim's tensor would be that of a half-missing sphere, O(0.5) */
        assert_true(tmean < 0.15);
        assert_true(edge_t < 0.2);
    }
    free(basis);
    /* the same field with a filament along y through (650, 0, 0) */
    int64_t m = n + nf;
    double *both = malloc((size_t)m * 3 * sizeof *both);
    memcpy(both, xyz, (size_t)n * 3 * sizeof *both);
    test_rng r = {9};
    /* along (1, 1, 0) / sqrt 2: 45 degrees to the line of sight, so the filament spreads over 64
     * Mpc of distance (the randoms' radii come from the galaxies' own: a filament across the line
     * of sight at one distance would put its own galaxies' n(z) spike into them) */
    const double s2 = sqrt(0.5), dir[3] = {s2, s2, 0.0};
    for (int64_t j = 0; j < nf; j++) {
        double *q = both + 3 * (n + j), t = -45.0 + 90.0 * (double)j / (double)nf;
        q[0] = 650.0 + t * dir[0] + 0.5 * test_rng_normal(&r);
        q[1] = t * dir[1] + 0.5 * test_rng_normal(&r);
        q[2] = 0.5 * test_rng_normal(&r);
    }
    both[3 * (n + nf / 2)] = 650.0, both[3 * (n + nf / 2) + 1] = 0.0,
                       both[3 * (n + nf / 2) + 2] = 0;
    assert_int_equal(ard__cw_reach_basis(both, m, B, R, 0, 4, 3, 0, m, NULL, &basis, &err), ARD_OK);
    const float *row = basis + (n + nf / 2) * CW_RB(B);
    const double *pos = both + 3 * (n + nf / 2);
    for (int32_t b = 1; b < B; b++) {
        float inv[CW_REACH_OUT];
        bin_invariants(row, B, b, pos, inv);
        print_message("reach filament, bin %d: contrast %.3f, eigenvalues %.3f %.3f %.3f, los "
                      "%.3f\n",
                      (int)b, (double)inv[0], (double)inv[1], (double)inv[2], (double)inv[3],
                      (double)inv[4]);
        /* overdense; the outermost bin's excess is mostly cancelled by the randoms' n(z), which
         * the filament's own galaxies raise by ~14 % at its distances */
        assert_true(b == B - 1 || inv[0] > 0.05);
        assert_true(inv[1] > 0.3);                                 /* one positive eigenvalue */
        assert_true(inv[2] < 0.0 && inv[3] < 0.0);                 /* ... two negative ones */
        assert_true(inv[1] > 4.0 * fabs((double)inv[2] - inv[3])); /* axisymmetric-ish */
        /* its eigenvector is the filament's direction: dir^T M dir ~ the largest eigenvalue */
        const float *mb = row + B + 6 * b;
        double along =
            mb[0] * dir[0] * dir[0] + mb[1] * dir[1] * dir[1] + 2.0 * mb[3] * dir[0] * dir[1];
        assert_true(along > 0.9 * inv[1]);
        /* l = x at 45 degrees: l^T M l = lambda1 cos^2 45 + lambda2,3 sin^2 45 ~ lambda1 / 4 */
        assert_true(inv[4] > 0.1 * inv[1] && inv[4] < 0.5 * inv[1]);
    }
    free(basis);
    free(both);
    free(xyz);
}

/* The forward pass against a hand-built basis: bins' tensors combine linearly, eigenvalues come
 * out sorted, and the line-of-sight component is l^T T l. */
static void test_reach_invariants(void **state) {
    (void)state;
    const int32_t B = 2;
    float row[CW_RB(2)] = {0};
    row[0] = 0.5f, row[1] = -1.0f; /* D_0, D_1 */
    /* M_0 = diag(2, -1, -1) (a line along x); M_1 = diag(-1, 2, -1) (along y) */
    float *m0 = row + B, *m1 = row + B + 6;
    m0[0] = 2, m0[1] = -1, m0[2] = -1;
    m1[0] = -1, m1[1] = 2, m1[2] = -1;
    float p[2 * 2 * 2] = {1.0f, 0.5f,  2.0f, 1.0f, /* channel 0: a = (1, .5), c = (2, 1) */
                          0.0f, -1.0f, 0.0f, 3.0f};
    const double pos[3] = {0.0, 0.0, 100.0}; /* line of sight z */
    float out[2 * CW_REACH_OUT];
    ard__cw_reach_forward(p, 2, B, row, pos, out, NULL);
    /* channel 0: T = diag(2 - .5, -1 + 1, -1 - .5) = diag(1.5, 0, -1.5); d = 2 .5 - 1 = 0 */
    assert_float_equal(out[0], 0.0, 1e-6);
    assert_float_equal(out[1], 1.5, 1e-5);
    assert_float_equal(out[2], 0.0, 1e-5);
    assert_float_equal(out[3], -1.5, 1e-5);
    assert_float_equal(out[4], -1.5, 1e-5);
    /* channel 1: T = -M_1 = diag(1, -2, 1); d = -3 */
    assert_float_equal(out[5], -3.0, 1e-6);
    assert_float_equal(out[6], 1.0, 1e-5);
    assert_float_equal(out[7], 1.0, 1e-5);
    assert_float_equal(out[8], -2.0, 1e-5);
    assert_float_equal(out[9], 1.0, 1e-5);
    /* a rotated tensor: off-diagonal xy = 1 on M_0 only -> eigenvalues of [[2,1],[1,-1]] and -1 */
    m0[3] = 1.0f;
    float q[4] = {1.0f, 0.0f, 0.0f, 0.0f};
    ard__cw_reach_forward(q, 1, B, row, pos, out, NULL);
    double disc = sqrt(2.25 + 1.0);
    assert_true(fabs(out[1] - (0.5 + disc)) < 1e-5);
    assert_float_equal(out[2], -1.0, 1e-5);
    assert_true(fabs(out[3] - (0.5 - disc)) < 1e-5);
}

/* ---- the closed-form 3 x 3 eigen-solver (sym3_eigen.c) against cyclic Jacobi ---- */

/* The reference: cyclic Jacobi, the reach layer's solver before the closed form (t packed xx, yy,
 * zz, xy, xz, yz; eigenvalues descending into w, eigenvectors as the columns of v). It converges
 * to rounding for any finite t whose squares do not underflow. */
static void jacobi_eigen3(const double t[6], double w[3], double v[9]) {
    double a[3][3] = {{t[0], t[3], t[4]}, {t[3], t[1], t[5]}, {t[4], t[5], t[2]}};
    double q[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
        double diag = a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2];
        if (off <= 1e-30 * (diag + 1e-300)) {
            break;
        }
        for (int p = 0; p < 2; p++) {
            for (int r = p + 1; r < 3; r++) {
                if (a[p][r] == 0.0) {
                    continue;
                }
                double theta = (a[r][r] - a[p][p]) / (2.0 * a[p][r]);
                double tt = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(tt * tt + 1.0), s = tt * c;
                for (int k = 0; k < 3; k++) { /* A <- A J (columns p, r) */
                    double akp = a[k][p], akr = a[k][r];
                    a[k][p] = c * akp - s * akr;
                    a[k][r] = s * akp + c * akr;
                }
                for (int k = 0; k < 3; k++) { /* A <- J^T A (rows p, r) */
                    double apk = a[p][k], ark = a[r][k];
                    a[p][k] = c * apk - s * ark;
                    a[r][k] = s * apk + c * ark;
                }
                for (int k = 0; k < 3; k++) {
                    double qkp = q[k][p], qkr = q[k][r];
                    q[k][p] = c * qkp - s * qkr;
                    q[k][r] = s * qkp + c * qkr;
                }
            }
        }
    }
    int order[3] = {0, 1, 2};
    for (int i = 0; i < 3; i++) {
        for (int j = i + 1; j < 3; j++) {
            if (a[order[j]][order[j]] > a[order[i]][order[i]]) {
                int tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
        }
    }
    for (int i = 0; i < 3; i++) {
        w[i] = a[order[i]][order[i]];
        for (int k = 0; k < 3; k++) {
            v[k * 3 + i] = q[k][order[i]];
        }
    }
}

/* t = Q diag(lam) Q^T, Q the rotation of the (normalised) quaternion q. */
static void rotated(const double lam[3], const double q[4], double t[6]) {
    double n = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    double a = q[0] / n, b = q[1] / n, c = q[2] / n, d = q[3] / n;
    double r[3][3] = {{a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)},
                      {2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)},
                      {2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d}};
    static const int ia[6] = {0, 1, 2, 0, 0, 1}, ib[6] = {0, 1, 2, 1, 2, 2};
    for (int c6 = 0; c6 < 6; c6++) {
        t[c6] = 0.0;
        for (int k = 0; k < 3; k++) {
            t[c6] += r[ia[c6]][k] * lam[k] * r[ib[c6]][k];
        }
    }
}

/* The closed form on t * factor (factor a power of 2: exact) against Jacobi on t: eigenvalues
 * descending and within 1e-12 of Jacobi's (relative to t's largest entry), A v_i = w_i v_i and
 * V^T V = I to 1e-12, and the projector onto each cluster of eigenvalues (gaps below 1e-6 inside)
 * equal to Jacobi's to 1e-8. */
static void check_eigen(const double t[6], double factor) {
    double ts[6], w[3], v[9], jw[3], jv[9], scale = 0.0;
    for (int c = 0; c < 6; c++) {
        ts[c] = t[c] * factor;
        scale = fmax(scale, fabs(t[c]));
    }
    ard__sci_sym3_eigen(ts, w, v);
    jacobi_eigen3(t, jw, jv);
    assert_true(scale > 0.0);
    double full[3][3] = {{t[0], t[3], t[4]}, {t[3], t[1], t[5]}, {t[4], t[5], t[2]}};
    for (int i = 0; i < 3; i++) {
        w[i] /= factor;
        assert_true(i == 0 || w[i] <= w[i - 1]);
        assert_true(fabs(w[i] - jw[i]) <= 1e-12 * scale);
        for (int k = 0; k < 3; k++) {
            double av = full[k][0] * v[i] + full[k][1] * v[3 + i] + full[k][2] * v[6 + i];
            assert_true(fabs(av - w[i] * v[k * 3 + i]) <= 1e-12 * scale);
        }
        for (int j = 0; j < 3; j++) {
            double g = v[i] * v[j] + v[3 + i] * v[3 + j] + v[6 + i] * v[6 + j];
            assert_true(fabs(g - (i == j ? 1.0 : 0.0)) <= 1e-12);
        }
    }
    for (int lo = 0; lo < 3;) {
        int hi = lo + 1;
        while (hi < 3 && jw[hi - 1] - jw[hi] < 1e-6 * scale) {
            hi++;
        }
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                double p = 0.0, jp = 0.0;
                for (int i = lo; i < hi; i++) {
                    p += v[a * 3 + i] * v[b * 3 + i];
                    jp += jv[a * 3 + i] * jv[b * 3 + i];
                }
                assert_true(fabs(p - jp) <= 1e-8);
            }
        }
        lo = hi;
    }
}

/* Adversarial matrices: zero, multiples of I, diagonal (unsorted, repeated), an exactly repeated
 * pair rotated, near-degenerate pairs down to 1e-14 apart, a rank-one, scales 2^+-700 and 2^-1000
 * (where Jacobi's own squares underflow), and thousands of random traceless tensors and rotated
 * spectra with clustered eigenvalues; non-finite input gives NaN eigenvalues. */
static void test_reach_eigen_closed_form(void **state) {
    (void)state;
    double w[3], v[9];
    const double zero[6] = {0, 0, 0, 0, 0, 0}, seven[6] = {7, 7, 7, 0, 0, 0};
    ard__sci_sym3_eigen(zero, w, v);
    for (int i = 0; i < 3; i++) {
        assert_true(w[i] == 0.0);
    }
    ard__sci_sym3_eigen(seven, w, v);
    for (int k = 0; k < 9; k++) {
        assert_true(v[k] == (k % 4 == 0 ? 1.0 : 0.0));
        assert_true(k >= 3 || w[k] == 7.0);
    }
    const double q[4] = {0.9, -0.3, 0.2, 0.4}, q2[4] = {0.1, 0.7, -0.6, 0.3};
    static const double spectra[][3] = {
        {1, 1, -2},         {2, -1, -1},           {3, 0, -3},        {1, 1 + 1e-9, -2},
        {1, 1 + 1e-14, -2}, {-2, 1, 1 - 1e-13},    {5, 5 + 1e-11, 5}, {1, 0, 0},
        {1e-3, 1, 1e3},     {2.5, 2.5, 2.5 + 1e-7}};
    for (size_t s = 0; s < sizeof spectra / sizeof spectra[0]; s++) {
        double t[6];
        rotated(spectra[s], s % 2 ? q : q2, t);
        check_eigen(t, 1.0);
        check_eigen(t, 0x1p+700);
        check_eigen(t, 0x1p-700);
        check_eigen(t, 0x1p-1000);
    }
    const double diag[][6] = {{-1, 3, 2, 0, 0, 0}, {2, 2, -1, 0, 0, 0}, {0, 0, 5, 0, 0, 0},
                              {0, 0, 0, 1, 0, 0},  {0, 0, 0, 0, 0, -1}, {1, 2, 3, 0, 1e-20, 0}};
    for (size_t s = 0; s < sizeof diag / sizeof diag[0]; s++) {
        check_eigen(diag[s], 1.0);
    }
    test_rng r = {17};
    for (int trial = 0; trial < 4000; trial++) {
        double t[6];
        if (trial % 2) { /* a traceless tensor of the layer's kind */
            for (int c = 0; c < 6; c++) {
                t[c] = test_rng_normal(&r);
            }
            double tr = (t[0] + t[1] + t[2]) / 3.0;
            t[0] -= tr, t[1] -= tr, t[2] -= tr;
        } else { /* a rotated spectrum whose pair sits 10^-(0..15) apart */
            double lam[3] = {test_rng_normal(&r), 0.0, test_rng_normal(&r)};
            lam[1] = lam[0] + pow(10.0, -(double)(trial % 32) / 2.0) * test_rng_uniform(&r);
            double qr[4] = {test_rng_normal(&r), test_rng_normal(&r), test_rng_normal(&r),
                            test_rng_normal(&r)};
            rotated(lam, qr, t);
        }
        check_eigen(t, trial % 3 == 0 ? 1.0 : (trial % 3 == 1 ? 0x1p+600 : 0x1p-900));
    }
    const double nan6[6] = {1, NAN, 0, 0, 0, 0}, inf6[6] = {1, 0, 0, INFINITY, 0, 0};
    ard__sci_sym3_eigen(nan6, w, v);
    assert_true(isnan(w[0]) && isnan(w[1]) && isnan(w[2]));
    ard__sci_sym3_eigen(inf6, w, v);
    assert_true(isnan(w[0]) && isnan(w[1]) && isnan(w[2]));
}

/* ---- gradients and accumulation on the synthetic web of test_cosmicweb.c's kind ---- */

typedef struct reach_fixture {
    int64_t n;
    double *xyz, *z;
    int32_t *cls, *label;
    cw_graph g;
    float *features, *basis;
    float class_weight[4];
    cw_sampler s;
    ard_cosmicweb_model *m;
} reach_fixture;

static void reach_open(reach_fixture *f, int64_t n, int32_t hidden, int32_t geo, int32_t fanout) {
    memset(f, 0, sizeof *f);
    f->n = n;
    f->xyz = uniform_cap(n, 3.0, 5);
    f->z = malloc((size_t)n * sizeof *f->z);
    f->cls = malloc((size_t)n * sizeof *f->cls);
    f->label = malloc((size_t)n * sizeof *f->label);
    test_rng r = {4};
    for (int64_t i = 0; i < n; i++) {
        f->z[i] = f->xyz[3 * i] / 4300.0;
        f->cls[i] = (int32_t)(test_rng_next(&r) % 4);
        f->label[i] = (int32_t)(test_rng_next(&r) % 4);
    }
    ard_cosmicweb_input in = {n, f->xyz, f->z, f->cls, f->label, NULL, 0, NULL, NULL};
    assert_int_equal(ard__cw_graph_build(f->xyz, n, 16, NULL, &f->g, NULL), ARD_OK);
    assert_int_equal(ard__cw_features(&f->g, &in, &f->features, NULL), ARD_OK);
    ard_cosmicweb_options o;
    ard_cosmicweb_options_init(&o);
    o.reach = 3;
    o.reach_bins = 4;
    o.reach_mpc = 30.0f;
    o.reach_fanout = fanout;
    o.reach_randoms = 2;
    assert_int_equal(ard__cw_model_new(16, hidden, geo, 0, 5, 3, 4, &o, &f->m, NULL), ARD_OK);
    assert_int_equal(f->m->w1->shape[1], 2 * CW_F + 3 * geo + CW_REACH_OUT * 3);
    assert_int_equal(
        ard__cw_reach_basis(f->xyz, n, 4, 30.0f, fanout, 2, 4, 0, n, NULL, &f->basis, NULL),
        ARD_OK);
    int64_t *all = malloc((size_t)n * sizeof *all);
    for (int64_t i = 0; i < n; i++) {
        all[i] = i;
    }
    ard__cw_reach_fit_scale(f->basis, 4, all, n, f->m->rscale->value);
    ard__cw_reach_normalise(f->basis, 4, n, f->m->rscale->value);
    free(all);
    f->g.reach = f->basis;
    cwt_prepare(f->m, &f->g, f->features, n, CW_F, f->label, f->class_weight, &f->s);
}

static void reach_close(reach_fixture *f) {
    ard_cosmicweb_model_free(f->m);
    free(f->features), free(f->basis), free(f->xyz), free(f->z), free(f->cls), free(f->label);
    ard__cw_graph_reset(&f->g);
}

static void check_reach_gradients(int32_t geo) {
    reach_fixture f;
    reach_open(&f, 1500, 6, geo, 64);
    cw_batch b;
    memset(&b, 0, sizeof b);
    cw_work work;
    memset(&work, 0, sizeof work);
    cwt_kinkless_batch(&f.s, f.m, f.n, 6, &b, &work);
    assert_true(b.reach == f.basis);
    ard_nn_tensor *ts[7] = {f.m->pr, f.m->w1, f.m->b1, f.m->w2, f.m->b2, f.m->p1, f.m->p2};
    cwt_check_gradients(f.m, &b, &work, ts, geo > 0 ? 7 : 5);
    ard__cw_batch_reset(&b);
    ard__cw_work_reset(&work);
    reach_close(&f);
}

/* Every tensor, the reach profiles included, against central finite differences; with and without
 * the geometric aggregator. */
static void test_reach_gradients(void **state) {
    (void)state;
    SKIP_WITHOUT_BLAS();
    check_reach_gradients(0);
    check_reach_gradients(2);
}

/* Gradients of 29 seeds at once == the same seeds in minibatches of 8, 8, 8 and 5, each scaled by
 * 1 / (total weight). */
static void test_reach_accumulation(void **state) {
    (void)state;
    SKIP_WITHOUT_BLAS();
    reach_fixture f;
    reach_open(&f, 1500, 8, 0, 0);
    const int32_t total = 29, per = 8;
    int64_t seeds[29];
    double weight = 0.0;
    for (int i = 0; i < total; i++) {
        seeds[i] = (i * 97 + 13) % f.n;
        weight += f.class_weight[f.label[seeds[i]]];
    }
    float scale = (float)(1.0 / weight);
    cw_batch b;
    memset(&b, 0, sizeof b);
    cw_work work;
    memset(&work, 0, sizeof work);
    double norm = 0.0, rnorm = 0.0;
    float *one = cwt_check_accumulation(f.m, &f.s, seeds, total, per, scale, &b, &work, &norm);
    for (int64_t i = 0; i < f.m->pr->count; i++) {
        rnorm = fmax(rnorm, fabs(f.m->pr->grad[i]));
    }
    assert_true(rnorm > 1e-6); /* the reach profiles take part */
    free(one);
    ard__cw_batch_reset(&b);
    ard__cw_work_reset(&work);
    reach_close(&f);
}

/* The basis is bit-identical on 1 and 2 threads (sampled fan-out included), and training with
 * reach too; the model file keeps the settings and predict reproduces; bad settings. */
static void test_reach_train_deterministic(void **state) {
    (void)state;
    SKIP_WITHOUT_BLAS();
    const int64_t n = 4000;
    double *xyz = uniform_cap(n, 3.0, 21);
    float *b1 = NULL, *b2 = NULL;
    ard_pool *p1 = NULL, *p2 = NULL;
    assert_int_equal(ard_pool_new(1, &p1, NULL), ARD_OK);
    assert_int_equal(ard_pool_new(2, &p2, NULL), ARD_OK);
    assert_int_equal(ard__cw_reach_basis(xyz, n, 6, 30.0f, 32, 2, 8, 0, n, p1, &b1, NULL), ARD_OK);
    assert_int_equal(ard__cw_reach_basis(xyz, n, 6, 30.0f, 32, 2, 8, 0, n, p2, &b2, NULL), ARD_OK);
    assert_memory_equal(b1, b2, (size_t)n * CW_RB(6) * sizeof *b1);
    free(b2);
    /* rows: a share computes only its rows, identical to the full run's */
    assert_int_equal(ard__cw_reach_basis(xyz, n, 6, 30.0f, 32, 2, 8, 1000, 2000, p2, &b2, NULL),
                     ARD_OK);
    assert_memory_equal(b1 + 1000 * CW_RB(6), b2 + 1000 * CW_RB(6),
                        (size_t)1000 * CW_RB(6) * sizeof *b1);
    assert_float_equal(b2[0], 0.0, 0.0);
    free(b1), free(b2);
    ard_pool_free(p1);
    ard_pool_free(p2);
    /* train with reach on 1 and 2 threads: the same weights */
    double *z = malloc((size_t)n * sizeof *z);
    int32_t *label = malloc((size_t)n * sizeof *label), *split = malloc((size_t)n * sizeof *split);
    for (int64_t i = 0; i < n; i++) {
        z[i] = xyz[3 * i] / 4300.0;
        label[i] = (int32_t)(i % 4);
        split[i] = i % 5 == 0 ? 2 : 0;
    }
    ard_cosmicweb_input in = {n, xyz, z, NULL, label, split, 0, NULL, NULL};
    ard_cosmicweb_options o;
    ard_cosmicweb_options_init(&o);
    o.k = 16, o.fanout1 = 5, o.fanout2 = 3, o.hidden = 8, o.accum = 4, o.epochs = 1, o.queue = 4;
    o.reach = 2, o.reach_bins = 4, o.reach_mpc = 25.0f, o.reach_fanout = 64;
    ard_cosmicweb_model *m1 = NULL, *m2 = NULL, *m3 = NULL;
    ard_error err;
    ard_error_init(&err);
    o.threads = 1;
    ard_cosmicweb_report r1;
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m1, &r1, &err), ARD_OK);
    o.threads = 2;
    assert_int_equal(ard_cosmicweb_train(&in, &o, &m2, NULL, &err), ARD_OK);
    for (int64_t i = 0; i < ard_nn_params_count(m1->params); i++) {
        ard_nn_tensor *a = ard_nn_params_at(m1->params, i), *b = ard_nn_params_at(m2->params, i);
        assert_memory_equal(a->value, b->value, (size_t)a->count * sizeof(float));
    }
    assert_non_null(m1->pr);
    assert_true(m1->rscale->value[0] != 1.0f); /* fitted on the training galaxies */
    float *q1 = malloc((size_t)n * 4 * sizeof *q1), *q2 = malloc((size_t)n * 4 * sizeof *q2);
    assert_int_equal(ard_cosmicweb_predict(m1, &in, 1, NULL, q1, NULL), ARD_OK);
    /* predict computes the invariants block by block (no basis array); training's evaluation
     * used the basis: the same test confusion */
    int64_t conf[4][4];
    memset(conf, 0, sizeof conf);
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < 4; c++) {
            best = q1[4 * i + c] > q1[4 * i + best] ? c : best;
        }
        if (split[i] == 2 && label[i] >= 0) {
            conf[label[i]][best]++;
        }
    }
    assert_memory_equal(conf, r1.test_confusion, sizeof conf);
    char path[] = "/tmp/ard_cw_reach_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ard_cosmicweb_model_save(m1, path, &err), ARD_OK);
    assert_int_equal(ard_cosmicweb_model_load(path, &m3, &err), ARD_OK);
    assert_int_equal(m3->reach, 2);
    assert_int_equal(m3->reach_bins, 4);
    assert_int_equal(m3->reach_fanout, 64);
    assert_float_equal(m3->reach_mpc, 25.0, 0.0);
    assert_int_equal(ard_cosmicweb_predict(m3, &in, 2, NULL, q2, NULL), ARD_OK);
    assert_memory_equal(q1, q2, (size_t)n * 4 * sizeof *q1);
    /* damaged reach settings in the file */
    ard_nn_params_set_meta(m3->params, "reach", "2,4,-1,64,2,1", NULL);
    assert_int_equal(ard_nn_save_safetensors(m3->params, path, NULL), ARD_OK);
    ard_cosmicweb_model *m4 = NULL;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_model_load(path, &m4, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "bad reach settings"));
    assert_null(m4);
    /* reach settings on a file without the reach tensors */
    ard_cosmicweb_model *plain = NULL;
    assert_int_equal(ard__cw_model_new(16, 8, 0, 0, 5, 3, 1, NULL, &plain, NULL), ARD_OK);
    ard_nn_params_set_meta(plain->params, "reach", "2,4,25,64,2,1", NULL);
    assert_int_equal(ard_nn_save_safetensors(plain->params, path, NULL), ARD_OK);
    assert_int_equal(ard_cosmicweb_model_load(path, &m4, NULL), ARD_EINVAL);
    assert_null(m4);
    unlink(path);
    ard_cosmicweb_model_free(plain);
    /* bad options: exact statuses */
    ard_cosmicweb_model *bad = NULL;
    ard_cosmicweb_options b = o;
    b.reach_mpc = 0.0f;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "reach options out of range"));
    b = o, b.reach_mpc = -5.0f;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_EINVAL);
    b = o, b.reach_mpc = NAN;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_EINVAL);
    b = o, b.reach_bins = 1;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_EINVAL);
    b = o, b.reach_bins = CW_REACH_BINS_MAX + 1;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_EINVAL);
    b = o, b.reach_fanout = 15;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_EINVAL);
    b = o, b.reach_fanout = -1;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_EINVAL);
    b = o, b.reach_randoms = 0;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_EINVAL);
    b = o, b.reach = -1;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_EINVAL);
    b = o, b.reach = CW_REACH_CHANNELS_MAX + 1;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_EINVAL);
    b = o, b.reach = 0, b.reach_mpc = 0.0f; /* off: the other settings do not matter */
    b.epochs = 0;
    assert_int_equal(ard_cosmicweb_train(&in, &b, &bad, NULL, NULL), ARD_OK);
    ard_cosmicweb_model_free(bad);
    bad = NULL;
    assert_null(bad);
    /* a galaxy at the observer has no direction */
    double keep[3];
    memcpy(keep, xyz + 3 * 17, sizeof keep);
    xyz[3 * 17] = xyz[3 * 17 + 1] = xyz[3 * 17 + 2] = 0.0;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_train(&in, &o, &bad, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "galaxy 17"));
    assert_int_equal(ard_cosmicweb_predict(m1, &in, 1, NULL, q2, NULL), ARD_EINVAL);
    memcpy(xyz + 3 * 17, keep, sizeof keep);
    /* bad rows */
    float *none = NULL;
    assert_int_equal(ard__cw_reach_basis(xyz, n, 4, 25.0f, 0, 2, 1, 10, 5, NULL, &none, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard__cw_reach_basis(xyz, n, 4, 25.0f, 0, 2, 1, 0, n + 1, NULL, &none, NULL),
                     ARD_EINVAL);
    assert_null(none);
    free(q1), free(q2);
    ard_cosmicweb_model_free(m1);
    ard_cosmicweb_model_free(m2);
    ard_cosmicweb_model_free(m3);
    free(z), free(label), free(split), free(xyz);
}

int sci_run_cosmicweb_reach_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reach_invariants),
        cmocka_unit_test(test_reach_randoms),
        cmocka_unit_test(test_reach_gradients),
        cmocka_unit_test(test_reach_accumulation),
        cmocka_unit_test(test_reach_train_deterministic),
        cmocka_unit_test(test_reach_eigen_closed_form),
    };
    return cmocka_run_group_tests_name("cosmicweb_reach", tests, NULL, NULL);
}
