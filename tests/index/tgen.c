/* The index tests' dataset generator (see tgen.h). Also compiled into bench_index_gen. */
#include "tgen.h"

#include "ard/parquet_write.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t mix(uint64_t x) { /* splitmix64 finaliser: a seeded, reproducible hash */
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

int64_t tgen_targetid(int32_t tile, int32_t row) {
    return 39627000000000ll + (int64_t)tile * 100000 + (int64_t)row * 3;
}

double tgen_z(int64_t targetid) {
    /* [0, 3.5), skewed to low z like a real survey: about 10% above z = 2.5 */
    double u = (double)(mix((uint64_t)targetid) % 1000000) / 1000000.0;
    return 3.5 * u * u * u;
}

const char *tgen_spectype(int64_t targetid) {
    double z = tgen_z(targetid);
    return z > 2.0 ? "QSO" : (mix((uint64_t)targetid + 7) % 10 == 0 ? "STAR" : "GALAXY");
}

float tgen_flux(int64_t targetid, int32_t k) {
    if (k == 3 && targetid % 17 == 0) {
        return NAN;
    }
    return (float)(targetid % 1000) + (float)k * 0.25f;
}

uint8_t tgen_mask(int64_t targetid, int32_t k) {
    if (tgen_flux(targetid, k) != tgen_flux(targetid, k)) {
        return 3; /* a null FLUX pixel: NODATA | BADPIX */
    }
    return (uint8_t)((targetid * 7 + k * 13) % 256 < 40 ? (targetid + k) % 256 : 0);
}

void tgen_tile_path(int32_t tile, char *out, size_t cap) {
    int32_t pix = 1000 + tile * 7;
    snprintf(out, cap, "tiles/main/%s/%d/%d.parquet", tile % 2 ? "bright" : "dark", pix / 100, pix);
}

static int fail(char *msg, size_t cap, const char *what, const ard_error *e) {
    snprintf(msg, cap, "%s: %s", what, e ? e->msg : strerror(errno));
    return -1;
}

static int mkdirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    return 0;
}

static int write_tile_columns(ard_pq_writer *w, int32_t tile, const tgen_opts *o, ard_error *e) {
    int64_t n = o->rows, width = o->width;
    int64_t *ids = ard_malloc((size_t)n * sizeof *ids);
    float *flux = ard_malloc((size_t)(n * width) * sizeof *flux);
    float *ivar = ard_malloc((size_t)(n * width) * sizeof *ivar);
    uint8_t *valid = ard_calloc((size_t)(n * width + 7) / 8, 1);
    uint8_t *mask = ard_malloc((size_t)(n * width + 1));
    int rc = ids && flux && ivar && valid && mask ? 0 : -1;
    for (int64_t r = 0; rc == 0 && r < n; r++) {
        ids[r] = tgen_targetid(tile, (int32_t)r);
        for (int64_t k = 0; k < width; k++) {
            float v = tgen_flux(ids[r], (int32_t)k);
            int64_t i = r * width + k;
            flux[i] = v == v ? v : 0.0f;
            ivar[i] = v == v ? 1.0f : 0.0f;
            mask[i] = tgen_mask(ids[r], (int32_t)k);
            valid[i >> 3] = (uint8_t)(valid[i >> 3] | ((v == v ? 1u : 0u) << (i & 7)));
        }
    }
    if (rc == 0 &&
        (ard_pq_writer_write_column(w, 0, ids, NULL, n, e) != ARD_OK ||
         ard_pq_writer_write_list_matrix(w, 1, flux, n, width, valid, NULL, e) != ARD_OK ||
         ard_pq_writer_write_list_matrix(w, 2, ivar, n, width, NULL, NULL, e) != ARD_OK ||
         ard_pq_writer_write_list_matrix(w, 3, mask, n, width, NULL, NULL, e) != ARD_OK)) {
        rc = -1;
    }
    ard_free(ids);
    ard_free(flux);
    ard_free(ivar);
    ard_free(valid);
    ard_free(mask);
    return rc;
}

int tgen_pixel_stats(int32_t tile, const tgen_opts *o, char *out, size_t cap) {
    static const char *const names[4] = {"BGS", "LRG", "ELG", "QSO"};
    int64_t rows[4] = {0}, nulls[4] = {0};
    for (int32_t r = 0; r < o->rows; r++) {
        rows[r % 4]++;
        for (int32_t k = 0; k < o->width; k++) {
            float v = tgen_flux(tgen_targetid(tile, r), k);
            nulls[r % 4] += v != v;
        }
    }
    size_t len = 0;
    for (int c = 0; c < 4; c++) {
        if (rows[c] > 0) {
            int w =
                snprintf(out + len, cap - len,
                         "%s\"%s\":{\"rows\":%lld,\"pixels\":%lld,\"flux_null\":%lld,"
                         "\"ivar_zero\":%lld}",
                         len ? "," : "{", names[c], (long long)rows[c],
                         (long long)(rows[c] * o->width), (long long)nulls[c], (long long)nulls[c]);
            if (w < 0 || (size_t)w >= cap - len) {
                return -1;
            }
            len += (size_t)w;
        }
    }
    int w = snprintf(out + len, cap - len, "%s", len ? "}" : "{}");
    return w > 0 && (size_t)w < cap - len ? 0 : -1;
}

int tgen_write_tile(const char *path, int32_t tile, const tgen_opts *o, char *msg, size_t cap) {
    return tgen_write_tile_kv(path, tile, o, NULL, msg, cap);
}

int tgen_write_tile_kv(const char *path, int32_t tile, const tgen_opts *o, const char *pixel_stats,
                       char *msg, size_t cap) {
    ard_error e;
    ard_error_init(&e);
    ard_pq_schema_builder *sb = NULL;
    if (ard_pq_schema_new(&sb, &e) != ARD_OK) {
        return fail(msg, cap, path, &e);
    }
    int32_t id = -1;
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, &id, &e);
    ard_pq_schema_set_sorted(sb, id, 1, &e);
    ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, NULL,
                           &e);
    ard_pq_schema_add_list(sb, "IVAR", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, NULL,
                           &e);
    ard_pq_logical u8;
    memset(&u8, 0, sizeof u8);
    u8.kind = ARD_PQ_LT_INTEGER;
    u8.bit_width = 8; /* MASK list<uint8> as in the survey tiles */
    ard_pq_schema_add_list(sb, "MASK", ARD_PQ_INT32, ARD_PQ_REQUIRED, ARD_PQ_REQUIRED, &u8, NULL,
                           &e);
    ard_pq_writer_options wo;
    ard_pq_writer_options_init(&wo);
    wo.rows_per_row_group = o->rows_per_group;
    wo.disable_crc = 1;
    const char *keys[3] = {"ard.grid", "ard.version", "ard.pixel_stats"};
    const char *vals[3] = {"kind=log;start=3600;stop=9824;n=4096", "1", pixel_stats};
    wo.num_kv = pixel_stats ? 3 : 2;
    wo.kv_keys = keys;
    wo.kv_values = vals;
    ard_pq_writer *w = NULL;
    int rc = mkdirs(path) == 0 && ard_pq_writer_open(path, sb, &wo, &w, &e) == ARD_OK ? 0 : -1;
    ard_pq_schema_free(sb);
    if (rc == 0) {
        rc = write_tile_columns(w, tile, o, &e);
    }
    if (rc == 0) {
        rc = ard_pq_writer_close(w, &e) == ARD_OK ? 0 : -1;
    } else {
        ard_pq_writer_abort(w);
    }
    return rc == 0 ? 0 : fail(msg, cap, path, &e);
}

/* Catalog rows: every tile row, then extra_galaxies without spectra. */
static int64_t catalog_id(const tgen_opts *o, int64_t i) {
    int64_t with = (int64_t)o->tiles * o->rows;
    return i < with ? tgen_targetid((int32_t)(i / o->rows), (int32_t)(i % o->rows))
                    : 39700000000000ll + (i - with);
}

static int write_catalog_part(const char *path, const tgen_opts *o, int64_t first, int64_t n,
                              ard_error *e) {
    ard_pq_schema_builder *sb = NULL;
    ard_pq_logical str = {0};
    str.kind = ARD_PQ_LT_STRING;
    if (ard_pq_schema_new(&sb, e) != ARD_OK) {
        return -1;
    }
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, e);
    ard_pq_schema_add_column(sb, "Z", ARD_PQ_DOUBLE, ARD_PQ_REQUIRED, NULL, 0, NULL, e);
    ard_pq_schema_add_column(sb, "ZWARN", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, e);
    ard_pq_schema_add_column(sb, "SPECTYPE", ARD_PQ_BYTE_ARRAY, ARD_PQ_OPTIONAL, &str, 0, NULL, e);
    ard_pq_schema_add_column(sb, "TARGET_RA", ARD_PQ_DOUBLE, ARD_PQ_REQUIRED, NULL, 0, NULL, e);
    ard_pq_writer *w = NULL;
    int rc = ard_pq_writer_open(path, sb, NULL, &w, e) == ARD_OK ? 0 : -1;
    ard_pq_schema_free(sb);
    int64_t *ids = ard_malloc((size_t)(n + 1) * 8), *zwarn = ard_malloc((size_t)(n + 1) * 8);
    double *z = ard_malloc((size_t)(n + 1) * 8), *ra = ard_malloc((size_t)(n + 1) * 8);
    int64_t *off = ard_malloc((size_t)(n + 1) * 8);
    char *text = ard_malloc((size_t)(n + 1) * 8);
    rc = rc == 0 && ids && zwarn && z && ra && off && text ? 0 : -1;
    int64_t at = 0;
    for (int64_t i = 0; rc == 0 && i < n; i++) {
        ids[i] = catalog_id(o, first + i);
        z[i] = tgen_z(ids[i]);
        zwarn[i] = ids[i] % 5 == 0 ? 4 : 0;
        ra[i] = (double)(ids[i] % 36000) / 100.0;
        off[i] = at;
        const char *s = tgen_spectype(ids[i]);
        memcpy(text + at, s, strlen(s));
        at += (int64_t)strlen(s);
    }
    off[n] = at;
    if (rc == 0 && (ard_pq_writer_write_column(w, 0, ids, NULL, n, e) ||
                    ard_pq_writer_write_column(w, 1, z, NULL, n, e) ||
                    ard_pq_writer_write_column(w, 2, zwarn, NULL, n, e) ||
                    ard_pq_writer_write_binary(w, 3, off, (const uint8_t *)text, NULL, n, e) ||
                    ard_pq_writer_write_column(w, 4, ra, NULL, n, e))) {
        rc = -1;
    }
    rc = rc == 0 && ard_pq_writer_close(w, e) == ARD_OK ? 0 : -1;
    if (rc != 0 && w) {
        ard_pq_writer_abort(w);
    }
    ard_free(ids);
    ard_free(zwarn);
    ard_free(z);
    ard_free(ra);
    ard_free(off);
    ard_free(text);
    return rc;
}

int tgen_catalog(const char *dir, const tgen_opts *o, char *msg, size_t cap) {
    char path[4096];
    int64_t total = (int64_t)o->tiles * o->rows + o->extra_galaxies;
    int32_t parts = o->catalog_files > 0 ? o->catalog_files : 1;
    for (int32_t p = 0; p < parts; p++) {
        int64_t first = total * p / parts, last = total * (p + 1) / parts;
        snprintf(path, sizeof path, "%s/catalog/zcatalog-%04d.parquet", dir, p);
        ard_error e;
        ard_error_init(&e);
        if (mkdirs(path) != 0 || write_catalog_part(path, o, first, last - first, &e) != 0) {
            return fail(msg, cap, path, &e);
        }
    }
    return 0;
}

int tgen_dataset(const char *dir, const tgen_opts *o, char *msg, size_t cap) {
    char rel[256], path[4096];
    for (int32_t t = 0; t < o->tiles; t++) {
        tgen_tile_path(t, rel, sizeof rel);
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        if (tgen_write_tile(path, t, o, msg, cap) != 0) {
            return -1;
        }
    }
    return tgen_catalog(dir, o, msg, cap);
}
