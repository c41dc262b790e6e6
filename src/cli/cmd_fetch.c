/* `ard fetch DATASET --where EXPR | --targetids FILE --out subset.parquet|subset.npy [--columns
 * FLUX,IVAR,MASK] [--threads T]`: plans with the index, then reads the spectra straight from the
 * tiles (row-group granular, in parallel) and writes them out: all tile columns (FLUX, IVAR, MASK)
 * by default for Parquet, FLUX by default for .npy. */
#include "cli.h"

#include "ard/index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ard_cmd_fetch(int argc, char **argv);
int ard_cli_plan(const char *command, const char *dataset, const char *dsn, const char *where,
                 const char *ids_path, const char *limit_text, ard_plan **out,
                 ard_query_report *report);

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

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

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
    const char *out = a.value[OPT_OUT];
    int npy = ends_with(out, ".npy");
    if (!npy && !ends_with(out, ".parquet")) {
        return ard_cli_usage("fetch", "--out must end in .parquet or .npy");
    }
    int32_t threads = 0;
    if (a.present[OPT_THREADS]) {
        if (ard_cli_parse_i32(a.value[OPT_THREADS], 1, 1024, &threads) != 0) {
            return ard_cli_usage("fetch", "--threads takes an integer in 1..1024");
        }
    }
    const char *names[8];
    char columns[512] = "";
    int ncols = 0; /* 0: the library's default columns */
    if (a.present[OPT_COLUMNS]) {
        snprintf(columns, sizeof columns, "%s", a.value[OPT_COLUMNS]);
        ncols = split_columns(columns, names, 8);
        if (ncols < 1) {
            return ard_cli_usage("fetch", "--columns takes 1 to 8 comma-separated names");
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ard_plan *plan = NULL;
    rc = ard_cli_plan("fetch", a.positional[0], a.present[OPT_DB] ? a.value[OPT_DB] : NULL,
                      a.present[OPT_WHERE] ? a.value[OPT_WHERE] : NULL,
                      a.present[OPT_TARGETIDS] ? a.value[OPT_TARGETIDS] : NULL,
                      a.present[OPT_LIMIT] ? a.value[OPT_LIMIT] : NULL, &plan, NULL);
    if (rc != 0) {
        return rc;
    }
    ard_error err;
    ard_error_init(&err);
    int64_t rows = 0;
    ard_status st = npy ? ard_fetch_to_npy(a.positional[0], plan, ncols ? names : NULL, ncols,
                                           threads, out, &rows, &err)
                        : ard_fetch_to_parquet(a.positional[0], plan, ncols ? names : NULL, ncols,
                                               threads, out, &rows, &err);
    ard_plan_free(plan);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "fetched %lld spectra into %s (%.3f s)\n", (long long)rows, out,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    return ARD_CLI_OK;
}
