/* bench_parquet_write: ard's Parquet writer on 4096-wide float32 spectra (TARGETID + FLUX
 * list<float>), for each codec x {PLAIN, BYTE_STREAM_SPLIT}: wall time (open .. close, including
 * fsync), throughput over the raw bytes and file bytes per spectrum. Also writes an uncompressed
 * PLAIN copy (source.parquet) for the reference tool (bench/parquet-write loads it into DuckDB and
 * times COPY ... TO parquet). Usage: bench_parquet_write OUTDIR [NSPECTRA=20000] [REPEAT=3] Output:
 * tab-separated lines "ard CODEC ENCODING SECONDS FILE_BYTES MB_PER_S BYTES_PER_SPECTRUM". */
#include "ard/parquet_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { WIDTH = 4096, BATCH = 1000 };

static uint64_t next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* DESI-like: a smooth continuum with a few emission lines plus Gaussian noise (full-entropy float32
 * mantissas, as real flux is). */
static void make_spectra(float *flux, int64_t *ids, int64_t n) {
    uint64_t s = 12345;
    for (int64_t r = 0; r < n; r++) {
        ids[r] = 39627000000000000 + r * 7;
        double amp = 1.0 + (double)(next(&s) % 1000) / 250.0, z = (double)(next(&s) % 1000) / 700.0;
        for (int64_t j = 0; j < WIDTH; j += 2) {
            double u1 = ((double)(next(&s) >> 11) + 1.0) / 9007199254740993.0;
            double u2 = (double)(next(&s) >> 11) / 9007199254740992.0;
            double rad = sqrt(-2.0 * log(u1)),
                   g[2] = {rad * cos(6.283185307 * u2), rad * sin(6.283185307 * u2)};
            for (int64_t k = 0; k < 2; k++) {
                double lam = 3600.0 * exp((double)(j + k) * 0.000245);
                double line = 8.0 * exp(-pow((lam - 6563.0 * (1 + z * 0.1)) / 4.0, 2));
                flux[r * WIDTH + j + k] = (float)(amp * (1.0 + 2000.0 / lam) + line + 0.6 * g[k]);
            }
        }
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int write_file(const char *path, ard_pq_codec codec, int bss, const float *flux,
                      const int64_t *ids, int64_t n) {
    ard_pq_schema_builder *sb = NULL;
    ard_error err;
    ard_error_init(&err);
    ard_pq_schema_new(&sb, NULL);
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, NULL, NULL);
    ard_pq_schema_set_sorted(sb, 0, 1, NULL);
    ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, NULL,
                           NULL);
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = codec;
    o.byte_stream_split = bss;
    ard_pq_writer *w = NULL;
    ard_status st = ard_pq_writer_open(path, sb, &o, &w, &err);
    ard_pq_schema_free(sb);
    for (int64_t a = 0; st == ARD_OK && a < n; a += BATCH) {
        int64_t k = n - a < BATCH ? n - a : BATCH;
        st = ard_pq_writer_write_column(w, 0, ids + a, NULL, k, &err);
        if (st == ARD_OK) {
            st =
                ard_pq_writer_write_list_matrix(w, 1, flux + a * WIDTH, k, WIDTH, NULL, NULL, &err);
        }
    }
    st = st == ARD_OK ? ard_pq_writer_close(w, &err) : (ard_pq_writer_abort(w), st);
    if (st != ARD_OK) {
        fprintf(stderr, "bench_parquet_write: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_parquet_write OUTDIR [NSPECTRA] [REPEAT]\n");
        return 2;
    }
    int64_t n = argc > 2 ? strtoll(argv[2], NULL, 10) : 20000;
    int repeat = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
    float *flux = malloc((size_t)(n * WIDTH) * sizeof *flux);
    int64_t *ids = malloc((size_t)n * sizeof *ids);
    if (!flux || !ids || n <= 0 || repeat <= 0) {
        return 1;
    }
    make_spectra(flux, ids, n);
    char path[1024];
    snprintf(path, sizeof path, "%s/source.parquet", argv[1]);
    if (write_file(path, ARD_PQ_UNCOMPRESSED, 0, flux, ids, n) != 0) {
        return 1;
    }
    static const struct {
        const char *name;
        ard_pq_codec codec;
    } codecs[] = {{"uncompressed", ARD_PQ_UNCOMPRESSED},
                  {"snappy", ARD_PQ_SNAPPY},
                  {"zstd", ARD_PQ_ZSTD},
                  {"lz4_raw", ARD_PQ_LZ4_RAW},
                  {"gzip", ARD_PQ_GZIP},
                  {"brotli", ARD_PQ_BROTLI}};
    double raw = (double)n * (WIDTH * 4 + 8);
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
        for (int bss = 0; bss < 2; bss++) {
            snprintf(path, sizeof path, "%s/ard_%s_%s.parquet", argv[1], codecs[c].name,
                     bss ? "bss" : "plain");
            double best = 1e30;
            for (int i = 0; i < repeat; i++) {
                double t0 = now();
                if (write_file(path, codecs[c].codec, bss, flux, ids, n) != 0) {
                    return 1;
                }
                double t = now() - t0;
                best = t < best ? t : best;
            }
            struct stat sbuf;
            stat(path, &sbuf);
            printf("ard\t%s\t%s\t%.3f\t%lld\t%.1f\t%.0f\n", codecs[c].name,
                   bss ? "BYTE_STREAM_SPLIT" : "PLAIN", best, (long long)sbuf.st_size,
                   raw / best / 1e6, (double)sbuf.st_size / (double)n);
            fflush(stdout);
        }
    }
    free(flux);
    free(ids);
    return 0;
}
