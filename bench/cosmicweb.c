/* Benchmark helper of bench/cosmicweb-bench.
 *
 *   bench_cosmicweb dump DATASET OUTDIR           the galaxies as raw little-endian arrays for the
 *                                                 torch twin: xyz.f64 (n x 3), z.f64, cls.i32,
 *                                                 label.i32, split.i32 (split by HEALPix pixel,
 *                                                 seed CW_SPLIT_SEED), targetid.i64
 *   bench_cosmicweb extra DATASET RUN RAW.f32 S   writes DATASET/results/anomaly-RUN-scores.parquet
 *                                                 (TARGETID, LATENT_0..S-1) from RAW.f32 (n x S
 *                                                 float32 in the dump's row order): any per-galaxy
 *                                                 features, e.g. the galaxy-field T-web of
 *                                                 cosmicweb_tweb.py, for `cosmicweb train --latent RUN`
 *   bench_cosmicweb train DATASET THREADS EPOCHS ACCUM [GEO [MODEL]]
 *                                                 trains in-process and prints one RESULT line
 *                                                 (GEO: geometric aggregator channels, default 0;
 *                                                 MODEL: save the model there)
 *
 * Options are ard's defaults (k 32, fan-out [25, 10], hidden 64, batch 64, lr 1e-2) except those
 * given. Environment: CW_SPLIT_SEED (default 1) seeds the HEALPix train / validation / test split of
 * every command (dump, reach, train), so that a quality margin can be measured over several
 * splits; CW_SEED (train, default 1) the model's own seed (initialisation, shuffling, sampling, the
 * reach randoms), for the seed-to-seed spread on one split; CW_REACH and CW_HIDDEN (train) as below. */
#include "ard/core.h"
#include "ard/parquet_write.h"
#include "ard/science.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_raw(const char *dir, const char *name, const void *data, size_t bytes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, bytes, f) != bytes) {
        fprintf(stderr, "cannot write %s\n", path);
        if (f) {
            fclose(f);
        }
        return 1;
    }
    fclose(f);
    return 0;
}

static int write_extra(const ard_cosmicweb_data *d, const char *dataset, const char *run,
                       const char *raw, int s) {
    if (s < 1 || s > 64) {
        fprintf(stderr, "S must be 1..64\n");
        return 1;
    }
    size_t n = (size_t)d->n;
    float *v = malloc(n * (size_t)s * sizeof *v);
    double *cols = malloc(n * (size_t)s * sizeof *cols);
    FILE *f = fopen(raw, "rb");
    if (!v || !cols || !f || fread(v, sizeof *v, n * (size_t)s, f) != n * (size_t)s) {
        fprintf(stderr, "cannot read %zu x %d floats from %s\n", n, s, raw);
        if (f) {
            fclose(f);
        }
        free(v);
        free(cols);
        return 1;
    }
    fclose(f);
    char names[64][16];
    ard_parquet_table_column c[65];
    c[0] = (ard_parquet_table_column){"TARGETID", ARD_PARQUET_COL_INT64, 0, d->targetid, NULL, NULL,
                                      0};
    for (int j = 0; j < s; j++) {
        for (size_t i = 0; i < n; i++) {
            cols[(size_t)j * n + i] = v[i * (size_t)s + (size_t)j];
        }
        snprintf(names[j], sizeof names[j], "LATENT_%d", j);
        c[1 + j] = (ard_parquet_table_column){
            names[j], ARD_PARQUET_COL_DOUBLE, 0, cols + (size_t)j * n, NULL, NULL, 0};
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/results/anomaly-%s-scores.parquet", dataset, run);
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_parquet_write_table(path, c, 1 + s, d->n, NULL, &err);
    if (st != ARD_OK) {
        fprintf(stderr, "write %s: %s\n", path, err.msg);
    }
    free(v);
    free(cols);
    return st == ARD_OK ? 0 : 1;
}

/* libard's internal reach basis (src/science/science_int.h; bench_cosmicweb links ard_static): the
 * twin (bench/cosmicweb_torch.py --reach) trains on the very basis ard's stage computes. */
ard_status ard__cw_reach_basis(const double *xyz, int64_t n, int32_t bins, float radius,
                               int32_t fanout, int32_t randoms, uint64_t seed, int64_t first,
                               int64_t end, ard_pool *pool, float **out, ard_error *err);
void ard__cw_reach_fit_scale(const float *basis, int32_t bins, const int64_t *rows, int64_t count,
                             float *scale);
void ard__cw_reach_normalise(float *basis, int32_t bins, int64_t n, const float *scale);

/* bench_cosmicweb reach DATASET OUT.f32 MPC BINS FANOUT RANDOMS: the normalised basis as ard's
 * training computes it (seed 1, scale from the labelled train-split rows), n x 7 BINS float32. */
static int write_reach(const ard_cosmicweb_data *d, const int32_t *split, const char *out,
                       char **argv) {
    int32_t bins = (int32_t)strtol(argv[1], NULL, 10);
    ard_pool *pool = NULL;
    float *basis = NULL, scale[64];
    ard_error err;
    ard_error_init(&err);
    if (ard_pool_new(2, &pool, &err) != ARD_OK ||
        ard__cw_reach_basis(d->xyz, d->n, bins, strtof(argv[0], NULL),
                            (int32_t)strtol(argv[2], NULL, 10), (int32_t)strtol(argv[3], NULL, 10),
                            1, 0, d->n, pool, &basis, &err) != ARD_OK) {
        fprintf(stderr, "reach: %s\n", err.msg);
        ard_pool_free(pool);
        return 1;
    }
    ard_pool_free(pool);
    int64_t *rows = malloc((size_t)d->n * sizeof *rows), count = 0;
    for (int64_t i = 0; rows && i < d->n; i++) {
        if (split[i] == 0 && d->label[i] >= 0) {
            rows[count++] = i;
        }
    }
    ard__cw_reach_fit_scale(basis, bins, rows, count, scale);
    ard__cw_reach_normalise(basis, bins, d->n, scale);
    free(rows);
    FILE *f = fopen(out, "wb");
    size_t want = (size_t)d->n * 7 * (size_t)bins;
    int rc = !f || fwrite(basis, sizeof *basis, want, f) != want;
    rc |= f && fclose(f) != 0;
    free(basis);
    return rc;
}

static int load(const char *dataset, ard_cosmicweb_data *d, int32_t **split) {
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_cosmicweb_data_load(dataset, d, &err);
    if (st != ARD_OK) {
        fprintf(stderr, "load: %s\n", err.msg);
        return 1;
    }
    const char *seed_env = getenv("CW_SPLIT_SEED");
    char *end = NULL;
    unsigned long long seed = seed_env ? strtoull(seed_env, &end, 10) : 1;
    if (seed_env && (end == seed_env || *end != '\0')) {
        fprintf(stderr, "CW_SPLIT_SEED must be an unsigned integer, not '%s'\n", seed_env);
        return 1;
    }
    *split = malloc((size_t)d->n * sizeof **split);
    if (!*split) {
        fprintf(stderr, "out of memory for the split of %lld galaxies\n", (long long)d->n);
        return 1;
    }
    st = ard_cosmicweb_split_by_pixel(d->pixel, d->n, 0.15, 0.15, (uint64_t)seed, *split, &err);
    if (st != ARD_OK) {
        fprintf(stderr, "split: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_cosmicweb dump DATASET OUTDIR | train DATASET THREADS EPOCHS "
                        "ACCUM\n");
        return 2;
    }
    ard_cosmicweb_data d;
    int32_t *split = NULL;
    if (load(argv[2], &d, &split) != 0) {
        return 1;
    }
    int rc = 0;
    if (strcmp(argv[1], "dump") == 0 && argc == 4) {
        size_t n = (size_t)d.n;
        rc |= write_raw(argv[3], "xyz.f64", d.xyz, n * 3 * sizeof(double));
        rc |= write_raw(argv[3], "z.f64", d.z, n * sizeof(double));
        rc |= write_raw(argv[3], "cls.i32", d.target_class, n * sizeof(int32_t));
        rc |= write_raw(argv[3], "label.i32", d.label, n * sizeof(int32_t));
        rc |= write_raw(argv[3], "split.i32", split, n * sizeof(int32_t));
        rc |= write_raw(argv[3], "targetid.i64", d.targetid, n * sizeof(int64_t));
    } else if (strcmp(argv[1], "reach") == 0 && argc == 8) {
        rc = write_reach(&d, split, argv[3], argv + 4);
    } else if (strcmp(argv[1], "extra") == 0 && argc == 6) {
        rc = write_extra(&d, argv[2], argv[3], argv[4], (int)strtol(argv[5], NULL, 10));
    } else if (strcmp(argv[1], "train") == 0 && argc >= 6 && argc <= 8) {
        ard_cosmicweb_options o;
        ard_cosmicweb_options_init(&o);
        o.threads = (int32_t)strtol(argv[3], NULL, 10);
        o.epochs = (int32_t)strtol(argv[4], NULL, 10);
        o.accum = (int32_t)strtol(argv[5], NULL, 10);
        if (argc >= 7) {
            o.geo = (int32_t)strtol(argv[6], NULL, 10);
        }
        /* the reach aggregator from the environment: CW_REACH=channels[,mpc[,bins[,fanout[,randoms]]]] */
        const char *reach = getenv("CW_REACH");
        if (reach) {
            char *end = NULL;
            o.reach = (int32_t)strtol(reach, &end, 10);
            if (*end == ',') {
                o.reach_mpc = strtof(end + 1, &end);
            }
            if (*end == ',') {
                o.reach_bins = (int32_t)strtol(end + 1, &end, 10);
            }
            if (*end == ',') {
                o.reach_fanout = (int32_t)strtol(end + 1, &end, 10);
            }
            if (*end == ',') {
                o.reach_randoms = (int32_t)strtol(end + 1, &end, 10);
            }
        }
        const char *model_seed = getenv("CW_SEED");
        if (model_seed) {
            o.seed = strtoull(model_seed, NULL, 10);
        }
        const char *hidden = getenv("CW_HIDDEN");
        if (hidden) {
            o.hidden = (int32_t)strtol(hidden, NULL, 10);
        }
        ard_cosmicweb_input in = {.n = d.n,
                                  .xyz = d.xyz,
                                  .z = d.z,
                                  .target_class = d.target_class,
                                  .label = d.label,
                                  .split = split};
        ard_cosmicweb_model *m = NULL;
        ard_cosmicweb_report r;
        ard_error err;
        ard_error_init(&err);
        ard_status st = ard_cosmicweb_train(&in, &o, &m, &r, &err);
        if (st != ARD_OK) {
            fprintf(stderr, "train: %s\n", err.msg);
            rc = 1;
        } else {
            const char *split_seed = getenv("CW_SPLIT_SEED");
            printf("RESULT tool=ard split_seed=%s seed=%llu geo=%d reach=%d,%g,%d,%d,%d n=%lld "
                   "threads=%d "
                   "epochs=%d "
                   "accum=%d train=%lld steps=%lld "
                   "graph_s=%.3f train_s=%.3f train_cpu_s=%.3f nodes_per_s=%.1f "
                   "nodes_per_cpu_s=%.1f loss=%.4f val_bacc=%.4f "
                   "test_bacc=%.4f\n",
                   split_seed ? split_seed : "1", (unsigned long long)o.seed, (int)o.geo,
                   (int)o.reach, (double)o.reach_mpc, (int)o.reach_bins, (int)o.reach_fanout,
                   (int)o.reach_randoms, (long long)d.n, o.threads, o.epochs, o.accum,
                   (long long)r.train_nodes, (long long)r.steps, r.seconds_graph, r.seconds_train,
                   r.cpu_seconds_train, r.train_nodes_per_s,
                   r.cpu_seconds_train > 0 ? (double)r.train_nodes * o.epochs / r.cpu_seconds_train
                                           : 0.0,
                   r.final_loss, r.val_balanced_accuracy, r.test_balanced_accuracy);
            printf("BASELINE tool=ard_linear test_bacc=%.4f\n", r.baseline_test_balanced_accuracy);
            printf("CONFUSION");
            for (int t = 0; t < 4; t++) {
                for (int p = 0; p < 4; p++) {
                    printf(" %lld", (long long)r.test_confusion[t][p]);
                }
            }
            printf("\n");
            if (argc == 8 && ard_cosmicweb_model_save(m, argv[7], &err) != ARD_OK) {
                fprintf(stderr, "save: %s\n", err.msg);
                rc = 1;
            }
        }
        ard_cosmicweb_model_free(m);
    } else {
        fprintf(stderr, "bad arguments\n");
        rc = 2;
    }
    free(split);
    ard_cosmicweb_data_reset(&d);
    return rc;
}
