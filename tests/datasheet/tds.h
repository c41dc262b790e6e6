/* Helpers of the datasheet tests: a small generated survey synced into an index, and the truth
 * computed independently from its Parquet files (catalog columns and every FLUX element decoded),
 * never from the index the datasheet reads. */
#ifndef ARD_TESTS_DATASHEET_TDS_H
#define ARD_TESTS_DATASHEET_TDS_H

#include "ard/datasheet.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tds_class {
    char name[16];
    int64_t galaxies, spectra, zwarn;
    double zmin, zmedian, zmax;
    double *z; /* sorted redshifts of the class */
    int64_t nz;
} tds_class;

typedef struct tds_tile {
    char path[256]; /* relative to the dataset */
    int64_t rows, values, nulls;
} tds_tile;

typedef struct tds_truth {
    int64_t galaxies, spectra, zwarn, catalog_without_spectra, spectra_without_catalog;
    int32_t num_classes;
    tds_class cls[8]; /* canonical order BGS, LRG, ELG, QSO, then others */
    int64_t num_tiles, flux_values, flux_nulls, distinct_pixels;
    tds_tile *tiles; /* sorted by path */
} tds_truth;

/* Generates `galaxies` galaxies (seed, fraction with spectra, small grid) into a fresh temp dir
 * (dir receives it, cap >= 256). Returns 0 or -1 (message printed). */
int tds_generate(char *dir, size_t cap, int64_t galaxies, uint64_t seed, double spectra_fraction);
/* Opens the index (dsn NULL = SQLite in the dataset), syncs, returns the writable handle. */
ard_index *tds_sync(const char *dir, const char *dsn);
/* Computes the truth from the files. 0 or -1. */
int tds_truth_compute(const char *dir, tds_truth *t);
void tds_truth_reset(tds_truth *t);
/* Rewrites tile `rel` (relative path) with `extra` more null FLUX pixels (the first non-null ones
 * of row 0, 1, ...). 0 or -1. */
int tds_null_pixels(const char *dir, const char *rel, int64_t extra);
/* Writes text to path. 0 or -1. */
int tds_write_file(const char *path, const char *text);
/* Removes a directory tree. */
void tds_rmtree(const char *dir);
/* Reads a whole file into a NUL-terminated ard_malloc'd buffer (NULL on failure). */
char *tds_read_file(const char *path, size_t *len);

#endif
