/* The datasheet's figures, written as plain SVG 1.1 (no scripts, no external fonts) so any browser
 * or rsvg-convert shows them: the redshift histogram per class, the sky density of spectra and the
 * flux completeness per tile (both on an RA/Dec plate carree, RA increasing to the left as on the
 * sky). Output depends only on the aggregates, so figures are byte-identical for the same data. */
#include "datasheet_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 720
#define H 420
#define X0 70.0
#define Y0 40.0
#define PW 600.0
#define PH 300.0

static const char *const class_colors[DS_MAX_CLASSES] = {
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"};

static void header(ard_buf *b, const char *title) {
    ard_buf_appendf(b,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
                    "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n"
                    "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">%s</text>\n",
                    W, H, W, H, W, H, W / 2, title);
}

static void frame(ard_buf *b, const char *xlabel, const char *ylabel) {
    ard_buf_appendf(b,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                    "stroke=\"black\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n"
                    "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" "
                    "transform=\"rotate(-90 18 %.1f)\">%s</text>\n",
                    X0, Y0, PW, PH, X0 + PW / 2, Y0 + PH + 36, xlabel, Y0 + PH / 2, Y0 + PH / 2,
                    ylabel);
}

static void tick(ard_buf *b, int xaxis, double pos, const char *label) {
    if (xaxis) {
        ard_buf_appendf(b,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                        pos, Y0 + PH, pos, Y0 + PH + 5, pos, Y0 + PH + 18, label);
    } else {
        ard_buf_appendf(b,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                        X0 - 5, pos, X0, pos, X0 - 8, pos + 4, label);
    }
}

void ard__ds_svg_redshift(const ds_agg *a, ard_buf *out) {
    header(out, "Redshift distribution per target class");
    frame(out, "redshift Z", "galaxies per bin");
    int64_t peak = 1;
    for (int32_t c = 0; c < a->num_classes; c++) {
        for (int32_t k = 0; k < a->num_bins; k++) {
            peak = a->hist[c][k] > peak ? a->hist[c][k] : peak;
        }
    }
    double span = a->num_bins * a->z_width;
    double step = span <= 1 ? 0.2 : span <= 2.5 ? 0.5 : span <= 6 ? 1 : span <= 12 ? 2 : 5;
    for (double z = ceil(a->z_lo / step) * step; a->num_bins > 0 && z <= a->z_lo + span + 1e-9;
         z += step) {
        char label[32];
        snprintf(label, sizeof label, "%.1f", z);
        tick(out, 1, X0 + PW * (z - a->z_lo) / span, label);
    }
    for (int32_t t = 0; t <= 5; t++) {
        char label[32];
        snprintf(label, sizeof label, "%lld", (long long)llround((double)peak * t / 5));
        tick(out, 0, Y0 + PH - PH * t / 5, label);
    }
    for (int32_t c = 0; c < a->num_classes; c++) {
        ard_buf_appendf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                        class_colors[c]);
        for (int32_t k = 0; k < a->num_bins; k++) {
            double y = Y0 + PH - PH * (double)a->hist[c][k] / (double)peak;
            ard_buf_appendf(out, "%.1f,%.1f %.1f,%.1f ", X0 + PW * k / a->num_bins, y,
                            X0 + PW * (k + 1) / a->num_bins, y);
        }
        ard_buf_appendf(out,
                        "\"/>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
                        "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                        X0 + PW - 90, Y0 + 10 + 18.0 * c, class_colors[c], X0 + PW - 72,
                        Y0 + 21 + 18.0 * c, a->class_names[c]);
    }
    ard_buf_appendf(out, "</svg>\n");
}

/* Light to dark blue for t in [0, 1]. */
static void color(double t, char out[8]) {
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    int r = (int)lround(247 + (8 - 247) * t), g = (int)lround(251 + (48 - 251) * t),
        bl = (int)lround(255 + (107 - 255) * t);
    snprintf(out, 8, "#%02x%02x%02x", r, g, bl);
}

typedef struct pix_val {
    int64_t pix;
    int64_t num, den;
} pix_val;

static int cmp_pix(const void *x, const void *y) {
    int64_t a = ((const pix_val *)x)->pix, b = ((const pix_val *)y)->pix;
    return a < b ? -1 : a > b;
}

/* Per distinct pixel: num/den summed over tiles (several programs may share a pixel). */
static pix_val *pixel_values(const ds_agg *a, int density, int64_t *count) {
    pix_val *v = ard_malloc((size_t)(a->num_tiles ? a->num_tiles : 1) * sizeof *v);
    int64_t n = 0;
    for (int64_t i = 0; v && i < a->num_tiles; i++) {
        const ds_tile *t = &a->tiles[i];
        if (t->pixnum >= 0 && t->pixnum < ARD_DATASET_NUM_PIXELS) {
            v[n++] = (pix_val){t->pixnum, density ? t->rows : t->flux_nulls,
                               density ? 1 : t->flux_values};
        }
    }
    if (v) {
        qsort(v, (size_t)n, sizeof *v, cmp_pix);
    }
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (m > 0 && v[m - 1].pix == v[i].pix) {
            v[m - 1].num += v[i].num;
            v[m - 1].den += v[i].den;
        } else {
            v[m++] = v[i];
        }
    }
    *count = m;
    return v;
}

static void sky_axes(ard_buf *out) {
    for (int32_t t = 0; t <= 6; t++) {
        char label[16];
        snprintf(label, sizeof label, "%d", 360 - 60 * t);
        tick(out, 1, X0 + PW * t / 6, label);
        snprintf(label, sizeof label, "%d", -90 + 30 * t);
        tick(out, 0, Y0 + PH - PH * t / 6, label);
    }
}

static void colorbar(ard_buf *out, double lo, double hi, const char *unit) {
    for (int32_t k = 0; k < 10; k++) {
        char c[8];
        color(k / 9.0, c);
        ard_buf_appendf(out,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"30\" height=\"6\" fill=\"%s\"/>\n",
                        X0 + 150 + 30.0 * k, Y0 + PH + 46, c);
    }
    ard_buf_appendf(out,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>"
                    "<text x=\"%.1f\" y=\"%.1f\">%.3g %s (log scale)</text>\n",
                    X0 + 145, Y0 + PH + 53, lo, X0 + 455, Y0 + PH + 53, hi, unit);
}

/* Position of val in [lo, hi] on a log scale (densities are > 0; percentages may be 0, so they are
 * offset by 0.01 %): a few dense or broken tiles must not wash out all the others. */
static double log_scale(double val, double lo, double hi, int density) {
    double off = density ? 0 : 0.01;
    if (lo + off <= 0) {
        return (val - lo) / (hi - lo);
    }
    return log((val + off) / (lo + off)) / log((hi + off) / (lo + off));
}

static void sky_plot(const ds_agg *a, int density, ard_buf *out) {
    header(out, density ? "Sky density of spectra (NSIDE-64 tiles)"
                        : "Missing flux pixels per tile (footer null counts)");
    frame(out, "RA [deg]", "Dec [deg]");
    sky_axes(out);
    int64_t n = 0;
    pix_val *v = pixel_values(a, density, &n);
    double area = ard_dataset_tile_area_deg2(), lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; v && i < n; i++) {
        double val = v[i].den > 0 ? (double)v[i].num / (double)v[i].den : 0;
        val = density ? val / area : 100 * val;
        lo = val < lo ? val : lo;
        hi = val > hi ? val : hi;
    }
    for (int64_t i = 0; v && i < n; i++) {
        double ra, dec, val = v[i].den > 0 ? (double)v[i].num / (double)v[i].den : 0;
        val = density ? val / area : 100 * val;
        if (ard_dataset_tile_center(v[i].pix, &ra, &dec, NULL) != ARD_OK) {
            continue;
        }
        char c[8];
        color(hi > lo ? 0.15 + 0.85 * log_scale(val, lo, hi, density) : 0.6, c);
        ard_buf_appendf(out,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"2.5\" height=\"2.5\" fill=\"%s\"/>\n",
                        X0 + PW * (360 - ra) / 360 - 1.25, Y0 + PH * (90 - dec) / 180 - 1.25, c);
    }
    if (n > 0) {
        colorbar(out, lo, hi, density ? "spectra/deg2" : "% missing");
    } else {
        ard_buf_appendf(out,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no tiles indexed"
                        "</text>\n",
                        X0 + PW / 2, Y0 + PH / 2);
    }
    ard_free(v);
    ard_buf_appendf(out, "</svg>\n");
}

void ard__ds_svg_sky(const ds_agg *a, ard_buf *out) {
    sky_plot(a, 1, out);
}
void ard__ds_svg_completeness(const ds_agg *a, ard_buf *out) {
    sky_plot(a, 0, out);
}

static int cmp_z(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The predicted cosmic web in a thin declination slice: RA (increasing to the left) against
 * redshift, one dot per galaxy coloured by its class (aggregate_cosmicweb.c picks the slice). */
void ard__ds_svg_cosmicweb(const ds_agg *a, ard_buf *out) {
    static const char *const colors[DS_CW_CLASSES] = {"#9ecae1", "#2ca02c", "#ff7f0e", "#d62728"};
    static const char *const names[DS_CW_CLASSES] = {"void", "sheet", "filament", "knot"};
    header(out, "Predicted cosmic web, declination slice");
    frame(out, "RA [deg]", "redshift");
    double r0 = INFINITY, r1 = -INFINITY, z0 = 0.0, z1 = -INFINITY;
    for (int64_t i = 0; i < a->num_cw_points; i++) {
        r0 = fmin(r0, a->cw_points[i].ra);
        r1 = fmax(r1, a->cw_points[i].ra);
    }
    /* the redshift axis ends at the 95th percentile: a few QSOs would squeeze the web flat */
    double *zs = a->num_cw_points > 0 ? ard_malloc((size_t)a->num_cw_points * sizeof *zs) : NULL;
    for (int64_t i = 0; zs && i < a->num_cw_points; i++) {
        zs[i] = a->cw_points[i].z;
    }
    if (zs) {
        qsort(zs, (size_t)a->num_cw_points, sizeof *zs, cmp_z);
        z1 = zs[(a->num_cw_points * 95) / 100];
    }
    ard_free(zs);
    if (a->num_cw_points == 0 || !(r1 > r0) || !(z1 > z0)) {
        ard_buf_appendf(out,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no cosmic-web "
                        "predictions</text>\n</svg>\n",
                        X0 + PW / 2, Y0 + PH / 2);
        return;
    }
    for (int k = 0; k <= 4; k++) {
        char label[32];
        snprintf(label, sizeof label, "%.1f", r1 - (r1 - r0) * k / 4);
        tick(out, 1, X0 + PW * k / 4, label);
        snprintf(label, sizeof label, "%.2f", z1 * k / 4);
        tick(out, 0, Y0 + PH - PH * k / 4, label);
    }
    for (int c = 0; c < DS_CW_CLASSES; c++) { /* voids first, knots drawn on top */
        ard_buf_appendf(out, "<g fill=\"%s\">\n", colors[c]);
        for (int64_t i = 0; i < a->num_cw_points; i++) {
            const ds_cw_point *p = &a->cw_points[i];
            if (p->cls == c && p->z <= z1) {
                ard_buf_appendf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.2\"/>\n",
                                X0 + PW * (r1 - p->ra) / (r1 - r0), Y0 + PH - PH * p->z / z1);
            }
        }
        ard_buf_appendf(out,
                        "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" "
                        "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                        X0 + PW - 75, Y0 + 8 + 16.0 * c, colors[c], X0 + PW - 61,
                        Y0 + 17 + 16.0 * c, names[c]);
    }
    ard_buf_appendf(out,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%lld galaxies with "
                    "|Dec - %.2f| &lt;= %.2f deg</text>\n</svg>\n",
                    X0 + PW / 2, Y0 - 6, (long long)a->num_cw_points, a->cw_dec_mid,
                    a->cw_dec_half);
}

ard_status ard__ds_write_figures(const ds_agg *a, const char *dir, ard_error *err) {
    ard_status st = ARD_OK;
    for (int i = 0; i < 4 && st == ARD_OK; i++) {
        st = ard__ds_write_figure(a, dir, i, err);
    }
    return st;
}

ard_status ard__ds_write_figure(const ds_agg *a, const char *dir, int32_t i, ard_error *err) {
    static const char *const names[4] = {"redshift.svg", "sky.svg", "completeness.svg",
                                         "cosmicweb.svg"};
    void (*const draw[4])(const ds_agg *, ard_buf *) = {
        ard__ds_svg_redshift, ard__ds_svg_sky, ard__ds_svg_completeness, ard__ds_svg_cosmicweb};
    if (i < 0 || i >= 4) {
        return ard__ds_anomaly_figure(a, dir, err);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    ard_buf b;
    ard_buf_init(&b);
    draw[i](a, &b);
    ard_status st = b.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory drawing %s", path)
                             : ard_dataset_mkdirs_for(path, err);
    if (st == ARD_OK) {
        st = ard_file_write_atomic(path, b.data, b.len, err);
    }
    ard_buf_reset(&b);
    return st;
}
