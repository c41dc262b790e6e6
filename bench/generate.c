/* bench_generate OUT GALAXIES THREADS SPECTRA_FRACTION: one ard_generate run; prints RESULT lines
 * (seconds for catalog+truth and for spectra, rates, bytes written, peak RSS). */
#include "ard/survey.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: bench_generate OUT GALAXIES THREADS SPECTRA_FRACTION\n");
        return 2;
    }
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = strtoll(argv[2], NULL, 10);
    o.threads = (int32_t)strtol(argv[3], NULL, 10);
    o.spectra_fraction = strtod(argv[4], NULL);
    ard_generate_report r;
    ard_error err;
    ard_error_init(&err);
    if (ard_generate(argv[1], &o, &r, &err) != ARD_OK) {
        fprintf(stderr, "bench_generate: %s\n", err.msg);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("RESULT galaxies=%lld\n", (long long)r.galaxies);
    printf("RESULT spectra=%lld\n", (long long)r.spectra);
    printf("RESULT tiles=%lld\n", (long long)r.tiles);
    printf("RESULT seconds_catalog=%.3f\n", r.seconds_catalog);
    printf("RESULT seconds_spectra=%.3f\n", r.seconds_spectra);
    printf("RESULT seconds_web=%.3f\n", r.seconds_web);
    printf("RESULT galaxies_per_s=%.0f\n", (double)r.galaxies / r.seconds_catalog);
    if (r.spectra > 0) {
        printf("RESULT spectra_per_s=%.0f\n", (double)r.spectra / r.seconds_spectra);
    }
    printf("RESULT bytes=%lld\n", (long long)r.bytes_written);
    printf("RESULT peak_rss_mb=%.0f\n", (double)ru.ru_maxrss / 1024.0);
    return 0;
}
