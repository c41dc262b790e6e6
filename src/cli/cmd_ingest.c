/* `ard ingest desi OUT COADD.fits [REDROCK.fits] ... [--grid NAME] [--threads T]`: converts DESI
 * coadd (+ redrock) FITS files or directories of them into ARD tiles and zcatalog rows. */
#include "ard/survey.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ard_cmd_ingest(int argc, char **argv);

enum { OPT_GRID, OPT_THREADS, OPT_SURVEY, OPT_PROGRAM, OPT_QUIET, NUM_OPTS };

static const ard_cli_option ingest_options[NUM_OPTS] = {
    [OPT_GRID] = {"grid", "NAME", "wavelength grid: log4096 (default), logN, linearN, desi"},
    [OPT_THREADS] = {"threads", "T", "worker threads (default: all CPUs)"},
    [OPT_SURVEY] = {"survey", "NAME",
                    "SURVEY when the coadd header has none (default: from "
                    "the FIBERMAP target columns, else main)"},
    [OPT_PROGRAM] = {"program", "NAME", "PROGRAM when the coadd header has none (default other)"},
    [OPT_QUIET] = {"quiet", NULL, "print nothing on success"},
};

static const ard_cli_spec ingest_spec = {
    "ingest desi", "OUT COADD.fits|DIR [REDROCK.fits] ... [--grid NAME] [--threads T]",
    "Reads DESI coadd files (healpix or tile coadds) and their redrock files (given, or found\n"
    "next to the coadd as redrock-SUFFIX for coadd-SUFFIX), merges the b/r/z arms onto the ARD\n"
    "grid (flux-conserving, inverse-variance weighted in the overlaps, masked pixels kept\n"
    "masked) and writes OUT/tiles/SURVEY/PROGRAM/PIXGROUP/PIXNUM.parquet and\n"
    "OUT/catalog/zcatalog-NNNN.parquet with DESI's column names.",
    ingest_options, NUM_OPTS};

int ard_cmd_ingest(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        ard_cli_print_help(&ingest_spec);
        return ARD_CLI_OK;
    }
    if (argc < 2 || strcmp(argv[1], "desi") != 0) {
        return ard_cli_usage("ingest", "expected 'ard ingest desi OUT FILES...'");
    }
    ard_cli_args a;
    int rc = ard_cli_parse(&ingest_spec, argc - 1, argv + 1, &a);
    if (rc != ARD_CLI_OK) {
        return rc;
    }
    if (a.help) {
        ard_cli_print_help(&ingest_spec);
        return ARD_CLI_OK;
    }
    if (a.num_positional < 2) {
        return ard_cli_usage("ingest desi", "expected an output directory and input files");
    }
    ard_ingest_options o;
    ard_ingest_options_init(&o);
    ard_error err;
    ard_error_init(&err);
    if (a.present[OPT_GRID] && ard_grid_from_name(a.value[OPT_GRID], &o.grid, &err) != ARD_OK) {
        return ard_cli_usage("ingest desi", "%s", err.msg);
    }
    if (a.present[OPT_THREADS]) {
        if (ard_cli_parse_i32(a.value[OPT_THREADS], 0, 1024, &o.threads) != 0) {
            return ard_cli_usage("ingest desi", "bad --threads '%s'", a.value[OPT_THREADS]);
        }
    }
    o.survey = a.present[OPT_SURVEY] ? a.value[OPT_SURVEY] : NULL;
    o.program = a.present[OPT_PROGRAM] ? a.value[OPT_PROGRAM] : NULL;
    o.progress = 1;
    ard_ingest_report r;
    ard_status st =
        ard_ingest_desi(a.positional[0], a.positional + 1, a.num_positional - 1, &o, &r, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    if (!a.present[OPT_QUIET]) {
        printf(
            "ingested %lld coadd files: %lld spectra (%lld with redshifts) in %lld tiles -> %s\n",
            (long long)r.files, (long long)r.spectra, (long long)r.with_redshift,
            (long long)r.tiles, a.positional[0]);
    }
    return ARD_CLI_OK;
}
