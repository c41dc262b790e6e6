/* zcatalog files: the catalog schema of ard_catalog_column written with the ard Parquet writer. */
#include "survey_int.h"

#include <string.h>

static ard_status add_columns(ard_pq_schema_builder *sb, ard_error *err) {
    ard_pq_logical str = {0};
    str.kind = ARD_PQ_LT_STRING;
    for (int32_t i = 0; i < ard_catalog_num_columns(); i++) {
        const ard_survey_column *c = ard_catalog_column(i);
        ard_pq_type type = ARD_PQ_BYTE_ARRAY;
        switch (c->type) {
        case ARD_COLTYPE_INT32:
            type = ARD_PQ_INT32;
            break;
        case ARD_COLTYPE_INT64:
            type = ARD_PQ_INT64;
            break;
        case ARD_COLTYPE_FLOAT:
            type = ARD_PQ_FLOAT;
            break;
        case ARD_COLTYPE_DOUBLE:
            type = ARD_PQ_DOUBLE;
            break;
        default:
            break;
        }
        int32_t col = ard_pq_schema_add_column(sb, c->name, type, ARD_PQ_REQUIRED,
                                               type == ARD_PQ_BYTE_ARRAY ? &str : NULL, 0, err);
        if (col < 0) {
            return err && err->code ? err->code : ARD_EINTERNAL;
        }
        if (i == 0 && ard_pq_schema_set_sorted(sb, col, 1, err) != ARD_OK) {
            return ARD_EINVAL;
        }
    }
    return ARD_OK;
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
    ard_pq_schema_builder *sb = NULL;
    ard_pq_writer *w = NULL;
    ard_status st = ard_survey_mkdirs_for(path, err);
    st = st ? st : ard_pq_schema_new(&sb, err);
    st = st ? st : add_columns(sb, err);
    if (st == ARD_OK) {
        st = ard__open_table_writer(path, sb, source, NULL, NULL, &w, err);
    }
    for (int32_t i = 0; st == ARD_OK && i < ard_catalog_num_columns(); i++) {
        const char *const *strs = NULL;
        const void *data = column_data(rows, ard_catalog_column(i)->name, &strs);
        if (strs) {
            st = ard__write_strings(w, i, strs, rows->rows, err);
        } else if (data) {
            st = ard_pq_writer_write_column(w, i, data, NULL, rows->rows, err);
        } else {
            st = ard_error_set(err, ARD_EINTERNAL, "catalog: no data for column %s",
                               ard_catalog_column(i)->name);
        }
    }
    ard_pq_schema_free(sb);
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        ard_error_prefix(err, "writing catalog %s: ", path);
        return st;
    }
    st = ard_pq_writer_close(w, err);
    if (st == ARD_OK && bytes_out) {
        *bytes_out = 0;
        ard_file_size(path, bytes_out, NULL);
    }
    return st;
}
