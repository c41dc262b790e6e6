/* `ard query DATASET --where EXPR | --targetids FILE|- [--limit N] [--format
 * paths|plan|targets|json]`: answers "which bytes hold the spectra I want" from the index,
 * read-only. Also the shared helpers for commands that turn a predicate or a TARGETID list into a
 * plan (ard fetch). */
#include "cli.h"

#include "ard/index.h"

#include <stdlib.h>
#include <string.h>

int ard_cmd_query(int argc, char **argv);
int ard_cli_plan(const char *command, const char *dataset, const char *dsn, const char *where,
                 const char *ids_path, const char *limit_text, ard_plan **out,
                 ard_query_report *report);

enum { OPT_WHERE, OPT_TARGETIDS, OPT_LIMIT, OPT_FORMAT, OPT_DB, NUM_OPTS };

static const ard_cli_option query_options[NUM_OPTS] = {
    [OPT_WHERE] = {"where", "EXPR",
                   "SQL predicate over galaxies, e.g. \"Z > 2.5 AND SPECTYPE = 'QSO'\""},
    [OPT_TARGETIDS] = {"targetids", "FILE|-", "point look-ups: one TARGETID per line"},
    [OPT_LIMIT] = {"limit", "N", "at most N spectra (the N smallest TARGETIDs that match)"},
    [OPT_FORMAT] = {"format", "FMT", "paths (default), plan, targets or json"},
    [OPT_DB] = {"db", "DSN", "index database (default DATASET/ard.db); see ard sync --help"},
};

static const ard_cli_spec query_spec = {
    "query",
    "DATASET [--where EXPR | --targetids FILE|-] [--limit N] [--format paths|plan|targets|json]",
    "Runs a read-only SQL predicate over the galaxies table (columns as in DESI's zcatalog, any "
    "case)\n"
    "and prints where the matching spectra live: the files (paths), the read plan sorted for\n"
    "sequential I/O (plan: path, row group, byte offset, bytes, rows), the TARGETIDs, or JSON.\n"
    "A predicate that tries to write, attach or run a second statement is refused.",
    query_options, NUM_OPTS};

/* Fills the query stage's options from the shared flags of query and fetch; runs it. */
int ard_cli_plan(const char *command, const char *dataset, const char *dsn, const char *where,
                 const char *ids_path, const char *limit_text, ard_plan **out,
                 ard_query_report *report) {
    ard_query_options o;
    ard_query_options_init(&o);
    *out = NULL;
    if (limit_text && ard_cli_parse_i64(limit_text, 0, INT64_MAX, &o.limit) != 0) {
        return ard_cli_usage(command, "--limit takes a non-negative integer");
    }
    if (where && ids_path) {
        return ard_cli_usage(command, "give --where or --targetids, not both");
    }
    o.dataset = dataset;
    o.dsn = dsn;
    o.where = where;
    o.targetids_file = ids_path && strcmp(ids_path, "-") == 0 ? "/dev/stdin" : ids_path;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_query_run(&o, out, report, &err);
    return st != ARD_OK ? ard_cli_fail(st, &err) : 0;
}

static void print_plan(const ard_plan *plan, const char *dataset, const char *format) {
    int64_t chunks = ard_plan_num_chunks(plan);
    if (strcmp(format, "paths") == 0) {
        for (int32_t i = 0; i < ard_plan_num_files(plan); i++) {
            printf("%s/%s\n", dataset, ard_plan_file(plan, i));
        }
    } else if (strcmp(format, "targets") == 0) {
        for (int64_t c = 0; c < chunks; c++) {
            const ard_plan_chunk *ch = ard_plan_chunk_at(plan, c);
            for (int64_t r = 0; r < ch->num_rows; r++) {
                printf("%lld\n", (long long)ch->targetids[r]);
            }
        }
    } else if (strcmp(format, "plan") == 0) {
        ard_buf b;
        ard_buf_init(&b);
        ard_plan_format(plan, &b);
        fwrite(b.data, 1, b.len, stdout);
        ard_buf_reset(&b);
    } else {
        ard_buf b;
        ard_buf_init(&b);
        ard_plan_to_json(plan, &b, 0);
        printf("%.*s\n", (int)b.len, (const char *)b.data);
        ard_buf_reset(&b);
    }
}

int ard_cmd_query(int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(&query_spec, argc, argv, &a);
    if (rc != 0 || a.help) {
        if (a.help) {
            ard_cli_print_help(&query_spec);
        }
        return rc;
    }
    if (a.num_positional != 1) {
        return ard_cli_usage("query", "expected one DATASET directory");
    }
    const char *format = a.present[OPT_FORMAT] ? a.value[OPT_FORMAT] : "paths";
    if (strcmp(format, "paths") && strcmp(format, "plan") && strcmp(format, "targets") &&
        strcmp(format, "json")) {
        return ard_cli_usage("query", "unknown --format '%s' (paths, plan, targets, json)", format);
    }
    ard_plan *plan = NULL;
    ard_query_report report;
    rc = ard_cli_plan("query", a.positional[0], a.present[OPT_DB] ? a.value[OPT_DB] : NULL,
                      a.present[OPT_WHERE] ? a.value[OPT_WHERE] : NULL,
                      a.present[OPT_TARGETIDS] ? a.value[OPT_TARGETIDS] : NULL,
                      a.present[OPT_LIMIT] ? a.value[OPT_LIMIT] : NULL, &plan, &report);
    if (rc != 0) {
        return rc;
    }
    print_plan(plan, a.positional[0], format);
    fprintf(stderr, "%lld spectra in %d files, %lld row groups (%.1f ms)\n",
            (long long)report.spectra, report.files, (long long)report.row_groups,
            report.seconds * 1e3);
    ard_plan_free(plan);
    return ARD_CLI_OK;
}
