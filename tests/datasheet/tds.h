/* Helpers of the datasheet tests: a small generated survey synced into an index, and the truth
 * computed independently from its Parquet files (catalog columns and every FLUX and IVAR element
 * decoded), never from the index the datasheet reads. */
#ifndef ARD_TESTS_DATASHEET_TDS_H
#define ARD_TESTS_DATASHEET_TDS_H

#include "ard/datasheet.h"
#include "common/ard_test.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tds_class {
    char name[16];
    int64_t galaxies, spectra, zwarn;
    /* pixels of the class's spectra in tiles that carry ard.pixel_stats, counted by reading them */
    int64_t pix_rows, pixels, flux_null, ivar_zero;
    double zmin, zmedian, zmax;
    double *z; /* sorted redshifts of the class */
    int64_t nz;
} tds_class;

typedef struct tds_tile {
    char path[256]; /* relative to the dataset */
    int64_t rows, values, nulls;
    int64_t ivar_zero; /* IVAR elements equal to 0 */
    int has_stats;     /* the footer carries ard.pixel_stats */
} tds_tile;

typedef struct tds_truth {
    int64_t galaxies, spectra, zwarn, catalog_without_spectra, spectra_without_catalog;
    int32_t num_classes;
    tds_class cls[8]; /* canonical order BGS, LRG, ELG, QSO, then others */
    int64_t num_tiles, flux_values, flux_nulls, distinct_pixels;
    int64_t stats_tiles, stats_rows_missing; /* tiles with ard.pixel_stats; spectra in the others */
    int64_t stats_pixels, stats_ivar_zero;   /* over the tiles with ard.pixel_stats */
    tds_tile *tiles;                         /* sorted by path */
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
 * of row 0, 1, ...; their IVAR set to 0, as for a masked pixel), then `extra` more pixels with IVAR
 * 0 but their flux kept, and, when the tile had it, an ard.pixel_stats recomputed here from the
 * rewritten data and the catalog's classes. 0 or -1. */
int tds_null_pixels(const char *dir, const char *rel, int64_t extra);
/* Rewrites tile `rel` without its ard.pixel_stats metadata (as another writer would). 0 or -1. */
int tds_drop_pixel_stats(const char *dir, const char *rel);
/* File helpers are tests/common's (ard_test.h), under the names the datasheet tests use. */
#define tds_write_file ard_test_write_text
#define tds_rmtree ard_test_rmtree
#define tds_read_file(path, len) ((char *)ard_test_read_file((path), (len)))

/* tds_summary.c: the aggregates sync keeps for the datasheet, after catalog files are added,
 * changed and removed, on SQLite and (ARD_TEST_PG_DSN) PostgreSQL. */
void test_summary_maintained(void **state);
/* The linkage of a catalog loaded into an empty galaxies, counted in the client, against SQL. */
void test_linkage_fresh(void **state);
/* Class medians from the Z index alone (a class owning its bins) against the plain rank query. */
void test_median_paths(void **state);

#endif
