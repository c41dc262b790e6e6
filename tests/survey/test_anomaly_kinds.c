/* The generator's astrophysical anomalies, each by its spectral signature on the noise-free model:
 * a star labelled as a galaxy (blackbody continuum, Balmer and Ca II K absorption at z ~ 0, none of
 * the galaxy's lines), double-peaked emission lines (two maxima at -/+ v with a dip between where
 * the normal model peaks), a BAL quasar (flux x (1 - depth) in the blue-shifted C IV trough, the
 * unabsorbed QSO redward), and a blend (the sum of two models; an ELG's lines at the second z).
 * Then the truth tables of a generated survey name every kind at the configured rate. */
#include "survey_int.h"
#include "sv_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define C_KMS 299792.458

typedef struct kind_fx {
    ard_grid g;
    ard__spec_ctx ctx;
    ard__galaxies gal;
    double *m, *ref;
    float *tmp;
} kind_fx;

static int kind_setup(void **state) {
    kind_fx *f = calloc(1, sizeof *f);
    ard_grid_default(&f->g);
    if (ard__spec_ctx_init(&f->ctx, &f->g, 5, NULL) != ARD_OK ||
        ard__galaxies_alloc(&f->gal, 1, NULL) != ARD_OK) {
        return -1;
    }
    f->m = malloc((size_t)f->g.n * sizeof(double));
    f->ref = malloc((size_t)f->g.n * sizeof(double));
    f->tmp = malloc((size_t)f->g.n * sizeof(float));
    *state = f;
    return 0;
}

static int kind_teardown(void **state) {
    kind_fx *f = *state;
    ard__spec_ctx_reset(&f->ctx);
    ard__galaxies_free(&f->gal);
    free(f->m);
    free(f->ref);
    free(f->tmp);
    free(f);
    return 0;
}

/* Model of one galaxy of class cls at z with anomaly kind; returns its parameters. */
static ard__anomaly_params make(kind_fx *f, int64_t tid, int32_t cls, double z, int kind) {
    f->gal.targetid[0] = tid;
    f->gal.cls[0] = (uint8_t)cls;
    f->gal.z_true[0] = z;
    f->gal.flux_r[0] = 5.0f;
    f->gal.anomaly[0] = (uint8_t)kind;
    ard__spec_model_galaxy(&f->ctx, &f->gal, 0, cls, 77, f->m, f->tmp);
    ard__anomaly_params p;
    ard__anomaly_params_of(f->ctx.seed, tid, cls, z, &p);
    return p;
}

static int64_t pix(const kind_fx *f, double lam) {
    return (int64_t)llround(ard_grid_index(&f->g, lam));
}

/* Model at lam over the mean of the model at lam -/+ off (a local continuum). */
static double rel_depth(const kind_fx *f, const double *m, double lam, double off) {
    double side = 0.5 * (m[pix(f, lam - off)] + m[pix(f, lam + off)]);
    return m[pix(f, lam)] / side;
}

static double planck(double lam, double t) {
    return 1.0 / (pow(lam * 1e-4, 5.0) * expm1(1.43877688e8 / (lam * t)));
}

static void test_star(void **state) {
    kind_fx *f = *state;
    for (int64_t tid = 1000; tid < 1006; tid++) {
        ard__anomaly_params p = make(f, tid, ARD_CLASS_ELG, 0.8, ARD_ANOMALY_STAR);
        assert_true(p.t_star >= 3500.0 && p.t_star <= 9500.0);
        double dop = 1.0 + p.v_star / C_KMS;
        /* Balmer and Ca II K absorption at rest (the star's velocity), not at the galaxy's z */
        assert_true(rel_depth(f, f->m, 6564.60 * dop, 40.0) < 0.93);
        assert_true(rel_depth(f, f->m, 4862.71 * dop, 40.0) < 0.93);
        assert_true(rel_depth(f, f->m, 3934.78 * dop, 15.0) < 0.88);
        /* no [OII] / [OIII] emission of the catalogued ELG at z = 0.8 */
        assert_true(fabs(rel_depth(f, f->m, 3728.5 * 1.8, 25.0) - 1.0) < 0.03);
        assert_true(fabs(rel_depth(f, f->m, 5008.24 * 1.8, 25.0) - 1.0) < 0.03);
        /* a blackbody continuum between the lines: colour 5600 A / 7500 A as Planck's */
        double got = f->m[pix(f, 5600.0)] / f->m[pix(f, 7500.0)];
        double want = planck(5600.0, p.t_star) / planck(7500.0, p.t_star);
        assert_true(fabs(got / want - 1.0) < 0.02);
    }
}

/* Index of the maximum of m in [a, b]. */
static int64_t argmax(const double *m, int64_t a, int64_t b) {
    int64_t best = a;
    for (int64_t j = a; j <= b; j++) {
        best = m[j] > m[best] ? j : best;
    }
    return best;
}

static void test_double_peaked(void **state) {
    kind_fx *f = *state;
    static const struct {
        int32_t cls;
        double z, rest;
    } cases[] = {{ARD_CLASS_ELG, 0.5, 5008.24},
                 {ARD_CLASS_ELG, 0.3, 6564.60},
                 {ARD_CLASS_BGS, 0.2, 6564.60},
                 {ARD_CLASS_LRG, 0.6, 5008.24},
                 {ARD_CLASS_QSO, 1.5, 2798.75}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int64_t tid = 2000 + (int64_t)k;
        ard__anomaly_params p = make(f, tid, cases[k].cls, cases[k].z, ARD_ANOMALY_DOUBLE_PEAK);
        double lam = cases[k].rest * (1.0 + cases[k].z);
        double lo = lam * (1.0 - p.dp_kms / C_KMS), hi = lam * (1.0 + p.dp_kms / C_KMS);
        int64_t c = pix(f, lam), w = pix(f, hi) - c + 3;
        int64_t pb = argmax(f->m, c - w, c), pr = argmax(f->m, c, c + w);
        assert_true(llabs(pb - pix(f, lo)) <= 2);
        assert_true(llabs(pr - pix(f, hi)) <= 2);
        assert_true(f->m[c] < 0.97 * fmin(f->m[pb], f->m[pr])); /* a dip between the peaks */
        /* the normal model of the same object peaks at the line centre instead */
        ard__spec_model(&f->ctx, cases[k].cls, cases[k].z, 5.0, 0, 77, f->ref);
        assert_true(llabs(argmax(f->ref, c - w, c + w) - c) <= 2);
    }
}

static void test_bal(void **state) {
    kind_fx *f = *state;
    for (int64_t tid = 3000; tid < 3006; tid++) {
        int32_t cls = tid % 2 ? ARD_CLASS_QSO : ARD_CLASS_ELG;
        ard__anomaly_params p = make(f, tid, cls, 2.2, ARD_ANOMALY_BAL_QSO);
        assert_true(cls == ARD_CLASS_QSO ? p.z_bal == 2.2 : (p.z_bal >= 1.6 && p.z_bal <= 2.8));
        assert_true(p.v_hi - p.v_lo >= 4000.0 && p.depth >= 0.5);
        ard__spec_model(&f->ctx, ARD_CLASS_QSO, p.z_bal, 5.0, 0, 77, f->ref);
        double civ = 1549.06 * (1.0 + p.z_bal);
        double mid = civ * (1.0 - 0.5 * (p.v_lo + p.v_hi) / C_KMS);
        double r = f->m[pix(f, mid)] / f->ref[pix(f, mid)];
        assert_true(fabs(r - (1.0 - p.depth)) < 0.02); /* the trough */
        double red = civ * (1.0 + 3000.0 / C_KMS);
        assert_true(fabs(f->m[pix(f, red)] / f->ref[pix(f, red)] - 1.0) < 1e-9); /* unabsorbed */
        double blue_edge = civ * (1.0 - (p.v_lo - 2000.0) / C_KMS);
        assert_true(f->m[pix(f, blue_edge)] / f->ref[pix(f, blue_edge)] > 0.98);
    }
}

static void test_blend(void **state) {
    kind_fx *f = *state;
    int elg_seen = 0;
    for (int64_t tid = 4000; tid < 4012; tid++) {
        ard__anomaly_params p = make(f, tid, ARD_CLASS_LRG, 0.5, ARD_ANOMALY_BLEND);
        assert_true(fabs(p.z2 - 0.5) >= 0.1 - 1e-12 && fabs(p.z2 - 0.5) <= 0.6 + 1e-12);
        assert_true(p.z2 > 0.0 && p.f2 >= 0.4 && p.f2 <= 1.0);
        assert_true(p.cls2 == ARD_CLASS_ELG || p.cls2 == ARD_CLASS_LRG);
        /* the model is the target's plus the second galaxy's (float scratch: 1e-6 relative) */
        ard__spec_model(&f->ctx, ARD_CLASS_LRG, 0.5, 5.0, 0, 77, f->ref);
        double *two = malloc((size_t)f->g.n * sizeof(double));
        ard__spec_model(&f->ctx, p.cls2, p.z2, p.f2 * 5.0, 0, 77 ^ 0x5bd1e995u, two);
        double excess = 0.0;
        for (int64_t j = 0; j < f->g.n; j++) {
            double want = f->ref[j] + two[j];
            assert_true(fabs(f->m[j] - want) <= 1e-6 * fabs(want) + 1e-12);
            excess += two[j];
        }
        assert_true(excess > 0.0);
        free(two);
        if (p.cls2 == ARD_CLASS_ELG) { /* an emission line at the second redshift */
            double rest = 3728.5 * (1.0 + p.z2) > 3700.0 ? 3728.5 : 5008.24;
            double lam = rest * (1.0 + p.z2);
            if (lam < 9700.0) {
                /* a peak the target alone does not have */
                assert_true(rel_depth(f, f->m, lam, 30.0) > rel_depth(f, f->ref, lam, 30.0) + 0.03);
                elg_seen++;
            }
        }
    }
    assert_true(elg_seen >= 2);
}

/* A generated survey with half the spectra anomalous: the four kinds in the truth tables, by
 * name and code, on spectra only, and the rate near the configured one. */
static void test_truth_kinds(void **state) {
    (void)state;
    char *dir = sv_tmpdir("kinds");
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = 600;
    o.seed = 9;
    o.threads = 2;
    o.anomaly_fraction = 0.5;
    ard_generate_report rep;
    assert_int_equal(ard_generate(dir, &o, &rep, NULL), ARD_OK);
    char path[600];
    snprintf(path, sizeof path, "%s/truth/galaxies-0000.parquet", dir);
    int32_t *code = NULL;
    char **name = NULL;
    int64_t n = sv_read_numeric(path, "ANOMALY_CODE", 4, (void **)&code);
    assert_int_equal(sv_read_strings(path, "ANOMALY", &name), n);
    int64_t kinds[ARD_ANOMALY_COUNT] = {0}, any = 0;
    for (int64_t i = 0; i < n; i++) {
        assert_true(code[i] >= 0 && code[i] < ARD_ANOMALY_COUNT);
        assert_string_equal(name[i], ard_anomaly_name(code[i]));
        kinds[code[i]]++;
        any += code[i] != 0;
    }
    assert_int_equal(any, rep.anomalies);
    assert_true(any > n * 4 / 10 && any < n * 6 / 10);
    for (int k = ARD_ANOMALY_STAR; k <= ARD_ANOMALY_BLEND; k++) {
        assert_true(kinds[k] > 10);
    }
    assert_string_equal(ard_anomaly_name(ARD_ANOMALY_STAR), "star_as_galaxy");
    assert_string_equal(ard_anomaly_name(ARD_ANOMALY_DOUBLE_PEAK), "double_peaked");
    assert_string_equal(ard_anomaly_name(ARD_ANOMALY_BAL_QSO), "bal_qso");
    assert_string_equal(ard_anomaly_name(ARD_ANOMALY_BLEND), "blend");
    free(code);
    sv_free_strings(name, n);
    sv_rmtree(dir);
    free(dir);
}

/* ard__spec_make's AVX-512 loops against the portable ones, bit for bit: every class and anomaly
 * kind (cosmic rays, dead arms and flat spectra touch the noisy flux), many TARGETIDs (masks, arm
 * drops), on the default grid and on grids of 2, 7, 255 and 1001 pixels (partial vectors and
 * noise blocks). Where the CPU lacks AVX-512 both are the portable loops. */
static void test_spec_make_paths(void **state) {
    (void)state;
    ard_grid grids[5];
    ard_grid_default(&grids[0]);
    grids[1] = (ard_grid){ARD_GRID_LOG, 3600.0, 9800.0, 2};
    grids[2] = (ard_grid){ARD_GRID_LINEAR, 3600.0, 9800.0, 7};
    grids[3] = (ard_grid){ARD_GRID_LOG, 3600.0, 9800.0, 255};
    grids[4] = (ard_grid){ARD_GRID_LINEAR, 3000.0, 11000.0, 1001};
    ard__galaxies gal;
    assert_int_equal(ard__galaxies_alloc(&gal, 1, NULL), ARD_OK);
    for (int gi = 0; gi < 5; gi++) {
        ard__spec_ctx ctx;
        assert_int_equal(ard__spec_ctx_init(&ctx, &grids[gi], 11, NULL), ARD_OK);
        size_t n = (size_t)grids[gi].n;
        double *model = malloc(n * sizeof(double));
        float *fl[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
        float *iv[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
        uint8_t *mk[2] = {malloc(n), malloc(n)};
        for (int64_t t = 0; t < 600; t++) {
            gal.targetid[0] = 1000 + 7919 * t;
            gal.cls[0] = (uint8_t)(t % ARD_CLASS_COUNT);
            gal.z_true[0] = 0.05 + 0.0061 * (double)t;
            gal.flux_r[0] = (float)(0.5 + (double)(t % 13));
            gal.anomaly[0] = (uint8_t)(t % ARD_ANOMALY_COUNT);
            for (int path = 0; path < 2; path++) {
                ard__spec_make_path(&ctx, &gal, 0, path, model, fl[path], iv[path], mk[path]);
            }
            assert_memory_equal(fl[0], fl[1], n * sizeof(float));
            assert_memory_equal(iv[0], iv[1], n * sizeof(float));
            assert_memory_equal(mk[0], mk[1], n);
        }
        free(model);
        for (int path = 0; path < 2; path++) {
            free(fl[path]);
            free(iv[path]);
            free(mk[path]);
        }
        ard__spec_ctx_reset(&ctx);
    }
    ard__galaxies_free(&gal);
}

int sv_run_anomaly_kind_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_star),        cmocka_unit_test(test_double_peaked),
        cmocka_unit_test(test_bal),         cmocka_unit_test(test_blend),
        cmocka_unit_test(test_truth_kinds), cmocka_unit_test(test_spec_make_paths),
    };
    return cmocka_run_group_tests_name("survey_anomaly_kinds", tests, kind_setup, kind_teardown);
}
