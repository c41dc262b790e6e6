/* `mpirun -n N ard fetch | cosmicweb predict | datasheet`: the stage runs on every rank through its
 * cluster call (ard_cluster_fetch, ard_cluster_cosmicweb_predict, ard_cluster_datasheet); rank 0
 * prints the report and every failing rank's error with its rank. Without a launcher (or without
 * MPI) the one-process stage runs. */
#include "cli.h"

#include "ard/cluster.h"

#include <string.h>

ard_status ard_cli_fetch_run(const ard_fetch_options *o, ard_fetch_report *r, int *lead,
                             ard_error *err);
ard_status ard_cli_cosmicweb_predict(const ard_cosmicweb_stage_options *o,
                                     ard_cosmicweb_stage_report *r, int *lead, ard_error *err);
ard_status ard_cli_datasheet_write(const char *dataset, const char *dsn,
                                   const ard_datasheet_options *o, int *lead, ard_error *err);

/* Several failing ranks: prints each line but the first (err, printed by the caller). */
static void print_other_failures(char *failures) {
    const char *rest = failures ? strchr(failures, '\n') : NULL;
    for (const char *line = rest ? rest + 1 : NULL; line && *line;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(stderr, "ard: %.*s\n", len, line);
        line += len + (nl != NULL);
    }
    ard_free(failures);
}

/* Opens the world when mpirun started more than one rank; NULL (and ARD_OK) otherwise. */
static ard_status open_world(ard_cluster **cl, int *lead, ard_error *err) {
    *cl = NULL;
    *lead = 1;
    if (!ard_cluster_launched() || !ard_cluster_available()) {
        return ARD_OK;
    }
    ard_status st = ard_cluster_open(cl, err);
    if (st == ARD_OK) {
        *lead = ard_cluster_rank(*cl) == 0;
    }
    return st;
}

ard_status ard_cli_fetch_run(const ard_fetch_options *o, ard_fetch_report *r, int *lead,
                             ard_error *err) {
    ard_cluster *cl = NULL;
    ard_status st = open_world(&cl, lead, err);
    if (st != ARD_OK || !cl) {
        return st != ARD_OK ? st : ard_fetch_run(o, r, err);
    }
    char *failures = NULL;
    st = ard_cluster_fetch(cl, o, r, &failures, err);
    ard_cluster_close(cl);
    print_other_failures(failures);
    return st;
}

ard_status ard_cli_cosmicweb_predict(const ard_cosmicweb_stage_options *o,
                                     ard_cosmicweb_stage_report *r, int *lead, ard_error *err) {
    ard_cluster *cl = NULL;
    ard_status st = open_world(&cl, lead, err);
    if (st != ARD_OK || !cl) {
        return st != ARD_OK ? st : ard_cosmicweb_stage_predict(o, r, err);
    }
    char *failures = NULL;
    st = ard_cluster_cosmicweb_predict(cl, o, r, &failures, err);
    ard_cluster_close(cl);
    print_other_failures(failures);
    return st;
}

ard_status ard_cli_datasheet_write(const char *dataset, const char *dsn,
                                   const ard_datasheet_options *o, int *lead, ard_error *err) {
    ard_cluster *cl = NULL;
    ard_status st = open_world(&cl, lead, err);
    if (st != ARD_OK || !cl) {
        return st != ARD_OK ? st : ard_datasheet_write_dsn(dataset, dsn, o, err);
    }
    char *failures = NULL;
    st = ard_cluster_datasheet(cl, dataset, dsn, o, &failures, err);
    ard_cluster_close(cl);
    print_other_failures(failures);
    return st;
}
