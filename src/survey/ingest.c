/* `ard ingest desi`: DESI coadd (+ redrock) FITS files -> ARD tiles and zcatalog rows. Files are
 * read and resampled in parallel (one task per coadd), then rows are grouped by (SURVEY, PROGRAM,
 * HEALPix) into tiles sorted by TARGETID, and the catalog is written sorted by TARGETID. */
#include "survey_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void ard_ingest_options_init(ard_ingest_options *opts) {
    memset(opts, 0, sizeof *opts);
    ard_grid_default(&opts->grid);
}

typedef struct ingest_file {
    char *coadd, *redrock; /* owned */
    ard__coadd c;
    ard__redrock rr;
    int has_rr;
    int64_t *rr_row;    /* coadd row -> redrock row */
    float *flux, *ivar; /* nspec x grid.n */
    uint8_t *mask;
    char survey[16], program[16];
    ard_status status;
    ard_error error;
} ingest_file;

typedef struct ingest_run {
    const ard_ingest_options *opts;
    ingest_file *files;
    int64_t n_files, cap_files;
    double *edges;
    ard_progress *progress;
} ingest_run;

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* "coadd-X.fits" / "redrock-X.fits" -> pointer to "X.fits", else NULL. */
static const char *suffix_of(const char *path, const char *prefix) {
    const char *b = base_name(path);
    size_t len = strlen(prefix);
    return strncmp(b, prefix, len) == 0 ? b + len : NULL;
}

static char *join_path(const char *dir, const char *name) {
    size_t len = strlen(dir) + strlen(name) + 2;
    char *out = ard_malloc(len);
    if (out) {
        snprintf(out, len, "%s/%s", dir, name);
    }
    return out;
}

/* The redrock file next to a coadd (same directory, same suffix), or NULL if none exists. */
static char *sibling_redrock(const char *coadd) {
    const char *suf = suffix_of(coadd, "coadd-");
    if (!suf) {
        return NULL;
    }
    size_t dirlen = (size_t)(base_name(coadd) - coadd);
    size_t len = dirlen + strlen("redrock-") + strlen(suf) + 1;
    char *out = ard_malloc(len);
    if (!out) {
        return NULL;
    }
    snprintf(out, len, "%.*sredrock-%s", (int)dirlen, coadd, suf);
    struct stat sb;
    if (stat(out, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        ard_free(out);
        return NULL;
    }
    return out;
}

static ard_status add_coadd(ingest_run *run, const char *path, ard_error *err) {
    if (run->n_files == run->cap_files) {
        int64_t cap = run->cap_files ? 2 * run->cap_files : 16;
        ingest_file *nf = ard_realloc(run->files, (size_t)cap * sizeof *nf);
        if (!nf) {
            return ard_error_set(err, ARD_ENOMEM, "ingest: no memory for the file list");
        }
        run->files = nf;
        run->cap_files = cap;
    }
    ingest_file *f = &run->files[run->n_files];
    memset(f, 0, sizeof *f);
    f->coadd = ard_strdup(path);
    if (!f->coadd) {
        return ard_error_set(err, ARD_ENOMEM, "ingest: no memory");
    }
    f->redrock = sibling_redrock(path);
    run->n_files++;
    return ARD_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static ard_status add_directory(ingest_run *run, const char *dir, ard_error *err) {
    DIR *d = opendir(dir);
    if (!d) {
        return ard_error_set_errno(err, ARD_ENOENT, errno, "ingest: cannot read directory %s", dir);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    ard_status st = ARD_OK;
    for (struct dirent *e = readdir(d); e && st == ARD_OK; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "coadd-", 6) != 0 || len < 11 ||
            strcmp(e->d_name + len - 5, ".fits") != 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = ard_realloc(names, cap * sizeof *nn);
            st = nn ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "ingest: no memory");
            names = nn ? nn : names;
        }
        if (st == ARD_OK) {
            names[n] = join_path(dir, e->d_name);
            st = names[n++] ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "ingest: no memory");
        }
    }
    closedir(d);
    if (names) {
        qsort(names, n, sizeof *names, cmp_str); /* deterministic order */
    }
    for (size_t i = 0; i < n; i++) {
        if (st == ARD_OK && names[i]) {
            st = add_coadd(run, names[i], err);
        }
        ard_free(names[i]);
    }
    ard_free(names);
    if (st == ARD_OK && n == 0) {
        st = ard_error_set(err, ARD_ENOENT, "ingest: no coadd-*.fits files in %s", dir);
    }
    return st;
}

/* An explicit redrock file: pair it with the listed coadd of the same suffix. */
static ard_status pair_redrock(ingest_run *run, const char *path, ard_error *err) {
    const char *suf = suffix_of(path, "redrock-");
    for (int64_t i = 0; suf && i < run->n_files; i++) {
        const char *cs = suffix_of(run->files[i].coadd, "coadd-");
        if (cs && strcmp(cs, suf) == 0) {
            ard_free(run->files[i].redrock);
            run->files[i].redrock = ard_strdup(path);
            return run->files[i].redrock ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "no memory");
        }
    }
    return ard_error_set(err, ARD_EINVAL, "ingest: %s: no coadd-%s among the inputs", path,
                         suf ? suf : base_name(path));
}

static ard_status collect_inputs(ingest_run *run, const char *const *paths, int32_t n,
                                 ard_error *err) {
    ard_status st = ARD_OK;
    for (int pass = 0; pass < 2 && st == ARD_OK; pass++) { /* coadds first, then redrocks */
        for (int32_t i = 0; i < n && st == ARD_OK; i++) {
            struct stat sb;
            if (stat(paths[i], &sb) != 0) {
                st = ard_error_set_errno(err, ARD_ENOENT, errno, "ingest: %s", paths[i]);
                break;
            }
            int is_rr = suffix_of(paths[i], "redrock-") != NULL;
            if (pass == 0 && S_ISDIR(sb.st_mode)) {
                st = add_directory(run, paths[i], err);
            } else if (pass == 0 && !is_rr && !S_ISDIR(sb.st_mode)) {
                st = add_coadd(run, paths[i], err);
            } else if (pass == 1 && is_rr && !S_ISDIR(sb.st_mode)) {
                st = pair_redrock(run, paths[i], err);
            }
        }
    }
    if (st == ARD_OK && run->n_files == 0) {
        st = ard_error_set(err, ARD_EINVAL, "ingest: no coadd files given");
    }
    return st;
}

/* ---- per file ---- */

static int cmp_i64_pair(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* rr_row[i] = the redrock row of coadd row i; the two TARGETID sets must be equal. */
static ard_status match_redrock(ingest_file *f, ard_error *err) {
    int64_t n = f->c.nspec;
    if (f->rr.n != n) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: %lld redshifts for %lld spectra in %s",
                             f->redrock, (long long)f->rr.n, (long long)n, f->coadd);
    }
    int64_t *pairs = ard_malloc((size_t)n * 2 * sizeof *pairs);
    f->rr_row = ard_malloc((size_t)n * sizeof *f->rr_row);
    if (!pairs || !f->rr_row) {
        ard_free(pairs);
        return ard_error_set(err, ARD_ENOMEM, "%s: no memory", f->redrock);
    }
    for (int64_t i = 0; i < n; i++) {
        pairs[2 * i] = f->rr.targetid[i];
        pairs[2 * i + 1] = i;
    }
    qsort(pairs, (size_t)n, 2 * sizeof *pairs, cmp_i64_pair);
    ard_status st = ARD_OK;
    for (int64_t i = 0; i < n && st == ARD_OK; i++) {
        int64_t key[2] = {f->c.targetid[i], 0};
        const int64_t *hit = bsearch(key, pairs, (size_t)n, 2 * sizeof *pairs, cmp_i64_pair);
        if (!hit) {
            st = ard_error_set(err, ARD_ECORRUPT,
                               "%s: TARGETIDs do not match %s (TARGETID %lld has no redshift)",
                               f->redrock, f->coadd, (long long)f->c.targetid[i]);
        } else {
            f->rr_row[i] = hit[1];
        }
    }
    ard_free(pairs);
    return st;
}

static ard_status process_file(ingest_run *run, ingest_file *f, ard_error *err) {
    const ard_grid *g = &run->opts->grid;
    ard_status st = ard__coadd_read(f->coadd, &f->c, err);
    if (st == ARD_OK && f->redrock) {
        st = ard__redrock_read(f->redrock, &f->rr, err);
        f->has_rr = st == ARD_OK;
        st = st ? st : match_redrock(f, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    const char *survey =
        run->opts->survey ? run->opts->survey : (f->c.survey[0] ? f->c.survey : "main");
    const char *program =
        run->opts->program ? run->opts->program : (f->c.program[0] ? f->c.program : "other");
    snprintf(f->survey, sizeof f->survey, "%s", survey);
    snprintf(f->program, sizeof f->program, "%s", program);
    for (char *p = f->survey; *p; p++) {
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    }
    for (char *p = f->program; *p; p++) {
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    }
    size_t cells = (size_t)(f->c.nspec * g->n);
    f->flux = ard_malloc(cells * sizeof(float));
    f->ivar = ard_malloc(cells * sizeof(float));
    f->mask = ard_malloc(cells);
    double *work = ard_malloc((size_t)(2 * g->n) * sizeof(double));
    if (!f->flux || !f->ivar || !f->mask || !work) {
        ard_free(work);
        return ard_error_set(err, ARD_ENOMEM, "%s: no memory for %lld spectra", f->coadd,
                             (long long)f->c.nspec);
    }
    for (int64_t i = 0; i < f->c.nspec; i++) {
        ard__resample_row(&f->c, i, g, run->edges, work, f->flux + i * g->n, f->ivar + i * g->n,
                          f->mask + i * g->n);
    }
    ard_free(work);
    return ARD_OK;
}

static void file_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    ingest_run *run = arg;
    ingest_file *f = &run->files[i];
    f->status = process_file(run, f, &f->error);
    ard_progress_add(run->progress, 1);
}

static void free_file(ingest_file *f) {
    ard_free(f->coadd);
    ard_free(f->redrock);
    ard__coadd_free(&f->c);
    ard__redrock_free(&f->rr);
    ard_free(f->rr_row);
    ard_free(f->flux);
    ard_free(f->ivar);
    ard_free(f->mask);
}

/* ---- output ---- */

typedef struct row_ref {
    const char *survey, *program; /* the file's */
    int64_t file, row, targetid, healpix;
} row_ref;

static int cmp_tile_order(const void *a, const void *b) {
    const row_ref *x = a, *y = b;
    int c = strcmp(x->survey, y->survey);
    c = c ? c : strcmp(x->program, y->program);
    if (c) {
        return c;
    }
    if (x->healpix != y->healpix) {
        return x->healpix < y->healpix ? -1 : 1;
    }
    return (x->targetid > y->targetid) - (x->targetid < y->targetid);
}

static int cmp_targetid(const void *a, const void *b) {
    const row_ref *x = a, *y = b;
    if (x->targetid != y->targetid) {
        return x->targetid < y->targetid ? -1 : 1;
    }
    return (x->file > y->file) - (x->file < y->file);
}

static ard_status write_one_tile(ingest_run *run, const char *out, const row_ref *refs, int64_t n,
                                 ard_error *err) {
    const ard_grid *g = &run->opts->grid;
    char path[4096];
    ard_status st = ard_dataset_tile_path(out, refs[0].survey, refs[0].program, refs[0].healpix,
                                          path, sizeof path, err);
    size_t cells = (size_t)(n * g->n);
    float *flux = ard_malloc(cells * sizeof(float));
    float *ivar = ard_malloc(cells * sizeof(float));
    uint8_t *mask = ard_malloc(cells);
    int64_t *ids = ard_malloc((size_t)n * sizeof *ids);
    int32_t *cls = ard_malloc((size_t)n * sizeof *cls);
    if (st == ARD_OK && (!flux || !ivar || !mask || !ids || !cls)) {
        st = ard_error_set(err, ARD_ENOMEM, "ingest: no memory for tile %s", path);
    }
    for (int64_t k = 0; st == ARD_OK && k < n; k++) {
        const ingest_file *f = &run->files[refs[k].file];
        size_t at = (size_t)(refs[k].row * g->n), to = (size_t)(k * g->n);
        memcpy(flux + to, f->flux + at, (size_t)g->n * sizeof(float));
        memcpy(ivar + to, f->ivar + at, (size_t)g->n * sizeof(float));
        memcpy(mask + to, f->mask + at, (size_t)g->n);
        ids[k] = refs[k].targetid;
        cls[k] = ard__coadd_class(&f->c, refs[k].row); /* as the catalog's TARGET_CLASS */
        if (k > 0 && ids[k] == ids[k - 1]) {
            st = ard_error_set(err, ARD_EINVAL,
                               "ingest: TARGETID %lld appears twice in tile %s "
                               "(in %s and %s)",
                               (long long)ids[k], path, run->files[refs[k - 1].file].coadd,
                               f->coadd);
        }
    }
    if (st == ARD_OK) {
        st =
            ard__write_tile(path, g, "ingest desi", ids, cls, flux, ivar, mask, n, NULL, NULL, err);
    }
    ard_free(flux);
    ard_free(ivar);
    ard_free(mask);
    ard_free(ids);
    ard_free(cls);
    return st;
}

static ard_status write_tiles(ingest_run *run, const char *out, row_ref *refs, int64_t n,
                              int64_t *tiles, ard_error *err) {
    qsort(refs, (size_t)n, sizeof *refs, cmp_tile_order);
    ard_status st = ARD_OK;
    *tiles = 0;
    for (int64_t a = 0; a < n && st == ARD_OK;) {
        int64_t b = a + 1;
        while (b < n && refs[b].healpix == refs[a].healpix &&
               strcmp(refs[b].survey, refs[a].survey) == 0 &&
               strcmp(refs[b].program, refs[a].program) == 0) {
            b++;
        }
        st = write_one_tile(run, out, refs + a, b - a, err);
        (*tiles)++;
        a = b;
    }
    return st;
}

/* Catalog strings and numbers for rows refs[0..n) (sorted by TARGETID). */
static ard_status write_catalog_part(ingest_run *run, const char *out, int32_t index,
                                     const row_ref *refs, int64_t n, ard_error *err) {
    char path[4096];
    ard_status st = ard_dataset_catalog_path(out, index, path, sizeof path, err);
    int64_t *i64 = ard_malloc((size_t)n * 4 * sizeof *i64);
    double *f64 = ard_malloc((size_t)n * 5 * sizeof *f64);
    float *f32 = ard_malloc((size_t)n * 4 * sizeof *f32);
    int32_t *i32 = ard_malloc((size_t)n * 3 * sizeof *i32);
    const char **strs = ard_malloc((size_t)n * 5 * sizeof *strs);
    if (st == ARD_OK && (!i64 || !f64 || !f32 || !i32 || !strs)) {
        st = ard_error_set(err, ARD_ENOMEM, "ingest: no memory for the catalog");
    }
    for (int64_t k = 0; st == ARD_OK && k < n; k++) {
        const ingest_file *f = &run->files[refs[k].file];
        int64_t r = refs[k].row, q = f->has_rr ? f->rr_row[r] : -1;
        i64[k] = refs[k].targetid;
        i64[n + k] = q >= 0 ? f->rr.zwarn[q] : 512; /* NODATA */
        i64[2 * n + k] = f->c.desi_target[r];
        i64[3 * n + k] = f->c.bgs_target[r];
        f64[k] = f->c.ra[r];
        f64[n + k] = f->c.dec[r];
        f64[2 * n + k] = q >= 0 ? f->rr.z[q] : NAN;
        f64[3 * n + k] = q >= 0 ? f->rr.zerr[q] : NAN;
        f64[4 * n + k] = q >= 0 ? f->rr.deltachi2[q] : NAN;
        f32[k] = f->c.flux_g[r];
        f32[n + k] = f->c.flux_r[r];
        f32[2 * n + k] = f->c.flux_z[r];
        f32[3 * n + k] = f->c.ebv[r];
        i32[k] = (int32_t)refs[k].healpix;
        i32[n + k] = f->c.fiberstatus[r];
        i32[2 * n + k] = 1;
        strs[k] = q >= 0 ? f->rr.spectype[q] : "";
        strs[n + k] = q >= 0 ? f->rr.subtype[q] : "";
        strs[2 * n + k] = f->survey;
        strs[3 * n + k] = f->program;
        int32_t cls = ard__coadd_class(&f->c, r);
        strs[4 * n + k] = cls >= 0 ? ard_target_class_name(cls) : ARD_CLASS_OTHER_NAME;
    }
    if (st == ARD_OK) {
        ard__catalog_rows rows = {.rows = n,
                                  .targetid = i64,
                                  .ra = f64,
                                  .dec = f64 + n,
                                  .z = f64 + 2 * n,
                                  .zerr = f64 + 3 * n,
                                  .deltachi2 = f64 + 4 * n,
                                  .zwarn = i64 + n,
                                  .desi_target = i64 + 2 * n,
                                  .bgs_target = i64 + 3 * n,
                                  .healpix = i32,
                                  .fiberstatus = i32 + n,
                                  .has_spectrum = i32 + 2 * n,
                                  .flux_g = f32,
                                  .flux_r = f32 + n,
                                  .flux_z = f32 + 2 * n,
                                  .ebv = f32 + 3 * n,
                                  .spectype = strs,
                                  .subtype = strs + n,
                                  .survey = strs + 2 * n,
                                  .program = strs + 3 * n,
                                  .target_class = strs + 4 * n};
        st = ard__write_catalog(path, &rows, "ingest desi", NULL, err);
    }
    ard_free(i64);
    ard_free(f64);
    ard_free(f32);
    ard_free(i32);
    ard_free(strs);
    return st;
}

static ard_status write_outputs(ingest_run *run, const char *out, ard_ingest_report *rep,
                                ard_error *err) {
    int64_t n = 0;
    for (int64_t i = 0; i < run->n_files; i++) {
        n += run->files[i].c.nspec;
    }
    row_ref *refs = ard_malloc((size_t)n * sizeof *refs);
    if (!refs) {
        return ard_error_set(err, ARD_ENOMEM, "ingest: no memory for %lld rows", (long long)n);
    }
    int64_t k = 0;
    for (int64_t i = 0; i < run->n_files; i++) {
        const ingest_file *f = &run->files[i];
        for (int64_t r = 0; r < f->c.nspec; r++, k++) {
            refs[k].survey = f->survey;
            refs[k].program = f->program;
            refs[k].file = i;
            refs[k].row = r;
            refs[k].targetid = f->c.targetid[r];
            refs[k].healpix = ard_healpix_ang2pix_nest(ARD_NSIDE, f->c.ra[r], f->c.dec[r]);
            refs[k].healpix = refs[k].healpix < 0 ? 0 : refs[k].healpix;
            rep->with_redshift += f->has_rr;
        }
    }
    ard_status st = write_tiles(run, out, refs, n, &rep->tiles, err);
    rep->spectra = st == ARD_OK ? n : 0;
    qsort(refs, (size_t)n, sizeof *refs, cmp_targetid);
    for (int64_t a = 0, index = 0; st == ARD_OK && a < n; a += ARD_CATALOG_ROWS_PER_FILE, index++) {
        int64_t rows = n - a < ARD_CATALOG_ROWS_PER_FILE ? n - a : ARD_CATALOG_ROWS_PER_FILE;
        st = write_catalog_part(run, out, (int32_t)index, refs + a, rows, err);
    }
    ard_free(refs);
    return st;
}

static ard_status make_edges(ingest_run *run, ard_error *err) {
    const ard_grid *g = &run->opts->grid;
    run->edges = ard_malloc((size_t)(g->n + 1) * sizeof(double));
    if (!run->edges) {
        return ard_error_set(err, ARD_ENOMEM, "ingest: no memory for the grid");
    }
    for (int64_t j = 0; j <= g->n; j++) {
        run->edges[j] = ard_grid_wavelength(g, (double)j - 0.5);
    }
    return ARD_OK;
}

ard_status ard_ingest_desi(const char *out_dir, const char *const *paths, int32_t n_paths,
                           const ard_ingest_options *opts, ard_ingest_report *report,
                           ard_error *err) {
    ard_ingest_options defaults;
    ard_ingest_options_init(&defaults);
    ingest_run run;
    memset(&run, 0, sizeof run);
    run.opts = opts ? opts : &defaults;
    ard_ingest_report rep;
    memset(&rep, 0, sizeof rep);
    ard_pool *pool = NULL;
    ard_status st = (out_dir && paths && n_paths > 0)
                        ? ard_grid_validate(&run.opts->grid, err)
                        : ard_error_set(err, ARD_EINVAL, "ingest: need an output and inputs");
    st = st ? st : ard_dataset_check_fresh(out_dir, err);
    st = st ? st : collect_inputs(&run, paths, n_paths, err);
    st = st ? st : make_edges(&run, err);
    st = st ? st : ard_pool_new(run.opts->threads, &pool, err);
    if (st == ARD_OK) {
        run.progress = run.opts->progress ? ard_progress_new("ingest", run.n_files) : NULL;
        ard_pool_for(pool, run.n_files, file_task, &run);
        ard_progress_done(run.progress);
        for (int64_t i = 0; i < run.n_files && st == ARD_OK; i++) {
            if (run.files[i].status != ARD_OK) {
                st = run.files[i].status;
                if (err) {
                    *err = run.files[i].error;
                }
            }
        }
    }
    rep.files = run.n_files;
    st = st ? st : write_outputs(&run, out_dir, &rep, err);
    st = st ? st : ard_sync_filesystem(out_dir, err); /* tiles defer their fsync */
    if (st == ARD_OK && report) {
        *report = rep;
    }
    for (int64_t i = 0; i < run.n_files; i++) {
        free_file(&run.files[i]);
    }
    ard_free(run.files);
    ard_free(run.edges);
    ard_pool_free(pool);
    return st;
}

ard_status ard_ingest_read_spectrum(const char *coadd_path, int64_t row, const ard_grid *grid,
                                    int64_t *targetid, float *flux, float *ivar, uint8_t *mask,
                                    ard_error *err) {
    ard__coadd c;
    ard_status st = (coadd_path && grid && targetid && flux && ivar && mask)
                        ? ard_grid_validate(grid, err)
                        : ard_error_set(err, ARD_EINVAL, "ingest: NULL argument");
    st = st ? st : ard__coadd_read(coadd_path, &c, err);
    if (st != ARD_OK) {
        return st;
    }
    double *edges = ard_malloc((size_t)(grid->n + 1) * sizeof(double));
    double *work = ard_malloc((size_t)(2 * grid->n) * sizeof(double));
    if (row < 0 || row >= c.nspec) {
        st = ard_error_set(err, ARD_ERANGE, "%s: row %lld outside 0..%lld", coadd_path,
                           (long long)row, (long long)c.nspec - 1);
    } else if (!edges || !work) {
        st = ard_error_set(err, ARD_ENOMEM, "%s: no memory", coadd_path);
    } else {
        for (int64_t j = 0; j <= grid->n; j++) {
            edges[j] = ard_grid_wavelength(grid, (double)j - 0.5);
        }
        ard__resample_row(&c, row, grid, edges, work, flux, ivar, mask);
        *targetid = c.targetid[row];
    }
    ard_free(edges);
    ard_free(work);
    ard__coadd_free(&c);
    return st;
}
