/* Dataset I/O of the cosmic-web stage: reads the catalog (catalog/zcatalog-NNNN.parquet: TARGETID,
 * TARGET_RA, TARGET_DEC, Z, TARGET_CLASS) and the generator's row-matched truth
 * (truth/galaxies-NNNN.parquet: WEB_CODE) through the dataset module's tile reader, and turns
 * (RA, Dec, Z) into comoving redshift-space positions (Planck 2018) and HEALPix pixels for the
 * split. The results writer below still uses the Parquet writer directly (scripts/check-layers.known)
 * until the stage writes through the result-run API. */
#include "science_int.h"

#include "ard/astro.h"
#include "ard/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CW_FINE_NSIDE 256  /* pixels are read at this resolution (0.05 deg^2) ... */
#define CW_SPLIT_PIXELS 32 /* ... and coarsened to the coarsest nside >= 8 with this many pixels */

void ard_cosmicweb_data_reset(ard_cosmicweb_data *d) {
    if (!d) {
        return;
    }
    ard_free(d->targetid);
    ard_free(d->xyz);
    ard_free(d->z);
    ard_free(d->target_class);
    ard_free(d->label);
    ard_free(d->pixel);
    memset(d, 0, sizeof *d);
}

static ard_status data_grow(ard_cosmicweb_data *d, int64_t need, int64_t *cap, ard_error *err) {
    if (need <= *cap) {
        return ARD_OK;
    }
    int64_t c = *cap ? *cap : 65536;
    while (c < need) {
        c *= 2;
    }
    int failed = 0;
    void **arrays[] = {(void **)&d->targetid,     (void **)&d->xyz,   (void **)&d->z,
                       (void **)&d->target_class, (void **)&d->label, (void **)&d->pixel};
    size_t sizes[] = {8, 24, 8, 4, 4, 8};
    for (int i = 0; i < 6; i++) {
        void *p = ard_realloc(*arrays[i], (size_t)c * sizes[i]);
        failed |= !p;
        *arrays[i] = p ? p : *arrays[i];
    }
    if (failed) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory loading the catalog");
    }
    *cap = c;
    return ARD_OK;
}

/* One row group of the catalog (and truth) columns the stage needs. */
typedef struct cw_rowgroup {
    int64_t *tid;
    double *ra, *dec, *z;
    int32_t *web;
    int64_t *cls_offsets;
    ard_buf cls;
} cw_rowgroup;

static void rowgroup_reset(cw_rowgroup *g) {
    ard_free(g->tid);
    ard_free(g->ra);
    ard_free(g->dec);
    ard_free(g->z);
    ard_free(g->web);
    ard_free(g->cls_offsets);
    ard_buf_reset(&g->cls);
    memset(g, 0, sizeof *g);
}

static ard_status rowgroup_alloc(cw_rowgroup *g, int64_t rows, ard_error *err) {
    size_t n = (size_t)(rows > 0 ? rows : 1);
    g->tid = ard_malloc(n * sizeof *g->tid);
    g->ra = ard_malloc(n * sizeof *g->ra);
    g->dec = ard_malloc(n * sizeof *g->dec);
    g->z = ard_malloc(n * sizeof *g->z);
    g->web = ard_malloc(n * sizeof *g->web);
    g->cls_offsets = ard_malloc((n + 1) * sizeof *g->cls_offsets);
    if (!g->tid || !g->ra || !g->dec || !g->z || !g->web || !g->cls_offsets) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory loading the catalog");
    }
    return ARD_OK;
}

static int32_t class_of(const cw_rowgroup *g, int64_t i) {
    static const char *const names[4] = {"BGS", "LRG", "ELG", "QSO"};
    const char *s = (const char *)g->cls.data + g->cls_offsets[i];
    int64_t len = g->cls_offsets[i + 1] - g->cls_offsets[i];
    for (int32_t k = 0; k < 4; k++) {
        if (len == 3 && memcmp(s, names[k], 3) == 0) {
            return k;
        }
    }
    return -1;
}

/* Appends the galaxies (Z > 0) of one row group. */
static void append_rows(ard_cosmicweb_data *d, const cw_rowgroup *g, int64_t rows,
                        const ard_cosmology *cosmo, int has_truth) {
    const int64_t *tid = g->tid;
    const double *ra = g->ra, *dec = g->dec, *z = g->z;
    const int32_t *web = has_truth ? g->web : NULL;
    for (int64_t i = 0; i < rows; i++) {
        if (!(z[i] > 0.0) || !isfinite(ra[i]) || !isfinite(dec[i])) {
            d->skipped++;
            continue;
        }
        int64_t at = d->n++;
        double a = ra[i] * M_PI / 180.0, b = dec[i] * M_PI / 180.0;
        double dc = ard_cosmology_comoving_distance(cosmo, z[i]);
        d->targetid[at] = tid[i];
        d->xyz[3 * at] = dc * cos(b) * cos(a);
        d->xyz[3 * at + 1] = dc * cos(b) * sin(a);
        d->xyz[3 * at + 2] = dc * sin(b);
        d->z[at] = z[i];
        d->target_class[at] = class_of(g, i);
        d->label[at] = web && web[i] >= 0 && web[i] < CW_C ? web[i] : -1;
        d->pixel[at] = ard_healpix_ang2pix_nest(CW_FINE_NSIDE, ra[i], dec[i]);
    }
}

/* Reads row group rg of the catalog (and the truth's WEB_CODE) into g. */
static ard_status read_rowgroup(const ard_tile *cat, const ard_tile *truth, int32_t rg,
                                int64_t rows, cw_rowgroup *g, ard_error *err) {
    ard_status st = rowgroup_alloc(g, rows, err);
    if (st == ARD_OK) {
        st = ard_tile_read_int64(cat, rg, ARD_COL_TARGETID, 0, rows, g->tid, err);
    }
    if (st == ARD_OK) {
        st = ard_tile_read_double(cat, rg, "TARGET_RA", g->ra, err);
    }
    if (st == ARD_OK) {
        st = ard_tile_read_double(cat, rg, "TARGET_DEC", g->dec, err);
    }
    if (st == ARD_OK) {
        st = ard_tile_read_double(cat, rg, "Z", g->z, err);
    }
    if (st == ARD_OK) {
        st = ard_tile_read_text(cat, rg, "TARGET_CLASS", &g->cls, g->cls_offsets, err);
    }
    if (st == ARD_OK && truth) {
        st = ard_tile_read_int32(truth, rg, ARD_TRUTH_WEB_CODE, g->web, err);
    }
    return st;
}

static ard_status load_pair(const char *cat_path, const char *truth_path, ard_cosmicweb_data *d,
                            int64_t *cap, const ard_cosmology *cosmo, ard_error *err) {
    ard_tile *cat = NULL, *truth = NULL;
    ard_status st = ard_tile_open(cat_path, &cat, err);
    FILE *probe = fopen(truth_path, "rb");
    int has_truth = probe != NULL;
    if (probe) {
        fclose(probe);
    }
    if (st == ARD_OK && has_truth) {
        st = ard_tile_open(truth_path, &truth, err);
    }
    int32_t groups = st == ARD_OK ? ard_tile_num_row_groups(cat) : 0;
    if (st == ARD_OK && has_truth && ard_tile_num_row_groups(truth) != groups) {
        st = ard_error_set(err, ARD_ECORRUPT, "%s: not row-matched with %s", truth_path, cat_path);
    }
    for (int32_t rg = 0; st == ARD_OK && rg < groups; rg++) {
        int64_t rows = ard_tile_row_group_rows(cat, rg);
        cw_rowgroup g;
        memset(&g, 0, sizeof g);
        ard_buf_init(&g.cls);
        st = data_grow(d, d->n + rows, cap, err);
        if (st == ARD_OK) {
            st = read_rowgroup(cat, truth, rg, rows, &g, err);
        }
        if (st == ARD_OK) {
            append_rows(d, &g, rows, cosmo, has_truth);
        }
        rowgroup_reset(&g);
    }
    d->has_truth = d->has_truth && has_truth;
    ard_tile_close(cat);
    ard_tile_close(truth);
    return st;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Distinct values of pixel >> shift (nested scheme: the parent pixel at a coarser nside). */
static int64_t distinct_parents(const int64_t *pixel, int64_t n, int shift, int64_t *scratch) {
    for (int64_t i = 0; i < n; i++) {
        scratch[i] = pixel[i] >> shift;
    }
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_i64);
    int64_t count = n > 0;
    for (int64_t i = 1; i < n; i++) {
        count += scratch[i] != scratch[i - 1];
    }
    return count;
}

/* Replaces the nside-256 pixels by their parents at the coarsest nside (8, 16, ..., 256) whose
 * footprint holds at least CW_SPLIT_PIXELS pixels: a full-sky survey splits by 53.7 deg^2 pixels,
 * a small sky cap by pixels small enough that validation and test both get some. */
static ard_status coarsen_pixels(ard_cosmicweb_data *d, ard_error *err) {
    int64_t *scratch = d->n > 0 ? ard_malloc((size_t)d->n * sizeof *scratch) : NULL;
    if (d->n > 0 && !scratch) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: split pixels");
    }
    int shift = 10; /* nside 256 -> 8 */
    while (shift > 0 && distinct_parents(d->pixel, d->n, shift, scratch) < CW_SPLIT_PIXELS) {
        shift -= 2;
    }
    for (int64_t i = 0; i < d->n; i++) {
        d->pixel[i] >>= shift;
    }
    d->split_nside = CW_FINE_NSIDE >> (shift / 2);
    ard_free(scratch);
    return ARD_OK;
}

ard_status ard_cosmicweb_data_load(const char *dataset, ard_cosmicweb_data *out, ard_error *err) {
    if (!out || !dataset) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: load needs a dataset and out");
    }
    memset(out, 0, sizeof *out);
    out->has_truth = 1;
    ard_cosmology *cosmo = NULL;
    ard_status st = ard_cosmology_new(NULL, 20.0, &cosmo, err);
    int64_t cap = 0;
    int32_t files = 0;
    for (int32_t i = 0; st == ARD_OK && i < 10000; i++) {
        char cat[4096], truth[4200];
        st = ard_dataset_catalog_path(dataset, i, cat, sizeof cat, err);
        FILE *probe = st == ARD_OK ? fopen(cat, "rb") : NULL;
        if (!probe) {
            break;
        }
        fclose(probe);
        snprintf(truth, sizeof truth, "%s/%s/galaxies-%04d.parquet", dataset, ARD_TRUTH_DIR,
                 (int)i);
        st = load_pair(cat, truth, out, &cap, cosmo, err);
        files++;
    }
    ard_cosmology_free(cosmo);
    if (st == ARD_OK && files == 0) {
        st = ard_error_set(err, ARD_ENOENT, "%s: no catalog/zcatalog-0000.parquet", dataset);
    }
    if (st != ARD_OK) {
        ard_cosmicweb_data_reset(out);
        return st;
    }
    out->has_truth = out->has_truth && files > 0;
    st = coarsen_pixels(out, err);
    if (st != ARD_OK) {
        ard_cosmicweb_data_reset(out);
    }
    return st;
}
