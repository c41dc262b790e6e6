/* The generator's WEB_* truth columns recomputed from the survey's own truth files
 * (groups.parquet + field galaxies) with an independent brute-force point-mass T-web (numerically
 * integrated enclosed mass, no cut-off, Jacobi eigenvalues). */
#include "sv_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- the reference: everything computed from first principles ---- */

#define REF_TABLE 4000

typedef struct ref_kernel {
    double R, rmax, m[REF_TABLE + 1]; /* enclosed fraction of the Gaussian at r = i rmax / TABLE */
} ref_kernel;

static double gauss_w(double r, double R) {
    return exp(-r * r / (2.0 * R * R)) / pow(2.0 * M_PI * R * R, 1.5);
}

/* Enclosed fraction by Simpson integration of 4 pi s^2 W(s). */
static void ref_init(ref_kernel *k, double R) {
    k->R = R;
    k->rmax = 10.0 * R;
    double h = k->rmax / REF_TABLE;
    k->m[0] = 0.0;
    for (int i = 1; i <= REF_TABLE; i++) {
        double a = (i - 1) * h, b = i * h, c = 0.5 * (a + b);
        double fa = 4 * M_PI * a * a * gauss_w(a, R), fb = 4 * M_PI * b * b * gauss_w(b, R);
        double fc = 4 * M_PI * c * c * gauss_w(c, R);
        k->m[i] = k->m[i - 1] + h / 6.0 * (fa + 4 * fc + fb);
    }
}

static double ref_enclosed(const ref_kernel *k, double r) {
    if (r >= k->rmax) {
        return 1.0;
    }
    double x = r / k->rmax * REF_TABLE;
    int i = (int)x;
    double f = x - i;
    return k->m[i] * (1 - f) + k->m[i + 1] * f;
}

/* Tidal tensor (3x3) of masses at point p: phi'' and phi'/r of each smoothed point; tol > 0 applies
 * the documented cut-off (a mass is ignored beyond max(6 R, (2 q / (4 pi tol))^(1/3))), tol 0 none.
 */
static void ref_tide(const ref_kernel *k, const double *xyz, const double *q, int64_t n,
                     const double *p, double tol, double t[3][3]) {
    memset(t, 0, 9 * sizeof(double));
    for (int64_t h = 0; h < n; h++) {
        double d[3] = {p[0] - xyz[3 * h], p[1] - xyz[3 * h + 1], p[2] - xyz[3 * h + 2]};
        double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        double reach = tol > 0 ? fmax(6 * k->R, cbrt(2 * q[h] / (4 * M_PI * tol))) : INFINITY;
        if (r > reach) {
            continue;
        }
        double tang, rad;
        if (r < 1e-9) {
            tang = rad = gauss_w(0, k->R) / 3.0;
        } else {
            tang = ref_enclosed(k, r) / (4 * M_PI * r * r * r);
            rad = gauss_w(r, k->R) - 2 * tang;
        }
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                double nn = r < 1e-9 ? (a == b) : d[a] * d[b] / (r * r);
                t[a][b] += q[h] * (tang * (a == b) + (rad - tang) * nn);
            }
        }
    }
}

/* Eigenvalues by cyclic Jacobi rotations, sorted descending. */
static void ref_eigen(double a[3][3], double e[3]) {
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
        if (off < 1e-30) {
            break;
        }
        for (int p = 0; p < 2; p++) {
            for (int r = p + 1; r < 3; r++) {
                if (fabs(a[p][r]) < 1e-300) {
                    continue;
                }
                double th = 0.5 * atan2(2 * a[p][r], a[r][r] - a[p][p]);
                double c = cos(th), s = sin(th);
                for (int k = 0; k < 3; k++) { /* A <- A J */
                    double x = a[k][p], y = a[k][r];
                    a[k][p] = c * x - s * y;
                    a[k][r] = s * x + c * y;
                }
                for (int k = 0; k < 3; k++) { /* A <- J^T A */
                    double x = a[p][k], y = a[r][k];
                    a[p][k] = c * x - s * y;
                    a[r][k] = s * x + c * y;
                }
            }
        }
    }
    e[0] = a[0][0];
    e[1] = a[1][1];
    e[2] = a[2][2];
    for (int i = 0; i < 3; i++) {
        for (int j = i + 1; j < 3; j++) {
            if (e[j] > e[i]) {
                double x = e[i];
                e[i] = e[j];
                e[j] = x;
            }
        }
    }
}

static int ref_class(const double e[3], double th) {
    return (e[0] > th) + (e[1] > th) + (e[2] > th);
}

static char *join(const char *dir, const char *rel) {
    size_t len = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s/%s", dir, rel);
    return p;
}

static double kv_number(const char *text, const char *key) {
    const char *at = strstr(text, key);
    assert_non_null(at);
    return strtod(at + strlen(key), NULL);
}

static void to_xyz(const ard_cosmology *c, double ra, double dec, double z, double *out) {
    double d = ard_cosmology_comoving_distance(c, z) * ard_cosmology_h(c);
    double a = ra * M_PI / 180, b = dec * M_PI / 180;
    out[0] = d * cos(b) * cos(a);
    out[1] = d * cos(b) * sin(a);
    out[2] = d * sin(b);
}

static void test_generated_truth(void **state) {
    (void)state;
    char *dir = sv_tmpdir("web");
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = 30000;
    o.seed = 11;
    o.spectra_fraction = 0.0;
    o.threads = 2;
    assert_int_equal(ard_generate(dir, &o, NULL, NULL), ARD_OK);
    char *cat = join(dir, "catalog/zcatalog-0000.parquet"),
         *tru = join(dir, "truth/galaxies-0000.parquet");
    char *grp = join(dir, "truth/groups.parquet");
    double *ra, *dec, *zc, *gra, *gdec, *gz, *glm;
    int64_t *gid;
    int32_t *code;
    float *l1, *l2, *l3, *delta;
    char **names;
    int64_t n = sv_read_numeric(cat, "TARGET_RA", 8, (void **)&ra);
    assert_true(n == o.galaxies);
    assert_int_equal(sv_read_numeric(cat, "TARGET_DEC", 8, (void **)&dec), n);
    assert_int_equal(sv_read_numeric(tru, "Z_COSMO", 8, (void **)&zc), n);
    assert_int_equal(sv_read_numeric(tru, "GROUP_ID", 8, (void **)&gid), n);
    assert_int_equal(sv_read_numeric(tru, ARD_TRUTH_WEB_CODE, 4, (void **)&code), n);
    assert_int_equal(sv_read_numeric(tru, ARD_TRUTH_WEB_DELTA, 4, (void **)&delta), n);
    assert_int_equal(sv_read_numeric(tru, "WEB_LAMBDA1", 4, (void **)&l1), n);
    assert_int_equal(sv_read_numeric(tru, "WEB_LAMBDA2", 4, (void **)&l2), n);
    assert_int_equal(sv_read_numeric(tru, "WEB_LAMBDA3", 4, (void **)&l3), n);
    assert_int_equal(sv_read_strings(tru, ARD_TRUTH_WEB_CLASS, &names), n);
    int64_t ng = sv_read_numeric(grp, "RA", 8, (void **)&gra);
    assert_true(ng > 0);
    assert_int_equal(sv_read_numeric(grp, "DEC", 8, (void **)&gdec), ng);
    assert_int_equal(sv_read_numeric(grp, "Z", 8, (void **)&gz), ng);
    assert_int_equal(sv_read_numeric(grp, "LOG_MASS", 8, (void **)&glm), ng);
    /* parameters from the truth file's own metadata */
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(tru, NULL, &f, NULL), ARD_OK);
    const char *kv = ard_parquet_kv_get(f, ARD_KV_COSMIC_WEB);
    assert_non_null(kv);
    assert_non_null(strstr(kv, "method=tweb"));
    double R = kv_number(kv, "smoothing_mpc_h="), th = kv_number(kv, "lambda_th=");
    double field_lm = kv_number(kv, "field_log_mass=");
    ard_parquet_close(f);
    /* the mass field: groups at their centres, field galaxies at their positions */
    ard_cosmology *cosmo = NULL;
    assert_int_equal(ard_cosmology_new(NULL, 6.0, &cosmo, NULL), ARD_OK);
    double rho = 2.775e11 * 0.3111; /* Planck 2018 Om, (Msun/h) / (Mpc/h)^3 */
    double *mxyz = malloc((size_t)(ng + n) * 3 * sizeof(double));
    double *mq = malloc((size_t)(ng + n) * sizeof(double));
    int64_t nm = 0;
    for (int64_t g = 0; g < ng; g++, nm++) {
        to_xyz(cosmo, gra[g], gdec[g], gz[g], mxyz + 3 * nm);
        mq[nm] = pow(10.0, glm[g]) / rho;
    }
    for (int64_t i = 0; i < n; i++) {
        if (gid[i] < 0) {
            to_xyz(cosmo, ra[i], dec[i], zc[i], mxyz + 3 * nm);
            mq[nm++] = pow(10.0, field_lm) / rho;
        }
    }
    ref_kernel ker;
    ref_init(&ker, R);
    int64_t checked = 0, agree = 0, counts[ARD_WEB_COUNT] = {0};
    for (int64_t i = 0; i < n; i++) {
        assert_true(code[i] >= 0 && code[i] < ARD_WEB_COUNT);
        assert_string_equal(names[i], ard_web_class_name(code[i]));
        assert_true(l1[i] >= l2[i] && l2[i] >= l3[i]);
        sv_assert_near(delta[i], (double)l1[i] + l2[i] + l3[i], 1e-4 * (1 + fabs(delta[i])));
        counts[code[i]]++;
        if (i % 37 != 0) { /* the brute force is O(masses) per galaxy: check a sample */
            continue;
        }
        double p[3], t[3][3], e[3];
        to_xyz(cosmo, ra[i], dec[i], zc[i], p);
        ref_tide(&ker, mxyz, mq, nm, p, 0.0, t);
        ref_eigen(t, e);
        sv_assert_near(l1[i], e[0], 0.02 * (1 + fabs(e[0])));
        sv_assert_near(l2[i], e[1], 0.02 * (1 + fabs(e[1])));
        sv_assert_near(l3[i], e[2], 0.02 * (1 + fabs(e[2])));
        checked++;
        agree += ref_class(e, th) == code[i];
    }
    printf("generated web truth: %lld galaxies: void %lld sheet %lld filament %lld knot %lld; "
           "%lld/%lld sampled classes agree with the brute force\n",
           (long long)n, (long long)counts[0], (long long)counts[1], (long long)counts[2],
           (long long)counts[3], (long long)agree, (long long)checked);
    assert_true(checked > 500);
    assert_true(agree >= checked - checked / 100);
    assert_true(counts[ARD_WEB_VOID] > 0 && counts[ARD_WEB_KNOT] > 0 &&
                counts[ARD_WEB_FILAMENT] > 0);
    /* every member of a group above 10^14 Msun/h within R of its centre sits in its knot (all
     * three eigenvalues are q (W(R) - 2 m(R) / (4 pi R^3)) > 0.9 or more there) */
    int64_t cores = 0;
    for (int64_t i = 0; i < n; i++) {
        if (gid[i] >= 0 && glm[gid[i]] >= 14.0) {
            double a[3], b[3];
            to_xyz(cosmo, ra[i], dec[i], zc[i], a);
            to_xyz(cosmo, gra[gid[i]], gdec[gid[i]], gz[gid[i]], b);
            if (hypot(hypot(a[0] - b[0], a[1] - b[1]), a[2] - b[2]) < R) {
                assert_int_equal(code[i], ARD_WEB_KNOT);
                cores++;
            }
        }
    }
    assert_true(cores > 0);
    ard_cosmology_free(cosmo);
    free(mxyz);
    free(mq);
    free(ra);
    free(dec);
    free(zc);
    free(gid);
    free(code);
    free(l1);
    free(l2);
    free(l3);
    free(delta);
    free(gra);
    free(gdec);
    free(gz);
    free(glm);
    sv_free_strings(names, n);
    free(cat);
    free(tru);
    free(grp);
    sv_rmtree(dir);
    free(dir);
}
int sv_run_web_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_truth),
    };
    return cmocka_run_group_tests_name("survey_web", tests, NULL, NULL);
}
