/* The datasheet's "Anomalies" section: the latest anomaly scoring run in the index (anomaly_runs +
 * the anomalies table it loaded), its score distribution (counts above the thresholds, quantiles,
 * a histogram for figures/anomaly-scores.svg) and the top candidates with their catalog rows.
 * Every query is portable SQL (no dialect-specific functions), so both backends give the same
 * section. A dataset without a scoring run gets a sentence saying how to make one. */
#include "datasheet_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TOP_ROWS 10

/* 1 when the index holds table `name` (lower case). */
static ard_status has_table(ard_index *idx, const char *name, int *out, ard_error *err) {
    ard_column_set *tables = NULL;
    *out = 0;
    ard_status st = ard_index_tables(idx, &tables, err);
    if (st != ARD_OK) {
        return st;
    }
    const char *const *names = ard_column_set_column(tables, 0)->values;
    for (int64_t i = 0; i < ard_column_set_num_rows(tables); i++) {
        *out |= names[i] && strcasecmp(names[i], name) == 0;
    }
    ard_column_set_free(tables);
    return ARD_OK;
}

/* The newest scoring run: run id, finished, summary (JSON with model_run). */
static ard_status latest_run(ard_index *idx, ds_model *m, int *found, ard_error *err) {
    ds_rows r;
    ard_status st = ard__ds_query(idx,
                                  "SELECT run_id, finished, summary FROM anomaly_runs WHERE "
                                  "summary LIKE '%\"kind\":\"score\"%' ORDER BY finished DESC, "
                                  "run_id DESC",
                                  &r, err);
    *found = st == ARD_OK && r.nrows > 0;
    if (*found) {
        const char *summary = ard__ds_cell(&r, 0, 2), *model = NULL;
        char model_run[128] = "?";
        if (summary && (model = strstr(summary, "\"model_run\":\"")) != NULL) {
            model += 13;
            size_t len = strcspn(model, "\"");
            snprintf(model_run, sizeof model_run, "%.*s", (int)(len < 100 ? len : 100), model);
        }
        ard__ds_set(m, "anomaly_run", "%s", ard__ds_cell(&r, 0, 0));
        ard__ds_set(m, "anomaly_model_run", "%s", model_run);
        ard__ds_set(m, "anomaly_finished", "%s", ard__ds_cell(&r, 0, 1));
    }
    ard__ds_rows_reset(&r);
    return st;
}

/* Count, min, max, the counts above the thresholds, median and 99th percentile (by rank). */
static ard_status distribution(ard_index *idx, ds_model *m, ds_agg *a, ard_error *err) {
    ds_rows r;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*), min(score), max(score), "
             "sum(CASE WHEN score > %g THEN 1 ELSE 0 END), "
             "sum(CASE WHEN score > %g THEN 1 ELSE 0 END), count(score) FROM anomalies",
             ARD_DS_ANOMALY_THRESHOLD, 2.0 * ARD_DS_ANOMALY_THRESHOLD);
    ard_status st = ard__ds_query_typed(idx, sql, "IDDIII", &r, err);
    if (st != ARD_OK) {
        return st;
    }
    int64_t n = ard__ds_cell_int(&r, 0, 0), scored = ard__ds_cell_int(&r, 0, 5);
    double lo = ard__ds_cell_double(&r, 0, 1), hi = ard__ds_cell_double(&r, 0, 2);
    ard__ds_set(m, "anomaly_spectra", "%lld", (long long)n);
    ard__ds_set(m, "anomaly_unscored", "%lld", (long long)(n - scored));
    ard__ds_set(m, "anomaly_threshold", "%g", ARD_DS_ANOMALY_THRESHOLD);
    ard__ds_set(m, "anomaly_threshold2", "%g", 2.0 * ARD_DS_ANOMALY_THRESHOLD);
    ard__ds_set(m, "anomaly_above", "%lld", (long long)ard__ds_cell_int(&r, 0, 3));
    ard__ds_set(m, "anomaly_above2", "%lld", (long long)ard__ds_cell_int(&r, 0, 4));
    ard__ds_set(m, "anomaly_above_pct", "%.2f",
                scored > 0 ? 100.0 * (double)ard__ds_cell_int(&r, 0, 3) / (double)scored : 0.0);
    ard__ds_set(m, "anomaly_max", "%.3f", hi);
    ard__ds_rows_reset(&r);
    /* rank 1 = highest score; ranks of the scored rows run 1..scored */
    snprintf(sql, sizeof sql,
             "SELECT rank, score FROM anomalies WHERE rank = %lld OR rank = %lld ORDER BY rank",
             (long long)(scored / 100 + 1), (long long)(scored / 2 + 1));
    st = scored > 0 ? ard__ds_query_typed(idx, sql, "ID", &r, err) : ARD_OK;
    if (st == ARD_OK && scored > 0) {
        ard__ds_set(m, "anomaly_p99", "%.3f", ard__ds_cell_double(&r, 0, 1));
        ard__ds_set(m, "anomaly_median", "%.3f", ard__ds_cell_double(&r, r.nrows > 1 ? 1 : 0, 1));
        ard__ds_rows_reset(&r);
    }
    if (st != ARD_OK || scored == 0 || !(hi > lo)) {
        return st;
    }
    /* histogram: DS_ANOMALY_BINS equal bins over [lo, hi], counted by portable CASE sums */
    ard_buf q;
    ard_buf_init(&q);
    double width = (hi - lo) / DS_ANOMALY_BINS;
    ard_buf_appendf(&q, "SELECT ");
    for (int32_t k = 0; k < DS_ANOMALY_BINS; k++) {
        double b0 = lo + width * k, b1 = k == DS_ANOMALY_BINS - 1 ? hi : lo + width * (k + 1);
        ard_buf_appendf(&q, "%ssum(CASE WHEN score >= %.17g AND score %s %.17g THEN 1 ELSE 0 END)",
                        k ? ", " : "", b0, k == DS_ANOMALY_BINS - 1 ? "<=" : "<", b1);
    }
    ard_buf_appendf(&q, " FROM anomalies");
    ard_buf_append(&q, "", 1);
    char types[DS_ANOMALY_BINS + 1];
    memset(types, 'I', DS_ANOMALY_BINS);
    types[DS_ANOMALY_BINS] = '\0';
    st = q.failed ? ard_error_set(err, ARD_ENOMEM, "anomaly histogram")
                  : ard__ds_query_typed(idx, (const char *)q.data, types, &r, err);
    ard_buf_reset(&q);
    if (st == ARD_OK) {
        a->anomaly_bins = DS_ANOMALY_BINS;
        a->anomaly_lo = lo;
        a->anomaly_width = width;
        for (int32_t k = 0; k < DS_ANOMALY_BINS; k++) {
            a->anomaly_hist[k] = ard__ds_cell_int(&r, 0, k);
        }
        ard__ds_rows_reset(&r);
    }
    return st;
}

/* The top candidates joined with their catalog rows. */
static ard_status top(ard_index *idx, ds_model *m, ard_error *err) {
    ds_rows r;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT a.rank, a.targetid, a.score, a.chi2, a.density, g.target_class, g.spectype, "
             "g.z, g.target_ra, g.target_dec FROM anomalies a LEFT JOIN galaxies g ON "
             "g.targetid = a.targetid WHERE a.rank <= %d ORDER BY a.rank",
             TOP_ROWS);
    ard_status st = ard__ds_query_typed(idx, sql, "TTDDDTTDDD", &r, err);
    ds_table *t = ard__ds_table_get(m, "anomaly_top");
    for (int64_t i = 0; st == ARD_OK && i < r.nrows; i++) {
        char num[5][32];
        const int32_t cols[5] = {2, 3, 4, 8, 9};
        for (int k = 0; k < 5; k++) {
            double v = ard__ds_cell_double(&r, i, cols[k]);
            if (!isfinite(v)) {
                snprintf(num[k], sizeof num[k], "-");
            } else if (k == 0) {
                snprintf(num[k], sizeof num[k], "%.3f", v);
            } else if (k < 3) {
                snprintf(num[k], sizeof num[k], "%.3g", v);
            } else {
                snprintf(num[k], sizeof num[k], "%.4f", v);
            }
        }
        double z = ard__ds_cell_double(&r, i, 7);
        char zs[32] = "-";
        if (isfinite(z)) {
            snprintf(zs, sizeof zs, "%.4f", z);
        }
        const char *cells[10] = {
            ard__ds_cell(&r, i, 0), ard__ds_cell(&r, i, 1), num[0], num[1], num[2],
            ard__ds_cell(&r, i, 5), ard__ds_cell(&r, i, 6), zs,     num[3], num[4]};
        st = ard__ds_row(t, cells, err);
    }
    ard__ds_rows_reset(&r);
    return st;
}

ard_status ard__ds_agg_anomaly(ard_index *idx, ds_model *m, ds_agg *a, ard_error *err) {
    int runs = 0, table = 0, found = 0;
    ard_status st = has_table(idx, "anomaly_runs", &runs, err);
    if (st == ARD_OK) {
        st = has_table(idx, "anomalies", &table, err);
    }
    if (st == ARD_OK && runs && table) {
        st = latest_run(idx, m, &found, err);
    }
    if (st == ARD_OK && found) {
        st = distribution(idx, m, a, err);
    }
    if (st == ARD_OK && found) {
        st = top(idx, m, err);
    }
    if (st == ARD_OK && found) {
        ard__ds_set(m, "anomaly_status",
                    "Latest scoring run **%s** (model run %s, finished %s): %s spectra in the "
                    "`anomalies` table, %s of them without a valid pixel (no score).",
                    ard__ds_get(m, "anomaly_run"), ard__ds_get(m, "anomaly_model_run"),
                    ard__ds_get(m, "anomaly_finished"), ard__ds_get(m, "anomaly_spectra"),
                    ard__ds_get(m, "anomaly_unscored"));
    } else if (st == ARD_OK) {
        static const char *const dashes[] = {"anomaly_above",     "anomaly_above2",
                                             "anomaly_above_pct", "anomaly_median",
                                             "anomaly_p99",       "anomaly_max"};
        for (size_t i = 0; i < sizeof dashes / sizeof *dashes; i++) {
            ard__ds_set(m, dashes[i], "-");
        }
        ard__ds_set(m, "anomaly_threshold", "%g", ARD_DS_ANOMALY_THRESHOLD);
        ard__ds_set(m, "anomaly_threshold2", "%g", 2.0 * ARD_DS_ANOMALY_THRESHOLD);
        ard__ds_set(m, "anomaly_status",
                    "No anomaly scoring run in the index yet (`ard anomaly train DATASET`, then "
                    "`ard anomaly score DATASET`).");
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "anomalies section: ");
    }
    return st;
}

/* ---- figure: figures/anomaly-scores.svg ---- */

void ard__ds_svg_anomaly(const ds_agg *a, ard_buf *out) {
    const double x0 = 70, y0 = 40, pw = 600, ph = 300;
    ard_buf_appendf(out,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"420\" "
                    "viewBox=\"0 0 720 420\" font-family=\"sans-serif\" font-size=\"12\">\n"
                    "<rect width=\"720\" height=\"420\" fill=\"white\"/>\n"
                    "<text x=\"360\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Anomaly "
                    "score distribution (latest scoring run)</text>\n"
                    "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                    "stroke=\"black\"/>\n"
                    "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">score</text>\n"
                    "<text x=\"18\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 18 "
                    "%.0f)\">spectra per bin (log10(1 + n))</text>\n",
                    x0, y0, pw, ph, x0 + pw / 2, y0 + ph + 36, y0 + ph / 2, y0 + ph / 2);
    if (a->anomaly_bins <= 0) {
        ard_buf_appendf(out, "<text x=\"360\" y=\"200\" text-anchor=\"middle\">no scoring run"
                             "</text>\n</svg>\n");
        return;
    }
    double peak = 1.0;
    for (int32_t k = 0; k < a->anomaly_bins; k++) {
        peak = fmax(peak, log10(1.0 + (double)a->anomaly_hist[k]));
    }
    double span = a->anomaly_width * a->anomaly_bins;
    for (int32_t t = 0; t <= 4; t++) {
        double v = a->anomaly_lo + span * t / 4, x = x0 + pw * t / 4;
        ard_buf_appendf(out,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f</text>\n",
                        x, y0 + ph, x, y0 + ph + 5, x, y0 + ph + 18, v);
        double y = y0 + ph - ph * t / 4;
        ard_buf_appendf(out,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n",
                        x0 - 5, y, x0, y, x0 - 8, y + 4, peak * t / 4);
    }
    for (int32_t k = 0; k < a->anomaly_bins; k++) {
        double h = ph * log10(1.0 + (double)a->anomaly_hist[k]) / peak;
        int above = a->anomaly_lo + a->anomaly_width * k >= ARD_DS_ANOMALY_THRESHOLD;
        ard_buf_appendf(out,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"%s\"/>\n",
                        x0 + pw * k / a->anomaly_bins, y0 + ph - h, pw / a->anomaly_bins, h,
                        above ? "#d62728" : "#1f77b4");
    }
    double tx = x0 + pw * (ARD_DS_ANOMALY_THRESHOLD - a->anomaly_lo) / span;
    if (tx > x0 && tx < x0 + pw) {
        ard_buf_appendf(out,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" "
                        "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%.1f\">score &gt; %g"
                        "</text>\n",
                        tx, y0, tx, y0 + ph, tx + 4, y0 + 14, ARD_DS_ANOMALY_THRESHOLD);
    }
    ard_buf_appendf(out, "</svg>\n");
}

ard_status ard__ds_anomaly_figure(const ds_agg *a, const char *dir, ard_error *err) {
    if (a->anomaly_bins <= 0) {
        return ARD_OK; /* no run: no figure (the section says so) */
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/anomaly-scores.svg", dir);
    ard_buf b;
    ard_buf_init(&b);
    ard__ds_svg_anomaly(a, &b);
    ard_status st = b.failed ? ard_error_set(err, ARD_ENOMEM, "anomaly figure")
                             : ard_dataset_mkdirs_for(path, err);
    if (st == ARD_OK) {
        st = ard_file_write_atomic(path, b.data, b.len, err);
    }
    ard_buf_reset(&b);
    return st;
}
