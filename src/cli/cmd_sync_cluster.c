/* `mpirun -n N ard sync DATASET ...`: every rank reads its byte share of the tiles and rank 0
 * writes the index (ard_cluster_sync); rank 0 prints the report and every failing rank's error
 * with its rank. Without a launcher (or with one rank) `ard sync` runs in one process. */
#include "cli.h"

#include "ard/cluster.h"
#include "ard/datasheet.h"
#include "ard/index.h"

#include <string.h>

typedef int (*ard_cli_sync_finish_fn)(ard_status st, const ard_error *err,
                                      const ard_datasheet_sync_report *rep, const ard_index *idx,
                                      int json);
int ard_cli_sync_distributed(void);
int ard_cli_sync_cluster(const char *dataset, const char *dsn, const ard_datasheet_sync_options *o,
                         int json, ard_cli_sync_finish_fn finish);

int ard_cli_sync_distributed(void) {
    return ard_cluster_launched() && ard_cluster_available();
}

static void print_failures(const char *lines) {
    for (const char *line = lines; line && *line;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(stderr, "ard: %.*s\n", len, line);
        line += len + (nl != NULL);
    }
}

int ard_cli_sync_cluster(const char *dataset, const char *dsn, const ard_datasheet_sync_options *o,
                         int json, ard_cli_sync_finish_fn finish) {
    ard_error err, open_err;
    ard_error_init(&err);
    ard_error_init(&open_err);
    ard_cluster *cl = NULL;
    ard_status st = ard_cluster_open(&cl, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    int lead = ard_cluster_rank(cl) == 0;
    ard_index *idx = NULL;
    ard_status open_st = lead ? ard_index_open(dataset, dsn, 0, &idx, &open_err) : ARD_OK;
    ard_datasheet_sync_report rep;
    char *failures = NULL;
    st = ard_cluster_sync(cl, idx, dataset, dsn, o, &rep, &failures, &err);
    ard_cluster_close(cl);
    int rc = ARD_CLI_FAILURE;
    if (lead && open_st != ARD_OK) {
        rc = ard_cli_fail(open_st, &open_err); /* the root cause, not "rank 0 needs the index" */
    } else if (lead && failures && strchr(failures, '\n') != strrchr(failures, '\n')) {
        print_failures(failures); /* several ranks failed: each with its rank */
    } else if (lead) {
        rc = finish(st, &err, &rep, idx, json);
    }
    ard_free(failures);
    ard_index_close(idx);
    return lead ? rc : (st == ARD_OK ? ARD_CLI_OK : ARD_CLI_FAILURE);
}
