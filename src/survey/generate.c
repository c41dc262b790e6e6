/* ard_generate: the synthetic survey end to end — catalog and truth (gen_catalog.c), then catalog,
 * truth and tile files written in parallel. Every file's bytes depend only on the options, never on
 * which thread wrote it. */
#include "survey_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void ard_generate_options_init(ard_generate_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->seed = 1;
    opts->spectra_fraction = 1.0;
    ard_grid_default(&opts->grid);
    opts->anomaly_fraction = 0.001;
    opts->group_fraction = 0.4;
    opts->lss = 1;
    opts->lss_cells = 128;
    opts->lss_box = 256.0;
    opts->web_smoothing = 2.0;
    opts->web_lambda_th = 0.2;
    opts->lss_lpt_order = 1;
}

static ard_status check_region(const ard_generate_options *o, ard_error *err) {
    if (!isfinite(o->region_radius) || o->region_radius < 0.0 || o->region_radius > 90.0) {
        return ard_error_set(err, ARD_EINVAL, "generate: region radius %g deg outside [0, 90]",
                             o->region_radius);
    }
    if (o->region_radius > 0.0 && (!(o->region_ra >= 0.0 && o->region_ra < 360.0) ||
                                   !(o->region_dec >= -90.0 && o->region_dec <= 90.0))) {
        return ard_error_set(err, ARD_EINVAL,
                             "generate: region centre (%g, %g) outside RA [0, 360), Dec [-90, 90]",
                             o->region_ra, o->region_dec);
    }
    if (o->lss != 0 && o->lss != 1) {
        return ard_error_set(err, ARD_EINVAL, "generate: lss = %d (must be 0 or 1)", (int)o->lss);
    }
    if (o->lss && (!(o->lss_box > 0.0) || !isfinite(o->lss_box))) {
        return ard_error_set(err, ARD_EINVAL, "generate: lss_box = %g Mpc/h is not positive",
                             o->lss_box);
    }
    if (o->lss && o->lss_lpt_order != 1 && o->lss_lpt_order != 2) {
        return ard_error_set(err, ARD_EINVAL, "generate: lss_lpt_order = %d (must be 1 or 2)",
                             (int)o->lss_lpt_order);
    }
    if (o->lss && (!(o->web_smoothing > 0.0 && o->web_smoothing <= 100.0) ||
                   !isfinite(o->web_lambda_th) || fabs(o->web_lambda_th) > 100.0)) {
        return ard_error_set(err, ARD_EINVAL,
                             "generate: web_smoothing = %g Mpc/h (must be in (0, 100]) or "
                             "web_lambda_th = %g (must be finite, |.| <= 100)",
                             o->web_smoothing, o->web_lambda_th);
    }
    return ARD_OK;
}

static ard_status check_options(const ard_generate_options *o, ard_error *err) {
    ard_status st = check_region(o, err);
    if (st != ARD_OK) {
        return st;
    }
    if (o->galaxies < 1 || o->galaxies > INT64_C(1000000000)) {
        return ard_error_set(err, ARD_EINVAL, "generate: --galaxies must be 1..1e9 (got %lld)",
                             (long long)o->galaxies);
    }
    if (!(o->spectra_fraction >= 0.0 && o->spectra_fraction <= 1.0)) {
        return ard_error_set(err, ARD_EINVAL, "generate: spectra fraction %g outside [0, 1]",
                             o->spectra_fraction);
    }
    if (!(o->anomaly_fraction >= 0.0 && o->anomaly_fraction <= 1.0) ||
        !(o->group_fraction >= 0.0 && o->group_fraction <= 0.95)) {
        return ard_error_set(err, ARD_EINVAL,
                             "generate: anomaly fraction must be in [0, 1], group fraction in "
                             "[0, 0.95] (got %g, %g)",
                             o->anomaly_fraction, o->group_fraction);
    }
    return ard_grid_validate(&o->grid, err);
}

typedef struct gen_run {
    const char *out;
    const ard_generate_options *opts;
    const ard__galaxies *gal;
    const ard__groups *groups;
    const ard__web_truth *web;
    char web_params[512]; /* "ard.cosmic_web" metadata */
    ard__spec_ctx spec;
    char source[64];
    /* tiles: galaxy index ranges sharing a (program, pixel) */
    int64_t n_tiles;
    int64_t *tile_order; /* tiles by decreasing rows: the last tasks are short (no idle thread) */
    int64_t *tile_first; /* into tile_rows */
    int64_t *tile_rows;  /* galaxy indices, grouped per tile */
    ard_status *status;  /* per task */
    ard_error *errors;   /* per task */
    int64_t *bytes;      /* per task */
    ard_progress *progress;
    /* per pool thread: the arrays of the row group it is making, kept from tile to tile (fresh
     * arrays per tile page-faulted ~9 MB per 250-row tile: 3-4% of the spectra phase in perf) */
    struct tile_arrays *arrays;
    int32_t n_arrays;
    ard_parquet_writer_buffers *buffers; /* the tile writers' buffers, shared by the threads */
    ard_atomic_batch *batch;             /* commits the tiles, each durable before its rename */
} gen_run;

typedef struct tile_arrays {
    float *flux, *ivar;
    uint8_t *mask;
    double *scratch;
    int64_t *ids;
    int32_t *cls;
    int64_t rows; /* rows the arrays hold */
} tile_arrays;

/* CPU seconds of the whole process (every thread) so far. */
static double process_cpu_seconds(void) {
    struct timespec ts;
    return clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0
               ? (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec
               : 0.0;
}

static const char *program_of(int32_t cls) {
    return cls == ARD_CLASS_BGS ? "bright" : "dark";
}

static void fill_targeting(const ard__galaxies *g, int64_t i, int64_t *desi, int64_t *bgs) {
    static const int64_t bits[4] = {INT64_C(1) << 60, 1, 2, 4};
    *desi = bits[g->cls[i]];
    *bgs = 0;
    if (g->cls[i] == ARD_CLASS_BGS) {
        *bgs = g->flux_r[i] > 15.85f ? 2 : 1; /* BGS_BRIGHT r < 19.5, else BGS_FAINT */
    }
}

/* Catalog file k: rows [k * ROWS, ...). */
static ard_status write_catalog_file(gen_run *run, int64_t k, int64_t *bytes, ard_error *err) {
    const ard__galaxies *g = run->gal;
    int64_t first = k * ARD_CATALOG_ROWS_PER_FILE, n = g->n - first;
    n = n < ARD_CATALOG_ROWS_PER_FILE ? n : ARD_CATALOG_ROWS_PER_FILE;
    char path[4096];
    ard_status st = ard_dataset_catalog_path(run->out, (int32_t)k, path, sizeof path, err);
    const char **strs = ard_malloc((size_t)n * 5 * sizeof *strs);
    int64_t *i64 = ard_malloc((size_t)n * 2 * sizeof *i64);
    int32_t *i32 = ard_malloc((size_t)n * 3 * sizeof *i32);
    if (st == ARD_OK && (!strs || !i64 || !i32)) {
        st = ard_error_set(err, ARD_ENOMEM, "generate: no memory for catalog file %lld",
                           (long long)k);
    }
    for (int64_t j = 0; st == ARD_OK && j < n; j++) {
        int64_t i = first + j;
        int32_t cls = g->cls[i];
        strs[j] = cls == ARD_CLASS_QSO ? "QSO" : "GALAXY";
        strs[n + j] = "";
        strs[2 * n + j] = "main";
        strs[3 * n + j] = program_of(cls);
        strs[4 * n + j] = ard_target_class_name(cls);
        fill_targeting(g, i, &i64[j], &i64[n + j]);
        i32[j] = 0;
        i32[n + j] = g->has_spectrum[i];
        i32[2 * n + j] = g->healpix[i];
    }
    if (st == ARD_OK) {
        ard__catalog_rows r = {.rows = n,
                               .targetid = g->targetid + first,
                               .ra = g->ra + first,
                               .dec = g->dec + first,
                               .z = g->z_obs + first,
                               .zerr = g->zerr + first,
                               .deltachi2 = g->deltachi2 + first,
                               .zwarn = g->zwarn + first,
                               .desi_target = i64,
                               .bgs_target = i64 + n,
                               .healpix = i32 + 2 * n,
                               .fiberstatus = i32,
                               .has_spectrum = i32 + n,
                               .flux_g = g->flux_g + first,
                               .flux_r = g->flux_r + first,
                               .flux_z = g->flux_z + first,
                               .ebv = g->ebv + first,
                               .spectype = strs,
                               .subtype = strs + n,
                               .survey = strs + 2 * n,
                               .program = strs + 3 * n,
                               .target_class = strs + 4 * n};
        st = ard__write_catalog(path, &r, run->source, bytes, err);
    }
    ard_free(strs);
    ard_free(i64);
    ard_free(i32);
    return st;
}

static ard_status write_truth_file(gen_run *run, int64_t k, int64_t *bytes, ard_error *err) {
    const ard__galaxies *g = run->gal;
    const ard__web_truth *web = run->web;
    int64_t first = k * ARD_CATALOG_ROWS_PER_FILE, n = g->n - first;
    n = n < ARD_CATALOG_ROWS_PER_FILE ? n : ARD_CATALOG_ROWS_PER_FILE;
    char path[4096];
    int len = snprintf(path, sizeof path, "%s/%s/galaxies-%04lld.parquet", run->out, ARD_TRUTH_DIR,
                       (long long)k);
    const char **strs = ard_malloc((size_t)n * 3 * sizeof *strs);
    int32_t *i32 = ard_malloc((size_t)n * 4 * sizeof *i32);
    float *lam = ard_malloc((size_t)n * 3 * sizeof *lam);
    ard_status st = ARD_OK;
    if (len < 0 || (size_t)len >= sizeof path || !strs || !i32 || !lam) {
        st = ard_error_set(err, ARD_ENOMEM, "generate: truth file %lld: no memory or path too long",
                           (long long)k);
    }
    for (int64_t j = 0; st == ARD_OK && j < n; j++) {
        int64_t i = first + j;
        strs[j] = ard_anomaly_name(g->anomaly[i]);
        strs[n + j] = ard_target_class_name(ard__spectrum_class(run->opts->seed, g, i));
        strs[2 * n + j] = ard_web_class_name(web->cls[i]);
        i32[j] = g->is_central[i];
        i32[n + j] = g->anomaly[i];
        i32[2 * n + j] = g->has_spectrum[i];
        i32[3 * n + j] = web->cls[i];
        for (int e = 0; e < 3; e++) {
            lam[e * n + j] = web->lambda[3 * i + e];
        }
    }
    if (st == ARD_OK) {
        ard_parquet_table_column cols[] = {
            {"TARGETID", ARD_PARQUET_COL_INT64, ARD_PARQUET_COL_SORTED, g->targetid + first, NULL,
             NULL, 0},
            {ARD_TRUTH_GROUP_ID, ARD_PARQUET_COL_INT64, 0, g->group_id + first, NULL, NULL, 0},
            {"IS_CENTRAL", ARD_PARQUET_COL_INT32, 0, i32, NULL, NULL, 0},
            {"Z_COSMO", ARD_PARQUET_COL_DOUBLE, 0, g->z_cosmo + first, NULL, NULL, 0},
            {"Z_TRUE", ARD_PARQUET_COL_DOUBLE, 0, g->z_true + first, NULL, NULL, 0},
            {ARD_TRUTH_ANOMALY, ARD_PARQUET_COL_STRING, 0, strs, NULL, NULL, 0},
            {ARD_TRUTH_ANOMALY_CODE, ARD_PARQUET_COL_INT32, 0, i32 + n, NULL, NULL, 0},
            {"LOG_HALO_MASS", ARD_PARQUET_COL_DOUBLE, 0, g->log_mass + first, NULL, NULL, 0},
            {"HAS_SPECTRUM", ARD_PARQUET_COL_INT32, 0, i32 + 2 * n, NULL, NULL, 0},
            {"SPECTRUM_CLASS", ARD_PARQUET_COL_STRING, 0, strs + n, NULL, NULL, 0},
            {ARD_TRUTH_WEB_CLASS, ARD_PARQUET_COL_STRING, 0, strs + 2 * n, NULL, NULL, 0},
            {ARD_TRUTH_WEB_CODE, ARD_PARQUET_COL_INT32, 0, i32 + 3 * n, NULL, NULL, 0},
            {ARD_TRUTH_WEB_DELTA, ARD_PARQUET_COL_FLOAT, 0, web->delta + first, NULL, NULL, 0},
            {"WEB_LAMBDA1", ARD_PARQUET_COL_FLOAT, 0, lam, NULL, NULL, 0},
            {"WEB_LAMBDA2", ARD_PARQUET_COL_FLOAT, 0, lam + n, NULL, NULL, 0},
            {"WEB_LAMBDA3", ARD_PARQUET_COL_FLOAT, 0, lam + 2 * n, NULL, NULL, 0},
        };
        st = ard__write_survey_table(path, cols, (int32_t)(sizeof cols / sizeof cols[0]), n,
                                     run->source, ARD_KV_COSMIC_WEB, run->web_params, err);
        if (st == ARD_OK) {
            ard_file_size(path, bytes, NULL);
        }
    }
    ard_free(strs);
    ard_free(i32);
    ard_free(lam);
    return st;
}

static ard_status write_groups_file(gen_run *run, int64_t *bytes, ard_error *err) {
    const ard__groups *g = run->groups;
    char path[4096];
    int len = snprintf(path, sizeof path, "%s/%s/groups.parquet", run->out, ARD_TRUTH_DIR);
    int64_t *ids = ard_malloc((size_t)(g->n > 0 ? g->n : 1) * sizeof *ids);
    if (len < 0 || (size_t)len >= sizeof path || !ids) {
        ard_free(ids);
        return ard_error_set(err, ARD_ENOMEM, "generate: groups: no memory or path too long");
    }
    for (int64_t i = 0; i < g->n; i++) {
        ids[i] = i;
    }
    ard_parquet_table_column cols[] = {
        {ARD_TRUTH_GROUP_ID, ARD_PARQUET_COL_INT64, ARD_PARQUET_COL_SORTED, ids, NULL, NULL, 0},
        {"RA", ARD_PARQUET_COL_DOUBLE, 0, g->ra, NULL, NULL, 0},
        {"DEC", ARD_PARQUET_COL_DOUBLE, 0, g->dec, NULL, NULL, 0},
        {"Z", ARD_PARQUET_COL_DOUBLE, 0, g->z, NULL, NULL, 0},
        {"LOG_MASS", ARD_PARQUET_COL_DOUBLE, 0, g->log_mass, NULL, NULL, 0},
        {"N_MEMBERS", ARD_PARQUET_COL_INT32, 0, g->n_members, NULL, NULL, 0},
        {"R_VIR_MPC", ARD_PARQUET_COL_DOUBLE, 0, g->r_vir, NULL, NULL, 0},
        {"SIGMA_V", ARD_PARQUET_COL_DOUBLE, 0, g->sigma_v, NULL, NULL, 0},
    };
    ard_status st = ard__write_survey_table(path, cols, 8, g->n, run->source, NULL, NULL, err);
    if (st == ARD_OK) {
        ard_file_size(path, bytes, NULL);
    }
    ard_free(ids);
    return st;
}

/* Tasks 0..files-1 write catalog files, files..2*files-1 truth files, 2*files the groups file. */
static void table_task(void *arg, int64_t task, int thread_id) {
    (void)thread_id;
    gen_run *run = arg;
    int64_t files = (run->gal->n + ARD_CATALOG_ROWS_PER_FILE - 1) / ARD_CATALOG_ROWS_PER_FILE;
    ard_error *e = &run->errors[task];
    if (task < files) {
        run->status[task] = write_catalog_file(run, task, &run->bytes[task], e);
    } else if (task < 2 * files) {
        run->status[task] = write_truth_file(run, task - files, &run->bytes[task], e);
    } else {
        run->status[task] = write_groups_file(run, &run->bytes[task], e);
    }
}

/* ---- tiles ---- */

typedef struct tile_size {
    int64_t rows, tile;
} tile_size;

static int by_rows_desc(const void *a, const void *b) {
    const tile_size *x = a, *y = b;
    if (x->rows != y->rows) {
        return x->rows < y->rows ? 1 : -1;
    }
    return (x->tile > y->tile) - (x->tile < y->tile);
}

/* Largest tiles first (longest-processing-time order); without memory, tile order. */
static void order_tiles(gen_run *run) {
    size_t n = (size_t)(run->n_tiles > 0 ? run->n_tiles : 1);
    tile_size *sizes = ard_malloc(n * sizeof *sizes);
    run->tile_order = ard_malloc(n * sizeof *run->tile_order);
    if (sizes && run->tile_order) {
        for (int64_t t = 0; t < run->n_tiles; t++) {
            sizes[t] = (tile_size){run->tile_first[t + 1] - run->tile_first[t], t};
        }
        qsort(sizes, (size_t)run->n_tiles, sizeof *sizes, by_rows_desc);
        for (int64_t t = 0; t < run->n_tiles; t++) {
            run->tile_order[t] = sizes[t].tile;
        }
    } else {
        ard_free(run->tile_order);
        run->tile_order = NULL;
    }
    ard_free(sizes);
}

static ard_status plan_tiles(gen_run *run, ard_error *err) {
    const ard__galaxies *g = run->gal;
    int64_t with = 0;
    for (int64_t i = 0; i < g->n; i++) {
        with += g->has_spectrum[i];
    }
    run->tile_rows = ard_malloc((size_t)(with > 0 ? with : 1) * sizeof(int64_t));
    run->tile_first = ard_malloc((size_t)(2 * with + 2) * sizeof(int64_t));
    if (!run->tile_rows || !run->tile_first) {
        return ard_error_set(err, ARD_ENOMEM, "generate: no memory for the tile plan");
    }
    int64_t n_tiles = 0, used = 0;
    for (int64_t a = 0; a < g->n;) {
        int64_t b = a;
        while (b < g->n && g->healpix[b] == g->healpix[a]) {
            b++;
        }
        for (int prog = 0; prog < 2; prog++) { /* 0 bright (BGS), 1 dark */
            int64_t start = used;
            for (int64_t i = a; i < b; i++) {
                if (g->has_spectrum[i] && ((g->cls[i] == ARD_CLASS_BGS) == (prog == 0))) {
                    run->tile_rows[used++] = i;
                }
            }
            if (used > start) {
                run->tile_first[n_tiles++] = start;
            }
        }
        a = b;
    }
    run->tile_first[n_tiles] = used;
    run->n_tiles = n_tiles;
    order_tiles(run);
    return ARD_OK;
}

static void arrays_free(tile_arrays *a) {
    ard_free(a->flux);
    ard_free(a->ivar);
    ard_free(a->mask);
    ard_free(a->scratch);
    ard_free(a->ids);
    ard_free(a->cls);
    memset(a, 0, sizeof *a);
}

/* Makes `a` hold `rows` rows of n bins (reallocating only to grow); 0 or -1 out of memory. */
static int arrays_reserve(tile_arrays *a, int64_t rows, int64_t n) {
    if (a->rows >= rows && a->flux) {
        return 0;
    }
    arrays_free(a);
    a->flux = ard_malloc((size_t)(rows * n) * sizeof(float));
    a->ivar = ard_malloc((size_t)(rows * n) * sizeof(float));
    a->mask = ard_malloc((size_t)(rows * n));
    a->scratch = ard_malloc((size_t)n * sizeof(double));
    a->ids = ard_malloc((size_t)rows * sizeof(int64_t));
    a->cls = ard_malloc((size_t)rows * sizeof(int32_t));
    if (!a->flux || !a->ivar || !a->mask || !a->scratch || !a->ids || !a->cls) {
        arrays_free(a);
        return -1;
    }
    a->rows = rows;
    return 0;
}

static ard_status tile_path(const gen_run *run, int64_t t, char *path, size_t cap, ard_error *err) {
    int64_t gi0 = run->tile_rows[run->tile_first[t]];
    return ard_dataset_tile_path(run->out, "main", program_of(run->gal->cls[gi0]),
                                 run->gal->healpix[gi0], path, cap, err);
}

/* Makes and writes tile t a row group at a time (arrays of ARD__TILE_ROWS_PER_GROUP rows, reused
 * from tile to tile: they stay in cache between the model and the writer). */
static ard_status make_tile(gen_run *run, int64_t t, tile_arrays *a, int64_t *bytes,
                            ard_error *err) {
    const ard__galaxies *g = run->gal;
    int64_t first = run->tile_first[t], rows = run->tile_first[t + 1] - first;
    int64_t n = run->spec.grid.n;
    char path[4096];
    ard__tile_writer *tw = NULL;
    ard_status st = tile_path(run, t, path, sizeof path, err);
    if (st == ARD_OK && arrays_reserve(a, ARD__TILE_ROWS_PER_GROUP, n) != 0) {
        st = ard_error_set(err, ARD_ENOMEM, "generate: no memory for tile %s", path);
    }
    st = st ? st
            : ard__tile_writer_open(path, &run->spec.grid, run->source, rows, run->buffers,
                                    !run->opts->buffered_io, run->batch, &tw, err);
    for (int64_t r0 = 0; st == ARD_OK && r0 < rows; r0 += ARD__TILE_ROWS_PER_GROUP) {
        int64_t batch = rows - r0 < ARD__TILE_ROWS_PER_GROUP ? rows - r0 : ARD__TILE_ROWS_PER_GROUP;
        for (int64_t r = 0; r < batch; r++) {
            int64_t i = run->tile_rows[first + r0 + r];
            a->ids[r] = g->targetid[i];
            a->cls[r] = g->cls[i]; /* the catalog's TARGET_CLASS */
            ard__spec_make(&run->spec, g, i, a->scratch, a->flux + r * n, a->ivar + r * n,
                           a->mask + r * n);
        }
        st = ard__tile_writer_append(tw, a->ids, a->cls, a->flux, a->ivar, a->mask, batch, err);
        ard_progress_add(run->progress, batch);
    }
    if (st != ARD_OK) {
        ard__tile_writer_abort(tw);
        return st;
    }
    return ard__tile_writer_close(tw, bytes, err);
}

static void tile_task(void *arg, int64_t task, int thread_id) {
    gen_run *run = arg;
    int64_t t = run->tile_order ? run->tile_order[task] : task; /* results stay in tile order */
    tile_arrays own = {0}; /* a thread id outside the table (never expected): arrays of its own */
    int kept = thread_id >= 0 && thread_id < run->n_arrays;
    tile_arrays *a = kept ? &run->arrays[thread_id] : &own;
    run->status[t] = make_tile(run, t, a, &run->bytes[t], &run->errors[t]);
    arrays_free(&own);
}

/* Runs count tasks and returns the first failure in task order (deterministic message). */
static ard_status run_tasks(ard_pool *pool, gen_run *run, int64_t count, ard_task_fn fn,
                            int64_t *bytes_total, ard_error *err) {
    run->status = ard_calloc((size_t)(count > 0 ? count : 1), sizeof *run->status);
    run->errors = ard_calloc((size_t)(count > 0 ? count : 1), sizeof *run->errors);
    run->bytes = ard_calloc((size_t)(count > 0 ? count : 1), sizeof *run->bytes);
    ard_status st = ARD_OK;
    if (!run->status || !run->errors || !run->bytes) {
        st = ard_error_set(err, ARD_ENOMEM, "generate: no memory for %lld tasks", (long long)count);
    } else {
        ard_pool_for(pool, count, fn, run);
        for (int64_t t = 0; t < count; t++) {
            *bytes_total += run->bytes[t];
            if (st == ARD_OK && run->status[t] != ARD_OK) {
                st = run->status[t];
                if (err) {
                    *err = run->errors[t];
                }
            }
        }
    }
    ard_free(run->status);
    ard_free(run->errors);
    ard_free(run->bytes);
    run->status = NULL;
    run->errors = NULL;
    run->bytes = NULL;
    return st;
}

/* Waits for the tiles' background commits (each tile fdatasynced by its I/O thread before its
 * rename: no tile appears before its bytes are durable) and fsyncs the survey's directories (the
 * catalog and truth files fsynced themselves and their directories at commit): durable before
 * success is reported, without flushing what other processes have dirty on the file system (a
 * syncfs did: 0.3-1.8 s under load). Adds the tiles' bytes; returns st or the first failure. */
static ard_status finish_durable(gen_run *run, ard_status st, int64_t *bytes, ard_error *err) {
    if (!run->batch) {
        return st;
    }
    char path[4096];
    ard_error ignored;
    ard_error_init(&ignored);
    if (st == ARD_OK &&
        ard_dataset_catalog_path(run->out, 0, path, sizeof path, &ignored) == ARD_OK) {
        *strrchr(path, '/') = '\0'; /* the catalog directory, and the survey's above it */
        ard_atomic_batch_add_dir(run->batch, path);
    }
    if (st == ARD_OK &&
        snprintf(path, sizeof path, "%s/%s", run->out, ARD_TRUTH_DIR) < (int)sizeof path) {
        ard_atomic_batch_add_dir(run->batch, path);
    }
    ard_status fin = ard_atomic_batch_finish(run->batch, st == ARD_OK ? err : &ignored);
    run->batch = NULL;
    st = st ? st : fin;
    for (int64_t t = 0; st == ARD_OK && t < run->n_tiles; t++) {
        int64_t size = 0;
        if (tile_path(run, t, path, sizeof path, &ignored) == ARD_OK &&
            ard_file_size(path, &size, NULL) == ARD_OK) {
            *bytes += size;
        }
    }
    return st;
}

static ard_status make_out_dir(const char *out, ard_error *err) {
    char probe[4096];
    int len = snprintf(probe, sizeof probe, "%s/x", out);
    if (len < 0 || (size_t)len >= sizeof probe) {
        return ard_error_set(err, ARD_EINVAL, "generate: output path too long");
    }
    ard_status st = ard_dataset_mkdirs_for(probe, err);
    struct stat sbuf;
    if (st == ARD_OK && (stat(out, &sbuf) != 0 || !S_ISDIR(sbuf.st_mode))) {
        return ard_error_set(err, ARD_EIO, "generate: %s is not a directory", out);
    }
    return st;
}

static void fill_report(const gen_run *run, const ard__groups *groups, ard_generate_report *rep) {
    const ard__galaxies *g = run->gal;
    memset(rep, 0, sizeof *rep);
    rep->galaxies = g->n;
    rep->groups = groups->n;
    for (int64_t i = 0; i < g->n; i++) {
        rep->grouped += g->group_id[i] >= 0;
        rep->spectra += g->has_spectrum[i];
        rep->anomalies += g->anomaly[i] != ARD_ANOMALY_NONE;
        rep->class_counts[g->cls[i]]++;
    }
    rep->tiles = run->n_tiles;
    rep->catalog_files = (g->n + ARD_CATALOG_ROWS_PER_FILE - 1) / ARD_CATALOG_ROWS_PER_FILE;
}

ard_status ard_generate(const char *out_dir, const ard_generate_options *user_opts,
                        ard_generate_report *report, ard_error *err) {
    ard_generate_options resolved;
    const ard_generate_options *opts = &resolved;
    if (user_opts) {
        resolved = *user_opts;
        if (resolved.galaxies == 0 && resolved.region_radius > 0.0) {
            resolved.galaxies = ard__region_galaxies(&resolved); /* DR1 density in the cap */
        }
    }
    ard_status st = (out_dir && user_opts)
                        ? check_options(opts, err)
                        : ard_error_set(err, ARD_EINVAL, "generate: NULL argument");
    st = st ? st : ard_dataset_check_fresh(out_dir, err);
    st = st ? st : make_out_dir(out_dir, err);
    ard_pool *pool = NULL;
    ard_cosmology *cosmo = NULL;
    ard__galaxies gal;
    ard__groups groups;
    ard__web_truth web;
    ard__lss lss;
    memset(&lss, 0, sizeof lss);
    memset(&gal, 0, sizeof gal);
    memset(&groups, 0, sizeof groups);
    memset(&web, 0, sizeof web);
    ard_tweb_params web_params;
    ard_tweb_params_default(&web_params);
    gen_run run;
    memset(&run, 0, sizeof run);
    int64_t bytes = 0;
    double t0 = ard__now(), t1 = t0, cpu1 = 0.0;
    st = st ? st : ard_pool_new(opts->threads, &pool, err);
    st = st ? st : ard_cosmology_new(NULL, 6.0, &cosmo, err);
    double tw = ard__now();
    if (st == ARD_OK && opts->lss) {
        st = ard__lss_new(opts, &lss, err);
    }
    tw = ard__now() - tw;
    st = st ? st : ard__gen_catalog(opts, pool, cosmo, opts->lss ? &lss : NULL, &gal, &groups, err);
    double tw2 = ard__now();
    if (st == ARD_OK && opts->lss) {
        st = ard__gen_cosmic_web_grid(&gal, cosmo, &lss, pool, &web, err);
        if (st == ARD_OK &&
            !ard__web_grid_params_format(&lss, opts, run.web_params, sizeof run.web_params)) {
            st = ard_error_set(err, ARD_EINTERNAL, "generate: cosmic-web parameters too long");
        }
    } else if (st == ARD_OK) {
        st = ard__gen_cosmic_web(&gal, &groups, cosmo, &web_params, pool, &web, err);
        if (st == ARD_OK &&
            !ard__web_params_format(&web_params, run.web_params, sizeof run.web_params)) {
            st = ard_error_set(err, ARD_EINTERNAL, "generate: cosmic-web parameters too long");
        }
    }
    tw += ard__now() - tw2;
    ard__lss_free(&lss);
    if (st == ARD_OK) {
        run.web = &web;
        run.out = out_dir;
        run.opts = opts;
        run.gal = &gal;
        run.groups = &groups;
        snprintf(run.source, sizeof run.source, "generate seed=%llu",
                 (unsigned long long)opts->seed);
        int64_t files = (gal.n + ARD_CATALOG_ROWS_PER_FILE - 1) / ARD_CATALOG_ROWS_PER_FILE;
        st = run_tasks(pool, &run, 2 * files + 1, table_task, &bytes, err);
        t1 = ard__now();
        cpu1 = process_cpu_seconds();
    }
    st = st ? st : plan_tiles(&run, err);
    st = st ? st : ard__spec_ctx_init(&run.spec, &opts->grid, opts->seed, err);
    if (st == ARD_OK) { /* a tile or two per thread being committed while the next are made */
        int32_t threads = ard_pool_threads(pool);
        st = ard_atomic_batch_new(2 * (threads > 1 ? threads : 1), &run.batch, err);
    }
    if (st == ARD_OK && run.n_tiles > 0) {
        run.progress =
            opts->progress ? ard_progress_new("spectra", run.tile_first[run.n_tiles]) : NULL;
        run.n_arrays = ard_pool_threads(pool);
        run.arrays = ard_calloc((size_t)(run.n_arrays > 0 ? run.n_arrays : 1), sizeof *run.arrays);
        if (!run.arrays) {
            run.n_arrays = 0; /* every task allocates its own */
        }
        int32_t writers = run.n_arrays < 1 ? 1 : run.n_arrays > 64 ? 64 : run.n_arrays;
        st = ard_parquet_writer_buffers_new(writers, 0, &run.buffers, err);
        st = st ? st : run_tasks(pool, &run, run.n_tiles, tile_task, &bytes, err);
        ard_parquet_writer_buffers_free(run.buffers);
        run.buffers = NULL;
        for (int32_t i = 0; i < run.n_arrays; i++) {
            arrays_free(&run.arrays[i]);
        }
        ard_free(run.arrays);
        run.arrays = NULL;
        ard_progress_done(run.progress);
    }
    st = finish_durable(&run, st, &bytes, err);
    if (st == ARD_OK && report) {
        fill_report(&run, &groups, report);
        report->bytes_written = bytes;
        report->seconds_catalog = t1 - t0;
        report->seconds_spectra = ard__now() - t1;
        report->cpu_seconds_spectra = process_cpu_seconds() - cpu1;
        report->seconds_web = tw;
    }
    ard__spec_ctx_reset(&run.spec);
    ard_free(run.tile_rows);
    ard_free(run.tile_first);
    ard_free(run.tile_order);
    ard__galaxies_free(&gal);
    ard__groups_free(&groups);
    ard__web_truth_free(&web);
    ard_cosmology_free(cosmo);
    ard_pool_free(pool);
    return st;
}
