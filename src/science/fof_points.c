/* Friends-of-friends on plain arrays: the two public linking entry points (isotropic Cartesian,
 * redshift-space with per-galaxy lengths). They validate, build the tree and run the linker. */
#include "science_int.h"

#include <string.h>

ard_status ard__fof_link_built(double *pts, int64_t n, int32_t dims, const double scale[4],
                               const sci_link_input *in, ard_pool *pool, int64_t *labels,
                               ard_error *err) {
    sci_tree tree;
    memset(&tree, 0, sizeof tree);
    ard_status st = ard__tree_build(&tree, pts, n, dims, scale, pool, err);
    if (st == ARD_OK) {
        st = ard__fof_link_tree(&tree, in, pool, labels, err);
    }
    ard__tree_reset(&tree);
    return st;
}

static ard_status link_common(double *pts, int64_t n, int32_t dims, const double scale[4],
                              const sci_link_input *in, int32_t threads, int64_t *labels,
                              ard_error *err) {
    ard_pool *pool = NULL;
    ard_status st = ard__sci_pool(threads, &pool, err);
    if (st != ARD_OK) {
        ard_free(pts);
        return st;
    }
    st = ard__fof_link_built(pts, n, dims, scale, in, pool, labels, err);
    ard_pool_free(pool);
    return st;
}

ard_status ard_fof_link_isotropic(const double *xyz, int64_t n, double link, int32_t threads,
                                  int64_t *labels, ard_error *err) {
    if (n < 0 || (n > 0 && (!xyz || !labels))) {
        return ard_error_set(err, ARD_EINVAL, "fof: bad arguments (n = %lld)", (long long)n);
    }
    if (!(link >= 0.0) || link > 1e300) {
        return ard_error_set(err, ARD_EINVAL, "fof: linking length %g must be finite and >= 0",
                             link);
    }
    ard_status st = ard__check_finite(xyz, n, 3, "coordinate", err);
    if (st != ARD_OK || n == 0) {
        return st;
    }
    double *pts = ard_malloc((size_t)n * 4 * sizeof *pts);
    if (!pts) {
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory for %lld points", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        memcpy(pts + 4 * i, xyz + 3 * i, 3 * sizeof *pts);
        pts[4 * i + 3] = 0.0;
    }
    static const double scale[4] = {1.0, 1.0, 1.0, 0.0};
    sci_link_input in = {ARD_FOF_ISOTROPIC, link, NULL, NULL};
    return link_common(pts, n, 3, scale, &in, threads, labels, err);
}

static ard_status check_lengths(const double *v, int64_t n, const char *what, double *mean,
                                ard_error *err) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (!(v[i] >= 0.0) || v[i] > 1e300) {
            return ard_error_set(
                err, ARD_EINVAL,
                "fof: %s linking length of galaxy %lld is %g (must be finite, >= 0)", what,
                (long long)i, v[i]);
        }
        sum += v[i];
    }
    *mean = n > 0 ? sum / (double)n : 0.0;
    return ARD_OK;
}

ard_status ard_fof_link_redshift(const double *unit, const double *dist, const double *ang,
                                 const double *los, int64_t n, int32_t threads, int64_t *labels,
                                 ard_error *err) {
    if (n < 0 || (n > 0 && (!unit || !dist || !ang || !los || !labels))) {
        return ard_error_set(err, ARD_EINVAL, "fof: bad arguments (n = %lld)", (long long)n);
    }
    double mean_ang = 0.0, mean_los = 0.0;
    ard_status st = ard__check_finite(unit, n, 3, "unit vector", err);
    if (st == ARD_OK) {
        st = ard__check_finite(dist, n, 1, "comoving distance", err);
    }
    if (st == ARD_OK) {
        st = check_lengths(ang, n, "angular", &mean_ang, err);
    }
    if (st == ARD_OK) {
        st = check_lengths(los, n, "line-of-sight", &mean_los, err);
    }
    if (st != ARD_OK || n == 0) {
        return st;
    }
    double *pts = ard_malloc((size_t)n * 4 * sizeof *pts);
    if (!pts) {
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory for %lld points", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        memcpy(pts + 4 * i, unit + 3 * i, 3 * sizeof *pts);
        pts[4 * i + 3] = dist[i];
    }
    /* Split where the box is widest in units of the typical linking length of each axis. */
    double sa = mean_ang > 0.0 ? 1.0 / mean_ang : 1.0, sl = mean_los > 0.0 ? 1.0 / mean_los : 1.0;
    double scale[4] = {sa, sa, sa, sl};
    sci_link_input in = {ARD_FOF_REDSHIFT, 0.0, ang, los};
    return link_common(pts, n, 4, scale, &in, threads, labels, err);
}
