/* `ard results list|show|drop DATASET [RUN] [--stage S] [--db DSN] [--json]`: the science stages'
 * recorded runs (ard_result_runs), one run in full, or dropping one (ard_result_run_drop). */
#include "cli.h"

#include "ard/index.h"

#include <string.h>

int ard_cmd_results(int argc, char **argv);

enum { OPT_STAGE, OPT_DB, OPT_JSON, NUM_OPTS };

static const ard_cli_option results_options[NUM_OPTS] = {
    [OPT_STAGE] = {"stage", "S", "only runs of this stage (fof, anomaly, ...)"},
    [OPT_DB] = {"db", "DSN", "index database (default DATASET/ard.db); see ard sync --help"},
    [OPT_JSON] = {"json", NULL, "print JSON"},
};

static const ard_cli_spec results_spec = {
    "results", "list|show|drop DATASET [RUN] [--stage S] [--db DSN] [--json]",
    "The runs the science stages recorded (one row each in the index's <stage>_runs, files\n"
    "DATASET/results/<stage>-<run>-<table>.parquet, per-galaxy index tables holding the latest\n"
    "run). list: every run, oldest first; show RUN: its parameters, provenance and tables;\n"
    "drop RUN: removes its row, its rows in the index tables and its files (--stage is needed\n"
    "when two stages have a run of that id).",
    results_options, NUM_OPTS};

static const char *cell(const ard_column_set *set, const char *name, int64_t row) {
    int32_t c = ard_column_set_find(set, name);
    const ard_index_column *col = ard_column_set_column(set, c);
    const char *v =
        col && ard_column_set_valid(set, c, row) ? ((const char *const *)col->values)[row] : NULL;
    return v;
}

static const char *const fields[] = {"run_id",      "stage",  "started", "finished", "ard_version",
                                     "inputs_hash", "params", "tables",  "summary"};

static void json_run(ard_json *j, const ard_column_set *runs, int64_t r) {
    ard_json_begin_object(j);
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        const char *v = cell(runs, fields[f], r);
        ard_json_key(j, fields[f]);
        int raw = v && (strcmp(fields[f], "params") == 0 || strcmp(fields[f], "tables") == 0 ||
                        strcmp(fields[f], "summary") == 0);
        if (raw) {
            ard_json_raw(j, v); /* JSON the library wrote or the stage gave */
        } else {
            ard_json_string(j, v);
        }
    }
    ard_json_end_object(j);
}

static void text_run(const ard_column_set *runs, int64_t r, const char *stage, int full) {
    if (!full) {
        const char *fin = cell(runs, "finished", r);
        printf("%-9s %-20s %-28s %s\n", stage, cell(runs, "run_id", r), fin ? fin : "-",
               cell(runs, "inputs_hash", r) ? cell(runs, "inputs_hash", r) : "-");
        return;
    }
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        const char *v = cell(runs, fields[f], r);
        printf("%-12s %s\n", fields[f], v ? v : "-");
    }
}

/* Visits the runs of the stages (one stage, or all); run_id NULL: every run. *found counts. */
static ard_status visit(ard_index *idx, const char *only_stage, const char *run_id, int json,
                        int full, ard_json *j, int64_t *found, char *stage_of, size_t cap,
                        ard_error *err) {
    ard_column_set *stages = NULL;
    ard_status st = ard_result_stages(idx, &stages, err);
    for (int64_t s = 0; st == ARD_OK && s < ard_column_set_num_rows(stages); s++) {
        const char *stage = ((const char *const *)ard_column_set_column(stages, 0)->values)[s];
        if (only_stage && strcmp(stage, only_stage) != 0) {
            continue;
        }
        ard_column_set *runs = NULL;
        st = ard_result_runs(idx, stage, &runs, err);
        for (int64_t r = 0; st == ARD_OK && r < ard_column_set_num_rows(runs); r++) {
            const char *id = cell(runs, "run_id", r);
            if (run_id && (!id || strcmp(id, run_id) != 0)) {
                continue;
            }
            (*found)++;
            snprintf(stage_of, cap, "%s", stage);
            if (j && json) {
                json_run(j, runs, r);
            } else if (j) {
                text_run(runs, r, stage, full);
            }
        }
        ard_column_set_free(runs);
    }
    ard_column_set_free(stages);
    return st;
}

static int list_or_show(const ard_cli_args *a, const char *verb) {
    const char *dataset = a->positional[1];
    const char *run_id = a->num_positional > 2 ? a->positional[2] : NULL;
    int show = strcmp(verb, "show") == 0;
    if (show != (run_id != NULL)) {
        return ard_cli_usage("results", show ? "show needs a RUN" : "list takes no RUN");
    }
    ard_error err;
    ard_error_init(&err);
    ard_index *idx = NULL;
    ard_status st = ard_index_open(dataset, a->present[OPT_DB] ? a->value[OPT_DB] : NULL,
                                   ARD_INDEX_READ_ONLY, &idx, &err);
    ard_buf b;
    ard_buf_init(&b);
    ard_json j;
    ard_json_init(&j, &b, 1);
    int json = a->present[OPT_JSON];
    if (json) {
        ard_json_begin_array(&j);
    } else if (!show) {
        printf("%-9s %-20s %-28s %s\n", "stage", "run", "finished", "inputs_hash");
    }
    int64_t found = 0;
    char stage[64] = "";
    if (st == ARD_OK) {
        st = visit(idx, a->present[OPT_STAGE] ? a->value[OPT_STAGE] : NULL, run_id, json, show, &j,
                   &found, stage, sizeof stage, &err);
    }
    ard_index_close(idx);
    if (st == ARD_OK && show && found == 0) {
        st = ard_error_set(&err, ARD_ENOENT, "no run '%s'", run_id);
    }
    if (st == ARD_OK && json) {
        ard_json_end_array(&j);
        printf("%.*s\n", (int)b.len, (const char *)b.data);
    }
    ard_buf_reset(&b);
    return st == ARD_OK ? ARD_CLI_OK : ard_cli_fail(st, &err);
}

static int drop(const ard_cli_args *a) {
    if (a->num_positional != 3) {
        return ard_cli_usage("results", "drop needs DATASET and RUN");
    }
    const char *dataset = a->positional[1], *run_id = a->positional[2];
    ard_error err;
    ard_error_init(&err);
    ard_index *idx = NULL;
    ard_status st =
        ard_index_open(dataset, a->present[OPT_DB] ? a->value[OPT_DB] : NULL, 0, &idx, &err);
    char stage[64] = "";
    int64_t found = 0, files = 0;
    if (a->present[OPT_STAGE]) {
        snprintf(stage, sizeof stage, "%s", a->value[OPT_STAGE]);
    } else if (st == ARD_OK) {
        st = visit(idx, NULL, run_id, 0, 0, NULL, &found, stage, sizeof stage, &err);
        if (st == ARD_OK && found > 1) {
            st = ard_error_set(&err, ARD_EINVAL, "%lld stages have a run '%s': give --stage",
                               (long long)found, run_id);
        } else if (st == ARD_OK && found == 0) {
            st = ard_error_set(&err, ARD_ENOENT,
                               "no run '%s' in the index (give --stage to remove its files)",
                               run_id);
        }
    }
    if (st == ARD_OK) {
        st = ard_result_run_drop(idx, dataset, stage, run_id, &files, &err);
    }
    ard_index_close(idx);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    printf("dropped %s run %s (%lld files)\n", stage, run_id, (long long)files);
    return ARD_CLI_OK;
}

int ard_cmd_results(int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(&results_spec, argc, argv, &a);
    if (rc != 0) {
        return rc;
    }
    if (a.help) {
        ard_cli_print_help(&results_spec);
        return ARD_CLI_OK;
    }
    if (a.num_positional < 2 || a.num_positional > 3) {
        return ard_cli_usage("results", "expected list|show|drop DATASET [RUN]");
    }
    const char *verb = a.positional[0];
    if (strcmp(verb, "list") == 0 || strcmp(verb, "show") == 0) {
        return list_or_show(&a, verb);
    }
    if (strcmp(verb, "drop") == 0) {
        return drop(&a);
    }
    return ard_cli_usage("results", "unknown action '%s' (list, show or drop)", verb);
}
