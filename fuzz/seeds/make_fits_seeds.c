/* Writes the seed corpus of fuzz_fits (fuzz/corpus/fits/): a tiny DESI-like coadd (3 spectra,
 * 8 wavelengths per arm: FIBERMAP, B/R/Z_WAVELENGTH/_FLUX/_IVAR/_MASK), its redrock (REDSHIFTS),
 * a coadd without MASK HDUs, a bare primary HDU. Not part of the build:
 *   cc -o /tmp/mk fuzz/seeds/make_fits_seeds.c -lcfitsio && /tmp/mk fuzz/corpus/fits */
#include <fitsio.h>
#include <stdio.h>
#include <string.h>

enum { NSPEC = 3, NWAVE = 8 };

static void fibermap(fitsfile *f, int *st) {
    char *names[] = {"TARGETID", "TARGET_RA", "TARGET_DEC",        "FLUX_G",      "FLUX_R",
                     "FLUX_Z",   "EBV",       "COADD_FIBERSTATUS", "DESI_TARGET", "BGS_TARGET"};
    char *forms[] = {"K", "D", "D", "E", "E", "E", "E", "J", "K", "K"};
    fits_create_tbl(f, BINARY_TBL, NSPEC, 10, names, forms, NULL, "FIBERMAP", st);
    long long tid[NSPEC] = {39627000000001LL, 39627000000002LL, 39627000000003LL};
    double ra[NSPEC] = {150.1, 150.2, 150.3}, dec[NSPEC] = {2.1, 2.2, 2.3};
    float flux[NSPEC] = {1.5f, 2.5f, 3.5f}, ebv[NSPEC] = {0.01f, 0.02f, 0.03f};
    int status[NSPEC] = {0, 0, 8};
    long long dt[NSPEC] = {1, 2, 4}, bgs[NSPEC] = {0, 0, 1};
    fits_write_col(f, TLONGLONG, 1, 1, 1, NSPEC, tid, st);
    fits_write_col(f, TDOUBLE, 2, 1, 1, NSPEC, ra, st);
    fits_write_col(f, TDOUBLE, 3, 1, 1, NSPEC, dec, st);
    for (int c = 4; c <= 7; c++) {
        fits_write_col(f, TFLOAT, c, 1, 1, NSPEC, c == 7 ? ebv : flux, st);
    }
    fits_write_col(f, TINT, 8, 1, 1, NSPEC, status, st);
    fits_write_col(f, TLONGLONG, 9, 1, 1, NSPEC, dt, st);
    fits_write_col(f, TLONGLONG, 10, 1, 1, NSPEC, bgs, st);
}

static void image(fitsfile *f, const char *name, int bitpix, int naxis, int dtype, void *v,
                  int *st) {
    long naxes[2] = {NWAVE, NSPEC};
    fits_create_img(f, bitpix, naxis, naxes, st);
    fits_update_key(f, TSTRING, "EXTNAME", (void *)name, NULL, st);
    fits_write_img(f, dtype, 1, naxis == 1 ? NWAVE : NWAVE * NSPEC, v, st);
}

static int coadd(const char *path, int with_mask) {
    fitsfile *f = NULL;
    int st = 0;
    long pix = 27247;
    fits_create_file(&f, path, &st);
    fits_create_img(f, 8, 0, NULL, &st);
    fits_update_key(f, TSTRING, "SURVEY", "sv3", NULL, &st);
    fits_update_key(f, TSTRING, "PROGRAM", "dark", NULL, &st);
    fits_update_key(f, TLONG, "HPXPIXEL", &pix, NULL, &st);
    fibermap(f, &st);
    static const char arms[3] = {'B', 'R', 'Z'};
    static const double start[3] = {3600, 5760, 7520};
    for (int a = 0; a < 3; a++) {
        double wave[NWAVE];
        float flux[NWAVE * NSPEC], ivar[NWAVE * NSPEC];
        unsigned int mask[NWAVE * NSPEC];
        for (int k = 0; k < NWAVE; k++) {
            wave[k] = start[a] + 300.0 * k;
        }
        for (int k = 0; k < NWAVE * NSPEC; k++) {
            flux[k] = (float)(k % 7) - 1.0f;
            ivar[k] = k % 5 ? 2.0f : 0.0f;
            mask[k] = k % 11 ? 0u : 0x80000000u;
        }
        char name[32];
        snprintf(name, sizeof name, "%c_WAVELENGTH", arms[a]);
        image(f, name, DOUBLE_IMG, 1, TDOUBLE, wave, &st);
        snprintf(name, sizeof name, "%c_FLUX", arms[a]);
        image(f, name, FLOAT_IMG, 2, TFLOAT, flux, &st);
        snprintf(name, sizeof name, "%c_IVAR", arms[a]);
        image(f, name, FLOAT_IMG, 2, TFLOAT, ivar, &st);
        if (with_mask) {
            snprintf(name, sizeof name, "%c_MASK", arms[a]);
            image(f, name, ULONG_IMG, 2, TUINT, mask, &st);
        }
    }
    fits_close_file(f, &st);
    return st;
}

static int redrock(const char *path) {
    fitsfile *f = NULL;
    int st = 0;
    char *names[] = {"TARGETID", "Z", "ZERR", "ZWARN", "DELTACHI2", "SPECTYPE", "SUBTYPE"};
    char *forms[] = {"K", "D", "D", "K", "D", "6A", "20A"};
    long long tid[NSPEC] = {39627000000001LL, 39627000000002LL, 39627000000003LL};
    double z[NSPEC] = {0.5, 1.1, 2.2}, zerr[NSPEC] = {1e-4, 2e-4, 3e-4}, dchi[NSPEC] = {50, 9, 100};
    long long zwarn[NSPEC] = {0, 4, 0};
    char *spectype[NSPEC] = {"GALAXY", "GALAXY", "QSO"}, *subtype[NSPEC] = {"", "", "LOZ"};
    fits_create_file(&f, path, &st);
    fits_create_img(f, 8, 0, NULL, &st);
    fits_create_tbl(f, BINARY_TBL, NSPEC, 7, names, forms, NULL, "REDSHIFTS", &st);
    fits_write_col(f, TLONGLONG, 1, 1, 1, NSPEC, tid, &st);
    fits_write_col(f, TDOUBLE, 2, 1, 1, NSPEC, z, &st);
    fits_write_col(f, TDOUBLE, 3, 1, 1, NSPEC, zerr, &st);
    fits_write_col(f, TLONGLONG, 4, 1, 1, NSPEC, zwarn, &st);
    fits_write_col(f, TDOUBLE, 5, 1, 1, NSPEC, dchi, &st);
    fits_write_col(f, TSTRING, 6, 1, 1, NSPEC, spectype, &st);
    fits_write_col(f, TSTRING, 7, 1, 1, NSPEC, subtype, &st);
    fits_close_file(f, &st);
    return st;
}

static int primary_only(const char *path) {
    fitsfile *f = NULL;
    int st = 0;
    fits_create_file(&f, path, &st);
    fits_create_img(f, 8, 0, NULL, &st);
    fits_close_file(f, &st);
    return st;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char p[4][1024];
    snprintf(p[0], sizeof p[0], "!%s/coadd-seed.fits", argv[1]);
    snprintf(p[1], sizeof p[1], "!%s/redrock-seed.fits", argv[1]);
    snprintf(p[2], sizeof p[2], "!%s/coadd-nomask.fits", argv[1]);
    snprintf(p[3], sizeof p[3], "!%s/primary-only.fits", argv[1]);
    int st = coadd(p[0], 1) || redrock(p[1]) || coadd(p[2], 0) || primary_only(p[3]);
    if (st) {
        fprintf(stderr, "make_fits_seeds: cfitsio failed\n");
    }
    return st ? 1 : 0;
}
