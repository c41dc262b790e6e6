/* Gaussian random field with the linear power spectrum on a periodic grid, its Zel'dovich (and
 * optionally second-order LPT) displacement field and the CIC density of the displaced grid
 * (include/ard/astro.h). */
#include "astro_int.h"

#include <math.h>
#include <string.h>

#define FIELD_BYTES_PER_CELL 48

void ard_field_options_init(ard_field_options *o) {
    memset(o, 0, sizeof *o);
    o->n = 128;
    o->box = 500.0;
    o->seed = 1;
    o->redshift = 0.0;
    o->lpt_order = 1;
    o->threads = 0;
    o->max_bytes = ARD__DEFAULT_MAX_BYTES;
    o->power = NULL;
}

struct ard_field {
    int32_t n;
    double box, velocity_factor;
    ard__abuf delta, psi[3];
};

void ard_field_free(ard_field *f) {
    if (!f) {
        return;
    }
    ard__abuf_free(&f->delta);
    for (int a = 0; a < 3; a++) {
        ard__abuf_free(&f->psi[a]);
    }
    ard_free(f);
}

int32_t ard_field_n(const ard_field *f) {
    return f->n;
}
double ard_field_box(const ard_field *f) {
    return f->box;
}
const double *ard_field_delta(const ard_field *f) {
    return f->delta.p;
}
const double *ard_field_displacement(const ard_field *f, int32_t axis) {
    return axis >= 0 && axis < 3 ? f->psi[axis].p : NULL;
}
double ard_field_velocity_factor(const ard_field *f) {
    return f->velocity_factor;
}

static ard_status check_options(const ard_field_options *o, ard_error *err) {
    if (!o) {
        return ard_error_set(err, ARD_EINVAL, "ard_field_new: opts is NULL");
    }
    ard_status st =
        ard__grid_check(o->n, o->box, FIELD_BYTES_PER_CELL, o->max_bytes, "ard_field_new", err);
    if (st != ARD_OK) {
        return st;
    }
    if (!(o->redshift > -1.0) || !isfinite(o->redshift)) {
        return ard_error_set(err, ARD_EINVAL, "ard_field_new: redshift = %g is not > -1",
                             o->redshift);
    }
    if (o->lpt_order != 1 && o->lpt_order != 2) {
        return ard_error_set(err, ARD_EINVAL, "ard_field_new: lpt_order = %d (must be 1 or 2)",
                             (int)o->lpt_order);
    }
    if (o->lpt_order == 2) { /* three more real grids while the second order is computed */
        return ard__grid_check(o->n, o->box, FIELD_BYTES_PER_CELL + 24, o->max_bytes,
                               "ard_field_new", err);
    }
    return ARD_OK;
}

/* Trilinear weights of position p on the periodic grid: corner c of 8 gets w[c] at idx[c]. */
static void cic_corners(int32_t n, double box, const double *p, double *w, size_t *idx) {
    double inv_cell = n / box, f1[3];
    int64_t i0[3];
    for (int a = 0; a < 3; a++) {
        double u = p[a] * inv_cell, fl = floor(u);
        f1[a] = u - fl;
        i0[a] = (int64_t)fmod(fl, (double)n);
    }
    for (int c = 0; c < 8; c++) {
        double wt = 1.0;
        size_t id = 0;
        for (int a = 0; a < 3; a++) {
            int bit = (c >> (2 - a)) & 1;
            wt *= bit ? f1[a] : 1.0 - f1[a];
            int64_t m = (i0[a] + bit) % n;
            id = id * (size_t)n + (size_t)(m < 0 ? m + n : m);
        }
        w[c] = wt;
        idx[c] = id;
    }
}

ard_status ard_field_sample(const ard_field *f, const double *points, int64_t n_points,
                            double *delta, double *psi, ard_error *err) {
    if (!f || n_points < 0 || (n_points > 0 && !points)) {
        return ard_error_set(err, ARD_EINVAL, "ard_field_sample: NULL field or points");
    }
    for (int64_t i = 0; i < n_points; i++) {
        const double *p = points + 3 * i;
        if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2]) ||
            fabs(p[0]) + fabs(p[1]) + fabs(p[2]) > 1e12) {
            return ard_error_set(err, ARD_EINVAL,
                                 "ard_field_sample: point %lld is not finite or out of range",
                                 (long long)i);
        }
        double w[8];
        size_t idx[8];
        cic_corners(f->n, f->box, p, w, idx);
        const double *grids[4] = {f->delta.p, f->psi[0].p, f->psi[1].p, f->psi[2].p};
        double v[4] = {0};
        for (int c = 0; c < 8; c++) {
            for (int g = 0; g < 4; g++) {
                v[g] += w[c] * grids[g][idx[c]];
            }
        }
        if (delta) {
            delta[i] = v[0];
        }
        if (psi) {
            psi[3 * i] = v[1];
            psi[3 * i + 1] = v[2];
            psi[3 * i + 2] = v[3];
        }
    }
    return ARD_OK;
}

#if ARD_HAVE_FFTW

typedef struct field_run {
    int32_t n;
    double box, growth;
    uint64_t seed;
    const ard_power *power;
    ard_zig zig;
    double *real;       /* white noise, then output grids */
    fftw_complex *dk;   /* delta(k), FFTW convention (sum over cells) */
    fftw_complex *work; /* one derivative at a time */
    int32_t axis;       /* displacement component of deriv_task */
    int32_t axis2;      /* second index of tensor_task */
    int32_t lpt_order;
} field_run;

static void noise_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    field_run *r = arg;
    ard_rng_words s;
    ard_rng_words_init(&s, r->seed, ARD__STREAM_GRF, (uint64_t)i);
    size_t n = (size_t)r->n, base = (size_t)i * n * n;
    for (size_t c = 0; c < n * n; c++) {
        r->real[base + c] = ard_zig_normal(&r->zig, &s);
    }
}

/* White noise -> delta(k): amplitude sqrt(P(k) D^2 n^3 / box^3) on FFT plane i. */
static void amplitude_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    field_run *r = arg;
    int32_t n = r->n, nh = n / 2 + 1;
    double kf = 2.0 * M_PI / r->box;
    double scale = r->growth * r->growth * (double)n * n * n / (r->box * r->box * r->box);
    double kx = kf * ard__wave_index((int32_t)i, n);
    for (int32_t j = 0; j < n; j++) {
        double ky = kf * ard__wave_index(j, n);
        fftw_complex *row = r->dk + ((size_t)i * n + j) * nh;
        for (int32_t l = 0; l < nh; l++) {
            double kz = kf * l, k = sqrt(kx * kx + ky * ky + kz * kz);
            double amp = k > 0.0 ? sqrt(ard_power_linear(r->power, k) * scale) : 0.0;
            row[l][0] *= amp;
            row[l][1] *= amp;
        }
    }
}

/* work = i k_axis / k^2 delta(k) / n^3 (0 for the axis's Nyquist plane and k = 0). */
static void deriv_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    field_run *r = arg;
    int32_t n = r->n, nh = n / 2 + 1;
    double kf = 2.0 * M_PI / r->box, norm = 1.0 / ((double)n * n * n);
    int32_t wi = ard__wave_index((int32_t)i, n);
    for (int32_t j = 0; j < n; j++) {
        int32_t wj = ard__wave_index(j, n);
        size_t off = ((size_t)i * n + j) * nh;
        for (int32_t l = 0; l < nh; l++) {
            int32_t w[3] = {wi, wj, l};
            double k2 = kf * kf * ((double)wi * wi + (double)wj * wj + (double)l * l);
            double ka = kf * w[r->axis];
            double g = (k2 > 0.0 && w[r->axis] != n / 2) ? ka / k2 * norm : 0.0;
            /* (a + ib) * i g = -b g + i a g */
            r->work[off + l][0] = -r->dk[off + l][1] * g;
            r->work[off + l][1] = r->dk[off + l][0] * g;
        }
    }
}

/* work = k_a k_b / k^2 delta(k) / n^3 = the tidal tensor T_ab = d_a d_b phi (laplacian phi =
 * delta); an off-diagonal component is 0 on either axis's Nyquist plane. */
static void tensor_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    field_run *r = arg;
    int32_t n = r->n, nh = n / 2 + 1, a = r->axis, b = r->axis2;
    double norm = 1.0 / ((double)n * n * n); /* k_a k_b / k^2: the fundamental cancels */
    int32_t wi = ard__wave_index((int32_t)i, n);
    for (int32_t j = 0; j < n; j++) {
        int32_t wj = ard__wave_index(j, n);
        size_t off = ((size_t)i * n + j) * nh;
        for (int32_t l = 0; l < nh; l++) {
            int32_t w[3] = {wi, wj, l};
            double k2 = (double)wi * wi + (double)wj * wj + (double)l * l;
            int nyq = a != b && (w[a] == n / 2 || w[b] == n / 2);
            double g = (k2 > 0.0 && !nyq) ? (double)w[a] * w[b] / k2 * norm : 0.0;
            r->work[off + l][0] = r->dk[off + l][0] * g;
            r->work[off + l][1] = r->dk[off + l][1] * g;
        }
    }
}

/* The second-order displacement (2LPT; Scoccimarro 1998, Crocce, Pueblas & Scoccimarro 2006):
 * x = q + psi1 + psi2, psi2 = (3/7) grad laplacian^-1 S, S = sum_{a<b} (T_aa T_bb - T_ab^2) of the
 * linear tidal tensor (D2 = -3/7 D1^2, the Omega_m^(-1/143) correction neglected), so that
 * div psi2 = -(3/7) S. Uses three more real grids; r->dk is overwritten with S(k). */
static ard_status second_order(field_run *r, ard_field *f, ard_pool *pool, ard_error *err) {
    size_t cells = (size_t)r->n * r->n * r->n;
    ard__abuf buf[3] = {{0}, {0}, {0}};
    double *t[3];
    for (int a = 0; a < 3; a++) {
        t[a] = ard__abuf_alloc(&buf[a], cells * sizeof(double));
    }
    ard_status st = (t[0] && t[1] && t[2])
                        ? ARD_OK
                        : ard_error_set(err, ARD_ENOMEM, "ard_field_new: out of memory for 2LPT");
    for (int32_t a = 0; a < 3 && st == ARD_OK; a++) {
        r->axis = r->axis2 = a;
        ard_pool_for(pool, r->n, tensor_task, r);
        st = ard__fft_c2r(r->n, r->work, t[a], err);
    }
    double *src = t[2];
    for (size_t c = 0; st == ARD_OK && c < cells; c++) {
        src[c] = t[0][c] * t[1][c] + t[0][c] * t[2][c] + t[1][c] * t[2][c];
    }
    static const int32_t pairs[3][2] = {{0, 1}, {0, 2}, {1, 2}};
    for (int p = 0; p < 3 && st == ARD_OK; p++) {
        r->axis = pairs[p][0];
        r->axis2 = pairs[p][1];
        ard_pool_for(pool, r->n, tensor_task, r);
        st = ard__fft_c2r(r->n, r->work, t[0], err);
        for (size_t c = 0; st == ARD_OK && c < cells; c++) {
            src[c] -= t[0][c] * t[0][c];
        }
    }
    st = st ? st : ard__fft_r2c(r->n, src, r->dk, err);
    for (int32_t a = 0; a < 3 && st == ARD_OK; a++) {
        r->axis = a;
        ard_pool_for(pool, r->n, deriv_task, r); /* i k_a / k^2 S(k) / n^3 */
        st = ard__fft_c2r(r->n, r->work, t[0], err);
        double *psi = f->psi[a].p;
        for (size_t c = 0; st == ARD_OK && c < cells; c++) {
            psi[c] += 3.0 / 7.0 * t[0][c];
        }
    }
    for (int a = 0; a < 3; a++) {
        ard__abuf_free(&buf[a]);
    }
    return st;
}

static ard_status draw(field_run *r, ard_field *f, ard_pool *pool, ard_error *err) {
    size_t n = (size_t)r->n, cells = n * n * n;
    ard_pool_for(pool, r->n, noise_task, r);
    ard_status st = ard__fft_r2c(r->n, r->real, r->dk, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_pool_for(pool, r->n, amplitude_task, r);
    size_t nc = n * n * (n / 2 + 1);
    memcpy(r->work, r->dk, nc * sizeof(fftw_complex));
    double norm = 1.0 / (double)cells;
    for (size_t c = 0; c < nc; c++) {
        r->work[c][0] *= norm;
        r->work[c][1] *= norm;
    }
    st = ard__fft_c2r(r->n, r->work, f->delta.p, err);
    for (int32_t a = 0; a < 3 && st == ARD_OK; a++) {
        r->axis = a;
        ard_pool_for(pool, r->n, deriv_task, r);
        st = ard__fft_c2r(r->n, r->work, f->psi[a].p, err);
    }
    if (st == ARD_OK && r->lpt_order == 2) {
        st = second_order(r, f, pool, err);
    }
    return st;
}

static ard_status alloc_field(ard_field *f, int32_t n, ard_error *err) {
    size_t bytes = (size_t)n * n * n * sizeof(double);
    int ok = ard__abuf_alloc(&f->delta, bytes) != NULL;
    for (int a = 0; a < 3; a++) {
        ok = ok && ard__abuf_alloc(&f->psi[a], bytes) != NULL;
    }
    return ok ? ARD_OK
              : ard_error_set(err, ARD_ENOMEM, "ard_field_new: out of memory (n = %d)", (int)n);
}

ard_status ard_field_new(const ard_field_options *o, ard_field **out, ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_field_new: out is NULL");
    }
    *out = NULL;
    ard_status st = check_options(o, err);
    if (st != ARD_OK) {
        return st;
    }
    field_run r;
    memset(&r, 0, sizeof r);
    r.n = o->n;
    r.box = o->box;
    r.seed = o->seed;
    r.lpt_order = o->lpt_order;
    ard_power *power = NULL;
    ard_pool *pool = NULL;
    ard__abuf dk = {0}, work = {0};
    ard_field *f = ard_calloc(1, sizeof *f);
    if (!f) {
        return ard_error_set(err, ARD_ENOMEM, "ard_field_new: out of memory");
    }
    f->n = o->n;
    f->box = o->box;
    size_t n = (size_t)o->n, nc = n * n * (n / 2 + 1);
    st = ard_power_new(o->power, &power, err);
    if (st == ARD_OK) {
        st = ard_pool_new(o->threads, &pool, err);
    }
    if (st == ARD_OK) {
        st = alloc_field(f, o->n, err);
    }
    if (st == ARD_OK) {
        r.real = f->delta.p; /* the white noise lives in delta until the first inverse FFT */
        r.dk = ard__abuf_alloc(&dk, nc * sizeof(fftw_complex));
        r.work = ard__abuf_alloc(&work, nc * sizeof(fftw_complex));
        if (!r.dk || !r.work) {
            st = ard_error_set(err, ARD_ENOMEM, "ard_field_new: out of memory (n = %d)", (int)o->n);
        }
    }
    if (st == ARD_OK) {
        double om = ard_power_get_params(power)->omega_m, z = o->redshift;
        r.power = power;
        r.growth = ard_growth_factor(om, z);
        ard_zig_init(&r.zig);
        f->velocity_factor = 100.0 * ard_hubble_efunc(om, z) * ard_growth_rate(om, z) / (1.0 + z);
        st = draw(&r, f, pool, err);
    }
    ard__abuf_free(&dk);
    ard__abuf_free(&work);
    ard_pool_free(pool);
    ard_power_free(power);
    if (st != ARD_OK) {
        ard_field_free(f);
        return st;
    }
    *out = f;
    return ARD_OK;
}

ard_status ard_field_evolved_density(const ard_field *f, double *out, ard_error *err) {
    if (!f || !out) {
        return ard_error_set(err, ARD_EINVAL, "ard_field_evolved_density: NULL argument");
    }
    int32_t n = f->n;
    size_t cells = (size_t)n * n * n;
    double inv_cell = n / f->box;
    const double *px = f->psi[0].p, *py = f->psi[1].p, *pz = f->psi[2].p;
    for (size_t c = 0; c < cells; c++) {
        out[c] = -1.0;
    }
    for (int32_t i = 0; i < n; i++) {
        for (int32_t j = 0; j < n; j++) {
            for (int32_t l = 0; l < n; l++) {
                size_t c = ((size_t)i * n + j) * n + l;
                double u[3] = {i + px[c] * inv_cell, j + py[c] * inv_cell, l + pz[c] * inv_cell};
                int64_t i0[3];
                double w1[3];
                for (int a = 0; a < 3; a++) {
                    double fl = floor(u[a]);
                    w1[a] = u[a] - fl;
                    i0[a] = (int64_t)fl;
                }
                for (int corner = 0; corner < 8; corner++) {
                    double w = 1.0;
                    size_t idx = 0;
                    for (int a = 0; a < 3; a++) {
                        int bit = (corner >> (2 - a)) & 1;
                        w *= bit ? w1[a] : 1.0 - w1[a];
                        int64_t m = (i0[a] + bit) % n;
                        idx = idx * (size_t)n + (size_t)(m < 0 ? m + n : m);
                    }
                    out[idx] += w;
                }
            }
        }
    }
    return ARD_OK;
}

#else /* !ARD_HAVE_FFTW */

ard_status ard_field_new(const ard_field_options *o, ard_field **out, ard_error *err) {
    if (out) {
        *out = NULL;
    }
    ard_status st = check_options(o, err);
    return st != ARD_OK
               ? st
               : ard_error_set(err, ARD_ENOTSUP, "ard_field_new: ard was built without FFTW");
}

ard_status ard_field_evolved_density(const ard_field *f, double *out, ard_error *err) {
    (void)f;
    (void)out;
    return ard_error_set(err, ARD_ENOTSUP, "ard_field_evolved_density: built without FFTW");
}

#endif
