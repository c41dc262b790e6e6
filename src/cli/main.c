/* `ard <command> [options]`: the command table, dispatch into command groups (`ard parquet <sub>`),
 * --help and --version. Commands live in cmd_*.c and return the process exit code. */
#include "cli.h"

#include <errno.h>
#include <string.h>

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*fn)(int argc, char **argv);
    const struct cli_command *subcommands; /* a group: fn is NULL */
    int num_subcommands;
} cli_command;

static const cli_command parquet_commands[] = {
    {"meta", "print a Parquet file's footer: schema, row groups, statistics", ard_cmd_parquet_meta,
     NULL, 0},
    {"cat", "print the rows of a Parquet file", ard_cmd_parquet_cat, NULL, 0},
    {"convert", "rewrite a Parquet file in ard's layout (codec, encodings, page index)",
     ard_cmd_parquet_convert, NULL, 0},
};

int ard_cmd_generate(int argc, char **argv);
int ard_cmd_ingest(int argc, char **argv);
int ard_cmd_sync(int argc, char **argv);
int ard_cmd_query(int argc, char **argv);
int ard_cmd_fetch(int argc, char **argv);
int ard_cmd_stream(int argc, char **argv);
int ard_cmd_fof(int argc, char **argv);
int ard_cmd_datasheet(int argc, char **argv);
int ard_cmd_cosmicweb_train(int argc, char **argv);
int ard_cmd_cosmicweb_predict(int argc, char **argv);
static const cli_command cosmicweb_commands[] = {
    {"train", "train the GraphSAGE cosmic-web classifier on the generator's truth",
     ard_cmd_cosmicweb_train, NULL, 0},
    {"predict", "classify every galaxy as void / sheet / filament / knot",
     ard_cmd_cosmicweb_predict, NULL, 0},
};
int ard_cmd_anomaly(int argc, char **argv);
int ard_cmd_results(int argc, char **argv);
static const cli_command commands[] = {
    {"parquet", "inspect and read Parquet files", NULL, parquet_commands,
     (int)(sizeof parquet_commands / sizeof parquet_commands[0])},
    {"generate", "write a synthetic DESI-like survey (catalog, tiles, truth)", ard_cmd_generate,
     NULL, 0},
    {"ingest", "convert DESI coadd/redrock FITS files into an ARD dataset (ard ingest desi ...)",
     ard_cmd_ingest, NULL, 0},
    {"sync", "index a dataset's tiles and catalog (SQLite DATASET/ard.db or PostgreSQL)",
     ard_cmd_sync, NULL, 0},
    {"datasheet", "write DATA_README.md + figures (the living datasheet) from the index",
     ard_cmd_datasheet, NULL, 0},
    {"query", "SQL predicate over galaxies -> files / read plan / TARGETIDs", ard_cmd_query, NULL,
     0},
    {"fetch", "read the planned spectra straight from the tiles into Parquet or .npy",
     ard_cmd_fetch, NULL, 0},
    {"stream", "serve / bench tokenized batches through a shared-memory store (serve, bench)",
     ard_cmd_stream, NULL, 0},
    {"fof", "friends-of-friends galaxy groups -> results/*.parquet + index tables", ard_cmd_fof,
     NULL, 0},
    {"cosmicweb", "GraphSAGE cosmic-web environments (train, predict)", NULL, cosmicweb_commands,
     (int)(sizeof cosmicweb_commands / sizeof cosmicweb_commands[0])},
    {"anomaly", "autoencoder anomaly scores (train, score, merge, top) -> models/, results/, index",
     ard_cmd_anomaly, NULL, 0},
    {"results", "list, show or drop the science stages' recorded runs", ard_cmd_results, NULL, 0},
};

static void print_table(const char *prefix, const cli_command *table, int count) {
    for (int i = 0; i < count; i++) {
        char name[160];
        snprintf(name, sizeof name, "%.60s%.60s", prefix, table[i].name);
        printf("  %-18s %s\n", name, table[i].summary);
        if (table[i].subcommands) {
            char sub_prefix[160];
            snprintf(sub_prefix, sizeof sub_prefix, "%.60s%.60s ", prefix, table[i].name);
            print_table(sub_prefix, table[i].subcommands, table[i].num_subcommands);
        }
    }
}

static void print_help(const char *group, const cli_command *table, int count) {
    const char *space = group ? " " : "";
    printf("usage: ard %s%s<command> [options]\n\n", group ? group : "", space);
    if (!group) {
        printf("ard turns a spectroscopic survey into an analysis-ready dataset.\n\n");
    }
    printf("commands:\n");
    print_table("", table, count);
    if (!group) {
        printf("\noptions:\n  %-18s %s\n  %-18s %s\n", "--version", "print the version",
               "-h, --help", "show this help");
    }
    printf("\nRun 'ard %s%s<command> --help' for a command's options.\n", group ? group : "",
           space);
}

/* argv[0] is the group word ("ard" or "parquet"); argv[1] selects the command. */
static int dispatch(const char *group, const cli_command *table, int count, int argc, char **argv) {
    if (argc < 2) {
        return ard_cli_usage(group, "missing command");
    }
    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0 || strcmp(word, "help") == 0) {
        print_help(group, table, count);
        return ARD_CLI_OK;
    }
    if (!group && strcmp(word, "--version") == 0) {
        printf("ard %s\n", ARD_VERSION_STRING);
        return ARD_CLI_OK;
    }
    for (int i = 0; i < count; i++) {
        if (strcmp(word, table[i].name) != 0) {
            continue;
        }
        if (table[i].fn) {
            return table[i].fn(argc - 1, argv + 1);
        }
        return dispatch(table[i].name, table[i].subcommands, table[i].num_subcommands, argc - 1,
                        argv + 1);
    }
    if (word[0] == '-') {
        return ard_cli_usage(group, "unknown option '%s'", word);
    }
    return ard_cli_usage(group, "unknown command '%s%s%s'", group ? group : "", group ? " " : "",
                         word);
}

int ard_cli_cluster_begin(int *argc, char ***argv); /* cluster_hook.c */
void ard_cli_cluster_end(void);

int main(int argc, char **argv) {
    int rc = ard_cli_cluster_begin(&argc, &argv);
    if (rc != 0) {
        ard_cli_cluster_end();
        return rc < 0 ? ARD_CLI_OK : rc; /* < 0: this MPI rank sits the command out */
    }
    rc = dispatch(NULL, commands, (int)(sizeof commands / sizeof commands[0]), argc, argv);
    ard_cli_cluster_end();
    /* Output errors (a full disk, a closed pipe) surface here, once, rather than being lost. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ard: writing output: %s\n", strerror(errno));
        return ARD_CLI_FAILURE;
    }
    return rc;
}
