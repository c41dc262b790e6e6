/* `ard parquet cat FILE [--columns a,b] [--row-groups 0,2-3] [--limit N] [--format csv|jsonl]`:
 * decodes rows through the Arrow export (ard_parquet_read_arrow) and prints them. */
#include "arrow_render.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_COLUMNS, OPT_ROW_GROUPS, OPT_LIMIT, OPT_FORMAT, NUM_OPTS };

static const ard_cli_option cat_options[NUM_OPTS] = {
    [OPT_COLUMNS] = {"columns", "A,B", "top-level fields to print (default: all)"},
    [OPT_ROW_GROUPS] = {"row-groups", "LIST", "row groups to read, e.g. 0,2-4 (default: all)"},
    [OPT_LIMIT] = {"limit", "N", "stop after N rows"},
    [OPT_FORMAT] = {"format", "csv|jsonl", "output format (default jsonl)"},
};

static const ard_cli_spec cat_spec = {
    "parquet cat", "FILE [--columns A,B] [--row-groups LIST] [--limit N] [--format csv|jsonl]",
    "Decodes the rows of a Parquet file and prints them, one JSON object per line (jsonl) or as\n"
    "CSV with a header. Nested values (lists, maps, structs) are printed as JSON.",
    cat_options, NUM_OPTS};

typedef struct cat_job {
    ard_parquet_file *file;
    int32_t *fields;
    int32_t num_fields;
    uint8_t *row_groups; /* 1 = selected */
    int64_t limit;
    int csv;
} cat_job;

/* "0,2-4" -> marks in sel[0..n). */
static int parse_row_groups(const char *spec, uint8_t *sel, int32_t n) {
    const char *p = spec;
    while (*p) {
        char *end;
        errno = 0;
        long a = strtol(p, &end, 10), b;
        if (errno || end == p || a < 0) {
            return -1;
        }
        b = a;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (errno || end == p || b < a) {
                return -1;
            }
        }
        if (b >= n) {
            return -1;
        }
        memset(sel + a, 1, (size_t)(b - a + 1));
        if (*end != ',' && *end != '\0') {
            return -1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int parse_columns(cat_job *job, const char *list) {
    char *copy = ard_strdup(list);
    if (!copy) {
        return ard_cli_fail(ARD_ENOMEM, NULL);
    }
    int rc = 0;
    for (char *name = copy; name && rc == 0;) {
        char *comma = strchr(name, ',');
        if (comma) {
            *comma = '\0';
        }
        int32_t f = ard_parquet_find_field(job->file, name);
        if (f < 0) {
            rc = ard_cli_usage("parquet cat", "no column '%s' in %s", name,
                               ard_parquet_path(job->file));
        } else {
            job->fields[job->num_fields++] = f;
        }
        name = comma ? comma + 1 : NULL;
    }
    ard_free(copy);
    return rc;
}

static void print_header(const struct ArrowSchema *s) {
    for (int64_t c = 0; c < s->n_children; c++) {
        printf("%s%s", c ? "," : "", s->children[c]->name);
    }
    printf("\n");
}

/* Prints up to *left rows of one decoded row group. */
static void print_batch(const cat_job *job, const struct ArrowSchema *s, const struct ArrowArray *a,
                        int64_t *left, int first) {
    ard_buf line;
    ard_buf_init(&line);
    if (job->csv && first) {
        print_header(s);
    }
    for (int64_t r = 0; r<a->length && * left> 0; r++, (*left)--) {
        line.len = 0;
        if (!job->csv) {
            ard_buf_append(&line, "{", 1);
        }
        for (int64_t c = 0; c < a->n_children; c++) {
            if (c > 0) {
                ard_buf_append(&line, ",", 1);
            }
            if (job->csv) {
                ard_cli_render_csv(s->children[c], a->children[c], r, &line);
            } else {
                ard_buf_appendf(&line, "\"%s\":", s->children[c]->name);
                ard_cli_render_json(s->children[c], a->children[c], r, &line);
            }
        }
        ard_buf_append(&line, job->csv ? "\n" : "}\n", job->csv ? 1 : 2);
        fwrite(line.data, 1, line.len, stdout);
    }
    ard_buf_reset(&line);
}

static int run_cat(cat_job *job) {
    const ard_pq_metadata *md = ard_parquet_metadata(job->file);
    int64_t left = job->limit;
    int first = 1;
    for (int32_t rg = 0; rg < md->num_row_groups && left > 0; rg++) {
        if (job->row_groups && !job->row_groups[rg]) {
            continue;
        }
        struct ArrowSchema schema;
        struct ArrowArray array;
        ard_error err;
        ard_error_init(&err);
        ard_status st = ard_parquet_read_arrow(job->file, rg, job->fields, job->num_fields, &schema,
                                               &array, &err);
        if (st != ARD_OK) {
            fflush(stdout);
            return ard_cli_fail(st, &err);
        }
        print_batch(job, &schema, &array, &left, first);
        first = 0;
        array.release(&array);
        schema.release(&schema);
    }
    if (first && job->csv && ard_parquet_num_fields(job->file) >= 0) {
        /* no row group at all: still print the header from the schema */
        const ard_pq_metadata *m = md;
        for (int32_t c = 0; c < job->num_fields; c++) {
            printf("%s%s", c ? "," : "", m->nodes[m->nodes[0].children[job->fields[c]]].name);
        }
        printf("\n");
    }
    return fflush(stdout) == 0 ? ARD_CLI_OK : ard_cli_fail(ARD_EIO, NULL);
}

static int setup(cat_job *job, const ard_cli_args *args) {
    int32_t nf = ard_parquet_num_fields(job->file);
    job->fields = ard_calloc((size_t)nf + 1, sizeof(int32_t));
    if (!job->fields) {
        return ard_cli_fail(ARD_ENOMEM, NULL);
    }
    if (args->present[OPT_COLUMNS]) {
        int rc = parse_columns(job, args->value[OPT_COLUMNS]);
        if (rc != 0) {
            return rc;
        }
    } else {
        for (int32_t i = 0; i < nf; i++) {
            job->fields[job->num_fields++] = i;
        }
    }
    if (args->present[OPT_ROW_GROUPS]) {
        int32_t nrg = ard_parquet_metadata(job->file)->num_row_groups;
        job->row_groups = ard_calloc((size_t)nrg + 1, 1);
        if (!job->row_groups ||
            parse_row_groups(args->value[OPT_ROW_GROUPS], job->row_groups, nrg) != 0) {
            return ard_cli_usage("parquet cat", "bad --row-groups '%s' (file has %d row groups)",
                                 args->value[OPT_ROW_GROUPS], (int)nrg);
        }
    }
    return 0;
}

int ard_cmd_parquet_cat(int argc, char **argv) {
    ard_cli_args args;
    int rc = ard_cli_parse(&cat_spec, argc, argv, &args);
    if (rc != 0 || args.help) {
        if (args.help) {
            ard_cli_print_help(&cat_spec);
        }
        return rc;
    }
    if (args.num_positional != 1) {
        return ard_cli_usage("parquet cat", "expected one FILE");
    }
    cat_job job = {.limit = INT64_MAX};
    const char *format = args.present[OPT_FORMAT] ? args.value[OPT_FORMAT] : "jsonl";
    if (strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0) {
        return ard_cli_usage("parquet cat", "unknown --format '%s' (csv or jsonl)", format);
    }
    job.csv = strcmp(format, "csv") == 0;
    if (args.present[OPT_LIMIT] &&
        ard_cli_parse_i64(args.value[OPT_LIMIT], 0, INT64_MAX, &job.limit) != 0) {
        return ard_cli_usage("parquet cat", "bad --limit '%s'", args.value[OPT_LIMIT]);
    }
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_parquet_open(args.positional[0], NULL, &job.file, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    rc = setup(&job, &args);
    if (rc == 0) {
        rc = run_cat(&job);
    }
    ard_free(job.fields);
    ard_free(job.row_groups);
    ard_parquet_close(job.file);
    return rc;
}
