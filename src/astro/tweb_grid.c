/* The T-web on a periodic grid (include/ard/astro.h): tidal tensor by FFT with Gaussian smoothing,
 * eigenvalues and classes per cell, trilinear (CIC) sampling of the tensor at arbitrary points. */
#include "astro_int.h"

#include <math.h>
#include <string.h>

#define TWEB_BYTES_PER_CELL 73 /* kept 41 + delta copy 8 + two complex arrays ~24 */

void ard_tweb_grid_options_init(ard_tweb_grid_options *o) {
    memset(o, 0, sizeof *o);
    o->smoothing = 2.0;
    o->lambda_th = 0.2;
    o->threads = 0;
    o->max_bytes = ARD__DEFAULT_MAX_BYTES;
}

struct ard_tweb_grid {
    int32_t n;
    double box, lambda_th;
    float *tensor; /* 6 per cell: xx yy zz xy xz yz */
    float *lambda; /* 3 per cell, descending */
    float *delta;
    uint8_t *cls;
};

void ard_tweb_grid_free(ard_tweb_grid *w) {
    if (!w) {
        return;
    }
    ard_free(w->tensor);
    ard_free(w->lambda);
    ard_free(w->delta);
    ard_free(w->cls);
    ard_free(w);
}

const uint8_t *ard_tweb_grid_classes(const ard_tweb_grid *w) {
    return w->cls;
}
const float *ard_tweb_grid_lambda(const ard_tweb_grid *w) {
    return w->lambda;
}
const float *ard_tweb_grid_delta(const ard_tweb_grid *w) {
    return w->delta;
}

void ard_tweb_grid_volume_fractions(const ard_tweb_grid *w, double *out) {
    int64_t counts[ARD_WEB_COUNT] = {0}, cells = (int64_t)w->n * w->n * w->n;
    for (int64_t c = 0; c < cells; c++) {
        counts[w->cls[c]]++;
    }
    for (int k = 0; k < ARD_WEB_COUNT; k++) {
        out[k] = (double)counts[k] / (double)cells;
    }
}

static void sample_one(const ard_tweb_grid *w, const double *p, float *lambda, float *delta,
                       uint8_t *cls) {
    int32_t n = w->n;
    double inv_cell = n / w->box, t[6] = {0};
    int64_t i0[3];
    double f1[3];
    for (int a = 0; a < 3; a++) {
        double u = p[a] * inv_cell, fl = floor(u);
        f1[a] = u - fl;
        i0[a] = (int64_t)fmod(fl, (double)n);
    }
    for (int corner = 0; corner < 8; corner++) {
        double wt = 1.0;
        int64_t idx = 0;
        for (int a = 0; a < 3; a++) {
            int bit = (corner >> (2 - a)) & 1;
            wt *= bit ? f1[a] : 1.0 - f1[a];
            int64_t m = (i0[a] + bit) % n;
            idx = idx * n + (m < 0 ? m + n : m);
        }
        for (int k = 0; k < 6; k++) {
            t[k] += wt * w->tensor[6 * idx + k];
        }
    }
    double e[3];
    ard__eigen3_sym(t, e);
    if (lambda) {
        for (int k = 0; k < 3; k++) {
            lambda[k] = (float)e[k];
        }
    }
    if (delta) {
        *delta = (float)(t[0] + t[1] + t[2]);
    }
    if (cls) {
        *cls = ard__web_class_of(e, w->lambda_th);
    }
}

ard_status ard_tweb_grid_sample(const ard_tweb_grid *w, const double *points, int64_t n_points,
                                float *lambda, float *delta, uint8_t *cls, ard_error *err) {
    if (!w || (n_points > 0 && !points) || n_points < 0) {
        return ard_error_set(err, ARD_EINVAL, "ard_tweb_grid_sample: NULL grid or points");
    }
    for (int64_t i = 0; i < n_points; i++) {
        const double *p = points + 3 * i;
        if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2]) ||
            fabs(p[0]) + fabs(p[1]) + fabs(p[2]) > 1e12) {
            return ard_error_set(err, ARD_EINVAL,
                                 "ard_tweb_grid_sample: point %lld is not finite or out of range",
                                 (long long)i);
        }
    }
    for (int64_t i = 0; i < n_points; i++) {
        sample_one(w, points + 3 * i, lambda ? lambda + 3 * i : NULL, delta ? delta + i : NULL,
                   cls ? cls + i : NULL);
    }
    return ARD_OK;
}

static ard_status check_args(const double *delta, int32_t n, double box,
                             const ard_tweb_grid_options *o, ard_tweb_grid **out, ard_error *err) {
    if (!out || !delta || !o) {
        return ard_error_set(err, ARD_EINVAL, "ard_tweb_grid_new: NULL delta, opts or out");
    }
    *out = NULL;
    ard_status st =
        ard__grid_check(n, box, TWEB_BYTES_PER_CELL, o->max_bytes, "ard_tweb_grid_new", err);
    if (st != ARD_OK) {
        return st;
    }
    if (!(o->smoothing > 0.0) || !isfinite(o->smoothing) || !isfinite(o->lambda_th)) {
        return ard_error_set(err, ARD_EINVAL,
                             "ard_tweb_grid_new: smoothing = %g must be positive and lambda_th = "
                             "%g finite",
                             o->smoothing, o->lambda_th);
    }
    return ARD_OK;
}

#if ARD_HAVE_FFTW

static void cell_eigen(const ard_tweb_grid *w, int64_t c) {
    double t[6], e[3];
    for (int k = 0; k < 6; k++) {
        t[k] = w->tensor[6 * c + k];
    }
    ard__eigen3_sym(t, e);
    for (int k = 0; k < 3; k++) {
        w->lambda[3 * c + k] = (float)e[k];
    }
    w->delta[c] = (float)(t[0] + t[1] + t[2]);
    w->cls[c] = ard__web_class_of(e, w->lambda_th);
}

typedef struct tweb_run {
    ard_tweb_grid *w;
    const fftw_complex *dk;
    fftw_complex *work;
    double *real;
    double smoothing;
    int a, b; /* tensor component being built */
    int slot; /* its index in the 6 */
} tweb_run;

static void component_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    tweb_run *r = arg;
    int32_t n = r->w->n, nh = n / 2 + 1;
    double kf = 2.0 * M_PI / r->w->box, norm = 1.0 / ((double)n * n * n);
    double r2h = 0.5 * r->smoothing * r->smoothing;
    int32_t wi = ard__wave_index((int32_t)i, n);
    for (int32_t j = 0; j < n; j++) {
        int32_t wj = ard__wave_index(j, n);
        size_t off = ((size_t)i * n + j) * nh;
        for (int32_t l = 0; l < nh; l++) {
            int32_t wv[3] = {wi, wj, l};
            double k2 = kf * kf * ((double)wi * wi + (double)wj * wj + (double)l * l);
            /* an odd derivative of a Nyquist mode is not a real field: drop it */
            int odd_nyq = r->a != r->b && (wv[r->a] == n / 2 || wv[r->b] == n / 2);
            double g = (k2 > 0.0 && !odd_nyq)
                           ? kf * kf * wv[r->a] * wv[r->b] / k2 * exp(-k2 * r2h) * norm
                           : 0.0;
            r->work[off + l][0] = r->dk[off + l][0] * g;
            r->work[off + l][1] = r->dk[off + l][1] * g;
        }
    }
}

static void store_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    tweb_run *r = arg;
    size_t n = (size_t)r->w->n, base = (size_t)i * n * n;
    for (size_t c = base; c < base + n * n; c++) {
        r->w->tensor[6 * c + (size_t)r->slot] = (float)r->real[c];
    }
}

static void eigen_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    tweb_run *r = arg;
    int64_t n = r->w->n, base = i * n * n;
    for (int64_t c = base; c < base + n * n; c++) {
        cell_eigen(r->w, c);
    }
}

static ard_status build(tweb_run *r, ard_pool *pool, ard_error *err) {
    static const int comp[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
    ard_status st = ARD_OK;
    int32_t n = r->w->n;
    for (int s = 0; s < 6 && st == ARD_OK; s++) {
        r->a = comp[s][0];
        r->b = comp[s][1];
        r->slot = s;
        ard_pool_for(pool, n, component_task, r);
        st = ard__fft_c2r(n, r->work, r->real, err);
        if (st == ARD_OK) {
            ard_pool_for(pool, n, store_task, r);
        }
    }
    if (st == ARD_OK) {
        ard_pool_for(pool, n, eigen_task, r);
    }
    return st;
}

ard_status ard_tweb_grid_new(const double *delta, int32_t n, double box,
                             const ard_tweb_grid_options *o, ard_tweb_grid **out, ard_error *err) {
    ard_status st = check_args(delta, n, box, o, out, err);
    if (st != ARD_OK) {
        return st;
    }
    size_t cells = (size_t)n * n * n, nc = (size_t)n * n * (n / 2 + 1);
    ard_tweb_grid *w = ard_calloc(1, sizeof *w);
    ard__abuf real = {0}, dk = {0}, work = {0};
    ard_pool *pool = NULL;
    if (!w) {
        return ard_error_set(err, ARD_ENOMEM, "ard_tweb_grid_new: out of memory");
    }
    w->n = n;
    w->box = box;
    w->lambda_th = o->lambda_th;
    w->tensor = ard_malloc(cells * 6 * sizeof(float));
    w->lambda = ard_malloc(cells * 3 * sizeof(float));
    w->delta = ard_malloc(cells * sizeof(float));
    w->cls = ard_malloc(cells);
    tweb_run r = {.w = w, .smoothing = o->smoothing};
    r.real = ard__abuf_alloc(&real, cells * sizeof(double));
    r.work = ard__abuf_alloc(&work, nc * sizeof(fftw_complex));
    fftw_complex *dkp = ard__abuf_alloc(&dk, nc * sizeof(fftw_complex));
    r.dk = dkp;
    if (!w->tensor || !w->lambda || !w->delta || !w->cls || !r.real || !r.work || !dkp) {
        st = ard_error_set(err, ARD_ENOMEM, "ard_tweb_grid_new: out of memory (n = %d)", (int)n);
    }
    if (st == ARD_OK) {
        memcpy(r.real, delta, cells * sizeof(double)); /* aligned copy: see ard__abuf */
        st = ard__fft_r2c(n, r.real, dkp, err);
    }
    if (st == ARD_OK) {
        st = ard_pool_new(o->threads, &pool, err);
    }
    if (st == ARD_OK) {
        st = build(&r, pool, err);
    }
    ard_pool_free(pool);
    ard__abuf_free(&real);
    ard__abuf_free(&dk);
    ard__abuf_free(&work);
    if (st != ARD_OK) {
        ard_tweb_grid_free(w);
        return st;
    }
    *out = w;
    return ARD_OK;
}

#else /* !ARD_HAVE_FFTW */

ard_status ard_tweb_grid_new(const double *delta, int32_t n, double box,
                             const ard_tweb_grid_options *o, ard_tweb_grid **out, ard_error *err) {
    ard_status st = check_args(delta, n, box, o, out, err);
    return st != ARD_OK ? st
                        : ard_error_set(err, ARD_ENOTSUP, "ard_tweb_grid_new: built without FFTW");
}

#endif
