/* The ARD data model tables: catalog columns, class and anomaly names, dataset paths. */
#include "dataset_int.h"

#include <stdio.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static const ard_dataset_column catalog_columns[] = {
    {ARD_CAT_TARGETID, ARD_COLTYPE_INT64, "", "unique target id, join key of tiles and catalog"},
    {ARD_CAT_TARGET_RA, ARD_COLTYPE_DOUBLE, "deg", "right ascension (ICRS)"},
    {ARD_CAT_TARGET_DEC, ARD_COLTYPE_DOUBLE, "deg", "declination (ICRS)"},
    {ARD_CAT_Z, ARD_COLTYPE_DOUBLE, "", "best-fit redshift"},
    {ARD_CAT_ZERR, ARD_COLTYPE_DOUBLE, "", "redshift error"},
    {ARD_CAT_ZWARN, ARD_COLTYPE_INT64, "", "redshift warning bits, 0 = good"},
    {ARD_CAT_DELTACHI2, ARD_COLTYPE_DOUBLE, "", "chi2 difference to the second-best fit"},
    {ARD_CAT_SPECTYPE, ARD_COLTYPE_STRING, "", "spectral type GALAXY/QSO/STAR"},
    {ARD_CAT_SUBTYPE, ARD_COLTYPE_STRING, "", "spectral subtype"},
    {ARD_CAT_HEALPIX, ARD_COLTYPE_INT32, "", "NSIDE 64 nested HEALPix pixel (tile)"},
    {ARD_CAT_SURVEY, ARD_COLTYPE_STRING, "", "survey (main, sv1, ..., special)"},
    {ARD_CAT_PROGRAM, ARD_COLTYPE_STRING, "", "program (dark, bright, backup, other)"},
    {ARD_CAT_DESI_TARGET, ARD_COLTYPE_INT64, "", "DESI targeting bits"},
    {ARD_CAT_BGS_TARGET, ARD_COLTYPE_INT64, "", "BGS targeting bits"},
    {ARD_CAT_FLUX_G, ARD_COLTYPE_FLOAT, "nanomaggy", "g-band flux"},
    {ARD_CAT_FLUX_R, ARD_COLTYPE_FLOAT, "nanomaggy", "r-band flux"},
    {ARD_CAT_FLUX_Z, ARD_COLTYPE_FLOAT, "nanomaggy", "z-band flux"},
    {ARD_CAT_EBV, ARD_COLTYPE_FLOAT, "mag", "Galactic E(B-V)"},
    {ARD_CAT_COADD_FIBERSTATUS, ARD_COLTYPE_INT32, "", "fiber status bits, 0 = good"},
    {ARD_CAT_TARGET_CLASS, ARD_COLTYPE_STRING, "", "ard target class BGS/LRG/ELG/QSO"},
    {ARD_CAT_HAS_SPECTRUM, ARD_COLTYPE_INT32, "", "1 if a tile row holds this target's spectrum"},
};

int32_t ard_dataset_catalog_num_columns(void) {
    return (int32_t)(sizeof catalog_columns / sizeof catalog_columns[0]);
}

const ard_dataset_column *ard_dataset_catalog_column(int32_t i) {
    if (i < 0 || i >= ard_dataset_catalog_num_columns()) {
        return NULL;
    }
    return &catalog_columns[i];
}

int32_t ard_dataset_catalog_column_index(const char *name) {
    if (!name) {
        return -1;
    }
    for (int32_t i = 0; i < ard_dataset_catalog_num_columns(); i++) {
        if (strcmp(catalog_columns[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

static const char *const class_names[ARD_CLASS_COUNT] = {"BGS", "LRG", "ELG", "QSO"};

const char *ard_target_class_name(int32_t cls) {
    return (cls >= 0 && cls < ARD_CLASS_COUNT) ? class_names[cls] : "UNKNOWN";
}

int32_t ard_target_class_from_name(const char *name) {
    for (int32_t i = 0; name && i < ARD_CLASS_COUNT; i++) {
        if (strcmp(class_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

static const char *const anomaly_names[ARD_ANOMALY_COUNT] = {
    "",           "cosmic_ray",       "dead_arm",       "wrong_class",   "flat",
    "line_ratio", "redshift_blunder", "star_as_galaxy", "double_peaked", "bal_qso",
    "blend"};

const char *ard_anomaly_name(int32_t kind) {
    return (kind >= 0 && kind < ARD_ANOMALY_COUNT) ? anomaly_names[kind] : "unknown";
}

static int valid_part(const char *s) {
    if (!s || !*s || strlen(s) > 15) {
        return 0;
    }
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) {
            return 0;
        }
    }
    return 1;
}

ard_status ard_dataset_tile_path(const char *dataset, const char *survey, const char *program,
                                 int64_t pixnum, char *buf, size_t cap, ard_error *err) {
    if (!dataset || !buf || !valid_part(survey) || !valid_part(program) || pixnum < 0) {
        return ard_error_set(
            err, ARD_EINVAL, "tile path: bad survey '%s', program '%s' or pixel %lld",
            survey ? survey : "(null)", program ? program : "(null)", (long long)pixnum);
    }
    int len = snprintf(buf, cap, "%s/tiles/%s/%s/%lld/%lld.parquet", dataset, survey, program,
                       (long long)(pixnum / 100), (long long)pixnum);
    if (len < 0 || (size_t)len >= cap) {
        return ard_error_set(err, ARD_ERANGE, "tile path: buffer of %zu bytes too small", cap);
    }
    return ARD_OK;
}

ard_status ard_dataset_catalog_path(const char *dataset, int32_t file_index, char *buf, size_t cap,
                                    ard_error *err) {
    if (!dataset || !buf || file_index < 0 || file_index > 9999) {
        return ard_error_set(err, ARD_EINVAL, "catalog path: bad file index %d", file_index);
    }
    int len = snprintf(buf, cap, "%s/catalog/zcatalog-%04d.parquet", dataset, file_index);
    if (len < 0 || (size_t)len >= cap) {
        return ard_error_set(err, ARD_ERANGE, "catalog path: buffer of %zu bytes too small", cap);
    }
    return ARD_OK;
}

/* Copies the path component starting at s (up to '/') into out (cap 16). Returns its end. */
static const char *take_part(const char *s, char *out) {
    size_t k = 0;
    while (*s && *s != '/' && k < 15) {
        out[k++] = *s++;
    }
    out[k] = '\0';
    return (*s == '/') ? s + 1 : NULL;
}

static int parse_int(const char *s, const char *end, int64_t *out) {
    int64_t v = 0;
    if (s >= end) {
        return 0;
    }
    for (; s < end; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10) {
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 1;
}

ard_status ard_dataset_parse_tile_path(const char *path, char *survey, char *program,
                                       int64_t *pixnum, ard_error *err) {
    const char *t = path ? strstr(path, "tiles/") : NULL;
    while (t && t != path && t[-1] != '/') {
        t = strstr(t + 1, "tiles/");
    }
    const char *p = t ? take_part(t + 6, survey) : NULL;
    p = p ? take_part(p, program) : NULL;
    const char *slash = p ? strchr(p, '/') : NULL;
    int64_t group = 0, pix = 0;
    const char *dot = slash ? strstr(slash, ".parquet") : NULL;
    if (!slash || !dot || dot[8] != '\0' || !parse_int(p, slash, &group) ||
        !parse_int(slash + 1, dot, &pix) || group != pix / 100 || !valid_part(survey) ||
        !valid_part(program)) {
        return ard_error_set(err, ARD_EINVAL,
                             "'%s' is not a tile path "
                             "(tiles/SURVEY/PROGRAM/PIXGROUP/PIXNUM.parquet)",
                             path ? path : "(null)");
    }
    *pixnum = pix;
    return ARD_OK;
}

ard_status ard_dataset_mkdirs_for(const char *path, ard_error *err) {
    char dir[4096];
    size_t len = path ? strlen(path) : 0;
    if (len == 0 || len >= sizeof dir) {
        return ard_error_set(err, ARD_EINVAL, "mkdirs: bad path");
    }
    memcpy(dir, path, len + 1);
    char *last = strrchr(dir, '/');
    if (!last || last == dir) {
        return ARD_OK;
    }
    *last = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                return ard_error_set_errno(err, ARD_EIO, errno, "cannot create directory %s", dir);
            }
            *p = saved;
            if (saved == '\0') {
                break;
            }
        }
    }
    return ARD_OK;
}

ard_status ard_dataset_check_fresh(const char *out_dir, ard_error *err) {
    if (!out_dir) {
        return ard_error_set(err, ARD_EINVAL, "check_fresh: no directory");
    }
    (void)ard_atomic_sweep(out_dir, 1, NULL, NULL); /* a killed producer's temporaries */
    static const char *const parts[] = {"tiles", "catalog", ARD_TRUTH_DIR};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char path[4096];
        struct stat sb;
        int len = snprintf(path, sizeof path, "%s/%s", out_dir, parts[i]);
        if (len < 0 || (size_t)len >= sizeof path) {
            return ard_error_set(err, ARD_EINVAL, "output path too long: %.200s", out_dir);
        }
        if (stat(path, &sb) == 0) {
            return ard_error_set(err, ARD_EEXIST,
                                 "%s already holds a dataset (%s/ exists): choose a new directory "
                                 "or remove the old dataset first",
                                 out_dir, parts[i]);
        }
    }
    return ARD_OK;
}
