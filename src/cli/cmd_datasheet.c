/* `ard datasheet DATASET [--db DSN] [--template FILE] [--out FILE]`: writes the living datasheet
 * (DATA_README.md + figures/) from the dataset's index; also prints the built-in template or the
 * placeholders a template may use. */
#include "cli.h"

#include "ard/datasheet.h"

#include <errno.h>
#include <stdlib.h>

int ard_cmd_datasheet(int argc, char **argv);

enum {
    OPT_DB,
    OPT_TEMPLATE,
    OPT_OUT,
    OPT_STDOUT,
    OPT_NO_FIGURES,
    OPT_WORST,
    OPT_PRINT_TEMPLATE,
    OPT_PLACEHOLDERS,
    NUM_OPTS
};

static const ard_cli_option ds_options[NUM_OPTS] = {
    [OPT_DB] = {"db", "DSN",
                "index database (default DATASET/ard.db; postgresql://... for PostgreSQL)"},
    [OPT_TEMPLATE] = {"template", "FILE", "Markdown template (default: the built-in one)"},
    [OPT_OUT] = {"out", "FILE",
                 "where to write (default DATASET/DATA_README.md); figures go to "
                 "figures/ beside it"},
    [OPT_STDOUT] = {"stdout", NULL, "print the Markdown instead of writing files"},
    [OPT_NO_FIGURES] = {"no-figures", NULL, "do not write the SVG figures"},
    [OPT_WORST] = {"worst", "N", "number of least complete tiles listed (default 10)"},
    [OPT_PRINT_TEMPLATE] = {"print-template", NULL, "print the built-in template and exit"},
    [OPT_PLACEHOLDERS] = {"list-placeholders", NULL, "print the placeholders a template may use"},
};

static const ard_cli_spec ds_spec = {
    "datasheet", "DATASET [--db DSN] [--template FILE] [--out FILE]",
    "Writes DATASET/DATA_README.md, a datasheet (Gebru et al.) computed from the index: counts by\n"
    "class and SPECTYPE, linkage, completeness from the Parquet footers' null counts, redshift "
    "and\n"
    "sky coverage, provenance and science results, with SVG figures in figures/. No spectrum is\n"
    "read. Templates use {{name}} and {{#table}}...{{/table}}; see --list-placeholders.\n"
    "`ard sync` regenerates the datasheet after every sync.",
    ds_options, NUM_OPTS};

/* cmd_cluster_stages.c: the datasheet across MPI ranks under mpirun (*lead: this rank prints) */
ard_status ard_cli_datasheet_write(const char *dataset, const char *dsn,
                                   const ard_datasheet_options *o, int *lead, ard_error *err);

static int print_buf(ard_buf *b) {
    fwrite(b->data, 1, b->len, stdout);
    ard_buf_reset(b);
    return ARD_CLI_OK;
}

static int render_stdout(const char *dataset, const char *dsn, const ard_datasheet_options *o) {
    ard_error err;
    ard_error_init(&err);
    ard_index *idx = NULL;
    ard_buf b;
    ard_buf_init(&b);
    ard_status st = ard_index_open(dataset, dsn, ARD_INDEX_READ_ONLY, &idx, &err);
    if (st == ARD_OK) {
        st = ard_datasheet_render(dataset, idx, o, &b, &err);
    }
    ard_index_close(idx);
    if (st != ARD_OK) {
        ard_buf_reset(&b);
        return ard_cli_fail(st, &err);
    }
    return print_buf(&b);
}

int ard_cmd_datasheet(int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(&ds_spec, argc, argv, &a);
    if (rc != 0 || a.help) {
        if (a.help) {
            ard_cli_print_help(&ds_spec);
        }
        return rc;
    }
    ard_buf b;
    ard_buf_init(&b);
    if (a.present[OPT_PRINT_TEMPLATE]) {
        ard_buf_appendf(&b, "%s", ard_datasheet_default_template());
        return print_buf(&b);
    }
    if (a.present[OPT_PLACEHOLDERS]) {
        ard_datasheet_placeholders(&b);
        return print_buf(&b);
    }
    if (a.num_positional != 1) {
        return ard_cli_usage("datasheet", "expected one DATASET directory");
    }
    ard_datasheet_options o = {0};
    o.template_path = a.present[OPT_TEMPLATE] ? a.value[OPT_TEMPLATE] : NULL;
    o.out_path = a.present[OPT_OUT] ? a.value[OPT_OUT] : NULL;
    o.no_figures = a.present[OPT_NO_FIGURES];
    if (a.present[OPT_WORST]) {
        if (ard_cli_parse_i32(a.value[OPT_WORST], 1, 100000, &o.worst_tiles) != 0) {
            return ard_cli_usage("datasheet", "--worst takes an integer in 1..100000");
        }
    }
    const char *dataset = a.positional[0];
    const char *dsn = a.present[OPT_DB] ? a.value[OPT_DB] : NULL;
    if (a.present[OPT_STDOUT]) {
        return render_stdout(dataset, dsn, &o);
    }
    ard_error err;
    ard_error_init(&err);
    int lead = 1; /* under mpirun: rank 0 prints */
    ard_status st = ard_cli_datasheet_write(dataset, dsn, &o, &lead, &err);
    if (st != ARD_OK || !lead) {
        return st == ARD_OK ? ARD_CLI_OK : lead ? ard_cli_fail(st, &err) : ARD_CLI_FAILURE;
    }
    if (o.out_path) {
        printf("%s\n", o.out_path);
    } else {
        printf("%s/DATA_README.md\n", dataset);
    }
    return ARD_CLI_OK;
}
