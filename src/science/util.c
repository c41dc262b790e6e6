/* Small shared pieces of the science module: union-find storage, finiteness checks, thread pools,
 * the monotonic clock. */
#include "science_int.h"

#include <math.h>
#include <time.h>

ard_status ard__uf_init(sci_uf *uf, int64_t n, ard_error *err) {
    size_t count = (size_t)(n > 0 ? n : 1);
    uf->parent = ard_malloc(count * sizeof *uf->parent);
    if (!uf->parent) {
        ard__uf_reset(uf);
        return ard_error_set(err, ARD_ENOMEM, "union-find: out of memory for %lld points",
                             (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        uf->parent[i] = -1;
    }
    return ARD_OK;
}

void ard__uf_reset(sci_uf *uf) {
    ard_free(uf->parent);
    uf->parent = NULL;
}

ard_status ard__check_finite(const double *v, int64_t count, int64_t stride, const char *what,
                             ard_error *err) {
    for (int64_t i = 0; i < count; i++) {
        for (int64_t k = 0; k < stride; k++) {
            if (!isfinite(v[i * stride + k])) {
                return ard_error_set(err, ARD_EINVAL, "%s of point %lld is not finite (%g)", what,
                                     (long long)i, v[i * stride + k]);
            }
        }
    }
    return ARD_OK;
}

ard_status ard__sci_pool(int32_t threads, ard_pool **out, ard_error *err) {
    return ard_pool_new(threads, out, err);
}

double ard__sci_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
