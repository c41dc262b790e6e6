/* bench_stream_tokenize [SPECTRA] [WIDTH] [PATCH]: tokenizer throughput on one core (spectra/s,
 * median normalisation, IVAR=0 and null pixels as in real data), best of 5 by wall time and by
 * the thread's CPU time (spectra per CPU second: the per-core figure, robust on a busy machine). Prints one JSON line; the
 * bench/stream-bench script sets it beside numpy's reference in the same run. */
#include "ard/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
    long width = argc > 2 ? strtol(argv[2], NULL, 10) : 4096;
    int patch = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 64;
    if (n <= 0 || width <= 0) {
        return 2;
    }
    ard_tokenize_options o;
    ard_tokenize_options_init(&o);
    o.patch = patch;
    o.min_valid = patch / 4;
    int64_t np = ard_tokenize_num_patches(width, patch);
    float *flux = malloc((size_t)(n * width) * 4), *ivar = malloc((size_t)(n * width) * 4);
    float *tokens = malloc((size_t)(np * patch) * 4), *scales = malloc((size_t)np * 4);
    uint8_t *mask = malloc((size_t)np), flags;
    void *work = malloc(ard_tokenize_work_bytes(width));
    uint64_t s = 42;
    for (long i = 0; i < n * width; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0;
        flux[i] = (float)(1.0 + u);
        ivar[i] = (s >> 3) % 40 == 0 ? 0.0f : 1.0f;
    }
    double best = 1e30, best_cpu = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        for (long i = 0; i < n; i++) {
            ard_tokenize_spectrum(&o, flux + i * width, ivar + i * width, NULL, NULL, 0, NULL,
                                  width, tokens, scales, mask, &flags, work, NULL);
        }
        double t = clock_s(CLOCK_MONOTONIC) - t0, c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        best = t < best ? t : best;
        best_cpu = c < best_cpu ? c : best_cpu;
    }
    printf(
        "{\"tool\": \"ard\", \"spectra\": %ld, \"width\": %ld, \"patch\": %d, \"seconds\": %.6f, "
        "\"spectra_per_s\": %.1f, \"cpu_seconds\": %.6f, \"spectra_per_cpu_s\": %.1f}\n",
        n, width, patch, best, (double)n / best, best_cpu, (double)n / best_cpu);
    free(flux), free(ivar), free(tokens), free(scales), free(mask), free(work);
    return 0;
}
