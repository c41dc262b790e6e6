/* Generator tests: determinism across thread counts, DR1 class mix / n(z) / sky density, truth
 * consistency (groups, fingers of god, anomalies), and spectra physics (line positions, 4000 A
 * break, S/N by class, masks, tile metadata). */
#include "survey_int.h"
#include "sv_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_N 1500
#define DET_N 500
#define BIG_N 40000

typedef struct catalog {
    int64_t n;
    int64_t *targetid, *group_id, *truth_tid;
    double *ra, *dec, *z, *zerr, *z_true, *z_cosmo;
    int32_t *healpix, *has_spec, *anomaly_code;
    char **cls, **program, **anomaly, **spec_class;
    /* spectra, row-matched with the catalog (NULL rows when no spectrum) */
    int64_t width;
    float *flux, *ivar;
    uint8_t *mask, *valid, *present;
} catalog;

typedef struct fixture {
    char *dir1, *dir2, *dir3, *dir_big; /* dir2/dir3: the same small survey at 1 and 2 threads */
    catalog small, big;
    ard_generate_report rep_small, rep_big;
} fixture;

static char *path_in(const char *dir, const char *rel) {
    size_t len = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s/%s", dir, rel);
    return p;
}

static int64_t find_row(const catalog *c, int64_t tid) {
    int64_t lo = 0, hi = c->n - 1;
    while (lo <= hi) {
        int64_t mid = (lo + hi) / 2;
        if (c->targetid[mid] == tid) {
            return mid;
        }
        if (c->targetid[mid] < tid) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return -1;
}

static void load_tile(catalog *c, const char *path) {
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    const ard_pq_metadata *m = ard_parquet_metadata(f);
    int32_t lt = ard_parquet_find_leaf(f, "TARGETID"),
            lf = ard_parquet_find_leaf(f, "FLUX.list.element");
    int32_t li = ard_parquet_find_leaf(f, "IVAR.list.element"),
            lm = ard_parquet_find_leaf(f, "MASK.list.element");
    assert_true(lt >= 0 && lf >= 0 && li >= 0 && lm >= 0);
    for (int32_t rg = 0; rg < m->num_row_groups; rg++) {
        ard_pq_column_data ids, mk;
        memset(&ids, 0, sizeof ids);
        memset(&mk, 0, sizeof mk);
        ard_pq_f32_matrix fl, iv;
        memset(&fl, 0, sizeof fl);
        memset(&iv, 0, sizeof iv);
        assert_int_equal(ard_parquet_read_column(f, rg, lt, &ids, NULL), ARD_OK);
        assert_int_equal(ard_parquet_read_column(f, rg, lm, &mk, NULL), ARD_OK);
        assert_int_equal(ard_parquet_read_f32_matrix(f, rg, lf, &fl, NULL), ARD_OK);
        assert_int_equal(ard_parquet_read_f32_matrix(f, rg, li, &iv, NULL), ARD_OK);
        assert_int_equal(fl.width, c->width);
        const int64_t *tid = ids.values;
        const int32_t *mvals = mk.values;
        for (int64_t r = 0; r < ids.num_values; r++) {
            int64_t row = find_row(c, tid[r]);
            assert_true(row >= 0);
            assert_true(r == 0 || tid[r] > tid[r - 1]);
            size_t at = (size_t)(row * c->width);
            memcpy(c->flux + at, fl.values + r * c->width, (size_t)c->width * sizeof(float));
            memcpy(c->ivar + at, iv.values + r * c->width, (size_t)c->width * sizeof(float));
            for (int64_t j = 0; j < c->width; j++) {
                int64_t k = r * c->width + j;
                c->mask[at + (size_t)j] = (uint8_t)mvals[k];
                c->valid[at + (size_t)j] =
                    (uint8_t)(fl.validity ? (fl.validity[k / 8] >> (k % 8)) & 1 : 1);
            }
            c->present[row] = 1;
        }
        ard_pq_column_data_reset(&ids);
        ard_pq_column_data_reset(&mk);
        ard_pq_matrix_reset(&fl);
        ard_pq_matrix_reset(&iv);
    }
    ard_parquet_close(f);
}

static void load_catalog(catalog *c, const char *dir, int spectra) {
    memset(c, 0, sizeof *c);
    char *cat = path_in(dir, "catalog/zcatalog-0000.parquet");
    char *tru = path_in(dir, "truth/galaxies-0000.parquet");
    c->n = sv_read_numeric(cat, "TARGETID", 8, (void **)&c->targetid);
    assert_true(c->n > 0);
    assert_int_equal(sv_read_numeric(cat, "TARGET_RA", 8, (void **)&c->ra), c->n);
    assert_int_equal(sv_read_numeric(cat, "TARGET_DEC", 8, (void **)&c->dec), c->n);
    assert_int_equal(sv_read_numeric(cat, "Z", 8, (void **)&c->z), c->n);
    assert_int_equal(sv_read_numeric(cat, "ZERR", 8, (void **)&c->zerr), c->n);
    assert_int_equal(sv_read_numeric(cat, "HEALPIX", 4, (void **)&c->healpix), c->n);
    assert_int_equal(sv_read_numeric(cat, "HAS_SPECTRUM", 4, (void **)&c->has_spec), c->n);
    assert_int_equal(sv_read_strings(cat, "TARGET_CLASS", &c->cls), c->n);
    assert_int_equal(sv_read_strings(cat, "PROGRAM", &c->program), c->n);
    assert_int_equal(sv_read_numeric(tru, "TARGETID", 8, (void **)&c->truth_tid), c->n);
    assert_int_equal(sv_read_numeric(tru, "GROUP_ID", 8, (void **)&c->group_id), c->n);
    assert_int_equal(sv_read_numeric(tru, "Z_TRUE", 8, (void **)&c->z_true), c->n);
    assert_int_equal(sv_read_numeric(tru, "Z_COSMO", 8, (void **)&c->z_cosmo), c->n);
    assert_int_equal(sv_read_numeric(tru, "ANOMALY_CODE", 4, (void **)&c->anomaly_code), c->n);
    assert_int_equal(sv_read_strings(tru, "ANOMALY", &c->anomaly), c->n);
    assert_int_equal(sv_read_strings(tru, "SPECTRUM_CLASS", &c->spec_class), c->n);
    free(cat);
    free(tru);
    if (!spectra) {
        return;
    }
    c->width = 4096;
    size_t cells = (size_t)(c->n * c->width);
    c->flux = calloc(cells, sizeof(float));
    c->ivar = calloc(cells, sizeof(float));
    c->mask = calloc(cells, 1);
    c->valid = calloc(cells, 1);
    c->present = calloc((size_t)c->n, 1);
    char **files = NULL;
    int64_t nf = sv_list_files(dir, &files);
    for (int64_t i = 0; i < nf; i++) {
        if (strncmp(files[i], "tiles/", 6) == 0) {
            char *p = path_in(dir, files[i]);
            load_tile(c, p);
            free(p);
        }
    }
    sv_free_strings(files, nf);
}

static void free_catalog(catalog *c) {
    free(c->targetid);
    free(c->group_id);
    free(c->truth_tid);
    free(c->ra);
    free(c->dec);
    free(c->z);
    free(c->zerr);
    free(c->z_true);
    free(c->z_cosmo);
    free(c->healpix);
    free(c->has_spec);
    free(c->anomaly_code);
    sv_free_strings(c->cls, c->n);
    sv_free_strings(c->program, c->n);
    sv_free_strings(c->anomaly, c->n);
    sv_free_strings(c->spec_class, c->n);
    free(c->flux);
    free(c->ivar);
    free(c->mask);
    free(c->valid);
    free(c->present);
}

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    fx->dir1 = sv_tmpdir("gen1");
    fx->dir2 = sv_tmpdir("gen2");
    fx->dir3 = sv_tmpdir("gen3");
    fx->dir_big = sv_tmpdir("genbig");
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = SMALL_N;
    o.seed = 42;
    o.threads = 2;
    o.anomaly_fraction = 0.03; /* enough anomalies to test in a small survey */
    ard_error err;
    ard_error_init(&err);
    if (ard_generate(fx->dir1, &o, &fx->rep_small, &err) != ARD_OK) {
        fprintf(stderr, "generate: %s\n", err.msg);
        return -1;
    }
    o.galaxies = DET_N;
    o.threads = 1;
    if (ard_generate(fx->dir2, &o, NULL, &err) != ARD_OK) {
        return -1;
    }
    o.threads = 2;
    if (ard_generate(fx->dir3, &o, NULL, &err) != ARD_OK) {
        return -1;
    }
    o.galaxies = BIG_N;
    o.spectra_fraction = 0.0;
    o.anomaly_fraction = 0.001;
    o.seed = 7;
    if (ard_generate(fx->dir_big, &o, &fx->rep_big, &err) != ARD_OK) {
        return -1;
    }
    load_catalog(&fx->small, fx->dir1, 1);
    load_catalog(&fx->big, fx->dir_big, 0);
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    free_catalog(&fx->small);
    free_catalog(&fx->big);
    sv_rmtree(fx->dir1);
    sv_rmtree(fx->dir2);
    sv_rmtree(fx->dir3);
    sv_rmtree(fx->dir_big);
    free(fx->dir1);
    free(fx->dir2);
    free(fx->dir3);
    free(fx->dir_big);
    free(fx);
    return 0;
}

static void test_thread_independent_bytes(void **state) {
    fixture *fx = *state;
    char **a = NULL, **b = NULL;
    int64_t na = sv_list_files(fx->dir2, &a), nb = sv_list_files(fx->dir3, &b);
    assert_int_equal(na, nb);
    assert_true(na > 10);
    for (int64_t i = 0; i < na; i++) {
        assert_string_equal(a[i], b[i]);
        char *pa = path_in(fx->dir2, a[i]), *pb = path_in(fx->dir3, b[i]);
        assert_true(sv_same_file(pa, pb));
        free(pa);
        free(pb);
    }
    sv_free_strings(a, na);
    sv_free_strings(b, nb);
}

static void test_seed_changes_output(void **state) {
    (void)state;
    char *d = sv_tmpdir("seed");
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = 300;
    o.spectra_fraction = 0;
    o.seed = 43;
    assert_int_equal(ard_generate(d, &o, NULL, NULL), ARD_OK);
    double *z = NULL;
    char *p = path_in(d, "catalog/zcatalog-0000.parquet");
    assert_int_equal(sv_read_numeric(p, "Z", 8, (void **)&z), 300);
    fixture *fx = *state;
    int same = 0;
    for (int i = 0; i < 300; i++) {
        same += z[i] == fx->small.z[i]; /* seed 42 vs 43 */
    }
    assert_true(same < 5);
    free(z);
    free(p);
    sv_rmtree(d);
    free(d);
}

static void test_bad_options(void **state) {
    ard_generate_options o;
    ard_generate_options_init(&o);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_generate("/tmp/ard-never", &o, NULL, &err), ARD_EINVAL); /* galaxies 0 */
    assert_non_null(strstr(err.msg, "galaxies"));
    o.galaxies = 10;
    o.spectra_fraction = 1.5;
    assert_int_equal(ard_generate("/tmp/ard-never", &o, NULL, NULL), ARD_EINVAL);
    o.spectra_fraction = 1;
    o.grid.n = 1;
    assert_int_equal(ard_generate("/tmp/ard-never", &o, NULL, NULL), ARD_EINVAL);
    ard_generate_options_init(&o);
    o.galaxies = 10;
    o.spectra_fraction = 0;
    assert_int_equal(ard_generate("/proc/ard-cannot", &o, NULL, NULL), ARD_EIO);
    fixture *fx = *state;
    ard_error_init(&err);
    assert_int_equal(ard_generate(fx->dir1, &o, NULL, &err), ARD_EEXIST); /* never mix datasets */
    assert_non_null(strstr(err.msg, "already holds a dataset"));
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void test_class_mix_and_nofz(void **state) {
    fixture *fx = *state;
    const catalog *c = &fx->big;
    int64_t counts[4] = {0};
    for (int64_t i = 0; i < c->n; i++) {
        int32_t k = ard_target_class_from_name(c->cls[i]);
        assert_true(k >= 0);
        counts[k]++;
        assert_string_equal(c->program[i], k == ARD_CLASS_BGS ? "bright" : "dark");
    }
    for (int k = 0; k < 4; k++) {
        sv_assert_near((double)counts[k] / (double)c->n, ard__dr1_class_share(k), 0.005);
    }
    /* n(z): quantiles of Z_TRUE per class vs the DR1 inverse CDF (fingers of god blur by < 0.01) */
    static const double qs[] = {0.05, 0.25, 0.5, 0.75, 0.95};
    for (int k = 0; k < 4; k++) {
        double *zk = malloc((size_t)counts[k] * sizeof(double));
        int64_t m = 0;
        for (int64_t i = 0; i < c->n; i++) {
            if (ard_target_class_from_name(c->cls[i]) == k) {
                zk[m++] = c->z_cosmo[i];
            }
        }
        qsort(zk, (size_t)m, sizeof *zk, cmp_double);
        for (size_t q = 0; q < sizeof qs / sizeof qs[0]; q++) {
            double got = zk[(int64_t)(qs[q] * (double)m)], want = ard__dr1_sample_z(k, qs[q]);
            /* group members share their halo's redshift: allow for the clumping */
            assert_true(fabs(got - want) < 0.04 + 0.03 * want);
        }
        free(zk);
    }
}

/* Counts per NSIDE-8 pixel correlate with the DR1 density (bright for BGS, dark otherwise). */
static void test_sky_density(void **state) {
    fixture *fx = *state;
    const catalog *c = &fx->big;
    for (int prog = 0; prog < 2; prog++) {
        /* nested NSIDE 64 -> 8: drop the low 2*3 bits */
        double *ref = calloc(768, sizeof(double)), *got = calloc(768, sizeof(double));
        const float *dens = prog == 0 ? ard__dr1_density_bright : ard__dr1_density_dark;
        for (int i = 0; i < ard__dr1_density_npix; i++) {
            ref[ard__dr1_density_pix[i] >> 6] += dens[i];
        }
        int64_t outside = 0, total = 0;
        for (int64_t i = 0; i < c->n; i++) {
            if ((strcmp(c->program[i], "bright") == 0) != (prog == 0)) {
                continue;
            }
            got[c->healpix[i] >> 6] += 1.0;
            total++;
        }
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int p = 0; p < 768; p++) {
            sx += ref[p];
            sy += got[p];
            sxx += ref[p] * ref[p];
            syy += got[p] * got[p];
            sxy += ref[p] * got[p];
            outside += ref[p] == 0.0 ? (int64_t)got[p] : 0;
        }
        double n = 768.0;
        double r = (sxy - sx * sy / n) / sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
        assert_true(r > 0.9);
        assert_true((double)outside < 0.01 * (double)total); /* nothing far outside the footprint */
        free(ref);
        free(got);
    }
}

static void test_truth_consistency(void **state) {
    fixture *fx = *state;
    const catalog *c = &fx->big;
    ard_cosmology *cosmo = NULL;
    assert_int_equal(ard_cosmology_new(NULL, 6.0, &cosmo, NULL), ARD_OK);
    int64_t grouped = 0, anomalies = 0;
    double chi = 0.0;
    int64_t nchi = 0;
    for (int64_t i = 0; i < c->n; i++) {
        assert_int_equal(c->truth_tid[i], c->targetid[i]); /* row-matched */
        assert_true(i == 0 || c->targetid[i] > c->targetid[i - 1]);
        assert_string_equal(c->anomaly[i], ard_anomaly_name(c->anomaly_code[i]));
        anomalies += c->anomaly_code[i] != 0;
        if (c->anomaly_code[i] != ARD_ANOMALY_Z_BLUNDER) {
            assert_true(fabs(c->z[i] - c->z_true[i]) < 8.0 * c->zerr[i] + 1e-9);
        }
        if (c->group_id[i] >= 0) {
            grouped++;
            /* line-of-sight velocity in units of the group's sigma_v (about 1 for satellites) */
            double v = (c->z_true[i] - c->z_cosmo[i]) / (1.0 + c->z_cosmo[i]) * 299792.458;
            chi += v * v;
            nchi++;
        }
    }
    sv_assert_near((double)grouped / (double)c->n, 0.4, 0.02);
    assert_int_equal(grouped, fx->rep_big.grouped);
    assert_true(anomalies == 0 || (double)anomalies < 0.01 * (double)c->n); /* no spectra: none */
    double rms = sqrt(chi / (double)nchi);
    assert_true(rms > 100.0 && rms < 1000.0); /* fingers of god: a few hundred km/s */
    /* members of one group are within a few virial radii on the sky: check group 0..99 */
    for (int64_t g = 0; g < 100; g++) {
        double ra0 = 0, dec0 = 0, z0 = 0;
        int have = 0;
        for (int64_t i = 0; i < c->n; i++) {
            if (c->group_id[i] != g) {
                continue;
            }
            if (!have) {
                ra0 = c->ra[i];
                dec0 = c->dec[i];
                z0 = c->z_cosmo[i];
                have = 1;
            }
            double dra = (c->ra[i] - ra0) * cos(dec0 * M_PI / 180.0);
            dra = fabs(dra) > 180 ? 360 - fabs(dra) : dra;
            double sep = sqrt(dra * dra + (c->dec[i] - dec0) * (c->dec[i] - dec0)) * M_PI / 180.0;
            double rproj = sep * ard_cosmology_comoving_distance(cosmo, z0) * 0.6766 / (1 + z0);
            assert_true(rproj < 5.0); /* physical Mpc/h: R200 <= ~2.5 for 1e15 */
            sv_assert_near(c->z_cosmo[i], z0, 1e-12);
        }
    }
    ard_cosmology_free(cosmo);
}

static void test_truth_small_anomalies(void **state) {
    fixture *fx = *state;
    const catalog *c = &fx->small;
    int64_t count = 0, kinds[ARD_ANOMALY_COUNT] = {0};
    for (int64_t i = 0; i < c->n; i++) {
        assert_true(c->has_spec[i]);
        assert_true(c->present[i]);
        kinds[c->anomaly_code[i]]++;
        count += c->anomaly_code[i] != 0;
        if (c->anomaly_code[i] == ARD_ANOMALY_Z_BLUNDER) {
            assert_true(fabs(c->z[i] - c->z_true[i]) > 0.1);
        }
        if (c->anomaly_code[i] == ARD_ANOMALY_WRONG_CLASS) {
            assert_string_not_equal(c->spec_class[i], c->cls[i]);
        } else {
            assert_string_equal(c->spec_class[i], c->cls[i]);
        }
    }
    assert_int_equal(count, fx->rep_small.anomalies);
    assert_true(count > 20 && count < 75); /* 3% of 1500 */
    int distinct = 0;
    for (int k = 1; k < ARD_ANOMALY_COUNT; k++) {
        distinct += kinds[k] > 0;
    }
    assert_true(distinct >= 5);
}

static void test_tile_metadata(void **state) {
    fixture *fx = *state;
    char **files = NULL;
    int64_t nf = sv_list_files(fx->dir1, &files), tiles = 0;
    ard_grid def;
    ard_grid_default(&def);
    for (int64_t i = 0; i < nf; i++) {
        if (strncmp(files[i], "tiles/", 6) != 0) {
            continue;
        }
        tiles++;
        char survey[16], program[16];
        int64_t pix = -1;
        assert_int_equal(ard_dataset_parse_tile_path(files[i], survey, program, &pix, NULL),
                         ARD_OK);
        assert_string_equal(survey, "main");
        char *p = path_in(fx->dir1, files[i]);
        ard_parquet_file *f = NULL;
        assert_int_equal(ard_parquet_open(p, NULL, &f, NULL), ARD_OK);
        ard_grid g;
        assert_int_equal(ard_grid_parse(ard_parquet_kv_get(f, ARD_KV_GRID), &g, NULL), ARD_OK);
        assert_true(ard_grid_equal(&g, &def));
        assert_string_equal(ard_parquet_kv_get(f, ARD_KV_VERSION), ARD_SCHEMA_VERSION);
        ard_parquet_close(f);
        int64_t *ids = NULL;
        int64_t n = sv_read_numeric(p, "TARGETID", 8, (void **)&ids);
        for (int64_t r = 0; r < n; r++) {
            int64_t row = find_row(&fx->small, ids[r]);
            assert_true(row >= 0);
            assert_int_equal(fx->small.healpix[row], pix);
            assert_string_equal(fx->small.program[row], program);
        }
        free(ids);
        free(p);
    }
    assert_int_equal(tiles, fx->rep_small.tiles);
    sv_free_strings(files, nf);
}

static int64_t peak_near(const float *flux, const uint8_t *valid, int64_t n, double centre,
                         int half) {
    int64_t c = (int64_t)llround(centre), best = -1;
    float best_v = -1e30f;
    for (int64_t j = c - half; j <= c + half; j++) {
        if (j >= 1 && j < n - 1 && (!valid || valid[j])) {
            float v = flux[j - 1] + flux[j] + flux[j + 1];
            if (v > best_v) {
                best_v = v;
                best = j;
            }
        }
    }
    return best;
}

/* Noise-free models: emission lines peak within one pixel of (1+z) x rest. */
static void test_line_positions_model(void **state) {
    (void)state;
    ard_grid g;
    ard_grid_default(&g);
    ard__spec_ctx ctx;
    assert_int_equal(ard__spec_ctx_init(&ctx, &g, 1, NULL), ARD_OK);
    double *model = malloc((size_t)g.n * sizeof(double));
    float *fl = malloc((size_t)g.n * sizeof(float));
    static const struct {
        int cls;
        double z, rest;
    } cases[] = {{ARD_CLASS_ELG, 0.8, 4862.71}, {ARD_CLASS_ELG, 0.8, 5008.24},
                 {ARD_CLASS_ELG, 1.3, 3728.5},  {ARD_CLASS_ELG, 0.3, 6564.60},
                 {ARD_CLASS_QSO, 2.5, 1549.06}, {ARD_CLASS_QSO, 1.2, 2798.75},
                 {ARD_CLASS_QSO, 0.3, 6564.60}, {ARD_CLASS_BGS, 0.2, 6564.60}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ard__spec_model(&ctx, cases[k].cls, cases[k].z, 5.0, 0, 77, model);
        for (int64_t j = 0; j < g.n; j++) {
            fl[j] = (float)model[j];
        }
        double want = ard_grid_index(&g, cases[k].rest * (1.0 + cases[k].z));
        int64_t got = peak_near(fl, NULL, g.n, want, 6);
        assert_true(fabs((double)got - want) <= 1.0);
    }
    free(model);
    free(fl);
    ard__spec_ctx_reset(&ctx);
}

/* The LRG model (real DESI stack): Ca II K and H absorption and a 4000 A break in F_lambda. */
static void test_lrg_model_features(void **state) {
    (void)state;
    ard_grid g;
    ard_grid_default(&g);
    ard__spec_ctx ctx;
    assert_int_equal(ard__spec_ctx_init(&ctx, &g, 1, NULL), ARD_OK);
    double *m = malloc((size_t)g.n * sizeof(double));
    const double z = 0.55;
    ard__spec_model(&ctx, ARD_CLASS_LRG, z, 5.0, 0, 77, m);
    double at_k = m[(int64_t)llround(ard_grid_index(&g, 3934.8 * (1 + z)))];
    double side = 0.5 * (m[(int64_t)llround(ard_grid_index(&g, 3900.0 * (1 + z)))] +
                         m[(int64_t)llround(ard_grid_index(&g, 4020.0 * (1 + z)))]);
    assert_true(at_k < 0.8 * side);
    double red = 0, blue = 0;
    int64_t nr = 0, nb = 0;
    for (int64_t j = 0; j < g.n; j++) {
        double lr = ctx.wl[j] / (1 + z);
        if (lr >= 4050 && lr <= 4250) {
            red += m[j];
            nr++;
        } else if (lr >= 3750 && lr <= 3950) {
            blue += m[j];
            nb++;
        }
    }
    assert_true((red / (double)nr) / (blue / (double)nb) > 1.5);
    free(m);
    ard__spec_ctx_reset(&ctx);
}

/* Noisy generated ELG spectra: the [OII] doublet peak sits at (1+z) x 3728.5 within 2 pixels. */
static void test_line_positions_data(void **state) {
    fixture *fx = *state;
    const catalog *c = &fx->small;
    ard_grid g;
    ard_grid_default(&g);
    int64_t tried = 0, hit = 0;
    for (int64_t i = 0; i < c->n; i++) {
        if (strcmp(c->cls[i], "ELG") != 0 || c->anomaly_code[i] != 0 || c->z_true[i] > 1.55 ||
            c->z_true[i] < 0.0) {
            continue;
        }
        double want = ard_grid_index(&g, 3728.48 * (1.0 + c->z_true[i]));
        const float *f = c->flux + i * c->width;
        int64_t got = peak_near(f, c->valid + i * c->width, c->width, want, 10);
        tried++;
        hit += got >= 0 && fabs((double)got - want) <= 2.0;
    }
    assert_true(tried > 100);
    assert_true((double)hit > 0.7 * (double)tried);
}

static double mean_rest(const catalog *c, int64_t i, const ard_grid *g, double lo, double hi) {
    double s = 0;
    int64_t n = 0;
    double z = c->z_true[i];
    for (int64_t j = (int64_t)ceil(ard_grid_index(g, lo * (1 + z)));
         j <= (int64_t)floor(ard_grid_index(g, hi * (1 + z))); j++) {
        if (j >= 0 && j < c->width && c->ivar[i * c->width + j] > 0) {
            s += c->flux[i * c->width + j];
            n++;
        }
    }
    return n ? s / (double)n : NAN;
}

/* Stacked over each class: LRG shows a strong 4000 A break, ELG hardly any. */
static void test_4000_break(void **state) {
    fixture *fx = *state;
    const catalog *c = &fx->small;
    ard_grid g;
    ard_grid_default(&g);
    for (int k = 0; k < 2; k++) {
        const char *want = k == 0 ? "LRG" : "ELG";
        double red = 0, blue = 0;
        int64_t used = 0;
        for (int64_t i = 0; i < c->n; i++) {
            if (strcmp(c->cls[i], want) != 0 || c->anomaly_code[i] != 0 || c->z_true[i] < 0.0 ||
                3750 * (1 + c->z_true[i]) < 3650 || 4250 * (1 + c->z_true[i]) > 9700) {
                continue;
            }
            double r = mean_rest(c, i, &g, 4050, 4250), b = mean_rest(c, i, &g, 3750, 3950);
            if (isfinite(r) && isfinite(b)) {
                red += r;
                blue += b;
                used++;
            }
        }
        assert_true(used > 50);
        double ratio = red / blue;
        if (k == 0) {
            assert_true(ratio > 1.5);
        } else {
            assert_true(ratio < 1.25);
        }
    }
}

static int cmp_float(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

/* Median S/N per pixel by class: BGS (bright, r < 20) well above ELG continua. */
static void test_snr_by_class(void **state) {
    fixture *fx = *state;
    const catalog *c = &fx->small;
    double med[4] = {0};
    for (int k = 0; k < 4; k++) {
        float *snr = malloc((size_t)c->n * sizeof(float));
        float *tmp = malloc((size_t)c->width * sizeof(float));
        int64_t m = 0;
        for (int64_t i = 0; i < c->n; i++) {
            if (ard_target_class_from_name(c->cls[i]) != k || c->anomaly_code[i] != 0) {
                continue;
            }
            int64_t q = 0;
            for (int64_t j = 0; j < c->width; j++) {
                float iv = c->ivar[i * c->width + j];
                if (iv > 0) {
                    tmp[q++] = c->flux[i * c->width + j] * sqrtf(iv);
                }
            }
            qsort(tmp, (size_t)q, sizeof *tmp, cmp_float);
            snr[m++] = q ? tmp[q / 2] : 0.0f;
        }
        qsort(snr, (size_t)m, sizeof *snr, cmp_float);
        med[k] = snr[m / 2];
        free(snr);
        free(tmp);
    }
    assert_true(med[ARD_CLASS_BGS] > 1.5 && med[ARD_CLASS_BGS] < 30.0);
    assert_true(med[ARD_CLASS_LRG] > 0.3 && med[ARD_CLASS_LRG] < 10.0);
    assert_true(med[ARD_CLASS_ELG] > 0.02 && med[ARD_CLASS_ELG] < 2.0);
    assert_true(med[ARD_CLASS_BGS] > 2.0 * med[ARD_CLASS_ELG]);
}

static void test_masks_and_anomaly_spectra(void **state) {
    fixture *fx = *state;
    const catalog *c = &fx->small;
    int64_t masked_spectra = 0, arm_drops = 0, flats = 0;
    for (int64_t i = 0; i < c->n; i++) {
        int64_t masked = 0, dropped = 0;
        for (int64_t j = 0; j < c->width; j++) {
            size_t k = (size_t)(i * c->width + j);
            if (c->ivar[k] == 0.0f) {
                assert_true(c->mask[k] != 0);
                assert_int_equal(c->valid[k], 0); /* FLUX null where masked */
                masked++;
            } else {
                assert_int_equal(c->mask[k], 0);
                assert_int_equal(c->valid[k], 1);
            }
            dropped += (c->mask[k] & ARD_MASK_ARMDROP) != 0;
        }
        masked_spectra += masked > 0;
        arm_drops += dropped > 500;
        if (c->anomaly_code[i] == ARD_ANOMALY_FLAT) {
            float first = NAN;
            for (int64_t j = 0; j < c->width; j++) {
                size_t k = (size_t)(i * c->width + j);
                if (c->valid[k]) {
                    first = isnan(first) ? c->flux[k] : first;
                    assert_true(c->flux[k] == first);
                }
            }
            flats++;
        }
    }
    assert_true(masked_spectra > c->n / 2); /* Poisson(2) bad-pixel runs per spectrum */
    assert_true(arm_drops >= 1);
    assert_true(flats >= 1);
}

/* The continuum's blocks (portable and the fastest this CPU runs) against the pixel-by-pixel
 * reference, bit for bit: every class, redshifts that put the 4000 A break, the LRG stack's edges
 * and the grid's ends at any pixel (and at block edges), grids of 2, 255, 257 and 4096 bins, log
 * and linear. Then the absorption lines over it: portable and AVX-512 (which skip the lines the LRG
 * stack covers at full weight) against every line computed; and the Ly-a forest's depth table. */
static void test_continuum_paths(void **state) {
    (void)state;
    ard_grid grids[5];
    ard_grid_default(&grids[0]);
    grids[1] = (ard_grid){ARD_GRID_LOG, 3000.0, 11000.0, 257};
    grids[2] = (ard_grid){ARD_GRID_LINEAR, 3600.0, 9800.0, 255};
    grids[3] = (ard_grid){ARD_GRID_LINEAR, 3999.0, 4001.0, 2};
    grids[4] = (ard_grid){ARD_GRID_LOG, 1000.0, 30000.0, 1000};
    for (int gi = 0; gi < 5; gi++) {
        ard__spec_ctx ctx;
        assert_int_equal(ard__spec_ctx_init(&ctx, &grids[gi], 1, NULL), ARD_OK);
        size_t bytes = (size_t)grids[gi].n * sizeof(double);
        double *ref = malloc(bytes), *blk = malloc(bytes), *fast = malloc(bytes);
        assert_non_null(ref);
        assert_non_null(blk);
        assert_non_null(fast);
        for (int32_t cls = 0; cls < ARD_CLASS_COUNT; cls++) {
            for (double z = 0.0; z < 4.0; z += 0.00731) {
                ard__spec_continuum(&ctx, cls, z, 1.7, ARD__CONT_PIXEL, ref);
                ard__spec_continuum(&ctx, cls, z, 1.7, ARD__CONT_BLOCKS, blk);
                ard__spec_continuum(&ctx, cls, z, 1.7, ARD__CONT_FASTEST, fast);
                assert_memory_equal(ref, blk, bytes);
                assert_memory_equal(ref, fast, bytes);
                ard__spec_absorption(&ctx, cls, z, ARD__CONT_PIXEL, ref);
                ard__spec_absorption(&ctx, cls, z, ARD__CONT_BLOCKS, blk);
                ard__spec_absorption(&ctx, cls, z, ARD__CONT_FASTEST, fast);
                assert_memory_equal(ref, blk, bytes);
                assert_memory_equal(ref, fast, bytes);
            }
        }
        for (int64_t j = 0; j < grids[gi].n; j++) { /* the Ly-a table: the forest's own formula */
            double tau = 0.0025 * exp(3.7 * (log(ctx.wl[j]) - log(1215.67)));
            assert_memory_equal(&ctx.lya_tau[j], &tau, sizeof tau);
        }
        free(ref);
        free(blk);
        free(fast);
        ard__spec_ctx_reset(&ctx);
    }
}

/* ard__exp_near within 2 ulp of exp over its range, dense near the break's |y| <= 40. */
static void test_exp_near(void **state) {
    (void)state;
    double worst = 0.0;
    for (int64_t k = -4000000; k <= 4000000; k++) {
        double y = (double)k * 1.0e-5 + 1.0e-7 * (double)(k % 7);
        worst = fmax(worst, fabs(ard__exp_near(y) - exp(y)) / exp(y));
    }
    for (int64_t k = -700000; k <= 700000; k++) {
        double y = (double)k * 1.0e-3;
        worst = fmax(worst, fabs(ard__exp_near(y) - exp(y)) / exp(y));
    }
    assert_true(worst <= 0x1p-51);
    assert_true(ard__exp_near(0.0) == 1.0);
}

int sv_run_generate_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_independent_bytes),
        cmocka_unit_test(test_seed_changes_output),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_class_mix_and_nofz),
        cmocka_unit_test(test_sky_density),
        cmocka_unit_test(test_truth_consistency),
        cmocka_unit_test(test_truth_small_anomalies),
        cmocka_unit_test(test_tile_metadata),
        cmocka_unit_test(test_line_positions_model),
        cmocka_unit_test(test_lrg_model_features),
        cmocka_unit_test(test_line_positions_data),
        cmocka_unit_test(test_4000_break),
        cmocka_unit_test(test_snr_by_class),
        cmocka_unit_test(test_masks_and_anomaly_spectra),
        cmocka_unit_test(test_continuum_paths),
        cmocka_unit_test(test_exp_near),
    };
    return cmocka_run_group_tests_name("survey_generate", tests, setup, teardown);
}
