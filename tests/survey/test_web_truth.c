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

#include "common/ard_test_tweb.h"

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
    o.lss = 0; /* the point-mass T-web of the unclustered placement */
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
    ard_test_ref_init(&ker, R);
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
        ard_test_ref_tide(&ker, mxyz, mq, nm, p, 0.0, t);
        ard_test_ref_eigen(t, e);
        sv_assert_near(l1[i], e[0], 0.02 * (1 + fabs(e[0])));
        sv_assert_near(l2[i], e[1], 0.02 * (1 + fabs(e[1])));
        sv_assert_near(l3[i], e[2], 0.02 * (1 + fabs(e[2])));
        checked++;
        agree += ard_test_ref_class(e, th) == code[i];
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
/* lss = 1: the WEB_* truth is the grid T-web of the generator's own field (same seed, cells and
 * box, rebuilt here through the astro API) at each galaxy's real-space position, scaled by D(z);
 * galaxies sit where the field is dense, more so for the more biased class; redshifts carry the
 * field's line-of-sight velocities. */
static void test_generated_grid_truth(void **state) {
    (void)state;
    char *dir = sv_tmpdir("gweb");
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = 30000;
    o.seed = 12;
    o.spectra_fraction = 0.0;
    o.threads = 2;
    o.lss_cells = 64;
    o.lss_box = 128.0;
    ard_status st = ard_generate(dir, &o, NULL, NULL);
    if (st == ARD_ENOTSUP) {
        printf("SKIPPED: ard built without FFTW\n");
        sv_rmtree(dir);
        free(dir);
        skip();
    }
    assert_int_equal(st, ARD_OK);
    char *cat = join(dir, "catalog/zcatalog-0000.parquet"),
         *tru = join(dir, "truth/galaxies-0000.parquet");
    double *ra, *dec, *zc, *zt;
    int64_t *gid;
    int32_t *code;
    float *l1, *l2, *l3, *delta;
    char **cls;
    int64_t n = sv_read_numeric(cat, "TARGET_RA", 8, (void **)&ra);
    assert_true(n == o.galaxies);
    assert_int_equal(sv_read_numeric(cat, "TARGET_DEC", 8, (void **)&dec), n);
    assert_int_equal(sv_read_strings(cat, "TARGET_CLASS", &cls), n);
    assert_int_equal(sv_read_numeric(tru, "Z_COSMO", 8, (void **)&zc), n);
    assert_int_equal(sv_read_numeric(tru, "Z_TRUE", 8, (void **)&zt), n);
    assert_int_equal(sv_read_numeric(tru, "GROUP_ID", 8, (void **)&gid), n);
    assert_int_equal(sv_read_numeric(tru, ARD_TRUTH_WEB_CODE, 4, (void **)&code), n);
    assert_int_equal(sv_read_numeric(tru, ARD_TRUTH_WEB_DELTA, 4, (void **)&delta), n);
    assert_int_equal(sv_read_numeric(tru, "WEB_LAMBDA1", 4, (void **)&l1), n);
    assert_int_equal(sv_read_numeric(tru, "WEB_LAMBDA2", 4, (void **)&l2), n);
    assert_int_equal(sv_read_numeric(tru, "WEB_LAMBDA3", 4, (void **)&l3), n);
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(tru, NULL, &f, NULL), ARD_OK);
    const char *kv = ard_parquet_kv_get(f, ARD_KV_COSMIC_WEB);
    assert_non_null(kv);
    assert_non_null(strstr(kv, "method=tweb-grid"));
    double R = kv_number(kv, "smoothing_mpc_h="), th = kv_number(kv, "lambda_th=");
    assert_true(kv_number(kv, "grid_cells=") == 64 && kv_number(kv, "box_mpc_h=") == 128);
    assert_true(R == 2.0 && th == 0.2);
    ard_parquet_close(f);
    /* the field, rebuilt */
    ard_field_options fo;
    ard_field_options_init(&fo);
    fo.n = 64;
    fo.box = 128.0;
    fo.seed = 12;
    ard_field *field = NULL;
    assert_int_equal(ard_field_new(&fo, &field, NULL), ARD_OK);
    double *rho = malloc(64 * 64 * 64 * sizeof *rho);
    assert_int_equal(ard_field_evolved_density(field, rho, NULL), ARD_OK);
    ard_tweb_grid_options wo;
    ard_tweb_grid_options_init(&wo);
    ard_tweb_grid *web = NULL;
    assert_int_equal(ard_tweb_grid_new(rho, 64, 128.0, &wo, &web, NULL), ARD_OK);
    double frac[ARD_WEB_COUNT];
    ard_tweb_grid_volume_fractions(web, frac);
    ard_cosmology *cosmo = NULL;
    assert_int_equal(ard_cosmology_new(NULL, 6.0, &cosmo, NULL), ARD_OK);
    int64_t counts[ARD_WEB_COUNT] = {0}, field_n = 0, agree = 0;
    double sum_d[ARD_CLASS_COUNT] = {0}, cnt[ARD_CLASS_COUNT] = {0}, v2 = 0.0, vdot = 0.0,
           vlos2 = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double x[3], psi[3];
        float lam[3], d;
        to_xyz(cosmo, ra[i], dec[i], zc[i], x);
        assert_int_equal(ard_tweb_grid_sample(web, x, 1, lam, &d, NULL, NULL), ARD_OK);
        double grow = ard_growth_factor(0.3111, zc[i]);
        sv_assert_near(l1[i], grow * lam[0], 1e-3 * (1 + fabs(l1[i])));
        sv_assert_near(l3[i], grow * lam[2], 1e-3 * (1 + fabs(l3[i])));
        sv_assert_near(delta[i], grow * d, 1e-3 * (1 + fabs(delta[i])));
        int want = (grow * lam[0] > th) + (grow * lam[1] > th) + (grow * lam[2] > th);
        agree += want == code[i];
        assert_true(l1[i] >= l2[i] && l2[i] >= l3[i]);
        counts[code[i]]++;
        int k = ard_target_class_from_name(cls[i]);
        sum_d[k] += d; /* z = 0 smoothed density at the galaxy */
        cnt[k] += 1;
        if (gid[i] < 0) { /* field galaxies: Z_TRUE - Z_COSMO is the field's velocity */
            assert_int_equal(ard_field_sample(field, x, 1, NULL, psi, NULL), ARD_OK);
            double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
            double vl = (psi[0] * x[0] + psi[1] * x[1] + psi[2] * x[2]) / r;
            double v = (zt[i] - zc[i]) / (1 + zc[i]) * 299792.458;
            double e = sqrt(0.3111 * pow(1 + zc[i], 3) + 1 - 0.3111);
            double v_want = 100 * e * ard_growth_rate(0.3111, zc[i]) / (1 + zc[i]) * grow * vl;
            if (zt[i] > 0.0006) { /* Z_TRUE is floored at 0.0005 */
                sv_assert_near(v, v_want, 0.5 + 0.002 * fabs(v_want));
                v2 += v * v;
                vdot += v * vl;
                vlos2 += vl * vl;
                field_n++;
            }
        }
    }
    double mean_lrg = sum_d[ARD_CLASS_LRG] / cnt[ARD_CLASS_LRG];
    double mean_elg = sum_d[ARD_CLASS_ELG] / cnt[ARD_CLASS_ELG];
    double corr = vdot / sqrt(v2 * vlos2), vrms = sqrt(v2 / (double)field_n);
    printf("grid web truth: void %lld sheet %lld filament %lld knot %lld (volume fractions %.3f "
           "%.3f %.3f %.3f); mean z=0 delta at LRG %.2f, ELG %.2f, BGS %.2f; field LOS velocity "
           "rms %.0f km/s, correlation with psi %.4f\n",
           (long long)counts[0], (long long)counts[1], (long long)counts[2], (long long)counts[3],
           frac[0], frac[1], frac[2], frac[3], mean_lrg, mean_elg,
           sum_d[ARD_CLASS_BGS] / cnt[ARD_CLASS_BGS], vrms, corr);
    assert_true(agree >= n - n / 200); /* float rounding near the threshold only */
    for (int k = 0; k < ARD_WEB_COUNT; k++) {
        assert_true(counts[k] > 0);
    }
    /* biased tracers: galaxies sit in overdense regions, LRG (b = 2.0) more than ELG (b = 1.3) */
    assert_true(mean_elg > 0.2);
    assert_true(mean_lrg > mean_elg + 0.1);
    /* redshift-space distortions: the velocity is a H f D psi along the line of sight */
    assert_true(corr > 0.9);
    assert_true(vrms > 50.0 && vrms < 1500.0);
    ard_tweb_grid_free(web);
    ard_field_free(field);
    ard_cosmology_free(cosmo);
    free(rho);
    free(ra);
    free(dec);
    free(zc);
    free(zt);
    free(gid);
    free(code);
    free(l1);
    free(l2);
    free(l3);
    free(delta);
    sv_free_strings(cls, n);
    free(cat);
    free(tru);
    sv_rmtree(dir);
    free(dir);
}

/* web_smoothing / web_lambda_th: the truth's T-web at another R (the tracers' scale) changes the
 * labels only: the catalog is byte-identical to the R = 2 survey of the same seed (placement keeps
 * the 2 Mpc/h field), "ard.cosmic_web" records the truth's R and lambda_th and the placement's R,
 * and WEB_* are the T-web at that R of the same field, rebuilt here. Bad values: ARD_EINVAL. */
static void test_truth_smoothing(void **state) {
    (void)state;
    char *d2 = sv_tmpdir("web_r2"), *d6 = sv_tmpdir("web_r6");
    ard_generate_options o;
    ard_generate_options_init(&o);
    assert_true(o.web_smoothing == 2.0 && o.web_lambda_th == 0.2);
    o.galaxies = 6000;
    o.seed = 14;
    o.spectra_fraction = 0.0;
    o.threads = 2;
    o.lss_cells = 64;
    o.lss_box = 128.0;
    ard_status st = ard_generate(d2, &o, NULL, NULL);
    if (st == ARD_ENOTSUP) {
        printf("SKIPPED: ard built without FFTW\n");
        sv_rmtree(d2);
        sv_rmtree(d6);
        free(d2);
        free(d6);
        skip();
    }
    assert_int_equal(st, ARD_OK);
    o.web_smoothing = 6.0;
    o.web_lambda_th = 0.15;
    assert_int_equal(ard_generate(d6, &o, NULL, NULL), ARD_OK);
    /* same galaxies */
    char *c2 = join(d2, "catalog/zcatalog-0000.parquet"),
         *c6 = join(d6, "catalog/zcatalog-0000.parquet");
    assert_true(sv_same_file(c2, c6));
    char *t2 = join(d2, "truth/galaxies-0000.parquet"),
         *t6 = join(d6, "truth/galaxies-0000.parquet");
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(t6, NULL, &f, NULL), ARD_OK);
    const char *kv = ard_parquet_kv_get(f, ARD_KV_COSMIC_WEB);
    assert_non_null(kv);
    assert_true(kv_number(kv, "smoothing_mpc_h=") == 6.0 && kv_number(kv, "lambda_th=") == 0.15);
    assert_true(kv_number(kv, "placement_smoothing_mpc_h=") == 2.0);
    ard_parquet_close(f);
    double *ra, *dec, *zc;
    int32_t *code2, *code6;
    float *l1, *l3, *dl2, *dl6;
    int64_t n = sv_read_numeric(c6, "TARGET_RA", 8, (void **)&ra);
    assert_int_equal(n, o.galaxies);
    assert_int_equal(sv_read_numeric(c6, "TARGET_DEC", 8, (void **)&dec), n);
    assert_int_equal(sv_read_numeric(t6, "Z_COSMO", 8, (void **)&zc), n);
    assert_int_equal(sv_read_numeric(t2, ARD_TRUTH_WEB_CODE, 4, (void **)&code2), n);
    assert_int_equal(sv_read_numeric(t6, ARD_TRUTH_WEB_CODE, 4, (void **)&code6), n);
    assert_int_equal(sv_read_numeric(t2, ARD_TRUTH_WEB_DELTA, 4, (void **)&dl2), n);
    assert_int_equal(sv_read_numeric(t6, ARD_TRUTH_WEB_DELTA, 4, (void **)&dl6), n);
    assert_int_equal(sv_read_numeric(t6, "WEB_LAMBDA1", 4, (void **)&l1), n);
    assert_int_equal(sv_read_numeric(t6, "WEB_LAMBDA3", 4, (void **)&l3), n);
    /* the field at R = 6, rebuilt */
    ard_field_options fo;
    ard_field_options_init(&fo);
    fo.n = 64;
    fo.box = 128.0;
    fo.seed = 14;
    ard_field *field = NULL;
    assert_int_equal(ard_field_new(&fo, &field, NULL), ARD_OK);
    double *rho = malloc(64 * 64 * 64 * sizeof *rho);
    assert_int_equal(ard_field_evolved_density(field, rho, NULL), ARD_OK);
    ard_tweb_grid_options wo;
    ard_tweb_grid_options_init(&wo);
    wo.smoothing = 6.0;
    ard_tweb_grid *web = NULL;
    assert_int_equal(ard_tweb_grid_new(rho, 64, 128.0, &wo, &web, NULL), ARD_OK);
    ard_cosmology *cosmo = NULL;
    assert_int_equal(ard_cosmology_new(NULL, 6.0, &cosmo, NULL), ARD_OK);
    int64_t agree = 0, same_class = 0;
    double v2 = 0.0, v6 = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double x[3];
        float lam[3], d;
        to_xyz(cosmo, ra[i], dec[i], zc[i], x);
        assert_int_equal(ard_tweb_grid_sample(web, x, 1, lam, &d, NULL, NULL), ARD_OK);
        double grow = ard_growth_factor(0.3111, zc[i]);
        sv_assert_near(l1[i], grow * lam[0], 1e-3 * (1 + fabs(l1[i])));
        sv_assert_near(l3[i], grow * lam[2], 1e-3 * (1 + fabs(l3[i])));
        sv_assert_near(dl6[i], grow * d, 1e-3 * (1 + fabs(dl6[i])));
        int want = (grow * lam[0] > 0.15) + (grow * lam[1] > 0.15) + (grow * lam[2] > 0.15);
        agree += want == code6[i];
        same_class += code2[i] == code6[i];
        v2 += (double)dl2[i] * dl2[i];
        v6 += (double)dl6[i] * dl6[i];
    }
    printf(
        "truth at R = 6, lambda_th = 0.15 vs R = 2, 0.2: %.3f of %lld galaxies keep their class; "
        "rms delta at the galaxies %.3f vs %.3f\n",
        (double)same_class / (double)n, (long long)n, sqrt(v6 / (double)n), sqrt(v2 / (double)n));
    assert_true(agree >= n - n / 200);
    assert_true(same_class < n - n / 10); /* a different label, not a copy */
    assert_true(v6 < 0.7 * v2);           /* smoother */
    ard_tweb_grid_free(web);
    ard_field_free(field);
    ard_cosmology_free(cosmo);
    free(rho);
    free(ra);
    free(dec);
    free(zc);
    free(code2);
    free(code6);
    free(l1);
    free(l3);
    free(dl2);
    free(dl6);
    free(c2);
    free(c6);
    free(t2);
    free(t6);
    sv_rmtree(d2);
    sv_rmtree(d6);
    /* bad values */
    ard_error err;
    ard_error_init(&err);
    o.web_smoothing = 0.0;
    assert_int_equal(ard_generate(d6, &o, NULL, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "web_smoothing"));
    o.web_smoothing = 6.0;
    o.web_lambda_th = NAN;
    assert_int_equal(ard_generate(d6, &o, NULL, NULL), ARD_EINVAL);
    o.web_lambda_th = 0.15;
    assert_true(o.lss_lpt_order == 1);
    o.lss_lpt_order = 3;
    assert_int_equal(ard_generate(d6, &o, NULL, &err), ARD_EINVAL);
    sv_rmtree(d6);
    free(d2);
    free(d6);
}

/* --region: a cap at DR1 density; every unit centre inside it. */
static void test_region(void **state) {
    (void)state;
    char *dir = sv_tmpdir("region");
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = 0;
    o.seed = 5;
    o.spectra_fraction = 0.0;
    o.threads = 2;
    o.lss_cells = 32;
    o.lss_box = 128.0;
    o.region_ra = 180.0; /* a dense part of DR1: ~4,700 good redshifts per deg^2 */
    o.region_dec = 0.0;
    o.region_radius = 0.5;
    ard_generate_report rep;
    ard_status st = ard_generate(dir, &o, &rep, NULL);
    if (st == ARD_ENOTSUP) {
        printf("SKIPPED: ard built without FFTW\n");
        sv_rmtree(dir);
        free(dir);
        skip();
    }
    assert_int_equal(st, ARD_OK);
    /* DR1 main good-z density there: ~4,700 per deg^2 (18.0 M over the footprint, median pixel
     * ~980 per deg^2) */
    double area = M_PI * o.region_radius * o.region_radius;
    printf("region (180, 0) r = 0.5 deg: %lld galaxies (%.0f per deg^2)\n", (long long)rep.galaxies,
           (double)rep.galaxies / area);
    assert_true((double)rep.galaxies > 3000 * area && (double)rep.galaxies < 6000 * area);
    char *cat = join(dir, "catalog/zcatalog-0000.parquet");
    double *ra, *dec;
    int64_t n = sv_read_numeric(cat, "TARGET_RA", 8, (void **)&ra);
    assert_int_equal(n, rep.galaxies);
    assert_int_equal(sv_read_numeric(cat, "TARGET_DEC", 8, (void **)&dec), n);
    int64_t inside = 0;
    for (int64_t i = 0; i < n; i++) {
        double d2r = M_PI / 180, c = cos(dec[i] * d2r) * cos((ra[i] - 180) * d2r);
        double dist = acos(c > 1 ? 1 : c) / d2r;
        assert_true(dist < 0.7); /* group members may stray a virial radius past the edge */
        inside += dist <= 0.5;
    }
    assert_true(inside > n - n / 50);
    free(ra);
    free(dec);
    free(cat);
    sv_rmtree(dir);
    free(dir);
    /* bad regions */
    ard_error err;
    ard_error_init(&err);
    char *d2 = sv_tmpdir("region_bad");
    o.region_radius = 100.0;
    assert_int_equal(ard_generate(d2, &o, NULL, &err), ARD_EINVAL);
    o.region_radius = 0.5;
    o.region_ra = 400.0;
    assert_int_equal(ard_generate(d2, &o, NULL, NULL), ARD_EINVAL);
    o.region_ra = 0.0;
    o.region_dec = -85.0; /* outside DESI's footprint */
    o.galaxies = 100;
    assert_int_equal(ard_generate(d2, &o, NULL, NULL), ARD_EINVAL);
    sv_rmtree(d2);
    free(d2);
}

int sv_run_web_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_truth),
        cmocka_unit_test(test_generated_grid_truth),
        cmocka_unit_test(test_region),
        cmocka_unit_test(test_truth_smoothing),
    };
    return cmocka_run_group_tests_name("survey_web", tests, NULL, NULL);
}
