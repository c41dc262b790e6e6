/* bench_stream_limits TILE...: the per-core limits of the loader's producer on the same tiles, one
 * thread: decode-only (TARGETID + FLUX + IVAR of every row group through the dataset reader, as
 * the loader reads them) and tokenize-only (the tokenizer over the decoded rows, median
 * normalisation, patch 64), in spectra per CPU second (the thread's CPU time, robust on a busy
 * machine) and per wall second. Their serial combination is what one producer core could reach
 * if nothing else cost anything; bench/stream-bench prints it beside the loader's delivered rate.
 * One JSON line. */
#include "ard/dataset.h"
#include "ard/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct timing {
    double wall, cpu;
} timing;

static void add_since(timing *t, double w0, double c0) {
    t->wall += clock_s(CLOCK_MONOTONIC) - w0;
    t->cpu += clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_stream_limits TILE...\n");
        return 2;
    }
    ard_tokenize_options o;
    ard_tokenize_options_init(&o);
    timing dec = {0, 0}, tok = {0, 0};
    int64_t spectra = 0, cap = 0;
    float *flux = NULL, *ivar = NULL, *tokens = NULL, *scales = NULL;
    int64_t *ids = NULL;
    uint8_t *pmask = NULL, flags;
    void *work = NULL;
    ard_error err;
    ard_error_init(&err);
    for (int a = 1; a < argc; a++) {
        ard_tile *t = NULL;
        if (ard_tile_open(argv[a], &t, &err) != ARD_OK) {
            fprintf(stderr, "bench_stream_limits: %s\n", err.msg);
            return 1;
        }
        for (int32_t rg = 0; rg < ard_tile_num_row_groups(t); rg++) {
            int64_t rows = ard_tile_row_group_rows(t, rg), width = 0, r2 = 0, w2 = 0;
            if (cap < rows * 8192) { /* up to 8192 bins per spectrum */
                cap = rows * 8192;
                free(flux), free(ivar), free(ids);
                flux = malloc((size_t)cap * 4), ivar = malloc((size_t)cap * 4);
                ids = malloc((size_t)rows * 8);
            }
            double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
            if (ard_tile_read_int64(t, rg, NULL, 0, rows, ids, &err) != ARD_OK ||
                ard_tile_read_f32(t, rg, "FLUX", flux, cap, &r2, &width, NULL, &err) != ARD_OK ||
                ard_tile_read_f32(t, rg, "IVAR", ivar, cap, &r2, &w2, NULL, &err) != ARD_OK) {
                fprintf(stderr, "bench_stream_limits: %s\n", err.msg);
                return 1;
            }
            add_since(&dec, w0, c0);
            int64_t np = ard_tokenize_num_patches(width, o.patch);
            if (!work) {
                tokens = malloc((size_t)(np * o.patch) * 4), scales = malloc((size_t)np * 4);
                pmask = malloc((size_t)np), work = malloc(ard_tokenize_work_bytes(width));
            }
            w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
            for (int64_t r = 0; r < rows; r++) {
                ard_tokenize_spectrum(&o, flux + r * width, ivar + r * width, NULL, NULL, 0, NULL,
                                      width, tokens, scales, pmask, &flags, work, NULL);
            }
            add_since(&tok, w0, c0);
            spectra += rows;
        }
        ard_tile_close(t);
    }
    double d = (double)spectra / dec.cpu, k = (double)spectra / tok.cpu;
    printf("{\"tool\": \"ard-limits\", \"spectra\": %lld, \"decode_per_cpu_s\": %.1f, "
           "\"tokenize_per_cpu_s\": %.1f, \"decode_then_tokenize_per_cpu_s\": %.1f, "
           "\"decode_per_s\": %.1f, \"tokenize_per_s\": %.1f}\n",
           (long long)spectra, d, k, 1.0 / (1.0 / d + 1.0 / k), (double)spectra / dec.wall,
           (double)spectra / tok.wall);
    free(flux), free(ivar), free(ids), free(tokens), free(scales), free(pmask), free(work);
    return 0;
}
