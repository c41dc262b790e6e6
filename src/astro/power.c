/* The linear matter power spectrum: Eisenstein & Hu 1998 (ApJ 496, 605) transfer function, full
 * fitting formula with baryon acoustic wiggles (eqs. 16-24) or the no-wiggle shape (eqs. 29-31),
 * normalised to sigma_8 by a top-hat integral; and the linear growth factor and rate of flat
 * LambdaCDM (Heath 1977 integral). Plain C, no FFT: available without FFTW. */
#include "astro_int.h"

#include <math.h>

#define SIGMA_LNK_MIN (-11.5) /* ln k, k in h/Mpc: 1e-5 .. 1e3 covers sigma(8) to 1e-8 */
#define SIGMA_LNK_MAX 6.9
#define SIGMA_STEPS 4000 /* Simpson intervals in ln k (even) */
#define GROWTH_STEPS 2000

struct ard_power {
    ard_power_params p;
    double norm; /* P(k) = norm k^n_s T(k)^2 */
    /* EH98 scalars (wavenumbers in 1/Mpc) */
    double theta2, omhh, fb, k_eq, s, k_silk, alpha_c, beta_c, alpha_b, beta_b, beta_node;
    double s_fit, alpha_gamma;
};

void ard_power_params_planck18(ard_power_params *p) {
    p->h = 0.6766;
    p->omega_m = 0.3111;
    p->omega_b = 0.02242 / (0.6766 * 0.6766); /* Omega_b h^2 = 0.02242 -> 0.04897 */
    p->n_s = 0.9665;
    p->sigma8 = 0.81;
    p->t_cmb = 2.7255;
    p->wiggles = 1;
}

static void eh_setup(ard_power *w) {
    const ard_power_params *p = &w->p;
    double theta = p->t_cmb / 2.7, omhh = p->omega_m * p->h * p->h;
    double obhh = p->omega_b * p->h * p->h, fb = p->omega_b / p->omega_m;
    w->theta2 = theta * theta;
    w->omhh = omhh;
    w->fb = fb;
    double z_eq = 2.50e4 * omhh / (w->theta2 * w->theta2);
    w->k_eq = 0.0746 * omhh / w->theta2;
    double b1 = 0.313 * pow(omhh, -0.419) * (1.0 + 0.607 * pow(omhh, 0.674));
    double b2 = 0.238 * pow(omhh, 0.223);
    double z_d =
        1291.0 * pow(omhh, 0.251) / (1.0 + 0.659 * pow(omhh, 0.828)) * (1.0 + b1 * pow(obhh, b2));
    double r_d = 31.5 * obhh / (w->theta2 * w->theta2) * (1000.0 / (1.0 + z_d));
    double r_eq = 31.5 * obhh / (w->theta2 * w->theta2) * (1000.0 / z_eq);
    w->s = 2.0 / (3.0 * w->k_eq) * sqrt(6.0 / r_eq) *
           log((sqrt(1.0 + r_d) + sqrt(r_d + r_eq)) / (1.0 + sqrt(r_eq)));
    w->k_silk = 1.6 * pow(obhh, 0.52) * pow(omhh, 0.73) * (1.0 + pow(10.4 * omhh, -0.95));
    double a1 = pow(46.9 * omhh, 0.670) * (1.0 + pow(32.1 * omhh, -0.532));
    double a2 = pow(12.0 * omhh, 0.424) * (1.0 + pow(45.0 * omhh, -0.582));
    w->alpha_c = pow(a1, -fb) * pow(a2, -fb * fb * fb);
    double bb1 = 0.944 / (1.0 + pow(458.0 * omhh, -0.708));
    double bb2 = pow(0.395 * omhh, -0.0266);
    w->beta_c = 1.0 / (1.0 + bb1 * (pow(1.0 - fb, bb2) - 1.0));
    double y = z_eq / (1.0 + z_d), sy = sqrt(1.0 + y);
    double g = y * (-6.0 * sy + (2.0 + 3.0 * y) * log((sy + 1.0) / (sy - 1.0)));
    w->alpha_b = 2.07 * w->k_eq * w->s * pow(1.0 + r_d, -0.75) * g;
    w->beta_node = 8.41 * pow(omhh, 0.435);
    w->beta_b = 0.5 + fb + (3.0 - 2.0 * fb) * sqrt(pow(17.2 * omhh, 2.0) + 1.0);
    w->s_fit = 44.5 * log(9.83 / omhh) / sqrt(1.0 + 10.0 * pow(obhh, 0.75));
    w->alpha_gamma = 1.0 - 0.328 * log(431.0 * omhh) * fb + 0.38 * log(22.3 * omhh) * fb * fb;
}

/* Pressureless CDM piece T~0(k, alpha, beta) of EH98 eq. 19; q = k / (13.41 k_eq). */
static double t_tilde(double q, double alpha, double beta) {
    double l = log(M_E + 1.8 * beta * q);
    double c = 14.2 / alpha + 386.0 / (1.0 + 69.9 * pow(q, 1.08));
    return l / (l + c * q * q);
}

static double transfer_full(const ard_power *w, double k) { /* k in 1/Mpc */
    double q = k / (13.41 * w->k_eq), ks = k * w->s;
    double f = 1.0 / (1.0 + pow(ks / 5.4, 4.0));
    double tc = f * t_tilde(q, 1.0, w->beta_c) + (1.0 - f) * t_tilde(q, w->alpha_c, w->beta_c);
    double s_tilde = w->s / cbrt(1.0 + pow(w->beta_node / ks, 3.0));
    double x = k * s_tilde;
    double tb = (t_tilde(q, 1.0, 1.0) / (1.0 + pow(ks / 5.2, 2.0)) +
                 w->alpha_b / (1.0 + pow(w->beta_b / ks, 3.0)) * exp(-pow(k / w->k_silk, 1.4))) *
                (x > 1e-8 ? sin(x) / x : 1.0);
    return w->fb * tb + (1.0 - w->fb) * tc;
}

static double transfer_nowiggle(const ard_power *w, double k) { /* k in 1/Mpc */
    double gamma =
        w->p.omega_m * w->p.h *
        (w->alpha_gamma + (1.0 - w->alpha_gamma) / (1.0 + pow(0.43 * k * w->s_fit, 4.0)));
    double q = k / w->p.h * w->theta2 / gamma;
    double l = log(2.0 * M_E + 1.8 * q), c = 14.2 + 731.0 / (1.0 + 62.5 * q);
    return l / (l + c * q * q);
}

double ard_power_transfer(const ard_power *w, double k) {
    if (!(k > 0.0)) {
        return 1.0;
    }
    double kmpc = k * w->p.h;
    return w->p.wiggles ? transfer_full(w, kmpc) : transfer_nowiggle(w, kmpc);
}

static double tophat(double x) {
    if (x < 1e-3) {
        return 1.0 - x * x / 10.0;
    }
    return 3.0 * (sin(x) - x * cos(x)) / (x * x * x);
}

/* sigma^2(R) of norm * k^n_s T^2 by Simpson's rule in ln k. */
static double sigma2(const ard_power *w, double r) {
    double h = (SIGMA_LNK_MAX - SIGMA_LNK_MIN) / SIGMA_STEPS, sum = 0.0;
    for (int i = 0; i <= SIGMA_STEPS; i++) {
        double k = exp(SIGMA_LNK_MIN + i * h), t = ard_power_transfer(w, k), wr = tophat(k * r);
        double f = k * k * k * pow(k, w->p.n_s) * t * t * wr * wr;
        sum += f * (i == 0 || i == SIGMA_STEPS ? 1.0 : (i % 2 ? 4.0 : 2.0));
    }
    return w->norm * sum * h / 3.0 / (2.0 * M_PI * M_PI);
}

ard_status ard_power_new(const ard_power_params *params, ard_power **out, ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_power_new: out is NULL");
    }
    *out = NULL;
    ard_power_params p;
    if (params) {
        p = *params;
    } else {
        ard_power_params_planck18(&p);
    }
    if (!(p.h > 0.1 && p.h < 2.0) || !(p.omega_m > 0.01 && p.omega_m <= 1.0) ||
        !(p.omega_b > 0.0 && p.omega_b < p.omega_m) || !(p.n_s > 0.5 && p.n_s < 1.5) ||
        !(p.sigma8 > 0.0 && p.sigma8 < 10.0) || !(p.t_cmb > 1.0 && p.t_cmb < 5.0) ||
        (p.wiggles != 0 && p.wiggles != 1)) {
        return ard_error_set(err, ARD_EINVAL,
                             "ard_power_new: parameters out of range (h %g, omega_m %g, omega_b "
                             "%g, n_s %g, sigma8 %g, t_cmb %g, wiggles %d)",
                             p.h, p.omega_m, p.omega_b, p.n_s, p.sigma8, p.t_cmb, (int)p.wiggles);
    }
    ard_power *w = ard_calloc(1, sizeof *w);
    if (!w) {
        return ard_error_set(err, ARD_ENOMEM, "ard_power_new: out of memory");
    }
    w->p = p;
    eh_setup(w);
    w->norm = 1.0;
    w->norm = p.sigma8 * p.sigma8 / sigma2(w, 8.0);
    *out = w;
    return ARD_OK;
}

void ard_power_free(ard_power *w) {
    ard_free(w);
}

const ard_power_params *ard_power_get_params(const ard_power *w) {
    return &w->p;
}

double ard_power_linear(const ard_power *w, double k) {
    if (!(k > 0.0)) {
        return 0.0;
    }
    double t = ard_power_transfer(w, k);
    return w->norm * pow(k, w->p.n_s) * t * t;
}

double ard_power_sigma(const ard_power *w, double r) {
    return r > 0.0 ? sqrt(sigma2(w, r)) : 0.0;
}

/* ---- growth ---- */

static double efunc(double om, double a) {
    return sqrt(om / (a * a * a) + (1.0 - om));
}

/* integral_0^a da' / (a' E(a'))^3 by Simpson's rule; the integrand ~ a'^(3/2) / om^(3/2) at 0. */
static double growth_integral(double om, double a) {
    double h = a / GROWTH_STEPS, sum = 0.0;
    for (int i = 1; i <= GROWTH_STEPS; i++) {
        double x = i * h, ae = x * efunc(om, x), f = 1.0 / (ae * ae * ae);
        sum += f * (i == GROWTH_STEPS ? 1.0 : (i % 2 ? 4.0 : 2.0));
    }
    return sum * h / 3.0;
}

static double growth_unnorm(double om, double a) {
    return 2.5 * om * efunc(om, a) * growth_integral(om, a);
}

double ard_growth_factor(double omega_m, double z) {
    if (!(omega_m > 0.0 && omega_m <= 1.0) || !(z > -1.0) || !isfinite(z)) {
        return NAN;
    }
    return growth_unnorm(omega_m, 1.0 / (1.0 + z)) / growth_unnorm(omega_m, 1.0);
}

double ard_growth_rate(double omega_m, double z) {
    if (!(omega_m > 0.0 && omega_m <= 1.0) || !(z > -1.0) || !isfinite(z)) {
        return NAN;
    }
    double a = 1.0 / (1.0 + z), e = efunc(omega_m, a);
    /* f = dlnD/dlna = dlnE/dlna + 1 / (a^2 E^3 I) */
    return -1.5 * omega_m / (a * a * a * e * e) +
           1.0 / (a * a * e * e * e * growth_integral(omega_m, a));
}

double ard_hubble_efunc(double omega_m, double z) {
    return efunc(omega_m, 1.0 / (1.0 + z));
}
