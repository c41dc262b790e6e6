/* Datasheet tests: every number checked against the truth computed from the generated files,
 * byte-identical output for the same data, a changed tile changing the hash and its numbers,
 * template errors, the same datasheet from PostgreSQL (when ARD_TEST_PG_DSN names a server). */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "datasheet_int.h"
#include "tds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "5" for ARD_INDEX_SCHEMA_VERSION 5: the datasheet names the schema it read */
#define SCHEMA_TEXT_(v) #v
#define SCHEMA_TEXT_V(v) SCHEMA_TEXT_(v)
#define SCHEMA_TEXT SCHEMA_TEXT_V(ARD_INDEX_SCHEMA_VERSION)

typedef struct fixture {
    char dir[256];
    ard_index *idx;
    tds_truth truth;
} fixture;

static const char *const test_template =
    "galaxies {{galaxies_total}}\n"
    "spectra {{spectra_total}}\n"
    "orphans {{spectra_without_catalog}}\n"
    "nospec {{catalog_without_spectra}}\n"
    "zwarn {{zwarn_nonzero}}\n"
    "tiles {{tiles_total}}\n"
    "flux {{flux_pixels}} {{flux_nulls}} {{flux_missing_pct}}\n"
    "pixels {{sky_pixels}} {{sky_area_deg2}}\n"
    "hash {{content_hash}}\n"
    "{{#classes}}\n"
    "class {{class}} {{galaxies}} {{spectra}} {{missing}} {{zwarn_nonzero}} {{z_min}} {{z_median}} "
    "{{z_max}}\n"
    "{{/classes}}\n"
    "{{#worst_tiles}}\n"
    "worst {{path}} {{flux_nulls}} {{ivar_zero}} {{ivar_zero_pct}}\n"
    "{{/worst_tiles}}\n"
    "ivar {{ivar_zero_pixels}} {{pixel_stats_pixels}} {{ivar_zero_pct}} {{pixel_stats_tiles}}\n"
    "note {{pixel_stats_note}}\n"
    "{{#class_pixels}}\n"
    "cpix {{class}} {{spectra}} {{pixels}} {{flux_nulls}} {{flux_missing_pct}} {{ivar_zero}} "
    "{{ivar_zero_pct}}\n"
    "{{/class_pixels}}\n"
    "{{#programs}}\n"
    "prog {{survey}}/{{program}} {{ivar_zero_pct}}\n"
    "{{/programs}}\n";

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (!f || tds_generate(f->dir, sizeof f->dir, 1200, 7, 0.9) != 0) {
        return -1;
    }
    f->idx = tds_sync(f->dir, NULL);
    if (!f->idx || tds_truth_compute(f->dir, &f->truth) != 0) {
        fprintf(stderr, "setup: %s in %s\n", f->idx ? "truth failed" : "sync failed", f->dir);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    if (f) {
        ard_index_close(f->idx);
        tds_truth_reset(&f->truth);
        tds_rmtree(f->dir);
        free(f);
    }
    return 0;
}

/* Renders `tmpl` (written to a file, so --template's path is exercised) into a malloc'd string. */
static char *render_with(fixture *f, const char *tmpl) {
    char path[512];
    snprintf(path, sizeof path, "%s/test-template.md", f->dir);
    assert_int_equal(tds_write_file(path, tmpl), 0);
    ard_datasheet_options o;
    memset(&o, 0, sizeof o);
    o.template_path = path;
    o.worst_tiles = 3;
    ard_buf b;
    ard_buf_init(&b);
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_datasheet_render(f->dir, f->idx, &o, &b, &err);
    if (st != ARD_OK) {
        fail_msg("render: %s", err.msg);
    }
    ard_buf_append(&b, "", 1);
    return (char *)b.data;
}

static void expect_line(const char *text, const char *line) {
    if (!strstr(text, line)) {
        fail_msg("expected line \"%s\" in:\n%s", line, text);
    }
}

static const tds_tile *truth_tile(const tds_truth *t, const char *path) {
    for (int64_t i = 0; i < t->num_tiles; i++) {
        if (strcmp(t->tiles[i].path, path) == 0) {
            return &t->tiles[i];
        }
    }
    return NULL;
}

static void pct_text(char *out, size_t cap, int64_t num, int64_t den) {
    snprintf(out, cap, "%.3f", 100.0 * (double)num / (double)den);
}

/* The pixel statistics of the test template (per class, overall, per program) against the truth
 * counted from the spectra of the tiles that carry ard.pixel_stats. */
static void check_pixel_numbers(const tds_truth *t, const char *text) {
    char line[512], p1[32], p2[32];
    int32_t classes = 0;
    for (int32_t c = 0; c < t->num_classes; c++) {
        const tds_class *k = &t->cls[c];
        if (k->pix_rows == 0) {
            continue;
        }
        pct_text(p1, sizeof p1, k->flux_null, k->pixels);
        pct_text(p2, sizeof p2, k->ivar_zero, k->pixels);
        snprintf(line, sizeof line, "cpix %s %lld %lld %lld %s %lld %s\n", k->name,
                 (long long)k->pix_rows, (long long)k->pixels, (long long)k->flux_null, p1,
                 (long long)k->ivar_zero, p2);
        expect_line(text, line);
        classes++;
    }
    int listed = 0;
    for (const char *p = text; (p = strstr(p, "cpix ")) != NULL; p++) {
        listed++;
    }
    assert_int_equal(listed, classes);
    pct_text(p1, sizeof p1, t->stats_ivar_zero, t->stats_pixels);
    snprintf(line, sizeof line, "ivar %lld %lld %s %lld\n", (long long)t->stats_ivar_zero,
             (long long)t->stats_pixels, p1, (long long)t->stats_tiles);
    expect_line(text, line);
    if (t->stats_tiles == t->num_tiles) {
        snprintf(line, sizeof line, "note All %lld tiles record", (long long)t->num_tiles);
    } else {
        snprintf(line, sizeof line, "note **WARNING: %lld of %lld tiles (%lld spectra) carry no",
                 (long long)(t->num_tiles - t->stats_tiles), (long long)t->num_tiles,
                 (long long)t->stats_rows_missing);
    }
    expect_line(text, line);
    /* per program (tiles/SURVEY/PROGRAM/...): the IVAR = 0 share over its tiles with statistics */
    for (int64_t a = 0, b; a < t->num_tiles; a = b) {
        const char *pa = t->tiles[a].path + strlen("tiles/");
        size_t plen = (size_t)(strchr(strchr(pa, '/') + 1, '/') - pa);
        int64_t zero = 0, pixels = 0, with = 0;
        for (b = a; b < t->num_tiles && strncmp(t->tiles[b].path + 6, pa, plen + 1) == 0; b++) {
            with += t->tiles[b].has_stats;
            zero += t->tiles[b].has_stats ? t->tiles[b].ivar_zero : 0;
            pixels += t->tiles[b].has_stats ? t->tiles[b].values : 0;
        }
        pct_text(p1, sizeof p1, zero, pixels);
        if (with < b - a) {
            snprintf(p2, sizeof p2, " (%lld tile%s", (long long)(b - a - with),
                     b - a - with == 1 ? "" : "s");
        } else {
            snprintf(p2, sizeof p2, "\n");
        }
        snprintf(line, sizeof line, "prog %.*s %s%s", (int)plen, pa, p1, p2);
        expect_line(text, line);
    }
}

/* Every number of the test template against the truth. */
static void check_numbers(fixture *f, const char *text) {
    const tds_truth *t = &f->truth;
    char line[512];
    snprintf(line, sizeof line, "galaxies %lld\n", (long long)t->galaxies);
    expect_line(text, line);
    snprintf(line, sizeof line, "spectra %lld\n", (long long)t->spectra);
    expect_line(text, line);
    snprintf(line, sizeof line, "orphans %lld\nnospec %lld\n",
             (long long)t->spectra_without_catalog, (long long)t->catalog_without_spectra);
    expect_line(text, line);
    snprintf(line, sizeof line, "zwarn %lld\ntiles %lld\n", (long long)t->zwarn,
             (long long)t->num_tiles);
    expect_line(text, line);
    snprintf(line, sizeof line, "flux %lld %lld %.3f\n", (long long)t->flux_values,
             (long long)t->flux_nulls, 100.0 * (double)t->flux_nulls / (double)t->flux_values);
    expect_line(text, line);
    snprintf(line, sizeof line, "pixels %lld %.2f\n", (long long)t->distinct_pixels,
             (double)t->distinct_pixels * 0.83929365);
    expect_line(text, line);
    for (int32_t c = 0; c < t->num_classes; c++) {
        const tds_class *k = &t->cls[c];
        snprintf(line, sizeof line, "class %s %lld %lld %lld %lld %.4f %.4f %.4f\n", k->name,
                 (long long)k->galaxies, (long long)k->spectra,
                 (long long)(k->galaxies - k->spectra), (long long)k->zwarn, k->zmin, k->zmedian,
                 k->zmax);
        expect_line(text, line);
    }
    /* classes appear in canonical order: the first class line is the truth's first class */
    snprintf(line, sizeof line, "class %s ", t->cls[0].name);
    assert_non_null(strstr(text, line));
    assert_true(strstr(text, line) == strstr(text, "class "));
    /* worst tiles: their null counts are the truth's, and no unlisted tile is worse */
    const char *p = text;
    int listed = 0;
    double worst_listed = 2;
    while ((p = strstr(p, "worst ")) != NULL) {
        char path[256], zero[32], zero_pct[32], want[32];
        long long nulls;
        assert_int_equal(sscanf(p, "worst %255s %lld %31s %31s", path, &nulls, zero, zero_pct), 4);
        const tds_tile *tt = truth_tile(t, path);
        assert_non_null(tt);
        assert_int_equal(nulls, tt->nulls);
        snprintf(want, sizeof want, "%lld", (long long)tt->ivar_zero);
        assert_string_equal(zero, tt->has_stats ? want : "n/a");
        pct_text(want, sizeof want, tt->ivar_zero, tt->values);
        assert_string_equal(zero_pct, tt->has_stats ? want : "n/a");
        double frac = (double)tt->nulls / (double)tt->values;
        assert_true(frac <= worst_listed);
        worst_listed = frac;
        listed++;
        p++;
    }
    assert_int_equal(listed, t->num_tiles < 3 ? t->num_tiles : 3);
    for (int64_t i = 0; i < t->num_tiles; i++) {
        assert_true((double)t->tiles[i].nulls / (double)t->tiles[i].values <= worst_listed ||
                    strstr(text, t->tiles[i].path));
    }
    check_pixel_numbers(t, text);
}

static void test_numbers(void **state) {
    fixture *f = *state;
    assert_true(f->truth.galaxies == 1200);
    assert_true(f->truth.catalog_without_spectra > 0); /* spectra_fraction 0.9 */
    assert_true(f->truth.flux_nulls > 0);
    assert_int_equal(f->truth.stats_tiles, f->truth.num_tiles); /* ard's writer: every tile */
    for (int32_t c = 0; c < f->truth.num_classes; c++) {
        const tds_class *k = &f->truth.cls[c];
        assert_int_equal(k->pix_rows, k->spectra); /* classes of the spectra = catalog's */
        assert_true(k->flux_null > 0 && k->ivar_zero >= k->flux_null);
    }
    char *text = render_with(f, test_template);
    check_numbers(f, text);
    ard_free(text);
}

/* The histogram behind figures/redshift.svg against z < edge counts of the truth. */
static void test_histogram(void **state) {
    fixture *f = *state;
    ds_model m;
    ds_agg a;
    memset(&a, 0, sizeof a);
    assert_int_equal(ard__ds_model_init(&m, NULL), ARD_OK);
    assert_int_equal(ard__ds_aggregate(f->dir, f->idx, 10, &m, &a, NULL), ARD_OK);
    assert_int_equal(a.num_classes, f->truth.num_classes);
    assert_true(a.num_bins > 1 && a.num_bins <= DS_MAX_BINS);
    for (int32_t c = 0; c < a.num_classes; c++) {
        const tds_class *k = &f->truth.cls[c];
        assert_string_equal(a.class_names[c], k->name);
        assert_true(k->zmin >= a.z_lo && k->zmax < a.z_lo + a.num_bins * a.z_width);
        int64_t total = 0;
        for (int32_t b = 0; b < a.num_bins; b++) {
            double lo = a.z_lo + b * a.z_width, hi = a.z_lo + (b + 1) * a.z_width;
            int64_t want = 0;
            for (int64_t i = 0; i < k->nz; i++) {
                want += (b == 0 || k->z[i] >= lo) && (b + 1 == a.num_bins || k->z[i] < hi);
            }
            assert_int_equal(a.hist[c][b], want);
            total += a.hist[c][b];
        }
        assert_int_equal(total, k->galaxies);
    }
    assert_int_equal(a.num_tiles, f->truth.num_tiles);
    for (int64_t i = 0; i < a.num_tiles; i++) {
        assert_string_equal(a.tiles[i].path, f->truth.tiles[i].path);
        assert_int_equal(a.tiles[i].flux_nulls, f->truth.tiles[i].nulls);
        assert_int_equal(a.tiles[i].flux_values, f->truth.tiles[i].values);
        assert_int_equal(a.tiles[i].rows, f->truth.tiles[i].rows);
    }
    ard_buf b;
    ard_buf_init(&b);
    ard__ds_svg_redshift(&a, &b);
    ard_buf_append(&b, "", 1);
    assert_non_null(strstr((const char *)b.data, "<svg "));
    for (int32_t c = 0; c < a.num_classes; c++) {
        assert_non_null(strstr((const char *)b.data, a.class_names[c]));
    }
    ard_buf_reset(&b);
    ard__ds_svg_sky(&a, &b);
    ard_buf_append(&b, "", 1);
    /* one marker per distinct occupied pixel */
    int64_t rects = 0;
    for (const char *p = (const char *)b.data; (p = strstr(p, "width=\"2.5\"")) != NULL; p++) {
        rects++;
    }
    assert_int_equal(rects, f->truth.distinct_pixels);
    ard_buf_reset(&b);
    ard__ds_agg_reset(&a);
    ard__ds_model_reset(&m);
}

static char *write_and_read(fixture *f, const char *out_dir, char **figs) {
    static const char *const names[3] = {"redshift.svg", "sky.svg", "completeness.svg"};
    ard_datasheet_options o;
    memset(&o, 0, sizeof o);
    char out[512];
    snprintf(out, sizeof out, "%s/DATA_README.md", out_dir);
    o.out_path = out;
    ard_error err;
    ard_error_init(&err);
    if (ard_datasheet_write(f->dir, f->idx, &o, &err) != ARD_OK) {
        fail_msg("write: %s", err.msg);
    }
    for (int i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/figures/%s", out_dir, names[i]);
        figs[i] = tds_read_file(p, NULL);
        assert_non_null(figs[i]);
        assert_true(strncmp(figs[i], "<?xml", 5) == 0);
    }
    char *md = tds_read_file(out, NULL);
    assert_non_null(md);
    return md;
}

/* The default template renders every section; a no-op re-sync and a second write give the same
 * bytes. */
static void test_default_identical(void **state) {
    fixture *f = *state;
    char *figs1[3], *figs2[3];
    char *md1 = write_and_read(f, f->dir, figs1);
    static const char *const sections[] = {"## 1. Motivation",
                                           "## 2. Composition",
                                           "## 3. Collection process",
                                           "## 4. Preprocessing",
                                           "## 5. Uses",
                                           "## 6. Distribution",
                                           "## 7. Maintenance",
                                           "figures/redshift.svg",
                                           "figures/sky.svg",
                                           "figures/completeness.svg",
                                           ("index schema version " SCHEMA_TEXT),
                                           "**WARNING",
                                           "IVAR = 0 pixels (%)",
                                           "| BGS | ",
                                           "generate seed=7"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        if (!strstr(md1, sections[i])) {
            fail_msg("missing \"%s\" in the datasheet:\n%s", sections[i], md1);
        }
    }
    assert_null(strstr(md1, "{{"));
    ard_sync_options o;
    memset(&o, 0, sizeof o);
    o.quiet = 1;
    ard_sync_report rep;
    assert_int_equal(ard_index_sync(f->idx, f->dir, &o, &rep, NULL), ARD_OK);
    assert_int_equal(rep.files_unchanged, rep.files_seen);
    char *md2 = write_and_read(f, f->dir, figs2);
    assert_string_equal(md1, md2);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(figs1[i], figs2[i]);
        ard_free(figs1[i]);
        ard_free(figs2[i]);
    }
    ard_free(md1);
    ard_free(md2);
}

static void render_error(const char *tmpl, const char *want) {
    ds_model m;
    assert_int_equal(ard__ds_model_init(&m, NULL), ARD_OK);
    ard_buf b;
    ard_buf_init(&b);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard__ds_render(&m, tmpl, "t.md", &b, &err), ARD_EINVAL);
    if (!strstr(err.msg, want)) {
        fail_msg("error \"%s\" does not contain \"%s\"", err.msg, want);
    }
    ard_buf_reset(&b);
    ard__ds_model_reset(&m);
}

static void test_template_errors(void **state) {
    render_error("a\nb\nx {{nope}} y\n", "t.md:3: unknown placeholder {{nope}}");
    render_error("{{#nosuch}}\n{{/nosuch}}\n", "t.md:1: unknown table {{#nosuch}}");
    render_error("\n{{#classes}}\n| {{class}} |\n", "t.md:2: {{#classes}} is not closed");
    render_error("{{#classes}}\n{{/spectypes}}\n",
                 "t.md:1: {{#classes}} is not closed by {{/classes}}");
    render_error("x\n{{/classes}}\n", "t.md:2: {{/classes}} without a matching {{#classes}}");
    render_error("{{#classes}}\n{{#spectypes}}\n{{/classes}}\n", "t.md:2: sections cannot nest");
    render_error("{{#classes}}\n{{bogus}}\n{{/classes}}\n", "t.md:2: unknown placeholder");
    render_error("ok {{ galaxies_total\n", "t.md:1: malformed placeholder");
    render_error("{{class}}\n", "t.md:1: unknown placeholder {{class}}"); /* a column outside */
    /* a valid template with an empty table and escaping */
    ds_model m;
    assert_int_equal(ard__ds_model_init(&m, NULL), ARD_OK);
    assert_int_equal(ard__ds_set(&m, "source", "a|b\nc"), ARD_OK);
    const char *cells[2] = {"k", "v|w"};
    assert_int_equal(ard__ds_row(ard__ds_table_get(&m, "settings"), cells, NULL), ARD_OK);
    ard_buf b;
    ard_buf_init(&b);
    assert_int_equal(
        ard__ds_render(&m,
                       "s={{source}}\n  {{#settings}}\n[{{key}}={{value}} {{source}}]\n"
                       "  {{/settings}}\n{{#grids}}\nnever\n{{/grids}}\nend\n",
                       "t", &b, NULL),
        ARD_OK);
    ard_buf_append(&b, "", 1);
    assert_string_equal((const char *)b.data, "s=a\\|b c\n[k=v\\|w a\\|b c]\nend\n");
    ard_buf_reset(&b);
    ard__ds_model_reset(&m);
    /* a missing template file */
    fixture *f = *state;
    ard_datasheet_options o;
    memset(&o, 0, sizeof o);
    o.template_path = "/nonexistent/template.md";
    ard_buf_init(&b);
    assert_int_equal(ard_datasheet_render(f->dir, f->idx, &o, &b, NULL), ARD_ENOENT);
    ard_buf_reset(&b);
}

/* The same data synced into PostgreSQL gives the same datasheet, byte for byte. */
static void test_pg_same(void **state) {
    fixture *f = *state;
    const char *dsn = getenv("ARD_TEST_PG_DSN");
    if (!dsn || !*dsn) {
        fprintf(stderr, "SKIPPED: PostgreSQL datasheet test: ARD_TEST_PG_DSN is not set"
                        " (tests/datasheet/datasheet_pg.sh starts a throwaway server)\n");
        skip();
    }
    ard_index *pg = tds_sync(f->dir, dsn);
    assert_non_null(pg);
    assert_string_equal(ard_index_backend(pg), "postgresql");
    ard_buf a, b;
    ard_buf_init(&a);
    ard_buf_init(&b);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_datasheet_render(f->dir, f->idx, NULL, &a, &err), ARD_OK);
    if (ard_datasheet_render(f->dir, pg, NULL, &b, &err) != ARD_OK) {
        fail_msg("pg render: %s", err.msg);
    }
    ard_buf_append(&a, "", 1);
    ard_buf_append(&b, "", 1);
    assert_string_equal((const char *)a.data, (const char *)b.data);
    ard_buf_reset(&a);
    ard_buf_reset(&b);
    ard_index_close(pg);
}

static const char *hash_of(const char *text, char *out, size_t cap) {
    const char *h = strstr(text, "hash ");
    assert_non_null(h);
    snprintf(out, cap, "%.*s", (int)strcspn(h, "\n"), h);
    return out;
}

/* Nulling pixels in one tile changes the content hash and exactly that tile's numbers. */
static void test_changed_tile(void **state) {
    fixture *f = *state;
    char *before = render_with(f, test_template);
    const char *rel = f->truth.tiles[0].path;
    int64_t old_nulls = f->truth.tiles[0].nulls, old_zero = f->truth.tiles[0].ivar_zero;
    assert_int_equal(tds_null_pixels(f->dir, rel, 37), 0);
    ard_sync_options o;
    memset(&o, 0, sizeof o);
    o.quiet = 1;
    ard_sync_report rep;
    assert_int_equal(ard_index_sync(f->idx, f->dir, &o, &rep, NULL), ARD_OK);
    assert_int_equal(rep.files_changed, 1);
    tds_truth_reset(&f->truth);
    assert_int_equal(tds_truth_compute(f->dir, &f->truth), 0);
    assert_int_equal(f->truth.tiles[0].nulls, old_nulls + 37);
    assert_int_equal(f->truth.tiles[0].ivar_zero, old_zero + 2 * 37);
    char *after = render_with(f, test_template);
    check_numbers(f, after);
    char h1[64], h2[64];
    assert_string_not_equal(hash_of(before, h1, sizeof h1), hash_of(after, h2, sizeof h2));
    assert_string_not_equal(before, after);
    ard_free(before);
    ard_free(after);
}

/* A tile rewritten without ard.pixel_stats (another writer): sync indexes it without statistics,
 * and the datasheet says how many tiles and spectra its per-class and IVAR = 0 shares leave out;
 * the numbers cover the other tiles only. Runs after test_changed_tile on the modified dataset. */
static void test_missing_pixel_stats(void **state) {
    fixture *f = *state;
    const char *rel = f->truth.tiles[1].path;
    assert_int_equal(tds_drop_pixel_stats(f->dir, rel), 0);
    ard_sync_options o;
    memset(&o, 0, sizeof o);
    o.quiet = 1;
    ard_sync_report rep;
    assert_int_equal(ard_index_sync(f->idx, f->dir, &o, &rep, NULL), ARD_OK);
    assert_int_equal(rep.files_changed, 1);
    assert_int_equal(rep.files_failed, 0);
    tds_truth_reset(&f->truth);
    assert_int_equal(tds_truth_compute(f->dir, &f->truth), 0);
    assert_int_equal(f->truth.stats_tiles, f->truth.num_tiles - 1);
    assert_true(f->truth.stats_rows_missing > 0);
    char *text = render_with(f, test_template);
    check_numbers(f, text);
    ard_free(text);
    ard_buf b;
    ard_buf_init(&b);
    assert_int_equal(ard_datasheet_render(f->dir, f->idx, NULL, &b, NULL), ARD_OK);
    ard_buf_append(&b, "", 1);
    char want[256];
    snprintf(want, sizeof want, "**WARNING: 1 of %lld tiles (%lld spectra) carry no",
             (long long)f->truth.num_tiles, (long long)f->truth.stats_rows_missing);
    assert_non_null(strstr((const char *)b.data, want));
    ard_buf_reset(&b);
}

/* A complete survey: the linkage line says OK, no warning. */
static void test_linkage_ok(void **state) {
    (void)state;
    char dir[256];
    assert_int_equal(tds_generate(dir, sizeof dir, 150, 3, 1.0), 0);
    ard_index *idx = tds_sync(dir, NULL);
    assert_non_null(idx);
    ard_buf b;
    ard_buf_init(&b);
    assert_int_equal(ard_datasheet_render(dir, idx, NULL, &b, NULL), ARD_OK);
    ard_buf_append(&b, "", 1);
    assert_non_null(strstr((const char *)b.data, "OK: every catalog row has a spectrum"));
    assert_null(strstr((const char *)b.data, "WARNING"));
    ard_buf_reset(&b);
    /* without the catalog every spectrum is an orphan, and the datasheet says so */
    char cat[512];
    snprintf(cat, sizeof cat, "%s/catalog/zcatalog-0000.parquet", dir);
    assert_int_equal(unlink(cat), 0);
    ard_sync_options o;
    memset(&o, 0, sizeof o);
    o.quiet = 1;
    ard_sync_report rep;
    assert_int_equal(ard_index_sync(idx, dir, &o, &rep, NULL), ARD_OK);
    assert_int_equal(rep.files_removed, 1);
    ard_buf_init(&b);
    assert_int_equal(ard_datasheet_render(dir, idx, NULL, &b, NULL), ARD_OK);
    ard_buf_append(&b, "", 1);
    assert_non_null(strstr((const char *)b.data,
                           "**WARNING: the linkage is incomplete: 0 catalog row(s)"
                           " without a spectrum, 150 spectrum/spectra without a"
                           " catalog row.**"));
    assert_non_null(strstr((const char *)b.data, "no catalog row: 150\n"));
    ard_buf_reset(&b);
    ard_index_close(idx);
    tds_rmtree(dir);
}

void test_sync_stage_datasheet(void **state); /* tds_sync_stage.c */

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_default_identical),
        cmocka_unit_test(test_template_errors),
        cmocka_unit_test(test_pg_same),
        cmocka_unit_test(test_changed_tile), /* these two modify the shared dataset */
        cmocka_unit_test(test_missing_pixel_stats),
        cmocka_unit_test(test_linkage_ok),
        cmocka_unit_test(test_summary_maintained),
        cmocka_unit_test(test_linkage_fresh),
        cmocka_unit_test(test_median_paths),
        cmocka_unit_test(test_sync_stage_datasheet),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
