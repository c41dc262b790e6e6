/* Catalog columns in batches: the loader option "Z,SPECTYPE" is parsed into identifiers, each
 * checked against the known columns of the index's `galaxies` table (and that the open index
 * really has it), and every batch's values are read by its TARGETIDs through the index's typed
 * reads (ard_index_read_targetids), so they arrive bit-exact without a text round trip. */
#include "stream_int.h"

#include "ard/index.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

typedef struct known_column {
    const char *name; /* as in the galaxies table (lower case) */
    int32_t type;
} known_column;

static const known_column known[] = {
    {"targetid", ARD_COLUMN_INT64},
    {"target_ra", ARD_COLUMN_FLOAT64},
    {"target_dec", ARD_COLUMN_FLOAT64},
    {"z", ARD_COLUMN_FLOAT64},
    {"zerr", ARD_COLUMN_FLOAT64},
    {"zwarn", ARD_COLUMN_INT64},
    {"deltachi2", ARD_COLUMN_FLOAT64},
    {"spectype", ARD_COLUMN_TEXT},
    {"subtype", ARD_COLUMN_TEXT},
    {"healpix", ARD_COLUMN_INT64},
    {"survey", ARD_COLUMN_TEXT},
    {"program", ARD_COLUMN_TEXT},
    {"desi_target", ARD_COLUMN_INT64},
    {"bgs_target", ARD_COLUMN_INT64},
    {"flux_g", ARD_COLUMN_FLOAT64},
    {"flux_r", ARD_COLUMN_FLOAT64},
    {"flux_z", ARD_COLUMN_FLOAT64},
    {"ebv", ARD_COLUMN_FLOAT64},
    {"coadd_fiberstatus", ARD_COLUMN_INT64},
    {"target_class", ARD_COLUMN_TEXT},
};

static int find_known(const char *lower) {
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(known[i].name, lower) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* One name of the list [s, s + len): an identifier, lower- and upper-cased into c's slots. */
static ard_status add_name(loader_catalog *c, const char *s, size_t len, int32_t text_width,
                           ard_error *err) {
    int ident = len > 0 && len < ARD_STREAM_COLUMN_NAME && !isdigit((unsigned char)s[0]);
    for (size_t i = 0; ident && i < len; i++) {
        ident = isalnum((unsigned char)s[i]) || s[i] == '_';
    }
    if (!ident) {
        return ard_error_set(err, ARD_EINVAL,
                             "loader: catalog column \"%.*s\" is not a column name (letters, "
                             "digits, '_')",
                             (int)(len < 80 ? len : 80), s);
    }
    if (c->num_columns == ARD_STREAM_MAX_COLUMNS) {
        return ard_error_set(err, ARD_EINVAL, "loader: at most %d catalog columns",
                             ARD_STREAM_MAX_COLUMNS);
    }
    int32_t i = c->num_columns;
    for (size_t k = 0; k < len; k++) {
        c->sql_names[i][k] = (char)tolower((unsigned char)s[k]);
        c->names[i][k] = (char)toupper((unsigned char)s[k]);
    }
    c->sql_names[i][len] = c->names[i][len] = '\0';
    int k = find_known(c->sql_names[i]);
    if (k < 0) {
        return ard_error_set(
            err, ARD_EINVAL,
            "loader: unknown catalog column \"%s\" (the galaxies table has "
            "TARGETID, TARGET_RA, TARGET_DEC, Z, ZERR, ZWARN, DELTACHI2, SPECTYPE, "
            "SUBTYPE, HEALPIX, SURVEY, PROGRAM, DESI_TARGET, BGS_TARGET, FLUX_G, "
            "FLUX_R, FLUX_Z, EBV, COADD_FIBERSTATUS, TARGET_CLASS)",
            c->names[i]);
    }
    for (int32_t j = 0; j < i; j++) {
        if (strcmp(c->sql_names[j], c->sql_names[i]) == 0) {
            return ard_error_set(err, ARD_EINVAL, "loader: catalog column \"%s\" given twice",
                                 c->names[i]);
        }
    }
    c->columns[i].name = c->names[i];
    c->columns[i].type = known[k].type;
    c->columns[i].width = known[k].type == ARD_COLUMN_TEXT ? text_width : 8;
    c->num_columns++;
    return ARD_OK;
}

static ard_status parse_list(loader_catalog *c, const char *list, int32_t text_width,
                             ard_error *err) {
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        const char *start = p;
        while (*p && *p != ',') {
            p++;
        }
        const char *end = p;
        while (end > start && end[-1] == ' ') {
            end--;
        }
        if (end > start) {
            ard_status st = add_name(c, start, (size_t)(end - start), text_width, err);
            if (st != ARD_OK) {
                return st;
            }
        }
    }
    return ARD_OK;
}

/* The open index must really hold every column (an older or foreign schema may not). */
static ard_status check_in_index(loader_catalog *c, ard_error *err) {
    for (int32_t i = 0; i < c->num_columns; i++) {
        const char *name = c->sql_names[i];
        ard_column_set *probe = NULL;
        ard_error e;
        ard_error_init(&e);
        ard_status st = ard_index_read_columns(c->index, &name, 1, NULL, 1, &probe, &e);
        ard_column_set_free(probe);
        if (st != ARD_OK) {
            return ard_error_set(err, ARD_EINVAL,
                                 "loader: catalog column \"%s\" is not in the index's galaxies "
                                 "table: %.300s",
                                 c->names[i], e.msg);
        }
    }
    return ARD_OK;
}

ard_status ard__catalog_open(const ard_loader_options *o, loader_catalog **out, ard_error *err) {
    *out = NULL;
    if (!o->columns || !o->columns[0]) {
        return ARD_OK;
    }
    int32_t tw = o->text_width == 0 ? ARD_STREAM_TEXT_WIDTH : o->text_width;
    if (tw < 1 || tw > 1024) {
        return ard_error_set(err, ARD_EINVAL, "loader: text_width %d outside 1..1024",
                             o->text_width);
    }
    loader_catalog *c = ard_calloc(1, sizeof *c);
    if (!c) {
        return ard_error_set(err, ARD_ENOMEM, "loader: catalog");
    }
    pthread_mutex_init(&c->lock, NULL);
    ard_status st = parse_list(c, o->columns, tw, err);
    if (st == ARD_OK && c->num_columns == 0) {
        ard__catalog_free(c);
        return ARD_OK;
    }
    if (st == ARD_OK && !o->index_dataset && !o->index_dsn) {
        st = ard_error_set(err, ARD_EINVAL,
                           "loader: catalog columns need the index (index_dataset or index_dsn)");
    }
    if (st == ARD_OK) {
        st = ard_index_open(o->index_dataset, o->index_dsn, ARD_INDEX_READ_ONLY, &c->index, err);
    }
    if (st == ARD_OK) {
        st = check_in_index(c, err);
    }
    if (st != ARD_OK) {
        ard__catalog_free(c);
        return st;
    }
    *out = c;
    return ARD_OK;
}

void ard__catalog_free(loader_catalog *c) {
    if (!c) {
        return;
    }
    ard_index_close(c->index);
    pthread_mutex_destroy(&c->lock);
    ard_free(c);
}

/* ---- filling a batch ---- */

/* Cell `row` of a typed column into batch slot `pos`; NULL keeps the default. */
static void put_value(const ard_stream_column *d, void *dst, int64_t pos, const ard_column_set *set,
                      int32_t col, int64_t row) {
    if (!ard_column_set_valid(set, col, row)) {
        return;
    }
    const ard_index_column *src = ard_column_set_column(set, col);
    if (d->type == ARD_COLUMN_FLOAT64) {
        ((double *)dst)[pos] = ((const double *)src->values)[row];
    } else if (d->type == ARD_COLUMN_INT64) {
        ((int64_t *)dst)[pos] = ((const int64_t *)src->values)[row];
    } else {
        const char *v = ((const char *const *)src->values)[row];
        size_t len = strlen(v);
        memcpy((char *)dst + pos * d->width, v, len < (size_t)d->width ? len : (size_t)d->width);
    }
}

/* Defaults for rows without a catalog row (or with NULL values): NaN, 0, empty text. */
static void fill_defaults(const loader_catalog *c, void *const *cols, int32_t batch_size) {
    for (int32_t col = 0; col < c->num_columns; col++) {
        const ard_stream_column *d = &c->columns[col];
        if (d->type == ARD_COLUMN_FLOAT64) {
            for (int32_t i = 0; i < batch_size; i++) {
                ((double *)cols[col])[i] = NAN;
            }
        } else {
            memset(cols[col], 0, (size_t)batch_size * (size_t)d->width);
        }
    }
}

ard_status ard__catalog_fill(ard_loader *l, const ard_batch *b, int32_t count, ard_error *err) {
    loader_catalog *c = l->catalog;
    if (!c) {
        return ARD_OK;
    }
    void *cols[ARD_STREAM_MAX_COLUMNS];
    const char *names[ARD_STREAM_MAX_COLUMNS];
    for (int32_t col = 0; col < c->num_columns; col++) {
        cols[col] = ard_batch_column(l->store, b, col);
        names[col] = c->sql_names[col];
    }
    fill_defaults(c, cols, b->batch_size);
    if (count <= 0) {
        return ARD_OK;
    }
    ard_column_set *set = NULL;
    pthread_mutex_lock(&c->lock); /* one index handle, one thread at a time */
    ard_status st =
        ard_index_read_targetids(c->index, names, c->num_columns, b->targetid, count, &set, err);
    pthread_mutex_unlock(&c->lock);
    for (int64_t i = 0; st == ARD_OK && i < count; i++) {
        for (int32_t col = 0; col < c->num_columns; col++) {
            put_value(&c->columns[col], cols[col], i, set, col, i);
        }
    }
    ard_column_set_free(set);
    if (st != ARD_OK) {
        ard_error_prefix(err, "catalog columns: ");
    }
    return st;
}
