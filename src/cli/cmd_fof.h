/* Private to `ard fof` (cmd_fof.c, cmd_fof_io.c): the catalog arrays and the I/O helpers. */
#ifndef ARD_CMD_FOF_H
#define ARD_CMD_FOF_H

#include "cli.h"

#include "ard/index.h"
#include "ard/science.h"

typedef struct fof_catalog {
    int64_t n, cap;
    double *ra, *dec, *z;
    int64_t *tid;
    int64_t skipped; /* rows without usable coordinates or with z <= 0 */
    int failed;
} fof_catalog;

void fof_catalog_reset(fof_catalog *c);
/* SELECT targetid, target_ra, target_dec, z FROM galaxies WHERE z > 0 AND (where) ORDER BY targetid. */
ard_status fof_load_index(ard_index *idx, const char *where, fof_catalog *c, ard_error *err);
/* Every DATASET/catalog/zcatalog-NNNN.parquet, rows with Z > 0. */
ard_status fof_load_parquet(const char *dataset, fof_catalog *c, ard_error *err);
/* The generator's GROUP_ID per catalog row, matched by TARGETID; *found = 0 without truth files. */
ard_status fof_load_truth(const char *dataset, const fof_catalog *c, int64_t **truth, int *found,
                          ard_error *err);
/* galaxy_groups, groups (replaced) and fof_runs (appended). */
ard_status fof_write_index(ard_index *idx, const ard_fof_result *r, const fof_catalog *c,
                           const char *run_id, const char *where, ard_error *err);

#endif
