/* Catalog aggregates by SQL on the index: galaxies by class and SPECTYPE, spectra present/missing,
 * ZWARN, redshift ranges, medians and histograms, RA/Dec coverage and the TARGETID linkage. Every
 * query is portable SQL (the same text on SQLite and PostgreSQL); results are ordered in C.
 * Cost: the galaxies table is scanned once (one GROUP BY class, SPECTYPE query carrying every
 * per-class sum and the histogram); min/max Z come from the Z index, and each exact median is read
 * from the Z index within the histogram bin that holds it. */
#include "datasheet_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fmt_pct(char *buf, size_t cap, int64_t num, int64_t den) {
    if (den <= 0) {
        snprintf(buf, cap, "n/a");
    } else {
        snprintf(buf, cap, "%.3f", 100.0 * (double)num / (double)den);
    }
}

static void fmt_z(char *buf, size_t cap, double z) {
    if (isnan(z)) {
        snprintf(buf, cap, "n/a");
    } else {
        snprintf(buf, cap, "%.4f", z);
    }
}

/* Canonical class order: BGS, LRG, ELG, QSO, then the rest by name, NULL last. */
static int class_rank(const char *name) {
    static const char *const order[] = {"BGS", "LRG", "ELG", "QSO"};
    for (int i = 0; name && i < 4; i++) {
        if (strcmp(name, order[i]) == 0) {
            return i;
        }
    }
    return name ? 4 : 5;
}

static int cmp_class_row(const void *a, const void *b) {
    const char *const *x = a;
    const char *const *y = b;
    int rx = class_rank(*x), ry = class_rank(*y);
    if (rx != ry) {
        return rx < ry ? -1 : 1;
    }
    return strcmp(*x ? *x : "", *y ? *y : "");
}

/* WHERE clause selecting one class (quotes doubled). */
static void class_where(ard_buf *b, const char *cls) {
    if (!cls) {
        ard_buf_appendf(b, "target_class IS NULL");
        return;
    }
    ard_buf_appendf(b, "target_class = '");
    for (const char *p = cls; *p; p++) {
        ard_buf_append(b, p, 1);
        if (*p == '\'') {
            ard_buf_append(b, "'", 1); /* SQL doubles quotes */
        }
    }
    ard_buf_append(b, "'", 1);
}

/* Bin layout: from min(0, zmin) rounded down to the width, at most DS_MAX_BINS bins. */
static void hist_layout(ds_agg *a, double zmin, double zmax) {
    static const double widths[] = {0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0};
    const size_t nw = sizeof widths / sizeof widths[0];
    a->num_bins = 0;
    if (isnan(zmin) || isnan(zmax)) {
        return;
    }
    for (size_t i = 0; i < nw; i++) {
        double lo = floor((zmin < 0 ? zmin : 0) / widths[i]) * widths[i];
        double nb = floor((zmax - lo) / widths[i]) + 1;
        if (nb <= DS_MAX_BINS || i + 1 == nw) {
            a->z_lo = lo;
            a->z_width = widths[i];
            a->num_bins = (int32_t)(nb < DS_MAX_BINS ? nb : DS_MAX_BINS);
            return;
        }
    }
}

/* Per class, summed over SPECTYPE groups. */
typedef struct class_acc {
    char name[32];
    int null_name;
    int64_t galaxies, zwarn, nz, with_spectrum;
    double zmin, zmax;
} class_acc;

/* Columns of the scan query (then one cumulative count per inner histogram edge). Q_HAS and
 * Q_MATCHED are constant 0 there: probing spectra inside the GROUP BY runs the probes in class
 * order (random TARGETIDs), several times slower than the separate linkage query in table order. */
enum {
    Q_CLASS,
    Q_SPECTYPE,
    Q_N,
    Q_ZWARN,
    Q_ZMIN,
    Q_ZMAX,
    Q_NZ,
    Q_HAS,
    Q_MATCHED,
    Q_RAMIN,
    Q_RAMAX,
    Q_DECMIN,
    Q_DECMAX,
    Q_EDGES
};

static double edge(const ds_agg *a, int32_t k) {
    return a->z_lo + k * a->z_width;
}

static ard_status scan_query(ard_index *idx, const ds_agg *a, ds_rows *r, ard_error *err) {
    ard_buf sql;
    ard_buf_init(&sql);
    ard_buf_appendf(&sql,
                    "SELECT target_class, spectype, count(*),"
                    " sum(CASE WHEN zwarn <> 0 THEN 1 ELSE 0 END), min(z), max(z), count(z),"
                    " 0, 0, min(target_ra), max(target_ra), min(target_dec), max(target_dec)");
    for (int32_t k = 1; k < a->num_bins; k++) {
        ard_buf_appendf(&sql, ", sum(CASE WHEN z < %.17g THEN 1 ELSE 0 END)", edge(a, k));
    }
    ard_buf_appendf(&sql, " FROM galaxies g GROUP BY target_class, spectype%c", '\0');
    ard_status st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                               : ds_query(idx, (const char *)sql.data, r, err);
    ard_buf_reset(&sql);
    return st;
}

static double fmin_nan(double a, double b) {
    return isnan(a) || b < a ? b : a;
}
static double fmax_nan(double a, double b) {
    return isnan(a) || b > a ? b : a;
}

/* Finds or adds the class of row `row`; NULL when DS_MAX_CLASSES are taken. */
static class_acc *class_of(class_acc *acc, ds_agg *a, const char *cls) {
    const char *name = cls ? cls : "(none)";
    for (int32_t c = 0; c < a->num_classes; c++) {
        if (strcmp(acc[c].name, name) == 0 && acc[c].null_name == !cls) {
            return &acc[c];
        }
    }
    if (a->num_classes == DS_MAX_CLASSES) {
        return NULL;
    }
    class_acc *k = &acc[a->num_classes++];
    snprintf(k->name, sizeof k->name, "%s", name);
    k->null_name = !cls;
    k->zmin = k->zmax = NAN;
    return k;
}

/* Adds one (class, SPECTYPE) group to its class: counts, ranges and histogram. */
static void add_group(class_acc *acc, ds_agg *a, const ds_rows *r, int64_t row) {
    class_acc *k = class_of(acc, a, ds_cell(r, row, Q_CLASS));
    if (!k) {
        return;
    }
    int32_t c = (int32_t)(k - acc);
    k->galaxies += ds_cell_int(r, row, Q_N);
    k->zwarn += ds_cell_int(r, row, Q_ZWARN);
    k->nz += ds_cell_int(r, row, Q_NZ);
    k->zmin = fmin_nan(k->zmin, ds_cell_double(r, row, Q_ZMIN));
    k->zmax = fmax_nan(k->zmax, ds_cell_double(r, row, Q_ZMAX));
    int64_t prev = 0;
    for (int32_t b = 0; b < a->num_bins; b++) {
        int64_t cum =
            b + 1 < a->num_bins ? ds_cell_int(r, row, Q_EDGES + b) : ds_cell_int(r, row, Q_NZ);
        a->hist[c][b] += cum - prev;
        prev = cum;
    }
}

/* The z of rank `rank` (0-based, ascending, non-NULL) of class k, read from the Z index inside the
 * histogram bins holding ranks rank and rank + extra (extra = 1 for even counts: the two middle
 * values are averaged). */
static ard_status ranked_z(ard_index *idx, const ds_agg *a, int32_t c, const class_acc *k,
                           int64_t rank, int32_t extra, double *out, ard_error *err) {
    int64_t below = 0, cum = 0;
    int32_t b0 = -1, b1 = -1;
    for (int32_t b = 0; b < a->num_bins && b1 < 0; b++) {
        if (b0 < 0 && cum + a->hist[c][b] > rank) {
            b0 = b;
            below = cum;
        }
        if (b0 >= 0 && cum + a->hist[c][b] > rank + extra) {
            b1 = b;
        }
        cum += a->hist[c][b];
    }
    if (b0 < 0 || b1 < 0) {
        return ard_error_set(err, ARD_EDB,
                             "class %s: histogram holds %lld redshifts, rank %lld"
                             " asked (the index changed during the datasheet?)",
                             k->name, (long long)cum, (long long)rank);
    }
    ard_buf sql;
    ard_buf_init(&sql);
    ard_buf_appendf(&sql, "SELECT z FROM galaxies WHERE ");
    class_where(&sql, k->null_name ? NULL : k->name);
    ard_buf_appendf(&sql, " AND z IS NOT NULL");
    if (b0 > 0) {
        ard_buf_appendf(&sql, " AND z >= %.17g", edge(a, b0));
    }
    if (b1 + 1 < a->num_bins) {
        ard_buf_appendf(&sql, " AND z < %.17g", edge(a, b1 + 1));
    }
    ard_buf_appendf(&sql, " ORDER BY z LIMIT %d OFFSET %lld%c", extra + 1,
                    (long long)(rank - below), '\0');
    ds_rows r;
    ard_status st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                               : ds_query(idx, (const char *)sql.data, &r, err);
    ard_buf_reset(&sql);
    if (st == ARD_OK) {
        *out = r.nrows == extra + 1
                   ? 0.5 * (ds_cell_double(&r, 0, 0) + ds_cell_double(&r, extra, 0))
                   : NAN;
        ds_rows_reset(&r);
    }
    return st;
}

static ard_status class_row(ard_index *idx, ds_model *m, const ds_agg *a, int32_t c,
                            const class_acc *k, ard_error *err) {
    double median = NAN;
    ard_status st = k->nz > 0
                        ? ranked_z(idx, a, c, k, (k->nz - 1) / 2, k->nz % 2 ? 0 : 1, &median, err)
                        : ARD_OK;
    if (st != ARD_OK) {
        return st;
    }
    char v[9][48];
    snprintf(v[0], sizeof v[0], "%.47s", k->name);
    snprintf(v[1], sizeof v[1], "%lld", (long long)k->galaxies);
    snprintf(v[2], sizeof v[2], "%lld", (long long)k->with_spectrum);
    snprintf(v[3], sizeof v[3], "%lld", (long long)(k->galaxies - k->with_spectrum));
    snprintf(v[4], sizeof v[4], "%lld", (long long)k->zwarn);
    fmt_pct(v[5], sizeof v[5], k->zwarn, k->galaxies);
    fmt_z(v[6], sizeof v[6], k->zmin);
    fmt_z(v[7], sizeof v[7], median);
    fmt_z(v[8], sizeof v[8], k->zmax);
    const char *cells[9] = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
    return ds_row(ds_table_get(m, "classes"), cells, err);
}

/* min(Z) and max(Z) separately: each is one look-up in the Z index on both backends. */
static ard_status z_range(ard_index *idx, double *zmin, double *zmax, ard_error *err) {
    ds_rows r;
    ard_status st = ds_query(idx, "SELECT min(z) FROM galaxies", &r, err);
    if (st == ARD_OK) {
        *zmin = ds_cell_double(&r, 0, 0);
        ds_rows_reset(&r);
        st = ds_query(idx, "SELECT max(z) FROM galaxies", &r, err);
    }
    if (st == ARD_OK) {
        *zmax = ds_cell_double(&r, 0, 0);
        ds_rows_reset(&r);
    }
    return st;
}

/* SPECTYPE rows: the scan's groups summed per SPECTYPE. */
static ard_status spectypes(ds_model *m, const ds_rows *r, ard_error *err) {
    int64_t total = 0;
    for (int64_t i = 0; i < r->nrows; i++) {
        total += ds_cell_int(r, i, Q_N);
    }
    const char **names = ard_malloc((size_t)(r->nrows ? r->nrows : 1) * sizeof *names);
    if (!names) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < r->nrows; i++) {
        names[i] = ds_cell(r, i, Q_SPECTYPE) ? ds_cell(r, i, Q_SPECTYPE) : "(none)";
    }
    qsort(names, (size_t)r->nrows, sizeof *names, ds_strcmp_ptr);
    ard_status st = ARD_OK;
    for (int64_t i = 0; i < r->nrows && st == ARD_OK; i++) {
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0) {
            continue;
        }
        int64_t n = 0;
        for (int64_t j = 0; j < r->nrows; j++) {
            const char *sp = ds_cell(r, j, Q_SPECTYPE) ? ds_cell(r, j, Q_SPECTYPE) : "(none)";
            n += strcmp(sp, names[i]) == 0 ? ds_cell_int(r, j, Q_N) : 0;
        }
        char count[32], pct[32];
        snprintf(count, sizeof count, "%lld", (long long)n);
        fmt_pct(pct, sizeof pct, n, total);
        const char *cells[3] = {names[i], count, pct};
        st = ds_row(ds_table_get(m, "spectypes"), cells, err);
    }
    ard_free((void *)names);
    return st;
}

static void set_coord(ds_model *m, const char *name, double v) {
    if (isnan(v)) {
        ds_set(m, name, "n/a");
    } else {
        ds_set(m, name, "%.4f", v);
    }
}

/* Catalog rows without a spectrum per class (probes in table order; the GROUP BY only sorts the
 * few rows it keeps), and the distinct TARGETIDs of the spectra. */
static ard_status linkage(ard_index *idx, class_acc *acc, const ds_agg *a, int64_t *no_spectrum,
                          int64_t *distinct_spectra, ard_error *err) {
    ds_rows r;
    ard_status st = ds_query(idx,
                             "SELECT target_class, count(*) FROM galaxies g WHERE NOT EXISTS"
                             " (SELECT 1 FROM spectra s WHERE s.targetid = g.targetid)"
                             " GROUP BY target_class",
                             &r, err);
    if (st != ARD_OK) {
        return st;
    }
    *no_spectrum = 0;
    for (int64_t i = 0; i < r.nrows; i++) {
        const char *cls = ds_cell(&r, i, 0);
        int64_t n = ds_cell_int(&r, i, 1);
        *no_spectrum += n;
        for (int32_t c = 0; c < a->num_classes; c++) {
            if (acc[c].null_name == !cls && (!cls || strcmp(acc[c].name, cls) == 0)) {
                acc[c].with_spectrum -= n;
            }
        }
    }
    ds_rows_reset(&r);
    st = ds_query(idx, "SELECT count(DISTINCT targetid) FROM spectra", &r, err);
    if (st == ARD_OK) {
        *distinct_spectra = ds_cell_int(&r, 0, 0);
        ds_rows_reset(&r);
    }
    return st;
}

/* Totals, linkage and RA/Dec ranges over all groups. */
static ard_status totals(ard_index *idx, ds_model *m, const ds_rows *r, int64_t no_spectrum,
                         int64_t distinct_spectra, ard_error *err) {
    int64_t n = 0, zw = 0;
    double ra0 = NAN, ra1 = NAN, dec0 = NAN, dec1 = NAN;
    for (int64_t i = 0; i < r->nrows; i++) {
        n += ds_cell_int(r, i, Q_N);
        zw += ds_cell_int(r, i, Q_ZWARN);
        ra0 = fmin_nan(ra0, ds_cell_double(r, i, Q_RAMIN));
        ra1 = fmax_nan(ra1, ds_cell_double(r, i, Q_RAMAX));
        dec0 = fmin_nan(dec0, ds_cell_double(r, i, Q_DECMIN));
        dec1 = fmax_nan(dec1, ds_cell_double(r, i, Q_DECMAX));
    }
    ds_rows s;
    ard_status st = ds_query(idx, "SELECT count(*) FROM spectra", &s, err);
    if (st != ARD_OK) {
        return st;
    }
    /* galaxies' TARGETIDs are unique, so the spectra TARGETIDs found in the catalog number
     * n - no_spectrum; the rest have no catalog row */
    int64_t spectra = ds_cell_int(&s, 0, 0), has = n - no_spectrum;
    int64_t orphans = distinct_spectra - has;
    ds_rows_reset(&s);
    char pct[32];
    fmt_pct(pct, sizeof pct, zw, n);
    ds_set(m, "galaxies_total", "%lld", (long long)n);
    ds_set(m, "zwarn_nonzero", "%lld", (long long)zw);
    ds_set(m, "zwarn_nonzero_pct", "%s", pct);
    ds_set(m, "spectra_total", "%lld", (long long)spectra);
    ds_set(m, "catalog_without_spectra", "%lld", (long long)(n - has));
    ds_set(m, "spectra_without_catalog", "%lld", (long long)orphans);
    set_coord(m, "ra_min", ra0);
    set_coord(m, "ra_max", ra1);
    set_coord(m, "dec_min", dec0);
    set_coord(m, "dec_max", dec1);
    if (orphans == 0 && n == has) {
        ds_set(m, "linkage_status",
               "OK: every catalog row has a spectrum and every spectrum a"
               " catalog row (TARGETID).");
    } else {
        ds_set(m, "linkage_status",
               "**WARNING: the linkage is incomplete: %lld catalog row(s) without a spectrum, %lld"
               " spectrum/spectra without a catalog row.**",
               (long long)(n - has), (long long)orphans);
    }
    return ARD_OK;
}

ard_status ds_agg_catalog(ard_index *idx, ds_model *m, ds_agg *a, ard_error *err) {
    double zmin = NAN, zmax = NAN;
    ard_status st = z_range(idx, &zmin, &zmax, err);
    if (st != ARD_OK) {
        return st;
    }
    char z0[32], z1[32];
    fmt_z(z0, sizeof z0, zmin);
    fmt_z(z1, sizeof z1, zmax);
    ds_set(m, "z_min", "%s", z0);
    ds_set(m, "z_max", "%s", z1);
    hist_layout(a, zmin, zmax);
    ds_rows r;
    st = scan_query(idx, a, &r, err);
    if (st != ARD_OK) {
        return st;
    }
    if (r.nrows > 1) {
        qsort(r.cells, (size_t)r.nrows, (size_t)r.ncols * sizeof *r.cells, cmp_class_row);
    }
    class_acc acc[DS_MAX_CLASSES];
    memset(acc, 0, sizeof acc);
    for (int64_t i = 0; i < r.nrows; i++) {
        add_group(acc, a, &r, i);
    }
    for (int32_t c = 0; c < a->num_classes; c++) {
        acc[c].with_spectrum = acc[c].galaxies;
    }
    int64_t no_spectrum = 0, distinct_spectra = 0;
    st = linkage(idx, acc, a, &no_spectrum, &distinct_spectra, err);
    for (int32_t c = 0; c < a->num_classes && st == ARD_OK; c++) {
        snprintf(a->class_names[c], sizeof a->class_names[c], "%.31s", acc[c].name);
        st = class_row(idx, m, a, c, &acc[c], err);
    }
    if (st == ARD_OK) {
        st = spectypes(m, &r, err);
    }
    if (st == ARD_OK) {
        st = totals(idx, m, &r, no_spectrum, distinct_spectra, err);
    }
    ds_rows_reset(&r);
    return st;
}
