/* The aggregates sync keeps for the datasheet (catalog_summary, catalog_zhist, catalog_linkage +
 * meta 'linkage_distinct_spectra') stay equal to the same numbers computed from galaxies and
 * spectra by other SQL, after a catalog file is added, changed and removed; and SQLite and
 * PostgreSQL (when ARD_TEST_PG_DSN names a server) give the same datasheet at every step. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/parquet_write.h"
#include "datasheet_int.h"
#include "tds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every row of a SELECT as one string (cells joined by '|', NULL as "<null>"), sorted. */
typedef struct row_set {
    char **rows;
    int64_t n, cap;
} row_set;

static int collect_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    row_set *s = ctx;
    ard_buf b;
    ard_buf_init(&b);
    for (int32_t i = 0; i < n; i++) {
        ard_buf_appendf(&b, "%s%s", i ? "|" : "", v[i] ? v[i] : "<null>");
    }
    ard_buf_append(&b, "", 1);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->rows = realloc(s->rows, (size_t)s->cap * sizeof *s->rows);
    }
    s->rows[s->n++] = strdup((const char *)b.data);
    ard_buf_reset(&b);
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static row_set select_rows(ard_index *idx, const char *sql) {
    row_set s = {0};
    ard_error err;
    ard_error_init(&err);
    if (ard_index_select(idx, sql, collect_row, &s, &err) != ARD_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    if (s.n > 1) {
        qsort(s.rows, (size_t)s.n, sizeof *s.rows, cmp_str);
    }
    return s;
}

static void row_set_free(row_set *s) {
    for (int64_t i = 0; i < s->n; i++) {
        free(s->rows[i]);
    }
    free(s->rows);
    memset(s, 0, sizeof *s);
}

static void assert_same_rows(ard_index *idx, const char *what, const char *sql_a,
                             const char *sql_b) {
    row_set a = select_rows(idx, sql_a), b = select_rows(idx, sql_b);
    if (a.n != b.n) {
        fail_msg("%s (%s): %lld rows, expected %lld", what, ard_index_backend(idx), (long long)a.n,
                 (long long)b.n);
    }
    for (int64_t i = 0; i < a.n; i++) {
        if (strcmp(a.rows[i], b.rows[i]) != 0) {
            fail_msg("%s (%s): row %lld is %s, expected %s", what, ard_index_backend(idx),
                     (long long)i, a.rows[i], b.rows[i]);
        }
    }
    row_set_free(&a);
    row_set_free(&b);
}

static int64_t one_int(ard_index *idx, const char *sql) {
    row_set s = select_rows(idx, sql);
    assert_int_equal(s.n, 1);
    int64_t v = strtoll(s.rows[0], NULL, 10);
    row_set_free(&s);
    return v;
}

/* Every catalog_zhist row holds exactly the galaxies whose Z lies between its documented edges,
 * and the rows together hold every non-NULL Z. */
static void check_zhist(ard_index *idx) {
    row_set h = select_rows(idx, "SELECT file_id, target_class, z_bin, num FROM catalog_zhist");
    for (int64_t i = 0; i < h.n; i++) {
        char cls[64] = "";
        long long file = 0, bin = 0, num = 0;
        char *p = h.rows[i];
        file = strtoll(p, &p, 10);
        p++;
        size_t len = strcspn(p, "|");
        snprintf(cls, sizeof cls, "%.*s", (int)len, p);
        p += len + 1;
        bin = strtoll(p, &p, 10);
        num = strtoll(p + 1, NULL, 10);
        char sql[512];
        char where[96];
        if (strcmp(cls, "<null>") == 0) {
            snprintf(where, sizeof where, "target_class IS NULL");
        } else {
            snprintf(where, sizeof where, "target_class = '%s'", cls);
        }
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM galaxies WHERE catalog_file_id = %lld AND %s"
                 " AND z >= %.17g AND z < %.17g",
                 file, where, (double)bin * ARD_INDEX_ZBIN_WIDTH,
                 (double)(bin + 1) * ARD_INDEX_ZBIN_WIDTH);
        if (one_int(idx, sql) != num) {
            fail_msg("catalog_zhist row %s (%s): galaxies hold %lld", h.rows[i],
                     ard_index_backend(idx), (long long)one_int(idx, sql));
        }
    }
    row_set_free(&h);
    assert_int_equal(one_int(idx, "SELECT COALESCE(sum(num), 0) FROM catalog_zhist"),
                     one_int(idx, "SELECT count(z) FROM galaxies"));
}

/* The stored aggregates against the same numbers computed from galaxies and spectra. */
static void check_stored(ard_index *idx) {
    assert_same_rows(idx, "catalog_summary",
                     "SELECT file_id, target_class, spectype, num_rows, zwarn_nonzero, z_count,"
                     " z_min, z_max, ra_min, ra_max, dec_min, dec_max FROM catalog_summary",
                     "SELECT catalog_file_id, target_class, spectype, count(*),"
                     " sum(CASE WHEN zwarn <> 0 THEN 1 ELSE 0 END), count(z), min(z), max(z),"
                     " min(target_ra), max(target_ra), min(target_dec), max(target_dec)"
                     " FROM galaxies GROUP BY catalog_file_id, target_class, spectype");
    check_zhist(idx);
    assert_same_rows(idx, "catalog_linkage",
                     "SELECT target_class, without_spectrum FROM catalog_linkage",
                     "SELECT g.target_class, count(*) FROM galaxies g LEFT JOIN spectra s"
                     " ON s.targetid = g.targetid WHERE s.targetid IS NULL"
                     " GROUP BY g.target_class");
    assert_int_equal(one_int(idx, "SELECT count(*) FROM meta WHERE key = 'linkage_by_class'"), 1);
    assert_same_rows(idx, "linkage_distinct_spectra",
                     "SELECT value FROM meta WHERE key = 'linkage_distinct_spectra'",
                     "SELECT CAST(count(*) AS TEXT) FROM"
                     " (SELECT targetid FROM spectra GROUP BY targetid) t");
}

/* A catalog row's redshift and class, when a test chooses them. */
typedef struct cat_row {
    double z;
    int z_null;
    const char *cls; /* NULL: SQL NULL; at most 7 characters */
} cat_row;

/* A catalog file of n rows with TARGETIDs base, base + 1, ...: NULL and NaN redshifts, negative
 * ones, redshifts exactly on bin edges, NULL classes and SPECTYPEs; `variant` shifts the values.
 * With `rows`, the redshifts and classes are rows[i]'s instead. */
static void write_catalog_rows(const char *path, int64_t base, int64_t n, int variant,
                               const cat_row *rows) {
    static const char *const classes[] = {"BGS", "LRG", "ELG", "QSO", "MWS"};
    static const char *const types[] = {"GALAXY", "QSO", "STAR"};
    ard_error e;
    ard_error_init(&e);
    ard_pq_schema_builder *sb = NULL;
    ard_pq_logical str = {0};
    str.kind = ARD_PQ_LT_STRING;
    assert_int_equal(ard_pq_schema_new(&sb, &e), ARD_OK);
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "Z", ARD_PQ_DOUBLE, ARD_PQ_OPTIONAL, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "ZWARN", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "SPECTYPE", ARD_PQ_BYTE_ARRAY, ARD_PQ_OPTIONAL, &str, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "TARGET_CLASS", ARD_PQ_BYTE_ARRAY, ARD_PQ_OPTIONAL, &str, 0, NULL,
                             &e);
    ard_pq_schema_add_column(sb, "TARGET_RA", ARD_PQ_DOUBLE, ARD_PQ_REQUIRED, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "TARGET_DEC", ARD_PQ_DOUBLE, ARD_PQ_REQUIRED, NULL, 0, NULL, &e);
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, NULL, &w, &e), ARD_OK);
    ard_pq_schema_free(sb);
    int64_t *ids = calloc((size_t)n, 8), *zwarn = calloc((size_t)n, 8);
    double *z = calloc((size_t)n, 8), *ra = calloc((size_t)n, 8), *dec = calloc((size_t)n, 8);
    int64_t *type_off = calloc((size_t)n + 1, 8), *class_off = calloc((size_t)n + 1, 8);
    uint8_t *z_ok = calloc((size_t)n / 8 + 1, 1), *type_ok = calloc((size_t)n / 8 + 1, 1);
    uint8_t *class_ok = calloc((size_t)n / 8 + 1, 1);
    char *type_text = calloc((size_t)n, 8), *class_text = calloc((size_t)n, 8);
    int64_t type_at = 0, class_at = 0;
    for (int64_t i = 0; i < n; i++) {
        ids[i] = base + i;
        double edge = (double)(i % 60) * ARD_INDEX_ZBIN_WIDTH;
        z[i] = i % 19 == 0   ? edge                  /* on a bin edge */
               : i % 29 == 1 ? nextafter(edge, -1e9) /* just below one */
               : i % 23 == 5 ? NAN                   /* stored as NULL */
                             : (double)((i * 137 + variant * 71) % 4000) / 1000.0 - 0.01;
        z[i] = rows ? rows[i].z : z[i];
        z_ok[i / 8] |= (uint8_t)((rows ? !rows[i].z_null : i % 17 != 3) << (i % 8));
        zwarn[i] = (i + variant) % 4 == 0 ? 4 : 0;
        ra[i] = (double)((i * 7919 + variant) % 36000) / 100.0;
        dec[i] = (double)((i * 104729) % 18000) / 100.0 - 90.0 + variant;
        type_off[i] = type_at;
        class_off[i] = class_at;
        if (i % 13 != 0) {
            type_ok[i / 8] |= (uint8_t)(1u << (i % 8));
            const char *t = types[(i + variant) % 3];
            memcpy(type_text + type_at, t, strlen(t));
            type_at += (int64_t)strlen(t);
        }
        if (rows ? rows[i].cls != NULL : i % 11 != 0) {
            class_ok[i / 8] |= (uint8_t)(1u << (i % 8));
            const char *c = rows ? rows[i].cls : classes[(i * 7 + variant) % 5];
            memcpy(class_text + class_at, c, strlen(c));
            class_at += (int64_t)strlen(c);
        }
    }
    type_off[n] = type_at;
    class_off[n] = class_at;
    assert_int_equal(ard_pq_writer_write_column(w, 0, ids, NULL, n, &e), ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 1, z, z_ok, n, &e), ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 2, zwarn, NULL, n, &e), ARD_OK);
    assert_int_equal(
        ard_pq_writer_write_binary(w, 3, type_off, (const uint8_t *)type_text, type_ok, n, &e),
        ARD_OK);
    assert_int_equal(
        ard_pq_writer_write_binary(w, 4, class_off, (const uint8_t *)class_text, class_ok, n, &e),
        ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 5, ra, NULL, n, &e), ARD_OK);
    assert_int_equal(ard_pq_writer_write_column(w, 6, dec, NULL, n, &e), ARD_OK);
    if (ard_pq_writer_close(w, &e) != ARD_OK) {
        fail_msg("write %s: %s", path, e.msg);
    }
    free(ids);
    free(zwarn);
    free(z);
    free(ra);
    free(dec);
    free(type_off);
    free(class_off);
    free(z_ok);
    free(type_ok);
    free(class_ok);
    free(type_text);
    free(class_text);
}

static void write_catalog(const char *path, int64_t base, int64_t n, int variant) {
    write_catalog_rows(path, base, n, variant, NULL);
}

static const char *const summary_template =
    "galaxies {{galaxies_total}} spectra {{spectra_total}} orphans {{spectra_without_catalog}}"
    " nospec {{catalog_without_spectra}} zwarn {{zwarn_nonzero}} {{zwarn_nonzero_pct}}\n"
    "z {{z_min}} {{z_max}} ra {{ra_min}} {{ra_max}} dec {{dec_min}} {{dec_max}}\n"
    "{{linkage_status}}\n"
    "{{#classes}}\n"
    "class {{class}} {{galaxies}} {{spectra}} {{missing}} {{zwarn_nonzero}} {{z_min}} {{z_median}} "
    "{{z_max}}\n"
    "{{/classes}}\n";

/* The datasheet of idx rendered with TEMPLATE (written to DIR/NAME) into b. */
static void render_with(const char *dir, ard_index *idx, const char *name, const char *template,
                        ard_buf *b) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(tds_write_file(path, template), 0);
    ard_datasheet_options o;
    memset(&o, 0, sizeof o);
    o.template_path = path;
    ard_buf_init(b);
    ard_error err;
    ard_error_init(&err);
    if (ard_datasheet_render(dir, idx, &o, b, &err) != ARD_OK) {
        fail_msg("render (%s): %s", ard_index_backend(idx), err.msg);
    }
}

/* The catalog part of the datasheet plus its redshift histogram, as text. */
static char *catalog_text(const char *dir, ard_index *idx) {
    ard_buf b;
    render_with(dir, idx, "summary-template.md", summary_template, &b);
    ds_model m;
    ds_agg a;
    memset(&a, 0, sizeof a);
    assert_int_equal(ard__ds_model_init(&m, NULL), ARD_OK);
    assert_int_equal(ard__ds_aggregate(dir, idx, 3, &m, &a, NULL), ARD_OK);
    ard_buf_appendf(&b, "bins %d from %.17g by %.17g\n", a.num_bins, a.z_lo, a.z_width);
    for (int32_t c = 0; c < a.num_classes; c++) {
        ard_buf_appendf(&b, "%s:", a.class_names[c]);
        for (int32_t k = 0; k < a.num_bins; k++) {
            ard_buf_appendf(&b, " %lld", (long long)a.hist[c][k]);
        }
        ard_buf_appendf(&b, "\n");
    }
    ard__ds_agg_reset(&a);
    ard__ds_model_reset(&m);
    ard_buf_append(&b, "", 1);
    return (char *)b.data;
}

/* Syncs every index; `failed` files must fail, and with added >= 0 the counts must be these; the
 * stored aggregates are checked after. */
static void sync_counts(const char *dir, ard_index *const *idx, int n, int64_t added,
                        int64_t changed, int64_t removed, int64_t failed) {
    for (int i = 0; i < n; i++) {
        ard_sync_options o;
        memset(&o, 0, sizeof o);
        o.quiet = 1;
        o.threads = 2;
        ard_sync_report rep;
        ard_error err;
        ard_error_init(&err);
        if (ard_index_sync(idx[i], dir, &o, &rep, &err) != ARD_OK) {
            fail_msg("sync (%s): %s", ard_index_backend(idx[i]), err.msg);
        }
        if (added >= 0) {
            assert_int_equal(rep.files_added, added);
            assert_int_equal(rep.files_changed, changed);
            assert_int_equal(rep.files_removed, removed);
        }
        assert_int_equal(rep.files_failed, failed);
        check_stored(idx[i]);
    }
}

static void sync_all(const char *dir, ard_index *const *idx, int n, int64_t added, int64_t changed,
                     int64_t removed) {
    sync_counts(dir, idx, n, added, changed, removed, 0);
}

/* Both backends agree at this step (PostgreSQL only when a server is given). */
static void same_datasheet(const char *dir, ard_index *const *idx, int n) {
    char *first = catalog_text(dir, idx[0]);
    for (int i = 1; i < n; i++) {
        char *other = catalog_text(dir, idx[i]);
        assert_string_equal(first, other);
        ard_free(other);
    }
    ard_free(first);
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* Tile changes go through the linkage's delta path (few TARGETIDs): a tile removed, put back,
 * replaced by another tile's content (its TARGETIDs then have two spectra, the replaced ones
 * none), and restored. */
static void tile_steps(const char *dir, ard_index *const *idx, int n) {
    row_set t = select_rows(idx[0], "SELECT path FROM files WHERE kind = 'tile'");
    assert_true(t.n >= 2);
    char a[512], b[512], keep[512];
    snprintf(a, sizeof a, "%s/%s", dir, t.rows[0]);
    snprintf(b, sizeof b, "%s/%s", dir, t.rows[1]);
    snprintf(keep, sizeof keep, "%s/tile-a.bak", dir);
    row_set_free(&t);
    int64_t nospec =
        one_int(idx[0], "SELECT COALESCE(sum(without_spectrum), 0) FROM catalog_linkage");
    copy_file(a, keep);
    assert_int_equal(unlink(a), 0);
    sync_all(dir, idx, n, 0, 0, 1);
    assert_true(one_int(idx[0], "SELECT COALESCE(sum(without_spectrum), 0) FROM catalog_linkage") >
                nospec);
    same_datasheet(dir, idx, n);
    copy_file(keep, a);
    sync_all(dir, idx, n, 1, 0, 0);
    assert_int_equal(
        one_int(idx[0], "SELECT COALESCE(sum(without_spectrum), 0) FROM catalog_linkage"), nospec);
    copy_file(b, a);
    sync_all(dir, idx, n, 0, 1, 0);
    same_datasheet(dir, idx, n);
    copy_file(keep, a);
    sync_all(dir, idx, n, 0, 1, 0);
    assert_int_equal(unlink(keep), 0);
}

/* Opens the index of dir on SQLite and, when ARD_TEST_PG_DSN names a server, on PostgreSQL;
 * returns how many. */
static int open_both(const char *dir, const char *test, ard_index *idx[2]) {
    const char *dsn = getenv("ARD_TEST_PG_DSN");
    int n = dsn && *dsn ? 2 : 1;
    if (n == 1) {
        fprintf(stderr,
                "SKIPPED (PostgreSQL half of %s): ARD_TEST_PG_DSN is not set"
                " (tests/datasheet/datasheet_pg.sh starts a throwaway server)\n",
                test);
    }
    for (int i = 0; i < n; i++) {
        assert_int_equal(ard_index_open(dir, i ? dsn : NULL, 0, &idx[i], NULL), ARD_OK);
    }
    return n;
}

void test_summary_maintained(void **state) {
    (void)state;
    char dir[256], path[512];
    assert_int_equal(tds_generate(dir, sizeof dir, 400, 11, 0.8), 0);
    ard_index *idx[2] = {NULL, NULL};
    int n = open_both(dir, "test_summary_maintained", idx);
    sync_all(dir, idx, n, -1, 0, 0);
    same_datasheet(dir, idx, n);
    /* added: a second catalog file whose galaxies have no spectra */
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0900.parquet", dir);
    write_catalog(path, 900000000000, 700, 0);
    sync_all(dir, idx, n, 1, 0, 0);
    assert_int_equal(one_int(idx[0], "SELECT count(*) FROM catalog_linkage WHERE target_class"
                                     " = 'MWS'"),
                     1);
    same_datasheet(dir, idx, n);
    /* changed: other rows, other values */
    write_catalog(path, 900000000100, 450, 1);
    sync_all(dir, idx, n, 0, 1, 0);
    same_datasheet(dir, idx, n);
    tile_steps(dir, idx, n);
    /* removed: the generated catalog, so every spectrum loses its catalog row */
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0000.parquet", dir);
    assert_int_equal(unlink(path), 0);
    sync_all(dir, idx, n, 0, 0, 1);
    assert_int_equal(one_int(idx[0], "SELECT count(*) FROM catalog_summary WHERE file_id NOT IN"
                                     " (SELECT id FROM files)"),
                     0);
    same_datasheet(dir, idx, n);
    /* an unchanged re-sync keeps the stored linkage valid */
    sync_all(dir, idx, n, 0, 0, 0);
    for (int i = 0; i < n; i++) {
        ard_index_close(idx[i]);
    }
    tds_rmtree(dir);
}

/* Moves catalog files 0000 and 0900 (and 0901 when present) aside (back = 0) or back. */
static void catalogs_aside(const char *dir, int back) {
    static const char *const names[] = {"0000", "0900", "0901"};
    for (int k = 0; k < 3; k++) {
        char path[512], aside[600];
        snprintf(path, sizeof path, "%s/catalog/zcatalog-%s.parquet", dir, names[k]);
        snprintf(aside, sizeof aside, "%s/aside-%s", dir, names[k]);
        const char *from = back ? aside : path, *to = back ? path : aside;
        if (access(from, F_OK) == 0) {
            assert_int_equal(rename(from, to), 0);
        }
    }
}

/* A catalog loaded into an empty galaxies gets its per-class linkage counted in the client, from
 * the rows it loaded and row_groups.targetids (linkage_fresh.c), instead of the anti-join on the
 * server. Checked against that anti-join (check_stored) with TARGETIDs in two tiles, spectra
 * without a catalog row, catalog rows without a spectrum, NULL classes, two catalog files (one
 * window each on SQLite), a load in which a file fails (the client's lists must be dropped
 * with it: its rows were counted before its window rolled back), and a load in the same sync as a
 * tile's removal (the spectra TARGETIDs read after it, not ahead of the load). */
void test_linkage_fresh(void **state) {
    (void)state;
    char dir[256], path[512];
    assert_int_equal(tds_generate(dir, sizeof dir, 300, 29, 0.7), 0);
    ard_index *idx[2] = {NULL, NULL};
    int n = open_both(dir, "test_linkage_fresh", idx);
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0900.parquet", dir);
    write_catalog(path, 900000000000, 500, 0); /* no spectra; NULL classes */
    sync_all(dir, idx, n, -1, 0, 0);
    /* tile b's spectra also in tile a: TARGETIDs with two spectra, a's with none */
    row_set t = select_rows(idx[0], "SELECT path FROM files WHERE kind = 'tile'");
    assert_true(t.n >= 3);
    char a[512], b[512], c[512], aside[600];
    snprintf(a, sizeof a, "%s/%s", dir, t.rows[0]);
    snprintf(b, sizeof b, "%s/%s", dir, t.rows[1]);
    snprintf(c, sizeof c, "%s/%s", dir, t.rows[2]);
    row_set_free(&t);
    copy_file(b, a);
    sync_all(dir, idx, n, 0, 1, 0);
    int64_t nospec =
        one_int(idx[0], "SELECT COALESCE(sum(without_spectrum), 0) FROM catalog_linkage");
    assert_true(nospec > 500);
    /* galaxies emptied, then loaded again: fresh on both backends */
    catalogs_aside(dir, 0);
    sync_all(dir, idx, n, 0, 0, 2);
    catalogs_aside(dir, 1);
    sync_all(dir, idx, n, 2, 0, 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(
            one_int(idx[i], "SELECT COALESCE(sum(without_spectrum), 0) FROM catalog_linkage"),
            nospec);
    }
    same_datasheet(dir, idx, n);
    /* the same, with a third file repeating 0900's TARGETIDs: it fails, the others load */
    catalogs_aside(dir, 0);
    sync_all(dir, idx, n, 0, 0, 2);
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0901.parquet", dir);
    write_catalog(path, 900000000000, 300, 1);
    catalogs_aside(dir, 1);
    sync_counts(dir, idx, n, -1, 0, 0, 1);
    for (int i = 0; i < n; i++) {
        assert_int_equal(
            one_int(idx[i], "SELECT COALESCE(sum(without_spectrum), 0) FROM catalog_linkage"),
            nospec);
    }
    /* a fresh load in the same sync as a removed tile (c, whose TARGETIDs are in no other tile):
     * its row groups are deleted after the catalog window, so the spectra TARGETIDs must not be
     * read ahead of the catalog's first row (they are when no tile is removed: the loads above) */
    assert_int_equal(unlink(path), 0);
    catalogs_aside(dir, 0);
    sync_all(dir, idx, n, 0, 0, 2);
    snprintf(aside, sizeof aside, "%s/aside-tile", dir);
    assert_int_equal(rename(c, aside), 0);
    catalogs_aside(dir, 1);
    sync_all(dir, idx, n, 2, 0, 1);
    for (int i = 0; i < n; i++) {
        assert_true(
            one_int(idx[i], "SELECT COALESCE(sum(without_spectrum), 0) FROM catalog_linkage") >
            nospec);
        ard_index_close(idx[i]);
    }
    tds_rmtree(dir);
}

/* The datasheet's "class median" lines of idx: one "CLASS MEDIAN" line per class. */
static char *median_text(const char *dir, ard_index *idx) {
    ard_buf b;
    render_with(dir, idx, "median-template.md",
                "{{#classes}}\n{{class}} {{z_median}}\n{{/classes}}\n", &b);
    ard_buf_append(&b, "", 1);
    return (char *)b.data;
}

/* The same lines from the plain path: each median by rank over the whole class (ORDER BY z LIMIT
 * OFFSET, no bins, no index shortcut), for the classes listed, in the datasheet's order. */
static char *plain_medians(ard_index *idx, const char *const *classes, int n) {
    ard_buf b;
    ard_buf_init(&b);
    for (int c = 0; c < n; c++) {
        char where[96], sql[256];
        snprintf(where, sizeof where, "target_class = '%s' AND z IS NOT NULL", classes[c]);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM galaxies WHERE %s", where);
        int64_t nz = one_int(idx, sql);
        if (nz == 0) {
            ard_buf_appendf(&b, "%s n/a\n", classes[c]);
            continue;
        }
        snprintf(sql, sizeof sql, "SELECT z FROM galaxies WHERE %s ORDER BY z LIMIT %d OFFSET %lld",
                 where, nz % 2 ? 1 : 2, (long long)((nz - 1) / 2));
        row_set r = select_rows(idx, sql); /* sorted as text: the average does not care */
        assert_int_equal(r.n, nz % 2 ? 1 : 2);
        double m = strtod(r.rows[0], NULL);
        m = r.n == 2 ? 0.5 * (m + strtod(r.rows[1], NULL)) : m;
        ard_buf_appendf(&b, "%s %.4f\n", classes[c], m);
        row_set_free(&r);
    }
    ard_buf_append(&b, "", 1);
    return (char *)b.data;
}

static void same_medians(const char *dir, ard_index *const *idx, int n, const char *const *classes,
                         int num_classes) {
    for (int i = 0; i < n; i++) {
        char *got = median_text(dir, idx[i]), *want = plain_medians(idx[i], classes, num_classes);
        if (strcmp(got, want) != 0) {
            fail_msg("medians (%s):\n%s\nplain path:\n%s", ard_index_backend(idx[i]), got, want);
        }
        ard_free(got);
        ard_free(want);
    }
}

/* Class medians read from the Z index without the class condition when the class owns its median
 * bins (aggregate_catalog.c), against the plain rank query over the whole class: a class owning
 * its bins (NaN and NULL redshifts among its rows), classes sharing bins (duplicate redshifts on
 * the two sides of the median, which straddles a bin edge), an owning class whose median bins
 * straddle an edge, one-row classes, a class of NULL redshifts only, a ninth class the datasheet
 * does not list sharing a listed class's only bin; then a one-row and an empty galaxies. */
void test_median_paths(void **state) {
    (void)state;
    char dir[256], path[512];
    assert_int_equal(tds_generate(dir, sizeof dir, 200, 31, 0.7), 0);
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0000.parquet", dir);
    assert_int_equal(unlink(path), 0);
    cat_row rows[200];
    int n = 0;
    const double e14 = 14.0 * ARD_INDEX_ZBIN_WIDTH, e50 = 50.0 * ARD_INDEX_ZBIN_WIDTH;
    for (int i = 0; i < 40; i++) { /* BGS alone in 0.10-0.30 */
        rows[n++] = (cat_row){0.1 + 0.004 * i, 0, "BGS"};
    }
    rows[n++] = (cat_row){NAN, 0, "BGS"};
    rows[n++] = (cat_row){0, 1, "BGS"};
    for (int i = 0; i < 31; i++) { /* LRG and ELG share 0.5-0.95 */
        rows[n++] = (cat_row){0.5 + 0.013 * i, 0, "LRG"};
    }
    for (int i = 0; i < 20; i++) { /* the median averages the last 0.66 and the first edge */
        rows[n++] = (cat_row){i < 10 ? 0.66 : e14, 0, "ELG"};
    }
    for (int i = 0; i < 6; i++) { /* QSO alone, its median bins straddle the edge e50 */
        rows[n++] = (cat_row){i < 3 ? 2.46 : e50, 0, "QSO"};
    }
    rows[n++] = (cat_row){3.3, 0, "MWS"};
    for (int i = 0; i < 4; i++) {
        rows[n++] = (cat_row){0, 1, "STAR"};
    }
    rows[n++] = (cat_row){1.0, 0, "ZZ1"};
    rows[n++] = (cat_row){1.1, 0, "ZZ1"};
    rows[n++] = (cat_row){0, 1, "ZZ2"};
    rows[n++] = (cat_row){2.0, 0, "ZZ2"};
    rows[n++] = (cat_row){2.0, 0, "ZZ2"};
    for (int i = 0; i < 15; i++) { /* the ninth class (NULL, not listed) in MWS's bin */
        rows[n++] = (cat_row){3.3 - 0.001 * i, 0, NULL};
    }
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0900.parquet", dir);
    write_catalog_rows(path, 900000000000, n, 0, rows);
    ard_index *idx[2] = {NULL, NULL};
    int nb = open_both(dir, "test_median_paths", idx);
    sync_all(dir, idx, nb, -1, 0, 0);
    static const char *const listed[] = {"BGS", "LRG", "ELG", "QSO", "MWS", "STAR", "ZZ1", "ZZ2"};
    same_medians(dir, idx, nb, listed, 8);
    char *text = median_text(dir, idx[0]);
    assert_non_null(strstr(text, "ELG 0.6800\n")); /* the values the rows above were built for */
    assert_non_null(strstr(text, "QSO 2.4800\n"));
    assert_non_null(strstr(text, "MWS 3.3000\n"));
    assert_non_null(strstr(text, "BGS 0.1780\n"));
    ard_free(text);
    same_datasheet(dir, idx, nb);
    rows[0] = (cat_row){1.234, 0, "BGS"}; /* one row */
    write_catalog_rows(path, 900000000000, 1, 1, rows);
    sync_all(dir, idx, nb, 0, 1, 0);
    same_medians(dir, idx, nb, listed, 1);
    same_datasheet(dir, idx, nb);
    assert_int_equal(unlink(path), 0); /* empty */
    sync_all(dir, idx, nb, 0, 0, 1);
    same_medians(dir, idx, nb, listed, 0);
    same_datasheet(dir, idx, nb);
    for (int i = 0; i < nb; i++) {
        ard_index_close(idx[i]);
    }
    tds_rmtree(dir);
}
