/* From component labels to the published result: groups of >= 2 members numbered 1..G by decreasing
 * size (ties: smallest member TARGETID), singletons 0, and the group catalog (centre, radius,
 * gapper velocity dispersion). Also the result accessors. */
#include "science_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define C_KMS 299792.458

typedef struct group_key {
    int64_t label;
    int64_t members;
    int64_t first_tid;
} group_key;

static int cmp_key(const void *a, const void *b) {
    const group_key *x = a, *y = b;
    if (x->members != y->members) {
        return x->members > y->members ? -1 : 1;
    }
    return (x->first_tid > y->first_tid) - (x->first_tid < y->first_tid);
}

/* Fills r->group_id; returns the members' row numbers grouped by id in `order` with `start[g]`
 * (g = 0..G) offsets (caller frees both). */
static ard_status number_groups(ard_fof_result *r, const int64_t *labels, const int64_t *targetid,
                                int64_t **order_out, int64_t **start_out, ard_error *err) {
    int64_t n = r->n;
    int64_t *count = ard_calloc((size_t)(n > 0 ? n : 1), sizeof *count);
    int64_t *first = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *first);
    r->group_id = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *r->group_id);
    if (!count || !first || !r->group_id) {
        ard_free(count);
        ard_free(first);
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory numbering groups");
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t tid = targetid ? targetid[i] : i, l = labels[i];
        first[l] = count[l] == 0 || tid < first[l] ? tid : first[l];
        count[l]++;
    }
    int64_t groups = 0;
    for (int64_t i = 0; i < n; i++) {
        groups += count[i] >= 2;
    }
    group_key *keys = ard_malloc((size_t)(groups > 0 ? groups : 1) * sizeof *keys);
    int64_t *start = ard_calloc((size_t)groups + 2, sizeof *start);
    int64_t *order = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    if (!keys || !start || !order) {
        ard_free(keys);
        ard_free(start);
        ard_free(order);
        ard_free(count);
        ard_free(first);
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory numbering groups");
    }
    for (int64_t i = 0, g = 0; i < n; i++) {
        if (count[i] >= 2) {
            keys[g++] = (group_key){i, count[i], first[i]};
        }
    }
    qsort(keys, (size_t)groups, sizeof *keys, cmp_key);
    memset(first, 0, (size_t)n * sizeof *first); /* reused: label -> group id */
    for (int64_t g = 0; g < groups; g++) {
        first[keys[g].label] = g + 1;
        start[g + 1] = start[g] + keys[g].members;
    }
    r->num_groups = groups;
    r->num_grouped = start[groups];
    for (int64_t i = 0; i < n; i++) {
        r->group_id[i] = first[labels[i]];
    }
    memcpy(count, start, (size_t)(groups + 1) * sizeof *start); /* fill cursors */
    for (int64_t i = 0; i < n; i++) {
        int64_t g = r->group_id[i];
        if (g > 0) {
            order[count[g - 1]++] = i;
        }
    }
    ard_free(keys);
    ard_free(count);
    ard_free(first);
    *order_out = order;
    *start_out = start;
    return ARD_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Gapper estimator (Beers et al. 1990) on sorted velocities, times sqrt(N / (N - 1)) as in GAMA. */
static double gapper(const double *v, int64_t n) {
    if (n < 2) {
        return 0.0;
    }
    double sum = 0.0;
    for (int64_t i = 1; i < n; i++) {
        sum += (double)i * (double)(n - i) * (v[i] - v[i - 1]);
    }
    double nn = (double)n;
    return sqrt(M_PI) / (nn * (nn - 1.0)) * sum * sqrt(nn / (nn - 1.0));
}

static void describe_group(ard_fof_group *g, const int64_t *rows, int64_t m, const double *z,
                           const fof_sample *s, double *scratch) {
    double c[3] = {0, 0, 0};
    for (int64_t k = 0; k < m; k++) {
        int64_t i = rows[k];
        for (int d = 0; d < 3; d++) {
            c[d] += s->dist[i] * s->unit[3 * i + d] / (double)m;
        }
        scratch[k] = z[i];
    }
    qsort(scratch, (size_t)m, sizeof *scratch, cmp_double);
    g->z_centre = m % 2 ? scratch[m / 2] : 0.5 * (scratch[m / 2 - 1] + scratch[m / 2]);
    g->x = c[0];
    g->y = c[1];
    g->z = c[2];
    double dc = sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
    double u[3] = {c[0] / dc, c[1] / dc, c[2] / dc};
    g->ra = fmod(atan2(u[1], u[0]) * 180.0 / M_PI + 360.0, 360.0);
    g->dec = asin(fmax(-1.0, fmin(1.0, u[2]))) * 180.0 / M_PI;
    double sum2 = 0.0, rmax = 0.0;
    for (int64_t k = 0; k < m; k++) {
        const double *p = s->unit + 3 * rows[k];
        double dx = p[0] - u[0], dy = p[1] - u[1], dz = p[2] - u[2];
        double chord = sqrt(dx * dx + dy * dy + dz * dz);
        double proj = dc * 2.0 * asin(fmin(1.0, 0.5 * chord));
        sum2 += proj * proj;
        rmax = proj > rmax ? proj : rmax;
    }
    g->radius_mpc = sqrt(sum2 / (double)m);
    g->radius_max_mpc = rmax;
    for (int64_t k = 0; k < m; k++) {
        scratch[k] = C_KMS * (scratch[k] - g->z_centre) / (1.0 + g->z_centre);
    }
    g->sigma_v = gapper(scratch, m); /* already sorted: v is increasing in z */
}

ard_status ard__fof_groups(ard_fof_result *r, const int64_t *labels, const int64_t *targetid,
                           const double *z, const fof_sample *s, ard_error *err) {
    int64_t *order = NULL, *start = NULL;
    ard_status st = number_groups(r, labels, targetid, &order, &start, err);
    if (st != ARD_OK) {
        return st;
    }
    int64_t largest = r->num_groups > 0 ? start[1] - start[0] : 0;
    r->groups = ard_calloc((size_t)(r->num_groups > 0 ? r->num_groups : 1), sizeof *r->groups);
    double *scratch = ard_malloc((size_t)(largest > 0 ? largest : 1) * sizeof *scratch);
    if (!r->groups || !scratch) {
        st = ard_error_set(err, ARD_ENOMEM, "fof: out of memory for the group catalog");
    }
    for (int64_t g = 0; st == ARD_OK && g < r->num_groups; g++) {
        ard_fof_group *grp = &r->groups[g];
        const int64_t *rows = order + start[g];
        int64_t m = start[g + 1] - start[g];
        grp->group_id = g + 1;
        grp->members = m;
        grp->first_targetid = INT64_MAX;
        for (int64_t k = 0; k < m; k++) {
            int64_t tid = targetid ? targetid[rows[k]] : rows[k];
            grp->first_targetid = tid < grp->first_targetid ? tid : grp->first_targetid;
        }
        describe_group(grp, rows, m, z, s, scratch);
    }
    ard_free(scratch);
    ard_free(order);
    ard_free(start);
    return st;
}

void ard_fof_result_free(ard_fof_result *r) {
    if (r) {
        ard_free(r->group_id);
        ard_free(r->groups);
        ard_free(r);
    }
}

int64_t ard_fof_num_galaxies(const ard_fof_result *r) {
    return r ? r->n : 0;
}
const ard_fof_params *ard_fof_result_params(const ard_fof_result *r) {
    return r ? &r->params : NULL;
}
const int64_t *ard_fof_group_ids(const ard_fof_result *r) {
    return r ? r->group_id : NULL;
}
int64_t ard_fof_num_groups(const ard_fof_result *r) {
    return r ? r->num_groups : 0;
}
int64_t ard_fof_num_grouped(const ard_fof_result *r) {
    return r ? r->num_grouped : 0;
}
double ard_fof_link_used(const ard_fof_result *r) {
    return r ? r->link_used : 0.0;
}
double ard_fof_median_par_used(const ard_fof_result *r) {
    return r ? r->par_used : 0.0;
}
double ard_fof_area_used(const ard_fof_result *r) {
    return r ? r->area_used : 0.0;
}
double ard_fof_seconds_link(const ard_fof_result *r) {
    return r ? r->seconds_link : 0.0;
}

const ard_fof_group *ard_fof_group_at(const ard_fof_result *r, int64_t g) {
    if (!r || g < 0 || g >= r->num_groups) {
        return NULL;
    }
    return &r->groups[g];
}
