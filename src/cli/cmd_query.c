/* `ard query DATASET --where EXPR | --targetids FILE|- [--limit N] [--format
 * paths|plan|targets|json]`: answers "which bytes hold the spectra I want" from the index,
 * read-only. Also the shared helpers for commands that turn a predicate or a TARGETID list into a
 * plan (ard fetch). */
#include "cli.h"

#include "ard/index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ard_cmd_query(int argc, char **argv);
int ard_cli_plan(const char *command, const char *dataset, const char *dsn, const char *where,
                 const char *ids_path, const char *limit_text, ard_plan **out);

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

static int read_ids(const char *path, int64_t **ids, int64_t *count) {
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "ard: query: cannot open %s: %s\n", path, strerror(errno));
        return ARD_CLI_FAILURE;
    }
    int64_t cap = 1024, n = 0;
    int64_t *v = ard_malloc((size_t)cap * sizeof *v);
    char line[128];
    long lineno = 0;
    int rc = v ? 0 : ard_cli_fail(ARD_ENOMEM, NULL);
    while (rc == 0 && fgets(line, sizeof line, in)) {
        lineno++;
        char *end;
        errno = 0;
        long long x = strtoll(line, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') {
            end++;
        }
        if (end == line || line[0] == '\n') {
            continue; /* blank line */
        }
        if (errno || *end) {
            fprintf(stderr, "ard: query: %s line %ld: not a TARGETID\n", path, lineno);
            rc = ARD_CLI_FAILURE;
        } else if (n == cap) {
            int64_t *g = ard_realloc(v, (size_t)(cap *= 2) * sizeof *v);
            rc = g ? 0 : ard_cli_fail(ARD_ENOMEM, NULL);
            v = g ? g : v;
        }
        if (rc == 0) {
            v[n++] = x;
        }
    }
    if (in != stdin) {
        fclose(in);
    }
    *ids = v;
    *count = n;
    return rc;
}

int ard_cli_plan(const char *command, const char *dataset, const char *dsn, const char *where,
                 const char *ids_path, const char *limit_text, ard_plan **out) {
    int64_t limit = 0;
    *out = NULL;
    if (limit_text) {
        char *end;
        errno = 0;
        limit = strtoll(limit_text, &end, 10);
        if (errno || *end || end == limit_text || limit < 0) {
            return ard_cli_usage(command, "--limit takes a non-negative integer");
        }
    }
    if (where && ids_path) {
        return ard_cli_usage(command, "give --where or --targetids, not both");
    }
    ard_error err;
    ard_error_init(&err);
    ard_index *idx = NULL;
    ard_status st = ard_index_open(dataset, dsn, ARD_INDEX_READ_ONLY, &idx, &err);
    int rc = 0;
    if (st == ARD_OK && ids_path) {
        int64_t *ids = NULL, n = 0;
        rc = read_ids(ids_path, &ids, &n);
        st = rc == 0 ? ard_index_query_targetids(idx, ids, n, out, &err) : ARD_OK;
        ard_free(ids);
    } else if (st == ARD_OK) {
        st = ard_index_query(idx, where, limit, out, &err);
    }
    ard_index_close(idx);
    return rc ? rc : st != ARD_OK ? ard_cli_fail(st, &err) : 0;
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
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ard_plan *plan = NULL;
    rc = ard_cli_plan("query", a.positional[0], a.present[OPT_DB] ? a.value[OPT_DB] : NULL,
                      a.present[OPT_WHERE] ? a.value[OPT_WHERE] : NULL,
                      a.present[OPT_TARGETIDS] ? a.value[OPT_TARGETIDS] : NULL,
                      a.present[OPT_LIMIT] ? a.value[OPT_LIMIT] : NULL, &plan);
    if (rc != 0) {
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_plan(plan, a.positional[0], format);
    fprintf(stderr, "%lld spectra in %d files, %lld row groups (%.1f ms)\n",
            (long long)ard_plan_num_rows(plan), ard_plan_num_files(plan),
            (long long)ard_plan_num_chunks(plan),
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6);
    ard_plan_free(plan);
    return ARD_CLI_OK;
}
