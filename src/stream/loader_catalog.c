/* Catalog columns in batches: the loader option "Z,SPECTYPE" is parsed into identifiers, each
 * checked against the known columns of the index's `galaxies` table (and that the open index
 * really has it), and every batch's values are looked up by its TARGETIDs with read-only queries
 * (ids in chunks of CHUNK_IDS). Only validated identifiers and our own integers reach the SQL.
 * Real values travel as text that round-trips exactly, so they arrive bit-exact. */
#include "stream_int.h"

#include "ard/index.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_IDS 500

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

static int ignore_rows(void *ctx, int32_t n, const char *const *names, const char *const *values) {
    (void)ctx;
    (void)n;
    (void)names;
    (void)values;
    return 1;
}

/* The open index must really hold every column (an older or foreign schema may not). */
static ard_status check_in_index(loader_catalog *c, ard_error *err) {
    for (int32_t i = 0; i < c->num_columns; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT %s FROM galaxies LIMIT 1", c->sql_names[i]);
        ard_error e;
        ard_error_init(&e);
        if (ard_index_select(c->index, sql, ignore_rows, NULL, &e) != ARD_OK) {
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

typedef struct fill_ctx {
    const loader_catalog *c;
    const int64_t *pairs; /* (targetid, position) sorted by targetid */
    int64_t num_pairs;
    void *cols[ARD_STREAM_MAX_COLUMNS];
    int bad;
} fill_ctx;

static int cmp_id(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

static void put_value(const fill_ctx *f, int32_t col, int64_t pos, const char *v) {
    const ard_stream_column *d = &f->c->columns[col];
    if (!v) {
        return; /* NULL: keep the default */
    }
    if (d->type == ARD_COLUMN_FLOAT64) {
        char *end = NULL;
        double x = strtod(v, &end);
        ((double *)f->cols[col])[pos] = end != v ? x : NAN;
    } else if (d->type == ARD_COLUMN_INT64) {
        char *end = NULL;
        long long x = strtoll(v, &end, 10);
        ((int64_t *)f->cols[col])[pos] = end != v ? (int64_t)x : 0;
    } else {
        size_t len = strlen(v);
        char *dst = (char *)f->cols[col] + pos * d->width;
        memcpy(dst, v, len < (size_t)d->width ? len : (size_t)d->width);
    }
}

static int on_row(void *ctx, int32_t n, const char *const *names, const char *const *values) {
    (void)names;
    fill_ctx *f = ctx;
    if (n != f->c->num_columns + 1 || !values[0]) {
        f->bad = 1;
        return 1;
    }
    char *end = NULL;
    errno = 0;
    long long id = strtoll(values[0], &end, 10);
    if (end == values[0] || errno != 0) {
        return 0;
    }
    int64_t lo = 0, hi = f->num_pairs; /* first pair with targetid >= id */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (f->pairs[2 * mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (int64_t k = lo; k < f->num_pairs && f->pairs[2 * k] == id; k++) {
        for (int32_t col = 0; col < f->c->num_columns; col++) {
            put_value(f, col, f->pairs[2 * k + 1], values[col + 1]);
        }
    }
    return 0;
}

/* Defaults for rows without a catalog row (or with NULL values): NaN, 0, empty text. */
static void fill_defaults(const fill_ctx *f, int32_t batch_size) {
    for (int32_t col = 0; col < f->c->num_columns; col++) {
        const ard_stream_column *d = &f->c->columns[col];
        if (d->type == ARD_COLUMN_FLOAT64) {
            for (int32_t i = 0; i < batch_size; i++) {
                ((double *)f->cols[col])[i] = NAN;
            }
        } else {
            memset(f->cols[col], 0, (size_t)batch_size * (size_t)d->width);
        }
    }
}

static ard_status query_chunk(loader_catalog *c, fill_ctx *f, const int64_t *pairs, int64_t n,
                              ard_error *err) {
    ard_buf sql;
    ard_buf_init(&sql);
    /* SQLite renders a REAL as text with 15 digits and its printf is not exact beyond that;
     * quote() falls back to 20 digits whenever 15 do not round-trip (exact). PostgreSQL's float8
     * output is already the shortest exact text. */
    int sqlite = strcmp(ard_index_backend(c->index), "sqlite") == 0;
    ard_buf_appendf(&sql, "SELECT targetid");
    for (int32_t col = 0; col < c->num_columns; col++) {
        const char *name = c->sql_names[col];
        if (sqlite && c->columns[col].type == ARD_COLUMN_FLOAT64) {
            ard_buf_appendf(&sql, ", CASE WHEN %s IS NULL THEN NULL ELSE quote(%s) END", name,
                            name);
        } else {
            ard_buf_appendf(&sql, ", %s", name);
        }
    }
    ard_buf_appendf(&sql, " FROM galaxies WHERE targetid IN (");
    for (int64_t k = 0; k < n; k++) {
        ard_buf_appendf(&sql, "%s%lld", k ? "," : "", (long long)pairs[2 * k]);
    }
    ard_buf_append(&sql, ")", 2);
    ard_status st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "loader: catalog query")
                               : ard_index_select(c->index, (const char *)sql.data, on_row, f, err);
    ard_buf_reset(&sql);
    if (st == ARD_OK && f->bad) {
        st = ard_error_set(err, ARD_ECORRUPT, "loader: catalog query returned an unexpected row");
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "catalog columns: ");
    }
    return st;
}

ard_status ard__catalog_fill(ard_loader *l, const ard_batch *b, int32_t count, ard_error *err) {
    loader_catalog *c = l->catalog;
    if (!c) {
        return ARD_OK;
    }
    fill_ctx f = {.c = c};
    for (int32_t col = 0; col < c->num_columns; col++) {
        f.cols[col] = ard_batch_column(l->store, b, col);
    }
    fill_defaults(&f, b->batch_size);
    if (count <= 0) {
        return ARD_OK;
    }
    int64_t *pairs = ard_malloc((size_t)count * 2 * sizeof *pairs);
    if (!pairs) {
        return ard_error_set(err, ARD_ENOMEM, "loader: catalog ids");
    }
    for (int32_t i = 0; i < count; i++) {
        pairs[2 * i] = b->targetid[i];
        pairs[2 * i + 1] = i;
    }
    qsort(pairs, (size_t)count, 2 * sizeof *pairs, cmp_id);
    f.pairs = pairs;
    f.num_pairs = count;
    ard_status st = ARD_OK;
    pthread_mutex_lock(&c->lock);
    for (int64_t k = 0; k < count && st == ARD_OK; k += CHUNK_IDS) {
        st = query_chunk(c, &f, pairs + 2 * k, count - k < CHUNK_IDS ? count - k : CHUNK_IDS, err);
    }
    pthread_mutex_unlock(&c->lock);
    ard_free(pairs);
    return st;
}
