/* libFuzzer target: DESI FITS ingest (coadd and redrock files through cfitsio; a crash inside
 * cfitsio on a hostile file is a crash of ard). The input is written to a scratch file and read as a
 * coadd (ard__coadd_read, then every row resampled onto the default grid) and as a redrock file.
 * Invariants: each read answers OK, ARD_ECORRUPT or ARD_ENOMEM with a message naming the file, and
 * a resampled spectrum has IVAR >= 0 (never NaN). Also replayed by tests/reliability
 * (rel_fuzz_replay.c). Seeds: fuzz/seeds/make_fits_seeds.c. */
#include "../src/survey/survey_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fits_dir[256], fits_path[300];
static ard_grid fits_grid;
static double *fits_edges, *fits_work;
static float *fits_flux, *fits_ivar;
static uint8_t *fits_mask;

static void fits_broken(const char *what, ard_status st, const ard_error *err) {
    fprintf(stderr, "fuzz_fits: %s (%s: %s)\n", what, ard_status_name(st), err ? err->msg : "");
    abort();
}

static void fits_cleanup(void) {
    unlink(fits_path);
    rmdir(fits_dir);
    free(fits_edges);
    free(fits_work);
    free(fits_flux);
    free(fits_ivar);
    free(fits_mask);
}

static void fits_setup(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(fits_dir, sizeof fits_dir, "%s/ard-fuzz-fits-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fits_dir)) {
        abort();
    }
    snprintf(fits_path, sizeof fits_path, "%s/coadd-fuzz.fits", fits_dir);
    ard_grid_default(&fits_grid);
    size_t n = (size_t)fits_grid.n;
    fits_edges = malloc((n + 1) * sizeof *fits_edges);
    fits_work = malloc(2 * n * sizeof *fits_work);
    fits_flux = malloc(n * sizeof *fits_flux);
    fits_ivar = malloc(n * sizeof *fits_ivar);
    fits_mask = malloc(n);
    if (!fits_edges || !fits_work || !fits_flux || !fits_ivar || !fits_mask) {
        abort();
    }
    for (size_t j = 0; j <= n; j++) {
        fits_edges[j] = ard_grid_wavelength(&fits_grid, (double)j - 0.5);
    }
    atexit(fits_cleanup);
}

static void check_status(const char *what, ard_status st, const ard_error *err) {
    if (st != ARD_OK && st != ARD_ECORRUPT && st != ARD_ENOMEM) {
        fits_broken(what, st, err);
    }
    if (st != ARD_OK && !strstr(err->msg, fits_path)) {
        fits_broken("the message does not name the file", st, err);
    }
}

static void read_coadd(void) {
    ard__coadd c;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard__coadd_read(fits_path, &c, &err);
    check_status("coadd status", st, &err);
    if (st != ARD_OK) {
        return;
    }
    for (int64_t row = 0; row < c.nspec && row < 8; row++) {
        ard__resample_row(&c, row, &fits_grid, fits_edges, fits_work, fits_flux, fits_ivar,
                          fits_mask);
        for (int64_t j = 0; j < fits_grid.n; j++) {
            if (!(fits_ivar[j] >= 0.0f)) {
                fits_broken("a resampled IVAR is negative or NaN", st, &err);
            }
        }
        (void)ard__coadd_class(&c, row);
    }
    ard__coadd_free(&c);
}

static void read_redrock(void) {
    ard__redrock r;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard__redrock_read(fits_path, &r, &err);
    check_status("redrock status", st, &err);
    if (st == ARD_OK) {
        for (int64_t i = 0; i < r.n; i++) {
            if (memchr(r.spectype[i], '\0', sizeof r.spectype[i]) == NULL ||
                memchr(r.subtype[i], '\0', sizeof r.subtype[i]) == NULL) {
                fits_broken("an unterminated SPECTYPE/SUBTYPE", st, &err);
            }
        }
        ard__redrock_free(&r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1 << 20)) {
        return 0;
    }
    if (!fits_dir[0]) {
        fits_setup();
    }
    FILE *f = fopen(fits_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        abort();
    }
    read_coadd();
    read_redrock();
    return 0;
}
