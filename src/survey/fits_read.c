/* Reading DESI coadd and redrock FITS files with cfitsio: HDUs located by EXTNAME, images read with
 * BZERO/BSCALE applied by cfitsio (so uint32 masks stored with BZERO = 2^31 come out right). */
#include "survey_int.h"

#include "fits_lazy.h" /* <fitsio.h>, its functions through a table (cfitsio opened on first use) */
#include <string.h>
#include <unistd.h>

static ard_status fits_fail(ard_error *err, int status, const char *path, const char *what) {
    char text[FLEN_STATUS] = "";
    fits_get_errstatus(status, text);
    fits_clear_errmsg();
    ard_status code =
        (status == FILE_NOT_OPENED && access(path, F_OK) != 0) ? ARD_ENOENT : ARD_ECORRUPT;
    return ard_error_set(err, code, "%s: %s: %s (cfitsio status %d)", path, what, text, status);
}

static ard_status move_to(fitsfile *f, const char *path, const char *extname, ard_error *err) {
    int status = 0;
    char name[FLEN_VALUE];
    snprintf(name, sizeof name, "%s", extname);
    if (fits_movnam_hdu(f, ANY_HDU, name, 0, &status)) {
        char what[96];
        snprintf(what, sizeof what, "HDU %s missing or unreadable", extname);
        return fits_fail(err, status, path, what);
    }
    return ARD_OK;
}

/* Reads a 1-D (n) or 2-D (n x rows) image HDU as doubles/floats/int64 (datatype TDOUBLE etc.). */
static ard_status read_image(fitsfile *f, const char *path, const char *extname, int datatype,
                             size_t elem, int64_t want_rows, int64_t *n_out, void **out,
                             ard_error *err) {
    int status = 0, naxis = 0;
    long naxes[2] = {0, 0};
    *out = NULL;
    ard_status st = move_to(f, path, extname, err);
    if (st != ARD_OK) {
        return st;
    }
    if (fits_get_img_dim(f, &naxis, &status) || naxis < 1 || naxis > 2 ||
        fits_get_img_size(f, 2, naxes, &status)) {
        return status ? fits_fail(err, status, path, extname)
                      : ard_error_set(err, ARD_ECORRUPT,
                                      "%s: HDU %s: expected a 1-D or 2-D image, "
                                      "NAXIS=%d",
                                      path, extname, naxis);
    }
    int64_t rows = naxis == 2 ? naxes[1] : 1;
    if (naxes[0] < 2 || naxes[0] > 100000 || (want_rows >= 0 && rows != want_rows)) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: HDU %s: shape %ld x %lld, expected %lld rows",
                             path, extname, naxes[0], (long long)rows, (long long)want_rows);
    }
    LONGLONG count = (LONGLONG)naxes[0] * rows;
    void *buf = ard_malloc((size_t)count * elem);
    if (!buf) {
        return ard_error_set(err, ARD_ENOMEM, "%s: HDU %s: no memory", path, extname);
    }
    int anynul = 0;
    if (fits_read_img(f, datatype, 1, count, NULL, buf, &anynul, &status)) {
        ard_free(buf);
        return fits_fail(err, status, path, extname);
    }
    *n_out = naxes[0];
    *out = buf;
    return ARD_OK;
}

/* Reads column `name` of the current table HDU (n rows) as datatype; if the column is absent and
 * fallback is non-NULL, fills with *fallback instead. */
static ard_status read_col(fitsfile *f, const char *path, const char *hdu, const char *name,
                           int datatype, int64_t n, void *out, const void *fallback, size_t elem,
                           ard_error *err) {
    int status = 0, col = 0;
    char cname[FLEN_VALUE];
    snprintf(cname, sizeof cname, "%s", name);
    if (fits_get_colnum(f, CASEINSEN, cname, &col, &status)) {
        fits_clear_errmsg();
        if (!fallback) {
            return ard_error_set(err, ARD_ECORRUPT, "%s: HDU %s has no column %s", path, hdu, name);
        }
        for (int64_t i = 0; i < n; i++) {
            memcpy((char *)out + (size_t)i * elem, fallback, elem);
        }
        return ARD_OK;
    }
    int anynul = 0;
    if (n > 0 && fits_read_col(f, datatype, col, 1, 1, (LONGLONG)n, NULL, out, &anynul, &status)) {
        char what[128];
        snprintf(what, sizeof what, "HDU %s column %s", hdu, name);
        return fits_fail(err, status, path, what);
    }
    return ARD_OK;
}

static int has_col(fitsfile *f, const char *name) {
    int status = 0, col = 0;
    char cname[FLEN_VALUE];
    snprintf(cname, sizeof cname, "%s", name);
    int found = fits_get_colnum(f, CASEINSEN, cname, &col, &status) == 0;
    fits_clear_errmsg();
    return found;
}

static void read_key_str(fitsfile *f, const char *key, char *out, size_t cap) {
    int status = 0;
    char value[FLEN_VALUE] = "";
    char k[FLEN_KEYWORD];
    snprintf(k, sizeof k, "%s", key);
    if (fits_read_key(f, TSTRING, k, value, NULL, &status) == 0) {
        size_t len = strlen(value);
        while (len > 0 && value[len - 1] == ' ') {
            value[--len] = '\0';
        }
        snprintf(out, cap, "%s", value);
    }
    fits_clear_errmsg();
}

/* Survey and the targeting columns: header SURVEY, else the SVn_/CMX_ column set holding bits. */
static ard_status read_targeting(fitsfile *f, const char *path, ard__coadd *c, ard_error *err) {
    static const char *const prefixes[] = {"SV3_", "SV2_", "SV1_", "CMX_", ""};
    const int64_t zero = 0;
    char name[64];
    ard_status st = ARD_OK;
    for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0] && st == ARD_OK; p++) {
        snprintf(name, sizeof name, "%sDESI_TARGET", prefixes[p]);
        if (!has_col(f, name)) {
            continue;
        }
        st =
            read_col(f, path, "FIBERMAP", name, TLONGLONG, c->nspec, c->desi_target, &zero, 8, err);
        snprintf(name, sizeof name, "%sBGS_TARGET", prefixes[p]);
        st = st ? st
                : read_col(f, path, "FIBERMAP", name, TLONGLONG, c->nspec, c->bgs_target, &zero, 8,
                           err);
        int64_t any = 0;
        for (int64_t i = 0; i < c->nspec; i++) {
            any |= c->desi_target[i] | c->bgs_target[i];
        }
        if (any != 0 || prefixes[p][0] == '\0') {
            if (c->survey[0] == '\0') {
                snprintf(c->survey, sizeof c->survey, "%s", prefixes[p][0] ? prefixes[p] : "main");
                size_t len = strlen(c->survey);
                if (len > 0 && c->survey[len - 1] == '_') {
                    c->survey[len - 1] = '\0';
                }
                for (char *q = c->survey; *q; q++) {
                    *q = (char)(*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q);
                }
            }
            return st;
        }
    }
    return st;
}

static ard_status read_fibermap(fitsfile *f, const char *path, ard__coadd *c, ard_error *err) {
    ard_status st = move_to(f, path, "FIBERMAP", err);
    int status = 0;
    long rows = 0;
    if (st == ARD_OK && fits_get_num_rows(f, &rows, &status)) {
        st = fits_fail(err, status, path, "FIBERMAP rows");
    }
    if (st == ARD_OK && (rows < 1 || rows > 1000000)) {
        st = ard_error_set(err, ARD_ECORRUPT, "%s: FIBERMAP has %ld rows", path, rows);
    }
    if (st != ARD_OK) {
        return st;
    }
    int64_t n = c->nspec = rows;
    c->targetid = ard_calloc((size_t)n, 8);
    c->desi_target = ard_calloc((size_t)n, 8);
    c->bgs_target = ard_calloc((size_t)n, 8);
    c->ra = ard_calloc((size_t)n, 8);
    c->dec = ard_calloc((size_t)n, 8);
    c->flux_g = ard_calloc((size_t)n, 4);
    c->flux_r = ard_calloc((size_t)n, 4);
    c->flux_z = ard_calloc((size_t)n, 4);
    c->ebv = ard_calloc((size_t)n, 4);
    c->fiberstatus = ard_calloc((size_t)n, 4);
    if (!c->targetid || !c->desi_target || !c->bgs_target || !c->ra || !c->dec || !c->flux_g ||
        !c->flux_r || !c->flux_z || !c->ebv || !c->fiberstatus) {
        return ard_error_set(err, ARD_ENOMEM, "%s: no memory for FIBERMAP", path);
    }
    const float fnan = NAN;
    const int32_t izero = 0;
    st = read_col(f, path, "FIBERMAP", "TARGETID", TLONGLONG, n, c->targetid, NULL, 8, err);
    st = st ? st : read_col(f, path, "FIBERMAP", "TARGET_RA", TDOUBLE, n, c->ra, NULL, 8, err);
    st = st ? st : read_col(f, path, "FIBERMAP", "TARGET_DEC", TDOUBLE, n, c->dec, NULL, 8, err);
    st = st ? st : read_col(f, path, "FIBERMAP", "FLUX_G", TFLOAT, n, c->flux_g, &fnan, 4, err);
    st = st ? st : read_col(f, path, "FIBERMAP", "FLUX_R", TFLOAT, n, c->flux_r, &fnan, 4, err);
    st = st ? st : read_col(f, path, "FIBERMAP", "FLUX_Z", TFLOAT, n, c->flux_z, &fnan, 4, err);
    st = st ? st : read_col(f, path, "FIBERMAP", "EBV", TFLOAT, n, c->ebv, &fnan, 4, err);
    st = st ? st
            : read_col(f, path, "FIBERMAP", "COADD_FIBERSTATUS", TINT, n, c->fiberstatus, &izero, 4,
                       err);
    return st ? st : read_targeting(f, path, c, err);
}

static ard_status read_arms(fitsfile *f, const char *path, ard__coadd *c, ard_error *err) {
    static const char arm_letter[3] = {'B', 'R', 'Z'};
    ard_status st = ARD_OK;
    for (int a = 0; a < 3 && st == ARD_OK; a++) {
        char name[32];
        int64_t nw = 0, n2 = 0;
        int64_t *mask = NULL;
        snprintf(name, sizeof name, "%c_WAVELENGTH", arm_letter[a]);
        st = read_image(f, path, name, TDOUBLE, 8, 1, &c->nwave[a], (void **)&c->wave[a], err);
        nw = c->nwave[a];
        snprintf(name, sizeof name, "%c_FLUX", arm_letter[a]);
        st = st ? st
                : read_image(f, path, name, TFLOAT, 4, c->nspec, &n2, (void **)&c->flux[a], err);
        if (st == ARD_OK && n2 != nw) {
            st = ard_error_set(err, ARD_ECORRUPT, "%s: %s has %lld wavelengths, %c_WAVELENGTH %lld",
                               path, name, (long long)n2, arm_letter[a], (long long)nw);
        }
        snprintf(name, sizeof name, "%c_IVAR", arm_letter[a]);
        st = st ? st
                : read_image(f, path, name, TFLOAT, 4, c->nspec, &n2, (void **)&c->ivar[a], err);
        snprintf(name, sizeof name, "%c_MASK", arm_letter[a]);
        st = st ? st : read_image(f, path, name, TLONGLONG, 8, c->nspec, &n2, (void **)&mask, err);
        if (st == ARD_OK && n2 != nw) {
            st = ard_error_set(err, ARD_ECORRUPT, "%s: IVAR/MASK width differs from %c_WAVELENGTH",
                               path, arm_letter[a]);
        }
        for (int64_t k = 1; st == ARD_OK && k < nw; k++) {
            if (!(c->wave[a][k] > c->wave[a][k - 1])) {
                st = ard_error_set(err, ARD_ECORRUPT, "%s: %c_WAVELENGTH not increasing at %lld",
                                   path, arm_letter[a], (long long)k);
            }
        }
        if (st == ARD_OK) {
            c->bad[a] = ard_malloc((size_t)(nw * c->nspec));
            st = c->bad[a] ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "%s: no memory", path);
        }
        for (int64_t k = 0; st == ARD_OK && k < nw * c->nspec; k++) {
            c->bad[a][k] = mask[k] != 0;
        }
        ard_free(mask);
    }
    return st;
}

ard_status ard__coadd_read(const char *path, ard__coadd *c, ard_error *err) {
    memset(c, 0, sizeof *c);
    c->hpxpixel = -1;
    fitsfile *f = NULL;
    int status = 0;
    ard_status checked = ard__fits_check(path, err);
    checked = checked == ARD_OK ? ard__fits_load(err) : checked;
    if (checked != ARD_OK) {
        return checked;
    }
    if (fits_open_diskfile(&f, path, READONLY, &status)) {
        return fits_fail(err, status, path, "cannot open as FITS");
    }
    read_key_str(f, "SURVEY", c->survey, sizeof c->survey);
    read_key_str(f, "PROGRAM", c->program, sizeof c->program);
    long pix = -1;
    int st2 = 0;
    if (fits_read_key(f, TLONG, "HPXPIXEL", &pix, NULL, &st2) == 0) {
        c->hpxpixel = pix;
    }
    fits_clear_errmsg();
    ard_status st = read_fibermap(f, path, c, err);
    st = st ? st : read_arms(f, path, c, err);
    status = 0;
    fits_close_file(f, &status);
    if (st != ARD_OK) {
        ard__coadd_free(c);
    }
    return st;
}

void ard__coadd_free(ard__coadd *c) {
    for (int a = 0; a < 3; a++) {
        ard_free(c->wave[a]);
        ard_free(c->flux[a]);
        ard_free(c->ivar[a]);
        ard_free(c->bad[a]);
    }
    ard_free(c->targetid);
    ard_free(c->desi_target);
    ard_free(c->bgs_target);
    ard_free(c->ra);
    ard_free(c->dec);
    ard_free(c->flux_g);
    ard_free(c->flux_r);
    ard_free(c->flux_z);
    ard_free(c->ebv);
    ard_free(c->fiberstatus);
    memset(c, 0, sizeof *c);
}

int32_t ard__coadd_class(const ard__coadd *c, int64_t i) {
    int64_t bits = c->desi_target[i];
    if (bits & 4) {
        return ARD_CLASS_QSO;
    }
    if (bits & 1) {
        return ARD_CLASS_LRG;
    }
    if (bits & 2) {
        return ARD_CLASS_ELG;
    }
    if ((bits & (INT64_C(1) << 60)) || c->bgs_target[i] != 0) {
        return ARD_CLASS_BGS;
    }
    return -1;
}

static ard_status read_strings(fitsfile *f, const char *path, const char *name, int64_t n,
                               char *out, size_t width, ard_error *err) {
    int status = 0, col = 0, anynul = 0;
    char cname[FLEN_VALUE];
    snprintf(cname, sizeof cname, "%s", name);
    memset(out, 0, (size_t)n * width);
    if (fits_get_colnum(f, CASEINSEN, cname, &col, &status)) {
        fits_clear_errmsg();
        return ARD_OK; /* optional */
    }
    char **ptrs = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *ptrs);
    char *tmp = ard_calloc((size_t)(n > 0 ? n : 1), 72);
    if (!ptrs || !tmp) {
        ard_free(ptrs);
        ard_free(tmp);
        return ard_error_set(err, ARD_ENOMEM, "%s: no memory for %s", path, name);
    }
    for (int64_t i = 0; i < n; i++) {
        ptrs[i] = tmp + i * 72;
    }
    ard_status st = ARD_OK;
    if (n > 0 && fits_read_col_str(f, col, 1, 1, (LONGLONG)n, "", ptrs, &anynul, &status)) {
        st = fits_fail(err, status, path, name);
    }
    for (int64_t i = 0; st == ARD_OK && i < n; i++) {
        snprintf(out + (size_t)i * width, width, "%s", ptrs[i]);
        char *s = out + (size_t)i * width;
        size_t len = strlen(s);
        while (len > 0 && s[len - 1] == ' ') {
            s[--len] = '\0';
        }
    }
    ard_free(ptrs);
    ard_free(tmp);
    return st;
}

ard_status ard__redrock_read(const char *path, ard__redrock *r, ard_error *err) {
    memset(r, 0, sizeof *r);
    fitsfile *f = NULL;
    int status = 0;
    long rows = 0;
    ard_status checked = ard__fits_check(path, err);
    checked = checked == ARD_OK ? ard__fits_load(err) : checked;
    if (checked != ARD_OK) {
        return checked;
    }
    if (fits_open_diskfile(&f, path, READONLY, &status)) {
        return fits_fail(err, status, path, "cannot open as FITS");
    }
    ard_status st = move_to(f, path, "REDSHIFTS", err);
    if (st == ARD_OK && fits_get_num_rows(f, &rows, &status)) {
        st = fits_fail(err, status, path, "REDSHIFTS rows");
    }
    if (st == ARD_OK && (rows < 1 || rows > 1000000)) {
        st = ard_error_set(err, ARD_ECORRUPT, "%s: REDSHIFTS has %ld rows", path, rows);
    }
    int64_t n = r->n = rows;
    if (st == ARD_OK) {
        r->targetid = ard_calloc((size_t)n, 8);
        r->zwarn = ard_calloc((size_t)n, 8);
        r->z = ard_calloc((size_t)n, 8);
        r->zerr = ard_calloc((size_t)n, 8);
        r->deltachi2 = ard_calloc((size_t)n, 8);
        r->spectype = ard_calloc((size_t)n, sizeof *r->spectype);
        r->subtype = ard_calloc((size_t)n, sizeof *r->subtype);
        if (!r->targetid || !r->zwarn || !r->z || !r->zerr || !r->deltachi2 || !r->spectype ||
            !r->subtype) {
            st = ard_error_set(err, ARD_ENOMEM, "%s: no memory for REDSHIFTS", path);
        }
    }
    const double dnan = NAN;
    const int64_t zero = 0;
    st = st ? st
            : read_col(f, path, "REDSHIFTS", "TARGETID", TLONGLONG, n, r->targetid, NULL, 8, err);
    st = st ? st : read_col(f, path, "REDSHIFTS", "Z", TDOUBLE, n, r->z, NULL, 8, err);
    st = st ? st : read_col(f, path, "REDSHIFTS", "ZERR", TDOUBLE, n, r->zerr, &dnan, 8, err);
    st = st ? st : read_col(f, path, "REDSHIFTS", "ZWARN", TLONGLONG, n, r->zwarn, &zero, 8, err);
    st = st ? st
            : read_col(f, path, "REDSHIFTS", "DELTACHI2", TDOUBLE, n, r->deltachi2, &dnan, 8, err);
    st = st ? st : read_strings(f, path, "SPECTYPE", n, (char *)r->spectype, 8, err);
    st = st ? st : read_strings(f, path, "SUBTYPE", n, (char *)r->subtype, 24, err);
    status = 0;
    fits_close_file(f, &status);
    if (st != ARD_OK) {
        ard__redrock_free(r);
    }
    return st;
}

void ard__redrock_free(ard__redrock *r) {
    ard_free(r->targetid);
    ard_free(r->zwarn);
    ard_free(r->z);
    ard_free(r->zerr);
    ard_free(r->deltachi2);
    ard_free(r->spectype);
    ard_free(r->subtype);
    memset(r, 0, sizeof *r);
}
