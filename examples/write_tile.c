/* Example: write a small DESI-like spectral tile with the public writer API.
 *   write_tile OUT.parquet [ROWS]
 * Schema as in the design: TARGETID int64 (sorted), FLUX list<float>, IVAR list<float>, MASK
 * list<uint8>, with the wavelength grid in key-value metadata. The spectra are a smooth continuum with
 * one emission line and seeded noise; a few pixels are masked (FLUX null, IVAR 0). */
#include "ard/parquet_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 4096

static uint64_t next_random(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static double uniform(uint64_t *s) {
    return (double)(next_random(s) >> 11) / 9007199254740992.0;
}

static void fill(int64_t rows, int64_t *ids, float *flux, float *ivar, uint8_t *mask,
                 uint8_t *flux_valid) {
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    memset(flux_valid, 0xFF, (size_t)(rows * WIDTH + 7) / 8);
    for (int64_t r = 0; r < rows; r++) {
        ids[r] = 39627000000000000LL + r * 17;
        double z = 0.1 + 1.4 * uniform(&seed), amp = 1 + 4 * uniform(&seed);
        double line = 3727.0 * (1 + z);
        for (int64_t k = 0; k < WIDTH; k++) {
            int64_t i = r * WIDTH + k;
            double wave = 3600.0 * pow(9824.0 / 3600.0, (double)k / (WIDTH - 1));
            double cont = amp * pow(wave / 5000.0, -1.5);
            double emis = 8.0 * exp(-0.5 * pow((wave - line) / 3.0, 2));
            flux[i] = (float)(cont + emis + 0.3 * (uniform(&seed) - 0.5));
            ivar[i] = (float)(10.0 + uniform(&seed));
            mask[i] = 0;
            if (next_random(&seed) % 997 == 0) { /* a masked pixel */
                flux_valid[i >> 3] = (uint8_t)(flux_valid[i >> 3] & ~(1u << (i & 7)));
                ivar[i] = 0;
                mask[i] = 1;
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: write_tile OUT.parquet [ROWS]\n");
        return 2;
    }
    int64_t rows = argc > 2 ? strtoll(argv[2], NULL, 10) : 500;
    if (rows <= 0 || rows > 100000) {
        fprintf(stderr, "write_tile: ROWS must be 1..100000\n");
        return 2;
    }
    int64_t *ids = malloc((size_t)rows * sizeof *ids);
    float *flux = malloc((size_t)(rows * WIDTH) * sizeof *flux);
    float *ivar = malloc((size_t)(rows * WIDTH) * sizeof *ivar);
    uint8_t *mask = malloc((size_t)(rows * WIDTH));
    uint8_t *valid = malloc((size_t)(rows * WIDTH + 7) / 8);
    if (!ids || !flux || !ivar || !mask || !valid) {
        fprintf(stderr, "write_tile: out of memory\n");
        return 1;
    }
    fill(rows, ids, flux, ivar, mask, valid);
    ard_error err;
    ard_error_init(&err);
    ard_pq_schema_builder *sb = NULL;
    ard_pq_writer *w = NULL;
    ard_pq_logical u8 = {.kind = ARD_PQ_LT_INTEGER, .bit_width = 8, .is_signed = 0};
    ard_status st = ard_pq_schema_new(&sb, &err);
    int32_t c_id = -1;
    ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL, 0, &c_id, &err);
    int32_t c_flux = -1;
    ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL,
                           &c_flux, &err);
    int32_t c_ivar = -1;
    ard_pq_schema_add_list(sb, "IVAR", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL,
                           &c_ivar, &err);
    int32_t c_mask = -1;
    ard_pq_schema_add_list(sb, "MASK", ARD_PQ_INT32, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, &u8, &c_mask,
                           &err);
    if (st == ARD_OK && c_mask >= 0) {
        st = ard_pq_schema_set_sorted(sb, c_id, 1, &err);
    }
    const char *keys[] = {"ard.grid", "ard.version"};
    const char *values[] = {"{\"kind\":\"loglam\",\"start\":3600,\"stop\":9824,\"n\":4096}", "1"};
    ard_pq_writer_options opts;
    ard_pq_writer_options_init(&opts);
    opts.num_kv = 2;
    opts.kv_keys = keys;
    opts.kv_values = values;
    opts.rows_per_row_group = rows > 200 ? rows / 4 : rows;
    if (st == ARD_OK && c_mask >= 0) {
        st = ard_pq_writer_open(argv[1], sb, &opts, &w, &err);
    }
    if (st == ARD_OK && c_mask >= 0) {
        st = ard_pq_writer_write_column(w, c_id, ids, NULL, rows, &err);
        if (st == ARD_OK)
            st = ard_pq_writer_write_list_matrix(w, c_flux, flux, rows, WIDTH, valid, NULL, &err);
        if (st == ARD_OK)
            st = ard_pq_writer_write_list_matrix(w, c_ivar, ivar, rows, WIDTH, NULL, NULL, &err);
        if (st == ARD_OK)
            st = ard_pq_writer_write_list_matrix(w, c_mask, mask, rows, WIDTH, NULL, NULL, &err);
        if (st == ARD_OK) {
            st = ard_pq_writer_close(w, &err);
        } else {
            ard_pq_writer_abort(w);
        }
    }
    ard_pq_schema_free(sb);
    free(ids), free(flux), free(ivar), free(mask), free(valid);
    if (st != ARD_OK || c_mask < 0) {
        fprintf(stderr, "write_tile: %s\n", err.msg[0] ? err.msg : ard_status_str(st));
        return 1;
    }
    printf("wrote %s: %lld spectra x %d bins\n", argv[1], (long long)rows, WIDTH);
    return 0;
}
