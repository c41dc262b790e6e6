/* The catalog load into an empty galaxies (one window, the primary key built once at the end on
 * PostgreSQL): a duplicate TARGETID in a later file fails only that file, the key is there after
 * every load, and a fresh load holds exactly what a file-by-file load holds; decoding ahead on a
 * second thread loads what the plain path loads, and so do rows sent column by column. */
#include "ti.h"

#include "ard/parquet_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies DATASET/catalog/zcatalog-0000.parquet to zcatalog-NNNN.parquet (every TARGETID twice). */
static void copy_catalog(const ti_env *env, int32_t to) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "cp '%s/catalog/zcatalog-0000.parquet' '%s/catalog/zcatalog-%04d.parquet'", env->dir,
             env->dir, to);
    assert_int_equal(system(cmd), 0);
}

static void remove_catalog(const ti_env *env, int32_t which) {
    char path[600];
    snprintf(path, sizeof path, "%s/catalog/zcatalog-%04d.parquet", env->dir, which);
    assert_int_equal(remove(path), 0);
}

/* 1 when galaxies has its primary key (PostgreSQL drops and rebuilds it in a fresh load). */
static int64_t has_key(ti_env *env, ard_index *idx) {
    if (!env->pg) {
        return 1; /* SQLite: targetid is the rowid, never dropped */
    }
    return ti_int(idx, "SELECT count(*) FROM pg_constraint WHERE conname = 'galaxies_pkey'"
                       " AND contype = 'p'");
}

void test_catalog_duplicates(void **state) {
    TI_ENV(state);
    int64_t galaxies = (int64_t)env->gen.tiles * env->gen.rows + env->gen.extra_galaxies;
    copy_catalog(env, 7);
    ard_sync_report rep;
    ard_sync_options o = {0};
    o.quiet = 1;
    ti_sync(env, &o, &rep);
    /* the fresh window fails at its key build; file by file, only the copy fails */
    assert_int_equal(rep.files_failed, 1);
    assert_non_null(strstr(rep.first_error, "zcatalog-0007"));
    assert_int_equal(rep.galaxy_rows, galaxies);
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies"), galaxies);
    assert_int_equal(ti_int(idx, "SELECT count(DISTINCT targetid) FROM galaxies"), galaxies);
    assert_int_equal(has_key(env, idx), 1);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM files WHERE kind = 'catalog'"),
                     env->gen.catalog_files);
    assert_int_equal(ard_index_check(idx, NULL, NULL), ARD_OK);
    ard_index_close(idx);
    /* the key is enforced after the load: the copy fails again, row by row this time */
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_failed, 1);
    remove_catalog(env, 7);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_failed, 0);
    idx = ti_open(env, ARD_INDEX_READ_ONLY);
    assert_int_equal(ti_int(idx, "SELECT count(*) FROM galaxies"), galaxies);
    ard_index_close(idx);
}

/* Column sums of galaxies, comparable across loads. */
static void digest(ti_env *env, int64_t out[4]) {
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    out[0] = ti_int(idx, "SELECT count(*) FROM galaxies");
    out[1] = ti_int(idx, "SELECT SUM(targetid % 1000003) FROM galaxies");
    out[2] = ti_int(idx, "SELECT SUM(CAST(z * 1000000 AS BIGINT)) FROM galaxies");
    out[3] = ti_int(idx, "SELECT SUM(catalog_file_id) FROM galaxies");
    assert_int_equal(has_key(env, idx), 1);
    ard_index_close(idx);
}

void test_catalog_fresh_same(void **state) {
    TI_ENV(state);
    ard_sync_report rep;
    ard_sync_options o = {0};
    o.quiet = 1;
    ti_sync(env, &o, &rep); /* fresh: every catalog file in one window */
    assert_int_equal(rep.files_failed, 0);
    int64_t fresh[4], incremental[4];
    digest(env, fresh);
    assert_int_equal(fresh[0], (int64_t)env->gen.tiles * env->gen.rows + env->gen.extra_galaxies);
    /* the second file alone into a non-empty galaxies (row-by-row key checks) */
    char path[600];
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0001.parquet", env->dir);
    char aside[700];
    snprintf(aside, sizeof aside, "%s.aside", env->dir);
    assert_int_equal(rename(path, aside), 0);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_removed, 1);
    assert_int_equal(rename(aside, path), 0);
    ti_sync(env, &o, &rep);
    assert_int_equal(rep.files_added, 1);
    assert_int_equal(rep.files_failed, 0);
    digest(env, incremental);
    assert_int_equal(incremental[0], fresh[0]);
    assert_int_equal(incremental[1], fresh[1]);
    assert_int_equal(incremental[2], fresh[2]);
    (void)incremental[3]; /* the file's id changed: catalog_file_id differs by design */
}

/* A catalog file of `groups` row groups of `per` rows (TARGETIDs first, first + 1, ...) with
 * nulls and NaN: Z null every 7th row and NaN every 11th, ZWARN (INT32) null every 4th, SPECTYPE
 * null every 5th, TARGET_CLASS null every 3rd (else LRG / ELG); groups = 0: a file without rows. */
static void write_catalog(const char *path, int64_t first, int32_t groups, int32_t per) {
    ard_error e;
    ard_error_init(&e);
    ard_pq_schema_builder *sb = NULL;
    ard_pq_logical str = {0};
    str.kind = ARD_PQ_LT_STRING;
    assert_int_equal(ard_pq_schema_new(&sb, &e), ARD_OK);
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "Z", ARD_PQ_DOUBLE, ARD_PQ_OPTIONAL, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "ZWARN", ARD_PQ_INT32, ARD_PQ_OPTIONAL, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "SPECTYPE", ARD_PQ_BYTE_ARRAY, ARD_PQ_OPTIONAL, &str, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "TARGET_CLASS", ARD_PQ_BYTE_ARRAY, ARD_PQ_OPTIONAL, &str, 0, NULL,
                             &e);
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, NULL, &w, &e), ARD_OK);
    ard_pq_schema_free(sb);
    int64_t *ids = calloc((size_t)per + 1, 8), *off = calloc((size_t)per + 1, 8);
    int64_t *coff = calloc((size_t)per + 1, 8);
    double *z = calloc((size_t)per + 1, 8);
    int32_t *zwarn = calloc((size_t)per + 1, 4);
    uint8_t *zv = calloc((size_t)per + 1, 1), *wv = calloc((size_t)per + 1, 1);
    uint8_t *sv = calloc((size_t)per + 1, 1), *cv = calloc((size_t)per + 1, 1);
    char *text = calloc((size_t)per + 1, 8), *cls = calloc((size_t)per + 1, 8);
    assert_true(ids && off && coff && z && zwarn && zv && wv && sv && cv && text && cls);
    for (int32_t g = 0; g < groups; g++) {
        int64_t at = 0, cat = 0;
        for (int32_t i = 0; i < per; i++) {
            int64_t k = (int64_t)g * per + i;
            ids[i] = first + k;
            z[i] = k % 11 == 0 ? NAN : 0.01 * (double)(k % 350);
            zv[i] = k % 7 != 0;
            zwarn[i] = (int32_t)(k % 5);
            wv[i] = k % 4 != 0;
            sv[i] = k % 5 != 0;
            cv[i] = k % 3 != 0;
            const char *s = k % 2 ? "GALAXY" : "QSO", *c = k % 2 ? "LRG" : "ELG";
            off[i] = at;
            memcpy(text + at, s, strlen(s));
            at += sv[i] ? (int64_t)strlen(s) : 0;
            coff[i] = cat;
            memcpy(cls + cat, c, strlen(c));
            cat += cv[i] ? (int64_t)strlen(c) : 0;
        }
        off[per] = at;
        coff[per] = cat;
        assert_int_equal(ard_pq_writer_write_column(w, 0, ids, NULL, per, &e), ARD_OK);
        assert_int_equal(ard_pq_writer_write_column(w, 1, z, zv, per, &e), ARD_OK);
        assert_int_equal(ard_pq_writer_write_column(w, 2, zwarn, wv, per, &e), ARD_OK);
        assert_int_equal(ard_pq_writer_write_binary(w, 3, off, (const uint8_t *)text, sv, per, &e),
                         ARD_OK);
        assert_int_equal(ard_pq_writer_write_binary(w, 4, coff, (const uint8_t *)cls, cv, per, &e),
                         ARD_OK);
        assert_int_equal(ard_pq_writer_end_row_group(w, &e), ARD_OK);
    }
    assert_int_equal(ard_pq_writer_close(w, &e), ARD_OK);
    free(ids);
    free(off);
    free(coff);
    free(z);
    free(zwarn);
    free(zv);
    free(wv);
    free(sv);
    free(cv);
    free(text);
    free(cls);
}

typedef struct row_hash {
    uint64_t h;
    int64_t rows;
} row_hash;

static int hash_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    row_hash *r = ctx;
    for (int32_t c = 0; c < n; c++) {
        const char *s = v[c] ? v[c] : "\x01null";
        for (; *s; s++) {
            r->h = (r->h ^ (uint8_t)*s) * 1099511628211ull;
        }
        r->h = (r->h ^ 0xff) * 1099511628211ull;
    }
    r->rows++;
    return 0;
}

/* FNV-1a of every cell of the result, in its order. */
static row_hash hash_of(ard_index *idx, const char *sql) {
    row_hash r = {14695981039346656037ull, 0};
    ard_error err;
    ard_error_init(&err);
    if (ard_index_select(idx, sql, hash_row, &r, &err) != ARD_OK) {
        fail_msg("select %s: %s", sql, err.msg);
    }
    return r;
}

/* What a catalog load leaves: every galaxies row, the per-file aggregates and the linkage. */
static void load_digest(ti_env *env, row_hash out[5]) {
    static const char *const sql[5] = {
        "SELECT * FROM galaxies ORDER BY targetid",
        "SELECT * FROM catalog_summary ORDER BY file_id, target_class, spectype",
        "SELECT * FROM catalog_zhist ORDER BY file_id, target_class, z_bin",
        "SELECT * FROM catalog_linkage ORDER BY target_class",
        "SELECT key, value FROM meta WHERE key LIKE 'linkage%' ORDER BY key",
    };
    ard_index *idx = ti_open(env, ARD_INDEX_READ_ONLY);
    for (int i = 0; i < 5; i++) {
        out[i] = hash_of(idx, sql[i]);
    }
    assert_int_equal(ard_index_check(idx, NULL, NULL), ARD_OK);
    ard_index_close(idx);
}

/* The catalog decoded a row group ahead on a second thread (threads > 1) loads exactly what the
 * plain path (one thread) loads: several row groups per file, a one-row group, a file without
 * rows, nulls and NaN, numbers of another width; then a failing window (a duplicate TARGETID)
 * retried file by file, on both paths. */
void test_catalog_decode_ahead(void **state) {
    TI_ENV(state);
    char path[600];
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0002.parquet", env->dir);
    write_catalog(path, 39800000000000ll, 3, 97);
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0003.parquet", env->dir);
    write_catalog(path, 39810000000000ll, 0, 1);
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0004.parquet", env->dir);
    write_catalog(path, 39820000000000ll, 1, 1);
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0005.parquet", env->dir);
    write_catalog(path, 39830000000000ll, 2, 50);
    for (int round = 0; round < 2; round++) {
        row_hash plain[5], ahead[5];
        ard_sync_report rp, ra;
        for (int threads = 1; threads <= 2; threads++) {
            ti_drop_index(env);
            ard_sync_options o = {0};
            o.quiet = 1;
            o.threads = threads;
            ti_sync(env, &o, threads == 1 ? &rp : &ra);
            load_digest(env, threads == 1 ? plain : ahead);
        }
        assert_int_equal(ra.galaxy_rows, rp.galaxy_rows);
        assert_int_equal(ra.files_failed, rp.files_failed);
        assert_int_equal(ra.data_reads, rp.data_reads);
        assert_int_equal(rp.files_failed, round); /* round 1: the duplicate file fails */
        assert_int_equal(rp.galaxy_rows, (int64_t)env->gen.tiles * env->gen.rows +
                                             env->gen.extra_galaxies + 3 * 97 + 1 + 2 * 50);
        for (int i = 0; i < 5; i++) {
            assert_true(plain[i].rows > 0);
            assert_int_equal(ahead[i].rows, plain[i].rows);
            assert_true(ahead[i].h == plain[i].h);
        }
        /* round 1: a later file repeats TARGETIDs of zcatalog-0002's second row group */
        snprintf(path, sizeof path, "%s/catalog/zcatalog-0006.parquet", env->dir);
        write_catalog(path, 39800000000000ll + 97, 1, 5);
    }
}

/* Sets bit i of an Arrow-style validity bitmap to v. */
static void set_valid(uint8_t *bits, int64_t i, int v) {
    bits[i / 8] = (uint8_t)(v ? bits[i / 8] | (1u << (i % 8)) : bits[i / 8] & ~(1u << (i % 8)));
}

/* Text value k of the awkward string column: NULL every 9th, empty, a 70,000-byte value (more
 * than a COPY chunk), an embedded NUL, COPY's and SQL's special characters, UTF-8. */
static size_t awkward_text(int64_t k, char *out) {
    static const char *const small[] = {"GALAXY", "", "a\tb\\c\nd\re", "\xc3\xa9toile 'q'", "x"};
    if (k % 41 == 7) {
        memset(out, 'L', 70000);
        out[0] = (char)('A' + k % 26);
        return 70000;
    }
    if (k % 13 == 5) {
        memcpy(out, "ab\0cd", 5); /* both paths keep "ab" (text ends at a NUL) */
        return 5;
    }
    const char *s = small[k % 5];
    memcpy(out, s, strlen(s));
    return strlen(s);
}

/* A catalog file of the given row groups covering every decoded shape the column path reads:
 * FLOAT and DOUBLE with NaN, infinities, -0 and subnormals; INT32 and INT64 extremes; BOOLEAN;
 * an optional column without nulls in some row groups; strings NULL, empty, long, with a NUL;
 * FIXED_LEN_BYTE_ARRAY with NULs; PROGRAM absent. bad_healpix: HEALPIX as text (no direct path:
 * the row path's error); null_id: TARGETID optional with one NULL (the row path's error). */
static void write_awkward_catalog(const char *path, int64_t first, const int32_t *groups,
                                  int32_t num_groups, int bad_healpix, int null_id) {
    ard_error e;
    ard_error_init(&e);
    ard_pq_schema_builder *sb = NULL;
    ard_pq_logical str = {0};
    str.kind = ARD_PQ_LT_STRING;
    assert_int_equal(ard_pq_schema_new(&sb, &e), ARD_OK);
    ard_pq_repetition opt = ARD_PQ_OPTIONAL, req = ARD_PQ_REQUIRED;
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, null_id ? opt : req, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "TARGET_RA", ARD_PQ_FLOAT, opt, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "TARGET_DEC", ARD_PQ_DOUBLE, req, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "Z", ARD_PQ_DOUBLE, opt, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "ZWARN", ARD_PQ_INT32, opt, NULL, 0, NULL, &e);
    if (bad_healpix) {
        ard_pq_schema_add_column(sb, "HEALPIX", ARD_PQ_BYTE_ARRAY, opt, &str, 0, NULL, &e);
    } else {
        ard_pq_schema_add_column(sb, "HEALPIX", ARD_PQ_INT64, opt, NULL, 0, NULL, &e);
    }
    ard_pq_schema_add_column(sb, "DESI_TARGET", ARD_PQ_BOOLEAN, opt, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "BGS_TARGET", ARD_PQ_INT64, req, NULL, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "SPECTYPE", ARD_PQ_BYTE_ARRAY, opt, &str, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "SUBTYPE", ARD_PQ_FIXED_LEN_BYTE_ARRAY, opt, NULL, 4, NULL, &e);
    ard_pq_schema_add_column(sb, "SURVEY", ARD_PQ_BYTE_ARRAY, req, &str, 0, NULL, &e);
    ard_pq_schema_add_column(sb, "TARGET_CLASS", ARD_PQ_BYTE_ARRAY, opt, &str, 0, NULL, &e);
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, NULL, &w, &e), ARD_OK);
    ard_pq_schema_free(sb);
    int32_t max = 0;
    for (int32_t g = 0; g < num_groups; g++) {
        max = groups[g] > max ? groups[g] : max;
    }
    size_t n = (size_t)max + 1;
    int64_t *ids = calloc(n, 8), *hp = calloc(n, 8), *bgs = calloc(n, 8);
    float *ra = calloc(n, 4);
    double *dec = calloc(n, 8), *z = calloc(n, 8);
    int32_t *zwarn = calloc(n, 4);
    uint8_t *desi = calloc(n, 1), *sub = calloc(n, 4), *valid[8];
    int64_t *off[3];
    char *text[3];
    for (int i = 0; i < 8; i++) {
        valid[i] = calloc(n / 8 + 1, 1);
        assert_non_null(valid[i]);
    }
    for (int i = 0; i < 3; i++) {
        off[i] = calloc(n + 1, 8);
        text[i] = calloc(n * 24 + 70000 * (n / 41 + 1), 1);
        assert_true(off[i] && text[i]);
    }
    assert_true(ids && hp && bgs && ra && dec && z && zwarn && desi && sub);
    int64_t k = 0;
    for (int32_t g = 0; g < num_groups; g++) {
        int64_t at[3] = {0, 0, 0};
        for (int32_t i = 0; i < groups[g]; i++, k++) {
            static const double odd[] = {-0.0, INFINITY, -INFINITY, 4.9e-324, 1e308, 0.1};
            ids[i] = first + k;
            set_valid(valid[0], i, !(null_id && k == 3));
            ra[i] = k % 6 == 1   ? NAN
                    : k % 6 == 2 ? -0.0f
                    : k % 6 == 3 ? INFINITY
                                 : 1e-40f * (float)(k % 1000);
            set_valid(valid[1], i, k % 10 != 4);
            dec[i] = k % 4 == 0 ? NAN : odd[k % 6] * (k % 3 ? 1 : -1);
            z[i] = k % 11 == 0 ? NAN : 0.01 * (double)(k % 350);
            set_valid(valid[2], i, k % 7 != 0);
            zwarn[i] = k % 3 == 0 ? INT32_MIN : k % 3 == 1 ? INT32_MAX : (int32_t)k;
            set_valid(valid[3], i, k % 4 != 1);
            hp[i] = k * 7919;
            set_valid(valid[4], i, g % 2 == 0 || k % 5 != 0); /* even groups: no NULL */
            desi[i] = (uint8_t)(k % 3 == 0);
            set_valid(valid[5], i, k % 8 != 2);
            bgs[i] = k % 2 ? INT64_MAX - k : INT64_MIN + k;
            memcpy(sub + 4 * i, k % 3 == 0 ? "A\0BC" : k % 3 == 1 ? "\0\0\0\0" : "WXYZ", 4);
            set_valid(valid[6], i, k % 6 != 5);
            set_valid(valid[7], i, k % 9 != 0);
            for (int c = 0; c < 3; c++) {
                off[c][i] = at[c];
                if (c == 0) {
                    at[c] += (int64_t)awkward_text(k, text[c] + at[c]);
                } else {
                    const char *s = c == 1 ? (k % 2 ? "main" : "sv3") : (k % 3 ? "LRG" : "");
                    if (c == 1 && bad_healpix) {
                        s = "12x";
                    }
                    memcpy(text[c] + at[c], s, strlen(s));
                    at[c] += (int64_t)strlen(s);
                }
            }
        }
        for (int c = 0; c < 3; c++) {
            off[c][groups[g]] = at[c];
        }
        int32_t rows = groups[g];
        const uint8_t *idv = null_id ? valid[0] : NULL;
        assert_int_equal(ard_pq_writer_write_column(w, 0, ids, idv, rows, &e), ARD_OK);
        assert_int_equal(ard_pq_writer_write_column(w, 1, ra, valid[1], rows, &e), ARD_OK);
        assert_int_equal(ard_pq_writer_write_column(w, 2, dec, NULL, rows, &e), ARD_OK);
        assert_int_equal(ard_pq_writer_write_column(w, 3, z, valid[2], rows, &e), ARD_OK);
        assert_int_equal(ard_pq_writer_write_column(w, 4, zwarn, valid[3], rows, &e), ARD_OK);
        if (bad_healpix) {
            assert_int_equal(ard_pq_writer_write_binary(w, 5, off[1], (const uint8_t *)text[1],
                                                        valid[4], rows, &e),
                             ARD_OK);
        } else {
            assert_int_equal(ard_pq_writer_write_column(w, 5, hp, valid[4], rows, &e), ARD_OK);
        }
        assert_int_equal(ard_pq_writer_write_column(w, 6, desi, valid[5], rows, &e), ARD_OK);
        assert_int_equal(ard_pq_writer_write_column(w, 7, bgs, NULL, rows, &e), ARD_OK);
        assert_int_equal(
            ard_pq_writer_write_binary(w, 8, off[0], (const uint8_t *)text[0], valid[7], rows, &e),
            ARD_OK);
        assert_int_equal(ard_pq_writer_write_column(w, 9, sub, valid[6], rows, &e), ARD_OK);
        assert_int_equal(
            ard_pq_writer_write_binary(w, 10, off[1], (const uint8_t *)text[1], NULL, rows, &e),
            ARD_OK);
        assert_int_equal(
            ard_pq_writer_write_binary(w, 11, off[2], (const uint8_t *)text[2], valid[1], rows, &e),
            ARD_OK);
        assert_int_equal(ard_pq_writer_end_row_group(w, &e), ARD_OK);
    }
    assert_int_equal(ard_pq_writer_close(w, &e), ARD_OK);
    free(ids);
    free(hp);
    free(bgs);
    free(ra);
    free(dec);
    free(z);
    free(zwarn);
    free(desi);
    free(sub);
    for (int i = 0; i < 8; i++) {
        free(valid[i]);
    }
    for (int i = 0; i < 3; i++) {
        free(off[i]);
        free(text[i]);
    }
}

/* The rows sent column by column (PostgreSQL's binary COPY rendered from the decoded columns) and
 * the aggregates and linkage lists added from the columns (text as codes) load exactly what the
 * row-by-row paths (ARD_CATALOG_PLAIN) load, with one thread and two, on both backends: awkward
 * values in uneven row groups (1, a block of 256 and one more, more than a COPY chunk of text),
 * then files that only the row path can send, and their errors. */
void test_catalog_columns_same(void **state) {
    TI_ENV(state);
    char path[600];
    static const int32_t groups_a[] = {300, 1, 257, 600}, groups_b[] = {256, 5};
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0002.parquet", env->dir);
    write_awkward_catalog(path, 39800000000000ll, groups_a, 4, 0, 0);
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0003.parquet", env->dir);
    write_awkward_catalog(path, 39810000000000ll, groups_b, 2, 0, 0);
    for (int round = 0; round < 2; round++) {
        row_hash want[5], got[5];
        ard_sync_report rp, rc;
        for (int pass = 0; pass < 4; pass++) {
            int plain = pass % 2 == 0;
            if (plain) {
                setenv("ARD_CATALOG_PLAIN", "1", 1);
            } else {
                unsetenv("ARD_CATALOG_PLAIN");
            }
            ti_drop_index(env);
            ard_sync_options o = {0};
            o.quiet = 1;
            o.threads = 1 + pass / 2;
            ti_sync(env, &o, plain ? &rp : &rc);
            load_digest(env, plain ? want : got);
            if (!plain) {
                assert_int_equal(rc.galaxy_rows, rp.galaxy_rows);
                assert_int_equal(rc.files_failed, rp.files_failed);
                assert_string_equal(rc.first_error, rp.first_error);
                for (int i = 0; i < 5; i++) {
                    assert_int_equal(got[i].rows, want[i].rows);
                    assert_true(got[i].h == want[i].h);
                }
            }
        }
        unsetenv("ARD_CATALOG_PLAIN");
        /* round 1's text HEALPIX: SQLite keeps it (column affinity), PostgreSQL refuses it */
        int refused = env->pg && round;
        assert_int_equal(rp.files_failed, refused);
        assert_int_equal(rp.galaxy_rows, (int64_t)env->gen.tiles * env->gen.rows +
                                             env->gen.extra_galaxies + 1158 + 261 +
                                             (round && !refused ? 261 : 0));
        /* round 1: HEALPIX as text (no direct path): the row path's error on both */
        snprintf(path, sizeof path, "%s/catalog/zcatalog-0004.parquet", env->dir);
        write_awkward_catalog(path, 39820000000000ll, groups_b, 2, 1, 0);
    }
    /* a NULL TARGETID fails the sync with the same error on both paths */
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0005.parquet", env->dir);
    write_awkward_catalog(path, 39830000000000ll, groups_b, 2, 0, 1);
    char msg[2][512];
    for (int plain = 0; plain < 2; plain++) {
        if (plain) {
            setenv("ARD_CATALOG_PLAIN", "1", 1);
        }
        ti_drop_index(env);
        ard_index *idx = ti_open(env, 0);
        ard_error err;
        ard_error_init(&err);
        ard_sync_options o = {0};
        o.quiet = 1;
        ard_sync_report rep;
        assert_int_equal(ard_index_sync(idx, env->dir, &o, &rep, &err), ARD_ECORRUPT);
        snprintf(msg[plain], sizeof msg[plain], "%s", err.msg);
        ard_index_close(idx);
        unsetenv("ARD_CATALOG_PLAIN");
    }
    assert_non_null(strstr(msg[0], "TARGETID is null"));
    assert_string_equal(msg[0], msg[1]);
}
