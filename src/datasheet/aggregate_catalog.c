/* Catalog aggregates from the index: galaxies by class and SPECTYPE, spectra present/missing,
 * ZWARN, redshift ranges, medians and histograms, RA/Dec coverage and the TARGETID linkage. Every
 * query is portable SQL (the same text on SQLite and PostgreSQL); results are ordered in C.
 * Cost: O(catalog files x classes) rows, independent of the number of galaxies. The counts and
 * ranges come from catalog_summary and the histograms from catalog_zhist (both kept per catalog
 * file by sync); the linkage from catalog_linkage (kept by sync, computed here only when a sync
 * left it invalid); the spectra count from files. Each exact median is read from the Z index inside
 * the one catalog_zhist bin (width ARD_INDEX_ZBIN_WIDTH) that holds it; when no other class has a
 * redshift in those bins (the histograms say so), without the class condition, so that PostgreSQL
 * answers from galaxies_z_tid alone (an index-only scan: 28 ms instead of a 1.9 s bitmap heap scan
 * of 56k pages at 6.4M rows, bench/results/index.md) and SQLite from its (z) index without the
 * table; the classes that share their bins are read together, one pass over the heap for all. */
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

int ard__ds_class_rank(const char *name) {
    static const char *const order[] = {"BGS", "LRG", "ELG", "QSO"};
    for (int i = 0; name && i < 4; i++) {
        if (strcmp(name, order[i]) == 0) {
            return i;
        }
    }
    return name ? 4 : 5;
}

static int cmp_class(const char *x, const char *y) {
    int rx = ard__ds_class_rank(x), ry = ard__ds_class_rank(y);
    if (rx != ry) {
        return rx < ry ? -1 : 1;
    }
    return strcmp(x ? x : "", y ? y : "");
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

/* The lower edge of catalog_zhist bin j, computed exactly as sync computed it (index.h). */
static double zbin_edge(int64_t j) {
    return (double)j * ARD_INDEX_ZBIN_WIDTH;
}

/* Bin layout: from min(0, zmin) rounded down to the width, at most DS_MAX_BINS bins. Every width
 * is a whole number of catalog_zhist bins and every edge a catalog_zhist edge, so the figure's bins
 * are sums of stored bins. */
static void hist_layout(ds_agg *a, double zmin, double zmax, int64_t *lo_bin, int64_t *per_bin) {
    static const int64_t widths[] = {1, 2, 4, 5, 10, 20, 40, 100, 200}; /* in zhist bins */
    const size_t nw = sizeof widths / sizeof widths[0];
    a->num_bins = 0;
    *lo_bin = 0;
    *per_bin = 1;
    if (isnan(zmin) || isnan(zmax)) {
        return;
    }
    for (size_t i = 0; i < nw; i++) {
        double w = (double)widths[i] * ARD_INDEX_ZBIN_WIDTH;
        double q = floor((zmin < 0 ? zmin : 0) / w);
        q = q < -1e12 ? -1e12 : q; /* far below any real redshift: the first bin takes the rest */
        double lo = zbin_edge((int64_t)q * widths[i]);
        double nb = floor((zmax - lo) / w) + 1;
        if (nb <= DS_MAX_BINS || i + 1 == nw) {
            *lo_bin = (int64_t)q * widths[i];
            *per_bin = widths[i];
            a->z_lo = lo;
            a->z_width = w;
            a->num_bins = (int32_t)(nb < DS_MAX_BINS ? nb : DS_MAX_BINS);
            return;
        }
    }
}

/* Per class: sums over SPECTYPE groups and catalog files; the class's catalog_zhist bins. */
typedef struct class_acc {
    char name[32];
    int null_name;
    int64_t galaxies, zwarn, nz, with_spectrum;
    double zmin, zmax;
    int64_t *bins, *counts; /* ascending bins with their counts */
    int64_t num_bins, cap;
} class_acc;

/* Columns of the summary query. */
enum {
    Q_CLASS,
    Q_SPECTYPE,
    Q_N,
    Q_ZWARN,
    Q_ZMIN,
    Q_ZMAX,
    Q_NZ,
    Q_RAMIN,
    Q_RAMAX,
    Q_DECMIN,
    Q_DECMAX
};

static ard_status summary_query(ard_index *idx, ds_rows *r, ard_error *err) {
    return ard__ds_query_typed(
        idx,
        "SELECT target_class, spectype, sum(num_rows), sum(zwarn_nonzero), min(z_min),"
        " max(z_max), sum(z_count), min(ra_min), max(ra_max), min(dec_min),"
        " max(dec_max) FROM catalog_summary GROUP BY target_class, spectype",
        "TTIIDDIDDDD", r, err);
}

static double fmin_nan(double a, double b) {
    return isnan(a) || b < a ? b : a;
}
static double fmax_nan(double a, double b) {
    return isnan(a) || b > a ? b : a;
}

/* Finds the class `cls` (NULL: SQL NULL); adds it when `add` and DS_MAX_CLASSES are not taken. */
static class_acc *class_of(class_acc *acc, ds_agg *a, const char *cls, int add) {
    const char *name = cls ? cls : "(none)";
    for (int32_t c = 0; c < a->num_classes; c++) {
        if (strcmp(acc[c].name, name) == 0 && acc[c].null_name == !cls) {
            return &acc[c];
        }
    }
    if (!add || a->num_classes == DS_MAX_CLASSES) {
        return NULL;
    }
    class_acc *k = &acc[a->num_classes++];
    snprintf(k->name, sizeof k->name, "%s", name);
    k->null_name = !cls;
    k->zmin = k->zmax = NAN;
    return k;
}

/* Adds one (class, SPECTYPE) group to its class. */
static void add_group(class_acc *acc, ds_agg *a, const ds_rows *r, int64_t row) {
    class_acc *k = class_of(acc, a, ard__ds_cell(r, row, Q_CLASS), 1);
    if (!k) {
        return;
    }
    k->galaxies += ard__ds_cell_int(r, row, Q_N);
    k->zwarn += ard__ds_cell_int(r, row, Q_ZWARN);
    k->nz += ard__ds_cell_int(r, row, Q_NZ);
    k->zmin = fmin_nan(k->zmin, ard__ds_cell_double(r, row, Q_ZMIN));
    k->zmax = fmax_nan(k->zmax, ard__ds_cell_double(r, row, Q_ZMAX));
}

static void free_bins(class_acc *acc, int32_t n) {
    for (int32_t c = 0; c < n; c++) {
        ard_free(acc[c].bins);
        ard_free(acc[c].counts);
    }
}

static ard_status push_bin(class_acc *k, int64_t bin, int64_t count, ard_error *err) {
    if (k->num_bins == k->cap) {
        int64_t cap = k->cap ? k->cap * 2 : 64;
        int64_t *bins = ard_realloc(k->bins, (size_t)cap * sizeof *bins);
        if (bins) {
            k->bins = bins;
        }
        int64_t *counts = bins ? ard_realloc(k->counts, (size_t)cap * sizeof *counts) : NULL;
        if (!counts) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        k->counts = counts;
        k->cap = cap;
    }
    k->bins[k->num_bins] = bin;
    k->counts[k->num_bins++] = count;
    return ARD_OK;
}

/* Reads every class's catalog_zhist bins (ascending: ORDER BY an integer is the same on both
 * backends) and sums them into the figure's bins; `all` gets every class's bins summed (classes
 * past DS_MAX_CLASSES too). */
static ard_status histograms(ard_index *idx, class_acc *acc, class_acc *all, ds_agg *a,
                             int64_t lo_bin, int64_t per_bin, ard_error *err) {
    ds_rows r;
    ard_status st = ard__ds_query_typed(idx,
                                        "SELECT target_class, z_bin, sum(num) FROM catalog_zhist"
                                        " GROUP BY target_class, z_bin ORDER BY z_bin",
                                        "TII", &r, err);
    for (int64_t i = 0; i < r.nrows && st == ARD_OK; i++) {
        int64_t bin = ard__ds_cell_int(&r, i, 1), n = ard__ds_cell_int(&r, i, 2);
        if (all->num_bins > 0 && all->bins[all->num_bins - 1] == bin) {
            all->counts[all->num_bins - 1] += n;
        } else {
            st = push_bin(all, bin, n, err);
        }
        class_acc *k = class_of(acc, a, ard__ds_cell(&r, i, 0), 0);
        if (!k || st != ARD_OK) {
            continue; /* a class past DS_MAX_CLASSES */
        }
        int64_t b = bin < lo_bin ? 0 : (bin - lo_bin) / per_bin;
        b = b < a->num_bins ? b : a->num_bins - 1;
        if (b >= 0) {
            a->hist[k - acc][b] += n;
        }
        st = push_bin(k, bin, n, err);
    }
    ard__ds_rows_reset(&r); /* ard__ds_query leaves r empty when it fails: safe either way */
    return st;
}

/* Redshifts of any class in the catalog_zhist bins lo..hi (`all`'s bins ascend). */
static int64_t count_in(const class_acc *all, int64_t lo, int64_t hi) {
    int64_t n = 0;
    for (int64_t i = 0; i < all->num_bins; i++) {
        n += all->bins[i] >= lo && all->bins[i] <= hi ? all->counts[i] : 0;
    }
    return n;
}

/* Where the median of class k lies: ranks offset and offset + extra (extra = 1 for even counts: the
 * two middle values are averaged) among the class's redshifts in the catalog_zhist bins b0..b1
 * (indexes into k->bins). alone: the class holds every redshift of those bins (`all`), so the rows
 * between their edges are the class's. Not for the open top bin, which also matches PostgreSQL's
 * NaN (never counted in a bin). */
typedef struct median_ask {
    int64_t b0, b1, offset;
    int32_t extra, alone;
} median_ask;

static const int64_t open_bin = (int64_t)1 << 50; /* the clamped end bins of ard__zbin are open */

static ard_status median_bins(const class_acc *k, const class_acc *all, median_ask *q,
                              ard_error *err) {
    int64_t rank = (k->nz - 1) / 2, below = 0, cum = 0;
    memset(q, 0, sizeof *q);
    q->extra = k->nz % 2 ? 0 : 1;
    q->b0 = q->b1 = -1;
    for (int64_t i = 0; i < k->num_bins && q->b1 < 0; i++) {
        if (q->b0 < 0 && cum + k->counts[i] > rank) {
            q->b0 = i;
            below = cum;
        }
        if (q->b0 >= 0 && cum + k->counts[i] > rank + q->extra) {
            q->b1 = i;
        }
        cum += k->counts[i];
    }
    if (q->b0 < 0 || q->b1 < 0) {
        return ard_error_set(err, ARD_EDB,
                             "class %s: histogram holds %lld redshifts, rank %lld"
                             " asked (the index changed during the datasheet?)",
                             k->name, (long long)cum, (long long)rank);
    }
    int64_t mine = 0;
    for (int64_t i = q->b0; i <= q->b1; i++) {
        mine += k->counts[i];
    }
    q->offset = rank - below;
    q->alone = k->bins[q->b1] < open_bin && count_in(all, k->bins[q->b0], k->bins[q->b1]) == mine;
    return ARD_OK;
}

/* " AND z >= lo AND z < hi": the edges of bins b0..b1 (an open end bin has none). */
static void range_where(ard_buf *b, const class_acc *k, const median_ask *q) {
    if (k->bins[q->b0] > -open_bin) {
        ard_buf_appendf(b, " AND z >= %.17g", zbin_edge(k->bins[q->b0]));
    }
    if (k->bins[q->b1] < open_bin) {
        ard_buf_appendf(b, " AND z < %.17g", zbin_edge(k->bins[q->b1] + 1));
    }
}

/* The median of a class that owns its bins, by rank from the Z index without the class condition
 * (an index-only scan of galaxies_z_tid on PostgreSQL). */
static ard_status alone_median(ard_index *idx, const class_acc *k, const median_ask *q, double *out,
                               ard_error *err) {
    ard_buf sql;
    ard_buf_init(&sql);
    ard_buf_appendf(&sql, "SELECT z FROM galaxies WHERE z IS NOT NULL");
    range_where(&sql, k, q);
    ard_buf_appendf(&sql, " ORDER BY z LIMIT %d OFFSET %lld%c", q->extra + 1, (long long)q->offset,
                    '\0');
    ds_rows r;
    ard_status st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                               : ard__ds_query_typed(idx, (const char *)sql.data, "D", &r, err);
    ard_buf_reset(&sql);
    if (st == ARD_OK) {
        *out = r.nrows == q->extra + 1
                   ? 0.5 * (ard__ds_cell_double(&r, 0, 0) + ard__ds_cell_double(&r, q->extra, 0))
                   : NAN;
        ard__ds_rows_reset(&r);
    }
    return st;
}

/* ORDER BY z of both backends: numeric, NaN (PostgreSQL only) after every number. */
static int cmp_z(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y)) {
        return isnan(x) - isnan(y);
    }
    return (x > y) - (x < y);
}

/* The class of a result row among the `n` classes in `which` (-1: none). */
static int32_t row_class(const class_acc *acc, const int32_t *which, int32_t n, const char *cls) {
    for (int32_t i = 0; i < n; i++) {
        const class_acc *k = &acc[which[i]];
        if (k->null_name == !cls && (!cls || strcmp(k->name, cls) == 0)) {
            return i;
        }
    }
    return -1;
}

/* The medians of the classes that share their bins with another class, in one statement (one pass
 * over the heap on PostgreSQL instead of one per class): each class's rows between its bins' edges
 * come back, and the ranks are taken here in the order ORDER BY z gives. */
static ard_status shared_medians(ard_index *idx, const class_acc *acc, const int32_t *which,
                                 int32_t n, const median_ask *asks, double *out, ard_error *err) {
    ard_buf sql;
    ard_buf_init(&sql);
    ard_buf_appendf(&sql, "SELECT target_class, z FROM galaxies WHERE z IS NOT NULL AND (");
    for (int32_t i = 0; i < n; i++) {
        const class_acc *k = &acc[which[i]];
        ard_buf_appendf(&sql, "%s(", i ? " OR " : "");
        class_where(&sql, k->null_name ? NULL : k->name);
        range_where(&sql, k, &asks[which[i]]);
        ard_buf_appendf(&sql, ")");
    }
    ard_buf_appendf(&sql, ")%c", '\0');
    ds_rows r;
    ard_status st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                               : ard__ds_query_typed(idx, (const char *)sql.data, "TD", &r, err);
    ard_buf_reset(&sql);
    if (st != ARD_OK) {
        return st;
    }
    int64_t count[DS_MAX_CLASSES] = {0}, at[DS_MAX_CLASSES] = {0};
    int32_t *cls = ard_malloc((size_t)(r.nrows ? r.nrows : 1) * sizeof *cls);
    for (int64_t i = 0; cls && i < r.nrows; i++) {
        cls[i] = row_class(acc, which, n, ard__ds_cell(&r, i, 0));
        count[cls[i] < 0 ? 0 : cls[i]] += cls[i] >= 0;
    }
    for (int32_t c = 1; c < n; c++) { /* class c's values at sorted[at[c]...] */
        at[c] = at[c - 1] + count[c - 1];
    }
    double *sorted = cls ? ard_malloc((size_t)(r.nrows ? r.nrows : 1) * sizeof *sorted) : NULL;
    for (int64_t i = 0; sorted && i < r.nrows; i++) {
        if (cls[i] >= 0) {
            sorted[at[cls[i]]++] = ard__ds_cell_double(&r, i, 1);
        }
    }
    for (int32_t c = 0; sorted && c < n; c++) {
        double *v = sorted + at[c] - count[c];
        const median_ask *q = &asks[which[c]];
        qsort(v, (size_t)count[c], sizeof *v, cmp_z);
        out[which[c]] =
            count[c] > q->offset + q->extra ? 0.5 * (v[q->offset] + v[q->offset + q->extra]) : NAN;
    }
    st = sorted ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "out of memory for the class medians");
    ard_free(sorted);
    ard_free(cls);
    ard__ds_rows_reset(&r);
    return st;
}

/* The exact median redshift of every class (NaN: no redshift), read from the Z index inside the
 * catalog_zhist bins that hold it. */
static ard_status class_medians(ard_index *idx, const class_acc *acc, int32_t n,
                                const class_acc *all, double *out, ard_error *err) {
    median_ask asks[DS_MAX_CLASSES];
    int32_t shared[DS_MAX_CLASSES], num_shared = 0;
    ard_status st = ARD_OK;
    for (int32_t c = 0; c < n && st == ARD_OK; c++) {
        out[c] = NAN;
        if (acc[c].nz <= 0) {
            continue;
        }
        st = median_bins(&acc[c], all, &asks[c], err);
        if (st == ARD_OK && asks[c].alone) {
            st = alone_median(idx, &acc[c], &asks[c], &out[c], err);
        } else if (st == ARD_OK) {
            shared[num_shared++] = c;
        }
    }
    if (st == ARD_OK && num_shared > 0) {
        st = shared_medians(idx, acc, shared, num_shared, asks, out, err);
    }
    return st;
}

static ard_status class_row(ds_model *m, const class_acc *k, double median, ard_error *err) {
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
    return ard__ds_row(ard__ds_table_get(m, "classes"), cells, err);
}

/* min(Z) and max(Z) over the summary groups. */
static void z_range(const ds_rows *r, double *zmin, double *zmax) {
    *zmin = *zmax = NAN;
    for (int64_t i = 0; i < r->nrows; i++) {
        *zmin = fmin_nan(*zmin, ard__ds_cell_double(r, i, Q_ZMIN));
        *zmax = fmax_nan(*zmax, ard__ds_cell_double(r, i, Q_ZMAX));
    }
}

/* SPECTYPE rows: the summary's groups summed per SPECTYPE. */
static ard_status spectypes(ds_model *m, const ds_rows *r, ard_error *err) {
    int64_t total = 0;
    for (int64_t i = 0; i < r->nrows; i++) {
        total += ard__ds_cell_int(r, i, Q_N);
    }
    const char **names = ard_malloc((size_t)(r->nrows ? r->nrows : 1) * sizeof *names);
    if (!names) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < r->nrows; i++) {
        names[i] = ard__ds_cell(r, i, Q_SPECTYPE) ? ard__ds_cell(r, i, Q_SPECTYPE) : "(none)";
    }
    qsort(names, (size_t)r->nrows, sizeof *names, ard__ds_strcmp_ptr);
    ard_status st = ARD_OK;
    for (int64_t i = 0; i < r->nrows && st == ARD_OK; i++) {
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0) {
            continue;
        }
        int64_t n = 0;
        for (int64_t j = 0; j < r->nrows; j++) {
            const char *sp =
                ard__ds_cell(r, j, Q_SPECTYPE) ? ard__ds_cell(r, j, Q_SPECTYPE) : "(none)";
            n += strcmp(sp, names[i]) == 0 ? ard__ds_cell_int(r, j, Q_N) : 0;
        }
        char count[32], pct[32];
        snprintf(count, sizeof count, "%lld", (long long)n);
        fmt_pct(pct, sizeof pct, n, total);
        const char *cells[3] = {names[i], count, pct};
        st = ard__ds_row(ard__ds_table_get(m, "spectypes"), cells, err);
    }
    ard_free((void *)names);
    return st;
}

static void set_coord(ds_model *m, const char *name, double v) {
    if (isnan(v)) {
        ard__ds_set(m, name, "n/a");
    } else {
        ard__ds_set(m, name, "%.4f", v);
    }
}

/* The linkage as sync stored it (linkage.c): one statement, so one snapshot of the two validity
 * keys in meta and the per-class rows (flag 0, class, without_spectrum). *valid = 0 unless both
 * keys are there. */
static ard_status stored_linkage(ard_index *idx, ds_rows *r, int64_t *distinct_spectra, int *valid,
                                 ard_error *err) {
    ard_status st = ard__ds_query_typed(
        idx,
        "SELECT 1, key, 0, CAST(value AS BIGINT) FROM meta"
        " WHERE key = 'linkage_distinct_spectra'"
        " UNION ALL SELECT 1, key, 0, NULL FROM meta WHERE key = 'linkage_by_class'"
        " UNION ALL SELECT 0, target_class, without_spectrum, NULL FROM catalog_linkage",
        "ITII", r, err);
    int keys = 0;
    for (int64_t i = 0; st == ARD_OK && i < r->nrows; i++) {
        if (ard__ds_cell_int(r, i, 0) == 1) {
            keys++;
            if (strcmp(ard__ds_cell(r, i, 1), "linkage_distinct_spectra") == 0) {
                *distinct_spectra = ard__ds_cell_int(r, i, 3);
            }
        }
    }
    *valid = keys == 2;
    return st;
}

/* Catalog rows without a spectrum per class and the distinct TARGETIDs of the spectra: as stored
 * by sync, or (a sync was killed before it recomputed them) computed here by scanning galaxies and
 * the spectra TARGETID index. */
static ard_status linkage(ard_index *idx, class_acc *acc, const ds_agg *a, int64_t *no_spectrum,
                          int64_t *distinct_spectra, ard_error *err) {
    ds_rows r;
    int valid = 0,
        first = 1; /* stored rows: (flag, class, count, value); computed: (class, count) */
    ard_status st = stored_linkage(idx, &r, distinct_spectra, &valid, err);
    if (st == ARD_OK && !valid) {
        ard__ds_rows_reset(&r);
        first = 0;
        st = ard__ds_query_typed(idx,
                                 "SELECT target_class, count(*) FROM galaxies g WHERE NOT EXISTS"
                                 " (SELECT 1 FROM spectra s WHERE s.targetid = g.targetid)"
                                 " GROUP BY target_class",
                                 "TI", &r, err);
        ds_rows d;
        st = st == ARD_OK ? ard__ds_query_typed(idx, "SELECT count(DISTINCT targetid) FROM spectra",
                                                "I", &d, err)
                          : st;
        if (st == ARD_OK) {
            *distinct_spectra = ard__ds_cell_int(&d, 0, 0);
            ard__ds_rows_reset(&d);
        }
    }
    if (st != ARD_OK) {
        ard__ds_rows_reset(&r);
        return st;
    }
    *no_spectrum = 0;
    for (int64_t i = 0; i < r.nrows; i++) {
        if (first && ard__ds_cell_int(&r, i, 0) != 0) {
            continue; /* a meta key row */
        }
        const char *cls = ard__ds_cell(&r, i, first);
        int64_t n = ard__ds_cell_int(&r, i, first + 1);
        *no_spectrum += n;
        for (int32_t c = 0; c < a->num_classes; c++) {
            if (acc[c].null_name == !cls && (!cls || strcmp(acc[c].name, cls) == 0)) {
                acc[c].with_spectrum -= n;
            }
        }
    }
    ard__ds_rows_reset(&r);
    return ARD_OK;
}

/* Totals, linkage and RA/Dec ranges over all groups. */
static ard_status totals(ard_index *idx, ds_model *m, const ds_rows *r, int64_t no_spectrum,
                         int64_t distinct_spectra, ard_error *err) {
    int64_t n = 0, zw = 0;
    double ra0 = NAN, ra1 = NAN, dec0 = NAN, dec1 = NAN;
    for (int64_t i = 0; i < r->nrows; i++) {
        n += ard__ds_cell_int(r, i, Q_N);
        zw += ard__ds_cell_int(r, i, Q_ZWARN);
        ra0 = fmin_nan(ra0, ard__ds_cell_double(r, i, Q_RAMIN));
        ra1 = fmax_nan(ra1, ard__ds_cell_double(r, i, Q_RAMAX));
        dec0 = fmin_nan(dec0, ard__ds_cell_double(r, i, Q_DECMIN));
        dec1 = fmax_nan(dec1, ard__ds_cell_double(r, i, Q_DECMAX));
    }
    ds_rows s; /* one spectra row per tile row (ard_index_check): 12,000 rows, not 6.4M */
    ard_status st = ard__ds_query_typed(idx, "SELECT sum(num_rows) FROM files WHERE kind = 'tile'",
                                        "I", &s, err);
    if (st != ARD_OK) {
        return st;
    }
    /* galaxies' TARGETIDs are unique, so the spectra TARGETIDs found in the catalog number
     * n - no_spectrum; the rest have no catalog row */
    int64_t spectra = ard__ds_cell_int(&s, 0, 0), has = n - no_spectrum;
    int64_t orphans = distinct_spectra - has;
    ard__ds_rows_reset(&s);
    char pct[32];
    fmt_pct(pct, sizeof pct, zw, n);
    ard__ds_set(m, "galaxies_total", "%lld", (long long)n);
    ard__ds_set(m, "zwarn_nonzero", "%lld", (long long)zw);
    ard__ds_set(m, "zwarn_nonzero_pct", "%s", pct);
    ard__ds_set(m, "spectra_total", "%lld", (long long)spectra);
    ard__ds_set(m, "catalog_without_spectra", "%lld", (long long)(n - has));
    ard__ds_set(m, "spectra_without_catalog", "%lld", (long long)orphans);
    set_coord(m, "ra_min", ra0);
    set_coord(m, "ra_max", ra1);
    set_coord(m, "dec_min", dec0);
    set_coord(m, "dec_max", dec1);
    if (orphans == 0 && n == has) {
        ard__ds_set(m, "linkage_status",
                    "OK: every catalog row has a spectrum and every spectrum a"
                    " catalog row (TARGETID).");
    } else {
        ard__ds_set(
            m, "linkage_status",
            "**WARNING: the linkage is incomplete: %lld catalog row(s) without a spectrum, %lld"
            " spectrum/spectra without a catalog row.**",
            (long long)(n - has), (long long)orphans);
    }
    return ARD_OK;
}

ard_status ard__ds_agg_catalog(ard_index *idx, ds_model *m, ds_agg *a, ard_error *err) {
    ds_rows r;
    ard_status st = summary_query(idx, &r, err);
    if (st != ARD_OK) {
        return st;
    }
    double zmin = NAN, zmax = NAN;
    z_range(&r, &zmin, &zmax);
    char z0[32], z1[32];
    fmt_z(z0, sizeof z0, zmin);
    fmt_z(z1, sizeof z1, zmax);
    ard__ds_set(m, "z_min", "%s", z0);
    ard__ds_set(m, "z_max", "%s", z1);
    int64_t lo_bin = 0, per_bin = 1;
    hist_layout(a, zmin, zmax, &lo_bin, &per_bin);
    st = ard__ds_sort_rows(&r, 0, cmp_class, err);
    if (st != ARD_OK) {
        ard__ds_rows_reset(&r);
        return st;
    }
    class_acc acc[DS_MAX_CLASSES], all;
    memset(acc, 0, sizeof acc);
    memset(&all, 0, sizeof all);
    for (int64_t i = 0; i < r.nrows; i++) {
        add_group(acc, a, &r, i);
    }
    for (int32_t c = 0; c < a->num_classes; c++) {
        acc[c].with_spectrum = acc[c].galaxies;
    }
    st = histograms(idx, acc, &all, a, lo_bin, per_bin, err);
    int64_t no_spectrum = 0, distinct_spectra = 0;
    st = st == ARD_OK ? linkage(idx, acc, a, &no_spectrum, &distinct_spectra, err) : st;
    double medians[DS_MAX_CLASSES];
    st = st == ARD_OK ? class_medians(idx, acc, a->num_classes, &all, medians, err) : st;
    for (int32_t c = 0; c < a->num_classes && st == ARD_OK; c++) {
        snprintf(a->class_names[c], sizeof a->class_names[c], "%.31s", acc[c].name);
        st = class_row(m, &acc[c], medians[c], err);
    }
    if (st == ARD_OK) {
        st = spectypes(m, &r, err);
    }
    if (st == ARD_OK) {
        st = totals(idx, m, &r, no_spectrum, distinct_spectra, err);
    }
    free_bins(acc, a->num_classes);
    free_bins(&all, 1);
    ard__ds_rows_reset(&r);
    return st;
}
