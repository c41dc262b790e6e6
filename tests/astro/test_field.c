/* The linear power spectrum, growth, Gaussian random field, Zel'dovich displacements, P(k)
 * estimator and grid T-web. Expected values come from closed forms or from code in this file (a
 * naive DFT, mode sums of the input spectrum), never from the functions under test. */
#include "astro_test.h"

#include <complex.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- power spectrum and growth ---- */

static void test_power_spectrum(void **state) {
    (void)state;
    ard_power *p = NULL, *nw = NULL;
    assert_int_equal(ard_power_new(NULL, &p, NULL), ARD_OK);
    as_assert_near(ard_power_sigma(p, 8.0), 0.81, 1e-6);
    as_assert_near(ard_power_transfer(p, 1e-5), 1.0, 1e-3);
    ard_power_params pp;
    ard_power_params_planck18(&pp);
    as_assert_near(pp.omega_b * pp.h * pp.h, 0.02242, 1e-9);
    pp.wiggles = 0;
    assert_int_equal(ard_power_new(&pp, &nw, NULL), ARD_OK);
    as_assert_near(ard_power_sigma(nw, 8.0), 0.81, 1e-6);
    /* the BAO: P / P_nowiggle oscillates around 1 by a few per cent between k = 0.02 and 0.4
     * h/Mpc (several sign changes), and the two agree to 10% everywhere */
    int crossings = 0;
    double prev = 0.0, maxdev = 0.0;
    for (double k = 0.02; k < 0.4; k += 0.0005) {
        double r = ard_power_linear(p, k) / ard_power_linear(nw, k) - 1.0;
        crossings += prev * r < 0.0;
        prev = r;
        maxdev = fmax(maxdev, fabs(r));
    }
    assert_true(crossings >= 4);
    assert_true(maxdev > 0.02 && maxdev < 0.1);
    /* the turnover near k_eq ~ 0.015-0.02 h/Mpc; P falls as ~k^-2.5 or steeper at k = 1 */
    assert_true(ard_power_linear(p, 0.017) > ard_power_linear(p, 0.005));
    assert_true(ard_power_linear(p, 0.017) > ard_power_linear(p, 0.06));
    double slope = log(ard_power_linear(nw, 2.0) / ard_power_linear(nw, 1.0)) / log(2.0);
    assert_true(slope < -2.0 && slope > -3.0);
    ard_power_free(p);
    ard_power_free(nw);
}

static void test_growth(void **state) {
    (void)state;
    /* Einstein-de Sitter: D = a exactly, f = 1 */
    for (double z = 0.0; z < 5.0; z += 0.7) {
        as_assert_near(ard_growth_factor(1.0, z), 1.0 / (1.0 + z), 1e-7);
        as_assert_near(ard_growth_rate(1.0, z), 1.0, 1e-6);
    }
    /* LambdaCDM: f ~ Om(z)^0.55 (Linder 2005, ~0.5% accurate), D(0) = 1, D decreasing */
    double om = 0.3111;
    as_assert_near(ard_growth_factor(om, 0.0), 1.0, 1e-12);
    for (double z = 0.0; z < 3.0; z += 0.5) {
        double e2 = om * pow(1 + z, 3) + 1 - om, omz = om * pow(1 + z, 3) / e2;
        assert_true(fabs(ard_growth_rate(om, z) / pow(omz, 0.55) - 1.0) < 0.01);
        assert_true(ard_growth_factor(om, z + 0.5) < ard_growth_factor(om, z));
    }
    /* D(z=1) for Om = 0.31 is ~0.61 of today (Carroll, Press & Turner 1992 fit: 0.612) */
    as_assert_near(ard_growth_factor(om, 1.0), 0.61, 0.01);
    assert_true(isnan(ard_growth_factor(0.0, 1.0)));
    assert_true(isnan(ard_growth_rate(0.3, -1.0)));
}

/* ---- the field ---- */

static ard_field *make_field(int32_t n, double box, uint64_t seed, int32_t threads) {
    ard_field_options o;
    ard_field_options_init(&o);
    o.n = n;
    o.box = box;
    o.seed = seed;
    o.threads = threads;
    ard_field *f = NULL;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_field_new(&o, &f, &err);
    if (st == ARD_ENOTSUP) {
        return NULL;
    }
    assert_int_equal(st, ARD_OK);
    return f;
}

#define SKIP_WITHOUT_FFTW(f)                                                                       \
    if (!(f)) {                                                                                    \
        printf("SKIPPED: ard built without FFTW\n");                                               \
        skip();                                                                                    \
    }

/* Measured P(k) against the input spectrum averaged over the same modes; chi^2 with the
 * Gaussian variance P^2 / (independent modes) per shell. */
static void test_field_power(void **state) {
    (void)state;
    const int32_t n = 64, nbins = 32;
    const double box = 600.0;
    ard_field *f = make_field(n, box, 7, 2);
    SKIP_WITHOUT_FFTW(f);
    double k_mean[32], pw[32];
    int64_t modes[32];
    assert_int_equal(ard_power_measure(ard_field_delta(f), n, box, nbins, k_mean, pw, modes, NULL),
                     ARD_OK);
    ard_power *p = NULL;
    assert_int_equal(ard_power_new(NULL, &p, NULL), ARD_OK);
    double expect[32] = {0};
    int64_t count[32] = {0};
    double kf = 2 * M_PI / box;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            for (int l = 0; l < n; l++) {
                int a = i <= n / 2 ? i : i - n, b = j <= n / 2 ? j : j - n,
                    c = l <= n / 2 ? l : l - n;
                double kk = sqrt((double)(a * a + b * b + c * c));
                int bin = (int)floor(kk - 0.5);
                if (kk >= 0.5 && bin < nbins) {
                    expect[bin] += ard_power_linear(p, kk * kf);
                    count[bin]++;
                }
            }
        }
    }
    double chi2 = 0.0;
    int dof = 0;
    for (int b = 0; b < nbins; b++) {
        /* the full-grid loop above counts each +-k pair twice, as the estimator does, except the
         * Nyquist planes it reaches from both sides: allow that one-plane difference */
        assert_true(llabs(count[b] - modes[b]) <= 6 * (b + 2) * (b + 2));
        if (modes[b] < 200) {
            continue;
        }
        double e = expect[b] / (double)count[b], var = e * e / ((double)modes[b] / 2.0);
        chi2 += (pw[b] - e) * (pw[b] - e) / var;
        dof++;
    }
    printf("field P(k): chi2 = %.1f for %d shells (n = %d, box = %g Mpc/h)\n", chi2, dof, n, box);
    assert_true(dof >= 20);
    assert_true(chi2 / dof < 2.0 && chi2 / dof > 0.3);
    /* the field's variance equals the sum of the input spectrum over the grid's modes */
    double var = 0.0, sum_p = 0.0;
    const double *d = ard_field_delta(f);
    for (int64_t c = 0; c < (int64_t)n * n * n; c++) {
        var += d[c] * d[c];
    }
    var /= (double)n * n * n;
    for (int b = 0; b < nbins; b++) {
        sum_p += expect[b];
    }
    assert_true(var > 0.5 * sum_p / (box * box * box) && var < 2.0 * sum_p / (box * box * box));
    ard_power_free(p);
    ard_field_free(f);
}

/* Naive separable DFT of a real n^3 grid (forward, sum convention). */
static void naive_dft(const double *in, int n, double complex *out) {
    double complex *tmp = malloc((size_t)n * n * n * sizeof *tmp);
    for (int c = 0; c < n * n * n; c++) {
        out[c] = in[c];
    }
    for (int axis = 0; axis < 3; axis++) {
        int stride = axis == 0 ? n * n : (axis == 1 ? n : 1);
        for (int c = 0; c < n * n * n; c++) {
            int pos = (c / stride) % n, base = c - pos * stride;
            double complex s = 0;
            for (int m = 0; m < n; m++) {
                s += out[base + m * stride] * cexp(-2.0 * I * M_PI * pos * m / n);
            }
            tmp[c] = s;
        }
        memcpy(out, tmp, (size_t)n * n * n * sizeof *tmp);
    }
    free(tmp);
}

static void test_zeldovich_divergence(void **state) {
    (void)state;
    const int n = 16;
    const double box = 100.0;
    ard_field *f = make_field(n, box, 3, 1);
    SKIP_WITHOUT_FFTW(f);
    size_t cells = (size_t)n * n * n;
    double complex *dk = malloc(cells * sizeof *dk), *pk[3];
    naive_dft(ard_field_delta(f), n, dk);
    for (int a = 0; a < 3; a++) {
        pk[a] = malloc(cells * sizeof *pk[a]);
        naive_dft(ard_field_displacement(f, a), n, pk[a]);
    }
    double kf = 2 * M_PI / box, maxd = 0.0, maxerr = 0.0;
    int checked = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            for (int l = 0; l < n; l++) {
                size_t c = ((size_t)i * n + j) * n + l;
                maxd = fmax(maxd, cabs(dk[c]));
                if (i == n / 2 || j == n / 2 || l == n / 2) {
                    continue; /* a Nyquist mode has no odd derivative */
                }
                int w[3] = {i <= n / 2 ? i : i - n, j <= n / 2 ? j : j - n, l <= n / 2 ? l : l - n};
                double complex div = 0;
                for (int a = 0; a < 3; a++) {
                    div += I * kf * w[a] * pk[a][c];
                }
                maxerr = fmax(maxerr, cabs(div + dk[c]));
                checked++;
            }
        }
    }
    /* div psi = -delta, mode by mode */
    assert_true(checked > 3000);
    assert_true(maxerr < 1e-9 * maxd);
    /* real-space check: the central-difference divergence correlates with -delta */
    const double *px = ard_field_displacement(f, 0);
    double h = box / n, dot = 0.0, norm_a = 0.0, norm_b = 0.0;
    const double *d = ard_field_delta(f);
    for (int i = 0; i < n; i++) {
        int ip = (i + 1) % n, im = (i + n - 1) % n;
        for (int jl = 0; jl < n * n; jl++) {
            double dx = (px[ip * n * n + jl] - px[im * n * n + jl]) / (2 * h);
            dot += dx * -d[i * n * n + jl];
            norm_a += dx * dx;
            norm_b += d[i * n * n + jl] * d[i * n * n + jl];
        }
    }
    assert_true(dot / sqrt(norm_a * norm_b) > 0.2); /* one of three terms of the divergence */
    /* velocities: a H f = 100 E(z) f(z) / (1 + z) km/s per Mpc/h; at z = 0 that is 100 f(0) */
    as_assert_near(ard_field_velocity_factor(f), 100.0 * ard_growth_rate(0.3111, 0.0), 1e-9);
    for (int a = 0; a < 3; a++) {
        free(pk[a]);
    }
    free(dk);
    ard_field_free(f);
}

/* ---- grid T-web ---- */

static ard_tweb_grid *web_of(const double *delta, int32_t n, double box, double R, int threads) {
    ard_tweb_grid_options o;
    ard_tweb_grid_options_init(&o);
    o.smoothing = R;
    o.threads = threads;
    ard_tweb_grid *w = NULL;
    ard_status st = ard_tweb_grid_new(delta, n, box, &o, &w, NULL);
    if (st == ARD_ENOTSUP) {
        return NULL;
    }
    assert_int_equal(st, ARD_OK);
    return w;
}

static void sample(const ard_tweb_grid *w, double x, double y, double z, double *lam, int *cls) {
    double p[3] = {x, y, z};
    float l[3];
    uint8_t c;
    assert_int_equal(ard_tweb_grid_sample(w, p, 1, l, NULL, &c, NULL), ARD_OK);
    for (int k = 0; k < 3; k++) {
        lam[k] = l[k];
    }
    *cls = c;
}

static void test_tweb_analytic(void **state) {
    (void)state;
    const int n = 32;
    const double box = 64.0, h = box / n, R = 2.0, kf = 2 * M_PI / box;
    double *d = malloc((size_t)n * n * n * sizeof *d);
    double lam[3];
    int cls;
    /* a single Gaussian peak (width 4 Mpc/h, height 5) at the centre: a knot there, with three
     * equal eigenvalues */
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            for (int l = 0; l < n; l++) {
                double dx = i * h - 32, dy = j * h - 32, dz = l * h - 32;
                d[(i * n + j) * n + l] = 5.0 * exp(-(dx * dx + dy * dy + dz * dz) / 32.0);
            }
        }
    }
    ard_tweb_grid *w = web_of(d, n, box, R, 2);
    if (!w) {
        free(d);
        SKIP_WITHOUT_FFTW(w);
    }
    sample(w, 32, 32, 32, lam, &cls);
    assert_int_equal(cls, ARD_WEB_KNOT);
    assert_true(lam[2] > 0.2 && lam[0] - lam[2] < 1e-3 * lam[0]);
    ard_tweb_grid_free(w);
    /* a plane wave delta = cos(k x): a sheet on the crest (lambda = e^(-k^2 R^2 / 2), 0, 0) and a
     * void in the trough */
    double amp = exp(-kf * kf * R * R / 2);
    for (int c = 0; c < n * n * n; c++) {
        d[c] = cos(kf * h * (c / (n * n)));
    }
    w = web_of(d, n, box, R, 1);
    sample(w, 0, 5, 7, lam, &cls);
    assert_int_equal(cls, ARD_WEB_SHEET);
    as_assert_near(lam[0], amp, 1e-5);
    as_assert_near(lam[1], 0, 1e-5);
    as_assert_near(lam[2], 0, 1e-5);
    sample(w, 32, 5, 7, lam, &cls);
    assert_int_equal(cls, ARD_WEB_VOID);
    as_assert_near(lam[2], -amp, 1e-5);
    /* between grid points: trilinear interpolation of cos (error ~ (k h)^2 / 8) */
    sample(w, 5.3, 1.1, 9.9, lam, &cls);
    as_assert_near(lam[0], amp * cos(kf * 5.3), 0.01);
    sample(w, 5.3 + 10 * box, 1.1 - 3 * box, 9.9, lam, &cls); /* periodic wrap */
    as_assert_near(lam[0], amp * cos(kf * 5.3), 0.01);
    ard_tweb_grid_free(w);
    /* a cylinder delta = cos(k x) + cos(k y): a filament on its axis */
    for (int c = 0; c < n * n * n; c++) {
        d[c] = cos(kf * h * (c / (n * n))) + cos(kf * h * ((c / n) % n));
    }
    w = web_of(d, n, box, R, 2);
    sample(w, 0, 0, 17, lam, &cls);
    assert_int_equal(cls, ARD_WEB_FILAMENT);
    as_assert_near(lam[0], amp, 1e-5);
    as_assert_near(lam[1], amp, 1e-5);
    as_assert_near(lam[2], 0, 1e-5);
    /* trace = smoothed delta, per cell */
    const float *ld = ard_tweb_grid_lambda(w), *dd = ard_tweb_grid_delta(w);
    for (int c = 0; c < n * n * n; c += 97) {
        as_assert_near(ld[3 * c] + ld[3 * c + 1] + ld[3 * c + 2], dd[c], 1e-5);
        as_assert_near(dd[c], amp * d[c], 1e-5);
    }
    ard_tweb_grid_free(w);
    free(d);
}

/* Monte Carlo of the T-web classes of a Gaussian field (Doroshkevich 1970): the smoothed tidal
 * tensor at a point is a Gaussian symmetric matrix with <T_ij T_kl> = sigma^2 / 15 (d_ij d_kl +
 * d_ik d_jl + d_il d_jk), sigma^2 the variance of its trace. Diagonal: sqrt(sigma^2 / 15) (sqrt 2
 * (g - mean g) + sqrt 5 mean g); off-diagonal: independent, variance sigma^2 / 15. */
static void gaussian_fractions(double sigma, double th, int64_t samples, double *frac) {
    uint64_t s = 12345;
    int64_t counts[4] = {0};
    for (int64_t i = 0; i < samples; i++) {
        double g[6];
        for (int k = 0; k < 6; k += 2) {
            double u1, u2;
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            u1 = ((double)(s >> 11) + 0.5) * 0x1.0p-53;
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            u2 = ((double)(s >> 11) + 0.5) * 0x1.0p-53;
            g[k] = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
            g[k + 1] = sqrt(-2 * log(u1)) * sin(2 * M_PI * u2);
        }
        double m = (g[0] + g[1] + g[2]) / 3, sd = sigma / sqrt(15.0);
        double a[3][3];
        for (int k = 0; k < 3; k++) {
            a[k][k] = sd * (sqrt(2.0) * (g[k] - m) + sqrt(5.0) * m);
        }
        a[0][1] = a[1][0] = sd * g[3];
        a[0][2] = a[2][0] = sd * g[4];
        a[1][2] = a[2][1] = sd * g[5];
        /* count eigenvalues above th: inertia of A - th I by its leading principal minors */
        double b[3][3];
        memcpy(b, a, sizeof b);
        for (int k = 0; k < 3; k++) {
            b[k][k] -= th;
        }
        double d1 = b[0][0], d2 = b[0][0] * b[1][1] - b[0][1] * b[1][0];
        double d3 = b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[2][1]) -
                    b[0][1] * (b[1][0] * b[2][2] - b[1][2] * b[2][0]) +
                    b[0][2] * (b[1][0] * b[2][1] - b[1][1] * b[2][0]);
        /* sign changes in 1, d1, d2, d3 = number of negative eigenvalues (Jacobi) */
        double seq[4] = {1.0, d1, d2, d3};
        int neg = 0;
        for (int k = 0; k < 3; k++) {
            neg += seq[k] * seq[k + 1] < 0;
        }
        counts[3 - neg]++;
    }
    for (int k = 0; k < 4; k++) {
        frac[k] = (double)counts[k] / (double)samples;
    }
}

/* The grid T-web of the linear Gaussian field against the Gaussian prediction for the same
 * sigma of the smoothed delta, and the class volume fractions of the Zel'dovich-evolved field at R
 * = 2 Mpc/h, lambda_th = 0.2. Box: 256 Mpc/h on 128^3 cells (2 Mpc/h cells), z = 0, Planck 2018,
 * sigma8 = 0.81, CIC assignment of the displaced grid. Published reference: Forero-Romero et al.
 * 2009 (MNRAS 396, 1815; arXiv:0809.4135) classify N-body density fields on grids smoothed at about
 * one cell and find the web reproduced from lambda_th = 0.1, with percolating voids beside an
 * interconnected filament network for 0.2 <= lambda_th <= 0.4; their volume-filling fractions in
 * that range put voids and sheets at tens of per cent each, filaments below them and knots at a
 * few per cent. The table values themselves could not be retrieved with the search tool in this
 * session, so the bounds below are those broad published proportions, not a fit: voids 0.15-0.55,
 * sheets 0.30-0.55, filaments 0.08-0.30, knots 0.003-0.06, and the ordering sheets > filaments >
 * knots, voids > knots. Measured on this realisation (printed): void 0.371, sheet 0.455,
 * filament 0.160, knot 0.014. */
static void test_volume_fractions(void **state) {
    (void)state;
    const int32_t n = 128;
    const double box = 256.0;
    ard_field *f = make_field(n, box, 2009, 2);
    SKIP_WITHOUT_FFTW(f);
    size_t cells = (size_t)n * n * n;
    double frac[ARD_WEB_COUNT], gauss[4];
    /* linear field: the Gaussian prediction */
    ard_tweb_grid *w = web_of(ard_field_delta(f), n, box, 2.0, 2);
    ard_tweb_grid_volume_fractions(w, frac);
    double var = 0.0;
    const float *ds = ard_tweb_grid_delta(w);
    for (size_t c = 0; c < cells; c++) {
        var += (double)ds[c] * ds[c];
    }
    gaussian_fractions(sqrt(var / (double)cells), 0.2, 400000, gauss);
    printf("linear field T-web (sigma_R = %.3f): void %.3f sheet %.3f filament %.3f knot %.3f; "
           "Gaussian theory %.3f %.3f %.3f %.3f\n",
           sqrt(var / (double)cells), frac[0], frac[1], frac[2], frac[3], gauss[0], gauss[1],
           gauss[2], gauss[3]);
    for (int k = 0; k < 4; k++) {
        as_assert_near(frac[k], gauss[k], 0.02);
    }
    ard_tweb_grid_free(w);
    /* evolved field: the published proportions */
    double *rho = malloc(cells * sizeof *rho);
    assert_int_equal(ard_field_evolved_density(f, rho, NULL), ARD_OK);
    double mean = 0.0;
    for (size_t c = 0; c < cells; c++) {
        mean += rho[c];
    }
    as_assert_near(mean / (double)cells, 0.0, 1e-9); /* CIC conserves mass */
    w = web_of(rho, n, box, 2.0, 2);
    ard_tweb_grid_volume_fractions(w, frac);
    printf("T-web volume fractions (Zel'dovich z = 0, n = %d, box = %g Mpc/h, R = 2, lambda_th = "
           "0.2): void %.3f sheet %.3f filament %.3f knot %.3f\n",
           n, box, frac[0], frac[1], frac[2], frac[3]);
    as_assert_near(frac[0] + frac[1] + frac[2] + frac[3], 1.0, 1e-12);
    assert_true(frac[ARD_WEB_VOID] > 0.15 && frac[ARD_WEB_VOID] < 0.55);
    assert_true(frac[ARD_WEB_SHEET] > 0.30 && frac[ARD_WEB_SHEET] < 0.55);
    assert_true(frac[ARD_WEB_FILAMENT] > 0.08 && frac[ARD_WEB_FILAMENT] < 0.30);
    assert_true(frac[ARD_WEB_KNOT] > 0.003 && frac[ARD_WEB_KNOT] < 0.06);
    assert_true(frac[ARD_WEB_SHEET] > frac[ARD_WEB_FILAMENT] &&
                frac[ARD_WEB_FILAMENT] > frac[ARD_WEB_KNOT] &&
                frac[ARD_WEB_VOID] > frac[ARD_WEB_KNOT]);
    ard_tweb_grid_free(w);
    /* the tracers' scale (the generator's web_smoothing 8, web_lambda_th 0.14, the choice of
     * bench/results/cosmicweb.md): sigma_R drops from ~1.07 to ~0.45, and the lower threshold
     * keeps the class volume fractions of R = 2, lambda_th = 0.2 (within 0.03 each), hence in the
     * same published proportions. At lambda_th = 0.2 the voids would grow by a third. */
    double frac2[ARD_WEB_COUNT];
    memcpy(frac2, frac, sizeof frac2);
    ard_tweb_grid_options o8;
    ard_tweb_grid_options_init(&o8);
    o8.smoothing = 8.0;
    o8.lambda_th = 0.14;
    o8.threads = 2;
    assert_int_equal(ard_tweb_grid_new(rho, n, box, &o8, &w, NULL), ARD_OK);
    ard_tweb_grid_volume_fractions(w, frac);
    printf("T-web volume fractions (R = 8, lambda_th = 0.14): void %.3f sheet %.3f filament %.3f "
           "knot %.3f\n",
           frac[0], frac[1], frac[2], frac[3]);
    for (int k = 0; k < 4; k++) {
        as_assert_near(frac[k], frac2[k], 0.03);
    }
    assert_true(frac[ARD_WEB_VOID] > 0.15 && frac[ARD_WEB_VOID] < 0.55);
    assert_true(frac[ARD_WEB_SHEET] > 0.30 && frac[ARD_WEB_SHEET] < 0.55);
    assert_true(frac[ARD_WEB_FILAMENT] > 0.08 && frac[ARD_WEB_FILAMENT] < 0.30);
    assert_true(frac[ARD_WEB_KNOT] > 0.003 && frac[ARD_WEB_KNOT] < 0.06);
    ard_tweb_grid_free(w);
    free(rho);
    ard_field_free(f);
}

static void test_thread_independence(void **state) {
    (void)state;
    const int32_t n = 32;
    ard_field *a = make_field(n, 200.0, 99, 1), *b = make_field(n, 200.0, 99, 2);
    SKIP_WITHOUT_FFTW(a);
    size_t bytes = (size_t)n * n * n * sizeof(double);
    assert_memory_equal(ard_field_delta(a), ard_field_delta(b), bytes);
    for (int ax = 0; ax < 3; ax++) {
        assert_memory_equal(ard_field_displacement(a, ax), ard_field_displacement(b, ax), bytes);
    }
    ard_field *c = make_field(n, 200.0, 100, 2);
    assert_true(memcmp(ard_field_delta(a), ard_field_delta(c), bytes) != 0);
    ard_tweb_grid *wa = web_of(ard_field_delta(a), n, 200.0, 3.0, 1);
    ard_tweb_grid *wb = web_of(ard_field_delta(a), n, 200.0, 3.0, 2);
    assert_memory_equal(ard_tweb_grid_lambda(wa), ard_tweb_grid_lambda(wb),
                        (size_t)n * n * n * 3 * sizeof(float));
    assert_memory_equal(ard_tweb_grid_classes(wa), ard_tweb_grid_classes(wb), (size_t)n * n * n);
    ard_tweb_grid_free(wa);
    ard_tweb_grid_free(wb);
    ard_field_free(a);
    ard_field_free(b);
    ard_field_free(c);
}

/* Skewness S3 = <d^3> / <d^2>^2 of the evolved (CIC) density smoothed at R (the T-web grid's
 * smoothed delta). */
static double evolved_s3(const ard_field *f, int32_t n, double box, double R, double *sigma) {
    size_t cells = (size_t)n * n * n;
    double *rho = malloc(cells * sizeof *rho);
    assert_int_equal(ard_field_evolved_density(f, rho, NULL), ARD_OK);
    ard_tweb_grid *w = web_of(rho, n, box, R, 2);
    const float *d = ard_tweb_grid_delta(w);
    double m2 = 0.0, m3 = 0.0;
    for (size_t c = 0; c < cells; c++) {
        m2 += (double)d[c] * d[c];
        m3 += (double)d[c] * d[c] * d[c];
    }
    m2 /= (double)cells;
    m3 /= (double)cells;
    *sigma = sqrt(m2);
    ard_tweb_grid_free(w);
    free(rho);
    return m3 / (m2 * m2);
}

/* 2LPT (lpt_order 2) against Zel'dovich on the same seed: the linear delta is the same bytes, the
 * second-order displacement is a small correction (rms a few per cent to ~20% of psi1 at 4 Mpc/h
 * cells), the large-scale power of the evolved field is unchanged (first three shells within 4%;
 * measured 0.987, 0.974, 0.976 at k = 0.03-0.08 h/Mpc),
 * and the skewness rises by tree-level perturbation theory's 34/7 - 4 = 6/7 (Bernardeau et al.
 * 2002, the smoothing term being common to both), here asserted within [0.45, 1.3] at R = 8 Mpc/h
 * (sigma_R ~ 0.5, so loop corrections and cosmic variance are not negligible). */
static void test_2lpt(void **state) {
    (void)state;
    const int32_t n = 64;
    const double box = 256.0;
    ard_field *za = make_field(n, box, 77, 2);
    SKIP_WITHOUT_FFTW(za);
    ard_field_options o;
    ard_field_options_init(&o);
    o.n = n;
    o.box = box;
    o.seed = 77;
    o.threads = 1;
    o.lpt_order = 2;
    ard_field *lpt = NULL;
    assert_int_equal(ard_field_new(&o, &lpt, NULL), ARD_OK);
    size_t cells = (size_t)n * n * n;
    assert_memory_equal(ard_field_delta(za), ard_field_delta(lpt), cells * sizeof(double));
    double p1 = 0.0, p2 = 0.0;
    for (int a = 0; a < 3; a++) {
        const double *s1 = ard_field_displacement(za, a), *s2 = ard_field_displacement(lpt, a);
        for (size_t c = 0; c < cells; c++) {
            p1 += s1[c] * s1[c];
            p2 += (s2[c] - s1[c]) * (s2[c] - s1[c]);
        }
    }
    double ratio = sqrt(p2 / p1);
    /* thread independence of the second order too */
    o.threads = 2;
    ard_field *lpt2 = NULL;
    assert_int_equal(ard_field_new(&o, &lpt2, NULL), ARD_OK);
    assert_memory_equal(ard_field_displacement(lpt, 0), ard_field_displacement(lpt2, 0),
                        cells * sizeof(double));
    ard_field_free(lpt2);
    /* large-scale power of the evolved fields */
    double *rho1 = malloc(cells * sizeof *rho1), *rho2 = malloc(cells * sizeof *rho2);
    assert_int_equal(ard_field_evolved_density(za, rho1, NULL), ARD_OK);
    assert_int_equal(ard_field_evolved_density(lpt, rho2, NULL), ARD_OK);
    double k[8], pz[8], pl[8];
    int64_t modes[8];
    assert_int_equal(ard_power_measure(rho1, n, box, 8, k, pz, modes, NULL), ARD_OK);
    assert_int_equal(ard_power_measure(rho2, n, box, 8, k, pl, modes, NULL), ARD_OK);
    free(rho1);
    free(rho2);
    double sz, sl;
    double s3z = evolved_s3(za, n, box, 8.0, &sz), s3l = evolved_s3(lpt, n, box, 8.0, &sl);
    printf("2LPT: rms psi2 / psi1 %.3f; P(k) 2LPT/ZA at k = %.3f %.3f %.3f: %.4f %.4f %.4f; "
           "S3 at R = 8 (sigma %.3f / %.3f): Zel'dovich %.3f, 2LPT %.3f (tree level 4 -> 34/7: "
           "+0.857)\n",
           ratio, k[0], k[1], k[2], pl[0] / pz[0], pl[1] / pz[1], pl[2] / pz[2], sz, sl, s3z, s3l);
    assert_true(ratio > 0.01 && ratio < 0.3);
    for (int b = 0; b < 3; b++) {
        as_assert_near(pl[b] / pz[b], 1.0, 0.04);
    }
    assert_true(s3l - s3z > 0.45 && s3l - s3z < 1.3);
    ard_field_free(za);
    ard_field_free(lpt);
}

static void expect_field_error(int32_t n, double box, double z, int32_t lpt, int64_t max_bytes,
                               ard_status want, const char *needle) {
    ard_field_options o;
    ard_field_options_init(&o);
    o.n = n;
    o.box = box;
    o.redshift = z;
    o.lpt_order = lpt;
    o.max_bytes = max_bytes;
    ard_field *f = (ard_field *)&o; /* must be reset to NULL */
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_field_new(&o, &f, &err), want);
    assert_null(f);
    if (!strstr(err.msg, needle)) {
        printf("message '%s' lacks '%s'\n", err.msg, needle);
        fail();
    }
}

static void test_bad_input(void **state) {
    (void)state;
    expect_field_error(48, 100, 0, 1, 0, ARD_EINVAL, "n = 48");
    expect_field_error(4, 100, 0, 1, 0, ARD_EINVAL, "n = 4");
    expect_field_error(2048, 100, 0, 1, 0, ARD_ELIMIT, "n = 2048");
    expect_field_error(512, 100, 0, 1, 1 << 20, ARD_ELIMIT, "max_bytes");
    expect_field_error(64, 0.0, 0, 1, 0, ARD_EINVAL, "box");
    expect_field_error(64, NAN, 0, 1, 0, ARD_EINVAL, "box");
    expect_field_error(64, 100, -1.0, 1, 0, ARD_EINVAL, "redshift");
    expect_field_error(64, 100, 0, 3, 0, ARD_EINVAL, "lpt_order");
    expect_field_error(64, 100, 0, 0, 0, ARD_EINVAL, "lpt_order");
    ard_power_params pp;
    ard_power_params_planck18(&pp);
    pp.omega_b = 0.5;
    ard_power *p = (ard_power *)&pp;
    assert_int_equal(ard_power_new(&pp, &p, NULL), ARD_EINVAL);
    assert_null(p);
    double d[512] = {0}, km[4], pw[4];
    int64_t md[4];
    ard_tweb_grid_options o;
    ard_tweb_grid_options_init(&o);
    ard_tweb_grid *w = NULL;
    o.smoothing = 0.0;
    assert_int_equal(ard_tweb_grid_new(d, 8, 10.0, &o, &w, NULL), ARD_EINVAL);
    o.smoothing = 2.0;
    assert_int_equal(ard_tweb_grid_new(d, 6, 10.0, &o, &w, NULL), ARD_EINVAL);
    assert_int_equal(ard_tweb_grid_new(NULL, 8, 10.0, &o, &w, NULL), ARD_EINVAL);
    assert_null(w);
    assert_int_equal(ard_power_measure(d, 8, 10.0, 0, km, pw, md, NULL), ARD_EINVAL);
    assert_int_equal(ard_power_measure(d, 8, 10.0, 5, km, pw, md, NULL), ARD_EINVAL);
    ard_status st = ard_tweb_grid_new(d, 8, 10.0, &o, &w, NULL);
    if (st == ARD_OK) { /* with FFTW: a non-finite sample point */
        double bad[3] = {0, NAN, 0};
        uint8_t c;
        assert_int_equal(ard_tweb_grid_sample(w, bad, 1, NULL, NULL, &c, NULL), ARD_EINVAL);
        ard_tweb_grid_free(w);
    } else {
        assert_int_equal(st, ARD_ENOTSUP);
    }
    /* 2LPT's three extra grids count: n = 256 needs 805 MB with Zel'dovich, 1.2 GB with 2LPT */
    expect_field_error(256, 100, 0, 2, 1000000000, ARD_ELIMIT, "max_bytes");
}

int as_run_field_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_power_spectrum),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_field_power),
        cmocka_unit_test(test_zeldovich_divergence),
        cmocka_unit_test(test_tweb_analytic),
        cmocka_unit_test(test_volume_fractions),
        cmocka_unit_test(test_thread_independence),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_2lpt),
    };
    return cmocka_run_group_tests_name("astro_field", tests, NULL, NULL);
}
