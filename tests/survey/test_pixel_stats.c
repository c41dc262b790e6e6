/* The tiles' ard.pixel_stats metadata against counts recomputed here: every FLUX and IVAR element
 * of every tile is read back, each row is classed by the catalog's TARGET_CLASS of its TARGETID,
 * and the expected value is formatted from those counts (format in ard/survey.h). For a generated
 * survey (several classes, masked pixels, a dead arm) and for the ingested DESI samples. */
#include "survey_int.h"
#include "sv_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const k_order[5] = {"BGS", "LRG", "ELG", "QSO", "OTHER"};

typedef struct class_map {
    int64_t n;
    int64_t *tid;
    char **cls;
} class_map;

static void load_classes(const char *dir, class_map *m) {
    memset(m, 0, sizeof *m);
    for (int32_t part = 0;; part++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/catalog/zcatalog-%04d.parquet", dir, part);
        if (access(path, R_OK) != 0) {
            assert_true(part > 0);
            return;
        }
        int64_t *tid = NULL;
        char **cls = NULL;
        int64_t n = sv_read_numeric(path, "TARGETID", 8, (void **)&tid);
        assert_true(n > 0);
        assert_int_equal(sv_read_strings(path, "TARGET_CLASS", &cls), n);
        m->tid = realloc(m->tid, (size_t)(m->n + n) * sizeof *m->tid);
        m->cls = realloc(m->cls, (size_t)(m->n + n) * sizeof *m->cls);
        memcpy(m->tid + m->n, tid, (size_t)n * sizeof *tid);
        memcpy(m->cls + m->n, cls, (size_t)n * sizeof *cls);
        m->n += n;
        free(tid);
        free(cls); /* the strings now belong to m */
    }
}

static int class_index(const class_map *m, int64_t tid) {
    for (int64_t i = 0; i < m->n; i++) { /* small catalogs: a scan keeps the test obvious */
        if (m->tid[i] == tid) {
            for (int k = 0; k < 5; k++) {
                if (strcmp(m->cls[i], k_order[k]) == 0) {
                    return k;
                }
            }
            fail_msg("TARGETID %lld has an unexpected TARGET_CLASS \"%s\"", (long long)tid,
                     m->cls[i]);
        }
    }
    fail_msg("TARGETID %lld of a tile is not in the catalog", (long long)tid);
    return -1;
}

/* Checks one tile; adds its per-class null pixels to *nulls_seen. */
static void check_tile(const char *path, const class_map *m, int64_t *nulls_seen,
                       int64_t *zeros_seen) {
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    int32_t lt = ard_parquet_find_leaf(f, "TARGETID");
    int32_t lf = ard_parquet_find_leaf(f, "FLUX.list.element");
    int32_t li = ard_parquet_find_leaf(f, "IVAR.list.element");
    assert_true(lt >= 0 && lf >= 0 && li >= 0);
    int64_t rows[5] = {0}, pixels[5] = {0}, nulls[5] = {0}, zeros[5] = {0};
    for (int32_t rg = 0; rg < md->num_row_groups; rg++) {
        ard_pq_column_data ids;
        memset(&ids, 0, sizeof ids);
        ard_pq_f32_matrix fl, iv;
        memset(&fl, 0, sizeof fl);
        memset(&iv, 0, sizeof iv);
        assert_int_equal(ard_parquet_read_column(f, rg, lt, &ids, NULL), ARD_OK);
        assert_int_equal(ard_parquet_read_f32_matrix(f, rg, lf, &fl, NULL), ARD_OK);
        assert_int_equal(ard_parquet_read_f32_matrix(f, rg, li, &iv, NULL), ARD_OK);
        assert_int_equal(fl.rows, ids.num_values);
        assert_int_equal(iv.width, fl.width);
        for (int64_t r = 0; r < fl.rows; r++) {
            int k = class_index(m, ((const int64_t *)ids.values)[r]);
            rows[k]++;
            pixels[k] += fl.width;
            for (int64_t j = r * fl.width; j < (r + 1) * fl.width; j++) {
                int valid = fl.validity ? (fl.validity[j / 8] >> (j % 8)) & 1 : 1;
                nulls[k] += !valid;
                zeros[k] += iv.values[j] == 0.0f;
            }
        }
        ard_pq_column_data_reset(&ids);
        ard_pq_matrix_reset(&fl);
        ard_pq_matrix_reset(&iv);
    }
    char want[1024];
    size_t len = 0;
    for (int k = 0; k < 5; k++) {
        if (rows[k] > 0) {
            len += (size_t)snprintf(want + len, sizeof want - len,
                                    "%s\"%s\":{\"rows\":%lld,\"pixels\":%lld,\"flux_null\":%lld,"
                                    "\"ivar_zero\":%lld}",
                                    len ? "," : "{", k_order[k], (long long)rows[k],
                                    (long long)pixels[k], (long long)nulls[k], (long long)zeros[k]);
        }
        nulls_seen[k] += nulls[k];
        zeros_seen[k] += zeros[k];
    }
    snprintf(want + len, sizeof want - len, "}");
    const char *got = ard_parquet_kv_get(f, ARD_KV_PIXEL_STATS);
    if (!got || strcmp(got, want) != 0) {
        fail_msg("%s: %s = %s, recomputed %s", path, ARD_KV_PIXEL_STATS, got ? got : "(absent)",
                 want);
    }
    ard_parquet_close(f);
}

/* Checks every tile of a dataset; returns the number of tiles. */
static int64_t check_dataset(const char *dir, int64_t *nulls, int64_t *zeros) {
    class_map m;
    load_classes(dir, &m);
    char **files = NULL;
    int64_t nf = sv_list_files(dir, &files), tiles = 0;
    for (int64_t i = 0; i < nf; i++) {
        if (strncmp(files[i], "tiles/", 6) == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            check_tile(path, &m, nulls, zeros);
            tiles++;
        }
    }
    sv_free_strings(files, nf);
    sv_free_strings(m.cls, m.n);
    free(m.tid);
    return tiles;
}

static void test_generated_pixel_stats(void **state) {
    (void)state;
    char *dir = sv_tmpdir("pixstats");
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = 600;
    o.seed = 11;
    o.threads = 2;
    o.anomaly_fraction = 0.05; /* dead arms and cosmic rays among the masked pixels */
    assert_int_equal(ard_grid_from_name("log256", &o.grid, NULL), ARD_OK);
    ard_generate_report rep;
    assert_int_equal(ard_generate(dir, &o, &rep, NULL), ARD_OK);
    int64_t nulls[5] = {0}, zeros[5] = {0};
    assert_int_equal(check_dataset(dir, nulls, zeros), rep.tiles);
    for (int k = 0; k < 4; k++) { /* the test means something: every class has masked pixels */
        assert_true(nulls[k] > 0);
        assert_true(zeros[k] >= nulls[k]);
    }
    sv_rmtree(dir);
    free(dir);
}

static void test_ingested_pixel_stats(void **state) {
    (void)state;
    char samples[4096];
    snprintf(samples, sizeof samples, "%s/desi-samples", sv_shared_dir());
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/coadd-4-80613-thru20210324.fits", samples);
    if (access(probe, R_OK) != 0) {
        fprintf(stderr, "SKIPPED: DESI samples not found under %s\n", samples);
        skip();
    }
    char *out = sv_tmpdir("pixstats-desi");
    const char *p[1] = {samples};
    ard_ingest_report rep;
    ard_ingest_options o;
    ard_ingest_options_init(&o);
    /* a grid reaching below DESI's 3600 A: those pixels are NODATA (null FLUX, IVAR 0) */
    assert_int_equal(ard_grid_parse("kind=log;start=3300;stop=9824;n=512", &o.grid, NULL), ARD_OK);
    assert_int_equal(ard_ingest_desi(out, p, 1, &o, &rep, NULL), ARD_OK);
    int64_t nulls[5] = {0}, zeros[5] = {0};
    assert_int_equal(check_dataset(out, nulls, zeros), rep.tiles);
    int64_t total_null = 0, total_zero = 0;
    for (int k = 0; k < 5; k++) {
        total_null += nulls[k];
        total_zero += zeros[k];
    }
    assert_true(total_null > 0 && total_zero >= total_null);
    sv_rmtree(out);
    free(out);
}

/* ard__tile_pixel_scan's AVX-512 and portable paths against a per-pixel reference: IVAR 0, -0,
 * NaN, denormals and infinities beside MASK bits (null only where both), runs and isolated
 * pixels, widths around the 8- and 16-pixel steps (and not multiples of them), rows that start
 * mid-byte, partial last bytes. */
static void test_pixel_scan_paths(void **state) {
    (void)state;
    static const int64_t widths[] = {1, 7, 8, 15, 16, 17, 24, 48, 4096};
    static const int64_t row_counts[] = {1, 3, 128};
    static const uint32_t ivars[] = {0x00000000u, 0x80000000u, 0x7fc00000u, 0x00000001u,
                                     0x7f800000u, 0x3f800000u, 0x41200000u, 0xffc00000u};
    uint64_t x = 88172645463325252ull;
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
        for (size_t ri = 0; ri < sizeof row_counts / sizeof row_counts[0]; ri++) {
            int64_t width = widths[wi], rows = row_counts[ri], n = width * rows;
            float *ivar = malloc((size_t)n * sizeof *ivar);
            uint8_t *mask = malloc((size_t)n), *bits[2];
            int64_t nulls[2][128], zeros[2][128];
            size_t nb = (size_t)(n + 7) / 8;
            bits[0] = malloc(nb);
            bits[1] = malloc(nb);
            assert_true(ivar && mask && bits[0] && bits[1]);
            for (int64_t k = 0; k < n; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                int dense = (k / 64) % 3 == 0; /* stretches of many zeros and mask bits */
                uint32_t u = ivars[(x >> 3) % (dense ? 8 : 2) + (dense ? 0 : 5)];
                memcpy(&ivar[k], &u, 4);
                mask[k] = (uint8_t)((x >> 20) % (dense ? 2 : 11) == 0 ? (x >> 30) | 1 : 0);
                mask[k] = ri == 1 ? 0 : mask[k]; /* zero IVAR without a MASK bit: not null */
            }
            int any[2];
            for (int path = 0; path < 2; path++) {
                memset(bits[path], 0xa5, nb);
                any[path] = ard__tile_pixel_scan(ivar, mask, rows, width, bits[path], nulls[path],
                                                 zeros[path], path);
            }
            int want_any = 0;
            for (int64_t r = 0; r < rows; r++) {
                int64_t rn = 0, rz = 0;
                for (int64_t k = r * width; k < (r + 1) * width; k++) {
                    int null = mask[k] != 0 && ivar[k] == 0.0f;
                    rn += null;
                    rz += ivar[k] == 0.0f;
                    want_any |= null;
                    for (int path = 0; path < 2; path++) {
                        if (((bits[path][k / 8] >> (k % 8)) & 1) != !null) {
                            fail_msg("width %lld rows %lld path %d: pixel %lld's bit",
                                     (long long)width, (long long)rows, path, (long long)k);
                        }
                    }
                }
                for (int path = 0; path < 2; path++) {
                    assert_int_equal(nulls[path][r], rn);
                    assert_int_equal(zeros[path][r], rz);
                }
            }
            for (int path = 0; path < 2; path++) {
                assert_int_equal(any[path], want_any);
                if (n % 8) { /* a partial last byte: its unused bits set */
                    assert_int_equal(bits[path][nb - 1] >> (n % 8), 0xff >> (n % 8));
                }
            }
            free(ivar);
            free(mask);
            free(bits[0]);
            free(bits[1]);
        }
    }
}

int sv_run_pixel_stats_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pixel_scan_paths),
        cmocka_unit_test(test_generated_pixel_stats),
        cmocka_unit_test(test_ingested_pixel_stats),
    };
    return cmocka_run_group_tests_name("survey_pixel_stats", tests, NULL, NULL);
}
