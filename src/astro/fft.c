/* FFTW wrappers and the argument checks shared by the grid code (field.c, tweb_grid.c). FFTW's
 * planner keeps global state and is not thread-safe: plans are made under one process-wide mutex
 * (the only global of the module; it holds no data). */
#include "astro_int.h"

#include <pthread.h>

ard_status ard__grid_check(int32_t n, double box, int64_t bytes_per_cell, int64_t max_bytes,
                           const char *who, ard_error *err) {
    if (n > ARD_FIELD_MAX_N) {
        return ard_error_set(err, ARD_ELIMIT, "%s: n = %d cells per side is above the limit %d",
                             who, (int)n, ARD_FIELD_MAX_N);
    }
    if (n < 8 || (n & (n - 1)) != 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "%s: n = %d cells per side is not a power of two >= 8", who, (int)n);
    }
    if (!(box > 0.0) || !isfinite(box)) {
        return ard_error_set(err, ARD_EINVAL, "%s: box = %g Mpc/h is not a positive finite side",
                             who, box);
    }
    int64_t cap = max_bytes > 0 ? max_bytes : ARD__DEFAULT_MAX_BYTES;
    int64_t need = bytes_per_cell * (int64_t)n * n * n;
    if (need > cap) {
        return ard_error_set(err, ARD_ELIMIT, "%s: n = %d needs %lld bytes, above max_bytes = %lld",
                             who, (int)n, (long long)need, (long long)cap);
    }
    return ARD_OK;
}

#if ARD_HAVE_FFTW

static pthread_mutex_t g_planner_lock = PTHREAD_MUTEX_INITIALIZER;

ard_status ard__fft_r2c(int32_t n, const double *in, fftw_complex *out, ard_error *err) {
    pthread_mutex_lock(&g_planner_lock);
    /* out-of-place r2c preserves its input (FFTW's default), so the cast is safe */
    fftw_plan p = fftw_plan_dft_r2c_3d(n, n, n, (double *)(uintptr_t)in, out, FFTW_ESTIMATE);
    pthread_mutex_unlock(&g_planner_lock);
    if (!p) {
        return ard_error_set(err, ARD_ENOMEM, "fft: no FFTW plan for n = %d", (int)n);
    }
    fftw_execute(p);
    pthread_mutex_lock(&g_planner_lock);
    fftw_destroy_plan(p);
    pthread_mutex_unlock(&g_planner_lock);
    return ARD_OK;
}

ard_status ard__fft_c2r(int32_t n, fftw_complex *in, double *out, ard_error *err) {
    pthread_mutex_lock(&g_planner_lock);
    fftw_plan p = fftw_plan_dft_c2r_3d(n, n, n, in, out, FFTW_ESTIMATE);
    pthread_mutex_unlock(&g_planner_lock);
    if (!p) {
        return ard_error_set(err, ARD_ENOMEM, "fft: no FFTW plan for n = %d", (int)n);
    }
    fftw_execute(p);
    pthread_mutex_lock(&g_planner_lock);
    fftw_destroy_plan(p);
    pthread_mutex_unlock(&g_planner_lock);
    return ARD_OK;
}

#endif
