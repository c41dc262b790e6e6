/* `ard fetch DATASET --where EXPR | --targetids FILE --out subset.parquet|subset.npy [--columns
 * FLUX,IVAR,MASK] [--threads T]`: plans with the index, then reads the spectra straight from the
 * tiles (row-group granular, in parallel) and writes them out: all tile columns (FLUX, IVAR, MASK)
 * by default for Parquet, FLUX by default for .npy. */
#include "cli.h"

#include "ard/index.h"

#include <stdlib.h>
#include <string.h>

int ard_cmd_fetch(int argc, char **argv);
/* cmd_cluster_stages.c: the stage across MPI ranks under mpirun (*lead: this rank prints) */
ard_status ard_cli_fetch_run(const ard_fetch_options *o, ard_fetch_report *r, int *lead,
                             ard_error *err);

enum { OPT_WHERE, OPT_TARGETIDS, OPT_LIMIT, OPT_OUT, OPT_COLUMNS, OPT_THREADS, OPT_DB, NUM_OPTS };

static const ard_cli_option fetch_options[NUM_OPTS] = {
    [OPT_WHERE] = {"where", "EXPR", "SQL predicate over galaxies (as ard query)"},
    [OPT_TARGETIDS] = {"targetids", "FILE|-", "one TARGETID per line"},
    [OPT_LIMIT] = {"limit", "N", "at most N spectra"},
    [OPT_OUT] = {"out", "FILE",
                 "output: *.parquet (tile schema) or *.npy (rows x pixels, float32 or"
                 " uint8 for MASK; more columns and TARGETIDs go to FILE-stem.COLUMN.npy)"},
    [OPT_COLUMNS] = {"columns", "A,B",
                     "tile columns, list<float> or list<uint8> (MASK); default: FLUX,IVAR,MASK"
                     " (those the tiles have) for .parquet, FLUX for .npy"},
    [OPT_THREADS] = {"threads", "T", "decoding threads (default: all CPUs)"},
    [OPT_DB] = {"db", "DSN", "index database (default DATASET/ard.db)"},
};

static const ard_cli_spec fetch_spec = {
    "fetch", "DATASET (--where EXPR | --targetids FILE|-) --out FILE [--columns A,B] [--threads T]",
    "Plans with the index (read-only), then reads exactly the planned row groups straight from "
    "the\n"
    "tiles in parallel and writes the spectra to a Parquet file or NumPy .npy arrays. The "
    "database\n"
    "never carries spectra.",
    fetch_options, NUM_OPTS};

/* Splits "A,B" in place into names[]; returns the count or -1. */
static int split_columns(char *list, const char **names, int cap) {
    int n = 0;
    for (char *p = list; p;) {
        char *comma = strchr(p, ',');
        if (comma) {
            *comma = '\0';
        }
        if (!*p || n == cap) {
            return -1;
        }
        names[n++] = p;
        p = comma ? comma + 1 : NULL;
    }
    return n;
}

int ard_cmd_fetch(int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(&fetch_spec, argc, argv, &a);
    if (rc != 0 || a.help) {
        if (a.help) {
            ard_cli_print_help(&fetch_spec);
        }
        return rc;
    }
    if (a.num_positional != 1 || !a.present[OPT_OUT]) {
        return ard_cli_usage("fetch", "expected DATASET and --out FILE");
    }
    ard_fetch_options o;
    ard_fetch_options_init(&o);
    o.out_path = a.value[OPT_OUT];
    size_t out_len = strlen(o.out_path);
    if (!(out_len >= 4 && strcmp(o.out_path + out_len - 4, ".npy") == 0) &&
        !(out_len >= 8 && strcmp(o.out_path + out_len - 8, ".parquet") == 0)) {
        return ard_cli_usage("fetch", "--out must end in .parquet or .npy");
    }
    if (a.present[OPT_THREADS] && ard_cli_parse_i32(a.value[OPT_THREADS], 1, 1024, &o.threads)) {
        return ard_cli_usage("fetch", "--threads takes an integer in 1..1024");
    }
    if (a.present[OPT_LIMIT] &&
        ard_cli_parse_i64(a.value[OPT_LIMIT], 0, INT64_MAX, &o.query.limit)) {
        return ard_cli_usage("fetch", "--limit takes a non-negative integer");
    }
    if (a.present[OPT_WHERE] && a.present[OPT_TARGETIDS]) {
        return ard_cli_usage("fetch", "give --where or --targetids, not both");
    }
    const char *names[8];
    char columns[512] = "";
    if (a.present[OPT_COLUMNS]) {
        snprintf(columns, sizeof columns, "%s", a.value[OPT_COLUMNS]);
        o.num_columns = split_columns(columns, names, 8);
        if (o.num_columns < 1) {
            return ard_cli_usage("fetch", "--columns takes 1 to 8 comma-separated names");
        }
        o.columns = names;
    }
    const char *ids = a.present[OPT_TARGETIDS] ? a.value[OPT_TARGETIDS] : NULL;
    o.query.dataset = a.positional[0];
    o.query.dsn = a.present[OPT_DB] ? a.value[OPT_DB] : NULL;
    o.query.where = a.present[OPT_WHERE] ? a.value[OPT_WHERE] : NULL;
    o.query.targetids_file = ids && strcmp(ids, "-") == 0 ? "/dev/stdin" : ids;
    ard_error err;
    ard_error_init(&err);
    ard_fetch_report report;
    int lead = 1; /* under mpirun: rank 0 prints */
    ard_status st = ard_cli_fetch_run(&o, &report, &lead, &err);
    if (st != ARD_OK || !lead) {
        return st == ARD_OK ? ARD_CLI_OK : lead ? ard_cli_fail(st, &err) : ARD_CLI_FAILURE;
    }
    fprintf(stderr, "fetched %lld spectra into %s (%.3f s)\n", (long long)report.rows, o.out_path,
            report.seconds);
    return ARD_CLI_OK;
}
