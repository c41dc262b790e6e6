/* `ard generate OUT (--galaxies N | --region RA,DEC,R) [--seed S] [--spectra all|none|FRACTION]
 * [--grid log4096|...] [--threads T] [--lss-cells N] [--lss-box L] [--no-lss] [--web-smoothing R]
 * [--web-lambda-th L] [--lpt 1|2] [--buffered-io]`: writes a synthetic
 * DESI-like survey (catalog, truth, tiles) with ard_generate. */
#include "ard/survey.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ard_cmd_generate(int argc, char **argv);

enum {
    OPT_GALAXIES,
    OPT_SEED,
    OPT_SPECTRA,
    OPT_GRID,
    OPT_THREADS,
    OPT_ANOMALIES,
    OPT_GROUPS,
    OPT_QUIET,
    OPT_REGION,
    OPT_LSS_CELLS,
    OPT_LSS_BOX,
    OPT_NO_LSS,
    OPT_WEB_R,
    OPT_WEB_TH,
    OPT_LPT,
    OPT_BUFFERED,
    NUM_OPTS
};

static const ard_cli_option gen_options[NUM_OPTS] = {
    [OPT_GALAXIES] = {"galaxies", "N", "catalog rows (required)"},
    [OPT_SEED] = {"seed", "S", "random seed (default 1); same seed, same bytes"},
    [OPT_SPECTRA] = {"spectra", "all|none|F", "spectra for all, none or a fraction F of the tiles"},
    [OPT_GRID] = {"grid", "NAME", "wavelength grid: log4096 (default), logN, linearN, desi"},
    [OPT_THREADS] = {"threads", "T", "worker threads (default: all CPUs); output is identical"},
    [OPT_ANOMALIES] = {"anomalies", "F", "fraction of spectra with injected anomalies (0.001)"},
    [OPT_GROUPS] = {"group-fraction", "F", "fraction of galaxies in groups (default 0.4)"},
    [OPT_QUIET] = {"quiet", NULL, "print nothing on success"},
    [OPT_REGION] = {"region", "RA,DEC,RADIUS_DEG",
                    "a sky cap at full DR1 density (--galaxies optional: DR1 count)"},
    [OPT_LSS_CELLS] = {"lss-cells", "N", "cells per side of the LSS field (128; 16..512)"},
    [OPT_LSS_BOX] = {"lss-box", "MPC_H", "side of the periodic LSS box, Mpc/h (256)"},
    [OPT_NO_LSS] = {"no-lss", NULL, "no large-scale structure (unclustered placement)"},
    [OPT_WEB_R] = {"web-smoothing", "MPC_H", "smoothing R of the T-web truth, Mpc/h (2)"},
    [OPT_WEB_TH] = {"web-lambda-th", "L", "eigenvalue threshold of the T-web truth (0.2)"},
    [OPT_LPT] = {"lpt", "1|2", "LSS displacements: 1 Zel'dovich (default), 2 2LPT"},
    [OPT_BUFFERED] = {"buffered-io", NULL,
                      "write tiles through the page cache (default: O_DIRECT where supported)"},
};

static const ard_cli_spec gen_spec = {
    "generate",
    "OUT (--galaxies N | --region RA,DEC,R) [--seed S] [--spectra all|none|F] [--grid NAME] "
    "[--threads T]",
    "Writes a synthetic DESI-like survey into directory OUT: catalog/zcatalog-NNNN.parquet with\n"
    "DESI zcatalog columns, tiles/main/{bright,dark}/PIXGROUP/PIXNUM.parquet with spectra on the\n"
    "ARD grid, and truth/ (group ids, anomalies, true redshifts, the T-web cosmic-web class of\n"
    "the true mass field at each galaxy). Sky density and n(z) per class follow DESI DR1;\n"
    "galaxies live in groups (fingers of god) and a field population, placed with linear bias\n"
    "on a Zel'dovich-evolved Gaussian random field (--no-lss: without).",
    gen_options, NUM_OPTS};

static int parse_opts(const ard_cli_args *a, ard_generate_options *o) {
    double v = 0.0;
    if (a->present[OPT_REGION]) {
        const char *s = a->value[OPT_REGION];
        char *end;
        double r[3];
        int ok = 1;
        for (int k = 0; k < 3 && ok; k++) {
            errno = 0;
            r[k] = strtod(s, &end);
            ok = errno == 0 && end != s && *end == (k < 2 ? ',' : '\0');
            s = end + 1;
        }
        if (!ok) {
            return ard_cli_usage("generate", "--region must be RA,DEC,RADIUS_DEG (got '%s')",
                                 a->value[OPT_REGION]);
        }
        o->region_ra = r[0];
        o->region_dec = r[1];
        o->region_radius = r[2];
    }
    if (a->present[OPT_GALAXIES] || !a->present[OPT_REGION]) {
        if (!a->present[OPT_GALAXIES] ||
            ard_cli_parse_double(a->value[OPT_GALAXIES], 1, 1e9, &v) != 0 ||
            v != (double)(int64_t)v) {
            return ard_cli_usage("generate", "--galaxies N is required without --region (an "
                                             "integer 1..1e9)");
        }
        o->galaxies = (int64_t)v;
    }
    if (a->present[OPT_LSS_CELLS] &&
        (ard_cli_parse_double(a->value[OPT_LSS_CELLS], 16, 512, &v) != 0 ||
         v != (double)(int32_t)v)) {
        return ard_cli_usage("generate", "bad --lss-cells '%s'", a->value[OPT_LSS_CELLS]);
    }
    o->lss_cells = a->present[OPT_LSS_CELLS] ? (int32_t)v : o->lss_cells;
    if (a->present[OPT_LSS_BOX] &&
        ard_cli_parse_double(a->value[OPT_LSS_BOX], 1e-3, 1e5, &o->lss_box) != 0) {
        return ard_cli_usage("generate", "bad --lss-box '%s'", a->value[OPT_LSS_BOX]);
    }
    o->lss = a->present[OPT_NO_LSS] ? 0 : 1;
    o->buffered_io = a->present[OPT_BUFFERED] ? 1 : 0;
    if (a->present[OPT_WEB_R] &&
        ard_cli_parse_double(a->value[OPT_WEB_R], 1e-3, 100.0, &o->web_smoothing) != 0) {
        return ard_cli_usage("generate", "bad --web-smoothing '%s'", a->value[OPT_WEB_R]);
    }
    if (a->present[OPT_LPT]) {
        const char *s = a->value[OPT_LPT];
        if (strcmp(s, "1") != 0 && strcmp(s, "2") != 0) {
            return ard_cli_usage("generate", "--lpt must be 1 or 2 (got '%s')", s);
        }
        o->lss_lpt_order = s[0] == '2' ? 2 : 1;
    }
    if (a->present[OPT_WEB_TH] &&
        ard_cli_parse_double(a->value[OPT_WEB_TH], -100.0, 100.0, &o->web_lambda_th) != 0) {
        return ard_cli_usage("generate", "bad --web-lambda-th '%s'", a->value[OPT_WEB_TH]);
    }
    if (a->present[OPT_SEED]) {
        if (ard_cli_parse_u64(a->value[OPT_SEED], &o->seed) != 0) {
            return ard_cli_usage("generate", "bad --seed '%s'", a->value[OPT_SEED]);
        }
    }
    if (a->present[OPT_SPECTRA]) {
        const char *s = a->value[OPT_SPECTRA];
        if (strcmp(s, "all") == 0) {
            o->spectra_fraction = 1.0;
        } else if (strcmp(s, "none") == 0) {
            o->spectra_fraction = 0.0;
        } else if (ard_cli_parse_double(s, 0.0, 1.0, &o->spectra_fraction) != 0) {
            return ard_cli_usage("generate", "--spectra must be all, none or 0..1 (got '%s')", s);
        }
    }
    if (a->present[OPT_THREADS] &&
        (ard_cli_parse_double(a->value[OPT_THREADS], 0, 1024, &v) != 0)) {
        return ard_cli_usage("generate", "bad --threads '%s'", a->value[OPT_THREADS]);
    }
    o->threads = a->present[OPT_THREADS] ? (int32_t)v : 0;
    if (a->present[OPT_ANOMALIES] &&
        ard_cli_parse_double(a->value[OPT_ANOMALIES], 0.0, 1.0, &o->anomaly_fraction) != 0) {
        return ard_cli_usage("generate", "bad --anomalies '%s'", a->value[OPT_ANOMALIES]);
    }
    if (a->present[OPT_GROUPS] &&
        ard_cli_parse_double(a->value[OPT_GROUPS], 0.0, 0.95, &o->group_fraction) != 0) {
        return ard_cli_usage("generate", "bad --group-fraction '%s'", a->value[OPT_GROUPS]);
    }
    return ARD_CLI_OK;
}

static void print_report(const char *out, const ard_generate_report *r) {
    printf("generated %s: %lld galaxies (BGS %lld, LRG %lld, ELG %lld, QSO %lld)\n", out,
           (long long)r->galaxies, (long long)r->class_counts[0], (long long)r->class_counts[1],
           (long long)r->class_counts[2], (long long)r->class_counts[3]);
    printf("  groups: %lld with %lld members; anomalies: %lld\n", (long long)r->groups,
           (long long)r->grouped, (long long)r->anomalies);
    printf("  spectra: %lld in %lld tiles; catalog files: %lld; %.1f MB written\n",
           (long long)r->spectra, (long long)r->tiles, (long long)r->catalog_files,
           (double)r->bytes_written / 1e6);
    printf("  time: catalog %.2f s (cosmic web %.2f s), spectra %.2f s (CPU %.2f s)\n",
           r->seconds_catalog, r->seconds_web, r->seconds_spectra, r->cpu_seconds_spectra);
}

int ard_cmd_generate(int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(&gen_spec, argc, argv, &a);
    if (rc != ARD_CLI_OK) {
        return rc;
    }
    if (a.help) {
        ard_cli_print_help(&gen_spec);
        return ARD_CLI_OK;
    }
    if (a.num_positional != 1) {
        return ard_cli_usage("generate", "expected one output directory");
    }
    ard_generate_options o;
    ard_generate_options_init(&o);
    ard_error err;
    ard_error_init(&err);
    rc = parse_opts(&a, &o);
    if (rc != ARD_CLI_OK) {
        return rc;
    }
    if (a.present[OPT_GRID]) {
        ard_status st = ard_grid_from_name(a.value[OPT_GRID], &o.grid, &err);
        if (st != ARD_OK) {
            return ard_cli_usage("generate", "%s", err.msg);
        }
    }
    o.progress = 1;
    ard_generate_report r;
    ard_status st = ard_generate(a.positional[0], &o, &r, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    if (!a.present[OPT_QUIET]) {
        print_report(a.positional[0], &r);
    }
    return ARD_CLI_OK;
}
