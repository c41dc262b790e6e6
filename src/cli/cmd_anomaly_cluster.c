/* `mpirun -n N ard anomaly score`: every rank scores its share, rank 0 writes the run and prints
 * (ard_cluster_anomaly_score); every failing rank's error is printed on rank 0 with its rank.
 * Without a launcher (or with one rank) the score runs in one process. */
#include "cli.h"

#include "ard/cluster.h"
#include "ard/science.h"

#include <string.h>

ard_status ard_cli_anomaly_score(const ard_anomaly_options *o, ard_anomaly_report *r, int *lead,
                                 ard_error *err);

ard_status ard_cli_anomaly_score(const ard_anomaly_options *o, ard_anomaly_report *r, int *lead,
                                 ard_error *err) {
    *lead = 1;
    if (!ard_cluster_launched() || !ard_cluster_available()) {
        return ard_anomaly_score(o, r, err);
    }
    ard_cluster *cl = NULL;
    ard_status st = ard_cluster_open(&cl, err);
    if (st != ARD_OK) {
        return st;
    }
    *lead = ard_cluster_rank(cl) == 0;
    char *failures = NULL;
    st = ard_cluster_anomaly_score(cl, o, r, &failures, err);
    ard_cluster_close(cl);
    /* several failing ranks: each line but the first (err, printed by the caller) */
    const char *rest = failures ? strchr(failures, '\n') : NULL;
    for (const char *line = rest ? rest + 1 : NULL; line && *line;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(stderr, "ard: %.*s\n", len, line);
        line += len + (nl != NULL);
    }
    ard_free(failures);
    return st;
}
