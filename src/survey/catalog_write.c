/* zcatalog files: the catalog schema of ard_dataset_catalog_column written with parquet's table
 * writer. */
#include "survey_int.h"

#include <string.h>

/* ard_dataset_col_type -> table column kind. */
static int32_t table_kind(int32_t type) {
    static const int32_t kinds[] = {ARD_PARQUET_COL_INT32, ARD_PARQUET_COL_INT64,
                                    ARD_PARQUET_COL_FLOAT, ARD_PARQUET_COL_DOUBLE,
                                    ARD_PARQUET_COL_STRING};
    return type >= 0 && type <= ARD_COLTYPE_STRING ? kinds[type] : -1;
}

/* The data pointer of catalog column `name` in r (numeric) or its strings. */
static const void *column_data(const ard__catalog_rows *r, const char *name,
                               const char *const **strs) {
    *strs = NULL;
    static const struct {
        const char *name;
        size_t offset;
        int is_string;
    } map[] = {
#define N(col, field) {col, offsetof(ard__catalog_rows, field), 0}
#define S(col, field)                                                                              \
    { col, offsetof(ard__catalog_rows, field), 1 }
        N(ARD_CAT_TARGETID, targetid),
        N(ARD_CAT_TARGET_RA, ra),
        N(ARD_CAT_TARGET_DEC, dec),
        N(ARD_CAT_Z, z),
        N(ARD_CAT_ZERR, zerr),
        N(ARD_CAT_ZWARN, zwarn),
        N(ARD_CAT_DELTACHI2, deltachi2),
        S(ARD_CAT_SPECTYPE, spectype),
        S(ARD_CAT_SUBTYPE, subtype),
        N(ARD_CAT_HEALPIX, healpix),
        S(ARD_CAT_SURVEY, survey),
        S(ARD_CAT_PROGRAM, program),
        N(ARD_CAT_DESI_TARGET, desi_target),
        N(ARD_CAT_BGS_TARGET, bgs_target),
        N(ARD_CAT_FLUX_G, flux_g),
        N(ARD_CAT_FLUX_R, flux_r),
        N(ARD_CAT_FLUX_Z, flux_z),
        N(ARD_CAT_EBV, ebv),
        N(ARD_CAT_COADD_FIBERSTATUS, fiberstatus),
        S(ARD_CAT_TARGET_CLASS, target_class),
        N(ARD_CAT_HAS_SPECTRUM, has_spectrum),
#undef N
#undef S
    };
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        if (strcmp(map[k].name, name) == 0) {
            const void *p;
            memcpy(&p, (const char *)r + map[k].offset, sizeof p);
            if (map[k].is_string) {
                *strs = p;
                return NULL;
            }
            return p;
        }
    }
    return NULL;
}

ard_status ard__write_catalog(const char *path, const ard__catalog_rows *rows, const char *source,
                              int64_t *bytes_out, ard_error *err) {
    ard_parquet_table_column cols[32];
    int32_t n = ard_dataset_catalog_num_columns();
    if (n > (int32_t)(sizeof cols / sizeof cols[0])) {
        return ard_error_set(err, ARD_EINTERNAL, "catalog: %d columns", n);
    }
    for (int32_t i = 0; i < n; i++) {
        const ard_dataset_column *c = ard_dataset_catalog_column(i);
        const char *const *strs = NULL;
        const void *data = column_data(rows, c->name, &strs);
        memset(&cols[i], 0, sizeof cols[i]);
        cols[i].name = c->name;
        cols[i].kind = table_kind(c->type);
        cols[i].flags = i == 0 ? ARD_PARQUET_COL_SORTED : 0;
        cols[i].values = strs ? (const void *)strs : data;
        if (!cols[i].values) {
            return ard_error_set(err, ARD_EINTERNAL, "catalog: no data for column %s", c->name);
        }
    }
    ard_status st = ard__write_survey_table(path, cols, n, rows->rows, source, NULL, NULL, err);
    if (st == ARD_OK && bytes_out) {
        *bytes_out = 0;
        ard_file_size(path, bytes_out, NULL);
    }
    return st;
}
