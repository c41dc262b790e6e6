/* The "Cosmic web" section: the latest runs of the cosmicweb stage as the index records them
 * (cosmicweb_runs, cosmic_web joined with galaxies): the predict run, class fractions per target
 * class, the held-out scores of the latest train run beside its density-only baseline and its
 * test-split confusion matrix, and a slice of the predicted web for figures/cosmicweb.svg. A
 * dataset without cosmic-web runs gets a line saying so and empty tables. */
#include "datasheet_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const web_names[DS_CW_CLASSES] = {"void", "sheet", "filament", "knot"};

/* 1 when the index has table `name`. */
static ard_status has_table(ard_index *idx, const char *name, int *out, ard_error *err) {
    ard_column_set *tables = NULL;
    ard_status st = ard_index_tables(idx, &tables, err);
    *out = 0;
    for (int64_t i = 0; st == ARD_OK && i < ard_column_set_num_rows(tables); i++) {
        const char *t = ((const char *const *)ard_column_set_column(tables, 0)->values)[i];
        *out |= t && strcmp(t, name) == 0;
    }
    ard_column_set_free(tables);
    return st;
}

/* The number after "key": in a flat JSON text the library wrote (NaN when absent). */
static double json_number(const char *json, const char *key) {
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* The 4 x 4 integer matrix after "key": ([[a,b,c,d],...]); 0 when absent or malformed. */
static int json_matrix(const char *json, const char *key, int64_t out[4][4]) {
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p) {
        return 0;
    }
    p += strlen(pat);
    for (int k = 0; k < 16; k++) {
        while (*p == '[' || *p == ',' || *p == ']' || *p == ' ') {
            p++;
        }
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            return 0;
        }
        out[k / 4][k % 4] = v;
        p = end;
    }
    return 1;
}

static void fmt_score(char *buf, size_t cap, double v) {
    if (isnan(v)) {
        snprintf(buf, cap, "-");
    } else {
        snprintf(buf, cap, "%.3f", v);
    }
}

/* The newest run of each kind: rows come oldest first (ard_result_runs). */
static ard_status latest_runs(ard_index *idx, ds_model *m, ard_error *err) {
    ard_column_set *runs = NULL;
    ard_status st = ard_result_runs(idx, "cosmicweb", &runs, err);
    if (st != ARD_OK) {
        return st;
    }
    int32_t c_id = ard_column_set_find(runs, "run_id"),
            c_sum = ard_column_set_find(runs, "summary");
    const char *const *ids = ard_column_set_column(runs, c_id)->values;
    const char *const *sums = ard_column_set_column(runs, c_sum)->values;
    const char *train_id = NULL, *train = NULL, *pred_id = NULL, *pred = NULL;
    for (int64_t i = 0; i < ard_column_set_num_rows(runs); i++) {
        const char *s = sums[i];
        if (s && strstr(s, "\"kind\":\"train\"")) {
            train_id = ids[i], train = s;
        } else if (s && strstr(s, "\"kind\":\"predict\"")) {
            pred_id = ids[i], pred = s;
        }
    }
    char a[32], b[32], c[32];
    ard__ds_set(m, "cosmicweb_predict_run", "%s", pred_id ? pred_id : "none");
    ard__ds_set(m, "cosmicweb_train_run", "%s", train_id ? train_id : "none");
    fmt_score(a, sizeof a, json_number(train, "test_balanced_accuracy"));
    fmt_score(b, sizeof b, json_number(train, "baseline_test_balanced_accuracy"));
    fmt_score(c, sizeof c, json_number(train, "val_balanced_accuracy"));
    ard__ds_set(m, "cosmicweb_test_bacc", "%s", a);
    ard__ds_set(m, "cosmicweb_baseline_bacc", "%s", b);
    ard__ds_set(m, "cosmicweb_val_bacc", "%s", c);
    ard__ds_set(m, "cosmicweb_test_galaxies", "%.0f", train ? json_number(train, "test") : 0.0);
    fmt_score(a, sizeof a, json_number(pred, "balanced_accuracy"));
    ard__ds_set(m, "cosmicweb_truth_bacc", "%s", a);
    int64_t conf[4][4];
    if (json_matrix(train, "test_confusion", conf)) {
        for (int t = 0; t < 4 && st == ARD_OK; t++) {
            char cells[5][24];
            const char *row[5] = {web_names[t], cells[1], cells[2], cells[3], cells[4]};
            for (int p = 0; p < 4; p++) {
                snprintf(cells[1 + p], sizeof cells[1 + p], "%lld", (long long)conf[t][p]);
            }
            st = ard__ds_row(ard__ds_table_get(m, "cosmicweb_confusion"), row, err);
        }
    }
    ard_column_set_free(runs);
    return st;
}

/* Class fractions per target class of the galaxies in cosmic_web. */
static ard_status class_fractions(ard_index *idx, ds_model *m, ard_error *err) {
    ds_rows r;
    ard_status st = ard__ds_query_typed(idx,
                                        "SELECT g.target_class, c.class, count(*) FROM cosmic_web c"
                                        " JOIN galaxies g ON g.targetid = c.targetid"
                                        " GROUP BY g.target_class, c.class",
                                        "TII", &r, err);
    if (st != ARD_OK) {
        return st;
    }
    enum { MAXC = DS_MAX_CLASSES + 1 };
    char names[MAXC][32];
    int64_t counts[MAXC][DS_CW_CLASSES];
    int32_t n = 0;
    memset(counts, 0, sizeof counts);
    for (int64_t i = 0; i < r.nrows; i++) {
        const char *name = ard__ds_cell(&r, i, 0) ? ard__ds_cell(&r, i, 0) : "(none)";
        int32_t k = 0;
        while (k < n && strcmp(names[k], name) != 0) {
            k++;
        }
        if (k == n && n < MAXC - 1) {
            snprintf(names[n++], sizeof names[0], "%.31s", name);
        } else if (k == n) {
            k = MAXC - 1; /* more classes than rows we keep: folded into the last */
        }
        int64_t cls = ard__ds_cell_int(&r, i, 1);
        if (cls >= 0 && cls < DS_CW_CLASSES) {
            counts[k][cls] += ard__ds_cell_int(&r, i, 2);
        }
    }
    ard__ds_rows_reset(&r);
    int32_t order[MAXC];
    for (int32_t i = 0; i < n; i++) { /* canonical class order: BGS, LRG, ELG, QSO, others */
        int32_t j = i;
        for (; j > 0 && (ard__ds_class_rank(names[order[j - 1]]) > ard__ds_class_rank(names[i]) ||
                         (ard__ds_class_rank(names[order[j - 1]]) == ard__ds_class_rank(names[i]) &&
                          strcmp(names[order[j - 1]], names[i]) > 0));
             j--) {
            order[j] = order[j - 1];
        }
        order[j] = i;
    }
    int64_t all[DS_CW_CLASSES] = {0}, total = 0;
    for (int32_t i = 0; i <= n && st == ARD_OK; i++) {
        const int64_t *c = i < n ? counts[order[i]] : all;
        int64_t sum = c[0] + c[1] + c[2] + c[3];
        if (i < n) {
            for (int k = 0; k < DS_CW_CLASSES; k++) {
                all[k] += c[k];
            }
            total += sum;
        }
        char cells[5][32];
        const char *row[6] = {
            i < n ? names[order[i]] : "all", cells[0], cells[1], cells[2], cells[3], cells[4]};
        snprintf(cells[0], sizeof cells[0], "%lld", (long long)sum);
        for (int k = 0; k < DS_CW_CLASSES; k++) {
            snprintf(cells[1 + k], sizeof cells[1 + k], "%.1f",
                     sum ? 100.0 * (double)c[k] / (double)sum : 0.0);
        }
        if (i < n || n > 1) {
            st = ard__ds_row(ard__ds_table_get(m, "cosmicweb_classes"), row, err);
        }
    }
    ard__ds_set(m, "cosmicweb_galaxies", "%lld", (long long)total);
    return st;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_point(const void *a, const void *b) {
    const ds_cw_point *x = a, *y = b;
    return (x->targetid > y->targetid) - (x->targetid < y->targetid);
}

/* A thin declination slice of the predicted galaxies (RA vs redshift), at most DS_CW_POINTS. */
static ard_status slice_points(ard_index *idx, ds_agg *a, ard_error *err) {
    ds_rows r;
    ard_status st =
        ard__ds_query_typed(idx,
                            "SELECT g.targetid, g.target_ra, g.target_dec, g.z, c.class"
                            " FROM cosmic_web c JOIN galaxies g ON g.targetid = c.targetid"
                            " WHERE g.target_dec IS NOT NULL AND g.z > 0",
                            "IDDDI", &r, err);
    if (st != ARD_OK || r.nrows == 0) {
        ard__ds_rows_reset(&r);
        return st;
    }
    double *dec = ard_malloc((size_t)r.nrows * sizeof *dec);
    if (!dec) {
        ard_free(dec);
        ard__ds_rows_reset(&r);
        return ard_error_set(err, ARD_ENOMEM, "out of memory for the cosmic-web slice");
    }
    for (int64_t i = 0; i < r.nrows; i++) {
        dec[i] = ard__ds_cell_double(&r, i, 2);
    }
    qsort(dec, (size_t)r.nrows, sizeof *dec, cmp_double);
    double mid = dec[r.nrows / 2];
    /* half-width: the band around the median holding about DS_CW_POINTS galaxies (>= 0.1 deg) */
    int64_t lo = r.nrows / 2 - DS_CW_POINTS / 2, hi = r.nrows / 2 + DS_CW_POINTS / 2 - 1;
    lo = lo < 0 ? 0 : lo;
    hi = hi >= r.nrows ? r.nrows - 1 : hi;
    double half = fmax(fmin(mid - dec[lo], dec[hi] - mid), 0.0);
    ard_free(dec);
    a->cw_dec_mid = mid;
    a->cw_dec_half = half;
    int64_t kept = 0; /* every galaxy of the band, then the DS_CW_POINTS smallest TARGETIDs */
    for (int64_t i = 0; i < r.nrows; i++) {
        if (fabs(ard__ds_cell_double(&r, i, 2) - mid) <= half) {
            kept++;
        }
    }
    ard_free(a->cw_points);
    a->cw_points = ard_malloc((size_t)(kept > 0 ? kept : 1) * sizeof *a->cw_points);
    if (!a->cw_points) {
        ard__ds_rows_reset(&r);
        return ard_error_set(err, ARD_ENOMEM, "out of memory for the cosmic-web slice");
    }
    for (int64_t i = 0; i < r.nrows && a->num_cw_points < kept; i++) {
        if (!(fabs(ard__ds_cell_double(&r, i, 2) - mid) <= half)) { /* the test that counted */
            continue;
        }
        a->cw_points[a->num_cw_points++] =
            (ds_cw_point){ard__ds_cell_int(&r, i, 0), ard__ds_cell_double(&r, i, 1),
                          ard__ds_cell_double(&r, i, 3), (int32_t)ard__ds_cell_int(&r, i, 4)};
    }
    ard__ds_rows_reset(&r);
    qsort(a->cw_points, (size_t)a->num_cw_points, sizeof *a->cw_points, cmp_point);
    a->num_cw_points = a->num_cw_points < DS_CW_POINTS ? a->num_cw_points : DS_CW_POINTS;
    return ARD_OK;
}

ard_status ard__ds_agg_cosmicweb(ard_index *idx, ds_model *m, ds_agg *a, ard_error *err) {
    int runs = 0, table = 0;
    ard_status st = has_table(idx, "cosmicweb_runs", &runs, err);
    if (st == ARD_OK) {
        st = has_table(idx, "cosmic_web", &table, err);
    }
    ard__ds_set(m, "cosmicweb_status", "%s",
                runs ? "The latest runs of the cosmicweb stage (`ard results list DATASET --stage"
                       " cosmicweb`):"
                     : "No cosmic-web run is recorded in the index (`ard cosmicweb train` and "
                       "`ard cosmicweb predict` add one).");
    if (st == ARD_OK && runs) {
        st = latest_runs(idx, m, err);
    }
    if (st == ARD_OK && table) {
        st = class_fractions(idx, m, err);
    }
    if (st == ARD_OK && table) {
        st = slice_points(idx, a, err);
    }
    return st;
}
