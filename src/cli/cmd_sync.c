/* `ard sync DATASET [--db DSN] [--threads T] [--verify] [--check] [--json]`: indexes the dataset's
 * tiles and catalog into the sidecar index (SQLite DATASET/ard.db unless --db names PostgreSQL), or
 * with --check verifies an existing index without changing it. */
#include "cli.h"

#include "ard/datasheet.h"
#include "ard/index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ard_cmd_sync(int argc, char **argv);
/* cmd_sync_cluster.c: `mpirun -n N ard sync` (1 when this process runs under it with 2+ ranks) */
typedef int (*ard_cli_sync_finish_fn)(ard_status st, const ard_error *err,
                                      const ard_datasheet_sync_report *rep, const ard_index *idx,
                                      int json);
int ard_cli_sync_distributed(void);
int ard_cli_sync_cluster(const char *dataset, const char *dsn, const ard_datasheet_sync_options *o,
                         int json, ard_cli_sync_finish_fn finish);

enum {
    OPT_DB,
    OPT_THREADS,
    OPT_VERIFY,
    OPT_CHECK,
    OPT_JSON,
    OPT_QUIET,
    OPT_RANK,
    OPT_SIZE,
    OPT_TILES_ONLY,
    OPT_NO_DATASHEET,
    NUM_OPTS
};

static const ard_cli_option sync_options[NUM_OPTS] = {
    [OPT_DB] =
        {"db", "DSN",
         "index database: a SQLite path, or postgresql://... / key=value (default "
         "DATASET/ard.db; passwords come from PGPASSWORD or ~/.pgpass, never the command line)"},
    [OPT_THREADS] = {"threads", "T", "footer readers (default: all CPUs)"},
    [OPT_VERIFY] = {"verify", NULL, "also hash the footers of files whose size and mtime match"},
    [OPT_CHECK] = {"check", NULL, "only verify the index is consistent; change nothing"},
    [OPT_JSON] = {"json", NULL, "print the report as JSON"},
    [OPT_QUIET] = {"quiet", NULL, "no progress bar"},
    [OPT_RANK] = {"rank", "R", "this worker's share of the files (with --size; for MPI)"},
    [OPT_SIZE] = {"size", "N", "number of workers sharing the files"},
    [OPT_TILES_ONLY] = {"tiles-only", NULL,
                        "index the tiles; leave the catalog (galaxies) as it is"},
    [OPT_NO_DATASHEET] = {"no-datasheet", NULL,
                          "do not regenerate DATASET/DATA_README.md (the living datasheet)"},
};

static const ard_cli_spec sync_spec = {
    "sync", "DATASET [--db DSN] [--threads T] [--verify] [--check] [--json]",
    "Indexes DATASET/tiles (footers + TARGETID columns only) and DATASET/catalog into the sidecar\n"
    "index. Incremental: unchanged files are not read, changed ones re-read, vanished ones "
    "removed;\n"
    "each file goes in whole or not at all. Corrupt files are reported, recorded in sync_errors "
    "and\n"
    "skipped; the exit status is then 1.",
    sync_options, NUM_OPTS};

static void print_report(const ard_sync_report *r, const ard_index *idx, int json) {
    if (json) {
        ard_buf b;
        ard_buf_init(&b);
        ard_json j;
        ard_json_init(&j, &b, 1);
        ard_json_begin_object(&j);
        const char *keys[] = {"run_id",          "files_seen",    "files_added",  "files_changed",
                              "files_unchanged", "files_removed", "files_failed", "spectra_rows",
                              "galaxy_rows",     "data_reads",    "footer_reads"};
        const int64_t vals[] = {r->run_id,        r->files_seen,      r->files_added,
                                r->files_changed, r->files_unchanged, r->files_removed,
                                r->files_failed,  r->spectra_rows,    r->galaxy_rows,
                                r->data_reads,    r->footer_reads};
        ard_json_key(&j, "backend");
        ard_json_string(&j, ard_index_backend(idx));
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            ard_json_key(&j, keys[i]);
            ard_json_int(&j, vals[i]);
        }
        ard_json_key(&j, "seconds");
        ard_json_double(&j, r->seconds);
        ard_json_end_object(&j);
        printf("%.*s\n", (int)b.len, (const char *)b.data);
        ard_buf_reset(&b);
        return;
    }
    printf(
        "sync (%s, run %lld): %lld files: %lld added, %lld changed, %lld unchanged, %lld removed,"
        " %lld failed; %lld spectra, %lld galaxies written in %.3f s\n",
        ard_index_backend(idx), (long long)r->run_id, (long long)r->files_seen,
        (long long)r->files_added, (long long)r->files_changed, (long long)r->files_unchanged,
        (long long)r->files_removed, (long long)r->files_failed, (long long)r->spectra_rows,
        (long long)r->galaxy_rows, r->seconds);
}

/* The library's notices (e.g. waiting for another sync) go to stderr as they happen. */
static void print_notice(void *ctx, const char *message) {
    (void)ctx;
    fprintf(stderr, "ard: sync: %s\n", message);
    fflush(stderr);
}

static int finish_sync(ard_status st, const ard_error *err, const ard_datasheet_sync_report *rep,
                       const ard_index *idx, int json);

static int run_check(const char *dataset, const char *dsn) {
    ard_error err;
    ard_error_init(&err);
    ard_index *idx = NULL;
    int64_t bad = 0;
    ard_status st = ard_index_open(dataset, dsn, ARD_INDEX_READ_ONLY, &idx, &err);
    if (st == ARD_OK) {
        st = ard_index_check(idx, &bad, &err);
    }
    ard_index_close(idx);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    printf("index consistent\n");
    return ARD_CLI_OK;
}

int ard_cmd_sync(int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(&sync_spec, argc, argv, &a);
    if (rc != 0 || a.help) {
        if (a.help) {
            ard_cli_print_help(&sync_spec);
        }
        return rc;
    }
    if (a.num_positional != 1) {
        return ard_cli_usage("sync", "expected one DATASET directory");
    }
    ard_datasheet_sync_options o;
    ard_datasheet_sync_options_init(&o);
    o.sync.quiet = a.present[OPT_QUIET] || a.present[OPT_JSON];
    o.sync.verify_footers = a.present[OPT_VERIFY];
    o.sync.skip_catalog = a.present[OPT_TILES_ONLY];
    o.no_datasheet = a.present[OPT_NO_DATASHEET];
    o.sync.on_notice = print_notice;
    if ((a.present[OPT_THREADS] &&
         ard_cli_parse_i32(a.value[OPT_THREADS], 0, 1 << 20, &o.sync.threads) != 0) ||
        (a.present[OPT_RANK] &&
         ard_cli_parse_i32(a.value[OPT_RANK], 0, 1 << 20, &o.sync.rank) != 0) ||
        (a.present[OPT_SIZE] &&
         ard_cli_parse_i32(a.value[OPT_SIZE], 0, 1 << 20, &o.sync.size) != 0)) {
        return ard_cli_usage("sync", "--threads, --rank and --size take non-negative integers");
    }
    const char *dataset = a.positional[0];
    const char *dsn = a.present[OPT_DB] ? a.value[OPT_DB] : NULL;
    if (a.present[OPT_CHECK]) {
        return run_check(dataset, dsn);
    }
    if (ard_cli_sync_distributed()) {
        return ard_cli_sync_cluster(dataset, dsn, &o, a.present[OPT_JSON], finish_sync);
    }
    ard_error err;
    ard_error_init(&err);
    ard_index *idx = NULL;
    ard_datasheet_sync_report rep;
    memset(&rep, 0, sizeof rep);
    ard_status st = ard_index_open(dataset, dsn, 0, &idx, &err);
    if (st == ARD_OK) {
        st = ard_datasheet_sync(idx, dataset, &o, &rep, &err);
    }
    rc = finish_sync(st, &err, &rep, idx, a.present[OPT_JSON]);
    ard_index_close(idx);
    return rc;
}

/* Prints what the sync stage did; the exit code. */
static int finish_sync(ard_status st, const ard_error *err, const ard_datasheet_sync_report *rep,
                       const ard_index *idx, int json) {
    if (rep->synced) { /* also when the datasheet failed afterwards */
        print_report(&rep->sync, idx, json);
    }
    if (st != ARD_OK) {
        return ard_cli_fail(st, err);
    }
    if (rep->datasheet_written && !json) {
        printf("datasheet: %s\n", rep->datasheet_path);
    }
    if (rep->sync.files_failed > 0) {
        fprintf(stderr, "ard: sync: %lld file(s) skipped (recorded in sync_errors); first: %s\n",
                (long long)rep->sync.files_failed, rep->sync.first_error);
        return ARD_CLI_FAILURE;
    }
    return ARD_CLI_OK;
}
