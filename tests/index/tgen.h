/* A small deterministic dataset generator for the index tests and benchmarks (tiles + catalog in
 * the DESIGN.md layout, written with the public Parquet writer). Every value is a pure function of
 * TARGETID, so tests can evaluate a predicate directly against the generator. */
#ifndef ARD_TESTS_INDEX_TGEN_H
#define ARD_TESTS_INDEX_TGEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct tgen_opts {
    int32_t tiles;          /* number of tile files */
    int32_t rows;           /* spectra per tile */
    int32_t width;          /* pixels per spectrum */
    int32_t rows_per_group; /* rows per row group */
    int32_t extra_galaxies; /* catalog rows without a spectrum */
    int32_t catalog_files;  /* catalog split into this many files (>= 1) */
} tgen_opts;

/* TARGETID of row r of tile t. */
int64_t tgen_targetid(int32_t tile, int32_t row);
/* The catalog's Z and SPECTYPE for a TARGETID. */
double tgen_z(int64_t targetid);
const char *tgen_spectype(int64_t targetid);
/* FLUX[k] of a TARGETID (NaN where the element is null). */
float tgen_flux(int64_t targetid, int32_t k);
/* MASK[k] of a TARGETID (list<uint8>; nonzero where FLUX is null, and at scattered pixels). */
uint8_t tgen_mask(int64_t targetid, int32_t k);
/* Path of tile t relative to the dataset (tiles/main/dark/PIXGROUP/PIXNUM.parquet). */
void tgen_tile_path(int32_t tile, char *out, size_t cap);

/* Writes one tile (tile number t) to path, without ard.pixel_stats (like a foreign writer).
 * Returns 0, or -1 with msg filled. */
int tgen_write_tile(const char *path, int32_t tile, const tgen_opts *o, char *msg, size_t cap);
/* The same with key-value "ard.pixel_stats" = pixel_stats (NULL: none). */
int tgen_write_tile_kv(const char *path, int32_t tile, const tgen_opts *o, const char *pixel_stats,
                       char *msg, size_t cap);
/* The correct ard.pixel_stats value of tile t (ard/survey.h): row r is of class BGS, LRG, ELG,
 * QSO by r % 4; FLUX is null and IVAR 0 exactly where tgen_flux is NaN. 0, or -1 if cap is short.
 */
int tgen_pixel_stats(int32_t tile, const tgen_opts *o, char *out, size_t cap);
/* Writes DATASET/catalog/zcatalog-NNNN.parquet only. */
int tgen_catalog(const char *dir, const tgen_opts *o, char *msg, size_t cap);
/* Writes DATASET/tiles/... and DATASET/catalog/zcatalog-NNNN.parquet. */
int tgen_dataset(const char *dir, const tgen_opts *o, char *msg, size_t cap);

#endif
