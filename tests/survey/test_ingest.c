/* DESI ingest tests on the real sample files: TARGETID, Z, SPECTYPE and coordinates exactly as in
 * the FITS (read here directly with cfitsio), flux on the ARD grid against the FITS pixels, flux
 * conservation, and clear errors for truncated, non-FITS, HDU-less and mismatched inputs. */
#include "survey_int.h"
#include "sv_util.h"

#include <fitsio.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const k_pairs[2] = {"4-80613-thru20210324", "special-dark-27247"};

static char *sample(const char *kind, const char *suffix) {
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/desi-samples/%s-%s.fits", sv_shared_dir(), kind, suffix);
    return p;
}

static int have_samples(void) {
    char *p = sample("coadd", k_pairs[0]);
    int ok = access(p, R_OK) == 0;
    free(p);
    if (!ok) {
        fprintf(stderr, "SKIPPED: DESI samples not found under %s/desi-samples\n", sv_shared_dir());
    }
    return ok;
}

/* Reads a double/long-long/string value of `col` row 1 in HDU `ext` of a FITS file. */
static double fits_num(const char *path, const char *ext, const char *col) {
    fitsfile *f = NULL;
    int st = 0, c = 0, anynul = 0;
    double v = NAN;
    fits_open_file(&f, path, READONLY, &st);
    fits_movnam_hdu(f, BINARY_TBL, (char *)ext, 0, &st);
    fits_get_colnum(f, CASEINSEN, (char *)col, &c, &st);
    fits_read_col(f, TDOUBLE, c, 1, 1, 1, NULL, &v, &anynul, &st);
    fits_close_file(f, &st);
    assert_int_equal(st, 0);
    return v;
}

static long long fits_i64(const char *path, const char *ext, const char *col) {
    fitsfile *f = NULL;
    int st = 0, c = 0, anynul = 0;
    long long v = 0;
    fits_open_file(&f, path, READONLY, &st);
    fits_movnam_hdu(f, BINARY_TBL, (char *)ext, 0, &st);
    fits_get_colnum(f, CASEINSEN, (char *)col, &c, &st);
    fits_read_col(f, TLONGLONG, c, 1, 1, 1, NULL, &v, &anynul, &st);
    fits_close_file(f, &st);
    assert_int_equal(st, 0);
    return v;
}

/* Arm a of the first spectrum: wavelengths, flux, ivar (malloc'd), returns the length. */
static long fits_arm(const char *path, char arm, double **w, float **fl, float **iv) {
    fitsfile *f = NULL;
    int st = 0, anynul = 0;
    long naxes[2] = {0, 0};
    char name[32];
    fits_open_file(&f, path, READONLY, &st);
    snprintf(name, sizeof name, "%c_WAVELENGTH", arm);
    fits_movnam_hdu(f, IMAGE_HDU, name, 0, &st);
    fits_get_img_size(f, 1, naxes, &st);
    *w = malloc((size_t)naxes[0] * sizeof **w);
    *fl = malloc((size_t)naxes[0] * sizeof **fl);
    *iv = malloc((size_t)naxes[0] * sizeof **iv);
    fits_read_img(f, TDOUBLE, 1, naxes[0], NULL, *w, &anynul, &st);
    snprintf(name, sizeof name, "%c_FLUX", arm);
    fits_movnam_hdu(f, IMAGE_HDU, name, 0, &st);
    fits_read_img(f, TFLOAT, 1, naxes[0], NULL, *fl, &anynul, &st);
    snprintf(name, sizeof name, "%c_IVAR", arm);
    fits_movnam_hdu(f, IMAGE_HDU, name, 0, &st);
    fits_read_img(f, TFLOAT, 1, naxes[0], NULL, *iv, &anynul, &st);
    fits_close_file(f, &st);
    assert_int_equal(st, 0);
    return naxes[0];
}

static void test_ingest_catalog_exact(void **state) {
    (void)state;
    if (!have_samples()) {
        skip();
    }
    char *dir = sv_tmpdir("ingest");
    const char *paths[4];
    char *owned[4];
    for (int i = 0; i < 2; i++) {
        owned[2 * i] = sample("coadd", k_pairs[i]);
        owned[2 * i + 1] = sample("redrock", k_pairs[i]);
        paths[2 * i] = owned[2 * i];
        paths[2 * i + 1] = owned[2 * i + 1];
    }
    ard_ingest_report rep;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_ingest_desi(dir, paths, 4, NULL, &rep, &err), ARD_OK);
    assert_int_equal(rep.files, 2);
    assert_int_equal(rep.spectra, 2);
    assert_int_equal(rep.with_redshift, 2);
    char cat[4096];
    snprintf(cat, sizeof cat, "%s/catalog/zcatalog-0000.parquet", dir);
    int64_t *tid = NULL;
    double *z = NULL, *ra = NULL, *dec = NULL;
    char **spectype = NULL, **survey = NULL, **cls = NULL;
    assert_int_equal(sv_read_numeric(cat, "TARGETID", 8, (void **)&tid), 2);
    assert_int_equal(sv_read_numeric(cat, "Z", 8, (void **)&z), 2);
    assert_int_equal(sv_read_numeric(cat, "TARGET_RA", 8, (void **)&ra), 2);
    assert_int_equal(sv_read_numeric(cat, "TARGET_DEC", 8, (void **)&dec), 2);
    assert_int_equal(sv_read_strings(cat, "SPECTYPE", &spectype), 2);
    assert_int_equal(sv_read_strings(cat, "SURVEY", &survey), 2);
    assert_int_equal(sv_read_strings(cat, "TARGET_CLASS", &cls), 2);
    /* sorted by TARGETID: special-dark (39089837499744649) first */
    for (int i = 0; i < 2; i++) {
        int pi = i == 0 ? 1 : 0;
        assert_int_equal(tid[i], fits_i64(paths[2 * pi], "FIBERMAP", "TARGETID"));
        assert_true(z[i] == fits_num(paths[2 * pi + 1], "REDSHIFTS", "Z"));
        assert_true(ra[i] == fits_num(paths[2 * pi], "FIBERMAP", "TARGET_RA"));
        assert_true(dec[i] == fits_num(paths[2 * pi], "FIBERMAP", "TARGET_DEC"));
        assert_string_equal(spectype[i], "GALAXY");
    }
    assert_int_equal(tid[0], 39089837499744649LL);
    assert_int_equal(tid[1], 39633345008634465LL);
    sv_assert_near(z[1], 0.368744, 1e-6); /* MANIFEST: Z=0.368744 */
    assert_string_equal(survey[0], "special");
    assert_string_equal(survey[1], "sv1");
    assert_string_equal(cls[1], "BGS"); /* SV1_BGS_TARGET=4112 */
    char tile[4096];
    snprintf(tile, sizeof tile, "%s/tiles/special/dark/272/27247.parquet", dir);
    assert_int_equal(access(tile, R_OK), 0); /* HPXPIXEL 27247 of the healpix coadd */
    free(tid);
    free(z);
    free(ra);
    free(dec);
    sv_free_strings(spectype, 2);
    sv_free_strings(survey, 2);
    sv_free_strings(cls, 2);
    for (int i = 0; i < 4; i++) {
        free(owned[i]);
    }
    sv_rmtree(dir);
    free(dir);
}

/* ARD-grid flux vs the FITS pixels inside each output bin, and integrated flux conservation. */
static void test_ingest_flux_values(void **state) {
    (void)state;
    if (!have_samples()) {
        skip();
    }
    char *coadd = sample("coadd", k_pairs[0]);
    ard_grid g;
    ard_grid_default(&g);
    float *fl = malloc((size_t)g.n * sizeof(float)), *iv = malloc((size_t)g.n * sizeof(float));
    uint8_t *mk = malloc((size_t)g.n);
    int64_t tid = 0;
    assert_int_equal(ard_ingest_read_spectrum(coadd, 0, &g, &tid, fl, iv, mk, NULL), ARD_OK);
    assert_int_equal(tid, 39633345008634465LL);
    static const char arms[3] = {'B', 'R', 'Z'};
    static const double probes[3][3] = {{4000, 4861, 5500}, {6000, 6564, 7300}, {7800, 8500, 9500}};
    for (int a = 0; a < 3; a++) {
        double *w;
        float *f, *v;
        long n = fits_arm(coadd, arms[a], &w, &f, &v);
        for (int p = 0; p < 3; p++) {
            int64_t j = (int64_t)llround(ard_grid_index(&g, probes[a][p]));
            double lo = ard_grid_wavelength(&g, (double)j - 0.5),
                   hi = ard_grid_wavelength(&g, (double)j + 0.5);
            double s = 0, var = 0;
            int cnt = 0;
            for (long k = 0; k < n; k++) {
                if (w[k] > lo && w[k] < hi) {
                    s += f[k];
                    var += 1.0 / v[k];
                    cnt++;
                }
            }
            assert_true(cnt >= 1);
            double ref = s / cnt, sigma = sqrt(var) / cnt;
            assert_true(mk[j] == 0 && iv[j] > 0);
            /* partial edge pixels make the two differ by at most a fraction of one pixel's noise */
            assert_true(fabs(fl[j] - ref) < 1.5 * sigma + 1e-3 * fabs(ref));
            assert_true(iv[j] > 0.5 / (sigma * sigma));
        }
        /* flux conservation over 100 A inside the arm: integral on both grids within 1% */
        double mid = 0.5 * (w[0] + w[n - 1]), in = 0, out = 0;
        for (long k = 0; k < n; k++) {
            if (w[k] >= mid - 50 && w[k] < mid + 50) {
                in += f[k] * 0.8;
            }
        }
        for (int64_t j = 0; j < g.n; j++) {
            double lo = ard_grid_wavelength(&g, (double)j - 0.5),
                   hi = ard_grid_wavelength(&g, (double)j + 0.5);
            double ov = fmin(hi, mid + 49.6) - fmax(lo, mid - 50.4);
            if (ov > 0) {
                out += fl[j] * ov;
            }
        }
        assert_true(fabs(out - in) < 0.01 * fabs(in) + 5.0);
        free(w);
        free(f);
        free(v);
    }
    /* outside every arm: nothing (the grid stops at 9824 = the z arm's end; check no NaN anywhere)
     */
    for (int64_t j = 0; j < g.n; j++) {
        assert_true(isfinite(fl[j]) && isfinite(iv[j]));
    }
    ard_grid lin = {ARD_GRID_LINEAR, 3500.0, 9900.0, 8001};
    assert_int_equal(ard_ingest_read_spectrum(coadd, 0, &lin, &tid, NULL, NULL, NULL, NULL),
                     ARD_EINVAL);
    float *fl2 = malloc(8001 * sizeof(float)), *iv2 = malloc(8001 * sizeof(float));
    uint8_t *mk2 = malloc(8001);
    assert_int_equal(ard_ingest_read_spectrum(coadd, 0, &lin, &tid, fl2, iv2, mk2, NULL), ARD_OK);
    assert_int_equal(mk2[0], ARD_MASK_NODATA); /* 3500 A: below the b arm */
    assert_true(iv2[0] == 0.0f);
    assert_int_equal(mk2[8000], ARD_MASK_NODATA);
    assert_int_equal(ard_ingest_read_spectrum(coadd, 1, &g, &tid, fl, iv, mk, NULL), ARD_ERANGE);
    free(fl2);
    free(iv2);
    free(mk2);
    free(fl);
    free(iv);
    free(mk);
    free(coadd);
}

static void copy_prefix(const char *from, const char *to, long bytes) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[8192];
    long done = 0;
    size_t got;
    while ((bytes < 0 || done < bytes) && (got = fread(buf, 1, sizeof buf, in)) > 0) {
        size_t want = bytes < 0 || done + (long)got <= bytes ? got : (size_t)(bytes - done);
        fwrite(buf, 1, want, out);
        done += (long)want;
    }
    fclose(in);
    fclose(out);
}

static void expect_error(const char *dir, const char *const *paths, int n, ard_status want,
                         const char *needle) {
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_ingest_desi(dir, paths, n, NULL, NULL, &err), want);
    if (!strstr(err.msg, needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, needle);
    }
    assert_non_null(strstr(err.msg, needle));
}

static void test_ingest_errors(void **state) {
    (void)state;
    if (!have_samples()) {
        skip();
    }
    char *dir = sv_tmpdir("ingest-bad"), *out = sv_tmpdir("ingest-out");
    char *coadd = sample("coadd", k_pairs[0]), *other_rr = sample("redrock", k_pairs[1]);
    char path[4096], rr[4096], text[4096], nohdu[4096];
    /* truncated coadd */
    snprintf(path, sizeof path, "%s/coadd-trunc.fits", dir);
    copy_prefix(coadd, path, 300000);
    const char *p1[1] = {path};
    expect_error(out, p1, 1, ARD_ECORRUPT, "coadd-trunc.fits");
    /* not FITS */
    snprintf(text, sizeof text, "%s/coadd-text.fits", dir);
    FILE *t = fopen(text, "w");
    fputs("this is not a FITS file\n", t);
    fclose(t);
    const char *p2[1] = {text};
    expect_error(out, p2, 1, ARD_ECORRUPT, "coadd-text.fits");
    /* missing HDU: a copy without R_FLUX */
    snprintf(nohdu, sizeof nohdu, "%s/coadd-nohdu.fits", dir);
    copy_prefix(coadd, nohdu, -1);
    fitsfile *f = NULL;
    int st = 0, type = 0;
    fits_open_file(&f, nohdu, READWRITE, &st);
    fits_movnam_hdu(f, IMAGE_HDU, "R_FLUX", 0, &st);
    fits_delete_hdu(f, &type, &st);
    fits_close_file(f, &st);
    assert_int_equal(st, 0);
    const char *p3[1] = {nohdu};
    expect_error(out, p3, 1, ARD_ECORRUPT, "R_FLUX");
    /* redrock whose TARGETIDs do not match */
    snprintf(path, sizeof path, "%s/coadd-mix.fits", dir);
    snprintf(rr, sizeof rr, "%s/redrock-mix.fits", dir);
    copy_prefix(coadd, path, -1);
    copy_prefix(other_rr, rr, -1);
    const char *p4[2] = {path, rr};
    expect_error(out, p4, 2, ARD_ECORRUPT, "do not match");
    /* missing file; redrock without its coadd */
    const char *p5[1] = {"/nonexistent/coadd-x.fits"};
    expect_error(out, p5, 1, ARD_ENOENT, "/nonexistent/coadd-x.fits");
    const char *p6[2] = {coadd, rr};
    expect_error(out, p6, 2, ARD_EINVAL, "redrock-mix.fits");
    free(coadd);
    free(other_rr);
    sv_rmtree(dir);
    sv_rmtree(out);
    free(dir);
    free(out);
}

/* uint32 masks stored as int32 with BZERO = 2^31 (the DESI data model's form): a mask value with
 * bit 31 set must come through as "masked", not overflow or vanish. */
static void test_ingest_bzero_mask(void **state) {
    (void)state;
    if (!have_samples()) {
        skip();
    }
    char *dir = sv_tmpdir("ingest-bzero");
    char *coadd = sample("coadd", k_pairs[0]);
    char path[4096];
    snprintf(path, sizeof path, "%s/coadd-bzero.fits", dir);
    copy_prefix(coadd, path, -1);
    fitsfile *f = NULL;
    int st = 0, type = 0;
    long naxes[2] = {2751, 1};
    fits_open_file(&f, path, READWRITE, &st);
    fits_movnam_hdu(f, IMAGE_HDU, "B_MASK", 0, &st);
    fits_delete_hdu(f, &type, &st);
    fits_movabs_hdu(f, 1, &type, &st);
    int nhdu = 0;
    fits_get_num_hdus(f, &nhdu, &st);
    fits_movabs_hdu(f, nhdu, &type, &st);
    fits_create_img(f, ULONG_IMG, 2, naxes, &st); /* BITPIX 32 + BZERO 2147483648 */
    fits_update_key(f, TSTRING, "EXTNAME", "B_MASK", NULL, &st);
    unsigned int *m = calloc(2751, sizeof *m);
    for (int k = 1000; k < 1020; k++) {
        m[k] = 0x80000000u; /* only bit 31 */
    }
    fits_write_img(f, TUINT, 1, 2751, m, &st);
    fits_close_file(f, &st);
    assert_int_equal(st, 0);
    free(m);
    ard_grid g;
    ard_grid_default(&g);
    float *fl = malloc((size_t)g.n * sizeof(float)), *iv = malloc((size_t)g.n * sizeof(float));
    uint8_t *mk = malloc((size_t)g.n);
    int64_t tid = 0;
    assert_int_equal(ard_ingest_read_spectrum(path, 0, &g, &tid, fl, iv, mk, NULL), ARD_OK);
    /* B pixels 1000..1019 cover 4399.6..4415.6 A: the output pixels inside are masked */
    int64_t j = (int64_t)llround(ard_grid_index(&g, 4407.6));
    assert_int_equal(mk[j], ARD_MASK_BADPIX);
    assert_true(iv[j] == 0.0f);
    int64_t k = (int64_t)llround(ard_grid_index(&g, 4500.0));
    assert_int_equal(mk[k], 0);
    assert_true(iv[k] > 0.0f);
    free(fl);
    free(iv);
    free(mk);
    free(coadd);
    sv_rmtree(dir);
    free(dir);
}

/* A directory input finds coadd-*.fits and pairs each with redrock-SUFFIX.fits. */
static void test_ingest_directory(void **state) {
    (void)state;
    if (!have_samples()) {
        skip();
    }
    char *out = sv_tmpdir("ingest-dir");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/desi-samples", sv_shared_dir());
    const char *p[1] = {dir};
    ard_ingest_report rep;
    ard_ingest_options o;
    ard_ingest_options_init(&o);
    o.threads = 2;
    assert_int_equal(ard_ingest_desi(out, p, 1, &o, &rep, NULL), ARD_OK);
    assert_int_equal(rep.files, 2);
    assert_int_equal(rep.with_redshift, 2);
    assert_int_equal(rep.tiles, 2);
    assert_int_equal(ard_ingest_desi(out, p, 1, &o, &rep, NULL), ARD_EEXIST);
    sv_rmtree(out);
    free(out);
}

int sv_run_ingest_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_catalog_exact), cmocka_unit_test(test_ingest_flux_values),
        cmocka_unit_test(test_ingest_errors),        cmocka_unit_test(test_ingest_bzero_mask),
        cmocka_unit_test(test_ingest_directory),
    };
    return cmocka_run_group_tests_name("survey_ingest", tests, NULL, NULL);
}
