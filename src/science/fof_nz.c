/* The survey's number density n(z) and the mean inter-galaxy separation l = n^(-1/3) at each galaxy:
 * from the caller's table (linear in z), or estimated from the galaxies themselves (counts in shells
 * of comoving distance over the shell volume times the sky fraction, interpolated linearly between
 * the centres of the occupied shells, so every galaxy sees a positive density). */
#include "science_int.h"

#include <math.h>

static double table_density(const ard_fof_params *p, double z) {
    const double *zz = p->nz_z, *nn = p->nz_density;
    int64_t n = p->nz_len;
    if (z <= zz[0]) {
        return nn[0];
    }
    if (z >= zz[n - 1]) {
        return nn[n - 1];
    }
    int64_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (zz[mid] <= z) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    double f = (z - zz[lo]) / (zz[hi] - zz[lo]);
    return nn[lo] + f * (nn[hi] - nn[lo]);
}

typedef struct shells {
    int64_t count;
    double width;
    double *density; /* per shell, 0 when empty */
    int64_t *prev;   /* nearest occupied shell at or below (-1 none) */
    int64_t *next;   /* nearest occupied shell at or above (-1 none) */
} shells;

static int64_t shell_of(const fof_sample *s, const shells *sh, double d) {
    int64_t k = (int64_t)((d - s->dmin) / sh->width);
    return k < 0 ? 0 : (k >= sh->count ? sh->count - 1 : k);
}

static void fill_shells(const fof_sample *s, shells *sh) {
    for (int64_t i = 0; i < s->n; i++) {
        sh->density[shell_of(s, sh, s->dist[i])] += 1.0;
    }
    for (int64_t k = 0; k < sh->count; k++) {
        double lo = s->dmin + (double)k * sh->width, hi = lo + sh->width;
        double volume = s->fsky * 4.0 / 3.0 * M_PI * (hi * hi * hi - lo * lo * lo);
        sh->density[k] = volume > 0.0 ? sh->density[k] / volume : 0.0;
    }
    int64_t last = -1;
    for (int64_t k = 0; k < sh->count; k++) {
        last = sh->density[k] > 0.0 ? k : last;
        sh->prev[k] = last;
    }
    last = -1;
    for (int64_t k = sh->count - 1; k >= 0; k--) {
        last = sh->density[k] > 0.0 ? k : last;
        sh->next[k] = last;
    }
}

/* Density at distance d: linear between the centres of the occupied shells around it. */
static double shell_density(const fof_sample *s, const shells *sh, double d) {
    int64_t k = shell_of(s, sh, d);
    double centre = s->dmin + ((double)k + 0.5) * sh->width;
    int64_t a, b;
    if (d >= centre) {
        a = k;
        b = k + 1 < sh->count ? sh->next[k + 1] : -1;
    } else {
        a = k > 0 ? sh->prev[k - 1] : -1;
        b = k;
    }
    if (a < 0 || b < 0) {
        return sh->density[k];
    }
    double ca = s->dmin + ((double)a + 0.5) * sh->width,
           cb = s->dmin + ((double)b + 0.5) * sh->width;
    double f = (d - ca) / (cb - ca);
    return sh->density[a] + f * (sh->density[b] - sh->density[a]);
}

ard_status ard__fof_mean_separation(const fof_sample *s, const double *z, const ard_fof_params *p,
                                    double *sep, ard_error *err) {
    if (p->nz_len > 0) {
        for (int64_t i = 0; i < s->n; i++) {
            sep[i] = cbrt(1.0 / table_density(p, z[i]));
        }
        return ARD_OK;
    }
    if (!(s->fsky > 0.0)) {
        return ard_error_set(err, ARD_EINVAL, "fof: survey area is zero: give --area or n(z)");
    }
    shells sh = {0, p->nz_bin_mpc, NULL, NULL, NULL};
    double span = s->dmax - s->dmin;
    sh.count = (int64_t)(span / sh.width) + 1;
    if (sh.count > 10000000) {
        return ard_error_set(err, ARD_EINVAL, "fof: n(z) bin %g Mpc too small for a %g Mpc range",
                             sh.width, span);
    }
    sh.density = ard_calloc((size_t)sh.count, sizeof *sh.density);
    sh.prev = ard_malloc((size_t)sh.count * sizeof *sh.prev);
    sh.next = ard_malloc((size_t)sh.count * sizeof *sh.next);
    ard_status st = ARD_OK;
    if (!sh.density || !sh.prev || !sh.next) {
        st = ard_error_set(err, ARD_ENOMEM, "fof: out of memory for n(z)");
    } else {
        fill_shells(s, &sh);
        for (int64_t i = 0; i < s->n; i++) {
            sep[i] = cbrt(1.0 / shell_density(s, &sh, s->dist[i]));
        }
    }
    ard_free(sh.density);
    ard_free(sh.prev);
    ard_free(sh.next);
    return st;
}
