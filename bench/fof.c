/* Friends-of-friends benchmark driver (see bench/fof-bench):
 *   bench_fof gen N SEED BOX OUT.bin      clustered points, n x 3 float64, raw little-endian
 *   bench_fof iso FILE LINK THREADS       isotropic FoF on the points; prints RESULT lines
 * Peak RSS is measured by the calling script (/usr/bin/time), the same way as for scipy. */
#include "ard/core.h"
#include "ard/science.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) {
    return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

static double normal(uint64_t *s) {
    double u = uniform(s), v = uniform(s);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Half the points in haloes: centres uniform, richness skewed (a few rich clusters, many pairs),
 * members Gaussian with a width growing with richness; the rest uniform. */
static int gen(int64_t n, uint64_t seed, double box, const char *path) {
    double *xyz = malloc((size_t)n * 3 * sizeof *xyz);
    int64_t centres = n / 20 > 0 ? n / 20 : 1;
    double *cen = malloc((size_t)centres * 3 * sizeof *cen);
    if (!xyz || !cen) {
        return 1;
    }
    for (int64_t c = 0; c < 3 * centres; c++) {
        cen[c] = box * uniform(&seed);
    }
    for (int64_t i = 0; i < n; i++) {
        if (uniform(&seed) < 0.5) {
            double u = uniform(&seed);
            int64_t c = (int64_t)((double)centres * u * u * u);
            double sigma = 0.3 + 1.5 * (1.0 - u);
            for (int k = 0; k < 3; k++) {
                xyz[3 * i + k] = fmod(cen[3 * c + k] + sigma * normal(&seed) + box, box);
            }
        } else {
            for (int k = 0; k < 3; k++) {
                xyz[3 * i + k] = box * uniform(&seed);
            }
        }
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(xyz, sizeof *xyz, (size_t)n * 3, f) != (size_t)n * 3 || fclose(f) != 0) {
        fprintf(stderr, "bench_fof: cannot write %s\n", path);
        return 1;
    }
    free(xyz);
    free(cen);
    return 0;
}

static int iso(const char *path, double link, int32_t threads) {
    ard_mapped_file m;
    ard_error err;
    ard_error_init(&err);
    if (ard_file_map(path, &m, &err) != ARD_OK) {
        fprintf(stderr, "bench_fof: %s\n", err.msg);
        return 1;
    }
    int64_t n = m.size / 24;
    double *xyz = malloc((size_t)m.size);
    int64_t *labels = malloc((size_t)n * sizeof *labels);
    memcpy(xyz, m.data, (size_t)m.size); /* like numpy.fromfile: the points in memory */
    ard_file_unmap(&m);
    double t0 = now();
    if (ard_fof_link_isotropic(xyz, n, link, threads, labels, &err) != ARD_OK) {
        fprintf(stderr, "bench_fof: %s\n", err.msg);
        return 1;
    }
    double t1 = now();
    int64_t comps = 0, in_groups = 0;
    int64_t *count = calloc((size_t)n, sizeof *count);
    for (int64_t i = 0; i < n; i++) {
        count[labels[i]]++;
    }
    for (int64_t i = 0; i < n; i++) {
        comps += labels[i] == i;
        in_groups += count[i] >= 2 ? count[i] : 0;
    }
    printf("RESULT tool=ard threads=%d n=%" PRId64 " link=%g seconds=%.3f components=%" PRId64
           " grouped=%" PRId64 "\n",
           (int)threads, n, link, t1 - t0, comps, in_groups);
    free(count);
    free(xyz);
    free(labels);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "gen") == 0) {
        return gen(strtoll(argv[2], NULL, 10), strtoull(argv[3], NULL, 10), strtod(argv[4], NULL),
                   argv[5]);
    }
    if (argc == 5 && strcmp(argv[1], "iso") == 0) {
        return iso(argv[2], strtod(argv[3], NULL), (int32_t)strtol(argv[4], NULL, 10));
    }
    fprintf(stderr, "usage: bench_fof gen N SEED BOX OUT.bin | iso FILE LINK THREADS\n");
    return 2;
}
